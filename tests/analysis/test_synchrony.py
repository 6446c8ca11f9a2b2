"""Phase synchrony (seed ``PhaseSync``): spike phases, PLV, Kuramoto order, STTC.

References for the expected values:
* PLV of von Mises phase differences: E[cos(theta - mu)] = I1(kappa) / I0(kappa) (Mardia &
  Jupp 2000, *Directional Statistics*, eq. 3.5.37), so the mean resultant length -> A(kappa).
* Kuramoto R of N independent uniform phases: R**2 N ~ Exp(1) for large N (Rayleigh), so
  E[R] sqrt(N) -> sqrt(pi) / 2 (Mardia & Jupp 2000, sect. 6.3.1).
* STTC: the properties of Cutts & Eglen (2014, J Neurosci 34:14288) and the hand-checked
  ("pencil and paper") values of Elephant's ``elephant/test/test_spike_train_correlation.py``
  (``SpikeTimeTilingCoefficientTestCase``).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import special, stats

from neurosim_nb.analysis.synchrony import (
    kuramoto_order,
    phase_at_spikes,
    phase_locking_value,
    spike_phases,
    sttc,
    sttc_matrix,
)


def poisson_trains(n, rate_hz, t_stop, seed):
    rng = np.random.default_rng(seed)
    return [np.sort(rng.uniform(0.0, t_stop, rng.poisson(rate_hz * t_stop / 1000.0)))
            for _ in range(n)]


@pytest.fixture(scope="module")
def small_run():
    from neurosim_nb.core.networks.benchmarks_models import coba_network

    return coba_network(100, seed=1).simulate(100.0, record=(), seed=1)


# -- spike_phases / phase_at_spikes --------------------------------------------------------
def test_spike_phases_linear_between_spikes_and_nan_outside():
    ph = spike_phases([[10.0, 30.0, 40.0]], dt_ms=5.0, t_stop=50.0)
    expected = [np.nan, 0.0, np.pi / 2, np.pi, 3 * np.pi / 2, 0.0, np.pi, 0.0, np.nan, np.nan]
    np.testing.assert_allclose(ph.values[:, 0], expected, atol=1e-12)
    assert ph.attrs["units"] == "rad" and ph.name == "spike_phase"
    np.testing.assert_allclose(ph.time.values, np.arange(1, 11) * 5.0)


def test_spike_phases_empty_and_single_spike_are_undefined():
    ph = spike_phases([[], [12.0]], dt_ms=1.0, t_stop=20.0)
    assert ph.shape == (20, 2) and np.isnan(ph.values).all()


def test_spike_phases_bad_parameters(small_run):
    with pytest.raises(ValueError, match="dt_ms"):
        spike_phases([[1.0, 2.0]], dt_ms=0.0, t_stop=5.0)
    with pytest.raises(ValueError, match="longer than the window"):
        spike_phases([[1.0, 2.0]], dt_ms=10.0, t_stop=5.0)
    with pytest.raises(ValueError, match="after the end of the recording"):
        spike_phases(small_run, t_stop=200.0)
    with pytest.raises(ValueError, match="not finite"):
        spike_phases([[1.0, np.nan]], t_stop=5.0)


def test_spike_phases_of_a_dataset_roundtrip_netcdf(small_run, tmp_path):
    ph = spike_phases(small_run, dt_ms=1.0)
    assert ph.sizes == {"time": 100, "neuron": 100}
    assert set(np.unique(ph.population.values)) == {"exc", "inh"}
    path = tmp_path / "ph.nc"
    ph.to_netcdf(path)
    xr.testing.assert_identical(xr.open_dataarray(path).load(), ph)


def test_phase_at_spikes_peaks_and_troughs():
    t = np.arange(1, 2001) * 1.0
    lfp = np.cos(2 * np.pi * 10.0 * t / 1000.0)  # peaks at multiples of 100 ms
    ph = phase_at_spikes([[500.0, 1000.0], [550.0, 1050.0]], lfp, dt_ms=1.0)
    # Hilbert phase of a cosine with whole cycles is exact up to rounding
    np.testing.assert_allclose(np.cos(ph.values), [1, -1, 1, -1], atol=1e-9)
    assert ph.neuron.values.tolist() == [0, 1, 0, 1]
    assert float(phase_locking_value(ph)) == pytest.approx(0.0, abs=1e-9)  # half at pi
    assert float(phase_locking_value(ph.where(ph.neuron == 0, drop=True))) == pytest.approx(1)


def test_phase_at_spikes_edge_cases():
    sig = np.sin(np.arange(100) / 5.0)
    assert phase_at_spikes([[]], sig, dt_ms=1.0).sizes["spike"] == 0
    assert phase_at_spikes([[50.0]], sig, dt_ms=1.0).sizes["spike"] == 1
    assert phase_at_spikes([[0.5, 150.0]], sig, dt_ms=1.0).sizes["spike"] == 0  # outside
    with pytest.raises(ValueError, match="NaN"):
        phase_at_spikes([[5.0]], np.r_[sig[:10], np.nan, sig[11:]], dt_ms=1.0)
    with pytest.raises(ValueError, match="one signal"):
        phase_at_spikes([[5.0]], np.ones((100, 2)), dt_ms=1.0)


# -- phase locking value -------------------------------------------------------------------
def test_plv_of_identical_phases_is_one():
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 2 * np.pi, (500, 3))
    plv = phase_locking_value(a, a)
    np.testing.assert_allclose(plv.values, 1.0, atol=1e-12)
    assert plv.attrs["units"] == "1" and plv.name == "phase_locking_value"
    assert plv.attrs["n_samples"] == 500


@pytest.mark.parametrize("kappa", [0.5, 2.0, 8.0])
def test_plv_of_von_mises_differences_is_bessel_ratio(kappa):
    n = 20_000
    rng = np.random.default_rng(int(kappa * 10))
    a = rng.uniform(0, 2 * np.pi, n)
    b = a - stats.vonmises.rvs(kappa, loc=0.7, size=n, random_state=rng)
    expected = special.iv(1, kappa) / special.iv(0, kappa)
    # SE of the mean of cos(theta - mu): sqrt(Var cos / n) with Var cos = 1 - A/kappa - A^2
    # (Mardia & Jupp 2000, sect. 3.5.4); SE <= 0.005 for n = 20000; allow 4 SE (+ the O(1/n)
    # bias of the resultant length, < 1e-4 here)
    se = np.sqrt((1 - expected / kappa - expected ** 2) / n)
    assert float(phase_locking_value(a, b)) == pytest.approx(expected, abs=4 * se + 1e-4)


def test_plv_of_independent_uniform_phases_is_small():
    rng = np.random.default_rng(3)
    plv = phase_locking_value(rng.uniform(0, 2 * np.pi, (4000, 50)))
    # E[PLV] = sqrt(pi / (4 n)) = 0.014 for n = 4000 (Rayleigh)
    assert float(plv.mean()) == pytest.approx(np.sqrt(np.pi / 4 / 4000), rel=0.2)


def test_plv_of_signals_uses_hilbert_phase():
    t = np.arange(1, 1001) * 1.0
    a = np.sin(2 * np.pi * 20 * t / 1000)
    b = 3.0 * np.sin(2 * np.pi * 20 * t / 1000 - 1.0) + 2.0  # lagged, scaled, offset
    # whole cycles: the Hilbert phase of a pure sinusoid is exact up to rounding
    assert float(phase_locking_value(a, b, kind="signal")) == pytest.approx(1.0, abs=1e-9)
    noise = np.random.default_rng(1).normal(size=(t.size, 2))
    assert float(phase_locking_value(noise[:, 0], noise[:, 1], kind="signal")) < 0.2
    da = xr.DataArray(a, dims="time", coords={"time": t})
    assert float(phase_locking_value(da, da, kind="signal")) == pytest.approx(1.0)


def test_plv_dataarrays_reduce_time_and_keep_other_dims():
    phases = spike_phases([np.arange(5.0, 100, 10), np.arange(5.0, 100, 10) + 2.5],
                          t_stop=100.0)
    ref = phases.isel(neuron=0)
    plv = phase_locking_value(phases, ref, nan_policy="omit")
    assert plv.dims == ("neuron",)
    np.testing.assert_allclose(plv.values, [1.0, 1.0])  # constant lags
    # an array next to a DataArray takes its dimensions by position (no outer product)
    mixed = phase_locking_value(phases.fillna(0.0), phases.fillna(0.0).values + 1.0)
    assert mixed.dims == ("neuron",) and mixed.neuron.values.tolist() == [0, 1]
    np.testing.assert_allclose(mixed.values, 1.0)
    with pytest.raises(ValueError, match="axes"):
        phase_locking_value(phases, np.zeros(3))


def test_plv_bad_input():
    with pytest.raises(ValueError, match="no phases"):
        phase_locking_value(np.zeros(0))
    with pytest.raises(ValueError, match="NaN"):
        phase_locking_value([0.0, np.nan])
    assert float(phase_locking_value([0.0, np.nan, 0.0], nan_policy="omit")) == 1.0
    with pytest.raises(ValueError, match="NaN"):
        phase_locking_value(np.r_[np.zeros(9), np.nan], kind="signal")
    with pytest.raises(ValueError, match="kind"):
        phase_locking_value([0.0], kind="spikes")
    with pytest.raises(ValueError, match="nan_policy"):
        phase_locking_value([0.0], nan_policy="ignore")
    with pytest.raises(ValueError, match="broadcast|shapes"):
        phase_locking_value(np.zeros(5), np.zeros(6))
    with pytest.raises(ValueError, match="dim"):
        phase_locking_value(np.zeros(5), dim="time")
    with pytest.raises(ValueError, match="at least two samples"):
        phase_locking_value([1.0], kind="signal")
    with pytest.raises(TypeError):
        phase_locking_value(xr.Dataset())


# -- Kuramoto ------------------------------------------------------------------------------
def test_kuramoto_identical_periodic_trains_give_one():
    trains = [np.arange(7.0, 500.0, 12.5)] * 10
    r = kuramoto_order(trains, t_stop=500.0, dt_ms=0.5)
    defined = r.dropna("time")
    np.testing.assert_allclose(defined.values, 1.0, atol=1e-12)
    assert r.attrs["mean"] == pytest.approx(1.0) and r.attrs["units"] == "1"
    assert int(r.n_defined.max()) == 10


@pytest.mark.parametrize("lags, expected", [
    ((0.0, 0.25), np.abs(1 + 1j) / 2),                 # quarter period: |1 + i| / 2
    ((0.0, 1 / 3, 2 / 3), 0.0),                        # three-phase splay state
    ((0.0, 0.0, 0.5), 1 / 3),                          # two in phase, one in antiphase
])
def test_kuramoto_constant_phase_lags_match_closed_form(lags, expected):
    period = 20.0
    trains = [np.arange(0.0, 1000.0, period) + period * (1 + lag) for lag in lags]
    r = kuramoto_order(trains, t_stop=1000.0, dt_ms=1.0).dropna("time")
    r = r.where(r.n_defined == len(lags), drop=True)
    np.testing.assert_allclose(r.values, expected, atol=1e-9)


def test_kuramoto_independent_poisson_scales_as_one_over_sqrt_n():
    n = 200
    r = kuramoto_order(poisson_trains(n, 20.0, 2000.0, seed=5), t_stop=2000.0, dt_ms=1.0)
    r = r.where(r.n_defined >= 0.9 * n, drop=True)
    # R sqrt(N) -> Rayleigh with mean sqrt(pi)/2 = 0.886, SD 0.46; R decorrelates over about
    # one ISI (50 ms), so ~35 independent values in 1.8 s: SE ~ 0.08; allow 0.2 (2.5 SE)
    scaled = float((r * np.sqrt(r.n_defined)).mean())
    assert scaled == pytest.approx(np.sqrt(np.pi) / 2, abs=0.2)
    assert float(r.mean()) < 0.15


def test_kuramoto_from_phases_and_signals():
    t = np.arange(1, 1001) * 1.0
    phases = np.stack([2 * np.pi * 10 * t / 1000 + k * 0.0 for k in range(4)], axis=1)
    r = kuramoto_order(np.mod(phases, 2 * np.pi), kind="phase", dt_ms=1.0)
    np.testing.assert_allclose(r.values, 1.0)
    da = xr.DataArray(np.mod(phases, 2 * np.pi), dims=("time", "neuron"),
                      coords={"time": t}, attrs={"units": "rad"})
    np.testing.assert_allclose(kuramoto_order(da).values, 1.0)  # kind from units
    sig = np.cos(phases + np.array([0.0, np.pi / 2, np.pi, 3 * np.pi / 2]))
    rs = kuramoto_order(sig, kind="signal", dt_ms=1.0)
    assert float(rs.isel(time=slice(100, -100)).max()) < 1e-6  # splay state: R = 0


def test_kuramoto_bad_input(small_run):
    with pytest.raises(ValueError, match="defined phase"):
        kuramoto_order([[], []], t_stop=10.0)                 # no spikes
    with pytest.raises(ValueError, match="defined phase"):
        kuramoto_order([[1.0], [2.0]], t_stop=10.0)           # one spike each
    with pytest.raises(ValueError, match="kind"):
        kuramoto_order(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="NaN"):
        kuramoto_order(np.r_[np.zeros((5, 2)), np.full((1, 2), np.nan)], kind="signal",
                       dt_ms=1.0)
    with pytest.raises(ValueError, match="min_neurons"):
        kuramoto_order([[1.0, 2.0]], t_stop=5.0, min_neurons=0)
    with pytest.raises(ValueError, match="after the end"):
        kuramoto_order(small_run, t_stop=101.0)
    with pytest.raises(ValueError, match="kind"):
        kuramoto_order([[1.0, 2.0]], kind="rates", t_stop=5.0)


def test_kuramoto_of_a_dataset_roundtrips_netcdf(small_run, tmp_path):
    r = kuramoto_order(small_run)
    assert 0 < r.attrs["mean"] < 1
    path = tmp_path / "r.nc"
    r.to_netcdf(path)
    xr.testing.assert_identical(xr.open_dataarray(path).load(), r)


# -- STTC ------------------------------------------------------------------------------------
ELEPHANT_A = [1.3, 7.56, 15.87, 28.23, 30.9, 34.2, 38.2, 43.2]
ELEPHANT_B = [1.02, 2.71, 18.82, 28.46, 28.79, 43.6]


def test_sttc_matches_elephant_hand_checked_values():
    # Elephant test_sttc_different_units_dt: "target obtained with pencil and paper"
    assert float(sttc(ELEPHANT_A, ELEPHANT_B, 5.0, t_stop=50.0)) == pytest.approx(
        0.495860165593, abs=1e-10)
    # test_sttc_one_spike and test_sttc_high_value_dt
    assert float(sttc([1.0], [5.0], 5.0, t_stop=10.0)) == 1.0
    assert float(sttc([1.0], [5.0], 0.1, t_stop=10.0)) < 0
    assert float(sttc(ELEPHANT_A, ELEPHANT_B, 5000.0, t_stop=50.0)) == 1.0
    # test_sttc_edge_cases: T_A = P_B = 1 but T_B, P_A != 1 (0/0 half-term counts as 1)
    assert float(sttc([1.0, 5.0, 9.0], [5.0], 3.0, t_stop=10.0)) == pytest.approx(1 / 3)
    assert float(sttc([5.0], [1.0, 5.0, 9.0], 3.0, t_stop=10.0)) == pytest.approx(1 / 3)


def test_sttc_by_hand():
    # a = [10], b = [12], window (0, 100], dt 5: T_A = T_B = 0.1, P_A = P_B = 1
    # STTC = (1 - 0.1) / (1 - 0.1) = 1; with b = [20]: P = 0 -> (0 - 0.1) / 1 = -0.1
    assert float(sttc([10.0], [12.0], 5.0, t_stop=100.0)) == pytest.approx(1.0)
    assert float(sttc([10.0], [20.0], 5.0, t_stop=100.0)) == pytest.approx(-0.1)
    # tiles clipped at the window: a spike at 2 ms tiles (0, 7] -> T = 0.07
    assert float(sttc([2.0], [30.0], 5.0, t_stop=100.0)) == pytest.approx(-0.085)


def test_sttc_properties_identical_symmetric_independent():
    trains = poisson_trains(12, 10.0, 10_000.0, seed=7)
    assert float(sttc(trains[0], trains[0], 5.0, t_stop=10_000.0)) == 1.0
    ab = float(sttc(trains[0], trains[1], 5.0, t_stop=10_000.0))
    ba = float(sttc(trains[1], trains[0], 5.0, t_stop=10_000.0))
    assert ab == ba
    m = sttc_matrix(trains, 5.0, t_stop=10_000.0)
    off = m.values[~np.eye(12, dtype=bool)]
    # independent 10 Hz trains, 10 s, dt 5 ms: T ~ 0.095, P_A ~ Binomial(100, T)/100, SD of
    # one STTC ~ 0.03 (Cutts & Eglen 2014: STTC ~ 0 for independent trains); 66 pairs: mean
    # within 0.015 (~4 SE of the mean, pairs sharing a train are correlated), each within 0.15
    assert abs(off.mean()) < 0.015 and np.abs(off).max() < 0.15
    np.testing.assert_allclose(m.values, m.values.T)
    np.testing.assert_allclose(np.diag(m.values), 1.0)
    assert float(m.isel(neuron_a=0, neuron_b=1)) == pytest.approx(ab, abs=1e-14)


def test_sttc_bad_input():
    with pytest.raises(ValueError, match="without spikes"):
        sttc([], [1.0], 5.0, t_stop=10.0)
    with pytest.raises(ValueError, match="dt_ms"):
        sttc([1.0], [1.0], 0.0, t_stop=10.0)
    with pytest.raises(ValueError, match="dt_ms"):
        sttc([1.0], [1.0], -1.0, t_stop=10.0)
    with pytest.raises(ValueError, match="t_stop"):
        sttc([1.0], [1.0], 5.0)
    with pytest.raises(ValueError, match="not finite"):
        sttc([np.nan], [1.0], 5.0, t_stop=10.0)
    with pytest.raises(ValueError, match="after t_start"):
        sttc([1.0], [1.0], 5.0, t_start=10.0, t_stop=5.0)
    with pytest.raises(TypeError, match="sttc_matrix"):
        sttc(xr.Dataset(), [1.0], 5.0, t_stop=10.0)


def test_sttc_matrix_of_a_dataset(small_run, tmp_path):
    m = sttc_matrix(small_run, 5.0, neurons=np.arange(20))
    assert m.dims == ("neuron_a", "neuron_b") and m.shape == (20, 20)
    st = [small_run.spike_time.values[small_run.spike_neuron.values == i] for i in range(20)]
    silent = [len(s) == 0 for s in st]
    assert m.attrs["n_silent"] == sum(silent)
    i, j = [k for k in range(20) if not silent[k]][:2]
    assert float(m.isel(neuron_a=i, neuron_b=j)) == pytest.approx(
        float(sttc(st[i], st[j], 5.0, t_stop=100.0)), abs=1e-14)
    if any(silent):
        assert np.isnan(m.values[silent.index(True)]).all()
    path = tmp_path / "m.nc"
    m.to_netcdf(path)
    xr.testing.assert_identical(xr.open_dataarray(path).load(), m)
    with pytest.raises(ValueError, match="after the end"):
        sttc_matrix(small_run, 5.0, t_stop=500.0)
    with pytest.raises(ValueError, match="unknown neuron"):
        sttc_matrix(small_run, 5.0, neurons=[1000])


def test_sttc_matrix_edge_cases():
    empty = sttc_matrix([[], []], 5.0, t_stop=10.0)       # no spikes: all undefined
    assert empty.shape == (2, 2) and bool(empty.isnull().all())
    one = sttc_matrix([[1.0], [5.0]], 5.0, t_stop=10.0)   # Elephant's one-spike case
    np.testing.assert_allclose(one.values, 1.0)
    with pytest.raises(ValueError, match="not finite"):
        sttc_matrix([[1.0], [np.nan]], 5.0, t_stop=10.0)
    with pytest.raises(ValueError, match="dt_ms"):
        sttc_matrix([[1.0], [2.0]], np.inf, t_stop=10.0)
