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
