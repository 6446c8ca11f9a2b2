"""Issue 20, files: a corrupt-file corpus run against every reader.

The corpus is built from code in a temporary folder (no binary files in the repository):
one valid file per reader, then, for each, zero bytes, truncations at several offsets,
random bytes, every *other* reader's valid file, the text in UTF-16 or with a Latin-1 byte,
documents nested 100 000 deep, and files declaring hostile sizes (an NPZ header of 10**12
samples, a NetCDF variable of 2**31 samples, a JSON string dtype of 500 million characters,
a long-layout CSV whose (time, neuron) grid would take 320 GB).

Every case must end in a :class:`~neurosim_nb.errors.NeurosimError` (``ExportError`` or the
reader's documented error: ``SWCError``, ``ConfigError``, ``ModelConfigError``), or --
only where the damage leaves the content intact (a trailing newline cut) -- in a result
equal to the valid file's. Never another exception, never a shorter result. SWC is the one
exception to "never shorter": the format carries no size or checksum, so an SWC cut at a
line end (or inside its last parent id) is a smaller, valid neuron; the corpus accepts a
Morphology there and says so.

The whole corpus runs in a subprocess whose peak RSS (``VmHWM`` of /proc/self/status: the
process's own, where ``ru_maxrss`` after exec carries the parent's peak) is compared with its
RSS once the valid files are built: the readers may add at most :data:`RSS_BOUND_MB`.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from neurosim_nb.errors import NeurosimError

#: the most peak RSS (MB) the readers may add over the corpus' own (each hostile file
#: declares gigabytes to terabytes)
RSS_BOUND_MB = 200
ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- the corpus

def _readers() -> dict:
    from neurosim_nb.export import (
        load_csv_spikes,
        load_csv_trace,
        load_json,
        load_model_json,
        load_npz,
        load_oni,
        load_run_config,
        load_simulation,
    )
    from neurosim_nb.morphology.swc import load_swc

    return {"netcdf": load_simulation, "npz": load_npz, "json": load_json,
            "csv_spikes": load_csv_spikes, "csv_trace": load_csv_trace,
            "csv_long": load_csv_trace, "model": load_model_json, "oni": load_oni,
            "oni_npz": load_oni, "swc": load_swc, "run_config": load_run_config}


def build_valid(folder: Path) -> dict[str, Path]:
    """One valid file per reader, in ``folder``."""
    import shutil

    from neurosim_nb import LayeredNetwork, LIFNeuron
    from neurosim_nb.export import (
        ONIDataFormat,
        ONIExporter,
        export_model_json,
        save_csv,
        save_json,
        save_npz,
        save_simulation,
    )
    from neurosim_nb.morphology.swc import sample_morphology

    ds = LIFNeuron.create_excitatory(n=3).simulate(40.0, 3.0, seed=0)
    spikes, trace = save_csv(ds, folder / "run.csv")
    _, long_trace = save_csv(ds, folder / "long.csv", voltages="long")
    net = LayeredNetwork.create_oni_model(neurons_per_layer=4, seed=3)
    oni = ONIExporter().export(net.simulate(30.0, seed=1), net)
    exporter = ONIExporter()
    run_config = folder / "run_config.json"
    run_config.write_text(json.dumps({"network_type": "layered", "n_layers": 2,
                                      "duration": 20.0, "dt": 0.1, "seed": 3}) + "\n")
    model = folder / "model.json"
    export_model_json(LIFNeuron.create_excitatory(n=3), model)
    swc = folder / "cell.swc"
    shutil.copy(sample_morphology(), swc)
    return {"netcdf": save_simulation(ds, folder / "run.nc"),
            "npz": save_npz(ds, folder / "run.npz"), "json": save_json(ds, folder / "run.json"),
            "csv_spikes": spikes, "csv_trace": trace, "csv_long": long_trace, "model": model,
            "oni": exporter.save(oni, folder / "run.oni.json"),
            "oni_npz": exporter.save(oni, folder / "oni.npz", ONIDataFormat.NUMPY),
            "swc": swc, "run_config": run_config}


def _npz_bytes(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _npy_header(shape, descr="<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue()


def _hostile(kind: str, valid: Path, folder: Path) -> dict[str, bytes | Path]:
    """Files declaring sizes they do not hold (bytes, or a path written here)."""
    data = valid.read_bytes()
    out: dict[str, bytes | Path] = {}
    if kind in ("npz", "oni_npz"):
        with zipfile.ZipFile(valid) as zf:
            entries = {n: zf.read(n) for n in zf.namelist()}
        first = next(n for n in entries if not n.startswith(("__", "native")))
        out["entry declaring 10**12 samples"] = _npz_bytes(
            {**entries, first: _npy_header((10**12,)) + bytes(64)})
        out["entry declaring <U500000000"] = _npz_bytes(
            {**entries, first: _npy_header((4,), "<U500000000") + bytes(64)})
    elif kind == "netcdf":
        import netCDF4

        path = folder / "hostile_2_31.nc"
        with netCDF4.Dataset(path, "w") as nc:
            nc.createDimension("time", 2**31)
            nc.createVariable("V", "f8", ("time",), chunksizes=(2**20,))
        out["variable declaring 2**31 samples"] = path
        path = folder / "hostile_index.nc"
        with netCDF4.Dataset(path, "w") as nc:
            nc.createDimension("time", 2**31)
            nc.createVariable("time", "f8", ("time",), chunksizes=(2**20,))
        out["index declaring 2**31 samples"] = path
    elif kind == "json":  # without the digest, which would refuse any change
        def edited(change) -> bytes:
            doc = json.loads(data)
            del doc["sha256"]
            change(doc)
            return json.dumps(doc).encode()

        out["string dtype <U500000000"] = edited(
            lambda d: d["coords"]["population"].update(dtype="<U500000000"))
        out["shape [10**12, 3]"] = edited(lambda d: d["data_vars"]["V"].update(
            shape=[10**12, 3]))
        out["attr dtype <U500000000"] = edited(lambda d: d["attr_types"].update(
            neurosim_nb_version={"dtype": "<U500000000", "shape": [4]}))
    elif kind == "csv_long":
        rows = "".join(f"{i}.5,{i},-65.0\n" for i in range(200_000))
        out["a 200000 x 200000 (time, neuron) grid"] = (
            "time_ms,neuron_id,value\n" + rows).encode()
    elif kind == "csv_trace":
        out["a neuron id of 5000 digits"] = ("time_ms," + "7" * 5000 + "\n0.1,1.0\n").encode()
    elif kind == "model":
        doc = json.loads(data)
        doc["model"]["n"] = int("9" * 4000)
        out["n of 4000 digits"] = json.dumps(doc).encode()
    return out


def cases(valid: dict[str, Path], folder: Path):
    """``(reader name, case name, path, may equal)`` for every corrupt file."""
    rng = np.random.default_rng(20)
    made = folder / "corpus"
    made.mkdir()
    counter = iter(range(10**9))

    def file(kind: str, data: bytes) -> Path:
        path = made / f"{next(counter)}{''.join(valid[kind].suffixes)}"
        path.write_bytes(data)
        return path

    text_kinds = {"json", "csv_spikes", "csv_trace", "csv_long", "model", "oni", "swc",
                  "run_config"}
    json_kinds = {"json", "model", "oni", "run_config"}
    for kind, path in valid.items():
        data = path.read_bytes()
        n = len(data)
        yield kind, "zero bytes", file(kind, b""), False
        for cut in sorted({1, 8, 64, n // 4, n // 2, 3 * n // 4, n - 8, n - 2, n - 1}):
            if 0 < cut < n:
                # only the cut of a trailing newline may leave an equal result
                whitespace = not data[cut:].strip()
                yield kind, f"truncated at {cut}/{n}", file(kind, data[:cut]), whitespace
        yield kind, "random bytes (same size)", file(kind, rng.bytes(n)), False
        yield kind, "1 KiB of random bytes", file(kind, rng.bytes(1024)), False
        for other, other_path in valid.items():
            if other_path.read_bytes() != data and not {kind, other} <= {"oni", "oni_npz"} and (
                    {kind, other} != {"csv_trace", "csv_long"}):
                yield kind, f"a valid {other} file", other_path, False
        if kind in text_kinds:
            text = data.decode("utf-8")
            yield kind, "UTF-16", file(kind, text.encode("utf-16")), False
            yield kind, "a Latin-1 byte", file(kind, data[: n // 2] + b"\xff" + data[n // 2:]), \
                False
        if kind in json_kinds:
            yield kind, "[ nested 100000 deep", file(kind, b"[" * 100_000), False
            deep = b'{"a": ' * 5000 + b"1" + b"}" * 5000
            yield kind, "an object nested 5000 deep", file(kind, deep), False
            yield kind, "NaN literal", file(kind, b'{"format": NaN}'), False
            yield kind, "a 5000-digit integer", file(kind, b'{"version": ' + b"9" * 5000 + b"}"),\
                False
        for name, hostile in _hostile(kind, path, folder).items():
            yield kind, name, hostile if isinstance(hostile, Path) else file(kind, hostile), False


def _same(kind: str, got, want) -> bool:
    from neurosim_nb.export import export_model_json

    if kind == "model":
        return export_model_json(got) == export_model_json(want)
    if kind == "swc":
        return [(s.name, s.parent, s.length_um) for s in got.sections] == [
            (s.name, s.parent, s.length_um) for s in want.sections]
    if hasattr(got, "identical"):
        return got.identical(want)
    return got == want


def _vm_hwm_kib() -> int:
    """This process's peak RSS (KiB): ``VmHWM``, reset at exec (``ru_maxrss`` carries the
    peak of the process that forked it across the exec)."""
    with open("/proc/self/status") as f:
        return int(next(ln for ln in f if ln.startswith("VmHWM:")).split()[1])


def run_corpus(folder: Path) -> dict:
    """Build the corpus in ``folder``, run every reader on it; the outcome as a dict."""
    readers = _readers()
    valid = build_valid(folder)
    originals = {kind: readers[kind](path) for kind, path in valid.items()}
    base_kb = _vm_hwm_kib()
    problems, counts = [], {}
    for kind, name, path, may_equal in cases(valid, folder):
        counts[kind] = counts.get(kind, 0) + 1
        try:
            got = readers[kind](path)
        except NeurosimError:
            continue
        except Exception as e:  # noqa: BLE001 - the point: no other exception
            problems.append(f"{kind} / {name}: {type(e).__name__}: {str(e)[:200]}")
            continue
        if may_equal and _same(kind, got, originals[kind]):
            continue
        if kind == "swc":  # no integrity data in SWC: a smaller valid neuron is possible
            continue
        problems.append(f"{kind} / {name}: read without an error")
    peak_kb = _vm_hwm_kib()
    return {"problems": problems, "counts": counts, "base_mb": base_kb / 1024,
            "peak_mb": peak_kb / 1024}


# -------------------------------------------------------------------------------- tests

def test_every_reader_refuses_every_corrupt_file_within_the_memory_bound():
    code = ("import json, pathlib, sys, tempfile\n"
            f"sys.path.insert(0, {str(ROOT)!r})\n"
            "from tests.hardening.test_corpus import run_corpus\n"
            "with tempfile.TemporaryDirectory() as d:\n"
            "    print(json.dumps(run_corpus(pathlib.Path(d))))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["problems"] == []
    assert set(outcome["counts"]) == set(_readers())
    assert sum(outcome["counts"].values()) > 250
    grew = outcome["peak_mb"] - outcome["base_mb"]
    print(f"corpus: {sum(outcome['counts'].values())} files, peak RSS {outcome['peak_mb']:.0f} "
          f"MB, {grew:.0f} MB over the {outcome['base_mb']:.0f} MB before reading")
    assert grew < RSS_BOUND_MB


@pytest.fixture(scope="module")
def valid_files(tmp_path_factory):
    return build_valid(tmp_path_factory.mktemp("valid"))


def test_failed_writes_change_no_existing_file(valid_files, tmp_path):
    """Every writer handed something it cannot write leaves the previous file's bytes (its
    hash) unchanged and no temporary behind."""
    import hashlib

    import xarray as xr

    from neurosim_nb.export import (
        ONIExporter,
        export_model_json,
        save_csv,
        save_json,
        save_npz,
        save_simulation,
    )

    bad = xr.Dataset({"x": ("n", [1.0])}, attrs={"flag": {"a": 1}})  # a dict attr: no format
    bad_csv = xr.Dataset({"spike_time": ("spike", [1.0]),
                          "spike_neuron": ("spike", [0])}, attrs={"a": 1})
    for kind, save, arg in (("netcdf", save_simulation, bad), ("npz", save_npz, bad),
                            ("json", save_json, bad), ("oni", ONIExporter().save, "not data"),
                            ("model", export_model_json, object())):
        path = valid_files[kind]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        with pytest.raises((NeurosimError, TypeError)):
            save(arg, path)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, kind
    spikes = valid_files["csv_spikes"]
    digest = hashlib.sha256(spikes.read_bytes()).hexdigest()
    bad_csv["spike_time"] = ("spike", np.array([object()], dtype=object))
    with pytest.raises((NeurosimError, TypeError, ValueError)):
        save_csv(bad_csv, spikes)
    assert hashlib.sha256(spikes.read_bytes()).hexdigest() == digest
    leftovers = [p for p in spikes.parent.iterdir() if p.name.endswith((".part", ".bak"))]
    assert leftovers == []


if __name__ == "__main__":  # a quick look: python tests/hardening/test_corpus.py
    with tempfile.TemporaryDirectory() as d:
        print(json.dumps(run_corpus(Path(d)), indent=1))
