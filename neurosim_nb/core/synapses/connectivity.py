r"""Connection rules: synapse lists as index arrays, CSR packing, weights and delays.

A projection from ``n_pre`` presynaptic to ``n_post`` postsynaptic neurons is a pair of int64
arrays ``(pre_idx, post_idx)`` with one entry per synapse, sorted by presynaptic then
postsynaptic index. :func:`connect` builds them from a rule (:func:`connect_csr` draws the
same synapses in the compact CSR form networks store), :func:`to_csr` packs them with
per-synapse values into the CSR-by-presynaptic-neuron layout of the engine, :func:`weights`,
:func:`delays` and :func:`delay_steps` draw and quantise per-synapse values, and
:func:`connectivity_matrix` gives the matrix view. Every random draw comes from the
:class:`numpy.random.Generator` passed in, so the same seed gives the same synapses.

Rules (:data:`RULES`)
---------------------
``all_to_all``
    Every pair.
``one_to_one``
    ``i -> i`` (needs ``n_pre == n_post``).
``fixed_probability``
    Each pair independently with probability ``p``. Drawn per presynaptic neuron: its
    number of targets is Binomial(candidates, ``p``), and given that number the targets are
    a uniform subset (Floyd sampling), so the work and memory scale with the number of
    synapses, not pairs.
``fixed_indegree`` / ``fixed_outdegree``
    ``k`` distinct partners for every post- (pre-) synaptic neuron, uniformly at random
    (Floyd sampling per neuron in a compiled loop; fixed in-degree is then transposed to
    CSR by presynaptic neuron by a counting sort).
``distance``
    Each pair independently with a Gaussian distance-dependent probability

    .. math:: P(i \to j) = p_{max} \exp\left(-\frac{\lVert x_i - y_j\rVert^2}{2\sigma^2}\right)

    from positions ``x`` (presynaptic) and ``y`` (postsynaptic) in µm, in 2-D or 3-D.

``autapses=False`` removes the self-connections ``i -> i``; they exist only when pre and post
are the same population (``same_population=True``, the default).

Units: distances µm, delays ms, weights in the unit of the synapse model (µS or nA).

Examples
--------
>>> rng = np.random.default_rng(42)
>>> pre, post = connect("fixed_indegree", 100, 50, rng, k=10)
>>> pre.size, np.bincount(post, minlength=50).tolist() == [10] * 50
(500, True)
>>> indptr, indices, w = to_csr(pre, post, 100, weights(0.5, pre.size, rng))
>>> indptr.shape, float(w.sum())
((101,), 250.0)
"""

from __future__ import annotations

import math
import numbers
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from neurosim_nb._jit import njit
from neurosim_nb._validation import check_allocation, did_you_mean, is_number
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError

__all__ = [
    "RULES",
    "connect",
    "connect_csr",
    "to_csr",
    "weights",
    "delays",
    "delay_steps",
    "connectivity_matrix",
]

Rule = Literal["all_to_all", "one_to_one", "fixed_probability", "fixed_indegree",
               "fixed_outdegree", "distance"]
RULES: tuple[str, ...] = ("all_to_all", "one_to_one", "fixed_probability", "fixed_indegree",
                          "fixed_outdegree", "distance")
_RULE_ARGS = {
    "all_to_all": (),
    "one_to_one": (),
    "fixed_probability": ("p",),
    "fixed_indegree": ("k",),
    "fixed_outdegree": ("k",),
    "distance": ("positions_pre", "positions_post", "sigma_um", "p_max"),
}
_REQUIRED = {"fixed_probability": ("p",), "fixed_indegree": ("k",),
             "fixed_outdegree": ("k",), "distance": ("positions_pre", "sigma_um")}
_BLOCK = 1 << 22       # elements per vectorised block (bounds temporaries to ~32 MB each)
_DRAW_BLOCK = 1 << 20  # uniform draws per block of rows in Floyd sampling (8 MB)
_DISTS = {"normal": ("mean", "std"), "uniform": ("low", "high"), "lognormal": ("mean", "std")}
_DIST_ALIASES = {"gaussian": "normal", "gauss": "normal", "norm": "normal", "flat": "uniform",
                 "lognorm": "lognormal", "log-normal": "lognormal", "log_normal": "lognormal"}


# -- argument checks ------------------------------------------------------------------------
def _count(name: str, value) -> int:
    if isinstance(value, bool | np.bool_) or not is_number(value):
        raise ArgumentTypeError(f"{name} = {value!r} must be a non-negative integer")
    if not isinstance(value, numbers.Integral):
        raise InvalidArgumentError(f"{name} = {value!r} must be a non-negative integer")
    if value < 0:
        raise InvalidArgumentError(f"{name} = {value} must be a non-negative integer (>= 0)")
    return int(value)


def _generator(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise ArgumentTypeError(f"rng must be a numpy.random.Generator (or an int seed), got "
                            f"{type(rng).__name__}; use rng = np.random.default_rng(seed)")


def _probability(name: str, value) -> float:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if not is_number(value):  # a string is not a number, even '0.5'; nor is a bool
        raise ArgumentTypeError(f"{name} = {value!r} is not a number in [0, 1]")
    x = float(value)
    if not 0.0 <= x <= 1.0:  # also rejects NaN
        raise InvalidArgumentError(f"{name} = {value!r} is outside the allowed range [0, 1]")
    return x


def _positions(name: str, value, n: int) -> np.ndarray:
    if value is None:
        raise InvalidArgumentError(f"rule 'distance' needs {name}, an array of shape ({n}, 2) or "
                                   f"({n}, 3) in µm")
    try:
        pos = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"{name} must be an array of numbers of shape ({n}, 2) or "
                                f"({n}, 3) in µm") from None
    if pos.ndim != 2 or pos.shape[1] not in (2, 3) or pos.shape[0] != n:
        raise InvalidArgumentError(f"{name} has shape {pos.shape}; expected ({n}, 2) or ({n}, 3) "
                                   f"(one row of coordinates in µm per neuron)")
    if not np.all(np.isfinite(pos)):
        raise InvalidArgumentError(f"{name} contains NaN or infinite coordinates")
    return pos


def _synapses(pre_idx, post_idx, n_pre: int, n_post: int | None = None):
    pre = np.asarray(pre_idx)
    post = np.asarray(post_idx)
    for name, arr in (("pre_idx", pre), ("post_idx", post)):
        if arr.ndim != 1 or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
            raise InvalidArgumentError(
                f"{name} must be a 1-D integer array, got dtype {arr.dtype} "
                f"and shape {arr.shape}")
    if pre.shape != post.shape:
        raise InvalidArgumentError(
            f"pre_idx and post_idx differ in length ({pre.size} != {post.size})")
    pre = pre.astype(np.int64, copy=False)
    post = post.astype(np.int64, copy=False)
    for name, arr, n in (("pre_idx", pre, n_pre), ("post_idx", post, n_post)):
        if n is not None and arr.size and (arr.min() < 0 or arr.max() >= n):
            raise InvalidArgumentError(f"{name} holds indices outside [0, {n - 1}] "
                                       f"(min {arr.min()}, max {arr.max()})")
    return pre, post


def _per_synapse(name: str, value, n_syn: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim == 0:
        return np.full(n_syn, arr[()])
    if arr.shape != (n_syn,):
        raise InvalidArgumentError(
            f"{name} has shape {arr.shape}; expected a scalar or ({n_syn},), "
            f"one value per synapse")
    return arr


# -- rules ------------------------------------------------------------------------------------
def connect(
    rule: Rule,
    n_pre: int,
    n_post: int,
    rng: np.random.Generator,
    *,
    p: float | None = None,
    k: int | None = None,
    autapses: bool = True,
    same_population: bool = True,
    positions_pre: ArrayLike | None = None,
    positions_post: ArrayLike | None = None,
    sigma_um: float | None = None,
    p_max: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw the synapses of a projection with a connection rule.

    Parameters
    ----------
    rule : {"all_to_all", "one_to_one", "fixed_probability", "fixed_indegree", \
"fixed_outdegree", "distance"}
        Connection rule (see the module docstring).
    n_pre, n_post : int
        Sizes of the presynaptic and postsynaptic populations.
    rng : numpy.random.Generator
        Source of randomness (an int is taken as a seed).
    p : float
        ``fixed_probability``: connection probability in [0, 1].
    k : int
        ``fixed_indegree`` / ``fixed_outdegree``: number of distinct partners per post-
        (pre-) synaptic neuron; at most the partner population size (one less without autapses).
    autapses : bool
        Keep self-connections ``i -> i`` (default ``True``).
    same_population : bool
        Pre and post are one population, so ``i -> i`` is an autapse (default ``True``;
        only consulted when ``autapses=False``).
    positions_pre, positions_post : array_like, shape (n, 2) or (n, 3)
        ``distance``: neuron coordinates (µm). ``positions_post`` defaults to ``positions_pre``
        for a single population.
    sigma_um : float
        ``distance``: width of the Gaussian profile (µm, > 0).
    p_max : float
        ``distance``: probability at zero distance, in [0, 1] (default 1).

    Returns
    -------
    pre_idx, post_idx : numpy.ndarray of int64, shape (n_syn,)
        Synapses sorted by presynaptic, then postsynaptic index.

    Raises
    ------
    ValueError
        Unknown rule (with the closest valid name), a parameter the rule does not take or
        misses, a probability outside [0, 1], ``k`` negative or larger than the partner
        population, mismatched population sizes or positions.
    TypeError
        ``rng`` is not a Generator.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> connect("one_to_one", 3, 3, rng)
    (array([0, 1, 2]), array([0, 1, 2]))
    >>> pre, post = connect("all_to_all", 3, 3, rng, autapses=False)
    >>> pre.tolist(), post.tolist()
    ([0, 0, 1, 1, 2, 2], [1, 2, 0, 2, 0, 1])
    >>> pre, post = connect("fixed_probability", 1000, 1000, rng, p=0.1)
    >>> abs(pre.size - 100_000) < 4 * 300     # Binomial(10^6, 0.1): sd = 300
    True
    >>> connect("fixed_probabilty", 3, 3, rng, p=0.1)
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.InvalidArgumentError: unknown connection rule 'fixed_probabilty'; \
valid rules: all_to_all, \
one_to_one, fixed_probability, fixed_indegree, fixed_outdegree, distance. \
Did you mean 'fixed_probability'?
    """
    indptr, post = connect_csr(rule, n_pre, n_post, rng, p=p, k=k, autapses=autapses,
                               same_population=same_population, positions_pre=positions_pre,
                               positions_post=positions_post, sigma_um=sigma_um, p_max=p_max)
    pre = np.repeat(np.arange(n_pre, dtype=np.int64), np.diff(indptr))
    return pre, post.astype(np.int64, copy=False)


def connect_csr(
    rule: Rule,
    n_pre: int,
    n_post: int,
    rng: np.random.Generator,
    *,
    p: float | None = None,
    k: int | None = None,
    autapses: bool = True,
    same_population: bool = True,
    positions_pre: ArrayLike | None = None,
    positions_post: ArrayLike | None = None,
    sigma_um: float | None = None,
    p_max: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw the synapses of a projection directly in CSR form (by presynaptic neuron).

    Same rules, arguments, checks and random draws as :func:`connect` (``connect`` expands
    this result), without the per-synapse presynaptic index: the synapses of presynaptic
    neuron ``i`` are ``post_idx[indptr[i]:indptr[i + 1]]``, ascending. This is the form
    :meth:`~neurosim_nb.core.networks.network.Network.connect` stores, so a network is
    built without sorting or int64 temporaries per synapse.

    Returns
    -------
    indptr : numpy.ndarray of int64, shape (n_pre + 1,)
    post_idx : numpy.ndarray of int32 (int64 if ``n_post >= 2**31``), shape (n_syn,)

    Examples
    --------
    >>> indptr, post = connect_csr("fixed_indegree", 4, 3, np.random.default_rng(0), k=2)
    >>> int(indptr[-1]), post.dtype.name, np.bincount(post, minlength=3).tolist()
    (6, 'int32', [2, 2, 2])
    """
    if rule not in RULES:
        raise InvalidArgumentError(f"unknown connection rule {rule!r}; valid rules: "
                                   f"{', '.join(RULES)}.{did_you_mean(rule, RULES)}")
    n_pre, n_post = _count("n_pre", n_pre), _count("n_post", n_post)
    rng = _generator(rng)
    given = {"p": p, "k": k, "positions_pre": positions_pre, "positions_post": positions_post,
             "sigma_um": sigma_um, "p_max": p_max}
    unused = [name for name, v in given.items() if v is not None and name not in _RULE_ARGS[rule]]
    if unused:
        takes = ", ".join(_RULE_ARGS[rule]) or "no rule parameters"
        raise InvalidArgumentError(
            f"rule {rule!r} does not use {', '.join(unused)} (it takes {takes})")
    missing = [name for name in _REQUIRED.get(rule, ()) if given[name] is None]
    if missing:
        raise InvalidArgumentError(f"rule {rule!r} needs {', '.join(missing)}")
    no_self = not autapses and same_population
    if no_self and n_pre != n_post:
        raise InvalidArgumentError(
            f"autapses=False with same_population=True needs n_pre == n_post "
            f"(got {n_pre} and {n_post}); for two different populations pass "
            f"same_population=False")
    itype = _index_type(n_post)
    _check_synapse_memory(rule, n_pre, n_post, p, k, no_self, itype)
    if rule == "all_to_all":
        return _all_to_all(n_pre, n_post, no_self, itype)
    if rule == "one_to_one":
        return _one_to_one(n_pre, n_post, no_self, itype)
    if rule == "fixed_probability":
        return _fixed_probability(n_pre, n_post, _probability("p", p), rng, no_self, itype)
    if rule == "fixed_indegree":
        return _fixed_indegree(n_pre, n_post, k, rng, no_self, itype)
    if rule == "fixed_outdegree":
        return _fixed_outdegree(n_pre, n_post, k, rng, no_self, itype)
    pre, post = _distance(n_pre, n_post, rng, no_self, same_population, positions_pre,
                          positions_post, sigma_um, p_max)
    return _indptr(pre, n_pre), post.astype(itype)


#: bytes a network stores per synapse beyond its index (a float64 weight)
_WEIGHT_BYTES = 8


def _check_synapse_memory(rule: str, n_pre: int, n_post: int, p, k, no_self: bool,
                          itype) -> None:
    """Refuse (TooLargeError) a projection whose synapses would not fit, before drawing:
    the count is exact for ``all_to_all``, ``one_to_one`` and the fixed degrees, the
    expected value for ``fixed_probability`` (``distance`` draws in bounded blocks and is
    not estimated). Each synapse takes its post index and a float64 weight."""
    pairs = float(n_pre) * float(n_post - 1 if no_self else n_post)
    if rule == "all_to_all":
        n_syn = pairs
    elif rule == "fixed_probability" and is_number(p) and 0 <= p <= 1:
        n_syn = pairs * float(p)
    elif rule in ("fixed_indegree", "fixed_outdegree") and isinstance(k, numbers.Integral):
        n_syn = float(k) * (n_post if rule == "fixed_indegree" else n_pre)
    else:
        return
    per_synapse = np.dtype(itype).itemsize + _WEIGHT_BYTES
    check_allocation(f"connect({rule!r}, n_pre={n_pre}, n_post={n_post}) with about "
                     f"{n_syn:.3g} synapses", n_syn * per_synapse,
                     "use a lower connection probability or in-degree, or fewer neurons")


def _index_type(n: int) -> type:
    return np.int32 if n < 2**31 else np.int64


def _indptr(counts_or_sorted_pre: np.ndarray, n_pre: int, counts: bool = False) -> np.ndarray:
    c = counts_or_sorted_pre if counts else np.bincount(counts_or_sorted_pre, minlength=n_pre)
    indptr = np.zeros(n_pre + 1, dtype=np.int64)
    np.cumsum(c, out=indptr[1:])
    return indptr


def _all_to_all(n_pre: int, n_post: int, no_self: bool, itype):
    post = np.tile(np.arange(n_post, dtype=itype), n_pre)
    if no_self:
        post = post.reshape(n_pre, n_post)[~np.eye(n_pre, n_post, dtype=bool)]
    row = n_post - 1 if no_self else n_post
    return np.arange(n_pre + 1, dtype=np.int64) * row, post


def _one_to_one(n_pre: int, n_post: int, no_self: bool, itype):
    if n_pre != n_post:
        raise InvalidArgumentError(
            f"rule 'one_to_one' needs n_pre == n_post (got {n_pre} and {n_post})")
    if no_self and n_pre:
        raise InvalidArgumentError("rule 'one_to_one' within one population connects only i -> i, "
                                   "so autapses=False would remove every synapse")
    return np.arange(n_pre + 1, dtype=np.int64), np.arange(n_pre, dtype=itype)


def _fixed_probability(n_pre: int, n_post: int, p: float, rng, no_self: bool, itype):
    # Row i (presynaptic neuron) has Binomial(m, p) targets, m = its number of candidate
    # partners, and given the count they are a uniform subset of that size (Floyd sampling):
    # exactly the law of independent Bernoulli(p) pairs, drawn in CSR order.
    m = n_post - 1 if no_self else n_post
    if p == 0.0 or n_pre == 0 or m <= 0:
        return np.zeros(n_pre + 1, np.int64), np.empty(0, itype)
    if n_pre * n_post >= 2**53:
        raise InvalidArgumentError(f"n_pre * n_post = {n_pre * n_post} pairs is too many for one "
                                   f"projection")
    counts = rng.binomial(m, p, size=n_pre)
    return _sample_rows(counts, m, rng, no_self, True, itype)


def _degree_k(k, n_partners: int, no_self: bool, side: str, rule: str) -> int:
    k = _count("k", k)
    limit = n_partners - 1 if no_self else n_partners
    if k > limit:
        extra = " minus the autapse; pass autapses=True to allow it" if no_self else ""
        raise InvalidArgumentError(f"rule {rule!r}: k = {k} exceeds the {limit} possible distinct "
                                   f"{side}synaptic partners (n_{side} = {n_partners}{extra})")
    return k


def _fixed_indegree(n_pre: int, n_post: int, k, rng, no_self: bool, itype):
    k = _degree_k(k, n_pre, no_self, "pre", "fixed_indegree")
    m = n_pre - 1 if no_self else n_pre
    counts = np.full(n_post, k, dtype=np.int64)
    # row j: the k presynaptic partners of post neuron j (unsorted), then a counting-sort
    # transpose into CSR by pre; visiting the posts in order keeps each pre's row ascending
    by_post_ptr, chosen = _sample_rows(counts, m, rng, no_self, False, _index_type(n_pre))
    indptr = np.zeros(n_pre + 1, dtype=np.int64)
    post = np.empty(chosen.size, dtype=itype)
    _transpose(by_post_ptr, chosen, indptr, post)
    return indptr, post


def _fixed_outdegree(n_pre: int, n_post: int, k, rng, no_self: bool, itype):
    k = _degree_k(k, n_post, no_self, "post", "fixed_outdegree")
    m = n_post - 1 if no_self else n_post
    return _sample_rows(np.full(n_pre, k, dtype=np.int64), m, rng, no_self, True, itype)


def _sample_rows(counts: np.ndarray, m: int, rng, skip_diag: bool, sort_rows: bool, itype):
    """Row ``r`` gets ``counts[r]`` distinct values of ``[0, m)`` uniformly among all subsets
    of that size (mapped onto ``[0, m] \\ {r}`` if ``skip_diag``): ``(indptr, values)``.

    Floyd's algorithm (Bentley & Floyd 1987) per row, for j = m-c .. m-1: draw t in [0, j],
    take t unless already taken, else j -- exactly c uniform draws per row, which are drawn
    by numpy in blocks of rows (bounded temporaries) and consumed by a compiled loop.
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_rows = counts.size
    indptr = _indptr(counts, n_rows, counts=True)
    out = np.empty(int(indptr[-1]), dtype=itype)
    if out.size == 0:
        return indptr, out
    stamp = np.zeros(m, dtype=np.int64)
    start = 0
    while start < n_rows:
        # rows [start, stop) hold at most _DRAW_BLOCK draws (at least one row)
        stop = int(np.searchsorted(indptr, indptr[start] + _DRAW_BLOCK, side="right")) - 1
        stop = min(max(stop, start + 1), n_rows)
        lo, hi = int(indptr[start]), int(indptr[stop])
        u = rng.random(hi - lo)
        _floyd_rows(counts[start:stop], start, m, u, skip_diag, sort_rows, stamp,
                    out[lo:hi])
        start = stop
    return indptr, out


@njit(cache=True)
def _floyd_rows(counts, row0, m, u, skip_diag, sort_rows, stamp, out):  # pragma: no cover
    pos = 0
    for r in range(counts.shape[0]):
        c = counts[r]
        row = row0 + r
        tag = row + 1
        begin = pos
        for j in range(m - c, m):
            t = int(u[pos] * (j + 1))
            if t > j:
                t = j
            if stamp[t] == tag:
                t = j
            stamp[t] = tag
            out[pos] = t
            pos += 1
        if sort_rows and c > 1:
            if 16 * c >= m:      # dense row: read the marks in order
                q = begin
                for v in range(m):
                    if stamp[v] == tag:
                        out[q] = v
                        q += 1
            else:
                out[begin:pos].sort()
        if skip_diag:            # [0, m) -> [0, m] without the row's own index, in order
            for q in range(begin, pos):
                if out[q] >= row:
                    out[q] += 1


@njit(cache=True)
def _transpose(row_ptr, cols, col_ptr, out):  # pragma: no cover
    """CSR (rows -> cols) to CSR by column: ``out`` lists each column's rows, ascending."""
    n_cols = col_ptr.shape[0] - 1
    for q in range(cols.shape[0]):
        col_ptr[cols[q] + 1] += 1
    for c in range(n_cols):
        col_ptr[c + 1] += col_ptr[c]
    fill = col_ptr[:-1].copy()
    for r in range(row_ptr.shape[0] - 1):
        for q in range(row_ptr[r], row_ptr[r + 1]):
            c = cols[q]
            out[fill[c]] = r
            fill[c] += 1


def _distance(n_pre, n_post, rng, no_self, same_population, positions_pre, positions_post,
              sigma_um, p_max):
    x = _positions("positions_pre", positions_pre, n_pre)
    if positions_post is None and same_population and n_pre == n_post:
        y = x
    else:
        y = _positions("positions_post", positions_post, n_post)
    if x.shape[1] != y.shape[1]:
        raise InvalidArgumentError(f"positions_pre are {x.shape[1]}-D but positions_post are "
                                   f"{y.shape[1]}-D")
    if not is_number(sigma_um):
        raise ArgumentTypeError(f"sigma_um = {sigma_um!r} must be a finite distance > 0 µm")
    sigma = float(sigma_um)
    if not (np.isfinite(sigma) and sigma > 0):
        raise InvalidArgumentError(f"sigma_um = {sigma_um!r} must be a finite distance > 0 µm")
    p0 = 1.0 if p_max is None else _probability("p_max", p_max)
    rows_per_block = max(1, _BLOCK // max(n_post, 1))
    pres, posts = [], []
    for start in range(0, n_pre, rows_per_block):
        stop = min(n_pre, start + rows_per_block)
        d2 = np.zeros((stop - start, n_post))
        for dim in range(x.shape[1]):
            d2 += (x[start:stop, dim, None] - y[None, :, dim]) ** 2
        hit = rng.random(d2.shape) < p0 * np.exp(-d2 / (2.0 * sigma * sigma))
        if no_self:
            r = np.arange(stop - start)
            hit[r, start + r] = False
        i, j = np.nonzero(hit)
        pres.append(i + start)
        posts.append(j)
    if not pres:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(pres), np.concatenate(posts)


# -- packing -----------------------------------------------------------------------------------
def to_csr(pre_idx: ArrayLike, post_idx: ArrayLike, n_pre: int, *values: ArrayLike,
           return_order: bool = False) -> tuple[np.ndarray, ...]:
    """Pack synapses into compressed sparse rows by presynaptic neuron.

    The synapses of presynaptic neuron ``i`` are ``indices[indptr[i]:indptr[i + 1]]``,
    sorted by postsynaptic index (duplicates keep their input order).

    Parameters
    ----------
    pre_idx, post_idx : array_like of int, shape (n_syn,)
        Synapse list, e.g. from :func:`connect`.
    n_pre : int
        Size of the presynaptic population.
    *values : array_like, shape (n_syn,) or scalar
        Per-synapse values to reorder alongside (weights, delays, ...).
    return_order : bool
        Also return the permutation ``order`` with ``indices == post_idx[order]``.

    Returns
    -------
    indptr : numpy.ndarray of int64, shape (n_pre + 1,)
    indices : numpy.ndarray of int64, shape (n_syn,)
        Postsynaptic indices in CSR order.
    *values : numpy.ndarray, shape (n_syn,)
        Each value array in CSR order.
    order : numpy.ndarray of int64, shape (n_syn,)
        Only with ``return_order=True``.

    Examples
    --------
    >>> indptr, indices, w = to_csr([2, 0, 2], [1, 3, 0], 3, [0.1, 0.2, 0.3])
    >>> indptr, indices, w
    (array([0, 1, 1, 3]), array([3, 0, 1]), array([0.2, 0.3, 0.1]))
    """
    n_pre = _count("n_pre", n_pre)
    pre, post = _synapses(pre_idx, post_idx, n_pre)
    vals = [_per_synapse(f"values[{i}]", v, pre.size) for i, v in enumerate(values)]
    d_pre = np.diff(pre)
    if np.all((d_pre > 0) | ((d_pre == 0) & (np.diff(post) >= 0))):
        order = np.arange(pre.size, dtype=np.int64)
        indices, vals = post.copy(), [np.array(v) for v in vals]
    else:
        n_post = int(post.max()) + 1
        order = np.argsort(pre * n_post + post, kind="stable").astype(np.int64)
        indices, vals = post[order], [v[order] for v in vals]
    indptr = np.zeros(n_pre + 1, dtype=np.int64)
    np.cumsum(np.bincount(pre, minlength=n_pre), out=indptr[1:])
    out = (indptr, indices, *vals)
    return (*out, order) if return_order else out


def connectivity_matrix(pre_idx: ArrayLike, post_idx: ArrayLike, n_pre: int, n_post: int,
                        weights: ArrayLike | None = None, sparse: bool = True):
    """Connection matrix with rows = presynaptic and columns = postsynaptic neurons.

    Entry ``(i, j)`` is the sum of the weights of all synapses ``i -> j`` (the number of
    synapses when ``weights`` is None); duplicate synapses are summed.

    Parameters
    ----------
    pre_idx, post_idx : array_like of int, shape (n_syn,)
    n_pre, n_post : int
    weights : array_like, shape (n_syn,) or scalar, optional
    sparse : bool
        Return a :class:`scipy.sparse.csr_matrix` (default) or a dense numpy array.

    Examples
    --------
    >>> connectivity_matrix([0, 0, 1], [1, 1, 0], 2, 2, [0.5, 0.25, 2.0], sparse=False)
    array([[0.  , 0.75],
           [2.  , 0.  ]])
    """
    n_pre, n_post = _count("n_pre", n_pre), _count("n_post", n_post)
    pre, post = _synapses(pre_idx, post_idx, n_pre, n_post)
    w = np.ones(pre.size) if weights is None else _per_synapse("weights", weights, pre.size)
    w = w.astype(float, copy=False)
    if sparse:
        import scipy.sparse

        m = scipy.sparse.csr_matrix((w, (pre, post)), shape=(n_pre, n_post))
        m.sum_duplicates()
        return m
    flat = np.bincount(pre * n_post + post, weights=w, minlength=n_pre * n_post)
    return flat.reshape(n_pre, n_post)


# -- per-synapse values -------------------------------------------------------------------------
def _draw(spec, n: int, rng, what: str) -> np.ndarray:
    n = _count("n", n)
    if isinstance(spec, dict):
        return _draw_distribution(dict(spec), n, rng, what)
    arr = None
    if not isinstance(spec, str | bytes | bool | np.bool_):
        try:
            raw = np.asarray(spec)
            if raw.dtype.kind in "iuf":
                arr = raw.astype(float)
        except (TypeError, ValueError):
            arr = None
    if arr is None:  # (a ValueError as it always was: InvalidArgumentError)
        raise InvalidArgumentError(
            f"{what} = {spec!r}: give a number, an array of {n} values or a "
            f"distribution dict such as {{'dist': 'normal', 'mean': 1.0, "
            f"'std': 0.1}}")
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    elif arr.shape != (n,):
        raise InvalidArgumentError(
            f"{what} array has shape {arr.shape}; expected ({n},), one value per "
            f"synapse")
    else:
        arr = arr.copy()
    if not np.all(np.isfinite(arr)):
        raise InvalidArgumentError(f"{what} contains NaN or infinite values")
    return arr


def _draw_distribution(spec: dict, n: int, rng, what: str) -> np.ndarray:
    dist = spec.pop("dist", None)
    if dist not in _DISTS:
        alias = _DIST_ALIASES.get(str(dist).lower())
        hint = f" Did you mean {alias!r}?" if alias else did_you_mean(dist, _DISTS)
        raise InvalidArgumentError(
            f"{what}: distribution {dist!r} is not one of {list(_DISTS)}; give "
            f"it as {{'dist': ..., ...}}.{hint}")
    clip_min, clip_max = spec.pop("clip_min", None), spec.pop("clip_max", None)
    keys = _DISTS[dist]
    if dist == "lognormal" and set(spec) == {"mu", "sigma"}:
        keys = ("mu", "sigma")
    if set(spec) != set(keys):
        raise InvalidArgumentError(
            f"{what}: {dist} distribution takes keys {list(keys)} (plus optional "
            f"clip_min, clip_max); got {sorted(spec)}")
    if not all(is_number(spec[key]) for key in keys):
        raise ArgumentTypeError(f"{what}: {dist} parameters must be numbers, got {spec}")
    a, b = (float(spec[key]) for key in keys)
    for key in ("clip_min", "clip_max"):
        bound = clip_min if key == "clip_min" else clip_max
        if bound is not None and (not is_number(bound) or not np.isfinite(bound)):
            raise InvalidArgumentError(f"{what}: {key} must be a finite number, got {bound!r}")
    if not (np.isfinite(a) and np.isfinite(b)):
        raise InvalidArgumentError(f"{what}: {dist} parameters must be finite, got {spec}")
    if rng is None:
        raise InvalidArgumentError(f"{what}: drawing from a {dist} distribution needs rng")
    rng = _generator(rng)
    if dist == "uniform":
        if a > b:
            raise InvalidArgumentError(f"{what}: uniform low = {a} must not exceed high = {b}")
        out = rng.uniform(a, b, size=n)
    else:
        if b < 0:
            raise InvalidArgumentError(f"{what}: {dist} {keys[1]} = {b} must be >= 0")
        if dist == "normal":
            out = rng.normal(a, b, size=n)
        elif keys == ("mu", "sigma"):
            out = rng.lognormal(a, b, size=n)
        else:  # mean and std of the values themselves
            if a <= 0:
                raise InvalidArgumentError(f"{what}: lognormal mean = {a} must be > 0")
            s2 = math.log1p((b / a) ** 2)
            out = rng.lognormal(math.log(a) - s2 / 2.0, math.sqrt(s2), size=n)
    if clip_min is not None and clip_max is not None and clip_min > clip_max:
        raise InvalidArgumentError(f"{what}: clip_min = {clip_min} exceeds clip_max = {clip_max}")
    if clip_min is not None or clip_max is not None:
        out = np.clip(out, clip_min, clip_max)
    return out


def weights(spec, n: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Per-synapse weights from a scalar, an array or a distribution.

    Parameters
    ----------
    spec : float, array_like or dict
        A scalar is used exactly for every synapse; an array must hold ``n`` values; a dict
        names a distribution: ``{"dist": "normal", "mean": m, "std": s}``,
        ``{"dist": "uniform", "low": a, "high": b}``, ``{"dist": "lognormal", "mean": m,
        "std": s}`` (mean and sd of the weights themselves) or ``{"dist": "lognormal",
        "mu": mu, "sigma": sigma}`` (of their logarithm). Optional ``clip_min`` /
        ``clip_max`` clip the draws (values beyond pile up at the bound).
    n : int
        Number of synapses.
    rng : numpy.random.Generator, optional
        Needed for a distribution.

    Returns
    -------
    numpy.ndarray of float64, shape (n,)
        Weights in the unit of the synapse model (µS for conductances, nA for currents).

    Examples
    --------
    >>> weights(0.1, 3)
    array([0.1, 0.1, 0.1])
    >>> w = weights({"dist": "normal", "mean": 0.5, "std": 1.0, "clip_min": 0.0}, 1000,
    ...             np.random.default_rng(0))
    >>> bool(w.min() == 0.0)
    True
    """
    return _draw(spec, n, rng, "weights")


def delay_steps(delay_ms: ArrayLike, dt: float) -> np.ndarray:
    """Convert delays (ms) to whole time steps: round half up, at least one step.

    A spike cannot arrive in the step it was emitted, so delays shorter than ``dt``
    (including 0) become one step. Ratios within 1e-9 step of a half-integer round up,
    which absorbs float error such as ``0.15 / 0.1 = 1.4999999999999998``.

    Parameters
    ----------
    delay_ms : float or array_like
        Delays (ms), >= 0.
    dt : float
        Time step (ms), > 0.

    Returns
    -------
    numpy.ndarray of int64
        Same shape as ``delay_ms``.

    Raises
    ------
    ValueError
        Negative, NaN or infinite delay, or ``dt`` not > 0.

    Examples
    --------
    >>> delay_steps([0.0, 0.04, 0.05, 0.15, 0.25, 1.5], 0.1)
    array([ 1,  1,  1,  2,  3, 15])
    """
    dt_val = float(dt)
    if not (np.isfinite(dt_val) and dt_val > 0):
        raise InvalidArgumentError(f"dt = {dt!r} must be a finite time step > 0 ms")
    d = np.asarray(delay_ms, dtype=float)
    if np.any(np.isnan(d)):
        raise InvalidArgumentError("delay_ms contains NaN")
    if np.any(d < 0):
        raise InvalidArgumentError(
            f"delay_ms = {float(d[d < 0].flat[0])!r} ms is negative; delays must be "
            f">= 0 ms (delays below dt = {dt_val} ms become one step); a "
            f"normal distribution of delays needs clip_min")
    if np.any(np.isinf(d)):
        raise InvalidArgumentError("delay_ms contains an infinite delay")
    steps = np.floor(d / dt_val + 0.5 + 1e-9).astype(np.int64)
    return np.maximum(steps, 1)


def delays(spec, n: int, rng: np.random.Generator | None, dt: float) -> np.ndarray:
    """Per-synapse delays in whole steps from a spec in ms (as for :func:`weights`).

    Examples
    --------
    >>> delays(1.5, 2, None, 0.1)
    array([15, 15])
    >>> d = delays({"dist": "uniform", "low": 1.0, "high": 2.0}, 100,
    ...            np.random.default_rng(0), 0.1)
    >>> bool(d.min() >= 10 and d.max() <= 20)
    True
    """
    return delay_steps(_draw(spec, n, rng, "delays"), dt)
