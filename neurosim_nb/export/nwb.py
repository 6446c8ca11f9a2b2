"""NWB export: a result Dataset as a Neurodata Without Borders 2.x file (``pynwb``).

:func:`save_nwb` (also ``ds.neuro.to_nwb(path)``) writes, and :func:`to_nwbfile` builds in
memory, an :class:`pynwb.NWBFile` with

* ``session_description`` the run's ``title``, ``identifier`` a fresh UUID (or yours),
  ``session_start_time`` the run's ``timestamp``/``created`` attr if it has one (ISO 8601),
  else the fixed epoch 1970-01-01T00:00:00Z, so two exports of one result differ only in
  ``identifier`` and ``file_create_date``;
* the **units table**: one row per neuron of the run (silent and unrecorded ones included),
  ``id`` the global neuron id, ``spike_times`` in **seconds** as NWB requires (the file
  holds ``spike_time / 1000`` computed once in float64), ``obs_intervals`` the run's
  window, and the columns ``population`` and ``model``;
* each **trace** (``V``, gates, ``I_ext``, any variable along ``time``) as a
  :class:`pynwb.TimeSeries` in ``acquisition``: the Dataset's float64 values unchanged
  (bit-equal on reading), ``unit`` the SI unit with ``conversion`` to it (``mV`` ->
  ``volts`` x 1e-3, ``nA`` -> ``amperes`` x 1e-9; other units as written, conversion 1),
  ``starting_time``/``rate`` in s/Hz from ``time`` (``timestamps`` when irregular) and, in
  ``comments``, a JSON record of the other dimensions and their coordinates (``neuron``,
  ``population``); ``description`` the ``long_name``.
  Why ``TimeSeries`` in ``acquisition``: a ``PatchClampSeries`` needs an
  ``IntracellularElectrode`` on a ``Device`` -- inventing an electrode would be false
  metadata for a simulated cell -- and the traces are the run's primary data, not derived
  from other data in the file (what ``processing`` modules hold);
* the **provenance**: ``notes`` holds the model JSON (``{"params": params_json,
  "stimuli": stimuli_json}``), ``experiment_description`` a one-line summary (model, dt,
  duration, seed, neurosim_nb version) and the scratch entry ``neurosim_nb_attrs`` every
  attr of the Dataset as JSON.

Files validate with ``pynwb.validate`` and read back with ``pynwb.NWBHDF5IO``; pynwb is
optional (``pip install "neurosim_nb[interop]"``). The write is atomic: a temporary file
beside the target, renamed when complete; a failure (full disk included) is an
:class:`ExportError` and leaves an existing file untouched.

>>> import tempfile, pathlib
>>> from neurosim_nb import LIFNeuron
>>> ds = LIFNeuron.create_excitatory(n=2).simulate(50.0, 2.0, seed=0)
>>> path = save_nwb(ds, pathlib.Path(tempfile.mkdtemp()) / "run")
>>> path.name
'run.nwb'
>>> from pynwb import NWBHDF5IO
>>> with NWBHDF5IO(str(path), "r") as io:
...     f = io.read()
...     print(len(f.units), f.acquisition["V"].unit, f.acquisition["V"].data.shape)
2 volts (500, 2)
"""

from __future__ import annotations

import json
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import xarray as xr

from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError
from neurosim_nb.export._atomic import ExportError, atomic_path
from neurosim_nb.export._interop import (
    channels,
    check_dataset,
    has_spikes,
    json_attrs,
    neuron_table,
    regular_period,
    require,
    spike_trains,
    trace_variables,
    window,
)

__all__ = ["to_nwbfile", "save_nwb", "load_nwb", "nwb_unit"]

#: the fixed session start of a result without a timestamp attr
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: units attr -> (NWB unit, conversion factor to it)
SI_UNITS = {
    "mV": ("volts", 1e-3), "V": ("volts", 1.0), "uV": ("volts", 1e-6),
    "nA": ("amperes", 1e-9), "pA": ("amperes", 1e-12), "uA": ("amperes", 1e-6),
    "uS": ("siemens", 1e-6), "nS": ("siemens", 1e-9), "mS": ("siemens", 1e-3),
    "ms": ("seconds", 1e-3), "s": ("seconds", 1.0), "Hz": ("hertz", 1.0),
    "um": ("meters", 1e-6), "mM": ("mol/m^3", 1.0), "uM": ("mol/m^3", 1e-3),
    "1": ("dimensionless", 1.0), "": ("dimensionless", 1.0),
}
#: attrs read as the session start time, in this order
TIMESTAMP_ATTRS = ("timestamp", "created", "session_start_time")


def nwb_unit(units: str) -> tuple[str, float]:
    """The NWB ``unit`` and ``conversion`` of a ``units`` attr: data x conversion is in
    the SI unit; unknown units are kept as written with conversion 1.

    >>> nwb_unit("mV"), nwb_unit("1"), nwb_unit("uA/cm2")
    (('volts', 0.001), ('dimensionless', 1.0), ('uA/cm2', 1.0))
    """
    if not isinstance(units, str):
        raise ArgumentTypeError(f"nwb_unit(units): units must be a string, got {units!r}")
    return SI_UNITS.get(units.strip(), (units, 1.0))


def _start_time(ds: xr.Dataset, session_start_time) -> datetime:
    if session_start_time is not None:
        if not isinstance(session_start_time, datetime):
            raise ArgumentTypeError("save_nwb(session_start_time=...) must be a datetime, got "
                                    f"{session_start_time!r}")
        if session_start_time.tzinfo is None:
            raise InvalidArgumentError("save_nwb(session_start_time=...) needs a time zone "
                                       f"(NWB requires one), got {session_start_time!r}")
        return session_start_time
    for key in TIMESTAMP_ATTRS:
        if isinstance(ds.attrs.get(key), str):
            try:
                t = datetime.fromisoformat(ds.attrs[key])
            except ValueError:
                continue
            return t if t.tzinfo else t.replace(tzinfo=UTC)
    return EPOCH


def _coord_record(coord: xr.DataArray) -> dict:
    """A coordinate as JSON: dims, values (exact: JSON floats are repr), dtype, attrs."""
    values = np.asarray(coord.values)
    return {"dims": [str(d) for d in coord.dims], "dtype": values.dtype.str,
            "values": values.tolist(), "attrs": json_attrs(coord.attrs)}


def _coord(record: dict) -> tuple:
    dtype = np.dtype(record["dtype"])
    return (tuple(record["dims"]), np.asarray(record["values"], dtype=dtype),
            record["attrs"])


def _model_json(ds: xr.Dataset) -> str:
    out = {}
    for key, name in (("params_json", "params"), ("stimuli_json", "stimuli")):
        text = ds.attrs.get(key)
        if isinstance(text, str):
            try:
                out[name] = json.loads(text)
            except ValueError:
                out[name] = text
    return json.dumps(out)


def to_nwbfile(ds: xr.Dataset, *, variables=None, session_start_time=None,
               identifier: str | None = None):
    """A result Dataset as an in-memory :class:`pynwb.NWBFile` (see the module doc).

    Parameters
    ----------
    ds : xarray.Dataset
        A neurosim_nb result with spikes and/or traces.
    variables : list of str, optional
        Traces to write (default every variable along ``time``; ``[]`` for spikes only).
    session_start_time : datetime.datetime, optional
        With a time zone; default the run's timestamp attr, else 1970-01-01T00:00:00Z.
    identifier : str, optional
        The file's identifier; default a new UUID4.

    Returns
    -------
    pynwb.NWBFile

    Raises
    ------
    ImportError
        pynwb is not installed (``pip install "neurosim_nb[interop]"``).
    ArgumentTypeError, InvalidArgumentError
        Not a Dataset, neither spikes nor traces, an unknown variable, a bad argument.

    Examples
    --------
    >>> from neurosim_nb import LIFNeuron
    >>> ds = LIFNeuron.create_excitatory(n=2).simulate(50.0, 2.0, seed=0)
    >>> f = to_nwbfile(ds, identifier="demo")
    >>> f.identifier, f.session_start_time.year, f.units["population"][0]
    ('demo', 1970, 'excitatory')
    >>> bool((f.units["spike_times"][0] == ds.spike_time.values[ds.spike_neuron == 0] / 1000).all())
    True
    """
    check_dataset(ds, "save_nwb")
    names = trace_variables(ds, variables, "save_nwb")
    start = _start_time(ds, session_start_time)
    if identifier is None:
        identifier = str(uuid.uuid4())
    elif not isinstance(identifier, str) or not identifier:
        raise ArgumentTypeError("save_nwb(identifier=...) must be a non-empty string, got "
                                f"{identifier!r}")
    pynwb = require("pynwb", "save_nwb")
    require("pynwb.misc", "save_nwb")
    attrs = json_attrs(ds.attrs)
    title = str(attrs.get("title", attrs.get("model", "neurosim_nb result")))
    summary = (f"neurosim_nb {attrs.get('neurosim_nb_version', '?')} simulation of "
               f"{attrs.get('model', '?')}: dt {attrs.get('dt', '?')} ms, duration "
               f"{attrs.get('duration', '?')} ms, seed {attrs.get('seed', '?')}, method "
               f"{attrs.get('method', 'fixed')}")
    nwb = pynwb.NWBFile(session_description=title, identifier=identifier,
                        session_start_time=start, experiment_description=summary,
                        notes=_model_json(ds), source_script="neurosim_nb",
                        source_script_file_name="neurosim_nb")
    nwb.add_scratch(json.dumps(attrs), name="neurosim_nb_attrs",
                    description="every attr of the neurosim_nb result Dataset (JSON)")
    if has_spikes(ds):
        nwb.add_scratch(json.dumps({k: json_attrs(ds[k].attrs)
                                    for k in ("spike_time", "spike_neuron")}),
                        name="neurosim_nb_spike_attrs",
                        description="attrs of the spike_time/spike_neuron variables (JSON)")

    t0, t_stop = window(ds)
    if has_spikes(ds):
        table = neuron_table(ds)
        nwb.add_unit_column(name="population", description="population of the neuron")
        nwb.add_unit_column(name="model", description="neuron model class")
        interval = [[t0 / 1000.0, t_stop / 1000.0]]
        for i, times in enumerate(spike_trains(ds, table.n)):
            nwb.add_unit(spike_times=times / 1000.0, obs_intervals=interval, id=i,
                         population=str(table.population[i]), model=str(table.model[i]))

    for name in names:
        var = ds[name]
        tdim = var.dims[0]
        _, ann = channels(var)
        unit, conversion = nwb_unit(str(var.attrs.get("units", "1")))
        time = np.asarray(var[tdim].values, dtype=np.float64)
        period = regular_period(time, ds)
        record = {"dims": [str(d) for d in var.dims], "attrs": json_attrs(var.attrs),
                  "time_attrs": json_attrs(var[tdim].attrs),
                  "channels": {k: v.tolist() for k, v in ann.items()},
                  "coords": {str(k): _coord_record(c) for k, c in var.coords.items()
                             if tdim not in c.dims}}
        timing = ({"starting_time": float(time[0]) / 1000.0, "rate": 1000.0 / period}
                  if period is not None and time.size else {"timestamps": time / 1000.0})
        nwb.add_acquisition(pynwb.TimeSeries(
            name=str(name), data=np.asarray(var.values), unit=unit, conversion=conversion,
            description=str(var.attrs.get("long_name", name)), comments=json.dumps(record),
            **timing))
    return nwb


def save_nwb(ds: xr.Dataset, path, *, variables=None, session_start_time=None,
             identifier: str | None = None) -> Path:
    """Write a result Dataset to an NWB file (atomically; see the module doc).

    Parameters
    ----------
    ds : xarray.Dataset
        A neurosim_nb result with spikes and/or traces.
    path : str or os.PathLike
        Target file; ``.nwb`` is appended when it has no suffix. An existing file is
        replaced only when the new one is complete.
    variables, session_start_time, identifier
        As in :func:`to_nwbfile`.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ExportError
        The file could not be written (missing or read-only folder, full disk, HDF5 error).
    ImportError, ArgumentTypeError, InvalidArgumentError
        As in :func:`to_nwbfile`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from pynwb import validate
    >>> from neurosim_nb import LIFNeuron
    >>> ds = LIFNeuron.create_excitatory(n=2).simulate(20.0, 2.0, seed=0)
    >>> path = save_nwb(ds, pathlib.Path(tempfile.mkdtemp()) / "run.nwb")
    >>> validate(path=path)
    []
    """
    try:
        target = Path(path).expanduser()
    except TypeError:
        raise ArgumentTypeError(f"save_nwb(path): path must be a file path, got "
                                f"{path!r}") from None
    if not target.suffix:
        target = target.with_suffix(".nwb")
    nwb = to_nwbfile(ds, variables=variables, session_start_time=session_start_time,
                     identifier=identifier)
    pynwb = require("pynwb", "save_nwb")
    with atomic_path(target) as tmp:
        try:
            with warnings.catch_warnings():  # the temporary name ends in .part, not .nwb
                warnings.filterwarnings("ignore", message=".*does not end in '.nwb'")
                with pynwb.NWBHDF5IO(str(tmp), "w") as io:
                    io.write(nwb)
        except (OSError, RuntimeError, ValueError, TypeError, KeyError) as e:
            raise ExportError(f"cannot write {target}: {e}") from e
    return target


def load_nwb(path) -> xr.Dataset:
    """Read a file written by :func:`save_nwb` back into a result Dataset.

    Spike times come back in ms as ``seconds * 1000`` (within 1 ulp of the original ms:
    the file holds seconds); traces come back bit-equal with their coordinates and attrs
    (kept as JSON in each series' ``comments``) and the time coordinate recomputed from
    ``starting_time``/``rate`` (within 1e-9 ms); attrs from the scratch entry
    ``neurosim_nb_attrs``.

    Raises
    ------
    ExportError
        A missing, unreadable or foreign file (no ``neurosim_nb_attrs``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from neurosim_nb import LIFNeuron
    >>> ds = LIFNeuron.create_excitatory(n=2).simulate(20.0, 2.0, seed=0)
    >>> back = load_nwb(save_nwb(ds, pathlib.Path(tempfile.mkdtemp()) / "run.nwb"))
    >>> bool((back.V.values == ds.V.values).all()), back.sizes["spike"] == ds.sizes["spike"]
    (True, True)
    """
    from neurosim_nb.export._atomic import readable_path

    p = readable_path(path)
    pynwb = require("pynwb", "load_nwb")
    try:
        with pynwb.NWBHDF5IO(str(p), "r") as io:
            nwb = io.read()
            return _dataset(nwb, p)
    except ExportError:
        raise
    except (OSError, RuntimeError, ValueError, TypeError, KeyError) as e:
        raise ExportError(f"cannot read {p} as NWB: {e}") from None


def _dataset(nwb, p: Path) -> xr.Dataset:
    try:
        text = nwb.scratch["neurosim_nb_attrs"].data
        text = text if isinstance(text, str | bytes) else text[()]
        attrs = json.loads(text)
    except KeyError:
        raise ExportError(f"{p} was not written by neurosim_nb (no scratch entry "
                          "'neurosim_nb_attrs')") from None
    data_vars: dict = {}
    coords: dict = {}
    for name, series in nwb.acquisition.items():
        record = json.loads(series.comments)
        values = np.asarray(series.data[:])
        if series.timestamps is not None:
            time = np.asarray(series.timestamps[:]) * 1000.0
        else:
            time = (series.starting_time + np.arange(values.shape[0]) / series.rate) * 1000.0
        dims = tuple(record["dims"])
        coords.setdefault(dims[0], (dims[0], time, record["time_attrs"]))
        data_vars[name] = (dims, values, record["attrs"])
        for key, coord in record["coords"].items():
            coords.setdefault(key, _coord(coord))
    spike_attrs = {"spike_time": {"units": "ms", "long_name": "spike time"},
                   "spike_neuron": {"units": "1", "long_name": "neuron id of spike"}}
    if "neurosim_nb_spike_attrs" in nwb.scratch:
        text = nwb.scratch["neurosim_nb_spike_attrs"].data
        spike_attrs = json.loads(text if isinstance(text, str | bytes) else text[()])
    if nwb.units is not None and len(nwb.units):
        ids = np.asarray(nwb.units.id[:], dtype=np.int64)
        trains = [np.asarray(nwb.units["spike_times"][i]) * 1000.0 for i in range(len(ids))]
        times = np.concatenate(trains) if trains else np.zeros(0)
        owner = np.repeat(ids, [t.size for t in trains])
        order = np.lexsort((owner, times))
        data_vars["spike_time"] = ("spike", times[order], spike_attrs["spike_time"])
        data_vars["spike_neuron"] = ("spike", owner[order], spike_attrs["spike_neuron"])
    attrs = {k: np.asarray(v) if isinstance(v, list) else v for k, v in attrs.items()}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)
