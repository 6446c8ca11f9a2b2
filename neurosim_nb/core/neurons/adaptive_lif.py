r"""Adaptive integrate-and-fire neurons: AdEx and the adaptive LIF.

**AdEx** -- adaptive exponential integrate-and-fire (Brette & Gerstner 2005;
Gerstner et al., *Neuronal Dynamics*, ch. 6.1):

.. math::

    C \frac{dV}{dt} = -g_L (V - E_L) + g_L \Delta_T \exp\!\Big(\frac{V - V_T}{\Delta_T}\Big)
                      - w + I(t), \qquad
    \tau_w \frac{dw}{dt} = a (V - E_L) - w .

When :math:`V \ge V_{peak}` a spike is emitted, :math:`V \leftarrow V_r` and
:math:`w \leftarrow w + b`; ``V`` is then held at :math:`V_r` for ``t_refractory``
(default 0) while ``w`` keeps relaxing.

**Adaptive LIF** -- the same adaptation on a leaky integrate-and-fire membrane with a hard
threshold (the AdEx without the exponential term), in the names of
:class:`~neurosim_nb.core.neurons.lif.LIFParameters`:

.. math::

    \tau_m \frac{dV}{dt} = -(V - V_{rest}) + R_m \big(I(t) - w\big), \qquad
    \tau_w \frac{dw}{dt} = a (V - V_{rest}) - w ;

at :math:`V \ge V_{threshold}`: :math:`V \leftarrow V_{reset}`, :math:`w \leftarrow w + b`,
refractory for ``t_refractory``. With ``a = b = 0`` it *is* the LIF neuron (same spike
times, bit for bit).

Integration scheme. **AdEx**: ``V`` takes an *exponential Rosenbrock-Euler* step
(Hochbruck, Ostermann & Schweitzer 2009) with ``w`` and ``I`` frozen over the step: the
right-hand side :math:`f(V) = [-g_L(V - E_L) + g_L\Delta_T e^{(V-V_T)/\Delta_T} - w + I]/C`
is linearised at :math:`V_k` (slope :math:`J_k = f'(V_k) = \frac{g_L}{C}(e^{(V_k-V_T)/\Delta_T}
- 1)`) and the linearisation is solved exactly,

.. math::

    V_{k+1} = V_k + dt\, f(V_k)\, \varphi_1(dt\,J_k), \qquad \varphi_1(z) = \frac{e^z - 1}{z},

which integrates the leak exactly below threshold (stable for any ``dt``) and follows the
exponential upswing far better than (exponential) Euler (the linearisation of the convex
:math:`f` underestimates the upswing, so it does not reach :math:`V_{peak}` early). A downward
drift is not extrapolated with a positive slope (:math:`J_k \to 0` when
:math:`f(V_k) < 0 < J_k`). ``w`` relaxes exactly towards :math:`a(V_k - E_L)`:
:math:`w_{k+1} = a(V_k - E_L) + (w_k - a(V_k - E_L))\, e^{-dt/\tau_w}`. The exponential's
argument is capped at :data:`EXP_ARG_MAX` and :math:`dt\,J_k` at :data:`EXP_ARG_MAX`: a
step that starts there overshoots :math:`V_{peak}` by many orders of magnitude, so the
neuron spikes and the state never becomes ``inf`` or ``NaN``. ``scheme="euler"`` (an
:class:`AdExParameters` field) steps V and w by forward Euler instead,
:math:`V_{k+1} = V_k + dt\, f(V_k)`, :math:`w_{k+1} = w_k + dt\,(a(V_k - E_L) - w_k)/\tau_w`:
the numerics of Brian2's ``method="euler"`` (and of many published AdEx codes), for
reproducing them; it needs ``dt < tau_w`` and a dt small against the upswing.

**Adaptive LIF** (*exponential Euler*): with ``w`` frozen over the step the membrane is
integrated exactly, :math:`V_{k+1} = V_\infty + (V_k - V_\infty) e^{-dt/\tau_m}`,
:math:`V_\infty = V_{rest} + R_m (I_k - w_k)` -- the LIF update -- and ``w`` exactly with
``V`` frozen, as above.

Kicks (``PoissonInput``, mV) are added to ``V`` at the start of a step, as in the LIF
kernel (and, as there, dropped during the refractory period). In the AdEx any
``V >= V_peak`` after a step is a spike, however far the step overshot; only ``NaN`` or a
runaway hyperpolarisation below ``-DIVERGENCE_LIMIT`` counts as divergence. A spike is
stamped at the end of the step in which ``V`` crosses, so spike times
are late by up to one step plus the accumulated integration drift (measured against
reference solutions in ``tests/core/test_adaptive_lif.py``).

Presets of :class:`AdExNeuron` (Naud, Marcille, Clopath & Gerstner 2008, Table 1; all with
:math:`V_T = -50` mV, :math:`\Delta_T = 2` mV, :math:`V_{peak} = 0` mV; the published
pF / nS / pA are converted to nF / uS / nA in one place, :data:`NAUD_2008_TABLE`):

======================== ===== ===== ===== ===== ====== ===== ===== =====
preset                   C     g_L   E_L   a     tau_w  b     V_r   I
                         (pF)  (nS)  (mV)  (nS)  (ms)   (pA)  (mV)  (pA)
======================== ===== ===== ===== ===== ====== ===== ===== =====
tonic                    200   10    -70   2     30     0     -58   500
adapting                 200   12    -70   2     300    60    -58   500
initial_burst            130   18    -58   4     150    120   -50   400
regular_bursting         200   10    -58   2     120    100   -46   210
delayed_accelerating     200   12    -70   -10   300    0     -58   300
delayed_regular_bursting 100   10    -65   -10   90     30    -47   110
transient                100   10    -65   10    90     100   -47   180
irregular                100   12    -60   -11   130    30    -48   160
======================== ===== ===== ===== ===== ====== ===== ===== =====

``I`` is the published step current, returned (in nA) by :meth:`AdExNeuron.demo_current`.
The ``default`` preset is the regular-spiking cell of Brette & Gerstner (2005): C 281 pF,
g_L 30 nS, E_L = V_r = -70.6 mV, V_T -50.4 mV, Delta_T 2 mV, a 4 nS, tau_w 144 ms,
b 80.5 pA, with V_peak = 0 mV as in the Naud et al. presets (with Delta_T = 2 mV the
exponential has diverged by then: a higher cut-off moves spike times by far less than a
step).

Units: ms, mV, nA, uS, nF, MOhm (uS * mV = nA, nF * mV / ms = nA, MOhm * nA = mV).

References
----------
R. Brette, W. Gerstner (2005), Adaptive exponential integrate-and-fire model as an effective
description of neuronal activity. J Neurophysiol 94:3637-3642.

R. Naud, N. Marcille, C. Clopath, W. Gerstner (2008), Firing patterns in the adaptive
exponential integrate-and-fire model. Biol Cybern 99:335-347.

M. Hochbruck, A. Ostermann, J. Schweitzer (2009), Exponential Rosenbrock-type methods.
SIAM J Numer Anal 47:786-803.

Examples
--------
>>> neuron = AdExNeuron.from_preset("adapting")
>>> ds = neuron.simulate(300.0, AdExNeuron.demo_current("adapting"), dt=0.05, seed=0)
>>> isi = np.diff(ds.spike_time.values)
>>> bool(isi[-1] > 2 * isi[0])        # spike-frequency adaptation
True
>>> lif = AdaptiveLIFNeuron(AdaptiveLIFParameters(b=0.05, tau_w=100.0))
>>> int(lif.simulate(200.0, 0.5, seed=0).sizes["spike"]) > 0
True
"""

from __future__ import annotations

import math

import numpy as np

from neurosim_nb._jit import njit
from neurosim_nb.core.neurons.base import DIVERGENCE_LIMIT
from neurosim_nb.core.neurons.continuous import ContinuousForm
from neurosim_nb.core.neurons.lif import LIFParameters
from neurosim_nb.core.neurons.planar import AdExPlanar
from neurosim_nb.core.neurons.point_model import PointModel
from neurosim_nb.numerics.fastmath import exp64, exp_fma64, fma, prefer_wide_vectors
from neurosim_nb.params import ParameterSet, param, parameters

__all__ = ["AdExParameters", "AdExNeuron", "AdaptiveLIFParameters", "AdaptiveLIFNeuron",
           "FIRING_PATTERNS", "NAUD_2008_TABLE", "EXP_ARG_MAX"]

#: Cap of the exponential's argument (V - V_T) / Delta_T and of dt * J in the AdEx step.
#: exp(50) ~ 5e21: a step started there overshoots V_peak by many orders of magnitude, so
#: the cap only ever turns a certain spike into a finite one (no overflow to inf, no NaN).
EXP_ARG_MAX = 50.0

#: Naud et al. (2008), Table 1, in the published units:
#: (C pF, g_L nS, E_L mV, a nS, tau_w ms, b pA, V_r mV, I pA); V_T -50 mV, Delta_T 2 mV.
NAUD_2008_TABLE = {
    "tonic": (200.0, 10.0, -70.0, 2.0, 30.0, 0.0, -58.0, 500.0),
    "adapting": (200.0, 12.0, -70.0, 2.0, 300.0, 60.0, -58.0, 500.0),
    "initial_burst": (130.0, 18.0, -58.0, 4.0, 150.0, 120.0, -50.0, 400.0),
    "regular_bursting": (200.0, 10.0, -58.0, 2.0, 120.0, 100.0, -46.0, 210.0),
    "delayed_accelerating": (200.0, 12.0, -70.0, -10.0, 300.0, 0.0, -58.0, 300.0),
    "delayed_regular_bursting": (100.0, 10.0, -65.0, -10.0, 90.0, 30.0, -47.0, 110.0),
    "transient": (100.0, 10.0, -65.0, 10.0, 90.0, 100.0, -47.0, 180.0),
    "irregular": (100.0, 12.0, -60.0, -11.0, 130.0, 30.0, -48.0, 160.0),
}

#: the firing-pattern presets of :class:`AdExNeuron`, in the order of Naud et al. Fig. 4
FIRING_PATTERNS = tuple(NAUD_2008_TABLE)

_PICO = 1e-3  # pF -> nF, nS -> uS, pA -> nA


def _normalize(preset) -> str:
    """Preset name from a name or enum member; ``"Initial burst"`` -> ``"initial_burst"``."""
    name = str(getattr(preset, "name", preset))
    return name.strip().lower().replace(" ", "_").replace("-", "_")


class _NamedPresets(PointModel):
    """Preset names are also accepted as written in papers (``"Initial burst"``)."""

    @classmethod
    def from_preset(cls, preset, n: int = 1, label: str | None = None, **overrides):
        """Like :meth:`NeuronPopulation.from_preset`; ``"Initial burst"``,
        ``"initial-burst"`` and ``"initial_burst"`` name the same preset."""
        name = _normalize(preset)
        if name not in cls.presets():
            name = preset  # let the base class name the unknown preset
        return super().from_preset(name, n=n, label=label, **overrides)


def _stack(params: list[ParameterSet]) -> ParameterSet:
    """One parameter set with a per-neuron array for every numeric field of ``params``."""
    cls = type(params[0])
    values = {}
    for name, info in cls.field_info().items():
        column = [getattr(p, name) for p in params]
        if info["choices"] is not None:              # a string choice: one for all
            if len(set(column)) > 1:
                raise ValueError(f"{cls.__name__}.{name} differs between the cells "
                                 f"({sorted(set(column))}); one population has one {name}")
            values[name] = column[0]
            continue
        values[name] = None if any(v is None for v in column) else np.array(column, float)
    return cls(**values)


# -- AdEx -------------------------------------------------------------------------------------
#: the AdEx's fixed-step integration schemes (see :class:`AdExNeuron`)
ADEX_SCHEMES = ("rosenbrock", "euler")


@parameters
class AdExParameters(ParameterSet):
    """Parameters of the adaptive exponential integrate-and-fire neuron.

    Defaults: the regular-spiking cell of Brette & Gerstner (2005) in nF / uS / nA.
    Every field may be a per-neuron array. ``V_r < V_peak`` and ``V_T < V_peak`` are
    required (a reset at or above the spike cut-off would fire forever). The bounds of
    ``a`` (+-100 nS) and ``b`` (0 ... 1 nA) cover the published cells with room to spare
    and keep the generated sliders fine enough for values of a few nS / tens of pA.

    Examples
    --------
    >>> AdExParameters(b=0.0).b
    0.0
    >>> AdExParameters(V_r=10.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.InvalidArgumentError: AdExParameters: V_r (10.0 mV) must be below V_peak ...
    """

    C: float = param(0.281, "nF", (1e-4, 100.0), "membrane capacitance")
    g_L: float = param(0.030, "uS", (1e-5, 100.0), "leak conductance")
    E_L: float = param(-70.6, "mV", (-120.0, 0.0), "leak reversal (resting) potential")
    V_T: float = param(-50.4, "mV", (-100.0, 50.0), "threshold of the exponential term")
    Delta_T: float = param(2.0, "mV", (0.01, 20.0), "slope factor (spike sharpness)")
    a: float = param(0.004, "uS", (-0.1, 0.1), "subthreshold adaptation conductance")
    tau_w: float = param(144.0, "ms", (0.1, 10000.0), "adaptation time constant")
    b: float = param(0.0805, "nA", (0.0, 1.0), "spike-triggered adaptation increment")
    V_r: float = param(-70.6, "mV", (-120.0, 50.0), "reset potential")
    V_peak: float = param(0.0, "mV", (-100.0, 100.0), "spike cut-off (detection) potential")
    t_refractory: float = param(0.0, "ms", (0.0, 100.0), "absolute refractory period")
    scheme: str = param("rosenbrock", "", None,
                        "fixed-step integration of V and w: exponential Rosenbrock-Euler for "
                        "V with the exact w step, or euler (forward Euler for both, Brian2's "
                        "method='euler')", choices=ADEX_SCHEMES)

    def validate(self) -> None:
        cls = type(self).__name__
        for low in ("V_r", "V_T"):
            if np.any(np.asarray(getattr(self, low)) >= np.asarray(self.V_peak)):
                raise ValueError(f"{cls}: {low} ({getattr(self, low)} mV) must be below "
                                 f"V_peak ({self.V_peak} mV)")

    @property
    def tau_m(self):
        """Membrane time constant ``C / g_L`` (ms), per neuron if either is an array."""
        tau = np.asarray(self.C, float) / np.asarray(self.g_L, float)
        return tau if tau.ndim else float(tau)


@njit(cache=True, inline="always", error_model="numpy")
def expm1_ratio(z):
    """(e^z - 1) / z with its limit 1 at z = 0, branch-free (series below |z| = 1e-3,
    truncation < 1e-14; above, the quotient with :func:`~neurosim_nb.numerics.fastmath.
    exp64`, relative error <~ 2e-16 / |z| <= 2e-13).

    >>> round(expm1_ratio(1.0), 12), expm1_ratio(0.0)
    (1.718281828459, 1.0)
    """
    series = 1.0 + z * (0.5 + z * (1.0 / 6.0 + z * (1.0 / 24.0)))
    direct = (exp64(z) - 1.0) / z
    return series if abs(z) < 1e-3 else direct


@njit(cache=True, error_model="numpy")
def adex_update(v, w, r, i_in, dv, dt, inv_c, g_l, e_l, v_t, inv_d_t, d_t, a, decay_w, b,
                v_r, v_peak, ref_steps):
    """One neuron, one step (the point-model protocol,
    :mod:`~neurosim_nb.core.neurons.point_model`): held at ``V_r`` while refractory (w
    relaxes), else the exponential Rosenbrock-Euler step of V with w and I frozen, the exact
    step of w, threshold and reset. Event -1 for NaN, a runaway hyperpolarisation or a
    runaway w (an overshoot above ``V_peak`` is a spike, not a divergence).

    Branch-free: both the refractory and the integrating outcome are computed and one is
    selected, and the exponentials are :func:`~neurosim_nb.numerics.fastmath.exp64`, so the
    skeleton's loop over neurons vectorises."""
    refractory = r > 0.0
    v1 = v + dv
    arg = (v1 - v_t) * inv_d_t
    arg = arg if arg < EXP_ARG_MAX else EXP_ARG_MAX
    ex = exp64(arg)
    f = (g_l * (e_l - v1 + d_t * ex) - w + i_in) * inv_c  # (reciprocals: no division)
    jac = g_l * (ex - 1.0) * inv_c
    jac = 0.0 if (f < 0.0) & (jac > 0.0) else jac
    z = jac * dt
    z = z if z < EXP_ARG_MAX else EXP_ARG_MAX
    vn = v1 + dt * f * expm1_ratio(z)
    w_inf = a * (v1 - e_l)
    wn = w_inf + (w - w_inf) * decay_w
    spike = vn >= v_peak
    ok = ((vn > -DIVERGENCE_LIMIT) | spike) & (wn < DIVERGENCE_LIMIT) & \
        (wn > -DIVERGENCE_LIMIT)
    event = (1.0 if spike else 0.0) if ok else -1.0
    vn = v_r if spike else vn
    wn = wn + b if spike else wn
    rn = ref_steps if spike else r
    # refractory: V held at V_r (kicks dropped), w relaxes towards a (V_r - E_L)
    w_inf_r = a * (v_r - e_l)
    return (v_r if refractory else vn,
            (w_inf_r + (w - w_inf_r) * decay_w) if refractory else wn,
            (r - 1.0) if refractory else rn,
            0.0 if refractory else event)


#: |z| = |dt V'(V)| up to which the fast update's Pade approximant of (e^z - 1)/z is exact
#: to rounding (relative error < 1e-15)
PHI_Z_MAX = 0.1


@njit(cache=True, inline="always", error_model="numpy")
def expm1_ratio_pade(z):
    """(e^z - 1) / z from the [4/4] Pade approximant of e^z, ``(1 + z^2/42) / (1 - z/2 +
    3 z^2/28 - z^3/84 + z^4/1680)``: relative error < 1e-15 for ``|z| <= PHI_Z_MAX``
    (``tests/core/test_fast_updates.py``), no exponential.

    >>> abs(expm1_ratio_pade(0.05) - math.expm1(0.05) / 0.05) < 1e-15
    True
    """
    den = fma(-z, fma(-z, fma(-z, fma(z, -1.0 / 1680.0, 1.0 / 84.0), 3.0 / 28.0), 0.5), 1.0)
    return fma(z * z, 1.0 / 42.0, 1.0) / den


@njit(cache=True, inline="always", error_model="numpy")
def _spike_exponential(v, v_t, inv_d_t):
    """e^((V - V_T) / Delta_T) by :func:`~neurosim_nb.numerics.fastmath.exp_fma64`, the
    argument capped at :data:`EXP_ARG_MAX` and held above -700 (exp_fma64's range)."""
    arg = (v - v_t) * inv_d_t
    arg = arg if arg < EXP_ARG_MAX else EXP_ARG_MAX
    return exp_fma64(arg if arg > -700.0 else -700.0)


@njit(cache=True, inline="always", error_model="numpy")
def adex_fast_update(v, w, r, i_in, dv, dt, inv_c, g_l, e_l, v_t, inv_d_t, d_t, a, decay_w,
                     b, v_r, v_peak, ref_steps):
    """:func:`adex_update` for the common case, with one exponential instead of two
    (the point-model ``fast_update``): below the upswing ``|dt J| <= PHI_Z_MAX`` and
    ``phi`` is :func:`expm1_ratio_pade`; refractory neurons are held as there. ``slow`` = 1
    hands the neuron to :func:`adex_update`: the upswing (``dt J > PHI_Z_MAX``, V above
    about V_T + 2.3 Delta_T at the default cell), a spike, a non-finite or runaway state.
    Fused multiply-adds (:func:`~neurosim_nb.numerics.fastmath.exp_fma64`) and 512-bit
    vectors where the CPU has them: the step is a latency-bound chain."""
    prefer_wide_vectors()
    refractory = r > 0.0
    v1 = v + dv
    ex = _spike_exponential(v1, v_t, inv_d_t)
    f = (fma(g_l, fma(d_t, ex, e_l - v1), i_in) - w) * inv_c
    jac = fma(g_l, ex, -g_l) * inv_c
    jac = 0.0 if (f < 0.0) & (jac > 0.0) else jac
    z = jac * dt
    vn = fma(dt * f, expm1_ratio_pade(z), v1)
    w_inf = a * (v1 - e_l)
    wn = fma(w - w_inf, decay_w, w_inf)
    ok = (abs(z) <= PHI_Z_MAX) & (vn < v_peak) & (vn > -DIVERGENCE_LIMIT) & \
        (wn < DIVERGENCE_LIMIT) & (wn > -DIVERGENCE_LIMIT)
    w_inf_r = a * (v_r - e_l)
    return (v_r if refractory else vn,
            fma(w - w_inf_r, decay_w, w_inf_r) if refractory else wn,
            (r - 1.0) if refractory else r,
            0.0 if (refractory | ok) else 1.0)


@njit(cache=True, inline="always", error_model="numpy")
def adex_euler_update(v, w, r, i_in, dv, dt, inv_c, g_l, e_l, v_t, inv_d_t, d_t, a, decay_w,
                      b, v_r, v_peak, ref_steps):
    """One forward-Euler step (``scheme="euler"``): V and w from their old values
    (``decay_w`` is then ``1 - dt / tau_w``, so ``w_inf + (w - w_inf) decay_w`` is
    ``w + dt (a (V - E_L) - w) / tau_w``), threshold, reset and refractoriness as in
    :func:`adex_update`. Branch-free (512-bit vectors where the CPU has them); event -1
    for a non-finite or runaway state."""
    prefer_wide_vectors()
    refractory = r > 0.0
    v1 = v + dv
    vn = fma(dt, (fma(g_l, fma(d_t, _spike_exponential(v1, v_t, inv_d_t), e_l - v1), i_in)
                  - w) * inv_c, v1)
    w_inf = a * (v1 - e_l)
    wn = w_inf + (w - w_inf) * decay_w
    spike = vn >= v_peak
    ok = ((vn > -DIVERGENCE_LIMIT) | spike) & (wn < DIVERGENCE_LIMIT) & \
        (wn > -DIVERGENCE_LIMIT)
    event = (1.0 if spike else 0.0) if ok else -1.0
    w_inf_r = a * (v_r - e_l)
    return (v_r if (refractory | spike) else vn,
            (w_inf_r + (w - w_inf_r) * decay_w) if refractory else (wn + b if spike else wn),
            (r - 1.0) if refractory else (ref_steps if spike else r),
            0.0 if refractory else event)


@njit(cache=True)
def adex_derivatives(v, w, i_in, c, g_l, e_l, v_t, d_t, a, tau_w, b, v_r, v_peak, t_ref):
    """(dV/dt, dw/dt) of the AdEx (mV/ms, nA/ms) for ``method="adaptive"``; the
    exponential's argument is capped at :data:`EXP_ARG_MAX` (far beyond V_peak)."""
    arg = min((v - v_t) / d_t, EXP_ARG_MAX)
    return ((g_l * (e_l - v + d_t * math.exp(arg)) - w + i_in) / c,
            (a * (v - e_l) - w) / tau_w)


@njit(cache=True)
def adex_reset(v, w, c, g_l, e_l, v_t, d_t, a, tau_w, b, v_r, v_peak, t_ref):
    """The state after a spike: ``V = V_r``, ``w = w + b``."""
    return v_r, w + b


#: the AdEx equations for ``method="adaptive"``
ADEX_FORM = ContinuousForm(
    states=("V", "w"), rows=("C", "g_L", "E_L", "V_T", "Delta_T", "a", "tau_w", "b", "V_r",
                             "V_peak", "t_refractory"),
    derivatives=adex_derivatives, threshold="V_peak", reset=adex_reset, refractory="clamp",
    refractory_row="t_refractory", refractory_state="refractory")


class AdExNeuron(_NamedPresets):
    """A population of ``n`` adaptive exponential integrate-and-fire neurons.

    State variables: ``V`` (mV), ``w`` (adaptation current, nA), ``refractory`` (steps
    left). Input current in nA. Neurons start at rest: ``V = E_L``, ``w = 0``. See the
    module docstring for the equations, the integration scheme and the presets.

    Parameters
    ----------
    params : AdExParameters, optional
        Scalars apply to every neuron, arrays give one value per neuron.
    n : int
        Number of neurons (default 1).
    label : str, optional
        Population label.

    Examples
    --------
    >>> AdExNeuron.from_preset("tonic").params.C       # 200 pF in nF
    0.2
    >>> AdExNeuron.demo_current("tonic")                # 500 pA in nA
    0.5
    >>> pop = AdExNeuron.create_firing_patterns()      # one neuron per Naud pattern
    >>> pop.n, pop.params.a.tolist()[3]                 # regular bursting: a = 2 nS
    (8, 0.002)
    """

    parameters_class = AdExParameters
    state_variables = {
        "V": ("mV", "membrane potential"),
        "w": ("nA", "adaptation current"),
        "refractory": ("1", "refractory steps remaining"),
    }
    default_label = "adex"

    @classmethod
    def presets(cls) -> dict[str, AdExParameters]:
        """The eight firing patterns of Naud et al. (2008, Table 1) and ``default``
        (Brette & Gerstner 2005); see the module docstring for the table."""
        table = {}
        for name, (c, g_l, e_l, a, tau_w, b, v_r, _) in NAUD_2008_TABLE.items():
            table[name] = AdExParameters(
                C=c * _PICO, g_L=g_l * _PICO, E_L=e_l, V_T=-50.0, Delta_T=2.0, a=a * _PICO,
                tau_w=tau_w, b=b * _PICO, V_r=v_r, V_peak=0.0, t_refractory=0.0)
        table["default"] = AdExParameters()
        return table

    @classmethod
    def demo_current(cls, preset: str | None = None) -> float:
        """The step current (nA) of Naud et al. (2008, Table 1) for ``preset``; 1 nA for
        ``default`` (about 1.5 x rheobase of the Brette & Gerstner cell).

        >>> AdExNeuron.demo_current("irregular")
        0.16
        """
        if preset is None or _normalize(preset) == "default":
            return 1.0
        name = _normalize(preset)
        if name not in NAUD_2008_TABLE:
            raise ValueError(f"unknown AdExNeuron preset {preset!r}; choose from "
                             f"{list(cls.presets())}")
        return round(NAUD_2008_TABLE[name][-1] * _PICO, 12)

    @classmethod
    def create_firing_patterns(cls, patterns=FIRING_PATTERNS, label: str = "firing_patterns"
                               ) -> AdExNeuron:
        """One neuron per preset in ``patterns`` (per-neuron parameter arrays), so all
        patterns run in one simulation; drive it with
        ``[AdExNeuron.demo_current(p) for p in patterns]``."""
        if isinstance(patterns, str):
            patterns = [patterns]
        names = [_normalize(p) for p in patterns]
        table = cls.presets()
        unknown = [p for p, nm in zip(patterns, names, strict=True) if nm not in table]
        if unknown:
            raise ValueError(f"unknown AdExNeuron preset(s) {unknown}; choose from {list(table)}")
        return cls(_stack([table[nm] for nm in names]), n=len(names), label=label)

    def _initial_state(self) -> np.ndarray:
        s = np.zeros((3, self.n))
        s[0] = self.params.per_neuron("E_L", self.n)
        return s

    kernel_rows = ("inv_C", "g_L", "E_L", "V_T", "inv_Delta_T", "Delta_T", "a", "decay_w",
                   "b", "V_r", "V_peak", "ref_steps")
    update = adex_update
    fast_update = adex_fast_update
    continuous = ADEX_FORM
    ei_presets = ("adapting", "tonic")

    planar = AdExPlanar()

    def kernel_values(self, dt: float) -> dict[str, np.ndarray]:
        per = self.params.per_neuron
        values = {k: per(k, self.n) for k in ("C", "g_L", "E_L", "V_T", "Delta_T", "a", "b",
                                             "V_r", "V_peak")}
        tau_w = per("tau_w", self.n)
        if self.params.scheme == "euler":
            if np.any(dt >= tau_w):
                raise ValueError(f"scheme='euler' needs dt < tau_w (forward Euler's w step "
                                 f"overshoots otherwise): dt = {dt} ms, smallest tau_w = "
                                 f"{tau_w.min()} ms; use a smaller dt or 'rosenbrock'")
            values["decay_w"] = 1.0 - dt / tau_w
        else:
            values["decay_w"] = np.exp(-dt / tau_w)
        values["ref_steps"] = np.round(per("t_refractory", self.n) / dt)
        values["inv_C"] = 1.0 / values["C"]
        values["inv_Delta_T"] = 1.0 / values["Delta_T"]
        return values

    def update_function(self):
        """:func:`adex_update` (``scheme="rosenbrock"``) or :func:`adex_euler_update`."""
        return adex_euler_update if self.params.scheme == "euler" else adex_update

    def fast_update_function(self):
        """:func:`adex_fast_update` for the Rosenbrock scheme; none for Euler (branch-free
        with one exponential already)."""
        return None if self.params.scheme == "euler" else adex_fast_update


# -- adaptive LIF --------------------------------------------------------------------------
def _like_lif(name: str, default=None):
    """A field declared exactly as in :class:`LIFParameters` (unit, bounds, doc)."""
    info = LIFParameters.field_info()[name]
    return param(info["default"] if default is None else default, info["unit"], info["bounds"],
                 info["doc"], optional=info["optional"], choices=info["choices"])


@parameters
class AdaptiveLIFParameters(ParameterSet):
    """Parameters of the adaptive leaky integrate-and-fire neuron.

    The membrane fields are those of :class:`LIFParameters` (same names, units, bounds;
    ``C_m`` derived as ``tau_m / R_m`` when not given); ``a``, ``tau_w`` and ``b`` add the
    adaptation current. Defaults: the ``adapting`` preset, a pyramidal-like cell
    (tau_m 20 ms, R_m 100 MOhm, rest -70, threshold -50, reset -60 mV, 2 ms refractory)
    with a = 2 nS, tau_w = 150 ms, b = 50 pA.

    Examples
    --------
    >>> p = AdaptiveLIFParameters()
    >>> p.C_m, p.a
    (0.2, 0.002)
    >>> AdaptiveLIFParameters(V_reset=-40.0)
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.InvalidArgumentError: V_reset (-40.0 mV) must be below V_threshold (-50.0 mV)
    """

    tau_m: float = _like_lif("tau_m", 20.0)
    V_rest: float = _like_lif("V_rest", -70.0)
    V_threshold: float = _like_lif("V_threshold", -50.0)
    V_reset: float = _like_lif("V_reset", -60.0)
    t_refractory: float = _like_lif("t_refractory", 2.0)
    R_m: float = _like_lif("R_m", 100.0)
    C_m: float | None = _like_lif("C_m")
    a: float = param(0.002, "uS", (-0.1, 0.1), "subthreshold adaptation conductance")
    tau_w: float = param(150.0, "ms", (0.1, 10000.0), "adaptation time constant")
    b: float = param(0.05, "nA", (0.0, 1.0), "spike-triggered adaptation increment")

    def validate(self) -> None:
        LIFParameters.validate(self)  # V_reset < V_threshold; C_m = tau_m / R_m


@njit(cache=True)
def adaptive_lif_update(v, w, r, i_in, dv, dt, decay, v_rest, r_m, v_th, v_reset, ref_steps,
                        a, decay_w, b):
    """One neuron, one step (the point-model protocol): held at ``V_reset`` while
    refractory (w relaxes), else the exact steps of V (w and I frozen) and w, threshold
    and reset. The operations are the LIF kernel's when w == 0 (bit-identical spikes and
    V), fused multiply-adds included."""
    if r > 0.0:
        w_inf = a * (v_reset - v_rest)
        return v_reset, fma(w - w_inf, decay_w, w_inf), r - 1.0, 0.0
    v = v + dv
    v_inf = fma(r_m, i_in - w, v_rest)
    w_inf = a * (v - v_rest)
    v = fma(v - v_inf, decay, v_inf)
    w = fma(w - w_inf, decay_w, w_inf)
    if not (v < DIVERGENCE_LIMIT and v > -DIVERGENCE_LIMIT):
        return v, w, r, -1.0
    if v >= v_th:
        return v_reset, w + b, ref_steps, 1.0
    return v, w, r, 0.0


@njit(cache=True)
def adaptive_lif_derivatives(v, w, i_in, tau_m, v_rest, r_m, v_th, v_reset, t_ref, a, tau_w,
                             b):
    """(dV/dt, dw/dt) of the adaptive LIF for ``method="adaptive"``."""
    return (v_rest - v + r_m * (i_in - w)) / tau_m, (a * (v - v_rest) - w) / tau_w


@njit(cache=True)
def adaptive_lif_reset(v, w, tau_m, v_rest, r_m, v_th, v_reset, t_ref, a, tau_w, b):
    """The state after a spike: ``V = V_reset``, ``w = w + b``."""
    return v_reset, w + b


#: the adaptive LIF's equations for ``method="adaptive"``
ADAPTIVE_LIF_FORM = ContinuousForm(
    states=("V", "w"), rows=("tau_m", "V_rest", "R_m", "V_threshold", "V_reset",
                             "t_refractory", "a", "tau_w", "b"),
    derivatives=adaptive_lif_derivatives, threshold="V_threshold", reset=adaptive_lif_reset,
    refractory="clamp", refractory_row="t_refractory", refractory_state="refractory")


class AdaptiveLIFNeuron(_NamedPresets):
    """A population of ``n`` adaptive leaky integrate-and-fire neurons.

    State variables: ``V`` (mV), ``w`` (adaptation current, nA), ``refractory`` (steps
    left). Input current in nA. Neurons start at rest (``V = V_rest``, ``w = 0``).

    Parameters
    ----------
    params : AdaptiveLIFParameters, optional
    n : int
        Number of neurons (default 1).
    label : str, optional
        Population label.

    Examples
    --------
    >>> tonic = AdaptiveLIFNeuron.from_preset("tonic").simulate(500.0, 0.5, seed=0)
    >>> adapting = AdaptiveLIFNeuron.from_preset("adapting").simulate(500.0, 0.5, seed=0)
    >>> int(adapting.sizes["spike"]) < int(tonic.sizes["spike"])
    True
    """

    parameters_class = AdaptiveLIFParameters
    state_variables = {
        "V": ("mV", "membrane potential"),
        "w": ("nA", "adaptation current"),
        "refractory": ("1", "refractory steps remaining"),
    }
    default_label = "adaptive_lif"

    @classmethod
    def presets(cls) -> dict[str, AdaptiveLIFParameters]:
        """``adapting`` (the defaults), ``tonic`` (same membrane, ``a = b = 0``: a plain
        LIF) and ``default`` (= ``adapting``)."""
        adapting = AdaptiveLIFParameters()
        return {"adapting": adapting, "tonic": adapting.replace(a=0.0, b=0.0),
                "default": adapting}

    @classmethod
    def demo_current(cls, preset: str | None = None) -> float:
        """0.5 nA: about twice the rheobase (0.2 nA tonic, 0.24 nA with a = 2 nS)."""
        if preset is not None and _normalize(preset) not in cls.presets():
            raise ValueError(f"unknown AdaptiveLIFNeuron preset {preset!r}; choose from "
                             f"{list(cls.presets())}")
        return 0.5

    def _initial_state(self) -> np.ndarray:
        s = np.zeros((3, self.n))
        s[0] = self.params.per_neuron("V_rest", self.n)
        return s

    kernel_rows = ("decay", "V_rest", "R_m", "V_threshold", "V_reset", "ref_steps", "a",
                   "decay_w", "b")
    update = adaptive_lif_update
    continuous = ADAPTIVE_LIF_FORM
    ei_presets = ("adapting", "tonic")

    def kernel_values(self, dt: float) -> dict[str, np.ndarray]:
        per = self.params.per_neuron
        values = {k: per(k, self.n) for k in ("V_rest", "R_m", "V_threshold", "V_reset", "a",
                                             "b")}
        values["decay"] = np.exp(-dt / per("tau_m", self.n))
        values["ref_steps"] = np.round(per("t_refractory", self.n) / dt)
        values["decay_w"] = np.exp(-dt / per("tau_w", self.n))
        return values
