r"""Model fitting: the parameters of any neuron model family fitted to a recorded trace, spike
times or spike-train features.

:func:`fit_model` searches the box of parameter bounds with scipy's differential evolution,
every generation evaluated as **one** vectorised population run (one neuron per candidate,
per-neuron parameter arrays, as :func:`~neurosim_nb.analysis.transfer.transfer_function`
runs one neuron per current), split over Dask workers when a client is given
(:func:`~neurosim_nb.fitting.cluster.map_batches`). An optional local refinement starts from
the best point: ``scipy.optimize.least_squares`` on the trace residuals (its finite-difference
Jacobian is one population run of ``n_parameters`` neurons), Nelder-Mead for the spike and
feature objectives. Every evaluated point is recorded; the result is the best point **ever**
evaluated, so a refinement that wanders off cannot make the answer worse.

Objectives (minimised):

* ``"trace"`` -- mean squared error between the model's ``V`` and the data at the data's
  time points (mV²);
* ``"spikes"`` -- :math:`1 - \Gamma`, with :math:`\Gamma` the coincidence factor of Jolivet
  et al. (2008), :func:`~neurosim_nb.fitting.objectives.coincidence_factor` (window 4 ms);
  a :math:`\Gamma` below -1, possible only as the model rate nears :math:`1/(2\Delta)`
  where the normalisation vanishes, counts as -1, so the objective lies in [0, 2];
* ``"features"`` -- :math:`\sum_k w_k ((f_k - f_k^*) / s_k)^2 / \sum_k w_k` over firing rate,
  first-spike latency, ISI CV and an f-I curve (mean over its currents; the model's rate
  is its inverse mean ISI after the transient), each normalised by its scale :math:`s_k`
  (:data:`~neurosim_nb.fitting.objectives.FEATURE_SCALES`).

Examples
--------
>>> import numpy as np
>>> from neurosim_nb.core.neurons.lif import LIFNeuron, LIFParameters
>>> from neurosim_nb.stimuli import StepCurrent
>>> stim = StepCurrent(1.0, onset_ms=5.0, duration_ms=20.0)
>>> truth = LIFNeuron(LIFParameters(tau_m=12.0, R_m=8.0, V_threshold=0.0), n=1)
>>> data = truth.simulate(40.0, stim, dt=0.1, verbose=False)
>>> fit = fit_model("LIF", data, parameters={"tau_m": (5.0, 30.0), "R_m": (2.0, 20.0)},
...                 fixed={"V_threshold": 0.0}, stimulus=stim, popsize=8, maxiter=15,
...                 progress=False)
>>> round(float(fit["tau_m"]), 3), round(float(fit["R_m"]), 3), fit["R_m"].attrs["units"]
(12.0, 8.0, 'MOhm')
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from neurosim_nb._validation import did_you_mean
from neurosim_nb.errors import InvalidArgumentError
from neurosim_nb.fitting.objectives import (
    COINCIDENCE_WINDOW_MS,
    FEATURE_SCALES,
    FEATURES,
    feature_error,
    gamma_many,
    stationary_rates,
    train_features,
)

__all__ = ["fit_model", "FitError", "TARGETS", "OPTIMIZERS"]

#: what a fit can target: name -> (objective, units of the error)
TARGETS = {"trace": ("mean squared error of V", "mV2"),
           "spikes": ("1 - coincidence factor (Jolivet et al. 2008)", "1"),
           "features": ("weighted normalised squared feature error", "1")}
#: the global optimisers
OPTIMIZERS = ("differential_evolution",)
#: error handed to the optimiser for a candidate that cannot run (parameters rejected by
#: the family's cross-field checks, a diverging run); recorded as ``inf`` in the history
_INVALID = 1e10
#: function evaluations of the local refinement, per fitted parameter
_REFINE_EVALS_PER_PARAMETER = 40


class FitError(InvalidArgumentError):
    """A fit that cannot run as asked: unknown family or parameter, bad bounds, bad data or
    stimulus."""


# --------------------------------------------------------------------------------------
# the problem: everything a worker needs to evaluate candidates (picklable)
# --------------------------------------------------------------------------------------
@dataclass
class _Problem:
    family: str
    names: tuple[str, ...]
    lo: np.ndarray
    hi: np.ndarray
    fixed: dict
    target: str
    stimulus: list
    dt: float
    duration_ms: float
    seed: int
    # trace
    sample_idx: np.ndarray | None = None
    sample_every: int = 1
    v_data: np.ndarray | None = None
    # spikes
    spikes_data: np.ndarray | None = None
    delta_ms: float = COINCIDENCE_WINDOW_MS
    # features: name -> (target, weight, scale); fI target is an array over currents
    features: dict = field(default_factory=dict)
    currents: np.ndarray | None = None
    fi_duration_ms: float = 0.0
    fi_transient_ms: float = 0.0
    onset_ms: float = 0.0

    def physical(self, u: np.ndarray) -> np.ndarray:
        """Normalised coordinates in [0, 1] (S, N) -> parameter values (S, N)."""
        return self.lo + np.clip(u, 0.0, 1.0) * (self.hi - self.lo)

    def population(self, x: np.ndarray, repeat: int = 1):
        """One neuron per row of ``x`` (each repeated ``repeat`` times, consecutively)."""
        from neurosim_nb.core.neurons.registry import MODEL_FAMILIES

        cls = MODEL_FAMILIES[self.family]
        values = {name: np.repeat(x[:, k], repeat) for k, name in enumerate(self.names)}
        params = cls.parameters_class(**self.fixed, **values)
        return cls(params, n=x.shape[0] * repeat)

    def _spikes(self, ds, n: int):
        """Sorted ragged spike trains (times, offsets) of the ``n`` neurons of a run."""
        t = np.asarray(ds["spike_time"].values, float)
        i = np.asarray(ds["spike_neuron"].values, np.int64)
        order = np.lexsort((t, i))
        offsets = np.concatenate([[0], np.cumsum(np.bincount(i, minlength=n))])
        return t[order], offsets

    def run(self, x: np.ndarray, *, record_v: bool):
        pop = self.population(x)
        return pop.simulate(self.duration_ms, self.stimulus, dt=self.dt,
                            record=("V",) if record_v else (), seed=self.seed, verbose=False,
                            sample_every=self.sample_every if record_v else 1)

    def trace(self, x: np.ndarray) -> np.ndarray:
        """Model V at the data's time points, (S, T) mV."""
        ds = self.run(x, record_v=True)
        return np.asarray(ds["V"].values[self.sample_idx].T, float)

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """(V_model - V_data) / sqrt(T), (S, T): the sum of squares is the MSE."""
        return (self.trace(x) - self.v_data) / np.sqrt(self.v_data.size)

    def errors_unchecked(self, x: np.ndarray) -> np.ndarray:
        s = x.shape[0]
        if self.target == "trace":
            return np.mean((self.trace(x) - self.v_data) ** 2, axis=1)
        if self.target == "spikes":
            t, off = self._spikes(self.run(x, record_v=False), s)
            gamma = gamma_many(t, off, self.spikes_data, self.duration_ms, self.delta_ms)
            return 1.0 - np.maximum(gamma, -1.0)
        total = np.zeros(s)
        weights = 0.0
        train_names = [k for k in self.features if k != "fI"]
        if train_names:
            t, off = self._spikes(self.run(x, record_v=False), s)
            feats = train_features(t, off, self.duration_ms, self.onset_ms)
            for name in train_names:
                target, w, scale = self.features[name]
                total += w * feature_error(feats[name], target, scale)
                weights += w
        if "fI" in self.features:
            target, w, scale = self.features["fI"]
            m = self.currents.size
            pop = self.population(x, repeat=m)
            ds = pop.simulate(self.fi_duration_ms, np.tile(self.currents, s), dt=self.dt,
                              record=(), seed=self.seed, verbose=False)
            t, off = self._spikes(ds, s * m)
            rate = stationary_rates(t, off, self.fi_transient_ms)
            err = feature_error(rate.reshape(s, m), target[None, :], scale)
            total += w * err.mean(axis=1)
            weights += w
        return total / weights

    def errors(self, x: np.ndarray) -> np.ndarray:
        """Objective of each row of ``x``; ``inf`` for a candidate that cannot run."""
        from neurosim_nb.engine.simulator import SimulationDivergedError

        try:
            return self.errors_unchecked(x)
        except (ValueError, SimulationDivergedError, FloatingPointError):
            if x.shape[0] == 1:
                return np.array([np.inf])
            half = x.shape[0] // 2         # isolate the bad candidates by bisection
            return np.concatenate([self.errors(x[:half]), self.errors(x[half:])])


def _evaluate_batch(problem: _Problem, u: np.ndarray) -> np.ndarray:
    """Errors of a batch of candidates in normalised coordinates (a Dask task)."""
    return problem.errors(problem.physical(u))


# --------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------
def _family(model) -> tuple[str, type]:
    from neurosim_nb.core.neurons.registry import MODEL_FAMILIES

    names = list(MODEL_FAMILIES)
    if isinstance(model, type):
        for name in names:
            if MODEL_FAMILIES[name] is model:
                return name, model
        raise FitError(f"model {model.__name__} is not a registered family; register it "
                       f"with register_model or use one of {names}")
    if not isinstance(model, str):
        raise TypeError(f"model must be a family name, one of {names}, got "
                        f"{type(model).__name__}")
    if model not in MODEL_FAMILIES:
        raise FitError(f"unknown model family {model!r}; choose from {names}."
                       f"{did_you_mean(model, names)}")
    return model, MODEL_FAMILIES[model]


def _check_bounds(cls, parameters, fixed) -> tuple[tuple[str, ...], np.ndarray, np.ndarray,
                                                   dict]:
    info = cls.parameters_class.field_info()
    numeric = [k for k, v in info.items() if v["choices"] is None]
    pname = cls.parameters_class.__name__
    if not isinstance(parameters, Mapping) or not parameters:
        raise FitError("parameters must be a non-empty {name: (low, high)} mapping of the "
                       f"{pname} fields to fit, e.g. {{{numeric[0]!r}: (low, high)}}")
    fixed = dict(fixed or {})
    for key in list(parameters) + list(fixed):
        if key not in info:
            raise FitError(f"{pname} has no parameter {key!r}.{did_you_mean(key, info)} "
                           f"Its parameters: {list(info)}")
    both = sorted(set(parameters) & set(fixed))
    if both:
        raise FitError(f"{both} are both fitted (parameters=) and fixed (fixed=)")
    names, lo, hi = [], [], []
    for key, b in parameters.items():
        meta = info[key]
        if meta["choices"] is not None:
            raise FitError(f"{pname}.{key} is a choice among {list(meta['choices'])}, not a "
                           "number to fit; give it in fixed=")
        try:
            low, high = (float(v) for v in b)
        except (TypeError, ValueError):
            raise FitError(f"the bounds of {key!r} must be a pair (low, high) in "
                           f"{meta['unit']}, got {b!r}") from None
        if not (np.isfinite(low) and np.isfinite(high)):
            raise FitError(f"the bounds of {key!r} must be finite, got ({low}, {high})")
        if low > high:
            raise FitError(f"the bounds of {key!r} are reversed: ({low}, {high}) "
                           f"{meta['unit']}; give (low, high) with low < high")
        if low == high:
            raise FitError(f"the bounds of {key!r} are empty: ({low}, {high}) {meta['unit']};"
                           f" to hold it at {low}, pass fixed={{{key!r}: {low}}}")
        flo, fhi = meta["bounds"] if meta["bounds"] is not None else (-np.inf, np.inf)
        if low < flo or high > fhi:
            raise FitError(f"the bounds ({low}, {high}) {meta['unit']} of {key!r} leave its "
                           f"allowed range [{flo:g}, {fhi:g}] {meta['unit']} "
                           f"({meta['doc']})")
        names.append(key)
        lo.append(low)
        hi.append(high)
    try:
        cls.parameters_class(**fixed)
    except (TypeError, ValueError) as exc:
        raise FitError(f"fixed parameters rejected: {exc}") from None
    return tuple(names), np.array(lo), np.array(hi), fixed


def _finite_array(name: str, values) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        raise FitError(f"{name} is empty")
    if not np.all(np.isfinite(arr)):
        raise FitError(f"{name} contains NaN or inf; remove or interpolate those samples")
    return arr


def _trace_data(data, dt) -> tuple[np.ndarray, np.ndarray]:
    """(times (ms), V (mV)) of a recorded trace."""
    if isinstance(data, xr.Dataset):
        if "V" not in data:
            raise FitError("a trace Dataset needs a 'V' variable (mV); it has "
                           f"{list(data.data_vars)}")
        data = data["V"]
    if isinstance(data, xr.DataArray):
        if "time" not in data.dims:
            raise FitError(f"the trace has no 'time' axis (dims {data.dims}); give a "
                           "DataArray over 'time' in ms, or an array with dt=")
        other = [d for d in data.dims if d != "time"]
        if any(data.sizes[d] != 1 for d in other):
            raise FitError(f"the trace must be one neuron's V over time; it has dims "
                           f"{dict(data.sizes)}: select one neuron first")
        v = _finite_array("the trace", data.transpose("time", ...).values.reshape(-1))
        t = _finite_array("the time axis", data["time"].values)
    else:
        v = _finite_array("the trace", data)
        if v.ndim != 1:
            raise FitError(f"a trace array must be 1-D (V over time), got shape {v.shape}")
        if dt is None:
            raise FitError("a trace given as an array needs dt= (ms): sample k is taken at "
                           "t = (k + 1) * dt, as simulate records")
        t = float(dt) * np.arange(1, v.size + 1)
    if t.size >= 2 and np.any(np.diff(t) <= 0):
        raise FitError("the time axis must increase")
    return t, v


def _spike_data(data, duration_ms) -> tuple[np.ndarray, float]:
    """(sorted spike times (ms), duration (ms)) of a recorded spike train."""
    if isinstance(data, xr.Dataset):
        if "spike_time" not in data:
            raise FitError("a spike Dataset needs a 'spike_time' variable (ms)")
        if "spike_neuron" in data and np.unique(data["spike_neuron"].values).size > 1:
            raise FitError("the spike data hold several neurons; select one neuron's spikes")
        if duration_ms is None:
            duration_ms = data.attrs.get("duration")
        data = data["spike_time"].values
    elif isinstance(data, xr.DataArray):
        if duration_ms is None:
            duration_ms = data.attrs.get("duration")
        data = data.values
    times = np.asarray(data, dtype=float)
    if times.ndim != 1:
        raise FitError(f"spike times must be a 1-D array (ms), got shape {times.shape}")
    if not np.all(np.isfinite(times)):
        raise FitError("the spike times contain NaN or inf")
    if duration_ms is None:
        raise FitError("give duration_ms= (ms), the length of the recording of the spikes")
    duration_ms = float(duration_ms)
    if not (np.isfinite(duration_ms) and duration_ms > 0):
        raise FitError(f"duration_ms must be a finite number of ms > 0, got {duration_ms}")
    if times.size and (times.min() < 0 or times.max() > duration_ms + 1e-9):
        raise FitError(f"spike times must lie in [0, duration_ms = {duration_ms}] ms")
    return np.sort(times), duration_ms


def _stimulus(stimulus, step_ms: float, duration_ms: float) -> list:
    """The stimulus as a list of Stimulus objects; an array is a waveform sampled every
    ``step_ms`` that must span the run."""
    from neurosim_nb.stimuli import Stimulus, Waveform, as_stimuli

    if stimulus is None:
        raise FitError("give the stimulus that produced the data: a constant current, a "
                       "Stimulus (e.g. StepCurrent) or a waveform array (nA)")
    n_steps = int(round(duration_ms / step_ms))
    if isinstance(stimulus, xr.DataArray) or (
            not isinstance(stimulus, (Stimulus, list, tuple)) and np.ndim(stimulus) == 1):
        arr = stimulus
        length = arr.sizes.get("time", arr.shape[0]) if isinstance(arr, xr.DataArray) \
            else len(arr)
        if isinstance(arr, xr.DataArray):
            wave = Waveform(arr)
        else:
            if length not in (n_steps, n_steps + 1):
                raise FitError(f"the stimulus waveform has {length} samples but the data "
                               f"span {n_steps} steps of {step_ms:g} ms: give one current "
                               "per data sample")
            wave = Waveform(_finite_array("the stimulus", arr)[:n_steps], dt_ms=step_ms)
        stimulus = wave
    try:
        stims = as_stimuli(stimulus)
    except ValueError as exc:
        raise FitError(f"bad stimulus: {exc}") from None
    for s in stims:
        if isinstance(s, Waveform):
            end = s.onset_ms + s.samples.shape[0] * s.dt_ms
            if end < duration_ms - 1e-6 or end > duration_ms + s.dt_ms + 1e-6:
                raise FitError(f"the stimulus waveform ends at {end:g} ms but the data "
                               f"last {duration_ms:g} ms: its length must match the data")
            if s.samples.ndim != 1:
                raise FitError("the stimulus waveform must be one current over time (T,)")
        if getattr(s, "targets", None) is not None:
            raise FitError("the stimulus drives the one fitted neuron: leave targets unset")
    return stims


def _onset(stims) -> float:
    onsets = [float(getattr(s, "onset_ms", 0.0)) for s in stims]
    return min(onsets) if onsets else 0.0


def _is_dict(data) -> bool:
    """A mapping of feature targets (an xarray Dataset is a Mapping too: not one)."""
    return isinstance(data, Mapping) and not isinstance(data, xr.Dataset)


def _feature_spec(features, data) -> tuple[dict, dict]:
    """({name: (target, weight, scale)}, fI info) from ``features`` and ``data``."""
    if _is_dict(data):
        targets = dict(data)
    else:
        targets = {}
    if isinstance(features, str):
        features = [features]
    if features is None:
        features = list(targets) if targets else ["rate"]
    if isinstance(features, Mapping):
        items = dict(features)
    else:
        items = {name: 1.0 for name in features}
    if not items:
        raise FitError(f"features must name at least one of {list(FEATURES)}")
    spec = {}
    for name, opt in items.items():
        if name not in FEATURES:
            raise FitError(f"unknown feature {name!r}; choose from {list(FEATURES)}."
                           f"{did_you_mean(name, FEATURES)}")
        if isinstance(opt, Mapping):
            bad = set(opt) - {"weight", "scale"}
            if bad:
                raise FitError(f"feature {name!r}: unknown options {sorted(bad)}; give "
                               "'weight' and/or 'scale'")
            w, scale = float(opt.get("weight", 1.0)), float(opt.get("scale",
                                                                     FEATURE_SCALES[name]))
        else:
            w, scale = float(opt), FEATURE_SCALES[name]
        if not (np.isfinite(w) and w > 0 and np.isfinite(scale) and scale > 0):
            raise FitError(f"feature {name!r}: weight and scale must be > 0, got {w}, {scale}")
        spec[name] = [None, w, scale]
    return spec, targets


# --------------------------------------------------------------------------------------
# the fit
# --------------------------------------------------------------------------------------
class _Recorder:
    """Every evaluated point, its error and phase; the running best."""

    def __init__(self) -> None:
        self.u: list[np.ndarray] = []
        self.err: list[np.ndarray] = []
        self.phase: list[np.ndarray] = []
        self.best_err = np.inf
        self.best_u: np.ndarray | None = None

    def add(self, u: np.ndarray, err: np.ndarray, phase: int) -> None:
        u = np.atleast_2d(np.asarray(u, float)).copy()
        err = np.asarray(err, float).reshape(-1)
        self.u.append(u)
        self.err.append(err)
        self.phase.append(np.full(err.size, phase, np.int64))
        k = int(np.argmin(err))
        if err[k] < self.best_err:
            self.best_err, self.best_u = float(err[k]), u[k].copy()

    @property
    def n(self) -> int:
        return int(sum(e.size for e in self.err))


def _scipy_at_least(major: int, minor: int) -> bool:
    import scipy

    parts = scipy.__version__.split(".")
    return (int(parts[0]), int("".join(c for c in parts[1] if c.isdigit()) or 0)) >= (
        major, minor)


def _bar(total: int, progress):
    if not progress:
        return None
    if progress == "notebook":
        from tqdm.notebook import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm(total=total, desc="fit_model generations", unit="gen")


def fit_model(model, data, *, parameters: Mapping[str, tuple[float, float]],
              target: str = "trace", features=None, stimulus=None, fixed=None,
              dt: float | None = None, duration_ms: float | None = None,
              optimizer: str = "differential_evolution", popsize: int = 10,
              maxiter: int = 30, tol: float = 1e-6, local_refinement: bool = True,
              client: Any = "serial", seed: int = 0, progress: bool | str = True,
              delta_ms: float = COINCIDENCE_WINDOW_MS) -> xr.Dataset:
    r"""Fit the parameters of a neuron model family to a recorded trace, spike times or
    features.

    Parameters
    ----------
    model : str
        A family of :data:`~neurosim_nb.core.neurons.registry.MODEL_FAMILIES` (``"LIF"``,
        ``"AdEx"``, ``"Izhikevich"``, ``"Hodgkin-Huxley"``, ...), or its population class.
    data : Dataset, DataArray, array or dict
        ``target="trace"``: the membrane potential (mV) over ``time`` (ms) -- a Dataset with
        ``V`` (one neuron), a DataArray over ``time``, or a 1-D array with ``dt`` (sample
        ``k`` at ``(k + 1) * dt``). A sample at ``t <= 0`` is the initial state and is not
        fitted. ``target="spikes"``: spike times (ms) -- a Dataset with ``spike_time`` (its
        ``duration`` attr is the recording length), a DataArray or an array with
        ``duration_ms``. ``target="features"``: spike times as above (the features are
        measured on them), or a dict of target values ``{"rate": Hz,
        "first_spike_latency": ms, "isi_cv": 1, "fI": DataArray}``; the f-I curve is a
        DataArray of rates (Hz) over a ``current`` coordinate, as
        :func:`~neurosim_nb.analysis.transfer.transfer_function` returns (its
        ``duration_ms``/``transient_ms`` attrs are reused).
    parameters : dict
        ``{name: (low, high)}`` bounds of the fitted parameters, in the units of the family's
        parameter set (e.g. ``tau_m`` in ms, ``R_m`` in MOhm), inside their allowed ranges.
    target : {"trace", "spikes", "features"}
        What is fitted (see the module docstring for each objective).
    features : list or dict, optional
        ``target="features"``: the feature names (default: the keys of a dict ``data``), or
        ``{name: weight}`` / ``{name: {"weight": w, "scale": s}}``; default scales
        :data:`~neurosim_nb.fitting.objectives.FEATURE_SCALES`.
    stimulus : float, Stimulus, list of Stimulus or array
        The input that produced the data, in the family's current units (nA; mV/ms for
        Izhikevich): a constant, a stimulus of :mod:`neurosim_nb.stimuli` or a waveform
        sampled at the data's step (one value per trace sample). Not used by an f-I curve,
        whose currents are its coordinate.
    fixed : dict, optional
        Parameters held at given values (others keep the family's defaults).
    dt : float, optional
        Time step of the simulation (ms). Default: the trace's sampling step; 0.1 ms for
        spikes and features. The trace's sampling step must be a multiple of it.
    duration_ms : float, optional
        Simulated time (ms). Default: the last trace sample; for spikes the recording length
        (``duration`` attr of a Dataset); for features the rate window.
    optimizer : {"differential_evolution"}
        The global optimiser: :func:`scipy.optimize.differential_evolution` with
        ``vectorized=True, updating="deferred"`` (one population run per generation).
    popsize : int
        Candidates per generation per fitted parameter (scipy's ``popsize``).
    maxiter : int
        Maximum number of generations.
    tol : float
        Relative convergence tolerance of the population's errors (scipy's ``tol``).
    local_refinement : bool
        Refine from the best point: ``least_squares`` (trust region reflective, within the
        bounds) on the trace residuals, Nelder-Mead (bounded) otherwise.
    client : "serial", None, distributed.Client or str
        ``"serial"`` (default): everything in this process. Otherwise each generation is
        split in one batch per worker (:func:`~neurosim_nb.fitting.cluster.get_client`:
        ``None`` is the embedded local cluster, a string a scheduler address). The result
        does not depend on the client.
    seed : int
        Seed of the optimiser (and of the runs); the same seed gives the same fit.
    progress : bool or "notebook"
        A progress bar over generations.
    delta_ms : float
        Coincidence window of the spike objective (ms), 4 ms as in Jolivet et al. (2008).

    Returns
    -------
    xarray.Dataset
        One scalar variable per fitted parameter (its units and description), ``error``
        (objective at the best point), ``history_best``/``history_mean`` over
        ``generation`` (0 is the initial population; best ever so far and the population's
        mean), every evaluation (``evaluation_<name>``, ``evaluation_error`` -- ``inf``
        where a candidate could not run -- and ``evaluation_phase``: the generation, -1 for
        the refinement), and the fit beside the data: ``V_data``/``V_fit`` over the data's
        ``time`` (trace), ``spike_time_data``/``spike_time_fit`` (spikes), or
        ``feature_data``/``feature_fit`` over ``feature`` and ``rate_data``/``rate_fit`` over
        ``current`` (features). Attrs: model, objective, target, optimiser settings, seed,
        ``n_evaluations``, ``wall_time_s``, fixed values and bounds as JSON.

    Raises
    ------
    FitError (a ValueError)
        Unknown family, parameter or feature (with a did-you-mean), reversed, empty or
        out-of-range bounds, data without a time axis or with NaN, a stimulus whose length
        does not match the data, a sampling step that is not a multiple of ``dt``.
    TypeError
        ``model`` is not a name.

    Notes
    -----
    The best point returned is the best of *all* evaluations (global search and refinement):
    ``error == evaluation_error.min()``. Candidates run deterministically (constant or
    deterministic stimuli; the run seed is fixed), so the serial and the Dask fit agree bit
    for bit. Spike times are multiples of ``dt``, so the spike objective is piecewise
    constant at that scale.

    References
    ----------
    Jolivet R, Kobayashi R, Rauch A, Naud R, Shinomoto S, Gerstner W (2008) A benchmark test
    for a quantitative assessment of simple neuron models. *J Neurosci Methods* 169:417-424.

    Examples
    --------
    See the module docstring.
    """
    from scipy.optimize import differential_evolution, least_squares, minimize

    t_wall = time.perf_counter()
    if not _scipy_at_least(1, 12):
        raise ImportError("fit_model needs scipy >= 1.12 (differential evolution's "
                          "intermediate_result callback); upgrade scipy")
    family, cls = _family(model)
    if target not in TARGETS:
        raise FitError(f"target must be one of {list(TARGETS)}, got {target!r}."
                       f"{did_you_mean(target, TARGETS)}")
    if optimizer not in OPTIMIZERS:
        raise FitError(f"optimizer must be one of {list(OPTIMIZERS)}, got {optimizer!r}")
    for name, v in (("popsize", popsize), ("maxiter", maxiter)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise FitError(f"{name} must be an integer >= 1, got {v!r}")
    names, lo, hi, fixed = _check_bounds(cls, parameters, fixed)
    if dt is not None and not (np.isfinite(dt) and dt > 0):
        raise FitError(f"dt must be a finite number of ms > 0, got {dt!r}")

    prob = _Problem(family=family, names=names, lo=lo, hi=hi, fixed=fixed, target=target,
                    stimulus=[], dt=0.1, duration_ms=0.0, seed=int(seed), delta_ms=delta_ms)
    out_data: dict[str, Any] = {}
    if target == "trace":
        t, v = _trace_data(data, dt)
        keep = t > 1e-9
        t, v = t[keep], v[keep]
        if t.size < 2:
            raise FitError("the trace needs at least 2 samples after t = 0")
        step = float(np.median(np.diff(t)))
        sim_dt = float(dt) if dt is not None else step
        k = t / sim_dt
        if np.any(np.abs(k - np.round(k)) > 1e-6 * np.maximum(1.0, k)):
            raise FitError(f"the data's time points must be multiples of dt = {sim_dt:g} ms "
                           "(the simulation records at the end of each step)")
        k = np.round(k).astype(np.int64)
        m = int(round(step / sim_dt))
        every = m if m >= 1 and np.all(k % m == 0) else 1
        prob.dt, prob.sample_every = sim_dt, every
        prob.duration_ms = float(k[-1] * sim_dt) if duration_ms is None else float(duration_ms)
        if prob.duration_ms < k[-1] * sim_dt - 1e-9:
            raise FitError(f"duration_ms = {duration_ms} ends before the last sample at "
                           f"{t[-1]:g} ms")
        prob.sample_idx = k // every - 1
        prob.v_data = v
        prob.stimulus = _stimulus(stimulus, step, prob.duration_ms)
        out_data["time"] = t
    elif target == "spikes":
        spikes, dur = _spike_data(data, duration_ms)
        prob.dt = 0.1 if dt is None else float(dt)
        prob.duration_ms = dur
        prob.spikes_data = spikes
        prob.stimulus = _stimulus(stimulus, prob.dt, dur)
        if not (np.isfinite(delta_ms) and delta_ms > 0):
            raise FitError(f"delta_ms must be > 0 ms, got {delta_ms!r}")
    else:
        spec, targets = _feature_spec(features, data)
        prob.dt = 0.1 if dt is None else float(dt)
        train_names = [n for n in spec if n != "fI"]
        if train_names:
            if _is_dict(data):
                dur = duration_ms
                if dur is None:
                    raise FitError("give duration_ms= (ms): the run over which the rate, "
                                   "latency and ISI CV are measured")
                dur = float(dur)
            else:
                spikes, dur = _spike_data(data, duration_ms)
            prob.duration_ms = dur
            prob.stimulus = _stimulus(stimulus, prob.dt, dur)
            prob.onset_ms = _onset(prob.stimulus)
            if not _is_dict(data):
                f = train_features(spikes, np.array([0, spikes.size]), dur, prob.onset_ms)
                targets = {n: float(f[n][0]) for n in train_names}
            for n in train_names:
                if n not in targets:
                    raise FitError(f"the data give no target for feature {n!r}; they have "
                                   f"{list(targets)}")
                value = float(targets[n])
                if not np.isfinite(value):
                    raise FitError(f"the data leave feature {n!r} undefined (too few spikes);"
                                   " drop it from features")
                spec[n][0] = value
        if "fI" in spec:
            fi = targets.get("fI")
            if not isinstance(fi, xr.DataArray) or "current" not in fi.coords:
                raise FitError("the f-I target must be a DataArray of rates (Hz) over a "
                               "'current' coordinate, e.g. transfer_function's result, given "
                               "as data={'fI': ...}")
            spec["fI"][0] = _finite_array("the f-I rates", fi.values).reshape(-1)
            prob.currents = _finite_array("the f-I currents", fi["current"].values)
            prob.fi_duration_ms = float(fi.attrs.get("duration_ms", duration_ms or 1000.0))
            prob.fi_transient_ms = float(fi.attrs.get("transient_ms", 0.0))
            if not train_names:
                prob.duration_ms = prob.fi_duration_ms
        prob.features = {n: tuple(v) for n, v in spec.items()}

    # -- the global search ----------------------------------------------------------
    from neurosim_nb.fitting.cluster import SERIAL, get_client, map_batches, n_workers

    dask_client = None if (isinstance(client, str) and client == SERIAL) else \
        get_client(client)
    workers = n_workers(dask_client) if dask_client is not None else 1
    rec = _Recorder()
    task = functools.partial(_evaluate_batch, prob)

    def evaluate(u: np.ndarray) -> np.ndarray:
        if dask_client is None or workers == 1 or u.shape[0] < 2:
            return task(u)
        batches = np.array_split(u, min(workers, u.shape[0]))
        out: list[Any] = [None] * len(batches)
        for i, res in map_batches(task, batches, dask_client, progress=False):
            out[i] = res
        return np.concatenate(out)

    history_best: list[float] = []
    history_mean: list[float] = []
    generation = [0]           # generations completed (callbacks)
    calls = [0]                # population evaluations: 0 is the initial population

    def objective(ut: np.ndarray) -> np.ndarray:  # (N, S), as scipy's vectorized form
        u = np.atleast_2d(ut.T)
        err = evaluate(u)
        rec.add(u, err, calls[0])
        calls[0] += 1
        if calls[0] == 1:
            finite = err[np.isfinite(err)]
            history_best.append(rec.best_err)
            history_mean.append(float(finite.mean()) if finite.size else np.inf)
        return np.where(np.isfinite(err), err, _INVALID)

    bar = _bar(maxiter, progress)

    def callback(intermediate_result=None):
        generation[0] += 1
        energies = getattr(intermediate_result, "population_energies", None)
        if energies is None:
            energies = rec.err[-1]
        energies = np.asarray(energies)
        finite = energies[energies < _INVALID]
        history_best.append(rec.best_err)
        history_mean.append(float(finite.mean()) if finite.size else np.inf)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(best=f"{rec.best_err:.4g}")

    n_par = len(names)
    # scipy >= 1.15 takes the generator as rng= (SPEC 7); before, the same as seed=
    seeding = {"rng" if _scipy_at_least(1, 15) else "seed": np.random.default_rng(seed)}
    try:
        de = differential_evolution(
            objective, [(0.0, 1.0)] * n_par, popsize=popsize, maxiter=maxiter, tol=tol,
            polish=False, vectorized=True, updating="deferred", init="latinhypercube",
            callback=callback, **seeding)
    finally:
        if bar is not None:
            bar.close()
    n_generations = generation[0]

    # -- the local refinement -------------------------------------------------------
    refine_method = ""
    if local_refinement and rec.best_u is not None:
        budget = _REFINE_EVALS_PER_PARAMETER * n_par
        u0 = rec.best_u.copy()
        if target == "trace":
            refine_method = "least_squares"

            def resid(u):
                u = np.clip(u, 0.0, 1.0)
                try:
                    r = prob.residuals(prob.physical(u[None, :]))[0]
                except (ValueError, FloatingPointError):
                    rec.add(u, [np.inf], -1)
                    return np.full(prob.v_data.size, np.sqrt(_INVALID))
                rec.add(u, [np.sum(r ** 2)], -1)
                return r

            def jac(u):
                h = 1e-6
                u = np.clip(u, 0.0, 1.0)
                steps = np.where(u + h <= 1.0, h, -h)
                pts = np.vstack([u[None, :], u[None, :] + np.diag(steps)])
                try:
                    r = prob.residuals(prob.physical(pts))
                except (ValueError, FloatingPointError):
                    return np.zeros((prob.v_data.size, n_par))
                rec.add(pts, np.sum(r ** 2, axis=1), -1)
                return ((r[1:] - r[0]) / steps[:, None]).T

            try:
                least_squares(resid, u0, jac=jac, bounds=(0.0, 1.0), method="trf",
                              x_scale=1.0, max_nfev=budget, xtol=1e-12, ftol=1e-12,
                              gtol=1e-12)
            except ValueError:
                pass
        else:
            refine_method = "Nelder-Mead"

            def fun(u):
                err = float(task(np.clip(u, 0.0, 1.0)[None, :])[0])
                rec.add(np.clip(u, 0.0, 1.0), [err], -1)
                return err if np.isfinite(err) else _INVALID

            simplex = np.vstack([u0] + [np.clip(u0 + 0.05 * np.eye(n_par)[i] *
                                                (1 if u0[i] < 0.95 else -1), 0, 1)
                                        for i in range(n_par)])
            minimize(fun, u0, method="Nelder-Mead", bounds=[(0.0, 1.0)] * n_par,
                     options={"maxfev": budget, "initial_simplex": simplex,
                              "xatol": 1e-6, "fatol": 1e-9})

    if rec.best_u is None:
        try:                       # surface why, from the first candidate, in this process
            prob.errors_unchecked(prob.physical(rec.u[0][:1]))
            reason = ""
        except Exception as exc:  # noqa: BLE001 - reported to the user, with its type
            reason = f": the first fails with {type(exc).__name__}: {exc}"
        raise FitError("no candidate could be simulated (every evaluation failed)"
                       f"{reason}; check the bounds and fixed values")
    best_x = prob.physical(rec.best_u[None, :])[0]
    wall = time.perf_counter() - t_wall
    return _result(prob, cls, rec, best_x, history_best, history_mean, out_data, dict(
        model=cls.__name__, family=family, target=target, objective=TARGETS[target][0],
        optimizer=optimizer, popsize=int(popsize), maxiter=int(maxiter), tol=float(tol),
        n_generations=int(n_generations), de_message=str(de.message),
        local_refinement=int(bool(local_refinement)), refinement_method=refine_method,
        seed=int(seed), n_evaluations=rec.n, wall_time_s=float(wall), dt=prob.dt,
        duration_ms=prob.duration_ms, n_workers=int(workers),
        fixed_json=json.dumps(fixed, sort_keys=True, default=float),
        bounds_json=json.dumps({n: [float(a), float(b)]
                                for n, a, b in zip(names, lo, hi, strict=True)}),
        stimulus_json=json.dumps([type(s).__name__ for s in prob.stimulus])))


def _result(prob: _Problem, cls, rec: _Recorder, best_x, history_best, history_mean,
            out_data, attrs) -> xr.Dataset:
    from neurosim_nb._version import __version__

    info = cls.parameters_class.field_info()
    units = TARGETS[prob.target][1]
    u_all = np.concatenate(rec.u)
    x_all = prob.physical(u_all)
    err_all = np.concatenate(rec.err)
    data_vars: dict[str, Any] = {}
    coords: dict[str, Any] = {
        "generation": ("generation", np.arange(len(history_best)),
                       {"long_name": "generation (0: the initial population)", "units": "1"}),
        "evaluation": ("evaluation", np.arange(err_all.size),
                       {"long_name": "evaluation, in order", "units": "1"}),
    }
    for k, name in enumerate(prob.names):
        meta = info[name]
        data_vars[name] = ((), float(best_x[k]), {"units": meta["unit"],
                                                  "long_name": f"fitted {meta['doc']}"})
        data_vars[f"evaluation_{name}"] = ("evaluation", x_all[:, k],
                                           {"units": meta["unit"], "long_name": meta["doc"]})
    data_vars["error"] = ((), rec.best_err, {"units": units,
                                             "long_name": f"{TARGETS[prob.target][0]} at the "
                                                          "best point"})
    data_vars["evaluation_error"] = ("evaluation", err_all, {
        "units": units, "long_name": "objective (inf: the candidate could not run)"})
    data_vars["evaluation_phase"] = ("evaluation", np.concatenate(rec.phase), {
        "units": "1", "long_name": "generation of the evaluation (-1: local refinement)"})
    data_vars["history_best"] = ("generation", np.asarray(history_best, float), {
        "units": units, "long_name": "best error evaluated so far"})
    data_vars["history_mean"] = ("generation", np.asarray(history_mean, float), {
        "units": units, "long_name": "mean error of the population"})

    best = best_x[None, :]
    if prob.target == "trace":
        coords["time"] = ("time", out_data["time"], {"units": "ms", "long_name": "time",
                                                      "axis": "T"})
        data_vars["V_data"] = ("time", prob.v_data, {"units": "mV",
                                                     "long_name": "recorded membrane potential"})
        data_vars["V_fit"] = ("time", prob.trace(best)[0], {
            "units": "mV", "long_name": "membrane potential of the fitted model"})
    elif prob.target == "spikes" or any(n != "fI" for n in prob.features):
        ds = prob.run(best, record_v=False)
        t_fit = np.sort(np.asarray(ds["spike_time"].values, float))
        if prob.target == "spikes":
            data_vars["spike_time_data"] = ("spike_data", prob.spikes_data, {
                "units": "ms", "long_name": "recorded spike time"})
        data_vars["spike_time_fit"] = ("spike_fit", t_fit, {
            "units": "ms", "long_name": "spike time of the fitted model"})
        if prob.target == "spikes":
            attrs["delta_ms"] = prob.delta_ms
    if prob.target == "features":
        train = [n for n in prob.features if n != "fI"]
        if train:
            f = train_features(t_fit, np.array([0, t_fit.size]), prob.duration_ms,
                               prob.onset_ms)
            coords["feature"] = ("feature", np.array(train, dtype=object),
                                 {"long_name": "feature"})
            data_vars["feature_data"] = ("feature", [prob.features[n][0] for n in train], {
                "units": "1", "long_name": "target feature value (units in feature_units)"})
            data_vars["feature_fit"] = ("feature", [float(f[n][0]) for n in train], {
                "units": "1", "long_name": "feature of the fitted model (NaN: undefined)"})
            attrs["feature_units"] = json.dumps({n: FEATURES[n][0] for n in train})
        attrs["features_json"] = json.dumps(
            {n: {"weight": v[1], "scale": v[2]} for n, v in prob.features.items()})
        if "fI" in prob.features:
            m = prob.currents.size
            pop = prob.population(best, repeat=m)
            ds = pop.simulate(prob.fi_duration_ms, prob.currents, dt=prob.dt, record=(),
                              seed=prob.seed, verbose=False)
            t, off = prob._spikes(ds, m)
            coords["current"] = ("current", prob.currents, {"units": cls.current_units,
                                                             "long_name": "input current"})
            data_vars["rate_data"] = ("current", prob.features["fI"][0], {
                "units": "Hz", "long_name": "target f-I curve"})
            data_vars["rate_fit"] = ("current", stationary_rates(t, off, prob.fi_transient_ms), {
                "units": "Hz", "long_name": "f-I curve of the fitted model"})
    attrs = {"Conventions": "CF-1.10",
             "title": f"{attrs['family']} fitted to {prob.target}", **attrs,
             "neurosim_nb_version": __version__}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)
