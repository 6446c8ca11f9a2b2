"""Burst detection in spike trains by the max-interval method (NeuroExplorer).

The method (NeuroExplorer manual; described and compared with seven others by Cotterill
et al. 2016) runs in three phases on each neuron's spike train:

1. *Detection*: a burst starts at the first inter-spike interval (ISI) of at most
   ``max_begin_isi_ms`` and continues while the ISIs are at most ``max_end_isi_ms``; the
   first longer ISI ends it.
2. *Merging*: a burst starting less than ``min_ibi_ms`` after the end of the previous
   burst (the inter-burst interval, IBI) is merged into it (chains merge into one).
3. *Removal*: bursts shorter than ``min_burst_duration_ms`` or with fewer than
   ``min_spikes`` spikes are dropped.

This follows S. Eglen's reference implementation ``mi.find.bursts`` (R package sjemea, used
by Cotterill et al.), except that an ISI equal to ``max_begin_isi_ms`` starts a burst (the
NeuroExplorer / MC_Rack wording "less than or equal to"; sjemea uses "less than").

References
----------
Cotterill, Charlesworth, Thomas, Paulsen & Eglen (2016), "A comparison of computational
methods for detecting bursts in neuronal spike trains and their application to human
stem cell-derived neuronal networks", J. Neurophysiol. 116:306-321.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurosim_nb.analysis._input import _number, as_spike_trains, integer, positive
from neurosim_nb.errors import InvalidArgumentError


def _non_negative(name: str, value) -> float:
    v = _number(name, value, "ms")
    if not np.isfinite(v) or v < 0:
        raise InvalidArgumentError(f"{name} must be a finite number of ms >= 0, got {value!r}")
    return v


def _phase1(times: np.ndarray, pos: np.ndarray, beg: float, end: float):
    """First and last spike (pooled indices) of each phase-1 burst."""
    same = pos[1:] == pos[:-1]
    d = np.diff(times)
    inside = same & (d <= end)  # interval j joins spikes j and j + 1
    edges = np.diff(np.r_[0, inside.astype(np.int8), 0])
    run_first, run_last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    opening = np.flatnonzero(same & (d <= beg))  # inside a run, as beg <= end
    j = np.searchsorted(opening, run_first)
    has = j < opening.size
    has[has] = opening[j[has]] <= run_last[has]
    return opening[j[has]], run_last[has] + 1


def detect_bursts(data, max_begin_isi_ms: float = 170.0, max_end_isi_ms: float = 300.0,
                  min_ibi_ms: float = 200.0, min_burst_duration_ms: float = 10.0,
                  min_spikes: int = 3, *, t_start: float | None = None,
                  t_stop: float | None = None) -> xr.Dataset:
    """Bursts of every neuron by the max-interval method (see the module docstring).

    The defaults are the NeuroExplorer values used by Cotterill et al. (2016, Table 1):
    0.17 s, 0.3 s, 0.2 s, 0.01 s and 3 spikes. They suit slow bursting (e.g. retinal
    waves); scale them to the time scale of the bursts of your model.

    Parameters
    ----------
    data : xarray.Dataset or array_like or sequence of array_like
        A result Dataset, or spike times (ms) of one neuron or of each neuron.
    max_begin_isi_ms : float
        Largest ISI that starts a burst (ms), > 0.
    max_end_isi_ms : float
        Largest ISI inside a burst (ms), >= ``max_begin_isi_ms``.
    min_ibi_ms : float
        Bursts closer than this (last spike to first spike, ms) are merged; >= 0.
    min_burst_duration_ms : float
        Shortest burst kept, first to last spike (ms); >= 0.
    min_spikes : int
        Fewest spikes in a burst kept, >= 1 (a burst has at least two).
    t_start, t_stop : float, optional
        Only spikes in ``(t_start, t_stop]`` (ms); arrays default to all their spikes.

    Returns
    -------
    xarray.Dataset
        Along ``burst`` (by neuron, then time): coordinates ``neuron`` (and ``population``);
        variables ``start`` and ``end`` (first and last spike, ms), ``duration`` (ms),
        ``n_spikes`` and ``intra_burst_rate`` (Hz, ``(n_spikes - 1) / duration``, the
        inverse mean ISI in the burst; NaN for a zero duration). The parameters are attrs,
        with ``n_neurons``. Bursts per neuron, silent neurons included:
        ``np.bincount(b.neuron, minlength=b.attrs["n_neurons"])`` (ids ``0..n-1``).

    Raises
    ------
    ValueError
        A parameter negative or not finite, ``max_end_isi_ms < max_begin_isi_ms``,
        ``min_spikes < 1``.
    TypeError
        ``min_spikes`` not an integer.

    Examples
    --------
    >>> spikes = np.array([10.0, 12.0, 14.0, 16.0, 100.0, 200.0, 202.0, 204.0])
    >>> b = detect_bursts(spikes, max_begin_isi_ms=5.0, max_end_isi_ms=5.0, min_ibi_ms=20.0,
    ...                   min_burst_duration_ms=1.0, min_spikes=3)
    >>> b.start.values.tolist(), b.end.values.tolist(), b.n_spikes.values.tolist()
    ([10.0, 200.0], [16.0, 204.0], [4, 3])
    >>> b.intra_burst_rate.values.tolist()  # one spike every 2 ms
    [500.0, 500.0]
    """
    beg = positive("max_begin_isi_ms", max_begin_isi_ms)
    end = positive("max_end_isi_ms", max_end_isi_ms)
    if end < beg:
        raise InvalidArgumentError(f"max_end_isi_ms ({end}) must be >= max_begin_isi_ms ({beg})")
    min_ibi = _non_negative("min_ibi_ms", min_ibi_ms)
    min_dur = _non_negative("min_burst_duration_ms", min_burst_duration_ms)
    min_spikes = integer("min_spikes", min_spikes, 1)
    st = as_spike_trains(data, t_start=t_start, t_stop=t_stop, need_t_stop=False)
    times, pos = st.flat()

    first, last = _phase1(times, pos, beg, end)
    # phase 2: merge into the previous burst of the same neuron when the IBI < min_ibi
    merge = np.zeros(first.size, dtype=bool)
    merge[1:] = (pos[first[1:]] == pos[last[:-1]]) & (times[first[1:]] - times[last[:-1]]
                                                      < min_ibi)
    heads = np.flatnonzero(~merge)  # the first phase-1 burst of each merged group
    tails = np.r_[heads[1:] - 1, last.size - 1].astype(np.int64)[:heads.size]  # and last
    first, last = first[heads], last[tails]
    # phase 3: drop short bursts and bursts with few spikes
    n_spikes = last - first + 1
    duration = times[last] - times[first]
    keep = (n_spikes >= min_spikes) & (duration >= min_dur)
    first, last, n_spikes, duration = first[keep], last[keep], n_spikes[keep], duration[keep]
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(duration > 0, (n_spikes - 1) / duration * 1000.0, np.nan)

    owner = pos[first]
    coords = {"neuron": ("burst", st.neuron[owner], {"long_name": "neuron id"})}
    if st.population is not None:
        coords["population"] = ("burst", st.population[owner],
                                {"long_name": "population label"})
    ms = {"units": "ms"}
    return xr.Dataset(
        {"start": ("burst", times[first], {**ms, "long_name": "time of the first spike"}),
         "end": ("burst", times[last], {**ms, "long_name": "time of the last spike"}),
         "duration": ("burst", duration, {**ms, "long_name": "burst duration"}),
         "n_spikes": ("burst", n_spikes.astype(np.int64),
                      {"units": "1", "long_name": "spikes in the burst"}),
         "intra_burst_rate": ("burst", rate, {"units": "Hz",
                                              "long_name": "intra-burst firing rate"})},
        coords=coords,
        attrs={"long_name": "bursts (max-interval method)",
               "method": "max-interval (NeuroExplorer; Cotterill et al. 2016)",
               "max_begin_isi_ms": beg, "max_end_isi_ms": end, "min_ibi_ms": min_ibi,
               "min_burst_duration_ms": min_dur, "min_spikes": int(min_spikes),
               "n_neurons": st.n},
    )
