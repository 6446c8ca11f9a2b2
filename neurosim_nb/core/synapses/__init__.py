"""Synapses: receptor channel kinetics (``channels``), connection rules (``connectivity``),
spike delivery, chemical/electrical synapses, plasticity. The neuron kernels and the
networks build on this package; it imports neither.

The seed's names (``ChemicalSynapse``, ``STDPSynapse``, ``ElectricalSynapse``) are imported
lazily from their modules.
"""

from __future__ import annotations

from neurosim_nb._lazy import lazy_getattr
from neurosim_nb.core.synapses.delivery import SynapticDynamics
from neurosim_nb.core.synapses.receptors import RECEPTORS, Receptor, get_receptor

_LAZY = {
    "ChemicalSynapse": "neurosim_nb.core.synapses.chemical",
    "ElectricalSynapse": "neurosim_nb.core.synapses.electrical",
    "STDPSynapse": "neurosim_nb.core.synapses.stdp",
    "STDP": "neurosim_nb.core.synapses.stdp",
    "STDPParameters": "neurosim_nb.core.synapses.stdp",
    "RewardModulatedSTDP": "neurosim_nb.core.synapses.stdp",
    "stdp_window": "neurosim_nb.core.synapses.stdp",
    "Neuromodulator": "neurosim_nb.core.synapses.neuromodulation",
    "RewardEvents": "neurosim_nb.core.synapses.neuromodulation",
    "ReleaseSeries": "neurosim_nb.core.synapses.neuromodulation",
    "SpikeRelease": "neurosim_nb.core.synapses.neuromodulation",
    "PairingReward": "neurosim_nb.core.synapses.neuromodulation",
    "OjaRule": "neurosim_nb.core.synapses.plasticity",
    "HomeostaticScaling": "neurosim_nb.core.synapses.plasticity",
    "TsodyksMarkram": "neurosim_nb.core.synapses.release",
    "KineticReceptor": "neurosim_nb.core.synapses.kinetic",
    "GABABReceptor": "neurosim_nb.core.synapses.kinetic",
    "SaturatingNMDA": "neurosim_nb.core.synapses.kinetic",
    "KINETIC_RECEPTORS": "neurosim_nb.core.synapses.kinetic",
    "tsodyks_markram_amplitudes": "neurosim_nb.core.synapses.release",
}

__all__ = ["RECEPTORS", "Receptor", "SynapticDynamics", "get_receptor", *_LAZY]


__getattr__ = lazy_getattr(__name__, _LAZY)
