"""Brunel (2000) model A at N_E = 2000 (neurosim_nb.experiments.brunel).

References: Brunel's own regime assignments of his Fig. 8 example points, and his
mean-field rate (eqs. 4-5, :func:`brunel_rate_theory`) of the inhibition-dominated states,
solved for this network's C_E = 400, J = 0.25 mV.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurosim_nb.core.networks.benchmarks_models import brunel_rate_theory
from neurosim_nb.experiments import brunel


@pytest.mark.parametrize(("point", "regime"), sorted(brunel.REGIME_REFERENCE_POINTS.items()))
def test_fig8_points_fall_in_brunels_regimes(point, regime):
    """Each of Brunel's four example points is classified as he classified it (1 s after a
    100 ms transient, as the shipped diagram; seed 0 was not used to set the thresholds,
    which come from seeds 1-3)."""
    m = brunel.brunel_point(*point, seed=0)
    assert brunel.classify_regime(**m) == regime, m


@pytest.mark.parametrize(("g", "eta"), [(5.0, 2.0), (6.0, 4.0), (8.0, 4.0)])
def test_rate_matches_mean_field(g, eta):
    """In the inhibition-dominated states the measured rate is Brunel's stationary rate.
    10 %: the diffusion approximation ignores the 0.25 mV jumps (J/(theta - V_r) = 2.5 %)
    and the finite size; measured deviations are 1-5 %."""
    m = brunel.brunel_point(g, eta, seed=0)
    theory = brunel_rate_theory(g=g, eta=eta, J=0.25, C_E=400)
    assert m["rate_hz"] == pytest.approx(theory, rel=0.10)


def test_sr_state_is_regular_and_synchronous():
    """g = 3: every neuron fires regularly (CV ~ 0) in synchrony; the rate is near the
    bound 1 / (refractory 2 ms + ~1.2 ms to climb back) ~ 312 Hz that Brian2's run of the
    published network also gives (312 Hz at g = 3, eta = 2; benchmarks_models)."""
    m = brunel.brunel_point(3.0, 2.0, duration_ms=300.0, seed=0)
    assert m["cv_isi"] < 0.1 and m["synchrony"] > 0.4
    assert m["rate_hz"] == pytest.approx(312.0, rel=0.03)


def test_seed_depends_on_the_point_only():
    a = brunel.run_brunel(5.0, 2.0, n_exc=400, duration_ms=100.0, seed=3)
    b = brunel.run_brunel(5.0, 2.0, n_exc=400, duration_ms=100.0, seed=3)
    c = brunel.run_brunel(5.0, 2.0, n_exc=400, duration_ms=100.0, seed=4)
    np.testing.assert_array_equal(a.spike_time.values, b.spike_time.values)
    assert a.spike_time.size != c.spike_time.size or not np.array_equal(
        a.spike_time.values, c.spike_time.values)


def test_classify_regime_rules():
    th = brunel.REGIME_THRESHOLDS
    lab = brunel.classify_regime([300, 40, 40, 40, 0.1, 40],
                                 [0.1, 0.8, 0.8, 0.8, np.nan, 0.8],
                                 [0.5, th["synchrony"] - 1e-3, 0.3, 0.3, np.nan, 0.3],
                                 [600, 100, th["f_fast_hz"], th["f_fast_hz"] - 1, 0, np.nan])
    assert lab.tolist() == ["SR", "AI", "SI fast", "SI slow", "Q", "SI slow"]
    with pytest.raises(ValueError, match="unknown threshold"):
        brunel.classify_regime(1, 1, 1, 1, thresholds={"cv": 1})


@pytest.mark.parametrize(("kw", "match"), [
    ({"g": -1.0}, "g must be"), ({"nu_ext_ratio": 0.0}, "nu_ext_ratio must be"),
    ({"n_exc": 10.5}, "n_exc must be an integer"), ({"duration_ms": float("nan")},
                                                    "duration_ms must be"),
    ({"transient_ms": -1.0}, "transient_ms must be")])
def test_bad_input(kw, match):
    args = {"g": 5.0, "nu_ext_ratio": 2.0, **kw}
    g, nu = args.pop("g"), args.pop("nu_ext_ratio")
    with pytest.raises(ValueError, match=match):
        brunel.run_brunel(g, nu, **args)
