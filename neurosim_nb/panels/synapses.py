r"""Synapses and plasticity: PSPs of the four receptors, the STDP window, learning with reward.

Two sub-panels, shown side by side in tabs by :class:`SynapsesPanel`:

* :class:`PSPPanel` -- one presynaptic neuron fires a single spike or a short regular train
  onto a passive postsynaptic membrane through one receptor (AMPA, NMDA with its Mg²⁺ block,
  GABA-A, GABA-B, or an exponential current synapse), optionally with Tsodyks-Markram
  short-term depression or facilitation. Plots: the membrane potential, the synaptic
  conductance and the synaptic current. The holding potential is where the membrane rests
  (as if held there by a steady current); it sets the driving force and the Mg²⁺ block.
* :class:`STDPPanel` -- the pair-based STDP window of the rule's parameters (with the
  changes measured for single spike pairs in a network), and a learning demo: Poisson
  inputs drive a few LIF neurons through plastic AMPA synapses (reward-modulated STDP, or
  plain Hebbian STDP for comparison); a reward is delivered every ``reward_interval``.
  Plots: mean ± s.d. (and range) of the weights over time, the final weight histogram.

State, view and controls are kept apart as in
:mod:`neurosim_nb.panels.neuron_explorer`: the state is a parameter set and the latest
result Dataset (``panel.result``); the view is built by :mod:`neurosim_nb.plotting.synapses`
and updated through ``source.data``; the controls are generated from the parameter
metadata. The simulations are the plain functions of :mod:`neurosim_nb.experiments`
(:func:`~neurosim_nb.experiments.simulate_psp`,
:func:`~neurosim_nb.experiments.measure_pairs`,
:func:`~neurosim_nb.experiments.simulate_learning`), usable without widgets.

Runs start shortly after the last control change (debounced) in a background thread
(:class:`~neurosim_nb.panels._background.BackgroundJob`), so the page stays responsive; a
long learning run is simulated in chunks (one per reward interval) with a progress bar, and
a newer change cancels it between chunks.

Background: Gerstner et al., *Neuronal Dynamics*, ch. 3.1 (synapses) and 19 (synaptic
plasticity and learning); Jahr & Stevens (1990); Tsodyks, Pawelzik & Markram (1998);
Song, Miller & Abbott (2000); Izhikevich (2007); Frémaux & Gerstner (2016).
"""

from __future__ import annotations

import html
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as W
import numpy as np
import xarray as xr
from bokeh.layouts import row
from bokeh.models import ColumnDataSource
from jupyter_bokeh.widgets import BokehModel

from neurosim_nb.experiments import (
    PAIR_DT,
    LearningParameters,
    PSPParameters,
    default_stdp_params,
    measure_pairs,
    simulate_learning,
    simulate_psp,
)
from neurosim_nb.panels._background import EXPECTED_ERRORS, BackgroundJob
from neurosim_nb.panels._status import rejected_html
from neurosim_nb.panels.controls import params_from_widgets, widgets_from_params
from neurosim_nb.plotting import synapses as splot

__all__ = ["PSPPanel", "STDPPanel", "SynapsesPanel", "PANEL_WEIGHTS"]

#: weight loaded when a receptor is chosen (nS; pA for "current"): five times the
#: library's DEFAULT_WEIGHTS, so that a single PSP is clearly visible
PANEL_WEIGHTS = {"AMPA": 5.0, "NMDA": 2.5, "GABA_A": 10.0, "GABA_B": 2.5, "current": 250.0}
#: name prefix of the ColumnDataSources (find them in a page via Bokeh.documents)
SOURCE_PREFIX = "neurosim-syn-"


# -- running in the background ---------------------------------------------------------------
class _BackgroundRuns:
    """Runs go through a :class:`BackgroundJob` as ``_run(stale)`` (``stale()`` turns true
    once a newer run was requested: the run then stops); an unexpected error of the latest
    run goes to the status line (not a traceback) and the log."""

    _job: BackgroundJob

    def _submit_run(self) -> None:
        self._job.submit(lambda progress: self._run(progress.stale), self._report_failure)

    def _report_failure(self, result: None, error: BaseException | None) -> None:
        if error is None:
            return
        logging.getLogger(__name__).error("panel run failed: %r", error)
        self._on_failure(error)

    def _on_failure(self, exc: BaseException) -> None:
        if hasattr(self, "progress"):
            self.progress.layout.visibility = "hidden"
        self._show_error(f"internal error ({type(exc).__name__}: {exc}); please report it")


def _tidy_controls(controls: dict[str, W.ValueWidget]) -> None:
    for w in controls.values():
        w.continuous_update = False


def _linear(controls: dict[str, W.ValueWidget], name: str, lo: float, hi: float,
            step: float) -> None:
    """Replace a generated slider by a linear one on ``[lo, hi]`` (a logarithmic slider's
    grid does not hold round values such as 20: the browser would send back 19.95)."""
    old = controls[name]
    new = W.FloatSlider(value=old.value, min=lo, max=hi, step=step,
                        description=old.description, tooltip=old.tooltip,
                        continuous_update=False, readout_format=".4g", style=old.style,
                        layout=old.layout)
    for cls in old._dom_classes:
        new.add_class(cls)
    old.close()
    controls[name] = new


#: (min, max, step) of the PSP weight slider: nS for conductances, pA for the current
WEIGHT_RANGES = {"conductance": (0.0, 50.0, 0.05), "current": (0.0, 1000.0, 5.0)}


# -- PSP panel -------------------------------------------------------------------------------
class PSPPanel(_BackgroundRuns):
    """Postsynaptic potentials of one synapse onto a passive membrane.

    Parameters
    ----------
    params : PSPParameters, optional
        Starting values.
    dt : float
        Integration step (ms).
    background : bool
        Simulate in a worker thread after control changes (``False``: at once).
    width : int
        Width of the figures (pixels).

    Attributes
    ----------
    result : xarray.Dataset
        The latest run (:func:`simulate_psp`).
    params : PSPParameters
        Its parameters.
    error : str or None
        The message of the last rejected change.
    source, arrivals : ColumnDataSource
        Columns of :func:`~neurosim_nb.plotting.synapses.psp_columns` and
        :func:`~neurosim_nb.plotting.synapses.arrival_columns`.

    Examples
    --------
    >>> panel = PSPPanel(background=False)
    >>> panel.result.attrs["receptor"], panel.controls["weight"].description
    ('AMPA', 'weight (nS)')
    >>> panel.controls["receptor"].value = "current"      # loads its default weight
    >>> panel.controls["weight"].description, panel.controls["weight"].value
    ('weight (pA)', 250.0)
    >>> panel.controls["n_spikes"].value = 20
    >>> panel.controls["rate"].value = 5.0
    >>> print(panel.error)  # doctest: +NORMALIZE_WHITESPACE
    20 spikes at 5 Hz last 3800 ms; keep the train under 1000 ms (raise the rate or
    use fewer spikes)
    """

    def __init__(self, params: PSPParameters | None = None, *, dt: float = 0.05,
                 background: bool = True, width: int = 720):
        self.dt = float(dt)
        self.params = params or PSPParameters()
        self.result: xr.Dataset | None = None
        self.error: str | None = None
        self.n_runs = 0
        self._hold = False
        self._job = BackgroundJob(0.15, background=background)
        self.controls = widgets_from_params(self.params)
        _tidy_controls(self.controls)
        for name in ("n_spikes",):
            self.controls[name].step = 1.0
            self.controls[name].readout_format = ".0f"
        self.controls["V_hold"].step = 1.0
        lo, hi, step = WEIGHT_RANGES["current" if self.params.receptor == "current"
                                     else "conductance"]
        _linear(self.controls, "weight", lo, max(hi, self.params.weight), step)
        for name, w in self.controls.items():
            w.observe(self._on_receptor if name == "receptor" else self._on_value,
                      names="value")
        self._label_weight()
        self.status = W.HTML(layout=W.Layout(min_height="2.2em"))
        self.status.add_class("neurosim-status")
        self.source = ColumnDataSource(splot.empty_psp_columns(), name=SOURCE_PREFIX + "psp")
        self.arrivals = ColumnDataSource(splot.empty_arrival_columns(),
                                         name=SOURCE_PREFIX + "arrivals")
        self._layout, self.voltage_figure, self.conductance_figure, self.current_figure = \
            splot.psp_layout(self.source, self.arrivals, width=width)
        self._run(lambda: False)
        self.plot = BokehModel(self._layout)
        self.plot.add_class("neurosim-plot")
        self.plot.add_class("neurosim-psp-plot")
        box = W.VBox(list(self.controls.values()))
        self.widget = W.VBox([self.status, W.HBox([self.plot, box],
                                                  layout=W.Layout(flex_flow="row wrap"))])
        self.widget.add_class("neurosim-psp")

    def _label_weight(self) -> None:
        unit = "pA" if self.controls["receptor"].value == "current" else "nS"
        self.controls["weight"].description = f"weight ({unit})"

    def _on_receptor(self, change: dict) -> None:
        if self._hold:
            return
        self._hold = True
        try:
            w = self.controls["weight"]
            value = PANEL_WEIGHTS[change["new"]]
            lo, hi, step = WEIGHT_RANGES["current" if change["new"] == "current"
                                         else "conductance"]
            w.max = max(w.max, hi, value)
            w.step = step
            w.value = value
            w.min, w.max = lo, max(hi, value)
            self._label_weight()
        finally:
            self._hold = False
        self.update()

    def _on_value(self, change: dict) -> None:
        w = change.get("owner")
        if w is not None and w is self.controls.get("n_spikes"):
            # a slider's page keys and typed values can leave a fraction (18.1, 5.9999...);
            # a spike count is whole: snap to it (the snap's own change then runs)
            whole = float(min(max(round(w.value), w.min), w.max))
            if whole != w.value:
                w.value = whole
                return
        if not self._hold:
            self.update()

    def update(self) -> None:
        """Validate the controls' values and (re-)simulate (in the background thread if
        the panel was made with ``background=True``)."""
        try:
            params = params_from_widgets(self.params, self.controls)
        except EXPECTED_ERRORS as exc:
            self._show_error(str(exc))
            return
        self._pending = params
        self._submit_run()

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until no run is pending (for code and tests); ``False`` on timeout."""
        return self._job.wait(timeout)

    def _show_error(self, message: str) -> None:
        self.error = message
        self.status.value = rejected_html(message, self.result is not None, plots=True)

    def _run(self, stale: Callable[[], bool]) -> None:
        params = getattr(self, "_pending", self.params)
        try:
            ds = simulate_psp(params, dt=self.dt)
        except EXPECTED_ERRORS as exc:
            self._show_error(str(exc))
            return
        if stale():
            return
        self.error = None
        self.params, self.result = params, ds
        self.n_runs += 1
        self.source.data = splot.psp_columns(ds)
        self.arrivals.data = splot.arrival_columns(ds)
        self.conductance_figure.yaxis[0].axis_label = (
            "g_syn (nS)" if ds.attrs["receptor_kind"] == "conductance" else "g_syn (none)")
        self.status.value = self._summary(ds)

    @staticmethod
    def _summary(ds: xr.Dataset) -> str:
        v = ds["V"].values
        dv = v - ds.attrs["V_hold"]
        k = int(np.argmax(np.abs(dv)))
        t_peak = float(ds["time"].values[k] - ds["arrival_time"].values[0])
        rec = ds.attrs["receptor"]
        text = (f"<b>{html.escape(rec)}</b> at V<sub>hold</sub> = {ds.attrs['V_hold']:g} mV: "
                f"peak PSP <b>{dv[k]:+.2f} mV</b>, {t_peak:.1f} ms after the first arrival")
        if ds.attrs["receptor_kind"] == "conductance":
            drive = ds.attrs["E_rev"] - ds.attrs["V_hold"]
            text += f"; driving force E<sub>rev</sub> − V = {drive:+.0f} mV"
            if ds.attrs["mg_mM"] > 0:
                block = 1.0 / (1.0 + ds.attrs["mg_mM"] / 3.57
                               * math.exp(-0.062 * ds.attrs["V_hold"]))
                text += f"; Mg²⁺ block: {100 * block:.0f} % of channels open"
        rel = ds["release"].values
        if rel.size > 1:
            text += f"; last/first release {rel[-1] / rel[0]:.2f}"
        return text

    def _repr_mimebundle_(self, **kwargs: Any):
        self.plot.update_from_model(self._layout)
        return self.widget._repr_mimebundle_(**kwargs)


# -- STDP panel ------------------------------------------------------------------------------
class STDPPanel(_BackgroundRuns):
    """The STDP window of a rule and weights learning with (or without) reward.

    Parameters
    ----------
    stdp : RewardSTDPParameters, optional
        The rule (default :func:`default_stdp_params`).
    learning : LearningParameters, optional
        The demo (duration, reward schedule, inputs).
    background : bool
        Simulate in a worker thread after control changes (``False``: at once).
    width : int
        Width of each of the four figures (pixels).

    Attributes
    ----------
    result : xarray.Dataset
        The latest run: :func:`simulate_learning` plus ``window_dw (window_dt)`` (the rule's
        window) and ``pair_dw (pair_dt)`` (the measured pairs).
    stdp, learning : ParameterSet
        Their parameters.
    error : str or None
        The message of the last rejected change.
    progress : ipywidgets.FloatProgress
        Fraction of the running simulation (hidden when idle).
    stdp_controls, learning_controls : dict
        Widgets generated from the two parameter sets.

    Examples
    --------
    >>> panel = STDPPanel(learning=LearningParameters(duration=0.4), background=False)
    >>> panel.result.weight.attrs["units"], panel.result.sizes["window_dt"]
    ('uS', 400)
    >>> panel.stdp_controls["w_min"].value = 0.02     # above w_max
    >>> print(panel.error)
    RewardSTDPParameters: w_min (0.02) must not exceed w_max (0.01)
    """

    def __init__(self, stdp=None, learning: LearningParameters | None = None, *,
                 dt: float = 0.1, background: bool = True, width: int = 470):
        self.dt = float(dt)
        self.stdp = stdp if stdp is not None else default_stdp_params()
        self.learning = learning or LearningParameters()
        self.result: xr.Dataset | None = None
        self.error: str | None = None
        self.n_runs = 0
        self._job = BackgroundJob(0.3, background=background)
        self.stdp_controls = widgets_from_params(self.stdp)
        self.learning_controls = widgets_from_params(self.learning)
        _tidy_controls({**self.stdp_controls, **self.learning_controls})
        units = "uS"
        for w in self.stdp_controls.values():
            w.description = w.description.replace("(weight)", f"({units})")
        for name in ("w_min", "w_max"):  # metadata bounds are +-1e6: use a useful range
            w = self.stdp_controls[name]
            w.max, w.min, w.step = 0.05, 0.0, 0.0005
            w.readout_format = ".4f"
        for name in ("A_plus", "A_minus"):
            self.stdp_controls[name].readout_format = ".2e"
        _linear(self.stdp_controls, "tau_plus", 1.0, 100.0, 0.5)
        _linear(self.stdp_controls, "tau_minus", 1.0, 100.0, 0.5)
        _linear(self.stdp_controls, "tau_eligibility", 10.0, 5000.0, 10.0)
        for w in (*self.stdp_controls.values(), *self.learning_controls.values()):
            w.observe(self._on_value, names="value")
        self.status = W.HTML(layout=W.Layout(min_height="2.2em"))
        self.status.add_class("neurosim-status")
        self.progress = W.FloatProgress(value=0.0, min=0.0, max=1.0, description="Running",
                                        layout=W.Layout(width="400px", visibility="hidden"))
        self.progress.add_class("neurosim-progress")

        self.window_source = ColumnDataSource(splot.empty_pair_columns(),
                                              name=SOURCE_PREFIX + "window")
        self.pair_source = ColumnDataSource(splot.empty_pair_columns(),
                                            name=SOURCE_PREFIX + "pairs")
        self.weight_source = ColumnDataSource(splot.empty_weight_columns(),
                                              name=SOURCE_PREFIX + "weights")
        self.reward_source = ColumnDataSource(splot.empty_reward_columns(),
                                              name=SOURCE_PREFIX + "rewards")
        self.hist_source = ColumnDataSource(splot.empty_histogram_columns(),
                                            name=SOURCE_PREFIX + "histogram")
        self.window_figure = splot.stdp_window_figure(self.window_source, self.pair_source,
                                                      width=width)
        self.weight_figure = splot.weight_figure(self.weight_source, self.reward_source,
                                                 width=width)
        self.histogram_figure = splot.histogram_figure(self.hist_source, width=width)
        from bokeh.layouts import column

        self._layout = column(row(self.window_figure), row(self.weight_figure,
                                                           self.histogram_figure))
        self._pending = (self.stdp, self.learning)
        self._run(lambda: False)
        self.plot = BokehModel(self._layout)
        self.plot.add_class("neurosim-plot")
        self.plot.add_class("neurosim-stdp-plot")
        rule_box = W.VBox([W.HTML("<b>STDP rule</b> (the window)"),
                           *self.stdp_controls.values()])
        demo_box = W.VBox([W.HTML("<b>Learning demo</b> (40 Poisson inputs &rarr; 4 neurons)"),
                           *self.learning_controls.values()])
        self.widget = W.VBox([W.HBox([rule_box, demo_box],
                                     layout=W.Layout(flex_flow="row wrap")),
                              W.HBox([self.progress]), self.status, self.plot])
        self.widget.add_class("neurosim-stdp")

    @property
    def busy(self) -> bool:
        """Whether a run is pending or running."""
        return self._job.busy

    def _on_value(self, change: dict) -> None:
        self.update()

    def update(self) -> None:
        """Validate the controls' values and (re-)simulate (in the background thread if
        the panel was made with ``background=True``)."""
        try:
            stdp = params_from_widgets(self.stdp, self.stdp_controls)
            learning = params_from_widgets(self.learning, self.learning_controls)
        except EXPECTED_ERRORS as exc:
            self._show_error(str(exc))
            return
        self._pending = (stdp, learning)
        if self._job.background:
            self.status.value = "<i>Simulating&hellip;</i>"
        self._submit_run()

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until no run is pending (for code and tests); ``False`` on timeout."""
        return self._job.wait(timeout)

    def _show_error(self, message: str) -> None:
        self.error = message
        self.status.value = rejected_html(message, self.result is not None, plots=True)

    def _run(self, stale: Callable[[], bool]) -> None:
        stdp, learning = self._pending
        try:
            window = splot.window_columns(stdp)
            pairs = measure_pairs(stdp, dt=self.dt)
        except EXPECTED_ERRORS as exc:
            self._show_error(str(exc))
            return
        if stale():
            return
        self.window_source.data = window
        self.pair_source.data = splot.pair_columns(PAIR_DT, pairs)
        self.progress.value = 0.0
        self.progress.layout.visibility = "visible"
        started = time.perf_counter()

        def report(fraction: float, partial: xr.Dataset | None) -> bool:
            if stale():
                return True
            self.progress.value = fraction
            if partial is not None and time.perf_counter() - started > 0.5:
                self._show_learning(partial, learning, stdp)
            return False

        try:
            ds = simulate_learning(stdp, learning, dt=self.dt, progress=report)
        except EXPECTED_ERRORS as exc:
            self.progress.layout.visibility = "hidden"
            self._show_error(str(exc))
            return
        if ds is None or stale():
            return
        self.progress.layout.visibility = "hidden"
        ds = ds.assign(
            window_dw=("window_dt", window["dw"], {"units": "uS",
                                                    "long_name": "STDP window of the rule"}),
            pair_dw=("pair_dt", pairs, {"units": "uS",
                                        "long_name": "weight change measured for one pair"}))
        ds = ds.assign_coords(window_dt=("window_dt", window["dt"], {"units": "ms"}),
                              pair_dt=("pair_dt", PAIR_DT.copy(), {"units": "ms"}))
        self.error = None
        self.stdp, self.learning, self.result = stdp, learning, ds
        self.n_runs += 1
        self._show_learning(ds, learning, stdp)
        self.status.value = self._summary(ds, learning)

    def _show_learning(self, ds: xr.Dataset, learning: LearningParameters, stdp) -> None:
        self.weight_source.data = splot.weight_columns(ds)
        self.reward_source.data = splot.reward_columns(ds, y=stdp.w_max)
        self.hist_source.data = splot.histogram_columns(ds["weight"].values[-1], stdp.w_min,
                                                        stdp.w_max)

    @staticmethod
    def _summary(ds: xr.Dataset, learning: LearningParameters) -> str:
        from neurosim_nb.analysis.plasticity import plasticity_stability

        w = ds["weight"].values
        text = (f"<b>{html.escape(learning.rule)}</b>: mean weight "
                f"{w[0].mean() * 1e3:.2f} &rarr; <b>{w[-1].mean() * 1e3:.2f} nS</b> "
                f"(s.d. {w[-1].std() * 1e3:.2f} nS) in {ds.attrs['duration'] / 1000:g} s; "
                f"{ds.sizes['reward_time']} rewards; outputs fire at "
                f"{float(ds['output_rate'].mean()):.1f} Hz")
        if ds.attrs["w_max"] > ds.attrs["w_min"] and w.shape[0] >= 2:
            st = plasticity_stability(ds, w_min=ds.attrs["w_min"], w_max=ds.attrs["w_max"])
            text += (f"; {100 * float(st['fraction_near_max'][-1]):.0f} % near w_max, "
                     f"{100 * float(st['fraction_near_min'][-1]):.0f} % near w_min")
        if learning.rule == "Hebbian":
            text += " (Hebbian STDP ignores the reward)"
        return text

    def _repr_mimebundle_(self, **kwargs: Any):
        self.plot.update_from_model(self._layout)
        return self.widget._repr_mimebundle_(**kwargs)


# -- both ------------------------------------------------------------------------------------
class SynapsesPanel:
    """Synapses and plasticity: :class:`PSPPanel` and :class:`STDPPanel` in two tabs.

    Parameters
    ----------
    psp : PSPParameters, optional
    stdp : RewardSTDPParameters, optional
    learning : LearningParameters, optional
    background : bool
        Simulate in a worker thread after control changes (``False``: at once).

    Attributes
    ----------
    psp_panel, stdp_panel : PSPPanel, STDPPanel
    result : xarray.Dataset
        The latest result of the panel in the selected tab.

    Examples
    --------
    >>> panel = SynapsesPanel(learning=LearningParameters(duration=0.4), background=False)
    >>> panel.result.attrs["receptor"]
    'AMPA'
    >>> panel.tabs.selected_index = 1
    >>> "weight" in panel.result
    True
    """

    def __init__(self, psp: PSPParameters | None = None, stdp=None,
                 learning: LearningParameters | None = None, *, background: bool = True):
        self.psp_panel = PSPPanel(psp, background=background)
        self.stdp_panel = STDPPanel(stdp, learning, background=background)
        self.tabs = W.Tab(children=[self.psp_panel.widget, self.stdp_panel.widget])
        self.tabs.set_title(0, "PSPs")
        self.tabs.set_title(1, "STDP and reward")
        self.tabs.add_class("neurosim-synapses")
        self.widget = self.tabs

    @property
    def result(self) -> xr.Dataset | None:
        """The latest Dataset of the selected tab's panel."""
        return (self.psp_panel if self.tabs.selected_index in (0, None)
                else self.stdp_panel).result

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until neither sub-panel has a run pending."""
        return self.psp_panel.wait(timeout) and self.stdp_panel.wait(timeout)

    def _repr_mimebundle_(self, **kwargs: Any):
        self.psp_panel.plot.update_from_model(self.psp_panel._layout)
        self.stdp_panel.plot.update_from_model(self.stdp_panel._layout)
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return (f"SynapsesPanel(receptor={self.psp_panel.params.receptor!r}, "
                f"rule={self.stdp_panel.learning.rule!r})")

