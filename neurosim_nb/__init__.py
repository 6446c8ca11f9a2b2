"""neurosim_nb: Jupyter-first simulation and teaching of spiking neural networks.

Models simulate into self-describing ``xarray.Dataset`` objects (dims ``time``, ``neuron``,
``spike``; units in attrs) that round-trip through NetCDF.

>>> from neurosim_nb import LIFNeuron
>>> ds = LIFNeuron.create_excitatory().simulate(100.0, 2.0, seed=0)
>>> sorted(ds.dims)
['neuron', 'spike', 'time']

Public names are imported lazily, so ``import neurosim_nb`` stays fast: it loads xarray to
register the ``ds.neuro`` accessor (:mod:`neurosim_nb.accessor`) -- here, because this module
runs before any ``neurosim_nb.*`` module, so every Dataset has ``ds.neuro`` -- but no model,
numba or scipy.

The modules form one-way layers (``[tool.importlinter]`` in ``pyproject.toml``, checked by
``lint-imports``), bottom to top: foundation (``units``, ``params``, ``schema``, ...),
``stimuli``, ``core.synapses``, ``core.neurons``, ``core.networks``, ``engine``,
``analysis`` | ``export``, ``accessor``, ``plotting``, ``panels``, ``cli`` | ``warmup``.
"""

from __future__ import annotations

import neurosim_nb.accessor  # noqa: F401  (registers ds.neuro on every Dataset)
from neurosim_nb._lazy import lazy_getattr
from neurosim_nb._version import __version__

#: public name -> module that defines it
_LAZY = {
    "LIFNeuron": "neurosim_nb.core.neurons.lif",
    "LIFParameters": "neurosim_nb.core.neurons.lif",
    "IzhikevichNeuron": "neurosim_nb.core.neurons.izhikevich",
    "IzhikevichParameters": "neurosim_nb.core.neurons.izhikevich",
    "IzhikevichType": "neurosim_nb.core.neurons.izhikevich",
    "HodgkinHuxleyNeuron": "neurosim_nb.core.neurons.hodgkin_huxley",
    "HodgkinHuxleyParameters": "neurosim_nb.core.neurons.hodgkin_huxley",
    "AdExNeuron": "neurosim_nb.core.neurons.adaptive_lif",
    "AdExParameters": "neurosim_nb.core.neurons.adaptive_lif",
    "AdaptiveLIFNeuron": "neurosim_nb.core.neurons.adaptive_lif",
    "AdaptiveLIFParameters": "neurosim_nb.core.neurons.adaptive_lif",
    "PointModel": "neurosim_nb.core.neurons.point_model",
    "PoissonSource": "neurosim_nb.core.neurons.sources",
    "InhomogeneousPoissonSource": "neurosim_nb.core.neurons.sources",
    "SpikeTimesSource": "neurosim_nb.core.neurons.sources",
    "RepeatedPatternSource": "neurosim_nb.core.neurons.sources",
    "register_model": "neurosim_nb.core.neurons.registry",
    "MODEL_FAMILIES": "neurosim_nb.core.neurons.registry",
    "Network": "neurosim_nb.core.networks.network",
    "LayeredNetwork": "neurosim_nb.core.networks.layered",
    "LayeredNetworkParameters": "neurosim_nb.core.networks.layered",
    "RecurrentNetwork": "neurosim_nb.core.networks.recurrent",
    "SmallWorldNetwork": "neurosim_nb.core.networks.small_world",
    "build_network": "neurosim_nb.core.networks.spec",
    "ChemicalSynapse": "neurosim_nb.core.synapses.chemical",
    "ElectricalSynapse": "neurosim_nb.core.synapses.electrical",
    "STDPSynapse": "neurosim_nb.core.synapses.stdp",
    "Neuromodulator": "neurosim_nb.core.synapses.neuromodulation",
    "Receptor": "neurosim_nb.core.synapses.receptors",
    "SimulationEngine": "neurosim_nb.engine.simulator",
    "SimulationConfig": "neurosim_nb.engine.simulator",
    "RecordingConfig": "neurosim_nb.engine.simulator",
    "simulate": "neurosim_nb.engine.simulator",
    "validate_dataset": "neurosim_nb.schema",
}

__all__ = ["__version__", *_LAZY]


__getattr__ = lazy_getattr(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(__all__)
