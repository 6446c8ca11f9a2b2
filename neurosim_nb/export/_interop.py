"""What the Neo and NWB exporters share: the optional-dependency import, the input checks,
the neuron table (population and model of every neuron), the spike trains, the traces and
the attrs as JSON.

Only numpy/xarray here; Neo, quantities and pynwb are imported by :func:`require` inside the
exporters, so ``import neurosim_nb`` never needs them.

>>> from neurosim_nb import LIFNeuron
>>> ds = LIFNeuron.create_excitatory(n=2).simulate(20.0, 2.0, seed=0)
>>> table = neuron_table(ds)
>>> table.population.tolist(), table.model.tolist()
(['excitatory', 'excitatory'], ['LIFNeuron', 'LIFNeuron'])
>>> trace_variables(ds, None, "to_neo")
['V']
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass

import numpy as np
import xarray as xr

from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError

INSTALL_HINT = 'pip install "neurosim_nb[interop]"'


def require(module: str, owner: str):
    """Import the optional ``module`` for ``owner``, or an :class:`ImportError` saying how to
    install it.

    >>> require("json", "to_neo").__name__
    'json'
    >>> try:
    ...     require("no_such_module_xyz", "to_neo")
    ... except ImportError as e:
    ...     print(str(e).replace(", ", ",\\n"))
    to_neo needs the optional package 'no_such_module_xyz',
    which is not installed: pip install "neurosim_nb[interop]"
    """
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"{owner} needs the optional package {module.split('.')[0]!r}, "
                          f"which is not installed: {INSTALL_HINT}") from e


def has_spikes(ds: xr.Dataset) -> bool:
    """True when ``ds`` has the spike list (``spike_time`` and ``spike_neuron``)."""
    return "spike_time" in ds and "spike_neuron" in ds


def check_dataset(ds, owner: str) -> None:
    """Refuse what is not a result Dataset with spikes or traces (named errors).

    >>> try:
    ...     check_dataset(xr.Dataset(), "to_neo")
    ... except InvalidArgumentError as e:
    ...     print(str(e)[:60])
    to_neo(ds): the Dataset has neither spikes (spike_time, spik
    """
    if not isinstance(ds, xr.Dataset):
        raise ArgumentTypeError(f"{owner}(ds): ds must be an xarray.Dataset (a neurosim_nb "
                                f"result), got {type(ds).__name__}")
    if has_spikes(ds):
        return
    if "spike_time" in ds or "spike_neuron" in ds:
        raise InvalidArgumentError(f"{owner}(ds): the Dataset has only one of spike_time and "
                                   "spike_neuron; a spike list needs both")
    if not any(is_trace(ds, v) for v in ds.data_vars.values()):
        raise InvalidArgumentError(
            f"{owner}(ds): the Dataset has neither spikes (spike_time, spike_neuron) nor "
            "traces (a variable along 'time'); pass a neurosim_nb simulation result")


def is_trace(ds: xr.Dataset, var: xr.DataArray) -> bool:
    """True for a variable sampled in time: its first dimension is ``time``, or another
    dimension whose coordinate is in ms (e.g. ``weight_time`` of recorded weights)."""
    if not var.dims:
        return False
    dim = var.dims[0]
    return dim == "time" or (dim in ds.coords and ds[dim].dims == (dim,)
                             and ds[dim].attrs.get("units") == "ms")


def window(ds: xr.Dataset) -> tuple[float, float]:
    """Observation window ``(t_start, t_stop)`` of a run (ms): ``t_start_ms`` (default 0)
    and ``t_start_ms + duration``; without ``duration``, the last spike or sample."""
    t0 = float(ds.attrs.get("t_start_ms", 0.0))
    if "duration" in ds.attrs:
        return t0, t0 + float(ds.attrs["duration"])
    last = [t0]
    if has_spikes(ds) and ds.sizes.get("spike", 0):
        last.append(float(ds["spike_time"].max()))
    if "time" in ds.coords and ds.sizes["time"]:
        last.append(float(ds["time"].max()))
    return t0, max(last)


@dataclass(frozen=True)
class NeuronTable:
    """Population and model of every neuron of a run (global ids ``0 .. n - 1``)."""

    population: np.ndarray  # (n,) str
    model: np.ndarray       # (n,) str

    @property
    def n(self) -> int:
        """Number of neurons."""
        return int(self.population.size)

    def names(self) -> list[str]:
        """Population names in order of first appearance."""
        return list(dict.fromkeys(self.population.tolist()))


def neuron_table(ds: xr.Dataset) -> NeuronTable:
    """The neuron table from ``params_json`` (every neuron, recorded or not), else from the
    ``population`` coordinate, else one population named after the ``model`` attr."""
    n = int(ds.attrs.get("n_neurons", 0))
    if has_spikes(ds) and ds.sizes.get("spike", 0):
        n = max(n, int(ds["spike_neuron"].max()) + 1)
    if "neuron" in ds.coords:
        n = max(n, int(ds["neuron"].max()) + 1 if ds.sizes["neuron"] else 0)
    model = str(ds.attrs.get("model", "unknown"))
    pop = np.full(n, str(ds.attrs.get("population", model)), dtype=object)
    mod = np.full(n, model, dtype=object)
    try:
        records = json.loads(ds.attrs["params_json"])["populations"]
        for r in records:
            first, size = int(r["first_id"]), int(r["n"])
            pop[first:first + size] = str(r["name"])
            mod[first:first + size] = str(r["model"])
    except (KeyError, TypeError, ValueError):
        if "population" in ds.coords and ds["population"].dims == ("neuron",):
            ids = np.asarray(ds["neuron"].values, dtype=np.int64)
            pop[ids] = np.asarray(ds["population"].values).astype(str)
    return NeuronTable(pop.astype(str), mod.astype(str))


def spike_trains(ds: xr.Dataset, n: int) -> list[np.ndarray]:
    """Spike times (ms, float64, in time order) of neurons ``0 .. n - 1``; the values are
    the Dataset's own (no arithmetic)."""
    times = np.asarray(ds["spike_time"].values, dtype=np.float64)
    ids = np.asarray(ds["spike_neuron"].values, dtype=np.int64)
    order = np.lexsort((times, ids))
    bounds = np.searchsorted(ids[order], np.arange(n + 1))
    return [times[order[bounds[i]:bounds[i + 1]]] for i in range(n)]


def trace_variables(ds: xr.Dataset, variables, owner: str) -> list[str]:
    """Names of the traces to export: ``variables`` (checked), or every data variable whose
    first dimension is a time axis (:func:`is_trace`)."""
    found = [k for k, v in ds.data_vars.items() if is_trace(ds, v)]
    if variables is None:
        return [str(k) for k in found]
    if isinstance(variables, str):
        variables = [variables]
    try:
        names = list(variables)
    except TypeError:
        raise ArgumentTypeError(f"{owner}(variables=...) must be a list of variable names, "
                                f"got {variables!r}") from None
    for name in names:
        if name not in found:
            raise InvalidArgumentError(
                f"{owner}(variables=...): {name!r} is not a trace of the Dataset; it has "
                f"{found or 'none'}")
    return [str(k) for k in names]


def channels(var: xr.DataArray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A trace as a 2-D ``(time, channel)`` array and, per channel, its position on
    each other dimension and the values of the coordinates along them (e.g. ``neuron``,
    ``population``, ``compartment``)."""
    values = np.asarray(var.values)
    other = var.dims[1:]
    flat = values.reshape(values.shape[0], int(np.prod(values.shape[1:], dtype=np.int64)))
    annotations: dict[str, np.ndarray] = {}
    if not other:
        return flat, annotations
    index = np.indices(values.shape[1:]).reshape(len(other), -1)
    template = var.isel({var.dims[0]: 0}, drop=True)
    for axis, dim in enumerate(other):
        annotations[str(dim)] = index[axis].astype(np.int64)
    for name, coord in var.coords.items():
        if var.dims[0] in coord.dims or not coord.dims:
            continue
        vals = coord.variable.set_dims(dict(template.sizes)).transpose(*other).values
        annotations[str(name)] = _plain(np.asarray(vals).reshape(-1))
    return flat, annotations


def _plain(a: np.ndarray) -> np.ndarray:
    """Object/bytes arrays as str arrays (Neo and HDF5 refuse object arrays)."""
    if a.dtype.kind in "OSU":
        return a.astype(str)
    return a


def regular_period(time: np.ndarray, ds: xr.Dataset) -> float | None:
    """The sampling period (ms) of a regular time axis, else ``None`` (irregular).

    The period is ``dt * sample_every`` when those attrs describe the axis, else the mean
    step; "regular" means every step within 1e-9 relative of it.
    """
    step = None
    if "dt" in ds.attrs:
        step = float(ds.attrs["dt"]) * int(ds.attrs.get("sample_every", 1))
    if time.size < 2:
        return step
    diffs = np.diff(time)
    if step is None or not np.allclose(diffs, step, rtol=1e-9, atol=0.0):
        step = float((time[-1] - time[0]) / (time.size - 1))
    if not np.allclose(diffs, step, rtol=1e-9, atol=1e-12):
        return None
    return step


def json_attrs(attrs: dict) -> dict:
    """The attrs with numpy values as Python ones (JSON-serialisable; NaN/inf kept as floats).

    >>> json_attrs({"n": np.int64(3), "a": np.arange(2), "s": "x", "f": np.float32(0.5)})
    {'n': 3, 'a': [0, 1], 's': 'x', 'f': 0.5}
    """
    out = {}
    for key, value in attrs.items():
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        elif not isinstance(value, str | int | float | bool | list | dict) and value is not None:
            value = str(value)
        out[str(key)] = value
    return out


def spike_result(times_ms: np.ndarray, ids: np.ndarray, n: int, duration: float, dt: float,
                 population: np.ndarray | None, attrs: dict) -> xr.Dataset:
    """A result Dataset of spikes only (the ``time`` axis ``dt .. duration``), spikes sorted
    by (time, id), the given times unchanged; ``attrs`` on top of the required ones."""
    from neurosim_nb._version import __version__

    order = np.lexsort((ids, times_ms))
    n_steps = int(round(duration / dt))
    coords: dict = {"time": ("time", np.arange(1, n_steps + 1) * dt,
                             {"units": "ms", "long_name": "time", "axis": "T"}),
                    "neuron": ("neuron", np.arange(n, dtype=np.int64),
                               {"units": "1", "long_name": "neuron id"})}
    if population is not None:
        coords["population"] = ("neuron", np.asarray(population, dtype=object),
                                {"long_name": "population label"})
    base = {"Conventions": "CF-1.10", "model": "external", "seed": -1,
            "neurosim_nb_version": __version__, "params_json": "{}"}
    return xr.Dataset(
        {"spike_time": ("spike", times_ms[order], {"units": "ms", "long_name": "spike time"}),
         "spike_neuron": ("spike", ids[order].astype(np.int64),
                          {"units": "1", "long_name": "neuron id of spike"})},
        coords=coords,
        attrs=base | attrs | {"n_neurons": int(n), "duration": float(duration),
                              "dt": float(dt)})
