r"""Hodgkin-Huxley neurons: the squid giant axon (1952) and a Traub-Miles cortical cell.

Single-compartment conductance-based model with transient sodium, delayed-rectifier
potassium and leak currents, all given **per membrane area**:

.. math::

    C_m \frac{dV}{dt} = -\bar g_{Na} m^3 h (V - E_{Na}) - \bar g_K n^4 (V - E_K)
                        - g_L (V - E_L) + J(t),

    \frac{dx}{dt} = \phi(T)\,\bigl[\alpha_x(V)(1 - x) - \beta_x(V)\,x\bigr]
                  = \frac{x_\infty(V) - x}{\tau_x(V)}, \qquad x \in \{m, h, n\},

    x_\infty = \frac{\alpha_x}{\alpha_x + \beta_x}, \qquad
    \tau_x = \frac{1}{\phi(T)(\alpha_x + \beta_x)}, \qquad
    \phi(T) = Q_{10}^{(T - T_{ref})/10}.

Units: :math:`C_m` in µF/cm², conductances in mS/cm², potentials in mV, time in ms, so
:math:`J` is a current density in µA/cm² (mS/cm² · mV = µA/cm², µA/cm² / µF/cm² = mV/ms).
The engine's input current :math:`I` is in nA like every model of the package; it is
converted with the membrane area, :math:`J = I / A` (``area_um2``), by
:func:`neurosim_nb.units.current_to_density`, the single place of that conversion. Use
``simulate(..., current_density=...)`` to drive a population in µA/cm² directly.

Rate functions (ms⁻¹, :math:`V` in mV)
--------------------------------------
``kinetics="hh1952"`` -- Hodgkin & Huxley (1952), *J Physiol* 117:500, in the modern
sign convention with rest near -65 mV (as in Dayan & Abbott 2001, NEURON's ``hh.mod``);
rates given at :math:`T_{ref} = 6.3` °C:

.. math::

    \alpha_m = \frac{0.1 (V + 40)}{1 - e^{-(V + 40)/10}}, \quad
    \beta_m = 4 e^{-(V + 65)/18}, \quad
    \alpha_h = 0.07 e^{-(V + 65)/20}, \quad
    \beta_h = \frac{1}{1 + e^{-(V + 35)/10}},

    \alpha_n = \frac{0.01 (V + 55)}{1 - e^{-(V + 55)/10}}, \quad
    \beta_n = 0.125 e^{-(V + 65)/80}.

``kinetics="traub_miles"`` -- Traub & Miles (1991), *Neuronal Networks of the
Hippocampus*, as used by Destexhe & Paré (1999), Brette et al. (2007, benchmark 3
"COBAHH") and Pospischil et al. (2008), *Biol Cybern* 99:427, with
:math:`u = V - V_T`:

.. math::

    \alpha_m = \frac{0.32 (13 - u)}{e^{(13 - u)/4} - 1}, \quad
    \beta_m = \frac{0.28 (u - 40)}{e^{(u - 40)/5} - 1}, \quad
    \alpha_h = 0.128 e^{(17 - u)/18}, \quad
    \beta_h = \frac{4}{1 + e^{(40 - u)/5}},

    \alpha_n = \frac{0.032 (15 - u)}{e^{(15 - u)/5} - 1}, \quad
    \beta_n = 0.5 e^{(10 - u)/40}.

Their reference temperature is :math:`T_{ref} = 36` °C with :math:`Q_{10} = 3`, as in
Destexhe's NEURON implementation of these kinetics (``hh2.mod``, ModelDB 279 and the
Pospischil et al. 2008 models: ``tadj = 3^((celsius - 36)/10)``). Brette et al. (2007)
and Brian2's COBAHH example use the rates without a temperature factor, i.e.
:math:`\phi = 1`; set ``temperature_C=36`` to reproduce them exactly.

The terms :math:`z / (e^{z} - 1)` have removable singularities (e.g. :math:`\alpha_n` at
:math:`V = -55` mV for hh1952); they are evaluated as :math:`1/\mathrm{exprel}(z)`
with :math:`\mathrm{exprel}(z) = (e^z - 1)/z` computed by ``expm1`` and a Taylor series
near 0, so no NaN and no loss of precision occurs anywhere.

Integration scheme (stable at dt = 0.1 ms)
------------------------------------------
Each step of ``dt``: apply the kicks (mV) of the step to :math:`V`; with :math:`V_k`
advance every gate exactly for frozen voltage (exponential Euler)

.. math::

    x_{k+1} = x_\infty(V_k) + (x_k - x_\infty(V_k))\, e^{-dt/\tau_x(V_k)};

then, with the conductances :math:`g_j` of the *new* gates frozen over the step, solve
the now linear membrane equation exactly,

.. math::

    V_{k+1} = V_k + \bigl(G_{tot} (V_\infty - V_k)\bigr)\,\frac{dt}{C_m}\,
              \varphi_1\!\Bigl(\frac{G_{tot}\,dt}{C_m}\Bigr), \quad
    G_{tot} = \sum_j g_j, \quad V_\infty = \frac{\sum_j g_j E_j + J}{G_{tot}}, \quad
    \varphi_1(a) = \frac{1 - e^{-a}}{a}.

Each update is exact for its frozen coefficients, hence unconditionally stable: the
gates stay in [0, 1] and :math:`V` moves only toward the bounded :math:`V_\infty`, never
past it, so a large dt degrades accuracy, not stability (tested at dt = 0.1 ms up to
1000 µA/cm²). Using the
freshly updated gates in the voltage step is the staggered ("leapfrog") arrangement of
NEURON (Hines 1984): read as gates living at half steps it is second-order accurate,
which is why the firing rate at dt = 0.01 ms agrees with a tight-tolerance ODE solver to
well below 1 % (see ``tests/core/test_hodgkin_huxley.py``).

``scheme="exponential_euler"`` uses the *old* gates in the voltage step instead: every
variable advanced exactly with all the others frozen at the start of the step, which is
Brian2's ``method="exponential_euler"`` (and BrainPy's ``exp_auto``) for these equations.
It is first-order: in Brian2's COBAHH network (4000 neurons, 1 s, same connectivity and
initial state) it fires 8-10 % less at dt = 0.1 ms than at dt = 0.01 ms, where both schemes
agree (measured: old gates 35.4 Hz, new gates 38.6 Hz at dt = 0.1 ms, mean of 3 networks;
38.8 and 39.8 Hz at dt = 0.01 ms on one of them). Use it to run the same arithmetic as
those simulators (``benchmarks/ours.py``); the default is the more accurate at a given dt.

Both schemes run in a fast form (the point model's ``fast_update``, spike detection
included): fused multiply-adds, one division for each group of independent quotients and
512-bit vectors on AVX-512 CPUs (COBAHH 4000 x 1 s: loop CPU 0.93 -> 0.49 s). It agrees
with the reference code of the update to rounding (~1e-13 mV per step;
``tests/core/test_hh_fast_update.py``) and hands a neuron to it only when its potential
leaves 300 mV around V_T (hh1952: around 0; 120 mV in float32 runs) or stops being finite.

A spike is an upward crossing of ``V_spike_threshold``: the potential at the start of
the step (before kicks) was below it and the potential at the end is at or above it.
There is no reset and no refractory clamp; the spike shape is the model's own. With
``t_refractory > 0`` the detector is Brian2's (``threshold="v > V_th"``,
``refractory=t_refractory`` without ``unless refractory``): a spike is a step ending at
or above threshold at least ``t_refractory`` after the previous spike, so a second
action potential inside that window is neither counted nor transmitted; V is untouched.

Examples
--------
>>> neuron = HodgkinHuxleyNeuron.create_squid_axon()
>>> round(neuron.V, 2)                                  # resting potential (mV)
-65.0
>>> ds = neuron.simulate(200.0, current_density=10.0, dt=0.01, seed=0)  # 10 uA/cm2
>>> int(ds.sizes["spike"])
14
>>> neuron.density_to_current(10.0)                     # the same drive in nA
2.0
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload

from neurosim_nb._jit import njit
from neurosim_nb.core.neurons.base import DIVERGENCE_LIMIT
from neurosim_nb.core.neurons.continuous import ContinuousForm
from neurosim_nb.core.neurons.point_model import PointModel
from neurosim_nb.numerics.fastmath import (
    exp_fma,
    expg,
    fma,
    lit,
    phi1,
    prefer_wide_vectors,
    series_below,
    x_over_expm1,
)
from neurosim_nb.params import ParameterSet, param, parameters
from neurosim_nb.units import current_to_density, density_to_current

__all__ = ["HodgkinHuxleyParameters", "HodgkinHuxleyNeuron", "KINETICS",
           "REFERENCE_TEMPERATURE_C", "SCHEMES"]

#: the kinetics schemes, in the order of their integer code in the kernel
KINETICS = ("hh1952", "traub_miles")
#: integration schemes of the fixed-step update (see the module docstring)
SCHEMES = ("staggered", "exponential_euler")
#: temperature (°C) at which each scheme's rate functions are given
REFERENCE_TEMPERATURE_C = {"hh1952": 6.3, "traub_miles": 36.0}

#: rows of the kernel parameter matrix (see HodgkinHuxleyNeuron._kernel_params)
_ROWS = ("C_m", "g_Na", "g_K", "g_L", "E_Na", "E_K", "E_L", "density_per_nA", "phi",
         "kinetics", "V_T", "V_spike_threshold")


@parameters
class HodgkinHuxleyParameters(ParameterSet):
    """Parameters of a single-compartment Hodgkin-Huxley neuron (per-area densities).

    The defaults are the squid giant axon of Hodgkin & Huxley (1952) at 6.3 °C in the
    modern convention (rest ≈ -65 mV). ``T_ref_C=None`` means the reference temperature
    of the chosen ``kinetics`` (6.3 °C for ``"hh1952"``, 36 °C for ``"traub_miles"``);
    ``V_init=None`` means the model's resting potential, found by solving the steady
    state (see :meth:`HodgkinHuxleyNeuron.resting_potential`).

    Examples
    --------
    >>> p = HodgkinHuxleyParameters()
    >>> p.g_Na, p.kinetics, p.reference_temperature(), p.rate_factor()
    (120.0, 'hh1952', 6.3, 1.0)
    >>> round(p.replace(temperature_C=16.3).rate_factor(), 12)   # Q10 = 3 over 10 degC
    3.0
    >>> try:
    ...     HodgkinHuxleyParameters(kinetics="hh1953")
    ... except ValueError as err:  # an InvalidArgumentError
    ...     print(err)  # doctest: +ELLIPSIS
    HodgkinHuxleyParameters.kinetics = 'hh1953' is not one of ['hh1952', 'traub_miles']...
    """

    C_m: float = param(1.0, "uF/cm2", (0.01, 100.0), "specific membrane capacitance")
    g_Na: float = param(120.0, "mS/cm2", (0.0, 10000.0), "maximal sodium conductance density")
    g_K: float = param(36.0, "mS/cm2", (0.0, 10000.0),
                       "maximal delayed-rectifier potassium conductance density")
    g_L: float = param(0.3, "mS/cm2", (0.0, 1000.0), "leak conductance density")
    E_Na: float = param(50.0, "mV", (-50.0, 200.0), "sodium reversal potential")
    E_K: float = param(-77.0, "mV", (-200.0, 50.0), "potassium reversal potential")
    E_L: float = param(-54.387, "mV", (-200.0, 100.0), "leak reversal potential")
    V_T: float = param(-63.0, "mV", (-120.0, 50.0),
                       "voltage offset of the traub_miles rate functions (unused by hh1952)")
    area_um2: float = param(20000.0, "um2", (1.0, 1.0e10),
                            "membrane area: converts the input current (nA) to uA/cm2")
    temperature_C: float = param(6.3, "degC", (-10.0, 50.0), "temperature")
    Q10: float = param(3.0, "1", (1.0, 10.0),
                       "temperature coefficient of all gate rates (per 10 degC)")
    kinetics: str = param("hh1952", "", None, "rate functions of the gates",
                          choices=KINETICS)
    T_ref_C: float | None = param(None, "degC", (-10.0, 50.0),
                                  "temperature at which the rate functions are given "
                                  "(None: 6.3 degC for hh1952, 36 degC for traub_miles)",
                                  optional=True)
    V_spike_threshold: float = param(0.0, "mV", (-100.0, 100.0),
                                     "an upward crossing of this potential is a spike")
    t_refractory: float = param(0.0, "ms", (0.0, 100.0),
                                "spike-detector dead time: no spike is detected for this long "
                                "after one (V is not clamped); > 0 also makes the detector "
                                "Brian2's (see the module docstring)")
    scheme: str = param("staggered", "", None,
                        "voltage step with the new gates (staggered, second order) or the "
                        "old ones (exponential_euler, Brian2's first-order method)",
                        choices=SCHEMES)
    V_init: float | None = param(None, "mV", (-200.0, 200.0),
                                 "initial membrane potential (None: the resting potential)",
                                 optional=True)

    def validate(self) -> None:
        if np.any(np.asarray(self.E_K) >= np.asarray(self.E_Na)):
            raise ValueError(f"HodgkinHuxleyParameters.E_K ({self.E_K} mV) must be below "
                             f"E_Na ({self.E_Na} mV)")

    def reference_temperature(self) -> float:
        """Temperature (°C) at which the rate functions hold: ``T_ref_C`` or, if ``None``,
        the value of the chosen ``kinetics`` (:data:`REFERENCE_TEMPERATURE_C`)."""
        if self.T_ref_C is None:
            return REFERENCE_TEMPERATURE_C[self.kinetics]
        return self.T_ref_C

    def rate_factor(self):
        r"""The temperature factor :math:`\phi = Q_{10}^{(T - T_{ref})/10}` of all gate rates
        (a float, or one value per neuron)."""
        phi = np.asarray(self.Q10, float) ** (
            (np.asarray(self.temperature_C, float) - np.asarray(self.reference_temperature(),
                                                                 float)) / 10.0)
        return float(phi) if phi.ndim == 0 else phi


# The update of a neuron is branch-free (selects, no calls to libm), so LLVM vectorises the
# skeleton's loop over neurons: see neurosim_nb.numerics.fastmath for the exponentials.

@njit(cache=True, inline="always", error_model="numpy")
def _rates(v, kin, v_t):
    """alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n (1/ms) at potential v (mV).

    Four exponentials per call: rates whose exponents differ by a constant share one
    (e.g. for traub_miles beta_m, beta_h and alpha_n all use e^((u - 40)/5)). ``kin`` is
    0 (hh1952) or 1 (traub_miles); the kernel passes a literal, so the branch folds.
    """
    c = v  # every constant below takes v's precision (see _lit)
    if kin == 0:  # hh1952, modern convention
        x = -(v + lit(40.0, c)) * lit(0.1, c)
        e10 = expg(x)                                 # e^(-(v + 40)/10)
        am = x_over_expm1(x, e10)                     # 0.1 (v+40) / (1 - e^(-(v+40)/10))
        an = lit(0.1, c) * x_over_expm1(x - lit(1.5, c),
                                          e10 * lit(0.22313016014842982, c))   # e^-1.5
        bh = lit(1.0, c) / (lit(1.0, c) + e10 * lit(1.6487212707001282, c))  # e^0.5
        w = v + lit(65.0, c)
        bm = lit(4.0, c) * expg(w * lit(-1.0 / 18.0, c))
        ah = lit(0.07, c) * expg(w * lit(-0.05, c))
        bn = lit(0.125, c) * expg(w * lit(-0.0125, c))
    else:  # traub_miles, u = v - V_T
        u = v - v_t
        x = (lit(13.0, c) - u) * lit(0.25, c)
        am = lit(1.28, c) * x_over_expm1(x, expg(x))  # 0.32 (13-u) / (e^((13-u)/4) - 1)
        y = (u - lit(40.0, c)) * lit(0.2, c)
        e5 = expg(y)                                  # e^((u - 40)/5)
        bm = lit(1.4, c) * x_over_expm1(y, e5)       # 0.28 (u-40) / (e^((u-40)/5) - 1)
        bh = lit(4.0, c) * e5 / (e5 + lit(1.0, c))   # 4 / (1 + e^((40-u)/5))
        # 0.032 (15-u) / (e^((15-u)/5) - 1), e^((15-u)/5) = e^-5 / e5
        an = lit(0.16, c) * x_over_expm1(-y - lit(5.0, c),
                                           lit(0.006737946999085467, c) / e5)
        ah = lit(0.128, c) * expg((lit(17.0, c) - u) * lit(1.0 / 18.0, c))
        bn = lit(0.5, c) * expg((lit(10.0, c) - u) * lit(0.025, c))
    return am, bm, ah, bh, an, bn


@njit(cache=True, inline="always", error_model="numpy")
def _gate_step(x, a, b, dt_phi):
    """Exact update of dx/dt = phi (a (1 - x) - b x) over dt with a, b frozen."""
    s = a + b
    x_inf = a / s
    return x_inf + (x - x_inf) * expg(-dt_phi * s)


@njit(cache=True, inline="always", error_model="numpy")
def _hh_update(v, m, h, nn, i_in, kin, dt_phi, gna_h, gk_h, gl_h, gle_h, e_na, e_k, dens_h,
               v_t, stagger):
    """One step of one neuron (see the module docstring): the gates by exponential Euler
    at ``v``, then the membrane exactly with the conductances of the new gates
    (``stagger`` 1, the default scheme) or of the old ones (``stagger`` 0, Brian2's
    ``exponential_euler``) frozen. Conductances come multiplied by dt / C_m (``*_h``, per
    step), the leak's drive as ``gle_h = g_L E_L dt / C_m`` and the input as
    ``dens_h * i_in`` (mV per step)."""
    am, bm, ah, bh, an, bn = _rates(v, kin, v_t)
    m1 = _gate_step(m, am, bm, dt_phi)
    h1 = _gate_step(h, ah, bh, dt_phi)
    n1 = _gate_step(nn, an, bn, dt_phi)
    new = stagger > lit(0.5, v)
    mv = m1 if new else m
    hv = h1 if new else h
    nv = n1 if new else nn
    gna = gna_h * (mv * mv * mv) * hv
    n2 = nv * nv
    gk = gk_h * (n2 * n2)
    g_tot = gna + gk + gl_h
    drive = gna * e_na + gk * e_k + gle_h + dens_h * i_in
    v = v + (drive - g_tot * v) * phi1(g_tot)
    return v, m1, h1, n1


@njit(cache=True, inline="always", error_model="numpy")
def _hh_neuron(kin, v0, m, h, nn, r0, i_in, dv, dt_phi, gna, gk, gl, gle, ena, ek, dens, vt,
               vth, ref, level, stagger):
    """One neuron, one step, with kinetics ``kin`` (a literal at each call): the V jump,
    :func:`_hh_update`, then the spike detector -- an upward crossing of ``vth`` (any
    V >= vth with Brian2's detector, ``level``) outside its dead time ``r0`` (steps) --
    and the divergence check. Branch-free, so the skeleton's loop over neurons vectorises."""
    v, m, h, nn = _hh_update(v0 + dv, m, h, nn, i_in, kin, dt_phi, gna, gk, gl, gle, ena,
                             ek, dens, vt, stagger)
    free = r0 < lit(0.5, r0)
    cross = (v >= vth) & free & ((v0 < vth) | (level > lit(0.5, r0)))
    r = ref if cross else (lit(0.0, r0) if free else r0 - lit(1.0, r0))
    bad = not ((v < lit(DIVERGENCE_LIMIT, v)) & (v > lit(-DIVERGENCE_LIMIT, v)))
    event = lit(-1.0, r0) if bad else (lit(1.0, r0) if cross else lit(0.0, r0))
    return v, m, h, nn, r, event


@njit(cache=True, error_model="numpy")  # called, not inlined (the rare path)
def hh1952_update(v, m, h, nn, r, i_in, dv, dt, dt_phi, gna, gk, gl, gle, ena, ek, dens, vt,
                  vth, ref, level, stagger):
    """The point-model update with the hh1952 rate functions (dt is folded into the rows).
    The fast update takes every ordinary step; this one only the rare hand-overs, so the
    kernel calls it instead of inlining it (a cold compile of one HH population: 30 -> 21 s)."""
    return _hh_neuron(0, v, m, h, nn, r, i_in, dv, dt_phi, gna, gk, gl, gle, ena, ek, dens,
                      vt, vth, ref, level, stagger)


@njit(cache=True, error_model="numpy")  # called, not inlined (the rare path)
def traub_miles_update(v, m, h, nn, r, i_in, dv, dt, dt_phi, gna, gk, gl, gle, ena, ek, dens,
                       vt, vth, ref, level, stagger):
    """The point-model update with the Traub-Miles rate functions."""
    return _hh_neuron(1, v, m, h, nn, r, i_in, dv, dt_phi, gna, gk, gl, gle, ena, ek, dens,
                      vt, vth, ref, level, stagger)


#: the update of each kinetics (index of KINETICS)
_UPDATES = (hh1952_update, traub_miles_update)


# -- the fast update (the point-model ``fast_update``) ------------------------------------
# The exact update above is branch-free already and vectorises (4 neurons per AVX2 vector):
# 8 exponentials, 9 divisions, ~530 instructions per vector, 21 ns per neuron and step at
# rest. The fast update computes the same step with fused multiply-adds (exp_fma: 19
# instead of ~37 operations per exponential) and one division for each group of
# independent quotients (_recip3/4/5): the rates' denominators (with the membrane's in
# the exponential_euler scheme), then the gates' -- ~420 instructions. Its iteration is
# one long dependency chain (exponential -> division -> exponential -> division), so it
# asks for 512-bit vectors (prefer_wide_vectors): 8 neurons per chain. Measured at rest
# (traub_miles, exponential_euler): 21 -> 13.5 ns (fused, 256-bit) -> 8.5 ns (512-bit).
# It agrees with the exact update to rounding, detects spikes itself (fast_events) and
# hands back (``slow``) only a potential outside the range where its products of
# denominators cannot overflow (_fast_u_max), a non-finite or diverging state, or rows of
# the other scheme.


def _fast_u_max(like):
    """|u| (mV; u = V - V_T for traub_miles, V for hh1952) up to which the fast update
    runs: 300 mV in float64, 120 mV in float32, where the products of the rates'
    denominators (up to e^((13 - u)/4) (e^((u - 40)/5))^3 times the membrane's) stay far
    below overflow."""
    return 300.0


@overload(_fast_u_max, inline="always")
def _fast_u_max_overload(like):
    if isinstance(like, types.Float) and like.bitwidth == 32:
        return lambda like: np.float32(120.0)
    return lambda like: 300.0


def _exp_arg_min(like):
    """The lowest argument the fast update passes to exp_fma (-708 in float64, -87 in
    float32), where the exact update's exponentials clamp too."""
    return -708.0


@overload(_exp_arg_min, inline="always")
def _exp_arg_min_overload(like):
    if isinstance(like, types.Float) and like.bitwidth == 32:
        return lambda like: np.float32(-87.0)
    return lambda like: -708.0


@njit(cache=True, inline="always", error_model="numpy")
def _at_least(x, lo):
    """max(x, lo) as a select (a NaN x gives lo)."""
    return x if x > lo else lo


@njit(cache=True, inline="always", error_model="numpy")
def _recip3(a, b, c):
    """1/a, 1/b, 1/c with one division and five multiplications (~3 ulp each)."""
    bc = b * c
    r = lit(1.0, a) / (a * bc)
    rbc = r * a
    return r * bc, rbc * c, rbc * b


@njit(cache=True, inline="always", error_model="numpy")
def _recip4(a, b, c, d):
    """1/a, 1/b, 1/c, 1/d with one division and seven multiplications (~3 ulp each)."""
    ab = a * b
    cd = c * d
    r = lit(1.0, a) / (ab * cd)
    rab = r * cd
    rcd = r * ab
    return rab * b, rab * a, rcd * d, rcd * c


@njit(cache=True, inline="always", error_model="numpy")
def _recip5(a, b, c, d, e):
    """1/a .. 1/e with one division and ten multiplications (~4 ulp each)."""
    ra, rb, rc, rde = _recip4(a, b, c, d * e)
    return ra, rb, rc, rde * e, rde * d


@njit(cache=True, inline="always", error_model="numpy")
def _x_over_expm1_series(x):
    """1 - x/2 + x^2/12 - x^4/720, x / (e^x - 1) for |x| < series_below (fused)."""
    s = fma(-x, fma(x * x, lit(-1.0 / 720.0, x), lit(1.0 / 12.0, x)), lit(0.5, x))
    return fma(-x, s, lit(1.0, x))


@njit(cache=True, inline="always", error_model="numpy")
def _phi1_series(a):
    """1 - a/2 + a^2/6 - a^3/24, (1 - e^-a) / a for a < series_below (fused)."""
    s = fma(-a, fma(a, lit(-1.0 / 24.0, a), lit(1.0 / 6.0, a)), lit(0.5, a))
    return fma(-a, s, lit(1.0, a))


@njit(cache=True, inline="always", error_model="numpy")
def _hh_fast(kin, stag, v0, m, h, nn, r0, i_in, dv, dt_phi, gna_h, gk_h, gl_h, gle_h, e_na,
             e_k, dens_h, v_t, vth, ref, level, stagger):
    """The fast update of one neuron: kinetics ``kin`` (0 hh1952, 1 traub_miles) and scheme
    ``stag`` (1 staggered, 0 exponential_euler), both literals at each call, so that only
    one variant's code is compiled into a kernel. Returns ``(v, m, h, n, r, event,
    slow)``: the spike detector's event (1 spike, 0 none) and ``slow`` = 1 for the neurons
    handed to the exact update."""
    prefer_wide_vectors()  # a latency-bound loop: 8 neurons per chain on AVX-512
    c = v0
    one = lit(1.0, c)
    thr = series_below(c)
    v = v0 + dv
    # -- rates: their quotients' denominators, then one division for all -----------------
    if kin == 0:  # hh1952 (see _rates)
        u = v
        x = (v + lit(40.0, c)) * lit(-0.1, c)
        e10 = exp_fma(x)
        xa = x - lit(1.5, c)
        small1 = abs(x) < thr
        small2 = abs(xa) < thr
        d1 = one if small1 else e10 - one                       # alpha_m
        d2 = one if small2 else fma(e10, lit(0.22313016014842982, c), -one)   # alpha_n
        d3 = fma(e10, lit(1.6487212707001282, c), one)          # beta_h
        w = v + lit(65.0, c)
        bm = lit(4.0, c) * exp_fma(w * lit(-1.0 / 18.0, c))
        ah = lit(0.07, c) * exp_fma(w * lit(-0.05, c))
        bn = lit(0.125, c) * exp_fma(w * lit(-0.0125, c))
    else:  # traub_miles, u = v - V_T
        u = v - v_t
        x = (lit(13.0, c) - u) * lit(0.25, c)
        y = (u - lit(40.0, c)) * lit(0.2, c)
        xa = -y - lit(5.0, c)                                   # (15 - u) / 5
        ex = exp_fma(x)
        e5 = exp_fma(y)
        small1 = abs(x) < thr
        small2 = abs(xa) < thr
        small4 = abs(y) < thr
        d1 = one if small1 else ex - one                        # alpha_m
        # alpha_n: xa / (e^xa - 1) with e^xa = e^-5 / e5, i.e. xa e5 / (e^-5 - e5)
        d2 = one if small2 else lit(0.006737946999085467, c) - e5
        d3 = e5 + one                                           # beta_h
        d4 = one if small4 else e5 - one                        # beta_m
        ah = lit(0.128, c) * exp_fma((lit(17.0, c) - u) * lit(1.0 / 18.0, c))
        bn = lit(0.5, c) * exp_fma((lit(10.0, c) - u) * lit(0.025, c))
    # the membrane with the old gates (exponential_euler): its quotient joins the rates'
    m2 = m * m
    n2 = nn * nn
    gna0 = gna_h * (m2 * m) * h
    gk0 = gk_h * (n2 * n2)
    g0 = gna0 + gk0 + gl_h
    small5 = g0 < thr
    d5 = one if small5 else g0
    if kin == 0:
        if stag:
            i1, i2, i3 = _recip3(d1, d2, d3)
            i5 = one
        else:
            i1, i2, i3, i5 = _recip4(d1, d2, d3, d5)
        am = _x_over_expm1_series(x) if small1 else x * i1
        an = lit(0.1, c) * (_x_over_expm1_series(xa) if small2 else xa * i2)
        bh = i3
    else:
        if stag:
            i1, i2, i3, i4 = _recip4(d1, d2, d3, d4)
            i5 = one
        else:
            i1, i2, i3, i4, i5 = _recip5(d1, d2, d3, d4, d5)
        am = lit(1.28, c) * (_x_over_expm1_series(x) if small1 else x * i1)
        an = lit(0.16, c) * (_x_over_expm1_series(xa) if small2 else xa * e5 * i2)
        bh = lit(4.0, c) * e5 * i3
        bm = lit(1.4, c) * (_x_over_expm1_series(y) if small4 else y * i4)
    # -- gates: exact for frozen rates, one division for the three steady states ---------
    sm = am + bm
    sh = ah + bh
    sn = an + bn
    jm, jh, jn = _recip3(sm, sh, sn)
    lo = _exp_arg_min(c)
    em = exp_fma(_at_least(-dt_phi * sm, lo))
    eh = exp_fma(_at_least(-dt_phi * sh, lo))
    en = exp_fma(_at_least(-dt_phi * sn, lo))
    m_inf = am * jm
    h_inf = ah * jh
    n_inf = an * jn
    m1 = fma(m - m_inf, em, m_inf)
    h1 = fma(h - h_inf, eh, h_inf)
    n1 = fma(nn - n_inf, en, n_inf)
    # -- membrane: exact for the frozen conductances -------------------------------------
    if stag:
        m2 = m1 * m1
        n2 = n1 * n1
        gna = gna_h * (m2 * m1) * h1
        gk = gk_h * (n2 * n2)
        g = gna + gk + gl_h
        small5 = g < thr
        i5 = one / (one if small5 else g)
    else:
        gna = gna0
        gk = gk0
        g = g0
    drive = fma(gna, e_na, fma(gk, e_k, fma(dens_h, i_in, gle_h)))
    ea = exp_fma(_at_least(-g, lo))
    p1 = _phi1_series(g) if small5 else (one - ea) * i5
    v1 = fma(fma(-g, v, drive), p1, v)
    # -- spike detector (as _hh_neuron) and the neurons handed to the exact update -------
    free = r0 < lit(0.5, r0)
    cross = (v1 >= vth) & free & ((v0 < vth) | (level > lit(0.5, r0)))
    r = ref if cross else (lit(0.0, r0) if free else r0 - lit(1.0, r0))
    ok = (v1 < lit(DIVERGENCE_LIMIT, c)) & (v1 > lit(-DIVERGENCE_LIMIT, c))
    umax = _fast_u_max(c)
    ok = ok & (u < umax) & (u > -umax) & ((stagger > lit(0.5, c)) == (stag == 1))
    event = lit(1.0, r0) if cross else lit(0.0, r0)
    slow = lit(0.0, r0) if ok else lit(1.0, r0)
    return v1, m1, h1, n1, r, event, slow


@njit(cache=True, inline="always", error_model="numpy")
def hh1952_fast_update(v, m, h, nn, r, i_in, dv, dt, dt_phi, gna, gk, gl, gle, ena, ek, dens,
                       vt, vth, ref, level, stagger):
    """The fast update of :func:`hh1952_update`, staggered scheme (``slow`` last)."""
    return _hh_fast(0, 1, v, m, h, nn, r, i_in, dv, dt_phi, gna, gk, gl, gle, ena, ek, dens,
                    vt, vth, ref, level, stagger)


@njit(cache=True, inline="always", error_model="numpy")
def hh1952_ee_fast_update(v, m, h, nn, r, i_in, dv, dt, dt_phi, gna, gk, gl, gle, ena, ek,
                          dens, vt, vth, ref, level, stagger):
    """The fast update of :func:`hh1952_update`, exponential_euler scheme."""
    return _hh_fast(0, 0, v, m, h, nn, r, i_in, dv, dt_phi, gna, gk, gl, gle, ena, ek, dens,
                    vt, vth, ref, level, stagger)


@njit(cache=True, inline="always", error_model="numpy")
def traub_miles_fast_update(v, m, h, nn, r, i_in, dv, dt, dt_phi, gna, gk, gl, gle, ena, ek,
                            dens, vt, vth, ref, level, stagger):
    """The fast update of :func:`traub_miles_update`, staggered scheme."""
    return _hh_fast(1, 1, v, m, h, nn, r, i_in, dv, dt_phi, gna, gk, gl, gle, ena, ek, dens,
                    vt, vth, ref, level, stagger)


@njit(cache=True, inline="always", error_model="numpy")
def traub_miles_ee_fast_update(v, m, h, nn, r, i_in, dv, dt, dt_phi, gna, gk, gl, gle, ena,
                               ek, dens, vt, vth, ref, level, stagger):
    """The fast update of :func:`traub_miles_update`, exponential_euler scheme."""
    return _hh_fast(1, 0, v, m, h, nn, r, i_in, dv, dt_phi, gna, gk, gl, gle, ena, ek, dens,
                    vt, vth, ref, level, stagger)


#: the fast update of each (kinetics, scheme) (indices of KINETICS and SCHEMES)
_FAST_UPDATES = {(0, 0): hh1952_fast_update, (0, 1): hh1952_ee_fast_update,
                 (1, 0): traub_miles_fast_update, (1, 1): traub_miles_ee_fast_update}


@njit(cache=True, inline="always", error_model="numpy")
def _hh_derivatives(kin, v, m, h, nn, i_in, c_m, gna, gk, gl, ena, ek, el, dens, phi, vt):
    am, bm, ah, bh, an, bn = _rates(v, kin, vt)
    n2 = nn * nn
    i_ion = gna * m * m * m * h * (v - ena) + gk * n2 * n2 * (v - ek) + gl * (v - el)
    return ((dens * i_in - i_ion) / c_m, phi * (am * (1.0 - m) - bm * m),
            phi * (ah * (1.0 - h) - bh * h), phi * (an * (1.0 - nn) - bn * nn))


@njit(cache=True, error_model="numpy")
def hh1952_derivatives(v, m, h, nn, i_in, c_m, gna, gk, gl, ena, ek, el, dens, phi, vt, vth,
                       t_ref):
    """(dV/dt, dm/dt, dh/dt, dn/dt) per ms with the hh1952 rates (``method="adaptive"``)."""
    return _hh_derivatives(0, v, m, h, nn, i_in, c_m, gna, gk, gl, ena, ek, el, dens, phi, vt)


@njit(cache=True, error_model="numpy")
def traub_miles_derivatives(v, m, h, nn, i_in, c_m, gna, gk, gl, ena, ek, el, dens, phi, vt,
                            vth, t_ref):
    """(dV/dt, dm/dt, dh/dt, dn/dt) per ms with the Traub-Miles rates."""
    return _hh_derivatives(1, v, m, h, nn, i_in, c_m, gna, gk, gl, ena, ek, el, dens, phi, vt)


#: the rows of the continuous forms (:data:`HH_FORMS`)
_FORM_ROWS = ("C_m", "g_Na", "g_K", "g_L", "E_Na", "E_K", "E_L", "input_density", "phi",
              "V_T", "V_spike_threshold", "t_refractory")
#: the equations of each kinetics for ``method="adaptive"``: a spike is an upward crossing
#: of ``V_spike_threshold`` at least ``t_refractory`` after the previous one (no reset)
HH_FORMS = tuple(
    ContinuousForm(states=("V", "m", "h", "n"), rows=_FORM_ROWS, derivatives=f,
                   threshold="V_spike_threshold", refractory="detect",
                   refractory_row="t_refractory", refractory_state="refractory")
    for f in (hh1952_derivatives, traub_miles_derivatives))


#: rows of the model matrix (:meth:`HodgkinHuxleyNeuron._model_matrix`, independent of dt)
MODEL_ROWS = ("C_m", "g_Na", "g_K", "g_L", "E_Na", "E_K", "E_L", "input_density", "phi",
              "kinetics", "V_T", "V_spike_threshold")
(M_CM, M_GNA, M_GK, M_GL, M_ENA, M_EK, M_EL, M_DENS, M_PHI, M_KIN, M_VT,
 M_VTH) = range(len(MODEL_ROWS))


@njit(cache=True, error_model="numpy")
def _steady_ionic_current(v, p, i):
    """Ionic current density (uA/cm2, outward positive) of neuron i with gates at x_inf(v)."""
    am, bm, ah, bh, an, bn = _rates(v, p[M_KIN, i], p[M_VT, i])
    m = am / (am + bm)
    h = ah / (ah + bh)
    nn = an / (an + bn)
    return (p[M_GNA, i] * m * m * m * h * (v - p[M_ENA, i])
            + p[M_GK, i] * nn ** 4 * (v - p[M_EK, i]) + p[M_GL, i] * (v - p[M_EL, i]))


@njit(cache=True, error_model="numpy")
def _resting_potentials(p, v_lo, v_hi, dv):
    """Lowest potential where the steady-state I-V curve crosses zero upwards (a stable
    rest of the voltage equation), per neuron; NaN where there is none in [v_lo, v_hi]."""
    n = p.shape[1]
    out = np.full(n, np.nan)
    n_grid = int((v_hi - v_lo) / dv) + 1
    for i in range(n):
        a = v_lo
        fa = _steady_ionic_current(a, p, i)
        for j in range(1, n_grid):
            b = v_lo + j * dv
            fb = _steady_ionic_current(b, p, i)
            if fa < 0.0 and fb >= 0.0:
                for _ in range(200):  # bisection to machine precision
                    c = 0.5 * (a + b)
                    if c <= a or c >= b:
                        break
                    if _steady_ionic_current(c, p, i) < 0.0:
                        a = c
                    else:
                        b = c
                out[i] = 0.5 * (a + b)
                break
            a, fa = b, fb
    return out


@njit(cache=True, error_model="numpy")
def _gate_tables(v, p, i):
    """x_inf and tau_x (ms) of m, h, n at potentials v for neuron i: array (6, len(v))."""
    out = np.empty((6, v.shape[0]))
    for j in range(v.shape[0]):
        am, bm, ah, bh, an, bn = _rates(v[j], p[M_KIN, i], p[M_VT, i])
        ph = p[M_PHI, i]
        out[0, j] = am / (am + bm)
        out[1, j] = ah / (ah + bh)
        out[2, j] = an / (an + bn)
        out[3, j] = 1.0 / (ph * (am + bm))
        out[4, j] = 1.0 / (ph * (ah + bh))
        out[5, j] = 1.0 / (ph * (an + bn))
    return out


@njit(cache=True, error_model="numpy")
def _steady_state(v0, p):
    """State (4, n): V = v0 and every gate at its steady state x_inf(v0)."""
    n = v0.shape[0]
    s = np.zeros((5, n))  # refractory (row 4) 0
    for i in range(n):
        am, bm, ah, bh, an, bn = _rates(v0[i], p[M_KIN, i], p[M_VT, i])
        s[0, i] = v0[i]
        s[1, i] = am / (am + bm)
        s[2, i] = ah / (ah + bh)
        s[3, i] = an / (an + bn)
    return s


class HodgkinHuxleyNeuron(PointModel):
    r"""A population of ``n`` Hodgkin-Huxley neurons (struct-of-arrays).

    State variables: ``V`` (mV) and the gates ``m``, ``h``, ``n`` (dimensionless). The
    input current is in nA (the package's unit), converted to µA/cm² with ``area_um2``;
    pass ``current_density=`` (µA/cm²) to :meth:`simulate` to work in densities. See the
    module docstring for the equations, the kinetics and the integration scheme.

    Parameters
    ----------
    params : HodgkinHuxleyParameters, optional
        Defaults to the squid giant axon at 6.3 °C.
    n : int
        Number of neurons (default 1).
    label : str, optional
        Population label.

    Examples
    --------
    >>> pop = HodgkinHuxleyNeuron.create_mammalian(n=3)
    >>> pop.V.round(2)                                # rest (mV)
    array([-64.76, -64.76, -64.76])
    >>> ds = pop.simulate(200.0, current_density=[0.0, 2.0, 5.0], dt=0.05, seed=0)
    >>> np.bincount(ds.spike_neuron.values, minlength=3).tolist()
    [0, 13, 27]

    One drive, two spellings: a density in µA/cm², or the current in nA on ``area_um2``:

    >>> squid = HodgkinHuxleyNeuron.create_squid_axon()
    >>> a = squid.simulate(50.0, current_density=10.0, seed=1)
    >>> squid.reset_state()
    >>> b = squid.simulate(50.0, squid.density_to_current(10.0), seed=1)
    >>> a.identical(b)
    True
    """

    parameters_class = HodgkinHuxleyParameters
    state_variables = {
        "V": ("mV", "membrane potential"),
        "m": ("1", "sodium activation gate"),
        "h": ("1", "sodium inactivation gate"),
        "n": ("1", "potassium activation gate"),
        "refractory": ("1", "steps left in which no spike is detected (t_refractory)"),
    }
    default_label = "hodgkin_huxley"
    #: the fast update (one per kinetics and scheme: fast_update_function) detects spikes
    fast_events = True

    # -- factories and presets -----------------------------------------------------------
    @classmethod
    def create_squid_axon(cls, n: int = 1, **overrides) -> HodgkinHuxleyNeuron:
        """The squid giant axon of Hodgkin & Huxley (1952), modern convention.

        C_m 1 µF/cm², g_Na 120, g_K 36, g_L 0.3 mS/cm², E_Na 50, E_K -77,
        E_L -54.387 mV (rest ≈ -65 mV), 6.3 °C (the rates' reference temperature, so
        φ = 1), Q10 3, spikes counted at 0 mV, area 20 000 µm² (10 µA/cm² = 2 nA).
        Repetitive firing needs ≈ 6.3 µA/cm² or more.

        >>> HodgkinHuxleyNeuron.create_squid_axon(temperature_C=16.3).params.rate_factor()
        3.0
        """
        p = HodgkinHuxleyParameters(
            C_m=1.0, g_Na=120.0, g_K=36.0, g_L=0.3, E_Na=50.0, E_K=-77.0, E_L=-54.387,
            area_um2=20000.0, temperature_C=6.3, Q10=3.0, kinetics="hh1952", T_ref_C=6.3,
            V_spike_threshold=0.0).replace(**overrides)
        return cls(p, n=n, label="squid_axon")

    @classmethod
    def create_mammalian(cls, n: int = 1, **overrides) -> HodgkinHuxleyNeuron:
        """A cortical neuron with Traub-Miles kinetics at 37 °C.

        Kinetics and densities of the Hodgkin-Huxley neuron of Brette et al. (2007,
        *J Comput Neurosci* 23:349, benchmark 3 "COBAHH"; after Traub & Miles 1991 and
        Destexhe & Paré 1999) and Pospischil et al. (2008, *Biol Cybern* 99:427, without
        their M-current): C_m 1 µF/cm², g_Na 100, g_K 30, g_L 0.05 mS/cm², E_Na 50,
        E_K -90, E_L -65 mV, V_T -63 mV, area 20 000 µm², spikes counted at -20 mV.

        Temperature: 37 °C with Q10 = 3 relative to T_ref = 36 °C, the reference of
        Destexhe's ``hh2.mod`` implementation of these rates (``tadj``), so every gate
        rate is multiplied by φ = 3^0.1 ≈ 1.116. ``temperature_C=36`` gives φ = 1, the
        equations exactly as in Brian2's COBAHH example.

        E_L = -65 mV follows Brian2's single-neuron Hodgkin-Huxley f-I example; the
        COBAHH network benchmark of Brette et al. (2007) uses E_L = -60 mV
        (``create_mammalian(E_L=-60.0)``).

        >>> round(HodgkinHuxleyNeuron.create_mammalian().params.rate_factor(), 4)
        1.1161
        """
        p = HodgkinHuxleyParameters(
            C_m=1.0, g_Na=100.0, g_K=30.0, g_L=0.05, E_Na=50.0, E_K=-90.0, E_L=-65.0,
            V_T=-63.0, area_um2=20000.0, temperature_C=37.0, Q10=3.0,
            kinetics="traub_miles", T_ref_C=36.0, V_spike_threshold=-20.0,
        ).replace(**overrides)
        return cls(p, n=n, label="mammalian")

    @classmethod
    def presets(cls) -> dict[str, HodgkinHuxleyParameters]:
        """``squid_axon`` and ``mammalian`` (see the two factories)."""
        return {"squid_axon": cls.create_squid_axon().params,
                "mammalian": cls.create_mammalian().params}

    #: current density (µA/cm²) of :meth:`demo_current` for each preset
    DEMO_DENSITY = {"squid_axon": 10.0, "mammalian": 2.0}

    @classmethod
    def demo_current(cls, preset: str | None = None) -> float:
        """A tonic-firing drive in nA: 10 µA/cm² for ``squid_axon`` (≈ 68 Hz; the default)
        and 2 µA/cm² for ``mammalian`` (≈ 67 Hz), on the presets' 20 000 µm².

        >>> [HodgkinHuxleyNeuron.demo_current(name) for name in ("squid_axon", "mammalian")]
        [2.0, 0.4]
        """
        name = getattr(preset, "name", preset) or "squid_axon"
        if name not in cls.DEMO_DENSITY:
            raise ValueError(f"unknown {cls.__name__} preset {preset!r}; "
                             f"choose from {list(cls.DEMO_DENSITY)}")
        return float(density_to_current(cls.DEMO_DENSITY[name],
                                        area_um2=cls.presets()[name].area_um2))

    # -- density <-> current ----------------------------------------------------------
    def _area(self):
        area = np.asarray(self.params.area_um2, float)
        return float(area) if area.ndim == 0 else area

    def density_to_current(self, density_uA_per_cm2):
        """Current (nA) giving the density ``density_uA_per_cm2`` (µA/cm², a number or one
        value per neuron) on each neuron's ``area_um2``; via
        :func:`neurosim_nb.units.density_to_current`. Use it to build stimuli in nA."""
        return density_to_current(density_uA_per_cm2, area_um2=self._area())

    def current_to_density(self, current_nA):
        """Current density (µA/cm²) of the current ``current_nA`` (nA) on ``area_um2``."""
        return current_to_density(current_nA, area_um2=self._area())

    def simulate(self, duration: float, input_current=None, *, current_density=None,
                 **kwargs):
        """Simulate ``duration`` ms and return an ``xarray.Dataset`` (see
        :meth:`NeuronPopulation.simulate`).

        Parameters
        ----------
        duration : float
            Simulated time (ms).
        input_current : float, array, Stimulus or list of Stimulus, optional
            Input current in nA.
        current_density : float or array_like, optional
            A constant current density (µA/cm²), one value or one per neuron, converted to
            nA with ``area_um2``. Given alone it is exactly the same run as passing
            ``self.density_to_current(current_density)`` as ``input_current``; with an
            ``input_current`` too, the two are added. For time-varying drives build the
            stimulus in nA with :meth:`density_to_current`.
        **kwargs
            ``dt`` (ms, default 0.1), ``record`` (e.g. ``("V", "m", "h", "n")``),
            ``record_neurons``, ``sample_every``, ``seed``, ``stimuli``, ...

        Examples
        --------
        >>> pop = HodgkinHuxleyNeuron.create_squid_axon(n=2)
        >>> ds = pop.simulate(100.0, current_density=[0.0, 10.0], record=("V", "n"))
        >>> sorted(ds.data_vars), ds.n.attrs["units"]
        (['V', 'n', 'spike_neuron', 'spike_time'], '1')
        >>> set(ds.spike_neuron.values.tolist())
        {1}
        """
        if current_density is not None:
            from neurosim_nb.stimuli import ConstantCurrent, Stimulus

            items = current_density if isinstance(current_density, (list, tuple)) else [
                current_density]
            if any(isinstance(s, Stimulus) for s in items):
                raise TypeError("current_density takes a number or one value per neuron "
                                "(uA/cm2); build time-varying stimuli in nA with "
                                "density_to_current() and pass them as input_current")
            dens = np.asarray(current_density, dtype=float)
            if dens.ndim > 1 or (dens.ndim == 1 and dens.shape[0] != self.n):
                raise ValueError(f"current_density must be a number or one value per neuron "
                                 f"({self.n}), got shape {dens.shape}")
            if not np.all(np.isfinite(dens)):
                raise ValueError(f"current_density must be finite, got {current_density!r}")
            current = self.density_to_current(dens)
            if input_current is None:
                input_current = current
            else:
                kwargs["stimuli"] = [*(kwargs.get("stimuli") or []),
                                     ConstantCurrent(amplitude=current)]
        return super().simulate(duration, input_current, **kwargs)

    # -- kernel plumbing --------------------------------------------------------------
    def _model_matrix(self) -> np.ndarray:
        """The per-neuron parameter rows of :data:`MODEL_ROWS` (independent of dt)."""
        pp, n = self.params, self.n
        per = pp.per_neuron
        phi = np.broadcast_to(np.asarray(pp.rate_factor(), float), (n,))
        kin = np.full(n, float(KINETICS.index(pp.kinetics)))
        return np.ascontiguousarray(np.stack([
            per("C_m", n), per("g_Na", n), per("g_K", n), per("g_L", n),
            per("E_Na", n), per("E_K", n), per("E_L", n),
            np.broadcast_to(current_to_density(1.0, area_um2=per("area_um2", n)), (n,)),
            phi, kin, per("V_T", n), per("V_spike_threshold", n),
        ]), dtype=np.float64)

    kernel_rows = ("dt_phi", "g_Na_h", "g_K_h", "g_L_h", "g_L_E_L_h", "E_Na", "E_K",
                   "input_h", "V_T", "V_spike_threshold", "ref_steps", "level", "stagger")
    ei_presets = ("mammalian", "mammalian")

    def continuous_form(self) -> ContinuousForm:
        """The equations of the population's kinetics (:data:`HH_FORMS`)."""
        return HH_FORMS[KINETICS.index(self.params.kinetics)]

    def continuous_values(self) -> dict[str, np.ndarray]:
        """The form's rows: the model matrix (dt-independent) and ``t_refractory``."""
        mm = self._model_matrix()
        values = {name: mm[MODEL_ROWS.index(name)] for name in _FORM_ROWS[:-1]}
        values["t_refractory"] = self.params.per_neuron("t_refractory", self.n)
        return values

    def update_function(self):
        """The update of the population's kinetics (one per kinetics, each compiled with
        its rate functions inlined)."""
        return _UPDATES[KINETICS.index(self.params.kinetics)]

    def fast_update_function(self):
        """The fast update of the population's kinetics and scheme (see ``_hh_fast``)."""
        return _FAST_UPDATES[KINETICS.index(self.params.kinetics),
                             SCHEMES.index(self.params.scheme)]

    def kernel_values(self, dt: float) -> dict[str, np.ndarray]:
        """The update's rows with dt folded in once per run: dt * phi, conductances times
        h = dt / C_m (``*_h``), g_L E_L h and the nA -> mV-per-step factor ``input_h``; the
        dead time in whole steps, whether the detector is Brian2's level detector and
        whether the voltage step uses the new gates (``stagger``, from ``scheme``)."""
        mm = self._model_matrix()
        c_m, g_na, g_k, g_l, e_na, e_k, e_l, dens, phi, _kin, v_t, v_th = mm
        h = dt / c_m
        t_ref = self.params.per_neuron("t_refractory", self.n)
        # a spike in step s blocks steps s+1 .. s+ref: the next can come round(t_ref/dt)
        # steps later, as in Brian2 (timestep(t - lastspike) >= timestep(refractory))
        ref = np.maximum(np.round(t_ref / dt) - 1.0, 0.0)
        return {"dt_phi": dt * phi, "g_Na_h": g_na * h, "g_K_h": g_k * h, "g_L_h": g_l * h,
                "g_L_E_L_h": g_l * e_l * h, "E_Na": e_na, "E_K": e_k, "input_h": dens * h,
                "V_T": v_t, "V_spike_threshold": v_th, "ref_steps": ref,
                "level": (t_ref > 0.0).astype(float),
                "stagger": np.full(self.n, float(self.params.scheme == "staggered"))}

    def resting_potential(self) -> np.ndarray:
        r"""The resting potential (mV) of each neuron without input.

        The lowest potential where the steady-state current
        :math:`I_{ss}(V) = \sum_j \bar g_j x_\infty(V)^{p_j} (V - E_j)` crosses zero from
        below (located on a 0.1 mV grid from -150 to +60 mV, refined by bisection to
        machine precision). Independent of temperature, since :math:`x_\infty` is.

        Raises
        ------
        ValueError
            When no such potential exists (give ``V_init`` explicitly).

        Examples
        --------
        >>> round(float(HodgkinHuxleyNeuron.create_squid_axon().resting_potential()[0]), 3)
        -64.996
        """
        p = self._model_matrix()
        # neurons with identical parameters share one root search
        uniq, inverse = np.unique(p, axis=1, return_inverse=True)
        rest = _resting_potentials(np.ascontiguousarray(uniq), -150.0, 60.0, 0.1)
        if np.any(np.isnan(rest)):
            raise ValueError(f"{type(self).__name__}: no resting potential between -150 and "
                             f"60 mV for these parameters; set V_init explicitly")
        return rest[np.ravel(inverse)]

    def gate_kinetics(self, V_mV, neuron: int = 0) -> dict[str, np.ndarray]:
        """Steady states ``m_inf``, ``h_inf``, ``n_inf`` and time constants ``tau_m``,
        ``tau_h``, ``tau_n`` (ms, at the population's temperature) at potentials ``V_mV``.

        >>> kin = HodgkinHuxleyNeuron.create_squid_axon().gate_kinetics([-65.0, -55.0])
        >>> kin["n_inf"].round(4)
        array([0.3177, 0.4755])
        """
        v = np.atleast_1d(np.asarray(V_mV, dtype=float))
        if v.ndim != 1 or not np.all(np.isfinite(v)):
            raise ValueError("V_mV must be finite potentials (mV), a number or a 1-D array")
        if not 0 <= neuron < self.n:
            raise ValueError(f"neuron must be in 0..{self.n - 1}, got {neuron}")
        t = _gate_tables(np.ascontiguousarray(v), self._model_matrix(), int(neuron))
        names = ("m_inf", "h_inf", "n_inf", "tau_m", "tau_h", "tau_n")
        return {k: t[j] for j, k in enumerate(names)}

    def _initial_state(self) -> np.ndarray:
        n = self.n
        if self.params.V_init is None:
            v0 = self.resting_potential()
        else:
            v0 = self.params.per_neuron("V_init", n)
        return _steady_state(np.ascontiguousarray(v0, dtype=np.float64), self._model_matrix())
