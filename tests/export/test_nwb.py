"""NWB export: real runs written with pynwb, validated by pynwb's validator, read back with
``NWBHDF5IO`` and compared with the Dataset.

References and tolerances:

* the schema: ``pynwb.validate(path=...)`` must return no error;
* traces: the file's data must be **bit-equal** to the Dataset's float64 values (the
  exporter stores them unconverted, with ``conversion`` to SI);
* spike times: NWB stores seconds, so the file must hold exactly ``spike_time / 1000``
  (computed here independently, bit-equal); :func:`load_nwb` multiplies by 1000 again,
  which is within 1 ulp of the original ms (checked with ``assert_array_max_ulp``);
* sample times: ``starting_time + k / rate`` vs our ``time`` coordinate, 1e-12 s (rounding
  of the product; a wrong period would be off by >= 1e-4 s).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime

import numpy as np
import pytest
import quantities as pq
import xarray as xr
from _export_helpers import no_part_files, plastic_result
from _interop_runs import lif_run, network_run
from hypothesis import HealthCheck, given, settings
from test_neo import JUNK, spike_results

from neurosim_nb import HodgkinHuxleyNeuron, LIFNeuron
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError
from neurosim_nb.export._atomic import ExportError
from neurosim_nb.export._interop import spike_result
from neurosim_nb.export.nwb import EPOCH, load_nwb, nwb_unit, save_nwb, to_nwbfile

pynwb = pytest.importorskip("pynwb")
# hdmf warns that pynwb's validator ignores some namespaces of extensions we do not use
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:hdmf")


@pytest.fixture(scope="module")
def lif():
    return lif_run()


@pytest.fixture(scope="module")
def network():
    return network_run()


@pytest.fixture(scope="module")
def files(lif, network, tmp_path_factory):
    folder = tmp_path_factory.mktemp("nwb")
    return {"lif": save_nwb(lif, folder / "lif.nwb"),
            "network": save_nwb(network, folder / "network")}


def read(path):
    io = pynwb.NWBHDF5IO(str(path), "r")
    return io, io.read()


@pytest.mark.parametrize("kind", ["lif", "network"])
def test_files_validate(kind, files):
    assert files[kind].suffix == ".nwb"
    assert pynwb.validate(path=str(files[kind])) == []


@pytest.mark.parametrize("kind", ["lif", "network"])
def test_units_table_holds_the_spikes(kind, files, request):
    ds = request.getfixturevalue(kind)
    io, f = read(files[kind])
    with io:
        n = ds.attrs["n_neurons"]
        assert len(f.units) == n
        np.testing.assert_array_equal(f.units.id[:], np.arange(n))
        pops = f.units["population"][:]
        total = 0
        for i in range(n):
            mine = ds.spike_time.values[ds.spike_neuron.values == i]
            theirs = np.asarray(f.units["spike_times"][i])
            assert theirs.dtype == np.float64
            np.testing.assert_array_equal(theirs, mine / 1000.0)  # seconds, bit-equal
            total += theirs.size
            np.testing.assert_array_equal(f.units["obs_intervals"][i],
                                          [[0.0, ds.attrs["duration"] / 1000.0]])
        assert total == ds.sizes["spike"] > 0
        if kind == "network":
            assert list(pops[:40]) == ["exc"] * 40 and list(pops[40:]) == ["inh"] * 10
        assert set(f.units["model"][:]) == {"LIFNeuron"}


@pytest.mark.parametrize("kind", ["lif", "network"])
def test_traces_read_back_bit_equal(kind, files, request):
    ds = request.getfixturevalue(kind)
    io, f = read(files[kind])
    with io:
        names = [k for k, v in ds.data_vars.items() if v.dims[0] == "time"]
        assert sorted(f.acquisition) == sorted(names)
        for name in names:
            series = f.acquisition[name]
            data = series.data[:]
            assert data.dtype == np.float64
            np.testing.assert_array_equal(data, ds[name].values)
            t = series.get_timestamps()
            np.testing.assert_allclose(t, ds.time.values / 1000.0, rtol=0, atol=1e-12)
            record = json.loads(series.comments)
            assert record["dims"] == ["time", "neuron"]
            assert record["channels"]["neuron"] == ds.neuron.values.tolist()
        v = f.acquisition["V"]
        assert v.unit == "volts" and v.description == "membrane potential"
        # conversion to SI checked against quantities
        np.testing.assert_allclose(v.data[:5] * v.conversion,
                                   (ds.V.values[:5] * pq.mV).rescale(pq.V).magnitude,
                                   rtol=1e-15)
        assert v.rate == pytest.approx(1000.0 / (ds.attrs["dt"] * ds.attrs["sample_every"]),
                                       rel=1e-12)


def test_provenance(network, files):
    io, f = read(files["network"])
    with io:
        assert f.session_description == network.attrs["title"]
        assert f.session_start_time == EPOCH
        model = json.loads(f.notes)
        assert model == {"params": json.loads(network.attrs["params_json"]),
                         "stimuli": json.loads(network.attrs["stimuli_json"])}
        assert [p["name"] for p in model["params"]["populations"]] == ["exc", "inh"]
        attrs = json.loads(f.scratch["neurosim_nb_attrs"].data)
        assert attrs == {k: (v.item() if isinstance(v, np.generic) else v)
                         for k, v in network.attrs.items()}
        assert f"seed {network.attrs['seed']}" in f.experiment_description


def test_identifier_and_start_time(lif, tmp_path):
    a, b = to_nwbfile(lif, variables=[]), to_nwbfile(lif, variables=[])
    assert a.identifier != b.identifier
    stamped = lif.assign_attrs(timestamp="2025-03-04T05:06:07+00:00")
    assert to_nwbfile(stamped, variables=[]).session_start_time == datetime(
        2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    when = datetime(2024, 1, 2, tzinfo=UTC)
    path = save_nwb(lif, tmp_path / "x.nwb", session_start_time=when, identifier="run-1",
                    variables=["V"])
    io, f = read(path)
    with io:
        assert f.identifier == "run-1" and f.session_start_time == when
        assert list(f.acquisition) == ["V"]


def test_hh_gates_spikes_only_traces_only(tmp_path):
    hh = HodgkinHuxleyNeuron(n=2).simulate(20.0, 10.0, seed=0, record=("V", "m", "I_ext"),
                                           dt=0.01)
    silent = LIFNeuron.create_excitatory().simulate(50.0, 0.0, seed=0, record=())
    traces = hh.drop_vars(["spike_time", "spike_neuron"])
    for name, ds in {"hh": hh, "silent": silent, "traces": traces}.items():
        path = save_nwb(ds, tmp_path / name)
        assert pynwb.validate(path=str(path)) == [], name
    io, f = read(tmp_path / "hh.nwb")
    with io:
        assert f.acquisition["m"].unit == "dimensionless"
        assert f.acquisition["I_ext"].unit == "amperes"
        assert f.acquisition["I_ext"].conversion == 1e-9
        np.testing.assert_array_equal(f.acquisition["m"].data[:], hh.m.values)
    io, f = read(tmp_path / "silent.nwb")
    with io:
        assert len(f.units) == 1 and len(f.units["spike_times"][0]) == 0
    io, f = read(tmp_path / "traces.nwb")
    with io:
        assert f.units is None and "V" in f.acquisition


@pytest.fixture(scope="module")
def plastic():
    return plastic_result()


@pytest.mark.parametrize("kind", ["lif", "network", "plastic"])
def test_load_nwb_round_trip(kind, request, tmp_path):
    """Everything comes back identical except the two recomputed float arrays: spike times
    (s -> ms, 1 ulp) and the sample times (starting_time + k / rate, 1e-9 ms)."""
    ds = request.getfixturevalue(kind)
    path = save_nwb(ds, tmp_path / kind)
    assert pynwb.validate(path=str(path)) == []
    back = load_nwb(path)
    np.testing.assert_array_max_ulp(back.spike_time.values, ds.spike_time.values, maxulp=1)
    fixed = back.assign(spike_time=back.spike_time.copy(data=ds.spike_time.values))
    for dim in [d for d in ("time", "weight_time") if d in ds.dims]:
        np.testing.assert_allclose(back[dim].values, ds[dim].values, rtol=0, atol=1e-9)
        fixed = fixed.assign_coords({dim: (dim, ds[dim].values, back[dim].attrs)})
    xr.testing.assert_identical(fixed, ds)
    assert fixed.population.dtype == ds.population.dtype


def test_weights_are_a_series(plastic, tmp_path):
    io, f = read(save_nwb(plastic, tmp_path / "w.nwb"))
    with io:
        w = f.acquisition["weight"]
        assert w.unit == "siemens" and w.conversion == 1e-6 and w.rate == pytest.approx(100.0)
        np.testing.assert_array_equal(w.data[:], plastic.weight.values)
        assert json.loads(w.comments)["channels"]["pre"] == plastic.pre.values.tolist()


def test_accessor(lif, tmp_path):
    path = lif.neuro.to_nwb(tmp_path / "acc", variables=["V"])
    assert path == tmp_path / "acc.nwb" and pynwb.validate(path=str(path)) == []


def test_failed_write_leaves_old_file_intact(lif, tmp_path, monkeypatch):
    path = save_nwb(lif, tmp_path / "run.nwb", variables=[])
    before = path.read_bytes()
    real_write = pynwb.NWBHDF5IO.write

    def full_disk(self, *args, **kwargs):
        real_write(self, *args, **kwargs)  # the temporary file is complete ...
        raise OSError(28, "No space left on device")  # ... then the disk fills up

    monkeypatch.setattr(pynwb.NWBHDF5IO, "write", full_disk)
    with pytest.raises(ExportError, match="No space left on device"):
        save_nwb(lif, path)
    assert path.read_bytes() == before
    assert no_part_files(tmp_path)


def test_write_errors(lif, tmp_path):
    with pytest.raises(ExportError, match="does not exist"):
        save_nwb(lif, tmp_path / "no" / "such" / "run.nwb")
    os.mkdir(tmp_path / "adir.nwb")
    with pytest.raises(ExportError, match="is a folder"):
        save_nwb(lif, tmp_path / "adir.nwb")
    with pytest.raises(ArgumentTypeError, match="path"):
        save_nwb(lif, 3.5)


@pytest.mark.parametrize("bad, error, match", [
    (np.zeros(3), ArgumentTypeError, "must be an xarray.Dataset"),
    (xr.Dataset(), InvalidArgumentError, "neither spikes"),
    (xr.Dataset({"spike_neuron": ("spike", [1])}), InvalidArgumentError, "only one of"),
])
def test_bad_datasets_are_refused(bad, error, match, tmp_path):
    with pytest.raises(error, match=match):
        save_nwb(bad, tmp_path / "x.nwb")
    assert not list(tmp_path.iterdir())


def test_bad_arguments_are_refused(lif, tmp_path):
    with pytest.raises(InvalidArgumentError, match="time zone"):
        save_nwb(lif, tmp_path / "x.nwb", session_start_time=datetime(2024, 1, 1))
    with pytest.raises(ArgumentTypeError, match="session_start_time"):
        save_nwb(lif, tmp_path / "x.nwb", session_start_time="2024-01-01")
    with pytest.raises(ArgumentTypeError, match="identifier"):
        save_nwb(lif, tmp_path / "x.nwb", identifier="")
    with pytest.raises(InvalidArgumentError, match="'W' is not a trace"):
        save_nwb(lif, tmp_path / "x.nwb", variables=["W"])
    assert not list(tmp_path.iterdir())


def test_load_refuses_foreign_and_corrupt_files(tmp_path, lif):
    with pytest.raises(ExportError, match="no such file"):
        load_nwb(tmp_path / "missing.nwb")
    junk = tmp_path / "junk.nwb"
    junk.write_bytes(b"\x89HDF\r\n\x1a\n" + os.urandom(200))
    with pytest.raises(ExportError, match="cannot read"):
        load_nwb(junk)
    foreign = tmp_path / "foreign.nwb"
    f = pynwb.NWBFile(session_description="x", identifier="y", session_start_time=EPOCH)
    with pynwb.NWBHDF5IO(str(foreign), "w") as io:
        io.write(f)
    with pytest.raises(ExportError, match="not written by neurosim_nb"):
        load_nwb(foreign)
    good = save_nwb(lif, tmp_path / "good.nwb", variables=[])
    cut = tmp_path / "cut.nwb"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ExportError, match="cannot read"):
        load_nwb(cut)


@pytest.mark.parametrize("units, expected", [
    ("mV", ("volts", 1e-3)), ("nA", ("amperes", 1e-9)), ("uS", ("siemens", 1e-6)),
    ("1", ("dimensionless", 1.0)), ("uA/cm2", ("uA/cm2", 1.0))])
def test_unit_table(units, expected):
    unit, factor = nwb_unit(units)
    assert (unit, factor) == expected
    if units in ("mV", "nA", "uS"):  # the factor agrees with quantities
        si = {"volts": pq.V, "amperes": pq.A, "siemens": pq.S}[unit]
        assert float(pq.Quantity(1.0, units).rescale(si)) == pytest.approx(factor, rel=1e-15)


def test_missing_pynwb_says_how_to_install(lif, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynwb", None)
    with pytest.raises(ImportError, match=r'pip install "neurosim_nb\[interop\]"'):
        save_nwb(lif, tmp_path / "x.nwb")
    assert not list(tmp_path.iterdir())


# --- generated inputs (hypothesis; strategies shared with test_neo) ----------------------
LIF_SMALL = spike_result(np.array([1.0]), np.array([0]), 1, 2.0, 0.5, None, {})
# (hypothesis settings: the suite's profile, root conftest.py)


@given(spike_results())
def test_generated_results_to_nwbfile(ds):
    f = to_nwbfile(ds, identifier="fuzz")
    n = ds.attrs["n_neurons"]
    assert len(f.units) == n
    ids, times = ds.spike_neuron.values, ds.spike_time.values
    for i in range(n):
        np.testing.assert_array_equal(f.units["spike_times"][i], np.sort(times[ids == i]) / 1000)
    assert json.loads(f.scratch["neurosim_nb_attrs"].data)["n_neurons"] == n
    if "V" in ds:
        np.testing.assert_array_equal(f.acquisition["V"].data, ds.V.values)


# a thirtieth of the profile's examples: each writes and reads an HDF5 file (~30 ms); the
# tmp_path folder is shared by the examples on purpose (each overwrites the same file)
@settings(max_examples=max(settings().max_examples // 30, 10),
          suppress_health_check=[*settings().suppress_health_check,
                                 HealthCheck.function_scoped_fixture])
@given(ds=spike_results())
def test_generated_results_nwb_file_round_trip(ds, tmp_path):
    back = load_nwb(save_nwb(ds, tmp_path / "fuzz.nwb"))
    np.testing.assert_array_max_ulp(back.spike_time.values, ds.spike_time.values, maxulp=1)
    np.testing.assert_array_equal(back.spike_neuron.values, ds.spike_neuron.values)
    if "V" in ds:
        np.testing.assert_array_equal(back.V.values, ds.V.values)
    assert set(back.attrs) == set(ds.attrs)


@given(JUNK, JUNK, JUNK)
def test_generated_bad_arguments_get_named_errors(ds_like, variables, when):
    with pytest.raises(ArgumentTypeError, match=r"save_nwb\(ds\)"):
        to_nwbfile(ds_like)
    good = LIF_SMALL
    try:
        to_nwbfile(good, variables=variables, session_start_time=when)
    except (ArgumentTypeError, InvalidArgumentError) as e:
        assert "save_nwb(" in str(e)
