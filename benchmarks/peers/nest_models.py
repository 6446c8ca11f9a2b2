"""NEST versions of the benchmark models (single thread, dt 0.1 ms).

Run in the peers' environment: ``python benchmarks/peers/nest_models.py --model coba``.
Prints one JSON line (see ``common.py``); ``build_s`` is Create + Connect + initial state,
``run_s`` the ``nest.Simulate`` call. Neuron models: ``iaf_psc_exp`` (CUBA: C 200 pF,
tau_m 20 ms, E_L -49 mV, weights 16.2 / -90 pA = 1.62 / -9 mV on R_m 100 MOhm),
``iaf_cond_exp`` (COBA: g_L 10 nS, E_L -60 mV, 6 / 67 nS, initial conductances as in the
Brian script of Brette et al. 2007), ``hh_cond_exp_traub`` (COBAHH, the neuron of that
benchmark; 3 ms refractory as in Brian2's example; its conductances start at 0, they are
not settable), ``iaf_psc_delta`` (Brunel 2000, model A, connections with probability eps
as in Brian2's example, Poisson drive of C_E * nu_ext).
Izhikevich: ``izhikevich`` (NEST's default ``consistent_integration``: forward Euler of v and
u from the old values, spike jumps added to v after the step, threshold v >= 30 mV -- the
numerics of Brian2's ``method="euler"``, not Izhikevich's two half steps), heterogeneity
drawn with numpy, weights ``nest.random.uniform``, the drive a ``poisson_generator`` (a
Poisson count per step). AdEx: ``aeif_psc_exp`` (exponential current synapses; NEST
integrates it with GSL's adaptive RKF45, V clamped at V_peak inside the solver), the
Poisson drive onto its excitatory synapse, ``t_ref`` 0.
Delays are one step (0.1 ms), NEST's minimum, except Brunel's 1.5 ms. ``run_cpu_s`` is
``time.process_time()`` around ``nest.Simulate`` (one thread).
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ADEX, ADEX_CELLS, IZHIKEVICH, connection_p, default_n, emit, parser  # noqa: E402

T0 = time.perf_counter()
import nest  # noqa: E402

T_IMPORT = time.perf_counter() - T0


def build_izhikevich(n: int, seed: int):
    import numpy as np

    par = IZHIKEVICH
    n_exc = int(round(0.8 * n))
    rng = np.random.default_rng(seed)
    r_e, r_i = rng.random(n_exc), rng.random(n - n_exc)
    exc = nest.Create("izhikevich", n_exc, params={"a": 0.02, "b": 0.2})
    exc.set(c=list(-65.0 + 15.0 * r_e**2), d=list(8.0 - 6.0 * r_e**2))
    inh = nest.Create("izhikevich", n - n_exc, params={"c": -65.0, "d": 2.0})
    inh.set(a=list(0.02 + 0.08 * r_i), b=list(0.25 - 0.05 * r_i))
    pop = exc + inh
    pop.V_m = -65.0
    pop.set(U_m=[-65.0 * b for b in pop.b])
    conn = {"rule": "pairwise_bernoulli", "p": 0.02, "allow_autapses": True}
    w_e = par["w_exc_max_mV"] * par["weight_scale"]
    w_i = par["w_inh_max_mV"] * par["weight_scale"]
    nest.Connect(exc, pop, conn, {"weight": nest.random.uniform(0.0, w_e), "delay": 0.1})
    nest.Connect(inh, pop, conn, {"weight": nest.random.uniform(w_i, 0.0), "delay": 0.1})
    noise = nest.Create("poisson_generator", params={"rate": par["drive_rate_hz"]})
    nest.Connect(noise, pop, syn_spec={"weight": par["drive_weight_mV"], "delay": 0.1})
    return pop


def build_adex(n: int):
    par = ADEX
    n_exc = int(round(0.8 * n))
    common = dict(V_th=par["V_T"], Delta_T=par["Delta_T"], V_peak=par["V_peak"], t_ref=0.0,
                  tau_syn_ex=par["tau_e"], tau_syn_in=par["tau_i"], I_e=0.0)
    pops = []
    for name, size in (("exc", n_exc), ("inh", n - n_exc)):
        c = ADEX_CELLS[name]
        pops.append(nest.Create("aeif_psc_exp", size, params=dict(
            common, C_m=c["C"], g_L=c["g_L"], E_L=c["E_L"], a=c["a"], tau_w=c["tau_w"],
            b=c["b"], V_reset=c["V_r"], V_m=c["E_L"], w=0.0)))
    pop = pops[0] + pops[1]
    conn = {"rule": "pairwise_bernoulli", "p": 0.02, "allow_autapses": True}
    nest.Connect(pops[0], pop, conn, {"weight": par["w_exc_pA"], "delay": 0.1})
    nest.Connect(pops[1], pop, conn, {"weight": par["w_inh_pA"], "delay": 0.1})
    noise = nest.Create("poisson_generator", params={"rate": par["drive_rate_hz"]})
    nest.Connect(noise, pop, syn_spec={"weight": par["drive_weight_pA"], "delay": 0.1})
    return pop


def build(model: str, n: int, seed: int = 1):
    if model == "izhikevich":
        return build_izhikevich(n, seed)
    if model == "adex":
        return build_adex(n)
    n_exc = int(round(0.8 * n))
    rnd = nest.random
    if model == "brunel":
        params = dict(C_m=1.0, tau_m=20.0, E_L=0.0, V_th=20.0, V_reset=10.0, t_ref=2.0,
                      V_m=0.0)
        pop = nest.Create("iaf_psc_delta", n, params=params)
        c_e = int(round(0.1 * n_exc))
        nu_thr = 20.0 / (0.1 * c_e * 20.0) * 1000.0  # Hz
        noise = nest.Create("poisson_generator", params={"rate": 2.0 * nu_thr * c_e})
        nest.Connect(noise, pop, syn_spec={"weight": 0.1, "delay": 0.1})
        conn = {"rule": "pairwise_bernoulli", "p": 0.1, "allow_autapses": True}
        nest.Connect(pop[:n_exc], pop, conn, {"weight": 0.1, "delay": 1.5})
        nest.Connect(pop[n_exc:], pop, conn, {"weight": -0.5, "delay": 1.5})
        return pop
    if model == "cuba":
        params = dict(C_m=200.0, tau_m=20.0, E_L=-49.0, V_th=-50.0, V_reset=-60.0,
                      t_ref=5.0, tau_syn_ex=5.0, tau_syn_in=10.0, I_e=0.0)
        pop = nest.Create("iaf_psc_exp", n, params=params)
        pop.V_m = rnd.uniform(-60.0, -50.0)
        weights = (16.2, -90.0)
    elif model == "cobahh":
        params = dict(g_Na=20000.0, g_K=6000.0, g_L=10.0, C_m=200.0, E_Na=50.0, E_K=-90.0,
                      E_L=-60.0, V_T=-63.0, E_ex=0.0, E_in=-80.0, tau_syn_ex=5.0,
                      tau_syn_in=10.0, t_ref=3.0)
        pop = nest.Create("hh_cond_exp_traub", n, params=params)
        pop.V_m = rnd.normal(-65.0, 5.0)  # its conductances are not settable: they start at 0
        weights = (6.0, -67.0)
    else:
        params = dict(C_m=200.0, g_L=10.0, E_L=-60.0, V_th=-50.0, V_reset=-60.0, t_ref=5.0,
                      E_ex=0.0, E_in=-80.0, tau_syn_ex=5.0, tau_syn_in=10.0)
        pop = nest.Create("iaf_cond_exp", n, params=params)
        pop.V_m = rnd.normal(-65.0, 5.0)
        pop.g_ex = rnd.normal(40.0, 15.0)
        pop.g_in = rnd.normal(200.0, 120.0)
        weights = (6.0, -67.0)
    p = 0.02 if model == "cobahh" else connection_p(model, n)
    conn = {"rule": "pairwise_bernoulli", "p": p, "allow_autapses": True}
    nest.Connect(pop[:n_exc], pop, conn, {"weight": weights[0], "delay": 0.1})
    nest.Connect(pop[n_exc:], pop, conn, {"weight": weights[1], "delay": 0.1})
    return pop


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    if args.model == "oni":
        raise SystemExit("the ONI model exists only in neurosim_nb")
    n = default_n(args.model, args.n)
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": 1, "rng_seed": args.seed,
                          "print_time": False})
    t0 = time.perf_counter()
    pop = build(args.model, n, args.seed)
    rec = nest.Create("spike_recorder")
    nest.Connect(pop, rec)
    build_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    nest.Simulate(args.duration)
    run_s, run_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    emit(tool="nest", target="nest", model=args.model, n=n, duration_ms=args.duration,
         build_s=build_s, run_s=run_s, run_cpu_s=run_cpu_s, import_s=T_IMPORT,
         spikes=int(rec.n_events),
         synapses=int(nest.GetKernelStatus("num_connections")), version=nest.__version__)


if __name__ == "__main__":
    main()
