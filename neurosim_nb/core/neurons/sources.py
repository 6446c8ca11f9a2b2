r"""Spike-source populations: neurons whose spikes are given or drawn, not integrated.

A spike source is a population of the network engine (Brian2's ``PoissonGroup`` /
``SpikeGeneratorGroup``, NEST's ``poisson_generator`` / ``spike_generator`` behind a
``parrot_neuron``): it lives in a :class:`~neurosim_nb.core.networks.network.Network`
(``net.add_population("src", PoissonSource(n=100, rate_hz=10))``), projects through any
projection -- fixed weights, short-term dynamics, STDP -- and its spikes are recorded on
``spike`` with its own ``population`` coordinate. It has no membrane (no ``V``: a
recorded ``V`` is NaN on its neurons) and ignores input, projections onto it and stimuli.

Four kinds:

* :class:`PoissonSource` -- independent Poisson trains, one rate for all or one per
  neuron. In discrete time: in each step of ``dt`` a neuron fires with probability
  :math:`p = r\,dt` (a Bernoulli process, as Brian2's ``PoissonGroup``; the mean rate is
  exactly ``r`` and the inter-spike intervals are geometric, with CV
  :math:`\sqrt{1-p}` -> 1 as dt -> 0). Needs :math:`r\,dt \le 1`.
* :class:`InhomogeneousPoissonSource` -- a rate time series (piecewise constant: the rate
  ``rates_hz[j]`` holds from ``times_ms[j]`` to the next time; 0 before the first),
  drawn by **thinning** (Lewis & Shedler 1979) on the step grid: candidate spikes of the
  Bernoulli process at the peak rate, each kept with probability :math:`r(t)/r_{max}`
  (``t`` the start of its step), so a step fires with probability :math:`r(t)\,dt`.
* :class:`SpikeTimesSource` -- given spike times per neuron (ms, network time).
* :class:`RepeatedPatternSource` -- a pattern of spike times repeated with a period,
  each repetition's spikes optionally jittered (Gaussian, ``jitter_ms``).

Timing. A spike is stamped at the end of its step, as every neuron's: a spike of step
``k`` has ``spike_time = (k + 1) dt`` and reaches its targets ``delay`` later. A given
time ``t`` is emitted in the step that ends nearest to it (exact when ``t`` is on the
grid), so it must be > 0; times of a later run wait for it. A neuron fires at most once
per step: two given spike times of one neuron in one step are an error; two jittered
pattern spikes in one step merge.

Seeds. Each run draws the sources' spikes once, before the loop, from a generator seeded
by the network's seed (``Network(seed=...)``; a population run alone: 0), the population
name and the run's first step -- so a network built with the same seed gives the same
spikes, continuation runs draw new ones, and the run's stimulus ``seed`` leaves them
alone. ``seed=`` on a source overrides the network's. The schedule rides in the kernel
parameters in step order (one column: the number ``u`` of steps with spikes, those ``u``
run-relative steps, their ``u + 1`` offsets into the spiking neurons, then the neurons of
each step in increasing order), so the compiled kernel copies a step's spikes without
looking at the silent neurons (about 2 ns per spike; a scan of one cursor per neuron and
step cost 40 ns per spike in cache misses and mispredicted branches). Each neuron's state
row ``schedule_index`` still counts its spikes (the position of its next spike in the
per-neuron schedule :meth:`SpikeSource.scheduled_steps` returns). In a
``precision="float32"`` run these are float32, exact up to 2**24 steps and scheduled spikes
per run.

>>> from neurosim_nb import Network
>>> net = Network("demo", seed=1)
>>> src = net.add_population("src", SpikeTimesSource([[1.0, 2.5], [0.5]]))
>>> ds = net.simulate(5.0, dt=0.25, record=(), verbose=False)
>>> ds.spike_time.values.tolist(), ds.spike_neuron.values.tolist()
([0.5, 1.0, 2.5], [1, 0, 0])
"""

from __future__ import annotations

import json
import math
import zlib
from typing import ClassVar

import numpy as np

from neurosim_nb._jit import njit
from neurosim_nb.core.neurons._kernel_util import record_step
from neurosim_nb.core.neurons.base import NeuronPopulation

__all__ = ["SpikeSource", "PoissonSource", "InhomogeneousPoissonSource", "SpikeTimesSource",
           "RepeatedPatternSource", "SOURCES", "source_from_dict"]


@njit(cache=True)
def source_kernel(state, p, i_ext, kick, dt, step0, sample_every, rec_idx, rec_slots, rec_out,
                  spk_step, spk_idx, syn_state, syn_buf, syn_par, scratch):
    """The kernel of every spike source (the contract of
    :data:`~neurosim_nb.core.neurons.base.KERNEL_DOC`): in step ``s`` the neurons listed
    for ``s`` in the step-ordered schedule ``p`` (see :func:`_step_schedule`) fire, in
    increasing order, and each one's cursor (``state[0, i]``) advances by one. Input,
    kicks and arriving synaptic weights are discarded (the ring-buffer slot of the step is
    cleared)."""
    n = state.shape[1]
    cursor = state[0]
    n_ch = syn_buf.shape[0]
    depth = syn_buf.shape[1]
    u = int(p[0, 0])
    steps_at = 1
    ptr_at = 1 + u
    ids_at = 2 + 2 * u
    # the first scheduled step >= step0 (binary search once per call)
    lo, hi = 0, u
    while lo < hi:
        mid = (lo + hi) // 2
        if p[steps_at + mid, 0] < step0:
            lo = mid + 1
        else:
            hi = mid
    pos = lo
    n_spk = 0
    for k in range(i_ext.shape[0]):
        step = step0 + k
        slot = step % depth
        for c in range(n_ch):
            for i in range(n):
                syn_buf[c, slot, i] = 0.0
        if pos < u and int(p[steps_at + pos, 0]) == step:
            for q in range(int(p[ptr_at + pos, 0]), int(p[ptr_at + pos + 1, 0])):
                i = int(p[ids_at + q, 0])
                spk_step[n_spk] = step
                spk_idx[n_spk] = i
                n_spk += 1
                cursor[i] += 1.0
            pos += 1
        record_step(state, step, sample_every, rec_idx, rec_slots, rec_out)
    return n_spk, -1, -1


@njit(cache=True)
def _counting_order(indptr, flat, n_steps):
    """Neuron of each spike of the per-neuron schedule ``(indptr, flat)`` sorted by step
    (a counting sort over ``n_steps`` buckets; equal steps keep neuron order)."""
    start = np.zeros(n_steps + 1, np.int64)
    for q in range(flat.shape[0]):
        start[flat[q] + 1] += 1
    for s in range(n_steps):
        start[s + 1] += start[s]
    ids = np.empty(flat.shape[0], np.int64)
    steps = np.empty(flat.shape[0], np.int64)
    for i in range(indptr.shape[0] - 1):
        for q in range(indptr[i], indptr[i + 1]):
            s = flat[q]
            ids[start[s]] = i
            steps[start[s]] = s
            start[s] += 1
    return steps, ids


def _step_schedule(indptr: np.ndarray, flat: np.ndarray, n_steps: int) -> np.ndarray:
    """The kernel parameter column of a per-neuron schedule (``flat[indptr[i]:indptr[i+1]]``:
    neuron ``i``'s run-relative steps, each in ``[0, n_steps)``): ``[u, steps (u), offsets
    (u + 1), neurons (m)]`` -- the ``u`` distinct steps with spikes, increasing, and for
    step ``j`` the neurons ``neurons[offsets[j]:offsets[j + 1]]`` in increasing order.

    >>> _step_schedule(np.array([0, 2, 3]), np.array([1, 4, 4]), 6).tolist()
    [2, 1, 4, 0, 1, 3, 0, 0, 1]
    """
    m = flat.shape[0]
    if n_steps <= 4 * m + 1024:  # a counting sort: O(m + n_steps)
        steps, ids = _counting_order(indptr, flat, int(n_steps))
    else:  # few spikes in a long run: no n_steps-long buckets
        ids = np.repeat(np.arange(indptr.shape[0] - 1, dtype=np.int64), np.diff(indptr))
        order = np.argsort(flat, kind="stable")
        steps, ids = flat[order], ids[order]
    new = np.ones(m, bool)
    new[1:] = steps[1:] != steps[:-1]
    first = np.flatnonzero(new)
    u = first.size
    return np.concatenate([[u], steps[first], first, [m], ids]).astype(np.int64)


class _SourceParameters:
    """What the engine and the Dataset read of a source's ``params``: its JSON."""

    def __init__(self, src: SpikeSource) -> None:
        self._src = src

    def to_json(self) -> str:
        return json.dumps(self._src.to_dict()["params"])

    def field_info(self) -> dict:
        return {}


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _rates(name: str, value, n: int) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.size != n):
        raise ValueError(f"{name} must be a number or one value per neuron ({n}), got shape "
                         f"{arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and >= 0 Hz, got {value!r}")
    return np.broadcast_to(arr, (n,)).copy()


def _time_lists(name: str, value, *, upper: float | None = None) -> list[np.ndarray]:
    """Per-neuron spike times (ms): finite, > 0 (and <= ``upper``), sorted."""
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype != object:
        raise TypeError(f"{name} must be a list with one sequence of times (ms) per neuron, "
                        "e.g. [[1.0, 5.0], [2.0]]; got a flat array")
    try:
        lists = [np.sort(np.asarray(t, dtype=float).ravel()) for t in value]
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a list with one sequence of times (ms) per neuron, "
                        f"got {value!r}") from err
    if not lists:
        raise ValueError(f"{name} needs at least one neuron (an empty list was given)")
    for i, t in enumerate(lists):
        if not np.all(np.isfinite(t)):
            raise ValueError(f"{name}[{i}]: spike times must be finite, got {t.tolist()}")
        if t.size and t[0] <= 0:
            raise ValueError(f"{name}[{i}]: spike times must be > 0 ms (a spike is stamped at "
                             f"the end of its step), got {t[0]}")
        if upper is not None and t.size and t[-1] > upper:
            raise ValueError(f"{name}[{i}]: pattern times must be <= period_ms ({upper}), "
                             f"got {t[-1]}")
    return lists


def _geometric_steps(rng, p: np.ndarray, n_steps: int) -> list[np.ndarray]:
    """Per neuron, the steps in which a Bernoulli process of probability ``p[i]`` per step
    fires during ``n_steps`` steps (geometric gaps, drawn in bulk)."""
    out = []
    for pi in p:
        if pi <= 0.0:
            out.append(np.zeros(0, np.int64))
            continue
        mean = n_steps * pi
        m = int(mean + 6.0 * math.sqrt(mean) + 16)
        steps = np.cumsum(rng.geometric(pi, m)) - 1
        while steps[-1] < n_steps:
            more = np.cumsum(rng.geometric(pi, m)) + steps[-1]
            steps = np.concatenate([steps, more])
        out.append(steps[steps < n_steps].astype(np.int64))
    return out


class SpikeSource(NeuronPopulation):
    """Base class of the spike-source populations (see the module docstring).

    A subclass implements :meth:`_draw` (the run's spikes, per neuron, as run-relative
    step indices) and :meth:`to_dict`; the engine calls :meth:`prepare_run` before each
    run and runs :func:`source_kernel`.
    """

    state_variables: ClassVar[dict[str, tuple[str, str]]] = {
        "schedule_index": ("1", "position of the neuron's next spike in the run's schedule")}
    current_units = "nA"
    current_long_name = "external input (ignored by a spike source)"
    default_label = "source"

    def __init__(self, n: int, *, label: str | None = None, seed: int | None = None) -> None:
        self.n = _positive_int("n (number of neurons)", n)
        if seed is not None and (isinstance(seed, bool) or int(seed) != seed or seed < 0):
            raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")
        self.seed = None if seed is None else int(seed)
        self.label = label or self.default_label
        self.params = _SourceParameters(self)
        self._schedule = (np.zeros(self.n + 1, np.int64), np.zeros(0, np.int64))
        self._by_step = np.array([0, 0], np.int64)  # no steps with spikes (u = 0, offsets [0])
        self.t_ms = 0.0
        self.reset_state()

    # -- the engine's protocol -------------------------------------------------------
    def _initial_state(self) -> np.ndarray:
        return np.zeros((1, self.n))

    def prepare_run(self, *, dt: float, n_steps: int, seed: int) -> None:
        """Draw this run's spikes (``n_steps`` steps of ``dt`` ms from ``self.t_ms``),
        with a generator seeded by ``self.seed`` or else the network's ``seed``, the
        population label and the first step (see the module docstring). Called by the
        engine before every run.

        >>> src = PoissonSource(n=2, rate_hz=100.0, seed=3)
        >>> src.prepare_run(dt=0.1, n_steps=1000, seed=0)
        >>> [int(k.size) for k in src.scheduled_steps()]   # 10 expected each (sd 3)
        [4, 13]
        """
        first = int(round(self.t_ms / dt))
        key = (zlib.crc32(self.label.encode()), first)
        entropy = self.seed if self.seed is not None else int(seed)
        rng = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=key))
        steps = self._draw(rng, float(dt), int(n_steps))
        for i, s in enumerate(steps):
            if s.size > 1 and np.any(np.diff(s) <= 0):
                j = int(np.flatnonzero(np.diff(s) <= 0)[0])
                raise ValueError(f"{type(self).__name__} {self.label!r}: neuron {i} has two "
                                 f"spikes in one step of dt = {dt} ms (at "
                                 f"{(s[j] + 1) * dt + self.t_ms:g} ms); a neuron fires at "
                                 "most once per step: use a smaller dt")
        indptr = np.zeros(self.n + 1, np.int64)
        indptr[1:] = np.cumsum([s.size for s in steps])
        flat = np.concatenate(steps) if steps else np.zeros(0, np.int64)
        self._schedule = (indptr, flat.astype(np.int64))
        self._by_step = _step_schedule(indptr, self._schedule[1], int(n_steps))
        self._state[0] = indptr[:-1]

    def scheduled_steps(self) -> list[np.ndarray]:
        """Per neuron, the run-relative steps of the spikes drawn by the last
        :meth:`prepare_run` (a spike of step ``k`` is stamped ``(k + 1) dt``)."""
        indptr, flat = self._schedule
        return [flat[indptr[i]:indptr[i + 1]].copy() for i in range(self.n)]

    def _kernel_params(self, dt: float) -> np.ndarray:
        # the step-ordered schedule of the last prepare_run (see _step_schedule)
        return np.ascontiguousarray(self._by_step.astype(np.float64)[:, None])

    def compiled_kernel(self):
        """:func:`source_kernel` (one compiled function for every kind of source)."""
        return source_kernel

    def _draw(self, rng, dt: float, n_steps: int) -> list[np.ndarray]:
        raise NotImplementedError

    def _given_steps(self, times: list[np.ndarray], dt: float, n_steps: int):
        """Run-relative steps of absolute times ``times`` inside this run."""
        out = []
        for t in times:
            k = np.rint((t - self.t_ms) / dt).astype(np.int64) - 1
            out.append(k[(k >= 0) & (k < n_steps)])
        return out

    # -- seed API and metadata ---------------------------------------------------------
    def simulate(self, duration: float, input_current=None, **kwargs):
        """Run the source alone (``record`` defaults to nothing: a source has no ``V``);
        see :func:`neurosim_nb.engine.simulator.simulate`.

        >>> ds = SpikeTimesSource([[0.5, 1.5]]).simulate(2.0, dt=0.5, verbose=False)
        >>> ds.spike_time.values.tolist()
        [0.5, 1.5]
        """
        if input_current is not None:
            raise ValueError(f"{type(self).__name__} takes no input_current (a spike source "
                             "has no membrane)")
        kwargs.setdefault("record", ())
        return super().simulate(duration, None, **kwargs)

    def to_dict(self) -> dict:
        """``{"model": class name, "n": n, "params": {...}}``: JSON-able, accepted by
        :func:`source_from_dict` and by network specs."""
        raise NotImplementedError

    def describe(self) -> dict:
        return {"model": type(self).__name__, "params_json": self.params.to_json(),
                "current_units": self.current_units}

    @classmethod
    def presets(cls) -> dict:
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n}, label={self.label!r})"


class PoissonSource(SpikeSource):
    """``n`` independent Poisson spike trains (Bernoulli per step, see the module
    docstring).

    Parameters
    ----------
    n : int
    rate_hz : float or array of n floats
        Rate (Hz) of every neuron or of each.
    seed : int, optional
        Overrides the network's seed.
    label : str, optional

    >>> from neurosim_nb import Network
    >>> net = Network(seed=2)
    >>> _ = net.add_population("src", PoissonSource(n=100, rate_hz=20.0))
    >>> ds = net.simulate(1000.0, dt=0.1, record=(), verbose=False)
    >>> 1500 < ds.spike_time.size < 2500   # 2000 expected
    True
    """

    def __init__(self, n: int, rate_hz=10.0, *, seed: int | None = None,
                 label: str | None = None) -> None:
        n = _positive_int("n (number of neurons)", n)
        self.rate_hz = _rates("rate_hz", rate_hz, n)
        super().__init__(n, label=label, seed=seed)

    def _draw(self, rng, dt, n_steps):
        p = self.rate_hz * dt * 1e-3
        if np.any(p > 1.0):
            raise ValueError(f"rate_hz * dt must be <= 1 (at most one spike per step); "
                             f"max rate {self.rate_hz.max()} Hz at dt = {dt} ms")
        return _geometric_steps(rng, p, n_steps)

    def to_dict(self) -> dict:
        r = self.rate_hz
        rate = float(r[0]) if np.all(r == r[0]) else r.tolist()
        return {"model": "PoissonSource", "n": self.n,
                "params": {"rate_hz": rate, "seed": self.seed}}


class InhomogeneousPoissonSource(SpikeSource):
    """Poisson trains whose rate follows a time series (thinning, see the module
    docstring).

    Parameters
    ----------
    n : int
    times_ms : array of floats
        Increasing times (ms, network time, >= 0) at which the rate changes.
    rates_hz : array ``(len(times_ms),)`` or ``(len(times_ms), n)``
        The rate (Hz) from each time on (shared or per neuron); 0 before ``times_ms[0]``.
    seed, label : see :class:`PoissonSource`

    >>> src = InhomogeneousPoissonSource(3, [0.0, 50.0], [0.0, 200.0], seed=1)
    >>> src.rate_at(np.array([10.0, 60.0]))[:, 0].tolist()
    [0.0, 200.0]
    """

    def __init__(self, n: int, times_ms, rates_hz, *, seed: int | None = None,
                 label: str | None = None) -> None:
        n = _positive_int("n (number of neurons)", n)
        t = np.asarray(times_ms, dtype=float)
        r = np.asarray(rates_hz, dtype=float)
        if t.ndim != 1 or t.size == 0:
            raise ValueError(f"times_ms must be a non-empty 1-D sequence, got shape {t.shape}")
        if not np.all(np.isfinite(t)) or t[0] < 0 or np.any(np.diff(t) <= 0):
            raise ValueError("times_ms must be finite, >= 0 and strictly increasing")
        if r.shape not in ((t.size,), (t.size, n)):
            raise ValueError(f"rates_hz must have shape ({t.size},) or ({t.size}, {n}) "
                             f"(one row per time), got {r.shape}")
        if not np.all(np.isfinite(r)) or np.any(r < 0):
            raise ValueError("rates_hz must be finite and >= 0 Hz")
        self.times_ms = t
        self.rates_hz = r
        super().__init__(n, label=label, seed=seed)

    def rate_at(self, t_ms) -> np.ndarray:
        """The rate (Hz) at network times ``t_ms``: shape ``(len(t_ms), n)``."""
        t = np.atleast_1d(np.asarray(t_ms, dtype=float))
        j = np.searchsorted(self.times_ms, t, side="right") - 1
        r = self.rates_hz if self.rates_hz.ndim == 2 else self.rates_hz[:, None]
        out = np.where((j >= 0)[:, None], r[np.maximum(j, 0)], 0.0)
        return np.broadcast_to(out, (t.size, self.n)).copy()

    def _draw(self, rng, dt, n_steps):
        r_max = self.rates_hz.max(axis=0) if self.rates_hz.ndim == 2 else \
            np.full(self.n, self.rates_hz.max())
        p_max = r_max * dt * 1e-3
        if np.any(p_max > 1.0):
            raise ValueError(f"rates_hz * dt must be <= 1 (at most one spike per step); "
                             f"max rate {r_max.max()} Hz at dt = {dt} ms")
        cand = _geometric_steps(rng, p_max, n_steps)
        out = []
        for i, k in enumerate(cand):
            if k.size == 0:
                out.append(k)
                continue
            r = self.rate_at(self.t_ms + k * dt)[:, i]
            keep = rng.random(k.size) * r_max[i] < r
            out.append(k[keep])
        return out

    def to_dict(self) -> dict:
        return {"model": "InhomogeneousPoissonSource", "n": self.n,
                "params": {"times_ms": self.times_ms.tolist(),
                           "rates_hz": self.rates_hz.tolist(), "seed": self.seed}}


class SpikeTimesSource(SpikeSource):
    """Neurons that fire at given times.

    Parameters
    ----------
    spike_times : list of sequences of floats
        One sequence of spike times (ms, network time, > 0, any order) per neuron.
    label : str, optional

    >>> SpikeTimesSource([[3.0, 1.0], []]).spike_times[0].tolist()
    [1.0, 3.0]
    """

    def __init__(self, spike_times, *, label: str | None = None) -> None:
        self.spike_times = _time_lists("spike_times", spike_times)
        super().__init__(len(self.spike_times), label=label)

    def _draw(self, rng, dt, n_steps):
        return self._given_steps(self.spike_times, dt, n_steps)

    def to_dict(self) -> dict:
        return {"model": "SpikeTimesSource", "n": self.n,
                "params": {"spike_times": [t.tolist() for t in self.spike_times]}}


class RepeatedPatternSource(SpikeSource):
    """A pattern of spike times repeated every ``period_ms``, optionally jittered.

    Repetition ``r`` emits neuron ``i``'s pattern times ``pattern[i]`` shifted by
    ``r * period_ms`` (from ``start_ms``), each moved by an independent Gaussian of
    standard deviation ``jitter_ms`` (spikes jittered to <= 0 ms are dropped).

    Parameters
    ----------
    pattern : list of sequences of floats
        Per neuron, times (ms) in ``(0, period_ms]``.
    period_ms : float
    jitter_ms : float
        Standard deviation of the jitter (ms), 0 = exact repetitions.
    start_ms : float
        Network time of the first repetition's origin (ms, >= 0).
    seed, label : see :class:`PoissonSource`

    >>> src = RepeatedPatternSource([[1.0], [2.0, 4.0]], period_ms=5.0)
    >>> ds = src.simulate(12.0, dt=0.5, verbose=False)
    >>> ds.spike_time.values.tolist()
    [1.0, 2.0, 4.0, 6.0, 7.0, 9.0, 11.0, 12.0]
    """

    def __init__(self, pattern, period_ms: float, *, jitter_ms: float = 0.0,
                 start_ms: float = 0.0, seed: int | None = None,
                 label: str | None = None) -> None:
        period = float(period_ms)
        if not math.isfinite(period) or period <= 0:
            raise ValueError(f"period_ms must be finite and > 0, got {period_ms!r}")
        if not math.isfinite(float(jitter_ms)) or jitter_ms < 0:
            raise ValueError(f"jitter_ms must be finite and >= 0, got {jitter_ms!r}")
        if not math.isfinite(float(start_ms)) or start_ms < 0:
            raise ValueError(f"start_ms must be finite and >= 0, got {start_ms!r}")
        self.pattern = _time_lists("pattern", pattern, upper=period)
        self.period_ms, self.jitter_ms, self.start_ms = period, float(jitter_ms), float(start_ms)
        super().__init__(len(self.pattern), label=label, seed=seed)

    def _draw(self, rng, dt, n_steps):
        t0, t1 = self.t_ms, self.t_ms + n_steps * dt
        # repetitions whose (jittered) spikes can fall into (t0, t1]
        margin = 8.0 * self.jitter_ms
        r0 = max(0, int(math.floor((t0 - self.start_ms - margin) / self.period_ms)))
        r1 = int(math.ceil((t1 - self.start_ms + margin) / self.period_ms))
        reps = np.arange(r0, max(r0, r1) + 1)
        times = []
        for pat in self.pattern:
            t = (self.start_ms + reps[:, None] * self.period_ms + pat[None, :]).ravel()
            if self.jitter_ms > 0:
                t = t + rng.normal(0.0, self.jitter_ms, t.size)
            times.append(np.sort(t[t > 0]))
        steps = self._given_steps(times, dt, n_steps)
        # jittered spikes of one neuron in one step merge
        return [np.unique(s) for s in steps] if self.jitter_ms > 0 else steps

    def to_dict(self) -> dict:
        return {"model": "RepeatedPatternSource", "n": self.n,
                "params": {"pattern": [t.tolist() for t in self.pattern],
                           "period_ms": self.period_ms, "jitter_ms": self.jitter_ms,
                           "start_ms": self.start_ms, "seed": self.seed}}


#: name -> class of every spike-source kind (network specs read it)
SOURCES: dict[str, type[SpikeSource]] = {c.__name__: c for c in (
    PoissonSource, InhomogeneousPoissonSource, SpikeTimesSource, RepeatedPatternSource)}


def source_from_dict(spec: dict, label: str | None = None) -> SpikeSource:
    """A spike source from :meth:`SpikeSource.to_dict`'s dict (``model``, ``n``,
    ``params``); a ValueError names what is wrong.

    >>> src = source_from_dict({"model": "PoissonSource", "n": 4, "params": {"rate_hz": 5}})
    >>> src.to_dict() == source_from_dict(src.to_dict()).to_dict()
    True
    """
    model = spec.get("model")
    if model not in SOURCES:
        raise ValueError(f"model must be one of {list(SOURCES)}, got {model!r}")
    params = dict(spec.get("params", {}))
    n = spec.get("n")
    if model in ("SpikeTimesSource", "RepeatedPatternSource"):
        key = "spike_times" if model == "SpikeTimesSource" else "pattern"
        if key not in params:
            raise ValueError(f"{model} needs params.{key}")
        if n is not None and len(params[key]) != n:
            raise ValueError(f"n ({n}) differs from the number of neurons in params.{key} "
                             f"({len(params[key])})")
        src = SOURCES[model](**params, label=label)
    else:
        if n is None:
            raise ValueError(f"{model} needs n")
        src = SOURCES[model](n, **params, label=label)
    return src
