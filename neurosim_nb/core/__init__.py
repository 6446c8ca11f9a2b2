"""Models: neurons (and, later, synapses and networks)."""
