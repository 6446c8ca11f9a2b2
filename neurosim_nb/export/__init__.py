"""Saving, loading and exporting results and models.

NetCDF is the native format (:func:`save_simulation` / :func:`load_simulation`); NPZ, JSON
and CSV serve other tools; :class:`ONIExporter` writes the ONI Framework's format;
:func:`export_model_json` / :func:`load_model_json` keep a whole model configuration;
:func:`to_neo` / :func:`save_nwb` hand results to Neo/Elephant and NWB (optional extra
``interop``).
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
    "save_simulation": "neurosim_nb.export.netcdf",
    "load_simulation": "neurosim_nb.export.netcdf",
    "save_npz": "neurosim_nb.export.formats",
    "load_npz": "neurosim_nb.export.formats",
    "save_json": "neurosim_nb.export.formats",
    "load_json": "neurosim_nb.export.formats",
    "dataset_to_dict": "neurosim_nb.export.formats",
    "dataset_from_dict": "neurosim_nb.export.formats",
    "save_csv": "neurosim_nb.export.formats",
    "load_csv_spikes": "neurosim_nb.export.formats",
    "load_csv_trace": "neurosim_nb.export.formats",
    "save_result": "neurosim_nb.export.io",
    "load_result": "neurosim_nb.export.io",
    "format_from_path": "neurosim_nb.export.io",
    "FORMATS": "neurosim_nb.export.io",
    "SUFFIXES": "neurosim_nb.export.io",
    "RunConfig": "neurosim_nb.export.run_config",
    "load_run_config": "neurosim_nb.export.run_config",
    "run_simulation": "neurosim_nb.export.run_config",
    "ConfigError": "neurosim_nb.export.run_config",
    "to_neo": "neurosim_nb.export.neo",
    "from_neo": "neurosim_nb.export.neo",
    "to_nwbfile": "neurosim_nb.export.nwb",
    "save_nwb": "neurosim_nb.export.nwb",
    "load_nwb": "neurosim_nb.export.nwb",
}

__all__ = list(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(__all__)
