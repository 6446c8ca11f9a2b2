"""The result Dataset of every run -- one builder, one schema.

Schema (checked by :func:`neurosim_nb.schema.validate_dataset` on every run):

* dims ``time`` (recorded samples), ``neuron`` (recorded neurons), ``spike`` (ragged
  event list);
* ``V`` and other state variables ``(time, neuron)`` with ``units`` and ``long_name`` (NaN
  where a population lacks the variable); ``I_ext`` the external input;
* ``spike_time`` (ms) and ``spike_neuron`` (global neuron id) on ``spike``, sorted by
  (time, id);
* coords ``time`` (ms, end of each recorded step), ``neuron`` (global ids),
  ``population(neuron)`` and, in layered networks, ``layer(neuron)``;
* attrs (the same keys on every path): ``Conventions``, ``title``, ``model`` (the
  population class for a population run alone, else the network class), ``network``,
  ``population`` (the population names, comma-separated), ``n_neurons``, ``dt``,
  ``duration``, ``n_steps``, ``sample_every``, ``seed``, ``build_seed``,
  ``neurosim_nb_version``, ``params_json`` (``{"populations": [...], "projections":
  [...]}``: each population's name, model, size, first id, layer, current units and
  parameters), ``stimuli_json`` (``{population: [stimulus, ...]}``), ``current_units``
  (``"mixed"`` when populations differ), ``t_start_ms``, ``requested_duration`` and
  ``interrupted``; ``layer_names_json`` for layered networks.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import xarray as xr

from neurosim_nb._version import __version__

__all__ = ["build_dataset", "weights_dataset", "stimulus_records"]


def stimulus_records(stimuli) -> list[dict]:
    """The stimuli as JSON-ready records (``type`` and every field; long arrays abbreviated)."""
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
    return out


def _weight_sum(proj) -> float:
    """Sum of a projection's weights (a uniform weight may be stored as a scalar)."""
    w = proj.weight
    if np.ndim(w) == 0:
        return float(w) * int(proj.n_synapses)
    return float(np.sum(w, dtype=np.float64))


def build_dataset(net, runs, loop, rec_names, *, dt: float, sample_every: int, n_steps: int,
                  seed: int, stimuli: dict, requested: float, t_start_ms: float = 0.0,
                  solo: bool = False) -> xr.Dataset:
    """Assemble the result of a run of ``net`` (``runs``: the per-population arrays,
    ``loop``: the compiled loop's spikes). ``solo``: a population run on its own."""
    off = net.offsets()
    n_samples = n_steps // sample_every
    time_ = np.arange(1, n_samples + 1) * (sample_every * dt)
    ids, pops, layers = [], [], []
    for name, r in runs.items():
        ids.append(r.rec_idx + off[name])
        pops.extend([name] * r.rec_idx.size)
        layers.extend([net.layer_of.get(name, -1)] * r.rec_idx.size)
    ids = np.concatenate(ids).astype(np.int64)
    data_vars: dict[str, Any] = {}
    for var in rec_names:
        cols, units, long_name = [], None, None
        for r in runs.values():
            if var == "I_ext":
                block = r.i_ext_rec[:n_samples] if r.i_ext_rec is not None else None
                u, ln = r.pop.current_units, r.pop.current_long_name
            elif var in r.pop.state_variables:
                block = r.rec_out[r.rec_state.index(var), :n_samples]
                u, ln = r.pop.state_variables[var]
            else:
                block, u, ln = None, None, None
            if block is None:
                block = np.full((n_samples, r.rec_idx.size), np.nan)
            elif units is None:
                units, long_name = u, ln
            elif u != units:
                units = "mixed (see current_units)" if var == "I_ext" else units
            cols.append(block)
        data_vars[var] = (("time", "neuron"), np.concatenate(cols, axis=1),
                          {"units": units or "1", "long_name": long_name or var})
    steps = np.concatenate(loop.spike_steps) if loop.spike_steps else np.zeros(0, np.int64)
    neurons = np.concatenate(loop.spike_ids) if loop.spike_ids else np.zeros(0, np.int64)
    # the compiled loop emits spikes by step, then population, then neuron, i.e. already
    # in (step, id) order: check it (a few ms) instead of sorting (0.15 s per million)
    if not _in_spike_order(steps, neurons, max(net.n_neurons, 1)):
        order = np.lexsort((neurons, steps))
        steps, neurons = steps[order], neurons[order]
    spike_time = steps.astype(np.float64)  # (step + 1) dt, the same numbers, one new array
    spike_time += 1.0
    spike_time *= dt
    data_vars["spike_time"] = ("spike", spike_time, {"units": "ms", "long_name": "spike time"})
    data_vars["spike_neuron"] = ("spike", neurons.astype(np.int64, copy=False),
                                 {"units": "1", "long_name": "neuron id of spike"})
    coords = {
        "time": ("time", time_, {"units": "ms", "long_name": "time", "axis": "T"}),
        "neuron": ("neuron", ids, {"units": "1", "long_name": "neuron id"}),
        "population": ("neuron", np.array(pops, dtype=object),
                       {"long_name": "population label"}),
    }
    if net.layer_of:
        coords["layer"] = ("neuron", np.array(layers, dtype=np.int64),
                           {"units": "1", "long_name": "layer index (-1: none)"})
    populations = [{"name": k, "model": type(p).__name__, "n": p.n, "first_id": off[k],
                    "layer": net.layer_of.get(k), "current_units": p.current_units,
                    "params": json.loads(p.params.to_json())}
                   for k, p in net.populations.items()]
    projections = [{"name": p.name, "pre": p.pre, "post": p.post, "receptor": p.receptor.name,
                    "weight_units": p.receptor.weight_units, "n_synapses": p.n_synapses,
                    # summed weight at the end of the run (weight_units): lets exports such as
                    # ONI's inter-layer weight matrix be computed from the Dataset alone
                    "weight_sum": _weight_sum(p),
                    "dynamics": type(p.dynamics).__name__} for p in net.projections]
    current_units = {p.current_units for p in net.populations.values()}
    if solo:
        (pop,) = net.populations.values()
        model, title = type(pop).__name__, f"{type(pop).__name__} simulation of {pop.n} neuron(s)"
    else:
        model = type(net).__name__
        title = f"{type(net).__name__} {net.name!r}: {net.n_neurons} neurons"
    attrs = {
        "Conventions": "CF-1.10",
        "title": title,
        "model": model,
        "network": net.name,
        "population": ",".join(net.populations),
        "n_neurons": int(net.n_neurons),
        "dt": float(dt),
        "duration": float(n_steps * dt),
        "n_steps": int(n_steps),
        "sample_every": int(sample_every),
        "seed": int(seed),
        "build_seed": int(net.seed),
        "neurosim_nb_version": __version__,
        "params_json": json.dumps({"populations": populations, "projections": projections},
                                  default=str),
        "stimuli_json": json.dumps({k: stimulus_records(v) for k, v in stimuli.items()},
                                   default=str),
        "current_units": current_units.pop() if len(current_units) == 1 else "mixed",
        "t_start_ms": float(t_start_ms),
        "requested_duration": float(requested),
    }
    if net.layer_of:
        attrs["layer_names_json"] = json.dumps(getattr(net, "layer_names", {}))
    return xr.Dataset(data_vars=data_vars, coords=coords, attrs=attrs)


def _in_spike_order(steps: np.ndarray, ids: np.ndarray, n: int,
                    piece: int = 1 << 18) -> bool:
    """Whether the spikes are in strictly increasing (step, id) order (ids below ``n``),
    checked ``piece`` spikes at a time: the temporaries stay a few MB, reused, instead of
    arrays the size of the output (fresh memory costs up to ~7 us per 4 KiB page here).

    >>> s, i = np.array([0, 0, 1, 3]), np.array([2, 5, 0, 1])
    >>> _in_spike_order(s, i, 6), _in_spike_order(s, i[::-1], 6), _in_spike_order(s, i, 6, 2)
    (True, False, True)
    """
    for a in range(0, max(steps.size - 1, 0), piece):
        b = min(a + piece + 1, steps.size)
        key = steps[a:b] * n
        key += ids[a:b]
        if not np.all(key[1:] > key[:-1]):
            return False
    return True


def weights_dataset(net, plastic, w_times, w_values) -> xr.Dataset:
    off = net.offsets()
    pre = np.concatenate([p.pre_idx + off[p.pre] for p in plastic]).astype(np.int64)
    post = np.concatenate([p.post_idx + off[p.post] for p in plastic]).astype(np.int64)
    names = np.concatenate([[p.name] * p.n_synapses for p in plastic]).astype(object)
    units = {p.receptor.weight_units for p in plastic}
    return xr.Dataset(
        {"weight": (("weight_time", "synapse"), np.asarray(w_values),
                    {"units": units.pop() if len(units) == 1 else "mixed",
                     "long_name": "synaptic weight"})},
        coords={"weight_time": ("weight_time", np.asarray(w_times),
                                {"units": "ms", "long_name": "time of weight sample"}),
                "pre": ("synapse", pre, {"units": "1", "long_name": "presynaptic neuron id"}),
                "post": ("synapse", post, {"units": "1", "long_name": "postsynaptic neuron id"}),
                "projection": ("synapse", names, {"long_name": "projection name"})})
