"""Compute the NEURON references of the cable tests once; the JSON files beside this script
are its output. Run in the benchmarks' peers environment (``pip install neuron``)::

    benchmarks/.peers-venv/bin/python tests/cable/reference/make_neuron_references.py [which]

``which``: ``squid``, ``swc``, ``rallpack3`` or nothing for all three. Each file records the
NEURON version, the settings and this script's name.

* ``squid_axon_velocity.json`` -- conduction velocity (m/s) of the HH 1952 squid axon:
  ``hh.mod`` (gnabar 0.12, gkbar 0.036, gl 3e-4 S/cm2, el -54.3, ena 50, ek -77 mV) at
  18.5 degC, Ri 35.4 ohm cm, cm 1 uF/cm2, diameters 238, 476 and 952 um, a 10 cm axon
  stimulated at x = 0 (a 0.2 ms pulse), velocity = distance / delay of the upward 0 mV
  crossings at x = 0.3 and x = 0.7 (4 cm apart, away from both ends); fixed step
  (backward Euler and Crank-Nicolson) at dt 0.01 ms and nseg 1000, 2000, 4000, and
  Crank-Nicolson at dt 0.001 ms, nseg 2000 (nseg 1000 to 4000 moves the dt 0.01 values by
  < 0.02 %; dt 0.01 to 0.001 moves Crank-Nicolson's by about 0.1 %).
  HH (1952) computed 18.8 m/s for 476 um (their Table/section on propagation).
* ``swc_input_resistance.json`` -- input resistance (MOhm) at the soma centre of Brian2's
  ``mp_ma_40984_gc2.CNG.swc`` loaded with NEURON's Import3d, passive everywhere (Ra 100
  ohm cm, cm 1 uF/cm2, g_pas 1e-4 S/cm2, e_pas -65 mV), nseg by the d_lambda rule (0.1 of
  the length constant at 100 Hz, odd): from a 0.01 nA DC step run to steady state (500 ms,
  50 membrane time constants) and from ``h.Impedance`` at 0 Hz; plus the morphology
  figures (number of sections, total nseg, total length um, total membrane area um2) with
  which a loader can be checked.
* ``rallpack3_spikes.json`` -- Rallpack 3 (``benchmarks/compartments/specs.py``) spike
  times (ms, upward 0 mV crossings interpolated linearly between steps) at x = 0 and x = 1
  for dt 0.025 and 0.001 ms, backward Euler (secondorder 0) and Crank-Nicolson (2).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

try:
    from neuron import h
except ImportError:      # imported by pytest --doctest-modules in the project's own venv
    h = None

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "compartments"))
import rallpack  # noqa: E402

VERSION = h.nrnversion() if h is not None else None
SCRIPT = "tests/cable/reference/make_neuron_references.py"


def _crossing(t: np.ndarray, v: np.ndarray, thr: float = 0.0) -> float:
    s = rallpack.spike_times(t, v, thr)
    if not len(s):
        raise RuntimeError("no spike crossed the threshold")
    return float(s[0])


def squid_velocity(diam_um: float, nseg: int, dt_ms: float, secondorder: int,
                   length_cm: float = 10.0) -> float:
    """Conduction velocity (m/s) of the HH squid axon of diameter ``diam_um``."""
    axon = h.Section(name="squid")
    axon.L, axon.diam, axon.nseg = length_cm * 1e4, diam_um, nseg
    axon.Ra, axon.cm = 35.4, 1.0
    axon.insert("hh")                       # hh.mod defaults are HH 1952's constants
    h.celsius = 18.5
    stim = h.IClamp(axon(0.0))
    # a pulse that charges the first ~mm by > 30 mV: scales with the membrane area
    stim.delay, stim.dur = 0.1, 0.2
    stim.amp = 10000.0 * (diam_um / 476.0) ** 1.5
    t = h.Vector().record(h._ref_t)
    v1 = h.Vector().record(axon(0.3)._ref_v)
    v2 = h.Vector().record(axon(0.7)._ref_v)
    h.cvode_active(0)
    h.secondorder = secondorder
    h.dt = dt_ms
    h.steps_per_ms = 1.0 / dt_ms
    h.finitialize(-65.0)
    h.continuerun(12.0)
    tt = np.array(t)
    delay_ms = _crossing(tt, np.array(v2)) - _crossing(tt, np.array(v1))
    dist_m = 0.4 * length_cm * 1e-2
    del stim, axon
    return dist_m / (delay_ms * 1e-3)


def squid() -> dict:
    out = {"what": "conduction velocity (m/s) of the HH 1952 squid axon in NEURON",
           "neuron_version": VERSION, "script": SCRIPT,
           "settings": {"mechanism": "hh.mod defaults (gnabar 0.12, gkbar 0.036, gl 3e-4 "
                                     "S/cm2, el -54.3, ena 50, ek -77 mV)",
                        "celsius": 18.5, "Ra_ohm_cm": 35.4, "cm_uF_cm2": 1.0,
                        "length_cm": 10.0, "v_init_mV": -65.0,
                        "measure": "delay of the upward 0 mV crossings, x=0.3 to x=0.7",
                        "stimulus": "IClamp at x=0, 0.1-0.3 ms, 10000 nA * (d/476 um)^1.5"},
           "hh1952_computed_m_per_s": 18.8, "velocity_m_per_s": {}}
    for diam in (238.0, 476.0, 952.0):
        for nseg in (1000, 2000, 4000):
            for so, meth in ((0, "be"), (2, "cn")):
                vel = squid_velocity(diam, nseg, 0.01, so)
                key = f"d{diam:g}_nseg{nseg}_dt0.01_{meth}"
                out["velocity_m_per_s"][key] = round(vel, 5)
                print(key, round(vel, 4), flush=True)
        # the time-step-converged value (Crank-Nicolson is second order in dt)
        vel = squid_velocity(diam, 2000, 0.001, 2)
        out["velocity_m_per_s"][f"d{diam:g}_nseg2000_dt0.001_cn"] = round(vel, 5)
        print(f"d{diam:g}_nseg2000_dt0.001_cn", round(vel, 4), flush=True)
    return out


def d_lambda_nseg(sec, d_lambda: float = 0.1, freq_hz: float = 100.0) -> int:
    """NEURON's d_lambda rule (``fixnseg.hoc``): odd nseg with segments < d_lambda of the
    AC length constant at ``freq_hz``."""
    lam = h.lambda_f(freq_hz, sec=sec)
    return int((sec.L / (d_lambda * lam) + 0.9) / 2) * 2 + 1


def swc() -> dict:
    h.load_file("import3d.hoc")
    import brian2
    path = Path(brian2.__file__).parent / "spatialneuron" / "mp_ma_40984_gc2.CNG.swc"
    reader = h.Import3d_SWC_read()
    reader.input(str(path))
    gui = h.Import3d_GUI(reader, 0)
    gui.instantiate(None)
    secs = list(h.allsec())
    for sec in secs:
        sec.Ra, sec.cm = 100.0, 1.0
        sec.insert("pas")
        sec.g_pas, sec.e_pas = 1e-4, -65.0
    h.finitialize(-65.0)                     # lambda_f needs diam3d-derived values ready
    for sec in secs:
        sec.nseg = d_lambda_nseg(sec)
    soma = h.soma[0]
    imp = h.Impedance()
    imp.loc(0.5, sec=soma)
    imp.compute(0.0)
    rin_imp = imp.input(0.5, sec=soma)
    amp = 0.01
    stim = h.IClamp(soma(0.5))
    stim.delay, stim.dur, stim.amp = 0.0, 1e9, amp
    h.cvode_active(0)
    h.secondorder = 0
    h.dt = 0.025
    h.steps_per_ms = 40.0
    h.finitialize(-65.0)
    h.continuerun(500.0)
    rin_dc = (soma(0.5).v + 65.0) / amp       # mV / nA = MOhm
    areas = sum(seg.area() for sec in secs for seg in sec)
    names = {}
    for sec in secs:
        kind = sec.name().split("[")[0]
        names[kind] = names.get(kind, 0) + 1
    return {"what": "passive input resistance at the soma centre of mp_ma_40984_gc2.CNG.swc",
            "neuron_version": VERSION, "script": SCRIPT,
            "swc": "brian2/spatialneuron/mp_ma_40984_gc2.CNG.swc (Brian2 2.9.0 wheel)",
            "settings": {"Ra_ohm_cm": 100.0, "cm_uF_cm2": 1.0, "g_pas_S_cm2": 1e-4,
                         "e_pas_mV": -65.0, "nseg": "d_lambda 0.1 at 100 Hz (odd)",
                         "loader": "Import3d_SWC_read + Import3d_GUI(reader, 0)"
                                   ".instantiate(None)",
                         "dc_step": "0.01 nA at soma(0.5) from t=0, 500 ms, dt 0.025 BE"},
            "rin_MOhm_dc_step": round(rin_dc, 6), "rin_MOhm_impedance_0Hz": round(rin_imp, 6),
            "n_sections": len(secs), "sections_by_type": names,
            "nseg_total": int(sum(sec.nseg for sec in secs)),
            "total_length_um": round(sum(sec.L for sec in secs), 4),
            "total_area_um2": round(areas, 4),
            "soma": {"L_um": round(soma.L, 6), "diam_um": round(soma.diam, 6),
                     "n3d": int(soma.n3d()), "nseg": int(soma.nseg)}}


def rallpack3() -> dict:
    import neuron_models
    out = {"what": "Rallpack 3 spike times (ms), upward 0 mV crossings at x=0 and x=1",
           "neuron_version": VERSION, "script": SCRIPT,
           "settings": "benchmarks/compartments/specs.py rallpack_cable(active=True); "
                       "IClamp 0.1 nA at x=0; celsius 6.3; finitialize(-65); fixed step",
           "spike_times_ms": {}}
    for dt in (0.025, 0.001):
        for meth in ("be", "cn"):
            t0 = time.perf_counter()
            res = neuron_models.run("rallpack3", dt, meth)
            acc = res["accuracy"]
            out["spike_times_ms"][f"dt_{dt}_{meth}"] = {
                f"x{e}": acc[f"x{e}"]["spike_times_ms"] for e in (0, 1)}
            print(dt, meth, f"{time.perf_counter() - t0:.1f} s", flush=True)
            for sec in list(h.allsec()):
                h.delete_section(sec=sec)
    return out


def main() -> None:
    if h is None:
        raise SystemExit("NEURON is not installed here: run this with benchmarks/.peers-venv")
    h.load_file("stdrun.hoc")
    which = sys.argv[1:] or ["squid", "swc", "rallpack3"]
    for name in which:
        if name == "squid":
            data, fname = squid(), "squid_axon_velocity.json"
        elif name == "swc":
            data, fname = swc(), "swc_input_resistance.json"
        elif name == "rallpack3":
            data, fname = rallpack3(), "rallpack3_spikes.json"
        else:
            raise SystemExit(f"unknown reference {name!r}: squid, swc or rallpack3")
        (HERE / fname).write_text(json.dumps(data, indent=1) + "\n")
        print("wrote", fname, flush=True)
        for sec in list(h.allsec()):
            h.delete_section(sec=sec)


if __name__ == "__main__":
    main()
