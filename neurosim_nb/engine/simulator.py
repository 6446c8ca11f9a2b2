"""Running a single population, and the seed's engine facade.

A population alone runs as a network of one population through the one time loop
(:mod:`neurosim_nb.engine.network_sim`), so single and network runs share validation,
progress, Ctrl-C handling and the Dataset schema.

Order within a step (stated once, tested in ``tests/engine/test_step_order.py``):
deliver due spikes (Poisson kicks, later synaptic events) -> integrate neurons ->
detect spikes, reset, refractory -> record. Spikes detected in the step from
``t_k`` to ``t_k + dt`` are stamped ``t_k + dt``; recorded samples are the state at the
end of a step, at ``t = (k + 1) * dt``. Stimulus times are relative to the run's start.

Work per step never loops over neurons in Python: stimuli are generated for a chunk of
``K`` steps at once with numpy, and the model's Numba kernel advances the chunk.
"""

from __future__ import annotations

import difflib
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from neurosim_nb._validation import (
    MAX_SEED,
    available_memory,
    check_seed,
    is_integer,
    is_number,
)
from neurosim_nb.engine.recorder import Recorder
from neurosim_nb.errors import (
    ArgumentTypeError,
    InvalidArgumentError,
    NeurosimError,
    TooLargeError,
)
from neurosim_nb.stimuli import StepCurrent, Stimulus, as_stimuli

__all__ = ["simulate", "SimulationConfig", "SimulationEngine", "SimulationResult",
           "RecordingConfig", "SimulationDivergedError", "RecordingMemoryError", "MAX_SEED"]

#: elements of a (K, n) chunk buffer; bounds working memory independent of run length
CHUNK_ELEMENTS = 1 << 20
#: show a progress bar (verbose=None) when a run is projected to take longer than this (s)
PROGRESS_AFTER_S = 2.0
#: names users may type for a state variable
ALIASES = {"voltage": "V", "v": "V", "membrane_potential": "V", "current": "I_ext",
           "input_current": "I_ext"}
#: names that ask for spikes, which are always recorded
SPIKE_NAMES = {"spikes", "spike_times", "spike_time"}


class SimulationDivergedError(NeurosimError, FloatingPointError):
    """The state of a population left the finite range: the step is too large."""


class RecordingMemoryError(TooLargeError, MemoryError):
    """A recording request would not fit in memory (a :class:`TooLargeError`, refused
    before the run allocates anything; also a :class:`MemoryError` as before)."""


#: largest seed a run accepts: results keep it in the ``seed`` attribute, which NetCDF
#: stores as a 64-bit signed integer (NumPy's generators take larger ones, NetCDF does not)
#: most steps of one run: step times ``k * dt`` are exact in float64 up to 2**53 steps
MAX_STEPS = 2**53


def _named(owner: str | None, name: str) -> str:
    """How a message names an argument: ``simulate(dt=...)`` (or ``dt`` without owner)."""
    return f"{owner}({name}=...)" if owner else name


def _check_time(name: str, value: Any, owner: str | None = None) -> float:
    """``value`` (ms) as a float > 0: an :class:`ArgumentTypeError` unless a real number
    (a string is not one, even ``'0.1'``; a bool is not one), an
    :class:`InvalidArgumentError` unless finite and > 0.

    >>> _check_time("dt", 0.1, "simulate")
    0.1
    >>> _check_time("dt", "0.1", "simulate")
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.ArgumentTypeError: simulate(dt=...) must be a number of ms, got '0.1'
    """
    label = _named(owner, name)
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()
    if not is_number(value):
        raise ArgumentTypeError(f"{label} must be a number of ms, got {value!r}")
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise InvalidArgumentError(f"{label} must be a finite number of ms > 0, got {value!r}")
    return v


def check_steps(duration: float, dt: float, owner: str | None = None) -> int:
    """The number of steps of a run of ``duration`` ms at ``dt`` ms (rounded), at least one
    and at most :data:`MAX_STEPS`, else an :class:`InvalidArgumentError`."""
    ratio = duration / dt
    if not ratio < MAX_STEPS:
        raise InvalidArgumentError(
            f"{_named(owner, 'duration')} / dt = {duration!r} / {dt!r} ms is more than "
            f"2**53 steps (step times would no longer be exact); use a shorter duration or "
            f"a larger dt")
    n_steps = int(round(ratio))
    if n_steps < 1:
        raise InvalidArgumentError(f"duration ({duration} ms) is shorter than one step of dt "
                                   f"({dt} ms)")
    return n_steps


def _default_record_limit() -> int:
    """Half the memory available now (:func:`~neurosim_nb._validation.available_memory`);
    no limit where that cannot be read."""
    avail = available_memory()
    return avail // 2 if avail is not None else sys.maxsize


def _record_names(record, owner: str | None = None) -> list[str]:
    """``record`` as a list of strings (``None``: none; one string: a list of one), or an
    :class:`ArgumentTypeError` naming the argument."""
    label = _named(owner, "record")
    if record is None:
        return []
    if isinstance(record, str):
        return [record]
    if isinstance(record, dict) or not isinstance(record, Iterable):
        raise ArgumentTypeError(f"{label} must be a variable name or a list of them (e.g. "
                                f"('V',)), got {record!r}")
    names = list(record)
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise ArgumentTypeError(f"{label} must hold variable names (strings); entry {i} "
                                    f"is {name!r}")
    return names


def _resolve_record(pop, record, owner: str | None = "simulate") -> list[str]:
    record = _record_names(record, owner)
    layout = pop.compartment_layout()
    valid = list(pop.state_variables) + ["I_ext"] + list(layout.variables if layout else ())
    out: list[str] = []
    for name in record:
        if name in SPIKE_NAMES:
            continue
        key = ALIASES.get(name, name)
        if key not in valid:
            hint = difflib.get_close_matches(key, valid, n=1)
            extra = f" Did you mean {hint[0]!r}?" if hint else ""
            raise InvalidArgumentError(
                f"{_named(owner, 'record')}: {type(pop).__name__} cannot record {name!r}: it "
                f"has {valid} (and spikes, always recorded).{extra}")
        if key not in out:
            out.append(key)
    return out


def _index_array(value, n: int, label: str) -> np.ndarray:
    """Indices into ``n`` items from ``value``: integers (integral floats too) in 0..n-1,
    or a boolean mask of exactly ``n`` entries; sorted and unique, int64."""
    if isinstance(value, str | bytes | dict):
        raise ArgumentTypeError(f"{label} must be neuron indices or a boolean mask, got "
                                f"{value!r}")
    try:
        idx = np.atleast_1d(np.asarray(value))
    except ValueError:
        raise InvalidArgumentError(f"{label} must be a flat list of neuron indices, got a "
                                   f"ragged list") from None
    if idx.ndim != 1:
        raise InvalidArgumentError(f"{label} must be a flat list of neuron indices or a "
                                   f"boolean mask, got shape {idx.shape}")
    if idx.dtype == bool:
        if idx.size != n:
            raise InvalidArgumentError(f"{label}: a boolean mask must have one entry per "
                                       f"neuron ({n}), got {idx.size}")
        return np.flatnonzero(idx).astype(np.int64)
    if idx.size == 0:
        return np.zeros(0, dtype=np.int64)
    if idx.dtype.kind == "f" and np.all(np.isfinite(idx)) and np.all(idx == np.round(idx)):
        idx = idx.astype(np.int64)
    if idx.dtype.kind not in "iu":
        raise ArgumentTypeError(f"{label} must be integer neuron indices (or a boolean mask), "
                                f"got {value!r}")
    if idx.min() < 0 or idx.max() >= n:
        raise InvalidArgumentError(f"{label} must be indices in 0..{n - 1}, got {value!r}")
    return np.unique(idx).astype(np.int64)


def _resolve_neurons(pop, record_neurons, owner: str | None = "simulate") -> np.ndarray:
    if record_neurons is None:
        return np.arange(pop.n, dtype=np.int64)
    return _index_array(record_neurons, pop.n, _named(owner, "record_neurons"))


def check_input_current(pop, input_current, owner: str = "simulate") -> list[Stimulus]:
    """``input_current`` (``None``, a number, one number per neuron, a Stimulus or a list of
    them) as stimuli, or a typed error naming the argument."""
    label = _named(owner, "input_current")
    if input_current is None or isinstance(input_current, Stimulus):
        return as_stimuli(input_current)
    if isinstance(input_current, list | tuple) and input_current and any(
            isinstance(s, Stimulus) for s in input_current):
        return _stimulus_list(input_current, label)
    if isinstance(input_current, str | bytes | dict) or hasattr(input_current, "dims"):
        raise ArgumentTypeError(f"{label} must be a number (the population's current units), "
                                f"one number per neuron or a Stimulus, got {input_current!r}"
                                + ("; wrap a DataArray in Waveform(values=...)"
                                   if hasattr(input_current, "dims") else ""))
    try:
        arr = np.asarray(input_current, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"{label} must be a number, one number per neuron or a "
                                f"Stimulus, got {input_current!r}") from None
    if np.asarray(input_current).dtype == bool:
        raise ArgumentTypeError(f"{label} must be numbers, not booleans")
    if arr.ndim > 1 or (arr.ndim == 1 and arr.size != pop.n):
        raise InvalidArgumentError(f"{label} must be a number or one value per neuron "
                                   f"({pop.n}), got shape {arr.shape}; use Waveform for a "
                                   f"time course")
    if not np.all(np.isfinite(arr)):
        raise InvalidArgumentError(f"{label} must be finite, got {input_current!r}")
    return as_stimuli(arr if arr.ndim else float(arr))


def _stimulus_list(stimuli, label: str) -> list[Stimulus]:
    """``stimuli`` (a Stimulus or a list of them) as a list, or an ArgumentTypeError."""
    if stimuli is None:
        return []
    if isinstance(stimuli, Stimulus):
        return [stimuli]
    if not isinstance(stimuli, list | tuple):
        raise ArgumentTypeError(f"{label} must be a list of Stimulus objects (StepCurrent, "
                                f"PoissonInput, ...), got {stimuli!r}")
    for i, s in enumerate(stimuli):
        if not isinstance(s, Stimulus):
            raise ArgumentTypeError(
                f"{label} must be a list of Stimulus objects (StepCurrent, PoissonInput, "
                f"...); entry {i} is {s!r}; a constant current is ConstantCurrent(...) or "
                f"the input_current argument")
    return list(stimuli)


def check_run_options(owner: str, *, verbose=None, max_record_bytes=None, progress=None,
                      method: str = "fixed") -> None:
    """The options every run takes, or a typed error naming the argument."""
    if not (verbose is None or isinstance(verbose, bool | np.bool_)):
        raise ArgumentTypeError(f"{_named(owner, 'verbose')} must be True, False or None, "
                                f"got {verbose!r}")
    if max_record_bytes is not None:
        if not is_integer(max_record_bytes):
            raise ArgumentTypeError(f"{_named(owner, 'max_record_bytes')} must be an integer "
                                    f"number of bytes or None, got {max_record_bytes!r}")
        if max_record_bytes < 0:
            raise InvalidArgumentError(f"{_named(owner, 'max_record_bytes')} must be >= 0, "
                                       f"got {max_record_bytes!r}")
    if progress is not None and not callable(progress):
        raise ArgumentTypeError(f"{_named(owner, 'progress')} must be a callable "
                                f"progress(steps_done, n_steps) or None, got {progress!r}")
    if not isinstance(method, str):
        raise ArgumentTypeError(f"{_named(owner, 'method')} must be 'fixed' or 'adaptive', "
                                f"got {method!r}")


def _wants_progress(verbose, step0: int, n_steps: int, first_chunk, now: float) -> bool:
    """Show a bar if asked, or if the steps after the first chunk project past the limit."""
    if verbose:
        return True
    steps_timed = step0 - first_chunk[0]
    if steps_timed <= 0:
        return False
    remaining = (now - first_chunk[1]) / steps_timed * (n_steps - step0)
    return remaining > PROGRESS_AFTER_S


class _Progress:
    """The progress bar of a run: ``verbose=True`` always, ``False`` never, ``None`` when
    the steps after the first chunk (which may include JIT loading) project past
    :data:`PROGRESS_AFTER_S`. Call :meth:`advance` after every chunk, :meth:`close` at the end.
    """

    def __init__(self, n_steps: int, verbose: bool | None, desc: str, callback=None):
        self.n_steps, self.verbose, self.desc = n_steps, verbose, desc
        self.callback = callback
        self.bar = None
        self.first_chunk: tuple[int, float] | None = None

    def advance(self, step0: int, k: int) -> None:
        """``step0`` steps are done, the last chunk had ``k``."""
        if self.callback is not None:
            self.callback(step0, self.n_steps)
        now = time.perf_counter()
        if self.first_chunk is None:
            self.first_chunk = (step0, now)
        if self.bar is not None:
            self.bar.update(k)
        elif self.verbose is not False and _wants_progress(self.verbose, step0, self.n_steps,
                                                           self.first_chunk, now):
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.n_steps, initial=step0, unit="step", desc=self.desc,
                            leave=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def warn_interrupted(done_ms: float, total_ms: float) -> None:
    """Warn that Ctrl-C ended a run early (the result holds what was simulated)."""
    import warnings

    warnings.warn(f"simulation interrupted at {done_ms:g} of {total_ms:g} ms; the result holds "
                  "what was simulated", RuntimeWarning, stacklevel=3)


def estimate_record_bytes(n_samples: int, n_rec: int, n_vars: int) -> int:
    """Bytes needed for ``n_vars`` float64 traces of ``n_rec`` neurons and ``n_samples`` samples."""
    return int(n_samples) * int(n_rec) * int(n_vars) * 8


def check_record_memory(rec_names, n_rec: int, n_samples: int, max_record_bytes, *,
                        n_traces: int | None = None) -> None:
    """Raise :class:`RecordingMemoryError`, saying what to do, if the requested traces would
    need more than ``max_record_bytes`` (default: half the available memory). ``n_traces``:
    the number of traces when it is not ``n_rec * len(rec_names)`` (per-compartment
    variables: one trace per recorded compartment)."""
    if n_traces is None:
        need = estimate_record_bytes(n_samples, n_rec, len(rec_names))
    else:
        need = estimate_record_bytes(n_samples, n_traces, 1)
    limit = _default_record_limit() if max_record_bytes is None else int(max_record_bytes)
    if need > limit:
        raise RecordingMemoryError(
            f"recording {rec_names} of {n_rec} neurons for {n_samples} samples needs "
            f"{need / 2**20:.0f} MiB, more than the {limit / 2**20:.0f} MiB allowed; record "
            f"fewer neurons (record_neurons=...) or compartments, sample less often "
            f"(sample_every=...) or record spikes only (record=())")


def check_sample_every(sample_every, owner: str | None = None) -> int:
    """``sample_every`` as an int >= 1 (an integral float is fine), or an
    :class:`ArgumentTypeError` / :class:`InvalidArgumentError` naming it.

    >>> check_sample_every(2.0)
    2
    """
    label = _named(owner, "sample_every")
    if not is_integer(sample_every):
        raise ArgumentTypeError(f"{label} must be an integer >= 1 (steps), got "
                                f"{sample_every!r}")
    if sample_every < 1:
        raise InvalidArgumentError(f"{label} must be an integer >= 1 (steps), got "
                                   f"{sample_every!r}")
    return int(sample_every)


def resolve_seed(seed, owner: str | None = None) -> int:
    """``seed`` as an int in 0 .. :data:`MAX_SEED` (a fresh one drawn when ``None``), or an
    :class:`ArgumentTypeError` / :class:`InvalidArgumentError` naming it.

    Seeds stop at 2**63 - 1 because every result stores its seed (attribute ``seed``) and
    NetCDF, the results' file format, stores integers of at most 64 bits, signed in every
    format and tool that reads it back (a larger seed would give a result that cannot be
    saved, or one that reads back as a different number).

    >>> resolve_seed(2**63 - 1) == MAX_SEED
    True
    >>> try:
    ...     resolve_seed(2**64, "simulate")
    ... except ValueError as err:
    ...     print(str(err)[:60])
    simulate(seed=...) must be an integer in 0..9223372036854775
    """
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    return check_seed(_named(owner, "seed"), seed)


def simulate(pop, duration, input_current=None, *, dt: float = 0.1,
             stimuli: list[Stimulus] | None = None, record=("V",), record_neurons=None,
             sample_every: int = 1, seed: int | None = None, verbose: bool | None = None,
             max_record_bytes: int | None = None, progress=None, method: str = "fixed",
             rtol: float = 1e-6, atol: float = 1e-6):
    """Simulate a neuron population from its current state; return an ``xarray.Dataset``.

    Parameters
    ----------
    pop : NeuronPopulation
        The model (a single neuron is a population of one).
    duration : float
        Simulated time (ms); rounded to a whole number of steps.
    input_current : float, array, Stimulus or list of Stimulus, optional
        A number or per-neuron array is a constant current (``pop.current_units``).
    dt : float
        Time step (ms).
    stimuli : list of Stimulus, optional
        More stimuli, added to ``input_current``.
    record : sequence of str
        State variables to record (``pop.state_variables`` and ``"I_ext"``); spikes are
        always recorded. ``"voltage"`` is accepted for ``"V"``.
    record_neurons : array_like of int or bool, optional
        Neurons whose variables are recorded (default all): indices, or a boolean mask of
        one entry per neuron.
    sample_every : int
        Record every this many steps.
    seed : int, optional
        Seed of the ``numpy.random.Generator`` for stochastic stimuli, in 0 .. 2**63 - 1
        (what NetCDF stores). ``None`` draws one and stores it in the attrs, so every
        result can be reproduced.
    verbose : bool, optional
        Progress bar: ``True`` always, ``False`` never, ``None`` when the run is projected
        to take more than a few seconds.
    max_record_bytes : int, optional
        Refuse recordings larger than this (default: half the available memory).
    progress : callable, optional
        Called as ``progress(steps_done, n_steps)`` after every block of steps, in the
        simulating thread (e.g. to drive a widget's progress bar).
    method : {"fixed", "adaptive"}
        ``"adaptive"``: error-controlled steps (Dormand-Prince 5(4)) and spike times
        located inside a step; ``dt`` is then only the grid of the inputs and of the
        recording (see :mod:`neurosim_nb.engine.adaptive`).
    rtol, atol : float
        Tolerances of ``method="adaptive"``.

    Returns
    -------
    xarray.Dataset
        See :mod:`neurosim_nb.engine.recorder` for the schema.

    Raises
    ------
    ArgumentTypeError
        An argument of the wrong type (a string for a number -- ``dt='0.1'`` is refused,
        not parsed --, a number in ``stimuli``); a :class:`TypeError`.
    InvalidArgumentError
        A bad value: dt or duration not finite and > 0, an unknown variable in ``record``,
        indices out of range or a mask of the wrong length in ``record_neurons``, a seed
        outside 0 .. 2**63 - 1; a :class:`ValueError`. Messages name the argument.
    RecordingMemoryError
        The recording would not fit in ``max_record_bytes`` (a :class:`TooLargeError`).
    SimulationDivergedError
        The state diverged; the message names the population and suggests a smaller dt.

    Examples
    --------
    >>> from neurosim_nb import LIFNeuron
    >>> ds = LIFNeuron.create_excitatory().simulate(100.0, 2.0, seed=1)
    >>> ds.V.dims, ds.V.attrs["units"]
    (('time', 'neuron'), 'mV')

    The same neuron with adaptive steps: the first spike is located inside a step (the
    closed form, ``t = tau_m ln(R I / (R I - (V_th - V_rest)))`` = 21.97 ms, off the grid):

    >>> ds = LIFNeuron.create_excitatory().simulate(30.0, 0.3, method="adaptive", rtol=1e-8,
    ...                                             atol=1e-8, seed=1)
    >>> round(float(ds.spike_time[0]), 4), ds.attrs["method"]
    (21.9722, 'adaptive')
    """
    from neurosim_nb.core.networks.network import Network
    from neurosim_nb.engine.network_sim import simulate_network

    if not hasattr(pop, "compiled_kernel"):
        raise ArgumentTypeError(f"simulate takes a neuron population, got "
                                f"{type(pop).__name__}")
    dt = _check_time("dt", dt, "simulate")
    duration = _check_time("duration", duration, "simulate")
    check_steps(duration, dt, "simulate")
    check_run_options("simulate", verbose=verbose, max_record_bytes=max_record_bytes,
                      progress=progress, method=method)
    check_sample_every(sample_every, "simulate")
    seed = resolve_seed(seed, "simulate") if seed is not None else None
    stims = (check_input_current(pop, input_current)
             + _stimulus_list(stimuli, "simulate(stimuli=...)"))
    rec_names = _resolve_record(pop, record)
    rec_idx = _resolve_neurons(pop, record_neurons)
    # one loop for every run: a population alone is a network of one population
    solo = Network(pop.label, seed=0)
    solo.add_population(pop.label, pop)
    return simulate_network(solo, duration, dt=dt, record=rec_names,
                            record_neurons={pop.label: rec_idx}, sample_every=sample_every,
                            seed=seed, verbose=verbose, max_record_bytes=max_record_bytes,
                            stimuli={pop.label: stims} if stims else None,
                            progress=progress, solo=True, method=method, rtol=rtol, atol=atol)


# -- the seed's engine facade ---------------------------------------------------------------
@dataclass
class SimulationConfig:
    """Run settings of the seed API: ``duration`` and ``dt`` in ms, ``seed``, ``verbose``."""

    duration: float = 1000.0
    dt: float = 0.1
    seed: int | None = None
    verbose: bool | None = None

    def __post_init__(self) -> None:
        _check_time("duration", self.duration)
        _check_time("dt", self.dt)


@dataclass
class RecordingConfig:
    """What to record: ``variables`` (e.g. ``["voltage", "spike_times"]``), ``neurons``
    (indices, default all) and ``sample_every`` (steps)."""

    variables: list[str] = field(default_factory=lambda: ["V"])
    sample_every: int = 1
    neurons: Any = None


@dataclass
class SimulationResult:
    """Outcome of :meth:`SimulationEngine.run`: the Dataset and summary figures."""

    dataset: Any
    wall_time: float

    @property
    def total_spikes(self) -> int:
        """Number of spikes of all neurons."""
        return int(self.dataset.sizes["spike"])

    @property
    def mean_firing_rate(self) -> float:
        """Mean rate per neuron over the run (Hz)."""
        ds = self.dataset
        return self.total_spikes / ds.attrs["n_neurons"] / (ds.attrs["duration"] / 1000.0)

    def __repr__(self) -> str:
        return (f"SimulationResult(total_spikes={self.total_spikes}, mean_firing_rate="
                f"{self.mean_firing_rate:.2f} Hz, wall_time={self.wall_time:.3f} s)")


class SimulationEngine:
    """The seed's engine facade: a model (a population or a Network), a config, inputs, run().

    Neuron ids are global: for a network, ``list(network.neurons)`` (population after
    population in the order they were added).

    Examples
    --------
    >>> from neurosim_nb import LIFNeuron
    >>> from neurosim_nb.engine import SimulationEngine, SimulationConfig
    >>> engine = SimulationEngine(LIFNeuron.create_excitatory(), SimulationConfig(200, 0.1, seed=3))
    >>> engine.add_input_current(0, 2.0)
    >>> result = engine.run()
    >>> result.total_spikes > 0
    True
    """

    def __init__(self, model, config: SimulationConfig | None = None,
                 recording: RecordingConfig | None = None):
        self.model = model
        self.config = config or SimulationConfig()
        self.recording = recording or RecordingConfig()
        self._inputs: list[tuple[np.ndarray | None, Stimulus, str | None]] = []
        self.result: SimulationResult | None = None

    @property
    def _is_network(self) -> bool:
        return hasattr(self.model, "populations") and hasattr(self.model, "projections")

    def add_input_current(self, ids, current: float, onset: float = 0.0,
                          duration: float | None = None) -> None:
        """Inject ``current`` (the model's current units, nA for most) into neurons ``ids``
        (global ids) from ``onset`` ms for ``duration`` ms (default: to the end)."""
        ids = np.atleast_1d(np.asarray(list(ids) if isinstance(ids, range) else ids))
        self._inputs.append((ids, StepCurrent(current, onset_ms=onset, duration_ms=np.inf
                                              if duration is None else duration), None))

    def add_stimulus(self, stimulus: Stimulus, population: str | None = None) -> None:
        """Add any :class:`~neurosim_nb.stimuli.Stimulus` (its ``targets`` are local
        indices of ``population``; for a single population leave ``population`` out)."""
        if not isinstance(stimulus, Stimulus):
            raise TypeError(f"expected a Stimulus, got {type(stimulus).__name__}")
        if population is not None and not self._is_network:
            raise ValueError("population= is only meaningful for a Network")
        if population is not None:
            self.model.population(population)
        self._inputs.append((None, stimulus, population))

    def add_poisson_drive(self, population: str, rate_hz: float, weight_mV: float,
                          n_sources: int = 1) -> None:
        """Independent Poisson background drive to every neuron of ``population``."""
        from neurosim_nb.stimuli import PoissonInput

        self.add_stimulus(PoissonInput(rate_hz=rate_hz, weight_mV=weight_mV,
                                       n_sources=n_sources), population)

    def inject_input(self, layer: int, current: float, fraction: float = 1.0,
                     onset: float = 0.0, duration: float | None = None) -> np.ndarray:
        """Inject ``current`` into a ``fraction`` of the neurons of ``layer`` (evenly spread
        over the layer's populations, so excitatory and inhibitory cells in proportion).
        Returns the global ids that receive it."""
        if not self._is_network or not self.model.layer_of:
            raise ValueError("inject_input needs a network with layers")
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        names = [k for k, v in self.model.layer_of.items() if v == layer]
        if not names:
            layers = sorted(set(self.model.layer_of.values()))
            raise ValueError(f"no layer {layer}; layers are {layers}")
        ids = np.concatenate([self.model.neuron_ids(k) for k in names])
        m = max(1, int(round(fraction * ids.size)))
        chosen = ids[np.unique(np.linspace(0, ids.size - 1, m).round().astype(int))]
        self.add_input_current(chosen, current, onset, duration)
        return chosen

    def _stimuli(self):
        if not self._is_network:
            out = []
            for ids, stim, _ in self._inputs:
                out.append(stim if ids is None else replace(stim, targets=ids))
            return out
        per_pop: dict[str, list] = {}
        for ids, stim, pop in self._inputs:
            if ids is None:
                per_pop.setdefault(pop or next(iter(self.model.populations)), []).append(stim)
                continue
            for name, local in self.model.locate(ids):
                per_pop.setdefault(name, []).append(replace(stim, targets=local))
        return per_pop

    def run(self) -> SimulationResult:
        """Simulate ``config.duration`` ms and return a :class:`SimulationResult`."""
        c, r = self.config, self.recording
        t0 = time.perf_counter()
        if self._is_network:
            ds = self.model.simulate(c.duration, dt=c.dt, stimuli=self._stimuli(),
                                     record=r.variables, record_neurons=r.neurons,
                                     sample_every=r.sample_every, seed=c.seed, verbose=c.verbose)
        else:
            ds = simulate(self.model, c.duration, None, dt=c.dt, stimuli=self._stimuli(),
                          record=r.variables, record_neurons=r.neurons,
                          sample_every=r.sample_every, seed=c.seed, verbose=c.verbose)
        self.result = SimulationResult(ds, time.perf_counter() - t0)
        return self.result

    @property
    def recorder(self) -> Recorder:
        """The seed's recorder view of the last result."""
        if self.result is None:
            raise RuntimeError("run() the engine before asking for its recorder")
        return Recorder(self.result.dataset)
