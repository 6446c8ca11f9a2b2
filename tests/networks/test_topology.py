"""Small-world graphs and metrics against networkx (the independent reference).

Metrics are deterministic functions of a graph, so they must equal networkx's on the same
graph to round-off (1e-12). The generator is random, so it is compared with
networkx.watts_strogatz_graph through exact invariants (edge count, mean and minimum degree,
simplicity) and through seed-averaged statistics with stated tolerances.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse

from neurosim_nb.core.networks.topology import (
    characteristic_path_length,
    clustering_coefficient,
    degree_preserving_random_graph,
    gnm_random_graph,
    local_clustering,
    small_world_sigma,
    topology_metrics,
    undirected_adjacency,
    watts_strogatz,
)

CASES = [(60, 4, 0.0), (100, 6, 0.0), (200, 6, 0.05), (300, 10, 0.1), (250, 8, 0.5),
         (120, 4, 1.0), (41, 40, 0.3)]


def nx_graph(pre, post, n):
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(pre.tolist(), post.tolist(), strict=True))
    return g


def simple_undirected(pre, post, n):
    key = pre * n + post
    assert np.all(np.diff(key) > 0), "edges not sorted or duplicated"
    assert not np.any(pre == post), "self-loop"
    # both directions present: the reversed key set equals the key set
    np.testing.assert_array_equal(np.sort(post * n + pre), key)


# -- generator ------------------------------------------------------------------------------------
@pytest.mark.parametrize("n,k,p", CASES)
def test_watts_strogatz_exact_invariants(n, k, p):
    pre, post = watts_strogatz(n, k, p, np.random.default_rng(n))
    assert pre.dtype == np.int64 and post.dtype == np.int64
    simple_undirected(pre, post, n)
    assert pre.size == n * k  # n k / 2 undirected edges, each listed in both directions
    degree = np.bincount(pre, minlength=n)
    assert degree.mean() == k
    # every node keeps the k/2 edges it rewires from (only their far ends move)
    assert degree.min() >= k // 2


def test_watts_strogatz_lattice_is_exact():
    n, k = 10, 4
    pre, post = watts_strogatz(n, k, 0.0, np.random.default_rng(0))
    ref = nx.watts_strogatz_graph(n, k, 0.0)
    assert set(zip(pre.tolist(), post.tolist(), strict=True)) == \
        {e for u, v in ref.edges for e in ((u, v), (v, u))}


def test_watts_strogatz_deterministic():
    a = watts_strogatz(500, 10, 0.2, np.random.default_rng(3))
    b = watts_strogatz(500, 10, 0.2, np.random.default_rng(3))
    c = watts_strogatz(500, 10, 0.2, np.random.default_rng(4))
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_watts_strogatz_statistics_match_networkx(p):
    # Over 5 seeds at n = 1000, k = 10 the per-graph SD of the clustering is ~0.008 (p = 0.1)
    # and ~0.004 (p = 0.5), of the degree variance ~0.07 and ~0.2 (measured for both
    # generators), so the SE of the difference of the two 5-seed means is <= 0.005 and
    # <= 0.13; tolerances 0.02 and 0.5 are ~4 SE.
    n, k = 1000, 10
    ours, theirs = [], []
    for seed in range(5):
        pre, post = watts_strogatz(n, k, p, np.random.default_rng(seed))
        A = undirected_adjacency(pre, post, n)
        ours.append((clustering_coefficient(A), np.var(np.diff(A.indptr))))
        g = nx.watts_strogatz_graph(n, k, p, seed=seed)
        theirs.append((nx.average_clustering(g), np.var([d for _, d in g.degree()])))
    (c_ours, v_ours), (c_nx, v_nx) = np.mean(ours, axis=0), np.mean(theirs, axis=0)
    assert c_ours == pytest.approx(c_nx, abs=0.02)
    assert v_ours == pytest.approx(v_nx, abs=0.5)
    if p == 0.1:  # mean-field C(p) = C(0) (1 - p)^3 (Barrat & Weigt 2000), ~1.5 % high here
        assert c_ours == pytest.approx(2 / 3 * 0.9**3, rel=0.05)


# -- metrics vs networkx ---------------------------------------------------------------------------
@pytest.mark.parametrize("n,k,p", CASES)
def test_metrics_equal_networkx(n, k, p):
    pre, post = watts_strogatz(n, k, p, np.random.default_rng(100 + n))
    g = nx_graph(pre, post, n)
    A = undirected_adjacency(pre, post, n)
    local = nx.clustering(g)
    np.testing.assert_allclose(local_clustering(A), [local[i] for i in range(n)],
                               rtol=0, atol=1e-12)
    assert clustering_coefficient(A) == pytest.approx(nx.average_clustering(g), abs=1e-12)
    assert nx.is_connected(g)
    assert characteristic_path_length(A) == pytest.approx(
        nx.average_shortest_path_length(g), abs=1e-12)


@pytest.mark.parametrize("k", [2, 4, 6, 10, 20])
def test_lattice_clustering_closed_form(k):
    pre, post = watts_strogatz(200, k, 0.0, np.random.default_rng(0))
    assert clustering_coefficient(undirected_adjacency(pre, post, 200)) == \
        pytest.approx(3 * (k - 2) / (4 * (k - 1)), abs=1e-12)


def test_metrics_accept_dense_directed_and_self_loops():
    # A directed dense matrix with a self-loop and weights: the metrics see the underlying
    # simple undirected graph, as networkx does after to_undirected() (self-loops ignored).
    rng = np.random.default_rng(1)
    M = (rng.random((40, 40)) < 0.12) * rng.uniform(0.5, 2.0, (40, 40))
    M[3, 3] = 1.0
    g = nx.from_numpy_array(M, create_using=nx.DiGraph).to_undirected()
    g.remove_edges_from(nx.selfloop_edges(g))
    gc = g.subgraph(max(nx.connected_components(g), key=len))
    assert clustering_coefficient(M) == pytest.approx(nx.average_clustering(g), abs=1e-12)
    assert clustering_coefficient(scipy.sparse.csr_matrix(M)) == clustering_coefficient(M)
    assert characteristic_path_length(M) == pytest.approx(
        nx.average_shortest_path_length(gc), abs=1e-12)


def test_path_length_disconnected_modes():
    # a 5-path and a triangle: largest component = the path; pairs = both components
    pre = np.array([0, 1, 2, 3, 5, 6, 7])
    post = np.array([1, 2, 3, 4, 6, 7, 5])
    A = undirected_adjacency(pre, post, 9)                 # node 8 is isolated
    g = nx_graph(pre, post, 9)
    path = nx.average_shortest_path_length(g.subgraph(range(5)))
    assert characteristic_path_length(A) == pytest.approx(path, abs=1e-12)
    lengths = [d for s, row in nx.all_pairs_shortest_path_length(g) for t, d in row.items()
               if s != t]
    assert characteristic_path_length(A, "pairs") == pytest.approx(np.mean(lengths), abs=1e-12)
    with pytest.raises(ValueError, match="disconnected \\(3 components\\)"):
        characteristic_path_length(A, "raise")


def test_metric_edge_cases_and_errors():
    assert characteristic_path_length(np.zeros((1, 1))) == 0.0
    assert clustering_coefficient(np.zeros((3, 3))) == 0.0
    with pytest.raises(ValueError, match="has no edges"):
        characteristic_path_length(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="without nodes"):
        characteristic_path_length(np.zeros((0, 0)))
    with pytest.raises(ValueError, match=r"square adjacency matrix, got shape \(2, 3\)"):
        clustering_coefficient(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="disconnected = 'all' is not one of"):
        characteristic_path_length(np.ones((3, 3)), "all")


# -- random references and sigma -------------------------------------------------------------------
def test_gnm_random_graph():
    pre, post = gnm_random_graph(200, 900, np.random.default_rng(0))
    simple_undirected(pre, post, 200)
    assert pre.size == 1800
    pre, post = gnm_random_graph(6, 15, np.random.default_rng(0))   # complete graph
    assert pre.size == 30
    with pytest.raises(ValueError, match="m = 16 edges exceeds the 15 node pairs"):
        gnm_random_graph(6, 16, np.random.default_rng(0))


def test_degree_preserving_random_graph():
    rng = np.random.default_rng(2)
    pre, post = watts_strogatz(300, 8, 0.0, rng)
    rpre, rpost = degree_preserving_random_graph(pre, post, 300, rng)
    simple_undirected(rpre, rpost, 300)
    np.testing.assert_array_equal(np.bincount(rpre, minlength=300), np.full(300, 8))
    # the lattice structure is destroyed: clustering drops from 0.64 to ~k/n
    assert clustering_coefficient(undirected_adjacency(rpre, rpost, 300)) < 0.1


@pytest.mark.parametrize("null", ["erdos_renyi", "degree_preserving"])
def test_sigma_small_world_and_random(null):
    rng = np.random.default_rng(5)
    n, k = 500, 10
    small = undirected_adjacency(*watts_strogatz(n, k, 0.1, rng), n)
    rand = undirected_adjacency(*watts_strogatz(n, k, 1.0, rng), n)
    # p = 0.1: C ~ 0.49 vs C_rand ~ 0.02 with L ~ 1.3 L_rand -> sigma ~ 20; p = 1: the graph
    # is itself random-like, so sigma ~ 1 (C fluctuates by ~+-20 % at n = 500).
    assert small_world_sigma(small, rng, null=null) > 5
    assert 0.6 < small_world_sigma(rand, rng, null=null) < 1.5


def test_topology_metrics_dict():
    n, k = 1000, 10
    rng = np.random.default_rng(7)
    pre, post = watts_strogatz(n, k, 0.1, rng)
    m = topology_metrics(pre, post, n, np.random.default_rng(8))
    assert set(m) == {"n_nodes", "n_edges", "mean_degree", "clustering", "path_length",
                      "clustering_random", "path_length_random", "sigma"}
    assert m["n_nodes"] == n and m["n_edges"] == n * k // 2 and m["mean_degree"] == k
    g = nx_graph(pre, post, n)
    assert m["clustering"] == pytest.approx(nx.average_clustering(g), abs=1e-12)
    assert m["path_length"] == pytest.approx(nx.average_shortest_path_length(g), abs=1e-12)
    # ER reference: C_rand ~ <k>/n = 0.01, L_rand ~ ln n / ln <k> ~ 3 (Newman 2003)
    assert m["clustering_random"] == pytest.approx(k / n, rel=0.3)
    assert 2.5 < m["path_length_random"] < 3.5
    assert m["sigma"] == pytest.approx((m["clustering"] / m["clustering_random"])
                                       / (m["path_length"] / m["path_length_random"]))
    assert topology_metrics(pre, post, n, np.random.default_rng(8)) == m  # same seed, same


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize("n,k,p,match", [
    (10, 3, 0.1, r"k = 3 must be even and smaller than n = 10"),
    (10, 10, 0.1, r"k = 10 must be even and smaller than n = 10"),
    (10, 4, 1.2, r"p = 1.2 is outside the allowed range \[0, 1\]"),
    (10, -2, 0.1, r"k = -2 must be a non-negative integer"),
    (0, 0, 0.1, r"at least one node"),
])
def test_watts_strogatz_bad_input(n, k, p, match):
    with pytest.raises(ValueError, match=match):
        watts_strogatz(n, k, p, np.random.default_rng(0))


def test_sigma_bad_input():
    A = np.ones((5, 5))
    with pytest.raises(ValueError, match="null = 'lattice' is not one of"):
        small_world_sigma(A, np.random.default_rng(0), null="lattice")
    with pytest.raises(ValueError, match="n_random = 0"):
        small_world_sigma(A, np.random.default_rng(0), n_random=0)
    with pytest.raises(ValueError, match=r"post_idx holds indices outside \[0, 4\]"):
        topology_metrics([0], [5], 5, np.random.default_rng(0))
