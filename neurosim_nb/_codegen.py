"""Compiled code generated from templates, loaded as real modules so Numba can cache it.

The step skeleton of the point models and the network loop are written once, as templates
(:mod:`neurosim_nb.core.neurons.point_model`, :mod:`neurosim_nb.engine.loop`); the parts a
run needs -- a model's update, the set of kernels of one network -- are filled in here. A
generated module whose pieces all come from importable files is written to the cache
folder (``$NEUROSIM_NB_CACHE``, else ``$XDG_CACHE_HOME/neurosim_nb``, else
``~/.cache/neurosim_nb``) under a name that hashes its source, and imported from there:
Numba's on-disk cache then works for it as for any module (its entries also carry
:data:`neurosim_nb._jit.SOURCES_HASH`). A piece defined in a notebook cell has no file, so
its module is built in memory and compiled without a disk cache.

>>> mod = load_module("doc_example", "def f(x):\\n    return 2 * x\\n", {})
>>> mod.f(21)
42
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import types
from pathlib import Path

__all__ = ["cache_dir", "load_module", "importable", "import_line", "source_stamp"]


def cache_dir() -> Path:
    """The folder of generated modules (created on first use)."""
    root = os.environ.get("NEUROSIM_NB_CACHE")
    if root:
        path = Path(root)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                                 ".cache")
        path = Path(base) / "neurosim_nb"
    path = path / "generated"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.touch()
        probe.unlink()
    except OSError:  # a read-only home: a per-user temporary folder
        path = Path(tempfile.gettempdir()) / f"neurosim_nb-{os.getuid()}" / "generated"
        path.mkdir(parents=True, exist_ok=True)
    return path


def importable(func) -> bool:
    """Whether ``func`` (a Python function or a Numba dispatcher) can be imported by
    name from a module that is a file (so generated code may import it and be cached)."""
    py = getattr(func, "py_func", func)
    module = sys.modules.get(getattr(py, "__module__", None) or "")
    qual = getattr(py, "__qualname__", "")
    if module is None or "<locals>" in qual or module.__name__ == "__main__":
        return False
    if not getattr(module, "__file__", None):
        return False
    obj = module
    for part in qual.split("."):
        obj = getattr(obj, part, None)
    return obj is func


def source_stamp(func) -> str:
    """A hash of the file that defines ``func`` (its whole text: the helpers it calls
    included), written into generated sources that import it, so that an edit of that
    file gives another generated module -- and never loads the old machine code from
    Numba's cache (which keys a module by its own source only)."""
    py = getattr(func, "py_func", func)
    module = sys.modules.get(getattr(py, "__module__", None) or "")
    path = getattr(module, "__file__", None)
    if not path:
        return "none"
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    except OSError:
        return "unreadable"


def import_line(func, alias: str) -> str:
    """``from module import name as alias`` for an :func:`importable` function."""
    py = getattr(func, "py_func", func)
    qual = py.__qualname__
    stamp = f"# source of {py.__module__}: {source_stamp(func)}\n"
    if "." in qual:  # a staticmethod of a class: import the class
        cls, attr = qual.rsplit(".", 1)
        return stamp + f"from {py.__module__} import {cls.split('.')[0]} as _{alias}_owner\n" \
            f"{alias} = _{alias}_owner.{qual.split('.', 1)[1]}\n"
    return stamp + f"from {py.__module__} import {qual} as {alias}\n"


def load_module(stem: str, source: str, injected: dict, cacheable: bool = True):
    """Import generated ``source`` as a module.

    ``cacheable``: every name it uses is imported by the source itself, so it is written
    to :func:`cache_dir` (``{stem}_{hash}.py``) and imported from the file (Numba caches
    it). Otherwise it is executed in memory with ``injected`` as its starting globals
    (``cache=True`` in such a source must be avoided by the template).
    """
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    name = f"neurosim_nb_generated_{stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    if not cacheable:
        module = types.ModuleType(name)
        module.__dict__.update(injected)
        exec(compile(source, f"<neurosim_nb generated {stem}>", "exec"), module.__dict__)
        sys.modules[name] = module
        return module
    path = cache_dir() / f"{stem}_{digest}.py"
    if not path.exists() or path.read_text() != source:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(source)
        os.replace(tmp, path)  # atomic: a concurrent process never reads half a file
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
