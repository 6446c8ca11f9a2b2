"""Spike counts and bit-level hashes of reference runs, to show that a refactor changes no
number: run it on the old and the new tree and diff the outputs.

    python benchmarks/fingerprint.py > before.txt     # on the old checkout
    python benchmarks/fingerprint.py > after.txt      # on the new one
    diff before.txt after.txt && echo identical

Each line: a case, its spike count and a SHA-256 prefix of its spike trains (and, for
single populations and mixed networks, of every recorded state variable). Cases: the
benchmark networks (CUBA, COBA in both precisions, Brunel, COBAHH in both precisions),
every preset of every registered family alone under a step current, and for every family
a small network with AMPA, GABA-A, NMDA (Mg block) and delta synapses, delays and Poisson
kicks. About 3 minutes on 2 cores with warm caches.
"""

from __future__ import annotations

import hashlib
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))

from neurosim_nb import Network  # noqa: E402
from neurosim_nb.core.networks.benchmarks_models import (  # noqa: E402
    brunel_network,
    coba_network,
    cuba_network,
)
from neurosim_nb.core.neurons import MODEL_FAMILIES, model_class  # noqa: E402
from neurosim_nb.core.neurons.lif import LIFNeuron  # noqa: E402
from neurosim_nb.core.synapses.receptors import RECEPTORS  # noqa: E402

try:
    from neurosim_nb.stimuli import PoissonInput, StepCurrent
except ImportError:  # a tree from before the stimuli moved below the engine
    from neurosim_nb.engine.stimuli import PoissonInput, StepCurrent


def digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def network_case(name, net, duration_ms, precision="float64"):
    ds = net.simulate(duration_ms, dt=0.1, record=(), seed=1, precision=precision,
                      verbose=False)
    print(name, int(ds.sizes["spike"]), digest(ds.spike_time.values, ds.spike_neuron.values),
          flush=True)


def mixed_network(cls):
    net = Network("m", seed=3)
    net.add_population("a", cls.from_preset(list(cls.presets())[0], n=200))
    net.add_population("b", LIFNeuron.create_inhibitory(n=50))
    net.connect("a", "a", "fixed_probability", p=0.1, weight=0.002, delay_ms=1.0,
                receptor=RECEPTORS["AMPA"])
    net.connect("b", "a", "fixed_probability", p=0.1, weight=0.004, delay_ms=0.5,
                receptor=RECEPTORS["GABA_A"])
    net.connect("a", "b", "fixed_probability", p=0.1, weight=0.002, delay_ms=1.5,
                receptor=RECEPTORS["NMDA"])
    net.connect("a", "a", "fixed_probability", p=0.05, weight=0.3, delay_ms=2.0,
                receptor=RECEPTORS["delta"])
    net.add_stimulus("a", PoissonInput(rate_hz=2000.0, weight_mV=1.0, n_sources=1))
    net.add_stimulus("b", StepCurrent(0.25, onset_ms=0.0))
    return net


def main() -> None:
    from ours import cobahh_network

    network_case("cuba4000", cuba_network(4000, seed=1), 1000.0)
    network_case("coba4000", coba_network(4000, seed=1), 1000.0)
    network_case("coba4000_f32", coba_network(4000, seed=1), 300.0, "float32")
    network_case("brunel12500_200ms", brunel_network(12500, seed=1), 200.0)
    network_case("cobahh4000_300ms", cobahh_network(4000, seed=1), 300.0)
    network_case("cobahh4000_f32_300ms", cobahh_network(4000, seed=1), 300.0, "float32")
    for family in list(MODEL_FAMILIES):
        cls = model_class(family)
        for preset in cls.presets():
            pop = cls.from_preset(preset, n=3)
            ds = pop.simulate(300.0, StepCurrent(cls.demo_current(preset), onset_ms=20.0),
                              seed=0, record=list(pop.state_variables), verbose=False)
            print(f"single_{cls.__name__}_{preset}", int(ds.sizes["spike"]),
                  digest(*[ds[v].values for v in pop.state_variables], ds.spike_time.values),
                  flush=True)
    for family in list(MODEL_FAMILIES):
        cls = model_class(family)
        ds = mixed_network(cls).simulate(300.0, dt=0.1, seed=5, verbose=False, record=("V",))
        print(f"net_{cls.__name__}", int(ds.sizes["spike"]),
              digest(ds.spike_time.values, ds.spike_neuron.values, ds.V.values), flush=True)


if __name__ == "__main__":
    main()
