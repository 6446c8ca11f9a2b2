"""NetworkExplorer / ONIExplorer and the network views, driven from Python (no browser).

Plotted data are checked against independent references: the analysis functions
(``population_rate``, ``layer_rates``), the spike list, ``Network.connectivity_matrix`` and
a fresh simulation of the same settings.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import xarray as xr

from neurosim_nb.analysis import population_rate
from neurosim_nb.core.networks.layered import layer_rates
from neurosim_nb.export import ONIExporter
from neurosim_nb.panels import network_explorer as ne
from neurosim_nb.panels.network_explorer import (
    NetworkExplorer,
    NetworkSettings,
    ONIExplorer,
    build_network,
    run_network,
)
from neurosim_nb.plotting import network as views

SMALL = dict(n_neurons=300, duration_ms=200.0)


@pytest.fixture
def balanced():
    return NetworkExplorer("Balanced E/I", background=False, **SMALL)


def data(panel, key):
    return {k: (np.asarray(v) if k not in ("xs", "ys", "label", "image") else v)
            for k, v in panel.sources[key].data.items()}


def check_views_match_result(panel):
    """Every plotted source equals an independent computation on panel.result."""
    ds = panel.result
    raster = data(panel, "raster")
    np.testing.assert_array_equal(raster["t"], ds.spike_time.values)          # no thinning
    np.testing.assert_array_equal(raster["neuron"], ds.spike_neuron.values)
    pr = population_rate(ds, bin_ms=5.0)
    np.testing.assert_allclose(data(panel, "rate")["rate"], pr.values, rtol=0, atol=1e-12)
    np.testing.assert_allclose(data(panel, "rate")["t"], pr.time.values)
    groups = data(panel, "groups")
    if "layer" in ds.coords:
        ref = layer_rates(ds)
        np.testing.assert_allclose(groups["rate"], [ref[k] for k in sorted(ref)], rtol=1e-12)
    else:
        secs = ds.attrs["duration"] / 1000.0
        for label, rate in zip(groups["label"], groups["rate"], strict=True):
            members = ds.neuron.values[ds.population.values == label]
            n_spk = np.isin(ds.spike_neuron.values, members).sum()
            assert rate == pytest.approx(n_spk / members.size / secs, rel=1e-12)
    volt = panel.sources["voltage"].data
    ids = ds.recorded_neuron.values
    assert len(volt["ys"]) == ids.size
    for j in range(ids.size):
        np.testing.assert_array_equal(volt["ys"][j], ds.V.isel(recorded_neuron=j).values)
        assert volt["label"][j].startswith(f"neuron {ids[j]} ")


# -- the state: run_network ---------------------------------------------------------------------
@pytest.mark.parametrize("network", ne.NETWORK_TYPES)
def test_run_network_equals_a_plain_simulation(network):
    """The panel's result = the factory's network simulated directly (all neurons recorded),
    plus V of a few neurons along recorded_neuron."""
    s = NetworkSettings.for_network(network, n_neurons=400, duration_ms=150.0, seed=3)
    ds, net = run_network(s)
    ref_net, stimuli = build_network(s)
    ref = ref_net.simulate(150.0, seed=3, record=(), stimuli=stimuli, verbose=False)
    for name in ("spike_time", "spike_neuron"):
        xr.testing.assert_identical(ds[name], ref[name])
    for name in ("neuron", "population", *(["layer"] if "layer" in ref.coords else [])):
        xr.testing.assert_identical(ds[name], ref[name])
    assert ds.attrs == ref.attrs | {"params_json": ds.attrs["params_json"]}
    assert ds.sizes["spike"] > 0, "the default input makes the network fire"
    assert ds.V.dims == ("time", "recorded_neuron") and ds.V.attrs["units"] == "mV"
    # V of the recorded neurons = a run recording exactly those neurons
    ids = ds.recorded_neuron.values
    net2, stim2 = build_network(s)
    ref_v = net2.simulate(150.0, seed=3, record=("V",), record_neurons=ids, stimuli=stim2,
                          verbose=False)
    np.testing.assert_array_equal(ds.V.values, ref_v.V.values)
    from neurosim_nb import validate_dataset

    validate_dataset(ds)


def test_settings_map_to_the_factories():
    bal, stim = build_network(NetworkSettings.for_network("Balanced E/I", n_neurons=500,
                                                          g=5.0, p=0.2, rate_hz=30.0))
    assert (bal.brunel["g"], bal.brunel["epsilon"], bal.brunel["C_E"]) == (5.0, 0.2, 80)
    assert bal.brunel["eta"] == 0 and set(stim) == {"exc", "inh"}     # drive: our Poisson
    assert (stim["exc"][0].rate_hz, stim["exc"][0].n_sources) == (30.0, 100)
    oni, _ = build_network(NetworkSettings.for_network("ONI 14-layer"))
    assert oni.n_neurons == 655 and oni.params.feedforward_weight == pytest.approx(0.02)
    assert oni.params.inhibitory_weight == pytest.approx(0.06)          # g = 3 -> 60 nS
    sw, stim = build_network(NetworkSettings.for_network("Small-world", n_neurons=200, k=6,
                                                         input_kind="current"))
    assert sw.small_world["k"] == 6 and stim["neurons"][0].amplitude == 0.25
    lay, stim = build_network(NetworkSettings.for_network("Layered", n_neurons=400,
                                                          n_layers=4))
    assert lay.n_layers == 4 and set(stim) == {"L1_E", "L1_I"}


def test_auto_recorded_neurons_cover_the_groups():
    s = NetworkSettings.for_network("ONI 14-layer")
    net, _ = build_network(s)
    ids = ne.record_ids(s, net)
    layers = net.layer_of_neuron()[ids]
    assert layers.tolist() == [1, 5, 10, 14]
    bal, _ = build_network(NetworkSettings.for_network("Balanced E/I", n_neurons=100))
    assert ne.record_ids(NetworkSettings(n_neurons=100), bal).tolist() == [0, 1, 80, 81]


# -- the panel ---------------------------------------------------------------------------------
def test_views_show_the_result(balanced):
    assert balanced.result.sizes["neuron"] == 300 and balanced.error is None
    check_views_match_result(balanced)
    assert "300 neurons" in balanced.status.value and "&eta;" in balanced.status.value


def test_control_changes_result_and_sources(balanced):
    before = balanced.result
    balanced.controls["g"].value = 2.0            # excitation wins: much higher rate
    assert balanced.settings.g == 2.0 and balanced.result is not before
    assert balanced.result.sizes["spike"] > 1.5 * before.sizes["spike"]
    check_views_match_result(balanced)
    balanced.controls["seed"].value = 7
    assert balanced.result.attrs["seed"] == 7
    balanced.controls["input_kind"].value = "current"
    assert balanced.controls["rate_hz"].layout.display == "none"
    assert "ConstantCurrent" in balanced.result.attrs["stimuli_json"]
    balanced.controls["record_v"].value = "5, 250"
    assert balanced.result.recorded_neuron.values.tolist() == [5, 250]
    check_views_match_result(balanced)


@pytest.mark.parametrize("network", ["Layered", "ONI 14-layer", "Small-world"])
def test_switching_network_type(balanced, network):
    balanced.controls["network"].value = network
    s = balanced.settings
    assert s.network == network and s.n_neurons == ne.DEFAULTS[network]["n_neurons"]
    assert balanced.result.attrs["n_neurons"] == balanced.network.n_neurons
    check_views_match_result(balanced)
    assert balanced.controls["k"].layout.display == (None if network == "Small-world"
                                                     else "none")
    assert ("layer" in balanced.result.coords) == (network != "Small-world")


def test_heatmap_equals_aggregated_connectivity_matrix(balanced):
    """Balanced network: delta synapses carry their sign, so the heat map is
    connectivity_matrix() summed over the exc / inh blocks."""
    net, ds = balanced.network, balanced.result
    m = net.connectivity_matrix(sparse=False, weighted=True)
    exc = ds.population.values == "exc"
    ref = np.array([[m[np.ix_(a, b)].sum() for b in (exc, ~exc)] for a in (exc, ~exc)])
    np.testing.assert_allclose(balanced.sources["heatmap"].data["image"][0], ref, rtol=1e-12)
    assert ref[0, 0] > 0 > ref[1, 0]


def test_heatmap_signs_gaba_conductances_negative():
    panel = NetworkExplorer("Layered", background=False, n_neurons=300, duration_ms=100.0)
    net, ds = panel.network, panel.result
    m = net.connectivity_matrix(sparse=False, weighted=True)
    inhibitory = np.char.endswith(ds.population.values.astype(str), "_I")
    m[inhibitory, :] *= -1                                   # GABA-A rows negative
    layers = ds.layer.values
    ref = np.array([[m[np.ix_(layers == a, layers == b)].sum() for b in (1, 2, 3)]
                    for a in (1, 2, 3)])
    np.testing.assert_allclose(panel.sources["heatmap"].data["image"][0], ref, rtol=1e-12)
    # small networks: one cell per neuron
    tiny = NetworkExplorer("Small-world", background=False, n_neurons=60, k=4,
                           duration_ms=100.0)
    image = tiny.sources["heatmap"].data["image"][0]
    assert image.shape == (60, 60)
    np.testing.assert_allclose(np.abs(image),
                               tiny.network.connectivity_matrix(sparse=False), rtol=1e-12)


def test_bad_values_show_a_message_and_keep_the_last_result(balanced):
    good = balanced.result
    balanced.controls["record_v"].value = "0, 9999"
    assert balanced.error == "neuron 9999 does not exist: this network has neuron ids 0..299"
    assert "Not simulated" in balanced.status.value and "9999" in balanced.status.value
    assert balanced.result is good and "Traceback" not in balanced.status.value
    balanced.controls["record_v"].value = "zero"
    assert "'zero' is not a neuron id" in balanced.error
    balanced.controls["record_v"].value = ""
    assert balanced.error is None
    balanced.controls["n_neurons"].value = 50
    balanced.controls["p"].value = 0.01                      # C_E = 0: no synapse at all
    assert "C_E" in balanced.error and "more neurons" in balanced.error
    balanced.controls["p"].value = 0.0
    assert "epsilon" in balanced.error


def test_large_raster_is_thinned():
    ds = xr.Dataset({"spike_time": ("spike", np.linspace(1, 99, 1000)),
                     "spike_neuron": ("spike", np.arange(1000) % 100)},
                    coords={"neuron": np.arange(100),
                            "population": ("neuron", np.array(["a"] * 100, dtype=object))},
                    attrs={"duration": 100.0, "n_neurons": 100})
    cols = views.raster_columns(ds, max_points=300)
    assert set(np.unique(cols["neuron"]) % 4) == {0} and len(cols["t"]) == 250


# -- background runs, progress, queued changes ---------------------------------------------------
def test_background_run_reports_progress_and_queues_changes(monkeypatch):
    panel = NetworkExplorer("Balanced E/I", n_neurons=200, duration_ms=100.0)
    assert panel.result is not None                        # first run is synchronous
    gate, started, seen = threading.Event(), threading.Event(), []
    real_run = ne.run_network

    def slow_run(s, progress=None):
        def spy(done, total):
            seen.append((done, total, panel.progress.layout.visibility))
            progress(done, total)
        started.set()
        assert gate.wait(30)
        return real_run(s, progress=spy)

    monkeypatch.setattr(ne, "run_network", slow_run)
    runs = panel.n_runs
    panel.controls["g"].value = 5.0                       # returns at once: runs in a thread
    assert started.wait(10) and panel.running
    for seed in (1, 2, 3):                                # changes while running: queued
        panel.controls["seed"].value = seed
    assert "queued" in panel.status.value
    gate.set()
    assert panel.wait(60)
    assert panel.n_runs == runs + 2                       # the first run + one coalesced rerun
    assert panel.settings.seed == 3 and panel.settings.g == 5.0
    assert panel.result.attrs["seed"] == 3
    assert seen and seen[-1][0] == seen[-1][1]             # the engine reported its last step
    assert {v for *_, v in seen} == {"visible"}
    assert panel.progress.layout.visibility == "hidden" and panel.progress.value == 1.0
    check_views_match_result(panel)


def test_engine_progress_reports_every_chunk():
    calls = []
    s = NetworkSettings.for_network("Balanced E/I", n_neurons=2000, duration_ms=300.0)
    t0 = time.perf_counter()
    run_network(s, progress=lambda done, total: calls.append((done, total)))
    assert time.perf_counter() - t0 < 30
    done = [d for d, _ in calls]
    assert len(calls) >= 5 and done == sorted(done) and calls[-1] == (3000, 3000)
    ds, _ = run_network(NetworkSettings(n_neurons=100, duration_ms=50.0))  # no callback
    assert ds.sizes["neuron"] == 100


# -- ONI ------------------------------------------------------------------------------------------
def test_oni_explorer_metrics_equal_the_exporter():
    panel = ONIExplorer(background=False, duration_ms=200.0)
    ref = ONIExporter().export(panel.result, network=panel.network)
    src = panel.oni_source.data
    assert list(src["x"]) == list(range(1, 15))
    np.testing.assert_allclose(src["rate"], [ref.layers[k].mean_rate for k in range(1, 15)])
    np.testing.assert_allclose(src["synchrony"],
                               [ref.layers[k].synchrony for k in range(1, 15)])
    np.testing.assert_allclose(src["coherence"],
                               [ref.layers[k].coherence for k in range(1, 15)])
    assert src["name"][7] == "Decision Making" and src["label"][13] == "L14 META"
    assert "Meta-Cognition" in panel.oni_table.value and "Global coherence" in (
        panel.oni_table.value)
    assert panel.export.format == "oni" and panel.export.filename.endswith(".oni.json")
    assert panel.controls["network"] not in panel.widget.children[0].children
    panel.controls["rate_hz"].value = 40.0
    assert panel.oni.total_spikes == panel.result.sizes["spike"]
    check_views_match_result(panel)
