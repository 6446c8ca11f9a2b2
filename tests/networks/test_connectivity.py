"""Connection rules against exact expectations; CSR packing, weights, delays, matrices.

Statistical checks use fixed seeds, so they are deterministic; the tolerances are still
chosen so that a correct sampler would fail them with negligible probability (4 standard
deviations: two-sided p ~ 6e-5), while the exact properties (degrees, sizes, sorting,
uniqueness) are asserted exactly.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse

from neurosim_nb.core.synapses.connectivity import (
    RULES,
    connect,
    connectivity_matrix,
    delay_steps,
    delays,
    to_csr,
    weights,
)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def assert_sorted_unique(pre, post, n_post):
    assert pre.dtype == np.int64 and post.dtype == np.int64
    key = pre * n_post + post
    assert np.all(np.diff(key) > 0), "synapses not sorted by (pre, post) or duplicated"


# -- deterministic rules --------------------------------------------------------------------------
def test_all_to_all_every_pair_once():
    pre, post = connect("all_to_all", 4, 3, rng())
    pairs = list(zip(pre.tolist(), post.tolist(), strict=True))
    assert pairs == list(itertools.product(range(4), range(3)))


def test_all_to_all_without_autapses():
    pre, post = connect("all_to_all", 5, 5, rng(), autapses=False)
    assert pre.size == 5 * 4 and not np.any(pre == post)
    assert_sorted_unique(pre, post, 5)


def test_autapses_irrelevant_for_two_populations():
    pre, post = connect("all_to_all", 3, 3, rng(), autapses=False, same_population=False)
    assert pre.size == 9


def test_one_to_one_exact():
    pre, post = connect("one_to_one", 7, 7, rng())
    np.testing.assert_array_equal(pre, np.arange(7))
    np.testing.assert_array_equal(post, np.arange(7))


# -- fixed_probability -----------------------------------------------------------------------------
def binomial_z(count, n, p):
    return (count - n * p) / np.sqrt(n * p * (1 - p))


@pytest.mark.parametrize("autapses", [True, False])
def test_fixed_probability_statistics(autapses):
    n, p = 2000, 0.05
    pre, post = connect("fixed_probability", n, n, rng(1), p=p, autapses=autapses)
    assert_sorted_unique(pre, post, n)
    n_pairs = n * n if autapses else n * (n - 1)
    # Total count ~ Binomial(n_pairs, p): within 4 SD.
    assert abs(binomial_z(pre.size, n_pairs, p)) < 4
    if not autapses:
        assert not np.any(pre == post)
    # Out-degrees ~ Binomial(n, p) iid: their sample variance has relative SE
    # sqrt(2 / (n - 1)) ~ 3.2 %, so 15 % is ~4.7 SE.
    out_deg = np.bincount(pre, minlength=n)
    assert np.var(out_deg, ddof=1) == pytest.approx(n * p * (1 - p), rel=0.15)
    # In-degrees: chi^2 = sum (c - E)^2 / Var over n posts ~ chi^2(n): mean n, SD sqrt(2n).
    in_deg = np.bincount(post, minlength=n)
    chi2 = np.sum((in_deg - in_deg.mean()) ** 2) / (n * p * (1 - p))
    assert abs(chi2 - n) < 4 * np.sqrt(2 * n)


def test_fixed_probability_edge_probabilities():
    pre, post = connect("fixed_probability", 30, 40, rng(), p=0.0)
    assert pre.size == 0 and post.size == 0
    pre, post = connect("fixed_probability", 30, 40, rng(), p=1.0)
    ref_pre, ref_post = connect("all_to_all", 30, 40, rng())
    np.testing.assert_array_equal(pre, ref_pre)
    np.testing.assert_array_equal(post, ref_post)
    pre, _ = connect("fixed_probability", 30, 30, rng(), p=1.0, autapses=False)
    assert pre.size == 30 * 29


def test_fixed_probability_pair_frequency_uniform():
    # 400 draws of a 3 x 4 projection at p = 0.3: every pair's hit count ~ Binomial(400, 0.3)
    counts = np.zeros((3, 4))
    g = rng(5)
    for _ in range(400):
        pre, post = connect("fixed_probability", 3, 4, g, p=0.3)
        np.add.at(counts, (pre, post), 1)
    assert np.all(np.abs(binomial_z(counts, 400, 0.3)) < 4)


def test_fixed_probability_12500_squared():
    """Brunel-size projection (15.6 M synapses; ~1 s): counts only, no timing."""
    n, p = 12_500, 0.1
    pre, post = connect("fixed_probability", n, n, rng(2), p=p)
    assert abs(binomial_z(pre.size, n * n, p)) < 4
    assert pre[0] >= 0 and pre[-1] <= n - 1 and post.max() <= n - 1
    assert np.all(np.diff(pre) >= 0)
    # Per-presynaptic counts: mean of 12 500 Binomial(12 500, 0.1) -- SE = 30 / sqrt(12500)
    assert np.bincount(pre, minlength=n).mean() == pytest.approx(n * p, abs=4 * 30 / np.sqrt(n))


# -- fixed in/out-degree ---------------------------------------------------------------------------
@pytest.mark.parametrize("k", [3, 60])  # 3**2 <= 200: rejection sampler; 60**2 > 200: Floyd
@pytest.mark.parametrize("autapses", [True, False])
def test_fixed_indegree_exact(k, autapses):
    n = 200
    pre, post = connect("fixed_indegree", n, n, rng(3), k=k, autapses=autapses)
    assert_sorted_unique(pre, post, n)
    np.testing.assert_array_equal(np.bincount(post, minlength=n), np.full(n, k))
    if not autapses:
        assert not np.any(pre == post)
    # Out-degrees ~ Binomial(n, k / n_partners) approximately; mean is exact by construction.
    out_deg = np.bincount(pre, minlength=n)
    assert out_deg.mean() == k


@pytest.mark.parametrize("rule", ["fixed_indegree", "fixed_outdegree"])
def test_fixed_degree_extremes(rule):
    pre, post = connect(rule, 6, 6, rng(), k=6)
    np.testing.assert_array_equal(pre * 6 + post, np.arange(36))
    pre, post = connect(rule, 6, 6, rng(), k=5, autapses=False)
    assert pre.size == 30 and not np.any(pre == post)
    pre, post = connect(rule, 6, 6, rng(), k=0)
    assert pre.size == 0


@pytest.mark.parametrize("n_pop,k", [(4, 2), (5, 3)])  # rejection path, Floyd path
def test_fixed_indegree_subsets_uniform(n_pop, k):
    # Every k-subset of presynaptic partners must be equally likely: with 30 000 posts each
    # subset count ~ Binomial(30 000, 1 / C(n, k)); check all within 4 SD.
    n_post = 30_000
    pre, post = connect("fixed_indegree", n_pop, n_post, rng(4), k=k)
    order = np.lexsort((pre, post))
    rows = pre[order].reshape(n_post, k)
    subsets = list(itertools.combinations(range(n_pop), k))
    code = rows @ (n_pop ** np.arange(k))
    counts = np.array([np.sum(code == np.dot(s, n_pop ** np.arange(k))) for s in subsets])
    assert counts.sum() == n_post
    assert np.all(np.abs(binomial_z(counts, n_post, 1 / len(subsets))) < 4)


def test_fixed_outdegree_exact():
    n_pre, n_post, k = 150, 400, 37
    pre, post = connect("fixed_outdegree", n_pre, n_post, rng(6), k=k)
    assert_sorted_unique(pre, post, n_post)
    np.testing.assert_array_equal(np.bincount(pre, minlength=n_pre), np.full(n_pre, k))
    # In-degrees ~ Binomial(n_pre, k / n_post): chi^2(n_post) check as above.
    q = k / n_post
    in_deg = np.bincount(post, minlength=n_post)
    chi2 = np.sum((in_deg - n_pre * q) ** 2) / (n_pre * q * (1 - q))
    assert abs(chi2 - n_post) < 4 * np.sqrt(2 * n_post)


def test_fixed_indegree_large_floyd():
    pre, post = connect("fixed_indegree", 2000, 1000, rng(7), k=500)
    assert_sorted_unique(pre, post, 1000)
    assert np.all(np.bincount(post, minlength=1000) == 500)


# -- distance --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [2, 3])
def test_distance_rule_matches_gaussian_in_bins(dim):
    n, sigma, p_max = 1500, 80.0, 0.7
    g = rng(8)
    xyz = g.uniform(0.0, 600.0, size=(n, dim))
    pre, post = connect("distance", n, n, g, positions_pre=xyz, sigma_um=sigma, p_max=p_max,
                        autapses=False)
    assert_sorted_unique(pre, post, n)
    assert not np.any(pre == post)
    d = np.sqrt(((xyz[:, None, :] - xyz[None, :, :]) ** 2).sum(-1))
    prob = p_max * np.exp(-d**2 / (2 * sigma**2))
    np.fill_diagonal(prob, 0.0)
    hit = np.zeros((n, n), bool)
    hit[pre, post] = True
    edges = np.arange(0.0, 4 * sigma + 1, sigma / 4)
    for lo, hi in itertools.pairwise(edges):
        in_bin = (d >= lo) & (d < hi) & (prob > 0)
        # Connections in a bin are a sum of independent Bernoulli(p_ij): the exact mean is
        # sum p_ij and the variance sum p_ij (1 - p_ij); allow 4 SD.
        expected, var = prob[in_bin].sum(), (prob[in_bin] * (1 - prob[in_bin])).sum()
        assert abs(hit[in_bin].sum() - expected) <= 4 * np.sqrt(var) + 1e-9, (lo, hi)


def test_distance_rule_two_populations_and_autapse():
    g = rng(9)
    pos = np.zeros((50, 2))
    pre, post = connect("distance", 50, 50, g, positions_pre=pos, sigma_um=10.0, p_max=1.0)
    assert pre.size == 2500   # all at zero distance, p_max = 1: every pair incl. autapses
    far = np.column_stack([np.full(20, 1e6), np.zeros(20)])
    pre, post = connect("distance", 50, 20, g, positions_pre=pos, positions_post=far,
                        sigma_um=10.0, same_population=False)
    assert pre.size == 0


# -- determinism ----------------------------------------------------------------------------------
RULE_KW = {
    "all_to_all": {},
    "one_to_one": {},
    "fixed_probability": {"p": 0.2},
    "fixed_indegree": {"k": 7},
    "fixed_outdegree": {"k": 7},
    "distance": {"positions_pre": np.random.default_rng(0).uniform(0, 100, (60, 2)),
                 "sigma_um": 20.0, "p_max": 0.5},
}


@pytest.mark.parametrize("rule", RULES)
def test_same_seed_same_synapses(rule):
    a = connect(rule, 60, 60, rng(11), **RULE_KW[rule])
    b = connect(rule, 60, 60, rng(11), **RULE_KW[rule])
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert_sorted_unique(*a, 60)
    if rule in ("fixed_probability", "fixed_indegree", "fixed_outdegree", "distance"):
        c = connect(rule, 60, 60, rng(12), **RULE_KW[rule])
        assert not (np.array_equal(a[0], c[0]) and np.array_equal(a[1], c[1]))


def test_int_seed_accepted():
    a = connect("fixed_indegree", 20, 20, 5, k=3)
    b = connect("fixed_indegree", 20, 20, np.random.default_rng(5), k=3)
    np.testing.assert_array_equal(a[0], b[0])


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,match", [
    ({"rule": "fixed_indegre", "k": 2},
     r"unknown connection rule .* Did you mean 'fixed_indegree'"),
    ({"rule": "random"}, r"valid rules: all_to_all, one_to_one"),
    ({"rule": "fixed_probability", "p": 1.5}, r"p = 1.5 is outside the allowed range \[0, 1\]"),
    ({"rule": "fixed_probability", "p": -0.1}, r"p = -0.1 is outside"),
    ({"rule": "fixed_probability", "p": float("nan")}, r"p = nan is outside"),
    ({"rule": "fixed_probability"}, r"rule 'fixed_probability' needs p"),
    ({"rule": "fixed_indegree", "k": -1}, r"k = -1 must be a non-negative integer"),
    ({"rule": "fixed_indegree", "k": 2.5}, r"k = 2.5 must be a non-negative integer"),
    ({"rule": "fixed_indegree", "k": 11}, r"k = 11 exceeds the 10 possible distinct presyn"),
    ({"rule": "fixed_indegree", "k": 10, "autapses": False},
     r"k = 10 exceeds the 9 possible .* minus the autapse"),
    ({"rule": "fixed_outdegree", "k": 9, "n_post": 8, "same_population": False},
     r"k = 9 exceeds the 8 possible distinct postsynaptic partners \(n_post = 8"),
    ({"rule": "fixed_indegree", "p": 0.1}, r"rule 'fixed_indegree' does not use p"),
    ({"rule": "all_to_all", "k": 3}, r"does not use k \(it takes no rule parameters\)"),
    ({"rule": "one_to_one", "n_post": 9, "same_population": False}, r"n_pre == n_post"),
    ({"rule": "one_to_one", "autapses": False}, r"would remove every synapse"),
    ({"rule": "all_to_all", "n_post": 9, "autapses": False}, r"same_population=False"),
    ({"rule": "all_to_all", "n_pre": -1}, r"n_pre = -1 must be a non-negative integer"),
    ({"rule": "all_to_all", "n_post": 2.0}, r"n_post = 2.0 must be a non-negative integer"),
    ({"rule": "distance", "sigma_um": 10.0}, r"needs positions_pre"),
    ({"rule": "distance", "positions_pre": np.zeros((10, 2))}, r"needs sigma_um"),
    ({"rule": "distance", "positions_pre": np.zeros((9, 2)), "sigma_um": 1.0},
     r"positions_pre has shape \(9, 2\); expected \(10, 2\) or \(10, 3\)"),
    ({"rule": "distance", "positions_pre": np.zeros((10, 4)), "sigma_um": 1.0},
     r"expected \(10, 2\) or \(10, 3\)"),
    ({"rule": "distance", "positions_pre": np.full((10, 2), np.nan), "sigma_um": 1.0},
     r"NaN or infinite"),
    ({"rule": "distance", "positions_pre": np.zeros((10, 2)), "sigma_um": 0.0},
     r"sigma_um = 0.0 must be a finite distance > 0"),
    ({"rule": "distance", "positions_pre": np.zeros((10, 2)), "sigma_um": 1.0, "p_max": 2.0},
     r"p_max = 2.0 is outside the allowed range"),
    ({"rule": "distance", "positions_pre": np.zeros((10, 2)), "sigma_um": 1.0,
      "positions_post": np.zeros((10, 3))}, r"2-D but positions_post are 3-D"),
    ({"rule": "distance", "positions_pre": np.zeros((10, 2)), "sigma_um": 1.0, "n_post": 5,
      "same_population": False}, r"needs positions_post"),
])
def test_connect_bad_input(kwargs, match):
    kwargs = {"n_pre": 10, "n_post": 10, "rng": rng(), **kwargs}
    rule = kwargs.pop("rule")
    with pytest.raises(ValueError, match=match):
        connect(rule, **kwargs)


def test_connect_rejects_non_generator():
    with pytest.raises(TypeError, match="default_rng"):
        connect("all_to_all", 2, 2, np.random.RandomState(0))


# -- CSR, matrices ---------------------------------------------------------------------------------
def test_to_csr_matches_loop_reference():
    g = rng(13)
    n_pre, n_post, n_syn = 12, 9, 80
    pre, post = g.integers(0, n_pre, n_syn), g.integers(0, n_post, n_syn)  # with duplicates
    w, d = g.normal(size=n_syn), g.integers(1, 20, n_syn)
    indptr, indices, w_csr, d_csr, order = to_csr(pre, post, n_pre, w, d, return_order=True)
    assert indptr.dtype == np.int64 and indices.dtype == np.int64 and indptr.shape == (n_pre + 1,)
    # Reference: per presynaptic neuron, its synapses sorted by post (stable for duplicates).
    ref = [sorted((post[s], s) for s in range(n_syn) if pre[s] == i) for i in range(n_pre)]
    ref_order = [s for row in ref for _, s in row]
    np.testing.assert_array_equal(indptr, np.cumsum([0] + [len(row) for row in ref]))
    np.testing.assert_array_equal(order, ref_order)
    np.testing.assert_array_equal(indices, post[ref_order])
    np.testing.assert_array_equal(w_csr, w[ref_order])
    np.testing.assert_array_equal(d_csr, d[ref_order])


def test_to_csr_sorted_input_and_scalar_value():
    pre, post = connect("fixed_outdegree", 5, 8, rng(), k=3)
    indptr, indices, w = to_csr(pre, post, 5, 0.25)
    np.testing.assert_array_equal(indptr, np.arange(0, 16, 3))
    np.testing.assert_array_equal(indices, post)
    assert np.all(w == 0.25)


@pytest.mark.parametrize("args,match", [
    (([0, 5], [0, 1], 5), r"pre_idx holds indices outside \[0, 4\]"),
    (([0, 1], [0], 5), r"differ in length"),
    (([0.5], [0], 5), r"pre_idx must be a 1-D integer array"),
    (([0, 1], [0, 1], 5, [1.0, 2.0, 3.0]), r"values\[0\] has shape \(3,\)"),
])
def test_to_csr_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        to_csr(*args)


@pytest.mark.parametrize("sparse", [True, False])
def test_connectivity_matrix_against_loop(sparse):
    g = rng(14)
    n_pre, n_post, n_syn = 7, 5, 60
    pre, post, w = g.integers(0, n_pre, n_syn), g.integers(0, n_post, n_syn), g.normal(size=n_syn)
    ref, count = np.zeros((n_pre, n_post)), np.zeros((n_pre, n_post))
    for i, j, x in zip(pre, post, w, strict=True):
        ref[i, j] += x
        count[i, j] += 1
    m = connectivity_matrix(pre, post, n_pre, n_post, w, sparse=sparse)
    c = connectivity_matrix(pre, post, n_pre, n_post, sparse=sparse)
    if sparse:
        assert isinstance(m, scipy.sparse.csr_matrix) and m.shape == (n_pre, n_post)
        m, c = m.toarray(), c.toarray()
    np.testing.assert_allclose(m, ref, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(c, count)


def test_connectivity_matrix_bad_index():
    with pytest.raises(ValueError, match=r"post_idx holds indices outside \[0, 2\]"):
        connectivity_matrix([0], [3], 2, 3)


# -- weights and delays ---------------------------------------------------------------------------
def test_scalar_weight_is_used_exactly():
    x = 0.1 + 0.2  # not 0.3: the very float given must come back
    w = weights(x, 1000)
    assert w.dtype == np.float64 and w.shape == (1000,) and np.all(w == x)
    assert np.all(weights(-0.35, 3) == -0.35)   # inhibitory weights allowed


def test_weight_array_passthrough_and_length():
    arr = np.array([0.1, 0.2, 0.3])
    np.testing.assert_array_equal(weights(arr, 3), arr)
    with pytest.raises(ValueError, match=r"shape \(3,\); expected \(4,\)"):
        weights(arr, 4)
    with pytest.raises(ValueError, match="NaN or infinite"):
        weights([0.1, np.nan], 2)


def test_weight_distributions_statistics():
    g, n = rng(15), 200_000
    # Sample means: SE = sd / sqrt(n) ~ sd * 2.2e-3; tolerances are >= 4 SE.
    w = weights({"dist": "normal", "mean": 0.5, "std": 0.1}, n, g)
    assert w.mean() == pytest.approx(0.5, abs=4 * 0.1 / np.sqrt(n))
    assert w.std() == pytest.approx(0.1, rel=0.01)
    w = weights({"dist": "normal", "mean": 0.05, "std": 0.1, "clip_min": 0.0}, n, g)
    assert w.min() == 0.0 and np.mean(w == 0.0) == pytest.approx(0.3085, abs=0.005)  # Phi(-0.5)
    w = weights({"dist": "uniform", "low": 1.0, "high": 3.0}, n, g)
    assert w.min() >= 1.0 and w.max() < 3.0
    assert w.mean() == pytest.approx(2.0, abs=4 * (2 / np.sqrt(12)) / np.sqrt(n))
    w = weights({"dist": "lognormal", "mean": 2.0, "std": 0.5}, n, g)
    assert w.min() > 0 and w.mean() == pytest.approx(2.0, abs=4 * 0.5 / np.sqrt(n))
    assert w.std() == pytest.approx(0.5, rel=0.02)
    w = weights({"dist": "lognormal", "mu": 0.0, "sigma": 0.25, "clip_max": 1.5}, n, g)
    # Clipping moves the upper tail P(Z > ln 1.5 / 0.25) = 0.0524 onto 1.5 (binomial SE of
    # the fraction 5e-4); the median, exp(mu) = 1, is untouched (SE 1.25 sigma / sqrt(n)).
    assert w.max() == 1.5 and np.mean(w == 1.5) == pytest.approx(0.0524, abs=0.002)
    assert np.median(w) == pytest.approx(1.0, abs=4 * 1.25 * 0.25 / np.sqrt(n))


def test_weights_deterministic():
    spec = {"dist": "normal", "mean": 1.0, "std": 0.2}
    np.testing.assert_array_equal(weights(spec, 50, rng(3)), weights(spec, 50, rng(3)))


@pytest.mark.parametrize("spec,match", [
    ({"dist": "gaussian", "mean": 1, "std": 1}, r"'gaussian' is not one of .*Did you mean"),
    ({"mean": 1, "std": 1}, r"distribution None is not one of"),
    ({"dist": "normal", "mean": 1}, r"takes keys \['mean', 'std'\]"),
    ({"dist": "normal", "mean": 1, "std": -1}, r"std = -1.0 must be >= 0"),
    ({"dist": "uniform", "low": 2, "high": 1}, r"low = 2.0 must not exceed high = 1.0"),
    ({"dist": "lognormal", "mean": 0, "std": 1}, r"lognormal mean = 0.0 must be > 0"),
    ({"dist": "normal", "mean": 1, "std": 1, "clip_min": 2, "clip_max": 1}, r"clip_min = 2"),
    ("strong", r"give a number, an array"),
])
def test_weights_bad_spec(spec, match):
    with pytest.raises(ValueError, match=match):
        weights(spec, 10, rng())


def test_distribution_needs_rng():
    with pytest.raises(ValueError, match="needs rng"):
        weights({"dist": "normal", "mean": 1, "std": 1}, 10)


def test_delay_steps_round_half_up_and_minimum():
    # 0.15 / 0.1 = 1.4999999999999998 in floats: half-way cases must still round up.
    got = delay_steps([0.0, 0.01, 0.05, 0.1, 0.14, 0.15, 0.25, 0.35, 1.0, 1.55, 10.0], 0.1)
    np.testing.assert_array_equal(got, [1, 1, 1, 1, 1, 2, 3, 4, 10, 16, 100])
    assert got.dtype == np.int64
    np.testing.assert_array_equal(delay_steps([0.5, 1.0, 1.5, 1.49], 1.0), [1, 1, 2, 1])
    np.testing.assert_array_equal(delay_steps(0.75, 0.5), 2)


@pytest.mark.parametrize("delay,dt,match", [
    (-0.1, 0.1, r"delay_ms = -0.1 ms is negative"),
    (np.nan, 0.1, r"delay_ms contains NaN"),
    (np.inf, 0.1, r"infinite"),
    (1.0, 0.0, r"dt = 0.0 must be a finite time step > 0"),
    (1.0, -0.1, r"dt = -0.1"),
])
def test_delay_steps_bad_input(delay, dt, match):
    with pytest.raises(ValueError, match=match):
        delay_steps([1.0, delay], dt)


def test_delays_from_spec():
    np.testing.assert_array_equal(delays(1.5, 3, None, 0.1), [15, 15, 15])
    d = delays({"dist": "normal", "mean": 1.5, "std": 0.5, "clip_min": 0.0}, 1000, rng(), 0.1)
    assert d.min() >= 1 and d.dtype == np.int64
    with pytest.raises(ValueError, match="needs clip_min"):
        delays({"dist": "normal", "mean": 0.5, "std": 0.5}, 1000, rng(), 0.1)
