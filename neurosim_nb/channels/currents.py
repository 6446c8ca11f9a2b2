r"""The seed's plain current functions: steady-state I-V curves and gate curves.

``LeakCur``, ``NaCur``, ``KCur``, ``CaCur`` of the seed document. Each function evaluates a
declared mechanism (:mod:`neurosim_nb.channels.library`) over a voltage grid and returns a
named :class:`xarray.DataArray` over a ``V`` coordinate (mV) with ``units`` and
``long_name``: the current density (µA/cm², outward positive) with every gate at its
steady state :math:`x_\infty(V)` -- the steady-state I-V curve -- or the gate curves.

Any declared mechanism gives its steady-state I-V curve through :func:`channel_current`
(e.g. ``channel_current("h", V)`` for :math:`I_h`, ``channel_current("M", V)``); the
calcium-activated potassium currents (SK, AHP) through :func:`calcium_activated_current`,
over V and, for an array of [Ca]ᵢ, over a ``Ca_i`` coordinate (mM) as well. The gate
curves of a calcium-dependent gate are over ``Ca_i``: ``steady_state_gates("SK",
ca_mM=...)``.

These functions do not integrate anything; the compiled membrane (``HodgkinHuxleyNeuron``)
keeps its own kernel until mechanisms are compiled into one.

Examples
--------
>>> import numpy as np
>>> i_na = sodium_current(np.linspace(-100, 50, 151), model="hh1952", temperature_C=6.3)
>>> i_na.name, i_na.attrs["units"], i_na.sizes["V"]
('I_Na', 'uA/cm2', 151)
>>> round(float(i_na.sel(V=-40.0)), 4)
-68.3614
>>> round(float(leak_current(-65.0).item()), 4)               # 0.3 (V + 54.387)
-3.1839
>>> round(float(potassium_current(0.0, model="traub_miles").item()), 3)
1937.382
>>> round(float(calcium_current(-40.0, model="T").item()), 5)
-0.00787
>>> steady_state_gates("hh1952_k", [-65.0, -55.0]).round(4).values
array([[0.3177, 0.4755]])
>>> sk = calcium_activated_current([-85.0, -45.0], [1e-4, 4.3e-4], model="SK")
>>> sk.dims, sk.sel(Ca_i=4.3e-4).values.round(3).tolist()     # half open at 0.43 uM
(('Ca_i', 'V'), [0.0, 882.0])
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurosim_nb._validation import is_number
from neurosim_nb.channels.library import mechanism
from neurosim_nb.channels.mechanism import Mechanism, check_concentrations, check_potentials

__all__ = ["leak_current", "sodium_current", "potassium_current", "calcium_current",
           "channel_current", "calcium_activated_current", "steady_state_gates",
           "gate_time_constants"]

_ION_NAMES = {"na": "sodium", "k": "potassium", "ca": "calcium", None: "leak"}


#: model name -> library name, per ion (None: leak)
_MODELS = {
    None: {"hh1952": "hh1952_leak", "traub_miles": "traub_miles_leak"},
    "na": {"hh1952": "hh1952_na", "traub_miles": "traub_miles_na"},
    "k": {"hh1952": "hh1952_k", "traub_miles": "traub_miles_k", "M": "M"},
    "ca": {"L": "L", "T": "T"},
}


def _resolve(model, ion, **options) -> Mechanism:
    """The mechanism: a :class:`Mechanism` of ``ion`` as given, or the library's
    ``model`` built with the options that are not ``None``."""
    options = {k: v for k, v in options.items() if v is not None}
    if isinstance(model, Mechanism):
        if model.ion != ion:
            raise ValueError(f"mechanism {model.name!r} carries {model.ion!r}, not {ion!r}")
        if ion is None and model.gates:
            raise ValueError(f"mechanism {model.name!r} is gated, not a leak; use "
                             f"channel_current")
        if options:
            raise TypeError(f"options {sorted(options)} apply to a model name; change the "
                            f"Mechanism itself instead")
        return model
    if not isinstance(model, str):
        raise TypeError(f"model must be a name or a Mechanism, got {model!r}")
    names = sorted(_MODELS[ion])
    if model not in names:
        raise ValueError(f"unknown {_ION_NAMES[ion]} model {model!r}; known: {names}")
    for key, value in options.items():
        if not is_number(value):
            raise TypeError(f"{key} must be a real number, got {type(value).__name__} "
                            f"{value!r}")
    try:
        return mechanism(_MODELS[ion][model], **options)
    except TypeError as err:  # an option this model does not take (e.g. V_T for hh1952)
        raise TypeError(f"{model!r} {_ION_NAMES[ion]} model: {err}") from None


def _temperature(mech: Mechanism, temperature_C) -> float:
    if temperature_C is None:
        return mech.T_ref_C
    if not is_number(temperature_C) or not np.isfinite(temperature_C):
        raise TypeError(f"temperature_C must be a finite number (degC), got "
                        f"{temperature_C!r}")
    return float(temperature_C)


def _iv(mech: Mechanism, V_mV, temperature_C, symbol: str) -> xr.DataArray:
    v = check_potentials(V_mV)
    t = _temperature(mech, temperature_C)
    i = mech.current_density(v, t)
    attrs = {"units": "uA/cm2",
             "long_name": f"{_ION_NAMES[mech.ion]} current density ({mech.name}, gates at "
                          f"steady state, outward positive)",
             "mechanism": mech.name, "temperature_C": t, "reference": mech.reference}
    return xr.DataArray(i, dims=("V",), coords={"V": _v_coord(v)}, name=symbol, attrs=attrs)


def _v_coord(v) -> xr.Variable:
    return xr.Variable(("V",), v, attrs={"units": "mV", "long_name": "membrane potential"})


def _ca_coord(ca) -> xr.Variable:
    dims = ("Ca_i",) if np.ndim(ca) else ()
    return xr.Variable(dims, ca, attrs={"units": "mM", "long_name": "intracellular calcium "
                                                                     "concentration"})


def leak_current(V_mV, model="hh1952", *, g_max: float | None = None,
                 E_rev: float | None = None) -> xr.DataArray:
    r"""Leak current density :math:`g_L (V - E_L)` (µA/cm²) over ``V_mV`` (mV).

    ``model``: ``"hh1952"`` (0.3 mS/cm², -54.387 mV) or ``"traub_miles"`` (0.05 mS/cm²,
    -65 mV), or a leak :class:`Mechanism`; ``g_max`` (mS/cm², >= 0) and ``E_rev`` (mV)
    override the model's.

    >>> leak_current([-70.0, -60.0], g_max=0.1, E_rev=-70.0).values
    array([0., 1.])
    """
    return _iv(_resolve(model, None, g_max=g_max, E_rev=E_rev), V_mV, None, "I_L")


def sodium_current(V_mV, model="hh1952", *, g_max: float | None = None,
                   E_rev: float | None = None, V_T: float | None = None,
                   temperature_C: float | None = None) -> xr.DataArray:
    r"""Steady-state sodium current density :math:`\bar g_{Na} m_\infty^3 h_\infty (V -
    E_{Na})` (µA/cm²) over ``V_mV`` (mV).

    ``model``: ``"hh1952"`` or ``"traub_miles"`` (which takes ``V_T``, mV), or a sodium
    :class:`Mechanism`. ``temperature_C`` (default: the model's reference) scales the rates
    only, so it leaves the steady state unchanged; it is recorded in the attrs.

    >>> float(sodium_current(50.0).item())          # at E_Na
    0.0
    >>> sodium_current(-60.0, model="hh1953")
    Traceback (most recent call last):
    ...
    ValueError: unknown sodium model 'hh1953'; known: ['hh1952', 'traub_miles']
    """
    mech = _resolve(model, "na", g_max=g_max, E_rev=E_rev, V_T=V_T)
    return _iv(mech, V_mV, temperature_C, "I_Na")


def potassium_current(V_mV, model="hh1952", *, g_max: float | None = None,
                      E_rev: float | None = None, V_T: float | None = None,
                      temperature_C: float | None = None) -> xr.DataArray:
    r"""Steady-state potassium current density over ``V_mV`` (mV): the delayed rectifier
    :math:`\bar g_K n_\infty^4 (V - E_K)` (µA/cm²) of ``"hh1952"`` or ``"traub_miles"``, or
    the M-current :math:`\bar g_M p_\infty (V - E_K)` of ``model="M"`` (Pospischil et al.
    2008); arguments as :func:`sodium_current`. The calcium-activated potassium currents
    need [Ca]ᵢ: :func:`calcium_activated_current`.

    >>> potassium_current(-65.0, g_max=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: hh1952_k.g_max must be >= 0, got -1.0
    """
    mech = _resolve(model, "k", g_max=g_max, E_rev=E_rev, V_T=V_T)
    return _iv(mech, V_mV, temperature_C, "I_K")


def calcium_current(V_mV, model="T", *, P_max: float | None = None,
                    c_in_mM: float | None = None, c_out_mM: float | None = None,
                    temperature_C: float | None = None) -> xr.DataArray:
    r"""Steady-state calcium current density :math:`\bar P m_\infty^2 h_\infty
    \Phi_{GHK}(V)` (µA/cm²) over ``V_mV`` (mV).

    ``model``: ``"T"`` (low-threshold, Huguenard & McCormick 1992) or ``"L"``
    (high-voltage-activated, Reuveni et al. 1993), or a calcium :class:`Mechanism`;
    ``P_max`` (cm/s), ``c_in_mM``, ``c_out_mM`` override the model's. The GHK flux depends
    on ``temperature_C`` (default: the model's reference temperature).

    >>> i = calcium_current(np.linspace(-100, 20, 5), model="L", temperature_C=36.0)
    >>> bool(np.all(i.values <= 0))                    # inward everywhere below E_Ca
    True
    """
    mech = _resolve(model, "ca", P_max=P_max, c_in_mM=c_in_mM, c_out_mM=c_out_mM)
    return _iv(mech, V_mV, temperature_C, "I_Ca")


def _gate_mechanism(mech) -> Mechanism:
    if isinstance(mech, str):
        return mechanism(mech)
    if not isinstance(mech, Mechanism):
        raise TypeError(f"mechanism must be a Mechanism or a name in MECHANISMS, got "
                        f"{mech!r}")
    return mech


def _description(mech: Mechanism) -> str:
    if mech.ion is None and mech.gates:
        return "nonspecific cation"
    return _ION_NAMES[mech.ion]


def _channel_iv(mech: Mechanism, V_mV, ca_mM, temperature_C, name: str) -> xr.DataArray:
    v = check_potentials(V_mV)
    t = _temperature(mech, temperature_C)
    attrs = {"units": "uA/cm2",
             "long_name": f"{_description(mech)} current density ({mech.name}, gates at "
                          f"steady state, outward positive)",
             "mechanism": mech.name, "temperature_C": t, "reference": mech.reference}
    if ca_mM is None:
        return xr.DataArray(mech.current_density(v, t), dims=("V",),
                            coords={"V": _v_coord(v)}, name=name, attrs=attrs)
    if not mech.calcium_gated:
        raise ValueError(f"mechanism {mech.name!r} has no calcium-dependent gate; ca_mM does "
                         f"not apply")
    ca = check_concentrations(ca_mM)
    rows = np.array([mech.current_density(v, t, ca_mM=c) for c in ca])
    if np.ndim(ca_mM) == 0:
        return xr.DataArray(rows[0], dims=("V",),
                            coords={"V": _v_coord(v), "Ca_i": _ca_coord(ca[0])}, name=name,
                            attrs=attrs)
    return xr.DataArray(rows, dims=("Ca_i", "V"), coords={"Ca_i": _ca_coord(ca),
                                                          "V": _v_coord(v)},
                        name=name, attrs=attrs)


def channel_current(mechanism, V_mV, *, ca_mM=None, temperature_C: float | None = None
                    ) -> xr.DataArray:
    r"""Steady-state current density :math:`\bar g \prod_k x_{k,\infty}^{p_k} (V - E)` (or
    the GHK form) of any declared mechanism over ``V_mV`` (mV), named ``I_<mechanism>``.

    Parameters
    ----------
    mechanism : Mechanism or str
        A :class:`Mechanism` or a name in :data:`MECHANISMS` (e.g. ``"h"``, ``"M"``,
        ``"SK"``).
    V_mV : float or 1-D array
        Membrane potentials (mV).
    ca_mM : float or 1-D array, optional
        [Ca]ᵢ (mM, >= 0) for a mechanism with calcium-dependent gates (required there, refused
        elsewhere). A number gives dims ``("V",)`` with a scalar ``Ca_i`` coordinate; an array
        gives dims ``("Ca_i", "V")``.
    temperature_C : float, optional
        Temperature (°C; default: the mechanism's reference); it changes only a GHK or
        Nernst driving force, never a steady state.

    Returns
    -------
    xarray.DataArray
        Current density (µA/cm², outward positive) with ``units``, ``long_name``,
        ``mechanism``, ``temperature_C`` and ``reference`` attrs.

    Examples
    --------
    >>> i_h = channel_current("h", [-100.0, -45.0])
    >>> i_h.name, i_h.values.round(4).tolist()          # inward below E_h = -45 mV
    ('I_h', [-3.005, 0.0])
    """
    mech = _gate_mechanism(mechanism)
    return _channel_iv(mech, V_mV, ca_mM, temperature_C, f"I_{mech.name}")


#: calcium-activated potassium models of :func:`calcium_activated_current`
_KCA_MODELS = ("AHP", "SK")


def calcium_activated_current(V_mV, ca_mM, model="SK", *, g_max: float | None = None,
                              E_rev: float | None = None,
                              temperature_C: float | None = None) -> xr.DataArray:
    r"""Steady-state calcium-activated potassium current density
    :math:`\bar g\, x_\infty([Ca]_i)^p (V - E_K)` (µA/cm²) over ``V_mV`` (mV) and
    ``ca_mM`` ([Ca]ᵢ, mM).

    ``model``: ``"SK"`` (Hay et al. 2011 ``SK_E2``, :math:`z`, half-activated at 0.43 µM)
    or ``"AHP"`` (Destexhe et al. 1994, :math:`m^2`, half-activated at 25 µM), or a
    calcium-gated potassium :class:`Mechanism`; ``g_max`` (mS/cm²) and ``E_rev`` (mV)
    override the model's. A number ``ca_mM`` gives dims ``("V",)``, an array
    ``("Ca_i", "V")``: one I-V curve per concentration.

    >>> i = calcium_activated_current(-45.0, [0.0, 0.025], model="AHP", g_max=1.0)
    >>> i.values.ravel().round(3).tolist()              # m_inf^2 (V - E_K), m_inf = 0, 1/2
    [0.0, 12.5]
    >>> calcium_activated_current(-45.0, 1e-4, model="M")
    Traceback (most recent call last):
    ...
    ValueError: unknown calcium-activated potassium model 'M'; known: ['AHP', 'SK']
    """
    if isinstance(model, Mechanism):
        if model.ion != "k" or not model.calcium_gated:
            raise ValueError(f"mechanism {model.name!r} is not a calcium-activated potassium "
                             f"channel (ion 'k' with a gate of [Ca]i)")
        if g_max is not None or E_rev is not None:
            raise TypeError("options ['E_rev', 'g_max'] apply to a model name; change the "
                            "Mechanism itself instead")
        mech = model
    elif isinstance(model, str):
        if model not in _KCA_MODELS:
            raise ValueError(f"unknown calcium-activated potassium model {model!r}; known: "
                             f"{list(_KCA_MODELS)}")
        options = {k: v for k, v in (("g_max", g_max), ("E_rev", E_rev)) if v is not None}
        for key, value in options.items():
            if not is_number(value):
                raise TypeError(f"{key} must be a real number, got {type(value).__name__} "
                                f"{value!r}")
        mech = mechanism(model, **options)
    else:
        raise TypeError(f"model must be a name or a Mechanism, got {model!r}")
    if ca_mM is None:
        raise ValueError("ca_mM ([Ca]i, mM) is required for a calcium-activated current")
    return _channel_iv(mech, V_mV, ca_mM, temperature_C, "I_KCa")


def _gate_axis(mech: Mechanism, V_mV, ca_mM):
    """The gates evaluated, their variable values and the coordinate: over V for the
    voltage gates or over Ca_i for the calcium gates (exactly one of the two)."""
    if (V_mV is None) == (ca_mM is None):
        raise TypeError("give exactly one of V_mV (mV, for the voltage-dependent gates) and "
                        "ca_mM (mM, for the calcium-dependent gates)")
    variable = "v" if ca_mM is None else "ca"
    gates = [g for g in mech.gates if g.variable == variable]
    if not gates:
        other = "ca_mM" if variable == "v" else "V_mV"
        kind = "voltage" if variable == "v" else "calcium"
        raise ValueError(f"mechanism {mech.name!r} has no {kind}-dependent gate; give "
                         f"{other} instead")
    if variable == "v":
        x = check_potentials(V_mV)
        return gates, x, "V", _v_coord(x)
    x = check_concentrations(ca_mM)
    return gates, x, "Ca_i", _ca_coord(x)


def steady_state_gates(mechanism, V_mV=None, *, ca_mM=None) -> xr.DataArray:
    r"""Steady states :math:`x_\infty` of the gates of ``mechanism`` (a :class:`Mechanism`
    or a name in :data:`MECHANISMS`), dimensionless: of its voltage-dependent gates over
    ``V_mV`` (mV; dims ``(gate, V)``), or of its calcium-dependent gates over ``ca_mM``
    ([Ca]ᵢ, mM; dims ``(gate, Ca_i)``). Give exactly one of the two.

    >>> g = steady_state_gates("T", [-81.0, -57.0])
    >>> g.gate.values.tolist(), g.sel(gate="m").round(3).values.tolist()
    (['m', 'h'], [0.02, 0.5])
    >>> steady_state_gates("SK", ca_mM=[4.3e-4]).round(3).values.tolist()
    [[0.5]]
    """
    mech = _gate_mechanism(mechanism)
    gates, x, dim, coord = _gate_axis(mech, V_mV, ca_mM)
    data = np.array([g.steady_state(x) for g in gates]).reshape(len(gates), x.size)
    return xr.DataArray(data, dims=("gate", dim),
                        coords={"gate": [g.name for g in gates], dim: coord},
                        name="x_inf",
                        attrs={"units": "1", "long_name": f"steady-state gate values "
                                                          f"({mech.name})",
                               "mechanism": mech.name})


def gate_time_constants(mechanism, V_mV=None, temperature_C: float | None = None, *,
                        ca_mM=None) -> xr.DataArray:
    r"""Time constants :math:`\tau_x` (ms) of the gates of ``mechanism`` at
    ``temperature_C`` (default: its reference temperature; rates scale by each gate's
    :math:`Q_{10}^{(T - T_{ref})/10}`, then a gate's ``tau_min`` floors them): over
    ``V_mV`` (dims ``(gate, V)``) for the voltage-dependent gates or over ``ca_mM``
    (dims ``(gate, Ca_i)``) for the calcium-dependent ones.

    >>> round(float(gate_time_constants("hh1952_k", -65.0, 16.3).sel(gate="n").item()), 4)
    1.8195
    >>> round(float(gate_time_constants("AHP", temperature_C=32.0, ca_mM=0.0).item()), 4)
    11.1111
    """
    mech = _gate_mechanism(mechanism)
    gates, x, dim, coord = _gate_axis(mech, V_mV, ca_mM)
    t = _temperature(mech, temperature_C)
    data = np.array([g.time_constant(x, mech.rate_factor(t, g)) for g in gates])
    return xr.DataArray(data.reshape(len(gates), x.size), dims=("gate", dim),
                        coords={"gate": [g.name for g in gates], dim: coord},
                        name="tau",
                        attrs={"units": "ms", "long_name": f"gate time constants "
                                                           f"({mech.name})",
                               "mechanism": mech.name, "temperature_C": t})
