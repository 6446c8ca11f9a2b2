"""The single-neuron explorer: pick a model and an input protocol, watch V(t), the gating
or adaptation variables and the f-I curve.

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
``demo_current()``, ``current_units``, ``state_variables``), so every family works without
special cases.

Input protocols (:data:`PROTOCOLS`) all act in the middle 80 % of the run: a constant
step, a pulse train, a ramp, an Ornstein-Uhlenbeck noise current and Poisson synaptic
kicks (instantaneous jumps of V, on top of a constant bias current). The main current
slider is the step amplitude, the pulse amplitude, the ramp's end, the noise mean or the
bias; the protocol's other settings are generated from the metadata of small parameter
sets (:class:`PulseSettings`, ...), like the model's parameters.

**Integration.** The trace runs with fixed steps of ``dt`` (the default) or with
error-controlled adaptive steps (``method="adaptive"``, :mod:`neurosim_nb.engine.adaptive`)
at one of :data:`TOLERANCES` (``rtol = atol``); an adaptive run reports its accepted and
rejected steps and its right-hand-side evaluations, and its spike times lie off the grid
(the status line gives them to 0.001 ms). Only families whose population declares a
continuous form (``pop.continuous_form() is not None``; every built-in point model does)
offer it: for others the control is disabled and runs use fixed steps. The f-I curve
always uses fixed steps (it is a rate, not a spike time).

The trace is simulated at once on every change (a few milliseconds). The f-I curve
(:func:`~neurosim_nb.analysis.transfer_function` of the current parameters, one
population run per chunk of currents) is computed in a background thread after a short
quiet period (:class:`BackgroundJob`), with a progress bar; a newer change supersedes a
computation in progress. ``panel.wait()`` blocks until it is done (for scripts and tests).

Background: Gerstner et al., *Neuronal Dynamics*, chapters 1 (LIF), 2 (Hodgkin-Huxley)
and 6 (adaptation, AdEx); Izhikevich (2003), *Simple model of spiking neurons*.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as W
import numpy as np
import xarray as xr
from bokeh.layouts import column
from bokeh.models import ColumnDataSource
from jupyter_bokeh.widgets import BokehModel

from neurosim_nb import plotting
from neurosim_nb.analysis.transfer import transfer_function
from neurosim_nb.core.neurons import MODEL_FAMILIES, model_class
from neurosim_nb.panels._background import BackgroundJob
from neurosim_nb.panels._model_choice import ModelChoicePanel
from neurosim_nb.panels.controls import (
    DESCRIPTION_WIDTH,
    WIDGET_WIDTH,
    nice_step,
    params_from_widgets,
    widgets_from_params,
)
from neurosim_nb.params import ParameterSet, param, parameters
from neurosim_nb.plotting import traces as trace_plots
from neurosim_nb.stimuli import OUNoise, PoissonInput, PulseTrain, RampCurrent, StepCurrent

__all__ = ["NeuronExplorer", "available_families", "current_range", "PROTOCOLS",
           "make_stimulus", "fi_currents", "PulseSettings", "RampSettings", "NoiseSettings",
           "PoissonSettings", "METHODS", "TOLERANCES", "supports_adaptive",
           "integration_summary", "spike_times_text", "tolerance_label"]

#: the current step starts at this fraction of the run and lasts STEP_FRACTION of it
ONSET_FRACTION = 0.1
STEP_FRACTION = 0.8
#: name of the trace ColumnDataSource (find it in the browser via Bokeh.documents)
SOURCE_NAME = "neurosim-trace"
#: names of the state-variable, f-I curve and operating-point sources
STATE_SOURCE_NAME = "neurosim-state"
FI_SOURCE_NAME = "neurosim-fi"
FI_POINT_SOURCE_NAME = "neurosim-fi-point"
#: f-I curve: number of currents across the current slider's range, simulated time and
#: the initial transient left out of the rate (ms), currents per background chunk
FI_POINTS = 41
FI_DURATION_MS = 1000.0
FI_TRANSIENT_MS = 200.0
FI_CHUNK = 12
#: quiet period (s) after the last change before the f-I curve is recomputed
FI_DELAY_S = 0.15
#: integration methods of the trace runs (label -> ``simulate(method=...)``)
METHODS = {"fixed step": "fixed", "adaptive": "adaptive"}
#: tolerances (``rtol = atol``) offered for the adaptive method, and the default
TOLERANCES = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)
DEFAULT_TOLERANCE = 1e-6
#: spike times listed in the status line
SPIKES_LISTED = 4


# -- input protocols ------------------------------------------------------------------------
@parameters
class PulseSettings(ParameterSet):
    """Pulse train: rectangular pulses of the slider's amplitude."""

    frequency_hz: float = param(20.0, "Hz", (0.5, 1000.0), "pulses per second")
    pulse_ms: float = param(5.0, "ms", (0.1, 200.0), "width of each pulse")


@parameters
class RampSettings(ParameterSet):
    """Ramp from ``start_fraction`` x the slider's current to the slider's current."""

    start_fraction: float = param(0.0, "1", (-1.0, 1.0),
                                  "current at the start of the ramp, as a fraction of its end")


@parameters
class NoiseSettings(ParameterSet):
    """Ornstein-Uhlenbeck noise around the slider's current (its mean)."""

    sigma_fraction: float = param(0.5, "1", (0.0, 3.0),
                                  "standard deviation of the noise, as a fraction of the "
                                  "family's demo current")
    tau_ms: float = param(5.0, "ms", (0.1, 200.0), "correlation time of the noise")


@parameters
class PoissonSettings(ParameterSet):
    """Poisson input spikes, each kicking V by ``weight_mV``; the slider is a bias current."""

    rate_hz: float = param(2000.0, "Hz", (0.0, 20000.0),
                           "total rate of the input spikes (all synapses together)")
    weight_mV: float = param(1.0, "mV", (-20.0, 20.0), "jump of V at each input spike")


#: protocol -> (label of the current slider, settings class or None, stochastic?)
PROTOCOLS: dict[str, tuple[str, type[ParameterSet] | None, bool]] = {
    "constant": ("Current", None, False),
    "pulse train": ("Pulse amplitude", PulseSettings, False),
    "ramp": ("Ramp end", RampSettings, False),
    "noise (OU)": ("Mean current", NoiseSettings, True),
    "Poisson kicks": ("Bias current", PoissonSettings, True),
}


def make_stimulus(protocol: str, current: float, duration: float,
                  settings: ParameterSet | None = None, demo_current: float = 1.0) -> list:
    """The stimuli of ``protocol``, active from 10 % to 90 % of ``duration`` (ms).

    Parameters
    ----------
    protocol : str
        A key of :data:`PROTOCOLS`.
    current : float
        The current slider's value: step amplitude, pulse amplitude, ramp end, noise mean
        or bias current (model's current units).
    duration : float
        Length of the run (ms).
    settings : ParameterSet, optional
        The protocol's settings (default: its class' defaults).
    demo_current : float
        The family's demo current (scales the noise amplitude).

    Returns
    -------
    list of Stimulus

    Examples
    --------
    >>> [type(s).__name__ for s in make_stimulus("Poisson kicks", 0.1, 100.0)]
    ['StepCurrent', 'PoissonInput']
    >>> make_stimulus("ramp", 2.0, 100.0, RampSettings(start_fraction=0.5))[0].start
    1.0
    >>> make_stimulus("pulse train", 1.0, 100.0, PulseSettings(frequency_hz=100.0,
    ...                                                       pulse_ms=20.0))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.InvalidArgumentError: PulseTrain.pulse_ms (20.0) exceeds the period ...
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown input protocol {protocol!r}; choose from {list(PROTOCOLS)}")
    cls = PROTOCOLS[protocol][1]
    if settings is None and cls is not None:
        settings = cls()
    on = dict(onset_ms=ONSET_FRACTION * duration, duration_ms=STEP_FRACTION * duration)
    current = float(current)
    if protocol == "constant":
        return [StepCurrent(current, **on)]
    if protocol == "pulse train":
        return [PulseTrain(amplitude=current, frequency_hz=settings.frequency_hz,
                           pulse_ms=settings.pulse_ms, **on)]
    if protocol == "ramp":
        return [RampCurrent(start=settings.start_fraction * current, end=current, **on)]
    if protocol == "noise (OU)":
        return [OUNoise(mean=current, sigma=settings.sigma_fraction * abs(float(demo_current)),
                        tau_ms=settings.tau_ms, **on)]
    return [StepCurrent(current, **on),
            PoissonInput(rate_hz=settings.rate_hz, weight_mV=settings.weight_mV, **on)]


def fi_currents(lo: float, hi: float, n: int = FI_POINTS) -> np.ndarray:
    """``n`` evenly spaced currents from ``lo`` to ``hi`` (the f-I curve's grid).

    >>> fi_currents(0.0, 0.9, 4).tolist()
    [0.0, 0.3, 0.6, 0.9]
    """
    return np.round(np.linspace(float(lo), float(hi), int(n)), 12)


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


def supports_adaptive(pop) -> bool:
    """Whether a population (or a population class, checked with its default parameters)
    can run with ``method="adaptive"``: it declares a continuous form.

    >>> from neurosim_nb import LIFNeuron
    >>> supports_adaptive(LIFNeuron), supports_adaptive(LIFNeuron(n=2))
    (True, True)
    """
    if isinstance(pop, type):
        pop = pop()
    return pop.continuous_form() is not None


def tolerance_label(tol: float) -> str:
    """How the tolerance dropdown shows ``tol``: ``"1e-6"`` for a power of ten.

    >>> [tolerance_label(t) for t in (1e-3, 1e-8, 2e-5)]
    ['1e-3', '1e-8', '2e-05']
    """
    exponent = round(math.log10(tol))
    return f"1e{exponent}" if math.isclose(tol, 10.0**exponent) else f"{tol:g}"


def integration_summary(ds: xr.Dataset) -> str:
    """The work of a run, as the explorer shows it: ``"N steps (M rejected), K evaluations"``
    for an adaptive run (its attrs), ``"N fixed steps of dt ms"`` for a fixed one.

    >>> from neurosim_nb import LIFNeuron
    >>> integration_summary(LIFNeuron().simulate(10.0, 0.3, seed=0, verbose=False))
    '100 fixed steps of 0.1 ms'
    >>> ds = LIFNeuron().simulate(30.0, 0.3, method="adaptive", seed=0, verbose=False)
    >>> integration_summary(ds)
    '8 steps (0 rejected), 50 evaluations'
    """
    a = ds.attrs
    if a.get("method") == "adaptive":
        return (f"{int(a['n_steps_accepted'])} steps ({int(a['n_steps_rejected'])} rejected), "
                f"{int(a['n_rhs_evaluations'])} evaluations")
    dt = float(a["dt"])
    return f"{int(round(float(a['duration']) / dt))} fixed steps of {dt:g} ms"


def spike_times_text(times, n: int = SPIKES_LISTED) -> str:
    """The first ``n`` spike times (ms) to 0.001 ms, ``"..."`` when there are more.

    >>> spike_times_text([21.97224577, 43.1, 64.25, 85.4, 106.5])
    '21.972, 43.100, 64.250, 85.400, ...'
    >>> spike_times_text([])
    ''
    """
    times = np.asarray(times, dtype=float)
    text = ", ".join(f"{t:.3f}" for t in times[:n])
    return text + (", ..." if times.size > n else "")


def _set_slider(w: W.FloatSlider, lo: float, hi: float, step: float, value: float) -> None:
    """Change a slider's range and value without an invalid intermediate state."""
    w.min = min(w.min, lo)
    w.max = max(w.max, hi)
    w.step = step
    w.value = min(max(value, lo), hi)
    w.min, w.max = lo, hi


class NeuronExplorer(ModelChoicePanel):
    """Interactive single-neuron panel: model family, preset, input protocol, parameters.

    Every change re-simulates one neuron (milliseconds) and updates the voltage, the
    state-variable and the input-current figures in place; the f-I curve of the current
    parameters follows in the background (see the module docstring). A parameter
    combination the model rejects (e.g. ``V_reset`` at or above ``V_threshold``) is
    reported in the status line and the last valid result stays on screen.

    Parameters
    ----------
    family : str, optional
        A key of :data:`~neurosim_nb.core.neurons.MODEL_FAMILIES` (default: the first
        family that imports, ``"LIF"``).
    preset : str, optional
        A key of the family's ``presets()`` (default: the first).
    current : float, optional
        The current slider's value in the family's ``current_units`` (default: the
        preset's ``demo_current``).
    duration : float
        Simulated time (ms); the input acts in the middle 80 %.
    dt : float
        Integration step (ms).
    width : int
        Width of the trace figures in pixels.
    protocol : str
        A key of :data:`PROTOCOLS` (default ``"constant"``).
    fi_duration : float
        Simulated time of each f-I point (ms; the first :data:`FI_TRANSIENT_MS` or a fifth
        of it, whichever is shorter, are left out).
    background : bool
        Compute the f-I curve in a worker thread (default) or at once.
    method : {"fixed", "adaptive"}
        Integration of the trace runs (see the module docstring).
    tolerance : float
        ``rtol = atol`` of the adaptive method, one of :data:`TOLERANCES`.

    Attributes
    ----------
    result : xarray.Dataset
        The latest successful simulation (``V``, ``I_ext`` and the model's other state
        variables recorded).
    params : ParameterSet
        Its parameters.
    error : str or None
        The message shown when the last change was rejected, else ``None``.
    fi : xarray.DataArray or None
        The latest f-I curve (:func:`~neurosim_nb.analysis.transfer_function`).
    widget : ipywidgets.VBox
        The top-level widget (display the panel itself or this).
    method_dropdown, tolerance_dropdown : ipywidgets.Dropdown
        The integration control: method (values of :data:`METHODS`; disabled for a
        family without a continuous form) and tolerance (enabled for ``"adaptive"``).
    integration_readout : ipywidgets.HTML
        The last run's work (:func:`integration_summary`).
    controls : dict
        ``{field: widget}`` of the current family's parameters.
    input_controls : dict
        ``{field: widget}`` of the current protocol's settings.
    source, state_source, fi_source, fi_point_source : ColumnDataSource
        Columns of :func:`~neurosim_nb.plotting.traces.trace_columns`,
        :func:`~neurosim_nb.plotting.traces.state_columns`, the f-I curve and the
        operating point.

    Examples
    --------
    >>> panel = NeuronExplorer("LIF", "excitatory", current=0.3, duration=200.0,
    ...                        background=False)
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
    >>> panel.protocol_dropdown.value = "pulse train"
    >>> sorted(panel.input_controls)
    ['frequency_hz', 'pulse_ms']

    Adaptive steps: spike times off the grid, and the work done in the readout:

    >>> panel.reset_button.click()                 # back to the preset's V_reset
    >>> panel.protocol_dropdown.value = "constant"
    >>> panel.method_dropdown.value = "adaptive"
    >>> panel.result.attrs["method"], panel.tolerance_dropdown.value
    ('adaptive', 1e-06)
    >>> "rejected" in panel.integration_readout.value
    True
    """

    def __init__(self, family: str | None = None, preset: str | None = None,
                 current: float | None = None, duration: float = 300.0, dt: float = 0.1,
                 width: int = 720, protocol: str = "constant",
                 fi_duration: float = FI_DURATION_MS, background: bool = True,
                 method: str = "fixed", tolerance: float = DEFAULT_TOLERANCE):
        self.families = available_families()
        if not self.families:  # pragma: no cover - LIF is always there
            raise RuntimeError("no neuron model family could be imported")
        family = family or self.families[0]
        if family not in self.families:
            model_class(family)  # raises a readable error for an unknown / broken family
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown input protocol {protocol!r}; choose from "
                             f"{list(PROTOCOLS)}")
        if method not in METHODS.values():
            raise ValueError(f"method must be one of {list(METHODS.values())}, got {method!r}")
        if tolerance not in TOLERANCES:
            raise ValueError(f"tolerance must be one of {list(TOLERANCES)}, got {tolerance!r}")
        self.dt = float(dt)
        self.fi_duration = float(fi_duration)
        self.result: xr.Dataset | None = None
        self.params: ParameterSet | None = None
        self.error: str | None = None
        self.fi: xr.DataArray | None = None
        self.fi_error: str | None = None
        self.last_run_s = 0.0
        self.last_fi_s = 0.0
        self.n_runs = 0
        self.n_fi_runs = 0
        self._fi_cache: tuple[str, xr.DataArray] | None = None
        self._hold_depth = 0
        self.controls: dict[str, W.ValueWidget] = {}
        self.input_controls: dict[str, W.ValueWidget] = {}
        self._input_widgets: dict[str, dict[str, W.ValueWidget]] = {}
        self.fi_job = BackgroundJob(FI_DELAY_S, background=background)

        style = {"description_width": "70px"}
        wide = {"style": {"description_width": DESCRIPTION_WIDTH}}
        self._make_model_widgets(self.families, family, preset_width="260px",
                                 reset_tooltip="back to the preset's parameter values")
        self.protocol_dropdown = W.Dropdown(options=list(PROTOCOLS), value=protocol,
                                            description="Input", style=style,
                                            tooltip="the input protocol (middle 80 % of the run)",
                                            layout=W.Layout(width="240px"))
        self.seed_box = W.BoundedIntText(value=0, min=0, max=2**31 - 1, description="Seed",
                                         tooltip="seed of the random input (noise, Poisson)",
                                         style=style, layout=W.Layout(width="160px"))
        self.current_slider = W.FloatSlider(
            description="Current", min=0.0, max=1.0, step=0.01, value=0.0,
            continuous_update=False, readout_format=".4g", layout=W.Layout(width="460px"),
            **wide)
        self.duration_slider = W.FloatSlider(
            description="Duration (ms)", min=50.0, max=1000.0, step=10.0,
            value=float(duration), continuous_update=False, readout_format=".0f",
            tooltip="simulated time; the input acts in the middle 80 %",
            layout=W.Layout(width="460px"), **wide)
        self.method_dropdown = W.Dropdown(
            options=list(METHODS.items()), value=method, description="Integration",
            style={"description_width": "80px"}, layout=W.Layout(width="220px"),
            tooltip="fixed steps of dt, or error-controlled adaptive steps "
                    "(spike times located inside a step)")
        self.tolerance_dropdown = W.Dropdown(
            options=[(tolerance_label(tol), tol) for tol in TOLERANCES], value=tolerance,
            description="rtol = atol", style={"description_width": "80px"},
            layout=W.Layout(width="190px"), disabled=method != "adaptive",
            tooltip="relative and absolute tolerance of the adaptive steps")
        self.integration_readout = W.HTML(layout=W.Layout(min_height="1.6em"))
        self.status = W.HTML(layout=W.Layout(min_height="2.2em"))
        self.fi_progress = W.FloatProgress(value=0.0, min=0.0, max=1.0, bar_style="info",
                                           layout=W.Layout(width="390px", height="14px"))
        self.fi_status = W.HTML(layout=W.Layout(min_height="2.2em", width="400px"))
        self.input_box = W.HBox(layout=W.Layout(flex_flow="row wrap"))
        for w, cls in ((self.family_dropdown, "family"), (self.preset_dropdown, "preset"),
                       (self.reset_button, "reset"), (self.current_slider, "current"),
                       (self.duration_slider, "duration"), (self.status, "status"),
                       (self.protocol_dropdown, "protocol"), (self.seed_box, "seed"),
                       (self.fi_progress, "fi-progress"), (self.fi_status, "fi-status"),
                       (self.input_box, "input-settings"), (self.method_dropdown, "method"),
                       (self.tolerance_dropdown, "tolerance"),
                       (self.integration_readout, "integration")):
            w.add_class(f"neurosim-{cls}")

        self.source = ColumnDataSource(plotting.empty_trace_columns(), name=SOURCE_NAME)
        self.state_source = ColumnDataSource(trace_plots.empty_state_columns(),
                                             name=STATE_SOURCE_NAME)
        self.voltage_figure = plotting.voltage_figure(self.source, width=width)
        self.state_figure = trace_plots.state_figure(self.state_source, width=width,
                                                     x_range=self.voltage_figure.x_range)
        self.current_figure = plotting.current_figure(self.source, width=width,
                                                      x_range=self.voltage_figure.x_range)
        self._layout = column(self.voltage_figure, self.state_figure, self.current_figure)
        self.fi_source = ColumnDataSource(trace_plots.empty_fi_columns(), name=FI_SOURCE_NAME)
        self.fi_point_source = ColumnDataSource(trace_plots.empty_fi_columns(),
                                                name=FI_POINT_SOURCE_NAME)
        self.fi_figure = trace_plots.fi_panel_figure(self.fi_source, self.fi_point_source)
        self.params_box = W.VBox(layout=W.Layout(width=WIDGET_WIDTH))
        self.family_dropdown.observe(self._on_family, names="value")
        self.preset_dropdown.observe(self._on_preset, names="value")
        self.reset_button.on_click(self._on_reset)
        self.protocol_dropdown.observe(self._on_protocol, names="value")
        for w in (self.current_slider, self.duration_slider, self.seed_box,
                  self.tolerance_dropdown):
            w.observe(self._on_value, names="value")
        self.method_dropdown.observe(self._on_method, names="value")
        self.set_model(family, preset, current=current)

        # BokehModel serialises the document when it is created and sends only patches
        # afterwards, so it is created after the first run (patches sent before a view
        # exists are lost); _repr_mimebundle_ refreshes it for a later display. The f-I
        # figure is a document of its own: the worker thread updates only that one.
        self.plot = BokehModel(self._layout)
        self.plot.add_class("neurosim-plot")
        self.fi_plot = BokehModel(self.fi_figure)
        self.fi_plot.add_class("neurosim-fi-plot")
        self.widget = W.VBox([
            W.HBox([self.family_dropdown, self.preset_dropdown, self.reset_button]),
            W.HBox([self.protocol_dropdown, self.seed_box, self.input_box],
                   layout=W.Layout(flex_flow="row wrap")),
            W.HBox([self.current_slider, self.duration_slider]),
            W.HBox([self.method_dropdown, self.tolerance_dropdown, self.integration_readout],
                   layout=W.Layout(flex_flow="row wrap", align_items="center")),
            self.status,
            W.HBox([self.plot,
                    W.VBox([self.fi_plot, self.fi_progress, self.fi_status,
                            W.HTML("<b>Parameters</b> (hover for a description)"),
                            self.params_box])],
                   layout=W.Layout(flex_flow="row wrap")),     # parameters below if narrow
        ])
        self.widget.add_class("neurosim-explorer")

    # -- model selection -------------------------------------------------------------
    @property
    def protocol(self) -> str:
        """The selected input protocol (a key of :data:`PROTOCOLS`)."""
        return self.protocol_dropdown.value

    @property
    def method(self) -> str:
        """The integration method of the trace runs, ``"fixed"`` or ``"adaptive"``."""
        return self.method_dropdown.value

    @property
    def tolerance(self) -> float:
        """``rtol = atol`` of the adaptive method."""
        return float(self.tolerance_dropdown.value)

    @property
    def current_units(self) -> str:
        """Units of the input current of the selected family."""
        return self.model_class.current_units

    @property
    def recorded(self) -> list[str]:
        """Variables recorded in each run: V, the model's other state variables
        (bookkeeping such as refractory counters left out) and the input current."""
        names = [n for n in self.model_class.state_variables
                 if n not in trace_plots.HIDDEN_STATE_VARIABLES]
        return ["V", *names[:trace_plots.MAX_STATE_LINES], "I_ext"]

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
            Current slider value (default: the preset's ``demo_current``).
        """
        with self._hold():
            self._select(family, preset)
            self._load_preset(current)
        self.update()

    def _load_preset(self, current: float | None = None) -> None:
        cls, preset = self.model_class, self.preset
        base = cls.presets()[preset]
        self._rebuild_controls(base)
        self._sync_integration(supports_adaptive(cls(base)))
        demo = float(cls.demo_current(preset))
        self._demo = demo
        lo, hi, step = current_range(demo)
        value = demo if current is None else float(current)
        lo, hi = min(lo, value), max(hi, value)
        units = cls.current_units
        with self._hold():
            _set_slider(self.current_slider, lo, hi, step, value)
        self._fi_grid = fi_currents(lo, hi)
        self._label_current()
        self.voltage_figure.title.text = f"{self.family} neuron, preset '{preset}'"
        self.current_figure.yaxis[0].axis_label = f"I ({units})"
        self.fi_figure.xaxis[0].axis_label = f"Input current ({units})"
        self.fi_figure.title.text = f"f-I curve (constant current), {self.family} '{preset}'"

    def _label_current(self) -> None:
        cls, units = self.model_class, self.current_units
        label, settings_cls, stochastic = PROTOCOLS[self.protocol]
        self.current_slider.description = f"{label} ({units})"
        self.current_slider.tooltip = (
            f"{label.lower()} of the {self.protocol} input ({units}); "
            f"the preset fires tonically at a constant {cls.demo_current(self.preset):g} {units}")
        if self.protocol not in self._input_widgets:
            ws = widgets_from_params(settings_cls()) if settings_cls is not None else {}
            for name, w in ws.items():
                w.observe(self._on_value, names="value")
                w.add_class(f"neurosim-input-{name}")
            self._input_widgets[self.protocol] = ws
        self.input_controls = self._input_widgets[self.protocol]
        self.input_box.children = list(self.input_controls.values())
        self.seed_box.layout.display = None if stochastic else "none"

    def _sync_integration(self, supported: bool) -> None:
        """Enable the method choice for a model with a continuous form; otherwise fall
        back to fixed steps and say why in the tooltip."""
        with self._hold():
            if not supported:
                self.method_dropdown.value = "fixed"
            self.method_dropdown.disabled = not supported
            self.method_dropdown.tooltip = (
                "fixed steps of dt, or error-controlled adaptive steps (spike times located "
                "inside a step)" if supported else
                f"{self.family} declares no continuous form: fixed steps only")
            self.tolerance_dropdown.disabled = self.method != "adaptive"

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

    def _on_protocol(self, change: dict) -> None:
        if self._hold_depth:
            return
        self._label_current()
        self.update()

    def _on_value(self, change: dict) -> None:
        if self._hold_depth:
            return
        self.update()

    def _on_method(self, change: dict) -> None:
        self.tolerance_dropdown.disabled = change["new"] != "adaptive"
        if self._hold_depth:
            return
        self.update()

    # -- state -> view -------------------------------------------------------------------
    def input_settings(self) -> ParameterSet | None:
        """The current protocol's settings from its widgets (``None`` for ``constant``).

        Raises
        ------
        ValueError
            A setting outside its allowed range.
        """
        settings_cls = PROTOCOLS[self.protocol][1]
        if settings_cls is None:
            return None
        return params_from_widgets(settings_cls(), self.input_controls)

    def simulate(self, params: ParameterSet, current: float, duration: float) -> xr.Dataset:
        """One run of a single neuron with ``params`` under the panel's input protocol.

        The input (:func:`make_stimulus`) acts from 10 % to 90 % of ``duration``; ``V``,
        ``I_ext`` and the model's state variables are recorded. The run uses the selected
        :attr:`method` (and :attr:`tolerance`), or fixed steps for a population without a
        continuous form.
        """
        stim = make_stimulus(self.protocol, current, duration, self.input_settings(),
                             demo_current=self._demo)
        neuron = self.model_class(params)
        adaptive = self.method == "adaptive" and supports_adaptive(neuron)
        extra = (dict(method="adaptive", rtol=self.tolerance, atol=self.tolerance)
                 if adaptive else {})
        return neuron.simulate(float(duration), stim, dt=self.dt, record=self.recorded,
                               seed=int(self.seed_box.value), verbose=False, **extra)

    def update(self) -> xr.Dataset | None:
        """Re-simulate with the widgets' values, refresh figures and status, and request
        the f-I curve.

        Returns
        -------
        xarray.Dataset or None
            The new result, or ``None`` when the values were rejected (then
            :attr:`error` holds the message, the status line shows it and :attr:`result`
            keeps the previous run).
        """
        current = self.current_slider.value
        duration = self.duration_slider.value
        done = self._attempt(lambda params: self.simulate(params, current, duration))
        if done is None:
            return None
        self.params, self.result = params, ds = done
        columns = plotting.trace_columns(ds)
        self.source.data = columns
        self.state_source.data = trace_plots.state_columns(ds)
        trace_plots.update_state_figure(self.state_figure, ds)
        plotting.show_threshold(self.voltage_figure, bool(np.isfinite(columns["threshold"]).any()))
        plotting.update_current_labels(self.current_figure, ds["I_ext"])
        self.status.value = self._summary(ds, current, duration)
        self.integration_readout.value = (f"<span style='color:#444'>"
                                          f"{integration_summary(ds)}</span>")
        self._request_fi(params, current)
        return ds

    # -- the f-I curve (background) -------------------------------------------------------
    def _request_fi(self, params: ParameterSet, current: float) -> None:
        grid = self._fi_grid
        key = f"{type(params).__name__}:{params.to_json()}:{grid.tobytes().hex()}"
        cached = self._fi_cache if self._fi_cache and self._fi_cache[0] == key else None
        duration = self.fi_duration
        transient = min(FI_TRANSIENT_MS, duration / 5.0)
        units = self.current_units

        def compute(progress: Callable[[float], None]) -> tuple:
            t0 = time.perf_counter()
            if cached is not None:
                curve = cached[1]
            else:
                parts = []
                for k in range(0, grid.size, FI_CHUNK):
                    progress(k / grid.size)
                    parts.append(transfer_function(params, grid[k:k + FI_CHUNK],
                                                   duration_ms=duration, dt=self.dt,
                                                   transient_ms=transient))
                curve = xr.concat(parts, dim="current", combine_attrs="override")
            progress(1.0)
            point = transfer_function(params, [current], duration_ms=duration, dt=self.dt,
                                      transient_ms=transient)
            return key, curve, float(point.values[0]), time.perf_counter() - t0

        def apply(result: tuple | None, error: BaseException | None) -> None:
            self.fi_progress.layout.visibility = "hidden"
            if error is not None:
                self.fi_error = f"{type(error).__name__}: {error}"
                self.fi_status.value = ('<span style="color:#b00020">f-I curve not computed: '
                                        f"{html.escape(str(error))}</span>")
                return
            key_, curve, rate, seconds = result
            self._fi_cache = (key_, curve)
            self.fi, self.fi_error, self.last_fi_s = curve, None, seconds
            self.n_fi_runs += 1
            self.fi_source.data = trace_plots.fi_columns(curve)
            self.fi_point_source.data = trace_plots.operating_point_columns(current, rate)
            # also re-send the (small) figure's whole state: a curve finished while the page
            # is still loading would otherwise be a patch sent before the browser has the
            # plot's document, and lost (seen with a cold Numba cache: the first curve
            # never appeared). Without a background thread the first curve arrives during
            # __init__, before the plot exists: it then serialises the figure when created
            fi_plot = getattr(self, "fi_plot", None)
            if fi_plot is not None:
                fi_plot.update_from_model(self.fi_figure)
            firing = curve["current"].values[curve.values > 0]
            onset = (f"fires from about {firing.min():.4g} {html.escape(units)}"
                     if firing.size else "silent over this range")
            self.fi_status.value = (f"At {current:g} {html.escape(units)}: <b>{rate:.1f} Hz</b> "
                                    f"(stationary); {onset}. <span style='color:#666'>"
                                    f"{grid.size} currents x {duration:g} ms in "
                                    f"{seconds * 1000:.0f} ms</span>")

        def on_progress(fraction: float) -> None:
            self.fi_progress.value = fraction

        self.fi_progress.value = 0.0
        self.fi_progress.layout.visibility = "visible"
        if cached is None:
            self.fi_status.value = (f'<span style="color:#666">computing the f-I curve '
                                    f"({grid.size} currents x {duration:g} ms)...</span>")
        self.fi_job.submit(compute, apply, on_progress)

    @property
    def fi_busy(self) -> bool:
        """The f-I curve is being (re)computed."""
        return self.fi_job.busy

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until the f-I curve matches the current parameters (``False`` on
        timeout)."""
        return self.fi_job.wait(timeout)

    def _summary(self, ds: xr.Dataset, current: float, duration: float) -> str:
        units = ds.attrs.get("current_units", self.current_units)
        onset = ONSET_FRACTION * duration
        step_ms = STEP_FRACTION * duration
        t = ds["spike_time"].values
        in_step = t[(t > onset) & (t <= onset + step_ms)]
        rate = in_step.size / (step_ms / 1000.0)
        what = ("step" if self.protocol == "constant" else f"{self.protocol} input")
        text = (f"<b>{in_step.size} spike{'s' if in_step.size != 1 else ''}</b> during the "
                f"{step_ms:g} ms {what} of {current:g} {html.escape(units)} "
                f"&rarr; <b>{rate:.1f} Hz</b>")
        if in_step.size:
            text += f"; first spike {in_step[0] - onset:.3f} ms after onset"
        if in_step.size >= 3:
            isi = np.diff(in_step)
            text += (f"; ISI {isi[0]:.3f} ms &rarr; {isi[-1]:.3f} ms"
                     if not math.isclose(isi[0], isi[-1], rel_tol=0.05)
                     else f"; ISI {isi.mean():.3f} ms")
        if t.size:
            text += (f"<br><span class='neurosim-spike-times'>spike times (ms): "
                     f"{spike_times_text(t)}</span>")
        if self.protocol == "Poisson kicks":
            text += " <span style='color:#666'>(the kicks jump V; they are not in I)</span>"
        return text

    # -- display -------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any):
        # re-serialise the Bokeh documents: changes made before this display (which the
        # front end never saw as patches) are then part of what is rendered
        self.plot.update_from_model(self._layout)
        with self.fi_job.lock:
            self.fi_plot.update_from_model(self.fi_figure)
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return (f"NeuronExplorer(family={self.family!r}, preset={self.preset!r}, "
                f"protocol={self.protocol!r}, "
                f"current={self.current_slider.value:g} {self.current_units})")
