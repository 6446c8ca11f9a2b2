"""Network runs: delay latency convention, and runs that continue where the last one ended."""

import numpy as np
import pytest

from neurosim_nb import LIFNeuron, LIFParameters
from neurosim_nb.core.networks.network import Network
from neurosim_nb.stimuli import StepCurrent

QUIET = LIFParameters(V_threshold=40.0, V_reset=-60.0)  # never fires: a passive membrane


@pytest.mark.parametrize("delay_ms", [0.1, 1.0, 2.5])
def test_a_spike_acts_exactly_delay_after_its_time_stamp(delay_ms):
    net = Network(seed=0)
    net.add_population("pre", LIFNeuron(n=1))
    net.add_population("post", LIFNeuron(QUIET, n=1))
    net.add_projection("pre", "post", [0], [0], 3.0, delay_ms, "delta")
    net.add_stimulus("pre", StepCurrent(1000.0, onset_ms=5.0, duration_ms=0.1))
    ds = net.simulate(15.0, dt=0.1, seed=0)
    (t_spike,) = ds.spike_time.values
    v = ds.V.sel(neuron=1).values
    t_first = ds.time.values[np.flatnonzero(v != QUIET.V_rest)[0]]
    # the kick is applied at t_spike + delay (start of a step); the first sample showing it
    # is that step's end, one dt later. Exact up to float round-off of the time grid.
    assert t_first == pytest.approx(t_spike + delay_ms + 0.1, abs=1e-9)
    assert v.max() - QUIET.V_rest == pytest.approx(3.0 * np.exp(-0.1 / QUIET.tau_m), rel=1e-12)


def build():
    net = Network(seed=3)
    net.add_population("a", LIFNeuron(n=40))
    net.add_population("b", LIFNeuron(n=40))
    net.connect("a", "b", rule="fixed_probability", p=0.3, weight=0.01, delay_ms=2.3,
                receptor="NMDA")
    net.connect("b", "a", rule="fixed_probability", p=0.3, weight=0.01, delay_ms=1.0,
                receptor="GABA_A")
    net.connect("a", "a", rule="fixed_probability", p=0.3, weight=0.02, delay_ms=1.5,
                receptor="AMPA")
    return net


def spikes(ds, offset=0.0):
    t = np.round(ds.spike_time.values + offset, 6)
    n = ds.spike_neuron.values
    order = np.lexsort((n, t))
    return t[order], n[order]


def test_split_run_equals_one_run_receptor_state_and_spikes_in_flight_carry_over():
    whole = build().simulate(100.0, stimuli={"a": 2.5}, seed=1, record=())
    net = build()
    first = net.simulate(37.3, stimuli={"a": 2.5}, seed=1, record=())
    second = net.simulate(62.7, stimuli={"a": 2.5}, seed=1, record=())
    t = np.concatenate([spikes(first)[0], spikes(second, 37.3)[0]])
    n = np.concatenate([spikes(first)[1], spikes(second, 37.3)[1]])
    assert whole.sizes["spike"] > 100
    np.testing.assert_array_equal(np.lexsort((n, t)), np.arange(t.size))
    wt, wn = spikes(whole)
    np.testing.assert_allclose(t, wt, atol=1e-6)
    np.testing.assert_array_equal(n, wn)


def test_reset_state_drops_spikes_in_flight():
    net = build()
    a = net.simulate(50.0, stimuli={"a": 2.5}, seed=1, record=())
    net.reset_state()
    b = net.simulate(50.0, stimuli={"a": 2.5}, seed=1, record=())
    np.testing.assert_array_equal(a.spike_time.values, b.spike_time.values)


def test_gap_junction_indices_are_checked_when_added():
    net = Network(seed=0)
    net.add_population("a", LIFNeuron(n=3))
    net.add_population("b", LIFNeuron(n=2))
    with pytest.raises(ValueError, match="out of range for 'b'"):
        net.add_gap_junctions("a", "b", [0, 1], [1, 2], 0.01)
    with pytest.raises(ValueError, match="same length"):
        net.add_gap_junctions("a", "b", [0, 1], [1], 0.01)


def receptor_net(fire: bool, weight: float = 0.02) -> Network:
    """A passive neuron ``post`` with one exp_exc synapse (delay 1 ms) from ``pre``, which
    fires once at ~5 ms if ``fire``."""
    net = Network(seed=0)
    net.add_population("pre", LIFNeuron(n=1) if fire else LIFNeuron(QUIET, n=1))
    net.add_population("post", LIFNeuron(QUIET, n=1))
    net.add_projection("pre", "post", [0], [0], weight, 1.0, "exp_exc")
    if fire:
        net.add_stimulus("pre", StepCurrent(1000.0, onset_ms=5.0, duration_ms=0.1))
    return net


def test_set_receptor_state_is_an_event_of_that_size_at_time_zero():
    dt, w = 0.01, 0.02   # uS
    a = receptor_net(True, w).simulate(40.0, dt=dt, seed=0, record=("V",))
    b_net = receptor_net(False)
    b_net.set_receptor_state("post", "exp_exc", w)
    b = b_net.simulate(30.0, dt=dt, seed=0, record=("V",))
    va, vb = a.V.sel(neuron=1).values, b.V.sel(neuron=1).values
    # the event's step: the first V change (the other test: t_spike + delay + dt)
    j = int(np.flatnonzero(va != QUIET.V_rest)[0])
    assert a.time.values[j] == pytest.approx(a.spike_time.values[0] + 1.0 + dt, abs=1e-9)
    np.testing.assert_array_equal(vb, va[j:j + vb.size])   # the same arithmetic, step by step
    # and the ODE: tau dV/dt = -(V - V_rest) + R g(t) (E - V), g = w e^(-t/5 ms), against
    # solve_ivp. The engine holds each step's current, which adds dt / (2 tau_e) = 1e-3 to
    # the charge of the event (see cuba_network's notes): measured 1.0e-3 of the peak
    # depolarisation, bound 2e-3
    from scipy.integrate import solve_ivp

    tau, r_m, e = QUIET.tau_m, QUIET.R_m, 0.0

    def rhs(t, v):
        return [(-(v[0] - QUIET.V_rest) + r_m * w * np.exp(-t / 5.0) * (e - v[0])) / tau]

    t = b.time.values
    sol = solve_ivp(rhs, (0.0, t[-1]), [QUIET.V_rest], t_eval=t, rtol=1e-10, atol=1e-12)
    peak = np.max(sol.y[0] - QUIET.V_rest)
    assert peak > 1.0
    assert np.max(np.abs(vb - sol.y[0])) < 2e-3 * peak


def test_set_receptor_state_in_adaptive_runs_matches_the_ode():
    # method="adaptive" integrates the same ODE to rtol = atol = 1e-6 (per step): measured
    # 6e-7 mV from solve_ivp at 1e-10; bound 1e-5 mV
    from scipy.integrate import solve_ivp

    net = receptor_net(False)
    net.set_receptor_state("post", "exp_exc", 0.02)
    ds = net.simulate(30.0, dt=0.1, seed=0, record=("V",), method="adaptive")
    v, t = ds.V.sel(neuron=1).values, ds.time.values

    def rhs(tt, y):
        return [(-(y[0] - QUIET.V_rest) + QUIET.R_m * 0.02 * np.exp(-tt / 5.0) * (0.0 - y[0]))
                / QUIET.tau_m]

    sol = solve_ivp(rhs, (0.0, t[-1]), [QUIET.V_rest], t_eval=t, rtol=1e-10, atol=1e-12)
    assert np.max(sol.y[0]) - QUIET.V_rest > 1.0
    assert np.max(np.abs(v - sol.y[0])) < 1e-5


def test_set_receptor_state_is_used_once_and_reset_state_discards_it():
    net = receptor_net(False)
    net.set_receptor_state("post", "exp_exc", 0.02)
    first = net.simulate(10.0, seed=0, record=("V",)).V.sel(neuron=1).values
    second = net.simulate(10.0, seed=0, record=("V",)).V.sel(neuron=1).values
    assert first[-1] > QUIET.V_rest + 0.1
    # the second run continues the decaying conductance (V falls back), not a new one
    assert second[0] < first[-1] and np.all(np.diff(second) < 0)
    net.reset_state()
    net.set_receptor_state("post", "exp_exc", 0.02)
    net.reset_state()
    assert np.all(net.simulate(5.0, seed=0, record=("V",)).V.values == QUIET.V_rest)


@pytest.mark.parametrize(("receptor", "value", "match"), [
    ("GABA_A", 0.01, "no projection onto 'post' uses receptor 'GABA_A'"),
    ("exp_exc", -0.01, "must be >= 0"),
    ("exp_exc", np.nan, "finite"),
    ("exp_exc", [0.01, 0.02], "one per neuron"),
])
def test_set_receptor_state_rejects_bad_input(receptor, value, match):
    net = receptor_net(False)
    with pytest.raises(ValueError, match=match):
        net.set_receptor_state("post", receptor, value)


def test_set_receptor_state_rejects_delta_receptors():
    net = Network(seed=0)
    net.add_population("a", LIFNeuron(n=2))
    net.add_projection("a", "a", [0], [1], 1.0, 1.0, "delta")
    with pytest.raises(ValueError, match="kind 'delta'"):
        net.set_receptor_state("a", "delta", 0.0)
