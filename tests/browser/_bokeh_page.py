"""Reading a Bokeh plot's data back from the page, shared by the browser tests."""

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
