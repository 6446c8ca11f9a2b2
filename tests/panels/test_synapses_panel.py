"""The synapses and plasticity panel, driven from Python (no browser).

References are independent of the panel's code: closed forms for a passive membrane, the
Jahr-Stevens Mg block and the Tsodyks-Markram recurrence written out here, the analytic
STDP window.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from neurosim_nb.core.synapses.stdp import stdp_window
from neurosim_nb.panels.synapses import (
    PAIR_DT,
    LearningParameters,
    PSPPanel,
    STDPPanel,
    SynapsesPanel,
)

R_M = 100.0  # MOhm, the panel's passive membrane
SHORT = LearningParameters(duration=0.6, reward_interval=200.0)


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


@pytest.fixture
def psp():
    return PSPPanel(background=False)


# -- PSPs -----------------------------------------------------------------------------------
def test_current_synapse_psp_matches_the_closed_form(psp):
    """Plotted PSP peak and time-to-peak vs the difference of exponentials.

    The kernel holds the synaptic current of each step at its start value: the PSP is
    larger by about dt / (2 tau_s) = 0.5 % at dt 0.05 ms (tolerance 1 %) and its peak
    earlier by up to a step (tolerance 2 dt)."""
    psp.controls["receptor"].value = "current"
    psp.controls["weight"].value = 100.0          # pA
    psp.controls["tau_m"].value = 20.0
    src = psp.source.data
    t, v = np.asarray(src["t"]), np.asarray(src["V"])
    np.testing.assert_array_equal(v, psp.result.V.values)
    arrival = float(psp.result.arrival_time[0])
    tau_s, tau_m = 5.0, 20.0
    ref = psp_closed_form(t - arrival, 0.1, tau_m, tau_s)
    t_peak = tau_m * tau_s / (tau_m - tau_s) * math.log(tau_m / tau_s)
    peak = float(psp_closed_form(t_peak, 0.1, tau_m, tau_s))
    dv = v - (-70.0)
    assert dv.max() == pytest.approx(peak, rel=0.01)
    assert t[np.argmax(dv)] - arrival == pytest.approx(t_peak, abs=2 * psp.dt)
    assert np.abs(dv - ref).max() < 0.01 * peak
    assert "peak PSP <b>+" in psp.status.value


def test_depressing_train_is_the_superposition_of_tsodyks_markram_psps(psp):
    """A linear (current) synapse: V is the sum of unitary PSPs scaled by u_n x_n."""
    for name, value in [("receptor", "current"), ("weight", 100.0), ("n_spikes", 5),
                        ("rate", 50.0), ("short_term", "depressing")]:
        psp.controls[name].value = value
    ds = psp.result
    arr = ds.arrival_time.values
    np.testing.assert_allclose(np.diff(arr), 20.0)
    rel = tm_reference(arr, U=0.5, tau_rec=800.0, tau_facil=0.0)
    np.testing.assert_allclose(ds.release.values, rel, rtol=1e-12)
    np.testing.assert_allclose(psp.arrivals.data["amplitude"], rel)
    t = ds.time.values
    ref = sum(r * psp_closed_form(t - a, 0.1, 20.0, 5.0) for a, r in zip(arr, rel, strict=True))
    dv = ds.V.values + 70.0
    assert np.abs(dv - ref).max() < 0.01 * ref.max()
    assert "last/first release 0.10" in psp.status.value  # 0.102: strong depression


def test_facilitating_synapse_grows(psp):
    for name, value in [("n_spikes", 5), ("rate", 50.0), ("short_term", "facilitating")]:
        psp.controls[name].value = value
    assert np.all(np.diff(psp.result.release.values) > 0)


@pytest.mark.parametrize("v_hold", [-80.0, -40.0])
def test_nmda_current_follows_the_mg_block(psp, v_hold):
    """A small NMDA conductance at a holding potential: the peak current equals
    g_peak * B(V) * (0 - V) with B the Jahr-Stevens block (1 mM Mg)."""
    psp.controls["receptor"].value = "NMDA"
    psp.controls["weight"].value = 0.05               # nS: V moves < 0.05 mV
    psp.controls["V_hold"].value = v_hold
    src = psp.source.data
    assert np.nanmax(src["g"]) == pytest.approx(0.05, rel=1e-4)   # nS, single event peak
    i_peak = float(np.max(src["I"]))                              # pA
    expected = 0.05 * mg_unblocked(v_hold) * (0.0 - v_hold)       # nS * mV = pA
    assert i_peak == pytest.approx(expected, rel=2e-3)
    assert f"{100 * mg_unblocked(v_hold):.0f} % of channels open" in psp.status.value


def test_nmda_psp_grows_with_depolarisation_and_gaba_reverses(psp):
    def peak(receptor, v_hold):
        psp.controls["receptor"].value = receptor
        psp.controls["V_hold"].value = v_hold
        dv = psp.result.V.values - v_hold
        return dv[np.argmax(np.abs(dv))]

    assert peak("NMDA", -40.0) > 2.5 * peak("NMDA", -80.0) > 0     # relief of the Mg block
    assert peak("AMPA", -40.0) < peak("AMPA", -80.0)                # smaller driving force
    assert peak("GABA_A", -80.0) > 0 > peak("GABA_A", -50.0)        # E_rev = -70 mV
    assert peak("GABA_B", -50.0) < peak("GABA_B", -80.0) < 0        # E_rev = -95 mV


def test_receptor_change_loads_weight_and_labels(psp):
    psp.controls["receptor"].value = "GABA_B"
    assert psp.controls["weight"].value == 2.5 and psp.result.attrs["receptor"] == "GABA_B"
    assert psp.conductance_figure.yaxis[0].axis_label == "g_syn (nS)"
    psp.controls["receptor"].value = "current"
    assert psp.controls["weight"].description == "weight (pA)"
    assert np.isnan(psp.source.data["g"]).all()


def test_bad_train_is_reported_and_the_last_run_kept(psp):
    before = psp.result
    psp.controls["n_spikes"].value = 20
    good = psp.result
    assert good is not before and good.arrival_time.size == 20
    psp.controls["rate"].value = 10.0
    assert psp.result is good and "keep the train under 1000 ms" in psp.error
    assert "Not simulated" in psp.status.value and "Traceback" not in psp.status.value
    assert "last valid run" in psp.status.value
    psp.controls["rate"].value = 50.0
    assert psp.error is None and psp.result.arrival_time.size == 20


# -- STDP -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stdp():
    return STDPPanel(learning=SHORT, background=False)


def test_plotted_window_is_the_rule_and_the_measured_pairs_agree(stdp):
    c = stdp.stdp_controls
    c["A_plus"].value = 2e-4
    c["tau_minus"].value = 40.0
    x = np.asarray(stdp.window_source.data["dt"])
    y = np.asarray(stdp.window_source.data["dw"])
    analytic = np.where(x >= 0, 2e-4 * np.exp(-x / 20.0), -1.05e-4 * np.exp(x / 40.0))
    analytic[np.flatnonzero(x == 0)[0]] = -1.05e-4       # the left branch's end at 0
    np.testing.assert_allclose(y, analytic, rtol=1e-12)
    p = stdp.stdp
    np.testing.assert_allclose(stdp.result.window_dw, y)
    # pairs simulated in a network: additive STDP gives the window itself
    np.testing.assert_allclose(stdp.pair_source.data["dt"], PAIR_DT)
    np.testing.assert_allclose(stdp.pair_source.data["dw"], stdp_window(PAIR_DT, p),
                               rtol=1e-9, atol=1e-15)
    c["weight_dependence"].value = "multiplicative"        # half-way from both bounds
    np.testing.assert_allclose(stdp.pair_source.data["dw"], 0.5 * stdp_window(PAIR_DT, p),
                               rtol=1e-9, atol=1e-15)
    c["weight_dependence"].value = "additive"
    c["A_plus"].value = 1e-4
    c["tau_minus"].value = 20.0


def test_weight_curves_are_the_result(stdp):
    ds = stdp.result
    w = ds.weight.values
    src = stdp.weight_source.data
    np.testing.assert_allclose(src["t"], ds.weight_time.values / 1000.0)
    np.testing.assert_allclose(src["mean"], w.mean(axis=1))
    np.testing.assert_allclose(np.asarray(src["upper"]) - np.asarray(src["lower"]),
                               2 * w.std(axis=1))
    counts = np.asarray(stdp.hist_source.data["count"])
    assert counts.sum() == ds.sizes["synapse"]
    np.testing.assert_allclose(stdp.reward_source.data["t"], [0.2, 0.4, 0.6])
    assert ds.weight_time[-1] == 600.0


def test_reward_controls_how_weights_evolve(stdp):
    c = stdp.learning_controls
    c["reward"].value = 1.0
    rewarded = stdp.result
    up = rewarded.weight.values
    c["reward"].value = 0.0
    flat = stdp.result.weight.values
    assert stdp.result.sizes["reward_time"] == 0
    c["reward"].value = -1.0
    down = stdp.result.weight.values
    w0 = up[0].mean()
    assert up[-1].mean() > w0 + 1e-4 and down[-1].mean() < w0 - 1e-4
    np.testing.assert_array_equal(flat, flat[0][None, :].repeat(flat.shape[0], axis=0))
    # reward-modulated weights change only at reward times
    changed = np.flatnonzero(np.any(np.diff(up, axis=0) != 0, axis=1)) + 1
    assert set(rewarded.weight_time.values[changed]) <= set(rewarded.reward_time.values)
    c["rule"].value = "Hebbian"                      # changes without any reward
    hebb = stdp.result.weight.values
    assert np.abs(hebb[-1] - hebb[0]).max() > 0 and "ignores the reward" in stdp.status.value
    c["rule"].value = "reward-modulated"
    c["reward"].value = 1.0


def test_bad_bounds_are_reported(stdp):
    before = stdp.result
    stdp.stdp_controls["w_max"].value = 0.002
    assert stdp.error is None and stdp.result is not before
    shown = stdp.result
    stdp.stdp_controls["w_min"].value = 0.004                  # above w_max
    assert stdp.result is shown
    assert "must not exceed w_max" in stdp.error and "Not simulated" in stdp.status.value
    stdp.stdp_controls["w_min"].value = 0.0
    stdp.stdp_controls["w_max"].value = 0.01
    assert stdp.error is None


def test_background_runs_keep_the_caller_free_and_show_progress():
    panel = STDPPanel(learning=LearningParameters(duration=0.4), background=True)
    first = panel.result
    t0 = time.perf_counter()
    panel.learning_controls["duration"].value = 4.0      # ~1 s of simulation
    assert time.perf_counter() - t0 < 0.2               # the callback returns at once
    assert panel.busy and "Simulating" in panel.status.value
    seen = []
    deadline = time.monotonic() + 60
    while panel.busy and time.monotonic() < deadline:
        seen.append(panel.progress.value)
        time.sleep(0.02)
    assert panel.wait(60)
    assert 0 < min(v for v in seen if v > 0) < 1       # intermediate progress was shown
    assert panel.progress.layout.visibility == "hidden"
    assert panel.result is not first and panel.result.weight_time[-1] == 4000.0
    # two quick changes: the first run is cancelled, the result is the last one
    panel.learning_controls["reward"].value = -1.0
    panel.learning_controls["duration"].value = 0.4
    assert panel.wait(60)
    assert panel.result.attrs["reward_per_event"] == -1.0
    assert panel.result.weight_time[-1] == 400.0


def test_synapses_panel_result_follows_the_tab():
    panel = SynapsesPanel(learning=SHORT, background=False)
    assert panel.result is panel.psp_panel.result
    panel.tabs.selected_index = 1
    assert panel.result is panel.stdp_panel.result
    assert panel.tabs.get_title(1) == "STDP and reward"
    assert panel.wait(1)
    assert "SynapsesPanel" in repr(panel)


def test_an_unexpected_failure_in_the_background_is_reported(monkeypatch):
    from neurosim_nb.panels import synapses

    panel = PSPPanel(background=True)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(synapses, "simulate_psp", broken)
    panel.controls["V_hold"].value = -60.0
    assert panel.wait(30)
    assert "internal error (RuntimeError: boom)" in panel.status.value
    monkeypatch.undo()
    panel.controls["V_hold"].value = -65.0          # the worker is still alive
    assert panel.wait(30)
    assert panel.error is None and panel.result.attrs["V_hold"] == -65.0
