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

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np  # noqa: F401  (used by the implementation)
import xarray as xr

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


class SweepError(ValueError):
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
    raise NotImplementedError


def parameter_sweep(model: Any, grid: Mapping[str, Any] | None = None, *,
                    design: Mapping[str, Any] | None = None,
                    measures: Mapping[str, Callable | str] | str | list[str],
                    fixed: Mapping[str, Any] | None = None, client: Any = None,
                    batch_size: int | None = None, store: str | None = None,
                    resume: bool = True, seed: int = 0,
                    progress: bool | str = True) -> xr.Dataset:
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
        ``{name: measure}`` where a measure is ``callable(result) -> float`` (a number or a
        0-d DataArray, whose ``units`` attr becomes the variable's units) or a name: a key
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
        Points per task; default: enough tasks to keep every worker busy (about four per
        worker) while sharing each task's cost among many points.
    store : str or path, optional
        A Zarr directory to checkpoint into (created if missing). Finished batches are
        written as they complete.
    resume : bool
        With an existing ``store``: load its finished points and compute only the others
        (``True``) or refuse to touch it (``False``: an error, the store is kept).
    seed : int
        Seed of the sweep; each point gets :func:`point_seed` ``(seed, index)``.
    progress : bool or str
        A ``tqdm`` progress bar over points.

    Returns
    -------
    xarray.Dataset
        Dims: the grid's parameters (coordinates with units where known, e.g. the family's
        parameter units) or ``sample`` (the design's parameters as coordinates along it).
        Variables: one float64 per measure (NaN at failed points), ``error`` (str, ``""``
        where fine) and ``seed`` (uint32, each point's seed). Attrs: ``model`` (description),
        ``model_json`` (the spec or family parameters, when JSON-able), ``measures``,
        ``fixed_json``, ``seed``, ``neurosim_nb_version``, ``created``, ``n_points``,
        ``n_failed``, ``wall_time_s``, ``sweep_hash``.

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
    raise NotImplementedError


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
    raise NotImplementedError
