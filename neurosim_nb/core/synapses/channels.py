"""Postsynaptic receptor channels inside the neuron kernels (compiled, per neuron per step).

Each population that receives projections owns ``C`` receptor *channels* (one per receptor
type used by its incoming projections). Channel ``c`` has

* a ring buffer ``syn_buf[c, slot, i]`` of weights arriving at neuron ``i`` in the step
  whose global index is ``≡ slot (mod D)``, filled by spike delivery and consumed here;
* two states ``syn_state[c, 0|1, i]`` (decay and rise components): the conductance or
  current is ``s_decay - s_rise``, each decaying exactly by ``exp(-dt/tau)`` per step, and an
  arriving weight ``w`` adds ``w * norm`` to both so that a single event peaks at ``w``
  (dual exponential; with ``tau_rise = 0`` the rise part stays 0: single exponential);
* parameters ``syn_par[c]``, one row of :data:`N_SYN_PAR` columns named by the ``SYN_*``
  constants below: kind (``SYN_KIND``), decay factor ``exp(-dt/tau_decay)`` (``SYN_DECAY``),
  rise factor ``exp(-dt/tau_rise)`` (``SYN_RISE``), E_rev in mV (``SYN_E_REV``), Mg in mM
  (``SYN_MG``), peak normalisation (``SYN_NORM``) and 1.0 if the channel has a rise part
  (``SYN_HAS_RISE``); :meth:`~neurosim_nb.core.synapses.receptors.Receptor.channel_parameters`
  writes a row. Kind 0 = conductance (uS; current ``g * B(V) * (E_rev - V)`` nA, with the
  Jahr-Stevens Mg2+ block ``B(V) = 1 / (1 + [Mg]/3.57 exp(-0.062 V))`` when Mg > 0),
  kind 1 = current (nA), kind 2 = delta (the weight is an instantaneous jump of V in mV),
  kind 3 = kinetic (:data:`KIND_KINETIC`, below).

Kinetic channels (two-state receptors binding a square transmitter pulse, Destexhe, Mainen
& Sejnowski 1994) use the lumped scheme of their fast method (``Ron``/``Roff`` in
Destexhe's NEURON mechanisms): ``syn_state[c, 0]`` = ``Ron``, the summed conductance of
the synapses in a pulse, relaxing to ``r_inf * synon`` with ``tau_rise``;
``syn_state[c, 1]`` = ``Roff``, the others', decaying with ``1/beta``. A weight ``w``
arriving in step ``t`` opens a pulse for ``m`` steps (``SYN_HAS_RISE`` holds ``m``); at
its end ``w * r1`` (``r1 = r_inf (1 - exp(-m dt / tau_rise))``) moves from Ron to Roff.
The arrivals stay in the ring buffer during their pulse (``synon`` is the sum of the last
``m`` slots) and are cleared at its end, so ``m`` must not exceed the network's shortest
delay + 2 steps (the engine checks it). Each pulse is taken to start from a synapse at
rest (r = 0): exact for one spike per synapse, and while a synapse's previous pulse has
decayed; conductance ``Ron + Roff`` at the start of the step, held over it. Columns:
``SYN_DECAY`` = ``exp(-beta dt)``, ``SYN_RISE`` = ``exp(-dt / tau_rise)``, ``SYN_NORM`` =
``r_inf``.

Kernels (``neurosim_nb.core.neurons``) call :func:`synaptic_step` / :func:`synaptic_block`;
the receptor models (:mod:`neurosim_nb.core.synapses.receptors`) fill ``syn_par``. Both import
this module, so the models sit above the channel kinetics and never import each other.

Order within a step: arrivals are added, the channel current is computed from the
start-of-step V and held over the step (added to the external input current).
"""

from __future__ import annotations

import math

import numpy as np

from neurosim_nb._jit import njit
from neurosim_nb.numerics.fastmath import fma

#: ``syn_par[c, SYN_KIND]``: how the channel acts on the neuron
KIND_CONDUCTANCE = 0
KIND_CURRENT = 1
KIND_DELTA = 2
KIND_KINETIC = 3

#: columns of ``syn_par[c]`` (see the module docstring)
SYN_KIND, SYN_DECAY, SYN_RISE, SYN_E_REV, SYN_MG, SYN_NORM, SYN_HAS_RISE = range(7)
#: number of columns of ``syn_par``
N_SYN_PAR = 7


@njit(cache=True)
def synaptic_step(syn_state, syn_buf, syn_par, slot, v, isyn, dv):
    """Advance every neuron's receptor channels by one step (channel by channel, so the
    inner loop over neurons runs on contiguous rows with the channel's constants hoisted);
    write the synaptic current (nA) into ``isyn`` and the V jumps (mV) into ``dv``.

    Kernels call it once per step, before their loop over neurons (this channel-major form
    is several times faster than a per-neuron call: 0.54 -> 0.20 s for CUBA 4000 x 1 s),
    or :func:`synaptic_block` once per block of neurons.
    """
    synaptic_block(syn_state, syn_buf, syn_par, slot, v, isyn, dv, 0, v.shape[0])


@njit(cache=True)
def synaptic_block(syn_state, syn_buf, syn_par, slot, v_all, isyn_blk, dv_blk, lo, hi):
    """:func:`synaptic_step` for neurons ``lo .. hi - 1`` only, writing their currents and
    V jumps to ``isyn_blk[:hi - lo]`` and ``dv_blk[:hi - lo]`` (from 0: a kernel reuses one
    block-sized workspace for every block). A kernel that updates its neurons block by block
    calls this just before a block's update, so the block's channel state, currents and
    membrane state stay in the L1 cache between the two passes (large networks are
    otherwise bound by the memory traffic of whole-population passes).
    Single-exponential channels without Mg2+ block -- the benchmark synapses -- take loops
    without branches (they vectorise), the first of them assigning rather than adding.
    """
    n_ch = syn_par.shape[0]
    if n_ch == 0:
        return
    n = hi - lo
    v = v_all[lo:hi]
    isyn = isyn_blk[:n]
    dv = dv_blk[:n]
    isyn_set = False  # whether isyn / dv already hold this step's first contribution
    dv_set = False
    for c in range(n_ch):
        buf = syn_buf[c, slot, lo:hi]
        kind = syn_par[c, SYN_KIND]
        if kind == KIND_DELTA:
            if dv_set:
                for i in range(n):
                    dv[i] += buf[i]
                    buf[i] = 0.0
            else:
                for i in range(n):
                    dv[i] = buf[i]
                    buf[i] = 0.0
                dv_set = True
            continue
        if kind == KIND_KINETIC:
            if not isyn_set:
                isyn[:] = 0.0
                isyn_set = True
            _kinetic_channel(syn_buf[c], slot, lo, hi, syn_state[c, 0, lo:hi],
                             syn_state[c, 1, lo:hi], syn_par[c], v, isyn)
            continue
        decay, rise, e_rev, mg, norm = (syn_par[c, SYN_DECAY], syn_par[c, SYN_RISE],
                                        syn_par[c, SYN_E_REV], syn_par[c, SYN_MG],
                                        syn_par[c, SYN_NORM])
        has_rise = syn_par[c, SYN_HAS_RISE] > 0.0
        s_decay = syn_state[c, 0, lo:hi]
        s_rise = syn_state[c, 1, lo:hi]
        if not has_rise and not mg > 0.0:
            _exp_channel(buf, s_decay, decay, norm, kind == KIND_CONDUCTANCE, e_rev, v, isyn,
                         isyn_set)
            isyn_set = True
            continue
        if not isyn_set:
            isyn[:] = 0.0
            isyn_set = True
        for i in range(n):
            add = buf[i] * norm
            buf[i] = 0.0
            s1 = fma(s_decay[i], decay, add)
            s_decay[i] = s1
            g = s1
            if has_rise:
                s2 = fma(s_rise[i], rise, add)
                s_rise[i] = s2
                g = s1 - s2
            if kind == KIND_CONDUCTANCE:
                if mg > 0.0:
                    block = 1.0 / (1.0 + mg / 3.57 * math.exp(-0.062 * v[i]))
                    isyn[i] += g * block * (e_rev - v[i])
                else:
                    isyn[i] += g * 1.0 * (e_rev - v[i])
            else:
                isyn[i] += g
    if not isyn_set:
        isyn[:] = 0.0
    if not dv_set:
        dv[:] = 0.0


@njit(cache=True)
def _kinetic_channel(buf, slot, lo, hi, ron, roff, par, v, isyn):
    """A kinetic channel (see the module docstring) for neurons ``lo .. hi - 1``: the
    ring buffer ``buf`` is the channel's ``(depth, n)``, ``slot`` this step's row."""
    depth = buf.shape[0]
    m = int(par[SYN_HAS_RISE])
    decay, rise, r_inf = par[SYN_DECAY], par[SYN_RISE], par[SYN_NORM]
    e_rev, mg = par[SYN_E_REV], par[SYN_MG]
    r1 = r_inf * (1.0 - rise ** m)
    end = (slot - m) % depth
    for i in range(hi - lo):
        j = lo + i
        ended = buf[end, j]
        buf[end, j] = 0.0
        synon = 0.0
        for k in range(m):  # the pulses on during this step: arrivals of the last m steps
            synon += buf[(slot - k) % depth, j]
        r_on = ron[i] - r1 * ended
        r_off = roff[i] + r1 * ended
        g = r_on + r_off
        target = r_inf * synon
        ron[i] = target + (r_on - target) * rise
        roff[i] = r_off * decay
        if mg > 0.0:
            g = g / (1.0 + mg / 3.57 * math.exp(-0.062 * v[i]))
        isyn[i] += g * (e_rev - v[i])


@njit(cache=True, inline="always")
def _exp_channel(buf, s, decay, norm, conductance, e_rev, v, isyn, add):
    """A single-exponential channel: decay, take the arrivals, write (``add`` False) or
    add its current; four branch-free loops."""
    n = v.shape[0]
    if conductance:
        if add:
            for i in range(n):
                g = fma(s[i], decay, buf[i] * norm)
                s[i] = g
                buf[i] = 0.0
                isyn[i] += g * (e_rev - v[i])
        else:
            for i in range(n):
                g = fma(s[i], decay, buf[i] * norm)
                s[i] = g
                buf[i] = 0.0
                isyn[i] = g * (e_rev - v[i])
    elif add:
        for i in range(n):
            g = fma(s[i], decay, buf[i] * norm)
            s[i] = g
            buf[i] = 0.0
            isyn[i] += g
    else:
        for i in range(n):
            g = fma(s[i], decay, buf[i] * norm)
            s[i] = g
            buf[i] = 0.0
            isyn[i] = g


def no_synapses(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Empty channel arrays for a population without incoming projections."""
    return np.zeros((0, 2, n)), np.zeros((0, 1, n)), np.zeros((0, N_SYN_PAR))
