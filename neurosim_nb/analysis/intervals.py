"""Inter-spike intervals and spike-train irregularity: ISI, CV, CV2, LV, LvR, Fano factor.

For the intervals :math:`I_1, \\dots, I_n` of one neuron (ms):

.. math::

    CV = \\frac{\\operatorname{std}(I)}{\\operatorname{mean}(I)}, \\qquad
    CV_2 = \\frac{2}{n-1} \\sum_{i=1}^{n-1} \\frac{|I_{i+1} - I_i|}{I_{i+1} + I_i}, \\qquad
    LV = \\frac{3}{n-1} \\sum_{i=1}^{n-1} \\left(\\frac{I_i - I_{i+1}}{I_i + I_{i+1}}\\right)^2,

.. math::

    LvR = \\frac{3}{n-1} \\sum_{i=1}^{n-1}
          \\left(1 - \\frac{4 I_i I_{i+1}}{(I_i + I_{i+1})^2}\\right)
          \\left(1 + \\frac{4 R}{I_i + I_{i+1}}\\right),

all 1 for a Poisson process (LvR only for R = 0). References: Holt et al. 1996 (CV2),
Shinomoto et al. 2003 (LV), Shinomoto et al. 2009 (LvR); the definitions and conventions
(std with ``ddof=0``) follow Elephant's ``elephant.statistics``.

Per-neuron measures are NaN for a neuron with fewer than two intervals (three spikes),
like Elephant's ``with_nan=True``: the result's attrs ``n_undefined`` and ``comment`` say how
many and why, so input without any spike gives an all-NaN result, not an error.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurosim_nb.analysis._input import SpikeTrains, _number, as_spike_trains, positive
from neurosim_nb.analysis.rates import spike_raster
from neurosim_nb.errors import InvalidArgumentError

_MIN_INTERVALS = 2


def _intervals(st: SpikeTrains) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intervals (ms), position of their neuron and time of their opening spike, by neuron."""
    times, pos = st.flat()
    same = pos[1:] == pos[:-1]
    return np.diff(times)[same], pos[1:][same], times[:-1][same]


def _checked_intervals(st: SpikeTrains) -> tuple[np.ndarray, np.ndarray]:
    isi_ms, owner, start = _intervals(st)
    zero = np.flatnonzero(isi_ms <= 0.0)
    if zero.size:
        k = zero[0]
        raise InvalidArgumentError(
            f"neuron {int(st.neuron[owner[k]])} has two spikes at the same time "
            f"({start[k]} ms): "
            "remove duplicate spike times first")
    return isi_ms, owner


def _pairs(isi_ms: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Consecutive interval pairs ``(I_i, I_i+1)`` of the same neuron and that neuron."""
    same = owner[1:] == owner[:-1]
    return isi_ms[:-1][same], isi_ms[1:][same], owner[1:][same]


def _per_neuron(st: SpikeTrains, values: np.ndarray, name: str, long_name: str,
                attrs: dict | None = None) -> xr.DataArray:
    """A per-neuron measure with NaN (counted in attrs) for neurons with < 2 intervals."""
    n_intervals = np.maximum(st.counts - 1, 0)
    undefined = n_intervals < _MIN_INTERVALS
    values = np.where(undefined, np.nan, values)
    coords = {"neuron": ("neuron", st.neuron, {"long_name": "neuron id"})}
    if st.population is not None:
        coords["population"] = ("neuron", st.population, {"long_name": "population label"})
    return xr.DataArray(
        values, dims=("neuron",), coords=coords, name=name,
        attrs={"units": "1", "long_name": long_name, **(attrs or {}),
               "min_intervals": _MIN_INTERVALS, "n_undefined": int(undefined.sum()),
               "comment": f"NaN for the {int(undefined.sum())} neuron(s) with fewer than "
                          f"{_MIN_INTERVALS} inter-spike intervals ({_MIN_INTERVALS + 1} "
                          "spikes)"},
    )


def _pair_mean(st: SpikeTrains, terms: np.ndarray, owner: np.ndarray) -> np.ndarray:
    n_pairs = np.bincount(owner, minlength=st.n)
    sums = np.bincount(owner, weights=terms, minlength=st.n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / n_pairs


def isi(data, *, t_start: float | None = None, t_stop: float | None = None) -> xr.DataArray:
    """Inter-spike intervals of every neuron, as one ragged list along ``interval``.

    Parameters
    ----------
    data : xarray.Dataset or array_like or sequence of array_like
        A result Dataset, or spike times (ms) of one neuron or of each neuron.
    t_start, t_stop : float, optional
        Only spikes in ``(t_start, t_stop]`` (ms). Arrays default to all their spikes; a
        Dataset to ``(0, duration]``.

    Returns
    -------
    xarray.DataArray
        ``isi`` (ms) along ``interval``, grouped by neuron and in time order within a neuron
        (a CF contiguous ragged array). Coordinates along ``interval``: ``neuron`` (id of the
        neuron), ``population`` (Datasets with populations) and ``interval_start`` (time of
        the spike opening the interval, ms). Attr ``n_neurons``. Neurons with fewer than two
        spikes contribute nothing; ``isi(ds).groupby("neuron")`` gives per-neuron views.

    Examples
    --------
    >>> d = isi([np.array([0.3, 4.5, 6.7, 9.3]), np.array([1.0, 3.0])])
    >>> d.values.round(6).tolist(), d.neuron.values.tolist()
    ([4.2, 2.2, 2.6, 2.0], [0, 0, 0, 1])
    """
    st = as_spike_trains(data, t_start=t_start, t_stop=t_stop, need_t_stop=False)
    isi_ms, owner, start = _intervals(st)
    coords = {"neuron": ("interval", st.neuron[owner], {"long_name": "neuron id"}),
              "interval_start": ("interval", start,
                                 {"units": "ms", "long_name": "time of the opening spike"})}
    if st.population is not None:
        coords["population"] = ("interval", st.population[owner],
                                {"long_name": "population label"})
    return xr.DataArray(isi_ms, dims=("interval",), coords=coords, name="isi",
                        attrs={"units": "ms", "long_name": "inter-spike interval",
                               "n_neurons": st.n})


def cv(data, *, t_start: float | None = None, t_stop: float | None = None) -> xr.DataArray:
    """Coefficient of variation of the inter-spike intervals of every neuron.

    ``std(ISI) / mean(ISI)`` with the population std (``ddof=0``), as Elephant's ``cv``
    (``scipy.stats.variation``). 0 for a regular train, 1 for a Poisson process.

    Parameters
    ----------
    data : xarray.Dataset or array_like or sequence of array_like
        A result Dataset, or spike times (ms) of one neuron or of each neuron.
    t_start, t_stop : float, optional
        Only spikes in ``(t_start, t_stop]`` (ms); arrays default to all their spikes.

    Returns
    -------
    xarray.DataArray
        ``cv`` along ``neuron``, units ``"1"``; NaN for neurons with fewer than 2 intervals
        (attrs ``n_undefined``, ``comment``).

    Raises
    ------
    ValueError
        Two spikes of a neuron at the same time.

    Examples
    --------
    >>> cv([np.arange(1.0, 11.0), np.array([1.0, 2.0, 4.0]), np.array([5.0])]).values
    array([0.        , 0.33333333,        nan])
    """
    st = as_spike_trains(data, t_start=t_start, t_stop=t_stop, need_t_stop=False)
    isi_ms, owner = _checked_intervals(st)
    n_int = np.bincount(owner, minlength=st.n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(owner, weights=isi_ms, minlength=st.n) / n_int
        var = np.bincount(owner, weights=(isi_ms - mean[owner]) ** 2, minlength=st.n) / n_int
        values = np.sqrt(var) / mean
    return _per_neuron(st, values, "cv", "coefficient of variation of the ISIs")


def cv2(data, *, t_start: float | None = None, t_stop: float | None = None) -> xr.DataArray:
    """Local coefficient of variation CV2 of every neuron (Holt et al. 1996).

    Mean of ``2 |I_{i+1} - I_i| / (I_{i+1} + I_i)`` over consecutive interval pairs: like the
    CV but insensitive to slow rate changes; 1 for a Poisson process.

    Parameters
    ----------
    data : xarray.Dataset or array_like or sequence of array_like
        A result Dataset, or spike times (ms) of one neuron or of each neuron.
    t_start, t_stop : float, optional
        Only spikes in ``(t_start, t_stop]`` (ms); arrays default to all their spikes.

    Returns
    -------
    xarray.DataArray
        ``cv2`` along ``neuron``, units ``"1"``; NaN for neurons with fewer than 2 intervals.

    Raises
    ------
    ValueError
        Two spikes of a neuron at the same time.

    References
    ----------
    Holt, Softky, Koch & Douglas (1996), J. Neurophysiol. 75:1806-1814.

    Examples
    --------
    >>> round(float(cv2(np.cumsum([1.0, 0.3, 4.5, 6.7, 9.3]))[0]), 9)  # Elephant's docstring
    0.822619048
    """
    st = as_spike_trains(data, t_start=t_start, t_stop=t_stop, need_t_stop=False)
    i1, i2, owner = _pairs(*_checked_intervals(st))
    values = 2.0 * _pair_mean(st, np.abs(i2 - i1) / (i1 + i2), owner)
    return _per_neuron(st, values, "cv2", "local coefficient of variation CV2 of the ISIs")


def lv(data, *, t_start: float | None = None, t_stop: float | None = None) -> xr.DataArray:
    """Local variation LV of the inter-spike intervals of every neuron (Shinomoto et al. 2003).

    ``3 * mean(((I_i - I_{i+1}) / (I_i + I_{i+1}))**2)`` over consecutive interval pairs:
    0 for a regular train, 1 for a Poisson process, up to 3 for bursty trains.

    Parameters
    ----------
    data : xarray.Dataset or array_like or sequence of array_like
        A result Dataset, or spike times (ms) of one neuron or of each neuron.
    t_start, t_stop : float, optional
        Only spikes in ``(t_start, t_stop]`` (ms); arrays default to all their spikes.

    Returns
    -------
    xarray.DataArray
        ``lv`` along ``neuron``, units ``"1"``; NaN for neurons with fewer than 2 intervals.

    Raises
    ------
    ValueError
        Two spikes of a neuron at the same time.

    References
    ----------
    Shinomoto, Shima & Tanji (2003), Neural Comput. 15:2823-2842.

    Examples
    --------
    >>> lv([np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.0, 4.0])]).values.round(4)
    array([0.    , 0.3333])
    """
    st = as_spike_trains(data, t_start=t_start, t_stop=t_stop, need_t_stop=False)
    i1, i2, owner = _pairs(*_checked_intervals(st))
    values = 3.0 * _pair_mean(st, ((i1 - i2) / (i1 + i2)) ** 2, owner)
    return _per_neuron(st, values, "lv", "local variation LV of the ISIs")


def lvr(data, R_ms: float = 5.0, *, t_start: float | None = None,
        t_stop: float | None = None) -> xr.DataArray:
    """Revised local variation LvR of every neuron (Shinomoto et al. 2009).

    ``3 * mean((1 - 4 I_i I_{i+1} / (I_i + I_{i+1})**2) * (1 + 4 R / (I_i + I_{i+1})))``
    over consecutive interval pairs; the refractoriness constant ``R`` discounts the
    regularity caused by refractoriness, making LvR robust to firing-rate fluctuations.
    ``R_ms = 0`` gives the LV.

    Parameters
    ----------
    data : xarray.Dataset or array_like or sequence of array_like
        A result Dataset, or spike times (ms) of one neuron or of each neuron.
    R_ms : float
        Refractoriness constant (ms), >= 0; default 5 ms as in Shinomoto et al. (2009) and
        Elephant.
    t_start, t_stop : float, optional
        Only spikes in ``(t_start, t_stop]`` (ms); arrays default to all their spikes.

    Returns
    -------
    xarray.DataArray
        ``lvr`` along ``neuron``, units ``"1"``, attr ``R_ms``; NaN for neurons with fewer
        than 2 intervals.

    Raises
    ------
    ValueError
        ``R_ms`` negative or not finite; two spikes of a neuron at the same time.

    References
    ----------
    Shinomoto et al. (2009), PLoS Comput. Biol. 5(7):e1000433.

    Examples
    --------
    >>> round(float(lvr(np.cumsum([1.0, 0.3, 4.5, 6.7, 9.3]), R_ms=0.005)[0]), 9)
    0.833907446
    """
    r = _number("R_ms", R_ms, "ms")
    if not np.isfinite(r) or r < 0:
        raise InvalidArgumentError(f"R_ms must be a finite number of ms >= 0, got {R_ms!r}")
    st = as_spike_trains(data, t_start=t_start, t_stop=t_stop, need_t_stop=False)
    i1, i2, owner = _pairs(*_checked_intervals(st))
    s = i1 + i2
    # 4 I1 I2 / s^2 as a product of fractions: no underflow to 0 / 0 for tiny intervals
    with np.errstate(over="ignore"):  # 4 R / s of intervals ~1e-300 ms: inf, the limit
        terms = (1.0 - 4.0 * (i1 / s) * (i2 / s)) * (1.0 + 4.0 * r / s)
    values = 3.0 * _pair_mean(st, terms, owner)
    return _per_neuron(st, values, "lvr", "revised local variation LvR of the ISIs",
                       {"R_ms": r})


def fano_factor(data, bin_ms: float | None = None, *, t_start: float | None = None,
                t_stop: float | None = None) -> xr.DataArray:
    """Fano factor ``var / mean`` of spike counts (``ddof=0``); 1 for Poisson processes.

    Two definitions:

    - ``bin_ms=None`` (Elephant's ``fanofactor``): across neurons, of the spike count of
      each neuron in the whole window (arrays: all their spikes). A scalar; NaN when there
      are no neurons or no spikes (attrs ``n_undefined = 1`` and ``comment``).
    - ``bin_ms`` given: per neuron, across consecutive windows of ``bin_ms`` (as in
      :func:`spike_raster`; the last partial window is dropped). Along ``neuron``; NaN for
      a neuron without spikes in the windows (counted in ``n_undefined``).

    Parameters
    ----------
    data : xarray.Dataset or array_like or sequence of array_like
        A result Dataset, or spike times (ms) of one neuron or of each neuron.
    bin_ms : float, optional
        Counting window (ms), at most half the recording (two windows or more).
    t_start, t_stop : float, optional
        Observation window (ms); with ``bin_ms`` arrays need ``t_stop``.

    Returns
    -------
    xarray.DataArray
        ``fano_factor``, units ``"1"``: a scalar, or along ``neuron`` with ``bin_ms``.

    Raises
    ------
    ValueError
        ``bin_ms`` not finite and > 0, or giving fewer than two windows.

    Examples
    --------
    >>> float(fano_factor([[1.0, 2.0, 3.0], [1.0], [1.0, 2.0]]))  # counts 3, 1, 2
    0.3333333333333333
    >>> fano_factor([[5.0, 15.0, 16.0, 17.0]], bin_ms=10.0, t_stop=20.0).values  # 1 and 3
    array([0.5])
    """
    if bin_ms is not None:
        bin_ms = positive("bin_ms", bin_ms)
        counts = spike_raster(data, bin_ms, t_start=t_start, t_stop=t_stop)
        if counts.sizes["time"] < 2:
            raise InvalidArgumentError(
                f"bin_ms ({bin_ms} ms) gives a single window: the Fano factor "
                "across windows needs at least two (bin_ms <= duration / 2)")
        c = counts.values.astype(float)
        mean = c.mean(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = c.var(axis=0) / mean
        undefined = int((mean == 0).sum())
        out = counts.isel(time=0, drop=True).copy(data=values)
        out.name = "fano_factor"
        out.attrs = {"units": "1", "long_name": "Fano factor of spike counts across windows",
                     "bin_ms": bin_ms, "n_windows": counts.sizes["time"],
                     "n_undefined": undefined,
                     "comment": f"NaN for the {undefined} neuron(s) without spikes"}
        return out
    st = as_spike_trains(data, t_start=t_start, t_stop=t_stop, need_t_stop=False)
    c = st.counts.astype(float)
    undefined = int(c.size == 0 or c.sum() == 0)
    value = np.nan if undefined else float(c.var() / c.mean())
    return xr.DataArray(value, name="fano_factor", attrs={
        "units": "1", "long_name": "Fano factor of spike counts across neurons",
        "n_neurons": st.n, "n_undefined": undefined,
        "comment": "NaN: no neurons or no spikes" if undefined else "var/mean, ddof=0"})
