"""Networks: populations, sparse projections, connection rules and network builders.

The builders (``LayeredNetwork``, ``RecurrentNetwork``, ``SmallWorldNetwork``) are imported
lazily from their modules.
"""

from __future__ import annotations

import importlib

from neurosim_nb.core.networks.network import GapJunctions, Network, NeuronView, Projection

_LAZY = {
    "LayeredNetwork": "neurosim_nb.core.networks.layered",
    "LayeredNetworkParameters": "neurosim_nb.core.networks.layered",
    "RecurrentNetwork": "neurosim_nb.core.networks.recurrent",
    "SmallWorldNetwork": "neurosim_nb.core.networks.small_world",
    "build_network": "neurosim_nb.core.networks.spec",
}

__all__ = ["GapJunctions", "Network", "NeuronView", "Projection", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
