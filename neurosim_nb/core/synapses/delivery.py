"""Spike delivery through CSR projections into the postsynaptic ring buffers (compiled).

A projection stores its synapses sorted by presynaptic neuron (CSR: ``indptr``,
``post``, ``weight``, ``delay`` in whole steps, at least one). A spike of presynaptic neuron
``j`` detected in global step ``s`` is stamped ``(s + 1) * dt``; it adds ``weight`` to
``buf[(s + delay + 1) % D, post]`` of the receptor channel, which the postsynaptic kernel
consumes at the start of step ``s + delay + 1``, i.e. at time ``(s + 1 + delay) * dt``:
the latency from the spike's time stamp to its effect is exactly the delay (as in Brian2
and NEST).
"""

from __future__ import annotations

from neurosim_nb._jit import njit


@njit(cache=True)
def deliver(spk_step, spk_idx, n_spk, indptr, post, weight, delay, buf):
    """Queue the ``n_spk`` spikes of a chunk through one projection (see module doc).

    Every delay must be shorter than the ring buffer (``delay < buf.shape[0]``, as the
    network loop sizes it): the slot is then found without a modulo per synapse.
    """
    depth = buf.shape[0]
    for q in range(n_spk):
        base = (spk_step[q] + 1) % depth
        j = spk_idx[q]
        for syn in range(indptr[j], indptr[j + 1]):
            slot = base + delay[syn]
            if slot >= depth:
                slot -= depth
            buf[slot, post[syn]] += weight[syn]


class SynapticDynamics:
    """Base of everything that changes what a projection delivers: plasticity rules and
    short-term dynamics. The engine calls :meth:`process` once per chunk with the chunk's
    presynaptic and postsynaptic spikes (global step, local index; sorted by step). The
    base class delivers with fixed weights; subclasses deliver and learn in time order.
    """

    #: whether the projection's weights change (and can be recorded)
    plastic = False

    def bind(self, projection, dt: float) -> None:
        """Called once before a run with the projection and the time step (ms)."""

    def process(self, projection, pre_steps, pre_idx, n_pre, post_steps, post_idx, n_post,
                buf, step_end: int) -> None:
        deliver(pre_steps, pre_idx, n_pre, projection.indptr, projection.post_sorted,
                projection.weight, projection.delay_steps, buf)
