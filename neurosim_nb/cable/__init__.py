"""Compartmental neurons: the compiled Hines cable solver, cells and their stimuli.

:mod:`.solver` -- the tree solver and the generated time loop (backward Euler,
Crank-Nicolson); :mod:`.cell` -- :class:`Cell` (compartments + membranes per region +
stimuli -> a Dataset); :mod:`.stimuli` -- :class:`IClamp`, :class:`CurrentWaveform`,
:class:`SynapseInput`; :mod:`.population` -- :class:`CellPopulation`, identical cells
as a population of the network engine.

Layer: above :mod:`neurosim_nb.core.neurons` (and the channels and morphology it builds
on), below :mod:`neurosim_nb.core.networks`.
"""

from neurosim_nb.cable.cell import CableDivergedError, Cell
from neurosim_nb.cable.population import CellPopulation
from neurosim_nb.cable.solver import hines_solve
from neurosim_nb.cable.stimuli import CurrentWaveform, IClamp, SynapseInput

__all__ = ["CableDivergedError", "Cell", "CellPopulation", "CurrentWaveform", "IClamp",
           "SynapseInput",
           "hines_solve"]
