r"""Ion concentration dynamics: the submembrane calcium pool (the seed's ``IonDyn``).

The pool of Destexhe et al. (1993, *Biophys J* 65:1538; 1994) -- NEURON's ``cadecay.mod``
family: calcium entering through the membrane fills a shell of depth :math:`d` under it and
is removed towards a resting level by first-order buffering/extrusion and, optionally, a
saturating pump,

.. math::

    \frac{d[Ca]_i}{dt} = \underbrace{\max\Big(0, -\frac{I_{Ca}}{2 F d}\Big)}_{\text{influx}}
    + \frac{[Ca]_\infty - [Ca]_i}{\tau_r}
    - \underbrace{k_t \frac{[Ca]_i}{[Ca]_i + K_d}}_{\text{pump}} ,

with :math:`I_{Ca}` the calcium current density (inward negative; an outward current does
not pump calcium out). In the package's units, with :math:`I_{Ca}` in µA/cm² and :math:`d`
in µm, the influx is :math:`-10\,I_{Ca} / (2 F d)` mM/ms (F in C/mol). The reversal of
calcium follows the concentration (Nernst), returned beside it.

Integration: the classic fourth-order Runge-Kutta step with the current held over the step
(it is given per step); without the pump and with a constant current the flow is linear and
the result agrees with the closed form
:math:`[Ca](t) = c^* + ([Ca]_0 - c^*) e^{-t/\tau_r}`, :math:`c^* = [Ca]_\infty + \tau_r\,J`,
to ~1e-12 relative at the default step (``tests/channels/test_pools.py``).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurosim_nb.channels.mechanism import FARADAY, _check_number, nernst_potential

__all__ = ["ion_dynamics", "calcium_influx"]


def calcium_influx(I_Ca_uA_per_cm2, depth_um: float):
    """The pool's influx (mM/ms) from a calcium current density (µA/cm², inward negative)
    into a shell ``depth_um`` deep; an outward current gives none.

    >>> round(float(calcium_influx(-1.0, 0.1)), 9)    # 1 uA/cm2 inward into 0.1 um
    0.000518213
    """
    depth = _check_number("depth_um", depth_um, positive=True)
    i = np.asarray(I_Ca_uA_per_cm2, dtype=float)
    return np.maximum(0.0, -10.0 * i / (2.0 * FARADAY * depth))


def ion_dynamics(I_Ca_uA_per_cm2, duration_ms: float, *, dt: float = 0.01,
                 depth_um: float = 0.1, tau_ms: float = 5.0, ca_inf_mM: float = 2.4e-4,
                 ca0_mM: float | None = None, pump_kt_mM_per_ms: float = 0.0,
                 pump_kd_mM: float = 1e-4, ca_out_mM: float = 2.0,
                 temperature_C: float = 36.0) -> xr.Dataset:
    """Calcium in the submembrane pool under a calcium current (the module's equation).

    Parameters
    ----------
    I_Ca_uA_per_cm2 : float, array or DataArray
        Calcium current density (µA/cm², inward negative): a constant, one value per step
        (``round(duration_ms / dt)`` values) or a DataArray over ``time`` (ms), sampled at
        the start of each step by linear interpolation.
    duration_ms, dt : float
        Simulated time and step (ms).
    depth_um : float
        Depth of the submembrane shell (µm; Destexhe's 0.1 µm).
    tau_ms : float
        Removal time constant (ms; 5 ms in Destexhe et al. 1994's thalamic relay cell).
    ca_inf_mM : float
        Resting concentration (mM; 240 nM).
    ca0_mM : float, optional
        Initial concentration (mM; default ``ca_inf_mM``).
    pump_kt_mM_per_ms, pump_kd_mM : float
        Maximal rate and half-activation of the optional pump (0: no pump).
    ca_out_mM, temperature_C : float
        Extracellular calcium and temperature for the Nernst potential.

    Returns
    -------
    xarray.Dataset
        ``Ca_i`` (mM) and ``E_Ca`` (mV, Nernst) over ``time`` (ms; the initial state at 0
        and the state after every step), ``I_Ca`` (µA/cm², the current of each step; NaN at
        the last sample); attrs with the parameters.

    Examples
    --------
    >>> ds = ion_dynamics(-2.0, 50.0)                 # 2 uA/cm2 inward for 50 ms
    >>> round(float(ds.Ca_i[-1]) * 1e3, 2)            # -> c* = ca_inf + tau J (uM)
    5.42
    >>> ds.E_Ca.attrs["units"], bool(ds.E_Ca[-1] < ds.E_Ca[0])
    ('mV', True)
    """
    dt = _check_number("dt", dt, positive=True)
    duration = _check_number("duration_ms", duration_ms, positive=True)
    n_steps = int(round(duration / dt))
    if n_steps < 1:
        raise ValueError(f"duration_ms ({duration} ms) is shorter than one step ({dt} ms)")
    depth = _check_number("depth_um", depth_um, positive=True)
    tau = _check_number("tau_ms", tau_ms, positive=True)
    ca_inf = _check_number("ca_inf_mM", ca_inf_mM, positive=True)
    ca0 = ca_inf if ca0_mM is None else _check_number("ca0_mM", ca0_mM, positive=True)
    kt = _check_number("pump_kt_mM_per_ms", pump_kt_mM_per_ms, nonneg=True)
    kd = _check_number("pump_kd_mM", pump_kd_mM, positive=True)
    ca_out = _check_number("ca_out_mM", ca_out_mM, positive=True)
    temp = _check_number("temperature_C", temperature_C)
    # the fastest rate of the flow: removal 1/tau and the pump's slope (<= kt / kd); RK4 is
    # stable to dt * rate ~ 2.8 but accurate only well below it
    fastest = 1.0 / tau + kt / kd
    if dt * fastest > 0.5:
        raise ValueError(f"dt ({dt} ms) is too large for the pool's fastest time constant "
                         f"({1.0 / fastest:.3g} ms): use dt <= {0.5 / fastest:.3g} ms")
    t_steps = np.arange(n_steps) * dt
    current = _current_per_step(I_Ca_uA_per_cm2, t_steps)
    drive = calcium_influx(current, depth)

    def rate(c, j):
        return j + (ca_inf - c) / tau - kt * c / (c + kd)

    ca = np.empty(n_steps + 1)
    ca[0] = c = ca0
    half = 0.5 * dt
    for k in range(n_steps):
        j = drive[k]
        k1 = rate(c, j)
        k2 = rate(c + half * k1, j)
        k3 = rate(c + half * k2, j)
        k4 = rate(c + dt * k3, j)
        c = c + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        if not (np.isfinite(c) and c > 0.0):
            raise FloatingPointError(f"the calcium pool left the positive range at t = "
                                     f"{(k + 1) * dt:g} ms ({c!r} mM); try a smaller dt "
                                     f"(now {dt} ms)")
        ca[k + 1] = c
    e_ca = np.array([nernst_potential(2, x, ca_out, temp) for x in ca])
    time = np.arange(n_steps + 1) * dt
    return xr.Dataset(
        {"Ca_i": ("time", ca, {"units": "mM", "long_name": "submembrane calcium"}),
         "E_Ca": ("time", e_ca, {"units": "mV", "long_name": "calcium reversal (Nernst)"}),
         "I_Ca": ("time", np.append(current, np.nan),
                  {"units": "uA/cm2", "long_name": "calcium current density (inward < 0)"})},
        coords={"time": ("time", time, {"units": "ms", "long_name": "time", "axis": "T"})},
        attrs={"model": "calcium pool (Destexhe et al. 1993, cadecay)", "dt": dt,
               "depth_um": depth, "tau_ms": tau, "ca_inf_mM": ca_inf,
               "pump_kt_mM_per_ms": kt, "pump_kd_mM": kd, "ca_out_mM": ca_out,
               "temperature_C": temp})


def _current_per_step(current, t_steps: np.ndarray) -> np.ndarray:
    if isinstance(current, xr.DataArray):
        if current.dims != ("time",):
            raise ValueError(f"I_Ca_uA_per_cm2 as a DataArray must be over 'time' only, "
                             f"got dims {current.dims}")
        t = np.asarray(current["time"].values, dtype=float)
        v = np.asarray(current.values, dtype=float)
        if not (np.all(np.isfinite(v)) and np.all(np.diff(t) > 0)):
            raise ValueError("I_Ca_uA_per_cm2: values must be finite and times increasing")
        return np.interp(t_steps, t, v)
    if isinstance(current, bool | np.bool_):
        raise TypeError("I_Ca_uA_per_cm2 must be a current density (uA/cm2), not a boolean")
    try:
        arr = np.asarray(current, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"I_Ca_uA_per_cm2 must be numbers (uA/cm2), got {current!r}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError("I_Ca_uA_per_cm2 must be finite")
    if arr.ndim == 0:
        return np.full(t_steps.size, float(arr))
    if arr.ndim != 1 or arr.size != t_steps.size:
        raise ValueError(f"I_Ca_uA_per_cm2 must be a number or one value per step "
                         f"({t_steps.size}), got shape {arr.shape}")
    return arr
