"""neurosim_nb versions of the compartmental benchmark models (``specs.py``), fixed step.

    .venv/bin/python benchmarks/compartments/ours_models.py --model rallpack3 --dt 0.025 \\
        --method cn

The counterpart of ``neuron_models.py``: the same cells (built from the same dicts), the same
stimuli, the same JSON line (``tool`` "ours", ``target`` be / cn, ``compartments``,
``steps``, ``build_s``, ``run_s``, ``cpu_s``, ``compartment_steps_per_s``, ``spikes``,
``peak_rss_mb``, Rallpack ``accuracy`` computed by the same functions of ``rallpack.py``).

Written against the PLANNED API of ``neurosim_nb.cable`` (issue 16)::

    from neurosim_nb.morphology import Morphology, discretise
    from neurosim_nb.cable import Cell
    cell = Cell(compartments, mechanisms={...}, ...)
    ds = cell.simulate(duration_ms, dt_ms=..., method="backward_euler" | "crank_nicolson",
                       clamps=[...], record=[...])

Every call into that API is in :func:`build` and :func:`simulate` below, to be adapted when
the solver lands. Until ``neurosim_nb.cable`` imports, this script exits with status 3 and
a message (``run.py`` checks first and skips "ours"); it never prints made-up numbers.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import rallpack  # noqa: E402
import specs  # noqa: E402

#: exit status meaning "neurosim_nb.cable is not there yet"
NOT_AVAILABLE = 3
METHODS = {"be": "backward_euler", "cn": "crank_nicolson"}


def available() -> tuple[bool, str]:
    """Whether the planned cable API imports; (ok, reason)."""
    try:
        from neurosim_nb.cable import Cell  # noqa: F401
        from neurosim_nb.morphology import Morphology, discretise  # noqa: F401
    except ImportError as exc:
        return False, f"neurosim_nb.cable not importable yet ({exc})"
    return True, ""


def build(cells: list[dict]):
    """One ``Cell`` holding every cell of the model (a forest: one root per cell).

    PLANNED API -- adapt here. Sections become cylinders attached at ``parent_x`` of their
    parent; ``nseg`` per section as in NEURON; mechanisms per section with the same
    parameters (``hh``: hh.mod's; ``pas``: g S/cm2, e mV); Ra and cm per section.
    """
    from neurosim_nb.cable import Cell
    from neurosim_nb.morphology import Morphology, discretise

    morph = Morphology()
    nseg, mechanisms, ra, cm = {}, {}, {}, {}
    for cell in cells:
        for s in cell["sections"]:
            kind = "soma" if s["name"].endswith("soma") else "basal"
            morph.add_cylinder(s["name"], s["L_um"], s["diam_um"], parent=s["parent"],
                               at=s["parent_x"], type=kind)
            nseg[s["name"]] = s["nseg"]
            mechanisms[s["name"]] = [(m, dict(p)) for m, p in s["mechanisms"].items()]
            ra[s["name"]] = s["Ra_ohm_cm"]
            cm[s["name"]] = s["cm_uF_cm2"]
    compartments = discretise(morph, nseg=nseg)
    return Cell(compartments, mechanisms=mechanisms, Ra_ohm_cm=ra, cm_uF_cm2=cm,
                celsius=cells[0]["celsius"], v_init_mV=cells[0]["v_init_mV"])


def simulate(cell, cells: list[dict], duration_ms: float, dt_ms: float, method: str,
             record_all: bool):
    """Run ``cell``; returns (t ms, [V mV of each recorded site], loop seconds or None).

    PLANNED API -- adapt here."""
    clamps = [{"section": st["section"], "x": st["x"], "delay_ms": st["delay_ms"],
               "dur_ms": st["dur_ms"], "amp_nA": st["amp_nA"]}
              for c in cells for st in c["stimuli"]]
    sites = [tuple(site) for c in cells for site in (c["record"] if record_all
                                                     else c["record"][:1])]
    ds = cell.simulate(duration_ms, dt_ms=dt_ms, method=METHODS[method], clamps=clamps,
                       record=sites)
    t = ds["time"].values
    v = ds["V"].values            # (time, site)
    loop_s = ds.attrs.get("loop_s")
    return t, [v[:, k] for k in range(v.shape[1])], loop_s


def run(model: str, dt_ms: float, method: str, duration_ms: float | None = None) -> dict:
    import numpy as np

    cells = specs.model(model)
    duration = duration_ms if duration_ms is not None else specs.DURATION_MS[model]
    record_all = model.startswith("rallpack")
    t_start = time.perf_counter()
    cell = build(cells)
    build_s = time.perf_counter() - t_start
    c0, w0 = time.process_time(), time.perf_counter()
    t, traces, loop_s = simulate(cell, cells, duration, dt_ms, method, record_all)
    call_s = time.perf_counter() - w0
    cpu_s = time.process_time() - c0
    run_s = loop_s if loop_s is not None else call_s
    steps = int(round(duration / dt_ms))
    n_comp = specs.n_compartments(cells)
    import neurosim_nb

    out = {"tool": "ours", "target": method, "model": model, "n": len(cells),
           "compartments": n_comp, "dt_ms": dt_ms, "duration_ms": duration, "steps": steps,
           "build_s": build_s, "run_s": run_s, "call_s": call_s, "cpu_s": cpu_s,
           "compartment_steps_per_s": n_comp * steps / run_s,
           "version": getattr(neurosim_nb, "__version__", None)}
    if record_all:
        out["spikes"] = (int(len(rallpack.spike_times(t, traces[0])))
                         if model == "rallpack3" else 0)
        out["accuracy"] = rallpack.accuracy(model, np.asarray(t), traces, method)
    else:
        thr = [c.get("spike_threshold_mV", 0.0) for c in cells]
        counts = [int(len(rallpack.spike_times(t, v, th))) for v, th in zip(traces, thr,
                                                                           strict=True)]
        out["spikes"] = sum(counts)
        out["spikes_per_cell"] = counts
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, choices=specs.MODELS)
    ap.add_argument("--dt", type=float, default=0.025, help="fixed step (ms)")
    ap.add_argument("--method", default="cn", choices=tuple(METHODS))
    ap.add_argument("--duration", type=float, default=None, help="simulated ms")
    args = ap.parse_args()
    ok, why = available()
    if not ok:
        print(why, file=sys.stderr)
        raise SystemExit(NOT_AVAILABLE)
    out = run(args.model, args.dt, args.method, args.duration)
    sys.stdout.flush()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
