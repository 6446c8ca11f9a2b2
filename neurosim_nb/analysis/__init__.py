"""Analysis of result Datasets: functions of a Dataset (or spike times / a signal) that
return named ``xarray`` objects with ``units`` and ``long_name``.

Every function whose first argument is the data (:data:`DATASET_FUNCTIONS`) is also a
method of the ``ds.neuro`` accessor (:mod:`neurosim_nb.accessor`, which imports this package;
this package does not import it). ``docs/functions.md`` maps the Sourced Neuron
names (``FireRate``, ``ISIComp`` ...) to these.

>>> from neurosim_nb import analysis
>>> "firing_rate" in analysis.DATASET_FUNCTIONS
True
"""

from __future__ import annotations

from neurosim_nb._lazy import lazy_getattr

#: public name -> module that defines it
_LAZY = {
    "spike_dataset": "neurosim_nb.analysis._input",
    "firing_rate": "neurosim_nb.analysis.rates",
    "population_rate": "neurosim_nb.analysis.rates",
    "instantaneous_rate": "neurosim_nb.analysis.rates",
    "spike_raster": "neurosim_nb.analysis.rates",
    "isi": "neurosim_nb.analysis.intervals",
    "cv": "neurosim_nb.analysis.intervals",
    "cv2": "neurosim_nb.analysis.intervals",
    "lv": "neurosim_nb.analysis.intervals",
    "lvr": "neurosim_nb.analysis.intervals",
    "fano_factor": "neurosim_nb.analysis.intervals",
    "detect_bursts": "neurosim_nb.analysis.bursts",
    "transfer_function": "neurosim_nb.analysis.transfer",
    "siegert_rate": "neurosim_nb.analysis.transfer",
    "atp_consumption": "neurosim_nb.analysis.energy",
    "hh_sodium_atp": "neurosim_nb.analysis.energy",
    "plasticity_stability": "neurosim_nb.analysis.plasticity",
    "bimodality_coefficient": "neurosim_nb.analysis.plasticity",
    "spike_phases": "neurosim_nb.analysis.synchrony",
    "phase_at_spikes": "neurosim_nb.analysis.synchrony",
    "phase_locking_value": "neurosim_nb.analysis.synchrony",
    "kuramoto_order": "neurosim_nb.analysis.synchrony",
    "sttc": "neurosim_nb.analysis.synchrony",
    "sttc_matrix": "neurosim_nb.analysis.synchrony",
    "power_spectrum": "neurosim_nb.analysis.oscillations",
    "band_power": "neurosim_nb.analysis.oscillations",
    "detect_oscillations": "neurosim_nb.analysis.oscillations",
    "BANDS": "neurosim_nb.analysis.oscillations",
    "synaptic_currents": "neurosim_nb.analysis.lfp",
    "lfp_proxy": "neurosim_nb.analysis.lfp",
    "spike_train_entropy": "neurosim_nb.analysis.information",
    "avalanches": "neurosim_nb.analysis.criticality",
    "branching_ratio": "neurosim_nb.analysis.criticality",
    "power_law_fit": "neurosim_nb.analysis.criticality",
    "criticality_summary": "neurosim_nb.analysis.criticality",
    "fixed_points": "neurosim_nb.analysis.attractors",
    "nullclines": "neurosim_nb.analysis.attractors",
    "attractor_states": "neurosim_nb.analysis.attractors",
    "attenuation": "neurosim_nb.analysis.cable",
    "propagation_velocity": "neurosim_nb.analysis.cable",
    "spike_latency": "neurosim_nb.analysis.cable",
    "path_distance": "neurosim_nb.analysis.cable",
}

#: functions taking the data (a result Dataset) first: the methods of ``ds.neuro``
DATASET_FUNCTIONS: tuple[str, ...] = (
    "firing_rate", "population_rate", "instantaneous_rate", "spike_raster",
    "isi", "cv", "cv2", "lv", "lvr", "fano_factor", "detect_bursts",
    "atp_consumption", "hh_sodium_atp", "plasticity_stability",
    "spike_phases", "phase_at_spikes", "kuramoto_order", "sttc_matrix",
    "power_spectrum", "band_power", "detect_oscillations", "synaptic_currents", "lfp_proxy",
    "spike_train_entropy", "avalanches", "branching_ratio", "criticality_summary",
    "attractor_states", "attenuation", "propagation_velocity", "spike_latency", "path_distance",
)

__all__ = ["DATASET_FUNCTIONS", *_LAZY]

__getattr__ = lazy_getattr(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(__all__)
