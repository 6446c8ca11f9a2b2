"""Hodgkin-Huxley neurons against an independent reference.

The reference below is the same ODE written again from the papers (HH 1952 in the modern
convention; Traub-Miles as in Brette et al. 2007 / Pospischil et al. 2008), with its own
rate functions in plain ``math`` and the removable singularities handled by their limit,
integrated by ``scipy.integrate.solve_ivp`` (LSODA, rtol 1e-8, atol 1e-10) with event
location for the threshold crossings. It shares no code with the package.

Numbers measured when this file was written (package vs reference):
rest (both models) to < 1e-9 mV; squid repetitive-firing rheobase 6.26 vs 6.25-6.28 uA/cm2;
squid at 10 uA/cm2 68.320 Hz (dt 0.01) / 67.99 Hz (dt 0.1) vs 68.324 Hz; mammalian at
2 uA/cm2 and 37 degC 66.93 / 66.23 Hz vs 66.94 Hz.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
import xarray as xr
from scipy.integrate import solve_ivp

from neurosim_nb import HodgkinHuxleyNeuron, HodgkinHuxleyParameters, validate_dataset
from neurosim_nb.engine.simulator import SimulationDivergedError
from neurosim_nb.stimuli import PoissonInput, StepCurrent

# ------------------------------------------------------------------------------------------
# independent reference
# ------------------------------------------------------------------------------------------


def _x_over_1_minus_exp(x: float, s: float) -> float:
    """x / (1 - exp(-x/s)), whose value at x = 0 is s (l'Hopital), + first-order term."""
    if abs(x) < 1e-7 * s:
        return s + 0.5 * x
    return x / (1.0 - math.exp(-x / s))


def _rates_squid(V: float, _VT: float):
    return (0.1 * _x_over_1_minus_exp(V + 40.0, 10.0),
            4.0 * math.exp(-(V + 65.0) / 18.0),
            0.07 * math.exp(-(V + 65.0) / 20.0),
            1.0 / (math.exp(-(V + 35.0) / 10.0) + 1.0),
            0.01 * _x_over_1_minus_exp(V + 55.0, 10.0),
            0.125 * math.exp(-(V + 65.0) / 80.0))


def _rates_traub(V: float, VT: float):
    u = V - VT
    # 0.32 (13-u) / (exp((13-u)/4) - 1)  ==  0.32 (u-13) / (1 - exp(-(u-13)/4))
    return (0.32 * _x_over_1_minus_exp(u - 13.0, 4.0),
            0.28 * _x_over_1_minus_exp(40.0 - u, 5.0),
            0.128 * math.exp((17.0 - u) / 18.0),
            4.0 / (1.0 + math.exp((40.0 - u) / 5.0)),
            0.032 * _x_over_1_minus_exp(u - 15.0, 5.0),
            0.5 * math.exp((10.0 - u) / 40.0))


# name -> (C, gNa, gK, gL, ENa, EK, EL, VT, rates, T_ref, threshold)
REF_MODELS = {
    "squid": (1.0, 120.0, 36.0, 0.3, 50.0, -77.0, -54.387, 0.0, _rates_squid, 6.3, 0.0),
    "mammalian": (1.0, 100.0, 30.0, 0.05, 50.0, -90.0, -65.0, -63.0, _rates_traub, 36.0, -20.0),
}
REF_TEMPERATURE = {"squid": 6.3, "mammalian": 37.0}
Q10 = 3.0
SOLVER = {"method": "LSODA", "rtol": 1e-8, "atol": 1e-10}


def _ref_rhs(model: str, J: float, temperature: float, C_scale: float = 1.0):
    C, gNa, gK, gL, ENa, EK, EL, VT, rates, T_ref, _ = REF_MODELS[model]
    C = C * C_scale
    phi = Q10 ** ((temperature - T_ref) / 10.0)

    def rhs(t, y):
        V, m, h, n = y
        am, bm, ah, bh, an, bn = rates(V, VT)
        i_ion = gNa * m ** 3 * h * (V - ENa) + gK * n ** 4 * (V - EK) + gL * (V - EL)
        return [(J - i_ion) / C,
                phi * (am * (1.0 - m) - bm * m),
                phi * (ah * (1.0 - h) - bh * h),
                phi * (an * (1.0 - n) - bn * n)]

    return rhs


def _ref_gates_at(model: str, V: float) -> list[float]:
    *_, VT, rates, _T, _th = REF_MODELS[model]
    am, bm, ah, bh, an, bn = rates(V, VT)
    return [V, am / (am + bm), ah / (ah + bh), an / (an + bn)]


@cache
def ref_rest_state(model: str) -> tuple[float, ...]:
    """Rest = where the reference ODE settles without input: integrate 2 s from a state
    5 mV off (all slow time constants are <= 20 ms, so the remaining error is ~e^-100)."""
    sol = solve_ivp(_ref_rhs(model, 0.0, REF_TEMPERATURE[model]), (0.0, 2000.0),
                    _ref_gates_at(model, -70.0), **SOLVER)
    assert sol.success
    return tuple(sol.y[:, -1])


@cache
def ref_spike_times(model: str, J: float, t_end: float, temperature: float | None = None,
                    C_scale: float = 1.0) -> np.ndarray:
    """Upward threshold crossings (ms) of the reference under a step of J uA/cm2 from rest."""
    temperature = REF_TEMPERATURE[model] if temperature is None else temperature
    threshold = REF_MODELS[model][-1]

    def crossing(t, y):
        return y[0] - threshold

    crossing.direction = 1.0
    sol = solve_ivp(_ref_rhs(model, J, temperature, C_scale), (0.0, t_end),
                    list(ref_rest_state(model)), events=crossing, **SOLVER)
    assert sol.success
    return sol.t_events[0]


def rate_from_spikes(times: np.ndarray, t_from: float) -> float:
    """Stationary rate (Hz) from the mean inter-spike interval after ``t_from`` ms."""
    t = np.asarray(times)[np.asarray(times) > t_from]
    assert t.size >= 5, f"too few spikes after {t_from} ms: {t.size}"
    return 1000.0 * (t.size - 1) / (t[-1] - t[0])


def create(model: str, n: int = 1, **overrides) -> HodgkinHuxleyNeuron:
    if model == "squid":
        return HodgkinHuxleyNeuron.create_squid_axon(n, **overrides)
    return HodgkinHuxleyNeuron.create_mammalian(n, **overrides)


# ------------------------------------------------------------------------------------------
# 1. resting potential
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["squid", "mammalian"])
def test_resting_potential_matches_reference_steady_state(model):
    # Tolerance 0.1 mV (the brief's bound); both sides solve for the same fixed point, the
    # package by bisection of the steady-state I-V curve, so we measure < 1e-9 mV.
    pop = create(model)
    v_ref = ref_rest_state(model)[0]
    assert abs(pop.V - v_ref) <= 0.1
    # the gates start at their steady state, so nothing moves without input
    ds = pop.simulate(200.0, dt=0.1, seed=0, record=("V", "m", "h", "n"))
    assert ds.sizes["spike"] == 0
    assert float(np.abs(ds.V - v_ref).max()) <= 0.1
    for j, gate in enumerate("mhn", start=1):
        assert float(ds[gate][-1, 0]) == pytest.approx(ref_rest_state(model)[j], abs=1e-6)


def test_resting_potential_ignores_temperature_and_v_init_overrides_it():
    # x_inf does not depend on the temperature factor, so neither does rest
    a = HodgkinHuxleyNeuron.create_squid_axon().V
    b = HodgkinHuxleyNeuron.create_squid_axon(temperature_C=20.0).V
    assert a == b
    pop = HodgkinHuxleyNeuron.create_squid_axon(V_init=-70.0)
    assert pop.V == -70.0
    assert pop.get_state("n")[0] == pytest.approx(_ref_gates_at("squid", -70.0)[3], rel=1e-12)


# ------------------------------------------------------------------------------------------
# 2. rheobase for repetitive firing
# ------------------------------------------------------------------------------------------


def _ref_fires_late(J: float, t_end: float) -> bool:
    return bool(np.any(ref_spike_times("squid", J, t_end) > t_end / 2))


def test_rheobase_for_repetitive_firing_matches_reference():
    t_end = 300.0
    # package: ONE vectorised run, neuron i gets grid[i] uA/cm2 (0.02 uA/cm2 = 0.3 % grid)
    grid = np.round(np.arange(5.0, 8.0, 0.02), 10)
    pop = HodgkinHuxleyNeuron.create_squid_axon(n=grid.size)
    ds = pop.simulate(t_end, current_density=grid, dt=0.01, seed=0, record=())
    late = np.zeros(grid.size, bool)
    late[np.unique(ds.spike_neuron.values[ds.spike_time.values > t_end / 2])] = True
    assert late.any() and not late.all()
    ours = grid[np.argmax(late)]
    assert late[np.argmax(late):].all(), "repetitive firing should persist above rheobase"

    # reference: bisection on [4, 12] uA/cm2 down to a bracket of 0.5 % (8 solves)
    lo, hi = 4.0, 12.0
    assert not _ref_fires_late(lo, t_end) and _ref_fires_late(hi, t_end)
    while hi - lo > 0.005 * lo:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if _ref_fires_late(mid, t_end) else (mid, hi)
    ref = 0.5 * (lo + hi)
    # 2 % (the brief's bound) >> grid 0.3 % + bracket 0.25 %; measured 6.26 vs 6.266
    assert ours == pytest.approx(ref, rel=0.02)
    # the classic value for the squid axon under a step from rest is ~6.3 uA/cm2
    assert 6.0 < ref < 6.6


# ------------------------------------------------------------------------------------------
# 3. firing rates
# ------------------------------------------------------------------------------------------

#: (model, uA/cm2, run length ms): squid at 10 uA/cm2 (~68 Hz); mammalian at 2 uA/cm2
#: (~67 Hz, its demo drive; the Traub-Miles cell with g_L = 0.05 mS/cm2 fires from
#: ~0.1 uA/cm2 on, so 10 uA/cm2 would already be ~215 Hz)
RATE_CASES = [("squid", 10.0, 500.0), ("mammalian", 2.0, 400.0)]


@pytest.mark.parametrize(("model", "density", "t_end"), RATE_CASES)
def test_firing_rate_matches_reference(model, density, t_end):
    ref = rate_from_spikes(ref_spike_times(model, density, t_end), 100.0)
    rates = {}
    for dt in (0.01, 0.1):
        pop = create(model)
        ds = pop.simulate(t_end, current_density=density, dt=dt, seed=0, record=("V",))
        assert np.isfinite(ds.V).all()
        rates[dt] = rate_from_spikes(ds.spike_time.values, 100.0)
    # dt = 0.01 ms: 2 % (the brief's bound). The staggered exponential scheme is second
    # order; measured error < 0.01 %. Spike-time quantisation adds <= dt / 300 ms.
    assert rates[0.01] == pytest.approx(ref, rel=0.02)
    # dt = 0.1 ms: 3 %. Ten times the step -> ~100 x the O(dt^2) error of dt = 0.01 plus
    # quantisation of 0.1 ms over ~300 ms; measured 0.5 % (squid), 1.1 % (mammalian).
    assert rates[0.1] == pytest.approx(ref, rel=0.03)


# ------------------------------------------------------------------------------------------
# 4. stability at dt = 0.1 ms
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["squid", "mammalian"])
@pytest.mark.parametrize("density", [100.0, 1000.0])
def test_dt_01_is_stable_for_large_currents(model, density):
    pop = create(model, n=1)
    ds = pop.simulate(200.0, current_density=density, dt=0.1, seed=0,
                      record=("V", "m", "h", "n"))
    validate_dataset(ds)
    for name in ("V", "m", "h", "n"):
        assert np.isfinite(ds[name]).all()
    for gate in "mhn":
        assert float(ds[gate].min()) >= 0.0 and float(ds[gate].max()) <= 1.0
    assert float(np.abs(ds.V).max()) < 200.0


def test_squid_depolarisation_block_matches_reference():
    # At 100 uA/cm2 the squid axon fires once, then oscillates in (-61, -20) mV without
    # reaching 0 mV. The reference's extrema in 150-200 ms vs ours at dt 0.1 ms: 0.5 mV
    # (measured 0.04 and 0.18 mV).
    t_end = 200.0
    sol = solve_ivp(_ref_rhs("squid", 100.0, 6.3), (0.0, t_end), list(ref_rest_state("squid")),
                    dense_output=True, **SOLVER)
    t = np.arange(150.0, t_end, 0.005)
    v_ref = sol.sol(t)[0]
    ds = HodgkinHuxleyNeuron.create_squid_axon().simulate(t_end, current_density=100.0, dt=0.1,
                                                          seed=0)
    v = ds.V.sel(time=slice(150.0, t_end)).values[:, 0]
    assert ds.sizes["spike"] == ref_spike_times("squid", 100.0, t_end).size == 1
    assert v.min() == pytest.approx(v_ref.min(), abs=0.5)
    assert v.max() == pytest.approx(v_ref.max(), abs=0.5)


def test_divergence_raises_naming_the_population():
    pop = HodgkinHuxleyNeuron.create_squid_axon(n=2)
    pop.label = "axons"
    with pytest.raises(SimulationDivergedError, match="axons.*smaller dt"):
        pop.simulate(10.0, [0.0, 1e9], dt=0.1, seed=0)


# ------------------------------------------------------------------------------------------
# 5. temperature
# ------------------------------------------------------------------------------------------


def _spike_width_ms(ds: xr.Dataset, threshold: float) -> float:
    """Mean time (ms) spent above ``threshold`` per spike, from the recorded trace."""
    above = (ds.V.values[:, 0] >= threshold).sum() * float(ds.attrs["dt"])
    return above / ds.sizes["spike"]


def test_temperature_speeds_up_the_gates_like_the_reference():
    t_end = 300.0
    ours, ref, width = {}, {}, {}
    for temperature in (6.3, 16.3):
        pop = HodgkinHuxleyNeuron.create_squid_axon(temperature_C=temperature)
        assert pop.params.rate_factor() == pytest.approx(3.0 ** ((temperature - 6.3) / 10))
        ds = pop.simulate(t_end, current_density=10.0, dt=0.01, seed=0)
        ours[temperature] = rate_from_spikes(ds.spike_time.values, 100.0)
        width[temperature] = _spike_width_ms(ds, 0.0)
        ref[temperature] = rate_from_spikes(
            ref_spike_times("squid", 10.0, t_end, temperature), 100.0)
        # same 2 % as test 3 (measured < 0.03 % at both temperatures)
        assert ours[temperature] == pytest.approx(ref[temperature], rel=0.02)
    # faster gates: narrower spikes and a higher rate (68 -> 162 Hz)
    assert width[16.3] < 0.6 * width[6.3]
    assert ours[16.3] > 2.0 * ours[6.3]


def test_q10_scaling_is_an_exact_time_rescaling():
    # With every gate rate times phi AND C_m divided by phi, the equations are the original
    # ones in time t * phi: the rate must be exactly phi times the original one. At
    # 16.3 degC phi = 3. 1 % covers dt = 0.01 ms acting like 0.03 ms (measured 0.02 %).
    base = rate_from_spikes(ref_spike_times("squid", 10.0, 300.0), 100.0)
    pop = HodgkinHuxleyNeuron.create_squid_axon(temperature_C=16.3, C_m=1.0 / 3.0)
    ds = pop.simulate(300.0, current_density=10.0, dt=0.01, seed=0, record=())
    assert rate_from_spikes(ds.spike_time.values, 100.0) == pytest.approx(3.0 * base, rel=0.01)
    # the reference agrees with itself under the same rescaling (guards the test's logic)
    scaled = rate_from_spikes(ref_spike_times("squid", 10.0, 300.0, 16.3, 1.0 / 3.0), 100.0)
    assert scaled == pytest.approx(3.0 * base, rel=1e-4)


def test_mammalian_reference_temperature_is_36_degC():
    # at 36 degC phi = 1: Brian2's COBAHH equations without a temperature factor
    pop = HodgkinHuxleyNeuron.create_mammalian(temperature_C=36.0)
    assert pop.params.rate_factor() == 1.0
    ds = pop.simulate(300.0, current_density=2.0, dt=0.01, seed=0, record=())
    ref = rate_from_spikes(ref_spike_times("mammalian", 2.0, 300.0, 36.0), 100.0)
    assert rate_from_spikes(ds.spike_time.values, 100.0) == pytest.approx(ref, rel=0.02)


# ------------------------------------------------------------------------------------------
# 6. inputs, schema, parameters
# ------------------------------------------------------------------------------------------


def test_current_density_and_current_give_identical_datasets():
    pop = HodgkinHuxleyNeuron.create_mammalian(n=3)
    density = np.array([0.5, 2.0, 5.0])
    a = pop.simulate(100.0, current_density=density, seed=7, record=("V", "m", "I_ext"))
    pop.reset_state()
    nA = pop.density_to_current(density)
    np.testing.assert_allclose(nA, density * 0.2, rtol=1e-12)   # 20 000 um2 = 2e-4 cm2
    b = pop.simulate(100.0, nA, seed=7, record=("V", "m", "I_ext"))
    xr.testing.assert_identical(a, b)
    validate_dataset(a)
    assert a.I_ext.attrs["units"] == "nA" and a.m.attrs["units"] == "1"
    np.testing.assert_allclose(pop.current_to_density(a.I_ext.values[-1]), density, rtol=1e-12)


def test_current_density_adds_to_input_current():
    pop = HodgkinHuxleyNeuron.create_squid_axon()
    a = pop.simulate(50.0, 1.0, current_density=5.0, seed=0, record=("I_ext",))
    np.testing.assert_allclose(a.I_ext.values, 2.0)   # 1 nA + 5 uA/cm2 on 20 000 um2
    with pytest.raises(ValueError, match="one value per neuron"):
        pop.simulate(10.0, current_density=[1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        pop.simulate(10.0, current_density=float("nan"))
    with pytest.raises(TypeError, match="density_to_current"):
        pop.simulate(10.0, current_density=StepCurrent(5.0))


def test_population_run_equals_single_neuron_runs():
    # per-neuron parameter arrays: one vectorised run == separate runs, bit for bit
    temps = np.array([6.3, 12.0, 18.5])
    pop = HodgkinHuxleyNeuron.create_squid_axon(n=3, temperature_C=temps)
    stim = StepCurrent(2.0, onset_ms=5.0, duration_ms=40.0)
    ds = pop.simulate(60.0, stim, dt=0.05, seed=0)
    for i, temperature in enumerate(temps):
        one = HodgkinHuxleyNeuron.create_squid_axon(temperature_C=float(temperature))
        d1 = one.simulate(60.0, stim, dt=0.05, seed=0)
        np.testing.assert_array_equal(ds.V.values[:, i], d1.V.values[:, 0])
        np.testing.assert_array_equal(ds.spike_time.values[ds.spike_neuron.values == i],
                                      d1.spike_time.values)


def test_each_upward_crossing_is_one_spike():
    pop = HodgkinHuxleyNeuron.create_squid_axon(n=2)
    ds = pop.simulate(300.0, current_density=[10.0, 30.0], dt=0.025, seed=0)
    for i in range(2):
        v = np.concatenate([[pop.resting_potential()[i]], ds.V.values[:, i]])
        up = np.flatnonzero((v[:-1] < 0.0) & (v[1:] >= 0.0))
        times = ds.spike_time.values[ds.spike_neuron.values == i]
        np.testing.assert_allclose(times, ds.time.values[up])
        assert times.size > 10


def test_kicks_add_to_v_and_make_it_fire():
    pop = HodgkinHuxleyNeuron.create_squid_axon(n=2)
    kicks = PoissonInput(rate_hz=50.0, weight_mV=20.0, targets=[1])
    a = pop.simulate(200.0, stimuli=[kicks], seed=3)
    assert set(a.spike_neuron.values.tolist()) == {1}
    pop.reset_state()
    b = pop.simulate(200.0, stimuli=[kicks], seed=3)
    xr.testing.assert_identical(a, b)   # deterministic under a seed


@pytest.mark.parametrize(("kinetics", "singular_V"), [
    ("hh1952", -40.0), ("hh1952", -55.0),                     # alpha_m, alpha_n
    ("traub_miles", -50.0), ("traub_miles", -48.0), ("traub_miles", -23.0),  # V_T + 13/15/40
])
def test_removable_singularities_give_finite_continuous_rates(kinetics, singular_V):
    pop = HodgkinHuxleyNeuron(HodgkinHuxleyParameters(kinetics=kinetics, V_init=singular_V))
    assert np.all(np.isfinite(pop._state))
    # continuity across the point, with the series branch (1e-9 mV) and the expm1 branch
    # (1e-3 mV) on both sides: the value there is the mean of its neighbours to within the
    # curvature term (~1e-8 relative for rates varying on a 4-80 mV scale)
    for eps in (1e-9, 1e-3):
        kin = pop.gate_kinetics([singular_V - eps, singular_V, singular_V + eps])
        for name, values in kin.items():
            assert np.all(np.isfinite(values)), name
            assert values[1] == pytest.approx(0.5 * (values[0] + values[2]), rel=1e-7), name
    ds = pop.simulate(1.0, dt=0.1, seed=0, record=("V", "m", "h", "n"))
    assert all(np.isfinite(ds[v]).all() for v in ("V", "m", "h", "n"))


def test_presets_and_demo_current_fire_tonically():
    presets = HodgkinHuxleyNeuron.presets()
    assert set(presets) == {"squid_axon", "mammalian"}
    assert presets["mammalian"] == HodgkinHuxleyNeuron.create_mammalian().params
    for name in presets:
        pop = HodgkinHuxleyNeuron.from_preset(name, n=2)
        assert pop.label == name
        ds = pop.simulate(300.0, HodgkinHuxleyNeuron.demo_current(name), dt=0.1, seed=0)
        late = ds.spike_time.values > 150.0
        assert np.bincount(ds.spike_neuron.values[late], minlength=2).min() >= 8
    with pytest.raises(ValueError, match="preset"):
        HodgkinHuxleyNeuron.demo_current("octopus")


@pytest.mark.parametrize(("field", "value"), [
    ("g_Na", float("nan")),
    ("C_m", 0.0),
    ("g_K", -1.0),
    ("area_um2", float("inf")),
    ("temperature_C", 80.0),
    ("Q10", 0.5),
    ("V_init", float("nan")),
    ("kinetics", "hh1953"),
    ("kinetics", None),
])
def test_bad_parameters_raise_value_error_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        HodgkinHuxleyParameters(**{field: value})
    with pytest.raises(ValueError, match=field):
        HodgkinHuxleyNeuron.create_mammalian(**{field: value})


def test_cross_field_check_and_per_neuron_shape():
    with pytest.raises(ValueError, match="E_K"):
        HodgkinHuxleyParameters(E_K=60.0)
    with pytest.raises(ValueError, match="g_L"):
        HodgkinHuxleyNeuron(HodgkinHuxleyParameters(g_L=np.array([0.1, 0.2])), n=3)


def test_dataset_schema_and_attrs():
    pop = HodgkinHuxleyNeuron.create_squid_axon(n=4)
    ds = pop.simulate(50.0, current_density=np.linspace(0, 20, 4), seed=1,
                      record=("V", "m", "h", "n"))
    validate_dataset(ds)
    assert ds.attrs["model"] == "HodgkinHuxleyNeuron"
    assert ds.attrs["current_units"] == "nA"
    assert '"kinetics": "hh1952"' in ds.attrs["params_json"]
    assert ds.V.attrs["units"] == "mV"


# ------------------------------------------------------------------------------------------
# 7. the vectorised kernel: its exponential, spike times, the spike detector's dead time
# ------------------------------------------------------------------------------------------


def test_kernel_exponential_matches_libm_to_one_ulp():
    # the kernel's own e^x (no libm call, so its loop vectorises) against math.exp
    from neurosim_nb.numerics.fastmath import exp64 as _exp

    x = np.concatenate([np.linspace(-708.0, 708.0, 20001),
                        np.random.default_rng(0).uniform(-60.0, 60.0, 20000), [0.0]])
    ours = np.array([_exp(v) for v in x])
    ref = np.exp(x)
    assert np.max(np.abs(ours / ref - 1.0)) <= 2.3e-16   # measured 2.2e-16 (1 ulp)
    assert _exp(-1e4) > 0.0 and np.isfinite(_exp(1e4))   # clamped, never 0 or inf


def test_float32_kernel_exponential_matches_libm_to_two_float32_ulp():
    """The float32 runs' e^x (float32 arithmetic throughout, so those loops vectorise 16
    neurons per instruction) against np.exp in float64 of the same float32 inputs; 2 ulp of
    float32 is 2.4e-7 relative (the Taylor truncation is < 6e-9, the rest is rounding)."""
    from numba import njit

    from neurosim_nb.numerics.fastmath import exp32 as _exp32
    from neurosim_nb.numerics.fastmath import expg as _expg

    @njit
    def both(x):
        out32 = np.empty_like(x)
        outg = np.empty_like(x)
        for i in range(x.size):
            out32[i] = _exp32(x[i])
            outg[i] = _expg(x[i])  # the generic call picks _exp32 for float32
        return out32, outg

    x = np.concatenate([np.linspace(-87.0, 88.0, 20001),
                        np.random.default_rng(0).uniform(-60.0, 60.0, 20000), [0.0]])
    x = x.astype(np.float32)
    ours, generic = both(x)
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours, generic)
    ref = np.exp(x.astype(np.float64))
    assert np.max(np.abs(ours / ref - 1.0)) <= 2 * 2.0 ** -23
    tiny, huge = both(np.array([-1e4, 1e4], dtype=np.float32))[0]
    assert tiny > 0.0 and np.isfinite(huge)  # clamped: never 0 or inf


@pytest.mark.second_process  # (balances the two test processes)
def test_float32_hh_run_computes_in_float32_and_matches_float64_spikes():
    """A float32 network run of HH neurons takes float32 arithmetic (rates, gates, exp):
    the float64 result for the same drive differs by float32 rounding only -- 20 neurons
    under a 200 ms step current fire the same number of spikes (+-1 per neuron, where a
    spike near the end of the run may fall either side of it) at times within 0.2 ms."""
    from neurosim_nb import HodgkinHuxleyNeuron, Network
    from neurosim_nb.stimuli import StepCurrent

    def run(precision):
        net = Network("hh32", seed=1)
        net.add_population("hh", HodgkinHuxleyNeuron.create_mammalian(
            n=20, V_init=np.linspace(-70.0, -60.0, 20)))
        amps = np.linspace(0.2, 1.2, 20)  # nA: from below rheobase to fast firing
        net.add_stimulus("hh", StepCurrent(amplitude=amps, onset_ms=10.0, duration_ms=200.0))
        return net.simulate(220.0, dt=0.05, record=(), seed=1, precision=precision,
                            verbose=False)

    d64, d32 = run("float64"), run("float32")
    n64 = np.bincount(d64.spike_neuron.values, minlength=20)
    n32 = np.bincount(d32.spike_neuron.values, minlength=20)
    assert n64.sum() > 100 and np.all(np.abs(n64 - n32) <= 1)
    for i in np.flatnonzero(n64 == n32):
        t64 = d64.spike_time.values[d64.spike_neuron.values == i]
        t32 = d32.spike_time.values[d32.spike_neuron.values == i]
        assert np.max(np.abs(t64 - t32), initial=0.0) <= 0.2


@pytest.mark.parametrize(("model", "density", "temperature"),
                         [("squid", 10.0, 6.3), ("mammalian", 2.0, 36.0)])
def test_spike_times_match_reference(model, density, temperature):
    # every spike time of the first 150 ms against solve_ivp's event times, within
    # dt + drift * t: the phase error grows linearly with time at the rate error of test 3.
    # dt = 0.01: drift 0.1 %; dt = 0.1: drift 1.5 % (measured 1.4 ms at t = 143 ms, squid)
    t_end = 150.0
    ref = ref_spike_times(model, density, t_end, temperature)
    for dt, drift in ((0.01, 0.001), (0.1, 0.015)):
        pop = create(model, temperature_C=temperature)
        ds = pop.simulate(t_end, current_density=density, dt=dt, seed=0, record=())
        ours = ds.spike_time.values
        assert ours.size == ref.size > 5
        # a crossing inside step k is reported at the step's end (k + 1) dt
        assert np.all(np.abs(ours - ref) <= dt + drift * ref), (dt, ours - ref)


def test_t_refractory_is_brian2s_spike_detector():
    # t_refractory = 0: each upward crossing is a spike. > 0: Brian2's
    # threshold="v > V_th", refractory=t_refractory -- nothing is detected for t_refractory
    # after a spike (V is not clamped, the dynamics are unchanged) and a neuron still above
    # threshold when that ends emits another
    dens = [2.0, 30.0, 300.0]   # ~67 Hz, ~300 Hz, depolarisation block above -20 mV
    a = create("mammalian", n=3).simulate(200.0, current_density=dens, dt=0.1, seed=0,
                                          record=("V",))
    b = create("mammalian", n=3, t_refractory=5.0).simulate(200.0, current_density=dens,
                                                            dt=0.1, seed=0, record=("V",))
    np.testing.assert_array_equal(a.V.values, b.V.values)   # same trajectories
    v = np.concatenate([a.V.values[:1] * 0 + create("mammalian").V, a.V.values])
    for i in range(3):
        tb = b.spike_time.values[b.spike_neuron.values == i]
        assert np.all(np.diff(tb) >= 5.0 - 1e-9)
        # Brian2's rule, replayed on the trace: V >= threshold and 5 ms since the last
        expect, last = [], -np.inf
        for k in range(1, v.shape[0]):
            t = k * 0.1
            if v[k, i] >= -20.0 and t - last >= 5.0 - 1e-9:
                expect.append(t)
                last = t
        np.testing.assert_allclose(tb, expect)
    ta = a.spike_time.values[a.spike_neuron.values == 0]
    tb = b.spike_time.values[b.spike_neuron.values == 0]
    np.testing.assert_array_equal(ta, tb)   # ISIs ~15 ms > 5 ms: nothing suppressed
    assert (b.spike_neuron.values == 1).sum() < (a.spike_neuron.values == 1).sum()


# ------------------------------------------------------------------------------------------
# scheme="exponential_euler": Brian2's method
# ------------------------------------------------------------------------------------------


def brian2_exponential_euler(model: str, J: float, t_end: float, dt: float, state,
                             temperature: float) -> np.ndarray:
    """V (mV) at the end of every step of Brian2's ``method="exponential_euler"`` for these
    equations, written from its definition: each variable x with dx/dt = A + B x (A, B
    evaluated with every other variable at the start of the step) advances exactly,
    x <- -A/B + (x + A/B) e^(B dt). The gates use the reference rates above."""
    C, gNa, gK, gL, ENa, EK, EL, VT, rates, T_ref, _ = REF_MODELS[model]
    phi = Q10 ** ((temperature - T_ref) / 10.0)
    V, m, h, n = state
    out = []
    for _ in range(int(round(t_end / dt))):
        am, bm, ah, bh, an, bn = rates(V, VT)
        gates = []
        for x, a, b in ((m, am, bm), (h, ah, bh), (n, an, bn)):
            A, B = phi * a, -phi * (a + b)
            gates.append(-A / B + (x + A / B) * math.exp(B * dt))
        g_na, g_k = gNa * m ** 3 * h, gK * n ** 4
        A = (g_na * ENa + g_k * EK + gL * EL + J) / C
        B = -(g_na + g_k + gL) / C
        V = -A / B + (V + A / B) * math.exp(B * dt)
        m, h, n = gates
        out.append(V)
    return np.array(out)


@pytest.mark.second_process
@pytest.mark.parametrize(("model", "density", "temperature"),
                         [("squid", 10.0, 6.3), ("mammalian", 2.0, 36.0)])
def test_exponential_euler_scheme_is_brian2s_update(model, density, temperature):
    # the same trajectory step by step from rest: only round-off differs (the kernel's
    # exponentials are within 1 ulp of libm's, ~1e-16 relative per step, amplified by the
    # spikes' instability; measured max 5e-12 mV (squid), 3e-11 mV (mammalian), 4 spikes)
    pop = create(model, temperature_C=temperature, scheme="exponential_euler")
    start = [float(pop.get_state(x)[0]) for x in ("V", "m", "h", "n")]
    ds = pop.simulate(60.0, current_density=density, dt=0.1, seed=0, record=("V",))
    ref = brian2_exponential_euler(model, density, 60.0, 0.1, start, temperature)
    assert ds.sizes["spike"] >= 3
    assert np.max(np.abs(ds.V.values[:, 0] - ref)) < 1e-8


@pytest.mark.second_process
def test_exponential_euler_scheme_is_first_order_and_converges_to_the_reference():
    # Brian2's scheme converges to the ODE at first order, the default at second: measured
    # rate errors (mammalian, 2 uA/cm2, 36 degC) at dt = 0.1 / 0.01 ms: exponential_euler
    # -7.8 / -0.95 % (ratio 8.2; first order: 10), staggered -1.07 / -0.010 % (ratio 107)
    ref = rate_from_spikes(ref_spike_times("mammalian", 2.0, 400.0, 36.0), 100.0)
    err = {}
    for scheme in ("staggered", "exponential_euler"):
        for dt in (0.1, 0.01):
            pop = create("mammalian", temperature_C=36.0, scheme=scheme)
            ds = pop.simulate(400.0, current_density=2.0, dt=dt, seed=0, record=())
            err[scheme, dt] = rate_from_spikes(ds.spike_time.values, 100.0) / ref - 1.0
    ee = "exponential_euler"
    assert abs(err[ee, 0.01]) < 0.02          # the bound of the default scheme's test
    assert 5.0 < err[ee, 0.1] / err[ee, 0.01] < 20.0
    assert abs(err["staggered", 0.1]) < abs(err[ee, 0.1]) / 3.0


def test_scheme_is_validated():
    with pytest.raises(ValueError, match="scheme"):
        HodgkinHuxleyParameters(scheme="euler")
