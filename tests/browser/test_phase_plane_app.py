"""The phase-plane app under Voila, driven in headless Chromium.

The plotted data are read back from the page (``Bokeh.documents`` and the named sources
``neurosim-phase-<role>``) and checked against independent values.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from _bokeh_page import status_text, type_into_readout

pytestmark = pytest.mark.browser

APP = "/voila/render/phase_plane.ipynb"
PREFIX = "neurosim-phase"  # phase_plane.SOURCE_PREFIX

#: JS: the columns of a named source as plain arrays (NaN as null), or null if absent
READ_SOURCE = """(name) => {
  if (!window.Bokeh || !Bokeh.documents) return null;
  for (const doc of Bokeh.documents) {
    const src = doc.get_model_by_name(name);
    if (!src) continue;
    const out = {};
    for (const [k, v] of Object.entries(src.data))
      out[k] = Array.from(v, (x) => (typeof x === "number" && !Number.isFinite(x)) ? null : x);
    return out;
  }
  return null;
}"""
#: JS: true when the source has ``n`` rows in column ``col``
HAS_ROWS = ("([name, col, n]) => { const d = (READ)(name);"
            " return d !== null && d[col].length === n; }").replace("READ", READ_SOURCE)


def source(page, role: str) -> dict:
    out = page.evaluate(READ_SOURCE, f"{PREFIX}-{role}")
    assert out is not None, f"no source {PREFIX}-{role} in the page"
    return {k: (np.array([np.nan if x is None else x for x in v], float)
                if v and not isinstance(v[0], str) else v) for k, v in out.items()}


def test_phase_plane_app(voila_server, browser_page, artifacts_dir):
    page, log = browser_page
    t0 = time.perf_counter()
    page.goto(voila_server.url + APP, wait_until="domcontentloaded", timeout=120_000)
    page.locator(".neurosim-plot canvas").first.wait_for(state="visible", timeout=90_000)
    page.wait_for_function(HAS_ROWS, arg=[f"{PREFIX}-fixed_points", "V", 2], timeout=30_000)
    load_s = time.perf_counter() - t0

    # -- Izhikevich RS at I = 0: rest and threshold, closed form -------------------------
    fp = source(page, "fixed_points")
    roots = np.sort(np.roots([0.04, 5.0 - 0.2, 140.0]).real)       # b = 0.2 (RS)
    np.testing.assert_allclose(fp["V"], roots, atol=1e-9)
    assert fp["kind"] == ["stable node", "saddle"]
    nc = source(page, "nullclines")
    for v, u in zip(fp["V"], fp["recovery"], strict=True):            # on both nullclines
        assert np.interp(v, nc["V"], nc["recovery_nullcline"]) == pytest.approx(u, abs=1e-9)
        assert np.interp(v, nc["V"], nc["V_nullcline"]) == pytest.approx(u, abs=0.05)
    assert "stable node" in status_text(page)
    assert "Current (mV/ms)" in page.locator(".neurosim-current").inner_text()
    traj0 = source(page, "trajectory")
    assert traj0["V"][0] == -65.0 and np.isfinite(traj0["V"]).all()   # no reset at rest
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts_dir / "phase_plane_rest.png"), full_page=True)

    # -- raise I past the saddle-node current (4 mV/ms): no fixed point, firing ----------
    type_into_readout(page, ".neurosim-current", "10")
    page.wait_for_function(HAS_ROWS, arg=[f"{PREFIX}-fixed_points", "V", 0], timeout=20_000)
    page.locator(".neurosim-status", has_text="No fixed point").wait_for(timeout=10_000)
    assert "saddle-node" in status_text(page)
    traj = source(page, "trajectory")
    resets = source(page, "resets")
    n_breaks = int(np.isnan(traj["V"]).sum())
    assert n_breaks >= 2 and int(np.isnan(resets["V"]).sum()) == n_breaks  # a jump per spike
    assert f"{n_breaks} spikes" in status_text(page)
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts_dir / "phase_plane.png"), full_page=True)

    # -- a bad value: the message, and the plot stays -----------------------------------
    type_into_readout(page, ".neurosim-param-c", "30")
    page.locator(".neurosim-status", has_text="must be below v_peak").wait_for(timeout=10_000)
    page.wait_for_timeout(300)
    assert np.array_equal(source(page, "trajectory")["V"], traj["V"], equal_nan=True)
    page.screenshot(path=str(artifacts_dir / "phase_plane_error.png"), full_page=True)

    # -- AdEx: the recovery variable becomes w (nA) ----------------------------------------
    page.locator(".neurosim-family select").select_option("AdEx")
    page.locator(".neurosim-r0", has_text="Start w (nA)").wait_for(timeout=20_000)
    page.wait_for_function(HAS_ROWS, arg=[f"{PREFIX}-fixed_points", "V", 2], timeout=20_000)
    # the status follows the new run (it may lag the plot's data on a loaded machine)
    page.wait_for_function(
        "() => !document.querySelector('.neurosim-status').innerText.includes('Not simulated')",
        timeout=20_000)
    assert "Not simulated" not in status_text(page)

    assert not log.problems(), "\n".join(log.problems())
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "Error displaying widget" not in body
    assert page.locator('[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0
    assert "Traceback" not in voila_server.log()
    print(f"phase plane: page load to plot {load_s:.1f} s")
