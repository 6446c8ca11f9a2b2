"""BrainPy versions of the benchmark models (CUBA, COBA, COBAHH, Izhikevich, AdEx; BrainPy 2.x).

Run in the peers' environment (``benchmarks/.peers-venv``), e.g.::

    python benchmarks/peers/brainpy_models.py --model coba --target float64 --duration 1000

Prints one JSON line (see ``common.py``). Written as BrainPy's own E/I-network examples
(``EINet`` of the ``ProjAlignPostMg1`` docs, ``examples/dynamics_simulation/COBA*.py``): one
population (``bp.dyn.LifRef``, or the HH class of BrainPy's COBAHH example), the excitatory
and inhibitory projections as ``ProjAlignPostMg1`` with stored sparse connectivity
(``bp.dnn.EventCSRLinear`` on ``bp.conn.FixedProb``: each presynaptic neuron of the group to
every neuron with probability p, self-connections allowed, as Brian2's ``connect``),
``bp.dyn.Expon`` conductances and ``bp.dyn.CUBA`` / ``bp.dyn.COBA`` outputs; the spikes of
step k act in step k + 1 (as Brian2's synapses without delay). Parameters are those of
``brian2_models.py`` (CUBA: mV-valued currents; COBA in pF / nS / mV / ms, R = 1 / g_L).
COBAHH's synapses and initial state are those all tools share (``cobahh_shared.py``,
``bp.conn.IJConn``). Integration: CUBA ``exp_auto`` (Brian2: exact), COBA ``euler`` (as
Brian2), COBAHH ``exp_auto`` (Brian2: exponential Euler). ``tau_ref`` is 5 ms - dt / 2
because BrainPy holds V while ``t - t_spike <= tau_ref`` (Brian2 releases it at
``t - t_spike = 5 ms``).

Izhikevich and AdEx (the networks of ``common.IZHIKEVICH`` / ``common.ADEX``): neuron classes
written out here with forward Euler (as Brian2 and NEST's ``izhikevich``; BrainPy's own
``Izhikevich`` / ``AdExIF`` integrate with ``exp_auto`` and have no per-neuron heterogeneity
of this form), the same ``EventCSRLinear`` projections -- Izhikevich: delta synapses (the
summed weights of the previous step's spikes are added to v, uniform weights drawn by
``bp.init.Uniform``), AdEx: exponential currents decaying by exp(-dt / tau) per step -- and
the Poisson drive drawn as ours draws it: Izhikevich a Poisson count per neuron and step
(inversion of one uniform variate), AdEx a Bernoulli draw (p = rate * dt, ours'
``PoissonSource``, Brian2's ``PoissonInput`` with N = 1).

Timing: the whole run is one jitted ``bm.for_loop`` chunk of ``CHUNK`` steps called
repeatedly. ``build_s`` is construction plus the JIT compilation of that chunk (one warm-up
call, after which the initial state is restored); ``run_s`` the timed loop over all chunks
(float64 by default; ``--target float32``), ``run_cpu_s`` its ``time.process_time()``.
``compile_s`` reports the warm-up separately.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ADEX, ADEX_CELLS, IZHIKEVICH, connection_p, default_n, emit, parser  # noqa: E402

T0 = time.perf_counter()
import brainpy as bp  # noqa: E402
import brainpy.math as bm  # noqa: E402
import jax  # noqa: E402
import numpy as np  # noqa: E402

T_IMPORT = time.perf_counter() - T0
DT = 0.1
#: steps per jitted chunk (10 ms)
CHUNK = 100


class EINet(bp.DynSysGroup):
    """Vogels-Abbott CUBA / COBA network (``model`` 'cuba', 'coba' or 'coba_scaling')."""

    def __init__(self, model: str, n: int, seed: int):
        super().__init__()
        self.n_exc = n_exc = int(round(0.8 * n))
        p = connection_p(model, n)
        rng = np.random.default_rng(seed)
        if model == "cuba":
            # dv/dt = (ge + gi - (v - El)) / taum, ge/gi in mV
            self.N = bp.dyn.LifRef(n, V_rest=-49.0, V_th=-50.0, V_reset=-60.0, R=1.0, tau=20.0,
                                   tau_ref=5.0 - DT / 2,
                                   V_initializer=bm.asarray(rng.uniform(-60.0, -50.0, n)))
            we, wi = 60 * 0.27 / 10, -20 * 4.5 / 10
            out_e, out_i = bp.dyn.CUBA.desc(), bp.dyn.CUBA.desc()
        else:
            # C dv/dt = gL (El - v) + ge (Ee - v) + gi (Ei - v): tau = C / gL, R = 1 / gL
            self.N = bp.dyn.LifRef(n, V_rest=-60.0, V_th=-50.0, V_reset=-60.0, R=1 / 10.0,
                                   tau=200.0 / 10.0, tau_ref=5.0 - DT / 2, method="euler",
                                   V_initializer=bm.asarray(-60.0 + rng.normal(-5.0, 5.0, n)))
            we, wi = 6.0, 67.0
            out_e, out_i = bp.dyn.COBA.desc(E=0.0), bp.dyn.COBA.desc(E=-80.0)
        self.E = bp.dyn.ProjAlignPostMg1(
            comm=bp.dnn.EventCSRLinear(bp.conn.FixedProb(p, pre=n_exc, post=n, seed=seed), we),
            syn=bp.dyn.Expon.desc(n, tau=5.0), out=out_e, post=self.N)
        self.I = bp.dyn.ProjAlignPostMg1(
            comm=bp.dnn.EventCSRLinear(bp.conn.FixedProb(p, pre=n - n_exc, post=n,
                                                         seed=seed + 1), wi),
            syn=bp.dyn.Expon.desc(n, tau=10.0), out=out_i, post=self.N)
        if model != "cuba":  # initial conductances, as the Brian script (nS)
            self.E.syn.g.value = bm.asarray(rng.normal(4.0, 1.5, n) * 10.0)
            self.I.syn.g.value = bm.asarray(rng.normal(20.0, 12.0, n) * 10.0)

    def update(self):
        spk = self.N.spike.value  # spikes of the previous step
        self.E(spk[:self.n_exc])
        self.I(spk[self.n_exc:])
        return self.N()


# COBAHH: Brian2 examples/COBAHH.py (area 20 000 um^2: pF, nS, mV, ms)
HH = dict(Cm=200.0, gl=10.0, El=-60.0, EK=-90.0, ENa=50.0, g_na=20000.0, g_kd=6000.0,
          VT=-63.0, V_th=-20.0, t_ref=3.0)


class TraubHH(bp.dyn.NeuDyn):
    """The HH neuron of BrainPy's COBAHH example (Traub-Miles, as Brian2's COBAHH.py)."""

    def __init__(self, n: int, v0, method: str = "exp_auto"):
        super().__init__(n)
        self.V = bm.Variable(bm.asarray(v0))
        self.m = bm.Variable(bm.zeros(n))
        self.n = bm.Variable(bm.zeros(n))
        self.h = bm.Variable(bm.zeros(n))
        self.spike = bm.Variable(bm.zeros(n, dtype=bool))
        self.t_last_spike = bm.Variable(bm.ones(n) * -1e7)
        self.integral = bp.odeint(bp.JointEq(self.dV, self.dm, self.dh, self.dn), method=method)

    def dV(self, V, t, m, h, n):
        p = HH
        i_syn = self.sum_current_inputs(V, init=0.0)
        return (p["gl"] * (p["El"] - V) - p["g_na"] * m * m * m * h * (V - p["ENa"])
                - p["g_kd"] * n * n * n * n * (V - p["EK"]) + i_syn) / p["Cm"]

    def dm(self, m, t, V):
        u = V - HH["VT"]
        a = 0.32 * (13 - u) / (bm.exp((13 - u) / 4) - 1.0)
        b = 0.28 * (u - 40) / (bm.exp((u - 40) / 5) - 1.0)
        return a * (1 - m) - b * m

    def dh(self, h, t, V):
        u = V - HH["VT"]
        a = 0.128 * bm.exp((17 - u) / 18)
        b = 4.0 / (1 + bm.exp((40 - u) / 5))
        return a * (1 - h) - b * h

    def dn(self, n, t, V):
        u = V - HH["VT"]
        a = 0.032 * (15 - u) / (bm.exp((15 - u) / 5) - 1.0)
        b = 0.5 * bm.exp((10 - u) / 40)
        return a * (1 - n) - b * n

    def update(self, x=None):
        t, dt = bp.share["t"], bp.share["dt"]
        V, m, h, n = self.integral(self.V.value, self.m.value, self.h.value, self.n.value, t,
                                   dt=dt)
        # Brian2: threshold v > -20 mV outside the 3 ms refractory period
        spike = bm.logical_and(V > HH["V_th"], (t - self.t_last_spike.value) > HH["t_ref"]
                               - DT / 2)
        self.t_last_spike.value = bm.where(spike, t, self.t_last_spike.value)
        self.V.value, self.m.value, self.h.value, self.n.value = V, m, h, n
        self.spike.value = spike
        return spike


class COBAHHNet(EINet):
    """Brian2's COBAHH on the realisation all tools share (``cobahh_shared.py``)."""

    def __init__(self, n: int, seed: int):
        from cobahh_shared import cobahh_realisation

        bp.DynSysGroup.__init__(self)
        real = cobahh_realisation(n, seed)
        self.n_exc = n_exc = real["n_exc"]
        self.N = TraubHH(n, real["v"])
        self.E = bp.dyn.ProjAlignPostMg1(
            comm=bp.dnn.EventCSRLinear(
                bp.conn.IJConn(i=real["e_pre"], j=real["e_post"])(pre_size=n_exc, post_size=n),
                6.0),
            syn=bp.dyn.Expon.desc(n, tau=5.0), out=bp.dyn.COBA.desc(E=0.0), post=self.N)
        self.I = bp.dyn.ProjAlignPostMg1(
            comm=bp.dnn.EventCSRLinear(
                bp.conn.IJConn(i=real["i_pre"], j=real["i_post"])(pre_size=n - n_exc,
                                                                   post_size=n), 67.0),
            syn=bp.dyn.Expon.desc(n, tau=10.0), out=bp.dyn.COBA.desc(E=-80.0), post=self.N)
        self.E.syn.g.value = bm.asarray(real["ge"])
        self.I.syn.g.value = bm.asarray(real["gi"])


class IzhikevichEuler(bp.dyn.NeuDyn):
    """Izhikevich (2003) neurons, forward Euler; ``jump`` (mV) is added to v before the
    step (spikes of the previous step and the Poisson kicks)."""

    def __init__(self, n: int, a, b, c, d):
        super().__init__(n)
        self.a, self.b, self.c, self.d = (bm.asarray(x) for x in (a, b, c, d))
        self.V = bm.Variable(bm.ones(n) * -65.0)
        self.u = bm.Variable(self.b * -65.0)
        self.spike = bm.Variable(bm.zeros(n, dtype=bool))

    def update(self, jump):
        v, u = self.V.value + jump, self.u.value
        dt = bp.share["dt"]
        v_new = v + dt * (0.04 * v * v + 5.0 * v + 140.0 - u)
        u_new = u + dt * self.a * (self.b * v - u)
        spike = v_new >= 30.0
        self.V.value = bm.where(spike, self.c, v_new)
        self.u.value = bm.where(spike, u_new + self.d, u_new)
        self.spike.value = spike
        return spike


class IzhikevichNet(bp.DynSysGroup):
    def __init__(self, n: int, seed: int):
        super().__init__()
        par = IZHIKEVICH
        self.n, self.n_exc = n, (n_exc := int(round(0.8 * n)))
        rng = np.random.default_rng(seed)
        r_e, r_i = rng.random(n_exc), rng.random(n - n_exc)
        self.N = IzhikevichEuler(
            n, a=np.concatenate([np.full(n_exc, 0.02), 0.02 + 0.08 * r_i]),
            b=np.concatenate([np.full(n_exc, 0.2), 0.25 - 0.05 * r_i]),
            c=np.concatenate([-65.0 + 15.0 * r_e**2, np.full(n - n_exc, -65.0)]),
            d=np.concatenate([8.0 - 6.0 * r_e**2, np.full(n - n_exc, 2.0)]))
        w_e = par["w_exc_max_mV"] * par["weight_scale"]
        w_i = par["w_inh_max_mV"] * par["weight_scale"]
        self.E = bp.dnn.EventCSRLinear(bp.conn.FixedProb(0.02, pre=n_exc, post=n, seed=seed),
                                       bp.init.Uniform(0.0, w_e, seed=seed))
        self.I = bp.dnn.EventCSRLinear(bp.conn.FixedProb(0.02, pre=n - n_exc, post=n,
                                                         seed=seed + 1),
                                       bp.init.Uniform(w_i, 0.0, seed=seed + 1))
        # Poisson counts per neuron and step by inversion of a uniform variate against the
        # cumulative probabilities of 0..5 events (mean 0.05: P(> 5) ~ 2e-11)
        lam = par["drive_rate_hz"] * DT / 1000.0
        terms = np.exp(-lam) * np.cumprod([1.0] + [lam / k for k in range(1, 6)])
        self.drive_cdf = bm.asarray(np.cumsum(terms))
        self.w_drive = par["drive_weight_mV"]

    def update(self):
        spk = self.N.spike.value  # spikes of the previous step
        u = bm.random.rand(self.n)
        kicks = bm.sum(u[:, None] >= self.drive_cdf[None, :], axis=1) * self.w_drive
        return self.N(self.E(spk[:self.n_exc]) + self.I(spk[self.n_exc:]) + kicks)


class AdExEuler(bp.dyn.NeuDyn):
    """AdEx neurons (pF, nS, mV, ms, pA) with exponential current synapses, forward Euler
    of V and w; the synaptic currents decay exactly."""

    def __init__(self, n: int, n_exc: int):
        super().__init__(n)
        cells = [ADEX_CELLS["exc"], ADEX_CELLS["inh"]]

        def col(name):
            return bm.asarray(np.concatenate([np.full(n_exc, cells[0][name]),
                                              np.full(n - n_exc, cells[1][name])]))

        self.C, self.g_L, self.E_L, self.a, self.tau_w, self.b, self.V_r = (
            col(k) for k in ("C", "g_L", "E_L", "a", "tau_w", "b", "V_r"))
        self.V = bm.Variable(self.E_L * 1.0)
        self.w = bm.Variable(bm.zeros(n))
        self.Ie = bm.Variable(bm.zeros(n))
        self.Ii = bm.Variable(bm.zeros(n))
        self.spike = bm.Variable(bm.zeros(n, dtype=bool))

    def update(self, ie_in, ii_in):
        p, dt = ADEX, bp.share["dt"]
        v, w = self.V.value, self.w.value
        ie = self.Ie.value + ie_in
        ii = self.Ii.value + ii_in
        ex = bm.exp(bm.minimum((v - p["V_T"]) / p["Delta_T"], 50.0))
        dv = (self.g_L * (self.E_L - v) + self.g_L * p["Delta_T"] * ex - w + ie + ii) / self.C
        v_new = v + dt * dv
        w_new = w + dt * (self.a * (v - self.E_L) - w) / self.tau_w
        spike = v_new > p["V_peak"]
        self.V.value = bm.where(spike, self.V_r, v_new)
        self.w.value = bm.where(spike, w_new + self.b, w_new)
        self.Ie.value = ie * np.exp(-DT / p["tau_e"])
        self.Ii.value = ii * np.exp(-DT / p["tau_i"])
        self.spike.value = spike
        return spike


class AdExNet(bp.DynSysGroup):
    def __init__(self, n: int, seed: int):
        super().__init__()
        par = ADEX
        self.n, self.n_exc = n, (n_exc := int(round(0.8 * n)))
        self.N = AdExEuler(n, n_exc)
        self.E = bp.dnn.EventCSRLinear(bp.conn.FixedProb(0.02, pre=n_exc, post=n, seed=seed),
                                       par["w_exc_pA"])
        self.I = bp.dnn.EventCSRLinear(bp.conn.FixedProb(0.02, pre=n - n_exc, post=n,
                                                         seed=seed + 1), par["w_inh_pA"])
        self.p_drive = par["drive_rate_hz"] * DT / 1000.0
        self.w_drive = par["drive_weight_pA"]

    def update(self):
        spk = self.N.spike.value  # spikes of the previous step
        drive = (bm.random.rand(self.n) < self.p_drive) * self.w_drive
        return self.N(self.E(spk[:self.n_exc]) + drive, self.I(spk[self.n_exc:]))


def main() -> None:
    args = parser(__doc__.splitlines()[0], ("float64", "float32")).parse_args()
    if args.model not in ("cuba", "coba", "coba_scaling", "cobahh", "izhikevich", "adex"):
        raise SystemExit(f"no BrainPy version of {args.model}")
    if args.target == "float64":
        bm.enable_x64()
    bm.set_platform("cpu")
    bm.set_dt(DT)
    bm.random.seed(args.seed)
    n = default_n(args.model, args.n)
    n_steps = int(round(args.duration / DT))
    t_start = time.perf_counter()
    if args.model == "cobahh":
        net = COBAHHNet(n, args.seed)
    elif args.model == "izhikevich":
        net = IzhikevichNet(n, args.seed)
    elif args.model == "adex":
        net = AdExNet(n, args.seed)
    else:
        net = EINet(args.model, n, args.seed)
    comm = [getattr(x, "comm", x) for x in (net.E, net.I)]
    n_syn = int(comm[0].indices.size + comm[1].indices.size)
    state = net.vars().unique()
    init = {k: v.value for k, v in state.items()}

    @bm.jit
    def chunk(indices):
        return bm.for_loop(lambda i: bm.sum(net.step_run(i)), indices, progress_bar=False)

    t_build = time.perf_counter()
    jax.block_until_ready(chunk(np.arange(CHUNK)))  # warm-up: JIT compilation
    compile_s = time.perf_counter() - t_build
    for k, v in state.items():  # back to the initial state
        v.value = init[k]
    build_s = time.perf_counter() - t_start
    counts = []
    t0, c0 = time.perf_counter(), time.process_time()
    for start in range(0, n_steps, CHUNK):
        idx = np.arange(start, start + CHUNK)
        counts.append(chunk(idx))
    counts = np.concatenate([np.asarray(c) for c in counts])[:n_steps]
    run_s, run_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    emit(tool="brainpy", target=args.target, model=args.model, n=n, duration_ms=args.duration,
         build_s=build_s, run_s=run_s, run_cpu_s=run_cpu_s, compile_s=compile_s, import_s=T_IMPORT,
         spikes=int(counts.sum()), synapses=n_syn, version=bp.__version__,
         jax_version=jax.__version__)


if __name__ == "__main__":
    main()
