"""A neuron-astrocyte network after NEST's ``astrocyte_brunel_bernoulli.py`` example.

Excitatory and inhibitory LIF neurons (sparse random, delta synapses, Poisson drive) with a
population of Li-Rinzel astrocytes: each excitatory synapse onto a neuron is ensheathed, with
probability ``p_astro``, by an astrocyte, which receives the synapse's presynaptic spikes
(IP3 production: a ``delta`` projection neuron -> astrocyte of weight ``w_astro``) and sends
its slow inward current to the synapse's postsynaptic neuron (a
:class:`~neurosim_nb.core.neurons.astrocyte.SlowInwardCurrent` of weight ``w_sic``). NEST's
example: 10 000 neurons, 5 000 astrocytes, one ``tripartite_bernoulli_with_pool`` rule; here
the same structure at a size a notebook runs in seconds.

>>> net = astrocyte_network(n_exc=40, n_inh=10, n_astro=10, seed=1)
>>> sorted(net.populations), len(net.state_couplings)
(['astro', 'exc', 'inh'], 1)
"""

from __future__ import annotations

import numpy as np

from neurosim_nb.core.networks.network import Network
from neurosim_nb.core.neurons.astrocyte import AstrocytePopulation, SlowInwardCurrent
from neurosim_nb.core.neurons.lif import LIFNeuron
from neurosim_nb.stimuli import PoissonInput

__all__ = ["astrocyte_network"]


def astrocyte_network(n_exc: int = 400, n_inh: int = 100, n_astro: int = 100, *,
                      p_conn: float = 0.1, w_exc_mV: float = 0.2, g: float = 5.0,
                      p_astro: float = 0.5, w_astro: float = 1.0, w_sic: float = 1.0,
                      delta_IP3_uM: float = 0.0002, rate_hz: float = 2000.0,
                      kick_mV: float = 0.4, seed: int = 0) -> Network:
    """Build the network (see the module docstring).

    Parameters
    ----------
    n_exc, n_inh, n_astro : int
        Sizes of the populations.
    p_conn : float
        Connection probability between neurons.
    w_exc_mV, g : float
        Excitatory delta weight (mV) and relative inhibition (inhibitory weight ``-g w``).
    p_astro : float
        Probability that an excitatory-to-excitatory synapse is ensheathed.
    w_astro : float
        Spike weight of a neuron -> astrocyte synapse (dimensionless, NEST's weight).
    w_sic : float
        Weight of the astrocyte -> neuron SIC (dimensionless; SIC in pA -> nA).
    delta_IP3_uM : float
        IP3 per unit spike weight (µM; NEST's default 0.0002).
    rate_hz, kick_mV : float
        External Poisson drive of every neuron.
    seed : int
        Network seed.

    Returns
    -------
    Network
        Populations ``exc``, ``inh``, ``astro``; record ``("V", "Ca", "IP3", "h", "SIC")``.
    """
    for name, v in (("n_exc", n_exc), ("n_inh", n_inh), ("n_astro", n_astro)):
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    for name, v in (("p_conn", p_conn), ("p_astro", p_astro)):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {v!r}")
    net = Network("astrocyte_network", seed=seed)
    exc = net.add_population("exc", LIFNeuron.create_excitatory(n=n_exc))
    net.add_population("inh", LIFNeuron.create_inhibitory(n=n_inh))
    astro = net.add_population("astro", AstrocytePopulation.from_preset(
        "nest", n=n_astro, delta_IP3=delta_IP3_uM))
    for pre, w in (("exc", w_exc_mV), ("inh", -g * w_exc_mV)):
        for post in ("exc", "inh"):
            net.connect(pre, post, "fixed_probability", p=p_conn, weight=w, delay_ms=1.5,
                        receptor="delta")
    # ensheathed E->E synapses: pick their pairs, an astrocyte each
    ee = next(p for p in net.projections if p.pre == "exc" and p.post == "exc")
    rng = np.random.default_rng(seed)
    take = rng.random(ee.n_synapses) < p_astro
    a_idx = rng.integers(0, n_astro, size=int(take.sum()))
    pre_idx, post_idx = ee.pre_idx[take], ee.post_idx[take]
    # presynaptic spikes -> IP3 (one delta synapse per distinct (neuron, astrocyte) pair)
    pairs = np.unique(np.stack([pre_idx, a_idx]), axis=1)
    net.add_projection("exc", "astro", pairs[0], pairs[1], w_astro, 1.0, "delta")
    out = np.unique(np.stack([a_idx, post_idx]), axis=1)
    net.add_coupling(SlowInwardCurrent("astro", "exc", out[0], out[1], weight=w_sic))
    for name in ("exc", "inh"):
        net.add_stimulus(name, PoissonInput(rate_hz=rate_hz, weight_mV=kick_mV))
    del exc, astro
    return net
