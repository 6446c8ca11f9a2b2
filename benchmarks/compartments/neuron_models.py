"""NEURON versions of the compartmental benchmark models (``specs.py``), fixed step.

Run in the peers' environment (``benchmarks/.peers-venv``, ``pip install neuron``)::

    python benchmarks/compartments/neuron_models.py --model rallpack3 --dt 0.025 --method cn

Prints one JSON line as its last line (the convention of ``benchmarks/peers/common.py``):
``tool`` "neuron", ``target`` the method (``be``: ``h.secondorder = 0``, backward Euler;
``cn``: ``h.secondorder = 2``, Crank-Nicolson with the channel currents' correction),
``model``, ``n`` (cells), ``compartments`` (sum of nseg), ``dt_ms``, ``steps``,
``build_s`` (sections, mechanisms, stimuli, recorders and ``finitialize``), ``run_s`` (the
``ParallelContext.psolve`` loop alone, wall clock), ``cpu_s`` (``time.process_time`` of that
loop), ``compartment_steps_per_s`` = compartments x steps / run_s, ``spikes`` (upward
crossings of the cells' spike threshold at their first recorded site; Rallpack 3: x = 0),
``peak_rss_mb`` (this process), and for the Rallpacks ``accuracy``: max |error| (mV) and
relative RMS at both ends against the official traces (``reference/``; Rallpack 1 and 2
analytic) and, for Rallpack 3, spike-time differences (ms) at both ends against the official
trace's crossings and, when present, against NEURON at dt 0.001 ms
(``tests/cable/reference/rallpack3_spikes.json``). ``--traces FILE`` writes the recorded
traces (npz) for inspection.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import rallpack  # noqa: E402
import specs  # noqa: E402

T0 = time.perf_counter()
import numpy as np  # noqa: E402
from neuron import h  # noqa: E402

T_IMPORT = time.perf_counter() - T0
METHODS = {"be": 0, "cn": 2}


def build_cell(cell: dict) -> dict:
    """NEURON sections of a ``specs`` cell dict; returns {name: Section} plus stimuli."""
    secs = {}
    for s in cell["sections"]:
        sec = h.Section(name=s["name"])
        sec.L, sec.diam, sec.nseg = s["L_um"], s["diam_um"], s["nseg"]
        sec.Ra, sec.cm = s["Ra_ohm_cm"], s["cm_uF_cm2"]
        for mech, params in s["mechanisms"].items():
            sec.insert(mech)
            for seg in sec:
                m = getattr(seg, mech)
                for k, v in params.items():
                    if mech == "hh" and k in ("ena", "ek"):
                        setattr(seg, k, v)      # ion reversal potentials live on the segment
                    else:
                        setattr(m, k, v)
        if s["parent"] is not None:
            sec.connect(secs[s["parent"]](s["parent_x"]), 0)
        secs[s["name"]] = sec
    stims = []
    for st in cell["stimuli"]:
        ic = h.IClamp(secs[st["section"]](st["x"]))
        ic.delay, ic.dur, ic.amp = st["delay_ms"], st["dur_ms"], st["amp_nA"]
        stims.append(ic)
    return {"sections": secs, "stimuli": stims}


def run(model: str, dt_ms: float, method: str, duration_ms: float | None = None,
        traces: str | None = None) -> dict:
    cells = specs.model(model)
    duration = duration_ms if duration_ms is not None else specs.DURATION_MS[model]
    t_start = time.perf_counter()
    h.load_file("stdrun.hoc")
    h.celsius = cells[0]["celsius"]
    built = [build_cell(c) for c in cells]
    record_all = model.startswith("rallpack")
    t_vec = h.Vector().record(h._ref_t) if record_all else None
    recs = []
    for cell, b in zip(cells, built, strict=True):
        sites = cell["record"] if record_all else cell["record"][:1]
        recs.append([h.Vector().record(b["sections"][name](x)._ref_v) for name, x in sites])
    # spikes of the non-Rallpack cells: NetCon threshold detection at the soma
    spike_vecs, netcons = [], []
    if not record_all:
        for cell, b in zip(cells, built, strict=True):
            name, x = cell["record"][0]
            nc = h.NetCon(b["sections"][name](x)._ref_v, None, sec=b["sections"][name])
            nc.threshold = cell.get("spike_threshold_mV", 0.0)
            vec = h.Vector()
            nc.record(vec)
            spike_vecs.append(vec)
            netcons.append(nc)
    h.cvode_active(0)
    h.secondorder = METHODS[method]
    h.dt = dt_ms
    h.steps_per_ms = 1.0 / dt_ms
    h.tstop = duration
    pc = h.ParallelContext()
    pc.set_maxstep(10)
    h.finitialize(cells[0]["v_init_mV"])
    build_s = time.perf_counter() - t_start
    c0, w0 = time.process_time(), time.perf_counter()
    pc.psolve(duration)
    run_s = time.perf_counter() - w0
    cpu_s = time.process_time() - c0
    steps = int(round(h.t / dt_ms))
    n_comp = specs.n_compartments(cells)
    out = {"tool": "neuron", "target": method, "model": model, "n": len(cells),
           "compartments": n_comp, "dt_ms": dt_ms, "duration_ms": duration, "steps": steps,
           "build_s": build_s, "run_s": run_s, "cpu_s": cpu_s, "import_s": T_IMPORT,
           "compartment_steps_per_s": n_comp * steps / run_s,
           "version": h.nrnversion(), "secondorder": int(h.secondorder)}
    if record_all:
        t = np.array(t_vec)
        v = [np.array(r) for r in recs[0]]
        # only Rallpack 3 spikes (Rallpack 1's passive x = 0 also rises above 0 mV)
        out["spikes"] = int(len(rallpack.spike_times(t, v[0]))) if model == "rallpack3" \
            else 0
        out["accuracy"] = rallpack.accuracy(model, t, v, method)
        if traces:
            np.savez_compressed(traces, t_ms=t, v0_mV=v[0], v1_mV=v[1])
    else:
        out["spikes"] = int(sum(len(s) for s in spike_vecs))
        out["spikes_per_cell"] = [len(s) for s in spike_vecs][:100]
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, choices=specs.MODELS)
    ap.add_argument("--dt", type=float, default=0.025, help="fixed step (ms)")
    ap.add_argument("--method", default="cn", choices=tuple(METHODS))
    ap.add_argument("--duration", type=float, default=None, help="simulated ms")
    ap.add_argument("--traces", default=None, help="write the recorded traces to this .npz")
    args = ap.parse_args()
    if not args.dt > 0:
        raise SystemExit(f"--dt must be > 0 ms, got {args.dt}")
    out = run(args.model, args.dt, args.method, args.duration, args.traces)
    sys.stdout.flush()
    print(json.dumps(out), flush=True)
    os._exit(0)   # skip NEURON's teardown of thousands of sections


if __name__ == "__main__":
    main()
