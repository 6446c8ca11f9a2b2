"""Smoke test of benchmarks/adaptive_hh.py (the benchmark itself is not a test): the module
imports, and its independently written reference equations agree with the model's own
resting state."""

import importlib.util
from pathlib import Path

import numpy as np

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "adaptive_hh.py"
spec = importlib.util.spec_from_file_location("adaptive_hh", PATH)
adaptive_hh = importlib.util.module_from_spec(spec)
spec.loader.exec_module(adaptive_hh)


def test_reference_rhs_vanishes_at_the_models_rest():
    """Without input the squid axon's rest (found by bisection to machine precision) with
    its gates at x_inf is a fixed point, so the reference's right-hand side must vanish
    there. The gate terms are O(1)/ms rates times O(0.1) gates, the currents O(1)
    uA/cm2: 1e-10 is many orders above rounding and far below the effect of any wrong
    constant (E_L -54.3 instead of -54.387 gives dV/dt = 0.026 mV/ms)."""
    model = dict(adaptive_hh.squid_model(), density_uA_cm2=0.0)
    y0 = [model["v_init_mV"], model["m0"], model["h0"], model["n0"]]
    assert np.max(np.abs(adaptive_hh.hh_rhs(model)(0.0, y0))) < 1e-10
    wrong = dict(model, E_L_mV=-54.3)
    assert abs(adaptive_hh.hh_rhs(wrong)(0.0, y0)[0]) > 1e-2


def test_spike_error_needs_the_same_count():
    assert adaptive_hh.spike_error([1.0, 2.5], [1.1, 2.0]) == {"n_spikes": 2,
                                                              "max_error_ms": 0.5}
    assert adaptive_hh.spike_error([1.0], [1.1, 2.0])["max_error_ms"] is None
