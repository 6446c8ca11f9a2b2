r"""Phase synchrony of spike trains and signals (the seed's ``PhaseSync``).

* :func:`spike_phases` -- the phase of each neuron between its spikes: it grows linearly by
  :math:`2\pi` from one spike to the next, :math:`\theta_j(t) = 2\pi (t - t_k)/(t_{k+1} - t_k)`
  for :math:`t_k \le t < t_{k+1}` (Pikovsky, Rosenblum & Kurths 2001, ch. 6; Kreuz et al.
  2007); undefined (NaN) before a neuron's first and after its last spike.
* :func:`phase_at_spikes` -- the phase of a reference signal (e.g. an LFP) at each spike.
* :func:`phase_locking_value` -- :math:`\mathrm{PLV} = |\langle e^{i(\phi_a - \phi_b)}\rangle|`
  (Lachaux et al. 1999), of phases or of signals (Hilbert phases).
* :func:`kuramoto_order` -- :math:`R(t) = |\frac{1}{N}\sum_j e^{i\theta_j(t)}|` (Kuramoto 1984).
* :func:`sttc` and :func:`sttc_matrix` -- the spike time tiling coefficient (Cutts & Eglen 2014).

All results are dimensionless (``units = "1"``); phases are in rad in :math:`[0, 2\pi)`.

References
----------
Cutts CS, Eglen SJ (2014) Detecting pairwise correlations in spike trains: an objective
comparison of methods and application to the study of retinal waves. J Neurosci 34:14288-14303.

Kreuz T, Haas JS, Morelli A, Abarbanel HDI, Politi A (2007) Measuring spike train
synchrony. J Neurosci Methods 165:151-161.

Kuramoto Y (1984) Chemical Oscillations, Waves, and Turbulence. Springer.

Lachaux JP, Rodriguez E, Martinerie J, Varela FJ (1999) Measuring phase synchrony in brain
signals. Hum Brain Mapp 8:194-208.

Pikovsky A, Rosenblum M, Kurths J (2001) Synchronization: A Universal Concept in Nonlinear
Sciences. Cambridge University Press.

Examples
--------
>>> trains = [np.arange(10.0, 101.0, 10.0)] * 3           # three identical 100 Hz trains
>>> float(kuramoto_order(trains, t_stop=100.0).attrs["mean"])
1.0
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import xarray as xr
from scipy.signal import hilbert

from neurosim_nb.analysis._input import (
    SpikeTrains,
    _times,
    as_signal,
    as_spike_trains,
    float_array,
    integer,
    is_spike_data,
    n_bins,
    named,
    positive,
)
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError

__all__ = ["spike_phases", "phase_at_spikes", "phase_locking_value", "kuramoto_order", "sttc",
           "sttc_matrix"]

TWO_PI = 2.0 * np.pi


# -- inputs ------------------------------------------------------------------------------




def _grid(st: SpikeTrains, dt_ms) -> np.ndarray:
    """Sample times ``t_start + k dt`` (k = 1, 2, ...) up to ``t_stop`` (ms)."""
    dt = positive("dt_ms", dt_ms)
    n = n_bins(st.duration, dt, "dt_ms", rows=st.n)
    if n < 1:
        raise InvalidArgumentError(f"dt_ms ({dt} ms) is longer than the window ({st.duration} ms)")
    return st.t_start + (np.arange(n) + 1) * dt


def _interpolated_phases(trains, times: np.ndarray) -> np.ndarray:
    """(time, neuron) phases in [0, 2 pi), NaN outside each neuron's first..last spike."""
    out = np.full((times.size, len(trains)), np.nan)
    for j, train in enumerate(trains):
        tr = np.unique(train)  # a duplicate spike time would be an ISI of 0
        if tr.size < 2:
            continue
        k = np.clip(np.searchsorted(tr, times, side="right") - 1, 0, tr.size - 2)
        frac = (times - tr[k]) / (tr[k + 1] - tr[k])
        ok = (times >= tr[0]) & (times <= tr[-1])
        out[ok, j] = np.mod(TWO_PI * frac[ok], TWO_PI)
    return out


def _hilbert_phase(values: np.ndarray) -> np.ndarray:
    """Instantaneous phase (rad, [0, 2 pi)) of each column, mean removed first."""
    centred = values - values.mean(axis=0, keepdims=True)
    return np.mod(np.angle(hilbert(centred, axis=0)), TWO_PI)


def _phase_coords(times: np.ndarray) -> dict:
    return {"time": ("time", times, {"units": "ms", "long_name": "time"})}


# -- phases ------------------------------------------------------------------------------
def spike_phases(spikes, *, dt_ms: float = 1.0, t_start: float | None = None,
                 t_stop: float | None = None) -> xr.DataArray:
    r"""Phase of each neuron, growing linearly by :math:`2\pi` from one spike to the next.

    :math:`\theta_j(t) = 2\pi (t - t_k)/(t_{k+1} - t_k)` for :math:`t_k \le t < t_{k+1}`
    (taken modulo :math:`2\pi`), the standard phase of a spiking oscillator (Pikovsky et al.
    2001). It is **undefined -- NaN -- before a neuron's first and after its last spike**, and
    for all times when a neuron has fewer than two spikes.

    Parameters
    ----------
    spikes : xarray.Dataset or sequence of array_like
        A result Dataset or the spike times (ms) of each neuron (then ``t_stop`` is needed).
    dt_ms : float
        Sampling interval of the phases (ms); samples at ``t_start + dt_ms, t_start + 2 dt_ms,
        ...`` up to ``t_stop``.
    t_start, t_stop : float, optional
        Window (ms); a Dataset defaults to ``(0, duration]``.

    Returns
    -------
    xarray.DataArray
        ``spike_phase`` (time, neuron) in rad, in :math:`[0, 2\pi)`, NaN where undefined.

    Raises
    ------
    ValueError
        ``dt_ms`` not > 0 or longer than the window, a window past the recording, bad times.

    Examples
    --------
    >>> ph = spike_phases([[10.0, 20.0]], dt_ms=5.0, t_stop=25.0)
    >>> np.round(ph.values[:, 0], 4).tolist()
    [nan, 0.0, 3.1416, 0.0, nan]
    """
    st = as_spike_trains(spikes, t_start=t_start, t_stop=t_stop)
    times = _grid(st, dt_ms)
    return named(_interpolated_phases(st.trains, times), name="spike_phase", units="rad",
                 long_name="spike phase (linear between spikes)", dims=("time", "neuron"),
                 coords={**_phase_coords(times), **st.neuron_coord()},
                 attrs={"dt_ms": float(dt_ms)})


def phase_at_spikes(spikes, signal, *, dt_ms: float | None = None) -> xr.DataArray:
    r"""Phase of a reference signal at every spike (spike-field phase locking).

    The phase is that of the analytic signal (Hilbert transform of the signal minus its
    mean), linearly interpolated (unwrapped) at each spike time. It is only meaningful for a
    narrow-band signal: band-pass filter a broadband LFP first. Spikes outside the signal's
    time range are left out. The :func:`phase_locking_value` of the result (``phases_b =
    None``) is the spike-field PLV.

    Parameters
    ----------
    spikes : xarray.Dataset or sequence of array_like
        A result Dataset or the spike times (ms) of each neuron.
    signal : xarray.DataArray or array_like
        One reference signal along ``time`` (see :func:`~neurosim_nb.analysis._input.as_signal`).
    dt_ms : float, optional
        Sampling interval (ms) of an array signal.

    Returns
    -------
    xarray.DataArray
        ``spike_phase`` along ``spike`` (rad, [0, 2 pi)), coords ``spike_time`` and ``neuron``.

    Raises
    ------
    ValueError
        A signal with NaN, more than one column or fewer than two samples.

    Examples
    --------
    >>> t = np.arange(1, 1001) * 1.0                    # 1 s at 1 ms
    >>> lfp = np.cos(2 * np.pi * 10 * t / 1000)          # 10 Hz, peaks at 100, 200, ... ms
    >>> ph = phase_at_spikes([[300.0, 500.0]], lfp, dt_ms=1.0)
    >>> np.round(ph.values, 2).tolist()
    [0.0, 0.0]
    """
    sig = as_signal(signal, dt=dt_ms, name="signal")
    if sig.ndim != 1:
        raise InvalidArgumentError(f"signal must be one signal along time, got dims {sig.dims}")
    t = np.asarray(sig["time"].values, dtype=float)
    phase = np.unwrap(_hilbert_phase(sig.values[:, None])[:, 0])
    t_stop = None if isinstance(spikes, xr.Dataset) else float(t[-1])
    st = as_spike_trains(spikes, t_stop=t_stop)
    ids = np.concatenate([np.full(tr.size, n) for tr, n in zip(st.trains, st.neuron,
                                                                 strict=True)] or [[]])
    times = np.concatenate(list(st.trains) or [[]])
    keep = (times >= t[0]) & (times <= t[-1])
    times, ids = times[keep], ids[keep].astype(np.int64)
    order = np.argsort(times, kind="stable")
    times, ids = times[order], ids[order]
    values = np.mod(np.interp(times, t, phase), TWO_PI)
    return named(values, name="spike_phase", units="rad", long_name="phase of the signal at "
                 "the spike", dims=("spike",),
                 coords={"spike_time": ("spike", times, {"units": "ms"}),
                         "neuron": ("spike", ids)})


# -- phase locking -----------------------------------------------------------------------
def _as_phase_array(x, kind: str, dt_ms, name: str, dims=None) -> xr.DataArray:
    """Phases as a DataArray; an array gets ``dims`` (those of the other argument when it
    is a DataArray, so that the two broadcast by position) or ``sample, dim_1, ...``."""
    if isinstance(x, xr.Dataset):
        raise ArgumentTypeError(f"{name} must be phases or a signal (a DataArray or array), got a "
                                "Dataset")
    if not isinstance(x, xr.DataArray):
        values = float_array(name, x)
        if values.ndim == 0:
            raise InvalidArgumentError(f"{name} must have at least one axis (samples)")
        if dims is not None and len(dims) != values.ndim:
            raise InvalidArgumentError(
                f"{name} has {values.ndim} axes, the other phases {len(dims)}")
        x = xr.DataArray(values, dims=dims or ("time" if kind == "signal" else "sample",) + tuple(
            f"dim_{k}" for k in range(1, values.ndim)))
    if kind == "signal":
        dt = dt_ms if dt_ms is not None or "time" in x.coords else 1.0  # dt: no effect
        sig = as_signal(x, dt=dt, name=name)
        phase = _hilbert_phase(sig.values.reshape(sig.sizes["time"], -1)).reshape(sig.shape)
        return sig.copy(data=phase)
    da = x.astype(float)
    if np.isinf(da.values).any():
        raise InvalidArgumentError(f"{name} has infinite values")
    return da


def phase_locking_value(phases_a, phases_b=None, *, kind: Literal["phase", "signal"] = "phase",
                        dim: str | None = None, dt_ms: float | None = None,
                        nan_policy: Literal["raise", "omit"] = "raise") -> xr.DataArray:
    r"""Phase locking value :math:`|\frac{1}{n}\sum_k e^{i(\phi_a(k) - \phi_b(k))}|`.

    1 for a constant phase difference, about :math:`\sqrt{\pi/(4n)}` for independent
    uniform phases (Lachaux et al. 1999). With ``phases_b = None`` the phases are taken
    relative to a fixed reference (e.g. :func:`phase_at_spikes`, or phase differences).

    Parameters
    ----------
    phases_a, phases_b : xarray.DataArray or array_like
        Phases (rad), or signals with ``kind="signal"``: their phases are those of the
        analytic signal (Hilbert transform of the mean-removed signal along ``time``), which
        is only meaningful for narrow-band signals (band-pass filter first). DataArrays
        broadcast by dimension name; arrays must have the same shape (next to a DataArray,
        they take its dimensions by position).
    kind : {"phase", "signal"}
    dim : str, optional
        Dimension averaged over: default ``time`` if present, else ``spike``, else the first
        (``sample`` for arrays). Signals always use ``time``.
    dt_ms : float, optional
        Sampling interval of array signals (ms); it does not change the result.
    nan_policy : {"raise", "omit"}
        ``"omit"`` drops NaN phases (e.g. the undefined parts of :func:`spike_phases`); a
        series without any defined sample then gets NaN.

    Returns
    -------
    xarray.DataArray
        ``phase_locking_value`` (units ``"1"``) over the other dimensions; attr
        ``n_samples`` (the smallest number of samples averaged).

    Raises
    ------
    ValueError
        No samples, NaN with ``nan_policy="raise"``, NaN or too few samples in a signal,
        unknown ``kind``/``dim``/``nan_policy``.

    Examples
    --------
    >>> a = np.array([0.1, 1.0, 2.0, 3.0])
    >>> float(phase_locking_value(a, a + 0.5))          # constant difference
    1.0
    >>> round(float(phase_locking_value([0.0, np.pi])), 12)
    0.0
    """
    if kind not in ("phase", "signal"):
        raise InvalidArgumentError(f"kind must be 'phase' or 'signal', got {kind!r}")
    if nan_policy not in ("raise", "omit"):
        raise InvalidArgumentError(f"nan_policy must be 'raise' or 'omit', got {nan_policy!r}")
    b_dims = phases_b.dims if isinstance(phases_b, xr.DataArray) else None
    a = _as_phase_array(phases_a, kind, dt_ms, "phases_a", b_dims)
    diff = a
    if phases_b is not None:
        a_dims = a.dims if isinstance(phases_a, xr.DataArray) else None
        b = _as_phase_array(phases_b, kind, dt_ms, "phases_b", a_dims)
        if a_dims is None and b_dims is None and a.shape != b.shape:
            raise InvalidArgumentError(f"phases_a and phases_b have shapes {a.shape} and {b.shape}")
        if a_dims is None and b_dims is not None:  # an array next to a DataArray: by position
            a = a.drop_vars(list(a.coords))
        elif b_dims is None and a_dims is not None:
            b = b.drop_vars(list(b.coords))
        try:
            diff = a - b
        except ValueError as err:
            raise InvalidArgumentError(f"phases_a and phases_b do not broadcast: {err}") from None
    if dim is None:
        dim = "time" if "time" in diff.dims else "spike" if "spike" in diff.dims \
            else diff.dims[0] if diff.dims else None
    if dim not in diff.dims:
        raise InvalidArgumentError(f"dim {dim!r} is not a dimension of the phases {diff.dims}")
    if diff.sizes[dim] == 0:
        raise InvalidArgumentError("no phases: the phase locking value needs at least one sample")
    nan = np.isnan(diff.values)
    if nan.any() and nan_policy == "raise":
        raise InvalidArgumentError(f"{int(nan.sum())} phase(s) are NaN (e.g. outside the spikes of "
                                   "spike_phases): pass nan_policy='omit' or drop them")
    count = diff.notnull().sum(dim)
    z = np.exp(1j * diff)
    plv = np.abs(z.mean(dim, skipna=True))
    plv = plv.where(count > 0)
    return named(plv.values, name="phase_locking_value", units="1",
                 long_name="phase locking value", dims=plv.dims,
                 coords={k: v for k, v in plv.coords.items()},
                 attrs={"n_samples": int(count.min())})


def kuramoto_order(data, *, kind: Literal["spikes", "phase", "signal"] | None = None,
                   dt_ms: float = 1.0, t_start: float | None = None,
                   t_stop: float | None = None, min_neurons: int = 2) -> xr.DataArray:
    r"""Kuramoto order parameter :math:`R(t) = |\frac{1}{N(t)}\sum_j e^{i\theta_j(t)}|`.

    From spikes, :math:`\theta_j` is the linear phase of :func:`spike_phases` (:math:`2\pi`
    per inter-spike interval, **undefined before a neuron's first and after its last
    spike**); :math:`N(t)` counts the neurons whose phase is defined at :math:`t`, and
    :math:`R(t)` is NaN where fewer than ``min_neurons`` are. :math:`R = 1` for identical
    phases; for :math:`N` independent uniform phases :math:`E[R] \approx \sqrt{\pi/(4N)}`.

    Parameters
    ----------
    data : xarray.Dataset, sequence of array_like, xarray.DataArray or ndarray
        Spikes (a result Dataset or one array of times per neuron, ms); or phases (rad) /
        signals as (time, neuron) with ``kind="phase"`` / ``"signal"`` (Hilbert phases,
        meaningful for narrow-band signals). NaN phases count as undefined.
    kind : {"spikes", "phase", "signal"}, optional
        Default: spikes for a Dataset or a sequence of arrays, phases for a DataArray with
        ``units = "rad"``; otherwise it must be given.
    dt_ms : float
        Sampling interval of the phases from spikes, or of array phases/signals (ms).
    t_start, t_stop : float, optional
        Window for spikes (ms).
    min_neurons : int
        Fewest neurons with a defined phase for :math:`R(t)` to be defined (>= 1).

    Returns
    -------
    xarray.DataArray
        ``kuramoto_order`` (time), units ``"1"``, coordinate ``n_defined`` (time) and attr
        ``mean`` (the time average where defined).

    Raises
    ------
    ValueError
        No time at which ``min_neurons`` neurons have a defined phase (e.g. no spikes),
        ambiguous ``kind``, NaN in a signal, bad parameters.

    Examples
    --------
    >>> period = np.arange(10.0, 201.0, 10.0)
    >>> r = kuramoto_order([period, period + 5.0], t_stop=200.0)   # half a cycle apart
    >>> round(float(r.attrs["mean"]), 12)
    0.0
    """
    min_neurons = integer("min_neurons", min_neurons, 1)
    if kind is None:
        if is_spike_data(data):
            kind = "spikes"
        elif isinstance(data, xr.DataArray) and data.attrs.get("units") == "rad":
            kind = "phase"
        else:
            raise InvalidArgumentError("pass kind='phase' or kind='signal' for an array of (time, "
                                       "neuron) values")
    if kind == "spikes":
        phases = spike_phases(data, dt_ms=dt_ms, t_start=t_start, t_stop=t_stop)
    elif kind in ("phase", "signal"):
        if isinstance(data, xr.DataArray) and "time" in data.dims:
            da = data.transpose("time", ...)
        else:
            arr = np.asarray(data, dtype=float)
            if arr.ndim not in (1, 2):
                raise InvalidArgumentError(f"{kind}s must be (time, neuron), got shape {arr.shape}")
            da = xr.DataArray(arr.reshape(arr.shape[0], -1), dims=("time", "neuron"),
                              coords=_phase_coords((np.arange(arr.shape[0]) + 1)
                                                   * positive("dt_ms", dt_ms)))
        if da.ndim != 2:
            raise InvalidArgumentError(f"{kind}s must be (time, neuron), got dims {da.dims}")
        if kind == "signal":
            sig = as_signal(da, dt=None if "time" in da.coords else dt_ms, name="signal")
            phases = sig.copy(data=_hilbert_phase(sig.values))
        else:
            if np.isinf(da.values).any():
                raise InvalidArgumentError("phases have infinite values")
            phases = da
    else:
        raise InvalidArgumentError(f"kind must be 'spikes', 'phase' or 'signal', got {kind!r}")
    values = np.asarray(phases.values, dtype=float)
    defined = ~np.isnan(values)
    n_def = defined.sum(axis=1)
    z = np.where(defined, np.exp(1j * np.where(defined, values, 0.0)), 0.0).sum(axis=1)
    ok = n_def >= min_neurons
    if not ok.any():
        raise InvalidArgumentError(
            f"at no time do {min_neurons} neurons have a defined phase (a "
            "neuron's phase needs two spikes and exists between its first and "
            "last one)")
    r = np.full(values.shape[0], np.nan)
    r[ok] = np.abs(z[ok]) / n_def[ok]
    coords = {"time": phases["time"]} if "time" in phases.coords else {}
    coords["n_defined"] = ("time", n_def.astype(np.int64),
                           {"units": "1", "long_name": "neurons with a defined phase"})
    return named(r, name="kuramoto_order", units="1", long_name="Kuramoto order parameter",
                 dims=("time",), coords=coords,
                 attrs={"mean": float(np.mean(r[ok])), "min_neurons": int(min_neurons)})


# -- spike time tiling coefficient -------------------------------------------------------
def _tiled_fraction(train: np.ndarray, dt: float, t0: float, t1: float) -> float:
    """Fraction T of ``[t0, t1]`` within ``dt`` of a spike (union of the tiles)."""
    if train.size == 0:
        return 0.0
    lo = np.maximum(train - dt, t0)
    hi = np.minimum(train + dt, t1)  # non-decreasing: the train is sorted
    prev = np.concatenate([[t0], hi[:-1]])
    return float(np.sum(np.maximum(0.0, hi - np.maximum(lo, prev)))) / (t1 - t0)


def _close(a: np.ndarray, b: np.ndarray, dt: float) -> np.ndarray:
    """Whether each spike of ``a`` has a spike of ``b`` within ``[-dt, dt]`` (b sorted)."""
    if b.size == 0:
        return np.zeros(a.size, dtype=bool)
    idx = np.searchsorted(b, a)
    left = b[np.clip(idx - 1, 0, b.size - 1)]
    right = b[np.clip(idx, 0, b.size - 1)]
    return (np.abs(a - left) <= dt) | (np.abs(right - a) <= dt)


def _sttc_formula(pa, pb, ta, tb):
    """Cutts & Eglen's STTC; a half-term 0/0 (P T = 1) counts as 1, as in their C code."""
    pa, pb, ta, tb = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (pa, pb, ta, tb)))
    with np.errstate(divide="ignore", invalid="ignore"):
        h1 = np.where(pa * tb == 1.0, 1.0, (pa - tb) / (1.0 - pa * tb))
        h2 = np.where(pb * ta == 1.0, 1.0, (pb - ta) / (1.0 - pb * ta))
    return 0.5 * (h1 + h2)


def sttc(train_a, train_b, dt_ms: float = 5.0, t_start: float = 0.0,
         t_stop: float | None = None) -> xr.DataArray:
    r"""Spike time tiling coefficient of two spike trains (Cutts & Eglen 2014).

    .. math::

        \mathrm{STTC} = \frac12\left(\frac{P_A - T_B}{1 - P_A T_B}
                        + \frac{P_B - T_A}{1 - P_B T_A}\right)

    :math:`T_A`: fraction of the window within :math:`\pm\Delta t` of a spike of A;
    :math:`P_A`: fraction of A's spikes within :math:`\pm\Delta t` (inclusive) of a spike of
    B. 1 for identical trains, about 0 for independent ones, -1 for anti-correlated ones;
    symmetric. A half-term 0/0 (:math:`P_A T_B = 1`) counts as 1, as in the authors' C code
    and Elephant's ``sttc``.

    Parameters
    ----------
    train_a, train_b : array_like
        Spike times (ms).
    dt_ms : float
        Synchrony window :math:`\Delta t` (ms).
    t_start, t_stop : float
        Recording window (ms); ``t_stop`` is required (the last spike is not the end).

    Returns
    -------
    xarray.DataArray
        Scalar ``sttc`` (units ``"1"``).

    Raises
    ------
    ValueError
        A train without spikes in the window (the STTC is undefined), ``dt_ms`` not > 0,
        no ``t_stop``, times that are not finite.

    Examples
    --------
    >>> a = [1.3, 7.56, 15.87, 28.23, 30.9, 34.2, 38.2, 43.2]
    >>> b = [1.02, 2.71, 18.82, 28.46, 28.79, 43.6]
    >>> round(float(sttc(a, b, dt_ms=5.0, t_stop=50.0)), 9)    # Elephant's worked example
    0.495860166
    """
    dt = positive("dt_ms", dt_ms)
    pair = []
    for name, tr in (("train_a", train_a), ("train_b", train_b)):
        try:
            one = not isinstance(tr, xr.Dataset) and np.asarray(tr).ndim == 1
        except ValueError:  # a ragged nested list
            one = False
        if not one:
            raise ArgumentTypeError(
                f"{name} must be one array of spike times (ms); for all pairs of a "
                "Dataset use sttc_matrix")
        pair.append(_times(name, tr))
    st = as_spike_trains(pair, t_start=t_start, t_stop=t_stop)
    a, b = st.trains
    if a.size == 0 or b.size == 0:
        raise InvalidArgumentError(
            "the STTC is undefined for a spike train without spikes in the window")
    t0, t1 = st.t_start, st.t_stop
    value = _sttc_formula(_close(a, b, dt).mean(), _close(b, a, dt).mean(),
                          _tiled_fraction(a, dt, t0, t1), _tiled_fraction(b, dt, t0, t1))
    return named(float(value), name="sttc", units="1",
                 long_name="spike time tiling coefficient", attrs={"dt_ms": dt})


def sttc_matrix(spikes, dt_ms: float = 5.0, *, t_start: float | None = None,
                t_stop: float | None = None, neurons=None) -> xr.DataArray:
    """STTC (:func:`sttc`) of every pair of neurons.

    Cost: one binary search of all spikes per neuron, O(N S log S) for N neurons and S
    spikes (about 0.1 s for 400 neurons and 20 000 spikes).

    Parameters
    ----------
    spikes : xarray.Dataset or sequence of array_like
        A result Dataset or the spike times (ms) of each neuron (then ``t_stop`` is needed).
    dt_ms : float
        Synchrony window (ms).
    t_start, t_stop : float, optional
        Window (ms); a Dataset defaults to ``(0, duration]``.
    neurons : array_like of int, optional
        Neuron ids (Dataset) or positions (arrays) to include.

    Returns
    -------
    xarray.DataArray
        ``sttc`` (neuron_a, neuron_b), symmetric, 1 on the diagonal; **NaN in the rows and
        columns of neurons without spikes** (undefined).

    Raises
    ------
    ValueError
        ``dt_ms`` not > 0, a window past the recording, unknown neurons.

    Examples
    --------
    >>> m = sttc_matrix([[5.0, 50.0], [5.0, 50.0], [30.0]], dt_ms=1.0, t_stop=100.0)
    >>> np.round(m.values, 3).tolist()
    [[1.0, 1.0, -0.03], [1.0, 1.0, -0.03], [-0.03, -0.03, 1.0]]
    """
    dt = positive("dt_ms", dt_ms)
    st = as_spike_trains(spikes, t_start=t_start, t_stop=t_stop, neurons=neurons)
    n = st.n
    counts = st.counts
    pooled = np.concatenate(list(st.trains) or [np.zeros(0)])
    owner = np.repeat(np.arange(n), counts)
    close = np.zeros((n, n))  # close[a, b]: spikes of a within dt of a spike of b
    for b in range(n):
        if counts[b]:
            close[:, b] = np.bincount(owner, weights=_close(pooled, st.trains[b], dt),
                                      minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = close / counts[:, None]
    t = np.array([_tiled_fraction(tr, dt, st.t_start, st.t_stop) for tr in st.trains])
    m = _sttc_formula(p, p.T, t[:, None], t[None, :])
    silent = counts == 0
    m[silent, :] = np.nan
    m[:, silent] = np.nan
    ids = st.neuron
    return named(m, name="sttc", units="1", long_name="spike time tiling coefficient",
                 dims=("neuron_a", "neuron_b"),
                 coords={"neuron_a": ("neuron_a", ids), "neuron_b": ("neuron_b", ids)},
                 attrs={"dt_ms": dt, "n_silent": int(silent.sum())})
