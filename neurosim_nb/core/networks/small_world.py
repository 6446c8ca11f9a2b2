r"""Small-world networks: a Watts-Strogatz ring of LIF neurons and a cortical E/I module.

:meth:`SmallWorldNetwork.create_watts_strogatz` puts one LIF population on the nodes of a
Watts & Strogatz (1998) graph (:func:`~neurosim_nb.core.networks.topology.watts_strogatz`:
a ring where every neuron joins its ``k`` nearest neighbours, each lattice edge rewired
with probability ``p``); every undirected edge becomes two synapses, one each way. A
fraction ``inhibitory_fraction`` (default 0.2, the cortical 80/20 ratio) of the neurons,
drawn at random, is inhibitory (Dale's law: all its outgoing synapses are GABA-A, the
others AMPA); all neurons share the excitatory LIF preset, so cell type only decides the
sign of a neuron's output. The synapses are two projections of the population onto
itself, ``neurons->neurons:AMPA`` and ``neurons->neurons:GABA_A``.

:meth:`SmallWorldNetwork.create_cortical_module` is a local cortical circuit: 80 %
excitatory (``exc``, LIF excitatory preset) and 20 % inhibitory (``inh``, fast-spiking
LIF preset) neurons; E -> E synapses follow a Watts-Strogatz graph (``k`` = 10, ``p`` =
0.1: a clustered, small-world excitatory skeleton), and the connections with
interneurons are random, dense for inhibition as measured in cortex (Fino & Yuste 2011;
Packer & Yuste 2011): E -> I ``p`` = 0.3, I -> E and I -> I ``p`` = 0.5.

Weights (peak conductances): AMPA 4 nS (a 2.7 mV EPSP at rest on the 100 MΩ presets),
GABA-A 24 nS (6 × AMPA, making up for having a quarter as many inhibitory inputs). So a
few coincident inputs fire a neuron, activity spreads along the graph's edges, and no
reverberation outlasts the input. Measured (3 seeds): an independent Poisson background
that alone makes every neuron fire at 11 Hz (2 kHz of 0.45 mV kicks) gives 26-28 Hz in
the Watts-Strogatz network (n = 500, k = 4, p = 0.1; recurrent excitation amplifies) and
2.1-2.4 Hz in the cortical module's excitatory cells (dense inhibition dominates); 10
neurons driven with 5 nA recruit only their neighbourhood (14-17 of 500 neurons) and
activity stops within 50 ms of the end of the input (at 10 nS AMPA it reverberates on).
The networks carry no drive of their own: they rest silently until stimulated (e.g.
``engine.add_input_current`` or ``engine.add_poisson_drive``).

:meth:`SmallWorldNetwork.compute_topology_metrics` measures the small-world graph the
network was built on (clustering coefficient, characteristic path length and
:math:`\sigma = (C/C_{rand})/(L/L_{rand})`, Humphries & Gurney 2008), from its own
projections, with :func:`~neurosim_nb.core.networks.topology.topology_metrics`.

References
----------
Watts DJ, Strogatz SH (1998) Collective dynamics of 'small-world' networks. Nature
393:440-442.
Humphries MD, Gurney K (2008) Network 'small-world-ness'. PLoS ONE 3:e0002051.
Fino E, Yuste R (2011) Dense inhibitory connectivity in neocortex. Neuron 69:1188-1203.
Packer AM, Yuste R (2011) Dense, unspecific connectivity of neocortical parvalbumin-positive
interneurons. J Neurosci 31:13260-13271.

Examples
--------
>>> net = SmallWorldNetwork.create_watts_strogatz(n=500, k=4, p=0.1, seed=0)
>>> net.n_neurons, sum(pr.n_synapses for pr in net.projections)   # 500 * 4 synapses
(500, 2000)
>>> m = net.compute_topology_metrics()
>>> m["mean_degree"], m["sigma"] > 1
(4.0, True)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from neurosim_nb.core.networks import topology
from neurosim_nb.core.networks.network import Network
from neurosim_nb.core.neurons.lif import LIFNeuron

__all__ = ["SmallWorldNetwork", "W_EXC", "W_INH"]

#: AMPA peak conductance of the small-world networks (µS): a 2.7 mV EPSP at rest
W_EXC = 0.004
#: GABA-A peak conductance of the small-world networks (µS)
W_INH = 0.024


def _fraction(name: str, value, *, open_high: bool = False) -> float:
    ok = (not isinstance(value, bool) and isinstance(value, numbers.Real)
          and math.isfinite(value) and 0 <= value <= 1 and not (open_high and value == 1))
    if not ok:
        raise ValueError(f"{name} = {value!r} must be a number in [0, 1{')' if open_high else ']'}")
    return float(value)


def _weight(name: str, value) -> float:
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or value < 0):
        raise ValueError(f"{name} = {value!r} must be a finite conductance >= 0 (uS)")
    return float(value)


class SmallWorldNetwork(Network):
    """A network built on a small-world graph (see the module docstring).

    Attributes
    ----------
    graph_population : str
        The population whose projections onto itself form the small-world graph.
    inhibitory_mask : numpy.ndarray of bool
        ``create_watts_strogatz`` only: which neurons of ``neurons`` are inhibitory.
    """

    graph_population: str

    @classmethod
    def create_watts_strogatz(cls, n: int = 500, k: int = 4, p: float = 0.1, *,
                              inhibitory_fraction: float = 0.2, weight_exc: float = W_EXC,
                              weight_inh: float = W_INH, delay_ms: float = 1.0,
                              seed: int | None = None,
                              name: str = "watts_strogatz") -> SmallWorldNetwork:
        """One LIF population wired as a Watts-Strogatz graph.

        Parameters
        ----------
        n : int
            Number of neurons (graph nodes).
        k : int
            Even number of nearest ring neighbours per neuron (``0 <= k < n``).
        p : float
            Rewiring probability in [0, 1].
        inhibitory_fraction : float
            Fraction of inhibitory neurons (drawn at random), in [0, 1).
        weight_exc, weight_inh : float
            AMPA and GABA-A peak conductances (µS).
        delay_ms : float
            Synaptic delay (ms).
        seed : int, optional
            Seed of the graph and the choice of inhibitory neurons.
        """
        inh_frac = _fraction("inhibitory_fraction", inhibitory_fraction, open_high=True)
        weight_exc, weight_inh = _weight("weight_exc", weight_exc), _weight("weight_inh",
                                                                            weight_inh)
        net = cls(name, seed=seed)
        pre, post = topology.watts_strogatz(n, k, p, net.rng)
        n = int(n)
        net.add_population("neurons", LIFNeuron.create_excitatory(n))
        inh = np.zeros(n, dtype=bool)
        inh[net.rng.choice(n, size=int(round(inh_frac * n)), replace=False)] = True
        net.inhibitory_mask = inh
        from_inh = inh[pre]
        net.add_projection("neurons", "neurons", pre[~from_inh], post[~from_inh], weight_exc,
                           delay_ms, "AMPA")
        if from_inh.any():
            net.add_projection("neurons", "neurons", pre[from_inh], post[from_inh], weight_inh,
                               delay_ms, "GABA_A")
        net.graph_population = "neurons"
        net.small_world = {"n": n, "k": int(k), "p": float(p), "inhibitory_fraction": inh_frac}
        return net

    @classmethod
    def create_cortical_module(cls, n_neurons: int = 200, *, excitatory_fraction: float = 0.8,
                               k: int = 10, p: float = 0.1, p_ei: float = 0.3,
                               p_ie: float = 0.5, p_ii: float = 0.5, weight_exc: float = W_EXC,
                               weight_inh: float = W_INH, delay_ms: float = 1.0,
                               seed: int | None = None,
                               name: str = "cortical_module") -> SmallWorldNetwork:
        """A local E/I circuit with a small-world excitatory skeleton.

        Parameters
        ----------
        n_neurons : int
            Total number of neurons.
        excitatory_fraction : float
            Fraction of excitatory neurons (population ``exc``; the rest is ``inh``).
        k, p : int, float
            Watts-Strogatz degree and rewiring probability of the E -> E graph.
        p_ei, p_ie, p_ii : float
            Connection probabilities E -> I, I -> E, I -> I (random, no autapses).
        weight_exc, weight_inh : float
            AMPA and GABA-A peak conductances (µS).
        delay_ms : float
            Synaptic delay (ms).
        seed : int, optional
            Seed of the connectivity.

        Examples
        --------
        >>> net = SmallWorldNetwork.create_cortical_module(n_neurons=200, seed=0)
        >>> {name: pop.n for name, pop in net.populations.items()}
        {'exc': 160, 'inh': 40}
        """
        if isinstance(n_neurons, bool) or not isinstance(n_neurons, numbers.Integral):
            raise ValueError(f"n_neurons = {n_neurons!r} must be an integer")
        frac = _fraction("excitatory_fraction", excitatory_fraction)
        probs = {nm: _fraction(nm, v) for nm, v in (("p_ei", p_ei), ("p_ie", p_ie),
                                                    ("p_ii", p_ii))}
        weight_exc, weight_inh = _weight("weight_exc", weight_exc), _weight("weight_inh",
                                                                            weight_inh)
        n_e = int(round(frac * n_neurons))
        n_i = int(n_neurons) - n_e
        if n_e <= k or n_i < 1:
            raise ValueError(f"n_neurons = {n_neurons} gives {n_e} excitatory and {n_i} "
                             f"inhibitory neurons; need more than k = {k} excitatory and at "
                             f"least one inhibitory neuron")
        net = cls(name, seed=seed)
        net.add_population("exc", LIFNeuron.create_excitatory(n_e))
        net.add_population("inh", LIFNeuron.create_inhibitory(n_i))
        pre, post = topology.watts_strogatz(n_e, k, p, net.rng)
        net.add_projection("exc", "exc", pre, post, weight_exc, delay_ms, "AMPA")
        net.connect("exc", "inh", "fixed_probability", p=probs["p_ei"], weight=weight_exc,
                    delay_ms=delay_ms, receptor="AMPA")
        net.connect("inh", "exc", "fixed_probability", p=probs["p_ie"], weight=weight_inh,
                    delay_ms=delay_ms, receptor="GABA_A")
        net.connect("inh", "inh", "fixed_probability", p=probs["p_ii"], weight=weight_inh,
                    delay_ms=delay_ms, receptor="GABA_A")
        net.graph_population = "exc"
        net.small_world = {"n": n_e, "k": int(k), "p": float(p), **probs}
        return net

    # -- the graph ------------------------------------------------------------------------
    def graph_edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Directed edges ``(pre, post)`` (local indices of :attr:`graph_population`) of all
        projections of that population onto itself: the small-world graph."""
        pres, posts = [], []
        for proj in self.projections:
            if proj.pre == proj.post == self.graph_population:
                pres.append(proj.pre_idx)
                posts.append(proj.post_idx)
        if not pres:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(pres), np.concatenate(posts)

    def compute_topology_metrics(self, n_random: int = 5, seed: int | None = None,
                                 null: str = "erdos_renyi") -> dict[str, float]:
        """Small-world metrics of the network's own graph (treated as undirected).

        Parameters
        ----------
        n_random : int
            Random reference graphs for sigma.
        seed : int, optional
            Seed of the reference graphs (default: the network's seed, so the result is
            reproducible).
        null : {"erdos_renyi", "degree_preserving"}
            Reference model of sigma.

        Returns
        -------
        dict
            ``clustering``, ``path_length`` (largest component if disconnected), ``sigma``,
            ``clustering_random``, ``path_length_random``, ``n_nodes``, ``n_edges``,
            ``mean_degree`` -- see :func:`~neurosim_nb.core.networks.topology.topology_metrics`.
        """
        pre, post = self.graph_edges()
        n = self.populations[self.graph_population].n
        rng = np.random.default_rng(self.seed if seed is None else seed)
        return topology.topology_metrics(pre, post, n, rng, n_random=n_random, null=null)
