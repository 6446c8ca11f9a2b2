"""The compiled membrane against the declared mechanisms it is generated from.

References: each mechanism's own numpy current (:meth:`Mechanism.current_density`, itself
tested against the published formulas in test_channels.py), the closed-form solution of a
gate at constant V, the calcium pool's RK4 integrator (:func:`ion_dynamics`, tested against
its closed form in test_pools.py) and a central difference for the slope.

Tolerances: rates are tabulated every 0.02 mV (linear interpolation, error h^2 |f''| / 8);
for these channels |f''| of the current is below ~50 uA/cm2/mV^2 near the spike, so the
interpolation error is below 2.5e-3 uA/cm2 -- we allow 1e-5 relative + 5e-3 absolute.
"""

import numpy as np
import pytest

from neurosim_nb.channels.library import mechanism
from neurosim_nb.channels.mechanism import Mechanism, ghk_current_density
from neurosim_nb.channels.membrane import CalciumPool, Membrane
from neurosim_nb.channels.pools import ion_dynamics

HH = ("hh1952_na", "hh1952_k", "hh1952_leak")
CORTICAL = ("traub_miles_na", "traub_miles_k", "traub_miles_leak", "L", "T")


def _gates_at(membrane, s):
    row, out = 0, []
    for m in membrane.mechanisms:
        gates = {}
        for g in m.gates:
            gates[g.name] = s[row]
            row += 1
        out.append(gates)
    return out


@pytest.mark.parametrize("names,temp", [(HH, 6.3), (HH, 18.5), (CORTICAL, 36.0)])
def test_currents_match_the_declared_mechanisms(names, temp):
    mem = Membrane([mechanism(n) for n in names], temperature_C=temp)
    c = mem.compile(0.025)
    rng = np.random.default_rng(1)
    v = np.concatenate([np.linspace(-120, 60, 181), rng.uniform(-100, 50, 200)])
    s = rng.uniform(0.0, 1.0, (len(mem.state_names), v.size))
    p = c.parameters(v.size)
    i, g, ica = c.currents(v, s, p)
    want = np.zeros_like(v)
    want_ca = np.zeros_like(v)
    for m, gates in zip(mem.mechanisms, _gates_at(mem, s), strict=True):
        cur = m.current_density(v, temp, gates=gates)
        want += cur
        if m.ion == "ca":
            want_ca += cur
    np.testing.assert_allclose(i, want, rtol=1e-5, atol=5e-3)
    np.testing.assert_allclose(ica, want_ca, rtol=1e-5, atol=5e-3)


def test_slope_is_the_derivative_with_gates_frozen():
    mem = Membrane([mechanism(n) for n in CORTICAL], temperature_C=36.0)
    c = mem.compile(0.025)
    v = np.linspace(-90.0, 40.0, 27) + 0.013  # off the grid points
    s = np.random.default_rng(2).uniform(0.05, 1.0, (len(mem.state_names), v.size))
    p = c.parameters(v.size)
    _, g, _ = c.currents(v, s, p)
    h = 1e-3
    num = np.zeros_like(v)
    for m, gates in zip(mem.mechanisms, _gates_at(mem, s), strict=True):
        num += (m.current_density(v + h, 36.0, gates=gates)
                - m.current_density(v - h, 36.0, gates=gates)) / (2 * h)
    # ohmic terms are exact; the GHK slope is the table's gradient (error ~ h^2 f''' / 6)
    np.testing.assert_allclose(g, num, rtol=1e-4, atol=1e-5)


def test_ghk_current_is_continuous_through_zero_and_matches_the_formula():
    mem = Membrane([mechanism("L")], temperature_C=23.0)
    c = mem.compile(0.025)
    v = np.array([-1e-9, 0.0, 1e-9, 0.01, -0.01])
    s = np.ones((2, v.size))
    i, _, ica = c.currents(v, s, c.parameters(v.size))
    want = ghk_current_density(v, 1e-4, 2, 1e-4, 2.0, 23.0)
    np.testing.assert_allclose(i, want, rtol=1e-6)
    np.testing.assert_array_equal(i, ica)


@pytest.mark.parametrize("temp", [6.3, 20.0])
def test_gates_follow_their_closed_form_at_constant_voltage(temp):
    """x(t) = x_inf + (x0 - x_inf) exp(-t / tau) with tau scaled by Q10 ** ((T - 6.3)/10)."""
    mem = Membrane([mechanism(n) for n in HH], temperature_C=temp)
    dt, steps = 0.05, 40
    c = mem.compile(dt)
    v = np.array([-80.0, -50.0, -20.0, 10.0]) + 0.007
    s = np.full((3, v.size), 0.3)
    p = c.parameters(v.size)
    for _ in range(steps):
        c.advance(v, s, p, np.zeros(v.size))
    phi = 3.0 ** ((temp - 6.3) / 10.0)
    row = 0
    for m in mem.mechanisms:
        for gate in m.gates:
            a, b = gate.alpha(v), gate.beta(v)
            x_inf, tau = a / (a + b), 1.0 / (phi * (a + b))
            want = x_inf + (0.3 - x_inf) * np.exp(-steps * dt / tau)
            np.testing.assert_allclose(s[row], want, atol=2e-6)
            row += 1


def test_pool_matches_ion_dynamics():
    """A constant calcium current into the pool (with the pump on): the membrane's step
    (removal exact, influx and pump held over the step) against ion_dynamics' RK4 at a
    10x smaller step; first-order in the pump, so 1e-3 relative at dt = 0.01 ms."""
    pool = CalciumPool(tau_ms=20.0, pump_kt_mM_per_ms=1e-4, pump_kd_mM=1e-3)
    mem = Membrane([mechanism("L")], calcium_pool=pool, temperature_C=23.0)
    dt, duration = 0.01, 60.0
    c = mem.compile(dt)
    p = c.parameters(1)
    s = c.initial_state(np.array([-65.0]), p)
    ica = np.array([-3.0])
    for _ in range(int(round(duration / dt))):
        c.advance(np.array([-65.0]), s, p, ica)
    ref = ion_dynamics(-3.0, duration, dt=dt / 10, depth_um=pool.depth_um, tau_ms=20.0,
                       ca_inf_mM=pool.ca_inf_mM, pump_kt_mM_per_ms=1e-4, pump_kd_mM=1e-3)
    assert s[-1, 0] == pytest.approx(float(ref.Ca_i[-1]), rel=1e-3)
    assert s[-1, 0] > 10 * pool.ca_inf_mM  # it really filled


def test_pool_feeds_the_ghk_current():
    """With a pool, the GHK current's c_in is the pool's calcium: doubling it changes the
    current as the formula says."""
    mem = Membrane([mechanism("T")], calcium_pool=CalciumPool(), temperature_C=36.0)
    c = mem.compile(0.025)
    v = np.array([10.0, 10.0])
    p = c.parameters(2)
    s = np.ones((3, 2))
    s[2] = [1e-3, 2e-3]
    i, _, _ = c.currents(v, s, p)
    want = [float(ghk_current_density(10.0, 2e-4, 2, ca, 2.0, 36.0)) for ca in s[2]]
    np.testing.assert_allclose(i, want, rtol=1e-5)


def test_structure_is_compiled_once():
    a = Membrane([mechanism("hh1952_na", g_max=50.0), mechanism("hh1952_k")],
                 temperature_C=10.0).compile(0.01)
    b = Membrane([mechanism("hh1952_na"), mechanism("hh1952_k")],
                 temperature_C=20.0).compile(0.05)
    assert a.currents_kernel is b.currents_kernel
    assert a.advance_kernel is b.advance_kernel


def test_parameters_by_name_and_per_compartment():
    c = Membrane([mechanism(n) for n in HH]).compile(0.025)
    p = c.parameters(3, hh1952_na_g=[0.0, 60.0, 120.0], hh1952_leak_E=-60.0)
    v = np.full(3, -30.0)
    s = c.initial_state(v)
    i, _, _ = c.currents(v, s, p)
    k_and_leak = (mechanism("hh1952_k").current_density(-30.0, 6.3)
                  + mechanism("hh1952_leak").current_density(-30.0, 6.3, E_rev=-60.0))
    na = mechanism("hh1952_na").current_density(-30.0, 6.3, scale=1.0)
    np.testing.assert_allclose(i, k_and_leak + na * np.array([0.0, 60.0, 120.0]),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="unknown membrane parameter 'hh1952_na_gbar'"):
        c.parameters(3, hh1952_na_gbar=1.0)
    with pytest.raises(ValueError, match="3 values"):
        c.parameters(3, hh1952_na_g=[1.0, 2.0])
    with pytest.raises(ValueError, match="positive integer"):
        c.parameters(0)


def test_errors():
    with pytest.raises(ValueError, match="at least one mechanism"):
        Membrane([])
    with pytest.raises(ValueError, match="distinct"):
        Membrane([mechanism("hh1952_k"), mechanism("hh1952_k")])
    with pytest.raises(TypeError, match="Mechanism instances"):
        Membrane(["hh1952_k"])
    nernst_ca = Mechanism("can", "ca", (), reversal="nernst", g_max=1.0, c_in_mM=1e-4,
                          c_out_mM=2.0)
    with pytest.raises(ValueError, match="needs a calcium_pool"):
        Membrane([nernst_ca])
    with pytest.raises(ValueError, match="dt_ms must be > 0"):
        Membrane([mechanism("hh1952_k")]).compile(0.0)
    with pytest.raises(ValueError, match="needs a calcium_pool"):
        Membrane([mechanism("SK")])


def test_calcium_gated_channels_read_the_pool():
    """SK and AHP (gates of [Ca]_i) with the pool's calcium: the current against the
    mechanisms' own numpy current at that concentration, and the gate relaxing to its
    steady state at the pool's concentration with the closed-form time course."""
    mem = Membrane([mechanism("SK"), mechanism("AHP"), mechanism("hh1952_k")],
                   calcium_pool=CalciumPool(), temperature_C=36.0)
    dt = 0.025
    c = mem.compile(dt)
    ca = np.array([1e-5, 3e-4, 4.3e-4, 2e-3, 0.05])
    v = np.full(ca.size, -60.0)
    p = c.parameters(ca.size)
    s = np.full((len(mem.state_names), ca.size), 0.2)
    s[-1] = ca
    i, _, _ = c.currents(v, s, p)
    want = sum(m.current_density(v, 36.0, gates=g, ca_mM=ca)
               for m, g in zip(mem.mechanisms, _gates_at(mem, s), strict=True))
    np.testing.assert_allclose(i, want, rtol=1e-9)
    sk = mem.mechanisms[0].gates[0]
    phi = mem.mechanisms[0].rate_factor(36.0, sk)
    steps = 8
    for _ in range(steps):
        s[-1] = ca  # hold the concentration (the pool would move it)
        c.advance(v, s, p, np.zeros(ca.size))
    x_inf, tau = sk.steady_state(ca), sk.time_constant(ca, phi)
    # ln-[Ca] grid every 0.004: interpolation error of the Hill curve below 1e-5
    np.testing.assert_allclose(s[0], x_inf + (0.2 - x_inf) * np.exp(-steps * dt / tau),
                               atol=1e-5)


def test_nernst_calcium_follows_the_pool():
    nernst_ca = Mechanism("can", "ca", (), reversal="nernst", g_max=1.0, c_in_mM=1e-4,
                          c_out_mM=2.0, T_ref_C=36.0)
    pool = CalciumPool(ca_out_mM=2.0)
    c = Membrane([nernst_ca], calcium_pool=pool, temperature_C=36.0).compile(0.025)
    s = np.array([[1e-4, 1e-3]])
    i, _, _ = c.currents(np.zeros(2), s, c.parameters(2))
    e = np.array([Mechanism("x", "ca", (), reversal="nernst", g_max=1.0, c_in_mM=ca,
                            c_out_mM=2.0).reversal_potential(36.0) for ca in s[0]])
    np.testing.assert_allclose(i, 1.0 * (0.0 - e), rtol=1e-12)
