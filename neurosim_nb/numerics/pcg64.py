r"""numpy's ``Generator.random()`` doubles, bit for bit, at a third of the cost.

numpy's default bit generator, PCG64 (O'Neill 2014), is a 128-bit linear congruential
generator :math:`s_{i+1} = a s_i + c \bmod 2^{128}` with the XSL-RR output
``rotr64(hi ^ lo, hi >> 58)`` of the new state; ``random()`` keeps its top 53 bits.
Each step waits for the previous one (a 128-bit multiply-add), ~2.2 ns per double in
numpy. :func:`random_into` runs four interleaved chains -- chain ``l`` holds the states of
outputs ``l, l + 4, ...`` and jumps four steps at a time (:math:`s \to a^4 s + c_4`) -- so
the multiplies overlap (~0.7 ns per double), then puts the generator's state where
``random`` would have left it. The doubles, their order and the generator's state are
numpy's (``tests/test_poisson_samplers.py`` checks them against ``Generator.random``).

References
----------
O'Neill ME (2014) PCG: a family of simple fast space-efficient statistically good
algorithms for random number generation. HMC-CS-2014-0905.

Brown FB (1994) Random number generation with arbitrary strides. Trans. Am. Nucl. Soc.
71:202-203 (the jump of an LCG by k steps in O(log k)).

>>> import numpy as np
>>> a, b = np.random.default_rng(4), np.random.default_rng(4)
>>> out = np.empty(11)
>>> random_into(a, out)
>>> bool(np.array_equal(out, b.random(11))), a.random() == b.random()
(True, True)
"""

from __future__ import annotations

import numpy as np

from neurosim_nb._jit import njit
from neurosim_nb.numerics.philox import mulhilo

__all__ = ["random_into", "lcg_jump", "PCG64_MULTIPLIER"]

#: the multiplier of numpy's PCG64 (PCG_DEFAULT_MULTIPLIER_128)
PCG64_MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645
_MASK128 = (1 << 128) - 1
_MASK64 = (1 << 64) - 1


def lcg_jump(mult: int, inc: int, k: int) -> tuple[int, int]:
    """``(A, C)`` with :math:`s_{i+k} = A s_i + C \\bmod 2^{128}` for the step
    :math:`s \\to` ``mult`` :math:`s +` ``inc`` (Brown 1994; Python integers, exact).

    >>> A, C = lcg_jump(PCG64_MULTIPLIER, 7, 3)
    >>> s = 5
    >>> for _ in range(3):
    ...     s = (PCG64_MULTIPLIER * s + 7) % 2**128
    >>> (A * 5 + C) % 2**128 == s
    True
    """
    acc_mult, acc_plus = 1, 0
    cur_mult, cur_plus = mult, inc
    while k > 0:
        if k & 1:
            acc_mult = acc_mult * cur_mult & _MASK128
            acc_plus = (acc_plus * cur_mult + cur_plus) & _MASK128
        cur_plus = (cur_mult + 1) * cur_plus & _MASK128
        cur_mult = cur_mult * cur_mult & _MASK128
        k >>= 1
    return acc_mult, acc_plus


def _split(x: int) -> tuple[np.uint64, np.uint64]:
    return np.uint64(x >> 64), np.uint64(x & _MASK64)


@njit(cache=True, inline="always")
def _muladd(s_hi, s_lo, a_hi, a_lo, c_hi, c_lo):
    """``a s + c mod 2**128`` on (hi, lo) uint64 pairs."""
    hi, lo = mulhilo(a_lo, s_lo)
    hi += a_hi * s_lo + a_lo * s_hi
    lo2 = lo + c_lo
    hi += c_hi + np.uint64(lo2 < lo)  # (a bool would make the sum float64)
    return hi, lo2


@njit(cache=True, inline="always")
def _double(hi, lo):
    """XSL-RR output of a state, to a double in [0, 1) (numpy's ``next_double``)."""
    x = hi ^ lo
    r = hi >> np.uint64(58)
    x = (x >> r) | (x << ((np.uint64(64) - r) & np.uint64(63)))
    return (x >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def _fill(out, lanes, a_hi, a_lo, c_hi, c_lo):
    """``out[4 q + l]`` from chain ``l`` (``lanes[l]``: the state of output ``l``), each
    chain advanced by the four-step jump ``(a, c)`` after each use."""
    n = out.shape[0]
    h0, l0, h1, l1 = lanes[0, 0], lanes[0, 1], lanes[1, 0], lanes[1, 1]
    h2, l2, h3, l3 = lanes[2, 0], lanes[2, 1], lanes[3, 0], lanes[3, 1]
    q = 0
    while q + 4 <= n:
        out[q] = _double(h0, l0)
        out[q + 1] = _double(h1, l1)
        out[q + 2] = _double(h2, l2)
        out[q + 3] = _double(h3, l3)
        h0, l0 = _muladd(h0, l0, a_hi, a_lo, c_hi, c_lo)
        h1, l1 = _muladd(h1, l1, a_hi, a_lo, c_hi, c_lo)
        h2, l2 = _muladd(h2, l2, a_hi, a_lo, c_hi, c_lo)
        h3, l3 = _muladd(h3, l3, a_hi, a_lo, c_hi, c_lo)
        q += 4
    if q < n:
        out[q] = _double(h0, l0)
    if q + 1 < n:
        out[q + 1] = _double(h1, l1)
    if q + 2 < n:
        out[q + 2] = _double(h2, l2)


def random_into(rng: np.random.Generator, out: np.ndarray) -> None:
    """Fill the contiguous float64 array ``out`` with what ``rng.random(out.shape)`` would
    return (row-major order) and advance ``rng`` as that call would; ``rng`` must use
    numpy's ``PCG64`` (``np.random.default_rng``'s), else ``rng.random(out=out)`` is used.
    """
    flat = out.reshape(-1)
    bg = rng.bit_generator
    if type(bg) is not np.random.PCG64 or flat.size < 64 or not out.flags.c_contiguous:
        rng.random(out=out)
        return
    state = bg.state
    s, inc = state["state"]["state"], state["state"]["inc"]
    lanes = np.empty((4, 2), np.uint64)
    x = s
    for lane in range(4):  # output i comes from state s_{i+1}
        x = (PCG64_MULTIPLIER * x + inc) & _MASK128
        lanes[lane] = _split(x)
    a4, c4 = lcg_jump(PCG64_MULTIPLIER, inc, 4)
    _fill(flat, lanes, *_split(a4), *_split(c4))
    a_n, c_n = lcg_jump(PCG64_MULTIPLIER, inc, flat.size)
    state["state"]["state"] = (a_n * s + c_n) & _MASK128
    bg.state = state
