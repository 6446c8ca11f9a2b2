r"""Neuromodulators during a run: a dopamine-like level read continuously by reward-modulated
STDP (Izhikevich 2007, "Solving the distal reward problem through linkage of STDP and dopamine
signaling", Cereb Cortex 17:2443).

A :class:`Neuromodulator` is a state of the network (``net.add(Neuromodulator(...))``): a
level :math:`d(t)` (µM) that decays with its time constant and is driven by its sources,

.. math::

    \frac{dd}{dt} = -\frac{d - d_0}{\tau_d} + r(t) + \sum_k a_k\,\delta(t - t_k),

with :math:`d_0` the tonic ``baseline``, :math:`r(t)` a release rate (µM/ms, a time series)
and jumps :math:`a_k` at reward events (given times, a population's spikes, or the rewards a
:class:`PairingReward` schedules while the network runs). Without release the phasic level is
a sum of decaying exponentials, :math:`d(t) = d_0 + \sum_{t_k \le t} a_k e^{-(t-t_k)/\tau_d}`.
Jumps act at the step boundary nearest their time (spikes at their time stamp
``(step + 1) dt``); between boundaries the level is integrated exactly (the release held
constant over a step).

A reward-modulated STDP projection reading a modulator
(``STDPSynapse.create_reward_modulated(pre, post, modulator=da)``) changes its weights
continuously, in proportion to its eligibility :math:`c` (see
:mod:`neurosim_nb.core.synapses.stdp`) times the level:

.. math::

    \frac{dw}{dt} = \frac{\eta}{\tau_d}\, c(t)\, d(t),

with :math:`\eta` the ``learning_rate``. The factor :math:`1/\tau_d` makes a brief pulse
:math:`a` (:math:`\tau_d \ll \tau_c`) change a weight by :math:`\eta\,a\,c`, as
``apply_reward(a)`` does between runs (which keeps working). The integral of :math:`c\,d` is
computed exactly between spikes (both are exponentials), event-driven per synapse; weights are
clipped to ``[w_min, w_max]`` at each update (exact while :math:`d` keeps one sign). With a
level of zero throughout the weights never change, bit for bit.

The run records ``modulator_level`` (``modulator_time``, ``modulator``; µM, sampled every
``sample_ms``) and the jumps applied (``modulator_event_time``, ``modulator_event_amount``,
``modulator_event_name`` on ``modulator_event``). Event times given to sources are network
time (ms since the network's first run began, ``population.t_ms``), so a reward scheduled
beyond the end of a run acts in the next one; the Dataset's times are relative to the run,
like ``time`` and ``spike_time``.

Examples
--------
>>> from neurosim_nb import LIFNeuron, Network
>>> net = Network(seed=0)
>>> _ = net.add_population("a", LIFNeuron(n=2))
>>> da = net.add(Neuromodulator("dopamine", tau_ms=200.0,
...                             sources=[RewardEvents([10.0, 30.0], amounts=0.5)]))
>>> ds = net.simulate(50.0, seed=0, record=())
>>> d = ds.modulator_level.sel(modulator="dopamine")
>>> t = d.modulator_time.values
>>> ref = 0.5 * (np.exp(-(t - 10) / 200) * (t >= 10) + np.exp(-(t - 30) / 200) * (t >= 30))
>>> bool(np.allclose(d.values, ref, rtol=1e-12, atol=0))
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from neurosim_nb._jit import njit

__all__ = ["Neuromodulator", "RewardEvents", "ReleaseSeries", "SpikeRelease", "PairingReward",
           "modulators_dataset"]

#: seed-sequence key that separates the modulators' random streams from the stimuli's
_SEED_KEY = 0xDA


@njit(cache=True)
def _advance_level(p0, decay, steady_gain, rate, has_rate, jumps, out):
    """Phasic level at the block's boundaries: ``out[0] = p0`` and, step by step, the
    exact decay plus the release held constant over the step, then the jumps at the
    step's end boundary."""
    out[0] = p0
    for i in range(jumps.size - 1):
        v = out[i] * decay
        if has_rate:
            v += rate[i] * steady_gain
        out[i + 1] = v + jumps[i + 1]


@njit(cache=True)
def modulated_integral(h0, x0, k_c, level, steady, has_steady, baseline, a_fast, a_slow, out):
    r"""Running integral :math:`H(b) = \int e^{-(t - t_R)/\tau_c} d(t)\,dt` over a block's
    boundaries: ``out[0] = h0``; step ``i`` (boundary ``x0 + i`` steps after the reference
    :math:`t_R`) adds :math:`e^{-(x_0+i)k_c}[(q_i + d_0) A_{slow} + (p_i - q_i) A_{fast}]`,
    exact for :math:`d(u) = q + d_0 + (p - q)e^{-u/\tau_d}` over the step
    (``a_slow`` :math:`= \tau_c(1-e^{-dt/\tau_c})`, ``a_fast`` the same with
    :math:`1/\tau_{cd} = 1/\tau_c + 1/\tau_d`)."""
    out[0] = h0
    for i in range(level.size - 1):
        q = steady[i] if has_steady else 0.0
        out[i + 1] = out[i] + math.exp(-(x0 + i) * k_c) * (
            (q + baseline) * a_slow + (level[i] - q) * a_fast)


@dataclass(frozen=True)
class RewardEvents:
    """Jumps of the level at given times (network time, ms) by ``amounts`` (µM, one or one
    per time; negative amounts are punishments).

    >>> RewardEvents([100.0, 250.0], amounts=0.5).amounts.tolist()
    [0.5, 0.5]
    """

    times_ms: np.ndarray
    amounts: np.ndarray | float = 1.0

    def __post_init__(self) -> None:
        t = np.atleast_1d(np.asarray(self.times_ms, dtype=float))
        a = np.broadcast_to(np.asarray(self.amounts, dtype=float), t.shape).copy() \
            if np.ndim(self.amounts) == 0 else np.asarray(self.amounts, dtype=float)
        if t.ndim != 1 or a.shape != t.shape:
            raise ValueError(f"amounts must be one number or one per time ({t.size}), got "
                             f"shape {a.shape}")
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(a))):
            raise ValueError("RewardEvents: times_ms and amounts must be finite")
        if t.size and t.min() < 0:
            raise ValueError(f"RewardEvents: times_ms must be >= 0 ms, got {t.min()}")
        object.__setattr__(self, "times_ms", t)
        object.__setattr__(self, "amounts", a)

    def initial_events(self):
        return list(zip(self.times_ms.tolist(), self.amounts.tolist(), strict=True))


@dataclass(frozen=True)
class ReleaseSeries:
    """A release rate (µM/ms) given as a time series: linear interpolation between
    ``(times_ms, rate)`` (network time), zero outside; held constant over each step at
    its value at the step's start.

    >>> ReleaseSeries([0.0, 100.0], [0.0, 0.01]).rate_at(np.array([50.0, 200.0])).tolist()
    [0.005, 0.0]
    """

    times_ms: np.ndarray
    rate: np.ndarray

    def __post_init__(self) -> None:
        t = np.asarray(self.times_ms, dtype=float)
        r = np.asarray(self.rate, dtype=float)
        if t.ndim != 1 or r.shape != t.shape or t.size < 2:
            raise ValueError("ReleaseSeries: times_ms and rate must be 1-D of the same length "
                             ">= 2")
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(r))):
            raise ValueError("ReleaseSeries: times_ms and rate must be finite")
        if np.any(np.diff(t) <= 0):
            raise ValueError("ReleaseSeries: times_ms must increase")
        object.__setattr__(self, "times_ms", t)
        object.__setattr__(self, "rate", r)

    def rate_at(self, t_ms: np.ndarray) -> np.ndarray:
        """Release rate (µM/ms) at network times ``t_ms``."""
        return np.interp(t_ms, self.times_ms, self.rate, left=0.0, right=0.0)


@dataclass(frozen=True)
class SpikeRelease:
    """Each spike of ``population`` (of ``neurons``, local indices; default all) raises the
    level by ``amount`` (µM) ``delay_ms`` after its time stamp (dopaminergic neurons)."""

    population: str
    amount: float = 0.5
    neurons: tuple | None = None
    delay_ms: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.population, str):
            raise TypeError(f"SpikeRelease: population must be a population name, got "
                            f"{type(self.population).__name__}")
        if not math.isfinite(self.amount) or not (math.isfinite(self.delay_ms)
                                                  and self.delay_ms >= 0):
            raise ValueError("SpikeRelease: amount must be finite and delay_ms finite >= 0")
        if self.neurons is not None:
            object.__setattr__(self, "neurons", tuple(int(i) for i in
                                                      np.atleast_1d(self.neurons)))


@dataclass(frozen=True)
class PairingReward:
    """Izhikevich (2007)'s reward contingency: every time neuron ``post_neuron`` of ``post``
    fires within ``window_ms`` after neuron ``pre_neuron`` of ``pre`` (``0 < t_post - t_pre
    <= window_ms``, the last ``pre`` spike counted once), a reward of ``amount`` (µM) is
    scheduled ``delay_ms`` later, drawn uniformly from ``(low, high)`` (default 1-3 s) with
    the run's seed. The delay must be longer than a step."""

    pre: str
    pre_neuron: int
    post: str
    post_neuron: int
    window_ms: float = 10.0
    delay_ms: tuple = (1000.0, 3000.0)
    amount: float = 0.5

    def __post_init__(self) -> None:
        lo, hi = (float(v) for v in self.delay_ms)
        if not (0 < lo <= hi and math.isfinite(hi)):
            raise ValueError(f"PairingReward: delay_ms must be (low, high) with "
                             f"0 < low <= high, got {self.delay_ms!r}")
        if not (self.window_ms > 0 and math.isfinite(self.window_ms)):
            raise ValueError(f"PairingReward: window_ms must be > 0, got {self.window_ms!r}")
        object.__setattr__(self, "delay_ms", (lo, hi))


_SOURCES = (RewardEvents, ReleaseSeries, SpikeRelease, PairingReward)


@dataclass
class Neuromodulator:
    """A neuromodulator level (µM) of a network; see the module docstring.

    Parameters
    ----------
    name : str
        Its name in the network (``net.modulators[name]``) and in the Dataset.
    tau_ms : float
        Decay time constant (ms); Izhikevich (2007): :math:`\\tau_d` = 200 ms.
    baseline : float
        Tonic level :math:`d_0` (µM, default 0: no reward, no weight change).
    sources : list
        :class:`RewardEvents`, :class:`ReleaseSeries`, :class:`SpikeRelease`,
        :class:`PairingReward`.
    sample_ms : float
        Recording interval of the level (ms, rounded to whole steps).

    ``net.add(modulator)`` returns it; :meth:`reward` schedules a jump from Python.
    """

    name: str = "dopamine"
    tau_ms: float = 200.0
    baseline: float = 0.0
    sources: list = field(default_factory=list)
    sample_ms: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Neuromodulator: name must be a non-empty string, got "
                             f"{self.name!r}")
        for what, v in (("tau_ms", self.tau_ms), ("sample_ms", self.sample_ms)):
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise ValueError(f"Neuromodulator: {what} must be a finite number > 0 ms, "
                                 f"got {v!r}")
        if not math.isfinite(self.baseline):
            raise ValueError(f"Neuromodulator: baseline must be finite, got {self.baseline!r}")
        self.sources = list(self.sources)
        for s in self.sources:
            if not isinstance(s, _SOURCES):
                raise TypeError(f"Neuromodulator: a source must be one of "
                                f"{[c.__name__ for c in _SOURCES]}, got {type(s).__name__}")
        self.network = None
        self.reset()

    # -- building -----------------------------------------------------------------------
    def build(self, network) -> Neuromodulator:
        """Register in ``network`` (what ``network.add(modulator)`` does)."""
        mods = network.__dict__.setdefault("modulators", {})
        if self.network is not None and self.network is not network:
            raise ValueError(f"neuromodulator {self.name!r} already belongs to another "
                             f"network")
        if self.name in mods and mods[self.name] is not self:
            raise ValueError(f"the network already has a neuromodulator {self.name!r}")
        for s in self.sources:
            for pop in _populations_of(s):
                network.population(pop)
        mods[self.name] = self
        self.network = network
        return self

    def reset(self) -> None:
        """Level back to zero, scheduled events back to the sources' own."""
        self.level = 0.0  # phasic part, at the end of the last run
        self.t_ms = 0.0  # network time at the end of the last run
        self._pending: list[tuple[float, float, str]] = [
            (t, a, "events") for s in self.sources if isinstance(s, RewardEvents)
            for t, a in s.initial_events()]
        self._last_pre: dict[int, float] = {}
        self.dt = None
        self.blk = (-1, -1)  # the steps of the block last advanced (none)

    def reward(self, amount: float = 0.5, at_ms: float | None = None) -> None:
        """Schedule a jump of ``amount`` µM at network time ``at_ms`` (default: the start of
        the next run)."""
        a = float(amount)
        t = self.t_ms if at_ms is None else float(at_ms)
        if not (math.isfinite(a) and math.isfinite(t)):
            raise ValueError(f"reward: amount and at_ms must be finite, got {amount!r}, "
                             f"{at_ms!r}")
        self._pending.append((t, a, "reward"))

    @property
    def value(self) -> float:
        """The level now (µM): baseline plus phasic part."""
        return self.baseline + self.level

    # -- the engine's protocol: begin_run, advance per block, finish_run ----------------
    def begin_run(self, net, dt: float, n_steps: int, seed: int) -> None:
        """Prepare a run of ``n_steps`` steps of ``dt`` ms from the network's current time."""
        self.dt = float(dt)
        self.t0 = self.t_ms
        self.decay = math.exp(-dt / self.tau_ms)
        self.steady_gain = self.tau_ms * (1.0 - self.decay)
        off = net.offsets()
        self._gid = {}
        for s in self.sources:
            if isinstance(s, SpikeRelease):
                base = off[s.population]
                n = net.populations[s.population].n
                idx = np.arange(n) if s.neurons is None else np.asarray(s.neurons)
                if idx.size and (idx.min() < 0 or idx.max() >= n):
                    raise ValueError(f"SpikeRelease: neurons out of range for population "
                                     f"{s.population!r} (0..{n - 1})")
                self._gid[id(s)] = idx + base
            elif isinstance(s, PairingReward):
                for pop, i in ((s.pre, s.pre_neuron), (s.post, s.post_neuron)):
                    if not 0 <= i < net.populations[pop].n:
                        raise ValueError(f"PairingReward: neuron {i} out of range for "
                                         f"population {pop!r}")
                self._gid[id(s)] = (off[s.pre] + s.pre_neuron, off[s.post] + s.post_neuron)
        names = sorted(net.modulators)
        self.rng = np.random.default_rng(np.random.SeedSequence(
            [int(seed), _SEED_KEY, names.index(self.name)]))
        self.series = [s for s in self.sources if isinstance(s, ReleaseSeries)]
        self.every = max(1, int(round(self.sample_ms / dt)))
        self.samples = np.zeros(n_steps // self.every)
        self.events: list[tuple[float, float, str]] = []
        # block outputs read by reward-modulated STDP
        self.blk = (-1, -1)
        self.blk_level = np.zeros(1)
        self.blk_steady = np.zeros(0)
        self.active = self.baseline != 0.0 or self.level != 0.0

    def advance(self, step0: int, k: int, steps: np.ndarray, ids: np.ndarray) -> None:
        """Advance over steps ``step0 .. step0 + k - 1`` whose spikes are ``steps``/``ids``
        (global step, global id, in time order)."""
        dt = self.dt
        self._spike_events(steps, ids)
        jumps = np.zeros(k + 1)
        if self._pending:
            keep = []
            for t, a, src in self._pending:
                b = int(round((t - self.t0) / dt))
                if b > step0 + k:
                    keep.append((t, a, src))
                    continue
                if b <= step0:  # due before this block: at the run's start, or next step
                    b = 0 if step0 == 0 else step0 + 1
                if b == 0:
                    self.level += a
                else:
                    jumps[b - step0] += a
                self.events.append((b * dt, a, src))
            self._pending = keep
        if self.series:
            t = self.t0 + (step0 + np.arange(k)) * dt
            rate = sum(s.rate_at(t) for s in self.series)
            has_rate = bool(np.any(rate != 0.0))
        else:
            rate, has_rate = np.zeros(0), False
        level = np.empty(k + 1)
        _advance_level(self.level, self.decay, self.steady_gain, rate, has_rate, jumps, level)
        self.blk = (step0, step0 + k)
        self.blk_level = level
        self.blk_steady = rate * self.tau_ms if has_rate else np.zeros(0)
        self.active = bool(self.active or has_rate or level[-1] != 0.0 or np.any(jumps))
        self.level = float(level[-1])
        # record at boundaries that are multiples of `every` (the run's sample grid)
        first = (step0 // self.every + 1) * self.every
        for b in range(first, step0 + k + 1, self.every):
            j = b // self.every - 1
            if j < self.samples.size:
                self.samples[j] = self.baseline + level[b - step0]

    def _spike_events(self, steps, ids) -> None:
        dt = self.dt
        for s in self.sources:
            if isinstance(s, SpikeRelease):
                sel = np.isin(ids, self._gid[id(s)])
                if np.any(sel):
                    t = self.t0 + (steps[sel] + 1) * dt + s.delay_ms
                    self._pending.extend((float(x), s.amount, s.population) for x in t)
            elif isinstance(s, PairingReward):
                g_pre, g_post = self._gid[id(s)]
                pre_t = self.t0 + (steps[ids == g_pre] + 1) * dt
                post_t = self.t0 + (steps[ids == g_post] + 1) * dt
                if not post_t.size:
                    if pre_t.size:
                        self._last_pre[id(s)] = float(pre_t[-1])
                    continue
                last = self._last_pre.get(id(s), -math.inf)
                i = 0
                for tp in post_t:
                    while i < pre_t.size and pre_t[i] < tp:
                        last = float(pre_t[i])
                        i += 1
                    if 0 < tp - last <= s.window_ms + 1e-9:
                        delay = self.rng.uniform(*s.delay_ms)
                        self._pending.append((tp + delay, s.amount, "pairing"))
                        last = -math.inf  # this pre spike is rewarded once
                if i < pre_t.size:
                    last = float(pre_t[-1])
                self._last_pre[id(s)] = last

    def finish_run(self, n_done: int) -> None:
        """End a run after ``n_done`` steps: the level and clock carry to the next run."""
        self.t_ms = self.t0 + n_done * self.dt
        self.samples = self.samples[:n_done // self.every]
        self.blk = (-1, -1)


def _populations_of(source) -> list[str]:
    if isinstance(source, SpikeRelease):
        return [source.population]
    if isinstance(source, PairingReward):
        return [source.pre, source.post]
    return []


def modulators_dataset(modulators) -> xr.Dataset:
    """The recorded levels and jumps of a run's modulators as Dataset variables (see the
    module docstring); the modulators of a network share one ``sample_ms``."""
    mods = list(modulators)
    everies = {m.every for m in mods}
    if len(everies) != 1:
        raise ValueError("the neuromodulators of a network must share sample_ms; got "
                         f"{ {m.name: m.sample_ms for m in mods} }")
    every = everies.pop()
    dt = mods[0].dt
    n = min(m.samples.size for m in mods)
    ev = [(t, a, m.name) for m in mods for t, a, _ in m.events]
    ev.sort(key=lambda e: e[0])
    return xr.Dataset(
        {"modulator_level": (("modulator_time", "modulator"),
                       np.stack([m.samples[:n] for m in mods], axis=1),
                       {"units": "uM", "long_name": "neuromodulator level"}),
         "modulator_event_time": ("modulator_event", np.array([e[0] for e in ev], float),
                                  {"units": "ms", "long_name": "time of a level jump"}),
         "modulator_event_amount": ("modulator_event", np.array([e[1] for e in ev], float),
                                    {"units": "uM", "long_name": "size of a level jump"}),
         "modulator_event_name": ("modulator_event", np.array([e[2] for e in ev], dtype=object),
                                  {"units": "1", "long_name": "neuromodulator of the jump"})},
        coords={"modulator_time": ("modulator_time", np.arange(1, n + 1) * every * dt,
                                   {"units": "ms", "long_name": "time of level sample"}),
                "modulator": ("modulator", np.array([m.name for m in mods], dtype=object),
                              {"long_name": "neuromodulator name"}),
                "modulator_tau": ("modulator", np.array([m.tau_ms for m in mods]),
                                  {"units": "ms", "long_name": "decay time constant"})})
