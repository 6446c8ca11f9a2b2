"""The ``neurosim`` console script, run as a real subprocess: help, info, population runs, ui."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from neurosim_nb import LIFNeuron
from neurosim_nb.cli import main

NEUROSIM = shutil.which("neurosim") or str(Path(sys.executable).with_name("neurosim"))


def run(*args, cwd=None):
    return subprocess.run([NEUROSIM, *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def test_help_and_info():
    out = run("--help")
    assert out.returncode == 0
    for command in ("info", "run", "export", "ui"):
        assert command in out.stdout
    info = run("info")
    assert info.returncode == 0
    assert "neurosim_nb 0.1.0" in info.stdout and "numba" in info.stdout and "LIF" in info.stdout
    assert "layered, oni, recurrent, smallworld" in info.stdout
    assert "netcdf, npz, json, csv, oni" in info.stdout


@pytest.mark.parametrize("command, words", [
    ("run", ["--network", "--layers", "--neurons", "--k", "--p-rewire", "--g", "--duration",
             "--dt", "--seed", "--input", "--amplitude", "--target-fraction",
             "--target-layer", "--rate", "--output", "--format", "--no-voltage", "--record",
             "--config", "--quiet", "ms", "nA", "Hz", "mV", "exit codes"]),
    ("export", ["INPUT", "--format", "--output", "json", "csv", "npz", "oni", "netcdf"]),
    ("ui", ["--port", "--no-browser", "--dry-run", "--apps", "--ip"]),
])
def test_each_command_help_lists_its_options(command, words, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    missing = [w for w in words if w not in text]
    assert not missing, f"{command} --help lacks {missing}"


def test_run_writes_the_same_dataset_as_the_api(tmp_path):
    out = tmp_path / "lif.nc"
    res = run("run", "--model", "LIF", "--preset", "excitatory", "--current", "0.4",
              "--duration", "300", "--seed", "3", "--output", str(out))
    assert res.returncode == 0, res.stderr
    ds = xr.load_dataset(out)
    ref = LIFNeuron.from_preset("excitatory").simulate(300.0, 0.4, seed=3)
    assert f"spikes: {ref.sizes['spike']}," in res.stdout
    assert "input: constant 0.4 nA into the neuron of the population" in res.stdout
    assert f"wrote {out}" in res.stdout
    np.testing.assert_array_equal(ds.spike_time.values, ref.spike_time.values)
    np.testing.assert_array_equal(ds.V.values, ref.V.values)


def test_run_bad_input_is_a_message_not_a_traceback():
    res = run("run", "--model", "LIF", "--dt", "-1")
    assert res.returncode == 2 and "error: --dt must be > 0" in res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = run("run", "--model", "Nope")
    assert res.returncode == 2 and "unknown model family" in res.stderr
    assert "Traceback" not in res.stderr


def test_ui_dry_run_prints_voila_command(capsys, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    assert main(["ui", "--dry-run", "--port", "8899", "--no-browser"]) == 0
    out = capsys.readouterr().out
    assert "voila" in out and "--port=8899" in out and "--no-browser" in out
    assert main(["ui", "--dry-run"]) == 0
    assert "--no-browser" not in capsys.readouterr().out.splitlines()[-1]
    assert main(["ui", "--dry-run", "--apps", "no/such/folder"]) == 2
    assert "error: no apps folder" in capsys.readouterr().err
