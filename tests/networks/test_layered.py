"""Layered networks and the ONI 14-layer model.

Structure is checked exactly (sizes from ONI.md, id layout, which layers connect, receptors,
weights) and connection counts against their binomial distributions (4 standard deviations:
a false alarm rate of about 6e-5 per check). The ONI propagation tests drive layer 1 only and
require every layer to fire at a plausible rate: >= 1 Hz (at least a dozen spikes in the
smallest, 25-neuron layer in 500 ms) and <= 200 Hz (40 % of the 500 Hz refractory ceiling
of the excitatory cells: no runaway). Over 30 connectivity seeds the default weights gave
layer rates of 6.0-170 Hz (see the layered module docstring); the seeds here are fixed, so
the runs are deterministic.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from neurosim_nb import validate_dataset
from neurosim_nb.core.networks.layered import (
    ONI_LAYERS,
    LayeredNetwork,
    LayeredNetworkParameters,
    layer_rates,
)
from neurosim_nb.core.neurons.izhikevich import IzhikevichNeuron
from neurosim_nb.core.neurons.lif import LIFNeuron
from neurosim_nb.engine import RecordingConfig, SimulationConfig, SimulationEngine

ONI_SIZES = [75, 50, 50, 50, 50, 50, 50, 25, 40, 40, 50, 50, 50, 25]
ONI_EXC = [60, 40, 40, 40, 40, 40, 40, 15, 32, 32, 40, 40, 40, 15]


def binomial_ok(count: int, trials: int, p: float, n_sd: float = 4.0) -> bool:
    return abs(count - trials * p) <= n_sd * np.sqrt(trials * p * (1 - p)) + 1e-9


def layer_gap(net, proj) -> int:
    return net.layer_of[proj.post] - net.layer_of[proj.pre]


# -- ONI structure ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def oni():
    return LayeredNetwork.create_oni_model(seed=0)


def test_oni_sizes_names_and_layout(oni):
    assert oni.n_neurons == 655
    assert [oni.layer(i).size for i in range(1, 15)] == ONI_SIZES
    assert [oni.populations[f"L{i}_E"].n for i in range(1, 15)] == ONI_EXC
    assert [oni.populations[f"L{i}_I"].n for i in range(1, 15)] == [
        s - e for s, e in zip(ONI_SIZES, ONI_EXC, strict=True)]
    assert oni.layer_names == {i: ONI_LAYERS[i][0] for i in range(1, 15)}
    assert oni.layer_abbrevs[8] == "DEC" and oni.layer_kinds[14] == "executive"
    # global ids run layer by layer, excitatory first within a layer
    expected, start = [], 0
    for i in range(1, 15):
        assert oni.layer_populations(i) == [f"L{i}_E", f"L{i}_I"]
        ids = oni.layer(i)
        assert ids.tolist() == list(range(start, start + ONI_SIZES[i - 1]))
        assert oni.neuron_ids(f"L{i}_E").tolist() == list(range(start, start + ONI_EXC[i - 1]))
        expected += [i] * ONI_SIZES[i - 1]
        start += ONI_SIZES[i - 1]
    assert oni.layer_of_neuron().tolist() == expected
    assert isinstance(oni.populations["L3_E"], LIFNeuron)
    assert oni.populations["L3_E"].params == LIFNeuron.create_excitatory().params
    assert oni.populations["L3_I"].params == LIFNeuron.create_inhibitory().params
    neurons = oni.neurons
    assert len(neurons) == 655 and neurons[0].population.label == "L1_E"
    assert neurons[75].population.label == "L2_E"


def test_oni_scales_with_neurons_per_layer():
    net = LayeredNetwork.create_oni_model(neurons_per_layer=20, seed=1)
    assert [net.layer(i).size for i in range(1, 15)] == [
        int(round(20 * ONI_LAYERS[i][3])) for i in range(1, 15)]


def test_oni_projections_follow_the_spec(oni):
    p = oni.params
    assert (p.feedforward_prob, p.skip_prob, p.lateral_prob) == (0.2, 0.02, 0.15)
    w = p.weights_uS()
    assert w == pytest.approx({"feedforward": 0.02, "lateral": 0.001, "inhibitory": 0.06,
                               "skip": 0.01}, rel=1e-12)
    gaps = set()
    for proj in oni.projections:
        gap = layer_gap(oni, proj)
        gaps.add(gap)
        exc = proj.pre.endswith("_E")
        assert proj.receptor.name == ("AMPA" if exc else "GABA_A"), proj.name
        assert np.all(proj.delay_ms == 1.0)
        if not exc:
            expected = w["inhibitory"]
        else:
            expected = {0: w["lateral"], 1: w["feedforward"]}.get(gap, w["skip"])
        assert np.all(proj.weight == expected), proj.name
        assert gap >= 0, f"{proj.name}: no feedback projections in the ONI model"
        if gap == 0:
            assert not np.any((proj.pre_idx == proj.post_idx) & (proj.pre == proj.post))
    assert gaps == set(range(14))  # lateral, feedforward and every skip distance
    # 14 layers x 4 lateral + 13 x 4 feedforward + 78 layer pairs x 4 skip
    assert len(oni.projections) == 14 * 4 + 13 * 4 + 78 * 4


def test_oni_connection_counts_match_probabilities(oni):
    sizes = dict(enumerate(ONI_SIZES, 1))
    totals = {"ff": [0, 0, 0.2], "skip": [0, 0, 0.02], "lat": [0, 0, 0.15]}
    for proj in oni.projections:
        gap = layer_gap(oni, proj)
        key = "lat" if gap == 0 else "ff" if gap == 1 else "skip"
        pairs = proj.n_pre * (proj.n_post - (proj.pre == proj.post))
        totals[key][0] += proj.n_synapses
        totals[key][1] += pairs
    for key, (count, pairs, prob) in totals.items():
        assert binomial_ok(count, pairs, prob), (key, count, pairs * prob)
    # every layer pair is counted: 13 feedforward pairs of sizes n_i * n_(i+1)
    assert totals["ff"][1] == sum(sizes[i] * sizes[i + 1] for i in range(1, 14))


# -- ONI dynamics --------------------------------------------------------------------------
def run_oni(seed: int, current: float | None, duration: float = 500.0):
    net = LayeredNetwork.create_oni_model(seed=seed, sensory_input_hz=0.0)
    engine = SimulationEngine(net, SimulationConfig(duration=duration, dt=0.1, seed=seed,
                                                    verbose=False),
                              RecordingConfig(variables=[]))
    if current is not None:
        driven = engine.inject_input(1, current, fraction=0.5)
        assert set(driven.tolist()) <= set(net.layer(1).tolist())
    return net, engine.run()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_input_to_layer_1_reaches_all_14_layers(seed):
    net, result = run_oni(seed, current=0.3)      # 0.3 nA = 1.5 x rheobase, half of L1
    ds = result.dataset
    validate_dataset(ds)
    rates = layer_rates(ds)
    assert sorted(rates) == list(range(1, 15))
    for layer, rate in rates.items():
        assert rate >= 1.0 and rate <= 200.0, (
            f"layer {layer} fires at {rate:.1f} Hz (all: {rates}); did the ONI weights change?")
    # activity travels up the hierarchy: layer 14 fires within the first 150 ms
    layer_of_spike = ds.layer.values[ds.spike_neuron.values]
    assert ds.spike_time.values[layer_of_spike == 14].min() < 150.0
    assert ds.spike_time.values[layer_of_spike == 1].min() < ds.spike_time.values[
        layer_of_spike == 14].min()


def test_without_input_nothing_fires():
    _, result = run_oni(0, current=None)
    assert result.total_spikes == 0


def test_default_sensory_drive_activates_every_layer():
    net = LayeredNetwork.create_oni_model(seed=2)
    rates = layer_rates(net.simulate(1000.0, seed=3, record=()))
    # layer 1: 100 afferents x 20 Hz x 0.5 mV x 20 ms = 20 mV mean drive, at threshold:
    # irregular firing, measured ~26 Hz; deeper layers are amplified but bounded (< 200 Hz)
    assert 5.0 < rates[1] < 60.0, rates
    assert all(1.0 <= rates[layer] <= 200.0 for layer in range(1, 15)), rates


def test_dataset_carries_layers_and_names():
    net = LayeredNetwork.create_oni_model(seed=4)
    ds = net.simulate(20.0, record=("V",), seed=0)
    validate_dataset(ds)
    assert ds.layer.dims == ("neuron",)
    assert ds.layer.values.tolist() == net.layer_of_neuron().tolist()
    assert ds.population.values[0] == "L1_E" and ds.population.values[-1] == "L14_I"
    names = json.loads(ds.attrs["layer_names_json"])
    assert names["8"] == "Decision Making" and len(names) == 14


# -- create_simple and the parameters ------------------------------------------------------
@pytest.mark.parametrize("lateral", [False, True])
def test_simple_feedforward_to_next_layer_only(lateral):
    net = LayeredNetwork.create_simple(n_layers=4, neurons_per_layer=100,
                                       lateral_connections=lateral, seed=5)
    assert net.n_neurons == 400 and [net.populations[f"L{i}_E"].n for i in range(1, 5)] == [80] * 4
    gaps = [layer_gap(net, p) for p in net.projections]
    assert set(gaps) == ({0, 1} if lateral else {1})
    ff = [p for p in net.projections if layer_gap(net, p) == 1]
    assert {(net.layer_of[p.pre], net.layer_of[p.post]) for p in ff} == {(1, 2), (2, 3), (3, 4)}
    count = sum(p.n_synapses for p in ff)
    assert binomial_ok(count, 3 * 100 * 100, 0.3)
    for p in ff:  # each population pair separately, too
        assert binomial_ok(p.n_synapses, p.n_pre * p.n_post, 0.3), p.name
    lat = [p for p in net.projections if layer_gap(net, p) == 0]
    assert len(lat) == (16 if lateral else 0)
    if lateral:
        pairs = sum(p.n_pre * (p.n_post - (p.pre == p.post)) for p in lat)
        assert pairs == 4 * 100 * 99
        assert binomial_ok(sum(p.n_synapses for p in lat), pairs, 0.1)


def test_skip_connections():
    params = LayeredNetworkParameters(n_layers=4, neurons_per_layer=60, skip_connections=True,
                                      skip_prob=0.1, lateral_connections=False, seed=6)
    net = LayeredNetwork(params)
    skip = [p for p in net.projections if layer_gap(net, p) >= 2]
    assert {(net.layer_of[p.pre], net.layer_of[p.post]) for p in skip} == {(1, 3), (1, 4),
                                                                           (2, 4)}
    assert binomial_ok(sum(p.n_synapses for p in skip), 3 * 60 * 60, 0.1)
    w = params.weights_uS()
    for p in skip:
        assert np.all(p.weight == (0.5 * w["feedforward"] if p.pre.endswith("_E")
                                   else w["inhibitory"]))


def test_auto_weights_scale_with_convergence_and_explicit_weights_are_used():
    a = LayeredNetworkParameters(neurons_per_layer=50, feedforward_prob=0.2).weights_uS()
    b = LayeredNetworkParameters(neurons_per_layer=100, feedforward_prob=0.2).weights_uS()
    assert b["feedforward"] == pytest.approx(a["feedforward"] / 2, rel=1e-12)
    net = LayeredNetwork.create_simple(2, 20, feedforward_weight=0.0123, inhibitory_weight=0.05,
                                       lateral_weight=0.0, seed=0)
    weights = {p.name: set(p.weight.tolist()) for p in net.projections}
    assert weights["L1_E->L2_E:AMPA"] == {0.0123}
    assert weights["L1_I->L2_E:GABA_A"] == {0.05}
    assert weights["L1_E->L1_E:AMPA"] <= {0.0}


def test_same_seed_same_network():
    a = LayeredNetwork.create_simple(3, 40, seed=11).connectivity_matrix()
    b = LayeredNetwork.create_simple(3, 40, seed=11).connectivity_matrix()
    c = LayeredNetwork.create_simple(3, 40, seed=12).connectivity_matrix()
    assert (a != b).nnz == 0 and (a != c).nnz > 0


def test_parameters_are_frozen_and_replaceable():
    p = LayeredNetworkParameters()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.n_layers = 4
    q = dataclasses.replace(p, n_layers=5, layer_names=("a", "b", "c", "d", "e"))
    assert q.names()[4] == "e" and json.loads(json.dumps(q.to_dict()))["n_layers"] == 5


@pytest.mark.parametrize("kwargs, match", [
    ({"feedforward_prob": 1.5}, "feedforward_prob"),
    ({"lateral_prob": -0.1}, "lateral_prob"),
    ({"n_layers": 0}, "n_layers"),
    ({"neurons_per_layer": 2.5}, "neurons_per_layer"),
    ({"excitatory_fraction": 1.2}, "excitatory_fraction"),
    ({"feedforward_weight": -0.01}, "feedforward_weight"),
    ({"delay_ms": float("nan")}, "delay_ms"),
    ({"lateral_connections": "yes"}, "lateral_connections"),
    ({"neuron_model": "LIFF"}, "neuron_model"),
    ({"n_layers": 2, "layer_sizes": (10,)}, "layer_sizes has 1 values"),
    ({"n_layers": 2, "layer_sizes": (10, 0)}, r"layer_sizes\[1\]"),
    ({"n_layers": 2, "layer_excitatory_fractions": (0.5, 2.0)}, "layer_excitatory_fractions"),
    ({"seed": -1}, "seed"),
])
def test_bad_parameters_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LayeredNetworkParameters(**kwargs)


def test_layer_selection_errors():
    net = LayeredNetwork.create_simple(2, 10, seed=0)
    with pytest.raises(ValueError, match="layers are 1..2"):
        net.layer(3)
    with pytest.raises(ValueError, match="layers are 1..2"):
        net.layer_populations(0)
    with pytest.raises(TypeError, match="LayeredNetworkParameters"):
        LayeredNetwork({"n_layers": 2})


def test_other_neuron_models_and_pure_layers():
    net = LayeredNetwork(LayeredNetworkParameters(n_layers=2, neurons_per_layer=10,
                                                  neuron_model="Izhikevich", seed=0))
    assert isinstance(net.populations["L1_E"], IzhikevichNeuron)
    assert net.populations["L1_E"].params == IzhikevichNeuron.presets()["RS"]
    assert net.populations["L1_I"].params == IzhikevichNeuron.presets()["FS"]
    pure = LayeredNetwork(LayeredNetworkParameters(n_layers=2, neurons_per_layer=10,
                                                   excitatory_fraction=1.0, seed=0))
    assert list(pure.populations) == ["L1_E", "L2_E"]
    assert pure.layer_populations(2) == ["L2_E"]
