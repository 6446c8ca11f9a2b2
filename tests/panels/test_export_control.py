"""ExportControl: the bytes behind the download link load back as the panel's result."""

from __future__ import annotations

import base64
import io
import zipfile

import numpy as np
import pytest
import xarray as xr

from neurosim_nb import LIFNeuron
from neurosim_nb.export import load_json, load_oni, load_simulation
from neurosim_nb.panels.export_control import ExportControl, export_bytes
from neurosim_nb.panels.network_explorer import NetworkSettings, run_network


@pytest.fixture(scope="module")
def oni_run():
    return run_network(NetworkSettings.for_network("ONI 14-layer", duration_ms=150.0))


def link_bytes(ctl: ExportControl) -> bytes:
    """Decode the data URL of the anchor actually placed in the page."""
    html = ctl.link.value
    href = html.split('href="', 1)[1].split('"', 1)[0]
    assert f'download="{ctl.filename}"' in html
    return base64.b64decode(href.split(",", 1)[1])


def test_netcdf_link_loads_back_identical(tmp_path, oni_run):
    ds, net = oni_run
    ctl = ExportControl()
    ctl.set_result(ds, network=net, basename="oni_run")
    assert ctl.formats == ["netcdf", "csv", "json", "oni"] and ctl.filename == "oni_run.nc"
    path = tmp_path / ctl.filename
    path.write_bytes(link_bytes(ctl))
    xr.testing.assert_identical(load_simulation(path), ds)


def test_csv_zip_json_and_oni(tmp_path, oni_run):
    ds, net = oni_run
    ctl = ExportControl(basename="run")
    ctl.set_result(ds, network=net)
    ctl.format = "csv"
    with zipfile.ZipFile(io.BytesIO(link_bytes(ctl))) as zf:
        assert sorted(zf.namelist()) == ["run.csv", "run_V.csv"]
        spikes = zf.read("run.csv").decode().splitlines()
        v_rows = zf.read("run_V.csv").decode().splitlines()
    assert spikes[0].startswith("# neurosim_nb.csv")   # the marker line (row count, SHA-256)
    spikes, v_rows = spikes[1:], v_rows[1:]
    assert spikes[0] == "time_ms,neuron_id,population,layer"
    assert len(spikes) - 1 == ds.sizes["spike"]
    first = spikes[1].split(",")
    assert float(first[0]) == ds.spike_time.values[0] and int(first[1]) == (
        ds.spike_neuron.values[0])
    assert v_rows[0].split(",")[1:] == [str(i) for i in ds.recorded_neuron.values]
    assert len(v_rows) - 1 == ds.sizes["time"]
    np.testing.assert_allclose([float(x) for x in v_rows[1].split(",")[1:]],
                               ds.V.isel(time=0).values)

    ctl.format = "json"
    (tmp_path / "run.json").write_bytes(link_bytes(ctl))
    xr.testing.assert_identical(load_json(tmp_path / "run.json"), ds)

    ctl.format = "oni"
    assert ctl.filename == "run.oni.json"
    (tmp_path / "run.oni.json").write_bytes(link_bytes(ctl))
    doc = load_oni(tmp_path / "run.oni.json")             # validates against the schema
    assert doc["type"] == "neurosim_export" and doc["simulation"]["n_neurons"] == 655
    assert doc["firing_statistics"]["total_spikes"] == ds.sizes["spike"]
    assert len(doc["connectivity"]["inter_layer_weights"]) == 14


def test_oni_only_for_layered_results():
    ds = LIFNeuron.create_excitatory().simulate(30.0, 0.5, seed=0)
    ctl = ExportControl()
    ctl.set_result(ds)
    assert "oni" not in ctl.formats
    with pytest.raises(ValueError, match="layered result"):
        export_bytes(ds, "oni")
    with pytest.raises(ValueError, match="unknown export format"):
        export_bytes(ds, "xlsx")
    with pytest.raises(ValueError, match="unknown export formats"):
        ExportControl(formats=("netcdf", "pdf"))


def test_size_limit_and_failures_are_messages(oni_run):
    ds, net = oni_run
    ctl = ExportControl(max_bytes=1000)
    ctl.set_result(ds, network=net, basename="big")
    assert ctl.href is None and "more than the 1.0 kB" in ctl.error
    assert "save_result(panel.result, 'big.nc')" in ctl.error and "big.nc" in ctl.link.value
    assert "<a " not in ctl.link.value
    broken = ds.assign_attrs(bad_attr={"a": 1})             # NetCDF cannot store a dict
    ctl = ExportControl()
    ctl.set_result(broken)
    assert ctl.href is None and "Export failed" in ctl.link.value
    assert "Traceback" not in ctl.link.value


def test_panel_export_follows_the_result(tmp_path):
    from neurosim_nb.panels.network_explorer import NetworkExplorer

    panel = NetworkExplorer("Balanced E/I", n_neurons=200, duration_ms=100.0,
                            background=False)
    first = link_bytes(panel.export)
    panel.controls["seed"].value = 4
    assert panel.export.filename == "balanced_ei_N200_seed4.nc"
    data = link_bytes(panel.export)
    assert data != first
    (tmp_path / "x.nc").write_bytes(data)
    xr.testing.assert_identical(load_simulation(tmp_path / "x.nc"), panel.result)
