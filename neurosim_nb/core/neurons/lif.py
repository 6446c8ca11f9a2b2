r"""Leaky integrate-and-fire neurons (Gerstner et al., *Neuronal Dynamics*, ch. 1.3).

.. math::

    \tau_m \frac{dV}{dt} = -(V - V_{rest}) + R_m I(t), \qquad \tau_m = R_m C_m

When :math:`V \ge V_{threshold}` a spike is emitted, :math:`V \leftarrow V_{reset}` and the
neuron is clamped there for ``t_refractory``. With the input held constant over a step
the linear membrane is integrated **exactly**:
:math:`V_{k+1} = V_\infty + (V_k - V_\infty) e^{-dt/\tau_m}`, :math:`V_\infty = V_{rest} + R_m I`,
so the f-I curve matches the closed form
:math:`f = 1 / (t_{ref} + \tau_m \ln\frac{V_\infty - V_{reset}}{V_\infty - V_{threshold}})`
up to the spike-time quantisation of one step.

Units: ms, mV, nA, MOhm, nF (MOhm * nA = mV, MOhm * nF = ms).

Examples
--------
>>> neuron = LIFNeuron(LIFParameters(tau_m=20.0, V_rest=-65.0, V_threshold=-50.0,
...                                  t_refractory=2.0))
>>> neuron.V
-65.0
>>> ds = neuron.simulate(200.0, 2.0, seed=0)      # 2 nA for 200 ms
>>> int(ds.sizes["spike"]) > 0
True
"""

from __future__ import annotations

import numpy as np

from neurosim_nb._jit import njit
from neurosim_nb.core.neurons._kernel_util import record_flat, record_step
from neurosim_nb.core.neurons.base import DIVERGENCE_LIMIT, NeuronPopulation, shared_columns
from neurosim_nb.core.neurons.continuous import ContinuousForm
from neurosim_nb.core.synapses.channels import (
    KIND_CONDUCTANCE,
    KIND_CURRENT,
    SYN_DECAY,
    SYN_E_REV,
    SYN_HAS_RISE,
    SYN_KIND,
    SYN_MG,
    SYN_NORM,
    synaptic_block,
)
from neurosim_nb.numerics.bits import ge_mask64, lowest_bit64
from neurosim_nb.numerics.fastmath import fma, prefer_wide_vectors
from neurosim_nb.params import ParameterSet, param, parameters

__all__ = ["LIFParameters", "LIFNeuron", "lif_rate_closed_form"]


@parameters
class LIFParameters(ParameterSet):
    """Parameters of a leaky integrate-and-fire neuron.

    ``C_m`` is derived as ``tau_m / R_m`` when not given; if given it must agree.
    """

    tau_m: float = param(10.0, "ms", (0.1, 1000.0), "membrane time constant")
    V_rest: float = param(-70.0, "mV", (-120.0, 0.0), "resting potential")
    V_threshold: float = param(-50.0, "mV", (-100.0, 50.0), "spike threshold")
    V_reset: float = param(-65.0, "mV", (-120.0, 0.0), "reset potential")
    t_refractory: float = param(2.0, "ms", (0.0, 100.0), "absolute refractory period")
    R_m: float = param(10.0, "MOhm", (0.01, 10000.0), "membrane resistance")
    C_m: float | None = param(None, "nF", (1e-4, 100.0), "membrane capacitance (tau_m / R_m)",
                              optional=True)

    def validate(self) -> None:
        if np.any(np.asarray(self.V_reset) >= np.asarray(self.V_threshold)):
            raise ValueError(f"V_reset ({self.V_reset} mV) must be below V_threshold "
                             f"({self.V_threshold} mV)")
        derived = np.asarray(self.tau_m, float) / np.asarray(self.R_m, float)
        if self.C_m is None:
            self._set_derived("C_m", derived if derived.ndim else float(derived))
        elif not np.allclose(self.C_m, derived, rtol=1e-6):
            raise ValueError(f"C_m ({self.C_m} nF) disagrees with tau_m / R_m = "
                             f"{derived} nF; give two of tau_m, R_m, C_m")


def lif_rate_closed_form(params: LIFParameters, current_nA) -> np.ndarray:
    """Stationary firing rate (Hz) of a noiseless LIF neuron under a constant current.

    Zero below rheobase ``(V_threshold - V_rest) / R_m``.

    >>> round(float(lif_rate_closed_form(LIFParameters(), 3.0)), 3)
    89.582
    """
    i = np.asarray(current_nA, dtype=float)
    v_inf = params.V_rest + params.R_m * i
    with np.errstate(divide="ignore", invalid="ignore"):
        isi = params.t_refractory + params.tau_m * np.log(
            (v_inf - params.V_reset) / (v_inf - params.V_threshold))
        rate = np.where(v_inf > params.V_threshold, 1000.0 / isi, 0.0)
    return rate


#: neurons per block of the kernel's update pass
BLOCK = 256
#: rows of the kernel's parameter matrix (LIFNeuron._kernel_params), by name
KERNEL_ROWS = ("decay", "V_rest", "R_m", "V_threshold", "V_reset", "ref_steps")
R_DECAY, R_V_REST, R_R_M, R_V_TH, R_V_RESET, R_REF = range(len(KERNEL_ROWS))
#: kinds of the channels of the inline update (:func:`_inline_channels`)
INLINE_MIXED, INLINE_CURRENTS, INLINE_CONDUCTANCES = 0, 1, 2


@njit(cache=True, inline="always")
def _lif_integrate(v, r, i_in, decay, v_rest, r_m, v_reset, one):
    """One exact step of one neuron; refractory neurons are held at reset (their input and
    kicks are discarded). Returns ``(V, refractory steps left)``. ``one`` is 1 in the
    arrays' precision (no float64 constant may enter a float32 run's vector loop)."""
    v_inf = fma(r_m, i_in, v_rest)
    v = fma(v - v_inf, decay, v_inf)
    refractory = r >= one  # whole steps left: r > 0 <=> r >= 1
    return (v_reset if refractory else v), (r - one if refractory else r)


@njit(cache=True, inline="always")
def _first_bad(V, b0, b1):
    """The first neuron of block ``b0 .. b1 - 1`` whose V is not finite or beyond the limit."""
    for i in range(b0, b1):
        if not (V[i] < DIVERGENCE_LIMIT and V[i] > -DIVERGENCE_LIMIT):
            return i
    return b0


@njit(cache=True, inline="always")
def _lif_reset(V, ref, v_th, v_reset, ref_steps, pw, b0, b1, step, spk_step, spk_idx, n_spk):
    """Spike, reset and start refractoriness for the block's neurons at threshold
    (V_reset < V_threshold: a refractory neuron never crosses); returns the spike count."""
    for i in range(b0, b1):
        if V[i] >= v_th[i * pw]:
            V[i] = v_reset[i * pw]
            ref[i] = ref_steps[i * pw]
            spk_step[n_spk] = step
            spk_idx[n_spk] = i
            n_spk += 1
    return n_spk


@njit(cache=True, inline="always")
def _lif_spikes(V, oV, ref, oR, n, v_th, v_reset, ref_steps, step, spk_step, spk_idx, n_spk,
                n_cross):
    """Spike, reset and start refractoriness for the ``n_cross`` of the ``n`` neurons
    (V and refractory counters from the unsigned offsets ``oV``, ``oR`` on) at threshold;
    returns the spike count. Each group of 64 neurons is one vector compare whose results
    are the bits of an integer (:func:`~neurosim_nb.numerics.bits.ge_mask64`); the
    loop visits only its set bits, in neuron order, and stops at the last crossing (the
    pass counted them): with k spikes in a step it reads on average a fraction k / (k + 1)
    of V. (The scalar compare of every neuron of a group with a crossing, and its
    mispredicted branches, took 14 % of a COBA 4000 run.)"""
    g = np.uint64(64)
    n64 = n - n % g
    end = n_spk + n_cross
    for c in range(np.uint64(0), n64, g):
        m = ge_mask64(V, oV + c, v_th)
        while m:
            i = c + lowest_bit64(m)
            m &= m - np.uint64(1)
            V[oV + i] = v_reset
            ref[oR + i] = ref_steps
            spk_step[n_spk] = step
            spk_idx[n_spk] = i
            n_spk += 1
        if n_spk == end:
            return n_spk
    return _reset_range(V, oV, ref, oR, v_th, v_reset, ref_steps, step, spk_step, spk_idx,
                        n_spk, n64, n)


@njit(cache=True, inline="always")
def _reset_range(V, oV, ref, oR, v_th, v_reset, ref_steps, step, spk_step, spk_idx, n_spk,
                 lo, hi):
    for i in range(lo, hi):
        if V[oV + i] >= v_th:
            V[oV + i] = v_reset
            ref[oR + i] = ref_steps
            spk_step[n_spk] = step
            spk_idx[n_spk] = i
            n_spk += 1
    return n_spk


@njit(cache=True, inline="always")
def _inline_channels(syn_par, pw, one):
    """Whether the kernel can update the receptor channels inside its neuron loop: shared
    parameters and one or two single-exponential channels (conductance or current, no
    rise, no Mg block, no delta). Returns the flag, the channels' kinds (``INLINE_*``) and
    their constants ``(decay, norm, a, c)`` x 2 with the current ``g (a + c V)``: ``a =
    E_rev, c = -1`` for a conductance, ``a = 1, c = 0`` for a current (the same
    floating-point result as :func:`~neurosim_nb.core.synapses.channels.synaptic_block`)."""
    zero = one - one
    n_ch = syn_par.shape[0]
    ok = pw == 0 and (n_ch == 1 or n_ch == 2)
    n_cond = 0
    for c in range(n_ch):
        if not (syn_par[c, SYN_KIND] == KIND_CONDUCTANCE
                or syn_par[c, SYN_KIND] == KIND_CURRENT) \
                or syn_par[c, SYN_HAS_RISE] > 0 or syn_par[c, SYN_MG] > 0:
            ok = False
        n_cond += syn_par[c, SYN_KIND] == KIND_CONDUCTANCE
    if not ok:
        return False, INLINE_MIXED, (zero, zero, zero, zero, zero, zero, zero, zero)
    kinds = INLINE_CONDUCTANCES if n_cond == n_ch else \
        (INLINE_CURRENTS if n_cond == 0 else INLINE_MIXED)
    out0 = _channel_constants(syn_par, 0, one)
    out1 = _channel_constants(syn_par, n_ch - 1, one)
    return True, kinds, (out0[0], out0[1], out0[2], out0[3], out1[0], out1[1], out1[2],
                         out1[3])


@njit(cache=True, inline="always")
def _channel_constants(syn_par, c, one):
    if syn_par[c, SYN_KIND] == KIND_CONDUCTANCE:
        return syn_par[c, SYN_DECAY], syn_par[c, SYN_NORM], syn_par[c, SYN_E_REV], -one
    return syn_par[c, SYN_DECAY], syn_par[c, SYN_NORM], one, one - one


@njit(cache=True, inline="always")
def _lif_pass_inline(Vb, rb, ib, kb, s0, f0, s1, f1, o, n, n_ch, kinds, ch, decay, v_rest,
                     r_m, v_th, v_reset, one, limit, has_kick, has_input):
    """Receptor channels and membrane of the population in one branch-free pass (it
    vectorises); returns the number of threshold crossings and that of non-finite or
    out-of-range potentials. The channel current uses the start-of-step V (before kicks),
    as in ``synaptic_block``.

    Common cases get their own loops (:func:`_pass_body` with constant flags): two
    channels of one kind with unit normalisation -- a current's ``g (1 + 0 V)`` is ``g``,
    a conductance's ``g (E + (-1) V)`` is ``g (E - V)``, ``f * 1`` is ``f`` -- without
    kicks (``V + 0`` is ``V``) and without input current (``0 + I`` is ``I``). Bit for
    bit the same results as the general loop, with up to 10 fewer operations per neuron:
    the loop is bound by its instructions, not by memory -- two conductance channels run
    at 0.70-0.80 ns per neuron and step for 256 to 16 000 neurons alike (L1- to
    L3-resident), ~96 instructions per 16 neurons in AVX-512 (this CPU executes each as two
    256-bit halves).

    The arrays are read from the unsigned offsets ``o = (V, refractory, input, kicks,
    channel 0 state, channel 0 ring-buffer row, channel 1 state, channel 1 row)`` on, for
    ``n`` neurons, in flat arrays (:func:`_lif_span_flat`, which thus makes no array
    views)."""
    unit = ch[1] == one and ch[5] == one
    if n_ch == 2 and unit and kinds == INLINE_CURRENTS:
        return _pass_drive(Vb, rb, ib, kb, s0, f0, s1, f1, o, n, ch, decay, v_rest, r_m, v_th,
                           v_reset, one, limit, INLINE_CURRENTS, has_kick, has_input)
    if n_ch == 2 and unit and kinds == INLINE_CONDUCTANCES:
        return _pass_drive(Vb, rb, ib, kb, s0, f0, s1, f1, o, n, ch, decay, v_rest, r_m, v_th,
                           v_reset, one, limit, INLINE_CONDUCTANCES, has_kick, has_input)
    if n_ch == 2:
        return _pass_body(Vb, rb, ib, kb, s0, f0, s1, f1, o, n, ch, decay, v_rest, r_m, v_th,
                          v_reset, one, limit, 2, INLINE_MIXED, False, True, True)
    return _pass_body(Vb, rb, ib, kb, s0, f0, s1, f1, o, n, ch, decay, v_rest, r_m, v_th, v_reset,
                      one, limit, 1, INLINE_MIXED, False, True, True)


@njit(cache=True, inline="always")
def _pass_currents(Vb, rb, ib, kb, s0, f0, s1, f1, o, n, n_ch, kinds, ch, decay, v_rest, r_m,
                   v_th, v_reset, one, limit, has_kick, has_input):
    """:func:`_lif_pass_inline` for populations with two unit-normalised current channels
    only (:meth:`LIFNeuron.flat_pass`)."""
    return _pass_drive(Vb, rb, ib, kb, s0, f0, s1, f1, o, n, ch, decay, v_rest, r_m, v_th,
                       v_reset, one, limit, INLINE_CURRENTS, has_kick, has_input)


@njit(cache=True, inline="always")
def _pass_conductances(Vb, rb, ib, kb, s0, f0, s1, f1, o, n, n_ch, kinds, ch, decay, v_rest,
                       r_m, v_th, v_reset, one, limit, has_kick, has_input):
    """:func:`_lif_pass_inline` for populations with two unit-normalised conductance
    channels only (:meth:`LIFNeuron.flat_pass`)."""
    return _pass_drive(Vb, rb, ib, kb, s0, f0, s1, f1, o, n, ch, decay, v_rest, r_m, v_th,
                       v_reset, one, limit, INLINE_CONDUCTANCES, has_kick, has_input)


@njit(cache=True, inline="always")
def _pass_drive(Vb, rb, ib, kb, s0, f0, s1, f1, o, n, ch, decay, v_rest, r_m, v_th, v_reset, one,
                limit, kinds, has_kick, has_input):
    """Two unit-normalised channels of one kind (``kinds``, a constant at each call): the
    loop for kicks, for an input current without kicks, or for neither."""
    if has_kick:
        return _pass_body(Vb, rb, ib, kb, s0, f0, s1, f1, o, n, ch, decay, v_rest, r_m, v_th,
                          v_reset, one, limit, 2, kinds, True, True, True)
    if has_input:
        return _pass_body(Vb, rb, ib, kb, s0, f0, s1, f1, o, n, ch, decay, v_rest, r_m, v_th,
                          v_reset, one, limit, 2, kinds, True, False, True)
    return _pass_body(Vb, rb, ib, kb, s0, f0, s1, f1, o, n, ch, decay, v_rest, r_m, v_th, v_reset,
                      one, limit, 2, kinds, True, False, False)


@njit(cache=True, inline="always")
def _pass_body(Vb, rb, ib, kb, s0, f0, s1, f1, o, n, ch, decay, v_rest, r_m, v_th, v_reset, one,
               limit, n_ch, kinds, unit, kicks, inputs):
    """The loop of :func:`_lif_pass_inline`; ``n_ch``, ``kinds``, ``unit`` (both
    normalisations 1), ``kicks`` and ``inputs`` (an input current) are constants at each
    call, so each call compiles to its own loop without the branches. ``not (|V| <
    limit)`` is one unordered compare: true for NaN and for V beyond either limit."""
    prefer_wide_vectors()
    d0, n0, a0, c0, d1, n1, a1, c1 = ch
    oV, oR, oI, oK, oS0, oF0, oS1, oF1 = o
    zero = one - one
    n_cross = 0
    bad = False
    for j in range(n):  # unsigned: no negative-index handling in the vector loop
        v0 = Vb[oV + j]
        x0 = f0[oF0 + j]
        g0 = fma(s0[oS0 + j], d0, x0 if unit else x0 * n0)
        s0[oS0 + j] = g0
        # stores only where they change memory (masked vector stores): a cache line
        # none of whose entries changes stays clean, and is not written back -- the
        # ring-buffer rows hold a few arrivals per step, the refractory counters of
        # most neurons stay 0 (the buffer never holds -0.0: it starts at +0.0 and
        # +0.0 + w is never -0.0, so skipping the store of a zero changes no bit)
        if x0 != zero:
            f0[oF0 + j] = zero
        if n_ch == 2:
            x1 = f1[oF1 + j]
            g1 = fma(s1[oS1 + j], d1, x1 if unit else x1 * n1)
            s1[oS1 + j] = g1
            if x1 != zero:
                f1[oF1 + j] = zero
            if kinds == INLINE_CURRENTS:
                isyn = g0 + g1
            elif kinds == INLINE_CONDUCTANCES:
                isyn = g0 * (a0 - v0) + g1 * (a1 - v0)
            else:
                isyn = g0 * (a0 + c0 * v0) + g1 * (a1 + c1 * v0)
        else:
            isyn = g0 * (a0 + c0 * v0)
        r0 = rb[oR + j]
        v, r = _lif_integrate(v0 + kb[oK + j] if kicks else v0, r0,
                              ib[oI + j] + isyn if inputs else isyn, decay, v_rest, r_m,
                              v_reset, one)
        Vb[oV + j] = v
        if r != r0:  # (only a refractory neuron's counter changes)
            rb[oR + j] = r
        n_cross += v >= v_th
        bad |= not (abs(v) < limit)
    return n_cross, bad


@njit(cache=True, inline="always")
def _lif_span_flat(state, o_st, n, par, o_par, i_ext, o_i, has_input, kick, o_k, has_kick,
                   zeros, syn_state, o_ss, syn_buf, o_sb, depth, n_ch, kinds, ch, step0, kk,
                   spk_step, spk_idx, o_spk, rec_idx, rec_slots, rec_out, rec, pass_fn):
    """The LIF family's fast path (:meth:`LIFNeuron.flat_update`): shared parameters, one
    or two single-exponential channels, over ``kk`` steps, on the network loop's flat
    arrays at the population's offsets -- one vectorised pass per step
    (:func:`_lif_pass_inline`), then the spikes, then the recording: the same results as
    :func:`_lif_kernel`'s general path, bit for bit, without its block passes, the array
    views and the kernel call of every span (Numba takes and drops an atomic reference for
    each: ~80 per span and population, counted in gdb).

    ``o_st``, ``o_par``, ``o_ss``, ``o_sb``: the population's state (V, refractory),
    parameters (one column), channel states and ring buffers; ``o_i``/``o_k``: the input and
    kick rows of the span's first step (read only with ``has_input``/``has_kick``);
    ``zeros``: at least ``n`` zeros; ``kinds``/``ch``: :func:`_inline_channels`' kinds and
    constants; spikes go to ``spk_step``/``spk_idx`` from ``o_spk`` on; ``rec`` =
    ``(o_ri, n_rec, o_rs, o_ro, n_samples, sample_every)``: ``n_rec`` recorded neurons
    (``rec_idx`` from ``o_ri``, the slots of V and refractory from ``o_rs``, the samples to
    ``rec_out`` from ``o_ro``; 0: nothing recorded); ``pass_fn``: the pass of one step,
    :func:`_lif_pass_inline` or one of its cases (:meth:`LIFNeuron.flat_pass`). (At most 30
    arguments: Python compiles a call with more as ``f(*args)``, which Numba cannot
    inline.) Returns
    ``(n_spk, bad_neuron, bad_step)`` like the kernel.
    """
    o_ri, n_rec, o_rs, o_ro, n_samples, sample_every = rec
    one = state.dtype.type(1.0)
    limit = state.dtype.type(DIVERGENCE_LIMIT)
    d_, vr_, rm_ = par[o_par + R_DECAY], par[o_par + R_V_REST], par[o_par + R_R_M]
    vt_, vre_, rs_ = par[o_par + R_V_TH], par[o_par + R_V_RESET], par[o_par + R_REF]
    u = np.uint64
    un = u(n)
    o_v, o_r = u(o_st), u(o_st + n)
    o_s0, o_s1 = u(o_ss), u(o_ss + (n_ch - 1) * 2 * n)
    o_f1 = o_sb + (n_ch - 1) * depth * n
    n_spk = o_spk
    for k in range(kk):
        slot = (step0 + k) % depth
        o = (o_v, o_r, u(o_i + k * n) if has_input else u(0),
             u(o_k + k * n) if has_kick else u(0), o_s0, u(o_sb + slot * n), o_s1,
             u(o_f1 + slot * n))
        n_cross, n_bad = pass_fn(state, state, i_ext if has_input else zeros,
                                 kick if has_kick else zeros, syn_state, syn_buf, syn_state,
                                 syn_buf, o, un, n_ch, kinds, ch, d_, vr_, rm_, vt_, vre_, one,
                                 limit, has_kick, has_input)
        if n_bad:
            return n_spk - o_spk, _first_bad(state, o_st, o_st + n) - o_st, step0 + k
        if n_cross:
            n_spk = _lif_spikes(state, o_v, state, o_r, un, vt_, vre_, rs_, step0 + k,
                                spk_step, spk_idx, n_spk, n_cross)
        if n_rec:
            record_flat(state, o_st, n, 2, step0 + k, sample_every, rec_idx, o_ri, n_rec,
                        rec_slots, o_rs, rec_out, o_ro, n_samples)
    return n_spk - o_spk, -1, -1


@njit(cache=True)
def _lif_kernel(state, p, i_ext, kick, dt, step0, sample_every, rec_idx, rec_slots, rec_out,
                spk_step, spk_idx, syn_state, syn_buf, syn_par, scratch):
    n = state.shape[1]
    isyn_a = scratch[0]  # synaptic current and V jumps of a step (zero without channels)
    dv_a = scratch[1]
    V = state[0]
    ref = state[1]
    # p has one column per neuron, or a single column when every neuron has the same
    # parameters: the update loop then reads constants instead of six arrays (2x faster)
    pw = 1 if p.shape[1] > 1 else 0
    has_kick = kick.shape[0] > 0
    # an input array with no columns means no input current (the network loop passes one
    # when a population's stimuli are all off): the one-pass loops then skip it
    has_input = i_ext.shape[1] == n
    one = V.dtype.type(1.0)  # constants in the state's precision (float64 or float32)
    limit = V.dtype.type(DIVERGENCE_LIMIT)
    # (shared parameters with one or two single-exponential channels take the flat fast
    # path of the network loop instead: _lif_span_flat)
    n_spk = 0
    decay, v_rest, r_m = p[R_DECAY], p[R_V_REST], p[R_R_M]
    v_th, v_reset, ref_steps = p[R_V_TH], p[R_V_RESET], p[R_REF]
    no_input = i_ext[0] if has_input else np.zeros(n, V.dtype)  # allocated only if used
    for k in range(i_ext.shape[0]):
        slot = (step0 + k) % syn_buf.shape[1]  # ring-buffer slot of this step
        i_k = i_ext[k] if has_input else no_input
        # blocks of BLOCK neurons: receptor channels of the block, then one branch-free pass
        # (it vectorises) integrates the block and counts threshold crossings and
        # non-finite values; only a block with either is scanned again (spikes stay in
        # neuron order). Per block, so the block's arrays stay in L1 between the passes.
        for b0 in range(0, n, BLOCK):
            b1 = min(b0 + BLOCK, n)
            synaptic_block(syn_state, syn_buf, syn_par, slot, V, isyn_a, dv_a, b0, b1)
            if has_kick:
                kick_k = kick[k, b0:b1]
                Vk = V[b0:b1]
                for j in range(b1 - b0):
                    Vk[j] += kick_k[j]
            n_cross = 0
            n_bad = 0
            # loops over block views from 0 (LLVM vectorises these; ``range(b0, b1)`` over
            # the whole arrays it does not: 0.6 vs 3 ns per neuron and step)
            Vb = V[b0:b1]
            rb = ref[b0:b1]
            dvb = dv_a[:b1 - b0]  # the block's workspace: the same L1-resident entries
            ib = i_k[b0:b1]
            sb = isyn_a[:b1 - b0]
            if pw:
                db, vrb, rmb = decay[b0:b1], v_rest[b0:b1], r_m[b0:b1]
                vtb, vreb = v_th[b0:b1], v_reset[b0:b1]
                for j in range(b1 - b0):
                    v, r = _lif_integrate(Vb[j] + dvb[j], rb[j], ib[j] + sb[j],
                                          db[j], vrb[j], rmb[j], vreb[j], one)
                    Vb[j] = v
                    rb[j] = r
                    n_cross += v >= vtb[j]
                    n_bad += not ((v < limit) & (v > -limit))
            else:
                d0, vr0, rm0, vt0, vre0 = decay[0], v_rest[0], r_m[0], v_th[0], v_reset[0]
                for j in range(b1 - b0):
                    v, r = _lif_integrate(Vb[j] + dvb[j], rb[j], ib[j] + sb[j], d0,
                                          vr0, rm0, vre0, one)
                    Vb[j] = v
                    rb[j] = r
                    n_cross += v >= vt0
                    n_bad += not ((v < limit) & (v > -limit))
            if n_bad:
                return n_spk, _first_bad(V, b0, b1), step0 + k
            if n_cross:
                n_spk = _lif_reset(V, ref, v_th, v_reset, ref_steps, pw, b0, b1, step0 + k,
                                   spk_step, spk_idx, n_spk)
        record_step(state, step0 + k, sample_every, rec_idx, rec_slots, rec_out)
    return n_spk, -1, -1


@njit(cache=True)
def lif_derivatives(v, i_in, tau_m, v_rest, r_m, v_th, v_reset, t_ref):
    """dV/dt (mV/ms) of the LIF membrane, ``tau_m dV/dt = -(V - V_rest) + R_m I`` (the
    continuous form of ``method="adaptive"``)."""
    return (v_rest - v + r_m * i_in) / tau_m,


@njit(cache=True)
def lif_reset(v, tau_m, v_rest, r_m, v_th, v_reset, t_ref):
    """The state after a spike: ``V = V_reset``."""
    return v_reset,


#: the LIF equations for ``method="adaptive"`` (V clamped at reset while refractory)
LIF_FORM = ContinuousForm(
    states=("V",), rows=("tau_m", "V_rest", "R_m", "V_threshold", "V_reset", "t_refractory"),
    derivatives=lif_derivatives, threshold="V_threshold", reset=lif_reset,
    refractory="clamp", refractory_row="t_refractory", refractory_state="refractory")


class LIFNeuron(NeuronPopulation):
    """A population of ``n`` leaky integrate-and-fire neurons (struct-of-arrays).

    State variables: ``V`` (mV), ``refractory`` (steps left in the refractory period).
    Input current in nA. See the module docstring for the equations and the scheme.

    Parameters
    ----------
    params : LIFParameters, optional
    n : int
        Number of neurons (default 1).
    label : str, optional
        Population label.

    Examples
    --------
    >>> exc = LIFNeuron.create_excitatory(n=100)
    >>> exc.V.shape
    (100,)
    """

    parameters_class = LIFParameters
    state_variables = {
        "V": ("mV", "membrane potential"),
        "refractory": ("1", "refractory steps remaining"),
    }
    default_label = "lif"
    continuous = LIF_FORM

    @classmethod
    def create_excitatory(cls, n: int = 1, **overrides) -> LIFNeuron:
        """Cortical pyramidal-like LIF: tau_m 20 ms, rest -70 mV, threshold -50 mV,
        reset -60 mV, 2 ms refractory, R_m 100 MOhm (C_m 0.2 nF)."""
        p = LIFParameters(tau_m=20.0, V_rest=-70.0, V_threshold=-50.0, V_reset=-60.0,
                          t_refractory=2.0, R_m=100.0).replace(**overrides)
        return cls(p, n=n, label="excitatory")

    @classmethod
    def create_inhibitory(cls, n: int = 1, **overrides) -> LIFNeuron:
        """Fast-spiking interneuron-like LIF: tau_m 10 ms, rest -70 mV, threshold -50 mV,
        reset -65 mV, 1 ms refractory, R_m 100 MOhm (C_m 0.1 nF)."""
        p = LIFParameters(tau_m=10.0, V_rest=-70.0, V_threshold=-50.0, V_reset=-65.0,
                          t_refractory=1.0, R_m=100.0).replace(**overrides)
        return cls(p, n=n, label="inhibitory")

    @classmethod
    def presets(cls) -> dict[str, LIFParameters]:
        """``excitatory`` and ``inhibitory`` (see the two factories) and ``default``."""
        return {"excitatory": cls.create_excitatory().params,
                "inhibitory": cls.create_inhibitory().params,
                "default": LIFParameters()}

    @classmethod
    def demo_current(cls, preset: str | None = None) -> float:
        """0.3 nA (1.5 x rheobase of the 100 MOhm presets); 3 nA for ``default``."""
        return 3.0 if preset == "default" else 0.3

    def _initial_state(self) -> np.ndarray:
        s = np.zeros((2, self.n))
        s[0] = self.params.per_neuron("V_rest", self.n)
        return s

    def _kernel_params(self, dt: float) -> np.ndarray:
        pp = self.params
        tau = pp.per_neuron("tau_m", self.n)
        p = np.stack([
            np.exp(-dt / tau),
            pp.per_neuron("V_rest", self.n),
            pp.per_neuron("R_m", self.n),
            pp.per_neuron("V_threshold", self.n),
            pp.per_neuron("V_reset", self.n),
            np.round(pp.per_neuron("t_refractory", self.n) / dt),
        ])
        return shared_columns(p)

    ei_presets = ("excitatory", "inhibitory")

    def compiled_kernel(self):
        """The hand-tuned LIF kernel (one vectorised pass per step; see the module)."""
        return _lif_kernel

    def flat_update(self):
        """The network loop's fast path for this family: ``(check, span, pass_fn)``, where
        ``check(syn_par, 0, one)`` -> ``(ok, kinds, constants)`` says whether a population
        with shared parameters can take it (:func:`_inline_channels`), ``span`` advances
        it on the loop's flat arrays (:func:`_lif_span_flat`) with ``pass_fn``, its last
        argument, as the pass of a step: :func:`_lif_pass_inline`, every case, unless the
        loop knows its populations (:meth:`flat_pass`)."""
        return _inline_channels, _lif_span_flat, _lif_pass_inline

    @staticmethod
    def flat_pass(syn_pars):
        """The pass the flat path needs for populations with these receptor channels
        (``syn_pars``: one ``(channel, parameter)`` array per population taking the flat
        path): each case of :func:`_lif_pass_inline` is a vectorised loop of its own, and
        a network loop compiles only the cases its populations take -- a CUBA network's
        first run compiles 3 of the 8 loops (its first run from an empty cache: 19.9 ->
        8.7 s CPU, import included).

        >>> from neurosim_nb.core.synapses.receptors import RECEPTORS
        >>> sp = np.array([RECEPTORS[r].channel_parameters(0.1)
        ...                for r in ("exp_exc", "exp_inh")])
        >>> LIFNeuron.flat_pass([sp, sp]).__name__, LIFNeuron.flat_pass([sp[:1]]).__name__
        ('_pass_conductances', '_lif_pass_inline')
        """
        cases = set()
        for sp in syn_pars:
            ok, kinds, ch = _inline_channels.py_func(np.asarray(sp), 0, 1.0)
            unit = ch[1] == 1.0 and ch[5] == 1.0
            cases.add(kinds if ok and len(sp) == 2 and unit else None)
        if cases == {INLINE_CURRENTS}:
            return _pass_currents
        if cases == {INLINE_CONDUCTANCES}:
            return _pass_conductances
        return _lif_pass_inline

    def rate_closed_form(self, current_nA) -> np.ndarray:
        """Closed-form stationary rate (Hz) at ``current_nA``; see :func:`lif_rate_closed_form`."""
        return lif_rate_closed_form(self.params, current_nA)
