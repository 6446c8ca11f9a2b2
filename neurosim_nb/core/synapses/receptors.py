r"""Receptor kinetics of chemical synapses (conductance- or current-based) and delta synapses.

A :class:`Receptor` describes what one arriving spike of weight ``w`` does to the
postsynaptic neuron. Conductance receptors (weight in µS) produce a dual-exponential
conductance normalised so that a single event peaks at ``w``,

.. math::

    g(t) = w\,f\,(e^{-t/\tau_d} - e^{-t/\tau_r}),\qquad
    f = 1/(e^{-t_p/\tau_d} - e^{-t_p/\tau_r}),\quad
    t_p = \frac{\tau_d\tau_r}{\tau_d-\tau_r}\ln\frac{\tau_d}{\tau_r},

(single exponential :math:`g = w e^{-t/\tau_d}` when ``tau_rise_ms = 0``) and the current
:math:`I = g\,B(V)\,(E_{rev} - V)` (nA), so excitation (E_rev above V) depolarises and
inhibition hyperpolarises above E_rev. NMDA adds the Jahr & Stevens (1990) Mg²⁺ block
:math:`B(V) = 1/(1 + [\mathrm{Mg}^{2+}]/3.57\,\mathrm{mM}\,e^{-0.062 V/\mathrm{mV}})`.
Current receptors (weight in nA, negative for inhibition) have the same kinetics without
the driving force; delta receptors (weight in mV) jump V at arrival (Brunel 2000).

Defaults, each value with the source it comes from (a value no paper gives is marked
as this package's choice):

======== ===== ========= ========= ======= =====================================
name     kind  rise ms   decay ms  E mV    source
======== ===== ========= ========= ======= =====================================
AMPA     g     0.2 [a]   2.0       0       decay, E: Brunel & Wang 2001; Wang 2002
NMDA     g     2.0       100.0     0       Brunel & Wang 2001; Wang 2002 [b];
                                           Mg 1 mM, block: Jahr & Stevens 1990
GABA_A   g     0.5 [a]   5.0       -70     Wang 2002 [c]
GABA_B   g     40.0 [d]  200.0 [d] -95     E_K: Destexhe, Mainen & Sejnowski 1994
exp_exc  g     0         5.0       0       Vogels & Abbott 2005 COBA (exponential)
exp_inh  g     0         10.0      -80     Vogels & Abbott 2005 COBA (exponential)
current  I     0         5.0       --      exponential current synapse
delta    dV    --        --        --      instantaneous jump of V
======== ===== ========= ========= ======= =====================================

Kinetic receptors (``kind="kinetic"``, :meth:`Receptor.kinetic`; weight = maximal
conductance, µS): a transmitter pulse of Cmax = 1 mM for Cdur = 1 ms per arriving spike,
two-state binding :math:`dr/dt = \alpha C (1 - r) - \beta r` with the rate constants of
Destexhe, Mainen & Sejnowski (1994, J Comput Neurosci 1:195); run by the compiled channels
(:data:`~neurosim_nb.core.synapses.channels.KIND_KINETIC`: the lumped Ron/Roff scheme,
each pulse from rest -- see that module):

============== ================ ========= ======= ===============
name           alpha /(ms mM)   beta /ms  E mV    Mg
============== ================ ========= ======= ===============
AMPA_kinetic   1.1              0.19      0       --
NMDA_kinetic   0.072            0.0066    0       1 mM (Jahr & Stevens 1990)
GABA_A_kinetic 5                0.18      -80     --
============== ================ ========= ======= ===============

[a] This package's choice (a sub-millisecond rise): the cited models' AMPA and GABA_A
conductances rise instantaneously. [b] The time constants of the x -> s scheme of Brunel
& Wang (2001, J Comput Neurosci 11:63), here in its linear limit (s << 1, no
saturation); the saturating scheme itself is
:class:`~neurosim_nb.core.synapses.kinetic.SaturatingNMDA`. [c] Wang (2002, Neuron
36:955) uses a 5 ms GABA_A decay and E = -70 mV. This default was once credited to Brunel
& Wang (2001), whose GABA decay is 10 ms; the value is kept (the benchmark networks'
spike counts depend on it) and the citation corrected -- ``Receptor("GABA_A", "conductance",
10.0, 0.5, -70.0)`` gives Brunel & Wang's. [d] This package's dual exponential with a slow
GABA-B-like time course (peak at 80 ms), not a published fit; the published kinetics
(G-protein cascade) are :data:`~neurosim_nb.core.synapses.kinetic.GABA_B_KINETIC`.
Destexhe, Mainen & Sejnowski's transmitter-pulse receptors (AMPA, NMDA, GABA_A with the
1994 constants) are in :mod:`neurosim_nb.core.synapses.kinetic`.

Examples
--------
>>> r = RECEPTORS["AMPA"]
>>> round(r.peak_time_ms(), 3)
0.512
>>> t = np.arange(0.0, 20.0, 0.001)
>>> round(float(r.waveform(t).max()), 6)   # a single event of weight 1 peaks at 1
1.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurosim_nb._validation import did_you_mean
from neurosim_nb.core.synapses.channels import (
    KIND_CONDUCTANCE,
    KIND_CURRENT,
    KIND_DELTA,
    KIND_KINETIC,
    N_SYN_PAR,
    SYN_DECAY,
    SYN_E_REV,
    SYN_HAS_RISE,
    SYN_KIND,
    SYN_MG,
    SYN_NORM,
    SYN_RISE,
)

KINDS = {"conductance": KIND_CONDUCTANCE, "current": KIND_CURRENT, "delta": KIND_DELTA,
         "kinetic": KIND_KINETIC}


@dataclass(frozen=True)
class Receptor:
    """Kinetics of a postsynaptic receptor channel.

    Parameters
    ----------
    name : str
        Label (a channel per distinct receptor per postsynaptic population).
    kind : {"conductance", "current", "delta"}
        Weight units: µS, nA, mV respectively.
    tau_decay_ms, tau_rise_ms : float
        Decay and rise time constants (ms); ``tau_rise_ms = 0`` is a single exponential.
    E_rev_mV : float
        Reversal potential (mV), conductance receptors only.
    mg_mM : float
        Extracellular Mg²⁺ (mM) for the Jahr-Stevens block; 0 = no block.
    alpha_per_ms_mM, beta_per_ms, Cmax_mM, Cdur_ms : float
        ``kind="kinetic"`` only (build it with :meth:`Receptor.kinetic`): the two-state
        binding of a transmitter pulse (Destexhe, Mainen & Sejnowski 1994), weight = the
        maximal conductance (µS). ``tau_rise_ms`` is then the time constant of the rise
        during a pulse, ``1/(alpha Cmax + beta)``, and ``tau_decay_ms`` the decay after it,
        ``1/beta``.
    """

    name: str
    kind: str = "conductance"
    tau_decay_ms: float = 5.0
    tau_rise_ms: float = 0.0
    E_rev_mV: float = 0.0
    mg_mM: float = 0.0
    alpha_per_ms_mM: float = 0.0
    beta_per_ms: float = 0.0
    Cmax_mM: float = 0.0
    Cdur_ms: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Receptor {self.name!r}: kind {self.kind!r} not in {list(KINDS)}")
        for field_name in ("tau_decay_ms", "tau_rise_ms", "E_rev_mV", "mg_mM"):
            if not math.isfinite(getattr(self, field_name)):
                raise ValueError(f"Receptor {self.name!r}: {field_name} must be finite")
        if self.kind != "delta" and self.tau_decay_ms <= 0:
            raise ValueError(f"Receptor {self.name!r}: tau_decay_ms must be > 0, "
                             f"got {self.tau_decay_ms}")
        if self.tau_rise_ms < 0 or (self.tau_rise_ms > 0 and self.tau_rise_ms >= self.tau_decay_ms):
            raise ValueError(f"Receptor {self.name!r}: need 0 <= tau_rise_ms < tau_decay_ms, got "
                             f"{self.tau_rise_ms} and {self.tau_decay_ms}")
        if self.mg_mM < 0:
            raise ValueError(f"Receptor {self.name!r}: mg_mM must be >= 0, got {self.mg_mM}")
        kinetic = (self.alpha_per_ms_mM, self.beta_per_ms, self.Cmax_mM, self.Cdur_ms)
        if self.kind == "kinetic":
            if not all(math.isfinite(v) and v > 0 for v in kinetic):
                raise ValueError(f"Receptor {self.name!r}: a kinetic receptor needs finite "
                                 "alpha_per_ms_mM, beta_per_ms, Cmax_mM, Cdur_ms > 0, got "
                                 f"{kinetic}")
            rates = (1.0 / (self.alpha_per_ms_mM * self.Cmax_mM + self.beta_per_ms),
                     1.0 / self.beta_per_ms)
            if not np.allclose((self.tau_rise_ms, self.tau_decay_ms), rates, rtol=1e-12):
                raise ValueError(f"Receptor {self.name!r}: build a kinetic receptor with "
                                 "Receptor.kinetic(...) (its time constants follow from the "
                                 "rates)")
        elif any(kinetic):
            raise ValueError(f"Receptor {self.name!r}: alpha_per_ms_mM, beta_per_ms, Cmax_mM "
                             "and Cdur_ms belong to kind='kinetic' receptors")

    @classmethod
    def kinetic(cls, name: str, alpha_per_ms_mM: float, beta_per_ms: float,
                E_rev_mV: float = 0.0, mg_mM: float = 0.0, Cmax_mM: float = 1.0,
                Cdur_ms: float = 1.0) -> Receptor:
        """A two-state kinetic receptor (Destexhe, Mainen & Sejnowski 1994) as a channel of
        the network engine (see the module docstring).

        >>> r = Receptor.kinetic("k", 1.1, 0.19)
        >>> r.kind, round(r.tau_rise_ms, 4), round(r.tau_decay_ms, 4)
        ('kinetic', 0.7752, 5.2632)
        """
        for k, v in (("alpha_per_ms_mM", alpha_per_ms_mM), ("beta_per_ms", beta_per_ms),
                     ("Cmax_mM", Cmax_mM), ("Cdur_ms", Cdur_ms)):
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise ValueError(f"Receptor.kinetic {name!r}: {k} must be finite and > 0, "
                                 f"got {v!r}")
        return cls(name, "kinetic", 1.0 / beta_per_ms,
                   1.0 / (alpha_per_ms_mM * Cmax_mM + beta_per_ms), E_rev_mV, mg_mM,
                   float(alpha_per_ms_mM), float(beta_per_ms), float(Cmax_mM), float(Cdur_ms))

    @property
    def r_inf(self) -> float:
        """Open fraction approached during a transmitter pulse (kinetic receptors; else 0)."""
        if self.kind != "kinetic":
            return 0.0
        a = self.alpha_per_ms_mM * self.Cmax_mM
        return a / (a + self.beta_per_ms)

    def pulse_steps(self, dt: float) -> int:
        """The transmitter pulse in whole steps of ``dt`` (0 unless kinetic); ``Cdur_ms``
        must be a multiple of dt."""
        if self.kind != "kinetic":
            return 0
        m = int(round(self.Cdur_ms / dt))
        if m < 1 or abs(m * dt - self.Cdur_ms) > 1e-9 * max(self.Cdur_ms, dt):
            raise ValueError(f"Receptor {self.name!r}: Cdur_ms ({self.Cdur_ms}) must be a "
                             f"whole number of steps of dt ({dt} ms)")
        return m

    @property
    def weight_units(self) -> str:
        """Units of a synaptic weight onto this receptor."""
        return {"conductance": "uS", "current": "nA", "delta": "mV",
                "kinetic": "uS"}[self.kind]

    def peak_time_ms(self) -> float:
        """Time of the peak of a single event (ms); 0 for a single exponential, the end of
        the pulse for a kinetic receptor."""
        if self.kind == "kinetic":
            return self.Cdur_ms
        if self.tau_rise_ms == 0:
            return 0.0
        td, tr = self.tau_decay_ms, self.tau_rise_ms
        return td * tr / (td - tr) * math.log(td / tr)

    def norm(self) -> float:
        """Factor making a single event of weight 1 peak at exactly 1 (1 for a single
        exponential and for a kinetic receptor, whose weight is its maximal conductance)."""
        if self.tau_rise_ms == 0 or self.kind == "kinetic":
            return 1.0
        tp = self.peak_time_ms()
        return 1.0 / (math.exp(-tp / self.tau_decay_ms) - math.exp(-tp / self.tau_rise_ms))

    def waveform(self, t_ms) -> np.ndarray:
        """Conductance (or current) of one event of weight 1 at time 0, at times ``t_ms``
        (a kinetic receptor: the open fraction of a pulse from rest, peak ``r_inf (1 -
        exp(-Cdur/tau_rise))``)."""
        t = np.asarray(t_ms, dtype=float)
        if self.kind == "kinetic":
            r1 = self.r_inf * (1.0 - math.exp(-self.Cdur_ms / self.tau_rise_ms))
            during = self.r_inf * (1.0 - np.exp(-np.maximum(t, 0.0) / self.tau_rise_ms))
            after = r1 * np.exp(-np.maximum(t - self.Cdur_ms, 0.0) / self.tau_decay_ms)
            return np.where(t < 0, 0.0, np.where(t <= self.Cdur_ms, during, after))
        rise = 0.0 if self.tau_rise_ms == 0 else np.exp(-t / self.tau_rise_ms)
        return np.where(t >= 0, self.norm() * (np.exp(-t / self.tau_decay_ms) - rise), 0.0)

    def mg_block(self, v_mV) -> np.ndarray:
        """Jahr-Stevens fraction of unblocked channels at ``v_mV`` (1 without Mg)."""
        v = np.asarray(v_mV, dtype=float)
        if self.mg_mM == 0:
            return np.ones_like(v)
        return 1.0 / (1.0 + self.mg_mM / 3.57 * np.exp(-0.062 * v))

    def channel_parameters(self, dt: float) -> np.ndarray:
        """The row of ``syn_par`` the kernels read (columns ``SYN_*`` of
        :mod:`neurosim_nb.core.synapses.channels`)."""
        out = np.zeros(N_SYN_PAR)
        out[SYN_KIND] = KINDS[self.kind]
        if self.kind == "kinetic":  # see KIND_KINETIC in channels
            out[SYN_DECAY] = math.exp(-dt / self.tau_decay_ms)
            out[SYN_RISE] = math.exp(-dt / self.tau_rise_ms)
            out[SYN_E_REV] = self.E_rev_mV
            out[SYN_MG] = self.mg_mM
            out[SYN_NORM] = self.r_inf
            out[SYN_HAS_RISE] = self.pulse_steps(dt)
        elif self.kind != "delta":
            out[SYN_DECAY] = math.exp(-dt / self.tau_decay_ms)
            out[SYN_RISE] = math.exp(-dt / self.tau_rise_ms) if self.tau_rise_ms > 0 else 0.0
            out[SYN_E_REV] = self.E_rev_mV
            out[SYN_MG] = self.mg_mM
            out[SYN_NORM] = self.norm()
            out[SYN_HAS_RISE] = 1.0 if self.tau_rise_ms > 0 else 0.0
        return out


RECEPTORS: dict[str, Receptor] = {
    "AMPA": Receptor("AMPA", "conductance", 2.0, 0.2, 0.0),
    "NMDA": Receptor("NMDA", "conductance", 100.0, 2.0, 0.0, mg_mM=1.0),
    "GABA_A": Receptor("GABA_A", "conductance", 5.0, 0.5, -70.0),
    "GABA_B": Receptor("GABA_B", "conductance", 200.0, 40.0, -95.0),
    "exp_exc": Receptor("exp_exc", "conductance", 5.0, 0.0, 0.0),
    "exp_inh": Receptor("exp_inh", "conductance", 10.0, 0.0, -80.0),
    "current": Receptor("current", "current", 5.0, 0.0, 0.0),
    "delta": Receptor("delta", "delta", 0.0, 0.0, 0.0),
    "AMPA_kinetic": Receptor.kinetic("AMPA_kinetic", 1.1, 0.19, 0.0),
    "NMDA_kinetic": Receptor.kinetic("NMDA_kinetic", 0.072, 0.0066, 0.0, mg_mM=1.0),
    "GABA_A_kinetic": Receptor.kinetic("GABA_A_kinetic", 5.0, 0.18, -80.0),
}


def get_receptor(receptor: str | Receptor) -> Receptor:
    """A :class:`Receptor` from a name of :data:`RECEPTORS` or the object itself."""
    if isinstance(receptor, Receptor):
        return receptor
    if receptor in RECEPTORS:
        return RECEPTORS[receptor]
    raise ValueError(f"unknown receptor {receptor!r}; choose from {list(RECEPTORS)} or pass a "
                     f"Receptor(...).{did_you_mean(receptor, RECEPTORS)}")
