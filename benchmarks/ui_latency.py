#!/usr/bin/env python3
"""Latency of the Voila apps as a user feels it: control change -> new plot data in the page.

Starts ``voila widgets/`` on a free local port (as ``tests/browser/conftest.py`` does), opens
each app in headless Debian Chromium (``/usr/bin/chromium``; Playwright's own browser is never
downloaded), waits for the first plot, then moves one control several times like a user --
keyboard steps on a slider handle, alternating direction, a pause between moves -- and times
each move from the key press until the data of the app's Bokeh ColumnDataSource has changed
in the page (read through ``Bokeh.documents``, so the time includes the comm round trip, the
re-simulation in the kernel, the patch to BokehJS and its application).

    .venv/bin/python benchmarks/ui_latency.py                  # every app present
    .venv/bin/python benchmarks/ui_latency.py --apps neuron_explorer --moves 20
    .venv/bin/python benchmarks/ui_latency.py --fast           # apps with NEUROSIM_FAST=1

Prints median / p90 per app against its target and writes
``benchmarks/results/ui_latency.json``. An app whose notebook is not there yet (e.g. the
network app while it is being written) is reported as missing, not as a failure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "ui_latency.json"
CHROMIUM = os.environ.get("NEUROSIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@dataclass(frozen=True)
class App:
    """One app: where it is, which control a user moves and which plot data must change."""

    name: str
    notebook: str            # path under widgets/
    handle: str              # CSS selector of the slider handle moved with the keyboard
    source: str              # name of the Bokeh ColumnDataSource that must change
    column: str              # a numeric column of it, summed into the change signature
    target_s: float          # latency target (median)
    what: str                # the user action, for the report


APPS = (
    App("neuron_explorer", "neuron_explorer.ipynb", ".neurosim-current .noUi-handle",
        "neurosim-trace", "V", 0.150, "input current slider, one keyboard step (single neuron)"),
    App("networks", "networks.ipynb", ".neurosim-g .noUi-handle", "neurosim-raster", "t", 1.0,
        "g (inh / exc) slider, one keyboard step (balanced network, default 1000 neurons)"),
)

#: JS: a signature of the named source's data (length + sum of one column), null if absent
SIGNATURE = """([name, column]) => {
  if (!window.Bokeh || !Bokeh.documents) return null;
  for (const doc of Bokeh.documents) {
    const src = doc.get_model_by_name(name);
    if (!src) continue;
    const col = src.data[column];
    if (!col) return null;
    let s = 0; for (const v of col) if (Number.isFinite(v)) s += v;
    return col.length + ':' + s;
  }
  return null;
}"""
CHANGED = ("([name, column, prev]) => { const s = (" + SIGNATURE +
           ")([name, column]); return s !== null && s !== prev; }")
HAS_DATA = ("([name, column]) => { const s = (" + SIGNATURE +
            ")([name, column]); return s !== null && !s.startsWith('0:'); }")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Voila:
    """``voila widgets/`` in its own process group, stopped with all its kernels."""

    def __init__(self, fast: bool, log_path: Path):
        voila = Path(sys.executable).with_name("voila")
        if not voila.exists():
            voila = Path(shutil.which("voila") or "voila")
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.pop("NEUROSIM_FAST", None)
        if fast:
            env["NEUROSIM_FAST"] = "1"
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [str(voila), "widgets/", "--no-browser", f"--port={self.port}",
             "--Voila.ip=127.0.0.1", "--Voila.port_retries=0"],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
            env=env)
        deadline = time.monotonic() + 90.0
        while not _port_open(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"voila did not start; see {log_path}")
            time.sleep(0.2)

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        self.log.close()


def _quantile(values: list[float], q: float) -> float:
    xs = sorted(values)
    if len(xs) == 1:
        return xs[0]
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def measure_app(context, server: Voila, app: App, moves: int, pause_s: float) -> dict:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    try:
        t_open = time.perf_counter()
        page.goto(f"{server.url}/voila/render/{app.notebook}", wait_until="domcontentloaded",
                  timeout=120_000)
        page.wait_for_function(HAS_DATA, arg=[app.source, app.column], polling=50,
                               timeout=120_000)
        load_s = time.perf_counter() - t_open
        handle = page.locator(app.handle).first
        handle.wait_for(state="visible", timeout=30_000)
        handle.focus()

        def move(key: str) -> float:
            before = page.evaluate(SIGNATURE, [app.source, app.column])
            t0 = time.perf_counter()
            page.keyboard.press(key)
            page.wait_for_function(CHANGED, arg=[app.source, app.column, before], polling=5,
                                   timeout=60_000)
            return time.perf_counter() - t0

        move("ArrowRight")                      # warm-up (first move after the page load)
        page.wait_for_timeout(pause_s * 1000)
        latencies = []
        for i in range(moves):
            latencies.append(move("ArrowLeft" if i % 2 == 0 else "ArrowRight"))
            page.wait_for_timeout(pause_s * 1000)
    finally:
        page.close()
    median = statistics.median(latencies)
    return {"notebook": f"widgets/{app.notebook}", "action": app.what,
            "plot_source": app.source, "page_load_to_plot_s": round(load_s, 3),
            "moves": moves, "latencies_s": [round(x, 4) for x in latencies],
            "median_s": round(median, 4), "p90_s": round(_quantile(latencies, 0.9), 4),
            "min_s": round(min(latencies), 4), "max_s": round(max(latencies), 4),
            "target_s": app.target_s, "meets_target": median < app.target_s,
            "page_errors": errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", default=",".join(a.name for a in APPS),
                        help="comma-separated app names (default: all)")
    parser.add_argument("--moves", type=int, default=12, help="measured moves per app")
    parser.add_argument("--pause", type=float, default=0.3,
                        help="seconds between moves (a user's pace)")
    parser.add_argument("--fast", action="store_true",
                        help="serve the apps with NEUROSIM_FAST=1 (shorter simulations)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    wanted = [a for a in APPS if a.name in args.apps.split(",")]
    if not wanted:
        parser.error(f"no such app; choose from {[a.name for a in APPS]}")
    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    report = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                          "python": platform.python_version()},
              "method": "key press on the control -> changed data of the app's Bokeh "
                        "source in the page (Bokeh.documents), headless Chromium, "
                        "voila on localhost; first move after page load is a warm-up",
              "neurosim_fast": args.fast, "apps": {}}
    with tempfile.TemporaryDirectory(prefix="ui-latency-") as tmp:
        server = Voila(args.fast, Path(tmp) / "voila.log")
        try:
            with sync_playwright() as pw:
                context = pw.chromium.launch_persistent_context(
                    str(Path(tmp) / "profile"), executable_path=CHROMIUM, headless=True,
                    args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1100})
                try:
                    for app in wanted:
                        if not (ROOT / "widgets" / app.notebook).exists():
                            report["apps"][app.name] = {"notebook": f"widgets/{app.notebook}",
                                                        "missing": True}
                            print(f"{app.name}: widgets/{app.notebook} not present, skipped")
                            continue
                        print(f"{app.name}: measuring {args.moves} moves ...", flush=True)
                        report["apps"][app.name] = measure_app(context, server, app,
                                                               args.moves, args.pause)
                finally:
                    context.close()
        finally:
            server.stop()

    print(f"\n{'app':18s} {'median':>8s} {'p90':>8s} {'max':>8s} {'target':>8s}  load")
    ok = True
    for name, r in report["apps"].items():
        if r.get("missing"):
            print(f"{name:18s} {'missing':>8s}")
            continue
        ok &= r["meets_target"]
        print(f"{name:18s} {r['median_s'] * 1e3:6.0f}ms {r['p90_s'] * 1e3:6.0f}ms "
              f"{r['max_s'] * 1e3:6.0f}ms {r['target_s'] * 1e3:6.0f}ms  "
              f"{r['page_load_to_plot_s']:.1f} s  {'ok' if r['meets_target'] else 'SLOW'}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1) + "\n")
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"\nwritten: {shown}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
