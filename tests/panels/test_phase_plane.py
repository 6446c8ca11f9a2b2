"""PhasePlane driven from Python (no browser): the plotted data against independent values."""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import pytest
import xarray as xr

from neurosim_nb.analysis import fixed_points, nullclines
from neurosim_nb.core.neurons import model_class
from neurosim_nb.panels.phase_plane import SOURCE_PREFIX, PhasePlane, planar_families


def cols(panel: PhasePlane, role: str) -> dict[str, np.ndarray]:
    data = panel.sources[role].data
    return {k: np.asarray(v) for k, v in data.items()}


def izh_fixed_v(b: float, current: float) -> np.ndarray:
    """Roots of 0.04 v^2 + (5 - b) v + 140 + I = 0 (Izhikevich fixed points), by numpy."""
    roots = np.roots([0.04, 5.0 - b, 140.0 + current])
    return np.sort(roots[np.isreal(roots)].real)


@pytest.fixture
def izh():
    return PhasePlane("Izhikevich", "RS")


def test_planar_families_and_rejections():
    assert planar_families() == ["Izhikevich", "AdEx"]
    with pytest.raises(ValueError, match="no phase plane"):
        PhasePlane("LIF")
    with pytest.raises(ValueError, match="unknown model family"):
        PhasePlane("Hodgkin Huxley")
    with pytest.raises(ValueError, match="choose from"):
        PhasePlane("Izhikevich", "pyramidal")


def test_state_view_and_display(izh):
    p = izh
    assert isinstance(p.result, xr.Dataset) and {"V", "u"} <= set(p.result.data_vars)
    assert isinstance(p.widget, W.VBox)
    assert {s.name for s in p.sources.values()} == {
        f"{SOURCE_PREFIX}-{r}" for r in ("nullclines", "fixed_points", "trajectory", "resets",
                                         "start")}
    assert p.current_slider.description == "Current (mV/ms)" and p.current_slider.value == 0
    assert p.r0_slider.description == "Start u (mV/ms)"
    view = p._repr_mimebundle_()["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == p.widget.model_id
    assert "stable node" in p.status.value and "saddle" in p.status.value


def test_fixed_points_match_closed_form_and_lie_on_both_plotted_nullclines(izh):
    p = izh
    fp = cols(p, "fixed_points")
    b = p.params.b
    np.testing.assert_allclose(fp["V"], izh_fixed_v(b, 0.0), atol=1e-9)   # -70, -50 mV
    np.testing.assert_allclose(fp["V"], [-70.0, -50.0], atol=1e-9)
    np.testing.assert_allclose(fp["recovery"], b * fp["V"], atol=1e-9)
    assert list(fp["kind"]) == ["stable node", "saddle"]
    assert list(fp["stable"]) == [True, False]
    assert fp["fill"][0] != fp["fill"][1]
    # the same as fixed_points of the panel's parameters
    ref = fixed_points(p.params, p.current_slider.value)
    np.testing.assert_array_equal(fp["V"], ref.V.values)
    # on both plotted nullclines, interpolated between the plotted points
    nc = cols(p, "nullclines")
    dv = np.diff(nc["V"]).max()
    for v, u in zip(fp["V"], fp["recovery"], strict=True):
        slope = np.abs(np.gradient(nc["V_nullcline"], nc["V"])).max()
        assert np.interp(v, nc["V"], nc["V_nullcline"]) == pytest.approx(u, abs=slope * dv)
        assert np.interp(v, nc["V"], nc["recovery_nullcline"]) == pytest.approx(u, abs=1e-9)
    # the plotted nullclines are the model's: u = 0.04 V^2 + 5 V + 140 + I and u = b V
    np.testing.assert_allclose(nc["V_nullcline"], 0.04 * nc["V"] ** 2 + 5 * nc["V"] + 140)
    np.testing.assert_allclose(nc["recovery_nullcline"], b * nc["V"])


def test_trajectory_columns_are_the_recorded_run(izh):
    p = izh
    p.current_slider.value = 10.0
    ds = p.result
    traj = cols(p, "trajectory")
    # row 0 is the chosen start, then the recorded samples with NaN breaks at resets
    assert (traj["V"][0], traj["recovery"][0], traj["t"][0]) == (
        p.v0_slider.value, p.r0_slider.value, 0.0)
    keep = np.isfinite(traj["V"][1:])
    np.testing.assert_array_equal(traj["V"][1:][keep], ds.V.values[:, 0])
    np.testing.assert_array_equal(traj["recovery"][1:][keep], ds.u.values[:, 0])
    np.testing.assert_array_equal(traj["t"][1:][keep], ds.time.values)
    n_spikes = ds.sizes["spike"]
    assert n_spikes > 3 and (~keep).sum() == n_spikes
    # a reset path per spike: it ends on the reset line V = c with u raised by about d
    resets = cols(p, "resets")
    starts = np.flatnonzero(np.isfinite(resets["V"]) & ~np.isfinite(np.r_[np.nan,
                                                                            resets["V"][:-1]]))
    ends = np.flatnonzero(np.isfinite(resets["V"]) & ~np.isfinite(np.r_[resets["V"][1:],
                                                                          np.nan]))
    assert len(starts) == len(ends) == n_spikes
    c, d = p.params.c, p.params.d
    # the first sample after the reset to c is one step (dt = 0.1 ms) of the flow later:
    # |dV/dt| at (c, u) is below 15 mV/ms here, so V is within 1.5 mV of c
    u_end = resets["recovery"][ends]
    assert np.all(np.abs(0.04 * c * c + 5 * c + 140 - u_end + 10.0) < 15.0)
    assert np.all(np.abs(resets["V"][ends] - c) < 1.5)
    assert np.all(resets["V"][starts] > resets["V"][ends])
    np.testing.assert_allclose(resets["recovery"][ends] - resets["recovery"][starts], d,
                               atol=0.1)


def test_saddle_node_current_removes_fixed_points_with_a_message(izh):
    p = izh
    i_sn = (5.0 - p.params.b) ** 2 / 0.16 - 140.0            # closed form: 4.0 mV/ms
    assert float(p.fixed.attrs["I_saddle_node"]) == pytest.approx(i_sn)
    p.current_slider.value = round(i_sn - 0.1, 2)
    assert len(p.sources["fixed_points"].data["V"]) == 2
    np.testing.assert_allclose(p.sources["fixed_points"].data["V"],
                               izh_fixed_v(p.params.b, p.current_slider.value), atol=1e-9)
    # started on the stable node, the trajectory stays there without spiking
    with p._hold():
        p.v0_slider.value = float(p.fixed.V[0])
    p.r0_slider.value = float(p.fixed.u[0])
    assert p.result.sizes["spike"] == 0
    np.testing.assert_allclose(p.result.V.values, float(p.fixed.V[0]), atol=1e-6)
    p.current_slider.value = round(i_sn + 0.1, 2)
    assert len(p.sources["fixed_points"].data["V"]) == 0
    assert p.error is None and "No fixed point" in p.status.value
    assert "saddle-node" in p.status.value and "Traceback" not in p.status.value
    assert p.result.sizes["spike"] > 0


def test_start_point_and_duration_controls(izh):
    p = izh
    p.v0_slider.value = -50.0
    p.r0_slider.value = -15.0
    assert list(p.sources["start"].data["V"]) == [-50.0]
    traj = cols(p, "trajectory")
    assert traj["V"][0] == -50.0 and traj["recovery"][0] == -15.0
    # started above the saddle's stable manifold: the neuron fires once, then rests
    assert p.result.sizes["spike"] >= 1
    p.duration_slider.value = 500.0
    assert p.result.time.values[-1] == pytest.approx(500.0)


def test_bad_parameter_shows_message_and_keeps_plot(izh):
    p = izh
    good = p.result
    before = cols(p, "trajectory")["V"].copy()
    p.controls["c"].value = 30.0                # reset at the spike cut-off
    assert p.error is not None and "must be below v_peak" in p.status.value
    assert p.result is good
    np.testing.assert_array_equal(cols(p, "trajectory")["V"], before)
    p.controls["c"].value = -50.0
    assert p.error is None and p.params.c == -50.0


def test_adex_phase_plane(izh):
    p = izh
    p.family_dropdown.value = "AdEx"
    assert p.family == "AdEx" and p.error is None and "w" in p.result
    assert p.current_slider.description == "Current (nA)"
    assert p.phase_figure.yaxis[0].axis_label == "Recovery variable w (nA)"
    for preset in ("tonic", "adapting"):
        p.preset_dropdown.value = preset
        p.current_slider.value = 0.1
        fp = cols(p, "fixed_points")
        ref = fixed_points(model_class("AdEx").presets()[preset], 0.1)
        np.testing.assert_allclose(fp["V"], ref.V.values)
        nc = cols(p, "nullclines")
        ref_nc = nullclines(p.params, 0.1, V_range=(nc["V"][0], nc["V"][-1]),
                            n_points=len(nc["V"]))
        np.testing.assert_allclose(nc["V_nullcline"], ref_nc.V_nullcline.values)
        # the w-nullcline is w = a (V - E_L): checked against the formula itself
        np.testing.assert_allclose(nc["recovery_nullcline"],
                                   p.params.a * (nc["V"] - p.params.E_L))
        for v, w in zip(fp["V"], fp["recovery"], strict=True):
            assert np.interp(v, nc["V"], nc["recovery_nullcline"]) == pytest.approx(w, abs=1e-9)
        traj = cols(p, "trajectory")
        np.testing.assert_array_equal(traj["recovery"][1:][np.isfinite(traj["V"][1:])],
                                      p.result.w.values[:, 0])
    p.current_slider.value = p.current_slider.max
    assert len(p.sources["fixed_points"].data["V"]) == 0 and "No fixed point" in p.status.value


def test_every_preset_runs_and_ranges_show_the_trajectory():
    p = PhasePlane("Izhikevich")
    for family in planar_families():
        p.family_dropdown.value = family
        for preset in model_class(family).presets():
            p.preset_dropdown.value = preset
            p.current_slider.value = model_class(family).demo_current(preset)
            assert p.error is None, f"{family}/{preset}: {p.error}"
            traj = cols(p, "trajectory")
            x0, x1 = p.phase_figure.x_range.start, p.phase_figure.x_range.end
            y0, y1 = p.phase_figure.y_range.start, p.phase_figure.y_range.end
            v, r = traj["V"][np.isfinite(traj["V"])], traj["recovery"][np.isfinite(traj["V"])]
            assert x0 <= v.min() and v.max() <= x1, (family, preset)
            assert y0 <= r.min() and r.max() <= y1, (family, preset)
            assert p.result.sizes["spike"] > 0, f"{family}/{preset} silent at demo current"
