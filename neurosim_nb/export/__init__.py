"""Saving, loading and exporting results and models.

NetCDF is the native format (:func:`save_simulation` / :func:`load_simulation`); NPZ, JSON
and CSV serve other tools; :class:`ONIExporter` writes the ONI Framework's format;
:func:`export_model_json` / :func:`load_model_json` keep a whole model configuration.
Every writer writes to a temporary file and renames it, so a failed write leaves nothing
half-written; every reader raises :class:`ExportError` with a readable message on a
missing, truncated or foreign file.
"""

from __future__ import annotations

from neurosim_nb._lazy import lazy_getattr

#: public name -> module that defines it
_LAZY = {
    "ExportError": "neurosim_nb.export._atomic",
    "export_model_json": "neurosim_nb.export.config",
    "load_model_json": "neurosim_nb.export.config",
    "ModelConfigError": "neurosim_nb.export.config",
    "ONIExporter": "neurosim_nb.export.oni_export",
    "ONIDataFormat": "neurosim_nb.export.oni_export",
    "ONIExportData": "neurosim_nb.export.oni_export",
    "LayerMetrics": "neurosim_nb.export.oni_export",
    "load_oni": "neurosim_nb.export.oni_export",
    "coherence_score": "neurosim_nb.export.oni_export",
}

__all__ = list(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(__all__)
