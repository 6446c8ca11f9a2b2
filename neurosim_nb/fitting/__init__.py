"""Research workflows at scale: parameter sweeps (and, on top of them, model fitting and
sensitivity analysis) run as batches of independent points on Dask.

:func:`parameter_sweep` runs a model (a user function, a neuron model family or a network
JSON spec) over a grid or a sampled design and gathers scalar measures into one
``xarray.Dataset``; :mod:`neurosim_nb.fitting.cluster` owns the Dask client (an embedded
``LocalCluster`` by default, any scheduler on request) and :func:`map_batches`, the batched
task loop the fitting and sensitivity code reuse.

>>> from neurosim_nb import fitting
>>> "parameter_sweep" in fitting.__all__
True
"""

from __future__ import annotations

from neurosim_nb._lazy import lazy_getattr

#: public name -> module that defines it
_LAZY = {
    "parameter_sweep": "neurosim_nb.fitting.sweep",
    "load_sweep": "neurosim_nb.fitting.sweep",
    "point_seed": "neurosim_nb.fitting.sweep",
    "SWEEP_MEASURES": "neurosim_nb.fitting.sweep",
    "SweepError": "neurosim_nb.fitting.sweep",
    "get_client": "neurosim_nb.fitting.cluster",
    "close_client": "neurosim_nb.fitting.cluster",
    "map_batches": "neurosim_nb.fitting.cluster",
    "brunel_phase_diagram": "neurosim_nb.fitting.phase_diagram",
    "fit_model": "neurosim_nb.fitting.fit",
    "FitError": "neurosim_nb.fitting.fit",
    "coincidence_factor": "neurosim_nb.fitting.objectives",
    "sensitivity_analysis": "neurosim_nb.fitting.sensitivity",
}

__all__ = list(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(__all__)
