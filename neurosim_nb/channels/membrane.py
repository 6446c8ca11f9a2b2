r"""A membrane: a list of mechanisms (and a calcium pool), compiled into one update.

A neuron -- a point or every compartment of a cable -- is a :class:`Membrane`: the
mechanisms it carries, an optional submembrane calcium pool and a temperature. Nothing is
written by hand per combination and no C compiler is needed: :meth:`Membrane.compile`
generates the source of two Numba functions from the list (one term per mechanism, the
gates' powers unrolled), writes it to the package's cache of generated code and compiles
it once per *structure* (a second membrane with other conductances, temperature or step
reuses the machine code). Both functions loop over compartments, struct-of-arrays:

``currents(v, s, p, tv, tc, i_out, g_out, ica_out)``
    the total ionic current density ``i_out`` (µA/cm², outward positive), its slope
    :math:`\partial I / \partial V` ``g_out`` (mS/cm², gates frozen -- the linearisation an
    implicit solver needs, as NEURON's ``di/dv``) and the calcium current ``ica_out``
    (µA/cm²) of every compartment at potentials ``v`` (mV);
``advance(v, s, p, tv, tc, ica)``
    the gates over one step at ``v`` (exponential Euler with the rates frozen: exact for a
    constant V, as NEURON's ``cnexp``) and the calcium pool under ``ica``.

``s`` holds the states (one row each: ``"<mechanism>.<gate>"``, then ``"ca_i"`` when
there is a pool), ``p`` the per-compartment parameters (``"<mechanism>.g"`` in mS/cm² or
cm/s for a GHK mechanism -- 0 where the mechanism is absent --, ``"<mechanism>.E"`` in mV,
the pool's rows), ``tv``/``tc`` the tables.

Rate functions stay plain numpy: like NEURON's ``TABLE`` statement, each gate's
:math:`x_\infty` and its one-step decay :math:`e^{-\phi\,dt/\tau}` are tabulated once per
run on a fine grid of its variable -- V from -150 to 100 mV every 0.02 mV, or
:math:`\ln [Ca]_i` from 1 nM to 10 mM in 4000 steps -- and interpolated linearly (the
interpolation error of a smooth gate is :math:`h^2 f''/8`, below 1e-6 here; outside the
grid the end value is used). The GHK flux is tabulated the same way as
:math:`c_{in} A(V) - c_{out} B(V)`, linear in the concentrations.

The calcium pool (:func:`~neurosim_nb.channels.pools.ion_dynamics`' equation) is stepped
with its linear removal exact and influx and pump held over the step; a calcium mechanism
with a Nernst reversal then follows :math:`[Ca]_i`.

Examples
--------
>>> from neurosim_nb.channels.library import mechanism
>>> hh = Membrane([mechanism("hh1952_na"), mechanism("hh1952_k"), mechanism("hh1952_leak")],
...               temperature_C=6.3)
>>> hh.state_names
('hh1952_na.m', 'hh1952_na.h', 'hh1952_k.n')
>>> c = hh.compile(dt_ms=0.01)
>>> v = np.full(2, -65.0)
>>> s, p = c.initial_state(v), c.parameters(2)
>>> i, g, ica = c.currents(v, s, p)
>>> round(float(i[0]), 4), round(float(g[0]), 4)       # the resting HH membrane
(-0.0042, 0.6773)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neurosim_nb._codegen import load_module
from neurosim_nb.channels.mechanism import (
    FARADAY,
    Mechanism,
    _check_number,
    _rt_over_f_mV,
    x_over_expm1,
)

__all__ = ["CalciumPool", "Membrane", "CompiledMembrane", "V_GRID_MV", "LN_CA_GRID"]

#: the potential grid of the tables: (first, step, count) in mV
V_GRID_MV = (-150.0, 0.02, 12501)
#: the grid of ln([Ca]_i / mM): (first, step, count), 1 nM to 10 mM
LN_CA_GRID = (float(np.log(1e-6)), float(np.log(1e7)) / 4000.0, 4001)


@dataclass(frozen=True)
class CalciumPool:
    """The submembrane calcium pool of Destexhe et al. (1993) (``cadecay``); the
    parameters and equation of :func:`~neurosim_nb.channels.pools.ion_dynamics`.

    >>> CalciumPool(tau_ms=80.0).tau_ms
    80.0
    """

    depth_um: float = 0.1
    tau_ms: float = 5.0
    ca_inf_mM: float = 2.4e-4
    pump_kt_mM_per_ms: float = 0.0
    pump_kd_mM: float = 1e-4
    ca_out_mM: float = 2.0

    def __post_init__(self) -> None:
        for name in ("depth_um", "tau_ms", "ca_inf_mM", "pump_kd_mM", "ca_out_mM"):
            _check_number(f"CalciumPool.{name}", getattr(self, name), positive=True)
        _check_number("CalciumPool.pump_kt_mM_per_ms", self.pump_kt_mM_per_ms, nonneg=True)


def _variable(gate) -> str:
    return getattr(gate, "variable", "v")


class Membrane:
    """Mechanisms on a patch of membrane, with an optional calcium pool.

    Parameters
    ----------
    mechanisms : sequence of Mechanism
        Distinct names. A gate of variable ``"ca"`` (calcium-activated) or a calcium
        mechanism with a Nernst reversal needs ``calcium_pool``.
    calcium_pool : CalciumPool, optional
        The submembrane pool every calcium current (``ion="ca"``) flows into; without it
        calcium mechanisms use their own fixed ``c_in_mM``.
    temperature_C : float
        Temperature of the rates (Q10 scaling from each mechanism's reference).
    """

    def __init__(self, mechanisms: Sequence[Mechanism], *, calcium_pool: CalciumPool | None
                 = None, temperature_C: float = 6.3) -> None:
        mechs = tuple(mechanisms)
        if not mechs:
            raise ValueError("a membrane needs at least one mechanism")
        for m in mechs:
            if not isinstance(m, Mechanism):
                raise TypeError(f"mechanisms must be Mechanism instances, got {m!r}")
        names = [m.name for m in mechs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"mechanism names must be distinct on a membrane; repeated: {dup}")
        if calcium_pool is not None and not isinstance(calcium_pool, CalciumPool):
            raise TypeError(f"calcium_pool must be a CalciumPool, got {calcium_pool!r}")
        for m in mechs:
            needs = [g.name for g in m.gates if _variable(g) == "ca"]
            if calcium_pool is None and (needs or (m.ion == "ca" and m.reversal == "nernst")):
                why = f"its calcium-gated gate(s) {needs}" if needs else "its Nernst reversal"
                raise ValueError(f"mechanism {m.name!r} needs a calcium_pool for {why}")
        self.mechanisms = mechs
        self.calcium_pool = calcium_pool
        self.temperature_C = _check_number("temperature_C", temperature_C)
        _rt_over_f_mV(self.temperature_C)  # above absolute zero

    def __repr__(self) -> str:
        pool = ", calcium pool" if self.calcium_pool is not None else ""
        return (f"Membrane([{', '.join(m.name for m in self.mechanisms)}]{pool}, "
                f"{self.temperature_C:g} degC)")

    @property
    def state_names(self) -> tuple[str, ...]:
        """One row of the state matrix each: the gates, then ``ca_i`` with a pool."""
        rows = [f"{m.name}.{g.name}" for m in self.mechanisms for g in m.gates]
        return tuple(rows + (["ca_i"] if self.calcium_pool is not None else []))

    @property
    def parameter_names(self) -> tuple[str, ...]:
        rows = []
        for m in self.mechanisms:
            rows += [f"{m.name}.g", f"{m.name}.E"]
        if self.calcium_pool is not None:
            rows += ["pool.depth_um", "pool.tau_ms", "pool.ca_inf_mM", "pool.kt_mM_per_ms",
                     "pool.kd_mM", "pool.decay"]
        return tuple(rows)

    def structure(self) -> tuple:
        """What the generated code depends on (not conductances, temperature or dt)."""
        return (tuple((m.reversal, m.ion, tuple((g.power, _variable(g)) for g in m.gates))
                      for m in self.mechanisms), self.calcium_pool is not None)

    def compile(self, dt_ms: float) -> CompiledMembrane:
        """Tables for step ``dt_ms`` and the compiled update (generated once per
        :meth:`structure`, cached on disk)."""
        dt = _check_number("dt_ms", dt_ms, positive=True)
        return CompiledMembrane(self, dt)


# -- tables -----------------------------------------------------------------------------
def _v_grid() -> np.ndarray:
    first, step, count = V_GRID_MV
    return first + step * np.arange(count)


def _ca_grid() -> np.ndarray:
    first, step, count = LN_CA_GRID
    return np.exp(first + step * np.arange(count))


def _gate_tables(m: Mechanism, gate, temperature: float, dt: float):
    x = _ca_grid() if _variable(gate) == "ca" else _v_grid()
    phi = m.rate_factor(temperature, gate)
    with np.errstate(all="ignore"):
        inf = np.asarray(gate.steady_state(x), dtype=float) + 0.0 * x
        tau = np.asarray(gate.time_constant(x, phi), dtype=float) + 0.0 * x
    where = "[Ca]_i 1e-6..10 mM" if _variable(gate) == "ca" else "V -150..100 mV"
    if not (np.all(np.isfinite(inf)) and np.all((inf >= 0.0) & (inf <= 1.0))):
        raise ValueError(f"{m.name}.{gate.name}: the steady state must be finite and in "
                         f"[0, 1] over {where}")
    if not (np.all(np.isfinite(tau)) and np.all(tau > 0.0)):
        raise ValueError(f"{m.name}.{gate.name}: the time constant must be finite and > 0 "
                         f"over {where}")
    return inf, np.exp(-dt / tau)


def _ghk_tables(z: int, temperature: float):
    """z F A(V), z F B(V) and their slopes per mV: I = P o (c_in zFA - c_out zFB)."""
    v = _v_grid()
    xi = z * v / _rt_over_f_mV(temperature)
    a = z * FARADAY * x_over_expm1(-xi)
    b = z * FARADAY * x_over_expm1(xi)
    step = V_GRID_MV[1]
    return a, b, np.gradient(a, step), np.gradient(b, step)


# -- code generation --------------------------------------------------------------------
_HEADER = '''\
"""Generated by neurosim_nb.channels.membrane for the membrane structure
{title}"""
import math

import numpy as np

from neurosim_nb._jit import njit

V0, INV_H, NV = {v0!r}, {inv_h!r}, {nv}
L0, INV_HC, NC = {l0!r}, {inv_hc!r}, {nc}


@njit(cache=True, inline="always", error_model="numpy")
def v_index(vj):
    """Row k of the potential tables below vj and the fraction f towards k + 1 (the ends
    of the grid are held outside it)."""
    u = min(max((vj - V0) * INV_H, 0.0), NV - 1.000001)
    k = int(u)
    return k, u - k


@njit(cache=True, error_model="numpy")
def currents(v, s, p, tv, tc, i_out, g_out, ica_out):
    """Ionic current density (uA/cm2), its slope (mS/cm2) and the calcium current."""
    for j in range(v.shape[0]):
        vj = v[j]
        k, f = v_index(vj)
        i_tot = 0.0
        g_tot = 0.0
        ica = 0.0
{currents_body}
        i_out[j] = i_tot
        g_out[j] = g_tot
        ica_out[j] = ica


@njit(cache=True, error_model="numpy")
def advance(v, s, p, tv, tc, ica):
    """The gates over one step at v, and the calcium pool under ica."""
    for j in range(v.shape[0]):
        k, f = v_index(v[j])
{advance_body}
'''


def _interp(table: str, row: int, k: str = "k", f: str = "f") -> str:
    return f"({table}[{row}, {k}] + {f} * ({table}[{row}, {k} + 1] - {table}[{row}, {k}]))"


def _power(x: str, n: int) -> str:
    return " * ".join([x] * n)


def _ca_index(indent: str, ca: str) -> list[str]:
    return [f"{indent}w = (math.log(max({ca}, 1e-300)) - L0) * INV_HC",
            f"{indent}w = min(max(w, 0.0), NC - 1.000001)",
            f"{indent}kc = int(w)",
            f"{indent}fc = w - kc"]


class CompiledMembrane:
    """A :class:`Membrane` ready to run at one step: tables, parameter rows, the compiled
    ``currents``/``advance`` (see the module) and Python conveniences around them."""

    def __init__(self, membrane: Membrane, dt: float) -> None:
        self.membrane = membrane
        self.dt = dt
        self.state_names = membrane.state_names
        self.parameter_names = membrane.parameter_names
        temp = membrane.temperature_C
        v_tables, c_tables = [], []
        cur, adv = [], []
        ind = " " * 8
        row = 0
        pool = membrane.calcium_pool is not None
        ca_row = len(self.state_names) - 1 if pool else -1
        ghk_rows: dict[int, int] = {}
        for mi, m in enumerate(membrane.mechanisms):
            pg, pe = 2 * mi, 2 * mi + 1
            factors = []
            for g in m.gates:
                inf, decay = _gate_tables(m, g, temp, dt)
                if _variable(g) == "ca":
                    t = len(c_tables)
                    c_tables += [inf, decay]
                    adv += _ca_index(ind, f"s[{ca_row}, j]")
                    adv += [f"{ind}xi = {_interp('tc', t, 'kc', 'fc')}",
                            f"{ind}s[{row}, j] = xi + (s[{row}, j] - xi) * "
                            f"{_interp('tc', t + 1, 'kc', 'fc')}"]
                else:
                    t = len(v_tables)
                    v_tables += [inf, decay]
                    adv += [f"{ind}xi = {_interp('tv', t)}",
                            f"{ind}s[{row}, j] = xi + (s[{row}, j] - xi) * "
                            f"{_interp('tv', t + 1)}"]
                factors.append(_power(f"s[{row}, j]", g.power))
                row += 1
            open_ = " * ".join(factors) or "1.0"
            cur.append(f"{ind}# {m.name}")
            carries_ca = m.ion == "ca"
            if m.reversal == "ghk":
                if m.valence not in ghk_rows:
                    ghk_rows[m.valence] = len(v_tables)
                    v_tables += list(_ghk_tables(m.valence, temp))
                t = ghk_rows[m.valence]
                c_in = f"s[{ca_row}, j]" if (pool and carries_ca) else repr(float(m.c_in_mM))
                c_out = (repr(float(membrane.calcium_pool.ca_out_mM)) if (pool and carries_ca)
                         else repr(float(m.c_out_mM)))
                cur += [f"{ind}po = p[{pg}, j] * {open_}",
                        f"{ind}im = po * ({c_in} * {_interp('tv', t)} - {c_out} * "
                        f"{_interp('tv', t + 1)})",
                        f"{ind}gm = po * ({c_in} * {_interp('tv', t + 2)} - {c_out} * "
                        f"{_interp('tv', t + 3)})"]
            else:
                e = f"p[{pe}, j]"
                if m.reversal == "nernst" and carries_ca and pool:
                    e = (f"({_rt_over_f_mV(temp) / 2.0!r} * math.log("
                         f"{float(membrane.calcium_pool.ca_out_mM)!r} / s[{ca_row}, j]))")
                cur += [f"{ind}gm = p[{pg}, j] * {open_}",
                        f"{ind}im = gm * (vj - {e})"]
            cur += [f"{ind}i_tot += im", f"{ind}g_tot += gm"]
            if carries_ca:
                cur.append(f"{ind}ica += im")
        if pool:
            q = 2 * len(membrane.mechanisms)  # depth, tau, ca_inf, kt, kd, decay
            adv += [f"{ind}c = s[{ca_row}, j]",
                    f"{ind}influx = max(0.0, -{10.0 / (2.0 * FARADAY)!r} * ica[j] / "
                    f"p[{q}, j])",
                    f"{ind}pump = p[{q + 3}, j] * c / (c + p[{q + 4}, j])",
                    f"{ind}cstar = p[{q + 2}, j] + p[{q + 1}, j] * (influx - pump)",
                    f"{ind}c = cstar + (c - cstar) * p[{q + 5}, j]",
                    f"{ind}s[{ca_row}, j] = max(c, 1e-9)"]
        if not adv:
            adv = [f"{ind}pass"]
        self._tv = np.ascontiguousarray(np.array(v_tables or [np.zeros(V_GRID_MV[2])]))
        self._tc = np.ascontiguousarray(np.array(c_tables or [np.zeros(LN_CA_GRID[2])]))
        src = _HEADER.format(
            title=repr(membrane.structure()), v0=V_GRID_MV[0], inv_h=1.0 / V_GRID_MV[1],
            nv=V_GRID_MV[2], l0=LN_CA_GRID[0], inv_hc=1.0 / LN_CA_GRID[1], nc=LN_CA_GRID[2],
            currents_body="\n".join(cur), advance_body="\n".join(adv))
        self.source = src
        module = load_module("membrane", src, {})
        self.currents_kernel = module.currents
        self.advance_kernel = module.advance

    @property
    def tables(self) -> tuple[np.ndarray, np.ndarray]:
        """``(tv, tc)``: the potential and calcium tables the kernels read."""
        return self._tv, self._tc

    def parameters(self, n: int, **values) -> np.ndarray:
        """The ``(len(parameter_names), n)`` parameter matrix: each mechanism's ``g_max``
        (or ``P_max``) and reversal, the pool's values; ``values`` overrides rows by name
        (``"hh1952_na.g"`` -> ``hh1952_na_g``; a number or one value per compartment).
        """
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"n must be a positive integer (compartments), got {n!r}")
        mem = self.membrane
        p = np.zeros((len(self.parameter_names), int(n)))
        for mi, m in enumerate(mem.mechanisms):
            p[2 * mi] = m.P_max if m.reversal == "ghk" else m.g_max
            if m.reversal == "fixed":
                p[2 * mi + 1] = m.E_rev
            elif m.reversal == "nernst" and not (m.ion == "ca" and mem.calcium_pool):
                p[2 * mi + 1] = m.reversal_potential(mem.temperature_C)
            else:
                p[2 * mi + 1] = np.nan  # not used: GHK, or Nernst of the pool
        if mem.calcium_pool is not None:
            c = mem.calcium_pool
            q = 2 * len(mem.mechanisms)
            p[q:q + 5] = np.array([c.depth_um, c.tau_ms, c.ca_inf_mM, c.pump_kt_mM_per_ms,
                                   c.pump_kd_mM])[:, None]
        keys = {name.replace(".", "_"): i for i, name in enumerate(self.parameter_names)}
        for key, value in values.items():
            if key not in keys or key.endswith("_decay"):
                raise ValueError(f"unknown membrane parameter {key!r}; known: "
                                 f"{sorted(k for k in keys if not k.endswith('_decay'))}")
            arr = np.asarray(value, dtype=float)
            if arr.ndim > 1 or (arr.ndim == 1 and arr.size != n) or not np.all(
                    np.isfinite(arr)):
                raise ValueError(f"{key} must be a finite number or {n} values")
            p[keys[key]] = arr
        if mem.calcium_pool is not None:
            q = 2 * len(mem.mechanisms)
            if np.any(p[q:q + 3] <= 0.0) or np.any(p[q + 3] < 0.0) or np.any(p[q + 4] <= 0.0):
                raise ValueError("pool depth, tau, ca_inf and kd must be > 0, kt >= 0")
            p[q + 5] = np.exp(-self.dt / p[q + 1])
        return p

    def initial_state(self, v_mV, p: np.ndarray | None = None) -> np.ndarray:
        """Gates at their steady state at ``v_mV`` (one value per compartment), the pool at
        its resting concentration."""
        v = np.atleast_1d(np.asarray(v_mV, dtype=float))
        mem = self.membrane
        s = np.empty((len(self.state_names), v.size))
        ca = None
        if mem.calcium_pool is not None:
            q = 2 * len(mem.mechanisms)
            ca = (np.full(v.size, mem.calcium_pool.ca_inf_mM) if p is None else p[q + 2])
            s[-1] = ca
        row = 0
        for m in mem.mechanisms:
            for g in m.gates:
                s[row] = g.steady_state(ca if _variable(g) == "ca" else v)
                row += 1
        return s

    def currents(self, v_mV, s: np.ndarray, p: np.ndarray):
        """``(i, g, ica)`` of every compartment (µA/cm², mS/cm², µA/cm²)."""
        v = np.ascontiguousarray(np.atleast_1d(np.asarray(v_mV, dtype=float)))
        i, g, ica = (np.empty(v.size) for _ in range(3))
        self.currents_kernel(v, s, p, self._tv, self._tc, i, g, ica)
        return i, g, ica

    def advance(self, v_mV, s: np.ndarray, p: np.ndarray, ica: np.ndarray) -> None:
        """Advance ``s`` in place over one step at ``v_mV`` under calcium current ``ica``."""
        v = np.ascontiguousarray(np.atleast_1d(np.asarray(v_mV, dtype=float)))
        self.advance_kernel(v, s, p, self._tv, self._tc, np.asarray(ica, dtype=float))
