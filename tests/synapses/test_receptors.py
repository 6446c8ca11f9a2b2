"""Receptor kinetics measured through real network simulations.

One presynaptic LIF neuron is forced to spike once (a one-step 100 nA pulse) onto LIF
neurons whose threshold (+40 mV) is unreachable. Because the LIF kernel integrates exactly
with the input held over a step, V_k = v_inf + (V_{k-1} - v_inf) a with a = exp(-dt/tau_m),
the input current of every step can be recovered exactly from two consecutive samples:
I_k = ((V_k - a V_{k-1}) / (1 - a) - V_rest) / R_m. The inversion loses at most
~eps * 70 mV / (1 - a) ~ 3e-11 mV at dt = 0.01 ms (1/(1 - a) = 2000), i.e. ~1e-12 nA, so
synaptic currents and conductances are compared with the closed forms to atol 1e-9 nA.
"""

import numpy as np
import pytest

from neurosim_nb import LIFNeuron, LIFParameters, Network
from neurosim_nb.core.synapses.receptors import RECEPTORS, Receptor
from neurosim_nb.stimuli import ConstantCurrent, StepCurrent

DT = 0.01
T_SPIKE = 2.0  # ms, onset of the presynaptic pulse
POST = LIFParameters(tau_m=20.0, V_rest=-70.0, V_threshold=40.0, V_reset=-60.0, R_m=100.0,
                     t_refractory=2.0)


def one_spike(receptor, weight, *, duration=60.0, v_hold=None, delays=(1.0,)):
    """Simulate; return (V with the initial state as row 0, arrival steps, holding currents)."""
    n_post = len(v_hold) if v_hold is not None else len(delays)
    net = Network(seed=0)
    net.add_population("pre", LIFNeuron(LIFParameters(tau_m=1.0, R_m=100.0), n=1))
    post = net.add_population("post", LIFNeuron(POST, n=n_post))
    post_idx = np.arange(n_post)
    d = np.resize(np.asarray(delays, float), n_post)
    net.add_projection("pre", "post", np.zeros(n_post, int), post_idx, weight, d, receptor)
    net.add_stimulus("pre", StepCurrent(100.0, onset_ms=T_SPIKE, duration_ms=DT))
    i_hold = np.zeros(n_post)
    if v_hold is not None:
        v_hold = np.asarray(v_hold, float)
        i_hold = (v_hold - POST.V_rest) / POST.R_m
        post.set_state("V", v_hold)
        net.add_stimulus("post", ConstantCurrent(i_hold))
    v0 = post.get_state("V").copy()
    ds = net.simulate(duration, dt=DT, seed=0, record_neurons={"post": post_idx})
    assert ds.sizes["spike"] == 1, "the presynaptic neuron must spike exactly once"
    s0 = int(round(float(ds.spike_time[0]) / DT)) - 1  # step in which it spiked
    steps = np.floor(d / DT + 0.5 + 1e-9).astype(int)
    v = np.vstack([v0, ds.V.values])
    # a spike stamped (s0 + 1) dt acts from (s0 + 1) dt + delay: from step s0 + 1 + d
    return v, s0 + 1 + steps, i_hold


def input_current(v):
    """Total input current (nA) of every step, recovered from the V samples (module doc)."""
    a = np.exp(-DT / POST.tau_m)
    v_inf = (v[1:] - a * v[:-1]) / (1.0 - a)
    return (v_inf - POST.V_rest) / POST.R_m


def psp_closed_form(t, rec: Receptor, w):
    """V - V_rest (mV) of a LIF for a current I(t) = w f (e^-t/td - e^-t/tr): the
    convolution with the membrane kernel, sum of exponentials."""
    tm = POST.tau_m

    def k(tau):
        return tau / (tau - tm) * (np.exp(-t / tau) - np.exp(-t / tm))

    rise = k(rec.tau_rise_ms) if rec.tau_rise_ms > 0 else 0.0
    return np.where(t >= 0, POST.R_m * w * rec.norm() * (k(rec.tau_decay_ms) - rise), 0.0)


DUAL_CURRENT = Receptor("dual_current", "current", tau_decay_ms=5.0, tau_rise_ms=1.0)


@pytest.mark.parametrize("rec", [RECEPTORS["current"], DUAL_CURRENT], ids=lambda r: r.name)
def test_current_psc_and_psp_match_closed_forms(rec):
    w = 0.5  # nA
    v, (k_arr,), _ = one_spike(rec, w)
    i = input_current(v)[:, 0]
    m = np.arange(i.size) - k_arr
    # PSC: the held current of step k is the waveform at the start of the step (ZOH)
    np.testing.assert_allclose(i, w * rec.waveform(m * DT), rtol=0, atol=1e-9)
    assert np.flatnonzero(np.abs(i) > 1e-9)[0] == k_arr + (1 if rec.tau_rise_ms > 0 else 0)
    # PSP vs the continuous convolution. The kernel holds the start-of-step current over
    # each step (zero-order hold), which shifts the response by up to one step: bound
    # |error| <= dt * max|dV/dt| (+ 1e-9 for the float noise of the closed form).
    t = (np.arange(1, v.shape[0]) - k_arr) * DT   # time of V[k] since the arrival
    psp = v[1:, 0] - POST.V_rest
    ref = psp_closed_form(t, rec, w)
    slope = np.max(np.abs(np.gradient(ref, DT)))
    err = np.max(np.abs(psp - ref))
    assert err <= DT * slope + 1e-9, (err, DT * slope)
    assert ref.max() > 1.0  # a real (>1 mV) PSP was compared


@pytest.mark.parametrize("name", ["AMPA", "GABA_A", "NMDA", "GABA_B"])
def test_conductance_waveform_peak_time_and_value(name):
    rec = RECEPTORS[name]
    w = 0.001  # uS
    duration = 2.0 + 1.0 + 3 * rec.peak_time_ms() + 5.0
    # held at -50 mV so that every receptor has a driving force (GABA-A reverses at rest)
    v, (k_arr,), i_hold = one_spike(rec, w, duration=duration, v_hold=[-50.0])
    i = input_current(v)[:, 0] - i_hold[0]
    vs = v[:-1, 0]  # start-of-step V, the one the kernel uses for the driving force
    g = i / (rec.mg_block(vs) * (rec.E_rev_mV - vs))
    m = np.arange(i.size) - k_arr
    np.testing.assert_allclose(g, w * rec.waveform(m * DT), rtol=1e-7, atol=1e-12)
    k_peak = int(np.argmax(g))
    assert abs((k_peak - k_arr) * DT - rec.peak_time_ms()) <= DT
    # the sampled peak misses the true one by at most (dt^2 / 2) max|g''| ~ 1e-4 w here
    assert g.max() == pytest.approx(w, rel=1e-3)
    assert g.max() <= w * (1 + 1e-12)


def test_nmda_current_follows_jahr_stevens_block():
    rec = RECEPTORS["NMDA"]
    w = 0.0005
    v_hold = [-80.0, -60.0, -40.0, -20.0, -5.0]
    v, arrivals, i_hold = one_spike(rec, w, duration=40.0, v_hold=v_hold)
    k_arr = arrivals[0]
    i_syn = input_current(v) - i_hold[None, :]
    vs = v[:-1]
    m = (np.arange(i_syn.shape[0]) - k_arr)[:, None]
    g = w * rec.waveform(m * DT)
    block = 1.0 / (1.0 + 1.0 / 3.57 * np.exp(-0.062 * vs))  # Jahr & Stevens 1990, 1 mM Mg
    np.testing.assert_allclose(i_syn, g * block * (0.0 - vs), rtol=1e-6, atol=1e-9)
    # the block relieves with depolarisation: peak current per unit driving force rises
    peak = np.max(np.abs(i_syn), axis=0) / np.abs(np.asarray(v_hold))
    assert np.all(np.diff(peak) > 0)
    assert peak[-1] / peak[0] > 5


def test_reversal_signs_ampa_depolarises_gaba_a_depends_on_v():
    v, _, _ = one_spike("AMPA", 0.002, duration=30.0)
    dv = v[:, 0] - POST.V_rest
    assert dv.max() > 0.5 and dv.min() >= 0.0
    # GABA-A (E = -70 mV): neuron 0 held above E hyperpolarises, neuron 1 below depolarises
    v, _, _ = one_spike("GABA_A", 0.004, duration=30.0, v_hold=[-55.0, -85.0])
    dv = v - v[0]
    assert dv[:, 0].min() < -0.2 and dv[:, 0].max() <= 1e-9
    assert dv[:, 1].max() > 0.2 and dv[:, 1].min() >= -1e-9


def test_delay_shifts_the_response_exactly():
    v, arrivals, _ = one_spike("AMPA", 0.002, duration=30.0, delays=(1.0, 3.0))
    shift = int(arrivals[1] - arrivals[0])
    assert shift == 200  # 2 ms at dt = 0.01 ms
    np.testing.assert_array_equal(v[shift:, 1], v[:-shift, 0])
    assert np.ptp(v[:, 0]) > 0.5
