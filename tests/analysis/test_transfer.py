"""f-I curves (transfer_function) and the Siegert rate against independent references.

References used here:
* the LIF closed form f = 1 / (t_ref + tau_m ln((V_inf - V_reset) / (V_inf - V_th)))
  (Gerstner et al., *Neuronal Dynamics*, ch. 1.3), ``lif_rate_closed_form``;
* the Hodgkin & Huxley (1952) squid axon at 6.3 degC: repetitive firing starts abruptly
  (class/type II excitability, a subcritical Hopf with a fold of limit cycles) near
  I = 6.3 uA/cm2 at a frequency of about 50-60 Hz and not below (Rinzel & Miller 1980,
  *Math Biosci* 49:27; Izhikevich 2007, *Dynamical Systems in Neuroscience*, ch. 7 /
  Fig. 1.13 "class 2"; Gerstner et al., *Neuronal Dynamics*, Fig. 2.5: gain function with
  a jump to ~50 Hz at ~6 uA/cm2);
* the Siegert / Brunel (2000, *J Comput Neurosci* 8:183, eq. 21) rate against a noisy LIF
  integrated here with numpy (exact Ornstein-Uhlenbeck step + Brownian-bridge threshold
  crossing), independent of the library's engine.
"""

import numpy as np
import pytest
import xarray as xr

import neurosim_nb.engine.simulator as simulator
from neurosim_nb import (
    HodgkinHuxleyNeuron,
    IzhikevichNeuron,
    LIFNeuron,
    LIFParameters,
)
from neurosim_nb.analysis.transfer import siegert_rate, transfer_function
from neurosim_nb.core.neurons.lif import lif_rate_closed_form

LIF = LIFParameters(tau_m=20.0, V_rest=-70.0, V_threshold=-50.0, V_reset=-60.0,
                    t_refractory=2.0, R_m=100.0)  # rheobase (V_th - V_rest) / R_m = 0.2 nA


def test_lif_f_i_curve_matches_the_closed_form():
    currents = np.linspace(0.21, 1.0, 12)
    dt, duration, transient = 0.01, 2000.0, 100.0
    f = transfer_function(LIF, currents, duration_ms=duration, dt=dt, transient_ms=transient)
    ref = lif_rate_closed_form(LIF, currents)
    # The kernel integrates the membrane exactly; a spike is detected at the end of the
    # step in which V crosses threshold, so each ISI is lengthened by < 1 step (dt = 0.01
    # ms, ISIs >= 8 ms here: < 0.13 % relative), and counting in a 1.9 s window is exact
    # to +-1 spike (0.53 Hz). Tolerance: one count plus 0.2 % of the rate.
    resolution = 1000.0 / (duration - transient)
    np.testing.assert_allclose(f.values, ref, rtol=2e-3, atol=resolution)
    assert f.name == "rate" and f.attrs["units"] == "Hz"
    assert f.current.attrs["units"] == "nA"
    assert f.spike_count.values.sum() > 0


def test_lif_rheobase_is_where_the_closed_form_says():
    rheobase = (LIF.V_threshold - LIF.V_rest) / LIF.R_m  # 0.2 nA
    currents = rheobase + np.array([-0.01, -0.001, 0.001, 0.01])
    f = transfer_function(LIF, currents, duration_ms=3000.0, dt=0.1, transient_ms=0.0)
    # just below rheobase V only approaches threshold: silent. Just above, the closed form
    # gives 2.9 Hz at +1 pA (log divergence of the ISI) and 17.6 Hz at +10 pA.
    assert f.values[0] == 0 and f.values[1] == 0
    assert f.values[2] > 0 and f.values[3] > f.values[2]
    np.testing.assert_allclose(f.values[2:], lif_rate_closed_form(LIF, currents[2:]),
                               rtol=0.05, atol=0.34)  # +-1 count in 3 s; ISI quantised to dt


def test_one_population_run_for_the_whole_curve(monkeypatch):
    calls = []
    original = simulator.simulate

    def counting(pop, *args, **kwargs):
        calls.append(pop.n)
        return original(pop, *args, **kwargs)

    monkeypatch.setattr(simulator, "simulate", counting)
    currents = np.linspace(0.0, 1.0, 7)
    f = transfer_function(LIFNeuron.create_excitatory(), currents, duration_ms=200.0)
    assert calls == [7]  # one simulate call, one neuron per current value
    assert f.sizes["current"] == 7
    np.testing.assert_array_equal(f.current, currents)


def test_model_spellings_agree_and_the_population_is_untouched():
    pop = LIFNeuron(LIF)
    v0 = pop.V
    currents = [0.3, 0.5]
    a = transfer_function(pop, currents, duration_ms=300.0)
    b = transfer_function(LIF, currents, duration_ms=300.0)
    c = transfer_function(LIFNeuron, currents, duration_ms=300.0)
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())
    assert pop.V == v0 and pop.t_ms == 0.0
    assert c.attrs["model"] == "LIFNeuron"


def test_izhikevich_f_i_curve_is_monotone_above_rheobase():
    currents = np.linspace(0.0, 20.0, 21)  # mV/ms, Izhikevich (2003)'s current units
    duration, transient = 2000.0, 200.0
    for preset in ("RS", "FS"):
        pop = IzhikevichNeuron.from_preset(preset)
        f = transfer_function(pop, currents, duration_ms=duration, dt=0.1,
                              transient_ms=transient)
        assert f.current.attrs["units"] == "mV/ms"
        r = f.values
        on = np.flatnonzero(r > 0)
        assert on.size > 5, preset
        # non-decreasing above rheobase, up to the +-1 spike resolution of the count
        assert np.all(np.diff(r[on[0]:]) >= -1000.0 / (duration - transient)), (preset, r)
        assert r[-1] > r[on[0]]


def test_hodgkin_huxley_squid_axon_is_type_ii():
    pop = HodgkinHuxleyNeuron.create_squid_axon()
    density = np.arange(5.0, 12.01, 0.25)  # uA/cm2
    duration, transient = 1000.0, 200.0
    f = transfer_function(pop, pop.density_to_current(density), duration_ms=duration,
                          dt=0.01, transient_ms=transient)
    r = f.values
    tonic = r > 20.0
    onset = density[np.argmax(tonic)]
    # published onset of repetitive firing ~6.26-6.3 uA/cm2 (Rinzel & Miller 1980): on the
    # 0.25 uA/cm2 grid the first tonic value must be 6.25 or 6.5
    assert 6.0 < onset <= 6.5, r
    assert np.all(tonic[density >= onset])
    # type II: the rate jumps from 0 to ~50-60 Hz; no arbitrarily low rates exist
    assert 45.0 <= r[tonic][0] <= 70.0, r
    assert np.all((r == 0) | (r > 40.0) | (density < onset + 0.01)), r
    # monotone non-decreasing above onset up to one count (1.25 Hz)
    assert np.all(np.diff(r[tonic]) >= -1000.0 / (duration - transient))


def test_transfer_function_bad_input():
    with pytest.raises(ValueError, match="non-empty"):
        transfer_function(LIF, [])
    with pytest.raises(ValueError, match="finite"):
        transfer_function(LIF, [0.1, np.nan])
    with pytest.raises(ValueError, match="transient_ms"):
        transfer_function(LIF, [0.1], duration_ms=100.0, transient_ms=100.0)
    with pytest.raises(ValueError, match="transient_ms"):
        transfer_function(LIF, [0.1], transient_ms=-1.0)
    with pytest.raises(ValueError, match="duration_ms"):
        transfer_function(LIF, [0.1], duration_ms=0.0)
    with pytest.raises(TypeError, match="model"):
        transfer_function("LIF", [0.1])
    with pytest.raises(ValueError, match="per-neuron"):
        transfer_function(LIFNeuron(LIF.replace(tau_m=np.array([10.0, 20.0])), n=2), [0.3])


def test_transfer_function_single_current_and_silence_round_trip(tmp_path):
    f = transfer_function(LIF, [0.0], duration_ms=100.0, transient_ms=0.0)  # no spikes
    assert f.values.tolist() == [0.0]
    path = tmp_path / "f.nc"
    f.to_netcdf(path)
    with xr.open_dataarray(path) as back:
        xr.testing.assert_identical(back.load(), f)


# -- Siegert -------------------------------------------------------------------------------
def noisy_lif_rate(mu, sigma, tau=20.0, v_th=-50.0, v_r=-60.0, t_ref=2.0, n=2000,
                   t_ms=550.0, t0=50.0, dt=0.05, seed=0):
    """Rate (Hz) of n independent LIFs, tau dV = (mu - V) dt + sigma sqrt(tau) dW.

    The free membrane is advanced with the exact Ornstein-Uhlenbeck transition (no Euler
    bias); a threshold crossing between two samples is drawn with the Brownian-bridge
    probability exp(-2 (th - v0)(th - v1) / (sigma^2 dt / tau)), which removes the
    O(sqrt(dt)) undercount of discrete-time threshold detection (measured: without it
    the rate is 2 % low at dt = 0.02 ms; with it, within 0.3 % at dt = 0.05 ms). The
    remaining bridge approximation (drift neglected within a step) is O(dt/tau) ~ 0.25 %.
    """
    rng = np.random.default_rng(seed)
    a = np.exp(-dt / tau)
    sd = sigma * np.sqrt((1.0 - a * a) / 2.0)  # stationary sd of the free V: sigma/sqrt(2)
    var = sigma**2 * dt / tau
    v = np.full(n, v_r)
    ref = np.zeros(n)
    count = 0
    for k in range(int(round(t_ms / dt))):
        vn = mu + (v - mu) * a + sd * rng.standard_normal(n)
        vn = np.where(ref > 1e-9, v_r, vn)
        p = np.exp(-2.0 * np.maximum(v_th - v, 0.0) * np.maximum(v_th - vn, 0.0) / var)
        fired = ((vn >= v_th) | (rng.random(n) < p)) & (ref <= 1e-9)
        ref -= dt
        vn[fired] = v_r
        ref[fired] = t_ref
        v = vn
        if k * dt >= t0:
            count += int(fired.sum())
    return count / n / ((t_ms - t0) / 1000.0)


@pytest.mark.parametrize("mu, sigma", [(-55.0, 5.0), (-45.0, 5.0)])  # sub-, supra-threshold
def test_siegert_rate_matches_a_simulated_noisy_lif(mu, sigma):
    theory = float(siegert_rate(mu, sigma, 20.0, -50.0, -60.0, 2.0))
    sim = noisy_lif_rate(mu, sigma)
    # statistical error: >= 9 Hz x 2000 neurons x 0.5 s = 9000 spikes, CV <= 1 -> ~1 %;
    # discretisation < 0.5 % (see noisy_lif_rate). 10 % is the tolerance asked for; the
    # measured agreement is ~0.3 %, so we also check 3 %.
    assert sim == pytest.approx(theory, rel=0.10)
    assert sim == pytest.approx(theory, rel=0.03)


def test_siegert_zero_noise_limit_is_the_deterministic_lif():
    tau, v_th, v_r, t_ref, r_m, v_rest = 20.0, -50.0, -60.0, 2.0, 100.0, -70.0
    p = LIFParameters(tau_m=tau, V_rest=v_rest, V_threshold=v_th, V_reset=v_r,
                      t_refractory=t_ref, R_m=r_m)
    current = np.array([0.25, 0.4, 1.0])  # nA
    mu = v_rest + r_m * current  # mean free potential, measured like V
    det = lif_rate_closed_form(p, current)
    np.testing.assert_allclose(siegert_rate(mu, 1e-3, tau, v_th, v_r, t_ref), det, rtol=1e-4)
    np.testing.assert_allclose(siegert_rate(mu, 0.0, tau, v_th, v_r, t_ref), det, rtol=1e-12)
    # below threshold and noiseless: silent; far below with little noise: 0 to double precision
    assert float(siegert_rate(-55.0, 0.0, tau, v_th, v_r, t_ref)) == 0.0
    assert float(siegert_rate(-100.0, 1.0, tau, v_th, v_r, t_ref)) == 0.0


def test_siegert_rate_is_vectorised_and_monotone():
    mu = np.linspace(-70.0, -40.0, 7)
    sigma = np.array([[2.0], [6.0]])
    r = siegert_rate(mu, sigma, 20.0, -50.0, -60.0, 2.0)
    assert r.shape == (2, 7) and r.attrs["units"] == "Hz"
    assert np.all(np.diff(r.values, axis=1) > 0)  # more drive, more rate
    assert np.all(r.values[1, :3] > r.values[0, :3])  # below threshold noise helps
    assert np.all(r.values < 1000.0 / 2.0)  # refractory ceiling


def test_siegert_bad_input():
    with pytest.raises(ValueError, match="sigma_mV"):
        siegert_rate(-55.0, -1.0, 20.0, -50.0, -60.0)
    with pytest.raises(ValueError, match="mu_mV"):
        siegert_rate(np.nan, 1.0, 20.0, -50.0, -60.0)
    with pytest.raises(ValueError, match="V_reset_mV"):
        siegert_rate(-55.0, 1.0, 20.0, -50.0, -50.0)
    with pytest.raises(ValueError, match="tau_m_ms"):
        siegert_rate(-55.0, 1.0, 0.0, -50.0, -60.0)
    with pytest.raises(ValueError, match="t_ref_ms"):
        siegert_rate(-55.0, 1.0, 20.0, -50.0, -60.0, -1.0)
    with pytest.raises(ValueError, match="empty"):
        siegert_rate([], 1.0, 20.0, -50.0, -60.0)
