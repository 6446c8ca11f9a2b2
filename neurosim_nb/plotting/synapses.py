"""Synapse and plasticity figures: PSPs, the STDP window, weight evolution (pure Bokeh).

As everywhere in :mod:`neurosim_nb.plotting`, a figure is built **once** around
:class:`~bokeh.models.ColumnDataSource` objects and a new result is shown by assigning
``source.data`` (one front-end patch); the ``*_columns`` functions turn results into those
columns, so data and figures are tested apart from any widget.

* :func:`psp_columns` / :func:`arrival_columns` / :func:`psp_layout` -- membrane potential,
  synaptic conductance and synaptic current of one postsynaptic neuron (a result of
  :func:`neurosim_nb.experiments.simulate_psp`);
* :func:`window_columns` / :func:`pair_columns` / :func:`stdp_window_figure` -- the STDP
  window :math:`\\Delta w(\\Delta t)` of the rule and weight changes measured in a network;
* :func:`weight_columns` / :func:`reward_columns` / :func:`histogram_columns` /
  :func:`weight_figure` / :func:`histogram_figure` -- mean and spread of plastic weights
  over time, reward times, the final weight histogram.

Examples
--------
>>> from neurosim_nb.core.synapses.stdp import STDPParameters
>>> cols = window_columns(STDPParameters(), span_ms=50.0, n=101)
>>> float(cols["dw"][50]), float(cols["dt"][50])     # the window at dt = 0: A_plus
(0.0001, 0.0)
>>> fig = stdp_window_figure(ColumnDataSource(cols), ColumnDataSource(empty_pair_columns()))
>>> [r.name for r in fig.renderers]
['zero', 'window', 'pairs']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, HoverTool, Legend, LegendItem, Span
from bokeh.plotting import figure

__all__ = [
    "psp_columns", "empty_psp_columns", "arrival_columns", "empty_arrival_columns",
    "psp_layout", "window_columns", "pair_columns", "empty_pair_columns",
    "stdp_window_figure", "weight_columns", "empty_weight_columns", "reward_columns",
    "empty_reward_columns", "histogram_columns", "empty_histogram_columns", "weight_figure",
    "histogram_figure",
]

_TOOLS = "pan,xwheel_zoom,box_zoom,reset,save"
_V_COLOR = "#1f4e79"
_G_COLOR = "#2e7d32"
_I_COLOR = "#b35900"
_SPIKE_COLOR = "#c0392b"
_LTP_COLOR = "#1f4e79"
_REWARD_COLOR = "#8e44ad"


def _finish(fig: figure) -> figure:
    fig.toolbar.logo = None
    return fig


# -- PSPs ------------------------------------------------------------------------------------
def psp_columns(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """Columns ``t`` (ms), ``V`` (mV), ``g`` (nS) and ``I`` (pA) of a PSP result.

    ``ds`` holds ``V``, ``g_syn`` (µS or, for a current synapse, nA) and ``I_syn`` (nA)
    over ``time``; conductances are shown in nS and currents in pA (the sizes of one
    synapse). For a current-based synapse ``g`` is ``NaN`` (there is no conductance).

    Examples
    --------
    >>> ds = xr.Dataset({"V": ("time", [-70.0, -69.5]), "g_syn": ("time", [0.0, 0.002]),
    ...                  "I_syn": ("time", [0.0, 0.14])}, coords={"time": [0.1, 0.2]},
    ...                 attrs={"receptor_kind": "conductance"})
    >>> {k: v.tolist() for k, v in psp_columns(ds).items()}
    {'t': [0.1, 0.2], 'V': [-70.0, -69.5], 'g': [0.0, 2.0], 'I': [0.0, 140.0]}
    """
    t = np.asarray(ds["time"].values, dtype=float)
    g = np.asarray(ds["g_syn"].values, dtype=float) * 1e3
    if ds.attrs.get("receptor_kind") != "conductance":
        g = np.full(t.shape, np.nan)
    return {"t": t, "V": np.asarray(ds["V"].values, dtype=float), "g": g,
            "I": np.asarray(ds["I_syn"].values, dtype=float) * 1e3}


def empty_psp_columns() -> dict[str, list]:
    """Empty columns with the names of :func:`psp_columns`."""
    return {k: [] for k in ("t", "V", "g", "I")}


def arrival_columns(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """Columns ``t`` (arrival time of each presynaptic spike at the synapse, ms),
    ``amplitude`` (its delivered weight relative to the weight: 1 without short-term
    plasticity) and ``y`` (0, where the markers are drawn)."""
    t = np.asarray(ds["arrival_time"].values, dtype=float)
    return {"t": t, "amplitude": np.asarray(ds["release"].values, dtype=float),
            "y": np.zeros(t.shape)}


def empty_arrival_columns() -> dict[str, list]:
    """Empty columns with the names of :func:`arrival_columns`."""
    return {"t": [], "amplitude": [], "y": []}


def psp_layout(source: ColumnDataSource, arrivals: ColumnDataSource, *, width: int = 720
               ) -> tuple[Any, figure, figure, figure]:
    """Membrane potential, synaptic conductance and synaptic current, sharing the time axis.

    Parameters
    ----------
    source : ColumnDataSource
        Columns of :func:`psp_columns`.
    arrivals : ColumnDataSource
        Columns of :func:`arrival_columns` (triangles on the conductance plot).
    width : int
        Width in pixels.

    Returns
    -------
    (layout, v_fig, g_fig, i_fig)

    Examples
    --------
    >>> lay, v, g, i = psp_layout(ColumnDataSource(empty_psp_columns()),
    ...                           ColumnDataSource(empty_arrival_columns()))
    >>> [r.name for r in g.renderers], i.yaxis[0].axis_label
    (['g', 'arrivals'], 'I_syn (pA)')
    """
    v_fig = figure(title="Postsynaptic membrane potential", width=width, height=250,
                   tools=_TOOLS, x_axis_label="Time (ms)",
                   y_axis_label="Membrane potential (mV)", name="psp_voltage_figure")
    v_fig.line("t", "V", source=source, name="V", color=_V_COLOR, line_width=2)
    v_fig.add_tools(HoverTool(tooltips=[("t", "@t{0.0} ms"), ("V", "@V{0.000} mV")],
                              mode="vline", renderers=[v_fig.select_one({"name": "V"})]))
    g_fig = figure(title="Synaptic conductance (triangles: presynaptic spikes arriving)",
                   width=width, height=170, tools=_TOOLS, x_range=v_fig.x_range,
                   x_axis_label="Time (ms)", y_axis_label="g_syn (nS)",
                   name="psp_conductance_figure")
    g_fig.line("t", "g", source=source, name="g", color=_G_COLOR, line_width=2)
    g_fig.scatter("t", "y", source=arrivals, name="arrivals", marker="triangle", size=10,
                  color=_SPIKE_COLOR)
    i_fig = figure(title="Synaptic current (positive: depolarising)", width=width,
                   height=170, tools=_TOOLS, x_range=v_fig.x_range, x_axis_label="Time (ms)",
                   y_axis_label="I_syn (pA)", name="psp_current_figure")
    i_fig.line("t", "I", source=source, name="I", color=_I_COLOR, line_width=2)
    for fig in (v_fig, g_fig, i_fig):
        _finish(fig)
    return column(v_fig, g_fig, i_fig), v_fig, g_fig, i_fig


# -- STDP window -----------------------------------------------------------------------------
def window_columns(params, *, span_ms: float | None = None, n: int = 401
                   ) -> dict[str, np.ndarray]:
    """The additive STDP window ``dw`` (weight units) of ``params`` at ``dt`` (ms) from
    ``-span_ms`` to ``span_ms`` (default five times the longer time constant, at most
    200 ms), computed by :func:`neurosim_nb.core.synapses.stdp.stdp_window`.

    The two branches meet at ``dt = 0`` with different values (``A_plus`` on the right,
    ``-A_minus`` on the left); the grid holds ``dt = 0`` twice so that the line jumps.
    """
    from neurosim_nb.core.synapses.stdp import stdp_window

    if span_ms is None:
        span_ms = min(200.0, 5.0 * max(params.tau_plus, params.tau_minus))
    half = max(2, n // 2)
    left = np.linspace(-span_ms, 0.0, half)
    right = np.linspace(0.0, span_ms, half)
    dw = np.concatenate([-params.A_minus * np.exp(left / params.tau_minus),
                         stdp_window(right, params)])
    return {"dt": np.concatenate([left, right]), "dw": dw}


def pair_columns(dt_ms, dw) -> dict[str, np.ndarray]:
    """Columns ``dt`` and ``dw`` of weight changes measured for single spike pairs."""
    return {"dt": np.asarray(dt_ms, dtype=float), "dw": np.asarray(dw, dtype=float)}


def empty_pair_columns() -> dict[str, list]:
    """Empty columns with the names of :func:`pair_columns` (and :func:`window_columns`)."""
    return {"dt": [], "dw": []}


def stdp_window_figure(window: ColumnDataSource, pairs: ColumnDataSource, *,
                       width: int = 470, height: int = 300, units: str = "uS") -> figure:
    """The rule's window (line) with the changes measured in a network (circles)."""
    fig = figure(title="STDP window: weight change of one spike pair", width=width,
                 height=height, tools=_TOOLS,
                 x_axis_label="Δt = t_post − t_pre (ms)", y_axis_label=f"Δw ({units})",
                 name="stdp_window_figure")
    zero = fig.line([-1e4, 1e4], [0.0, 0.0], name="zero", color="gray", line_dash="dotted")
    zero.level = "underlay"
    line = fig.line("dt", "dw", source=window, name="window", color=_LTP_COLOR, line_width=2)
    pts = fig.scatter("dt", "dw", source=pairs, name="pairs", size=8, fill_color="white",
                      line_color=_SPIKE_COLOR, line_width=2)
    fig.x_range.range_padding = 0.02
    fig.x_range.bounds = None
    fig.x_range.renderers = [line, pts]
    fig.add_layout(Span(location=0.0, dimension="height", line_color="gray",
                        line_dash="dotted"))
    legend = Legend(items=[LegendItem(label="rule", renderers=[line]),
                           LegendItem(label="measured in a network", renderers=[pts])],
                    location="top_left", border_line_alpha=0, background_fill_alpha=0.6)
    fig.add_layout(legend)
    fig.add_tools(HoverTool(renderers=[pts], tooltips=[("Δt", "@dt{0.0} ms"),
                                                       ("Δw", "@dw{0.000e} " + units)]))
    return _finish(fig)


# -- weights over time -----------------------------------------------------------------------
def weight_columns(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """Columns ``t`` (s), ``mean``, ``lower``/``upper`` (mean ∓ standard deviation),
    ``min`` and ``max`` over synapses of ``ds.weight`` (weight units).

    Examples
    --------
    >>> ds = xr.Dataset({"weight": (("weight_time", "synapse"), [[1.0, 3.0], [2.0, 2.0]])},
    ...                 coords={"weight_time": [0.0, 500.0]})
    >>> {k: v.tolist() for k, v in weight_columns(ds).items()}
    {'t': [0.0, 0.5], 'mean': [2.0, 2.0], 'lower': [1.0, 2.0], 'upper': [3.0, 2.0], \
'min': [1.0, 2.0], 'max': [3.0, 2.0]}
    """
    w = np.asarray(ds["weight"].values, dtype=float)
    mean, std = w.mean(axis=1), w.std(axis=1)
    return {"t": np.asarray(ds["weight_time"].values, dtype=float) / 1000.0, "mean": mean,
            "lower": mean - std, "upper": mean + std, "min": w.min(axis=1),
            "max": w.max(axis=1)}


def empty_weight_columns() -> dict[str, list]:
    """Empty columns with the names of :func:`weight_columns`."""
    return {k: [] for k in ("t", "mean", "lower", "upper", "min", "max")}


def reward_columns(ds: xr.Dataset, y: float | None = None) -> dict[str, np.ndarray]:
    """Columns ``t`` (s), ``reward`` and ``y`` (marker height: ``y`` or the top of the
    weights) of the rewards delivered in ``ds`` (``reward`` over ``reward_time``, ms)."""
    t = np.asarray(ds["reward_time"].values, dtype=float) / 1000.0 if "reward" in ds \
        else np.zeros(0)
    r = np.asarray(ds["reward"].values, dtype=float) if "reward" in ds else np.zeros(0)
    if y is None:
        y = float(np.nanmax(ds["weight"].values)) if "weight" in ds else 0.0
    return {"t": t, "reward": r, "y": np.full(t.shape, y)}


def empty_reward_columns() -> dict[str, list]:
    """Empty columns with the names of :func:`reward_columns`."""
    return {"t": [], "reward": [], "y": []}


def histogram_columns(weights, w_min: float, w_max: float, bins: int = 20
                      ) -> dict[str, np.ndarray]:
    """Histogram of ``weights`` over ``[w_min, w_max]`` in ``bins`` bins: ``left``,
    ``right``, ``count`` (weights on the upper bound fall in the last bin).

    >>> cols = histogram_columns([0.0, 0.5, 1.0, 1.0], 0.0, 1.0, bins=2)
    >>> cols["count"].tolist(), cols["right"].tolist()
    ([1, 3], [0.5, 1.0])
    """
    w = np.asarray(weights, dtype=float).ravel()
    lo, hi = float(w_min), float(w_max)
    if not hi > lo:
        lo, hi = lo - 0.5 * max(abs(lo), 1e-3), hi + 0.5 * max(abs(hi), 1e-3)
    counts, edges = np.histogram(w, bins=bins, range=(lo, hi))
    return {"left": edges[:-1], "right": edges[1:], "count": counts}


def empty_histogram_columns() -> dict[str, list]:
    """Empty columns with the names of :func:`histogram_columns`."""
    return {"left": [], "right": [], "count": []}


def weight_figure(weights: ColumnDataSource, rewards: ColumnDataSource, *, width: int = 470,
                  height: int = 300, units: str = "uS") -> figure:
    """Mean weight (line), ± one standard deviation (band), range (dotted), rewards."""
    fig = figure(title="Weights over time", width=width, height=height, tools=_TOOLS,
                 x_axis_label="Time (s)", y_axis_label=f"Weight ({units})",
                 name="weight_figure")
    band = fig.varea("t", "lower", "upper", source=weights, name="spread", color=_LTP_COLOR,
                     alpha=0.2)
    lo = fig.line("t", "min", source=weights, name="min", color=_LTP_COLOR, alpha=0.6,
                  line_dash="dotted")
    fig.line("t", "max", source=weights, name="max", color=_LTP_COLOR, alpha=0.6,
             line_dash="dotted")
    mean = fig.line("t", "mean", source=weights, name="mean", color=_LTP_COLOR, line_width=2)
    rew = fig.scatter("t", "y", source=rewards, name="rewards", marker="inverted_triangle",
                      size=7, color=_REWARD_COLOR)
    legend = Legend(items=[LegendItem(label="mean", renderers=[mean]),
                           LegendItem(label="± 1 s.d.", renderers=[band]),
                           LegendItem(label="min / max", renderers=[lo]),
                           LegendItem(label="reward", renderers=[rew])],
                    orientation="horizontal", click_policy="hide", border_line_alpha=0,
                    margin=0, padding=2)
    fig.add_layout(legend, "above")
    fig.add_tools(HoverTool(renderers=[mean], mode="vline",
                            tooltips=[("t", "@t{0.00} s"), ("mean", "@mean{0.00000}")]))
    return _finish(fig)


def histogram_figure(source: ColumnDataSource, *, width: int = 470, height: int = 300,
                     units: str = "uS") -> figure:
    """Histogram of the final weights (quads)."""
    fig = figure(title="Final weights", width=width, height=height, tools=_TOOLS,
                 x_axis_label=f"Weight ({units})", y_axis_label="Synapses",
                 name="histogram_figure")
    fig.quad(left="left", right="right", top="count", bottom=0, source=source, name="hist",
             fill_color=_LTP_COLOR, fill_alpha=0.6, line_color="white")
    fig.y_range.start = 0
    return _finish(fig)
