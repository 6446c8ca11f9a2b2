"""How far is COBA 4000 from this machine's floor? The run split into stages, each beside a
minimal loop doing the same arithmetic and memory traffic.

    python benchmarks/coba_floor.py [--cpu 0] [--repeat 5]

Stages (best of ``--repeat``; wall and CPU time of the engine's step loop,
``net.last_run_timing.loop_s`` and ``time.process_time``):

1. ``neurons``: the COBA populations (LIF, two exponential conductance channels each) with
   no synapses, driven by a constant current that gives the network's rate (20 Hz) --
   the neuron update, the receptor channels and the spike collection;
2. ``+ delivery``: the COBA network itself (Brian2-validated builder, 319 744 synapses,
   ~80 000 spikes -> ~6.4 million synaptic events);
3. ``+ recording``: the same with ``V`` of 100 neurons recorded every step.

Floors (``@njit`` loops written here, the least work each stage must do; with fused
multiply-adds, ``numerics.fastmath.fma``, as the engine since session 13):

* neuron floor: one fused, vectorised pass per step over 4000 neurons updating V
  (exact LIF step), the refractory counter and two decaying conductances, taking the
  arrivals from two ring-buffer rows and counting the spikes -- the same arrays and
  arithmetic, without writing the spikes' indices out;
* delivery floor: the run's synaptic events as one CSR scatter-add (for each spike, add
  the weight to its targets' ring-buffer slot) -- the same event count and access pattern.

Writes ``benchmarks/results/coba_floor.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from neurosim_nb._jit import njit
from neurosim_nb.core.networks.benchmarks_models import coba_network
from neurosim_nb.numerics.fastmath import fma
from neurosim_nb.stimuli import StepCurrent

RESULTS = Path(__file__).parent / "results"
N, T, DT = 4000, 1000.0, 0.1


def _loop_time(net, **kw) -> tuple[float, float, int]:
    c0 = time.process_time()
    ds = net.simulate(T, dt=DT, verbose=False, seed=1, **kw)
    cpu = time.process_time() - c0
    timing = net.last_run_timing
    # CPU of the loop: the call's CPU minus the (single-threaded) set-up and output phases
    return timing.loop_s, cpu - timing.setup_s - timing.output_s, int(ds.sizes["spike"])


def stage_neurons():
    net = coba_network(N, p=0.0, seed=1, kickstart=False)
    # 20 Hz: 1 / (t_ref + tau ln(RI / (RI - 10 mV))) with t_ref 5, tau 20 -> RI = 11.18 mV
    for pop in net.populations.values():
        net.add_stimulus(pop.label if pop.label in net.populations else
                         next(k for k, v in net.populations.items() if v is pop),
                         StepCurrent(0.1118))
    return net, {"record": ()}


def stage_delivery():
    return coba_network(N, seed=1), {"record": ()}


def stage_recording():
    return coba_network(N, seed=1), {"record": ("V",), "record_neurons": np.arange(100)}


@njit(cache=True, error_model="numpy")
def _neuron_floor(v, ref, ge, gi, buf_e, buf_i, steps, decay, de, di, v_inf0, r_m, v_th,
                  v_reset, ref_steps):
    n = v.shape[0]
    depth = buf_e.shape[0]
    spikes = 0
    for k in range(steps):
        be = buf_e[k % depth]
        bi = buf_i[k % depth]
        for i in range(n):
            g1 = fma(ge[i], de, be[i])
            g2 = fma(gi[i], di, bi[i])
            be[i] = 0.0
            bi[i] = 0.0
            ge[i] = g1
            gi[i] = g2
            i_syn = g1 * (0.0 - v[i]) + g2 * (-80.0 - v[i])
            vi = fma(r_m, i_syn, v_inf0)
            vn = fma(v[i] - vi, decay, vi)
            r = ref[i]
            vn = v_reset if r > 0.0 else vn
            fire = vn >= v_th
            v[i] = v_reset if fire else vn
            ref[i] = ref_steps if fire else (r - 1.0 if r > 0.0 else r)
            spikes += 1 if fire else 0  # (an integer count: the pass still vectorises)
    return spikes


@njit(cache=True, error_model="numpy")
def _delivery_floor(pre, steps, indptr, post, weight, buf, depth):
    for q in range(pre.shape[0]):
        row = buf[(steps[q] + 1) % depth]
        for s in range(indptr[pre[q]], indptr[pre[q] + 1]):
            row[post[s]] += weight[s]


def floors(spike_pre, spike_step, net) -> dict:
    tau = 20.0
    v = np.full(N, -60.0)
    ref = np.zeros(N)
    ge = np.zeros(N)
    gi = np.zeros(N)
    buf_e = np.zeros((2, N))
    buf_i = np.zeros((2, N))
    args = (int(T / DT), np.exp(-DT / tau), np.exp(-DT / 5.0), np.exp(-DT / 10.0), -60.0 + 11.18,
            100.0, -50.0, -60.0, 50.0)
    _neuron_floor(v, ref, ge, gi, buf_e, buf_i, 10, *args[1:])
    best = (np.inf, np.inf)
    for _ in range(5):
        w0, c0 = time.perf_counter(), time.process_time()
        _neuron_floor(v, ref, ge, gi, buf_e, buf_i, *args)
        best = min(best, (time.perf_counter() - w0, time.process_time() - c0))
    # the delivery of the COBA run's spikes through its projections (one CSR per projection)
    projs = [p for p in net.projections if p.n_synapses]
    off = net.offsets()
    buf = np.zeros((16, N))
    work = []
    for p in projs:
        lo = off[p.pre]
        take = (spike_pre >= lo) & (spike_pre < lo + p.n_pre)
        work.append((np.ascontiguousarray(spike_pre[take] - lo), np.ascontiguousarray(
            spike_step[take]), p.indptr, p.post_idx.astype(np.int64) + off[p.post],
            np.asarray(p.weight, dtype=np.float64)))
    for w in work:
        _delivery_floor(w[0][:10], w[1][:10], w[2], w[3], w[4], buf, 16)
    dbest = (np.inf, np.inf)
    for _ in range(5):
        w0, c0 = time.perf_counter(), time.process_time()
        for w in work:
            _delivery_floor(*w, buf, 16)
        dbest = min(dbest, (time.perf_counter() - w0, time.process_time() - c0))
    events = int(sum(np.diff(w[2])[w[0]].sum() for w in work))
    return {"neuron_floor_s": best[0], "neuron_floor_cpu_s": best[1],
            "delivery_floor_s": dbest[0], "delivery_floor_cpu_s": dbest[1], "events": events}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cpu", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    rows = {}
    stages = {"neurons": stage_neurons, "+ delivery": stage_delivery,
              "+ recording": stage_recording}
    for make in stages.values():  # warm (load the compiled loops)
        net, kw = make()
        net.simulate(10.0, dt=DT, verbose=False, seed=1, **kw)
    best = {name: (np.inf, np.inf, 0) for name in stages}
    for _ in range(args.repeat):  # stages alternate within each repetition
        for name, make in stages.items():
            net, kw = make()
            r = _loop_time(net, **kw)
            best[name] = min(best[name], r)
    for name, (wall, cpu, spikes) in best.items():
        rows[name] = {"wall_s": wall, "cpu_s": cpu, "spikes": spikes}
        print(f"{name:12s} loop {wall:.4f} s wall, {cpu:.4f} s CPU, {spikes} spikes", flush=True)
    net, _ = stage_delivery()
    ds = net.simulate(T, dt=DT, verbose=False, seed=1, record=())
    spike_step = np.rint(ds.spike_time.values / DT).astype(np.int64) - 1
    fl = floors(ds.spike_neuron.values.astype(np.int64), spike_step, net)
    print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in fl.items()})
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "n": N,
            "duration_ms": T, "cpu": args.cpu}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "coba_floor.json").write_text(json.dumps({"meta": meta, "stages": rows,
                                                         "floors": fl}, indent=1))
    whole = rows["+ delivery"]
    floor_w = fl["neuron_floor_s"] + fl["delivery_floor_s"]
    floor_c = fl["neuron_floor_cpu_s"] + fl["delivery_floor_cpu_s"]
    lines = [f"# COBA 4000 against this machine's floor ({meta['date']})", "",
             "Best of the repetitions; loop = the engine's step loop (1 s of network time, "
             f"{whole['spikes']} spikes, {fl['events']:,} synaptic events).", "",
             "| what | wall s | CPU s |", "|---|---|---|",
             f"| ours: the whole COBA loop | {whole['wall_s']:.4f} | {whole['cpu_s']:.4f} |",
             f"| floor: neurons + receptors + spike collection | {fl['neuron_floor_s']:.4f} | "
             f"{fl['neuron_floor_cpu_s']:.4f} |",
             f"| floor: delivery | {fl['delivery_floor_s']:.4f} | "
             f"{fl['delivery_floor_cpu_s']:.4f} |",
             f"| floor: sum | {floor_w:.4f} | {floor_c:.4f} |",
             f"| ours / floor | {whole['wall_s'] / floor_w:.2f} | {whole['cpu_s'] / floor_c:.2f} |",
             f"| ours: + recording V of 100 neurons every step | "
             f"{rows['+ recording']['wall_s'] - whole['wall_s']:+.4f} | "
             f"{rows['+ recording']['cpu_s'] - whole['cpu_s']:+.4f} |",
             f"| ours: populations without synapses, constant drive (another path: no "
             f"delivery, input rows read every step) | {rows['neurons']['wall_s']:.4f} | "
             f"{rows['neurons']['cpu_s']:.4f} |"]
    (RESULTS / "coba_floor.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
