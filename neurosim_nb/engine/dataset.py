"""The result Dataset of every run -- one builder, one schema.

Schema (checked by :func:`neurosim_nb.schema.validate_dataset` on every run):

* dims ``time`` (recorded samples), ``neuron`` (recorded neurons), ``spike`` (ragged
  event list);
* ``V`` and other state variables ``(time, neuron)`` with ``units`` and ``long_name`` (NaN
  where a population lacks the variable); ``I_ext`` the external input;
* per-compartment variables ``(time, neuron, compartment)`` of the populations that
  declare a :class:`~neurosim_nb.core.neurons.base.CompartmentLayout` (e.g. the
  ``V_compartment`` and gates of compartmental cells; NaN for the other neurons), with
  the layout's coords on ``compartment`` -- or on ``(neuron, compartment)``,
  ``compartment`` then a position, when populations record different compartments;
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
  (``"mixed"`` when populations differ), ``t_start_ms``, ``requested_duration``,
  ``interrupted`` and ``method`` (``"fixed"`` or ``"adaptive"``; an adaptive run adds
  ``rtol``, ``atol``, ``n_steps_accepted``, ``n_steps_rejected`` and
  ``n_rhs_evaluations``); ``layer_names_json`` for layered networks.
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
                  solo: bool = False, spikes: tuple | None = None,
                  method: str = "fixed") -> xr.Dataset:
    """Assemble the result of a run of ``net`` (``runs``: the per-population arrays,
    ``loop``: the compiled loop's spikes, or ``spikes``: ``(times_ms, global ids)``
    already sorted, as an adaptive run locates them off the grid). ``solo``: a population
    run on its own; ``method``: how it was integrated."""
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
    per_compartment = {v for r in runs.values() if r.layout is not None
                       for v in r.layout.variables if v in rec_names}
    for var in rec_names:
        if var in per_compartment:
            continue
        cols, units, long_name = [], None, None
        for r in runs.values():
            if var == "I_ext":
                block = r.i_ext_rec[:n_samples] if r.i_ext_rec is not None else None
                u, ln = r.pop.current_units, r.pop.current_long_name
            elif var in r.pop.state_variables:
                block = r.rec_out[r.var_slot[var], :n_samples]
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
    comp_coords: dict[str, Any] = {}
    if per_compartment:
        comp_vars, comp_coords = _compartment_variables(runs, rec_names, per_compartment,
                                                        n_samples)
        data_vars.update(comp_vars)
    if spikes is not None:
        spike_time, neurons = spikes
    else:
        spike_time, neurons = _grid_spikes(net, loop, dt)
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
    coords.update(comp_coords)
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
        "method": method,
    }
    if net.layer_of:
        attrs["layer_names_json"] = json.dumps(getattr(net, "layer_names", {}))
    return xr.Dataset(data_vars=data_vars, coords=coords, attrs=attrs)


def _grid_spikes(net, loop, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """The compiled loop's spikes as (time, id): a spike of step ``k`` at ``(k + 1) dt``."""
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
    return spike_time, neurons


_PAD = {"f": np.nan, "i": -1, "u": -1, "b": False}


def _padded(values: np.ndarray, width: int) -> np.ndarray:
    """``values`` (along compartment) extended to ``width`` entries: NaN, -1, False or ''."""
    values = np.asarray(values)
    if values.size == width:
        return values
    if values.dtype.kind in _PAD:
        fill = _PAD[values.dtype.kind]
        dtype = np.float64 if values.dtype.kind == "f" else values.dtype
    else:
        fill, dtype = "", object
    out = np.full(width, fill, dtype=dtype)
    out[:values.size] = values
    return out


def _compartment_variables(runs, rec_names, names, n_samples):
    """The ``(time, neuron, compartment)`` variables of the populations that declare a
    :class:`~neurosim_nb.core.neurons.base.CompartmentLayout`, and their compartment
    coords: on ``compartment`` when every such population records the same compartments
    (the same coords), else on ``(neuron, compartment)`` with ``compartment`` a position
    (0, 1, ...) and each population's compartments padded (NaN, -1 or '') to the widest;
    neurons without compartments are NaN."""
    with_layout = [r for r in runs.values() if r.layout is not None and r.rec_idx.size]
    if not with_layout:
        with_layout = [r for r in runs.values() if r.layout is not None]
    width = max(r.layout.n_compartments for r in with_layout)
    data_vars = {}
    for var in (v for v in rec_names if v in names):
        blocks, units, long_name = [], None, None
        for r in runs.values():
            block = np.full((n_samples, r.rec_idx.size, width), np.nan)
            spec = r.layout.variables.get(var) if r.layout is not None else None
            if spec is not None:
                slots = r.var_slot[var]
                have = np.flatnonzero(slots >= 0)
                block[:, :, have] = np.moveaxis(r.rec_out[slots[have], :n_samples], 0, -1)
                units, long_name = units or spec[1], long_name or spec[2]
            blocks.append(block)
        data_vars[var] = (("time", "neuron", "compartment"), np.concatenate(blocks, axis=1),
                          {"units": units or "1", "long_name": long_name or var})
    first = with_layout[0].layout.coords
    same = all(_same_coords(r.layout.coords, first) for r in with_layout[1:])
    coords: dict[str, Any] = {}
    if same:
        for name, (dims, values, attrs) in first.items():
            coords[name] = (dims, np.asarray(values), dict(attrs))
        return data_vars, coords
    coords["compartment"] = ("compartment", np.arange(width),
                             {"units": "1", "long_name": "position among the recorded "
                              "compartments of the neuron's population"})
    keys = [k for k in first if all(k in r.layout.coords for r in with_layout)]
    for name in keys:
        rows = []
        attrs = dict(first[name][2])
        proto = None
        for r in runs.values():
            if r.layout is not None:
                col = _padded(r.layout.coords[name][1], width)
                proto = col if proto is None else proto
            else:
                col = None
            rows.append(col)
        table = []
        for r, col in zip(runs.values(), rows, strict=True):
            if col is None:
                col = _padded(np.asarray(proto)[:0], width)
            table.append(np.repeat(col[None, :], r.rec_idx.size, axis=0))
        out_name = "compartment_id" if name == "compartment" else name
        coords[out_name] = (("neuron", "compartment"), np.concatenate(table, axis=0), attrs)
    return data_vars, coords


def _same_coords(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        va, vb = np.asarray(a[k][1]), np.asarray(b[k][1])
        if va.shape != vb.shape or not np.array_equal(va, vb):
            return False
    return True


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
