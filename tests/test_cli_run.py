"""``neurosim run`` for networks and config files, ``neurosim export``, and the exit codes.

The seed document's command lines and its configuration example are run through the real
console script (a subprocess). Shortened durations: the command lines get a smaller
``--duration``; the configuration file is the seed's JSON **verbatim** (``duration`` 2000)
and its duration is shortened with the documented override flag ``--duration 200`` (flags
given with ``--config`` override the file's keys). Checks that need no separate process
call ``main([...])`` in-process.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurosim_nb.cli import main
from neurosim_nb.export.run_config import (
    OUTPUT_FORMATS,
    ConfigError,
    load_run_config,
    output_target,
)

NEUROSIM = shutil.which("neurosim") or str(Path(sys.executable).with_name("neurosim"))

#: the "Configuration Files" example of the seed document, verbatim
SEED_CONFIG = """\
{
    "network_type": "layered",
    "n_layers": 5,
    "neurons_per_layer": 100,
    "duration": 2000,
    "dt": 0.1,
    "inputs": {
        "type": "constant",
        "amplitude": 5.0,
        "target_fraction": 0.1
    },
    "output": {
        "format": "oni",
        "filename": "simulation_output"
    }
}
"""


def neurosim(*args, cwd):
    return subprocess.run([NEUROSIM, *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def spikes(ds):
    return ds.spike_time.values, ds.spike_neuron.values


# -- the seed's configuration example --------------------------------------------------------
def test_seed_config_example_every_key_is_honoured(tmp_path):
    (tmp_path / "simulation.json").write_text(SEED_CONFIG)
    cfg = load_run_config(tmp_path / "simulation.json")
    assert (cfg.network_type, cfg.n_layers, cfg.neurons_per_layer, cfg.duration, cfg.dt) == (
        "layered", 5, 100, 2000.0, 0.1)
    assert (cfg.inputs.type, cfg.inputs.amplitude, cfg.inputs.target_fraction) == (
        "constant", 5.0, 0.1)
    assert (cfg.output.format, cfg.output.filename) == ("oni", "simulation_output")

    res = neurosim("run", "--config", "simulation.json", "--duration", "200", "--seed", "4",
                   "--quiet", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    out = tmp_path / "simulation_output.oni.json"
    assert f"wrote {out.name}" in res.stdout
    assert "layered network 'layered': 5 layers, 500 neurons (100 per layer)" in res.stdout
    assert "simulated 200 ms at dt 0.1 ms" in res.stdout and "(seed 4)" in res.stdout
    assert "input: constant 5 nA into 10 of the 100 neurons of layer 1" in res.stdout
    assert res.stdout.count("\n  L") == 5                       # five per-layer rates

    doc = json.loads(out.read_text())
    for key in ("version", "type", "timestamp", "simulation", "coherence_analysis",
                "firing_statistics", "connectivity", "layer_naming", "layers"):
        assert key in doc, key
    assert doc["type"] == "neurosim_export"
    sim = doc["simulation"]
    assert (sim["duration_ms"], sim["dt_ms"], sim["n_neurons"]) == (200.0, 0.1, 500)
    rates = doc["firing_statistics"]["layer_rates"]
    assert rates["1"] > 0                                       # the driven layer fires
    assert doc["firing_statistics"]["total_spikes"] > 0
    assert len(doc["connectivity"]["inter_layer_weights"]) == 14


def test_config_without_override_and_flags_beat_the_file(tmp_path, capsys):
    cfg = {"network_type": "smallworld", "n_neurons": 100, "k": 4, "p_rewire": 0.2,
           "duration": 100, "seed": 2, "record": [], "description": "demo run",
           "inputs": {"type": "poisson", "rate": 3000, "weight": 1.5, "target_fraction": 0.2},
           "output": {"filename": str(tmp_path / "sw.npz")}}
    path = tmp_path / "sw.json"
    path.write_text(json.dumps(cfg))
    assert main(["run", "--config", str(path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "smallworld network 'watts_strogatz': 100 neurons" in out
    assert "Poisson spikes at 3000 Hz (1.5 mV kicks) into 20 of the 100 neurons" in out
    from neurosim_nb.export.io import load_result

    ds = load_result(tmp_path / "sw.npz")
    assert ds.attrs["duration"] == 100.0 and ds.sizes["spike"] > 0 and "V" not in ds
    assert ds.attrs["description"] == "demo run" and ds.attrs["seed"] == 2
    assert json.loads(ds.attrs["run_config_json"])["inputs"]["weight"] == 1.5
    # flags override: a new input type starts from its own defaults, the target is kept
    assert main(["run", "--config", str(path), "--quiet", "--duration", "50", "--input",
                 "constant", "--output", str(tmp_path / "sw2"), "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert "constant 5 nA into 20 of the 100 neurons" in out and "sw2.json" in out
    assert load_result(tmp_path / "sw2.json").attrs["duration"] == 50.0


# -- the seed's command lines ---------------------------------------------------------------
def test_seed_command_layered(tmp_path):
    res = neurosim("run", "--network", "layered", "--layers", "3", "--neurons", "100",
                   "--duration", "200", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "layered network 'layered': 3 layers, 300 neurons (100 per layer)"
    assert "input: constant 5 nA into 10 of the 100 neurons of layer 1" in lines
    n_spikes = int(next(x for x in lines if x.startswith("spikes: ")).split()[1].rstrip(","))
    assert n_spikes > 0
    rates = {x.split(":")[0].strip(): float(x.split(":")[1]) for x in lines if x[:3] == "  L"}
    assert list(rates) == ["L1", "L2", "L3"] and rates["L1"] > 0
    assert not list(tmp_path.iterdir())                         # no --output: nothing written


def test_seed_command_oni_and_export(tmp_path):
    from neurosim_nb.export.io import load_result

    res = neurosim("run", "--network", "oni", "--duration", "150", "--output",
                   "oni_simulation", "--seed", "1", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "oni network 'ONI_14Layer_Model': 14 layers, 655 neurons" in res.stdout
    assert "L1 Physical Interface:" in res.stdout and "L14 Meta-Cognition:" in res.stdout
    assert "wrote oni_simulation.nc" in res.stdout              # netcdf: the default format
    ds = load_result(tmp_path / "oni_simulation.nc")
    assert ds.attrs["n_neurons"] == 655 and ds.attrs["seed"] == 1
    layer = ds.layer.values[np.searchsorted(ds.neuron.values, ds.spike_neuron.values)]
    assert np.sum(layer == 1) > 0                               # the driven layer fires
    assert json.loads(ds.attrs["run_config_json"])["network_type"] == "oni"

    # the seed's `neurosim export results.npz --format json`
    assert main(["export", str(tmp_path / "oni_simulation.nc"), "--format", "npz",
                 "--output", str(tmp_path / "results.npz")]) == 0
    res = neurosim("export", "results.npz", "--format", "json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "wrote results.json" in res.stdout
    ref = spikes(ds)
    for name in ("results.npz", "results.json"):
        got = spikes(load_result(tmp_path / name))
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])


def test_export_between_formats_keeps_the_spikes(tmp_path, capsys):
    from neurosim_nb.export.io import load_result

    src = tmp_path / "run.nc"
    assert main(["run", "--network", "layered", "--layers", "2", "--neurons", "40",
                 "--duration", "100", "--seed", "5", "--quiet", "--output", str(src)]) == 0
    ref = spikes(load_result(src))
    assert ref[0].size > 0
    # default names: INPUT with the format's suffix, INPUT_<format>.<suffix> for the input's
    # own format; json -> netcdf names its output (run.nc is the source). CSV holds spikes
    # only (no attrs), so it ends a chain.
    chain = [("run.nc", "npz", "run.npz"), ("run.npz", "json", "run.json"),
             ("run.json", "netcdf", "back.nc"), ("back.nc", "csv", "back.csv"),
             ("back.csv", "csv", "back_csv.csv")]
    for prev, fmt, name in chain:
        extra = ["--output", str(tmp_path / name)] if name == "back.nc" else []
        assert main(["export", str(tmp_path / prev), "--format", fmt, *extra]) == 0, fmt
        out = capsys.readouterr().out
        assert f"wrote {tmp_path / name}" in out and f"{ref[0].size} spikes" in out
        got = spikes(load_result(tmp_path / name))
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
    assert main(["export", str(src), "--format", "oni", "--output",
                 str(tmp_path / "run_oni.json")]) == 0
    doc = json.loads((tmp_path / "run_oni.json").read_text())
    assert doc["firing_statistics"]["total_spikes"] == ref[0].size


# -- errors and exit codes ------------------------------------------------------------------
def test_config_errors_exit_1_with_one_line(tmp_path, capsys):
    def run_config(data, name="bad.json"):
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else json.dumps(data))
        code = main(["run", "--config", str(path), "--quiet"])
        return code, one_line_error(capsys.readouterr().err)

    code, msg = run_config({"network_type": "layered", "inputs": {"amplitud": 5.0}})
    assert code == 1 and "unknown key 'inputs.amplitud'" in msg
    assert "did you mean 'inputs.amplitude'?" in msg
    code, msg = run_config({"n_layer": 5})
    assert code == 1 and "did you mean 'n_layers'?" in msg
    code, msg = run_config({"amplitude": 5.0})
    assert code == 1 and "did you mean 'inputs.amplitude'?" in msg
    code, msg = run_config({"inputs": {"amplitude": "5 nA"}})
    assert code == 1 and "inputs.amplitude must be a number (nA), got '5 nA'" in msg
    code, msg = run_config({"neurons_per_layer": 10.5})
    assert code == 1 and "neurons_per_layer must be an integer" in msg
    code, msg = run_config({"output": {"format": "hdf5", "filename": "x"}})
    assert code == 1 and "output.format must be one of" in msg
    code, msg = run_config({"network_type": "recurrent", "neurons_per_layer": 10})
    assert code == 1 and "neurons_per_layer applies to layered, oni networks" in msg
    code, msg = run_config('{"duration": 100,}')
    assert code == 1 and "not valid JSON" in msg
    assert main(["run", "--config", str(tmp_path / "missing.json")]) == 1
    assert "does not exist" in one_line_error(capsys.readouterr().err)


def test_error_exit_codes_in_a_real_process(tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps({"network_type": "layerd"}))
    res = neurosim("run", "--config", "bad.json", cwd=tmp_path)
    assert res.returncode == 1
    assert "did you mean 'layered'?" in one_line_error(res.stderr)
    res = neurosim("export", "missing.npz", "--format", "json", cwd=tmp_path)
    assert res.returncode == 1
    assert "missing.npz" in one_line_error(res.stderr)
    res = neurosim("run", "--network", "layered", "--format", "hdf5", cwd=tmp_path)
    assert res.returncode == 2 and "invalid choice: 'hdf5'" in res.stderr
    assert "Traceback" not in res.stderr


def test_usage_and_output_errors(tmp_path, capsys):
    def err(argv, code):
        assert main(argv) == code, argv
        return one_line_error(capsys.readouterr().err)

    # unwritable outputs fail before the run (checked for folders that are missing, files,
    # or the output itself a folder; permission bits mean nothing to root, who runs CI here)
    (tmp_path / "file.txt").write_text("")
    (tmp_path / "folder.nc").mkdir()
    assert "does not exist" in err(["run", "--duration", "10", "--output",
                                    str(tmp_path / "no" / "x.nc")], 1)
    assert "does not exist" in err(["run", "--duration", "10", "--output",
                                    str(tmp_path / "file.txt" / "x.nc")], 1)
    assert "it is a folder" in err(["run", "--duration", "10", "--output",
                                    str(tmp_path / "folder.nc")], 1)
    assert "--format needs --output" in err(["run", "--format", "json"], 2)
    assert "suffix of netcdf files but the format is json" in err(
        ["run", "--output", str(tmp_path / "a.nc"), "--format", "json"], 2)
    assert "cannot tell the format of 'x.xyz'" in err(["run", "--output", "x.xyz"], 2)
    assert "--target-fraction must be in (0, 1]" in err(["run", "--target-fraction", "2"], 2)
    assert "g applies to recurrent networks, not to layered" in err(
        ["run", "--network", "layered", "--g", "5"], 2)
    assert "inputs.weight does not apply to 'constant' input" in err(
        ["run", "--network", "layered", "--input", "constant", "--weight", "1"], 2)
    assert "layer 9 does not exist" in err(
        ["run", "--network", "layered", "--target-layer", "9", "--duration", "10"], 2)
    assert "cannot record 'W'" in err(["run", "--record", "W", "--duration", "10"], 2)
    with pytest.raises(SystemExit) as exc:
        main(["export", "x.nc", "--format", "hdf5"])
    assert exc.value.code == 2
    assert [p.name for p in tmp_path.glob("*.nc")] == ["folder.nc"]


def test_output_names_and_formats():
    assert OUTPUT_FORMATS == ("netcdf", "npz", "json", "csv", "oni")
    from neurosim_nb.export import io

    assert tuple(io.FORMATS) == OUTPUT_FORMATS
    assert output_target("x") == (Path("x.nc"), "netcdf")
    assert output_target("x.v1", "npz") == (Path("x.v1.npz"), "npz")
    assert output_target("x", "oni") == (Path("x.oni.json"), "oni")
    assert output_target("x.oni.json") == (Path("x.oni.json"), "oni")
    with pytest.raises(ConfigError, match="cannot tell the format"):
        output_target("x.v1")
    with pytest.raises(ConfigError, match="did you mean 'json'"):
        output_target("x", "jsn")


@pytest.mark.parametrize("exc", ["SimulationDivergedError", "RecordingMemoryError"])
def test_failed_simulation_is_exit_1(exc, monkeypatch, capsys):
    # no model diverges at a user-reachable dt (the integrators are exponential / stable),
    # so the engine's error is injected where run_simulation would raise it
    from neurosim_nb.engine import simulator
    from neurosim_nb.export import run_config

    def fail(cfg, verbose=None):
        raise getattr(simulator, exc)("population 'x' diverged at t = 1 ms; try a smaller dt")

    monkeypatch.setattr(run_config, "run_simulation", fail)
    assert main(["run", "--duration", "10"]) == 1
    assert "diverged at t = 1 ms" in one_line_error(capsys.readouterr().err)
    monkeypatch.setenv("NEUROSIM_DEBUG", "1")
    with pytest.raises(getattr(simulator, exc)):
        main(["run", "--duration", "10"])
