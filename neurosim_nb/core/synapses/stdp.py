r"""Spike-timing-dependent plasticity: pair-based STDP and reward-modulated STDP.

**Pair-based STDP** (Song, Miller & Abbott 2000; the form of Brian2's STDP example), with
:math:`\Delta t = t_{post} - t_{pre}` between the two neurons' spike times,

.. math::

    \Delta w = \begin{cases} A_+\,e^{-\Delta t/\tau_+} & \Delta t \ge 0
    \ \text{(pre before post: potentiation)}\\
    -A_-\,e^{\Delta t/\tau_-} & \Delta t < 0 \ \text{(post before pre: depression)}
    \end{cases}

summed over all pairs (all-to-all interaction). It is computed with exponential traces:
each presynaptic neuron keeps :math:`x_{pre} = \sum_k e^{-(t - t^k_{pre})/\tau_+}`, each
postsynaptic one :math:`x_{post}` likewise with :math:`\tau_-`; a presynaptic spike first
transmits with the current weight, then depresses by :math:`A_- x_{post}`; a postsynaptic
spike potentiates by :math:`A_+ x_{pre}`. Spikes of the same step are handled
presynaptic first, so :math:`\Delta t = 0` potentiates by :math:`A_+`. The delay is not part
of :math:`\Delta t` (spike times at the somata, as in Song et al.).
``weight_dependence="additive"`` (default) uses the increments as they are, with hard
bounds: the weight is clipped to ``[w_min, w_max]`` after every change.
``"multiplicative"`` (soft bounds, van Rossum, Bi & Turrigiano 2000) scales potentiation by
:math:`(w_{max} - w)/(w_{max} - w_{min})` and depression by
:math:`(w - w_{min})/(w_{max} - w_{min})`. Defaults: :math:`\tau_\pm = 20` ms,
:math:`A_+ = 0.01\,w_{max}`, :math:`A_- = 1.05\,A_+` (depression slightly dominates).

**Reward-modulated STDP** (Izhikevich 2007; Frémaux & Gerstner 2016): the same STDP
increments go into a per-synapse eligibility trace :math:`e` (decaying with
:math:`\tau_e`) instead of the weight, and the weights change **only** when a reward is
applied: ``apply_reward(r)`` sets :math:`w \leftarrow \mathrm{clip}(w + \eta\,r\,e(t))`,
with :math:`e(t)` the eligibility now (the end of the last run). The eligibility is not
consumed by a reward (it keeps decaying), as with a brief dopamine pulse in Izhikevich
(2007); ``reset_eligibility()`` clears it. Without reward the weights never change (the
original NeuroSim changed them anyway).

Everything is event-driven (a trace is a value plus the step of its last update, decayed
when read) and handled by one compiled function per chunk that walks the chunk's pre- and
postsynaptic spikes in time order, so the result equals a step-by-step simulation. A
postsynaptic spike reaches its incoming synapses through a CSC index built in ``bind``.

Examples
--------
>>> from neurosim_nb import LIFNeuron, Network
>>> from neurosim_nb.stimuli import PoissonInput
>>> net = Network(seed=0)
>>> _ = net.add_population("pre", LIFNeuron.create_excitatory(n=20))
>>> _ = net.add_population("post", LIFNeuron.create_excitatory(n=2))
>>> syn = STDPSynapse.create_reward_modulated("pre", "post", weight=0.005, w_max=0.01)
>>> proj = net.add(syn)
>>> net.add_stimulus("pre", PoissonInput(rate_hz=2000.0, weight_mV=1.0))
>>> net.add_stimulus("post", PoissonInput(rate_hz=2000.0, weight_mV=1.0))
>>> w0 = proj.weight.copy()
>>> _ = net.simulate(500.0, seed=1, record=())
>>> bool(np.all(proj.weight == w0))          # pairings, no reward: weights unchanged
True
>>> e = syn.eligibility()
>>> syn.apply_reward(reward=1.0)
>>> bool(np.allclose(proj.weight, np.clip(w0 + e, 0.0, 0.01)))
True
>>> stdp_window(np.array([10.0, -10.0]), STDPParameters())
array([ 6.06530660e-05, -6.36857193e-05])
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

import numpy as np

from neurosim_nb._jit import njit
from neurosim_nb.core.synapses.chemical import ChemicalSynapse, check_rule_args
from neurosim_nb.core.synapses.neuromodulation import modulated_integral
from neurosim_nb.core.synapses.plasticity import (
    EventDrivenDynamics,
    check_bounds,
    init_pair_traces,
    traces_at,
)
from neurosim_nb.params import ParameterSet, param, parameters

__all__ = ["STDPParameters", "RewardSTDPParameters", "STDP", "RewardModulatedSTDP",
           "STDPSynapse", "stdp_window"]


@parameters
class STDPParameters(ParameterSet):
    """Pair-based STDP (see the module docstring); weights in the receptor's units."""

    tau_plus: float = param(20.0, "ms", (0.01, 1e5), "potentiation window time constant")
    tau_minus: float = param(20.0, "ms", (0.01, 1e5), "depression window time constant")
    A_plus: float = param(1e-4, "weight", (0.0, 1e6), "potentiation per pair at dt = 0")
    A_minus: float = param(1.05e-4, "weight", (0.0, 1e6), "depression per pair at dt = 0")
    w_min: float = param(0.0, "weight", (-1e6, 1e6), "lower weight bound")
    w_max: float = param(0.01, "weight", (-1e6, 1e6), "upper weight bound")
    weight_dependence: str = param("additive", "1", None, "additive (hard bounds) or "
                                   "multiplicative (soft bounds)",
                                   choices=("additive", "multiplicative"))

    def validate(self) -> None:
        check_bounds(type(self).__name__, self.w_min, self.w_max)


@parameters
class RewardSTDPParameters(STDPParameters):
    """Reward-modulated STDP: STDP parameters plus the eligibility trace and learning rate."""

    tau_eligibility: float = param(1000.0, "ms", (0.01, 1e7), "eligibility trace time constant")
    learning_rate: float = param(1.0, "1", (0.0, 1e6), "weight change per unit reward and "
                                 "unit eligibility")


def stdp_window(dt_ms, params: STDPParameters) -> np.ndarray:
    """The additive STDP window: weight change of one pair at ``dt_ms = t_post - t_pre``.

    >>> stdp_window(np.array([0.0, 20.0]), STDPParameters(A_plus=1.0, tau_plus=20.0))
    array([1.        , 0.36787944])
    """
    d = np.asarray(dt_ms, dtype=float)
    with np.errstate(over="ignore"):
        return np.where(d >= 0, params.A_plus * np.exp(-d / params.tau_plus),
                        -params.A_minus * np.exp(d / params.tau_minus))


@njit(cache=True)
def _modulate(syn, h, weight, elig, t_elig, h_last, ref, k_elig, gain, w_min, w_max):
    """Add ``gain * c_a * exp((a - ref) k) * (h - h_last)`` to a synapse's weight (the exact
    integral of eligibility times modulator since its last update; clipped)."""
    dh = h - h_last[syn]
    if dh != 0.0:
        e = elig[syn]
        if e != 0.0:
            w = weight[syn] + gain * e * math.exp((t_elig[syn] + 1 - ref) * k_elig) * dh
            weight[syn] = min(max(w, w_min), w_max)
        h_last[syn] = h


@njit(cache=True)
def _modulate_all(h, weight, elig, t_elig, h_last, ref, k_elig, gain, w_min, w_max, b_now):
    """Bring every synapse to boundary ``b_now`` (weights integrated, eligibility decayed
    and stored at ``b_now``, integrals zeroed for a new reference ``b_now``)."""
    for syn in range(weight.size):
        _modulate(syn, h, weight, elig, t_elig, h_last, ref, k_elig, gain, w_min, w_max)
        elig[syn] = elig[syn] * math.exp(-(b_now - 1 - t_elig[syn]) * k_elig)
        t_elig[syn] = b_now - 1
        h_last[syn] = 0.0


@njit(cache=True)
def _stdp_chunk(pre_steps, pre_idx, n_pre, post_steps, post_idx, n_post, indptr, post, weight,
                delay, buf, col_ptr, col_syn, syn_pre, x_pre, t_pre, x_post, t_post, elig,
                t_elig, k_plus, k_minus, k_elig, a_plus, a_minus, w_min, w_max,
                multiplicative, reward, modulated, hblk, step0, h_last, ref, gain):
    """Deliver and learn for one chunk, walking pre and post spikes in time order.

    ``modulated``: before a synapse is used at step ``s``, its weight takes the integral of
    ``gain * c * d`` up to the step's end boundary ``s + 1``: ``hblk[s + 1 - step0]`` is the
    modulator integral there (see :mod:`~neurosim_nb.core.synapses.neuromodulation`),
    ``h_last`` its value at the synapse's last update, ``ref`` the integral's reference
    boundary; the eligibility stored with step ``t`` is its value at boundary ``t + 1``."""
    depth = buf.shape[0]
    span = w_max - w_min
    inv_span = 1.0 / span if span > 0.0 else 0.0
    i = 0
    j = 0
    while i < n_pre or j < n_post:
        if j >= n_post or (i < n_pre and pre_steps[i] <= post_steps[j]):
            s = pre_steps[i]
            nrn = pre_idx[i]
            i += 1
            x_pre[nrn] = x_pre[nrn] * math.exp(-(s - t_pre[nrn]) * k_plus) + 1.0
            t_pre[nrn] = s
            if modulated:
                h = hblk[s + 1 - step0]
                for syn in range(indptr[nrn], indptr[nrn + 1]):
                    _modulate(syn, h, weight, elig, t_elig, h_last, ref, k_elig, gain,
                              w_min, w_max)
            for syn in range(indptr[nrn], indptr[nrn + 1]):
                q = post[syn]
                w = weight[syn]
                buf[(s + delay[syn] + 1) % depth, q] += w
                xp = x_post[q] * math.exp(-(s - t_post[q]) * k_minus)
                if xp == 0.0:
                    continue
                dw = -a_minus * xp
                if multiplicative:
                    dw *= (w - w_min) * inv_span
                if reward:
                    elig[syn] = elig[syn] * math.exp(-(s - t_elig[syn]) * k_elig) + dw
                    t_elig[syn] = s
                else:
                    weight[syn] = min(max(w + dw, w_min), w_max)
        else:
            s = post_steps[j]
            q = post_idx[j]
            j += 1
            x_post[q] = x_post[q] * math.exp(-(s - t_post[q]) * k_minus) + 1.0
            t_post[q] = s
            for c in range(col_ptr[q], col_ptr[q + 1]):
                syn = col_syn[c]
                if modulated:
                    _modulate(syn, hblk[s + 1 - step0], weight, elig, t_elig, h_last, ref,
                              k_elig, gain, w_min, w_max)
                p = syn_pre[syn]
                xp = x_pre[p] * math.exp(-(s - t_pre[p]) * k_plus)
                if xp == 0.0:
                    continue
                w = weight[syn]
                dw = a_plus * xp
                if multiplicative:
                    dw *= (w_max - w) * inv_span
                if reward:
                    elig[syn] = elig[syn] * math.exp(-(s - t_elig[syn]) * k_elig) + dw
                    t_elig[syn] = s
                else:
                    weight[syn] = min(max(w + dw, w_min), w_max)


class STDP(EventDrivenDynamics):
    """Pair-based STDP on a projection (``plastic = True``); see the module docstring.

    Parameters
    ----------
    params : STDPParameters, optional
    **kw
        Parameter overrides (``tau_plus``, ``A_plus``, ``w_max``, ...).
    """

    plastic = True
    _reward = False
    parameters_class = STDPParameters

    def __init__(self, params: STDPParameters | None = None, **kw) -> None:
        super().__init__()
        base = params if params is not None else self.parameters_class()
        if not isinstance(base, self.parameters_class):
            raise TypeError(f"{type(self).__name__} needs {self.parameters_class.__name__}, "
                            f"got {type(base).__name__}")
        self.params = base.replace(**kw)

    def _init_state(self, projection) -> None:
        init_pair_traces(self, projection)
        n_syn = projection.n_synapses
        self.elig = np.zeros(n_syn if self._reward else 0)
        self.t_elig = np.zeros(n_syn if self._reward else 0, dtype=np.int64)
        order = np.argsort(projection.post_idx, kind="stable").astype(np.int64)
        self.col_syn = np.ascontiguousarray(order)
        counts = np.bincount(projection.post_idx, minlength=projection.n_post)
        self.col_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.syn_pre = np.ascontiguousarray(projection.pre_idx, dtype=np.int64)

    def _set_dt(self, dt: float) -> None:
        p = self.params
        self.k_plus = dt / p.tau_plus
        self.k_minus = dt / p.tau_minus
        self.k_elig = dt / getattr(p, "tau_eligibility", math.inf)

    def _rebase(self, step_now: int) -> None:
        self.x_pre = traces_at(self.x_pre, self.t_pre, step_now, self.k_plus)
        self.x_post = traces_at(self.x_post, self.t_post, step_now, self.k_minus)
        self.t_pre[:] = 0
        self.t_post[:] = 0
        if self._reward:
            self.elig = traces_at(self.elig, self.t_elig, step_now, self.k_elig)
            self.t_elig[:] = 0

    def process(self, projection, pre_steps, pre_idx, n_pre, post_steps, post_idx, n_post,
                buf, step_end: int) -> None:
        p = self.params
        mod = self._modulation(step_end)
        _stdp_chunk(pre_steps, pre_idx, n_pre, post_steps, post_idx, n_post, projection.indptr,
                    projection.post_sorted, projection.weight, projection.delay_steps, buf,
                    self.col_ptr, self.col_syn, self.syn_pre, self.x_pre, self.t_pre,
                    self.x_post, self.t_post, self.elig, self.t_elig, self.k_plus, self.k_minus,
                    self.k_elig, p.A_plus, p.A_minus, p.w_min, p.w_max,
                    p.weight_dependence == "multiplicative", self._reward, *mod)
        self.step_now = step_end
        if mod[0] and (step_end - self.ref) * self.k_elig > 1.0:
            self.sync()  # a new reference keeps exp((a - ref) k) small (precision)

    def _modulation(self, step_end: int) -> tuple:
        """The modulator arguments of the chunk function (none for plain STDP)."""
        return _UNMODULATED

    def traces(self) -> tuple[np.ndarray, np.ndarray]:
        """(presynaptic, postsynaptic) STDP traces now (dimensionless)."""
        if self.dt is None:
            return np.zeros(0), np.zeros(0)
        return (traces_at(self.x_pre, self.t_pre, self.step_now, self.k_plus),
                traces_at(self.x_post, self.t_post, self.step_now, self.k_minus))


_UNMODULATED = (False, np.zeros(1), 0, np.zeros(0), 0, 0.0)


class RewardModulatedSTDP(STDP):
    """Reward-modulated STDP: eligibility traces; weights change in :meth:`apply_reward`
    and, with a ``modulator``, continuously during a run
    (:mod:`~neurosim_nb.core.synapses.neuromodulation`; see the module docstring).

    Parameters
    ----------
    params : RewardSTDPParameters, optional
    modulator : Neuromodulator, optional
        The level this rule reads during runs (it must be added to the same network).
    **kw
        Parameter overrides.
    """

    _reward = True
    parameters_class = RewardSTDPParameters

    def __init__(self, params: RewardSTDPParameters | None = None, modulator=None, **kw
                 ) -> None:
        super().__init__(params, **kw)
        if modulator is not None and not isinstance(modulator, str) and not hasattr(
                modulator, "begin_run"):
            raise TypeError(f"modulator must be a Neuromodulator (or its name, given to "
                            f"STDPSynapse.create_reward_modulated), got "
                            f"{type(modulator).__name__}")
        self.modulator = modulator

    def _init_state(self, projection) -> None:
        super()._init_state(projection)
        self.h_last = np.zeros(projection.n_synapses)
        self.h_now = 0.0
        self.ref = 0

    def _rebase(self, step_now: int) -> None:
        super()._rebase(step_now)
        self.h_last = np.zeros(self.elig.size)  # (also for state restored from a config)
        self.h_now = 0.0
        self.ref = 0

    def _modulation(self, step_end: int) -> tuple:
        m = self.modulator
        if m is None:
            return _UNMODULATED
        if isinstance(m, str):
            raise ValueError(f"modulator {m!r} is a name: give the Neuromodulator object, or "
                             f"add the synapse with net.add(STDPSynapse...)")
        step0, end = m.blk
        if end != step_end:
            raise RuntimeError(f"neuromodulator {m.name!r} was not advanced with this run: "
                               f"net.add(...) it to the network of projection "
                               f"{self.projection.name!r}")
        if not m.active:
            return _UNMODULATED
        k_c = self.k_elig
        if (step0 - self.ref) * k_c > 1.0:
            self._resync()  # e.g. the first active block, long after the reference
        tau_c = self.params.tau_eligibility
        dt = self.dt
        inv_cd = 1.0 / tau_c + 1.0 / m.tau_ms
        a_slow = tau_c * -math.expm1(-dt / tau_c)
        a_fast = -math.expm1(-dt * inv_cd) / inv_cd
        hblk = np.empty(m.blk_level.size)
        modulated_integral(self.h_now, step0 - self.ref, k_c, m.blk_level, m.blk_steady,
                           m.blk_steady.size > 0, m.baseline, a_fast, a_slow, hblk)
        self.h_now = float(hblk[-1])
        self._modulated = True
        gain = self.params.learning_rate / m.tau_ms
        return True, hblk, step0, self.h_last, self.ref, gain

    def sync(self) -> None:
        """Bring every weight up to date with the modulator (the engine calls this before
        it records weights and at the end of a run); nothing to do without modulation."""
        if self.dt is None or not getattr(self, "_modulated", False):
            return
        self._resync()

    def _resync(self) -> None:
        p = self.params
        _modulate_all(self.h_now, self.projection.weight, self.elig, self.t_elig, self.h_last,
                      self.ref, self.k_elig, p.learning_rate / self.modulator.tau_ms,
                      p.w_min, p.w_max, self.step_now)
        self.ref = self.step_now
        self.h_now = 0.0

    def eligibility(self) -> np.ndarray:
        """Eligibility of each synapse now (weight units, CSR order of the projection)."""
        if self.dt is None:
            n = 0 if self.projection is None else self.projection.n_synapses
            return np.zeros(n)
        return traces_at(self.elig, self.t_elig, self.step_now, self.k_elig)

    def apply_reward(self, reward: float = 1.0) -> None:
        """Change every weight by ``learning_rate * reward * eligibility`` (clipped to
        ``[w_min, w_max]``). A zero reward changes nothing; a negative one reverses the
        sign of the change."""
        try:
            r = float(reward)
        except (TypeError, ValueError):
            raise ValueError(f"reward must be a number, got {reward!r}") from None
        if not math.isfinite(r):
            raise ValueError(f"reward must be finite, got {reward!r}")
        if self.projection is None or r == 0.0 or self.dt is None:
            return  # not in a network yet, or never run: no eligibility, nothing changes
        p = self.params
        w = self.projection.weight
        np.clip(w + p.learning_rate * r * self.eligibility(), p.w_min, p.w_max, out=w)

    def reset_eligibility(self) -> None:
        """Set every eligibility trace to zero."""
        if self.dt is not None:
            self.elig[:] = 0.0


class STDPSynapse(ChemicalSynapse):
    """A chemical synapse specification with STDP (the seed's ``STDPSynapse``).

    ``net.add(spec)`` returns the Projection; its ``dynamics`` is the :class:`STDP` (or
    :class:`RewardModulatedSTDP`) object, also reachable as ``spec.dynamics``, and
    ``spec.apply_reward(r)`` / ``spec.projection`` work on the spec after it was added.
    Scalar or array initial weights outside ``[w_min, w_max]`` raise at creation.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.dynamics, STDP):
            raise TypeError("an STDPSynapse needs STDP dynamics; use "
                            "STDPSynapse.create_hebbian or create_reward_modulated")
        p = self.dynamics.params
        if self.receptor.weight_units == "uS" and p.w_min < 0:
            raise ValueError(f"w_min = {p.w_min} < 0 for conductance receptor "
                             f"{self.receptor.name} (weights are conductances >= 0 uS)")
        if not isinstance(self.weight, dict):
            w = np.asarray(self.weight, dtype=float)
            if w.size and (w.min() < p.w_min or w.max() > p.w_max):
                raise ValueError(f"initial weight {self.weight!r} lies outside the bounds "
                                 f"[w_min, w_max] = [{p.w_min:g}, {p.w_max:g}] "
                                 f"{self.receptor.weight_units}")

    @classmethod
    def _create(cls, dyn_cls, pre, post, weight, receptor, delay_ms, rule, params, name, kw
                ) -> STDPSynapse:
        names = {f.name for f in fields(dyn_cls.parameters_class)}
        overrides = {k: v for k, v in kw.items() if k in names}
        rule_args = {k: v for k, v in kw.items() if k not in names}
        check_rule_args(rule_args, tuple(sorted(names)))
        base = params if params is not None else dyn_cls.parameters_class()
        if params is None and "A_plus" not in overrides and "w_max" in overrides:
            overrides["A_plus"] = 0.01 * float(overrides["w_max"])
        if params is None and "A_minus" not in overrides and "A_plus" in overrides:
            overrides["A_minus"] = 1.05 * float(overrides["A_plus"])
        dyn = dyn_cls(base, **overrides)
        if weight is None:
            weight = 0.5 * (dyn.params.w_min + dyn.params.w_max)
        return cls(pre, post, receptor, weight, delay_ms, rule, tuple(rule_args.items()), dyn,
                   name)

    @classmethod
    def create_hebbian(cls, pre, post, weight: Any = None, receptor="AMPA",
                       delay_ms: Any = 1.0, rule: str = "all_to_all", *,
                       params: STDPParameters | None = None, name: str | None = None,
                       **kw) -> STDPSynapse:
        """Pair-based (Hebbian) STDP synapse.

        Parameters
        ----------
        pre, post : str or NeuronPopulation
        weight : float, array or distribution dict, optional
            Initial weights (receptor units, inside ``[w_min, w_max]``); default the middle
            of the bounds (0.005 µS with the default ``w_max = 0.01`` µS).
        receptor, delay_ms, rule, name
            As for :class:`~neurosim_nb.core.synapses.chemical.ChemicalSynapse`.
        params : STDPParameters, optional
        **kw
            STDP parameters (``tau_plus``, ``tau_minus``, ``A_plus``, ``A_minus``, ``w_min``,
            ``w_max``, ``weight_dependence``) and the rule's arguments (``p``, ``k``, ...).
            Unless given, ``A_plus = 0.01 w_max`` and ``A_minus = 1.05 A_plus`` (Song et al.).
        """
        return cls._create(STDP, pre, post, weight, receptor, delay_ms, rule, params, name, kw)

    @classmethod
    def create_reward_modulated(cls, pre, post, weight: Any = None, receptor="AMPA",
                                delay_ms: Any = 1.0, rule: str = "all_to_all", *,
                                params: RewardSTDPParameters | None = None,
                                name: str | None = None, modulator=None, **kw
                                ) -> STDPSynapse:
        """Reward-modulated STDP synapse: as :meth:`create_hebbian` plus
        ``tau_eligibility`` (ms, default 1000) and ``learning_rate`` (default 1); the
        weights change in :meth:`apply_reward` and, with a ``modulator`` (a
        :class:`~neurosim_nb.core.synapses.neuromodulation.Neuromodulator` or the name of
        one added to the network first), continuously during runs."""
        spec = cls._create(RewardModulatedSTDP, pre, post, weight, receptor, delay_ms, rule,
                           params, name, kw)
        if modulator is not None:
            if not isinstance(modulator, str) and not hasattr(modulator, "begin_run"):
                raise TypeError(f"modulator must be a Neuromodulator or its name, got "
                                f"{type(modulator).__name__}")
            spec.dynamics.modulator = modulator
        return spec

    def build(self, network):
        """Connect in ``network``; a modulator given by name is looked up there."""
        mod = getattr(self.dynamics, "modulator", None)
        if isinstance(mod, str):
            mods = getattr(network, "modulators", {})
            if mod not in mods:
                raise ValueError(f"the network has no neuromodulator {mod!r} (it has "
                                 f"{sorted(mods)}); net.add(Neuromodulator({mod!r}, ...)) "
                                 f"before the synapse")
            self.dynamics.modulator = mods[mod]
        return super().build(network)

    @property
    def projection(self):
        """The Projection built from this spec (``None`` before ``net.add``)."""
        return self.dynamics.projection

    def apply_reward(self, reward: float = 1.0) -> None:
        """Apply a reward to the built projection (reward-modulated synapses only)."""
        if not isinstance(self.dynamics, RewardModulatedSTDP):
            raise TypeError("apply_reward needs a reward-modulated synapse "
                            "(STDPSynapse.create_reward_modulated)")
        self.dynamics.apply_reward(reward)

    def eligibility(self) -> np.ndarray:
        """Eligibility of each synapse now (reward-modulated synapses only)."""
        if not isinstance(self.dynamics, RewardModulatedSTDP):
            raise TypeError("eligibility needs a reward-modulated synapse")
        return self.dynamics.eligibility()
