"""Dendrite and axon figures: a morphology coloured by V, traces, attenuation, summation,
conduction velocity (pure Bokeh).

As everywhere in :mod:`neurosim_nb.plotting`, each figure is built **once** around named
:class:`~bokeh.models.ColumnDataSource` objects; a new result is shown by assigning
``source.data``. The ``*_columns`` functions turn compartments and results into columns.

* :func:`morphology_columns` / :func:`morphology_figure` -- one line segment per compartment
  (from its parent node to it, in the x-y plane), width growing with the diameter, colour
  the membrane potential (a colour bar beside it); a tap selects a compartment;
* :func:`traces_figure` -- V at the input site and at the soma over time, a line at the time
  the morphology shows;
* :func:`attenuation_figure` -- the peak depolarisation of every compartment against its
  path distance from the soma;
* :func:`summation_figure` -- the soma's response to input A, to B, to both, and the
  arithmetic sum A + B;
* :func:`velocity_figure` -- conduction velocity against axon diameter, unmyelinated and
  myelinated, with the axon shown marked.

Examples
--------
>>> from neurosim_nb.morphology import Morphology, discretise
>>> comp = discretise(Morphology.ball_and_stick(), nseg=4)
>>> cols = morphology_columns(comp)
>>> len(cols["x0"]) == comp.n, float(cols["width"].max())    # the 20 um soma: 2 + 20 px
(True, 22.0)
>>> fig, mapper = morphology_figure(ColumnDataSource(cols))
>>> [r.name for r in fig.renderers]
['compartments']
"""

from __future__ import annotations

import numpy as np
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    HoverTool,
    LinearColorMapper,
    Span,
    TapTool,
)
from bokeh.palettes import Turbo256
from bokeh.plotting import figure

__all__ = ["morphology_columns", "morphology_figure", "traces_figure", "attenuation_figure",
           "summation_figure", "velocity_figure", "empty_columns", "line_width_px"]

_TOOLS = "pan,wheel_zoom,box_zoom,reset,save"
_SITE = "#c0392b"
_SOMA = "#1f1f1f"
_B = "#1f77b4"
_SUM = "#7f7f7f"
_MYELIN = "#8e44ad"
_BARE = "#2e7d32"

#: column names of each source (what :func:`empty_columns` gives)
COLUMNS = {
    "morphology": ("x0", "y0", "x1", "y1", "width", "V", "section", "position",
                   "distance", "diameter", "node"),
    "traces": ("t", "V_site", "V_soma"),
    "attenuation": ("distance", "ratio", "dV", "section"),
    "summation": ("t", "A", "B", "AB", "sum"),
    "velocity": ("diameter", "velocity", "kind", "color"),
    "velocity_now": ("diameter", "velocity"),
}


def empty_columns(kind: str) -> dict[str, list]:
    """Empty columns of a source (``kind`` a key of :data:`COLUMNS`).

    >>> empty_columns("traces")
    {'t': [], 'V_site': [], 'V_soma': []}
    """
    if kind not in COLUMNS:
        raise ValueError(f"kind must be one of {sorted(COLUMNS)}, got {kind!r}")
    return {c: [] for c in COLUMNS[kind]}


def line_width_px(diameter_um) -> np.ndarray:
    """Screen width (pixels) of a compartment of diameter ``diameter_um`` (µm):
    ``2 + d`` clipped to [2, 24] -- thin dendrites stay visible, a soma stays bounded.

    >>> line_width_px([0.2, 1.0, 20.0, 50.0]).tolist()
    [2.2, 3.0, 22.0, 24.0]
    """
    return np.clip(2.0 + np.asarray(diameter_um, dtype=float), 2.0, 24.0)


def morphology_columns(comp, V=None) -> dict[str, np.ndarray]:
    """One row per compartment (node) of ``comp``: the segment from its parent node to it
    in the x-y plane (µm; the root's is a point), its width (pixels, from the diameter),
    ``V`` (mV; ``V`` given, else NaN), section name, position in the section, path distance
    to the soma (µm), diameter (µm) and node index.

    >>> from neurosim_nb.morphology import Morphology, discretise
    >>> c = morphology_columns(discretise(Morphology.cylinder(100.0, 1.0), nseg=2))
    >>> c["x0"].tolist(), c["x1"].tolist()
    ([0.0, 0.0, 25.0, 75.0], [0.0, 25.0, 75.0, 100.0])
    """
    parent = np.asarray(comp.parent)
    x = np.asarray(comp.x_um, dtype=float)
    y = np.asarray(comp.y_um, dtype=float)
    p = np.where(parent >= 0, parent, np.arange(parent.size))
    n = parent.size
    v = np.full(n, np.nan) if V is None else np.asarray(V, dtype=float)
    names = np.asarray(comp.section_names, dtype=object)[np.asarray(comp.section)]
    return {"x0": x[p], "y0": y[p], "x1": x, "y1": y,
            "width": line_width_px(comp.diameter_um), "V": v,
            "section": names.astype(str), "position": np.asarray(comp.position, dtype=float),
            "distance": np.asarray(comp.distance_um, dtype=float),
            "diameter": np.asarray(comp.diameter_um, dtype=float), "node": np.arange(n)}


def morphology_figure(source: ColumnDataSource, *, width: int = 560, height: int = 430,
                      low: float = -80.0, high: float = 40.0):
    """The morphology coloured by the column ``V`` (a Turbo colour bar from ``low`` to
    ``high`` mV beside it); a tap on a segment selects its row (``source.selected``).
    Returns ``(figure, color_mapper)``: set ``mapper.low``/``high`` to rescale."""
    mapper = LinearColorMapper(palette=Turbo256, low=low, high=high)
    fig = figure(title="Membrane potential on the cell", width=width, height=height,
                 name="neurosim-dend-morphology-figure",
                 tools=_TOOLS, match_aspect=True, x_axis_label="x (µm)",
                 y_axis_label="y (µm)")
    r = fig.segment("x0", "y0", "x1", "y1", source=source, name="compartments",
                    line_width="width", line_cap="round",
                    line_color={"field": "V", "transform": mapper})
    r.nonselection_glyph = None           # a tap must not grey out the cell
    r.selection_glyph = None
    fig.add_tools(TapTool(renderers=[r]))
    fig.add_tools(HoverTool(renderers=[r], tooltips=[
        ("section", "@section (x = @position{0.00})"), ("distance", "@distance{0} µm"),
        ("diameter", "@diameter{0.0} µm"), ("V", "@V{0.0} mV")]))
    fig.add_layout(ColorBar(color_mapper=mapper, title="V (mV)", width=12), "right")
    fig.toolbar.logo = None
    return fig, mapper


def traces_figure(source: ColumnDataSource, *, width: int = 480, height: int = 240):
    """V at the input site (red) and at the soma (black) over time, and a vertical line
    (``Span`` named ``now``) at the time shown on the morphology."""
    fig = figure(title="V at the input site and at the soma", width=width, height=height,
                 tools=_TOOLS, x_axis_label="time (ms)", y_axis_label="V (mV)")
    fig.line("t", "V_site", source=source, name="site", color=_SITE, line_width=2,
             legend_label="input site")
    fig.line("t", "V_soma", source=source, name="soma", color=_SOMA, line_width=2,
             legend_label="soma")
    fig.add_layout(Span(location=0.0, dimension="height", line_color="#888",
                        line_dash="dashed", name="now"))
    fig.legend.location = "top_right"
    fig.legend.click_policy = "hide"
    fig.toolbar.logo = None
    return fig


def attenuation_figure(source: ColumnDataSource, *, width: int = 480, height: int = 240):
    """Attenuation: every compartment's peak deflection over the input site's (column
    ``ratio``, 1 at the input) against its path distance from the input (µm)."""
    fig = figure(title="Attenuation: peak ΔV relative to the input site", width=width,
                 height=height, tools=_TOOLS, x_axis_label="path distance from the input (µm)",
                 y_axis_label="ΔV / ΔV at the input")
    fig.scatter("distance", "ratio", source=source, name="attenuation", size=5, color=_B,
                alpha=0.7)
    fig.add_tools(HoverTool(tooltips=[("section", "@section"), ("distance", "@distance{0} µm"),
                                      ("ΔV", "@dV{0.00} mV (@ratio{0.000})")]))
    fig.toolbar.logo = None
    return fig


def summation_figure(source: ColumnDataSource, *, width: int = 480, height: int = 240):
    """The soma's V (mV) after input A alone, B alone, both together, and the arithmetic
    sum of the two single responses (dashed): above it supralinear, below sublinear."""
    fig = figure(title="Summation of two inputs (soma)", width=width, height=height,
                 tools=_TOOLS, x_axis_label="time (ms)", y_axis_label="V (mV)")
    fig.line("t", "A", source=source, name="A", color=_SITE, line_width=1.5, legend_label="A")
    fig.line("t", "B", source=source, name="B", color=_B, line_width=1.5, legend_label="B")
    fig.line("t", "AB", source=source, name="AB", color=_SOMA, line_width=2.5,
             legend_label="A and B")
    fig.line("t", "sum", source=source, name="sum", color=_SUM, line_width=2,
             line_dash="dashed", legend_label="A + B (linear)")
    fig.legend.location = "top_right"
    fig.legend.click_policy = "hide"
    fig.toolbar.logo = None
    return fig


def velocity_figure(sweep: ColumnDataSource, now: ColumnDataSource, *, width: int = 480,
                    height: int = 240):
    """Conduction velocity (m/s) against axon diameter (µm), log-log; a point per
    simulated axon of the sweep (``kind`` unmyelinated/myelinated) and a star at the axon
    shown."""
    fig = figure(title="Conduction velocity against diameter", width=width, height=height,
                 tools=_TOOLS, x_axis_type="log", y_axis_type="log",
                 x_axis_label="axon diameter (µm)", y_axis_label="velocity (m/s)")
    fig.scatter("diameter", "velocity", source=sweep, name="sweep", size=7, color="color",
                legend_field="kind")
    fig.scatter("diameter", "velocity", source=now, name="now", size=16, marker="star",
                color="#f39c12", line_color="black")
    fig.legend.location = "top_left"
    fig.toolbar.logo = None
    return fig


#: colours of the sweep's kinds
KIND_COLORS = {"unmyelinated": _BARE, "myelinated": _MYELIN}
