"""Every notebook in notebooks/ and widgets/ runs top to bottom in a fresh kernel.

Notebooks are discovered by glob when the tests are collected: a new tutorial or app is
tested without being listed here. The tutorials assert physiological facts in their own
cells (e.g. the CV of the asynchronous irregular regime), so executing them is a real test;
the apps run kernel-side (the panel is built and shown, no browser: the browser tests in
``tests/browser`` drive them under Voila). Committed notebooks carry no outputs, execution
counts or widget state.

The kernel is the ``python3`` kernel spec run by this interpreter (jupyter_client starts a
spec whose command is ``python`` with ``sys.executable``), checked explicitly below so the
notebooks are tested against this environment's neurosim_nb. ``NEUROSIM_FAST=1`` makes the
notebooks shorten their simulations.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

# every notebook in its own kernel: long and independent of the rest
# (python3 tasks.py test runs these in its second process)
pytestmark = pytest.mark.second_process

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted(ROOT.glob("notebooks/*.ipynb"))
APPS = sorted(ROOT.glob("widgets/*.ipynb"))
NOTEBOOKS = [*TUTORIALS, *APPS]
KERNEL = "python3"
#: generous wall-time budget of one notebook under NEUROSIM_FAST=1 (they take 5-20 s here)
FAST_BUDGET_S = 240.0


def _id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def run_notebook(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 600):
    client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL,
                            resources={"metadata": {"path": str(cwd)}})
    return client.execute()


@pytest.fixture(autouse=True)
def fast_env(monkeypatch):
    monkeypatch.setenv("NEUROSIM_FAST", "1")


def test_there_are_notebooks():
    names = {p.relative_to(ROOT).as_posix() for p in NOTEBOOKS}
    assert {"notebooks/01_single_neurons.ipynb", "notebooks/02_synapses_plasticity.ipynb",
            "notebooks/03_networks.ipynb", "notebooks/04_analysis_export.ipynb",
            "notebooks/09_adaptive_time_steps.ipynb", "widgets/neuron_explorer.ipynb"} <= names


def test_kernel_is_this_environment(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, sys, neurosim_nb\n"
        "print(sys.executable); print(os.environ.get('NEUROSIM_FAST'));"
        " print(neurosim_nb.__file__)")])
    run_notebook(nb, tmp_path, timeout=120)
    exe, fast, pkg = nb.cells[0].outputs[0]["text"].split()
    assert os.path.realpath(exe) == os.path.realpath(sys.executable)
    assert fast == "1"
    assert Path(pkg).resolve().is_relative_to(ROOT)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_notebook_is_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [c.get("id") for c in nb.cells if c.cell_type == "code"
             and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{path.name}: strip the outputs of cells {dirty} before committing"
    assert "widgets" not in nb.metadata, f"{path.name}: saved widget state; clear it"
    assert nb.metadata.get("kernelspec", {}).get("name") == KERNEL, nb.metadata


@pytest.mark.parametrize("path", TUTORIALS, ids=_id)
def test_tutorial_teaches_checks_and_ends_with_exercises(path):
    nb = nbformat.read(path, as_version=4)
    first, last = nb.cells[0], nb.cells[-1]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "a title first"
    assert last.cell_type == "markdown" and "Exercises" in last.source, "exercises last"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "assert " in code or "assert_" in code, "a tutorial checks its numbers in code"
    assert "NEUROSIM_FAST" in code, "a tutorial shortens its runs under NEUROSIM_FAST=1"
    n_md = sum(c.cell_type == "markdown" for c in nb.cells)
    assert n_md >= 5, "a tutorial explains: more markdown"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_notebook_runs_top_to_bottom(path):
    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    try:
        run_notebook(nb, path.parent)
    except CellExecutionError as exc:
        pytest.fail(f"{path.relative_to(ROOT)} failed:\n{exc}")
    took = time.perf_counter() - t0
    assert took < FAST_BUDGET_S, f"{_id(path)} took {took:.0f} s with NEUROSIM_FAST=1"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    stderr = [o["text"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "stream" and o["name"] == "stderr"]
    assert not any("Traceback" in s or "Error" in s for s in stderr), stderr
    if path.parent.name == "widgets":   # an app shows a widget
        mimes = {m for c in nb.cells if c.cell_type == "code" for o in c.outputs
                 for m in o.get("data", {})}
        assert "application/vnd.jupyter.widget-view+json" in mimes, mimes
