r"""Philox4x64-10, the counter-based generator of numpy's ``Philox`` bit generator, for
compiled loops.

A counter-based generator (Salmon et al. 2011) maps a 256-bit counter and a 128-bit key
to four 64-bit outputs by ten rounds of a keyed bijection; no state is carried, so a
number is addressed by what it is for -- e.g. (gap index, target) -- and a stream cut
into pieces in any way gives the same numbers. :func:`philox4x64` is the same function
as numpy's ``Philox`` (``numpy/random/src/philox/philox.h``; checked against it in
``tests/test_poisson_samplers.py``): ``Philox(key=k, counter=c).random_raw(4)`` equals
``philox4x64(c + 1, k)`` (numpy increments its counter before each block). The 64 x 64
-> 128-bit products are one ``mul`` through an LLVM ``i128`` (:func:`mulhilo`), about
15 ns per block of four outputs.

References
----------
Salmon JK, Moraes MA, Dror RO, Shaw DE (2011) Parallel random numbers: as easy as 1, 2,
3. Proc. SC11, 16:1-12.

>>> import numpy as np
>>> key = np.array([7, 9], dtype=np.uint64)
>>> ours = philox4x64(np.uint64(1), np.uint64(0), np.uint64(0), np.uint64(0), key[0], key[1])
>>> ref = np.random.Philox(key=key, counter=np.zeros(4, np.uint64)).random_raw(4)
>>> [int(x) for x in ours] == [int(x) for x in ref]
True
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba.core import types
from numba.core.extending import intrinsic

from neurosim_nb._jit import njit

__all__ = ["philox4x64", "mulhilo", "uniform53"]

_M0 = np.uint64(0xD2E7470EE14C6C93)
_M1 = np.uint64(0xCA5A826395121157)
_W0 = np.uint64(0x9E3779B97F4A7C15)
_W1 = np.uint64(0xBB67AE8584CAA73B)


@intrinsic
def mulhilo(typingctx, a, b):
    """``(hi, lo)``: the high and low 64 bits of the 128-bit product of two uint64."""
    if not (a == types.uint64 and b == types.uint64):
        return None
    sig = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        i128 = ir.IntType(128)
        i64 = ir.IntType(64)
        p = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
        hi = builder.trunc(builder.lshr(p, ir.Constant(i128, 64)), i64)
        lo = builder.trunc(p, i64)
        return context.make_tuple(builder, signature.return_type, [hi, lo])

    return sig, codegen


@njit(cache=True, inline="always")
def _round(c0, c1, c2, c3, k0, k1):
    hi0, lo0 = mulhilo(_M0, c0)
    hi1, lo1 = mulhilo(_M1, c2)
    return hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0


@njit(cache=True)
def philox4x64(c0, c1, c2, c3, k0, k1):
    """Philox4x64-10 of counter ``(c0, c1, c2, c3)`` under key ``(k0, k1)`` (all uint64):
    four uint64 outputs (a tuple)."""
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, k0, k1)
    for _ in range(9):
        k0 += _W0
        k1 += _W1
        c0, c1, c2, c3 = _round(c0, c1, c2, c3, k0, k1)
    return c0, c1, c2, c3


@njit(cache=True, inline="always")
def uniform53(x):
    """A uint64 -> a double in [0, 1) from its top 53 bits (numpy's ``next_double``)."""
    return (x >> np.uint64(11)) * (1.0 / 9007199254740992.0)
