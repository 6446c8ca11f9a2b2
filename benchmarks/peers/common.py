"""Shared command line and output of the peer and neurosim_nb benchmark scripts.

Every script builds one model, runs it, and prints ONE JSON line as its last line of
standard output: ``{"tool", "target", "model", "n", "duration_ms", "build_s", "run_s",
"spikes", "rate_hz", ...}``. ``run_s`` is the simulation loop only (wall time), ``run_cpu_s``
the CPU time of the same loop (``time.process_time()`` around it, or what the tool reports);
``build_s`` is network construction (and, where the tool compiles, whatever it does before
the loop).

Models (dt 0.1 ms everywhere):

* ``cuba``   Vogels-Abbott CUBA (Brette et al. 2007 benchmark 2, Brian2 ``examples/CUBA.py``)
* ``coba``   Vogels-Abbott COBA (benchmark 1, the Brian script of Brette et al. 2007)
* ``cobahh`` Traub-Miles HH with exponential conductances (benchmark 3, ``examples/COBAHH.py``)
* ``brunel`` Brunel (2000) model A, Brian2 ``examples/frompapers/Brunel_2000.py`` (g=5, eta=2)
* ``coba_scaling`` COBA at a fixed in-degree of 80 (p = 80 / N) for any N
* ``izhikevich`` Izhikevich (2003) network: 80 % RS / 20 % FS with his heterogeneity, p = 0.02,
  delta synapses (his weights x 5), a Poisson train of V kicks per neuron
  (``neurosim_nb.core.networks.benchmarks_models.izhikevich_network``; numbers in ``IZHIKEVICH``),
  integrated with forward Euler by every tool
* ``izhikevich_exact`` the same network with neurosim_nb's default exact scheme (neurosim_nb
  only: its cost against the Euler rows of ``izhikevich``)
* ``adex``   the same network of AdEx neurons (Naud et al. 2008 "adapting" E, "tonic" I) with
  exponential current synapses, the Poisson drive through the excitatory synapse
  (``adex_network``; numbers in ``ADEX``), forward Euler in every tool
* ``adex_rosenbrock`` the same with neurosim_nb's default Rosenbrock-Euler step (neurosim_nb
  only)
* ``oni``    the neurosim_nb ONI 14-layer model (neurosim_nb only)

This file is imported by scripts that run in either virtual environment: standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys

MODELS = ("cuba", "coba", "cobahh", "brunel", "coba_scaling", "izhikevich", "adex", "oni",
          "izhikevich_exact", "adex_rosenbrock")
#: models only neurosim_nb runs: ONI, and the Izhikevich and AdEx networks with neurosim_nb's
#: default integration (``izhikevich`` and ``adex`` are forward Euler in every tool, the
#: peers' numerics)
OURS_ONLY_MODELS = ("oni", "izhikevich_exact", "adex_rosenbrock")
#: the Izhikevich network (the defaults of ``izhikevich_network``): maximal weights (mV) of
#: Izhikevich's 2003 code, the factor on them, the Poisson drive (Hz, mV per kick)
IZHIKEVICH = {"w_exc_max_mV": 0.5, "w_inh_max_mV": -1.0, "weight_scale": 5.0,
              "drive_rate_hz": 500.0, "drive_weight_mV": 4.0}
#: the AdEx network (the defaults of ``adex_network``): Naud et al. (2008) cells in pF, nS,
#: mV, ms, pA (V_T -50 mV, Delta_T 2 mV, V_peak 0 mV); weights (pA) and drive (Hz, pA)
ADEX_CELLS = {"exc": dict(C=200.0, g_L=12.0, E_L=-70.0, a=2.0, tau_w=300.0, b=60.0, V_r=-58.0),
              "inh": dict(C=200.0, g_L=10.0, E_L=-70.0, a=2.0, tau_w=30.0, b=0.0, V_r=-58.0)}
ADEX = {"V_T": -50.0, "Delta_T": 2.0, "V_peak": 0.0, "tau_e": 5.0, "tau_i": 10.0,
        "w_exc_pA": 30.0, "w_inh_pA": -120.0, "drive_rate_hz": 500.0, "drive_weight_pA": 150.0}
#: in-degree of the COBA scaling series (that of the 4000-neuron benchmark, p = 0.02)
SCALING_INDEGREE = 80


def parser(description: str, targets: tuple[str, ...] = ("default",)) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--model", required=True, choices=MODELS)
    ap.add_argument("--n", type=int, default=None,
                    help="number of neurons (default 4000; Brunel 12500; ONI 50 per layer)")
    ap.add_argument("--duration", type=float, default=1000.0, help="simulated time (ms)")
    ap.add_argument("--target", default=targets[0], choices=targets)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cache-dir", default=None,
                    help="directory for compiled code (Brian2 cpp_standalone projects)")
    return ap


def default_n(model: str, n: int | None) -> int:
    if n is not None:
        return n
    return {"brunel": 12500, "oni": 50}.get(model, 4000)


def connection_p(model: str, n: int) -> float:
    """Connection probability of the Vogels-Abbott models (fixed in-degree for scaling)."""
    return SCALING_INDEGREE / n if model == "coba_scaling" else 0.02


def emit(**fields) -> None:
    n, dur = fields["n"], fields["duration_ms"]
    fields.setdefault("rate_hz", fields["spikes"] / n / (dur / 1000.0))
    sys.stdout.flush()
    print(json.dumps(fields), flush=True)
