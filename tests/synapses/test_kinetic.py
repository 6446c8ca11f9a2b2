"""Kinetic receptors (neurosim_nb.core.synapses.kinetic) against independent references:
the two-state scheme's closed form written out here and scipy's solve_ivp of each model's
equations (integrated segment by segment between transmitter switches / spikes, so the
discontinuities are not stepped over)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from neurosim_nb.core.synapses.kinetic import (
    GABA_B_KINETIC,
    KINETIC_RECEPTORS,
    NMDA_SATURATING,
    GABABReceptor,
    KineticReceptor,
    SaturatingNMDA,
    transmitter_pulses,
)

RTOL = 1e-11  # solve_ivp (DOP853) tolerance; the comparisons allow 1e-8 (1000x)


def _piecewise_ivp(rhs, switches, t_eval, y0, jumps=None):
    """solve_ivp of ``rhs(t, y, on)`` from segment to segment of ``switches`` ((time, on)
    in order), evaluated at ``t_eval``; ``jumps[k](y)`` applied at switch k."""
    t_eval = np.asarray(t_eval, float)
    out = np.full((len(y0), t_eval.size), np.nan)
    y = np.array(y0, float)
    edges = [s[0] for s in switches] + [t_eval.max() + 1.0]
    for k, (t0, on) in enumerate(switches):
        if jumps is not None:
            y = jumps[k](y)
        t1 = edges[k + 1]
        sol = solve_ivp(lambda t, yy, on=on: rhs(t, yy, on), (t0, t1), y, method="DOP853",
                        rtol=RTOL, atol=1e-14, dense_output=True)
        sel = (t_eval >= t0) & (t_eval < t1)
        out[:, sel] = sol.sol(t_eval[sel])
        y = sol.y[:, -1]
    return out


@pytest.mark.parametrize("name", ["AMPA", "NMDA", "GABA_A"])
def test_two_state_single_pulse_matches_the_closed_form(name):
    rec = KINETIC_RECEPTORS[name]
    a, b = rec.alpha_per_ms_mM * rec.Cmax_mM, rec.beta_per_ms
    t0 = 2.0
    t = np.linspace(0.0, 40.0, 801)
    r_inf = a / (a + b)
    during = r_inf + (0.0 - r_inf) * np.exp(-(a + b) * (t - t0))
    r1 = r_inf * (1 - math.exp(-(a + b) * rec.Cdur_ms))
    after = r1 * np.exp(-b * (t - t0 - rec.Cdur_ms))
    expect = np.where(t < t0, 0.0, np.where(t <= t0 + rec.Cdur_ms, during, after))
    np.testing.assert_allclose(rec.open_fraction(t, [t0]), expect, rtol=0, atol=1e-14)
    # conductance and current scale as g = gmax r, I = g B(V) (E - V)
    g = rec.conductance(t, [t0], g_max_uS=0.003)
    np.testing.assert_allclose(g, 0.003 * expect, rtol=1e-14, atol=0)
    i = rec.current(t, [t0], -40.0, g_max_uS=0.003)
    block = 1 / (1 + rec.mg_mM / 3.57 * math.exp(0.062 * 40.0)) if rec.mg_mM else 1.0
    np.testing.assert_allclose(i, g * block * (rec.E_rev_mV + 40.0), rtol=1e-14, atol=0)


def test_two_state_trains_with_merging_pulses_match_solve_ivp():
    """Pulses from r0 != 0 and overlapping pulses (prolonged, not summed) against the ODE
    dr/dt = alpha C (1 - r) - beta r."""
    rec = KINETIC_RECEPTORS["AMPA"]
    spikes = [1.0, 1.6, 4.0, 9.0, 9.5, 12.0]
    pulses = transmitter_pulses(spikes, rec.Cdur_ms)
    assert pulses.tolist() == [[1.0, 2.6], [4.0, 5.0], [9.0, 10.5], [12.0, 13.0]]
    switches = [(0.0, False)] + [(p, on) for s, e in pulses for p, on in ((s, True),
                                                                        (e, False))]
    a, b = rec.alpha_per_ms_mM * rec.Cmax_mM, rec.beta_per_ms
    t = np.linspace(0.0, 30.0, 3001)
    ref = _piecewise_ivp(lambda _t, y, on: [a * on * (1 - y[0]) - b * y[0]], switches, t,
                         [0.0])[0]
    np.testing.assert_allclose(rec.open_fraction(t, spikes), ref, rtol=0, atol=1e-8)


def test_gaba_b_cascade_matches_solve_ivp():
    gb = GABA_B_KINETIC
    spikes = [5.0, 10.0, 15.0, 20.0, 200.0]
    pulses = transmitter_pulses(spikes, gb.Cdur_ms)
    switches = [(0.0, False)] + [(p, on) for s, e in pulses for p, on in ((s, True),
                                                                        (e, False))]

    def rhs(_t, y, on):
        c = gb.Cmax_mM if on else 0.0
        return [gb.K1 * c * (1 - y[0]) - gb.K2 * y[0], gb.K3 * y[0] - gb.K4 * y[1]]

    t = np.linspace(0.0, 600.0, 1201)
    ref = _piecewise_ivp(rhs, switches, t, [0.0, 0.0])
    R, G = gb.states(t, spikes)
    np.testing.assert_allclose(R, ref[0], rtol=0, atol=1e-8 * ref[0].max())
    np.testing.assert_allclose(G, ref[1], rtol=0, atol=1e-8 * ref[1].max())
    gn = ref[1] ** 4
    np.testing.assert_allclose(gb.open_fraction(t, spikes), gn / (gn + gb.Kd), rtol=1e-6,
                               atol=1e-16)
    # the cooperativity (n = 4): a burst of 4 gives far more than 4 single responses
    single = gb.conductance(t, [5.0]).max()
    burst = gb.conductance(t, [5.0, 10.0, 15.0, 20.0]).max()
    assert burst > 20 * single > 0


def test_gaba_b_resonant_rates_take_the_limit():
    """K4 equal to the unbinding rate K2: G(t) uses the t exp(-K4 t) limit."""
    gb = GABABReceptor(K2=0.034, K4=0.034)
    t = np.linspace(0.0, 200.0, 401)
    pulses = transmitter_pulses([1.0], gb.Cdur_ms)
    switches = [(0.0, False), (pulses[0, 0], True), (pulses[0, 1], False)]

    def rhs(_t, y, on):
        c = gb.Cmax_mM if on else 0.0
        return [gb.K1 * c * (1 - y[0]) - gb.K2 * y[0], gb.K3 * y[0] - gb.K4 * y[1]]

    ref = _piecewise_ivp(rhs, switches, t, [0.0, 0.0])
    np.testing.assert_allclose(gb.states(t, [1.0])[1], ref[1], rtol=0,
                               atol=1e-8 * ref[1].max())


def test_saturating_nmda_matches_solve_ivp_at_second_order():
    nm = NMDA_SATURATING
    assert (nm.tau_rise_ms, nm.tau_decay_ms, nm.alpha_per_ms) == (2.0, 100.0, 0.5)
    spikes = [0.0, 5.0, 10.0, 30.0]
    switches = [(s, True) for s in spikes]
    jumps = [lambda y: y + np.array([1.0, 0.0])] * len(spikes)

    def rhs(_t, y, _on):
        return [-y[0] / nm.tau_rise_ms,
                -y[1] / nm.tau_decay_ms + nm.alpha_per_ms * y[0] * (1 - y[1])]

    errors = {}
    for dt in (0.02, 0.01):
        t, x, s = nm.time_course(100.0, spikes, dt)
        ref = _piecewise_ivp(rhs, switches, t, [0.0, 0.0], jumps)
        np.testing.assert_allclose(x, ref[0], rtol=1e-9, atol=1e-12)   # x is exact
        errors[dt] = np.abs(s - ref[1]).max()
    # O(dt^2): halving dt divides the error by 4 (within 10 %), and at dt = 0.01 ms the
    # error is below 1e-7 (measured 3.8e-8)
    assert 3.6 < errors[0.02] / errors[0.01] < 4.4
    assert errors[0.01] < 1e-7
    # saturation: s stays below 1 even for a burst of 20 coincident spikes
    _, _, s = nm.time_course(50.0, [0.0] * 20, 0.01)
    assert 0.9 < s.max() < 1.0


def test_bad_parameters_name_the_argument():
    with pytest.raises(ValueError, match="beta_per_ms"):
        KineticReceptor("x", 1.0, -0.1)
    with pytest.raises(ValueError, match="Cdur_ms"):
        KineticReceptor("x", 1.0, 0.1, Cdur_ms=0.0)
    with pytest.raises(ValueError, match="mg_mM"):
        KineticReceptor("x", 1.0, 0.1, mg_mM=-1.0)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        GABABReceptor(n=0)
    with pytest.raises(ValueError, match="tau_rise_ms"):
        SaturatingNMDA(tau_rise_ms=float("nan"))
    with pytest.raises(ValueError, match="spike_times_ms must be finite"):
        KINETIC_RECEPTORS["AMPA"].open_fraction([1.0], [np.inf])
    with pytest.raises(ValueError, match="r0"):
        KINETIC_RECEPTORS["AMPA"].open_fraction([1.0], [0.0], r0=2.0)
