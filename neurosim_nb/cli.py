"""The ``neurosim`` command line: ``run``, ``export``, ``ui`` and ``info``.

Commands
--------
``neurosim run``
    Simulate a network (``--network layered|oni|recurrent|smallworld``) or, without
    ``--network``, a single population (``--model``, ``--preset``), drive it (by default
    with a documented input, see :mod:`neurosim_nb.export.run_config`), print a summary
    and optionally write the result (``--output``, ``--format``). ``--config FILE`` reads a
    JSON run configuration; flags given with it override its keys.
``neurosim export INPUT --format FMT``
    Convert a saved result to another format.
``neurosim ui``
    Serve the Voila teaching apps.
``neurosim info``
    Versions, dependencies, model families, network types, formats, units.

Exit codes
----------
* 0 -- success.
* 2 -- usage error: argparse's own (unknown option, a ``--format`` that is not one of
  the formats, a non-number where a number is expected), and flag values that are
  rejected (e.g. ``--dt -1``, ``--model Nope``, ``--g`` with a layered network).
* 1 -- the command was well-formed but failed: a bad config file (missing, not JSON,
  unknown key, wrong type or a value its network rejects), a missing or unreadable input
  file, an unwritable output path, a diverged simulation, a recording too big for memory.

Every error is one line ``error: ...`` on stderr, never a traceback. Genuine bugs (any
other exception) still show a traceback; ``NEUROSIM_DEBUG=1`` shows the traceback of the
handled errors too.

>>> main(["info"]) == 0   # doctest: +ELLIPSIS
neurosim_nb ...
True
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from neurosim_nb._validation import MAX_SEED
from neurosim_nb._version import __version__
from neurosim_nb.errors import InvalidArgumentError
from neurosim_nb.export.run_config import (
    INPUT_KEYS,
    INPUT_TYPES,
    NETWORK_TYPES,
    OUTPUT_FORMATS,
    OUTPUT_KEYS,
    TOP_KEYS,
    ConfigError,
    InputConfig,
    RunConfig,
    check_value,
    load_run_config,
    output_target,
)

DEPENDENCIES = ["numpy", "scipy", "xarray", "netCDF4", "numba", "tqdm", "ipywidgets", "bokeh",
                "jupyter_bokeh", "voila", "jupyterlab"]
#: the ``--network`` choices (``population`` is what ``run`` does without ``--network``)
NETWORKS = tuple(t for t in NETWORK_TYPES if t != "population")


class UsageError(InvalidArgumentError):
    """The command line asks for something impossible (exit code 2)."""


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


# -- info --------------------------------------------------------------------------------
def _cmd_info(args: argparse.Namespace) -> int:
    from neurosim_nb.core.neurons import MODEL_FAMILIES

    print(f"neurosim_nb {__version__} (Python {sys.version.split()[0]})")
    print("dependencies:")
    for name in DEPENDENCIES:
        try:
            mod = importlib.import_module(name)
            print(f"  {name:14s} {getattr(mod, '__version__', '?')}")
        except ImportError:
            print(f"  {name:14s} not installed")
    print("model families: " + ", ".join(MODEL_FAMILIES))
    print("network types: " + ", ".join(NETWORKS))
    print("result formats: " + ", ".join(OUTPUT_FORMATS))
    print("units: time ms, voltage mV, current nA, conductance uS, capacitance nF, "
          "resistance MOhm, rate Hz")
    return 0


# -- run ---------------------------------------------------------------------------------
#: flag (argparse dest) -> configuration key
_TOP_FLAGS = {"layers": "n_layers", "model": "model", "preset": "preset", "k": "k",
              "p_rewire": "p_rewire", "g": "g", "sensory_rate": "sensory_rate",
              "duration": "duration", "dt": "dt", "seed": "seed",
              "sample_every": "sample_every"}
_INPUT_FLAGS = {"input": "type", "amplitude": "amplitude", "target_fraction": "target_fraction",
                "target_layer": "target_layer", "rate": "rate", "weight": "weight",
                "pulse_width": "pulse_width", "onset": "onset", "input_duration": "duration"}


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _checked(dest: str, value, field):
    try:
        return check_value(_flag(dest), value, field)
    except ConfigError as err:
        raise UsageError(str(err)) from None


#: the most neurons a command-line run builds (neurons x layers): beyond, the state alone
#: needs gigabytes and a run takes hours; the Python API has no such limit
MAX_NEURONS = 10_000_000
#: the most time steps (duration / dt) of a command-line run: 1e9 steps of one LIF neuron
#: take minutes; more is a typo in --duration or --dt, not a run to start
MAX_STEPS = 1_000_000_000


def _name(text: str, what: str, value) -> str:
    """Non-empty text without NUL bytes (a path or a name given on the command line)."""
    if not text.strip() or "\x00" in text:
        raise UsageError(f"{what} must be a non-empty string without NUL bytes, got {value!r}")
    return text


def _check_text_flags(args: argparse.Namespace) -> None:
    """The string flags of ``run``: names and paths that are not empty."""
    for dest in ("model", "preset", "output", "config"):
        if getattr(args, dest, None) is not None:
            _name(getattr(args, dest), _flag(dest), getattr(args, dest))
    if getattr(args, "record", None) is not None and not any(
            v.strip() for v in args.record.split(",")):
        raise UsageError(f"--record must name at least one variable (e.g. V,I_ext; "
                         f"--no-voltage records spikes only), got {args.record!r}")


#: words of an error raised while building a run -> the flags that set what it names
_BLAME = [(r"^k = |\bk\b.*even", ("--k",)), (r"n_neurons|neurons_per_layer|smaller than n = ",
                                             ("--neurons",)),
          (r"n_layers", ("--layers",)),
          (r"\blayer \d+ does not exist|target_layer", ("--target-layer",)),
          (r"pulse_ms|period", ("--pulse-width", "--rate")),
          (r"shorter than one step", ("--duration", "--dt")),
          (r"cannot record", ("--record",)), (r"preset", ("--preset",)),
          (r"model family", ("--model",)), (r"p_rewire", ("--p-rewire",)),
          (r"inputs\.(\w+)", ()), (r"target_fraction", ("--target-fraction",)),
          (r"sensory_rate", ("--sensory-rate",)), (r"sample_every", ("--sample-every",))]


def _with_flags(message: str) -> str:
    """``message`` (from the code that builds a run, in its own words) followed by the flags
    that set what it is about, so that a usage error always names a flag."""
    import re

    if re.search(r"(^|\s)--[a-z]", message):
        return message
    flags: list[str] = []
    for pattern, names in _BLAME:
        m = re.search(pattern, message)
        if m:
            key = m.group(1) if not names else ""
            names = names or ({"duration": "--input-duration", "type": "--input"}.get(
                key, _flag(key)),)
            flags += [f for f in names if f not in flags]
    return f"{message} (flags: {', '.join(flags)})" if flags else message


def _source(args: argparse.Namespace, dest: str, key: str) -> str:
    """How to name a setting in a message: its flag if given, else its config key."""
    if getattr(args, dest, None) is not None:
        return _flag(dest)
    return f"{args.config}: {key}" if args.config is not None else _flag(dest)


def _check_run_size(args: argparse.Namespace, cfg: RunConfig) -> None:
    """Sizes of a resolved run that the command line refuses before building anything:
    the seed (NetCDF int64), neurons, steps, sampling and an input that never starts."""
    def fail(message: str, *dests: str) -> Exception:
        from_flags = args.config is None or any(getattr(args, d, None) is not None
                                                for d in dests)
        return UsageError(message) if from_flags else ConfigError(message)

    if cfg.seed is not None and cfg.seed > MAX_SEED:
        raise fail(f"{_source(args, 'seed', 'seed')} must be an integer in 0..{MAX_SEED} "
                   f"(stored as a 64-bit integer), got {cfg.seed}", "seed")
    per = cfg.neurons_per_layer if cfg.network_type in ("layered", "oni") else cfg.n_neurons
    layers = cfg.n_layers if cfg.network_type in ("layered", "oni") else 1
    if per is not None and (per * (layers or 1) > MAX_NEURONS):
        where = _source(args, "neurons", "neurons_per_layer" if layers else "n_neurons")
        if layers and layers > 1:
            where += f" x {_source(args, 'layers', 'n_layers')}"
        raise fail(f"{where} = {per * (layers or 1)} neurons, more than the {MAX_NEURONS} "
                   f"a command-line run builds (at ~1 KiB of state and synapses per neuron, "
                   f"{per * (layers or 1) / 2**20:.3g} GiB or more): use fewer",
                   "neurons", "layers")
    steps = cfg.duration / cfg.dt
    if steps > MAX_STEPS:
        raise fail(f"{_source(args, 'duration', 'duration')} / {_source(args, 'dt', 'dt')} = "
                   f"{cfg.duration:g} / {cfg.dt:g} ms is {steps:.3g} steps, more than the "
                   f"{MAX_STEPS:.0e} a command-line run takes: use a shorter --duration or a "
                   f"longer --dt", "duration", "dt")
    if steps < 1:
        raise fail(f"{_source(args, 'dt', 'dt')} = {cfg.dt:g} ms is longer than the run "
                   f"({_source(args, 'duration', 'duration')} = {cfg.duration:g} ms): not one "
                   "step; use a shorter --dt", "dt", "duration")
    if cfg.sample_every > max(steps, 1):
        raise fail(f"{_source(args, 'sample_every', 'sample_every')} = {cfg.sample_every} is "
                   f"more than the {int(steps)} steps of the run: nothing would be recorded",
                   "sample_every")
    onset = cfg.inputs.onset
    if onset is not None and onset >= cfg.duration:
        raise fail(f"{_source(args, 'onset', 'inputs.onset')} = {onset:g} ms is not before the "
                   f"end of the run ({cfg.duration:g} ms): the input would never start",
                   "onset", "duration")


def _overrides(args: argparse.Namespace, cfg: RunConfig) -> RunConfig:
    """``cfg`` with every flag that was given applied (flags beat config keys)."""
    top: dict = {}
    if args.network is not None:
        top["network_type"] = args.network
    net_type = top.get("network_type", cfg.network_type)
    for dest, key in _TOP_FLAGS.items():
        if getattr(args, dest) is not None:
            top[key] = _checked(dest, getattr(args, dest), TOP_KEYS[key])
    if args.neurons is not None:
        key = "neurons_per_layer" if net_type in ("layered", "oni") else "n_neurons"
        top[key] = _checked("neurons", args.neurons, TOP_KEYS[key])
    if args.no_voltage:
        top["record"] = ()
    elif args.record is not None:
        top["record"] = tuple(v.strip() for v in args.record.split(",") if v.strip())
    inputs = {key: _checked(dest, getattr(args, dest), INPUT_KEYS[key])
              for dest, key in _INPUT_FLAGS.items() if getattr(args, dest) is not None}
    if "type" in inputs and inputs["type"] != cfg.inputs.type:
        # a new input type starts from its own defaults, keeping only the target and timing
        keep = ("target_fraction", "target_layer", "onset", "duration")
        inputs = {**{k: getattr(cfg.inputs, k) for k in keep}, **inputs}
        top["inputs"] = InputConfig(**inputs)
    elif inputs:
        top["inputs"] = inputs
    if args.output is not None:
        top["output"] = {"filename": args.output, **({"format": args.format}
                                                     if args.format else {})}
    elif args.format is not None:
        if cfg.output is None:
            raise UsageError("--format needs --output (or an output object in the config)")
        top["output"] = {"format": args.format}
    return cfg.replace(**top)


def _summary(outcome, paths: list[Path]) -> list[str]:
    import json

    ds, cfg, model = outcome.dataset, outcome.config, outcome.model
    n, dur = int(ds.attrs["n_neurons"]), float(ds.attrs["duration"])
    t = cfg.network_type
    if t == "population":
        what = f"{cfg.model} ({cfg.preset or 'default'}) x {n}"
    elif t in ("layered", "oni"):
        what = (f"{t} network {model.name!r}: {cfg.n_layers} layers, {n} neurons "
                f"({cfg.neurons_per_layer} per layer{', scaled by layer' if t == 'oni' else ''})")
    else:
        what = f"{t} network {model.name!r}: {n} neurons"
    n_spk = int(ds.sizes["spike"])
    rate = n_spk / n / (dur / 1000.0) if n and dur else 0.0
    lines = [what,
             f"simulated {dur:g} ms at dt {cfg.dt:g} ms in {outcome.wall_time:.2f} s "
             f"(seed {cfg.seed})",
             f"input: {outcome.input_text}",
             f"spikes: {n_spk}, mean rate {rate:.2f} Hz per neuron"]
    if t in ("layered", "oni") and "layer" in ds.coords:
        from neurosim_nb.core.networks.layered import layer_rates

        names = json.loads(ds.attrs.get("layer_names_json", "{}"))
        lines.append("layer rates (Hz):")
        for layer, r in layer_rates(ds).items():
            name = names.get(str(layer), "")
            label = f" {name}" if name and name != f"Layer {layer}" else ""
            lines.append(f"  L{layer}{label}: {r:.2f}")
    if ds.attrs.get("interrupted"):
        lines.append("interrupted: the result holds what was simulated")
    lines += [f"wrote {p}" for p in paths]
    return lines


def _cmd_run(args: argparse.Namespace) -> int:
    from neurosim_nb.export._atomic import writable_path
    from neurosim_nb.export.run_config import run_simulation

    _check_text_flags(args)                             # UsageError: exit 2
    if args.config is not None:
        cfg = load_run_config(args.config)              # ConfigError: exit 1
    else:
        cfg = RunConfig(network_type=args.network or "population")
    cfg = _overrides(args, cfg)                         # UsageError: exit 2

    def bad_value(err: ValueError) -> ValueError:
        # a value rejected while building the run: the file's fault (1) or the flags' (2)
        if args.config is not None:
            return ConfigError(f"{args.config}: {_one_line(err)}")
        return UsageError(_with_flags(_one_line(err)))

    try:
        cfg = cfg.resolved()
        target = output_target(cfg.output.filename, cfg.output.format) if cfg.output else None
    except ValueError as err:
        raise bad_value(err) from None
    _check_run_size(args, cfg)                          # before anything is built
    if target is not None:
        writable_path(target[0])                        # fail before a long run
    try:
        outcome = run_simulation(cfg, verbose=False if args.quiet else None)
    except ValueError as err:  # not SimulationDivergedError / RecordingMemoryError: exit 1
        if isinstance(err, MemoryError):  # RecordingMemoryError is also a TooLargeError
            raise
        raise bad_value(err) from None
    paths: list[Path] = []
    if target is not None:
        from neurosim_nb.core.networks.network import Network
        from neurosim_nb.export.io import save_result

        network = outcome.model if isinstance(outcome.model, Network) else None
        paths = [Path(p) for p in save_result(outcome.dataset, target[0], target[1],
                                              network=network)]
    print("\n".join(_summary(outcome, paths)))
    return 0


# -- export ------------------------------------------------------------------------------
def _cmd_export(args: argparse.Namespace) -> int:
    from neurosim_nb.export.io import load_result, save_result

    _name(args.input, "INPUT", args.input)
    if args.output is not None:
        _name(args.output, "--output", args.output)
    src = Path(args.input).expanduser()
    try:
        if args.output is not None:
            dst, fmt = output_target(args.output, args.format)
        elif args.format is None:
            raise UsageError("give --format (or an --output with a format suffix)")
        else:
            from neurosim_nb.export.io import SUFFIXES

            fmt = args.format
            dst = src.with_suffix(SUFFIXES[fmt])
            if dst.resolve() == src.resolve():
                dst = src.with_name(f"{src.stem}_{fmt}{SUFFIXES[fmt]}")
    except ConfigError as err:
        raise UsageError(str(err)) from None
    if dst.exists() and dst.resolve() == src.resolve():
        raise UsageError(f"the output {dst} is the input; give another --output")
    ds = load_result(src, args.input_format)
    paths = save_result(ds, dst, fmt)
    facts = [f"{int(ds.sizes.get('spike', 0))} spikes"]
    if "n_neurons" in ds.attrs:
        facts.append(f"{ds.attrs['n_neurons']} neurons")
    if "duration" in ds.attrs:
        facts.append(f"{float(ds.attrs['duration']):g} ms")
    print(f"{src} -> {fmt}: {', '.join(facts)}")
    for p in paths:
        print(f"wrote {p}")
    return 0


# -- ui ----------------------------------------------------------------------------------
def _cmd_ui(args: argparse.Namespace) -> int:
    _name(args.apps, "--apps", args.apps)
    _name(args.ip, "--ip", args.ip)
    if not 1 <= args.port <= 65535:
        raise UsageError(f"--port must be an integer in 1..65535, got {args.port}")
    apps = Path(args.apps)
    if not apps.is_dir():
        raise UsageError(f"no apps folder {apps}; run from the repository root or pass --apps")
    voila = shutil.which("voila") or str(Path(sys.executable).with_name("voila"))
    cmd = [voila, str(apps), f"--port={args.port}", f"--Voila.ip={args.ip}",
           "--Voila.port_retries=0"]
    if args.no_browser:
        cmd.insert(2, "--no-browser")
    print(f"serving the apps of {apps} on http://{args.ip}:{args.port}/ (Ctrl-C stops)")
    if args.dry_run:
        print(" ".join(cmd))
        return 0
    return subprocess.call(cmd, env=dict(os.environ))


# -- parser ------------------------------------------------------------------------------
_RUN_EPILOG = """\
examples:
  neurosim run --network layered --layers 3 --neurons 100 --duration 1000
  neurosim run --network oni --duration 2000 --output oni_simulation
  neurosim run --config simulation.json
  neurosim run --config simulation.json --duration 200      (flags override the file)
  neurosim run --model Izhikevich --preset CH --output ch.nc

default input (--input auto): a constant 5 nA into 10 % of layer 1 (layered), of the
network (smallworld) or the preset's demo current into every neuron (single population);
the oni model and the recurrent network carry their own Poisson drive (ONI sensory input to
layer 1, Brunel's external input) and get nothing more unless an input option is given.
Explicit input adds to that built-in drive.

{config_keys}
exit codes: 0 success, 2 usage error, 1 failure (bad config file, unwritable output,
diverged simulation); errors are one line on stderr (NEUROSIM_DEBUG=1: tracebacks).
"""


def _config_keys_text() -> str:
    import textwrap

    keys = ", ".join(k for k in TOP_KEYS if k not in ("inputs", "output"))
    text = (f"config file (JSON) keys, all optional (units and defaults as for the flags; "
            f"documented in neurosim_nb.export.run_config): {keys}; inputs: "
            f"{{{', '.join(INPUT_KEYS)}}}; output: {{{', '.join(OUTPUT_KEYS)}}}. Unknown "
            f"keys and wrong types are errors. Flags given with --config override its keys "
            f"(--neurons sets neurons_per_layer or n_neurons, --input-duration sets "
            f"inputs.duration).")
    return textwrap.fill(text, width=90)


def _add_run_parser(sub) -> None:
    p = sub.add_parser(
        "run", help="simulate a network or a population, print a summary, save the result",
        description="Simulate a network (--network) or a single population (--model, "
        "--preset), print spikes and rates, and optionally save the result.",
        epilog=_RUN_EPILOG.format(config_keys=_config_keys_text()),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="FILE", help="JSON run configuration; flags given "
                   "as well override its keys")
    g = p.add_argument_group("network")
    g.add_argument("--network", choices=NETWORKS, help="network type (default: a single "
                   "population of --model; with --config: its network_type)")
    g.add_argument("--layers", type=int, help="layers of a layered network (default 3; "
                   "oni: 14)")
    g.add_argument("--neurons", type=int, help="neurons per layer for layered (100) and oni "
                   "(50); total for recurrent (1000), smallworld (500), a population (1)")
    g.add_argument("--model", help="neuron model family for a population or layered/oni "
                   "net, e.g. LIF (default), Izhikevich, AdEx, 'Hodgkin-Huxley'")
    g.add_argument("--preset", help="population preset, e.g. excitatory, RS, tonic")
    g.add_argument("--k", type=int, help="smallworld: ring neighbours per neuron (even, "
                   "default 4)")
    g.add_argument("--p-rewire", type=float, help="smallworld: rewiring probability "
                   "(default 0.1)")
    g.add_argument("--g", type=float, help="recurrent: relative inhibitory strength "
                   "(default 4)")
    g.add_argument("--sensory-rate", type=float, metavar="HZ", help="oni: rate of each of "
                   "the 100 Poisson afferents of a layer-1 neuron, Hz (default 20; 0: off)")
    g = p.add_argument_group("time")
    g.add_argument("--duration", type=float, metavar="MS", help="simulated time, ms "
                   "(default 1000)")
    g.add_argument("--dt", type=float, metavar="MS", help="time step, ms (default 0.1)")
    g.add_argument("--seed", type=int, help="seed of connectivity and stochastic input "
                   "(default: drawn; printed and stored in the result)")
    g = p.add_argument_group("input")
    g.add_argument("--input", choices=INPUT_TYPES, help="stimulus type (default auto: see "
                   "below)")
    g.add_argument("--amplitude", "--current", type=float, metavar="NA", help="current of "
                   "constant/pulse input, nA (the model's current units; default 5, for a "
                   "population the preset's demo current)")
    g.add_argument("--target-fraction", type=float, metavar="F", help="fraction of the "
                   "target driven, in (0, 1] (default 0.1; a population 1)")
    g.add_argument("--target-layer", type=int, metavar="L", help="layered/oni: driven layer "
                   "(default 1)")
    g.add_argument("--rate", type=float, metavar="HZ", help="pulse frequency (default 10 Hz) "
                   "or Poisson rate per driven neuron (default 2000 Hz)")
    g.add_argument("--weight", type=float, metavar="MV", help="poisson: kick per input "
                   "spike, mV (default 1)")
    g.add_argument("--pulse-width", type=float, metavar="MS", help="pulse: width, ms "
                   "(default 5)")
    g.add_argument("--onset", type=float, metavar="MS", help="input start, ms (default 0)")
    g.add_argument("--input-duration", type=float, metavar="MS", help="input length, ms "
                   "(default: to the end)")
    g = p.add_argument_group("recording and output")
    rec = g.add_mutually_exclusive_group()
    rec.add_argument("--record", metavar="VARS", help="comma-separated state variables to "
                     "record, e.g. V,I_ext (default V; spikes are always recorded)")
    rec.add_argument("--no-voltage", action="store_true", help="record spikes only")
    g.add_argument("--sample-every", type=int, metavar="N", help="record every N steps "
                   "(default 1)")
    g.add_argument("--output", metavar="PATH", help="write the result here (a name without "
                   "suffix gets the format's); default: not written")
    g.add_argument("--format", choices=OUTPUT_FORMATS, help="output format (default from the "
                   "suffix of --output, else netcdf); oni writes the ONI native JSON")
    g.add_argument("--quiet", action="store_true", help="no progress bar (a bar goes to "
                   "stderr for runs longer than a few seconds)")
    p.set_defaults(func=_cmd_run)


def build_parser() -> argparse.ArgumentParser:
    """The ``neurosim`` argument parser (subcommands run, export, ui, info)."""
    parser = argparse.ArgumentParser(
        prog="neurosim", description="neurosim_nb: simulate and teach spiking neural networks. "
        "Units: time ms, voltage mV, current nA, conductance uS, rate Hz.",
        epilog="exit codes: 0 success, 2 usage error, 1 failure; `neurosim COMMAND --help` "
        "for a command's options")
    parser.add_argument("--version", action="version", version=f"neurosim_nb {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("info", help="versions, dependencies, model families, formats, units")
    p.set_defaults(func=_cmd_info)

    _add_run_parser(sub)

    p = sub.add_parser("export", help="convert a saved result to another format",
                       description="Convert a saved result (netcdf, npz, json, csv) to another "
                       "format; e.g. `neurosim export results.npz --format json` writes "
                       "results.json.")
    p.add_argument("input", metavar="INPUT", help="a result file written by neurosim")
    p.add_argument("--format", choices=OUTPUT_FORMATS, help="output format (default from "
                   "the suffix of --output)")
    p.add_argument("--output", metavar="PATH", help="output file (default: INPUT with the "
                   "format's suffix; INPUT_<format>.<suffix> if that is INPUT itself)")
    p.add_argument("--input-format", choices=[f for f in OUTPUT_FORMATS if f != "oni"],
                   help="format of INPUT (default from its suffix)")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("ui", help="serve the Voila teaching apps on localhost")
    p.add_argument("--apps", default="widgets", help="folder of app notebooks (default widgets)")
    p.add_argument("--port", type=int, default=8866, help="port (default 8866)")
    p.add_argument("--ip", default="127.0.0.1", help="address to listen on (default "
                   "127.0.0.1)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--dry-run", action="store_true", help="print the voila command only")
    p.set_defaults(func=_cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``neurosim`` console script.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit code: 0 success, 2 usage error, 1 failure (see the module docstring).
        argparse's own usage errors raise ``SystemExit(2)``.
    """
    args = build_parser().parse_args(argv)
    # this process is ours: freeze the long-lived objects after the first run (~0.3 s
    # less at exit, see neurosim_nb._gc) unless the caller said otherwise
    os.environ.setdefault("NEUROSIM_NB_GC_FREEZE", "1")
    debug = os.environ.get("NEUROSIM_DEBUG", "") not in ("", "0")
    try:
        return args.func(args)
    except UsageError as err:
        if debug:
            raise
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if debug:
            raise
        print("error: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError, ArithmeticError, MemoryError) as err:
        # ConfigError (bad config file), ExportError / OSError (files), SimulationDivergedError,
        # RecordingMemoryError: a message, not a traceback
        if debug:
            raise
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
