"""Arbor versions of the compartmental benchmark models (``specs.py``), fixed step.

Run in the peers' environment (``benchmarks/.peers-venv``, ``pip install arbor``)::

    python benchmarks/compartments/arbor_models.py --model rallpack3 --dt 0.025 --method be

The third tool beside ``neuron_models.py`` and ``ours_models.py``: the same cells (built from
the same dicts), the same stimuli, the same JSON line as the last line of its output
(``tool`` "arbor", ``target`` "be", ``model``, ``n``, ``compartments`` (sum of nseg, as the
others report), ``cvs`` (Arbor's control volumes, NEURON's node count: see below),
``dt_ms``, ``steps``, ``build_s`` (cells, recipe and ``arbor.simulation``), ``run_s`` (the
``simulation.run`` call, wall clock), ``cpu_s`` (``time.process_time`` around it),
``compartment_steps_per_s``, ``spikes``, ``peak_rss_mb``, and for the Rallpacks
``accuracy`` from ``rallpack.accuracy``).

Method. Arbor has one fixed-step scheme: the cable equation implicit in V (backward Euler,
one tridiagonal/Hines solve per step) with the gates of ``hh`` advanced by ``cnexp`` --
NEURON's ``secondorder = 0``; it has no Crank-Nicolson option, so ``--method`` accepts
"be" only.

Geometry. Each section is one Arbor segment (a cylinder of the section's length and
diameter); the control volumes (CVs) are placed by an explicit CV policy so that they are
NEURON's nodes (:func:`arbor_geometry`): one CV per NEURON segment (``nseg`` equal pieces,
the voltage at its centre -- Arbor's reference point of an unbranched CV), plus NEURON's
zero-area nodes at the section ends: a trivial (zero-length) CV where Arbor's morphology
forks or at a multi-branch root, and elsewhere (a leaf's end, a single-child joint, an
unbranched root's start) a sliver CV of ``sliver_um`` (1e-3 um by default: 1e-3 of the
Rallpacks' 1 um segments) centred on the node. Same compartments, same axial resistances
(centre to end node = half a segment), so the discretisations differ only in time
integration details and in ``hh``'s rates: Arbor evaluates hh.mod's rate functions exactly,
NEURON from hh.mod's 1 mV table.

Mechanisms: ``hh`` and ``pas`` of Arbor's default catalogue (``hh``: gnabar, gkbar, gl in
S/cm2, el in mV as in hh.mod; ena, ek as the na / k ion reversal potentials painted on the
section; ``pas``: g in S/cm2 and its global ``e`` as ``pas/e=<mV>``); temperature
``celsius`` + 273.15 K (hh's q10 = 3^((celsius - 6.3) / 10)). Stimuli ``i_clamp``; spikes:
a ``threshold_detector`` at the first recorded site (threshold ``spike_threshold_mV``),
Rallpack 3 from the x = 0 trace like the other tools. One thread
(``arbor.proc_allocation(threads=1)``), the cells as an ``arbor.recipe`` (the population:
100 cells).

If ``arbor`` does not import, this script exits with status 3 and a message (``run.py``
checks first and skips "arbor"); it never prints made-up numbers.
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

#: exit status meaning "arbor does not import here"
NOT_AVAILABLE = 3
#: Arbor's only fixed-step scheme (implicit in V, cnexp gates); no Crank-Nicolson
METHODS = ("be",)
#: length (um) of the sliver CVs that stand for NEURON's zero-area end nodes
SLIVER_UM = 1e-3


def available() -> tuple[bool, str]:
    """Whether ``arbor`` imports; (ok, reason).

    >>> ok, why = available(); isinstance(ok, bool) and (ok or "arbor" in why)
    True
    """
    try:
        import arbor  # noqa: F401
    except ImportError as exc:
        return False, f"arbor not importable ({exc})"
    return True, ""


def _sections_checked(cell: dict) -> tuple[list[dict], dict[str, int]]:
    """The cell's sections and {name: index}; ValueError on what Arbor's translation below
    does not cover (an attachment other than a parent's end x = 1 or the root's start)."""
    if not isinstance(cell, dict) or not cell.get("sections"):
        raise ValueError("cell must be a specs cell dict with a non-empty 'sections' list")
    secs = cell["sections"]
    index: dict[str, int] = {}
    for i, s in enumerate(secs):
        if s["name"] in index:
            raise ValueError(f"duplicate section name {s['name']!r}")
        for key in ("L_um", "diam_um"):
            if not s[key] > 0:
                raise ValueError(f"section {s['name']!r}: {key} must be > 0, got {s[key]!r}")
        if not isinstance(s["nseg"], int) or s["nseg"] < 1:
            raise ValueError(f"section {s['name']!r}: nseg must be a positive int, "
                             f"got {s['nseg']!r}")
        parent = s["parent"]
        if parent is None:
            if i != 0:
                raise ValueError(f"only the first section may be the root, got "
                                 f"{s['name']!r} without a parent")
        elif parent not in index:
            raise ValueError(f"section {s['name']!r}: parent {parent!r} must come before it")
        elif s["parent_x"] == 0.0:
            if secs[index[parent]]["parent"] is not None:
                raise ValueError(f"section {s['name']!r}: parent_x 0 is supported on the root "
                                 f"section only (got parent {parent!r})")
        elif s["parent_x"] != 1.0:
            raise ValueError(f"section {s['name']!r}: parent_x must be 0 (root) or 1, "
                             f"got {s['parent_x']!r}")
        index[s["name"]] = i
    return secs, index


def arbor_geometry(cell: dict, sliver_um: float = SLIVER_UM) -> dict:
    """Arbor's segments and CV boundaries for a ``specs`` cell dict, as plain data.

    Returns ``{"segments": [...], "boundaries": [(section, x), ...], "n_cv": int}``:
    one segment per section, in the spec's order (Arbor segment id = section index), each
    ``{"name", "parent" (segment id, -1 at the root), "prox", "dist"}`` with points
    ``(x, y, z, radius)`` in um (the sections laid along x; only lengths and radii matter);
    the CV boundary points in section coordinates (``x`` from 0 at the section's start to
    1); and the number of CVs Arbor makes of them, which is NEURON's node count
    (``sum(nseg) + len(sections) + 1``: the segment centres, every section's x = 1 node and
    the root's x = 0 node). Boundaries: ``k / nseg`` inside each section; at a fork
    (two or more children at x = 1, or several branches at the root) the fork itself and
    each child's x = 0, which makes a zero-length CV = NEURON's zero-area node; at a leaf's
    end, a single child's joint or an unbranched root's start, a sliver CV ``sliver_um``
    long centred on the node (Arbor drops boundaries at a leaf's end and an unbranched
    root, so a zero-length CV cannot be made there).

    >>> g = arbor_geometry(specs.rallpack_cable())
    >>> g["n_cv"], len(g["segments"]), g["segments"][0]["dist"]
    (1002, 1, (1000.0, 0.0, 0.0, 0.5))
    >>> g["boundaries"][:2], g["boundaries"][-1]
    ([('cable', 1e-06), ('cable', 0.001)], ('cable', 0.999999))
    >>> arbor_geometry(specs.hh_cell_1000())["n_cv"]       # 1000 + 62 + 1
    1063
    """
    secs, index = _sections_checked(cell)
    if isinstance(sliver_um, bool) or not isinstance(sliver_um, (int, float)) \
            or not sliver_um > 0:
        raise ValueError(f"sliver_um must be a positive number (um), got {sliver_um!r}")
    shortest = min(s["L_um"] / s["nseg"] for s in secs)
    if not sliver_um < 0.1 * shortest:
        raise ValueError(f"sliver_um must be < 0.1 of the shortest segment ({shortest} um), "
                         f"got {sliver_um!r}")
    children: dict[str, list[str]] = {s["name"]: [] for s in secs}
    root_children: list[str] = []           # sections attached at the root's x = 0
    for s in secs[1:]:
        (children[s["parent"]] if s["parent_x"] == 1.0 else root_children).append(s["name"])
    segments, ends = [], {}
    for s in secs:
        parent = s["parent"]
        start = (0.0, 0.0, 0.0) if parent is None or s["parent_x"] == 0.0 else ends[parent]
        end = (start[0] + float(s["L_um"]), start[1], start[2])
        r = 0.5 * float(s["diam_um"])
        segments.append({"name": s["name"],
                         "parent": -1 if parent is None or s["parent_x"] == 0.0
                         else index[parent],
                         "prox": (*start, r), "dist": (*end, r)})
        ends[s["name"]] = end
    bounds: list[tuple[str, float]] = []
    n_cv = 0
    root = secs[0]["name"]
    root_forks = bool(root_children)        # Arbor: several branches leave the root point

    def at(name, x):
        bounds.append((name, round(x, 15)))

    for s in secs:
        name, n, length = s["name"], s["nseg"], float(s["L_um"])
        half = 0.5 * sliver_um / length
        # the start: a fork child's x = 0, a single child's sliver half, an unbranched root's
        # sliver (the joint's CV is counted with the parent's end, the root's below)
        if name == root or s["parent_x"] == 0.0:
            if root_forks:
                at(name, 0.0)
            else:
                at(name, 2 * half)
        elif len(children[s["parent"]]) >= 2:
            at(name, 0.0)
        else:
            at(name, half)
        for k in range(1, n):
            at(name, k / n)
        kids = children[name]
        if len(kids) >= 2:
            at(name, 1.0)
        elif len(kids) == 1:
            at(name, 1.0 - half)
        else:
            at(name, 1.0 - 2 * half)
        n_cv += n + 1                       # its segments and its x = 1 node
    return {"segments": segments, "boundaries": bounds, "n_cv": n_cv + 1}


def _locset(places: list[tuple[int, float]]) -> str:
    """An Arbor locset expression of (segment id, x) points.

    >>> _locset([(0, 0.5), (3, 1.0)])
    '(join (on-components 0.5 (segment 0)) (on-components 1 (segment 3)))'
    """
    terms = [f"(on-components {x:.15g} (segment {k}))" for k, x in places]
    return terms[0] if len(terms) == 1 else "(join " + " ".join(terms) + ")"


def _region(ids) -> str:
    """An Arbor region expression of segment ids.

    >>> _region([2, 5])
    '(join (segment 2) (segment 5))'
    """
    terms = [f"(segment {k})" for k in ids]
    return terms[0] if len(terms) == 1 else "(join " + " ".join(terms) + ")"


def build_cable_cell(cell: dict, sliver_um: float = SLIVER_UM):
    """An ``arbor.cable_cell`` of a ``specs`` cell dict, with its probes' and detector's
    labels (``"rec0"``, ``"rec1"``, ... the recorded sites; ``"det"`` the detector at the
    first). Returns (cable_cell, expected number of CVs)."""
    import arbor as A

    U = A.units
    geo = arbor_geometry(cell, sliver_um)
    secs, index = _sections_checked(cell)
    tree = A.segment_tree()
    for seg in geo["segments"]:
        parent = A.mnpos if seg["parent"] < 0 else seg["parent"]
        tree.append(parent, A.mpoint(*seg["prox"]), A.mpoint(*seg["dist"]), 1)
    morph = A.morphology(tree)
    labels = A.label_dict()
    for k, (name, x) in enumerate(cell["record"]):
        labels[f"rec{k}"] = _locset([(index[name], float(x))])
    dec = A.decor()
    dec.set_property(Vm=cell["v_init_mV"] * U.mV,
                     tempK=(cell["celsius"] + 273.15) * U.Kelvin)
    # paint by groups of sections with equal settings: one region expression each
    groups: dict[tuple, list[int]] = {}
    for i, s in enumerate(secs):
        key = (s["Ra_ohm_cm"], s["cm_uF_cm2"],
               tuple((m, tuple(sorted(p.items()))) for m, p in sorted(s["mechanisms"].items())))
        groups.setdefault(key, []).append(i)
    for (ra, cm, mechs), ids in groups.items():
        reg = _region(ids)
        dec.paint(reg, rL=ra * U.Ohm * U.cm, cm=cm * U.uF / U.cm2)
        for mech, params in mechs:
            p = dict(params)
            if mech == "hh":
                dec.paint(reg, A.density("hh", {k: p[k] for k in
                                                ("gnabar", "gkbar", "gl", "el")}))
                dec.paint(reg, ion="na", rev_pot=p["ena"] * U.mV)
                dec.paint(reg, ion="k", rev_pot=p["ek"] * U.mV)
            elif mech == "pas":
                dec.paint(reg, A.density(f"pas/e={p['e']!r}", {"g": p["g"]}))
            else:
                raise ValueError(f"no Arbor counterpart for NEURON mechanism {mech!r} "
                                 "(hh, pas)")
    for st in cell["stimuli"]:
        dec.place(_locset([(index[st["section"]], float(st["x"]))]),
                  A.i_clamp(st["delay_ms"] * U.ms, st["dur_ms"] * U.ms, st["amp_nA"] * U.nA))
    dec.place('"rec0"', A.threshold_detector(cell.get("spike_threshold_mV", 0.0) * U.mV),
              "det")
    # the target of the detector's own zero-weight connection (see make_recipe)
    dec.place('"rec0"', A.synapse("expsyn"), "sink")
    policy = A.cv_policy_explicit(_locset([(index[n], x) for n, x in geo["boundaries"]]))
    return A.cable_cell(morph, dec, labels, policy), geo["n_cv"]


def make_recipe(cable_cells: list, n_probes: int, duration_ms: float):
    """An ``arbor.recipe`` of ready-made cable cells, each with membrane voltage probes
    ``"v0"`` .. at its labels ``"rec0"`` ...

    Each cell's detector has one connection, to the cell's own ``"sink"`` synapse with
    weight 0 and a delay past the end of the run: Arbor 0.12.2 records no spikes at all
    (``simulation.spikes()`` stays empty) in a recipe without connections; this one changes
    nothing else -- its event is never delivered, and the run is still one epoch (Arbor's
    epoch is half the smallest delay)."""
    import arbor as A

    delay = 2.0 * duration_ms + 1.0

    class Cells(A.recipe):
        def __init__(self):
            super().__init__()
            self.props = A.neuron_cable_properties()

        def num_cells(self):
            return len(cable_cells)

        def cell_kind(self, gid):
            return A.cell_kind.cable

        def cell_description(self, gid):
            return cable_cells[gid]

        def connections_on(self, gid):
            return [A.connection((gid, "det"), "sink", 0.0, delay * A.units.ms)]

        def probes(self, gid):
            return [A.cable_probe_membrane_voltage(f'"rec{k}"', f"v{k}")
                    for k in range(n_probes)]

        def global_properties(self, kind):
            return self.props

    return Cells()


def run(model: str, dt_ms: float, method: str = "be", duration_ms: float | None = None,
        traces: str | None = None, sliver_um: float = SLIVER_UM) -> dict:
    """Build and run ``model`` with Arbor; the JSON record (see the module docstring).

    ``dt_ms`` fixed step (ms), ``method`` "be" only, ``duration_ms`` simulated time (ms,
    default ``specs.DURATION_MS``), ``traces`` an .npz to write the Rallpacks' traces to.

    >>> run("rallpack1", 0.025, "cn")
    Traceback (most recent call last):
    ...
    ValueError: method must be one of ('be',) (Arbor has no Crank-Nicolson), got 'cn'
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS} (Arbor has no Crank-Nicolson), "
                         f"got {method!r}")
    import arbor as A
    import numpy as np

    U = A.units
    cells = specs.model(model)
    duration = duration_ms if duration_ms is not None else specs.DURATION_MS[model]
    record_all = model.startswith("rallpack")
    n_probes = len(cells[0]["record"]) if record_all else 1
    t_start = time.perf_counter()
    built = [build_cable_cell(c, sliver_um) for c in cells]
    cvs = [A.cv_data(b[0]).num_cv for b in built]
    if cvs != [b[1] for b in built]:
        raise RuntimeError(f"Arbor made {cvs[:3]} CVs, the translation expects "
                           f"{[b[1] for b in built][:3]} (NEURON's node count)")
    recipe = make_recipe([b[0] for b in built], n_probes, duration)
    ctx = A.context(A.proc_allocation(threads=1))
    decomp = A.partition_load_balance(recipe, ctx)
    sim = A.simulation(recipe, ctx, decomp)
    sim.record(A.spike_recording.all)
    handles = [sim.sample((gid, f"v{k}"), A.regular_schedule(dt_ms * U.ms))
               for gid in range(len(cells)) for k in range(n_probes)]
    build_s = time.perf_counter() - t_start
    c0, w0 = time.process_time(), time.perf_counter()
    sim.run(duration * U.ms, dt_ms * U.ms)
    run_s = time.perf_counter() - w0
    cpu_s = time.process_time() - c0
    steps = int(round(duration / dt_ms))
    n_comp = specs.n_compartments(cells)
    out = {"tool": "arbor", "target": method, "model": model, "n": len(cells),
           "compartments": n_comp, "cvs": int(sum(cvs)), "dt_ms": dt_ms,
           "duration_ms": duration, "steps": steps, "build_s": build_s, "run_s": run_s,
           "cpu_s": cpu_s, "compartment_steps_per_s": n_comp * steps / run_s,
           "version": A.__version__, "sliver_um": sliver_um}
    samples = []
    for h in handles:
        data, _meta = sim.samples(h)[0]
        samples.append(np.asarray(data))
    t = samples[0][:, 0]
    v = [s[:, 1] for s in samples]
    if t[0] > 0.5 * dt_ms:   # no sample at t = 0: the initial potential, as the others do
        t = np.concatenate([[0.0], t])
        v = [np.concatenate([[cells[0]["v_init_mV"]], x]) for x in v]
    if record_all:
        out["spikes"] = (int(len(rallpack.spike_times(t, v[0]))) if model == "rallpack3"
                         else 0)
        out["accuracy"] = rallpack.accuracy(model, t, v, method)
        if traces:
            np.savez_compressed(traces, t_ms=t, v0_mV=v[0], v1_mV=v[1])
    else:
        counts = [0] * len(cells)
        for (gid, _lid), _t in sim.spikes():
            counts[gid] += 1
        out["spikes"] = int(sum(counts))
        out["spikes_per_cell"] = counts[:100]
        # the detector's count against the recorded soma traces (same threshold)
        out["spikes_from_traces"] = int(sum(
            len(rallpack.spike_times(t, x, c.get("spike_threshold_mV", 0.0)))
            for x, c in zip(v, cells, strict=True)))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, choices=specs.MODELS)
    ap.add_argument("--dt", type=float, default=0.025, help="fixed step (ms)")
    ap.add_argument("--method", default="be", choices=METHODS,
                    help="be only: Arbor has no Crank-Nicolson")
    ap.add_argument("--duration", type=float, default=None, help="simulated ms")
    ap.add_argument("--traces", default=None, help="write the recorded traces to this .npz")
    ap.add_argument("--sliver-um", type=float, default=SLIVER_UM,
                    help="length (um) of the CVs standing for NEURON's zero-area end nodes")
    args = ap.parse_args()
    if not args.dt > 0:
        raise SystemExit(f"--dt must be > 0 ms, got {args.dt}")
    ok, why = available()
    if not ok:
        print(why, file=sys.stderr)
        raise SystemExit(NOT_AVAILABLE)
    out = run(args.model, args.dt, args.method, args.duration, args.traces, args.sliver_um)
    sys.stdout.flush()
    print(json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
