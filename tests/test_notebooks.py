"""Every notebook in notebooks/ and widgets/ runs top to bottom in a fresh kernel.

The kernel is the ``python3`` kernel spec run by this interpreter (jupyter_client starts a
spec whose command is ``python`` with ``sys.executable``), checked explicitly below so the
notebooks are tested against this environment's neurosim_nb. ``NEUROSIM_FAST=1`` makes the
notebooks shorten their simulations.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("widgets/*.ipynb")])
KERNEL = "python3"


def run_notebook(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 600):
    client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL,
                            resources={"metadata": {"path": str(cwd)}})
    return client.execute()


@pytest.fixture(autouse=True)
def fast_env(monkeypatch):
    monkeypatch.setenv("NEUROSIM_FAST", "1")


def test_there_are_notebooks():
    names = {p.relative_to(ROOT).as_posix() for p in NOTEBOOKS}
    assert {"notebooks/01_single_neurons.ipynb", "widgets/neuron_explorer.ipynb"} <= names


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_is_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [c.get("id") for c in nb.cells if c.cell_type == "code"
             and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{path.name}: strip the outputs of cells {dirty} before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_runs_top_to_bottom(path):
    nb = nbformat.read(path, as_version=4)
    try:
        run_notebook(nb, path.parent)
    except CellExecutionError as exc:
        pytest.fail(f"{path.relative_to(ROOT)} failed:\n{exc}")
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
