"""Run configurations: the JSON files of ``neurosim run --config FILE``.

A run configuration says which network to build, how long to simulate it, how to drive it
and where to write the result. :func:`load_run_config` reads and checks a JSON file,
:meth:`RunConfig.resolved` fills in the defaults of the chosen network, :func:`run_simulation`
builds and runs it. The command line and notebooks use the same code::

    cfg = load_run_config("simulation.json")
    outcome = run_simulation(cfg)          # outcome.dataset is the result Dataset

Keys (every key is optional; ``null`` means "the default"):

=====================  ===========================================================
``network_type``       ``"layered"`` (default), ``"oni"`` (the 14-layer ONI model),
                       ``"recurrent"`` (Brunel balanced E/I), ``"smallworld"``
                       (Watts-Strogatz ring) or ``"population"`` (one unconnected
                       population of ``model``)
``n_layers``           layered: number of layers (default 3); oni: 14 (fixed)
``neurons_per_layer``  layered (default 100) and oni (default 50; ONI layer sizes are
                       ``round(neurons_per_layer x size factor)``)
``n_neurons``          total size of recurrent (1000), smallworld (500) and population
                       (1) networks
``model``              neuron model family (``neurosim info``) of layered, oni and
                       population runs (default LIF)
``preset``             population: preset of ``model``, e.g. ``"RS"``
``k``, ``p_rewire``    smallworld: ring neighbours per neuron (4, even) and rewiring
                       probability (0.1)
``g``                  recurrent: relative inhibitory strength (4.0)
``sensory_rate``       oni: rate (Hz) of each of the 100 Poisson afferents (0.5 mV
                       kicks) of every layer-1 neuron, the model's own sensory drive
                       (default 20; 0 switches it off)
``duration``           simulated time, ms (1000)
``dt``                 time step, ms (0.1)
``seed``               seed of connectivity and stochastic input (default: drawn, and
                       stored in the result's ``seed`` attribute)
``record``             state variables to record, e.g. ``["V"]`` (default) or
                       ``[]`` for spikes only (spikes are always recorded)
``sample_every``       record every this many steps (1)
``description``        free text, stored in the result's ``description`` attribute
``inputs``             the stimulus, an object with the keys below
``output``             where to write the result, an object with the keys below;
                       without it nothing is written
=====================  ===========================================================

``inputs``:

=====================  ===========================================================
``type``               ``"auto"`` (default), ``"constant"``, ``"pulse"``,
                       ``"poisson"`` or ``"none"``
``amplitude``          current of constant and pulse input, nA (the model's current
                       units; default 5 nA, for a population the preset's demo current)
``target_fraction``    fraction of the target neurons driven, in (0, 1] (networks 0.1,
                       a population 1.0); chosen evenly spread over the target, so
                       excitatory and inhibitory cells in proportion
``target_layer``       layered and oni: the driven layer (default 1)
``rate``               pulse: pulse frequency, Hz (10); poisson: rate of the Poisson
                       spike train of each driven neuron, Hz (2000)
``weight``             poisson: membrane potential kick per input spike, mV (1.0)
``pulse_width``        pulse: width of each pulse, ms (5)
``onset``              start of the input, ms after the start of the run (0)
``duration``           length of the input, ms (default: to the end of the run)
=====================  ===========================================================

``"auto"`` is ``"constant"`` for layered, smallworld and population runs; for oni and
recurrent runs, which carry their own drive (the ONI model's sensory Poisson input to layer
1, Brunel's external Poisson input to every neuron), it adds nothing unless ``amplitude``,
``target_fraction``, ``target_layer``, ``onset`` or ``duration`` is given (then it is
``"constant"``). Explicit input adds to that built-in drive. ``"none"`` adds no input.

``output``:

=====================  ===========================================================
``filename``           path of the result file, relative to the current directory; a
                       name without suffix gets the format's (``.nc``, ``.npz``,
                       ``.json``, ``.csv``, ``.oni.json``; see :func:`output_target`)
``format``             ``"netcdf"``, ``"npz"``, ``"json"``, ``"csv"`` or ``"oni"`` (the
                       ONI Framework's native JSON); default from the suffix of
                       ``filename``, netcdf without suffix
=====================  ===========================================================

An unknown key is an error with a did-you-mean hint; so is a value of the wrong type (the
message names the key path, e.g. ``inputs.amplitude``) or a key that does not apply to the
chosen network (e.g. ``g`` with a layered network): nothing is silently ignored.

Examples
--------
>>> cfg = run_config_from_dict({"network_type": "layered", "n_layers": 5,
...                             "neurons_per_layer": 100, "duration": 2000, "dt": 0.1,
...                             "inputs": {"type": "constant", "amplitude": 5.0,
...                                        "target_fraction": 0.1},
...                             "output": {"format": "oni", "filename": "simulation_output"}})
>>> cfg.n_layers, cfg.inputs.amplitude, output_target(cfg.output.filename, cfg.output.format)
(5, 5.0, (PosixPath('simulation_output.oni.json'), 'oni'))
>>> try:
...     run_config_from_dict({"inputs": {"amplitud": 5.0}}, source="sim.json")
... except ConfigError as err:
...     print(err)
sim.json: unknown key 'inputs.amplitud' (did you mean 'inputs.amplitude'?)
>>> try:
...     run_config_from_dict({"duration": "long"}, source="sim.json")
... except ConfigError as err:
...     print(err)
sim.json: duration must be a number (ms), got 'long'
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurosim_nb._validation import (
    FRACTION,
    NON_NEGATIVE,
    POSITIVE,
    PROBABILITY,
    Field,
    SentenceChecker,
    parse_json,
)
from neurosim_nb.errors import InvalidArgumentError

__all__ = ["RunConfig", "InputConfig", "OutputConfig", "RunOutcome", "ConfigError",
           "NETWORK_TYPES", "INPUT_TYPES", "OUTPUT_FORMATS",
           "load_run_config", "run_config_from_dict", "check_value", "check_sizes",
           "output_target", "build_model",
           "run_simulation"]

#: values of ``network_type``
NETWORK_TYPES = ("layered", "oni", "recurrent", "smallworld", "population")
#: values of ``inputs.type``
INPUT_TYPES = ("auto", "constant", "pulse", "poisson", "none")
#: values of ``output.format`` (the formats of :mod:`neurosim_nb.export.io`)
OUTPUT_FORMATS = ("netcdf", "npz", "json", "csv", "oni")

#: default current of network inputs (nA): the seed's Quick Start value
DEFAULT_AMPLITUDE_NA = 5.0
#: default fraction of the target layer (or network) that is driven
DEFAULT_TARGET_FRACTION = 0.1
DEFAULT_PULSE_RATE_HZ = 10.0
DEFAULT_PULSE_WIDTH_MS = 5.0
DEFAULT_POISSON_RATE_HZ = 2000.0
DEFAULT_POISSON_WEIGHT_MV = 1.0


class ConfigError(InvalidArgumentError):
    """A run configuration (file or command line) is invalid; the message names the key."""


_CHECK = SentenceChecker(ConfigError)
#: the largest integer a configuration may hold (int64; counts, seeds and times are smaller)
_MAX_INT = 2**63 - 1

# -- schema ----------------------------------------------------------------------------------
TOP_KEYS: dict[str, Field] = {
    "network_type": Field("string", choices=NETWORK_TYPES),
    "n_layers": Field("integer", POSITIVE),
    "neurons_per_layer": Field("integer", POSITIVE),
    "n_neurons": Field("integer", POSITIVE),
    "model": Field("string"),
    "preset": Field("string"),
    "k": Field("integer", NON_NEGATIVE),
    "p_rewire": Field("number", PROBABILITY),
    "g": Field("number", NON_NEGATIVE),
    "sensory_rate": Field("number", NON_NEGATIVE, "Hz"),
    "duration": Field("number", POSITIVE, "ms"),
    "dt": Field("number", POSITIVE, "ms"),
    "seed": Field("integer", NON_NEGATIVE),
    "record": Field("strings"),
    "sample_every": Field("integer", POSITIVE),
    "description": Field("string"),
    "inputs": Field("mapping"),
    "output": Field("mapping"),
}
INPUT_KEYS: dict[str, Field] = {
    "type": Field("string", choices=INPUT_TYPES),
    "amplitude": Field("number", unit="nA"),
    "target_fraction": Field("number", FRACTION),
    "target_layer": Field("integer", POSITIVE),
    "rate": Field("number", POSITIVE, "Hz"),
    "weight": Field("number", unit="mV"),
    "pulse_width": Field("number", POSITIVE, "ms"),
    "onset": Field("number", NON_NEGATIVE, "ms"),
    "duration": Field("number", POSITIVE, "ms"),
}
OUTPUT_KEYS: dict[str, Field] = {
    "format": Field("string", choices=OUTPUT_FORMATS),
    "filename": Field("string"),
}
#: every key path (the suggestions for an unknown key look at all of them)
_ALL_PATHS = [*TOP_KEYS, *(f"inputs.{k}" for k in INPUT_KEYS),
              *(f"output.{k}" for k in OUTPUT_KEYS)]

#: which network types each network key applies to
APPLIES_TO = {
    "n_layers": ("layered", "oni"),
    "neurons_per_layer": ("layered", "oni"),
    "n_neurons": ("recurrent", "smallworld", "population"),
    "model": ("layered", "oni", "population"),
    "preset": ("population",),
    "k": ("smallworld",),
    "p_rewire": ("smallworld",),
    "g": ("recurrent",),
    "sensory_rate": ("oni",),
}
#: which input types each input key applies to ("auto" may become any of them)
INPUT_APPLIES_TO = {
    "amplitude": ("auto", "constant", "pulse"),
    "rate": ("pulse", "poisson"),
    "weight": ("poisson",),
    "pulse_width": ("pulse",),
    "target_fraction": ("auto", "constant", "pulse", "poisson"),
    "target_layer": ("auto", "constant", "pulse", "poisson"),
    "onset": ("auto", "constant", "pulse", "poisson"),
    "duration": ("auto", "constant", "pulse", "poisson"),
}


@dataclass(frozen=True)
class InputConfig:
    """The ``inputs`` object: stimulus type and its parameters (``None``: the default)."""

    type: str = "auto"
    amplitude: float | None = None
    target_fraction: float | None = None
    target_layer: int | None = None
    rate: float | None = None
    weight: float | None = None
    pulse_width: float | None = None
    onset: float | None = None
    duration: float | None = None


@dataclass(frozen=True)
class OutputConfig:
    """The ``output`` object: ``filename`` and ``format`` (``None``: from the suffix)."""

    filename: str
    format: str | None = None


@dataclass(frozen=True)
class RunConfig:
    """A run: network, timing, recording, input and output (see the module docstring).

    Fields are the configuration keys; ``None`` means "the default of the network type",
    filled in by :meth:`resolved`.
    """

    network_type: str = "layered"
    n_layers: int | None = None
    neurons_per_layer: int | None = None
    n_neurons: int | None = None
    model: str | None = None
    preset: str | None = None
    k: int | None = None
    p_rewire: float | None = None
    g: float | None = None
    sensory_rate: float | None = None
    duration: float = 1000.0
    dt: float = 0.1
    seed: int | None = None
    record: tuple[str, ...] = ("V",)
    sample_every: int = 1
    description: str | None = None
    inputs: InputConfig = field(default_factory=InputConfig)
    output: OutputConfig | None = None

    def replace(self, **changes) -> RunConfig:
        """A copy with ``changes``; ``inputs`` / ``output`` may be dicts of changed keys."""
        if isinstance(changes.get("inputs"), dict):
            changes["inputs"] = dataclasses.replace(self.inputs, **changes["inputs"])
        if isinstance(changes.get("output"), dict):
            out = changes["output"]
            if self.output is None:
                if out.get("filename") is None:
                    raise ConfigError("an output format needs an output file name")
                changes["output"] = OutputConfig(**out)
            else:
                changes["output"] = dataclasses.replace(self.output, **out)
        return dataclasses.replace(self, **changes)

    def resolved(self) -> RunConfig:
        """This configuration with every default filled in and cross-key rules checked.

        Raises
        ------
        ConfigError
            A key that does not apply to the network or input type, or ``n_layers`` other
            than 14 for the oni model.

        Examples
        --------
        >>> c = RunConfig(network_type="oni").resolved()
        >>> c.n_layers, c.neurons_per_layer, c.sensory_rate, c.inputs.type
        (14, 50, 20.0, 'none')
        >>> RunConfig(network_type="recurrent", n_layers=3).resolved()
        Traceback (most recent call last):
        ...
        neurosim_nb.export.run_config.ConfigError: n_layers applies to layered, oni networks, \
not to recurrent
        """
        t = _CHECK.choice("network_type", self.network_type, NETWORK_TYPES)
        for key, types in APPLIES_TO.items():
            if getattr(self, key) is not None and t not in types:
                raise ConfigError(f"{key} applies to {', '.join(types)} networks, not to {t}")
        if t == "oni" and self.n_layers not in (None, 14):
            raise ConfigError(f"n_layers = {self.n_layers}: the oni model has 14 layers")
        defaults: dict[str, Any] = {
            "layered": {"n_layers": 3, "neurons_per_layer": 100, "model": "LIF"},
            "oni": {"n_layers": 14, "neurons_per_layer": 50, "model": "LIF",
                    "sensory_rate": 20.0},
            "recurrent": {"n_neurons": 1000, "g": 4.0},
            "smallworld": {"n_neurons": 500, "k": 4, "p_rewire": 0.1},
            "population": {"n_neurons": 1, "model": "LIF"},
        }[t]
        changes = {k: v for k, v in defaults.items() if getattr(self, k) is None}
        cfg = dataclasses.replace(self, **changes)
        return dataclasses.replace(cfg, inputs=cfg._resolved_inputs())

    def _resolved_inputs(self) -> InputConfig:
        i, t = self.inputs, self.network_type
        _CHECK.choice("inputs.type", i.type, INPUT_TYPES)
        for key, types in INPUT_APPLIES_TO.items():
            if getattr(i, key) is not None and i.type not in types:
                raise ConfigError(f"inputs.{key} does not apply to {i.type!r} input (it is "
                                  f"for {', '.join(x for x in types if x != 'auto')} input)")
        if i.target_layer is not None and t not in ("layered", "oni"):
            raise ConfigError(f"inputs.target_layer applies to layered and oni networks, not "
                              f"to {t}")
        kind = i.type
        if kind == "auto":
            explicit = any(getattr(i, k) is not None for k in
                           ("amplitude", "target_fraction", "target_layer", "onset",
                            "duration"))
            kind = "constant" if t in ("layered", "smallworld", "population") or explicit \
                else "none"
        if kind == "none":
            return InputConfig(type="none")
        amp = i.amplitude
        if amp is None and kind in ("constant", "pulse"):
            if t == "population":
                from neurosim_nb.core.neurons import model_class

                try:
                    amp = float(model_class(self.model).demo_current(self.preset))
                except ValueError as e:  # an unknown model family or preset
                    if isinstance(e, ConfigError):
                        raise
                    raise ConfigError(f"model {self.model!r}, preset {self.preset!r}: "
                                      f"{e}") from None
            else:
                amp = DEFAULT_AMPLITUDE_NA
        rate = i.rate
        if rate is None and kind != "constant":
            rate = DEFAULT_PULSE_RATE_HZ if kind == "pulse" else DEFAULT_POISSON_RATE_HZ
        return InputConfig(
            type=kind, amplitude=amp,
            target_fraction=i.target_fraction if i.target_fraction is not None else (
                1.0 if t == "population" else DEFAULT_TARGET_FRACTION),
            target_layer=(i.target_layer or 1) if t in ("layered", "oni") else None,
            rate=rate,
            weight=(DEFAULT_POISSON_WEIGHT_MV if i.weight is None else i.weight)
            if kind == "poisson" else None,
            pulse_width=(DEFAULT_PULSE_WIDTH_MS if i.pulse_width is None else i.pulse_width)
            if kind == "pulse" else None,
            onset=0.0 if i.onset is None else i.onset,
            duration=i.duration)

    def to_dict(self) -> dict[str, Any]:
        """The configuration as JSON-able dict (``None`` values left out)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            if dataclasses.is_dataclass(v):
                v = {k: x for k, x in dataclasses.asdict(v).items() if x is not None}
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out


# -- reading -----------------------------------------------------------------------------
def check_value(path: str, value, field: Field) -> Any:
    """``value`` of key ``path`` checked against its entry of :data:`TOP_KEYS` /
    :data:`INPUT_KEYS` / :data:`OUTPUT_KEYS` and converted (int, float, tuple of str); else
    :class:`ConfigError` naming ``path``.

    >>> check_value("--dt", -1.0, TOP_KEYS["dt"])
    Traceback (most recent call last):
    ...
    neurosim_nb.export.run_config.ConfigError: --dt must be > 0 (ms), got -1.0

    An integer beyond the 64-bit range is refused by its size (it is no count, seed or
    duration this program can use, and Python cannot even print one of more than 4300
    digits):

    >>> check_value("n_neurons", 10**5000, TOP_KEYS["n_neurons"])
    Traceback (most recent call last):
    ...
    neurosim_nb.export.run_config.ConfigError: n_neurons must be an integer below 2**63, got \
an integer of about 5000 digits
    """
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_INT:
        digits = math.floor((abs(value).bit_length() - 1) * math.log10(2)) + 1
        kind = "an integer" if field.kind == "integer" else "a number"
        raise ConfigError(f"{path} must be {kind} below 2**63, got an integer of about "
                          f"{digits} digits")
    return _CHECK.field(path, value, field)


def _section(data: dict, schema: dict[str, Field], path: str) -> dict[str, Any]:
    _CHECK.keys(path, data, schema, paths=_ALL_PATHS)
    return {key: check_value(_CHECK.join(path, key), value, schema[key])
            for key, value in data.items() if value is not None}


def run_config_from_dict(data: dict, source: str = "config") -> RunConfig:
    """Check a configuration dict (as read from JSON) and make a :class:`RunConfig`.

    Parameters
    ----------
    data : dict
        Keys as in the module docstring.
    source : str
        Prefix of error messages (the file name).

    Raises
    ------
    ConfigError
        An unknown key (with a did-you-mean hint), a value of the wrong type or out of
        range; the message names the key path, e.g. ``inputs.amplitude``.
    """
    try:
        data = _CHECK.mapping("the configuration", _CHECK.document(data))
        top = _section(data, TOP_KEYS, "")
        inputs = InputConfig(**_section(top.pop("inputs", {}), INPUT_KEYS, "inputs"))
        output = top.pop("output", None)
        if output is not None:
            output = _section(output, OUTPUT_KEYS, "output")
            if "filename" not in output:
                raise _CHECK.missing("output.filename")
            output = OutputConfig(**output)
        return RunConfig(**top, inputs=inputs, output=output)
    except ConfigError as err:
        raise ConfigError(f"{source}: {err}") from None


def load_run_config(path: str | os.PathLike) -> RunConfig:
    """Read a run configuration from a JSON file.

    Parameters
    ----------
    path : str or path-like
        The JSON file (keys as in the module docstring).

    Returns
    -------
    RunConfig
        Not yet resolved: keys the file leaves out are ``None`` (see
        :meth:`RunConfig.resolved`).

    Raises
    ------
    ConfigError
        The file is missing, unreadable, not JSON, or has an unknown key or a bad value.
    """
    p = Path(os.fspath(path)).expanduser()
    if not p.is_file():
        raise ConfigError(f"config file {p} does not exist" if not p.exists()
                          else f"config file {p} is not a file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read config file {p}: {err}") from None
    try:
        data = parse_json(text)
    except ValueError as err:
        why = str(err)
        if "integer string conversion" in why:  # Python's limit on integer literals
            why = ("an integer literal of more than 4300 digits (no count, seed or time is "
                   "that large)")
        raise ConfigError(f"{p}: not valid JSON: {why}") from None
    return run_config_from_dict(data, source=str(p))


def output_target(filename: str | os.PathLike, fmt: str | None = None) -> tuple[Path, str]:
    """The output path and format for ``filename`` and an optional ``fmt``.

    Suffixes are those of :mod:`neurosim_nb.export.io` (``.nc``, ``.npz``, ``.json``,
    ``.csv``, ``.oni.json``). Without ``fmt`` the format comes from the suffix; a name
    without suffix is netcdf. A name without suffix, or with one that names no format when
    ``fmt`` is given, gets the format's suffix. ``fmt="oni"`` also accepts a plain ``.json``.

    Raises
    ------
    ConfigError
        ``fmt`` unknown, a suffix that names no format (without ``fmt``), or a suffix of
        another format than ``fmt``.

    Examples
    --------
    >>> output_target("oni_simulation"), output_target("run.npz"), output_target("a", "csv")
    ((PosixPath('oni_simulation.nc'), 'netcdf'), (PosixPath('run.npz'), 'npz'), \
(PosixPath('a.csv'), 'csv'))
    >>> output_target("simulation_output", "oni"), output_target("x.json", "oni")
    ((PosixPath('simulation_output.oni.json'), 'oni'), (PosixPath('x.json'), 'oni'))
    """
    from neurosim_nb.export.io import SUFFIXES, format_from_path

    p = Path(os.fspath(filename)).expanduser()
    if fmt is not None:
        _CHECK.choice("format", fmt, OUTPUT_FORMATS)
    implied = None
    if p.suffix:
        try:
            implied = format_from_path(p)
        except ValueError as err:
            if fmt is None:
                raise ConfigError(str(err).replace("pass format=", "give a format")) from None
    if fmt is None:
        fmt = implied or "netcdf"
    elif implied is not None and implied != fmt and not (fmt == "oni" and implied == "json"):
        raise ConfigError(f"{p} has the suffix of {implied} files but the format is {fmt}; "
                          f"drop the suffix or make them agree")
    if implied is None:
        p = p.with_name(p.name + SUFFIXES[fmt])
    return p, fmt


# -- running -----------------------------------------------------------------------------
@dataclass
class RunOutcome:
    """What :func:`run_simulation` returns.

    Attributes
    ----------
    dataset : xarray.Dataset
        The result (attrs ``seed`` and ``run_config_json``, the resolved configuration).
    model : Network or NeuronPopulation
        What was simulated (needed e.g. by the ONI export).
    config : RunConfig
        The resolved configuration, with the seed used.
    input_text : str
        A one-line description of the input.
    wall_time : float
        Seconds spent simulating.
    """

    dataset: Any
    model: Any
    config: RunConfig
    input_text: str
    wall_time: float


#: bytes per neuron a network needs at least (state, parameters, run buffers: float64s)
_NEURON_BYTES = 64
#: bytes per synapse (a 4-byte index and an 8-byte weight)
_SYNAPSE_BYTES = 12


def check_sizes(cfg: RunConfig) -> None:
    """Refuse (:class:`~neurosim_nb.errors.TooLargeError`) a resolved configuration whose
    network or recording could not be allocated, before anything is built: the neurons
    (:data:`_NEURON_BYTES` each), the synapses of the network types whose count follows from
    the configuration (recurrent: 10 % of all pairs; small world: ``k`` per neuron) and the
    recorded traces (8 bytes per variable, neuron and sample).

    >>> check_sizes(RunConfig(network_type="recurrent", n_neurons=1000).resolved())
    """
    from neurosim_nb._validation import check_allocation

    n = (cfg.n_layers * cfg.neurons_per_layer if cfg.network_type in ("layered", "oni")
         else cfg.n_neurons)
    if n is None:
        return
    synapses = {"recurrent": 0.1 * float(n) * n,
                "smallworld": float(n) * (cfg.k or 0)}.get(cfg.network_type, 0.0)
    check_allocation(f"a {cfg.network_type} network of {n} neurons and about {synapses:.3g} "
                     f"synapses", float(n) * _NEURON_BYTES + synapses * _SYNAPSE_BYTES,
                     "use fewer neurons")
    traces = [v for v in cfg.record if v not in ("spikes", "spike_times", "spike_time")]
    samples = cfg.duration / cfg.dt / max(cfg.sample_every, 1)  # inf for a subnormal dt
    samples = math.floor(samples) if math.isfinite(samples) else samples
    check_allocation(f"recording {list(traces)} of {n} neurons for {samples} samples",
                     8.0 * len(traces) * n * samples,
                     "record fewer variables (record: []), sample less often (sample_every) or "
                     "run shorter")


def build_model(cfg: RunConfig):
    """The network (or population) of a resolved configuration.

    >>> net = build_model(RunConfig(n_layers=2, neurons_per_layer=10, seed=0).resolved())
    >>> type(net).__name__, net.n_neurons
    ('LayeredNetwork', 20)
    """
    check_sizes(cfg)
    t = cfg.network_type
    if t == "layered":
        from neurosim_nb.core.networks.layered import LayeredNetwork

        return LayeredNetwork.create_simple(cfg.n_layers, cfg.neurons_per_layer,
                                            neuron_model=cfg.model, seed=cfg.seed)
    if t == "oni":
        from neurosim_nb.core.networks.layered import LayeredNetwork

        return LayeredNetwork.create_oni_model(cfg.neurons_per_layer,
                                               sensory_input_hz=cfg.sensory_rate,
                                               neuron_model=cfg.model, seed=cfg.seed)
    if t == "recurrent":
        from neurosim_nb.core.networks.recurrent import RecurrentNetwork

        return RecurrentNetwork.create_balanced(n_neurons=cfg.n_neurons, g=cfg.g, seed=cfg.seed)
    if t == "smallworld":
        from neurosim_nb.core.networks.small_world import SmallWorldNetwork

        return SmallWorldNetwork.create_watts_strogatz(n=cfg.n_neurons, k=cfg.k,
                                                       p=cfg.p_rewire, seed=cfg.seed)
    from neurosim_nb.core.neurons import model_class

    cls = model_class(cfg.model)
    return cls.from_preset(cfg.preset, n=cfg.n_neurons) if cfg.preset else cls(n=cfg.n_neurons)


def _stimulus(i: InputConfig):
    from neurosim_nb.stimuli import ConstantCurrent, PoissonInput, PulseTrain

    window = {"onset_ms": i.onset, "duration_ms": math.inf if i.duration is None else i.duration}
    if i.type == "constant":
        return ConstantCurrent(i.amplitude, **window)
    if i.type == "pulse":
        return PulseTrain(amplitude=i.amplitude, pulse_ms=i.pulse_width, frequency_hz=i.rate,
                          **window)
    return PoissonInput(rate_hz=i.rate, weight_mV=i.weight, **window)


def _builtin_drive(cfg: RunConfig, model) -> str:
    if cfg.network_type == "oni" and cfg.sensory_rate > 0:
        return (f"sensory drive of layer 1: 100 Poisson afferents x {cfg.sensory_rate:g} Hz "
                f"(0.5 mV kicks) per neuron")
    if cfg.network_type == "recurrent" and getattr(model, "brunel", {}).get("eta", 0) > 0:
        b = model.brunel
        return (f"external drive: {b['C_E']} Poisson sources x {b['nu_ext_hz']:.1f} Hz "
                f"({b['J']:.3f} mV kicks) per neuron")
    return ""


def _apply_input(engine, model, cfg: RunConfig) -> str:
    """Add the configured stimulus to ``engine``; return its description."""
    import numpy as np

    i = cfg.inputs
    builtin = _builtin_drive(cfg, model)
    if i.type == "none":
        return builtin or "none"
    network = cfg.network_type != "population"
    if cfg.network_type in ("layered", "oni"):
        ids, where = model.layer(i.target_layer), f"layer {i.target_layer}"
    else:
        ids, where = np.arange(model.n_neurons if network else model.n), (
            "the network" if network else "the population")
    m = max(1, int(round(i.target_fraction * ids.size)))
    chosen = ids[np.unique(np.linspace(0, ids.size - 1, m).round().astype(int))]
    stim = _stimulus(i)
    if not network:
        engine.add_stimulus(stim if chosen.size == ids.size
                            else dataclasses.replace(stim, targets=chosen))
    else:
        for name, local in model.locate(chosen):
            engine.add_stimulus(dataclasses.replace(stim, targets=local), name)
    target = model.populations[model.locate(chosen[:1])[0][0]] if network else model
    units = target.current_units
    if i.type == "constant":
        what = f"constant {i.amplitude:g} {units}"
    elif i.type == "pulse":
        what = f"{i.pulse_width:g} ms pulses of {i.amplitude:g} {units} at {i.rate:g} Hz"
    else:
        what = f"Poisson spikes at {i.rate:g} Hz ({i.weight:g} mV kicks)"
    when = ""
    if i.onset or i.duration is not None:
        end = "the end" if i.duration is None else f"{i.onset + i.duration:g} ms"
        when = f", from {i.onset:g} ms to {end}"
    if chosen.size == ids.size:
        share = "the neuron" if ids.size == 1 else f"all {ids.size} neurons"
    else:
        share = f"{chosen.size} of the {ids.size} neurons"
    text = f"{what} into {share} of {where}{when}"
    return f"{text}; plus the {builtin}" if builtin else text


def run_simulation(cfg: RunConfig, *, verbose: bool | None = None) -> RunOutcome:
    """Build the network of ``cfg``, drive it and simulate it.

    Parameters
    ----------
    cfg : RunConfig
        Resolved or not (it is resolved here).
    verbose : bool, optional
        Progress bar on stderr: ``True`` always, ``False`` never, ``None`` for runs
        projected to take more than a few seconds.

    Returns
    -------
    RunOutcome

    Raises
    ------
    ConfigError, ValueError
        Bad values (the network's own checks, e.g. an odd ``k``).
    SimulationDivergedError
        The simulation diverged (try a smaller ``dt``).

    Examples
    --------
    >>> out = run_simulation(RunConfig(n_layers=2, neurons_per_layer=20, duration=100.0,
    ...                                seed=1, record=()), verbose=False)
    >>> out.input_text
    'constant 5 nA into 2 of the 20 neurons of layer 1'
    >>> int(out.dataset.sizes["spike"]) > 0, out.dataset.attrs["seed"]
    (True, 1)
    """
    import time

    from neurosim_nb.engine import simulator as sim

    cfg = cfg.resolved()
    cfg = dataclasses.replace(cfg, seed=sim.resolve_seed(cfg.seed))
    model = build_model(cfg)
    engine = sim.SimulationEngine(
        model, sim.SimulationConfig(cfg.duration, cfg.dt, seed=cfg.seed, verbose=verbose),
        sim.RecordingConfig(variables=list(cfg.record), sample_every=cfg.sample_every))
    input_text = _apply_input(engine, model, cfg)
    t0 = time.perf_counter()
    ds = engine.run().dataset
    wall = time.perf_counter() - t0
    ds.attrs["run_config_json"] = json.dumps(cfg.to_dict())
    ds.attrs["input"] = input_text
    if cfg.description is not None:
        ds.attrs["description"] = cfg.description
    return RunOutcome(ds, model, cfg, input_text, wall)
