r"""Neuronal avalanches, branching ratio and power-law fits (signatures of criticality).

**Avalanches** (Beggs & Plenz 2003): the pooled spikes of all neurons are counted in bins of
:math:`\Delta t` (default: the mean inter-spike interval of the pooled train); an avalanche is
a run of non-empty bins bounded by empty bins. Its *size* is the number of spikes, its
*duration* the number of bins. At criticality (a branching process with branching ratio
:math:`\sigma = 1`) sizes and durations follow power laws,
:math:`P(S) \propto S^{-\alpha_S}` with :math:`\alpha_S = 3/2` and
:math:`P(T) \propto T^{-\alpha_T}` with :math:`\alpha_T = 2` (mean-field), and the mean size
of avalanches of duration :math:`T` scales as :math:`\langle S \rangle(T) \propto T^\gamma`
with :math:`\gamma = (\alpha_T - 1)/(\alpha_S - 1)` (Sethna, Dahmen & Myers 2001; Friedman
et al. 2012).

**Power-law fits** follow Clauset, Shalizi & Newman (2009): the exponent is the maximum
likelihood estimate for :math:`x \ge x_{min}` (discrete: exact numerical maximisation of
:math:`\ln L = -\alpha \sum \ln x_i - n \ln \zeta(\alpha, x_{min})` with the Hurwitz zeta;
continuous: :math:`\hat\alpha = 1 + n / \sum \ln(x_i / x_{min})`), :math:`x_{min}` minimises
the Kolmogorov-Smirnov distance between the data and the fit, and the power law is compared
with an exponential by Vuong's normalised log-likelihood ratio test.

References
----------
J. M. Beggs, D. Plenz (2003), Neuronal avalanches in neocortical circuits. J Neurosci
23:11167-11177.

A. Clauset, C. R. Shalizi, M. E. J. Newman (2009), Power-law distributions in empirical
data. SIAM Review 51:661-703.

J. Wilting, V. Priesemann (2018), Inferring collective dynamical states from widely
unobserved systems. Nat Commun 9:2325.

N. Friedman et al. (2012), Universal critical dynamics in high resolution neuronal
avalanche data. Phys Rev Lett 108:208102.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import xarray as xr
from scipy import optimize, special

from neurosim_nb.analysis._input import as_spike_trains, bin_counts, integer, positive
from neurosim_nb.analysis._input import n_bins as count_bins
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError

#: the largest size power_law_fit takes: squares and sums stay finite below ~1e154
_MAX_SIZE = 1e100

__all__ = ["avalanches", "branching_ratio", "power_law_fit", "criticality_summary"]

_ALPHA_MAX = 20.0  # upper bound of the exponent search


# -- binning ------------------------------------------------------------------------------
def _pooled_counts(data, bin_ms, t_start, t_stop, neurons):
    """Pooled spike counts per bin and the bin width (ms) actually used."""
    st = as_spike_trains(data, t_start=t_start, t_stop=t_stop, neurons=neurons)
    pooled = st.pooled()
    if bin_ms is None:
        if pooled.size < 2 or pooled[-1] <= pooled[0]:
            raise InvalidArgumentError(
                "the default bin (the mean inter-spike interval of the pooled "
                f"train) needs spikes at two distinct times, got {pooled.size} "
                "spike(s): pass bin_ms")
        bin_ms = float(np.mean(np.diff(pooled)))
        dt = getattr(data, "attrs", {}).get("dt")
        if dt:  # a whole number of simulation steps, or bins alias the spike grid
            bin_ms = float(dt) * max(1.0, np.ceil(bin_ms / float(dt) - 1e-9))
    bin_ms = positive("bin_ms", bin_ms)
    n_bins = count_bins(st.duration, bin_ms)
    if n_bins < 3:
        raise InvalidArgumentError(
            f"bin_ms ({bin_ms} ms) leaves fewer than 3 bins in the window of "
            f"{st.duration} ms: use a smaller bin or a longer recording")
    return bin_counts([pooled], st.t_start, bin_ms, n_bins)[0], bin_ms, st


def _runs(counts: np.ndarray, keep_truncated: bool):
    """Start (inclusive) and end (exclusive) bin of each run of non-empty bins."""
    active = np.concatenate([[0], (counts > 0).astype(np.int8), [0]])
    edge = np.diff(active)
    start, end = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
    if not keep_truncated:
        keep = (start > 0) & (end < counts.size)
        start, end = start[keep], end[keep]
    return start, end


def avalanches(data, bin_ms: float | None = None, *, keep_truncated: bool = False,
               t_start: float | None = None, t_stop: float | None = None,
               neurons=None) -> xr.Dataset:
    """Neuronal avalanches: runs of non-empty bins of the pooled spikes (Beggs & Plenz 2003).

    Parameters
    ----------
    data : xarray.Dataset, array_like or sequence of array_like
        A result Dataset or spike times (ms) of one or several neurons.
    bin_ms : float, optional
        Bin width (ms). Default: the mean inter-spike interval of the pooled train (Beggs &
        Plenz 2003), rounded up to a whole number of steps when the Dataset has a ``dt``.
    keep_truncated : bool
        Keep the runs touching the start or end of the window (not bounded by empty bins,
        so possibly cut); dropped by default.
    t_start, t_stop, neurons
        Window (ms) and neuron selection, as in
        :func:`~neurosim_nb.analysis._input.as_spike_trains`.

    Returns
    -------
    xarray.Dataset
        Along ``avalanche`` (possibly empty): ``size`` (spikes), ``duration`` (bins),
        ``duration_ms`` (ms), ``start`` (ms, start of the first bin). Attrs ``bin_ms``,
        ``n_bins``, ``t_start``, ``t_stop``.

    Raises
    ------
    ValueError
        Fewer than two spike times with the default bin, a bin leaving fewer than 3 bins.

    Examples
    --------
    >>> av = avalanches([1.5, 2.5, 2.7, 5.2, 8.5], bin_ms=1.0, t_stop=10.0)
    >>> av["size"].values.tolist(), av["duration"].values.tolist(), av.start.values.tolist()
    ([3, 1, 1], [2, 1, 1], [1.0, 5.0, 8.0])
    """
    counts, bin_ms, st = _pooled_counts(data, bin_ms, t_start, t_stop, neurons)
    start, end = _runs(counts, keep_truncated)
    csum = np.concatenate([[0], np.cumsum(counts)])
    dur = (end - start).astype(np.int64)
    return xr.Dataset(
        {"size": ("avalanche", (csum[end] - csum[start]).astype(np.int64),
                  {"units": "1", "long_name": "avalanche size (spikes)"}),
         "duration": ("avalanche", dur, {"units": "1", "long_name": "avalanche duration (bins)"}),
         "duration_ms": ("avalanche", dur * bin_ms,
                         {"units": "ms", "long_name": "avalanche duration"}),
         "start": ("avalanche", st.t_start + start * bin_ms,
                   {"units": "ms", "long_name": "avalanche start"})},
        attrs={"bin_ms": bin_ms, "n_bins": int(counts.size), "t_start": st.t_start,
               "t_stop": st.t_stop, "keep_truncated": int(bool(keep_truncated))},
    )


def branching_ratio(data, bin_ms: float | None = None, *,
                    method: Literal["avalanche", "mr"] = "avalanche", k_max: int = 10,
                    t_start: float | None = None, t_stop: float | None = None,
                    neurons=None) -> xr.DataArray:
    """Branching ratio of the pooled activity.

    ``method="avalanche"`` is the estimator of Beggs & Plenz (2003): the mean over avalanches
    (see :func:`avalanches`) of descendants / ancestors, the spikes in an avalanche's second
    bin over those in its first (0 for one-bin avalanches). ``method="mr"`` is the
    multistep-regression estimator of Wilting & Priesemann (2018): the regression slopes
    :math:`r_k` of :math:`A_{t+k}` on :math:`A_t` (binned pooled counts) for
    :math:`k = 1 \\dots k_{max}` are fitted by :math:`r_k = b\\,m^k`, and :math:`m` is
    returned (robust to subsampling and to external drive, unlike the former).

    Parameters
    ----------
    data : xarray.Dataset, array_like or sequence of array_like
        A result Dataset or spike times (ms).
    bin_ms : float, optional
        Bin width (ms); default as in :func:`avalanches`.
    method : {"avalanche", "mr"}
        Estimator (see above).
    k_max : int
        Largest lag (bins) of the ``"mr"`` estimator (>= 2).
    t_start, t_stop, neurons
        Window (ms) and neuron selection.

    Returns
    -------
    xarray.DataArray
        Scalar ``branching_ratio`` (units ``"1"``); attrs ``method``, ``bin_ms`` and
        ``n_avalanches`` or ``k_max``/``mr_amplitude`` (:math:`b`).

    Raises
    ------
    ValueError
        No avalanche (``"avalanche"``), constant activity or too few bins (``"mr"``), an
        unknown ``method``.

    Examples
    --------
    >>> spikes = [1.5, 2.5, 2.6, 6.5, 6.7, 7.5]          # avalanches 1 -> 2 and 2 -> 1
    >>> float(branching_ratio(spikes, 1.0, t_stop=10.0))
    1.25
    """
    if method not in ("avalanche", "mr"):
        raise InvalidArgumentError(f"method must be 'avalanche' or 'mr', got {method!r}")
    counts, bin_ms, _ = _pooled_counts(data, bin_ms, t_start, t_stop, neurons)
    attrs = {"units": "1", "method": method, "bin_ms": bin_ms}
    if method == "avalanche":
        start, end = _runs(counts, keep_truncated=False)
        if start.size == 0:
            raise InvalidArgumentError(
                "no avalanche bounded by empty bins: no spikes, or activity that "
                "never pauses (try a smaller bin_ms or method='mr')")
        second = np.where(end - start > 1, counts[np.minimum(start + 1, counts.size - 1)], 0)
        sigma = float(np.mean(second / counts[start]))
        return xr.DataArray(sigma, name="branching_ratio",
                            attrs={**attrs, "long_name": "branching ratio (Beggs & Plenz)",
                                   "n_avalanches": int(start.size)})
    k_max = integer("k_max", k_max, 2)
    if counts.size < 2 * k_max + 2:
        raise InvalidArgumentError(f"{counts.size} bins are too few for k_max = {k_max}")
    a = counts.astype(float)
    ks = np.arange(1, k_max + 1)
    r = np.empty(k_max)
    for j, k in enumerate(ks):
        x, y = a[:-k], a[k:]
        vx = np.var(x)
        if vx == 0:
            raise InvalidArgumentError(
                "the binned activity is constant (e.g. no spikes): no regression")
        r[j] = np.mean((x - x.mean()) * (y - y.mean())) / vx
    m0 = float(np.clip(r[1] / r[0] if r[0] > 0 else 0.5, 1e-3, 1.5))
    try:
        with warnings.catch_warnings():  # the covariance is not used: no OptimizeWarning
            warnings.simplefilter("ignore", optimize.OptimizeWarning)
            (b, m), _ = optimize.curve_fit(lambda k, b, m: b * m ** k, ks, r,
                                           p0=(max(r[0], 1e-3), m0),
                                           bounds=([-np.inf, 0.0], [np.inf, 2.0]))
    except RuntimeError as err:  # pragma: no cover - curve_fit failure
        raise InvalidArgumentError(
            f"the exponential fit of the regression slopes failed: {err}") from None
    return xr.DataArray(float(m), name="branching_ratio",
                        attrs={**attrs, "long_name": "branching ratio (multistep regression)",
                               "k_max": int(k_max), "mr_amplitude": float(b)})


# -- power laws ------------------------------------------------------------------------------
def _discrete_alpha(sum_ln: float, n: int, xmin: float) -> float:
    """Exact discrete MLE: maximise -alpha sum ln x - n ln zeta(alpha, xmin)."""
    def nll(alpha):
        return alpha * sum_ln + n * np.log(special.zeta(alpha, xmin))
    res = optimize.minimize_scalar(nll, bounds=(1.0 + 1e-9, _ALPHA_MAX), method="bounded",
                                   options={"xatol": 1e-9})
    return float(res.x)


def _discrete_alpha_error(alpha: float, n: int, xmin: float) -> float:
    """1/sqrt(Fisher information): n d^2/dalpha^2 ln zeta(alpha, xmin) (central differences)."""
    h = 1e-4 * max(alpha - 1.0, 1e-2)
    f = [np.log(special.zeta(alpha + s * h, xmin)) for s in (-1, 0, 1)]
    curvature = (f[0] - 2 * f[1] + f[2]) / h ** 2
    return float(1.0 / np.sqrt(n * curvature)) if curvature > 0 else float("inf")


def _fit_tail(x: np.ndarray, xmin: float, discrete: bool):
    """(alpha, KS distance) of the power law fitted to the sorted tail x >= xmin.

    The KS distance is the sup over all x of |F_data - F_model|: both CDFs are compared at
    every observed value u from the left (P(X < u)) and at u (P(X <= u)); between observed
    values the data CDF is flat and the model CDF monotone, so the sup is among these.
    """
    tail = x[x >= xmin]
    n = tail.size
    u, idx = np.unique(tail, return_index=True)
    emp_lt, emp_le = idx / n, np.append(idx[1:], n) / n       # P_data(X < u), P_data(X <= u)
    if discrete:
        alpha = _discrete_alpha(float(np.log(tail).sum()), n, xmin)
        zx = special.zeta(alpha, xmin)
        model_lt = 1.0 - special.zeta(alpha, u) / zx
        model_le = 1.0 - special.zeta(alpha, u + 1.0) / zx
    else:
        alpha = 1.0 + n / float(np.log(tail / xmin).sum())
        model_lt = model_le = 1.0 - (u / xmin) ** (1.0 - alpha)
    ks = max(np.max(np.abs(emp_lt - model_lt)), np.max(np.abs(emp_le - model_le)))
    return alpha, float(ks)


def power_law_fit(sizes, discrete: bool = True, xmin: float | None = None, *,
                  min_tail: int = 10, significance: float = 0.1) -> xr.Dataset:
    """Maximum-likelihood power-law fit with KS-chosen ``xmin`` (Clauset et al. 2009).

    Parameters
    ----------
    sizes : array_like or xarray.DataArray
        Positive samples, e.g. ``avalanches(ds)["size"]``; integers if ``discrete``.
    discrete : bool
        Discrete power law :math:`p(x) = x^{-\\alpha} / \\zeta(\\alpha, x_{min})` (exact MLE
        by numerical maximisation with the Hurwitz zeta) or continuous
        :math:`p(x) = \\frac{\\alpha - 1}{x_{min}} (x / x_{min})^{-\\alpha}` (closed-form MLE).
    xmin : float, optional
        Lower bound of the power-law tail. Default: the observed value minimising the
        Kolmogorov-Smirnov distance between tail and fit, among those leaving at least
        ``min_tail`` samples and two distinct values above.
    min_tail : int
        Smallest tail considered in the ``xmin`` scan (>= 2).
    significance : float
        p-value below which the sign of the likelihood ratio decides ``preferred``.

    Returns
    -------
    xarray.Dataset
        Scalars ``alpha`` (exponent), ``alpha_error`` (standard error: inverse Fisher
        information; :math:`(\\alpha-1)/\\sqrt{n}` when continuous), ``xmin``, ``n_tail``,
        ``ks_distance``; the comparison with an exponential fitted (MLE) to the same tail:
        ``exponential_rate`` (1/unit of x), ``loglikelihood_ratio`` :math:`R` (> 0 favours
        the power law), ``normalized_ratio`` :math:`R / (\\sigma \\sqrt{n})` and ``p_value``
        (Vuong's two-sided test, Clauset et al. eq. C.6). Attrs ``discrete`` (0/1) and
        ``preferred`` (``"power_law"``, ``"exponential"`` or ``"undecided"``).

    Raises
    ------
    ValueError
        NaN, infinite or non-positive samples, non-integers when ``discrete``, fewer than
        two distinct values in the tail, a bad ``xmin``.

    Examples
    --------
    >>> from scipy.stats import zipf
    >>> x = zipf.rvs(2.5, size=5000, random_state=0)         # p(x) = x^-2.5 / zeta(2.5)
    >>> fit = power_law_fit(x, xmin=1)
    >>> round(float(fit.alpha), 1), fit.attrs["preferred"]
    (2.5, 'power_law')
    """
    if isinstance(sizes, xr.Dataset):
        raise ArgumentTypeError(
            "sizes must be one variable, e.g. avalanches(ds)['size'], not a Dataset")
    raw = np.asarray(getattr(sizes, "values", sizes))
    if raw.size and raw.dtype.kind not in "iuf":
        raise ArgumentTypeError(f"sizes must be numbers, got dtype {raw.dtype}")
    x = raw.astype(float).ravel()
    if x.size == 0:
        raise InvalidArgumentError("sizes is empty: nothing to fit (no avalanches?)")
    if not np.all(np.isfinite(x)):
        raise InvalidArgumentError(
            f"sizes has {int((~np.isfinite(x)).sum())} NaN or infinite value(s)")
    if np.any(x <= 0):
        raise InvalidArgumentError("sizes must be > 0 for a power law")
    if x.max() > _MAX_SIZE:
        raise InvalidArgumentError(f"sizes must be <= {_MAX_SIZE:g} (the fit's sums of "
                                   f"squares would overflow), got {x.max():g}: rescale them")
    if discrete and np.any(x != np.round(x)):
        raise InvalidArgumentError(
            "discrete=True needs integer sizes (pass discrete=False otherwise)")
    min_tail = integer("min_tail", min_tail, 2)
    x = np.sort(x)
    if xmin is None:
        u = np.unique(x)
        n_above = x.size - np.searchsorted(x, u, side="left")
        cands = u[(n_above >= min_tail) & (u < x[-1])]
        if cands.size == 0:
            raise InvalidArgumentError(f"too few samples for an xmin scan: {x.size} samples, "
                                       f"{u.size} distinct value(s), min_tail = {min_tail}")
        fits = [_fit_tail(x, c, discrete) for c in cands]
        best = int(np.argmin([f[1] for f in fits]))
        xmin, (alpha, ks) = float(cands[best]), fits[best]
    else:
        xmin = positive("xmin", xmin, unit="units of x")
        if discrete and xmin != round(xmin):
            raise InvalidArgumentError(f"xmin must be an integer when discrete, got {xmin}")
        if np.unique(x[x >= xmin]).size < 2:
            raise InvalidArgumentError(f"fewer than two distinct values >= xmin = {xmin}: no fit")
        alpha, ks = _fit_tail(x, xmin, discrete)
    tail = x[x >= xmin]
    n = tail.size
    mean_excess = float(np.mean(tail - xmin))
    if discrete:
        err = _discrete_alpha_error(alpha, n, xmin)
        ll_pl = -alpha * np.log(tail) - np.log(special.zeta(alpha, xmin))
        lam = float(np.log1p(1.0 / mean_excess))
        ll_exp = np.log(-np.expm1(-lam)) - lam * (tail - xmin)
    else:
        err = (alpha - 1.0) / np.sqrt(n)
        ll_pl = np.log(alpha - 1.0) - np.log(xmin) - alpha * np.log(tail / xmin)
        lam = 1.0 / mean_excess
        ll_exp = np.log(lam) - lam * (tail - xmin)
    diff = ll_pl - ll_exp
    R = float(diff.sum())
    sd = float(np.std(diff))
    norm = R / (sd * np.sqrt(n)) if sd > 0 else float(np.sign(R)) * np.inf
    p = float(special.erfc(abs(R) / (sd * np.sqrt(2.0 * n)))) if sd > 0 else 0.0
    preferred = "undecided" if p >= significance else ("power_law" if R > 0 else "exponential")

    def scalar(v, units, long_name):
        return ((), v, {"units": units, "long_name": long_name})

    return xr.Dataset(
        {"alpha": scalar(float(alpha), "1", "power-law exponent"),
         "alpha_error": scalar(float(err), "1", "standard error of the exponent"),
         "xmin": scalar(float(xmin), "1", "lower bound of the power-law tail"),
         "n_tail": scalar(int(n), "1", "number of samples >= xmin"),
         "ks_distance": scalar(float(ks), "1", "Kolmogorov-Smirnov distance of the fit"),
         "exponential_rate": scalar(lam, "1", "rate of the exponential alternative"),
         "loglikelihood_ratio": scalar(R, "1", "log-likelihood ratio power law / exponential"),
         "normalized_ratio": scalar(float(norm), "1", "normalised log-likelihood ratio"),
         "p_value": scalar(p, "1", "p-value of the sign of the likelihood ratio (Vuong)")},
        attrs={"discrete": int(bool(discrete)), "preferred": preferred,
               "alternative": "exponential", "n": int(x.size)},
    )


def criticality_summary(data, bin_ms: float | None = None, *, t_start: float | None = None,
                t_stop: float | None = None, neurons=None) -> xr.Dataset:
    """Summary of avalanche statistics: exponents, branching ratio, scaling relation.

    Fits discrete power laws (:func:`power_law_fit`, ``xmin`` by KS) to the sizes and the
    durations (bins) of :func:`avalanches`, estimates the branching ratio (Beggs & Plenz) and
    checks the crackling-noise relation :math:`\\langle S\\rangle(T) \\propto T^{\\gamma}`
    with :math:`\\gamma = (\\alpha_T - 1)/(\\alpha_S - 1)`: ``gamma_predicted`` from the
    exponents, ``gamma_fit`` the least-squares slope of :math:`\\ln \\langle S\\rangle` on
    :math:`\\ln T` over durations :math:`T \\ge x_{min,T}` seen in at least 3 avalanches.
    Mean-field criticality: 1.5, 2, 1, 2.

    Parameters
    ----------
    data : xarray.Dataset, array_like or sequence of array_like
        A result Dataset or spike times (ms).
    bin_ms : float, optional
        Bin width (ms); default as in :func:`avalanches`.
    t_start, t_stop, neurons
        Window (ms) and neuron selection.

    Returns
    -------
    xarray.Dataset
        Scalars ``n_avalanches``, ``alpha_size``, ``alpha_size_error``, ``xmin_size``,
        ``p_size`` (LLR p-value vs exponential), ``alpha_duration``,
        ``alpha_duration_error``, ``xmin_duration``, ``p_duration``, ``branching_ratio``,
        ``gamma_predicted``, ``gamma_fit`` (NaN when fewer than two durations qualify).

    Raises
    ------
    ValueError
        Too few avalanches for the fits (see :func:`power_law_fit`).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> t = np.sort(rng.uniform(0.0, 2000.0, 1500))       # Poisson: not critical
    >>> crit = criticality_summary(t, 1.0, t_stop=2000.0)
    >>> crit.branching_ratio.attrs["units"], bool(crit.branching_ratio < 1)
    ('1', True)
    """
    av = avalanches(data, bin_ms, t_start=t_start, t_stop=t_stop, neurons=neurons)
    n_av = av.sizes["avalanche"]
    if n_av < 3:
        raise InvalidArgumentError(
            f"{n_av} avalanche(s) bounded by empty bins are too few for power-law "
            "fits (no spikes, or activity that never pauses: try a smaller bin_ms)")
    fs = power_law_fit(av["size"], min_tail=min(10, n_av))
    fd = power_law_fit(av["duration"], min_tail=min(10, n_av))
    sigma = branching_ratio(data, av.attrs["bin_ms"], t_start=t_start, t_stop=t_stop,
                            neurons=neurons)
    size, dur = av["size"].values.astype(float), av["duration"].values
    d_u, d_inv, d_n = np.unique(dur, return_inverse=True, return_counts=True)
    mean_size = np.bincount(d_inv, weights=size) / d_n
    ok = (d_u >= float(fd.xmin)) & (d_n >= 3)
    gamma = (float(np.polyfit(np.log(d_u[ok]), np.log(mean_size[ok]), 1)[0])
             if ok.sum() >= 2 else float("nan"))
    a_s, a_t = float(fs.alpha), float(fd.alpha)

    def scalar(v, long_name, units="1"):
        return ((), v, {"units": units, "long_name": long_name})

    return xr.Dataset(
        {"n_avalanches": scalar(int(n_av), "number of avalanches"),
         "alpha_size": scalar(a_s, "size exponent"),
         "alpha_size_error": scalar(float(fs.alpha_error), "standard error of alpha_size"),
         "xmin_size": scalar(float(fs.xmin), "lower bound of the size power law"),
         "p_size": scalar(float(fs.p_value), "LLR p-value, sizes: power law vs exponential"),
         "alpha_duration": scalar(a_t, "duration exponent"),
         "alpha_duration_error": scalar(float(fd.alpha_error),
                                        "standard error of alpha_duration"),
         "xmin_duration": scalar(float(fd.xmin), "lower bound of the duration power law (bins)"),
         "p_duration": scalar(float(fd.p_value),
                              "LLR p-value, durations: power law vs exponential"),
         "branching_ratio": scalar(float(sigma), "branching ratio (Beggs & Plenz)"),
         "gamma_predicted": scalar((a_t - 1.0) / (a_s - 1.0),
                                   "scaling exponent (alpha_T - 1) / (alpha_S - 1)"),
         "gamma_fit": scalar(gamma, "fitted exponent of mean size vs duration")},
        attrs={"bin_ms": float(av.attrs["bin_ms"]), "preferred_size": fs.attrs["preferred"],
               "preferred_duration": fd.attrs["preferred"]},
    )
