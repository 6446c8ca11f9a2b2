"""Sweep benchmarks (issue 17): the machinery's overhead per point, and the speed-up of heavy
points on two Dask workers.

Run:  .venv/bin/python benchmarks/sweep.py [--heavy 24] [--heavy-ms 4000] [--repeat 3]
      [--json results/sweep.json]

1. **Overhead per point**, a 2000-point cheap sweep (a callable returning ``a * b``, whose
   own cost is about a microsecond, so the wall time is the machinery: points, seeds,
   batching, measures, Dataset assembly, and for Dask the tasks and their transfer).
   Serial and on a ``LocalCluster`` of 2 single-threaded workers (started and warmed
   before the clock runs; its start-up is reported separately), with and without a Zarr
   checkpoint store. Target: <= 1 ms per point. Also the 2000-point LIF f-I grid on the
   model-family path (each batch is one vectorised population of 100 ms).
2. **Heavy points**: ``--heavy`` points of a 400-neuron E/I network with Poisson drive
   (spec path, ``--heavy-ms`` each), serial vs the 2-worker cluster. Target: >= 1.7x.

Every process (this one and each worker) runs one tiny point of each path first, so the
times exclude loading the compiled kernels (about a second per process).

Wall time is ``time.perf_counter``; CPU time is this process's ``time.process_time`` (on
Dask the client mostly waits); for the heavy points the workers' CPU time is reported too,
with the 1-minute load average: a speed-up needs the 2 cores free of other work.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from neurosim_nb import __version__
from neurosim_nb.fitting import parameter_sweep
from neurosim_nb.fitting.cluster import usable_cores

SPEC = {
    "name": "ei", "seed": 1,
    "populations": {"E": {"model": "LIF", "n": 320, "preset": "excitatory"},
                    "I": {"model": "LIF", "n": 80, "preset": "inhibitory"}},
    "projections": [
        {"pre": "E", "post": "E", "rule": "fixed_probability", "p": 0.1, "weight": 0.004,
         "receptor": "AMPA"},
        {"pre": "E", "post": "I", "rule": "fixed_probability", "p": 0.1, "weight": 0.004,
         "receptor": "AMPA"},
        {"pre": "I", "post": "E", "rule": "fixed_probability", "p": 0.1, "weight": 0.02,
         "receptor": "GABA_A"},
        {"pre": "I", "post": "I", "rule": "fixed_probability", "p": 0.1, "weight": 0.02,
         "receptor": "GABA_A"}],
    "stimuli": {"E": [{"type": "PoissonInput", "rate_hz": 2000.0, "weight_mV": 1.0}],
                "I": [{"type": "PoissonInput", "rate_hz": 2000.0, "weight_mV": 1.0}]},
}


def cheap(params, seed):
    return {"y": params["a"] * params["b"]}


def warm_up() -> None:
    """Load the compiled kernels and the imports of every path (in this process or a
    worker)."""
    parameter_sweep(cheap, {"a": [1.0], "b": [2.0]}, measures="y", client="serial",
                    progress=False)
    parameter_sweep("LIF", {"I_nA": [3.0]}, measures="mean_rate",
                    fixed={"duration_ms": 10.0}, client="serial", progress=False)
    parameter_sweep(SPEC, {"stimuli.E.0.rate_hz": [2000.0]}, measures="mean_rate",
                    fixed={"duration_ms": 10.0}, client="serial", progress=False)


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heavy", type=int, default=24, help="number of heavy points")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of the heavy sweep each way (the fastest counts)")
    ap.add_argument("--heavy-ms", type=float, default=4000.0,
                    help="simulated time of a heavy point (ms)")
    ap.add_argument("--json", default=None, help="write the results to this JSON file")
    args = ap.parse_args()
    from distributed import Client, LocalCluster

    rows = []

    def report(case, n, wall, cpu, **extra):
        rows.append({"case": case, "points": n, "wall_s": wall, "cpu_s": cpu,
                     "ms_per_point": 1000 * wall / n, **extra})
        more = "".join(f"  {k}={v}" for k, v in extra.items())
        print(f"{case:52s} {wall:7.2f} s wall {cpu:7.2f} s cpu "
              f"{1000 * wall / n:8.3f} ms/pt{more}", flush=True)

    print(f"neurosim_nb {__version__}, {platform.machine()}, {usable_cores()} usable cores, "
          f"os.cpu_count()={os.cpu_count()}")
    w0 = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None,
                           scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    client = Client(cluster)
    print(f"LocalCluster(2 workers) start: {time.perf_counter() - w0:.2f} s")
    grid = {"a": np.arange(40.0), "b": np.arange(50.0)}            # 2000 points
    fi = {"tau_m": np.linspace(5.0, 30.0, 40), "I_nA": np.linspace(0.0, 8.0, 50)}
    warm_up()                                                        # JIT cache, imports:
    client.run(warm_up)                                              # here and on each worker
    for target in ("serial", client):
        parameter_sweep(cheap, grid, measures="y", client=target, progress=False)

    for label, target in (("serial", "serial"), ("LocalCluster 2 workers", client)):
        wall, cpu, ds = timed(lambda t=target: parameter_sweep(
            cheap, grid, measures="y", client=t, progress=False))
        report(f"cheap x2000, {label}", 2000, wall, cpu, batch_size=ds.attrs["batch_size"])
        with tempfile.TemporaryDirectory() as tmp:
            wall, cpu, ds = timed(lambda t=target, tmp=tmp: parameter_sweep(
                cheap, grid, measures="y", client=t, progress=False,
                store=str(Path(tmp) / "s.zarr")))
        report(f"cheap x2000, {label}, Zarr store", 2000, wall, cpu,
               batch_size=ds.attrs["batch_size"])
        wall, cpu, ds = timed(lambda t=target: parameter_sweep(
            "LIF", fi, measures="mean_rate", fixed={"duration_ms": 100.0}, client=t,
            progress=False))
        report(f"LIF f-I x2000 (100 ms each), {label}", 2000, wall, cpu,
               batch_size=ds.attrs["batch_size"])

    rates = np.linspace(1500.0, 3000.0, args.heavy)
    heavy = {}
    for rep in range(args.repeat):       # alternate, keep the fastest of each (the least
        for label, target in (("serial", "serial"), ("LocalCluster 2 workers", client)):
            before = client.run(time.process_time)         # disturbed by other processes)
            wall, cpu, ds = timed(lambda t=target: parameter_sweep(
                SPEC, {"stimuli.E.0.rate_hz": rates}, measures="mean_rate",
                fixed={"duration_ms": args.heavy_ms}, client=t, progress=False))
            after = client.run(time.process_time)
            workers_cpu = sum(after[w] - before[w] for w in after)
            if label not in heavy or wall < heavy[label][0]:
                heavy[label] = (wall, ds)
            report(f"E/I network 400 x{args.heavy_ms:g} ms, x{args.heavy}, {label} #{rep + 1}",
                   args.heavy, wall, cpu, workers_cpu_s=round(workers_cpu, 2),
                   load_avg_1min=round(os.getloadavg()[0], 2))
    (t1, s1), (t2, s2) = heavy["serial"], heavy["LocalCluster 2 workers"]
    same = bool(np.array_equal(s1["mean_rate"].values, s2["mean_rate"].values))
    print(f"heavy speed-up on 2 workers (fastest of {args.repeat} each): {t1 / t2:.2f}x "
          "(target >= 1.7x); "
          f"serial == Dask: {same}")
    client.close()
    cluster.close()
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(
            {"version": __version__, "rows": rows, "heavy_speedup": t1 / t2,
             "heavy_identical": same, "repeat": args.repeat}, indent=1))


if __name__ == "__main__":
    main()
