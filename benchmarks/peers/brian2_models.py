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
mV), integrated with Euler (the method Brian2 picks for it); COBAHH -- ``examples/COBAHH.py``;
Brunel -- ``examples/frompapers/Brunel_2000.py``, panel C (g = 5, eta = 2).
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import connection_p, default_n, emit, parser  # noqa: E402

T0 = time.perf_counter()
import brian2 as b2  # noqa: E402
from brian2 import cm, ms, mV, nS, pF, siemens, ufarad, umetre  # noqa: E402

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


def cobahh(n: int):
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
    n_exc = int(round(0.8 * n))
    P = b2.NeuronGroup(n, model=eqs, threshold="v>-20*mV", refractory=3 * ms,
                       method="exponential_euler", namespace=ns)
    Ce = b2.Synapses(P[:n_exc], P, on_pre="ge+=we", namespace=ns)
    Ci = b2.Synapses(P[n_exc:], P, on_pre="gi+=wi", namespace=ns)
    Ce.connect(p=0.02)
    Ci.connect(p=0.02)
    P.v = "El + (randn() * 5 - 5)*mV"
    P.ge = "(randn() * 1.5 + 4) * 10.*nS"
    P.gi = "(randn() * 12 + 20) * 10.*nS"
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
        group, objs = cobahh(n)
    else:
        group, objs = brunel(n)
    mon = b2.SpikeMonitor(group)
    net = b2.Network(*objs, mon)
    if standalone:
        net.run(args.duration * ms)  # generates, compiles and runs the C++ project
        total = time.perf_counter() - t_start
        run_s = float(b2.device._last_run_time)
        build_s = total - run_s
        n_syn = None
    else:
        net.run(0 * ms)  # code generation / Cython compilation (cached on disk)
        build_s = time.perf_counter() - t_start
        t0 = time.perf_counter()
        net.run(args.duration * ms)
        run_s = time.perf_counter() - t0
        n_syn = int(sum(len(o) for o in objs if isinstance(o, b2.Synapses)))
    spikes = int(mon.num_spikes)
    emit(tool="brian2", target=args.target, model=args.model, n=n,
         duration_ms=args.duration, build_s=build_s, run_s=run_s, import_s=T_IMPORT,
         spikes=spikes, synapses=n_syn, version=b2.__version__)


if __name__ == "__main__":
    main()
