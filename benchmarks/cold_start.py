"""First run on an empty cache: import, build CUBA 4000, simulate 1 s (docs/performance.md).

    git clone <repo> fresh && cd fresh
    NEUROSIM_NB_CACHE=$(mktemp -d) time python benchmarks/cold_start.py float64

(a fresh clone has no Numba cache next to its sources; ``NEUROSIM_NB_CACHE`` points the
generated kernels and loops at an empty folder too).
"""

import sys
import time

T0 = time.perf_counter()
from neurosim_nb.core.networks.benchmarks_models import cuba_network  # noqa: E402


def main(precision: str) -> None:
    net = cuba_network(4000, seed=1)
    t1 = time.perf_counter()
    ds = net.simulate(1000.0, dt=0.1, record=(), seed=1, precision=precision, verbose=False)
    t2 = time.perf_counter()
    print(f"{precision}: spikes {ds.sizes['spike']} build+import {t1 - T0:.1f}s "
          f"first run {t2 - t1:.1f}s total {t2 - T0:.1f}s")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "float64")
