"""The neuron explorer app under Voila, driven in headless Chromium.

Everything asserted about the plot is read back from the page (BokehJS's document via
``Bokeh.documents``), not assumed from the kernel side.
"""

from __future__ import annotations

import io
import json
import math
import re
import statistics
import time

import pytest
from _bokeh_page import READ_SOURCE, status_text, type_into_readout

pytestmark = pytest.mark.browser

APP = "/voila/render/neuron_explorer.ipynb"
SOURCE = "neurosim-trace"  # name of the trace ColumnDataSource (neuron_explorer.SOURCE_NAME)
FI_SOURCE = "neurosim-fi"  # the f-I curve (neuron_explorer.FI_SOURCE_NAME)
STATE_SOURCE = "neurosim-state"  # gating / adaptation variables (STATE_SOURCE_NAME)
#: JS: true once the state source's first line holds finite values only
STATE_FINITE = """(name) => {
  if (!window.Bokeh || !Bokeh.documents) return false;
  for (const doc of Bokeh.documents) {
    const src = doc.get_model_by_name(name);
    if (src && src.data.x0 && src.data.x0.length > 0)
      return Array.from(src.data.x0).every(Number.isFinite);
  }
  return false;
}"""


#: JS: summary of the plotted trace, or null while BokehJS / the document is not there
READ_TRACE = """() => {
  if (!window.Bokeh || !Bokeh.documents) return null;
  for (const doc of Bokeh.documents) {
    const src = doc.get_model_by_name('SOURCE_NAME');
    if (!src) continue;
    const d = src.data;
    const V = Array.from(d.V || []), I = Array.from(d.I || []);
    const spikes = Array.from(d.spike || []).filter(Number.isFinite).length;
    let vsum = 0; for (const v of V) vsum += v;
    return {n: V.length, vsum: vsum, spikes: spikes, v_first: V.slice(0, 5),
            i_max: I.length ? Math.max(...I) : null,
            t_end: d.t.length ? d.t[d.t.length - 1] : null};
  }
  return null;
}""".replace("SOURCE_NAME", SOURCE)
CHANGED = "(prev) => { const r = (READ)(); return r !== null && r.vsum !== prev; }".replace(
    "READ", READ_TRACE)


def trace(page) -> dict:
    out = page.evaluate(READ_TRACE)
    assert out is not None, "no Bokeh document with the trace source in the page"
    return out


def wait_for_change(page, before: dict, timeout_ms: float = 20_000) -> tuple[dict, float]:
    """Wait until the plotted V differs from ``before``; return the new trace and the wait."""
    t0 = time.perf_counter()
    page.wait_for_function(CHANGED, arg=before["vsum"], polling=10, timeout=timeout_ms)
    return trace(page), time.perf_counter() - t0


def source(page, name: str) -> dict:
    out = page.evaluate(READ_SOURCE, name)
    assert out is not None, f"no Bokeh source {name!r} in the page"
    return out


def fi_rates_equal(page, rates: list, timeout_ms: float = 30_000) -> None:
    """Wait until the plotted f-I rates are ``rates`` (the background job has finished)."""
    try:
        _wait_fi(page, rates, timeout_ms)
    except Exception as exc:
        raise AssertionError(
            f"the page's f-I curve never became the reference: page {source(page, FI_SOURCE)}"
            f", reference {rates}, f-I status {page.locator('.neurosim-fi-status').inner_text()!r}"
        ) from exc


def _wait_fi(page, rates: list, timeout_ms: float) -> None:
    page.wait_for_function(
        ("([name, want]) => { const d = (READ)(name);"
         " return d !== null && d.rate.length === want.length &&"
         " d.rate.every((r, k) => Math.abs(r - want[k]) < 1e-9); }").replace("READ", READ_SOURCE),
        arg=[FI_SOURCE, rates], polling=50, timeout=timeout_ms)


def wait_for_status(page, text: str, timeout_ms: float = 10_000) -> str:
    """The status line once it shows ``text``: the panel sends the plot's data and the
    status as separate widget messages, so the page can draw a new run a moment before
    its status arrives (seen in a fresh-clone CI run under load)."""
    page.locator(".neurosim-status", has_text=text).wait_for(timeout=timeout_ms)
    return status_text(page)


def plot_is_drawn(page) -> int:
    """Number of distinct colours in a screenshot of the Bokeh plot (a blank one has ~1)."""
    from PIL import Image

    png = page.locator(".neurosim-plot").screenshot()
    img = Image.open(io.BytesIO(png)).convert("RGB")
    return len(img.getcolors(maxcolors=img.width * img.height))


def test_app_loads_moves_and_reports(voila_server, browser_page, artifacts_dir):
    page, log = browser_page
    t_open = time.perf_counter()
    page.goto(voila_server.url + APP, wait_until="domcontentloaded", timeout=120_000)

    # -- the plot appears with data ------------------------------------------------------
    page.locator(".neurosim-plot canvas").first.wait_for(state="visible", timeout=90_000)
    page.wait_for_function(f"() => {{ const r = ({READ_TRACE})(); return r && r.n > 0; }}",
                           timeout=30_000)
    load_s = time.perf_counter() - t_open
    start = trace(page)
    assert start["n"] == 3000 and start["spikes"] > 0, start          # 300 ms at dt 0.1
    assert start["i_max"] == pytest.approx(0.3)                        # LIF demo current
    assert start["v_first"][0] == pytest.approx(-70.0, abs=0.5)        # at rest before the step
    assert f"{start['spikes']} spikes" in status_text(page)
    assert "Current (nA)" in page.locator(".neurosim-current").inner_text()
    assert plot_is_drawn(page) > 20, "the Bokeh plot looks blank"

    # -- the f-I curve arrives from the background job: the transfer function of the
    #    preset, computed here independently (NEUROSIM_FAST: 500 ms runs, 100 ms transient)
    from neurosim_nb.analysis import transfer_function
    from neurosim_nb.core.neurons.lif import LIFNeuron
    from neurosim_nb.panels.neuron_explorer import FI_POINTS, fi_currents

    grid = fi_currents(0.0, 0.9, FI_POINTS)
    ref = transfer_function(LIFNeuron.presets()["excitatory"], grid, duration_ms=500.0,
                            transient_ms=100.0)
    # the first f-I curve of a fresh checkout includes compiling the population kernel in
    # the app's kernel (cold Numba cache, a busy CI machine: up to a minute seen)
    fi_rates_equal(page, ref.values.tolist(), timeout_ms=120_000)
    assert source(page, FI_SOURCE)["I"] == pytest.approx(grid.tolist())
    assert "Hz" in page.locator(".neurosim-fi-status").inner_text()

    # -- moving the current slider to its end changes the plotted trace ---------------------
    handle = page.locator(".neurosim-current .noUi-handle")
    handle.focus()
    page.keyboard.press("End")
    high, _ = wait_for_change(page, start)
    assert high["i_max"] == pytest.approx(0.9)                          # 3 x demo current
    assert high["spikes"] > start["spikes"], (start, high)
    assert f"{high['spikes']} spikes" in wait_for_status(page, f"{high['spikes']} spikes")

    # -- latency of single slider steps (key press -> new data in BokehJS) ----------------
    latencies = []
    current = high
    handle.focus()
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
        current, waited = wait_for_change(page, current)
        latencies.append(waited)
    assert current["i_max"] < high["i_max"]
    assert max(latencies) < 5.0, latencies

    # -- a bad value shows the readable message and leaves the plot alone ----------------
    before_bad = trace(page)
    type_into_readout(page, ".neurosim-param-V_reset", "-40")
    bad = page.locator(".neurosim-status", has_text="must be below V_threshold")
    bad.wait_for(timeout=10_000)
    assert "V_reset (-40.0 mV) must be below V_threshold (-50.0 mV)" in status_text(page)
    page.screenshot(path=str(artifacts_dir / "neuron_explorer_error.png"), full_page=True)
    page.wait_for_timeout(300)
    assert trace(page)["vsum"] == before_bad["vsum"]

    # -- a valid value recovers -------------------------------------------------------------
    type_into_readout(page, ".neurosim-param-V_reset", "-55")
    recovered, _ = wait_for_change(page, before_bad)
    assert "Not simulated" not in wait_for_status(page, f"{recovered['spikes']} spikes")
    assert recovered["spikes"] > before_bad["spikes"]       # reset closer to threshold

    # -- another input protocol: a pulse train of the same amplitude -----------------------
    page.locator(".neurosim-protocol select").select_option("pulse train")
    pulses, _ = wait_for_change(page, recovered)
    cur = source(page, SOURCE)["I"]
    on = [i for i in cur if i > 0]
    assert on and max(on) == pytest.approx(current["i_max"], abs=1e-9)
    assert len(on) == 250        # 20 Hz x 5 ms pulses in 30...270 ms: 5 pulses of 50 samples
    assert "Pulse amplitude (nA)" in page.locator(".neurosim-current").inner_text()
    assert page.locator(".neurosim-input-frequency_hz").is_visible()
    page.locator(".neurosim-protocol select").select_option("constant")
    recovered, _ = wait_for_change(page, pulses)

    # -- another model family: units, plot and gating variables follow ------------------
    page.locator(".neurosim-family select").select_option("Izhikevich")
    izh, _ = wait_for_change(page, recovered)
    assert "Current (mV/ms)" in page.locator(".neurosim-current").inner_text()
    assert izh["spikes"] > 0 and izh["i_max"] == pytest.approx(10.0)
    # the state figure's source is a second message from the kernel: wait for it (it held
    # the LIF run's NaN columns until then -- seen on a busy CI machine)
    page.wait_for_function(STATE_FINITE, arg=STATE_SOURCE, polling=10, timeout=20_000)
    u = source(page, STATE_SOURCE)["x0"]
    assert len(u) == izh["n"] and all(x == x for x in u)          # u recorded, no NaN
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts_dir / "neuron_explorer_izhikevich.png"), full_page=True)
    page.locator(".neurosim-family select").select_option("LIF")
    final, _ = wait_for_change(page, izh)
    assert final["vsum"] == pytest.approx(start["vsum"])    # back to the same first run
    page.screenshot(path=str(artifacts_dir / "neuron_explorer.png"), full_page=True)

    # -- adaptive integration: the readout appears, spikes move off the grid ---------------
    #    LIF excitatory at 0.3 nA from 30 ms: first spike at 30 + 20 ln 3 = 51.972 ms (closed
    #    form), ISI 2 + 20 ln 2 = 15.863 ms; the fixed step (dt 0.1) reports 52.000
    first, isi = 30.0 + 20.0 * math.log(3.0), 2.0 + 20.0 * math.log(2.0)
    assert "52.000, " in status_text(page)
    readout = page.locator(".neurosim-integration")
    assert "3000 fixed steps of 0.1 ms" in readout.inner_text()
    assert page.locator(".neurosim-tolerance select").is_disabled()
    page.locator(".neurosim-method select").select_option("adaptive")
    adaptive, _ = wait_for_change(page, final)
    page.locator(".neurosim-integration", has_text="rejected").wait_for(timeout=10_000)
    work = re.fullmatch(r"(\d+) steps \((\d+) rejected\), (\d+) evaluations",
                        readout.inner_text().strip())
    assert work, readout.inner_text()
    steps_1e6 = int(work[1])
    assert 0 < steps_1e6 < 3000           # far fewer than the 3000 fixed steps
    status = wait_for_status(page, f"{first:.3f}, {first + isi:.3f}")
    assert adaptive["spikes"] == final["spikes"] and f"ISI {isi:.3f} ms" in status
    assert not page.locator(".neurosim-tolerance select").is_disabled()
    page.locator(".neurosim-tolerance select").select_option("1e-8")
    page.wait_for_function(
        "(n) => { const m = document.querySelector('.neurosim-integration').innerText"
        ".match(/(\\d+) steps/); return m !== null && Number(m[1]) > n; }",
        arg=steps_1e6, timeout=10_000)              # a tighter tolerance takes more steps
    assert f"{first:.3f}, {first + isi:.3f}" in status_text(page)
    assert plot_is_drawn(page) > 20, "the Bokeh plot looks blank after the adaptive run"
    page.screenshot(path=str(artifacts_dir / "neuron_explorer_adaptive.png"), full_page=True)

    # -- nothing went wrong on the way ------------------------------------------------------
    assert not log.problems(), "\n".join(log.problems())
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "Error displaying widget" not in body
    assert page.locator('[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0
    server_log = voila_server.log()
    assert "Traceback" not in server_log, server_log[-4000:]

    report = {"page_load_to_plot_s": round(load_s, 2),
              "slider_step_to_plot_s": [round(x, 3) for x in latencies],
              "median_s": round(statistics.median(latencies), 3)}
    (artifacts_dir / "neuron_explorer_latency.json").write_text(json.dumps(report, indent=1))
    print("latency:", report)
