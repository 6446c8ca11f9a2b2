"""fit_model: parameter recovery from synthetic data, the coincidence factor against its
definition, the best-ever guarantee and the input checks.

References are independent of the simulator where one exists: the passive LIF data are the
exact solution of the membrane equation for piecewise-constant input, the f-I target is the
LIF closed form, the coincidence factor is checked on hand-made trains and against the
expectation of uniformly placed (Poisson, conditioned on the count) spikes. The HH and AdEx
data are runs of the package at known parameters (the ODE solvers are checked against
solve_ivp in tests/core); there the reference is the known parameter set.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurosim_nb.core.neurons.registry import MODEL_FAMILIES
from neurosim_nb.fitting.fit import FitError, fit_model
from neurosim_nb.fitting.objectives import coincidence_factor
from neurosim_nb.stimuli import StepCurrent

# --------------------------------------------------------------------------------------
# recovery
# --------------------------------------------------------------------------------------


def _passive_lif_trace(tau_m, r_m, v_rest, current, dt):
    """Exact solution of tau dV/dt = -(V - V_rest) + R I for I constant over each step:
    V_{k+1} = V_inf + (V_k - V_inf) exp(-dt / tau), sampled at the end of every step."""
    v = np.empty(current.size)
    prev = v_rest
    decay = np.exp(-dt / tau_m)
    for k, i in enumerate(current):
        v_inf = v_rest + r_m * i
        prev = v_inf + (prev - v_inf) * decay
        v[k] = prev
    return v


def test_passive_lif_recovers_R_and_tau_within_1_percent_from_noisy_steps():
    dt, n = 0.1, 3000                                    # 300 ms
    t_start = dt * np.arange(n)                          # start of each step
    current = np.where((t_start >= 20) & (t_start < 120), 0.6, 0.0)
    current += np.where((t_start >= 170) & (t_start < 260), -0.4, 0.0)
    v = _passive_lif_trace(15.0, 12.0, -70.0, current, dt)
    v += np.random.default_rng(3).normal(0.0, 0.2, n)   # 0.2 mV recording noise
    data = xr.DataArray(v, dims="time", coords={"time": dt * np.arange(1, n + 1)})
    fit = fit_model("LIF", data, parameters={"tau_m": (2.0, 60.0), "R_m": (1.0, 60.0)},
                    fixed={"V_rest": -70.0, "V_threshold": 0.0}, stimulus=current,
                    popsize=8, maxiter=15, progress=False)
    # the noise (0.2 mV on 7.2 mV and 4.8 mV deflections, 3000 samples) moves the
    # least-squares optimum by ~0.1 %: 1 % is the issue's bar with margin
    assert float(fit["tau_m"]) == pytest.approx(15.0, rel=0.01)
    assert float(fit["R_m"]) == pytest.approx(12.0, rel=0.01)
    assert fit["R_m"].attrs["units"] == "MOhm" and fit["tau_m"].attrs["units"] == "ms"
    # residual = the noise: the MSE at the optimum is the noise variance (0.04 mV^2)
    assert float(fit["error"]) == pytest.approx(0.04, rel=0.1)
    assert fit["error"].attrs["units"] == "mV2"
    np.testing.assert_array_equal(fit["V_data"].values, v)
    np.testing.assert_array_equal(fit["time"].values, data["time"].values)


def test_hodgkin_huxley_maximal_conductances_from_an_exact_trace_within_1_percent():
    cls = MODEL_FAMILIES["Hodgkin-Huxley"]
    stim = [StepCurrent(0.6, onset_ms=5.0, duration_ms=10.0),     # subthreshold
            StepCurrent(3.0, onset_ms=25.0, duration_ms=25.0)]    # two spikes
    true = {"g_Na": 110.0, "g_K": 40.0, "g_L": 0.35}
    data = cls(cls.parameters_class(**true), n=1).simulate(60.0, stim, dt=0.025,
                                                         verbose=False)
    assert data.sizes["spike"] == 2
    fit = fit_model("Hodgkin-Huxley", data,
                    parameters={"g_Na": (60.0, 200.0), "g_K": (15.0, 60.0), "g_L": (0.1, 0.6)},
                    stimulus=stim, popsize=8, maxiter=20, progress=False)
    for name, value in true.items():
        assert float(fit[name]) == pytest.approx(value, rel=0.01), name
        assert fit[name].attrs["units"] == "mS/cm2"
    # an exact trace is matched to round-off by the least-squares refinement
    assert float(fit["error"]) < 1e-6
    np.testing.assert_allclose(fit["V_fit"], fit["V_data"], atol=1e-3)


def _adex_data():
    cls = MODEL_FAMILIES["AdEx"]
    stim = [StepCurrent(-0.3, onset_ms=10.0, duration_ms=100.0),   # sag: a
            StepCurrent(0.4, onset_ms=120.0, duration_ms=100.0),   # subthreshold: a, tau_w
            StepCurrent(1.0, onset_ms=250.0, duration_ms=250.0)]   # adapting train: b, tau_w
    true = {"a": 0.004, "b": 0.08, "tau_w": 100.0, "Delta_T": 2.0}
    ds = cls(cls.parameters_class(**true), n=1).simulate(500.0, stim, dt=0.1, verbose=False)
    return cls, stim, true, ds


def test_adex_main_parameters_from_a_noisy_trace():
    cls, stim, true, ds = _adex_data()
    assert ds.sizes["spike"] == 11                       # an adapting train
    v = ds["V"].values[:, 0] + np.random.default_rng(1).normal(0.0, 0.5, ds.sizes["time"])
    data = xr.DataArray(v, dims="time", coords={"time": ds["time"].values})
    fit = fit_model("AdEx", data, parameters={"a": (0.0, 0.02), "b": (0.0, 0.2),
                                              "tau_w": (20.0, 300.0), "Delta_T": (0.5, 5.0)},
                    stimulus=stim, popsize=30, maxiter=150, seed=1, progress=False)
    # Identifiability: b and tau_w set the adaptation of 10 ISIs and the recovery between
    # spikes, Delta_T the last millisecond of each upstroke, a only the small sag of the
    # -0.3/+0.4 nA steps (a * 20 mV ~ 0.08 nA against g_L * 20 mV = 0.6 nA), so a is the least
    # constrained. The trace MSE of a spiking model has local minima (a spike shifted by a
    # step costs much): with popsize 10 x 40 generations half of the seeds stopped in one;
    # popsize 30 x 150 found the optimum for seeds 0-5, within 0.4 % (a) and 0.1 % (b,
    # tau_w, Delta_T) of the truth with 0.5 mV noise. Tolerances: 2 % (a), 1 % (others).
    assert float(fit["a"]) == pytest.approx(true["a"], rel=0.02)
    for name in ("b", "tau_w", "Delta_T"):
        assert float(fit[name]) == pytest.approx(true[name], rel=0.01), name
    assert float(fit["error"]) == pytest.approx(0.25, rel=0.1)      # the noise variance
    assert fit.attrs["refinement_method"] == "least_squares"


def test_spike_times_fit_with_the_coincidence_factor():
    cls, stim, true, ds = _adex_data()
    spikes = ds["spike_time"].values
    fit = fit_model("AdEx", spikes, target="spikes", duration_ms=500.0, dt=0.1, delta_ms=1.0,
                    parameters={"b": (0.0, 0.2), "tau_w": (20.0, 300.0)},
                    fixed={"a": true["a"]}, stimulus=stim, popsize=10, maxiter=25,
                    progress=False)
    # Gamma identifies the set where every spike is matched within Delta, not a point. On a
    # 41 x 51 grid (b 0.06-0.10 nA, tau_w 75-125 ms) that set spans b 0.071-0.094 and all of
    # tau_w for Delta = 4 ms, but b 0.077-0.083 (+-4 %) and tau_w 93-108 ms (+-8 %) for
    # Delta = 1 ms, used here; seeds 0-3 all reach it. Tolerances: 5 % (b), 10 % (tau_w).
    assert float(fit["error"]) == 0.0
    assert float(fit["b"]) == pytest.approx(true["b"], rel=0.05)
    assert float(fit["tau_w"]) == pytest.approx(true["tau_w"], rel=0.1)
    got = fit["spike_time_fit"].values
    assert got.size == spikes.size and np.max(np.abs(got - spikes)) <= 1.0 + 1e-9
    assert coincidence_factor(got, spikes, duration_ms=500.0, delta_ms=1.0) == 1.0
    assert fit["error"].attrs["units"] == "1" and fit.attrs["delta_ms"] == 1.0


def test_lif_f_i_curve_feature_fit_against_the_closed_form():
    from neurosim_nb.core.neurons.lif import LIFParameters, lif_rate_closed_form

    currents = np.array([2.5, 3.0, 4.0, 6.0])
    truth = LIFParameters(tau_m=20.0, R_m=8.0)
    rates = lif_rate_closed_form(truth, currents)
    target = xr.DataArray(rates, dims="current", coords={"current": currents},
                          attrs={"duration_ms": 1000.0, "transient_ms": 100.0})
    fit = fit_model("LIF", {"fI": target}, target="features",
                    parameters={"tau_m": (5.0, 50.0), "R_m": (4.0, 16.0)},
                    dt=0.02, popsize=8, maxiter=15, progress=False)
    # the model's rate is its inverse mean ISI after the transient, ISIs quantised to
    # dt = 0.02 ms (0.1 % of a 20 ms ISI, averaging out over the run): the recovered values
    # sit within 1 % of the closed-form parameters
    assert float(fit["tau_m"]) == pytest.approx(20.0, rel=0.01)
    assert float(fit["R_m"]) == pytest.approx(8.0, rel=0.01)
    np.testing.assert_allclose(fit["rate_fit"], rates, atol=0.5)
    assert fit["rate_fit"].attrs["units"] == "Hz"


def test_spike_train_features_rate_latency_cv():
    cls = MODEL_FAMILIES["LIF"]
    stim = StepCurrent(3.0, onset_ms=50.0, duration_ms=450.0)
    ds = cls(cls.parameters_class(R_m=10.0, tau_m=15.0), n=1).simulate(
        500.0, stim, dt=0.1, verbose=False)
    fit = fit_model("LIF", ds, target="features",
                    features={"rate": 1.0, "first_spike_latency": 1.0},
                    parameters={"tau_m": (5.0, 40.0)}, fixed={"R_m": 10.0},
                    stimulus=stim, popsize=10, maxiter=15, progress=False)
    # rate and latency determine tau_m given R_m: rate (1 Hz resolution) within 1 spike
    assert float(fit["tau_m"]) == pytest.approx(15.0, rel=0.02)
    feats = dict(zip(fit["feature"].values, fit["feature_fit"].values, strict=True))
    target = dict(zip(fit["feature"].values, fit["feature_data"].values, strict=True))
    assert abs(feats["rate"] - target["rate"]) <= 2.0
    assert abs(feats["first_spike_latency"] - target["first_spike_latency"]) <= 0.5


# --------------------------------------------------------------------------------------
# the coincidence factor against its definition
# --------------------------------------------------------------------------------------
def test_gamma_identical_trains_is_one_and_shift_beyond_delta_is_chance():
    data = np.arange(20.0, 1000.0, 50.0)                 # 20 spikes, 50 ms apart
    assert coincidence_factor(data, data, duration_ms=1000.0) == 1.0
    assert coincidence_factor(data + 3.9, data, duration_ms=1000.0) == pytest.approx(1.0)
    # shifted by 5 ms > Delta = 4 ms: no coincidence; Gamma = -2 nu Delta / (1 - 2 nu Delta)
    g = coincidence_factor(data + 5.0, data, duration_ms=1000.0)
    nu_delta2 = 2 * 20 / 1000.0 * 4.0
    assert g == pytest.approx(-nu_delta2 / (1 - nu_delta2), rel=1e-12)
    assert abs(g) < 0.2
    # half the spikes matched: N_coinc = 10
    half = data.copy()
    half[::2] += 10.0
    assert coincidence_factor(half, data, duration_ms=1000.0) == pytest.approx(
        (10 - nu_delta2 * 20) / (0.5 * 40 * (1 - nu_delta2)), rel=1e-12)
    # a model spike counts once: two data spikes 2 ms apart, one model spike between them
    assert coincidence_factor([11.0], [10.0, 12.0], duration_ms=100.0) == pytest.approx(
        (1 - 2 * 0.01 * 4 * 2) / (0.5 * 3 * (1 - 2 * 0.01 * 4)), rel=1e-12)
    assert coincidence_factor([], [], duration_ms=100.0) == 1.0
    assert coincidence_factor([], [10.0], duration_ms=100.0) == 0.0


def test_gamma_of_random_trains_matches_the_poisson_expectation():
    """Model trains of N_m spikes placed uniformly in [0, T] (a Poisson process given its
    count) against a regular data train whose +-Delta windows are disjoint: each window is
    hit with probability p = 1 - (1 - 2 Delta / T)^N_m, so E[N_coinc] = N_d p and E[Gamma]
    follows exactly; it is 0 to first order in nu Delta (|E[Gamma]| < 0.01 here)."""
    T, delta, n_m = 20000.0, 4.0, 100                    # 5 Hz
    data = np.arange(100.0, T - 50.0, 200.0)             # 5 Hz, windows disjoint
    n_d = data.size
    rng = np.random.default_rng(0)
    gammas = np.array([coincidence_factor(rng.uniform(0.0, T, n_m), data, duration_ms=T)
                       for _ in range(2000)])
    p = 1 - (1 - 2 * delta / T) ** n_m
    two_nu_delta = 2 * n_m / T * delta
    expected = (n_d * p - two_nu_delta * n_d) / (0.5 * (n_d + n_m) * (1 - two_nu_delta))
    se = gammas.std(ddof=1) / np.sqrt(gammas.size)
    assert abs(gammas.mean() - expected) < 4 * se
    assert abs(expected) < 0.01


def test_train_features_by_hand():
    from neurosim_nb.fitting.objectives import stationary_rates, train_features

    # three trains: [5, 15, 35, 65] ms, [] and [30] ms, onset 10 ms, 200 ms run
    times = np.array([5.0, 15.0, 35.0, 65.0, 30.0])
    offsets = np.array([0, 4, 4, 5])
    f = train_features(times, offsets, 200.0, 10.0)
    np.testing.assert_allclose(f["rate"], [20.0, 0.0, 5.0])
    np.testing.assert_allclose(f["first_spike_latency"], [5.0, np.nan, 20.0])
    isi = np.array([10.0, 20.0, 30.0])
    np.testing.assert_allclose(f["isi_cv"], [isi.std() / isi.mean(), np.nan, np.nan])
    # inverse mean ISI after 10 ms: spikes 15, 35, 65 -> 2 intervals in 50 ms = 40 Hz
    np.testing.assert_allclose(stationary_rates(times, offsets, 10.0), [40.0, 0.0, 0.0])


def test_gamma_bad_inputs():
    with pytest.raises(ValueError, match="duration_ms"):
        coincidence_factor([1.0], [1.0], duration_ms=0.0)
    with pytest.raises(ValueError, match="model_spikes"):
        coincidence_factor([np.nan], [1.0], duration_ms=10.0)
    with pytest.raises(ValueError, match="data_spikes"):
        coincidence_factor([1.0], [[1.0]], duration_ms=10.0)
    # a model at 1 / (2 Delta) = 125 Hz: the normalisation vanishes
    assert coincidence_factor(np.arange(0.0, 1000.0, 8.0), [1.0],
                              duration_ms=1000.0) == -np.inf


# --------------------------------------------------------------------------------------
# the best ever evaluated, determinism, the result
# --------------------------------------------------------------------------------------
def _small_fit(**kw):
    stim = StepCurrent(1.0, onset_ms=5.0, duration_ms=20.0)
    truth = MODEL_FAMILIES["LIF"](MODEL_FAMILIES["LIF"].parameters_class(
        tau_m=12.0, R_m=8.0, V_threshold=0.0), n=1)
    data = truth.simulate(40.0, stim, dt=0.1, verbose=False)
    args = dict(parameters={"tau_m": (5.0, 30.0), "R_m": (2.0, 20.0)},
                fixed={"V_threshold": 0.0}, stimulus=stim, popsize=6, maxiter=5,
                progress=False)
    args.update(kw)
    return fit_model("LIF", data, **args), data


@pytest.mark.parametrize("refine", [False, True])
def test_best_is_the_best_ever_evaluated(refine):
    fit, _ = _small_fit(local_refinement=refine)
    err = fit["evaluation_error"].values
    k = int(np.argmin(err))
    assert float(fit["error"]) == err.min()
    for name in ("tau_m", "R_m"):
        assert float(fit[name]) == fit[f"evaluation_{name}"].values[k]
    # and the history's best never increases and ends at the best of the global search
    hb = fit["history_best"].values
    assert np.all(np.diff(hb) <= 0)
    ph = fit["evaluation_phase"].values
    assert hb[-1] == err[ph >= 0].min()
    assert (ph == -1).any() == refine
    # the fitted trace is the model at the best point: its MSE is the reported error
    mse = float(np.mean((fit["V_fit"].values - fit["V_data"].values) ** 2))
    assert mse == pytest.approx(float(fit["error"]), rel=1e-9, abs=1e-15)


def test_a_refinement_that_gets_worse_does_not_worsen_the_result(monkeypatch):
    """Sabotage the refinement (least_squares returns at once after evaluating a far-away
    point): the answer stays the global search's best."""
    import scipy.optimize

    def bad_least_squares(fun, x0, **kw):
        fun(np.zeros_like(x0))                           # a corner of the box: worse
        return None

    monkeypatch.setattr(scipy.optimize, "least_squares", bad_least_squares)
    fit, _ = _small_fit(local_refinement=True)
    ph = fit["evaluation_phase"].values
    err = fit["evaluation_error"].values
    assert err[ph == -1].min() > err[ph >= 0].min()
    assert float(fit["error"]) == err[ph >= 0].min()


def test_fit_is_deterministic_and_described():
    a, _ = _small_fit()
    b, _ = _small_fit()
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())
    for key in ("model", "objective", "optimizer", "popsize", "maxiter", "seed",
                "n_evaluations", "wall_time_s", "neurosim_nb_version"):
        assert key in a.attrs
    assert a.attrs["model"] == "LIFNeuron" and a.attrs["n_evaluations"] == a.sizes["evaluation"]
    assert a.sizes["generation"] == a.attrs["n_generations"] + 1
    c, _ = _small_fit(seed=1)
    assert not np.array_equal(c["evaluation_tau_m"].values, a["evaluation_tau_m"].values)


def test_netcdf_round_trip(tmp_path):
    fit, _ = _small_fit()
    path = tmp_path / "fit.nc"
    fit.to_netcdf(path)
    with xr.open_dataset(path) as back:
        xr.testing.assert_allclose(back, fit)


def test_invalid_candidates_are_recorded_not_fatal():
    """V_reset must stay below V_threshold: candidates violating it cannot run; they are
    recorded with error inf and the fit goes on."""
    fit, _ = _small_fit(parameters={"tau_m": (5.0, 30.0), "V_reset": (-80.0, -30.0)},
                        fixed={"V_threshold": -50.0, "R_m": 8.0}, local_refinement=False)
    err = fit["evaluation_error"].values
    bad = fit["evaluation_V_reset"].values >= -50.0
    assert bad.any() and np.all(np.isinf(err[bad])) and np.all(np.isfinite(err[~bad]))
    assert np.isfinite(float(fit["error"]))


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lif_data():
    stim = StepCurrent(1.0, onset_ms=5.0, duration_ms=20.0)
    cls = MODEL_FAMILIES["LIF"]
    return cls(cls.parameters_class(V_threshold=0.0), n=1).simulate(
        40.0, stim, dt=0.1, verbose=False), stim


@pytest.mark.parametrize("kwargs, match", [
    ({"model": "AdExx"}, r"unknown model family 'AdExx'.*Did you mean 'AdEx'"),
    ({"parameters": {"tau": (1.0, 2.0)}}, r"no parameter 'tau'.*Did you mean 'tau_m'"),
    ({"parameters": {}}, "non-empty"),
    ({"parameters": {"tau_m": (20.0, 5.0)}}, "reversed"),
    ({"parameters": {"tau_m": (5.0, 5.0)}}, "empty.*fixed="),
    ({"parameters": {"tau_m": (0.0, 5.0)}}, "allowed range"),
    ({"parameters": {"tau_m": (1.0, np.inf)}}, "finite"),
    ({"fixed": {"R_mm": 3.0}}, "Did you mean 'R_m'"),
    ({"fixed": {"tau_m": 3.0}}, "both fitted"),
    ({"target": "trac"}, "Did you mean 'trace'"),
    ({"stimulus": None}, "give the stimulus"),
    ({"stimulus": np.ones(17)}, "17 samples"),
    ({"popsize": 0}, "popsize"),
])
def test_bad_input_is_a_clear_error(lif_data, kwargs, match):
    data, stim = lif_data
    args = dict(model="LIF", data=data, parameters={"tau_m": (5.0, 30.0)},
                fixed={"V_threshold": 0.0}, stimulus=stim, progress=False)
    args.update(kwargs)
    with pytest.raises(FitError, match=match):
        fit_model(args.pop("model"), args.pop("data"), **args)


def test_bad_data_is_a_clear_error(lif_data):
    data, stim = lif_data
    kw = dict(parameters={"tau_m": (5.0, 30.0)}, stimulus=stim, progress=False)
    v = data["V"].isel(neuron=0).values.copy()
    with pytest.raises(FitError, match="no 'time' axis"):
        fit_model("LIF", xr.DataArray(v, dims="sample"), **kw)
    v[5] = np.nan
    with pytest.raises(FitError, match="NaN"):
        fit_model("LIF", v, dt=0.1, **kw)
    with pytest.raises(FitError, match="needs dt="):
        fit_model("LIF", data["V"].isel(neuron=0).values, **kw)
    with pytest.raises(FitError, match="multiples of dt"):
        fit_model("LIF", data, dt=0.3, **kw)
    with pytest.raises(FitError, match="duration_ms"):
        fit_model("LIF", np.array([1.0, 2.0]), target="spikes", **kw)
    with pytest.raises(FitError, match="unknown feature 'rat'"):
        fit_model("LIF", {"rat": 3.0}, target="features", duration_ms=100.0, **kw)
    with pytest.raises(TypeError, match="family name"):
        fit_model(3, data, **kw)


# --------------------------------------------------------------------------------------
# on Dask
# --------------------------------------------------------------------------------------
def test_dask_fit_is_identical_to_the_serial_fit():
    """Each generation split over 2 worker processes (one batch each): the same evaluations,
    the same result, bit for bit."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, \
            Client(cluster, set_as_default=False) as client:
        dask_fit, _ = _small_fit(client=client)
    serial, _ = _small_fit(client="serial")
    assert dask_fit.attrs["n_workers"] == 2 and serial.attrs["n_workers"] == 1
    xr.testing.assert_identical(dask_fit.drop_attrs(), serial.drop_attrs())


def test_public_names_and_progress_bar(capsys):
    from neurosim_nb import fitting

    assert fitting.fit_model is fit_model and fitting.coincidence_factor is coincidence_factor
    fit, _ = _small_fit(progress=True)
    err = capsys.readouterr().err
    assert "fit_model generations" in err and f"{fit.attrs['n_generations']}/5" in err


def test_coarser_sampling_and_an_initial_sample():
    """A trace sampled every 2 steps, with its t = 0 sample (the initial state, not
    fitted): the exact parameters are recovered (exact data, least squares)."""
    stim = StepCurrent(1.0, onset_ms=5.0, duration_ms=20.0)
    cls = MODEL_FAMILIES["LIF"]
    ds = cls(cls.parameters_class(tau_m=12.0, R_m=8.0, V_threshold=0.0), n=1).simulate(
        40.0, stim, dt=0.1, verbose=False)
    v = np.r_[-70.0, ds["V"].values[1::2, 0]]
    t = np.r_[0.0, ds["time"].values[1::2]]
    data = xr.DataArray(v, dims="time", coords={"time": t})
    fit = fit_model("LIF", data, parameters={"tau_m": (5.0, 30.0), "R_m": (2.0, 20.0)},
                    fixed={"V_threshold": 0.0}, stimulus=stim, dt=0.1, popsize=6,
                    maxiter=10, progress=False)
    assert fit.sizes["time"] == t.size - 1 and fit["time"].values[0] == pytest.approx(0.2)
    assert float(fit["tau_m"]) == pytest.approx(12.0, rel=1e-6)
    assert float(fit["R_m"]) == pytest.approx(8.0, rel=1e-6)


def test_a_box_where_nothing_runs_is_a_clear_error():
    with pytest.raises(FitError, match="no candidate could be simulated.*V_reset"):
        _small_fit(parameters={"V_reset": (-45.0, -30.0)},
                   fixed={"V_threshold": -50.0, "R_m": 8.0}, maxiter=2)
