"""``python -m neurosim_nb.warmup`` loads (or compiles) what the apps use.

Checked in a fresh interpreter: after the warm-up, running the five Voila apps' notebook
code (as Voila does, with the test durations) makes no compiled function of the package
load or compile another signature -- so on a fresh installation the warm-up leaves the
apps nothing to compile.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import io, json, sys
    from numba.core.dispatcher import Dispatcher

    from neurosim_nb.warmup import STEPS, warm_up

    def loaded():
        out = {}
        for name, mod in list(sys.modules.items()):
            if not name.startswith("neurosim_nb"):
                continue
            for attr, value in vars(mod).items():
                if isinstance(value, Dispatcher):
                    out[f"{name}.{attr}"] = len(value.overloads)
        return out

    log = io.StringIO()
    warm_up(log)
    before = loaded()
    for notebook in json.loads(sys.argv[1]):
        namespace = {"__name__": "__main__"}  # one kernel per app, as Voila runs them
        for cell in notebook:
            exec(cell, namespace)
    after = loaded()
    new = {k: v - before.get(k, 0) for k, v in after.items() if v > before.get(k, 0)}
    print(json.dumps({"new": new, "log": log.getvalue(), "steps": [s for s, _ in STEPS]}))
""")


def _app_cells() -> list[list[str]]:
    """The code cells of each Voila app notebook."""
    apps = []
    for nb in sorted((ROOT / "widgets").glob("*.ipynb")):
        doc = json.loads(nb.read_text())
        apps.append(["".join(c["source"]) for c in doc["cells"] if c["cell_type"] == "code"])
    return apps


# in the second process (python3 tasks.py test), after the browser tests ran the apps in Voila:
# there their kernels are on disk already, here (the first process) it compiled the app-only
# ones itself (31 s of 866 on an empty cache)
@pytest.mark.second_process
def test_warm_up_covers_every_compiled_function_the_apps_use():
    cells = _app_cells()
    assert len(cells) >= 5  # the five apps
    env = {**os.environ, "NEUROSIM_FAST": "1"}
    out = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(cells)], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["new"] == {}, f"compiled after the warm-up: {result['new']}"
    for step in result["steps"]:
        assert f"  {step}: " in result["log"]
    assert "ready in" in result["log"]
