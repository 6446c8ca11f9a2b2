"""Recording → the result Dataset, and the seed's :class:`Recorder` view of it.

Schema (checked by :func:`neurosim_nb.schema.validate_dataset`):

* dims ``time`` (recorded samples), ``neuron`` (recorded neurons), ``spike`` (ragged
  event list);
* ``V`` and other state variables ``(time, neuron)`` with ``units`` and ``long_name``;
* ``spike_time`` (ms) and ``spike_neuron`` (neuron id) on ``spike``, sorted by time;
* coords ``time`` (ms, end of each recorded step), ``neuron`` (ids), ``population(neuron)``;
* attrs: ``Conventions``, ``title``, ``model``, ``population``, ``n_neurons``, ``dt``,
  ``duration``, ``n_steps``, ``sample_every``, ``seed``, ``neurosim_nb_version``,
  ``params_json``, ``stimuli_json``, ``current_units``, ``t_start_ms``.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import xarray as xr

from neurosim_nb._version import __version__


def _stimulus_json(stimuli) -> str:
    out = []
    for s in stimuli:
        d = {"type": type(s).__name__}
        for f in dataclasses.fields(s):
            v = getattr(s, f.name)
            if isinstance(v, np.ndarray):
                v = v.tolist() if v.size <= 64 else f"array{list(v.shape)}"
            elif isinstance(v, float) and not np.isfinite(v):
                v = str(v)
            d[f.name] = v
        out.append(d)
    return json.dumps(out, default=str)


def build_dataset(pop, *, records: dict, rec_idx: np.ndarray, dt: float, sample_every: int,
                  n_steps: int, spike_steps: np.ndarray, spike_neurons: np.ndarray, seed: int,
                  stimuli=(), t_start_ms: float = 0.0, requested_duration: float | None = None
                  ) -> xr.Dataset:
    """Assemble the self-describing result Dataset of one run of ``pop``."""
    n_samples = n_steps // sample_every
    time = np.arange(1, n_samples + 1) * (sample_every * dt)
    order = np.lexsort((spike_neurons, spike_steps))
    spike_time = (spike_steps[order] + 1) * dt
    data_vars = {}
    for name, arr in records.items():
        if name == "I_ext":
            units, long_name = pop.current_units, pop.current_long_name
        else:
            units, long_name = pop.state_variables[name]
        data_vars[name] = (("time", "neuron"), np.asarray(arr, dtype=np.float64),
                           {"units": units, "long_name": long_name})
    data_vars["spike_time"] = ("spike", spike_time.astype(np.float64),
                               {"units": "ms", "long_name": "spike time"})
    data_vars["spike_neuron"] = ("spike", spike_neurons[order].astype(np.int64),
                                 {"units": "1", "long_name": "neuron id of spike"})
    coords = {
        "time": ("time", time, {"units": "ms", "long_name": "time", "axis": "T"}),
        "neuron": ("neuron", rec_idx.astype(np.int64), {"units": "1", "long_name": "neuron id"}),
        "population": ("neuron", np.full(rec_idx.size, pop.label, dtype=object),
                       {"long_name": "population label"}),
    }
    desc = pop.describe()
    attrs = {
        "Conventions": "CF-1.10",
        "title": f"{desc['model']} simulation of {pop.n} neuron(s)",
        "model": desc["model"],
        "population": pop.label,
        "n_neurons": int(pop.n),
        "dt": float(dt),
        "duration": float(n_steps * dt),
        "n_steps": int(n_steps),
        "sample_every": int(sample_every),
        "seed": int(seed),
        "neurosim_nb_version": __version__,
        "params_json": desc["params_json"],
        "stimuli_json": _stimulus_json(stimuli),
        "current_units": desc["current_units"],
        "t_start_ms": float(t_start_ms),
        "requested_duration": float(n_steps * dt if requested_duration is None
                                    else requested_duration),
    }
    return xr.Dataset(data_vars=data_vars, coords=coords, attrs=attrs)


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
