"""Phase planes of two-variable neuron models (pure Bokeh: no ipywidgets here).

The phase plane of the Izhikevich or AdEx model has the membrane potential ``V`` on the x
axis and the recovery variable (``u`` or ``w``) on the y axis. One figure
(:func:`phase_figure`) is built **once** around five sources, each filled by a
``*_columns`` function:

* nullclines (:func:`nullcline_columns`): ``V``, ``V_nullcline``, ``recovery_nullcline``;
* fixed points (:func:`fixed_point_columns`): ``V``, ``recovery``, ``kind``, ``stable``
  and the marker colours;
* the trajectory (:func:`trajectory_columns`): ``t``, ``V``, ``recovery`` -- the initial
  point, then the recorded samples, with a ``NaN`` row wherever the model reset (so the
  line is broken there);
* the reset jumps (:func:`reset_columns`): dashed paths from the last sample before a
  spike to the first one after the reset (through the recorded peak, if any);
* the start of the trajectory (``V``, ``recovery``: one row).

Examples
--------
>>> from neurosim_nb import IzhikevichNeuron
>>> from neurosim_nb.analysis import fixed_points, nullclines
>>> pop = IzhikevichNeuron.from_preset("RS")
>>> fp = fixed_points(pop, I_ext=0.0)
>>> fixed_point_columns(fp)["kind"]
['stable node', 'saddle']
>>> nc = nullcline_columns(nullclines(pop, I_ext=0.0, n_points=5))
>>> sorted(nc)
['V', 'V_nullcline', 'recovery_nullcline']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from bokeh.core.properties import value as bokeh_value
from bokeh.models import ColumnDataSource, HoverTool, Legend, LegendItem, Range1d
from bokeh.plotting import figure

__all__ = [
    "STABLE_KINDS", "recovery_name", "nullcline_columns", "fixed_point_columns",
    "trajectory_columns", "reset_columns", "empty_phase_columns", "phase_sources",
    "phase_figure", "phase_time_figure", "phase_ranges", "set_ranges", "update_phase_labels",
]

#: fixed-point kinds (from :func:`~neurosim_nb.analysis.fixed_points`) drawn as stable
STABLE_KINDS = ("stable node", "stable focus")
_FP_STYLE = {  # kind -> (fill colour, line colour)
    "stable node": ("#2e7d32", "#1b5e20"),
    "stable focus": ("#2e7d32", "#1b5e20"),
    "saddle": ("#f39c12", "#a04000"),
    "saddle-node": ("#f39c12", "#a04000"),
    "center": ("#ffffff", "#1f4e79"),
    "unstable node": ("#ffffff", "#c0392b"),
    "unstable focus": ("#ffffff", "#c0392b"),
}
_TOOLS = "pan,wheel_zoom,box_zoom,reset,save"
_TRAJ_COLOR = "#1f4e79"
_V_NC_COLOR = "#c0392b"
_R_NC_COLOR = "#2e7d32"


def recovery_name(ds: xr.Dataset) -> str:
    """Name of the recovery variable in a nullcline, fixed-point or result Dataset
    (``u`` for Izhikevich, ``w`` for AdEx): the ``<name>_nullcline`` of a nullcline
    Dataset, else the recovery variable of the planar model the Dataset's ``model`` attr
    names (a :class:`~neurosim_nb.core.neurons.planar.PlanarModel` name or a population
    class), else the first recovery variable of a registered planar model that the
    Dataset holds.

    >>> recovery_name(xr.Dataset({"V": ("time", [0.0]), "w": ("time", [0.0])}))
    'w'
    """
    from neurosim_nb.core.neurons.planar import planar_models
    from neurosim_nb.core.neurons.registry import MODEL_FAMILIES

    for var in ds.data_vars:
        name = str(var)
        if name.endswith("_nullcline") and name != "V_nullcline":
            return name[:-len("_nullcline")]
    models = planar_models()
    model = ds.attrs.get("model")
    for family, planar in models.items():
        if model in (planar.name, MODEL_FAMILIES[family].__name__) and planar.recovery in ds:
            return planar.recovery
    names = list(dict.fromkeys(planar.recovery for planar in models.values()))
    for name in names:
        if name in ds:
            return name
    raise KeyError(f"no recovery variable ({' or '.join(names)}) in the Dataset")


def nullcline_columns(nc: xr.Dataset) -> dict[str, np.ndarray]:
    """Columns of a :func:`~neurosim_nb.analysis.nullclines` Dataset: ``V`` (mV),
    ``V_nullcline`` (recovery value where dV/dt = 0) and ``recovery_nullcline``."""
    r = recovery_name(nc)
    return {"V": np.asarray(nc["V"].values, float),
            "V_nullcline": np.asarray(nc["V_nullcline"].values, float),
            "recovery_nullcline": np.asarray(nc[f"{r}_nullcline"].values, float)}


def fixed_point_columns(fp: xr.Dataset) -> dict[str, list]:
    """Columns of a :func:`~neurosim_nb.analysis.fixed_points` Dataset: ``V``,
    ``recovery``, ``kind``, ``stable`` (bool) and marker ``fill`` / ``line`` colours
    (stable: filled green; saddle: orange; unstable: open red)."""
    r = recovery_name(fp)
    kinds = [str(k) for k in fp["kind"].values]
    return {"V": [float(v) for v in fp["V"].values],
            "recovery": [float(v) for v in fp[r].values],
            "kind": kinds,
            "stable": [k in STABLE_KINDS for k in kinds],
            "fill": [_FP_STYLE.get(k, ("#999999", "#333333"))[0] for k in kinds],
            "line": [_FP_STYLE.get(k, ("#999999", "#333333"))[1] for k in kinds]}


def _reset_pairs(ds: xr.Dataset, v: np.ndarray) -> list[tuple[int, int]]:
    """(pre, post) sample indices around each reset of recorded neuron 0: ``pre`` is the
    last sample before the spike step, ``post`` the first sample after the reset (the
    spike step's own sample if it already holds the reset state, else the next one)."""
    t = np.asarray(ds["time"].values, float)
    if not ds.sizes.get("spike", 0) or t.size < 2:
        return []
    nid = ds["neuron"].values[0]
    times = ds["spike_time"].values[ds["spike_neuron"].values == nid]
    pairs = []
    for i in np.searchsorted(t, times - 1e-9):
        if i <= 0 or i >= t.size:
            continue
        post = i if (v[i] < v[i - 1] or i + 1 >= t.size) else i + 1
        pairs.append((int(i - 1), int(post)))
    return pairs


def trajectory_columns(ds: xr.Dataset, initial: tuple[float, float] | None = None
                       ) -> dict[str, np.ndarray]:
    """Columns ``t``, ``V``, ``recovery`` of recorded neuron 0: the initial point (at
    ``t = 0``, if given) and every recorded sample, with a ``NaN`` row after the last
    sample before each reset, so that a line renderer draws the continuous flow only.

    Dropping the ``NaN`` rows (and the initial row) gives the recorded ``V`` and ``u``/``w``
    back exactly.

    >>> from neurosim_nb import IzhikevichNeuron
    >>> ds = IzhikevichNeuron.from_preset("RS").simulate(50.0, 10.0, record=["V", "u"])
    >>> cols = trajectory_columns(ds, initial=(-65.0, -13.0))
    >>> n_breaks = int(np.isnan(cols["V"]).sum())
    >>> n_breaks == ds.sizes["spike"], len(cols["V"]) == ds.sizes["time"] + 1 + n_breaks
    (True, True)
    """
    r = recovery_name(ds)
    t = np.asarray(ds["time"].values, float)
    v = np.asarray(ds["V"].values[:, 0], float)
    w = np.asarray(ds[r].values[:, 0], float)
    breaks = [pre + 1 for pre, _ in _reset_pairs(ds, v)]
    t, v, w = (np.insert(x, breaks, np.nan) for x in (t, v, w))
    if initial is not None:
        t, v, w = (np.concatenate([[x0], x]) for x0, x in zip((0.0, *initial), (t, v, w),
                                                             strict=True))
    return {"t": t, "V": v, "recovery": w}


def reset_columns(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """Columns ``V``, ``recovery``: one dashed path per reset (last sample before the
    spike, the recorded peak if any, first sample after the reset), ``NaN``-separated."""
    r = recovery_name(ds)
    v = np.asarray(ds["V"].values[:, 0], float)
    w = np.asarray(ds[r].values[:, 0], float)
    xs: list[float] = []
    ys: list[float] = []
    for pre, post in _reset_pairs(ds, v):
        xs += [*v[pre:post + 1], np.nan]
        ys += [*w[pre:post + 1], np.nan]
    return {"V": np.asarray(xs, float), "recovery": np.asarray(ys, float)}


def empty_phase_columns() -> dict[str, dict[str, list]]:
    """Empty columns of the phase-plane sources, by source role."""
    return {"nullclines": {"V": [], "V_nullcline": [], "recovery_nullcline": []},
            "fixed_points": {"V": [], "recovery": [], "kind": [], "stable": [], "fill": [],
                             "line": []},
            "trajectory": {"t": [], "V": [], "recovery": []},
            "resets": {"V": [], "recovery": []},
            "start": {"V": [], "recovery": []}}


def phase_sources(prefix: str = "neurosim-phase") -> dict[str, ColumnDataSource]:
    """The five empty sources of a phase plane, named ``<prefix>-<role>`` (find them in a
    browser via ``Bokeh.documents[i].get_model_by_name``)."""
    return {role: ColumnDataSource(cols, name=f"{prefix}-{role}")
            for role, cols in empty_phase_columns().items()}


def phase_figure(sources: dict[str, ColumnDataSource], *, recovery: str = "u",
                 units: str = "mV/ms", title: str = "Phase plane", width: int = 560,
                 height: int = 460) -> figure:
    """V-recovery phase plane: both nullclines, the trajectory with its start, dashed reset
    jumps and the fixed points coloured by stability.

    Parameters
    ----------
    sources : dict
        As :func:`phase_sources` returns.
    recovery, units : str
        Name and units of the recovery variable (y axis label).

    Returns
    -------
    bokeh.plotting.figure
        Renderers named ``V_nullcline``, ``recovery_nullcline``, ``trajectory``,
        ``resets``, ``start``, ``fixed_points``; explicit ``Range1d`` axes (see
        :func:`phase_ranges`).

    Examples
    --------
    >>> fig = phase_figure(phase_sources())
    >>> [r.name for r in fig.renderers]
    ['V_nullcline', 'recovery_nullcline', 'resets', 'trajectory', 'start', 'fixed_points']
    """
    fig = figure(title=title, width=width, height=height, tools=_TOOLS,
                 x_axis_label="Membrane potential V (mV)",
                 y_axis_label=f"Recovery variable {recovery} ({units})",
                 x_range=Range1d(-90.0, -20.0), y_range=Range1d(-20.0, 10.0),
                 name="phase_figure")
    nc, fp = sources["nullclines"], sources["fixed_points"]
    traj, resets = sources["trajectory"], sources["resets"]
    v_nc = fig.line("V", "V_nullcline", source=nc, name="V_nullcline", color=_V_NC_COLOR,
                    line_width=2.5)
    r_nc = fig.line("V", "recovery_nullcline", source=nc, name="recovery_nullcline",
                    color=_R_NC_COLOR, line_width=2.5)
    jumps = fig.line("V", "recovery", source=resets, name="resets", color="gray",
                     line_dash="dashed", line_width=1.2)
    line = fig.line("V", "recovery", source=traj, name="trajectory", color=_TRAJ_COLOR,
                    line_width=1.5)
    start = fig.scatter("V", "recovery", source=sources["start"], name="start",
                        marker="circle", size=9, color=_TRAJ_COLOR)
    fps = fig.scatter("V", "recovery", source=fp, name="fixed_points", size=14,
                      fill_color="fill", line_color="line", line_width=2.5)
    legend = Legend(items=[LegendItem(label="dV/dt = 0", renderers=[v_nc]),
                           LegendItem(label=f"d{recovery}/dt = 0", renderers=[r_nc]),
                           LegendItem(label="trajectory", renderers=[line, start]),
                           LegendItem(label="reset", renderers=[jumps]),
                           LegendItem(label="fixed point", renderers=[fps])],
                    orientation="horizontal", click_policy="hide", border_line_alpha=0,
                    margin=0, padding=2)
    fig.add_layout(legend, "above")
    fig.add_tools(HoverTool(renderers=[fps], tooltips=[("", "@kind"), ("V", "@V{0.00} mV"),
                                                       (recovery, "@recovery{0.000}")]))
    fig.toolbar.logo = None
    return fig


def phase_time_figure(trajectory: ColumnDataSource, *, width: int = 420, height: int = 460,
                      units: str = "mV/ms", recovery: str = "u") -> figure:
    """V(t) and the recovery variable against time from the trajectory source (two
    stacked y ranges would need a layout; here V on the left axis, recovery scaled on
    the right axis). Renderers ``V_t`` and ``recovery_t``."""
    from bokeh.models import DataRange1d, LinearAxis

    fig = figure(title="Trajectory against time", width=width, height=height, tools=_TOOLS,
                 x_axis_label="Time (ms)", y_axis_label="V (mV)", name="phase_time_figure")
    fig.extra_y_ranges = {"recovery": DataRange1d(renderers=[])}
    v = fig.line("t", "V", source=trajectory, name="V_t", color=_TRAJ_COLOR, line_width=1.5)
    r = fig.line("t", "recovery", source=trajectory, name="recovery_t", color=_R_NC_COLOR,
                 line_width=1.5, y_range_name="recovery")
    fig.extra_y_ranges["recovery"].renderers = [r]
    fig.y_range.renderers = [v]
    fig.add_layout(LinearAxis(y_range_name="recovery", axis_label=f"{recovery} ({units})",
                              axis_label_text_color=_R_NC_COLOR), "right")
    fig.add_layout(Legend(items=[LegendItem(label="V", renderers=[v]),
                                 LegendItem(label=recovery, renderers=[r])],
                          orientation="horizontal", border_line_alpha=0, margin=0,
                          padding=2), "above")
    fig.toolbar.logo = None
    return fig


def phase_ranges(columns: dict[str, dict[str, Any]], *, pad: float = 0.08
                 ) -> tuple[tuple[float, float], tuple[float, float]]:
    """``(V range, recovery range)`` that show the trajectory, the fixed points and the
    knee of the V-nullcline: the V range is that of the nullclines widened to the
    trajectory; the recovery range ignores the steep far ends of the V-nullcline (which
    would squash everything else).

    ``columns`` maps source roles to column dicts (as :func:`empty_phase_columns`).
    """
    nc, traj, fp = columns["nullclines"], columns["trajectory"], columns["fixed_points"]

    def finite(*arrays):
        x = np.concatenate([np.asarray(a, float).ravel() for a in arrays]) if arrays else []
        return x[np.isfinite(x)]

    xs = finite(nc["V"], traj["V"], fp["V"])
    v_nc = np.asarray(nc["V_nullcline"], float)
    knee = [float(np.nanmin(v_nc))] if v_nc.size and np.isfinite(v_nc).any() else []
    ys = finite(traj["recovery"], fp["recovery"], nc["recovery_nullcline"], knee)
    if traj["recovery"] is not None and len(finite(traj["recovery"])):
        # the recovery nullcline may run far outside what the trajectory visits
        tr = finite(traj["recovery"], fp["recovery"], knee)
        lo, hi = tr.min(), tr.max()
        span = max(hi - lo, 1e-6)
        ys = np.clip(ys, lo - 0.5 * span, hi + 0.5 * span)

    def padded(x, default):
        if not len(x):
            return default
        lo, hi = float(x.min()), float(x.max())
        span = hi - lo if hi > lo else max(abs(hi), 1.0) * 0.1
        return lo - pad * span, hi + pad * span

    return padded(xs, (-90.0, -20.0)), padded(ys, (-1.0, 1.0))


def set_ranges(fig: figure, x: tuple[float, float], y: tuple[float, float]) -> None:
    """Set the figure's ``Range1d`` ends (only those that changed)."""
    for rng, (lo, hi) in ((fig.x_range, x), (fig.y_range, y)):
        if (rng.start, rng.end) != (lo, hi):
            rng.update(start=lo, end=hi)


def update_phase_labels(fig: figure, recovery: str, units: str,
                        time_fig: figure | None = None) -> None:
    """Name the recovery variable (``u`` or ``w``) and its units on the axes and in the
    legend of a :func:`phase_figure` (and of its :func:`phase_time_figure`), in place.

    >>> fig = phase_figure(phase_sources())
    >>> update_phase_labels(fig, "w", "nA")
    >>> fig.yaxis[0].axis_label, fig.legend[0].items[1].label.value
    ('Recovery variable w (nA)', 'dw/dt = 0')
    """
    changes = [(fig.yaxis[0], "axis_label", f"Recovery variable {recovery} ({units})")]
    items = [(fig.legend[0].items[1], f"d{recovery}/dt = 0")]
    if time_fig is not None:
        changes.append((time_fig.yaxis[1], "axis_label", f"{recovery} ({units})"))
        items.append((time_fig.legend[0].items[1], recovery))
    for item, label in items:
        if item.label.value != label:
            item.label = bokeh_value(label)  # a new object: in-place edits are not synced
    for obj, attr, value in changes:
        if getattr(obj, attr) != value:
            setattr(obj, attr, value)
