"""The network time loop: every population's compiled kernel, spike delivery with delays.

Delays are whole steps (at least one); a spike stamped at ``t`` acts from ``t + delay`` on,
i.e. from step ``s + delay + 1`` for a spike detected in step ``s``. The loop advances all
populations by a chunk of ``K = min(delay) + 1`` steps at a time -- within a chunk every
arriving spike was emitted before it, so each population's kernel runs the chunk on its own
(as in NEST's min-delay scheme) -- then delivers the chunk's spikes through each projection
into the receptor ring buffers (compiled) and runs plasticity in time order. With gap
junctions (instant coupling) ``K = 1`` and the gap currents use the voltages at the start of
each step.

The step order of DESIGN.md holds per step: deliver due spikes (ring buffer) -> integrate
-> detect, reset, refractory -> queue spikes by delay -> plasticity -> record.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
import xarray as xr

from neurosim_nb._gc import freeze_long_lived
from neurosim_nb._validation import check_allocation
from neurosim_nb.core.synapses.channels import N_SYN_PAR, SYN_DECAY
from neurosim_nb.core.synapses.delivery import SynapticDynamics
from neurosim_nb.core.synapses.neuromodulation import modulators_dataset
from neurosim_nb.engine import simulator as _single
from neurosim_nb.engine.dataset import build_dataset, weights_dataset
from neurosim_nb.engine.loop import (
    N_POP_COLS,
    N_PROJ_COLS,
    P_KICK,
    P_VARYING,
    SPAN_MAX,
    FlatArrays,
    LoopArrays,
    SynapseStore,
    kernel_for,
    kernel_set,
    network_loop,
)
from neurosim_nb.engine.simulator import (
    SimulationDivergedError,
    _check_time,
    _index_array,
    _named,
    _Progress,
    _record_names,
    check_record_memory,
    check_run_options,
    check_sample_every,
    check_steps,
    resolve_seed,
    warn_interrupted,
)
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError
from neurosim_nb.schema import validate_dataset
from neurosim_nb.stimuli import as_stimuli

__all__ = ["simulate_network", "PRECISIONS", "RunTiming"]

#: the arithmetic a network run can use
PRECISIONS = {"float64": np.float64, "float32": np.float32}
#: how a run integrates (see simulate_network)
METHODS = ("fixed", "adaptive")


class RunTiming(NamedTuple):
    """Wall time (s) of one network run by phase, kept as ``Network.last_run_timing``.

    ``setup_s``: checks, stimulus binding, the flat arrays and synapse store of the
    compiled loop (the store is built on a network's first run and reused); ``loop_s``: the
    step loop -- every block's stimuli, compiled steps, delivery, plasticity and recording,
    the part Brian2's ``device._last_run_time`` and NEST's ``Simulate`` measure;
    ``output_s``: the Dataset's assembly. The CPU time of the loop (``time.process_time``)
    is kept beside it as ``Network.last_run_loop_cpu_s``.

    >>> from neurosim_nb import LIFNeuron, Network
    >>> net = Network("t", seed=0)
    >>> _ = net.add_population("a", LIFNeuron(n=3))
    >>> _ = net.simulate(5.0, verbose=False)
    >>> timing = net.last_run_timing
    >>> timing._fields, timing.total_s == sum(timing)
    (('setup_s', 'loop_s', 'output_s'), True)
    """

    setup_s: float
    loop_s: float
    output_s: float

    @property
    def total_s(self) -> float:
        """The whole :meth:`~neurosim_nb.core.networks.network.Network.simulate` call."""
        return self.setup_s + self.loop_s + self.output_s


class _PopRun:
    """Per-population arrays of one run."""

    def __init__(self, name, pop, dt, stims, rngs, rec_names, rec_idx, n_samples, channels,
                 depth):
        self.name, self.pop = name, pop
        n = pop.n
        self.p = pop._kernel_params(dt)
        if not np.all(np.isfinite(self.p)):
            raise ValueError(f"population {name!r}: parameters give non-finite values at dt={dt}")
        runtimes = [s.bind(n, dt, r) for s, r in zip(stims, rngs, strict=True)]
        # the bound stimuli, split by the buffer they write
        self.kick_adds = [rt for rt in runtimes if rt.stim.kind == "kick"]
        self.current_adds = [rt for rt in runtimes if rt.stim.kind != "kick"]
        self.has_kick = bool(self.kick_adds)
        # the kick buffer's entries that may be non-zero: (rows, columns); None columns:
        # all. The buffer starts zeroed (FlatArrays.zeros), so a kick to a few targets
        # clears and touches only their columns, not (chunk, n) numbers per block
        self.kick_dirty: tuple[int, np.ndarray | None] = (0, None)
        self.varying = False  # whether the current block has a current row per step
        rows = list(pop.state_variables)
        # the recorded state rows, one slot of rec_out each: first the (time, neuron)
        # variables in the order asked, then the rows behind per-compartment variables
        # (CompartmentLayout); var_slot: variable -> its slot, or its slot per compartment
        # (-1: the compartment lacks it)
        layout = pop.compartment_layout()
        self.layout = layout
        slot_of: dict[int, int] = {}
        self.var_slot: dict[str, int | np.ndarray] = {}
        for v in rec_names:
            if v in pop.state_variables:
                self.var_slot[v] = slot_of.setdefault(rows.index(v), len(slot_of))
        for v in rec_names:
            if layout is not None and v in layout.variables:
                comp_rows = np.asarray(layout.variables[v][0], dtype=np.int64)
                self.var_slot[v] = np.array([-1 if q < 0 else
                                             slot_of.setdefault(int(q), len(slot_of))
                                             for q in comp_rows], dtype=np.int64)
        self.rec_slots = np.full(len(rows), -1, dtype=np.int64)
        for q, j in slot_of.items():
            self.rec_slots[q] = j
        self.rec_idx = rec_idx
        # (slot, sample, neuron), a view of the network's recording (_CompiledLoop)
        self.rec_shape = (len(slot_of), n_samples, rec_idx.size)
        self.i_ext_rec = np.zeros((n_samples, rec_idx.size)) if "I_ext" in rec_names else None
        # input buffers (step, neuron): views of the network's, set by _CompiledLoop
        self.i_ext = self.kick = np.zeros((0, n))
        self.channels = channels  # receptor -> channel index
        c = len(channels)
        self.syn_state = np.zeros((c, 2, n))
        self.syn_buf = np.zeros((c, depth, n))
        self.syn_par = np.zeros((c, N_SYN_PAR))
        for rec, ch in channels.items():
            self.syn_par[ch] = rec.channel_parameters(dt)
        self.state = pop._state

    def fill_inputs(self, k: int, t_chunk: np.ndarray) -> tuple[bool, bool]:
        """Write the stimuli of the block's first ``k`` steps into the input buffers; return
        whether the block has time-varying input currents and whether it has kicks. A block
        in which every stimulus is off (e.g. after a kick-start) leaves the buffers unread:
        the compiled loop reads zeros instead (row 0 is zeroed for the gap currents)."""
        varying = _fill(self.current_adds, self.i_ext, k, t_chunk)
        if self.current_adds and not varying:
            self.i_ext[0] = 0.0
        return varying, self._fill_kicks(k, t_chunk)

    def _fill_kicks(self, k: int, t_chunk: np.ndarray) -> bool:
        """Like :func:`_fill` for the kick buffer, clearing only the entries the last fill
        wrote: its rows and the columns of its stimuli' targets (a Poisson kick-start of 50
        of 3200 neurons clears 50 columns, not 3200 -- 2.5 ms of a 60 ms COBA run)."""
        on = [rt for rt in self.kick_adds if rt.active_in(t_chunk)]
        if not on:
            return False
        rows, cols = self.kick_dirty
        if cols is None:
            self.kick[:rows] = 0.0
        elif cols.size:
            self.kick[:rows, cols] = 0.0
        targets = [getattr(rt, "idx", None) for rt in on]
        cols = None if any(t is None for t in targets) else np.unique(np.concatenate(targets))
        self.kick_dirty = (k, cols)
        rows_k = self.kick[:k]
        for rt in on:
            rt.add(rows_k, t_chunk)
        return True


def _takes_flat_path(r: _PopRun, flat) -> bool:
    """Whether the compiled loop advances ``r`` on its family's flat path: the loop's own
    test (shared parameters, then the path's check of the receptor channels), run here in
    Python on the same values."""
    if r.p.shape[1] != 1:
        return False
    check = flat[0]
    ok = getattr(check, "py_func", check)(r.syn_par, 0, 1.0)[0]
    return bool(ok)


def _flat_pass(runs: list[_PopRun]):
    """The flat path's pass for the populations ``runs`` of one kernel (those taking the
    path; their family's ``flat_pass``), or None (the default pass) for a family without."""
    choose = getattr(runs[0].pop, "flat_pass", None) if runs else None
    flat = runs[0].pop.flat_update() if runs else None
    taking = [r.syn_par for r in runs if flat is not None and _takes_flat_path(r, flat)]
    return choose(taking) if choose is not None and taking else None


def _fill(runtimes, buf: np.ndarray, k: int, t_chunk: np.ndarray) -> bool:
    """Zero ``buf[:k]`` and add the stimuli that are on in the block; False (buffer left
    untouched) when none is."""
    on = [rt for rt in runtimes if rt.active_in(t_chunk)]
    if on:
        rows = buf[:k]
        rows[:] = 0.0
        for rt in on:
            rt.add(rows, t_chunk)
    return bool(on)


def _is_static(proj) -> bool:
    """Fixed weights and no short-term dynamics: delivered inside the compiled loop."""
    return type(proj.dynamics).process is SynapticDynamics.process


class _CompiledLoop:
    """The arguments of the compiled loop (:func:`~neurosim_nb.engine.loop.network_loop`)
    for one run: every population's arrays moved into flat arrays (the populations keep
    views of them), the fixed-weight projections in the network's
    :class:`~neurosim_nb.engine.loop.SynapseStore` -- and the spike buffer the loop fills."""

    def __init__(self, net, runs: dict[str, _PopRun], dt: float, sample_every: int,
                 n_samples: int, depth: int, chunk: int, span: int, dtype=np.float64):
        run_list = list(runs.values())
        names = list(runs)
        off = net.offsets()
        n_total = net.n_neurons
        self.dt, self.sample_every = dt, sample_every
        self.bounds = {k: (off[k], off[k] + r.pop.n) for k, r in runs.items()}
        # float64: the populations keep views of the flat state (no copy back); float32:
        # the state is converted for the run and written back by finish()
        self.dtype = np.dtype(dtype)
        self.runs = run_list
        state = FlatArrays([r.pop._state for r in run_list], dtype)
        par = FlatArrays([r.p for r in run_list], dtype)
        rec_idx = FlatArrays([r.rec_idx for r in run_list], np.int64)
        rec_slots = FlatArrays([r.rec_slots for r in run_list], np.int64)
        rec_out = FlatArrays([np.broadcast_to(0.0, r.rec_shape) for r in run_list], dtype)
        syn_state = FlatArrays([r.syn_state for r in run_list], dtype)
        syn_buf = FlatArrays([r.syn_buf for r in run_list], dtype)
        syn_par = FlatArrays([r.syn_par for r in run_list], dtype)
        # stimulus buffers: a (step, neuron) array per population, so that a span of steps
        # of one population is one contiguous piece
        i_rows = chunk if any(r.current_adds for r in run_list) or \
            getattr(net, "state_couplings", None) else 1
        k_rows = chunk if any(r.has_kick for r in run_list) else 0
        i_ext = FlatArrays.zeros([(i_rows, r.pop.n) for r in run_list], dtype)
        kick = FlatArrays.zeros([(k_rows, r.pop.n) for r in run_list], dtype)
        self.span = span
        table = np.zeros((len(run_list), N_POP_COLS), dtype=np.int64)
        # the run's kernel set: one entry per distinct compiled kernel, in first-use order
        # (a generated kernel holds the loops of its populations' parameter sharing only)
        shared = [r.p.shape[1] == 1 for r in run_list]
        # (and the loops with an input current only for populations that may get one:
        # current stimuli, or gap-junction and coupling currents)
        coupled = bool(net.gap_junctions) or bool(getattr(net, "state_couplings", None))
        inputs = [bool(r.current_adds) or coupled for r in run_list]
        kernels, flats = kernel_set([r.pop for r in run_list], shared, inputs)
        # each population's index in the kernel set
        kernel_of = [kernels.index(kernel_for(r.pop, s, i))
                     for r, s, i in zip(run_list, shared, inputs, strict=True)]
        # a kernel whose populations all take its flat path is not called by the loop
        flat_only = tuple(
            flats[i] is not None and all(_takes_flat_path(r, flats[i])
                                         for r, j in zip(run_list, kernel_of, strict=True)
                                         if j == i)
            for i in range(len(kernels)))
        # the flat path's pass for the populations that take it (the family's
        # ``flat_pass``): a loop compiles the cases of its populations' channels only
        passes = tuple(
            _flat_pass([r for r, j in zip(run_list, kernel_of, strict=True) if j == i])
            if flats[i] is not None else None for i in range(len(kernels)))
        self.run_steps = network_loop(kernels, flats, flat_only, passes)
        for i, (name, r) in enumerate(runs.items()):
            n, o = r.pop.n, off[name]
            r.table_row = i
            r.state = state.views[i]
            if self.dtype == np.float64:
                r.pop._state = r.state
            r.rec_out, r.syn_state, r.syn_buf = rec_out.views[i], syn_state.views[i], \
                syn_buf.views[i]
            r.i_ext, r.kick = i_ext.views[i], kick.views[i]
            table[i] = (kernel_of[i], n, o, state.offsets[i],
                        r.state.shape[0],
                        par.offsets[i], r.p.shape[0], r.p.shape[1], rec_idx.offsets[i],
                        r.rec_idx.size, rec_slots.offsets[i], rec_out.offsets[i],
                        r.rec_out.shape[0],
                        len(r.channels), syn_state.offsets[i], syn_buf.offsets[i],
                        syn_par.offsets[i], r.has_kick, bool(r.current_adds),
                        i_ext.offsets[i], kick.offsets[i])
        static = [p for p in net.projections if _is_static(p) and p.n_synapses]
        store = getattr(net, "_synapse_store", None)
        if store is None or not store.matches(static):
            store = net._synapse_store = SynapseStore(static)
        # Python-level dynamics (plasticity, short-term): (process, projection, ring buffer)
        self.dynamic = [(p.dynamics.process, p, runs[p.post].syn_buf[runs[p.post].channels[
            p.receptor]]) for p in net.projections if not _is_static(p)]
        uniform = [isinstance(p._delay_ms, float) for p in static]
        if all(uniform):
            delay = np.zeros(0, np.uint8)
        else:
            longest = max(int(p.delay_steps.max()) for p in static)
            delay = FlatArrays([p.delay_steps for p in static],
                               np.uint8 if longest < 256 else np.uint32).flat
        projs = np.array([(names.index(p.pre), names.index(p.post),
                           runs[p.post].channels[p.receptor],
                           int(p.delay_steps[0]) if u else -1, store.indptr.offsets[j],
                           store.post.offsets[j])
                          for j, (p, u) in enumerate(zip(static, uniform, strict=True))],
                         dtype=np.int64).reshape(-1, N_PROJ_COLS)
        # a projection whose weights are all equal delivers without reading them
        proj_weight = np.array([w[0] if w.size and np.all(w == w[0]) else np.nan
                                for w in store.weight.views], dtype=np.float64)
        # the run's precision: float32 weights in a float32 run are read as stored; other
        # combinations use a copy for the run (4 or 8 bytes per synapse)
        weight = store.weight.flat if store.weight.flat.dtype == self.dtype else \
            store.weight.flat.astype(dtype)
        # room for a few spans' spikes per compiled call (one block-long span: one)
        cap = max((8 if span <= SPAN_MAX else 1) * span * n_total, 1 << 16)
        self.out_step = np.empty(cap, dtype=np.int64)
        self.out_id = np.empty(cap, dtype=np.int64)
        self.table = table
        i_zero = np.zeros(span * max(r.pop.n for r in run_list), dtype)
        self.arrays = LoopArrays(
            span=span, dt=float(dt), sample_every=sample_every, n_samples=n_samples,
            depth=depth, pops=table, state=state.flat, par=par.flat, i_ext=i_ext.flat,
            i_zero=i_zero, kick=kick.flat, rec_idx=rec_idx.flat, rec_slots=rec_slots.flat,
            rec_out=rec_out.flat, spk_step=np.empty(span * n_total, np.int64),
            spk_idx=np.empty(span * n_total, np.int64), syn_state=syn_state.flat,
            syn_buf=syn_buf.flat, syn_par=syn_par.flat, scratch=np.zeros(3 * n_total, dtype),
            projs=projs, proj_weight=proj_weight, indptr=store.indptr.flat,
            post=store.post.flat, weight=weight, delay=delay, out_step=self.out_step,
            out_id=self.out_id)
        self.spike_steps: list[np.ndarray] = []
        self.spike_ids: list[np.ndarray] = []

    def set_inputs(self, r: _PopRun, varying: bool, kicks: bool) -> None:
        """Tell the compiled loop whether ``r`` reads a current row per step and kicks."""
        row = self.table[r.table_row]
        row[P_VARYING], row[P_KICK] = varying, kicks
        r.varying = varying

    def finish(self) -> None:
        """After a float32 run: the populations' float64 state takes the run's values."""
        if self.dtype != np.float64:
            for r in self.runs:
                r.pop._state[...] = r.state

    def run_block(self, step0: int, k: int, run_list: list[_PopRun]) -> tuple[np.ndarray,
                                                                               np.ndarray]:
        """Advance all populations by ``k`` steps from ``step0``; return the block's spikes
        (global step, global id), also appended to :attr:`spike_steps`/:attr:`spike_ids`."""
        done, steps, ids = 0, [], []
        while done < k:
            done, n_out, bad_pop, bad, bad_step = self.run_steps(step0, done, k, self.arrays)
            if n_out:
                steps.append(self.out_step[:n_out].copy())
                ids.append(self.out_id[:n_out].copy())
            if bad_pop >= 0:
                r = run_list[bad_pop]
                raise SimulationDivergedError(
                    f"population {r.name!r} ({type(r.pop).__name__}) diverged at t = "
                    f"{(bad_step + 1) * self.dt:g} ms (neuron {bad}); try a smaller dt (now "
                    f"{self.dt} ms) or check the inputs, weights and parameters")
        self.spike_steps.extend(steps)
        self.spike_ids.extend(ids)
        if len(steps) == 1:
            return steps[0], ids[0]
        if not steps:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(steps), np.concatenate(ids)

    def run_dynamic(self, step_end: int, steps: np.ndarray, ids: np.ndarray) -> None:
        """Let the Python-level projection dynamics process a block's spikes (time order)."""
        local: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for process, proj, buf in self.dynamic:
            for side in (proj.pre, proj.post):
                if side not in local:
                    local[side] = self._local(side, steps, ids)
            pre_s, pre_i = local[proj.pre]
            post_s, post_i = local[proj.post]
            process(proj, pre_s, pre_i, pre_s.size, post_s, post_i, post_i.size, buf, step_end)

    def _local(self, name, steps, ids):
        lo, hi = self.bounds[name]
        take = (ids >= lo) & (ids < hi)
        return np.ascontiguousarray(steps[take]), ids[take] - lo


def _record_request(net, record, record_neurons, owner: str = "Network.simulate"
                    ) -> tuple[list[str], dict[str, np.ndarray]]:
    record = _record_names(record, owner)
    names: list[str] = []
    layouts = [p.compartment_layout() for p in net.populations.values()]
    per_compartment = set().union(*[set(lay.variables) for lay in layouts if lay is not None])
    plain = {"I_ext"}.union(*[set(p.state_variables) for p in net.populations.values()])
    if per_compartment & plain:
        raise ValueError(f"variables {sorted(per_compartment & plain)} are declared both per "
                         "compartment and per neuron by the populations of this network")
    for v in record:
        if v in _single.SPIKE_NAMES:
            continue
        key = _single.ALIASES.get(v, v)
        valid = plain | per_compartment
        if key == "V" and key not in valid:
            continue  # no membrane at all (only spike sources): the default records nothing
        if key not in valid:
            hint = _single.difflib.get_close_matches(key, sorted(valid), n=1)
            raise InvalidArgumentError(
                f"{_named(owner, 'record')}: no population of this network can record {v!r}; "
                f"variables: {sorted(valid)} (spikes are always recorded)."
                + (f" Did you mean {hint[0]!r}?" if hint else ""))
        if key not in names:
            names.append(key)
    per_pop: dict[str, np.ndarray] = {}
    if record_neurons is None:
        per_pop = {k: np.arange(p.n, dtype=np.int64) for k, p in net.populations.items()}
    elif isinstance(record_neurons, dict):
        for k, v in record_neurons.items():
            pop = net.population(k)
            per_pop[k] = _single._resolve_neurons(pop, v, owner)
    else:
        ids = _index_array(record_neurons, net.n_neurons,
                           _named(owner, "record_neurons") + " (global neuron ids)")
        for k, idx in net.locate(ids):
            per_pop[k] = np.unique(idx)
    for k in net.populations:
        per_pop.setdefault(k, np.zeros(0, dtype=np.int64))
    return names, per_pop


def simulate_network(net, duration, *, dt: float = 0.1, record=("V",), record_neurons=None,
                     sample_every: int = 1, seed: int | None = None, verbose: bool | None = None,
                     max_record_bytes: int | None = None, stimuli: dict[str, list] | None = None,
                     record_weights: bool | list[str] = False, weight_sample_ms: float = 10.0,
                     precision: str = "float64", progress=None, solo: bool = False,
                     method: str = "fixed", rtol: float = 1e-6, atol: float = 1e-6
                     ) -> xr.Dataset:
    """Simulate ``net`` for ``duration`` ms from its current state; return an xarray Dataset.

    Parameters
    ----------
    net : Network
    duration, dt : float
        Simulated time and step (ms).
    record : sequence of str
        State variables (of any population; NaN where a population lacks one) and ``I_ext``;
        also the per-compartment variables a population declares
        (``compartment_layout()``, e.g. compartmental cells' ``V_compartment``), recorded on
        ``(time, neuron, compartment)`` at the compartments the population chooses.
    record_neurons : None, array of global ids, or {population: local indices}
        Neurons whose variables are recorded (default all).
    sample_every : int
        Record every this many steps.
    seed : int, optional
        Seed of the stochastic stimuli (drawn and stored when ``None``).
    stimuli : {population: [Stimulus, ...]}, optional
        Extra stimuli for this run, added to ``net.stimuli``.
    record_weights : bool or list of projection names
        Record the weights of plastic projections (``True``: all plastic ones) every
        ``weight_sample_ms`` into ``weight`` (``weight_time``, ``synapse``).
    precision : {"float64", "float32"}
        Arithmetic of the run. ``"float32"`` halves the memory traffic of the step loop
        (neuron, receptor and buffer arrays, weights, recorded traces) and gives the same
        statistics within the tolerances tested in ``tests/engine/test_precision.py``;
        spike trains are not identical to float64's. The populations' state stays float64
        between runs.
    progress : callable, optional
        Called as ``progress(steps_done, n_steps)`` after every block of steps, in the
        simulating thread (e.g. to drive a widget's progress bar).
    solo : bool
        The network is a single population run on its own
        (:func:`neurosim_nb.engine.simulator.simulate`): the result describes the
        population (``model`` is its class) rather than the network.
    method : {"fixed", "adaptive"}
        ``"fixed"``: every population's own scheme on steps of ``dt``, spikes stamped at
        the end of a step. ``"adaptive"``: each neuron on error-controlled Dormand-Prince
        5(4) steps, spike times located inside a step, delays exact; ``dt`` is then the
        grid of the inputs and the recording (:mod:`neurosim_nb.engine.adaptive`: what it
        supports, its cost model and when fixed steps are better).
    rtol, atol : float
        Relative and absolute tolerances of ``method="adaptive"`` (per step, on the
        model's state variables in their units: mV, nA, gates ...).

    Returns
    -------
    xarray.Dataset
        ``V`` (time, neuron), ``spike_time``/``spike_neuron`` (global ids), coords
        ``population(neuron)`` and ``layer(neuron)``, optional ``weight``. The wall time
        of each phase of the run goes to ``net.last_run_timing`` (:class:`RunTiming`).
    """
    t_call = time.perf_counter()
    owner = "simulate" if solo else "Network.simulate"
    for name, value, allowed in (("precision", precision, list(PRECISIONS)),
                                 ("method", method, list(METHODS))):
        if not isinstance(value, str):
            raise ArgumentTypeError(f"{_named(owner, name)} must be one of {allowed}, got "
                                    f"{value!r}")
        if value not in allowed:
            raise InvalidArgumentError(f"{_named(owner, name)}: {name} must be one of "
                                       f"{allowed}, got {value!r}")
    dt = _check_time("dt", dt, owner)
    duration = _check_time("duration", duration, owner)
    n_steps = check_steps(duration, dt, owner)
    if not net.populations:
        raise InvalidArgumentError("the network has no populations")
    check_run_options(owner, verbose=verbose, max_record_bytes=max_record_bytes,
                      progress=progress, method=method)
    sample_every = check_sample_every(sample_every, owner)
    seed = resolve_seed(seed, owner)
    weight_sample_ms = _check_time("weight_sample_ms", weight_sample_ms, owner)
    if not isinstance(record_weights, bool | np.bool_ | list | tuple | type(None)):
        raise ArgumentTypeError(f"{_named(owner, 'record_weights')} must be True, False or a "
                                f"list of projection names, got {record_weights!r}")
    all_stims = _all_stimuli(net, stimuli, owner)
    rec_names, rec_per_pop = _record_request(net, record, record_neurons, owner)
    if method == "adaptive":
        from neurosim_nb.engine.adaptive import check_tolerances, simulate_adaptive

        rtol, atol = check_tolerances(rtol, atol)
        if precision != "float64" or record_weights:
            raise InvalidArgumentError("method='adaptive' runs in float64 without plasticity: "
                                       "leave precision and record_weights at their defaults")
        return simulate_adaptive(
            net, dt=dt, n_steps=n_steps, rtol=rtol, atol=atol, record=record,
            record_neurons=record_neurons, sample_every=sample_every, seed=seed,
            verbose=verbose, max_record_bytes=max_record_bytes,
            all_stims=all_stims, progress=progress, solo=solo,
            t_call=t_call)
    net.__dict__.pop("_adaptive_pending", None)  # spikes in flight of an adaptive run
    warn_inaccurate_step(net, dt)
    n_samples = n_steps // sample_every
    n_rec = sum(v.size for v in rec_per_pop.values())
    check_record_memory(rec_names, n_rec, n_samples, max_record_bytes,
                        n_traces=_n_traces(net, rec_names, rec_per_pop))

    for proj in net.projections:
        proj.prepare(dt)
    for gj in net.gap_junctions:
        for side in (gj.a, gj.b):
            if "V" not in net.populations[side].state_variables:
                raise ValueError(f"gap junction {gj.name!r}: population {side!r} has no "
                                 "membrane potential V (a spike source cannot be coupled)")
    for pop in net.populations.values():
        # populations that schedule their run (spike sources) draw it now, seeded by the
        # network (the engine does not know which populations they are)
        prepare_run = getattr(pop, "prepare_run", None)
        if prepare_run is not None:
            prepare_run(dt=dt, n_steps=n_steps, seed=net.seed)
    min_delay = min((int(p.delay_steps.min()) for p in net.projections if p.n_synapses),
                    default=None)
    max_delay = max((int(p.delay_steps.max()) for p in net.projections if p.n_synapses),
                    default=0)
    # a kinetic receptor keeps its arrivals in the ring buffer for its pulse (channels)
    pulse = max((p.receptor.pulse_steps(dt) for p in net.projections if p.n_synapses),
                default=0)
    if pulse and pulse > min_delay + 2:
        raise ValueError(f"a kinetic receptor's transmitter pulse ({pulse} steps of {dt} ms) "
                         f"is longer than the network's shortest delay + 2 steps "
                         f"({min_delay + 2}); use longer delays or a shorter Cdur_ms")
    # a block of steps runs in one compiled call; its stimulus buffers hold about
    # CHUNK_ELEMENTS numbers. Fixed-weight projections deliver inside the call; the others
    # after it, so a block must end before their earliest arrival (delay + 1 steps)
    chunk = max(1, min(n_steps, _single.CHUNK_ELEMENTS // net.n_neurons))
    dynamic_delays = [int(p.delay_steps.min()) for p in net.projections
                      if p.n_synapses and not _is_static(p)]
    if dynamic_delays:
        chunk = min(chunk, min(dynamic_delays) + 1)
    if net.gap_junctions:
        chunk = 1
    couplings = getattr(net, "state_couplings", None) or []
    if couplings:  # a coupling's current is held for at most its hold_ms
        chunk = min(chunk, max(1, min(int(round(getattr(c, "hold_ms", dt) / dt))
                                      for c in couplings)))
    # slots for arrival steps step0 + 1 .. step0 + chunk + max_delay; independent of the run
    # length so that channel state and spikes in flight carry over to the next run
    depth = max_delay + (min_delay or 0) + 3
    check_allocation(
        f"{owner}: the receptor ring buffers ({depth} slots of dt = {dt:g} ms for the longest "
        f"delay, {max_delay * dt:g} ms)", net.ring_buffer_bytes(dt, itemsize=np.dtype(
            PRECISIONS[precision]).itemsize),
        "use shorter delays or a larger dt (delays longer than the run still need their "
        "slots: the spikes in flight carry over to the next run)")

    n_stims = sum(len(v) for v in all_stims.values())
    children = iter(np.random.SeedSequence(seed).spawn(max(n_stims, 1)))
    runs: dict[str, _PopRun] = {}
    for name, pop in net.populations.items():
        stims = all_stims.get(name, [])
        rngs = [np.random.default_rng(next(children)) for _ in stims]
        receptors = []
        for proj in net.projections:
            if proj.post == name and proj.receptor not in receptors:
                receptors.append(proj.receptor)
        channels = {r: i for i, r in enumerate(receptors)}
        runs[name] = r = _PopRun(name, pop, dt, stims, rngs, rec_names, rec_per_pop[name],
                                 n_samples, channels, depth)
        carried = net._carry.get(name)
        if carried is not None and carried[0] == (dt, tuple(receptors), depth):
            r.syn_state[:], r.syn_buf[:] = carried[1], carried[2]
        net._apply_receptor_init(name, channels, r.syn_state, r.syn_par[:, SYN_DECAY])

    plastic = _weight_projections(net, record_weights)
    w_every = max(1, int(round(weight_sample_ms / dt)))
    w_times: list[float] = []
    w_values: list[np.ndarray] = []

    t_start = {k: p.t_ms for k, p in net.populations.items()}
    progress = _Progress(n_steps, verbose, f"simulating {net.name}", progress)
    step0 = 0
    t_first = next(iter(t_start.values()))
    interrupted = False
    if plastic:
        w_times.append(0.0)
        w_values.append(np.concatenate([p.weight for p in plastic]))
    # neuromodulators (network state read by plasticity): advanced per block, after the
    # block's spikes are known and before plasticity processes them
    modulators = list(getattr(net, "modulators", {}).values())
    for m in modulators:
        m.begin_run(net, dt, n_steps, seed)
    run_list = list(runs.values())
    stim_runs = [r for r in run_list if r.kick_adds or r.current_adds]
    rec_i_ext = [r for r in run_list if r.i_ext_rec is not None]
    gaps = bool(net.gap_junctions) or bool(getattr(net, "state_couplings", None))
    # a kernel call advances a span of steps; every spike of a span arrives after it.
    # Without spikes to deliver inside the loop (a population alone, or only Python-level
    # projections) a span is the whole block: one kernel call per block, as a population
    # run used to make (with delivery, short spans keep the spike buffers small)
    delivering = any(_is_static(p) and p.n_synapses for p in net.projections)
    if delivering:
        span = min(SPAN_MAX, chunk, min_delay + 1)
    else:
        span = chunk
    loop = _CompiledLoop(net, runs, dt, sample_every, n_samples, depth, chunk, span,
                         PRECISIONS[precision])
    t_loop, cpu_loop = time.perf_counter(), time.process_time()
    try:
        while step0 < n_steps:
            k = min(chunk, n_steps - step0)
            if plastic:  # end chunks on weight-sampling steps so samples fall on the grid
                k = min(k, w_every - step0 % w_every)
            if stim_runs:
                t_chunk = (step0 + np.arange(k)) * dt
                for r in stim_runs:
                    loop.set_inputs(r, *r.fill_inputs(k, t_chunk))
            if gaps:
                for r in run_list:
                    if not r.current_adds or not r.varying:  # (gap junctions: k = 1)
                        r.i_ext[:k] = 0.0
                _gap_currents(net, runs, k)
                for r in run_list:
                    loop.table[r.table_row, P_VARYING] = 1  # gap, coupling currents
            steps, ids = loop.run_block(step0, k, run_list)
            for m in modulators:
                m.advance(step0, k, steps, ids)
            if loop.dynamic:
                loop.run_dynamic(step0 + k, steps, ids)
            for r in rec_i_ext:
                blk = step0 + np.arange(k)
                take = (blk + 1) % sample_every == 0
                rows = (blk[take] + 1) // sample_every - 1
                ibuf = r.i_ext[:k] if r.varying else np.broadcast_to(r.i_ext[0], (k, r.pop.n))
                r.i_ext_rec[rows] = ibuf[take][:, r.rec_idx]
            step0 += k
            if plastic and step0 % w_every == 0:
                _sync(plastic)
                w_times.append(step0 * dt)
                w_values.append(np.concatenate([p.weight for p in plastic]))
            progress.advance(step0, k)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.close()
        loop.finish()
        _sync(net.projections)
        for m in modulators:
            m.finish_run(step0)
    t_output, cpu_output = time.perf_counter(), time.process_time()
    for name, pop in net.populations.items():
        pop.t_ms = t_start[name] + step0 * dt
        r = runs[name]
        # receptor state and spikes in flight continue in the next run (whose steps restart
        # at 0): slot j of the next run holds what is due in step step0 + j of this one
        net._carry[name] = ((dt, tuple(r.channels), depth), r.syn_state.copy(),
                            np.roll(r.syn_buf, -(step0 % depth), axis=1))
    ds = build_dataset(net, runs, loop, rec_names, dt=dt, sample_every=sample_every,
                       n_steps=step0, seed=seed, stimuli=all_stims, requested=n_steps * dt,
                       t_start_ms=t_first, solo=solo)
    if plastic:
        ds = ds.merge(weights_dataset(net, plastic, w_times, w_values))
    if modulators:
        ds = ds.merge(modulators_dataset(modulators))
    ds.attrs["interrupted"] = int(interrupted)
    validate_dataset(ds, run=True, spikes=False)  # one schema on every path
    warn_saturated(net, ds.spike_time.values, ds.spike_neuron.values, dt)
    net.last_run_loop_cpu_s = cpu_output - cpu_loop
    net.last_run_timing = RunTiming(t_loop - t_call, t_output - t_loop,
                                    time.perf_counter() - t_output)
    freeze_long_lived()  # opt-in, once per process: see neurosim_nb._gc
    if interrupted:
        warn_interrupted(step0 * dt, n_steps * dt)
    return ds


# -- numerical honesty ---------------------------------------------------------------------
#: Hodgkin-Huxley steps (ms at rate factor phi = 1; the limit is this / phi) above which
#: the spike count of a 200 ms run is off by more than :data:`COUNT_ERROR` for some
#: drive, per (kinetics, scheme); measured against dt = 0.001 ms (docs/robustness.md)
HH_DT_LIMITS = {("hh1952", "staggered"): 0.3, ("hh1952", "exponential_euler"): 0.2,
                ("traub_miles", "staggered"): 0.5, ("traub_miles", "exponential_euler"): 0.12}
#: the same for the forward-Euler schemes of other families (ms): Izhikevich's ``euler``
#: loses 28 % of a TC cell's spikes at 1 ms (20 % at 0.5 ms); AdEx ``euler`` stays within
#: 20 % up to 1 ms, the largest step measured. Their default schemes (Izhikevich
#: ``exact``, AdEx ``rosenbrock``) stay within 12 % up to 1 ms and are not checked.
EULER_DT_LIMITS = {"IzhikevichNeuron": 0.5, "AdExNeuron": 1.0}
#: the count error the limits allow
COUNT_ERROR = 0.2
#: the step (ms at phi = 1) at which the staggered HH scheme's counts match the converged
#: ones and spike times stay within ~0.1 ms over 200 ms
HH_ACCURATE_DT = 0.025
#: a neuron "fires at the maximum rate the step allows" when at least this share of its
#: inter-spike intervals are the shortest its refractoriness allows (1 + t_refractory / dt
#: steps), over at least SATURATION_MIN_INTERVALS intervals
SATURATION_SHARE = 0.9
SATURATION_MIN_INTERVALS = 9


def _step_limit(pop) -> tuple[float, str, str] | None:
    """The largest step (ms) at which ``pop``'s spike counts are within
    :data:`COUNT_ERROR`, how the model is named in the message and what else to say;
    ``None`` for models without a known limit."""
    from neurosim_nb.core.neurons.hodgkin_huxley import HodgkinHuxleyNeuron

    p = getattr(pop, "params", None)
    if isinstance(pop, HodgkinHuxleyNeuron):
        limit = HH_DT_LIMITS.get((p.kinetics, p.scheme))
        if limit is None:
            return None
        phi = float(np.max(p.rate_factor()))
        return (limit / phi, f"{type(pop).__name__}, {p.kinetics} kinetics, {p.scheme} "
                             f"scheme, rate factor {phi:.3g}",
                f", or {HH_ACCURATE_DT / phi:.3g} ms for converged spike times")
    name = type(pop).__name__
    if name in EULER_DT_LIMITS and getattr(p, "scheme", None) == "euler":
        return (EULER_DT_LIMITS[name], f"{name}, euler scheme",
                f", or the default scheme ({type(p)().scheme!r})")
    return None


def warn_inaccurate_step(net, dt: float) -> None:
    """Warn (:class:`~neurosim_nb.errors.NumericalAccuracyWarning`) about every population
    whose model is known to give wrong spike counts at step ``dt`` (ms), saying which dt
    to use: Hodgkin-Huxley populations above :data:`HH_DT_LIMITS` (scaled by their
    temperature factor), Izhikevich and AdEx forward Euler above :data:`EULER_DT_LIMITS`.

    >>> import warnings
    >>> from neurosim_nb import HodgkinHuxleyNeuron, Network
    >>> net = Network(seed=0)
    >>> _ = net.add_population("hh", HodgkinHuxleyNeuron.create_squid_axon())
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_inaccurate_step(net, 1.0)
    >>> print(str(caught[0].message).split("; ")[-1])
    use dt <= 0.3 ms, or 0.025 ms for converged spike times
    """
    import warnings

    from neurosim_nb.errors import NumericalAccuracyWarning

    for name, pop in net.populations.items():
        known = _step_limit(pop)
        if known is None or dt <= known[0] * (1 + 1e-9):
            continue
        limit, what, more = known
        warnings.warn(
            f"population {name!r} ({what}) at dt = {dt:g} ms: above {limit:.3g} ms its spike "
            f"counts are no longer within {COUNT_ERROR:.0%} of the converged ones (measured "
            f"in docs/robustness.md: fewer spikes, or none); use dt <= {limit:.3g} ms{more}",
            NumericalAccuracyWarning, stacklevel=4)


def _refractory_steps(pop, dt: float) -> np.ndarray:
    """Steps in which a neuron of ``pop`` cannot spike after a spike (``t_refractory`` /
    dt, rounded)."""
    t_ref = getattr(getattr(pop, "params", None), "t_refractory", 0.0)
    t_ref = np.broadcast_to(np.asarray(t_ref, dtype=float), (pop.n,))
    return np.floor(t_ref / dt + 0.5)


def warn_saturated(net, spike_time: np.ndarray, spike_ids: np.ndarray, dt: float) -> None:
    """Warn (:class:`~neurosim_nb.errors.NumericalAccuracyWarning`) when neurons fired at
    the largest rate the step allows: (nearly) every inter-spike interval the shortest the
    refractoriness permits, ``1 + round(t_refractory / dt)`` steps -- the neuron spikes in
    the first step it may, so its rate is set by ``dt`` (and ``t_refractory``), not by the
    model. From the run's spikes (times in ms, global ids), sorted per neuron: cheap, no
    kernel change; spike sources are not checked. A neuron driven hard but still
    integrating between spikes (intervals a step or more longer) is not flagged.

    >>> import warnings
    >>> from neurosim_nb import LIFNeuron, Network
    >>> net = Network(seed=0)
    >>> _ = net.add_population("a", LIFNeuron(n=1))       # t_refractory 2 ms
    >>> t = 0.1 * (1 + 21 * np.arange(12))                  # every 21 steps of 0.1 ms
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_saturated(net, t, np.zeros(12, np.int64), 0.1)
    >>> print(str(caught[0].message)[:64])
    1 neuron of population 'a' (LIFNeuron) fired at the maximum rate
    """
    import warnings

    from neurosim_nb.errors import NumericalAccuracyWarning

    if spike_ids.size <= SATURATION_MIN_INTERVALS:
        return
    from neurosim_nb.core.neurons.hodgkin_huxley import HodgkinHuxleyNeuron

    # -1: not checked -- spike sources, and Hodgkin-Huxley cells (no reset: a spike is a
    # threshold crossing of the model's own action potential; t_refractory there is only
    # the detector's dead time)
    shortest = np.full(net.n_neurons, -1.0)
    for name, start in net.offsets().items():
        pop = net.populations[name]
        if (not hasattr(pop, "scheduled_steps") and "V" in pop.state_variables
                and not isinstance(pop, HodgkinHuxleyNeuron)):
            shortest[start:start + pop.n] = _refractory_steps(pop, dt) + 1.0
    order = np.lexsort((spike_time, spike_ids))
    ids, steps = spike_ids[order], np.rint(spike_time[order] / dt)
    same = ids[1:] == ids[:-1]
    owner = ids[1:][same]
    fast = np.diff(steps)[same] <= shortest[owner]
    n_int = np.bincount(owner, minlength=net.n_neurons)
    n_fast = np.bincount(owner[fast], minlength=net.n_neurons)
    hot = (n_int >= SATURATION_MIN_INTERVALS) & (n_fast >= SATURATION_SHARE * n_int)
    for name, start in net.offsets().items():
        pop = net.populations[name]
        k = int(np.count_nonzero(hot[start:start + pop.n]))
        if k:
            every = int(shortest[start:start + pop.n][hot[start:start + pop.n]].max())
            warnings.warn(
                f"{k} neuron{'s' if k > 1 else ''} of population {name!r} "
                f"({type(pop).__name__}) fired at the maximum rate the step allows (a spike "
                f"every {every} step(s) of {dt:g} ms, {1000.0 / (every * dt):.0f} Hz); the "
                f"input saturates them; the rate is set by dt (and t_refractory), not the "
                f"model: lower the input or check its units", NumericalAccuracyWarning,
                stacklevel=4)


def _all_stimuli(net, stimuli, owner: str = "Network.simulate") -> dict[str, list]:
    """The network's stimuli plus this run's, per population."""
    all_stims = {k: list(v) for k, v in net.stimuli.items()}
    if stimuli is not None and not isinstance(stimuli, dict):
        raise ArgumentTypeError(f"{_named(owner, 'stimuli')} must be a dict {{population: "
                                f"[Stimulus, ...]}}, got {stimuli!r}")
    for k, v in (stimuli or {}).items():
        net.population(k)
        try:
            all_stims.setdefault(k, []).extend(as_stimuli(v))
        except (TypeError, ValueError) as err:
            raise InvalidArgumentError(f"{_named(owner, 'stimuli')}[{k!r}]: {err}") from None
    return all_stims


def _n_traces(net, rec_names, rec_per_pop) -> int | None:
    """The number of recorded traces when per-compartment variables are recorded (each
    neuron of the Dataset gets as many as the most compartments recorded), else None."""
    layouts = {k: p.compartment_layout() for k, p in net.populations.items()}
    per_comp = {v for lay in layouts.values() if lay is not None for v in lay.variables
                if v in rec_names}
    if not per_comp:
        return None
    width = max(lay.n_compartments for lay in layouts.values() if lay is not None)
    n_rec = sum(v.size for v in rec_per_pop.values())
    return n_rec * (len(rec_names) - len(per_comp) + width * len(per_comp))


def _sync(projections) -> None:
    """Let dynamics that update weights lazily (neuromodulated plasticity) bring them up to
    date before they are read."""
    for p in projections:
        sync = getattr(p.dynamics, "sync", None)
        if sync is not None:
            sync()


def _weight_projections(net, record_weights) -> list:
    if record_weights is False or record_weights is None:
        return []
    if record_weights is True:
        return [p for p in net.projections if p.dynamics.plastic]
    names = [p.name for p in net.projections]
    out = []
    for name in record_weights:
        if name not in names:
            raise ValueError(f"unknown projection {name!r}; the network has {names}")
        out.append(net.projections[names.index(name)])
    return out


def _gap_currents(net, runs, k: int = 1) -> None:
    for gj in net.gap_junctions:
        va = runs[gj.a].state[0][gj.a_idx]  # row 0 is V (the run's arrays, any precision)
        vb = runs[gj.b].state[0][gj.b_idx]
        i_ab = gj.conductance * (va - vb)  # current flowing from a into b (nA)
        if gj.rectification == "a_to_b":
            i_ab = np.maximum(i_ab, 0.0)
        elif gj.rectification == "b_to_a":
            i_ab = np.minimum(i_ab, 0.0)
        np.add.at(runs[gj.b].i_ext[0], gj.b_idx, i_ab)
        np.add.at(runs[gj.a].i_ext[0], gj.a_idx, -i_ab)
    for c in getattr(net, "state_couplings", ()):  # block-start state -> held current
        i_c = np.zeros(runs[c.post].pop.n)
        c.add_currents(runs[c.pre].state, i_c)
        runs[c.post].i_ext[:k] += i_c
