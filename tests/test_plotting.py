"""Bokeh figure builders of neurosim_nb.plotting, tested without any widget."""

from __future__ import annotations

import json

import numpy as np
import pytest
from bokeh.models import ColumnDataSource

from neurosim_nb import plotting
from neurosim_nb.core.neurons import MODEL_FAMILIES, model_class
from neurosim_nb.core.neurons.lif import LIFNeuron
from neurosim_nb.engine.stimuli import StepCurrent


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
    values["values"].pop("V_threshold")
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
