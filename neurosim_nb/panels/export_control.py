"""A download control for any panel: choose a format, click the link, get the file.

:class:`ExportControl` turns a result Dataset into the bytes of a file with
:func:`neurosim_nb.export.save_result` (written to a temporary folder, read back) and
offers them as an ``<a download="name.nc" href="data:...;base64,...">`` link inside an
``ipywidgets.HTML``. That works in JupyterLab and under Voila alike (no kernel round trip
on click, no custom front-end code) and was checked in headless Chromium
(``tests/browser/test_network_apps.py``: the downloaded file loads back identical).

* **NetCDF** (``.nc``, native, lossless): ``load_simulation`` gives back the Dataset.
* **CSV** (``.zip``): the spike list ``<name>.csv`` plus one file per state variable along
  ``(time, neuron)`` (:func:`~neurosim_nb.export.save_csv`), and, for a ``V`` recorded for a
  subset of neurons along ``recorded_neuron``, ``<name>_V.csv`` (wide: one column per neuron).
* **JSON** (strict web JSON of the whole Dataset, :func:`~neurosim_nb.export.save_json`).
* **ONI** (``.oni.json``, the ONI Framework's native document) -- offered only for results
  with a ``layer`` coordinate of at most 14 layers; pass the network to
  :meth:`ExportControl.set_result` for its inter-layer weights.

The link is regenerated for the chosen format after every result (a few tens of ms for
the panels' results). Size limit: a file larger than :data:`MAX_DOWNLOAD_BYTES` (32 MiB,
about 43 MiB as base64 text in the page) is not put into the page; the control then says
so and how to save it from code (``save_result(panel.result, "run.nc")``). The network
panels keep their results small by recording ``V`` for a few neurons only.

Examples
--------
>>> from neurosim_nb import LIFNeuron
>>> ds = LIFNeuron.create_excitatory().simulate(50.0, 0.5, seed=0)
>>> ctl = ExportControl(basename="lif")
>>> ctl.set_result(ds)
>>> ctl.formats, ctl.filename
(['netcdf', 'csv', 'json'], 'lif.nc')
>>> ctl.href.startswith("data:application/x-netcdf;base64,")
True
>>> import base64, io, xarray as xr
>>> data = base64.b64decode(ctl.href.split(",", 1)[1])
>>> data == ctl.payload().data
True
"""

from __future__ import annotations

import base64
import html
import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as W
import numpy as np
import xarray as xr

__all__ = ["ExportControl", "ExportPayload", "export_bytes", "FORMAT_LABELS",
           "MAX_DOWNLOAD_BYTES", "can_export_oni"]

#: label of each format in the chooser
FORMAT_LABELS = {"netcdf": "NetCDF (.nc)", "csv": "CSV (.zip)", "json": "JSON (.json)",
                 "oni": "ONI native (.oni.json)"}
#: files larger than this are not embedded in the page
MAX_DOWNLOAD_BYTES = 32 * 2**20
_MIME = {"netcdf": "application/x-netcdf", "csv": "application/zip",
         "json": "application/json", "oni": "application/json"}
_SUFFIX = {"netcdf": ".nc", "csv": ".zip", "json": ".json", "oni": ".oni.json"}
#: errors of an export shown in the control instead of a traceback
_EXPORT_ERRORS = (ValueError, TypeError, OSError, KeyError)


@dataclass(frozen=True)
class ExportPayload:
    """A file ready to download: ``filename``, ``mime`` type and the bytes."""

    filename: str
    mime: str
    data: bytes

    @property
    def href(self) -> str:
        """The ``data:`` URL of the file."""
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


def can_export_oni(ds: xr.Dataset) -> bool:
    """Whether ``ds`` can go to the ONI export: a ``layer(neuron)`` coordinate with layers
    within 1..14 (``-1`` marks neurons outside every layer).

    >>> can_export_oni(xr.Dataset(coords={"neuron": [0, 1], "layer": ("neuron", [1, 2])}))
    True
    >>> can_export_oni(xr.Dataset(coords={"neuron": [0, 1]}))
    False
    """
    if "layer" not in ds.coords or ds["layer"].dims != ("neuron",):
        return False
    layers = np.asarray(ds["layer"].values)
    valid = layers[layers != -1]
    return bool(valid.size) and bool(((valid >= 1) & (valid <= 14)).all())


def _subset_v_csv(ds: xr.Dataset, folder: Path, stem: str) -> list[Path]:
    """``<stem>_V.csv`` for a V recorded along ``recorded_neuron`` (wide layout)."""
    from neurosim_nb.export import save_csv

    out = []
    for name, var in ds.data_vars.items():
        if var.dims != ("time", "recorded_neuron"):
            continue
        sub = xr.Dataset({name: var.rename(recorded_neuron="neuron"),
                          "spike_time": ds["spike_time"], "spike_neuron": ds["spike_neuron"]},
                         attrs=ds.attrs)
        sub = sub.drop_vars([c for c in sub.coords if c not in ("time", "neuron")])
        paths = save_csv(sub, folder / f"_{stem}_tmp.csv")
        target = folder / f"{stem}_{name}.csv"
        paths[1].rename(target)
        out.append(target)
    return out


def export_bytes(ds: xr.Dataset, fmt: str, basename: str = "neurosim_result",
                 network: Any = None) -> ExportPayload:
    """The file of ``ds`` in format ``fmt`` as bytes (see the module docstring).

    Parameters
    ----------
    ds : xarray.Dataset
    fmt : {"netcdf", "csv", "json", "oni"}
    basename : str
        File name without suffix.
    network : Network, optional
        For ``"oni"``: the simulated network (inter-layer weights).

    Raises
    ------
    ValueError
        Unknown format, or ONI for a result without layers.
    """
    from neurosim_nb.export import save_result

    if fmt not in _SUFFIX:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {list(_SUFFIX)}")
    if fmt == "oni" and not can_export_oni(ds):
        raise ValueError("the ONI export needs a layered result (layers 1..14)")
    filename = basename + _SUFFIX[fmt]
    with tempfile.TemporaryDirectory(prefix="neurosim-export-") as tmp:
        folder = Path(tmp)
        if fmt == "csv":
            paths = save_result(ds, folder / f"{basename}.csv", "csv")
            paths += _subset_v_csv(ds, folder, basename)
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for p in paths:
                    zf.write(p, arcname=p.name)
            data = buf.getvalue()
        else:
            (path,) = save_result(ds, folder / filename, fmt,
                                  network=network if fmt == "oni" else None)
            data = Path(path).read_bytes()
    return ExportPayload(filename, _MIME[fmt], data)


def _size(n: int) -> str:
    """``"12.3 kB"``-style size.

    >>> _size(512), _size(12_345), _size(3_500_000)
    ('512 B', '12.3 kB', '3.5 MB')
    """
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1e6:.1f} MB"


class ExportControl:
    """Format chooser plus a download link for the latest result of a panel.

    Parameters
    ----------
    basename : str
        Default file name (without suffix).
    formats : sequence of str
        Formats to offer (ONI only appears for layered results).
    max_bytes : int
        Files above this size are not embedded (:data:`MAX_DOWNLOAD_BYTES`).

    Attributes
    ----------
    widget : ipywidgets.HBox
        The control (chooser + link); CSS classes ``neurosim-export-format`` and
        ``neurosim-download`` (the anchor itself).
    result : xarray.Dataset or None
        The Dataset the link holds.
    error : str or None
        Why the last export failed or was refused (shown beside the chooser).
    """

    def __init__(self, basename: str = "neurosim_result",
                 formats: tuple[str, ...] = ("netcdf", "csv", "json", "oni"),
                 max_bytes: int = MAX_DOWNLOAD_BYTES):
        unknown = set(formats) - set(FORMAT_LABELS)
        if unknown:
            raise ValueError(f"unknown export formats {sorted(unknown)}; "
                             f"choose from {list(FORMAT_LABELS)}")
        self._all_formats = tuple(formats)
        self.basename = basename
        self.max_bytes = int(max_bytes)
        self.result: xr.Dataset | None = None
        self.network: Any = None
        self.error: str | None = None
        self._payload: ExportPayload | None = None
        self.format_dropdown = W.Dropdown(
            options=[(FORMAT_LABELS[f], f) for f in self._all_formats if f != "oni"],
            description="Export", style={"description_width": "50px"},
            layout=W.Layout(width="250px"))
        self.format_dropdown.add_class("neurosim-export-format")
        self.link = W.HTML("<i>no result yet</i>", layout=W.Layout(min_height="1.8em"))
        self.link.add_class("neurosim-export-link")
        self.format_dropdown.observe(lambda _change: self.refresh(), names="value")
        self.widget = W.HBox([self.format_dropdown, self.link],
                             layout=W.Layout(align_items="center"))
        self.widget.add_class("neurosim-export")

    @property
    def formats(self) -> list[str]:
        """The formats currently offered."""
        return [v for _, v in self.format_dropdown.options]

    @property
    def format(self) -> str:
        """The chosen format."""
        return self.format_dropdown.value

    @format.setter
    def format(self, fmt: str) -> None:
        self.format_dropdown.value = fmt

    @property
    def filename(self) -> str | None:
        """Name of the file the link downloads."""
        return None if self._payload is None else self._payload.filename

    @property
    def href(self) -> str | None:
        """The link's ``data:`` URL (``None`` without a result or above the limit)."""
        return None if self._payload is None else self._payload.href

    def payload(self, fmt: str | None = None) -> ExportPayload:
        """The file of the current result in ``fmt`` (default: the chosen format)."""
        if self.result is None:
            raise ValueError("no result to export yet")
        return export_bytes(self.result, fmt or self.format, self.basename, self.network)

    def set_result(self, ds: xr.Dataset, network: Any = None,
                   basename: str | None = None) -> None:
        """Offer ``ds`` (from ``network``) for download under ``basename``."""
        self.result, self.network = ds, network
        if basename is not None:
            self.basename = basename
        offered = [f for f in self._all_formats if f != "oni" or can_export_oni(ds)]
        if offered != self.formats:
            current = self.format
            self.format_dropdown.options = [(FORMAT_LABELS[f], f) for f in offered]
            self.format_dropdown.value = current if current in offered else offered[0]
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the link for the current result and format."""
        if self.result is None or self.format is None:
            return
        try:
            payload = self.payload()
        except _EXPORT_ERRORS as exc:
            self._payload, self.error = None, str(exc)
            self.link.value = ('<span style="color:#b00020">Export failed: '
                               f"{html.escape(self.error)}</span>")
            return
        if len(payload.data) > self.max_bytes:
            self._payload = None
            self.error = (f"{payload.filename} would be {_size(len(payload.data))}, more than "
                          f"the {_size(self.max_bytes)} a page link can hold; save it from "
                          f"code: neurosim_nb.export.save_result(panel.result, "
                          f"'{payload.filename}')")
            self.link.value = f'<span style="color:#b00020">{html.escape(self.error)}</span>'
            return
        self._payload, self.error = payload, None
        self.link.value = (
            f'<a class="neurosim-download" download="{html.escape(payload.filename)}" '
            f'href="{payload.href}" style="font-weight:bold">&#x2B07; Download '
            f"{html.escape(payload.filename)}</a> <span style=\"color:#666\">"
            f"({_size(len(payload.data))})</span>")

    def _repr_mimebundle_(self, **kwargs: Any):
        return self.widget._repr_mimebundle_(**kwargs)
