"""Postsynaptic receptor channels inside the neuron kernels (compiled, per neuron per step).

Each population that receives projections owns ``C`` receptor *channels* (one per receptor
type used by its incoming projections). Channel ``c`` has

* a ring buffer ``syn_buf[c, slot, i]`` of weights arriving at neuron ``i`` in the step
  whose global index is ``≡ slot (mod D)``, filled by spike delivery and consumed here;
* two states ``syn_state[c, 0|1, i]`` (decay and rise components): the conductance or
  current is ``s_decay - s_rise``, each decaying exactly by ``exp(-dt/tau)`` per step, and an
  arriving weight ``w`` adds ``w * norm`` to both so that a single event peaks at ``w``
  (dual exponential; with ``tau_rise = 0`` the rise part stays 0: single exponential);
* parameters ``syn_par[c]`` = (kind, decay factor, rise factor, E_rev, Mg (mM), norm, has_rise):
  kind 0 = conductance (uS; current ``g * B(V) * (E_rev - V)`` nA, with the Jahr-Stevens
  Mg2+ block ``B(V) = 1 / (1 + [Mg]/3.57 exp(-0.062 V))`` when Mg > 0), kind 1 = current (nA),
  kind 2 = delta (the weight is an instantaneous jump of V in mV).

Order within a step: arrivals are added, the channel current is computed from the
start-of-step V and held over the step (added to the external input current).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

KIND_CONDUCTANCE = 0
KIND_CURRENT = 1
KIND_DELTA = 2
N_SYN_PAR = 7


@njit(cache=True, inline="always")
def synaptic_input(syn_state, syn_buf, syn_par, slot, i, v):
    """Advance neuron ``i``'s receptor channels by one step; return (current nA, jump mV).

    ``slot`` is the step's ring-buffer slot, ``step % syn_buf.shape[1]``: the caller
    computes it once per step (an integer modulo per neuron costs about a third of a LIF
    kernel's time).
    """
    isyn = 0.0
    dv = 0.0
    n_ch = syn_par.shape[0]
    if n_ch == 0:
        return isyn, dv
    for c in range(n_ch):
        arrive = syn_buf[c, slot, i]
        syn_buf[c, slot, i] = 0.0
        kind = syn_par[c, 0]
        if kind == KIND_DELTA:
            dv += arrive
            continue
        add = arrive * syn_par[c, 5]
        s1 = syn_state[c, 0, i] * syn_par[c, 1] + add
        syn_state[c, 0, i] = s1
        g = s1
        if syn_par[c, 6] > 0.0:
            s2 = syn_state[c, 1, i] * syn_par[c, 2] + add
            syn_state[c, 1, i] = s2
            g = s1 - s2
        if kind == KIND_CONDUCTANCE:
            block = 1.0
            mg = syn_par[c, 4]
            if mg > 0.0:
                block = 1.0 / (1.0 + mg / 3.57 * math.exp(-0.062 * v))
            isyn += g * block * (syn_par[c, 3] - v)
        else:
            isyn += g
    return isyn, dv


def no_synapses(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Empty channel arrays for a population without incoming projections."""
    return np.zeros((0, 2, n)), np.zeros((0, 1, n)), np.zeros((0, N_SYN_PAR))
