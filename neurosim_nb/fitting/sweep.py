r"""Parameter sweeps: a model over a grid or a sampled design, scalar measures gathered into one
``xarray.Dataset``, run in batches on Dask, checkpointed and resumable.

A *point* is one set of parameter values; the sweep evaluates every point, applies every
measure to the point's result and returns one Dataset with a dimension per swept parameter
(a grid) or a ``sample`` dimension (a design), one variable per measure and an ``error``
variable (the message of a point that raised, ``""`` where fine).

* **Models.** A callable ``model(params, seed)``; the name of a neuron model family of
  :data:`~neurosim_nb.core.neurons.registry.MODEL_FAMILIES` (one neuron per point under a
  constant current, and a batch of points runs as *one* vectorised population with
  per-neuron parameters, as :func:`~neurosim_nb.analysis.transfer.transfer_function` does);
  or a network JSON spec (:mod:`~neurosim_nb.core.networks.spec`) whose parameters are key
  paths such as ``"projections.0.weight"`` or ``"populations.E.n"``.
* **Seeds** are derived per point, keyed by the point's flat index (C order of the grid, or
  the sample index): :func:`point_seed`. Results therefore do not depend on the number of
  workers, the batching or the order of completion: the serial and the Dask result are
  identical, bit for bit.
* **Batches.** Points are grouped into tasks (:func:`~neurosim_nb.fitting.cluster.map_batches`)
  so Dask's per-task cost is shared by many points.
* **Checkpointing.** With ``store=`` (a Zarr directory) every finished batch is written as
  its own Zarr group, first to a temporary name and then renamed into place (an atomic
  rename), so an interrupted write leaves nothing half-written. A rerun with the same
  arguments reads the finished points and computes only the others; a store made by another
  sweep (different model, grid, measures, fixed values or seed: a hash of the definition in
  the store's attrs) is refused.

Examples
--------
>>> def model(p, seed):
...     return {"y": p["a"] * p["b"]}
>>> ds = parameter_sweep(model, {"a": [1.0, 2.0], "b": [10.0, 20.0, 30.0]},
...                      measures={"y": "y"}, client="serial", progress=False)
>>> ds["y"].dims, ds["y"].values.tolist(), ds.attrs["n_failed"]
(('a', 'b'), [[10.0, 20.0, 30.0], [20.0, 40.0, 60.0]], 0)
"""

from __future__ import annotations

import copy
import datetime
import functools
import hashlib
import inspect
import json
import math
import os
import re
import shutil
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurosim_nb._validation import did_you_mean
from neurosim_nb._version import __version__
from neurosim_nb.errors import InvalidArgumentError
from neurosim_nb.fitting import cluster

__all__ = ["parameter_sweep", "load_sweep", "point_seed", "SWEEP_MEASURES", "SweepError",
           "FAMILY_RUN_PARAMETERS"]

#: parameters of a model-family sweep besides the family's own: the constant current (in the
#: family's ``current_units``: nA, mV/ms for Izhikevich), the simulated time (ms) and the
#: time step (ms), with their defaults
FAMILY_RUN_PARAMETERS: dict[str, float] = {"I_nA": 0.0, "duration_ms": 1000.0, "dt": 0.1}

#: scalar measures known by name (besides the keys of a model's returned mapping and the
#: analysis functions that return a scalar): name -> (units, long_name)
SWEEP_MEASURES: dict[str, tuple[str, str]] = {
    "mean_rate": ("Hz", "spikes per neuron per second over the whole run"),
    "spike_count": ("1", "number of spikes of all neurons"),
    "isi_rate": ("Hz", "1000 / mean interspike interval (0 with fewer than 2 spikes)"),
    "first_spike_ms": ("ms", "time of the first spike (the duration when none)"),
    "cv_isi": ("1", "coefficient of variation of the pooled interspike intervals"),
}


class SweepError(InvalidArgumentError):
    """A sweep that cannot run as asked: bad grid or design, unknown parameter, bad measure,
    or a store made by another sweep."""


def point_seed(seed: int, index: int) -> int:
    """The seed of point ``index`` of a sweep seeded with ``seed``.

    ``np.random.SeedSequence(seed, spawn_key=(index,))`` -- the ``index``-th child that
    ``SeedSequence(seed).spawn`` would give -- reduced to one 32-bit word. Depends on nothing
    but ``seed`` and ``index``.

    Parameters
    ----------
    seed : int
        The sweep's seed (>= 0).
    index : int
        The point's flat index (C order of the grid, or the sample index; >= 0).

    Returns
    -------
    int
        A seed in ``[0, 2**32)``.

    Examples
    --------
    >>> point_seed(0, 3) == point_seed(0, 3), point_seed(0, 3) != point_seed(0, 4)
    (True, True)
    """
    seed = _non_negative_int("seed", seed)
    index = _non_negative_int("index", index)
    return int(np.random.SeedSequence(seed, spawn_key=(index,)).generate_state(1)[0])


def parameter_sweep(model: Any, grid: Mapping[str, Any] | None = None, *,
                    design: Mapping[str, Any] | None = None,
                    measures: Mapping[str, Callable | str] | str | list[str],
                    fixed: Mapping[str, Any] | None = None, client: Any = None,
                    batch_size: int | None = None, store: str | None = None,
                    resume: bool = True, seed: int = 0,
                    progress: bool | str | Callable = True,
                    timeout: float = 10.0) -> xr.Dataset:
    """Evaluate ``model`` at every point of a grid or design and gather scalar measures.

    Parameters
    ----------
    model : callable, str or dict
        * ``model(params: dict[str, float], seed: int) -> xarray.Dataset | Mapping[str,
          float]``: any user function (build and run anything). It must be picklable by
          cloudpickle to run on Dask (closures and lambdas are).
        * A model family name of ``MODEL_FAMILIES`` (``"LIF"``, ``"Izhikevich"``,
          ``"AdEx"`` ...): one neuron per point driven by a constant current. Parameters are
          the family's parameter names (e.g. ``tau_m``) and :data:`FAMILY_RUN_PARAMETERS`
          (``I_nA``, ``duration_ms``, ``dt``); ``fixed`` may also give ``preset`` (a preset
          name of the family, the base parameters). A batch runs as one population, one
          neuron per point.
        * A network JSON spec (dict, :func:`~neurosim_nb.core.networks.spec.build_network`):
          parameters are dotted key paths into the spec (``"projections.0.weight"``,
          ``"populations.E.n"``, ``"stimuli.E.0.rate_hz"``) plus ``duration_ms`` and ``dt``.
          The network is built with the spec's ``seed`` if it has one, else the point's seed;
          the run always uses the point's seed.
    grid : dict of str to 1-D array_like, optional
        ``{name: values}``: the sweep is the Cartesian product, one dimension per parameter
        in the given order (C order: the last parameter varies fastest).
    design : dict of str to 1-D array_like, optional
        ``{name: values}``, all of the same length ``n_samples``: a ``sample`` dimension
        (random or quasi-random designs, SALib sample matrices as ``dict(zip(names,
        matrix.T))``). Exactly one of ``grid`` and ``design``.
    measures : dict, str or list of str
        ``{name: measure}`` where a measure is ``callable(result) -> float`` (one number: a
        number, or an array or DataArray of one element, whose ``units`` attr becomes the
        variable's units; anything larger is an error naming the measure) or a name: a key
        of the mapping a callable model returns, a :data:`SWEEP_MEASURES` name
        (``"mean_rate"``, ``"spike_count"`` ...) or an analysis function of
        :data:`neurosim_nb.analysis.DATASET_FUNCTIONS` that returns a scalar. A string or a
        list of strings measures those names under their own names.
    fixed : dict, optional
        Values of parameters that are not swept (passed to every point).
    client : None, "serial", distributed.Client or str
        Where to run (:func:`~neurosim_nb.fitting.cluster.get_client`): ``None`` the
        embedded ``LocalCluster``, ``"serial"`` this process without Dask, a ``Client``, or
        a scheduler address ``"tcp://host:port"``.
    batch_size : int, optional
        At most this many points per task (the points are split into even batches).
        Default: about four tasks per worker (every worker busy, a lost task cheap), at most
        1000 points each, so each task's cost is shared among many points.
    store : str or path, optional
        A Zarr directory to checkpoint into (created when the first batch finishes).
        Finished batches are written as they complete. The store is recognised by a hash of
        the model, the grid or design, ``fixed``, the measures (a callable by its name and
        source code) and ``seed``: keep ``fixed`` to JSON-able values (numbers, strings,
        lists) so a rerun hashes alike. One sweep at a time per store.
    resume : bool
        With an existing ``store``: load its finished points and compute only the others
        (``True``) or refuse to touch it (``False``: an error, the store is kept).
    seed : int
        Seed of the sweep; each point gets :func:`point_seed` ``(seed, index)``.
    progress : bool, str or callable
        A ``tqdm`` progress bar over points (``"notebook"``: the widget bar), or a callable
        ``progress(points_done, points_total)`` called at the start and after every batch.
    timeout : float
        Seconds to wait for a scheduler address to answer (s).

    Returns
    -------
    xarray.Dataset
        Dims: the grid's parameters (coordinates with units where known, e.g. the family's
        parameter units) or ``sample`` (the design's parameters as coordinates along it).
        Variables: one float64 per measure (NaN at failed points), ``error`` (str, ``""``
        where fine) and ``seed`` (uint32, each point's seed). Attrs: ``model`` (description),
        ``model_json`` (the spec or family parameters, when JSON-able), ``measures``,
        ``fixed_json``, ``seed``, ``neurosim_nb_version``, ``created``, ``n_points``,
        ``n_failed``, ``n_resumed`` (points read from the store), ``wall_time_s`` (this
        call), ``n_workers``, ``batch_size``, ``sweep_hash``.

    Raises
    ------
    SweepError
        Neither or both of ``grid`` and ``design``; an empty grid axis or design; a
        parameter the model does not know (with a did-you-mean); a measure that is unknown
        or returns a non-scalar; a store made with other arguments, or one that exists with
        ``resume=False``.
    TypeError
        ``model``, ``measures`` or ``client`` of the wrong type.
    ConnectionError
        A scheduler address that does not answer.

    Examples
    --------
    >>> ds = parameter_sweep("LIF", {"I_nA": [1.0, 3.0]}, measures="mean_rate",
    ...                      fixed={"duration_ms": 500.0}, client="serial", progress=False)
    >>> ds["mean_rate"].values.tolist(), ds["mean_rate"].attrs["units"]
    ([0.0, 88.0], 'Hz')
    """
    t0 = time.perf_counter()
    seed = _non_negative_int("seed", seed)
    points = _Points.from_arguments(grid, design)
    fixed = _check_fixed(fixed, points.names)
    runner = _make_runner(model, points, fixed, _check_measures(measures, points.names), seed)
    if batch_size is not None:
        batch_size = _positive_int("batch_size", batch_size)
    if not (callable(progress) or progress in (True, False, "notebook")):
        raise TypeError("progress must be True, False, 'notebook' or a callable(done, total), "
                        f"got {progress!r}")
    definition = _definition(runner, points, fixed, seed)
    digest = _hash(definition)
    seeds = np.array([point_seed(seed, k) for k in range(points.n)], dtype=np.uint32)

    acc = _Accumulator(points.n, runner.measure_names)
    sweep_store = None
    if store is not None:
        sweep_store = _Store(store, definition, digest, resume=bool(resume))
        for out in sweep_store.finished():
            acc.add(out)
    n_resumed = acc.n_done
    missing = np.flatnonzero(~acc.done)
    n_workers = 1
    if missing.size:
        dask_client = cluster.get_client(client, timeout=timeout)  # unreachable: fails here
        n_workers = cluster.n_workers(dask_client)
        if batch_size is None:
            batch_size = _auto_batch_size(missing.size, n_workers)
        batches = [points.batch(chunk, seeds[chunk])
                   for chunk in np.array_split(missing, math.ceil(missing.size / batch_size))]
        work = functools.partial(_run_batch, runner)
        target = "serial" if dask_client is None else dask_client
        for _, out in cluster.map_batches(work, batches, target, progress,
                                          sizes=[b[0].size for b in batches], desc="sweep"):
            if sweep_store is not None:
                sweep_store.write(out)
            acc.add(out)
            if out["interrupted"]:
                raise KeyboardInterrupt("sweep interrupted; the finished points are kept"
                                        + (f" in {str(store)!r}" if store else ""))
    ds = _assemble(definition, acc)
    ds.attrs.update(n_resumed=int(n_resumed), wall_time_s=time.perf_counter() - t0,
                    n_workers=int(n_workers),
                    batch_size=int(batch_size) if batch_size is not None else 0)
    return ds


def load_sweep(store: str) -> xr.Dataset:
    """The Dataset of a sweep store: finished points, and NaN with ``error`` = ``"not
    computed"`` where the sweep has not reached yet.

    Parameters
    ----------
    store : str or path
        A directory written by :func:`parameter_sweep` (``store=``).

    Returns
    -------
    xarray.Dataset
        As :func:`parameter_sweep` returns, with ``attrs["n_done"]``.

    Raises
    ------
    FileNotFoundError
        No sweep store at ``store``.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "s.zarr")
    >>> _ = parameter_sweep(lambda p, s: {"y": 2 * p["a"]}, {"a": [1.0, 2.0]}, measures="y",
    ...                     client="serial", store=path, progress=False)
    >>> load_sweep(path)["y"].values.tolist()
    [2.0, 4.0]
    """
    definition = _Store.read_definition(store)
    acc = _Accumulator(_Points.from_definition(definition).n,
                       [name for name, _ in definition["measures"]])
    for out in _Store.read_batches(Path(store)):
        acc.add(out)
    ds = _assemble(definition, acc)
    ds.attrs["n_done"] = int(acc.n_done)
    return ds


# -- small checks ---------------------------------------------------------------------------
_RESERVED = ("error", "seed", "sample")


def _non_negative_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise TypeError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise TypeError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _py(value):
    """A numpy scalar as the Python number (or str, bool) a model expects."""
    return value.item() if isinstance(value, np.generic) else value


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if callable(value):
        return _callable_description(value)
    return repr(value)


def _callable_description(func) -> str:
    """``module.qualname#sha`` of a callable's source (or code), so an edit changes it."""
    target = func.func if isinstance(func, functools.partial) else func
    name = getattr(target, "__qualname__", None) or type(target).__qualname__
    module = getattr(target, "__module__", None) or type(target).__module__
    try:
        text = inspect.getsource(target if inspect.isroutine(target) else type(target))
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        text = repr((code.co_code, code.co_consts)) if code is not None else repr(target)
    if isinstance(func, functools.partial):
        text += repr((func.args, sorted(func.keywords.items())))
    sha = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"{module}.{name}#{sha}"


# -- the points -----------------------------------------------------------------------------
class _Points:
    """The swept values: a grid (Cartesian product, C order) or a design (one row per sample)."""

    def __init__(self, kind: str, names: list[str], values: list[np.ndarray],
                 units: dict[str, str]):
        self.kind, self.names, self.values, self.units = kind, names, values, units
        self.shape = (tuple(v.size for v in values) if kind == "grid" else (values[0].size,))
        self.n = int(np.prod(self.shape))

    @classmethod
    def from_arguments(cls, grid, design) -> _Points:
        if (grid is None) == (design is None):
            raise SweepError("give exactly one of grid= ({name: values}, a Cartesian product) "
                             "and design= ({name: values of one length}, a sample dimension)"
                             + (", not both" if grid is not None else ""))
        kind, table = ("grid", grid) if grid is not None else ("design", design)
        if not isinstance(table, Mapping):
            raise TypeError(f"{kind} must be a dict {{name: 1-D values}}, got "
                            f"{type(table).__name__}")
        if not table:
            raise SweepError(f"{kind} is empty: give at least one parameter and its values")
        names, values, units = [], [], {}
        for name, raw in table.items():
            if not isinstance(name, str) or not name:
                raise TypeError(f"{kind} keys must be parameter names (str), got {name!r}")
            if name in _RESERVED:
                raise SweepError(f"{kind}: {name!r} is reserved for a result variable; "
                                 "rename the parameter")
            if isinstance(raw, xr.DataArray) and "units" in raw.attrs:
                units[name] = str(raw.attrs["units"])
            arr = np.asarray(raw.values if isinstance(raw, xr.DataArray) else raw)
            if arr.ndim != 1:
                raise SweepError(f"{kind}[{name!r}] must be 1-D values, got shape {arr.shape}")
            if arr.size == 0:
                raise SweepError(f"{kind}[{name!r}] is empty: give at least one value")
            if arr.dtype.kind not in "biufU":
                raise TypeError(f"{kind}[{name!r}] must hold numbers (or strings), got dtype "
                                f"{arr.dtype}")
            if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
                raise SweepError(f"{kind}[{name!r}] must be finite (no NaN or inf)")
            names.append(name)
            values.append(arr)
        if kind == "design":
            sizes = {n: v.size for n, v in zip(names, values, strict=True)}
            if len(set(sizes.values())) > 1:
                raise SweepError(f"design columns must have one length (n_samples), got {sizes}")
        return cls(kind, names, values, units)

    @classmethod
    def from_definition(cls, definition: dict) -> _Points:
        params = definition["parameters"]  # [[name, values], ...]: JSON keeps list order
        return cls(definition["kind"], [n for n, _ in params],
                   [np.asarray(v) for _, v in params], definition["coord_units"])

    def columns(self, index: np.ndarray) -> dict[str, np.ndarray]:
        """The values of every parameter at the flat indices ``index``."""
        if self.kind == "design":
            return {n: v[index] for n, v in zip(self.names, self.values, strict=True)}
        axes = np.unravel_index(index, self.shape)
        return {n: v[i] for n, v, i in zip(self.names, self.values, axes, strict=True)}

    def batch(self, index: np.ndarray, seeds: np.ndarray):
        return (np.asarray(index, dtype=np.int64), self.columns(index), seeds)


def _check_fixed(fixed, swept) -> dict:
    if fixed is None:
        return {}
    if not isinstance(fixed, Mapping):
        raise TypeError(f"fixed must be a dict {{name: value}}, got {type(fixed).__name__}")
    both = [k for k in fixed if k in swept]
    if both:
        raise SweepError(f"parameters {both} are both swept and fixed; give each once")
    return {str(k): _py(v) for k, v in fixed.items()}


def _auto_batch_size(n_missing: int, n_workers: int) -> int:
    """About four tasks per worker (so a slow task or a lost worker costs little), and no
    task over 1000 points (checkpoints stay frequent)."""
    return int(max(1, min(1000, math.ceil(n_missing / (4 * n_workers)))))


# -- measures -------------------------------------------------------------------------------
class _Measure:
    """One measure: a callable of the result, or a name (a key, a built-in, an analysis
    function)."""

    def __init__(self, name: str, spec):
        self.name = name
        self.func = spec if callable(spec) else None
        self.key = spec if isinstance(spec, str) else None

    def describe(self) -> str:
        return self.key if self.func is None else _callable_description(self.func)

    def evaluate(self, result) -> tuple[float, str | None]:
        if self.func is not None:
            return _scalar(self.name, self.func(result))
        if isinstance(result, Mapping) and not isinstance(result, xr.Dataset):
            if self.key not in result:
                raise SweepError(f"measure {self.name!r}: the model's result has no key "
                                 f"{self.key!r} (it has {sorted(map(str, result))})."
                                 f"{did_you_mean(self.key, list(map(str, result)))}")
            return _scalar(self.name, result[self.key])
        if not isinstance(result, xr.Dataset):
            raise SweepError("the model must return an xarray.Dataset or a mapping "
                             f"{{name: number}}, got {type(result).__name__}")
        if self.key in SWEEP_MEASURES:
            return _spike_measure(self.key, *_spikes(result)), SWEEP_MEASURES[self.key][0]
        _check_measure_name(self.name, self.key)
        from neurosim_nb import analysis

        return _scalar(self.name, getattr(analysis, self.key)(result))


def _analysis_names() -> tuple[str, ...]:
    from neurosim_nb.analysis import DATASET_FUNCTIONS

    return DATASET_FUNCTIONS


def _check_measure_name(name: str, key: str) -> None:
    known = [*SWEEP_MEASURES, *_analysis_names()]
    if key not in known:
        raise SweepError(f"measure {name!r}: unknown measure {key!r}; a named measure of a "
                         f"Dataset is one of {list(SWEEP_MEASURES)} or an analysis function "
                         f"of neurosim_nb.analysis.DATASET_FUNCTIONS.{did_you_mean(key, known)}")


def _check_measures(measures, parameter_names) -> list[_Measure]:
    if isinstance(measures, str):
        measures = {measures: measures}
    elif isinstance(measures, (list, tuple)):
        if not all(isinstance(m, str) for m in measures):
            raise TypeError("measures given as a list must be names (str); use a dict "
                            "{name: callable} for functions")
        measures = {m: m for m in measures}
    elif not isinstance(measures, Mapping):
        raise TypeError("measures must be a dict {name: callable or name}, a name or a list of "
                        f"names, got {type(measures).__name__}")
    if not measures:
        raise SweepError("measures is empty: give at least one measure")
    out = []
    for name, spec in measures.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise SweepError(f"measure names must be identifiers (variable names), got {name!r}")
        if name in _RESERVED or name in parameter_names:
            raise SweepError(f"measure name {name!r} collides with "
                             + ("a result variable" if name in _RESERVED else "a parameter")
                             + "; rename the measure")
        if not (callable(spec) or isinstance(spec, str)):
            raise TypeError(f"measure {name!r} must be a callable(result) -> float or a name, "
                            f"got {type(spec).__name__}")
        out.append(_Measure(name, spec))
    return out


def _scalar(name: str, value) -> tuple[float, str | None]:
    """A measure's value as a float and its units; a clear error for anything but one
    number."""
    units = None
    if isinstance(value, xr.DataArray):
        units = value.attrs.get("units")
        value = value.values
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return float(value), units
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        if value.size != 1:
            raise SweepError(f"measure {name!r} returned a non-scalar (shape {value.shape}); a "
                             "measure must return one number: reduce it (e.g. .mean()) or "
                             "select an element")
        return float(value.reshape(())), units
    raise SweepError(f"measure {name!r} returned {type(value).__name__} {value!r:.60}, not a "
                     "number")


def _spikes(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray, int, float]:
    """Spike times (ms from the run's start), neuron ids, number of neurons, duration (ms)."""
    if "spike_time" not in ds:
        raise SweepError("the spike measures need a result Dataset with spike_time and "
                         "spike_neuron (a simulation result)")
    t0 = float(ds.attrs.get("t_start_ms", 0.0))
    return (ds["spike_time"].values - t0, ds["spike_neuron"].values,
            int(ds.attrs.get("n_neurons", ds.sizes.get("neuron", 1))),
            float(ds.attrs["duration"]))


def _spike_measure(name: str, times, neurons, n_neurons: int, duration: float) -> float:
    """A built-in measure (``SWEEP_MEASURES``) of spike times (ms from the start)."""
    if name == "spike_count":
        return float(times.size)
    if name == "mean_rate":
        return times.size / n_neurons / (duration / 1000.0)
    if name == "first_spike_ms":
        return float(times.min()) if times.size else duration
    order = np.lexsort((times, neurons))
    t, nrn = times[order], neurons[order]
    same = nrn[1:] == nrn[:-1]
    isi = np.diff(t)[same]
    if name == "isi_rate":
        return 1000.0 / isi.mean() if isi.size else 0.0
    if name == "cv_isi":
        return float(isi.std() / isi.mean()) if isi.size >= 2 else math.nan
    raise SweepError(f"unknown built-in measure {name!r}")  # pragma: no cover


# -- the runners: a batch of points -> values and errors -------------------------------------
def _new_output(index, seeds, n_measures: int) -> dict:
    return {"point": index, "seed": seeds,
            "values": np.full((index.size, n_measures), np.nan), "errors": {}, "units": {},
            "interrupted": False}


def _trim(out: dict, n_done: int) -> dict:
    """Keep the first ``n_done`` points of an interrupted batch."""
    out.update(point=out["point"][:n_done], seed=out["seed"][:n_done],
               values=out["values"][:n_done], interrupted=True,
               errors={j: e for j, e in out["errors"].items() if j < n_done})
    return out


def _message(where: str, err: BaseException) -> str:
    return f"{where}: {type(err).__name__}: {err}"


def _record_error(out: dict, j: int, message: str) -> None:
    out["errors"][j] = f"{out['errors'][j]}; {message}" if j in out["errors"] else message


def _measure_point(measures, result, out: dict, j: int) -> None:
    for i, m in enumerate(measures):
        try:
            value, units = m.evaluate(result)
        except SweepError:
            raise
        except Exception as err:  # noqa: BLE001 - a failing point is recorded, the sweep goes on
            _record_error(out, j, _message(f"measure {m.name!r}", err))
            continue
        out["values"][j, i] = value
        if units and m.name not in out["units"]:
            out["units"][m.name] = str(units)


def _run_batch(runner, batch) -> dict:
    index, columns, seeds = batch
    return runner.run(index, columns, seeds)


class _CallableRunner:
    """``model(params, seed)`` per point."""

    kind = "callable"

    def __init__(self, model, points: _Points, fixed: dict, measures: list[_Measure], seed):
        self.model, self.fixed, self.measures = model, fixed, measures
        self.measure_names = [m.name for m in measures]

    def describe(self) -> dict:
        return {"kind": self.kind, "callable": _callable_description(self.model)}

    coord_units: dict = {}

    def run(self, index, columns, seeds) -> dict:
        out = _new_output(index, seeds, len(self.measures))
        names = list(columns)
        for j in range(index.size):
            params = {n: _py(columns[n][j]) for n in names}
            params.update(self.fixed)
            try:
                try:
                    result = self.model(params, int(seeds[j]))
                except SweepError:
                    raise
                except Exception as err:  # noqa: BLE001 - recorded per point
                    _record_error(out, j, _message("model", err))
                    continue
                _measure_point(self.measures, result, out, j)
            except KeyboardInterrupt:
                return _trim(out, j)
        return out


class _FamilyRunner:
    """One neuron per point under a constant current; a batch is one population run."""

    kind = "family"
    OPTIONS = ("preset", "record")

    def __init__(self, family: str, points: _Points, fixed: dict, measures: list[_Measure],
                 seed: int):
        from neurosim_nb.core.neurons.registry import MODEL_FAMILIES

        self.family, self.seed, self.measures = family, seed, measures
        self.measure_names = [m.name for m in measures]
        cls = MODEL_FAMILIES[family]
        info = cls.parameters_class.field_info()
        self.param_names = list(info)
        known = [*self.param_names, *FAMILY_RUN_PARAMETERS]
        for name in points.names:
            if name not in known:
                raise SweepError(f"{family} has no parameter {name!r}; it has {known}."
                                 f"{did_you_mean(name, known)}")
        for name in fixed:
            if name not in known and name not in self.OPTIONS:
                choices = [*known, *self.OPTIONS]
                raise SweepError(f"fixed: {family} has no parameter {name!r}; it has "
                                 f"{choices}.{did_you_mean(name, choices)}")
        for m in measures:
            if m.func is None:
                _check_measure_name(m.name, m.key)
        presets = cls.presets()
        preset = fixed.get("preset", None)
        if preset is not None and preset not in presets:
            raise SweepError(f"fixed['preset']: {family} has no preset {preset!r}; choose "
                             f"from {list(presets)}.{did_you_mean(preset, list(presets))}")
        base = presets[preset] if preset is not None else cls.parameters_class()
        family_fixed = {k: v for k, v in fixed.items() if k in self.param_names}
        try:
            self.base = base.replace(**family_fixed) if family_fixed else base
        except (TypeError, ValueError) as err:
            raise SweepError(f"fixed: {err}") from None
        self.run_fixed = {k: float(fixed.get(k, v)) for k, v in FAMILY_RUN_PARAMETERS.items()}
        builtin_only = all(m.func is None and m.key in SWEEP_MEASURES for m in measures)
        self.record = tuple(fixed.get("record", () if builtin_only else ("V",)))
        self.builtin_only = builtin_only and not self.record
        self.coord_units = {n: info[n]["unit"] for n in self.param_names}
        self.coord_units.update(I_nA=cls.current_units, duration_ms="ms", dt="ms")
        self.fixed = fixed

    def describe(self) -> dict:
        return {"kind": self.kind, "family": self.family,
                "base_params": json.loads(self.base.to_json()), "record": list(self.record)}

    def run(self, index, columns, seeds) -> dict:
        from neurosim_nb.core.neurons.registry import MODEL_FAMILIES

        cls = MODEL_FAMILIES[self.family]
        out = _new_output(index, seeds, len(self.measures))
        n = index.size
        run = {k: np.broadcast_to(np.asarray(columns.get(k, v), dtype=float), (n,))
               for k, v in self.run_fixed.items()}
        fam = {k: np.asarray(v) for k, v in columns.items() if k in self.param_names}
        valid = []
        for j in range(n):  # invalid parameter sets are the points' errors, not the batch's
            try:
                if fam:
                    self.base.replace(**{k: _py(v[j]) for k, v in fam.items()})
                if not (run["duration_ms"][j] > 0 and run["dt"][j] > 0
                        and np.isfinite(run["I_nA"][j])):
                    raise ValueError("duration_ms and dt must be > 0 and I_nA finite, got "
                                     f"{run['duration_ms'][j]}, {run['dt'][j]}, "
                                     f"{run['I_nA'][j]}")
            except (TypeError, ValueError) as err:
                _record_error(out, j, _message("parameters", err))
                continue
            valid.append(j)
        valid = np.asarray(valid, dtype=np.int64)
        keys = np.stack([run["duration_ms"][valid], run["dt"][valid]], axis=1)
        for key in np.unique(keys, axis=0):
            group = valid[np.all(keys == key, axis=1)]
            try:
                ds = self._simulate(cls, fam, run, group, float(key[0]), float(key[1]))
            except Exception:  # noqa: BLE001 - find the culprits one by one
                for j in group:
                    try:
                        ds = self._simulate(cls, fam, run, np.array([j]), float(key[0]),
                                            float(key[1]))
                    except Exception as err:  # noqa: BLE001 - recorded per point
                        _record_error(out, j, _message("model", err))
                        continue
                    self._measure(ds, np.array([j]), out)
                continue
            self._measure(ds, group, out)
        return out

    def _simulate(self, cls, fam, run, group, duration, dt):
        params = (self.base.replace(**{k: v[group].astype(float) for k, v in fam.items()})
                  if fam else self.base)
        pop = cls(params, n=group.size)
        return pop.simulate(duration, np.ascontiguousarray(run["I_nA"][group]), dt=dt,
                            record=self.record, seed=self.seed, verbose=False)

    def _measure(self, ds, group, out) -> None:
        if self.builtin_only:
            times, neurons, _, duration = _spikes(ds)
            order = np.argsort(neurons, kind="stable")
            times, neurons = times[order], neurons[order]
            bounds = np.searchsorted(neurons, np.arange(group.size + 1))
            for k, j in enumerate(group):
                t = times[bounds[k]:bounds[k + 1]]
                nrn = np.zeros(t.size, dtype=np.int64)
                for i, m in enumerate(self.measures):
                    out["values"][j, i] = _spike_measure(m.key, t, nrn, 1, duration)
            for m in self.measures:
                out["units"].setdefault(m.name, SWEEP_MEASURES[m.key][0])
            return
        for k, j in enumerate(group):
            _measure_point(self.measures, _neuron_dataset(ds, k), out, j)


def _neuron_dataset(ds: xr.Dataset, k: int) -> xr.Dataset:
    """Neuron ``k`` of a population result as a one-neuron result (neuron id 0)."""
    mask = ds["spike_neuron"].values == ds["neuron"].values[k]
    sub = ds.isel(neuron=[k], spike=np.flatnonzero(mask), missing_dims="ignore")
    sub = sub.assign(spike_neuron=("spike", np.zeros(int(mask.sum()), dtype=np.int64),
                                   ds["spike_neuron"].attrs))
    sub = sub.assign_coords(neuron=("neuron", [0], ds["neuron"].attrs))
    sub.attrs["n_neurons"] = 1
    return sub


class _SpecRunner:
    """A network JSON spec per point, with the swept key paths set."""

    kind = "spec"
    RUN = {"duration_ms": 1000.0, "dt": 0.1}
    OPTIONS = ("record",)

    def __init__(self, spec: dict, points: _Points, fixed: dict, measures: list[_Measure],
                 seed: int):
        from neurosim_nb.core.networks.spec import SpecError, validate_spec

        self.measures = measures
        self.measure_names = [m.name for m in measures]
        try:
            self.spec = json.loads(json.dumps(_jsonable(spec)))
        except (TypeError, ValueError) as err:
            raise SweepError(f"model: the network spec is not JSON-able ({err})") from None
        self.paths = {}
        for name in [*points.names, *fixed]:
            if name in self.RUN or name in self.OPTIONS:
                continue
            self.paths[name] = _spec_path(self.spec, name)
        for m in measures:
            if m.func is None:
                _check_measure_name(m.name, m.key)
        self.fixed = fixed
        self.run_fixed = {k: float(fixed.get(k, v)) for k, v in self.RUN.items()}
        builtin_only = all(m.func is None and m.key in SWEEP_MEASURES for m in measures)
        self.record = tuple(fixed.get("record", () if builtin_only else ("V",)))
        self.coord_units = {"duration_ms": "ms", "dt": "ms"}
        probe = self._spec({n: _py(v[0]) for n, v in zip(points.names, points.values,
                                                            strict=True)})
        try:
            validate_spec(probe)
        except SpecError as err:
            raise SweepError(f"model: the spec with the first point's values is invalid: {err}"
                             ) from None

    def describe(self) -> dict:
        return {"kind": self.kind, "spec": self.spec, "record": list(self.record)}

    def _spec(self, params: dict) -> dict:
        spec = copy.deepcopy(self.spec)
        for name, value in {**params, **self.fixed}.items():
            if name in self.paths:
                parent, key = _walk(spec, self.paths[name])
                parent[key] = value
        return spec

    def run(self, index, columns, seeds) -> dict:
        from neurosim_nb.core.networks.spec import build_network

        out = _new_output(index, seeds, len(self.measures))
        for j in range(index.size):
            params = {n: _py(v[j]) for n, v in columns.items()}
            run = {k: float(params.get(k, v)) for k, v in self.run_fixed.items()}
            try:
                try:
                    spec = self._spec(params)
                    if spec.get("seed") is None:
                        spec["seed"] = int(seeds[j])
                    net = build_network(spec)
                    ds = net.simulate(run["duration_ms"], dt=run["dt"], record=self.record,
                                      seed=int(seeds[j]), verbose=False)
                except Exception as err:  # noqa: BLE001 - recorded per point
                    _record_error(out, j, _message("model", err))
                    continue
                _measure_point(self.measures, ds, out, j)
            except KeyboardInterrupt:
                return _trim(out, j)
        return out


def _spec_path(spec: dict, name: str) -> list:
    """The key path ``"projections.0.weight"`` (or ``"projections[0].weight"``) as keys; every
    step but the last must exist, the last may be a new key of a dict."""
    parts = [p for p in re.split(r"\.|\[(\d+)\]", name) if p]
    node, done = spec, []
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise SweepError(f"parameter {name!r}: {'.'.join(done) or 'spec'} is a list of "
                                 f"{len(node)}; {part!r} is not an index in it")
            key = int(part)
        elif isinstance(node, dict):
            if part not in node and not last:
                raise SweepError(f"parameter {name!r}: the spec has no key "
                                 f"{'.'.join([*done, part])!r} (keys at "
                                 f"{'.'.join(done) or 'the top'}: {list(node)})."
                                 f"{did_you_mean(part, list(node))}")
            key = part
        else:
            raise SweepError(f"parameter {name!r}: {'.'.join(done)} is a value, not a dict or "
                             "list")
        done.append(part)
        if not last:
            node = node[key]
    return [int(p) if p.isdigit() else p for p in parts]


def _walk(spec, path):
    node = spec
    for key in path[:-1]:
        node = node[key]
    return node, path[-1]


def _make_runner(model, points, fixed, measures, seed):
    if isinstance(model, str):
        from neurosim_nb.core.neurons.registry import MODEL_FAMILIES

        if model not in MODEL_FAMILIES:
            raise SweepError(f"model {model!r} is not a model family; choose from "
                             f"{list(MODEL_FAMILIES)}.{did_you_mean(model, list(MODEL_FAMILIES))}"
                             " (or pass a callable or a network spec dict)")
        return _FamilyRunner(model, points, fixed, measures, seed)
    if isinstance(model, Mapping):
        return _SpecRunner(dict(model), points, fixed, measures, seed)
    if callable(model):
        return _CallableRunner(model, points, fixed, measures, seed)
    raise TypeError("model must be a callable model(params, seed), a model family name "
                    "(e.g. 'LIF') or a network spec dict, got " + type(model).__name__)


# -- definition, hash, results ----------------------------------------------------------------
def _definition(runner, points: _Points, fixed: dict, seed: int) -> dict:
    """Everything that decides the sweep's values (hashed), plus what rebuilds its Dataset."""
    units = {**{n: u for n, u in runner.coord_units.items() if n in points.names}, **points.units}
    return {"format": _FORMAT, "model": runner.describe(), "kind": points.kind,
            "parameters": [[n, _jsonable(v)] for n, v in zip(points.names, points.values,
                                                             strict=True)],
            "coord_units": units, "fixed": _jsonable(fixed),
            "measures": [[m.name, m.describe()] for m in runner.measures], "seed": seed}


def _hash(definition: dict) -> str:
    text = json.dumps(definition, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


_FORMAT = "neurosim_nb.sweep/1"


class _Accumulator:
    def __init__(self, n: int, measure_names: list[str]):
        self.names = measure_names
        self.values = np.full((n, len(measure_names)), np.nan)
        self.errors = np.full(n, "", dtype=object)
        self.seeds = np.zeros(n, dtype=np.uint32)
        self.done = np.zeros(n, dtype=bool)
        self.units: dict[str, str] = {}

    @property
    def n_done(self) -> int:
        return int(self.done.sum())

    def add(self, out: dict) -> None:
        point = np.asarray(out["point"], dtype=np.int64)
        fresh = ~self.done[point]  # a point stored twice keeps its first value
        self.values[point[fresh]] = out["values"][fresh]
        self.seeds[point[fresh]] = out["seed"][fresh]
        for j, msg in out["errors"].items():
            if fresh[int(j)]:
                self.errors[point[int(j)]] = msg
        self.done[point] = True
        for k, v in out["units"].items():
            self.units.setdefault(k, v)


def _assemble(definition: dict, acc: _Accumulator) -> xr.Dataset:
    points = _Points.from_definition(definition)
    units = points.units
    errors = acc.errors.copy()
    errors[~acc.done] = "not computed"
    if points.kind == "grid":
        dims = tuple(points.names)
        coords = {n: (n, v, {"units": units[n]} if n in units else {})
                  for n, v in zip(points.names, points.values, strict=True)}
    else:
        dims = ("sample",)
        coords = {"sample": ("sample", np.arange(points.n))}
        coords.update({n: ("sample", v, {"units": units[n]} if n in units else {})
                       for n, v in zip(points.names, points.values, strict=True)})
    shape = points.shape
    data = {}
    described = dict(definition["measures"])
    for i, name in enumerate(acc.names):
        spec = described[name]
        attrs = {"long_name": SWEEP_MEASURES[spec][1] if spec in SWEEP_MEASURES else spec}
        if name in acc.units:
            attrs["units"] = acc.units[name]
        elif spec in SWEEP_MEASURES:
            attrs["units"] = SWEEP_MEASURES[spec][0]
        data[name] = (dims, acc.values[:, i].reshape(shape), attrs)
    data["error"] = (dims, errors.astype(str).reshape(shape),
                     {"long_name": "error of the point ('' where it ran fine)"})
    data["seed"] = (dims, acc.seeds.reshape(shape),
                    {"long_name": "seed of the point (point_seed(seed, flat index))"})
    model = definition["model"]
    attrs = {
        "title": f"parameter sweep of {_model_label(model)}",
        "model": _model_label(model),
        "model_json": json.dumps(model, sort_keys=True),
        "kind": points.kind,
        "measures": json.dumps(described),
        "fixed_json": json.dumps(definition["fixed"], sort_keys=True, default=repr),
        "seed": int(definition["seed"]),
        "neurosim_nb_version": __version__,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "n_points": int(points.n),
        "n_failed": int(np.count_nonzero(errors != "") - np.count_nonzero(~acc.done)),
        "sweep_hash": _hash(definition),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _model_label(model: dict) -> str:
    if model["kind"] == "family":
        return f"{model['family']} neuron (constant current)"
    if model["kind"] == "spec":
        return f"network spec {model['spec'].get('name', 'network')!r}"
    return f"callable {model['callable']}"


# -- the store ------------------------------------------------------------------------------
class _Store:
    """A Zarr directory: root attrs hold the sweep's definition and hash; ``batches/`` holds
    one Zarr group per finished batch, written under a temporary name and renamed into place
    (so a batch is either all there or not there)."""

    def __init__(self, path, definition: dict, digest: str, resume: bool):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"store must be a path (str), got {type(path).__name__}")
        self.path = Path(path)
        self.definition, self.digest = definition, digest
        if self.path.exists() and not self.path.is_dir():
            raise SweepError(f"store {str(self.path)!r} is a file, not a sweep store "
                             "(a directory); pass a new path")
        self.exists = self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir()))
        if not self.exists:
            return
        old = self.read_definition(self.path)
        attrs = self._attrs(self.path)
        if attrs.get("sweep_hash") != digest:
            changed = [k for k in definition if old.get(k) != json.loads(
                json.dumps(definition[k], default=repr))]
            raise SweepError(f"store {str(self.path)!r} holds another sweep (it differs in: "
                             f"{', '.join(changed) or 'its definition'}); pass another store "
                             "path, or delete this one to start over")
        if not resume:
            raise SweepError(f"store {str(self.path)!r} exists and resume=False: delete it to "
                             "start over, or pass resume=True to compute only the missing "
                             "points")
        for tmp in (self.path / "batches").glob(".tmp-*"):  # leftovers of a killed write
            shutil.rmtree(tmp, ignore_errors=True)

    @staticmethod
    def _attrs(path: Path) -> dict:
        import zarr

        if not (path / "zarr.json").exists():
            raise SweepError(f"store {str(path)!r} exists and is not a sweep store (no "
                             "zarr.json); pass a new path")
        return dict(zarr.open_group(str(path), mode="r").attrs)

    @classmethod
    def read_definition(cls, path) -> dict:
        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"no sweep store at {str(path)!r}")
        attrs = cls._attrs(path)
        if attrs.get("format") != _FORMAT:
            raise SweepError(f"store {str(path)!r} is not a sweep store of format {_FORMAT!r}")
        return json.loads(attrs["definition"])

    def finished(self):
        return self.read_batches(self.path) if self.exists else iter(())

    @staticmethod
    def read_batches(path: Path):
        import zarr

        folder = path / "batches"
        if not folder.is_dir():
            return
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith("."):
                continue
            try:
                g = zarr.open_group(str(entry), mode="r")
                attrs = dict(g.attrs)
                yield {"point": g["point"][:], "seed": g["seed"][:], "values": g["values"][:],
                       "errors": {int(k): v for k, v in attrs["errors"].items()},
                       "units": attrs["units"], "interrupted": False}
            except Exception as err:  # noqa: BLE001 - a damaged batch is recomputed
                warnings.warn(f"sweep store {str(path)!r}: batch {entry.name} is unreadable "
                              f"({err}); its points will be computed again", stacklevel=3)

    def create(self) -> None:
        """Write the root group (definition, hash) and ``batches/``, atomically."""
        import zarr

        if self.exists:
            return
        parent = self.path.parent
        parent.mkdir(parents=True, exist_ok=True)
        tmp = parent / f".{self.path.name}.tmp-{uuid.uuid4().hex}"
        g = zarr.open_group(str(tmp), mode="w")
        g.attrs.update({"format": _FORMAT, "sweep_hash": self.digest,
                        "definition": json.dumps(self.definition, sort_keys=True, default=repr),
                        "created": datetime.datetime.now(datetime.UTC).isoformat(
                            timespec="seconds"),
                        "neurosim_nb_version": __version__})
        (tmp / "batches").mkdir()
        try:
            os.rename(tmp, self.path)  # onto a missing or empty directory
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.exists = True

    def write(self, out: dict) -> None:
        """One finished batch (also a partial one of an interrupted serial run)."""
        import zarr

        if out["point"].size == 0:
            return
        self.create()  # on the first finished batch: a sweep that fails at once leaves nothing
        folder = self.path / "batches"
        tmp = folder / f".tmp-{uuid.uuid4().hex}"
        g = zarr.open_group(str(tmp), mode="w")
        g.create_array("point", data=np.asarray(out["point"], dtype=np.int64))
        g.create_array("seed", data=np.asarray(out["seed"], dtype=np.uint32))
        g.create_array("values", data=np.asarray(out["values"], dtype=np.float64))
        g.attrs.update({"errors": {str(k): v for k, v in out["errors"].items()},
                        "units": out["units"]})
        os.rename(tmp, folder / f"{int(out['point'][0]):012d}-{uuid.uuid4().hex[:8]}")
