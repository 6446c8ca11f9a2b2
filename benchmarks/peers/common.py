"""Shared command line and output of the peer and neurosim_nb benchmark scripts.

Every script builds one model, runs it, and prints ONE JSON line as its last line of
standard output: ``{"tool", "target", "model", "n", "duration_ms", "build_s", "run_s",
"spikes", "rate_hz", ...}``. ``run_s`` is the simulation loop only; ``build_s`` is network
construction (and, where the tool compiles, whatever it does before the loop).

Models (dt 0.1 ms everywhere):

* ``cuba``   Vogels-Abbott CUBA (Brette et al. 2007 benchmark 2, Brian2 ``examples/CUBA.py``)
* ``coba``   Vogels-Abbott COBA (benchmark 1, the Brian script of Brette et al. 2007)
* ``cobahh`` Traub-Miles HH with exponential conductances (benchmark 3, ``examples/COBAHH.py``)
* ``brunel`` Brunel (2000) model A, Brian2 ``examples/frompapers/Brunel_2000.py`` (g=5, eta=2)
* ``coba_scaling`` COBA at a fixed in-degree of 80 (p = 80 / N) for any N
* ``oni``    the neurosim_nb ONI 14-layer model (neurosim_nb only)

This file is imported by scripts that run in either virtual environment: standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys

MODELS = ("cuba", "coba", "cobahh", "brunel", "coba_scaling", "oni")
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
