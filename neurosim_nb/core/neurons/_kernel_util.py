"""Numba helpers shared by the model kernels (recording a step's state)."""

from __future__ import annotations

from neurosim_nb._jit import njit


@njit(cache=True, inline="always")
def record_step(state, step, sample_every, rec_idx, rec_slots, rec_out):
    """Store the state after global step ``step`` if it is a sampled step."""
    if (step + 1) % sample_every != 0:
        return
    s = (step + 1) // sample_every - 1
    for v in range(rec_slots.shape[0]):
        slot = rec_slots[v]
        if slot >= 0:
            for j in range(rec_idx.shape[0]):
                rec_out[slot, s, j] = state[v, rec_idx[j]]


@njit(cache=True, inline="always")
def record_flat(state, o_st, n, n_vars, step, sample_every, rec_idx, o_ri, n_rec, rec_slots,
                o_rs, rec_out, o_ro, n_samples):
    """:func:`record_step` on the network loop's flat arrays, from the population's offsets
    (state ``(n_vars, n)`` at ``o_st``, its ``n_rec`` recorded neurons at ``o_ri``, the
    slots at ``o_rs``, its ``(slots, n_samples, n_rec)`` samples at ``o_ro``): no views."""
    if (step + 1) % sample_every != 0:
        return
    s = (step + 1) // sample_every - 1
    for v in range(n_vars):
        slot = rec_slots[o_rs + v]
        if slot >= 0:
            base = o_ro + (slot * n_samples + s) * n_rec
            row = o_st + v * n
            for j in range(n_rec):
                rec_out[base + j] = state[row + rec_idx[o_ri + j]]
