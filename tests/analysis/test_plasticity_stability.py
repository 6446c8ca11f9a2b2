"""Stability measures of plastic weights on synthetic weights with known answers and on a
real STDP run.

References: Sarle's bimodality coefficient is 1/3 for a normal distribution, 5/9 for a
uniform one (the conventional threshold) and 1 for two point masses (SAS Institute 1990;
Pfister, Schwarz, Janczyk, Dale & Freeman 2013, Front Psychol 4:700). Additive STDP with
hard bounds drives weights to the bounds (Song, Miller & Abbott 2000, Nat Neurosci 3:919).
"""

import numpy as np
import pytest
import xarray as xr

from neurosim_nb import LIFNeuron, LIFParameters, Network, STDPSynapse
from neurosim_nb.analysis.plasticity import bimodality_coefficient, plasticity_stability
from neurosim_nb.stimuli import PoissonInput

T = np.arange(0.0, 2000.0 + 1e-9, 10.0)  # ms, one sample every 10 ms


def exponential_weights(tau=200.0, n=60, seed=0):
    rng = np.random.default_rng(seed)
    w_inf = rng.uniform(0.2, 0.8, n)
    w0 = np.full(n, 0.5)
    return w_inf + (w0 - w_inf) * np.exp(-T / tau)[:, None], w0 - w_inf


def test_exponential_convergence_is_detected_at_the_right_time():
    tau, window, tol = 200.0, 100.0, 0.01
    w, d = exponential_weights(tau)
    s = plasticity_stability(w, weight_time_ms=T, w_min=0.0, w_max=1.0, window_ms=window,
                             tol=tol)
    # relative change c(t) = rms(d) e^{-t/tau} (e^{W/tau} - 1) / (w_max - w_min): it falls
    # below tol at t* = tau ln(rms(d) (e^{W/tau} - 1) / tol); the first sample after t*
    rms_d = np.sqrt(np.mean(d**2))
    t_star = tau * np.log(rms_d * (np.exp(window / tau) - 1.0) / tol)
    expected = T[T > t_star][0]
    assert int(s.converged) == 1
    assert float(s.convergence_time) == expected
    np.testing.assert_allclose(
        s.relative_change, rms_d * np.exp(-s.change_time / tau) * (np.exp(window / tau) - 1),
        rtol=1e-10)
    assert int(s.drifting) == 0
    assert s.convergence_time.attrs["units"] == "ms"
    assert s.mean_drift.attrs["units"] == "1/s"


def test_random_walk_drifts_and_does_not_converge():
    rng = np.random.default_rng(1)
    steps = rng.normal(0.0, 0.01, (T.size, 200))
    walk = xr.DataArray(0.5 + np.cumsum(steps, axis=0), dims=("weight_time", "synapse"),
                        coords={"weight_time": T}, attrs={"units": "uS"})
    s = plasticity_stability(walk, window_ms=200.0, tol=0.01)
    # over a 200 ms (20-step) window the rms change is 0.01 sqrt(20) = 0.045, ~9 % of the
    # rms weight (~0.5): far above tol at every time
    assert int(s.converged) == 0 and np.isinf(float(s.convergence_time))
    assert float(s.relative_change.min()) > 0.05
    # the spread grows like 0.01 sqrt(t / 10 ms): slope over the last 200 ms
    # ~ 0.01 / (2 sqrt(10 t)) per ms at t ~ 1.9 s -> ~3.6e-2 uS/s; detected as drift
    assert int(s.drifting) == 1 and float(s.std_drift) > 0.01
    assert s.std_drift.attrs["units"] == "uS/s"
    biased = plasticity_stability(walk + 1e-3 * np.arange(T.size)[:, None], window_ms=200.0)
    assert float(biased.mean_drift) == pytest.approx(0.1, abs=0.02)  # 1e-3 per 10 ms


def test_bimodality_of_weight_distributions():
    n = 2000
    rng = np.random.default_rng(2)
    normal = rng.normal(0.5, 0.1, n)
    uniform = np.linspace(0.0, 1.0, n)
    bimodal = np.concatenate([rng.normal(0.02, 0.01, n // 2), rng.normal(0.98, 0.01, n // 2)])
    # normal: 1/3 (sampling sd of the estimate ~0.02 at n = 2000); uniform: 5/9 - 3e-3 for
    # an evenly spaced sample; two narrow clusters: close to 1
    assert float(bimodality_coefficient(normal)) == pytest.approx(1 / 3, abs=0.05)
    assert float(bimodality_coefficient(uniform)) == pytest.approx(5 / 9, abs=5e-3)
    assert float(bimodality_coefficient(uniform)) < 5 / 9
    assert float(bimodality_coefficient(bimodal)) > 0.9
    w = np.stack([normal, np.clip(bimodal, 0.0, 1.0)])  # the distribution splits in two
    s = plasticity_stability(w, weight_time_ms=[0.0, 100.0], w_min=0.0, w_max=1.0)
    assert s.bimodality.values[0] < 5 / 9 < s.bimodality.values[1]
    assert int(s.bimodal) == 1
    near = 0.05  # bound_fraction default x (w_max - w_min)
    assert float(s.fraction_near_min[1]) == pytest.approx(np.mean(w[1] <= near))
    assert float(s.fraction_near_max[1]) == pytest.approx(np.mean(w[1] >= 1 - near))
    assert float(s.fraction_near_min[1] + s.fraction_near_max[1]) > 0.95
    unimodal = plasticity_stability(np.stack([uniform, normal]), weight_time_ms=[0.0, 1.0])
    assert int(unimodal.bimodal) == 0


def test_real_stdp_run_goes_to_the_bounds(tmp_path):
    driver = LIFParameters(tau_m=1.0, V_rest=-70.0, V_threshold=-50.0, V_reset=-70.0,
                           R_m=100.0, t_refractory=0.0)
    net = Network(seed=5)
    net.add_population("pre", LIFNeuron(driver, n=20))
    net.add_population("post", LIFNeuron(driver, n=5))
    net.add(STDPSynapse.create_hebbian("pre", "post", weight=0.004, w_min=0.001, w_max=0.008,
                                       A_plus=0.002, A_minus=0.0019))
    stims = {"pre": [PoissonInput(rate_hz=80.0, weight_mV=100.0)],
             "post": [PoissonInput(rate_hz=80.0, weight_mV=100.0)]}
    ds = net.simulate(500.0, dt=0.1, seed=1, record=(), stimuli=stims, record_weights=True,
                      weight_sample_ms=5.0)
    s = plasticity_stability(ds, w_min=0.001, w_max=0.008, window_ms=50.0)
    w = ds.weight.values
    np.testing.assert_allclose(s.mean_weight, w.mean(axis=1))
    np.testing.assert_allclose(s.std_weight, w.std(axis=1))
    assert s.mean_weight.attrs["units"] == "uS"
    # all weights start at 0.004: a point mass, bimodality undefined (documented NaN)
    assert np.isnan(s.bimodality.values[0])
    # additive STDP with hard bounds: weights pile up at both bounds (Song et al. 2000)
    end = float(s.fraction_near_min[-1] + s.fraction_near_max[-1])
    assert end > 0.5 and int(s.bimodal) == 1
    assert float(s.relative_change.max()) > 0.01  # the weights moved
    path = tmp_path / "stability.nc"
    s.to_netcdf(path)
    with xr.open_dataset(path) as back:
        xr.testing.assert_identical(back.load(), s)
    only = plasticity_stability(ds, projection=str(ds.projection.values[0]))
    assert only.attrs["n_synapses"] == 100
    with pytest.raises(ValueError, match="unknown projection"):
        plasticity_stability(ds, projection="nope")


def test_plasticity_stability_edge_cases():
    w, _ = exponential_weights()
    single = plasticity_stability(w[:, :1], weight_time_ms=T)  # one synapse: no bimodality
    assert "bimodality" not in single and int(single.converged) in (0, 1)
    const = plasticity_stability(np.ones((5, 10)), weight_time_ms=np.arange(5.0))
    assert int(const.converged) == 1 and float(const.convergence_time) == 1.0
    with pytest.raises(ValueError, match="two weight samples"):
        plasticity_stability(w[:1], weight_time_ms=T[:1])  # a single sample
    with pytest.raises(ValueError, match="two weight samples"):
        plasticity_stability(np.zeros((10, 0)), weight_time_ms=T[:10])  # no synapses
    bad = w.copy()
    bad[3, 7] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        plasticity_stability(bad, weight_time_ms=T)
    with pytest.raises(ValueError, match="window_ms"):
        plasticity_stability(w, weight_time_ms=T, window_ms=5000.0)  # longer than recording
    with pytest.raises(ValueError, match="window_ms"):
        plasticity_stability(w, weight_time_ms=T, window_ms=1.0)  # shorter than a sample
    with pytest.raises(ValueError, match="tol"):
        plasticity_stability(w, weight_time_ms=T, tol=0.0)
    with pytest.raises(ValueError, match="both"):
        plasticity_stability(w, weight_time_ms=T, w_min=0.0)
    with pytest.raises(ValueError, match="w_min < w_max"):
        plasticity_stability(w, weight_time_ms=T, w_min=1.0, w_max=0.0)
    with pytest.raises(ValueError, match="outside"):
        plasticity_stability(w, weight_time_ms=T, w_min=0.0, w_max=0.5)
    with pytest.raises(ValueError, match="weight_time_ms"):
        plasticity_stability(w)
    with pytest.raises(ValueError, match="regularly"):
        plasticity_stability(w, weight_time_ms=T[::-1])
    with pytest.raises(ValueError, match="record_weights"):
        plasticity_stability(xr.Dataset({"V": ("time", np.zeros(3))}))
    with pytest.raises(TypeError, match="weights"):
        plasticity_stability("weights")
    with pytest.raises(ValueError, match="at least 4"):
        bimodality_coefficient([1.0, 2.0, 3.0])
