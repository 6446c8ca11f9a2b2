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

import copy as _copy
import dataclasses
import json
import math
import numbers
from typing import Any

import numpy as np

from neurosim_nb._keypath import KeyPathChecker
from neurosim_nb._version import __version__
from neurosim_nb.export._atomic import ExportError, atomic_path, readable_path

__all__ = ["FORMAT", "VERSION", "ModelConfigError", "export_model_json", "load_model_json"]

#: value of the ``format`` key of every model file
FORMAT = "neurosim_nb.model"
#: layout version written (and the newest read)
VERSION = 1

TOP_KEYS = ("format", "version", "neurosim_nb_version", "kind", "model", "engine")
POPULATION_KEYS = ("family", "class", "label", "n", "layer", "params", "units", "derived",
                   "state")
NETWORK_KEYS = ("class", "name", "seed", "weight_precision", "rng_state", "populations",
                "projections", "gap_junctions", "stimuli", "layer_names", "attributes",
                "run_state")
PROJECTION_KEYS = ("name", "pre", "post", "receptor", "weight_units", "n_synapses", "indptr",
                   "post_idx", "weight", "weight_dtype", "delay_ms", "dynamics")
RECEPTOR_KEYS = ("name", "kind", "tau_decay_ms", "tau_rise_ms", "E_rev_mV", "mg_mM")
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


class ModelConfigError(ValueError):
    """A model configuration is invalid; the message starts with the key path."""


# -- small validators (shared with core.networks.spec) ----------------------------------------
_CHECK = KeyPathChecker(ModelConfigError)
_fail, _hint, _join, _mapping = _CHECK.fail, _CHECK.hint, _CHECK.join, _CHECK.mapping
_keys, _string, _integer, _list = _CHECK.keys, _CHECK.string, _CHECK.integer, _CHECK.list


def _real(path: str, value, *, allow_inf: bool = False):
    """A finite number (kept as int or float, as given); ``"inf"``/``"-inf"`` if allowed."""
    if allow_inf and value in ("inf", "-inf"):
        return float(value)
    return _CHECK.real(path, value)


def _array(path: str, value, kind: str, length: int | None = None, ndim: int = 1
           ) -> np.ndarray:
    """A JSON list as an array: ``kind`` ``"f"`` (finite numbers, float64), ``"i"`` (integers,
    int64) or ``"b"`` (booleans); ``length`` checks the first dimension."""
    _list(path, value)
    try:
        arr = np.asarray(value)
    except ValueError:
        raise _fail(path, "a ragged nested list (rows of different lengths)") from None
    if arr.size == 0:
        arr = arr.reshape((0,) * ndim if length in (None, 0) else arr.shape)
    elif kind == "b":
        if arr.dtype != bool:
            raise _fail(path, "must be a list of true/false values")
    elif arr.dtype.kind not in ("i", "u") + (("f",) if kind == "f" else ()):
        what = "numbers" if kind == "f" else "integers"
        raise _fail(path, f"must be a list of {what}")
    if arr.ndim != ndim and arr.size:
        raise _fail(path, f"expected a {ndim}-dimensional list, got {arr.ndim} dimensions")
    if length is not None and (arr.shape[0] if arr.ndim else 0) != length:
        got = arr.shape[0] if arr.ndim else 0
        raise _fail(path, f"{got} values where {length} are needed")
    if kind == "f":
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            raise _fail(path, "values must be finite")
    elif kind == "i":
        arr = arr.astype(np.int64)
    return arr


def _wrap(path: str, func, *args, **kwargs):
    """Call ``func``; a ValueError/TypeError from it becomes a ModelConfigError at ``path``."""
    try:
        return func(*args, **kwargs)
    except ModelConfigError:
        raise
    except (TypeError, ValueError) as err:
        raise _fail(path, str(err)) from None


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
    return {k: _plain(getattr(rec, k)) for k in RECEPTOR_KEYS}


def _dynamics_to_dict(dyn) -> dict | None:
    from neurosim_nb.core.synapses.delivery import SynapticDynamics

    if type(dyn) is SynapticDynamics:
        return None
    kind = type(dyn).__name__
    if _dynamics_class(kind) is not type(dyn):
        raise TypeError(f"cannot export synaptic dynamics of class {kind}: supported are "
                        f"{list(_DYNAMICS_STATE)}")
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
        out of range).
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
    if isinstance(path_or_dict, dict):
        cfg = path_or_dict
    else:
        cfg = _read(path_or_dict)
    cfg = _mapping("", cfg)
    _keys("", cfg, TOP_KEYS, required=("format", "version", "kind", "model"))
    if cfg["format"] != FORMAT:
        raise _fail("format", f"{cfg['format']!r} is not {FORMAT!r} (not a neurosim_nb model "
                              f"configuration)")
    version = _integer("version", cfg["version"], minimum=1)
    if version > VERSION:
        raise _fail("version", f"{version} is newer than this neurosim_nb reads ({VERSION}); "
                               f"update neurosim_nb")
    if "neurosim_nb_version" in cfg:
        _string("neurosim_nb_version", cfg["neurosim_nb_version"])
    kind = _string("kind", cfg["kind"])
    if kind == "population":
        model = _build_population("model", cfg["model"], standalone=True)
    elif kind == "network":
        model = _build_network("model", cfg["model"])
    else:
        raise _fail("kind", f"{kind!r} must be 'population' or 'network'."
                            f"{_hint(kind, ('population', 'network'))}")
    if "engine" in cfg:
        return _build_engine("engine", cfg["engine"], model)
    return model


def _read(path) -> dict:
    p = readable_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ExportError(f"cannot read {p}: {err}") from err

    def no_constant(name):
        raise ValueError(f"{name} is not valid JSON")

    try:
        cfg = json.loads(text, parse_constant=no_constant)
    except ValueError as err:
        raise ExportError(f"{p} is not a valid JSON model file (truncated or corrupt?): "
                          f"{err}") from None
    if not isinstance(cfg, dict) or cfg.get("format") != FORMAT:
        raise ExportError(f"{p} is not a neurosim_nb model configuration (no 'format': "
                          f"{FORMAT!r})")
    return cfg


def _model_class(path: str, family):
    from neurosim_nb.core.neurons import MODEL_FAMILIES, model_class

    family = _string(path, family)
    if family not in MODEL_FAMILIES:
        raise _fail(path, f"unknown model family {family!r}; choose from "
                          f"{list(MODEL_FAMILIES)}.{_hint(family, MODEL_FAMILIES)}")
    return model_class(family)


def _build_params(path: str, pcls, spec: dict, n: int | None, units=None, derived=()):
    """A ParameterSet of class ``pcls`` from ``{name: value}`` (per-neuron lists of ``n``)."""
    info = pcls.field_info()
    _keys(f"{path}.params", spec, list(info))
    if units is not None:
        _mapping(f"{path}.units", units)
        for key, unit in units.items():
            if key not in info:
                raise _fail(f"{path}.units.{key}", f"{pcls.__name__} has no parameter "
                                                   f"{key!r}.{_hint(key, info)}")
            if unit != info[key]["unit"]:
                raise _fail(f"{path}.units.{key}", f"{unit!r} does not match the unit "
                                                   f"{info[key]['unit']!r} of {pcls.__name__}")
    kwargs = {}
    for key, value in spec.items():
        where = f"{path}.params.{key}"
        if key in derived:
            kwargs[key] = None  # re-derived from the other values, as when first built
        elif isinstance(value, list):
            if n is None:
                raise _fail(where, "must be a single value")
            kwargs[key] = _array(where, value, "f", length=n)
        elif value is None or isinstance(value, str):
            kwargs[key] = value
        else:
            kwargs[key] = _real(where, value)
    return _wrap(f"{path}.params", pcls, **kwargs)


def _build_population(path: str, spec, *, standalone: bool, name: str | None = None):
    spec = _mapping(path, spec)
    allowed = [k for k in POPULATION_KEYS if k != ("layer" if standalone else "label")]
    _keys(path, spec, allowed, required=("family", "n", "params"))
    cls = _model_class(f"{path}.family", spec["family"])
    if "class" in spec and _string(f"{path}.class", spec["class"]) != cls.__name__:
        raise _fail(f"{path}.class", f"{spec['class']!r} does not match family "
                                     f"{spec['family']!r} ({cls.__name__})")
    n = _integer(f"{path}.n", spec["n"], minimum=1)
    derived = spec.get("derived", [])
    for i, d in enumerate(_list(f"{path}.derived", derived)):
        _string(f"{path}.derived[{i}]", d)
    params = _build_params(path, cls.parameters_class, _mapping(f"{path}.params",
                                                                 spec["params"]),
                           n, spec.get("units"), derived)
    label = _string(f"{path}.label", spec["label"]) if "label" in spec else name
    pop = _wrap(path, cls, params, n=n, label=label)
    if "state" in spec:
        _restore_state(f"{path}.state", pop, spec["state"])
    return pop


def _restore_state(path: str, pop, spec) -> None:
    spec = _mapping(path, spec)
    _keys(path, spec, ("t_ms", "variables"))
    if "t_ms" in spec:
        pop.t_ms = float(_real(f"{path}.t_ms", spec["t_ms"]))
    variables = _mapping(f"{path}.variables", spec.get("variables", {}))
    names = list(pop.state_variables)
    for key, values in variables.items():
        where = f"{path}.variables.{key}"
        if key not in names:
            raise _fail(where, f"{type(pop).__name__} has no state variable {key!r}; it has "
                               f"{names}.{_hint(key, names)}")
        pop._state[names.index(key)] = _array(where, values, "f", length=pop.n)


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


def _build_receptor(path: str, spec):
    from neurosim_nb.core.synapses.receptors import Receptor

    spec = _mapping(path, spec)
    _keys(path, spec, RECEPTOR_KEYS, required=RECEPTOR_KEYS)
    kwargs = {"name": _string(f"{path}.name", spec["name"]),
              "kind": _string(f"{path}.kind", spec["kind"])}
    for key in RECEPTOR_KEYS[2:]:
        kwargs[key] = _real(f"{path}.{key}", spec[key])
    return _wrap(path, Receptor, **kwargs)


def _build_dynamics(path: str, spec, proj):
    if spec is None:
        return None
    spec = _mapping(path, spec)
    _keys(path, spec, DYNAMICS_KEYS, required=("type", "params"))
    kind = _string(f"{path}.type", spec["type"])
    cls = _dynamics_class(kind)
    if cls is None:
        raise _fail(f"{path}.type", f"unknown synaptic dynamics {kind!r}; choose from "
                                    f"{list(_DYNAMICS_STATE)}.{_hint(kind, _DYNAMICS_STATE)}")
    pcls = getattr(cls, "parameters_class", None) or type(cls().params)
    params = _build_params(path, pcls, _mapping(f"{path}.params", spec["params"]), None,
                           spec.get("units"))
    dyn = _wrap(path, cls, params)
    dyn.attach(proj)
    state = spec.get("state")
    if state is not None:
        state = _mapping(f"{path}.state", state)
        names = _DYNAMICS_STATE[kind]
        _keys(f"{path}.state", state, ("dt", "step_now", *names),
              required=("dt", "step_now", *names))
        _wrap(path, dyn._init_state, proj)
        dyn.dt = float(_real(f"{path}.state.dt", state["dt"]))
        if dyn.dt <= 0:
            raise _fail(f"{path}.state.dt", f"{dyn.dt!r} must be > 0")
        dyn._set_dt(dyn.dt)
        dyn.step_now = _integer(f"{path}.state.step_now", state["step_now"])
        for name in names:
            where, current = f"{path}.state.{name}", getattr(dyn, name)
            if isinstance(current, np.ndarray):
                arr = _array(where, state[name], "i" if current.dtype.kind == "i" else "f",
                             length=current.shape[0])
                setattr(dyn, name, arr.astype(current.dtype))
            elif isinstance(current, numbers.Integral):
                setattr(dyn, name, _integer(where, state[name]))
            else:
                setattr(dyn, name, float(_real(where, state[name])))
    return dyn


def _build_projection(path: str, spec, net):
    from neurosim_nb.core.networks.network import Projection, _check_values

    spec = _mapping(path, spec)
    _keys(path, spec, PROJECTION_KEYS, required=("pre", "post", "receptor", "indptr",
                                                 "post_idx", "weight", "delay_ms"))
    sides = {}
    for side in ("pre", "post"):
        pname = _string(f"{path}.{side}", spec[side])
        if pname not in net.populations:
            raise _fail(f"{path}.{side}", f"unknown population {pname!r}; the network has "
                                          f"{list(net.populations)}."
                                          f"{_hint(pname, net.populations)}")
        sides[side] = pname
    n_pre, n_post = net.populations[sides["pre"]].n, net.populations[sides["post"]].n
    rec = _build_receptor(f"{path}.receptor", spec["receptor"])
    if "weight_units" in spec and spec["weight_units"] != rec.weight_units:
        raise _fail(f"{path}.weight_units", f"{spec['weight_units']!r} does not match the "
                                            f"receptor's {rec.weight_units!r}")
    indptr = _array(f"{path}.indptr", spec["indptr"], "i", length=n_pre + 1)
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0):
        raise _fail(f"{path}.indptr", "must start at 0 and never decrease")
    n_syn = int(indptr[-1])
    if "n_synapses" in spec and _integer(f"{path}.n_synapses", spec["n_synapses"]) != n_syn:
        raise _fail(f"{path}.n_synapses", f"{spec['n_synapses']} but indptr ends at {n_syn}")
    post_idx = _array(f"{path}.post_idx", spec["post_idx"], "i", length=n_syn)
    if n_syn and (post_idx.min() < 0 or post_idx.max() >= n_post):
        raise _fail(f"{path}.post_idx", f"indices must be in 0..{n_post - 1} "
                                        f"({sides['post']})")
    dtype = _string(f"{path}.weight_dtype", spec.get("weight_dtype", "float64"))
    if dtype not in ("float64", "float32"):
        raise _fail(f"{path}.weight_dtype", f"{dtype!r} must be 'float64' or 'float32'")
    weight = spec["weight"]
    if isinstance(weight, list):
        weight = _array(f"{path}.weight", weight, "f", length=n_syn)
    else:
        weight = np.full(n_syn, float(_real(f"{path}.weight", weight)))
    weight = weight.astype(dtype)
    delay = spec["delay_ms"]
    if isinstance(delay, list):
        delay = _array(f"{path}.delay_ms", delay, "f", length=n_syn)
    else:
        delay = float(_real(f"{path}.delay_ms", delay))
    _wrap(path, _check_values, rec, weight, delay)
    name = _string(f"{path}.name", spec.get("name", f"{sides['pre']}->{sides['post']}:"
                                                     f"{rec.name}"))
    proj = _wrap(path, Projection.from_csr, name, sides["pre"], sides["post"], rec, indptr,
                 post_idx, weight, delay, n_pre, n_post)
    dyn = _build_dynamics(f"{path}.dynamics", spec.get("dynamics"), proj)
    if dyn is not None:
        proj.dynamics = dyn
    return proj


def _build_stimulus(path: str, spec, n: int):
    from neurosim_nb.core.networks.spec import STIMULUS_TYPES

    spec = _mapping(path, spec)
    cls = _CHECK.kind(path, spec, STIMULUS_TYPES, "stimulus type")
    allowed = [f.name for f in dataclasses.fields(cls) if f.init]
    _keys(path, spec, ["type", *allowed])
    kwargs: dict[str, Any] = {}
    for key, value in spec.items():
        where = f"{path}.{key}"
        if key == "type" or value is None:
            if key != "type":
                kwargs[key] = None
            continue
        if key == "targets":
            idx = _array(where, value, "i")
            if idx.size and (idx.min() < 0 or idx.max() >= n):
                raise _fail(where, f"indices must be in 0..{n - 1}")
            kwargs[key] = idx
        elif isinstance(value, list):
            ndim = 2 if value and isinstance(value[0], list) else 1
            kwargs[key] = _array(where, value, "f", ndim=ndim)
        else:
            kwargs[key] = _real(where, value, allow_inf=True)
    return _wrap(path, cls, **kwargs)


def _build_gap(path: str, spec, net):
    from neurosim_nb.core.networks.network import GapJunctions

    spec = _mapping(path, spec)
    _keys(path, spec, GAP_KEYS, required=("a", "b", "a_idx", "b_idx", "conductance_uS"))
    names, idx = {}, {}
    for side in ("a", "b"):
        pname = _string(f"{path}.{side}", spec[side])
        if pname not in net.populations:
            raise _fail(f"{path}.{side}", f"unknown population {pname!r}; the network has "
                                          f"{list(net.populations)}."
                                          f"{_hint(pname, net.populations)}")
        names[side] = pname
        arr = _array(f"{path}.{side}_idx", spec[f"{side}_idx"], "i")
        n = net.populations[pname].n
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            raise _fail(f"{path}.{side}_idx", f"indices must be in 0..{n - 1} ({pname})")
        idx[side] = arr
    if idx["a"].shape != idx["b"].shape:
        raise _fail(f"{path}.b_idx", f"{idx['b'].size} indices for {idx['a'].size} in a_idx")
    g = spec["conductance_uS"]
    g = (_array(f"{path}.conductance_uS", g, "f", length=idx["a"].size) if isinstance(g, list)
         else np.full(idx["a"].size, float(_real(f"{path}.conductance_uS", g))))
    rect = spec.get("rectification")
    if rect is not None:
        _string(f"{path}.rectification", rect)
    name = _string(f"{path}.name", spec.get("name", f"{names['a']}<->{names['b']}:gap"))
    return _wrap(path, GapJunctions, name, names["a"], names["b"], idx["a"], idx["b"], g, rect)


def _int_keys(path: str, value, kind=None) -> dict:
    out = {}
    for key, v in _mapping(path, value).items():
        try:
            layer = int(key)
        except (TypeError, ValueError):
            raise _fail(f"{path}.{key}", "keys must be layer numbers") from None
        out[layer] = _string(f"{path}.{key}", v) if kind is None else kind(f"{path}.{key}", v)
    return out


def _restore_attributes(path: str, spec, net, cls_name: str) -> None:
    spec = _mapping(path, spec)
    _keys(path, spec, ATTRIBUTE_KEYS)
    for key, value in spec.items():
        where = f"{path}.{key}"
        if key == "params":
            if cls_name != "LayeredNetwork":
                raise _fail(where, "only a LayeredNetwork has layer parameters")
            from neurosim_nb.core.networks.layered import LayeredNetworkParameters

            value = _wrap(where, LayeredNetworkParameters, **_mapping(where, value))
        elif key == "layer_sizes":
            value = _int_keys(where, value, lambda p, v: _integer(p, v, minimum=1))
        elif key in ("layer_abbrevs", "layer_kinds"):
            value = _int_keys(where, value)
        elif key == "plastic_projection":
            names = [p.name for p in net.projections]
            if _string(where, value) not in names:
                raise _fail(where, f"no projection {value!r}.{_hint(value, names)}")
            value = net.projections[names.index(value)]
        elif key == "graph_population":
            if _string(where, value) not in net.populations:
                raise _fail(where, f"unknown population {value!r}")
        elif key == "inhibitory_mask":
            pop = net.populations.get(net.__dict__.get("graph_population", ""), None)
            pop = pop or next(iter(net.populations.values()))
            value = _array(where, value, "b", length=pop.n)
        else:  # brunel, small_world, spec: plain JSON
            value = _copy.deepcopy(value)
        setattr(net, key, value)
    if cls_name == "LayeredNetwork" and "params" not in spec:
        raise _fail(f"{path}.params", "required for a LayeredNetwork")


def _restore_run_state(path: str, spec, net) -> None:
    for name, entry in _mapping(path, spec).items():
        where = f"{path}.{name}"
        if name not in net.populations:
            raise _fail(where, f"unknown population {name!r}.{_hint(name, net.populations)}")
        entry = _mapping(where, entry)
        keys = ("dt", "depth", "receptors", "syn_state", "syn_buf")
        _keys(where, entry, keys, required=keys)
        dt = float(_real(f"{where}.dt", entry["dt"]))
        depth = _integer(f"{where}.depth", entry["depth"], minimum=1)
        receptors = tuple(_build_receptor(f"{where}.receptors[{i}]", r)
                          for i, r in enumerate(_list(f"{where}.receptors", entry["receptors"])))
        n, c = net.populations[name].n, len(receptors)
        state = _array(f"{where}.syn_state", entry["syn_state"], "f", length=c, ndim=3)
        buf = _array(f"{where}.syn_buf", entry["syn_buf"], "f", length=c, ndim=3)
        if c == 0:  # no receptor channels: empty lists
            state, buf = np.zeros((0, 2, n)), np.zeros((0, depth, n))
        if state.shape != (c, 2, n):
            raise _fail(f"{where}.syn_state", f"shape {list(state.shape)}, expected "
                                              f"{[c, 2, n]}")
        if buf.shape != (c, depth, n):
            raise _fail(f"{where}.syn_buf", f"shape {list(buf.shape)}, expected "
                                            f"{[c, depth, n]}")
        net._carry[name] = ((dt, receptors, depth), state, buf)


def _build_network(path: str, spec):
    from neurosim_nb.core.networks.network import Network

    spec = _mapping(path, spec)
    _keys(path, spec, NETWORK_KEYS, required=("populations",))
    classes = _network_classes()
    cls_name = _string(f"{path}.class", spec.get("class", "Network"))
    if cls_name not in classes:
        raise _fail(f"{path}.class", f"unknown network class {cls_name!r}; choose from "
                                     f"{list(classes)}.{_hint(cls_name, classes)}")
    name = _string(f"{path}.name", spec.get("name", "network"))
    seed = spec.get("seed")
    seed = None if seed is None else _integer(f"{path}.seed", seed, minimum=0)
    precision = _string(f"{path}.weight_precision", spec.get("weight_precision", "float64"))
    net = classes[cls_name].__new__(classes[cls_name])
    _wrap(f"{path}.weight_precision", Network.__init__, net, name, seed, precision)
    if "rng_state" in spec:
        state = _mapping(f"{path}.rng_state", spec["rng_state"])
        rng = np.random.default_rng(0)
        _wrap(f"{path}.rng_state", setattr, rng.bit_generator, "state", _copy.deepcopy(state))
        net.rng = rng
    pops = _mapping(f"{path}.populations", spec["populations"])
    if not pops:
        raise _fail(f"{path}.populations", "define at least one population")
    for pname, pspec in pops.items():
        where = f"{path}.populations.{pname}"
        pop = _build_population(where, pspec, standalone=False, name=pname)
        layer = pspec.get("layer")
        layer = None if layer is None else _integer(f"{where}.layer", layer)
        net.add_population(pname, pop, layer=layer)
    for i, pspec in enumerate(_list(f"{path}.projections", spec.get("projections", []))):
        net.projections.append(_build_projection(f"{path}.projections[{i}]", pspec, net))
    for i, gspec in enumerate(_list(f"{path}.gap_junctions", spec.get("gap_junctions", []))):
        net.gap_junctions.append(_build_gap(f"{path}.gap_junctions[{i}]", gspec, net))
    for pname, entries in _mapping(f"{path}.stimuli", spec.get("stimuli", {})).items():
        where = f"{path}.stimuli.{pname}"
        if pname not in net.populations:
            raise _fail(where, f"unknown population {pname!r}; the network has "
                               f"{list(net.populations)}.{_hint(pname, net.populations)}")
        n = net.populations[pname].n
        net.stimuli[pname] = [_build_stimulus(f"{where}[{i}]", e, n)
                              for i, e in enumerate(_list(where, entries))]
    if spec.get("layer_names") or cls_name == "LayeredNetwork":
        net.layer_names = _int_keys(f"{path}.layer_names", spec.get("layer_names", {}))
    _restore_attributes(f"{path}.attributes", spec.get("attributes", {}), net, cls_name)
    _restore_run_state(f"{path}.run_state", spec.get("run_state", {}), net)
    return net


def _build_engine(path: str, spec, model):
    from neurosim_nb.engine.simulator import RecordingConfig, SimulationConfig, SimulationEngine

    spec = _mapping(path, spec)
    _keys(path, spec, ENGINE_KEYS)
    c = _mapping(f"{path}.config", spec.get("config", {}))
    _keys(f"{path}.config", c, ("duration", "dt", "seed", "verbose"))
    kwargs = {k: _real(f"{path}.config.{k}", c[k]) for k in ("duration", "dt") if k in c}
    if c.get("seed") is not None:
        kwargs["seed"] = _integer(f"{path}.config.seed", c["seed"], minimum=0)
    if c.get("verbose") is not None:
        if not isinstance(c["verbose"], bool):
            raise _fail(f"{path}.config.verbose", f"{c['verbose']!r} must be true, false or "
                                                  f"null")
        kwargs["verbose"] = c["verbose"]
    config = _wrap(f"{path}.config", SimulationConfig, **kwargs)
    r = _mapping(f"{path}.recording", spec.get("recording", {}))
    _keys(f"{path}.recording", r, ("variables", "sample_every", "neurons"))
    rkw: dict[str, Any] = {}
    if "variables" in r:
        rkw["variables"] = [_string(f"{path}.recording.variables[{i}]", v)
                            for i, v in enumerate(_list(f"{path}.recording.variables",
                                                        r["variables"]))]
    if "sample_every" in r:
        rkw["sample_every"] = _integer(f"{path}.recording.sample_every", r["sample_every"],
                                       minimum=1)
    neurons = r.get("neurons")
    if isinstance(neurons, dict):
        rkw["neurons"] = {k: _array(f"{path}.recording.neurons.{k}", v, "i")
                          for k, v in neurons.items()}
    elif neurons is not None:
        rkw["neurons"] = _array(f"{path}.recording.neurons", neurons, "i")
    engine = SimulationEngine(model, config, RecordingConfig(**rkw))
    is_net = engine._is_network
    for i, entry in enumerate(_list(f"{path}.inputs", spec.get("inputs", []))):
        where = f"{path}.inputs[{i}]"
        entry = _mapping(where, entry)
        _keys(where, entry, ("ids", "population", "stimulus"), required=("stimulus",))
        ids = entry.get("ids")
        if ids is not None:
            ids = _array(f"{where}.ids", ids, "i")
        pop = entry.get("population")
        if pop is not None:
            if not is_net or _string(f"{where}.population", pop) not in model.populations:
                raise _fail(f"{where}.population", f"unknown population {pop!r}")
        n = (model.populations[pop].n if pop is not None else
             next(iter(model.populations.values())).n if is_net else model.n)
        if ids is not None:  # a global-id input: targets are set per run
            n = model.n_neurons if is_net else model.n
        stim = _build_stimulus(f"{where}.stimulus", entry["stimulus"], n)
        engine._inputs.append((ids, stim, pop))
    return engine
