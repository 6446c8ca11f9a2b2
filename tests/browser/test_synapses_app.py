"""The synapses and plasticity app under Voila, driven in headless Chromium.

Plotted data are read back from the page (BokehJS documents, ColumnDataSources by name),
never assumed from the kernel side.
"""

from __future__ import annotations

import io
import math

import pytest
from _bokeh_page import READ_SOURCE as READ
from _bokeh_page import type_into_readout

pytestmark = pytest.mark.browser

APP = "/voila/render/synapses_plasticity.ipynb"
PREFIX = "neurosim-syn-"  # synapses.SOURCE_PREFIX

#: JS: true once the source exists, is not empty and its column differs from ``prev``
CHANGED = """([name, col, prev]) => {
  const d = (READ)(name);
  if (d === null || !d[col] || d[col].length === 0) return false;
  return JSON.stringify(d[col]) !== prev;
}""".replace("READ", READ)


def read(page, source: str) -> dict:
    out = page.evaluate(READ, PREFIX + source)
    assert out is not None, f"no source {PREFIX + source} in the page"
    return out


def wait_changed(page, source: str, col: str, before: dict | None, timeout=30_000) -> dict:
    import json

    prev = json.dumps(before[col]) if before is not None else "null"
    page.wait_for_function(CHANGED, arg=[PREFIX + source, col, prev], polling=50,
                           timeout=timeout)
    return read(page, source)


def wait_until(page, source: str, condition: str, timeout=30_000) -> dict:
    """Wait until JS ``condition`` (an expression of the columns ``d``) holds."""
    js = "(name) => { const d = (" + READ + ")(name); return d !== null && (" + condition + "); }"
    page.wait_for_function(js, arg=PREFIX + source, polling=50, timeout=timeout)
    return read(page, source)


def type_into(page, scope: str, field: str, text: str) -> None:
    """Type into parameter ``field``'s slider number of the panel ``scope``."""
    type_into_readout(page, f"{scope} .neurosim-param-{field}", text)


def colours(locator) -> int:
    from PIL import Image

    img = Image.open(io.BytesIO(locator.screenshot())).convert("RGB")
    return len(img.getcolors(maxcolors=img.width * img.height))


def peak_psp(d: dict, v_hold: float) -> float:
    dv = [v - v_hold for v in d["V"]]
    return max(dv, key=abs)


def test_synapses_app(voila_server, browser_page, artifacts_dir):
    page, log = browser_page
    page.goto(voila_server.url + APP, wait_until="domcontentloaded", timeout=120_000)
    page.locator(".neurosim-psp-plot canvas").first.wait_for(state="visible", timeout=90_000)
    psp = wait_changed(page, "psp", "V", None)
    status = page.locator(".neurosim-psp .neurosim-status")

    # -- AMPA at -70 mV: a ~3.4 mV EPSP, conductance peak 5 nS --------------------------
    assert psp["V"][0] == pytest.approx(-70.0, abs=1e-6)
    assert peak_psp(psp, -70.0) == pytest.approx(3.4, abs=0.1)
    assert max(psp["g"]) == pytest.approx(5.0, rel=1e-3)
    assert "peak PSP" in status.inner_text()
    assert colours(page.locator(".neurosim-psp-plot")) > 20, "the PSP plot looks blank"

    # -- NMDA: the Mg block is relieved by depolarisation ---------------------------------
    page.locator(".neurosim-param-receptor select").select_option("NMDA")
    page.locator(".neurosim-psp .neurosim-status", has_text="NMDA").wait_for(timeout=30_000)
    nmda = read(page, "psp")
    assert max(nmda["g"]) == pytest.approx(2.5, rel=1e-3)      # NMDA's panel weight
    low = peak_psp(nmda, -70.0)
    type_into(page, ".neurosim-psp", "V_hold", "-30")
    nmda_dep = wait_until(page, "psp", "Math.abs(d.V[0] + 30) < 1e-6")
    assert peak_psp(nmda_dep, -30.0) > 2 * low > 0
    block = 1 / (1 + 1 / 3.57 * math.exp(-0.062 * -30.0))
    assert f"{100 * block:.0f} % of channels open" in status.inner_text()

    # -- a train at 50 Hz through a depressing synapse ------------------------------------
    type_into(page, ".neurosim-psp", "n_spikes", "5")
    wait_until(page, "arrivals", "d.t.length === 5")
    page.locator(".neurosim-param-short_term select").select_option("depressing")
    arr = wait_until(page, "arrivals", "d.amplitude[0] < 1")
    assert arr["amplitude"][0] == pytest.approx(0.5)
    assert arr["amplitude"][1] < arr["amplitude"][0]

    # -- a train too long: readable message, plot kept ------------------------------------
    type_into(page, ".neurosim-psp", "n_spikes", "20")
    wait_until(page, "arrivals", "d.t.length === 20")      # 950 ms at 20 Hz: allowed
    before = read(page, "psp")
    type_into(page, ".neurosim-psp", "rate", "5")
    page.locator(".neurosim-psp .neurosim-status",
                 has_text="keep the train under 1000 ms").wait_for(timeout=15_000)
    assert "Not simulated" in status.inner_text()
    page.wait_for_timeout(300)
    assert read(page, "psp")["V"] == before["V"]             # the last valid run stays
    page.screenshot(path=str(artifacts_dir / "synapses_psp_error.png"), full_page=True)
    type_into(page, ".neurosim-psp", "rate", "100")
    wait_until(page, "arrivals", "Math.abs(d.t[1] - d.t[0] - 10) < 1e-9")
    assert "Not simulated" not in status.inner_text()
    page.screenshot(path=str(artifacts_dir / "synapses_psp.png"), full_page=True)

    # -- STDP tab: the window follows A_plus ----------------------------------------------
    page.locator(".lm-TabBar-tabLabel", has_text="STDP and reward").click()
    page.locator(".neurosim-stdp-plot canvas").first.wait_for(state="visible", timeout=30_000)
    win = read(page, "window")
    at0 = [w for t, w in zip(win["dt"], win["dw"], strict=True) if t == 0]
    assert sorted(at0) == pytest.approx([-1.05e-4, 1e-4])
    type_into(page, ".neurosim-stdp", "A_plus", "0.0003")
    win2 = wait_until(page, "window", "Math.max(...d.dw) > 2e-4", timeout=30_000)
    assert max(win2["dw"]) == pytest.approx(3e-4)
    # the pairs' patch is sent right after the window's: wait for it too
    pairs = wait_until(page, "pairs", "Math.max(...d.dw) > 1.5e-4")
    i10 = pairs["dt"].index(10.0)
    assert pairs["dw"][i10] == pytest.approx(3e-4 * math.exp(-0.5), rel=1e-6)

    # -- reward: +1 raises the mean weight, -1 lowers it ---------------------------------
    weights = read(page, "weights")
    assert weights["mean"][-1] > weights["mean"][0]           # default reward +1
    type_into(page, ".neurosim-stdp", "reward", "-1")
    # wait for the punished run itself: a run started by the A_plus change may still finish
    # and be drawn first, with reward +1 (its weights go up), before "Simulating" shows
    wait_until(page, "weights", "d.mean[d.mean.length - 1] < d.mean[0]", timeout=60_000)
    page.wait_for_function("() => !document.querySelector('.neurosim-stdp .neurosim-status')"
                           ".innerText.includes('Simulating')", timeout=30_000)
    punished = read(page, "weights")
    assert punished["mean"][-1] < punished["mean"][0]
    hist = read(page, "histogram")
    assert sum(hist["count"]) > 0
    assert colours(page.locator(".neurosim-stdp-plot")) > 20, "the STDP plot looks blank"
    page.screenshot(path=str(artifacts_dir / "synapses_stdp.png"), full_page=True)

    # -- bounds the wrong way round -----------------------------------------------------
    type_into(page, ".neurosim-stdp", "w_min", "0.02")
    page.locator(".neurosim-stdp .neurosim-status",
                 has_text="must not exceed w_max").wait_for(timeout=15_000)

    # -- nothing went wrong on the way --------------------------------------------------
    assert not log.problems(), "\n".join(log.problems())
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "Error displaying widget" not in body
    assert page.locator('[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0
    server_log = voila_server.log()
    assert "Traceback" not in server_log, server_log[-4000:]
