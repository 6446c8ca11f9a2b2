"""Shared input handling of the analysis functions: spike trains, signals, named results.

Every analysis function accepts a result Dataset (``spike_time``/``spike_neuron`` and the
``duration``/``n_neurons`` attrs) or plain arrays, turns it into one of the two forms below
and returns a named :class:`xarray.DataArray` / :class:`xarray.Dataset` with ``units`` and
``long_name``. Bad input raises :class:`ValueError` (or :class:`TypeError`) naming the
argument; nothing returns a silent NaN.

>>> st = as_spike_trains([[1.0, 5.0], [2.0]], t_stop=10.0)
>>> st.n, st.duration, st.trains[1].tolist()
(2, 10.0, [2.0])
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from neurosim_nb._validation import is_integer
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError, TooLargeError


@dataclass(frozen=True)
class SpikeTrains:
    """Spike trains of ``n`` neurons observed over ``(t_start, t_stop]`` (ms).

    Attributes
    ----------
    trains : tuple of numpy.ndarray
        Sorted spike times (ms) of each neuron, in the order of ``neuron``.
    neuron : numpy.ndarray
        Neuron ids (global ids of the Dataset, else 0..n-1).
    t_start, t_stop : float
        Observation window (ms); a spike at exactly ``t_stop`` counts (spikes are stamped at
        step ends), one at ``t_start`` does not.
    population : numpy.ndarray or None
        Population name of each neuron when the Dataset has a ``population`` coordinate.
    """

    trains: tuple[np.ndarray, ...]
    neuron: np.ndarray
    t_start: float
    t_stop: float
    population: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of neurons."""
        return len(self.trains)

    @property
    def duration(self) -> float:
        """Length of the observation window (ms)."""
        return self.t_stop - self.t_start

    @property
    def counts(self) -> np.ndarray:
        """Spike count of each neuron."""
        return np.array([t.size for t in self.trains], dtype=np.int64)

    def pooled(self) -> np.ndarray:
        """All spike times of all neurons, sorted (ms)."""
        if not self.trains:
            return np.zeros(0)
        return np.sort(np.concatenate(self.trains))

    def flat(self) -> tuple[np.ndarray, np.ndarray]:
        """All spike times (sorted per neuron, neurons in order) and each one's position in
        ``neuron`` (not its id)."""
        counts = self.counts
        if counts.sum() == 0:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        return np.concatenate(self.trains), np.repeat(np.arange(self.n), counts)

    def neuron_coord(self) -> dict:
        """Coordinates ``neuron`` (and ``population``) for a result along ``neuron``."""
        coords: dict = {"neuron": ("neuron", self.neuron)}
        if self.population is not None:
            coords["population"] = ("neuron", self.population)
        return coords


def _number(name: str, value, unit: str) -> float:
    """``value`` as a float: a real number (a numpy scalar is fine), not a bool or a string."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} must be a number ({unit}), got {value!r}")
    return float(value)


def _finite_time(name: str, value) -> float:
    v = _number(name, value, "ms")
    if not np.isfinite(v):
        raise InvalidArgumentError(f"{name} must be a finite number of ms, got {value!r}")
    return v


def positive(name: str, value, unit: str = "ms") -> float:
    """``value`` as a float: an :class:`~neurosim_nb.errors.ArgumentTypeError` unless a real
    number (bools and strings are not), an :class:`~neurosim_nb.errors.InvalidArgumentError`
    unless finite and > 0.

    >>> positive("bin_ms", 5)
    5.0
    >>> positive("bin_ms", "5")
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.ArgumentTypeError: bin_ms must be a number (ms), got '5'
    """
    v = _number(name, value, unit)
    if not np.isfinite(v) or v <= 0:
        raise InvalidArgumentError(f"{name} must be a finite number of {unit} > 0, got {value!r}")
    return v


def integer(name: str, value, lo: int | None = None, hi: int | None = None) -> int:
    """``value`` as an int (an integral float or numpy integer is fine, a bool is not) in
    ``[lo, hi]``; else an error naming ``name``.

    >>> integer("word_length", 8.0, 1)
    8
    >>> integer("word_length", 0, 1)
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.InvalidArgumentError: word_length must be an integer >= 1, got 0
    """
    if isinstance(value, np.floating):
        value = float(value)
    if not is_integer(value):
        raise ArgumentTypeError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        allowed = (f">= {lo}" if hi is None else f"<= {hi}" if lo is None
                   else f"in {lo}..{hi}")
        raise InvalidArgumentError(f"{name} must be an integer {allowed}, got {value!r}")
    return v


def require_variables(ds, names, func: str, how: str) -> None:
    """An error unless the Dataset ``ds`` holds every variable of ``names``: it names
    ``func``, the missing variables and ``how`` to record them.

    >>> require_variables(xr.Dataset(), ["V"], "lfp_proxy", "simulate(..., record=['V'])")
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.InvalidArgumentError: lfp_proxy needs the variable 'V' in the Dataset, \
which has none of it: record it with simulate(..., record=['V'])
    """
    if not isinstance(ds, xr.Dataset):
        raise ArgumentTypeError(f"{func} needs a result Dataset, got {type(ds).__name__}")
    missing = [v for v in names if v not in ds]
    if missing:
        which = ", ".join(repr(v) for v in missing)
        has = sorted(str(v) for v in ds.data_vars)
        raise InvalidArgumentError(
            f"{func} needs the variable{'s' if len(missing) > 1 else ''} {which} in the "
            f"Dataset, which has {', '.join(has) if has else 'none of it'}: record "
            f"{'them' if len(missing) > 1 else 'it'} with {how}")


def float_array(name: str, values) -> np.ndarray:
    """``values`` as a float array (any shape): an
    :class:`~neurosim_nb.errors.ArgumentTypeError` naming ``name`` unless it holds real
    numbers -- strings, bools, ``None`` and ragged lists are refused, not converted.

    >>> float_array("samples", [1, 2.5]).tolist()
    [1.0, 2.5]
    >>> float_array("samples", ["1", "2"])
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.ArgumentTypeError: samples must hold numbers, got dtype <U1
    """
    try:
        a = np.asarray(values)
    except ValueError:  # ragged
        raise ArgumentTypeError(f"{name} must be a regular array of numbers, got a ragged "
                                "nested list") from None
    if a.dtype == object:
        try:
            a = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise ArgumentTypeError(f"{name} must hold numbers, got {values!r:.80}") from None
    if a.size and a.dtype.kind not in "iuf":
        raise ArgumentTypeError(f"{name} must hold numbers, got dtype {a.dtype}")
    return a.astype(float)


def _times(name: str, values) -> np.ndarray:
    """Spike times as a float array: numbers only (not strings or bools), all finite."""
    a = np.asarray(values)
    if a.dtype == object:
        try:
            a = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise ArgumentTypeError(f"{name} must hold numbers (ms), got {values!r:.80}"
                                    ) from None
    if a.dtype.kind not in "iuf" or (a.dtype == object):
        raise ArgumentTypeError(f"{name} must hold numbers (ms), got dtype {a.dtype}")
    a = a.astype(float).ravel()
    if not np.all(np.isfinite(a)):
        raise InvalidArgumentError(f"{name} has a time that is not finite "
                                   f"({int((~np.isfinite(a)).sum())} of {a.size})")
    if a.size and np.abs(a).max() > MAX_TIME_MS:
        raise InvalidArgumentError(f"{name} has a time beyond +-{MAX_TIME_MS:g} ms (about 30 "
                                   f"years): {a[np.argmax(np.abs(a))]!r}; times are in ms")
    return a


def is_spike_data(data) -> bool:
    """True for a result Dataset, :class:`SpikeTrains` or a sequence of 1-D time arrays.

    >>> is_spike_data([[1.0, 2.0], [3.0]]), is_spike_data(np.zeros((10, 2)))
    (True, False)
    """
    if isinstance(data, xr.Dataset | SpikeTrains):
        return True
    if isinstance(data, list | tuple) and data and not isinstance(data[0], xr.DataArray):
        return all(np.ndim(d) == 1 for d in data)
    return False


def as_spike_trains(data, *, t_start: float | None = None, t_stop: float | None = None,
                    neurons=None, need_t_stop: bool = True) -> SpikeTrains:
    """Spike trains from a result Dataset, one array of times or a sequence of arrays.

    Parameters
    ----------
    data : xarray.Dataset, array_like or sequence of array_like
        A result Dataset (all ``n_neurons`` neurons, silent ones included), the spike
        times (ms) of one neuron, or one array of times per neuron.
    t_start, t_stop : float, optional
        Observation window (ms). A Dataset defaults to ``(0, duration]``; arrays default to
        ``t_start = 0`` and need ``t_stop`` (the last spike is not the end of a recording).
    neurons : array_like of int, optional
        Keep only these neuron ids (Dataset) or positions (arrays).
    need_t_stop : bool
        ``False`` for measures that do not depend on the window (intervals, bursts): arrays
        then use every spike unless ``t_start``/``t_stop`` are given.

    Raises
    ------
    ValueError
        Times that are not finite, a window with ``t_stop <= t_start``, a window beyond a
        Dataset's recording ``(0, duration]``, unknown neurons.

    Examples
    --------
    >>> st = as_spike_trains(np.array([3.0, 1.0]), t_stop=4.0)
    >>> st.trains[0].tolist(), st.neuron.tolist()
    ([1.0, 3.0], [0])
    """
    if isinstance(data, SpikeTrains):
        if t_start is None and t_stop is None and neurons is None:
            return data
        t_start = data.t_start if t_start is None else t_start
        t_stop = data.t_stop if t_stop is None else t_stop
        data = list(data.trains)
    population = None
    if not need_t_stop and not isinstance(data, xr.Dataset):
        big = float(np.finfo(float).max)
        t_start = -big if t_start is None else t_start
        t_stop = big if t_stop is None else t_stop
    if isinstance(data, xr.Dataset):
        for var in ("spike_time", "spike_neuron"):
            if var not in data:
                raise InvalidArgumentError(f"the Dataset has no {var!r}: pass a neurosim_nb result "
                                           "(or spike times as arrays)")
        times = np.asarray(data["spike_time"].values, dtype=float)
        ids = np.asarray(data["spike_neuron"].values, dtype=np.int64)
        n = int(data.attrs.get("n_neurons", data.sizes.get("neuron", 0)))
        if "neuron" in data.coords:
            neuron = np.asarray(data["neuron"].values, dtype=np.int64)
        else:
            neuron = np.arange(n, dtype=np.int64)
        if "population" in data.coords and data["population"].dims == ("neuron",):
            population = np.asarray(data["population"].values).astype(str)
        if neuron.size != n or (n and not np.array_equal(neuron, np.arange(n))):
            # only a subset of neurons in the coordinate: spikes are still global ids
            neuron = np.arange(n, dtype=np.int64)
            population = None
        duration = data.attrs.get("duration")
        if t_stop is None:
            if duration is None:
                raise InvalidArgumentError("the Dataset has no 'duration' attr: pass t_stop (ms)")
            t_stop = float(duration)
        elif duration is not None and _finite_time("t_stop", t_stop) > float(duration) + 1e-9:
            raise InvalidArgumentError(f"t_stop ({t_stop} ms) is after the end of the recording "
                                       f"({float(duration)} ms): rates over it would be too low")
        t_start = 0.0 if t_start is None else t_start
        if _finite_time("t_start", t_start) < 0:
            raise InvalidArgumentError(f"t_start ({t_start} ms) is before the recording (0 ms)")
        order = np.argsort(ids, kind="stable")
        ids_sorted, times_sorted = ids[order], times[order]
        bounds = np.searchsorted(ids_sorted, np.arange(n + 1))
        trains = [np.sort(times_sorted[bounds[i]:bounds[i + 1]]) for i in range(n)]
    else:
        if isinstance(data, np.ndarray) and data.dtype != object and data.ndim <= 1:
            raw = [data]
        elif isinstance(data, Sequence) and not isinstance(data, (str, bytes)) and (
                len(data) == 0 or np.ndim(data[0]) == 1 or isinstance(data[0], Sequence)):
            raw = list(data)
        elif isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
            raw = [data]
        else:
            raise ArgumentTypeError(
                "spike trains must be a result Dataset, an array of spike times "
                f"or a sequence of arrays, got {type(data).__name__}")
        trains = [np.sort(_times(f"spike train {k}", r)) for k, r in enumerate(raw)]
        neuron = np.arange(len(trains), dtype=np.int64)
        if t_stop is None:
            raise InvalidArgumentError(
                "pass t_stop (ms), the end of the recording: the last spike is "
                "not the end of a spike train")
        t_start = 0.0 if t_start is None else t_start
    t_start = _finite_time("t_start", t_start)
    t_stop = _finite_time("t_stop", t_stop)
    if t_stop <= t_start:
        raise InvalidArgumentError(f"t_stop ({t_stop} ms) must be after t_start ({t_start} ms)")
    trains = [t[(t > t_start) & (t <= t_stop)] for t in trains]
    if neurons is not None:
        sel = _neuron_ids(neurons)
        pos = np.searchsorted(neuron, sel)
        bad = (pos >= neuron.size) | (neuron[np.minimum(pos, max(neuron.size - 1, 0))] != sel
                                      if neuron.size else True)
        if np.any(bad):
            known = f"0..{neuron.size - 1}" if neuron.size else "none"
            raise InvalidArgumentError(
                f"neurons: unknown neuron id(s) {sel[bad][:5].tolist()}; the ids are {known}")
        trains = [trains[p] for p in pos]
        neuron = sel
        population = None if population is None else population[pos]
    return SpikeTrains(tuple(trains), neuron, t_start, t_stop, population)

def _neuron_ids(neurons) -> np.ndarray:
    """``neurons`` (an id or ids) as a 1-D int64 array; bools, strings, fractions refused."""
    a = np.atleast_1d(np.asarray(neurons))
    if a.dtype.kind == "f" and a.size and np.all(np.isfinite(a)) and np.all(a == np.round(a)):
        a = a.astype(np.int64)
    if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
        raise ArgumentTypeError(f"neurons must be neuron ids (integers), got {neurons!r:.80}")
    return a.astype(np.int64)


#: the largest spike time (ms) accepted in arrays: 1e12 ms is about 30 years; beyond, the
#: squares of intervals in variances lose all precision, then overflow (1e154 ms)
MAX_TIME_MS = 1e12

#: the most values (bins x rows) one binned array of an analysis may hold: 2**27 float64
#: values, 1 GiB; a finer bin or a longer window is refused before anything is allocated
MAX_BINNED_VALUES = 2**27


def n_bins(window_ms: float, width_ms: float, name: str = "bin_ms", rows: int = 1) -> int:
    """Whole bins of ``width_ms`` in a window of ``window_ms`` (ms; a bin that ends within
    1e-9 of the window's end counts); a :class:`~neurosim_nb.errors.TooLargeError` if
    ``rows`` arrays of that many values would exceed :data:`MAX_BINNED_VALUES`.

    >>> n_bins(10.0, 2.5)
    4
    >>> n_bins(1000.0, 1e-9, rows=3)
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.TooLargeError: bin_ms = 1e-09 ms over a window of 1000 ms gives \
1e+12 bins x 3 rows (2.2e+04 GiB of float64), more than the 1 GiB an analysis may \
allocate: use a larger bin_ms or a shorter window (t_start, t_stop)
    """
    count = float(np.floor(float(window_ms) / float(width_ms) + 1e-9))
    if not np.isfinite(count) or count * max(rows, 1) > MAX_BINNED_VALUES:
        gib = count * max(rows, 1) * 8 / 2**30
        raise TooLargeError(
            f"{name} = {width_ms:g} ms over a window of {window_ms:g} ms gives {count:.3g} "
            f"bins x {max(rows, 1)} rows ({gib:.2g} GiB of float64), more than the "
            f"{MAX_BINNED_VALUES * 8 / 2**30:g} GiB an analysis may allocate: use a larger "
            f"{name} or a shorter window (t_start, t_stop)")
    return int(count)


def bin_counts(trains, t_start: float, bin_ms: float, n_bins: int) -> np.ndarray:
    """Spike counts (train, bin) in bins ``(t_start + k bin, t_start + (k+1) bin]``.

    A spike stamped exactly at a bin's end (to 1e-9 bin) counts in that bin, as in
    :func:`~neurosim_nb.analysis.rates.firing_rate`; times are assumed > ``t_start``.

    >>> bin_counts([np.array([0.5, 1.0, 1.5])], 0.0, 1.0, 2).tolist()
    [[2, 1]]
    """
    counts = np.zeros((len(trains), n_bins), dtype=np.int64)
    for i, t in enumerate(trains):
        k = np.maximum(np.ceil((t - t_start) / bin_ms - 1e-9).astype(np.int64) - 1, 0)
        counts[i] = np.bincount(k[k < n_bins], minlength=n_bins)
    return counts


def spike_dataset(spike_times_ms, neuron_ids, n_neurons: int, duration_ms: float, *,
                  dt: float = 0.1, population=None, model: str = "external") -> xr.Dataset:
    """A result Dataset from spike lists recorded elsewhere, ready for ``ds.neuro``.

    Parameters
    ----------
    spike_times_ms, neuron_ids : array_like
        One entry per spike: its time in ``(0, duration_ms]`` (ms) and its neuron
        (``0 .. n_neurons - 1``); any order.
    n_neurons : int
        Number of neurons, silent ones included.
    duration_ms : float
        Length of the recording (ms).
    dt : float
        Time resolution (ms): the ``time`` coordinate runs over ``dt, 2 dt, ..., duration``.
    population : array_like of str, optional
        Population label of each neuron (coordinate ``population``).
    model : str
        What produced the spikes (attr ``model``).

    Returns
    -------
    xarray.Dataset
        Valid under :func:`neurosim_nb.schema.validate_dataset`.

    Examples
    --------
    >>> ds = spike_dataset([5.0, 1.0, 7.5], [1, 0, 1], n_neurons=3, duration_ms=10.0)
    >>> ds.spike_time.values.tolist(), ds.spike_neuron.values.tolist(), ds.sizes["neuron"]
    ([1.0, 5.0, 7.5], [0, 1, 1], 3)
    >>> ds.neuro.firing_rate(bin_ms=10.0).sum().item()   # 3 spikes in 10 ms
    300.0
    """
    from neurosim_nb._version import __version__

    t = float_array("spike_times_ms", spike_times_ms).ravel()
    ids = np.asarray(neuron_ids).ravel()
    if t.shape != ids.shape:
        raise InvalidArgumentError(f"{t.size} spike times but {ids.size} neuron ids")
    n = integer("n_neurons", n_neurons, 1, MAX_BINNED_VALUES)
    if ids.size and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0
                     or ids.max() >= n):
        raise InvalidArgumentError(f"neuron ids must be integers in 0..{n - 1}")
    duration = positive("duration_ms", duration_ms)
    dt = positive("dt", dt)
    if not np.all(np.isfinite(t)) or (t.size and (t.min() <= 0 or t.max() > duration + 1e-9)):
        raise InvalidArgumentError(f"spike times must be finite and in (0, {duration}] ms")
    order = np.lexsort((ids, t))
    n_bins(duration, dt, "dt")  # refuses a time axis too long to allocate
    n_steps = int(round(duration / dt))
    coords: dict = {"time": ("time", np.arange(1, n_steps + 1) * dt, {"units": "ms",
                                                                      "long_name": "time"}),
                    "neuron": ("neuron", np.arange(n), {"long_name": "neuron id"})}
    if population is not None:
        labels = np.asarray(population, dtype=object)
        if labels.shape != (n,):
            raise InvalidArgumentError(f"population needs one label per neuron ({n}), got "
                                       f"{labels.shape}")
        coords["population"] = ("neuron", labels, {"long_name": "population label"})
    return xr.Dataset(
        {"spike_time": ("spike", t[order], {"units": "ms", "long_name": "spike time"}),
         "spike_neuron": ("spike", ids[order].astype(np.int64),
                          {"units": "1", "long_name": "neuron of the spike"})},
        coords=coords,
        attrs={"Conventions": "CF-1.10", "model": model, "n_neurons": n, "dt": dt,
               "duration": duration, "seed": -1, "neurosim_nb_version": __version__,
               "params_json": "{}"})


def as_signal(signal, *, dt: float | None = None, name: str = "signal") -> xr.DataArray:
    """A regularly sampled signal as a DataArray with a ``time`` dimension first (ms).

    Parameters
    ----------
    signal : xarray.DataArray or array_like
        Samples along the first axis. A DataArray must have a ``time`` dimension with a
        coordinate in ms (``dt`` is taken from it); an array needs ``dt``.
    dt : float, optional
        Sampling interval (ms) of an array; sample ``k`` is placed at ``(k + 1) * dt``,
        as in result Datasets (states are stamped at step ends).

    Raises
    ------
    ValueError
        NaN or infinite samples (named by position), fewer than two samples, an irregular
        time coordinate.

    Examples
    --------
    >>> s = as_signal([0.0, 1.0, 0.0], dt=0.5)
    >>> s.dims, float(s.time[-1]), s.attrs["dt"]
    (('time',), 1.5, 0.5)
    """
    if isinstance(signal, xr.Dataset):
        raise ArgumentTypeError(f"{name} must be one signal (a DataArray or array), got a Dataset: "
                                "pick a variable, e.g. ds['V']")
    if isinstance(signal, xr.DataArray):
        if "time" not in signal.dims:
            raise InvalidArgumentError(f"{name} has no 'time' dimension (dims {signal.dims})")
        da = signal.transpose("time", ...)
        if "time" in da.coords and da.sizes["time"] > 1:
            t = np.asarray(da["time"].values, dtype=float)
            steps = np.diff(t)
            if dt is None:
                dt = float(np.median(steps))
            if not np.allclose(steps, dt, rtol=1e-6, atol=1e-9):
                raise InvalidArgumentError(f"{name} is not regularly sampled in time")
        elif dt is None:
            raise InvalidArgumentError(f"pass dt (ms): {name} has no time coordinate")
    else:
        values = float_array(name, signal)
        if values.ndim == 0:
            raise InvalidArgumentError(f"{name} must have at least one axis (time)")
        if dt is None:
            raise InvalidArgumentError(f"pass dt (ms), the sampling interval of {name}")
        dims = ("time",) + tuple(f"dim_{k}" for k in range(1, values.ndim))
        da = xr.DataArray(values, dims=dims)
    dt = positive("dt", dt)
    if da.sizes["time"] < 2:
        raise InvalidArgumentError(f"{name} needs at least two samples, it has {da.sizes['time']}")
    values = np.asarray(da.values, dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        first = np.argwhere(bad)[0]
        raise InvalidArgumentError(
            f"{name} has {int(bad.sum())} NaN or infinite sample(s), the first "
            f"at time index {int(first[0])}: interpolate or drop them first")
    if "time" not in da.coords:
        da = da.assign_coords(time=("time", (np.arange(da.sizes["time"]) + 1) * dt,
                                    {"units": "ms"}))
    da = da.copy(data=values)
    da.attrs = {**da.attrs, "dt": dt}
    return da


def named(values, *, name: str, units: str, long_name: str, dims=(), coords=None,
          attrs=None) -> xr.DataArray:
    """A DataArray with ``name``, ``units`` and ``long_name`` (the result convention).

    >>> named(2.0, name="cv", units="1", long_name="coefficient of variation").attrs["units"]
    '1'
    """
    return xr.DataArray(values, dims=dims, coords=coords, name=name,
                        attrs={"units": units, "long_name": long_name, **(attrs or {})})
