"""How far is CUBA 4000 from this machine's floor? The engine's step loop beside minimal
loops doing the same arithmetic and memory traffic (the CUBA counterpart of
``coba_floor.py``).

    python benchmarks/cuba_floor.py [--cpu 1] [--repeat 5]

Measured (best of ``--repeat``, CPU time, ``time.process_time``):

* ``ours``: the CUBA network's step loop (``net.last_run_loop_cpu_s``; 4000 LIF neurons, two
  exponential current channels, 320 000 synapses, ~22 500 spikes -> ~1.8 million synaptic
  events), and the same with ``V`` of 100 neurons recorded every step;
* ``ours: neuron pass``: the engine's own fast path (``lif._lif_span_flat``, the function
  the network loop inlines) called span after span on the same flat arrays, without
  delivery -- the neuron and receptor part of ``ours``.

Floors (``@njit`` loops written here, the least work each part must do; with fused
multiply-adds, ``numerics.fastmath.fma``, as the engine since session 13):

* neuron floor: one fused, vectorised pass per step over 4000 neurons updating V (exact
  LIF step), the refractory counter and two decaying currents, taking the arrivals from two
  ring-buffer rows, zeroing them and counting the spikes; ``masked``: the same storing the
  ring-buffer zeros and refractory counters only where they change (what the engine does);
  ``blocked``: the masked pass over blocks of 512 neurons, each advanced over two steps
  (a span: the delay is one step) while it is cached;
* delivery floor: the run's synaptic events as one CSR scatter-add per projection.

The floor loops start from uniform V in [-60, -50] mV without arrivals (the network drives
itself: V_rest = -49 mV is above threshold), so they spike more often than the network
(~19 Hz against 5.6 Hz); the spike collection they do is a count, not a list.

Writes ``benchmarks/results/cuba_floor.{json,md}``.
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
from neurosim_nb.core.networks.benchmarks_models import cuba_network
from neurosim_nb.core.neurons import lif
from neurosim_nb.numerics.fastmath import fma

RESULTS = Path(__file__).parent / "results"
N, T, DT = 4000, 1000.0, 0.1
STEPS = int(round(T / DT))
TAU_M, TAU_E, TAU_I = 20.0, 5.0, 10.0
V_REST, R_M, V_TH, V_RESET, REF_STEPS = -49.0, 100.0, -50.0, -60.0, 50.0


@njit(cache=True, error_model="numpy")
def _floor_full(v, ref, ie, ii, buf_e, buf_i, steps, dm, de, di):
    n = v.shape[0]
    depth = buf_e.shape[0]
    spikes = 0
    for k in range(steps):
        be = buf_e[k % depth]
        bi = buf_i[k % depth]
        for i in range(n):
            g1 = fma(ie[i], de, be[i])
            g2 = fma(ii[i], di, bi[i])
            be[i] = 0.0
            bi[i] = 0.0
            ie[i] = g1
            ii[i] = g2
            vi = fma(R_M, g1 + g2, V_REST)
            vn = fma(v[i] - vi, dm, vi)
            r = ref[i]
            refr = r >= 1.0
            vn = V_RESET if refr else vn
            r = r - 1.0 if refr else r
            fire = vn >= V_TH
            v[i] = V_RESET if fire else vn
            ref[i] = REF_STEPS if fire else r
            spikes += 1 if fire else 0
    return spikes


@njit(cache=True, error_model="numpy", inline="always")
def _masked_block(v, ref, ie, ii, be, bi, lo, hi, dm, de, di):
    spikes = 0
    u = np.uint64
    for j in range(u(0), u(hi - lo)):  # unsigned: no negative-index handling
        i = u(lo) + j
        x1 = be[i]
        x2 = bi[i]
        g1 = fma(ie[i], de, x1)
        g2 = fma(ii[i], di, x2)
        if x1 != 0.0:  # masked stores: an unchanged cache line stays clean
            be[i] = 0.0
        if x2 != 0.0:
            bi[i] = 0.0
        ie[i] = g1
        ii[i] = g2
        vi = fma(R_M, g1 + g2, V_REST)
        vn = fma(v[i] - vi, dm, vi)
        r = ref[i]
        refr = r >= 1.0
        vn = V_RESET if refr else vn
        fire = vn >= V_TH
        v[i] = V_RESET if fire else vn
        if refr or fire:
            ref[i] = REF_STEPS if fire else r - 1.0
        spikes += 1 if fire else 0
    return spikes


@njit(cache=True, error_model="numpy")
def _floor_masked(v, ref, ie, ii, buf_e, buf_i, steps, dm, de, di):
    depth = buf_e.shape[0]
    spikes = 0
    for k in range(steps):
        spikes += _masked_block(v, ref, ie, ii, buf_e[k % depth], buf_i[k % depth], 0,
                                v.shape[0], dm, de, di)
    return spikes


@njit(cache=True, error_model="numpy")
def _floor_blocked(v, ref, ie, ii, buf_e, buf_i, steps, dm, de, di):
    n = v.shape[0]
    depth = buf_e.shape[0]
    spikes = 0
    for k0 in range(0, steps, 2):
        for lo in range(0, n, 512):
            hi = min(lo + 512, n)
            for k in range(k0, k0 + 2):
                spikes += _masked_block(v, ref, ie, ii, buf_e[k % depth], buf_i[k % depth],
                                        lo, hi, dm, de, di)
    return spikes


@njit(cache=True, error_model="numpy")
def _delivery_floor(pre, steps, indptr, post, weight, buf, depth):
    for q in range(pre.shape[0]):
        row = buf[(steps[q] + 1) % depth]
        for s in range(indptr[pre[q]], indptr[pre[q] + 1]):
            row[post[s]] += weight[s]


@njit(error_model="numpy")
def _engine_pass(state, par, syn_state, syn_buf, zeros, spk_step, spk_idx, rec_idx, rec_slots,
                 rec_out, ch, n, depth, kk, spans):
    """The engine's flat LIF path (2 current channels, no input, no kicks, nothing
    recorded; the pass of the CUBA network's case, ``lif._pass_currents``), ``spans`` spans
    of ``kk`` steps."""
    spikes = 0
    rec = (0, 0, 0, 0, 0, 1)
    for s in range(spans):
        r = lif._lif_span_flat(state, 0, n, par, 0, zeros, 0, False, zeros, 0, False, zeros,
                               syn_state, 0, syn_buf, 0, depth, 2, lif.INLINE_CURRENTS, ch,
                               s * kk, kk, spk_step, spk_idx, 0, rec_idx, rec_slots, rec_out,
                               rec, lif._pass_currents)
        spikes += r[0]
    return spikes


def _start():
    rng = np.random.default_rng(1)
    return rng.uniform(V_RESET, V_TH, N)


def _best(run, make, repeat):
    best = np.inf
    for _ in range(repeat):
        args = make()
        c0 = time.process_time()
        out = run(*args)
        best = min(best, time.process_time() - c0)
    return best, int(out)


def neuron_floors(repeat) -> dict:
    dec = (np.exp(-DT / TAU_M), np.exp(-DT / TAU_E), np.exp(-DT / TAU_I))

    def make():
        return (_start(), np.zeros(N), np.zeros(N), np.zeros(N), np.zeros((3, N)),
                np.zeros((3, N)), STEPS, *dec)

    out = {}
    for name, f in (("full", _floor_full), ("masked", _floor_masked),
                    ("blocked", _floor_blocked)):
        f(*make()[:6], 10, *dec)
        out[name] = _best(f, make, repeat)

    depth, kk = 3, 2
    par = np.array([dec[0], V_REST, R_M, V_TH, V_RESET, REF_STEPS])
    ch = (dec[1], 1.0, 1.0, 0.0, dec[2], 1.0, 1.0, 0.0)

    def make_engine():
        state = np.zeros(2 * N)
        state[:N] = _start()
        return (state, par, np.zeros(2 * 2 * N), np.zeros(2 * depth * N), np.zeros(N),
                np.zeros(kk * N, np.int64), np.zeros(kk * N, np.int64), np.zeros(1, np.int64),
                np.zeros(2, np.int64), np.zeros(1), ch, N, depth, kk, STEPS // kk)

    a = make_engine()
    _engine_pass(*a[:-1], 5)
    out["engine"] = _best(_engine_pass, make_engine, repeat)
    return out


def delivery_floor(net, spike_pre, spike_step, repeat) -> tuple[float, int]:
    off = net.offsets()
    buf = np.zeros((3, N))
    work = []
    for p in (p for p in net.projections if p.n_synapses):
        lo = off[p.pre]
        take = (spike_pre >= lo) & (spike_pre < lo + p.n_pre)
        work.append((np.ascontiguousarray(spike_pre[take] - lo),
                     np.ascontiguousarray(spike_step[take]), p.indptr,
                     p.post_idx.astype(np.int64) + off[p.post],
                     np.asarray(p.weight, dtype=np.float64)))
    for w in work:
        _delivery_floor(w[0][:10], w[1][:10], w[2], w[3], w[4], buf, 3)
    best = np.inf
    for _ in range(repeat):
        c0 = time.process_time()
        for w in work:
            _delivery_floor(*w, buf, 3)
        best = min(best, time.process_time() - c0)
    return best, int(sum(np.diff(w[2])[w[0]].sum() for w in work))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cpu", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    kws = {"ours": {"record": ()},
           "ours + recording": {"record": ("V",), "record_neurons": np.arange(100)}}
    for kw in kws.values():  # warm (load the compiled loops)
        cuba_network(N, seed=1).simulate(10.0, dt=DT, verbose=False, seed=1, **kw)
    best = {name: (np.inf, 0) for name in kws}
    for _ in range(args.repeat):  # the variants alternate within each repetition
        for name, kw in kws.items():
            net = cuba_network(N, seed=1)
            ds = net.simulate(T, dt=DT, verbose=False, seed=1, **kw)
            best[name] = min(best[name], (net.last_run_loop_cpu_s, int(ds.sizes["spike"])))
    net = cuba_network(N, seed=1)
    ds = net.simulate(T, dt=DT, verbose=False, seed=1, record=())
    spike_step = np.rint(ds.spike_time.values / DT).astype(np.int64) - 1
    d_cpu, events = delivery_floor(net, ds.spike_neuron.values.astype(np.int64), spike_step,
                                   args.repeat)
    nf = neuron_floors(args.repeat)
    for name, (cpu, spikes) in best.items():
        print(f"{name:18s} loop {cpu:.4f} s CPU, {spikes} spikes", flush=True)
    print({k: (round(v[0], 4), v[1]) for k, v in nf.items()}, "delivery", round(d_cpu, 4))
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "n": N,
            "duration_ms": T, "cpu": args.cpu, "repeat": args.repeat}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cuba_floor.json").write_text(json.dumps(
        {"meta": meta, "ours": {k: {"cpu_s": v[0], "spikes": v[1]} for k, v in best.items()},
         "neuron_floors": {k: {"cpu_s": v[0], "spikes": v[1]} for k, v in nf.items()},
         "delivery_floor_cpu_s": d_cpu, "events": events}, indent=1))
    ours = best["ours"][0]
    floor = nf["full"][0] + d_cpu
    floor_m = nf["masked"][0] + d_cpu
    ns = 1e9 / (N * STEPS)
    lines = [f"# CUBA 4000 against this machine's floor ({meta['date']})", "",
             f"Best of {args.repeat}, CPU seconds of 1 s of network time ({best['ours'][1]} "
             f"spikes, {events:,} synaptic events); ns = per neuron and step.", "",
             "| what | CPU s | ns | spikes |", "|---|---|---|---|",
             f"| ours: the whole CUBA loop | {ours:.4f} | {ours * ns:.3f} | {best['ours'][1]} |",
             f"| ours: + recording V of 100 neurons every step | "
             f"{best['ours + recording'][0] - ours:+.4f} | | |",
             f"| ours: the neuron pass alone (the engine's flat path, spans of 2 steps, "
             f"the floors' start and spikes, no arrivals) | {nf['engine'][0]:.4f} | "
             f"{nf['engine'][0] * ns:.3f} | {nf['engine'][1]} |"]
    for key, what in (("full", "fused pass, every store"),
                      ("masked", "fused pass, stores only where they change"),
                      ("blocked", "masked, blocks of 512 neurons x 2 steps")):
        lines.append(f"| floor: neurons, {what} | {nf[key][0]:.4f} | {nf[key][0] * ns:.3f} | "
                     f"{nf[key][1]} |")
    lines += [f"| floor: delivery (CSR scatter-add) | {d_cpu:.4f} | | |",
              f"| floor: sum (full pass + delivery) | {floor:.4f} | {floor * ns:.3f} | |",
              f"| floor: sum (masked pass + delivery) | {floor_m:.4f} | {floor_m * ns:.3f} | |",
              f"| ours / floor (full; masked) | {ours / floor:.2f}; {ours / floor_m:.2f} | | |",
              f"| ours' neuron pass / masked neuron floor | "
              f"{nf['engine'][0] / nf['masked'][0]:.2f} | | |"]
    (RESULTS / "cuba_floor.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
