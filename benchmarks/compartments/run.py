"""Compartmental models side by side: NEURON, Arbor (where it installs) and neurosim_nb.

    .venv/bin/python benchmarks/compartments/run.py [--quick]
        [--models rallpack1,rallpack2,rallpack3,hh_cell_1000,hh_population_100]
        [--methods be,cn] [--repeat 3] [--accuracy-dts 0.05,0.01]
        [--json benchmarks/results/compartments.json] [--md benchmarks/results/compartments.md]

Installs NEURON and Arbor into the peers' venv on first use (``benchmarks/run.py``'s
``ensure_peers_venv``). Speed: every model at dt 0.025 ms with backward Euler (``be``,
NEURON ``secondorder = 0``) and Crank-Nicolson (``cn``, ``secondorder = 2``), ``--repeat``
times, NEURON, ours then Arbor within each repetition, each a fresh process pinned to core
0 with one thread (``benchmarks/run.py``'s ``run_process``: end-to-end time and the child's
peak RSS from ``wait4``). Arbor (``arbor_models.py``) runs ``be`` only: its one fixed-step
scheme is implicit in V with cnexp gates, NEURON's ``secondorder = 0``; it has no
Crank-Nicolson. Accuracy: the Rallpacks also at each ``--accuracy-dts`` step, once (the
runs are deterministic). Ours runs ``ours_models.py`` with this script's interpreter (the
project's ``.venv``); while ``neurosim_nb.cable`` does not import it is skipped with that
message; Arbor is skipped, with the reason, when ``import arbor`` fails in the peers' venv.

The tables: run s = the solver loop (warm median over the repetitions after the first), cpu s
= its process time, Mcs/s = million compartment-steps per second of the loop, peak MB, e2e s
= the whole process; tool/NEURON = the paired run-time ratio of ours or Arbor to NEURON
(median over the warm repetitions; the cpu-time ratio beside it), ours/Arbor likewise
(``be``); and per Rallpack, dt and method the max |error| (mV) and relative RMS at both
ends against the official references, and Rallpack 3's spike-time differences (ms).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
sys.path.insert(0, str(HERE))
import specs  # noqa: E402

#: ours runs with the interpreter that runs this script (the project's .venv)
OURS_PY = Path(sys.executable)
METHODS = ("be", "cn")
TOOLS = ("neuron", "ours", "arbor")
#: the methods each tool runs (Arbor: no Crank-Nicolson)
TOOL_METHODS = {"neuron": METHODS, "ours": METHODS, "arbor": ("be",)}
SCRIPTS = {"neuron": "neuron_models.py", "ours": "ours_models.py", "arbor": "arbor_models.py"}
SPEED_DT = 0.025
RALLPACKS = ("rallpack1", "rallpack2", "rallpack3")


def _bench_run():
    """``benchmarks/run.py`` as a module (its venv set-up and pinned process runner)."""
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def command(tool: str, model: str, dt: float, method: str, peers_py: Path,
            duration: float | None = None) -> list[str]:
    """The process that runs ``model`` with ``tool`` ("neuron", "ours" or "arbor"; NEURON
    and Arbor with the peers' interpreter ``peers_py``).

    >>> command("neuron", "rallpack1", 0.025, "cn", Path("py"))[1:]  # doctest: +ELLIPSIS
    ['.../neuron_models.py', '--model', 'rallpack1', '--dt', '0.025', '--method', 'cn']
    >>> command("arbor", "rallpack1", 0.025, "be", Path("py"))[:2]  # doctest: +ELLIPSIS
    ['py', '.../arbor_models.py']
    """
    if tool not in TOOLS:
        raise ValueError(f"tool must be one of {TOOLS}, got {tool!r}")
    if method not in TOOL_METHODS[tool]:
        raise ValueError(f"method for {tool} must be one of {TOOL_METHODS[tool]}, "
                         f"got {method!r}")
    script = HERE / SCRIPTS[tool]
    py = OURS_PY if tool == "ours" else peers_py
    cmd = [str(py), str(script), "--model", model, "--dt", f"{dt:g}", "--method", method]
    if duration is not None:
        cmd += ["--duration", f"{duration:g}"]
    return cmd


def ours_available() -> tuple[bool, str]:
    """Whether ``neurosim_nb.cable`` (and the morphology it needs) imports in ``.venv``."""
    r = subprocess.run([str(OURS_PY), "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                        "import ours_models as o; ok, why = o.available(); print(why); "
                        "sys.exit(0 if ok else 3)", str(HERE)],
                       capture_output=True, text=True, cwd=ROOT)
    if r.returncode == 0:
        return True, ""
    lines = (r.stdout + r.stderr).strip().splitlines()
    return False, lines[-1] if lines else f"exit {r.returncode}"


def arbor_available(peers_py: Path) -> tuple[bool, str]:
    """Whether ``import arbor`` works with the peers' interpreter; (ok, reason)."""
    if not Path(peers_py).exists():
        return False, f"no peers' interpreter at {peers_py}"
    r = subprocess.run([str(peers_py), "-c", "import arbor; print(arbor.__version__)"],
                       capture_output=True, text=True, cwd=ROOT)
    if r.returncode == 0:
        return True, ""
    lines = (r.stdout + r.stderr).strip().splitlines()
    return False, "import arbor failed: " + (lines[-1] if lines else f"exit {r.returncode}")


def _paired_ratio(groups: dict, row: dict, num: str, den: str, key: str) -> float | None:
    """Median over the warm repetitions of ``num``'s / ``den``'s ``key`` (run_s, cpu_s),
    paired within each repetition; None when ``den`` has no run of this row."""
    runs = {}
    for tool in (num, den):
        runs[tool] = {r["repetition"]: r[key] for r in groups.get(
            (row["model"], row["method"], row["dt_ms"], tool), []) if "error" not in r}
    common = sorted(set(runs[num]) & set(runs[den]))
    if not common:
        return None
    warm = [k for k in common if k != 0] or common
    return statistics.median(runs[num][k] / runs[den][k] for k in warm)


def summarize(records: list[dict]) -> list[dict]:
    """One row per (model, method, dt, tool): warm medians, the paired ratio of each other
    tool's run (and cpu) time to NEURON's (``ratio_run``, ``ratio_cpu``), and on ours' rows
    ours/Arbor (``ratio_run_arbor``, ``ratio_cpu_arbor``).

    >>> recs = [{"model": "m", "target": "be", "dt_ms": 0.025, "tool": t, "repetition": r,
    ...          "run_s": s, "cpu_s": s, "e2e_s": 1.0, "peak_mb": 50.0, "build_s": 0.1,
    ...          "compartment_steps_per_s": 1e6 / s, "spikes": 3}
    ...         for t, runs in (("neuron", [9, 2, 2]), ("ours", [9, 1, 1]),
    ...                         ("arbor", [9, 4, 4]))
    ...         for r, s in enumerate(runs)]
    >>> rows = summarize(recs)
    >>> [(r["tool"], r["run_s"], r.get("ratio_run"), r.get("ratio_run_arbor")) for r in rows]
    [('neuron', 2.0, None, None), ('ours', 1.0, 0.5, 0.25), ('arbor', 4.0, 2.0, None)]
    """
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        groups.setdefault((r["model"], r["target"], r["dt_ms"], r["tool"]), []).append(r)
    rows = []
    med = statistics.median
    for (model, method, dt, tool), runs in groups.items():
        ok = [r for r in runs if "error" not in r]
        row = {"model": model, "method": method, "dt_ms": dt, "tool": tool,
               "n_runs": len(runs), "n_ok": len(ok)}
        if not ok:
            row["error"] = runs[0].get("error", "failed")
            rows.append(row)
            continue
        warm = ok[1:] or ok
        row.update(run_s=med(r["run_s"] for r in warm), cpu_s=med(r["cpu_s"] for r in warm),
                   e2e_s=med(r["e2e_s"] for r in warm), build_s=med(r["build_s"] for r in warm),
                   msteps_per_s=med(r["compartment_steps_per_s"] for r in warm) / 1e6,
                   peak_mb=max(r["peak_mb"] for r in ok), spikes=ok[0]["spikes"],
                   compartments=ok[0].get("compartments"), version=ok[0].get("version"))
        if "accuracy" in ok[0]:
            row["accuracy"] = ok[0]["accuracy"]
        rows.append(row)
    for row in rows:
        if row["tool"] == "neuron" or "error" in row:
            continue
        pairs = [("neuron", "")] + ([("arbor", "_arbor")] if row["tool"] == "ours" else [])
        for den, suffix in pairs:
            for key, name in (("run_s", "ratio_run"), ("cpu_s", "ratio_cpu")):
                ratio = _paired_ratio(groups, row, row["tool"], den, key)
                if ratio is not None:
                    row[name + suffix] = ratio
    return rows


def _ratio_cell(row: dict, suffix: str) -> str:
    """'run ratio (cpu ratio)' of a summary row, or a dash.

    >>> _ratio_cell({"ratio_run": 0.5, "ratio_cpu": 0.25}, "")
    '0.50 (cpu 0.25)'
    """
    if "ratio_run" + suffix not in row:
        return "–"
    cpu = row.get("ratio_cpu" + suffix)
    return f"{row['ratio_run' + suffix]:.2f}" + (f" (cpu {cpu:.2f})" if cpu else "")


def speed_table(rows: list[dict]) -> str:
    lines = ["| model | comps | method | tool | run s | cpu s | Mcs/s | peak MB | e2e s "
             "| spikes | tool/NEURON run | ours/Arbor run |", "|" + "---|" * 12]
    for r in rows:
        if r["dt_ms"] != SPEED_DT:
            continue
        if "error" in r:
            lines.append(f"| {r['model']} | | {r['method']} | {r['tool']} | failed: "
                         f"{r['error'][:60]} | | | | | | | |")
            continue
        lines.append(f"| {r['model']} | {r['compartments']} | {r['method']} | {r['tool']} "
                     f"| {r['run_s']:.3f} | {r['cpu_s']:.3f} | {r['msteps_per_s']:.1f} "
                     f"| {r['peak_mb']:.0f} | {r['e2e_s']:.2f} | {r['spikes']} "
                     f"| {_ratio_cell(r, '')} | {_ratio_cell(r, '_arbor')} |")
    return "\n".join(lines)


def accuracy_table(rows: list[dict]) -> str:
    lines = ["| model | dt ms | method | tool | x=0 max err mV | x=0 rel RMS | x=1 max err mV "
             "| x=1 rel RMS | spike dt vs official x=0 / x=1 ms (max) "
             "| spike dt vs NEURON dt 0.001 x=0 / x=1 ms (max) |", "|" + "---|" * 10]
    for r in sorted((r for r in rows if "accuracy" in r),
                    key=lambda r: (r["model"], -r["dt_ms"], r["method"], r["tool"])):
        a0, a1 = r["accuracy"]["x0"], r["accuracy"]["x1"]

        def sp(key, a0=a0, a1=a1):
            if key not in a0:
                return "–"
            return (f"{a0[key]['max_abs_ms']} / {a1[key]['max_abs_ms']} "
                    f"(n {a0[key]['n']}/{a0[key]['n_ref']}, {a1[key]['n']}/{a1[key]['n_ref']})")

        lines.append(f"| {r['model']} | {r['dt_ms']:g} | {r['method']} | {r['tool']} "
                     f"| {a0['max_abs_mV']:.4g} | {a0['rel_rms']:.3g} | {a1['max_abs_mV']:.4g} "
                     f"| {a1['rel_rms']:.3g} | {sp('spikes_vs_official')} "
                     f"| {sp('spikes_vs_neuron_dt0.001')} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(specs.MODELS))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--accuracy-dts", default="0.05,0.01",
                    help="extra steps (ms) of the Rallpack accuracy runs")
    ap.add_argument("--quick", action="store_true",
                    help="the Rallpacks and hh_cell_1000 only, 2 repetitions, no extra dts")
    ap.add_argument("--timeout", type=float, default=1800.0, help="per process (s)")
    ap.add_argument("--json", default=str(BENCH / "results" / "compartments.json"))
    ap.add_argument("--md", default=str(BENCH / "results" / "compartments.md"))
    args = ap.parse_args()
    if not shutil.which("taskset"):
        raise SystemExit("taskset (util-linux) is needed to pin the processes to one core")
    models = [m for m in args.models.split(",") if m]
    bad = [m for m in models if m not in specs.MODELS]
    if bad:
        raise SystemExit(f"--models: unknown {bad}; choose from {specs.MODELS}")
    methods = [m for m in args.methods.split(",") if m]
    if any(m not in METHODS for m in methods):
        raise SystemExit(f"--methods: choose from {METHODS}, got {methods}")
    repeat = args.repeat
    acc_dts = [float(x) for x in args.accuracy_dts.split(",") if x]
    if args.quick:
        models = [m for m in models if m != "hh_population_100"]
        repeat, acc_dts = 2, []
    bench = _bench_run()
    installs = bench.ensure_peers_venv(("neuron", "arbor"))
    if not installs.get("neuron", {}).get("installed"):
        raise SystemExit("NEURON did not install into the peers' venv: "
                         + installs.get("neuron", {}).get("detail", ""))
    ours_ok, why = ours_available()
    if installs.get("arbor", {}).get("installed"):
        arbor_ok, arbor_why = arbor_available(bench.PEERS_PY)
    else:
        arbor_ok, arbor_why = False, ("not installable here: "
                                      + installs.get("arbor", {}).get("detail", "?"))
    tools = ["neuron"] + (["ours"] if ours_ok else []) + (["arbor"] if arbor_ok else [])
    notes = [f"- ours skipped: {why}"] if not ours_ok else []
    notes += [f"- arbor skipped: {arbor_why}"] if not arbor_ok else [
        "- arbor: be only -- its one fixed-step scheme is implicit in V (backward Euler) with "
        "cnexp gates, as NEURON's secondorder 0; it has no Crank-Nicolson. CVs at NEURON's "
        "nodes (arbor_models.arbor_geometry): the same compartments; hh rates exact, "
        "NEURON's from hh.mod's 1 mV table"]
    print(f"{platform.node()}, Python {platform.python_version()}; tools {tools}; "
          f"{repeat} repetitions, core 0" + ("" if ours_ok else f"; ours skipped: {why}")
          + ("" if arbor_ok else f"; arbor skipped: {arbor_why}"), flush=True)
    records = []

    def one(tool, model, dt, method, rep):
        rec = bench.run_process(command(tool, model, dt, method, bench.PEERS_PY), args.timeout)
        rec.setdefault("model", model)
        rec.setdefault("target", method)
        rec.setdefault("dt_ms", dt)
        rec.update(tool=tool, repetition=rep)
        records.append(rec)
        msg = (f"run {rec['run_s']:.3f} s, cpu {rec['cpu_s']:.3f} s, "
               f"{rec['compartment_steps_per_s'] / 1e6:.1f} Mcs/s, {rec['peak_mb']:.0f} MB, "
               f"{rec['spikes']} spikes" if "error" not in rec else f"FAILED: {rec['error']}")
        print(f"  [{rep + 1}/{repeat}] {model:18s} dt {dt:<6g} {method} {tool:7s} {msg}",
              flush=True)

    for model in models:
        for method in methods:
            method_tools = [t for t in tools if method in TOOL_METHODS[t]]
            for rep in range(repeat):
                for tool in method_tools:
                    one(tool, model, SPEED_DT, method, rep)
            if model in RALLPACKS:
                for dt in acc_dts:
                    for tool in method_tools:
                        one(tool, model, dt, method, 0)
    rows = summarize(records)
    speed, acc = speed_table(rows), accuracy_table(rows)
    notes += [f"- {k}: " + ("installed " + str(v.get("version")) if v.get("installed")
                            else "not installable here: " + v.get("detail", ""))
              for k, v in installs.items() if k in ("neuron", "arbor")]
    print("\n" + speed + "\n\n" + acc + "\n" + "\n".join(notes))
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": platform.node(),
            "cpu": platform.processor() or platform.machine(),
            "python": platform.python_version(), "repeat": repeat, "pinned_core": 0,
            "speed_dt_ms": SPEED_DT, "accuracy_dts_ms": acc_dts, "tools": tools,
            "ours_skipped": None if ours_ok else why,
            "arbor_skipped": None if arbor_ok else arbor_why,
            "installs": {k: v for k, v in installs.items() if k in ("neuron", "arbor")},
            "threads": os.environ.get("OMP_NUM_THREADS", "1 (set per process)")}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"meta": meta, "summary": rows,
                                           "records": records}, indent=1))
    Path(args.md).write_text(
        f"Compartmental benchmarks {meta['date']} ({platform.node()}), {repeat} repetitions "
        f"pinned to one core; speed at dt {SPEED_DT} ms. run = solver loop (warm median), "
        "cpu = its process time, Mcs/s = million compartment-steps per second of the loop, "
        "e2e = whole process; be = backward Euler (NEURON secondorder 0), cn = "
        "Crank-Nicolson (secondorder 2; Arbor has none). tool/NEURON and ours/Arbor = "
        "paired run-time ratios (cpu-time ratios in brackets: the machine may be shared). "
        "Models: benchmarks/compartments/specs.py.\n\n"
        "## Speed\n\n" + speed + "\n\n## Accuracy (Rallpacks, against the official "
        "references; Rallpack 1 and 2 analytic, Rallpack 3 NEURON's)\n\n" + acc + "\n\n"
        + "\n".join(notes) + "\n")
    print(f"\nwrote {args.json} and {args.md}")


if __name__ == "__main__":
    main()
