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


# -- kinetic channels of the compiled engine (receptor kind "kinetic") ------------------------
def test_kinetic_channel_conductance_is_the_closed_form_on_the_grid():
    """synaptic_block's kinetic channel, fed arrivals through its ring buffer as the engine
    does, against the sum of single-pulse closed forms (each pulse from rest: distinct
    synapses, and one synapse whose earlier pulse has decayed) at every step."""
    from neurosim_nb.core.synapses.channels import N_SYN_PAR, synaptic_block
    from neurosim_nb.core.synapses.receptors import RECEPTORS

    dt, depth, n_steps = 0.1, 16, 1200
    v = np.array([-60.0, -60.0, -30.0])
    arrivals = {0: [(5, 0.002)], 1: [(5, 0.001), (12, 0.003), (700, 0.002)],
                2: [(40, 0.004)]}
    for name in ("AMPA_kinetic", "NMDA_kinetic", "GABA_A_kinetic"):
        rec = RECEPTORS[name]
        par = rec.channel_parameters(dt)[None, :]
        assert par.shape == (1, N_SYN_PAR) and int(par[0, 6]) == 10   # Cdur = 10 steps
        state = np.zeros((1, 2, 3))
        buf = np.zeros((1, depth, 3))
        g = np.zeros((n_steps, 3))
        isyn, dv = np.zeros(3), np.zeros(3)
        for t in range(n_steps):
            for i, evs in arrivals.items():  # delivered a few steps ahead, as the loop does
                for step, w in evs:
                    if step == t + 3:
                        buf[0, step % depth, i] += w
            synaptic_block(state, buf, par, t % depth, v, isyn, dv, 0, 3)
            block = rec.mg_block(v)
            g[t] = isyn / (block * (rec.E_rev_mV - v))
        kin = KineticReceptor(name, rec.alpha_per_ms_mM, rec.beta_per_ms, rec.E_rev_mV,
                              rec.mg_mM, rec.Cmax_mM, rec.Cdur_ms)
        t_ms = np.arange(n_steps) * dt
        for i, evs in arrivals.items():
            expect = sum(w * kin.open_fraction(t_ms, [step * dt]) for step, w in evs)
            np.testing.assert_allclose(g[:, i], expect, rtol=0, atol=1e-15, err_msg=name)
        # the waveform of Receptor is the same closed form
        np.testing.assert_allclose(rec.waveform(t_ms), kin.open_fraction(t_ms, [0.0]),
                                   rtol=0, atol=1e-15)


def test_kinetic_receptor_in_a_network_drives_lif_as_an_independent_integration():
    """Two given spikes through AMPA_kinetic (or NMDA_kinetic, Mg-blocked at the LIF's V)
    onto a LIF: V against a numpy integration of the LIF's exact step with the current
    g(t_k) B(V_k) (E - V_k), g from the closed form."""
    from neurosim_nb import LIFNeuron, LIFParameters, Network
    from neurosim_nb.core.neurons.sources import SpikeTimesSource
    from neurosim_nb.core.synapses.receptors import RECEPTORS

    dt, delay = 0.1, 1.0
    par = LIFParameters(tau_m=10.0, V_rest=-70.0, V_threshold=-40.0, V_reset=-70.0, R_m=10.0)
    for name, w in (("AMPA_kinetic", 0.02), ("NMDA_kinetic", 0.05), ("GABA_A_kinetic", 0.02)):
        rec = RECEPTORS[name]
        net = Network("k", seed=0)
        net.add_population("src", SpikeTimesSource([[2.0, 30.0]]))
        net.add_population("lif", LIFNeuron(par, n=1))
        net.connect("src", "lif", "all_to_all", weight=w, delay_ms=delay, receptor=name)
        ds = net.simulate(150.0, dt=dt, record=("V",), verbose=False)
        v_sim = ds.V.sel(neuron=1).values
        kin = KineticReceptor(name, rec.alpha_per_ms_mM, rec.beta_per_ms, rec.E_rev_mV,
                              rec.mg_mM, rec.Cmax_mM, rec.Cdur_ms)
        n = v_sim.size
        # a spike stamped t acts from t + delay on (spike 2.0 ms -> pulse from 3.0 ms);
        # each pulse from rest (the engine's lumped scheme): the sum of single pulses
        t_ms = np.arange(n) * dt
        g = w * sum(kin.open_fraction(t_ms, [s + delay]) for s in (2.0, 30.0))
        v, out = -70.0, np.empty(n)
        decay = math.exp(-dt / 10.0)
        for k in range(n):
            i_syn = g[k] * kin.mg_block(v) * (rec.E_rev_mV - v)
            v_inf = -70.0 + 10.0 * i_syn
            v = v_inf + (v - v_inf) * decay
            out[k] = v
        np.testing.assert_allclose(v_sim, out, rtol=0, atol=1e-9, err_msg=name)
        moved = np.abs(out + 70.0).max()
        assert moved > (0.5 if name != "NMDA_kinetic" else 0.1), (name, moved)


def test_kinetic_receptor_checks():
    from neurosim_nb import LIFNeuron, Network
    from neurosim_nb.core.neurons.sources import SpikeTimesSource
    from neurosim_nb.core.synapses.receptors import RECEPTORS, Receptor

    rec = RECEPTORS["AMPA_kinetic"]
    with pytest.raises(ValueError, match="whole number of steps"):
        rec.channel_parameters(0.3)
    with pytest.raises(ValueError, match="Receptor.kinetic"):
        Receptor("k", "kinetic", 5.0, 1.0, 0.0, 0.0, 1.1, 0.19, 1.0, 1.0)
    with pytest.raises(ValueError, match="belong to kind='kinetic'"):
        Receptor("k", "conductance", 5.0, 1.0, 0.0, 0.0, 1.1)
    with pytest.raises(ValueError, match="beta_per_ms"):
        Receptor.kinetic("k", 1.1, 0.0)
    net = Network("k", seed=0)
    net.add_population("src", SpikeTimesSource([[2.0]]))
    net.add_population("lif", LIFNeuron(n=1))
    with pytest.raises(ValueError, match="weight"):
        net.connect("src", "lif", "all_to_all", weight=-0.01, receptor="AMPA_kinetic")
    # a pulse longer than the shortest delay + 2 steps cannot stay in the ring buffer
    net.connect("src", "lif", "all_to_all", weight=0.01, delay_ms=0.1,
                receptor="AMPA_kinetic")
    with pytest.raises(ValueError, match="shortest delay"):
        net.simulate(10.0, dt=0.05, verbose=False)


def test_kinetic_receptors_round_trip_model_json():
    from neurosim_nb import LIFNeuron, Network
    from neurosim_nb.core.neurons.sources import PoissonSource
    from neurosim_nb.export.config import export_model_json, load_model_json

    net = Network("k", seed=2)
    net.add_population("src", PoissonSource(20, rate_hz=50.0))
    net.add_population("lif", LIFNeuron(n=4))
    net.connect("src", "lif", "all_to_all", weight=0.005, receptor="NMDA_kinetic")
    back = load_model_json(export_model_json(net))
    assert back.projections[0].receptor == net.projections[0].receptor
    a = net.simulate(100.0, verbose=False)
    b = back.simulate(100.0, verbose=False)
    np.testing.assert_array_equal(a.V, b.V)
