"""Keep Python's cyclic garbage collector off the engine's long-lived objects (opt-in).

Off by default: freezing acts on the whole process, so a library must not do it to a
user's notebook unasked. Opt in with the environment variable ``NEUROSIM_NB_GC_FREEZE=1``
(the ``neurosim`` command line and the benchmarks do, for their own processes). Then,
after the first simulation of a process, the objects that exist then -- Numba's compiler
and type registries (loaded with the first compiled kernel), xarray and pandas, the
package's own modules: about 150 000 tracked objects, nearly all of which live until the
interpreter exits -- are moved to the collector's permanent generation with
:func:`gc.freeze`. Reference counting still frees them as usual; only the cycle search
skips them. Every full collection then costs ~1 ms instead of ~70 ms, which is felt
twice: as pauses during a notebook or Voila session, and at interpreter exit, whose
collections over those objects took ~0.3 s of every command-line run.

The cost: a reference cycle among objects that existed at that moment and become garbage
later is not reclaimed (cycles that are already garbage then: a handful of objects,
measured).

>>> import gc
>>> from neurosim_nb._gc import freeze_long_lived
>>> freeze_long_lived() in (True, False) and gc.get_freeze_count() >= 0
True
"""

from __future__ import annotations

import gc
import os

__all__ = ["freeze_long_lived", "ENV_VAR"]

#: set to "1" to freeze the long-lived objects after the first simulation
ENV_VAR = "NEUROSIM_NB_GC_FREEZE"

_done = False


def freeze_long_lived() -> bool:
    """Freeze the tracked objects into the permanent generation, once per process and only
    when :data:`ENV_VAR` is ``"1"``; returns whether this call froze them."""
    global _done
    if _done or os.environ.get(ENV_VAR, "0").strip() != "1":
        return False
    _done = True
    gc.freeze()
    return True
