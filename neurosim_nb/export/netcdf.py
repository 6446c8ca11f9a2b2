"""NetCDF, the native format: :func:`save_simulation` and :func:`load_simulation`.

Replaces the seed's ``SaveSim(data)`` / ``LoadSim(file)``. Files are NetCDF-4 (HDF5) written
with the ``netcdf4`` engine; numeric variables are zlib-compressed and may be chunked along
``time``. Every Dataset the package produces comes back unchanged
(``xr.testing.assert_identical``) *and* with the same dtypes and attr types. Plain
``ds.to_netcdf`` / ``xr.open_dataset`` loses some of that; the fixes, all invisible on
loading with :func:`load_simulation`:

* object-string variables (``population``) come back as fixed-width unicode, and an empty
  object array cannot be written at all: the dtype is stored in the variable attr
  ``neurosim_nb_dtype`` and restored;
* xarray adds ``_FillValue = NaN`` to every float variable (coordinates included) by
  default: it is switched off, so NaN is stored as an ordinary IEEE value;
* NetCDF attributes are flat and typed: a Python ``int`` comes back as ``numpy.int64``, a
  one-element or 0-d array as a scalar, a 2-D array flattened. The attr types are stored in
  ``neurosim_nb_attr_types`` (a JSON string, on the file and on each variable that needs it)
  and restored;
* numbers whose ``units`` read as time (``"seconds"``) are not decoded to ``timedelta64``;
* the file's attr ``neurosim_nb_digest`` holds the SHA-256 of the Dataset's content (names,
  dims, dtypes, values and attrs: :func:`content_digest`); an eager load recomputes it and
  refuses a file whose content changed after it was written (HDF5 keeps no checksum of its
  own: a flipped byte in an attribute or an uncompressed value would load unnoticed). Files
  without the attr (older ones, other tools) are read unchecked, and ``lazy=True`` does not
  check (the data are not read);
* a Python ``int`` attr outside the int64 range (``seed=2**64``), which NetCDF cannot hold as
  a number, is stored as its decimal string and typed back to ``int``.

:func:`load_simulation` first reads only the file's metadata and compares the bytes its
variables declare with the file's size (zlib expands at most 1032:1) and with the memory
available: a 6 kB file declaring a 2**31-sample variable is refused
(:class:`~neurosim_nb.export._atomic.FileTooLargeError`) instead of allocated.

Other NetCDF readers see ordinary CF data plus those two bookkeeping attrs.

>>> import tempfile, pathlib, xarray as xr
>>> from neurosim_nb import LIFNeuron
>>> ds = LIFNeuron.create_excitatory().simulate(20.0, 2.0, seed=0)
>>> path = save_simulation(ds, pathlib.Path(tempfile.mkdtemp()) / "run")
>>> path.name
'run.nc'
>>> xr.testing.assert_identical(load_simulation(path), ds)
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

import numpy as np
import xarray as xr

from neurosim_nb._validation import parse_json
from neurosim_nb.export import _isolated
from neurosim_nb.export._atomic import (
    ExportError,
    atomic_path,
    check_declared,
    readable_path,
    write_failure,
)
from neurosim_nb.schema import SchemaError, validate_dataset

__all__ = ["save_simulation", "load_simulation", "content_digest"]

DTYPE_ATTR = "neurosim_nb_dtype"
ATTR_TYPES_ATTR = "neurosim_nb_attr_types"
#: SHA-256 of the Dataset's content (:func:`content_digest`), checked by an eager load
DIGEST_ATTR = "neurosim_nb_digest"
_BOOKKEEPING = (DTYPE_ATTR, ATTR_TYPES_ATTR, DIGEST_ATTR, "neurosim_nb_version")
_NUMERIC_KINDS = "biuf"
_STRING_KINDS = "OUS"
#: exceptions the netCDF4/HDF5 stack raises on unreadable files
_READ_ERRORS = (OSError, RuntimeError, ValueError, KeyError, IndexError, TypeError,
                AttributeError, OverflowError, EOFError, NotImplementedError)


_INT64 = np.iinfo(np.int64)
#: the type record of a Python int stored as its decimal string
_BIG_INT = {"python": "int"}
#: bytes variables may declare per byte of file (zlib's largest expansion is 1032:1), and a
#: margin for HDF5's own structures
_NETCDF_RATIO, _NETCDF_SLACK = 1100, 16 * 2**20
#: read in a child process (:mod:`~neurosim_nb.export._isolated`) where ``os.fork`` exists
ISOLATE = True


def _big_int(value) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)
            and not _INT64.min <= value <= _INT64.max)


def _attr_types(attrs: dict) -> dict:
    """Type records for attrs that NetCDF would not give back as they are (see module doc)."""
    types = {}
    for key, value in attrs.items():
        if isinstance(value, np.ndarray):
            types[key] = {"dtype": value.dtype.str, "shape": list(value.shape)}
        elif isinstance(value, np.generic):
            types[key] = {"dtype": value.dtype.str}
        elif _big_int(value):
            types[key] = _BIG_INT
    return types


def _encode_attrs(attrs: dict) -> dict:
    out = {k: v.ravel() if isinstance(v, np.ndarray) else str(v) if _big_int(v) else v
           for k, v in attrs.items()}
    types = _attr_types(attrs)
    if types:
        out[ATTR_TYPES_ATTR] = json.dumps(types)
    return out


def _checked_dtype(dtype, what: str, values, source) -> np.dtype:
    """A dtype recorded in the file; a string width is checked against the data it widens."""
    dt = np.dtype(dtype)
    if dt.hasobject or dt.fields is not None or dt.kind not in "biufcUSM":
        raise ValueError(f"{what}: unsupported recorded dtype {dtype!r}")
    values = np.asarray(values)
    check_declared(source, f"{what} (recorded dtype {dtype!r})", values.size * dt.itemsize,
                   stored=max(values.nbytes, 8 * values.size), ratio=16,
                   slack=_NETCDF_SLACK)
    return dt


def _near_bookkeeping(name) -> bool:
    """A name one character away from a bookkeeping attr's: that attr, damaged."""
    return isinstance(name, str) and any(
        len(name) == len(known) and sum(a != b for a, b in zip(name, known, strict=True)) == 1
        for known in _BOOKKEEPING)


def _decode_attrs(attrs: dict, source="the file", what: str = "attr") -> dict:
    damaged = [key for key in attrs if _near_bookkeeping(key)]
    if damaged:
        raise ValueError(f"{what} {damaged[0]!r}: a damaged neurosim_nb bookkeeping attr")
    out = dict(attrs)
    types = parse_json(out.pop(ATTR_TYPES_ATTR, "{}"))
    if not isinstance(types, dict):
        raise ValueError(f"{ATTR_TYPES_ATTR} is not a JSON object")
    for key, value in out.items():
        record = types.get(key)
        if record is None:  # written from a Python scalar
            if isinstance(value, np.integer):
                out[key] = int(value)
            elif isinstance(value, np.floating):
                out[key] = float(value)
        elif record == _BIG_INT:
            out[key] = int(str(value))
        elif "shape" in record:
            dt = _checked_dtype(record["dtype"], f"{what} {key!r}", value, source)
            shape = record["shape"]
            if not isinstance(shape, list) or not all(
                    isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
                raise ValueError(f"{what} {key!r}: bad recorded shape {shape!r:.40}")
            out[key] = np.asarray(value, dtype=dt).reshape(shape)
        else:
            dt = _checked_dtype(record["dtype"], f"{what} {key!r}", value, source)
            out[key] = dt.type(value)
    return out


def _prepare(ds: xr.Dataset, compression_level: int, chunk_time: int | None):
    """A copy of ``ds`` ready for ``to_netcdf`` and its ``encoding`` argument."""
    coords, data_vars, encoding = {}, {}, {}
    for name, var in ds.variables.items():
        var = var.copy(deep=False)
        var.encoding = {}
        attrs = _encode_attrs(var.attrs)
        enc: dict = {}
        kind = var.dtype.kind
        if kind in _STRING_KINDS:
            attrs[DTYPE_ATTR] = "object" if kind == "O" else var.dtype.str
            if kind == "O" and var.size == 0:  # xarray would infer float64 and fail
                var = var.copy(deep=False, data=np.zeros(var.shape, dtype="<U1"))
        elif kind in _NUMERIC_KINDS:
            enc["_FillValue"] = None
            if compression_level and var.size:
                enc.update(zlib=True, complevel=compression_level, shuffle=True)
            if chunk_time and "time" in var.dims and var.size:
                enc["chunksizes"] = tuple(min(chunk_time, n) if d == "time" else n
                                          for d, n in zip(var.dims, var.shape, strict=True))
        var.attrs = attrs
        encoding[name] = enc
        (coords if name in ds.coords else data_vars)[name] = var
    attrs = _encode_attrs(ds.attrs)
    attrs[DIGEST_ATTR] = content_digest(ds)
    out = xr.Dataset(data_vars, coords, attrs=attrs)
    return out, encoding


def _array_bytes(values: np.ndarray) -> bytes:
    if values.dtype.kind == "O":
        return repr(values.ravel().tolist()).encode("utf-8", "surrogatepass")
    return np.ascontiguousarray(values).tobytes()


def content_digest(ds: xr.Dataset) -> str:
    """SHA-256 (hex) of a Dataset's content: every variable's name, role (coordinate or
    not), dims, dtype, shape, values (bytes) and attrs (names, types, values), and the
    Dataset's attrs, in name order. Two Datasets that :func:`load_simulation` treats as the
    same (identical, with the same dtypes and attr types) have the same digest.

    Examples
    --------
    >>> import xarray as xr
    >>> a = xr.Dataset({"V": ("time", [-65.0, -64.5])}, attrs={"seed": 1})
    >>> content_digest(a) == content_digest(a.copy(deep=True))
    True
    >>> content_digest(a) == content_digest(a.assign_attrs(seed=2))
    False
    """
    h = hashlib.sha256()

    def put(part) -> None:
        data = part if isinstance(part, bytes) else repr(part).encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)

    def put_attrs(attrs: dict) -> None:
        put(len(attrs))
        for key in sorted(attrs, key=str):
            value = attrs[key]
            if key == DIGEST_ATTR:
                continue
            put(str(key))
            if isinstance(value, np.ndarray):
                put((value.dtype.str, value.shape))
                put(_array_bytes(value))
            else:
                put((type(value).__name__, value))

    put_attrs(ds.attrs)
    for name in sorted(ds.variables, key=str):
        var = ds.variables[name]
        put((str(name), name in ds.coords, var.dims, var.dtype.str, var.shape))
        put(_array_bytes(np.asarray(var.values)))
        put_attrs(var.attrs)
    return h.hexdigest()


def save_simulation(ds: xr.Dataset, path, *, compression_level: int = 4,
                    chunk_time: int | None = None) -> Path:
    """Write a Dataset to a NetCDF-4 file, losslessly and atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        A simulation result or any other Dataset of the package (analysis outputs with other
        dims included). Attrs must be str, int, float or numpy numbers/arrays.
    path : str or path-like
        Target file; ``.nc`` is appended when it has no suffix. An existing file is replaced
        only once the new one is complete.
    compression_level : int
        zlib level 0-9 for numeric variables; 0 writes them uncompressed.
    chunk_time : int, optional
        Chunk length (samples) along ``time`` for variables that have that dim; other dims are
        one chunk. ``None`` lets the library choose.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ExportError
        The folder is missing or not writable, the path is a folder, or writing failed.
    ValueError
        ``compression_level`` outside 0-9 or ``chunk_time`` < 1.
    TypeError
        ``ds`` is not a Dataset, or an attr has a type NetCDF cannot store (bool, None, dict:
        store flags as 0/1 and structures as JSON strings).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from neurosim_nb import LIFNeuron
    >>> ds = LIFNeuron.create_excitatory().simulate(20.0, 2.0, seed=0)
    >>> path = save_simulation(ds, pathlib.Path(tempfile.mkdtemp()) / "run.nc", chunk_time=50)
    >>> load_simulation(path).V.encoding["chunksizes"]
    (50, 1)
    """
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"save_simulation needs an xarray.Dataset, got {type(ds).__name__}")
    level = int(compression_level)
    if not 0 <= level <= 9:
        raise ValueError(f"compression_level must be 0 (none) to 9, got {compression_level}")
    if chunk_time is not None and int(chunk_time) < 1:
        raise ValueError(f"chunk_time must be a positive number of samples, got {chunk_time}")
    target = Path(path).expanduser()
    if not target.suffix:
        target = target.with_name(target.name + ".nc")
    out, encoding = _prepare(ds, level, None if chunk_time is None else int(chunk_time))
    with atomic_path(target) as tmp:
        try:
            out.to_netcdf(tmp, mode="w", format="NETCDF4", engine="netcdf4",
                          encoding=encoding)
        except (OSError, RuntimeError) as e:  # a full disk: RuntimeError("NetCDF: HDF error")
            raise write_failure(target, e) from e
    return target


def _restore(ds: xr.Dataset, source="the file") -> xr.Dataset:
    """Undo the bookkeeping of :func:`_prepare` on a freshly opened Dataset, in place."""
    ds.attrs = _decode_attrs(ds.attrs, source, "Dataset attr")
    for name in list(ds.variables):
        var = ds.variables[name]
        var.attrs = _decode_attrs(var.attrs, source, f"variable {name!r} attr")
        dtype = var.attrs.pop(DTYPE_ATTR, None)
        if dtype is not None and var.dtype != np.dtype(dtype):
            values = np.asarray(var.values)
            if values.dtype.kind not in "OUS":
                raise ValueError(f"variable {name!r}: {values.dtype} data recorded as {dtype!r}")
            if dtype != "object":
                _checked_dtype(dtype, f"variable {name!r}", values, source)
            cast = xr.Variable(var.dims, values.astype(dtype), var.attrs, var.encoding)
            if name in ds.coords:
                ds.coords[name] = cast
            else:
                ds[name] = cast
    return ds


def load_simulation(path, *, lazy: bool = False, validate: bool = True) -> xr.Dataset:
    """Read a Dataset written by :func:`save_simulation` (or any NetCDF file).

    Parameters
    ----------
    path : str or path-like
        A NetCDF file (NetCDF-4 or classic).
    lazy : bool
        ``False`` (default) reads everything into memory and closes the file. ``True`` reads
        only the metadata and the index coordinates; variables such as ``V`` are read from
        disk when first used (xarray's lazy indexing, no dask), so the file stays open until
        ``ds.close()`` (or the end of a ``with load_simulation(p, lazy=True) as ds:`` block).
        Close it before overwriting the file. Damage inside a variable's data is then found
        only when that variable is read (netCDF4 raises ``RuntimeError``).
    validate : bool
        Check a neurosim_nb result (a Dataset with ``spike_time`` and the
        ``neurosim_nb_version`` attr) with :func:`~neurosim_nb.schema.validate_dataset`.
        Other Datasets, such as analysis outputs or a bare spike list read from CSV, are
        returned as they were saved.

    Returns
    -------
    xarray.Dataset
        Identical to the Dataset saved, dtypes and attr types included.

    Raises
    ------
    ExportError
        Missing, unreadable, truncated or non-NetCDF file, or (``validate=True``) a result
        that does not follow the schema.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from neurosim_nb import LIFNeuron
    >>> ds = LIFNeuron.create_excitatory().simulate(20.0, 2.0, seed=0)
    >>> path = save_simulation(ds, pathlib.Path(tempfile.mkdtemp()) / "run.nc")
    >>> with load_simulation(path, lazy=True) as lazy_ds:
    ...     print(lazy_ds.V.variable._in_memory, float(lazy_ds.V.max()) < -50.0)
    False True
    """
    p = readable_path(path)
    if _isolated.AVAILABLE and ISOLATE:
        # HDF5 first meets the file in a child (module doc): a loop, a crash or a leak on a
        # damaged file stays there; an eager read is complete there and only its result comes
        # back, a lazy one is repeated here once the child has read what it reads
        result = _isolated.run_isolated(
            _read_in_child, (p, lazy, validate), what=f"cannot read {p}",
            timeout=_isolated.time_limit(p.stat().st_size))
        if not lazy:
            return result
    return _read(p, lazy, validate)


def _read_in_child(p: Path, lazy: bool, validate: bool) -> xr.Dataset | None:
    """:func:`_read` as run by the child: an eager result, or ``None`` (lazy: closed)."""
    ds = _read(p, lazy, validate)
    if not lazy:
        return ds
    ds.close()
    return None


def _read(p: Path, lazy: bool, validate: bool) -> xr.Dataset:
    """:func:`load_simulation` in this process."""
    _check_declared_sizes(p, lazy)
    import netCDF4

    try:
        nc = netCDF4.Dataset(p, "r")
    except _READ_ERRORS as e:
        raise ExportError(f"cannot read {p}: not a NetCDF file, or truncated or corrupt "
                          f"({_short(e)})") from e
    try:  # from here on the file is closed on any failure (xarray's own open leaked it)
        try:
            raw = xr.open_dataset(xr.backends.NetCDF4DataStore(nc), decode_timedelta=False)
        except _READ_ERRORS as e:
            raise ExportError(f"cannot read {p}: not a NetCDF file, or truncated or corrupt "
                              f"({_short(e)})") from e
        try:
            if not lazy:
                raw.load()
            digest = raw.attrs.pop(DIGEST_ATTR, None)
            ds = _restore(raw, p)
            if digest is not None and not lazy and digest != content_digest(ds):
                raise ExportError(f"cannot read {p}: its content does not match the digest "
                                  "written with it (the file was damaged or changed after it "
                                  "was written)")
            if validate and "spike_time" in ds.variables and "neurosim_nb_version" in ds.attrs:
                validate_dataset(ds)
        except SchemaError as e:
            raise ExportError(f"{p} is not a valid neurosim_nb result: {e}") from e
        except _READ_ERRORS as e:
            if isinstance(e, ExportError):
                raise
            raise ExportError(f"cannot read {p}: corrupt NetCDF file ({_short(e)})") from e
    except BaseException:
        nc.close()
        raise
    if not lazy:
        nc.close()
        ds.set_close(None)  # nothing left open (and the result can be pickled)
    return ds


def _check_declared_sizes(p: Path, lazy: bool) -> None:
    """Refuse a file whose variables declare more bytes than it can hold or than memory
    allows, reading its metadata only (``lazy``: only the index coordinates xarray loads)."""
    import netCDF4

    try:
        with netCDF4.Dataset(p, "r") as nc:
            declared = {}
            for name, var in nc.variables.items():
                if lazy and var.dimensions != (name,):
                    continue
                itemsize = 8 if var.dtype is str else np.dtype(var.dtype).itemsize
                declared[name] = (math.prod(var.shape), itemsize)
    except _READ_ERRORS as e:
        raise ExportError(f"cannot read {p}: not a NetCDF file, or truncated or corrupt "
                          f"({_short(e)})") from e
    if not declared:
        return
    total = sum(n * size for n, size in declared.values())
    big = max(declared, key=lambda k: declared[k][0] * declared[k][1])
    what = (f"{'its index coordinates' if lazy else 'its variables'} (the largest, {big!r}: "
            f"{declared[big][0]} values)")
    check_declared(p, what, total, stored=p.stat().st_size, ratio=_NETCDF_RATIO,
                   slack=_NETCDF_SLACK)


def _short(error: BaseException) -> str:
    """First line of an error message, without the path the caller names already."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    text = re.sub(r"^\[Errno -?\d+\] ", "", text)
    return text.split(": '")[0]
