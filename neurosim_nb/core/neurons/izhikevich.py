r"""Izhikevich simple-model neurons (Izhikevich 2003, *IEEE Trans. Neural Netw.* 14:1569).

.. math::

    \frac{dv}{dt} = 0.04\,v^2 + 5\,v + 140 - u + I(t), \qquad
    \frac{du}{dt} = a\,(b\,v - u),

    \text{if } v \ge v_{peak}: \quad v \leftarrow c, \quad u \leftarrow u + d .

:math:`v` is the membrane potential (mV), :math:`u` the recovery variable and :math:`t` in
ms. The constants 0.04, 5 and 140 are part of the model. **Input units**: :math:`I` (and
:math:`u`, :math:`b\,v`, :math:`d`) enter :math:`dv/dt` directly, so they are in mV/ms, the
units of Izhikevich 2003 -- *not* nA. Published figures therefore reproduce with the
published current values (``I = 10`` for most panels of Fig. 2); ``current_units`` is
``"mV/ms"``.

**Synaptic input** arrives from the receptors of a :class:`~neurosim_nb.Network` in nA.
It is converted once, by the parameter ``C`` (nF): a synaptic current
:math:`I_{syn}` adds :math:`I_{syn}/C` to :math:`dv/dt` (nA / nF = mV/ms). The default
``C = 1`` nF makes 1 nA of synaptic current act like 1 mV/ms of injected drive, the
convention of network models built on Izhikevich's code, where synaptic input is added to
``I`` directly. The conversion is applied in the step skeleton (``input_scale``), nowhere
else.

Presets (Izhikevich 2003, Fig. 2; :class:`IzhikevichType`):

====  =======================  =====  =====  =====  =====
name  cortical class           a      b      c      d
====  =======================  =====  =====  =====  =====
RS    regular spiking          0.02   0.2    -65    8
IB    intrinsically bursting   0.02   0.2    -55    4
CH    chattering               0.02   0.2    -50    2
FS    fast spiking             0.1    0.2    -65    2
LTS   low-threshold spiking    0.02   0.25   -65    2
TC    thalamo-cortical         0.02   0.25   -65    0.05
RZ    resonator                0.1    0.26   -65    2
====  =======================  =====  =====  =====  =====

(``v_peak`` = 30 mV for all.) **Initial state** follows Izhikevich's published code:
:math:`v_0` = ``v_init`` (default -65 mV) and :math:`u_0 = b\,v_0`. The RZ preset starts at
its resting potential instead (``v_init`` = -62.5 mV, see :func:`resting_potential`): its
rest is a weakly damped focus only 6.5 mV below the threshold saddle (-56 mV), and the
offset of the -65 mV start rings up into one spurious spike at t = 20 ms with no input.

**Integration scheme** (exact in :math:`v` over a step with :math:`u, I` frozen). With
:math:`w = v + 62.5` the voltage equation is the Riccati equation
:math:`\dot w = 0.04\,w^2 + \kappa`, :math:`\kappa = I - u - 16.25`, which has a closed-form
solution (tan, tanh or :math:`w_0/(1 - 0.04\,w_0 t)` for :math:`\kappa >, <, = 0`) and a
closed-form time of crossing :math:`v_{peak}`. Each step of ``dt``

1. adds the kicks (mV) to :math:`v`;
2. advances :math:`v` exactly with :math:`u, I` held, and :math:`u` exactly for the linear
   :math:`u` equation driven by the step's mean :math:`\bar v` (also closed form):
   :math:`u \leftarrow b\bar v + (u - b\bar v)\,e^{-a\,dt}`;
3. if :math:`v` reaches :math:`v_{peak}` inside the step, at time :math:`t_c`: :math:`u` is
   advanced to :math:`t_c`, the neuron resets (:math:`v \leftarrow c`,
   :math:`u \leftarrow u + d`) and the rest of the step, :math:`dt - t_c`, is integrated from
   the reset; the spike is stamped at the **end** of the step, like every model's. (A neuron
   crossing again in the same remainder -- only under absurd drive -- is held at
   :math:`v_{peak}` and spikes at the start of the next step.)

The quadratic blow-up is thus never stepped through (no overflow, no dt-dependent peak
overshoot), and the only error is the splitting of the slow :math:`u` (rates
:math:`a \le 0.1`/ms) from the fast :math:`v`, first order in dt. At dt = 0.1 ms the first
eight spikes of every preset agree with a tight ``scipy`` reference to within 0.2 ms, where
forward Euler at the same dt drifts by 2-3 ms; Izhikevich's 1-ms network code (two 0.5-ms
half-steps of v) is off by tens of ms after a few spikes. A step without a spike runs
branch-free (:func:`izhikevich_fast_update`: a Pade approximant and a short series instead
of tan, tanh and log, one division, fused multiply-adds; ~1.8 ns per neuron and step against
~1 ns for LIF, ``benchmarks/kernel_cost.py``); the closed forms above take the rare steps
with a spike.

``scheme="euler"`` is forward Euler instead (``v`` and ``u`` from their old values, then
the reset where ``v >= v_peak``): the numerics of Brian2's ``method="euler"`` (NEST's
``izhikevich`` steps the same way but adds a spike's jump after the step, not before the
next one), for reproducing their results or a published Euler model -- at LIF cost, with
the dt-dependence above.

**Recorded V**: the sample at the end of a step in which a neuron spiked shows
:math:`v_{peak}` (as Izhikevich's figures draw spikes), so traces show each spike reaching
``v_peak``; the state itself holds the post-reset value (samples of other variables, such as
``u``, are the post-reset state). With ``sample_every > 1`` a spike in a step that is not
sampled does not appear in the trace (it is in ``spike_time``).

References
----------
E. M. Izhikevich, "Simple model of spiking neurons", IEEE Trans. Neural Netw. 14(6),
1569-1572 (2003). E. M. Izhikevich, *Dynamical Systems in Neuroscience*, MIT Press (2007),
ch. 8.

Examples
--------
>>> rs_neuron = IzhikevichNeuron.from_preset(IzhikevichType.RS)
>>> rs_neuron.V, rs_neuron.u                            # u starts at b * v
(-65.0, -13.0)
>>> ds = rs_neuron.simulate(500.0, 10.0, seed=0)      # I = 10 (mV/ms), as in Fig. 2
>>> isi = np.diff(ds.spike_time.values)
>>> bool(isi[-1] > 1.5 * isi[0])                        # spike-frequency adaptation
True
>>> float(ds.V.max())                                   # spikes are drawn up to v_peak
30.0
"""

from __future__ import annotations

import math
from enum import Enum

import numpy as np

from neurosim_nb._jit import njit
from neurosim_nb.core.neurons.base import DIVERGENCE_LIMIT
from neurosim_nb.core.neurons.continuous import ContinuousForm
from neurosim_nb.core.neurons.planar import IzhikevichPlanar
from neurosim_nb.core.neurons.point_model import PointModel
from neurosim_nb.numerics.fastmath import fma, prefer_wide_vectors
from neurosim_nb.params import ParameterSet, param, parameters

__all__ = ["IzhikevichParameters", "IzhikevichType", "IzhikevichNeuron", "resting_potential"]

#: quadratic coefficient of dv/dt (1/(mV ms)); 5 and 140 are the linear and constant terms
QUAD = 0.04
#: v + W_SHIFT = w completes the square: 0.04 v^2 + 5 v + 140 = 0.04 w^2 - KAPPA_SHIFT
W_SHIFT = 5.0 / (2.0 * QUAD)                     # 62.5 mV
KAPPA_SHIFT = QUAD * W_SHIFT * W_SHIFT - 140.0   # 16.25 mV/ms
#: the fixed-step integration schemes (see the module docstring)
SCHEMES = ("exact", "euler")
#: |kappa| below this (mV/ms) uses the kappa = 0 solution
_KAPPA_EPS = 1e-9
_LN2 = math.log(2.0)


@parameters
class IzhikevichParameters(ParameterSet):
    """Parameters of the Izhikevich (2003) simple model (defaults: regular spiking).

    ``u``, ``b * v``, ``d`` and the input are in mV/ms (they enter dv/dt directly).
    Bounds admit every parameter set of Izhikevich (2003, 2004), e.g. the negative
    ``a, b`` of inhibition-induced bursting.
    """

    a: float = param(0.02, "1/ms", (-1.0, 1.0), "recovery rate of u")
    b: float = param(0.2, "1/ms", (-1.0, 1.0), "sensitivity of u to v")
    c: float = param(-65.0, "mV", (-120.0, 30.0), "after-spike reset of v")
    d: float = param(8.0, "mV/ms", (-50.0, 50.0), "after-spike increment of u")
    v_peak: float = param(30.0, "mV", (0.0, 100.0), "spike cut-off (v is reset at it)")
    v_init: float = param(-65.0, "mV", (-120.0, 30.0),
                          "initial v (u starts at b * v_init), -65 mV as in Izhikevich's code")
    C: float = param(1.0, "nF", (1e-4, 1e4),
                     "capacitance that turns receptor current (nA) into drive (mV/ms): a "
                     "synaptic current I_syn adds I_syn / C to dv/dt")
    scheme: str = param("exact", "", None,
                        "fixed-step integration: exact in v over each step (closed form), or "
                        "euler (forward Euler, the numerics of Brian2's method='euler' and of "
                        "NEST's izhikevich)", choices=SCHEMES)

    def validate(self) -> None:
        peak = np.asarray(self.v_peak, float)
        for name in ("c", "v_init"):
            if np.any(np.asarray(getattr(self, name), float) >= peak):
                raise ValueError(f"IzhikevichParameters.{name} ({getattr(self, name)} mV) must "
                                 f"be below v_peak ({self.v_peak} mV)")


class IzhikevichType(Enum):
    """The cortical and thalamic cell classes of Izhikevich (2003), Fig. 2.

    ``IzhikevichNeuron.from_preset(IzhikevichType.CH)`` (or ``"CH"``) builds one.

    >>> IzhikevichType.CH.value
    'chattering'
    >>> IzhikevichType.CH.parameters.c
    -50.0
    """

    RS = "regular spiking"
    IB = "intrinsically bursting"
    CH = "chattering"
    FS = "fast spiking"
    LTS = "low-threshold spiking"
    TC = "thalamo-cortical"
    RZ = "resonator"

    @property
    def parameters(self) -> IzhikevichParameters:
        """The published (a, b, c, d) of this class, v_peak = 30 mV."""
        a, b, c, d = _PUBLISHED[self.name]
        # RZ starts at its resting potential, resting_potential(0.26) = -62.5 mV (see module doc)
        extra = {"v_init": -62.5} if self.name == "RZ" else {}
        return IzhikevichParameters(a=a, b=b, c=c, d=d, **extra)


#: Izhikevich (2003) Fig. 2: (a, b, c, d)
_PUBLISHED = {
    "RS": (0.02, 0.2, -65.0, 8.0),
    "IB": (0.02, 0.2, -55.0, 4.0),
    "CH": (0.02, 0.2, -50.0, 2.0),
    "FS": (0.1, 0.2, -65.0, 2.0),
    "LTS": (0.02, 0.25, -65.0, 2.0),
    "TC": (0.02, 0.25, -65.0, 0.05),
    "RZ": (0.1, 0.26, -65.0, 2.0),
}


def resting_potential(b, current=0.0):
    """Resting potential (mV): the lower equilibrium of the model at constant input.

    The nullclines ``u = 0.04 v^2 + 5 v + 140 + I`` and ``u = b v`` cross where
    ``0.04 v^2 + (5 - b) v + 140 + I = 0``; this returns the lower root (NaN where the input
    is above the saddle-node value and no equilibrium exists). Whether it is stable also
    depends on ``a``; it is for all the presets at ``I = 0``.

    Parameters
    ----------
    b : float or array_like
        Sensitivity of u to v (1/ms).
    current : float or array_like
        Constant input (mV/ms, Izhikevich 2003 units).

    Returns
    -------
    float or numpy.ndarray
        Resting potential (mV).

    Examples
    --------
    >>> round(resting_potential(0.2), 9), round(resting_potential(0.26), 9)
    (-70.0, -62.5)
    >>> resting_potential(0.2, current=5.0)      # above rheobase: no resting state
    nan
    """
    p = 5.0 - np.asarray(b, dtype=float)
    disc = p * p - 4.0 * QUAD * (140.0 + np.asarray(current, dtype=float))
    with np.errstate(invalid="ignore"):
        v = (-p - np.sqrt(disc)) / (2.0 * QUAD)
    return float(v) if v.ndim == 0 else v


# -- the compiled kernel --------------------------------------------------------------------
@njit(cache=True)
def _flow(w0, kappa, t):
    """Exact solution of w' = QUAD w^2 + kappa after time t from w0.

    Returns ``(w(t), log y(t), ok)`` with ``y`` the linearising variable (w = -y'/(QUAD y)),
    so that the integral of w over [0, t] is ``-log y / QUAD``. ``ok`` is False if w blows up
    (has a pole) in [0, t]; w is monotone on [0, t] otherwise.
    """
    if kappa > _KAPPA_EPS:
        s = math.sqrt(kappa / QUAD)
        th = QUAD * s * t
        if th >= math.pi:        # a pole lies within [0, t] (pole time < pi / omega)
            return 0.0, 0.0, False
        sn = math.sin(th)
        cs = math.cos(th)
        den = s * cs - w0 * sn                       # s * y(t)
        if den <= 0.0:
            return 0.0, 0.0, False
        return s * (s * sn + w0 * cs) / den, math.log(den / s), True
    if kappa < -_KAPPA_EPS:
        s = math.sqrt(-kappa / QUAD)
        th = QUAD * s * t
        tt = math.tanh(th)
        q = 1.0 - (w0 / s) * tt                      # y(t) / cosh(th)
        if q <= 0.0:
            return 0.0, 0.0, False
        log_cosh = th + math.log1p(math.exp(-2.0 * th)) - _LN2
        return (w0 - s * tt) / q, log_cosh + math.log(q), True
    y = 1.0 - QUAD * w0 * t
    if y <= 0.0:
        return 0.0, 0.0, False
    return w0 / y, math.log(y), True


@njit(cache=True)
def _crossing_time(w0, kappa, wp):
    """Time at which w' = QUAD w^2 + kappa, from w0, reaches wp (inf if never)."""
    if w0 >= wp:
        return 0.0
    if kappa > _KAPPA_EPS:
        s = math.sqrt(kappa / QUAD)
        return (math.atan(wp / s) - math.atan(w0 / s)) / (QUAD * s)
    if kappa < -_KAPPA_EPS:
        s = math.sqrt(-kappa / QUAD)
        if w0 <= s or wp <= s:      # below the unstable equilibrium w = s: never fires
            return np.inf
        # w(t) = s coth(acoth(w0/s) - omega t); acoth(z) = log1p(2 / (z - 1)) / 2
        return 0.5 * (math.log1p(2.0 * s / (w0 - s)) - math.log1p(2.0 * s / (wp - s))) / (QUAD * s)
    if w0 <= 0.0:
        return np.inf
    return (1.0 / w0 - 1.0 / wp) / QUAD


@njit(cache=True)
def _advance(w0, u, i_ext, a, b, t, decay):
    """Advance (w, u) by t with no crossing of v_peak: v exact with u frozen, u exact for
    the mean v of the interval. ``decay`` is exp(-a t). Returns (w, u)."""
    w, log_y, _ = _flow(w0, i_ext - u - KAPPA_SHIFT, t)
    bv = b * (-log_y / (QUAD * t) - W_SHIFT)
    return w, bv + (u - bv) * decay


@njit(cache=True)
def _izhikevich_step(v, u, i_ext, a, b, c, d, v_peak, decay, dt):
    """One step of one neuron (see the module docstring); returns (v, u, spiked)."""
    w0 = v + W_SHIFT
    wp = v_peak + W_SHIFT
    kappa = i_ext - u - KAPPA_SHIFT
    if w0 < wp:
        w, log_y, ok = _flow(w0, kappa, dt)
        if ok and w < wp:
            bv = b * (-log_y / (QUAD * dt) - W_SHIFT)
            return w - W_SHIFT, bv + (u - bv) * decay, False
    # v reaches v_peak in this step, at tc: advance u to tc, reset, integrate the rest
    tc = min(max(_crossing_time(w0, kappa, wp), 0.0), dt)
    if tc > 0.0:
        _, u = _advance(w0, u, i_ext, a, b, tc, math.exp(-a * tc))
    u += d
    rest = dt - tc
    w = c + W_SHIFT
    if rest > 0.0:
        t2 = _crossing_time(w, i_ext - u - KAPPA_SHIFT, wp)
        if t2 < rest:           # fires again within the step: hold at v_peak until next step
            if t2 > 0.0:
                _, u = _advance(w, u, i_ext, a, b, t2, math.exp(-a * t2))
            return v_peak, u, True
        w, u = _advance(w, u, i_ext, a, b, rest, math.exp(-a * rest))
    return w - W_SHIFT, u, True


@njit(cache=True)
def izhikevich_update(v, u, i_in, dv, dt, a, b, c, d, v_peak, decay, syn_gain):
    """The model's update of one neuron by one step (the point-model protocol,
    :mod:`~neurosim_nb.core.neurons.point_model`): the V jump, then
    :func:`_izhikevich_step`; event -1 for a non-finite or runaway state. ``syn_gain``
    (1/C, mV/ms per nA) is applied to the synaptic current by the skeleton."""
    v = v + dv
    if v != v or u != u:  # NaN in: the closed-form step must not hide it
        return v, u, -1.0
    v, u, spiked = _izhikevich_step(v, u, i_in, a, b, c, d, v_peak, decay, dt)
    if not (v < DIVERGENCE_LIMIT and v > -DIVERGENCE_LIMIT
            and u < DIVERGENCE_LIMIT and u > -DIVERGENCE_LIMIT):
        return v, u, -1.0
    return v, u, (1.0 if spiked else 0.0)


@njit(cache=True, inline="always", error_model="numpy")
def izhikevich_euler_update(v, u, i_in, dv, dt, a, b, c, d, v_peak, decay, syn_gain):
    """One forward-Euler step (``scheme="euler"``): the V jump, then ``v += dt (0.04 v^2 +
    5 v + 140 - u + I)`` and ``u += dt a (b v - u)`` from the old values, and the reset
    (``v = c``, ``u += d``) where the new v reaches ``v_peak`` -- Brian2's
    ``method="euler"`` with its order of operations (kicks enter before the next step).
    Branch-free, so the skeleton's loop vectorises. Event -1 for a non-finite or runaway
    state."""
    prefer_wide_vectors()
    v = v + dv
    vn = v + dt * (QUAD * v * v + 5.0 * v + 140.0 - u + i_in)
    un = u + dt * (a * (b * v - u))
    spike = vn >= v_peak
    ok = (vn > -DIVERGENCE_LIMIT) & (un < DIVERGENCE_LIMIT) & (un > -DIVERGENCE_LIMIT) & \
        ((vn < DIVERGENCE_LIMIT) | spike)
    event = (1.0 if spike else 0.0) if ok else -1.0
    return (c if spike else vn), (un + d if spike else un), event


@njit(cache=True)
def izhikevich_derivatives(v, u, i_in, a, b, c, d, v_peak, syn_gain):
    """(dv/dt, du/dt) of Izhikevich (2003) for ``method="adaptive"`` (mV/ms, mV/ms^2)."""
    return QUAD * v * v + 5.0 * v + 140.0 - u + i_in, a * (b * v - u)


@njit(cache=True)
def izhikevich_reset(v, u, a, b, c, d, v_peak, syn_gain):
    """The state after a spike: ``v = c``, ``u = u + d``."""
    return c, u + d


#: Izhikevich's equations for ``method="adaptive"`` (a spike where v crosses v_peak)
IZHIKEVICH_FORM = ContinuousForm(
    states=("V", "u"), rows=("a", "b", "c", "d", "v_peak", "syn_gain"),
    derivatives=izhikevich_derivatives, threshold="v_peak", reset=izhikevich_reset,
    input_scale="syn_gain")


#: |z| = QUAD dt^2 |kappa| up to which the fast update's Pade approximant is exact
PADE_Z_MAX = 0.25
#: |s| up to which the fast update's atanh series is exact: ln ratio within +-0.69, i.e. the
#: step's mean v in [-105, -20] mV at dt = 0.1 ms (wider at smaller dt)
ATANH_S_MAX = 0.17


@njit(cache=True, inline="always", error_model="numpy")
def tan_ratio(z):
    """tan(sqrt z) / sqrt z for z >= 0 and tanh(sqrt -z) / sqrt -z for z < 0 (one analytic
    function of z) by its [7/6] Pade approximant: relative error < 1e-15 for
    |z| <= :data:`PADE_Z_MAX` (against numpy's tan / tanh, ``tests/core/test_izhikevich.py``).

    >>> round(tan_ratio(0.25) * 0.5, 12) == round(math.tan(0.5), 12)
    True
    """
    return (135135.0 - z * (17325.0 - z * (378.0 - z))) / \
        (135135.0 - z * (62370.0 - z * (3150.0 - 28.0 * z)))


@njit(cache=True, inline="always", error_model="numpy")
def izhikevich_fast_update(v, u, i_in, dv, dt, a, b, c, d, v_peak, decay, syn_gain):
    """The exact step of :func:`_izhikevich_step` for a step without a spike, branch-free
    (so the skeleton's pass over the neurons vectorises; the point-model ``fast_update``).

    With ``z = QUAD dt^2 kappa``, ``F = tan_ratio(z)``, ``g = QUAD dt F``: the Riccati flow
    is ``w(dt) = (w0 + g kappa / QUAD) / (1 - w0 g)`` (tan and tanh cases in one formula;
    ``kappa = 0`` is F = 1) and the integral of ``w`` gives ``ln y = 1/2 ln ratio``, ``ratio
    = (1 - w0 g)^2 / (1 + z F^2)``, so the mean v of the step -- and the exact u -- need
    ``ln ratio = 2 atanh((ratio - 1) / (ratio + 1))``, a short series, and no tan, tanh, sin,
    cos or log; the step's quotients share one division. ``slow`` is 1 where this is not
    the exact step: v reaches v_peak in the step (a spike), ``|z| > PADE_Z_MAX``
    (|kappa| > 625 mV/ms at dt = 0.1 ms), ``|s| > ATANH_S_MAX`` (a step whose mean v lies
    outside [-105, -20] mV at dt = 0.1 ms), or a value is not finite or beyond the
    divergence limit; the exact update takes those neurons.
    """
    prefer_wide_vectors()  # a latency-bound chain: 8 neurons per vector on AVX-512
    v = v + dv
    w0 = v + W_SHIFT
    kappa = i_in - u - KAPPA_SHIFT
    cq = QUAD * dt
    z = cq * dt * kappa
    # F = P / Q (tan_ratio's numerator and denominator), g = cq F; with the fractions
    # cleared the step needs one division; fused multiply-adds (one rounding each, the
    # same in scalar and vector code) halve the operations of the polynomials
    p = fma(z, fma(z, fma(z, -1.0, 378.0), -17325.0), 135135.0)
    q = fma(z, fma(z, fma(z, -28.0, 3150.0), -62370.0), 135135.0)
    cp = cq * p
    den = fma(-w0, cp, q)                               # Q (1 - w0 g)
    d2 = fma(z * p, p, q * q)                           # Q^2 (1 + z F^2)
    dd = den * den                                      # ratio = dd / d2
    sm = dd + d2
    e = den * d2
    r = 1.0 / (e * sm)                                  # one division for three quotients
    w = fma(w0, q, (kappa * (1.0 / QUAD)) * cp) * (d2 * sm * r)
    # ln ratio = 2 atanh(s), s = (ratio - 1) / (ratio + 1), by its series to s^23 (truncation
    # < 1e-18 relative for |s| <= ATANH_S_MAX): no logarithm, no second division
    s = (dd - d2) * (e * r)
    s2 = s * s
    s4 = s2 * s2
    s8 = s4 * s4
    poly = fma(s4, fma(s2, 1.0 / 7.0, 1.0 / 5.0), fma(s2, 1.0 / 3.0, 1.0)) + s8 * fma(
        s8, fma(s4, fma(s2, 1.0 / 23.0, 1.0 / 21.0), fma(s2, 1.0 / 19.0, 1.0 / 17.0)),
        fma(s4, fma(s2, 1.0 / 15.0, 1.0 / 13.0), fma(s2, 1.0 / 11.0, 1.0 / 9.0)))
    bv = b * fma(s * poly, -1.0 / cq, -W_SHIFT)       # mean v = -ln(ratio) / (2 cq) - shift
    u_new = fma(u - bv, decay, bv)
    wp = v_peak + W_SHIFT
    ok = (abs(z) <= PADE_Z_MAX) & (abs(s) <= ATANH_S_MAX) & (den > 0.0) & (q > 0.0) & \
        (w0 < wp) & (w < wp) & (w > W_SHIFT - DIVERGENCE_LIMIT) & (abs(u_new) < DIVERGENCE_LIMIT)
    return w - W_SHIFT, u_new, (0.0 if ok else 1.0)


# -- the population -------------------------------------------------------------------------
class IzhikevichNeuron(PointModel):
    """A population of ``n`` Izhikevich (2003) simple-model neurons (struct-of-arrays).

    State variables: ``V`` (mV) and the recovery variable ``u`` (mV/ms). The input is in
    the units of Izhikevich 2003 (mV/ms, it enters dV/dt directly), so published figures
    reproduce with published current values. See the module docstring for the equations,
    the presets, the initial state and the integration scheme.

    Parameters
    ----------
    params : IzhikevichParameters, optional
        Scalars apply to every neuron, arrays give one value per neuron (a population may
        mix cell classes). Default: regular spiking.
    n : int
        Number of neurons (default 1).
    label : str, optional
        Population label.

    Examples
    --------
    >>> from neurosim_nb.stimuli import StepCurrent
    >>> ch = IzhikevichNeuron.from_preset("CH")
    >>> ds = ch.simulate(300.0, StepCurrent(10.0, onset_ms=50.0), seed=0)
    >>> isi = np.diff(ds.spike_time.values)
    >>> bool((isi < 10).sum() > 5 and (isi > 30).sum() >= 2)      # repeated bursts
    True

    A mixed population: one neuron of each class, parameters as per-neuron arrays.

    >>> mixed = IzhikevichNeuron.from_types(list(IzhikevichType))
    >>> mixed.params.d
    array([8.  , 4.  , 2.  , 2.  , 2.  , 0.05, 2.  ])
    """

    parameters_class = IzhikevichParameters
    state_variables = {
        "V": ("mV", "membrane potential"),
        "u": ("mV/ms", "recovery variable"),
    }
    current_units = "mV/ms"
    current_long_name = "input drive (Izhikevich 2003 units)"
    default_label = "izhikevich"

    @classmethod
    def presets(cls) -> dict[str, IzhikevichParameters]:
        """The seven classes of Izhikevich (2003) Fig. 2, keyed ``"RS"``, ``"IB"``, ..."""
        return {t.name: t.parameters for t in IzhikevichType}

    @classmethod
    def demo_current(cls, preset: str | IzhikevichType | None = None) -> float:
        """10 mV/ms, the step of Izhikevich (2003) Fig. 2; every preset fires under it."""
        return 10.0

    @classmethod
    def from_preset(cls, preset, n: int = 1, label: str | None = None, **overrides):
        """``n`` neurons of class ``preset``: an :class:`IzhikevichType` or its name
        (``"RS"``, case-insensitive), optionally with some parameters changed.

        >>> IzhikevichNeuron.from_preset("fs", n=3).params.a
        0.1
        """
        if isinstance(preset, str) and preset.upper() in IzhikevichType.__members__:
            preset = preset.upper()
        return super().from_preset(preset, n=n, label=label, **overrides)

    @classmethod
    def from_types(cls, types, label: str | None = None) -> IzhikevichNeuron:
        """One neuron per entry of ``types`` (members of :class:`IzhikevichType` or names),
        in one population with per-neuron parameter arrays."""
        table = cls.presets()
        names = [getattr(t, "name", t) for t in types]
        names = [t.upper() if isinstance(t, str) and t.upper() in table else t for t in names]
        unknown = [t for t in names if t not in table]
        if unknown or not names:
            raise ValueError(f"unknown {cls.__name__} preset(s) {unknown}; choose from "
                             f"{list(table)}")
        fields = [f for f in IzhikevichParameters.field_info() if f != "scheme"]
        values = {f: np.array([getattr(table[t], f) for t in names], dtype=float)
                  for f in fields}
        return cls(IzhikevichParameters(**values), n=len(names), label=label)

    @property
    def u(self):
        """Recovery variable (mV/ms): a float for a single neuron, else an array view."""
        u = self.get_state("u")
        return float(u[0]) if self.n == 1 else u

    @u.setter
    def u(self, value) -> None:
        self.set_state("u", value)

    def _initial_state(self) -> np.ndarray:
        v0 = self.params.per_neuron("v_init", self.n)
        return np.stack([v0, self.params.per_neuron("b", self.n) * v0])

    kernel_rows = ("a", "b", "c", "d", "v_peak", "decay", "syn_gain")
    update = izhikevich_update
    fast_update = izhikevich_fast_update
    continuous = IZHIKEVICH_FORM
    spike_sample = "v_peak"  # traces draw each spike up to v_peak
    input_scale = "syn_gain"  # receptor current (nA) -> drive (mV/ms)
    ei_presets = ("RS", "FS")

    planar = IzhikevichPlanar()

    def update_function(self):
        """:func:`izhikevich_update` (``scheme="exact"``) or :func:`izhikevich_euler_update`."""
        return izhikevich_euler_update if self.params.scheme == "euler" else izhikevich_update

    def fast_update_function(self):
        """The exact scheme's :func:`izhikevich_fast_update`; none for Euler (its update is
        branch-free already)."""
        return None if self.params.scheme == "euler" else izhikevich_fast_update

    def continuous_values(self) -> dict[str, np.ndarray]:
        """The form's rows: the parameters and ``syn_gain = 1 / C``."""
        per = self.params.per_neuron
        values = {name: per(name, self.n) for name in ("a", "b", "c", "d", "v_peak")}
        values["syn_gain"] = 1.0 / per("C", self.n)
        return values

    def kernel_values(self, dt: float) -> dict[str, np.ndarray]:
        values = {}
        per = self.params.per_neuron
        for name in ("a", "b", "c", "d", "v_peak"):
            values[name] = per(name, self.n)
        values["decay"] = np.exp(-values["a"] * dt)
        values["syn_gain"] = 1.0 / per("C", self.n)
        return values
