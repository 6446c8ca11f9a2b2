"""NEURON side of ``benchmarks/adaptive_hh.py``: one ``hh`` compartment, CVODE and fixed step.

Run in the peers' environment (``benchmarks/.peers-venv``, ``pip install neuron``) by
``adaptive_hh.py``, which passes the model as JSON::

    .peers-venv/bin/python benchmarks/adaptive_hh_neuron.py '{"area_um2": 20000, ...}'

The cell: one section, nseg 1, L = diam = sqrt(area / pi) (so ``seg.area()`` is the area of
our model and ``amp_nA`` is our density times that area), cm, ``hh`` with our conductances
and reversal potentials, ``celsius``, the rate tables OFF (``usetable_hh = 0``: the default
tables interpolate the rates linearly on a 1 mV grid, a different model at the 10 us level
of spike times), ``IClamp`` from 0 for the whole run, ``finitialize(v_init)`` (gates at
their steady state there, as ours). Spikes: ``NetCon(v, None).threshold`` with
``record(tvec)``; at fixed step NEURON reports the end of the step of the crossing.

Series, repetitions interleaved (every setting once per round, ``repeats`` rounds):
``cvode``: ``CVode().active(1)``, ``atol`` each of ``cvode_atol``, ``rtol`` 0 (NEURON's
default), with ``condition_order(2)`` (the threshold crossing interpolated inside the
step) and ``condition_order(1)`` (NEURON's default: the crossing is reported at the end of
the step that detects it); ``fixed``: ``active(0)``, ``h.dt`` each of ``fixed_dt`` with
``secondorder`` 0 (NEURON's default, backward Euler) and 2 (Crank-Nicolson with the
channel currents' correction), both with NEURON's staggered gate update. Only
``ParallelContext.psolve`` is timed (wall: ``perf_counter``, CPU: ``process_time``).
CVODE's counters (steps = ``advance_tn``, RHS evaluations, Jacobian setups) come from
``CVode().statistics()``, which prints them; it is read through a redirected stdout file
descriptor.

Prints one JSON line as its last line: ``version``, ``runs`` (one entry per setting, with
``spike_times_ms`` of the first round and ``wall_s``/``cpu_s`` lists of all rounds).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import tempfile
import time

from neuron import h


def build(model: dict):
    """The section, its stimulus and the spike recorder for ``model`` (see module doc)."""
    h.load_file("stdrun.hoc")
    h.celsius = model["celsius"]
    h.usetable_hh = 0
    sec = h.Section(name="soma")
    d = math.sqrt(model["area_um2"] / math.pi)
    sec.L, sec.diam, sec.nseg, sec.cm = d, d, 1, model["cm_uF_cm2"]
    sec.insert("hh")
    seg = sec(0.5)
    seg.hh.gnabar = model["g_Na_mS_cm2"] * 1e-3       # S/cm2
    seg.hh.gkbar = model["g_K_mS_cm2"] * 1e-3
    seg.hh.gl = model["g_L_mS_cm2"] * 1e-3
    seg.hh.el = model["E_L_mV"]
    seg.ena, seg.ek = model["E_Na_mV"], model["E_K_mV"]
    ic = h.IClamp(seg)
    ic.delay, ic.dur, ic.amp = 0.0, model["duration_ms"], model["amp_nA"]
    nc = h.NetCon(seg._ref_v, None, sec=sec)
    nc.threshold = model["threshold_mV"]
    tvec = h.Vector()
    nc.record(tvec)
    return {"sec": sec, "seg": seg, "ic": ic, "nc": nc, "tvec": tvec}


def cvode_statistics(cv) -> dict:
    """Steps, RHS evaluations and Jacobian setups of the last CVODE run (parsed from
    ``CVode.statistics()``, which writes to the C stdout)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+b") as f:
        os.dup2(f.fileno(), 1)
        try:
            cv.statistics()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        f.seek(0)
        text = f.read().decode(errors="replace")

    def grab(pattern: str) -> int | None:
        m = re.search(pattern, text)
        return int(m.group(1)) if m else None

    return {"steps": grab(r"(\d+) advance_tn"),
            "rhs_evaluations": grab(r"(\d+) function evaluations"),
            "jacobian_setups": grab(r"(\d+) jacobian setups")}


def run_once(cell: dict, model: dict, setting: dict) -> tuple[list[float], float, float]:
    """One run of ``setting`` (``{"series": "cvode", "atol": x, "condition_order": 1|2}``
    or ``{"series": "fixed", "dt_ms": x, "secondorder": 0|2}``): spike times (ms), wall s
    and CPU s of psolve."""
    cv = h.CVode()
    if setting["series"] == "cvode":
        cv.active(1)
        cv.atol(setting["atol"])
        cv.rtol(0.0)
        cv.condition_order(setting["condition_order"])
    else:
        cv.active(0)
        h.secondorder = setting["secondorder"]
        h.dt = setting["dt_ms"]
        h.steps_per_ms = 1.0 / setting["dt_ms"]
    h.tstop = model["duration_ms"]
    pc = h.ParallelContext()
    pc.set_maxstep(10)   # psolve needs a minimum NetCon delay; this cell has no NetCon target
    h.finitialize(model["v_init_mV"])
    c0, w0 = time.process_time(), time.perf_counter()
    pc.psolve(model["duration_ms"])
    wall = time.perf_counter() - w0
    cpu = time.process_time() - c0
    return list(cell["tvec"]), wall, cpu


def main() -> None:
    model = json.loads(sys.argv[1])
    cell = build(model)
    settings = [{"series": "cvode", "atol": a, "condition_order": o}
                for o in (2, 1) for a in model["cvode_atol"]]
    settings += [{"series": "fixed", "dt_ms": d, "secondorder": o}
                 for o in (0, 2) for d in model["fixed_dt_ms"]]
    runs = [dict(s, wall_s=[], cpu_s=[]) for s in settings]
    for r in runs:   # warm-up round: spike times and CVODE counters (deterministic)
        spikes, _, _ = run_once(cell, model, r)
        r["spike_times_ms"] = spikes
        if r["series"] == "cvode":
            r.update(cvode_statistics(h.CVode()))
        else:
            r["steps"] = int(round(model["duration_ms"] / r["dt_ms"]))
            r["rhs_evaluations"] = None
    for _ in range(model["repeats"]):
        for r in runs:
            spikes, wall, cpu = run_once(cell, model, r)
            if spikes != r["spike_times_ms"]:
                raise RuntimeError(f"NEURON run {r} is not reproducible")
            r["wall_s"].append(wall)
            r["cpu_s"].append(cpu)
    h.CVode().active(0)
    out = {"tool": "neuron", "version": h.nrnversion(), "usetable_hh": int(h.usetable_hh),
           "area_um2": cell["seg"].area(), "runs": runs}
    sys.stdout.flush()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
