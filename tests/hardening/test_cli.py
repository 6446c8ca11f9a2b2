"""The ``neurosim`` command line under junk arguments (issue 20, CLI part).

``main(argv)`` runs in-process. Every argv gives success (0), a usage error (2: argparse's
``SystemExit(2)`` or ``main`` returning 2) or a failure (1: a file that cannot be read or
written), each with one ``error: ...`` line on stderr -- never a traceback. A junk value of
one flag is a usage error that names the flag.

The simulation itself is replaced by a stub in the hypothesis test (:func:`_no_run`): an
argv that passes every check reaches it with a resolved configuration, which the test
checks against the limits; the real runs are covered by tests/test_cli*.py.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurosim_nb import cli
from neurosim_nb.cli import MAX_NEURONS, MAX_SEED, MAX_STEPS, main
from neurosim_nb.engine.simulator import check_sample_every, check_steps

#: value flags of ``run`` -> a plausible value (the junk is drawn below)
RUN_FLAGS = {
    "--network": "layered", "--layers": "2", "--neurons": "3", "--model": "LIF",
    "--preset": "excitatory", "--k": "2", "--p-rewire": "0.1", "--g": "4",
    "--sensory-rate": "20", "--duration": "2", "--dt": "0.1", "--seed": "1",
    "--input": "constant", "--amplitude": "1", "--target-fraction": "0.5",
    "--target-layer": "1", "--rate": "10", "--weight": "1", "--pulse-width": "1",
    "--onset": "0", "--input-duration": "1", "--record": "V", "--sample-every": "1",
    "--output": "out.nc", "--format": "netcdf", "--config": "run.json",
}
SWITCHES = ["--no-voltage", "--quiet"]
JUNK = ["", "abc", "1e999", "-5", "nan", "inf", "-inf", "0", "-0", "1e300", "1e-300",
        str(2**64), str(2**63), "1.5", " 1", "1,2", ",,", "\x00", "None", "true", "[]",
        "{}", "1" * 400, "--duration"]


class Reached(Exception):
    """The stub simulation was called: every check passed."""

    def __init__(self, cfg):
        super().__init__("reached run_simulation")
        self.cfg = cfg


def _no_run(cfg, verbose=None):
    raise Reached(cfg)


def _outcome(argv, capsys):
    """(exit code, stderr, config that reached the simulation or None)."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    except Reached as r:
        return 0, capsys.readouterr().err, r.cfg
    return code, capsys.readouterr().err, None


def _check_outcome(argv, code, err, cfg):
    assert "Traceback" not in err, (argv, err)
    assert code in (0, 1, 2), (argv, code, err)
    if code:
        lines = err.strip().splitlines()
        assert lines and lines[-1].startswith(("error:", "neurosim")) and "error" in err, (
            argv, err)
        if code != 2 or not lines[0].startswith("usage:"):
            assert len(lines) == 1, (argv, err)        # one line, not a report
    if cfg is not None:                                # what reaches a run is bounded
        # the engine's own checks accept what the command line let through (they raise
        # for less than one step or a sample_every that is not an integer >= 1) ...
        n_steps = check_steps(cfg.duration, cfg.dt)
        # ... within the command line's cap, and the run records at least one sample
        assert n_steps <= MAX_STEPS, argv
        assert check_sample_every(cfg.sample_every) <= n_steps, argv
        assert cfg.seed is None or 0 <= cfg.seed <= MAX_SEED, argv
        per = cfg.neurons_per_layer if cfg.network_type in ("layered", "oni") \
            else cfg.n_neurons
        assert per is None or per * (cfg.n_layers or 1) <= MAX_NEURONS, argv


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A working folder with a valid run.json and an apps folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.json").write_text('{"duration": 5, "dt": 0.1}')
    (tmp_path / "apps").mkdir()
    monkeypatch.setenv("NEUROSIM_DEBUG", "0")
    return tmp_path


@pytest.fixture
def sandbox(folder, monkeypatch):
    """:func:`folder` with the simulation stubbed out."""
    import neurosim_nb.export.run_config as run_config

    monkeypatch.setattr(run_config, "run_simulation", _no_run)
    return folder


flag_value = st.sampled_from(sorted(RUN_FLAGS)).flatmap(
    lambda f: st.tuples(st.just(f), st.one_of(st.just(RUN_FLAGS[f]), st.sampled_from(JUNK),
                                             st.text(max_size=6))))
run_argv = st.tuples(
    st.lists(flag_value, max_size=6),
    st.lists(st.sampled_from(SWITCHES), max_size=2, unique=True),
    st.lists(st.sampled_from(["--bogus", "extra", "-x"]), max_size=1),
).map(lambda t: ["run", *[x for fv in t[0] for x in fv], *t[1], *t[2]])
other_argv = st.one_of(
    st.tuples(st.sampled_from(["result.nc", "", "missing.npz", "run.json", "apps", "\x00"]),
              st.lists(st.sampled_from(["--format", "--output", "--input-format", "json",
                                        "csv", "npz", "x.json", "", "abc"]), max_size=4))
    .map(lambda t: ["export", t[0], *t[1]]),
    st.lists(st.sampled_from(["--port", "--ip", "--apps", "--no-browser", "8899", "-1",
                              "70000", "abc", "", "apps", "127.0.0.1", "\x00"]), max_size=4)
    .map(lambda a: ["ui", *a, "--dry-run"]),
    st.just(["info"]),
    st.lists(st.sampled_from(["", "run", "nope", "--version", "-h"]), max_size=2),
)


# the profile (root conftest.py), and the fixtures are shared by the examples on purpose:
# ``sandbox`` is a working folder each command line may write into, capsys is read per call
@settings(suppress_health_check=[*settings().suppress_health_check,
                                 HealthCheck.function_scoped_fixture])
@given(argv=st.one_of(run_argv, run_argv, other_argv))
def test_random_argv_is_a_result_or_a_one_line_error(sandbox, capsys, argv):
    if "-h" in argv or "--version" in argv:
        argv = [a for a in argv if a not in ("-h", "--version")]
    code, err, cfg = _outcome(argv, capsys)
    _check_outcome(argv, code, err, cfg)


#: (argv, flag the message must name); every case exits 2
NAMED = [
    (["run", "--dt", "-1"], "--dt"),
    (["run", "--dt", "nan"], "--dt"),
    (["run", "--dt", "abc"], "--dt"),                          # argparse's message
    (["run", "--duration", "1e999"], "--duration"),
    (["run", "--duration", "1e300"], "--duration"),
    (["run", "--duration", "1", "--dt", "1e-300"], "--dt"),
    (["run", "--neurons", "0"], "--neurons"),
    (["run", "--neurons", "1000000000"], "--neurons"),        # was a 15 GiB allocation
    (["run", "--network", "layered", "--layers", "1000000000"], "--layers"),  # MemoryError
    (["run", "--seed", str(2**64)], "--seed"),                 # cannot be saved to NetCDF
    (["run", "--seed", "-5"], "--seed"),
    (["run", "--sample-every", str(10**20)], "--sample-every"),  # a Numba typing error
    (["run", "--sample-every", "0"], "--sample-every"),
    (["run", "--onset", "1e300"], "--onset"),                  # an input that never starts
    (["run", "--model", ""], "--model"),
    (["run", "--preset", ""], "--preset"),                     # was the default preset
    (["run", "--preset", "abc"], "--preset"),
    (["run", "--record", ",,,"], "--record"),                  # was spikes only, silently
    (["run", "--record", "junk"], "--record"),
    (["run", "--output", ""], "--output"),
    (["run", "--output", "a\x00b.nc"], "--output"),            # was exit 1 'embedded null'
    (["run", "--config", ""], "--config"),
    (["run", "--network", "smallworld", "--k", "3"], "--k"),
    (["run", "--network", "recurrent", "--neurons", "1"], "--neurons"),
    (["run", "--network", "layered", "--target-layer", "99"], "--target-layer"),
    (["run", "--input", "pulse", "--rate", "1e300"], "--rate"),
    (["run", "--input", "poisson", "--amplitude", "1"], "--amplitude"),
    (["run", "--dt", "1000", "--duration", "1"], "--dt"),
    (["run", "--p-rewire", "2", "--network", "smallworld"], "--p-rewire"),
    (["run", "--target-fraction", "0"], "--target-fraction"),
    (["ui", "--port", "-5", "--dry-run"], "--port"),
    (["ui", "--port", "70000", "--dry-run"], "--port"),
    (["ui", "--ip", "", "--dry-run"], "--ip"),
    (["ui", "--apps", "", "--dry-run"], "--apps"),
    (["export", "x.nc", "--output", ""], "--output"),
    (["export", "x.nc", "--format", "yaml"], "--format"),
]


@pytest.mark.parametrize("argv, flag", NAMED, ids=[" ".join(a) for a, _ in NAMED])
def test_a_junk_value_is_a_usage_error_naming_its_flag(folder, capsys, argv, flag):
    # the real run_simulation: some checks are made while it builds the model (presets,
    # recordable variables, network sizes), all before the first step; --duration 1
    # keeps a wrongly accepted case short
    if argv[0] == "run" and "--duration" not in argv:
        argv = [*argv, "--duration", "1"]
    code, err, cfg = _outcome([*argv, "--quiet"] if argv[0] == "run" else argv, capsys)
    assert code == 2 and "Traceback" not in err, (code, err)
    assert flag in err, err


def test_limits_accept_the_largest_allowed_values(sandbox, capsys):
    """The bounds are not off by one: the largest allowed values reach the run."""
    for argv in (["run", "--seed", str(MAX_SEED), "--duration", "1"],
                 ["run", "--sample-every", "10", "--duration", "1", "--dt", "0.1"],
                 ["run", "--neurons", str(MAX_NEURONS), "--duration", "1"],
                 ["run", "--duration", str(MAX_STEPS * 0.1), "--dt", "0.1"],
                 ["run", "--onset", "0.9", "--duration", "1"]):
        code, err, cfg = _outcome(argv, capsys)
        assert cfg is not None, (argv, err)


def test_a_config_file_value_is_exit_1_naming_the_file_key(sandbox, capsys):
    (sandbox / "big.json").write_text(f'{{"seed": {2**64}, "duration": 5}}')
    code, err, _ = _outcome(["run", "--config", "big.json"], capsys)
    assert code == 1 and "big.json: seed" in err, err
    # the file is checked as a document when read (run_config: a seed beyond int64 cannot
    # be stored), so a flag does not rescue it: still the file's error
    code, err, _ = _outcome(["run", "--config", "big.json", "--seed", "3"], capsys)
    assert code == 1 and "big.json: seed" in err, err


def test_real_tiny_run_still_works(tmp_path, monkeypatch, capsys):
    """Not stubbed: a 2-neuron, 1 ms run goes through the new checks and simulates."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "--neurons", "2", "--duration", "1", "--seed", "3",
                     "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "simulated 1 ms at dt 0.1 ms" in out and "(seed 3)" in out
