"""The dendrites and axons panel, driven from Python (no browser; the Voila app is driven in
Chromium by ``tests/browser/test_dendrites_app.py``).

References: cable theory's steady state along a sealed dendrite (cosh), the linear sum of
two inputs, Hodgkin & Huxley's computed 18.8 m/s for the squid axon, velocity ∝ √d (bare)
and ∝ d (myelinated, the panel's axon scales every length with d).
"""

from __future__ import annotations

import numpy as np
import pytest

from neurosim_nb.panels.dendrites import (
    CELLS,
    DendritesPanel,
    _simulate_axon,
    cell_compartments,
)


@pytest.fixture(scope="module")
def panel():
    return DendritesPanel(background=False)


def test_one_segment_per_compartment_joined_to_its_parent(panel):
    comp = cell_compartments("ball-and-stick")
    d = panel.morph_source.data
    assert len(d["V"]) == comp.n == panel.result.sizes["compartment"]
    parent = np.asarray(comp.parent)
    i = np.arange(1, comp.n)
    np.testing.assert_array_equal(np.asarray(d["x0"])[i], np.asarray(d["x1"])[parent[i]])
    np.testing.assert_array_equal(np.asarray(d["x1"]), comp.x_um)


def test_time_slider_recolours_and_frame_zero_is_rest(panel):
    panel.time_slider.value = 0
    rest = np.asarray(panel.morph_source.data["V"]).copy()
    np.testing.assert_allclose(rest, -65.0, atol=0.5)        # V_init, first sample
    panel.time_slider.value = 40
    later = np.asarray(panel.morph_source.data["V"])
    assert later.max() > rest.max() + 1.0
    assert panel._now.location == pytest.approx(panel._frame_t[40])


def test_attenuation_along_the_passive_dendrite_is_the_cosh_profile():
    """Soma input, 40 ms step (4 time constants): the dendrite's profile relative to its
    base is cosh((L - x)/lambda)/cosh(L/lambda), lambda = sqrt(Rm d / 4 Ra) = 500 um
    (Rm 10 kOhm cm2, d 1 um, Ra 100 Ohm cm). Tolerance 1 %: 98 % of the steady state is
    reached and the far end lags by a few per cent of it."""
    p = DendritesPanel(background=False)
    p.controls["dur_ms"].value = 40.0
    comp = cell_compartments("ball-and-stick")
    dend = np.asarray(comp.section) == comp.section_names.index("dend")
    base = comp.locate("dend", 0.0)                 # the soma's 1-end node
    dist = comp.distance_um[dend] - comp.distance_um[base]
    dv = np.asarray(p.attenuation_source.data["dV"])
    ratio = dv[dend] / dv[base]
    lam, L = 500.0, 500.0
    np.testing.assert_allclose(ratio, np.cosh((L - dist) / lam) / np.cosh(L / lam), rtol=0.01)


def test_input_at_the_dendrite_moves_the_trace_and_is_attenuated_at_the_soma():
    p = DendritesPanel(background=False)
    soma_trace = np.asarray(p.trace_source.data["V_soma"]).copy()
    p.controls["section"].value = "dend"
    p.controls["x"].value = 0.9
    assert p.result.attrs["input_site"] == "dend(0.9)"
    site = np.asarray(p.trace_source.data["V_site"]) + 65.0
    soma = np.asarray(p.trace_source.data["V_soma"]) + 65.0
    assert site.max() > 2 * soma.max() > 0
    assert soma.max() < soma_trace.max() + 65.0
    assert "attenuation" in p.status.value
    assert p.last_run_ms < 500.0


def test_summation_on_a_passive_cell_is_sublinear_and_more_so_when_stronger():
    p = DendritesPanel(background=False)
    p.controls["input"].value = "AMPA synapse"
    p.controls["section"].value = "dend"
    p.controls["x"].value = 0.9
    p.controls["x_b"].value = 0.9          # the same site: the most sublinear case
    weak = p.summation["ratio"]
    p.controls["weight_nS"].value = 10.0
    strong = p.summation["ratio"]
    s = p.summation
    assert s["linear"] == pytest.approx(s["A"] + s["B"], rel=1e-12)
    assert strong < weak < 1.0
    cols = p.summation_source.data
    np.testing.assert_allclose(cols["sum"], np.asarray(cols["A"]) + np.asarray(cols["B"])
                               - cols["A"][0])


def test_tap_moves_the_input():
    p = DendritesPanel(background=False)
    comp = cell_compartments("ball-and-stick")
    node = comp.locate("dend", 0.3)
    p.morph_source.selected.indices = [node]
    assert p.controls["section"].value == "dend"
    assert comp.locate("dend", p.controls["x"].value) == node
    assert p.result.attrs["input_site"] == f"dend({p.controls['x'].value:g})"


def test_squid_axon_velocity_is_hodgkin_huxleys():
    """HH 1952: 18.8 m/s computed for 476 um at 18.5 degC, Ri 35.4 ohm cm. 3 %: the panel's
    coarse run (d_lambda 0.05, dt 0.01 ms)."""
    _, v = _simulate_axon("axon (unmyelinated)", 476.0)
    assert v == pytest.approx(18.8, rel=0.03)


@pytest.mark.parametrize("kind, power, tol", [
    ("axon (unmyelinated)", 0.5, 0.01),   # the cable equation is invariant in x / sqrt(d)
    ("axon (myelinated)", 1.0, 0.03),     # all lengths scale with d but the 1 um nodes
])
def test_velocity_scaling_with_diameter(kind, power, tol):
    v = [_simulate_axon(kind, d)[1] for d in (1.0, 4.0)]
    assert v[1] / v[0] == pytest.approx(4.0 ** power, rel=tol)


def test_axon_view_reports_its_velocity():
    p = DendritesPanel("axon (myelinated)", background=False)
    assert p.velocity_m_s > 1.0
    assert f"{p.velocity_m_s:.3g} m/s" in p.status.value
    assert list(p.velocity_now_source.data["diameter"]) == [1.0]
    assert len(p.velocity_source.data["velocity"]) == 12
    assert p.summation is None


def test_every_cell_runs(panel):
    for cell in CELLS:
        panel.controls["cell"].value = cell
        assert panel.error is None, panel.error
        assert len(panel.morph_source.data["V"]) == panel.result.sizes["compartment"]
    panel.controls["cell"].value = "ball-and-stick"


def test_bad_values_are_refused_with_the_allowed_ones():
    with pytest.raises(ValueError, match="cell must be one of"):
        DendritesPanel("pyramidal")
    with pytest.raises(ValueError, match="diameter_um"):
        cell_compartments("axon (myelinated)", -1.0)


def test_a_diverged_run_is_reported_in_the_status_line_and_the_plots_stay(monkeypatch):
    import neurosim_nb.panels.dendrites as dendrites
    from neurosim_nb.cable import CableDivergedError

    p = DendritesPanel("axon (unmyelinated)", background=False)
    before = dict(p.trace_source.data)

    def diverge(kind, d):
        raise CableDivergedError("the cable diverged at t = 1 ms; reduce dt_ms")

    monkeypatch.setattr(dendrites, "_simulate_axon", diverge)
    p.controls["diameter_um"].value = 2.0
    assert p.error == "the cable diverged at t = 1 ms; reduce dt_ms"
    assert "Not simulated" in p.status.value and "last valid run" in p.status.value
    assert "Traceback" not in p.status.value
    np.testing.assert_array_equal(p.trace_source.data["V_site"], before["V_site"])
