"""Declarative networks: build a :class:`~neurosim_nb.core.networks.network.Network` from a
JSON-able dict.

Schema (keys not listed are errors)::

    {
      "name": str,                          # optional, default "network"
      "seed": int | null,                   # optional: seed of the connectivity draws
      "populations": {                      # required, insertion order = global id order
        NAME: {"model": "LIF",              # a key of neurosim_nb.core.neurons.MODEL_FAMILIES
               "n": int,                    # number of neurons (>= 1)
               "preset": str,               # optional, a preset of the model family
               "params": {FIELD: value},    # optional parameter overrides
               "layer": int},               # optional layer index (Dataset coord ``layer``)
      },
      "projections": [                      # optional
        {"pre": NAME, "post": NAME,
         "rule": "fixed_probability",       # a rule of connectivity.RULES, with its argument:
         "p": float | "k": int | ...,       #   p (fixed_probability), k (fixed_in/outdegree),
                                            #   positions_pre, sigma_um, ... (distance)
         "weight": float | {"dist": ...},   # receptor units (µS, nA or mV)
         "delay_ms": float | {...},         # optional, default 1.0
         "receptor": "AMPA",                # optional, default "AMPA"
         "autapses": bool,                  # optional, default false
         "name": str},                      # optional projection name
      ],
      "stimuli": {NAME: [{"type": "PoissonInput", "rate_hz": ..., ...}]},   # optional
      "layer_names": {"1": str, ...}        # optional
    }

Every problem raises :class:`SpecError` (a :class:`ValueError`) whose message starts with
the key path, e.g. ``projections[2].rule: unknown connection rule 'fixed_prob'; ...``.
The same spec and seed build the same network, also after a round trip through JSON.

Examples
--------
>>> spec = {
...     "name": "ei", "seed": 3,
...     "populations": {"E": {"model": "LIF", "n": 80, "preset": "excitatory"},
...                     "I": {"model": "LIF", "n": 20, "preset": "inhibitory"}},
...     "projections": [
...         {"pre": "E", "post": "I", "rule": "fixed_probability", "p": 0.2,
...          "weight": 0.002, "receptor": "AMPA"},
...         {"pre": "I", "post": "E", "rule": "fixed_indegree", "k": 5, "weight": 0.004,
...          "receptor": "GABA_A"}],
...     "stimuli": {"E": [{"type": "PoissonInput", "rate_hz": 1000.0, "weight_mV": 1.0}]},
... }
>>> net = build_network(spec)
>>> net.n_neurons, [p.name for p in net.projections]
(100, ['E->I:AMPA', 'I->E:GABA_A'])
>>> build_network({"populations": {"E": {"model": "LIF", "n": 0}}})
Traceback (most recent call last):
...
neurosim_nb.core.networks.spec.SpecError: populations.E.n: 0 must be an integer >= 1
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from neurosim_nb import stimuli as _stimuli
from neurosim_nb._keypath import KeyPathChecker
from neurosim_nb.core.networks.network import Network
from neurosim_nb.core.neurons import MODEL_FAMILIES, model_class
from neurosim_nb.core.synapses.receptors import RECEPTORS

__all__ = ["SpecError", "build_network", "validate_spec", "STIMULUS_TYPES"]

TOP_KEYS = ("name", "seed", "populations", "projections", "stimuli", "layer_names")
POPULATION_KEYS = ("model", "n", "preset", "params", "layer")
#: rule -> (required, optional) arguments
RULE_ARGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "all_to_all": ((), ()),
    "one_to_one": ((), ()),
    "fixed_probability": (("p",), ()),
    "fixed_indegree": (("k",), ()),
    "fixed_outdegree": (("k",), ()),
    "distance": (("positions_pre", "sigma_um"), ("positions_post", "p_max")),
}
PROJECTION_KEYS = ("pre", "post", "rule", "weight", "delay_ms", "receptor", "autapses", "name",
                   "p", "k", "positions_pre", "positions_post", "sigma_um", "p_max")
#: stimulus type name -> class (constructed with the entry's other keys)
STIMULUS_TYPES = {name: getattr(_stimuli, name) for name in (
    "ConstantCurrent", "StepCurrent", "PulseTrain", "RampCurrent", "SineCurrent", "Waveform",
    "OUNoise", "PoissonInput")}


class SpecError(ValueError):
    """A network specification is invalid; the message starts with the key path."""


_CHECK = KeyPathChecker(SpecError)
_fail, _hint, _mapping, _keys = _CHECK.fail, _CHECK.hint, _CHECK.mapping, _CHECK.keys
_string, _integer = _CHECK.string, _CHECK.integer


def _real(path: str, value, lo: float = -math.inf, hi: float = math.inf) -> float:
    return float(_CHECK.real(path, value, lo, hi))


def _values(path: str, value):
    """A number, a list of numbers or a distribution dict (checked when drawn)."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _real(f"{path}[{i}]", v)
        return list(value)
    return _real(path, value)


# -- sections ---------------------------------------------------------------------------------
def _population(path: str, spec) -> dict:
    spec = _mapping(path, spec)
    _keys(path, spec, POPULATION_KEYS, required=("model", "n"))
    model = _string(f"{path}.model", spec["model"])
    if model not in MODEL_FAMILIES:
        raise _fail(f"{path}.model", f"unknown model {model!r}; choose from "
                                     f"{list(MODEL_FAMILIES)}.{_hint(model, MODEL_FAMILIES)}")
    out = {"model": model, "n": _integer(f"{path}.n", spec["n"], minimum=1)}
    cls = model_class(model)
    if "preset" in spec:
        preset = _string(f"{path}.preset", spec["preset"])
        if preset not in cls.presets():
            raise _fail(f"{path}.preset", f"unknown {model} preset {preset!r}; choose from "
                                          f"{list(cls.presets())}.{_hint(preset, cls.presets())}")
        out["preset"] = preset
    params = _mapping(f"{path}.params", spec.get("params", {}))
    fields = cls.parameters_class.field_info()
    for key, value in params.items():
        if key not in fields:
            raise _fail(f"{path}.params.{key}", f"{cls.parameters_class.__name__} has no "
                                                f"parameter {key!r}.{_hint(key, fields)}")
        if isinstance(value, list | tuple):
            if len(value) != out["n"]:
                raise _fail(f"{path}.params.{key}", f"{len(value)} values for "
                                                    f"{out['n']} neurons")
    out["params"] = dict(params)
    if "layer" in spec:
        out["layer"] = _integer(f"{path}.layer", spec["layer"])
    return out


def _projection(path: str, spec, populations) -> dict:
    spec = _mapping(path, spec)
    _keys(path, spec, PROJECTION_KEYS, required=("pre", "post", "rule", "weight"))
    out: dict[str, Any] = {}
    for side in ("pre", "post"):
        name = _string(f"{path}.{side}", spec[side])
        if name not in populations:
            raise _fail(f"{path}.{side}", f"unknown population {name!r}; the spec defines "
                                          f"{list(populations)}.{_hint(name, populations)}")
        out[side] = name
    rule = _string(f"{path}.rule", spec["rule"])
    if rule not in RULE_ARGS:
        raise _fail(f"{path}.rule", f"unknown connection rule {rule!r}; valid rules: "
                                    f"{', '.join(RULE_ARGS)}.{_hint(rule, RULE_ARGS)}")
    out["rule"] = rule
    required, optional = RULE_ARGS[rule]
    for key in ("p", "k", "positions_pre", "positions_post", "sigma_um", "p_max"):
        if key in spec and key not in required + optional:
            takes = ", ".join(required + optional) or "no arguments"
            raise _fail(f"{path}.{key}", f"rule {rule!r} does not use {key!r} (it takes "
                                         f"{takes})")
    for key in required:
        if key not in spec:
            raise _fail(f"{path}.{key}", f"rule {rule!r} needs {key!r}")
    if "p" in spec:
        out["p"] = _real(f"{path}.p", spec["p"], 0.0, 1.0)
    if "p_max" in spec:
        out["p_max"] = _real(f"{path}.p_max", spec["p_max"], 0.0, 1.0)
    if "k" in spec:
        out["k"] = _integer(f"{path}.k", spec["k"], minimum=0)
    if "sigma_um" in spec:
        out["sigma_um"] = _real(f"{path}.sigma_um", spec["sigma_um"], 1e-300)
    for key in ("positions_pre", "positions_post"):
        if key in spec:
            try:
                out[key] = np.asarray(spec[key], dtype=float)
            except (TypeError, ValueError):
                raise _fail(f"{path}.{key}", "must be a list of [x, y] or [x, y, z] "
                                             "coordinates (µm)") from None
    out["weight"] = _values(f"{path}.weight", spec["weight"])
    out["delay_ms"] = _values(f"{path}.delay_ms", spec.get("delay_ms", 1.0))
    receptor = _string(f"{path}.receptor", spec.get("receptor", "AMPA"))
    if receptor not in RECEPTORS:
        raise _fail(f"{path}.receptor", f"unknown receptor {receptor!r}; choose from "
                                        f"{list(RECEPTORS)}.{_hint(receptor, RECEPTORS)}")
    out["receptor"] = receptor
    autapses = spec.get("autapses", False)
    if not isinstance(autapses, bool):
        raise _fail(f"{path}.autapses", f"{autapses!r} must be true or false")
    out["autapses"] = autapses
    if "name" in spec:
        out["name"] = _string(f"{path}.name", spec["name"])
    return out


def _stimulus(path: str, spec, n: int) -> tuple[type, dict]:
    spec = _mapping(path, spec)
    cls = _CHECK.kind(path, spec, STIMULUS_TYPES, "stimulus type")
    allowed = [f.name for f in dataclasses.fields(cls) if f.init]
    kwargs = {k: v for k, v in spec.items() if k != "type"}
    _keys(path, kwargs, ["type", *allowed])
    for key, value in kwargs.items():
        if isinstance(value, bool | str):
            raise _fail(f"{path}.{key}", f"{value!r} must be a number (or a list)")
    targets = kwargs.get("targets")
    if targets is not None:
        if not isinstance(targets, list | tuple):
            raise _fail(f"{path}.targets", "must be a list of neuron indices")
        for i, t in enumerate(targets):
            _integer(f"{path}.targets[{i}]", t, minimum=0)
            if t >= n:
                raise _fail(f"{path}.targets[{i}]", f"{t} is out of range for a population "
                                                    f"of {n} neurons")
    return cls, kwargs


def validate_spec(spec) -> dict:
    """Check ``spec`` against the schema; return it normalised (defaults filled in).

    Raises
    ------
    SpecError
        Naming the key path of the first problem found.
    """
    spec = _mapping("spec", spec)
    _keys("", spec, TOP_KEYS, required=("populations",))
    out: dict[str, Any] = {"name": _string("name", spec.get("name", "network"))}
    seed = spec.get("seed")
    out["seed"] = None if seed is None else _integer("seed", seed, minimum=0)
    pops = _mapping("populations", spec["populations"])
    if not pops:
        raise _fail("populations", "define at least one population")
    out["populations"] = {}
    for name, pspec in pops.items():
        _string(f"populations.{name}", name)
        out["populations"][name] = _population(f"populations.{name}", pspec)
    projections = spec.get("projections", [])
    if not isinstance(projections, list | tuple):
        raise _fail("projections", f"expected a list, got {type(projections).__name__}")
    out["projections"] = [_projection(f"projections[{i}]", p, out["populations"])
                          for i, p in enumerate(projections)]
    out["stimuli"] = {}
    for name, entries in _mapping("stimuli", spec.get("stimuli", {})).items():
        if name not in out["populations"]:
            raise _fail(f"stimuli.{name}", f"unknown population {name!r}; the spec defines "
                                           f"{list(out['populations'])}")
        if not isinstance(entries, list | tuple):
            raise _fail(f"stimuli.{name}", "expected a list of stimuli")
        n = out["populations"][name]["n"]
        out["stimuli"][name] = [_stimulus(f"stimuli.{name}[{i}]", e, n)
                                for i, e in enumerate(entries)]
    layer_names = _mapping("layer_names", spec.get("layer_names", {}))
    out["layer_names"] = {}
    for key, value in layer_names.items():
        try:
            layer = int(key)
        except (TypeError, ValueError):
            raise _fail(f"layer_names.{key}", "keys must be layer numbers") from None
        out["layer_names"][layer] = _string(f"layer_names.{key}", value)
    return out


def build_network(spec: dict) -> Network:
    """Build a :class:`Network` from a declarative, JSON-able ``spec`` (see the module
    docstring for the schema).

    Parameters
    ----------
    spec : dict

    Returns
    -------
    Network
        Populations in the order of ``spec["populations"]``, projections in list order,
        stimuli attached to their populations; ``network.spec`` keeps the spec.

    Raises
    ------
    SpecError
        A :class:`ValueError` whose message starts with the key path of the problem
        (``populations.E.params.tau_m``, ``projections[2].rule``, ``stimuli.E[0].type``).
    """
    norm = validate_spec(spec)
    net = Network(norm["name"], norm["seed"])
    for name, p in norm["populations"].items():
        path = f"populations.{name}"
        cls = model_class(p["model"])
        params = {k: np.asarray(v, float) if isinstance(v, list | tuple) else v
                  for k, v in p["params"].items()}
        try:
            if "preset" in p:
                pop = cls.from_preset(p["preset"], n=p["n"], **params)
            else:
                pop = cls(cls.parameters_class(**params), n=p["n"])
        except (TypeError, ValueError) as err:
            raise _fail(f"{path}.params", str(err)) from None
        net.add_population(name, pop, layer=p.get("layer"))
    for i, p in enumerate(norm["projections"]):
        rule_args = {k: p[k] for k in ("p", "k", "positions_pre", "positions_post", "sigma_um",
                                       "p_max") if k in p}
        try:
            net.connect(p["pre"], p["post"], p["rule"], weight=p["weight"],
                        delay_ms=p["delay_ms"], receptor=p["receptor"], name=p.get("name"),
                        autapses=p["autapses"], **rule_args)
        except (TypeError, ValueError) as err:
            raise _fail(f"projections[{i}]", str(err)) from None
    for name, entries in norm["stimuli"].items():
        for i, (cls, kwargs) in enumerate(entries):
            try:
                net.add_stimulus(name, cls(**kwargs))
            except (TypeError, ValueError) as err:
                raise _fail(f"stimuli.{name}[{i}]", str(err)) from None
    if norm["layer_names"]:
        net.layer_names = norm["layer_names"]
    net.spec = spec
    return net
