"""NPZ, JSON and CSV: results for NumPy, web pages and spreadsheets.

**NPZ** (:func:`save_npz` / :func:`load_npz`): one ``.npy`` entry per variable (``c0``, ``c1``
... for coordinates, ``v0``, ``v1`` ... for data variables) plus ``__neurosim_nb__``, a JSON
string with the names, dims, dtypes, variable attrs and Dataset attrs. Object-string arrays
are stored as fixed-width unicode, so nothing needs pickle: the reader uses
``np.load(..., allow_pickle=False)``. Round trip: ``xr.testing.assert_identical``.

**JSON** (:func:`save_json` / :func:`load_json`, :func:`dataset_to_dict` /
:func:`dataset_from_dict`): strictly valid JSON (``allow_nan=False``) that a browser's
``JSON.parse`` accepts::

    {"format": "neurosim_nb.dataset", "version": 1,
     "attrs": {...}, "attr_types": {...}, "dims": {"time": 2000, ...},
     "coords": {"time": {"dims": ["time"], "dtype": "float64", "shape": [2000],
                         "data": [0.1, ...], "attrs": {"units": "ms", ...}}, ...},
     "data_vars": {"V": {...}, "spike_time": {...}, ...}}

``data`` is a nested list. Non-finite floats are the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"``, which JavaScript's ``Number()`` (and Python's ``float()``) turn back into
numbers. Floats are written with Python's shortest round-trip ``repr``, so values come back
exactly. ``attr_types`` (top level and per variable, only when needed) records attrs that are
not plain str/int/float: numpy scalars and arrays (``{"dtype", "shape"}``), non-finite
floats (``"float"``) and booleans (``"bool"``).

**CSV** (:func:`save_csv`, :func:`load_csv_spikes`, :func:`load_csv_trace`): tidy spikes
``time_ms,neuron_id[,population][,layer]`` in the file given, and each state variable
``(time, neuron)`` in ``<stem>_<var>.csv``: wide (``time_ms`` then one column per neuron,
headed by its id) or long (``time_ms,neuron_id,value``). Floats are written with ``repr``
(exact round trip; ``nan``/``inf`` as such). No comment lines, so spreadsheets open them
directly; names, units and attrs are not kept (use NetCDF for that).

Every writer is atomic (temporary file, then rename); every reader raises
:class:`~neurosim_nb.export._atomic.ExportError` on a missing, truncated or foreign file.
"""

from __future__ import annotations

import csv
import json
import math
import zipfile
import zlib
from pathlib import Path
from typing import Literal

import numpy as np
import xarray as xr

from neurosim_nb._validation import Checker, parse_json
from neurosim_nb.export._atomic import ExportError, atomic_path, readable_path, writable_path

__all__ = ["save_npz", "load_npz", "save_json", "load_json", "dataset_to_dict",
           "dataset_from_dict", "save_csv", "load_csv_spikes", "load_csv_trace"]

FORMAT_TAG = "neurosim_nb.dataset"
NPZ_FORMAT_TAG = "neurosim_nb.npz"
FORMAT_VERSION = 1
META_KEY = "__neurosim_nb__"
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_DECODE_ERRORS = (ValueError, KeyError, TypeError, AttributeError, IndexError)
_CHECK = Checker(ValueError)
_DOC_KEYS = ("format", "version", "attrs", "attr_types", "dims", "coords", "data_vars")
_VARIABLE_KEYS = ("dims", "dtype", "shape", "data", "attrs", "attr_types")


def _with_suffix(path, suffix: str) -> Path:
    p = Path(path).expanduser()
    return p if p.suffix else p.with_name(p.name + suffix)


# ---------------------------------------------------------------- JSON-able values and attrs

def _float_json(x: float):
    if math.isfinite(x):
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def _float_value(x) -> float:
    if isinstance(x, str):
        if x not in _NONFINITE:
            raise ValueError(f"unexpected string {x!r} in float data")
        return _NONFINITE[x]
    return float(x)


def _dtype_name(dtype: np.dtype) -> str:
    if dtype.kind == "O":
        return "object"
    return dtype.name if dtype.kind in "biuf" else dtype.str


def _array_to_json(values: np.ndarray, what: str):
    """Nested list of ``values``; non-finite floats as strings."""
    kind = values.dtype.kind
    if kind == "f":
        finite = np.isfinite(values)
        if finite.all():
            return values.tolist()
        out = values.astype(object)
        out[np.isnan(values)] = "NaN"
        out[np.isposinf(values)] = "Infinity"
        out[np.isneginf(values)] = "-Infinity"
        return out.tolist()
    if kind in "biuU":
        return values.tolist()
    if kind == "O" and all(isinstance(v, str) for v in values.flat):
        return values.tolist()
    raise TypeError(f"{what}: dtype {values.dtype} cannot go to JSON "
                    "(numbers, booleans and strings only)")


def _array_from_json(data, dtype: str, shape) -> np.ndarray:
    dt = np.dtype(dtype)
    if dt.kind == "f":
        try:  # fast path; float() also reads "NaN", "Infinity", "-Infinity"
            arr = np.array(data, dtype=dt).reshape(-1)
        except (ValueError, TypeError):
            flat = np.array(data, dtype=object).reshape(-1)
            arr = np.array([_float_value(x) for x in flat], dtype=dt)
    elif dt.kind == "O":
        arr = np.array(data, dtype=object).reshape(-1)
        if not all(isinstance(v, str) for v in arr):
            raise ValueError("object arrays must hold strings")
    else:
        arr = np.array(data, dtype=dt).reshape(-1)
    if arr.size != math.prod(shape):
        raise ValueError(f"{arr.size} values for shape {tuple(shape)}")
    return arr.reshape(shape)


def _attrs_to_json(attrs: dict, what: str) -> tuple[dict, dict]:
    """(JSON-able attrs, type records for values that are not plain str/int/float)."""
    out, types = {}, {}
    for key, value in attrs.items():
        if not isinstance(key, str):
            raise TypeError(f"{what}: attr names must be strings, got {key!r}")
        if isinstance(value, np.ndarray):
            out[key] = _array_to_json(value, f"{what} attr {key!r}")
            types[key] = {"dtype": _dtype_name(value.dtype), "shape": list(value.shape)}
        elif isinstance(value, (bool, np.bool_)):
            out[key], types[key] = bool(value), "bool"
        elif isinstance(value, np.generic) and value.dtype.kind in "iuf":
            out[key] = _float_json(float(value)) if value.dtype.kind == "f" else value.item()
            types[key] = {"dtype": value.dtype.name}
        elif isinstance(value, str | int):
            out[key] = value
        elif isinstance(value, float):
            out[key] = _float_json(value)
            if not math.isfinite(value):
                types[key] = "float"
        else:
            raise TypeError(f"{what}: attr {key!r} has type {type(value).__name__}; use str, "
                            "int, float or a numpy array (structures as JSON strings)")
    return out, types


def _attrs_from_json(attrs: dict, types: dict) -> dict:
    out = dict(attrs)
    for key, record in types.items():
        value = out[key]
        if record == "bool":
            out[key] = bool(value)
        elif record == "float":
            out[key] = _float_value(value)
        elif "shape" in record:
            out[key] = _array_from_json(value, record["dtype"], record["shape"])
        else:
            dt = np.dtype(record["dtype"])
            out[key] = dt.type(_float_value(value) if dt.kind == "f" else value)
    return out


def _describe(ds: xr.Dataset, store_data) -> dict:
    """The JSON-able description of ``ds``; ``store_data(key, name, values)`` gives ``data``."""
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"expected an xarray.Dataset, got {type(ds).__name__}")
    attrs, attr_types = _attrs_to_json(ds.attrs, "Dataset")
    out = {"format": FORMAT_TAG, "version": FORMAT_VERSION, "attrs": attrs,
           "attr_types": attr_types, "dims": {str(k): int(v) for k, v in ds.sizes.items()},
           "coords": {}, "data_vars": {}}
    for section, names, prefix in (("coords", ds.coords, "c"), ("data_vars", ds.data_vars, "v")):
        for i, name in enumerate(names):
            var = ds.variables[name]
            v_attrs, v_types = _attrs_to_json(var.attrs, f"variable {name!r}")
            entry = {"dims": list(var.dims), "dtype": _dtype_name(var.dtype),
                     "shape": list(var.shape),
                     "data": store_data(f"{prefix}{i}", name, var.values), "attrs": v_attrs}
            if v_types:
                entry["attr_types"] = v_types
            out[section][str(name)] = entry
    return out


def _build(d: dict, load_data) -> xr.Dataset:
    """Inverse of :func:`_describe`; ``load_data(entry)`` returns the variable's array."""
    if not isinstance(d, dict) or d.get("format") not in (FORMAT_TAG, NPZ_FORMAT_TAG):
        raise ValueError(f"not a neurosim_nb Dataset description (no 'format': {FORMAT_TAG!r})")
    if d.get("version") != FORMAT_VERSION:
        raise ValueError(f"unsupported version {d.get('version')!r} (this reader knows "
                         f"{FORMAT_VERSION})")
    _CHECK.keys("", d, _DOC_KEYS, required=("attrs", "coords", "data_vars"))
    parts: dict[str, dict] = {"coords": {}, "data_vars": {}}
    for section, part in parts.items():
        for where, name, entry in _CHECK.members(section, d[section]):
            _CHECK.keys(where, entry, _VARIABLE_KEYS, required=("dims", "dtype", "shape", "data",
                                                                "attrs"))
            values = load_data(entry)
            if list(values.shape) != list(entry["shape"]):
                raise ValueError(f"variable {name!r} has shape {values.shape}, "
                                 f"expected {tuple(entry['shape'])}")
            attrs = _attrs_from_json(_CHECK.mapping(f"{where}.attrs", entry["attrs"]),
                                     _CHECK.mapping(f"{where}.attr_types",
                                                    entry.get("attr_types", {})))
            part[name] = xr.Variable(tuple(_CHECK.strings(f"{where}.dims", entry["dims"])),
                                     values, attrs)
    ds = xr.Dataset(parts["data_vars"], parts["coords"],
                    attrs=_attrs_from_json(d["attrs"], d.get("attr_types", {})))
    if dict(ds.sizes) != dict(d.get("dims", ds.sizes)):
        raise ValueError(f"dims {dict(ds.sizes)} differ from the recorded {d['dims']}")
    return ds


# ---------------------------------------------------------------------------------- JSON

def dataset_to_dict(ds: xr.Dataset) -> dict:
    """A Dataset as a dict of plain JSON values (see the module doc for the layout).

    Parameters
    ----------
    ds : xarray.Dataset
        Numeric, boolean and string variables; attrs str, int, float, bool or numpy
        numbers/arrays.

    Returns
    -------
    dict
        ``json.dumps(d, allow_nan=False)`` works on it; :func:`dataset_from_dict` inverts it.

    Raises
    ------
    TypeError
        A variable or attr that JSON cannot carry (complex, datetime, bytes, dict attrs).

    Examples
    --------
    >>> import xarray as xr
    >>> d = dataset_to_dict(xr.Dataset({"r": ("current", [0.0, float("nan")])}))
    >>> d["data_vars"]["r"]["data"]
    [0.0, 'NaN']
    >>> dataset_from_dict(d).r.values
    array([ 0., nan])
    """
    return _describe(ds, lambda key, name, values: _array_to_json(values, f"variable {name!r}"))


def dataset_from_dict(d: dict) -> xr.Dataset:
    """The Dataset described by a dict from :func:`dataset_to_dict` (or its JSON).

    Parameters
    ----------
    d : dict
        As produced by :func:`dataset_to_dict`, possibly after a JSON round trip.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    ValueError
        ``d`` is not such a description, or it is inconsistent (shape, dtype, values).

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset({"n": ("spike", [0, 2])}, attrs={"seed": 1})
    >>> dataset_from_dict(dataset_to_dict(ds)).identical(ds)
    True
    """
    try:
        return _build(d, lambda e: _array_from_json(e["data"], e["dtype"], e["shape"]))
    except _DECODE_ERRORS as e:
        raise ValueError(f"invalid neurosim_nb Dataset description: {_msg(e)}") from e


def save_json(ds: xr.Dataset, path, *, indent: int | None = None) -> Path:
    """Write a Dataset as strict JSON for web pages (layout in the module doc).

    Parameters
    ----------
    ds : xarray.Dataset
        The result to write.
    path : str or path-like
        Target file; ``.json`` is appended when it has no suffix.
    indent : int, optional
        Pretty-print with this indent (bigger file).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ExportError
        Unwritable path. ``TypeError`` as for :func:`dataset_to_dict`.

    Examples
    --------
    >>> import tempfile, pathlib, xarray as xr
    >>> ds = xr.Dataset({"V": ("time", [-70.0, float("inf")])})
    >>> path = save_json(ds, pathlib.Path(tempfile.mkdtemp()) / "run")
    >>> path.name, load_json(path).identical(ds)
    ('run.json', True)
    """
    d = dataset_to_dict(ds)
    text = json.dumps(d, allow_nan=False, ensure_ascii=False, indent=indent)
    target = _with_suffix(path, ".json")
    with atomic_path(target) as tmp:
        _write_text(tmp, target, text)
    return target


def load_json(path) -> xr.Dataset:
    """Read a Dataset written by :func:`save_json`.

    Parameters
    ----------
    path : str or path-like
        A ``.json`` file from :func:`save_json`.

    Returns
    -------
    xarray.Dataset
        Identical to the Dataset written.

    Raises
    ------
    ExportError
        Missing, truncated or invalid JSON, or JSON that is not a neurosim_nb Dataset.

    Examples
    --------
    >>> import tempfile, pathlib, xarray as xr
    >>> path = save_json(xr.Dataset({"x": ("n", [1, 2])}), pathlib.Path(tempfile.mkdtemp()) / "a")
    >>> load_json(path).x.values.tolist()
    [1, 2]
    """
    p = readable_path(path)
    try:
        d = parse_json(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ExportError(f"cannot read {p}: not a UTF-8 text file") from e
    except ValueError as e:  # JSONDecodeError included
        raise ExportError(f"cannot read {p}: invalid or truncated JSON ({_msg(e)})") from e
    except OSError as e:
        raise ExportError(f"cannot read {p}: {e.strerror or e}") from e
    try:
        return dataset_from_dict(d)
    except ValueError as e:
        raise ExportError(f"cannot read {p}: {_msg(e)}") from e


# ----------------------------------------------------------------------------------- NPZ

def save_npz(ds: xr.Dataset, path, *, compress: bool = True) -> Path:
    """Write a Dataset as a NumPy ``.npz`` archive without pickles (layout in the module doc).

    Parameters
    ----------
    ds : xarray.Dataset
        The result to write (numeric, boolean and string variables).
    path : str or path-like
        Target file; ``.npz`` is appended when it has no suffix.
    compress : bool
        Deflate the entries (``np.savez_compressed``).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ExportError
        Unwritable path.
    TypeError
        An object array that does not hold strings, or attrs JSON cannot carry.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from neurosim_nb import LIFNeuron
    >>> ds = LIFNeuron.create_excitatory().simulate(20.0, 2.0, seed=0)
    >>> path = save_npz(ds, pathlib.Path(tempfile.mkdtemp()) / "run")
    >>> load_npz(path).identical(ds)
    True
    >>> sorted(np.load(path, allow_pickle=False).files)[:3]
    ['__neurosim_nb__', 'c0', 'c1']
    """
    arrays: dict[str, np.ndarray] = {}

    def store(key: str, name, values: np.ndarray) -> str:
        if values.dtype.kind == "O":
            if not all(isinstance(v, str) for v in values.flat):
                raise TypeError(f"variable {name!r}: object arrays must hold strings for NPZ")
            values = values.astype(str) if values.size else np.zeros(values.shape, "<U1")
        elif values.dtype.kind not in "biufcUS":
            raise TypeError(f"variable {name!r}: dtype {values.dtype} cannot go to NPZ")
        arrays[key] = values
        return key

    meta = _describe(ds, store)
    meta["format"] = NPZ_FORMAT_TAG
    arrays[META_KEY] = np.array(json.dumps(meta, allow_nan=False))
    target = _with_suffix(path, ".npz")
    writer = np.savez_compressed if compress else np.savez
    with atomic_path(target) as tmp:
        try:
            with open(tmp, "wb") as f:  # a file object: np.savez would append ".npz" to a name
                writer(f, **arrays)
        except OSError as e:
            raise ExportError(f"cannot write {target}: {e.strerror or e}") from e
    return target


def load_npz(path) -> xr.Dataset:
    """Read a Dataset written by :func:`save_npz` (``allow_pickle=False``).

    Parameters
    ----------
    path : str or path-like
        A ``.npz`` file from :func:`save_npz`.

    Returns
    -------
    xarray.Dataset
        Identical to the Dataset written.

    Raises
    ------
    ExportError
        Missing, truncated or corrupt archive, a foreign ``.npz``/``.npy``, or one holding
        pickled object arrays.

    Examples
    --------
    >>> import tempfile, pathlib, xarray as xr
    >>> ds = xr.Dataset(coords={"population": ("neuron", ["E", "I"])})
    >>> load_npz(save_npz(ds, pathlib.Path(tempfile.mkdtemp()) / "a")).population.values
    array(['E', 'I'], dtype='<U1')
    """
    p = readable_path(path)
    try:
        with open(p, "rb") as f:
            magic = f.read(6)
    except OSError as e:
        raise ExportError(f"cannot read {p}: {e.strerror or e}") from e
    if magic == b"\x93NUMPY":
        raise ExportError(f"cannot read {p}: a .npy array, not an NPZ archive")
    if not magic.startswith(b"PK"):
        raise ExportError(f"cannot read {p}: not an NPZ (zip) archive")
    try:
        with np.load(p, allow_pickle=False) as npz:
            if META_KEY not in npz.files:
                raise ExportError(f"cannot read {p}: not a neurosim_nb NPZ file "
                                  f"(no {META_KEY!r} entry)")
            meta = parse_json(str(npz[META_KEY][()]))
            if meta.get("format") != NPZ_FORMAT_TAG:
                raise ExportError(f"cannot read {p}: not a neurosim_nb NPZ file")

            def load(entry: dict) -> np.ndarray:
                values = npz[entry["data"]]
                return values.astype(object) if entry["dtype"] == "object" else values

            return _build(meta, load)
    except ExportError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise ExportError(f"cannot read {p}: truncated or corrupt NPZ archive ({_msg(e)})"
                          ) from e
    except (*_DECODE_ERRORS, OSError) as e:
        if "pickle" in str(e):
            raise ExportError(f"cannot read {p}: it holds pickled (object) data, which is "
                              "not loaded for safety") from e
        raise ExportError(f"cannot read {p}: not a valid neurosim_nb NPZ file ({_msg(e)})"
                          ) from e


# ----------------------------------------------------------------------------------- CSV

SPIKE_HEADER = ("time_ms", "neuron_id")
LONG_HEADER = ("time_ms", "neuron_id", "value")


def _state_variables(ds: xr.Dataset) -> list[str]:
    return [str(n) for n, v in ds.data_vars.items() if v.dims == ("time", "neuron")]


def save_csv(ds: xr.Dataset, path, *,
             voltages: Literal["wide", "long"] | None = "wide") -> list[Path]:
    """Write spikes (and state variables) as CSV for spreadsheets (layout in the module doc).

    Parameters
    ----------
    ds : xarray.Dataset
        A result with ``spike_time`` / ``spike_neuron``; ``population`` and ``layer``
        coordinates along ``neuron`` become extra columns.
    path : str or path-like
        Spike file; ``.csv`` is appended when it has no suffix. State variables go beside it
        in ``<stem>_<var>.csv``.
    voltages : {"wide", "long"} or None
        Layout of the state-variable files (``V`` and any other ``(time, neuron)``
        variable); ``None`` writes spikes only.

    Returns
    -------
    list of pathlib.Path
        The spike file first, then one file per state variable.

    Raises
    ------
    ValueError
        No spike list in ``ds`` or an unknown ``voltages`` layout.
    ExportError
        Unwritable path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from neurosim_nb import LIFNeuron
    >>> ds = LIFNeuron.create_excitatory().simulate(20.0, 2.0, seed=0)
    >>> paths = save_csv(ds, pathlib.Path(tempfile.mkdtemp()) / "run")
    >>> [p.name for p in paths]
    ['run.csv', 'run_V.csv']
    >>> paths[0].read_text().splitlines()[:2]
    ['time_ms,neuron_id,population', '2.2,0,excitatory']
    """
    if voltages not in ("wide", "long", None):
        raise ValueError(f"voltages must be 'wide', 'long' or None, got {voltages!r}")
    if "spike_time" not in ds.variables or "spike_neuron" not in ds.variables:
        raise ValueError("save_csv needs a spike list (variables 'spike_time' and "
                         "'spike_neuron'); use save_json or save_npz for other Datasets")
    target = _with_suffix(path, ".csv")
    states = _state_variables(ds) if voltages else []
    paths = [target] + [target.with_name(f"{target.stem}_{n}{target.suffix}") for n in states]
    for p in paths:  # fail before writing anything
        writable_path(p)
    _write_csv(target, *_spike_rows(ds))
    for name, p in zip(states, paths[1:], strict=True):
        _write_csv(p, *_trace_rows(ds, name, voltages))
    return paths


def _spike_rows(ds: xr.Dataset):
    times = np.asarray(ds.spike_time.values, dtype=float)
    ids = np.asarray(ds.spike_neuron.values)
    header = list(SPIKE_HEADER)
    columns = [times.tolist(), ids.tolist()]
    if "neuron" in ds.indexes:
        pos = ds.indexes["neuron"].get_indexer(ids)
        for extra in ("population", "layer"):
            if extra in ds.coords and ds[extra].dims == ("neuron",):
                values = np.asarray(ds[extra].values).tolist()
                header.append(extra)
                columns.append([values[i] if i >= 0 else "" for i in pos])
    return header, zip(*columns, strict=True)


def _trace_rows(ds: xr.Dataset, name: str, layout: str):
    var = ds[name].transpose("time", "neuron")
    times = np.asarray(ds["time"].values if "time" in ds.coords else np.arange(var.shape[0]))
    ids = (ds["neuron"].values if "neuron" in ds.coords else np.arange(var.shape[1])).tolist()
    values = np.asarray(var.values)
    if layout == "wide":
        header = ["time_ms", *map(str, ids)]
        rows = ([t, *row] for t, row in zip(times.tolist(), values.tolist(), strict=True))
    else:
        header = list(LONG_HEADER)
        rows = ([t, i, v] for t, row in zip(times.tolist(), values.tolist(), strict=True)
                for i, v in zip(ids, row, strict=True))
    return header, rows


def _write_csv(target: Path, header, rows) -> None:
    with atomic_path(target) as tmp:
        try:
            with open(tmp, "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(header)
                writer.writerows(rows)  # floats via repr: exact round trip
        except OSError as e:
            raise ExportError(f"cannot write {target}: {e.strerror or e}") from e


def _read_csv(path) -> tuple[Path, list[str], list[list[str]]]:
    p = readable_path(path)
    try:
        with open(p, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except UnicodeDecodeError as e:
        raise ExportError(f"cannot read {p}: not a UTF-8 text file") from e
    except (OSError, csv.Error) as e:
        raise ExportError(f"cannot read {p}: {_msg(e)}") from e
    if not rows:
        raise ExportError(f"cannot read {p}: empty file (no header)")
    header, body = rows[0], rows[1:]
    for lineno, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ExportError(f"cannot read {p}: line {lineno} has {len(row)} fields, the "
                              f"header {len(header)} (truncated or not a neurosim_nb CSV?)")
    return p, header, body


def _column(p: Path, body, j: int, dtype, header) -> np.ndarray:
    try:
        return np.array([row[j] for row in body], dtype=dtype)
    except ValueError as e:
        raise ExportError(f"cannot read {p}: column {header[j]!r} holds a value that is not "
                          f"a number ({_msg(e)})") from e


def load_csv_spikes(path) -> xr.Dataset:
    """Read a spike file written by :func:`save_csv`.

    Parameters
    ----------
    path : str or path-like
        CSV with header ``time_ms,neuron_id`` (optionally ``,population``, ``,layer``).

    Returns
    -------
    xarray.Dataset
        ``spike_time`` (ms, float64) and ``spike_neuron`` (int64) along ``spike``, with
        ``population`` / ``layer`` coordinates along ``spike`` when the file has them.

    Raises
    ------
    ExportError
        Missing file, another header, a short row (truncated file) or a non-numeric value.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from neurosim_nb import LIFNeuron
    >>> ds = LIFNeuron.create_excitatory().simulate(20.0, 2.0, seed=0)
    >>> spikes = load_csv_spikes(save_csv(ds, pathlib.Path(tempfile.mkdtemp()) / "s")[0])
    >>> bool((spikes.spike_time == ds.spike_time).all())
    True
    """
    p, header, body = _read_csv(path)
    extras = header[2:]
    if (tuple(header[:2]) != SPIKE_HEADER or len(extras) != len(set(extras))
            or not set(extras) <= {"population", "layer"}):
        raise ExportError(f"cannot read {p}: not a neurosim_nb spike CSV (expected header "
                          f"'time_ms,neuron_id[,population][,layer]', found "
                          f"{','.join(header)[:80]!r})")
    coords = {}
    for j, name in enumerate(extras, start=2):
        if name == "layer":
            coords[name] = ("spike", _column(p, body, j, np.int64, header))
        else:
            coords[name] = ("spike", np.array([row[j] for row in body], dtype=object))
    return xr.Dataset(
        {"spike_time": ("spike", _column(p, body, 0, np.float64, header),
                        {"units": "ms", "long_name": "spike time"}),
         "spike_neuron": ("spike", _column(p, body, 1, np.int64, header),
                          {"units": "1", "long_name": "neuron id of spike"})},
        coords=coords, attrs={"source": str(p)})


def load_csv_trace(path, *, name: str | None = None) -> xr.DataArray:
    """Read a state-variable file written by :func:`save_csv` (wide or long layout).

    Parameters
    ----------
    path : str or path-like
        ``<stem>_<var>.csv``: header ``time_ms,<id>,<id>...`` (wide) or
        ``time_ms,neuron_id,value`` (long).
    name : str, optional
        Name of the returned DataArray (CSV does not store it).

    Returns
    -------
    xarray.DataArray
        Dims ``(time, neuron)``: ``time`` in ms (float64), ``neuron`` ids (int64). In the
        long layout a missing (time, neuron) pair is NaN.

    Raises
    ------
    ExportError
        Missing file, another header, a short row or a non-numeric value.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from neurosim_nb import LIFNeuron
    >>> ds = LIFNeuron.create_excitatory().simulate(20.0, 2.0, seed=0)
    >>> spikes_csv, v_csv = save_csv(ds, pathlib.Path(tempfile.mkdtemp()) / "r", voltages="long")
    >>> bool((load_csv_trace(v_csv, name="V") == ds.V).all())
    True
    """
    p, header, body = _read_csv(path)
    if tuple(header) == LONG_HEADER:
        t = _column(p, body, 0, np.float64, header)
        ids = _column(p, body, 1, np.int64, header)
        v = _column(p, body, 2, np.float64, header)
        times, ti = np.unique(t, return_inverse=True)
        neurons, ni = np.unique(ids, return_inverse=True)
        data = np.full((times.size, neurons.size), np.nan)
        data[ti, ni] = v
    else:
        if not header or header[0] != "time_ms" or not all(h.lstrip("-").isdigit()
                                                             for h in header[1:]):
            raise ExportError(f"cannot read {p}: not a neurosim_nb trace CSV (expected header "
                              f"'time_ms,<neuron ids>' or 'time_ms,neuron_id,value', found "
                              f"{','.join(header)[:80]!r})")
        times = _column(p, body, 0, np.float64, header)
        neurons = np.array([int(h) for h in header[1:]], dtype=np.int64)
        try:
            data = np.array([row[1:] for row in body], dtype=np.float64).reshape(
                times.size, neurons.size)
        except ValueError as e:
            raise ExportError(f"cannot read {p}: a value is not a number ({_msg(e)})") from e
    return xr.DataArray(data, dims=("time", "neuron"), name=name, coords={
        "time": ("time", times, {"units": "ms", "long_name": "time", "axis": "T"}),
        "neuron": ("neuron", neurons, {"units": "1", "long_name": "neuron id"})})


# ---------------------------------------------------------------------------------- misc

def _write_text(tmp: Path, target: Path, text: str) -> None:
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from e


def _msg(error: BaseException) -> str:
    text = str(error)
    return text.splitlines()[0] if text else type(error).__name__
