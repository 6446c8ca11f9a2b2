r"""Oscillations: power spectra, band powers and significant spectral peaks (seed ``OscDet``).

* :func:`power_spectrum` -- Welch's averaged periodogram (:func:`scipy.signal.welch`: Hann
  window, 50 % overlap, mean removed per segment) as a one-sided power spectral *density*
  in (signal units)²/Hz, so that :math:`\sum_f S(f)\,\Delta f` is the signal's variance
  (Parseval). For a Dataset the signal is, by default, the population rate (Hz per neuron)
  in bins of ``bin_ms``.
* :func:`band_power` -- :math:`\sum_{f_{lo} \le f < f_{hi}} S(f)\,\Delta f` per band, by
  default the conventional EEG bands (:data:`BANDS`).
* :func:`detect_oscillations` -- the dominant spectral peak between ``f_min`` and ``f_max``
  and a surrogate test of its significance.

References
----------
Welch PD (1967) The use of fast Fourier transform for the estimation of power spectra.
IEEE Trans Audio Electroacoust 15:70-73.

Kane N, Acharya J, Benickzy S, et al. (2017) A revised glossary of terms most commonly used
by clinical electroencephalographers and updated proposal for the report format of the EEG
findings. Clin Neurophysiol Pract 2:170-185.

North BV, Curtis D, Sham PC (2002) A note on the calculation of empirical P values from
Monte Carlo procedures. Am J Hum Genet 71:439-441.

Examples
--------
>>> t = np.arange(1, 2001) * 1.0                              # 2 s at 1 ms
>>> x = 2.0 * np.sin(2 * np.pi * 10.0 * t / 1000.0)          # 10 Hz, amplitude 2
>>> bp = band_power(x, dt_ms=1.0, segment_ms=1000.0)
>>> round(float(bp.band_power.sel(band="alpha")), 6)          # A**2 / 2
2.0
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import xarray as xr
from scipy.signal import welch

from neurosim_nb.analysis._input import (
    SpikeTrains,
    _number,
    as_signal,
    as_spike_trains,
    integer,
    is_spike_data,
    named,
    positive,
)
from neurosim_nb.analysis._input import n_bins as count_bins
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError

__all__ = ["BANDS", "power_spectrum", "band_power", "detect_oscillations"]

#: Default frequency bands (Hz, ``[low, high)``): the conventional EEG bands of the IFCN
#: glossary (Kane et al. 2017: delta < 4, theta 4 to < 8, alpha 8-13, beta 14-30, gamma
#: > 30 Hz), made contiguous here (beta from 13 Hz) and bounded to 1-100 Hz.
BANDS: dict[str, tuple[float, float]] = {
    "delta": (1.0, 4.0), "theta": (4.0, 8.0), "alpha": (8.0, 13.0), "beta": (13.0, 30.0),
    "gamma": (30.0, 100.0),
}

#: Default Welch segment (ms): 2 Hz resolution
SEGMENT_MS = 500.0


# -- signals -----------------------------------------------------------------------------


def _n_bins(st: SpikeTrains, bin_ms: float) -> int:
    n = count_bins(st.duration, bin_ms, rows=2)
    if n < 2:
        raise InvalidArgumentError(f"bin_ms ({bin_ms} ms) leaves fewer than two bins in the "
                                   f"{st.duration} ms window")
    return n


def _binned_rate(times: np.ndarray, group: np.ndarray, n_groups: int, st: SpikeTrains,
                 bin_ms: float) -> np.ndarray:
    """(group, bin) population rate (Hz per neuron) of pooled spike ``times``; a spike at a
    bin's end counts in that bin (spikes are stamped at step ends)."""
    n_bins = _n_bins(st, bin_ms)
    k = np.ceil((times - st.t_start) / bin_ms - 1e-9).astype(np.int64) - 1
    k = np.clip(k, 0, n_bins - 1)  # a surrogate spike can land on the window's edges
    counts = np.bincount(group * n_bins + k, minlength=n_groups * n_bins)
    return counts.reshape(n_groups, n_bins) / (max(st.n, 1) * bin_ms / 1000.0)


def _rate_signal(st: SpikeTrains, bin_ms: float) -> xr.DataArray:
    pooled = st.pooled()
    rate = _binned_rate(pooled, np.zeros(pooled.size, np.int64), 1, st, bin_ms)[0]
    t = st.t_start + (np.arange(rate.size) + 1) * bin_ms
    return xr.DataArray(rate, dims=("time",), name="population_rate",
                        coords={"time": ("time", t, {"units": "ms"})},
                        attrs={"units": "Hz", "long_name": "population rate per neuron",
                               "dt": bin_ms})


def _signal(data, kind, variable, dt_ms, bin_ms, t_start, t_stop):
    """(signal DataArray, spike trains or None)."""
    if kind is None:
        kind = "spikes" if is_spike_data(data) and variable is None else "signal"
    if kind not in ("spikes", "signal"):
        raise InvalidArgumentError(f"kind must be 'spikes' or 'signal', got {kind!r}")
    if kind == "spikes":
        if variable is not None:
            raise InvalidArgumentError(
                "variable picks a signal of a Dataset: not with kind='spikes'")
        st = as_spike_trains(data, t_start=t_start, t_stop=t_stop)
        return _rate_signal(st, positive("bin_ms", bin_ms)), st
    if isinstance(data, xr.Dataset):
        if variable is None:
            raise InvalidArgumentError("pass variable='V' (say) to take a signal from a Dataset")
        if variable not in data:
            raise InvalidArgumentError(f"the Dataset has no variable {variable!r}; it has "
                                       f"{sorted(data.data_vars)}")
        data = data[variable]
    sig = as_signal(data, dt=dt_ms, name="signal")
    if t_start is not None or t_stop is not None:
        t = sig["time"].values
        lo = -np.inf if t_start is None else float(t_start)
        hi = np.inf if t_stop is None else float(t_stop)
        if hi > t[-1] + 1e-9 or lo < t[0] - sig.attrs["dt"] - 1e-9:
            raise InvalidArgumentError(f"the window ({t_start}, {t_stop}) ms runs past the signal "
                                       f"({t[0] - sig.attrs['dt']:g}-{t[-1]:g} ms)")
        sig = sig.isel(time=(t > lo) & (t <= hi))
        sig = as_signal(sig, dt=sig.attrs.get("dt"), name="signal")
    return sig, None


def _segment(sig: xr.DataArray, segment_ms) -> int:
    dt = float(sig.attrs["dt"])
    n = sig.sizes["time"]
    if segment_ms is None:
        return int(min(n, max(4, round(SEGMENT_MS / dt))))
    seg = positive("segment_ms", segment_ms)
    nper = int(round(seg / dt))
    if nper > n:
        raise InvalidArgumentError(f"segment_ms ({seg} ms) is longer than the recording "
                                   f"({n * dt:g} ms)")
    if nper < 4:
        raise InvalidArgumentError(f"segment_ms ({seg} ms) holds fewer than 4 samples of {dt} ms")
    return nper


def _welch(values: np.ndarray, dt: float, nperseg: int, axis: int = 0):
    return welch(values, fs=1000.0 / dt, window="hann", nperseg=nperseg,
                 noverlap=nperseg // 2, detrend="constant", scaling="density", axis=axis)


def _units(sig: xr.DataArray) -> str:
    u = str(sig.attrs.get("units", "1"))
    return "1/Hz" if u == "1" else f"{u}^2/Hz"


# -- public ------------------------------------------------------------------------------
def power_spectrum(data, *, kind: Literal["spikes", "signal"] | None = None,
                   variable: str | None = None, dt_ms: float | None = None,
                   bin_ms: float = 1.0, segment_ms: float | None = None,
                   t_start: float | None = None, t_stop: float | None = None) -> xr.DataArray:
    """Power spectral density by Welch's method (one-sided, (signal units)²/Hz).

    Hann window, segments of ``segment_ms`` overlapping by half, the mean of each segment
    removed; the resolution is ``1000 / segment_ms`` Hz and
    ``sum(S) * resolution`` is the variance of the signal.

    Parameters
    ----------
    data : xarray.Dataset, sequence of array_like, xarray.DataArray or array_like
        Spikes (a result Dataset or one array of spike times per neuron, ms): the signal is
        the population rate (Hz per neuron) in bins of ``bin_ms``. Or a signal along
        ``time`` (a DataArray, an array with ``dt_ms``, or ``variable`` of a Dataset), one
        spectrum per column.
    kind : {"spikes", "signal"}, optional
        Default: spikes for a Dataset (without ``variable``) or a sequence of 1-D arrays,
        signal otherwise.
    variable : str, optional
        Variable of a Dataset to analyse as a signal (e.g. ``"V"``).
    dt_ms : float, optional
        Sampling interval of an array signal (ms).
    bin_ms : float
        Bin of the population rate (ms); the Nyquist frequency is ``500 / bin_ms`` Hz.
    segment_ms : float, optional
        Welch segment (ms); default ``min(500 ms, the recording)``.
    t_start, t_stop : float, optional
        Window analysed (ms).

    Returns
    -------
    xarray.DataArray
        ``power_spectrum`` with ``frequency`` (Hz) first, units ``"<u>^2/Hz"`` for a signal in
        units ``u`` (``"Hz^2/Hz"`` for a rate); attrs ``segment_ms``, ``n_segments``,
        ``frequency_resolution`` (Hz), ``signal_units``.

    Raises
    ------
    ValueError
        NaN in the signal, a segment longer than the recording or shorter than 4 samples,
        a window past the recording, bad parameters.

    Examples
    --------
    >>> x = np.sin(2 * np.pi * 50.0 * np.arange(1000) / 1000.0)    # 50 Hz at 1 ms
    >>> s = power_spectrum(x, dt_ms=1.0, segment_ms=200.0)
    >>> float(s.frequency[np.argmax(s.values)]), s.attrs["units"]
    (50.0, '1/Hz')
    """
    sig, _ = _signal(data, kind, variable, dt_ms, bin_ms, t_start, t_stop)
    dt = float(sig.attrs["dt"])
    nper = _segment(sig, segment_ms)
    f, s = _welch(sig.values, dt, nper)
    other = [d for d in sig.dims if d != "time"]
    coords = {k: v for k, v in sig.coords.items() if "time" not in v.dims}
    coords["frequency"] = ("frequency", f, {"units": "Hz", "long_name": "frequency"})
    n = sig.sizes["time"]
    n_seg = 1 + (n - nper) // (nper - nper // 2)
    return named(s, name="power_spectrum", units=_units(sig),
                 long_name=f"power spectral density of {sig.name or 'the signal'}",
                 dims=("frequency", *other), coords=coords,
                 attrs={"segment_ms": nper * dt, "n_segments": int(n_seg),
                        "frequency_resolution": float(f[1] - f[0]),
                        "signal_units": str(sig.attrs.get("units", "1")),
                        "method": "Welch, Hann window, 50% overlap"})


def band_power(data, bands: dict[str, tuple[float, float]] | None = None,
               **spectrum_kwargs) -> xr.Dataset:
    """Power in frequency bands: :math:`\\sum_{lo \\le f < hi} S(f)\\,\\Delta f`.

    The power of :math:`A \\sin(2\\pi f t)` is :math:`A^2/2`; it lands in the band that
    contains ``f`` when ``f`` lies at least two resolution bins (the Hann window's main
    lobe) inside the band.

    Parameters
    ----------
    data : power spectrum or anything :func:`power_spectrum` takes
        A :func:`power_spectrum` result is used as it is.
    bands : dict of str to (float, float), optional
        ``{name: (low, high)}`` in Hz, ``[low, high)``; default :data:`BANDS` (delta 1-4,
        theta 4-8, alpha 8-13, beta 13-30, gamma 30-100 Hz).
    **spectrum_kwargs
        Passed to :func:`power_spectrum` (``dt_ms``, ``segment_ms``, ``bin_ms``, ...).

    Returns
    -------
    xarray.Dataset
        ``band_power`` (band, ...) in signal units² and ``relative_power`` (band, ...), the
        fraction of the total power (NaN where the total power is 0); coords ``band``,
        ``f_low``, ``f_high`` (Hz).

    Raises
    ------
    ValueError
        A band with ``low >= high``, negative or non-finite edges, or without any frequency
        bin at the spectrum's resolution (use longer segments).

    Examples
    --------
    >>> x = np.sin(2 * np.pi * 6.0 * np.arange(1000) / 1000.0)     # 6 Hz, amplitude 1
    >>> bp = band_power(x, dt_ms=1.0, segment_ms=1000.0)
    >>> str(bp.band[np.argmax(bp.band_power.values)].values), round(float(bp.band_power.max()), 6)
    ('theta', 0.5)
    """
    if isinstance(data, xr.DataArray) and "frequency" in data.dims:
        if spectrum_kwargs:
            raise ArgumentTypeError(
                f"{sorted(spectrum_kwargs)} apply to computing a spectrum, not to "
                "a given power spectrum")
        spec = data
    else:
        spec = power_spectrum(data, **spectrum_kwargs)
    bands = BANDS if bands is None else bands
    if not isinstance(bands, dict) or not bands:
        raise ArgumentTypeError("bands must be a non-empty dict {name: (low_hz, high_hz)}")
    f = np.asarray(spec["frequency"].values, dtype=float)
    df = float(f[1] - f[0]) if f.size > 1 else float(spec.attrs.get("frequency_resolution", 1))
    names, lows, highs, rows = [], [], [], []
    for name, edges in bands.items():
        try:
            lo, hi = (float(e) for e in edges)
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"band {name!r}: edges must be two numbers (Hz), got "
                                       f"{edges!r}") from None
        if not (np.isfinite(lo) and np.isfinite(hi) and 0 <= lo < hi):
            raise InvalidArgumentError(f"band {name!r}: need 0 <= low < high (Hz), got {edges!r}")
        sel = (f >= lo) & (f < hi)
        if not sel.any():
            raise InvalidArgumentError(
                f"band {name!r} ({lo:g}-{hi:g} Hz) holds no frequency bin of the "
                f"spectrum ({df:g} Hz resolution, up to {f[-1]:g} Hz): use a "
                "longer segment_ms or a finer sampling")
        rows.append(spec.isel(frequency=sel).sum("frequency") * df)
        names.append(str(name))
        lows.append(lo)
        highs.append(hi)
    power = xr.concat(rows, dim="band")
    total = spec.sum("frequency") * df
    u = str(spec.attrs.get("signal_units", "1"))
    power_units = "1" if u == "1" else f"{u}^2"
    coords = {"band": ("band", np.array(names, dtype=object)),
              "f_low": ("band", np.array(lows), {"units": "Hz", "long_name": "band start"}),
              "f_high": ("band", np.array(highs), {"units": "Hz", "long_name": "band end"})}
    power = power.assign_coords(coords)
    rel = (power / total).where(total > 0)
    power.attrs = {"units": power_units, "long_name": "power in the band"}
    rel.attrs = {"units": "1", "long_name": "fraction of the total power in the band"}
    return xr.Dataset({"band_power": power, "relative_power": rel},
                      attrs={"frequency_resolution": df,
                             "method": "sum of the Welch PSD times the resolution"})


def _isi_surrogates(st: SpikeTrains, n_sur: int, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Pooled spike times of ``n_sur`` surrogates (and their surrogate index): every
    neuron's intervals -- including the gaps from ``t_start`` to its first spike and from
    its last spike to ``t_stop`` -- in a random order (spike count and ISIs kept)."""
    gaps, group = [], []
    for j, tr in enumerate(st.trains):
        if tr.size:
            gaps.append(np.diff(np.concatenate([[st.t_start], tr, [st.t_stop]])))
            group.append(np.full(tr.size + 1, j))
    gaps_all = np.concatenate(gaps)
    grp = np.concatenate(group)
    sizes = np.array([g.size for g in gaps])
    starts = np.cumsum(sizes) - sizes
    keep = np.ones(gaps_all.size, dtype=bool)
    keep[starts + sizes - 1] = False  # each neuron's final gap ends at t_stop
    times, index = [], []
    for s in range(n_sur):
        g = gaps_all[np.lexsort((rng.random(gaps_all.size), grp))]  # shuffled per neuron
        cs = np.cumsum(g)
        before = np.repeat(np.concatenate([[0.0], cs])[starts], sizes)
        times.append((st.t_start + cs - before)[keep])
        index.append(np.full(int(keep.sum()), s))
    return np.concatenate(times), np.concatenate(index)


def detect_oscillations(data, *, f_min: float = 1.0, f_max: float = 100.0,
                        n_surrogates: int = 200, seed: int | None = None, alpha: float = 0.05,
                        kind: Literal["spikes", "signal"] | None = None,
                        variable: str | None = None, dt_ms: float | None = None,
                        bin_ms: float = 1.0, segment_ms: float | None = None,
                        t_start: float | None = None, t_stop: float | None = None
                        ) -> xr.Dataset:
    """Dominant spectral peak between ``f_min`` and ``f_max`` and its significance.

    The statistic is the largest value of the power spectrum (:func:`power_spectrum`) in
    ``[f_min, f_max]``; comparing the maximum over the whole range controls for testing many
    frequencies. Its null distribution comes from ``n_surrogates`` surrogates:

    * spikes -- every neuron's inter-spike intervals (with the gaps at both ends of the
      window) in random order: rates and ISI distributions kept, the timing shared between
      neurons (a population rhythm) destroyed;
    * a signal -- its samples in random order (time-shuffled): the amplitude distribution
      kept, all temporal structure destroyed. Any structured spectrum (e.g. 1/f) rejects
      this null, so a small p says "a peak above a flat spectrum", not "a rhythm above
      the background"; phase-randomised surrogates would keep the spectrum itself and
      cannot test a spectral peak.

    ``p = (1 + #{surrogate maxima >= observed}) / (1 + n_surrogates)`` (North et al. 2002),
    at least ``1 / (1 + n_surrogates)``.

    Parameters
    ----------
    data : see :func:`power_spectrum`
        One signal (a single column) or spikes.
    f_min, f_max : float
        Frequency range searched (Hz), within the spectrum's range.
    n_surrogates : int
        Number of surrogates (>= 1; 99 or more for p down to 0.01).
    seed : int, optional
        Seed of the surrogates (drawn and stored in the attrs when ``None``).
    alpha : float
        Level of ``significant`` and of the ``threshold`` quantile, in (0, 1).
    kind, variable, dt_ms, bin_ms, segment_ms, t_start, t_stop
        As in :func:`power_spectrum`.

    Returns
    -------
    xarray.Dataset
        ``peak_frequency`` (Hz), ``peak_power`` and ``threshold`` (the 1 - alpha quantile of
        the surrogate maxima; PSD units), ``p_value`` and ``significant`` (0/1), the
        ``power_spectrum`` and the ``surrogate_mean`` spectrum (frequency); attrs ``seed``,
        ``n_surrogates``, ``surrogate``, ``f_min``, ``f_max``, ``alpha``.

    Raises
    ------
    ValueError
        No spikes, a constant signal, more than one signal column, an empty or out-of-range
        frequency range, bad ``n_surrogates``/``alpha``, and as :func:`power_spectrum`.

    Examples
    --------
    >>> t = np.arange(1, 1001) * 1.0
    >>> noise = np.random.default_rng(0).normal(size=t.size)
    >>> x = np.sin(2 * np.pi * 40.0 * t / 1000.0) + noise
    >>> res = detect_oscillations(x, dt_ms=1.0, n_surrogates=99, seed=1)
    >>> float(res.peak_frequency), float(res.p_value)
    (40.0, 0.01)
    """
    n_surrogates = integer("n_surrogates", n_surrogates, 1)
    if seed is not None:
        seed = integer("seed", seed, 0, 2**63 - 1)
    alpha = _number("alpha", alpha, "1")
    if not 0.0 < alpha < 1.0:
        raise InvalidArgumentError(f"alpha must be in (0, 1), got {alpha!r}")
    f_lo, f_hi = _number("f_min", f_min, "Hz"), _number("f_max", f_max, "Hz")
    if not (np.isfinite(f_lo) and np.isfinite(f_hi) and 0 <= f_lo < f_hi):
        raise InvalidArgumentError(f"need 0 <= f_min < f_max (Hz), got {f_min!r} and {f_max!r}")
    sig, st = _signal(data, kind, variable, dt_ms, bin_ms, t_start, t_stop)
    if sig.ndim != 1:
        raise InvalidArgumentError(f"detect_oscillations takes one signal, got dims {sig.dims}: "
                                   "select or average the columns first")
    if st is not None and not st.counts.sum():
        raise InvalidArgumentError("no spikes in the window: nothing to detect")
    if np.ptp(sig.values) == 0:
        raise InvalidArgumentError("the signal is constant: it has no spectrum to test")
    spec = power_spectrum(sig, segment_ms=segment_ms)
    dt = float(sig.attrs["dt"])
    nper = int(round(spec.attrs["segment_ms"] / dt))
    f = spec["frequency"].values
    if f_hi > f[-1] + 1e-9:
        raise InvalidArgumentError(
            f"f_max ({f_hi:g} Hz) is above the Nyquist frequency ({f[-1]:g} Hz):"
            " use a smaller bin_ms / dt or a lower f_max")
    band = (f >= f_lo) & (f <= f_hi)
    if not band.any():
        raise InvalidArgumentError(f"no frequency bin in [{f_lo:g}, {f_hi:g}] Hz at "
                                   f"{spec.attrs['frequency_resolution']:g} Hz resolution")
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    rng = np.random.default_rng(int(seed))
    observed = spec.values[band]
    k_peak = int(np.argmax(observed))
    peak = float(observed[k_peak])
    maxima = np.empty(n_surrogates)
    mean_spec = np.zeros(f.size)
    batch = max(1, min(n_surrogates, 2_000_000 // max(sig.size, 1)))
    for s0 in range(0, n_surrogates, batch):
        nb = min(batch, n_surrogates - s0)
        if st is not None:
            times, idx = _isi_surrogates(st, nb, rng)
            x = _binned_rate(times, idx, nb, st, float(bin_ms))
        else:
            x = rng.permuted(np.broadcast_to(sig.values, (nb, sig.size)), axis=1)
        _, ps = _welch(x, dt, nper, axis=1)
        maxima[s0:s0 + nb] = ps[:, band].max(axis=1)
        mean_spec += ps.sum(axis=0)
    p = (1.0 + np.count_nonzero(maxima >= peak)) / (1.0 + n_surrogates)
    units = spec.attrs["units"]
    freq = spec["frequency"]
    return xr.Dataset(
        {"peak_frequency": named(float(f[band][k_peak]), name="peak_frequency", units="Hz",
                                 long_name="frequency of the largest spectral peak"),
         "peak_power": named(peak, name="peak_power", units=units,
                             long_name="power spectral density at the peak"),
         "threshold": named(float(np.quantile(maxima, 1.0 - alpha)), name="threshold",
                            units=units, long_name="1 - alpha quantile of the surrogate "
                            "peak maxima"),
         "p_value": named(p, name="p_value", units="1",
                          long_name="surrogate p-value of the peak"),
         "significant": named(int(p < alpha), name="significant", units="1",
                              long_name="1 if p_value < alpha"),
         "power_spectrum": spec,
         "surrogate_mean": named(mean_spec / n_surrogates, name="surrogate_mean", units=units,
                                 long_name="mean spectrum of the surrogates",
                                 dims=("frequency",), coords={"frequency": freq})},
        attrs={"seed": int(seed), "n_surrogates": n_surrogates, "alpha": alpha,
               "f_min": f_lo, "f_max": f_hi,
               "surrogate": "ISI shuffle" if st is not None else "time shuffle"})
