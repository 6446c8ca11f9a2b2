"""Load the compiled simulation code once -- or compile it, on a fresh installation.

Numba compiles the network loop and the model kernels at their first use and keeps the
machine code on disk (:mod:`neurosim_nb._jit`). A fresh installation -- a new clone, a
Binder image, an edited kernel source -- pays for that at its first simulation: about a
dozen seconds per model family on a 2-core VM (17 s for a first CUBA process, against
1.2 s warm), which in a Voila app looks like a hang. ``python -m neurosim_nb.warmup`` does
the work up front and says so:

* the LIF network loop in float64 and float32 (with a Poisson input and a step current),
* every model family's single-population run (each compiles its family's loop),
* one update of every app panel (without background threads), for each model family the
  neuron explorer and the phase plane offer, and each cell and membrane of the dendrites
  and axons app -- the code paths the apps take.

``python3 tasks.py app`` runs it before serving the apps and ``binder/postBuild`` once for
the Binder image. With warm caches it takes a few seconds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

__all__ = ["warm_up", "STEPS"]


def _network(precision: str) -> None:
    import numpy as np

    from neurosim_nb.core.networks.network import Network
    from neurosim_nb.core.neurons import model_class
    from neurosim_nb.stimuli import PoissonInput, StepCurrent

    # the loop of the LIF family (the apps' networks and the benchmarks): each run compiles
    # the loop of its own set of kernels only, so a mixed network here would compile a loop
    # no app uses
    net = Network("warm-up", seed=0)
    net.add_population("LIF", model_class("LIF")(n=2))
    net.connect("LIF", "LIF", "all_to_all", weight=0.1, receptor="current")
    net.add_stimulus("LIF", PoissonInput(rate_hz=10.0, weight_mV=1.0))
    net.add_stimulus("LIF", StepCurrent(1.0, onset_ms=0.0, duration_ms=1.0))
    net.simulate(2.0, record=(), seed=0, verbose=False, precision=precision)
    net.simulate(0.5, record=("V",), record_neurons={"LIF": np.arange(1)}, seed=0,
                 verbose=False, precision=precision)


def _families() -> None:
    from neurosim_nb.core.neurons import MODEL_FAMILIES, model_class

    for family in MODEL_FAMILIES:
        model_class(family)(n=1).simulate(5.0, 1.0, verbose=False, seed=0)


def _neuron_apps() -> None:
    from neurosim_nb.panels.neuron_explorer import NeuronExplorer
    from neurosim_nb.panels.phase_plane import PhasePlane

    explorer = NeuronExplorer(duration=20.0, fi_duration=20.0, background=False)
    for family in explorer.families:
        explorer.set_model(family)
    plane = PhasePlane(duration=20.0)
    for family in plane.families:
        plane.set_model(family)


def _network_apps() -> None:
    from neurosim_nb.panels.network_explorer import NetworkExplorer, ONIExplorer

    NetworkExplorer("Balanced E/I", duration_ms=20.0, background=False)
    ONIExplorer(duration_ms=20.0, background=False)


def _synapse_app() -> None:
    from neurosim_nb.experiments import LearningParameters
    from neurosim_nb.panels.synapses import SynapsesPanel

    SynapsesPanel(learning=LearningParameters(duration=0.2), background=False)


def _job(job: tuple[str, str]) -> None:
    """One compile job of :func:`_compile_in_parallel` (runs in a worker process)."""
    kind, arg = job
    if kind == "network":
        _network(arg)
    else:
        from neurosim_nb.core.neurons import model_class

        model_class(arg)(n=1).simulate(5.0, 1.0, verbose=False, seed=0)


def _compile_in_parallel(workers: int | None = None) -> None:
    """Compile the loops of the steps below in worker processes, one per core (each loop
    is independent: the LIF network loop in two precisions, then every family's own), so
    the steps that follow only load them from the disk cache. Longest first."""
    import os
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from neurosim_nb.core.neurons import MODEL_FAMILIES

    jobs = [("network", "float32"), ("network", "float64")]
    # every family's single run: its kernel and loop (LIF's alone, with no receptors,
    # runs its kernel -- the networks above take LIF's flat path, another loop)
    jobs += sorted((("family", f) for f in MODEL_FAMILIES),
                   key=lambda j: j[1] != "Hodgkin-Huxley")
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    if workers < 2:
        return  # nothing to gain: the steps compile as they go
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        list(pool.map(_job, jobs))


def _dendrite_app() -> None:
    from neurosim_nb.panels.dendrites import CELLS, MEMBRANES, DendritesPanel

    # every cell and membrane (each distinct list of mechanisms is its own compiled
    # membrane and cable loop), a synapse of each receptor, and the axons' velocity sweep
    panel = DendritesPanel(background=False)
    for membrane in MEMBRANES[1:]:
        panel.controls["membrane"].value = membrane
    panel.controls["input"].value = "NMDA synapse"
    for cell in CELLS[1:]:
        panel.controls["cell"].value = cell


def _phase_diagram_app() -> None:
    from neurosim_nb.experiments.brunel import brunel_point

    # the delta-synapse LIF loop of Brunel's network (a clicked cell, a live diagram)
    brunel_point(5.0, 2.0, n_exc=100, duration_ms=20.0, transient_ms=0.0)


#: (what, how): the warm-up's steps, in order
STEPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("compiled loops, in parallel", _compile_in_parallel),
    ("LIF network loop, float64", lambda: _network("float64")),
    ("LIF network loop, float32", lambda: _network("float32")),
    ("single-population runs", _families),
    ("neuron explorer and phase plane", _neuron_apps),
    ("network and ONI explorers", _network_apps),
    ("synapses and plasticity", _synapse_app),
    ("dendrites and axons", _dendrite_app),
    ("Brunel phase diagram", _phase_diagram_app),
)


def warm_up(out=sys.stdout, steps=STEPS) -> float:
    """Run every step of :data:`STEPS`, reporting each one's time to ``out``; returns the
    total seconds. A step that needs the apps' packages (ipywidgets, Bokeh) and cannot
    import them is reported and skipped.

    >>> import io
    >>> buf = io.StringIO()
    >>> warm_up(buf, steps=(("nothing", lambda: None),)) >= 0.0
    True
    >>> "nothing" in buf.getvalue()
    True
    """
    print("Loading neurosim_nb's compiled code (on a fresh installation it is compiled "
          "now, once: about a minute on 2 cores)", file=out, flush=True)
    t_all = time.perf_counter()
    for what, step in steps:
        t0 = time.perf_counter()
        try:
            step()
        except ImportError as exc:  # pragma: no cover - the apps' extra is not installed
            print(f"  {what}: skipped ({exc})", file=out, flush=True)
            continue
        print(f"  {what}: {time.perf_counter() - t0:.1f} s", file=out, flush=True)
    total = time.perf_counter() - t_all
    print(f"ready in {total:.1f} s", file=out, flush=True)
    return total


if __name__ == "__main__":
    warm_up()
