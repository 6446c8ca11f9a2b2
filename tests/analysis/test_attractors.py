"""Fixed points, nullclines and activity states against independent references.

* Fixed points: the right-hand sides of the Izhikevich (2003) and AdEx (Brette & Gerstner
  2005) equations are typed in here again and solved with ``scipy.optimize.fsolve`` from a
  grid of starting points; the Jacobian's eigenvalues are checked against a finite-difference
  Jacobian of the same right-hand side, and stability against ``scipy.integrate.solve_ivp``
  from a small perturbation (no reset: the subthreshold flow).
* AdEx bifurcations (Touboul & Brette 2008, Biol Cybern 99:319, sec. 3): fixed points exist
  iff I <= I_SN = (g_L + a)(V_T - E_L - D_T + D_T ln(1 + a/g_L)). Derivation: a fixed point
  solves I = G(V) = (g_L + a)(V - E_L) - g_L D_T exp((V - V_T)/D_T); G is concave with its
  maximum where exp((V - V_T)/D_T) = 1 + a/g_L, and G there is I_SN. The trace of the
  Jacobian, g_L (exp((V - V_T)/D_T) - 1)/C - 1/tau_w, vanishes at
  V_H = V_T + D_T ln(1 + tau_m/tau_w): if a/g_L > tau_m/tau_w then V_H < V_SN and the resting
  point turns into an unstable focus before the saddle-node (Andronov-Hopf), otherwise it is
  stable up to I_SN.
* Activity states: a synthetic Poisson network with two (or three) known alternating rate
  states; the labels must match the truth up to a permutation.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.integrate import solve_ivp
from scipy.optimize import fsolve

from neurosim_nb import AdExNeuron, IzhikevichNeuron, LIFNeuron
from neurosim_nb.analysis.attractors import attractor_states, fixed_points, nullclines
from neurosim_nb.core.neurons.adaptive_lif import AdExParameters
from neurosim_nb.core.neurons.izhikevich import IzhikevichParameters


# -- independent right-hand sides ------------------------------------------------------------
def izh_rhs(p, i_ext):
    def f(y):
        v, u = y
        return np.array([0.04 * v * v + 5 * v + 140 - u + i_ext, p.a * (p.b * v - u)])
    return f


def adex_rhs(p, i_ext):
    def f(y):
        v, w = y
        ex = np.exp(min((v - p.V_T) / p.Delta_T, 50.0))
        return np.array([(-p.g_L * (v - p.E_L) + p.g_L * p.Delta_T * ex - w + i_ext) / p.C,
                         (p.a * (v - p.E_L) - w) / p.tau_w])
    return f


def fsolve_roots(f, v_grid, recovery_of_v):
    """Distinct converged roots of f from starts (v, recovery(v)) over v_grid."""
    roots = []
    for v0 in v_grid:
        y, _, ok, _ = fsolve(f, [v0, recovery_of_v(v0)], full_output=True, xtol=1e-13)
        if ok == 1 and np.max(np.abs(f(y))) < 1e-9 and not any(
                abs(y[0] - r[0]) < 1e-6 for r in roots):
            roots.append(y)
    return np.array(sorted(roots, key=lambda r: r[0])).reshape(-1, 2)


def numeric_eigenvalues(f, y, h=1e-6):
    J = np.empty((2, 2))
    for k in range(2):
        e = np.zeros(2)
        e[k] = h
        J[:, k] = (f(y + e) - f(y - e)) / (2 * h)
    return np.sort_complex(np.linalg.eigvals(J))


def drift_after(f, y0, t_end, bound=5.0):
    """Distance from y0's fixed point reached by integrating a perturbed start (tight solve)."""
    def rhs(t, y):
        return f(y)

    def escaped(t, y):
        return np.hypot(y[0] - y0[0], y[1] - y0[1]) - bound

    escaped.terminal = True
    start = np.array(y0) + np.array([1e-3, 0.0])           # 1 uV off in V
    sol = solve_ivp(rhs, (0, t_end), start, method="LSODA", rtol=1e-10, atol=1e-12,
                    events=escaped)
    return float(np.hypot(*(sol.y[:, -1] - np.asarray(y0))))


# -- Izhikevich ------------------------------------------------------------------------------
@pytest.mark.parametrize("preset", ["RS", "FS", "LTS", "RZ"])
@pytest.mark.parametrize("i_ext", [0.0, 2.0])
def test_izhikevich_fixed_points_match_fsolve(preset, i_ext):
    p = IzhikevichNeuron.from_preset(preset).params
    fp = fixed_points(p, I_ext=i_ext)
    f = izh_rhs(p, i_ext)
    ref = fsolve_roots(f, np.arange(-100.0, -10.0, 2.5), lambda v: p.b * v)
    assert fp.sizes["fixed_point"] == len(ref)
    np.testing.assert_allclose(fp.V.values, ref[:, 0], atol=1e-8)
    np.testing.assert_allclose(fp.u.values, ref[:, 1], atol=1e-8)
    for k in range(len(ref)):
        lam = np.sort_complex(fp.eigenvalue_real.values[k] + 1j * fp.eigenvalue_imag.values[k])
        np.testing.assert_allclose(lam, numeric_eigenvalues(f, ref[k]), atol=1e-6)


def test_izhikevich_stability_by_integration():
    """RS at I = 0: rest (-70 mV) is a stable node, -50 mV a saddle (the resting and
    threshold equilibria; roots of 0.04 v^2 + 4.8 v + 140). A 1-uV perturbation decays at
    the former (below 1e-6 after 2 s; slowest rate ~a = 0.02/ms) and leaves the latter."""
    p = IzhikevichNeuron.from_preset("RS").params
    fp = fixed_points(p)
    assert fp.kind.values.tolist() == ["stable node", "saddle"]
    f = izh_rhs(p, 0.0)
    rest = (fp.V.values[0], fp.u.values[0])
    saddle = (fp.V.values[1], fp.u.values[1])
    assert drift_after(f, rest, 2000.0) < 1e-6
    assert drift_after(f, saddle, 2000.0) >= 5.0 - 1e-9     # escaped the 5-unit ball


def test_izhikevich_saddle_node_current():
    """0.04 v^2 + (5 - b) v + 140 + I = 0 has a double root at I_SN = (5 - b)^2/0.16 - 140:
    RS (b = 0.2) I_SN = 4 mV/ms; two points below, none above."""
    rs = IzhikevichNeuron.from_preset("RS")
    assert fixed_points(rs).attrs["I_saddle_node"] == pytest.approx(4.0)
    assert fixed_points(rs, 3.99).sizes["fixed_point"] == 2
    assert fixed_points(rs, 4.01).sizes["fixed_point"] == 0
    merged = fixed_points(rs, 4.0)
    assert merged.kind.values.tolist() == ["saddle-node"]
    assert float(merged.V[0]) == pytest.approx(-(5 - 0.2) / 0.08)


# -- AdEx ----------------------------------------------------------------------------------------
def touboul_brette_isn(p) -> float:
    return (p.g_L + p.a) * (p.V_T - p.E_L - p.Delta_T + p.Delta_T * np.log(1 + p.a / p.g_L))


@pytest.mark.parametrize("preset", ["tonic", "adapting", "default", "initial_burst",
                                    "delayed_accelerating"])
def test_adex_two_fixed_points_below_isn_none_above(preset):
    p = AdExNeuron.from_preset(preset).params
    isn = touboul_brette_isn(p)
    assert fixed_points(p).attrs["I_saddle_node"] == pytest.approx(isn, rel=1e-12)
    for frac in (0.5, 0.99, 0.9999):
        fp = fixed_points(p, frac * isn)
        ref = fsolve_roots(adex_rhs(p, frac * isn), np.arange(p.E_L - 30, p.V_T + 10, 0.5),
                           lambda v: p.a * (v - p.E_L))
        assert fp.sizes["fixed_point"] == 2 == len(ref), frac
        np.testing.assert_allclose(fp.V.values, ref[:, 0], atol=1e-7)
        np.testing.assert_allclose(fp.w.values, ref[:, 1], atol=1e-9)
        assert fp.kind.values[1] == "saddle"
    for frac in (1.0001, 1.01, 2.0):
        assert fixed_points(p, frac * isn).sizes["fixed_point"] == 0


def test_adex_eigenvalues_and_stability_by_integration():
    p = AdExNeuron.from_preset("default").params          # Brette & Gerstner (2005)
    i_ext = 0.5
    fp = fixed_points(p, i_ext)
    f = adex_rhs(p, i_ext)
    for k in range(2):
        y = np.array([fp.V.values[k], fp.w.values[k]])
        lam = np.sort_complex(fp.eigenvalue_real.values[k] + 1j * fp.eigenvalue_imag.values[k])
        np.testing.assert_allclose(lam, numeric_eigenvalues(f, y), rtol=1e-5, atol=1e-9)
    assert fp.kind.values[0].startswith("stable")
    rest = (fp.V.values[0], fp.w.values[0])
    saddle = (fp.V.values[1], fp.w.values[1])
    assert drift_after(f, rest, 3000.0) < 1e-6       # slowest decay ~ tau_w = 144 ms
    assert drift_after(f, saddle, 3000.0) >= 5.0 - 1e-9


def test_adex_hopf_versus_saddle_node():
    """'adapting' (a/g_L = 0.17 > tau_m/tau_w = 0.056): the lower point is a stable focus for
    V < V_H and an unstable focus for V_H < V < V_SN, and a trajectory near it leaves.
    'tonic' (a/g_L = 0.2 < tau_m/tau_w = 0.67): stable all the way up to I_SN."""
    p = AdExNeuron.from_preset("adapting").params
    v_h = p.V_T + p.Delta_T * np.log(1 + p.tau_m / p.tau_w)
    v_sn = p.V_T + p.Delta_T * np.log(1 + p.a / p.g_L)
    assert v_h < v_sn

    def current_at(v):          # the input for which v is a fixed point
        return (p.g_L + p.a) * (v - p.E_L) - p.g_L * p.Delta_T * np.exp((v - p.V_T) / p.Delta_T)

    below, above = fixed_points(p, current_at(v_h - 0.05)), fixed_points(p, current_at(v_h + 0.05))
    assert float(below.V[0]) == pytest.approx(v_h - 0.05, abs=1e-9)
    assert below.kind.values[0] == "stable focus"
    assert above.kind.values[0] == "unstable focus"
    assert float(above.trace[0]) > 0 > float(below.trace[0])
    y = (float(above.V[0]), float(above.w[0]))
    assert drift_after(adex_rhs(p, current_at(v_h + 0.05)), y, 20000.0, bound=1.0) >= 1.0 - 1e-9
    tonic = AdExNeuron.from_preset("tonic").params
    near = fixed_points(tonic, 0.9999 * touboul_brette_isn(tonic))
    assert near.kind.values[0].startswith("stable")


def test_nullclines_cross_at_fixed_points(tmp_path):
    for model, i_ext, rec in [(IzhikevichNeuron.from_preset("RS"), 1.0, "u"),
                              (AdExNeuron.from_preset("adapting"), 0.1, "w")]:
        nc = nullclines(model, I_ext=i_ext, n_points=2001)
        fp = fixed_points(model, I_ext=i_ext)
        gap = nc.V_nullcline - nc[f"{rec}_nullcline"]
        assert np.all((fp.V.values >= nc.V.values[0]) & (fp.V.values <= nc.V.values[-1]))
        # the gap changes sign exactly at each fixed point
        crossings = nc.V.values[:-1][np.diff(np.sign(gap.values)) != 0]
        np.testing.assert_allclose(crossings, fp.V.values, atol=float(np.diff(nc.V)[0]) + 1e-9)
        assert nc.V.attrs["units"] == "mV" and nc.V_nullcline.attrs["units"] == fp[rec].attrs[
            "units"]
        path = tmp_path / f"nc_{rec}.nc"
        nc.to_netcdf(path)
        xr.testing.assert_identical(xr.open_dataset(path).load(), nc)
    izh = nullclines(IzhikevichParameters(), V_range=(-80.0, -40.0), n_points=5)
    v = np.linspace(-80.0, -40.0, 5)
    np.testing.assert_allclose(izh.V_nullcline.values, 0.04 * v * v + 5 * v + 140)
    np.testing.assert_allclose(izh.u_nullcline.values, 0.2 * v)


def test_fixed_points_netcdf_roundtrip(tmp_path):
    for i_ext in (0.0, 10.0):                              # two points, then none
        fp = fixed_points(IzhikevichNeuron.from_preset("RS"), i_ext)
        path = tmp_path / f"fp{i_ext}.nc"
        fp.to_netcdf(path)
        xr.testing.assert_identical(xr.open_dataset(path).load(), fp)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: fixed_points(LIFNeuron.create_excitatory()), TypeError, "planar"),
    (lambda: fixed_points("RS"), TypeError, "planar"),
    (lambda: fixed_points(IzhikevichParameters(), I_ext=np.nan), ValueError, "finite"),
    (lambda: fixed_points(IzhikevichParameters(), I_ext="x"), TypeError, "I_ext"),
    (lambda: fixed_points(IzhikevichParameters(a=0.0)), ValueError, "a = 0"),
    (lambda: fixed_points(IzhikevichNeuron.from_types(["RS", "LTS"])), ValueError, "differs"),
    (lambda: nullclines(AdExParameters(), V_range=(-40.0, -80.0)), ValueError, "increasing"),
    (lambda: nullclines(AdExParameters(), V_range=(-80.0, np.nan)), ValueError, "finite"),
    (lambda: nullclines(AdExParameters(), V_range="wide"), TypeError, "V_range"),
    (lambda: nullclines(AdExParameters(), n_points=1), ValueError, "n_points"),
    (lambda: nullclines(AdExParameters(), I_ext=np.inf), ValueError, "finite"),
])
def test_planar_bad_input_raises(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_equal_per_neuron_parameters_are_accepted():
    fp = fixed_points(IzhikevichNeuron.from_preset("RS", n=3))
    assert fp.sizes["fixed_point"] == 2


# -- activity states ----------------------------------------------------------------------------
def state_network(rates_hz, n_per_pop, seed, dwell_ms=(200, 600), duration=20_000.0):
    """Poisson spikes of populations whose rates switch between known states in turn.

    Returns (Dataset with population coord, state of every 1-ms step, switch times)."""
    rng = np.random.default_rng(seed)
    rates_hz = np.asarray(rates_hz, float)              # (state, population)
    n_states, n_pops = rates_hz.shape
    switches, t, s = [], 0.0, []
    while t < duration:
        switches.append(t)
        s.append(len(s) % n_states)
        t += 20.0 * rng.integers(dwell_ms[0] // 20, dwell_ms[1] // 20 + 1)   # 20-ms grid
    step_state = np.repeat(s, np.diff(np.append(switches, t)).astype(int))[:int(duration)]
    n = n_per_pop * n_pops
    pop_of = np.repeat(np.arange(n_pops), n_per_pop)
    p = rates_hz[step_state][:, pop_of] / 1000.0          # (ms step, neuron): P(spike)
    step, neuron = np.nonzero(rng.random(p.shape) < p)
    times = step + 1.0                                    # spike stamped at the step end
    order = np.argsort(times, kind="stable")
    ds = xr.Dataset({"spike_time": ("spike", times[order]),
                     "spike_neuron": ("spike", neuron[order])},
                    coords={"neuron": np.arange(n),
                            "population": ("neuron", np.array(["A", "B", "C"])[pop_of])},
                    attrs={"duration": duration, "n_neurons": n, "dt": 1.0})
    return ds, step_state


def agreement(labels, truth):
    """Fraction of agreeing labels under the best permutation."""
    from itertools import permutations
    k = int(max(labels.max(), truth.max())) + 1
    return max(np.mean(np.asarray(perm)[labels] == truth) for perm in permutations(range(k)))


def test_attractor_states_recover_two_alternating_states(tmp_path):
    """Up/down-like states (A 30/B 5 Hz vs A 5/B 30 Hz, 20 neurons each), dwell 200-600 ms on a
    20-ms grid: with 20-ms bins every bin lies in one state and holds Poisson(12) spikes of
    the high and Poisson(2) of the low population; the two overlap (A - B <= 0 in the A
    state) with probability ~0.3 %, so >= 99 % of the 1000 bins must be labelled right."""
    ds, truth_ms = state_network([[30, 5], [5, 30]], 20, seed=0)
    res = attractor_states(ds, 20.0)
    truth = truth_ms.reshape(-1, 20)[:, 0]
    assert res.attrs["n_states"] == 2 and res.attrs["features"] == "population"
    assert agreement(res.label.values, truth) >= 0.99
    # centroids: the per-neuron rates of each state (se ~ sqrt(r / (20 * T)) ~ 0.3 Hz)
    cen = np.sort(res.centroid.values, axis=0)
    np.testing.assert_allclose(cen, [[5, 5], [30, 30]], atol=2.0)
    assert res.centroid.attrs["units"] == "Hz" and res.mean_dwell.attrs["units"] == "ms"
    # dwell times: uniform on 200..600 ms (20-ms grid), mean 400 ms; ~25 runs per state ->
    # se ~ 25 ms; each misclassified bin also splits a run in three, hence 20 %
    np.testing.assert_allclose(res.mean_dwell.values, 400.0, rtol=0.2)
    assert res.occupancy.sum() == pytest.approx(1.0)
    path = tmp_path / "states.nc"
    res.to_netcdf(path)
    xr.testing.assert_identical(xr.open_dataset(path).load(), res)


def test_attractor_states_three_states_by_neuron_with_pca():
    ds, truth_ms = state_network([[40, 2, 2], [2, 40, 2], [2, 2, 40]], 8, seed=1,
                                 duration=12_000.0)
    truth = truth_ms.reshape(-1, 20)[:, 0]
    res = attractor_states(ds, 20.0, by="neuron", n_components=3)
    assert res.attrs["n_states"] == 3 and res.centroid.dims == ("state", "neuron")
    assert agreement(res.label.values, truth) >= 0.95
    again = attractor_states(ds, 20.0, by="neuron", n_components=3)
    xr.testing.assert_identical(res, again)                       # deterministic
    forced = attractor_states(ds, 20.0, n_states=3, seed=5)
    assert agreement(forced.label.values, truth) >= 0.95


def test_attractor_states_numbered_by_activity_and_dwell_list():
    ds, _ = state_network([[3, 3], [20, 20]], 10, seed=2, duration=6000.0)
    res = attractor_states(ds, 10.0, n_states=2)
    assert res.centroid.values[0].mean() < res.centroid.values[1].mean()
    assert res.dwell_time.sum() == pytest.approx(6000.0)
    assert res.dwell_start.values[0] == 0.0
    assert np.all(np.diff(res.dwell_state.values) != 0)          # runs alternate


# -- edge cases ----------------------------------------------------------------------------
def test_attractor_states_no_spikes_is_one_state():
    res = attractor_states([np.zeros(0), np.zeros(0)], 10.0, t_stop=200.0)
    assert res.attrs["n_states"] == 1 and np.all(res.label.values == 0)
    assert np.isnan(float(res.silhouette))                        # documented: k = 1
    with pytest.raises(ValueError, match="distinct"):
        attractor_states([np.zeros(0)], 10.0, n_states=2, t_stop=200.0)


def test_attractor_states_single_spike():
    res = attractor_states([[55.0]], 10.0, t_stop=200.0)
    assert res.attrs["n_states"] == 2
    assert res.label.values.tolist() == [0] * 5 + [1] + [0] * 14   # (50, 60] ms holds it


def test_attractor_states_bad_input():
    with pytest.raises(ValueError, match="not finite"):
        attractor_states([[1.0, np.nan]], 10.0, t_stop=200.0)
    with pytest.raises(ValueError, match="at least 3"):
        attractor_states([[1.0]], 150.0, t_stop=200.0)
    with pytest.raises(ValueError, match="population"):
        attractor_states([[1.0]], 10.0, by="population", t_stop=200.0)
    for kwargs, exc in [({"n_states": 0}, ValueError), ({"n_states": 2.5}, TypeError),
                        ({"by": "layer"}, ValueError), ({"n_components": 0}, ValueError),
                        ({"max_states": 1}, ValueError), ({"bin_ms": -1.0}, ValueError)]:
        args = {"bin_ms": 10.0, **kwargs}
        with pytest.raises(exc):
            attractor_states([[1.0, 50.0]], t_stop=200.0, **args)
