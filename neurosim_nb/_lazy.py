"""Lazy imports: public names of package ``__init__`` modules resolve on first use, and
xarray's check for Dask arrays imports Dask only once Dask arrays can exist."""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable

__all__ = ["lazy_getattr", "defer_dask_in_xarray"]


def lazy_getattr(package: str, table: dict[str, str]) -> Callable[[str], object]:
    """A module-level ``__getattr__`` importing ``name`` from ``table[name]`` on first use."""

    def __getattr__(name: str):
        if name in table:
            return getattr(importlib.import_module(table[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


def defer_dask_in_xarray() -> bool:
    """Keep xarray from importing ``dask.array`` for its first ``Variable``.

    xarray asks ``isinstance(data, dask.array.Array)`` of every new variable, and the first
    time it imports ``dask.array`` to get that class if Dask is installed -- with it
    ``scipy.sparse``, ``scipy.fft`` and ``scipy.special``: ~10-20 MB of resident memory
    and 0.1-0.2 s on the first ``simulate`` of a process, for arrays that cannot be Dask's
    (an object is a Dask array only if ``dask.array`` was imported to make it). This puts
    in xarray's cache of duck-array modules an entry whose ``type`` is ``()`` while
    ``dask.array`` is not imported, and the real entry (that xarray would have made) as soon
    as it is. Likewise xarray's ``is_dask_collection`` (asked of every index it builds)
    imports ``dask`` (~7 MB) to answer; the wrapper put in its place answers ``False``
    without it for an object whose type lacks ``__dask_graph__`` while ``dask`` is not
    imported, and otherwise asks xarray's function. Returns whether the entry was
    installed: not when ``dask.array`` is already imported, the cache already holds Dask's
    entry, or xarray's internals (``xarray.namedarray``) are not the expected ones --
    then nothing changes.

    >>> import sys
    >>> from xarray.namedarray.pycompat import array_type
    >>> defer_dask_in_xarray() in (True, False)
    True
    >>> array_type("dask") == () or "dask.array" in sys.modules
    True
    """
    if "dask.array" in sys.modules:
        return False
    try:
        from xarray.namedarray import pycompat
        from xarray.namedarray import utils as xr_utils

        cache = pycompat._cached_duck_array_modules
        real_class = pycompat.DuckArrayModule
        real_is_collection = xr_utils.is_dask_collection
    except (ImportError, AttributeError):
        return False
    if not isinstance(cache, dict) or "dask" in cache:
        return False

    @functools.wraps(real_is_collection)
    def is_dask_collection(x: object) -> bool:
        # a Dask collection implements __dask_graph__ -- and made with Dask, it was imported
        if "dask" not in sys.modules and not hasattr(type(x), "__dask_graph__"):
            return False
        return real_is_collection(x)

    if getattr(real_is_collection, "__module__", None) == xr_utils.__name__:
        xr_utils.is_dask_collection = is_dask_collection  # what is_duck_dask_array calls

    class DeferredDask(real_class):
        """xarray's entry for Dask, made only once ``dask.array`` is imported."""

        def __init__(self) -> None:  # noqa: D107 (imports nothing)
            pass

        @staticmethod
        def _real():
            entry = real_class("dask")
            if entry.available and entry.type:
                cache["dask"] = entry  # xarray's own entry from now on
            return entry

        @property
        def type(self):
            if getattr(sys.modules.get("dask.array"), "Array", None) is None:
                return ()
            return self._real().type

        @property
        def module(self):
            return self._real().module

        @property
        def version(self):
            return self._real().version

        @property
        def available(self):
            return self._real().available

    cache["dask"] = DeferredDask()
    return True
