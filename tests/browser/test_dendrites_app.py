"""The dendrites and axons app under Voila, driven in headless Chromium.

Plotted data are read back from the page (BokehJS documents, ColumnDataSources by name),
never assumed from the kernel side. References: the compartment count of NEURON's d_lambda
rule worked out here by hand, the rest potential, the direction of attenuation, and the
cable-theory scaling of conduction velocity (bare axon ∝ √d, myelinated ∝ d).
"""

from __future__ import annotations

import math
import time

import pytest
from _bokeh_page import READ_SOURCE as READ
from _bokeh_page import type_into_readout

pytestmark = pytest.mark.browser

APP = "/voila/render/dendrites_axons.ipynb"
PREFIX = "neurosim-dend-"  # dendrites.SOURCE_PREFIX


def read(page, source: str) -> dict:
    out = page.evaluate(READ, PREFIX + source)
    assert out is not None, f"no source {PREFIX + source} in the page"
    return out


def wait_until(page, source: str, condition: str, timeout=30_000) -> dict:
    """Wait until JS ``condition`` (an expression of the columns ``d``) holds."""
    js = "(name) => { const d = (" + READ + ")(name); return d !== null && (" + condition + "); }"
    page.wait_for_function(js, arg=PREFIX + source, polling=50, timeout=timeout)
    return read(page, source)


#: JS: true once column ``col`` of the source differs from the array ``prev``
CHANGED = """([name, col, prev]) => {
  const d = (READ)(name);
  if (d === null || !d[col] || d[col].length === 0) return false;
  if (d[col].length !== prev.length) return true;
  return d[col].some((v, i) => v !== prev[i]);
}""".replace("READ", READ)


def wait_changed(page, source: str, col: str, before: dict, timeout=30_000) -> dict:
    """Wait until column ``col`` differs from ``before[col]``."""
    page.wait_for_function(CHANGED, arg=[PREFIX + source, col, before[col]], polling=50,
                           timeout=timeout)
    return read(page, source)


#: JS: viewport coordinates of the middle of row ``i``'s segment on the morphology figure
SCREEN_XY = """(i) => {
  for (const doc of Bokeh.documents) {
    const fig = doc.get_model_by_name("neurosim-dend-morphology-figure");
    if (!fig) continue;
    const view = Bokeh.index.find_one(fig);
    const d = doc.get_model_by_name("neurosim-dend-morphology").data;
    const x = 0.5 * (d.x0[i] + d.x1[i]), y = 0.5 * (d.y0[i] + d.y1[i]);
    const r = view.canvas_view.el.getBoundingClientRect();
    return [r.left + view.frame.x_scale.compute(x), r.top + view.frame.y_scale.compute(y)];
  }
  return null;
}"""


def d_lambda_nseg(length_um, diam_um, ra=100.0, cm=1.0, f=100.0, d_lambda=0.05):
    """NEURON's d_lambda rule (stdlib fixnseg.hoc): lambda_f = 1e5 sqrt(d / (4 pi f Ra cm))
    um, nseg = int((L / (d_lambda lambda_f) + 0.9) / 2) * 2 + 1."""
    lam = 1e5 * math.sqrt(diam_um / (4 * math.pi * f * ra * cm))
    return int((length_um / (d_lambda * lam) + 0.9) / 2) * 2 + 1


def test_dendrites_app(voila_server, browser_page, artifacts_dir):
    page, log = browser_page
    page.goto(voila_server.url + APP, wait_until="domcontentloaded", timeout=120_000)
    page.locator(".neurosim-dendrites-plot canvas").first.wait_for(state="visible",
                                                                   timeout=90_000)
    morph = wait_until(page, "morphology", "d.V.length > 0")
    status = page.locator(".neurosim-dendrites .neurosim-status")

    # -- one segment per compartment: NEURON's node count of the ball-and-stick -----------
    # the root node, then each section's nseg centres and its 1-end node
    n_expected = 1 + (d_lambda_nseg(20.0, 20.0) + 1) + (d_lambda_nseg(500.0, 1.0) + 1)
    assert n_expected == 41
    assert len(morph["x0"]) == len(morph["V"]) == n_expected
    assert max(morph["x1"]) == pytest.approx(510.0)        # soma radius + dendrite (um)
    assert f"({n_expected} compartments)" in status.inner_text()
    assert set(morph["section"]) == {"soma", "dend"}

    # -- the time slider recolours the cell; frame 0 is the resting cell ------------------
    shown = morph["V"]
    t0 = time.perf_counter()
    type_into_readout(page, ".neurosim-param-time", "0")
    rest = wait_changed(page, "morphology", "V", morph)
    frame_s = time.perf_counter() - t0
    assert rest["V"] != shown
    assert all(v == pytest.approx(-65.0, abs=0.5) for v in rest["V"])   # V_init -65 mV
    type_into_readout(page, ".neurosim-param-time", "30")
    later = wait_changed(page, "morphology", "V", rest)
    assert max(later["V"]) > -60.0          # 0.05 nA into the soma depolarises it

    # -- injecting at the far dendrite: a larger local response, attenuated at the soma ---
    at_soma = read(page, "traces")
    soma_peak = max(at_soma["V_soma"]) + 65.0
    t0 = time.perf_counter()
    page.locator(".neurosim-param-section select").select_option("dend")
    moved = wait_changed(page, "traces", "V_site", at_soma)
    latency_s = time.perf_counter() - t0
    type_into_readout(page, ".neurosim-param-x", "0.9")
    page.locator(".neurosim-dendrites .neurosim-status",
                 has_text="at dend(0.9)").wait_for(timeout=30_000)
    tip = read(page, "traces")
    assert tip["V_site"] != moved["V_site"] != at_soma["V_site"]
    site_peak = max(tip["V_site"]) + 65.0
    soma_from_tip = max(tip["V_soma"]) + 65.0
    assert site_peak > 2.0 * soma_from_tip > 0         # attenuated on the way to the soma
    assert soma_from_tip < soma_peak                   # same current, less at the soma
    att = read(page, "attenuation")
    assert len(att["distance"]) == n_expected
    assert max(att["dV"]) == pytest.approx(site_peak, rel=1e-6)
    assert max(att["ratio"]) == pytest.approx(1.0)         # relative to the input site
    assert att["distance"][att["ratio"].index(max(att["ratio"]))] == 0.0
    assert "attenuation" in status.inner_text()
    summ = read(page, "summation")
    assert len(summ["AB"]) == len(summ["sum"]) > 0
    # -- a tap on the cell moves the input there ---------------------------------------
    i = next(k for k, (sec, x) in enumerate(zip(morph["section"], morph["position"],
                                                  strict=True))
             if sec == "dend" and 0.3 <= x < 0.33)
    before = read(page, "traces")
    page.locator(".neurosim-dendrites-plot").scroll_into_view_if_needed()
    xy = page.evaluate(SCREEN_XY, i)
    assert xy is not None
    page.mouse.click(*xy)
    tapped = f"at dend({round(morph['position'][i], 2):g})"      # the x slider: 0.01 steps
    page.locator(".neurosim-dendrites .neurosim-status", has_text=tapped).wait_for(
        timeout=30_000)
    wait_changed(page, "traces", "V_site", before)
    assert page.locator(".neurosim-param-section select").input_value() == "dend"
    page.screenshot(path=str(artifacts_dir / "dendrites_ball_and_stick.png"), full_page=True)
    page.locator(".neurosim-dendrites-plot").screenshot(
        path=str(artifacts_dir / "dendrites_ball_and_stick_plot.png"))

    # -- an axon: velocity grows as sqrt(d) bare, as d myelinated -------------------------
    def velocity_at(diameter: str) -> float:
        type_into_readout(page, ".neurosim-param-diameter_um", diameter)
        now = wait_until(page, "velocity-now",
                         f"d.diameter.length === 1 && Math.abs(d.diameter[0] - {diameter})"
                         " < 1e-9")
        return now["velocity"][0]

    page.locator(".neurosim-param-cell select").select_option("axon (unmyelinated)")
    wait_until(page, "velocity-now", "d.diameter.length === 1", timeout=60_000)
    v1 = velocity_at("1")
    v4 = velocity_at("4")
    assert v4 > v1 > 0.3
    assert v4 / v1 == pytest.approx(2.0, rel=0.05)     # sqrt(4): cable theory
    assert f"{v4:.3g} m/s" in status.inner_text()
    sweep = read(page, "velocity")
    assert len(sweep["diameter"]) == 12
    bare = [v for v, k in zip(sweep["velocity"], sweep["kind"], strict=True)
            if k == "unmyelinated"]
    assert bare == sorted(bare)                          # faster with every doubling
    page.locator(".neurosim-param-cell select").select_option("axon (myelinated)")
    page.locator(".neurosim-dendrites .neurosim-status",
                 has_text="axon (myelinated)").wait_for(timeout=30_000)
    m4 = read(page, "velocity-now")["velocity"][0]
    m1 = velocity_at("1")
    assert m4 > m1 > v1                                 # myelin is faster
    assert m4 / m1 == pytest.approx(4.0, rel=0.05)     # about proportional to d
    page.screenshot(path=str(artifacts_dir / "dendrites_axon.png"), full_page=True)
    page.locator(".neurosim-dendrites-plot").screenshot(
        path=str(artifacts_dir / "dendrites_axon_plot.png"))
    print(f"\nbrowser latency: new frame {frame_s:.2f} s (typing included), section change "
          f"-> new trace {latency_s:.2f} s; "
          f"velocities bare {v1:.3g}/{v4:.3g} m/s, myelinated {m1:.3g}/{m4:.3g} m/s")

    # -- nothing went wrong on the way --------------------------------------------------
    assert not log.problems(), "\n".join(log.problems())
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "Error displaying widget" not in body
    assert page.locator('[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0
    server_log = voila_server.log()
    assert "Traceback" not in server_log, server_log[-4000:]
