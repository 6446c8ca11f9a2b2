"""Foundation benchmarks: one neuron of each family for 1 s, and 10 000 LIF neurons for 1 s.

Run:  .venv/bin/python benchmarks/bench_foundation.py [--repeat 7] [--json results/foundation.json]

Times are the median wall time of ``simulate`` (run loop, stimulus generation, Dataset
assembly) after one warm-up call, which also loads the Numba on-disk cache. Spikes and
the mean rate are printed so a faster run that simulates something different is caught.
Targets (issue #2): a single neuron in well under 50 ms (the apps re-simulate on every
slider move), 10 000 LIF neurons in about a second or less.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from neurosim_nb import __version__
from neurosim_nb.core.neurons import MODEL_FAMILIES, model_class


def timed(fn, repeat: int):
    fn()  # warm-up: JIT cache load
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def cases():
    for family in MODEL_FAMILIES:
        cls = model_class(family)
        preset = next(iter(cls.presets()))
        current = cls.demo_current(preset)

        def run(cls=cls, preset=preset, current=current):
            pop = cls.from_preset(preset)
            return pop.simulate(1000.0, current, dt=0.1, seed=1)

        yield f"{family} ({preset}) x1, 1 s, V recorded", 1, run

    def lif10k():
        cls = model_class("LIF")
        pop = cls.create_excitatory(n=10_000)
        return pop.simulate(1000.0, np.linspace(0.15, 0.5, 10_000), dt=0.1, seed=1, record=())

    yield "LIF x10000, 1 s, spikes only", 10_000, lif10k


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--json", default=None, help="write results to this JSON file")
    args = ap.parse_args()
    rows = []
    print(f"neurosim_nb {__version__}, {platform.processor() or platform.machine()}, "
          f"median of {args.repeat}")
    print(f"{'case':45s} {'median':>10s} {'spikes':>8s} {'rate Hz':>8s}")
    for name, n, fn in cases():
        t, ds = timed(fn, args.repeat)
        rate = ds.sizes["spike"] / n / (ds.attrs["duration"] / 1000.0)
        rows.append({"case": name, "median_s": t, "spikes": int(ds.sizes["spike"]),
                     "rate_hz": rate})
        print(f"{name:45s} {t * 1000:8.2f} ms {ds.sizes['spike']:8d} {rate:8.2f}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"version": __version__, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
