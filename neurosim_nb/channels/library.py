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

Not yet declared: SK/BK calcium-activated potassium, :math:`I_h`, M-current, calcium pools.

Examples
--------
>>> sorted(MECHANISMS)  # doctest: +NORMALIZE_WHITESPACE
['L', 'T', 'hh1952_k', 'hh1952_leak', 'hh1952_na', 'traub_miles_k',
 'traub_miles_leak', 'traub_miles_na']
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
from neurosim_nb.channels.mechanism import Gate, Mechanism, x_over_expm1

__all__ = ["MECHANISMS", "mechanism", "hh1952_na", "hh1952_k", "hh1952_leak",
           "traub_miles_na", "traub_miles_k", "traub_miles_leak", "l_type_ca", "t_type_ca",
           "t_type_m_inf", "t_type_h_inf", "t_type_tau_m", "t_type_tau_h"]

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


#: every declared mechanism: name -> factory (keyword options: g_max/P_max, E_rev, V_T...)
MECHANISMS: dict[str, Callable[..., Mechanism]] = {
    "hh1952_leak": hh1952_leak, "hh1952_na": hh1952_na, "hh1952_k": hh1952_k,
    "traub_miles_leak": traub_miles_leak, "traub_miles_na": traub_miles_na,
    "traub_miles_k": traub_miles_k, "L": l_type_ca, "T": t_type_ca,
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
