"""One entry point for every format: :func:`save_result` and :func:`load_result`.

The format comes from ``format=`` or from the file name (:func:`format_from_path`): ``.nc``
NetCDF (native, lossless), ``.npz`` NumPy, ``.json`` web JSON, ``.csv`` spreadsheets and
``.oni.json`` the ONI Framework's native export. A name without suffix means NetCDF.

>>> import tempfile, pathlib
>>> from neurosim_nb import LIFNeuron
>>> ds = LIFNeuron.create_excitatory().simulate(20.0, 2.0, seed=0)
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> [p.name for p in save_result(ds, folder / "run.npz")]
['run.npz']
>>> load_result(folder / "run.npz").identical(ds)
True
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr

__all__ = ["FORMATS", "SUFFIXES", "format_from_path", "save_result", "load_result"]

#: the formats :func:`save_result` writes
FORMATS = ("netcdf", "npz", "json", "csv", "oni")
#: format -> suffix given to a file name that has none
SUFFIXES = {"netcdf": ".nc", "npz": ".npz", "json": ".json", "csv": ".csv", "oni": ".oni.json"}
#: suffix (lower case) -> format; ``.oni.json`` is checked before ``.json``
_BY_SUFFIX = {".nc": "netcdf", ".nc4": "netcdf", ".netcdf": "netcdf", ".npz": "npz",
              ".json": "json", ".csv": "csv"}
#: the formats :func:`load_result` reads
READABLE = ("netcdf", "npz", "json", "csv")


def _check_format(format: str, allowed: tuple[str, ...] = FORMATS) -> str:
    fmt = str(format).lower()
    if fmt not in allowed:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(allowed)}")
    return fmt


def format_from_path(path) -> str:
    """The format a file name stands for.

    Parameters
    ----------
    path : str or path-like
        A file name; its suffix is compared case-insensitively.

    Returns
    -------
    str
        One of :data:`FORMATS`: ``.nc``/``.nc4``/``.netcdf`` netcdf, ``.npz``, ``.json``,
        ``.csv``, ``.oni.json`` oni; no suffix at all means netcdf (the native format).

    Raises
    ------
    ValueError
        An unknown suffix, naming the known ones.

    Examples
    --------
    >>> format_from_path("run.NC"), format_from_path("run.oni.json"), format_from_path("run")
    ('netcdf', 'oni', 'netcdf')
    """
    name = Path(path).name.lower()
    if name.endswith(SUFFIXES["oni"]):
        return "oni"
    suffix = Path(name).suffix
    if not suffix:
        return "netcdf"
    if suffix not in _BY_SUFFIX:
        known = ", ".join([*_BY_SUFFIX, SUFFIXES["oni"]])
        raise ValueError(f"cannot tell the format of {Path(path).name!r} from its suffix "
                         f"{suffix!r}; use one of {known} or pass format= "
                         f"(one of {', '.join(FORMATS)})")
    return _BY_SUFFIX[suffix]


def save_result(ds: xr.Dataset, path, format: str | None = None, *,
                network=None) -> list[Path]:
    """Save a result in any format.

    Parameters
    ----------
    ds : xarray.Dataset
        A simulation result (or, for netcdf/npz/json, any Dataset of the package).
    path : str or path-like
        Target file; the format's suffix (:data:`SUFFIXES`) is added when it has none.
    format : {"netcdf", "npz", "json", "csv", "oni"}, optional
        Default: from the suffix (:func:`format_from_path`).
    network : Network, optional
        The simulated network, needed by the ``oni`` export (layers, connectivity).

    Returns
    -------
    list of pathlib.Path
        The files written (CSV writes one per state variable besides the spike file).

    Raises
    ------
    ValueError
        Unknown format or suffix.
    ExportError
        Unwritable path or failed write; nothing half-written is left.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from neurosim_nb import LIFNeuron
    >>> ds = LIFNeuron.create_excitatory().simulate(20.0, 2.0, seed=0)
    >>> [p.name for p in save_result(ds, pathlib.Path(tempfile.mkdtemp()) / "run", "csv")]
    ['run.csv', 'run_V.csv']
    """
    fmt = format_from_path(path) if format is None else _check_format(format)
    target = Path(path).expanduser()
    if not target.suffix:
        target = target.with_name(target.name + SUFFIXES[fmt])
    if fmt == "netcdf":
        from neurosim_nb.export.netcdf import save_simulation
        return [save_simulation(ds, target)]
    if fmt == "npz":
        from neurosim_nb.export.formats import save_npz
        return [save_npz(ds, target)]
    if fmt == "json":
        from neurosim_nb.export.formats import save_json
        return [save_json(ds, target)]
    if fmt == "csv":
        from neurosim_nb.export.formats import save_csv
        return save_csv(ds, target)
    from neurosim_nb.export.oni_export import ONIDataFormat, ONIExporter
    exporter = ONIExporter()
    data = exporter.export(ds, network)
    written = exporter.save(data, target, ONIDataFormat.ONI_NATIVE)
    return [Path(written) if written is not None else target]


def load_result(path, format: str | None = None) -> xr.Dataset:
    """Load a result saved by :func:`save_result`.

    Parameters
    ----------
    path : str or path-like
        A NetCDF, NPZ, JSON or CSV spike file.
    format : {"netcdf", "npz", "json", "csv"}, optional
        Default: from the suffix. ``csv`` reads the spike list (:func:`load_csv_spikes`);
        the ONI export is write-only.

    Returns
    -------
    xarray.Dataset
        NetCDF results are validated (:func:`~neurosim_nb.export.netcdf.load_simulation`).

    Raises
    ------
    ValueError
        Unknown or unreadable format.
    ExportError
        Missing, truncated, corrupt or foreign file.

    Examples
    --------
    >>> import tempfile, pathlib, xarray as xr
    >>> ds = xr.Dataset({"rate": ("current", [0.0, 12.5])})
    >>> (path,) = save_result(ds, pathlib.Path(tempfile.mkdtemp()) / "fI.json")
    >>> load_result(path).identical(ds)
    True
    """
    fmt = format_from_path(path) if format is None else _check_format(format)
    if fmt == "oni":
        raise ValueError(f"the ONI export is write-only; load_result reads "
                         f"{', '.join(READABLE)}")
    if fmt == "netcdf":
        from neurosim_nb.export.netcdf import load_simulation
        return load_simulation(path)
    from neurosim_nb.export import formats
    reader = {"npz": formats.load_npz, "json": formats.load_json,
              "csv": formats.load_csv_spikes}[fmt]
    return reader(path)
