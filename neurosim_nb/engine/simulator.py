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
import os
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from neurosim_nb.engine.recorder import Recorder
from neurosim_nb.errors import NeurosimError
from neurosim_nb.stimuli import StepCurrent, Stimulus, as_stimuli

__all__ = ["simulate", "SimulationConfig", "SimulationEngine", "SimulationResult",
           "RecordingConfig", "SimulationDivergedError", "RecordingMemoryError"]

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


class RecordingMemoryError(NeurosimError, MemoryError):
    """A recording request would not fit in memory."""


def _check_time(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of ms, got {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number of ms > 0, got {value!r}")
    return v


def _available_memory_bytes() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def _resolve_record(pop, record) -> list[str]:
    if record is None:
        return []
    if isinstance(record, str):
        record = [record]
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
            raise ValueError(f"{type(pop).__name__} cannot record {name!r}: it has "
                             f"{valid} (and spikes, always recorded).{extra}")
        if key not in out:
            out.append(key)
    return out


def _resolve_neurons(pop, record_neurons) -> np.ndarray:
    if record_neurons is None:
        return np.arange(pop.n, dtype=np.int64)
    idx = np.atleast_1d(np.asarray(record_neurons))
    if idx.dtype == bool:
        idx = np.flatnonzero(idx)
    if idx.size and (not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0
                     or idx.max() >= pop.n):
        raise ValueError(f"record_neurons must be indices in 0..{pop.n - 1}, "
                         f"got {record_neurons!r}")
    return np.unique(idx).astype(np.int64)


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
    limit = _available_memory_bytes() // 2 if max_record_bytes is None else int(max_record_bytes)
    if need > limit:
        raise RecordingMemoryError(
            f"recording {rec_names} of {n_rec} neurons for {n_samples} samples needs "
            f"{need / 2**20:.0f} MiB, more than the {limit / 2**20:.0f} MiB allowed; record "
            f"fewer neurons (record_neurons=...) or compartments, sample less often "
            f"(sample_every=...) or record spikes only (record=())")


def check_sample_every(sample_every) -> int:
    """``sample_every`` as a positive int, or a ValueError."""
    if isinstance(sample_every, bool) or int(sample_every) != sample_every or sample_every < 1:
        raise ValueError(f"sample_every must be a positive integer, got {sample_every!r}")
    return int(sample_every)


def resolve_seed(seed) -> int:
    """``seed`` as a non-negative int (a fresh one drawn when ``None``), or a ValueError."""
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


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
    record_neurons : array_like of int, optional
        Neurons whose variables are recorded (default all).
    sample_every : int
        Record every this many steps.
    seed : int, optional
        Seed of the ``numpy.random.Generator`` for stochastic stimuli. ``None`` draws one
        and stores it in the attrs, so every result can be reproduced.
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
    ValueError
        Bad dt, duration, stimulus, record request or input.
    RecordingMemoryError
        The recording would not fit in ``max_record_bytes``.
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
        raise TypeError(f"simulate takes a neuron population, got {type(pop).__name__}")
    _check_time("dt", dt)
    _check_time("duration", duration)
    stims = as_stimuli(input_current) + list(stimuli or [])
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
