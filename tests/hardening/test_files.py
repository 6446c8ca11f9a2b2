"""Issue 20, files: each example of the issue about readers and writers, failing before the
hardening and passing after (truncated CSVs, hostile declared sizes, sets of files written
atomically, a full disk, a seed NetCDF cannot hold as a number).

Hostile files are built in ``tmp_path`` from code; the ones that would allocate gigabytes
on the unhardened code run in a subprocess under an address-space limit (``RLIMIT_AS``), so
a regression fails the test instead of the machine.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from neurosim_nb import LIFNeuron
from neurosim_nb.errors import NeurosimError, TooLargeError
from neurosim_nb.export import (
    ExportError,
    _atomic,
    formats,
    load_csv_spikes,
    load_csv_trace,
    load_json,
    load_npz,
    load_simulation,
    save_csv,
    save_json,
    save_npz,
    save_simulation,
)

#: address-space limit of the subprocesses that read hostile files: Python, NumPy, netCDF4
#: and HDF5 need well under 1.5 GB of address space; the hostile files declare >= 2 GB
LIMIT_BYTES = 3 * 2**30


@pytest.fixture(scope="module")
def run():
    """A small result with spikes and V (two neurons), made once."""
    ds = LIFNeuron.create_excitatory(n=2).simulate(30.0, 3.0, seed=0)
    assert ds.sizes["spike"] > 2
    return ds


def limited(code: str, limit: int = LIMIT_BYTES) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with its address space limited to ``limit``."""
    prelude = textwrap.dedent(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)],
                          capture_output=True, text=True, env=env, timeout=300)


# ------------------------------------------------------------------ 1. truncated CSV files

def test_spike_csv_truncated_inside_its_last_value_is_refused(tmp_path):
    # the example: the last row reads `48.7,2,excitat` (a file from before the
    # marker line, or from another tool: the final-newline check catches it)
    path = tmp_path / "spikes.csv"
    path.write_text("time_ms,neuron_id,population\n12.5,0,excitatory\n48.7,2,excitat")
    with pytest.raises(ExportError, match="no newline at the end.*truncated"):
        load_csv_spikes(path)
    path.write_text("time_ms,neuron_id,population\n12.5,0,excitatory\n48.7,2,excitatory\n")
    assert load_csv_spikes(path).population.values.tolist() == ["excitatory", "excitatory"]


def test_trace_csv_truncated_inside_its_last_value_is_refused(tmp_path):
    path = tmp_path / "run_V.csv"
    path.write_text("time_ms,0,1\n0.1,-65.0,-64.25\n0.2,-65.5,-6")
    with pytest.raises(ExportError, match="truncated"):
        load_csv_trace(path)


@pytest.mark.parametrize("which", [0, 1])
def test_written_csv_truncated_anywhere_is_refused(run, tmp_path, which):
    """A file with the marker line is refused when cut at any byte, a line end included
    (where the newline check alone cannot see it), and when one digit changes."""
    paths = save_csv(run, tmp_path / "run.csv")
    reader = (load_csv_spikes, load_csv_trace)[which]
    data = paths[which].read_bytes()
    first_line = data.index(b"\n") + 1
    line_ends = [i + 1 for i in range(first_line, len(data) - 1) if data[i] == ord("\n")]
    cuts = sorted({first_line, *line_ends[-3:], len(data) - 1, len(data) - 2,
                   (first_line + len(data)) // 2})
    for cut in cuts:
        paths[which].write_bytes(data[:cut])
        with pytest.raises(ExportError):
            reader(paths[which])
    digit = data.index(b"5", first_line + 20)
    paths[which].write_bytes(data[:digit] + b"6" + data[digit + 1:])  # still a valid CSV
    with pytest.raises(ExportError, match="SHA-256"):
        reader(paths[which])
    paths[which].write_bytes(data)
    reader(paths[which])  # the intact file reads


def test_csv_marker_is_a_comment_pandas_skips(run, tmp_path):
    pd = pytest.importorskip("pandas")
    spikes, trace = save_csv(run, tmp_path / "run.csv")
    table = pd.read_csv(spikes, comment="#")
    np.testing.assert_array_equal(table.time_ms.to_numpy(), run.spike_time.values)
    np.testing.assert_array_equal(table.neuron_id.to_numpy(), run.spike_neuron.values)
    wide = pd.read_csv(trace, comment="#")
    np.testing.assert_array_equal(wide[["0", "1"]].to_numpy(), run.V.values)


# ------------------------------------------------------------ 2. hostile declared sizes

def _npz_declaring(path: Path, n_samples: int) -> None:
    """A valid-looking NPZ whose ``v0`` entry's header declares ``n_samples`` float64
    values (the zip entry holds the header and 64 bytes)."""
    header = {"descr": "<f8", "fortran_order": False, "shape": (n_samples,)}
    buf = __import__("io").BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    meta = {"format": "neurosim_nb.npz", "version": 1, "attrs": {}, "dims": {"time": n_samples},
            "coords": {}, "data_vars": {"V": {"dims": ["time"], "dtype": "float64",
                                              "shape": [n_samples], "data": "v0", "attrs": {}}}}
    meta_buf = __import__("io").BytesIO()
    np.save(meta_buf, np.array(json.dumps(meta)))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("v0.npy", buf.getvalue() + bytes(64))
        zf.writestr("__neurosim_nb__.npy", meta_buf.getvalue())


def test_npz_declaring_10_12_samples_is_refused_before_allocation(tmp_path):
    path = tmp_path / "hostile.npz"
    _npz_declaring(path, 10**12)
    assert path.stat().st_size < 1024  # the 1 KiB file
    with pytest.raises(TooLargeError, match="would need 8.0 TB") as info:
        load_npz(path)
    assert isinstance(info.value, ExportError) and str(path) in str(info.value)
    # before: np.load allocates the 8 TB array (MemoryError); in a subprocess, peak RSS
    result = limited(f"""
        from neurosim_nb.export import load_npz, ExportError
        def _vm_hwm_kib():  # peak RSS of this process (ru_maxrss carries the parent's)
            with open("/proc/self/status") as f:
                return int(next(ln for ln in f if ln.startswith("VmHWM:")).split()[1])
        try:
            load_npz({str(path)!r})
        except ExportError as e:
            print("refused", _vm_hwm_kib())
    """)
    assert result.stdout.startswith("refused"), result.stderr[-2000:]
    assert int(result.stdout.split()[1]) < 400_000  # kB: the interpreter and its imports


def test_netcdf_declaring_a_2_31_sample_variable_is_refused(tmp_path):
    import netCDF4

    path = tmp_path / "hostile.nc"
    with netCDF4.Dataset(path, "w") as nc:  # chunks never written: HDF5 stores none of them
        nc.createDimension("sample", 2**31)
        nc.createVariable("V", "f8", ("sample",), chunksizes=(2**20,))
    assert path.stat().st_size <= 6 * 1024  # the 6 KiB file
    with pytest.raises(TooLargeError, match="17.2 GB but the file holds 6.1 kB"):
        load_simulation(path)
    # before: xarray loads 16 GiB of fill values; under a 3 GB address-space limit that is
    # a MemoryError, after it the typed refusal
    result = limited(f"""
        from neurosim_nb.export import load_simulation, ExportError
        try:
            load_simulation({str(path)!r})
        except ExportError as e:
            print("refused")
    """)
    assert result.stdout.strip() == "refused", result.stderr[-2000:]
    with load_simulation(path, lazy=True) as lazy:  # not an index coordinate: lazy opens it
        assert lazy.V.shape == (2**31,)


def test_netcdf_declaring_a_2_31_sample_index_is_refused_even_lazily(tmp_path):
    import netCDF4

    path = tmp_path / "hostile_index.nc"
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("time", 2**31)
        nc.createVariable("time", "f8", ("time",), chunksizes=(2**20,))
    with pytest.raises(TooLargeError, match="index coordinates"):
        load_simulation(path, lazy=True)


def test_json_declaring_a_500_million_character_string_is_refused(run, tmp_path):
    path = save_json(run, tmp_path / "run.json")
    doc = json.loads(path.read_text())
    del doc["sha256"]
    doc["coords"]["population"]["dtype"] = "<U500000000"
    path.write_text(json.dumps(doc))
    with pytest.raises(TooLargeError, match="would need 4.0 GB") as info:
        load_json(path)
    assert isinstance(info.value, ExportError)
    result = limited(f"""
        from neurosim_nb.export import load_json, ExportError
        try:
            load_json({str(path)!r})
        except ExportError as e:
            print("refused")
    """)
    assert result.stdout.strip() == "refused", result.stderr[-2000:]


@pytest.mark.parametrize("change, match", [
    (lambda d: d["data_vars"]["spike_neuron"].update(dtype="bool"), "holds values of type int"),
    (lambda d: d["data_vars"]["spike_neuron"].update(data=[True] * len(
        d["data_vars"]["spike_neuron"]["data"])), "holds values of type bool"),
    (lambda d: d["data_vars"]["spike_time"]["data"].__setitem__(0, "1.5"), "1.5"),
    (lambda d: d["data_vars"]["spike_neuron"]["data"].__setitem__(0, 2**70), "do not fit"),
    (lambda d: d["coords"]["population"].update(dtype="<U2"), "cut short"),
    (lambda d: d["data_vars"]["spike_time"].update(dtype="V8"), "cannot be stored"),
    (lambda d: d["data_vars"]["spike_time"].update(shape=[10**12]), "declared shape"),
])
def test_json_result_whose_data_disagree_with_its_declaration_is_refused(run, tmp_path,
                                                                         change, match):
    """Before: a bool dtype over ints, bools as ints, a numeric string, an int that
    overflows or strings longer than their dtype were converted silently (or crashed)."""
    path = save_json(run, tmp_path / "run.json")
    doc = json.loads(path.read_text())
    del doc["sha256"]  # a file edited or made by hand (with it, any change is refused)
    change(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(ExportError, match=match):
        load_json(path)


@pytest.mark.parametrize("text, match", [
    ('{"a": ' * 100_000, "nested too deeply"),
    ('{"format": "neurosim_nb.dataset", "version": ' + "7" * 5000 + "}", "JSON"),
    ('{"format": "neurosim_nb.dataset", "version": NaN}', "NaN is not valid JSON"),
])
def test_hostile_json_text_is_an_export_error(tmp_path, text, match):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ExportError, match=match):
        load_json(path)


# -------------------------------------------------------------- 3. writes as a set

def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_csv_export_whose_second_file_fails_leaves_both_previous_files(run, tmp_path,
                                                                      monkeypatch):
    save_csv(run, tmp_path / "run.csv")
    before = _snapshot(tmp_path)
    other = LIFNeuron.create_excitatory(n=2).simulate(30.0, 4.0, seed=1)

    def failing_trace_rows(ds, name, layout):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(formats, "_trace_rows", failing_trace_rows)
    with pytest.raises(ExportError, match=r"run_V\.csv.*No space left.*disk is full"):
        save_csv(other, tmp_path / "run.csv")
    assert _snapshot(tmp_path) == before  # the spike file too; no temporary left


def test_csv_export_whose_second_rename_fails_restores_the_first(run, tmp_path, monkeypatch):
    save_csv(run, tmp_path / "run.csv")
    before = _snapshot(tmp_path)
    other = LIFNeuron.create_excitatory(n=2).simulate(30.0, 4.0, seed=1)
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append(Path(dst).name)
        if Path(dst).name == "run_V.csv" and Path(src).suffix == ".part":
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(_atomic.os, "replace", replace)
    with pytest.raises(ExportError, match="Input/output error"):
        save_csv(other, tmp_path / "run.csv")
    assert calls[:2] == ["run.csv", "run_V.csv"]  # the first was renamed, then put back
    assert _snapshot(tmp_path) == before


def test_new_csv_set_is_written_whole(run, tmp_path):
    (tmp_path / "run_V.csv").write_text("old\n")
    paths = save_csv(run, tmp_path / "run.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.csv", "run_V.csv"]
    np.testing.assert_array_equal(load_csv_trace(paths[1]).values, run.V.values)


# ------------------------------------------------------------------- 4. a full disk

WRITERS = {
    "netcdf": "from neurosim_nb.export import save_simulation as save",
    "npz": "from neurosim_nb.export import save_npz as save",
    "json": "from neurosim_nb.export import save_json as save",
    "csv": "from neurosim_nb.export import save_csv as save",
}


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_writer_on_a_full_disk_raises_export_error_and_keeps_the_old_file(tmp_path, fmt):
    """For real: the kernel refuses writes past RLIMIT_FSIZE (EFBIG, as ENOSPC for a full
    disk). Before: save_simulation raised ``RuntimeError: NetCDF: HDF error``."""
    target = tmp_path / f"run.{'nc' if fmt == 'netcdf' else fmt}"
    target.write_bytes(b"previous result\n")
    limit = 4096
    code = f"""
        import resource, signal
        from neurosim_nb import LIFNeuron
        {WRITERS[fmt]}
        ds = LIFNeuron.create_excitatory(n=20).simulate(50.0, 3.0, seed=0)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        try:
            save(ds, {str(target)!r})
        except Exception as e:
            print(type(e).__name__, isinstance(e, OSError), "|", e)
    """
    result = limited(code, limit=8 * 2**30)
    out = result.stdout.strip()
    assert out.startswith("ExportError True |"), (out, result.stderr[-2000:])
    assert str(target) in out and ("limit" in out or "HDF" in out or "too large" in out)
    assert target.read_bytes() == b"previous result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


@pytest.mark.parametrize("save", [save_simulation, save_npz, save_json, save_csv])
def test_no_space_left_at_the_lowest_write(run, tmp_path, monkeypatch, save):
    """ENOSPC from the lowest Python write call (the C library's for NetCDF)."""
    target = tmp_path / "r.out"
    target.write_bytes(b"previous")
    import builtins

    real_open = builtins.open

    class Full:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    def full_open(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        return Full(f) if "w" in mode and str(file).endswith(".part") else f

    monkeypatch.setattr(builtins, "open", full_open)
    if save is save_simulation:
        import netCDF4

        class FullDataset:
            def __init__(self, *args, **kwargs):
                raise RuntimeError("NetCDF: HDF error")  # what netCDF4 raises on ENOSPC

        monkeypatch.setattr(netCDF4, "Dataset", FullDataset)
    with pytest.raises(ExportError, match="r.out: .*(No space left|HDF error)"):
        save(run, target)
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.out"]


def test_a_target_on_dev_full_is_refused(run, tmp_path):
    """A target that is /dev/full (here through a link named like a result file): writing
    there can only fail with ENOSPC, and the rename ending an atomic write would replace the
    link; it is refused up front, and nothing changes."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    for save, name in ((save_json, "r.json"), (save_npz, "r.npz"), (save_simulation, "r.nc"),
                       (save_csv, "r.csv")):
        (tmp_path / name).symlink_to("/dev/full")
        with pytest.raises(ExportError, match="not a regular file"):
            save(run, tmp_path / name)
        assert (tmp_path / name).is_symlink()
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv", "r.json", "r.nc", "r.npz"]


# ------------------------------------------------------------------ 5. unstorable seeds

@pytest.mark.parametrize("seed", [2**64, 2**63, -(2**63) - 1, 10**30])
def test_a_seed_beyond_int64_round_trips_through_every_format(run, tmp_path, seed):
    """Before: ``simulate(seed=2**64)`` made a result NetCDF could not store."""
    ds = run.copy()
    ds.attrs["seed"] = seed
    for save, load in ((save_simulation, load_simulation), (save_npz, load_npz),
                       (save_json, load_json)):
        back = load(save(ds, tmp_path / f"r{save.__name__}"))
        assert back.attrs["seed"] == seed and type(back.attrs["seed"]) is int
        xr.testing.assert_identical(back, ds)


def test_every_error_here_is_a_neurosim_error():
    assert issubclass(ExportError, NeurosimError) and issubclass(ExportError, OSError)
    assert issubclass(_atomic.FileTooLargeError, TooLargeError)
