"""Every Voila app under a random, fast sequence of control actions (issue 20: app chaos).

For each app in ``widgets/``: a seeded random sequence of 20 actions -- slider handles
pushed to their ends with the keyboard, slider numbers typed with junk ('', 'abc',
'1e999', '-5', ...), dropdown choices, toggle and push buttons, text boxes with junk, tab
switches -- sent as fast as the page takes them (no waiting for each update). Then:

* no Python traceback anywhere: no stderr output element in the page, no "Traceback" in
  the page text or in the Voila server's log, no uncaught page error;
* the page still works: one known final action changes the app's main Bokeh data source.

All apps load at once (their kernels start in parallel), then each is driven in turn.
The seed is drawn per run (new sequences each time) and printed in every failure message;
``NEUROSIM_NB_CHAOS_SEED=<seed>`` replays a run. ``NEUROSIM_NB_CHAOS_ACTIONS`` sets the
number of actions per app (default 20).

Left out of the random clicks: the phase diagram's "Compute live" (a Dask cluster run of
tens of seconds, covered by test_phase_diagram_app.py) and download links.
"""

from __future__ import annotations

import os
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import CHROMIUM, CHROMIUM_ARGS, PageLog, _on_console

# (long: python3 tasks.py test runs it in its second process)
pytestmark = [pytest.mark.browser, pytest.mark.second_process]

SEED = int(os.environ.get("NEUROSIM_NB_CHAOS_SEED", random.SystemRandom().randrange(2**32)))
N_ACTIONS = int(os.environ.get("NEUROSIM_NB_CHAOS_ACTIONS", "20"))
JUNK = ["", "abc", "1e999", "-5", "nan", "-1e9", "0", "1e9", "3.3.3", " ", "inf"]

#: JS: a fingerprint (rows and sum of every numeric column) of one named source, or null
FINGERPRINT = """(name) => {
  if (!window.Bokeh || !Bokeh.documents) return null;
  for (const doc of Bokeh.documents) {
    const src = doc.get_model_by_name(name);
    if (!src) continue;
    const parts = [];
    for (const [k, v] of Object.entries(src.data)) {
      let s = 0, n = 0;
      for (const x of Array.from(v)) {
        n += 1;
        if (typeof x === "number" && Number.isFinite(x)) s += x;
        else if (typeof x === "string") s += x.length;
      }
      parts.push(k + ":" + n + ":" + s.toPrecision(12));
    }
    return parts.sort().join("|");
  }
  return null;
}"""
#: JS: fingerprints of every named neurosim source (to see when the page has settled)
ALL_FINGERPRINTS = """() => {
  const out = [];
  if (!window.Bokeh || !Bokeh.documents) return "";
  for (const doc of Bokeh.documents)
    for (const m of doc._all_models.values())
      if (m.data && m.name && m.name.startsWith("neurosim"))
        out.push(m.name + "=" + (FP)(m.name));
  return out.sort().join("\\n");
}""".replace("FP", FINGERPRINT)
#: JS: the visible, enabled controls of the page, by kind (indices into querySelectorAll)
VISIBLE = """(selector) => Array.from(document.querySelectorAll(selector))
  .map((e, i) => [e, i]).filter(([e]) => e.offsetParent !== null && !e.disabled
     && !e.closest('.neurosim-compute, .neurosim-download'))
  .map(([e, i]) => i)"""


def _select_other(selector: str, prefer: tuple[str, ...] = ()):
    """Final action: choose another option of a dropdown (a preferred one if there)."""
    def act(page):
        box = page.locator(selector).first
        current = box.evaluate("e => e.options[e.selectedIndex]?.text ?? ''")
        options = box.evaluate("e => Array.from(e.options).map(o => o.text)")
        others = [o for o in options if o != current]
        choice = next((o for o in prefer if o in others), others[0])
        box.select_option(label=choice)
        return f"{selector} -> {choice!r} (was {current!r})"
    return act


def _valid_recording(page) -> None:
    """Junk in the 'V of neurons' box holds every run back (by design: the message says
    so and the plots keep the last valid run); a user fixes it first."""
    box = page.locator(".neurosim-record-v input").first
    box.fill("auto")
    box.press("Enter")


def _new_seed(page):
    _valid_recording(page)
    box = page.locator(".neurosim-seed input").first
    value = str(random.Random(SEED).randrange(10**6) + 1000)
    box.fill(value)
    box.press("Enter")
    return f"seed -> {value}"


def _network_type(page):
    _valid_recording(page)
    return _select_other(".neurosim-network select", ("Balanced E/I", "Layered"))(page)


def _load_shipped(page):
    page.locator(".neurosim-load-shipped button, button.neurosim-load-shipped").first.click()
    return "Load shipped diagram"


def _psp_receptor(page):
    page.locator(".lm-TabBar-tab", has_text="PSPs").first.click()
    return _select_other(".neurosim-param-receptor select", ("AMPA", "GABA_A"))(page)


def _dendrite_cell(page):
    """Another cell, then a valid input: the chaos may have left a zero current (the app
    then says "no deflection at the source" and keeps the last valid run, by design);
    a user sets a current step of 0.2 nA."""
    what = _select_other(".neurosim-param-cell select", ("ball-and-stick", "Y-branch"))(page)
    page.locator(".neurosim-param-input select").first.select_option(label="current step")
    readout = page.locator(".neurosim-param-amp_nA .widget-readout").first
    readout.click(timeout=5000)
    page.keyboard.press("Control+A")
    page.keyboard.type("0.2")
    page.keyboard.press("Enter")
    return what + ", input: a 0.2 nA current step"


@dataclass(frozen=True)
class App:
    notebook: str
    source: str          # the main figure's data source
    final: object        # page -> description of what it did
    expect_change: bool = True


APPS = [
    App("neuron_explorer", "neurosim-trace",
        _select_other(".neurosim-family select", ("LIF", "Izhikevich"))),
    App("phase_plane", "neurosim-phase-nullclines",
        _select_other(".neurosim-family select", ("Izhikevich", "AdEx"))),
    App("networks", "neurosim-raster", _network_type),
    App("oni_model", "neurosim-raster", _new_seed),
    App("synapses_plasticity", "neurosim-syn-psp", _psp_receptor),
    App("dendrites_axons", "neurosim-dend-traces", _dendrite_cell),
    # the shipped diagram may already be shown: expect its cells, not a change
    App("phase_diagram", "neurosim-phase-cells", _load_shipped, expect_change=False),
]


@pytest.fixture(scope="module")
def app_pages(voila_server, tmp_path_factory):
    """One headless Chromium, a tab per app, all loading at once (kernels in parallel)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chaos-profile")), executable_path=CHROMIUM,
            headless=True, args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1100})
        try:
            pages = {}
            for app in APPS:
                page = context.new_page()
                log = PageLog()
                page.on("console", lambda msg, log=log: _on_console(log, msg))
                page.on("pageerror", lambda err, log=log: log.page_errors.append(
                    f"page error: {err}"))
                page.goto(f"{voila_server.url}/voila/render/{app.notebook}.ipynb",
                          wait_until="commit", timeout=120_000)
                pages[app.notebook] = (page, log)
            yield pages
        finally:
            context.close()


def _pick(rng: random.Random, page, selector: str):
    idx = page.evaluate(VISIBLE, selector)
    return page.locator(selector).nth(rng.choice(idx)) if idx else None


def _chaos_step(rng: random.Random, page) -> str:
    """One random action on a visible control; returns what it did (for the message)."""
    kind = rng.choices(["slider", "readout", "select", "button", "text", "tab"],
                       weights=[4, 3, 3, 2, 2, 1])[0]
    target = None
    if kind == "slider":
        target = _pick(rng, page, ".widget-slider .noUi-handle")
        if target is not None:
            key = rng.choice(["End", "Home", "ArrowRight", "ArrowLeft", "PageUp", "PageDown"])
            target.focus(timeout=1000)
            for _ in range(rng.choice([1, 1, 3])):
                page.keyboard.press(key)
            return f"slider {key}"
    elif kind == "readout":
        target = _pick(rng, page, ".widget-slider .widget-readout")
        if target is not None:
            text = rng.choice(JUNK + ["1", "-65", "0.5", "100"])
            target.click(timeout=1000)
            page.keyboard.press("Control+A")
            page.keyboard.type(text)
            page.keyboard.press("Enter")
            return f"readout {text!r}"
    elif kind == "select":
        target = _pick(rng, page, ".widget-dropdown select")
        if target is not None:
            n = target.evaluate("e => e.options.length")
            k = rng.randrange(max(n, 1))
            target.select_option(index=k, timeout=1000)
            return f"dropdown option {k}"
    elif kind == "button":
        target = _pick(rng, page, "button.jupyter-button, .jupyter-button button")
        if target is not None:
            label = target.inner_text(timeout=1000)[:30]
            target.click(timeout=1000)
            return f"button {label!r}"
    elif kind == "text":
        target = _pick(rng, page, ".widget-text input, .widget-textarea textarea")
        if target is not None:
            text = rng.choice(JUNK + ["1, 2", "7", "a" * 200])
            target.fill(text, timeout=1000)
            target.press("Enter")
            return f"text {text[:20]!r}"
    elif kind == "tab":
        target = _pick(rng, page, ".lm-TabBar-tab")
        if target is not None:
            target.click(timeout=1000)
            return "tab"
    return f"{kind}: none visible"


def _settle(page, timeout_s: float = 45.0, quiet_s: float = 1.0) -> None:
    """Wait until no neurosim source has changed for ``quiet_s`` (the kernel caught up)."""
    deadline = time.monotonic() + timeout_s
    last, since = page.evaluate(ALL_FINGERPRINTS), time.monotonic()
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        now = page.evaluate(ALL_FINGERPRINTS)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return


def _problems(page, log: PageLog, server_log: str) -> list[str]:
    out = list(log.problems())
    stderr = page.locator('[data-mime-type="application/vnd.jupyter.stderr"]')
    if stderr.count():
        out.append("stderr output in the page:\n" + stderr.first.inner_text()[-3000:])
    body = page.locator("body").inner_text()
    if "Traceback" in body or "Error displaying widget" in body:
        i = max(body.find("Traceback"), body.find("Error displaying widget"))
        out.append("page text:\n" + body[max(0, i - 200):i + 3000])
    if "Traceback" in server_log:
        i = server_log.find("Traceback")
        out.append("voila log:\n" + server_log[i:i + 3000])
    return out


@pytest.mark.parametrize("app", APPS, ids=[a.notebook for a in APPS])
def test_app_survives_random_controls(app, app_pages, voila_server):
    page, log = app_pages[app.notebook]
    page.bring_to_front()  # the app being driven is the active tab, as for a user
    rng = random.Random(f"{SEED}-{app.notebook}")
    where = f"[{app.notebook}, NEUROSIM_NB_CHAOS_SEED={SEED}]"
    try:  # the kernels start together: on a loaded 2-core machine this takes minutes
        page.wait_for_function(f"() => ({FINGERPRINT})({app.source!r}) !== null",
                               timeout=300_000, polling=250)
    except Exception as err:  # noqa: BLE001
        raise AssertionError(f"{where} the app never showed {app.source}; status: "
                             f"{_status(page)}; page: "
                             f"{page.locator('body').inner_text()[:1500]}") from err
    _settle(page, timeout_s=20.0, quiet_s=1.0)
    log_start = len(voila_server.log())

    done: list[str] = []
    for _ in range(N_ACTIONS):
        try:
            done.append(_chaos_step(rng, page))
        except Exception as err:  # noqa: BLE001 - a control that moved away: note, go on
            done.append(f"(skipped: {type(err).__name__})")
        page.wait_for_timeout(rng.choice([0, 20, 60]))      # a fast user, not a patient one
    _settle(page)
    problems = _problems(page, log, voila_server.log()[log_start:])
    assert not problems, f"{where} after {done}:\n" + "\n".join(problems)

    # -- still alive: a known action changes the main figure's data ------------------------
    before = page.evaluate(FINGERPRINT, app.source)
    what = app.final(page)
    if app.expect_change:
        try:
            page.wait_for_function(f"(b) => {{ const f = ({FINGERPRINT})({app.source!r});"
                                   " return f !== null && f !== b; }", arg=before,
                                   timeout=60_000, polling=100)
        except Exception as err:  # noqa: BLE001
            raise AssertionError(f"{where} {what}: {app.source} did not change after the "
                                 f"chaos {done}; status: "
                                 f"{_status(page)}") from err
    else:
        _check_shipped_cells(page, where)
    _settle(page, timeout_s=20.0, quiet_s=1.0)
    problems = _problems(page, log, voila_server.log()[log_start:])
    assert not problems, f"{where} after {done} and {what}:\n" + "\n".join(problems)


def _status(page) -> str:
    texts = page.locator(".neurosim-status").all_inner_texts()
    return re.sub(r"\s+", " ", " / ".join(texts))[:500]


def _check_shipped_cells(page, where: str) -> None:
    from neurosim_nb.fitting.phase_diagram import load_phase_diagram

    shipped = load_phase_diagram()
    n = shipped.sizes["g"] * shipped.sizes["nu_ext_ratio"]
    deadline, rows = time.monotonic() + 60.0, None
    while time.monotonic() < deadline:
        fp = page.evaluate(FINGERPRINT, "neurosim-phase-cells") or ""
        rows = dict(part.split(":")[:2] for part in fp.split("|") if part).get("g")
        if rows == str(n):
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"{where}: after 'Load shipped diagram' the diagram has {rows} "
                         f"cells, not the shipped {n}; status: {_status(page)}")
