r"""Kinetic receptor models: transmitter-pulse binding (Destexhe, Mainen & Sejnowski 1994),
the GABA-B G-protein cascade, and saturating NMDA (Brunel & Wang 2001).

These are the receptor time courses of **one synapse** driven by its presynaptic spike
times, computed exactly (closed form, segment by segment) or, for saturating NMDA, with
a second-order exponential integrator on a time grid: the references of the compiled
channels and the models themselves. In networks, the two-state receptors run as the
receptors ``AMPA_kinetic``, ``NMDA_kinetic``, ``GABA_A_kinetic`` of
:data:`~neurosim_nb.core.synapses.receptors.RECEPTORS` (channel kind
:data:`~neurosim_nb.core.synapses.channels.KIND_KINETIC`: Destexhe's lumped Ron/Roff
scheme, each pulse from rest). The GABA-B cascade and saturating NMDA are not (yet)
channels of the engine: their state per synapse (R and G; x and s of each presynaptic
neuron) does not reduce to the two summed rows a channel keeps per postsynaptic neuron.

**Two-state kinetic receptors** (Destexhe, Mainen & Sejnowski 1994, J Comput Neurosci
1:195, "Synthesis of models for excitable membranes, synaptic transmission and
neuromodulation using a common kinetic formalism"; the fast solution in Destexhe, Mainen
& Sejnowski 1994, Neural Comput 6:14). Each presynaptic spike releases a square pulse of
transmitter, :math:`C = C_{max}` for :math:`C_{dur}` (pulses that overlap merge: the
transmitter does not summate, the pulse ends ``Cdur`` after the last spike), and the
fraction of open receptors obeys

.. math::

    \frac{dr}{dt} = \alpha\,C\,(1 - r) - \beta\,r ,

so during a pulse :math:`r(t) = r_\infty + (r_0 - r_\infty)\,e^{-(t-t_0)/\tau_r}` with
:math:`r_\infty = \alpha C_{max}/(\alpha C_{max} + \beta)`,
:math:`\tau_r = 1/(\alpha C_{max} + \beta)`, and after it
:math:`r(t) = r_1 e^{-\beta (t - t_1)}`. Conductance :math:`g = \bar g\,r` (µS), current
:math:`I = g\,B(V)\,(E_{rev} - V)` (nA) with the Jahr & Stevens (1990) block for NMDA.

======== ================ ========= ========= ======== ========= =========================
name     alpha /(ms mM)   beta /ms  Cmax mM   Cdur ms  E mV      source
======== ================ ========= ========= ======== ========= =========================
AMPA     1.1              0.19      1         1        0         Destexhe et al. 1994
NMDA     0.072            0.0066    1         1        0 (Mg 1)  Destexhe et al. 1994
GABA_A   5                0.18      1         1        -80       Destexhe et al. 1994
======== ================ ========= ========= ======== ========= =========================

(the rate constants of the 1994 paper, in its units 1.1e6 /(M s) = 1.1 /(ms mM) etc.,
refitted to the same recordings in Destexhe, Mainen & Sejnowski 1998, "Kinetic models of
synaptic transmission", Methods in Neuronal Modeling, 2nd ed., ch. 1).

**GABA-B** (same papers): transmitter binds the receptor, the bound receptor activates
G-protein, and ``n`` G-proteins open a K+ channel,

.. math::

    \frac{dR}{dt} = K_1 C (1 - R) - K_2 R,\qquad \frac{dG}{dt} = K_3 R - K_4 G,\qquad
    g = \bar g\,\frac{G^n}{G^n + K_d},

with :math:`K_1 = 0.09` /(ms mM), :math:`K_2 = 0.0012`, :math:`K_3 = 0.18`,
:math:`K_4 = 0.034` /ms, :math:`K_d = 100`, :math:`n = 4`, :math:`E = -95` mV and a
pulse of 0.5 mM for 0.3 ms -- the values of Destexhe's own ``GABAb_S`` NEURON
mechanism distributed with those papers (ModelDB 18198). R follows the two-state closed
form; G is the exact solution of its linear equation driven by that R (per segment
:math:`R = a + b e^{-\lambda t}` gives
:math:`G = \tfrac{K_3 a}{K_4}(1 - e^{-K_4 t}) + \tfrac{K_3 b}{K_4 - \lambda}
(e^{-\lambda t} - e^{-K_4 t}) + G_0 e^{-K_4 t}`).

**Saturating NMDA** (Brunel & Wang 2001, J Comput Neurosci 11:63; Wang 2002): each
presynaptic spike increments :math:`x` by 1,

.. math::

    \frac{dx}{dt} = -\frac{x}{\tau_{rise}},\qquad
    \frac{ds}{dt} = -\frac{s}{\tau_{decay}} + \alpha\,x\,(1 - s),

:math:`\tau_{rise} = 2` ms, :math:`\tau_{decay} = 100` ms, :math:`\alpha = 0.5` /ms,
:math:`g = \bar g\,s` with the Mg block (1 mM). :meth:`SaturatingNMDA.time_course`
advances x exactly and s by the exponential integrator with x averaged over the step
(exact when x is constant; error O(dt²)).

Examples
--------
>>> ampa = KINETIC_RECEPTORS["AMPA"]
>>> round(ampa.r_inf, 4), round(ampa.tau_r_ms, 4)
(0.8527, 0.7752)
>>> ampa.open_fraction([0.5, 1.0, 3.0], [0.0]).round(4).tolist()  # rising, peak, decay
[0.4053, 0.618, 0.4226]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["KineticReceptor", "GABABReceptor", "SaturatingNMDA", "KINETIC_RECEPTORS",
           "GABA_B_KINETIC", "NMDA_SATURATING", "transmitter_pulses"]


def _finite_positive(owner: str, **values) -> None:
    for name, v in values.items():
        if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
            raise ValueError(f"{owner}: {name} must be a finite number > 0, got {v!r}")


def _spikes(spike_times_ms) -> np.ndarray:
    s = np.sort(np.atleast_1d(np.asarray(spike_times_ms, dtype=float)))
    if not np.all(np.isfinite(s)):
        raise ValueError(f"spike_times_ms must be finite, got {spike_times_ms!r}")
    return s


def transmitter_pulses(spike_times_ms, cdur_ms: float) -> np.ndarray:
    """The transmitter pulses ``(start, end)`` (ms) of spikes at ``spike_times_ms``: each
    spike starts or prolongs a pulse to ``spike + cdur_ms`` (overlapping pulses merge).

    >>> transmitter_pulses([0.0, 0.5, 5.0], 1.0).tolist()
    [[0.0, 1.5], [5.0, 6.0]]
    """
    s = _spikes(spike_times_ms)
    out: list[list[float]] = []
    for t in s:
        if out and t <= out[-1][1]:
            out[-1][1] = t + cdur_ms
        else:
            out.append([t, t + cdur_ms])
    return np.array(out, dtype=float).reshape(-1, 2)


def _segments(pulses: np.ndarray):
    """Boundaries ``b`` (first: -inf) and whether the transmitter is on from each."""
    b = [-np.inf]
    on = [False]
    for start, end in pulses:
        b.extend([start, end])
        on.extend([True, False])
    return np.array(b), np.array(on)


def _two_state_at_boundaries(b, on, alpha_c, beta, r0):
    """r at every boundary (the two-state closed form from one to the next)."""
    r = np.empty(b.size)
    r[0] = r0
    lam_on = alpha_c + beta
    r_inf = alpha_c / lam_on if lam_on > 0 else 0.0
    for j in range(1, b.size):
        d = b[j] - b[j - 1] if j > 1 else 0.0
        if on[j - 1]:
            r[j] = r_inf + (r[j - 1] - r_inf) * math.exp(-lam_on * d)
        else:
            r[j] = r[j - 1] * math.exp(-beta * d)
    return r


@dataclass(frozen=True)
class KineticReceptor:
    """Two-state receptor binding a square transmitter pulse (see the module docstring).

    Parameters
    ----------
    name : str
    alpha_per_ms_mM : float
        Binding rate (1/(ms mM)).
    beta_per_ms : float
        Unbinding rate (1/ms).
    E_rev_mV : float
    mg_mM : float
        Extracellular Mg²⁺ for the Jahr-Stevens block (0: none).
    Cmax_mM, Cdur_ms : float
        Transmitter pulse amplitude (mM) and duration (ms).
    """

    name: str
    alpha_per_ms_mM: float
    beta_per_ms: float
    E_rev_mV: float = 0.0
    mg_mM: float = 0.0
    Cmax_mM: float = 1.0
    Cdur_ms: float = 1.0

    def __post_init__(self) -> None:
        _finite_positive(f"KineticReceptor {self.name!r}", alpha_per_ms_mM=self.alpha_per_ms_mM,
                         beta_per_ms=self.beta_per_ms, Cmax_mM=self.Cmax_mM,
                         Cdur_ms=self.Cdur_ms)
        if not math.isfinite(self.E_rev_mV):
            raise ValueError(f"KineticReceptor {self.name!r}: E_rev_mV must be finite")
        if not (math.isfinite(self.mg_mM) and self.mg_mM >= 0):
            raise ValueError(f"KineticReceptor {self.name!r}: mg_mM must be >= 0")

    @property
    def r_inf(self) -> float:
        """Open fraction approached during a pulse."""
        a = self.alpha_per_ms_mM * self.Cmax_mM
        return a / (a + self.beta_per_ms)

    @property
    def tau_r_ms(self) -> float:
        """Time constant (ms) of the approach to ``r_inf`` during a pulse."""
        return 1.0 / (self.alpha_per_ms_mM * self.Cmax_mM + self.beta_per_ms)

    def open_fraction(self, t_ms, spike_times_ms, r0: float = 0.0) -> np.ndarray:
        """The exact open fraction r at times ``t_ms`` (ms) for presynaptic spikes at
        ``spike_times_ms`` (ms), starting from ``r0`` before the first pulse.

        >>> rec = KINETIC_RECEPTORS["GABA_A"]
        >>> float(rec.open_fraction(1.0, [0.0])[0]) == rec.r_inf * (1 - math.exp(-1 / rec.tau_r_ms))
        True
        """
        if not (0.0 <= r0 <= 1.0):
            raise ValueError(f"r0 must be in [0, 1], got {r0!r}")
        t = np.atleast_1d(np.asarray(t_ms, dtype=float))
        b, on = _segments(transmitter_pulses(spike_times_ms, self.Cdur_ms))
        r_b = _two_state_at_boundaries(b, on, self.alpha_per_ms_mM * self.Cmax_mM,
                                       self.beta_per_ms, r0)
        j = np.searchsorted(b, t, side="right") - 1
        d = np.where(j > 0, t - b[np.maximum(j, 0)], 0.0)
        out = np.where(on[j], self.r_inf + (r_b[j] - self.r_inf) * np.exp(-d / self.tau_r_ms),
                       r_b[j] * np.exp(-self.beta_per_ms * d))
        return out

    def mg_block(self, v_mV) -> np.ndarray:
        """Jahr-Stevens unblocked fraction at ``v_mV`` (1 without Mg)."""
        v = np.asarray(v_mV, dtype=float)
        if self.mg_mM == 0:
            return np.ones_like(v)
        return 1.0 / (1.0 + self.mg_mM / 3.57 * np.exp(-0.062 * v))

    def conductance(self, t_ms, spike_times_ms, g_max_uS: float = 1.0) -> np.ndarray:
        """Conductance ``g_max_uS * r(t)`` (µS)."""
        return g_max_uS * self.open_fraction(t_ms, spike_times_ms)

    def current(self, t_ms, spike_times_ms, v_mV, g_max_uS: float = 1.0) -> np.ndarray:
        """Synaptic current ``g B(V) (E_rev - V)`` (nA) at a clamped ``v_mV``."""
        g = self.conductance(t_ms, spike_times_ms, g_max_uS)
        return g * self.mg_block(v_mV) * (self.E_rev_mV - np.asarray(v_mV, dtype=float))


@dataclass(frozen=True)
class GABABReceptor:
    """GABA-B receptor with its G-protein cascade (see the module docstring); rates in
    1/(ms mM) (``K1``) and 1/ms, ``Kd`` in the units of ``G**n``."""

    name: str = "GABA_B"
    K1: float = 0.09
    K2: float = 0.0012
    K3: float = 0.18
    K4: float = 0.034
    Kd: float = 100.0
    n: int = 4
    E_rev_mV: float = -95.0
    Cmax_mM: float = 0.5
    Cdur_ms: float = 0.3

    def __post_init__(self) -> None:
        _finite_positive(f"GABABReceptor {self.name!r}", K1=self.K1, K2=self.K2, K3=self.K3,
                         K4=self.K4, Kd=self.Kd, Cmax_mM=self.Cmax_mM, Cdur_ms=self.Cdur_ms)
        if isinstance(self.n, bool) or int(self.n) != self.n or self.n < 1:
            raise ValueError(f"GABABReceptor: n must be a positive integer, got {self.n!r}")

    def states(self, t_ms, spike_times_ms) -> tuple[np.ndarray, np.ndarray]:
        """The exact bound-receptor fraction R and activated G-protein G at ``t_ms``.

        >>> gb = GABA_B_KINETIC
        >>> R, G = gb.states([0.3, 100.0], [0.0])
        >>> bool(R[0] > R[1] > 0 and G[1] > G[0] > 0)
        True
        """
        t = np.atleast_1d(np.asarray(t_ms, dtype=float))
        b, on = _segments(transmitter_pulses(spike_times_ms, self.Cdur_ms))
        a_on = self.K1 * self.Cmax_mM
        lam_on = a_on + self.K2
        r_inf_on = a_on / lam_on
        R_b = _two_state_at_boundaries(b, on, a_on, self.K2, 0.0)
        G_b = np.zeros(b.size)
        for j in range(1, b.size):
            d = b[j] - b[j - 1] if j > 1 else 0.0
            G_b[j] = self._g_segment(d, on[j - 1], R_b[j - 1], G_b[j - 1], r_inf_on, lam_on)
        j = np.searchsorted(b, t, side="right") - 1
        R = np.empty(t.size)
        G = np.empty(t.size)
        for q, (jj, tt) in enumerate(zip(j, t, strict=True)):
            d = tt - b[jj] if jj > 0 else 0.0
            if on[jj]:
                R[q] = r_inf_on + (R_b[jj] - r_inf_on) * math.exp(-lam_on * d)
            else:
                R[q] = R_b[jj] * math.exp(-self.K2 * d)
            G[q] = self._g_segment(d, on[jj], R_b[jj], G_b[jj], r_inf_on, lam_on)
        return R, G

    def _g_segment(self, d, is_on, R0, G0, r_inf_on, lam_on) -> float:
        a, lam = (r_inf_on, lam_on) if is_on else (0.0, self.K2)
        bb = R0 - a
        k3, k4 = self.K3, self.K4
        e4 = math.exp(-k4 * d)
        if abs(k4 - lam) > 1e-12:
            mid = k3 * bb / (k4 - lam) * (math.exp(-lam * d) - e4)
        else:  # resonant case: the limit lam -> K4
            mid = k3 * bb * d * e4
        return k3 * a / k4 * (1.0 - e4) + mid + G0 * e4

    def open_fraction(self, t_ms, spike_times_ms) -> np.ndarray:
        """The K+ channel's open fraction ``G**n / (G**n + Kd)``."""
        _, G = self.states(t_ms, spike_times_ms)
        gn = G ** self.n
        return gn / (gn + self.Kd)

    def conductance(self, t_ms, spike_times_ms, g_max_uS: float = 1.0) -> np.ndarray:
        """Conductance (µS)."""
        return g_max_uS * self.open_fraction(t_ms, spike_times_ms)


@dataclass(frozen=True)
class SaturatingNMDA:
    """Saturating NMDA gating of Brunel & Wang (2001) (see the module docstring)."""

    name: str = "NMDA_saturating"
    tau_rise_ms: float = 2.0
    tau_decay_ms: float = 100.0
    alpha_per_ms: float = 0.5
    E_rev_mV: float = 0.0
    mg_mM: float = 1.0

    def __post_init__(self) -> None:
        _finite_positive(f"SaturatingNMDA {self.name!r}", tau_rise_ms=self.tau_rise_ms,
                         tau_decay_ms=self.tau_decay_ms, alpha_per_ms=self.alpha_per_ms)

    def step(self, x: float, s: float, dt: float) -> tuple[float, float]:
        """Advance ``(x, s)`` by ``dt`` ms without spikes: x exactly, s by the exponential
        integrator with x averaged over the step.

        >>> SaturatingNMDA().step(0.0, 0.5, 100.0)[1] == 0.5 * math.exp(-1.0)
        True
        """
        decay = math.exp(-dt / self.tau_rise_ms)
        x_mean = x * self.tau_rise_ms / dt * (1.0 - decay)
        k = 1.0 / self.tau_decay_ms + self.alpha_per_ms * x_mean
        s_inf = self.alpha_per_ms * x_mean / k
        return x * decay, s_inf + (s - s_inf) * math.exp(-k * dt)

    def time_course(self, duration_ms: float, spike_times_ms, dt: float = 0.01
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(t, x, s)`` on the grid ``0, dt, ..., duration_ms`` for presynaptic spikes at
        ``spike_times_ms`` (each rounded to the grid; x jumps by 1 at it).

        >>> t, x, s = SaturatingNMDA().time_course(50.0, [0.0, 0.0])
        >>> float(x[0]), bool(0.0 < s.max() < 1.0)
        (2.0, True)
        """
        _finite_positive("time_course", duration_ms=float(duration_ms), dt=float(dt))
        n = int(round(duration_ms / dt))
        kick = np.zeros(n + 1)
        for ts in _spikes(spike_times_ms):
            k = int(round(ts / dt))
            if 0 <= k <= n:
                kick[k] += 1.0
        x = np.zeros(n + 1)
        s = np.zeros(n + 1)
        xi, si = kick[0], 0.0
        x[0], s[0] = xi, si
        for k in range(1, n + 1):
            xi, si = self.step(xi, si, dt)
            xi += kick[k]
            x[k], s[k] = xi, si
        return np.arange(n + 1) * dt, x, s

    def mg_block(self, v_mV) -> np.ndarray:
        """Jahr-Stevens unblocked fraction at ``v_mV`` (as in Brunel & Wang 2001)."""
        v = np.asarray(v_mV, dtype=float)
        return 1.0 / (1.0 + self.mg_mM / 3.57 * np.exp(-0.062 * v))


#: the two-state receptors with the constants of Destexhe, Mainen & Sejnowski (1994)
KINETIC_RECEPTORS: dict[str, KineticReceptor] = {
    "AMPA": KineticReceptor("AMPA", 1.1, 0.19, 0.0),
    "NMDA": KineticReceptor("NMDA", 0.072, 0.0066, 0.0, mg_mM=1.0),
    "GABA_A": KineticReceptor("GABA_A", 5.0, 0.18, -80.0),
}
#: GABA-B with its G-protein cascade (the module docstring's constants)
GABA_B_KINETIC = GABABReceptor()
#: Brunel & Wang (2001) saturating NMDA
NMDA_SATURATING = SaturatingNMDA()
