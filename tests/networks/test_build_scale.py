"""Network construction at scale: compact storage, bounded temporaries, exact statistics.

Storage is checked exactly (dtypes, bytes per synapse); memory through ``tracemalloc``
(numpy reports its buffers to it), so the bound does not depend on the machine. The
statistical checks compare with independent references -- binomial and hypergeometric
moments from ``scipy.stats`` and counts from a ``networkx`` graph -- at 4 standard errors
(fixed seeds: deterministic, and a correct sampler fails with probability ~6e-5).
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from scipy import stats

from neurosim_nb.core.networks.benchmarks_models import brunel_network, coba_network
from neurosim_nb.core.networks.network import Network, Projection
from neurosim_nb.core.neurons.lif import LIFNeuron
from neurosim_nb.core.synapses import connectivity as cx
from neurosim_nb.core.synapses.receptors import get_receptor

#: state bytes per synapse with float64 weights: int32 target + float64 weight + delay steps
MAX_BYTES_PER_SYNAPSE = 16


def _prepared(net: Network) -> Network:
    for p in net.projections:
        p.prepare(0.1)
    return net


@pytest.mark.parametrize("build", [
    lambda: brunel_network(scale=0.25, seed=3),          # fixed in-degree, 3.9 M synapses
    lambda: coba_network(4000, seed=3),                 # fixed probability, ~320 k synapses
], ids=["brunel", "coba"])
def test_bytes_per_synapse_within_bound(build):
    net = _prepared(build())
    n_syn = sum(p.n_synapses for p in net.projections)
    n_bytes = sum(p.nbytes for p in net.projections)
    assert n_bytes / n_syn <= MAX_BYTES_PER_SYNAPSE, n_bytes / n_syn
    for p in net.projections:
        assert p.post_idx.dtype == np.int32 and p.weight.dtype == np.float64
        assert p.indptr.dtype == np.int64 and p.indptr.shape == (p.n_pre + 1,)
        assert isinstance(p._delay_ms, float)           # a uniform delay is stored once
        assert p.delay_steps.dtype == np.uint8
        # exact accounting: indptr + 4 B target + 8 B weight + 1 B delay per synapse
        assert p.nbytes == 8 * (p.n_pre + 1) + 13 * p.n_synapses


def test_build_peak_memory_is_storage_plus_bounded_temporaries():
    """The only per-synapse temporary of a fixed in-degree build is the 4-byte-per-synapse
    by-post list of the projection being built (no int64 index pairs, no sort order)."""
    tracemalloc.start()
    try:
        net = brunel_network(scale=0.25, seed=4)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    stored = sum(p.nbytes for p in net.projections)
    largest = max(p.n_synapses for p in net.projections)
    assert peak <= stored + 4 * largest + (16 << 20), (peak, stored)


def test_network_connect_stores_the_rule_synapses():
    """``Network.connect`` stores exactly what ``connect`` draws from the same generator."""
    net = Network(seed=9)
    net.add_population("a", LIFNeuron.create_excitatory(n=300))
    net.add_population("b", LIFNeuron.create_excitatory(n=200))
    rules = [("a", "a", "fixed_indegree", {"k": 30}), ("a", "b", "fixed_probability", {"p": 0.1}),
             ("b", "a", "fixed_outdegree", {"k": 40}), ("b", "b", "all_to_all", {})]
    rng = np.random.default_rng(9)
    for pre, post, rule, kw in rules:
        proj = net.connect(pre, post, rule, weight=0.5, delay_ms=1.0, **kw)
        n_pre, n_post = net.populations[pre].n, net.populations[post].n
        ref_pre, ref_post = cx.connect(rule, n_pre, n_post, rng, autapses=False,
                                       same_population=pre == post, **kw)
        cx.weights(0.5, ref_pre.size, rng)              # keep the generators in step
        np.testing.assert_array_equal(proj.pre_idx, ref_pre)
        np.testing.assert_array_equal(proj.post_idx, ref_post)
        assert np.all(proj.weight == 0.5) and np.all(proj.delay_ms == 1.0)


def test_same_seed_same_network():
    a, b = brunel_network(scale=0.25, seed=5), brunel_network(scale=0.25, seed=5)
    c = brunel_network(scale=0.25, seed=6)
    for pa, pb, pc in zip(a.projections, b.projections, c.projections, strict=True):
        np.testing.assert_array_equal(pa.indptr, pb.indptr)
        np.testing.assert_array_equal(pa.post_idx, pb.post_idx)
        assert not np.array_equal(pa.post_idx, pc.post_idx)
    for name in a.populations:
        np.testing.assert_array_equal(a.populations[name].V, b.populations[name].V)


def test_from_csr_checks_and_keeps_arrays():
    indptr = np.array([0, 2, 3], np.int64)
    post = np.array([0, 2, 1], np.int32)
    w = np.array([0.1, 0.2, 0.3])
    proj = Projection.from_csr("p", "x", "y", get_receptor("delta"), indptr, post, w, 1.0, 2, 3)
    assert proj.post_idx is post and proj.weight is w            # no copies
    assert proj.pre_idx.tolist() == [0, 0, 1] and proj.delay_ms.tolist() == [1.0] * 3
    with pytest.raises(ValueError, match="inconsistent CSR"):
        Projection.from_csr("p", "x", "y", get_receptor("delta"), indptr[:2], post, w, 1.0,
                            2, 3)


def test_connect_validates_weights_and_delays():
    net = Network(seed=1)
    net.add_population("a", LIFNeuron.create_excitatory(n=20))
    with pytest.raises(ValueError, match="delay_ms contains NaN"):
        net.connect("a", "a", "fixed_indegree", k=2, delay_ms=float("nan"))
    with pytest.raises(ValueError, match="delays must be finite and >= 0"):
        net.connect("a", "a", "fixed_indegree", k=2, delay_ms=-1.0)
    with pytest.raises(ValueError, match=">= 0 uS"):
        net.connect("a", "a", "fixed_indegree", k=2, weight=-0.1, receptor="AMPA")
    assert not net.projections


# -- sampler statistics against independent references ----------------------------------------
def test_fixed_indegree_shared_inputs_hypergeometric():
    """Two posts' input sets are independent uniform K-subsets of N: their overlap is
    Hypergeometric(N, K, K). Disjoint post pairs give independent overlaps."""
    n_pre, n_post, k = 1000, 8000, 100
    pre, post = cx.connect("fixed_indegree", n_pre, n_post, np.random.default_rng(21), k=k,
                           same_population=False, autapses=False)
    rows = np.zeros((n_post, n_pre), bool)
    rows[post, pre] = True
    overlap = (rows[0::2] & rows[1::2]).sum(axis=1)
    ref = stats.hypergeom(n_pre, k, k)
    se_mean = np.sqrt(ref.var() / overlap.size)
    assert abs(overlap.mean() - ref.mean()) < 4 * se_mean
    # sample variance: SE from the fourth central moment of the hypergeometric law
    m4 = ref.expect(lambda x: (x - ref.mean()) ** 4)
    se_var = np.sqrt((m4 - ref.var() ** 2) / overlap.size)
    assert abs(overlap.var(ddof=1) - ref.var()) < 4 * se_var


@pytest.mark.parametrize("autapses", [True, False])
def test_fixed_indegree_out_degrees_binomial(autapses):
    """Each post includes a given pre independently with probability k / m, so out-degrees
    are Binomial(n_post', k / m) (m = n - 1 and n_post' = n - 1 without autapses)."""
    n, k = 3000, 150
    pre, post = cx.connect("fixed_indegree", n, n, np.random.default_rng(22), k=k,
                           autapses=autapses)
    m = n if autapses else n - 1
    ref = stats.binom(m, k / m)
    out_deg = np.bincount(pre, minlength=n)
    assert abs(out_deg.mean() - ref.mean()) < 1e-9            # exact: n k synapses
    chi2 = np.sum((out_deg - ref.mean()) ** 2) / ref.var()     # ~ chi^2(n - 1)
    assert abs(chi2 - (n - 1)) < 4 * np.sqrt(2 * (n - 1))


@pytest.mark.parametrize("p", [0.2, 0.8])  # sparse rows (sorted) and dense rows (scanned)
@pytest.mark.parametrize("autapses", [True, False])
def test_fixed_probability_every_pair_bernoulli(p, autapses):
    """Pair (i, j) is hit in ~Binomial(reps, p) of independent draws (0 on the diagonal
    without autapses): checks the binomial row counts and the subset/diagonal mapping."""
    n, reps = 6, 3000
    g = np.random.default_rng(23)
    hits = np.zeros((n, n))
    for _ in range(reps):
        pre, post = cx.connect("fixed_probability", n, n, g, p=p, autapses=autapses)
        hits[pre, post] += 1
    if not autapses:
        assert np.all(np.diag(hits) == 0)
        hits = hits[~np.eye(n, dtype=bool)]
    ref = stats.binom(reps, p)
    assert np.all(np.abs(hits - ref.mean()) < 4 * ref.std())


def test_fixed_indegree_without_autapses_subsets_uniform():
    """Without autapses each post's k inputs are a uniform k-subset of the other n - 1."""
    n, k, reps = 4, 2, 3000
    g = np.random.default_rng(24)
    subsets = {j: list(itertools.combinations([i for i in range(n) if i != j], k))
               for j in range(n)}
    counts = {(j, s): 0 for j in range(n) for s in subsets[j]}
    for _ in range(reps):
        pre, post = cx.connect("fixed_indegree", n, n, g, k=k, autapses=False)
        for j in range(n):
            counts[j, tuple(sorted(pre[post == j].tolist()))] += 1
    ref = stats.binom(reps, 1 / len(subsets[0]))
    assert sum(counts.values()) == n * reps
    assert all(abs(c - ref.mean()) < 4 * ref.std() for c in counts.values())


def test_graph_degrees_match_networkx():
    """Degrees and reciprocal pairs of a built network, recounted by networkx."""
    nx = pytest.importorskip("networkx")
    net = Network(seed=25)
    net.add_population("a", LIFNeuron.create_excitatory(n=400))
    proj = net.connect("a", "a", "fixed_indegree", k=40)
    g = nx.DiGraph()
    g.add_nodes_from(range(400))
    g.add_edges_from(zip(proj.pre_idx.tolist(), proj.post_idx.tolist(), strict=True))
    assert g.number_of_edges() == proj.n_synapses == 400 * 40      # no multapses
    assert nx.number_of_selfloops(g) == 0                          # no autapses
    assert all(d == 40 for _, d in g.in_degree())
    np.testing.assert_array_equal([d for _, d in g.out_degree()],
                                  np.bincount(proj.pre_idx, minlength=400))
    # reciprocal pairs: each ordered pair is present with probability k / (n - 1) = q, nearly
    # independently, so the number of mutual pairs is ~ C(n, 2) q^2
    q, pairs = 40 / 399, 400 * 399 / 2
    mutual = sum(1 for u, v in g.edges() if u < v and g.has_edge(v, u))
    assert abs(mutual - pairs * q * q) < 4 * np.sqrt(pairs * q * q * (1 - q * q))


# -- import cost ---------------------------------------------------------------------------------
def test_building_and_running_imports_no_optional_scipy():
    """Building and running a benchmark network needs numpy, numba and xarray, not
    scipy.signal / optimize / integrate / sparse (slow imports), nor Dask: xarray would
    import dask.array (and with it scipy.sparse) at the first Dataset whenever Dask is
    installed, as it is with the "research" extra, were it not deferred
    (neurosim_nb._lazy.defer_dask_in_xarray)."""
    code = ("import sys\n"
            "from neurosim_nb.core.networks.benchmarks_models import brunel_network\n"
            "net = brunel_network(n_exc=400, n_inh=100, seed=1)\n"
            "net.simulate(5.0, record=(), seed=1, verbose=False)\n"
            "heavy = ('scipy.signal', 'scipy.optimize', 'scipy.integrate', 'scipy.sparse',\n"
            "         'scipy.stats', 'dask', 'dask.array')\n"
            "print(sorted(m for m in heavy if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
