"""The real runs the Neo and NWB export tests share (built once per test module)."""

from __future__ import annotations

from neurosim_nb import LIFNeuron, LIFParameters, Network
from neurosim_nb.stimuli import PoissonInput


def lif_run():
    """20 LIF neurons driven by Poisson kicks (irregular firing), 500 ms, V and I_ext every
    2nd step."""
    return LIFNeuron(LIFParameters(), n=20).simulate(
        500.0, PoissonInput(rate_hz=2000.0, weight_mV=1.0), seed=3,
        record=("V", "I_ext"), sample_every=2)


def network_run():
    """Two populations (exc 40, inh 10) with recurrent connections, 300 ms, V of 6 neurons
    (3 of each population)."""
    net = Network("ei", seed=4)
    net.add_population("exc", LIFNeuron(LIFParameters(), n=40))
    net.add_population("inh", LIFNeuron(LIFParameters(), n=10))
    net.add_stimulus("exc", PoissonInput(rate_hz=2500.0, weight_mV=1.0))
    net.add_stimulus("inh", PoissonInput(rate_hz=2200.0, weight_mV=1.0))
    net.connect("exc", "inh", "fixed_probability", p=0.2, weight=0.05, receptor="current")
    net.connect("inh", "exc", "fixed_probability", p=0.3, weight=-0.05, receptor="current")
    return net.simulate(300.0, record=("V",), record_neurons=[0, 7, 39, 40, 45, 49], seed=2)
