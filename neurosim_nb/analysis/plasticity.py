r"""Stability of plastic weights: drift, bimodality and convergence of recorded weights.

Input: weights recorded with ``record_weights=True`` (``weight (weight_time, synapse)``,
times in ms). :func:`plasticity_stability` reports, over ``weight_time``, the mean, the
standard deviation and Sarle's bimodality coefficient of the weight distribution (and the
fractions of weights near the bounds when they are given), the relative change of the
weights over a sliding window, and scalar verdicts: the drift of the mean and the spread
over the last window (per second), whether the weights converged and when they first
stayed below the tolerance.

Sarle's bimodality coefficient (SAS Institute 1990; Pfister et al. 2013, *Front Psychol*
4:700) of a sample of :math:`n` weights with bias-corrected skewness :math:`g` and excess
kurtosis :math:`k`,

.. math::

    BC = \frac{g^2 + 1}{k + \frac{3 (n - 1)^2}{(n - 2)(n - 3)}},

is 1/3 for a normal distribution, tends to 5/9 for a uniform one and exceeds 5/9 for
bimodal distributions (1 for two equal point masses); ``BC > 5/9`` suggests bimodality.

Examples
--------
>>> t = np.arange(0.0, 1001.0, 10.0)                     # ms
>>> w = 0.5 + 0.5 * np.exp(-t / 100.0)[:, None] * np.linspace(-1, 1, 50)
>>> s = plasticity_stability(w, weight_time_ms=t, window_ms=100.0, tol=0.01)
>>> int(s.converged), float(s.convergence_time)
(1, 470.0)
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurosim_nb.analysis._input import _number, float_array, named, positive
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError

__all__ = ["plasticity_stability", "bimodality_coefficient"]

#: Sarle's bimodality coefficient of a uniform distribution; larger values suggest bimodality
BIMODALITY_THRESHOLD = 5.0 / 9.0


def bimodality_coefficient(samples, axis: int = -1) -> np.ndarray:
    """Sarle's bimodality coefficient along ``axis`` (bias-corrected skewness and kurtosis).

    Parameters
    ----------
    samples : array_like
        At least 4 finite values along ``axis``.
    axis : int
        Axis of the samples.

    Returns
    -------
    numpy.ndarray or float
        The coefficient (dimensionless); NaN where all samples along ``axis`` are equal
        (skewness and kurtosis undefined).

    Raises
    ------
    ValueError
        Fewer than 4 samples or non-finite values.

    Examples
    --------
    >>> round(float(bimodality_coefficient([0.0] * 50 + [1.0] * 50)), 3)   # two peaks
    0.951
    >>> round(float(bimodality_coefficient(np.linspace(0.0, 1.0, 1000))), 3)  # uniform
    0.553
    """
    x = float_array("samples", samples)
    if x.ndim == 0 or x.shape[axis] < 4:
        raise InvalidArgumentError("the bimodality coefficient needs at least 4 samples")
    if not np.all(np.isfinite(x)):
        raise InvalidArgumentError("samples must be finite (no NaN or inf)")
    n = x.shape[axis]
    d = x - x.mean(axis=axis, keepdims=True)
    m2, m3, m4 = ((d**p).mean(axis=axis) for p in (2, 3, 4))
    flat = np.ptp(x, axis=axis) == 0
    m2 = np.where(flat, 1.0, m2)  # flat rows give NaN below, without a 0/0 warning
    g = m3 / m2**1.5 * np.sqrt(n * (n - 1.0)) / (n - 2.0)  # bias-corrected skewness G1
    k = ((n + 1.0) * (m4 / m2**2 - 3.0) + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0))  # G2
    den = k + 3.0 * (n - 1.0) ** 2 / ((n - 2.0) * (n - 3.0))  # > 0 unless flat
    bc = (g**2 + 1.0) / np.where(flat, 1.0, den)
    return np.where(flat, np.nan, bc)[()]


def _weights(weights, weight_time_ms, projection):
    """(values (T, S), times (T,), units) from a Dataset, DataArray or array."""
    if isinstance(weights, xr.Dataset):
        if "weight" not in weights:
            raise InvalidArgumentError(
                "the Dataset has no 'weight': simulate with record_weights=True")
        weights = weights["weight"]
    if projection is not None:
        if not isinstance(weights, xr.DataArray) or "projection" not in weights.coords:
            raise InvalidArgumentError(
                "projection= needs recorded weights with a 'projection' coord")
        keep = np.asarray(weights["projection"].values).astype(str) == str(projection)
        if not keep.any():
            names = sorted(set(np.asarray(weights["projection"].values).astype(str)))
            raise InvalidArgumentError(f"unknown projection {projection!r}; recorded: {names}")
        weights = weights.isel(synapse=np.flatnonzero(keep))
    if isinstance(weights, xr.DataArray):
        if weights.dims != ("weight_time", "synapse"):
            raise InvalidArgumentError(f"weights must have dims ('weight_time', 'synapse'), got "
                                       f"{weights.dims}")
        if weight_time_ms is None:
            weight_time_ms = weights["weight_time"].values
        units = str(weights.attrs.get("units", "1"))
        values = np.asarray(weights.values, dtype=float)
    elif isinstance(weights, (np.ndarray, list, tuple)):
        values = np.asarray(weights, dtype=float)
        if values.ndim != 2:
            raise InvalidArgumentError(f"a weight array must be 2-D (time, synapse), got shape "
                                       f"{values.shape}")
        if weight_time_ms is None:
            raise InvalidArgumentError(
                "pass weight_time_ms, the sample times (ms) of a weight array")
        units = "1"
    else:
        raise ArgumentTypeError(
            "weights must be a result Dataset, a DataArray (weight_time, synapse) "
            f"or a 2-D array, got {type(weights).__name__}")
    t = float_array("weight_time_ms", weight_time_ms)
    if t.shape != (values.shape[0],):
        raise InvalidArgumentError(
            f"weight_time_ms has {t.size} values for {values.shape[0]} samples")
    if values.shape[0] < 2 or values.shape[1] < 1:
        raise InvalidArgumentError(f"need at least two weight samples of at least one synapse, got "
                                   f"shape {values.shape}")
    if not np.all(np.isfinite(values)):
        bad = np.argwhere(~np.isfinite(values))[0]
        raise InvalidArgumentError(f"weights have NaN or infinite values (first at time index "
                                   f"{int(bad[0])}, synapse {int(bad[1])})")
    steps = np.diff(t)
    if not np.all(np.isfinite(t)) or np.any(steps <= 0) or not np.allclose(
            steps, steps[0], rtol=1e-6, atol=1e-9):
        raise InvalidArgumentError("weight times must be finite, increasing and regularly spaced")
    return values, t, units


def _slope_per_s(t_ms: np.ndarray, y: np.ndarray) -> float:
    return float(np.polyfit(t_ms / 1000.0, y, 1)[0])


def plasticity_stability(weights, *, weight_time_ms=None, w_min: float | None = None,
                         w_max: float | None = None, window_ms: float | None = None,
                         tol: float = 0.01, bound_fraction: float = 0.05,
                         projection: str | None = None) -> xr.Dataset:
    r"""Drift, bimodality and convergence of recorded plastic weights.

    With :math:`\Delta` the sampling interval and the window :math:`W` a whole number of
    samples, the relative change at time :math:`t \ge t_0 + W` is
    :math:`c(t) = \mathrm{rms}_s\,[w_s(t) - w_s(t - W)] / S` (over synapses :math:`s`),
    with the scale :math:`S = w_{max} - w_{min}` when both bounds are given, else the
    RMS of all recorded weights. The weights have *converged* when :math:`c` at the end
    of the recording is below ``tol``; the convergence time is the first :math:`t` from
    which :math:`c` stays below ``tol`` (``inf`` when it never does).
    The drift of the mean and of the standard deviation is the least-squares slope over
    the last window; the run is *drifting* when either changes by more than
    ``tol * S`` over the window.

    Parameters
    ----------
    weights : xarray.Dataset, xarray.DataArray or array_like
        A result with ``weight (weight_time, synapse)``, that DataArray, or a 2-D array
        (time, synapse) with ``weight_time_ms``.
    weight_time_ms : array_like, optional
        Sample times (ms) of an array; regularly spaced.
    w_min, w_max : float, optional
        The plasticity rule's bounds (weight units); give both or neither. With them:
        fractions of weights near each bound and the scale ``w_max - w_min``.
    window_ms : float, optional
        Window of the change and drift measures (ms), rounded to whole samples; default
        a fifth of the recording (at least one sample interval).
    tol : float
        Tolerance of the relative change (dimensionless, > 0).
    bound_fraction : float
        A weight within ``bound_fraction * (w_max - w_min)`` of a bound is "near" it.
    projection : str, optional
        Analyse only the synapses of this projection.

    Returns
    -------
    xarray.Dataset
        Over ``weight_time``: ``mean_weight``, ``std_weight`` (weight units),
        ``bimodality`` (1; with at least 4 synapses; NaN where all weights are equal),
        ``fraction_near_min``/``fraction_near_max`` (1; with bounds). Over ``change_time``:
        ``relative_change`` (1). Scalars: ``mean_drift``, ``std_drift`` (weight units/s),
        ``drifting``, ``converged`` (0/1), ``convergence_time`` (ms), ``final_bimodality``
        and ``bimodal`` (0/1, ``final_bimodality > 5/9``).

    Raises
    ------
    ValueError
        Fewer than two samples, NaN weights, irregular times, a window shorter than one
        sample interval or longer than the recording, bad bounds or tolerances.
    TypeError
        ``weights`` of an unsupported type.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> walk = 0.5 + np.cumsum(rng.normal(0, 0.01, (200, 100)), axis=0)   # random walk
    >>> s = plasticity_stability(walk, weight_time_ms=np.arange(200) * 10.0, tol=0.01)
    >>> int(s.converged), int(s.drifting), float(s.std_drift) > 0
    (0, 1, True)
    """
    w, t, units = _weights(weights, weight_time_ms, projection)
    tol = positive("tol", tol, unit="1")
    bound_fraction = positive("bound_fraction", bound_fraction, unit="1")
    if (w_min is None) != (w_max is None):
        raise InvalidArgumentError("give both w_min and w_max, or neither")
    has_bounds = w_min is not None
    if has_bounds:
        w_min, w_max = _number("w_min", w_min, "weight units"), _number("w_max", w_max,
                                                                        "weight units")
        if not (np.isfinite(w_min) and np.isfinite(w_max)) or w_max <= w_min:
            raise InvalidArgumentError(f"need finite w_min < w_max, got {w_min}, {w_max}")
        slack = 1e-9 * (w_max - w_min)
        if w.min() < w_min - slack or w.max() > w_max + slack:
            raise InvalidArgumentError(f"weights lie outside [w_min, w_max] = [{w_min}, {w_max}]: "
                                       f"they span [{w.min()}, {w.max()}]")
    step = float(t[1] - t[0])
    span = float(t[-1] - t[0])
    if window_ms is None:
        lag = max(1, int(round(w.shape[0] / 5)))
    else:
        window_ms = positive("window_ms", window_ms)
        lag = int(round(window_ms / step))
        if lag < 1 or lag > w.shape[0] - 1:
            raise InvalidArgumentError(f"window_ms ({window_ms} ms) must be at least one sample "
                                       f"interval ({step} ms) and at most the length of the "
                                       f"recording ({span} ms)")
    window = lag * step
    if has_bounds:
        scale = w_max - w_min
    else:
        scale = float(np.sqrt(np.mean(w**2)))
        scale = scale if scale > 0 else 1.0
    change = np.sqrt(np.mean((w[lag:] - w[:-lag]) ** 2, axis=1)) / scale
    t_change = t[lag:]
    above = np.flatnonzero(change >= tol)
    converged = bool(change[-1] < tol)
    if not converged:
        t_conv = np.inf
    else:
        t_conv = float(t_change[above[-1] + 1] if above.size else t_change[0])
    mean = w.mean(axis=1)
    std = w.std(axis=1)
    last = slice(w.shape[0] - lag - 1, None)
    mean_drift = _slope_per_s(t[last], mean[last])
    std_drift = _slope_per_s(t[last], std[last])
    drifting = max(abs(mean_drift), abs(std_drift)) * window / 1000.0 > tol * scale
    per_s = f"{units}/s" if units != "1" else "1/s"
    wt = ("weight_time",)
    data = {
        "mean_weight": named(mean, name="mean_weight", units=units,
                             long_name="mean synaptic weight", dims=wt),
        "std_weight": named(std, name="std_weight", units=units,
                            long_name="standard deviation of the synaptic weights", dims=wt),
        "relative_change": named(change, name="relative_change", units="1",
                                 long_name="rms weight change over the window / scale",
                                 dims=("change_time",)),
        "mean_drift": named(mean_drift, name="mean_drift", units=per_s,
                            long_name="slope of the mean weight over the last window"),
        "std_drift": named(std_drift, name="std_drift", units=per_s,
                           long_name="slope of the weight spread over the last window"),
        "drifting": named(int(drifting), name="drifting", units="1",
                          long_name="1 if mean or spread drifts by > tol * scale per window"),
        "converged": named(int(converged), name="converged", units="1",
                           long_name="1 if the relative change at the end is below tol"),
        "convergence_time": named(t_conv, name="convergence_time", units="ms",
                                  long_name="time from which the relative change stays "
                                            "below tol (inf: not converged)"),
    }
    if w.shape[1] >= 4:
        bc = bimodality_coefficient(w, axis=1)
        data["bimodality"] = named(bc, name="bimodality", units="1",
                                   long_name="Sarle's bimodality coefficient (NaN where "
                                             "all weights are equal)", dims=wt)
        final = float(bc[-1])
        data["final_bimodality"] = named(final, name="final_bimodality", units="1",
                                         long_name="bimodality coefficient at the end")
        data["bimodal"] = named(int(final > BIMODALITY_THRESHOLD), name="bimodal", units="1",
                                long_name="1 if the final bimodality coefficient > 5/9")
    attrs = {"tol": tol, "window_ms": window, "scale": scale, "n_synapses": int(w.shape[1]),
             "bimodality_threshold": BIMODALITY_THRESHOLD}
    if has_bounds:
        near = bound_fraction * (w_max - w_min)
        data["fraction_near_min"] = named((w <= w_min + near).mean(axis=1),
                                          name="fraction_near_min", units="1",
                                          long_name="fraction of weights near w_min", dims=wt)
        data["fraction_near_max"] = named((w >= w_max - near).mean(axis=1),
                                          name="fraction_near_max", units="1",
                                          long_name="fraction of weights near w_max", dims=wt)
        attrs.update(w_min=w_min, w_max=w_max, bound_fraction=bound_fraction)
    coords = {"weight_time": ("weight_time", t, {"units": "ms", "long_name": "time"}),
              "change_time": ("change_time", t_change,
                              {"units": "ms", "long_name": "end of the change window"})}
    return xr.Dataset(data, coords=coords, attrs=attrs)
