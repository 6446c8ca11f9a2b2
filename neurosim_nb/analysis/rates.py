"""Firing rates from the ragged spike list: binned, kernel-smoothed and a dense raster.

Binned functions count spikes in consecutive bins ``(t_start + k h, t_start + (k+1) h]`` of
width ``h = bin_ms``; a spike stamped exactly at a bin's end (spikes are stamped at step ends)
counts in that bin, and a last partial bin shorter than ``h`` is dropped.

The kernel rate of neuron :math:`i` is

.. math:: r_i(t) = 1000 \\sum_k K(t - t_k^i) \\quad \\text{(Hz, times in ms)},

with a kernel :math:`K` (1/ms) of unit integral, so the time average of :math:`r_i` equals
count / duration away from the edges (Dayan & Abbott, *Theoretical Neuroscience*, ch. 1.2).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import xarray as xr
from scipy.special import ndtr

from neurosim_nb.analysis._input import SpikeTrains, as_spike_trains, positive
from neurosim_nb.analysis._input import n_bins as count_bins
from neurosim_nb.errors import InvalidArgumentError

_EPS = 1e-9  # ms: spike times are step ends computed in floating point


def _edges(st: SpikeTrains, bin_ms: float, name: str = "bin_ms") -> np.ndarray:
    n_bins = count_bins(st.duration, bin_ms, name, rows=st.n)
    if n_bins < 1:
        raise InvalidArgumentError(f"{name} ({bin_ms} ms) is longer than the recording "
                                   f"({st.duration} ms): pass {name} <= {st.duration}")
    return st.t_start + np.arange(n_bins + 1) * bin_ms


def _time_coord(edges: np.ndarray) -> tuple:
    return ("time", 0.5 * (edges[1:] + edges[:-1]), {"units": "ms", "long_name": "bin centre"})


def _coords(st: SpikeTrains, edges: np.ndarray) -> dict:
    coords = {"time": _time_coord(edges),
              "neuron": ("neuron", st.neuron, {"long_name": "neuron id"})}
    if st.population is not None:
        coords["population"] = ("neuron", st.population, {"long_name": "population label"})
    return coords


def spike_raster(data, bin_ms: float | None = None, *, t_start: float | None = None,
                 t_stop: float | None = None) -> xr.DataArray:
    """Dense spike counts per bin and neuron: the ``(time, neuron)`` view of the spike list.

    Parameters
    ----------
    data : xarray.Dataset or array_like or sequence of array_like
        A result Dataset, or spike times (ms) of one neuron or of each neuron.
    bin_ms : float, optional
        Bin width (ms); default the Dataset's ``dt`` (one bin per time step).
    t_start, t_stop : float, optional
        Observation window (ms); arrays need ``t_stop`` (see ``as_spike_trains``).

    Returns
    -------
    xarray.DataArray
        ``spike_count`` (int64), dims ``(time, neuron)``, units ``"1"``; ``time`` is the bin
        centre (ms). Memory is ``8 * n_bins * n_neurons`` bytes.

    Raises
    ------
    ValueError
        ``bin_ms`` not finite and > 0, missing for arrays, or longer than the recording.

    Examples
    --------
    >>> r = spike_raster([[1.0, 1.5, 7.0], [4.0]], bin_ms=2.0, t_stop=8.0)
    >>> r.values.tolist()
    [[2, 0], [0, 1], [0, 0], [1, 0]]
    >>> r.time.values.tolist()
    [1.0, 3.0, 5.0, 7.0]
    """
    if bin_ms is None:
        if not isinstance(data, xr.Dataset) or "dt" not in data.attrs:
            raise InvalidArgumentError(
                "pass bin_ms (ms): only a result Dataset has a default (its dt)")
        bin_ms = data.attrs["dt"]
    bin_ms = positive("bin_ms", bin_ms)
    st = as_spike_trains(data, t_start=t_start, t_stop=t_stop)
    edges = _edges(st, bin_ms)
    n_bins = edges.size - 1
    times, pos = st.flat()
    k = np.searchsorted(edges, times - _EPS, side="left") - 1  # (e_k, e_k+1] -> k
    keep = (k >= 0) & (k < n_bins)
    flat = np.bincount(k[keep] * st.n + pos[keep], minlength=n_bins * st.n)
    return xr.DataArray(
        flat.reshape(n_bins, st.n).astype(np.int64), dims=("time", "neuron"),
        coords=_coords(st, edges), name="spike_count",
        attrs={"units": "1", "long_name": "spike count per bin", "bin_ms": bin_ms},
    )


def firing_rate(data, bin_ms: float = 100.0, *, t_start: float | None = None,
                t_stop: float | None = None) -> xr.DataArray:
    """Firing rate of every neuron in consecutive bins of ``bin_ms`` (Hz).

    A spike stamped exactly at a bin's end (spikes are stamped at step ends) counts in
    that bin; a last partial bin shorter than ``bin_ms`` is dropped.

    Parameters
    ----------
    data : xarray.Dataset or array_like or sequence of array_like
        A result Dataset, or spike times (ms) of one neuron or of each neuron.
    bin_ms : float
        Bin width (ms), at most the recording's duration.
    t_start, t_stop : float, optional
        Observation window (ms); arrays need ``t_stop``.

    Returns
    -------
    xarray.DataArray
        ``firing_rate`` with dims ``(time, neuron)``; ``time`` is the bin centre (ms),
        ``neuron`` runs over all ``n_neurons`` of the run (silent ones included).

    Raises
    ------
    ValueError
        ``bin_ms`` not finite and > 0, or longer than the recording.

    Examples
    --------
    >>> fr = firing_rate([[10.0, 20.0, 150.0], [30.0]], bin_ms=100.0, t_stop=200.0)
    >>> fr.values.tolist(), fr.attrs["units"]
    ([[20.0, 10.0], [10.0, 0.0]], 'Hz')
    """
    counts = spike_raster(data, positive("bin_ms", bin_ms), t_start=t_start, t_stop=t_stop)
    width_s = counts.attrs["bin_ms"] / 1000.0
    if not (width_s > 0 and np.isfinite(1.0 / width_s)):  # 5e-324 ms / 1000 is 0: 0/0
        raise InvalidArgumentError(f"bin_ms = {bin_ms!r} ms is too short for a rate in Hz "
                                   "(1000 / bin_ms overflows)")
    out = counts / width_s
    out.name = "firing_rate"
    out.attrs = {"units": "Hz", "long_name": "firing rate", "bin_ms": counts.attrs["bin_ms"]}
    return out


def population_rate(data, bin_ms: float = 10.0, *, t_start: float | None = None,
                    t_stop: float | None = None) -> xr.DataArray:
    """Mean firing rate per neuron of the whole population in bins of ``bin_ms`` (Hz).

    Parameters
    ----------
    data, bin_ms, t_start, t_stop
        As in :func:`firing_rate`.

    Returns
    -------
    xarray.DataArray
        ``population_rate`` along ``time`` (bin centres, ms): spikes of all neurons per bin
        divided by the bin width and the number of neurons (silent ones included).

    Examples
    --------
    >>> pr = population_rate([[10.0, 20.0], [30.0], []], bin_ms=50.0, t_stop=100.0)
    >>> pr.values.tolist(), pr.attrs["units"]
    ([20.0, 0.0], 'Hz')
    """
    fr = firing_rate(data, bin_ms, t_start=t_start, t_stop=t_stop)
    if fr.sizes["neuron"] == 0:
        raise InvalidArgumentError("population_rate needs at least one neuron (a rate per "
                                   "neuron of no neurons is undefined), got none")
    out = fr.mean("neuron")
    out.name = "population_rate"
    out.attrs = {"units": "Hz", "long_name": "population firing rate per neuron",
                 "bin_ms": fr.attrs["bin_ms"]}
    return out


def _kernel_cdf(kernel: str, sigma: float):
    """Support ``(lo, hi)`` (ms) and CDF of a unit-integral kernel with standard deviation sigma."""
    if kernel == "gaussian":
        # truncated at 8 sigma: the mass outside is 1.2e-15
        return -8.0 * sigma, 8.0 * sigma, lambda u: ndtr(u / sigma)
    if kernel == "exponential":
        # causal exp(-u/tau)/tau with tau = sigma, truncated at 36 tau (mass outside 2.3e-16)
        return 0.0, 36.0 * sigma, lambda u: -np.expm1(-np.clip(u, 0.0, None) / sigma)
    if kernel == "boxcar":
        half = np.sqrt(3.0) * sigma  # a centred box of width 2 sqrt(3) sigma has std sigma
        return -half, half, lambda u: np.clip((u + half) / (2.0 * half), 0.0, 1.0)
    raise InvalidArgumentError(
        f"kernel must be 'gaussian', 'exponential' or 'boxcar', got {kernel!r}")


#: the longest kernel of :func:`instantaneous_rate` (ms): its support (36 sigma for the
#: exponential) and width (2 sqrt(3) sigma, boxcar) stay finite doubles
MAX_SIGMA_MS = 1e300


def instantaneous_rate(data, sigma_ms: float = 10.0,
                       kernel: Literal["gaussian", "exponential", "boxcar"] = "gaussian",
                       sampling_ms: float = 1.0, *, t_start: float | None = None,
                       t_stop: float | None = None) -> xr.DataArray:
    """Kernel-smoothed firing rate of every neuron on a regular time grid (Hz).

    Each spike is replaced by a kernel of unit integral and standard deviation ``sigma_ms``
    (as in Elephant, every kernel is parametrised by its standard deviation):

    - ``"gaussian"``: normal density, truncated at 8 sigma;
    - ``"exponential"``: causal :math:`e^{-u/\\tau}/\\tau` for :math:`u \\ge 0`, ``tau = sigma``;
    - ``"boxcar"``: centred rectangle of width :math:`2\\sqrt{3}\\,\\sigma`.

    The value at grid time :math:`t_j` is the mean of the smoothed rate over the sampling bin
    :math:`(t_j - h/2, t_j + h/2]` (``h = sampling_ms``), computed exactly from the kernel's
    CDF. So ``rate.sum("time") * h / 1000`` equals each neuron's spike count whenever its
    kernels lie inside the window, and for ``h << sigma`` the values equal the pointwise rate
    to a relative error :math:`O(h^2/\\sigma^2)` (a smooth kernel).

    Edges: no border correction (as Elephant's default). Kernel mass falling outside
    ``(t_start, t_stop]`` is dropped, so within about ``3 sigma`` of either edge the rate is
    biased low (by up to half for a Gaussian at the edge itself). A ``sigma_ms`` longer than
    the recording is allowed but mostly measures this loss.

    Parameters
    ----------
    data : xarray.Dataset or array_like or sequence of array_like
        A result Dataset, or spike times (ms) of one neuron or of each neuron.
    sigma_ms : float
        Kernel standard deviation (ms), > 0.
    kernel : {"gaussian", "exponential", "boxcar"}
        Kernel shape.
    sampling_ms : float
        Grid spacing (ms), at most the recording's duration; a last partial bin is dropped.
    t_start, t_stop : float, optional
        Observation window (ms); arrays need ``t_stop``.

    Returns
    -------
    xarray.DataArray
        ``instantaneous_rate``, dims ``(time, neuron)``, units Hz; ``time`` holds the
        sampling-bin centres (ms). Attrs ``sigma_ms``, ``kernel``, ``sampling_ms``.

    Raises
    ------
    ValueError
        Unknown kernel, ``sigma_ms`` or ``sampling_ms`` not finite and > 0, ``sigma_ms``
        above ``MAX_SIGMA_MS`` (1e300), ``sampling_ms`` longer than the recording.

    Examples
    --------
    >>> r = instantaneous_rate([np.array([50.0])], sigma_ms=5.0, sampling_ms=1.0, t_stop=100.0)
    >>> round(float(r.sum()) * 1.0 / 1000.0, 9)  # one spike, whose kernel lies in the window
    1.0
    >>> round(float(r.sel(time=50.5, neuron=0)), 2)  # 1000 * normal pdf (sigma 5 ms) over (50, 51]
    79.26
    """
    sigma = positive("sigma_ms", sigma_ms)
    if sigma > MAX_SIGMA_MS:  # (its support, 36 sigma for the exponential, must be finite)
        raise InvalidArgumentError(f"instantaneous_rate: sigma_ms must be at most "
                                   f"{MAX_SIGMA_MS:g} ms, got {sigma_ms!r}")
    h = positive("sampling_ms", sampling_ms)
    lo, hi, cdf = _kernel_cdf(kernel, sigma)
    st = as_spike_trains(data, t_start=t_start, t_stop=t_stop)
    edges = _edges(st, h, "sampling_ms")
    n_bins = edges.size - 1
    times, pos = st.flat()
    acc = np.zeros(st.n * n_bins)  # neuron-major; spikes come grouped by neuron
    # bins a kernel's support can touch (a float first: sigma / sampling may overflow)
    m = int(min(np.ceil((hi - lo) / h) + 2, n_bins))
    chunk = max(1, 2**22 // m)  # bound memory: chunk * m doubles per step
    for c in range(0, times.size, chunk):
        s, p = times[c:c + chunk], pos[c:c + chunk]
        first = np.clip(np.searchsorted(edges, s + lo, side="right") - 2, 0, n_bins - 1)
        k = first[:, None] + np.arange(m + 1)[None, :]  # the m + 1 edges of m bins
        with np.errstate(over="ignore"):  # u / sigma = +-inf for a sigma near 1e-308: the
            # CDF's limits 0 and 1 are exact (the kernel of a spike is within one bin)
            w = np.diff(cdf(edges[np.minimum(k, n_bins)] - s[:, None]), axis=1)  # 0 past end
        lo_row = p[0] * n_bins
        idx = (p[:, None] * n_bins + np.minimum(k[:, :-1], n_bins - 1)) - lo_row
        part = np.bincount(idx.ravel(), weights=w.ravel())
        acc[lo_row:lo_row + part.size] += part
    rate = acc.reshape(st.n, n_bins).T * (1000.0 / h)
    return xr.DataArray(
        rate, dims=("time", "neuron"), coords=_coords(st, edges), name="instantaneous_rate",
        attrs={"units": "Hz", "long_name": f"{kernel}-kernel firing rate",
               "sigma_ms": sigma, "kernel": kernel, "sampling_ms": h},
    )
