r"""``method="adaptive"``: every neuron on its own error-controlled steps, spikes exchanged at
window boundaries so that delays stay exact.

The run is cut into **exchange windows** of ``W`` = the shortest synaptic delay (rounded
down to whole steps of ``dt``; the run's chunk when nothing is connected). Inside a window
each population's adaptive kernel (:mod:`neurosim_nb.core.neurons.continuous`) integrates
each neuron from the window's start to its end with Dormand-Prince 5(4) steps, stopping
exactly at every synaptic arrival, every change of its grid-sampled input (``dt`` grid)
and the end of a refractory period, and locating threshold crossings inside a step. A
spike at time ``t`` reaches its targets at ``t + delay`` exactly (not rounded to a step):
as ``delay >= W`` the arrival lies in a later window, so each window only needs spikes of
earlier ones -- NEST's min-delay scheme, with off-grid times as in its precise-spiking
models. Spike sources emit their scheduled spikes (on the grid, ``(k + 1) dt``).

Spike times in the Dataset are the located crossing times (off the grid); traces are
sampled on the grid ``sample_every * dt`` from each step's continuous extension. The
attrs say ``method="adaptive"``, ``rtol``, ``atol`` and the work done:
``n_steps_accepted``, ``n_steps_rejected``, ``n_rhs_evaluations`` (all neurons).

**Cost model.** A fixed step costs one model update (a few exponentials) per neuron and
``dt``. An adaptive step costs six right-hand-side evaluations (plus error control); it
pays off when those steps are much longer than the ``dt`` that reaches the same
accuracy: single neurons and small circuits driven by steady or slowly varying input,
between spikes (rest, slow adaptation, astrocytes' seconds-long calcium waves), and
wherever exact spike times matter. Every input event ends a step (it is a discontinuity),
so with ``r`` arrivals per neuron and ms the steps cannot be longer than about ``1/r``
ms: in a network with thousands of inputs per neuron (r ~ 10-100 per ms), or under noise
currents that change every ``dt``, fixed steps are the better choice -- the same
observation NEURON's users report for CVODE with many synaptic events.

Supported: populations with a continuous form (LIF, adaptive LIF, AdEx, Izhikevich,
Hodgkin-Huxley, astrocytes, and any user model that declares one) and spike sources;
fixed-weight projections with exponential or dual-exponential current/conductance
receptors (Mg2+ block included) or delta synapses; stimuli of every kind; astrocytes'
slow inward current (held over a window of at most ``hold_ms``). Not supported (a
``ValueError`` says so): plasticity and short-term dynamics, neuromodulators, gap
junctions, kinetic receptors, ``precision="float32"``.
"""

from __future__ import annotations

import time

import numpy as np

from neurosim_nb.core.neurons.continuous import KERNEL_STATUS, adaptive_kernel
from neurosim_nb.core.synapses.receptors import KINDS
from neurosim_nb.engine import simulator as _single
from neurosim_nb.engine.dataset import build_dataset
from neurosim_nb.engine.network_sim import (
    RunTiming,
    _is_static,
    _n_traces,
    _PopRun,
    _record_request,
)
from neurosim_nb.engine.simulator import (
    SimulationDivergedError,
    _Progress,
    check_record_memory,
    warn_interrupted,
)
from neurosim_nb.schema import validate_dataset

__all__ = ["simulate_adaptive", "check_tolerances"]


def check_tolerances(rtol, atol) -> tuple[float, float]:
    """``rtol`` and ``atol`` as floats, or an :class:`~neurosim_nb.errors.ArgumentTypeError`
    (not a number) / :class:`~neurosim_nb.errors.InvalidArgumentError` (out of range)
    naming the bad one.

    >>> check_tolerances(1e-6, 1e-8)
    (1e-06, 1e-08)
    """
    from neurosim_nb._validation import is_number
    from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError

    out = []
    for name, value, lo in (("rtol", rtol, 1e-13), ("atol", atol, 0.0)):
        if not is_number(value):
            raise ArgumentTypeError(f"{name} must be a number, got {value!r}")
        v = float(value)
        if not np.isfinite(v) or v < lo or v > 1.0:
            raise InvalidArgumentError(f"{name} must be a finite number in [{lo:g}, 1], got "
                                       f"{value!r}")
        out.append(v)
    return out[0], out[1]


def _check_network(net) -> None:
    problems = []
    for name, pop in net.populations.items():
        if hasattr(pop, "scheduled_steps"):
            continue
        if pop.continuous_form() is None:
            problems.append(f"population {name!r} ({type(pop).__name__}) declares no "
                            "continuous-time form (ContinuousForm)")
    for p in net.projections:
        if not _is_static(p):
            problems.append(f"projection {p.name!r} has {type(p.dynamics).__name__} "
                            "(plasticity and short-term dynamics run with fixed steps)")
        if p.receptor.kind == "kinetic":
            problems.append(f"projection {p.name!r} uses the kinetic receptor "
                            f"{p.receptor.name!r}")
    if net.gap_junctions:
        problems.append("the network has gap junctions")
    if getattr(net, "modulators", None):
        problems.append("the network has neuromodulators")
    if problems:
        raise ValueError("method='adaptive' cannot run this network: " + "; ".join(problems)
                         + ". Use method='fixed' (the default).")


def _receptor_table(channels) -> np.ndarray:
    """The adaptive kernel's receptor rows (``ADAPTIVE_SYN_COLUMNS``)."""
    sp = np.zeros((len(channels), 7))
    for rec, c in channels.items():
        delta = rec.kind == "delta"
        sp[c] = (KINDS[rec.kind], 1.0 if delta else rec.tau_decay_ms,
                 rec.tau_rise_ms if rec.tau_rise_ms > 0 else 1.0, rec.E_rev_mV, rec.mg_mM,
                 1.0 if delta else rec.norm(), 1.0 if rec.tau_rise_ms > 0 else 0.0)
    return sp


class _Arrivals:
    """Spikes in flight to one population: arrival time (ms, run time), target, channel,
    weight; :meth:`due` takes those before a time, in CSR order by target then time."""

    def __init__(self, n: int):
        self.n = n
        self.t = np.zeros(0)
        self.i = np.zeros(0, np.int64)
        self.ch = np.zeros(0, np.int64)
        self.w = np.zeros(0)

    def add(self, t, i, ch, w) -> None:
        self.t = np.concatenate([self.t, t])
        self.i = np.concatenate([self.i, i.astype(np.int64)])
        self.ch = np.concatenate([self.ch, np.broadcast_to(ch, t.shape).astype(np.int64)])
        self.w = np.concatenate([self.w, w.astype(np.float64)])

    def due(self, t_end: float):
        take = self.t < t_end - 1e-12
        order = np.flatnonzero(take)
        order = order[np.lexsort((self.t[order], self.i[order]))]
        ptr = np.zeros(self.n + 1, np.int64)
        ptr[1:] = np.cumsum(np.bincount(self.i[order], minlength=self.n))
        out = (ptr, self.t[order], self.ch[order], self.w[order])
        keep = ~take
        self.t, self.i, self.ch, self.w = self.t[keep], self.i[keep], self.ch[keep], \
            self.w[keep]
        return out


def _fan_out(net, runs, arrivals, spk_t, spk_id) -> None:
    """Queue the window's spikes (run time, global id) at every target, at t + delay."""
    if spk_t.size == 0:
        return
    off = net.offsets()
    for p in net.projections:
        if not p.n_synapses:
            continue
        lo = off[p.pre]
        take = (spk_id >= lo) & (spk_id < lo + p.n_pre)
        if not take.any():
            continue
        pre = spk_id[take] - lo
        t_s = spk_t[take]
        starts = p.indptr[pre]
        counts = p.indptr[pre + 1] - starts
        total = int(counts.sum())
        if total == 0:
            continue
        first = np.repeat(np.cumsum(counts) - counts, counts)
        syn = np.repeat(starts, counts) + (np.arange(total) - first)
        delay = p._delay_ms if isinstance(p._delay_ms, float) else p._delay_ms[syn]
        r = runs[p.post]
        arrivals[p.post].add(np.repeat(t_s, counts) + delay, p.post_idx[syn],
                             r.channels[p.receptor], np.asarray(p.weight)[syn])


def simulate_adaptive(net, *, dt: float, n_steps: int, rtol: float, atol: float, record,
                      record_neurons, sample_every: int, seed: int, verbose, max_record_bytes,
                      all_stims: dict, progress, solo: bool, t_call: float):
    """The adaptive run of ``net`` (called by
    :func:`~neurosim_nb.engine.network_sim.simulate_network` after its checks; see the
    module docstring)."""
    _check_network(net)
    rec_names, rec_per_pop = _record_request(net, record, record_neurons)
    n_samples = n_steps // sample_every
    n_rec = sum(v.size for v in rec_per_pop.values())
    check_record_memory(rec_names, n_rec, n_samples, max_record_bytes,
                        n_traces=_n_traces(net, rec_names, rec_per_pop))
    delays = [float(np.min(p._delay_ms)) for p in net.projections if p.n_synapses]
    if delays and min(delays) < dt - 1e-12:
        raise ValueError(f"method='adaptive' exchanges spikes every min(delay) ms: every delay "
                         f"must be at least dt ({dt} ms), the shortest is {min(delays)} ms; "
                         "use a smaller dt (it only sets the input and recording grid)")
    window = max(1, min(n_steps, _single.CHUNK_ELEMENTS // max(net.n_neurons, 1)))
    if delays:
        window = min(window, max(1, int(np.floor(min(delays) / dt + 1e-9))))
    couplings = getattr(net, "state_couplings", None) or []
    if couplings:
        window = min(window, max(1, min(int(round(getattr(c, "hold_ms", dt) / dt))
                                        for c in couplings)))
    for pop in net.populations.values():
        prepare_run = getattr(pop, "prepare_run", None)
        if prepare_run is not None:
            prepare_run(dt=dt, n_steps=n_steps, seed=net.seed)
    n_stims = sum(len(v) for v in all_stims.values())
    children = iter(np.random.SeedSequence(seed).spawn(max(n_stims, 1)))
    runs: dict[str, _PopRun] = {}
    off = net.offsets()
    kernels, sources, arrivals = {}, {}, {}
    for name, pop in net.populations.items():
        stims = all_stims.get(name, [])
        rngs = [np.random.default_rng(next(children)) for _ in stims]
        receptors = []
        for proj in net.projections:
            if proj.post == name and proj.receptor not in receptors:
                receptors.append(proj.receptor)
        channels = {r: i for i, r in enumerate(receptors)}
        r = runs[name] = _PopRun(name, pop, dt, stims, rngs, rec_names, rec_per_pop[name],
                                 n_samples, channels, 1)
        r.rec_out = np.full(r.rec_shape, np.nan)
        r.i_ext = np.zeros((window, pop.n))
        r.kick = np.zeros((window if r.has_kick else 0, pop.n))
        r.varying = False
        if hasattr(pop, "scheduled_steps"):  # the run's spikes, sorted by step
            indptr, flat = pop._schedule
            ids = np.repeat(np.arange(pop.n, dtype=np.int64), np.diff(indptr)) + off[name]
            order = np.argsort(flat, kind="stable")
            sources[name] = (flat[order], ids[order])
            continue
        form = pop.continuous_form()
        carried = net._carry.get(name)
        if carried is not None and carried[0][1] == tuple(receptors):
            r.syn_state[:] = carried[1]
        net._apply_receptor_init(name, channels, r.syn_state)
        r.p_cont = pop.continuous_params()
        r.sp = _receptor_table(channels)
        r.h_last = np.zeros(pop.n)
        r.rec_pos = np.full(pop.n, -1, np.int64)
        r.rec_pos[r.rec_idx] = np.arange(r.rec_idx.size)
        kernels[name] = adaptive_kernel(form, tuple(pop.state_variables))
        arrivals[name] = getattr(net, "_adaptive_pending", {}).get(name) or _Arrivals(pop.n)
    stats = np.zeros(3, np.int64)
    spikes_t: list[np.ndarray] = []
    spikes_id: list[np.ndarray] = []
    t_start = {k: p.t_ms for k, p in net.populations.items()}
    bar = _Progress(n_steps, verbose, f"simulating {net.name} (adaptive)", progress)
    stim_runs = [r for r in runs.values() if r.kick_adds or r.current_adds]
    rec_i_ext = [r for r in runs.values() if r.i_ext_rec is not None]
    cap = max(1 << 12, 4 * window * 8)
    spk_t_buf, spk_i_buf = np.empty(cap), np.empty(cap, np.int64)
    step0 = 0
    interrupted = False
    t_loop, cpu_loop = time.perf_counter(), time.process_time()
    try:
        while step0 < n_steps:
            k = min(window, n_steps - step0)
            t_chunk = (step0 + np.arange(k)) * dt
            kicks = {}
            for r in stim_runs:
                r.varying, kicks[r.name] = r.fill_inputs(k, t_chunk)
            for c in couplings:  # block-start state -> a current held over the window
                post = runs[c.post]
                i_c = np.zeros(post.pop.n)
                c.add_currents(runs[c.pre].pop._state, i_c)
                if not post.varying:
                    post.i_ext[:k] = 0.0
                    post.varying = True
                post.i_ext[:k] += i_c
            win_t, win_id = [], []
            for name, kernel in kernels.items():
                r = runs[name]
                n = r.pop.n
                ptr, ev_t, ev_ch, ev_w = arrivals[name].due((step0 + k) * dt)
                i_ext = r.i_ext[:k] if r.varying else r.i_ext[:0]
                kick = r.kick[:k] if kicks.get(name) else r.kick[:0]
                while True:
                    n_spk, bad, status, t_bad = kernel(
                        r.pop._state, r.p_cont, step0 * dt, k, dt, step0, i_ext, kick, ptr,
                        ev_t, ev_ch, ev_w, r.syn_state, r.sp, rtol, atol, r.h_last,
                        sample_every, r.rec_pos, r.rec_slots, r.rec_out, spk_t_buf, spk_i_buf,
                        stats)
                    if status != 3:
                        break
                    raise SimulationDivergedError(
                        f"population {name!r} fired more than {cap} spikes in one window of "
                        f"{k * dt:g} ms (a neuron spiking faster than once per {dt} ms?): "
                        "check the inputs")
                if status:
                    raise SimulationDivergedError(
                        f"population {name!r} ({type(r.pop).__name__}), neuron {bad}: "
                        f"{KERNEL_STATUS[status]} at t = {t_bad:g} ms with method='adaptive'; "
                        "check the inputs, weights and parameters (or loosen rtol/atol)")
                win_t.append(spk_t_buf[:n_spk].copy())
                win_id.append(spk_i_buf[:n_spk] + off[name])
                del n  # (per population)
            for steps, ids in sources.values():
                lo, hi = np.searchsorted(steps, (step0, step0 + k))
                if hi > lo:
                    win_t.append((steps[lo:hi] + 1.0) * dt)
                    win_id.append(ids[lo:hi])
            w_t = np.concatenate(win_t) if win_t else np.zeros(0)
            w_id = np.concatenate(win_id) if win_id else np.zeros(0, np.int64)
            _fan_out(net, runs, arrivals, w_t, w_id)
            spikes_t.append(w_t)
            spikes_id.append(w_id)
            for r in rec_i_ext:
                blk = step0 + np.arange(k)
                take = (blk + 1) % sample_every == 0
                rows = (blk[take] + 1) // sample_every - 1
                ibuf = r.i_ext[:k] if r.varying else np.zeros((k, r.pop.n))
                r.i_ext_rec[rows] = ibuf[take][:, r.rec_idx]
            step0 += k
            bar.advance(step0, k)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    t_output, cpu_output = time.perf_counter(), time.process_time()
    for name, pop in net.populations.items():
        pop.t_ms = t_start[name] + step0 * dt
        if name in sources:
            pop._state[0] = pop._schedule[0][1:]
    for a in arrivals.values():  # the next run's clock starts at 0
        a.t = a.t - step0 * dt
    net._adaptive_pending = arrivals
    for name in kernels:  # receptor state carries over to the next run (spikes in flight
        r = runs[name]   # only to an adaptive one)
        net._carry[name] = ((None, tuple(r.channels), None), r.syn_state.copy(), None)
    spk_t = np.concatenate(spikes_t) if spikes_t else np.zeros(0)
    spk_id = np.concatenate(spikes_id) if spikes_id else np.zeros(0, np.int64)
    order = np.lexsort((spk_id, spk_t))
    ds = build_dataset(net, runs, None, rec_names, dt=dt, sample_every=sample_every,
                       n_steps=step0, seed=seed, stimuli=all_stims, requested=n_steps * dt,
                       t_start_ms=next(iter(t_start.values())), solo=solo,
                       spikes=(spk_t[order], spk_id[order]))
    ds.attrs.update({"method": "adaptive", "rtol": float(rtol), "atol": float(atol),
                     "n_steps_accepted": int(stats[0]), "n_steps_rejected": int(stats[1]),
                     "n_rhs_evaluations": int(stats[2]), "interrupted": int(interrupted)})
    validate_dataset(ds, run=True)
    net.last_run_loop_cpu_s = cpu_output - cpu_loop
    net.last_run_timing = RunTiming(t_loop - t_call, t_output - t_loop,
                                    time.perf_counter() - t_output)
    if interrupted:
        warn_interrupted(step0 * dt, n_steps * dt)
    return ds
