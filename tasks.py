#!/usr/bin/env python3
"""Set-up and everyday tasks, with nothing but Python needed.

    python3 tasks.py app     # install into .venv and serve the Voila apps on localhost
    python3 tasks.py test    # install into .venv and run the whole test suite

Both create the virtual environment ``.venv`` on first use and reinstall only when
``pyproject.toml`` changes. ``test`` also needs Debian's Chromium for the browser tests:
as root it installs it with apt-get, otherwise it says how.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".neurosim_installed"
CHROMIUM = "/usr/bin/chromium"


def sh(*cmd: str, **kw) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, **kw)


def install() -> None:
    """Create .venv and install the package with its UI and test extras."""
    if sys.version_info < (3, 10):  # noqa: UP036 - tasks.py may run on any python3
        sys.exit(f"neurosim_nb needs Python >= 3.10, this is {sys.version.split()[0]}")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest and PY.exists():
        return
    if not PY.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    sh(str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    sh(str(PY), "-m", "pip", "install", "--quiet", "-e", ".[test]")
    STAMP.write_text(digest)


def ensure_chromium() -> None:
    """Browser tests drive Debian's Chromium; install it when we may (root + apt-get)."""
    if Path(CHROMIUM).exists():
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        sh("apt-get", "update", "-qq")
        sh("apt-get", "install", "-y", "-qq", "chromium", env={**os.environ,
                                                              "DEBIAN_FRONTEND": "noninteractive"})
        return
    sys.exit("the browser tests need Chromium at /usr/bin/chromium: "
             "run `sudo apt-get install chromium` (Debian/Ubuntu) and try again")


def app(port: str = "8866") -> None:
    install()
    # load (on a fresh install: compile) the kernels now, not at the first slider move
    sh(str(PY), "-m", "neurosim_nb.warmup")
    print(f"\nneurosim_nb apps: http://127.0.0.1:{port}/  (Ctrl-C stops)\n", flush=True)
    sh(str(BIN / "voila"), "widgets/", "--no-browser", f"--port={port}",
       "--Voila.ip=127.0.0.1", "--Voila.port_retries=0")


def test(*pytest_args: str) -> None:
    """Lint, then the suite: with no arguments, in two processes, one per core -- the tests
    marked ``second_process`` (long and independent of the rest: compiling kernel variants
    no other test needs, tens of seconds each on an empty Numba cache and single-threaded,
    or whose kernels that process compiles anyway -- each process compiles what it runs;
    the app chaos test) and the browser tests beside all the others; with pytest arguments,
    one process running what they select."""
    install()
    ensure_chromium()
    sh(str(BIN / "ruff"), "check", "neurosim_nb", "tests", "benchmarks", "tasks.py",
       "conftest.py")
    sh(str(BIN / "lint-imports"))  # the one-way layers ([tool.importlinter] in pyproject.toml)
    suite = [str(PY), "-m", "pytest", "tests", "neurosim_nb", "--doctest-modules"]
    if pytest_args:
        sh(*suite, *pytest_args)
        return
    log = ROOT / "test-artifacts" / "second_process.log"
    log.parent.mkdir(exist_ok=True)
    # (the browser tests go there too: Voila and Chromium, independent of the rest)
    heavy_cmd = [str(PY), "-m", "pytest", "tests", "-m", "second_process or browser", "-p",
                 "no:cacheprovider", "--durations=15"]
    print("+", " ".join(heavy_cmd), f"> {log.relative_to(ROOT)}  (in the background)",
          flush=True)
    with open(log, "w") as out:
        heavy = subprocess.Popen(heavy_cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            main = subprocess.run([*suite, "-m", "not (second_process or browser)",
                                   "--durations=40"],
                                  cwd=ROOT).returncode
        finally:
            heavy_rc = heavy.wait()
    print(f"\n--- the second_process tests ({log.relative_to(ROOT)}) ---\n"
          + log.read_text(errors="replace")[-20000:], flush=True)
    if main or heavy_rc:
        raise subprocess.CalledProcessError(main or heavy_rc, suite)


def main(argv: list[str]) -> None:
    tasks = {"app": app, "test": test, "install": install}
    if not argv or argv[0] not in tasks:
        sys.exit(__doc__)
    try:
        tasks[argv[0]](*argv[1:])
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main(sys.argv[1:])
