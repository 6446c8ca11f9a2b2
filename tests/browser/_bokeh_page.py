"""Shared by the browser tests: reading a Bokeh plot's data back from the page, the panels'
status line, and typing into a slider's number like a user."""

#: JS: the columns of a named ColumnDataSource as plain arrays, or null while it is not there
READ_SOURCE = """(name) => {
  if (!window.Bokeh || !Bokeh.documents) return null;
  for (const doc of Bokeh.documents) {
    const src = doc.get_model_by_name(name);
    if (!src) continue;
    const out = {};
    for (const [k, v] of Object.entries(src.data)) out[k] = Array.from(v);
    return out;
  }
  return null;
}"""


def status_text(page) -> str:
    """The text of the panel's status line (``.neurosim-status``)."""
    return page.locator(".neurosim-status").inner_text()


def type_into_readout(page, selector: str, text: str) -> None:
    """Edit a slider's number like a user: click it, replace the text, press Enter."""
    readout = page.locator(f"{selector} .widget-readout")
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
