"""The seed's :class:`Recorder` view of a result Dataset (built by
:mod:`neurosim_nb.engine.dataset`)."""

from __future__ import annotations

import numpy as np
import xarray as xr


class Recorder:
    """The seed's recorder API over a result Dataset.

    The rates are the Dataset's own ``ds.neuro`` methods (:mod:`neurosim_nb.accessor`,
    registered by ``import neurosim_nb``): the engine sits below the analysis layer and does
    not import it.

    Examples
    --------
    >>> from neurosim_nb import LIFNeuron
    >>> rec = Recorder(LIFNeuron.create_excitatory().simulate(200.0, 2.0, seed=0))
    >>> times, ids = rec.get_raster_data()
    >>> len(times) == len(ids) > 0
    True
    """

    def __init__(self, dataset: xr.Dataset):
        self.dataset = dataset

    def get_raster_data(self) -> tuple[np.ndarray, np.ndarray]:
        """Spike times (ms) and neuron ids, sorted by time."""
        return self.dataset.spike_time.values.copy(), self.dataset.spike_neuron.values.copy()

    def compute_firing_rates(self, window: float = 100.0) -> xr.DataArray:
        """Per-neuron firing rate (Hz) in consecutive windows of ``window`` ms
        (``ds.neuro.firing_rate(bin_ms=window)``)."""
        return self.dataset.neuro.firing_rate(bin_ms=window)

    def compute_population_rate(self, window: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
        """Population rate (Hz per neuron) in windows of ``window`` ms: ``(t_ms, rate_hz)``
        (``ds.neuro.population_rate(bin_ms=window)``)."""
        r = self.dataset.neuro.population_rate(bin_ms=window)
        return r["time"].values, r.values
