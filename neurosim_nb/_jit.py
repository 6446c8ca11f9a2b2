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
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from pathlib import Path

import numba
from numba.core.caching import FunctionCache

__all__ = ["njit", "SOURCES_HASH", "TrackedCache", "tracked_sources", "defer_scipy_in_numba"]

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


def _scipy_installed() -> None:
    """Numba's ``ensure_blas`` for its BLAS check at import: succeeds when SciPy is
    installed (where ``scipy.linalg.cython_blas`` lives), without importing SciPy's
    ``linalg``."""
    if importlib.util.find_spec("scipy") is None:
        raise ImportError("scipy is not installed")


class _DeferredBlasCheck(importlib.abc.MetaPathFinder):
    """Finds ``numba.np.arraymath`` once and runs its import with :func:`_scipy_installed`
    as its BLAS check (see :func:`defer_scipy_in_numba`)."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "numba.np.arraymath":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)  # once
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        real_exec = loader.exec_module

        def exec_module(module):
            from numba.np import linalg

            real_check = getattr(linalg, "ensure_blas", None)
            if real_check is None:  # not the Numba this was written for: its own check
                return real_exec(module)
            linalg.ensure_blas = _scipy_installed  # what arraymath imports for its check
            try:
                return real_exec(module)
            finally:
                linalg.ensure_blas = real_check  # Numba's linear algebra checks as before

        loader.exec_module = exec_module  # (this spec's own loader object)
        return spec


def defer_scipy_in_numba() -> bool:
    """Keep Numba's start-up from importing ``scipy.linalg``.

    When Numba initialises its CPU target (the first compilation, or the first function
    loaded from its cache, in a process) it imports ``numba.np.arraymath``, which asks
    whether BLAS is available by importing ``scipy.linalg.cython_blas`` -- and with it all
    of ``scipy.linalg`` and, through SciPy's array-API layer, ``numpy.testing`` and
    ``numpy.f2py``: 14.5 MB of resident memory and ~0.13 s for every process that runs a
    simulation (CUBA 4000: peak 214 -> 199 MB), for an answer that only ``np.cov`` and
    ``np.corrcoef`` in compiled code read. This answers it with "SciPy is installed"
    (``importlib.util.find_spec``, nothing imported); Numba's linear algebra (``np.dot``,
    ``np.linalg``) still imports and checks ``scipy.linalg`` itself when first compiled.
    Installed once, before ``numba.np.arraymath`` is imported; returns whether it was
    (not when that module is already imported).

    >>> defer_scipy_in_numba() in (True, False)
    True
    """
    if "numba.np.arraymath" in sys.modules:
        return False
    if not any(isinstance(f, _DeferredBlasCheck) for f in sys.meta_path):
        sys.meta_path.insert(0, _DeferredBlasCheck())
    return True


defer_scipy_in_numba()
