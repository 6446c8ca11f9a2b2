"""Memory of a benchmark run: resident set size after each stage, peak RSS, and what the
libraries cost -- neurosim_nb beside Brian2 on the CUBA benchmark (4000 neurons, 1 s).

    .venv/bin/python benchmarks/memory.py [--n 4000] [--duration 1000]
        [--baseline benchmarks/results/memory_before.json]
        [--json benchmarks/results/memory.json] [--md benchmarks/results/memory.md]

Every row is a fresh process (one thread, like ``benchmarks/run.py``) that reads its
``VmRSS`` (``/proc/self/status``) after each stage and its peak (``VmHWM`` and
``ru_maxrss``: the process itself; ``children`` is the largest of the processes it waited
for -- Brian2 cpp_standalone's ``make`` and compiled program -- whose ``ru_maxrss``
includes the RSS of the parent at the fork, so it cannot be less than that):

* **imports** -- one process per library: RSS after ``import numpy`` and after the library;
  "numba + first function" also loads one cached ``@njit`` function, which initialises
  Numba's target context (every lowering registry) and LLVM's JIT -- the fixed cost of
  the first compiled function a process calls.
* **ours (stages)** -- python, numpy, numba, pandas, xarray, ``import neurosim_nb``, the
  first compiled function (after ``neurosim_nb._jit``, whose import hook keeps Numba's
  start-up from importing ``scipy.linalg``: the "numba + first function" import row above
  includes it), build CUBA (``cuba_network``), first ``simulate(duration, record=())``,
  second run: what each stage adds once the ones before it are loaded.
* **ours (as a script)** -- the order of ``benchmarks/ours.py``: ``import neurosim_nb``,
  the builder, build, run, run: what the package pulls in by itself.
* **Brian2** (in ``benchmarks/.peers-venv``; the network of ``benchmarks/peers/
  brian2_models.py``, reused): python, numpy, ``import brian2``, build, run (numpy target:
  a second run too; cpp_standalone allows one). cpp_standalone is run once before the
  measured process so that its project is compiled (``make`` then rebuilds nothing); its
  compiled program is then also run alone under GNU time for its own peak.
* **Numba functions** -- every compiled function the CUBA run loads (a hook on
  ``Dispatcher.compile``: loaded from the on-disk cache, or compiled) with the RSS it added,
  and a synthetic probe: K trivial cached functions loaded one after another (the LLVM
  per-library cost after the first).

Our processes run once before the measured ones so that Numba's on-disk cache is warm.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS_PY = HERE / ".peers-venv" / "bin" / "python"
THREAD_ENV = {k: "1" for k in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                               "MKL_NUM_THREADS")}
#: (label, modules imported after numpy); "numba+fn" = numba and one cached function
IMPORT_ROWS = [("numba", ["numba"]), ("numba + first function", ["numba", "numba+fn"]),
               ("pandas", ["pandas"]), ("xarray (with pandas)", ["xarray"]),
               ("dask.array", ["dask.array"]), ("scipy.sparse", ["scipy.sparse"]),
               ("neurosim_nb", ["neurosim_nb"])]


# ---------------------------------------------------------------- child side (one process)

def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS in /proc/self/status")


def _peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak RSS: ``ru_maxrss``, for this process also ``VmHWM`` (the kernel updates the
    high-water mark ``ru_maxrss`` reads only now and then: it can lag the last MB)."""
    peak = resource.getrusage(who).ru_maxrss / 1024.0
    if who == resource.RUSAGE_SELF:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024.0)
    return peak


class Stages:
    """RSS after each named stage of this process."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def mark(self, stage: str) -> None:
        self.rows.append({"stage": stage, "rss_mb": _rss_mb(), "peak_mb": _peak_mb()})

    def result(self, **extra) -> dict:
        return {"stages": self.rows, "peak_mb": _peak_mb(),
                "children_peak_mb": _peak_mb(resource.RUSAGE_CHILDREN), **extra}


def _first_numba_function() -> None:
    """Load (or compile) one trivial cached @njit function from a module in a temp dir."""
    folder = Path(tempfile.gettempdir()) / "nsnb-memory-probe"
    folder.mkdir(exist_ok=True)
    src = folder / "nsnb_memory_probe_one.py"
    if not src.exists():
        src.write_text("from numba import njit\n\n\n@njit(cache=True)\ndef f(x):\n"
                       "    return x + 1\n")
    sys.path.insert(0, str(folder))
    import nsnb_memory_probe_one

    nsnb_memory_probe_one.f(1)


def _hook_numba(log: list[dict]) -> None:
    """Record every ``Dispatcher.compile`` (a cache load or a compilation): the function,
    the RSS it added and its time."""
    from numba.core import dispatcher

    original = dispatcher.Dispatcher.compile
    depth = [0]

    def compile(self, sig):  # noqa: A001  (the method's name)
        r0, t0 = _rss_mb(), time.perf_counter()
        depth[0] += 1
        try:
            return original(self, sig)
        finally:
            depth[0] -= 1
            log.append({"function": f"{self.py_func.__module__}.{self.py_func.__qualname__}",
                        "nested": depth[0] > 0, "rss_added_mb": _rss_mb() - r0,
                        "ms": 1000.0 * (time.perf_counter() - t0)})

    dispatcher.Dispatcher.compile = compile


def child_import(mods: list[str]) -> dict:
    st = Stages()
    st.mark("python")
    import importlib

    import numpy  # noqa: F401

    st.mark("numpy")
    for m in mods:
        if m == "numba+fn":
            _first_numba_function()
        else:
            importlib.import_module(m)
        st.mark(m)
    return st.result()


def _loaded(names=("numba", "pandas", "xarray", "scipy.sparse", "dask.array", "bokeh")):
    return [m for m in names if m in sys.modules]


def child_ours(n: int, duration: float, order: str) -> dict:
    os.environ.setdefault("NEUROSIM_NB_GC_FREEZE", "1")  # as benchmarks/ours.py
    st = Stages()
    st.mark("python")
    import numpy  # noqa: F401

    st.mark("numpy")
    log: list[dict] = []
    if order == "stages":
        import numba  # noqa: F401

        st.mark("numba")
        _hook_numba(log)
        import pandas  # noqa: F401

        st.mark("pandas")
        import xarray  # noqa: F401

        st.mark("xarray")
    import neurosim_nb

    st.mark("import neurosim_nb")
    if order == "stages":
        # the first compiled function after neurosim_nb._jit (whose import hook keeps
        # Numba's start-up from importing scipy.linalg), as in every run of the package
        import neurosim_nb._jit  # noqa: F401

        _first_numba_function()
        st.mark("numba first function")
    from neurosim_nb.core.networks.benchmarks_models import cuba_network

    st.mark("import the builder")
    if order != "stages":
        _hook_numba(log)
    loaded = {"after import": _loaded()}
    net = cuba_network(n, seed=1)
    st.mark(f"build CUBA {n}")
    loaded["after build"] = _loaded()
    ds = net.simulate(duration, dt=0.1, record=(), seed=1, verbose=False)
    st.mark("first run")
    spikes = int(ds.sizes["spike"])
    ds2 = net.simulate(duration, dt=0.1, record=(), seed=1, verbose=False)  # ds kept
    st.mark("second run")
    spikes = [spikes, int(ds2.sizes["spike"])]
    loaded["after runs"] = _loaded()
    return st.result(numba_functions=log, modules=len(sys.modules), loaded=loaded,
                     spikes=spikes, synapses=int(sum(p.n_synapses for p in net.projections)),
                     version=neurosim_nb.__version__)


def child_brian2(target: str, n: int, duration: float, cache_dir: str) -> dict:
    st = Stages()
    st.mark("python")
    import numpy  # noqa: F401

    st.mark("numpy")
    sys.path.insert(0, str(HERE / "peers"))
    import brian2 as b2
    from brian2_models import vogels_abbott  # the benchmark's own network

    st.mark("import brian2")
    if target == "cpp_standalone":
        b2.set_device("cpp_standalone", directory=os.path.join(cache_dir, f"cuba_{n}"),
                      build_on_run=True)
    else:
        b2.prefs.codegen.target = target
    b2.defaultclock.dt = 0.1 * b2.ms
    b2.seed(1)
    group, objs = vogels_abbott("cuba", n)
    mon = b2.SpikeMonitor(group)
    net = b2.Network(*objs, mon)
    if target != "cpp_standalone":
        net.run(0 * b2.ms)  # code objects made (as brian2_models.py does)
    st.mark(f"build CUBA {n}")
    net.run(duration * b2.ms)
    st.mark("first run")
    spikes = int(mon.num_spikes)
    if target != "cpp_standalone":
        net.run(duration * b2.ms)
        st.mark("second run")
    return st.result(spikes=spikes, version=b2.__version__)


def child_many_functions(k: int) -> dict:
    """Load ``k`` trivial cached functions (distinct libraries) one after another."""
    folder = Path(tempfile.gettempdir()) / "nsnb-memory-probe"
    folder.mkdir(exist_ok=True)
    src = folder / f"nsnb_memory_probe_{k}.py"
    if not src.exists():
        src.write_text("from numba import njit\n" + "".join(
            f"\n\n@njit(cache=True)\ndef f{i}(x):\n    return x * {i + 2} + {i}\n"
            for i in range(k)))
    sys.path.insert(0, str(folder))
    import importlib

    mod = importlib.import_module(src.stem)
    rss = [_rss_mb()]
    for i in range(k):
        getattr(mod, f"f{i}")(1.5)
        rss.append(_rss_mb())
    return {"rss_mb": rss, "peak_mb": _peak_mb()}


# ---------------------------------------------------------------- parent side

def run_child(args: list[str], python: str | Path = sys.executable) -> dict:
    env = dict(os.environ, **THREAD_ENV)
    r = subprocess.run([str(python), str(Path(__file__).resolve()), "--child", *args],
                       capture_output=True, text=True, env=env)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if r.returncode != 0 or not lines:
        tail = [ln for ln in r.stderr.splitlines() if ln.strip()]
        return {"error": tail[-1] if tail else f"exit {r.returncode}"}
    return json.loads(lines[-1])


def measure(n: int, duration: float, brian2_cache: str) -> dict:
    dur = str(duration)
    res: dict = {"imports": {}, "rows": {}}
    run_child(["ours-stages", str(n), dur])  # warm Numba's on-disk cache
    run_child(["many", "20"])
    for label, mods in IMPORT_ROWS:
        res["imports"][label] = run_child(["import", *mods])
    res["rows"]["ours (stages)"] = run_child(["ours-stages", str(n), dur])
    res["rows"]["ours (as a script)"] = run_child(["ours-script", str(n), dur])
    if PEERS_PY.exists():
        res["imports"]["brian2"] = run_child(["import", "brian2"], PEERS_PY)
        run_child(["brian2", "cpp_standalone", str(n), dur, brian2_cache], PEERS_PY)
        for target in ("cpp_standalone", "numpy"):
            res["rows"][f"Brian2 {target}"] = run_child(
                ["brian2", target, str(n), dur, brian2_cache], PEERS_PY)
        res["brian2_program_peak_mb"] = program_peak(Path(brian2_cache) / f"cuba_{n}")
    res["many_functions"] = run_child(["many", "20"])
    return res


def program_peak(project: Path) -> float | None:
    """Peak RSS (MB) of Brian2 cpp_standalone's compiled program run alone, measured by
    GNU time (a small C parent: a child's ``ru_maxrss`` includes the RSS its parent had at
    the fork, so Brian2's Python process cannot tell it). ``None`` without ``/usr/bin/time``
    or the program."""
    if not (Path("/usr/bin/time").exists() and (project / "main").exists()):
        return None
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "./main"], cwd=project,
                       capture_output=True, text=True, env=dict(os.environ, **THREAD_ENV))
    last = r.stderr.strip().splitlines()[-1:] or [""]
    return int(last[0]) / 1024.0 if r.returncode == 0 and last[0].isdigit() else None


#: the package import as one column of the table that puts ours beside Brian2
_COLUMN = {"import neurosim_nb": "import the package", "import brian2": "import the package"}


def _stage_cell(row: dict, stage: str, column=lambda s: s) -> str:
    for s in row.get("stages", []):
        if column(s["stage"]) == stage:
            return f"{s['rss_mb']:.0f}"
    return "–"


def tables(res: dict, baseline: dict | None = None) -> str:
    out = ["### What an import costs (fresh process each; MB)", "",
           "| library | RSS after numpy | after the import | added |", "|---|---|---|---|"]
    for label, r in res["imports"].items():
        if "error" in r:
            out.append(f"| {label} | failed: {r['error'][:60]} | | |")
            continue
        st = {s["stage"]: s["rss_mb"] for s in r["stages"]}
        last = r["stages"][-1]["rss_mb"]
        out.append(f"| {label} | {st['numpy']:.0f} | {last:.0f} | {last - st['numpy']:+.0f} |")
    for title, keys, column in (
            ("### Ours, stage by stage (RSS after each stage, MB)", ["ours (stages)"],
             lambda s: s),
            ("### Ours as a script, and Brian2 (RSS after each stage, MB)",
             ["ours (as a script)", "Brian2 cpp_standalone", "Brian2 numpy"],
             lambda s: _COLUMN.get(s, s))):
        rows = {k: res["rows"][k] for k in keys if k in res["rows"]}
        stages: list[str] = []
        for r in rows.values():
            for s in r.get("stages", []):
                if column(s["stage"]) not in stages:
                    stages.append(column(s["stage"]))
        out += ["", title, "", "| process | " + " | ".join(stages)
                + " | peak (self) | peak (children) |", "|---" * (len(stages) + 3) + "|"]
        for k, r in rows.items():
            if "error" in r:
                out.append(f"| {k} | failed: {r['error'][:70]} |")
                continue
            cells = " | ".join(_stage_cell(r, s, column) for s in stages)
            out.append(f"| {k} | {cells} | **{r['peak_mb']:.0f}** "
                       f"| {r['children_peak_mb']:.0f} |")
    if res.get("brian2_program_peak_mb"):
        out += ["", f"Brian2 cpp_standalone's compiled program alone (`main` of its project, "
                f"run under GNU time): peak {res['brian2_program_peak_mb']:.0f} MB -- the "
                "rest of its process's peak is Python, numpy and Brian2's code generation."]
    ours = res["rows"].get("ours (as a script)", {})
    if "numba_functions" in ours:
        fns = ours["numba_functions"]
        out += ["", f"### Numba functions a CUBA run loads ({len(fns)}; ours as a script)", "",
                "| function | RSS added MB | ms |", "|---|---|---|"]
        out += [f"| `{f['function']}`{' (nested)' if f['nested'] else ''} "
                f"| {f['rss_added_mb']:.1f} | {f['ms']:.0f} |" for f in fns]
    many = res.get("many_functions", {})
    if "rss_mb" in many:
        r = many["rss_mb"]
        per = (r[-1] - r[1]) / (len(r) - 2)
        out += ["", f"Synthetic: {len(r) - 1} trivial cached functions loaded in turn: the "
                f"first adds {r[1] - r[0]:.0f} MB (Numba's target context and LLVM's JIT), "
                f"each further one {per * 1024:.0f} kB."]
    if baseline:
        out += ["", "### Before / after (peak RSS, MB)", "",
                "| process | before | after | change |", "|---|---|---|---|"]
        for k, r in res["rows"].items():
            b = baseline.get("rows", {}).get(k, {})
            if "peak_mb" in r and "peak_mb" in b:
                out.append(f"| {k} | {b['peak_mb']:.0f} | {r['peak_mb']:.0f} "
                           f"| {r['peak_mb'] - b['peak_mb']:+.0f} |")
    return "\n".join(out)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, rest = sys.argv[2], sys.argv[3:]
        if kind == "import":
            out = child_import(rest)
        elif kind in ("ours-stages", "ours-script"):
            out = child_ours(int(rest[0]), float(rest[1]), kind.split("-")[1])
        elif kind == "brian2":
            out = child_brian2(rest[0], int(rest[1]), float(rest[2]), rest[3])
        else:
            out = child_many_functions(int(rest[0]))
        print(json.dumps(out), flush=True)
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--duration", type=float, default=1000.0, help="simulated ms")
    ap.add_argument("--baseline", default=None, help="an earlier --json, for before/after")
    ap.add_argument("--brian2-cache", default=str(HERE / "results" / ".cache" / "brian2-memory"))
    ap.add_argument("--json", default=str(HERE / "results" / "memory.json"))
    ap.add_argument("--md", default=str(HERE / "results" / "memory.md"))
    args = ap.parse_args()
    res = measure(args.n, args.duration, args.brian2_cache)
    res["meta"] = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": platform.node(),
                   "python": platform.python_version(), "n": args.n,
                   "duration_ms": args.duration}
    baseline = json.loads(Path(args.baseline).read_text()) if args.baseline else None
    md = tables(res, baseline)
    print(md)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(res, indent=1))
    head = textwrap.fill(
        f"Memory {res['meta']['date']}, CUBA {args.n} neurons, {args.duration / 1000:g} s, "
        "dt 0.1 ms, spikes only (record=()); RSS = VmRSS after the stage, peak = the "
        "process's high-water RSS (VmHWM, ru_maxrss; children: ru_maxrss of the largest "
        "process it waited for, which includes its parent's RSS at the fork). Made by "
        "`benchmarks/memory.py`.", 99)
    Path(args.md).write_text(head + "\n\n" + md + "\n")
    print(f"\nwrote {args.json} and {args.md}")


if __name__ == "__main__":
    main()
