r"""Global sensitivity analysis of any scalar measure of any model: Sobol' indices and Morris
screening (SALib), with the model evaluated through :func:`~neurosim_nb.fitting.sweep.
parameter_sweep` -- so batching, Dask, per-point seeds and checkpointing come with it.

SALib is powerful but leaves the model loop to its user; here the loop is the sweep:
SALib draws the design (``SALib.sample.sobol`` or ``SALib.sample.morris``), the sweep runs it
as a ``sample`` design, and SALib analyses the outputs (``SALib.analyze.sobol`` or
``SALib.analyze.morris``). The result is one ``xarray.Dataset`` with a ``parameter``
dimension (and ``measure`` when there are several).

* **Sobol'** (Saltelli 2002; Saltelli et al. 2010): first-order ``S1``, total ``ST`` and,
  with ``second_order``, pairwise ``S2`` indices with their bootstrap confidence half-widths.
  The base sample ``N`` must be a power of two for the Sobol' sequence to keep its balance
  properties (Owen 2020); ``n`` is rounded *up* to one, with a warning and
  ``attrs["N_requested"]``. Cost: ``N (2 D + 2)`` runs (``N (D + 2)`` without ``S2``).
* **Morris** (Morris 1991; Campolongo et al. 2007): ``n`` trajectories of ``D + 1`` runs on a
  ``levels``-level grid; ``mu`` (mean elementary effect), ``mu_star`` (mean absolute
  effect, the screening measure), ``sigma`` (their standard deviation: non-linearity and
  interactions) and ``mu_star_conf``. Elementary effects are per *whole range* of a
  parameter (SALib's convention): ``mu`` is in the measure's units and ``mu / (high -
  low)`` estimates the derivative.

Every point must give a finite value: a failed or NaN point makes the analysis of its
measure impossible (the estimators need the complete design), and is a
:class:`SensitivityError` naming how many failed and why (with ``store=``, the finished
points stay in the store).

Examples
--------
>>> import numpy as np
>>> def linear(x, y):
...     return 2.0 * x + y
>>> res = sensitivity_analysis(linear, {"x": (0.0, 1.0), "y": (0.0, 1.0)}, measures="f",
...                            n=256, second_order=False, client="serial", progress=False)
>>> np.round(res["S1"].values, 1).tolist(), res.attrs["N"]
([0.8, 0.2], 256)
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import numbers
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from neurosim_nb._validation import did_you_mean
from neurosim_nb._version import __version__
from neurosim_nb.errors import InvalidArgumentError
from neurosim_nb.fitting.sweep import (
    FAMILY_RUN_PARAMETERS,
    SweepError,
    _callable_description,
    parameter_sweep,
)

__all__ = ["sensitivity_analysis", "SensitivityError", "METHODS"]

#: the methods :func:`sensitivity_analysis` knows, with their smallest ``n``: Sobol' base
#: samples (fewer than 16 give bootstrap intervals wider than the indices' range) and Morris
#: trajectories (fewer than 4 give no meaningful ``sigma`` or bootstrap interval)
METHODS: dict[str, int] = {"sobol": 16, "morris": 4}

#: the name of the output of a model that returns one number when ``measures`` is None
DEFAULT_OUTPUT = "output"


class SensitivityError(InvalidArgumentError):
    """An analysis that cannot be made: bad bounds, too small ``n``, or failed points."""


def sensitivity_analysis(model: Any, bounds: Mapping[str, Any], *,
                         measures: Mapping[str, Callable | str] | str | list[str] | None = None,
                         method: str = "sobol", n: int = 1024, second_order: bool = True,
                         levels: int = 4, conf_level: float = 0.95, num_resamples: int = 1000,
                         fixed: Mapping[str, Any] | None = None, client: Any = None,
                         batch_size: int | None = None, seed: int = 0, store: str | None = None,
                         keep_samples: bool = False, progress: bool | str = True) -> xr.Dataset:
    """Sobol' indices or Morris screening of scalar measures of ``model`` over a box of
    parameters.

    Parameters
    ----------
    model : callable, str or dict
        Anything :func:`~neurosim_nb.fitting.sweep.parameter_sweep` runs -- a model family
        name (``"LIF"``, ``"AdEx"`` ...; a batch of points runs as one population), a network
        JSON spec, or ``model(params: dict, seed: int)`` returning a Dataset or ``{name:
        number}`` -- or a plain function of the parameters by name, ``f(x1=..., x2=...)``,
        or of their dict, ``f(params)``, returning one number or a mapping.
    bounds : dict of str to (float, float)
        ``{name: (low, high)}``, the box the parameters are drawn from uniformly (in the
        parameter's units: ``tau_m`` in ms, ``I_nA`` in nA ...); finite, ``low < high``.
        The names are the model's parameters (checked with a did-you-mean for a model
        family and a plain function).
    measures : dict, str, list of str or None
        As in :func:`~neurosim_nb.fitting.sweep.parameter_sweep` (``"mean_rate"``,
        ``"isi_rate"``, a key of the returned mapping, ``{name: callable(result)}``). For a
        model that returns one number, a name (str) names that output; ``None`` calls it
        ``"output"``.
    method : {"sobol", "morris"}
        Variance-based Sobol' indices, or Morris elementary-effects screening.
    n : int
        Sobol': the base sample ``N`` (>= 16; rounded up to a power of two). Morris: the
        number of trajectories (>= 4).
    second_order : bool
        Sobol' only: also the pairwise ``S2`` (needs >= 2 parameters; costs ``N D`` more
        runs).
    levels : int
        Morris only: the number of grid levels ``p`` (even, >= 2; the step is ``p / (2 (p -
        1))`` of each range).
    conf_level : float
        Confidence level of the bootstrap intervals (0 < conf_level < 1).
    num_resamples : int
        Bootstrap resamples of the confidence intervals.
    fixed : dict, optional
        Values of the model's other parameters (passed to every run).
    client, batch_size, store, progress
        Passed to :func:`~neurosim_nb.fitting.sweep.parameter_sweep`: where the runs go
        (``None`` the embedded ``LocalCluster``, ``"serial"``, a ``Client`` or an address),
        points per task, a Zarr store to checkpoint into (a rerun resumes), a progress bar.
    seed : int
        Seeds the design (SALib's scrambling or trajectories), every run (per-point seeds)
        and the bootstrap: one ``seed`` gives one result.
    keep_samples : bool
        Also return the design (``design``: sample x parameter) and the outputs
        (``output``: sample [x measure]).

    Returns
    -------
    xarray.Dataset
        Coordinates ``parameter`` (with ``low``, ``high`` and ``parameter_units`` along it) and
        ``measure`` (only with several measures; ``measure_units`` along it). Sobol':
        ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (dimensionless), and with ``second_order``
        ``S2``, ``S2_conf`` over ``(parameter, parameter_2)``, symmetric, NaN on the
        diagonal. Morris: ``mu``, ``mu_star``, ``sigma``, ``mu_star_conf`` (the measure's
        units, per whole range of the parameter). Attrs: ``method``, ``N`` (Sobol' base
        sample or Morris trajectories), ``N_requested``, ``n_runs``, ``seed``,
        ``bounds_json``, ``conf_level``, ``model``, ``measures``, ``sweep_hash``,
        ``n_resumed`` (runs read back from ``store``), ``neurosim_nb_version``.

    Raises
    ------
    SensitivityError
        Bounds empty, reversed, not finite or naming an unknown parameter (did-you-mean);
        ``n`` too small; ``second_order`` with one parameter; a point that failed or gave a
        non-finite value (how many, and the first error); a measure constant over the box
        (Sobol': no variance to share).
    SweepError
        What the sweep refuses (a measure that returns a non-scalar, an unknown measure, a
        store of another sweep ...).
    TypeError
        Arguments of the wrong type, or a callable model that cannot be called with the
        parameters.

    Examples
    --------
    Morris screening of a LIF neuron's rate (each run: one neuron, 200 ms; a batch of runs
    is one population):

    >>> res = sensitivity_analysis("LIF", {"tau_m": (8.0, 12.0), "I_nA": (2.5, 3.5)},
    ...                            measures="isi_rate", method="morris", n=4,
    ...                            fixed={"duration_ms": 200.0}, client="serial",
    ...                            progress=False)
    >>> res["mu"].attrs["units"], bool(res["mu"].sel(parameter="tau_m") < 0)
    ('Hz', True)
    """
    if not isinstance(method, str) or method not in METHODS:
        raise SensitivityError(f"method must be one of {list(METHODS)}, got {method!r}."
                               f"{did_you_mean(str(method), list(METHODS))}")
    names, lows, highs = _check_bounds(bounds)
    fixed = {} if fixed is None else fixed
    if not isinstance(fixed, Mapping):
        raise TypeError(f"fixed must be a dict {{name: value}}, got {type(fixed).__name__}")
    model, measures, label = _prepare_model(model, names, list(fixed), measures)
    n_requested = _int_at_least("n", n, METHODS[method])
    seed = _int_at_least("seed", seed, 0)
    if not isinstance(second_order, (bool, np.bool_)):
        raise TypeError(f"second_order must be True or False, got {second_order!r}")
    second_order = bool(second_order) and method == "sobol"
    if second_order and len(names) < 2:
        raise SensitivityError("second_order needs at least 2 parameters in bounds; pass "
                               "second_order=False")
    if not (isinstance(conf_level, numbers.Real) and 0.0 < conf_level < 1.0):
        raise SensitivityError(f"conf_level must be a number in (0, 1), got {conf_level!r}")
    num_resamples = _int_at_least("num_resamples", num_resamples, 10)
    if method == "morris":
        levels = _int_at_least("levels", levels, 2)
        if levels % 2:
            raise SensitivityError(f"levels must be even (Morris' step p / (2 (p - 1)) "
                                   f"keeps the trajectories on the grid), got {levels}")

    problem = {"num_vars": len(names), "names": names,
               "bounds": [[lo, hi] for lo, hi in zip(lows, highs, strict=True)]}
    n_base = n_requested
    if method == "sobol":
        from SALib.sample import sobol as sobol_sample

        n_base = 1 << (n_requested - 1).bit_length()
        runs = n_base * (len(names) * (1 + second_order) + 2)
        if n_base != n_requested:
            warnings.warn(f"sensitivity_analysis: n={n_requested} is not a power of two; the "
                          f"Sobol' sequence keeps its balance only for powers of two, so "
                          f"N={n_base} is used ({runs} runs)", UserWarning, stacklevel=2)
        X = sobol_sample.sample(problem, n_base, calc_second_order=second_order,
                                scramble=True, seed=seed)
    else:
        from SALib.sample import morris as morris_sample

        X = morris_sample.sample(problem, n_base, num_levels=levels, seed=seed)
    design = {name: X[:, i] for i, name in enumerate(names)}
    try:
        sweep = parameter_sweep(model, design=design, measures=measures, fixed=fixed,
                                client=client, batch_size=batch_size, store=store, seed=seed,
                                progress=progress)
    except SweepError as err:
        raise type(err)(f"sensitivity_analysis: {err}") from None
    measure_names = [v for v in sweep.data_vars if v not in ("error", "seed")]
    Y = {m: _outputs(sweep, m) for m in measure_names}

    # SALib's Sobol' analysis seeds its bootstrap only for a truthy seed (`if seed:`), so 0
    # would give random intervals: the bootstrap gets its own non-zero seed derived from seed
    boot_seed = int(np.random.SeedSequence(seed, spawn_key=(2**31,)).generate_state(1)[0]) | 1
    if method == "sobol":
        from SALib.analyze import sobol as sobol_analyze

        for m in measure_names:
            if np.ptp(Y[m]) == 0.0:
                raise SensitivityError(
                    f"measure {m!r} is constant ({Y[m][0]:.6g}) over the whole box: its "
                    "variance is 0, so Sobol' indices (shares of it) are undefined; widen the "
                    "bounds or choose a measure that varies (e.g. a rate above rheobase)")

        results = {m: sobol_analyze.analyze(problem, Y[m], calc_second_order=second_order,
                                            num_resamples=num_resamples,
                                            conf_level=float(conf_level), seed=boot_seed)
                   for m in measure_names}
    else:
        from SALib.analyze import morris as morris_analyze

        results = {m: morris_analyze.analyze(problem, X, Y[m], num_resamples=num_resamples,
                                             conf_level=float(conf_level), num_levels=levels,
                                             seed=boot_seed)
                   for m in measure_names}
    ds = _dataset(method, names, lows, highs, sweep, measure_names, results, second_order)
    label = label or sweep.attrs["model"]
    ds.attrs.update({
        "title": f"{'Sobol' if method == 'sobol' else 'Morris'} sensitivity analysis of "
                 f"{label}",
        "method": method, "N": int(n_base), "N_requested": int(n_requested),
        "n_runs": int(X.shape[0]), "seed": int(seed),
        "bounds_json": json.dumps({nm: [lo, hi] for nm, lo, hi in
                                   zip(names, lows, highs, strict=True)}),
        "second_order": int(second_order), "conf_level": float(conf_level),
        "num_resamples": int(num_resamples), "model": label,
        "measures": sweep.attrs["measures"], "fixed_json": sweep.attrs["fixed_json"],
        "sweep_hash": sweep.attrs["sweep_hash"], "neurosim_nb_version": __version__,
        "wall_time_s": float(sweep.attrs.get("wall_time_s", 0.0)),
        "n_resumed": int(sweep.attrs.get("n_resumed", 0)),
    })
    if method == "morris":
        ds.attrs["levels"] = int(levels)
    if keep_samples:
        several = len(measure_names) > 1
        ds["design"] = (("sample", "parameter"), X,
                        {"long_name": "the sampled parameter values (SALib's design)"})
        out = np.stack([Y[m] for m in measure_names], axis=1)
        ds["output"] = ((("sample", "measure") if several else ("sample",)),
                        out if several else out[:, 0],
                        {"long_name": "the measure at each sample",
                         **({} if several else _units(sweep[measure_names[0]]))})
        ds = ds.assign_coords(sample=np.arange(X.shape[0]))
    return ds


# -- checks ---------------------------------------------------------------------------------
def _int_at_least(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= {low}, got {value!r}")
    if value < low:
        raise SensitivityError(f"{name} must be >= {low}, got {value}"
                               + (f" (too small for a {name} estimate)" if name == "n" else ""))
    return int(value)


def _check_bounds(bounds) -> tuple[list[str], list[float], list[float]]:
    if not isinstance(bounds, Mapping):
        raise TypeError(f"bounds must be a dict {{name: (low, high)}}, got "
                        f"{type(bounds).__name__}")
    if not bounds:
        raise SensitivityError("bounds is empty: give at least one parameter and its "
                               "(low, high)")
    names, lows, highs = [], [], []
    for name, pair in bounds.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"bounds keys must be parameter names (str), got {name!r}")
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise SensitivityError(f"bounds[{name!r}] must be a pair (low, high) of numbers, "
                                   f"got {pair!r}") from None
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise SensitivityError(f"bounds[{name!r}] must be finite, got ({lo}, {hi})")
        if not lo < hi:
            raise SensitivityError(f"bounds[{name!r}] = ({lo}, {hi}): low must be below high"
                                   + (" (reversed?)" if lo > hi else ""))
        names.append(name)
        lows.append(lo)
        highs.append(hi)
    return names, lows, highs


def _prepare_model(model, names: list[str], fixed_names: list[str], measures):
    """Check ``bounds`` names against the model; wrap a plain function for the sweep."""
    if isinstance(model, str):
        from neurosim_nb.core.neurons.registry import MODEL_FAMILIES

        if model in MODEL_FAMILIES:
            known = [*MODEL_FAMILIES[model].parameters_class.field_info(),
                     *FAMILY_RUN_PARAMETERS]
            for name in names:
                if name not in known:
                    raise SensitivityError(f"bounds: {model} has no parameter {name!r}; it "
                                           f"has {known}.{did_you_mean(name, known)}")
        return model, measures, None  # an unknown family: the sweep's error (did-you-mean)
    if isinstance(model, Mapping) or not callable(model):
        return model, measures, None  # a network spec (paths checked by the sweep), a TypeError
    style = _call_style(model, [*names, *fixed_names])
    output = None
    if measures is None:
        output, measures = DEFAULT_OUTPUT, DEFAULT_OUTPUT
    elif isinstance(measures, str):
        output = measures
    label = f"function {_callable_description(model)}"
    return functools.partial(_call, _Plain(model, style, output)), measures, label


def _call_style(func, names: list[str]) -> str:
    """How to call ``func``: ``"kwargs"`` (``func(**params)``), ``"sweep"`` (``func(params,
    seed)``) or ``"dict"`` (``func(params)``)."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return "sweep"
    params = sig.parameters
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
    named = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if var_kw or all(n in named for n in names):
        try:
            sig.bind(**dict.fromkeys(names, 0.0))
            return "kwargs"
        except TypeError:
            pass
    for style, args in (("sweep", ({}, 0)), ("dict", ({},))):
        try:
            sig.bind(*args)
            return style
        except TypeError:
            continue
    missing = [n for n in names if n not in named]
    label = getattr(func, "__name__", type(func).__name__)
    if len(missing) < len(names):  # a function of the parameters by name, with a typo
        raise SensitivityError(f"bounds: model {label} has no parameter {missing[0]!r}; it has "
                               f"{named}.{did_you_mean(missing[0], named)}")
    raise TypeError(f"model {label}{sig} cannot be called with the parameters {names}: give a "
                    "function of them by name f(x1, x2, ...), of their dict f(params) or the "
                    "sweep's model(params, seed)")


class _Plain:
    """A user function and how to call it; its repr names the function by its source's hash
    (so the sweep's store hash is stable across sessions and changes with an edit)."""

    def __init__(self, func, style: str, output: str | None):
        self.func, self.style, self.output = func, style, output

    def __repr__(self) -> str:
        return f"_Plain({_callable_description(self.func)}, {self.style}, {self.output})"


def _call(plain: _Plain, params: dict, seed: int):
    if plain.style == "kwargs":
        result = plain.func(**params)
    elif plain.style == "sweep":
        result = plain.func(params, seed)
    else:
        result = plain.func(params)
    if plain.output is not None and not isinstance(result, (Mapping, xr.Dataset)):
        return {plain.output: result}
    return result


def _outputs(sweep: xr.Dataset, name: str) -> np.ndarray:
    """The measure's values along ``sample``, all finite, or a SensitivityError."""
    y = np.asarray(sweep[name].values, dtype=float)
    errors = sweep["error"].values
    bad = ~np.isfinite(y)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        why = str(errors[first]) or f"the measure gave {y[first]}"
        failed = int(np.count_nonzero(errors[bad] != ""))
        raise SensitivityError(
            f"measure {name!r}: {int(bad.sum())} of {y.size} points have no finite value "
            f"({failed} failed, {int(bad.sum()) - failed} gave NaN or inf); the analysis needs "
            f"every point of the design. First, sample {first} "
            f"({', '.join(f'{p}={float(sweep[p].values[first]):.6g}' for p in _params(sweep))}"
            f"): {why}")
    return y


def _params(sweep: xr.Dataset) -> list[str]:
    return [c for c in sweep.coords if c != "sample" and sweep[c].dims == ("sample",)]


def _units(da: xr.DataArray) -> dict:
    return {"units": da.attrs["units"]} if "units" in da.attrs else {}


# -- the result -----------------------------------------------------------------------------
_SOBOL_VARS = {
    "S1": "first-order Sobol' index", "S1_conf": "confidence half-width of S1",
    "ST": "total Sobol' index", "ST_conf": "confidence half-width of ST",
}
_MORRIS_VARS = {
    "mu": "mean elementary effect (per whole range of the parameter)",
    "mu_star": "mean absolute elementary effect (per whole range of the parameter)",
    "sigma": "standard deviation of the elementary effects",
    "mu_star_conf": "confidence half-width of mu_star",
}


def _dataset(method, names, lows, highs, sweep, measure_names, results,
             second_order) -> xr.Dataset:
    several = len(measure_names) > 1
    lead = ("measure",) if several else ()
    units = {m: sweep[m].attrs.get("units", "1") for m in measure_names}
    param_units = [sweep[p].attrs.get("units", "") if p in sweep.coords else ""
                   for p in names]
    coords = {"parameter": ("parameter", names),
              "low": ("parameter", np.asarray(lows), {"long_name": "lower bound"}),
              "high": ("parameter", np.asarray(highs), {"long_name": "upper bound"}),
              "parameter_units": ("parameter", np.asarray(param_units, dtype=str),
                        {"long_name": "units of the parameter"})}
    if several:
        coords["measure"] = ("measure", measure_names)
        coords["measure_units"] = ("measure", [units[m] for m in measure_names])

    def stack(key):
        arr = np.stack([np.asarray(results[m][key], dtype=float) for m in measure_names])
        return arr if several else arr[0]

    data = {}
    table = _SOBOL_VARS if method == "sobol" else _MORRIS_VARS
    for key, long_name in table.items():
        attrs = {"long_name": long_name}
        if method == "sobol":
            attrs["units"] = "1"
        elif not several:
            attrs["units"] = units[measure_names[0]]
        data[key] = ((*lead, "parameter"), stack(key), attrs)
    if second_order:
        for key, long_name in (("S2", "second-order Sobol' index (symmetric)"),
                               ("S2_conf", "confidence half-width of S2")):
            arr = stack(key)
            upper = np.triu(np.ones((len(names), len(names)), dtype=bool), 1)
            sym = np.where(upper, arr, np.swapaxes(arr, -1, -2))
            sym[..., ~(upper | upper.T)] = np.nan
            data[key] = ((*lead, "parameter", "parameter_2"), sym,
                         {"long_name": long_name, "units": "1"})
        coords["parameter_2"] = ("parameter_2", names)
    return xr.Dataset(data, coords=coords)
