"""Phase-plane panel of the two-variable neuron models (Izhikevich, AdEx).

Below the spike cut-off these models are planar flows in (V, recovery), where the
recovery variable is Izhikevich's ``u`` or the AdEx adaptation current ``w``. The panel
shows, for a constant input current,

* the two **nullclines** (:func:`~neurosim_nb.analysis.nullclines`): where dV/dt = 0 and
  where the recovery variable stands still;
* the **fixed points** where they cross (:func:`~neurosim_nb.analysis.fixed_points`),
  filled green when stable, orange for a saddle, open red when unstable; above the
  saddle-node current the nullclines no longer cross and the status line says so;
* a **trajectory** simulated from a chosen initial point with the model itself,
  including its reset: each spike is a dashed jump back to the reset line.

State, view and controls are kept apart as in
:class:`~neurosim_nb.panels.neuron_explorer.NeuronExplorer`: :attr:`PhasePlane.result`
(the trajectory run), :attr:`PhasePlane.fixed` and :attr:`PhasePlane.nullclines`
(Datasets), Bokeh figures from :mod:`neurosim_nb.plotting.phase` updated through their
sources, controls generated from the parameter metadata. Every run takes milliseconds
(one neuron, at most a second of model time), so it happens at once on every change.

Background: Izhikevich (2007), *Dynamical Systems in Neuroscience*, chapters 4-6;
Gerstner et al., *Neuronal Dynamics*, chapters 4 and 6; Touboul & Brette (2008).
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W
import numpy as np
import xarray as xr
from bokeh.layouts import row
from jupyter_bokeh.widgets import BokehModel

from neurosim_nb.analysis.attractors import fixed_points, nullclines
from neurosim_nb.core.neurons.registry import family_of, model_class
from neurosim_nb.panels._model_choice import ModelChoicePanel
from neurosim_nb.panels.controls import (
    DESCRIPTION_WIDTH,
    WIDGET_WIDTH,
    nice_step,
)
from neurosim_nb.panels.neuron_explorer import (
    _set_slider,
    available_families,
    current_range,
)
from neurosim_nb.params import ParameterSet
from neurosim_nb.plotting import phase as phase_plots

__all__ = ["PhasePlane", "planar_families", "SOURCE_PREFIX"]

#: sources are named "<SOURCE_PREFIX>-<role>" (nullclines, fixed_points, trajectory, ...)
SOURCE_PREFIX = "neurosim-phase"
#: number of V values of the nullclines
NULLCLINE_POINTS = 600


def planar_families() -> list[str]:
    """Families (of those whose module imports) that have a phase plane: their population
    class carries a :class:`~neurosim_nb.core.neurons.planar.PlanarModel` (``planar``).

    >>> planar_families()
    ['Izhikevich', 'AdEx']
    """
    return [family for family in available_families()
            if family_of(model_class(family)).planar is not None]


def _recovery_of(cls: type) -> str:
    """The recovery variable of the model's planar description (Izhikevich ``u``, AdEx
    ``w``)."""
    return family_of(cls).planar.recovery


class PhasePlane(ModelChoicePanel):
    """Interactive phase plane of a two-variable neuron model.

    Parameters
    ----------
    family : str, optional
        ``"Izhikevich"`` or ``"AdEx"`` (see :func:`planar_families`; default the first).
    preset : str, optional
        A preset of the family (default: its first).
    current : float, optional
        Constant input current in the family's ``current_units`` (default 0: at rest).
    duration : float
        Simulated time of the trajectory (ms).
    dt : float
        Integration step (ms).
    width : int
        Width of the phase-plane figure in pixels.

    Attributes
    ----------
    result : xarray.Dataset
        The latest trajectory run (``V`` and the recovery variable recorded).
    fixed : xarray.Dataset
        Its fixed points (:func:`~neurosim_nb.analysis.fixed_points`).
    nullclines : xarray.Dataset
        Its nullclines (:func:`~neurosim_nb.analysis.nullclines`).
    params : ParameterSet
        Their parameters.
    error : str or None
        The message shown when the last change was rejected.
    sources : dict of ColumnDataSource
        ``nullclines``, ``fixed_points``, ``trajectory``, ``resets``, ``start``.

    Examples
    --------
    >>> panel = PhasePlane("Izhikevich", "RS")
    >>> panel.fixed.kind.values.tolist()
    ['stable node', 'saddle']
    >>> panel.current_slider.value = 10.0         # past the saddle-node current
    >>> panel.fixed.sizes["fixed_point"], panel.result.sizes["spike"] > 0
    (0, True)
    >>> "No fixed point" in panel.status.value
    True
    """

    def __init__(self, family: str | None = None, preset: str | None = None,
                 current: float | None = None, duration: float = 200.0, dt: float = 0.1,
                 width: int = 560):
        self.families = planar_families()
        family = family or self.families[0]
        if family not in self.families:
            model_class(family)  # an unknown family raises its readable error first
            raise ValueError(f"{family} has no phase plane; choose from {self.families}")
        self.dt = float(dt)
        self.result: xr.Dataset | None = None
        self.fixed: xr.Dataset | None = None
        self.nullclines: xr.Dataset | None = None
        self.params: ParameterSet | None = None
        self.error: str | None = None
        self.last_run_s = 0.0
        self.n_runs = 0
        self._hold_depth = 0
        self.controls: dict[str, W.ValueWidget] = {}

        wide = {"style": {"description_width": DESCRIPTION_WIDTH}}
        self._make_model_widgets(self.families, family, preset_width="280px",
                                 reset_tooltip="back to the preset's parameters and start")

        def slider(description: str, tooltip: str, value: float = 0.0) -> W.FloatSlider:
            return W.FloatSlider(description=description, tooltip=tooltip, value=value,
                                 min=-1.0, max=1.0, step=0.01, continuous_update=False,
                                 readout_format=".4g", layout=W.Layout(width="460px"), **wide)

        self.current_slider = slider("Current", "constant input current")
        self.v0_slider = slider("Start V (mV)", "membrane potential at the start")
        self.r0_slider = slider("Start u", "recovery variable at the start")
        self.duration_slider = slider("Duration (ms)", "simulated time of the trajectory")
        _set_slider(self.duration_slider, 20.0, 1000.0, 10.0, float(duration))
        self.duration_slider.readout_format = ".0f"
        self.status = W.HTML(layout=W.Layout(min_height="2.2em"))
        for w, cls in ((self.family_dropdown, "family"), (self.preset_dropdown, "preset"),
                       (self.reset_button, "reset"), (self.current_slider, "current"),
                       (self.v0_slider, "v0"), (self.r0_slider, "r0"),
                       (self.duration_slider, "duration"), (self.status, "status")):
            w.add_class(f"neurosim-{cls}")

        self.sources = phase_plots.phase_sources(SOURCE_PREFIX)
        self.phase_figure = phase_plots.phase_figure(self.sources, width=width)
        self.time_figure = phase_plots.phase_time_figure(self.sources["trajectory"])
        self._layout = row(self.phase_figure, self.time_figure)
        self.params_box = W.VBox(layout=W.Layout(width=WIDGET_WIDTH))
        self.family_dropdown.observe(self._on_family, names="value")
        self.preset_dropdown.observe(self._on_preset, names="value")
        self.reset_button.on_click(self._on_reset)
        for w in (self.current_slider, self.v0_slider, self.r0_slider, self.duration_slider):
            w.observe(self._on_value, names="value")
        self.set_model(family, preset, current=current)

        self.plot = BokehModel(self._layout)   # after the first run (see NeuronExplorer)
        self.plot.add_class("neurosim-plot")
        self.widget = W.VBox([
            W.HBox([self.family_dropdown, self.preset_dropdown, self.reset_button]),
            W.HBox([self.current_slider, self.duration_slider]),
            W.HBox([self.v0_slider, self.r0_slider]),
            self.status,
            W.HBox([self.plot, W.VBox([W.HTML("<b>Parameters</b> (hover for a description)"),
                                       self.params_box])],
                   layout=W.Layout(flex_flow="row wrap")),
        ])
        self.widget.add_class("neurosim-phase-plane")

    # -- model selection -------------------------------------------------------------
    @property
    def recovery(self) -> str:
        """Name of the recovery variable (``u`` or ``w``)."""
        return _recovery_of(self.model_class)

    def set_model(self, family: str, preset: str | None = None,
                  current: float | None = None) -> None:
        """Switch to ``family`` / ``preset``: its parameters, initial state and a current
        of ``current`` (default 0), then run."""
        if family not in self.families:
            raise ValueError(f"{family} has no phase plane; choose from {self.families}")
        with self._hold():
            self._select(family, preset)
            self._load_preset(current)
        self.update()

    def _load_preset(self, current: float | None) -> None:
        cls, base = self.model_class, self.model_class.presets()[self.preset]
        self._rebuild_controls(base)
        units, r = cls.current_units, self.recovery
        r_units = cls.state_variables[r][0]
        demo = float(cls.demo_current(self.preset))
        lo, hi, step = current_range(demo)
        value = 0.0 if current is None else float(current)
        _set_slider(self.current_slider, min(lo, value), max(hi, value), step, value)
        self.current_slider.description = f"Current ({units})"
        self.current_slider.tooltip = (f"constant input current ({units}); the preset fires "
                                       f"tonically at {demo:g} {units}")
        # the start: the model's own initial state; slider ranges: what the phase plane
        # shows for the preset at its demo current
        pop = cls(base)
        v0, r0 = float(pop.get_state("V")[0]), float(pop.get_state(r)[0])
        cols = self._columns(base, demo, v0, r0, 200.0)[0]
        (v_lo, v_hi), (r_lo, r_hi) = phase_plots.phase_ranges(cols, pad=0.1)
        v_lo, v_hi = min(v_lo, v0), max(v_hi, v0)
        r_lo, r_hi = min(r_lo, r0), max(r_hi, r0)
        _set_slider(self.v0_slider, float(f"{v_lo:.3g}"), float(f"{v_hi:.3g}"),
                    nice_step(v_hi - v_lo), v0)
        _set_slider(self.r0_slider, float(f"{r_lo:.3g}"), float(f"{r_hi:.3g}"),
                    nice_step(r_hi - r_lo), r0)
        self.r0_slider.description = f"Start {r} ({r_units})"
        self.r0_slider.tooltip = f"{cls.state_variables[r][1]} at the start ({r_units})"
        phase_plots.update_phase_labels(self.phase_figure, r, r_units, self.time_figure)

    # -- callbacks ---------------------------------------------------------------------
    def _on_family(self, change: dict) -> None:
        if not self._hold_depth:
            self.set_model(change["new"])

    def _on_preset(self, change: dict) -> None:
        if not self._hold_depth and change["new"] is not None:
            self.set_model(self.family, change["new"], current=self.current_slider.value)

    def _on_reset(self, _button: Any = None) -> None:
        self.set_model(self.family, self.preset, current=self.current_slider.value)

    def _on_value(self, change: dict) -> None:
        if not self._hold_depth:
            self.update()

    # -- state -> view -------------------------------------------------------------------
    def simulate(self, params: ParameterSet, current: float, v0: float, r0: float,
                 duration: float) -> xr.Dataset:
        """The trajectory: one neuron started at ``(v0, r0)`` under a constant ``current``
        (from t = 0), with the model's reset; ``V`` and the recovery variable recorded."""
        pop = self.model_class(params)
        pop.set_state("V", v0)
        pop.set_state(self.recovery, r0)
        return pop.simulate(float(duration), float(current), dt=self.dt,
                            record=["V", self.recovery], seed=0, verbose=False)

    def _columns(self, params: ParameterSet, current: float, v0: float, r0: float,
                 duration: float) -> tuple[dict, xr.Dataset, xr.Dataset, xr.Dataset]:
        ds = self.simulate(params, current, v0, r0, duration)
        fp = fixed_points(params, current)
        default = nullclines(params, current, n_points=2).V.values
        v = ds["V"].values
        lo = min(float(default.min()), float(np.nanmin(v)), v0)
        hi = max(float(default.max()), float(np.nanmax(v)), v0)
        with np.errstate(over="ignore", invalid="ignore"):
            nc = nullclines(params, current, V_range=(lo, hi), n_points=NULLCLINE_POINTS)
        traj = phase_plots.trajectory_columns(ds, initial=(v0, r0))
        cols = {"nullclines": phase_plots.nullcline_columns(nc),
                "fixed_points": phase_plots.fixed_point_columns(fp),
                "trajectory": traj,
                "resets": phase_plots.reset_columns(ds),
                "start": {"V": [float(v0)], "recovery": [float(r0)]}}
        return cols, ds, fp, nc

    def update(self) -> xr.Dataset | None:
        """Re-simulate the trajectory and recompute nullclines and fixed points with the
        widgets' values; refresh the figures and the status line.

        Returns
        -------
        xarray.Dataset or None
            The trajectory run, or ``None`` when the values were rejected (then
            :attr:`error` holds the message and the last valid plot stays).
        """
        current = self.current_slider.value
        v0, r0 = self.v0_slider.value, self.r0_slider.value
        duration = self.duration_slider.value
        done = self._attempt(lambda params: self._columns(params, current, v0, r0, duration))
        if done is None:
            return None
        params, (cols, ds, fp, nc) = done
        self.params, self.result, self.fixed, self.nullclines = params, ds, fp, nc
        for role, data in cols.items():
            self.sources[role].data = data
        x, y = phase_plots.phase_ranges(cols)
        phase_plots.set_ranges(self.phase_figure, x, y)
        units = self.model_class.current_units
        title = f"{self.family} '{self.preset}', I = {current:g} {units}"
        if self.phase_figure.title.text != title:
            self.phase_figure.title.text = title
        self.status.value = self._summary(ds, fp, current, units)
        return ds

    def _summary(self, ds: xr.Dataset, fp: xr.Dataset, current: float, units: str) -> str:
        r = self.recovery
        i_sn = float(fp.attrs["I_saddle_node"])
        u = html.escape(units)
        n = int(ds.sizes["spike"])
        spikes = (f"the trajectory fires <b>{n} spike{'s' if n != 1 else ''}</b> in "
                  f"{float(ds.attrs['duration']):g} ms")
        if fp.sizes["fixed_point"] == 0:
            why = (f"above the saddle-node current I<sub>SN</sub> = {i_sn:.4g} {u} the "
                   "nullclines no longer cross" if np.isfinite(i_sn) and current > i_sn
                   else "the nullclines do not cross")
            return (f"<b>No fixed point</b> at I = {current:g} {u}: {why}, so V cannot rest "
                    f"and the neuron fires repetitively; {spikes}.")
        points = ", ".join(
            f"<b>{html.escape(str(k))}</b> at V = {v:.2f} mV, {r} = {w:.4g}"
            for k, v, w in zip(fp["kind"].values, fp["V"].values, fp[r].values, strict=True))
        if np.isfinite(i_sn):
            sn = f" (they merge and vanish at I<sub>SN</sub> = {i_sn:.4g} {u})"
        elif np.isinf(i_sn):
            sn = " (a fixed point exists for every current)"
        else:  # a planar model that does not know its saddle-node current
            sn = ""
        return f"Fixed points: {points}{sn}; {spikes}."

    # -- display -------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any):
        self.plot.update_from_model(self._layout)
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return (f"PhasePlane(family={self.family!r}, preset={self.preset!r}, "
                f"current={self.current_slider.value:g} {self.model_class.current_units})")
