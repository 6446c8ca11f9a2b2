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
alone. ``seed=`` on a source overrides the network's. A Poisson source draws the
geometric gaps of neighbours with the same rate in one call (the same numbers as one call
per neuron). The schedule rides in the kernel parameters in step order (one column: the
number ``u`` of steps with spikes, the number ``m`` of spikes, the spiking neuron of each
spike -- by step, each step's in increasing order --, the ``u`` run-relative steps and
their ``u + 1`` offsets into the neurons), so the compiled kernel copies a step's spikes
without looking at the silent neurons (4000 sources at 500 Hz: ~4 ns per spike in the
loop; a scan of one cursor per neuron and step cost 40 ns per spike in cache misses and
mispredicted branches). Each neuron's state row ``schedule_index`` still counts its spikes
(the position of its next spike in the per-neuron schedule
:meth:`SpikeSource.scheduled_steps` returns). In a ``precision="float32"`` run these are
float32, exact up to 2**24 steps and scheduled spikes per run.

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
from neurosim_nb._validation import (
    MAX_SEED,
    NON_NEGATIVE,
    POSITIVE,
    Bounds,
    check_allocation,
    check_array,
    check_integer,
    check_number,
)
from neurosim_nb.core.neurons._kernel_util import record_step
from neurosim_nb.core.neurons.base import NeuronPopulation, check_label, check_size
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError

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
    ids_at = 2
    steps_at = 2 + int(p[1, 0])
    ptr_at = steps_at + u
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


#: steps per block of the counting sort of :func:`_step_schedule` (the size of its count
#: array, whatever the run's length; 2 M spikes of 4000 neurons sort in ~0.02 s)
ORDER_BLOCK = 256


@njit(cache=True)
def _step_schedule_column(indptr, flat, n_steps, block):
    """:func:`_step_schedule`'s column (float64) by a counting sort in blocks of ``block``
    steps: per block, each neuron's spikes in it (the next entries of its sorted train) are
    counted per step, then placed, neurons in increasing order. The neurons go straight
    into the column (no temporary of the spikes' size: first touches of fresh pages cost
    as much as the sort)."""
    n = indptr.shape[0] - 1
    m = flat.shape[0]
    u_max = min(m, n_steps)
    col = np.empty(3 + m + 2 * u_max)
    col[1] = m
    ids_at = 2
    steps_at = 2 + m
    starts = np.empty(u_max + 1, np.int64)
    cur = indptr[:n].copy()
    stop = np.empty(n, np.int64)
    count = np.zeros(block + 1, np.int64)
    done = 0
    u = 0
    for b0 in range(0, n_steps, block):
        b1 = min(b0 + block, n_steps)
        count[:] = 0
        for i in range(n):
            q = cur[i]
            e = indptr[i + 1]
            while q < e and flat[q] < b1:
                count[flat[q] - b0 + 1] += 1
                q += 1
            stop[i] = q
        for k in range(b1 - b0):
            if count[k + 1]:
                col[steps_at + u] = b0 + k
                starts[u] = done + count[k]
                u += 1
            count[k + 1] += count[k]
        total = count[b1 - b0]
        for i in range(n):
            for q in range(cur[i], stop[i]):
                k = flat[q] - b0
                col[ids_at + done + count[k]] = i
                count[k] += 1
            cur[i] = stop[i]
        done += total
    starts[u] = done
    col[0] = u
    for j in range(u + 1):
        col[steps_at + u + j] = starts[j]
    return col  # (3 + m + 2 u used)


def _step_schedule(indptr: np.ndarray, flat: np.ndarray, n_steps: int) -> np.ndarray:
    """The kernel parameter column (float64) of a per-neuron schedule
    (``flat[indptr[i]:indptr[i+1]]``: neuron ``i``'s run-relative steps, increasing, each in
    ``[0, n_steps)``): ``[u, m, neurons (m), steps (u), offsets (u + 1)]`` -- the ``u``
    distinct steps with spikes, increasing, and for step ``j`` the neurons
    ``neurons[offsets[j]:offsets[j + 1]]`` in increasing order (float64 holds integers
    exactly up to 2**53; a float32 run's copy up to 2**24).

    >>> _step_schedule(np.array([0, 2, 3]), np.array([1, 4, 4]), 6).astype(int).tolist()
    [2, 3, 0, 0, 1, 1, 4, 0, 1, 3]
    """
    flat = np.ascontiguousarray(flat, dtype=np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= n_steps):
        raise InvalidArgumentError(f"scheduled steps must lie in [0, {n_steps}) (the run's steps)")
    n_blocks = -(-int(n_steps) // ORDER_BLOCK)
    if n_blocks > 64 + 4 * flat.size // ORDER_BLOCK:
        # a long run with few spikes: a stable sort instead of a pass over every block
        ids = np.repeat(np.arange(indptr.shape[0] - 1, dtype=np.int64), np.diff(indptr))
        order = np.argsort(flat, kind="stable")
        steps, ids = flat[order], ids[order]
        new = np.ones(steps.size, bool)
        new[1:] = steps[1:] != steps[:-1]
        first = np.flatnonzero(new)
        return np.concatenate([[first.size, steps.size], ids, steps[first], first,
                               [steps.size]]).astype(np.float64)
    col = _step_schedule_column(np.asarray(indptr, np.int64), flat, int(n_steps),
                                ORDER_BLOCK)
    # the buffer has room for a step per spike: cut to size (a copy when that wastes much)
    size = 3 + flat.size + 2 * int(col[0])
    return col[:size].copy() if col.size > 2 * size else col[:size]


class _SourceParameters:
    """What the engine and the Dataset read of a source's ``params``: its JSON."""

    def __init__(self, src: SpikeSource) -> None:
        self._src = src

    def to_json(self) -> str:
        return json.dumps(self._src.to_dict()["params"])

    def field_info(self) -> dict:
        return {}


#: the seeds a source takes: what a NetCDF int64 attribute can hold
SEED_BOUNDS = Bounds(0, MAX_SEED)


def _seed(where: str, seed) -> int | None:
    return None if seed is None else check_integer(where, seed, SEED_BOUNDS)


def _rates(name: str, value, n: int) -> np.ndarray:
    if isinstance(value, str | bytes | bool | np.bool_) or (
            not isinstance(value, np.ndarray | list | tuple) and not np.isscalar(value)):
        raise ArgumentTypeError(f"{name} must be a number (Hz) >= 0 or one per neuron, got "
                                f"{value!r}")
    arr = check_array(name, value, ndims=(0, 1), bounds=NON_NEGATIVE, unit="Hz")
    if arr.ndim == 1 and arr.size != n:
        raise InvalidArgumentError(f"{name} has {arr.size} values where {n} (one per neuron) "
                                   f"or a single number are needed")
    return np.broadcast_to(arr, (n,)).copy()


def _time_lists(name: str, value, *, upper: float | None = None) -> list[np.ndarray]:
    """Per-neuron spike times (ms): finite, > 0 (and <= ``upper``), sorted for the user."""
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype != object:
        raise ArgumentTypeError(f"{name} must be a list with one sequence of times (ms) per "
                                "neuron, e.g. [[1.0, 5.0], [2.0]]; got a flat array")
    if isinstance(value, str | bytes | dict) or not hasattr(value, "__iter__"):
        raise ArgumentTypeError(f"{name} must be a list with one sequence of times (ms) per "
                                f"neuron, e.g. [[1.0, 5.0], [2.0]]; got {value!r:.80}")
    lists = []
    for i, t in enumerate(value):
        if isinstance(t, str | bytes | dict) or _is_scalar(t):
            raise ArgumentTypeError(f"{name}[{i}] must be a sequence of times (ms), got "
                                    f"{t!r:.80} (one sequence per neuron, e.g. "
                                    "[[1.0, 5.0], [2.0]])")
        arr = check_array(f"{name}[{i}]", t, unit="ms")
        lists.append(np.sort(arr))
    if not lists:
        raise InvalidArgumentError(f"{name} needs at least one neuron (an empty list was "
                                   "given)")
    for i, t in enumerate(lists):
        if t.size and t[0] <= 0:
            raise InvalidArgumentError(f"{name}[{i}]: spike times must be > 0 ms (a spike is "
                                       f"stamped at the end of its step), got {t[0]}")
        if upper is not None and t.size and t[-1] > upper:
            raise InvalidArgumentError(f"{name}[{i}]: pattern times must be <= period_ms "
                                       f"({upper}), got {t[-1]}")
    return lists


def _is_scalar(value) -> bool:
    """A number (or a bool), not a sequence."""
    return np.ndim(value) == 0 if not isinstance(value, list | tuple) else False


#: variates per bulk draw of :func:`_geometric_schedule` (8 MB of int64)
GEOMETRIC_BULK = 1 << 20
#: gaps drawn per neuron and run: the mean count + GEOMETRIC_MARGIN_SD standard deviations
#: + GEOMETRIC_MARGIN_MIN (more are drawn when they fall short)
GEOMETRIC_MARGIN_SD = 6.0
GEOMETRIC_MARGIN_MIN = 16


def _n_gaps(pi: float, n_steps: int) -> int:
    mean = n_steps * pi
    return int(mean + GEOMETRIC_MARGIN_SD * math.sqrt(mean) + GEOMETRIC_MARGIN_MIN)


def _gaps(rng, pi: float, size, n_steps: int) -> np.ndarray:
    """``rng.geometric(pi, size)`` with each gap capped at ``n_steps + 1``: a gap that long
    ends the run's spikes whatever follows, and the cap keeps the cumulative sums from
    overflowing int64 (NumPy returns 2**63 - 1 for ``pi`` below ~1e-19: the sums turned
    negative and the loop drawing more gaps never ended). The variates drawn are the same."""
    return np.minimum(rng.geometric(pi, size), n_steps + 1)


def _geometric_one(rng, pi: float, n_steps: int) -> np.ndarray:
    """The steps in which one Bernoulli process of probability ``pi`` per step fires during
    ``n_steps`` steps: ``m`` geometric gaps (a margin of 6 sd over the mean count), more
    (``m`` at a time) while they fall short of ``n_steps``."""
    m = _n_gaps(pi, n_steps)
    steps = np.cumsum(_gaps(rng, pi, m, n_steps)) - 1
    while steps[-1] < n_steps:
        more = np.cumsum(_gaps(rng, pi, m, n_steps)) + steps[-1]
        steps = np.concatenate([steps, more])
    return steps[steps < n_steps].astype(np.int64)


def _geometric_schedule(rng, p: np.ndarray, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Per neuron, the steps in which a Bernoulli process of probability ``p[i]`` per step
    fires during ``n_steps`` steps, as ``(indptr, flat)`` (neuron ``i``'s steps are
    ``flat[indptr[i]:indptr[i + 1]]``): for each neuron in turn, :func:`_geometric_one`.

    Neighbours with the same ``p`` draw their gaps in one call of ``rng.geometric`` (a
    ``(rows, m)`` array: the same variates, in the same order, as one call per neuron;
    4000 neurons at 500 Hz for 1 s in 0.04 s instead of 0.11 s). A neuron whose ``m`` gaps
    fall short of ``n_steps`` (probability < 1e-9) would draw more before its successor:
    the generator is then put back and that neuron drawn on its own, so the stream and the
    steps are those of the neuron-by-neuron loop.

    >>> indptr, flat = _geometric_schedule(np.random.default_rng(0), np.full(3, 0.5), 6)
    >>> ref = [_geometric_one(r, 0.5, 6) for r in [np.random.default_rng(0)] for _ in range(3)]
    >>> [flat[indptr[i]:indptr[i + 1]].tolist() for i in range(3)] == [x.tolist() for x in ref]
    True
    """
    p = np.asarray(p, dtype=float)
    n = p.size
    pieces: list[np.ndarray] = []
    counts = np.zeros(n, np.int64)
    i = 0
    while i < n:
        pi = float(p[i])
        if pi <= 0.0:
            i += 1
            continue
        m = _n_gaps(pi, n_steps)
        j = i + 1  # neighbours with the same p, at most GEOMETRIC_BULK variates
        while j < n and p[j] == pi and (j - i + 1) * m <= GEOMETRIC_BULK:
            j += 1
        if j - i == 1:
            steps = _geometric_one(rng, pi, n_steps)
            pieces.append(steps)
            counts[i] = steps.size
            i = j
            continue
        saved = rng.bit_generator.state
        steps = np.cumsum(_gaps(rng, pi, (j - i, m), n_steps), axis=1)
        steps -= 1
        short = np.flatnonzero(steps[:, -1] < n_steps)
        if short.size:  # rows up to the first short one are good; redo from there
            j = i + int(short[0])
            rng.bit_generator.state = saved
            if j > i:
                rng.geometric(pi, (j - i, m))  # the variates of the good rows, again
            steps = steps[:j - i]
        keep = steps < n_steps
        counts[i:j] = keep.sum(axis=1)
        pieces.append(steps[keep])
        if short.size:
            one = _geometric_one(rng, pi, n_steps)
            pieces.append(one)
            counts[j] = one.size
            j += 1
        i = j
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    flat = np.concatenate(pieces).astype(np.int64, copy=False) if pieces else \
        np.zeros(0, np.int64)
    return indptr, flat


def _geometric_steps(rng, p: np.ndarray, n_steps: int) -> list[np.ndarray]:
    """:func:`_geometric_schedule` as one array of steps per neuron."""
    indptr, flat = _geometric_schedule(rng, p, n_steps)
    return [flat[indptr[i]:indptr[i + 1]] for i in range(p.size)]


def _schedule_of(steps: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(indptr, flat)`` of per-neuron arrays of steps."""
    indptr = np.zeros(len(steps) + 1, np.int64)
    indptr[1:] = np.cumsum([s.size for s in steps])
    flat = np.concatenate(steps).astype(np.int64) if steps else np.zeros(0, np.int64)
    return indptr, flat


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
        owner = type(self).__name__
        self.n = check_size(owner, n, len(self.state_variables))
        self.seed = _seed(f"{owner}.seed", seed)
        self.label = check_label(owner, label, self.default_label)
        self.params = _SourceParameters(self)
        self._schedule = (np.zeros(self.n + 1, np.int64), np.zeros(0, np.int64))
        # the step-ordered schedule (_step_schedule): no steps with spikes, offsets [0]
        self._by_step = np.array([0.0, 0.0, 0.0])
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
        indptr, flat = self._draw_schedule(rng, float(dt), int(n_steps))
        # two spikes of a neuron in one step: a step that does not increase within a train
        bad = np.diff(flat) <= 0
        first = indptr[1:-1]
        bad[first[(first > 0) & (first < flat.size)] - 1] = False  # (a new neuron's train)
        if bad.any():
            q = int(np.argmax(bad))
            i = int(np.searchsorted(indptr, q, side="right")) - 1
            raise InvalidArgumentError(
                f"{type(self).__name__} {self.label!r}: neuron {i} has two spikes in one step "
                f"of dt = {dt} ms (at {(flat[q] + 1) * dt + self.t_ms:g} ms); a neuron fires "
                "at most once per step: use a smaller dt")
        self._schedule = (indptr, flat)
        self._by_step = _step_schedule(indptr, flat, int(n_steps))
        self._state[0] = indptr[:-1]

    def scheduled_steps(self) -> list[np.ndarray]:
        """Per neuron, the run-relative steps of the spikes drawn by the last
        :meth:`prepare_run` (a spike of step ``k`` is stamped ``(k + 1) dt``)."""
        indptr, flat = self._schedule
        return [flat[indptr[i]:indptr[i + 1]].copy() for i in range(self.n)]

    def _kernel_params(self, dt: float) -> np.ndarray:
        # the step-ordered schedule of the last prepare_run (see _step_schedule)
        return self._by_step.reshape(-1, 1)

    def compiled_kernel(self):
        """:func:`source_kernel` (one compiled function for every kind of source)."""
        return source_kernel

    def _draw(self, rng, dt: float, n_steps: int) -> list[np.ndarray]:
        raise NotImplementedError

    def _draw_schedule(self, rng, dt: float, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        """The run's spikes as ``(indptr, flat)``: neuron ``i``'s run-relative steps are
        ``flat[indptr[i]:indptr[i + 1]]``; by default :meth:`_draw`'s arrays, joined (a
        subclass may draw them joined in the first place)."""
        return _schedule_of(self._draw(rng, dt, n_steps))

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
            raise InvalidArgumentError(f"{type(self).__name__} takes no input_current (a "
                                       "spike source has no membrane)")
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
        n = check_size("PoissonSource", n)
        self.rate_hz = _rates("PoissonSource.rate_hz", rate_hz, n)
        super().__init__(n, label=label, seed=seed)

    def _draw_schedule(self, rng, dt, n_steps):
        p = self.rate_hz * dt * 1e-3
        if np.any(p > 1.0):
            raise InvalidArgumentError(
                f"PoissonSource.rate_hz * dt must be <= 1 (at most one spike per step); max "
                f"rate {self.rate_hz.max()} Hz at dt = {dt} ms, where at most {1e3 / dt:g} Hz "
                "can be represented: use a smaller dt or a lower rate")
        return _geometric_schedule(rng, p, n_steps)

    def _draw(self, rng, dt, n_steps):
        indptr, flat = self._draw_schedule(rng, dt, n_steps)
        return [flat[indptr[i]:indptr[i + 1]] for i in range(self.n)]

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
        owner = "InhomogeneousPoissonSource"
        n = check_size(owner, n)
        t = check_array(f"{owner}.times_ms", times_ms, bounds=NON_NEGATIVE, unit="ms",
                        allow_empty=False)
        if np.any(np.diff(t) <= 0):
            raise InvalidArgumentError(f"{owner}.times_ms must be finite, >= 0 and strictly "
                                       "increasing")
        r = check_array(f"{owner}.rates_hz", rates_hz, ndims=(1, 2), unit="Hz")
        if r.shape not in ((t.size,), (t.size, n)):
            raise InvalidArgumentError(f"{owner}.rates_hz must have shape ({t.size},) or "
                                       f"({t.size}, {n}) (one row per time, one column per "
                                       f"neuron), got {r.shape}")
        if np.any(r < 0):
            raise InvalidArgumentError(f"{owner}.rates_hz must be finite and >= 0 Hz, got "
                                       f"{r.min()!r}")
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
            raise InvalidArgumentError(
                f"InhomogeneousPoissonSource.rates_hz * dt must be <= 1 (at most one spike per "
                f"step); max rate {r_max.max()} Hz at dt = {dt} ms, where at most "
                f"{1e3 / dt:g} Hz can be represented: use a smaller dt or lower rates")
        cand = _geometric_steps(rng, p_max, n_steps)
        out = []
        for i, k in enumerate(cand):
            if k.size == 0:
                out.append(k)
                continue
            # neuron i's rate at its candidates (rate_at(t)[:, i] without the (k, n) array:
            # quadratic in n)
            j = np.searchsorted(self.times_ms, self.t_ms + k * dt, side="right") - 1
            col = self.rates_hz if self.rates_hz.ndim == 1 else self.rates_hz[:, i]
            r = np.where(j >= 0, col[np.maximum(j, 0)], 0.0)
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
        self.spike_times = _time_lists("SpikeTimesSource.spike_times", spike_times)
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
        owner = "RepeatedPatternSource"
        period = check_number(f"{owner}.period_ms", period_ms, POSITIVE, "ms")
        jitter = check_number(f"{owner}.jitter_ms", jitter_ms, NON_NEGATIVE, "ms")
        start = check_number(f"{owner}.start_ms", start_ms, NON_NEGATIVE, "ms")
        self.pattern = _time_lists(f"{owner}.pattern", pattern, upper=period)
        self.period_ms, self.jitter_ms, self.start_ms = period, jitter, start
        super().__init__(len(self.pattern), label=label, seed=seed)

    def _draw(self, rng, dt, n_steps):
        t0, t1 = self.t_ms, self.t_ms + n_steps * dt
        # repetitions whose (jittered) spikes can fall into (t0, t1]
        margin = 8.0 * self.jitter_ms
        r0 = max(0, int(math.floor((t0 - self.start_ms - margin) / self.period_ms)))
        r1 = int(math.ceil((t1 - self.start_ms + margin) / self.period_ms))
        n_spk = sum(int(p.size) for p in self.pattern)
        if n_spk == 0:
            return [np.zeros(0, np.int64) for _ in self.pattern]
        if self.period_ms < dt:  # (jittered, its spikes would merge: as meaningless)
            raise InvalidArgumentError(
                f"RepeatedPatternSource {self.label!r}: period_ms = {self.period_ms:g} is "
                f"shorter than dt = {dt:g} ms, so a neuron would fire more than once per "
                "step; use a period >= dt or a smaller dt")
        n_rep = max(r0, r1) + 1 - r0
        # the repetitions' times, jitter and steps: about 4 float64/int64 arrays of them
        check_allocation(f"RepeatedPatternSource {self.label!r}: {n_rep} repetitions of "
                         f"{n_spk} pattern spikes", 32 * n_rep * n_spk,
                         "use a longer period_ms, a smaller jitter_ms or a shorter run")
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


#: the keyword arguments of each source kind (besides n and label) that a dict may give
_SOURCE_KEYS = {
    "PoissonSource": ("rate_hz", "seed"),
    "InhomogeneousPoissonSource": ("times_ms", "rates_hz", "seed"),
    "SpikeTimesSource": ("spike_times",),
    "RepeatedPatternSource": ("pattern", "period_ms", "jitter_ms", "start_ms", "seed"),
}


def source_from_dict(spec: dict, label: str | None = None) -> SpikeSource:
    """A spike source from :meth:`SpikeSource.to_dict`'s dict (``model``, ``n``,
    ``params``); an InvalidArgumentError (a ValueError) names what is wrong.

    >>> src = source_from_dict({"model": "PoissonSource", "n": 4, "params": {"rate_hz": 5}})
    >>> src.to_dict() == source_from_dict(src.to_dict()).to_dict()
    True
    """
    if not isinstance(spec, dict):
        raise ArgumentTypeError(f"a spike source spec must be a dict with model, n and "
                                f"params, got {type(spec).__name__}")
    model = spec.get("model")
    if not isinstance(model, str) or model not in SOURCES:
        raise InvalidArgumentError(f"model must be one of {list(SOURCES)}, got {model!r}")
    params = spec.get("params", {})
    if not isinstance(params, dict):
        raise ArgumentTypeError(f"{model} params must be a dict, got {type(params).__name__}")
    params = dict(params)
    unknown = set(params) - set(_SOURCE_KEYS[model])
    if unknown:
        raise InvalidArgumentError(f"{model} has no parameter {sorted(unknown)[0]!r}; its "
                                   f"parameters: {', '.join(_SOURCE_KEYS[model])}")
    n = spec.get("n")
    if model in ("SpikeTimesSource", "RepeatedPatternSource"):
        key = "spike_times" if model == "SpikeTimesSource" else "pattern"
        if key not in params:
            raise InvalidArgumentError(f"{model} needs params.{key}")
        src = SOURCES[model](**params, label=label)
        if n is not None and check_size(model, n) != src.n:
            raise InvalidArgumentError(f"n ({n}) differs from the number of neurons in "
                                       f"params.{key} ({src.n})")
    else:
        if n is None:
            raise InvalidArgumentError(f"{model} needs n")
        src = SOURCES[model](n, **params, label=label)
    return src
