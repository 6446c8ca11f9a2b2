r"""Adaptive time stepping: a population's continuous-time form and its generated kernel.

A fixed-step kernel advances every neuron by ``dt`` with the model's own scheme and stamps
a spike at the end of the step. For ``method="adaptive"`` a population instead declares
its equations -- a :class:`ContinuousForm` -- and the engine integrates each neuron with
error-controlled steps of the Dormand-Prince 5(4) pair
(:mod:`neurosim_nb.numerics.dopri5`, scipy's ``RK45``), stopping exactly at every input
event, locating threshold crossings inside a step on the pair's fourth-order continuous
extension, and sampling the recorded traces on the regular grid ``sample_every * dt`` from
the same extension. ``dt`` then only sets the grid of the inputs (stimuli are piecewise
constant over it) and of the recording; it does not limit the accuracy.

A form names

* ``states`` -- the integrated state variables (``V`` first for a neuron);
* ``rows`` -- the values the functions read, one per neuron (parameters by default, or
  :meth:`~neurosim_nb.core.neurons.base.NeuronPopulation.continuous_values`);
* ``derivatives`` -- an ``@njit`` function ``(*states, i_in, *rows) -> (d/dt of each
  state)`` per ms, with ``i_in`` the input current in the population's current units
  (external plus synaptic, the synaptic part multiplied by the row ``input_scale``);
* ``threshold`` (a row) and ``reset`` (``(*states, *rows) -> states``): a spike is an
  upward crossing of the threshold by the first state, at the crossing time; the reset
  (if any) is applied there. ``refractory="clamp"`` holds the first state at its reset
  value for the row ``refractory_row`` (ms) after a spike (LIF, AdEx);
  ``refractory="detect"`` only ignores crossings for that long (Hodgkin-Huxley's
  detector); the remaining time is kept in the state ``refractory_state`` in units of
  ``dt`` (steps), as the fixed-step kernels keep it, so runs of either method continue
  each other;
* ``jump_state`` / ``jump_scale``: the state a delta synapse's weight or a kick is added
  to (``V`` by default; astrocytes: IP3, times ``delta_IP3``);
* ``derived`` / ``derive``: state variables computed from the others
  (``(*states, *rows) -> values``), e.g. an astrocyte's slow inward current.

Receptor channels (exponential and dual-exponential currents and conductances, with or
without Mg2+ block) have two decaying components per channel, as in the fixed-step
channels of :mod:`neurosim_nb.core.synapses.channels`; they are not stepped by the
Runge-Kutta pair but evaluated exactly (``s e^{-t/tau}``) at each stage's time, so their
fast decay (0.2 ms rises) never limits the step. A weight arriving at time ``t`` (off the
grid: the presynaptic spike's own time plus the delay) is added there, exactly. Kinetic
receptors are not supported by the adaptive method.

Error control (scipy's): a step is accepted when the RMS over the model's states of
``err_j / (atol + rtol max(|y_j|, |y_j'|))`` is at most 1; the next step is
``h * min(10, max(0.2, 0.9 err^(-1/5)))``.

Example -- a neuron written for both methods: the quadratic integrate-and-fire neuron of
:mod:`~neurosim_nb.core.neurons.point_model` adds its equations as a form:

>>> from neurosim_nb._jit import njit
>>> @njit
... def qif_derivatives(v, i_in, tau, v_r, v_c, delta, r):
...     return ((v - v_r) * (v - v_c) / delta + r * i_in) / tau,
>>> @njit
... def qif_reset(v, tau, v_r, v_c, delta, r, v_peak, v_reset):
...     return v_reset,
>>> form = ContinuousForm(states=("V",), rows=("tau", "V_r", "V_c", "Delta", "R", "V_peak",
...                       "V_reset"), derivatives=qif_derivatives, threshold="V_peak",
...                       reset=qif_reset)
>>> form.row_index("V_peak")
5
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from neurosim_nb._codegen import import_line, importable, load_module
from neurosim_nb.numerics import dopri5

__all__ = ["ContinuousForm", "adaptive_kernel", "ADAPTIVE_SYN_COLUMNS", "REFRACTORY_MODES",
           "KERNEL_STATUS"]

#: how a form treats the time after a spike
REFRACTORY_MODES = (None, "clamp", "detect")
#: columns of the receptor table of an adaptive run (one row per channel)
ADAPTIVE_SYN_COLUMNS = ("kind", "tau_decay_ms", "tau_rise_ms", "E_rev_mV", "mg_mM", "norm",
                        "has_rise")
#: the kernel's status codes (its third return value)
KERNEL_STATUS = {0: "ok", 1: "the state left the finite range",
                 2: "the step size fell below 1e-12 ms", 3: "the spike buffer is full"}


@dataclass(frozen=True)
class ContinuousForm:
    """The continuous-time equations of a population, for ``method="adaptive"`` (see the
    module docstring for each field)."""

    states: tuple[str, ...]
    rows: tuple[str, ...]
    derivatives: Callable
    threshold: str | None = None
    reset: Callable | None = None
    refractory: str | None = None
    refractory_row: str | None = None
    refractory_state: str | None = None
    jump_state: str | None = None
    jump_scale: str | None = None
    input_scale: str | None = None
    derived: tuple[str, ...] = ()
    derive: Callable | None = None
    doc: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.states:
            raise ValueError("ContinuousForm needs at least one state")
        if self.refractory not in REFRACTORY_MODES:
            raise ValueError(f"refractory must be one of {REFRACTORY_MODES}, got "
                             f"{self.refractory!r}")
        if self.refractory is not None and (self.refractory_row is None
                                            or self.refractory_state is None
                                            or self.threshold is None):
            raise ValueError("a refractory form needs threshold, refractory_row and "
                             "refractory_state")
        for name in (self.threshold, self.refractory_row, self.jump_scale, self.input_scale):
            if name is not None:
                self.row_index(name)
        if bool(self.derived) != (self.derive is not None):
            raise ValueError("derived states need a derive function and vice versa")

    def row_index(self, name: str) -> int:
        """The position of row ``name`` (a ValueError naming the rows if absent)."""
        if name not in self.rows:
            raise ValueError(f"{name!r} is not one of the form's rows {list(self.rows)}")
        return self.rows.index(name)


_KERNELS: dict = {}

_TEMPLATE = '''\
"""Generated by neurosim_nb.core.neurons.continuous: the adaptive (Dormand-Prince 5(4))
kernel of {title}. Do not edit: edit the template (or the model's form)."""
import math

import numpy as np

from neurosim_nb._jit import njit
{imports}

NS = {ns}  # integrated model states; receptor components follow (2 per channel)


@njit(error_model="numpy")  # (not inlined: eight call sites would compile it eight times)
def rhs(y, dy, off, i_base, clamp, sp, n_ch, p, c):
    # receptor components are exact exponentials: y holds them at the step's start and
    # they are read ``off`` ms later (the RK stages leave them alone: dy = 0)
    v = y[0]
    isyn = 0.0
    for ch in range(n_ch):
        j = NS + 2 * ch
        dy[j] = 0.0
        dy[j + 1] = 0.0
        sd = y[j] if off == 0.0 else y[j] * math.exp(-off / sp[ch, 1])
        if sp[ch, 6] > 0.0:
            g = sd - (y[j + 1] if off == 0.0 else y[j + 1] * math.exp(-off / sp[ch, 2]))
        else:
            g = sd
        if sp[ch, 0] == 0.0:  # conductance
            mg = sp[ch, 4]
            if mg > 0.0:
                g = g / (1.0 + mg / 3.57 * math.exp(-0.062 * v))
            isyn += g * (sp[ch, 3] - v)
        else:
            isyn += g
    i_in = i_base + isyn{scale}
    {d_names} = derivatives({y_args}, i_in, {row_args})
{dy_lines}


@njit(inline="always")
def decay_syn(y, n_ch, sp, elapsed):
    for ch in range(n_ch):
        j = NS + 2 * ch
        y[j] *= math.exp(-elapsed / sp[ch, 1])
        if sp[ch, 6] > 0.0:
            y[j + 1] *= math.exp(-elapsed / sp[ch, 2])


@njit(inline="always")
def norm_rms(a, y, atol, rtol):
    acc = 0.0
    for j in range(NS):
        x = a[j] / (atol + rtol * abs(y[j]))
        acc += x * x
    return math.sqrt(acc / NS)


@njit(inline="always")
def norm_rms_diff(a, b, y, atol, rtol):
    acc = 0.0
    for j in range(NS):
        x = (a[j] - b[j]) / (atol + rtol * abs(y[j]))
        acc += x * x
    return math.sqrt(acc / NS)


@njit(inline="always")
def dense(y, K, hh, theta, j):
    q0 = {p0}
    q1 = {p1}
    q2 = {p2}
    q3 = {p3}
    return y[j] + hh * theta * (q0 + theta * (q1 + theta * (q2 + theta * q3)))


@njit({jit_args})
def kernel(state, p, t0, n_win, dt, step0, i_ext, kick, ev_ptr, ev_t, ev_ch, ev_w, syn, sp,
           rtol, atol, h_last, sample_every, rec_pos, rec_slots, rec_out, spk_t, spk_i,
           stats):
    n = state.shape[1]
    n_ch = sp.shape[0]
    nv = NS + 2 * n_ch
    shared = p.shape[1] == 1
    n_rows = i_ext.shape[0]
    has_kick = kick.shape[0] > 0
    K = np.empty((7, nv))
    y = np.empty(nv)
    y1 = np.empty(nv)
    yt = np.empty(nv)
    t_end = t0 + n_win * dt
    eps_t = 1e-9 * dt
    se_dt = sample_every * dt
    cap = spk_t.shape[0]
    n_spk = 0
    n_acc = 0
    n_rej = 0
    n_rhs = 0
    for i in range(n):
        c = 0 if shared else i
{load}
        for ch in range(n_ch):
            y[NS + 2 * ch] = syn[ch, 0, i]
            y[NS + 2 * ch + 1] = syn[ch, 1, i]
        ref_end = t0 + {ref_left}
        clamp = {clamp_init}
        e = ev_ptr[i]
        e_end = ev_ptr[i + 1]
        kk = 0
        i_base = i_ext[0, i] if n_rows > 0 else 0.0
        k_next = 1
        while k_next < n_win and not ((n_rows > 1 and i_ext[k_next, i] != i_base) or
                                      (has_kick and kick[k_next, i] != 0.0)):
            k_next += 1
        if has_kick and not clamp:
            y[{jump}] += kick[0, i]{jump_scale}
        m = step0 // sample_every + 1  # the next sample: time m * sample_every * dt
        pos = rec_pos[i]
        t = t0
        h = h_last[i]
        need_f = True
        while True:
            # everything due at t: arrivals, the next grid step's input, refractory end
            v_before = y[0]
            while e < e_end and ev_t[e] <= t + eps_t:
                ch = ev_ch[e]
                w = ev_w[e]
                if sp[ch, 0] == 2.0:  # delta: a jump
                    if not clamp:
                        y[{jump}] += w{jump_scale}
                else:
                    j = NS + 2 * ch
                    y[j] += w * sp[ch, 5]
                    if sp[ch, 6] > 0.0:
                        y[j + 1] += w * sp[ch, 5]
                e += 1
                need_f = True
            if k_next < n_win and t0 + k_next * dt <= t + eps_t:
                kk = k_next
                if n_rows > 1:
                    i_base = i_ext[kk, i]
                if has_kick and not clamp:
                    y[{jump}] += kick[kk, i]{jump_scale}
                k_next = kk + 1
                while k_next < n_win and not ((n_rows > 1 and i_ext[k_next, i] != i_base) or
                                              (has_kick and kick[k_next, i] != 0.0)):
                    k_next += 1
                need_f = True
{jump_spike}
            if clamp and ref_end <= t + eps_t:
                clamp = False
                need_f = True
            if t >= t_end - eps_t:
                break
            tb = t_end
            if e < e_end and ev_t[e] < tb:
                tb = ev_t[e]
            if k_next < n_win and t0 + k_next * dt < tb:
                tb = t0 + k_next * dt
            if clamp and ref_end < tb:
                tb = ref_end
            if need_f:
                rhs(y, K[0], 0.0, i_base, clamp, sp, n_ch, p, c)
                n_rhs += 1
                need_f = False
            if not h > 0.0:  # scipy's select_initial_step
                d0 = norm_rms(y, y, atol, rtol)
                d1 = norm_rms(K[0], y, atol, rtol)
                h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
                for j in range(nv):
                    yt[j] = y[j] + h0 * K[0, j]
                rhs(yt, K[1], h0, i_base, clamp, sp, n_ch, p, c)
                n_rhs += 1
                d2 = norm_rms_diff(K[1], K[0], y, atol, rtol) / h0
                if d1 <= 1e-15 and d2 <= 1e-15:
                    h = max(1e-6, h0 * 1e-3)
                else:
                    h = (0.01 / max(d1, d2)) ** 0.2
                h = min(100.0 * h0, h)
            spiked = False
            while t < tb - eps_t:
                last = h >= tb - t - eps_t
                hh = tb - t if last else h
{stages}
                acc = 0.0
                for j in range(NS):
                    er = hh * ({err})
                    sc = atol + rtol * max(abs(y[j]), abs(y1[j]))
                    acc += (er / sc) * (er / sc)
                err = math.sqrt(acc / NS)
                if not (err <= 1.0):  # rejected (NaN too: a step into overflow)
                    n_rej += 1
                    fac = 0.2 if not (err == err) else max(0.2, 0.9 * err ** -0.2)
                    h = hh * fac
                    if h < 1e-12:
                        state[0, i] = y[0]
                        stats[0] += n_acc
                        stats[1] += n_rej
                        stats[2] += n_rhs
                        return n_spk, i, 2, t
                    continue
                n_acc += 1
                fac = 10.0 if err == 0.0 else min(10.0, max(0.2, 0.9 * err ** -0.2))
                t_new = tb if last else t + hh
                t_stop = t_new
{crossing}
                # the samples of (t, t_stop] from the continuous extension
                while pos >= 0 and m * se_dt <= t_stop + eps_t and m * se_dt <= t_end + eps_t:
                    ts = m * se_dt
                    theta = (ts - t) / hh
{sample}
                    m += 1
{after}                for j in range(nv):
                    y[j] = y1[j]
                    K[0, j] = K[6, j]
                decay_syn(y, n_ch, sp, hh)
                t = t_new
                h = max(h, hh * fac) if last else hh * fac
                if not ({finite}):
                    stats[0] += n_acc
                    stats[1] += n_rej
                    stats[2] += n_rhs
                    return n_spk, i, 1, t
        # the window's end: state back
{store}
        for ch in range(n_ch):
            syn[ch, 0, i] = y[NS + 2 * ch]
            syn[ch, 1, i] = y[NS + 2 * ch + 1]
        h_last[i] = h
    stats[0] += n_acc
    stats[1] += n_rej
    stats[2] += n_rhs
    return n_spk, -1, 0, t_end
'''

_CROSSING = '''\
                # a spike: an upward crossing of the threshold inside the step
                thr = p[{thr}, c]
                if not clamp and y[0] < thr and y1[0] >= thr:
                    lo = 0.0
                    hi = 1.0
                    for _ in range(60):  # bisection on the quartic extension
                        mid = 0.5 * (lo + hi)
                        if dense(y, K, hh, mid, 0) >= thr:
                            hi = mid
                        else:
                            lo = mid
                    tc = t + hi * hh
                    if tc > t_end:
                        tc = t_end
                    if {allowed}:
                        if n_spk >= cap:
                            stats[0] += n_acc
                            stats[1] += n_rej
                            stats[2] += n_rhs
                            return n_spk, i, 3, t
                        spk_t[n_spk] = tc
                        spk_i[n_spk] = i
                        n_spk += 1
                        spiked = True
                        t_stop = tc
                        theta_c = hi
'''

_JUMP_SPIKE = '''\
            # a jump (delta synapse, kick) across the threshold is a spike at t
            thr = p[{thr}, c]
            if not clamp and v_before < thr and y[0] >= thr and {allowed}:
                if n_spk >= cap:
                    stats[0] += n_acc
                    stats[1] += n_rej
                    stats[2] += n_rhs
                    return n_spk, i, 3, t
                spk_t[n_spk] = t
                spk_i[n_spk] = i
                n_spk += 1
                t_stop = t
{reset}
'''

_AFTER_SPIKE = '''\
                if spiked:
                    for j in range(nv):
                        yt[j] = dense(y, K, hh, theta_c, j)
                    for j in range(nv):
                        y[j] = yt[j]
                    decay_syn(y, n_ch, sp, theta_c * hh)
{reset}
                    t = t_stop
                    h = hh * fac
                    need_f = True
                    break
'''


def _fmt(x: float) -> str:
    return repr(float(x))


def _lin(coef: np.ndarray, stages, j: str = "j") -> str:
    terms = [f"{_fmt(a)} * K[{s}, {j}]" for s, a in zip(stages, coef, strict=True) if a != 0.0]
    return " + ".join(terms) if terms else "0.0"


def _stage_lines(indent: int) -> str:
    pad = " " * indent
    out = []
    for s in range(1, 6):
        coef = dopri5.A[s, :s]
        out.append(f"{pad}for j in range(nv):")
        out.append(f"{pad}    yt[j] = y[j] + hh * ({_lin(coef, range(s))})")
        out.append(f"{pad}rhs(yt, K[{s}], {_fmt(dopri5.C[s])} * hh, i_base, clamp, sp, n_ch, "
                   "p, c)")
    out.append(f"{pad}for j in range(nv):")
    out.append(f"{pad}    y1[j] = y[j] + hh * ({_lin(dopri5.B, range(6))})")
    out.append(f"{pad}rhs(y1, K[6], hh, i_base, clamp, sp, n_ch, p, c)")
    out.append(f"{pad}n_rhs += 6")
    return "\n".join(out)


def adaptive_kernel(form: ContinuousForm, state_names: tuple[str, ...]):
    """The compiled adaptive kernel of ``form`` for a population with ``state_names``
    (generated on first use; cached on disk when the form's functions are importable)."""
    key = (form, state_names)
    kernel = _KERNELS.get(key)
    if kernel is not None:
        return kernel
    missing = [s for s in (*form.states, *form.derived,
                           *((form.refractory_state,) if form.refractory_state else ()))
               if s not in state_names]
    if missing:
        raise ValueError(f"the form names states {missing} the population does not have "
                         f"({list(state_names)})")
    ns = len(form.states)
    idx = {s: state_names.index(s) for s in state_names}
    funcs = {"derivatives": form.derivatives, "reset": form.reset, "derive": form.derive}
    funcs = {k: f for k, f in funcs.items() if f is not None}
    cacheable = all(importable(f) for f in funcs.values())
    imports = "".join(import_line(f, k) for k, f in funcs.items()) if cacheable else ""
    rows = [f"p[{r}, c]" for r in range(len(form.rows))]
    y_args = ", ".join(f"y[{j}]" for j in range(ns))
    d_names = ", ".join(f"d{j}" for j in range(ns)) + ("," if ns == 1 else "")
    clamps = form.refractory == "clamp"
    dy_lines = ["    dy[0] = 0.0 if clamp else d0"] if clamps else ["    dy[0] = d0"]
    dy_lines += [f"    dy[{j}] = d{j}" for j in range(1, ns)]
    scale = f" * p[{form.row_index(form.input_scale)}, c]" if form.input_scale else ""
    jump = form.states.index(form.jump_state or form.states[0]) if (
        form.jump_state or form.states[0]) in form.states else None
    if jump is None:
        raise ValueError(f"jump_state {form.jump_state!r} is not an integrated state")
    jump_scale = f" * p[{form.row_index(form.jump_scale)}, c]" if form.jump_scale else ""
    # load / store of the population's rows
    load = [f"        y[{j}] = state[{idx[s]}, i]" for j, s in enumerate(form.states)]
    store = [f"        state[{idx[s]}, i] = y[{j}]" for j, s in enumerate(form.states)]
    if form.refractory is not None:
        rs = idx[form.refractory_state]
        ref_left = f"state[{rs}, i] * dt"
        clamp_init = f"state[{rs}, i] > 0.0" if clamps else "False"
        store.append(f"        state[{rs}, i] = max(ref_end - t_end, 0.0) / dt")
    else:
        ref_left, clamp_init = "0.0", "False"
    if form.derived:
        call = f"derive({y_args}, {', '.join(rows)})"
        names = ", ".join(f"x{j}" for j in range(len(form.derived))) + \
            ("," if len(form.derived) == 1 else "")
        store.append(f"        {names} = {call}")
        store += [f"        state[{idx[s]}, i] = x{j}" for j, s in enumerate(form.derived)]
    # a sample: each recorded row from the continuous extension (or its current value)
    sample = []
    pad = " " * 20
    for j, s in enumerate(form.states):
        sample.append(f"{pad}if rec_slots[{idx[s]}] >= 0:")
        sample.append(f"{pad}    rec_out[rec_slots[{idx[s]}], m - 1, pos] = "
                      f"dense(y, K, hh, theta, {j})")
    if form.refractory is not None:
        rs = idx[form.refractory_state]
        sample.append(f"{pad}if rec_slots[{rs}] >= 0:")
        sample.append(f"{pad}    rec_out[rec_slots[{rs}], m - 1, pos] = "
                      f"max(ref_end - ts, 0.0) / dt")
    if form.derived:
        args = ", ".join(f"dense(y, K, hh, theta, {j})" for j in range(ns))
        names = ", ".join(f"x{j}" for j in range(len(form.derived))) + \
            ("," if len(form.derived) == 1 else "")
        sample.append(f"{pad}{names} = derive({args}, {', '.join(rows)})")
        for j, s in enumerate(form.derived):
            sample.append(f"{pad}if rec_slots[{idx[s]}] >= 0:")
            sample.append(f"{pad}    rec_out[rec_slots[{idx[s]}], m - 1, pos] = x{j}")
    other = [s for s in state_names if s not in form.states and s not in form.derived
             and s != form.refractory_state]
    for s in other:
        sample.append(f"{pad}if rec_slots[{idx[s]}] >= 0:")
        sample.append(f"{pad}    rec_out[rec_slots[{idx[s]}], m - 1, pos] = state[{idx[s]}, i]")
    crossing = ""
    if form.threshold is not None:
        if form.refractory == "detect":
            allowed = "tc >= ref_end"
        else:
            allowed = "True"
        crossing = _CROSSING.format(thr=form.row_index(form.threshold), allowed=allowed)
        reset = []
        pad16 = " " * 20
        if form.reset is not None:
            names = ", ".join(f"r{j}" for j in range(ns)) + ("," if ns == 1 else "")
            reset.append(f"{pad16}{names} = reset({y_args}, {', '.join(rows)})")
            reset += [f"{pad16}y[{j}] = r{j}" for j in range(ns)]
        if form.refractory is not None:
            rr = form.row_index(form.refractory_row)
            reset.append(f"{pad16}if p[{rr}, c] > 0.0:")
            reset.append(f"{pad16}    ref_end = t_stop + p[{rr}, c]")
            if clamps:
                reset.append(f"{pad16}    clamp = True")
        after = _AFTER_SPIKE.format(reset="\n".join(reset) or f"{pad16}pass")
        jump_spike = _JUMP_SPIKE.format(
            thr=form.row_index(form.threshold), allowed=allowed.replace("tc", "t"),
            reset="\n".join(line[4:] for line in reset) or " " * 16 + "pass")
    else:
        after = jump_spike = ""
    finite = " and ".join(f"abs(y[{j}]) < 1e4" for j in range(ns))
    src = _TEMPLATE.format(
        title=f"states {', '.join(form.states)} of "
              f"{getattr(form.derivatives, '__qualname__', form.derivatives)}",
        imports=imports, ns=ns, scale=scale, d_names=d_names, y_args=y_args,
        row_args=", ".join(rows), dy_lines="\n".join(dy_lines),
        p0=_lin(dopri5.P[:, 0], range(7)), p1=_lin(dopri5.P[:, 1], range(7)),
        p2=_lin(dopri5.P[:, 2], range(7)), p3=_lin(dopri5.P[:, 3], range(7)),
        jit_args='cache=True, error_model="numpy"' if cacheable else 'error_model="numpy"',
        load="\n".join(load), ref_left=ref_left, clamp_init=clamp_init, jump=jump,
        jump_scale=jump_scale, stages=_stage_lines(16), err=_lin(dopri5.E, range(7)),
        crossing=crossing, after=after, jump_spike=jump_spike,
        sample="\n".join(sample) or " " * 20 + "pass",
        finite=finite, store="\n".join(store))
    stem = "adaptive_" + "".join(ch if ch.isalnum() else "_" for ch in getattr(
        getattr(form.derivatives, "py_func", form.derivatives), "__name__", "f"))
    module = load_module(stem, src, funcs, cacheable=cacheable)
    _KERNELS[key] = module.kernel
    return module.kernel
