"""The calcium pool (neurosim_nb.channels.pools) against closed forms and scipy.

References: the pool without a pump is linear, so its solution under a constant influx J
is c* + (c0 - c*) exp(-t / tau) with c* = ca_inf + tau J (exact); with the pump it is
checked against scipy's solve_ivp (DOP853, rtol 1e-12). The influx itself is the
textbook conversion J = -I / (2 F d): I in A/cm2 over a shell d cm deep gives mol/(cm3 s).
"""

import numpy as np
import pytest
import xarray as xr
from scipy.integrate import solve_ivp

from neurosim_nb.channels import nernst_potential
from neurosim_nb.channels.pools import calcium_influx, ion_dynamics

F = 96485.33212


def test_influx_is_the_current_over_2F_times_the_shell_volume():
    # 3 uA/cm2 = 3e-6 A/cm2 into 0.2 um = 2e-5 cm: mol/(cm3 s) -> mM/ms (x 1e6 / 1e3)
    expected = 3e-6 / (2 * F * 2e-5) * 1e6 / 1e3
    assert calcium_influx(-3.0, 0.2) == pytest.approx(expected, rel=1e-12)
    assert calcium_influx(5.0, 0.2) == 0.0          # an outward current pumps nothing out


@pytest.mark.parametrize("current, ca0", [(-2.0, 2.4e-4), (-0.5, 1e-3), (0.0, 5e-3)])
def test_no_pump_matches_the_closed_form(current, ca0):
    """Rel 1e-9: RK4 on a linear flow at dt = 0.01 ms of tau = 5 ms errs by
    ~(dt/tau)^5 / 120 per step, far below it."""
    ds = ion_dynamics(current, 40.0, dt=0.01, ca0_mM=ca0)
    tau, ca_inf = 5.0, 2.4e-4
    c_star = ca_inf + tau * float(calcium_influx(current, 0.1))
    t = ds.time.values
    exact = c_star + (ca0 - c_star) * np.exp(-t / tau)
    np.testing.assert_allclose(ds.Ca_i.values, exact, rtol=1e-9)


def test_pump_matches_scipy():
    """Rel 1e-8 against DOP853 at rtol 1e-12 (RK4 with dt = 0.005 ms: local error
    O(dt^5) on rates ~1/tau = 0.2/ms)."""
    kt, kd, tau, ca_inf = 1e-4, 1e-4, 5.0, 2.4e-4
    j = float(calcium_influx(-3.0, 0.1))

    def rhs(_t, c):
        return [j + (ca_inf - c[0]) / tau - kt * c[0] / (c[0] + kd)]

    ds = ion_dynamics(-3.0, 30.0, dt=0.005, pump_kt_mM_per_ms=kt, pump_kd_mM=kd)
    ref = solve_ivp(rhs, (0.0, 30.0), [ca_inf], method="DOP853", rtol=1e-12, atol=1e-15,
                    t_eval=ds.time.values)
    np.testing.assert_allclose(ds.Ca_i.values, ref.y[0], rtol=1e-8)
    # the pump lowers the plateau below the pump-free one
    assert ds.Ca_i[-1] < ion_dynamics(-3.0, 30.0, dt=0.005).Ca_i[-1]


def test_time_varying_current_and_nernst_follow_the_pool():
    t = np.arange(0.0, 20.0, 0.01)
    pulse = np.where((t >= 5.0) & (t < 10.0), -4.0, 0.0)
    ds = ion_dynamics(pulse, 20.0, dt=0.01)
    i_peak = int(np.argmax(ds.Ca_i.values))
    assert abs(ds.time.values[i_peak] - 10.0) < 0.02          # rises during the pulse only
    assert ds.Ca_i[-1] < ds.Ca_i[i_peak]                        # then decays
    k = 1500
    assert float(ds.E_Ca[k]) == pytest.approx(
        nernst_potential(2, float(ds.Ca_i[k]), 2.0, 36.0), rel=1e-12)
    as_da = ion_dynamics(xr.DataArray(pulse, coords={"time": t}, dims="time"), 20.0)
    np.testing.assert_allclose(as_da.Ca_i.values, ds.Ca_i.values, rtol=1e-12)


@pytest.mark.parametrize("kwargs, error", [
    ({"I_Ca_uA_per_cm2": float("nan")}, ValueError),
    ({"I_Ca_uA_per_cm2": True}, TypeError),
    ({"I_Ca_uA_per_cm2": [1.0, 2.0]}, ValueError),          # not one value per step
    ({"I_Ca_uA_per_cm2": "a"}, TypeError),
    ({"I_Ca_uA_per_cm2": -1.0, "depth_um": 0.0}, ValueError),
    ({"I_Ca_uA_per_cm2": -1.0, "tau_ms": -5.0}, ValueError),
    ({"I_Ca_uA_per_cm2": -1.0, "dt": 1.0, "duration_ms": 0.5}, ValueError),
])
def test_bad_input_is_refused(kwargs, error):
    kwargs.setdefault("duration_ms", 10.0)
    with pytest.raises(error):
        ion_dynamics(**kwargs)


def test_a_step_too_large_for_the_pool_is_refused():
    """RK4 at dt = 50 ms on a 1 ms flow would not fail, it would explode silently."""
    with pytest.raises(ValueError, match="too large"):
        ion_dynamics(0.0, 500.0, dt=50.0, tau_ms=1.0)
    with pytest.raises(ValueError, match="too large"):   # the pump's slope counts too
        ion_dynamics(0.0, 50.0, dt=0.5, tau_ms=100.0, pump_kt_mM_per_ms=1.0, pump_kd_mM=0.1)
