"""save_result / load_result: format dispatch by name or suffix, the ONI branch included."""

import json

import numpy as np
import pytest
import xarray as xr

from neurosim_nb import LayeredNetwork, LIFNeuron
from neurosim_nb.analysis import transfer_function
from neurosim_nb.export._atomic import ExportError
from neurosim_nb.export.io import FORMATS, SUFFIXES, format_from_path, load_result, save_result


@pytest.fixture(scope="module")
def network_run():
    net = LayeredNetwork.create_oni_model(neurons_per_layer=10)
    return net, net.simulate(200.0, seed=1)


@pytest.fixture(scope="module")
def single():
    return LIFNeuron.create_excitatory().simulate(100.0, 2.0, seed=0)


def test_formats_and_suffixes_agree():
    assert FORMATS == ("netcdf", "npz", "json", "csv", "oni")
    assert set(SUFFIXES) == set(FORMATS)
    for fmt, suffix in SUFFIXES.items():
        assert format_from_path(f"results/run{suffix}") == fmt


@pytest.mark.parametrize("name, fmt", [
    ("a.nc", "netcdf"), ("a.NC", "netcdf"), ("a.nc4", "netcdf"), ("dir.v1/a", "netcdf"),
    ("a", "netcdf"), ("a.npz", "npz"), ("a.json", "json"), ("a.Oni.JSON", "oni"),
    ("a.csv", "csv"),
])
def test_format_from_path(name, fmt):
    assert format_from_path(name) == fmt


def test_unknown_suffix_or_format_lists_the_choices(single, tmp_path):
    with pytest.raises(ValueError, match=r"\.xlsx.*\.nc.*format=.*netcdf, npz, json, csv, oni"):
        format_from_path("run.xlsx")
    with pytest.raises(ValueError, match="unknown format 'hdf5'; choose one of netcdf, npz"):
        save_result(single, tmp_path / "a.nc", "hdf5")
    with pytest.raises(ValueError, match="unknown format 'mat'"):
        load_result(tmp_path / "a.nc", "mat")
    with pytest.raises(ValueError, match="write-only"):
        load_result(tmp_path / "a.oni.json")


@pytest.mark.parametrize("fmt", ["netcdf", "npz", "json"])
@pytest.mark.parametrize("by", ["suffix", "argument"])
def test_lossless_formats_round_trip(network_run, tmp_path, fmt, by):
    ds = network_run[1]
    if by == "suffix":
        paths = save_result(ds, tmp_path / f"run{SUFFIXES[fmt]}")
        back = load_result(paths[0])
    else:  # no suffix: the format's suffix is added
        paths = save_result(ds, tmp_path / "run", fmt)
        assert paths == [tmp_path / f"run{SUFFIXES[fmt]}"]
        back = load_result(paths[0], fmt)
    xr.testing.assert_identical(back, ds)
    assert back.population.dtype == object


def test_analysis_dataset_round_trips(tmp_path):
    ds = transfer_function(LIFNeuron, [0.0, 2.5], duration_ms=200.0).to_dataset()
    for fmt in ("netcdf", "npz", "json"):
        (path,) = save_result(ds, tmp_path / "fI", fmt)
        xr.testing.assert_identical(load_result(path), ds)


def test_csv_dispatch(single, tmp_path):
    paths = save_result(single, tmp_path / "run.csv")
    assert [p.name for p in paths] == ["run.csv", "run_V.csv"]
    spikes = load_result(paths[0])
    np.testing.assert_array_equal(spikes.spike_time.values, single.spike_time.values)
    np.testing.assert_array_equal(spikes.spike_neuron.values, single.spike_neuron.values)


@pytest.mark.parametrize("fmt", ["netcdf", "npz", "json"])
def test_a_spike_list_read_from_csv_can_be_saved_and_read_again(single, tmp_path, fmt):
    # a CSV holds only the spike list (no duration, no dt): it is not a full result, and
    # loading it back from another format must return it as saved, not refuse it
    (csv, _) = save_result(single, tmp_path / "run.csv")
    spikes = load_result(csv)
    (path,) = save_result(spikes, tmp_path / f"again{SUFFIXES[fmt]}")
    xr.testing.assert_identical(load_result(path), spikes)


def test_no_suffix_means_netcdf(single, tmp_path):
    (path,) = save_result(single, tmp_path / "run")
    assert path.name == "run.nc"
    xr.testing.assert_identical(load_result(tmp_path / "run.nc"), single)


def test_loader_errors_pass_through(tmp_path):
    (tmp_path / "x.nc").write_text("not netcdf")
    with pytest.raises(ExportError, match="not a NetCDF file, or truncated"):
        load_result(tmp_path / "x.nc")
    with pytest.raises(ExportError, match="no such file"):
        load_result(tmp_path / "missing.npz")


def test_oni_export(network_run, tmp_path):
    pytest.importorskip("neurosim_nb.export.oni_export")
    net, ds = network_run
    paths = save_result(ds, tmp_path / "sim", "oni", network=net)
    assert paths == [tmp_path / "sim.oni.json"]
    doc = json.loads(paths[0].read_text())
    assert doc["type"] == "neurosim_export"
    assert set(doc["firing_statistics"]["layer_rates"]) == {str(k) for k in range(1, 15)}
    assert save_result(ds, tmp_path / "sim2.oni.json", network=net) == [tmp_path /
                                                                         "sim2.oni.json"]
