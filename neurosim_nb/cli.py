"""The ``neurosim`` command line: ``info``, ``run`` (single populations for now) and ``ui``.

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

from neurosim_nb._version import __version__

DEPENDENCIES = ["numpy", "scipy", "xarray", "netCDF4", "numba", "tqdm", "ipywidgets", "bokeh",
                "jupyter_bokeh", "voila", "jupyterlab"]


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
    print("units: time ms, voltage mV, current nA, conductance uS, capacitance nF, "
          "resistance MOhm, rate Hz")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from neurosim_nb.core.neurons import model_class

    cls = model_class(args.model)
    pop = cls.from_preset(args.preset, n=args.neurons) if args.preset else cls(n=args.neurons)
    current = cls.demo_current(args.preset) if args.current is None else args.current
    ds = pop.simulate(args.duration, current, dt=args.dt, seed=args.seed,
                      record=() if args.no_voltage else ("V",), verbose=None)
    n_spk = ds.sizes["spike"]
    rate = n_spk / pop.n / (ds.attrs["duration"] / 1000.0)
    print(f"{args.model} ({args.preset or 'default'}) x {pop.n}: {ds.attrs['duration']:g} ms at "
          f"dt {args.dt:g} ms, input {current:g} {cls.current_units}: {n_spk} spikes, "
          f"{rate:.2f} Hz per neuron")
    if args.output:
        out = Path(args.output)
        if out.suffix == "":
            out = out.with_suffix(".nc")
        if out.suffix != ".nc":
            print(f"error: only NetCDF (.nc) output is supported so far, got {out}",
                  file=sys.stderr)
            return 2
        ds.to_netcdf(out)
        print(f"wrote {out}")
    return 0


def _cmd_ui(args: argparse.Namespace) -> int:
    apps = Path(args.apps)
    if not apps.is_dir():
        print(f"error: no apps folder {apps}; run from the repository root or pass --apps",
              file=sys.stderr)
        return 2
    voila = shutil.which("voila") or str(Path(sys.executable).with_name("voila"))
    cmd = [voila, str(apps), "--no-browser", f"--port={args.port}", f"--Voila.ip={args.ip}",
           "--Voila.port_retries=0"]
    print(f"serving the apps of {apps} on http://{args.ip}:{args.port}/ (Ctrl-C stops)")
    if args.dry_run:
        print(" ".join(cmd))
        return 0
    return subprocess.call(cmd, env=dict(os.environ))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neurosim", description="neurosim_nb: simulate and teach spiking neural networks.")
    parser.add_argument("--version", action="version", version=f"neurosim_nb {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("info", help="versions, dependencies, model families, units")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("run", help="simulate a neuron population and print its spike count")
    p.add_argument("--model", default="LIF", help="model family, e.g. LIF, Izhikevich, AdEx, "
                   "'Hodgkin-Huxley', 'Adaptive LIF'")
    p.add_argument("--preset", default=None, help="preset name, e.g. excitatory, RS, tonic")
    p.add_argument("--neurons", type=int, default=1, help="number of neurons (default 1)")
    p.add_argument("--current", type=float, default=None,
                   help="constant input current in the model's units (default: a preset value)")
    p.add_argument("--duration", type=float, default=1000.0, help="simulated time in ms")
    p.add_argument("--dt", type=float, default=0.1, help="time step in ms")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--no-voltage", action="store_true", help="record spikes only")
    p.add_argument("--output", default=None, help="write the Dataset to this NetCDF file")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("ui", help="serve the Voila teaching apps on localhost")
    p.add_argument("--apps", default="widgets", help="folder of app notebooks (default widgets)")
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--ip", default="127.0.0.1")
    p.add_argument("--dry-run", action="store_true", help="print the voila command only")
    p.set_defaults(func=_cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``neurosim`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:  # bad user input: a message, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
