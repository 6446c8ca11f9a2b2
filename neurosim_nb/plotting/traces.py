"""Voltage and input-current traces of one neuron, and f-I curves (pure Bokeh).

A figure is built **once** around a :class:`bokeh.models.ColumnDataSource`; to show a new
result, assign new columns to ``source.data`` (in a notebook panel that is a single
front-end patch, and the figure is never re-created). The ``*_columns`` functions turn a
Dataset into those columns, so figures and data can be tested apart from any widget.

Columns of the trace source (:func:`trace_columns`):

* ``t`` -- time (ms),
* ``V`` -- membrane potential of one neuron (mV),
* ``spike`` -- ``NaN`` except at the samples where the neuron spiked, where it holds the
  height of the spike marker (drawn just above the trace),
* ``threshold`` -- the model's threshold parameter (or ``NaN`` if it has none),
* ``I`` -- the recorded input current (``I_ext``, in the model's current units).

Examples
--------
>>> from neurosim_nb import LIFNeuron
>>> ds = LIFNeuron.create_excitatory().simulate(100.0, 0.3, record=["V", "I_ext"], seed=0)
>>> cols = trace_columns(ds)
>>> sorted(cols)
['I', 'V', 'spike', 't', 'threshold']
>>> int(np.isfinite(cols["spike"]).sum()) == ds.sizes["spike"]
True
>>> source = ColumnDataSource(cols)
>>> fig = voltage_figure(source)
>>> update_axis_labels(fig, ds["V"])
>>> fig.yaxis[0].axis_label
'Membrane potential (mV)'
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from bokeh.core.properties import value as bokeh_value
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, HoverTool, Legend, LegendItem, Range1d
from bokeh.plotting import figure

from neurosim_nb.schema import population_parameters

__all__ = [
    "THRESHOLD_PARAMETERS", "axis_label", "threshold_of", "voltage_columns", "current_columns",
    "trace_columns", "empty_trace_columns", "voltage_figure", "current_figure",
    "show_threshold", "update_axis_labels", "update_current_labels", "trace_layout", "fi_figure",
    "HIDDEN_STATE_VARIABLES", "MAX_STATE_LINES", "state_variables_in", "state_columns",
    "empty_state_columns", "state_figure", "update_state_figure", "fi_columns",
    "empty_fi_columns", "operating_point_columns", "fi_panel_figure",
]

#: parameter names read as "the threshold" for the dashed threshold line, in this order
THRESHOLD_PARAMETERS = ("V_threshold", "V_th", "v_th", "V_spike_threshold", "V_T", "theta")
#: height of the spike markers above the highest point of trace and threshold (mV)
SPIKE_MARKER_OFFSET = 5.0

_TOOLS = "pan,xwheel_zoom,box_zoom,reset,save"
_V_COLOR = "#1f4e79"
_I_COLOR = "#b35900"
_SPIKE_COLOR = "#c0392b"
_STATE_COLORS = ("#2e7d32", "#8e44ad", "#d35400")

#: recorded variables never drawn in the state figure (V has its own; bookkeeping counters)
HIDDEN_STATE_VARIABLES = ("V", "I_ext", "refractory")
#: the state figure has this many line renderers (columns ``x0`` ... ``x2``)
MAX_STATE_LINES = 3


def axis_label(da: xr.DataArray, default: str = "") -> str:
    """``"Long name (units)"`` from a DataArray's attrs (falls back to its name).

    >>> axis_label(xr.DataArray([1.0], attrs={"long_name": "membrane potential",
    ...                                        "units": "mV"}))
    'Membrane potential (mV)'
    >>> axis_label(xr.DataArray([1.0], name="w", attrs={"units": "1"}))
    'W'
    """
    name = str(da.attrs.get("long_name") or da.name or default)
    name = name[:1].upper() + name[1:]
    units = da.attrs.get("units")
    return f"{name} ({units})" if units not in (None, "", "1") else name


def threshold_of(ds: xr.Dataset, neuron: int = 0) -> float | None:
    """The threshold parameter of the model that produced ``ds`` (mV), or ``None``.

    Read from the ``params_json`` attribute; the first of :data:`THRESHOLD_PARAMETERS`
    present wins. Per-neuron values give the value of recorded neuron ``neuron``.
    """
    try:
        populations = population_parameters(ds)
    except ValueError:
        return None
    ids = ds["neuron"].values
    nid = int(ids[neuron]) if len(ids) > neuron else 0
    for pop in populations:
        if not pop["first_id"] <= nid < pop["first_id"] + pop["n"]:
            continue
        values = pop["params"]["values"]
        for name in THRESHOLD_PARAMETERS:
            value = values.get(name)
            if value is None:
                continue
            if isinstance(value, list):
                value = value[nid - pop["first_id"]]
            return float(value)
    return None


def _neuron_trace(ds: xr.Dataset, var: str, neuron: int) -> np.ndarray:
    return np.asarray(ds[var].isel(neuron=neuron).values, dtype=float)


def voltage_columns(ds: xr.Dataset, neuron: int = 0) -> dict[str, np.ndarray]:
    """Columns ``t``, ``V``, ``spike``, ``threshold`` of recorded neuron ``neuron``.

    Parameters
    ----------
    ds : xarray.Dataset
        A result Dataset with ``V`` recorded.
    neuron : int
        Position of the neuron along the ``neuron`` dimension (not its id).

    Returns
    -------
    dict of str to numpy.ndarray
        Equal-length float arrays for a :class:`~bokeh.models.ColumnDataSource`.

    Examples
    --------
    >>> from neurosim_nb import LIFNeuron
    >>> ds = LIFNeuron.create_excitatory().simulate(50.0, 0.5, seed=0)
    >>> cols = voltage_columns(ds)
    >>> len(cols["t"]) == len(cols["V"]) == ds.sizes["time"], float(cols["threshold"][0])
    (True, -50.0)
    """
    t = np.asarray(ds["time"].values, dtype=float)
    v = _neuron_trace(ds, "V", neuron)
    threshold = threshold_of(ds, neuron)
    spike = np.full(t.shape, np.nan)
    if ds.sizes.get("spike", 0) and t.size:
        neuron_id = ds["neuron"].values[neuron]
        times = ds["spike_time"].values[ds["spike_neuron"].values == neuron_id]
        idx = np.clip(np.searchsorted(t, times - 1e-9), 0, t.size - 1)
        top = np.nanmax(v) if np.isfinite(v).any() else 0.0
        if threshold is not None:
            top = max(top, threshold)
        spike[idx] = top + SPIKE_MARKER_OFFSET
    thr = np.full(t.shape, np.nan if threshold is None else threshold)
    return {"t": t, "V": v, "spike": spike, "threshold": thr}


def current_columns(ds: xr.Dataset, neuron: int = 0) -> dict[str, np.ndarray]:
    """Columns ``t`` and ``I`` (the recorded ``I_ext``; ``NaN`` if it was not recorded)."""
    t = np.asarray(ds["time"].values, dtype=float)
    if "I_ext" in ds:
        i = _neuron_trace(ds, "I_ext", neuron)
    else:
        i = np.full(t.shape, np.nan)
    return {"t": t, "I": i}


def trace_columns(ds: xr.Dataset, neuron: int = 0) -> dict[str, np.ndarray]:
    """:func:`voltage_columns` and :func:`current_columns` in one dict (one source, so
    one assignment updates both the voltage and the current figure)."""
    return {**voltage_columns(ds, neuron), **current_columns(ds, neuron)}


def empty_trace_columns() -> dict[str, list]:
    """Empty columns with the names :func:`trace_columns` produces."""
    return {k: [] for k in ("t", "V", "spike", "threshold", "I")}


def voltage_figure(source: ColumnDataSource, *, title: str = "Membrane potential",
                   width: int = 720, height: int = 300, x_range: Any = None) -> figure:
    """Membrane potential trace, spike markers and the dashed threshold line.

    Parameters
    ----------
    source : ColumnDataSource
        With the columns of :func:`voltage_columns` (e.g. :func:`trace_columns`).
    title : str
        Figure title.
    width, height : int
        Size in pixels.
    x_range : bokeh Range, optional
        Share the time axis with another figure.

    Returns
    -------
    bokeh.plotting.figure
        Renderers are named ``"V"``, ``"spikes"`` and ``"threshold"``.

    Examples
    --------
    >>> fig = voltage_figure(ColumnDataSource(empty_trace_columns()))
    >>> [r.name for r in fig.renderers]
    ['threshold', 'V', 'spikes']
    >>> [item.label.value for item in fig.legend[0].items]
    ['V', 'threshold', 'spike']
    """
    kw = {"x_range": x_range} if x_range is not None else {}
    fig = figure(title=title, width=width, height=height, tools=_TOOLS,
                 x_axis_label="Time (ms)", y_axis_label="Membrane potential (mV)",
                 name="voltage_figure", **kw)
    thr = fig.line("t", "threshold", source=source, name="threshold", color="gray",
                   line_dash="dashed", line_width=1.5)
    v = fig.line("t", "V", source=source, name="V", color=_V_COLOR, line_width=1.5)
    spk = fig.scatter("t", "spike", source=source, name="spikes", marker="inverted_triangle",
                      size=9, color=_SPIKE_COLOR)
    legend = Legend(items=[LegendItem(label="V", renderers=[v]),
                           LegendItem(label="threshold", renderers=[thr]),
                           LegendItem(label="spike", renderers=[spk])],
                    orientation="horizontal", click_policy="hide", border_line_alpha=0,
                    margin=0, padding=2)
    fig.add_layout(legend, "above")
    fig.add_tools(HoverTool(renderers=[fig.select_one({"name": "V"})],
                            tooltips=[("t", "@t{0.0} ms"), ("V", "@V{0.00} mV")],
                            mode="vline"))
    fig.toolbar.logo = None
    return fig


def current_figure(source: ColumnDataSource, *, title: str = "Input current",
                   units: str = "nA", width: int = 720, height: int = 190,
                   x_range: Any = None) -> figure:
    """The input current ``I`` against time (share ``x_range`` with the voltage figure).

    The y axis reads ``I (units)``; the title names the quantity (see
    :func:`update_current_labels`).

    Examples
    --------
    >>> fig = current_figure(ColumnDataSource(empty_trace_columns()), units="mV/ms")
    >>> fig.yaxis[0].axis_label
    'I (mV/ms)'
    """
    kw = {"x_range": x_range} if x_range is not None else {}
    fig = figure(title=title, width=width, height=height, tools=_TOOLS,
                 x_axis_label="Time (ms)", y_axis_label=f"I ({units})",
                 name="current_figure", **kw)
    fig.line("t", "I", source=source, name="I", color=_I_COLOR, line_width=2)
    fig.toolbar.logo = None
    return fig


def update_current_labels(fig: figure, da: xr.DataArray) -> None:
    """Title from ``da``'s ``long_name`` and y label ``I (units)`` (in place).

    >>> fig = current_figure(ColumnDataSource(empty_trace_columns()))
    >>> da = xr.DataArray([0.0], attrs={"long_name": "input current density",
    ...                                 "units": "uA/cm2"})
    >>> update_current_labels(fig, da)
    >>> fig.title.text, fig.yaxis[0].axis_label
    ('Input current density', 'I (uA/cm2)')
    """
    title = axis_label(da.assign_attrs(units=None), default="input current")
    units = da.attrs.get("units")
    label = f"I ({units})" if units not in (None, "", "1") else "I"
    if fig.title.text != title:
        fig.title.text = title
    for axis in fig.yaxis:
        if axis.axis_label != label:
            axis.axis_label = label


def show_threshold(fig: figure, visible: bool) -> None:
    """Show or hide the threshold's legend entry (hide it for models without one)."""
    for legend in fig.legend:
        for item in legend.items:
            if item.label.value == "threshold" and item.visible != visible:
                item.visible = visible


def update_axis_labels(fig: figure, da: xr.DataArray) -> None:
    """Set the y-axis label of ``fig`` from ``da``'s ``long_name`` and ``units``
    (in place, so a displayed figure updates without being re-created)."""
    label = axis_label(da)
    for axis in fig.yaxis:
        if axis.axis_label != label:
            axis.axis_label = label


def trace_layout(source: ColumnDataSource, *, width: int = 720, current_units: str = "nA"):
    """The voltage figure above the current figure, sharing the time axis.

    Returns
    -------
    (layout, voltage_fig, current_fig)
        ``layout`` is a Bokeh column to show (e.g. in ``jupyter_bokeh.BokehModel``).
    """
    v_fig = voltage_figure(source, width=width)
    i_fig = current_figure(source, width=width, units=current_units, x_range=v_fig.x_range)
    return column(v_fig, i_fig), v_fig, i_fig


def fi_figure(current, rate, *, reference=None, units: str = "nA", title: str = "f-I curve",
              width: int = 520, height: int = 320) -> figure:
    """Firing rate against input current, optionally with a reference curve (e.g. a
    closed form) drawn as a line under the simulated points.

    Examples
    --------
    >>> fig = fi_figure([0.0, 1.0], [0.0, 20.0], reference=[0.0, 21.0])
    >>> [r.name for r in fig.renderers]
    ['reference', 'simulated']
    """
    top = [np.asarray(rate, float), np.asarray([] if reference is None else reference, float)]
    top = np.concatenate(top)
    top = float(np.nanmax(top)) if np.isfinite(top).any() else 1.0
    fig = figure(title=title, width=width, height=height, tools=_TOOLS,
                 x_axis_label=f"Input current ({units})", y_axis_label="Firing rate (Hz)",
                 y_range=Range1d(0, max(1.0, 1.1 * top)))
    src = ColumnDataSource({"I": np.asarray(current, float), "rate": np.asarray(rate, float)})
    if reference is not None:
        src.data["reference"] = np.asarray(reference, float)
        fig.line("I", "reference", source=src, name="reference", color="gray", line_width=2,
                 legend_label="closed form")
    fig.scatter("I", "rate", source=src, name="simulated", size=7, color=_V_COLOR,
                legend_label="simulated")
    fig.legend.location = "top_left"
    fig.toolbar.logo = None
    return fig


# -- gating / recovery / adaptation variables ------------------------------------------------
def state_variables_in(ds: xr.Dataset) -> list[str]:
    """Recorded ``(time, neuron)`` variables of ``ds`` other than V, the input current and
    bookkeeping (:data:`HIDDEN_STATE_VARIABLES`), at most :data:`MAX_STATE_LINES`.

    >>> from neurosim_nb import IzhikevichNeuron
    >>> ds = IzhikevichNeuron.from_preset("RS").simulate(20.0, 10.0, record=["V", "u"], seed=0)
    >>> state_variables_in(ds)
    ['u']
    """
    out = [name for name, da in ds.data_vars.items()
           if da.dims == ("time", "neuron") and name not in HIDDEN_STATE_VARIABLES]
    return out[:MAX_STATE_LINES]


def state_columns(ds: xr.Dataset, neuron: int = 0) -> dict[str, np.ndarray]:
    """Columns ``t`` and ``x0 ... x2``: the variables of :func:`state_variables_in` in
    order, ``NaN`` for unused lines (the column set is the same for every model, so one
    figure serves every family).

    >>> from neurosim_nb import HodgkinHuxleyNeuron
    >>> ds = HodgkinHuxleyNeuron().simulate(5.0, 0.0, record=["V", "m", "h", "n"], seed=0)
    >>> cols = state_columns(ds)
    >>> sorted(cols), bool(np.allclose(cols["x2"], ds.n.values[:, 0]))
    (['t', 'x0', 'x1', 'x2'], True)
    """
    t = np.asarray(ds["time"].values, dtype=float)
    names = state_variables_in(ds)
    cols: dict[str, np.ndarray] = {"t": t}
    for k in range(MAX_STATE_LINES):
        cols[f"x{k}"] = (_neuron_trace(ds, names[k], neuron) if k < len(names)
                         else np.full(t.shape, np.nan))
    return cols


def empty_state_columns() -> dict[str, list]:
    """Empty columns with the names :func:`state_columns` produces."""
    return {k: [] for k in ("t", *(f"x{k}" for k in range(MAX_STATE_LINES)))}


def state_figure(source: ColumnDataSource, *, title: str = "Gating and adaptation variables",
                 width: int = 720, height: int = 190, x_range: Any = None) -> figure:
    """Up to three state variables against time (columns ``x0 ... x2`` of ``source``).

    :func:`update_state_figure` names the lines and the axis after the recorded
    variables and hides the figure for a model without any (LIF).

    Examples
    --------
    >>> fig = state_figure(ColumnDataSource(empty_state_columns()))
    >>> [r.name for r in fig.renderers]
    ['x0', 'x1', 'x2']
    """
    kw = {"x_range": x_range} if x_range is not None else {}
    fig = figure(title=title, width=width, height=height, tools=_TOOLS,
                 x_axis_label="Time (ms)", name="state_figure", **kw)
    items = []
    for k in range(MAX_STATE_LINES):
        r = fig.line("t", f"x{k}", source=source, name=f"x{k}", color=_STATE_COLORS[k],
                     line_width=1.5)
        items.append(LegendItem(label=f"x{k}", renderers=[r]))
    fig.add_layout(Legend(items=items, orientation="horizontal", click_policy="hide",
                          border_line_alpha=0, margin=0, padding=2), "above")
    fig.toolbar.logo = None
    return fig


def update_state_figure(fig: figure, ds: xr.Dataset) -> list[str]:
    """Name the lines of a :func:`state_figure` after the variables recorded in ``ds``
    (legend, title, y label; unused lines hidden, the whole figure hidden if there are
    none). Changes only what differs, in place. Returns the variables shown.

    >>> from neurosim_nb import AdExNeuron
    >>> ds = AdExNeuron.from_preset("tonic").simulate(20.0, 0.5, record=["V", "w"], seed=0)
    >>> fig = state_figure(ColumnDataSource(state_columns(ds)))
    >>> update_state_figure(fig, ds), fig.yaxis[0].axis_label, fig.title.text
    (['w'], 'w (nA)', 'w: adaptation current')
    """
    names = state_variables_in(ds)
    units = {ds[n].attrs.get("units") for n in names}
    unit = units.pop() if len(units) == 1 else None
    label = ", ".join(names) + (f" ({unit})" if unit not in (None, "", "1") else "")
    title = "; ".join(f"{n}: {ds[n].attrs.get('long_name', n)}" for n in names)
    changes = [(fig, "visible", bool(names))]
    if names:
        changes += [(fig.title, "text", title), *((ax, "axis_label", label) for ax in fig.yaxis)]
    legend = fig.legend[0]
    for k, item in enumerate(legend.items):
        shown = k < len(names)
        changes += [(item, "visible", shown), (item.renderers[0], "visible", shown)]
        if shown and item.label.value != names[k]:
            item.label = bokeh_value(names[k])  # a new object: in-place edits are not synced
    for obj, attr, value in changes:
        if getattr(obj, attr) != value:
            setattr(obj, attr, value)
    return names


# -- live f-I curve ----------------------------------------------------------------------------
def fi_columns(rates: xr.DataArray) -> dict[str, np.ndarray]:
    """Columns ``I`` and ``rate`` of an f-I curve (a
    :func:`~neurosim_nb.analysis.transfer_function` result).

    >>> f = xr.DataArray([0.0, 12.0], dims="current", coords={"current": [0.1, 0.2]})
    >>> {k: v.tolist() for k, v in fi_columns(f).items()}
    {'I': [0.1, 0.2], 'rate': [0.0, 12.0]}
    """
    return {"I": np.asarray(rates["current"].values, dtype=float),
            "rate": np.asarray(rates.values, dtype=float)}


def empty_fi_columns() -> dict[str, list]:
    """Empty columns with the names :func:`fi_columns` produces."""
    return {"I": [], "rate": []}


def operating_point_columns(current: float, rate: float) -> dict[str, list]:
    """The one-row source of the operating-point marker of :func:`fi_panel_figure`."""
    return {"I": [float(current)], "rate": [float(rate)]}


def fi_panel_figure(curve: ColumnDataSource, point: ColumnDataSource, *, units: str = "nA",
                    title: str = "f-I curve (constant current)", width: int = 400,
                    height: int = 300) -> figure:
    """An f-I curve bound to ``curve`` (columns of :func:`fi_columns`) with the current
    operating point from ``point`` (:func:`operating_point_columns`), for live panels.

    Renderers: ``"fi_curve"`` (line), ``"fi_points"`` (the simulated currents) and
    ``"operating_point"``. Set the x label with :func:`update_axis_labels`-like changes of
    ``fig.xaxis[0].axis_label`` when the units change.

    Examples
    --------
    >>> fig = fi_panel_figure(ColumnDataSource(empty_fi_columns()),
    ...                       ColumnDataSource(empty_fi_columns()), units="mV/ms")
    >>> [r.name for r in fig.renderers], fig.xaxis[0].axis_label
    (['fi_curve', 'fi_points', 'operating_point'], 'Input current (mV/ms)')
    """
    fig = figure(title=title, width=width, height=height, tools=_TOOLS,
                 x_axis_label=f"Input current ({units})", y_axis_label="Firing rate (Hz)",
                 name="fi_figure")
    line = fig.line("I", "rate", source=curve, name="fi_curve", color=_V_COLOR, line_width=2)
    dots = fig.scatter("I", "rate", source=curve, name="fi_points", size=4, color=_V_COLOR)
    op = fig.scatter("I", "rate", source=point, name="operating_point", marker="star",
                     size=16, color=_SPIKE_COLOR, line_color="black")
    fig.add_layout(Legend(items=[LegendItem(label="stationary rate", renderers=[line, dots]),
                                 LegendItem(label="this current", renderers=[op])],
                          location="top_left", border_line_alpha=0, background_fill_alpha=0.6))
    fig.add_tools(HoverTool(renderers=[dots], tooltips=[("I", "@I{0.000}"),
                                                        ("rate", "@rate{0.0} Hz")]))
    fig.toolbar.logo = None
    return fig
