"""Error vs time for one Hodgkin-Huxley neuron: fixed step, adaptive step, NEURON CVODE.

Run (measured on 2 shared Xeon cores: 14 s, 35 s with an empty Numba cache; ``--quick``,
fewer settings: 4 s, 25 s with an empty cache)::

    python benchmarks/adaptive_hh.py [--quick] [--repeats 5] [--cpu 1] [--peers-python PATH]

Writes ``benchmarks/results/adaptive_hh.json`` and ``.md`` (``--out`` to change the stem).

The neuron: ``HodgkinHuxleyNeuron.create_squid_axon()`` (its parameters are read, not
copied: hh1952 rates, 6.3 °C, its area, its resting state with the gates at steady state),
driven by a constant 10 µA/cm² from t = 0 for 200 ms (14 spikes).

Reference: scipy ``solve_ivp`` (DOP853, rtol = atol = 1e-12, dense output) of the same
equations written out here from the 1952 rate functions (independent of the kernel's
code). Spike times are the upward crossings of ``V_spike_threshold``: a sign change of
V - threshold between two solver steps, located by ``brentq`` on the dense output (xtol
1e-14 ms). The reference is checked against LSODA and (without ``--quick``) Radau at
rtol = atol = 1e-10; their largest spike-time difference is reported.

Series (every one measured against that reference; error = max |t_spike - t_ref| over all
spikes, given only when the spike count matches, else the count is reported):

* ``ours fixed``: ``simulate(200, current_density=10, dt=...)``, exponential Euler with
  staggered gates; a spike time is the end of the step in which V crossed threshold;
* ``ours adaptive``: ``simulate(..., method="adaptive", rtol=tol, atol=tol)`` (Dormand-Prince
  5(4), spike times located inside steps), with the accepted and rejected steps and the
  RHS evaluations from the Dataset's attrs; skipped, with a note, when ``simulate`` does
  not accept ``method`` yet;
* ``NEURON CVODE`` (threshold crossings interpolated in the step, ``condition_order(2)``),
  ``NEURON CVODE, step end`` (NEURON's default ``condition_order(1)``), ``NEURON fixed BE``
  and ``NEURON fixed CN`` (``secondorder`` 0 and 2), run by ``adaptive_hh_neuron.py`` in
  the peers' venv (a subprocess): the same cell as one ``hh`` section, rate tables off;
  see that module.

Timing: ours = the whole ``simulate`` call (loop, stimulus set-up, Dataset assembly; the
cost of a 0.1 ms call is reported as ``call overhead``), NEURON = ``psolve`` alone. Every
setting runs once to warm up (Numba cache load, compilation), then ``repeats`` rounds in
which every setting of a tool runs once (interleaved); the tables give the median wall
time (``perf_counter``) and CPU time (``process_time``). ``--cpu N`` pins this process and
the NEURON subprocess to core N.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import scipy
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PEERS_PY = HERE / ".peers-venv" / "bin" / "python"

DURATION_MS = 200.0
DENSITY_UA_CM2 = 10.0
FIXED_DT = (0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001)
ADAPTIVE_TOL = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)
CVODE_ATOL = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)
QUICK = {"fixed": (0.1, 0.01, 0.001), "adaptive": (1e-3, 1e-5, 1e-7),
         "cvode": (1e-2, 1e-4, 1e-6, 1e-8), "neuron_fixed": (0.1, 0.01, 0.001)}
SERIES = ("ours fixed", "ours adaptive", "NEURON CVODE", "NEURON CVODE, step end",
          "NEURON fixed BE", "NEURON fixed CN")


# -- the model ------------------------------------------------------------------------

def squid_model() -> dict:
    """The squid axon's parameters, initial state and drive, read from
    ``HodgkinHuxleyNeuron.create_squid_axon()`` (units in the keys)."""
    from neurosim_nb.core.neurons.hodgkin_huxley import HodgkinHuxleyNeuron

    neuron = HodgkinHuxleyNeuron.create_squid_axon()
    p = neuron.params
    if p.kinetics != "hh1952":
        raise ValueError(f"the reference implements hh1952 rates only, got {p.kinetics!r}")
    v0 = float(neuron.resting_potential()[0]) if p.V_init is None else float(p.V_init)
    gates = neuron.gate_kinetics([v0])
    return {
        "cm_uF_cm2": p.C_m, "g_Na_mS_cm2": p.g_Na, "g_K_mS_cm2": p.g_K, "g_L_mS_cm2": p.g_L,
        "E_Na_mV": p.E_Na, "E_K_mV": p.E_K, "E_L_mV": p.E_L, "area_um2": p.area_um2,
        "celsius": p.temperature_C, "T_ref_C": p.reference_temperature(), "Q10": p.Q10,
        "phi": float(p.rate_factor()), "threshold_mV": p.V_spike_threshold,
        "v_init_mV": v0, "m0": float(gates["m_inf"][0]), "h0": float(gates["h_inf"][0]),
        "n0": float(gates["n_inf"][0]), "density_uA_cm2": DENSITY_UA_CM2,
        "amp_nA": float(neuron.density_to_current(DENSITY_UA_CM2)),
        "duration_ms": DURATION_MS,
    }


def _x_over_expm1(x: float) -> float:
    """x / (e^x - 1), continuous at 0."""
    return 1.0 - 0.5 * x if abs(x) < 1e-8 else x / math.expm1(x)


def hh_rhs(model: dict):
    """dy/dt of y = (V mV, m, h, n) for ``model`` (hh1952 rates, 1/ms; µA/cm², µF/cm²)."""
    c, g_na, g_k, g_l = (model[k] for k in ("cm_uF_cm2", "g_Na_mS_cm2", "g_K_mS_cm2",
                                            "g_L_mS_cm2"))
    e_na, e_k, e_l, j, phi = (model[k] for k in ("E_Na_mV", "E_K_mV", "E_L_mV",
                                                 "density_uA_cm2", "phi"))

    def rhs(_t, y):
        v, m, h, n = y
        am = _x_over_expm1(-(v + 40.0) / 10.0)          # 0.1 (V+40) / (1 - e^-(V+40)/10)
        bm = 4.0 * math.exp(-(v + 65.0) / 18.0)
        ah = 0.07 * math.exp(-(v + 65.0) / 20.0)
        bh = 1.0 / (1.0 + math.exp(-(v + 35.0) / 10.0))
        an = 0.1 * _x_over_expm1(-(v + 55.0) / 10.0)    # 0.01 (V+55) / (1 - e^-(V+55)/10)
        bn = 0.125 * math.exp(-(v + 65.0) / 80.0)
        i_ion = g_na * m ** 3 * h * (v - e_na) + g_k * n ** 4 * (v - e_k) + g_l * (v - e_l)
        return [(j - i_ion) / c, phi * (am * (1.0 - m) - bm * m),
                phi * (ah * (1.0 - h) - bh * h), phi * (an * (1.0 - n) - bn * n)]

    return rhs


def ode_spike_times(model: dict, method: str, tol: float) -> dict:
    """Spike times (ms) of ``solve_ivp(method, rtol=atol=tol)``: upward crossings of the
    threshold between solver steps, located by brentq on the dense output."""
    thr = model["threshold_mV"]
    y0 = [model["v_init_mV"], model["m0"], model["h0"], model["n0"]]
    t0 = time.perf_counter()
    sol = solve_ivp(hh_rhs(model), (0.0, model["duration_ms"]), y0, method=method,
                    rtol=tol, atol=tol, dense_output=True)
    wall = time.perf_counter() - t0
    if not sol.success:
        raise RuntimeError(f"solve_ivp {method} failed: {sol.message}")
    above = sol.y[0] - thr
    idx = np.flatnonzero((above[:-1] < 0.0) & (above[1:] >= 0.0))
    times = [brentq(lambda t: sol.sol(t)[0] - thr, sol.t[k], sol.t[k + 1], xtol=1e-14,
                    rtol=4 * np.finfo(float).eps) for k in idx]
    return {"method": method, "rtol": tol, "atol": tol, "spike_times_ms": times,
            "steps": int(sol.t.size - 1), "rhs_evaluations": int(sol.nfev), "wall_s": wall}


def reference(model: dict, quick: bool) -> dict:
    """DOP853 at 1e-12 and its check against LSODA (and Radau) at 1e-10."""
    ref = ode_spike_times(model, "DOP853", 1e-12)
    checks = []
    for method in ("LSODA",) if quick else ("LSODA", "Radau"):
        other = ode_spike_times(model, method, 1e-10)
        checks.append(dict(other, **spike_error(other["spike_times_ms"],
                                                ref["spike_times_ms"])))
    ref["checks"] = checks
    return ref


def spike_error(times, ref) -> dict:
    """``n_spikes`` and ``max_error_ms`` (None when the count differs from the reference)."""
    times = np.asarray(times, float)
    ref = np.asarray(ref, float)
    err = float(np.max(np.abs(times - ref))) if times.size == ref.size and ref.size else None
    return {"n_spikes": int(times.size), "max_error_ms": err}


def on_grid(times, dt: float) -> bool:
    """Whether every spike time is a whole multiple of ``dt`` (a step's end)."""
    k = np.asarray(times, float) / dt
    return bool(np.all(np.abs(k - np.round(k)) < 1e-6))


# -- our runs -------------------------------------------------------------------------

def _timed(fn):
    gc.collect()
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def run_ours(fixed_dt, tols, repeats: int, notes: list) -> list[dict]:
    """Our fixed-step and adaptive runs (warm-up, then ``repeats`` interleaved rounds)."""
    from neurosim_nb.core.neurons.hodgkin_huxley import HodgkinHuxleyNeuron

    neuron = HodgkinHuxleyNeuron.create_squid_axon()

    def call(setting):
        neuron.reset_state()
        if setting["series"] == "ours fixed":
            return lambda: neuron.simulate(DURATION_MS, current_density=DENSITY_UA_CM2,
                                           dt=setting["dt_ms"], record=(), seed=0,
                                           verbose=False)
        if setting["series"] == "call overhead fixed":
            return lambda: neuron.simulate(0.1, current_density=DENSITY_UA_CM2, dt=0.1,
                                           record=(), seed=0, verbose=False)
        if setting["series"] == "call overhead adaptive":
            return lambda: neuron.simulate(0.1, current_density=DENSITY_UA_CM2, dt=0.1,
                                           method="adaptive", record=(), seed=0,
                                           verbose=False)
        return lambda: neuron.simulate(DURATION_MS, current_density=DENSITY_UA_CM2, dt=0.1,
                                       method="adaptive", rtol=setting["tol"],
                                       atol=setting["tol"], record=(), seed=0, verbose=False)

    settings = [{"series": "call overhead fixed"}]
    settings += [{"series": "ours fixed", "dt_ms": dt} for dt in fixed_dt]
    adaptive = [{"series": "ours adaptive", "tol": tol} for tol in tols]
    if adaptive:
        try:
            call(adaptive[0])()
            settings += [{"series": "call overhead adaptive"}] + adaptive
        except (TypeError, ValueError) as exc:
            if "method" not in str(exc):
                raise
            note = f"ours adaptive skipped: simulate(method='adaptive') failed: {exc}"
            print(note, flush=True)
            notes.append(note)
    rows = []
    for s in settings:   # warm-up: compile / load the cache; keep the result
        ds = call(s)()
        row = dict(s, spike_times_ms=ds.spike_time.values.tolist(), wall_s=[], cpu_s=[])
        if s["series"] == "ours adaptive":
            if ds.attrs.get("method") != "adaptive" or ds.attrs.get("rtol") != s["tol"]:
                raise RuntimeError(f"simulate(method='adaptive', rtol={s['tol']}) ran with "
                                   f"method {ds.attrs.get('method')!r}, rtol "
                                   f"{ds.attrs.get('rtol')!r}")
            for key in ("n_steps_accepted", "n_steps_rejected", "n_rhs_evaluations"):
                row[key] = int(ds.attrs[key]) if key in ds.attrs else None
            row["steps"] = row["n_steps_accepted"]
            row["rejected"] = row["n_steps_rejected"]
            row["rhs_evaluations"] = row["n_rhs_evaluations"]
        else:
            row["steps"] = int(ds.attrs["n_steps"])
            row["rhs_evaluations"] = None
        rows.append(row)
    for _ in range(repeats):
        for row in rows:
            fn = call(row)
            ds, wall, cpu = _timed(fn)
            if ds.spike_time.values.tolist() != row["spike_times_ms"]:
                raise RuntimeError(f"{row} is not reproducible")
            row["wall_s"].append(wall)
            row["cpu_s"].append(cpu)
    return rows


# -- NEURON ---------------------------------------------------------------------------

def run_neuron(model: dict, atols, dts, repeats: int, python: Path, notes: list) -> dict | None:
    """NEURON's CVODE and fixed-step runs in ``python`` (``adaptive_hh_neuron.py``)."""
    if not python.exists():
        note = f"NEURON skipped: no peers' python at {python} (see --peers-python)"
        print(note, flush=True)
        notes.append(note)
        return None
    arg = dict(model, cvode_atol=list(atols), fixed_dt_ms=list(dts), repeats=repeats)
    proc = subprocess.run([str(python), str(HERE / "adaptive_hh_neuron.py"), json.dumps(arg)],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        note = f"NEURON failed (exit {proc.returncode}): {proc.stderr.strip()[-400:]}"
        print(note, flush=True)
        notes.append(note)
        return None
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    for r in out["runs"]:
        if r.pop("series") == "cvode":
            r["series"] = "NEURON CVODE" if r["condition_order"] == 2 else \
                "NEURON CVODE, step end"
            r["tol"] = r.pop("atol")
        else:
            r["series"] = "NEURON fixed BE" if r["secondorder"] == 0 else "NEURON fixed CN"
    return out


# -- summary and report ---------------------------------------------------------------

def finish(row: dict, ref_times) -> dict:
    """Median times (ms) and the spike-time error of one run setting."""
    row.update(spike_error(row["spike_times_ms"], ref_times))
    row["wall_ms"] = 1e3 * statistics.median(row["wall_s"])
    row["cpu_ms"] = 1e3 * statistics.median(row["cpu_s"])
    if "dt_ms" in row:
        row["spike_times_on_grid"] = on_grid(row["spike_times_ms"], row["dt_ms"])
    return row


def cheapest(rows: list[dict], targets=(1.0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)) -> list[dict]:
    """For each error target (ms), each series' cheapest measured setting (by median CPU
    time: on a shared machine it is the steadier measure; wall time is kept beside it)
    whose max spike-time error is at most the target."""
    out = []
    for target in targets:
        entry = {"target_ms": target, "series": {}}
        for name in SERIES:
            ok = [r for r in rows if r["series"] == name and r["max_error_ms"] is not None
                  and r["max_error_ms"] <= target]
            if ok:
                best = min(ok, key=lambda r: r["cpu_ms"])
                entry["series"][name] = {"setting": _setting(best), "wall_ms": best["wall_ms"],
                                         "cpu_ms": best["cpu_ms"]}
        if entry["series"]:
            entry["winner"] = min(entry["series"], key=lambda k: entry["series"][k]["cpu_ms"])
        out.append(entry)
    return out


def _setting(row: dict) -> str:
    return f"dt {row['dt_ms']:g} ms" if "dt_ms" in row else f"tol {row['tol']:.0e}"


def _fmt(x, spec=".3g"):
    return "–" if x is None else format(x, spec)


def markdown(result: dict) -> str:
    """The report: the reference, one table per series, the cheapest-at-equal-error table
    and a paragraph stating only what those tables show."""
    meta, ref = result["meta"], result["reference"]
    lines = [f"# Error vs time, one HH neuron ({meta['date']})", "",
             f"Squid axon (`HodgkinHuxleyNeuron.create_squid_axon()`: hh1952 rates, "
             f"{result['model']['celsius']} °C, area {result['model']['area_um2']:g} µm², "
             f"V_init {result['model']['v_init_mV']:.4f} mV, gates at steady state), "
             f"{DENSITY_UA_CM2:g} µA/cm² ({result['model']['amp_nA']:g} nA) from t = 0 "
             f"for {DURATION_MS:g} ms. Error = max |spike time - reference| over all "
             f"{len(ref['spike_times_ms'])} spikes (threshold "
             f"{result['model']['threshold_mV']:g} mV, upward). Times: median of "
             f"{meta['repeats']} interleaved rounds after a warm-up run; ours = the whole "
             f"`simulate` call, NEURON = `psolve` only. {meta['machine']}"
             f"{', pinned to core ' + str(meta['cpu']) if meta['cpu'] is not None else ''}"
             f"{' (--quick)' if meta['quick'] else ''}. Script: `benchmarks/adaptive_hh.py`.",
             "",
             f"Reference: scipy {meta['scipy']} `solve_ivp` DOP853, rtol = atol = 1e-12, "
             f"{ref['steps']} steps; crossings located by brentq on the dense output."]
    for c in ref["checks"]:
        lines.append(f"Check: {c['method']} at 1e-10 gives {c['n_spikes']} spikes, max "
                     f"difference {_fmt(c['max_error_ms'], '.2e')} ms.")
    for r in result["rows"]:
        if r["series"].startswith("call overhead"):
            lines.append(f"Call overhead of ours, {r['series'].split()[-1]} (a 0.1 ms run, "
                         f"whole `simulate`): {r['wall_ms']:.2f} ms wall, "
                         f"{r['cpu_ms']:.2f} ms CPU.")
    if result["neuron"]:
        lines.append(f"{result['neuron']['version']}: one section, nseg 1, `hh` with "
                     f"`usetable_hh = 0` (exact rates), "
                     f"seg.area() {result['neuron']['area_um2']:g} µm². CVODE: rtol 0, "
                     f"condition_order 2 (threshold crossing interpolated in the step; "
                     f"'step end': condition_order 1, NEURON's default). Fixed step: BE = "
                     f"secondorder 0 (default), CN = secondorder 2.")
    for note in result["notes"]:
        lines.append(f"Note: {note}")
    lines.append("")
    for name in SERIES:
        rows = [r for r in result["rows"] if r["series"] == name]
        if not rows:
            lines += [f"## {name}", "", "not measured (see the notes above)", ""]
            continue
        key = "dt ms" if "dt_ms" in rows[0] else ("atol" if name.startswith("NEURON CVODE")
                                                   else "rtol = atol")
        lines += [f"## {name}", "",
                  f"| {key} | spikes | max error ms | wall ms | CPU ms | steps | rejected "
                  f"| RHS evals |", "|---|---|---|---|---|---|---|---|"]
        for r in rows:
            s = f"{r['dt_ms']:g}" if "dt_ms" in r else f"{r['tol']:.0e}"
            lines.append(f"| {s} | {r['n_spikes']} | {_fmt(r['max_error_ms'], '.2e')} | "
                         f"{r['wall_ms']:.2f} | {r['cpu_ms']:.2f} | {r['steps']} | "
                         f"{_fmt(r.get('rejected'), 'd')} | "
                         f"{_fmt(r.get('rhs_evaluations'), 'd')} |")
        if "dt_ms" in rows[0]:
            grid = all(r["spike_times_on_grid"] for r in rows)
            lines.append("")
            lines.append(("Every spike time is a step's end (a multiple of dt): the grid "
                          "alone costs up to dt of error." if grid else
                          "Spike times are not all multiples of dt.")
                         + (" One rate evaluation per step." if name == "ours fixed" else ""))
        lines.append("")
    lines += ["## Cheapest at equal error", "",
              "Per error target, each series' cheapest measured setting reaching it "
              "(median CPU ms, wall ms in brackets).", "",
              "| max error ≤ ms | " + " | ".join(SERIES) + " | cheapest |",
              "|---" * (len(SERIES) + 2) + "|"]
    for e in result["cheapest"]:
        cells = []
        for name in SERIES:
            b = e["series"].get(name)
            cells.append("–" if b is None else
                         f"{b['cpu_ms']:.2f} ({b['wall_ms']:.2f}) at {b['setting']}")
        lines.append(f"| {e['target_ms']:.0e} | " + " | ".join(cells)
                     + f" | {e.get('winner', '–')} |")
    lines += ["", summary_paragraph(result), ""]
    return "\n".join(lines)


def _pair(result: dict, a: str, b: str) -> str | None:
    """Where series ``a`` or ``b`` is cheaper, over the targets both reach."""
    both = [e for e in result["cheapest"] if a in e["series"] and b in e["series"]]
    if not both:
        return None
    a_wins = [e["target_ms"] for e in both
              if e["series"][a]["cpu_ms"] < e["series"][b]["cpu_ms"]]
    span = f"{both[0]['target_ms']:.0e} to {both[-1]['target_ms']:.0e} ms"
    if len(a_wins) == len(both):
        return f"{a} is cheaper than {b} at every target both reach ({span})"
    if not a_wins:
        return f"{b} is cheaper than {a} at every target both reach ({span})"
    return (f"{a} vs {b} over {span}: {a} cheaper at "
            + ", ".join(f"{t:.0e}" for t in a_wins) + f" ms, {b} at the others")


def summary_paragraph(result: dict) -> str:
    """Which series is cheapest at each measured error target, by how much, and where the
    main pairs cross over (only from the measured settings)."""
    entries = [e for e in result["cheapest"] if "winner" in e]
    if not entries:
        return "No series reached any error target."
    parts = []
    for e in entries:
        times = sorted((b["cpu_ms"], k) for k, b in e["series"].items())
        part = f"≤ {e['target_ms']:.0e} ms: {times[0][1]} {times[0][0]:.2f} ms"
        if len(times) > 1:
            ratio = times[1][0] / times[0][0]
            part += f", next {times[1][1]} {times[1][0]:.2f} ms (x{ratio:.1f}"
            part += ", a tie at this timing noise)" if ratio < 1.1 else ")"
        parts.append(part)
    text = ("At equal error (median CPU time; only the settings measured here) the "
            "cheapest is " + "; ".join(parts) + ".")
    pairs = [_pair(result, a, b) for a, b in (("ours fixed", "ours adaptive"),
                                              ("ours adaptive", "NEURON CVODE"),
                                              ("ours fixed", "NEURON CVODE"))]
    pairs = [p for p in pairs if p]
    if pairs:
        text += (" Crossovers (resolved only to the measured settings): "
                 + "; ".join(pairs) + ".")
    over = {r["series"]: r["cpu_ms"] for r in result["rows"]
            if r["series"].startswith("call overhead")}
    if over:
        text += (" Our times include the cost of a call ("
                 + ", ".join(f"{k.split()[-1]} {v:.2f} ms" for k, v in over.items())
                 + " CPU for a 0.1 ms run); NEURON's are psolve alone.")
    missing = [n for n in SERIES if not any(r["series"] == n for r in result["rows"])]
    if missing:
        text += " Not measured: " + ", ".join(missing) + "."
    unreached = [n for n in SERIES if any(r["series"] == n for r in result["rows"])
                 and n not in entries[-1]["series"]]
    if unreached:
        text += (f" At {entries[-1]['target_ms']:.0e} ms no setting of "
                 + ", ".join(unreached) + " was accurate enough.")
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer settings (< 40 s)")
    ap.add_argument("--repeats", type=int, default=None, help="timed rounds (default 5, "
                    "--quick 3)")
    ap.add_argument("--cpu", type=int, default=None, help="pin to this core")
    ap.add_argument("--peers-python", type=Path, default=None,
                    help=f"python with NEURON (default {PEERS_PY} or $NEUROSIM_PEERS_PYTHON)")
    ap.add_argument("--out", type=Path, default=RESULTS / "adaptive_hh",
                    help="output stem: writes STEM.json and STEM.md")
    args = ap.parse_args()
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 5)
    if repeats < 1:
        raise SystemExit(f"--repeats must be >= 1, got {repeats}")
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    peers = args.peers_python or Path(os.environ.get("NEUROSIM_PEERS_PYTHON", PEERS_PY))
    fixed, tols, atols, nrn_dts = ((QUICK["fixed"], QUICK["adaptive"], QUICK["cvode"],
                                    QUICK["neuron_fixed"]) if args.quick else
                                   (FIXED_DT, ADAPTIVE_TOL, CVODE_ATOL, FIXED_DT))
    t_start = time.perf_counter()
    from neurosim_nb import __version__

    notes: list[str] = []
    model = squid_model()
    ref = reference(model, args.quick)
    print(f"reference: {len(ref['spike_times_ms'])} spikes; checks "
          + ", ".join(f"{c['method']} {_fmt(c['max_error_ms'], '.1e')} ms"
                      for c in ref["checks"]), flush=True)
    rows = run_ours(fixed, tols, repeats, notes)
    nrn = run_neuron(model, atols, nrn_dts, repeats, peers, notes)
    if nrn:
        rows += nrn["runs"]
    rows = [finish(r, ref["spike_times_ms"]) for r in rows]
    cpu_name = next((ln.split(":", 1)[1].strip() for ln in
                     Path("/proc/cpuinfo").read_text().splitlines()
                     if ln.startswith("model name")), platform.processor())
    result = {
        "meta": {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                 "quick": args.quick, "repeats": repeats, "cpu": args.cpu,
                 "machine": f"{cpu_name}, {os.cpu_count()} cores",
                 "python": platform.python_version(), "numpy": np.__version__,
                 "scipy": scipy.__version__, "neurosim_nb": __version__,
                 "total_s": None},
        "model": model, "reference": ref, "notes": notes,
        "neuron": None if nrn is None else {k: v for k, v in nrn.items() if k != "runs"},
        "rows": rows}
    result["cheapest"] = cheapest([r for r in rows if r["series"] in SERIES])
    result["meta"]["total_s"] = time.perf_counter() - t_start
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1))
    md = markdown(result)
    args.out.with_suffix(".md").write_text(md)
    print(md)
    print(f"total {result['meta']['total_s']:.1f} s; wrote {args.out}.json/.md")


if __name__ == "__main__":
    main()
