"""Published benchmark networks reproduce their published behaviour.

Reference numbers and where they come from
------------------------------------------
Vogels & Abbott (2005) and Brette et al. (2007) describe sustained asynchronous irregular
activity but give no rate/CV table for these exact benchmark variants, so the reference is
Brian2 (2.9.0) running the review's own scripts -- ``examples/CUBA.py`` and the Brian COBA
script of Brette et al. (Dec 2007) -- on this machine, analysed exactly as here (1.2 s,
window 200-1200 ms, excitatory neurons, CV over neurons with >= 5 spikes):

=====  ==========================  =================  ===========
model  Brian2 runs                 rate E (Hz)        ISI CV
=====  ==========================  =================  ===========
CUBA   3 seeds, delay 0 (script)   5.43 - 5.60        0.54
CUBA   3 seeds, delay 0.1 ms       5.50 - 5.71        0.52 - 0.53
COBA   5 seeds, delay 0 (script)   17.6 - 21.1        1.58 - 1.69
COBA   3 seeds, delay 0.1 ms       18.3 - 20.2        1.65
=====  ==========================  =================  ===========

This engine (delay 0.1 ms, NEST's value; the minimum is one step) over 10 seeds: CUBA
5.18 - 6.05 Hz, CV 0.53 - 0.55; COBA 18.2 - 21.5 Hz, CV 1.58 - 1.69. The bounds below
are about +-30 % around Brian2 (rates) and +-20 % (CVs): wide against the seed-to-seed
spread (sd ~0.3 Hz and ~1 Hz, CV ~0.02) so they do not flake, narrow enough to catch a
wrong weight, a missing receptor or a dead network. The COBA CV above 1 is real (bursty
firing; Brian2 agrees).

Brunel (2000): the stationary rate of the asynchronous state is the mean-field fixed point
(:func:`brunel_rate_theory`: 37.9 Hz at g = 5, eta = 2). Brian2 (``Brunel_2000.py``
construction with fixed in-degrees, refractory neurons ignoring input, 5000 neurons as
here) gives 37.5 Hz, CV 0.39; the full 12 500-neuron example 38.9 Hz, CV 0.36 - 0.39; this
engine 38.1 - 39.0 Hz, CV 0.41. The diffusion theory's CV (0.68) is reached by neither
simulator: the finite network carries a fast (~125 Hz) population oscillation that
regularises firing, so the CV bounds follow the simulations. At g = 3 (Fig. 8A) every
neuron fires like a clock near saturation: Brian2 309 - 311 Hz, CV 0.001 - 0.009; this
engine 312 Hz, CV 0.001, in two clusters firing alternately in one-step volleys.

Scaling: the tests run Brunel at ``scale=0.4`` (4000 + 1000 neurons, 6.25 M synapses)
with the published in-degrees C_E = 1000, C_I = 250, so each neuron's input statistics
and the mean-field theory are those of the full network; only the shared-input fraction
grows (C/N 0.25 instead of 0.1). The full-size network is checked once (slow).
"""

import json

import numpy as np
import pytest
import xarray as xr

from neurosim_nb import LIFNeuron, validate_dataset
from neurosim_nb.core.networks.benchmarks_models import (
    CUBA_EXC,
    CUBA_INH,
    VA_R_M,
    activity_summary,
    brunel_network,
    brunel_rate_theory,
    coba_network,
    cuba_network,
)
from neurosim_nb.stimuli import PoissonInput

T_VA, T0_VA = 1200.0, 200.0     # Vogels-Abbott: run 1.2 s, analyse after a 200 ms transient


# -- construction ----------------------------------------------------------------------------
def test_cuba_parameters_and_exact_weight_conversion():
    net = cuba_network(n=1000, seed=0)
    exc = net.populations["exc"]
    assert (exc.n, net.populations["inh"].n) == (800, 200)
    p = exc.params
    assert (p.tau_m, p.V_rest, p.V_threshold, p.V_reset, p.t_refractory) == (
        20.0, -49.0, -50.0, -60.0, 5.0)
    by_pre = {(pr.pre, pr.post): pr for pr in net.projections}
    assert by_pre["exc", "inh"].receptor is CUBA_EXC and CUBA_EXC.tau_decay_ms == 5.0
    assert by_pre["inh", "exc"].receptor is CUBA_INH and CUBA_INH.tau_decay_ms == 10.0
    # the published voltage jumps we = 1.62 mV, wi = -9 mV through R_m = 100 MOhm
    assert np.all(by_pre["exc", "exc"].weight * VA_R_M == pytest.approx(60 * 0.27 / 10, abs=1e-14))
    assert np.all(by_pre["inh", "inh"].weight * VA_R_M == pytest.approx(-20 * 4.5 / 10, abs=1e-14))
    assert np.all(by_pre["exc", "exc"].delay_ms == 0.1)
    v = np.concatenate([pop.V for pop in net.populations.values()])
    assert v.min() >= -60.0 and v.max() <= -50.0
    n_syn = sum(pr.n_synapses for pr in net.projections)
    assert abs(n_syn - 0.02 * 1000**2) < 5 * np.sqrt(0.02 * 0.98 * 1000**2)  # Binomial, 5 sd


def test_coba_parameters():
    net = coba_network(n=1000, seed=0)
    p = net.populations["exc"].params
    assert (p.tau_m, p.R_m, p.C_m, p.V_rest, p.V_threshold, p.V_reset) == (
        20.0, 100.0, 0.2, -60.0, -50.0, -60.0)
    weights = {(pr.pre, pr.receptor.name): set(pr.weight) for pr in net.projections}
    assert weights == {("exc", "exp_exc"): {0.006}, ("inh", "exp_inh"): {0.067}}
    assert net.stimuli["exc"][0].duration_ms == 50.0


def test_brunel_construction_fixed_indegree_and_drive():
    net = brunel_network(scale=0.2, seed=0)            # 2000 + 500 neurons, in-degrees kept
    b = net.brunel
    assert (b["C_E"], b["C_I"]) == (1000, 250)
    assert b["nu_thr_hz"] == pytest.approx(10.0) and b["nu_ext_hz"] == pytest.approx(20.0)
    n_tot = sum(pop.n for pop in net.populations.values())
    indeg_e = np.zeros(n_tot, int)
    indeg_i = np.zeros(n_tot, int)
    off = net.offsets()
    for pr in net.projections:
        target = indeg_e if pr.pre == "exc" else indeg_i
        np.add.at(target, pr.post_idx + off[pr.post], 1)
        assert np.all(pr.weight == (0.1 if pr.pre == "exc" else -0.5))
        assert np.all(pr.delay_ms == 1.5) and pr.receptor.kind == "delta"
        if pr.pre == pr.post:
            assert not np.any(pr.pre_idx == pr.post_idx)       # no autapses
    assert np.all(indeg_e == 1000)
    assert np.all(indeg_i == 250)
    (stim,) = net.stimuli["exc"]
    assert (stim.rate_hz, stim.weight_mV, stim.n_sources) == (pytest.approx(20.0), 0.1, 1000)


def test_brunel_scaling_options():
    kept = brunel_network(scale=0.2, seed=0)
    prop = brunel_network(scale=0.2, keep_indegree=False, seed=0)
    assert kept.brunel["C_E"] == 1000 and prop.brunel["C_E"] == 200
    assert prop.brunel["nu_thr_hz"] == pytest.approx(5 * kept.brunel["nu_thr_hz"])
    with pytest.raises(ValueError, match="increase scale"):
        brunel_network(scale=0.05)                     # 500 E neurons cannot give C_E = 1000
    with pytest.raises(ValueError, match="scale must be > 0"):
        brunel_network(scale=0.0)


@pytest.mark.slow
def test_brunel_theory_matches_open_loop_lif_simulation():
    """Independent check of the mean-field rate: unconnected LIF neurons fed the Poisson
    input the network would give at the theoretical rate (external + recurrent) fire at
    that rate. Measured: -5 % at dt = 0.1 ms, -2 % at dt = 0.02 ms. The diffusion theory
    ignores the finite jumps (J = 0.1 mV, -gJ = -0.5 mV) and the discrete step: a kick
    arrives at a step's start and V decays for one step before the threshold test (an
    O(dt) threshold shift of ~0.1 mV, as in Brian2). Tolerance 8 %; 2000 neurons x 1 s at
    38 Hz give a sampling error of ~0.3 %."""
    nu0 = brunel_rate_theory(g=5.0, eta=2.0)
    net = brunel_network(scale=0.4, seed=0)
    params = net.populations["exc"].params
    pop = LIFNeuron(params, n=2000)
    pop.V = np.random.default_rng(0).uniform(params.V_rest, params.V_threshold, pop.n)
    drive = [PoissonInput(rate_hz=20.0 + nu0, weight_mV=0.1, n_sources=1000),
             PoissonInput(rate_hz=nu0, weight_mV=-0.5, n_sources=250)]
    ds = pop.simulate(1200.0, drive, record=(), seed=3, verbose=False)
    t = ds.spike_time.values
    rate = np.sum(t > 200.0) / (pop.n * 1.0)
    assert rate == pytest.approx(nu0, rel=0.08)


# -- the summary statistics on spike trains with known answers -------------------------------
def spikes_dataset(times, neurons, n_exc, n_inh, duration):
    pops = [{"name": "exc", "n": n_exc, "first_id": 0}, {"name": "inh", "n": n_inh,
                                                         "first_id": n_exc}]
    order = np.argsort(times, kind="stable")
    return xr.Dataset(
        {"spike_time": ("spike", np.asarray(times, float)[order]),
         "spike_neuron": ("spike", np.asarray(neurons, np.int64)[order])},
        attrs={"duration": duration, "n_neurons": n_exc + n_inh,
               "params_json": json.dumps({"populations": pops})})


def test_activity_summary_known_answers():
    period, n = 10.0, 20
    ticks = np.arange(period, 1000.0 + 1e-9, period)            # 100 spikes per neuron
    # every excitatory neuron fires on the same ticks (full synchrony, clock-like)
    sync = spikes_dataset(np.tile(ticks, n), np.repeat(np.arange(n), ticks.size), n, 5, 1000.0)
    s = activity_summary(sync, "exc")
    assert s["rate_hz"] == pytest.approx(100.0) and s["cv"] == pytest.approx(0.0, abs=1e-9)
    assert s["chi"] == pytest.approx(1.0) and s["n_cv"] == n
    assert activity_summary(sync, "inh")["rate_hz"] == 0.0
    # the same trains with evenly spread phases: a flat population rate, chi = 0
    phases = np.repeat(np.arange(n) * period / n, ticks.size)
    spread = spikes_dataset(np.tile(ticks, n) - phases, np.repeat(np.arange(n), ticks.size),
                            n, 5, 1000.0)
    assert activity_summary(spread, "exc", bin_ms=0.5)["chi"] == pytest.approx(0.0, abs=1e-9)
    # Poisson trains: CV near 1, chi near 1/sqrt(N)
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 1000.0, 200 * 50)
    poisson = spikes_dataset(t, rng.integers(0, 200, t.size), 200, 1, 1000.0)
    p = activity_summary(poisson, "exc", bin_ms=5.0)
    assert p["cv"] == pytest.approx(1.0, abs=0.05)
    assert p["chi"] == pytest.approx(1 / np.sqrt(200), rel=0.3)
    assert p["fano_pop"] == pytest.approx(1.0, abs=0.2)
    with pytest.raises(ValueError, match="unknown population"):
        activity_summary(poisson, "exx")


# -- Vogels-Abbott dynamics ------------------------------------------------------------------
@pytest.fixture(scope="module")
def cuba_run():
    ds = cuba_network(seed=3).simulate(T_VA, record=(), seed=3)
    return ds


@pytest.fixture(scope="module")
def coba_run():
    ds = coba_network(seed=3).simulate(T_VA, record=(), seed=3)
    return ds


@pytest.mark.slow
def test_cuba_asynchronous_irregular(cuba_run):
    validate_dataset(cuba_run)
    exc = activity_summary(cuba_run, "exc", t_start_ms=T0_VA)
    inh = activity_summary(cuba_run, "inh", t_start_ms=T0_VA)
    assert 4.0 <= exc["rate_hz"] <= 7.5, f"CUBA E rate {exc['rate_hz']:.2f} Hz (Brian2 5.4-5.7)"
    assert 4.0 <= inh["rate_hz"] <= 7.5, f"CUBA I rate {inh['rate_hz']:.2f} Hz"
    assert 0.43 <= exc["cv"] <= 0.65, f"CUBA CV {exc['cv']:.3f} (Brian2 0.54)"
    assert exc["n_cv"] > 1000
    # asynchronous: chi = 0.024 - 0.028; independent neurons give 1/sqrt(3200) = 0.018
    assert exc["chi"] < 0.1 and exc["fano_pop"] < 5


@pytest.mark.slow
def test_coba_asynchronous_irregular(coba_run):
    validate_dataset(coba_run)
    exc = activity_summary(coba_run, "exc", t_start_ms=T0_VA)
    inh = activity_summary(coba_run, "inh", t_start_ms=T0_VA)
    assert 13.0 <= exc["rate_hz"] <= 27.0, f"COBA E rate {exc['rate_hz']:.2f} Hz (Brian2 18-21)"
    assert 13.0 <= inh["rate_hz"] <= 27.0, f"COBA I rate {inh['rate_hz']:.2f} Hz"
    assert exc["cv"] >= 1.3 and exc["cv"] <= 2.0, f"COBA CV {exc['cv']:.3f} (Brian2 1.58-1.69)"
    assert exc["chi"] < 0.1 and exc["fano_pop"] < 8
    # sustained to the end: every 100 ms of the last half second has activity
    t = coba_run.spike_time.values
    assert np.all(np.histogram(t, bins=np.arange(700.0, 1201.0, 100.0))[0] > 1000)


@pytest.mark.slow
def test_coba_without_kickstart_needs_luck():
    """Why the kickstart exists: at n = 400 no neuron starts above threshold for this
    seed, and with every conductance at zero the network stays silent."""
    net = coba_network(n=400, seed=1, kickstart=False)
    assert not np.any(np.concatenate([p.V for p in net.populations.values()]) > -50.0)
    assert net.simulate(100.0, record=(), seed=0).sizes["spike"] == 0


# -- Brunel regimes --------------------------------------------------------------------------
def volley_fraction(ds, n_exc, t0, threshold=0.1):
    """Fraction of excitatory spikes that fall in a 0.1 ms step in which more than
    ``threshold`` of all excitatory neurons fire."""
    t, i = ds.spike_time.values, ds.spike_neuron.values
    steps = np.round(t[(t > t0) & (i < n_exc)] / 0.1).astype(np.int64)
    _, inverse, counts = np.unique(steps, return_inverse=True, return_counts=True)
    return float(np.mean(counts[inverse] > threshold * n_exc))


@pytest.fixture(scope="module")
def brunel_ai():
    net = brunel_network(g=5.0, eta=2.0, scale=0.4, seed=1)
    return net.simulate(600.0, record=(), seed=1)


@pytest.fixture(scope="module")
def brunel_sr():
    net = brunel_network(g=3.0, eta=2.0, scale=0.4, seed=1)
    return net.simulate(300.0, record=(), seed=1)


@pytest.mark.slow
def test_brunel_g5_eta2_asynchronous_irregular(brunel_ai):
    validate_dataset(brunel_ai)
    s = activity_summary(brunel_ai, "exc", t_start_ms=100.0)
    theory = brunel_rate_theory(g=5.0, eta=2.0)          # 37.9 Hz
    # 10 %: finite jumps, the discrete step and the weak fast oscillation shift the rate by
    # a few % (measured +0.5 to +3 % over seeds here, Brian2 -1 %)
    assert s["rate_hz"] == pytest.approx(theory, rel=0.10)
    assert 0.3 <= s["cv"] <= 0.5, f"CV {s['cv']:.3f} (Brian2 0.39 same network)"
    assert s["chi"] < 0.3, f"chi {s['chi']:.3f} (0.18 measured)"
    assert volley_fraction(brunel_ai, 4000, 100.0) < 0.01


@pytest.mark.slow
def test_brunel_g3_eta2_synchronous_regular(brunel_sr, brunel_ai):
    s = activity_summary(brunel_sr, "exc", t_start_ms=100.0)
    ai = activity_summary(brunel_ai, "exc", t_start_ms=100.0)
    # near saturation (1 / t_ref = 500 Hz): 312 Hz here, Brian2 309 - 311 Hz
    assert s["rate_hz"] > 250.0
    assert s["cv"] < 0.05                                  # clock-like firing (0.001)
    # the population fires in volleys one step wide (two alternating clusters):
    # chi 0.52 vs 0.18 in the AI state, almost every spike inside a volley
    assert s["chi"] > 0.4 and s["chi"] > 2.5 * ai["chi"]
    assert volley_fraction(brunel_sr, 4000, 100.0) > 0.95


@pytest.mark.slow
def test_brunel_full_size_asynchronous_irregular():
    """The published size (12 500 neurons, 15.6 M synapses), 500 ms."""
    net = brunel_network(seed=2)
    assert sum(p.n_synapses for p in net.projections) == 12500 * (1000 + 250)
    ds = net.simulate(500.0, record=(), seed=2)
    s = activity_summary(ds, "exc", t_start_ms=100.0)
    assert s["rate_hz"] == pytest.approx(brunel_rate_theory(), rel=0.10)
    assert 0.3 <= s["cv"] <= 0.5, f"CV {s['cv']:.3f} (Brian2 full size 0.36-0.39)"
    assert s["chi"] < 0.3
