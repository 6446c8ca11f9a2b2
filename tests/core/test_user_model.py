"""A model a user defines (the point-model protocol) runs alone and inside a Network with
receptors, delays and recording, and the registry offers it like a built-in.

The model is the quadratic integrate-and-fire neuron (Ermentrout-Kopell / Latham et al.
2000 form) tau dV/dt = (V - V_r)(V - V_c) / Delta + R I, integrated here with its exact
step (the Riccati solution with I frozen over the step), so the reference is a closed
form: with m = (V_r + V_c) / 2, q = (V_c - V_r) / 2 and kappa = Delta R I - q^2 > 0 the
time from V_0 to V_1 is

    T = tau Delta / sqrt(kappa) * (atan((V_1 - m) / sqrt(kappa)) - atan((V_0 - m) / sqrt(kappa)))

and the firing period is T(V_reset -> V_peak).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurosim_nb import LIFNeuron, Network
from neurosim_nb._jit import njit
from neurosim_nb.core.neurons import MODEL_FAMILIES, model_class, register_model
from neurosim_nb.core.neurons.point_model import PointModel
from neurosim_nb.core.synapses.receptors import RECEPTORS
from neurosim_nb.params import ParameterSet, param, parameters
from neurosim_nb.schema import validate_dataset
from neurosim_nb.stimuli import PulseTrain, StepCurrent


@parameters
class QIFParameters(ParameterSet):
    """Quadratic integrate-and-fire neuron."""

    tau: float = param(10.0, "ms", (0.1, 100.0), "membrane time constant")
    V_r: float = param(-65.0, "mV", (-100.0, 0.0), "resting potential")
    V_c: float = param(-50.0, "mV", (-100.0, 0.0), "critical potential")
    Delta: float = param(15.0, "mV", (0.1, 100.0), "sharpness")
    R: float = param(10.0, "MOhm", (0.1, 1000.0), "input resistance")
    V_peak: float = param(20.0, "mV", (0.0, 100.0), "spike cut-off")
    V_reset: float = param(-70.0, "mV", (-100.0, 0.0), "reset potential")


@njit(cache=True)
def qif_update(v, i_in, dv, dt, tau, v_r, v_c, delta, r, v_peak, v_reset):
    """Exact step with I frozen: w = V - m obeys tau Delta dw/dt = w^2 + kappa."""
    v = v + dv
    m = 0.5 * (v_r + v_c)
    q = 0.5 * (v_c - v_r)
    kappa = delta * r * i_in - q * q
    w = v - m
    c = dt / (tau * delta)
    if kappa > 0.0:
        s = math.sqrt(kappa)
        th = math.atan(w / s) + s * c
        if th >= 0.5 * math.pi:          # reaches +infinity, hence V_peak, in the step
            return v_reset, 1.0
        w = s * math.tan(th)
    elif kappa < 0.0:
        s = math.sqrt(-kappa)
        if abs(w) < s:
            w = -s * math.tanh(math.atanh(-w / s) + s * c)
        elif w > s:
            th = math.atanh(s / w) - s * c
            if th <= 0.0:
                return v_reset, 1.0
            w = s / math.tanh(th)
        else:
            w = -s / math.tanh(math.atanh(-s / w) + s * c)
    else:
        if w * c >= 1.0:
            return v_reset, 1.0
        w = w / (1.0 - w * c)
    v = w + m
    if v >= v_peak:
        return v_reset, 1.0
    return v, (0.0 if v == v else -1.0)


@register_model("QIF (test)")
class QIFNeuron(PointModel):
    """The quadratic integrate-and-fire neuron as a user would write it."""

    parameters_class = QIFParameters
    state_variables = {"V": ("mV", "membrane potential")}
    kernel_rows = ("tau", "V_r", "V_c", "Delta", "R", "V_peak", "V_reset")
    update = qif_update
    default_label = "qif"

    def _initial_state(self) -> np.ndarray:
        return self.params.per_neuron("V_r", self.n)[None, :].copy()


def qif_period_ms(p: QIFParameters, current_nA: float) -> float:
    m, q = 0.5 * (p.V_r + p.V_c), 0.5 * (p.V_c - p.V_r)
    kappa = p.Delta * p.R * current_nA - q * q
    s = math.sqrt(kappa)
    return p.tau * p.Delta / s * (math.atan((p.V_peak - m) / s) - math.atan((p.V_reset - m) / s))


@pytest.mark.parametrize("current", [2.0, 3.0, 6.0])
def test_user_model_alone_fires_at_the_closed_form_period(current):
    """Inter-spike intervals equal the closed-form period up to the spike-time
    quantisation: a spike is stamped at the end of its step and the next interval starts
    from the reset there, so every ISI lies in [T, T + dt] (the update is exact within a
    step). Tolerance: dt, the quantisation itself."""
    dt = 0.01
    pop = QIFNeuron()
    ds = pop.simulate(300.0, current, dt=dt, seed=0, verbose=False)
    validate_dataset(ds, run=True)
    assert ds.attrs["model"] == "QIFNeuron"
    isi = np.diff(ds.spike_time.values)
    period = qif_period_ms(pop.params, current)
    assert isi.size >= 5
    assert np.all(isi >= period - 1e-9) and np.all(isi <= period + dt + 1e-9), (isi, period)


def test_user_model_below_rheobase_relaxes_to_its_stable_rest():
    """Below rheobase (kappa < 0) the lower fixed point V* = m - sqrt(-kappa) attracts."""
    pop = QIFNeuron()
    ds = pop.simulate(300.0, 0.2, dt=0.1, seed=0, verbose=False)
    p = pop.params
    m, q = 0.5 * (p.V_r + p.V_c), 0.5 * (p.V_c - p.V_r)
    v_star = m - math.sqrt(q * q - p.Delta * p.R * 0.2)
    assert ds.sizes["spike"] == 0
    assert float(ds.V[-1, 0]) == pytest.approx(v_star, abs=1e-6)


def test_user_model_in_a_network_with_receptors_delays_and_recording():
    """A LIF source fires once at a known step; its delta synapse (+4 mV) reaches the QIF
    population after the 2 ms delay: the recorded V of the target then differs from a run
    without the projection by exactly 4 mV in that sample (the same update, a V jump), and
    not before. A conductance projection onto the same target runs too (mixed channels)."""
    def build(with_delta: bool):
        net = Network("user-model", seed=0)
        net.add_population("src", LIFNeuron.create_excitatory(n=1))
        net.add_population("qif", QIFNeuron(n=3))
        if with_delta:
            net.connect("src", "qif", "all_to_all", weight=4.0, delay_ms=2.0,
                        receptor=RECEPTORS["delta"])
        net.connect("src", "qif", "all_to_all", weight=0.0, delay_ms=1.0,
                    receptor=RECEPTORS["AMPA"])
        # a 0.5 ms, 50 nA pulse at 5 ms makes the source fire once
        net.add_stimulus("src", PulseTrain(amplitude=50.0, onset_ms=5.0, n_pulses=1,
                                           pulse_ms=0.5, frequency_hz=10.0))
        net.add_stimulus("qif", StepCurrent(0.2))  # below rheobase (0.375 nA)
        return net

    with_delta = build(True).simulate(20.0, dt=0.1, seed=1, verbose=False)
    without = build(False).simulate(20.0, dt=0.1, seed=1, verbose=False)
    validate_dataset(with_delta, run=True)
    src_spikes = with_delta.spike_time.values[with_delta.spike_neuron.values == 0]
    assert src_spikes.size == 1
    t_arrive = src_spikes[0] + 2.0 + 0.1  # acts in the step after the delay, end-of-step
    qif = with_delta.population.values == "qif"
    dv = (with_delta.V - without.V).values[:, qif]
    t = with_delta.time.values
    k = int(np.argmin(np.abs(t - t_arrive)))
    assert np.all(np.abs(dv[:k]) < 1e-12)
    # exact sum in the state, then the exact flow from there: >= 4 mV, decaying back
    assert np.all(dv[k] > 3.9) and np.all(dv[k] < 4.1)


def test_registry_offers_the_user_model_like_a_builtin():
    assert "QIF (test)" in MODEL_FAMILIES
    assert model_class("QIF (test)") is QIFNeuron
    from neurosim_nb.core.networks.spec import build_network

    net = build_network({"name": "spec", "populations": {"q": {"model": "QIF (test)", "n": 4}}})
    assert isinstance(net.populations["q"], QIFNeuron)
