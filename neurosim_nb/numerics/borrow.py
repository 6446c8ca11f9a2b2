"""Borrowed array views for compiled loops: the same data, shape and strides, no owner.

Every Numba array carries a pointer to its owner's reference count (its *meminfo*), and
Numba increments and decrements that count -- one atomic instruction each -- whenever an
array variable is bound, passed to a function (also an inlined one: its arguments become
new variables) or dropped. In a loop that hands a dozen arrays through three levels of
inlined functions at every step this adds up: the CUBA network loop made ~210 atomic
updates per span of two steps (counted with gdb breakpoints on ``NRT_incref`` /
``NRT_decref``), ~15 % of its time. Numba's reference-count functions test the meminfo for
NULL before touching it, so a view without one costs a call and a compare, not an atomic
instruction.

:func:`borrow` makes such a view. It is safe wherever the view cannot outlive the array it
was taken from: inside one compiled call that holds (through its argument) the original,
and whose views are never returned or stored.
"""

from __future__ import annotations

from numba.core import types
from numba.core.extending import intrinsic

__all__ = ["borrow"]


@intrinsic
def borrow(typingctx, arr):
    """``borrow(a)``: a view of array ``a`` without an owner (no reference counting); for
    a (named) tuple, the same tuple with each array element so borrowed.

    Use only inside a compiled function that keeps ``a`` alive for the view's lifetime
    and never returns or stores the view (or a view of it).

    >>> import numpy as np
    >>> from neurosim_nb._jit import njit
    >>> @njit
    ... def total(x):
    ...     y = borrow(x)
    ...     y[0] = 5.0
    ...     return y.sum()
    >>> x = np.ones(3)
    >>> float(total(x)), x.tolist()
    (7.0, [5.0, 1.0, 1.0])
    """
    if isinstance(arr, types.Array):
        def codegen(context, builder, signature, args):
            return _borrowed(context, builder, signature.args[0], args[0])

        return arr(arr), codegen
    if isinstance(arr, types.BaseTuple):  # (named) tuples: every array element borrowed
        def codegen_tuple(context, builder, signature, args):
            out = args[0]
            for i, ty in enumerate(signature.args[0].types):
                if isinstance(ty, types.Array):
                    item = builder.extract_value(out, i)
                    out = builder.insert_value(out, _borrowed(context, builder, ty, item), i)
            return out

        return arr(arr), codegen_tuple
    return None


def _borrowed(context, builder, aty, value):
    src = context.make_array(aty)(context, builder, value)
    out = context.make_array(aty)(context, builder)
    context.populate_array(out, data=src.data, shape=src.shape, strides=src.strides,
                           itemsize=src.itemsize, meminfo=None, parent=None)
    return out._getvalue()
