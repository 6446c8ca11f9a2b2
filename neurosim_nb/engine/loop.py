"""The compiled network step loop: every population's kernel and the spike delivery of
fixed-weight projections inside one Numba function.

The loop is written once, as a template (:data:`_TEMPLATE`), and generated for the set of
kernels a run uses (:func:`network_loop`): the engine never names a model family, a
model a user defines runs in a network like the built-ins, and a run compiles only the
kernels it needs (a first run on a fresh install compiles one family, not all). Each
generated loop is cached on disk (:mod:`neurosim_nb._codegen`).

``run_steps`` advances all populations over a block of steps in spans of the
shortest delay + 1 steps: each population's kernel runs a whole span, then the span's
spikes are queued, step by step, through the outgoing fixed-weight projections into the
postsynaptic ring buffers (a spike of step ``s`` arrives in step ``s + delay + 1``, after
the span; the order of the additions is that of a step-by-step loop, so are the results).
The Python loop of :mod:`neurosim_nb.engine.network_sim` then only fills stimulus buffers,
drains the spike buffer and runs the projections whose dynamics are Python objects
(plasticity, short-term depression) -- once per block, not once per step.

Every per-population and per-projection array lives in one flat array with an offset
table (:class:`PopulationTable`, :class:`SynapseStore`), so :func:`run_steps` has a single
signature per kernel set, compiled once and cached on disk, whatever the network's shape
(typed lists of arrays would cost ~0.2 s of compilation per element type in every new
process; tuples one compilation per network shape). Its arrays travel in one
:class:`LoopArrays` named tuple.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from neurosim_nb._codegen import import_line, importable, load_module
from neurosim_nb._jit import njit
from neurosim_nb.core.synapses.delivery import deliver
from neurosim_nb.numerics.prefetch import prefetch

__all__ = ["network_loop", "kernel_set", "LoopArrays", "FlatArrays", "SynapseStore"]

# columns of the population table (int64, one row per population); P_KERNEL is the index
# of the population's kernel in the run's kernel set
(P_KERNEL, P_N, P_OFF, P_STATE, P_NVARS, P_PAR, P_NPAR, P_PARW, P_RECIDX, P_NREC,
 P_RECSLOT, P_RECOUT, P_NRECVARS, P_NCH, P_SYNSTATE, P_SYNBUF, P_SYNPAR, P_KICK,
 P_VARYING, P_IEXT, P_KICKS) = range(21)
N_POP_COLS = 21
#: the longest span of steps a kernel call advances (spans are the shortest delay + 1)
SPAN_MAX = 16
# columns of the projection table (int64, one row per fixed-weight projection)
J_PRE, J_POST, J_CHANNEL, J_DELAY, J_INDPTR, J_SYN = range(6)
N_PROJ_COLS = 6
#: synapses ahead whose ring-buffer entry delivery prefetches, in rows of at least
#: PREFETCH_MIN_TARGETS neurons (in smaller networks the rows stay in L2, where
#: prefetching costs ~15 %)
PREFETCH_AHEAD = 16
PREFETCH_MIN_TARGETS = 8192


class LoopArrays(NamedTuple):
    """Everything the compiled loop reads and writes besides the step range: the tables
    (``pops``: ``P_*`` columns; ``projs``: ``J_*`` columns), the flat per-population
    arrays (see :class:`FlatArrays`), the flat CSR arrays of the fixed-weight projections
    (:class:`SynapseStore`), the spike buffers and the output."""

    span: int
    dt: float
    sample_every: int
    n_samples: int
    depth: int
    pops: np.ndarray
    state: np.ndarray
    par: np.ndarray
    i_ext: np.ndarray
    i_zero: np.ndarray
    kick: np.ndarray
    rec_idx: np.ndarray
    rec_slots: np.ndarray
    rec_out: np.ndarray
    spk_step: np.ndarray
    spk_idx: np.ndarray
    syn_state: np.ndarray
    syn_buf: np.ndarray
    syn_par: np.ndarray
    scratch: np.ndarray
    projs: np.ndarray
    proj_weight: np.ndarray
    indptr: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    delay: np.ndarray
    out_step: np.ndarray
    out_id: np.ndarray


class FlatArrays:
    """Arrays of one kind (one per population) packed into one flat array.

    ``views[i]`` is array ``i``'s new home (a view of ``flat`` with its shape); ``offsets``
    the start of each in ``flat``.

    >>> fa = FlatArrays([np.ones((2, 3)), np.zeros(4)])
    >>> fa.flat.size, fa.offsets.tolist(), fa.views[0].shape
    (10, [0, 6], (2, 3))
    """

    def __init__(self, arrays, dtype=np.float64):
        self._layout([np.shape(a) for a in arrays], dtype)
        for a, v in zip(arrays, self.views, strict=True):
            v[...] = a

    @classmethod
    def zeros(cls, shapes, dtype=np.float64) -> FlatArrays:
        """Zero-filled arrays of the given shapes (no temporaries; pages are zeroed by the
        system when first touched).

        >>> FlatArrays.zeros([(2, 3), (4,)]).views[1].tolist()
        [0.0, 0.0, 0.0, 0.0]
        """
        out = cls.__new__(cls)
        out._layout(shapes, dtype, np.zeros)
        return out

    def _layout(self, shapes, dtype, alloc=np.empty) -> None:
        """Allocate ``flat`` (its pages are touched only as views are filled) and the views."""
        sizes = [int(np.prod(sh)) for sh in shapes]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) \
            if sizes else np.zeros(0, np.int64)
        self.flat = alloc(max(sum(sizes), 1), dtype=dtype)
        self.views = [self.flat[o:o + n].reshape(sh)
                      for o, n, sh in zip(self.offsets, sizes, shapes, strict=True)]


class SynapseStore:
    """The fixed-weight projections of a network in flat CSR arrays.

    Built once and kept by the network: each projection's ``post_idx`` and ``weight`` are
    then views of the store (no second copy; in-place edits of ``proj.weight`` act in the
    next run). :meth:`matches` tells whether the projections still use the store's arrays.
    """

    def __init__(self, projections):
        self.projections = list(projections)
        post_type = np.int64 if any(p.post_sorted.dtype == np.int64 for p in projections) \
            else np.int32
        self.indptr = FlatArrays([p.indptr for p in projections], np.int64)
        self.post = _take_over(projections, "post_idx", post_type)
        # float32 when every projection stores float32 weights (9 bytes per synapse)
        w_type = np.float32 if projections and all(p.weight.dtype == np.float32
                                                     for p in projections) else np.float64
        self.weight = _take_over(projections, "weight", w_type)
        self._ids = [(id(p), id(p.post_idx), id(p.weight), id(p.indptr)) for p in projections]

    def matches(self, projections) -> bool:
        return self._ids == [(id(p), id(p.post_idx), id(p.weight), id(p.indptr))
                             for p in projections]


def _take_over(projections, attr: str, dtype) -> FlatArrays:
    """Move every projection's ``attr`` array into one flat array and give the projection
    a view of it -- one projection at a time, so that each original is freed right after
    its copy (peak memory: the store plus the largest projection, not twice the synapses).
    A single projection of the right type keeps its own array (no copy at all)."""
    out = FlatArrays.__new__(FlatArrays)
    arrays = [getattr(p, attr) for p in projections]
    if len(arrays) == 1 and arrays[0].dtype == dtype and arrays[0].flags.c_contiguous:
        out.flat, out.offsets, out.views = arrays[0], np.zeros(1, np.int64), [arrays[0]]
        return out
    out._layout([a.shape for a in arrays], dtype)
    del arrays
    for p, view in zip(projections, out.views, strict=True):
        view[...] = getattr(p, attr)
        setattr(p, attr, view)  # the original array is released here
    return out


@njit(cache=True)
def _deliver(spk_step, spk_idx, q0, n_spk, indptr, i0, n_pre, post, weight, delay, s0,
             uniform_delay, uniform_weight, buf, b0, n_post, depth):
    """Queue spikes ``q0 .. q0 + n_spk - 1`` of ``spk_step``/``spk_idx`` (one step's)
    through one CSR projection into its ring buffer, a (depth, n_post) block of the flat
    ``buf`` at ``b0``; the projection's CSR row pointers start at ``indptr[i0]``, its
    synapses at ``post[s0]``/``weight[s0]``/``delay[s0]``.

    A uniform delay (``>= 0``) skips the per-synapse delays, a uniform weight (not NaN)
    the per-synapse weights: the loop then streams only the targets (4 of 12 bytes per
    synaptic event; delivery is memory-bound in large networks). That loop indexes the
    flat arrays with unsigned offsets and makes no array views: a signed index costs three
    instructions of negative-index handling per synaptic event, and every view two atomic
    reference-count updates (it made one per spike and projection). Per-synapse delays go
    through :func:`~neurosim_nb.core.synapses.delivery.deliver`.
    """
    if n_spk == 0:
        return
    if uniform_delay < 0:
        deliver(spk_step[q0:q0 + n_spk], spk_idx[q0:q0 + n_spk], n_spk,
                indptr[i0:i0 + n_pre + 1], post[s0:], weight[s0:], delay[s0:],
                buf[b0:b0 + depth * n_post].reshape((depth, n_post)))
        return
    row = b0 + ((spk_step[q0] + 1 + uniform_delay) % depth) * n_post
    uniform = uniform_weight == uniform_weight
    far = n_post >= PREFETCH_MIN_TARGETS  # the row is not expected to be cached
    ahead = np.uint64(PREFETCH_AHEAD)  # (uint64 mixed with int64 would give float64)
    for q in range(q0, q0 + n_spk):
        j = i0 + spk_idx[q]
        a = np.uint64(s0 + indptr[j])
        b = np.uint64(s0 + indptr[j + 1])
        if far:
            # a pipeline over spikes: the row pointers of the spike after next (a random
            # entry of a large indptr) and the first 4 cache lines of the next spike's
            # targets (whose row pointers were prefetched one spike ago)
            if q + 2 < q0 + n_spk:
                prefetch(indptr, i0 + spk_idx[q + 2])
            if q + 1 < q0 + n_spk:
                nxt = s0 + indptr[i0 + spk_idx[q + 1]]
                for line in range(4):
                    prefetch(post, nxt + 16 * line)
            for t in range(a, b):
                if t + ahead < b:
                    prefetch(buf, row + post[t + ahead])
                buf[np.uint64(row + post[t])] += uniform_weight if uniform else weight[t]
        elif uniform:
            for t in range(a, b):
                buf[np.uint64(row + post[t])] += uniform_weight
        else:
            for t in range(a, b):
                buf[np.uint64(row + post[t])] += weight[t]


def _flat_update(pop):
    """``(check, span, pass_fn)`` of a population whose family has a flat fast path (see
    :meth:`~neurosim_nb.core.neurons.lif.LIFNeuron.flat_update`), else None."""
    flat = getattr(pop, "flat_update", None)
    return flat() if flat is not None else None


_LOOPS: dict = {}


def kernel_for(pop, shared: bool | None = None, inputs: bool | None = None):
    """``pop``'s compiled kernel for a run whose parameter rows are shared by its neurons
    (``shared``; False: per neuron; None: either) and which may give it an input current
    (``inputs``; False: never; None: either) -- its family's ``compiled_kernel_for`` (a
    generated kernel leaves the other cases' loops out), else ``compiled_kernel()``."""
    for_case = getattr(pop, "compiled_kernel_for", None)
    return for_case(shared, inputs) if for_case is not None else pop.compiled_kernel()


def kernel_set(populations, shared=None, inputs=None) -> tuple[tuple, tuple]:
    """The distinct compiled kernels of ``populations`` (first-use order; ``shared`` and
    ``inputs``: each population's case in the run, see :func:`kernel_for`) and, for each,
    its family's flat fast path or None: the arguments of :func:`network_loop`.

    >>> from neurosim_nb import LIFNeuron, IzhikevichNeuron
    >>> kernels, flats = kernel_set([LIFNeuron(n=2), IzhikevichNeuron(n=3), LIFNeuron()])
    >>> len(kernels), [f is not None for f in flats]
    (2, [True, False])
    """
    kernels: list = []
    flats: list = []
    none = (None,) * len(populations)
    for pop, s, i in zip(populations, shared or none, inputs or none, strict=True):
        kernel = kernel_for(pop, s, i)
        if kernel not in kernels:
            kernels.append(kernel)
            flats.append(_flat_update(pop))
    return tuple(kernels), tuple(flats)


def network_loop(kernels: tuple, flats: tuple, flat_only: tuple | None = None,
                 passes: tuple | None = None):
    """The compiled ``run_steps`` for a run whose populations use ``kernels`` (each a
    compiled kernel following the kernel contract; ``pops[p, P_KERNEL]`` indexes it) with
    ``flats[i]`` the kernel's flat fast path ``(check, span, pass_fn)`` or None.
    ``flat_only[i]``: every population of kernel ``i`` takes its flat path in this run, so
    the loop does not call (nor compile) that kernel -- a first LIF network run compiles
    the LIF pass only.
    ``passes[i]``: the flat path's last argument for this run's populations (the family's
    ``flat_pass``; None, the default: the one ``flats[i]`` names, for any population).
    Generated from :data:`_TEMPLATE` on first use, cached on disk when every piece is
    importable."""
    flat_only = tuple(flat_only or (False,) * len(kernels))
    passes = tuple(p or (f[2] if f is not None else None)
                   for p, f in zip(passes or (None,) * len(kernels), flats, strict=True))
    key = (kernels, flats, flat_only, passes)
    loop = _LOOPS.get(key)
    if loop is not None:
        return loop
    pieces = {f"kernel_{i}": k for i, k in enumerate(kernels) if not flat_only[i]}
    for i, f in enumerate(flats):
        if f is not None:
            pieces[f"flat_check_{i}"], pieces[f"flat_span_{i}"] = f[:2]
            pieces[f"flat_pass_{i}"] = passes[i]
    cacheable = all(importable(f) for f in pieces.values())
    imports = "".join(import_line(f, name) for name, f in pieces.items()) if cacheable else ""
    calls = []
    for i in range(len(kernels)):
        if flat_only[i]:
            continue
        head = "if" if not calls else "elif"
        calls.append(f"            {head} kp == {i}:\n"
                     f"                r = kernel_{i}(st, pp, irow, krow, dt, step, "
                     "sample_every, ri, rs, ro, sk, si, ss, sb, sp, sc)")
    message = ("raise RuntimeError('a population expected on its flat path is not: the "
               "loop was generated for another network')")
    if calls:
        calls.append(f"            else:\n                {message}")
    else:  # every kernel runs on its flat path only
        calls.append("            r = (0, -1, -1)\n            if kp >= 0:\n"
                     f"                {message}")
    flat_checks, flat_calls = [], []
    for i, f in enumerate(flats):
        if f is None:
            continue
        flat_checks.append(
            f"        if kp == {i}:\n"
            f"            ok, kinds, ch = flat_check_{i}(sp, 0, one)\n"
            "            if ok:\n"
            "                flat_kinds[p] = kinds\n"
            "                for c in range(8):\n"
            "                    flat_ch[p, c] = ch[c]")
        flat_calls.append(
            f"                if kp == {i}:\n"
            f"                    n_spk, bad, bad_step = flat_span_{i}(\n"
            "                        state, pops[p, P_STATE], n, par, pops[p, P_PAR],\n"
            "                        i_ext, pops[p, P_IEXT] + k * n, pops[p, P_VARYING] != 0,\n"
            "                        kick, pops[p, P_KICKS] + k * n, pops[p, P_KICK] != 0,\n"
            "                        i_zero, syn_state, pops[p, P_SYNSTATE], syn_buf,\n"
            "                        pops[p, P_SYNBUF], depth, pops[p, P_NCH],\n"
            "                        flat_kinds[p], fc, step, kk, spk_step, spk_idx,\n"
            f"                        span * off, rec_idx, rec_slots, rec_out, rec, flat_pass_{i})")
    src = _TEMPLATE.format(
        n_kernels=len(kernels), imports=imports,
        jit_args="cache=True" if cacheable else "",
        flat_checks="\n".join(flat_checks) or "        pass",
        flat_calls="\n".join(flat_calls) or "                pass",
        kernel_calls="\n".join(calls))
    stem = f"loop_{len(kernels)}" + ("_flat" if any(flat_only) else "")
    module = load_module(stem, src, pieces, cacheable=cacheable)
    _LOOPS[key] = module.run_steps
    return module.run_steps


_TEMPLATE = '''\
"""Generated by neurosim_nb.engine.loop from its template: the network loop for a set of
{n_kernels} kernel(s). Do not edit: edit the template."""
import numpy as np

from neurosim_nb._jit import njit
from neurosim_nb.core.synapses.channels import N_SYN_PAR
from neurosim_nb.engine.loop import (
    P_IEXT, P_KERNEL, P_KICK, P_KICKS, P_N, P_NCH, P_NPAR, P_NREC, P_NRECVARS, P_NVARS,
    P_OFF, P_PAR, P_PARW, P_RECIDX, P_RECOUT, P_RECSLOT, P_STATE, P_SYNBUF, P_SYNPAR,
    P_SYNSTATE, P_VARYING, J_CHANNEL, J_DELAY, J_INDPTR, J_POST, J_PRE, J_SYN, _deliver)
from neurosim_nb.numerics.borrow import borrow
{imports}

@njit({jit_args})
def run_steps(step0, k_begin, k_end, a):
    """Advance every population over steps ``step0 + k_begin .. step0 + k_end - 1``.

    The steps go in spans of up to ``span`` (the shortest delay + 1): every
    population's kernel advances a whole span, then the span's spikes are delivered step
    by step (a spike of the span arrives after it), in the order a step-by-step loop
    would use, so the results are the same -- with the per-call set-up paid once per span.

    ``a`` is a :class:`~neurosim_nb.engine.loop.LoopArrays`: the population table
    (columns ``P_*``: kernel index, size, offsets into the flat arrays); ``i_ext`` and
    ``kick`` hold a (block step, neuron) array per population (a population whose
    ``P_VARYING`` / ``P_KICK`` is off gets a (span, 0) input array, which kernels take as
    no input, / no kicks); ``spk_step``/``spk_idx`` ``span`` entries per neuron.
    ``projs`` is the projection table (``J_*``) into the flat CSR arrays. Populations
    whose kernel has a flat fast path (shared parameters and the path's own check)
    are advanced by it on the flat arrays instead of a kernel call on
    views. Spikes are written to ``out_step``/``out_id`` (global ids, by step, then
    population, then neuron); the loop stops early when fewer free entries remain than a
    span can produce.

    Returns ``(k, n_out, bad_pop, bad_neuron, bad_step)``: the block index reached, the
    number of spikes written and, after a divergence, where it happened (else -1).
    """
    # the arrays once, as locals: every attribute read of a named tuple inside the loop
    # would take and drop a reference (two atomic operations) each time -- and as borrowed
    # views (no owner, see neurosim_nb.numerics.borrow): every array bound, sliced or handed
    # to an inlined pass below would otherwise take and drop one too (~210 per span of a
    # CUBA network, ~15 % of its loop); ``a`` keeps the arrays alive for the call, and no
    # view leaves it
    (span, dt, sample_every, n_samples, depth, pops, state, par, i_ext, i_zero, kick,
     rec_idx, rec_slots, rec_out, spk_step, spk_idx, syn_state, syn_buf, syn_par, scratch,
     projs, proj_weight, indptr, post, weight, delay, out_step, out_id) = borrow(a)
    n_pops = pops.shape[0]
    n_proj = projs.shape[0]
    n_total = spk_idx.shape[0] // span
    cap = out_step.shape[0]
    no_kick = kick[0:0].reshape((0, 0))
    counts = np.zeros(n_pops, np.int64)
    cursor = np.zeros(n_pops, np.int64)
    flat_kinds = np.full(n_pops, -1, np.int64)
    flat_ch = np.zeros((n_pops, 8), syn_par.dtype)
    one = state.dtype.type(1.0)
    for p in range(n_pops):
        kp = pops[p, P_KERNEL]
        if pops[p, P_PARW] != 1:  # a flat path takes shared parameters only
            continue
        n_ch = pops[p, P_NCH]
        o = pops[p, P_SYNPAR]
        sp = syn_par[o:o + n_ch * N_SYN_PAR].reshape((n_ch, N_SYN_PAR))
{flat_checks}
    n_out = 0
    k = k_begin
    while k < k_end:
        kk = min(span, k_end - k)
        if n_out + kk * n_total > cap:
            return k, n_out, -1, -1, -1
        step = step0 + k
        for p in range(n_pops):
            n = pops[p, P_N]
            off = pops[p, P_OFF]
            kp = pops[p, P_KERNEL]
            if flat_kinds[p] >= 0:
                fc = (flat_ch[p, 0], flat_ch[p, 1], flat_ch[p, 2], flat_ch[p, 3],
                      flat_ch[p, 4], flat_ch[p, 5], flat_ch[p, 6], flat_ch[p, 7])
                n_spk, bad, bad_step = 0, -1, -1
                # recorded neurons (0 when no state variable is recorded) and offsets
                n_rec_flat = pops[p, P_NREC] if pops[p, P_NRECVARS] > 0 else 0
                rec = (pops[p, P_RECIDX], n_rec_flat, pops[p, P_RECSLOT], pops[p, P_RECOUT],
                       n_samples, sample_every)
{flat_calls}
                if bad >= 0:
                    return k, n_out, p, bad, bad_step
                counts[p] = n_spk
                cursor[p] = 0
                continue
            n_vars = pops[p, P_NVARS]
            n_par = pops[p, P_NPAR]
            n_rec = pops[p, P_NREC]
            n_rv = pops[p, P_NRECVARS]
            n_ch = pops[p, P_NCH]
            o = pops[p, P_STATE]
            st = state[o:o + n_vars * n].reshape((n_vars, n))
            o = pops[p, P_PAR]
            pw = pops[p, P_PARW]  # n, or 1 for shared parameters
            pp = par[o:o + n_par * pw].reshape((n_par, pw))
            if pops[p, P_VARYING]:
                o = pops[p, P_IEXT] + k * n
                irow = i_ext[o:o + kk * n].reshape((kk, n))
            else:  # no columns: "no input current" (kernel contract)
                irow = i_zero[:0].reshape((kk, 0))
            if pops[p, P_KICK]:
                o = pops[p, P_KICKS] + k * n
                krow = kick[o:o + kk * n].reshape((kk, n))
            else:
                krow = no_kick
            o = pops[p, P_RECIDX]
            ri = rec_idx[o:o + n_rec]
            o = pops[p, P_RECSLOT]
            rs = rec_slots[o:o + n_vars]
            o = pops[p, P_RECOUT]
            ro = rec_out[o:o + n_rv * n_samples * n_rec].reshape((n_rv, n_samples, n_rec))
            sk = spk_step[span * off:span * off + kk * n]
            si = spk_idx[span * off:span * off + kk * n]
            o = pops[p, P_SYNSTATE]
            ss = syn_state[o:o + n_ch * 2 * n].reshape((n_ch, 2, n))
            o = pops[p, P_SYNBUF]
            sb = syn_buf[o:o + n_ch * depth * n].reshape((n_ch, depth, n))
            o = pops[p, P_SYNPAR]
            sp = syn_par[o:o + n_ch * N_SYN_PAR].reshape((n_ch, N_SYN_PAR))
            sc = scratch[3 * off:3 * off + 3 * n].reshape((3, n))
{kernel_calls}
            n_spk, bad, bad_step = r
            if bad >= 0:
                return k, n_out, p, bad, bad_step
            counts[p] = n_spk
            cursor[p] = 0
        # the span's spikes (each population's sorted by step), step by step; flat
        # offsets, no views (see _deliver)
        for s in range(step, step + kk):
            for p in range(n_pops):
                c0 = cursor[p]
                c = counts[p]
                if c0 == c:
                    continue
                off = pops[p, P_OFF]
                q0 = span * off + c0
                m = 0
                while m < c - c0 and spk_step[q0 + m] == s:
                    m += 1
                if m == 0:
                    continue
                cursor[p] = c0 + m
                for q in range(q0, q0 + m):
                    out_step[n_out] = s
                    out_id[n_out] = spk_idx[q] + off
                    n_out += 1
                n = pops[p, P_N]
                for j in range(n_proj):
                    if projs[j, J_PRE] != p:
                        continue
                    q = projs[j, J_POST]
                    nq = pops[q, P_N]
                    _deliver(spk_step, spk_idx, q0, m, indptr, projs[j, J_INDPTR], n,
                             post, weight, delay, projs[j, J_SYN], projs[j, J_DELAY],
                             proj_weight[j], syn_buf,
                             pops[q, P_SYNBUF] + projs[j, J_CHANNEL] * depth * nq, nq, depth)
        k += kk
    return k_end, n_out, -1, -1, -1
'''
