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
event, the start) and the next are taken by backward Euler (Rannacher's start-up
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

__all__ = ["hines_solve", "cable_loop", "AREA_FACTOR", "METHODS", "SYN_COLUMNS"]

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
"""Generated by neurosim_nb.cable.solver: the cable time loop for the membrane structure
{title}. Do not edit: edit the template."""
import math

import numpy as np

from neurosim_nb._jit import njit
{imports}

@njit(cache=True, error_model="numpy")
def run(k0, k1, dt, theta, damp, V, s, p, tv, tc, parent, g_ax, cap, mem_node, area_f,
        work, stim_node, stim_amp, syn_node, syn_par, syn_state, ev_step, ev_syn, ev_w,
        ev_pos, sample_every, rec_idx, rec_mem, rec_v, rec_rows, rec_s, spike_node,
        threshold, spk_t, n_spk, v_limit):
    """Advance the cell over global steps k0 .. k1 - 1 (see the solver's docstring).

    Returns ``(k, bad_node)``: the step reached and -1, or the step and node where V
    stopped being finite or passed ``v_limit``."""
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
        hines_solve(parent, g_ax, d, rhs)
        bad = -1
        for i in range(n):
            vi = V[i] + mult * rhs[i]
            V[i] = vi
            if not (abs(vi) < v_limit) and bad < 0:
                bad = i
        if bad >= 0:
            return k, bad
        for j in range(nm):
            v_mem[j] = V[mem_node[j]]
        mem_advance(v_mem, s, p, tv, tc, ica)
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
'''

_LOOPS: dict = {}


def cable_loop(compiled_membrane):
    """The compiled time loop ``run`` for the structure of ``compiled_membrane`` (a
    :class:`~neurosim_nb.channels.membrane.CompiledMembrane`): generated from
    :data:`_LOOP_TEMPLATE` with the membrane's kernels imported by name, cached on disk.

    >>> from neurosim_nb.channels.library import mechanism
    >>> from neurosim_nb.channels.membrane import Membrane
    >>> run = cable_loop(Membrane([mechanism("hh1952_leak")]).compile(0.025))
    >>> callable(run)
    True
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
    module = load_module("cable_loop", src, {})
    _LOOPS[key] = module.run
    return module.run
