"""Gap junctions: coupling of two passive LIF cells against the closed form, equal and
opposite currents, rectification, pairing rules and bad input."""

import math

import numpy as np
import pytest

from neurosim_nb import ElectricalSynapse, LIFNeuron, LIFParameters, Network
from neurosim_nb.core.synapses.electrical import coupled_steady_state
from neurosim_nb.stimuli import ConstantCurrent

PASSIVE = LIFParameters(tau_m=20.0, V_rest=-70.0, V_threshold=40.0, V_reset=-60.0,
                        R_m=100.0, t_refractory=2.0)
G = 0.005   # uS, gR = 0.5
I_INJ = 0.1  # nA, R I = 10 mV


def coupled_pair(rectification=None, inject="a", duration=400.0):
    net = Network(seed=0)
    net.add_population("a", LIFNeuron(PASSIVE, n=1))
    net.add_population("b", LIFNeuron(PASSIVE, n=1))
    net.add(ElectricalSynapse.create_gap_junction("a", "b", G, rectification=rectification))
    net.add_stimulus(inject, ConstantCurrent(I_INJ))
    return net.simulate(duration, dt=0.1, seed=0, record=["V", "I_ext"])


def test_steady_state_matches_two_coupled_rc_cells():
    ds = coupled_pair()
    v = ds.V.values - PASSIVE.V_rest
    u1, u2 = coupled_steady_state(I_INJ, PASSIVE.R_m, G)
    assert (u1, u2) == pytest.approx((7.5, 2.5))
    # slowest mode decays with tau_m = 20 ms: after 400 ms the residue is ~e^-20 * 10 mV
    np.testing.assert_allclose(v[-1], [u1, u2], rtol=0, atol=1e-6)
    assert np.all(np.diff(v[:, 1]) >= -1e-12)  # b depolarises monotonically


def test_currents_are_equal_and_opposite_and_use_start_of_step_voltages():
    ds = coupled_pair(duration=50.0)
    v = np.vstack([[PASSIVE.V_rest] * 2, ds.V.values])
    i_gap_a = ds.I_ext.values[:, 0] - I_INJ
    i_gap_b = ds.I_ext.values[:, 1]
    np.testing.assert_allclose(i_gap_a, -i_gap_b, rtol=0, atol=1e-15)
    np.testing.assert_allclose(i_gap_b, G * (v[:-1, 0] - v[:-1, 1]), rtol=1e-13, atol=1e-17)
    assert i_gap_b.max() > 0.01


@pytest.mark.parametrize("rectification, passes_a_to_b, passes_b_to_a", [
    (None, True, True), ("a_to_b", True, False), ("b_to_a", False, True)])
def test_rectification_blocks_one_direction(rectification, passes_a_to_b, passes_b_to_a):
    into_a = coupled_pair(rectification, inject="a", duration=100.0).V.values
    into_b = coupled_pair(rectification, inject="b", duration=100.0).V.values
    assert (into_a[-1, 1] > PASSIVE.V_rest + 1.0) == passes_a_to_b
    assert (into_b[-1, 0] > PASSIVE.V_rest + 1.0) == passes_b_to_a
    if not passes_a_to_b:
        np.testing.assert_array_equal(into_a[:, 1], PASSIVE.V_rest)
        # and the driven cell then sees no load: a single RC cell, V -> R I
        assert into_a[-1, 0] - PASSIVE.V_rest == pytest.approx(10.0 * (1 - math.exp(-5)),
                                                               rel=1e-9)


def test_pairing_rules():
    net = Network(seed=4)
    a = net.add_population("a", LIFNeuron(PASSIVE, n=4))
    net.add_population("b", LIFNeuron(PASSIVE, n=4))
    within = net.add(ElectricalSynapse.create_gap_junction(a, conductance_uS=0.001))
    assert within.a == within.b == "a"
    assert list(zip(within.a_idx.tolist(), within.b_idx.tolist(), strict=True)) == [
        (0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    between = net.add(ElectricalSynapse.create_gap_junction("a", "b", 0.001, "all_to_all"))
    assert between.a_idx.size == 16
    explicit = net.add(ElectricalSynapse.create_gap_junction(
        "a", "b", [0.001, 0.002], pairs=([0, 3], [2, 1])))
    assert explicit.conductance.tolist() == [0.001, 0.002]
    some = net.add(ElectricalSynapse.create_gap_junction("a", "b", 0.001, "fixed_probability",
                                                         p=0.5))
    assert 0 < some.a_idx.size < 16
    assert len(net.gap_junctions) == 4


@pytest.mark.parametrize("kwargs, match", [
    ({"conductance_uS": -0.001}, "finite and >= 0"),
    ({"conductance_uS": math.nan}, "finite and >= 0"),
    ({"conductance_uS": None}, "give the junction conductance"),
    ({"conductance_uS": 0.001, "rectification": "forward"}, "rectification"),
    ({"conductance_uS": 0.001, "rule": "ring"}, "rule 'ring'"),
    ({"conductance_uS": 0.001, "rule": "fixed_probability"}, "needs p"),
    ({"conductance_uS": 0.001, "rule": "fixed_probability", "p": math.nan}, "needs p"),
])
def test_bad_gap_junction_input_raises_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ElectricalSynapse.create_gap_junction("a", "b", **kwargs)


def test_bad_pairs_raise_value_error():
    net = Network(seed=0)
    net.add_population("a", LIFNeuron(PASSIVE, n=3))
    net.add_population("b", LIFNeuron(PASSIVE, n=2))
    with pytest.raises(ValueError, match="equal sizes"):
        net.add(ElectricalSynapse.create_gap_junction("a", "b", 0.001))
    with pytest.raises(ValueError, match="itself"):
        net.add(ElectricalSynapse.create_gap_junction("a", "a", 0.001, "one_to_one"))
    with pytest.raises(ValueError, match="out of range"):
        net.add(ElectricalSynapse.create_gap_junction("a", "b", 0.001, pairs=([0], [5])))
    with pytest.raises(ValueError, match="itself"):
        net.add(ElectricalSynapse.create_gap_junction("a", "a", 0.001, pairs=([1], [1])))
