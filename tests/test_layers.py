"""The package's one-way layers hold: ``lint-imports`` keeps every contract of
``[tool.importlinter]`` in ``pyproject.toml`` (layers bottom to top: errors, _jit | _validation,
foundation, numerics | _codegen, stimuli | channels | morphology, core.synapses, core.neurons,
cable, core.networks, engine, analysis | export | experiments, fitting (sweeps, fits and
sensitivity on Dask), accessor, plotting, panels, cli | warmup; the UI libraries only in the
panels, Bokeh also in plotting).

It checks this checkout's ``neurosim_nb`` (``PYTHONPATH`` = the repository root), whatever
copy the environment has installed.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    if importlib.util.find_spec("importlinter") is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]' installs it)")
    path = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    # what the lint-imports script runs, in this interpreter (whatever PATH holds)
    code = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    out = subprocess.run([sys.executable, "-c", code, "--no-cache", "--no-logo"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout, out.stdout
