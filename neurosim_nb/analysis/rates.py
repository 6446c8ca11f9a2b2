"""Firing rates from the ragged spike list of a result Dataset."""

from __future__ import annotations

import numpy as np
import xarray as xr


def _bins(ds: xr.Dataset, bin_ms: float) -> np.ndarray:
    if not np.isfinite(bin_ms) or bin_ms <= 0:
        raise ValueError(f"bin_ms must be a finite number of ms > 0, got {bin_ms!r}")
    duration = float(ds.attrs["duration"])
    n_bins = max(1, int(np.floor(duration / bin_ms + 1e-9)))
    return np.arange(n_bins + 1) * bin_ms


def firing_rate(ds: xr.Dataset, bin_ms: float = 100.0) -> xr.DataArray:
    """Firing rate of every neuron in consecutive bins of ``bin_ms`` (Hz).

    A spike stamped exactly at a bin's end (spikes are stamped at step ends) counts in
    that bin; a last partial bin shorter than ``bin_ms`` is dropped.

    Returns
    -------
    xarray.DataArray
        ``firing_rate`` with dims ``(time, neuron)``; ``time`` is the bin centre (ms),
        ``neuron`` runs over all ``n_neurons`` of the run.

    Examples
    --------
    >>> from neurosim_nb import LIFNeuron
    >>> ds = LIFNeuron.create_excitatory().simulate(1000.0, 2.0, seed=0, record=())
    >>> float(firing_rate(ds, bin_ms=1000.0).isel(time=0, neuron=0)) == ds.sizes["spike"]
    True
    """
    edges = _bins(ds, bin_ms)
    n = int(ds.attrs["n_neurons"])
    t = ds.spike_time.values - 1e-9  # stamped at step end: (t_k, t_k + dt] belongs to bin k
    counts, _, _ = np.histogram2d(t, ds.spike_neuron.values, bins=[edges, np.arange(n + 1) - 0.5])
    rate = counts / (bin_ms / 1000.0)
    return xr.DataArray(
        rate, dims=("time", "neuron"), name="firing_rate",
        coords={"time": ("time", 0.5 * (edges[1:] + edges[:-1]), {"units": "ms",
                                                                  "long_name": "bin centre"}),
                "neuron": np.arange(n)},
        attrs={"units": "Hz", "long_name": "firing rate", "bin_ms": float(bin_ms)},
    )


def population_rate(ds: xr.Dataset, bin_ms: float = 10.0) -> xr.DataArray:
    """Mean firing rate per neuron of the whole population in bins of ``bin_ms`` (Hz).

    Examples
    --------
    >>> from neurosim_nb import LIFNeuron
    >>> ds = LIFNeuron.create_excitatory().simulate(500.0, 2.0, seed=0, record=())
    >>> population_rate(ds, bin_ms=500.0).attrs["units"]
    'Hz'
    """
    fr = firing_rate(ds, bin_ms)
    out = fr.mean("neuron")
    out.name = "population_rate"
    out.attrs = {"units": "Hz", "long_name": "population firing rate per neuron",
                 "bin_ms": float(bin_ms)}
    return out
