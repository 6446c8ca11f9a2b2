"""The Binder configuration in ``binder/``: pinned, and installable in a clean environment.

repo2docker (what mybinder.org runs) reads ``binder/runtime.txt`` for the Python version and
runs ``pip install -r binder/requirements.txt`` from the repository root, then ``postBuild``
if there is one; the Jupyter server then serves JupyterLab and, through voila's server
extension (enabled by voila's own ``jupyter_server_config.d`` file), the apps at
``/voila/render/widgets/<app>.ipynb``. The slow test repeats those steps in a fresh virtual
environment (no system site packages) on a copy of the repository, with pip's cache, and
checks what a Binder session needs: the package and its panels import from the environment,
``voila`` runs and the server lists its extension.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import venv
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)\s*(?:#.*)?$")
#: what a Binder session needs besides the package's own dependencies
EXTRA_NEEDS = {"networkx",   # notebooks/03_networks.ipynb cross-checks its graph metrics
               # the live diagram of widgets/phase_diagram.ipynb runs on a Dask LocalCluster;
               # notebooks/07 fits and runs a Sobol' analysis (SALib)
               "dask", "distributed", "SALib"}
#: copied to the staging directory (what `pip install .` needs to build the package)
STAGE_IGNORE = shutil.ignore_patterns(".git", ".venv", "*.egg-info", "__pycache__", "build",
                                      "test-artifacts", ".peers-venv", "results", "*.nc")


def requirement_lines() -> list[str]:
    lines = []
    for raw in (BINDER / "requirements.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line:
            lines.append(line)
    return lines


def pins() -> dict[str, str]:
    out = {}
    for line in requirement_lines():
        m = PIN.match(line)
        if m:
            out[canonicalize_name(m.group(1))] = m.group(2)
    return out


def test_runtime_is_python_311():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"


def test_requirements_are_pinned_and_install_the_repository():
    lines = requirement_lines()
    local = [x for x in lines if not PIN.match(x)]
    assert local == ["."], f"every line but the package itself must be name==version: {local}"
    assert len(pins()) == len(lines) - 1, "a package is pinned twice"
    # nothing Binder cannot do: no extension-install steps; postBuild only compiles the
    # kernels into the image (python -m neurosim_nb.warmup)
    post = BINDER / "postBuild"
    assert os.access(post, os.X_OK), "binder/postBuild must be executable"
    commands = [x for x in post.read_text().splitlines() if x and not x.startswith("#")]
    assert commands == ["set -euo pipefail", "python -P -m neurosim_nb.warmup"], commands


def test_pins_cover_the_package_and_match_the_development_environment():
    if tomllib is None:
        pytest.skip("reading pyproject.toml needs Python >= 3.11 (tomllib)")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = [Requirement(r) for r in project["dependencies"]
              + project["optional-dependencies"]["ui"]]
    pinned = pins()
    for req in needed:
        name = canonicalize_name(req.name)
        if name == canonicalize_name(project["name"]):
            continue
        assert name in pinned, f"{req.name} (pyproject) is not pinned in binder/requirements.txt"
        assert req.specifier.contains(pinned[name], prereleases=True), (req, pinned[name])
    for name in EXTRA_NEEDS:
        assert canonicalize_name(name) in pinned, name
    # the pins are this environment's versions (regenerate binder/requirements.txt after
    # upgrading .venv: see the comment at its top)
    stale = {}
    for name, version in pinned.items():
        try:
            have = md.version(name)
        except md.PackageNotFoundError:
            stale[name] = (version, "not installed")
            continue
        if have != version:
            stale[name] = (version, have)
    assert not stale, f"binder pins differ from this environment (pin, installed): {stale}"


def _clean_env(venv_dir: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}
           and not k.startswith(("JUPYTER_", "PIP_REQUIRE"))}
    env["PATH"] = f"{venv_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv_dir)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["NUMBA_CACHE_DIR"] = str(home / "numba-cache")
    for kind in ("CONFIG", "DATA", "RUNTIME"):   # no user-level Jupyter config leaks in
        env[f"JUPYTER_{kind}_DIR"] = str(home / f"jupyter-{kind.lower()}")
    return env


def _run(cmd, cwd: Path, env: dict[str, str], timeout: float = 900) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    out = ANSI.sub("", proc.stdout + proc.stderr)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{out[-6000:]}"
    return out


class _Background:
    """The install check run in a thread started when the suite's collection ends
    (the root ``conftest.py``): its work is subprocesses (pip, the warm-up's compilation), so on
    a machine with a second core it overlaps the rest of the suite instead of adding ~2
    minutes to it; the test then waits for it and re-raises what it raised."""

    thread: threading.Thread | None = None
    error: BaseException | None = None
    report = ""

    @classmethod
    def start(cls) -> None:
        if cls.thread is not None:
            return
        tmp = Path(tempfile.mkdtemp(prefix="neurosim-binder-"))

        def work():
            try:
                cls.report = _install_and_check(tmp)
            except BaseException as exc:  # re-raised in the test's own thread
                cls.error = exc
            finally:
                shutil.rmtree(tmp, ignore_errors=True)

        cls.thread = threading.Thread(target=work, name="binder-install", daemon=True)
        cls.thread.start()


def start_install_in_background() -> None:
    """Begin :func:`_install_and_check` now (called by the root ``conftest.py``)."""
    _Background.start()


@pytest.mark.slow
def test_binder_files_install_in_a_clean_environment():
    _Background.start()                  # (already running when collected with the suite)
    _Background.thread.join()
    if _Background.error is not None:
        raise _Background.error
    print(_Background.report)


def _install_and_check(tmp_path: Path) -> str:
    t0 = time.perf_counter()
    repo = tmp_path / "repo"           # repo2docker stages the repository; so do we
    shutil.copytree(ROOT, repo, ignore=STAGE_IGNORE, symlinks=True)
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=True, system_site_packages=False, clear=True).create(env_dir)
    py = env_dir / "bin" / "python"
    env = _clean_env(env_dir, tmp_path / "home")
    t_venv = time.perf_counter()

    # what repo2docker runs, from the repository root, with pip's cache (byte-compiling is
    # skipped: it only saves Python a little work at the first import, and half the time here)
    _run([py, "-m", "pip", "install", "--no-compile", "-r", "binder/requirements.txt"], repo,
         env)
    t_pip = time.perf_counter()
    warm = _run([str(repo / "binder" / "postBuild")], repo, env)
    assert "ready in" in warm, warm
    t_install = time.perf_counter()

    # a clean environment: its own site-packages only, the package installed into it, the
    # UI stack importable (the apps' panels)
    where = tmp_path / "elsewhere"
    where.mkdir()
    out = _run([py, "-c",
                "import sys, neurosim_nb, neurosim_nb.panels, jupyter_bokeh, ipywidgets\n"
                "print(sys.prefix)\n"
                "print(neurosim_nb.__file__)\n"
                "print(neurosim_nb.panels.NeuronExplorer.__name__)\n"], where, env)
    lines = out.strip().splitlines()
    assert Path(lines[0]).resolve() == env_dir.resolve(), out
    pkg = Path(lines[1]).resolve()
    assert pkg.is_relative_to(env_dir.resolve()), f"neurosim_nb imported from {pkg}"
    assert lines[2] == "NeuronExplorer", out
    # postBuild left the compiled network loop in the image: a new process elsewhere (as
    # the apps' kernels, which import the installed package) loads it from Numba's cache
    # -- a hit, no miss -- instead of compiling it
    stats = _run([py, "-c",
                  "from neurosim_nb import LIFNeuron, Network\n"
                  "from neurosim_nb.engine.loop import kernel_set, network_loop\n"
                  "net = Network('b', seed=0)\n"
                  "net.add_population('a', LIFNeuron(n=3))\n"
                  "net.simulate(1.0, record=(), verbose=False)\n"
                  "run_steps = network_loop(*kernel_set(net.populations.values()))\n"
                  "print(sum(run_steps.stats.cache_hits.values()), "
                  "sum(run_steps.stats.cache_misses.values()))\n"], where, env)
    assert stats.split()[-2:] == ["1", "0"], stats
    frozen = _run([py, "-m", "pip", "list", "--format=freeze"], where, env)
    assert "\nneurosim_nb==" in "\n" + frozen or "\nneurosim-nb==" in "\n" + frozen, frozen
    assert not re.search(r"^(pytest|playwright|ruff)==", frozen, re.M), "test tools leaked in"

    # voila runs, and Jupyter's server lists and enables its extension (the /voila route)
    assert _run([env_dir / "bin" / "voila", "--version"], where, env).strip() == pins()["voila"]
    ext = _run([env_dir / "bin" / "jupyter", "server", "extension", "list"], where, env)
    assert re.search(r"voila\S*\s+enabled", ext), ext
    assert re.search(r"jupyterlab\S*\s+enabled", ext), ext
    labext = _run([env_dir / "bin" / "jupyter", "labextension", "list"], where, env)
    for name in ("@jupyter-widgets/jupyterlab-manager", "@bokeh/jupyter_bokeh"):
        assert name in labext, labext
    t_end = time.perf_counter()
    return (f"\nbinder install: venv {t_venv - t0:.1f} s, pip install {t_pip - t_venv:.1f} s, "
            f"postBuild (warm-up) {t_install - t_pip:.1f} s, checks {t_end - t_install:.1f} s, "
            f"total {t_end - t0:.1f} s")
