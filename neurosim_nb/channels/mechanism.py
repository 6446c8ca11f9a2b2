r"""Declared ion-channel mechanisms: gates, temperature scaling, reversal and driving force.

A :class:`Mechanism` is a declaration, not a compiled kernel: its gates (each with
:math:`\alpha/\beta` rate functions or :math:`x_\infty/\tau`, and an exponent), a Q10
relative to a reference temperature, a maximal conductance density (mS/cm²) or, for a
Goldman-Hodgkin-Katz channel, a maximal permeability (cm/s), the ion, and how the
reversal is found (fixed, Nernst, or the GHK flux). The current density, outward
positive, in µA/cm² (mS/cm² · mV = µA/cm²), is

.. math::

    I = \bar g \prod_k x_k^{p_k} (V - E) \quad\text{(ohmic)}, \qquad
    I = \bar P \prod_k x_k^{p_k}\, \Phi_{GHK}(V) \quad\text{(GHK)}.

Rate functions are plain vectorised numpy functions of the gate's ``variable``: the
membrane potential :math:`V` in mV (``"v"``, the default) or the intracellular calcium
concentration :math:`[Ca]_i` in mM (``"ca"``: SK and AHP potassium channels), given at the
reference temperature :math:`T_{ref}`; at temperature :math:`T` every rate is multiplied
by :math:`\phi = Q_{10}^{(T - T_{ref})/10}` (so :math:`\tau` is divided by it and
:math:`x_\infty` is unchanged). A gate may carry its own Q10, and a floor ``tau_min``
(ms) applied to :math:`\tau / \phi`, like the ``taumin`` of many NEURON .mod files.

The compiled membrane tabulates every gate's :math:`x_\infty` and :math:`\tau` over
:func:`rate_grid` of its variable (V in [-150, 100] mV, [Ca]ᵢ in [1e-6, 10] mM), like
NEURON's ``TABLE``; a :class:`Mechanism` therefore checks, when it is declared, that every
rate is finite there, that :math:`0 \le x_\infty \le 1`, :math:`\tau > 0` and
:math:`\alpha, \beta \ge 0` (:meth:`Mechanism.check_rates`).

Examples
--------
>>> round(nernst_potential(1, 140.0, 5.0, 37.0), 3)   # K+: 140 mM in, 5 mM out, 37 degC
-89.059
>>> float(x_over_expm1(0.0)), round(float(x_over_expm1(1e-9)), 6)   # continuous at 0
(1.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from neurosim_nb._validation import _holds_bool, is_number

__all__ = ["CA_RANGE_MM", "FARADAY", "GAS_CONSTANT", "GATE_VARIABLES", "ION_VALENCE", "Gate",
           "Mechanism", "V_RANGE_MV", "check_concentrations", "check_potentials",
           "ghk_current_density", "nernst_potential", "rate_grid", "x_over_expm1"]

#: Faraday constant (C/mol), CODATA 2018 (exact since the 2019 SI).
FARADAY = 96485.33212
#: molar gas constant (J/(mol K)), exact since the 2019 SI.
GAS_CONSTANT = 8.314462618
#: 0 degC in kelvin
ZERO_CELSIUS = 273.15
#: the valence of each ion a mechanism may carry (``None``: a leak of mixed ions)
ION_VALENCE = {"na": 1, "k": 1, "ca": 2, "cl": -1}
#: what a gate's rate functions may depend on: name -> (quantity, unit)
GATE_VARIABLES = {"v": ("membrane potential V", "mV"),
                  "ca": ("intracellular calcium concentration [Ca]i", "mM")}
#: the range of V (mV) over which rates are checked and tabulated
V_RANGE_MV = (-150.0, 100.0)
#: the range of [Ca]i (mM) over which calcium-dependent rates are checked and tabulated
CA_RANGE_MM = (1e-6, 10.0)


def rate_grid(variable: str) -> np.ndarray:
    """The grid on which a gate's rates are checked: V every 0.1 mV over
    :data:`V_RANGE_MV` (``"v"``), or [Ca]ᵢ at 100 points per decade over
    :data:`CA_RANGE_MM` (``"ca"``).

    >>> g = rate_grid("ca")
    >>> float(g[0]), float(g[-1]), g.size
    (1e-06, 10.0, 701)
    >>> rate_grid("V")
    Traceback (most recent call last):
    ...
    ValueError: variable must be one of ['ca', 'v'], got 'V'
    """
    if variable == "v":
        return np.linspace(V_RANGE_MV[0], V_RANGE_MV[1], 2501)
    if variable == "ca":
        return np.logspace(np.log10(CA_RANGE_MM[0]), np.log10(CA_RANGE_MM[1]), 701)
    raise ValueError(f"variable must be one of {sorted(GATE_VARIABLES)}, got {variable!r}")


def x_over_expm1(x):
    r""":math:`x / (e^x - 1)`, vectorised, continuous through its removable singularity.

    ``expm1`` keeps the quotient accurate to a few ulp for every :math:`x \ne 0`, and the
    limit 1 is returned at :math:`x = 0` exactly; large positive :math:`x` gives 0, large
    negative :math:`x` gives :math:`-x`. Every "linoid" rate such as
    :math:`0.1 (V + 40) / (1 - e^{-(V + 40)/10})` is a multiple of this function.

    >>> x_over_expm1(np.array([-1e-12, 0.0, 1e-12])).round(12)
    array([1., 1., 1.])
    """
    x = np.asarray(x, dtype=float)
    zero = x == 0.0
    safe = np.where(zero, 1.0, x)
    with np.errstate(over="ignore"):
        return np.where(zero, 1.0, safe / np.expm1(safe))


def _check_number(name: str, value, *, positive: bool = False, nonneg: bool = False):
    if not is_number(value):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} "
                        f"{value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and value <= 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if nonneg and value < 0.0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def check_potentials(V_mV, name: str = "V_mV") -> np.ndarray:
    """``V_mV`` as a 1-D float array of finite potentials (a number gives one element).

    Raises :class:`TypeError` for booleans or non-numbers, :class:`ValueError` for NaN,
    infinities, an empty or a more than 1-D array.

    >>> check_potentials(-65)
    array([-65.])
    >>> check_potentials([True, False])
    Traceback (most recent call last):
    ...
    TypeError: V_mV must be potentials in mV, not booleans
    """
    return _check_array(V_mV, name, "potentials", "mV")


def check_concentrations(c_mM, name: str = "ca_mM") -> np.ndarray:
    """``c_mM`` as a 1-D float array of finite, non-negative concentrations (mM).

    Raises :class:`TypeError` for booleans or non-numbers, :class:`ValueError` for NaN,
    infinities, negative values, an empty or a more than 1-D array.

    >>> check_concentrations(1e-4)
    array([0.0001])
    >>> check_concentrations([1e-4, -1e-4])
    Traceback (most recent call last):
    ...
    ValueError: ca_mM must be concentrations >= 0 (mM), got a minimum of -0.0001
    """
    arr = _check_array(c_mM, name, "concentrations", "mM")
    if np.any(arr < 0.0):
        raise ValueError(f"{name} must be concentrations >= 0 (mM), got a minimum of "
                         f"{arr.min():g}")
    return arr


def _check_array(values, name: str, what: str, unit: str) -> np.ndarray:
    """``values`` as a 1-D float array of finite numbers, booleans refused; the messages
    say ``what`` they must be, in ``unit``."""
    if isinstance(values, bool | np.bool_) or (isinstance(values, list | tuple)
                                               and _holds_bool(values)):
        raise TypeError(f"{name} must be {what} in {unit}, not booleans")
    arr = np.asarray(values)
    if arr.dtype == bool or (arr.dtype == object and any(isinstance(v, bool | np.bool_)
                                                         for v in arr.ravel())):
        raise TypeError(f"{name} must be {what} in {unit}, not booleans")
    try:
        arr = np.atleast_1d(arr.astype(float))
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numbers ({unit}), got {values!r}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a number or a non-empty 1-D array ({unit})")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite {what} ({unit}); got NaN or infinity")
    return arr


def _check_valence(z) -> int:
    if isinstance(z, bool) or not isinstance(z, int | np.integer) or z == 0:
        raise TypeError(f"z must be a non-zero integer valence, got {z!r}")
    return int(z)


def _rt_over_f_mV(temperature_C) -> float:
    """RT/F (mV) at ``temperature_C``, which must be a number above absolute zero."""
    t = _check_number("temperature_C", temperature_C)
    if t <= -ZERO_CELSIUS:
        raise ValueError(f"temperature_C must be above absolute zero, got {t!r}")
    return GAS_CONSTANT * (t + ZERO_CELSIUS) / FARADAY * 1e3


def nernst_potential(z: int, c_in_mM: float, c_out_mM: float, temperature_C: float) -> float:
    r"""Nernst reversal potential (mV): :math:`E = \frac{RT}{zF} \ln(c_{out} / c_{in})`.

    Parameters
    ----------
    z : int
        Valence of the ion (non-zero), e.g. 1 for Na⁺/K⁺, 2 for Ca²⁺, -1 for Cl⁻.
    c_in_mM, c_out_mM : float
        Intra- and extracellular concentrations (mM, > 0).
    temperature_C : float
        Temperature (°C).

    Examples
    --------
    >>> round(nernst_potential(1, 400.0, 20.0, 6.3), 2)    # squid axon K+ (mM)
    -72.14
    >>> round(nernst_potential(2, 1e-4, 2.0, 37.0), 1)     # Ca2+: 100 nM in, 2 mM out
    132.3
    """
    z = _check_valence(z)
    c_in = _check_number("c_in_mM", c_in_mM, positive=True)
    c_out = _check_number("c_out_mM", c_out_mM, positive=True)
    return float(_rt_over_f_mV(temperature_C) / z * np.log(c_out / c_in))


def ghk_current_density(V_mV, permeability_cm_s: float, z: int, c_in_mM: float,
                        c_out_mM: float, temperature_C: float):
    r"""Goldman-Hodgkin-Katz current density (µA/cm², outward positive) of a fully open
    channel population with permeability :math:`P` (cm/s):

    .. math::

        I = P z F \,\xi\, \frac{c_{in} - c_{out} e^{-\xi}}{1 - e^{-\xi}}, \qquad
        \xi = \frac{z F V}{R T}.

    With :math:`P` in cm/s, :math:`c` in mM (= 10⁻⁶ mol/cm³) and :math:`F` in C/mol the
    product is 10⁻⁶ A/cm², i.e. exactly µA/cm². The factor
    :math:`\xi / (1 - e^{-\xi}) = x/(e^x - 1)|_{x=-\xi}` is evaluated by
    :func:`x_over_expm1`, so at :math:`V = 0` the limit :math:`P z F (c_{in} - c_{out})`
    is returned without a division by zero and the curve is continuous through it.

    Examples
    --------
    >>> i0 = ghk_current_density(0.0, 1e-4, 2, 1e-4, 2.0, 36.0)
    >>> round(float(i0), 4)                                # P z F (c_in - c_out)
    -38.5922
    >>> round(float(ghk_current_density(1e-9, 1e-4, 2, 1e-4, 2.0, 36.0)), 4)
    -38.5922
    """
    v = check_potentials(V_mV)
    p = _check_number("permeability_cm_s", permeability_cm_s, nonneg=True)
    z = _check_valence(z)
    c_in = _check_number("c_in_mM", c_in_mM, nonneg=True)
    c_out = _check_number("c_out_mM", c_out_mM, nonneg=True)
    xi = z * v / _rt_over_f_mV(temperature_C)
    # xi / (1 - e^-xi) = x_over_expm1(-xi) and xi e^-xi / (1 - e^-xi) = x_over_expm1(xi):
    # both finite for every xi, and 1 at xi = 0 (no division by zero, no overflow)
    out = p * z * FARADAY * (c_in * x_over_expm1(-xi) - c_out * x_over_expm1(xi))
    return float(out[0]) if np.ndim(V_mV) == 0 else out


@dataclass(frozen=True)
class Gate:
    r"""One gate of a mechanism: kinetics and exponent.

    Give either ``alpha`` and ``beta`` (1/ms) or ``x_inf`` (dimensionless) and ``tau``
    (ms), each a vectorised numpy function of the gate's ``variable`` at the mechanism's
    reference temperature: ``"v"`` (default), the membrane potential in mV, or ``"ca"``,
    the intracellular calcium concentration in mM. ``Q10=None`` takes the mechanism's Q10;
    ``tau_min`` (ms) floors the time constant after temperature scaling.

    >>> g = Gate("m", 1, x_inf=lambda v: 1 / (1 + np.exp(-v)), tau=lambda v: 0 * v + 2.0)
    >>> float(g.steady_state(np.array([0.0]))[0]), float(g.time_constant([0.0], 2.0)[0])
    (0.5, 1.0)
    >>> z = Gate("z", 1, x_inf=lambda ca: ca / (ca + 1e-3), tau=lambda ca: 0 * ca + 1.0,
    ...          variable="ca")
    >>> float(z.steady_state(1e-3))          # half-activated at 1 uM = 1e-3 mM
    0.5
    >>> Gate("z", 1, x_inf=np.tanh, tau=np.cosh, variable="Ca")
    Traceback (most recent call last):
    ...
    ValueError: gate 'z': variable must be one of ['ca', 'v'], got 'Ca'
    """

    name: str
    power: int
    alpha: Callable | None = None
    beta: Callable | None = None
    x_inf: Callable | None = None
    tau: Callable | None = None
    Q10: float | None = None
    variable: str = "v"
    tau_min: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"gate name must be an identifier, got {self.name!r}")
        if isinstance(self.power, bool) or not isinstance(self.power, int) or self.power < 1:
            raise ValueError(f"gate {self.name!r}: power must be an integer >= 1, "
                             f"got {self.power!r}")
        rates = self.alpha is not None and self.beta is not None
        inf_tau = self.x_inf is not None and self.tau is not None
        if rates == inf_tau or (rates and (self.x_inf or self.tau)) or (
                inf_tau and (self.alpha or self.beta)):
            raise ValueError(f"gate {self.name!r}: give either alpha and beta, or x_inf "
                             f"and tau")
        if self.Q10 is not None:
            _check_number(f"gate {self.name!r} Q10", self.Q10, positive=True)
        if not isinstance(self.variable, str) or self.variable not in GATE_VARIABLES:
            raise ValueError(f"gate {self.name!r}: variable must be one of "
                             f"{sorted(GATE_VARIABLES)}, got {self.variable!r}")
        if self.tau_min is not None:
            _check_number(f"gate {self.name!r} tau_min", self.tau_min, positive=True)

    def steady_state(self, x) -> np.ndarray:
        """:math:`x_\\infty` at ``x``, the gate's variable (V in mV, or [Ca]ᵢ in mM);
        independent of temperature."""
        x = np.asarray(x, dtype=float)
        if self.x_inf is not None:
            return np.asarray(self.x_inf(x), dtype=float) + 0.0 * x
        a, b = self.alpha(x), self.beta(x)
        return np.asarray(a / (a + b), dtype=float) + 0.0 * x

    def time_constant(self, x, phi: float = 1.0) -> np.ndarray:
        """:math:`\\tau_x` (ms) at ``x``, the gate's variable, with every rate multiplied by
        ``phi``, then floored at ``tau_min``."""
        x = np.asarray(x, dtype=float)
        if self.tau is not None:
            tau = (np.asarray(self.tau(x), dtype=float) + 0.0 * x) / phi
        else:
            tau = np.asarray(1.0 / (phi * (self.alpha(x) + self.beta(x))), dtype=float) + 0.0 * x
        return tau if self.tau_min is None else np.maximum(tau, self.tau_min)


_REVERSALS = ("fixed", "nernst", "ghk")


@dataclass(frozen=True)
class Mechanism:
    r"""An ion-channel mechanism, declared.

    Parameters
    ----------
    name : str
        Identifier, e.g. ``"hh1952_na"``.
    ion : str or None
        ``"na"``, ``"k"``, ``"ca"``, ``"cl"``, or ``None`` (a leak of mixed ions).
    gates : tuple of Gate
        Empty for a leak.
    reversal : {"fixed", "nernst", "ghk"}
        ``"fixed"``: ``E_rev`` (mV); ``"nernst"``: :func:`nernst_potential` of ``c_in_mM``,
        ``c_out_mM`` at the temperature; ``"ghk"``: the current is
        :func:`ghk_current_density` with permeability ``P_max`` (no reversal used).
    g_max : float
        Maximal conductance density (mS/cm²) of an ohmic mechanism.
    P_max : float
        Maximal permeability (cm/s) of a GHK mechanism.
    Q10, T_ref_C : float
        Temperature coefficient of the rates and the temperature (°C) they are given at.
    reference : str
        Where the kinetics come from.

    Raises
    ------
    ValueError
        On an unknown ion or reversal, a missing conductance/permeability/reversal, or a
        gate whose rates are non-finite, negative, or give :math:`x_\infty` outside [0, 1]
        or :math:`\tau \le 0` on :func:`rate_grid` (see :meth:`check_rates`).

    Examples
    --------
    >>> bad = Gate("w", 1, x_inf=lambda v: 1 / (1 + np.exp(-v)), tau=lambda v: v / 10)
    >>> Mechanism("kx", "k", (bad,), g_max=1.0, E_rev=-90.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: kx: gate 'w': tau is <= 0 (ms) at V = -150 mV; the compiled membrane ...
    """

    name: str
    ion: str | None
    gates: tuple[Gate, ...] = ()
    reversal: str = "fixed"
    g_max: float | None = None
    E_rev: float | None = None
    P_max: float | None = None
    c_in_mM: float | None = None
    c_out_mM: float | None = None
    Q10: float = 3.0
    T_ref_C: float = 6.3
    reference: str = ""
    options: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ion is not None and self.ion not in ION_VALENCE:
            raise ValueError(f"{self.name}: ion must be one of {sorted(ION_VALENCE)} or None, "
                             f"got {self.ion!r}")
        if self.reversal not in _REVERSALS:
            raise ValueError(f"{self.name}: reversal must be one of {list(_REVERSALS)}, got "
                             f"{self.reversal!r}")
        object.__setattr__(self, "gates", tuple(self.gates))
        if not all(isinstance(g, Gate) for g in self.gates):
            raise TypeError(f"{self.name}: gates must be Gate instances")
        if len({g.name for g in self.gates}) != len(self.gates):
            raise ValueError(f"{self.name}: gate names must be distinct")
        _check_number(f"{self.name}.Q10", self.Q10, positive=True)
        _check_number(f"{self.name}.T_ref_C", self.T_ref_C)
        if self.reversal == "ghk":
            if self.P_max is None:
                raise ValueError(f"{self.name}: a GHK mechanism needs P_max (cm/s)")
            _check_number(f"{self.name}.P_max", self.P_max, nonneg=True)
        else:
            if self.g_max is None:
                raise ValueError(f"{self.name}: an ohmic mechanism needs g_max (mS/cm2)")
            _check_number(f"{self.name}.g_max", self.g_max, nonneg=True)
        if self.reversal == "fixed":
            if self.E_rev is None:
                raise ValueError(f"{self.name}: a fixed reversal needs E_rev (mV)")
            _check_number(f"{self.name}.E_rev", self.E_rev)
        else:
            if self.ion is None:
                raise ValueError(f"{self.name}: {self.reversal} needs an ion")
            for c in ("c_in_mM", "c_out_mM"):
                if getattr(self, c) is None:
                    raise ValueError(f"{self.name}: {self.reversal} needs {c}")
                _check_number(f"{self.name}.{c}", getattr(self, c), nonneg=True)
        self.check_rates()

    def check_rates(self) -> None:
        r"""Evaluate every gate on :func:`rate_grid` of its variable and raise
        :class:`ValueError`, naming the gate, the quantity and the first point, if a rate is
        not finite, :math:`\alpha` or :math:`\beta` is negative, :math:`x_\infty` lies
        outside [0, 1] or :math:`\tau \le 0` (at the reference temperature). A rate function
        that cannot be called on a numpy array raises :class:`TypeError`.

        >>> from neurosim_nb.channels.library import mechanism
        >>> mechanism("SK").check_rates() is None
        True
        """
        for g in self.gates:
            x = rate_grid(g.variable)
            quantity, unit = GATE_VARIABLES[g.variable]
            where = f"{self.name}: gate {g.name!r}"
            label = "V" if g.variable == "v" else "[Ca]i"
            span = V_RANGE_MV if g.variable == "v" else CA_RANGE_MM
            try:
                with np.errstate(all="ignore"):
                    values = {}
                    if g.alpha is not None:
                        values["alpha"] = np.asarray(g.alpha(x), float) + 0.0 * x
                        values["beta"] = np.asarray(g.beta(x), float) + 0.0 * x
                    values["x_inf"] = g.steady_state(x)
                    values["tau"] = g.time_constant(x)
            except Exception as err:  # a scalar-only function (math.exp), a wrong shape...
                raise TypeError(f"{where}: its rate functions must be vectorised numpy "
                                f"functions of the {quantity} ({unit}); calling them on an "
                                f"array failed: {err}") from err
            tests = {"alpha": (lambda a: a >= 0.0, "negative (1/ms)", ">= 0"),
                     "beta": (lambda b: b >= 0.0, "negative (1/ms)", ">= 0"),
                     "x_inf": (lambda s: (s >= 0.0) & (s <= 1.0), "outside [0, 1]",
                               "in [0, 1]"),
                     "tau": (lambda t: t > 0.0, "<= 0 (ms)", "> 0")}
            for key, arr in values.items():
                ok, what, want = tests[key]
                bad = ~np.isfinite(arr)
                if not bad.any():
                    bad = ~ok(arr)
                else:
                    what, want = "not finite", "finite"
                if bad.any():
                    at = float(x[np.argmax(bad)])
                    raise ValueError(f"{where}: {key} is {what} at {label} = {at:g} {unit}; "
                                     f"the compiled membrane tabulates {key} over {label} in "
                                     f"[{span[0]:g}, {span[1]:g}] {unit}, where it must be "
                                     f"{want}")

    @property
    def valence(self) -> int | None:
        return None if self.ion is None else ION_VALENCE[self.ion]

    def rate_factor(self, temperature_C: float, gate: Gate | None = None) -> float:
        r""":math:`\phi = Q_{10}^{(T - T_{ref})/10}` (the gate's own Q10 if it has one)."""
        t = _check_number("temperature_C", temperature_C)
        q10 = self.Q10 if gate is None or gate.Q10 is None else gate.Q10
        return float(q10 ** ((t - self.T_ref_C) / 10.0))

    def reversal_potential(self, temperature_C: float) -> float:
        """E (mV): ``E_rev``, or the Nernst potential at ``temperature_C``; a GHK mechanism
        has none (raises :class:`ValueError`)."""
        if self.reversal == "fixed":
            return float(self.E_rev)
        if self.reversal == "nernst":
            return nernst_potential(self.valence, self.c_in_mM, self.c_out_mM, temperature_C)
        raise ValueError(f"{self.name}: a GHK mechanism has no fixed reversal potential")

    @property
    def calcium_gated(self) -> bool:
        """True if a gate depends on [Ca]ᵢ (``variable="ca"``)."""
        return any(g.variable == "ca" for g in self.gates)

    def open_fraction(self, V_mV, gates: dict | None = None, ca_mM=None) -> np.ndarray:
        r""":math:`\prod_k x_k^{p_k}`; gates at steady state unless given (by name).

        A calcium-dependent gate at steady state is evaluated at ``ca_mM`` ([Ca]ᵢ in mM, >=
        0: a number, or an array broadcast against ``V_mV``); without it that gate raises
        :class:`ValueError`.

        >>> from neurosim_nb.channels.library import mechanism
        >>> float(mechanism("SK").open_fraction(-60.0, ca_mM=0.00043))   # half-activation
        0.5
        >>> mechanism("SK").open_fraction(-60.0)
        Traceback (most recent call last):
        ...
        ValueError: SK: gate 'z' depends on [Ca]i; give ca_mM (mM) or the gate's value in gates
        """
        v = np.asarray(V_mV, dtype=float)
        out = np.ones_like(v)
        gates = {} if gates is None else gates
        unknown = set(gates) - {g.name for g in self.gates}
        if unknown:
            raise ValueError(f"{self.name}: no gate(s) {sorted(unknown)}; its gates are "
                             f"{[g.name for g in self.gates]}")
        ca = None
        if ca_mM is not None:
            ca = check_concentrations(ca_mM)
            ca = ca.reshape(np.shape(ca_mM)) if np.ndim(ca_mM) else ca[0]
        for g in self.gates:
            if g.name in gates:
                x = np.asarray(gates[g.name], float)
            elif g.variable == "v":
                x = g.steady_state(v)
            elif ca is None:
                raise ValueError(f"{self.name}: gate {g.name!r} depends on [Ca]i; give "
                                 f"ca_mM (mM) or the gate's value in gates")
            else:
                with np.errstate(all="ignore"):
                    x = g.steady_state(ca)
                if not np.all(np.isfinite(x)):
                    raise ValueError(f"{self.name}: gate {g.name!r} is not finite at ca_mM = "
                                     f"{np.ravel(ca)[np.argmin(np.isfinite(x))]:g} mM")
            out = out * x ** g.power
        return out

    def current_density(self, V_mV, temperature_C: float, gates: dict | None = None,
                        scale: float | None = None, E_rev: float | None = None,
                        ca_mM=None):
        """Current density (µA/cm², outward positive) at ``V_mV``.

        ``scale`` replaces ``g_max`` (mS/cm²) or ``P_max`` (cm/s); ``E_rev`` replaces the
        reversal of an ohmic mechanism; ``ca_mM`` ([Ca]ᵢ, mM) sets calcium-dependent gates
        at steady state (see :meth:`open_fraction`).

        >>> from neurosim_nb.channels.library import mechanism
        >>> float(mechanism("SK", g_max=2.0).current_density(-45.0, 34.0, ca_mM=0.00043)[0])
        40.0
        """
        v = check_potentials(V_mV)
        open_ = self.open_fraction(v, gates, ca_mM)
        if self.reversal == "ghk":
            p = self.P_max if scale is None else scale
            return open_ * ghk_current_density(v, p, self.valence, self.c_in_mM,
                                               self.c_out_mM, temperature_C)
        g = self.g_max if scale is None else scale
        e = self.reversal_potential(temperature_C) if E_rev is None else E_rev
        return g * open_ * (v - e)
