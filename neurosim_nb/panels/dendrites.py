r"""Dendrites and axons: a cell drawn in colour by its membrane potential.

:class:`DendritesPanel` simulates one compartmental cell (:class:`neurosim_nb.cable.Cell`)
and shows

* the morphology coloured by V at one moment, with a time slider and a play button (a tap
  on a compartment moves the input there);
* V over time at the input site and at the soma;
* the attenuation: every compartment's peak deflection relative to the input site's, against
  its path distance from the input (:func:`neurosim_nb.analysis.cable.attenuation`);
* the summation of two synaptic inputs A (the input site) and B (a second site) at the
  soma, against the arithmetic sum of the single responses
  (:func:`neurosim_nb.experiments.cable.dendritic_summation`);
* for an axon, the spike travelling along it and its conduction velocity
  (:func:`neurosim_nb.analysis.cable.propagation_velocity`), beside the velocities of
  unmyelinated and myelinated axons of six diameters
  (:func:`neurosim_nb.experiments.cable.axon_velocity`, run once).

Cells (:data:`CELLS`): a ball-and-stick (soma 20 µm, dendrite 500 × 1 µm), a Y-branch
(a soma, a trunk and two daughters obeying Rall's 3/2 rule), the reconstructed cell shipped
with the package (:func:`neurosim_nb.morphology.sample_morphology`), and a
Hodgkin-Huxley axon, bare or myelinated. Membranes (:data:`MEMBRANES`): passive (a leak of
0.1 mS/cm², R_m = 10 kΩ·cm², at −65 mV), HH channels in the soma only, or everywhere;
Ra = 100 Ω·cm, cm = 1 µF/cm², 6.3 °C. Inputs (:data:`INPUTS`): a current step, or one
AMPA or NMDA synapse activated once.

The axons are those of :mod:`neurosim_nb.experiments.cable`: HH 1952 at 18.5 °C with
Ra = 35.4 Ω·cm (the squid axon's, propagating at ≈ 18.8 m/s at 476 µm), bare
(:func:`~neurosim_nb.experiments.cable.unmyelinated_axon_cell`, 20 length constants long)
or myelinated (:func:`~neurosim_nb.experiments.cable.myelinated_axon_cell`: 21 nodes of
Ranvier with ten times the HH densities, internodes of 100 fibre diameters whose myelin
thickens with the fibre); a pulse at the 0-end starts the spike. The velocity is the fit of
the 0 mV arrival times between 30 % and 70 % of the length (at the nodes of a myelinated
axon). Bare axons scale as √d, myelinated ones as d.

Runs are coarse by default (d_lambda 0.1 at 100 Hz, dt = 0.05 ms, backward Euler; axons
dt = 0.01 ms, Crank-Nicolson) and take a few to a few tens of milliseconds
(:attr:`DendritesPanel.last_run_ms`); they start after the last control change, in a
background thread.

Examples
--------
>>> panel = DendritesPanel(background=False)
>>> len(panel.morph_source.data["V"]) == panel.result.sizes["compartment"]
True
>>> panel.controls["section"].value = "dend"
>>> panel.controls["x"].value = 0.9
>>> panel.result.attrs["input_site"]
'dend(0.9)'
>>> panel.controls["cell"].value = "axon (unmyelinated)"
>>> 0.5 < panel.velocity_m_s < 1.5          # d = 1 µm at 18.5 °C
True
>>> panel.controls["cell"].value = "pyramidal"
Traceback (most recent call last):
...
traitlets.traitlets.TraitError: Invalid selection: value not found
"""

from __future__ import annotations

import functools
import html
import logging
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as W
import numpy as np
import xarray as xr
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource
from jupyter_bokeh.widgets import BokehModel

from neurosim_nb.analysis.cable import attenuation, propagation_velocity
from neurosim_nb.cable import CableDivergedError, Cell, IClamp, SynapseInput
from neurosim_nb.channels import mechanism
from neurosim_nb.experiments.cable import (
    axon_velocity,
    dendritic_summation,
    myelinated_axon_cell,
    unmyelinated_axon_cell,
)
from neurosim_nb.morphology import Morphology, discretise, load_swc, sample_morphology
from neurosim_nb.panels._background import EXPECTED_ERRORS, BackgroundJob
from neurosim_nb.panels._status import rejected_html
from neurosim_nb.plotting import dendrites as dplot

__all__ = ["DendritesPanel", "CELLS", "MEMBRANES", "INPUTS", "SWEEP_DIAMETERS_UM",
           "cell_compartments"]

CELLS = ("ball-and-stick", "Y-branch", "reconstructed cell", "axon (unmyelinated)",
         "axon (myelinated)")
MEMBRANES = ("passive", "active soma (HH)", "active everywhere (HH)")
INPUTS = ("current step", "AMPA synapse", "NMDA synapse")
#: diameters (µm) of the velocity sweep
SWEEP_DIAMETERS_UM = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
#: name prefix of the ColumnDataSources (find them in a page via Bokeh.documents)
SOURCE_PREFIX = "neurosim-dend-"
#: most frames the time slider steps through
MAX_FRAMES = 120
#: errors shown in the status line (bad values, a diverged run)
ERRORS = (*EXPECTED_ERRORS, CableDivergedError)

_RA_CELL = 100.0      # ohm cm
_T_CELL = 6.3         # degC: HH 1952's own temperature
_DT_AXON = 0.01       # ms, Crank-Nicolson
_AXON_METHOD = "crank_nicolson"
_V0 = -65.0           # mV
_DELAY_MS = 2.0


# -- cells -----------------------------------------------------------------------------------
def _is_axon(kind: str) -> bool:
    return kind.startswith("axon")


def _check_kind(kind: str) -> None:
    if kind not in CELLS:
        raise ValueError(f"cell must be one of {list(CELLS)}, got {kind!r}")


@functools.lru_cache(maxsize=32)
def cell_compartments(kind: str, diameter_um: float = 1.0):
    """The compartments of one of the panel's cells (:data:`CELLS`); ``diameter_um`` (µm)
    is the axons' diameter (the other cells ignore it). Cached.

    >>> c = cell_compartments("Y-branch")
    >>> c.section_names
    ('soma', 'trunk', 'branch1', 'branch2')
    >>> cell_compartments("axon (myelinated)", 2.0).section_names[:3]
    ('node0', 'internode0', 'node1')
    """
    _check_kind(kind)
    d = float(diameter_um)
    if not (np.isfinite(d) and 0.1 <= d <= 1000.0):
        raise ValueError(f"diameter_um must be in [0.1, 1000] µm, got {diameter_um!r}")
    if kind == "ball-and-stick":
        return discretise(Morphology.ball_and_stick(20.0, 500.0, 1.0), Ra_ohm_cm=_RA_CELL,
                          d_lambda=0.05)
    if kind == "Y-branch":
        m = Morphology.soma(20.0)
        m.add_cylinder("trunk", 150.0, 2.0, parent="soma", at=1.0)
        d_child = 2.0 * 2.0 ** (-2.0 / 3.0)        # Rall: 2^1.5 = 2 d_child^1.5
        for k, sign in ((1, 1.0), (2, -1.0)):
            a = np.radians(35.0)
            m.add_cylinder(f"branch{k}", 250.0, d_child, parent="trunk", at=1.0,
                           direction=(np.cos(a), sign * np.sin(a), 0.0))
        return discretise(m, Ra_ohm_cm=_RA_CELL, d_lambda=0.05)
    if kind == "reconstructed cell":
        return discretise(load_swc(sample_morphology()), Ra_ohm_cm=_RA_CELL, d_lambda=0.1)
    return _axon_cell(kind, d).compartments


@functools.lru_cache(maxsize=32)
def _axon_cell(kind: str, d: float) -> Cell:
    """The axon of :mod:`neurosim_nb.experiments.cable` with its starting pulse (cached:
    never add stimuli to it)."""
    if kind == "axon (unmyelinated)":
        return unmyelinated_axon_cell(d)
    return myelinated_axon_cell(d)


def _mechanisms(membrane: str) -> dict:
    if membrane not in MEMBRANES:
        raise ValueError(f"membrane must be one of {list(MEMBRANES)}, got {membrane!r}")
    passive = mechanism("hh1952_leak", g_max=0.1, E_rev=_V0)
    hh = ["hh1952_na", "hh1952_k", "hh1952_leak"]
    if membrane == "passive":
        return {"all": [passive]}
    if membrane == "active soma (HH)":
        return {"all": [passive], "soma": hh}
    return {"all": hh}


def _soma_section(comp) -> str:
    for name, typ in zip(comp.section_names, comp.section_types, strict=True):
        if typ == "soma":
            return name
    return comp.section_names[0]


def _axon_path(ds: xr.Dataset, kind: str):
    """The compartments the velocity is fitted over: every one of a bare axon, the nodes
    of a myelinated one (their membrane carries the spike)."""
    if kind == "axon (unmyelinated)":
        return None
    sec = np.asarray(ds.section.values, dtype=str)
    return np.flatnonzero(np.char.startswith(sec, "node") & (ds.area.values > 0))


def _simulate_axon(kind: str, d: float) -> tuple[xr.Dataset, float]:
    """Run the axon until its spike has crossed it; returns the result and the velocity
    (m/s, NaN when the spike does not propagate)."""
    cell = _axon_cell(kind, d)
    total = float(np.sum(cell.compartments.length_um))
    # the length over a lower bound of the velocity (>= 0.4 sqrt(d) m/s bare, >= d m/s
    # myelinated at 18.5 degC), plus 3 ms: as axon_velocity runs it
    v_min = d if kind == "axon (myelinated)" else 0.4 * np.sqrt(d)
    duration = float(np.ceil((3.0 + total * 1e-3 / v_min) / _DT_AXON) * _DT_AXON)
    ds = cell.simulate(duration, _DT_AXON, _AXON_METHOD, verbose=False)
    try:
        fit = propagation_velocity(ds, _axon_path(ds, kind), threshold_mV=0.0, after_ms=1.0,
                                   between_um=(0.3 * total, 0.7 * total))
        velocity = float(fit.velocity)
    except ValueError:
        velocity = float("nan")
    return ds, velocity


@functools.lru_cache(maxsize=1)
def _velocity_sweep() -> dict[str, np.ndarray]:
    """Velocity (m/s) of both axon kinds at :data:`SWEEP_DIAMETERS_UM` (run once)."""
    rows = {"diameter": [], "velocity": [], "kind": [], "color": []}
    for myelinated, label in ((False, "unmyelinated"), (True, "myelinated")):
        for d in SWEEP_DIAMETERS_UM:
            try:
                v = float(axon_velocity([d], myelinated, dt_ms=_DT_AXON,
                                        method=_AXON_METHOD).velocity[0])
            except ValueError:          # the spike failed to propagate: no point
                v = float("nan")
            rows["diameter"].append(d)
            rows["velocity"].append(v)
            rows["kind"].append(label)
            rows["color"].append(dplot.KIND_COLORS[label])
    return {k: np.asarray(v) for k, v in rows.items()}


# -- the panel -------------------------------------------------------------------------------
class DendritesPanel:
    """Dendrites and axons (see the module docstring).

    Parameters
    ----------
    cell : str
        One of :data:`CELLS`.
    background : bool
        Simulate in a worker thread after control changes (``False``: at once).
    width : int
        Width of the morphology figure (pixels); the others are a little narrower.

    Attributes
    ----------
    result : xarray.Dataset
        The latest run (``V`` on ``(time, compartment)``, the cell's coordinates; attrs
        ``input_site``, ``soma_site``).
    velocity_m_s : float or None
        The axon's conduction velocity (an axon shown), else None.
    summation : dict or None
        ``{"A", "B", "AB", "linear", "ratio"}`` peak depolarisations (mV) at the soma of the
        latest summation run (dendritic cells).
    last_run_ms : float
        Wall time of the latest run (simulation and columns), ms.
    error : str or None
        The message of the last rejected change.
    morph_source, trace_source, attenuation_source, summation_source, velocity_source,
    velocity_now_source : ColumnDataSource
        The plotted columns (named ``neurosim-dend-<morphology|traces|...>``).
    """

    def __init__(self, cell: str = "ball-and-stick", *, background: bool = True,
                 width: int = 480) -> None:
        _check_kind(cell)
        self.result: xr.Dataset | None = None
        self.velocity_m_s: float | None = None
        self.summation: dict | None = None
        self.error: str | None = None
        self.last_run_ms = float("nan")
        self.n_runs = 0
        self._frames = np.zeros((1, 1))
        self._frame_t = np.zeros(1)
        self._hold = False
        self._job = BackgroundJob(0.05, background=background)
        style = {"description_width": "110px"}
        lay = W.Layout(width="320px")
        c = self.controls = {
            "cell": W.Dropdown(options=CELLS, value=cell, description="cell"),
            "membrane": W.Dropdown(options=MEMBRANES, value="passive",
                                   description="membrane"),
            "input": W.Dropdown(options=INPUTS, value="current step", description="input"),
            "section": W.Dropdown(options=["soma"], description="input at"),
            "x": W.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.01,
                               description="x (0-1)"),
            "amp_nA": W.FloatSlider(value=0.05, min=-0.5, max=1.0, step=0.005,
                                    description="current (nA)"),
            "dur_ms": W.FloatSlider(value=20.0, min=0.5, max=40.0, step=0.5,
                                    description="duration (ms)"),
            "weight_nS": W.FloatSlider(value=2.0, min=0.1, max=20.0, step=0.1,
                                       description="synapse (nS)"),
            "section_b": W.Dropdown(options=["soma"], description="input B at"),
            "x_b": W.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.01,
                                 description="x of B (0-1)"),
            "diameter_um": W.FloatLogSlider(value=1.0, base=2, min=-1, max=4, step=0.25,
                                            description="axon diam. (µm)"),
        }
        for name, w in c.items():
            w.style = style
            w.layout = W.Layout(width="320px")
            if hasattr(w, "continuous_update"):
                w.continuous_update = False
            w.add_class(f"neurosim-param-{name}")
            w.observe(self._on_cell if name == "cell" else self._on_value, names="value")
        self.time_slider = W.IntSlider(value=0, min=0, max=0, description="frame",
                                       continuous_update=True, style=style, layout=lay)
        self.time_slider.add_class("neurosim-param-time")
        self.time_label = W.HTML("t = 0 ms")
        self.play = W.Play(value=0, min=0, max=0, interval=150, description="play")
        self.play.add_class("neurosim-play")
        W.jslink((self.play, "value"), (self.time_slider, "value"))
        W.jslink((self.play, "max"), (self.time_slider, "max"))
        self.time_slider.observe(self._on_time, names="value")
        self.status = W.HTML(layout=W.Layout(min_height="2.2em"))
        self.status.add_class("neurosim-status")

        def source(kind: str) -> ColumnDataSource:
            return ColumnDataSource(dplot.empty_columns(kind),
                                    name=SOURCE_PREFIX + kind.replace("_", "-"))

        self.morph_source = source("morphology")
        self.trace_source = source("traces")
        self.attenuation_source = source("attenuation")
        self.summation_source = source("summation")
        self.velocity_source = source("velocity")
        self.velocity_now_source = source("velocity_now")
        self.morph_figure, self.mapper = dplot.morphology_figure(self.morph_source,
                                                                 width=width)
        w2 = max(360, width - 60)
        self.trace_figure = dplot.traces_figure(self.trace_source, width=w2)
        self.attenuation_figure = dplot.attenuation_figure(self.attenuation_source, width=w2)
        self.summation_figure = dplot.summation_figure(self.summation_source, width=w2)
        self.velocity_figure = dplot.velocity_figure(self.velocity_source,
                                                     self.velocity_now_source, width=w2)
        self._now = self.trace_figure.select_one({"name": "now"})
        self._layout = column(row(self.morph_figure, column(self.trace_figure,
                                                            self.attenuation_figure)),
                              row(self.summation_figure, self.velocity_figure))
        self.morph_source.selected.on_change("indices", self._on_tap)
        self._set_sections()
        self._show_controls()
        self._run(lambda: False)
        self.plot = BokehModel(self._layout)
        self.plot.add_class("neurosim-plot")
        self.plot.add_class("neurosim-dendrites-plot")
        box = W.VBox([W.HTML("<b>Cell</b>"), c["cell"], c["membrane"], c["diameter_um"],
                      W.HTML("<b>Input</b> (click the cell to move it)"), c["input"],
                      c["section"], c["x"], c["amp_nA"], c["dur_ms"], c["weight_nS"],
                      W.HTML("<b>Second input B</b> (summation)"), c["section_b"], c["x_b"],
                      W.HTML("<b>Time</b>"), W.HBox([self.play, self.time_label]),
                      self.time_slider])
        self.widget = W.VBox([self.status, W.HBox([box, self.plot],
                                                  layout=W.Layout(flex_flow="row wrap"))])
        self.widget.add_class("neurosim-dendrites")

    # -- controls ----------------------------------------------------------------------
    def _set_sections(self) -> None:
        kind = self.controls["cell"].value
        comp = cell_compartments(kind, self.controls["diameter_um"].value)
        names = list(comp.section_names)
        soma = _soma_section(comp)
        if _is_axon(kind):
            site, site_b = names[0], names[0]
        else:
            tips = [n for n in names if n != soma]
            far = max(tips, key=lambda n: comp.distance_um[comp.locate(n, 1.0)])
            site, site_b = soma, far
            if kind == "Y-branch":
                site, site_b = "branch1", "branch2"
        self._hold = True
        try:
            for key, value in (("section", site), ("section_b", site_b)):
                self.controls[key].options = names
                self.controls[key].value = value
            self.controls["x"].value = 0.5 if not _is_axon(kind) else 0.01
            self.controls["x_b"].value = 0.5 if kind != "Y-branch" else 0.9
            if kind == "Y-branch":
                self.controls["x"].value = 0.9
        finally:
            self._hold = False

    def _show_controls(self) -> None:
        axon = _is_axon(self.controls["cell"].value)
        syn = self.controls["input"].value != "current step"
        shown = {"membrane": not axon, "diameter_um": axon, "input": not axon,
                 "section": not axon, "x": not axon, "amp_nA": not axon and not syn,
                 "dur_ms": not axon and not syn, "weight_nS": not axon and syn,
                 "section_b": not axon, "x_b": not axon}
        for name, visible in shown.items():
            self.controls[name].layout.display = None if visible else "none"

    def _on_cell(self, change: dict) -> None:
        if self._hold:
            return
        try:
            self._set_sections()
        except ERRORS as exc:
            self._show_error(str(exc))
            return
        self._show_controls()
        self.update()

    def _on_value(self, change: dict) -> None:
        if self._hold:
            return
        owner = change["owner"]
        if owner is self.controls["diameter_um"]:
            self._set_sections()
        if owner is self.controls["input"]:
            self._show_controls()
        self.update()

    def _on_tap(self, attr: str, old, new) -> None:
        """A tap on the morphology: the input moves to the tapped compartment."""
        if not new or _is_axon(self.controls["cell"].value):
            return
        i = int(new[0])
        data = self.morph_source.data
        section = str(data["section"][i])
        x = float(np.clip(data["position"][i], 0.0, 1.0))
        self._hold = True
        try:
            self.controls["section"].value = section
            self.controls["x"].value = round(x, 2)
        finally:
            self._hold = False
        self.update()

    def _on_time(self, change: dict) -> None:
        k = int(np.clip(change["new"], 0, self._frames.shape[0] - 1))
        self._show_frame(k)

    def _show_frame(self, k: int) -> None:
        self.morph_source.data["V"] = self._frames[k]
        t = float(self._frame_t[k])
        self._now.location = t
        self.time_label.value = f"t = {t:.2f} ms"

    def update(self) -> None:
        """Re-simulate for the controls' values (in the background thread if the panel was
        made with ``background=True``)."""
        if self._job.background:
            self.status.value = "<i>Simulating&hellip;</i>"
        self._job.submit(lambda progress: self._run(progress.stale), self._report_failure)

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until no run is pending (for code and tests); ``False`` on timeout."""
        return self._job.wait(timeout)

    def _report_failure(self, result: None, error: BaseException | None) -> None:
        if error is None:
            return
        logging.getLogger(__name__).error("dendrites panel run failed: %r", error)
        self._show_error(f"internal error ({type(error).__name__}: {error}); please report it")

    def _show_error(self, message: str) -> None:
        self.error = message
        self.status.value = rejected_html(message, self.result is not None, plots=True)

    # -- runs --------------------------------------------------------------------------
    def _values(self) -> dict:
        return {name: w.value for name, w in self.controls.items()}

    def _run(self, stale: Callable[[], bool]) -> None:
        v = self._values()
        started = time.perf_counter()
        try:
            if _is_axon(v["cell"]):
                ds, extra = self._run_axon(v)
            else:
                ds, extra = self._run_cell(v)
        except ERRORS as exc:
            self._show_error(str(exc))
            return
        if stale():
            return
        self._apply(ds, v, extra)
        self.last_run_ms = 1e3 * (time.perf_counter() - started)
        self.status.value = self._summary(ds, v, extra)

    def _run_cell(self, v: dict):
        kind = v["cell"]
        comp = cell_compartments(kind)
        mechs = _mechanisms(v["membrane"])

        def make(*stimuli) -> Cell:
            cell = Cell(comp, mechs, V_init=_V0, temperature_C=_T_CELL, label=kind)
            cell.add(*stimuli)
            return cell

        receptor = "NMDA" if v["input"] == "NMDA synapse" else "AMPA"
        duration = 100.0 if receptor == "NMDA" and v["input"] != "current step" else 50.0

        def synapse(section, x) -> SynapseInput:
            return SynapseInput(section, x, receptor, v["weight_nS"] * 1e-3, (_DELAY_MS,))

        if v["input"] == "current step":
            main = IClamp(v["section"], v["x"], v["amp_nA"], _DELAY_MS, v["dur_ms"])
        else:
            main = synapse(v["section"], v["x"])
        ds = make(main).simulate(duration, dt_ms=0.05, verbose=False)
        soma = comp.locate(_soma_section(comp), 0.5)
        ds.attrs["input_site"] = f"{v['section']}({v['x']:g})"
        ds.attrs["soma_site"] = f"{_soma_section(comp)}(0.5)"
        # summation at the soma: A at the input site, B at the second site, then both
        summ = dendritic_summation(make(), (v["section"], v["x"]), (v["section_b"], v["x_b"]),
                                   receptor=receptor, weight_uS=v["weight_nS"] * 1e-3,
                                   onset_ms=_DELAY_MS, duration_ms=duration, dt_ms=0.05,
                                   record_at=(_soma_section(comp), 0.5))
        site = comp.locate(v["section"], v["x"])
        att = attenuation(ds, site, mode="peak")
        return ds, {"soma": soma, "site": site, "summation": summ, "attenuation": att,
                    "receptor": receptor}

    def _run_axon(self, v: dict):
        kind, d = v["cell"], float(v["diameter_um"])
        ds, velocity = _simulate_axon(kind, d)
        comp = cell_compartments(kind, d)
        x = np.asarray(comp.x_um)
        near, far = (int(np.argmin(np.abs(x - f * x.max()))) for f in (0.3, 0.7))
        ds.attrs["input_site"] = f"{comp.section_names[0]}(0)"
        ds.attrs["soma_site"] = "70 % of the length"
        att = attenuation(ds, (comp.section_names[0], 0.5), mode="peak")
        return ds, {"soma": far, "site": near, "velocity": velocity, "diameter": d,
                    "attenuation": att}

    def _apply(self, ds: xr.Dataset, v: dict, extra: dict) -> None:
        kind = v["cell"]
        d = float(v["diameter_um"])
        comp = cell_compartments(kind, d if _is_axon(kind) else 1.0)
        V = np.asarray(ds["V"].values)
        t = np.asarray(ds["time"].values)
        k_frames = np.unique(np.linspace(0, t.size - 1, min(MAX_FRAMES, t.size)).astype(int))
        self._frames = V[k_frames]
        self._frame_t = t[k_frames]
        site = extra["site"]
        soma = extra["soma"]
        dV = V - V[0]
        if _is_axon(kind):
            # the frame where the spike is half-way along the axon
            mid = int(np.argmin(np.abs(comp.x_um - 0.5 * comp.x_um.max())))
            k_show = int(np.argmax(self._frames[:, mid]))
        else:
            k_show = int(np.argmax(np.abs(dV[k_frames, site])))
        self.result = ds
        self.n_runs += 1
        self.error = None
        self.velocity_m_s = extra.get("velocity")
        lo, hi = float(V.min()), float(V.max())
        if hi - lo < 1.0:
            lo, hi = lo - 0.5, hi + 0.5
        self.mapper.low, self.mapper.high = lo, hi
        cols = dplot.morphology_columns(comp, self._frames[k_show])
        self.morph_source.selected.indices = []
        self.morph_source.data = cols
        self.trace_source.data = {"t": t, "V_site": V[:, site], "V_soma": V[:, soma]}
        att = extra["attenuation"]
        self.attenuation_source.data = {
            "distance": att.path_distance.values, "ratio": att.values,
            "dV": att.values * att.attrs["source_deflection_mV"],
            "section": np.asarray(att.section.values, dtype=str)}
        legend = self.trace_figure.legend[0].items
        legend[0].label = {"value": "30 % of the length" if _is_axon(kind) else "input site"}
        legend[1].label = {"value": "70 % of the length" if _is_axon(kind) else "soma"}
        if _is_axon(kind):
            self.summation = None
            self.summation_source.data = dplot.empty_columns("summation")
            self.summation_figure.title.text = "Summation of two inputs (dendritic cells)"
            self.velocity_source.data = _velocity_sweep()
            self.velocity_now_source.data = {"diameter": [d], "velocity":
                                             [extra["velocity"]]}
        else:
            self.summation_figure.title.text = "Summation of two inputs (soma)"
            summ = extra["summation"]
            sv = {c: summ.V.sel(condition=c).values[0] for c in ("A", "B", "AB")}
            rest = sv["A"][0]
            self.summation_source.data = {"t": summ.time.values, **sv,
                                          "sum": sv["A"] + sv["B"] - rest}
            resp = summ.response.values[0]
            self.summation = {"A": float(resp[0]), "B": float(resp[1]), "AB": float(resp[2]),
                              "linear": float(summ.linear_sum[0]),
                              "ratio": float(summ.ratio[0])}
            self.velocity_now_source.data = dplot.empty_columns("velocity_now")
        self._hold = True
        try:
            n = self._frames.shape[0] - 1
            if self.time_slider.value > n:
                self.time_slider.value = n
            self.time_slider.max = n
            self.play.max = n
            self.time_slider.value = k_show
            self.play.value = k_show      # jslinked both ways: keep the two in step
        finally:
            self._hold = False
        self._show_frame(k_show)

    def _summary(self, ds: xr.Dataset, v: dict, extra: dict) -> str:
        kind = html.escape(v["cell"])
        took = f"; computed in {self.last_run_ms:.0f} ms"
        n = ds.sizes["compartment"]
        if _is_axon(v["cell"]):
            vel = extra["velocity"]
            if not np.isfinite(vel):
                return (f"<b>{kind}</b>, d = {extra['diameter']:g} µm: the spike did not "
                        f"cross the axon{took}")
            return (f"<b>{kind}</b>, d = {extra['diameter']:g} µm ({n} compartments): "
                    f"conduction velocity <b>{vel:.3g} m/s</b>{took}")
        V = ds["V"].values
        site, soma = extra["site"], extra["soma"]
        d_site = float(np.max(np.abs(V[:, site] - V[0, site])))
        d_soma = float(np.max(np.abs(V[:, soma] - V[0, soma])))
        text = (f"<b>{kind}</b>, {html.escape(v['membrane'])} ({n} compartments): "
                f"{html.escape(v['input'])} at {html.escape(ds.attrs['input_site'])}, "
                f"peak |ΔV| <b>{d_site:.2f} mV</b> there, <b>{d_soma:.2f} mV</b> at the soma")
        if d_soma > 1e-9 and extra["site"] != extra["soma"]:
            text += f" (attenuation {d_site / d_soma:.2g}×)"
        s = self.summation
        if s is not None and np.isfinite(s["ratio"]):
            kind_sum = ("supralinear" if s["ratio"] > 1.05 else "sublinear"
                        if s["ratio"] < 0.95 else "about linear")
            text += (f"; {extra['receptor']} at A and B together {s['AB']:.2f} mV at the soma "
                     f"vs A + B {s['linear']:.2f} mV ({kind_sum}, {s['ratio']:.2f})")
        if ds["spike_time"].size:
            text += f"; {ds['spike_time'].size} soma spike(s)"
        return text + took

    def _repr_mimebundle_(self, **kwargs: Any):
        self.plot.update_from_model(self._layout)
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return (f"DendritesPanel(cell={self.controls['cell'].value!r}, "
                f"membrane={self.controls['membrane'].value!r})")
