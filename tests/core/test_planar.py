"""Planar model descriptions (core/neurons/planar.py): each model's equations against itself
(equilibria are zeros of its vector field, the Jacobian is the derivative of it), what the
registry says about them, and a user-defined model (FitzHugh-Nagumo) through the generic
root search and the analysis functions, against the cubic solved by ``numpy.roots``."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim_nb.analysis.attractors import fixed_points, nullclines
from neurosim_nb.core.neurons.base import NeuronPopulation
from neurosim_nb.core.neurons.planar import (
    AdExPlanar,
    IzhikevichPlanar,
    PlanarModel,
    planar_models,
)
from neurosim_nb.core.neurons.registry import MODEL_FAMILIES, family_of, family_of_parameters
from neurosim_nb.params import ParameterSet, param, parameters


# -- the built-in planar models ------------------------------------------------------------------
def _cases():
    """(family, preset, input) for every preset of every planar family, at inputs from
    hyperpolarising to just below the saddle-node current I_SN (two fixed points)."""
    out = []
    for family, planar in planar_models().items():
        for preset, params in MODEL_FAMILIES[family].presets().items():
            try:
                p = planar.scalars(params)
            except ValueError:  # e.g. Izhikevich a = 0
                continue
            i_sn = planar.saddle_node_current(p)
            if np.isfinite(i_sn):
                scale = abs(i_sn) or 1.0
                currents = [i_sn - frac * scale for frac in (2.0, 1.0, 0.01)]
            else:  # AdEx with a <= -g_L: F increases, one fixed point (for I < 0 at least)
                currents = [-1.0, -0.1, -0.01]
            out += [(family, preset, float(i)) for i in currents]
    return out


CASES = _cases()


def test_registry_declares_the_planar_families():
    assert list(planar_models()) == ["Izhikevich", "AdEx"]
    assert isinstance(family_of(MODEL_FAMILIES["Izhikevich"]).planar, IzhikevichPlanar)
    assert isinstance(family_of(MODEL_FAMILIES["AdEx"]).planar, AdExPlanar)
    for family in ("LIF", "Hodgkin-Huxley", "Adaptive LIF"):
        assert family_of(MODEL_FAMILIES[family]).planar is None


@pytest.mark.parametrize("family", ["Izhikevich", "AdEx"])
def test_planar_units_and_names_agree_with_the_population(family):
    cls = MODEL_FAMILIES[family]
    planar = cls.planar
    assert planar.input_units == cls.current_units
    assert planar.recovery in cls.state_variables
    assert planar.recovery_units == cls.state_variables[planar.recovery][0]
    assert set(planar.parameters) <= set(cls.parameters_class.field_info())


@pytest.mark.parametrize("family, preset, current", CASES)
def test_rhs_vanishes_at_the_equilibria(family, preset, current):
    planar = planar_models()[family]
    p = planar.scalars(MODEL_FAMILIES[family].presets()[preset])
    v = planar.equilibria(p, current)
    # below a finite I_SN: rest and saddle; one point when I_SN is infinite, or for AdEx
    # with a = -g_L exactly (F(V) is then monotone: I_SN = 0 is where its root leaves)
    monotone = p.get("a", 0.0) + p.get("g_L", 1.0) == 0.0
    expected = 2 if np.isfinite(planar.saddle_node_current(p)) and not monotone else 1
    assert v.size == expected, v
    w = planar.w_nullcline(p, v)
    dv, dw = planar.rhs(p, v, w, current)
    assert np.all(np.abs(dv) < 1e-9) and np.all(np.abs(dw) < 1e-9), (dv, dw)
    # the V-nullcline passes through the same points
    np.testing.assert_allclose(planar.v_nullcline(p, v, current), w, rtol=0, atol=1e-9)


@pytest.mark.parametrize("family, preset, current", CASES)
def test_jacobian_matches_central_differences_of_rhs(family, preset, current):
    planar = planar_models()[family]
    p = planar.scalars(MODEL_FAMILIES[family].presets()[preset])
    v = np.concatenate([planar.equilibria(p, current), np.linspace(*planar.v_range(p), 7)])
    J = planar.jacobian(p, v)
    w = planar.w_nullcline(p, v)
    for k in range(v.size):
        num = np.empty((2, 2))
        for col in range(2):
            h = 1e-5 * max(1.0, abs(v[k]) if col == 0 else abs(w[k]))
            e = np.zeros(2)
            e[col] = h
            up = np.array(planar.rhs(p, v[k] + e[0], w[k] + e[1], current))
            down = np.array(planar.rhs(p, v[k] - e[0], w[k] - e[1], current))
            num[:, col] = (up - down) / (2 * h)
        # atol: the rounding of the differences where an entry crosses 0 (1/ms)
        np.testing.assert_allclose(J[k], num, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("family", ["Izhikevich", "AdEx"])
def test_generic_equilibria_agree_with_the_closed_forms(family):
    """The base class's bracketing search finds the same points as the closed forms."""
    planar = planar_models()[family]
    for preset, params in MODEL_FAMILIES[family].presets().items():
        try:
            p = planar.scalars(params)
        except ValueError:
            continue
        current = 0.5 * planar.saddle_node_current(p)
        closed = planar.equilibria(p, current)
        generic = PlanarModel.equilibria(planar, p, current)
        inside = (closed > planar.v_range(p)[0]) & (closed < planar.v_range(p)[1])
        np.testing.assert_allclose(generic, closed[inside], atol=1e-9, err_msg=preset)
        np.testing.assert_allclose(PlanarModel.jacobian(planar, p, closed),
                                   planar.jacobian(p, closed), rtol=1e-5, atol=1e-9)


def test_adex_saddle_node_current_at_a_equal_minus_g_l():
    """AdEx with a == -g_L exactly (Naud et al.'s 'delayed_regular_bursting'):
    F(V) = g_L D_T exp((V - V_T)/D_T) + I has a root only for I < 0, so I_SN = 0 (the
    limit of the Touboul-Brette formula), not inf."""
    planar = AdExPlanar()
    p = planar.scalars(MODEL_FAMILIES["AdEx"].presets()["delayed_regular_bursting"])
    assert p["a"] == -p["g_L"]
    assert planar.equilibria(p, -1e-6).size == 1 and planar.equilibria(p, 0.0).size == 0
    assert planar.saddle_node_current(p) == 0.0


def test_scalars_errors():
    izh = IzhikevichPlanar()
    with pytest.raises(ValueError, match="a = 0"):
        izh.scalars({"a": 0.0, "b": 0.2, "v_peak": 30.0})
    with pytest.raises(ValueError, match="differs between neurons"):
        izh.scalars({"a": np.array([0.02, 0.1]), "b": 0.2, "v_peak": 30.0})
    p = izh.scalars({"a": np.array([0.02, 0.02]), "b": 0.2, "v_peak": 30.0})
    assert p == {"a": 0.02, "b": 0.2, "v_peak": 30.0}
    assert np.isnan(PlanarModel().saddle_node_current(p))
    with pytest.raises(NotImplementedError, match="rhs"):
        PlanarModel().rhs(p, 0.0, 0.0, 0.0)


# -- a user-defined planar model -----------------------------------------------------------------
class FitzHughNagumoPlanar(PlanarModel):
    """dv/dt = v - v^3/3 - w + I, dw/dt = eps (v + a - b w): no closed forms given."""

    name, recovery, recovery_units, input_units = "fitzhugh_nagumo", "w", "1", "1"
    parameters = ("a", "b", "eps")
    v_margin = 0.5

    def rhs(self, p, V, w, I):
        return V - V ** 3 / 3.0 - w + I, p["eps"] * (V + p["a"] - p["b"] * w)

    def v_nullcline(self, p, V, I):
        return V - V ** 3 / 3.0 + I

    def w_nullcline(self, p, V):
        return (V + p["a"]) / p["b"]

    def v_range(self, p):
        return -2.5, 2.5


@parameters
class FitzHughNagumoParameters(ParameterSet):
    a: float = param(0.7, "1", (-10.0, 10.0), "offset of the w-nullcline")
    b: float = param(0.8, "1", (0.0, 10.0), "slope parameter of the w-nullcline")
    eps: float = param(0.08, "1", (0.0, 1.0), "time-scale ratio of w")


class FitzHughNagumoNeuron(NeuronPopulation):
    """Not registered (the registry is global): found through ``family_of(population)``."""

    parameters_class = FitzHughNagumoParameters
    state_variables = {"V": ("1", "membrane potential"), "w": ("1", "recovery")}
    planar = FitzHughNagumoPlanar()

    def _initial_state(self):
        return np.zeros((2, self.n))


def fhn_fixed_v(a: float, b: float, current: float) -> np.ndarray:
    """Real roots of v - v^3/3 - (v + a)/b + I = 0, by numpy.roots."""
    roots = np.roots([-1.0 / 3.0, 0.0, 1.0 - 1.0 / b, current - a / b])
    return np.sort(roots[np.abs(roots.imag) < 1e-12].real)


def test_user_planar_model_generic_equilibria_match_the_cubic():
    fhn = FitzHughNagumoPlanar()
    p = {"a": 0.7, "b": 0.8, "eps": 0.08}
    v = fhn.equilibria(p, 0.0)
    ref = fhn_fixed_v(0.7, 0.8, 0.0)
    assert ref.size == 1 and ref[0] == pytest.approx(-1.19941, abs=1e-5)
    np.testing.assert_allclose(v, ref, atol=1e-10)
    dv, dw = fhn.rhs(p, v, fhn.w_nullcline(p, v), 0.0)
    assert abs(dv[0]) < 1e-9 and abs(dw[0]) < 1e-9
    # three fixed points with b = 2 (1 - 1/b > 0 makes the cubic's middle branch cross)
    q = {"a": 0.0, "b": 2.0, "eps": 0.08}
    np.testing.assert_allclose(fhn.equilibria(q, 0.0), fhn_fixed_v(0.0, 2.0, 0.0), atol=1e-10)
    assert fhn.equilibria(q, 0.0).size == 3


def test_user_planar_model_through_the_analysis_functions():
    pop = FitzHughNagumoNeuron()
    with pytest.raises(TypeError):
        family_of_parameters(pop.params)               # not registered ...
    assert family_of(pop).planar is FitzHughNagumoNeuron.planar   # ... but the class says
    fp = fixed_points(pop, I_ext=0.0)
    np.testing.assert_allclose(fp.V.values, fhn_fixed_v(0.7, 0.8, 0.0), atol=1e-10)
    np.testing.assert_allclose(fp.w.values, (fp.V.values + 0.7) / 0.8)
    # the classic resting state at I = 0 is a stable focus; the generic Jacobian
    # (central differences) against the analytic one [[1 - v^2, -1], [eps, -eps b]]
    v = float(fp.V[0])
    lam = np.sort_complex(np.linalg.eigvals([[1 - v * v, -1.0], [0.08, -0.08 * 0.8]]))
    got = np.sort_complex(fp.eigenvalue_real.values[0] + 1j * fp.eigenvalue_imag.values[0])
    np.testing.assert_allclose(got, lam, rtol=1e-6)
    assert fp.kind.values.tolist() == ["stable focus"]
    assert fp.attrs["model"] == "fitzhugh_nagumo" and np.isnan(fp.attrs["I_saddle_node"])
    nc = nullclines(pop, I_ext=0.0, n_points=11)
    assert list(nc.data_vars) == ["V_nullcline", "w_nullcline"]
    assert (float(nc.V[0]), float(nc.V[-1])) == (-2.5, 2.5)   # fixed point well inside
    wide = nullclines(pop, I_ext=-3.0, n_points=11)               # V* < -2: widened by 0.5
    v_star = fhn_fixed_v(0.7, 0.8, -3.0)
    assert float(wide.V[0]) == pytest.approx(v_star.min() - 0.5)
