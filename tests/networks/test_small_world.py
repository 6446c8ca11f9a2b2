"""Small-world networks: their graph, its metrics against networkx, and their activity.

The metrics are deterministic functions of the graph, so clustering and path length must
equal networkx's on the network's own synapses to round-off (1e-12). Sigma depends on random
reference graphs; for p = 0.1 it is far above 1 (C/C_rand ~ 40 for n = 500, k = 4), so
``sigma > 1`` has a wide margin.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from neurosim_nb.core.networks.small_world import W_EXC, W_INH, SmallWorldNetwork
from neurosim_nb.engine import RecordingConfig, SimulationConfig, SimulationEngine


def nx_graph_of(net) -> nx.Graph:
    """networkx graph from the network's synapses among ``graph_population``."""
    g = nx.Graph()
    g.add_nodes_from(range(net.populations[net.graph_population].n))
    for proj in net.projections:
        if proj.pre == proj.post == net.graph_population:
            g.add_edges_from(zip(proj.pre_idx.tolist(), proj.post_idx.tolist(), strict=True))
    return g


@pytest.fixture(scope="module")
def ws():
    return SmallWorldNetwork.create_watts_strogatz(n=500, k=4, p=0.1, seed=3)


def test_watts_strogatz_structure(ws):
    assert list(ws.populations) == ["neurons"] and ws.n_neurons == 500
    pre, post = ws.graph_edges()
    assert pre.size == 500 * 4                                  # n k synapses: k/2 per side,
    key = set((pre * 500 + post).tolist())                      # both directions
    assert len(key) == pre.size and key == set((post * 500 + pre).tolist())
    assert not np.any(pre == post)
    assert np.all(np.bincount(pre, minlength=500) >= 1)
    inh = ws.inhibitory_mask
    assert inh.sum() == 100                                     # 20 % inhibitory
    for proj in ws.projections:
        assert proj.receptor.name in ("AMPA", "GABA_A")
        from_inh = inh[proj.pre_idx]
        if proj.receptor.name == "AMPA":                        # Dale's law
            assert not from_inh.any() and np.all(proj.weight == W_EXC)
        else:
            assert from_inh.all() and np.all(proj.weight == W_INH)
    # p = 0.1: about 10 % of the n k / 2 lattice edges were rewired (binomial, 4 sd)
    lattice = {(u, (u + j) % 500) for u in range(500) for j in (1, 2)}
    edges = {(min(a, b), max(a, b)) for a, b in zip(pre.tolist(), post.tolist(), strict=True)}
    kept = sum((min(a, b), max(a, b)) in edges for a, b in lattice)
    assert abs((1000 - kept) - 100) <= 4 * np.sqrt(1000 * 0.1 * 0.9)


def test_metrics_equal_networkx(ws):
    m = ws.compute_topology_metrics()
    g = nx_graph_of(ws)
    assert nx.is_connected(g)
    assert m["clustering"] == pytest.approx(nx.average_clustering(g), abs=1e-12)
    assert m["path_length"] == pytest.approx(nx.average_shortest_path_length(g), abs=1e-12)
    assert (m["n_nodes"], m["n_edges"], m["mean_degree"]) == (500, 1000, 4.0)
    assert m["sigma"] > 1.0
    assert m == ws.compute_topology_metrics()                   # reproducible (network seed)


def test_ring_lattice_and_random_limits():
    lattice = SmallWorldNetwork.create_watts_strogatz(n=200, k=6, p=0.0, seed=0)
    m0 = lattice.compute_topology_metrics(n_random=2)
    assert m0["clustering"] == pytest.approx(3 * (6 - 2) / (4 * (6 - 1)), abs=1e-12)
    rnd = SmallWorldNetwork.create_watts_strogatz(n=200, k=6, p=1.0, seed=0)
    m1 = rnd.compute_topology_metrics(n_random=2)
    sw = SmallWorldNetwork.create_watts_strogatz(n=200, k=6, p=0.1, seed=0)
    m01 = sw.compute_topology_metrics(n_random=2)
    # the small world keeps most of the lattice's clustering but the random graph's path
    assert m01["clustering"] > 0.6 * m0["clustering"] > m1["clustering"]
    assert m01["path_length"] < 0.5 * m0["path_length"]
    assert m01["sigma"] > 2 * m1["sigma"]


def test_cortical_module_structure_and_metrics():
    net = SmallWorldNetwork.create_cortical_module(n_neurons=200, seed=5)
    assert {k: p.n for k, p in net.populations.items()} == {"exc": 160, "inh": 40}
    assert net.graph_population == "exc"
    names = {p.name: p for p in net.projections}
    ee = names["exc->exc:AMPA"]
    assert ee.n_synapses == 160 * 10                            # Watts-Strogatz, k = 10
    for name, n_pre, n_post, prob in (("exc->inh:AMPA", 160, 40, 0.3),
                                      ("inh->exc:GABA_A", 40, 160, 0.5),
                                      ("inh->inh:GABA_A", 40, 39, 0.5)):
        count = names[name].n_synapses
        trials = n_pre * n_post
        assert abs(count - trials * prob) <= 4 * np.sqrt(trials * prob * (1 - prob)), name
    m = net.compute_topology_metrics()
    g = nx_graph_of(net)
    assert m["clustering"] == pytest.approx(nx.average_clustering(g), abs=1e-12)
    assert m["path_length"] == pytest.approx(nx.average_shortest_path_length(g), abs=1e-12)
    assert m["sigma"] > 1.0


def test_driven_neurons_recruit_their_neighbourhood_only_while_driven():
    net = SmallWorldNetwork.create_watts_strogatz(n=500, k=4, p=0.1, seed=3)
    engine = SimulationEngine(net, SimulationConfig(duration=400.0, seed=1, verbose=False),
                              RecordingConfig(variables=[]))
    engine.add_input_current(np.arange(10), 5.0, onset=0.0, duration=200.0)
    ds = engine.run().dataset
    t, i = ds.spike_time.values, ds.spike_neuron.values
    recruited = np.unique(i[i >= 10])
    assert recruited.size > 0                                   # activity spreads ...
    assert recruited.size < 100                                 # ... locally, no takeover
    assert not np.any(t > 250.0)                                # and stops with the input
    g = nx_graph_of(net)
    dist = nx.multi_source_dijkstra_path_length(g, set(range(10)))
    assert np.mean([dist[n] <= 2 for n in recruited.tolist()]) > 0.5


@pytest.mark.parametrize("kwargs, match", [
    ({"k": 3}, "must be even"),
    ({"p": 1.5}, "p"),
    ({"inhibitory_fraction": 1.0}, "inhibitory_fraction"),
    ({"weight_exc": -0.001}, "weight_exc"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SmallWorldNetwork.create_watts_strogatz(**{"n": 50, "k": 4, "p": 0.1, **kwargs})


def test_bad_cortical_arguments():
    with pytest.raises(ValueError, match="need more than k"):
        SmallWorldNetwork.create_cortical_module(n_neurons=10)
    with pytest.raises(ValueError, match="p_ie"):
        SmallWorldNetwork.create_cortical_module(p_ie=2.0)
