"""save_simulation / load_simulation: lossless NetCDF round trips and clear failures.

"Lossless" is checked more strictly than ``xr.testing.assert_identical`` (which ignores
dtypes, e.g. object vs fixed-width strings, and attr types, e.g. ``int`` vs ``np.int64``):
:func:`assert_lossless` also compares every variable's dtype and every attr's type.
"""

import json
import os
import stat
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr
from _export_helpers import assert_lossless, no_part_files, result_datasets

from neurosim_nb.export._atomic import ExportError
from neurosim_nb.export.netcdf import load_simulation, save_simulation

KINDS = ["single", "network", "plastic", "transfer", "bursts", "silent", "synthetic"]


def synthetic():
    """Every dtype and attr type the package may hold, NaN/inf and empty arrays included."""
    return xr.Dataset(
        {"obj": (("row", "col"), np.array([["a", "bé"], ["", "ccc"]], dtype=object),
                 {"long_name": "object strings", "units": "1"}),
         "fixed": ("row", np.array(["x", "y"], dtype="<U7")),
         "empty_obj": ("spike", np.array([], dtype=object)),
         "empty_f": ("spike", np.zeros(0)),
         "flag": ("row", np.array([True, False])),
         "i32": ("row", np.array([-1, 2**31 - 1], dtype=np.int32)),
         "i64": ("row", np.array([-(2**62), 2**62], dtype=np.int64)),
         "u8": ("row", np.array([0, 255], dtype=np.uint8)),
         "f32": ("col", np.array([np.nan, np.inf], dtype=np.float32)),
         "f64": ("col", [-np.inf, 1e-300], {"units": "seconds", "one": np.array([2.5]),
                                              "scalar": np.float32(0.5)})},
        coords={"current": ("current", [0.0, np.nan, 2.5], {"units": "nA"}),
                "label": ("current", np.array(["a", "b", "c"], dtype=object)),
                "row": ("row", np.array(["r0", "r1"], dtype=object))},
        attrs={"str": "héllo", "empty": "", "int": 3, "big": 2**40, "float": 0.1,
               "nan": float("nan"), "inf": float("-inf"), "np_i32": np.int32(-3),
               "np_i64": np.int64(7), "np_f32": np.float32(2.5), "np_f64": np.float64(1.25),
               "arr": np.array([1.0, 2.0]), "arr1": np.array([4]), "arr0": np.array(5.0),
               "arr2d": np.arange(6).reshape(2, 3), "arr_empty": np.zeros(0),
               "arr_str": np.array(["a", "bc"]), "params_json": json.dumps({"a": [1, None]})})


@pytest.fixture(scope="module")
def datasets():
    return result_datasets(synthetic())


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_is_lossless(datasets, kind, lazy, tmp_path):
    ds = datasets[kind]
    with load_simulation(save_simulation(ds, tmp_path / "r.nc"), lazy=lazy) as back:
        assert_lossless(back, ds)


def test_suffix_added_and_path_returned(datasets, tmp_path):
    path = save_simulation(datasets["single"], tmp_path / "run")
    assert path == tmp_path / "run.nc" and path.is_file()
    assert save_simulation(datasets["single"], tmp_path / "run.v2").name == "run.v2"


def test_no_fill_value_added_and_nan_kept(datasets, tmp_path):
    path = save_simulation(datasets["synthetic"], tmp_path / "s.nc")
    with netCDF4.Dataset(path) as nc:
        for name in ("current", "f32", "f64", "empty_f"):
            assert "_FillValue" not in nc.variables[name].ncattrs(), name
    back = load_simulation(path)
    assert np.isnan(back.current.values[1]) and np.isnan(back.f32.values[0])
    assert np.isneginf(back.f64.values[0])


def test_compression_shrinks_a_large_voltage_file(datasets, tmp_path):
    # V: 2000 x 131 float64 = 2.1 MB. Shuffle + zlib level 4 stores it in about 56 % of the
    # raw size (float64 mantissas of a noisy trace hardly compress; exponents and the many
    # resting values do); 75 % leaves room for other zlib builds.
    ds = datasets["network"]
    raw = save_simulation(ds, tmp_path / "raw.nc", compression_level=0)
    packed = save_simulation(ds, tmp_path / "packed.nc", compression_level=4)
    assert packed.stat().st_size < 0.75 * raw.stat().st_size
    assert raw.stat().st_size > ds.V.nbytes  # level 0 really stores V uncompressed
    assert load_simulation(packed).V.encoding["zlib"] is True
    assert load_simulation(raw).V.encoding["zlib"] is False


def test_chunking_along_time_is_in_the_encoding(datasets, tmp_path):
    ds = datasets["plastic"]
    back = load_simulation(save_simulation(ds, tmp_path / "c.nc", chunk_time=100))
    assert back.V.encoding["chunksizes"] == (100, ds.sizes["neuron"])
    assert back.weight.encoding["chunksizes"] != (100, ds.sizes["synapse"])  # not along time


def test_lazy_load_reads_v_only_when_used(datasets, tmp_path):
    ds = datasets["network"]
    back = load_simulation(save_simulation(ds, tmp_path / "l.nc"), lazy=True)
    try:
        assert not isinstance(back.V.variable._data, np.ndarray)
        assert not back.V.variable._in_memory
        np.testing.assert_array_equal(back.V.isel(time=-1).values, ds.V.isel(time=-1).values)
        assert not back.V.variable._in_memory  # indexing read one row only
        np.testing.assert_array_equal(back.V.values, ds.V.values)
        assert back.V.variable._in_memory
    finally:
        back.close()


def test_reloaded_and_sliced_dataset_saves_again(datasets, tmp_path):
    """Encoding left over from the first file (chunks, fill values) must not interfere."""
    first = load_simulation(save_simulation(datasets["single"], tmp_path / "a.nc",
                                            chunk_time=500))
    part = first.isel(time=slice(0, 100))
    assert_lossless(load_simulation(save_simulation(part, tmp_path / "b.nc")), part)


def test_validation_applies_to_results_only(datasets, tmp_path):
    bad = datasets["single"].copy()
    bad["spike_time"] = bad.spike_time.assign_attrs(units="s")
    path = save_simulation(bad, tmp_path / "bad.nc")
    with pytest.raises(ExportError, match="not a valid neurosim_nb result.*units 'ms'"):
        load_simulation(path)
    assert_lossless(load_simulation(path, validate=False), bad)
    # an analysis Dataset has no spike list and is not checked
    assert_lossless(load_simulation(save_simulation(datasets["bursts"], tmp_path / "b.nc")),
                    datasets["bursts"])


@pytest.mark.parametrize("damage", ["missing", "truncated", "text", "empty", "folder"])
def test_unreadable_files_give_a_one_line_export_error(datasets, tmp_path, capfd, damage):
    path = save_simulation(datasets["network"], tmp_path / "r.nc")
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif damage == "text":
        path.write_text("time,V\n0.1,-70\n")
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.unlink()
        path.mkdir()
    for lazy in (False, True):
        with pytest.raises(ExportError) as info:
            load_simulation(path, lazy=lazy)
        assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert "HDF5" not in capfd.readouterr().err


def test_damaged_data_found_by_an_eager_load(datasets, tmp_path, capfd):
    """Zeroed bytes in the middle of the file (inside V's compressed chunks, which are the
    bulk of it): the header still opens, reading the data fails."""
    path = save_simulation(datasets["network"], tmp_path / "r.nc")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 2000] = bytes(2000)
    path.write_bytes(bytes(data))
    with pytest.raises(ExportError, match="corrupt NetCDF file"):
        load_simulation(path)
    assert "HDF5" not in capfd.readouterr().err


@pytest.mark.parametrize("where", ["missing_folder", "folder_as_path", "read_only"])
def test_unwritable_path_raises_and_leaves_nothing(datasets, tmp_path, where):
    if where == "missing_folder":
        target = tmp_path / "nope" / "r.nc"
    elif where == "folder_as_path":
        target = tmp_path / "dir.nc"
        target.mkdir()
    else:
        if os.geteuid() == 0:  # root ignores folder permissions: use a read-only fs
            target = Path("/proc") / "r.nc"
        else:
            target = tmp_path / "ro" / "r.nc"
            target.parent.mkdir()
            target.parent.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(ExportError, match="cannot write"):
            save_simulation(datasets["single"], target)
    finally:
        if where == "read_only" and os.geteuid() != 0:
            target.parent.chmod(stat.S_IRWXU)
    assert no_part_files(tmp_path) and not target.is_file()
    if target.parent.is_dir():
        assert no_part_files(target.parent)


@pytest.mark.parametrize("error", [RuntimeError("boom"), OSError(28, "No space left")])
def test_failing_writer_leaves_existing_file_untouched(datasets, tmp_path, monkeypatch, error):
    target = save_simulation(datasets["single"], tmp_path / "r.nc")
    before = target.read_bytes()

    def half_write(self, path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"\x89HDF\r\n\x1a\n partial")
        raise error

    monkeypatch.setattr(xr.Dataset, "to_netcdf", half_write)
    with pytest.raises(ExportError, match="cannot write .*r.nc"):  # HDF5's RuntimeError too
        save_simulation(datasets["network"], target)
    assert target.read_bytes() == before
    assert no_part_files(tmp_path)


def test_bad_arguments(datasets, tmp_path):
    ds = datasets["single"]
    with pytest.raises(ValueError, match="compression_level"):
        save_simulation(ds, tmp_path / "a.nc", compression_level=10)
    with pytest.raises(ValueError, match="chunk_time"):
        save_simulation(ds, tmp_path / "a.nc", chunk_time=0)
    with pytest.raises(TypeError, match="Dataset"):
        save_simulation(ds.V, tmp_path / "a.nc")
    with pytest.raises(TypeError):  # NetCDF has no bool attrs: store flags as 0/1
        save_simulation(ds.assign_attrs(flag=True), tmp_path / "a.nc")
    assert os.listdir(tmp_path) == []


def test_a_loaded_result_has_the_analysis_accessor_in_a_fresh_process(datasets, tmp_path):
    import subprocess
    import sys

    path = save_simulation(datasets["single"], tmp_path / "r.nc")
    code = ("from neurosim_nb.export import load_simulation; "
            f"ds = load_simulation({str(path)!r}); print(ds.neuro.cv().name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "cv"
