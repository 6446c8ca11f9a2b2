"""neurosim_nb versions of the compartmental benchmark models (``specs.py``), fixed step.

    .venv/bin/python benchmarks/compartments/ours_models.py --model rallpack3 --dt 0.025 \\
        --method cn

The counterpart of ``neuron_models.py``: the same cells (built from the same dicts), the same
stimuli, the same JSON line (``tool`` "ours", ``target`` be / cn, ``compartments``,
``steps``, ``build_s``, ``run_s``, ``cpu_s``, ``compartment_steps_per_s``, ``spikes``,
``peak_rss_mb``, Rallpack ``accuracy`` computed by the same functions of ``rallpack.py``).

Every call into ``neurosim_nb.cable`` is in :func:`build` and :func:`simulate` below: a
:class:`~neurosim_nb.cable.Cell` with IClamps for one cell, a
:class:`~neurosim_nb.cable.CellPopulation` run by the network engine for the population.
If ``neurosim_nb.cable`` does not import, this script exits with status 3 and a message
(``run.py`` checks first and skips "ours"); it never prints made-up numbers.
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


def _mechanisms(spec: dict) -> list:
    """A section's NEURON mechanisms (S/cm2, mV) as library mechanisms (mS/cm2): ``hh`` ->
    HH 1952 Na, K and leak (the rates of hh.mod, computed exactly rather than from its 1 mV
    TABLE); ``pas`` -> a leak."""
    from neurosim_nb.channels.library import mechanism

    out = []
    for name, p in spec.items():
        if name == "hh":
            out += [mechanism("hh1952_na", g_max=p["gnabar"] * 1e3, E_rev=p["ena"]),
                    mechanism("hh1952_k", g_max=p["gkbar"] * 1e3, E_rev=p["ek"]),
                    mechanism("hh1952_leak", g_max=p["gl"] * 1e3, E_rev=p["el"])]
        elif name == "pas":
            out.append(mechanism("hh1952_leak", g_max=p["g"] * 1e3, E_rev=p["e"]))
        else:
            raise ValueError(f"no neurosim_nb counterpart for NEURON mechanism {name!r}")
    return out


def build(cells: list[dict]):
    """A ``Cell`` of the first cell's morphology and mechanisms (per section); for several
    cells (``hh_population_100``: copies differing only in their drive) a
    ``CellPopulation`` of them, run by the network engine."""
    from neurosim_nb.cable import Cell, CellPopulation
    from neurosim_nb.morphology import Morphology, discretise

    first = cells[0]
    morph = Morphology()
    nseg, mechanisms = {}, {}
    ras = {s["Ra_ohm_cm"] for s in first["sections"]}
    cms = {s["cm_uF_cm2"] for s in first["sections"]}
    if len(ras) != 1 or len(cms) != 1:
        raise ValueError("one Ra and one cm per cell (discretise takes one of each)")
    for s in first["sections"]:
        kind = "soma" if s["name"].endswith("soma") else "basal"
        morph.add_cylinder(s["name"], s["L_um"], s["diam_um"], parent=s["parent"],
                           at=s["parent_x"], type=kind)
        nseg[s["name"]] = s["nseg"]
        mechanisms[s["name"]] = _mechanisms(s["mechanisms"])
    compartments = discretise(morph, Ra_ohm_cm=ras.pop(), cm_uF_cm2=cms.pop(), nseg=nseg)
    site = tuple(first["record"][0])
    cell = Cell(compartments, mechanisms, temperature_C=first["celsius"],
                V_init=first["v_init_mV"], spike_location=site,
                spike_threshold_mV=first.get("spike_threshold_mV", 0.0))
    if len(cells) == 1:
        return cell
    return CellPopulation(cell, len(cells), synapse_location=tuple(
        (first["stimuli"][0]["section"], first["stimuli"][0]["x"])))


def simulate(cell, cells: list[dict], duration_ms: float, dt_ms: float, method: str,
             record_all: bool):
    """Run; returns (t ms, [V mV of each recorded site], loop wall s, loop CPU s)."""
    import numpy as np

    from neurosim_nb.cable import IClamp

    if hasattr(cell, "compiled_kernel"):  # a CellPopulation: the network engine
        from neurosim_nb.stimuli import StepCurrent

        st = [c["stimuli"][0] for c in cells]
        cell.method = METHODS[method]
        cell.reset_state()
        stim = StepCurrent(np.array([s["amp_nA"] for s in st]), onset_ms=st[0]["delay_ms"],
                           duration_ms=st[0]["dur_ms"])
        t0, c0 = time.perf_counter(), time.process_time()
        ds = cell.simulate(duration_ms, stim, dt=dt_ms, verbose=False)
        loop_s, loop_cpu_s = time.perf_counter() - t0, time.process_time() - c0
        v = ds["V"].values
        return ds["time"].values, [v[:, k] for k in range(v.shape[1])], loop_s, loop_cpu_s
    cell.stimuli.clear()
    for c in cells:
        for st in c["stimuli"]:
            cell.add(IClamp(st["section"], st["x"], st["amp_nA"], st["delay_ms"],
                            st["dur_ms"]))
    sites = [tuple(site) for c in cells for site in (c["record"] if record_all
                                                     else c["record"][:1])]
    nodes = [cell.locate(*site) for site in sites]
    ds = cell.simulate(duration_ms, dt_ms=dt_ms, method=METHODS[method], verbose=False,
                       record_compartments=nodes)
    # a Dataset's samples are the end-of-step states (t = dt, 2 dt, ...); the references
    # start at t = 0, where every site is at the initial potential: prepend it, so the
    # accuracy's interpolation onto the reference grid does not extrapolate V(dt) to t = 0
    t = np.concatenate([[0.0], ds["time"].values])
    v0 = cells[0]["v_init_mV"]
    v = ds["V"].values            # (time, site)
    return t, [np.concatenate([[v0], v[:, k]]) for k in range(v.shape[1])], \
        ds.attrs.get("loop_s"), ds.attrs.get("loop_cpu_s")


def run(model: str, dt_ms: float, method: str, duration_ms: float | None = None) -> dict:
    import numpy as np

    cells = specs.model(model)
    duration = duration_ms if duration_ms is not None else specs.DURATION_MS[model]
    record_all = model.startswith("rallpack")
    t_start = time.perf_counter()
    cell = build(cells)
    build_s = time.perf_counter() - t_start
    c0, w0 = time.process_time(), time.perf_counter()
    t, traces, loop_s, loop_cpu_s = simulate(cell, cells, duration, dt_ms, method, record_all)
    call_s = time.perf_counter() - w0
    # the CPU time of the loop itself (as NEURON's and Arbor's cpu_s), not of set-up and
    # Dataset assembly around it
    cpu_s = loop_cpu_s if loop_cpu_s is not None else time.process_time() - c0
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
