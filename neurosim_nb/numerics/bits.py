"""Bit-mask helpers for compiled spike searches (LLVM vector compares and bit scans).

A threshold search over a population reads 64 potentials at a time: :func:`ge_mask64`
compares them with the threshold in one vector operation whose 64 results are the bits of
one integer (on AVX-512, eight compares into mask registers) and :func:`lowest_bit64`
walks the crossings in neuron order -- no scalar compare and no mispredicted branch per
neuron. The compares are IEEE ordered ``>=``, exactly as ``x
>= threshold`` in Python and Numba: NaN never crosses.

>>> import numpy as np
>>> from numba import njit
>>> @njit
... def crossings(v, thr):
...     m = ge_mask64(v, 0, thr)
...     out = []
...     while m:
...         out.append(lowest_bit64(m))
...         m &= m - np.uint64(1)
...     return len(out), out
>>> v = np.zeros(64); v[[3, 17, 63]] = 1.0; v[5] = np.nan
>>> crossings(v, 0.5)
(3, [3, 17, 63])
"""

from __future__ import annotations

from llvmlite import ir
from numba.core import cgutils, types
from numba.core.extending import intrinsic

__all__ = ["ge_mask64", "lowest_bit64"]


@intrinsic
def ge_mask64(typingctx, arr, start, threshold):
    """``ge_mask64(arr, start, thr)``: a ``uint64`` whose bit ``i`` is ``arr[start + i] >=
    thr``, for the 64 elements of the 1-D float array ``arr`` from ``start`` on (the
    caller keeps ``start + 64 <= arr.size``; there is no bounds check)."""
    if not (isinstance(arr, types.Array) and arr.ndim == 1
            and arr.dtype in (types.float32, types.float64)
            and isinstance(start, types.Integer) and isinstance(threshold, types.Float)):
        return None
    sig = types.uint64(arr, start, threshold)

    def codegen(context, builder, signature, args):
        aty, _, tty = signature.args
        ary = context.make_array(aty)(context, builder, args[0])
        elt = context.get_value_type(aty.dtype)
        thr = context.cast(builder, args[2], tty, aty.dtype)
        vty = ir.VectorType(elt, 64)
        ptr = builder.bitcast(builder.gep(ary.data, [args[1]]), vty.as_pointer())
        values = builder.load(ptr, align=aty.dtype.bitwidth // 8)
        one = builder.insert_element(ir.Constant(vty, ir.Undefined), thr,
                                     ir.Constant(ir.IntType(32), 0))
        splat = builder.shuffle_vector(one, ir.Constant(vty, ir.Undefined),
                                       ir.Constant(ir.VectorType(ir.IntType(32), 64), [0] * 64))
        bits = builder.fcmp_ordered(">=", values, splat)
        return builder.bitcast(bits, ir.IntType(64))

    return sig, codegen


def _bit_call(builder, llvm_name: str, value, *extra):
    i64 = ir.IntType(64)
    params = [i64] + [c.type for c in extra]
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(i64, params), llvm_name)
    return builder.call(fn, [value, *extra])


@intrinsic
def lowest_bit64(typingctx, x):
    """``lowest_bit64(x)``: the index of the lowest set bit of the 64-bit integer ``x``
    (64 for 0)."""
    if not isinstance(x, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        value = context.cast(builder, args[0], signature.args[0], types.uint64)
        return _bit_call(builder, "llvm.cttz.i64", value, ir.Constant(ir.IntType(1), 0))

    return types.uint64(x), codegen
