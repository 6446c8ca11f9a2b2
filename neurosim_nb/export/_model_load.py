"""Loading model configurations: the checks and builders behind
:func:`~neurosim_nb.export.config.load_model_json` (the layout is documented in
:mod:`neurosim_nb.export.config`).

Every value goes through one :class:`~neurosim_nb._validation.Checker`, so every problem is a
:class:`~neurosim_nb.export.config.ModelConfigError` whose message starts with its key path.
"""

from __future__ import annotations

import copy as _copy
import dataclasses
import numbers
from typing import Any

import numpy as np

from neurosim_nb._validation import AT_LEAST_ONE, NON_NEGATIVE, POSITIVE, Checker, parse_json
from neurosim_nb.export._atomic import ExportError, readable_path
from neurosim_nb.export.config import (
    _DYNAMICS_STATE,
    ATTRIBUTE_KEYS,
    DYNAMICS_KEYS,
    ENGINE_KEYS,
    FORMAT,
    GAP_KEYS,
    KINETIC_RECEPTOR_KEYS,
    NETWORK_KEYS,
    POPULATION_KEYS,
    PROJECTION_KEYS,
    RECEPTOR_KEYS,
    SOURCE_FAMILY,
    TOP_KEYS,
    VERSION,
    ModelConfigError,
    _dynamics_class,
    _network_classes,
)

_CHECK = Checker(ModelConfigError)


def load(path_or_dict):
    """The model of a configuration dict or file (see ``load_model_json``)."""
    cfg = path_or_dict if isinstance(path_or_dict, dict) else _read(path_or_dict)
    cfg = _CHECK.keys("", _CHECK.document(cfg), TOP_KEYS,
                      required=("format", "version", "kind", "model"))
    if cfg["format"] != FORMAT:
        raise _CHECK.fail("format", f"{cfg['format']!r} is not {FORMAT!r} (not a neurosim_nb "
                                    f"model configuration)")
    version = _CHECK.integer("version", cfg["version"], AT_LEAST_ONE)
    if version > VERSION:
        raise _CHECK.fail("version", f"{version} is newer than this neurosim_nb reads "
                                     f"({VERSION}); update neurosim_nb")
    if "neurosim_nb_version" in cfg:
        _CHECK.string("neurosim_nb_version", cfg["neurosim_nb_version"])
    if _CHECK.choice("kind", cfg["kind"], ("population", "network"), "kind") == "population":
        model = _build_population("model", cfg["model"], standalone=True)
    else:
        model = _build_network("model", cfg["model"])
    if "engine" in cfg:
        return _build_engine("engine", cfg["engine"], model)
    return model


def _read(path) -> dict:
    p = readable_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ExportError(f"cannot read {p}: {err}") from err
    try:
        cfg = parse_json(text)
    except ValueError as err:
        raise ExportError(f"{p} is not a valid JSON model file (truncated or corrupt?): "
                          f"{err}") from None
    if not isinstance(cfg, dict) or cfg.get("format") != FORMAT:
        raise ExportError(f"{p} is not a neurosim_nb model configuration (no 'format': "
                          f"{FORMAT!r})")
    return cfg


def _numbers(path: str, value, length: int):
    """A list of ``length`` finite numbers (an array) or one finite number (a float)."""
    if isinstance(value, list):
        return _CHECK.array(path, value, "f", length=length)
    return float(_CHECK.number(path, value))


def _population_name(path: str, value, net) -> str:
    return _CHECK.choice(path, value, net.populations, "population")


def _build_params(path: str, pcls, spec, n: int | None, units=None, derived=()):
    """A ParameterSet of class ``pcls`` from ``{name: value}`` (per-neuron lists of ``n``)."""
    info = pcls.field_info()
    spec = _CHECK.keys(f"{path}.params", spec, list(info))
    if units is not None:
        units = _CHECK.keys(f"{path}.units", units, list(info))
        for where, key, unit in _CHECK.members(f"{path}.units", units):
            if unit != info[key]["unit"]:
                raise _CHECK.fail(where, f"{unit!r} does not match the unit "
                                         f"{info[key]['unit']!r} of {pcls.__name__}")
    kwargs = {}
    for where, key, value in _CHECK.members(f"{path}.params", spec):
        if key in derived:
            kwargs[key] = None  # re-derived from the other values, as when first built
        elif isinstance(value, list):
            if n is None:
                raise _CHECK.fail(where, "must be a single value")
            kwargs[key] = _CHECK.array(where, value, "f", length=n)
        elif value is None or isinstance(value, str):
            kwargs[key] = value
        else:
            kwargs[key] = _CHECK.number(where, value)
    return _CHECK.call(f"{path}.params", pcls, **kwargs)


def _build_population(path: str, spec, *, standalone: bool, name: str | None = None):
    from neurosim_nb.core.neurons import MODEL_FAMILIES, model_class

    allowed = [k for k in POPULATION_KEYS if k != ("layer" if standalone else "label")]
    spec = _CHECK.keys(path, spec, allowed, required=("family", "n", "params"))
    if spec["family"] == SOURCE_FAMILY:
        return _build_source(path, spec, name)
    cls = model_class(_CHECK.choice(f"{path}.family", spec["family"], MODEL_FAMILIES,
                                    "model family"))
    if "class" in spec and _CHECK.string(f"{path}.class", spec["class"]) != cls.__name__:
        raise _CHECK.fail(f"{path}.class", f"{spec['class']!r} does not match family "
                                           f"{spec['family']!r} ({cls.__name__})")
    n = _CHECK.integer(f"{path}.n", spec["n"], AT_LEAST_ONE)
    derived = _CHECK.strings(f"{path}.derived", spec.get("derived", []))
    params = _build_params(path, cls.parameters_class, spec["params"], n, spec.get("units"),
                           derived)
    label = _CHECK.string(f"{path}.label", spec["label"]) if "label" in spec else name
    pop = _CHECK.call(path, cls, params, n=n, label=label)
    if "state" in spec:
        _restore_state(f"{path}.state", pop, spec["state"])
    return pop


def _build_source(path: str, spec, name: str | None):
    """A spike-source population (``class`` a key of ``sources.SOURCES``)."""
    from neurosim_nb.core.neurons.sources import SOURCES, source_from_dict

    cls_name = _CHECK.choice(f"{path}.class", spec.get("class"), SOURCES, "spike source")
    label = _CHECK.string(f"{path}.label", spec["label"]) if "label" in spec else name
    src = {"model": cls_name, "n": _CHECK.integer(f"{path}.n", spec["n"], AT_LEAST_ONE),
           "params": dict(_CHECK.mapping(f"{path}.params", spec["params"]))}
    pop = _CHECK.call(f"{path}.params", source_from_dict, src, label=label)
    state = _CHECK.keys(f"{path}.state", spec.get("state", {}), ("t_ms",))
    if "t_ms" in state:
        pop.t_ms = float(_CHECK.number(f"{path}.state.t_ms", state["t_ms"]))
    return pop


def _restore_state(path: str, pop, spec) -> None:
    spec = _CHECK.keys(path, spec, ("t_ms", "variables"))
    if "t_ms" in spec:
        pop.t_ms = float(_CHECK.number(f"{path}.t_ms", spec["t_ms"]))
    names = list(pop.state_variables)
    for where, key, values in _CHECK.members(f"{path}.variables", spec.get("variables", {})):
        row = names.index(_CHECK.choice(where, key, names, "state variable"))
        pop._state[row] = _CHECK.array(where, values, "f", length=pop.n)


def _build_receptor(path: str, spec):
    from neurosim_nb.core.synapses.receptors import Receptor

    spec = _CHECK.keys(path, spec, RECEPTOR_KEYS + KINETIC_RECEPTOR_KEYS,
                       required=RECEPTOR_KEYS)
    kwargs = {key: _CHECK.string(f"{path}.{key}", spec[key]) for key in RECEPTOR_KEYS[:2]}
    for key in RECEPTOR_KEYS[2:] + KINETIC_RECEPTOR_KEYS:
        if key in spec:
            kwargs[key] = _CHECK.number(f"{path}.{key}", spec[key])
    return _CHECK.call(path, Receptor, **kwargs)


def _build_dynamics(path: str, spec, proj):
    if spec is None:
        return None
    spec = _CHECK.keys(path, spec, DYNAMICS_KEYS, required=("type", "params"))
    kind = _CHECK.choice(f"{path}.type", spec["type"], _DYNAMICS_STATE, "synaptic dynamics")
    cls = _dynamics_class(kind)
    pcls = getattr(cls, "parameters_class", None) or type(cls().params)
    params = _build_params(path, pcls, spec["params"], None, spec.get("units"))
    dyn = _CHECK.call(path, cls, params)
    dyn.attach(proj)
    state = spec.get("state")
    if state is not None:
        names = _DYNAMICS_STATE[kind]
        state = _CHECK.keys(f"{path}.state", state, ("dt", "step_now", *names),
                            required=("dt", "step_now", *names))
        _CHECK.call(path, dyn._init_state, proj)
        dyn.dt = float(_CHECK.number(f"{path}.state.dt", state["dt"], POSITIVE))
        dyn._set_dt(dyn.dt)
        dyn.step_now = _CHECK.integer(f"{path}.state.step_now", state["step_now"])
        for name in names:
            where, current = f"{path}.state.{name}", getattr(dyn, name)
            if isinstance(current, np.ndarray):
                arr = _CHECK.array(where, state[name], "i" if current.dtype.kind == "i" else "f",
                                   length=current.shape[0])
                setattr(dyn, name, arr.astype(current.dtype))
            elif isinstance(current, numbers.Integral):
                setattr(dyn, name, _CHECK.integer(where, state[name]))
            else:
                setattr(dyn, name, float(_CHECK.number(where, state[name])))
    return dyn


def _build_projection(path: str, spec: dict, net):
    from neurosim_nb.core.networks.network import Projection, _check_values

    _CHECK.keys(path, spec, PROJECTION_KEYS, required=("pre", "post", "receptor", "indptr",
                                                       "post_idx", "weight", "delay_ms"))
    pre, post = (_population_name(f"{path}.{side}", spec[side], net) for side in ("pre", "post"))
    n_pre, n_post = net.populations[pre].n, net.populations[post].n
    rec = _build_receptor(f"{path}.receptor", spec["receptor"])
    if "weight_units" in spec and spec["weight_units"] != rec.weight_units:
        raise _CHECK.fail(f"{path}.weight_units", f"{spec['weight_units']!r} does not match "
                                                  f"the receptor's {rec.weight_units!r}")
    indptr = _CHECK.array(f"{path}.indptr", spec["indptr"], "i", length=n_pre + 1)
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0):
        raise _CHECK.fail(f"{path}.indptr", "must start at 0 and never decrease")
    n_syn = int(indptr[-1])
    if "n_synapses" in spec and _CHECK.integer(f"{path}.n_synapses",
                                               spec["n_synapses"]) != n_syn:
        raise _CHECK.fail(f"{path}.n_synapses", f"{spec['n_synapses']} but indptr ends at "
                                                f"{n_syn}")
    post_idx = _CHECK.indices(f"{path}.post_idx", spec["post_idx"], n_post, length=n_syn,
                              of=post)
    dtype = _CHECK.choice(f"{path}.weight_dtype", spec.get("weight_dtype", "float64"),
                          ("float64", "float32"), "weight dtype")
    weight = np.broadcast_to(_numbers(f"{path}.weight", spec["weight"], n_syn),
                             n_syn).astype(dtype)
    delay = _numbers(f"{path}.delay_ms", spec["delay_ms"], n_syn)
    _CHECK.call(path, _check_values, rec, weight, delay)
    name = _CHECK.string(f"{path}.name", spec.get("name", f"{pre}->{post}:{rec.name}"))
    proj = _CHECK.call(path, Projection.from_csr, name, pre, post, rec, indptr, post_idx,
                       weight, delay, n_pre, n_post)
    dyn = _build_dynamics(f"{path}.dynamics", spec.get("dynamics"), proj)
    if dyn is not None:
        proj.dynamics = dyn
    return proj


def _build_stimulus(path: str, spec, n: int):
    from neurosim_nb.core.networks.spec import STIMULUS_TYPES, text_fields

    spec = _CHECK.mapping(path, spec)
    cls = _CHECK.kind(path, spec, STIMULUS_TYPES, "stimulus type")
    _CHECK.keys(path, spec, ["type", *(f.name for f in dataclasses.fields(cls) if f.init)])
    kwargs: dict[str, Any] = {}
    text = text_fields(cls)
    for where, key, value in _CHECK.members(path, spec):
        if key == "type":
            continue
        if key in text:  # e.g. PoissonInput.sampling (checked by the class)
            if not isinstance(value, str):
                raise _CHECK.wrong(where, value, "a string")
            kwargs[key] = value
        elif value is None or value in ("inf", "-inf"):  # an infinite duration_ms
            kwargs[key] = None if value is None else float(value)
        elif key == "targets":
            kwargs[key] = _CHECK.indices(where, value, n)
        elif isinstance(value, list):
            ndim = 2 if value and isinstance(value[0], list) else 1
            kwargs[key] = _CHECK.array(where, value, "f", ndim=ndim)
        else:
            kwargs[key] = _CHECK.number(where, value)
    return _CHECK.call(path, cls, **kwargs)


def _build_gap(path: str, spec: dict, net):
    from neurosim_nb.core.networks.network import GapJunctions

    _CHECK.keys(path, spec, GAP_KEYS, required=("a", "b", "a_idx", "b_idx", "conductance_uS"))
    names, idx = {}, {}
    for side in ("a", "b"):
        names[side] = _population_name(f"{path}.{side}", spec[side], net)
        idx[side] = _CHECK.indices(f"{path}.{side}_idx", spec[f"{side}_idx"],
                                   net.populations[names[side]].n, of=names[side])
    if idx["a"].shape != idx["b"].shape:
        raise _CHECK.fail(f"{path}.b_idx", f"{idx['b'].size} indices for {idx['a'].size} in "
                                           f"a_idx")
    g = np.broadcast_to(_numbers(f"{path}.conductance_uS", spec["conductance_uS"],
                                 idx["a"].size), idx["a"].size).astype(np.float64)
    rect = spec.get("rectification")
    if rect is not None:
        _CHECK.string(f"{path}.rectification", rect)
    name = _CHECK.string(f"{path}.name", spec.get("name", f"{names['a']}<->{names['b']}:gap"))
    return _CHECK.call(path, GapJunctions, name, names["a"], names["b"], idx["a"], idx["b"], g,
                       rect)


def _restore_attributes(path: str, spec, net, cls_name: str) -> None:
    spec = _CHECK.keys(path, spec, ATTRIBUTE_KEYS)
    for where, key, value in _CHECK.members(path, spec):
        if key == "params":
            if cls_name != "LayeredNetwork":
                raise _CHECK.fail(where, "only a LayeredNetwork has layer parameters")
            from neurosim_nb.core.networks.layered import LayeredNetworkParameters

            value = _CHECK.call(where, LayeredNetworkParameters, **_CHECK.mapping(where, value))
        elif key == "layer_sizes":
            value = _CHECK.layer_map(where, value,
                                     lambda p, v: _CHECK.integer(p, v, AT_LEAST_ONE))
        elif key in ("layer_abbrevs", "layer_kinds"):
            value = _CHECK.layer_map(where, value)
        elif key == "plastic_projection":
            names = [p.name for p in net.projections]
            value = net.projections[names.index(_CHECK.choice(where, value, names,
                                                              "projection"))]
        elif key == "graph_population":
            _population_name(where, value, net)
        elif key == "inhibitory_mask":
            pop = net.populations.get(net.__dict__.get("graph_population", ""), None)
            pop = pop or next(iter(net.populations.values()))
            value = _CHECK.array(where, value, "b", length=pop.n)
        else:  # brunel, small_world, spec: plain JSON
            value = _copy.deepcopy(value)
        setattr(net, key, value)
    if cls_name == "LayeredNetwork" and "params" not in spec:
        raise _CHECK.fail(f"{path}.params", "required for a LayeredNetwork")


def _restore_run_state(path: str, spec, net) -> None:
    keys = ("dt", "depth", "receptors", "syn_state", "syn_buf")
    for where, name, entry in _CHECK.members(path, spec):
        n = net.populations[_population_name(where, name, net)].n
        entry = _CHECK.keys(where, entry, keys, required=keys)
        dt = float(_CHECK.number(f"{where}.dt", entry["dt"]))
        depth = _CHECK.integer(f"{where}.depth", entry["depth"], AT_LEAST_ONE)
        receptors = tuple(_build_receptor(w, r)
                          for w, r in _CHECK.entries(f"{where}.receptors", entry["receptors"]))
        c = len(receptors)
        state = _CHECK.array(f"{where}.syn_state", entry["syn_state"], "f", length=c, ndim=3)
        buf = _CHECK.array(f"{where}.syn_buf", entry["syn_buf"], "f", length=c, ndim=3)
        if c == 0:  # no receptor channels: empty lists
            state, buf = np.zeros((0, 2, n)), np.zeros((0, depth, n))
        for key, arr, shape in (("syn_state", state, (c, 2, n)), ("syn_buf", buf, (c, depth, n))):
            if arr.shape != shape:
                raise _CHECK.fail(f"{where}.{key}", f"shape {list(arr.shape)}, expected "
                                                    f"{list(shape)}")
        net._carry[name] = ((dt, receptors, depth), state, buf)


def _build_network(path: str, spec):
    from neurosim_nb.core.networks.network import Network

    spec = _CHECK.keys(path, spec, NETWORK_KEYS, required=("populations",))
    classes = _network_classes()
    cls_name = _CHECK.choice(f"{path}.class", spec.get("class", "Network"), classes,
                             "network class")
    name = _CHECK.string(f"{path}.name", spec.get("name", "network"))
    seed = spec.get("seed")
    seed = None if seed is None else _CHECK.integer(f"{path}.seed", seed, NON_NEGATIVE)
    precision = _CHECK.string(f"{path}.weight_precision",
                              spec.get("weight_precision", "float64"))
    net = classes[cls_name].__new__(classes[cls_name])
    _CHECK.call(f"{path}.weight_precision", Network.__init__, net, name, seed, precision)
    if "rng_state" in spec:
        state = _CHECK.mapping(f"{path}.rng_state", spec["rng_state"])
        rng = np.random.default_rng(0)
        try:  # (NumPy raises OverflowError for a number beyond its C integer type)
            _CHECK.call(f"{path}.rng_state", setattr, rng.bit_generator, "state",
                        _copy.deepcopy(state))
        except OverflowError as err:
            raise _CHECK.fail(f"{path}.rng_state", str(err)) from None
        net.rng = rng
    if not _CHECK.mapping(f"{path}.populations", spec["populations"]):
        raise _CHECK.fail(f"{path}.populations", "define at least one population")
    for where, pname, pspec in _CHECK.members(f"{path}.populations", spec["populations"]):
        pop = _build_population(where, pspec, standalone=False, name=pname)
        layer = pspec.get("layer")
        layer = None if layer is None else _CHECK.integer(f"{where}.layer", layer)
        net.add_population(pname, pop, layer=layer)
    for where, pspec in _CHECK.entries(f"{path}.projections", spec.get("projections", [])):
        net.projections.append(_build_projection(where, pspec, net))
    for where, gspec in _CHECK.entries(f"{path}.gap_junctions", spec.get("gap_junctions", [])):
        net.gap_junctions.append(_build_gap(where, gspec, net))
    for where, pname, entries in _CHECK.members(f"{path}.stimuli", spec.get("stimuli", {})):
        n = net.populations[_population_name(where, pname, net)].n
        net.stimuli[pname] = [_build_stimulus(w, e, n) for w, e in _CHECK.entries(where, entries)]
    if spec.get("layer_names") or cls_name == "LayeredNetwork":
        net.layer_names = _CHECK.layer_map(f"{path}.layer_names", spec.get("layer_names", {}))
    _restore_attributes(f"{path}.attributes", spec.get("attributes", {}), net, cls_name)
    _restore_run_state(f"{path}.run_state", spec.get("run_state", {}), net)
    return net


def _build_engine(path: str, spec, model):
    from neurosim_nb.engine.simulator import RecordingConfig, SimulationConfig, SimulationEngine

    spec = _CHECK.keys(path, spec, ENGINE_KEYS)
    where = f"{path}.config"
    c = _CHECK.keys(where, spec.get("config", {}), ("duration", "dt", "seed", "verbose"))
    kwargs = {k: _CHECK.number(f"{where}.{k}", c[k]) for k in ("duration", "dt") if k in c}
    if c.get("seed") is not None:
        kwargs["seed"] = _CHECK.integer(f"{where}.seed", c["seed"], NON_NEGATIVE)
    if c.get("verbose") is not None:
        kwargs["verbose"] = _CHECK.boolean(f"{where}.verbose", c["verbose"])
    config = _CHECK.call(where, SimulationConfig, **kwargs)
    where = f"{path}.recording"
    r = _CHECK.keys(where, spec.get("recording", {}), ("variables", "sample_every", "neurons"))
    rkw: dict[str, Any] = {}
    if "variables" in r:
        rkw["variables"] = _CHECK.strings(f"{where}.variables", r["variables"])
    if "sample_every" in r:
        rkw["sample_every"] = _CHECK.integer(f"{where}.sample_every", r["sample_every"],
                                             AT_LEAST_ONE)
    neurons = r.get("neurons")
    if isinstance(neurons, dict):
        rkw["neurons"] = {k: _CHECK.array(w, v, "i")
                          for w, k, v in _CHECK.members(f"{where}.neurons", neurons)}
    elif neurons is not None:
        rkw["neurons"] = _CHECK.array(f"{where}.neurons", neurons, "i")
    engine = SimulationEngine(model, config, RecordingConfig(**rkw))
    is_net = engine._is_network
    for where, entry in _CHECK.entries(f"{path}.inputs", spec.get("inputs", [])):
        _CHECK.keys(where, entry, ("ids", "population", "stimulus"), required=("stimulus",))
        ids = entry.get("ids")
        if ids is not None:
            ids = _CHECK.array(f"{where}.ids", ids, "i")
        pop = entry.get("population")
        if pop is not None:
            _CHECK.choice(f"{where}.population", pop, model.populations if is_net else (),
                          "population")
        n = (model.populations[pop].n if pop is not None else
             next(iter(model.populations.values())).n if is_net else model.n)
        if ids is not None:  # a global-id input: targets are set per run
            n = model.n_neurons if is_net else model.n
        stim = _build_stimulus(f"{where}.stimulus", entry["stimulus"], n)
        engine._inputs.append((ids, stim, pop))
    return engine
