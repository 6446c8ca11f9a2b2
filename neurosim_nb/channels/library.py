r"""A library of declared mechanisms (:class:`~neurosim_nb.channels.mechanism.Mechanism`).

Potentials in mV, rates in 1/ms at each mechanism's reference temperature, current
densities in µA/cm², outward positive.

``hh1952`` (leak, Na, K) -- Hodgkin & Huxley (1952), *J Physiol* 117:500, modern sign
convention (rest ≈ -65 mV), :math:`T_{ref} = 6.3` °C, Q10 3: exactly the rate functions
of :mod:`neurosim_nb.core.neurons.hodgkin_huxley` (``kinetics="hh1952"``),

.. math::

    \alpha_m = \frac{0.1 (V + 40)}{1 - e^{-(V + 40)/10}}, \;
    \beta_m = 4 e^{-(V + 65)/18}, \;
    \alpha_h = 0.07 e^{-(V + 65)/20}, \;
    \beta_h = \frac{1}{1 + e^{-(V + 35)/10}}, \;
    \alpha_n = \frac{0.01 (V + 55)}{1 - e^{-(V + 55)/10}}, \;
    \beta_n = 0.125 e^{-(V + 65)/80};

:math:`I_{Na} = 120\, m^3 h (V - 50)`, :math:`I_K = 36\, n^4 (V + 77)`,
:math:`I_L = 0.3 (V + 54.387)` (mS/cm², mV).

``traub_miles`` (leak, Na, K) -- Traub & Miles (1991) as in Destexhe & Paré (1999),
Brette et al. (2007, COBAHH) and Pospischil et al. (2008): the ``traub_miles`` rate
functions of the HH model, with :math:`u = V - V_T` (:math:`V_T = -63` mV),
:math:`T_{ref} = 36` °C, Q10 3; :math:`\bar g_{Na} = 100`, :math:`\bar g_K = 30`,
:math:`g_L = 0.05` mS/cm², :math:`E_{Na} = 50`, :math:`E_K = -90`, :math:`E_L = -65` mV.

``L`` -- high-voltage-activated (L-type) calcium, :math:`m^2 h`, kinetics of Reuveni,
Friedman, Amitai & Gutnick (1993), *J Neurosci* 13:4609, as in Mainen & Sejnowski (1996)
(``ca.mod``, 23 °C, Q10 2.3):
:math:`\alpha_m = 0.055 (-27 - V)/(e^{(-27 - V)/3.8} - 1)`,
:math:`\beta_m = 0.94 e^{(-75 - V)/17}`, :math:`\alpha_h = 0.000457 e^{(-13 - V)/50}`,
:math:`\beta_h = 0.0065 / (e^{(-V - 15)/28} + 1)`; the driving force is the GHK flux
(permeability :math:`10^{-4}` cm/s, [Ca]ᵢ 100 nM, [Ca]ₒ 2 mM) instead of ``ca.mod``'s
fixed :math:`E_{Ca}`.

``T`` -- low-threshold (T-type) calcium, :math:`m^2 h`, Huguenard & McCormick (1992),
*J Neurophysiol* 68:1373 (thalamic relay cells), as implemented by Destexhe et al. (1998,
``ITGHK.mod``) without its 2 mV shift; :math:`T_{ref} = 24` °C with Q10 5 for m and 3
for h:

.. math::

    m_\infty = \frac{1}{1 + e^{-(V + 57)/6.2}}, \qquad
    h_\infty = \frac{1}{1 + e^{(V + 81)/4}},

    \tau_m = 0.612 + \frac{1}{e^{-(V + 132)/16.7} + e^{(V + 16.8)/18.2}}, \qquad
    \tau_h = \begin{cases} e^{(V + 467)/66.6} & V < -80 \\
                           28 + e^{-(V + 22)/10.5} & V \ge -80 \end{cases}

(ms; :math:`\tau_h` is piecewise and, as in the paper, not continuous at -80 mV); GHK
flux with :math:`P = 2 \cdot 10^{-4}` cm/s, [Ca]ᵢ 240 nM, [Ca]ₒ 2 mM (Destexhe's
defaults).

``M`` -- slow non-inactivating potassium (M-current), :math:`p`, of Pospischil et al.
(2008), *Biol Cybern* 99:427 (form of Yamada, Koch & Adams 1989), checked against
``IM_cortex.mod`` of ModelDB 123623 (:math:`T_{ref} = 36` °C, Q10 2.3):

.. math::

    p_\infty = \frac{1}{1 + e^{-(V + 35)/10}}, \qquad
    \tau_p = \frac{\tau_{max}}{3.3\, e^{(V + 35)/20} + e^{-(V + 35)/20}}

(ms; :math:`\tau_p(-35) = \tau_{max} / 4.3`). Defaults: the regular-spiking cell of that
ModelDB entry (``sPY_template``): :math:`\bar g_M = 0.07` mS/cm² (7·10⁻⁵ S/cm²),
:math:`\tau_{max} = 1000` ms, :math:`E_K = -100` mV (the model's ``ek``; option
``tau_max``).

``h`` -- hyperpolarisation-activated cation current :math:`I_h`, :math:`m`, Kole,
Hallermann & Stuart (2006), *J Neurosci* 26:1677, as ``Ih.mod`` of Hay et al. (2011),
*PLoS Comput Biol* 7:e1002107 (ModelDB 139653):

.. math::

    \alpha_m = \frac{0.00643 (V + 154.9)}{e^{(V + 154.9)/11.9} - 1}, \qquad
    \beta_m = 0.193\, e^{V/33.1}

(1/ms), :math:`E_h = -45` mV, no ion (a mixed Na⁺/K⁺ current with a fixed reversal);
:math:`\bar g_h = 0.2` mS/cm² (Hay's somatic 0.0002 S/cm²). ``Ih.mod`` has no temperature
factor (Hay et al. simulate at 34 °C): Q10 1, :math:`T_{ref} = 34` °C.

``SK`` -- small-conductance calcium-activated potassium, :math:`z`, Köhler et al. (1996),
*Science* 273:1709, as ``SK_E2.mod`` of Hay et al. (2011): a gate of [Ca]ᵢ (mM),

.. math::

    z_\infty = \frac{1}{1 + (0.00043 / [Ca]_i)^{4.8}}, \qquad \tau_z = 1 \text{ ms}

(half-activation at 0.43 µM; below 10⁻⁷ mM the .mod adds 10⁻⁷ mM to [Ca]ᵢ, and so does
this one); :math:`\bar g = 44.1` mS/cm² (Hay's soma), :math:`E_K = -85` mV, Q10 1 (none in
the .mod), :math:`T_{ref} = 34` °C.

``AHP`` -- slow calcium-dependent potassium :math:`I_{AHP}`, :math:`m^2`, Destexhe,
Contreras, Sejnowski & Steriade (1994), *J Neurophysiol* 72:803, ``IAHP.mod``: closed
:math:`+ 2\,Ca_i \rightleftharpoons` open with :math:`\alpha = \beta ([Ca]_i/c_{ac})^2`, so

.. math::

    m_\infty = \frac{([Ca]_i/c_{ac})^2}{1 + ([Ca]_i/c_{ac})^2}, \qquad
    \tau_m = \max\Big(\frac{1}{\beta (1 + ([Ca]_i/c_{ac})^2)\,\phi},\ 0.1 \text{ ms}\Big),

:math:`\beta = 0.03` /ms, :math:`c_{ac} = 0.025` mM, :math:`T_{ref} = 22` °C, Q10 3 (the
.mod's ``tadj``), the 0.1 ms floor applied after temperature scaling as in the .mod
(``Gate.tau_min``); :math:`\bar g = 10` mS/cm², :math:`E_K = -95` mV (the .mod's
defaults; options ``beta``, ``ca_half``).

Not declared: BK (large-conductance) potassium -- its gates depend on V *and* [Ca]ᵢ
together, and the compiled membrane tabulates 1-D functions of one variable only.

Examples
--------
>>> sorted(MECHANISMS)  # doctest: +NORMALIZE_WHITESPACE
['AHP', 'L', 'M', 'SK', 'T', 'h', 'hh1952_k', 'hh1952_leak', 'hh1952_na',
 'traub_miles_k', 'traub_miles_leak', 'traub_miles_na']
>>> [g.variable for g in mechanism("SK").gates], mechanism("SK").E_rev
(['ca'], -85.0)
>>> na = mechanism("hh1952_na")
>>> [(g.name, g.power) for g in na.gates], na.g_max, na.E_rev
([('m', 3), ('h', 1)], 120.0, 50.0)
>>> mechanism("traub_miles_na", V_T=-55.0).options
{'V_T': -55.0}
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from neurosim_nb._validation import did_you_mean, is_number
from neurosim_nb.channels.mechanism import Gate, Mechanism, _check_number, x_over_expm1

__all__ = ["MECHANISMS", "mechanism", "hh1952_na", "hh1952_k", "hh1952_leak",
           "traub_miles_na", "traub_miles_k", "traub_miles_leak", "l_type_ca", "t_type_ca",
           "t_type_m_inf", "t_type_h_inf", "t_type_tau_m", "t_type_tau_h", "m_current",
           "h_current", "sk_current", "ahp_current"]

_HH = "Hodgkin & Huxley (1952) J Physiol 117:500, modern convention"
_TM = "Traub & Miles (1991); Destexhe & Pare (1999); Brette et al. (2007) COBAHH"


# -- hh1952 -------------------------------------------------------------------------
def _hh_am(v):
    return x_over_expm1(-(v + 40.0) / 10.0)          # 0.1 (v+40) / (1 - e^(-(v+40)/10))


def _hh_bm(v):
    return 4.0 * np.exp(-(v + 65.0) / 18.0)


def _hh_ah(v):
    return 0.07 * np.exp(-(v + 65.0) / 20.0)


def _hh_bh(v):
    return 1.0 / (1.0 + np.exp(-(v + 35.0) / 10.0))


def _hh_an(v):
    return 0.1 * x_over_expm1(-(v + 55.0) / 10.0)    # 0.01 (v+55) / (1 - e^(-(v+55)/10))


def _hh_bn(v):
    return 0.125 * np.exp(-(v + 65.0) / 80.0)


def hh1952_na(g_max: float = 120.0, E_rev: float = 50.0) -> Mechanism:
    """Transient sodium of Hodgkin & Huxley (1952), :math:`m^3 h`."""
    return Mechanism("hh1952_na", "na", (Gate("m", 3, _hh_am, _hh_bm),
                                         Gate("h", 1, _hh_ah, _hh_bh)),
                     g_max=g_max, E_rev=E_rev, Q10=3.0, T_ref_C=6.3, reference=_HH)


def hh1952_k(g_max: float = 36.0, E_rev: float = -77.0) -> Mechanism:
    """Delayed-rectifier potassium of Hodgkin & Huxley (1952), :math:`n^4`."""
    return Mechanism("hh1952_k", "k", (Gate("n", 4, _hh_an, _hh_bn),),
                     g_max=g_max, E_rev=E_rev, Q10=3.0, T_ref_C=6.3, reference=_HH)


def hh1952_leak(g_max: float = 0.3, E_rev: float = -54.387) -> Mechanism:
    """The leak of the squid axon (mS/cm², mV)."""
    return Mechanism("hh1952_leak", None, (), g_max=g_max, E_rev=E_rev, T_ref_C=6.3,
                     reference=_HH)


# -- traub_miles ------------------------------------------------------------------------
def _tm_gates(V_T: float):
    def am(v):
        return 1.28 * x_over_expm1((13.0 - (v - V_T)) / 4.0)   # 0.32 (13-u)/(e^((13-u)/4)-1)

    def bm(v):
        return 1.4 * x_over_expm1(((v - V_T) - 40.0) / 5.0)    # 0.28 (u-40)/(e^((u-40)/5)-1)

    def ah(v):
        return 0.128 * np.exp((17.0 - (v - V_T)) / 18.0)

    def bh(v):
        return 4.0 / (1.0 + np.exp((40.0 - (v - V_T)) / 5.0))

    def an(v):
        return 0.16 * x_over_expm1((15.0 - (v - V_T)) / 5.0)   # 0.032 (15-u)/(e^((15-u)/5)-1)

    def bn(v):
        return 0.5 * np.exp((10.0 - (v - V_T)) / 40.0)

    return am, bm, ah, bh, an, bn


def _check_vt(V_T) -> float:
    if not is_number(V_T) or not np.isfinite(V_T):
        raise TypeError(f"V_T must be a finite number (mV), got {V_T!r}")
    return float(V_T)


def traub_miles_na(g_max: float = 100.0, E_rev: float = 50.0, V_T: float = -63.0
                   ) -> Mechanism:
    """Traub-Miles sodium, :math:`m^3 h`, rates in :math:`u = V - V_T`."""
    am, bm, ah, bh, _, _ = _tm_gates(_check_vt(V_T))
    return Mechanism("traub_miles_na", "na", (Gate("m", 3, am, bm), Gate("h", 1, ah, bh)),
                     g_max=g_max, E_rev=E_rev, Q10=3.0, T_ref_C=36.0, reference=_TM,
                     options={"V_T": float(V_T)})


def traub_miles_k(g_max: float = 30.0, E_rev: float = -90.0, V_T: float = -63.0
                  ) -> Mechanism:
    """Traub-Miles delayed-rectifier potassium, :math:`n^4`."""
    _, _, _, _, an, bn = _tm_gates(_check_vt(V_T))
    return Mechanism("traub_miles_k", "k", (Gate("n", 4, an, bn),), g_max=g_max,
                     E_rev=E_rev, Q10=3.0, T_ref_C=36.0, reference=_TM,
                     options={"V_T": float(V_T)})


def traub_miles_leak(g_max: float = 0.05, E_rev: float = -65.0) -> Mechanism:
    """The leak of the Traub-Miles cortical cell (``create_mammalian``)."""
    return Mechanism("traub_miles_leak", None, (), g_max=g_max, E_rev=E_rev, T_ref_C=36.0,
                     reference=_TM)


# -- calcium ------------------------------------------------------------------------
def _l_am(v):
    return 0.055 * 3.8 * x_over_expm1((-27.0 - v) / 3.8)  # 0.055 (-27-v)/(e^((-27-v)/3.8)-1)


def _l_bm(v):
    return 0.94 * np.exp((-75.0 - v) / 17.0)


def _l_ah(v):
    return 0.000457 * np.exp((-13.0 - v) / 50.0)


def _l_bh(v):
    return 0.0065 / (np.exp((-v - 15.0) / 28.0) + 1.0)


def l_type_ca(P_max: float = 1e-4, c_in_mM: float = 1e-4, c_out_mM: float = 2.0
              ) -> Mechanism:
    """High-voltage-activated (L-type) calcium, :math:`m^2 h`, GHK flux (see the module)."""
    return Mechanism("L", "ca", (Gate("m", 2, _l_am, _l_bm), Gate("h", 1, _l_ah, _l_bh)),
                     reversal="ghk", P_max=P_max, c_in_mM=c_in_mM, c_out_mM=c_out_mM,
                     Q10=2.3, T_ref_C=23.0,
                     reference="Reuveni et al. (1993) J Neurosci 13:4609; Mainen & "
                               "Sejnowski (1996) ca.mod")


def t_type_m_inf(v):
    """Huguenard & McCormick (1992): :math:`m_\\infty = 1 / (1 + e^{-(V + 57)/6.2})`."""
    return 1.0 / (1.0 + np.exp(-(np.asarray(v, float) + 57.0) / 6.2))


def t_type_h_inf(v):
    """Huguenard & McCormick (1992): :math:`h_\\infty = 1 / (1 + e^{(V + 81)/4})`."""
    return 1.0 / (1.0 + np.exp((np.asarray(v, float) + 81.0) / 4.0))


def t_type_tau_m(v):
    """:math:`\\tau_m` (ms, 24 °C) of Huguenard & McCormick (1992)."""
    v = np.asarray(v, float)
    return 0.612 + 1.0 / (np.exp(-(v + 132.0) / 16.7) + np.exp((v + 16.8) / 18.2))


def t_type_tau_h(v):
    """:math:`\\tau_h` (ms, 24 °C) of Huguenard & McCormick (1992), piecewise at -80 mV."""
    v = np.asarray(v, float)
    with np.errstate(over="ignore"):
        return np.where(v < -80.0, np.exp((v + 467.0) / 66.6),
                        28.0 + np.exp(-(v + 22.0) / 10.5))


def t_type_ca(P_max: float = 2e-4, c_in_mM: float = 2.4e-4, c_out_mM: float = 2.0
              ) -> Mechanism:
    """Low-threshold (T-type) calcium, :math:`m^2 h`, GHK flux (see the module)."""
    return Mechanism("T", "ca", (Gate("m", 2, x_inf=t_type_m_inf, tau=t_type_tau_m, Q10=5.0),
                                 Gate("h", 1, x_inf=t_type_h_inf, tau=t_type_tau_h,
                                      Q10=3.0)),
                     reversal="ghk", P_max=P_max, c_in_mM=c_in_mM, c_out_mM=c_out_mM,
                     Q10=3.0, T_ref_C=24.0,
                     reference="Huguenard & McCormick (1992) J Neurophysiol 68:1373; "
                               "Destexhe et al. (1998) ITGHK.mod")


# -- M-current (Pospischil et al. 2008) ------------------------------------------------
def _m_p_inf(v):
    return 1.0 / (1.0 + np.exp(-(np.asarray(v, float) + 35.0) / 10.0))


def _m_tau(tau_max: float):
    def tau(v):
        u = (np.asarray(v, float) + 35.0) / 20.0
        return tau_max / (3.3 * np.exp(u) + np.exp(-u))

    return tau


def m_current(g_max: float = 0.07, E_rev: float = -100.0, tau_max: float = 1000.0
              ) -> Mechanism:
    """Slow non-inactivating potassium (M-current), :math:`p` (see the module); ``tau_max``
    (ms) is the peak time constant's scale.

    >>> round(float(mechanism("M").gates[0].time_constant(-35.0)), 3)   # tau_max / 4.3
    232.558
    """
    tau_max = _check_number("tau_max", tau_max, positive=True)
    return Mechanism("M", "k", (Gate("p", 1, x_inf=_m_p_inf, tau=_m_tau(tau_max)),),
                     g_max=g_max, E_rev=E_rev, Q10=2.3, T_ref_C=36.0,
                     reference="Pospischil et al. (2008) Biol Cybern 99:427 (Yamada, Koch & "
                               "Adams 1989); ModelDB 123623 IM_cortex.mod",
                     options={"tau_max": tau_max})


# -- I_h (Kole et al. 2006; Hay et al. 2011) -------------------------------------------
def _ih_alpha(v):
    # 0.001 * 6.43 (v + 154.9) / (exp((v + 154.9)/11.9) - 1), continuous at -154.9 mV
    return 0.00643 * 11.9 * x_over_expm1((np.asarray(v, float) + 154.9) / 11.9)


def _ih_beta(v):
    return 0.193 * np.exp(np.asarray(v, float) / 33.1)


def h_current(g_max: float = 0.2, E_rev: float = -45.0) -> Mechanism:
    """Hyperpolarisation-activated cation current :math:`I_h`, :math:`m` (see the module).

    >>> round(float(mechanism("h").gates[0].steady_state(-90.0)), 4)
    0.1235
    """
    return Mechanism("h", None, (Gate("m", 1, _ih_alpha, _ih_beta),), g_max=g_max,
                     E_rev=E_rev, Q10=1.0, T_ref_C=34.0,
                     reference="Kole, Hallermann & Stuart (2006) J Neurosci 26:1677; Hay et "
                               "al. (2011) PLoS Comput Biol 7:e1002107, Ih.mod (ModelDB "
                               "139653)")


# -- calcium-activated potassium -------------------------------------------------------
def _sk_z_inf(ca):
    ca = np.asarray(ca, float)
    ca = np.where(ca < 1e-7, ca + 1e-7, ca)            # SK_E2.mod's guard against ca = 0
    return 1.0 / (1.0 + (0.00043 / ca) ** 4.8)


def _sk_tau(ca):
    return 1.0 + 0.0 * np.asarray(ca, float)


def sk_current(g_max: float = 44.1, E_rev: float = -85.0) -> Mechanism:
    """Small-conductance calcium-activated potassium (SK), :math:`z` of [Ca]ᵢ (see the
    module).

    >>> float(mechanism("SK").gates[0].steady_state(0.00043))
    0.5
    """
    return Mechanism("SK", "k", (Gate("z", 1, x_inf=_sk_z_inf, tau=_sk_tau, variable="ca"),),
                     g_max=g_max, E_rev=E_rev, Q10=1.0, T_ref_C=34.0,
                     reference="Kohler et al. (1996) Science 273:1709; Hay et al. (2011) "
                               "SK_E2.mod (ModelDB 139653)")


def _ahp_rates(beta: float, ca_half: float):
    def m_inf(ca):
        car = (np.asarray(ca, float) / ca_half) ** 2
        return car / (1.0 + car)

    def tau(ca):
        car = (np.asarray(ca, float) / ca_half) ** 2
        return 1.0 / (beta * (1.0 + car))

    return m_inf, tau


def ahp_current(g_max: float = 10.0, E_rev: float = -95.0, beta: float = 0.03,
                ca_half: float = 0.025) -> Mechanism:
    """Slow calcium-dependent potassium :math:`I_{AHP}` of Destexhe et al. (1994),
    :math:`m^2` of [Ca]ᵢ (see the module); ``beta`` (1/ms) is the backward rate,
    ``ca_half`` (mM) the half-activation :math:`c_{ac}`.

    >>> ahp = mechanism("AHP")
    >>> float(ahp.gates[0].steady_state(0.025)), round(float(ahp.gates[0].time_constant(0.0)), 3)
    (0.5, 33.333)
    """
    beta = _check_number("beta", beta, positive=True)
    ca_half = _check_number("ca_half", ca_half, positive=True)
    m_inf, tau = _ahp_rates(beta, ca_half)
    return Mechanism("AHP", "k", (Gate("m", 2, x_inf=m_inf, tau=tau, variable="ca",
                                       tau_min=0.1),),
                     g_max=g_max, E_rev=E_rev, Q10=3.0, T_ref_C=22.0,
                     reference="Destexhe, Contreras, Sejnowski & Steriade (1994) J "
                               "Neurophysiol 72:803, IAHP.mod",
                     options={"beta": beta, "ca_half": ca_half})


#: every declared mechanism: name -> factory (keyword options: g_max/P_max, E_rev, V_T...)
MECHANISMS: dict[str, Callable[..., Mechanism]] = {
    "hh1952_leak": hh1952_leak, "hh1952_na": hh1952_na, "hh1952_k": hh1952_k,
    "traub_miles_leak": traub_miles_leak, "traub_miles_na": traub_miles_na,
    "traub_miles_k": traub_miles_k, "L": l_type_ca, "T": t_type_ca,
    "M": m_current, "h": h_current, "SK": sk_current, "AHP": ahp_current,
}


def mechanism(name: str, **options) -> Mechanism:
    """The declared mechanism ``name`` (a key of :data:`MECHANISMS`), built with ``options``.

    >>> mechanism("hh1952_nA")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown mechanism 'hh1952_nA'; known: [...]. Did you mean 'hh1952_na'?
    """
    if not isinstance(name, str):
        raise TypeError(f"mechanism name must be a string, got {name!r}")
    if name not in MECHANISMS:
        raise ValueError(f"unknown mechanism {name!r}; known: {sorted(MECHANISMS)}."
                         f"{did_you_mean(name, MECHANISMS)}")
    return MECHANISMS[name](**options)
