"""The presynaptic "spike generator" the experiments share: a LIF that fires on demand."""

from __future__ import annotations

#: a LIF that fires in the step of a 10 nA one-step pulse (or at a 100 mV kick), whatever
#: its synaptic input: the presynaptic "spike generators"
DRIVER = dict(tau_m=1.0, V_rest=-70.0, V_threshold=-50.0, V_reset=-70.0, R_m=100.0,
              t_refractory=0.0)


def _driver(n: int):
    from neurosim_nb.core.neurons.lif import LIFNeuron, LIFParameters

    return LIFNeuron(LIFParameters(**DRIVER), n=n)

