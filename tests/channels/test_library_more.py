"""The M-current, I_h, SK and AHP mechanisms and the calcium-gate API against independent
references: each formula is typed again here from its source .mod file (Pospischil et al.
2008 ``IM_cortex.mod``, ModelDB 123623; Hay et al. 2011 ``Ih.mod`` and ``SK_E2.mod``,
ModelDB 139653; Destexhe et al. 1994 ``IAHP.mod``), evaluated with ``math`` at single
points, plus the closed-form landmarks of each (half-activation, peak time constant)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from neurosim_nb.channels import (
    MECHANISMS,
    Gate,
    Mechanism,
    calcium_activated_current,
    channel_current,
    gate_time_constants,
    mechanism,
    potassium_current,
    steady_state_gates,
)
from neurosim_nb.channels.mechanism import CA_RANGE_MM, V_RANGE_MV, rate_grid

# the same expression evaluated twice (math here, numpy there) agrees to a few ulp;
# rel 1e-13 leaves room for exp/pow of different libraries
REL = 1e-13


# -- M-current: IM_cortex.mod (Pospischil et al. 2008) -----------------------------------
def _im_mod(v, celsius=36.0, taumax=1000.0):
    """IM_cortex.mod: m_inf = 1/(1+exp(-(v+35)/10)); tau_peak = taumax / tadj with
    tadj = 2.3^((celsius-36)/10); tau_m = tau_peak / (3.3 exp((v+35)/20) + exp(-(v+35)/20))."""
    tadj = 2.3 ** ((celsius - 36.0) / 10.0)
    m_inf = 1.0 / (1.0 + math.exp(-(v + 35.0) / 10.0))
    tau = (taumax / tadj) / (3.3 * math.exp((v + 35.0) / 20.0) + math.exp(-(v + 35.0) / 20.0))
    return m_inf, tau


@pytest.mark.parametrize("v", [-90.0, -70.0, -35.0, -10.0, 30.0])
def test_m_current_matches_im_cortex_mod(v):
    m_inf, tau = _im_mod(v)
    assert float(steady_state_gates("M", [v]).item()) == pytest.approx(m_inf, rel=REL)
    assert float(gate_time_constants("M", [v]).item()) == pytest.approx(tau, rel=REL)
    # Q10 2.3 from 36 degC: at 26 and 46 degC the .mod's tadj
    for t in (26.0, 46.0):
        assert float(gate_time_constants("M", [v], t).item()) == pytest.approx(
            _im_mod(v, celsius=t)[1], rel=REL)
    # tau_max option (the .mod's taumax)
    assert float(gate_time_constants(mechanism("M", tau_max=608.0), [v]).item()) == \
        pytest.approx(_im_mod(v, taumax=608.0)[1], rel=REL)


def test_m_current_landmarks_and_defaults():
    m = mechanism("M")
    # at V = -35 mV both exponentials are 1: tau = tau_max / 4.3, p_inf = 1/2
    assert float(m.gates[0].time_constant(-35.0)) == pytest.approx(1000.0 / 4.3, rel=1e-15)
    assert float(m.gates[0].steady_state(-35.0)) == 0.5
    # ModelDB 123623 sPY_template (RS cell): gkbar_im = 7e-5 S/cm2, taumax 1000, ek -100
    assert (m.g_max, m.E_rev, m.ion, m.Q10, m.T_ref_C) == (0.07, -100.0, "k", 2.3, 36.0)
    v = np.array([-80.0, -50.0, 0.0])
    want = [0.07 * _im_mod(x)[0] * (x + 100.0) for x in v]
    np.testing.assert_allclose(potassium_current(v, model="M"), want, rtol=REL)
    with pytest.raises(ValueError):
        mechanism("M", tau_max=0.0)


# -- I_h: Ih.mod of Hay et al. (2011), Kole et al. (2006) -------------------------------
def _ih_mod(v):
    """Ih.mod: mAlpha = 0.001*6.43*(v+154.9)/(exp((v+154.9)/11.9)-1),
    mBeta = 0.001*193*exp(v/33.1), mInf = a/(a+b), mTau = 1/(a+b)."""
    a = 0.001 * 6.43 * (v + 154.9) / (math.exp((v + 154.9) / 11.9) - 1.0)
    b = 0.001 * 193.0 * math.exp(v / 33.1)
    return a, b, a / (a + b), 1.0 / (a + b)


@pytest.mark.parametrize("v", [-130.0, -100.0, -80.0, -60.0, -30.0, 20.0])
def test_ih_matches_hay_ih_mod(v):
    a, b, m_inf, tau = _ih_mod(v)
    gate = mechanism("h").gates[0]
    # the textbook quotient vs the expm1 form: |x| >= 2 here, both well conditioned
    assert float(gate.alpha(v)) == pytest.approx(a, rel=1e-12)
    assert float(gate.beta(v)) == pytest.approx(b, rel=REL)
    assert float(steady_state_gates("h", [v]).item()) == pytest.approx(m_inf, rel=1e-12)
    assert float(gate_time_constants("h", [v]).item()) == pytest.approx(tau, rel=1e-12)
    # Ih.mod has no temperature factor: Q10 1, the same tau at 20 and 37 degC
    assert float(gate_time_constants("h", [v], 20.0).item()) == pytest.approx(tau, rel=1e-12)
    assert float(gate_time_constants("h", [v], 37.0).item()) == pytest.approx(tau, rel=1e-12)


def test_ih_current_reverses_at_minus_45_and_is_continuous_at_its_singularity():
    h = mechanism("h")
    assert (h.ion, h.E_rev, h.g_max) == (None, -45.0, 0.2)      # Hay soma: 0.0002 S/cm2
    v = np.array([-120.0, -45.0, -20.0])
    i = channel_current("h", v)
    want = [0.2 * _ih_mod(x)[2] * (x + 45.0) for x in v]
    np.testing.assert_allclose(i, want, rtol=1e-12, atol=1e-15)
    assert i.name == "I_h" and "nonspecific" in i.attrs["long_name"]
    # alpha's removable singularity at -154.9 mV: limit 0.001 * 6.43 * 11.9
    a = h.gates[0].alpha(np.array([-154.9 - 1e-7, -154.9, -154.9 + 1e-7]))
    np.testing.assert_allclose(a, 0.001 * 6.43 * 11.9, rtol=1e-7)
    # I_h activates on hyperpolarisation: m_inf decreases with V
    assert np.all(np.diff(steady_state_gates("h", rate_grid("v")).values[0]) < 0.0)


# -- SK: SK_E2.mod of Hay et al. (2011) --------------------------------------------------
def _sk_mod(ca):
    """SK_E2.mod: if (ca < 1e-7) ca = ca + 1e-7; zInf = 1/(1 + (0.00043/ca)^4.8); zTau 1."""
    if ca < 1e-7:
        ca = ca + 1e-7
    return 1.0 / (1.0 + (0.00043 / ca) ** 4.8)


@pytest.mark.parametrize("ca", [0.0, 5e-8, 1e-5, 1e-4, 4.3e-4, 1e-3, 0.1])
def test_sk_matches_sk_e2_mod(ca):
    assert float(steady_state_gates("SK", ca_mM=[ca]).item()) == pytest.approx(
        _sk_mod(ca), rel=REL)
    # zTau = 1 ms at every [Ca]i and temperature (no Q10 in the .mod)
    for t in (None, 22.0, 37.0):
        assert float(gate_time_constants("SK", temperature_C=t, ca_mM=[ca]).item()) == 1.0


def test_sk_half_activation_and_hill_slope():
    gate = mechanism("SK").gates[0]
    assert float(gate.steady_state(0.00043)) == 0.5               # 0.43 uM, exactly
    # z/(1-z) = (ca/0.43 uM)^4.8: the log-log slope is the Hill coefficient 4.8
    ca = np.array([2e-4, 8e-4])
    z = gate.steady_state(ca)
    slope = np.diff(np.log(z / (1.0 - z))) / np.diff(np.log(ca))
    assert float(slope[0]) == pytest.approx(4.8, rel=1e-12)
    sk = mechanism("SK")
    assert (sk.ion, sk.E_rev, sk.g_max, sk.gates[0].variable) == ("k", -85.0, 44.1, "ca")


# -- AHP: IAHP.mod of Destexhe et al. (1994) ---------------------------------------------
def _iahp_mod(cai, celsius):
    """IAHP.mod: tadj = 3^((celsius-22)/10); car = (cai/cac)^2; m_inf = car/(1+car);
    tau_m = 1/beta/(1+car)/tadj; if (tau_m < taumin) tau_m = taumin; beta 0.03 /ms,
    cac 0.025 mM, taumin 0.1 ms."""
    tadj = 3.0 ** ((celsius - 22.0) / 10.0)
    car = (cai / 0.025) ** 2
    tau = 1.0 / 0.03 / (1.0 + car) / tadj
    return car / (1.0 + car), max(tau, 0.1)


@pytest.mark.parametrize("ca", [0.0, 2.4e-4, 0.01, 0.025, 0.1, 0.3, 1.0])
@pytest.mark.parametrize("t", [22.0, 36.0])
def test_ahp_matches_iahp_mod(ca, t):
    m_inf, tau = _iahp_mod(ca, t)
    assert float(steady_state_gates("AHP", ca_mM=[ca]).item()) == pytest.approx(m_inf,
                                                                                rel=REL)
    # the taumin floor after temperature scaling: at 36 degC it binds above ~0.21 mM
    assert float(gate_time_constants("AHP", temperature_C=t, ca_mM=[ca]).item()) == \
        pytest.approx(tau, rel=REL)


def test_ahp_landmarks_and_current():
    gate = mechanism("AHP").gates[0]
    assert float(gate.steady_state(0.025)) == 0.5                  # cac = 25 uM
    assert float(gate.time_constant(0.0)) == pytest.approx(1.0 / 0.03, rel=1e-15)
    assert gate.power == 2 and gate.tau_min == 0.1
    ahp = mechanism("AHP", beta=0.06, ca_half=0.01)
    assert float(ahp.gates[0].steady_state(0.01)) == 0.5
    assert float(ahp.gates[0].time_constant(0.0)) == pytest.approx(1.0 / 0.06, rel=1e-15)
    # I = g m_inf^2 (V - E_K), 10 mS/cm2, E_K -95 mV (the .mod's defaults)
    v = np.array([-95.0, -60.0, 0.0])
    i = calcium_activated_current(v, 0.05, model="AHP")
    m2 = _iahp_mod(0.05, 22.0)[0] ** 2
    np.testing.assert_allclose(i, 10.0 * m2 * (v + 95.0), rtol=REL, atol=1e-15)
    assert float(i.Ca_i) == 0.05 and i.Ca_i.attrs["units"] == "mM"


# -- the calcium-gate API ----------------------------------------------------------------
def test_calcium_activated_current_over_v_and_ca():
    v = np.linspace(-100.0, 0.0, 11)
    ca = np.array([1e-5, 4.3e-4, 1e-2])
    i = calcium_activated_current(v, ca, model="SK", g_max=2.0, E_rev=-90.0)
    assert i.dims == ("Ca_i", "V") and i.name == "I_KCa" and i.attrs["units"] == "uA/cm2"
    assert i.Ca_i.attrs["units"] == "mM" and i.V.attrs["units"] == "mV"
    want = np.array([[2.0 * _sk_mod(c) * (x + 90.0) for x in v] for c in ca])
    np.testing.assert_allclose(i, want, rtol=REL, atol=1e-14)
    # channel_current is the same function for any mechanism
    xr.testing.assert_allclose(channel_current(mechanism("SK", g_max=2.0, E_rev=-90.0), v,
                                               ca_mM=ca).rename("I_KCa"), i)


def test_mechanism_api_for_calcium_gates():
    sk = mechanism("SK")
    with pytest.raises(ValueError, match="depends on \\[Ca\\]i"):
        sk.open_fraction(-60.0)
    with pytest.raises(ValueError, match="depends on \\[Ca\\]i"):
        sk.current_density(-60.0, 34.0)
    # a gate given by value needs no [Ca]i
    assert float(sk.current_density(-60.0, 34.0, gates={"z": 0.25})[0]) == pytest.approx(
        44.1 * 0.25 * 25.0, rel=1e-15)
    # an array of [Ca]i, one per potential
    got = sk.open_fraction(np.array([-60.0, -50.0]), ca_mM=np.array([1e-4, 1e-3]))
    np.testing.assert_allclose(got, [_sk_mod(1e-4), _sk_mod(1e-3)], rtol=REL)
    with pytest.raises(ValueError):
        sk.open_fraction(-60.0, ca_mM=-1e-4)
    with pytest.raises(ValueError):
        sk.open_fraction(-60.0, ca_mM=np.nan)
    with pytest.raises(TypeError):
        sk.open_fraction(-60.0, ca_mM=True)
    assert sk.calcium_gated and not mechanism("M").calcium_gated


def test_a_mechanism_with_voltage_and_calcium_gates():
    # a user's K channel gated by V (a) and by [Ca]i (c): the open fraction is a * c
    a = Gate("a", 1, x_inf=lambda v: 1.0 / (1.0 + np.exp(-(v + 20.0) / 5.0)),
             tau=lambda v: 2.0 + 0.0 * v)
    c = Gate("c", 1, x_inf=lambda ca: ca / (ca + 1e-3), tau=lambda ca: 10.0 + 0.0 * ca,
             variable="ca")
    mech = Mechanism("kv_ca", "k", (a, c), g_max=1.0, E_rev=-80.0, T_ref_C=22.0)
    got = float(mech.open_fraction(-20.0, ca_mM=1e-3))
    assert got == pytest.approx(0.5 * 0.5, rel=1e-15)
    assert steady_state_gates(mech, [-20.0]).gate.values.tolist() == ["a"]
    g = steady_state_gates(mech, ca_mM=[1e-3, 3e-3])
    assert g.dims == ("gate", "Ca_i") and g.gate.values.tolist() == ["c"]
    np.testing.assert_allclose(g.values[0], [0.5, 0.75], rtol=1e-15)
    tau = gate_time_constants(mech, temperature_C=32.0, ca_mM=[1e-3])
    assert float(tau.item()) == pytest.approx(10.0 / 3.0, rel=1e-15)  # Q10 3, +10 degC


@pytest.mark.parametrize("call, exc", [
    (lambda: steady_state_gates("SK", [-60.0]), ValueError),          # no voltage gate
    (lambda: steady_state_gates("M", ca_mM=[1e-4]), ValueError),      # no calcium gate
    (lambda: steady_state_gates("SK"), TypeError),                    # neither
    (lambda: steady_state_gates("SK", [-60.0], ca_mM=[1e-4]), TypeError),   # both
    (lambda: gate_time_constants("AHP", [-60.0]), ValueError),
    (lambda: channel_current("M", -60.0, ca_mM=1e-4), ValueError),    # ca does not apply
    (lambda: channel_current("SK", -60.0), ValueError),               # ca needed
    (lambda: channel_current(3, -60.0), TypeError),
    (lambda: calcium_activated_current(-60.0, 1e-4, model="M"), ValueError),
    (lambda: calcium_activated_current(-60.0, None), ValueError),
    (lambda: calcium_activated_current(-60.0, [1e-4, -1.0]), ValueError),
    (lambda: calcium_activated_current(-60.0, 1e-4, g_max="1"), TypeError),
    (lambda: calcium_activated_current(-60.0, 1e-4, model=mechanism("M")), ValueError),
    (lambda: calcium_activated_current(-60.0, 1e-4, model=mechanism("SK"), g_max=1.0),
     TypeError),
    (lambda: potassium_current(-60.0, model="SK"), ValueError),
    (lambda: potassium_current(-60.0, model=mechanism("SK")), ValueError),   # needs ca
    (lambda: Gate("z", 1, x_inf=np.tanh, tau=np.cosh, variable="Ca"), ValueError),
    (lambda: Gate("z", 1, x_inf=np.tanh, tau=np.cosh, tau_min=0.0), ValueError),
])
def test_bad_calcium_input_raises_clearly(call, exc):
    with pytest.raises(exc):
        call()


def test_leak_current_refuses_a_gated_mechanism():
    from neurosim_nb.channels import leak_current
    with pytest.raises(ValueError, match="not a leak"):
        leak_current(-60.0, model=mechanism("h"))


# -- the rate check at declaration ------------------------------------------------------
def _declare(gate, ion="k"):
    return Mechanism("user", ion, (gate,), g_max=1.0, E_rev=-80.0)


def _sig(v):
    return 1.0 / (1.0 + np.exp(-v / 10.0))


@pytest.mark.parametrize("gate, pattern", [
    (Gate("w", 1, x_inf=lambda v: 1.5 * _sig(v), tau=lambda v: 1.0 + 0.0 * v),
     "gate 'w': x_inf is outside \\[0, 1\\]"),
    (Gate("w", 1, x_inf=_sig, tau=lambda v: v + 200.0 - 300.0),
     "gate 'w': tau is <= 0 \\(ms\\) at V = -150 mV"),
    (Gate("w", 1, alpha=lambda v: 0.01 * v, beta=lambda v: 0.1 + 0.0 * v),
     "gate 'w': alpha is negative"),
    (Gate("w", 1, x_inf=_sig, tau=lambda v: np.sqrt(v + 100.0)),
     "gate 'w': tau is not finite at V = -150 mV"),
    (Gate("w", 1, x_inf=_sig, tau=lambda v: np.exp(v)),             # overflows above ~709
     None),
    (Gate("c", 1, x_inf=lambda ca: ca / (ca - 1.0), tau=lambda ca: 1.0 + 0 * ca,
          variable="ca"), "gate 'c': x_inf is (not finite|outside).*\\[Ca\\]i"),
])
def test_rate_check_catches_a_bad_user_gate(gate, pattern):
    if pattern is None:
        _declare(gate)              # exp(100) is finite: accepted over V in [-150, 100]
        return
    with pytest.raises(ValueError, match=pattern):
        _declare(gate)


def test_rate_check_refuses_scalar_only_functions():
    gate = Gate("w", 1, x_inf=lambda v: 1.0 / (1.0 + math.exp(-v)), tau=lambda v: 1.0)
    with pytest.raises(TypeError, match="vectorised numpy"):
        _declare(gate)


def test_every_library_mechanism_passes_the_rate_check_on_the_grids():
    assert rate_grid("v")[[0, -1]].tolist() == list(V_RANGE_MV)
    ca = rate_grid("ca")
    assert ca[0] == pytest.approx(CA_RANGE_MM[0], rel=1e-12) and ca[-1] == CA_RANGE_MM[1]
    with np.errstate(all="raise"):          # and without a floating-point warning
        for name in MECHANISMS:
            mech = mechanism(name)
            mech.check_rates()
            for g in mech.gates:
                x = rate_grid(g.variable)
                assert np.all(np.isfinite(g.steady_state(x)))
                assert np.all(g.time_constant(x, mech.rate_factor(37.0, g)) > 0.0)
