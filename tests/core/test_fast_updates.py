"""Branch-free updates: the fast paths give the exact schemes' numbers.

References: numpy's log / tan / tanh (libm), the exact Izhikevich step (closed forms with
libm tan, tanh, log), the AdEx Rosenbrock-Euler step written here with ``math.exp`` /
``math.expm1``; a point model with and without a fast update gives the same spikes."""

import math

import numpy as np
import pytest

from neurosim_nb._jit import njit
from neurosim_nb.core.neurons.adaptive_lif import (
    EXP_ARG_MAX,
    AdExNeuron,
    adex_update,
)
from neurosim_nb.core.neurons.izhikevich import (
    ATANH_S_MAX,
    PADE_Z_MAX,
    IzhikevichNeuron,
    _flow,
    _izhikevich_step,
    izhikevich_fast_update,
    tan_ratio,
)
from neurosim_nb.numerics.fastmath import log64


@njit(error_model="numpy")
def _log_all(x, out):
    for i in range(x.size):
        out[i] = log64(x[i])


def test_log64_within_two_ulp_of_libm():
    """4e6 points over the whole normal range and [0.5, 2] (where the reduction switches)."""
    rng = np.random.default_rng(0)
    x = np.concatenate([np.exp(rng.uniform(-700.0, 700.0, 3_000_000)),
                        rng.uniform(0.5, 2.0, 1_000_000),
                        [1.0, 2.0, 0.5, math.sqrt(2.0), 1e-300, 1e300, 2.2250738585072014e-308]])
    out = np.empty_like(x)
    _log_all(x, out)
    ref = np.log(x)
    nz = ref != 0.0
    assert np.max(np.abs(out - ref)[nz] / np.spacing(np.abs(ref[nz]))) <= 2.0
    assert np.all(out[~nz] == 0.0)


def test_tan_ratio_is_tan_and_tanh_to_rounding():
    z = np.linspace(-PADE_Z_MAX, PADE_Z_MAX, 100_001)
    exact = np.ones_like(z)
    pos, neg = z > 0, z < 0
    exact[pos] = np.tan(np.sqrt(z[pos])) / np.sqrt(z[pos])
    exact[neg] = np.tanh(np.sqrt(-z[neg])) / np.sqrt(-z[neg])
    got = np.array([tan_ratio(x) for x in z[::100]])
    np.testing.assert_allclose(got, exact[::100], rtol=2e-15)


def test_izhikevich_fast_update_is_the_exact_step():
    """On 20 000 random states (v from -90 mV to v_peak, u and drive over the presets'
    ranges) the fast update either hands the neuron to the exact update (a spike in the
    step, |kappa| beyond the Pade range, a mean v beyond the atanh series' range) or gives
    its v and u to 1e-11 mV (absolute; the residue is rounding of different but equivalent
    formulas)."""
    rng = np.random.default_rng(1)
    n_fast = 0
    for _ in range(20_000):
        v = rng.uniform(-90.0, 30.0)
        u = rng.uniform(-20.0, 10.0)
        i_in = rng.uniform(-40.0, 60.0)
        a, b, d = rng.choice([0.02, 0.1]), rng.choice([0.2, 0.25, 0.26]), 8.0
        dt = rng.choice([0.1, 0.05, 0.5])
        decay = math.exp(-a * dt)
        vf, uf, slow = izhikevich_fast_update(v, u, i_in, 0.0, dt, a, b, -65.0, d, 30.0, decay,
                                              1.0)
        ve, ue, spiked = _izhikevich_step(v, u, i_in, a, b, -65.0, d, 30.0, decay, dt)
        if spiked:
            assert slow == 1.0
            continue
        kappa = i_in - u - 16.25
        if abs(0.04 * dt * dt * kappa) > PADE_Z_MAX:
            assert slow == 1.0
            continue
        # the atanh series' range: s = (ratio - 1) / (ratio + 1) = tanh(ln y), y the
        # linearising variable of the exact flow
        s = math.tanh(_flow(v + 62.5, kappa, dt)[1])
        if abs(abs(s) - ATANH_S_MAX) < 1e-12:
            continue                                    # on the boundary: either is right
        if abs(s) > ATANH_S_MAX:
            assert slow == 1.0
            continue
        assert slow == 0.0
        n_fast += 1
        assert abs(vf - ve) < 1e-11 * max(1.0, abs(ve)) and abs(uf - ue) < 1e-11 * max(1.0,
                                                                                          abs(ue))
    assert n_fast > 10_000


def _adex_reference(v, w, r, i_in, dv, dt, c, g_l, e_l, v_t, d_t, a, tau_w, b, v_r, v_peak,
                    ref_steps):
    """The AdEx step as the module docstring states it, with libm exp / expm1."""
    decay_w = math.exp(-dt / tau_w)
    if r > 0.0:
        w_inf = a * (v_r - e_l)
        return v_r, w_inf + (w - w_inf) * decay_w, r - 1.0, 0.0
    v = v + dv
    ex = math.exp(min((v - v_t) / d_t, EXP_ARG_MAX))
    f = (g_l * (e_l - v + d_t * ex) - w + i_in) / c
    jac = g_l * (ex - 1.0) / c
    if f < 0.0 and jac > 0.0:
        jac = 0.0
    z = min(jac * dt, EXP_ARG_MAX)
    phi = 1.0 if z == 0.0 else math.expm1(z) / z
    w_inf = a * (v - e_l)
    v, w = v + dt * f * phi, w_inf + (w - w_inf) * decay_w
    if v >= v_peak:
        return v_r, w + b, ref_steps, 1.0
    return v, w, r, 0.0


def test_branch_free_adex_update_is_the_rosenbrock_euler_step():
    """20 000 random states (refractory or not, below and above V_T, drives up to 2 nA):
    every outcome, spike and reset included, to 1e-12 relative."""
    rng = np.random.default_rng(2)
    for _ in range(20_000):
        c, g_l, e_l, v_t, d_t = 0.281, 0.03, -70.6, -50.4, rng.choice([0.5, 2.0, 4.0])
        a, tau_w, b, v_r, v_peak = 0.004, 144.0, 0.0805, -70.6, 0.0
        v, w = rng.uniform(-90.0, -30.0), rng.uniform(-0.2, 0.5)
        r = float(rng.choice([0.0, 0.0, 3.0]))
        i_in, dv, dt = rng.uniform(-1.0, 2.0), rng.choice([0.0, 1.5]), 0.1
        got = adex_update(v, w, r, i_in, dv, dt, 1.0 / c, g_l, e_l, v_t, 1.0 / d_t, d_t, a,
                          math.exp(-dt / tau_w), b, v_r, v_peak, 2.0)
        ref = _adex_reference(v, w, r, i_in, dv, dt, c, g_l, e_l, v_t, d_t, a, tau_w, b, v_r,
                              v_peak, 2.0)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_fast_update_changes_no_spike():
    """The same Izhikevich population with and without its fast update (a subclass
    that drops it): identical spike trains for the seven presets under a drive ramp, and
    V within 1e-9 mV at every sample."""
    class ExactOnly(IzhikevichNeuron):
        fast_update = None

    from neurosim_nb.core.neurons.izhikevich import IzhikevichType
    from neurosim_nb.stimuli import RampCurrent

    def run(cls):
        pop = IzhikevichNeuron.from_types(list(IzhikevichType))
        pop = cls(pop.params, n=pop.n)
        return pop.simulate(400.0, RampCurrent(0.0, 20.0, onset_ms=0.0, duration_ms=400.0),
                            seed=0, verbose=False)

    fast, exact = run(IzhikevichNeuron), run(ExactOnly)
    assert fast.spike_time.size > 50
    np.testing.assert_array_equal(fast.spike_time.values, exact.spike_time.values)
    np.testing.assert_array_equal(fast.spike_neuron.values, exact.spike_neuron.values)
    np.testing.assert_allclose(fast.V.values, exact.V.values, atol=1e-9)


def test_adex_firing_patterns_unchanged():
    """Naud et al.'s eight patterns: spike counts of the published currents in 500 ms, the
    same numbers as before the branch-free rewrite (the scheme is unchanged)."""
    from neurosim_nb.core.neurons.adaptive_lif import FIRING_PATTERNS

    pop = AdExNeuron.create_firing_patterns()
    ds = pop.simulate(500.0, [AdExNeuron.demo_current(p) for p in FIRING_PATTERNS], seed=0,
                      verbose=False)
    counts = np.bincount(ds.spike_neuron.values, minlength=8)
    # the reference implementation above, stepped in Python over the same 5000 steps
    p = pop.params
    expected = []
    for j, name in enumerate(FIRING_PATTERNS):
        v, w, r, n = float(p.E_L[j]), 0.0, 0.0, 0
        i_in = AdExNeuron.demo_current(name)
        for _ in range(5000):
            v, w, r, ev = _adex_reference(v, w, r, i_in, 0.0, 0.1, p.C[j], p.g_L[j], p.E_L[j],
                                          p.V_T[j], p.Delta_T[j], p.a[j], p.tau_w[j], p.b[j],
                                          p.V_r[j], p.V_peak[j], 0.0)
            n += ev == 1.0
        expected.append(n)
    np.testing.assert_array_equal(counts, expected)


@pytest.mark.parametrize("preset", ["RS", "FS"])
def test_fast_path_used_at_rest(preset):
    """At rest every neuron takes the fast update (slow = 0)."""
    pop = IzhikevichNeuron.from_preset(preset)
    v, u = pop.V, pop.u
    _, _, slow = izhikevich_fast_update(v, u, 0.0, 0.0, 0.1, *[
        float(x) for x in (pop.params.a, pop.params.b, pop.params.c, pop.params.d,
                           pop.params.v_peak)], math.exp(-0.1 * float(pop.params.a)), 1.0)
    assert slow == 0.0


def test_expm1_ratio_pade_to_rounding():
    from neurosim_nb.core.neurons.adaptive_lif import PHI_Z_MAX, expm1_ratio_pade

    z = np.linspace(-PHI_Z_MAX, PHI_Z_MAX, 20_001)
    z = z[z != 0.0]
    got = np.array([expm1_ratio_pade(x) for x in z])
    np.testing.assert_allclose(got, np.expm1(z) / z, rtol=1e-15)


def test_adex_fast_update_is_the_exact_update_or_hands_over():
    """20 000 random states: the fast update either hands the neuron over (slow = 1: the
    upswing, a spike) or gives the exact update's state to 1e-13 relative, never an event."""
    from neurosim_nb.core.neurons.adaptive_lif import adex_fast_update

    rng = np.random.default_rng(3)
    n_fast = 0
    for _ in range(20_000):
        row = (1.0 / 0.281, 0.03, -70.6, -50.4, 0.5, 2.0, 0.004, math.exp(-0.1 / 144.0),
               0.0805, -70.6, 0.0, 2.0)
        state = (rng.uniform(-90.0, -30.0), rng.uniform(-0.2, 0.5),
                 float(rng.choice([0.0, 0.0, 3.0])), rng.uniform(-1.0, 2.0),
                 float(rng.choice([0.0, 1.5])), 0.1)
        v, w, r, slow = adex_fast_update(*state, *row)
        exact = adex_update(*state, *row)
        if slow == 1.0:
            continue
        n_fast += 1
        assert exact[3] == 0.0  # no spike, no divergence
        np.testing.assert_allclose((v, w, r), exact[:3], rtol=1e-13, atol=1e-13)
    assert n_fast > 10_000
