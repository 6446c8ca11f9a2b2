"""The ``neurosim`` console script, run as a real subprocess."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import xarray as xr

from neurosim_nb import LIFNeuron

NEUROSIM = shutil.which("neurosim") or str(Path(sys.executable).with_name("neurosim"))


def run(*args):
    return subprocess.run([NEUROSIM, *args], capture_output=True, text=True, timeout=120)


def test_help_and_info():
    out = run("--help")
    assert out.returncode == 0 and "info" in out.stdout and "run" in out.stdout
    info = run("info")
    assert info.returncode == 0
    assert "neurosim_nb 0.1.0" in info.stdout and "numba" in info.stdout and "LIF" in info.stdout


def test_run_writes_the_same_dataset_as_the_api(tmp_path):
    out = tmp_path / "lif.nc"
    res = run("run", "--model", "LIF", "--preset", "excitatory", "--current", "0.4",
              "--duration", "300", "--seed", "3", "--output", str(out))
    assert res.returncode == 0, res.stderr
    ds = xr.load_dataset(out)
    ref = LIFNeuron.from_preset("excitatory").simulate(300.0, 0.4, seed=3)
    assert f"{ref.sizes['spike']} spikes" in res.stdout
    np.testing.assert_array_equal(ds.spike_time.values, ref.spike_time.values)


def test_run_bad_input_is_a_message_not_a_traceback():
    res = run("run", "--model", "LIF", "--dt", "-1")
    assert res.returncode == 2 and "error: dt" in res.stderr and "Traceback" not in res.stderr
    res = run("run", "--model", "Nope")
    assert res.returncode == 2 and "unknown model family" in res.stderr


def test_ui_dry_run_prints_voila_command():
    res = run("ui", "--dry-run", "--port", "8899")
    assert res.returncode == 0 and "voila" in res.stdout and "--port=8899" in res.stdout
