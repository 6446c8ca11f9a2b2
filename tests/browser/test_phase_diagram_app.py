"""The Brunel phase-diagram app (widgets/phase_diagram.ipynb) under Voila, in headless
Chromium.

Everything asserted is read back from the page (BokehJS documents, named ColumnDataSources)
and compared with independent computations in this process: the shipped NetCDF for the
heat maps, ``experiments.brunel.run_brunel`` / ``brunel_point`` (no sweep, no panel) for a
clicked cell's raster and for a live diagram computed on the kernel's local Dask cluster.
"""

from __future__ import annotations

import numpy as np
import pytest
from _bokeh_page import READ_SOURCE as READ
from _bokeh_page import status_text

from neurosim_nb.experiments import brunel
from neurosim_nb.fitting.phase_diagram import load_phase_diagram
from neurosim_nb.panels.phase_diagram import RASTER_EXC, REGIME_SHORT, SOURCE_NAMES

pytestmark = pytest.mark.browser

APP = "/voila/render/phase_diagram.ipynb"

#: JS: viewport coordinates of the centre of cell i on the rate map
CELL_XY = """(i) => {
  for (const doc of Bokeh.documents) {
    const fig = doc.get_model_by_name("neurosim-phase-map-rate_hz");
    if (!fig) continue;
    const view = Bokeh.index.find_one(fig);
    const d = doc.get_model_by_name("neurosim-phase-cells").data;
    const r = view.canvas_view.el.getBoundingClientRect();
    return [r.left + view.frame.x_scale.compute(d.g[i]),
            r.top + view.frame.y_scale.compute(d.nu[i])];
  }
  return null;
}"""


def read(page, key: str) -> dict:
    out = page.evaluate(READ, SOURCE_NAMES[key])
    assert out is not None, f"no source {SOURCE_NAMES[key]} in the page"
    return out


def wait_until(page, key: str, condition: str, timeout=120_000) -> dict:
    js = "(name) => { const d = (" + READ + ")(name); return d !== null && (" + condition + "); }"
    page.wait_for_function(js, arg=SOURCE_NAMES[key], polling=100, timeout=timeout)
    return read(page, key)


def click_cell(page, cells: dict, g: float, nu: float) -> None:
    i = next(k for k, (a, b) in enumerate(zip(cells["g"], cells["nu"], strict=True))
             if a == g and b == nu)
    page.locator(".neurosim-phase-plot").scroll_into_view_if_needed()
    xy = page.evaluate(CELL_XY, i)
    assert xy is not None
    page.mouse.click(*xy)
    wait_until(page, "point", f"d.g.length === 1 && d.g[0] === {g} && d.nu[0] === {nu}")


def shown_spikes(run, n_exc: int) -> np.ndarray:
    keep = run.spike_neuron.values < min(RASTER_EXC, n_exc)
    return np.sort(run.spike_time.values[keep])


def test_phase_diagram_app(voila_server, browser_page, artifacts_dir):
    page, log = browser_page
    page.goto(voila_server.url + APP, wait_until="domcontentloaded", timeout=120_000)
    page.locator(".neurosim-phase-plot canvas").first.wait_for(state="visible",
                                                                timeout=120_000)
    shipped = load_phase_diagram()
    n = shipped.sizes["g"] * shipped.sizes["nu_ext_ratio"]

    # -- the shipped diagram: one cell per grid point, the NetCDF's values and regimes ------
    cells = wait_until(page, "cells", f"d.g.length === {n}")
    assert len(cells["rate_hz"]) == len(cells["label"]) == n
    for k, (g, nu) in enumerate(zip(cells["g"], cells["nu"], strict=True)):
        ref = shipped.sel(g=g, nu_ext_ratio=nu)
        assert cells["rate_hz"][k] == float(ref.rate_hz)
        assert cells["cv_isi"][k] == pytest.approx(float(ref.cv_isi), nan_ok=True)
        assert cells["synchrony"][k] == float(ref.synchrony)
        assert cells["regime"][k] == ref.regime.item()
        assert cells["label"][k] == REGIME_SHORT[ref.regime.item()]
    assert {"SR", "AI", "SI fast", "SI slow"} <= set(cells["regime"])
    legend = page.locator(".neurosim-regimes").inner_text()
    counts = {r: int((shipped.regime.values == r).sum()) for r in brunel.REGIMES}
    for label, regime in (("SR", "SR"), ("AI", "AI"), ("SIf (SI fast)", "SI fast"),
                          ("SIs (SI slow)", "SI slow")):
        assert f"{label}: {counts[regime]}" in legend
    assert "shipped" in status_text(page)

    # -- a click on Brunel's SI-fast point runs that network: its spikes in the raster -----
    click_cell(page, cells, 6.0, 4.0)
    point = read(page, "point")
    assert point["rate_hz"][0] == float(shipped.rate_hz.sel(g=6.0, nu_ext_ratio=4.0))
    assert point["regime"][0] == "SI fast"
    a = shipped.attrs
    run = brunel.run_brunel(6.0, 4.0, n_exc=int(a["n_exc"]), epsilon=float(a["epsilon"]),
                            duration_ms=float(a["duration_ms"]),
                            transient_ms=float(a["transient_ms"]), seed=int(a["base_seed"]))
    raster = read(page, "raster")
    blue = np.sort([t for t, c in zip(raster["t"], raster["color"], strict=True)
                    if c == "#1f4e9c"])
    np.testing.assert_array_equal(blue, shown_spikes(run, int(a["n_exc"])))
    assert "g = 6" in status_text(page)
    page.screenshot(path=str(artifacts_dir / "phase_diagram_shipped.png"), full_page=True)

    # -- a live diagram on the kernel's local Dask cluster: 2 x 2, the points' own values ---
    page.locator(".neurosim-compute button, button.neurosim-compute").first.click()
    cells = wait_until(page, "cells", "d.g.length === 4", timeout=180_000)
    page.locator(".neurosim-phase-diagram .neurosim-status",
                 has_text="computed live").wait_for(timeout=30_000)
    assert sorted(set(cells["g"])) == [3.0, 6.0] and sorted(set(cells["nu"])) == [2.0, 4.0]
    for k, (g, nu) in enumerate(zip(cells["g"], cells["nu"], strict=True)):
        m = brunel.brunel_point(g, nu, duration_ms=200.0)   # the app's NEUROSIM_FAST size
        assert cells["rate_hz"][k] == m["rate_hz"]
        assert cells["synchrony"][k] == m["synchrony"]
        assert cells["regime"][k] == brunel.classify_regime(**m)
    assert set(cells["regime"][:2]) == {"SR"}                       # g = 3
    assert page.locator(".neurosim-progress").inner_text().strip().startswith("4/4")

    # -- bad values: an error in the status line, the last diagram kept ------------------------
    box = page.locator(".neurosim-param-g-values input")
    box.fill("3, six")
    page.locator(".neurosim-compute button, button.neurosim-compute").first.click()
    page.locator(".neurosim-phase-diagram .neurosim-status",
                 has_text="not a number").wait_for(timeout=30_000)
    assert len(read(page, "cells")["g"]) == 4
    page.screenshot(path=str(artifacts_dir / "phase_diagram_live.png"), full_page=True)

    body = page.locator("body").inner_text()
    assert "Traceback" not in body
    assert not log.problems(), "\n".join(log.problems())
