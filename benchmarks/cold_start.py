"""First run on an empty cache: import, build one benchmark network, simulate 1 s.

    git clone <repo> fresh && cd fresh
    NEUROSIM_NB_CACHE=$(mktemp -d) NUMBA_CACHE_DIR=$(mktemp -d) \\
        python benchmarks/cold_start.py --model cuba --target float64

(a fresh clone has no Numba cache next to its sources; ``NEUROSIM_NB_CACHE`` points the
generated kernels and loops at an empty folder too, ``NUMBA_CACHE_DIR`` the package's own
compiled functions). The networks are those of ``benchmarks/ours.py`` (``--model``), but
without its warm-up run: this is what a user's first ``simulate`` of one family costs.
Prints wall and CPU seconds (CPU is the fairer figure on a shared machine: compilation is
single-threaded) and the spike count; docs/performance.md, "Cold start".
"""

import argparse
import os
import sys
import time

T0 = time.perf_counter()
C0 = time.process_time()
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.argv, _argv = sys.argv[:1], sys.argv  # ours.py parses its own flags only when run
import ours  # noqa: E402

sys.argv = _argv


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cuba")
    ap.add_argument("--target", default="float64", choices=("float64", "float32"))
    ap.add_argument("--duration", type=float, default=1000.0)
    args = ap.parse_args()
    n = ours.default_n(args.model, None)
    net = ours.build(args.model, n, 1)
    t1, c1 = time.perf_counter(), time.process_time()
    ds = net.simulate(args.duration, dt=0.1, record=(), seed=1, precision=args.target,
                      verbose=False)
    t2, c2 = time.perf_counter(), time.process_time()
    print(f"{args.model} {args.target}: spikes {ds.sizes['spike']} "
          f"import+build {t1 - T0:.1f}s (cpu {c1 - C0:.1f}) first run {t2 - t1:.1f}s "
          f"(cpu {c2 - c1:.1f}) total {t2 - T0:.1f}s (cpu {c2 - C0:.1f})")


if __name__ == "__main__":
    main()
