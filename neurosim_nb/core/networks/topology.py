r"""Small-world graphs and their metrics, with numpy and scipy.sparse.csgraph.

:func:`watts_strogatz` builds the Watts & Strogatz (1998) ring-lattice-with-rewiring graph
(the same procedure as :func:`networkx.watts_strogatz_graph`). The metrics treat a graph as
undirected and simple (edge directions, weights, duplicates and self-loops are ignored):

* :func:`clustering_coefficient` -- the mean over nodes of the local clustering
  :math:`C_i = 2T_i / (d_i(d_i - 1))` (:math:`T_i` triangles through node :math:`i`,
  :math:`d_i` its degree; 0 when :math:`d_i < 2`), as :func:`networkx.average_clustering`.
  Triangles are counted with one sparse product: :math:`2T_i = \sum_j A_{ij}(A^2)_{ij}`.
* :func:`characteristic_path_length` -- the mean shortest-path length :math:`L` between
  distinct nodes (a compiled breadth-first search from every node, O(n m); components
  from :mod:`scipy.sparse.csgraph`), as
  :func:`networkx.average_shortest_path_length` on a connected graph.
* :func:`small_world_sigma` -- :math:`\sigma = (C / C_{rand}) / (L / L_{rand})`
  (Humphries & Gurney 2008), against random graphs with the same number of nodes and edges.

A ring lattice in which every node joins its :math:`k` nearest neighbours has
:math:`C = 3(k - 2) / (4(k - 1))`; rewiring a small fraction of edges keeps :math:`C` high
while :math:`L` drops towards that of a random graph, so :math:`\sigma > 1`.

References
----------
Watts, D. J. & Strogatz, S. H. (1998). Collective dynamics of 'small-world' networks.
*Nature* 393, 440-442.
Humphries, M. D. & Gurney, K. (2008). Network 'small-world-ness': a quantitative method for
determining canonical network equivalence. *PLoS ONE* 3, e0002051.

Examples
--------
>>> rng = np.random.default_rng(1)
>>> pre, post = watts_strogatz(100, 6, 0.0, rng)
>>> pre.size // 2                                       # undirected edges: n k / 2
300
>>> A = undirected_adjacency(pre, post, 100)
>>> clustering_coefficient(A) == 3 * (6 - 2) / (4 * (6 - 1))
True
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike
from scipy.sparse.csgraph import connected_components

from neurosim_nb._jit import njit
from neurosim_nb.core.synapses.connectivity import _count, _generator, _probability, _synapses

__all__ = [
    "watts_strogatz",
    "gnm_random_graph",
    "degree_preserving_random_graph",
    "undirected_adjacency",
    "local_clustering",
    "clustering_coefficient",
    "characteristic_path_length",
    "small_world_sigma",
    "topology_metrics",
]

Null = Literal["erdos_renyi", "degree_preserving"]
Disconnected = Literal["largest", "pairs", "raise"]
_BLOCK = 1 << 22  # distance-matrix cells per block of BFS sources (~32 MB)


# -- graphs -------------------------------------------------------------------------------------
def _both_directions(u: np.ndarray, v: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    key = np.sort(np.concatenate([u * n + v, v * n + u]))
    return key // n, key % n


def watts_strogatz(n: int, k: int, p: float, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Watts-Strogatz small-world graph as an undirected edge list.

    Start from a ring of ``n`` nodes, each joined to its ``k`` nearest neighbours (``k / 2``
    on either side). Then, for ``j = 1 .. k/2`` and each node ``u`` in turn, the lattice
    edge ``(u, u + j)`` is rewired with probability ``p`` to ``(u, w)``, ``w`` uniform among
    the nodes that are neither ``u`` nor already joined to ``u`` (skipped if ``u`` is joined
    to every node). This is the procedure of Watts & Strogatz (1998) and
    :func:`networkx.watts_strogatz_graph`; the decisions are drawn vectorised, and only the
    rewired edges are visited one by one (each choice depends on the edges before it).

    Parameters
    ----------
    n : int
        Number of nodes (>= 1).
    k : int
        Even degree of the lattice, ``0 <= k < n``.
    p : float
        Rewiring probability in [0, 1].
    rng : numpy.random.Generator

    Returns
    -------
    pre_idx, post_idx : numpy.ndarray of int64, shape (n * k,)
        Each of the ``n * k / 2`` edges in both directions, sorted by pre then post; no
        self-loops, no duplicates.

    Examples
    --------
    >>> pre, post = watts_strogatz(6, 2, 0.0, np.random.default_rng(0))
    >>> pre.tolist(), post.tolist()
    ([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5], [1, 5, 0, 2, 1, 3, 2, 4, 3, 5, 0, 4])
    """
    n = _count("n", n)
    k = _count("k", k)
    p = _probability("p", p)
    rng = _generator(rng)
    if n < 1:
        raise ValueError("n = 0: a Watts-Strogatz graph needs at least one node")
    if k % 2 or k >= n:
        raise ValueError(f"k = {k} must be even and smaller than n = {n} (each node joins "
                         f"k/2 neighbours on either side of the ring)")
    half = k // 2
    u = np.tile(np.arange(n, dtype=np.int64), half)        # networkx order: j outer, u inner
    v = (u + np.repeat(np.arange(1, half + 1, dtype=np.int64), n)) % n
    rewired = np.flatnonzero(rng.random(u.size) < p)
    if rewired.size:
        v = _rewire(u, v, rewired, n, k, rng)
    return _both_directions(u, v, n)


def _rewire(u: np.ndarray, v: np.ndarray, rewired: np.ndarray, n: int, k: int, rng):
    us, vs = u.tolist(), v.tolist()
    edges = set(map(int, np.minimum(u, v) * n + np.maximum(u, v)))
    degree = [k] * n
    pool: list[int] = []
    pos = 0
    for e in rewired.tolist():
        a, b = us[e], vs[e]
        if degree[a] >= n - 1:
            continue
        while True:
            if pos == len(pool):  # candidate targets, drawn in blocks
                pool, pos = rng.integers(0, n, size=max(256, 2 * rewired.size)).tolist(), 0
            w = pool[pos]
            pos += 1
            if w != a and (min(a, w) * n + max(a, w)) not in edges:
                break
        edges.remove(min(a, b) * n + max(a, b))
        edges.add(min(a, w) * n + max(a, w))
        degree[b] -= 1
        degree[w] += 1
        vs[e] = w
    return np.asarray(vs, dtype=np.int64)


def gnm_random_graph(n: int, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Erdős-Rényi G(n, m) graph: ``m`` distinct edges uniform among all node pairs.

    Returns both directions of every edge, sorted (as :func:`watts_strogatz`).

    Examples
    --------
    >>> pre, post = gnm_random_graph(10, 12, np.random.default_rng(0))
    >>> pre.size, bool(np.all(pre != post))
    (24, True)
    """
    n, m = _count("n", n), _count("m", m)
    rng = _generator(rng)
    if m > n * (n - 1) // 2:
        raise ValueError(f"m = {m} edges exceeds the {n * (n - 1) // 2} node pairs of n = {n}")
    keys = np.empty(0, dtype=np.int64)
    while keys.size < m:  # iid uniform pairs; the first m distinct form a uniform m-subset
        size = int(1.1 * (m - keys.size)) + 16
        a, b = rng.integers(0, n, size=size), rng.integers(0, n, size=size)
        ok = a != b
        new = np.minimum(a, b)[ok] * n + np.maximum(a, b)[ok]
        cand = np.concatenate([keys, new])
        _, first = np.unique(cand, return_index=True)
        keys = cand[np.sort(first)][:m]
    return _both_directions(keys // n, keys % n, n)


def degree_preserving_random_graph(pre_idx: ArrayLike, post_idx: ArrayLike, n: int,
                                   rng: np.random.Generator, swaps_per_edge: float = 10.0
                                   ) -> tuple[np.ndarray, np.ndarray]:
    """Randomise an undirected graph keeping every node's degree (Maslov & Sneppen 2002).

    Double-edge swaps ``(a, b), (c, d) -> (a, d), (c, b)`` are proposed in vectorised rounds:
    each round pairs up all edges at random; a swap is rejected if it would create a
    self-loop or an edge that exists already or is proposed twice in the round. Rounds run
    until ``swaps_per_edge * n_edges`` swaps were proposed.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> pre, post = watts_strogatz(50, 4, 0.0, rng)
    >>> rpre, rpost = degree_preserving_random_graph(pre, post, 50, rng)
    >>> bool(np.all(np.bincount(rpre, minlength=50) == 4))
    True
    """
    A = undirected_adjacency(pre_idx, post_idx, n)
    rng = _generator(rng)
    upper = scipy.sparse.triu(A, k=1).tocoo()
    u, v = upper.row.astype(np.int64), upper.col.astype(np.int64)
    m = u.size
    if m < 2:
        return _both_directions(u, v, n)
    for _ in range(int(np.ceil(2 * swaps_per_edge))):
        perm = rng.permutation(m)
        e1, e2 = perm[: m // 2], perm[m // 2: 2 * (m // 2)]
        a, b, c, d = u[e1], v[e1], u[e2], v[e2]
        flip = rng.random(e2.size) < 0.5  # both ways of reconnecting the pair of edges
        c, d = np.where(flip, d, c), np.where(flip, c, d)
        new1 = np.minimum(a, d) * n + np.maximum(a, d)
        new2 = np.minimum(c, b) * n + np.maximum(c, b)
        current = np.sort(np.minimum(u, v) * n + np.maximum(u, v))
        proposed = np.concatenate([new1, new2])
        uniq, counts = np.unique(proposed, return_counts=True)
        twice = np.isin(proposed, uniq[counts > 1]).reshape(2, -1).any(axis=0)
        exists = np.isin(proposed, current, assume_unique=False).reshape(2, -1).any(axis=0)
        ok = (a != d) & (c != b) & ~twice & ~exists
        u[e1[ok]], v[e1[ok]] = a[ok], d[ok]
        u[e2[ok]], v[e2[ok]] = c[ok], b[ok]
    return _both_directions(u, v, n)


# -- metrics ------------------------------------------------------------------------------------
def undirected_adjacency(pre_idx: ArrayLike, post_idx: ArrayLike, n: int
                         ) -> scipy.sparse.csr_matrix:
    """Symmetric 0/1 adjacency (float64 CSR, no diagonal) of the undirected simple graph
    underlying an edge list.

    Examples
    --------
    >>> undirected_adjacency([0, 0, 1, 2], [1, 1, 0, 2], 3).toarray()
    array([[0., 1., 0.],
           [1., 0., 0.],
           [0., 0., 0.]])
    """
    n = _count("n", n)
    pre, post = _synapses(pre_idx, post_idx, n, n)
    return _symmetric(pre, post, n)


def _symmetric(row: np.ndarray, col: np.ndarray, n: int) -> scipy.sparse.csr_matrix:
    keep = row != col
    row, col = row[keep], col[keep]
    A = scipy.sparse.csr_matrix(
        (np.ones(2 * row.size), (np.concatenate([row, col]), np.concatenate([col, row]))),
        shape=(n, n))
    A.sum_duplicates()
    A.data[:] = 1.0
    return A


def _as_adjacency(adj) -> scipy.sparse.csr_matrix:
    if scipy.sparse.issparse(adj):
        m = adj.tocoo()
    else:
        dense = np.asarray(adj)
        if dense.ndim != 2:
            raise ValueError(f"adj must be a square adjacency matrix, got shape {dense.shape}")
        m = scipy.sparse.coo_matrix(dense)
    if m.shape[0] != m.shape[1]:
        raise ValueError(f"adj must be a square adjacency matrix, got shape {m.shape}")
    nonzero = m.data != 0
    return _symmetric(m.row[nonzero].astype(np.int64), m.col[nonzero].astype(np.int64),
                      m.shape[0])


def local_clustering(adj) -> np.ndarray:
    """Local clustering coefficient of every node (0 for degree < 2), as
    :func:`networkx.clustering`.

    Parameters
    ----------
    adj : scipy.sparse matrix or array_like, shape (n, n)
        Adjacency; treated as undirected and unweighted, self-loops ignored.

    Returns
    -------
    numpy.ndarray of float64, shape (n,)

    Examples
    --------
    >>> local_clustering(np.array([[0, 1, 1, 1], [1, 0, 1, 0], [1, 1, 0, 0], [1, 0, 0, 0]]))
    array([0.33333333, 1.        , 1.        , 0.        ])
    """
    A = _as_adjacency(adj)
    n = A.shape[0]
    degree = np.diff(A.indptr)
    closed = np.zeros(n)  # 2 x triangles through each node
    mean_deg = max(1.0, A.nnz / max(n, 1))
    rows = max(1, int(_BLOCK / (mean_deg * max(1, degree.max(initial=0)))))
    for start in range(0, n, rows):  # row blocks bound the size of the A^2 block
        block = A[start:start + rows]
        closed[start:start + rows] = np.asarray((block @ A).multiply(block).sum(axis=1)).ravel()
    denom = degree * (degree - 1.0)
    return np.divide(closed, denom, out=np.zeros(n), where=degree > 1)


def clustering_coefficient(adj) -> float:
    """Average local clustering coefficient, nodes of degree < 2 counting 0.

    Equals :func:`networkx.average_clustering` of the same undirected graph.

    Parameters
    ----------
    adj : scipy.sparse matrix or array_like, shape (n, n)
        Adjacency; treated as undirected and unweighted, self-loops ignored.

    Examples
    --------
    >>> clustering_coefficient(np.ones((4, 4)))            # complete graph
    1.0
    """
    c = local_clustering(adj)
    if c.size == 0:
        raise ValueError("the clustering coefficient of a graph without nodes is undefined")
    return float(c.mean())


@njit(cache=True)
def _bfs_distance_sums(indptr, indices):  # pragma: no cover - compiled
    """Breadth-first search from every node: (sum of distances, number of ordered pairs
    i != j joined by a path). Integer sums, so the mean is exact to one rounding."""
    n = indptr.size - 1
    dist = np.empty(n, np.int64)
    queue = np.empty(n, np.int64)
    total = 0
    pairs = 0
    for source in range(n):
        dist[:] = -1
        dist[source] = 0
        queue[0] = source
        head, tail = 0, 1
        while head < tail:
            v = queue[head]
            head += 1
            step = dist[v] + 1
            for e in range(indptr[v], indptr[v + 1]):
                w = indices[e]
                if dist[w] < 0:
                    dist[w] = step
                    total += step
                    queue[tail] = w
                    tail += 1
        pairs += tail - 1
    return total, pairs


def characteristic_path_length(adj, disconnected: Disconnected = "largest") -> float:
    """Mean shortest-path length between distinct nodes (in edges).

    Parameters
    ----------
    adj : scipy.sparse matrix or array_like, shape (n, n)
        Adjacency; treated as undirected and unweighted, self-loops ignored.
    disconnected : {"largest", "pairs", "raise"}
        For a disconnected graph: average over the largest connected component (default;
        the lowest-numbered one on a tie), over all connected pairs, or raise. On a connected
        graph all three equal :func:`networkx.average_shortest_path_length`.

    Returns
    -------
    float
        0.0 for a graph (component) of one node.

    Raises
    ------
    ValueError
        No nodes; no edges between ``n > 1`` nodes; a disconnected graph with
        ``disconnected="raise"``.

    Examples
    --------
    >>> path = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])   # 0 - 1 - 2
    >>> characteristic_path_length(path)                     # (1 + 2 + 1) * 2 / 6
    1.3333333333333333
    """
    if disconnected not in ("largest", "pairs", "raise"):
        raise ValueError(f"disconnected = {disconnected!r} is not one of 'largest', 'pairs', "
                         f"'raise'")
    A = _as_adjacency(adj)
    n = A.shape[0]
    if n == 0:
        raise ValueError("the path length of a graph without nodes is undefined")
    if n == 1:
        return 0.0
    if A.nnz == 0:
        raise ValueError(f"the graph of {n} nodes has no edges; its path length is undefined")
    n_comp, labels = connected_components(A, directed=False)
    if n_comp > 1:
        if disconnected == "raise":
            raise ValueError(f"the graph is disconnected ({n_comp} components); pass "
                             f"disconnected='largest' or 'pairs'")
        if disconnected == "largest":
            idx = np.flatnonzero(labels == np.argmax(np.bincount(labels)))
            A = A[idx][:, idx]
    total, pairs = _bfs_distance_sums(A.indptr.astype(np.int64), A.indices.astype(np.int64))
    return int(total) / int(pairs) if pairs else 0.0


def _random_reference(A: scipy.sparse.csr_matrix, rng, n_random: int, null: Null,
                      disconnected: Disconnected) -> tuple[float, float]:
    n = A.shape[0]
    upper = scipy.sparse.triu(A, k=1).tocoo()
    c_rand, l_rand = [], []
    for _ in range(n_random):
        if null == "erdos_renyi":
            pre, post = gnm_random_graph(n, upper.nnz, rng)
        else:
            pre, post = degree_preserving_random_graph(upper.row, upper.col, n, rng)
        R = _symmetric(pre, post, n)
        c_rand.append(clustering_coefficient(R))
        l_rand.append(characteristic_path_length(R, disconnected))
    return float(np.mean(c_rand)), float(np.mean(l_rand))


def _check_null(null: str, n_random: int) -> int:
    if null not in ("erdos_renyi", "degree_preserving"):
        raise ValueError(f"null = {null!r} is not one of 'erdos_renyi', 'degree_preserving'")
    n_random = _count("n_random", n_random)
    if n_random < 1:
        raise ValueError("n_random = 0: at least one random reference graph is needed")
    return n_random


def _sigma(c, path, c_rand, l_rand) -> float:
    if c_rand == 0 or path == 0:
        raise ValueError(f"sigma is undefined: random-graph clustering {c_rand:g}, path "
                         f"length {path:g} (graph too small or too sparse?)")
    return (c / c_rand) / (path / l_rand)


def small_world_sigma(adj, rng: np.random.Generator, n_random: int = 5,
                      null: Null = "erdos_renyi", disconnected: Disconnected = "largest"
                      ) -> float:
    r"""Small-world coefficient :math:`\sigma = (C / C_{rand}) / (L / L_{rand})`.

    :math:`C_{rand}` and :math:`L_{rand}` are averaged over ``n_random`` random graphs with
    the same number of nodes and edges: Erdős-Rényi G(n, m) graphs (default, the reference
    of Humphries & Gurney 2008, for which :math:`C_{rand} \approx \langle k \rangle / n`) or,
    with ``null="degree_preserving"``, degree-preserving randomisations of the graph (the
    reference of :func:`networkx.sigma`). Path lengths follow ``disconnected`` (see
    :func:`characteristic_path_length`). :math:`\sigma > 1` marks a small world;
    a random graph gives :math:`\sigma \approx 1`.

    Parameters
    ----------
    adj : scipy.sparse matrix or array_like, shape (n, n)
    rng : numpy.random.Generator
    n_random : int
        Number of random reference graphs (default 5).
    null : {"erdos_renyi", "degree_preserving"}
    disconnected : {"largest", "pairs", "raise"}

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> A = undirected_adjacency(*watts_strogatz(500, 10, 0.1, rng), 500)
    >>> small_world_sigma(A, rng) > 3
    True
    """
    n_random = _check_null(null, n_random)
    rng = _generator(rng)
    A = _as_adjacency(adj)
    c_rand, l_rand = _random_reference(A, rng, n_random, null, disconnected)
    return _sigma(clustering_coefficient(A), characteristic_path_length(A, disconnected),
                  c_rand, l_rand)


def topology_metrics(pre_idx: ArrayLike, post_idx: ArrayLike, n: int,
                     rng: np.random.Generator, *, n_random: int = 5,
                     null: Null = "erdos_renyi", disconnected: Disconnected = "largest"
                     ) -> dict[str, float]:
    """Small-world summary of the undirected graph underlying an edge list.

    Parameters
    ----------
    pre_idx, post_idx : array_like of int
        Edges (directions, duplicates and self-loops are ignored).
    n : int
        Number of nodes.
    rng : numpy.random.Generator
        For the random reference graphs of ``sigma``.
    n_random, null, disconnected
        As in :func:`small_world_sigma`.

    Returns
    -------
    dict
        ``n_nodes``, ``n_edges`` (undirected), ``mean_degree`` (``2 n_edges / n``),
        ``clustering``, ``path_length``, ``clustering_random``, ``path_length_random``,
        ``sigma``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> m = topology_metrics(*watts_strogatz(200, 8, 0.0, rng), 200, rng)
    >>> m["n_edges"], m["mean_degree"], round(m["clustering"], 4)
    (800, 8.0, 0.6429)
    """
    n = _count("n", n)
    n_random = _check_null(null, n_random)
    rng = _generator(rng)
    A = undirected_adjacency(pre_idx, post_idx, n)
    c = clustering_coefficient(A)
    path = characteristic_path_length(A, disconnected)
    c_rand, l_rand = _random_reference(A, rng, n_random, null, disconnected)
    n_edges = A.nnz // 2
    return {
        "n_nodes": n,
        "n_edges": int(n_edges),
        "mean_degree": 2.0 * n_edges / n,
        "clustering": c,
        "path_length": path,
        "clustering_random": c_rand,
        "path_length_random": l_rand,
        "sigma": _sigma(c, path, c_rand, l_rand),
    }
