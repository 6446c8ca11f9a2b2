"""The phase-diagram panel kernel-side (no browser; tests/browser drives it in Chromium).

References: the heat-map cells are the diagram's values, and the clicked cell's raster is the
standalone run of that point (experiments.brunel.run_brunel, no panel, no sweep).
"""

from __future__ import annotations

import numpy as np
import pytest

from neurosim_nb.experiments import brunel
from neurosim_nb.fitting import phase_diagram as pd
from neurosim_nb.panels import phase_diagram as pdp

SMALL = {"n_exc": 400, "duration_ms": 150.0, "transient_ms": 50.0}


@pytest.fixture(scope="module")
def diagram():
    return pd.brunel_phase_diagram([3.0, 6.0], [2.0, 4.0], client="serial", progress=False,
                                   **SMALL)


def test_cells_and_tap_raster(diagram):
    panel = pdp.PhaseDiagramPanel(diagram, background=False, client="serial")
    d = panel.cells.data
    assert len(d["g"]) == 4
    for k, (g, nu) in enumerate(zip(d["g"], d["nu"], strict=True)):
        cell = diagram.sel(g=g, nu_ext_ratio=nu)
        assert d["rate_hz"][k] == float(cell.rate_hz)
        assert d["regime"][k] == cell.regime.item()
        assert d["label"][k] == pdp.REGIME_SHORT[cell.regime.item()]
    k = d["g"].index(6.0) + d["nu"][d["g"].index(6.0):].index(4.0)
    panel.cells.selected.indices = [k]
    panel.wait(60)
    run = brunel.run_brunel(6.0, 4.0, **SMALL)
    shown = run.spike_neuron.values < pdp.RASTER_EXC
    np.testing.assert_array_equal(
        sorted(t for t, c in zip(panel.raster.data["t"], panel.raster.data["color"],
                                 strict=True) if c == "#1f4e9c"),
        np.sort(run.spike_time.values[shown]))
    assert panel.point.data["rate_hz"] == [float(diagram.rate_hz.sel(g=6.0, nu_ext_ratio=4.0))]
    assert "g = 6" in panel.raster_figure.title.text


def test_live_compute_and_errors_in_status(monkeypatch):
    panel = pdp.PhaseDiagramPanel(background=False, client="serial", n_exc=400,
                                  g_values=(3, 6), nu_values=(2,), duration_ms=100.0)
    panel.compute()
    assert len(panel.cells.data["g"]) == 2 and panel.progress.value == 1.0
    assert panel.result.attrs["n_exc"] == 400
    panel.g_box.value = "3, x"
    panel.compute()
    assert "Error" in panel.status.value and "not a number" in panel.status.value
    panel.g_box.value = "-1"
    panel.compute()
    assert "g_values must be &gt;= 0" in panel.status.value
    assert len(panel.cells.data["g"]) == 2               # the last good diagram stays
