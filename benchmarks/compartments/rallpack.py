"""Rallpack references: the analytic cable solutions of Rallpacks 1 and 2, the official
reference traces (``reference/``), and the error measures of Bhalla et al. (1992).

Standard library and numpy only (imported from both virtual environments).

* :func:`sealed_cable_voltage` -- the finite cable with sealed ends and a current step into
  ``x = 0`` (Rall 1977; the eigenfunction series of Bhalla et al. 1992, Rallpack 1).
* :func:`rallpack1_analytic`, :func:`rallpack2_analytic` -- the two ends of Rallpacks 1
  and 2 (Rallpack 2's tree obeys the 3/2 rule, so it is the equivalent cylinder of the
  root's diameter and ten times one section's electrotonic length, 0.08).
* :func:`load_official` -- the reference traces distributed with the Rallpacks (Rallpack 1
  and 2 analytic, Rallpack 3 from NEURON), 0 to 250 ms every 0.05 ms.
* :func:`trace_errors`, :func:`spike_times` -- max |error| (mV), the Rallpack relative RMS,
  and threshold crossings (ms) by linear interpolation.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np

REFERENCE = Path(__file__).resolve().parent / "reference"
#: NEURON's Rallpack 3 spike times at dt 0.001 ms (tests/cable/reference/make_neuron_references.py)
FINE_SPIKES = Path(__file__).resolve().parents[2] / "tests" / "cable" / "reference" / \
    "rallpack3_spikes.json"
#: file names of the official traces, by (rallpack, end)
OFFICIAL = {(1, 0): "ref_cable.0.gz", (1, 1): "ref_cable.x.gz",
            (2, 0): "ref_branch.0.gz", (2, 1): "ref_branch.x.gz",
            (3, 0): "ref_axon.0.neuron.gz", (3, 1): "ref_axon.x.neuron.gz"}


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def sealed_cable_voltage(x_um, t_ms, *, length_um: float, diam_um: float,
                         ra_ohm_cm: float = 100.0, g_pas_S_cm2: float = 2.5e-5,
                         cm_uF_cm2: float = 1.0, amp_nA: float = 0.1,
                         e_mV: float = -65.0) -> np.ndarray:
    """Membrane potential (mV) of a uniform passive cable with sealed ends after a current
    step of ``amp_nA`` into its end ``x = 0`` at ``t = 0`` (rest ``e_mV`` before).

    With X = x / lambda, L = length / lambda, T = t / tau_m and alpha_n = n pi / L,
    ``V - E = I r_a lambda [cosh(L - X) / sinh(L)
    - (1/L) sum_n eps_n cos(alpha_n X) exp(-(1 + alpha_n^2) T) / (1 + alpha_n^2)]``
    (eps_0 = 1, eps_n = 2), r_a = 4 R_a / (pi d^2): the eigenfunction expansion of the
    cable equation (Rall 1977), summed until the terms drop below 1e-16 of the first.

    Parameters: ``x_um`` positions (um, 0..length_um), ``t_ms`` times (ms, >= 0) --
    broadcast against each other; ``length_um``, ``diam_um`` (um); ``ra_ohm_cm`` axial
    resistivity (ohm cm); ``g_pas_S_cm2`` leak (S/cm2); ``cm_uF_cm2`` (uF/cm2);
    ``amp_nA`` (nA); ``e_mV`` rest (mV).

    >>> v = sealed_cable_voltage([0.0, 1000.0], 1e6, length_um=1000.0, diam_um=1.0)
    >>> [round(float(u), 3) for u in v]   # -65 + 0.1 nA * 1.27 GOhm * [coth(1), 1/sinh(1)]
    [102.181, 43.342]
    """
    length_um = _positive("length_um", length_um)
    diam_um = _positive("diam_um", diam_um)
    ra = _positive("ra_ohm_cm", ra_ohm_cm)
    gm = _positive("g_pas_S_cm2", g_pas_S_cm2)
    cm = _positive("cm_uF_cm2", cm_uF_cm2)
    x = np.asarray(x_um, dtype=float)
    t = np.asarray(t_ms, dtype=float)
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("t_ms must be finite and >= 0")
    if np.any(x < 0) or np.any(x > length_um):
        raise ValueError(f"x_um must lie in [0, length_um = {length_um}]")
    d_cm = diam_um * 1e-4
    lam_cm = math.sqrt(d_cm / (4.0 * ra * gm))            # lambda = sqrt(R_m d / 4 R_a)
    tau_ms = cm * 1e-6 / gm * 1e3                          # R_m C_m
    r_in = 4.0 * ra / (math.pi * d_cm ** 2) * lam_cm       # ohm: r_a lambda
    big_l = length_um * 1e-4 / lam_cm
    xx, tt = np.broadcast_arrays(x * 1e-4 / lam_cm, t / tau_ms)
    steady = np.cosh(big_l - xx) / np.sinh(big_l)
    t_min = float(np.min(tt[tt > 0])) if np.any(tt > 0) else 1.0
    # terms decay as exp(-alpha_n^2 T) / alpha_n^2: stop where that is below 1e-16
    n_max = int(min(2e6, max(50, big_l / math.pi * math.sqrt(37.0 / t_min) + 10)))
    transient = np.zeros(xx.shape)
    chunk = 4096
    for start in range(0, n_max + 1, chunk):
        n = np.arange(start, min(n_max + 1, start + chunk), dtype=float)
        alpha = n * math.pi / big_l
        eps = np.where(n == 0, 1.0, 2.0)
        term = (eps / (1.0 + alpha ** 2))[None, :] * np.cos(np.outer(xx.ravel(), alpha)) * \
            np.exp(-np.outer(tt.ravel(), 1.0 + alpha ** 2))
        transient += term.sum(axis=1).reshape(xx.shape)
    dv_mV = amp_nA * 1e-9 * r_in * (steady - transient / big_l) * 1e3
    return np.where(tt > 0, e_mV + dv_mV, e_mV)


def rallpack1_analytic(t_ms) -> tuple[np.ndarray, np.ndarray]:
    """Rallpack 1's V (mV) at x = 0 and x = 1 mm at times ``t_ms`` (ms).

    >>> v0, vx = rallpack1_analytic([0.0, 250.0])
    >>> [round(float(v), 3) for v in (*v0, *vx)]
    [-65.0, 101.935, -65.0, 43.096]
    """
    kw = dict(length_um=1000.0, diam_um=1.0)
    return (sealed_cable_voltage(0.0, t_ms, **kw), sealed_cable_voltage(1000.0, t_ms, **kw))


def rallpack2_analytic(t_ms, depth: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Rallpack 2's V (mV) at the root's start and at a leaf's end, times ``t_ms`` (ms).

    The tree (root 16 um x 32 um, each level d / 2^(2/3), L / 2^(1/3)) satisfies the 3/2
    rule with equal electrotonic lengths, so every path is the equivalent cylinder of the
    root's diameter, ``depth`` x 32 um long in the root's length constant (Rall 1964).

    >>> v0, vx = rallpack2_analytic([250.0])
    >>> round(float(v0[0]), 3), round(float(vx[0]), 3)
    (-40.127, -40.207)
    """
    kw = dict(length_um=32.0 * depth, diam_um=16.0)
    return (sealed_cable_voltage(0.0, t_ms, **kw),
            sealed_cable_voltage(32.0 * depth, t_ms, **kw))


def load_official(rallpack: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """The official Rallpack reference trace: (t ms, V mV), 5001 samples, 0 to 250 ms.

    ``rallpack`` 1, 2 or 3; ``end`` 0 (x = 0, the injection site) or 1 (the far end).

    >>> t, v = load_official(1, 0)
    >>> len(t), float(t[1]), float(v[0])
    (5001, 0.05, -65.0)
    """
    if (rallpack, end) not in OFFICIAL:
        raise ValueError(f"rallpack must be 1, 2 or 3 and end 0 or 1, got {rallpack!r}, "
                         f"{end!r}")
    with gzip.open(REFERENCE / OFFICIAL[(rallpack, end)], "rt") as fh:
        data = np.loadtxt(fh)
    return np.round(data[:, 0] * 1e3, 9), data[:, 1] * 1e3


def trace_errors(v_mV, ref_mV) -> dict:
    """Max |error| (mV) and the Rallpacks' relative RMS error (RMS / range of ``ref``).

    >>> trace_errors([0.0, 1.0, 2.0], [0.0, 1.0, 2.5])
    {'max_abs_mV': 0.5, 'rms_mV': 0.2887, 'rel_rms': 0.1155}
    """
    v = np.asarray(v_mV, dtype=float)
    r = np.asarray(ref_mV, dtype=float)
    if v.shape != r.shape:
        raise ValueError(f"v_mV {v.shape} and ref_mV {r.shape} must have the same shape")
    if not np.all(np.isfinite(v)):
        raise ValueError("v_mV holds NaN or inf")
    err = v - r
    rms = float(np.sqrt(np.mean(err ** 2)))
    return {"max_abs_mV": _sig(float(np.max(np.abs(err)))), "rms_mV": _sig(rms),
            "rel_rms": _sig(rms / float(np.ptp(r)))}


def _sig(x: float, digits: int = 4) -> float:
    return float(f"{x:.{digits}g}")


def spike_times(t_ms, v_mV, threshold_mV: float = 0.0, rearm_mV: float = 10.0) -> np.ndarray:
    """Upward crossings of ``threshold_mV`` (ms), linearly interpolated between samples.

    A crossing counts only once V has been below ``threshold_mV - rearm_mV`` since the
    last counted one (hysteresis): Crank-Nicolson's two-step ripple at NEURON's zero-area
    end node makes V jitter by ~0.1 mV around the threshold on a spike's way down.

    >>> spike_times([0.0, 1.0, 2.0, 3.0], [-10.0, 10.0, -15.0, 30.0]).tolist()
    [0.5, 2.3333333333333335]
    >>> spike_times([0, 1, 2, 3, 4], [-20.0, 5.0, -0.1, 0.1, -20.0]).tolist()  # no re-arm
    [0.8]
    """
    t = np.asarray(t_ms, dtype=float)
    v = np.asarray(v_mV, dtype=float)
    if t.shape != v.shape or t.ndim != 1:
        raise ValueError(f"t_ms {t.shape} and v_mV {v.shape} must be 1-D of equal length")
    up = np.nonzero((v[:-1] < threshold_mV) & (v[1:] >= threshold_mV))[0]
    low = np.nonzero(v < threshold_mV - rearm_mV)[0]
    keep, armed_after = [], -1      # index of the last counted crossing
    for i in up:
        j = np.searchsorted(low, armed_after, side="right")
        if armed_after < 0 or (j < len(low) and low[j] <= i):
            keep.append(i)
            armed_after = i
    i = np.asarray(keep, dtype=int)
    frac = (threshold_mV - v[i]) / (v[i + 1] - v[i])
    return t[i] + frac * (t[i + 1] - t[i])


def spike_time_differences(spikes, ref_spikes) -> dict:
    """Compare two spike trains (ms): counts and max / mean |difference| of matched spikes.

    >>> spike_time_differences([1.0, 2.1], [1.05, 2.0])
    {'n': 2, 'n_ref': 2, 'max_abs_ms': 0.1, 'mean_abs_ms': 0.075}
    """
    a, b = np.asarray(spikes, dtype=float), np.asarray(ref_spikes, dtype=float)
    k = min(len(a), len(b))
    d = np.abs(a[:k] - b[:k])
    return {"n": int(len(a)), "n_ref": int(len(b)),
            "max_abs_ms": _sig(float(d.max())) if k else None,
            "mean_abs_ms": _sig(float(d.mean())) if k else None}


def accuracy(model: str, t_ms, v_mV, method: str = "cn") -> dict:
    """Errors of a simulated Rallpack at its two ends (``v_mV`` = [V at x=0, V at x=1],
    sampled at ``t_ms``) against the official traces: max |error| (mV) and relative RMS on
    the 0.05 ms grid of the reference (the simulation interpolated onto it); for Rallpack 3
    also the spike times (ms) and their differences from the official trace's crossings
    and, when present, from NEURON's at dt 0.001 ms with the same ``method`` (be / cn).

    >>> t, v0 = load_official(1, 0); _, v1 = load_official(1, 1)
    >>> accuracy("rallpack1", t, [v0, v1])["x1"]["max_abs_mV"]
    0.0
    """
    if model not in ("rallpack1", "rallpack2", "rallpack3"):
        raise ValueError(f"model must be rallpack1, rallpack2 or rallpack3, got {model!r}")
    pack = int(model[-1])
    t = np.asarray(t_ms, dtype=float)
    acc = {}
    for end in (0, 1):
        t_ref, v_ref = load_official(pack, end)
        v = np.asarray(v_mV[end], dtype=float)
        acc[f"x{end}"] = trace_errors(np.interp(t_ref, t, v), v_ref)
        if pack == 3:
            sim = spike_times(t, v)
            acc[f"x{end}"]["spikes_vs_official"] = spike_time_differences(
                sim, spike_times(t_ref, v_ref))
            if FINE_SPIKES.exists():
                fine = json.loads(FINE_SPIKES.read_text())["spike_times_ms"]
                key = f"dt_0.001_{method}"
                if key in fine:
                    acc[f"x{end}"]["spikes_vs_neuron_dt0.001"] = spike_time_differences(
                        sim, fine[key][f"x{end}"])
            acc[f"x{end}"]["spike_times_ms"] = [round(float(s), 5) for s in sim]
    return acc
