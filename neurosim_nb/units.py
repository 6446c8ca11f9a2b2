"""The one coherent unit set of neurosim_nb.

Every number in the library is in these units, so formulas need no hidden factors:

========== ======= ===========================================
quantity   unit    identities that hold without conversion
========== ======= ===========================================
time       ms
voltage    mV      MOhm * nA = mV
current    nA      uS * mV = nA;  nF * mV / ms = nA
conductance uS
capacitance nF     MOhm * nF = ms
resistance MOhm
rate       Hz      (spikes per second; times are in ms, so a rate
                   multiplies ``dt / 1000``)
========== ======= ===========================================

Hodgkin-Huxley style models may state channel densities per membrane area
(mS/cm2, uF/cm2, uA/cm2); :func:`density_to_current` and :func:`current_to_density`
are the single place where area-specific and absolute quantities meet.

Examples
--------
>>> density_to_current(10.0, area_um2=20_000.0)   # 10 uA/cm2 on 20 000 um2
2.0
>>> current_to_density(2.0, area_um2=20_000.0)
10.0
"""

from __future__ import annotations

import numpy as np

from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError

TIME = "ms"
VOLTAGE = "mV"
CURRENT = "nA"
CONDUCTANCE = "uS"
CAPACITANCE = "nF"
RESISTANCE = "MOhm"
RATE = "Hz"
DIMENSIONLESS = "1"

#: 1 cm2 expressed in um2.
UM2_PER_CM2 = 1.0e8
#: 1 uA expressed in nA.
NA_PER_UA = 1.0e3


def _real(name: str, value) -> np.ndarray:
    """``value`` as a float array: real numbers only (a bool or a string is an
    :class:`~neurosim_nb.errors.ArgumentTypeError`; strings are not parsed)."""
    if isinstance(value, str | bytes | bool | np.bool_):
        raise ArgumentTypeError(f"{name} must be a number or an array of numbers, got "
                                f"{value!r}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{name} is a ragged sequence, got {value!r:.80}") from None
    if arr.dtype.kind not in "iuf":
        raise ArgumentTypeError(f"{name} must be a number or an array of numbers, got "
                                f"{value!r:.80}")
    return arr.astype(float)


def _area(area_um2) -> np.ndarray | float:
    arr = _real("area_um2", area_um2)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise InvalidArgumentError(f"area_um2 must be finite and > 0, got {area_um2!r}")
    return float(arr) if arr.ndim == 0 else arr


def density_to_current(density_uA_per_cm2, area_um2: float):
    """Convert a current density (uA/cm2) on a membrane of ``area_um2`` to a current (nA).

    Parameters
    ----------
    density_uA_per_cm2 : float or array_like
        Current density (uA/cm2).
    area_um2 : float
        Membrane area (um2).

    Returns
    -------
    float or numpy.ndarray
        Current (nA).
    """
    area_um2 = _area(area_um2)
    density = _real("density_uA_per_cm2", density_uA_per_cm2)
    out = density * (area_um2 / UM2_PER_CM2) * NA_PER_UA
    return float(out) if out.ndim == 0 else out


def current_to_density(current_nA, area_um2: float):
    """Convert a current (nA) on a membrane of ``area_um2`` to a density (uA/cm2).

    Inverse of :func:`density_to_current`.
    """
    area_um2 = _area(area_um2)
    out = _real("current_nA", current_nA) / NA_PER_UA / (area_um2 / UM2_PER_CM2)
    return float(out) if out.ndim == 0 else out
