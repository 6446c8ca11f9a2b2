"""Compartmental models side by side: NEURON and (when its cable solver is there) neurosim_nb.

    .venv/bin/python benchmarks/compartments/run.py [--quick]
        [--models rallpack1,rallpack2,rallpack3,hh_cell_1000,hh_population_100]
        [--methods be,cn] [--repeat 3] [--accuracy-dts 0.05,0.01]
        [--json benchmarks/results/compartments.json] [--md benchmarks/results/compartments.md]

Installs NEURON (and Arbor, not used yet) into the peers' venv on first use
(``benchmarks/run.py``'s ``ensure_peers_venv``). Speed: every model at dt 0.025 ms with
backward Euler (``be``, NEURON ``secondorder = 0``) and Crank-Nicolson (``cn``,
``secondorder = 2``), ``--repeat`` times, NEURON then ours within each repetition, each a
fresh process pinned to core 0 with one thread (``benchmarks/run.py``'s ``run_process``:
end-to-end time and the child's peak RSS from ``wait4``). Accuracy: the Rallpacks also at
each ``--accuracy-dts`` step, once (the runs are deterministic). Ours runs
``ours_models.py`` with this script's interpreter (the project's ``.venv``); while
``neurosim_nb.cable`` does not import it is skipped with that message, and only NEURON's
half is reported.

The tables: run s = the solver loop (warm median over the repetitions after the first), cpu s
= its process time, Mcs/s = million compartment-steps per second of the loop, peak MB, e2e s
= the whole process; ours/NEURON = the paired run-time ratio (median over the warm
repetitions); and per Rallpack, dt and method the max |error| (mV) and relative RMS at both
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
    """The process that runs ``model`` with ``tool`` ("neuron" or "ours").

    >>> command("neuron", "rallpack1", 0.025, "cn", Path("py"))[1:]  # doctest: +ELLIPSIS
    ['.../neuron_models.py', '--model', 'rallpack1', '--dt', '0.025', '--method', 'cn']
    """
    if tool not in ("neuron", "ours"):
        raise ValueError(f"tool must be 'neuron' or 'ours', got {tool!r}")
    script = HERE / ("neuron_models.py" if tool == "neuron" else "ours_models.py")
    py = peers_py if tool == "neuron" else OURS_PY
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


def summarize(records: list[dict]) -> list[dict]:
    """One row per (model, method, dt, tool): warm medians and the paired ours/NEURON ratio.

    >>> recs = [{"model": "m", "target": "cn", "dt_ms": 0.025, "tool": t, "repetition": r,
    ...          "run_s": s, "cpu_s": s, "e2e_s": 1.0, "peak_mb": 50.0, "build_s": 0.1,
    ...          "compartment_steps_per_s": 1e6 / s, "spikes": 3}
    ...         for t, runs in (("neuron", [9, 2, 2]), ("ours", [9, 1, 1]))
    ...         for r, s in enumerate(runs)]
    >>> rows = summarize(recs)
    >>> [(r["tool"], r["run_s"], r.get("ratio_run")) for r in rows]
    [('neuron', 2.0, None), ('ours', 1.0, 0.5)]
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
    by_key = {(r["model"], r["method"], r["dt_ms"], r["tool"]): r for r in rows}
    for row in rows:
        peer = by_key.get((row["model"], row["method"], row["dt_ms"], "neuron"))
        if row["tool"] != "ours" or "error" in row or not peer or "error" in peer:
            continue
        ours_runs = {r["repetition"]: r["run_s"] for r in groups[
            (row["model"], row["method"], row["dt_ms"], "ours")] if "error" not in r}
        nrn_runs = {r["repetition"]: r["run_s"] for r in groups[
            (row["model"], row["method"], row["dt_ms"], "neuron")] if "error" not in r}
        common = sorted(set(ours_runs) & set(nrn_runs))
        warm = [k for k in common if k != 0] or common
        row["ratio_run"] = med(ours_runs[k] / nrn_runs[k] for k in warm)
    return rows


def speed_table(rows: list[dict]) -> str:
    lines = ["| model | comps | method | tool | run s | cpu s | Mcs/s | peak MB | e2e s "
             "| spikes | ours/NEURON run |", "|" + "---|" * 11]
    for r in rows:
        if r["dt_ms"] != SPEED_DT:
            continue
        if "error" in r:
            lines.append(f"| {r['model']} | | {r['method']} | {r['tool']} | failed: "
                         f"{r['error'][:60]} | | | | | | |")
            continue
        ratio = f"{r['ratio_run']:.2f}" if "ratio_run" in r else "–"
        lines.append(f"| {r['model']} | {r['compartments']} | {r['method']} | {r['tool']} "
                     f"| {r['run_s']:.3f} | {r['cpu_s']:.3f} | {r['msteps_per_s']:.1f} "
                     f"| {r['peak_mb']:.0f} | {r['e2e_s']:.2f} | {r['spikes']} | {ratio} |")
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
    tools = ["neuron"] + (["ours"] if ours_ok else [])
    notes = [f"- ours skipped: {why}"] if not ours_ok else []
    print(f"{platform.node()}, Python {platform.python_version()}; tools {tools}; "
          f"{repeat} repetitions, core 0" + ("" if ours_ok else f"; ours skipped: {why}"),
          flush=True)
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
            for rep in range(repeat):
                for tool in tools:
                    one(tool, model, SPEED_DT, method, rep)
            if model in RALLPACKS:
                for dt in acc_dts:
                    for tool in tools:
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
        "Crank-Nicolson (secondorder 2). Models: benchmarks/compartments/specs.py.\n\n"
        "## Speed\n\n" + speed + "\n\n## Accuracy (Rallpacks, against the official "
        "references; Rallpack 1 and 2 analytic, Rallpack 3 NEURON's)\n\n" + acc + "\n\n"
        + "\n".join(notes) + "\n")
    print(f"\nwrote {args.json} and {args.md}")


if __name__ == "__main__":
    main()
