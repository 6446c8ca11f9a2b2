"""Neo export: real runs as ``neo.Block``s, checked against the Dataset and, through
Elephant, against our own analysis functions.

References and tolerances:

* spike times, counts, ISIs and trace values are compared **exactly** (the exporter hands
  the Dataset's float64 arrays to Neo; an ISI is ``np.diff`` of the same floats on both
  sides);
* rates and CVs are compared with ``rtol=1e-12``: both sides compute the same quotient in a
  different order (Elephant ``n / T`` then ms -> s, ours ``n / (T / 1000)``; the CV's mean
  and variance by ``scipy.stats.variation`` vs ``np.bincount`` sums), a few ulp apart
  (~1e-15 relative); a one-spike disagreement would be > 1e-3;
* binned counts are compared exactly, on bins whose edges lie half a step off the spike grid
  (spikes are stamped at step ends; Elephant puts a spike on an edge in the bin it opens,
  we in the bin it closes -- see docs/interop.md).
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import xarray as xr
from _export_helpers import plastic_result
from _interop_runs import JUNK, lif_run, network_run, spike_results
from hypothesis import given

from neurosim_nb import HodgkinHuxleyNeuron, LIFNeuron
from neurosim_nb.analysis import cv, firing_rate, isi, population_rate, spike_raster
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError
from neurosim_nb.export._interop import spike_result
from neurosim_nb.export.neo import from_neo, neo_units, to_neo
from neurosim_nb.schema import population_parameters, validate_dataset

neo = pytest.importorskip("neo")
pq = pytest.importorskip("quantities")
es = pytest.importorskip("elephant.statistics")

RTOL = 1e-12
# Elephant 1.2 passes copy= to quantities 0.16, which warns; not ours
pytestmark = pytest.mark.filterwarnings("ignore:The 'copy' argument in Quantity is deprecated")


@pytest.fixture(scope="module")
def lif():
    return lif_run()


@pytest.fixture(scope="module")
def network():
    return network_run()


def test_runs_fire(lif, network):
    """The fixtures are worth checking: every neuron fires a few times, both populations."""
    assert np.bincount(lif.spike_neuron.values, minlength=20).min() >= 3
    counts = np.bincount(network.spike_neuron.values, minlength=50)
    assert counts[:40].sum() > 100 and counts[40:].sum() > 20


@pytest.mark.parametrize("kind", ["lif", "network"])
def test_spike_trains_are_the_datasets_spikes(kind, request):
    ds = request.getfixturevalue(kind)
    block = to_neo(ds)
    assert len(block.segments) == 1
    trains = block.segments[0].spiketrains
    n = ds.attrs["n_neurons"]
    assert len(trains) == n
    pops = {p["name"]: p for p in population_parameters(ds)}
    for i, train in enumerate(trains):
        mine = ds.spike_time.values[ds.spike_neuron.values == i]
        assert train.units == pq.ms
        np.testing.assert_array_equal(train.magnitude, mine)  # exact, in time order
        assert train.dtype == np.float64
        assert float(train.t_start) == 0.0 and float(train.t_stop) == ds.attrs["duration"]
        assert train.annotations["neuron"] == i
        pop = pops[train.annotations["population"]]
        assert pop["first_id"] <= i < pop["first_id"] + pop["n"]
        assert train.annotations["model"] == pop["model"] == "LIFNeuron"
    assert sum(len(t) for t in trains) == ds.sizes["spike"]


def test_analog_signals_units_sampling_channels(lif):
    seg = to_neo(lif).segments[0]
    by_name = {s.name: s for s in seg.analogsignals}
    assert set(by_name) == {"V", "I_ext"}
    v = by_name["V"]
    assert v.units == pq.mV and by_name["I_ext"].units == pq.nA
    # dt 0.1 ms x sample_every 2
    assert float(v.sampling_period.rescale("ms")) == pytest.approx(0.2, rel=1e-15)
    assert float(v.t_start.rescale("ms")) == lif.time.values[0]
    np.testing.assert_array_equal(v.magnitude, lif.V.values)
    np.testing.assert_array_equal(by_name["I_ext"].magnitude, lif.I_ext.values)
    # Neo's sample times t_start + k * period vs our time coordinate (k + 1) * 0.2 ms:
    # the same numbers up to rounding of the product (1e-9 ms)
    np.testing.assert_allclose(v.times.rescale("ms").magnitude, lif.time.values,
                               rtol=0, atol=1e-9)
    np.testing.assert_array_equal(v.array_annotations["neuron"], lif.neuron.values)
    np.testing.assert_array_equal(v.array_annotations["population"],
                                  lif.population.values.astype(str))


def test_hh_gates_are_dimensionless():
    ds = HodgkinHuxleyNeuron(n=2).simulate(20.0, 10.0, seed=0, record=("V", "m", "h", "n"),
                                           dt=0.01)
    sigs = {s.name: s for s in to_neo(ds).segments[0].analogsignals}
    assert sigs["V"].units == pq.mV
    for gate in "mhn":
        assert sigs[gate].units == pq.dimensionless
        np.testing.assert_array_equal(sigs[gate].magnitude, ds[gate].values)


def test_groups_per_population(network):
    block = to_neo(network)
    assert [g.name for g in block.groups] == ["exc", "inh"]
    exc, inh = block.groups
    assert [t.annotations["neuron"] for t in exc.spiketrains] == list(range(40))
    assert [t.annotations["neuron"] for t in inh.spiketrains] == list(range(40, 50))
    (v_exc,), (v_inh,) = exc.channelviews, inh.channelviews
    np.testing.assert_array_equal(v_exc.index, [0, 1, 2])  # recorded 0, 7, 39
    np.testing.assert_array_equal(v_inh.index, [3, 4, 5])  # recorded 40, 45, 49
    np.testing.assert_array_equal(v_inh.resolve().magnitude,
                                  network.V.sel(neuron=[40, 45, 49]).values)


def test_provenance_in_annotations(network):
    block = to_neo(network)
    text = json.dumps(block.annotations)  # JSON-serialisable
    assert json.loads(text)["params_json"] == network.attrs["params_json"]
    for key, value in network.attrs.items():
        assert block.annotations[key] == value, key
    assert json.loads(block.annotations["params_json"])["populations"][1]["name"] == "inh"


@pytest.mark.parametrize("kind", ["lif", "network"])
def test_elephant_statistics_equal_ours(kind, request):
    ds = request.getfixturevalue(kind)
    trains = to_neo(ds).segments[0].spiketrains
    duration = ds.attrs["duration"]

    # mean firing rate over the whole run (Hz)
    theirs = np.array([float(es.mean_firing_rate(t).rescale("Hz")) for t in trains])
    ours = firing_rate(ds, bin_ms=duration).isel(time=0).values
    np.testing.assert_allclose(theirs, ours, rtol=RTOL, atol=0)
    assert ours.min() > 0

    # inter-spike intervals (ms): exact
    ours_isi = isi(ds)
    for i, t in enumerate(trains):
        np.testing.assert_array_equal(es.isi(t).rescale("ms").magnitude,
                                      ours_isi.values[ours_isi.neuron.values == i])

    # CV of the ISIs (population std, as both document)
    theirs_cv = np.array([es.cv(es.isi(t).magnitude) if len(t) > 2 else np.nan
                          for t in trains])
    ours_cv = cv(ds).values
    np.testing.assert_allclose(theirs_cv, ours_cv, rtol=RTOL, atol=0)
    assert np.nanmin(ours_cv) > 0.05  # irregular firing: not a trivial 0 == 0

    # population histogram: counts exact, rate to rounding; edges half a step off the grid
    t0, bin_ms = 0.05, 5.0
    n_bins = int((duration - t0) // bin_ms)
    t1 = t0 + n_bins * bin_ms
    hist = es.time_histogram(trains, bin_size=bin_ms * pq.ms, t_start=t0 * pq.ms,
                             t_stop=t1 * pq.ms, output="counts")
    ours_counts = spike_raster(ds, bin_ms, t_start=t0, t_stop=t1).sum("neuron").values
    np.testing.assert_array_equal(hist.magnitude[:, 0].astype(np.int64), ours_counts)
    assert ours_counts.sum() > 0.9 * ds.sizes["spike"]
    rate = es.time_histogram(trains, bin_size=bin_ms * pq.ms, t_start=t0 * pq.ms,
                             t_stop=t1 * pq.ms, output="rate")
    np.testing.assert_allclose(rate.rescale("Hz").magnitude[:, 0],
                               population_rate(ds, bin_ms, t_start=t0, t_stop=t1).values,
                               rtol=RTOL, atol=0)


def test_edge_convention_is_the_only_difference(lif):
    """On the step grid (edges at multiples of 5 ms, where spikes fall), Elephant and we
    differ exactly by the spikes on inner edges: each moves to the next bin there."""
    trains = to_neo(lif).segments[0].spiketrains
    theirs = es.time_histogram(trains, bin_size=5.0 * pq.ms, t_start=0.0 * pq.ms,
                               t_stop=500.0 * pq.ms).magnitude[:, 0].astype(np.int64)
    ours = spike_raster(lif, 5.0).sum("neuron").values
    t = lif.spike_time.values
    on_edge = np.isclose(t / 5.0, np.round(t / 5.0), rtol=0, atol=1e-9) & (t < 500.0)
    assert on_edge.sum() > 0
    moved = np.bincount(np.round(t[on_edge] / 5.0).astype(int) - 1, minlength=100)
    # a spike at edge k*5 is in our bin k-1 and in Elephant's bin k (a spike at 500 ms
    # is in both sides' last bin)
    np.testing.assert_array_equal(theirs, ours - moved + np.r_[0, moved[:-1]])


def test_from_neo_round_trip_is_exact(network):
    back = from_neo(to_neo(network))
    validate_dataset(back)
    np.testing.assert_array_equal(back.spike_time.values, network.spike_time.values)
    np.testing.assert_array_equal(back.spike_neuron.values, network.spike_neuron.values)
    assert back.attrs["n_neurons"] == 50 and back.attrs["seed"] == network.attrs["seed"]
    assert back.attrs["params_json"] == network.attrs["params_json"]
    assert list(back.population.values[[0, 39, 40, 49]]) == ["exc", "exc", "inh", "inh"]
    np.testing.assert_array_equal(back.neuro.cv().values, network.neuro.cv().values)


def test_recorded_weights_are_a_signal():
    ds = plastic_result()
    sigs = {s.name: s for s in to_neo(ds).segments[0].analogsignals}
    w = sigs["weight"]
    assert w.units == pq.uS and float(w.sampling_period) == 10.0 and float(w.t_start) == 0.0
    np.testing.assert_array_equal(w.magnitude, ds.weight.values)
    for key in ("pre", "post", "projection"):
        np.testing.assert_array_equal(w.array_annotations[key], ds[key].values.astype(str)
                                      if key == "projection" else ds[key].values)


def test_irregular_time_axis_gives_irregular_signal(lif):
    ds = lif.isel(time=[0, 1, 3, 7, 20])
    seg = to_neo(ds, variables=["V"]).segments[0]
    assert not seg.analogsignals
    (sig,) = seg.irregularlysampledsignals
    np.testing.assert_array_equal(sig.times.rescale("ms").magnitude, ds.time.values)
    np.testing.assert_array_equal(sig.magnitude, ds.V.values)


def test_accessor_and_variables(lif):
    block = lif.neuro.to_neo(variables=["V"], groups=False)
    assert [s.name for s in block.segments[0].analogsignals] == ["V"]
    assert len(block.groups) == 0
    assert len(lif.neuro.to_neo(variables=[]).segments[0].analogsignals) == 0


def test_traces_only_and_spikes_only(lif):
    traces = lif.drop_vars(["spike_time", "spike_neuron"])
    seg = to_neo(traces).segments[0]
    assert len(seg.spiketrains) == 0 and len(seg.analogsignals) == 2
    silent = LIFNeuron.create_excitatory().simulate(50.0, 0.0, seed=0, record=())
    (train,) = to_neo(silent).segments[0].spiketrains
    assert len(train) == 0 and float(train.t_stop) == 50.0


@pytest.mark.parametrize("bad, error, match", [
    (np.zeros(3), ArgumentTypeError, "must be an xarray.Dataset"),
    (xr.Dataset(), InvalidArgumentError, "neither spikes"),
    (xr.Dataset({"spike_time": ("spike", [1.0])}), InvalidArgumentError, "only one of"),
])
def test_bad_datasets_are_refused(bad, error, match):
    with pytest.raises(error, match=match):
        to_neo(bad)


def test_bad_arguments_are_refused(lif):
    with pytest.raises(InvalidArgumentError, match=r"'W' is not a trace.*\['V', 'I_ext'\]"):
        to_neo(lif, variables=["W"])
    with pytest.raises(ArgumentTypeError, match="groups"):
        to_neo(lif, groups="yes")
    odd = lif.copy()
    odd["V"] = odd.V.assign_attrs(units="bogons")
    with pytest.raises(InvalidArgumentError, match="variable 'V' has units 'bogons'"):
        to_neo(odd)
    with pytest.raises(ArgumentTypeError, match="neo.Block"):
        from_neo(lif)
    with pytest.raises(ArgumentTypeError, match="dt"):
        from_neo(to_neo(lif), dt="0.1")


@pytest.mark.parametrize("units, expected", [
    ("mV", "mV"), ("nA", "nA"), ("1", "dimensionless"), ("", "dimensionless"),
    ("uA/cm2", "uA/cm**2"), ("mS/cm2", "mS/cm**2"), ("1/ms", "1/ms"), ("uS", "uS"),
    ("MOhm", "megaohm"), ("um", "um"), ("mM", "mM"), ("Hz", "Hz")])
def test_unit_strings(units, expected):
    q = neo_units(units)
    assert q.dimensionality.string == expected or q.dimensionality.unicode == expected


@pytest.mark.parametrize("module", ["neo", "quantities"])
def test_missing_dependency_says_how_to_install(lif, module, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=r'pip install "neurosim_nb\[interop\]"'):
        to_neo(lif)


# --- generated inputs (hypothesis) ------------------------------------------------------
# Suite: FUZZ examples per test (a few seconds); a longer run: NEUROSIM_NB_FUZZ_EXAMPLES=5000.
# The CV of arbitrary times: both sides use a two-pass std with different summation orders;
# their means differ by ~eps * mean, which moves the std by ~(eps * mean)**2 / std -- hence
# rtol 1e-9 plus atol 1e-12 for near-regular trains (CV -> 0).
# (hypothesis settings: the suite's profile, root conftest.py)


@given(spike_results())
def test_generated_results_go_to_neo_and_back_exactly(ds):
    block = to_neo(ds)
    trains = block.segments[0].spiketrains
    n = ds.attrs["n_neurons"]
    assert len(trains) == n
    ids, times = ds.spike_neuron.values, ds.spike_time.values
    for i, t in enumerate(trains):
        np.testing.assert_array_equal(t.magnitude, np.sort(times[ids == i]))
        if len(t) > 2 and np.all(np.diff(t.magnitude) > 0):
            np.testing.assert_allclose(es.cv(es.isi(t).magnitude), cv(t.magnitude).values[0],
                                       rtol=1e-9, atol=1e-12)
    json.dumps(block.annotations)  # provenance stays JSON
    if "V" in ds:
        np.testing.assert_array_equal(block.segments[0].analogsignals[0].magnitude,
                                      ds.V.values)
    back = from_neo(block)
    np.testing.assert_array_equal(back.spike_time.values, ds.spike_time.values)
    np.testing.assert_array_equal(back.spike_neuron.values, ds.spike_neuron.values)


@given(JUNK, JUNK, JUNK)
def test_generated_bad_arguments_get_named_errors(ds_like, variables, groups):
    with pytest.raises(ArgumentTypeError, match=r"to_neo\(ds\)"):
        to_neo(ds_like)
    good = spike_result(np.array([1.0]), np.array([0]), 1, 2.0, 0.5, None, {})
    try:
        to_neo(good, variables=variables, groups=groups)
    except (ArgumentTypeError, InvalidArgumentError) as e:
        assert "to_neo(" in str(e)
    with pytest.raises(ArgumentTypeError, match="from_neo"):
        from_neo(ds_like)
