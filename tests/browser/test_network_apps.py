"""The network apps (networks.ipynb, oni_model.ipynb) under Voila, driven in headless Chromium.

Plotted data are read back from the page (BokehJS documents, named ColumnDataSources), the
downloads are real browser downloads (``page.expect_download``) loaded back in Python.
"""

from __future__ import annotations

import io
import json
import statistics
import time
import zipfile

import numpy as np
import pytest
from _bokeh_page import status_text

from neurosim_nb.export import load_json, load_oni, load_simulation
from neurosim_nb.panels.export_control import FORMAT_LABELS

pytestmark = pytest.mark.browser

#: JS: summary of the named sources, or null while BokehJS / the document is not there
READ = """() => {
  if (!window.Bokeh || !Bokeh.documents) return null;
  for (const doc of Bokeh.documents) {
    const raster = doc.get_model_by_name('neurosim-raster');
    if (!raster) continue;
    const get = (n) => doc.get_model_by_name(n);
    const r = raster.data, rate = get('neurosim-rate').data, grp = get('neurosim-group-rates').data;
    const v = get('neurosim-voltages').data, hm = get('neurosim-connectivity').data;
    const oni = get('neurosim-oni-metrics');
    let tsum = 0; for (const t of r.t) tsum += t;
    return {n_spikes: r.t.length, tsum: tsum, max_neuron: Math.max(...r.neuron),
            rate: Array.from(rate.rate), group_rate: Array.from(grp.rate),
            group_label: Array.from(grp.label), v_labels: Array.from(v.label),
            v_len: v.ys.length ? v.ys[0].length : 0,
            hm_shape: hm.image.length ? Array.from(hm.image[0].shape || [hm.image[0].length]) : [],
            oni_coherence: oni ? Array.from(oni.data.coherence) : null,
            oni_sync: oni ? Array.from(oni.data.synchrony) : null};
  }
  return null;
}"""
CHANGED = "(prev) => { const r = (READ)(); return r !== null && r.tsum !== prev; }".replace(
    "READ", READ)


def plotted(page) -> dict:
    out = page.evaluate(READ)
    assert out is not None, "no Bokeh document with the raster source in the page"
    return out


def wait_for_change(page, before: dict, timeout_ms: float = 30_000) -> tuple[dict, float]:
    t0 = time.perf_counter()
    page.wait_for_function(CHANGED, arg=before["tsum"], polling=10, timeout=timeout_ms)
    return plotted(page), time.perf_counter() - t0


def open_app(page, server, name: str) -> float:
    t0 = time.perf_counter()
    page.goto(server.url + f"/voila/render/{name}", wait_until="domcontentloaded",
              timeout=120_000)
    page.locator(".neurosim-plot canvas").first.wait_for(state="visible", timeout=120_000)
    page.wait_for_function(f"() => {{ const r = ({READ})(); return r && r.n_spikes > 0; }}",
                           timeout=60_000)
    page.locator(".neurosim-download").wait_for(timeout=30_000)
    return time.perf_counter() - t0


def set_slider(page, css: str, key: str, presses: int = 1) -> None:
    handle = page.locator(f".neurosim-{css} .noUi-handle")
    handle.focus()
    for _ in range(presses):
        page.keyboard.press(key)


def type_into(page, selector: str, text: str) -> None:
    box = page.locator(f"{selector} input")
    box.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    if text:
        page.keyboard.type(text)
    page.keyboard.press("Enter")


SUFFIX = {"netcdf": ".nc", "csv": ".zip", "json": ".json", "oni": ".oni.json"}


def download(page, fmt: str, tmp_path):
    """Choose ``fmt`` in the export chooser, click the link like a user; the saved file."""
    before = page.locator(".neurosim-download").get_attribute("download")
    page.locator(".neurosim-export-format select").select_option(label=FORMAT_LABELS[fmt])
    if not before.endswith(SUFFIX[fmt]):
        page.wait_for_function(
            "(b) => { const a = document.querySelector('.neurosim-download');"
            " return a && a.getAttribute('download') !== b; }", arg=before, timeout=20_000)
    with page.expect_download(timeout=30_000) as info:
        page.locator(".neurosim-download").click()
    dl = info.value
    path = tmp_path / dl.suggested_filename
    dl.save_as(path)
    return path


def plot_colours(page) -> int:
    from PIL import Image

    png = page.locator(".neurosim-plot").screenshot()
    img = Image.open(io.BytesIO(png)).convert("RGB")
    return len(img.getcolors(maxcolors=img.width * img.height))


def assert_clean(page, log, server) -> None:
    assert not log.problems(), "\n".join(log.problems())
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "Error displaying widget" not in body
    assert page.locator('[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0
    server_log = server.log()
    assert "Traceback" not in server_log, server_log[-4000:]


def test_networks_app(voila_server, browser_page, artifacts_dir, tmp_path):
    page, log = browser_page
    load_s = open_app(page, voila_server, "networks.ipynb")
    start = plotted(page)
    assert start["group_label"] == ["exc", "inh"] and start["max_neuron"] > 900
    assert start["v_len"] == 3000 and len(start["v_labels"]) == 4       # 300 ms, 4 neurons
    assert start["hm_shape"] == [2, 2]                                    # exc/inh blocks
    assert "1000 neurons" in status_text(page)
    assert plot_colours(page) > 20, "the Bokeh plot looks blank"

    # -- g: a slider step like a user; measure control change -> new data in the page ------
    latencies = []
    current = start
    for key, n in (("ArrowLeft", 10), ("ArrowRight", 5), ("ArrowLeft", 5)):
        set_slider(page, "g", key, n)      # 10 presses = -1.0 (one report per key press)
        current, _ = wait_for_change(page, current)
        page.wait_for_function("() => !document.querySelector('.neurosim-status')"
                               ".innerText.includes('queued')", timeout=30_000)
        page.wait_for_timeout(1500)        # let the queued runs settle
        current = plotted(page)
    for _ in range(4):                     # single steps, timed
        t0 = time.perf_counter()
        set_slider(page, "g", "ArrowRight")
        current, _ = wait_for_change(page, current)
        latencies.append(time.perf_counter() - t0)
    assert max(latencies) < 3.0, latencies
    assert statistics.median(latencies) < 1.5, latencies
    assert "&" not in status_text(page)

    # -- voltage of chosen neurons ----------------------------------------------------------
    type_into(page, ".neurosim-record-v", "0, 1, 800")
    page.wait_for_function(f"() => {{ const r = ({READ})(); return r && r.v_labels.length"
                           " === 3; }", timeout=30_000)
    assert plotted(page)["v_labels"][2].startswith("neuron 800 (inh)")

    # -- a bad value: readable message, plots unchanged -------------------------------------
    before_bad = plotted(page)
    type_into(page, ".neurosim-record-v", "0, 99999")
    page.locator(".neurosim-status", has_text="does not exist").wait_for(timeout=20_000)
    assert "neuron 99999 does not exist: this network has neuron ids 0..999" in (
        status_text(page))
    page.screenshot(path=str(artifacts_dir / "networks_error.png"), full_page=True)
    assert plotted(page)["tsum"] == before_bad["tsum"]
    type_into(page, ".neurosim-record-v", "")
    page.locator(".neurosim-status", has_text="spikes").wait_for(timeout=30_000)

    # -- another network type -----------------------------------------------------------------
    page.locator(".neurosim-network select").select_option("Layered")
    layered, _ = wait_for_change(page, plotted(page))
    page.wait_for_function(f"() => {{ const r = ({READ})(); return r && r.group_label.length"
                           " === 3; }", timeout=30_000)
    layered = plotted(page)
    assert layered["group_label"] == ["L1", "L2", "L3"] and min(layered["group_rate"]) > 0
    page.locator(".neurosim-status", has_text="600 neurons").wait_for(timeout=30_000)
    page.locator(".neurosim-download[download^='layered_N600']").wait_for(timeout=30_000)
    page.screenshot(path=str(artifacts_dir / "networks.png"), full_page=True)

    # -- downloads: NetCDF loads back, CSV zip and JSON parse --------------------------------
    nc = download(page, "netcdf", tmp_path)
    assert nc.name.endswith(".nc")
    ds = load_simulation(nc)
    assert ds.sizes["spike"] == layered["n_spikes"] and ds.sizes["neuron"] == 600
    assert float(ds.spike_time.sum()) == pytest.approx(layered["tsum"])
    from neurosim_nb.core.networks.layered import layer_rates

    np.testing.assert_allclose(list(layer_rates(ds).values()), layered["group_rate"])
    zpath = download(page, "csv", tmp_path)
    with zipfile.ZipFile(zpath) as zf:
        names = zf.namelist()
        lines = zf.read(names[0]).decode().splitlines()
    # the marker line (row count + SHA-256, docs/robustness.md), the header, one row a spike
    assert lines[0].startswith(f"# neurosim_nb.csv v1 rows={layered['n_spikes']} ")
    assert len(names) == 2 and len(lines) - 2 == layered["n_spikes"]
    js = download(page, "json", tmp_path)
    assert load_json(js).sizes["spike"] == layered["n_spikes"]

    assert_clean(page, log, voila_server)
    report = {"page_load_to_plot_s": round(load_s, 2), "network": "Balanced E/I, N = 1000, "
              "300 ms", "g_step_to_new_data_in_page_s": [round(x, 3) for x in latencies],
              "median_s": round(statistics.median(latencies), 3)}
    (artifacts_dir / "networks_latency.json").write_text(json.dumps(report, indent=1))
    print("latency:", report)


def test_oni_app(voila_server, browser_page, artifacts_dir, tmp_path):
    page, log = browser_page
    open_app(page, voila_server, "oni_model.ipynb")
    start = plotted(page)
    assert len(start["group_label"]) == 14 and start["group_label"][7] == "L8 DEC"
    assert len(start["oni_coherence"]) == 14 and min(start["group_rate"]) > 0
    table = page.locator(".neurosim-oni-table").inner_text()
    assert "Meta-Cognition" in table and "Global coherence" in table
    assert page.locator(".neurosim-network").count() == 0            # type is locked
    chosen = page.locator(".neurosim-export-format select option:checked").inner_text()
    assert chosen.replace("\xa0", " ") == FORMAT_LABELS["oni"]

    set_slider(page, "rate", "ArrowRight", 20)                        # 20 Hz -> 30 Hz
    page.wait_for_timeout(500)
    faster, _ = wait_for_change(page, start)
    page.wait_for_function("() => !document.querySelector('.neurosim-status')"
                           ".innerText.includes('queued')", timeout=30_000)
    page.wait_for_timeout(1500)
    faster = plotted(page)
    assert faster["group_rate"][0] > start["group_rate"][0]             # layer 1 follows input

    # the slider's 20 key presses queue runs; the figure and the download link are two
    # updates from the kernel, so wait (up to ~30 s) until the last run reached both
    for _ in range(20):
        oni = download(page, "oni", tmp_path)
        doc = load_oni(oni)
        faster = plotted(page)
        rates = [doc["firing_statistics"]["layer_rates"][str(k)] for k in range(1, 15)]
        if np.allclose(rates, faster["group_rate"], rtol=1e-7, atol=0):
            break
        page.wait_for_timeout(1500)
    assert oni.name.endswith(".oni.json")
    assert doc["simulation"]["n_neurons"] == 655 and doc["layer_naming"] == "neurosim"
    np.testing.assert_allclose(rates, faster["group_rate"])
    np.testing.assert_allclose([doc["coherence_analysis"]["layer_synchrony"][str(k)]
                                for k in range(1, 15)], faster["oni_sync"])
    nc = download(page, "netcdf", tmp_path)
    assert load_simulation(nc).sizes["spike"] == faster["n_spikes"]
    page.screenshot(path=str(artifacts_dir / "oni_model.png"), full_page=True)
    page.locator(".neurosim-plot").screenshot(path=str(artifacts_dir / "oni_model_plots.png"))
    assert plot_colours(page) > 20
    assert_clean(page, log, voila_server)
