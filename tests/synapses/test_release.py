"""Tsodyks-Markram short-term plasticity: amplitudes delivered in a network run equal the
closed-form recurrence, presets depress / facilitate, state carries across runs.

Amplitudes are read off the postsynaptic membrane exactly: the synapses are delta synapses
(weight = jump of V in mV) onto passive LIF neurons, whose kernel applies a jump dv before
the exact step V_k = V_rest + (V_{k-1} + dv - V_rest) a, a = exp(-dt/tau_m); hence
dv_k = (V_k - V_rest)/a - (V_{k-1} - V_rest), exact to ~1e-13 mV.
"""

import math

import numpy as np
import pytest

from neurosim_nb import ChemicalSynapse, LIFNeuron, LIFParameters, Network
from neurosim_nb.core.synapses.release import (
    STP_PRESETS,
    STPParameters,
    TsodyksMarkram,
    tsodyks_markram_amplitudes,
)
from neurosim_nb.stimuli import PulseTrain, StepCurrent

DT = 0.1
DRIVER = LIFParameters(tau_m=1.0, V_rest=-70.0, V_threshold=-50.0, V_reset=-70.0, R_m=100.0,
                       t_refractory=0.0)
PASSIVE = LIFParameters(tau_m=20.0, V_rest=-70.0, V_threshold=40.0, V_reset=-60.0,
                        R_m=100.0, t_refractory=2.0)
WEIGHTS = np.array([1.0, 0.5])  # mV
IRREGULAR_MS = [5.0, 12.0, 14.5, 60.0, 61.0, 200.0, 203.0, 207.5, 400.0]


def build(preset):
    net = Network(seed=0)
    net.add_population("pre", LIFNeuron(DRIVER, n=2))
    post = net.add_population("post", LIFNeuron(PASSIVE, n=2))
    stp = TsodyksMarkram(STPParameters(**STP_PRESETS[preset]))
    net.add(ChemicalSynapse.create("pre", "post", "delta", weight=WEIGHTS, rule="one_to_one",
                                   dynamics=stp))
    return net, post, stp


def stimuli(regular_onset=5.0, n_pulses=12, irregular=IRREGULAR_MS):
    return {"pre": [PulseTrain(10.0, pulse_ms=DT, frequency_hz=20.0, onset_ms=regular_onset,
                               n_pulses=n_pulses, targets=[0])]
            + [StepCurrent(10.0, onset_ms=t, duration_ms=DT, targets=[1]) for t in irregular]}


def delivered(ds, v_start):
    """Kicks (mV) per step and post neuron, from the V samples (module doc)."""
    a = math.exp(-DT / PASSIVE.tau_m)
    v = np.vstack([v_start, ds.V.values]) - PASSIVE.V_rest
    return v[1:] / a - v[:-1]


def amplitudes_and_times(net, post, duration, stims):
    v0 = post.get_state("V").copy()
    ds = net.simulate(duration, dt=DT, seed=0, record_neurons={"post": [0, 1]}, stimuli=stims)
    kicks = delivered(ds, v0)
    off = net.offsets()["pre"]
    out = []
    for j in range(2):
        t = ds.spike_time.values[ds.spike_neuron.values == off + j]
        amp = kicks[:, j][np.abs(kicks[:, j]) > 1e-9]
        out.append((t, amp))
    return out


@pytest.mark.parametrize("preset", ["depressing", "facilitating"])
def test_simulated_amplitudes_equal_the_recurrence(preset):
    net, post, stp = build(preset)
    (t_reg, a_reg), (t_irr, a_irr) = amplitudes_and_times(net, post, 700.0, stimuli())
    np.testing.assert_allclose(np.diff(t_reg), 50.0, atol=1e-9)  # a regular 20 Hz train
    assert t_reg.size == 12 and t_irr.size == len(IRREGULAR_MS)
    pars = STP_PRESETS[preset]
    np.testing.assert_allclose(a_reg, tsodyks_markram_amplitudes(t_reg, weight=1.0, **pars),
                               rtol=1e-9)
    np.testing.assert_allclose(a_irr, tsodyks_markram_amplitudes(t_irr, weight=0.5, **pars),
                               rtol=1e-9)
    assert stp.plastic is False
    np.testing.assert_array_equal(net.projections[0].weight, WEIGHTS)  # weights untouched
    if preset == "depressing":
        assert np.all(np.diff(a_reg) < 0) and a_reg[-1] < 0.2 * a_reg[0]
        assert a_reg[0] == pytest.approx(0.5)  # first spike releases U of the resources
    else:
        assert np.all(np.diff(a_reg[:8]) > 0) and a_reg[7] > 3 * a_reg[0]


def test_state_carries_over_to_the_next_run():
    net, post, stp = build("depressing")
    first = amplitudes_and_times(net, post, 300.0, stimuli(n_pulses=6, irregular=[5.0]))
    u, x = stp.state()
    assert u[0] == pytest.approx(0.5) and 0 < x[0] < 0.2
    second = amplitudes_and_times(net, post, 300.0, stimuli(regular_onset=20.0, n_pulses=3,
                                                            irregular=[100.0]))
    for j, w in enumerate(WEIGHTS):
        times = np.concatenate([first[j][0], second[j][0] + 300.0])
        amps = np.concatenate([first[j][1], second[j][1]])
        np.testing.assert_allclose(
            amps, tsodyks_markram_amplitudes(times, weight=w, **STP_PRESETS["depressing"]),
            rtol=1e-9)


def test_recurrence_helper_special_cases():
    # long gaps: full recovery, every spike releases U w
    a = tsodyks_markram_amplitudes([0.0, 1e5, 2e5], U=0.3, tau_rec=10.0, tau_facil=10.0)
    np.testing.assert_allclose(a, 0.3, rtol=1e-12)
    # U = 1 without facilitation: x_{n+1} = 1 - e^{-dt/tau_rec}
    a = tsodyks_markram_amplitudes([0.0, 50.0], U=1.0, tau_rec=50.0, tau_facil=0.0)
    np.testing.assert_allclose(a, [1.0, 1.0 - math.exp(-1.0)], rtol=1e-14)
    assert tsodyks_markram_amplitudes([], U=0.5, tau_rec=1.0, tau_facil=0.0).size == 0
    dep, fac = TsodyksMarkram.depressing(), TsodyksMarkram.facilitating(U=0.05)
    assert dep.params.tau_rec == 800.0 and fac.params.U == 0.05


@pytest.mark.parametrize("kwargs, match", [
    ({"U": 0.0}, "outside the allowed range"),
    ({"U": 1.5}, "outside the allowed range"),
    ({"tau_rec": math.nan}, "finite"),
    ({"tau_facil": -1.0}, "outside the allowed range"),
])
def test_bad_stp_parameters_raise_value_error(kwargs, match):
    base = {"U": 0.5, "tau_rec": 100.0, "tau_facil": 0.0}
    with pytest.raises(ValueError, match=match):
        tsodyks_markram_amplitudes([0.0, 10.0], **{**base, **kwargs})
    with pytest.raises(ValueError, match=match):
        TsodyksMarkram(**kwargs)


@pytest.mark.parametrize("times", [[10.0, 5.0], [1.0, 1.0], [0.0, math.nan], [[0.0, 1.0]]])
def test_bad_spike_times_raise_value_error(times):
    with pytest.raises(ValueError, match="increasing"):
        tsodyks_markram_amplitudes(times, U=0.5, tau_rec=100.0, tau_facil=0.0)
