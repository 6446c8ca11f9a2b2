"""LFP proxy (seed ``LfpEst``): synaptic currents rebuilt from spikes, Mazzoni et al. (2015).

Two independent checks of the reconstruction:
1. against the analytic kernel sum: a spike stamped at t_s through a synapse of delay d
   gives the current w k(t - dt - t_s - d) at the sample t (the step ending at t), with
   k(u) = exp(-u / tau) or norm (exp(-u / tau_d) - exp(-u / tau_r)) (the engine's documented
   delivery: a spike acts from t_s + delay on; receptors.py for the normalisation);
2. against the engine itself: the recorded V of a subthreshold LIF neuron must equal the
   exact LIF solution V_{k+1} = V_inf + (V_k - V_inf) exp(-dt / tau_m), V_inf = V_rest +
   R_m I_k, driven by the rebuilt current alone -- a wrong delay, kernel, weight or sign
   changes V by far more than the 1e-9 mV tolerance (float rounding only).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurosim_nb import LIFNeuron, Network
from neurosim_nb.analysis.lfp import lfp_proxy, synaptic_currents
from neurosim_nb.core.synapses.receptors import Receptor
from neurosim_nb.stimuli import ConstantCurrent

DT = 0.1


def tiny_network(exc_receptor, inh_receptor, w_exc, w_inh, d_exc=1.5, d_inh=0.7):
    """Two driven source neurons -> one subthreshold target ("exc")."""
    net = Network("tiny", seed=0)
    net.add_population("src", LIFNeuron.create_excitatory(n=2))
    net.add_population("exc", LIFNeuron.create_excitatory(n=1))
    net.add_projection("src", "exc", [0], [0], w_exc, d_exc, exc_receptor)
    net.add_projection("src", "exc", [1], [0], w_inh, d_inh, inh_receptor)
    net.add_stimulus("src", ConstantCurrent(np.array([0.45, 0.6])))  # ~30 and ~60 Hz
    return net


def kernel_sum(spikes, t, w, delay, tau_d, tau_r=0.0):
    """sum_s w k(t - dt - t_s - delay) with the receptor's peak normalisation."""
    if tau_r > 0:
        tp = tau_d * tau_r / (tau_d - tau_r) * np.log(tau_d / tau_r)
        norm = 1.0 / (np.exp(-tp / tau_d) - np.exp(-tp / tau_r))
    else:
        norm = 1.0
    u = t[:, None] - DT - spikes[None, :] - delay
    rise = np.exp(-np.maximum(u, 0) / tau_r) if tau_r > 0 else 0.0
    k = np.where(u > -1e-9, norm * (np.exp(-np.maximum(u, 0) / tau_d) - rise), 0.0)
    return w * k.sum(axis=1)


def lif_trajectory(i_syn, params):
    """Exact LIF update from V_rest, the current held over each step (no threshold)."""
    decay = np.exp(-DT / params.tau_m)
    v, out = params.V_rest, []
    for i in i_syn:
        v_inf = params.V_rest + params.R_m * i
        v = v_inf + (v - v_inf) * decay
        out.append(v)
    return np.array(out)


def source_spikes(ds, neuron):
    return ds.spike_time.values[ds.spike_neuron.values == neuron]


# -- reconstruction ----------------------------------------------------------------------------
def test_current_synapses_match_kernel_sum_and_engine_voltage():
    net = tiny_network("current", "current", 0.02, -0.03)
    ds = net.simulate(100.0, dt=DT, seed=0)
    assert not np.any(ds.spike_neuron.values == 2), "the target must stay subthreshold"
    cur = synaptic_currents(ds, net)
    t = ds.time.values
    s0, s1 = source_spikes(ds, 0), source_spikes(ds, 1)
    assert s0.size >= 2 and s1.size >= 4
    tau = Receptor("x", "current").tau_decay_ms  # the "current" receptor: 5 ms
    np.testing.assert_allclose(cur.I_exc.values[:, 0], kernel_sum(s0, t, 0.02, 1.5, tau),
                               atol=1e-12)
    np.testing.assert_allclose(cur.I_inh.values[:, 0], kernel_sum(s1, t, -0.03, 0.7, tau),
                               atol=1e-12)
    params = net.populations["exc"].params
    v = lif_trajectory(cur.I_exc.values[:, 0] + cur.I_inh.values[:, 0], params)
    np.testing.assert_allclose(ds.V.sel(neuron=2).values, v, atol=1e-9)
    # the check can fail: a delay one step off moves V by ~1e-3 mV or more
    shifted = np.roll(cur.I_exc.values[:, 0], 1) + cur.I_inh.values[:, 0]
    assert np.abs(lif_trajectory(shifted, params) - ds.V.sel(neuron=2).values).max() > 1e-4


def test_conductance_synapses_with_rise_and_mg_block_match_the_engine():
    nmda = Receptor("NMDA", "conductance", 100.0, 2.0, 0.0, mg_mM=1.0)
    net = tiny_network("AMPA", "GABA_A", 0.004, 0.01)
    net.add_projection("src", "exc", [0], [0], 0.002, 2.0, nmda)
    ds = net.simulate(100.0, dt=DT, seed=0)
    assert not np.any(ds.spike_neuron.values == 2)
    cur = synaptic_currents(ds, net)
    v_rec = ds.V.sel(neuron=2).values
    v_start = np.r_[v_rec[0], v_rec[:-1]]  # V at the start of each step
    t = ds.time.values
    s0, s1 = source_spikes(ds, 0), source_spikes(ds, 1)
    g_ampa = kernel_sum(s0, t, 0.004, 1.5, 2.0, 0.2)
    g_nmda = kernel_sum(s0, t, 0.002, 2.0, 100.0, 2.0)
    g_gaba = kernel_sum(s1, t, 0.01, 0.7, 5.0, 0.5)
    block = 1.0 / (1.0 + 1.0 / 3.57 * np.exp(-0.062 * v_start))  # Jahr & Stevens 1990
    expected_exc = (g_ampa + g_nmda * block) * (0.0 - v_start)
    expected_inh = g_gaba * (-70.0 - v_start)
    np.testing.assert_allclose(cur.I_exc.values[:, 0], expected_exc, atol=1e-10)
    np.testing.assert_allclose(cur.I_inh.values[:, 0], expected_inh, atol=1e-10)
    assert cur.I_exc.attrs["units"] == "nA" and float(cur.I_exc.max()) > 0.01
    v = lif_trajectory(cur.I_exc.values[:, 0] + cur.I_inh.values[:, 0],
                       net.populations["exc"].params)
    np.testing.assert_allclose(v_rec, v, atol=1e-9)


# -- the proxy -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def coba():
    from neurosim_nb.core.networks.benchmarks_models import coba_network

    net = coba_network(200, seed=2)
    return net, net.simulate(60.0, record=("V",), seed=2)


def test_lfp_proxy_is_mazzoni_weighted_sum(coba, tmp_path):
    net, ds = coba
    lfp = lfp_proxy(ds, net)
    cur = synaptic_currents(ds, net)
    assert cur.sizes["neuron"] == 160 and set(cur.population.values) == {"exc"}
    shift = int(round(6.0 / DT))
    exc = np.abs(cur.I_exc.values).sum(axis=1)
    expected = np.r_[np.zeros(shift), exc[:-shift]] - 1.65 * np.abs(cur.I_inh.values).sum(1)
    np.testing.assert_allclose(lfp.values, expected, rtol=1e-12, atol=1e-12)
    assert lfp.attrs["units"] == "nA" and lfp.attrs["method"] == "RWS"
    assert lfp.attrs["delay_ms"] == pytest.approx(6.0) and lfp.attrs["alpha"] == 1.65
    assert np.ptp(lfp.values) > 0
    custom = lfp_proxy(ds, net, alpha=0.0, delay_ms=0.0)
    np.testing.assert_allclose(custom.values, exc)
    path = tmp_path / "lfp.nc"
    lfp.to_netcdf(path)
    xr.testing.assert_identical(xr.open_dataarray(path).load(), lfp)
    cur.to_netcdf(tmp_path / "cur.nc")
    xr.testing.assert_identical(xr.open_dataset(tmp_path / "cur.nc").load(), cur)


def test_fallback_without_network_is_mean_v(coba):
    _, ds = coba
    v = lfp_proxy(ds)
    expected = ds.V.where(ds.population == "exc", drop=True).mean("neuron")
    np.testing.assert_allclose(v.values, expected.values)
    assert v.attrs["units"] == "mV" and v.attrs["method"] == "mean_V"
    both = lfp_proxy(ds, populations=["exc", "inh"])
    np.testing.assert_allclose(both.values, ds.V.mean("neuron").values)


def test_no_spikes_gives_zero_and_a_single_spike_one_kernel():
    from neurosim_nb.stimuli import StepCurrent

    net = tiny_network("current", "current", 0.02, -0.03)
    net.stimuli.clear()
    ds = net.simulate(20.0, dt=DT, seed=0)
    assert ds.sizes["spike"] == 0
    lfp = lfp_proxy(ds, net)
    assert lfp.sizes["time"] == 200 and float(np.abs(lfp).max()) == 0.0
    # one spike: source 0 pushed over threshold once by a 1 ms pulse of 40 nA
    net1 = tiny_network("current", "current", 0.02, -0.03)
    net1.stimuli.clear()
    net1.add_stimulus("src", StepCurrent(np.array([40.0, 0.0]), onset_ms=1.0,
                                         duration_ms=1.0))
    ds1 = net1.simulate(30.0, dt=DT, seed=0)
    s0 = source_spikes(ds1, 0)
    assert s0.size == 1 and ds1.sizes["spike"] == 1
    cur = synaptic_currents(ds1, net1)
    np.testing.assert_allclose(cur.I_exc.values[:, 0],
                               kernel_sum(s0, ds1.time.values, 0.02, 1.5, 5.0), atol=1e-12)
    assert float(np.abs(cur.I_inh).max()) == 0.0


def test_bad_input(coba):
    net, ds = coba
    with pytest.raises(TypeError, match="Dataset"):
        lfp_proxy(ds.V, net)
    with pytest.raises(TypeError, match="Network"):
        lfp_proxy(ds, "net")
    with pytest.raises(ValueError, match="alpha"):
        lfp_proxy(ds, net, alpha=-1.0)
    with pytest.raises(ValueError, match="delay_ms"):
        lfp_proxy(ds, net, delay_ms=np.nan)
    with pytest.raises(ValueError, match="not shorter than the recording"):
        lfp_proxy(ds, net, delay_ms=60.0)
    with pytest.raises(ValueError, match="unknown population"):
        lfp_proxy(ds, net, populations="pyr")
    bad = ds.copy(deep=True)
    bad["V"][5, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        lfp_proxy(bad, net)
    with pytest.raises(ValueError, match="NaN"):
        lfp_proxy(bad)
    with pytest.raises(ValueError, match="no recorded 'V'"):
        lfp_proxy(ds.drop_vars("V"), net)
    from neurosim_nb.core.networks.benchmarks_models import coba_network

    with pytest.raises(ValueError, match="neurons"):
        lfp_proxy(ds, coba_network(100, seed=2))


def test_refuses_what_it_cannot_rebuild():
    net = Network(seed=0)
    net.add_population("exc", LIFNeuron.create_excitatory(n=2))
    net.add_projection("exc", "exc", [0], [1], 1.0, 1.0, "delta")
    ds = net.simulate(10.0, seed=0)
    with pytest.raises(ValueError, match="delta"):
        lfp_proxy(ds, net)
    assert lfp_proxy(ds).attrs["method"] == "mean_V"  # the documented fallback works

    from neurosim_nb.core.synapses.stdp import STDP

    net2 = Network(seed=0)
    net2.add_population("exc", LIFNeuron.create_excitatory(n=2))
    net2.connect("exc", "exc", "all_to_all", weight=0.001, receptor="AMPA", dynamics=STDP())
    ds2 = net2.simulate(10.0, seed=0)
    with pytest.raises(ValueError, match="plastic"):
        lfp_proxy(ds2, net2)

    net3 = Network(seed=0)
    net3.add_population("a", LIFNeuron(n=2))
    net3.add_population("b", LIFNeuron(n=2))
    ds3 = net3.simulate(10.0, seed=0)
    with pytest.raises(ValueError, match="pass populations"):
        lfp_proxy(ds3, net3)
    assert float(np.abs(lfp_proxy(ds3, net3, populations="a")).max()) == 0.0
