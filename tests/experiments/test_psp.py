"""PSPs of one receptor on a passive membrane (:func:`neurosim_nb.experiments.simulate_psp`).

References are independent of the code under test: closed forms for a passive membrane,
the Jahr-Stevens Mg block and the Tsodyks-Markram recurrence written out here.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from neurosim_nb.experiments import PSPParameters, simulate_psp

R_M = 100.0  # MOhm, the passive membrane of the experiment


def psp_closed_form(t, w_nA, tau_m, tau_s):
    """Passive membrane tau_m dV/dt = -V + R w exp(-t/tau_s) from V = 0 at t = 0."""
    t = np.asarray(t, float)
    v = R_M * w_nA * tau_s / (tau_s - tau_m) * (np.exp(-t / tau_s) - np.exp(-t / tau_m))
    return np.where(t >= 0, v, 0.0)


def tm_reference(times, U, tau_rec, tau_facil):
    """Tsodyks-Markram u_n x_n, written out from the published recurrence."""
    out, u, x, last = [], 0.0, 1.0, None
    for t in times:
        if last is not None:
            d = t - last
            x = 1 - (1 - x) * math.exp(-d / tau_rec)
            u = u * math.exp(-d / tau_facil) if tau_facil > 0 else 0.0
        u = u + U * (1 - u)
        out.append(u * x)
        x -= u * x
        last = t
    return np.array(out)


def mg_unblocked(v, mg=1.0):
    return 1.0 / (1.0 + mg / 3.57 * np.exp(-0.062 * v))


def test_current_synapse_psp_matches_the_closed_form():
    """PSP peak and time-to-peak vs the difference of exponentials.

    The kernel holds the synaptic current of each step at its start value: the PSP is
    larger by about dt / (2 tau_s) = 0.5 % at dt 0.05 ms (tolerance 1 %) and its peak
    earlier by up to a step (tolerance 2 dt)."""
    dt = 0.05
    ds = simulate_psp(receptor="current", weight=100.0, tau_m=20.0, dt=dt)   # 100 pA
    t, v = ds.time.values, ds.V.values
    arrival = float(ds.arrival_time[0])
    tau_s, tau_m = 5.0, 20.0
    ref = psp_closed_form(t - arrival, 0.1, tau_m, tau_s)
    t_peak = tau_m * tau_s / (tau_m - tau_s) * math.log(tau_m / tau_s)
    peak = float(psp_closed_form(t_peak, 0.1, tau_m, tau_s))
    dv = v - (-70.0)
    assert dv.max() == pytest.approx(peak, rel=0.01)
    assert t[np.argmax(dv)] - arrival == pytest.approx(t_peak, abs=2 * dt)
    assert np.abs(dv - ref).max() < 0.01 * peak
    assert ds.g_syn.attrs["units"] == "nA" and ds.attrs["receptor_kind"] == "current"
    np.testing.assert_array_equal(ds.I_syn.values, ds.g_syn.values)


def test_depressing_train_is_the_superposition_of_tsodyks_markram_psps():
    """A linear (current) synapse: V is the sum of unitary PSPs scaled by u_n x_n."""
    ds = simulate_psp(PSPParameters(receptor="current", weight=100.0, n_spikes=5, rate=50.0,
                                    short_term="depressing"))
    arr = ds.arrival_time.values
    np.testing.assert_allclose(np.diff(arr), 20.0)
    rel = tm_reference(arr, U=0.5, tau_rec=800.0, tau_facil=0.0)
    np.testing.assert_allclose(ds.release.values, rel, rtol=1e-12)
    t = ds.time.values
    ref = sum(r * psp_closed_form(t - a, 0.1, 20.0, 5.0) for a, r in zip(arr, rel, strict=True))
    dv = ds.V.values + 70.0
    assert np.abs(dv - ref).max() < 0.01 * ref.max()
    assert rel[-1] / rel[0] == pytest.approx(0.102, abs=0.001)   # strong depression


def test_facilitating_synapse_grows():
    ds = simulate_psp(n_spikes=5, rate=50.0, short_term="facilitating")
    assert np.all(np.diff(ds.release.values) > 0)
    assert np.all(simulate_psp(n_spikes=5, rate=50.0).release.values == 1.0)


@pytest.mark.parametrize("v_hold", [-80.0, -40.0])
def test_nmda_current_follows_the_mg_block(v_hold):
    """A small NMDA conductance at a holding potential: the peak current equals
    g_peak * B(V) * (0 - V) with B the Jahr-Stevens block (1 mM Mg)."""
    ds = simulate_psp(receptor="NMDA", weight=0.05, V_hold=v_hold)      # nS: V moves < 0.05 mV
    assert ds.g_syn.attrs["units"] == "uS" and ds.I_syn.attrs["units"] == "nA"
    assert float(ds.g_syn.max()) == pytest.approx(0.05e-3, rel=1e-4)  # single event peak
    expected = 0.05e-3 * mg_unblocked(v_hold) * (0.0 - v_hold)        # uS * mV = nA
    assert float(ds.I_syn.max()) == pytest.approx(expected, rel=2e-3)
    assert ds.attrs["mg_mM"] == 1.0 and ds.attrs["V_hold"] == v_hold


def test_nmda_psp_grows_with_depolarisation_and_gaba_reverses():
    def peak(receptor, v_hold):
        dv = simulate_psp(receptor=receptor, V_hold=v_hold).V.values - v_hold
        return dv[np.argmax(np.abs(dv))]

    assert peak("NMDA", -40.0) > 2.5 * peak("NMDA", -80.0) > 0     # relief of the Mg block
    assert peak("AMPA", -40.0) < peak("AMPA", -80.0)                # smaller driving force
    assert peak("GABA_A", -80.0) > 0 > peak("GABA_A", -50.0)        # E_rev = -70 mV
    assert peak("GABA_B", -50.0) < peak("GABA_B", -80.0) < 0        # E_rev = -95 mV


def test_train_timing_and_metadata():
    ds = simulate_psp(n_spikes=3, rate=100.0, receptor="GABA_B")
    np.testing.assert_allclose(ds.arrival_time.values, [21.0, 31.0, 41.0])  # 20 ms + delay
    assert ds.attrs["delay_ms"] == 1.0 and ds.attrs["receptor"] == "GABA_B"
    saved = json.loads(ds.attrs["params_json"])
    assert saved["class"] == "PSPParameters" and saved["values"]["n_spikes"] == 3
    assert ds.time.values[-1] >= 41.0 + 4 * ds.attrs["tau_decay"] - 1.0    # the tail


def test_too_long_train_is_refused():
    with pytest.raises(ValueError, match="keep the train under 1000 ms"):
        simulate_psp(n_spikes=20, rate=10.0)
