"""Declared channel mechanisms and the seed's current functions against independent
references: the Nernst and GHK formulas typed here, the compiled Hodgkin-Huxley model
(``HodgkinHuxleyNeuron``, a separate implementation of the same rates), and the formulas
of Huguenard & McCormick (1992) typed from the paper."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from scipy.optimize import brentq

from neurosim_nb.channels import (
    Gate,
    Mechanism,
    calcium_current,
    gate_time_constants,
    ghk_current_density,
    leak_current,
    mechanism,
    nernst_potential,
    potassium_current,
    sodium_current,
    steady_state_gates,
)
from neurosim_nb.core.neurons.hodgkin_huxley import HodgkinHuxleyNeuron

F = 96485.33212      # C/mol
R = 8.314462618      # J/(mol K)


# -- Nernst ---------------------------------------------------------------------------
@pytest.mark.parametrize("t_c", [6.3, 37.0])
def test_nernst_matches_its_formula_at_two_temperatures(t_c):
    # E = RT/(zF) ln(c_out/c_in), in mV; the same arithmetic in another order: rel 1e-12
    for z, ci, co in [(1, 400.0, 20.0), (1, 50.0, 440.0), (2, 1e-4, 2.0), (-1, 40.0, 560.0)]:
        expected = 1000.0 * R * (t_c + 273.15) / (z * F) * math.log(co / ci)
        assert nernst_potential(z, ci, co, t_c) == pytest.approx(expected, rel=1e-12)


def test_nernst_potassium_by_hand():
    # K+ 140 mM in, 5 mM out, 37 degC: RT/F = 8.314462618 * 310.15 / 96485.33212 V
    # = 26.7268 mV; ln(5/140) = -3.33220; E_K = -89.06 mV (the textbook "about -90 mV").
    # Hand arithmetic kept 5 significant digits: tolerance 0.01 mV.
    assert nernst_potential(1, 140.0, 5.0, 37.0) == pytest.approx(-89.06, abs=0.01)


def test_nernst_rejects_bad_input():
    with pytest.raises(TypeError):
        nernst_potential(True, 140.0, 5.0, 37.0)
    with pytest.raises(TypeError):
        nernst_potential(0, 140.0, 5.0, 37.0)
    with pytest.raises(ValueError):
        nernst_potential(1, -1.0, 5.0, 37.0)
    with pytest.raises(TypeError):
        nernst_potential(1, 140.0, False, 37.0)
    with pytest.raises(ValueError):
        nernst_potential(1, 140.0, 5.0, float("nan"))


# -- GHK ------------------------------------------------------------------------------
def _ghk_formula(v_mV, p, z, ci, co, t_c):
    """Textbook GHK current density: P z^2 F^2 V/(RT) (ci - co e^-xi)/(1 - e^-xi), in
    uA/cm2 (P cm/s, c mM = 1e-6 mol/cm3 -> A/cm2 * 1e6)."""
    v = v_mV * 1e-3
    xi = z * F * v / (R * (t_c + 273.15))
    return p * z * z * F * F * v / (R * (t_c + 273.15)) * (ci - co * math.exp(-xi)) / (
        1.0 - math.exp(-xi))


@pytest.mark.parametrize("t_c", [24.0, 36.0])
def test_ghk_matches_its_formula(t_c):
    # away from V = 0 the textbook quotient is well conditioned (|xi| >= 0.04): rel 1e-10
    # allows the ~1e-13 rounding of the textbook form at its smallest |xi|
    v = np.array([-100.0, -40.0, -0.5, 0.5, 10.0, 60.0, 150.0])
    got = ghk_current_density(v, 2e-4, 2, 2.4e-4, 2.0, t_c)
    want = [_ghk_formula(x, 2e-4, 2, 2.4e-4, 2.0, t_c) for x in v]
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_ghk_limit_at_zero_and_continuity():
    p, z, ci, co, t = 1e-4, 2, 1e-4, 2.0, 36.0
    limit = p * z * F * (ci - co)               # V -> 0 limit of the formula
    assert ghk_current_density(0.0, p, z, ci, co, t) == pytest.approx(limit, rel=1e-15)
    # at +-1e-6 mV the exact current differs from the limit by ~ xi/2 ~ 4e-8 relative:
    # the brief's 1e-6 bound holds with margin
    for v in (-1e-6, 1e-6):
        got = ghk_current_density(v, p, z, ci, co, t)
        assert np.isfinite(got)
        assert got == pytest.approx(limit, rel=1e-6)
    # no warning, NaN or overflow at extreme potentials
    with np.errstate(all="raise"):
        out = ghk_current_density(np.array([-1e4, -1e-300, 0.0, 1e-300, 1e4]), p, z, ci, co, t)
    assert np.all(np.isfinite(out))


def test_ghk_reversal_is_the_nernst_potential():
    # the GHK current of one ion vanishes at its Nernst potential (independent relation)
    e = nernst_potential(2, 1e-4, 2.0, 30.0)
    assert abs(ghk_current_density(e, 1e-4, 2, 1e-4, 2.0, 30.0)) < 1e-12


# -- Hodgkin-Huxley against the compiled model ----------------------------------------
V_GRID = np.concatenate([np.linspace(-120.0, 60.0, 721), [-55.0, -40.0, -25.0]])


def test_hh1952_gates_match_the_compiled_model():
    # the same rates, two implementations (numpy expm1 here; the kernel's branch-free exp
    # and series there): rel 1e-12 (observed ~1e-14)
    kin = HodgkinHuxleyNeuron.create_squid_axon().gate_kinetics(V_GRID)
    na = steady_state_gates("hh1952_na", V_GRID)
    k = steady_state_gates("hh1952_k", V_GRID)
    np.testing.assert_allclose(na.sel(gate="m"), kin["m_inf"], rtol=1e-12)
    np.testing.assert_allclose(na.sel(gate="h"), kin["h_inf"], rtol=1e-12)
    np.testing.assert_allclose(k.sel(gate="n"), kin["n_inf"], rtol=1e-12)
    tau = gate_time_constants("hh1952_na", V_GRID, temperature_C=6.3)
    np.testing.assert_allclose(tau.sel(gate="m"), kin["tau_m"], rtol=1e-12)
    np.testing.assert_allclose(tau.sel(gate="h"), kin["tau_h"], rtol=1e-12)
    # Q10 = 3 at 16.3 degC: time constants / 3
    warm = HodgkinHuxleyNeuron.create_squid_axon(temperature_C=16.3).gate_kinetics(V_GRID)
    np.testing.assert_allclose(gate_time_constants("hh1952_k", V_GRID, 16.3).sel(gate="n"),
                               warm["tau_n"], rtol=1e-12)


def test_hh1952_currents_match_the_compiled_model():
    kin = HodgkinHuxleyNeuron.create_squid_axon().gate_kinetics(V_GRID)
    i_na = 120.0 * kin["m_inf"] ** 3 * kin["h_inf"] * (V_GRID - 50.0)
    i_k = 36.0 * kin["n_inf"] ** 4 * (V_GRID + 77.0)
    # rel 1e-12 on the gates -> <= ~4e-12 on m^3 h; atol for the zero at E_rev
    np.testing.assert_allclose(sodium_current(V_GRID, model="hh1952"), i_na, rtol=1e-11,
                               atol=1e-12)
    np.testing.assert_allclose(potassium_current(V_GRID), i_k, rtol=1e-11, atol=1e-12)


def test_traub_miles_gates_match_the_compiled_model():
    for vt in (-63.0, -55.0):
        kin = HodgkinHuxleyNeuron.create_mammalian(V_T=vt).gate_kinetics(V_GRID)
        na = steady_state_gates(mechanism("traub_miles_na", V_T=vt), V_GRID)
        k = steady_state_gates(mechanism("traub_miles_k", V_T=vt), V_GRID)
        np.testing.assert_allclose(na.sel(gate="m"), kin["m_inf"], rtol=1e-12)
        np.testing.assert_allclose(na.sel(gate="h"), kin["h_inf"], rtol=1e-12)
        np.testing.assert_allclose(k.sel(gate="n"), kin["n_inf"], rtol=1e-12)
        # create_mammalian is at 37 degC, T_ref 36, Q10 3
        tau = gate_time_constants(mechanism("traub_miles_k", V_T=vt), V_GRID, 37.0)
        np.testing.assert_allclose(tau.sel(gate="n"), kin["tau_n"], rtol=1e-12)


def test_hh_resting_potential_is_the_zero_of_the_iv_curve():
    def total(v):
        return float((leak_current(v) + sodium_current(v) + potassium_current(v)).item())

    rest = brentq(total, -80.0, -60.0, xtol=1e-12, rtol=1e-15)
    expected = HodgkinHuxleyNeuron.create_squid_axon().resting_potential()[0]
    # both bisect to ~machine precision on curves equal to 1e-12: 1e-6 mV is ample
    assert rest == pytest.approx(expected, abs=1e-6)


def test_rates_are_continuous_at_their_removable_singularities():
    # alpha_m at -40 mV and alpha_n at -55 mV (hh1952): x / (1 - e^-x) limits
    for name, v0 in (("hh1952_na", -40.0), ("hh1952_k", -55.0)):
        gate = mechanism(name).gates[0]
        a = gate.alpha(np.array([v0 - 1e-7, v0, v0 + 1e-7]))
        assert np.all(np.isfinite(a))
        assert abs(a[0] - a[1]) < 1e-8 and abs(a[2] - a[1]) < 1e-8


# -- T-type calcium (Huguenard & McCormick 1992) ---------------------------------------
def test_t_type_steady_states_match_the_paper():
    # Huguenard JR, McCormick DA (1992) J Neurophysiol 68:1373-1383, thalamic relay cells:
    #   m_inf = 1 / (1 + exp(-(V + 57) / 6.2)),   h_inf = 1 / (1 + exp((V + 81) / 4))
    # typed here; the same expression evaluated twice: rel 1e-14
    for v in (-90.0, -60.0):
        m = 1.0 / (1.0 + math.exp(-(v + 57.0) / 6.2))
        h = 1.0 / (1.0 + math.exp((v + 81.0) / 4.0))
        g = steady_state_gates("T", [v])
        assert float(g.sel(gate="m").item()) == pytest.approx(m, rel=1e-14)
        assert float(g.sel(gate="h").item()) == pytest.approx(h, rel=1e-14)


def test_t_type_time_constants_and_temperature():
    # tau_m = 0.612 + 1/(exp(-(V+132)/16.7) + exp((V+16.8)/18.2)); tau_h = exp((V+467)/66.6)
    # below -80 mV, 28 + exp(-(V+22)/10.5) above (ms, 24 degC); Q10 5 (m), 3 (h)
    v = -70.0
    tm = 0.612 + 1.0 / (math.exp(-(v + 132.0) / 16.7) + math.exp((v + 16.8) / 18.2))
    th = 28.0 + math.exp(-(v + 22.0) / 10.5)
    tau = gate_time_constants("T", [v, -90.0], temperature_C=34.0)
    assert float(tau.sel(gate="m")[0]) == pytest.approx(tm / 5.0, rel=1e-14)
    assert float(tau.sel(gate="h")[0]) == pytest.approx(th / 3.0, rel=1e-14)
    assert float(tau.sel(gate="h")[1]) == pytest.approx(
        math.exp((-90.0 + 467.0) / 66.6) / 3.0, rel=1e-14)


def test_calcium_current_is_open_fraction_times_ghk():
    v = np.linspace(-100.0, 40.0, 29)
    i = calcium_current(v, model="T", temperature_C=36.0)
    g = steady_state_gates("T", v)
    want = g.sel(gate="m") ** 2 * g.sel(gate="h") * ghk_current_density(
        v, 2e-4, 2, 2.4e-4, 2.0, 36.0)
    np.testing.assert_allclose(i, want, rtol=1e-14)
    i_l = calcium_current(v, model="L", P_max=5e-5)
    assert i_l.attrs["mechanism"] == "L" and np.all(i_l.values <= 0.0)


# -- the DataArray contract and input errors --------------------------------------------
def test_outputs_are_named_dataarrays_with_units():
    v = np.linspace(-100.0, 50.0, 151)
    for fn, name in ((leak_current, "I_L"), (sodium_current, "I_Na"),
                     (potassium_current, "I_K"), (calcium_current, "I_Ca")):
        da = fn(v)
        assert isinstance(da, xr.DataArray) and da.name == name and da.dims == ("V",)
        assert da.attrs["units"] == "uA/cm2" and da.attrs["long_name"]
        assert da.V.attrs["units"] == "mV"
        np.testing.assert_array_equal(da.V, v)
    g = steady_state_gates("hh1952_na", v)
    assert g.dims == ("gate", "V") and g.attrs["units"] == "1"


@pytest.mark.parametrize("call, exc", [
    (lambda: sodium_current([0.0, np.nan]), ValueError),
    (lambda: sodium_current(np.inf), ValueError),
    (lambda: sodium_current([]), ValueError),
    (lambda: sodium_current(np.zeros((2, 2))), ValueError),
    (lambda: sodium_current(-60.0, model="hh1953"), ValueError),
    (lambda: potassium_current(-60.0, model="L"), ValueError),
    (lambda: calcium_current(-60.0, model="hh1952"), ValueError),
    (lambda: potassium_current(-60.0, g_max=-1.0), ValueError),
    (lambda: calcium_current(-60.0, P_max=-1e-4), ValueError),
    (lambda: leak_current(True), TypeError),
    (lambda: leak_current([-60.0, False]), TypeError),
    (lambda: leak_current(-60.0, g_max=True), TypeError),
    (lambda: sodium_current(-60.0, temperature_C=True), TypeError),
    (lambda: sodium_current(-60.0, V_T=-55.0), TypeError),   # hh1952 has no V_T
    (lambda: sodium_current("abc"), TypeError),
    (lambda: sodium_current(-60.0, model=mechanism("hh1952_k")), ValueError),
    (lambda: steady_state_gates(3, -60.0), TypeError),
])
def test_bad_input_raises_clearly(call, exc):
    with pytest.raises(exc):
        call()


def test_declaring_a_mechanism():
    # a Nernst-reversal potassium channel with x_inf / tau kinetics
    gate = Gate("a", 1, x_inf=lambda v: 1.0 / (1.0 + np.exp(-(v + 30.0) / 10.0)),
                tau=lambda v: 5.0 + 0.0 * v)
    mech = Mechanism("ka_demo", "k", (gate,), reversal="nernst", g_max=2.0,
                     c_in_mM=140.0, c_out_mM=5.0, Q10=3.0, T_ref_C=22.0)
    e_k = nernst_potential(1, 140.0, 5.0, 37.0)
    i = potassium_current(-30.0, model=mech, temperature_C=37.0)
    assert float(i.item()) == pytest.approx(2.0 * 0.5 * (-30.0 - e_k), rel=1e-14)
    with pytest.raises(ValueError):
        Gate("b", 1, alpha=lambda v: v)               # beta missing
    with pytest.raises(ValueError):
        Gate("b", 0, x_inf=np.tanh, tau=np.cosh)      # power 0
    with pytest.raises(ValueError):
        Mechanism("x", "zz", (), g_max=1.0, E_rev=0.0)
    with pytest.raises(ValueError):
        Mechanism("x", "ca", (), reversal="ghk", c_in_mM=1e-4, c_out_mM=2.0)  # no P_max
