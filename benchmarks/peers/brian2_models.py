"""Brian2 versions of the benchmark models, written as the published example scripts.

Run in the peers' environment (``benchmarks/.peers-venv``), e.g.::

    python benchmarks/peers/brian2_models.py --model cuba --target cython --duration 1000

Prints one JSON line (see ``common.py``). ``run_s`` is the simulation loop: for the runtime
targets (numpy, cython) the second of two ``Network.run`` calls (the first, of 0 ms, makes
and compiles the code objects and is counted in ``build_s``); for ``cpp_standalone`` the
time the compiled program reports for its run loop (``device._last_run_time``), while
``build_s`` holds code generation, C++ compilation and synapse creation.

Sources: CUBA -- Brian2 ``examples/CUBA.py``; COBA -- the Brian script of Brette et al.
(2007) benchmark 1 in absolute units (C 200 pF, g_L 10 nS, E_L -60 mV, Ee 0, Ei -80 mV,
we 6 nS, wi 67 nS, initial ge ~ N(4, 1.5^2) g_L, gi ~ N(20, 12^2) g_L, v ~ E_L + N(-5, 5^2)
mV), integrated with Euler (the method Brian2 picks for it); COBAHH -- ``examples/COBAHH.py``
on the connectivity and initial state all tools share (``cobahh_shared.py``);
Brunel -- ``examples/frompapers/Brunel_2000.py``, panel C (g = 5, eta = 2); Izhikevich and
AdEx -- the networks of ``neurosim_nb.core.networks.benchmarks_models`` (numbers in
``common.py``), both integrated with forward Euler (what Brian2 picks for them; for the
Izhikevich model the same numerics as NEST's ``izhikevich`` with ``consistent_integration``),
heterogeneity drawn with numpy, the Poisson drive a ``PoissonInput`` on ``v`` (Izhikevich:
N = 20 sources at a 20th of the rate, a near-Poisson count per step as ours and NEST draw)
or on the excitatory synaptic current (AdEx: N = 1, a Bernoulli draw per neuron and step,
p = rate * dt = 0.05, as ours draws it with a ``PoissonSource``).

``run_cpu_s`` is the loop's CPU time: ``time.process_time()`` around it for the runtime
targets; for ``cpp_standalone`` the ``std::clock()`` interval the compiled program measures
(that is what ``device._last_run_time`` holds: CPU time of the process, not wall time),
while ``run_s`` is then the loop's wall time, read from ``clock_gettime(CLOCK_MONOTONIC)``
stamps inserted around ``network.run`` (``device.insert_code``).
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ADEX, ADEX_CELLS, IZHIKEVICH, connection_p, default_n, emit, parser  # noqa: E402

T0 = time.perf_counter()
import brian2 as b2  # noqa: E402
import numpy as np  # noqa: E402
from brian2 import Hz, cm, ms, mV, nS, pA, pF, siemens, ufarad, umetre  # noqa: E402

T_IMPORT = time.perf_counter() - T0


def vogels_abbott(model: str, n: int):
    n_exc = int(round(0.8 * n))
    p = connection_p(model, n)
    if model == "cuba":
        ns = dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, Vt=-50 * mV, Vr=-60 * mV,
                  El=-49 * mV, we=(60 * 0.27 / 10) * mV, wi=(-20 * 4.5 / 10) * mV)
        eqs = """
        dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
        dge/dt = -ge/taue : volt
        dgi/dt = -gi/taui : volt
        """
        P = b2.NeuronGroup(n, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms,
                           method="exact", namespace=ns)
        P.v = "Vr + rand() * (Vt - Vr)"
        P.ge = 0 * mV
        P.gi = 0 * mV
    else:
        ns = dict(C=200 * pF, gL=10 * nS, taue=5 * ms, taui=10 * ms, Vt=-50 * mV,
                  Vr=-60 * mV, El=-60 * mV, Ee=0 * mV, Ei=-80 * mV, we=6 * nS, wi=67 * nS)
        eqs = """
        dv/dt  = (gL*(El-v) + ge*(Ee-v) + gi*(Ei-v))/C : volt (unless refractory)
        dge/dt = -ge/taue : siemens
        dgi/dt = -gi/taui : siemens
        """
        P = b2.NeuronGroup(n, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms,
                           method="euler", namespace=ns)
        P.v = "El + (randn() * 5 - 5) * mV"
        P.ge = "(randn() * 1.5 + 4) * gL"
        P.gi = "(randn() * 12 + 20) * gL"
    Ce = b2.Synapses(P, P, on_pre="ge += we", namespace=ns)
    Ci = b2.Synapses(P, P, on_pre="gi += wi", namespace=ns)
    Ce.connect(f"i<{n_exc}", p=p)
    Ci.connect(f"i>={n_exc}", p=p)
    return P, [P, Ce, Ci]


def cobahh(n: int, seed: int = 1):
    """``examples/COBAHH.py`` on the realisation all tools share (``cobahh_shared.py``:
    its synapses and initial V, ge, gi in place of ``connect(p=0.02)`` and the example's
    draws from Brian2's generator; m, h, n start at 0 as in the example)."""
    from cobahh_shared import cobahh_realisation

    real = cobahh_realisation(n, seed)
    area = 20000 * umetre**2
    ns = dict(Cm=(1 * ufarad * cm**-2) * area, gl=(5e-5 * siemens * cm**-2) * area,
              El=-60 * mV, EK=-90 * mV, ENa=50 * mV,
              g_na=(100e-3 * siemens * cm**-2) * area, g_kd=(30e-3 * siemens * cm**-2) * area,
              VT=-63 * mV, taue=5 * ms, taui=10 * ms, Ee=0 * mV, Ei=-80 * mV,
              we=6 * nS, wi=67 * nS)
    eqs = b2.Equations("""
    dv/dt = (gl*(El-v)+ge*(Ee-v)+gi*(Ei-v)-
             g_na*(m*m*m)*h*(v-ENa)-
             g_kd*(n*n*n*n)*(v-EK))/Cm : volt
    dm/dt = alpha_m*(1-m)-beta_m*m : 1
    dn/dt = alpha_n*(1-n)-beta_n*n : 1
    dh/dt = alpha_h*(1-h)-beta_h*h : 1
    dge/dt = -ge*(1./taue) : siemens
    dgi/dt = -gi*(1./taui) : siemens
    alpha_m = 0.32*(mV**-1)*(13*mV-v+VT)/
             (exp((13*mV-v+VT)/(4*mV))-1.)/ms : Hz
    beta_m = 0.28*(mV**-1)*(v-VT-40*mV)/
            (exp((v-VT-40*mV)/(5*mV))-1)/ms : Hz
    alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
    beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
    alpha_n = 0.032*(mV**-1)*(15*mV-v+VT)/
             (exp((15*mV-v+VT)/(5*mV))-1.)/ms : Hz
    beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
    """)
    n_exc = real["n_exc"]
    P = b2.NeuronGroup(n, model=eqs, threshold="v>-20*mV", refractory=3 * ms,
                       method="exponential_euler", namespace=ns)
    Ce = b2.Synapses(P[:n_exc], P, on_pre="ge+=we", namespace=ns)
    Ci = b2.Synapses(P[n_exc:], P, on_pre="gi+=wi", namespace=ns)
    Ce.connect(i=real["e_pre"], j=real["e_post"])
    Ci.connect(i=real["i_pre"], j=real["i_post"])
    P.v = real["v"] * mV
    P.ge = real["ge"] * nS
    P.gi = real["gi"] * nS
    return P, [P, Ce, Ci]


def brunel(n: int, g: float = 5.0, eta: float = 2.0):
    N_E = int(round(0.8 * n))
    N_I = n - N_E
    epsilon = 0.1
    C_E = epsilon * N_E
    tau, theta, V_r, tau_rp = 20 * ms, 20 * mV, 10 * mV, 2 * ms
    J, D = 0.1 * mV, 1.5 * ms
    nu_thr = theta / (J * C_E * tau)
    ns = dict(tau=tau, theta=theta, V_r=V_r, J=J, g=g)
    neurons = b2.NeuronGroup(N_E + N_I, "dv/dt = -v/tau : volt (unless refractory)",
                             threshold="v > theta", reset="v = V_r", refractory=tau_rp,
                             method="exact", namespace=ns)
    exc = b2.Synapses(neurons[:N_E], neurons, on_pre="v += J", delay=D, namespace=ns)
    exc.connect(p=epsilon)
    inh = b2.Synapses(neurons[N_E:], neurons, on_pre="v += -g*J", delay=D, namespace=ns)
    inh.connect(p=epsilon)
    ext = b2.PoissonInput(target=neurons, target_var="v", N=int(C_E), rate=eta * nu_thr,
                          weight=J)
    return neurons, [neurons, exc, inh, ext]


#: sources that make up the Izhikevich network's Poisson drive of each neuron
POISSON_SOURCES = 20


def izhikevich(n: int, seed: int):
    """Izhikevich (2003) network, forward Euler (``common.IZHIKEVICH``)."""
    par = IZHIKEVICH
    n_exc = int(round(0.8 * n))
    eqs = """
    dv/dt = (0.04 * v**2 / mV + 5 * v + 140 * mV - u) / ms : volt
    du/dt = a * (b * v - u) : volt
    a : Hz (constant)
    b : 1 (constant)
    c : volt (constant)
    d : volt (constant)
    """
    P = b2.NeuronGroup(n, eqs, threshold="v >= 30 * mV", reset="v = c; u += d",
                       method="euler")
    rng = np.random.default_rng(seed)
    r_e, r_i = rng.random(n_exc), rng.random(n - n_exc)
    P.a = np.concatenate([np.full(n_exc, 0.02), 0.02 + 0.08 * r_i]) / ms
    P.b = np.concatenate([np.full(n_exc, 0.2), 0.25 - 0.05 * r_i])
    P.c = np.concatenate([-65.0 + 15.0 * r_e**2, np.full(n - n_exc, -65.0)]) * mV
    P.d = np.concatenate([8.0 - 6.0 * r_e**2, np.full(n - n_exc, 2.0)]) * mV
    P.v = -65 * mV
    P.u = "b * v"
    ns = dict(we=par["w_exc_max_mV"] * par["weight_scale"] * mV,
              wi=par["w_inh_max_mV"] * par["weight_scale"] * mV)
    Ce = b2.Synapses(P, P, "w : volt (constant)", on_pre="v_post += w", namespace=ns)
    Ci = b2.Synapses(P, P, "w : volt (constant)", on_pre="v_post += w", namespace=ns)
    Ce.connect(f"i<{n_exc}", p=0.02)
    Ci.connect(f"i>={n_exc}", p=0.02)
    Ce.w = "rand() * we"
    Ci.w = "rand() * wi"
    # a Poisson count per neuron and step (as ours and NEST draw it): N = 20 sources of a
    # 20th of the rate, a binomial(20, 0.0025) count whose variance is 0.9975 of Poisson's;
    # N = 1 would be a Bernoulli draw (p = 0.05, no double kicks, 5 % less variance), which
    # lowers the rate by 4 % (10.16 against 10.59 Hz, measured)
    drive = b2.PoissonInput(P, "v", N=POISSON_SOURCES,
                            rate=par["drive_rate_hz"] / POISSON_SOURCES * Hz,
                            weight=par["drive_weight_mV"] * mV)
    return P, [P, Ce, Ci, drive]


def adex(n: int):
    """AdEx network with exponential current synapses, forward Euler (``common.ADEX``)."""
    par = ADEX
    n_exc = int(round(0.8 * n))
    eqs = """
    dv/dt = (g_L * (E_L - v) + g_L * Delta_T * exp((v - V_T) / Delta_T) - w + Ie + Ii) / C
            : volt
    dw/dt = (a * (v - E_L) - w) / tau_w : amp
    dIe/dt = -Ie / tau_e : amp
    dIi/dt = -Ii / tau_i : amp
    C : farad (constant)
    g_L : siemens (constant)
    E_L : volt (constant)
    a : siemens (constant)
    tau_w : second (constant)
    b : amp (constant)
    V_r : volt (constant)
    """
    ns = dict(V_T=par["V_T"] * mV, Delta_T=par["Delta_T"] * mV, V_peak=par["V_peak"] * mV,
              tau_e=par["tau_e"] * ms, tau_i=par["tau_i"] * ms, we=par["w_exc_pA"] * pA,
              wi=par["w_inh_pA"] * pA)
    P = b2.NeuronGroup(n, eqs, threshold="v > V_peak", reset="v = V_r; w += b",
                       method="euler", namespace=ns)
    units = dict(C=pF, g_L=nS, E_L=mV, a=nS, tau_w=ms, b=pA, V_r=mV)
    for name, unit in units.items():
        e, i = ADEX_CELLS["exc"][name], ADEX_CELLS["inh"][name]
        setattr(P, name, np.concatenate([np.full(n_exc, e), np.full(n - n_exc, i)]) * unit)
    P.v = "E_L"
    Ce = b2.Synapses(P, P, on_pre="Ie_post += we", namespace=ns)
    Ci = b2.Synapses(P, P, on_pre="Ii_post += wi", namespace=ns)
    Ce.connect(f"i<{n_exc}", p=0.02)
    Ci.connect(f"i>={n_exc}", p=0.02)
    drive = b2.PoissonInput(P, "Ie", N=1, rate=par["drive_rate_hz"] * Hz,
                            weight=par["drive_weight_pA"] * pA)
    return P, [P, Ce, Ci, drive]


#: C++ inserted around the standalone network.run: wall and CPU seconds of the loop
_STAMP_BEFORE = ("struct timespec _bench_w0, _bench_c0;\n"
                 "clock_gettime(CLOCK_MONOTONIC, &_bench_w0);\n"
                 "clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &_bench_c0);")
_STAMP_AFTER = ("struct timespec _bench_w1, _bench_c1;\n"
                "clock_gettime(CLOCK_MONOTONIC, &_bench_w1);\n"
                "clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &_bench_c1);\n"
                "{ FILE* _f = fopen(\"results/bench_loop_times.txt\", \"w\");\n"
                "  fprintf(_f, \"%.9f %.9f\\n\",\n"
                "          (_bench_w1.tv_sec - _bench_w0.tv_sec)"
                " + 1e-9 * (_bench_w1.tv_nsec - _bench_w0.tv_nsec),\n"
                "          (_bench_c1.tv_sec - _bench_c0.tv_sec)"
                " + 1e-9 * (_bench_c1.tv_nsec - _bench_c0.tv_nsec));\n"
                "  fclose(_f); }")


def main() -> None:
    args = parser(__doc__.splitlines()[0], ("numpy", "cython", "cpp_standalone")).parse_args()
    if args.model == "oni":
        raise SystemExit("the ONI model exists only in neurosim_nb")
    n = default_n(args.model, args.n)
    t_start = time.perf_counter()
    standalone = args.target == "cpp_standalone"
    if standalone:
        directory = os.path.join(args.cache_dir or "brian2_standalone",
                                 f"{args.model}_{n}_{int(args.duration)}")
        b2.set_device("cpp_standalone", directory=directory, build_on_run=True)
    else:
        b2.prefs.codegen.target = args.target
    b2.defaultclock.dt = 0.1 * ms
    b2.seed(args.seed)
    if args.model in ("cuba", "coba", "coba_scaling"):
        group, objs = vogels_abbott(args.model, n)
    elif args.model == "cobahh":
        group, objs = cobahh(n, args.seed)
    elif args.model == "izhikevich":
        group, objs = izhikevich(n, args.seed)
    elif args.model == "adex":
        group, objs = adex(n)
    else:
        group, objs = brunel(n)
    mon = b2.SpikeMonitor(group)
    net = b2.Network(*objs, mon)
    if standalone:
        b2.device.insert_code("before_network_run", _STAMP_BEFORE)
        b2.device.insert_code("after_network_run", _STAMP_AFTER)
        net.run(args.duration * ms)  # generates, compiles and runs the C++ project
        total = time.perf_counter() - t_start
        with open(os.path.join(directory, "results", "bench_loop_times.txt")) as f:
            run_s, run_cpu_s = (float(x) for x in f.read().split())
        clock_s = float(b2.device._last_run_time)  # std::clock(): CPU time
        build_s = total - run_s
        n_syn = None
    else:
        net.run(0 * ms)  # code generation / Cython compilation (cached on disk)
        build_s = time.perf_counter() - t_start
        t0, c0 = time.perf_counter(), time.process_time()
        net.run(args.duration * ms)
        run_s, run_cpu_s = time.perf_counter() - t0, time.process_time() - c0
        clock_s = None
        n_syn = int(sum(len(o) for o in objs if isinstance(o, b2.Synapses)))
    spikes = int(mon.num_spikes)
    emit(tool="brian2", target=args.target, model=args.model, n=n,
         duration_ms=args.duration, build_s=build_s, run_s=run_s, run_cpu_s=run_cpu_s,
         last_run_time_s=clock_s, import_s=T_IMPORT,
         spikes=spikes, synapses=n_syn, version=b2.__version__)


if __name__ == "__main__":
    main()
