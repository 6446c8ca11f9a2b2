"""Network views: raster, population rate, per-group rates, voltages, connectivity (pure Bokeh).

As everywhere in :mod:`neurosim_nb.plotting`, a figure is built **once** around a
:class:`~bokeh.models.ColumnDataSource` and a new result is shown by assigning
``source.data``; the ``*_columns`` functions turn a result Dataset (or a network's
connectivity) into those columns, so data and figures are tested apart from any widget.

Neurons are grouped for colours, axis labels and aggregation (:func:`neuron_groups`): by
**layer** when the Dataset has a ``layer(neuron)`` coordinate (layered and ONI networks),
otherwise by **population** (``exc`` / ``inh`` of a balanced network). Colours are a
numeric ``group`` column mapped through a :class:`~bokeh.models.LinearColorMapper` (numbers
travel to the browser as binary arrays; a string colour per spike would not).

Columns
-------
* :func:`raster_columns` -- ``t`` (ms), ``neuron`` (global id), ``group``: one row per spike.
* :func:`rate_columns` -- ``t`` (bin centre, ms), ``rate`` (Hz per neuron):
  :func:`neurosim_nb.analysis.population_rate` of the whole network.
* :func:`group_rate_columns` -- ``x`` (1..G), ``rate`` (Hz), ``group``, ``label``:
  :func:`~neurosim_nb.core.networks.layered.layer_rates` for layers, spikes per neuron per
  second for populations.
* :func:`voltage_trace_columns` -- ``xs``, ``ys``, ``label``, ``group``: one line per
  recorded neuron (``V`` along ``neuron`` or ``recorded_neuron``).
* :func:`heatmap_columns` -- ``image`` etc. of a (pre x post) matrix from
  :func:`signed_connectivity` aggregated by :func:`aggregate_matrix`.

Examples
--------
>>> from neurosim_nb import RecurrentNetwork
>>> net = RecurrentNetwork.create_balanced(200, 4.0, seed=1)
>>> ds = net.simulate(100.0, seed=0, record=(), verbose=False)
>>> groups = neuron_groups(ds)
>>> groups.labels, groups.bounds
(['exc', 'inh'], [(0, 160), (160, 200)])
>>> cols = raster_columns(ds)
>>> len(cols["t"]) == ds.sizes["spike"]
True
>>> agg = aggregate_matrix(signed_connectivity(net), groups.index, 2)
>>> bool(agg[0, 0] > 0), bool(agg[1, 0] < 0)       # exc -> exc positive, inh -> exc negative
(True, True)
>>> fig = raster_figure(ColumnDataSource(cols))
>>> set_group_ticks(fig.yaxis[0], groups, where="neuron")
>>> fig.yaxis[0].major_label_overrides[80.0]
'exc'
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import xarray as xr
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    FixedTicker,
    HoverTool,
    LinearColorMapper,
    Range1d,
    Span,
)
from bokeh.palettes import Category10_10, RdBu11
from bokeh.plotting import figure
from bokeh.transform import transform

__all__ = [
    "GROUP_PALETTE", "NeuronGroups", "neuron_groups", "raster_columns", "raster_thinning",
    "rate_columns", "group_rate_columns", "voltage_trace_columns", "signed_connectivity",
    "aggregate_matrix", "heatmap_columns", "oni_columns", "raster_figure", "rate_figure",
    "group_rate_figure", "voltage_traces_figure", "heatmap_figure", "oni_figure",
    "set_group_ticks", "set_heatmap_range", "INHIBITORY_BELOW_MV",
]

#: colours of the groups (group index modulo its length)
GROUP_PALETTE = tuple(Category10_10)
#: a conductance receptor whose reversal potential is below this (mV) counts as inhibitory
#: in :func:`signed_connectivity` (GABA-A -70 mV, GABA-B -90 mV; AMPA/NMDA 0 mV)
INHIBITORY_BELOW_MV = -50.0
_TOOLS = "pan,box_zoom,wheel_zoom,reset,save"


def _group_mapper() -> LinearColorMapper:
    n = len(GROUP_PALETTE)
    return LinearColorMapper(palette=list(GROUP_PALETTE), low=-0.5, high=n - 0.5)


# -- grouping ---------------------------------------------------------------------------
@dataclass(frozen=True)
class NeuronGroups:
    """Neurons of a result grouped by layer or population.

    Attributes
    ----------
    kind : {"layer", "population"}
    labels : list of str
        One label per group (``"L3 PAT"`` for an ONI layer, ``"L3"`` for another layer,
        the population name otherwise).
    index : numpy.ndarray of int
        Group of every neuron, by position along ``neuron`` (0-based group index).
    ids : numpy.ndarray of int
        Global neuron ids along ``neuron``.
    bounds : list of (int, int)
        ``(first id, last id + 1)`` of each group (groups are contiguous id ranges).
    """

    kind: str
    labels: list[str]
    index: np.ndarray
    ids: np.ndarray
    bounds: list[tuple[int, int]]

    def group_of_ids(self, neuron_ids) -> np.ndarray:
        """Group index of global neuron ids."""
        lookup = np.full(int(self.ids.max(initial=-1)) + 1, -1, dtype=np.int64)
        lookup[self.ids] = self.index
        return lookup[np.asarray(neuron_ids, dtype=np.int64)]


def _layer_labels(ds: xr.Dataset, layers: list[int]) -> list[str]:
    try:
        names = {int(k): v for k, v in json.loads(ds.attrs.get("layer_names_json", "{}")).items()}
    except (TypeError, ValueError):
        names = {}
    from neurosim_nb.core.networks.layered import ONI_LAYERS

    out = []
    for layer in layers:
        oni = ONI_LAYERS.get(layer)
        if oni is not None and names.get(layer) == oni[0]:
            out.append(f"L{layer} {oni[1]}")
        else:
            out.append(f"L{layer}")
    return out


def neuron_groups(ds: xr.Dataset) -> NeuronGroups:
    """Group the neurons of ``ds`` by layer (if it has ``layer(neuron)``) or population."""
    ids = np.asarray(ds["neuron"].values, dtype=np.int64)
    if "layer" in ds.coords and ds["layer"].dims == ("neuron",):
        key = np.asarray(ds["layer"].values, dtype=np.int64)
        kind = "layer"
    elif "population" in ds.coords:
        key = np.asarray(ds["population"].values).astype(str)
        kind = "population"
    else:
        key = np.zeros(ids.size, dtype=np.int64)
        kind = "population"
    uniq, first = np.unique(key, return_index=True)
    order = uniq[np.argsort(first)]                      # groups in order of appearance
    index = np.empty(ids.size, dtype=np.int64)
    bounds = []
    for g, value in enumerate(order):
        members = key == value
        index[members] = g
        bounds.append((int(ids[members].min()), int(ids[members].max()) + 1))
    if kind == "layer":
        labels = _layer_labels(ds, [int(v) for v in order])
    elif "population" in ds.coords:
        labels = [str(v) for v in order]
    else:
        labels = ["all"]
    return NeuronGroups(kind, labels, index, ids, bounds)


# -- columns ----------------------------------------------------------------------------
def raster_thinning(n_spikes: int, max_points: int | None) -> int:
    """Show the spikes of every ``step``-th neuron so at most about ``max_points`` remain.

    >>> raster_thinning(10_000, 50_000), raster_thinning(120_000, 50_000)
    (1, 3)
    """
    if max_points is None or n_spikes <= max_points:
        return 1
    return int(math.ceil(n_spikes / max_points))


def raster_columns(ds: xr.Dataset, max_points: int | None = None) -> dict[str, np.ndarray]:
    """One row per spike: ``t`` (ms), ``neuron`` (global id), ``group`` (colour index).

    With more than ``max_points`` spikes only neurons whose id is a multiple of
    :func:`raster_thinning`'s step are kept (whole spike trains, so rates stay readable).
    """
    t = np.asarray(ds["spike_time"].values, dtype=float)
    n = np.asarray(ds["spike_neuron"].values, dtype=np.int64)
    step = raster_thinning(t.size, max_points)
    if step > 1:
        keep = n % step == 0
        t, n = t[keep], n[keep]
    groups = neuron_groups(ds)
    g = groups.group_of_ids(n) if n.size else np.zeros(0, dtype=np.int64)
    return {"t": t, "neuron": n.astype(float), "group": (g % len(GROUP_PALETTE)).astype(float)}


def rate_columns(ds: xr.Dataset, bin_ms: float = 5.0) -> dict[str, np.ndarray]:
    """``t`` (bin centres, ms) and ``rate`` (Hz): the network's population rate."""
    from neurosim_nb.analysis import population_rate

    pr = population_rate(ds, bin_ms=bin_ms)
    return {"t": np.asarray(pr["time"].values, dtype=float),
            "rate": np.asarray(pr.values, dtype=float)}


def group_rate_columns(ds: xr.Dataset) -> dict[str, np.ndarray | list]:
    """Mean rate (Hz) of every layer (or population): ``x`` 1..G, ``rate``, ``group``,
    ``label``."""
    groups = neuron_groups(ds)
    if groups.kind == "layer":
        from neurosim_nb.core.networks.layered import layer_rates

        by_layer = layer_rates(ds)
        layers = sorted(by_layer)
        rates = np.array([by_layer[k] for k in layers], dtype=float)
    else:
        seconds = float(ds.attrs["duration"]) / 1000.0
        per_neuron = np.bincount(groups.group_of_ids(ds["spike_neuron"].values),
                                 minlength=len(groups.labels))
        sizes = np.bincount(groups.index, minlength=len(groups.labels))
        rates = per_neuron / np.maximum(sizes, 1) / seconds
    g = np.arange(len(groups.labels))
    return {"x": g + 1.0, "rate": rates.astype(float),
            "group": (g % len(GROUP_PALETTE)).astype(float), "label": list(groups.labels)}


def _voltage_dim(ds: xr.Dataset) -> str | None:
    if "V" not in ds:
        return None
    dims = [d for d in ds["V"].dims if d != "time"]
    return dims[0] if len(dims) == 1 else None


def voltage_trace_columns(ds: xr.Dataset) -> dict[str, list]:
    """One line per recorded neuron: ``xs`` (time, ms), ``ys`` (V, mV), ``label``,
    ``group``. ``V`` may run along ``neuron`` or along a ``recorded_neuron`` subset."""
    dim = _voltage_dim(ds)
    if dim is None:
        return {"xs": [], "ys": [], "label": [], "group": []}
    v = ds["V"].transpose("time", dim)
    t = np.asarray(ds["time"].values, dtype=float)
    ids = np.asarray(ds[dim].values, dtype=np.int64)
    groups = neuron_groups(ds)
    g = groups.group_of_ids(ids)
    values = np.asarray(v.values, dtype=float)
    return {"xs": [t] * ids.size, "ys": [values[:, j] for j in range(ids.size)],
            "label": [f"neuron {i} ({groups.labels[k]})" for i, k in zip(ids, g, strict=True)],
            "group": (g % len(GROUP_PALETTE)).astype(float).tolist()}


def signed_connectivity(net) -> sp.csr_matrix:
    """(pre x post) summed weights with inhibition negative.

    Delta (voltage-jump) synapses keep their sign; conductance synapses count negative
    when their receptor reverses below :data:`INHIBITORY_BELOW_MV` (GABA), so E and I
    show apart although both conductances are positive. Units: those of the receptors
    (µS or mV).
    """
    off = net.offsets()
    n = net.n_neurons
    rows, cols, vals = [], [], []
    for p in net.projections:
        rec = p.receptor
        sign = -1.0 if (rec.kind != "delta" and rec.E_rev_mV < INHIBITORY_BELOW_MV) else 1.0
        rows.append(p.pre_idx + off[p.pre])
        cols.append(p.post_idx + off[p.post])
        vals.append(sign * np.broadcast_to(np.asarray(p.weight, dtype=float), (p.n_synapses,)))
    if not rows:
        return sp.csr_matrix((n, n))
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(n, n))


def aggregate_matrix(matrix, group_index: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum a (neuron x neuron) matrix over blocks of groups: ``out[a, b]`` is the total
    weight from group ``a`` to group ``b``.

    >>> m = sp.csr_matrix(np.array([[0, 1, 2], [3, 0, 4], [5, 6, 0]], dtype=float))
    >>> aggregate_matrix(m, np.array([0, 0, 1]), 2).tolist()
    [[4.0, 6.0], [11.0, 0.0]]
    """
    n = len(group_index)
    a = sp.csr_matrix((np.ones(n), (np.arange(n), np.asarray(group_index))),
                      shape=(n, n_groups))
    return np.asarray((a.T @ sp.csr_matrix(matrix) @ a).toarray(), dtype=float)


def heatmap_columns(matrix: np.ndarray) -> dict[str, list]:
    """Columns of an ``image`` glyph showing ``matrix`` (rows = pre) with cell ``(i, j)``
    at x in ``[j, j+1]``, y in ``[i, i+1]``."""
    m = np.asarray(matrix, dtype=float)
    return {"image": [m], "x": [0.0], "y": [0.0], "dw": [float(m.shape[1])],
            "dh": [float(m.shape[0])]}


def oni_columns(data) -> dict[str, list | np.ndarray]:
    """Per-layer ONI metrics of an :class:`~neurosim_nb.export.ONIExportData`: ``x``
    (layer 1..14), ``label``, ``name``, ``rate``, ``synchrony``, ``coherence``."""
    layers = sorted(data.layers)
    from neurosim_nb.core.networks.layered import ONI_LAYERS

    m = [data.layers[k] for k in layers]
    return {"x": np.array(layers, dtype=float),
            "label": [f"L{k} {ONI_LAYERS[k][1]}" if k in ONI_LAYERS else f"L{k}" for k in layers],
            "name": [x.name for x in m],
            "rate": np.array([x.mean_rate for x in m], dtype=float),
            "synchrony": np.array([x.synchrony for x in m], dtype=float),
            "coherence": np.array([x.coherence for x in m], dtype=float)}


# -- figures ----------------------------------------------------------------------------
def raster_figure(source: ColumnDataSource, width: int = 640, height: int = 300):
    """Spike raster (time vs neuron id), coloured by ``group``."""
    fig = figure(width=width, height=height, title="Spike raster", tools=_TOOLS,
                 x_axis_label="Time (ms)", y_axis_label="Neuron", output_backend="webgl")
    fig.scatter("t", "neuron", source=source, marker="square", size=2, line_color=None,
                fill_color=transform("group", _group_mapper()))
    fig.y_range.flipped = True          # neuron 0 (first layer) on top
    return fig


def rate_figure(source: ColumnDataSource, x_range=None, width: int = 640, height: int = 170):
    """Population rate over time (Hz per neuron)."""
    kw = {} if x_range is None else {"x_range": x_range}
    fig = figure(width=width, height=height, title="Population rate", tools=_TOOLS,
                 x_axis_label="Time (ms)", y_axis_label="Rate (Hz)", **kw)
    fig.line("t", "rate", source=source, color="#1f4e79", line_width=1.5)
    fig.add_tools(HoverTool(tooltips=[("t", "@t{0.0} ms"), ("rate", "@rate{0.0} Hz")],
                            mode="vline"))
    fig.y_range.start = 0
    return fig


def group_rate_figure(source: ColumnDataSource, width: int = 380, height: int = 300):
    """Mean rate of every layer or population (bars)."""
    fig = figure(width=width, height=height, title="Mean rate per group", tools=_TOOLS,
                 y_axis_label="Rate (Hz)")
    fig.vbar(x="x", top="rate", width=0.8, source=source, line_color=None,
             fill_color=transform("group", _group_mapper()))
    fig.add_tools(HoverTool(tooltips=[("group", "@label"), ("rate", "@rate{0.00} Hz")]))
    fig.y_range.start = 0
    fig.xaxis.major_label_orientation = 0.9
    fig.xgrid.grid_line_color = None
    return fig


def voltage_traces_figure(source: ColumnDataSource, x_range=None, width: int = 640,
                          height: int = 220):
    """Membrane potential of the recorded neurons, one line each."""
    kw = {} if x_range is None else {"x_range": x_range}
    fig = figure(width=width, height=height, title="Membrane potential of recorded neurons",
                 tools=_TOOLS, x_axis_label="Time (ms)", y_axis_label="V (mV)", **kw)
    fig.multi_line("xs", "ys", source=source, line_width=1.2, legend_field="label",
                   line_color=transform("group", _group_mapper()))
    fig.legend.location = "top_left"
    fig.legend.label_text_font_size = "8pt"
    fig.legend.background_fill_alpha = 0.6
    fig.legend.click_policy = "hide"
    return fig


def heatmap_figure(source: ColumnDataSource, width: int = 380, height: int = 380):
    """Connectivity heat map (rows = presynaptic, columns = postsynaptic); blue excitatory,
    red inhibitory (the colour scale is set by :func:`set_heatmap_range`)."""
    mapper = LinearColorMapper(palette=list(reversed(RdBu11)), low=-1.0, high=1.0)  # + blue
    fig = figure(width=width, height=height, title="Connectivity (summed weight)",
                 tools="pan,wheel_zoom,reset,save", x_axis_label="Postsynaptic",
                 y_axis_label="Presynaptic", x_range=Range1d(0, 1), y_range=Range1d(1, 0),
                 match_aspect=True)
    fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=source,
              color_mapper=mapper)
    fig.add_tools(HoverTool(tooltips=[("weight", "@image{0.000}")]))
    fig.add_layout(ColorBar(color_mapper=mapper, width=10), "right")
    fig.xaxis.major_label_orientation = 0.9
    fig.grid.visible = False
    return fig


def set_heatmap_range(fig, matrix: np.ndarray, units: str = "") -> None:
    """Fit ranges and a symmetric colour scale to ``matrix`` (model updates, no new figure)."""
    m = np.asarray(matrix, dtype=float)
    top = float(np.nanmax(np.abs(m))) if m.size else 1.0
    top = top if top > 0 else 1.0
    mapper = fig.renderers[0].glyph.color_mapper
    mapper.low, mapper.high = -top, top
    fig.x_range.start, fig.x_range.end = 0, m.shape[1]
    fig.y_range.start, fig.y_range.end = m.shape[0], 0
    fig.title.text = f"Connectivity (summed weight{', ' + units if units else ''})"


def oni_figure(source: ColumnDataSource, width: int = 640, height: int = 260):
    """ONI per-layer synchrony (bars) and coherence C_s (dots and line), both in [0, 1]."""
    fig = figure(width=width, height=height, title="ONI metrics per layer", tools=_TOOLS,
                 y_range=Range1d(0, 1.05), y_axis_label="Synchrony χ, coherence Cₛ")
    fig.vbar(x="x", top="synchrony", width=0.7, source=source, fill_color="#9ecae1",
             line_color=None, legend_label="synchrony χ (Golomb)")
    fig.line("x", "coherence", source=source, color="#b35900", line_width=2,
             legend_label="coherence Cₛ")
    fig.scatter("x", "coherence", source=source, color="#b35900", size=6)
    fig.add_tools(HoverTool(tooltips=[("layer", "@label (@name)"), ("rate", "@rate{0.0} Hz"),
                                      ("χ", "@synchrony{0.000}"), ("Cₛ", "@coherence{0.000}")]))
    fig.legend.location = "top_right"
    fig.xgrid.grid_line_color = None
    fig.xaxis.major_label_orientation = 0.9
    for y, dash in ((0.3, "dotted"), (0.6, "dashed")):
        fig.add_layout(Span(location=y, dimension="width", line_dash=dash, line_color="#888"))
    return fig


def set_group_ticks(axis, groups: NeuronGroups, where: str = "index") -> None:
    """Label a Bokeh axis with the group names (a model update, not a new figure).

    ``where="neuron"``: a tick at the middle of each group's id range (raster axis,
    neuron-level heat maps); ``"index"``: at 1..G (bar charts); ``"cell"``: at 0.5..G-0.5
    (cells of an aggregated heat map).
    """
    if where == "neuron":
        ticks = [(a + b) / 2.0 for a, b in groups.bounds]
    elif where == "cell":
        ticks = [g + 0.5 for g in range(len(groups.labels))]
    elif where == "index":
        ticks = [float(g + 1) for g in range(len(groups.labels))]
    else:
        raise ValueError(f"where must be 'neuron', 'index' or 'cell', got {where!r}")
    if isinstance(axis.ticker, FixedTicker):
        axis.ticker.ticks = ticks           # a property change, no new model in the document
    else:
        axis.ticker = FixedTicker(ticks=ticks)
    axis.major_label_overrides = {float(t): lab for t, lab in zip(ticks, groups.labels,
                                                                   strict=True)}
