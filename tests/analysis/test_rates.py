"""Binned rates, the dense raster and kernel rates (neurosim_nb.analysis.rates, seed FireRate)."""

import numpy as np
import pytest
import xarray as xr
from scipy.stats import norm

from neurosim_nb.analysis._input import spike_dataset
from neurosim_nb.analysis.rates import (
    firing_rate,
    instantaneous_rate,
    population_rate,
    spike_raster,
)


def make_ds(times, ids, n, duration=100.0, dt=0.1):
    """A result Dataset of ``n`` neurons (first half "E", second half "I") from spike lists."""
    return spike_dataset(times, np.asarray(ids, dtype=np.int64), n, duration, dt=dt,
                         population=["E"] * (n - n // 2) + ["I"] * (n // 2))


@pytest.fixture(scope="module")
def net_ds():
    from neurosim_nb.core.networks.benchmarks_models import coba_network
    return coba_network(100, seed=1).simulate(100.0, record=(), seed=1)


def trains_of(ds):
    t, i = ds.spike_time.values, ds.spike_neuron.values
    return [t[i == k] for k in range(ds.attrs["n_neurons"])]


# --- firing_rate / population_rate / spike_raster -------------------------------------

def test_firing_rate_counts_spikes_at_bin_end_in_that_bin():
    ds = make_ds([10.0, 50.0, 50.0000000001, 99.0, 100.0], [0, 0, 1, 1, 2], 3)
    fr = firing_rate(ds, bin_ms=50.0)
    # (0, 50]: spike at exactly 50 ms; 50.0000000001 is float noise of a step end -> same bin
    np.testing.assert_array_equal(fr.values, [[40.0, 20.0, 0.0], [0.0, 20.0, 20.0]])
    assert fr.dims == ("time", "neuron") and fr.name == "firing_rate"
    assert fr.attrs["units"] == "Hz" and fr.time.attrs["units"] == "ms"
    assert fr.time.values.tolist() == [25.0, 75.0]
    assert fr.population.values.tolist() == ["E", "E", "I"]


def test_firing_rate_on_a_simulation_matches_count(net_ds):
    fr = firing_rate(net_ds, bin_ms=100.0)
    assert fr.shape == (1, 100)
    np.testing.assert_allclose(fr.values[0] * 0.1, [t.size for t in trains_of(net_ds)])
    pr = population_rate(net_ds, bin_ms=25.0)
    assert pr.name == "population_rate" and pr.attrs["units"] == "Hz"
    assert float(pr.sum()) * 0.025 * 100 == pytest.approx(net_ds.sizes["spike"])


def test_firing_rate_drops_last_partial_bin():
    fr = firing_rate([np.array([10.0, 95.0])], bin_ms=30.0, t_stop=100.0)
    assert fr.sizes["time"] == 3 and float(fr.sum()) == pytest.approx(1 / 0.03)


def test_population_rate_is_mean_over_neurons_including_silent():
    ds = make_ds([1.0, 2.0, 3.0], [0, 0, 1], 4, duration=10.0)
    pr = population_rate(ds, bin_ms=10.0)
    assert pr.values.tolist() == [pytest.approx(3 / 0.01 / 4)]


def test_raster_dense_counts_match_histogram():
    rng = np.random.default_rng(0)
    t = np.round(rng.uniform(0.05, 100.0, 500), 1)
    ids = rng.integers(0, 5, 500)
    ds = make_ds(t, ids, 5)
    r = spike_raster(ds)  # default bin: dt = 0.1 ms
    assert r.dtype == np.int64 and r.shape == (1000, 5) and r.attrs["bin_ms"] == 0.1
    assert r.attrs["units"] == "1" and r.name == "spike_count"
    # independent reference: step k covers (0.1 k, 0.1 (k+1)], spike index = round(t/0.1) - 1
    ref = np.zeros((1000, 5), int)
    np.add.at(ref, (np.round(t / 0.1).astype(int) - 1, ids), 1)
    np.testing.assert_array_equal(r.values, ref)


def test_dataset_and_array_paths_agree(net_ds):
    for f, kw in [(spike_raster, {"bin_ms": 7.0}), (firing_rate, {"bin_ms": 20.0}),
                  (population_rate, {"bin_ms": 20.0}),
                  (instantaneous_rate, {"sigma_ms": 5.0})]:
        a, b = f(net_ds, **kw), f(trains_of(net_ds), t_stop=100.0, **kw)
        np.testing.assert_array_equal(a.values, b.values)
        assert a.attrs == b.attrs


@pytest.mark.parametrize("f", [spike_raster, firing_rate, population_rate])
def test_binned_edge_cases(f):
    empty = f([np.array([]), np.array([])], bin_ms=10.0, t_stop=50.0)
    assert empty.shape[0] == 5 and float(np.abs(empty).sum()) == 0.0
    one = f(np.array([12.0]), bin_ms=10.0, t_stop=50.0)
    assert float(one.sum()) > 0 and float(one.isel(time=1).sum()) > 0
    with pytest.raises(ValueError, match="longer than the recording"):
        f(np.array([1.0]), bin_ms=60.0, t_stop=50.0)
    for bad in (-1.0, 0.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="bin_ms"):
            f(np.array([1.0]), bin_ms=bad, t_stop=50.0)
    with pytest.raises(TypeError):
        f(np.array([1.0]), bin_ms="ten", t_stop=50.0)
    with pytest.raises(ValueError, match="t_stop"):
        f(np.array([1.0]), bin_ms=1.0)  # arrays need the end of the recording


def test_raster_needs_bin_for_arrays():
    with pytest.raises(ValueError, match="bin_ms"):
        spike_raster([np.array([1.0])], t_stop=5.0)


# --- instantaneous_rate ------------------------------------------------------------------

def test_gaussian_single_spike_is_the_gaussian_pdf():
    sigma, h, s = 4.0, 0.1, 50.0
    r = instantaneous_rate(np.array([s]), sigma_ms=sigma, sampling_ms=h, t_stop=100.0)
    t = r.time.values
    # exact: each value is the mean of 1000 * pdf over its sampling bin (scipy reference)
    exact = 1000.0 * (norm.cdf(t + h / 2, s, sigma) - norm.cdf(t - h / 2, s, sigma)) / h
    np.testing.assert_allclose(r.values[:, 0], exact, rtol=1e-9, atol=1e-9)
    # pointwise pdf: |bin mean - value at centre| <= h^2/24 max|f''|, max|f''| = pdf(0)/sigma^2
    tol = 1000.0 * h**2 / 24 * norm.pdf(0.0) / sigma**3
    np.testing.assert_allclose(r.values[:, 0], 1000.0 * norm.pdf(t, s, sigma), atol=tol)


@pytest.mark.parametrize("kernel", ["gaussian", "exponential", "boxcar"])
def test_kernel_rate_integral_equals_count(kernel):
    rng = np.random.default_rng(1)
    # spikes far from the edges (> 8 sigma before t_stop for the causal kernel's tail)
    trains = [np.sort(rng.uniform(100.0, 900.0, k)) for k in (0, 7, 40)]
    r = instantaneous_rate(trains, sigma_ms=10.0, kernel=kernel, sampling_ms=0.5,
                           t_stop=1400.0)
    # exact by construction (CDF differences telescope); 1e-9 covers float round-off
    np.testing.assert_allclose(r.sum("time").values * 0.5 / 1000.0, [0, 7, 40], atol=1e-9)
    np.testing.assert_allclose(r.mean("time").values, np.array([0, 7, 40]) / 1.4, rtol=1e-9)
    assert r.attrs["units"] == "Hz" and r.attrs["kernel"] == kernel


def test_kernel_shapes_and_edge_loss():
    ex = instantaneous_rate(np.array([50.0]), 5.0, "exponential", 0.5, t_stop=100.0)
    assert float(ex.sel(time=slice(None, 50.0)).sum()) == 0.0  # causal
    assert float(ex.sel(time=50.25, neuron=0)) == pytest.approx(
        1000.0 * (1 - np.exp(-0.5 / 5.0)) / 0.5)
    box = instantaneous_rate(np.array([50.0]), 1.0, "boxcar", 0.01, t_stop=100.0)
    half = np.sqrt(3.0)  # width 2 sqrt(3) sigma has standard deviation sigma
    support = box.time.values[box.values[:, 0] > 0]
    assert support.min() == pytest.approx(50.0 - half, abs=0.01)
    assert support.max() == pytest.approx(50.0 + half, abs=0.01)
    # a spike at t_stop keeps only half of a Gaussian kernel: no border correction
    edge = instantaneous_rate(np.array([100.0]), 5.0, sampling_ms=0.1, t_stop=100.0)
    assert float(edge.sum()) * 0.1 / 1000.0 == pytest.approx(0.5, abs=1e-9)


def test_instantaneous_rate_edge_cases():
    empty = instantaneous_rate([np.array([])], t_stop=20.0)
    assert empty.shape == (20, 1) and float(empty.sum()) == 0.0
    long = instantaneous_rate(np.array([5.0]), sigma_ms=1e4, t_stop=10.0)  # allowed
    assert np.all(np.isfinite(long.values)) and float(long.sum()) * 1e-3 < 1e-3
    with pytest.raises(ValueError, match="sampling_ms"):
        instantaneous_rate(np.array([5.0]), sampling_ms=20.0, t_stop=10.0)
    with pytest.raises(ValueError, match="kernel"):
        instantaneous_rate(np.array([5.0]), kernel="triangle", t_stop=10.0)
    for bad in (0.0, -2.0, np.nan):
        with pytest.raises(ValueError, match="sigma_ms"):
            instantaneous_rate(np.array([5.0]), sigma_ms=bad, t_stop=10.0)
        with pytest.raises(ValueError, match="sampling_ms"):
            instantaneous_rate(np.array([5.0]), sampling_ms=bad, t_stop=10.0)


def test_results_round_trip_netcdf(tmp_path):
    ds = make_ds([1.0, 2.5, 7.0], [0, 1, 1], 2, duration=10.0)
    for i, da in enumerate([spike_raster(ds), firing_rate(ds, 5.0), population_rate(ds, 5.0),
                            instantaneous_rate(ds, 2.0, "boxcar", 0.5)]):
        path = tmp_path / f"r{i}.nc"
        da.to_netcdf(path)
        with xr.open_dataarray(path) as back:
            xr.testing.assert_identical(back.load(), da)
