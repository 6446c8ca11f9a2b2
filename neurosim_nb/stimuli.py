"""Stimulus protocols: currents and Poisson spike input for all or chosen neurons.

Every stimulus is a small frozen description; the simulator turns it into per-step
values chunk by chunk (vectorised numpy, no Python work per neuron per step).

* Deterministic currents (nA, or the model's own current unit, see
  ``population.current_units``): :class:`ConstantCurrent`, :class:`StepCurrent`,
  :class:`PulseTrain`, :class:`RampCurrent`, :class:`SineCurrent`, :class:`Waveform`.
* Noise: :class:`OUNoise` (Ornstein-Uhlenbeck current, exact update).
* Spikes: :class:`PoissonInput` -- each input spike makes an instantaneous synaptic
  kick of ``weight_mV`` on the membrane potential (a delta synapse, as in Brunel 2000),
  so it acts on every neuron model in the same way.

Times are in ms **relative to the start of the run**; a stimulus is active on
``onset_ms <= t < onset_ms + duration_ms`` where ``t`` is the start of a step.
``targets=None`` means every neuron; otherwise a sequence of neuron indices.

Examples
--------
>>> import numpy as np
>>> s = PulseTrain(amplitude=2.0, onset_ms=10.0, pulse_ms=1.0, frequency_hz=100.0)
>>> s.waveform(np.array([9.0, 10.0, 10.5, 11.0, 20.0]))
array([0., 2., 2., 0., 2.])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurosim_nb._jit import njit
from neurosim_nb._validation import (
    NON_NEGATIVE,
    POSITIVE,
    Bounds,
    check_array,
    check_integer,
    check_number,
)
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError
from neurosim_nb.numerics.pcg64 import random_into
from neurosim_nb.numerics.philox import mulhilo, philox4x64, uniform53

__all__ = [
    "Stimulus", "ConstantCurrent", "StepCurrent", "PulseTrain", "RampCurrent", "SineCurrent",
    "Waveform", "OUNoise", "PoissonInput", "as_stimuli",
]


#: times closer than this (ms) to an edge count as on the edge (absorbs float round-off of k*dt)
EPS_MS = 1e-7


#: the largest summed input rate of a :class:`PoissonInput` per target,
#: ``n_sources * rate_hz`` (Hz): 10**4 afferents each firing at 10 kHz, ten times the
#: fastest a neuron can fire (its refractory period is >= 1 ms). Beyond it a rate is not a
#: neural input but a typo or an overflow: at 10**19 per step the compiled Poisson draw
#: overflows int64 (a 1e30 Hz drive gave no spike at all), and the ``"gaps"`` sampler,
#: which draws one variate per input spike, would run for hours.
MAX_POISSON_RATE_HZ = 1.0e8


def _compact(n: int) -> str:
    """An int for a message, in scientific notation beyond 15 digits."""
    digits = str(abs(n))
    return digits if len(digits) <= 15 else f"{'-' if n < 0 else ''}{digits[0]}e{len(digits) - 1}"


def _check(stim, name: str, bounds: Bounds | None = None, unit: str = "",
           allow_inf: bool = False) -> float:
    """Field ``name`` of ``stim`` checked by :func:`~neurosim_nb._validation.check_number`
    (the message names ``Class.name``). An int beyond the float range where infinity is
    allowed (a duration) is stored as ``inf``: NumPy cannot compare times with it."""
    value = getattr(stim, name)
    v = check_number(f"{type(stim).__name__}.{name}", value, bounds, unit, allow_inf)
    if math.isinf(v) and not isinstance(value, float):
        object.__setattr__(stim, name, v)
    return v


def _finite(name: str, value: Any, *, positive: bool = False, nonneg: bool = False) -> None:
    """A number or an array of numbers (``name`` in messages): finite, and > 0 or >= 0."""
    bounds = POSITIVE if positive else NON_NEGATIVE if nonneg else None
    if np.ndim(value) == 0 and not isinstance(value, list | tuple):
        check_number(name, value, bounds)
    else:
        check_array(name, value, ndims=(1,), bounds=bounds)


def _check_targets(owner: str, targets) -> None:
    """``targets`` at construction: None, a neuron index, a 1-D sequence of distinct
    indices >= 0 or a boolean mask (its length is checked at :meth:`Stimulus.bind`)."""
    if targets is None:
        return
    where = f"{owner}.targets"
    wrong = ArgumentTypeError(f"{where} must be None, neuron indices (integers) or a boolean "
                              f"mask, got {targets!r:.80}")
    if isinstance(targets, int | np.integer) and not isinstance(targets, bool):
        idx = np.array([targets])
    elif isinstance(targets, list | tuple | range | np.ndarray):
        if isinstance(targets, list | tuple) and any(
                isinstance(t, list | tuple | np.ndarray) for t in targets):
            raise InvalidArgumentError(f"{where} must be a flat sequence of neuron indices, "
                                       f"got {targets!r:.80}")
        kinds = {isinstance(t, bool | np.bool_) for t in targets} if isinstance(
            targets, list | tuple) else set()
        if len(kinds) > 1:  # True among indices would silently be neuron 1
            raise wrong
        idx = np.atleast_1d(np.asarray(targets))
        if idx.ndim != 1:
            raise InvalidArgumentError(f"{where} must be 1-D (neuron indices or a mask), got "
                                       f"shape {idx.shape}")
    else:
        raise wrong
    if idx.dtype == bool:
        return
    if idx.size and idx.dtype.kind not in "iu":
        if idx.dtype.kind == "f" and np.all(np.isfinite(idx)) and np.all(idx == np.round(idx)):
            pass  # integral floats (from a JSON document) are indices
        else:
            raise ArgumentTypeError(f"{where} must be neuron indices (integers) or a boolean "
                                    f"mask, got {targets!r:.80}")
    if idx.size and idx.min() < 0:
        raise InvalidArgumentError(f"{where} must be neuron indices >= 0, got {idx.min()!r}")
    if np.unique(idx).size != idx.size:
        raise InvalidArgumentError(f"{where} lists a neuron twice (each target is driven "
                                   f"once; give distinct indices), got {targets!r:.80}")


def _targets_array(targets, n: int) -> np.ndarray | None:
    if targets is None:
        return None
    idx = np.atleast_1d(np.asarray(targets))
    if idx.dtype == bool:
        if idx.shape != (n,):
            raise InvalidArgumentError(f"a boolean target mask must have {n} entries (one per "
                                       f"neuron), got {idx.shape[0]}")
        idx = np.flatnonzero(idx)
    if idx.size and idx.dtype.kind == "f" and np.all(idx == np.round(idx)):
        idx = idx.astype(np.int64)
    if idx.size and not np.issubdtype(idx.dtype, np.integer):
        raise ArgumentTypeError(f"targets must be neuron indices (integers), got {targets!r}")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise InvalidArgumentError(f"targets {idx.tolist()[:10]} out of range for {n} neurons "
                                   f"(0..{n - 1})")
    return idx.astype(np.int64)


@dataclass(frozen=True)
class Stimulus:
    """Base class. ``kind`` is ``"current"`` (added to the input current) or ``"kick"``
    (an instantaneous jump of the membrane potential, mV)."""

    targets: Any = field(default=None, kw_only=True)
    kind = "current"
    stochastic = False

    def __post_init__(self) -> None:
        _check_targets(type(self).__name__, self.targets)

    def _n_targets(self, n: int) -> int:
        idx = _targets_array(self.targets, n)
        return n if idx is None else idx.size

    def check_width(self, n_targets: int) -> None:
        """Refuse per-target values (an amplitude vector, waveform columns) whose number is
        not ``n_targets``, the number of neurons the stimulus drives in a population
        (called by :meth:`bind`); the message names the expected length.

        >>> ConstantCurrent([1.0, 2.0]).check_width(3)
        Traceback (most recent call last):
        ...
        neurosim_nb.errors.InvalidArgumentError: ConstantCurrent.amplitude has 2 values where \
3 are needed (one per target neuron: the stimulus drives 3)
        """

    def bind(self, n: int, dt_ms: float, rng: np.random.Generator) -> _Runtime:
        """Bind to a population of ``n`` neurons; returns the per-run state."""
        idx = _targets_array(self.targets, n)
        self.check_width(n if idx is None else idx.size)
        return _Runtime(self, idx, n, dt_ms, rng)


class _Runtime:
    """A stimulus bound to one run: adds its values for a chunk of steps into a buffer."""

    def __init__(self, stim: Stimulus, idx: np.ndarray | None, n: int, dt: float, rng):
        self.stim, self.idx, self.n, self.dt, self.rng = stim, idx, n, dt, rng
        self.state = None

    def active_in(self, t_ms: np.ndarray) -> bool:
        """Whether :meth:`add` could add anything at step-start times ``t_ms``: False only
        for a stimulus with an on-window (deterministic ones, Poisson input) that is off in
        all of them -- the engine then neither fills nor reads its buffer for that block."""
        if isinstance(self.stim, _Deterministic):
            return bool(self.stim._active(t_ms).any())
        return True

    def add(self, out: np.ndarray, t_ms: np.ndarray) -> None:
        """Add this stimulus' values at step-start times ``t_ms`` (K,) into ``out`` (K, n)."""
        values = self.stim.values(self, t_ms)
        if self.idx is None:
            out += values if values.ndim == 2 else values[:, None]
        else:
            out[:, self.idx] += values if values.ndim == 2 else values[:, None]


@dataclass(frozen=True)
class _Deterministic(Stimulus):
    onset_ms: float = field(default=0.0, kw_only=True)
    duration_ms: float = field(default=np.inf, kw_only=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self, "onset_ms", NON_NEGATIVE, "ms")
        _check(self, "duration_ms", POSITIVE, "ms", allow_inf=True)

    def _active(self, t: np.ndarray) -> np.ndarray:
        return (t >= self.onset_ms - EPS_MS) & (t < self.onset_ms + self.duration_ms - EPS_MS)

    def waveform(self, t_ms: np.ndarray) -> np.ndarray:
        """Value at each time ``t_ms`` (ms): shape ``(len(t_ms),)`` or ``(len(t_ms), n)``."""
        raise NotImplementedError

    def values(self, rt: _Runtime, t_ms: np.ndarray) -> np.ndarray:
        return self.waveform(t_ms)


@dataclass(frozen=True)
class ConstantCurrent(_Deterministic):
    """A constant current ``amplitude`` (scalar, or one value per target) from onset on.

    >>> ConstantCurrent(1.5).waveform(np.array([0.0, 5.0]))
    array([1.5, 1.5])
    """

    amplitude: Any = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        where = f"{type(self).__name__}.amplitude"
        if isinstance(self.amplitude, list | tuple | np.ndarray):
            check_array(where, self.amplitude, ndims=(0, 1), allow_empty=False)
        else:
            check_number(where, self.amplitude)

    def check_width(self, n_targets: int) -> None:
        if np.ndim(self.amplitude) == 1 and len(self.amplitude) != n_targets:
            raise InvalidArgumentError(
                f"{type(self).__name__}.amplitude has {len(self.amplitude)} values where "
                f"{n_targets} are needed (one per target neuron: the stimulus drives "
                f"{n_targets})")

    def waveform(self, t_ms):
        on = self._active(t_ms).astype(float)
        return on[:, None] * np.asarray(self.amplitude, float)[None, :] \
            if np.ndim(self.amplitude) == 1 else on * float(self.amplitude)


@dataclass(frozen=True)
class StepCurrent(ConstantCurrent):
    """A current step of ``amplitude`` for ``duration_ms`` starting at ``onset_ms``.

    >>> StepCurrent(2.0, onset_ms=10.0, duration_ms=5.0).waveform(np.array([9.9, 10.0, 14.9, 15.0]))
    array([0., 2., 2., 0.])
    """


@dataclass(frozen=True)
class PulseTrain(_Deterministic):
    """Rectangular pulses of ``amplitude`` and width ``pulse_ms`` at ``frequency_hz``,
    starting at ``onset_ms``, for ``duration_ms`` (or ``n_pulses`` pulses)."""

    amplitude: float = 1.0
    pulse_ms: float = 1.0
    frequency_hz: float = 10.0
    n_pulses: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self, "amplitude")
        _check(self, "pulse_ms", POSITIVE, "ms")
        _check(self, "frequency_hz", POSITIVE, "Hz")
        period = 1000.0 / self.frequency_hz
        if self.pulse_ms > period:
            raise InvalidArgumentError(f"PulseTrain.pulse_ms ({self.pulse_ms}) exceeds the "
                                       f"period {period:g} ms of {self.frequency_hz} Hz")
        if self.n_pulses is not None:
            check_integer("PulseTrain.n_pulses", self.n_pulses, Bounds(1))

    def waveform(self, t_ms):
        period = 1000.0 / self.frequency_hz
        rel = t_ms - self.onset_ms
        phase = np.mod(rel + EPS_MS, period) - EPS_MS
        on = self._active(t_ms) & (phase < self.pulse_ms - EPS_MS)
        if self.n_pulses is not None:
            # (a count beyond 2**53 pulses is as good as none, and compares as a float)
            on &= np.floor((rel + EPS_MS) / period) < float(min(self.n_pulses, 2**53))
        return on * float(self.amplitude)


@dataclass(frozen=True)
class RampCurrent(_Deterministic):
    """A current rising linearly from ``start`` to ``end`` over ``duration_ms`` (zero outside)."""

    start: float = 0.0
    end: float = 1.0
    duration_ms: float = field(default=100.0, kw_only=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self, "start")
        _check(self, "end")
        _check(self, "duration_ms", POSITIVE, "ms")

    def waveform(self, t_ms):
        frac = (t_ms - self.onset_ms) / self.duration_ms
        return self._active(t_ms) * (self.start + (self.end - self.start) * frac)


@dataclass(frozen=True)
class SineCurrent(_Deterministic):
    """``offset + amplitude * sin(2 pi f (t - onset) + phase)`` while active."""

    amplitude: float = 1.0
    frequency_hz: float = 10.0
    offset: float = 0.0
    phase_rad: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("amplitude", "offset", "phase_rad"):
            _check(self, name)
        _check(self, "frequency_hz", POSITIVE, "Hz")

    def waveform(self, t_ms):
        arg = 2 * np.pi * self.frequency_hz * (t_ms - self.onset_ms) / 1000.0 + self.phase_rad
        return self._active(t_ms) * (self.offset + self.amplitude * np.sin(arg))


@dataclass(frozen=True)
class Waveform(Stimulus):
    """An arbitrary current waveform sampled every ``dt_ms`` (held between samples).

    ``samples`` is an array of shape ``(T,)`` (same for every target) or ``(T, n_targets)``,
    or an :class:`xarray.DataArray` with a ``time`` coordinate in ms (its sampling step is
    read from the coordinate, its first time shifts the onset) and optionally a second
    dimension over targets. Outside the sampled range the current is zero.

    >>> Waveform([0.0, 1.0, 2.0], dt_ms=1.0).waveform(np.array([0.0, 0.5, 1.0, 2.9, 3.0]))
    array([0., 0., 1., 2., 0.])
    """

    samples: Any = None
    dt_ms: float | None = None
    onset_ms: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        vals, dt = self.samples, self.dt_ms
        onset = _check(self, "onset_ms", unit="ms")
        if hasattr(vals, "dims") and hasattr(vals, "coords"):  # xarray.DataArray
            if "time" not in vals.dims:
                raise InvalidArgumentError("a DataArray waveform needs a 'time' dimension (ms)")
            if vals.ndim > 2:
                raise InvalidArgumentError(f"a DataArray waveform has time and at most one "
                                           f"dimension over targets, got {vals.dims}")
            t = check_array("Waveform.samples['time']", vals["time"].values, unit="ms")
            vals = vals.transpose("time", ...).values
            if t.size >= 2:
                steps = np.diff(t)
                if not (steps[0] > 0 and np.allclose(steps, steps[0], rtol=1e-6)):
                    raise InvalidArgumentError("a DataArray waveform needs a uniform, "
                                               "increasing time coordinate")
                dt = float(steps[0])
            onset = onset + (float(t[0]) if t.size else 0.0)
            if not math.isfinite(onset):
                raise InvalidArgumentError(f"Waveform.onset_ms + the first time must be finite, "
                                           f"got {onset}")
        if vals is None:
            raise ArgumentTypeError("Waveform.samples must be an array of (T,) or (T, n) "
                                    "numbers (or a DataArray with a 'time' dimension), got None")
        arr = check_array("Waveform.samples", vals, ndims=(1, 2), allow_empty=False)
        if arr.shape[0] == 0 or arr.size == 0:
            raise InvalidArgumentError(f"Waveform.samples must be a non-empty (T,) or (T, n) "
                                       f"array, got shape {arr.shape}")
        if dt is None:
            raise InvalidArgumentError("give dt_ms (the waveform's sampling step) for an array "
                                       "waveform")
        # times within EPS_MS of an edge count as on it: a step must be well above that
        dt = check_number("Waveform.dt_ms", dt, Bounds(10 * EPS_MS), "ms")
        object.__setattr__(self, "samples", arr)
        object.__setattr__(self, "dt_ms", dt)
        object.__setattr__(self, "onset_ms", onset)

    def check_width(self, n_targets: int) -> None:
        if self.samples.ndim == 2 and self.samples.shape[1] not in (1, n_targets):
            raise InvalidArgumentError(
                f"Waveform.samples has {self.samples.shape[1]} columns where {n_targets} are "
                f"needed (one per target neuron: the stimulus drives {n_targets}); give a "
                f"(T,) array for the same current in every target")

    def waveform(self, t_ms: np.ndarray) -> np.ndarray:
        # the sample index as a float, clipped before the cast: with a tiny dt_ms the
        # index of a late time exceeds int64 (an invalid cast)
        k = np.floor((t_ms - self.onset_ms + EPS_MS) / self.dt_ms)
        inside = (k >= 0) & (k < self.samples.shape[0])
        out = self.samples[np.clip(k, 0, self.samples.shape[0] - 1).astype(np.int64)]
        return out * (inside[:, None] if out.ndim == 2 else inside)

    def values(self, rt, t_ms):
        return self.waveform(t_ms)


@dataclass(frozen=True)
class OUNoise(Stimulus):
    r"""Ornstein-Uhlenbeck noise current, independent for each target neuron.

    :math:`\tau\,dI = (\mu - I)\,dt + \sigma\sqrt{2\tau}\,dW`, so the stationary mean is
    ``mean`` and the stationary standard deviation ``sigma``. Updated exactly each step
    (no dt bias); starts in the stationary distribution.
    """

    mean: float = 0.0
    sigma: float = 0.1
    tau_ms: float = 5.0
    onset_ms: float = 0.0
    duration_ms: float = np.inf
    stochastic = True

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self, "mean")
        _check(self, "sigma", NON_NEGATIVE)
        _check(self, "tau_ms", POSITIVE, "ms")
        _check(self, "onset_ms", NON_NEGATIVE, "ms")
        _check(self, "duration_ms", POSITIVE, "ms", allow_inf=True)

    def values(self, rt, t_ms):
        m = rt.n if rt.idx is None else rt.idx.size
        a = np.exp(-rt.dt / self.tau_ms)
        if rt.state is None:
            rt.state = self.mean + self.sigma * rt.rng.standard_normal(m)
        xi = rt.rng.standard_normal((t_ms.size, m)) * (self.sigma * np.sqrt(1 - a * a))
        xi += self.mean * (1 - a)
        # I[k] = a I[k-1] + xi[k], with I[-1] the carried state
        from scipy.signal import lfilter  # lazy: scipy.signal takes ~0.3 s to import

        x, zf = lfilter([1.0], [1.0, -a], xi, axis=0, zi=(a * rt.state)[None, :])
        rt.state = x[-1].copy()
        on = (t_ms >= self.onset_ms - EPS_MS) & (t_ms < self.onset_ms + self.duration_ms - EPS_MS)
        return x * on[:, None]


@dataclass(frozen=True)
class PoissonInput(Stimulus):
    """Poisson spike input: ``n_sources`` independent sources at ``rate_hz`` each, every
    input spike kicking the membrane potential of its target by ``weight_mV``.

    Each target gets its own independent trains. A 1 kHz drive with the default 2 mV kick
    raises a LIF neuron's mean potential by ``rate * weight * tau_m`` (20 mV for
    tau_m = 10 ms), enough to make it fire.

    The summed count of the ``n_sources`` trains in a step is Poisson with mean
    ``lam = n_sources * rate_hz * dt / 1000``; it is drawn in a compiled loop, by table
    inversion for ``lam <= POISSON_TABLE_MAX_LAM`` (30) and by the generator's ``poisson``
    above, from the stimulus' own generator (a child of the run seed) in (step, target)
    order, only for steps inside the active window. The same seed therefore gives the
    same kicks however the run is chunked -- but not the numbers numpy's
    ``Generator.poisson`` would draw for the same seed.

    ``sampling`` chooses how the counts are drawn -- two samplers of the same process
    (each step's count Poisson(``lam``), independent across steps and targets), with
    different random numbers:

    * ``"per_step"`` (default): one uniform per target and active step, inverted as above
      (about 2.5 ns per target and step at small ``lam``); the stream of earlier versions,
      so existing seeds reproduce.
    * ``"gaps"``: each target's input is a Poisson process in continuous time, its
      exponential inter-event gaps (mean ``1 / lam`` steps) laid end to end on the active
      steps and each event counted in the step it falls in -- so the count of a step is
      exactly Poisson(``lam``) and independent of every other step's. It costs one
      variate per event (about 10 ns), not one per step: cheaper when ``lam`` is small
      (below ~0.3; a 500 Hz drive at dt = 0.1 ms has 0.05: ~7x fewer operations). The
      gaps come from a counter-based generator
      (:func:`~neurosim_nb.numerics.philox.philox4x64`, numpy's Philox) addressed by
      (target, gap index) under a key drawn from the stimulus' generator; each target's
      next event time is carried from chunk to chunk, so the kicks do not depend on how
      the run is chunked either.
    * ``"pooled"``: the ``m`` targets' inputs drawn as one Poisson process: each active
      step's total count is Poisson(``m * lam``) (inverted through a table of its
      distribution), and each of those events goes to a target drawn uniformly (Lemire's
      unbiased bounded integers). By the splitting theorem of Poisson processes the counts
      are again independent Poisson(``lam``) per target and step -- the same process, exactly.
      It costs a 64-bit random number per event and no logarithm (about 5 ns per event
      instead of ~20 for ``"gaps"`` in a network run), and the kicks come out step by step.
      The numbers come from Philox addressed by (active step, block) under a key drawn
      from the stimulus' generator, so the kicks do not depend on the chunking. For a
      sparse drive (small ``lam``); the table covers ``m * lam`` +- 13 sd, so ``m * lam``
      is limited to ``POOLED_MAX_EVENTS_PER_STEP`` (use ``"per_step"`` above).

    Examples
    --------
    >>> import numpy as np
    >>> from neurosim_nb import LIFNeuron
    >>> drive = PoissonInput(rate_hz=500.0, weight_mV=1.0, sampling="gaps")
    >>> ds = LIFNeuron(n=3).simulate(100.0, drive, seed=1, verbose=False)
    >>> ds.sizes["neuron"], ds.attrs["seed"]
    (3, 1)
    """

    rate_hz: float = 1000.0
    weight_mV: float = 2.0
    n_sources: int = 1
    onset_ms: float = 0.0
    duration_ms: float = np.inf
    sampling: str = "per_step"
    kind = "kick"
    stochastic = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.sampling, str):
            raise ArgumentTypeError(f"PoissonInput.sampling must be one of "
                                    f"{list(POISSON_SAMPLINGS)}, got {self.sampling!r}")
        if self.sampling not in POISSON_SAMPLINGS:
            raise InvalidArgumentError(f"PoissonInput.sampling must be one of "
                                       f"{list(POISSON_SAMPLINGS)}, got {self.sampling!r}")
        rate = _check(self, "rate_hz", NON_NEGATIVE, "Hz")
        _check(self, "weight_mV", unit="mV")
        _check(self, "onset_ms", NON_NEGATIVE, "ms")
        # (at most 2**53: the count is multiplied as a float)
        n_sources = check_integer("PoissonInput.n_sources", self.n_sources, Bounds(1, 2**53))
        _check(self, "duration_ms", POSITIVE, "ms", allow_inf=True)
        if rate > 0 and n_sources > MAX_POISSON_RATE_HZ / rate:
            raise InvalidArgumentError(
                f"PoissonInput: n_sources * rate_hz = {_compact(n_sources)} x {rate:g} Hz "
                f"exceeds the largest input rate per target, {MAX_POISSON_RATE_HZ:g} Hz (10**4 "
                "afferents at 10 kHz, ten times the fastest a neuron fires); a rate this high "
                "is not a neural input (check the units: rate_hz is in spikes per second)")

    def bind(self, n: int, dt_ms: float, rng: np.random.Generator) -> _PoissonRuntime:
        idx = _targets_array(self.targets, n)
        self.check_width(n if idx is None else idx.size)
        return _PoissonRuntime(self, idx, n, dt_ms, rng)

    def values(self, rt, t_ms):
        """Kicks (mV) of each target in the steps starting at ``t_ms``: ``(K, n_targets)``."""
        m = rt.n if rt.idx is None else rt.idx.size
        out = np.zeros((t_ms.size, m))
        rt.draw(out, self._active(t_ms), np.arange(m, dtype=np.int64))
        return out

    def _active(self, t_ms: np.ndarray) -> np.ndarray:
        return (t_ms >= self.onset_ms - EPS_MS) & (t_ms < self.onset_ms + self.duration_ms - EPS_MS)


#: the samplers of :class:`PoissonInput` (its ``sampling``)
POISSON_SAMPLINGS = ("per_step", "gaps", "pooled")
#: the largest expected count of events per step (all targets) of ``sampling="pooled"``
POOLED_MAX_EVENTS_PER_STEP = 1e6
#: mean count per step up to which Poisson counts are drawn by table inversion
POISSON_TABLE_MAX_LAM = 30.0


def _poisson_cdf(lam: float) -> np.ndarray:
    """Cumulative Poisson probabilities P(N <= k), k = 0, 1, ..., until the tail is below
    double precision (empty for ``lam > POISSON_TABLE_MAX_LAM``: no table)."""
    if lam > POISSON_TABLE_MAX_LAM:
        return np.zeros(0)
    k_max = int(lam + 12.0 * np.sqrt(lam) + 30.0)  # tail P(N > k_max) < 1e-17 for lam <= 30
    terms = np.empty(k_max + 1)
    terms[0] = np.exp(-lam)
    for k in range(1, k_max + 1):
        terms[k] = terms[k - 1] * lam / k
    return np.cumsum(terms)


def _poisson_kicks(rng, cdf, lam, weight, active, out, idx, buf=None):
    """Add ``weight`` times a Poisson(``lam``) count to ``out[k, idx[j]]`` for every target
    ``j`` of every active step ``k``, drawn in (step, target) order from ``rng``.

    With a table ``cdf`` a count is found by inversion of a uniform variate (a uniform
    beyond the table's last entry, probability < 1e-16, counts as the last entry); the
    uniforms of all active steps are the numbers of one call of ``rng.random`` (about 4x
    faster than one call per variate, and the same numbers in the same order), made by
    :func:`~neurosim_nb.numerics.pcg64.random_into` (numpy's PCG64 on four interleaved
    chains: 1.4 instead of 2.2 ns per number, the same numbers). Without a table
    (large ``lam``) the generator's own ``poisson`` is used. Inactive steps draw nothing, so
    the stream (and the result) does not depend on how the run is cut into chunks.
    ``buf`` (optional, float64): room for the uniforms, reused from call to call (a fresh
    array of a block's uniforms costs its page faults every time).
    """
    rows = np.flatnonzero(active)
    if rows.size == 0:
        return
    if cdf.shape[0]:
        size = rows.size * idx.shape[0]
        u = (buf[:size] if buf is not None and buf.size >= size else np.empty(size)).reshape(
            rows.size, idx.shape[0])
        random_into(rng, u)
        _add_inverted_counts(u, cdf, weight, rows, out, idx)
    else:
        _poisson_kicks_large(rng, lam, weight, rows, out, idx)


@njit(cache=True)
def _add_inverted_counts(u, cdf, weight, rows, out, idx):
    """``out[rows[r], idx[j]] += weight * count``, count = the table inverse of ``u[r, j]``:
    the number of table entries ``<= u`` (the first ``c`` with ``u < cdf[c]``, at most the
    last index), counted branch-free entry by entry across all targets so that the loop
    vectorises (a search per variate mispredicts its branches: 12 vs 1.5 ns per draw)."""
    top = cdf.shape[0] - 1
    while top > 0 and cdf[top - 1] >= 1.0:  # a uniform in [0, 1) never reaches these
        top -= 1
    m = idx.shape[0]
    count = np.empty(m, dtype=np.int32)
    # the first level in one vectorised pass; the deeper ones, in passes over all targets
    # as long as some target reaches them (for the small lam of most inputs -- a kick-start
    # of 300 Hz, a 0.05-per-step drive -- counts above 1 are rare: one or two passes
    # instead of top, the same counts)
    for r in range(rows.shape[0]):
        ur = u[r]
        level = cdf[0] if top > 0 else 2.0
        deeper = 0
        nxt = cdf[1] if top > 1 else 2.0
        for j in range(m):
            count[j] = ur[j] >= level
            deeper += ur[j] >= nxt
        c = 1
        while deeper > 0 and c < top:
            level = cdf[c]
            nxt = cdf[c + 1] if c + 1 < top else 2.0
            deeper = 0
            for j in range(m):
                count[j] += ur[j] >= level
                deeper += ur[j] >= nxt
            c += 1
        o = out[rows[r]]
        for j in range(m):
            o[idx[j]] += count[j] * weight


@njit(cache=True)
def _poisson_kicks_large(rng, lam, weight, rows, out, idx):
    for r in range(rows.shape[0]):
        o = out[rows[r]]
        for j in range(idx.shape[0]):
            c = rng.poisson(lam)
            if c > 0:
                o[idx[j]] += c * weight


@njit(cache=True, inline="always")
def _gap_block(k0, k1, inv_lam, j, block, lanes):
    """``lanes[j]``: the gaps (steps) ``4 block .. 4 block + 3`` of target ``j``'s events,
    exponential with mean ``inv_lam``, from Philox of counter (block, j, 0, 0)."""
    x0, x1, x2, x3 = philox4x64(np.uint64(block), np.uint64(j), np.uint64(0), np.uint64(0),
                                k0, k1)
    # 1 - u is exact and in [2**-53, 1]: the logarithm is finite and accurate (log1p
    # would give the same gaps at 13 instead of 6 ns)
    lanes[j, 0] = -math.log(1.0 - uniform53(x0)) * inv_lam
    lanes[j, 1] = -math.log(1.0 - uniform53(x1)) * inv_lam
    lanes[j, 2] = -math.log(1.0 - uniform53(x2)) * inv_lam
    lanes[j, 3] = -math.log(1.0 - uniform53(x3)) * inv_lam


@njit(cache=True)
def _gaps_start(k0, k1, inv_lam, t_next, drawn, lanes):
    """Every target's first event time (steps after the window's start): its gap 0."""
    for j in range(t_next.shape[0]):
        _gap_block(k0, k1, inv_lam, j, 0, lanes)
        t_next[j] = lanes[j, 0]
        drawn[j] = 1


@njit(cache=True)
def _poisson_gap_kicks(k0, k1, inv_lam, weight, rows, out, cols, t_next, drawn, lanes, tau0):
    """Add ``weight`` to ``out[rows[r], cols[j]]`` for every event of target ``j`` in the
    ``r``-th active step of this block -- active-step time ``[tau0 + r, tau0 + r + 1)`` --
    and advance each target's next event time ``t_next[j]`` (active-step time, carried
    between blocks) by its gaps ``drawn[j], drawn[j] + 1, ...`` (cached four at a time
    in ``lanes[j]``)."""
    tau_end = tau0 + rows.shape[0]
    for j in range(cols.shape[0]):
        t = t_next[j]
        if t >= tau_end:
            continue
        g = drawn[j]
        c = cols[j]
        while t < tau_end:
            out[rows[int(t) - tau0], c] += weight
            lane = g & 3
            if lane == 0:
                _gap_block(k0, k1, inv_lam, j, g >> 2, lanes)
            t += lanes[j, lane]
            g += 1
        t_next[j] = t
        drawn[j] = g


def _pooled_table(mean: float) -> tuple[int, np.ndarray]:
    """``(lo, cdf)``: P(N <= lo + i) for a Poisson(``mean``) count N, over ``mean`` +- 13 sd
    (+- 10): the probability outside is below 1e-20, far below a double's resolution of a
    uniform. The probabilities come from the mode outwards by the ratio of neighbours
    (``p(k + 1) = p(k) mean / (k + 1)``), the mode's from its logarithm (no overflow),
    normalised over the window.

    >>> lo, cdf = _pooled_table(2.0)
    >>> lo, round(float(cdf[0]), 6), round(float(cdf[2]), 6)      # P(N <= 0), P(N <= 2)
    (0, 0.135335, 0.676676)
    """
    sd = math.sqrt(mean)
    lo = max(0, math.floor(mean - 13.0 * sd - 10.0))
    hi = math.ceil(mean + 13.0 * sd + 10.0)
    mode = math.floor(mean)
    pmf = np.zeros(hi - lo + 1)
    pmf[mode - lo] = math.exp(mode * math.log(mean) - mean - math.lgamma(mode + 1.0)) \
        if mean > 0.0 else 1.0
    for k in range(mode, hi):
        pmf[k + 1 - lo] = pmf[k - lo] * mean / (k + 1)
    for k in range(mode, lo, -1):
        pmf[k - 1 - lo] = pmf[k - lo] * k / mean
    cdf = np.cumsum(pmf)
    return lo, cdf / cdf[-1]  # (the mode's rounding, ~1e-9 at mean 1e6, is a common factor)


@njit(cache=True, inline="always")
def _lane(x0, x1, x2, x3, lane):
    if lane == 0:
        return x0
    if lane == 1:
        return x1
    return x2 if lane == 2 else x3


@njit(cache=True)
def _poisson_pooled_kicks(k0, k1, lo, cdf, weight, rows, out, cols, tau0):
    """Add ``weight`` to ``out[rows[r], cols[j]]`` for every event of the ``r``-th active
    step of this block (active step ``tau0 + r`` of the run): a Poisson count of events
    for all targets (the table inverse of a uniform: the first ``i`` with ``u < cdf[i]``,
    plus ``lo``), each given to target ``j`` uniform in ``0 .. m - 1`` (the high word of
    ``x * m``, rejecting the ``2**64 mod m`` low words that would bias it). Numbers: Philox
    of counter ``(tau, b, 1, 0)``, ``b = 0, 1, ...``; the first is the count's uniform."""
    m = np.uint64(cols.shape[0])
    if m == 0:
        return
    reject = (np.uint64(0) - m) % m  # 2**64 mod m
    top = cdf.shape[0] - 1
    for r in range(rows.shape[0]):
        tau = np.uint64(tau0 + r)
        b = np.uint64(0)
        x0, x1, x2, x3 = philox4x64(tau, b, np.uint64(1), np.uint64(0), k0, k1)
        u = uniform53(x0)
        a, z = 0, top  # the first index whose cdf exceeds u (the last if none does)
        while a < z:
            h = (a + z) >> 1
            if u < cdf[h]:
                z = h
            else:
                a = h + 1
        count = lo + a
        o = out[rows[r]]
        lane = 1
        q = 0
        while q < count:
            if lane == 4:
                b += np.uint64(1)
                x0, x1, x2, x3 = philox4x64(tau, b, np.uint64(1), np.uint64(0), k0, k1)
                lane = 0
            hi, low = mulhilo(_lane(x0, x1, x2, x3, lane), m)
            lane += 1
            if low < reject:  # (probability m / 2**64)
                continue
            o[cols[hi]] += weight
            q += 1


class _PoissonRuntime(_Runtime):
    """A bound :class:`PoissonInput`: draws its kicks (compiled) straight into the buffer."""

    def __init__(self, stim: PoissonInput, idx: np.ndarray | None, n: int, dt: float, rng):
        super().__init__(stim, idx, n, dt, rng)
        self.lam = stim.n_sources * stim.rate_hz * dt / 1000.0
        self.targets = np.arange(n, dtype=np.int64) if idx is None else idx
        self.gaps = stim.sampling == "gaps"
        self.pooled = stim.sampling == "pooled"
        if self.pooled:
            mean = self.lam * self.targets.size
            if mean > POOLED_MAX_EVENTS_PER_STEP:
                raise InvalidArgumentError(
                    f"PoissonInput(sampling='pooled'): {mean:.3g} input events per step for "
                    f"all targets exceed {POOLED_MAX_EVENTS_PER_STEP:g}; 'pooled' is for "
                    "sparse drives, use sampling='per_step'")
            self.key = rng.bit_generator.random_raw(2).astype(np.uint64)
            self.pool_lo, self.pool_cdf = _pooled_table(mean)
            self.tau = 0  # active steps drawn so far
        elif self.gaps:
            m = self.targets.size
            self.key = rng.bit_generator.random_raw(2).astype(np.uint64)
            self.t_next = np.zeros(m)
            self.drawn = np.zeros(m, np.int64)
            self.lanes = np.zeros((m, 4))
            self.tau = 0  # active steps drawn so far
            if self.lam > 0.0:
                _gaps_start(self.key[0], self.key[1], 1.0 / self.lam, self.t_next,
                            self.drawn, self.lanes)
        else:
            self.cdf = _poisson_cdf(self.lam)
            self.buf = np.zeros(0)  # the uniforms of a block (grown on first use)

    def active_in(self, t_ms: np.ndarray) -> bool:
        # outside its window a Poisson input draws nothing (the stream does not advance)
        return self.lam > 0.0 and bool(self.stim._active(t_ms).any())

    def draw(self, out: np.ndarray, active: np.ndarray, cols: np.ndarray) -> None:
        """Add the kicks of the ``active`` rows of ``out`` (rows: steps, in order; the
        target at position ``j`` in column ``cols[j]``)."""
        if self.lam <= 0.0:
            return
        if self.pooled:
            rows = np.flatnonzero(active)
            if rows.size:
                _poisson_pooled_kicks(self.key[0], self.key[1], self.pool_lo, self.pool_cdf,
                                      self.stim.weight_mV, rows, out, cols, self.tau)
                self.tau += rows.size
            return
        if not self.gaps:
            size = int(np.count_nonzero(active)) * cols.size
            if self.buf.size < size:
                self.buf = np.empty(size)
            _poisson_kicks(self.rng, self.cdf, self.lam, self.stim.weight_mV, active, out,
                           cols, self.buf)
            return
        rows = np.flatnonzero(active)
        if rows.size:
            _poisson_gap_kicks(self.key[0], self.key[1], 1.0 / self.lam, self.stim.weight_mV,
                               rows, out, cols, self.t_next, self.drawn, self.lanes, self.tau)
            self.tau += rows.size

    def add(self, out: np.ndarray, t_ms: np.ndarray) -> None:
        if type(self.stim).values is not PoissonInput.values:  # a subclass's own values()
            super().add(out, t_ms)
        else:
            self.draw(out, self.stim._active(t_ms), self.targets)


def as_stimuli(input_current) -> list[Stimulus]:
    """Normalise what a user passes as input: ``None``, a number or per-neuron array
    (a constant current), a :class:`Stimulus`, or a list of them."""
    if input_current is None or (isinstance(input_current, list | tuple)
                                  and len(input_current) == 0):
        return []
    if isinstance(input_current, Stimulus):
        return [input_current]
    if isinstance(input_current, (list, tuple)) and input_current and all(
        isinstance(s, Stimulus) for s in input_current
    ):
        return list(input_current)
    if hasattr(input_current, "dims"):
        raise ArgumentTypeError("wrap a DataArray current in Waveform(samples=...)")
    if isinstance(input_current, (list, tuple)) and any(
            isinstance(s, Stimulus) for s in input_current):
        raise ArgumentTypeError(f"input_current must be a number, one number per neuron, a "
                                f"Stimulus or a list of Stimulus objects; got a list mixing "
                                f"stimuli and {input_current!r:.80}")
    if not isinstance(input_current, (list, tuple, np.ndarray)) and not np.isscalar(
            input_current):
        raise ArgumentTypeError(f"input_current must be a number (current), one number per "
                                f"neuron, a Stimulus or a list of them, got "
                                f"{type(input_current).__name__}")
    if np.ndim(input_current) == 0 and not isinstance(input_current, list | tuple):
        amp = check_number("input_current", input_current)
        return [ConstantCurrent(amplitude=amp)]
    arr = check_array("input_current", input_current, ndims=(1, 2), allow_empty=False)
    if arr.ndim > 1:
        raise InvalidArgumentError(f"input_current: a constant current is a number or one "
                                   f"value per neuron, got shape {arr.shape}; use Waveform "
                                   "for a time course")
    return [ConstantCurrent(amplitude=arr)]
