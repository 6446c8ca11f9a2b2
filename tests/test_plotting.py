"""Bokeh figure builders of neurosim_nb.plotting, tested without any widget."""

from __future__ import annotations

import json

import numpy as np
import pytest
from bokeh.models import ColumnDataSource

from neurosim_nb import plotting
from neurosim_nb.core.neurons import MODEL_FAMILIES, model_class
from neurosim_nb.core.neurons.lif import LIFNeuron
from neurosim_nb.stimuli import StepCurrent


@pytest.fixture(scope="module")
def lif_ds():
    stim = StepCurrent(0.4, onset_ms=20.0, duration_ms=160.0)
    return LIFNeuron.create_excitatory().simulate(200.0, stim, record=["V", "I_ext"], seed=0)


def test_voltage_columns_match_the_dataset(lif_ds):
    cols = plotting.voltage_columns(lif_ds)
    n = lif_ds.sizes["time"]
    assert {k: len(v) for k, v in cols.items()} == dict.fromkeys(["t", "V", "spike",
                                                                  "threshold"], n)
    np.testing.assert_array_equal(cols["t"], lif_ds.time.values)
    np.testing.assert_array_equal(cols["V"], lif_ds.V.values[:, 0])
    np.testing.assert_array_equal(cols["threshold"], np.full(n, -50.0))


def test_spike_markers_sit_at_spike_times_above_trace_and_threshold(lif_ds):
    cols = plotting.voltage_columns(lif_ds)
    marked = np.isfinite(cols["spike"])
    assert lif_ds.sizes["spike"] > 3
    np.testing.assert_allclose(cols["t"][marked], lif_ds.spike_time.values)
    top = max(np.max(cols["V"]), -50.0)
    np.testing.assert_allclose(cols["spike"][marked], top + plotting.SPIKE_MARKER_OFFSET)


def test_current_columns_show_the_step(lif_ds):
    cols = plotting.current_columns(lif_ds)
    t, i = cols["t"], cols["I"]
    assert np.all(i[(t > 21.0) & (t < 179.0)] == pytest.approx(0.4))
    assert np.all(i[(t < 19.0) | (t > 181.0)] == 0.0)


def test_current_columns_without_recorded_current_are_nan():
    ds = LIFNeuron().simulate(20.0, 1.0, seed=0)
    cols = plotting.current_columns(ds)
    assert len(cols["I"]) == ds.sizes["time"] and np.all(np.isnan(cols["I"]))


def test_no_threshold_parameter_gives_nan_line(lif_ds):
    values = json.loads(lif_ds.attrs["params_json"])
    values["populations"][0]["params"]["values"].pop("V_threshold")
    ds = lif_ds.assign_attrs(params_json=json.dumps(values))
    assert plotting.threshold_of(ds) is None
    assert np.all(np.isnan(plotting.voltage_columns(ds)["threshold"]))
    assert plotting.threshold_of(lif_ds.assign_attrs(params_json="not json")) is None


def test_per_neuron_threshold_is_the_recorded_neurons():
    from neurosim_nb.core.neurons.lif import LIFParameters

    params = LIFParameters(V_threshold=np.array([-50.0, -45.0]))
    ds = LIFNeuron(params, n=2).simulate(20.0, 1.0, record_neurons=[1], seed=0)
    assert plotting.threshold_of(ds) == -45.0


def test_figures_are_bound_to_the_source_and_update_in_place(lif_ds):
    source = ColumnDataSource(plotting.empty_trace_columns())
    layout, v_fig, i_fig = plotting.trace_layout(source)
    assert i_fig.x_range is v_fig.x_range
    for fig in (v_fig, i_fig):
        assert all(r.data_source is source for r in fig.renderers)
    source.data = plotting.trace_columns(lif_ds)
    assert v_fig.select_one({"name": "V"}).data_source.data["V"] is source.data["V"]
    assert len(source.data["t"]) == lif_ds.sizes["time"]


def test_axis_labels_come_from_the_dataset(lif_ds):
    assert plotting.axis_label(lif_ds.V) == "Membrane potential (mV)"
    fig = plotting.current_figure(ColumnDataSource(plotting.empty_trace_columns()))
    plotting.update_current_labels(fig, lif_ds.I_ext)
    assert fig.title.text == "External input current"
    assert fig.yaxis[0].axis_label == "I (nA)"
    v_fig = plotting.voltage_figure(ColumnDataSource(plotting.empty_trace_columns()))
    plotting.update_axis_labels(v_fig, lif_ds.V)
    assert v_fig.yaxis[0].axis_label == "Membrane potential (mV)"


def test_fi_figure_scales_to_both_curves():
    fig = plotting.fi_figure([0.0, 1.0, 2.0], [0.0, 10.0, 20.0], reference=[0.0, 11.0, 30.0])
    assert fig.y_range.end == pytest.approx(33.0)
    assert {r.name for r in fig.renderers} == {"reference", "simulated"}


@pytest.mark.parametrize("family", list(MODEL_FAMILIES))
def test_trace_columns_for_every_family(family):
    cls = model_class(family)
    preset = next(iter(cls.presets()))
    stim = StepCurrent(cls.demo_current(preset), onset_ms=10.0, duration_ms=80.0)
    ds = cls.from_preset(preset).simulate(100.0, stim, record=["V", "I_ext"], seed=0)
    cols = plotting.trace_columns(ds)
    assert len({len(v) for v in cols.values()}) == 1
    assert np.isfinite(cols["V"]).all()
    assert int(np.isfinite(cols["spike"]).sum()) == ds.sizes["spike"] > 0
    assert np.nanmax(cols["I"]) == pytest.approx(cls.demo_current(preset))
    # markers above everything else in the plot
    assert np.nanmin(cols["spike"]) > np.nanmax(cols["V"])


# -- state variables, live f-I, phase plane ---------------------------------------------------
def test_state_columns_and_figure_follow_the_recorded_variables():
    from bokeh.document import Document

    from neurosim_nb.core.neurons.hodgkin_huxley import HodgkinHuxleyNeuron
    from neurosim_nb.plotting import traces

    ds = HodgkinHuxleyNeuron().simulate(20.0, 2.0, record=["V", "m", "h", "n", "I_ext"],
                                        seed=0)
    cols = traces.state_columns(ds)
    for k, name in enumerate("mhn"):
        np.testing.assert_array_equal(cols[f"x{k}"], ds[name].values[:, 0])
    source = ColumnDataSource(traces.empty_state_columns())
    fig = traces.state_figure(source)
    doc = Document()
    doc.add_root(fig)
    events = []
    doc.on_change(events.append)
    assert traces.update_state_figure(fig, ds) == ["m", "h", "n"]
    # the legend labels are replaced (an event the browser receives), not edited in place
    assert any(getattr(e, "attr", None) == "label" for e in events)
    lif = LIFNeuron().simulate(10.0, 1.0, record=["V", "I_ext"], seed=0)
    assert traces.update_state_figure(fig, lif) == [] and not fig.visible
    assert all(np.isnan(traces.state_columns(lif)["x0"]))


def test_fi_panel_figure_is_bound_to_its_sources():
    from neurosim_nb.analysis import transfer_function
    from neurosim_nb.plotting import traces

    f = transfer_function(LIFNeuron.create_excitatory(), [0.1, 0.3, 0.5], duration_ms=300.0,
                          transient_ms=50.0)
    curve = ColumnDataSource(traces.fi_columns(f))
    point = ColumnDataSource(traces.operating_point_columns(0.3, float(f[1])))
    fig = traces.fi_panel_figure(curve, point)
    assert fig.select_one({"name": "operating_point"}).data_source is point
    assert list(curve.data["rate"]) == f.values.tolist() and curve.data["I"][2] == 0.5


def test_phase_columns_of_an_izhikevich_run():
    from neurosim_nb.core.neurons.izhikevich import IzhikevichNeuron
    from neurosim_nb.plotting import phase

    ds = IzhikevichNeuron.from_preset("RS").simulate(100.0, 10.0, record=["V", "u"], seed=0)
    traj = phase.trajectory_columns(ds)
    keep = np.isfinite(traj["V"])
    np.testing.assert_array_equal(traj["V"][keep], ds.V.values[:, 0])
    np.testing.assert_array_equal(traj["recovery"][keep], ds.u.values[:, 0])
    resets = phase.reset_columns(ds)
    n = ds.sizes["spike"]
    assert (~keep).sum() == n == np.isnan(resets["V"]).sum() and n > 2
    # each jump passes through the recorded peak (v_peak = 30 mV) and ends near c = -65 mV
    pieces = np.split(resets["V"], np.flatnonzero(np.isnan(resets["V"])) + 1)[:-1]
    assert all(30.0 in p and abs(p[-2] + 65.0) < 2.0 for p in pieces)
    x, y = phase.phase_ranges({"nullclines": {"V": [-80.0, 30.0], "V_nullcline": [0.0, 1.0],
                                              "recovery_nullcline": [0.0, 1.0]},
                               "trajectory": traj,
                               "fixed_points": {"V": [], "recovery": []}})
    assert x[0] < -80.0 and x[1] > 30.0
    assert y[0] < np.nanmin(traj["recovery"]) and y[1] > np.nanmax(traj["recovery"])
