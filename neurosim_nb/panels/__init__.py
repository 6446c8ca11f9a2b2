"""Notebook panels: ipywidgets controls + Bokeh views around a result Dataset.

Show a panel in a notebook (or a Voila app) after loading BokehJS once::

    from bokeh.io import output_notebook
    from bokeh.resources import INLINE
    output_notebook(INLINE, hide_banner=True)

    from neurosim_nb.panels import NeuronExplorer
    NeuronExplorer()

The panel's state stays reachable from code: ``panel.result`` is the latest Dataset.
"""

from neurosim_nb.panels.controls import params_from_widgets, widgets_from_params
from neurosim_nb.panels.dendrites import DendritesPanel
from neurosim_nb.panels.export_control import ExportControl
from neurosim_nb.panels.network_explorer import NetworkExplorer, ONIExplorer
from neurosim_nb.panels.neuron_explorer import NeuronExplorer, available_families
from neurosim_nb.panels.phase_plane import PhasePlane, planar_families
from neurosim_nb.panels.synapses import PSPPanel, STDPPanel, SynapsesPanel

__all__ = ["NeuronExplorer", "available_families", "widgets_from_params", "params_from_widgets",
           "SynapsesPanel", "PSPPanel", "STDPPanel", "PhasePlane", "planar_families",
           "NetworkExplorer", "ONIExplorer", "ExportControl", "DendritesPanel"]
