"""Neuron model families as struct-of-arrays populations.

:data:`MODEL_FAMILIES` maps a display name to the population class (imported on use),
so panels and the CLI can offer every family without importing all of them up front.
"""

from __future__ import annotations

import importlib

#: display name -> "module:Class"
MODEL_FAMILIES = {
    "LIF": "neurosim_nb.core.neurons.lif:LIFNeuron",
    "Izhikevich": "neurosim_nb.core.neurons.izhikevich:IzhikevichNeuron",
    "Hodgkin-Huxley": "neurosim_nb.core.neurons.hodgkin_huxley:HodgkinHuxleyNeuron",
    "Adaptive LIF": "neurosim_nb.core.neurons.adaptive_lif:AdaptiveLIFNeuron",
    "AdEx": "neurosim_nb.core.neurons.adaptive_lif:AdExNeuron",
}


def model_class(family: str):
    """The population class of model ``family`` (a key of :data:`MODEL_FAMILIES`)."""
    try:
        module, cls = MODEL_FAMILIES[family].split(":")
    except KeyError:
        raise ValueError(f"unknown model family {family!r}; choose from "
                         f"{list(MODEL_FAMILIES)}") from None
    return getattr(importlib.import_module(module), cls)
