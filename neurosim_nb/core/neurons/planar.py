r"""Planar (2-D) descriptions of neuron models, for phase-plane analysis.

Below the spike cut-off some models are a planar flow in the membrane potential ``V``
and one recovery variable ``w``,

.. math::

    \dot V = f(V, w) + I / C, \qquad \dot w = g(V, w),

with a constant input :math:`I` entering :math:`\dot V` additively. A model family says so
by carrying an instance of a :class:`PlanarModel` subclass as its ``planar`` class
attribute (``IzhikevichNeuron.planar``, ``AdExNeuron.planar``); the model registry
(:mod:`~neurosim_nb.core.neurons.registry`) exposes it as ``family_of(cls).planar``, and
:func:`~neurosim_nb.analysis.fixed_points`, :func:`~neurosim_nb.analysis.nullclines` and
the phase-plane panel work from it alone. The reset is not part of the planar model: these
are the equilibria and nullclines of the subthreshold flow.

A planar model works on a dict of scalar parameters (:meth:`PlanarModel.scalars` takes them
from a parameter set, refusing per-neuron values that differ) and provides

* the vector field :meth:`~PlanarModel.rhs` ``(p, V, w, I) -> (dV/dt, dw/dt)``,
* the nullclines :meth:`~PlanarModel.v_nullcline` (``w`` where dV/dt = 0) and
  :meth:`~PlanarModel.w_nullcline` (``w`` where dw/dt = 0),
* :meth:`~PlanarModel.v_range`, the V window worth plotting,

and, with generic defaults a subclass may replace by closed forms,

* :meth:`~PlanarModel.equilibria` -- the V of the fixed points: sign changes of
  :math:`\dot V` along the w-nullcline on a grid over :meth:`~PlanarModel.v_range`, each
  refined by ``scipy.optimize.brentq``;
* :meth:`~PlanarModel.jacobian` -- central finite differences of :meth:`~PlanarModel.rhs`;
* :meth:`~PlanarModel.saddle_node_current` -- NaN (not known) by default.

Examples
--------
A user-defined model needs only its equations. FitzHugh-Nagumo
(:math:`\dot v = v - v^3/3 - w + I`, :math:`\dot w = \varepsilon(v + a - b w)`):

>>> class FitzHughNagumo(PlanarModel):
...     name, recovery, recovery_units, input_units = "fhn", "w", "1", "1"
...     parameters = ("a", "b", "eps")
...     def rhs(self, p, V, w, I):
...         return V - V ** 3 / 3 - w + I, p["eps"] * (V + p["a"] - p["b"] * w)
...     def v_nullcline(self, p, V, I):
...         return V - V ** 3 / 3 + I
...     def w_nullcline(self, p, V):
...         return (V + p["a"]) / p["b"]
...     def v_range(self, p):
...         return -2.5, 2.5
>>> FitzHughNagumo().equilibria({"a": 0.7, "b": 0.8, "eps": 0.08}, 0.0).round(5)
array([-1.19941])

The built-in closed forms:

>>> from neurosim_nb import IzhikevichNeuron
>>> izh = IzhikevichNeuron.planar
>>> p = izh.scalars(IzhikevichNeuron.from_preset("RS").params)
>>> izh.equilibria(p, 0.0).round(9).tolist(), izh.saddle_node_current(p)
([-70.0, -50.0], 4.0)

References
----------
E. M. Izhikevich (2007), *Dynamical Systems in Neuroscience*, MIT Press, ch. 4-5.
J. Touboul, R. Brette (2008), Dynamics and bifurcations of the adaptive exponential
integrate-and-fire model. Biol Cybern 99:319-334.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import ClassVar

import numpy as np

__all__ = ["PlanarModel", "IzhikevichPlanar", "AdExPlanar", "planar_models"]


class PlanarModel:
    """The 2-D (V, recovery) description of a neuron model (see the module docstring).

    Subclasses set the class attributes and implement :meth:`rhs`, :meth:`v_nullcline`,
    :meth:`w_nullcline` and :meth:`v_range`; :meth:`equilibria`, :meth:`jacobian` and
    :meth:`saddle_node_current` have generic defaults. Every method takes the scalar
    parameters ``p`` returned by :meth:`scalars` and works elementwise on arrays of ``V``.
    The input ``I`` must enter dV/dt additively (so the Jacobian does not depend on it).
    """

    #: short model name (the ``model`` attr of fixed-point and nullcline Datasets)
    name: ClassVar[str] = "planar"
    #: name of the recovery variable (a state variable of the population)
    recovery: ClassVar[str] = "w"
    #: units of the recovery variable
    recovery_units: ClassVar[str] = "1"
    #: units of the input current ``I`` (the population's ``current_units``)
    input_units: ClassVar[str] = "1"
    #: the parameters the equations read, taken by :meth:`scalars`
    parameters: ClassVar[tuple[str, ...]] = ()
    #: margin (units of V) kept around the fixed points when the nullclines' default
    #: window is widened to show them
    v_margin: ClassVar[float] = 5.0
    #: grid points of the generic :meth:`equilibria` search over :meth:`v_range`
    search_points: ClassVar[int] = 4001

    # -- parameters --------------------------------------------------------------------
    def scalars(self, params) -> dict[str, float]:
        """``{name: float}`` of :attr:`parameters` from a parameter set, a population (its
        parameters) or a mapping.

        Per-neuron arrays are accepted when all their values are equal.

        Raises
        ------
        ValueError
            A parameter that differs between neurons, or values :meth:`check` rejects.
        """
        params = getattr(params, "params", params)
        get = params.__getitem__ if isinstance(params, Mapping) else partial(getattr, params)
        values = {}
        for name in self.parameters:
            v = np.unique(np.asarray(get(name), dtype=float))
            if v.size != 1:
                raise ValueError(f"{name} differs between neurons ({v.tolist()}): pass the "
                                 "parameters of one neuron")
            values[name] = float(v[0])
        self.check(values)
        return values

    def check(self, p: dict[str, float]) -> None:
        """Raise ``ValueError`` for scalar parameters the analysis cannot use (default:
        accept all)."""

    # -- the equations -----------------------------------------------------------------
    def rhs(self, p: dict[str, float], V, w, I):
        """``(dV/dt, dw/dt)`` at ``(V, w)`` under the constant input ``I``."""
        raise NotImplementedError(f"{type(self).__name__} must define rhs")

    def v_nullcline(self, p: dict[str, float], V, I):
        """The recovery value where dV/dt = 0, at each ``V``."""
        raise NotImplementedError(f"{type(self).__name__} must define v_nullcline")

    def w_nullcline(self, p: dict[str, float], V):
        """The recovery value where dw/dt = 0, at each ``V``."""
        raise NotImplementedError(f"{type(self).__name__} must define w_nullcline")

    def v_range(self, p: dict[str, float]) -> tuple[float, float]:
        """Default window of ``V`` (mV): what the nullclines are drawn over and where the
        generic :meth:`equilibria` searches."""
        raise NotImplementedError(f"{type(self).__name__} must define v_range")

    # -- generic analysis (override with closed forms) ----------------------------------
    def equilibria(self, p: dict[str, float], I: float) -> np.ndarray:
        """``V`` of the fixed points under input ``I``, increasing.

        Generic: the fixed points are the roots of :math:`h(V) = \\dot V(V, w_0(V), I)`
        with :math:`w_0` the w-nullcline; every sign change of ``h`` on
        :attr:`search_points` points over :meth:`v_range` is refined by
        ``scipy.optimize.brentq``. Roots outside the window, and a double root that
        touches zero without changing sign (at a saddle-node), are not found.
        """
        from scipy import optimize  # on use: the model modules import this one

        lo, hi = (float(x) for x in self.v_range(p))
        v = np.linspace(lo, hi, int(self.search_points))

        def h(x):
            with np.errstate(over="ignore", invalid="ignore"):
                return self.rhs(p, x, self.w_nullcline(p, x), I)[0]

        hv = np.asarray(h(v), dtype=float)
        roots = list(v[hv == 0.0])
        for k in np.flatnonzero(np.sign(hv[:-1]) * np.sign(hv[1:]) < 0):
            roots.append(optimize.brentq(lambda x: float(h(x)), v[k], v[k + 1], xtol=1e-12))
        return np.sort(np.asarray(roots, dtype=float))

    def jacobian(self, p: dict[str, float], V) -> np.ndarray:
        """Jacobian ``(..., 2, 2)`` of :meth:`rhs` at ``(V, w_nullcline(V))`` (rows dV/dt,
        dw/dt; columns d/dV, d/dw). Generic: central differences."""
        V = np.asarray(V, dtype=float)
        w = np.asarray(self.w_nullcline(p, V), dtype=float)
        J = np.empty(V.shape + (2, 2))
        hv = 1e-6 * np.maximum(1.0, np.abs(V))
        hw = 1e-6 * np.maximum(1.0, np.abs(w))
        for col, (dv, dw, step) in enumerate(((hv, 0.0, hv), (0.0, hw, hw))):
            up = self.rhs(p, V + dv, w + dw, 0.0)
            down = self.rhs(p, V - dv, w - dw, 0.0)
            for row in range(2):
                J[..., row, col] = (np.asarray(up[row]) - np.asarray(down[row])) / (2 * step)
        return J

    def saddle_node_current(self, p: dict[str, float]) -> float:
        """Input above which no fixed point exists (``inf`` if one always exists; the
        generic default, NaN, means not known)."""
        return float("nan")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


# -- Izhikevich --------------------------------------------------------------------------------
class IzhikevichPlanar(PlanarModel):
    r"""The Izhikevich (2003) simple model below the cut-off,

    .. math:: \dot v = 0.04 v^2 + 5 v + 140 - u + I, \qquad \dot u = a(bv - u),

    in Izhikevich's units (mV, ms; ``u`` and ``I`` in mV/ms). The fixed points solve the
    quadratic :math:`0.04v^2 + (5 - b)v + 140 + I = 0` (closed form); two exist below the
    saddle-node current :math:`I_{SN} = (5 - b)^2/0.16 - 140`. ``a = 0`` is refused (``u``
    never changes: no isolated fixed points).

    >>> izh = IzhikevichPlanar()
    >>> p = {"a": 0.02, "b": 0.2, "v_peak": 30.0}
    >>> izh.equilibria(p, 4.0).tolist()        # the saddle-node: one double root
    [-60.0]
    >>> izh.scalars(p | {"a": 0.0})
    Traceback (most recent call last):
    ...
    ValueError: a = 0: u never changes, so there are no isolated fixed points
    """

    name = "izhikevich"
    recovery = "u"
    recovery_units = "mV/ms"
    input_units = "mV/ms"
    parameters = ("a", "b", "v_peak")

    def check(self, p: dict[str, float]) -> None:
        if p["a"] == 0:
            raise ValueError("a = 0: u never changes, so there are no isolated fixed points")

    def rhs(self, p, V, w, I):
        return 0.04 * V * V + 5.0 * V + 140.0 - w + I, p["a"] * (p["b"] * V - w)

    def v_nullcline(self, p, V, I):
        return 0.04 * V * V + 5.0 * V + 140.0 + I

    def w_nullcline(self, p, V):
        return p["b"] * V

    def v_range(self, p) -> tuple[float, float]:
        return -90.0, -20.0

    def equilibria(self, p, I) -> np.ndarray:
        q = 5.0 - p["b"]
        disc = q * q - 0.16 * (140.0 + I)
        if disc < -1e-12 * q * q:
            return np.zeros(0)
        if disc <= 1e-12 * q * q:
            return np.array([-q / 0.08])
        r = np.sqrt(disc)
        return np.array([(-q - r) / 0.08, (-q + r) / 0.08])

    def jacobian(self, p, V) -> np.ndarray:
        v = np.asarray(V, dtype=float)
        J = np.empty(v.shape + (2, 2))
        J[..., 0, 0], J[..., 0, 1] = 0.08 * v + 5.0, -1.0
        J[..., 1, 0], J[..., 1, 1] = p["a"] * p["b"], -p["a"]
        return J

    def saddle_node_current(self, p) -> float:
        return (5.0 - p["b"]) ** 2 / (4 * 0.04) - 140.0


# -- AdEx --------------------------------------------------------------------------------------
class AdExPlanar(PlanarModel):
    r"""The adaptive exponential integrate-and-fire model below the cut-off,

    .. math::

        C\dot V = -g_L(V - E_L) + g_L\Delta_T e^{(V - V_T)/\Delta_T} - w + I, \qquad
        \tau_w \dot w = a(V - E_L) - w

    (mV, ms, nA, uS, nF). At a fixed point
    :math:`F(V) = -(g_L + a)(V - E_L) + g_L\Delta_T e^{(V-V_T)/\Delta_T} + I = 0`; ``F`` is
    convex with its minimum at :math:`V^* = V_T + \Delta_T\ln(1 + a/g_L)` (for
    :math:`a > -g_L`), so two fixed points exist below (one on each side of :math:`V^*`,
    found by ``brentq``) and none above

    .. math::

        I_{SN} = (g_L + a)\Big(V_T - E_L - \Delta_T + \Delta_T \ln\big(1 + \tfrac{a}{g_L}\big)\Big)

    (Touboul & Brette 2008). For :math:`a \le -g_L`, ``F`` increases: one fixed point
    whenever it changes sign, and :math:`I_{SN} = \infty`.
    """

    name = "adex"
    recovery = "w"
    recovery_units = "nA"
    input_units = "nA"
    parameters = ("C", "g_L", "E_L", "V_T", "Delta_T", "a", "tau_w", "V_peak")

    @staticmethod
    def _F(p, i_ext, a=None):
        """F(V) at input ``i_ext`` (the V-nullcline minus the w-nullcline); ``a`` replaces
        the adaptation conductance (0: the V-nullcline itself)."""
        gl, el, vt, dt = p["g_L"], p["E_L"], p["V_T"], p["Delta_T"]
        a = p["a"] if a is None else a

        def F(v):
            with np.errstate(over="ignore"):
                return -(gl + a) * (v - el) + gl * dt * np.exp((v - vt) / dt) + i_ext
        return F

    def rhs(self, p, V, w, I):
        with np.errstate(over="ignore"):
            dv = (-p["g_L"] * (V - p["E_L"])
                  + p["g_L"] * p["Delta_T"] * np.exp((V - p["V_T"]) / p["Delta_T"]) - w + I)
        return dv / p["C"], (p["a"] * (V - p["E_L"]) - w) / p["tau_w"]

    def v_nullcline(self, p, V, I):
        return self._F(p, I, a=0.0)(V)

    def w_nullcline(self, p, V):
        return p["a"] * (V - p["E_L"])

    def v_range(self, p) -> tuple[float, float]:
        return p["E_L"] - 20.0, p["V_T"] + 5.0 * p["Delta_T"]

    def equilibria(self, p, I) -> np.ndarray:
        from scipy import optimize  # on use: the model modules import this one

        F = self._F(p, I)
        gl, a, dt = p["g_L"], p["a"], p["Delta_T"]

        def outward(v0, step):  # march from v0 until F > 0 (both ends of a convex F)
            v, s = v0 + step, step
            for _ in range(200):
                if F(v) > 0:
                    return v
                s *= 2.0
                v += s
            return None

        if gl + a > 0:
            v_star = p["V_T"] + dt * np.log1p(a / gl)
            f_star = F(v_star)
            if f_star > 0:
                return np.array([])
            if f_star == 0:
                return np.array([float(v_star)])
            lo, hi = outward(v_star, -dt), outward(v_star, dt)
            return np.array([optimize.brentq(F, lo, v_star, xtol=1e-12),
                             optimize.brentq(F, v_star, hi, xtol=1e-12)])
        # a <= -g_L: F is increasing, one root if F changes sign
        hi = outward(p["V_T"], dt)
        lo, s = p["E_L"], -10.0
        for _ in range(60):
            if F(lo) < 0:
                return np.array([optimize.brentq(F, lo, hi, xtol=1e-12)])
            lo += s
            s *= 2.0
        return np.array([])

    def jacobian(self, p, V) -> np.ndarray:
        v = np.asarray(V, dtype=float)
        J = np.empty(v.shape + (2, 2))
        ex = np.exp((v - p["V_T"]) / p["Delta_T"])
        J[..., 0, 0], J[..., 0, 1] = p["g_L"] * (ex - 1.0) / p["C"], -1.0 / p["C"]
        J[..., 1, 0], J[..., 1, 1] = p["a"] / p["tau_w"], -1.0 / p["tau_w"]
        return J

    def saddle_node_current(self, p) -> float:
        gl, a = p["g_L"], p["a"]
        if gl + a == 0:  # F(V) = g_L D_T exp((V - V_T) / D_T) + I: a root only for I < 0
            return 0.0
        if gl + a < 0:  # F increases from -inf to +inf: one fixed point at every input
            return float("inf")
        return (gl + a) * (p["V_T"] - p["E_L"] - p["Delta_T"]
                           + p["Delta_T"] * np.log1p(a / gl))


def planar_models() -> dict[str, PlanarModel]:
    """``{family name: planar model}`` of the registered families that have one, in
    registry order.

    >>> list(planar_models())
    ['Izhikevich', 'AdEx']
    """
    from neurosim_nb.core.neurons.registry import MODEL_FAMILIES, family_of

    out = {}
    for name in MODEL_FAMILIES:
        planar = family_of(MODEL_FAMILIES[name]).planar
        if planar is not None:
            out[name] = planar
    return out
