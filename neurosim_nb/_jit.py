"""``numba.njit`` for the package's compiled code, with an on-disk cache that cannot go stale.

Numba keys a cached function by its own source file only. The network loop
(:mod:`neurosim_nb.engine.loop`) and the model kernels inline functions from
other modules (the LIF update pass, the receptor channels, spike delivery); after an edit of
one of those -- a ``git pull``, a local change -- Numba would still load the old machine code
of every function that inlined it, silently. :func:`njit` is ``numba.njit`` whose cache
entries also carry a hash of every source file that holds compiled code
(:data:`SOURCES_HASH`): any change there recompiles, nothing stale is ever loaded.

>>> from neurosim_nb.engine.loop import _deliver  # defined with this njit
>>> type(_deliver._cache).__name__
'TrackedCache'
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numba
from numba.core.caching import FunctionCache

__all__ = ["njit", "SOURCES_HASH", "TrackedCache", "tracked_sources"]

_ROOT = Path(__file__).resolve().parent
#: folders (and files) of the package whose compiled functions call or inline each other
_TRACKED = ("core/neurons", "core/synapses", "core/networks", "engine", "numerics", "stimuli.py",
            "channels", "morphology", "cable", "fitting/objectives.py",
            "_jit.py", "_codegen.py")


def tracked_sources() -> list[Path]:
    """The source files whose content is part of every cache key, in a fixed order."""
    files: list[Path] = []
    for rel in _TRACKED:
        path = _ROOT / rel
        files.extend(sorted(path.glob("*.py")) if path.is_dir() else [path])
    return files


def _sources_hash() -> str:
    h = hashlib.sha256()
    for path in tracked_sources():
        h.update(path.relative_to(_ROOT).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


#: SHA-256 of the tracked sources (names and contents), computed at import (~1 ms)
SOURCES_HASH = _sources_hash()


class TrackedCache(FunctionCache):
    """Numba's per-function disk cache, keyed also by :data:`SOURCES_HASH`."""

    def _index_key(self, sig, codegen):
        return (*super()._index_key(sig, codegen), SOURCES_HASH)


def njit(*args, **kwargs):
    """``numba.njit`` with the same arguments; with ``cache=True`` the cache is a
    :class:`TrackedCache`."""
    if args and callable(args[0]):  # used bare: @njit
        return njit(**kwargs)(args[0])

    def decorate(func):
        dispatcher = numba.njit(*args, **kwargs)(func)
        if kwargs.get("cache"):
            dispatcher._cache = TrackedCache(dispatcher.py_func)
        return dispatcher

    return decorate
