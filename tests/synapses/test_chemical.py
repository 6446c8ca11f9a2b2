"""ChemicalSynapse specifications: the weight given is the weight used, rules, receptors,
excitation excites (the original NeuroSim's sign error), and clear errors for bad input."""

import math

import numpy as np
import pytest

from neurosim_nb import ChemicalSynapse, LIFNeuron, Network
from neurosim_nb.core.synapses.chemical import DEFAULT_WEIGHTS
from neurosim_nb.core.synapses.receptors import Receptor
from neurosim_nb.core.synapses.release import TsodyksMarkram
from neurosim_nb.stimuli import ConstantCurrent, PoissonInput


def two_pops(n_pre=4, n_post=3):
    net = Network(seed=3)
    exc = net.add_population("exc", LIFNeuron.create_excitatory(n=n_pre))
    inh = net.add_population("inh", LIFNeuron.create_inhibitory(n=n_post))
    return net, exc, inh


@pytest.mark.parametrize("factory, receptor", [
    ("create_ampa", "AMPA"), ("create_nmda", "NMDA"), ("create_gaba", "GABA_A"),
    ("create_gaba_b", "GABA_B"), ("create_current", "current")])
def test_factories_use_the_weight_given_and_document_defaults(factory, receptor):
    net, exc, inh = two_pops()
    proj = net.add(getattr(ChemicalSynapse, factory)(exc, inh, weight=0.0123))
    assert proj.receptor.name == receptor
    assert proj.n_synapses == 12  # default rule all_to_all: 4 x 3
    np.testing.assert_array_equal(proj.weight, 0.0123)
    spec = getattr(ChemicalSynapse, factory)("exc", "inh")
    assert spec.weight == DEFAULT_WEIGHTS[receptor]
    np.testing.assert_array_equal(net.add(spec).weight, DEFAULT_WEIGHTS[receptor])


def test_seed_example_weight_one_is_one_microsiemens():
    net, exc, inh = two_pops(1, 1)
    proj = net.add(ChemicalSynapse.create_ampa(exc, inh, weight=1.0))
    assert proj.weight.tolist() == [1.0] and proj.receptor.weight_units == "uS"
    assert net.connectivity_matrix(sparse=False)[0, 1] == 1.0


def test_rules_delays_and_names():
    net, exc, inh = two_pops(3, 3)
    one = net.add(ChemicalSynapse.create_ampa("exc", "inh", rule="one_to_one", delay_ms=2.5,
                                              name="e2i"))
    assert one.name == "e2i"
    assert one.pre_idx.tolist() == [0, 1, 2] and one.post_idx.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(one.delay_ms, 2.5)
    rand = net.add(ChemicalSynapse.create_gaba("inh", "exc", rule="fixed_probability", p=0.5,
                                               weight={"dist": "uniform", "low": 0.001,
                                                       "high": 0.002}))
    assert 0 < rand.n_synapses < 9
    assert rand.weight.min() >= 0.001 and rand.weight.max() <= 0.002
    rec = Receptor("slow_exc", "conductance", tau_decay_ms=30.0, tau_rise_ms=3.0)
    custom = net.add(ChemicalSynapse.create("exc", "inh", rec, weight=0.003))
    assert custom.receptor is rec
    assert "AMPA" in repr(ChemicalSynapse.create_ampa(exc, inh))


def test_excitation_excites_and_inhibition_inhibits():
    """Inputs driven at 20 Hz each: AMPA raises the target's rate, GABA-A silences it."""
    def rate(factory, weight):
        net = Network(seed=1)
        net.add_population("inp", LIFNeuron.create_excitatory(n=50, t_refractory=0.0))
        net.add_population("out", LIFNeuron.create_excitatory(n=1))
        net.add_stimulus("inp", PoissonInput(rate_hz=20.0, weight_mV=100.0))
        net.add_stimulus("out", ConstantCurrent(0.25))  # alone: ~ 40 Hz
        if factory is not None:
            net.add(getattr(ChemicalSynapse, factory)("inp", "out", weight=weight))
        ds = net.simulate(1000.0, seed=2, record=())
        return int((ds.spike_neuron == 50).sum())

    base = rate(None, 0.0)
    assert base > 5
    assert rate("create_ampa", 0.002) > 2 * base
    assert rate("create_gaba", 0.004) < base / 2


def test_dynamics_object_serves_one_projection_only():
    net, exc, inh = two_pops()
    spec = ChemicalSynapse.create_ampa(exc, inh, dynamics=TsodyksMarkram.depressing())
    proj = net.add(spec)
    assert proj.dynamics is spec.dynamics and spec.dynamics.projection is proj
    with pytest.raises(ValueError, match="already drives projection"):
        net.add(spec)
    with pytest.raises(TypeError, match="SynapticDynamics"):
        ChemicalSynapse.create_ampa(exc, inh, dynamics="stdp")


@pytest.mark.parametrize("kwargs, match", [
    ({"weight": -0.001}, "must be >= 0"),
    ({"weight": math.nan}, "finite"),
    ({"weight": [0.001, math.inf]}, "finite"),
    ({"delay_ms": -1.0}, "delay_ms must be >= 0"),
    ({"delay_ms": math.nan}, "finite"),
    ({"weight": "heavy"}, "not a number"),
])
def test_bad_weights_and_delays_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ChemicalSynapse.create_ampa("exc", "inh", **kwargs)


def test_negative_current_weight_is_allowed_but_negative_conductance_is_not():
    assert ChemicalSynapse.create_current("a", "b", weight=-0.2).weight == -0.2
    net, exc, inh = two_pops()
    with pytest.raises(ValueError, match="conductance weights onto AMPA must be >= 0"):
        net.add(ChemicalSynapse.create_ampa(exc, inh, weight={"dist": "normal", "mean": 0.0,
                                                              "std": 1.0}))


def test_unknown_receptor_population_and_rule_raise_value_error():
    with pytest.raises(ValueError, match="Did you mean 'AMPA'"):
        ChemicalSynapse.create("a", "b", receptor="AMPAA", weight=0.001)
    net, exc, inh = two_pops()
    with pytest.raises(ValueError, match="unknown population 'inhh'"):
        net.add(ChemicalSynapse.create_ampa("exc", "inhh"))
    with pytest.raises(ValueError):
        net.add(ChemicalSynapse.create_ampa("exc", "inh", rule="fixed_probability", p=1.5))
    other = LIFNeuron(n=2)
    with pytest.raises(ValueError, match="not part of this network"):
        net.add(ChemicalSynapse.create_ampa(other, inh))


@pytest.mark.parametrize("kwargs, match", [
    ({"tau_decay_ms": 2.0, "tau_rise_ms": 2.0}, "tau_rise_ms < tau_decay_ms"),
    ({"tau_decay_ms": 2.0, "tau_rise_ms": 5.0}, "tau_rise_ms < tau_decay_ms"),
    ({"tau_decay_ms": math.nan}, "finite"),
    ({"E_rev_mV": math.nan}, "finite"),
    ({"kind": "chemical"}, "kind"),
])
def test_bad_receptor_parameters_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Receptor("bad", **kwargs)


def test_misspelled_keywords_raise_type_error_with_a_hint():
    with pytest.raises(TypeError, match="Did you mean 'p'"):
        ChemicalSynapse.create_ampa("exc", "inh", rule="fixed_probability", pp=0.1)
