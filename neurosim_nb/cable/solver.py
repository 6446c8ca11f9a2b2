r"""The compiled cable solver: Hines' O(n) elimination on a tree, backward Euler and
Crank-Nicolson, with the membrane of :mod:`neurosim_nb.channels.membrane` linearised.

Nodes and units
---------------
A cell is ``n`` nodes in parent order (``parent[i] < i``, ``-1`` for the root), as
:func:`neurosim_nb.morphology.discretise` gives them (NEURON's layout: one node per
segment centre, zero-area nodes at the ends of sections). Node ``i`` has the membrane
area :math:`A_i` (µm²), the specific capacitance :math:`c_i` (µF/cm²) and the axial
resistance :math:`R_i` (MΩ) to its parent, conductance :math:`G_i = 1/R_i` (µS). Time in
ms, V in mV, point currents in nA, conductances in µS, so capacities are in nF:

.. math::

    C_i = 10^{-5}\, c_i A_i \;[\mathrm{nF}], \qquad
    I^{ion}_i = 10^{-5}\, A_i\, i^{ion}_i \;[\mathrm{nA}], \qquad
    g_i = 10^{-5}\, A_i\, \frac{\partial i^{ion}_i}{\partial V} \;[\mu S]

(µA/cm² · µm² = 1e-8 µA = 1e-5 nA). A zero-area node carries no capacitance and no
membrane: its equation is Kirchhoff's law, a pure junction.

Discretisation
--------------
With :math:`h = dt` (backward Euler) or :math:`h = dt/2` (Crank-Nicolson), each step
solves for :math:`\Delta_i = V_i^{*} - V_i^{n}` the linear tree system

.. math::

    \Bigl(\frac{C_i}{h} + g_i + g^{syn}_i\Bigr)\Delta_i
      + \sum_{j \sim i} G_{ij} (\Delta_i - \Delta_j)
    = -I^{ion}_i(V^n, x) + \sum_{j \sim i} G_{ij}(V^n_j - V^n_i)
      + I^{inj}_i + g^{syn}_i (E^{syn} - V_i^n),

i.e. the ionic current is linearised about :math:`V^n` with its slope :math:`g_i` (gates
frozen, as NEURON's ``di/dv``) and the synaptic conductances are implicit. Backward Euler
takes :math:`V^{n+1} = V^n + \Delta` (first order). Crank-Nicolson (NEURON's
``secondorder = 2``) solves the same system over half a step, giving :math:`V^{n+1/2}`,
and extrapolates :math:`V^{n+1} = V^n + 2\Delta` -- the trapezoidal rule for the linear
part, second order. Crank-Nicolson does not damp the stiff modes of a fine mesh (it is
A- but not L-stable): a jump of the input would leave a slowly decaying oscillation at
the injection site, so the step holding an input discontinuity (an IClamp edge, a synaptic
event, the start) and the next are taken by backward Euler (a population in a network:
per cell, at the start of a run and at each of its input jumps) (Rannacher's start-up
smoothing; a finite number of first-order steps keeps the global second order). The
gates are then advanced by exponential Euler at :math:`V^{n+1}`: from :math:`x^n` to
:math:`x^{n+1}` in backward Euler, and, staggered by half a step in
Crank-Nicolson, from :math:`x^{n+1/2}` to :math:`x^{n+3/2}` (so the current of the next
step sees gates centred on its half step; the initial gates, at their steady state of
:math:`V^0`, serve as :math:`x^{1/2}`). The calcium pool follows with the calcium current
of the step. A point current :math:`I^{inj}` is its mean over :math:`[t_n, t_{n+1}]`; a
synaptic conductance is taken at the time the scheme evaluates (:math:`t_{n+1}` in
backward Euler, :math:`t_{n+1/2}` in Crank-Nicolson).

The matrix has :math:`d_i` on the diagonal and :math:`-G_i` between ``i`` and
``parent[i]``; :func:`hines_solve` eliminates from the last node to the root (each node's
row into its parent's) and substitutes back from the root: O(n), no fill-in (Hines 1984).

>>> import numpy as np
>>> parent = np.array([-1, 0, 1])
>>> g = np.array([0.0, 1.0, 1.0])
>>> d, rhs = np.array([2.0, 3.0, 2.0]), np.array([1.0, 0.0, 0.0])
>>> x = rhs.copy(); hines_solve(parent, g, d.copy(), x)
>>> A = np.diag(d) - np.diag(g[1:], 1) - np.diag(g[1:], -1)
>>> bool(np.allclose(A @ x, rhs))
True
"""

from __future__ import annotations

from neurosim_nb._codegen import import_line, load_module
from neurosim_nb._jit import njit

__all__ = ["hines_solve", "cable_loop", "cable_module", "AREA_FACTOR", "METHODS", "SYN_COLUMNS"]

#: nA per (µA/cm² · µm²), nF per (µF/cm² · µm²), µS per (mS/cm² · µm²)
AREA_FACTOR = 1e-5
#: integration methods and the fraction of dt each system spans
METHODS = {"backward_euler": 1.0, "crank_nicolson": 0.5}
#: columns of a cell's synapse parameter rows: those of
#: :mod:`neurosim_nb.core.synapses.channels` (kind, decay, rise, E_rev, Mg, norm,
#: has_rise), then the decay and rise factors from the step's start to the time the
#: scheme evaluates the conductance
SYN_COLUMNS = ("kind", "decay", "rise", "E_rev", "mg", "norm", "has_rise", "decay_eval",
               "rise_eval")


@njit(cache=True, error_model="numpy")
def hines_solve(parent, g_axial, d, rhs):
    """Solve the tree system in place (``rhs`` becomes the solution; ``d`` is destroyed).

    ``parent``: (n,) int64, ``parent[i] < i`` (-1: a root); ``g_axial[i]`` (µS) the
    coupling of node ``i`` to its parent (the matrix entry is ``-g_axial[i]``); ``d`` the
    diagonal. The doctest of :mod:`neurosim_nb.cable.solver` checks it against a dense
    solve.
    """
    n = d.shape[0]
    for i in range(n - 1, 0, -1):
        p = parent[i]
        if p < 0:
            continue
        f = g_axial[i] / d[i]
        d[p] -= f * g_axial[i]
        rhs[p] += f * rhs[i]
    for i in range(n):
        p = parent[i]
        if p < 0:
            rhs[i] = rhs[i] / d[i]
        else:
            rhs[i] = (rhs[i] + g_axial[i] * rhs[p]) / d[i]


_LOOP_TEMPLATE = '''\
\"\"\"Generated by neurosim_nb.cable.solver: the cable step, the cell loop and the
population kernel for the membrane structure
{title}. Do not edit: edit the template.\"\"\"
import math

import numpy as np

from neurosim_nb._jit import njit
from neurosim_nb.core.synapses.channels import synaptic_block
{imports}

@njit(cache=True, error_model="numpy", inline="always")
def assemble(V, s, p, tv, tc, parent, g_ax, cap, mem_node, area_f, h, v_mem, i_mem, g_mem,
             ica, d, rhs):
    \"\"\"The step's tree system for Delta V (membrane linearised, axial currents at V^n);
    point sources and synapses are added by the caller.\"\"\"
    n = V.shape[0]
    nm = mem_node.shape[0]
    for j in range(nm):
        v_mem[j] = V[mem_node[j]]
    mem_currents(v_mem, s, p, tv, tc, i_mem, g_mem, ica)
    for i in range(n):
        d[i] = 0.0
        rhs[i] = 0.0
    for j in range(nm):
        i = mem_node[j]
        d[i] = cap[j] / h + g_mem[j] * area_f[j]
        rhs[i] = -i_mem[j] * area_f[j]
    for i in range(1, n):
        q = parent[i]
        if q < 0:
            continue
        g = g_ax[i]
        flow = g * (V[q] - V[i])
        rhs[i] += flow
        rhs[q] -= flow
        d[i] += g
        d[q] += g


@njit(cache=True, error_model="numpy", inline="always")
def finish(V, s, p, tv, tc, parent, g_ax, mem_node, mult, v_mem, ica, d, rhs, v_limit):
    \"\"\"Solve, update V (V + mult Delta), advance the gates and the pool at the new V;
    return the first node whose V is not finite or beyond v_limit (else -1).\"\"\"
    hines_solve(parent, g_ax, d, rhs)
    bad = -1
    for i in range(V.shape[0]):
        vi = V[i] + mult * rhs[i]
        V[i] = vi
        if not (abs(vi) < v_limit) and bad < 0:
            bad = i
    if bad >= 0:
        return bad
    for j in range(mem_node.shape[0]):
        v_mem[j] = V[mem_node[j]]
    mem_advance(v_mem, s, p, tv, tc, ica)
    return -1


@njit(cache=True, error_model="numpy")
def run(k0, k1, dt, theta, damp, V, s, p, tv, tc, parent, g_ax, cap, mem_node, area_f,
        work, stim_node, stim_amp, syn_node, syn_par, syn_state, ev_step, ev_syn, ev_w,
        ev_pos, sample_every, rec_idx, rec_mem, rec_v, rec_rows, rec_s, spike_node,
        threshold, spk_t, n_spk, v_limit):
    \"\"\"Advance one cell over global steps k0 .. k1 - 1 (see the solver's docstring).

    Returns ``(k, bad_node)``: the step reached and -1, or the step and node where V
    stopped being finite or passed ``v_limit``.\"\"\"
    n = V.shape[0]
    nm = mem_node.shape[0]
    v_mem = work[0, :nm]
    i_mem = work[1, :nm]
    g_mem = work[2, :nm]
    ica = work[3, :nm]
    d = work[4, :n]
    rhs = work[5, :n]
    n_syn = syn_node.shape[0]
    n_stim = stim_node.shape[0]
    n_ev = ev_step.shape[0]
    for k in range(k0, k1):
        h = dt if damp[k] else theta * dt
        mult = dt / h
        assemble(V, s, p, tv, tc, parent, g_ax, cap, mem_node, area_f, h, v_mem, i_mem,
                 g_mem, ica, d, rhs)
        for m in range(n_stim):
            rhs[stim_node[m]] += stim_amp[k, m]
        pos = ev_pos[0]
        while pos < n_ev and ev_step[pos] <= k:
            c = ev_syn[pos]
            add = ev_w[pos] * syn_par[c, 5]
            syn_state[c, 0] += add
            syn_state[c, 1] += add
            pos += 1
        ev_pos[0] = pos
        for c in range(n_syn):
            i = syn_node[c]
            g = syn_state[c, 0] * syn_par[c, 7]
            if syn_par[c, 6] > 0.0:
                g -= syn_state[c, 1] * syn_par[c, 8]
            if syn_par[c, 0] == 0.0:
                if syn_par[c, 4] > 0.0:
                    g = g / (1.0 + syn_par[c, 4] / 3.57 * math.exp(-0.062 * V[i]))
                d[i] += g
                rhs[i] += g * (syn_par[c, 3] - V[i])
            else:
                rhs[i] += g
            syn_state[c, 0] *= syn_par[c, 1]
            syn_state[c, 1] *= syn_par[c, 2]
        bad = finish(V, s, p, tv, tc, parent, g_ax, mem_node, mult, v_mem, ica, d, rhs,
                     v_limit)
        if bad >= 0:
            return k, bad
        if spike_node >= 0:
            v1 = V[spike_node]
            v0 = v1 - mult * rhs[spike_node]
            if v0 < threshold <= v1 and n_spk[0] < spk_t.shape[0]:
                spk_t[n_spk[0]] = (k + (threshold - v0) / (v1 - v0)) * dt
                n_spk[0] += 1
        if (k + 1) % sample_every == 0:
            r = (k + 1) // sample_every - 1
            if r < rec_v.shape[0]:
                for a in range(rec_idx.shape[0]):
                    rec_v[r, a] = V[rec_idx[a]]
                for b in range(rec_rows.shape[0]):
                    row = rec_rows[b]
                    for a in range(rec_idx.shape[0]):
                        jm = rec_mem[a]
                        rec_s[b, r, a] = s[row, jm] if jm >= 0 else np.nan
    return k1, -1


@njit(cache=True, error_model="numpy")
def _unpack(pc):
    \"\"\"The packed column of a population's parameters (see
    neurosim_nb.cable.population): header, then the arrays.\"\"\"
    nn, nm, ns, npar = int(pc[4]), int(pc[5]), int(pc[6]), int(pc[7])
    ntv, nv, ntc, nc = int(pc[8]), int(pc[9]), int(pc[10]), int(pc[11])
    o = 16
    parent = np.empty(nn, np.int64)
    for j in range(nn):
        parent[j] = int(pc[o + j])
    o += nn
    g_ax = pc[o:o + nn].copy()
    o += nn
    cap = pc[o:o + nm].copy()
    o += nm
    area_f = pc[o:o + nm].copy()
    o += nm
    mem_node = np.empty(nm, np.int64)
    for j in range(nm):
        mem_node[j] = int(pc[o + j])
    o += nm
    pm = pc[o:o + npar * nm].copy().reshape((npar, nm))
    o += npar * nm
    tv = pc[o:o + ntv * nv].copy().reshape((ntv, nv))
    o += ntv * nv
    tc = pc[o:o + ntc * nc].copy().reshape((ntc, nc))
    return parent, g_ax, cap, mem_node, area_f, pm, tv, tc, ns


@njit(cache=True, error_model="numpy")
def kernel(state, p, i_ext, kick, dt, step0, sample_every, rec_idx, rec_slots, rec_out,
           spk_step, spk_idx, syn_state, syn_buf, syn_par, scratch):
    \"\"\"The engine's kernel contract (neurosim_nb.core.neurons.base.KERNEL_DOC) for a
    population of identical cells: state rows V (spike-detection node), V_syn (synaptic
    node), the V of every node, every gate of every membrane node, then the input current
    of the last two steps and the restart flag. Neuron by neuron over the span (its whole
    state in cache), each step: the receptor channels of the neuron (synaptic_block) at
    V_syn, input + synaptic current (nA) into the synaptic node, kicks onto its V, the
    cable step -- by backward Euler in a run's first two steps and, with restarts on, in
    the step of an input jump of the cell (a spike arriving at a channel, a kick, an
    input current whose second difference exceeds jump_tol of its size) and the next;
    spikes are then sorted by step.\"\"\"
    n = state.shape[1]
    pc = p[:, 0]
    theta, spike_node, syn_node, threshold = pc[0], int(pc[1]), int(pc[2]), pc[3]
    v_limit = pc[12]
    restarts = pc[13] > 0.0
    jump_tol = pc[14]
    parent, g_ax, cap, mem_node, area_f, pm, tv, tc, ns = _unpack(pc)
    nn = parent.shape[0]
    nm = mem_node.shape[0]
    V = np.empty(nn)
    s = np.empty((ns, nm))
    work = np.empty((6, max(nn, 1)))
    v_mem = work[0, :nm]
    i_mem = work[1, :nm]
    g_mem = work[2, :nm]
    ica = work[3, :nm]
    d = work[4, :nn]
    rhs = work[5, :nn]
    isyn = scratch[0]
    dv = scratch[1]
    has_kick = kick.shape[0] > 0
    has_input = i_ext.shape[1] == n
    n_k = i_ext.shape[0]
    depth = syn_buf.shape[1]
    n_ch = syn_buf.shape[0]
    tail = 2 + nn + ns * nm
    n_spk = 0
    bad_i, bad_step = -1, -1
    for i in range(n):
        for a in range(nn):
            V[a] = state[2 + a, i]
        for r in range(ns):
            for j in range(nm):
                s[r, j] = state[2 + nn + r * nm + j, i]
        i_1 = state[tail, i]
        i_2 = state[tail + 1, i]
        restart = state[tail + 2, i] > 0.0
        for k in range(n_k):
            step = step0 + k
            slot = step % depth
            damp = step < 2 or restart
            restart = False
            if restarts:
                for c in range(n_ch):
                    if syn_buf[c, slot, i] != 0.0:
                        damp = True
                        restart = True
                        break
            isyn[i] = 0.0
            dv[i] = 0.0
            synaptic_block(syn_state, syn_buf, syn_par, slot, state[1], isyn[i:],
                           dv[i:], i, i + 1)
            jump = dv[i] + (kick[k, i] if has_kick else 0.0)
            if jump != 0.0:
                V[syn_node] += jump
                if restarts:
                    damp = True
                    restart = True
            i_in = i_ext[k, i] if has_input else 0.0
            current = isyn[i] + i_in
            if restarts:
                size = max(abs(i_in), max(abs(i_1), abs(i_2)))
                if abs(i_in - 2.0 * i_1 + i_2) > jump_tol * size:
                    damp = True
            i_2 = i_1
            i_1 = i_in
            h = dt if damp else theta * dt
            mult = dt / h
            assemble(V, s, pm, tv, tc, parent, g_ax, cap, mem_node, area_f, h, v_mem, i_mem,
                     g_mem, ica, d, rhs)
            rhs[syn_node] += current
            bad = finish(V, s, pm, tv, tc, parent, g_ax, mem_node, mult, v_mem, ica, d, rhs,
                         v_limit)
            if bad >= 0:
                bad_i, bad_step = i, step
                break
            v1 = V[spike_node]
            v0 = v1 - mult * rhs[spike_node]
            if v0 < threshold <= v1:
                spk_step[n_spk] = step
                spk_idx[n_spk] = i
                n_spk += 1
            state[0, i] = v1
            state[1, i] = V[syn_node]
            if (step + 1) % sample_every == 0:
                j = np.searchsorted(rec_idx, i)
                if j < rec_idx.shape[0] and rec_idx[j] == i:
                    smp = (step + 1) // sample_every - 1
                    for row in range(rec_slots.shape[0]):
                        slot = rec_slots[row]
                        if slot < 0:
                            continue
                        if row < 2:
                            val = state[row, i]
                        elif row < 2 + nn:
                            val = V[row - 2]
                        elif row < tail:
                            q = row - 2 - nn
                            val = s[q // nm, q % nm]
                        elif row == tail:
                            val = i_1
                        elif row == tail + 1:
                            val = i_2
                        else:
                            val = 1.0 if restart else 0.0
                        rec_out[slot, smp, j] = val
        for a in range(nn):
            state[2 + a, i] = V[a]
        for r in range(ns):
            for j in range(nm):
                state[2 + nn + r * nm + j, i] = s[r, j]
        state[tail, i] = i_1
        state[tail + 1, i] = i_2
        state[tail + 2, i] = 1.0 if restart else 0.0
        isyn[i] = 0.0
        dv[i] = 0.0
        if bad_i >= 0:
            return n_spk, bad_i, bad_step
    if n_spk > 1:  # by step, then neuron (the engine delivers step by step)
        key = spk_step[:n_spk] * n + spk_idx[:n_spk]
        order = np.argsort(key, kind="mergesort")
        st = spk_step[:n_spk][order]
        si = spk_idx[:n_spk][order]
        spk_step[:n_spk] = st
        spk_idx[:n_spk] = si
    return n_spk, -1, -1
'''

_LOOPS: dict = {}


def cable_module(compiled_membrane):
    """The generated module of ``compiled_membrane``'s structure (a
    :class:`~neurosim_nb.channels.membrane.CompiledMembrane`): ``run`` (one cell's time
    loop) and ``kernel`` (a population's, the engine's kernel contract), from
    :data:`_LOOP_TEMPLATE` with the membrane's kernels imported by name, cached on disk.

    >>> from neurosim_nb.channels.library import mechanism
    >>> from neurosim_nb.channels.membrane import Membrane
    >>> mod = cable_module(Membrane([mechanism("hh1952_leak")]).compile(0.025))
    >>> callable(mod.run), callable(mod.kernel)
    (True, True)
    """
    key = compiled_membrane.currents_kernel
    loop = _LOOPS.get(key)
    if loop is not None:
        return loop
    imports = (import_line(compiled_membrane.currents_kernel, "mem_currents")
               + import_line(compiled_membrane.advance_kernel, "mem_advance")
               + import_line(hines_solve, "hines_solve"))
    src = _LOOP_TEMPLATE.format(title=repr(compiled_membrane.membrane.structure()),
                                imports=imports)
    module = load_module("cable", src, {})
    _LOOPS[key] = module
    return module


def cable_loop(compiled_membrane):
    """The compiled cell loop ``run`` of :func:`cable_module`."""
    return cable_module(compiled_membrane).run
