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
