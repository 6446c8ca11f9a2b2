r"""The Brunel phase-diagram app: rate, ISI CV and synchrony of Brunel's (2000) model A over
the relative inhibition g and the external drive :math:`\nu_{ext}/\nu_{thr}`, each cell
labelled with its regime (SR, AI, SIf = SI fast, SIs = SI slow, Q = quiescent); a click on
a cell runs that network again and shows its raster.

The diagram is either the one the package ships
(:data:`~neurosim_nb.fitting.phase_diagram.SHIPPED_DIAGRAM`, made by ``python -m
neurosim_nb.fitting.phase_diagram``) or computed live by
:func:`~neurosim_nb.fitting.phase_diagram.brunel_phase_diagram` on the embedded Dask
``LocalCluster`` (or the panel's ``client``) for the g and nu values typed in, with a
progress bar fed by the sweep after every batch. The clicked cell's network is rebuilt with
the diagram's own size, duration and seed (the seed depends only on the point's g and nu),
so its raster is the very run whose measures the cell shows; the point's source carries
those measures recomputed from the new run.

The state is the diagram Dataset (:attr:`PhaseDiagramPanel.result`) and the clicked run
(:attr:`PhaseDiagramPanel.point_result`); the Bokeh sources have names (:data:`SOURCE_NAMES`)
so a browser test can read them back.

Examples
--------
>>> panel = PhaseDiagramPanel(background=False)
>>> ds = panel.result
>>> len(panel.cells.data["g"]) == ds.sizes["g"] * ds.sizes["nu_ext_ratio"]
True
"""

from __future__ import annotations

import html
import time
import traceback
from typing import Any

import ipywidgets as W
import numpy as np
import xarray as xr
from bokeh.layouts import column, row
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    HoverTool,
    LinearColorMapper,
    LogColorMapper,
    TapTool,
)
from bokeh.palettes import Viridis256
from bokeh.plotting import figure
from jupyter_bokeh.widgets import BokehModel

from neurosim_nb.experiments import brunel
from neurosim_nb.fitting import phase_diagram as pd
from neurosim_nb.panels._background import EXPECTED_ERRORS, BackgroundJob

__all__ = ["PhaseDiagramPanel", "SOURCE_NAMES", "REGIME_SHORT", "cells_data", "parse_values",
           "RASTER_EXC", "RASTER_INH"]

#: names of the ColumnDataSources (find them in the browser via Bokeh.documents)
SOURCE_NAMES = {"cells": "neurosim-phase-cells", "raster": "neurosim-phase-raster",
                "point": "neurosim-phase-point"}
#: the label drawn in a cell for each regime
REGIME_SHORT = {"SR": "SR", "AI": "AI", "SI fast": "SIf", "SI slow": "SIs", "Q": "Q",
                "error": "err"}
#: neurons shown in the raster: the first RASTER_EXC excitatory, the first RASTER_INH
#: inhibitory ones
RASTER_EXC, RASTER_INH = 160, 40
_MAPS = (("rate_hz", "Rate (Hz)"), ("cv_isi", "ISI CV"), ("synchrony", "Synchrony χ"))


def parse_values(text: str, name: str) -> list[float]:
    """Numbers typed in a box, separated by commas or spaces.

    >>> parse_values("3, 4.5 6", "g")
    [3.0, 4.5, 6.0]
    >>> parse_values("3, x", "g")
    Traceback (most recent call last):
    ...
    ValueError: g: 'x' is not a number (type numbers separated by commas)
    """
    out = []
    for tok in text.replace(",", " ").split():
        try:
            out.append(float(tok))
        except ValueError:
            raise ValueError(f"{name}: {tok!r} is not a number (type numbers separated by "
                             f"commas)") from None
    if not out:
        raise ValueError(f"{name}: give at least one value")
    return sorted(out)


def _widths(values: np.ndarray) -> np.ndarray:
    """Cell widths on a possibly uneven axis: edges halfway between neighbours."""
    v = np.asarray(values, dtype=float)
    if v.size == 1:
        return np.array([max(0.5, 0.25 * abs(v[0]))])
    d = np.diff(v)
    left = np.concatenate([[d[0]], d]) / 2
    right = np.concatenate([d, [d[-1]]]) / 2
    return left + right


def cells_data(ds: xr.Dataset) -> dict[str, list]:
    """The heat-map source's columns: one row per grid point, C order (g outer).

    >>> ds = xr.Dataset({k: (("g", "nu_ext_ratio"), np.ones((2, 1)))
    ...                  for k in ("rate_hz", "cv_isi", "synchrony", "f_peak_hz")},
    ...                 coords={"g": [3.0, 5.0], "nu_ext_ratio": [2.0]})
    >>> ds["regime"] = (("g", "nu_ext_ratio"), [["SR"], ["SI fast"]])
    >>> cells_data(ds)["label"], cells_data(ds)["w"]
    (['SR', 'SIf'], [2.0, 2.0])
    """
    g, nu = ds.g.values.astype(float), ds.nu_ext_ratio.values.astype(float)
    gg, nn = np.meshgrid(g, nu, indexing="ij")
    ww, hh = np.meshgrid(_widths(g), _widths(nu), indexing="ij")
    regime = ds.regime.values.astype(str).ravel()
    data = {"g": gg.ravel().tolist(), "nu": nn.ravel().tolist(), "w": ww.ravel().tolist(),
            "h": hh.ravel().tolist(), "regime": regime.tolist(),
            "label": [REGIME_SHORT.get(r, r) for r in regime]}
    for name in ("rate_hz", "cv_isi", "synchrony", "f_peak_hz"):
        data[name] = ds[name].values.astype(float).ravel().tolist()
    return data


def _regime_name(regime: str) -> str:
    short = REGIME_SHORT.get(regime, regime)
    long = {"Q": "quiescent", "err": "failed"}.get(short, regime)
    return html.escape(short if short == long else f"{short} ({long})")


def _finite_range(values, lo_floor: float | None = None) -> tuple[float, float]:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if lo_floor is not None:
        v = v[v >= lo_floor]
    if v.size == 0:
        return (lo_floor or 0.0, (lo_floor or 0.0) + 1.0)
    lo, hi = float(v.min()), float(v.max())
    return (lo, hi if hi > lo else lo + 1.0)


class PhaseDiagramPanel:
    """Heat maps of Brunel's phase diagram with regimes, live or shipped, and the raster of
    a clicked cell.

    Parameters
    ----------
    diagram : xarray.Dataset, str or None
        The diagram to show first: a Dataset, a NetCDF path, or ``None`` for the shipped
        one (when the package has none, the first live grid is computed).
    g_values, nu_values : sequence of float
        The live grid's initial values (editable in the page).
    duration_ms : float
        Analysed time of each live point (ms).
    n_exc : int
        Excitatory neurons of the live networks.
    client : None, "serial", distributed.Client or str
        Where live diagrams run (``None``: the embedded ``LocalCluster``).
    background : bool
        Compute in a background thread (``False``: at once, for scripts and tests).
    width : int
        Width of the page (px).
    """

    def __init__(self, diagram: xr.Dataset | str | None = None, *,
                 g_values=(3.0, 5.0, 6.0), nu_values=(0.9, 2.0, 4.0),
                 duration_ms: float = 300.0, n_exc: int = 2000, client: Any = None,
                 background: bool = True, width: int = 1000):
        self.client = client
        self.n_exc = int(n_exc)
        self.result: xr.Dataset | None = None
        self.point_result: xr.Dataset | None = None
        self.error: str | None = None
        self._job = BackgroundJob(delay_s=0.0, background=background, supersede=False)
        self.status = W.HTML("")
        self.status.add_class("neurosim-status")
        self.progress = W.FloatProgress(value=0.0, min=0.0, max=1.0, description="",
                                        layout=W.Layout(width="260px"))
        self.progress.add_class("neurosim-progress")
        self.g_box = W.Text(", ".join(f"{v:g}" for v in g_values), description="g",
                            layout=W.Layout(width="260px"))
        self.g_box.add_class("neurosim-param-g-values")
        self.nu_box = W.Text(", ".join(f"{v:g}" for v in nu_values),
                             description="ν_ext/ν_thr", layout=W.Layout(width="260px"),
                             style={"description_width": "80px"})
        self.nu_box.add_class("neurosim-param-nu-values")
        self.duration = W.BoundedFloatText(value=float(duration_ms), min=50.0, max=5000.0,
                                           step=50.0, description="ms / point",
                                           layout=W.Layout(width="200px"))
        self.duration.add_class("neurosim-param-duration")
        self.compute_button = W.Button(description="Compute live", button_style="primary")
        self.compute_button.add_class("neurosim-compute")
        self.shipped_button = W.Button(description="Load shipped diagram")
        self.shipped_button.add_class("neurosim-load-shipped")
        self.compute_button.on_click(lambda _: self.compute())
        self.shipped_button.on_click(lambda _: self.load())
        self.legend = W.HTML("")
        self.legend.add_class("neurosim-regimes")

        self.cells = ColumnDataSource({k: [] for k in (
            "g", "nu", "w", "h", "regime", "label", "rate_hz", "cv_isi", "synchrony",
            "f_peak_hz")}, name=SOURCE_NAMES["cells"])
        self.raster = ColumnDataSource({"t": [], "neuron": [], "color": []},
                                       name=SOURCE_NAMES["raster"])
        self.point = ColumnDataSource({k: [] for k in (
            "g", "nu", "rate_hz", "cv_isi", "synchrony", "f_peak_hz", "regime",
            "network_seed", "n_exc_shown", "n_inh_shown", "duration_ms", "transient_ms")},
            name=SOURCE_NAMES["point"])
        self.mappers = {"rate_hz": LogColorMapper(palette=Viridis256, nan_color="#cccccc"),
                        "cv_isi": LinearColorMapper(palette=Viridis256, nan_color="#cccccc"),
                        "synchrony": LinearColorMapper(palette=Viridis256,
                                                       nan_color="#cccccc")}
        w = max(260, (width - 40) // 3)
        self.maps = [self._heat_map(name, title, w) for name, title in _MAPS]
        self.raster_figure = figure(width=min(width, 3 * w), height=260,
                                    title="Click a cell to see its network's raster",
                                    x_axis_label="time (ms)", y_axis_label="neuron",
                                    tools="pan,box_zoom,reset", name="neurosim-phase-raster-fig")
        dots = self.raster_figure.scatter("t", "neuron", source=self.raster, size=2,
                                          color="color", marker="square")
        # the point's measures travel with the page (a source reaches the browser only
        # through a renderer): an invisible glyph that the axes' ranges ignore
        self.raster_figure.scatter("g", "nu", source=self.point, visible=False)
        self.raster_figure.x_range.renderers = [dots]
        self.raster_figure.y_range.renderers = [dots]
        self.cells.selected.on_change("indices", self._on_tap)
        self._layout = column(row(*self.maps), self.raster_figure)
        self.plot = BokehModel(self._layout)
        self.plot.add_class("neurosim-plot")
        self.plot.add_class("neurosim-phase-plot")
        controls = W.HBox([self.g_box, self.nu_box, self.duration, self.compute_button,
                           self.shipped_button], layout=W.Layout(flex_flow="row wrap"))
        self.widget = W.VBox([controls, W.HBox([self.progress, self.status]), self.legend,
                              self.plot])
        self.widget.add_class("neurosim-phase-diagram")

        if isinstance(diagram, xr.Dataset):
            self._show(diagram, "the given diagram")
        elif diagram is not None or pd.SHIPPED_DIAGRAM.is_file():
            try:   # a small file: read at once, so the page opens with the maps filled
                self._show(pd.load_phase_diagram(diagram), "the shipped diagram"
                           if diagram is None else str(diagram))
            except (OSError, ValueError) as err:
                self._set_error(f"{type(err).__name__}: {err}")
        else:
            self.compute()

    # -- figures ------------------------------------------------------------------------
    def _heat_map(self, name: str, title: str, width: int):
        fig = figure(width=width, height=width, title=title, x_axis_label="g (relative "
                     "inhibition)", y_axis_label="ν_ext / ν_thr", tools="tap,reset",
                     name=f"neurosim-phase-map-{name}", toolbar_location="above")
        r = fig.rect("g", "nu", width="w", height="h", source=self.cells, line_color="white",
                     fill_color={"field": name, "transform": self.mappers[name]},
                     selection_line_color="red", selection_line_width=3,
                     nonselection_fill_alpha=0.8)
        fig.text("g", "nu", text="label", source=self.cells, text_align="center",
                 text_baseline="middle", text_font_size="9pt", text_color="white")
        fig.select_one(TapTool).renderers = [r]
        fig.add_tools(HoverTool(renderers=[r], tooltips=[
            ("g", "@g"), ("ν_ext/ν_thr", "@nu"), ("rate", "@rate_hz{0.0} Hz"),
            ("CV", "@cv_isi{0.00}"), ("χ", "@synchrony{0.000}"),
            ("peak", "@f_peak_hz{0} Hz"), ("regime", "@regime")]))
        fig.add_layout(ColorBar(color_mapper=self.mappers[name], width=8), "right")
        fig.grid.visible = False
        return fig

    # -- actions ------------------------------------------------------------------------
    def load(self, path=None) -> None:
        """Show a stored diagram (default: the shipped one)."""
        self._job.submit(lambda progress: pd.load_phase_diagram(path),
                         lambda ds, err: self._applied(ds, err, "the shipped diagram"
                                                       if path is None else str(path)))

    def compute(self) -> None:
        """Compute the diagram of the typed g and nu values (live, on the cluster)."""
        try:
            g = parse_values(self.g_box.value, "g")
            nu = parse_values(self.nu_box.value, "ν_ext/ν_thr")
        except ValueError as err:
            self._set_error(str(err))
            return
        dur = float(self.duration.value)
        self.progress.value = 0.0
        self._set_status(f"computing {len(g)} × {len(nu)} networks of {self.n_exc} + "
                         f"{self.n_exc // 4} neurons, {dur:g} ms each ...")
        t0 = time.perf_counter()

        def work(progress):
            return pd.brunel_phase_diagram(g, nu, n_exc=self.n_exc, duration_ms=dur,
                                           client=self.client, progress=self._on_progress)

        self._job.submit(work, lambda ds, err: self._applied(
            ds, err, f"computed live in {time.perf_counter() - t0:.1f} s"))

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.value = done / total if total else 1.0
        self.progress.description = f"{done}/{total}"

    def _applied(self, ds, err, what: str) -> None:
        if err is not None:
            self._set_error(f"{type(err).__name__}: {err}")
            if not isinstance(err, (*EXPECTED_ERRORS, FileNotFoundError)):
                traceback.print_exception(err)   # to the kernel's log
            return
        self._show(ds, what)

    def _show(self, ds: xr.Dataset, what: str) -> None:
        self.result = ds
        self.error = None
        data = cells_data(ds)
        lo, hi = _finite_range(data["rate_hz"], lo_floor=0.1)
        self.mappers["rate_hz"].update(low=lo, high=hi)
        self.mappers["cv_isi"].update(low=0.0, high=max(1.5, _finite_range(data["cv_isi"])[1]))
        self.mappers["synchrony"].update(low=0.0, high=_finite_range(data["synchrony"])[1])
        self.cells.selected.indices = []
        self.cells.data = data
        self.raster.data = {"t": [], "neuron": [], "color": []}
        self.raster_figure.title.text = "Click a cell to see its network's raster"
        self.progress.value = 1.0
        n_failed = int((ds["error"].values.astype(str) != "").sum()) if "error" in ds else 0
        a = ds.attrs
        self._set_status(
            f"{ds.sizes['g']} × {ds.sizes['nu_ext_ratio']} points ({what}); networks of "
            f"{a.get('n_exc')} + {int(a.get('n_exc', 0)) // 4} neurons, "
            f"{float(a.get('duration_ms', 0)):g} ms after {float(a.get('transient_ms', 0)):g}"
            f" ms" + (f"; <b>{n_failed} failed</b>" if n_failed else ""))
        counts = {r: int((ds.regime.values == r).sum()) for r in (*brunel.REGIMES, "error")}
        th = brunel.REGIME_THRESHOLDS
        self.legend.value = (
            "<b>Regimes</b> (points): " + ", ".join(
                f'<span class="neurosim-regime">{_regime_name(r)}: {n}</span>'
                for r, n in counts.items() if n)
            + f'<br><span style="color:#666">SR: ISI CV &lt; {th["cv_regular"]:g} at rates &ge; '
            f'{th["rate_sr_hz"]:g} Hz; '
            f"SI: χ ≥ {th['synchrony']:g} (fast if the population peak ≥ "
            f"{th['f_fast_hz']:g} Hz); AI otherwise; Q: rate &lt; "
            f"{th['rate_quiescent_hz']:g} Hz. Click a cell for its raster.</span>")

    # -- the clicked cell ---------------------------------------------------------------
    def _on_tap(self, attr: str, old, new) -> None:
        if not new or self.result is None:
            return
        i = int(new[0])
        d = self.cells.data
        self.show_point(float(d["g"][i]), float(d["nu"][i]))

    def show_point(self, g: float, nu: float) -> None:
        """Rerun the network of the diagram's point (g, nu) and show its raster."""
        ds = self.result
        if ds is None:
            return
        a = ds.attrs
        kw = {"n_exc": int(a["n_exc"]), "epsilon": float(a["epsilon"]),
              "duration_ms": float(a["duration_ms"]), "transient_ms": float(a["transient_ms"]),
              "seed": int(a["base_seed"])}
        self._set_status(f"running the network at g = {g:g}, ν_ext/ν_thr = {nu:g} ...")

        def work(progress):
            return brunel.run_brunel(g, nu, **kw)

        self._job.submit(work, lambda run, err: self._show_point(run, err, g, nu))

    def _show_point(self, run, err, g: float, nu: float) -> None:
        if err is not None:
            self._set_error(f"{type(err).__name__}: {err}")
            return
        self.point_result = run
        m = brunel.brunel_measures(run)
        regime = brunel.classify_regime(**m)
        n_exc = int(run.attrs["n_exc"])
        t, i = run.spike_time.values, run.spike_neuron.values
        exc = i < RASTER_EXC
        inh = (i >= n_exc) & (i < n_exc + RASTER_INH)
        rows = np.where(exc, i, i - n_exc + RASTER_EXC)
        keep = exc | inh
        self.raster.data = {"t": t[keep].tolist(), "neuron": rows[keep].tolist(),
                            "color": np.where(exc[keep], "#1f4e9c", "#c0392b").tolist()}
        self.point.data = {"g": [g], "nu": [nu], **{k: [v] for k, v in m.items()},
                           "regime": [regime], "network_seed": [int(run.attrs["network_seed"])],
                           "n_exc_shown": [RASTER_EXC], "n_inh_shown": [RASTER_INH],
                           "duration_ms": [float(run.attrs["duration"])],
                           "transient_ms": [float(run.attrs["transient_ms"])]}
        self.raster_figure.title.text = (
            f"g = {g:g}, ν_ext/ν_thr = {nu:g}: {regime} — {m['rate_hz']:.1f} Hz, CV "
            f"{m['cv_isi']:.2f}, χ {m['synchrony']:.3f} (first {RASTER_EXC} excitatory "
            f"neurons blue, {RASTER_INH} inhibitory red)")
        self._set_status(f"raster of g = {g:g}, ν_ext/ν_thr = {nu:g}: {regime}, "
                         f"{m['rate_hz']:.1f} Hz")

    # -- status -------------------------------------------------------------------------
    def _set_status(self, text: str) -> None:
        self.status.value = text

    def _set_error(self, message: str) -> None:
        self.error = message
        self._set_status(f'<span style="color:#b00020"><b>Error:</b> {html.escape(message)}'
                         "</span>")

    def wait(self, timeout: float = 300.0) -> bool:
        """Block until no computation is going on or queued; True unless ``timeout`` (s)."""
        return self._job.wait(timeout)

    # -- display ------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any):
        self.plot.update_from_model(self._layout)
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        ds = self.result
        shape = f"{ds.sizes['g']}x{ds.sizes['nu_ext_ratio']}" if ds is not None else "none"
        return f"PhaseDiagramPanel(diagram={shape})"
