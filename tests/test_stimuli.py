"""Stimuli: each waveform reaches the membrane as specified; targets; noise statistics."""

import numpy as np
import pytest
import xarray as xr

from neurosim_nb import LIFNeuron, LIFParameters
from neurosim_nb.stimuli import (
    OUNoise,
    PoissonInput,
    PulseTrain,
    RampCurrent,
    SineCurrent,
    StepCurrent,
    Waveform,
)

DT = 0.1


def recorded_current(stim, duration=100.0, n=1):
    ds = LIFNeuron(n=n).simulate(duration, stim, dt=DT, record=["I_ext"], seed=0)
    return ds, (ds.time.values - DT)  # I_ext of a step is evaluated at the step's start


def test_step_current():
    ds, t = recorded_current(StepCurrent(1.5, onset_ms=20.0, duration_ms=30.0))
    expected = np.where((t >= 20.0 - 1e-9) & (t < 50.0 - 1e-9), 1.5, 0.0)
    np.testing.assert_allclose(ds.I_ext.values[:, 0], expected)


def test_pulse_train_counts_and_widths():
    stim = PulseTrain(amplitude=2.0, onset_ms=10.0, pulse_ms=2.0, frequency_hz=50.0,
                      duration_ms=80.0)
    ds, t = recorded_current(stim)
    on = ds.I_ext.values[:, 0] > 0
    rises = np.flatnonzero(np.diff(on.astype(int)) == 1) + 1
    # 50 Hz for 80 ms from 10 ms: pulses at 10, 30, 50, 70 ms, each 2 ms = 20 steps
    np.testing.assert_allclose(t[rises], [10.0, 30.0, 50.0, 70.0], atol=1e-9)
    assert on.sum() == 4 * 20


def test_pulse_train_n_pulses():
    stim = PulseTrain(amplitude=1.0, onset_ms=0.0, pulse_ms=1.0, frequency_hz=100.0, n_pulses=3)
    ds, _ = recorded_current(stim)
    assert (ds.I_ext.values[:, 0] > 0).sum() == 3 * 10


def test_ramp_and_sine_values():
    ds, t = recorded_current(RampCurrent(start=0.0, end=2.0, onset_ms=10.0, duration_ms=50.0))
    inside = (t >= 10.0 - 1e-9) & (t < 60.0 - 1e-9)
    np.testing.assert_allclose(ds.I_ext.values[inside, 0], 2.0 * (t[inside] - 10.0) / 50.0,
                               atol=1e-12)
    assert np.all(ds.I_ext.values[~inside, 0] == 0)
    ds, t = recorded_current(SineCurrent(amplitude=1.0, frequency_hz=20.0, offset=0.5))
    np.testing.assert_allclose(ds.I_ext.values[:, 0],
                               0.5 + np.sin(2 * np.pi * 20.0 * t / 1000.0), atol=1e-12)


def test_waveform_from_array_and_dataarray():
    samples = np.array([0.0, 1.0, -1.0, 2.0])
    ds, t = recorded_current(Waveform(samples, dt_ms=5.0, onset_ms=10.0), duration=40.0)
    k = np.floor((t - 10.0) / 5.0 + 1e-9).astype(int)
    expected = np.where((k >= 0) & (k < 4), samples[np.clip(k, 0, 3)], 0.0)
    np.testing.assert_allclose(ds.I_ext.values[:, 0], expected)
    da = xr.DataArray(samples, dims="time", coords={"time": 10.0 + 5.0 * np.arange(4)})
    ds2, _ = recorded_current(Waveform(da), duration=40.0)
    np.testing.assert_array_equal(ds2.I_ext.values, ds.I_ext.values)


def test_targets_only_reach_chosen_neurons():
    ds, _ = recorded_current(StepCurrent(3.0, targets=[1, 3]), n=4)
    assert np.all(ds.I_ext.values[:, [0, 2]] == 0)
    assert np.all(ds.I_ext.values[:, [1, 3]] == 3.0)
    assert set(np.unique(ds.spike_neuron.values)) == {1, 3}


def test_per_target_amplitudes():
    ds, _ = recorded_current(StepCurrent(np.array([1.0, 2.0]), targets=[0, 2]), n=3)
    np.testing.assert_array_equal(ds.I_ext.values[-1], [1.0, 0.0, 2.0])


def test_ou_noise_stationary_statistics():
    stim = OUNoise(mean=0.5, sigma=0.2, tau_ms=5.0)
    ds = LIFNeuron(n=20).simulate(2000.0, stim, dt=DT, record=["I_ext"], seed=4)
    x = ds.I_ext.values
    # 20 neurons x 2000 ms / 5 ms = 8000 correlation times: SE of the mean ~ 0.2/sqrt(8000/2)
    # = 0.003, of the std ~ 1 %. Tolerances are ~4 standard errors.
    assert x.mean() == pytest.approx(0.5, abs=0.015)
    assert x.std() == pytest.approx(0.2, rel=0.04)
    lag = int(5.0 / DT)
    xc = x - x.mean()
    rho = np.mean(xc[lag:] * xc[:-lag]) / np.mean(xc * xc)
    assert rho == pytest.approx(np.exp(-1.0), abs=0.04)  # exact OU autocorrelation e^(-lag/tau)


def test_poisson_1khz_drive_makes_lif_fire():
    ds = LIFNeuron(LIFParameters()).simulate(1000.0, PoissonInput(rate_hz=1000.0), seed=1,
                                             record=())
    assert ds.sizes["spike"] > 5


def test_poisson_kicks_shift_mean_potential_by_campbell():
    # Campbell's theorem: mean depolarisation = rate * weight * tau_m for delta kicks.
    p = LIFParameters(V_threshold=40.0, V_reset=-60.0)  # unreachable threshold: free membrane
    stim = PoissonInput(rate_hz=500.0, weight_mV=0.5, n_sources=4)
    ds = LIFNeuron(p, n=10).simulate(3000.0, stim, seed=2, record=["V"])
    v = ds.V.sel(time=slice(200.0, None)).values
    expected = p.V_rest + 4 * 500.0 / 1000.0 * 0.5 * p.tau_m  # = -60 mV
    # fluctuation sd = w*sqrt(rate*tau/2) = 0.5*sqrt(20/2) = 1.6 mV; ~ 10 x 2800 ms / 10 ms
    # independent samples -> SE ~ 0.03 mV. Tolerance 0.15 mV (5 SE).
    assert v.mean() == pytest.approx(expected, abs=0.15)


@pytest.mark.parametrize("make, match", [
    (lambda: StepCurrent(float("nan")), "amplitude"),
    (lambda: PulseTrain(frequency_hz=0.0), "frequency_hz"),
    (lambda: PulseTrain(pulse_ms=200.0, frequency_hz=10.0), "exceeds the period"),
    (lambda: RampCurrent(duration_ms=-1.0), "duration_ms"),
    (lambda: OUNoise(tau_ms=0.0), "tau_ms"),
    (lambda: PoissonInput(rate_hz=-5.0), "rate_hz"),
    (lambda: Waveform([1.0, 2.0]), "dt_ms"),
    (lambda: Waveform([1.0, np.inf], dt_ms=1.0), "finite"),
])
def test_bad_stimuli_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_targets_out_of_range_raise():
    with pytest.raises(ValueError, match="out of range"):
        LIFNeuron(n=2).simulate(10.0, StepCurrent(1.0, targets=[5]))
