"""Fast, vectorisable elementary functions for compiled model updates, in the precision of
their argument (float64 or float32).

Numba has no vector ``exp`` (no SVML): a loop that calls ``math.exp`` makes one libm call
per element and does not vectorise (measured 6.3 ns per exp against 1.6 ns for
:func:`exp64`). The functions here are branch-free (selects) and compiled with
``error_model="numpy"`` -- the default ("python") checks each division for a zero divisor,
a branch that stops the vectoriser -- so loops over neurons that call them vectorise.
:func:`lit` gives a literal in the precision of a value, so that no float64 constant turns
a float32 run's arithmetic into float64.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir as llvm_ir
from numba import types
from numba.extending import intrinsic, overload

from neurosim_nb._jit import njit

__all__ = ["lit", "exp64", "exp32", "expg", "log64", "x_over_expm1", "phi1", "float_bits",
           "bits_float", "series_below", "fma", "exp_fma", "exp_fma64", "exp_fma32",
           "prefer_wide_vectors"]

@intrinsic
def float_bits(typingctx, x):
    """The bit pattern of a float32 / float64 as an int32 / int64 (a no-op bitcast)."""
    if not isinstance(x, types.Float):
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], llvm_ir.IntType(x.bitwidth))

    return (types.int32 if x.bitwidth == 32 else types.int64)(x), codegen


@intrinsic
def bits_float(typingctx, i, like):
    """The float of ``like``'s type (float32 or float64) whose bit pattern is the low bits
    of the integer ``i`` (a no-op bitcast after dropping the higher bits)."""
    if not (isinstance(i, types.Integer) and isinstance(like, types.Float)
            and i.bitwidth >= like.bitwidth):
        return None

    def codegen(context, builder, sig, args):
        low = args[0]
        if i.bitwidth > like.bitwidth:
            low = builder.trunc(low, llvm_ir.IntType(like.bitwidth))
        return builder.bitcast(low, context.get_value_type(like))

    return like(i, like), codegen


def lit(value, like):
    """``value`` (a float literal) in the floating-point type of ``like``: float32 in a
    float32 run, so that no float64 constant turns the run's arithmetic into float64
    (Numba types a Python float as float64, and float32 x float64 gives float64). In a
    float64 run it is ``value`` itself: the same numbers as before, bit for bit."""
    return value


@overload(lit, inline="always")
def _lit_overload(value, like):
    if isinstance(like, types.Float) and like.bitwidth == 32:
        return lambda value, like: np.float32(value)
    return lambda value, like: value


def series_below(like):
    """Where :func:`x_over_expm1` and :func:`phi1` switch to their series: 1e-3 in
    float64; 1e-2 in float32, whose direct quotients lose eps / |x| (6e-6 there) while the
    series' truncation stays below 1e-10."""
    return 1e-3


@overload(series_below, inline="always")
def _series_below_overload(like):
    if isinstance(like, types.Float) and like.bitwidth == 32:
        return lambda like: np.float32(1e-2)
    return lambda like: 1e-3


_EXP_SHIFT = 6755399441055744.0  # 1.5 * 2**52: x + it rounds x to an integer in the low bits


@njit(cache=True, inline="always", error_model="numpy")
def exp64(x):
    """e^x without a libm call, so that loops calling it vectorise.

    Cody-Waite reduction ``x = k ln2 + r``, ``|r| <= ln2 / 2``, the Taylor polynomial of
    e^r to degree 13 (truncation < 4e-18) and ``2^k`` built in the exponent bits. Relative
    error <= 1 ulp against ``math.exp`` (measured on 4e6 points in [-708, 708];
    ``tests/core/test_hodgkin_huxley.py``). ``x`` is clamped to [-708, 708], so the result
    is never 0 or inf (3.3e-308 .. 3.0e307): the gates' rates stay finite and positive even
    for the absurd potentials a diverging run passes through before it is stopped.
    """
    x = x if x > -708.0 else -708.0
    x = x if x < 708.0 else 708.0
    t = x * 1.4426950408889634 + _EXP_SHIFT  # x / ln2, rounded to nearest in the low bits
    kf = t - _EXP_SHIFT
    r = (x - kf * 6.93147180369123816490e-01) - kf * 1.90821492927058770002e-10
    q = 1.0 / 6227020800.0
    q = q * r + 1.0 / 479001600.0
    q = q * r + 1.0 / 39916800.0
    q = q * r + 1.0 / 3628800.0
    q = q * r + 1.0 / 362880.0
    q = q * r + 1.0 / 40320.0
    q = q * r + 1.0 / 5040.0
    q = q * r + 1.0 / 720.0
    q = q * r + 1.0 / 120.0
    q = q * r + 1.0 / 24.0
    q = q * r + 1.0 / 6.0
    q = q * r + 0.5
    q = q * r + 1.0
    q = q * r + 1.0
    # 2^k: the low bits of t hold k; k + 1023 in [2, 2046] is the biased exponent
    return q * bits_float((float_bits(t) + 1023) << 52, t)


_MANTISSA = (1 << 52) - 1
_ONE_BITS = 1023 << 52
_TWO52_BITS = 0x433 << 52


@njit(cache=True, inline="always", error_model="numpy")
def log64(x):
    """ln x for a positive normal float64 without a libm call, so that loops calling it
    vectorise.

    ``x = 2^e m`` read from the bits, ``m`` moved to [sqrt(1/2), sqrt(2)), then
    ``ln m = 2 atanh(s)``, ``s = (m - 1) / (m + 1)`` (``|s| <= 0.1716``), by its series to
    ``s^23`` (truncation < 2e-19) and ``e ln 2`` in two parts. Relative error <= 2 ulp
    against ``math.log`` (``tests/test_fastmath.py``). Zero, negative, subnormal, inf and
    NaN arguments give meaningless finite results: callers guarantee ``x`` is positive and
    normal (or select another value for such lanes).
    """
    bits = float_bits(x)
    # the biased exponent as a float by the 2^52 trick (no int64 -> double conversion,
    # which AVX2 lacks): the bits of 2^52 + k are 0x433 << 52 | k
    ef = bits_float((bits >> 52) | _TWO52_BITS, x) - (4503599627370496.0 + 1023.0)
    m = bits_float((bits & _MANTISSA) | _ONE_BITS, x)  # in [1, 2)
    big = m > 1.4142135623730951
    m = m * 0.5 if big else m
    ef = ef + 1.0 if big else ef
    s = (m - 1.0) / (m + 1.0)
    s2 = s * s
    q = 1.0 / 23.0
    q = q * s2 + 1.0 / 21.0
    q = q * s2 + 1.0 / 19.0
    q = q * s2 + 1.0 / 17.0
    q = q * s2 + 1.0 / 15.0
    q = q * s2 + 1.0 / 13.0
    q = q * s2 + 1.0 / 11.0
    q = q * s2 + 1.0 / 9.0
    q = q * s2 + 1.0 / 7.0
    q = q * s2 + 1.0 / 5.0
    q = q * s2 + 1.0 / 3.0
    # 2 s (1 + s2 q) = 2 s + 2 s s2 q: the small part added to the exact 2 s last
    return ef * 6.93147180369123816490e-01 + (2.0 * s + (2.0 * s * s2 * q
                                                       + ef * 1.90821492927058770002e-10))


_EXP_SHIFT32 = np.float32(12582912.0)  # 1.5 * 2**23: x + it rounds x to an integer


@njit(cache=True, inline="always", error_model="numpy")
def exp32(x):
    """e^x in float32 arithmetic, the float32 counterpart of :func:`exp64` (a float32 run
    then vectorises 16 neurons per AVX-512 instruction instead of 8).

    Cody-Waite reduction with ln 2 split into a 16-bit head (exact products) and a tail,
    the Taylor polynomial of e^r to degree 7 (truncation < 6e-9 relative, |r| <= ln2 / 2)
    and ``2^k`` built in the exponent bits. ``x`` is clamped to [-87, 88]: the result is
    never 0, subnormal or inf (1.6e-38 .. 1.7e38). Relative error <= 2 float32 ulp against
    ``math.exp`` (``tests/core/test_hodgkin_huxley.py``).
    """
    lo = np.float32(-87.0)
    hi = np.float32(88.0)
    x = x if x > lo else lo
    x = x if x < hi else hi
    t = x * np.float32(1.4426950408889634) + _EXP_SHIFT32
    kf = t - _EXP_SHIFT32
    r = (x - kf * np.float32(0.693145751953125)) - kf * np.float32(1.428606765330187e-06)
    q = np.float32(1.0 / 5040.0)
    q = q * r + np.float32(1.0 / 720.0)
    q = q * r + np.float32(1.0 / 120.0)
    q = q * r + np.float32(1.0 / 24.0)
    q = q * r + np.float32(1.0 / 6.0)
    q = q * r + np.float32(0.5)
    q = q * r + np.float32(1.0)
    q = q * r + np.float32(1.0)
    # the low bits of t hold k; k + 127 in [1, 254] is the biased exponent
    return q * bits_float((float_bits(t) + 127) << 23, t)


def expg(x):
    """e^x in the precision of ``x``: :func:`exp32` for float32, else :func:`exp64`."""
    import math

    return math.exp(x)


@overload(expg, jit_options={"error_model": "numpy"})
def _expg_overload(x):
    # not inlined at Numba's IR level (an IR-inlined overload calling IR-inlined functions
    # trips Numba's IR assumptions); LLVM inlines the call, the loops still vectorise
    if isinstance(x, types.Float) and x.bitwidth == 32:
        def exp_32(x):
            return exp32(x)
        return exp_32

    def exp_64(x):
        return exp64(x)
    return exp_64


@njit(cache=True, inline="always", error_model="numpy")
def x_over_expm1(x, ex):
    """x / (e^x - 1) given ``ex`` = e^x, continuous through its removable singularity at
    x = 0: the series 1 - x/2 + x^2/12 - x^4/720 for |x| < 1e-3 (truncation < 1e-21),
    else the quotient (relative error <= ~3 ulp / |x| <= 7e-13, from the rounding of ex)."""
    one = lit(1.0, x)
    series = one - x * (lit(0.5, x) - x * (lit(1.0 / 12.0, x) - x * x * lit(1.0 / 720.0, x)))
    direct = x / (ex - one)
    return series if abs(x) < series_below(x) else direct


@njit(cache=True, inline="always", error_model="numpy")
def phi1(a):
    """(1 - e^-a) / a for a >= 0, with its limit 1 at a = 0 (series below 1e-3)."""
    one = lit(1.0, a)
    series = one - a * (lit(0.5, a) - a * (lit(1.0 / 6.0, a) - a * lit(1.0 / 24.0, a)))
    direct = (one - expg(-a)) / a
    return series if a < series_below(a) else direct




@intrinsic
def fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (LLVM's ``llvm.fma``: one ``vfmadd`` instruction on a CPU
    with FMA, vectorised in loops like ``*`` and ``+``; a libm ``fma`` call elsewhere).
    Arguments of different float types are promoted to the widest, as ``a * b + c`` would
    be (a float64 literal makes a float32 operation float64: use :func:`lit` to keep a
    float32 run in float32).

    The result is the same in scalar and vectorised code (one rounding, no choice left
    to the compiler), unlike ``fastmath`` contraction.

    >>> from neurosim_nb._jit import njit
    >>> njit(lambda a, b, c: fma(a, b, c))(0.1, 10.0, -1.0)   # 0.1 is 0.1000...0555
    5.551115123125783e-17
    >>> import numpy as np
    >>> njit(lambda a, b, c: fma(a, b, c))(np.float32(0.5), 2.0, np.float32(1.0))
    2.0
    """
    if not all(isinstance(x, types.Float) for x in (a, b, c)):
        return None
    ty = max((a, b, c), key=lambda x: x.bitwidth)

    def codegen(context, builder, sig, args):
        vals = [context.cast(builder, v, t, ty) for v, t in zip(args, sig.args, strict=True)]
        lty = context.get_value_type(ty)
        fn = builder.module.declare_intrinsic("llvm.fma", [lty],
                                              llvm_ir.FunctionType(lty, [lty, lty, lty]))
        return builder.call(fn, vals)

    return ty(a, b, c), codegen


@njit(cache=True, inline="always", error_model="numpy")
def exp_fma64(x):
    """e^x for ``|x| <= 708`` (not checked: the caller bounds or clamps ``x``) in 19
    floating-point operations with :func:`fma`, against ~37 for :func:`exp64`: the same
    Cody-Waite reduction and degree-13 Taylor polynomial, fused. Relative error <= 1 ulp
    against ``math.exp`` (``tests/test_fastmath.py``).

    >>> import math
    >>> abs(exp_fma64(1.0) / math.e - 1.0) <= 2.3e-16
    True
    """
    t = fma(x, 1.4426950408889634, _EXP_SHIFT)  # x / ln2 rounded to an integer, low bits
    kf = t - _EXP_SHIFT
    r = fma(kf, -6.93147180369123816490e-01, x)  # exact (ln2's head has 32 bits)
    r = fma(kf, -1.90821492927058770002e-10, r)
    q = fma(1.0 / 6227020800.0, r, 1.0 / 479001600.0)
    q = fma(q, r, 1.0 / 39916800.0)
    q = fma(q, r, 1.0 / 3628800.0)
    q = fma(q, r, 1.0 / 362880.0)
    q = fma(q, r, 1.0 / 40320.0)
    q = fma(q, r, 1.0 / 5040.0)
    q = fma(q, r, 1.0 / 720.0)
    q = fma(q, r, 1.0 / 120.0)
    q = fma(q, r, 1.0 / 24.0)
    q = fma(q, r, 1.0 / 6.0)
    q = fma(q, r, 0.5)
    q = fma(q, r, 1.0)
    q = fma(q, r, 1.0)
    return q * bits_float((float_bits(t) + 1023) << 52, t)


@njit(cache=True, inline="always", error_model="numpy")
def exp_fma32(x):
    """:func:`exp_fma64` in float32 arithmetic (:func:`exp32` fused) for ``|x| <= 87``
    (not checked); relative error <= 2 float32 ulp against ``math.exp``."""
    t = fma(x, np.float32(1.4426950408889634), _EXP_SHIFT32)
    kf = t - _EXP_SHIFT32
    r = fma(kf, np.float32(-0.693145751953125), x)
    r = fma(kf, np.float32(-1.428606765330187e-06), r)
    q = fma(np.float32(1.0 / 5040.0), r, np.float32(1.0 / 720.0))
    q = fma(q, r, np.float32(1.0 / 120.0))
    q = fma(q, r, np.float32(1.0 / 24.0))
    q = fma(q, r, np.float32(1.0 / 6.0))
    q = fma(q, r, np.float32(0.5))
    q = fma(q, r, np.float32(1.0))
    q = fma(q, r, np.float32(1.0))
    return q * bits_float((float_bits(t) + 127) << 23, t)


def exp_fma(x):
    """e^x in the precision of ``x`` with FMA: :func:`exp_fma32` for float32, else
    :func:`exp_fma64`; ``x`` must lie in their range (not checked)."""
    import math

    return math.exp(x)


@overload(exp_fma, jit_options={"error_model": "numpy"})
def _exp_fma_overload(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        def exp_fma_32(x):
            return exp_fma32(x)
        return exp_fma_32

    def exp_fma_64(x):
        return exp_fma64(x)
    return exp_fma_64


@intrinsic
def prefer_wide_vectors(typingctx):
    """Mark the function being compiled (the caller, after Numba's inlining: the kernel
    whose loop inlines the calling update) so that LLVM vectorises its loops with 512-bit
    vectors where the CPU has AVX-512 (the function attribute
    ``"prefer-vector-width"="512"``); no effect elsewhere and no code.

    LLVM's default for AVX-512 CPUs is 256 bits (to avoid the clock penalty of 512-bit
    instructions on early parts). A loop whose iteration is a long dependency chain -- the
    Hodgkin-Huxley update: exponentials, then divisions, then exponentials -- is bound by
    that latency, not by the floating-point ports, and 8 neurons per chain instead of 4
    nearly double its throughput (measured: HH fast update 13.5 -> 8.3 ns per neuron and
    step on this Emerald Rapids CPU).

    >>> from neurosim_nb._jit import njit
    >>> @njit
    ... def f(x):
    ...     prefer_wide_vectors()
    ...     return x + 1.0
    >>> f(1.0)
    2.0
    """
    def codegen(context, builder, sig, args):
        attrs = builder.function.attributes
        # a string attribute: llvmlite's AttributeSet.add accepts only its known names
        set.add(attrs, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

    return types.none(), codegen
