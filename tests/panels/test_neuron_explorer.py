"""NeuronExplorer and the metadata-generated controls, driven from Python (no browser)."""

from __future__ import annotations

import math
import threading
import time

import ipywidgets as W
import numpy as np
import pytest
import xarray as xr

from neurosim_nb.analysis import transfer_function
from neurosim_nb.core.neurons import MODEL_FAMILIES, model_class
from neurosim_nb.core.neurons.lif import lif_rate_closed_form
from neurosim_nb.core.neurons.registry import _BUILTIN
from neurosim_nb.panels import NeuronExplorer, available_families
from neurosim_nb.panels import neuron_explorer as ne
from neurosim_nb.panels._background import BackgroundJob
from neurosim_nb.panels.controls import (
    derived_fields,
    params_from_widgets,
    slider_range,
    widgets_from_params,
)
from neurosim_nb.params import ParameterSet, param, parameters

FAMILY_PRESETS = [(family, preset) for family in MODEL_FAMILIES
                  for preset in model_class(family).presets()]


def n_spikes(panel: NeuronExplorer) -> int:
    return int(panel.result.sizes["spike"])


def marked_spikes(panel: NeuronExplorer) -> int:
    return int(np.isfinite(np.asarray(panel.source.data["spike"], float)).sum())


@pytest.fixture
def lif_panel():
    return NeuronExplorer("LIF", "excitatory", duration=300.0)


# -- controls from metadata ------------------------------------------------------------------
@parameters
class Toy(ParameterSet):
    gain: float = param(0.5, "1", None, "dimensionless gain, no bounds")
    tau: float = param(5.0, "ms", (0.0, float("inf")), "a time constant")
    shape: str = param("box", "", None, "pulse shape", choices=("box", "ramp"))
    derived: float | None = param(None, "ms", (0.0, 10.0), "derived value", optional=True)
    per_neuron: float = param(1.0, "mV", (0.0, 2.0), "may be an array")


def test_widgets_follow_the_metadata():
    ws = widgets_from_params(Toy(per_neuron=np.array([1.0, 1.5])))
    assert list(ws) == ["gain", "tau", "shape"]          # no derived/None, no arrays
    assert isinstance(ws["gain"], W.FloatSlider) and ws["gain"].description == "gain"
    assert (ws["gain"].min, ws["gain"].max) == (-1.5, 2.5)   # infinite bounds clipped
    assert (ws["tau"].min, ws["tau"].max) == (0.0, 15.0)
    assert ws["tau"].description == "tau (ms)" and "a time constant" in ws["tau"].tooltip
    assert isinstance(ws["shape"], W.Dropdown) and ws["shape"].options == ("box", "ramp")
    assert all(not w.continuous_update for w in (ws["gain"], ws["tau"]))
    assert "neurosim-param-tau" in ws["tau"]._dom_classes


def test_slider_range_contains_the_value():
    assert slider_range(-200.0, (-100.0, 0.0)) == (-200.0, 0.0)
    lo, hi = slider_range(1e6, (0.0, math.inf))
    assert lo == 0.0 and hi == 3e6


@pytest.mark.parametrize(("family", "preset"), FAMILY_PRESETS)
def test_controls_round_trip_every_preset(family, preset):
    """Widgets built from a preset give the preset back, with values inside the ranges,
    the unit in every label and the description as tooltip."""
    base = model_class(family).presets()[preset]
    ws = widgets_from_params(base)
    info = base.field_info()
    assert ws, f"{family}/{preset}: no controls"
    for name, w in ws.items():
        assert name not in derived_fields(base)
        unit = info[name]["unit"]
        if unit not in ("", "1"):
            assert f"({unit})" in w.description
        assert info[name]["doc"] in w.tooltip
        if isinstance(w, W.FloatLogSlider):
            assert 10 ** w.min <= w.value <= 10 ** w.max
        elif isinstance(w, W.FloatSlider):
            assert w.min <= w.value <= w.max and w.step > 0
    assert params_from_widgets(base, ws) == base


def test_derived_field_follows_the_sliders():
    from neurosim_nb.core.neurons.lif import LIFParameters

    base = LIFParameters(tau_m=10.0, R_m=10.0)
    ws = widgets_from_params(base)
    assert "C_m" not in ws
    ws["tau_m"].value = 20.0
    assert params_from_widgets(base, ws).C_m == pytest.approx(2.0)


# -- the panel -------------------------------------------------------------------------------
def test_panel_state_view_and_display(lif_panel):
    p = lif_panel
    assert isinstance(p.result, xr.Dataset) and {"V", "I_ext"} <= set(p.result.data_vars)
    assert isinstance(p.widget, W.VBox)
    assert list(p.source.data["V"]) == list(p.result.V.values[:, 0])
    assert p.current_slider.description == "Current (nA)"
    assert (p.current_slider.min, p.current_slider.max) == (0.0, pytest.approx(0.9))
    assert p.current_slider.value == pytest.approx(0.3)
    bundle = p._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == p.widget.model_id
    assert "spikes</b>" in p.status.value and p.error is None


def test_display_sends_the_current_plot(lif_panel):
    """Patches sent before a view exists are lost, so displaying the panel re-serialises
    the Bokeh document: a later display shows the latest run, not the first."""
    from bokeh.core.json_encoder import serialize_json

    p = lif_panel
    first = serialize_json(p.plot.render_bundle)
    assert f'"{ne.SOURCE_NAME}"' in first
    p.current_slider.value = 0.6
    p._repr_mimebundle_()
    assert serialize_json(p.plot.render_bundle) != first


def test_more_current_gives_more_spikes_and_a_new_trace(lif_panel):
    p = lif_panel
    figure_before, source_before = p.voltage_figure, p.source
    v_before = np.array(p.source.data["V"])
    spikes_before = n_spikes(p)
    p.current_slider.value = 0.6
    assert n_spikes(p) > spikes_before
    assert marked_spikes(p) == n_spikes(p)
    assert not np.allclose(np.array(p.source.data["V"]), v_before)
    assert np.nanmax(p.source.data["I"]) == pytest.approx(0.6)
    assert f"{n_spikes(p)} spikes" in p.status.value
    # the same figure and source were updated, not re-created
    assert p.voltage_figure is figure_before and p.source is source_before
    # below rheobase ((V_threshold - V_rest) / R_m = 0.2 nA) the neuron is silent
    p.current_slider.value = 0.15
    assert n_spikes(p) == 0 and "0 spikes" in p.status.value
    assert np.max(p.result.V.values) < -50.0


def test_duration_and_parameter_sliders_resimulate(lif_panel):
    p = lif_panel
    p.duration_slider.value = 500.0
    assert float(p.result.attrs["duration"]) == pytest.approx(500.0)
    assert p.source.data["t"][-1] == pytest.approx(500.0)
    spikes = n_spikes(p)
    p.controls["t_refractory"].value = 10.0     # longer dead time -> fewer spikes
    assert p.params.t_refractory == 10.0 and n_spikes(p) < spikes
    p.reset_button.click()
    assert p.controls["t_refractory"].value == 2.0 and n_spikes(p) == spikes


def test_bad_parameter_shows_message_and_keeps_result(lif_panel):
    p = lif_panel
    good, good_params = p.result, p.params
    good_v = np.array(p.source.data["V"])
    p.controls["V_reset"].value = -45.0       # above V_threshold = -50 mV
    assert p.error is not None and "V_reset" in p.error and "V_threshold" in p.error
    assert "must be below V_threshold" in p.status.value and "Traceback" not in p.status.value
    assert p.result is good and p.params is good_params
    np.testing.assert_array_equal(np.array(p.source.data["V"]), good_v)
    # other changes keep being rejected while the combination is invalid ...
    p.current_slider.value = 0.6
    assert p.result is good and p.error is not None
    # ... and a valid value recovers, with the current chosen meanwhile
    p.controls["V_reset"].value = -55.0
    assert p.error is None and p.result is not good
    assert p.params.V_reset == -55.0 and np.nanmax(p.source.data["I"]) == pytest.approx(0.6)
    assert "Not simulated" not in p.status.value


def test_diverged_run_is_reported_not_raised(lif_panel, monkeypatch):
    from neurosim_nb.engine.simulator import SimulationDivergedError

    def diverge(*args, **kwargs):
        raise SimulationDivergedError("the state diverged; try a smaller dt")

    good = lif_panel.result
    monkeypatch.setattr(lif_panel, "simulate", diverge)
    lif_panel.current_slider.value = 0.5
    assert "try a smaller dt" in lif_panel.status.value and lif_panel.result is good


@pytest.mark.parametrize("family", list(MODEL_FAMILIES))
def test_switching_to_every_family_and_preset(family):
    cls = model_class(family)
    assert family in available_families()
    panel = NeuronExplorer("LIF", duration=200.0)
    panel.family_dropdown.value = family            # what the dropdown does
    assert panel.family == family
    assert list(panel.preset_dropdown.options) == list(cls.presets())
    for preset in cls.presets():
        panel.preset_dropdown.value = preset
        demo = cls.demo_current(preset)
        assert panel.error is None, f"{family}/{preset}: {panel.error}"
        assert panel.result.attrs["model"] == cls.__name__
        assert panel.params == cls.presets()[preset]
        assert set(panel.controls) <= set(cls.parameters_class.field_info())
        assert panel.current_slider.description == f"Current ({cls.current_units})"
        assert panel.current_slider.value == pytest.approx(demo)
        assert panel.current_slider.min <= min(0.0, demo) and panel.current_slider.max >= demo
        assert panel.current_figure.yaxis[0].axis_label == f"I ({cls.current_units})"
        assert len(panel.source.data["t"]) == panel.result.sizes["time"]
        # demo_current promises tonic firing
        assert n_spikes(panel) > 0, f"{family}/{preset} silent at {demo} {cls.current_units}"


@pytest.mark.parametrize("family", list(MODEL_FAMILIES))
def test_current_slider_direction_for_every_family(family):
    """No drive -> no spikes (for presets that rest); full slider -> at least as many
    spikes as the demo current, and the plotted trace changes."""
    cls = model_class(family)
    preset = next(iter(cls.presets()))
    panel = NeuronExplorer(family, preset, duration=300.0)
    at_demo = n_spikes(panel)
    v_demo = np.array(panel.source.data["V"])
    panel.current_slider.value = panel.current_slider.max
    assert n_spikes(panel) >= at_demo > 0
    assert not np.array_equal(np.array(panel.source.data["V"]), v_demo)
    panel.current_slider.value = 0.0
    assert n_spikes(panel) == 0, f"{family}/{preset} fires without input"


def test_unknown_family_and_preset_are_readable_errors():
    with pytest.raises(ValueError, match="unknown model family"):
        NeuronExplorer("Hodgkin Huxley")
    panel = NeuronExplorer("LIF")
    with pytest.raises(ValueError, match="choose from"):
        panel.set_model("LIF", "pyramidal")


def test_current_range_scales_with_demo_current():
    assert ne.current_range(10.0) == (0.0, 30.0, 0.2)
    lo, hi, step = ne.current_range(-0.5)
    assert (lo, hi) == (-1.5, 1.5) and step > 0


# -- input protocols -------------------------------------------------------------------------
def window(panel: NeuronExplorer) -> tuple[np.ndarray, np.ndarray]:
    """Time and current inside the input window (10 % ... 90 % of the run)."""
    t = np.asarray(panel.source.data["t"], float)
    i = np.asarray(panel.source.data["I"], float)
    d = panel.duration_slider.value
    inside = (t > 0.1 * d + 1.0) & (t < 0.9 * d - 1.0)
    return t[inside], i[inside]


def test_protocol_chooser_builds_each_input(lif_panel):
    p = lif_panel
    p.current_slider.value = 0.6
    assert p.protocol == "constant" and p.input_controls == {}
    p.protocol_dropdown.value = "pulse train"
    assert set(p.input_controls) == {"frequency_hz", "pulse_ms"}
    assert p.current_slider.description == "Pulse amplitude (nA)"
    assert p.input_controls["frequency_hz"].description == "frequency_hz (Hz)"
    p.input_controls["frequency_hz"].value = 50.0
    p.input_controls["pulse_ms"].value = 5.0
    t, i = window(p)
    assert set(np.round(np.unique(i), 9)) == {0.0, 0.6}
    assert np.mean(i > 0) == pytest.approx(5.0 / 20.0, abs=0.02)    # duty cycle 5 ms / 20 ms

    p.protocol_dropdown.value = "ramp"
    p.input_controls["start_fraction"].value = 0.5
    t, i = window(p)
    slope, icpt = np.polyfit(t, i, 1)                      # 0.3 -> 0.6 nA over 240 ms
    assert slope == pytest.approx(0.3 / 240.0, rel=0.02)
    assert np.max(np.abs(i - (slope * t + icpt))) < 1e-9
    assert p.current_slider.description == "Ramp end (nA)"

    p.protocol_dropdown.value = "noise (OU)"
    p.input_controls["sigma_fraction"].value = 1.0         # sigma = 1 x demo = 0.3 nA
    t, i = window(p)
    assert np.mean(i) == pytest.approx(0.6, abs=0.1)
    assert np.std(i) == pytest.approx(0.3, rel=0.3)
    first = np.array(p.source.data["V"])
    p.seed_box.value = 1                                    # another noise realisation
    assert not np.array_equal(np.array(p.source.data["V"]), first)

    p.protocol_dropdown.value = "Poisson kicks"
    p.current_slider.value = 0.0
    p.input_controls["rate_hz"].value = 3000.0
    p.input_controls["weight_mV"].value = 1.0
    t, i = window(p)
    assert np.all(i == 0.0) and p.current_slider.description == "Bias current (nA)"
    v = np.asarray(p.source.data["V"], float)
    # 3 kHz x 1 mV x tau_m 10 ms = 30 mV mean depolarisation: above threshold, it fires
    assert n_spikes(p) > 5 and v[:100].max() < -69.0
    assert "kicks jump V" in p.status.value


def test_bad_protocol_setting_is_a_message(lif_panel):
    p = lif_panel
    p.protocol_dropdown.value = "pulse train"
    p.input_controls["frequency_hz"].value = 100.0
    good = p.result
    p.input_controls["pulse_ms"].value = 20.0              # longer than the 10 ms period
    assert p.result is good
    assert "exceeds the period" in p.error and "exceeds the period" in p.status.value
    p.input_controls["pulse_ms"].value = 2.0
    assert p.error is None


def test_make_stimulus_rejects_unknown_protocol():
    with pytest.raises(ValueError, match="choose from"):
        ne.make_stimulus("sine", 1.0, 100.0)
    with pytest.raises(ValueError, match="unknown input protocol"):
        NeuronExplorer("LIF", protocol="sine")


# -- gating / adaptation variables -----------------------------------------------------------
@pytest.mark.parametrize(("family", "variables"), [
    ("LIF", []), ("Izhikevich", ["u"]), ("Hodgkin-Huxley", ["m", "h", "n"]),
    ("Adaptive LIF", ["w"]), ("AdEx", ["w"])])
def test_state_figure_follows_the_family(family, variables):
    p = NeuronExplorer(family, duration=100.0, background=False)
    data = p.state_source.data
    assert p.state_figure.visible == bool(variables)
    legend = [it.label.value for it in p.state_figure.legend[0].items if it.visible]
    assert legend == variables
    for k, name in enumerate(variables):
        np.testing.assert_array_equal(np.asarray(data[f"x{k}"]), p.result[name].values[:, 0])
        assert p.state_figure.renderers[k].visible
    for k in range(len(variables), 3):
        assert np.all(np.isnan(np.asarray(data[f"x{k}"], float)))
    if family == "Hodgkin-Huxley":             # gates are probabilities
        x = np.array([data["x0"], data["x1"], data["x2"]])
        assert x.min() >= 0.0 and x.max() <= 1.0
        assert p.state_figure.yaxis[0].axis_label == "m, h, n"
    if family == "AdEx":
        assert p.state_figure.yaxis[0].axis_label == "w (nA)"
        assert np.asarray(data["x0"]).max() > 0          # adaptation builds up with spikes


# -- the f-I curve -----------------------------------------------------------------------------
def fi_reference(p: NeuronExplorer, currents) -> np.ndarray:
    transient = min(ne.FI_TRANSIENT_MS, p.fi_duration / 5)
    return transfer_function(p.params, currents, duration_ms=p.fi_duration, dt=p.dt,
                             transient_ms=transient).values


def test_fi_curve_is_the_transfer_function_of_the_panel_params():
    p = NeuronExplorer("LIF", "excitatory", duration=200.0)
    assert p.wait(30.0) and p.fi_error is None
    grid = np.asarray(p.fi_source.data["I"])
    assert grid[0] == p.current_slider.min and grid[-1] == pytest.approx(p.current_slider.max)
    assert len(grid) == ne.FI_POINTS
    np.testing.assert_array_equal(np.asarray(p.fi_source.data["rate"]), fi_reference(p, grid))
    # independent: the LIF closed form, within one spike per counting window (+ dt effects)
    closed = lif_rate_closed_form(p.params, grid)
    assert np.max(np.abs(np.asarray(p.fi_source.data["rate"]) - closed)) < 0.03 * closed.max() + 2
    # the operating point sits at the slider's current
    assert list(p.fi_point_source.data["I"]) == [pytest.approx(0.3)]
    assert p.fi_point_source.data["rate"][0] == fi_reference(p, [0.3])[0]
    assert "Hz" in p.fi_status.value

    # a parameter change recomputes the curve (after the trace, in the background)
    rates_before = np.asarray(p.fi_source.data["rate"]).copy()
    p.controls["t_refractory"].value = 10.0            # at most 100 Hz now
    assert p.result.attrs["params_json"] != "" and p.params.t_refractory == 10.0
    assert p.wait(30.0)
    rates = np.asarray(p.fi_source.data["rate"])
    assert not np.array_equal(rates, rates_before) and rates.max() <= 100.0
    np.testing.assert_array_equal(rates, fi_reference(p, grid))
    # a current change moves only the operating point
    n = p.n_fi_runs
    p.current_slider.value = 0.6
    assert p.wait(30.0) and p.n_fi_runs == n + 1
    np.testing.assert_array_equal(np.asarray(p.fi_source.data["rate"]), rates)
    assert p.fi_point_source.data["rate"][0] == fi_reference(p, [0.6])[0]


def test_fi_curve_follows_the_family():
    p = NeuronExplorer("Izhikevich", "RS", duration=100.0)
    assert p.wait(30.0)
    assert p.fi_figure.xaxis[0].axis_label == "Input current (mV/ms)"
    grid = np.asarray(p.fi_source.data["I"])
    assert grid.max() == pytest.approx(30.0)
    np.testing.assert_array_equal(np.asarray(p.fi_source.data["rate"]), fi_reference(p, grid))


def test_slow_fi_curve_keeps_the_panel_responsive(monkeypatch):
    """A slow f-I computation runs in the background: the trace updates at once, a newer
    change supersedes the running computation, and only the latest result is shown."""
    p = NeuronExplorer("LIF", "excitatory", duration=200.0)
    assert p.wait(30.0)
    real = ne.transfer_function
    calls = []

    def slow(params, currents, **kw):
        calls.append(params.t_refractory)
        time.sleep(0.3)
        return real(params, currents, **kw)

    monkeypatch.setattr(ne, "transfer_function", slow)
    t0 = time.perf_counter()
    p.controls["t_refractory"].value = 5.0
    p.controls["t_refractory"].value = 8.0
    elapsed = time.perf_counter() - t0
    assert elapsed < 0.25, elapsed                          # four chunks x 0.3 s are not waited
    assert p.params.t_refractory == 8.0                     # ... but the trace is updated
    assert p.fi_busy and "computing" in p.fi_status.value
    assert p.fi_progress.layout.visibility == "visible"
    assert p.wait(30.0) and not p.fi_busy
    assert p.fi_progress.layout.visibility == "hidden"
    assert set(calls) == {8.0}                               # the 5 ms request never ran
    monkeypatch.setattr(ne, "transfer_function", real)
    np.testing.assert_array_equal(np.asarray(p.fi_source.data["rate"]),
                                  fi_reference(p, np.asarray(p.fi_source.data["I"])))


def test_background_job_supersedes_and_reports_errors():
    job = BackgroundJob(delay_s=0.0)
    seen, progress = [], []
    started = threading.Event()

    def long(progress_cb):
        started.set()
        for k in range(50):
            progress_cb(k / 50)
            time.sleep(0.01)
        return "old"

    job.submit(long, lambda r, e: seen.append(r), progress.append)
    assert started.wait(5.0)
    job.submit(lambda cb: 1 / 0, lambda r, e: seen.append(type(e).__name__))
    assert job.wait(10.0)
    assert seen == ["ZeroDivisionError"] and 0 < len(progress) < 50


def test_without_background_thread_the_first_fi_curve_is_shown():
    """background=False (the warm-up, scripts): the first f-I curve is computed inside the
    constructor, before the f-I plot widget exists; it must still reach the figure's data
    and the status line (it failed on the missing widget before, leaving both empty)."""
    p = NeuronExplorer("LIF", duration=50.0, fi_duration=100.0, background=False)
    assert p.fi is not None and p.fi_error is None
    np.testing.assert_array_equal(np.asarray(p.fi_source.data["I"], float),
                                  p.fi["current"].values)
    assert "Hz" in p.fi_status.value


# -- integration: fixed or adaptive steps ----------------------------------------------------
def lif_closed_form(p, current_nA: float, onset_ms: float) -> tuple[float, float]:
    """First spike time (ms) and interspike interval (ms) of a LIF at rest driven by a
    constant current from ``onset_ms``: t = tau ln(RI / (RI - (V_th - V_rest))), ISI =
    t_ref + tau ln((RI - (V_reset - V_rest)) / (RI - (V_th - V_rest)))."""
    drive = p.R_m * current_nA
    first = onset_ms + p.tau_m * math.log(drive / (drive - (p.V_threshold - p.V_rest)))
    isi = p.t_refractory + p.tau_m * math.log((drive - (p.V_reset - p.V_rest))
                                              / (drive - (p.V_threshold - p.V_rest)))
    return first, isi


def test_adaptive_spike_times_match_the_closed_form_to_the_readout_precision():
    """LIF excitatory at 0.3 nA from 30 ms: first spike at 30 + 20 ln 3 = 51.972 ms, ISI
    2 + 20 ln 2 = 15.863 ms. At rtol = atol = 1e-8 the adaptive times are within 1e-6 ms
    (the integrator's error at that tolerance, measured 2e-7 in notebook 09), so their
    3-decimal readout is the closed form's; the fixed step (dt 0.1) stamps the end of its
    step: 52.000."""
    p = NeuronExplorer("LIF", "excitatory", current=0.3, duration=300.0, fi_duration=200.0,
                       background=False)
    first, isi = lif_closed_form(p.params, 0.3, 30.0)
    assert p.method == "fixed" and p.tolerance_dropdown.disabled
    t_fixed = p.result.spike_time.values
    assert t_fixed[0] == pytest.approx(math.ceil(first / 0.1) * 0.1, abs=1e-9)
    assert "52.000, " in p.status.value
    assert p.integration_readout.value.endswith("3000 fixed steps of 0.1 ms</span>")

    p.tolerance_dropdown.value = 1e-8         # (disabled in the page) still fixed steps ...
    assert p.result.attrs.get("method", "fixed") == "fixed"
    p.method_dropdown.value = "adaptive"      # ... what choosing adaptive does
    ds = p.result
    assert not p.tolerance_dropdown.disabled and p.error is None
    assert (ds.attrs["method"], ds.attrs["rtol"], ds.attrs["atol"]) == ("adaptive", 1e-8, 1e-8)
    t = ds.spike_time.values
    assert t.size == t_fixed.size
    np.testing.assert_allclose(t, first + np.arange(t.size) * isi, atol=1e-6)
    assert f"spike times (ms): {first:.3f}, {first + isi:.3f}, " in p.status.value
    assert f"first spike {first - 30.0:.3f} ms after onset" in p.status.value
    assert f"ISI {isi:.3f} ms" in p.status.value
    a = ds.attrs
    assert (f"{a['n_steps_accepted']} steps ({a['n_steps_rejected']} rejected), "
            f"{a['n_rhs_evaluations']} evaluations") in p.integration_readout.value
    # the markers follow the off-grid spikes: one per spike, at the first sample after it
    assert marked_spikes(p) == t.size


def test_tolerance_trades_steps_for_accuracy():
    p = NeuronExplorer("LIF", "excitatory", current=0.3, duration=300.0, fi_duration=200.0,
                       background=False, method="adaptive", tolerance=1e-3)
    first, _ = lif_closed_form(p.params, 0.3, 30.0)
    loose = p.result
    p.tolerance_dropdown.value = 1e-8
    tight = p.result
    assert tight is not loose and tight.attrs["rtol"] == 1e-8
    assert tight.attrs["n_steps_accepted"] > loose.attrs["n_steps_accepted"]
    err = [abs(float(ds.spike_time[0]) - first) for ds in (loose, tight)]
    assert err[1] < 1e-6 < err[0]
    p.method_dropdown.value = "fixed"
    assert p.result.attrs.get("method", "fixed") == "fixed" and p.tolerance_dropdown.disabled


# the built-in families (other tests register their own models, without a form)
@pytest.mark.parametrize("family", list(_BUILTIN))
def test_every_family_runs_adaptively_in_the_panel(family):
    """Every built-in family has a continuous form; its adaptive run in the panel (rtol
    1e-6) fires the same number of spikes as a fixed run at dt = 0.01 ms (the two methods
    converge to the same solution; 0.01 ms is far below any interspike interval here)."""
    cls = model_class(family)
    preset = next(iter(cls.presets()))
    p = NeuronExplorer(family, preset, duration=200.0, fi_duration=200.0, background=False,
                       method="adaptive")
    assert not p.method_dropdown.disabled
    assert p.error is None and p.result.attrs["method"] == "adaptive"
    assert n_spikes(p) > 0 and marked_spikes(p) == n_spikes(p)
    fine = cls(p.params).simulate(200.0, ne.make_stimulus("constant", p.current_slider.value,
                                                          200.0), dt=0.01, record=(),
                                  seed=0, verbose=False)
    assert n_spikes(p) == fine.sizes["spike"]
    assert "evaluations" in p.integration_readout.value


def test_stochastic_inputs_run_adaptively():
    p = NeuronExplorer("LIF", "excitatory", duration=200.0, fi_duration=200.0,
                       background=False, protocol="Poisson kicks", method="adaptive")
    assert p.error is None and p.result.attrs["method"] == "adaptive"
    assert p.result.attrs["n_steps_accepted"] > 0
    steps = p.result.attrs["n_steps_accepted"]
    p.input_controls["rate_hz"].value = 6000.0     # every kick ends a step: more steps
    assert p.result.attrs["n_steps_accepted"] > steps


def test_a_family_without_continuous_form_disables_adaptive(monkeypatch):
    from neurosim_nb.core.neurons.adaptive_lif import AdaptiveLIFNeuron

    monkeypatch.setattr(AdaptiveLIFNeuron, "continuous", None)
    assert not ne.supports_adaptive(AdaptiveLIFNeuron)
    p = NeuronExplorer("LIF", "excitatory", duration=200.0, fi_duration=200.0,
                       background=False, method="adaptive")
    p.family_dropdown.value = "Adaptive LIF"
    assert p.method_dropdown.disabled and p.method == "fixed"
    assert p.tolerance_dropdown.disabled and "fixed steps only" in p.method_dropdown.tooltip
    assert p.error is None and p.result.attrs.get("method", "fixed") == "fixed"
    assert "fixed steps of 0.1 ms" in p.integration_readout.value
    p.family_dropdown.value = "LIF"
    assert not p.method_dropdown.disabled


def test_bad_integration_arguments_are_readable_errors():
    with pytest.raises(ValueError, match="method must be one of"):
        NeuronExplorer("LIF", method="rk4")
    with pytest.raises(ValueError, match="tolerance must be one of"):
        NeuronExplorer("LIF", tolerance=0.5)


def test_readout_helpers():
    assert ne.spike_times_text([1.23456, 2.0]) == "1.235, 2.000"
    assert ne.spike_times_text(np.arange(6.0), n=2) == "0.000, 1.000, ..."
