"""Declarative networks: build a :class:`~neurosim_nb.core.networks.network.Network` from a
JSON-able dict.

Schema (keys not listed are errors)::

    {
      "name": str,                          # optional, default "network"
      "seed": int | null,                   # optional: seed of the connectivity draws
      "populations": {                      # required, insertion order = global id order
        NAME: {"model": "LIF",              # a key of neurosim_nb.core.neurons.MODEL_FAMILIES
                                            # or a spike source of sources.SOURCES, e.g.
                                            # {"model": "PoissonSource", "n": 100,
                                            #  "params": {"rate_hz": 10.0}}
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

A stimulus entry takes the fields of its class: numbers or lists, and strings for the
fields whose default is one (``text_fields``: ``PoissonInput``'s ``"sampling"``,
``"per_step"`` or ``"gaps"``).

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
from typing import Any

from neurosim_nb import stimuli as _stimuli
from neurosim_nb._validation import (
    AT_LEAST_ONE,
    MAX_SEED,
    NON_NEGATIVE,
    POSITIVE,
    PROBABILITY,
    Bounds,
    Checker,
    did_you_mean,
)
from neurosim_nb.core.networks.network import Network, check_name
from neurosim_nb.core.neurons import MODEL_FAMILIES, model_class
from neurosim_nb.core.neurons.sources import SOURCES, source_from_dict
from neurosim_nb.core.synapses.receptors import RECEPTORS
from neurosim_nb.errors import InvalidArgumentError, TooLargeError

__all__ = ["SpecError", "SpecTooLargeError", "build_network", "validate_spec",
           "STIMULUS_TYPES", "text_fields"]

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
_RULE_KEYS = ("p", "k", "positions_pre", "positions_post", "sigma_um", "p_max")
PROJECTION_KEYS = ("pre", "post", "rule", "weight", "delay_ms", "receptor", "autapses", "name",
                   *_RULE_KEYS)
#: stimulus type name -> class (constructed with the entry's other keys)
STIMULUS_TYPES = {name: getattr(_stimuli, name) for name in (
    "ConstantCurrent", "StepCurrent", "PulseTrain", "RampCurrent", "SineCurrent", "Waveform",
    "OUNoise", "PoissonInput")}


class SpecError(InvalidArgumentError):
    """A network specification is invalid; the message starts with the key path."""


class SpecTooLargeError(SpecError, TooLargeError):
    """A spec asks for more memory than allowed (a delay whose ring buffers, a projection
    whose synapses would not fit): both a :class:`SpecError` and a :class:`TooLargeError`."""


class _SpecChecker(Checker):
    """The spec's checks; a size refused by a constructor becomes a
    :class:`SpecTooLargeError` (with the key path in front), the other refusals
    :class:`SpecError`."""

    def call(self, path: str, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except self.error:
            raise
        except TooLargeError as err:
            raise SpecTooLargeError(f"{path}: {err}") from None
        except (TypeError, ValueError) as err:
            raise self.fail(path, str(err)) from None


_CHECK = _SpecChecker(SpecError)
#: seeds a spec may hold (what NetCDF stores in a result's ``build_seed``)
_SEEDS = Bounds(0, MAX_SEED)
#: a layer index: stored in a result's int64 ``layer`` coord, where -1 marks "no layer"
_LAYERS = Bounds(0, 2**63 - 1)


def _values(path: str, value):
    """A number, a list of numbers (an array) or a distribution dict (checked when drawn)."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list | tuple):
        return _CHECK.array(path, value, "f")
    return float(_CHECK.number(path, value))


# -- sections ---------------------------------------------------------------------------------
def _population(path: str, spec) -> dict:
    spec = _CHECK.keys(path, spec, POPULATION_KEYS, required=("model", "n"))
    if isinstance(spec["model"], str) and spec["model"] in SOURCES:
        return _source(path, spec)
    model = _CHECK.choice(f"{path}.model", spec["model"], MODEL_FAMILIES, "model")
    out = {"model": model, "n": _CHECK.integer(f"{path}.n", spec["n"], AT_LEAST_ONE)}
    cls = model_class(model)
    if "preset" in spec:
        out["preset"] = _CHECK.choice(f"{path}.preset", spec["preset"], cls.presets(),
                                      f"{model} preset")
    fields = cls.parameters_class.field_info()
    out["params"] = {}
    for where, key, value in _CHECK.members(f"{path}.params", spec.get("params", {})):
        if key not in fields:
            raise _CHECK.fail(where, f"{cls.parameters_class.__name__} has no parameter "
                                     f"{key!r}.{did_you_mean(key, fields)}")
        out["params"][key] = (_CHECK.array(where, value, "f", length=out["n"])
                              if isinstance(value, list | tuple) else value)
    if "layer" in spec:
        out["layer"] = _CHECK.integer(f"{path}.layer", spec["layer"], _LAYERS)
    return out


def _source(path: str, spec: dict) -> dict:
    """A spike-source population (``model`` a key of ``SOURCES``; its constructor's
    arguments under ``params``), checked by building it once."""
    out = {"model": spec["model"], "n": _CHECK.integer(f"{path}.n", spec["n"], AT_LEAST_ONE),
           "params": dict(_CHECK.mapping(f"{path}.params", spec.get("params", {})))}
    if "preset" in spec:
        raise _CHECK.fail(f"{path}.preset", f"a spike source ({spec['model']}) has no presets")
    _CHECK.call(f"{path}.params", source_from_dict, out)
    if "layer" in spec:
        out["layer"] = _CHECK.integer(f"{path}.layer", spec["layer"], _LAYERS)
    return out


def _projection(path: str, spec: dict, populations) -> dict:
    _CHECK.keys(path, spec, PROJECTION_KEYS, required=("pre", "post", "rule", "weight"))
    out: dict[str, Any] = {side: _CHECK.choice(f"{path}.{side}", spec[side], populations,
                                               "population") for side in ("pre", "post")}
    rule = out["rule"] = _CHECK.choice(f"{path}.rule", spec["rule"], RULE_ARGS,
                                       "connection rule")
    required, optional = RULE_ARGS[rule]
    for key in _RULE_KEYS:
        if key in spec and key not in required + optional:
            takes = ", ".join(required + optional) or "no arguments"
            raise _CHECK.fail(f"{path}.{key}", f"rule {rule!r} does not use {key!r} (it takes "
                                               f"{takes})")
    for key in required:
        if key not in spec:
            raise _CHECK.fail(f"{path}.{key}", f"rule {rule!r} needs {key!r}")
    for key, bounds in (("p", PROBABILITY), ("p_max", PROBABILITY), ("sigma_um", POSITIVE)):
        if key in spec:
            out[key] = float(_CHECK.number(f"{path}.{key}", spec[key], bounds))
    if "k" in spec:
        out["k"] = _CHECK.integer(f"{path}.k", spec["k"], NON_NEGATIVE)
    for key in ("positions_pre", "positions_post"):
        if key in spec:  # [[x, y], ...] or [[x, y, z], ...] in µm
            out[key] = _CHECK.array(f"{path}.{key}", spec[key], "f", ndim=2)
    out["weight"] = _values(f"{path}.weight", spec["weight"])
    out["delay_ms"] = _values(f"{path}.delay_ms", spec.get("delay_ms", 1.0))
    out["receptor"] = _CHECK.choice(f"{path}.receptor", spec.get("receptor", "AMPA"), RECEPTORS,
                                    "receptor")
    out["autapses"] = _CHECK.boolean(f"{path}.autapses", spec.get("autapses", False))
    if "name" in spec:
        out["name"] = _CHECK.call(f"{path}.name", check_name, "a projection name",
                                  _CHECK.string(f"{path}.name", spec["name"]))
    return out


def text_fields(cls) -> set[str]:
    """The fields of stimulus class ``cls`` that take a string (their default is one, e.g.
    ``PoissonInput.sampling``); every other field takes numbers.

    >>> sorted(text_fields(STIMULUS_TYPES["PoissonInput"]))
    ['sampling']
    """
    return {f.name for f in dataclasses.fields(cls) if f.init and isinstance(f.default, str)}


def _stimulus(path: str, spec: dict, n: int) -> tuple[type, dict]:
    cls = _CHECK.kind(path, spec, STIMULUS_TYPES, "stimulus type")
    _CHECK.keys(path, spec, ["type", *(f.name for f in dataclasses.fields(cls) if f.init)])
    kwargs = {k: v for k, v in spec.items() if k != "type"}
    text = text_fields(cls)
    for where, key, value in _CHECK.members(path, kwargs):
        if key in text:
            if not isinstance(value, str):
                raise _CHECK.wrong(where, value, "a string")
            continue  # (its value is checked by the class when built)
        if isinstance(value, bool | str):
            raise _CHECK.wrong(where, value, "a number (or a list)")
    targets = kwargs.get("targets")
    if targets is not None:
        if not isinstance(targets, list | tuple):
            raise _CHECK.fail(f"{path}.targets", "must be a list of neuron indices")
        for i, t in enumerate(targets):
            if _CHECK.integer(f"{path}.targets[{i}]", t, NON_NEGATIVE) >= n:
                raise _CHECK.fail(f"{path}.targets[{i}]", f"{t} is out of range for a "
                                                          f"population of {n} neurons")
    return cls, kwargs


def validate_spec(spec) -> dict:
    """Check ``spec`` against the schema; return it normalised (defaults filled in, lists of
    numbers as arrays).

    Raises
    ------
    SpecError
        Naming the key path of the first problem found.
    """
    spec = _CHECK.mapping("spec", _CHECK.document(spec))
    _CHECK.keys("", spec, TOP_KEYS, required=("populations",))
    out: dict[str, Any] = {"name": _CHECK.call("name", check_name, "the network name",
                                               _CHECK.string("name",
                                                             spec.get("name", "network")))}
    seed = spec.get("seed")
    out["seed"] = None if seed is None else _CHECK.integer("seed", seed, _SEEDS)
    if not _CHECK.mapping("populations", spec["populations"]):
        raise _CHECK.fail("populations", "define at least one population")
    pops = out["populations"] = {}
    for where, name, pspec in _CHECK.members("populations", spec["populations"]):
        _CHECK.call(where, check_name, "a population name", _CHECK.string(where, name))
        pops[name] = _population(where, pspec)
    out["projections"] = [_projection(where, p, pops)
                          for where, p in _CHECK.entries("projections",
                                                         spec.get("projections", []))]
    out["stimuli"] = {}
    for where, name, entries in _CHECK.members("stimuli", spec.get("stimuli", {})):
        n = pops[_CHECK.choice(where, name, pops, "population")]["n"]
        out["stimuli"][name] = [_stimulus(w, e, n) for w, e in _CHECK.entries(where, entries)]
    out["layer_names"] = _CHECK.layer_map("layer_names", spec.get("layer_names", {}))
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
        if p["model"] in SOURCES:
            net.add_population(name, source_from_dict(p, label=name), layer=p.get("layer"))
            continue
        where, cls = f"populations.{name}.params", model_class(p["model"])
        if "preset" in p:
            pop = _CHECK.call(where, cls.from_preset, p["preset"], n=p["n"], **p["params"])
        else:
            pop = _CHECK.call(where, cls, _CHECK.call(where, cls.parameters_class,
                                                      **p["params"]), n=p["n"])
        net.add_population(name, pop, layer=p.get("layer"))
    for i, p in enumerate(norm["projections"]):
        _CHECK.call(f"projections[{i}]", net.connect, p["pre"], p["post"], p["rule"],
                    weight=p["weight"], delay_ms=p["delay_ms"], receptor=p["receptor"],
                    name=p.get("name"), autapses=p["autapses"],
                    **{k: p[k] for k in _RULE_KEYS if k in p})
    for name, entries in norm["stimuli"].items():
        for i, (cls, kwargs) in enumerate(entries):
            where = f"stimuli.{name}[{i}]"
            _CHECK.call(where, net.add_stimulus, name, _CHECK.call(where, cls, **kwargs))
    if norm["layer_names"]:
        net.layer_names = norm["layer_names"]
    net.spec = spec
    return net
