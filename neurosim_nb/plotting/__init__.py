"""Bokeh figures built from result Datasets (pure Bokeh: no ipywidgets here).

A figure is built **once** around a :class:`bokeh.models.ColumnDataSource`; to show a new
result, assign new columns to ``source.data`` (one front-end patch in a notebook panel;
figures are never re-created). ``*_columns`` functions turn a Dataset into those columns, so
figures and data are tested apart from any widget. One module per theme:

* :mod:`~neurosim_nb.plotting.traces` -- voltage and input-current traces, f-I curves;
* :mod:`~neurosim_nb.plotting.network` -- rasters, population and layer rates, connectivity
  heat maps;
* :mod:`~neurosim_nb.plotting.phase` -- nullclines, fixed points and trajectories of 2-D models;
* :mod:`~neurosim_nb.plotting.synapses` -- PSPs, conductances, STDP windows, weight evolution.

>>> from neurosim_nb import plotting
>>> callable(plotting.voltage_figure)
True
"""

from __future__ import annotations

from neurosim_nb.plotting.traces import (
    SPIKE_MARKER_OFFSET,
    THRESHOLD_PARAMETERS,
    axis_label,
    current_columns,
    current_figure,
    empty_trace_columns,
    fi_figure,
    show_threshold,
    threshold_of,
    trace_columns,
    trace_layout,
    update_axis_labels,
    update_current_labels,
    voltage_columns,
    voltage_figure,
)

__all__ = [
    "SPIKE_MARKER_OFFSET", "THRESHOLD_PARAMETERS", "axis_label", "threshold_of",
    "voltage_columns", "current_columns", "trace_columns", "empty_trace_columns",
    "voltage_figure", "current_figure", "show_threshold", "update_axis_labels",
    "update_current_labels", "trace_layout", "fi_figure",
]
