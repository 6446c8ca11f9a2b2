"""Model configurations as JSON: export -> file -> load -> the same simulation, bit for bit."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import xarray as xr

from neurosim_nb.core.networks.benchmarks_models import coba_network, cuba_network
from neurosim_nb.core.networks.layered import LayeredNetwork
from neurosim_nb.core.networks.network import Network
from neurosim_nb.core.networks.recurrent import RecurrentNetwork
from neurosim_nb.core.networks.small_world import SmallWorldNetwork
from neurosim_nb.core.neurons.adaptive_lif import AdaptiveLIFNeuron, AdExNeuron
from neurosim_nb.core.neurons.hodgkin_huxley import HodgkinHuxleyNeuron
from neurosim_nb.core.neurons.izhikevich import IzhikevichNeuron
from neurosim_nb.core.neurons.lif import LIFNeuron, LIFParameters
from neurosim_nb.core.synapses.chemical import ChemicalSynapse
from neurosim_nb.core.synapses.electrical import ElectricalSynapse
from neurosim_nb.core.synapses.plasticity import HomeostaticScaling, OjaRule
from neurosim_nb.core.synapses.receptors import Receptor
from neurosim_nb.core.synapses.release import TsodyksMarkram
from neurosim_nb.core.synapses.stdp import STDPSynapse
from neurosim_nb.engine.simulator import RecordingConfig, SimulationConfig, SimulationEngine
from neurosim_nb.export._atomic import ExportError
from neurosim_nb.export.config import ModelConfigError, export_model_json, load_model_json
from neurosim_nb.stimuli import (
    ConstantCurrent,
    OUNoise,
    PoissonInput,
    PulseTrain,
    RampCurrent,
    SineCurrent,
    StepCurrent,
    Waveform,
)


def _strict_loads(text: str):
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def _via_file(model, tmp_path, name="model.json"):
    """Export ``model`` to a file, check the file against the returned dict, load it."""
    path = tmp_path / name
    cfg = export_model_json(model, path)
    assert _strict_loads(path.read_text()) == cfg  # strictly valid JSON, equal to the dict
    return load_model_json(path), cfg


def _assert_same_run(a, b, duration=60.0, **kwargs):
    kwargs.setdefault("seed", 7)
    xr.testing.assert_identical(a.simulate(duration, **kwargs), b.simulate(duration, **kwargs))


# -- single populations --------------------------------------------------------------------
def _populations():
    per_neuron = LIFNeuron(LIFParameters(tau_m=np.linspace(8.0, 20.0, 6),
                                         V_threshold=np.linspace(-52.0, -48.0, 6)), n=6,
                           label="lif_arrays")
    return {
        "LIF per-neuron arrays": (per_neuron, 3.0),
        "Izhikevich preset": (IzhikevichNeuron.from_preset("IB", n=4), 10.0),
        "Hodgkin-Huxley": (HodgkinHuxleyNeuron(n=3), 0.5),
        "AdEx": (AdExNeuron.from_preset("adapting", n=3), 0.8),
        "Adaptive LIF": (AdaptiveLIFNeuron(n=3), 3.0),
    }


@pytest.mark.parametrize("kind", list(_populations()))
def test_population_round_trip_gives_identical_run(kind, tmp_path):
    pop, current = _populations()[kind]
    copy, cfg = _via_file(pop, tmp_path)
    assert type(copy) is type(pop) and copy.n == pop.n and copy.label == pop.label
    assert copy.params == pop.params
    assert cfg["kind"] == "population" and cfg["format"] == "neurosim_nb.model"
    stim = [StepCurrent(current, onset_ms=5.0), OUNoise(mean=0.0, sigma=0.1 * current)]
    _assert_same_run(pop, copy, 60.0, input_current=stim, record=("V",) + tuple(
        v for v in pop.state_variables if v != "V"))


def test_population_parameters_carry_units_and_per_neuron_values():
    pop = _populations()["LIF per-neuron arrays"][0]
    cfg = export_model_json(pop)["model"]
    assert cfg["family"] == "LIF" and cfg["n"] == 6
    assert cfg["params"]["tau_m"] == pop.params.tau_m.tolist()
    assert cfg["units"]["tau_m"] == "ms" and cfg["units"]["V_threshold"] == "mV"
    assert cfg["derived"] == ["C_m"]
    assert set(cfg["state"]["variables"]) == set(pop.state_variables)


def test_population_exported_mid_run_continues_like_the_original(tmp_path):
    pop = IzhikevichNeuron.from_preset("RS", n=3)
    pop.simulate(37.0, 10.0, seed=1)
    copy, _ = _via_file(pop, tmp_path)
    assert copy.t_ms == pop.t_ms
    _assert_same_run(pop, copy, 40.0, input_current=10.0, record=("V", "u"))


# -- networks ------------------------------------------------------------------------------
def test_cuba_and_coba_round_trip(tmp_path):
    for build in (cuba_network, coba_network):
        net = build(n=200, seed=3)
        copy, cfg = _via_file(net, tmp_path, f"{build.__name__}.json")
        assert type(copy) is Network and copy.seed == net.seed
        assert [p.name for p in copy.projections] == [p.name for p in net.projections]
        for p, q in zip(net.projections, copy.projections, strict=True):
            assert p.receptor == q.receptor
            np.testing.assert_array_equal(p.indptr, q.indptr)
            np.testing.assert_array_equal(p.post_idx, q.post_idx)
            np.testing.assert_array_equal(p.weight, q.weight)
        _assert_same_run(net, copy, 80.0, record=("V",))


def test_oni_layered_model_round_trip_keeps_class_and_layers(tmp_path):
    net = LayeredNetwork.create_oni_model(neurons_per_layer=10, seed=2)
    copy, cfg = _via_file(net, tmp_path)
    assert type(copy) is LayeredNetwork and cfg["model"]["class"] == "LayeredNetwork"
    assert copy.params == net.params and copy.layer_names == net.layer_names
    assert copy.layer_sizes == net.layer_sizes and copy.layer_abbrevs == net.layer_abbrevs
    assert copy.layer_populations(8) == net.layer_populations(8)
    np.testing.assert_array_equal(copy.layer(2), net.layer(2))
    assert [type(s).__name__ for s in copy.stimuli["L1_E"]] == ["PoissonInput"]
    _assert_same_run(net, copy, 60.0, record=())


def test_balanced_recurrent_network_round_trip(tmp_path):
    net = RecurrentNetwork.create_balanced(n_neurons=200, seed=4)
    copy, _ = _via_file(net, tmp_path)
    assert type(copy) is RecurrentNetwork and copy.brunel == net.brunel
    np.testing.assert_array_equal(copy.excitatory_ids, net.excitatory_ids)
    _assert_same_run(net, copy, 80.0, record=("V",))


def test_plastic_stdp_network_round_trip_with_recorded_weights(tmp_path):
    net = RecurrentNetwork.create_plastic(n_neurons=200, stdp_lr=0.05, seed=5)
    copy, cfg = _via_file(net, tmp_path)
    dyn = cfg["model"]["projections"][0]["dynamics"]
    assert dyn["type"] == "STDP" and dyn["state"] is None  # a fresh model: no traces yet
    assert dyn["params"]["w_max"] == net.plastic_projection.dynamics.params.w_max
    assert copy.plastic_projection is copy.projections[0]
    a = net.simulate(100.0, seed=2, record=(), record_weights=True, weight_sample_ms=10.0)
    b = copy.simulate(100.0, seed=2, record=(), record_weights=True, weight_sample_ms=10.0)
    xr.testing.assert_identical(a, b)
    assert not np.array_equal(a.weight[0], a.weight[-1])  # the weights did change


def test_network_exported_after_a_run_continues_like_the_original(tmp_path):
    """State (V, refractory counters, receptor channels, spikes in flight, plastic weights,
    STDP traces) is exported: the copy continues the run exactly."""
    net = RecurrentNetwork.create_plastic(n_neurons=200, stdp_lr=0.05, seed=6)
    net.simulate(43.0, seed=1, record=())
    copy, cfg = _via_file(net, tmp_path)
    assert cfg["model"]["run_state"] and cfg["model"]["projections"][0]["dynamics"]["state"]
    a = net.simulate(60.0, seed=3, record=("V",), record_weights=True)
    b = copy.simulate(60.0, seed=3, record=("V",), record_weights=True)
    xr.testing.assert_identical(a, b)


def _mixed_network(seed=0, weight_precision="float64"):
    """Gap junctions, short-term and rate plasticity, a custom receptor and every stimulus."""
    net = Network("mixed", seed=seed, weight_precision=weight_precision)
    net.add_population("a", LIFNeuron.create_excitatory(n=12), layer=1)
    net.add_population("b", IzhikevichNeuron.from_preset("FS", n=8), layer=2)
    net.add_population("c", LIFNeuron.create_inhibitory(n=6))
    net.layer_names = {1: "input", 2: "output"}
    net.add(ElectricalSynapse.create_gap_junction("a", conductance_uS=0.002,
                                                  rule="fixed_probability", p=0.3))
    net.add(ElectricalSynapse.create_gap_junction("a", "c", conductance_uS=[0.001, 0.003],
                                                  pairs=([0, 1], [2, 3]),
                                                  rectification="a_to_b"))
    net.add(ChemicalSynapse.create_ampa("a", "c", weight=0.003, rule="fixed_probability",
                                        p=0.5, dynamics=TsodyksMarkram.depressing()))
    slow = Receptor("slow_exc", "conductance", tau_decay_ms=30.0, tau_rise_ms=3.0,
                    E_rev_mV=0.0)
    net.connect("a", "b", "fixed_indegree", k=4, weight={"dist": "uniform", "low": 0.001,
                                                         "high": 0.004},
                delay_ms={"dist": "uniform", "low": 0.5, "high": 2.0}, receptor=slow)
    net.add(ChemicalSynapse.create_current("c", "a", weight=0.2,
                                           dynamics=HomeostaticScaling(interval=10.0)))
    net.add(ChemicalSynapse.create_ampa("b", "c", weight=0.002,
                                        dynamics=OjaRule(interval=5.0, w_max=0.01)))
    net.add(STDPSynapse.create_reward_modulated("a", "a", weight=0.003, w_max=0.006,
                                                rule="fixed_probability", p=0.3))
    net.add_stimulus("a", [PoissonInput(rate_hz=800.0, weight_mV=2.0, targets=[0, 2, 4, 6]),
                           StepCurrent(0.4, onset_ms=5.0, duration_ms=20.0),
                           PulseTrain(amplitude=0.5, pulse_ms=2.0, frequency_hz=50.0,
                                      n_pulses=3),
                           RampCurrent(0.0, 0.5, onset_ms=10.0, duration_ms=30.0),
                           OUNoise(mean=0.1, sigma=0.2, tau_ms=3.0)])
    net.add_stimulus("b", [SineCurrent(amplitude=5.0, frequency_hz=20.0, offset=5.0),
                           Waveform(np.linspace(0.0, 10.0, 40), dt_ms=1.0,
                                    targets=np.arange(4))])
    net.add_stimulus("c", ConstantCurrent(np.linspace(0.1, 0.6, 6)))
    return net


@pytest.mark.second_process  # (balances the two test processes)
def test_gap_junctions_dynamics_receptors_and_every_stimulus_round_trip(tmp_path):
    net = _mixed_network(seed=1)
    copy, cfg = _via_file(net, tmp_path)
    m = cfg["model"]
    assert {s["type"] for v in m["stimuli"].values() for s in v} == {
        "PoissonInput", "StepCurrent", "PulseTrain", "RampCurrent", "OUNoise", "SineCurrent",
        "Waveform", "ConstantCurrent"}
    assert m["stimuli"]["a"][1]["duration_ms"] == 20.0
    assert m["stimuli"]["a"][0]["duration_ms"] == "inf"
    assert [g["rectification"] for g in m["gap_junctions"]] == [None, "a_to_b"]
    assert [p["dynamics"] and p["dynamics"]["type"] for p in m["projections"]] == [
        "TsodyksMarkram", None, "HomeostaticScaling", "OjaRule", "RewardModulatedSTDP"]
    assert m["projections"][1]["receptor"]["name"] == "slow_exc"
    assert isinstance(m["projections"][1]["delay_ms"], list)
    assert copy.layer_names == net.layer_names and copy.layer_of == net.layer_of
    for g, h in zip(net.gap_junctions, copy.gap_junctions, strict=True):
        np.testing.assert_array_equal(g.a_idx, h.a_idx)
        np.testing.assert_array_equal(g.conductance, h.conductance)
    _assert_same_run(net, copy, 50.0, record=("V",), record_weights=True)
    # and after that run, the copy of the copy continues like both
    again, _ = _via_file(copy, tmp_path, "again.json")
    _assert_same_run(copy, again, 30.0, record=("V",), record_weights=True)


def test_small_world_network_round_trip(tmp_path):
    net = SmallWorldNetwork.create_watts_strogatz(n=100, k=4, p=0.1, seed=8)
    net.add_stimulus("neurons", PoissonInput(rate_hz=2000.0, weight_mV=0.45))
    copy, _ = _via_file(net, tmp_path)
    assert type(copy) is SmallWorldNetwork and copy.graph_population == "neurons"
    np.testing.assert_array_equal(copy.inhibitory_mask, net.inhibitory_mask)
    assert copy.small_world == net.small_world
    assert copy.compute_topology_metrics(n_random=2) == net.compute_topology_metrics(
        n_random=2)
    _assert_same_run(net, copy, 60.0, record=())


@pytest.mark.second_process  # (balances the two test processes)
def test_float32_weights_stay_float32(tmp_path):
    net = cuba_network(n=200, seed=9)
    net32 = Network("f32", seed=9, weight_precision="float32")
    for name, pop in net.populations.items():
        net32.add_population(name, pop)
    net32.connect("exc", "inh", "fixed_probability", p=0.1, weight={"dist": "uniform",
                                                                   "low": 0.1, "high": 0.5},
                  receptor="current")
    net32.connect("inh", "exc", "fixed_probability", p=0.1, weight=-0.37, receptor="current")
    net32.add_stimulus("exc", PoissonInput(rate_hz=500.0, weight_mV=2.0))
    copy, cfg = _via_file(net32, tmp_path)
    assert copy.weight_precision == "float32"
    assert [p.weight.dtype for p in copy.projections] == [np.float32, np.float32]
    assert [p["weight_dtype"] for p in cfg["model"]["projections"]] == ["float32"] * 2
    np.testing.assert_array_equal(copy.projections[0].weight, net32.projections[0].weight)
    _assert_same_run(net32, copy, 60.0, record=("V",))
    _assert_same_run(net32, copy, 30.0, record=(), precision="float32")


def test_rng_state_lets_later_builds_draw_the_same(tmp_path):
    net = cuba_network(n=100, seed=1)
    copy = load_model_json(export_model_json(net))
    for n in (net, copy):
        n.connect("exc", "inh", "fixed_probability", p=0.3, weight=0.1, receptor="current")
    np.testing.assert_array_equal(net.projections[-1].post_idx, copy.projections[-1].post_idx)


def test_simulation_engine_round_trip(tmp_path):
    net = LayeredNetwork.create_oni_model(neurons_per_layer=10, sensory_input_hz=0.0, seed=1)
    engine = SimulationEngine(net, SimulationConfig(60.0, 0.1, seed=4),
                              RecordingConfig(variables=["V"], sample_every=2))
    engine.inject_input(1, 0.4, fraction=0.5)
    engine.add_poisson_drive("L2_E", 500.0, 1.0)
    copy, cfg = _via_file(engine, tmp_path)
    assert isinstance(copy, SimulationEngine) and type(copy.model) is LayeredNetwork
    assert cfg["engine"]["config"] == {"duration": 60.0, "dt": 0.1, "seed": 4,
                                       "verbose": None}
    xr.testing.assert_identical(engine.run().dataset, copy.run().dataset)

    single = SimulationEngine(LIFNeuron.create_excitatory(n=4), SimulationConfig(50.0, 0.1,
                                                                                 seed=2))
    single.add_input_current([0, 2], 3.0, onset=5.0, duration=30.0)
    copy = load_model_json(export_model_json(single))
    xr.testing.assert_identical(single.run().dataset, copy.run().dataset)


@pytest.mark.second_process  # (_mixed_network's loop: compiled there anyway)
def test_file_round_trip_equals_dict_round_trip(tmp_path):
    net = _mixed_network(seed=2)
    net.simulate(20.0, seed=1, record=())
    path = tmp_path / "m.json"
    cfg = export_model_json(net, path, indent=None)
    from_file, from_dict = load_model_json(path), load_model_json(cfg)
    assert export_model_json(from_file) == export_model_json(from_dict) == cfg
    assert len(path.read_text().splitlines()) == 1  # indent=None: one line
    _assert_same_run(from_file, from_dict, 20.0, record=("V",))


@pytest.mark.second_process  # (_mixed_network's loop: compiled there anyway)
def test_loading_does_not_change_the_dict():
    cfg = export_model_json(_mixed_network(seed=3))
    before = json.dumps(cfg)
    net = load_model_json(cfg)
    net.simulate(10.0, seed=0, record=())
    assert json.dumps(cfg) == before


# -- errors ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_cfg():
    net = Network("small", seed=0)
    net.add_population("e", LIFNeuron.create_excitatory(n=4))
    net.add_population("i", LIFNeuron.create_inhibitory(n=2))
    net.connect("e", "i", "all_to_all", weight=[0.001 * k for k in range(8)])
    net.add_stimulus("e", PoissonInput(rate_hz=100.0, targets=[1, 3]))
    return export_model_json(net)


def _broken(cfg, edit):
    cfg = json.loads(json.dumps(cfg))
    edit(cfg)
    return cfg


@pytest.mark.parametrize("edit, message", [
    (lambda c: c.update(modle={}), "modle: unknown key; .* Did you mean 'model'?"),
    (lambda c: c["model"]["populations"]["e"].update(familly="LIF"),
     r"model\.populations\.e\.familly: unknown key.* Did you mean 'family'\?"),
    (lambda c: c["model"]["populations"]["e"]["params"].update(tau_n=5.0),
     r"model\.populations\.e\.params\.tau_n: unknown key.* Did you mean 'tau_m'\?"),
    (lambda c: c["model"]["populations"]["e"].update(n=-3),
     r"model\.populations\.e\.n: -3 must be an integer >= 1"),
    (lambda c: c["model"]["populations"]["e"].update(n="4"),
     r"model\.populations\.e\.n: '4' must be an integer"),
    (lambda c: c["model"].update(projections={}), r"model\.projections: expected a list"),
    (lambda c: c["model"]["projections"][0].update(weight=[0.1, 0.2]),
     r"model\.projections\[0\]\.weight: 2 values where 8 are needed"),
    (lambda c: c["model"]["projections"][0].update(weight="heavy"),
     r"model\.projections\[0\]\.weight: 'heavy' must be a finite number"),
    (lambda c: c["model"]["projections"][0].update(post_idx=[0, 1, 0, 1, 0, 1, 0, 2]),
     r"model\.projections\[0\]\.post_idx: indices must be in 0\.\.1"),
    (lambda c: c["model"]["projections"][0].update(indptr=[0, 2, 4]),
     r"model\.projections\[0\]\.indptr: 3 values where 5 are needed"),
    (lambda c: c["model"]["projections"][0].update(pre="ee"),
     r"model\.projections\[0\]\.pre: unknown population 'ee'.* Did you mean 'e'\?"),
    (lambda c: c["model"]["populations"]["e"]["state"]["variables"].update(V=[0.0]),
     r"model\.populations\.e\.state\.variables\.V: 1 values where 4 are needed"),
    (lambda c: c["model"]["populations"]["e"]["params"].update(tau_m=-1.0),
     r"model\.populations\.e\.params: LIFParameters\.tau_m = -1\.0 ms is outside"),
    (lambda c: c["model"]["populations"]["e"]["units"].update(tau_m="s"),
     r"model\.populations\.e\.units\.tau_m: 's' does not match the unit 'ms'"),
    (lambda c: c["model"]["stimuli"]["e"][0].update(type="Poisson"),
     r"model\.stimuli\.e\[0\]\.type: unknown stimulus type 'Poisson'.* Did you mean "
     r"'PoissonInput'\?"),
    (lambda c: c["model"]["stimuli"]["e"][0].update(targets=[1, 9]),
     r"model\.stimuli\.e\[0\]\.targets: indices must be in 0\.\.3"),
    (lambda c: c["model"].update({"class": "LayerNetwork"}),
     r"model\.class: unknown network class 'LayerNetwork'.* Did you mean 'LayeredNetwork'\?"),
    (lambda c: c.update(version=99), r"version: 99 is newer"),
    (lambda c: c.update(format="other"), r"format: 'other' is not 'neurosim_nb\.model'"),
])
def test_bad_configurations_name_the_key_path(small_cfg, edit, message):
    with pytest.raises(ModelConfigError, match=f"^{message}"):
        load_model_json(_broken(small_cfg, edit))


def test_bad_files_raise_export_error(tmp_path, small_cfg):
    with pytest.raises(ExportError, match="no such file"):
        load_model_json(tmp_path / "missing.json")
    path = tmp_path / "m.json"
    export_model_json(load_model_json(small_cfg), path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ExportError, match="not a valid JSON model file"):
        load_model_json(path)
    path.write_text(text.replace('"rate_hz": 100.0', '"rate_hz": NaN'))
    with pytest.raises(ExportError, match="NaN is not valid JSON"):
        load_model_json(path)
    path.write_text(json.dumps({"some": "other file"}))
    with pytest.raises(ExportError, match="not a neurosim_nb model configuration"):
        load_model_json(path)


def test_unwritable_path_leaves_no_file(tmp_path, monkeypatch):
    with pytest.raises(ExportError, match="does not exist"):
        export_model_json(LIFNeuron(n=2), tmp_path / "no" / "m.json")
    assert not (tmp_path / "no").exists()
    with pytest.raises(ExportError, match="it is a folder"):
        export_model_json(LIFNeuron(n=2), tmp_path)
    # a write failing halfway (disk full) leaves neither the file nor a temporary one
    real = type(tmp_path).write_text

    def disk_full(self, text, *args, **kwargs):
        real(self, text[:10], *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(type(tmp_path), "write_text", disk_full)
    with pytest.raises(ExportError, match="No space left"):
        export_model_json(LIFNeuron(n=2), tmp_path / "full.json")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if not os.access(folder, os.W_OK):  # as root permissions are not enforced
            with pytest.raises(ExportError, match="not writable"):
                export_model_json(LIFNeuron(n=2), folder / "m.json")
            assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


def test_other_network_subclass_is_written_as_its_known_base():
    class MyBalanced(RecurrentNetwork):
        pass

    net = MyBalanced.create_balanced(n_neurons=50, seed=1)
    cfg = export_model_json(net)
    assert cfg["model"]["class"] == "RecurrentNetwork"
    assert type(load_model_json(cfg)) is RecurrentNetwork


def test_unsupported_objects_are_refused():
    class MyStim(StepCurrent):
        pass

    net = Network(seed=0)
    net.add_population("a", LIFNeuron(n=2))
    net.add_stimulus("a", MyStim(1.0))
    with pytest.raises(TypeError, match="cannot export a stimulus of class MyStim"):
        export_model_json(net)
    with pytest.raises(TypeError, match="cannot export a str"):
        export_model_json("network")
