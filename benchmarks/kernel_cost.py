"""Cost of each model family's neuron update, per neuron and step, at rest.

    python benchmarks/kernel_cost.py [--n 4000] [--ms 500] [--repeat 5] [--cpu 1]

A population of ``n`` neurons of each family (LIF, Izhikevich, AdEx, adaptive LIF) without
input runs ``ms`` milliseconds at dt = 0.1 ms; the figure is the engine's step loop
(``net.last_run_timing.loop_s``, and its CPU time ``net.last_run_loop_cpu_s``) divided by
neurons x steps, best of ``repeat``, families alternating within each repetition, and the
ratios to LIF's.
"""

from __future__ import annotations

import argparse
import os

from neurosim_nb import (
    AdExNeuron,
    AdExParameters,
    IzhikevichNeuron,
    IzhikevichParameters,
    LIFNeuron,
    Network,
)
from neurosim_nb.core.neurons.adaptive_lif import AdaptiveLIFNeuron

FAMILIES = {
    "LIF": LIFNeuron, "Izhikevich": IzhikevichNeuron, "AdEx": AdExNeuron,
    "adaptive LIF": AdaptiveLIFNeuron,
    # the forward-Euler schemes (the peers' numerics)
    "Izhikevich euler": lambda n: IzhikevichNeuron(IzhikevichParameters(scheme="euler"), n=n),
    "AdEx euler": lambda n: AdExNeuron(AdExParameters(scheme="euler"), n=n)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--ms", type=float, default=500.0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cpu", type=int, default=None)
    args = ap.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    steps = args.ms / 0.1
    best = {name: float("inf") for name in FAMILIES}
    best_cpu = dict(best)
    for rep in range(args.repeat + 1):  # the first round loads the compiled code
        for name, cls in FAMILIES.items():
            net = Network("cost", seed=0)
            net.add_population("p", cls(n=args.n) if isinstance(cls, type) else cls(args.n))
            net.simulate(args.ms, record=(), verbose=False, seed=0)
            if rep:
                best[name] = min(best[name], net.last_run_timing.loop_s / (args.n * steps))
                best_cpu[name] = min(best_cpu[name], net.last_run_loop_cpu_s / (args.n * steps))
    for name, t in best.items():
        c = best_cpu[name]
        print(f"{name:14s} {t * 1e9:6.2f} ns per neuron and step  ({t / best['LIF']:.1f}x LIF); "
              f"CPU {c * 1e9:6.2f} ns ({c / best_cpu['LIF']:.1f}x LIF)")


if __name__ == "__main__":
    main()
