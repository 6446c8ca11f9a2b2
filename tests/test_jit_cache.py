"""The package's on-disk Numba cache is keyed by every compiled source file
(neurosim_nb._jit): an edit of a function that others inline must recompile them."""

import sys
from pathlib import Path

from numba.core.registry import CPUDispatcher

import neurosim_nb._jit as jit
import neurosim_nb.core.networks.network  # noqa: F401
import neurosim_nb.core.neurons.adaptive_lif  # noqa: F401
import neurosim_nb.core.neurons.hodgkin_huxley  # noqa: F401
import neurosim_nb.core.neurons.izhikevich  # noqa: F401
import neurosim_nb.core.neurons.lif  # noqa: F401
import neurosim_nb.core.synapses.connectivity  # noqa: F401
import neurosim_nb.engine.network_sim  # noqa: F401  (the loop, delivery, stimuli)


def test_every_cached_function_of_the_package_uses_the_tracked_cache():
    """Every ``cache=True`` dispatcher in the package's modules has a TrackedCache, and
    every module holding one is among the tracked sources (so its edits count)."""
    tracked = {p.resolve() for p in jit.tracked_sources()}
    found = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith("neurosim_nb"):
            continue
        for obj in vars(module).values():
            if isinstance(obj, CPUDispatcher) and obj.__module__ == name \
                    and obj._cache.__class__.__name__ != "NullCache":
                found += 1
                assert isinstance(obj._cache, jit.TrackedCache), f"{name}.{obj.__name__}"
                if name.startswith("neurosim_nb_generated_"):
                    # generated from a tracked template: its file name hashes its source
                    assert Path(module.__file__).stem.rsplit("_", 1)[-1] in name, name
                    continue
                assert Path(module.__file__).resolve() in tracked, name
    assert found >= 20  # the kernels, delivery, stimuli, connectivity, numerics


def test_the_cache_key_changes_with_any_tracked_source(monkeypatch):
    """The index key of a cached function is Numba's (signature, target, bytecode) plus
    the sources hash: another hash -- any edited tracked file -- is another key, so the
    old machine code is not loaded."""
    from neurosim_nb import LIFNeuron, Network
    from neurosim_nb.engine.loop import kernel_set, network_loop

    run_steps = network_loop(*kernel_set([LIFNeuron()]))
    sig = run_steps.signatures[0] if run_steps.signatures else None
    if sig is None:
        net = Network("n", seed=0)
        net.add_population("a", LIFNeuron(n=2))
        net.simulate(0.2, record=(), seed=0, verbose=False)
        sig = run_steps.signatures[0]
    codegen = run_steps.targetctx.codegen()
    key = run_steps._cache._index_key(sig, codegen)
    assert key[-1] == jit.SOURCES_HASH
    monkeypatch.setattr(jit, "SOURCES_HASH", "0" * 64)
    assert run_steps._cache._index_key(sig, codegen) != key


def test_the_sources_hash_covers_names_and_contents(tmp_path, monkeypatch):
    """The hash is over each tracked file's path and bytes: a changed byte changes it."""
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(jit, "_ROOT", tmp_path)
    monkeypatch.setattr(jit, "_TRACKED", ("engine",))
    h1 = jit._sources_hash()
    (tmp_path / "engine" / "a.py").write_text("x = 2\n")
    h2 = jit._sources_hash()
    assert h1 != h2 and len(h1) == len(h2) == 64


def test_generated_code_follows_the_source_of_what_it_imports(tmp_path, monkeypatch):
    """A generated kernel imports its model's update; Numba keys the generated module by
    its own text only, so that text carries a hash of the update's file: an edited model
    file gives another generated module, never the old machine code."""
    import importlib

    from neurosim_nb import _codegen

    mod = tmp_path / "user_model_for_stamp.py"
    mod.write_text("def update(v):\n    return v\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    user = importlib.import_module("user_model_for_stamp")
    first = _codegen.import_line(user.update, "update")
    mod.write_text("def update(v):\n    return v + 1\n")
    assert _codegen.import_line(user.update, "update") != first
    assert "from user_model_for_stamp import update as update" in first
