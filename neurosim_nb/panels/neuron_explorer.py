"""The single-neuron explorer: pick a model, drive it with a current step, watch V(t).

State, view and controls are kept apart (see STYLE.md section 6):

* **state** -- :attr:`NeuronExplorer.params` (the last valid parameter set) and
  :attr:`NeuronExplorer.result` (the last result :class:`xarray.Dataset`), reachable from
  code after playing with the sliders;
* **view** -- Bokeh figures from :mod:`neurosim_nb.plotting`, shown through
  ``jupyter_bokeh.BokehModel`` (the one way that updates under Voila) and updated by
  assigning ``source.data`` (one front-end patch per run; figures are never re-created);
* **controls** -- generated from the parameter metadata by
  :func:`neurosim_nb.panels.controls.widgets_from_params`, for whichever family is chosen.

Only the generic model protocol is used (``MODEL_FAMILIES``, ``presets()``,
``demo_current()``, ``current_units``), so every family works without special cases.

Background: Gerstner et al., *Neuronal Dynamics*, chapters 1 (LIF), 2 (Hodgkin-Huxley)
and 6 (adaptation, AdEx); Izhikevich (2003), *Simple model of spiking neurons*.
"""

from __future__ import annotations

import html
import math
import time
from contextlib import contextmanager
from typing import Any

import ipywidgets as W
import numpy as np
import xarray as xr
from bokeh.models import ColumnDataSource
from jupyter_bokeh.widgets import BokehModel

from neurosim_nb import plotting
from neurosim_nb.core.neurons import MODEL_FAMILIES, model_class
from neurosim_nb.engine.stimuli import StepCurrent
from neurosim_nb.panels.controls import (
    DESCRIPTION_WIDTH,
    WIDGET_WIDTH,
    nice_step,
    params_from_widgets,
    widgets_from_params,
)
from neurosim_nb.params import ParameterSet

__all__ = ["NeuronExplorer", "available_families", "current_range", "EXPECTED_ERRORS"]

#: errors shown in the status line instead of a traceback (bad values, diverged runs)
EXPECTED_ERRORS = (ValueError, TypeError, FloatingPointError, MemoryError)
#: the current step starts at this fraction of the run and lasts STEP_FRACTION of it
ONSET_FRACTION = 0.1
STEP_FRACTION = 0.8
#: name of the trace ColumnDataSource (find it in the browser via Bokeh.documents)
SOURCE_NAME = "neurosim-trace"


def available_families() -> list[str]:
    """Families of :data:`~neurosim_nb.core.neurons.MODEL_FAMILIES` whose module imports.

    >>> "LIF" in available_families()
    True
    """
    out = []
    for name in MODEL_FAMILIES:
        try:
            model_class(name)
        except ImportError:
            continue
        out.append(name)
    return out


def current_range(demo: float) -> tuple[float, float, float]:
    """Current slider ``(min, max, step)`` for a family's ``demo_current``:
    ``0 ... 3 x demo`` for a positive demo current, symmetric for a negative one.

    >>> current_range(0.3)
    (0.0, 0.9, 0.005)
    >>> current_range(-2.0)
    (-6.0, 6.0, 0.05)
    >>> current_range(0.0)
    (-1.0, 1.0, 0.01)
    """
    demo = float(demo)
    if demo > 0:
        lo, hi = 0.0, 3.0 * demo
    elif demo < 0:
        lo, hi = 3.0 * demo, -3.0 * demo
    else:
        lo, hi = -1.0, 1.0
    step = nice_step(hi - lo)
    return float(f"{lo:.12g}"), float(f"{hi:.12g}"), step


def _set_slider(w: W.FloatSlider, lo: float, hi: float, step: float, value: float) -> None:
    """Change a slider's range and value without an invalid intermediate state."""
    w.min = min(w.min, lo)
    w.max = max(w.max, hi)
    w.step = step
    w.value = min(max(value, lo), hi)
    w.min, w.max = lo, hi


class NeuronExplorer:
    """Interactive single-neuron panel: model family, preset, current step, parameters.

    Every change re-simulates one neuron (milliseconds) and updates the voltage and
    input-current figures in place. A parameter combination the model rejects (e.g.
    ``V_reset`` at or above ``V_threshold``) is reported in the status line and the last
    valid result stays on screen.

    Parameters
    ----------
    family : str, optional
        A key of :data:`~neurosim_nb.core.neurons.MODEL_FAMILIES` (default: the first
        family that imports, ``"LIF"``).
    preset : str, optional
        A key of the family's ``presets()`` (default: the first).
    current : float, optional
        Amplitude of the current step in the family's ``current_units`` (default: the
        preset's ``demo_current``).
    duration : float
        Simulated time (ms); the current step covers the middle 80 %.
    dt : float
        Integration step (ms).
    width : int
        Width of the figures in pixels.

    Attributes
    ----------
    result : xarray.Dataset
        The latest successful simulation (``V`` and ``I_ext`` recorded).
    params : ParameterSet
        Its parameters.
    error : str or None
        The message shown when the last change was rejected, else ``None``.
    widget : ipywidgets.VBox
        The top-level widget (display the panel itself or this).
    controls : dict
        ``{field: widget}`` of the current family's parameters.
    source : bokeh.models.ColumnDataSource
        Columns of :func:`neurosim_nb.plotting.trace_columns`.

    Examples
    --------
    >>> panel = NeuronExplorer("LIF", "excitatory", current=0.3, duration=200.0)
    >>> panel.result.V.attrs["units"], panel.result.sizes["time"]
    ('mV', 2000)
    >>> n_before = panel.result.sizes["spike"]
    >>> panel.current_slider.value = 0.6          # what moving the slider does
    >>> panel.result.sizes["spike"] > n_before
    True
    >>> panel.controls["V_reset"].value = -40.0   # above V_threshold = -50 mV
    >>> print(panel.error)
    V_reset (-40.0 mV) must be below V_threshold (-50.0 mV)
    >>> panel.result.sizes["spike"] > n_before    # the last valid result is kept
    True
    """

    def __init__(self, family: str | None = None, preset: str | None = None,
                 current: float | None = None, duration: float = 300.0, dt: float = 0.1,
                 width: int = 720):
        self.families = available_families()
        if not self.families:  # pragma: no cover - LIF is always there
            raise RuntimeError("no neuron model family could be imported")
        family = family or self.families[0]
        if family not in self.families:
            model_class(family)  # raises a readable error for an unknown / broken family
        self.dt = float(dt)
        self.result: xr.Dataset | None = None
        self.params: ParameterSet | None = None
        self.error: str | None = None
        self.last_run_s = 0.0
        self.n_runs = 0
        self._hold_depth = 0
        self.controls: dict[str, W.ValueWidget] = {}

        style = {"description_width": "70px"}
        self.family_dropdown = W.Dropdown(options=self.families, value=family,
                                          description="Model", style=style,
                                          layout=W.Layout(width="240px"))
        self.preset_dropdown = W.Dropdown(options=[], description="Preset", style=style,
                                          layout=W.Layout(width="260px"))
        self.reset_button = W.Button(description="Reset parameters",
                                     tooltip="back to the preset's parameter values",
                                     layout=W.Layout(width="150px"))
        self.current_slider = W.FloatSlider(
            description="Current", min=0.0, max=1.0, step=0.01, value=0.0,
            continuous_update=False, readout_format=".4g",
            style={"description_width": DESCRIPTION_WIDTH}, layout=W.Layout(width="460px"))
        self.duration_slider = W.FloatSlider(
            description="Duration (ms)", min=50.0, max=1000.0, step=10.0,
            value=float(duration), continuous_update=False, readout_format=".0f",
            tooltip="simulated time; the current step covers the middle 80 %",
            style={"description_width": DESCRIPTION_WIDTH}, layout=W.Layout(width="460px"))
        self.status = W.HTML(layout=W.Layout(min_height="2.2em"))
        for w, cls in ((self.family_dropdown, "family"), (self.preset_dropdown, "preset"),
                       (self.reset_button, "reset"), (self.current_slider, "current"),
                       (self.duration_slider, "duration"), (self.status, "status")):
            w.add_class(f"neurosim-{cls}")

        self.source = ColumnDataSource(plotting.empty_trace_columns(), name=SOURCE_NAME)
        self._layout, self.voltage_figure, self.current_figure = plotting.trace_layout(
            self.source, width=width)
        self.params_box = W.VBox(layout=W.Layout(width=WIDGET_WIDTH))
        self.family_dropdown.observe(self._on_family, names="value")
        self.preset_dropdown.observe(self._on_preset, names="value")
        self.reset_button.on_click(self._on_reset)
        self.current_slider.observe(self._on_value, names="value")
        self.duration_slider.observe(self._on_value, names="value")
        self.set_model(family, preset, current=current)

        # BokehModel serialises the document when it is created and sends only patches
        # afterwards, so it is created after the first run (patches sent before a view
        # exists are lost); _repr_mimebundle_ refreshes it for a later display.
        self.plot = BokehModel(self._layout)
        self.plot.add_class("neurosim-plot")
        self.widget = W.VBox([
            W.HBox([self.family_dropdown, self.preset_dropdown, self.reset_button]),
            W.HBox([self.current_slider, self.duration_slider]),
            self.status,
            W.HBox([self.plot, W.VBox([W.HTML("<b>Parameters</b> (hover for a description)"),
                                       self.params_box])],
                   layout=W.Layout(flex_flow="row wrap")),     # parameters below if narrow
        ])
        self.widget.add_class("neurosim-explorer")

    # -- model selection -------------------------------------------------------------
    @property
    def family(self) -> str:
        """The selected model family."""
        return self.family_dropdown.value

    @property
    def preset(self) -> str:
        """The selected preset of the family."""
        return self.preset_dropdown.value

    @property
    def model_class(self) -> type:
        """The population class of the selected family."""
        return model_class(self.family)

    @property
    def current_units(self) -> str:
        """Units of the input current of the selected family."""
        return self.model_class.current_units

    @contextmanager
    def _hold(self):
        """Programmatic widget changes inside this block do not re-simulate."""
        self._hold_depth += 1
        try:
            yield
        finally:
            self._hold_depth -= 1

    def set_model(self, family: str, preset: str | None = None,
                  current: float | None = None) -> None:
        """Switch to ``family`` / ``preset`` (its parameters and demo current) and run.

        Parameters
        ----------
        family : str
            A key of ``MODEL_FAMILIES``.
        preset : str, optional
            A preset of the family (default: its first).
        current : float, optional
            Step amplitude (default: the preset's ``demo_current``).
        """
        cls = model_class(family)
        presets = cls.presets()
        preset = preset if preset is not None else next(iter(presets))
        if preset not in presets:
            raise ValueError(f"unknown {family} preset {preset!r}; choose from {list(presets)}")
        with self._hold():
            self.family_dropdown.value = family
            if list(self.preset_dropdown.options) != list(presets):
                self.preset_dropdown.options = list(presets)
            self.preset_dropdown.value = preset
            self._load_preset(current)
        self.update()

    def _load_preset(self, current: float | None = None) -> None:
        cls, preset = self.model_class, self.preset
        base = cls.presets()[preset]
        self._base = base
        for w in self.controls.values():
            w.close()
        self.controls = widgets_from_params(base)
        for w in self.controls.values():
            w.observe(self._on_value, names="value")
        self.params_box.children = list(self.controls.values())
        demo = float(cls.demo_current(preset))
        lo, hi, step = current_range(demo)
        value = demo if current is None else float(current)
        lo, hi = min(lo, value), max(hi, value)
        units = cls.current_units
        with self._hold():
            _set_slider(self.current_slider, lo, hi, step, value)
        self.current_slider.description = f"Current ({units})"
        self.current_slider.tooltip = (f"amplitude of the current step ({units}); "
                                       f"the preset fires at {demo:g} {units}")
        self.voltage_figure.title.text = f"{self.family} neuron, preset '{preset}'"
        self.current_figure.yaxis[0].axis_label = f"I ({units})"

    # -- callbacks ---------------------------------------------------------------------
    def _on_family(self, change: dict) -> None:
        if self._hold_depth:
            return
        self.set_model(change["new"])

    def _on_preset(self, change: dict) -> None:
        if self._hold_depth or change["new"] is None:
            return
        self.set_model(self.family, change["new"])

    def _on_reset(self, _button: Any = None) -> None:
        self.set_model(self.family, self.preset, current=self.current_slider.value)

    def _on_value(self, change: dict) -> None:
        if self._hold_depth:
            return
        self.update()

    # -- state -> view -------------------------------------------------------------------
    def simulate(self, params: ParameterSet, current: float, duration: float) -> xr.Dataset:
        """One run of a single neuron with ``params`` under the panel's current step.

        The step of ``current`` (``current_units``) starts at 10 % of ``duration`` and
        lasts 80 % of it; ``V`` and ``I_ext`` are recorded.
        """
        stim = StepCurrent(float(current), onset_ms=ONSET_FRACTION * duration,
                           duration_ms=STEP_FRACTION * duration)
        neuron = self.model_class(params)
        return neuron.simulate(float(duration), stim, dt=self.dt, record=["V", "I_ext"],
                               seed=0, verbose=False)

    def update(self) -> xr.Dataset | None:
        """Re-simulate with the widgets' values and refresh figures and status.

        Returns
        -------
        xarray.Dataset or None
            The new result, or ``None`` when the values were rejected (then
            :attr:`error` holds the message, the status line shows it and :attr:`result`
            keeps the previous run).
        """
        current = self.current_slider.value
        duration = self.duration_slider.value
        t0 = time.perf_counter()
        try:
            params = params_from_widgets(self._base, self.controls)
            ds = self.simulate(params, current, duration)
        except EXPECTED_ERRORS as exc:
            self.error = str(exc)
            self.status.value = (
                '<span style="color:#b00020"><b>Not simulated:</b> '
                f"{html.escape(self.error)}</span>"
                + ("" if self.result is None else
                   ' <span style="color:#666">(the plot shows the last valid run)</span>'))
            return None
        self.last_run_s = time.perf_counter() - t0
        self.error = None
        self.params, self.result = params, ds
        self.n_runs += 1
        columns = plotting.trace_columns(ds)
        self.source.data = columns
        plotting.show_threshold(self.voltage_figure, bool(np.isfinite(columns["threshold"]).any()))
        plotting.update_current_labels(self.current_figure, ds["I_ext"])
        self.status.value = self._summary(ds, current, duration)
        return ds

    def _summary(self, ds: xr.Dataset, current: float, duration: float) -> str:
        units = ds.attrs.get("current_units", self.current_units)
        onset = ONSET_FRACTION * duration
        step_ms = STEP_FRACTION * duration
        t = ds["spike_time"].values
        in_step = t[(t > onset) & (t <= onset + step_ms)]
        rate = in_step.size / (step_ms / 1000.0)
        text = (f"<b>{in_step.size} spike{'s' if in_step.size != 1 else ''}</b> during the "
                f"{step_ms:g} ms step of {current:g} {html.escape(units)} "
                f"&rarr; <b>{rate:.1f} Hz</b>")
        if in_step.size:
            text += f"; first spike {in_step[0] - onset:.1f} ms after onset"
        if in_step.size >= 3:
            isi = np.diff(in_step)
            text += (f"; ISI {isi[0]:.1f} ms &rarr; {isi[-1]:.1f} ms"
                     if not math.isclose(isi[0], isi[-1], rel_tol=0.05)
                     else f"; ISI {isi.mean():.1f} ms")
        return text

    # -- display -------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any):
        # re-serialise the Bokeh document: changes made before this display (which the
        # front end never saw as patches) are then part of what is rendered
        self.plot.update_from_model(self._layout)
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return (f"NeuronExplorer(family={self.family!r}, preset={self.preset!r}, "
                f"current={self.current_slider.value:g} {self.current_units})")
