"""The Hodgkin-Huxley fast update against the exact update, and its building blocks.

References: exact rational arithmetic (``fractions``) for the fused multiply-add, numpy's
``exp`` (libm) and ``1 / x`` for the exponential and the shared reciprocals, the exact
update (:func:`hh1952_update` / :func:`traub_miles_update`, the scheme's reference code,
itself tested against solve_ivp and Brian2's method in ``test_hodgkin_huxley.py``) for the
fast update, and runs without the fast update for the spike trains.
"""

from __future__ import annotations

from fractions import Fraction

import llvmlite.binding as llvm
import numpy as np
import pytest

from neurosim_nb._jit import njit
from neurosim_nb.core.neurons import hodgkin_huxley as hh
from neurosim_nb.numerics.fastmath import exp_fma, fma, prefer_wide_vectors

# every kinetics x scheme x precision of the fast update: kernel variants no other test
# compiles (python3 tasks.py test runs these in a second process)
pytestmark = pytest.mark.second_process


@njit(error_model="numpy")
def _fma_all(a, b, c, out):
    for i in range(a.size):
        out[i] = fma(a[i], b[i], c[i])


@njit(error_model="numpy")
def _exp_all(x, out):
    for i in range(x.size):
        out[i] = exp_fma(x[i])


def test_fma_rounds_once():
    """a * b + c rounded once: equal to the exact rational result rounded to float64
    (Fraction -> float rounds to nearest), on products that cancel against c."""
    rng = np.random.default_rng(0)
    a = rng.uniform(-10.0, 10.0, 2000)
    b = rng.uniform(-10.0, 10.0, 2000)
    c = -a * b + rng.uniform(-1e-12, 1e-12, 2000)   # the product's rounding error matters
    out = np.empty_like(a)
    _fma_all(a, b, c, out)
    exact = [float(Fraction(x) * Fraction(y) + Fraction(z))
             for x, y, z in zip(a, b, c, strict=True)]
    np.testing.assert_array_equal(out, exact)
    assert np.any(out != a * b + c)   # unfused arithmetic differs: the test can fail


def test_exp_fma_within_one_ulp_of_libm():
    """4e6 points over its whole range [-708, 708] and the rates' range; measured 1.0 ulp
    at most (the Taylor truncation is < 4e-18, the rest is the final rounding)."""
    rng = np.random.default_rng(1)
    x = np.concatenate([np.linspace(-708.0, 708.0, 2_000_001),
                        rng.uniform(-60.0, 60.0, 2_000_000), [0.0]])
    out = np.empty_like(x)
    _exp_all(x, out)
    ref = np.exp(x)
    assert np.max(np.abs(out - ref) / np.spacing(ref)) <= 1.0


def test_exp_fma_float32_within_two_float32_ulp():
    """The float32 variant (float32 arithmetic) against np.exp in float64 of the same
    inputs over [-87, 87]: 2 float32 ulp is 2.4e-7 relative (measured 0.64 ulp)."""
    x = np.linspace(-87.0, 87.0, 1_000_001).astype(np.float32)
    out = np.empty_like(x)
    _exp_all(x, out)
    assert out.dtype == np.float32
    assert np.max(np.abs(out / np.exp(x.astype(np.float64)) - 1.0)) <= 2 * 2.0 ** -23


def test_prefer_wide_vectors_marks_the_caller():
    @njit
    def add_one(x):
        prefer_wide_vectors()
        for i in range(x.size):
            x[i] += 1.0

    x = np.zeros(64)
    add_one(x)
    assert np.all(x == 1.0)
    sig = add_one.signatures[0]
    assert '"prefer-vector-width"="512"' in add_one.inspect_llvm(sig)
    llvm.initialize_native_target()
    if "+avx512f" in llvm.get_host_cpu_features().flatten().split(","):
        assert "zmm" in add_one.inspect_asm(sig)


@njit(error_model="numpy")
def _recips(a, b, c, d, e, out):
    for i in range(a.size):
        out[0, i], out[1, i], out[2, i] = hh._recip3(a[i], b[i], c[i])
        out[3, i], out[4, i], out[5, i], out[6, i] = hh._recip4(a[i], b[i], c[i], d[i])
        out[7, i], out[8, i], out[9, i], out[10, i], out[11, i] = hh._recip5(a[i], b[i], c[i],
                                                                             d[i], e[i])


def test_shared_reciprocals_within_four_ulp():
    """1/x of three, four, five values from one division: a product of up to five
    factors, a division and two multiplications -- within 4 ulp of 1/x (magnitudes
    1e-3 .. 1e3, both signs: the rates' denominators)."""
    rng = np.random.default_rng(2)
    v = rng.choice([-1.0, 1.0], (5, 100_000)) * 10.0 ** rng.uniform(-3.0, 3.0, (5, 100_000))
    out = np.empty((12, v.shape[1]))
    _recips(*v, out)
    ref = 1.0 / v[[0, 1, 2, 0, 1, 2, 3, 0, 1, 2, 3, 4]]
    assert np.max(np.abs(out - ref) / np.spacing(np.abs(ref))) <= 4.0


# ------------------------------------------------------------------------------------------
# the fast update against the exact update
# ------------------------------------------------------------------------------------------

VARIANTS = [(kin, scheme) for kin in range(2) for scheme in range(2)]


def _population(kin: int, scheme: int, **overrides) -> hh.HodgkinHuxleyNeuron:
    make = (hh.HodgkinHuxleyNeuron.create_squid_axon if kin == 0
            else hh.HodgkinHuxleyNeuron.create_mammalian)
    return make(scheme=hh.SCHEMES[scheme], **overrides)


def _rows(pop: hh.HodgkinHuxleyNeuron, dt: float) -> np.ndarray:
    values = pop.kernel_values(dt)
    return np.array([float(np.asarray(values[r]).ravel()[0]) for r in pop.kernel_rows])


def _compare(kin: int, scheme: int):
    """A compiled loop stepping each state once with both updates: (n, 5 + 5 + 3) =
    exact state, fast state, exact event, fast event, slow."""
    exact, fast = hh._UPDATES[kin], hh._FAST_UPDATES[kin, scheme]

    @njit(error_model="numpy")
    def both(s, i_in, dv, dt, p):
        out = np.empty((s.shape[1], 13))
        for i in range(s.shape[1]):
            a = exact(s[0, i], s[1, i], s[2, i], s[3, i], s[4, i], i_in[i], dv[i], dt,
                      p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10],
                      p[11], p[12])
            b = fast(s[0, i], s[1, i], s[2, i], s[3, i], s[4, i], i_in[i], dv[i], dt,
                     p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10],
                     p[11], p[12])
            out[i, 0], out[i, 1], out[i, 2], out[i, 3], out[i, 4], out[i, 10] = a
            out[i, 5], out[i, 6], out[i, 7], out[i, 8], out[i, 9], out[i, 11], out[i, 12] = b
        return out

    return both


def _random_states(rng, n: int, v_singular: list[float]) -> np.ndarray:
    """V over -100 .. +60 mV (and just off the rates' removable singularities, where
    the series take over), gates over [0, 1], the detector's dead time 0 or 3 steps."""
    s = np.empty((5, n))
    s[0] = rng.uniform(-100.0, 60.0, n)
    # (the series take over at |x| = 1e-3: 4e-3 mV of u for alpha_m, 5e-3 for beta_m and
    # alpha_n (traub_miles), 1e-2 mV of V (hh1952))
    offsets = np.array([0.0, 1e-12, -1e-9, 1e-6, -1e-4, 3.9e-3, -4.1e-3, 4.9e-3, -5.1e-3,
                        9.9e-3, -1.01e-2, 2e-2])
    near = np.add.outer(np.asarray(v_singular), offsets).ravel()
    s[0, :near.size] = near
    s[1:4] = rng.uniform(0.0, 1.0, (3, n))
    s[4] = rng.choice([0.0, 0.0, 3.0], n)
    return s


@pytest.mark.parametrize(("kin", "scheme"), VARIANTS)
def test_fast_update_is_the_exact_update(kin, scheme):
    """60 000 random states per kinetics and scheme (dt 0.01 / 0.1 / 0.5 ms, 6.3 .. 37
    degC, drives of +-40 uA/cm2, V jumps): the fast update takes every one of them
    (slow = 0: all lie in its range) and gives the exact update's state to rounding --
    V within 1e-12 mV relative to max(|V|, 1 mV), gates within 1e-12 relative + 1e-15,
    the dead time and the event identical (measured: V 1.1e-13 mV, gates 2.5e-14).
    The residue is the rounding of different but equal formulas (fused products, shared
    reciprocals), amplified up to 1 / 4e-3 next to the singularities, where the series
    take over."""
    rng = np.random.default_rng(10 + 2 * kin + scheme)
    both = _compare(kin, scheme)
    # the singularities: hh1952 alpha_m at V = -40, alpha_n at -55; traub_miles (V_T -63)
    # alpha_m at u = 13, beta_m at 40, alpha_n at 15
    sing = [-40.0, -55.0] if kin == 0 else [-50.0, -23.0, -48.0]
    n_checked = 0
    for dt in (0.01, 0.1, 0.5):
        for temperature in (6.3, 20.0, 37.0):
            pop = _population(kin, scheme, temperature_C=temperature, t_refractory=0.3)
            for level in (0.0, 1.0):
                p = _rows(pop, dt)
                p[pop.kernel_rows.index("level")] = level
                n = 3_300
                s = _random_states(rng, n, sing)
                dens = p[pop.kernel_rows.index("input_h")] / dt * pop.params.C_m
                i_in = rng.uniform(-40.0, 40.0, n) / dens     # nA for +-40 uA/cm2
                dv = rng.choice([0.0, 0.0, 1.0], n) * rng.uniform(-3.0, 3.0, n)
                dv[:40] = 0.0   # keep the states next to the singularities there
                out = both(s, i_in, dv, dt, p)
                ex, fa = out[:, :5], out[:, 5:10]
                assert np.all(out[:, 12] == 0.0)
                v_scale = np.maximum(np.abs(ex[:, 0]), 1.0)
                assert np.max(np.abs(fa[:, 0] - ex[:, 0]) / v_scale) <= 1e-12
                np.testing.assert_allclose(fa[:, 1:4], ex[:, 1:4], rtol=1e-12, atol=1e-15)
                np.testing.assert_array_equal(fa[:, 4], ex[:, 4])
                np.testing.assert_array_equal(out[:, 11], out[:, 10])
                n_checked += n
    assert n_checked == 18 * 3_300


@pytest.mark.parametrize(("kin", "scheme"), VARIANTS)
def test_fast_update_hands_over_what_it_cannot_take(kin, scheme):
    """slow = 1 outside its range (|u| > 300 mV), for non-finite V or input, a diverging
    step, and rows of the other scheme; slow = 0 at rest."""
    both = _compare(kin, scheme)
    pop = _population(kin, scheme)
    p = _rows(pop, 0.1)
    rest = [float(pop.get_state(x)[0]) for x in ("V", "m", "h", "n")] + [0.0]
    v_0 = 0.0 if kin == 0 else p[pop.kernel_rows.index("V_T")]   # u = V - v_0
    cases = [(rest[0], 0.0, 0.0), (v_0 + 301.0, 0.0, 0.0), (v_0 - 301.0, 0.0, 0.0),
             (np.nan, 0.0, 0.0), (rest[0], np.nan, 0.0), (rest[0], np.inf, 0.0),
             (rest[0], 0.0, np.nan), (rest[0], 1e300, 0.0)]
    s = np.array([[v] + rest[1:] for v, _, _ in cases]).T.copy()
    i_in = np.array([c[1] for c in cases])
    dv = np.array([c[2] for c in cases])
    slow = both(s, i_in, dv, 0.1, p)[:, 12]
    np.testing.assert_array_equal(slow, [0.0] + [1.0] * (len(cases) - 1))
    other = p.copy()
    other[pop.kernel_rows.index("stagger")] = 1.0 - other[pop.kernel_rows.index("stagger")]
    assert both(s[:, :1].copy(), i_in[:1], dv[:1], 0.1, other)[0, 12] == 1.0


def test_fast_update_float32_computes_in_float32():
    """With float32 state and rows (a float32 run) every value the fast update returns
    is float32: no float64 constant promotes its arithmetic (it would halve the lanes)."""
    from numba import types

    @njit(error_model="numpy")
    def step(x):
        return hh.traub_miles_ee_fast_update(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7],
                                             x[8], x[9], x[10], x[11], x[12], x[13], x[14],
                                             x[15], x[16], x[17], x[18], x[19], x[20])

    x = np.array([-65.0, 0.05, 0.6, 0.3, 0.0, 0.1, 0.0, 0.1, 0.1, 10.0, 3.0, 0.005, -0.3,
                  50.0, -90.0, 0.05, -63.0, -20.0, 29.0, 1.0, 0.0], dtype=np.float32)
    v, *_, slow = step(x)
    assert slow == 0.0 and np.isfinite(v)
    assert all(t == types.float32 for t in step.nopython_signatures[0].return_type)


# ------------------------------------------------------------------------------------------
# spike trains: with and without the fast update
# ------------------------------------------------------------------------------------------


class _ExactOnly(hh.HodgkinHuxleyNeuron):
    """The same neurons without the fast update: every step by the exact update."""

    def fast_update_function(self):
        return None


@pytest.mark.parametrize(("kin", "scheme", "t_refractory"),
                         [(1, 1, 3.0), (0, 0, 0.0)])   # COBAHH's variant; the defaults
def test_fast_update_changes_no_spike(kin, scheme, t_refractory):
    """40 neurons under a ramp of step currents (below rheobase to ~200 Hz) and Poisson
    kicks, 500 ms at dt 0.1 ms, with and without the fast update: identical spike steps,
    V within 1e-8 mV at every step. The trajectories differ by rounding only (~1e-13 mV
    per step, above), which the spikes' instability amplifies: measured 6e-11 mV
    (traub_miles, 4478 spikes) and 1.8e-9 mV (squid, 1455 spikes) at most."""
    from neurosim_nb import Network
    from neurosim_nb.stimuli import PoissonInput, StepCurrent

    def run(cls):
        make = cls.create_squid_axon if kin == 0 else cls.create_mammalian
        pop = make(n=40, scheme=hh.SCHEMES[scheme], t_refractory=t_refractory)
        net = Network("hh", seed=4)
        net.add_population("hh", pop)
        dens = np.linspace(0.0, 40.0, 40)
        net.add_stimulus("hh", StepCurrent(pop.density_to_current(dens), onset_ms=20.0))
        net.add_stimulus("hh", PoissonInput(rate_hz=200.0, weight_mV=2.0, n_sources=1))
        return net.simulate(500.0, dt=0.1, seed=4, record=("V",), verbose=False)

    fast, exact = run(hh.HodgkinHuxleyNeuron), run(_ExactOnly)
    assert fast.sizes["spike"] > 1000
    np.testing.assert_array_equal(fast.spike_time.values, exact.spike_time.values)
    np.testing.assert_array_equal(fast.spike_neuron.values, exact.spike_neuron.values)
    np.testing.assert_allclose(fast.V.values, exact.V.values, rtol=0.0, atol=1e-8)
