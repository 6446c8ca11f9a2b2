"""Whole model configurations as JSON: :func:`export_model_json` / :func:`load_model_json`.

A model file holds everything a run depends on -- parameters (with units), the exact
synapses, plasticity, gap junctions, stimuli and the current state -- so that the loaded
model, simulated with the same arguments and seed, gives a Dataset identical to the
original's (``xarray.testing.assert_identical``, attrs included).

Layout (strict JSON: no NaN or Infinity; arrays are lists, floats written with ``repr``
precision, so every float64 comes back bit for bit)::

    {"format": "neurosim_nb.model", "version": 1, "neurosim_nb_version": "...",
     "kind": "population" | "network",
     "model": POPULATION | NETWORK,
     "engine": {...}}                       # only for an exported SimulationEngine

    POPULATION = {"family": "LIF", "class": "LIFNeuron", "label": str, "n": int,
                  "params": {name: number | str | null | [one per neuron]},
                  "units": {name: unit}, "derived": [names re-derived on load, e.g. C_m],
                  "state": {"t_ms": float, "variables": {"V": [...], ...}}}
                  # in a network: no "label" (the population's name), plus "layer"

    NETWORK = {"class": "Network" | "LayeredNetwork" | "RecurrentNetwork" |
                        "SmallWorldNetwork",
               "name", "seed", "weight_precision",
               "rng_state": {...},          # the connectivity generator, for later connect()
               "populations": {name: POPULATION},          # in global-id order
               "projections": [{"name", "pre", "post",
                                "receptor": {"name", "kind", "tau_decay_ms", "tau_rise_ms",
                                             "E_rev_mV", "mg_mM"},
                                "weight_units", "n_synapses",
                                "indptr": [n_pre + 1], "post_idx": [n_synapses],
                                "weight": float | [n_synapses], "weight_dtype",
                                "delay_ms": float | [n_synapses],
                                "dynamics": null | {"type": "STDP", "params", "units",
                                                    "state": null | {...}}}],
               "gap_junctions": [{"name", "a", "b", "a_idx", "b_idx", "conductance_uS",
                                  "rectification"}],
               "stimuli": {population: [{"type": "PoissonInput", field: value, ...}]},
               "layer_names": {"1": str, ...},
               "attributes": {...},         # the subclass' own (brunel, params, ...)
               "run_state": {population: {...}}}   # receptor state, spikes in flight

Stimulus fields are the dataclass fields of the stimulus (``targets`` included); an
infinite value (``duration_ms``) is the string ``"inf"``.

What is captured
----------------
* **State**: each population's state variables and clock, the receptor channels and spikes
  in flight carried between runs, the plastic weights and the traces of plasticity and
  short-term dynamics. A model exported after a run therefore *continues* like the
  original; a fresh model (the usual case) loads fresh.
* **Subclasses**: :class:`~neurosim_nb.core.networks.layered.LayeredNetwork`,
  :class:`~neurosim_nb.core.networks.recurrent.RecurrentNetwork` and
  :class:`~neurosim_nb.core.networks.small_world.SmallWorldNetwork` come back as
  themselves (their synapses are restored, not redrawn) with the attributes their methods
  use (``params``, ``layer_names``, ``layer_sizes``, ``brunel``, ``plastic_projection``,
  ``graph_population``, ``inhibitory_mask``, ``small_world``, ...). Another subclass of
  ``Network`` is written as its nearest class of these and loads as that (results then
  differ in the ``model``/``title`` attrs). Other attributes a user attached to a network
  are not exported; ``network.spec`` (from ``build_network``) is, when it is JSON-able.
* **Not exportable** (``TypeError`` at export): custom neuron, stimulus or synaptic
  dynamics classes. Custom :class:`~neurosim_nb.core.synapses.receptors.Receptor` objects
  are fine. A stimulus amplitude or target list given as a Python list of more than 64
  values loads as an array, which ``stimuli_json`` abbreviates (``"array[n]"``).

Every schema problem raises :class:`ModelConfigError` (a :class:`ValueError`) whose message
starts with the key path (``model.projections[2].post_idx: ...``); a missing, unreadable,
truncated or foreign file raises :class:`~neurosim_nb.export._atomic.ExportError`.

Examples
--------
>>> from neurosim_nb.core.networks.benchmarks_models import cuba_network
>>> net = cuba_network(n=100, seed=1)
>>> cfg = export_model_json(net)
>>> cfg["kind"], list(cfg["model"]["populations"]), cfg["model"]["projections"][0]["name"]
('network', ['exc', 'inh'], 'exc->exc:cuba_exc')
>>> copy = load_model_json(cfg)
>>> a = net.simulate(50.0, seed=0, record=())
>>> b = copy.simulate(50.0, seed=0, record=())
>>> a.identical(b)
True
>>> load_model_json({**cfg, "modle": 1})
Traceback (most recent call last):
...
neurosim_nb.export.config.ModelConfigError: modle: unknown key; allowed keys: format, version, \
neurosim_nb_version, kind, model, engine. Did you mean 'model'?
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
from typing import Any

import numpy as np

from neurosim_nb._version import __version__
from neurosim_nb.errors import InvalidArgumentError
from neurosim_nb.export._atomic import ExportError, atomic_path

__all__ = ["FORMAT", "VERSION", "ModelConfigError", "export_model_json", "load_model_json"]

#: value of the ``format`` key of every model file
FORMAT = "neurosim_nb.model"
#: layout version written (and the newest read)
VERSION = 1

TOP_KEYS = ("format", "version", "neurosim_nb_version", "kind", "model", "engine")
POPULATION_KEYS = ("family", "class", "label", "n", "layer", "params", "units", "derived",
                   "state")
#: the ``family`` of a spike-source population (``class``: a key of ``sources.SOURCES``)
SOURCE_FAMILY = "spike_source"
NETWORK_KEYS = ("class", "name", "seed", "weight_precision", "rng_state", "populations",
                "projections", "gap_junctions", "stimuli", "layer_names", "attributes",
                "run_state")
PROJECTION_KEYS = ("name", "pre", "post", "receptor", "weight_units", "n_synapses", "indptr",
                   "post_idx", "weight", "weight_dtype", "delay_ms", "dynamics")
RECEPTOR_KEYS = ("name", "kind", "tau_decay_ms", "tau_rise_ms", "E_rev_mV", "mg_mM")
#: the further keys of a kinetic receptor (``kind == "kinetic"``)
KINETIC_RECEPTOR_KEYS = ("alpha_per_ms_mM", "beta_per_ms", "Cmax_mM", "Cdur_ms")
DYNAMICS_KEYS = ("type", "params", "units", "state")
GAP_KEYS = ("name", "a", "b", "a_idx", "b_idx", "conductance_uS", "rectification")
ENGINE_KEYS = ("config", "recording", "inputs")
#: network attributes of the subclasses (and of builders such as ``brunel_network``)
ATTRIBUTE_KEYS = ("params", "layer_sizes", "layer_abbrevs", "layer_kinds", "brunel",
                  "plastic_projection", "graph_population", "inhibitory_mask", "small_world",
                  "spec")
#: state attributes of each synaptic dynamics family (besides ``dt`` and ``step_now``)
_DYNAMICS_STATE = {
    "STDP": ("x_pre", "t_pre", "x_post", "t_post", "elig", "t_elig"),
    "RewardModulatedSTDP": ("x_pre", "t_pre", "x_post", "t_post", "elig", "t_elig"),
    "OjaRule": ("x_pre", "t_pre", "x_post", "t_post", "_last_update_ms", "last_update",
                "next_update"),
    "HomeostaticScaling": ("x_pre", "t_pre", "x_post", "t_post", "_last_update_ms",
                           "last_update", "next_update"),
    "TsodyksMarkram": ("u", "x", "last"),
}


class ModelConfigError(InvalidArgumentError):
    """A model configuration is invalid; the message starts with the key path."""


# -- plain JSON values --------------------------------------------------------------------------
def _float(x) -> float | str:
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if math.isnan(x):
        raise ValueError("NaN cannot be exported")
    return x


def _plain(value):
    """``value`` as plain JSON types (numpy scalars and arrays, tuples, int keys converted);
    a TypeError for anything else."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return _float(value)
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def _uniform_or_list(arr: np.ndarray):
    """One number when every entry is equal (and there is at least one), else a list."""
    if arr.size and arr.min() == arr.max():
        return float(arr.flat[0])
    return arr.tolist()


# -- export ---------------------------------------------------------------------------------------
def export_model_json(model_or_network, path=None, *, indent: int | None = 1) -> dict:
    """The full configuration of a population, a network or a simulation engine, as a
    JSON-able dict (written to ``path`` when given).

    Parameters
    ----------
    model_or_network : NeuronPopulation, Network or SimulationEngine
        A network subclass (layered, recurrent, small-world) keeps its class. An engine
        contributes its model, its added inputs and its config (duration, dt, seed) and
        recording settings.
    path : str or path-like, optional
        Write the JSON here (atomically: a failed write leaves no file).
    indent : int or None
        Indentation of the file (``None``: one line, the smallest file).

    Returns
    -------
    dict
        Only JSON types (``json.loads`` of the file gives an equal dict); see the module
        docstring for the layout.

    Raises
    ------
    TypeError
        An object of an unsupported class (custom neuron, stimulus or dynamics class).
    ExportError
        ``path`` cannot be written.

    Examples
    --------
    >>> from neurosim_nb import LIFNeuron
    >>> cfg = export_model_json(LIFNeuron.create_excitatory(n=3))
    >>> cfg["kind"], cfg["model"]["family"], cfg["model"]["units"]["tau_m"]
    ('population', 'LIF', 'ms')
    """
    from neurosim_nb.core.networks.network import Network
    from neurosim_nb.core.neurons.base import NeuronPopulation
    from neurosim_nb.engine.simulator import SimulationEngine

    out: dict[str, Any] = {"format": FORMAT, "version": VERSION,
                           "neurosim_nb_version": __version__}
    obj, engine = model_or_network, None
    if isinstance(obj, SimulationEngine):
        engine, obj = obj, obj.model
    if isinstance(obj, Network):
        out["kind"], out["model"] = "network", _network_to_dict(obj)
    elif isinstance(obj, NeuronPopulation):
        out["kind"], out["model"] = "population", _population_to_dict(obj, standalone=True)
    else:
        raise TypeError(f"cannot export a {type(obj).__name__}: expected a neuron population, "
                        f"a Network or a SimulationEngine")
    if engine is not None:
        out["engine"] = _engine_to_dict(engine)
    if path is not None:
        text = json.dumps(out, indent=indent, allow_nan=False)
        with atomic_path(path) as tmp:
            try:
                tmp.write_text(text + "\n", encoding="utf-8")
            except OSError as err:
                raise ExportError(f"cannot write {path}: {err}") from err
    return out


def _family_of(pop) -> str:
    from neurosim_nb.core.neurons import MODEL_FAMILIES

    for family, cls in MODEL_FAMILIES.items():
        if cls is type(pop):
            return family
    raise TypeError(f"cannot export a {type(pop).__name__} population: only the families "
                    f"{list(MODEL_FAMILIES)} are supported")


def _params_to_dict(params) -> tuple[dict, dict, list]:
    """(values, units, derived names) of a ParameterSet."""
    info = params.field_info()
    values = {k: _plain(v) for k, v in params.to_dict().items() if k in info}
    units = {k: v["unit"] for k, v in info.items()}
    derived = [k for k in params.__dict__.get("_derived", ()) if k in info]
    return values, units, derived


def _population_to_dict(pop, *, standalone: bool, layer: int | None = None) -> dict:
    from neurosim_nb.core.neurons.sources import SpikeSource

    if isinstance(pop, SpikeSource):  # a spike source: its constructor's arguments
        spec = pop.to_dict()
        out = {"family": SOURCE_FAMILY, "class": spec["model"]}
        if standalone:
            out["label"] = pop.label
        out["n"] = int(pop.n)
        if layer is not None:
            out["layer"] = int(layer)
        out["params"] = spec["params"]
        out["state"] = {"t_ms": _float(pop.t_ms)}
        return out
    values, units, derived = _params_to_dict(pop.params)
    out: dict[str, Any] = {"family": _family_of(pop), "class": type(pop).__name__}
    if standalone:
        out["label"] = pop.label
    out["n"] = int(pop.n)
    if layer is not None:
        out["layer"] = int(layer)
    out.update(params=values, units=units, derived=derived)
    names = list(pop.state_variables)
    if pop._state.shape[0] != len(names):  # pragma: no cover - every family keeps this
        raise TypeError(f"{type(pop).__name__} has state rows outside state_variables")
    out["state"] = {"t_ms": _float(pop.t_ms),
                    "variables": {v: _plain(pop._state[i]) for i, v in enumerate(names)}}
    return out


def _receptor_to_dict(rec) -> dict:
    keys = RECEPTOR_KEYS + (KINETIC_RECEPTOR_KEYS if rec.kind == "kinetic" else ())
    return {k: _plain(getattr(rec, k)) for k in keys}


def _dynamics_to_dict(dyn) -> dict | None:
    from neurosim_nb.core.synapses.delivery import SynapticDynamics

    if type(dyn) is SynapticDynamics:
        return None
    kind = type(dyn).__name__
    if _dynamics_class(kind) is not type(dyn):
        raise TypeError(f"cannot export synaptic dynamics of class {kind}: supported are "
                        f"{list(_DYNAMICS_STATE)}")
    if getattr(dyn, "modulator", None) is not None:
        raise TypeError(f"cannot export {kind} reading neuromodulator "
                        f"{getattr(dyn.modulator, 'name', dyn.modulator)!r}: neuromodulators "
                        f"are not part of model configs yet")
    values, units, _ = _params_to_dict(dyn.params)
    state = None
    if getattr(dyn, "dt", None) is not None:
        state = {"dt": float(dyn.dt), "step_now": int(dyn.step_now)}
        for name in _DYNAMICS_STATE[kind]:
            state[name] = _plain(getattr(dyn, name))
    return {"type": kind, "params": values, "units": units, "state": state}


def _projection_to_dict(proj) -> dict:
    w = np.asarray(proj.weight)
    delay = proj._delay_ms
    return {
        "name": proj.name, "pre": proj.pre, "post": proj.post,
        "receptor": _receptor_to_dict(proj.receptor),
        "weight_units": proj.receptor.weight_units,
        "n_synapses": int(proj.n_synapses),
        "indptr": proj.indptr.tolist(), "post_idx": proj.post_idx.tolist(),
        "weight": _uniform_or_list(w), "weight_dtype": str(w.dtype),
        "delay_ms": float(delay) if isinstance(delay, float) else delay.tolist(),
        "dynamics": _dynamics_to_dict(proj.dynamics),
    }


def _stimulus_to_dict(stim) -> dict:
    from neurosim_nb.core.networks.spec import STIMULUS_TYPES

    kind = type(stim).__name__
    if STIMULUS_TYPES.get(kind) is not type(stim):
        raise TypeError(f"cannot export a stimulus of class {kind}: supported are "
                        f"{list(STIMULUS_TYPES)}")
    out: dict[str, Any] = {"type": kind}
    for f in dataclasses.fields(stim):
        if f.init:
            out[f.name] = _plain(getattr(stim, f.name))
    return out


def _network_class_name(net) -> str:
    for cls in type(net).__mro__:
        if cls.__name__ in _network_classes() and _network_classes()[cls.__name__] is cls:
            return cls.__name__
    raise TypeError(f"cannot export {type(net).__name__}")  # pragma: no cover


def _attributes_to_dict(net) -> dict:
    out: dict[str, Any] = {}
    d = net.__dict__
    for key in ATTRIBUTE_KEYS:
        if key not in d:
            continue
        value = d[key]
        if key == "params":
            from neurosim_nb.core.networks.layered import LayeredNetwork

            if not isinstance(net, LayeredNetwork):
                continue
            value = value.to_dict()
        elif key == "plastic_projection":
            value = value.name
        try:
            value = _plain(value)
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            continue  # not JSON-able (e.g. a spec holding objects): left out
        out[key] = value
    return out


def _network_to_dict(net) -> dict:
    out: dict[str, Any] = {
        "class": _network_class_name(net), "name": net.name, "seed": int(net.seed),
        "weight_precision": net.weight_precision,
        "rng_state": _plain(net.rng.bit_generator.state),
        "populations": {name: _population_to_dict(pop, standalone=False,
                                                  layer=net.layer_of.get(name))
                        for name, pop in net.populations.items()},
        "projections": [_projection_to_dict(p) for p in net.projections],
        "gap_junctions": [{"name": g.name, "a": g.a, "b": g.b, "a_idx": g.a_idx.tolist(),
                           "b_idx": g.b_idx.tolist(),
                           "conductance_uS": _plain(np.asarray(g.conductance, float)),
                           "rectification": g.rectification} for g in net.gap_junctions],
        "stimuli": {name: [_stimulus_to_dict(s) for s in stims]
                    for name, stims in net.stimuli.items()},
        "layer_names": {str(k): v for k, v in getattr(net, "layer_names", {}).items()},
        "attributes": _attributes_to_dict(net),
        "run_state": {},
    }
    for name, (key, syn_state, syn_buf) in net._carry.items():
        dt, receptors, depth = key
        out["run_state"][name] = {"dt": float(dt), "depth": int(depth),
                                  "receptors": [_receptor_to_dict(r) for r in receptors],
                                  "syn_state": _plain(syn_state), "syn_buf": _plain(syn_buf)}
    return out


def _engine_to_dict(engine) -> dict:
    c, r = engine.config, engine.recording
    neurons = r.neurons
    if neurons is not None:
        neurons = _plain(neurons if isinstance(neurons, dict) else np.asarray(neurons))
    inputs = [{"ids": None if ids is None else _plain(np.asarray(ids)),
               "population": pop, "stimulus": _stimulus_to_dict(stim)}
              for ids, stim, pop in engine._inputs]
    return {"config": {"duration": _plain(c.duration), "dt": _plain(c.dt),
                       "seed": None if c.seed is None else int(c.seed), "verbose": c.verbose},
            "recording": {"variables": _plain(list(r.variables)),
                          "sample_every": int(r.sample_every), "neurons": neurons},
            "inputs": inputs}


def _network_classes() -> dict[str, type]:
    from neurosim_nb.core.networks.layered import LayeredNetwork
    from neurosim_nb.core.networks.network import Network
    from neurosim_nb.core.networks.recurrent import RecurrentNetwork
    from neurosim_nb.core.networks.small_world import SmallWorldNetwork

    return {c.__name__: c for c in (Network, LayeredNetwork, RecurrentNetwork,
                                    SmallWorldNetwork)}


def _dynamics_class(kind: str):
    from neurosim_nb.core.synapses.plasticity import HomeostaticScaling, OjaRule
    from neurosim_nb.core.synapses.release import TsodyksMarkram
    from neurosim_nb.core.synapses.stdp import STDP, RewardModulatedSTDP

    return {c.__name__: c for c in (STDP, RewardModulatedSTDP, OjaRule, HomeostaticScaling,
                                    TsodyksMarkram)}.get(kind)


# -- load ---------------------------------------------------------------------------------------
def load_model_json(path_or_dict):
    """Rebuild a model from :func:`export_model_json`'s dict or file.

    Parameters
    ----------
    path_or_dict : str, path-like or dict

    Returns
    -------
    NeuronPopulation, Network or SimulationEngine
        What was exported, in the same state (see the module docstring).

    Raises
    ------
    ModelConfigError
        A :class:`ValueError` whose message starts with the key path of the first problem
        (unknown key -- with a suggestion --, wrong type, inconsistent array sizes, values
        out of range, nesting deeper than any model file has).
    ExportError
        A missing, unreadable, truncated or foreign file.

    Examples
    --------
    >>> from neurosim_nb import LIFNeuron
    >>> pop = load_model_json(export_model_json(LIFNeuron.create_excitatory(n=3)))
    >>> type(pop).__name__, pop.n
    ('LIFNeuron', 3)
    >>> cfg = export_model_json(LIFNeuron(n=3))
    >>> cfg["model"]["params"]["tau_m"] = [10.0, 12.0]
    >>> load_model_json(cfg)
    Traceback (most recent call last):
    ...
    neurosim_nb.export.config.ModelConfigError: model.params.tau_m: 2 values where 3 are needed
    """
    from neurosim_nb.export._model_load import load

    return load(path_or_dict)
