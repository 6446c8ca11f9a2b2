"""Rate-based plasticity: Oja's rule against its mean-field ODE and its fixed point, and
homeostatic scaling toward a target rate from above and from below.

Pre/postsynaptic rates are controlled with "driver" LIF neurons (tau_m 1 ms, no
refractoriness) that fire at every event of a 100 mV Poisson kick, so their trains are
Poisson with rate nu_eff = (1 - exp(-nu dt)) / dt (at most one spike per step),
independent of the synaptic input.
"""

import math

import numpy as np
import pytest

from neurosim_nb import ChemicalSynapse, LIFNeuron, LIFParameters, Network
from neurosim_nb.core.synapses.delivery import SynapticDynamics
from neurosim_nb.core.synapses.plasticity import (
    HomeostaticParameters,
    HomeostaticScaling,
    OjaParameters,
    OjaRule,
)
from neurosim_nb.stimuli import PoissonInput

DT = 0.1
DRIVER = LIFParameters(tau_m=1.0, V_rest=-70.0, V_threshold=-50.0, V_reset=-70.0, R_m=100.0,
                       t_refractory=0.0)


def nu_eff(nu_hz):
    return (1.0 - math.exp(-nu_hz * DT / 1000.0)) / (DT / 1000.0)


def test_oja_mean_weight_follows_the_rule_ode():
    """200 independent pre->post pairs (one_to_one), pre at 20 Hz, post at 30 Hz.

    With traces started at 0, E[nu_hat](t) = nu (1 - e^{-t/tau}) and, for Poisson trains,
    Var[nu_hat](t) = nu / (2 tau) (1 - e^{-2t/tau}) (tau in s), so the mean weight obeys
    dw/dt = eta (E[nu_pre] E[nu_post] - alpha E[nu_post^2] w), integrated here on the rule's
    own 10 ms update grid. Tolerance: 4 standard errors of the mean over the 200 synapses
    (SE ~ 1-2 % of w) -- the mean-field step also neglects Cov(w, nu_post^2), measured
    below 1 SE. Leaving out the variance term would move the prediction by ~10 %.
    """
    n, nu_pre, nu_post, tau, alpha, eta, interval, t_end = (
        200, 20.0, 30.0, 100.0, 100.0, 6e-6, 10.0, 3000.0)
    net = Network(seed=0)
    net.add_population("pre", LIFNeuron(DRIVER, n=n))
    net.add_population("post", LIFNeuron(DRIVER, n=n))
    oja = OjaRule(learning_rate=eta, alpha=alpha, tau_rate=tau, interval=interval)
    assert oja.plastic and isinstance(oja, SynapticDynamics)
    net.add(ChemicalSynapse.create_current("pre", "post", weight=0.0, rule="one_to_one",
                                           dynamics=oja))
    net.add_stimulus("pre", PoissonInput(rate_hz=nu_pre, weight_mV=100.0))
    net.add_stimulus("post", PoissonInput(rate_hz=nu_post, weight_mV=100.0))
    ds = net.simulate(t_end, dt=DT, seed=1, record=(), record_weights=True,
                      weight_sample_ms=100.0, verbose=False)
    a, b = nu_eff(nu_pre), nu_eff(nu_post)
    tau_s, h = tau / 1000.0, interval / 1000.0
    w, grid, ode = 0.0, [0.0], [0.0]
    for k in range(1, int(t_end / interval) + 1):
        t = k * h
        m = 1.0 - math.exp(-t / tau_s)
        e_post2 = (b * m) ** 2 + b / (2 * tau_s) * (1.0 - math.exp(-2 * t / tau_s))
        w += eta * h * (a * b * m * m - alpha * e_post2 * w)
        grid.append(t * 1000.0)
        ode.append(w)
    ref = np.interp(ds.weight_time.values, grid, ode)
    weights = ds.weight.values
    mean, se = weights.mean(axis=1), weights.std(axis=1) / math.sqrt(n)
    late = ds.weight_time.values >= 500.0
    assert np.all(np.abs(mean - ref)[late] <= 4 * se[late]), np.c_[mean, ref, se][late]
    assert ref[-1] > 0.8 * a * b / (alpha * (b * b + b / (2 * tau_s)))  # near w_inf


def oja_run(alpha, t_end=6000.0):
    """20 inputs (10 at 10 Hz, 10 at 40 Hz) drive a real LIF through current synapses."""
    net = Network(seed=0)
    net.add_population("pre", LIFNeuron(DRIVER, n=20))
    net.add_population("post", LIFNeuron.create_excitatory(n=1))
    oja = OjaRule(learning_rate=2e-4, alpha=alpha, tau_rate=200.0, interval=10.0, w_max=1.0)
    net.add(ChemicalSynapse.create_current("pre", "post", weight=0.1, dynamics=oja))
    net.add_stimulus("pre", PoissonInput(rate_hz=10.0, weight_mV=100.0, targets=range(10)))
    net.add_stimulus("pre", PoissonInput(rate_hz=40.0, weight_mV=100.0,
                                         targets=range(10, 20)))
    ds = net.simulate(t_end, dt=DT, seed=1, record=(), record_weights=True,
                      weight_sample_ms=500.0, verbose=False)
    post_t = ds.spike_time.values[ds.spike_neuron.values == 20]
    return ds.weight.values, post_t


def test_oja_keeps_the_weight_norm_bounded_at_its_fixed_point():
    w, post_t = oja_run(alpha=5.0)
    norm = np.linalg.norm(w, axis=1)
    late = norm[4:]  # from 2 s on
    assert late.max() < 1.15 * late.min()  # stationary, no growth
    # fixed point alpha * w_i * E[nu_post^2] / nu_post = nu_i with E[nu^2] = nu^2 + nu/(2 tau)
    nu_post = np.sum(post_t > 2000.0) / 4.0
    expected = np.array([nu_eff(10.0)] * 10 + [nu_eff(40.0)] * 10) / (5.0 * (nu_post + 2.5))
    # Weights relax in ~1 / (eta alpha nu_post^2) ~ 0.3 s, so one sample reflects only a few
    # input spikes; averaged over 10 synapses and the 8 samples after 2 s (~80 independent
    # looks) the noise of a group mean is ~5 %; and the inputs drive the neuron, so pre/post
    # correlations that the fixed point neglects raise the weights (measured +5..7 %):
    # tolerance 15 %.
    group = w[4:].mean(axis=0).reshape(2, 10).mean(axis=1)
    np.testing.assert_allclose(group, expected.reshape(2, 10).mean(axis=1), rtol=0.15)
    assert group[1] / group[0] == pytest.approx(4.0, rel=0.15)  # w proportional to nu_pre
    # without the Oja term (alpha = 0) the plain Hebbian rule runs into the hard bound
    hebb, _ = oja_run(alpha=0.0, t_end=4000.0)
    np.testing.assert_array_equal(hebb[-1], 1.0)
    assert np.linalg.norm(hebb[-1]) > 5 * late.max()


def homeostatic_run(w0, t_end=6000.0):
    net = Network(seed=0)
    net.add_population("pre", LIFNeuron(DRIVER, n=200))
    net.add_population("post", LIFNeuron.create_excitatory(n=10))
    scaling = HomeostaticScaling(target_rate=10.0, eta=0.02, tau_rate=200.0, interval=100.0)
    net.add(ChemicalSynapse.create_current("pre", "post", weight=w0, rule="fixed_indegree",
                                           k=50, dynamics=scaling))
    net.add_stimulus("pre", PoissonInput(rate_hz=20.0, weight_mV=100.0))
    ds = net.simulate(t_end, dt=DT, seed=1, record=(), record_weights=True,
                      weight_sample_ms=100.0, verbose=False)
    t = ds.spike_time.values[ds.spike_neuron.values >= 200]
    first = np.sum(t <= 1000.0) / 10 / 1.0
    last = np.sum(t > t_end - 3000.0) / 10 / 3.0
    return first, last, ds.weight.values


@pytest.mark.parametrize("w0, side", [(0.06, "above"), (0.03, "below")])
def test_homeostatic_scaling_moves_the_rate_to_the_target(w0, side):
    """Ten neurons, 50 Poisson inputs each. Over the last 3 s the ten neurons fire ~300
    spikes, so the rate estimate has a Poisson error of ~0.6 Hz; the scaling itself
    fluctuates around the target with the 200 ms trace: tolerance +-25 % of the target."""
    first, last, w = homeostatic_run(w0)
    target = 10.0
    assert (first > 2 * target) if side == "above" else (first < 0.5 * target)
    assert abs(last - target) < 0.25 * target
    assert abs(last - target) < 0.25 * abs(first - target)
    moved = w[-1].mean() - w0
    assert (moved < 0) if side == "above" else (moved > 0)


def test_homeostatic_scaling_preserves_ratios_of_a_neurons_inputs():
    net = Network(seed=0)
    net.add_population("pre", LIFNeuron(DRIVER, n=40))
    net.add_population("post", LIFNeuron.create_excitatory(n=1))
    w0 = np.linspace(0.04, 0.12, 40)
    scaling = HomeostaticScaling(target_rate=5.0, eta=0.05, tau_rate=200.0, interval=50.0)
    proj = net.add(ChemicalSynapse.create_current("pre", "post", weight=w0, dynamics=scaling))
    net.add_stimulus("pre", PoissonInput(rate_hz=20.0, weight_mV=100.0))
    net.simulate(1000.0, dt=DT, seed=2, record=(), verbose=False)
    factor = proj.weight / w0
    assert factor[0] < 0.95
    np.testing.assert_allclose(factor, factor[0], rtol=1e-12)


def test_rules_clip_to_bounds_and_reject_bad_parameters():
    w, _ = oja_run(alpha=0.0, t_end=1000.0)
    assert w.max() <= 1.0
    with pytest.raises(ValueError, match="must not exceed w_max"):
        OjaParameters(w_min=1.0, w_max=0.5)
    with pytest.raises(ValueError, match="must not exceed w_max"):
        HomeostaticScaling(w_min=2.0)
    with pytest.raises(ValueError, match="finite"):
        OjaRule(learning_rate=math.nan)
    with pytest.raises(ValueError, match="outside the allowed range"):
        HomeostaticParameters(target_rate=0.0)
    with pytest.raises(ValueError, match="finite"):
        HomeostaticScaling(tau_rate=math.inf)
    with pytest.raises(TypeError, match="no parameter 'tau'"):
        OjaRule(tau=5.0)
    net = Network(seed=0)
    net.add_population("a", LIFNeuron(DRIVER, n=2))
    net.add(ChemicalSynapse.create_current("a", "a", weight=2.0, dynamics=OjaRule()))
    with pytest.raises(ValueError, match="outside the bounds"):
        net.simulate(5.0, record=())
