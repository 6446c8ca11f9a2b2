"""Issue 20, numerical honesty: a step too long for a model's accuracy and an input that
saturates a neuron give a NumericalAccuracyWarning that says what happened and which dt or
input to use -- never a plausible-looking wrong answer.

References are independent of the checked runs: the squid axon's spike count from
scipy's ``solve_ivp`` (LSODA, rtol 1e-9) on the Hodgkin-Huxley (1952) equations written
out here, and for the step limits of every scheme runs at dt = 0.001 ms, where the counts
have converged (tests/core/test_hodgkin_huxley.py: < 0.01 % rate error at 0.01 ms).
The limits themselves come from the table in docs/robustness.md; these tests check that
each limit sits where the error crosses 20 %: within it just below, beyond it above.
"""

import warnings

import numpy as np
import pytest

from neurosim_nb import AdExNeuron, HodgkinHuxleyNeuron, IzhikevichNeuron, LIFNeuron
from neurosim_nb.engine.network_sim import COUNT_ERROR, EULER_DT_LIMITS, HH_DT_LIMITS
from neurosim_nb.errors import NumericalAccuracyWarning

T_MS = 200.0


def squid_reference_count(density: float, t_end: float = T_MS) -> int:
    """Upward crossings of 0 mV of the HH (1952) squid axon (C_m 1 µF/cm², g_Na 120,
    g_K 36, g_L 0.3 mS/cm², E_Na 50, E_K -77, E_L -54.387 mV) under ``density`` µA/cm²,
    from rest, by LSODA at rtol 1e-9."""
    from scipy.integrate import solve_ivp

    def exprel_inv(x):  # x / (1 - exp(-x)), 1 at x = 0
        return 1.0 if abs(x) < 1e-9 else x / (1.0 - np.exp(-x))

    def rates(v):
        am = exprel_inv((v + 40.0) / 10.0)
        bm = 4.0 * np.exp(-(v + 65.0) / 18.0)
        ah = 0.07 * np.exp(-(v + 65.0) / 20.0)
        bh = 1.0 / (1.0 + np.exp(-(v + 35.0) / 10.0))
        an = 0.1 * exprel_inv((v + 55.0) / 10.0)
        bn = 0.125 * np.exp(-(v + 65.0) / 80.0)
        return am, bm, ah, bh, an, bn

    def f(_t, y):
        v, m, h, n = y
        am, bm, ah, bh, an, bn = rates(v)
        i_ion = (120.0 * m**3 * h * (v - 50.0) + 36.0 * n**4 * (v + 77.0)
                 + 0.3 * (v + 54.387))
        return [density - i_ion, am * (1 - m) - bm * m, ah * (1 - h) - bh * h,
                an * (1 - n) - bn * n]

    v0 = -65.0
    am, bm, ah, bh, an, bn = rates(v0)
    y0 = [v0, am / (am + bm), ah / (ah + bh), an / (an + bn)]
    sol = solve_ivp(f, (0.0, t_end), y0, method="LSODA", rtol=1e-9, atol=1e-9,
                    max_step=0.05, dense_output=False, t_eval=np.arange(0.0, t_end, 0.01))
    v = sol.y[0]
    return int(np.count_nonzero((v[:-1] < 0.0) & (v[1:] >= 0.0)))


def run(pop, dt, t_end=T_MS, **kwargs):
    """Spike counts per neuron and the NumericalAccuracyWarnings of one run."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = pop.simulate(t_end, dt=dt, seed=0, record=(), verbose=False, **kwargs)
    counts = np.bincount(ds.spike_neuron.values, minlength=pop.n)
    return counts, [w for w in caught if issubclass(w.category, NumericalAccuracyWarning)]


def test_squid_at_1_ms_warns_and_is_wrong():
    """The issue's example: 8 spikes at dt = 1 ms where the converged answer is 14."""
    ref = squid_reference_count(10.0)
    assert ref == 14  # ~68 Hz over 200 ms, the known tonic rate at 10 µA/cm²
    counts, caught = run(HodgkinHuxleyNeuron.create_squid_axon(), 1.0, current_density=10.0)
    assert abs(counts[0] - ref) / ref > COUNT_ERROR  # the run is indeed wrong (8)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "dt = 1 ms" in message and "use dt <= 0.3 ms" in message
    # at the default step: the converged count and no warning
    counts, caught = run(HodgkinHuxleyNeuron.create_squid_axon(), 0.1, current_density=10.0)
    assert counts[0] == ref and caught == []


# (preset, temperature, drives in µA/cm², dt at the limit, dt beyond it); limits from
# HH_DT_LIMITS / phi: squid phi = 1 at 6.3 °C and 3 at 16.3 °C, mammalian 1.116 at 37 °C
HH_CASES = [
    ("squid_axon", 6.3, "staggered", [7.0, 10.0, 20.0, 50.0], 0.3, 0.5),
    # the exponential-Euler cases run in the second process (python3 tasks.py test): it
    # compiles their two HH loops anyway (tests/core/test_hh_fast_update.py and the
    # exponential-Euler test of test_hodgkin_huxley.py), ~10 s each on an empty cache
    pytest.param("squid_axon", 6.3, "exponential_euler", [7.0, 10.0, 20.0, 50.0], 0.2, 0.3,
                 marks=pytest.mark.second_process),
    ("squid_axon", 16.3, "staggered", [10.0, 20.0], 0.1, 0.3),
    ("mammalian", 37.0, "staggered", [1.0, 2.0, 5.0, 20.0], 0.4, 1.0),
    pytest.param("mammalian", 37.0, "exponential_euler", [1.0, 2.0, 5.0, 20.0], 0.1, 0.2,
                 marks=pytest.mark.second_process),
]


@pytest.mark.parametrize("preset, temperature, scheme, drives, at, beyond", HH_CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in
                              (getattr(c, "values", c) for c in HH_CASES)])
def test_hh_step_limits_sit_where_the_count_error_crosses_20_percent(
        preset, temperature, scheme, drives, at, beyond):
    make = (HodgkinHuxleyNeuron.create_squid_axon if preset == "squid_axon"
            else HodgkinHuxleyNeuron.create_mammalian)

    def pop():
        return make(n=len(drives), temperature_C=temperature, scheme=scheme)

    p = pop().params
    limit = HH_DT_LIMITS[(p.kinetics, p.scheme)] / float(p.rate_factor())
    assert at <= limit * (1 + 1e-9) < beyond
    ref, caught = run(pop(), 0.001, current_density=drives)
    assert caught == [] and np.all(ref >= 3)
    counts, caught = run(pop(), at, current_density=drives)
    assert caught == []
    assert np.max(np.abs(counts - ref) / ref) <= COUNT_ERROR, (counts, ref)
    counts, caught = run(pop(), beyond, current_density=drives)
    assert len(caught) == 1 and f"use dt <= {limit:.3g} ms" in str(caught[0].message)
    assert np.max(np.abs(counts - ref) / ref) > COUNT_ERROR, (counts, ref)


def test_izhikevich_euler_limit():
    """Forward Euler on the Izhikevich TC cell (Izhikevich 2003 Fig. 2, 10 mV/ms drive):
    within 20 % of the exact scheme's converged count at 0.5 ms, 28 % short at 1 ms."""
    assert EULER_DT_LIMITS["IzhikevichNeuron"] == 0.5

    def pop(scheme="euler"):
        return IzhikevichNeuron.from_preset("TC", scheme=scheme)

    ref, _ = run(pop("exact"), 0.001, 500.0, input_current=10.0)
    counts, caught = run(pop(), 0.5, 500.0, input_current=10.0)
    assert caught == [] and abs(counts[0] - ref[0]) / ref[0] <= COUNT_ERROR
    counts, caught = run(pop(), 1.0, 500.0, input_current=10.0)
    assert len(caught) == 1 and "use dt <= 0.5 ms" in str(caught[0].message)
    assert abs(counts[0] - ref[0]) / ref[0] > COUNT_ERROR
    # the exact scheme at 1 ms: no warning, and within 1 %
    counts, caught = run(pop("exact"), 1.0, 500.0, input_current=10.0)
    assert caught == [] and abs(counts[0] - ref[0]) / ref[0] <= 0.01


def test_adex_at_1e6_nA_fires_every_step_and_says_so():
    """The issue's example: AdEx at 1e6 nA spikes in every step (t_refractory 0: one
    spike per step is the most the step allows) -- now with a warning naming the cause."""
    pop = AdExNeuron.from_preset("tonic")
    counts, caught = run(pop, 0.1, 100.0, input_current=1e6)
    assert counts[0] == 1000  # every one of the 1000 steps
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "1 neuron of population 'tonic'" in message
    assert "maximum rate the step allows" in message and "the input saturates them" in message
    assert "set by dt" in message


def test_saturation_counts_refractoriness():
    """LIF (tau_m 10 ms, R_m 10 MOhm, threshold 20 mV above rest, reset 5 mV above rest,
    t_refractory 2 ms) at dt = 0.1: at most one spike every 21 steps; a drive that reaches
    it is flagged, a strong but unsaturated drive is not: 5 nA (RI = 50 mV), closed-form
    ISI t_ref + tau_m ln((RI - 5) / (RI - 20)) = 2 + 4.05 ms, 16-17 spikes in 100 ms."""
    counts, caught = run(LIFNeuron(n=2), 0.1, 100.0, input_current=1e3)
    assert np.all(counts >= 0.95 * 1000 / 21) and len(caught) == 1
    assert "2 neurons" in str(caught[0].message)
    counts, caught = run(LIFNeuron(n=2), 0.1, 100.0, input_current=5.0)
    assert np.all((counts >= 16) & (counts <= 17)) and caught == []


def test_default_runs_of_every_family_do_not_warn():
    """The demo drive of every preset at the default step: no warning."""
    for pop, current in [(HodgkinHuxleyNeuron.create_squid_axon(), 2.0),
                         (HodgkinHuxleyNeuron.create_mammalian(), 0.4),
                         (AdExNeuron.from_preset("tonic"), AdExNeuron.demo_current("tonic")),
                         (IzhikevichNeuron.from_preset("FS"), 10.0),
                         (LIFNeuron.create_excitatory(), 2.0)]:
        counts, caught = run(pop, 0.1, 200.0, input_current=current)
        assert counts.sum() > 0 and caught == [], type(pop).__name__
