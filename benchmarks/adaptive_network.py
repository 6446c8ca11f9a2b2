"""When does adaptive stepping pay in a network? Cost vs the rate of synaptic events.

100 AdEx neurons (Brette & Gerstner 2005 defaults, 0.6 nA drive) each receive ``K``
independent Poisson inputs at 5 Hz through single-exponential AMPA conductances (delay
1.5 ms), for K from 0 to 400 (0 to 2 input events per neuron and ms). Each K runs with
fixed steps (dt = 0.1 and 0.01 ms) and adaptive steps (rtol = atol = 1e-6); the table
gives the wall and CPU time of the run (``simulate``), the accepted steps per neuron and
ms, and the mean rate (Hz) of each method, so that cost and result are compared side by
side. Every input arrival ends an adaptive step, so the steps per neuron and ms grow with
the input rate; at about one event per neuron every few dt, fixed steps win.

    python benchmarks/adaptive_network.py [--quick] [--cpu 1]

Writes ``benchmarks/results/adaptive_network.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from neurosim_nb import AdExNeuron, Network
from neurosim_nb.core.neurons.sources import PoissonSource
from neurosim_nb.stimuli import StepCurrent

RESULTS = Path(__file__).parent / "results"
N = 100
RATE_HZ = 5.0
WEIGHT_US = 0.002


def build(k_inputs: int) -> Network:
    """The network of the module docstring (the same synapses for every method)."""
    net = Network("adaptive_bench", seed=7)
    net.add_population("adex", AdExNeuron(n=N))
    net.add_stimulus("adex", StepCurrent(0.6))
    if k_inputs:
        net.add_population("poisson", PoissonSource(n=N * k_inputs, rate_hz=RATE_HZ, seed=11))
        pre = np.arange(N * k_inputs)
        net.add_projection("poisson", "adex", pre, pre // k_inputs, WEIGHT_US, 1.5, "AMPA")
    return net


def run(k_inputs: int, method: str, dt: float, duration: float) -> dict:
    net = build(k_inputs)
    kw = {"method": "adaptive", "rtol": 1e-6, "atol": 1e-6} if method == "adaptive" else {}
    net.simulate(5.0, dt=dt, record=(), verbose=False, seed=1, **kw)  # compile, warm
    net = build(k_inputs)
    w0, c0 = time.perf_counter(), time.process_time()
    ds = net.simulate(duration, dt=dt, record=(), verbose=False, seed=1, **kw)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    ids = ds.spike_neuron.values
    n_out = int(np.sum(ids < N))
    steps = ds.attrs.get("n_steps_accepted", int(duration / dt) * N)
    return {"k": k_inputs, "events_per_ms": k_inputs * RATE_HZ / 1000.0, "method": method,
            "dt": dt, "wall_s": wall, "cpu_s": cpu,
            "steps_per_neuron_ms": steps / N / duration,
            "rate_hz": n_out / N / (duration / 1000.0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--cpu", type=int, default=None, help="pin to this core")
    args = ap.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    duration = 200.0 if args.quick else 1000.0
    ks = (0, 20, 100) if args.quick else (0, 5, 20, 50, 100, 200, 400)
    rows = []
    for k in ks:  # methods alternate within each K
        for method, dt in (("fixed", 0.1), ("adaptive", 0.1), ("fixed", 0.01)):
            r = run(k, method, dt, duration)
            rows.append(r)
            print(f"K={k:4d} {method:8s} dt={dt:<5} wall {r['wall_s']:.3f} s cpu "
                  f"{r['cpu_s']:.3f} s steps/neuron/ms {r['steps_per_neuron_ms']:.1f} rate "
                  f"{r['rate_hz']:.2f} Hz", flush=True)
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "duration_ms": duration, "n": N, "input_rate_hz": RATE_HZ}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "adaptive_network.json").write_text(json.dumps({"meta": meta, "rows": rows},
                                                              indent=1))
    lines = [f"# Adaptive vs fixed steps in a driven AdEx population ({meta['date']})", "",
             f"{N} AdEx neurons, K Poisson inputs of {RATE_HZ:g} Hz each (AMPA, "
             f"{WEIGHT_US} uS, 1.5 ms), 0.6 nA drive, {duration:g} ms; adaptive: rtol = atol "
             "= 1e-6. Script: `benchmarks/adaptive_network.py`.", "",
             "| K | events / neuron / ms | method | dt ms | wall s | CPU s | steps / neuron / ms "
             "| rate Hz |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['k']} | {r['events_per_ms']:.3g} | {r['method']} | {r['dt']} | "
                     f"{r['wall_s']:.3f} | {r['cpu_s']:.3f} | {r['steps_per_neuron_ms']:.1f} | "
                     f"{r['rate_hz']:.2f} |")
    (RESULTS / "adaptive_network.md").write_text("\n".join(lines) + "\n")
    print("wrote", RESULTS / "adaptive_network.md")


if __name__ == "__main__":
    main()
