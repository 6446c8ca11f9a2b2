"""Validation of result Datasets against the neurosim_nb schema.

>>> from neurosim_nb import LIFNeuron
>>> validate_dataset(LIFNeuron().simulate(10.0, 1.0, seed=0)) is None
True
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from neurosim_nb.errors import InvalidArgumentError

REQUIRED_ATTRS = {
    "Conventions": str, "model": str, "n_neurons": (int, np.integer), "dt": (float, np.floating),
    "duration": (float, np.floating), "seed": (int, np.integer), "neurosim_nb_version": str,
    "params_json": str,
}
#: attrs every simulation result carries besides :data:`REQUIRED_ATTRS` (one set for a
#: population run alone and a network run: :mod:`neurosim_nb.engine.dataset`)
RUN_ATTRS = {
    "title": str, "network": str, "population": str, "n_steps": (int, np.integer),
    "sample_every": (int, np.integer), "build_seed": (int, np.integer),
    "stimuli_json": str, "current_units": str, "t_start_ms": (float, np.floating),
    "requested_duration": (float, np.floating), "interrupted": (int, np.integer),
}
NETCDF_ATTR_TYPES = (str, int, float, np.integer, np.floating, np.ndarray)


class SchemaError(InvalidArgumentError):
    """A Dataset does not follow the neurosim_nb result schema."""


def validate_dataset(ds: xr.Dataset, *, run: bool = False, spikes: bool = True) -> None:
    """Check dims, coords, units, attrs and spike list of a result Dataset.

    ``run``: also require the attrs of a simulation result (:data:`RUN_ATTRS`; every
    simulation checks its own result so). ``spikes=False`` skips the checks that read the
    whole spike list (sorted, in range), for callers that built it in order.

    Raises
    ------
    SchemaError
        Naming the first problem found.
    """
    problems: list[str] = []
    for dim in ("time", "neuron", "spike"):
        if dim not in ds.dims:
            problems.append(f"missing dimension {dim!r}")
    for name in ("time", "neuron"):
        if name not in ds.coords:
            problems.append(f"missing coordinate {name!r}")
    if "time" in ds.coords and ds["time"].attrs.get("units") != "ms":
        problems.append("coordinate 'time' must have units 'ms'")
    if "population" in ds.coords and ds["population"].dims != ("neuron",):
        problems.append("coordinate 'population' must be along 'neuron'")
    for name, var in ds.data_vars.items():
        if "units" not in var.attrs or "long_name" not in var.attrs:
            problems.append(f"variable {name!r} lacks 'units' or 'long_name'")
        if "time" in var.dims and var.dims[0] != "time":
            problems.append(f"variable {name!r}: 'time' must be the first dimension")
    for name in ("spike_time", "spike_neuron"):
        if name not in ds:
            problems.append(f"missing variable {name!r}")
    if "spike_time" in ds and ds.spike_time.attrs.get("units") != "ms":
        problems.append("spike_time must have units 'ms'")
    if not problems and spikes:
        st, sn = ds.spike_time.values, ds.spike_neuron.values
        if st.size and np.any(np.diff(st) < 0):
            problems.append("spike_time must be sorted")
        n = int(ds.attrs.get("n_neurons", 0))
        if sn.size and (sn.min() < 0 or sn.max() >= n):
            problems.append("spike_neuron ids outside 0..n_neurons-1")
        if st.size and (st.min() <= 0 or st.max() > ds.attrs["duration"] + 1e-9):
            problems.append("spike_time outside (0, duration]")
    for key, typ in (REQUIRED_ATTRS | RUN_ATTRS if run else REQUIRED_ATTRS).items():
        if key not in ds.attrs:
            problems.append(f"missing attr {key!r}")
        elif not isinstance(ds.attrs[key], typ):
            problems.append(f"attr {key!r} has type {type(ds.attrs[key]).__name__}")
    for key, value in ds.attrs.items():
        if isinstance(value, bool) or not isinstance(value, NETCDF_ATTR_TYPES):
            problems.append(f"attr {key!r} of type {type(value).__name__} cannot go to NetCDF")
    if problems:
        raise SchemaError("invalid neurosim_nb Dataset: " + "; ".join(problems))


def population_parameters(ds: xr.Dataset) -> list[dict]:
    """The populations recorded in a result's ``params_json``: name, model, n, first_id,
    layer, current_units and ``params`` (``{"class", "values", "units"}``).

    >>> from neurosim_nb import LIFNeuron
    >>> [p["model"] for p in population_parameters(LIFNeuron().simulate(5.0, seed=0))]
    ['LIFNeuron']
    """
    try:
        return list(json.loads(ds.attrs["params_json"])["populations"])
    except (KeyError, TypeError, ValueError):
        raise ValueError("the Dataset has no readable params_json attribute (a neurosim_nb "
                         "result has one)") from None
