"""Side-by-side benchmarks of neurosim_nb against Brian2 (NEST, BrainPy) in one run.

    .venv/bin/python benchmarks/run.py --quick
    .venv/bin/python benchmarks/run.py
        [--models cuba,coba,cobahh,brunel,coba_scaling,izhikevich,adex,oni]
        [--tools ours,brian2-numpy,brian2-cython,brian2-cpp_standalone,nest,brainpy]
        [--repeat 3]
        [--json benchmarks/results/latest.json] [--md benchmarks/results/latest.md]

Creates the peers' virtual environment ``benchmarks/.peers-venv`` on first use (Brian2 2.9
with numpy < 2.4, then NEST and BrainPy + Numba where they install; NEURON and Arbor are
added by ``benchmarks/compartments/run.py``; outcomes in its ``install.json``). For every
model and repetition, ours and every peer target run one after the other (alternating) as
fresh processes pinned to core 0 (``taskset -c 0``, one thread).
Per process: end-to-end wall time (process start to exit: interpreter, imports, build,
compilation, run), peak RSS (``os.wait4`` rusage of that child) and the JSON line the
script prints (``run_s`` simulation loop, ``run_cpu_s`` its CPU time, ``build_s``, spikes;
ours adds ``call_s``, the whole ``simulate`` call with its set-up and Dataset assembly). The
CPU time is the fairer figure on a busy machine: a process pinned to a core that other work
also uses waits, and that waiting counts in the wall time only (Brian2 cpp_standalone's own
``device._last_run_time`` is ``std::clock()``, CPU time; its wall time is stamped separately,
see ``peers/brian2_models.py``). The table shows medians over
the repetitions after the first ("warm": on-disk compile caches of Numba, Cython and the
Brian2 standalone project filled) and the first process's end-to-end time separately
("first e2e": cold only if those caches were empty). ``ours/peer`` < 1 means neurosim_nb is
faster; float32 rows (``ours-f32``, ``brainpy-f32``) are compared with each other, all others
with ours in float64. ``rate!`` flags a mean rate more than 10 % away from ours.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS_VENV = HERE / ".peers-venv"
PEERS_PY = PEERS_VENV / "bin" / "python"
CACHE = HERE / "results" / ".cache"
BRIAN2_TARGETS = ("numpy", "cython", "cpp_standalone")
sys.path.insert(0, str(HERE / "peers"))
from common import OURS_ONLY_MODELS  # noqa: E402  (standard library only)

ALL_TOOLS = ("ours",) + tuple(f"brian2-{t}" for t in BRIAN2_TARGETS) + (
    "nest", "brainpy", "ours-f32", "brainpy-f32")
#: float32 tools, compared with ours-f32 (same precision); all others with ours (float64)
F32_TOOLS = ("ours-f32", "brainpy-f32")
#: models that have a BrainPy script (benchmarks/peers/brainpy_models.py)
BRAINPY_MODELS = ("cuba", "coba", "cobahh", "coba_scaling", "izhikevich", "adex")
#: (model, n, duration ms) of the default suite
DEFAULT_CASES = [("cuba", 4000, 1000.0), ("coba", 4000, 1000.0), ("cobahh", 4000, 1000.0),
                 ("brunel", 12500, 1000.0)] + [
    ("coba_scaling", n, 1000.0) for n in (1000, 4000, 16000, 64000)] + [
    ("izhikevich", 4000, 1000.0), ("izhikevich_exact", 4000, 1000.0), ("adex", 4000, 1000.0),
    ("adex_rosenbrock", 4000, 1000.0), ("oni", 50, 2000.0)]
QUICK_CASES = [("cuba", 4000, 1000.0), ("coba", 4000, 1000.0)]
QUICK_TOOLS = ("ours", "brian2-numpy", "brian2-cython", "brian2-cpp_standalone")
#: (tool, model, n) combinations left out of the default suite, with the reason
SKIP = {
    ("brian2-numpy", "coba_scaling", 64000): "numpy target: minutes per run at 64 000",
    ("nest", "coba_scaling", 64000): "NEST iaf_cond_exp (GSL RK45): minutes per run at 64 000",
}
THREAD_ENV = {k: "1" for k in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                               "MKL_NUM_THREADS")}


def _pip(*args: str) -> tuple[bool, str]:
    r = subprocess.run([str(PEERS_PY), "-m", "pip", "install", "-q", *args],
                       capture_output=True, text=True)
    err = [ln for ln in (r.stderr + r.stdout).splitlines()
           if ln.strip() and not ln.startswith("WARNING: Location")]
    return r.returncode == 0, (err[-1] if err else "")


#: what the peers' venv holds: name -> (pip requirements, module to import for the version)
PEER_PACKAGES = {
    "brian2": (["brian2==2.9.0", "numpy<2.4"], "brian2"),
    "nest": (["nest-simulator", "numpy<2.4"], "nest"),
    "brainpy": (["brainpy", "jax[cpu]", "numba", "numpy<2.4"], "brainpy"),
    # the compartmental peers (benchmarks/compartments): NEURON's wheel (no compiler needed)
    # and Arbor's, both beside the others without changing their versions
    "neuron": (["neuron", "numpy<2.4"], "neuron"),
    "arbor": (["arbor", "numpy<2.4"], "arbor"),
}
_VERSION_EXPR = {"neuron": "neuron.h.nrnversion(0)"}


def ensure_peers_venv(names: tuple[str, ...] | None = None) -> dict:
    """Create ``benchmarks/.peers-venv`` if missing and install the peers of ``names``
    (default: all of :data:`PEER_PACKAGES`) not yet tried; return the install outcomes,
    kept in the venv's ``install.json`` (a peer added later is installed on first use)."""
    info_file = PEERS_VENV / "install.json"
    info = json.loads(info_file.read_text()) if info_file.exists() else {}
    wanted = [n for n in (names or tuple(PEER_PACKAGES)) if n not in info]
    if not wanted:
        return info
    if not PEERS_PY.exists():
        print(f"creating {PEERS_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    for name in wanted:
        pkgs, mod = PEER_PACKAGES[name]
        print(f"installing {' '.join(pkgs)} into the peers' venv ...", flush=True)
        ok, line = _pip(*pkgs)
        info[name] = {"installed": ok, "detail": line}
        if ok:
            expr = _VERSION_EXPR.get(name, f"{mod}.__version__")
            r = subprocess.run([str(PEERS_PY), "-c", f"import {mod}; print({expr})"],
                               capture_output=True, text=True)
            lines = r.stdout.strip().splitlines()
            info[name]["version"] = lines[-1] if r.returncode == 0 and lines else None
            if r.returncode != 0:
                info[name] = {"installed": False, "detail": r.stderr.strip().splitlines()[-1]}
    info_file.write_text(json.dumps(info, indent=1))
    return info


def command(tool: str, model: str, n: int, duration: float) -> list[str]:
    common = ["--model", model, "--n", str(n), "--duration", str(duration)]
    if tool in ("ours", "ours-f32"):
        return [str(ROOT / ".venv" / "bin" / "python"), str(HERE / "ours.py"), *common,
                "--target", "float32" if tool == "ours-f32" else "float64"]
    if tool.startswith("brian2-"):
        return [str(PEERS_PY), str(HERE / "peers" / "brian2_models.py"), *common,
                "--target", tool.split("-", 1)[1], "--cache-dir", str(CACHE / "brian2")]
    if tool in ("brainpy", "brainpy-f32"):  # float64 = bm.enable_x64
        return [str(PEERS_PY), str(HERE / "peers" / "brainpy_models.py"), *common,
                "--target", "float32" if tool == "brainpy-f32" else "float64"]
    return [str(PEERS_PY), str(HERE / "peers" / "nest_models.py"), *common]


def run_process(cmd: list[str], timeout: float) -> dict:
    """Run ``cmd`` pinned to core 0; wall time, peak RSS and its JSON line."""
    env = dict(os.environ, **THREAD_ENV)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(["taskset", "-c", "0", *cmd], stdout=out, stderr=err, env=env,
                                cwd=ROOT)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        e2e = time.perf_counter() - t0
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    rec = {"e2e_s": e2e, "peak_mb": usage.ru_maxrss / 1024.0, "returncode": proc.returncode}
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    if proc.returncode == 0 and lines:
        rec.update(json.loads(lines[-1]))
    else:
        tail = [ln for ln in stderr.strip().splitlines() if ln.strip()]
        rec["error"] = ("killed after timeout" if proc.returncode < 0 else
                        (tail[-1] if tail else f"exit {proc.returncode}"))
    return rec


def summarize(records: list[dict]) -> list[dict]:
    rows: dict[tuple, dict] = {}
    for r in records:
        key = (r["case"], r["tool_id"])
        rows.setdefault(key, {"case": r["case"], "tool": r["tool_id"], "runs": []})
        rows[key]["runs"].append(r)
    out = []
    for (case, tool), row in rows.items():
        ok = [r for r in row["runs"] if "error" not in r]
        s = {"case": case, "tool": tool, "n_runs": len(row["runs"]), "n_ok": len(ok)}
        if not ok:
            s["error"] = row["runs"][0].get("error", "failed")
            out.append(s)
            continue
        warm = ok[1:] if len(ok) > 1 else ok
        med = statistics.median
        s.update(run_s=med(r["run_s"] for r in warm), e2e_s=med(r["e2e_s"] for r in warm),
                 run_cpu_s=(med(r["run_cpu_s"] for r in warm)
                            if all(r.get("run_cpu_s") is not None for r in warm) else None),
                 build_s=med(r["build_s"] for r in warm), first_e2e_s=ok[0]["e2e_s"],
                 first_run_s=ok[0]["run_s"], peak_mb=max(r["peak_mb"] for r in ok),
                 spikes=med(r["spikes"] for r in ok), rate_hz=med(r["rate_hz"] for r in ok),
                 version=ok[0].get("version"))
        if all("call_s" in r for r in warm):
            s["call_s"] = med(r["call_s"] for r in warm)
        out.append(s)
    by_case: dict[str, dict] = {}
    for s in out:
        by_case.setdefault(s["case"], {})[s["tool"]] = s
    for tools in by_case.values():
        for s in tools.values():
            ours_id = "ours-f32" if s["tool"] in F32_TOOLS else "ours"
            ours = tools.get(ours_id)
            if s["tool"] in ("ours", "ours-f32") or not ours or "error" in ours \
                    or "error" in s:
                continue
            s["ratio_run"] = ours["run_s"] / s["run_s"]
            if ours.get("run_cpu_s") and s.get("run_cpu_s"):
                s["ratio_cpu"] = ours["run_cpu_s"] / s["run_cpu_s"]
            if "call_s" in ours:
                s["ratio_call"] = ours["call_s"] / s["run_s"]
            s["ratio_e2e"] = ours["e2e_s"] / s["e2e_s"]
            paired = paired_ratios(rows[(s["case"], ours_id)]["runs"],
                                   rows[(s["case"], s["tool"])]["runs"])
            if paired:
                s["ratio_run_paired"] = statistics.median(paired)
                s["ratio_run_paired_range"] = [min(paired), max(paired)]
            s["rate_warning"] = abs(ours["rate_hz"] - s["rate_hz"]) > 0.1 * max(s["rate_hz"],
                                                                                 1e-9)
    return out


def paired_ratios(ours_runs: list[dict], peer_runs: list[dict]) -> list[float]:
    """Run-time ratios ours / peer of the warm repetitions both completed, each pair taken
    from the same repetition -- run one right after the other, so a slow phase of a noisy
    machine (this VM's run times drift by 10-30 % over minutes) weighs on both sides.

    >>> paired_ratios([{"repetition": r, "run_s": t} for r, t in enumerate([9, 1, 2])],
    ...               [{"repetition": r, "run_s": t} for r, t in enumerate([9, 2, 2])])
    [0.5, 1.0]
    """
    ours = {r["repetition"]: r["run_s"] for r in ours_runs if "error" not in r}
    peer = {r["repetition"]: r["run_s"] for r in peer_runs if "error" not in r}
    warm = sorted(set(ours) & set(peer) - {0}) or sorted(set(ours) & set(peer))
    return [ours[k] / peer[k] for k in warm]


HEADER = ("| model | tool / target | run s | run CPU s | e2e s | first e2e s | peak MB | spikes "
          "| rate Hz | ours/peer run | paired run ratio (range) | ours/peer run CPU "
          "| ours whole call/peer run | ours/peer e2e | rate |")
#: columns of :data:`HEADER`
N_COLUMNS = HEADER.count("|") - 1


def table(summary: list[dict]) -> str:
    """The Markdown table of :func:`summarize`'s rows. For our rows "run s" is the step
    loop and the whole ``simulate`` call follows in parentheses; the "whole call" ratio
    compares that call (set-up and Dataset assembly included) with the peer's run loop;
    "run CPU s" is the loop's CPU time and "ours/peer run CPU" its ratio ("–" where a
    record has none).

    >>> row = {"case": "cuba 4000, 1 s", "tool": "ours", "run_s": 0.04, "call_s": 0.05,
    ...        "run_cpu_s": 0.03, "e2e_s": 1.5, "first_e2e_s": 1.6, "peak_mb": 200,
    ...        "spikes": 9, "rate_hz": 2}
    >>> table([row]).splitlines()[2].split(" | ")
    ... # doctest: +NORMALIZE_WHITESPACE
    ['| cuba 4000, 1 s', 'ours', '0.040 (0.050)', '0.030', '1.50', '1.60', '200', '9', '2.00',
     '–', '–', '–', '–', '–', ' |']
    """
    lines = [HEADER, "|" + "---|" * N_COLUMNS]
    for s in summary:
        if "error" in s:
            lines.append(f"| {s['case']} | {s['tool']} | failed: {s['error'][:70]} "
                         + "| " * (N_COLUMNS - 3) + "|")
            continue
        paired = (f"{s['ratio_run_paired']:.2f} ({s['ratio_run_paired_range'][0]:.2f}-"
                  f"{s['ratio_run_paired_range'][1]:.2f})" if "ratio_run_paired" in s else "–")
        call = f"{s['ratio_call']:.2f}" if "ratio_call" in s else "–"
        cpu_ratio = f"{s['ratio_cpu']:.2f}" if "ratio_cpu" in s else "–"
        ratio = (f"{s['ratio_run']:.2f} | {paired} | {cpu_ratio} | {call} | {s['ratio_e2e']:.2f}"
                 if "ratio_run" in s else "– | – | – | – | –")
        warn = "rate!" if s.get("rate_warning") else ("ok" if "ratio_run" in s else "")
        run = f"{s['run_s']:.3f}" + (f" ({s['call_s']:.3f})" if "call_s" in s else "")
        cpu = f"{s['run_cpu_s']:.3f}" if s.get("run_cpu_s") is not None else "–"
        lines.append(f"| {s['case']} | {s['tool']} | {run} | {cpu} | {s['e2e_s']:.2f} "
                     f"| {s['first_e2e_s']:.2f} | {s['peak_mb']:.0f} | {s['spikes']:.0f} "
                     f"| {s['rate_hz']:.2f} | {ratio} | {warn} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=None,
                    help="comma-separated subset of cuba,coba,cobahh,brunel,coba_scaling,"
                         "izhikevich,adex,oni")
    ap.add_argument("--tools", default=None, help=f"comma-separated subset of {ALL_TOOLS}")
    ap.add_argument("--repeat", type=int, default=None, help="repetitions (default 3; quick 2)")
    ap.add_argument("--duration", type=float, default=None, help="override simulated ms")
    ap.add_argument("--quick", action="store_true",
                    help="CUBA and COBA 4000 for 1 s, 2 repetitions, ours and Brian2's targets")
    ap.add_argument("--no-skip", action="store_true", help="run the skipped slow combinations")
    ap.add_argument("--timeout", type=float, default=1800.0, help="per process (s)")
    ap.add_argument("--json", default=str(HERE / "results" / "latest.json"))
    ap.add_argument("--md", default=str(HERE / "results" / "latest.md"))
    args = ap.parse_args()
    if not shutil.which("taskset"):
        raise SystemExit("taskset (util-linux) is needed to pin the processes to one core")
    cases = QUICK_CASES if args.quick else DEFAULT_CASES
    if args.models:
        wanted = args.models.split(",")
        cases = [c for c in DEFAULT_CASES if c[0] in wanted]
    tools = list(QUICK_TOOLS if args.quick else ALL_TOOLS)
    if args.tools:
        tools = [t for t in args.tools.split(",") if t in ALL_TOOLS]
    repeat = args.repeat or (2 if args.quick else 3)
    installs = ensure_peers_venv(("brian2", "nest", "brainpy"))
    avail = {"ours": True, "ours-f32": True,
             "nest": installs.get("nest", {}).get("installed", False),
             "brainpy": installs.get("brainpy", {}).get("installed", False)}
    avail["brainpy-f32"] = avail["brainpy"]
    for t in BRIAN2_TARGETS:
        avail[f"brian2-{t}"] = installs.get("brian2", {}).get("installed", False)
    tools = [t for t in tools if avail[t]]
    print(f"{platform.node()} {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}; tools {tools}; {repeat} repetitions, core 0",
          flush=True)
    records, skipped = [], []
    for model, n, dur in cases:
        dur = args.duration or dur
        case = f"{model} {n}, {dur / 1000:g} s"
        case_tools = []
        for tool in tools:
            if tool not in ("ours", "ours-f32") and model in OURS_ONLY_MODELS:
                continue
            if tool.startswith("brainpy") and model not in BRAINPY_MODELS:
                continue
            if (tool, model, n) in SKIP and not args.no_skip:
                skipped.append({"case": case, "tool": tool, "reason": SKIP[(tool, model, n)]})
                continue
            case_tools.append(tool)
        for rep in range(repeat):
            for tool in case_tools:
                rec = run_process(command(tool, model, n, dur), args.timeout)
                rec.update(case=case, tool_id=tool, repetition=rep)
                records.append(rec)
                cpu = rec.get("run_cpu_s") or float("nan")
                msg = (f"run {rec['run_s']:.3f} s (CPU {cpu:.3f}), e2e {rec['e2e_s']:.2f} s, "
                       f"{rec['peak_mb']:.0f} MB, {rec['spikes']} spikes"
                       if "error" not in rec else f"FAILED: {rec['error']}")
                print(f"  [{rep + 1}/{repeat}] {case:22s} {tool:22s} {msg}", flush=True)
    summary = summarize(records)
    md = table(summary)
    notes = [f"- skipped {s['tool']} for {s['case']}: {s['reason']}" for s in skipped]
    notes += [f"- {k}: " + ("installed " + str(v.get("version")) if v.get("installed")
                            else "not installable here: " + v.get("detail", ""))
              for k, v in installs.items()]
    print()
    print(md)
    print("\n".join(notes))
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": platform.node(),
            "cpu": platform.processor() or platform.machine(), "python": platform.python_version(),
            "repeat": repeat, "pinned_core": 0, "installs": installs, "skipped": skipped}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"meta": meta, "summary": summary,
                                           "records": records}, indent=1))
    Path(args.md).write_text(
        f"Benchmarks {meta['date']}, {repeat} repetitions pinned to one core, dt 0.1 ms. "
        "run = simulation loop (warm median; for ours, the whole `simulate` call in "
        "parentheses: set-up and Dataset assembly included), run CPU = its CPU time, "
        "e2e = whole process incl. imports, build and compilation (warm median), "
        "first e2e = first process of this invocation; paired run ratio = median (and range) "
        "over the warm repetitions of ours / peer within the same repetition.\n\n"
        + md + "\n\n" + "\n".join(notes) + "\n")
    print(f"\nwrote {args.json} and {args.md}")


if __name__ == "__main__":
    main()
