"""ONI Framework export: Cs against oni-framework, Golomb synchrony, rates, weights, schema.

Reference implementations: ``oni.coherence.CoherenceMetric`` (oni-framework, a test
dependency) for Cs; ``jsonschema`` (Draft 2020-12) for the schema; ``layer_rates`` and a
per-synapse sum over ``net.projections`` for rates and inter-layer weights; a dense
neurons x bins numpy computation for Golomb's chi. Tolerances are stated at each check.
"""

from __future__ import annotations

import copy
import json
import math
import re
import warnings

import numpy as np
import pytest
import xarray as xr

from neurosim_nb import LayeredNetwork
from neurosim_nb.core.networks.layered import ONI_LAYERS, layer_rates
from neurosim_nb.export._atomic import ExportError
from neurosim_nb.export.oni_export import (
    DEFAULT_TRANSPORT_RELIABILITIES,
    LayerMetrics,
    ONIDataFormat,
    ONIExportData,
    ONIExporter,
    binned_counts,
    coherence_score,
    golomb_synchrony,
    interpret_coherence,
    load_oni,
    oni_schema,
    validate_oni_document,
)

oni_coherence = pytest.importorskip("oni.coherence")
jsonschema = pytest.importorskip("jsonschema")

KEYS = [str(i) for i in range(1, 15)]
#: layer sizes of the 655-neuron ONI model (ONI.md)
ONI_SIZES = {1: 75, 8: 25, 14: 25, 9: 40, 10: 40}


# -- fixtures ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def oni_run():
    net = LayeredNetwork.create_oni_model(neurons_per_layer=50, seed=3)
    ds = net.simulate(250.0, seed=1, record=("V",))
    return net, ds


@pytest.fixture(scope="module")
def oni_data(oni_run):
    net, ds = oni_run
    return ONIExporter().export(ds, net)


def synthetic(times, neurons, layers, duration=1000.0, projections=()):
    """A hand-made network result (no V) with populations one per layer."""
    layers = np.asarray(layers)
    pops = []
    for L in np.unique(layers):
        ids = np.flatnonzero(layers == L)
        pops.append({"name": f"P{L}", "n": int(ids.size), "first_id": int(ids[0]),
                     "layer": int(L) if L > 0 else None})
    return xr.Dataset(
        {"spike_time": ("spike", np.asarray(times, dtype=float)),
         "spike_neuron": ("spike", np.asarray(neurons, dtype=np.int64))},
        coords={"neuron": np.arange(layers.size), "layer": ("neuron", layers)},
        attrs={"duration": float(duration), "dt": 0.1, "n_neurons": int(layers.size),
               "params_json": json.dumps({"populations": pops,
                                          "projections": list(projections)})})


def oni_cs(times_ms, amplitudes, **kw):
    """Cs by oni-framework (times in seconds); its zero-baseline warning silenced."""
    metric = oni_coherence.CoherenceMetric(**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return metric.calculate((np.asarray(times_ms, float) / 1000.0).tolist(),
                                np.asarray(amplitudes, float).tolist())


def independent_counts(times_ms, duration, width):
    """Population counts in whole bins (k w, (k+1) w] (spike times are multiples of dt)."""
    n = int(math.floor(duration / width + 1e-9))
    edges = np.arange(n + 1) * width + 1e-6
    return np.histogram(times_ms, bins=edges)[0].astype(float)


def layer_times(ds, layer):
    lay = ds["layer"].values[ds["spike_neuron"].values]
    return ds["spike_time"].values[lay == layer]


# -- Cs against oni-framework ------------------------------------------------------------
def test_defaults_and_levels_match_oni_framework():
    m = oni_coherence.CoherenceMetric()
    assert m.reference_freq == 40.0 == ONIExporter().f_ref_hz
    assert DEFAULT_TRANSPORT_RELIABILITIES == m.DEFAULT_TRANSPORT_FACTORS
    for cs in (0.0, 0.1, 0.3, 0.30001, 0.6, 0.61, 1.0):
        assert interpret_coherence(cs) == m.interpret(cs)


def test_layer_and_global_cs_equal_oni_framework(oni_run, oni_data):
    """Per layer and global, |ours - oni| <= 1e-12 (and relative 1e-9: values are ~1e-4)."""
    net, ds = oni_run
    duration = ds.attrs["duration"]
    for k in range(1, 15):
        t = layer_times(ds, k)
        ref = oni_cs(t, independent_counts(t, duration, 25.0))
        assert oni_data.layers[k].coherence == pytest.approx(ref, abs=1e-12, rel=1e-9)
    t = ds["spike_time"].values
    ref = oni_cs(t, independent_counts(t, duration, 25.0))
    assert oni_data.Cs_global == pytest.approx(ref, abs=1e-12, rel=1e-9)
    # asynchronous firing: phases cover the 40 Hz cycle, so sigma2_phi ~ pi^2 and Cs is LOW
    assert oni_data.Cs_global < 1e-3


@pytest.mark.parametrize("seed", range(6))
def test_coherence_score_equals_oni_on_random_and_locked_inputs(seed):
    """Random jittered 40 Hz trains (Cs from ~0 to ~0.7), other parameters; abs 1e-12."""
    rng = np.random.default_rng(seed)
    jitter = [0.1, 1.0, 3.0, 8.0, 0.0, 5.0][seed]
    t = np.sort(25.0 * np.arange(40) + rng.normal(0, jitter, 40) + 1000.0)
    a = rng.normal(100, 5 * seed + 1e-3, 40)
    assert coherence_score(t, a) == pytest.approx(oni_cs(t, a), abs=1e-12)
    kw = {"transport_reliabilities": {"electrode": 0.95, "tissue": 0.9}, "f_ref_hz": 10.0,
          "expected_amplitude": 90.0}
    ref = oni_cs(t, a, reference_freq=10.0, transport_factors={"electrode": 0.95,
                                                                "tissue": 0.9},
                 expected_amplitude=90.0)
    assert coherence_score(t, a, **kw) == pytest.approx(ref, abs=1e-12)


@pytest.mark.parametrize("times, amps, kw", [
    ([], [], {}),                                   # no event: only the transport term
    ([12.0], [3.0], {}),                            # fewer than two events
    ([0.0, 12.5], [5.0, 5.0], {}),                  # opposite phases
    ([1.0, 2.0, 3.0], [0.0, 0.0, 0.0], {}),         # zero baseline: Cs = 0
    ([1.0, 2.0], [1.0, -1.0], {}),                  # mean 0 again
    ([1.0, 2.0], [4.0, 6.0], {"expected_amplitude": 0}),  # 0 -> the mean, as oni does
    ([1.0, 2.0], [4.0, 6.0], {"transport_reliabilities": {}}),  # {} -> defaults, as oni
    ([1.0, 2.0], [4.0, 6.0], {"transport_reliabilities": {"ideal": 1.0}}),
])
def test_coherence_edge_cases_equal_oni(times, amps, kw):
    okw = {}
    if "expected_amplitude" in kw:
        okw["expected_amplitude"] = kw["expected_amplitude"]
    if "transport_reliabilities" in kw:
        okw["transport_factors"] = kw["transport_reliabilities"]
    assert coherence_score(times, amps, **kw) == pytest.approx(oni_cs(times, amps, **okw),
                                                               abs=1e-12)


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, float("nan"), True])
def test_transport_reliability_outside_unit_interval_is_an_error(bad):
    with pytest.raises(ValueError, match="must be in \\(0, 1\\]"):
        ONIExporter(transport_reliabilities={"synapse": bad})
    with pytest.raises(ValueError, match="must be in \\(0, 1\\]"):
        coherence_score([1.0, 2.0], [1.0, 1.0], transport_reliabilities={"synapse": bad})


def test_amplitudes_are_whole_bin_population_counts():
    assert binned_counts([0.1, 25.0, 25.1, 49.9, 50.0, 60.0], 60.0, 25.0).tolist() == [2, 3]
    ds = synthetic([5.0, 30.0, 31.0], [0, 1, 0], [1, 1], duration=60.0)
    data = ONIExporter().export(ds)
    assert data.layers[1].coherence == pytest.approx(
        oni_cs([5.0, 30.0, 31.0], [1.0, 2.0]), abs=1e-12)


# -- synchrony ---------------------------------------------------------------------------
def dense_chi(times, neurons, n, duration, width):
    nb = int(math.floor(duration / width + 1e-9))
    edges = np.arange(nb + 1) * width + 1e-6
    x = np.zeros((n, nb))
    for i in range(n):
        x[i] = np.histogram(times[neurons == i], bins=edges)[0]
    return math.sqrt(x.mean(axis=0).var() / x.var(axis=1).mean())


def test_synchrony_is_one_for_identical_trains():
    rng = np.random.default_rng(0)
    train = np.round(np.sort(rng.uniform(0, 2000, 60)), 1) + 0.1
    n = 30
    times, neurons = np.tile(train, n), np.repeat(np.arange(n), train.size)
    assert golomb_synchrony(times, neurons, n, 2000.0) == pytest.approx(1.0, abs=1e-12)
    data = ONIExporter().export(synthetic(times, neurons, [1] * n, duration=2000.0))
    assert data.layers[1].synchrony == pytest.approx(1.0, abs=1e-12)
    assert data.layers[2].synchrony == 0.0 and data.layers[2].n_neurons == 0


@pytest.mark.parametrize("n", [25, 100, 400])
def test_synchrony_is_near_zero_for_independent_poisson(n):
    """chi ~ 1/sqrt(N) for independent trains: checked <= 3/sqrt(N) (and >= 0.3/sqrt(N))."""
    rng = np.random.default_rng(n)
    duration, rate = 10_000.0, 20.0
    counts = rng.poisson(rate * duration / 1000.0, n)
    neurons = np.repeat(np.arange(n), counts)
    times = np.round(rng.uniform(0, duration, counts.sum()), 1) + 0.1
    chi = golomb_synchrony(times, neurons, n, duration)
    assert 0.3 / math.sqrt(n) <= chi <= 3 / math.sqrt(n)
    # equals the dense neurons x bins definition (relative 1e-9)
    assert chi == pytest.approx(dense_chi(times, neurons, n, duration, 5.0), rel=1e-9)


def test_synchrony_of_the_oni_run_equals_the_dense_definition(oni_run, oni_data):
    net, ds = oni_run
    for k in (1, 8, 14):
        ids = net.layer(k)
        sel = np.isin(ds["spike_neuron"].values, ids)
        local = ds["spike_neuron"].values[sel] - ids[0]
        ref = dense_chi(ds["spike_time"].values[sel], local, ids.size,
                        ds.attrs["duration"], 5.0)
        assert oni_data.layers[k].synchrony == pytest.approx(ref, rel=1e-9)
        assert 0 < oni_data.layers[k].synchrony <= 1


# -- rates, sizes, voltages, weights -----------------------------------------------------
def test_layers_sizes_rates_and_voltage(oni_run, oni_data):
    net, ds = oni_run
    assert sorted(oni_data.layers) == list(range(1, 15))
    assert oni_data.n_neurons == 655 and oni_data.layer_naming == "neurosim"
    rates = layer_rates(ds)
    for k, m in oni_data.layers.items():
        assert m.n_neurons == ONI_SIZES.get(k, 50)
        assert m.name == ONI_LAYERS[k][0]
        assert m.mean_rate == pytest.approx(rates[k], rel=1e-12)
        assert m.mean_rate > 0, f"layer {k} silent"
        v = ds["V"].sel(neuron=net.layer(k)).values.mean()
        assert m.mean_voltage == pytest.approx(v, rel=1e-9)
    assert sum(m.n_spikes for m in oni_data.layers.values()) == oni_data.total_spikes
    assert oni_data.total_spikes == ds.sizes["spike"]


def test_inter_layer_weights_network_dataset_and_independent_sum(oni_run, oni_data, tmp_path):
    net, ds = oni_run
    ref = np.zeros((14, 14))
    layer_of = net.layer_of_neuron()
    off = net.offsets()
    for p in net.projections:  # per synapse: global ids -> layers
        pre = layer_of[off[p.pre] + p.pre_idx] - 1
        post = layer_of[off[p.post] + np.asarray(p.post_idx, dtype=np.int64)] - 1
        np.add.at(ref, (pre, post), np.asarray(p.weight, dtype=float))
    np.testing.assert_allclose(oni_data.inter_layer_weights, ref, rtol=1e-12, atol=1e-12)
    assert oni_data.weight_units == "uS"
    # from the Dataset alone, after a NetCDF round trip (no network object)
    ds.to_netcdf(tmp_path / "run.nc")
    with xr.open_dataset(tmp_path / "run.nc") as loaded:
        from_file = ONIExporter().export(loaded.load())
    np.testing.assert_allclose(from_file.inter_layer_weights, oni_data.inter_layer_weights,
                               rtol=1e-12, atol=0)
    # feedforward structure: nothing flows backwards, diagonal = lateral
    assert np.all(np.tril(ref, -1) == 0) and np.all(np.diag(ref) > 0)


# -- schema ------------------------------------------------------------------------------
def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(oni_schema())


def plain_validator():
    s = oni_schema()
    return jsonschema.Draft202012Validator({"$ref": "#/$defs/plain_document",
                                            "$defs": s["$defs"]})


def test_native_document_validates_and_has_all_keys(oni_data):
    doc = oni_data.to_native_dict()
    jsonschema.Draft202012Validator(oni_schema()).validate(doc)
    validate_oni_document(doc)
    plain_validator().validate(oni_data.to_plain_dict())
    for block in (doc["layers"], doc["coherence_analysis"]["layer_coherences"],
                  doc["coherence_analysis"]["layer_synchrony"],
                  doc["firing_statistics"]["layer_rates"]):
        assert list(block) == KEYS
    assert {"version", "type", "timestamp", "simulation", "coherence_analysis",
            "firing_statistics", "connectivity", "layer_naming", "layers",
            "coherence_definition", "neurosim_nb_version"} <= set(doc)
    assert doc["version"] == "1.0" and doc["type"] == "neurosim_export"
    assert doc["timestamp"].endswith("+00:00")
    assert np.shape(doc["connectivity"]["inter_layer_weights"]) == (14, 14)
    assert doc["simulation"] == {"duration_ms": 250.0, "dt_ms": 0.1, "n_neurons": 655}


def test_silent_and_small_networks_still_export_fourteen_layers():
    silent = LayeredNetwork.create_oni_model(neurons_per_layer=4, sensory_input_hz=0, seed=1)
    ds = silent.simulate(60.0, seed=0, record=())
    data = ONIExporter().export(ds)
    doc = data.to_native_dict()
    jsonschema.Draft202012Validator(oni_schema()).validate(doc)
    assert data.total_spikes == 0 and data.Cs_global == 0.0
    assert all(m.coherence == 0.0 and m.synchrony == 0.0 and math.isnan(m.mean_voltage)
               for m in data.layers.values())
    assert all(v is None for v in (lay["mean_voltage_mv"]
                                   for lay in data.to_plain_dict()["layers"].values()))
    three = LayeredNetwork.create_simple(3, 10, seed=1)
    d3 = ONIExporter().export(three.simulate(20.0, seed=0, record=()))
    doc3 = d3.to_native_dict()
    jsonschema.Draft202012Validator(oni_schema()).validate(doc3)
    assert list(doc3["layers"]) == KEYS and d3.layer_naming == "custom"
    assert [d3.layers[k].n_neurons for k in range(1, 15)] == [10] * 3 + [0] * 11


def mutations(doc):
    """(description, broken copy) pairs that both validators must reject."""
    def mutate(fn):
        d = copy.deepcopy(doc)
        fn(d)
        return d
    yield "missing layer key", mutate(lambda d: d["layers"].pop("8"))
    yield "extra layer 15", mutate(lambda d: d["coherence_analysis"]["layer_synchrony"]
                                   .__setitem__("15", 0.1))
    yield "Cs above 1", mutate(lambda d: d["coherence_analysis"].__setitem__("Cs_global", 1.5))
    yield "13 rows", mutate(lambda d: d["connectivity"]["inter_layer_weights"].pop())
    yield "13 columns", mutate(lambda d: d["connectivity"]["inter_layer_weights"][0].pop())
    yield "string rate", mutate(lambda d: d["firing_statistics"]["layer_rates"]
                                .__setitem__("3", "fast"))
    yield "missing top key", mutate(lambda d: d.pop("connectivity"))
    yield "extra top key", mutate(lambda d: d.__setitem__("extra", 1))
    yield "no time zone", mutate(lambda d: d.__setitem__("timestamp", "2024-01-01T00:00:00"))
    yield "float neurons", mutate(lambda d: d["layers"]["1"].__setitem__("n_neurons", 1.5))
    yield "bad level", mutate(lambda d: d["coherence_analysis"]["levels"]["layers"]
                              .__setitem__("2", "OK"))
    yield "reliability 0", mutate(lambda d: d["coherence_analysis"]["parameters"]
                                  ["transport_reliabilities"].__setitem__("x", 0))


def test_builtin_validator_agrees_with_jsonschema(oni_data):
    doc = oni_data.to_native_dict()
    validator = jsonschema.Draft202012Validator(oni_schema())
    for what, bad in mutations(doc):
        assert not validator.is_valid(bad), what
        with pytest.raises(ValueError, match="at /"):
            validate_oni_document(bad)


# -- the seed's example ------------------------------------------------------------------
def test_seed_example_runs(tmp_path, monkeypatch, capsys):
    from neurosim_nb.engine import SimulationConfig, SimulationEngine

    monkeypatch.chdir(tmp_path)
    network = LayeredNetwork.create_oni_model(neurons_per_layer=50)
    config = SimulationConfig(duration=200)
    engine = SimulationEngine(network, config)
    result = engine.run()

    exporter = ONIExporter()
    oni_data = exporter.export(result, network)
    exporter.save(oni_data, "simulation_oni.json", ONIDataFormat.ONI_NATIVE)

    for layer_id, metrics in oni_data.layers.items():
        print(f"Layer {layer_id} ({metrics.name}):")
        print(f"  Neurons: {metrics.n_neurons}")
        print(f"  Firing rate: {metrics.mean_rate:.2f} Hz")
        print(f"  Coherence: {metrics.coherence:.3f}")
    out = capsys.readouterr().out
    assert "Layer 14 (Meta-Cognition):" in out and "  Neurons: 75" in out
    assert load_oni(tmp_path / "simulation_oni.json")["simulation"]["n_neurons"] == 655
    assert isinstance(oni_data, ONIExportData)
    assert all(isinstance(m, LayerMetrics) for m in oni_data.layers.values())
    assert not math.isnan(oni_data.layers[1].mean_voltage)  # the engine records V


# -- files -------------------------------------------------------------------------------
def strict_json(path):
    def reject(name):
        raise AssertionError(f"non-standard token {name}")
    return json.loads(path.read_text(), parse_constant=reject)


def test_round_trip_every_format(oni_data, tmp_path):
    ex = ONIExporter()
    native = ex.save(oni_data, tmp_path / "a.json", ONIDataFormat.ONI_NATIVE)
    assert load_oni(native) == strict_json(native) == oni_data.to_native_dict()
    plain = ex.save(oni_data, tmp_path / "b.json", "json")
    doc = load_oni(plain)
    assert doc == oni_data.to_plain_dict()
    assert doc["layers"]["8"]["mean_voltage_mv"] == pytest.approx(
        oni_data.layers[8].mean_voltage)
    npz = ex.save(oni_data, tmp_path / "c.npz", ONIDataFormat.NUMPY)
    assert load_oni(npz) == oni_data.to_native_dict()
    with np.load(npz, allow_pickle=False) as z:  # no pickled objects inside
        np.testing.assert_array_equal(z["inter_layer_weights"], oni_data.inter_layer_weights)
        np.testing.assert_array_equal(z["coherence"],
                                      [oni_data.layers[k].coherence for k in range(1, 15)])
        assert z["layer_name"][7] == "Decision Making" and z["n_neurons"].sum() == 655
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json", "c.npz"]


def test_no_nan_tokens_without_voltage(tmp_path):
    net = LayeredNetwork.create_oni_model(neurons_per_layer=4, seed=2)
    data = ONIExporter().export(net.simulate(40.0, seed=0, record=()))
    path = ONIExporter().save(data, tmp_path / "plain.json", ONIDataFormat.JSON)
    assert all(v["mean_voltage_mv"] is None for v in strict_json(path)["layers"].values())
    assert "NaN" not in path.read_text()


def test_dataset_without_layers_is_rejected():
    ds = synthetic([1.0], [0], [1]).drop_vars("layer")
    with pytest.raises(ValueError, match="no 'layer' coordinate"):
        ONIExporter().export(ds)
    with pytest.raises(TypeError, match="SimulationResult or an xarray.Dataset"):
        ONIExporter().export({"spikes": []})
    with pytest.raises(ValueError, match="layers 1..14"):
        ONIExporter().export(synthetic([], [], [1, 15]))


def test_partial_recording_and_wrong_network_are_rejected(oni_run):
    net = LayeredNetwork.create_oni_model(neurons_per_layer=4, seed=2)
    ds = net.simulate(20.0, seed=0, record=("V",), record_neurons=[0, 1, 2])
    with pytest.raises(ValueError, match="every neuron recorded"):
        ONIExporter().export(ds)
    full = net.simulate(20.0, seed=0, record=())
    with pytest.raises(ValueError, match="not the network that was simulated"):
        ONIExporter().export(full, oni_run[0])


def test_unwritable_path_raises_and_leaves_nothing(oni_data, tmp_path, monkeypatch):
    ex = ONIExporter()
    with pytest.raises(ExportError, match="does not exist"):
        ex.save(oni_data, tmp_path / "missing" / "x.json")
    with pytest.raises(ExportError, match="it is a folder"):
        ex.save(oni_data, tmp_path)
    # a failure in the middle of writing leaves the previous file and no temporary file
    target = ex.save(oni_data, tmp_path / "keep.npz", ONIDataFormat.NUMPY)
    before = target.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        ex.save(oni_data, target, ONIDataFormat.NUMPY)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.npz"]


def test_corrupt_or_foreign_files_on_load(oni_data, tmp_path):
    ex = ONIExporter()
    good = ex.save(oni_data, tmp_path / "good.json")
    truncated = tmp_path / "truncated.json"
    truncated.write_text(good.read_text()[:500])
    with pytest.raises(ExportError, match="not a valid JSON file"):
        load_oni(truncated)
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"name": "something else"}))
    with pytest.raises(ExportError, match="not an ONI export"):
        load_oni(foreign)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    with pytest.raises(ExportError, match="not a JSON object"):
        load_oni(listed)
    broken = tmp_path / "broken.json"
    doc = oni_data.to_native_dict()
    doc["coherence_analysis"]["layer_coherences"]["3"] = 2.0
    broken.write_text(json.dumps(doc))
    with pytest.raises(ExportError, match="layer_coherences/3: 2.0 violates maximum 1"):
        load_oni(broken)
    nan_doc = tmp_path / "nan.json"
    nan_doc.write_text(re.sub(r'"Cs_global": [^,\n]+', '"Cs_global": NaN', good.read_text(),
                              count=1))
    assert "NaN" in nan_doc.read_text()
    with pytest.raises(ExportError, match="NaN"):
        load_oni(nan_doc)
    bad_npz = tmp_path / "bad.npz"
    bad_npz.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ExportError, match="not a readable .npz"):
        load_oni(bad_npz)
    other_npz = tmp_path / "other.npz"
    np.savez(other_npz, x=np.arange(3))
    with pytest.raises(ExportError, match="no native_json"):
        load_oni(other_npz)
    with pytest.raises(ExportError, match="no such file"):
        load_oni(tmp_path / "absent.json")
    with pytest.raises(ValueError, match="unknown format"):
        ex.save(oni_data, tmp_path / "x.csv", "csv")
