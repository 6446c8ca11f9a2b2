"""STDP and reward-modulated STDP in real network runs.

Spikes are forced: "driver" LIF neurons (tau_m 1 ms, no refractoriness) fire exactly in the
step of a 10 nA one-step pulse, or at every input event of a 100 mV Poisson kick, whatever
their synaptic input. Weight changes are then compared with the window function or with a
brute-force sum over all spike pairs computed here from the recorded spike times. The traces
in the library sum the same exponentials in another order, so agreement is to float
rounding (rtol 1e-9 on sums of ~1e3 terms of size 1e-6).
"""

import math

import numpy as np
import pytest
import xarray as xr

from neurosim_nb import LIFNeuron, LIFParameters, Network, STDPSynapse, validate_dataset
from neurosim_nb.core.synapses.stdp import (
    RewardModulatedSTDP,
    RewardSTDPParameters,
    STDPParameters,
    stdp_window,
)
from neurosim_nb.stimuli import PoissonInput, StepCurrent

DT = 0.1
DRIVER = LIFParameters(tau_m=1.0, V_rest=-70.0, V_threshold=-50.0, V_reset=-70.0, R_m=100.0,
                       t_refractory=0.0)
PAIR_DT = np.array([-40.0, -20.0, -10.0, 10.0, 20.0, 40.0])
T_PRE = 50.0


def pulses(times_by_neuron):
    return [StepCurrent(10.0, onset_ms=t, duration_ms=DT, targets=[i])
            for i, times in enumerate(times_by_neuron) for t in times]


def pair_network(spec_kw=None, delay_ms=1.0, reward=False):
    """Neuron i of 'pre' fires at T_PRE and neuron i of 'post' at T_PRE + PAIR_DT[i]."""
    n = PAIR_DT.size
    net = Network(seed=0)
    net.add_population("pre", LIFNeuron(DRIVER, n=n))
    net.add_population("post", LIFNeuron(DRIVER, n=n))
    factory = STDPSynapse.create_reward_modulated if reward else STDPSynapse.create_hebbian
    spec = factory("pre", "post", weight=0.005, rule="one_to_one", delay_ms=delay_ms,
                   **(spec_kw or {}))
    proj = net.add(spec)
    stims = {"pre": pulses([[T_PRE]] * n), "post": pulses([[T_PRE + d] for d in PAIR_DT])}
    return net, spec, proj, stims


def spikes_of(ds, net, pop):
    """{local index: spike times (ms)} of population ``pop``."""
    off = net.offsets()[pop]
    ids = ds.spike_neuron.values - off
    t = ds.spike_time.values
    return {i: t[ids == i] for i in range(net.populations[pop].n)}


def test_pair_weight_change_equals_the_window_function():
    net, spec, proj, stims = pair_network()
    w0 = proj.weight.copy()
    ds = net.simulate(120.0, dt=DT, seed=0, record=(), stimuli=stims)
    pre, post = spikes_of(ds, net, "pre"), spikes_of(ds, net, "post")
    measured_dt = np.array([post[i][0] - pre[i][0] for i in range(PAIR_DT.size)])
    np.testing.assert_allclose(measured_dt, PAIR_DT, atol=1e-9)
    expected = stdp_window(PAIR_DT, spec.dynamics.params)
    np.testing.assert_allclose(proj.weight - w0, expected, rtol=1e-12, atol=0)
    # Song et al. defaults: A+ = 0.01 w_max, A- = 1.05 A+, tau 20 ms
    assert expected[3] == pytest.approx(1e-4 * math.exp(-0.5), rel=1e-12)
    assert expected[2] == pytest.approx(-1.05e-4 * math.exp(-0.5), rel=1e-12)


def test_multiplicative_weight_dependence_scales_by_distance_to_bound():
    net, spec, proj, stims = pair_network({"weight_dependence": "multiplicative"})
    net.simulate(120.0, dt=DT, seed=0, record=(), stimuli=stims)
    p = spec.dynamics.params
    w0 = 0.005
    scale = np.where(PAIR_DT > 0, (p.w_max - w0), (w0 - p.w_min)) / (p.w_max - p.w_min)
    np.testing.assert_allclose(proj.weight - w0, stdp_window(PAIR_DT, p) * scale, rtol=1e-12)


@pytest.mark.parametrize("delay_ms", [0.1, 3.0, 7.5])
def test_result_does_not_depend_on_delay_or_chunking(delay_ms):
    """The loop advances min(delay) steps per chunk (1, 30 or 75 here)."""
    ref_net, _, ref, stims = pair_network(delay_ms=1.0)
    ref_net.simulate(120.0, dt=DT, seed=0, record=(), stimuli=stims)
    net, _, proj, stims = pair_network(delay_ms=delay_ms)
    net.simulate(120.0, dt=DT, seed=0, record=(), stimuli=stims)
    np.testing.assert_array_equal(proj.weight, ref.weight)


def poisson_network(factory, n_pre=8, n_post=4, rate_hz=40.0, **kw):
    net = Network(seed=5)
    net.add_population("pre", LIFNeuron(DRIVER, n=n_pre))
    net.add_population("post", LIFNeuron(DRIVER, n=n_post))
    spec = factory("pre", "post", **kw)
    proj = net.add(spec)
    stims = {"pre": PoissonInput(rate_hz=rate_hz, weight_mV=100.0),
             "post": PoissonInput(rate_hz=rate_hz, weight_mV=100.0)}
    return net, spec, proj, stims


def pair_sums(ds, net, proj, params, t_now_ms=None, tau_e=None):
    """Brute force: sum of the window over all spike pairs of every synapse (optionally
    each decayed from the step of its later spike to ``t_now_ms`` with ``tau_e``)."""
    pre, post = spikes_of(ds, net, "pre"), spikes_of(ds, net, "post")
    out = np.zeros(proj.n_synapses)
    for s, (i, j) in enumerate(zip(proj.pre_idx, proj.post_idx, strict=True)):
        d = post[j][None, :] - pre[i][:, None]
        w = stdp_window(d, params)
        if tau_e is not None:  # the increment is made in the step of the later spike
            later_step_end = np.maximum(post[j][None, :], pre[i][:, None]) - DT
            w = w * np.exp(-(t_now_ms - later_step_end) / tau_e)
        out[s] = w.sum()
    return out


def test_all_to_all_interaction_equals_the_sum_over_all_pairs():
    net, spec, proj, stims = poisson_network(STDPSynapse.create_hebbian, weight=0.005,
                                             A_plus=1e-7, A_minus=1.2e-7)
    w0 = proj.weight.copy()
    ds = net.simulate(1000.0, dt=DT, seed=11, record=(), stimuli=stims)
    assert ds.sizes["spike"] > 300
    ref = pair_sums(ds, net, proj, spec.dynamics.params)
    assert np.abs(ref).max() > 1e-6  # many pairs contributed
    np.testing.assert_allclose(proj.weight - w0, ref, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("dependence", ["additive", "multiplicative"])
def test_weights_stay_within_bounds_under_heavy_drive(dependence):
    net, spec, proj, stims = poisson_network(
        STDPSynapse.create_hebbian, n_pre=20, n_post=5, rate_hz=80.0, weight=0.004,
        w_min=0.001, w_max=0.008, A_plus=0.002, A_minus=0.0019, weight_dependence=dependence)
    # the last check (weights still spread at the end) holds for about a third of the seeds
    # with either Poisson stream (numpy's or the compiled one); seed 1 is one of them
    ds = net.simulate(500.0, dt=DT, seed=1, record=(), stimuli=stims, record_weights=True,
                      weight_sample_ms=1.0)
    w = ds.weight.values
    assert w.min() >= 0.001 and w.max() <= 0.008
    if dependence == "additive":  # hard bounds are reached
        assert np.isclose(w, 0.008).any() and np.isclose(w, 0.001).any()
    assert np.ptp(w[-1]) > 0.001


def test_weights_are_recorded_and_round_trip_through_netcdf(tmp_path):
    net, spec, proj, stims = poisson_network(STDPSynapse.create_hebbian, weight=0.005)
    w0 = proj.weight.copy()
    ds = net.simulate(200.0, dt=DT, seed=1, record=["V"], stimuli=stims, record_weights=True,
                      weight_sample_ms=10.0)
    validate_dataset(ds)
    assert ds.weight.dims == ("weight_time", "synapse")
    assert ds.weight.attrs["units"] == "uS"
    np.testing.assert_allclose(ds.weight_time, np.arange(0.0, 201.0, 10.0))
    np.testing.assert_array_equal(ds.weight[0], w0)
    np.testing.assert_array_equal(ds.weight[-1], proj.weight)
    off = net.offsets()
    np.testing.assert_array_equal(ds.pre, proj.pre_idx + off["pre"])
    np.testing.assert_array_equal(ds.post, proj.post_idx + off["post"])
    assert not np.array_equal(ds.weight[-1], ds.weight[0])
    path = tmp_path / "stdp.nc"
    ds.to_netcdf(path)
    with xr.open_dataset(path) as back:
        xr.testing.assert_identical(back.load(), ds)


# -- reward-modulated STDP ---------------------------------------------------------------
def rstdp_run(duration=500.0, seed=7, **kw):
    net, spec, proj, stims = poisson_network(
        STDPSynapse.create_reward_modulated, weight=0.005, A_plus=2e-5, A_minus=2.1e-5,
        tau_eligibility=200.0, learning_rate=2.0, **kw)
    w0 = proj.weight.copy()
    ds = net.simulate(duration, dt=DT, seed=seed, record=(), stimuli=stims, record_weights=True)
    return net, spec, proj, w0, ds


def test_rstdp_without_reward_never_changes_weights():
    net, spec, proj, w0, ds = rstdp_run()
    assert ds.sizes["spike"] > 100
    np.testing.assert_array_equal(proj.weight, w0)
    np.testing.assert_array_equal(ds.weight.values, np.broadcast_to(w0, ds.weight.shape))
    assert np.abs(spec.eligibility()).max() > 1e-6  # yet pairings were seen


def test_rstdp_eligibility_is_the_decayed_pair_sum_and_reward_applies_it():
    net, spec, proj, w0, ds = rstdp_run()
    p = spec.dynamics.params
    e = spec.eligibility()
    ref = pair_sums(ds, net, proj, p, t_now_ms=500.0, tau_e=p.tau_eligibility)
    np.testing.assert_allclose(e, ref, rtol=1e-9, atol=1e-15)
    spec.apply_reward(reward=0.0)
    np.testing.assert_array_equal(proj.weight, w0)
    spec.apply_reward(reward=1.0)
    np.testing.assert_allclose(proj.weight, w0 + p.learning_rate * e, rtol=1e-13)
    assert np.all((proj.weight > w0) == (e > 0))


def test_negative_reward_depresses_eligible_synapses():
    net, spec, proj, w0, ds = rstdp_run()
    e = spec.eligibility()
    proj.dynamics.apply_reward(-0.5)  # through the projection's dynamics object
    np.testing.assert_allclose(proj.weight, w0 - 0.5 * 2.0 * e, rtol=1e-13)
    assert np.all((proj.weight < w0) == (e > 0))


def test_reward_respects_bounds_and_eligibility_decays_across_runs():
    # a seed whose input leaves no spike in flight at the end of the first run (with the
    # compiled Poisson stream about half of the seeds do; seed 7 does not)
    net, spec, proj, w0, ds = rstdp_run(seed=0)
    e1 = spec.eligibility()
    ds2 = net.simulate(300.0, dt=DT, seed=8, record=())  # no input now: no spikes, only decay
    assert ds2.sizes["spike"] == 0
    np.testing.assert_allclose(spec.eligibility(), e1 * math.exp(-300.0 / 200.0), rtol=1e-12)
    spec.apply_reward(1e6)
    p = spec.dynamics.params
    assert set(np.unique(proj.weight)) <= {p.w_min, p.w_max}
    spec.dynamics.reset_eligibility()
    before = proj.weight.copy()
    spec.apply_reward(1.0)
    np.testing.assert_array_equal(proj.weight, before)


def test_seed_api_reward_flow():
    net = Network(seed=0)
    pre = net.add_population("pre", LIFNeuron(DRIVER, n=5))
    post = net.add_population("post", LIFNeuron(DRIVER, n=5))
    synapse = STDPSynapse.create_reward_modulated(pre, post)
    synapse.apply_reward(reward=1.0)  # not built yet: no eligibility, nothing to change
    proj = net.add(synapse)
    assert synapse.projection is proj and proj.dynamics is synapse.dynamics
    synapse.apply_reward(reward=1.0)  # before any run: no eligibility, no change
    np.testing.assert_array_equal(proj.weight, 0.005)
    net.simulate(200.0, seed=0, record=(),
                 stimuli={"pre": PoissonInput(rate_hz=50.0, weight_mV=100.0),
                          "post": PoissonInput(rate_hz=50.0, weight_mV=100.0)})
    np.testing.assert_array_equal(proj.weight, 0.005)
    synapse.apply_reward(reward=1.0)
    assert not np.array_equal(proj.weight, 0.005)
    hebb = STDPSynapse.create_hebbian(pre, post)
    with pytest.raises(TypeError, match="reward-modulated"):
        hebb.apply_reward(1.0)


@pytest.mark.parametrize("kwargs, match", [
    ({"w_min": 0.01, "w_max": 0.001}, "must not exceed w_max"),
    ({"tau_plus": math.nan}, "finite"),
    ({"A_plus": -1e-4}, "outside the allowed range"),
    ({"weight_dependence": "log"}, "not one of"),
    ({"weight": 0.02}, "outside the bounds"),
    ({"w_min": -0.001}, "w_min = -0.001 < 0 for conductance receptor"),
])
def test_bad_stdp_input_raises_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        STDPSynapse.create_hebbian("pre", "post", **kwargs)


def test_bad_reward_and_parameters_raise():
    with pytest.raises(ValueError, match="finite"):
        RewardSTDPParameters(tau_eligibility=math.nan)
    with pytest.raises(TypeError, match="RewardSTDPParameters"):
        RewardModulatedSTDP(STDPParameters())
    net, spec, proj, w0, ds = rstdp_run(duration=20.0)
    with pytest.raises(ValueError, match="finite"):
        spec.apply_reward(math.nan)
    with pytest.raises(ValueError, match="number"):
        spec.apply_reward("lots")
    # a weight distribution outside the bounds is caught when the run starts
    net = Network(seed=0)
    net.add_population("a", LIFNeuron(DRIVER, n=3))
    net.add(STDPSynapse.create_hebbian("a", "a", weight={"dist": "uniform", "low": 0.0,
                                                         "high": 0.05}))
    with pytest.raises(ValueError, match="outside the bounds"):
        net.simulate(10.0, record=())
    assert STDPParameters().A_minus == pytest.approx(1.05 * STDPParameters().A_plus)


def test_misspelled_stdp_parameter_raises_type_error_with_a_hint():
    with pytest.raises(TypeError, match="Did you mean 'tau_plus'"):
        STDPSynapse.create_hebbian("pre", "post", tau_plu=10.0)
