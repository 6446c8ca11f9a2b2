"""Oscillations (seed ``OscDet``): Welch spectra, band powers, surrogate peak detection.

Reference values: the power (variance) of A sin(2 pi f t) is A**2 / 2, and a density
spectrum integrates to the variance (Parseval); Welch (1967); the p-value convention
(1 + #{null >= observed}) / (1 + n) of North et al. (2002, Am J Hum Genet 71:439).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurosim_nb.analysis.oscillations import (
    BANDS,
    band_power,
    detect_oscillations,
    power_spectrum,
)

T_MS = np.arange(1, 2001) * 1.0  # 2 s at 1 ms (fs = 1 kHz)


def sine(f_hz, amp=1.0, t=T_MS):
    return amp * np.sin(2 * np.pi * f_hz * t / 1000.0)


def modulated_poisson(n, rate_hz, depth, f_hz, t_stop, rng):
    """Inhomogeneous Poisson trains, rate r (1 + depth sin 2 pi f t), by thinning."""
    rmax = rate_hz * (1 + depth)
    trains = []
    for _ in range(n):
        t = np.sort(rng.uniform(0, t_stop, rng.poisson(rmax * t_stop / 1000.0)))
        keep = rng.uniform(0, rmax, t.size) < rate_hz * (1 + depth * np.sin(
            2 * np.pi * f_hz * t / 1000.0))
        trains.append(t[keep])
    return trains


@pytest.fixture(scope="module")
def small_run():
    from neurosim_nb.core.networks.benchmarks_models import coba_network

    return coba_network(100, seed=1).simulate(200.0, record=("V",), seed=1)


# -- power_spectrum ----------------------------------------------------------------------------
def test_spectrum_integrates_to_the_variance():
    x = np.random.default_rng(0).normal(0, 2.0, 4000)
    s = power_spectrum(x, dt_ms=1.0, segment_ms=4000.0)
    df = s.attrs["frequency_resolution"]
    # one segment (no averaging): Parseval holds up to the Hann weighting of a stationary
    # signal; for white noise of 4000 samples the weighted mean of x^2 is within ~5 % of
    # the variance (SD of the Hann-weighted mean of x^2/sigma^2 = sqrt(2 * 1.94 / 4000))
    assert float(s.sum()) * df == pytest.approx(x.var(), rel=0.1)
    assert s.attrs["units"] == "1/Hz" and s.frequency.attrs["units"] == "Hz"
    assert df == pytest.approx(0.25) and float(s.frequency[-1]) == 500.0


def test_spectrum_peak_and_units_of_a_dataarray():
    da = xr.DataArray(sine(40.0, 3.0), dims="time", coords={"time": T_MS},
                      attrs={"units": "mV"})
    s = power_spectrum(da, segment_ms=500.0)
    assert float(s.frequency[np.argmax(s.values)]) == 40.0
    assert s.attrs["units"] == "mV^2/Hz" and s.attrs["n_segments"] == 7


def test_spectrum_of_a_dataset_default_is_the_population_rate(small_run, tmp_path):
    s = power_spectrum(small_run, bin_ms=1.0, segment_ms=100.0)
    assert s.attrs["units"] == "Hz^2/Hz" and s.attrs["signal_units"] == "Hz"
    assert float(s.frequency[-1]) == 500.0
    v = power_spectrum(small_run, variable="V", segment_ms=50.0)
    assert v.dims == ("frequency", "neuron") and v.attrs["units"] == "mV^2/Hz"
    path = tmp_path / "s.nc"
    s.to_netcdf(path)
    xr.testing.assert_identical(xr.open_dataarray(path).load(), s)


def test_spectrum_edge_cases(small_run):
    zero = power_spectrum([[], []], t_stop=1000.0)          # no spikes: a zero spectrum
    assert float(np.abs(zero).max()) == 0.0
    one = power_spectrum([[500.0]], t_stop=1000.0)          # a single spike: finite, >= 0
    assert np.all(np.isfinite(one.values)) and float(one.min()) >= 0
    with pytest.raises(ValueError, match="NaN"):
        power_spectrum(np.r_[np.zeros(50), np.nan], dt_ms=1.0)
    with pytest.raises(ValueError, match="longer than the recording"):
        power_spectrum(sine(10.0), dt_ms=1.0, segment_ms=5000.0)
    with pytest.raises(ValueError, match="fewer than 4 samples"):
        power_spectrum(sine(10.0), dt_ms=1.0, segment_ms=2.0)
    with pytest.raises(ValueError, match="dt"):
        power_spectrum(sine(10.0))
    with pytest.raises(ValueError, match="bin_ms"):
        power_spectrum(small_run, bin_ms=0.0)
    with pytest.raises(ValueError, match="fewer than two bins"):
        power_spectrum(small_run, bin_ms=150.0)
    with pytest.raises(ValueError, match="after the end"):
        power_spectrum(small_run, t_stop=300.0)
    with pytest.raises(ValueError, match="runs past"):
        power_spectrum(sine(10.0), dt_ms=1.0, t_stop=3000.0)
    with pytest.raises(ValueError, match="no variable"):
        power_spectrum(small_run, variable="w")
    with pytest.raises(ValueError, match="kind"):
        power_spectrum(sine(10.0), dt_ms=1.0, kind="rate")


# -- band_power ----------------------------------------------------------------------------------
@pytest.mark.parametrize("f_hz, band", [(2.0, "delta"), (6.0, "theta"), (10.0, "alpha"),
                                        (20.0, "beta"), (40.0, "gamma"), (77.0, "gamma")])
def test_sinusoid_power_goes_to_its_band(f_hz, band):
    amp = 1.7
    bp = band_power(sine(f_hz, amp), dt_ms=1.0, segment_ms=1000.0)
    # whole cycles per 1 s segment (1 Hz resolution) and the periodic Hann window: the
    # power sits in bins f - 1 .. f + 1, all inside the band, and the Hann-weighted mean of
    # sin^2 is exactly 1/2, so the band power is A^2/2 up to rounding
    assert float(bp.band_power.sel(band=band)) == pytest.approx(amp ** 2 / 2, rel=1e-9)
    assert float(bp.relative_power.sel(band=band)) == pytest.approx(1.0, rel=1e-9)
    others = bp.band_power.where(bp.band != band, drop=True)
    assert float(others.max()) < 1e-12 * amp ** 2
    assert bp.band_power.attrs["units"] == "1" and bp.relative_power.attrs["units"] == "1"


def test_off_bin_sinusoid_within_leakage_tolerance():
    # 10.3 Hz is off the 1 Hz grid: the Hann main lobe (+-2 bins) stays inside alpha (8-13);
    # the first side lobe is -31 dB, so < 0.1 % leaks out, and the Hann-weighted mean of
    # sin^2 over 1 s deviates from 1/2 by < 0.5 %: 1 % tolerance
    bp = band_power(sine(10.3, 2.0), dt_ms=1.0, segment_ms=1000.0)
    assert float(bp.band_power.sel(band="alpha")) == pytest.approx(2.0, rel=0.01)


def test_band_power_custom_bands_and_given_spectrum(tmp_path):
    x = sine(6.0, 1.0) + sine(40.0, 2.0)
    spec = power_spectrum(x, dt_ms=1.0, segment_ms=1000.0)
    bp = band_power(spec, {"slow": (3, 9), "fast": (35, 45)})
    np.testing.assert_allclose(bp.band_power.values, [0.5, 2.0], rtol=1e-9)
    np.testing.assert_allclose(bp.relative_power.values, [0.2, 0.8], rtol=1e-9)
    assert bp.f_low.values.tolist() == [3.0, 35.0] and bp.band.values.tolist() == ["slow", "fast"]
    path = tmp_path / "bp.nc"
    bp.to_netcdf(path)
    xr.testing.assert_identical(xr.open_dataset(path).load(), bp)
    assert list(BANDS) == ["delta", "theta", "alpha", "beta", "gamma"]


def test_band_power_edge_cases():
    zero = band_power([[]], t_stop=2000.0)  # no spikes: zero power, relative power undefined
    assert float(zero.band_power.max()) == 0.0 and bool(zero.relative_power.isnull().all())
    one = band_power([[1000.0]], t_stop=2000.0)
    assert float(one.band_power.sum()) > 0
    with pytest.raises(ValueError, match="low < high"):
        band_power(sine(6.0), {"bad": (8, 4)}, dt_ms=1.0)
    with pytest.raises(ValueError, match="low < high"):
        band_power(sine(6.0), {"bad": (-1, 4)}, dt_ms=1.0)
    with pytest.raises(ValueError, match="two numbers"):
        band_power(sine(6.0), {"bad": "theta"}, dt_ms=1.0)
    with pytest.raises(ValueError, match="no frequency bin"):
        band_power(sine(6.0), {"narrow": (4.1, 4.2)}, dt_ms=1.0)
    with pytest.raises(ValueError, match="no frequency bin"):
        band_power(sine(6.0), {"high": (600, 700)}, dt_ms=1.0)
    with pytest.raises(TypeError, match="bands"):
        band_power(sine(6.0), {}, dt_ms=1.0)
    with pytest.raises(TypeError, match="not to a given"):
        band_power(power_spectrum(sine(6.0), dt_ms=1.0), dt_ms=1.0)
    with pytest.raises(ValueError, match="NaN"):
        band_power(np.r_[sine(6.0)[:-1], np.nan], dt_ms=1.0)
    with pytest.raises(ValueError, match="longer than the recording"):
        band_power(sine(6.0), dt_ms=1.0, segment_ms=3000.0)


# -- detect_oscillations --------------------------------------------------------------------------
def test_detects_40_hz_rhythm_in_modulated_poisson_spikes(tmp_path):
    trains = modulated_poisson(100, 10.0, 0.5, 40.0, 2000.0, np.random.default_rng(2))
    res = detect_oscillations(trains, t_stop=2000.0, n_surrogates=99, seed=3)
    # rate modulation of 5 Hz amplitude: 12.5 Hz^2 in ~3 bins of 2 Hz, about 8x the largest
    # surrogate (Poisson) value, so p is the smallest possible, 1/100
    assert float(res.peak_frequency) == 40.0
    assert float(res.p_value) < 0.05 and int(res.significant) == 1
    assert float(res.peak_power) > float(res.threshold)
    assert res.peak_power.attrs["units"] == "Hz^2/Hz" and res.p_value.attrs["units"] == "1"
    assert res.attrs["surrogate"] == "ISI shuffle"
    path = tmp_path / "osc.nc"
    res.to_netcdf(path)
    xr.testing.assert_identical(xr.open_dataset(path).load(), res)
    again = detect_oscillations(trains, t_stop=2000.0, n_surrogates=99, seed=3)
    xr.testing.assert_identical(again, res)  # deterministic under a seed


def test_homogeneous_poisson_is_not_significant():
    p = []
    for k in range(20):
        trains = modulated_poisson(50, 10.0, 0.0, 40.0, 1000.0, np.random.default_rng(100 + k))
        p.append(float(detect_oscillations(trains, t_stop=1000.0, n_surrogates=49,
                                           seed=k).p_value))
    p = np.array(p)
    # under the null p is ~uniform: P(p < 0.05) ~ 0.05 per run; for 20 runs
    # P(#significant >= 5) = 0.016 (binomial), and the median p is near 0.5
    assert np.count_nonzero(p < 0.05) <= 4
    assert 0.2 < np.median(p) < 0.8


def test_detects_a_sinusoid_in_noise_but_not_white_noise():
    rng = np.random.default_rng(4)
    noisy = sine(25.0, 1.0) + rng.normal(0, 1.0, T_MS.size)
    res = detect_oscillations(noisy, dt_ms=1.0, n_surrogates=99, seed=0)
    # 25 Hz lies between the 24 and 26 Hz bins of the default 500 ms segments (2 Hz grid)
    assert abs(float(res.peak_frequency) - 25.0) <= 1.0
    assert float(res.p_value) == pytest.approx(0.01)
    assert res.attrs["surrogate"] == "time shuffle"
    white = detect_oscillations(rng.normal(size=T_MS.size), dt_ms=1.0, n_surrogates=99,
                                seed=0)
    assert float(white.p_value) > 0.05


def test_detect_oscillations_of_a_dataset(small_run):
    res = detect_oscillations(small_run, n_surrogates=19, seed=0, segment_ms=100.0,
                              f_min=10.0, f_max=200.0)
    # the peak is the largest value of the Dataset's own spectrum in the searched band
    psd = power_spectrum(small_run, segment_ms=100.0)
    band = psd.sel(frequency=slice(10.0, 200.0))
    assert float(res.peak_frequency) == float(band.frequency[int(np.argmax(band.values))])
    assert float(res.peak_power) == pytest.approx(float(band.max()), rel=1e-12)
    # p = (1 + #surrogates at least as large) / (1 + 19): a multiple of 1/20, and the
    # significance flag follows it
    k = float(res.p_value) * 20
    assert k == pytest.approx(round(k), abs=1e-9) and 1 <= round(k) <= 20
    assert int(res.significant) == int(float(res.p_value) < res.attrs["alpha"])  # documented
    # the Dataset is only a way to pass its spike trains: the array path gives the same
    trains = [small_run.spike_time.values[small_run.spike_neuron.values == i]
              for i in range(small_run.sizes["neuron"])]
    same = detect_oscillations(trains, t_stop=200.0, n_surrogates=19, seed=0,
                               segment_ms=100.0, f_min=10.0, f_max=200.0)
    xr.testing.assert_identical(same, res)


def test_detect_oscillations_edge_cases(small_run):
    with pytest.raises(ValueError, match="no spikes"):
        detect_oscillations([[], []], t_stop=1000.0)
    one = detect_oscillations([[500.0]], t_stop=1000.0, n_surrogates=19, seed=0)
    assert 0 < float(one.p_value) <= 1
    with pytest.raises(ValueError, match="constant"):
        detect_oscillations(np.ones(1000), dt_ms=1.0)
    with pytest.raises(ValueError, match="NaN"):
        detect_oscillations(np.r_[sine(5.0)[:-1], np.nan], dt_ms=1.0)
    with pytest.raises(ValueError, match="one signal"):
        detect_oscillations(np.ones((100, 2)), dt_ms=1.0)
    with pytest.raises(ValueError, match="Nyquist"):
        detect_oscillations(sine(5.0), dt_ms=5.0, f_max=150.0)
    with pytest.raises(ValueError, match="f_min < f_max"):
        detect_oscillations(sine(5.0), dt_ms=1.0, f_min=50.0, f_max=10.0)
    with pytest.raises(ValueError, match="no frequency bin"):
        detect_oscillations(sine(5.0), dt_ms=1.0, f_min=10.1, f_max=10.2)
    with pytest.raises(ValueError, match="n_surrogates"):
        detect_oscillations(sine(5.0), dt_ms=1.0, n_surrogates=0)
    with pytest.raises(ValueError, match="alpha"):
        detect_oscillations(sine(5.0), dt_ms=1.0, alpha=1.5)
    with pytest.raises(ValueError, match="longer than the recording"):
        detect_oscillations(small_run, segment_ms=500.0)
