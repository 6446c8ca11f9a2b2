"""Fixtures for browser tests: a Voila server on widgets/ and a headless Debian Chromium.

Voila runs in its own process group (``start_new_session=True``) and the whole group --
server and kernels -- is stopped at teardown. Chromium is the system one
(``/usr/bin/chromium``, ``apt-get install chromium``); Playwright's own browser download is
never used. Each test gets a fresh browser profile (``launch_persistent_context``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("NEUROSIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: console messages that are known noise in this setup (see UI-NOTES.md)
IGNORED_CONSOLE = ("Unsatisfied version", "No satisfying version")
SERVER_START_TIMEOUT_S = 90.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class VoilaServer:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def voila_server(tmp_path_factory) -> Iterator[VoilaServer]:
    """``voila widgets/`` on a free port of 127.0.0.1; yields its base URL and log."""
    voila = Path(sys.executable).with_name("voila")
    if not voila.exists():
        voila = Path(shutil.which("voila") or "voila")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("voila") / "voila.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [str(voila), "widgets/", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
         "--Voila.port_retries=0"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "NEUROSIM_FAST": "1"})
    server = VoilaServer(f"http://127.0.0.1:{port}", proc, log_path)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _port_open(port):
            if proc.poll() is not None:
                pytest.fail(f"voila exited with code {proc.returncode}:\n{server.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"voila did not open port {port} within "
                            f"{SERVER_START_TIMEOUT_S:.0f} s:\n{server.log()}")
            time.sleep(0.2)
        yield server
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
        try:  # kernels may outlive the server: make sure the whole group is gone
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        log.close()


@dataclass
class PageLog:
    """Console errors and uncaught page errors seen while a test drove the page."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [*self.console_errors, *self.page_errors]


def _on_console(log: PageLog, msg) -> None:
    if msg.type != "error" or any(s in msg.text for s in IGNORED_CONSOLE):
        return
    url = (msg.location or {}).get("url", "")
    if "Failed to load resource" in msg.text and not url.startswith("http://127.0.0.1"):
        return  # Voila's icon CSS from a CDN; offline here and harmless
    log.console_errors.append(f"{msg.text} ({url})")


@pytest.fixture
def browser_page(tmp_path):
    """A page of a fresh headless Chromium profile; yields ``(page, PageLog)``."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it with "
                    f"`apt-get install -y chromium` (as root), or point NEUROSIM_CHROMIUM "
                    f"at a Chromium binary. Browser tests never download a browser.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1100})
        try:
            page = context.pages[0] if context.pages else context.new_page()
            log = PageLog()
            page.on("console", lambda msg: _on_console(log, msg))
            page.on("pageerror", lambda err: log.page_errors.append(f"page error: {err}"))
            yield page, log
        finally:
            context.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
