"""NPZ, JSON and CSV writers/readers: round trips, strict JSON, no pickles, clear failures.

NPZ and JSON are checked like NetCDF: ``xr.testing.assert_identical`` plus equal dtypes and
attr types. CSV keeps numbers only; floats are written with Python's shortest round-trip
``repr``, so spike times and traces are compared *exactly* (``assert_array_equal``).
"""

import csv
import json
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from _export_helpers import assert_lossless, no_part_files, result_datasets

from neurosim_nb.export import formats
from neurosim_nb.export._atomic import ExportError
from neurosim_nb.export.formats import (
    dataset_from_dict,
    dataset_to_dict,
    load_csv_spikes,
    load_csv_trace,
    load_json,
    load_npz,
    save_csv,
    save_json,
    save_npz,
)

KINDS = ["single", "network", "plastic", "transfer", "bursts", "silent", "synthetic"]


def synthetic():
    """Dtypes and attr types of every kind, NaN/inf and empty arrays included."""
    return xr.Dataset(
        {"obj": (("row", "col"), np.array([["a", "bé"], ["", "ccc"]], dtype=object),
                 {"long_name": "object strings", "units": "1"}),
         "fixed": ("row", np.array(["x", "y"], dtype="<U7")),
         "empty_obj": ("spike", np.array([], dtype=object)),
         "empty_2d": (("spike", "col"), np.zeros((0, 2))),
         "flag": ("row", np.array([True, False])),
         "i32": ("row", np.array([-1, 2**31 - 1], dtype=np.int32)),
         "i64": ("row", np.array([-(2**62), 2**62], dtype=np.int64)),
         "u8": ("row", np.array([0, 255], dtype=np.uint8)),
         "f32": ("col", np.array([np.nan, 0.1], dtype=np.float32)),
         "f64": ("col", [-np.inf, 1e-300], {"units": "seconds", "one": np.array([2.5]),
                                              "scalar": np.float32(0.5)})},
        coords={"current": ("current", [0.0, np.nan, np.inf], {"units": "nA"}),
                "label": ("current", np.array(["a", "b", "c"], dtype=object)),
                "row": ("row", np.array(["r0", "r1"], dtype=object))},
        attrs={"str": "héllo", "NaN": "NaN", "empty": "", "int": 3, "big": 2**40,
               "float": 0.1, "nan": float("nan"), "inf": float("-inf"), "np_i32": np.int32(-3),
               "np_i64": np.int64(7), "np_f32": np.float32(2.5), "np_nan": np.float64("nan"),
               "arr": np.array([1.0, np.nan]), "arr1": np.array([4]), "arr0": np.array(5.0),
               "arr2d": np.arange(6).reshape(2, 3), "arr_empty": np.zeros(0),
               "arr_str": np.array(["a", "bc"]), "flag": True})


@pytest.fixture(scope="module")
def datasets():
    return result_datasets(synthetic())


def strict_loads(text: str):
    def reject(token):
        raise ValueError(f"non-standard JSON token {token}")
    return json.loads(text, parse_constant=reject)


# ----------------------------------------------------------------------------------- NPZ

@pytest.mark.parametrize("kind", KINDS)
def test_npz_round_trip_is_lossless(datasets, kind, tmp_path):
    assert_lossless(load_npz(save_npz(datasets[kind], tmp_path / "r.npz")), datasets[kind])


def test_npz_holds_no_pickles(datasets, tmp_path):
    path = save_npz(datasets["synthetic"], tmp_path / "s")
    assert path.name == "s.npz"
    with np.load(path, allow_pickle=False) as npz:  # every entry loads without pickle
        dtypes = {key: npz[key].dtype for key in npz.files}
    assert not any(dt.kind == "O" for dt in dtypes.values())
    assert dtypes["__neurosim_nb__"].kind == "U"


def test_npz_with_an_object_array_is_refused(datasets, tmp_path):
    good = save_npz(datasets["single"], tmp_path / "good.npz")
    with np.load(good, allow_pickle=False) as npz:
        entries = {key: npz[key] for key in npz.files}
    meta = json.loads(str(entries["__neurosim_nb__"]))
    key = meta["coords"]["population"]["data"]
    entries[key] = entries[key].astype(object)  # sneak in a pickled object array
    sneaky = tmp_path / "sneaky.npz"
    np.savez(sneaky, **entries)  # np.savez pickles object arrays
    with pytest.raises(ExportError, match="pickled"):
        load_npz(sneaky)


@pytest.mark.parametrize("damage", ["missing", "truncated", "text", "foreign", "npy",
                                    "bad_meta"])
def test_npz_bad_files(datasets, tmp_path, damage):
    path = save_npz(datasets["network"], tmp_path / "r.npz")
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif damage == "text":
        path.write_text("hello")
    elif damage == "foreign":
        with open(path, "wb") as f:
            np.savez(f, x=np.arange(3))
    elif damage == "npy":
        with open(path, "wb") as f:
            np.save(f, np.arange(3))
    else:
        with open(path, "wb") as f:
            np.savez(f, __neurosim_nb__=np.array("{not json"))
    with pytest.raises(ExportError) as info:
        load_npz(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_npz_corrupt_member(datasets, tmp_path):
    """A flipped byte inside a compressed entry (zip CRC / zlib error) is an ExportError."""
    path = save_npz(datasets["network"], tmp_path / "r.npz")
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("v0.npy")  # V, the biggest entry
    data = bytearray(path.read_bytes())
    middle = info.header_offset + 100 + info.compress_size // 2
    data[middle] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ExportError, match="corrupt|not a valid"):
        load_npz(path)


# ---------------------------------------------------------------------------------- JSON

@pytest.mark.parametrize("kind", KINDS)
def test_json_round_trip_is_lossless_and_strict(datasets, kind, tmp_path):
    path = save_json(datasets[kind], tmp_path / "r.json")
    strict_loads(path.read_text(encoding="utf-8"))  # a browser's JSON.parse accepts it
    assert_lossless(load_json(path), datasets[kind])


def test_json_non_finite_values_are_strings(tmp_path):
    ds = xr.Dataset({"r": (("a", "b"), [[np.nan, np.inf], [-np.inf, 1.5]])},
                    attrs={"gap": float("nan"), "label": "NaN"})
    d = strict_loads(save_json(ds, tmp_path / "n.json").read_text())
    assert d["data_vars"]["r"]["data"] == [["NaN", "Infinity"], ["-Infinity", 1.5]]
    assert d["attrs"] == {"gap": "NaN", "label": "NaN"}
    assert d["attr_types"] == {"gap": "float"}  # tells the float NaN from the string
    back = load_json(tmp_path / "n.json")
    assert_lossless(back, ds)
    assert back.attrs["label"] == "NaN" and np.isnan(back.attrs["gap"])


def test_dataset_dict_round_trip_and_errors(datasets):
    d = dataset_to_dict(datasets["plastic"])
    assert d["format"] == "neurosim_nb.dataset" and d["dims"]["synapse"] == 32
    assert d["coords"]["population"]["dtype"] == "object"
    json.dumps(d, allow_nan=False)
    assert_lossless(dataset_from_dict(json.loads(json.dumps(d))), datasets["plastic"])
    with pytest.raises(TypeError, match="complex"):
        dataset_to_dict(xr.Dataset({"z": ("x", [1j])}))
    with pytest.raises(TypeError, match="attr 'cfg'"):
        dataset_to_dict(xr.Dataset(attrs={"cfg": {"a": 1}}))
    with pytest.raises(ValueError, match="not a neurosim_nb"):
        dataset_from_dict({"data_vars": {}})
    d["data_vars"]["V"]["shape"] = [3, 3]
    with pytest.raises(ValueError, match="invalid neurosim_nb Dataset description"):
        dataset_from_dict(d)


@pytest.mark.parametrize("content", ["", "{\"format\": \"neurosim_nb.dataset\", ",
                                     "[1, 2, 3]", "{\"a\": NaN}", "\udcff"])
def test_json_bad_files(datasets, tmp_path, content):
    path = tmp_path / "bad.json"
    if content == "\udcff":
        path.write_bytes(b"\xff\xfe not utf-8")
    else:
        path.write_text(content)
    with pytest.raises(ExportError) as info:
        load_json(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    full = save_json(datasets["single"], tmp_path / "full.json").read_text()
    path.write_text(full[: len(full) // 2])  # truncated
    with pytest.raises(ExportError, match="invalid or truncated JSON"):
        load_json(path)
    with pytest.raises(ExportError, match="no such file"):
        load_json(tmp_path / "missing.json")


# ----------------------------------------------------------------------------------- CSV

def expected_spike_columns(ds):
    ids = ds.spike_neuron.values
    pos = ds.indexes["neuron"].get_indexer(ids)
    return {name: ds[name].values[pos] for name in ("population", "layer") if name in ds.coords}


@pytest.mark.parametrize("kind", ["single", "network", "plastic", "silent"])
def test_csv_spikes_round_trip(datasets, kind, tmp_path):
    ds = datasets[kind]
    paths = save_csv(ds, tmp_path / "run", voltages=None)
    assert paths == [tmp_path / "run.csv"]
    back = load_csv_spikes(paths[0])
    np.testing.assert_array_equal(back.spike_time.values, ds.spike_time.values)  # exact
    np.testing.assert_array_equal(back.spike_neuron.values, ds.spike_neuron.values)
    assert back.spike_time.dtype == np.float64 and back.spike_neuron.dtype == np.int64
    for name, values in expected_spike_columns(ds).items():
        np.testing.assert_array_equal(back[name].values, values)
        assert back[name].dims == ("spike",)


def test_csv_spike_header(datasets, tmp_path):
    (path,) = save_csv(datasets["network"], tmp_path / "net.csv", voltages=None)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][0].startswith("# neurosim_nb.csv v1 rows=")  # the marker line
    assert rows[1] == ["time_ms", "neuron_id", "population", "layer"]
    assert len(rows) == datasets["network"].sizes["spike"] + 2


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_csv_traces_round_trip(datasets, layout, tmp_path):
    ds = datasets["plastic"].copy()
    ds["g"] = (ds.V * 0.0 + np.where(ds.neuron == 3, np.nan, 0.25)).assign_attrs(
        units="uS", long_name="conductance")  # a second state variable, with NaN
    paths = save_csv(ds, tmp_path / "run.csv", voltages=layout)
    assert [p.name for p in paths] == ["run.csv", "run_V.csv", "run_g.csv"]  # not weight
    for name, p in zip(["V", "g"], paths[1:], strict=True):
        trace = load_csv_trace(p, name=name)
        assert trace.name == name and trace.dims == ("time", "neuron")
        np.testing.assert_array_equal(trace.values, ds[name].values)  # exact, NaN included
        np.testing.assert_array_equal(trace.time.values, ds.time.values)
        np.testing.assert_array_equal(trace.neuron.values, ds.neuron.values)
    header = paths[1].read_text().splitlines()[1]  # after the marker line
    assert header == ("time_ms," + ",".join(map(str, range(12))) if layout == "wide"
                      else "time_ms,neuron_id,value")


def test_csv_needs_a_spike_list(datasets, tmp_path):
    with pytest.raises(ValueError, match="spike list"):
        save_csv(datasets["transfer"], tmp_path / "t.csv")
    with pytest.raises(ValueError, match="voltages"):
        save_csv(datasets["single"], tmp_path / "t.csv", voltages="tall")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("content, reader, match", [
    ("t,neuron\n1.0,2\n", load_csv_spikes, "not a neurosim_nb spike CSV"),
    ("time_ms,neuron_id\n1.0,2\n3.5", load_csv_spikes, "line 3 has 1 fields"),
    ("time_ms,neuron_id\n1.0,two\n", load_csv_spikes, "not a number"),
    ("", load_csv_spikes, "empty file"),
    ("time_ms,neuron_id,population,colour\n", load_csv_spikes, "spike CSV"),
    ("time_ms,a,b\n0.1,1,2\n", load_csv_trace, "not a neurosim_nb trace CSV"),
    ("time_ms,0,1\n0.1,1,2\n0.2,1\n", load_csv_trace, "line 3"),
    ("time_ms,0,1\n0.1,1,x\n", load_csv_trace, "not a number"),
    ("time_ms,neuron_id,value\n0.1,0,oops\n", load_csv_trace, "not a number"),
])
def test_csv_bad_files(tmp_path, content, reader, match):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ExportError, match=match) as info:
        reader(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ExportError, match="UTF-8"):
        reader(path)
    with pytest.raises(ExportError, match="no such file"):
        reader(tmp_path / "missing.csv")


def test_csv_truncated_mid_line(datasets, tmp_path):
    (path,) = save_csv(datasets["network"], tmp_path / "s.csv", voltages=None)
    text = path.read_text()
    cut = text.index(",", len(text) // 2) + 1  # inside a row, after its first field
    path.write_text(text[:cut])
    with pytest.raises(ExportError, match="fields|not a number|SHA-256"):
        load_csv_spikes(path)


# ------------------------------------------------------------------------ atomic writes

WRITERS = {"npz": (save_npz, "r.npz"), "json": (save_json, "r.json"),
           "csv": (save_csv, "r.csv")}


@pytest.mark.parametrize("fmt", list(WRITERS))
@pytest.mark.parametrize("where", ["missing_folder", "folder_as_path", "read_only"])
def test_unwritable_path_raises_and_leaves_nothing(datasets, tmp_path, fmt, where):
    save, name = WRITERS[fmt]
    if where == "missing_folder":
        target = tmp_path / "nope" / name
    elif where == "folder_as_path":
        target = tmp_path / name
        target.mkdir()
    else:
        if os.geteuid() == 0:  # root ignores folder permissions: use a read-only fs
            target = Path("/proc") / name
        else:
            target = tmp_path / "ro" / name
            target.parent.mkdir()
            target.parent.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(ExportError, match="cannot write"):
            save(datasets["single"], target)
    finally:
        if where == "read_only" and os.geteuid() != 0:
            target.parent.chmod(stat.S_IRWXU)
    assert not target.is_file() and no_part_files(tmp_path)
    if target.parent.is_dir():
        assert no_part_files(target.parent) and not list(target.parent.glob("*_V.csv"))


def test_csv_trace_folder_blocked_writes_nothing(datasets, tmp_path):
    """All CSV targets are checked first: a blocked trace file stops the spike file too."""
    (tmp_path / "run_V.csv").mkdir()
    with pytest.raises(ExportError, match="it is a folder"):
        save_csv(datasets["single"], tmp_path / "run.csv")
    assert sorted(os.listdir(tmp_path)) == ["run_V.csv"]


def test_failing_writers_leave_existing_files_untouched(datasets, tmp_path, monkeypatch):
    ds, other = datasets["single"], datasets["network"]
    targets = [save_npz(ds, tmp_path / "r.npz"), save_json(ds, tmp_path / "r.json"),
               *save_csv(ds, tmp_path / "r.csv")]
    before = {p: p.read_bytes() for p in targets}

    def failing_savez(file, **arrays):
        file.write(b"PK\x03\x04 partial")
        raise RuntimeError("disk on fire")

    def failing_write_text(tmp, target, text):
        tmp.write_text(text[:10])
        raise OSError(28, "No space left on device")

    class FailingWriter:
        def __init__(self, f, **kw):
            self.f = f

        def writerow(self, row):
            self.f.write("time_ms,partial\n")

        def writerows(self, rows):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", failing_savez)
    monkeypatch.setattr(formats, "_write_text", failing_write_text)
    monkeypatch.setattr(csv, "writer", FailingWriter)
    with pytest.raises(ExportError, match="cannot write .*r.npz: disk on fire"):
        save_npz(other, tmp_path / "r.npz")
    with pytest.raises(OSError, match="No space"):
        save_json(other, tmp_path / "r.json")
    with pytest.raises(ExportError, match="cannot write"):
        save_csv(other, tmp_path / "r.csv")
    assert {p: p.read_bytes() for p in targets} == before
    assert no_part_files(tmp_path)
