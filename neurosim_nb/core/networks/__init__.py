"""Networks: populations, sparse projections and network builders (the connection rules are
:mod:`neurosim_nb.core.synapses.connectivity`).

The builders (``LayeredNetwork``, ``RecurrentNetwork``, ``SmallWorldNetwork``) are imported
lazily from their modules.
"""

from __future__ import annotations

from neurosim_nb._lazy import lazy_getattr
from neurosim_nb.core.networks.network import GapJunctions, Network, NeuronView, Projection

_LAZY = {
    "LayeredNetwork": "neurosim_nb.core.networks.layered",
    "LayeredNetworkParameters": "neurosim_nb.core.networks.layered",
    "RecurrentNetwork": "neurosim_nb.core.networks.recurrent",
    "SmallWorldNetwork": "neurosim_nb.core.networks.small_world",
    "build_network": "neurosim_nb.core.networks.spec",
}

__all__ = ["GapJunctions", "Network", "NeuronView", "Projection", *_LAZY]


__getattr__ = lazy_getattr(__name__, _LAZY)
