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

``sha256`` (written by :func:`save_json`, checked by :func:`load_json` when present) is the
SHA-256 of the rest of the document in a canonical form (``sort_keys=True``, separators
``","`` and ``":"``): a digit changed after writing is refused, not read. ``data`` is a
nested list. Non-finite floats are the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"``, which JavaScript's ``Number()`` (and Python's ``float()``) turn back into
numbers. Floats are written with Python's shortest round-trip ``repr``, so values come back
exactly. ``attr_types`` (top level and per variable, only when needed) records attrs that are
not plain str/int/float: numpy scalars and arrays (``{"dtype", "shape"}``), non-finite
floats (``"float"``) and booleans (``"bool"``).

**CSV** (:func:`save_csv`, :func:`load_csv_spikes`, :func:`load_csv_trace`): tidy spikes
``time_ms,neuron_id[,population][,layer]`` in the file given, and each state variable
``(time, neuron)`` in ``<stem>_<var>.csv``: wide (``time_ms`` then one column per neuron,
headed by its id) or long (``time_ms,neuron_id,value``). Floats are written with ``repr``
(exact round trip; ``nan``/``inf`` as such); names, units and attrs are not kept (use NetCDF
for that). Each file starts with one comment line, the *marker*::

    # neurosim_nb.csv v1 rows=12 sha256=<64 hex digits>          (padded with spaces)

Lines end with CRLF (RFC 4180). ``rows`` counts the data rows and ``sha256`` is the
digest of every byte after the marker line, so the readers refuse a file truncated anywhere
(even at a line end) or changed after it was written. pandas reads the files with
``pd.read_csv(path, comment="#")``; a spreadsheet shows the marker in its first row. A CSV
without the marker (written before it existed, or by another tool) is read with the checks
it allows: every row as wide as the header, and a newline at the end of the last row (a
file cut inside its last value is refused). To read an edited file unchecked, delete its
marker line.

Every writer is atomic (temporary file, then rename); :func:`save_csv` writes its files as a
set (all temporaries first, then all renamed, so a failure leaves every previous file as
it was). Every reader raises :class:`~neurosim_nb.export._atomic.ExportError` on a missing,
truncated or foreign file, and :class:`~neurosim_nb.export._atomic.FileTooLargeError`
(also a :class:`~neurosim_nb.errors.TooLargeError`) on one that declares more data than it
holds or than memory allows, before allocating it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import re
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import Literal

import numpy as np
import xarray as xr

from neurosim_nb._validation import Checker, parse_json
from neurosim_nb.export._atomic import (
    ExportError,
    FileTooLargeError,
    atomic_path,
    atomic_paths,
    check_declared,
    readable_path,
    write_failure,
)

__all__ = ["save_npz", "load_npz", "save_json", "load_json", "dataset_to_dict",
           "dataset_from_dict", "save_csv", "load_csv_spikes", "load_csv_trace", "read_npz",
           "CSV_MARKER"]

FORMAT_TAG = "neurosim_nb.dataset"
NPZ_FORMAT_TAG = "neurosim_nb.npz"
FORMAT_VERSION = 1
META_KEY = "__neurosim_nb__"
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_DECODE_ERRORS = (ValueError, KeyError, TypeError, AttributeError, IndexError, OverflowError)
_CHECK = Checker(ValueError)
_DOC_KEYS = ("format", "version", "attrs", "attr_types", "dims", "coords", "data_vars",
             "sha256")
DIGEST_KEY = "sha256"
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


#: dtype kinds a Dataset description may declare (bool, int, uint, float, str, object str)
_JSON_KINDS = "biufUO"
#: a string array may take this many times the memory its strings take in the document
#: (its declared width may exceed its longest string) plus this margin
_STRING_RATIO, _STRING_SLACK = 16, 64 * 2**20
_LEAF_TYPES = {"b": {bool}, "i": {int}, "u": {int}, "f": {float, int, str}, "U": {str},
               "O": {str}}


def _json_dtype(dtype) -> np.dtype:
    """The numpy dtype a description declares (only the kinds JSON can carry)."""
    if not isinstance(dtype, str):
        raise ValueError(f"dtype must be a string, got {dtype!r}")
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError, SyntaxError):
        raise ValueError(f"unknown dtype {dtype!r}") from None
    if dt.kind not in _JSON_KINDS or dt.fields is not None or dt.subdtype is not None:
        raise ValueError(f"dtype {dtype!r} cannot be stored in a Dataset description "
                         "(booleans, integers, floats and strings only)")
    return dt


def _json_shape(shape) -> tuple[int, ...]:
    if not isinstance(shape, list | tuple) or len(shape) > 32 or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise ValueError(f"shape must be a list of at most 32 integers >= 0, got {shape!r:.80}")
    return tuple(shape)


def _array_from_json(data, dtype, shape, source: str = "the Dataset description",
                     what: str = "a variable") -> np.ndarray:
    """The array ``data`` (a nested list) holds, checked against the declared ``dtype`` and
    ``shape`` before anything of the declared size is allocated."""
    dt, shape = _json_dtype(dtype), _json_shape(shape)
    try:
        obj = np.array(data, dtype=object)  # the document's own values: no new allocation
    except ValueError:
        raise ValueError(f"{what}: a ragged nested list (rows of different lengths)") from None
    if obj.shape != shape and not (obj.size == 0 and math.prod(shape) == 0):
        raise ValueError(f"{what}: {obj.size} values in shape {obj.shape} for the declared "
                         f"shape {shape}")
    if obj.size == 0:
        return np.empty(shape, dtype=dt) if dt.kind == "O" else np.zeros(shape, dtype=dt)
    types = set(map(type, obj.flat))
    if not types <= _LEAF_TYPES[dt.kind]:
        found = ", ".join(sorted(t.__name__ for t in types - _LEAF_TYPES[dt.kind]))
        raise ValueError(f"{what}: declared {dt} but holds values of type {found}")
    if dt.kind == "f":
        if str in types:
            obj = np.array([_float_value(x) for x in obj.flat], dtype=object).reshape(shape)
        return obj.astype(dt)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        lo, hi = min(obj.flat), max(obj.flat)
        if lo < info.min or hi > info.max:
            raise ValueError(f"{what}: values {lo}..{hi} do not fit {dt}")
        return obj.astype(dt)
    if dt.kind == "U":
        longest = max(map(len, obj.flat))
        if longest > dt.itemsize // 4:
            raise ValueError(f"{what}: a string of {longest} characters in the declared "
                             f"dtype {dtype!r} (it would be cut short)")
        check_declared(source, f"{what} (dtype {dtype!r}, shape {shape})",
                       obj.size * dt.itemsize, stored=4 * obj.size * max(longest, 1),
                       ratio=_STRING_RATIO, slack=_STRING_SLACK)
        return obj.astype(dt)
    return obj.astype(dt) if dt.kind == "b" else obj  # object strings stay objects


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


def _attrs_from_json(attrs: dict, types: dict, source: str, where: str) -> dict:
    out = dict(_CHECK.mapping(where, attrs))
    for key, record in _CHECK.mapping(f"{where} types", types).items():
        value = out[key]
        if record == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{where} {key!r}: {value!r:.40} is not a boolean")
        elif record == "float":
            out[key] = _float_value(value)
        elif isinstance(record, dict) and "shape" in record:
            out[key] = _array_from_json(value, record["dtype"], record["shape"], source,
                                        f"{where} {key!r}")
        elif isinstance(record, dict):
            dt = _json_dtype(record["dtype"])
            out[key] = _array_from_json(value, record["dtype"], [], source,
                                        f"{where} {key!r}")[()]
            if dt.kind in "US":
                raise ValueError(f"{where} {key!r}: a scalar string attr needs no dtype")
        else:
            raise ValueError(f"{where} {key!r}: unknown type record {record!r:.40}")
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


def _build(d: dict, load_data, source: str = "the Dataset description") -> xr.Dataset:
    """Inverse of :func:`_describe`; ``load_data(entry, what)`` returns the variable's array."""
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
            values = load_data(entry, f"variable {name!r}")
            if list(values.shape) != list(entry["shape"]):
                raise ValueError(f"variable {name!r} has shape {values.shape}, "
                                 f"expected {tuple(entry['shape'])}")
            attrs = _attrs_from_json(entry["attrs"], entry.get("attr_types", {}), source,
                                     f"variable {name!r} attr")
            part[name] = xr.Variable(tuple(_CHECK.strings(f"{where}.dims", entry["dims"])),
                                     values, attrs)
    ds = xr.Dataset(parts["data_vars"], parts["coords"],
                    attrs=_attrs_from_json(d["attrs"], d.get("attr_types", {}), source,
                                           "Dataset attr"))
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
    return _from_dict(d, "the Dataset description")


def _from_dict(d, source: str) -> xr.Dataset:
    try:
        return _build(d, lambda e, what: _array_from_json(e["data"], e["dtype"], e["shape"],
                                                          source, what), source)
    except FileTooLargeError:
        raise
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
    d[DIGEST_KEY] = _json_digest(d)
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
    if isinstance(d, dict) and DIGEST_KEY in d:
        digest = d.pop(DIGEST_KEY)
        try:
            same = digest == _json_digest(_CHECK.document(d))
        except ValueError as e:
            raise ExportError(f"cannot read {p}: {_msg(e)}") from e
        if not same:
            raise ExportError(f"cannot read {p}: its content does not match its {DIGEST_KEY!r} "
                              "(damaged, or edited after it was written: delete that key to "
                              "read an edited file unchecked)")
    try:
        return _from_dict(_CHECK.document(d), str(p))
    except FileTooLargeError:
        raise
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
    arrays = read_npz(p)
    meta_array = arrays.get(META_KEY)
    if meta_array is None:
        raise ExportError(f"cannot read {p}: not a neurosim_nb NPZ file (no {META_KEY!r} entry)")
    if meta_array.shape != () or meta_array.dtype.kind != "U":
        raise ExportError(f"cannot read {p}: its {META_KEY!r} entry is not a JSON string")
    try:
        meta = _CHECK.document(parse_json(str(meta_array[()])))
    except ValueError as e:
        raise ExportError(f"cannot read {p}: its {META_KEY!r} entry is not valid JSON "
                          f"({_msg(e)})") from e
    if not isinstance(meta, dict) or meta.get("format") != NPZ_FORMAT_TAG:
        raise ExportError(f"cannot read {p}: not a neurosim_nb NPZ file")

    def load(entry: dict, what: str) -> np.ndarray:
        key = entry["data"]
        if not isinstance(key, str) or key == META_KEY or key not in arrays:
            raise ValueError(f"{what}: no entry {key!r:.40} in the archive")
        values = arrays[key]
        declared = _json_dtype(entry["dtype"])
        if declared.kind == "O":
            if values.dtype.kind != "U":
                raise ValueError(f"{what}: declared object strings, the entry holds "
                                 f"{values.dtype}")
            return values.astype(object)
        if values.dtype != declared:
            raise ValueError(f"{what}: declared {declared}, the entry holds {values.dtype}")
        return values

    try:
        return _build(meta, load, str(p))
    except (*_DECODE_ERRORS, OSError) as e:
        raise ExportError(f"cannot read {p}: not a valid neurosim_nb NPZ file ({_msg(e)})"
                          ) from e


#: the largest expansion of a deflated entry: zlib's is 1032:1
_DEFLATE_RATIO = 1100
_NPY_SUFFIX = ".npy"


def read_npz(path) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive, each checked before it is allocated.

    Unlike ``np.load``, each entry's header (shape and dtype) is compared with the bytes the
    archive holds for it before any memory is taken: a 1 kB file whose header declares
    10**12 samples is refused, not allocated. Pickled (object) entries are refused.

    Parameters
    ----------
    path : str or path-like
        An ``.npz`` file (``np.savez`` or ``np.savez_compressed``).

    Returns
    -------
    dict of str to numpy.ndarray
        Entry name (without ``.npy``) -> array.

    Raises
    ------
    ExportError
        Missing, truncated or corrupt archive, a ``.npy`` file, a non-array entry, pickles.
    FileTooLargeError
        An entry declaring more than it holds or more than memory allows.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.npz"
    >>> np.savez(path, x=np.arange(3.0))
    >>> read_npz(path)
    {'x': array([0., 1., 2.])}
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
        with zipfile.ZipFile(p) as zf:
            out = {}
            for info in zf.infolist():
                if not info.filename.endswith(_NPY_SUFFIX):
                    raise ExportError(f"cannot read {p}: its entry {info.filename!r:.60} is "
                                      "not a .npy array")
                out[info.filename[:-len(_NPY_SUFFIX)]] = _read_npy_entry(p, zf, info)
            return out
    except ExportError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            ValueError, OverflowError, OSError, SyntaxError, tokenize.TokenError) as e:
        # (a damaged .npy header: numpy parses it as a Python literal -- SyntaxError, or
        # tokenize's TokenError for an unclosed bracket)
        raise ExportError(f"cannot read {p}: truncated or corrupt NPZ archive ({_msg(e)})"
                          ) from e


def _read_npy_entry(p: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    what = f"entry {info.filename!r:.60}"
    stored_max = (info.compress_size if info.compress_type == zipfile.ZIP_STORED
                  else _DEFLATE_RATIO * info.compress_size + 4096)
    if info.file_size > stored_max:
        raise FileTooLargeError(f"cannot read {p}: {what} declares {info.file_size} bytes "
                                f"from {info.compress_size} compressed bytes, more than "
                                "compression can give (corrupt or hostile archive)")
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ExportError(f"cannot read {p}: {what} has .npy version {version}, which "
                              "this reader does not read")
        if dtype.hasobject:
            raise ExportError(f"cannot read {p}: {what} holds pickled (object) data, which "
                              "is not loaded for safety")
        count = math.prod(shape)
        n_bytes = count * dtype.itemsize
        stored = info.file_size - f.tell()
        check_declared(p, f"{what} ({count} values of {dtype}, shape {shape})", n_bytes,
                       stored=stored)
        if n_bytes != stored:
            raise ExportError(f"cannot read {p}: {what} holds {stored} bytes of data, its "
                              f"header declares {n_bytes} (corrupt archive)")
        array = np.empty(count, dtype=dtype)
        if n_bytes:
            buf, got = array.view(np.uint8), 0
            while got < n_bytes:
                k = f.readinto(buf[got:])
                if not k:
                    break
                got += k
            if got != n_bytes:
                raise ExportError(f"cannot read {p}: {what} is truncated ({got} of {n_bytes} "
                                  "bytes)")
        f.read(1)  # reaches the end: zipfile checks the CRC
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


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
        Unwritable path or a failed write (a full disk included); every previous file is
        then left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from neurosim_nb import LIFNeuron
    >>> ds = LIFNeuron.create_excitatory().simulate(20.0, 2.0, seed=0)
    >>> paths = save_csv(ds, pathlib.Path(tempfile.mkdtemp()) / "run")
    >>> [p.name for p in paths]
    ['run.csv', 'run_V.csv']
    >>> paths[0].read_text().splitlines()[1:3]
    ['time_ms,neuron_id,population', '2.2,0,excitatory']
    >>> paths[0].read_text().split()[:3]
    ['#', 'neurosim_nb.csv', 'v1']
    """
    if voltages not in ("wide", "long", None):
        raise ValueError(f"voltages must be 'wide', 'long' or None, got {voltages!r}")
    if "spike_time" not in ds.variables or "spike_neuron" not in ds.variables:
        raise ValueError("save_csv needs a spike list (variables 'spike_time' and "
                         "'spike_neuron'); use save_json or save_npz for other Datasets")
    target = _with_suffix(path, ".csv")
    states = _state_variables(ds) if voltages else []
    paths = [target] + [target.with_name(f"{target.stem}_{n}{target.suffix}") for n in states]
    with atomic_paths(paths) as tmps:  # every path checked first; all renamed at the end
        _write_csv(tmps[0], target, *_spike_rows(ds))
        for name, tmp, p in zip(states, tmps[1:], paths[1:], strict=True):
            _write_csv(tmp, p, *_trace_rows(ds, name, voltages))
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


#: the first line of a CSV file written by :func:`save_csv` starts with this
CSV_MARKER = "# neurosim_nb.csv"
_MARKER_VERSION = 1
_MARKER_WIDTH = 120  # the line is padded to a fixed width, written last over a placeholder
_MARKER_RE = re.compile(r"# neurosim_nb\.csv v(\d+) rows=(\d+) sha256=([0-9a-f]{64}) *\Z")
_CSV_CHUNK = 4096  # rows formatted at a time
#: line end of the CSV files (RFC 4180's; with it the csv module quotes a field holding a
#: lone "\r", which it would not with "\n")
_EOL = "\r\n"


def _marker_line(rows: int, digest: str) -> bytes:
    line = f"{CSV_MARKER} v{_MARKER_VERSION} rows={rows} sha256={digest}".ljust(_MARKER_WIDTH)
    return (line + _EOL).encode("ascii")


def _write_csv(tmp: Path, target: Path, header, rows) -> None:
    """Write the CSV to ``tmp``: the marker line (row count and SHA-256 of the rest), the
    header, the rows. The marker is written last, over a placeholder of the same width."""
    digest, n = hashlib.sha256(), 0
    try:
        with open(tmp, "wb") as f:
            f.write(b" " * _MARKER_WIDTH + _EOL.encode("ascii"))
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator=_EOL)  # quotes fields holding \r or \n
            writer.writerow(header)
            rows = iter(rows)
            while True:
                chunk = list(itertools.islice(rows, _CSV_CHUNK))
                writer.writerows(chunk)  # floats via repr: exact round trip
                n += len(chunk)
                data = buf.getvalue().encode("utf-8")
                digest.update(data)
                f.write(data)
                buf.seek(0)
                buf.truncate()
                if len(chunk) < _CSV_CHUNK:
                    break
            f.seek(0)
            f.write(_marker_line(n, digest.hexdigest()))
    except OSError as e:
        raise write_failure(target, e) from e


def _read_csv(path) -> tuple[Path, list[str], list[list[str]]]:
    p = readable_path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise ExportError(f"cannot read {p}: {e.strerror or e}") from e
    marker = None
    if raw.startswith(b"#"):
        end = raw.find(b"\n")
        first = raw[:end if end >= 0 else len(raw)].decode("ascii", "replace").rstrip("\r")
        marker = _MARKER_RE.match(first)
        if marker is None:
            what = ("its first line is a damaged neurosim_nb marker" if
                    first.startswith(CSV_MARKER) else "it starts with a comment line")
            raise ExportError(f"cannot read {p}: {what} ({first[:60]!r}); not a neurosim_nb CSV "
                              "or a damaged one")
        if int(marker.group(1)) != _MARKER_VERSION:
            raise ExportError(f"cannot read {p}: CSV marker version {marker.group(1)}, this "
                              f"reader knows {_MARKER_VERSION}")
        raw = raw[end + 1:] if end >= 0 else b""
    try:
        text = raw.decode("utf-8")
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except UnicodeDecodeError as e:
        raise ExportError(f"cannot read {p}: not a UTF-8 text file") from e
    except csv.Error as e:
        raise ExportError(f"cannot read {p}: {_msg(e)}") from e
    if not rows:
        raise ExportError(f"cannot read {p}: empty file (no header)")
    header, body = rows[0], rows[1:]
    for lineno, row in enumerate(body, start=2 + (marker is not None)):
        if len(row) != len(header):
            raise ExportError(f"cannot read {p}: line {lineno} has {len(row)} fields, the "
                              f"header {len(header)} (truncated or not a neurosim_nb CSV?)")
    if marker is not None:
        if hashlib.sha256(raw).hexdigest() != marker.group(3):
            raise ExportError(f"cannot read {p}: its content does not match the SHA-256 of its "
                              "first line: truncated, or changed after it was written (delete "
                              "the first line to read an edited file unchecked)")
        if len(body) != int(marker.group(2)):
            raise ExportError(f"cannot read {p}: {len(body)} rows where its first line "
                              f"declares {marker.group(2)}")
    elif not text.endswith("\n"):
        raise ExportError(f"cannot read {p}: no newline at the end of the last line "
                          "(truncated file)")
    return p, header, body


def _column(p: Path, body, j: int, dtype, header) -> np.ndarray:
    try:
        return np.array([row[j] for row in body], dtype=dtype)
    except (ValueError, OverflowError) as e:
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
        check_declared(p, f"a long-layout table of {times.size} times x {neurons.size} "
                          "neurons", 8 * times.size * neurons.size, stored=8 * v.size,
                       ratio=64, slack=64 * 2**20)
        data = np.full((times.size, neurons.size), np.nan)
        data[ti, ni] = v
    else:
        if not header or header[0] != "time_ms" or not all(h.lstrip("-").isdigit()
                                                             for h in header[1:]):
            raise ExportError(f"cannot read {p}: not a neurosim_nb trace CSV (expected header "
                              f"'time_ms,<neuron ids>' or 'time_ms,neuron_id,value', found "
                              f"{','.join(header)[:80]!r})")
        times = _column(p, body, 0, np.float64, header)
        try:
            neurons = np.array([int(h) for h in header[1:]], dtype=np.int64)
        except (ValueError, OverflowError) as e:
            raise ExportError(f"cannot read {p}: a neuron id in the header is not an int64 "
                              f"({_msg(e)})") from e
        try:
            data = np.array([row[1:] for row in body], dtype=np.float64).reshape(
                times.size, neurons.size)
        except ValueError as e:
            raise ExportError(f"cannot read {p}: a value is not a number ({_msg(e)})") from e
    return xr.DataArray(data, dims=("time", "neuron"), name=name, coords={
        "time": ("time", times, {"units": "ms", "long_name": "time", "axis": "T"}),
        "neuron": ("neuron", neurons, {"units": "1", "long_name": "neuron id"})})


# ---------------------------------------------------------------------------------- misc

def _json_digest(d: dict) -> str:
    """SHA-256 of a description in a canonical JSON form (sorted keys, no spaces): the same
    for the dict written and the dict parsed back, whatever the indent."""
    text = json.dumps(d, allow_nan=False, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _write_text(tmp: Path, target: Path, text: str) -> None:
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from e


def _msg(error: BaseException) -> str:
    text = str(error)
    return text.splitlines()[0] if text else type(error).__name__
