"""The one COBAHH network every tool simulates: connectivity and initial state from a seed.

Brian2's ``examples/COBAHH.py`` draws its connectivity (``connect(p=0.02)``) and initial
state with its own generator, BrainPy and neurosim_nb with theirs, so each tool ran a
different realisation of the model. The realisation matters: with Brian2 itself, five seeds
gave 32.1-37.8 Hz (4000 neurons, 1 s), and the same initial state on another seed's
connectivity moved the rate as much, so rates of separately drawn networks differ by up to
~15 % for no reason but chance. Every tool's COBAHH therefore builds this realisation:

* synapses: every (pre, post) pair independently with probability ``p`` (self-connections
  allowed, as ``Synapses(P, P).connect(p=p)``), drawn by geometric skips; excitatory
  presynaptic neurons are ``0 .. n_exc - 1`` and inhibitory ones ``n_exc .. n - 1``
  (``P[:n_exc]``, ``P[n_exc:]``), posts are indices of the whole group;
* ``v = El + (randn() * 5 - 5) mV``, ``ge = (randn() * 1.5 + 4) * 10 nS``,
  ``gi = (randn() * 12 + 20) * 10 nS`` as in the example, except that conductances are
  clipped at 0 (the example's draws are negative for ~5 % of ``gi``: a negative conductance
  has no physical meaning, and neurosim_nb rejects it); gates ``m = h = n = 0`` (the
  example does not set them).

numpy only (both virtual environments have it).

>>> net = cobahh_realisation(4000, seed=1)
>>> sorted(net)
['e_post', 'e_pre', 'ge', 'gi', 'i_post', 'i_pre', 'n_exc', 'v']
>>> round(len(net["e_pre"]) / (3200 * 4000), 3), round(len(net["i_pre"]) / (800 * 4000), 3)
(0.02, 0.02)
"""

from __future__ import annotations

import numpy as np

#: E_L of the example (mV), around which the initial potentials are drawn
EL_MV = -60.0


def bernoulli_pairs(rng: np.random.Generator, n_pre: int, n_post: int,
                    p: float) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i, j), i < n_pre, j < n_post, kept with probability ``p`` independently:
    the kept pairs' flat indices ``i * n_post + j`` are the partial sums of geometric gaps.
    Returns (pre, post), int64, sorted by pre then post."""
    total = n_pre * n_post
    expected = total * p
    size = int(expected + 8.0 * np.sqrt(expected) + 100)
    gaps = rng.geometric(p, size=size)
    flat = np.cumsum(gaps) - 1
    while flat[-1] < total:  # (never in practice: 8 standard deviations of margin)
        flat = np.concatenate([flat, flat[-1] + np.cumsum(rng.geometric(p, size=size))])
    flat = flat[flat < total]
    return flat // n_post, flat % n_post


def cobahh_realisation(n: int, seed: int, p: float = 0.02) -> dict:
    """Connectivity and initial state of the COBAHH network of ``n`` neurons (80 %
    excitatory): ``e_pre`` (local excitatory index), ``e_post``, ``i_pre`` (local inhibitory
    index), ``i_post`` (indices of the whole group), ``v`` (mV), ``ge``, ``gi`` (nS),
    ``n_exc``."""
    n_exc = int(round(0.8 * n))
    rng = np.random.default_rng([seed, 2007])
    e_pre, e_post = bernoulli_pairs(rng, n_exc, n, p)
    i_pre, i_post = bernoulli_pairs(rng, n - n_exc, n, p)
    v = EL_MV + (rng.standard_normal(n) * 5.0 - 5.0)
    ge = np.maximum((rng.standard_normal(n) * 1.5 + 4.0) * 10.0, 0.0)
    gi = np.maximum((rng.standard_normal(n) * 12.0 + 20.0) * 10.0, 0.0)
    return {"n_exc": n_exc, "e_pre": e_pre, "e_post": e_post, "i_pre": i_pre,
            "i_post": i_post, "v": v, "ge": ge, "gi": gi}
