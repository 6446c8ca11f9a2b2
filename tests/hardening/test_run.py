"""Issue 20, running: every bad argument of ``simulate``, ``Network`` and its methods, the
network specs and the run configurations is a typed error that names the argument, and
every size that comes from them is refused before it is allocated.

Each test is an example of the issue (or of its "what to build" list for this part) and
failed before the validation layer: a raw conversion error, a NumPy broadcast message, an
accepted nonsense value or an attempted multi-gigabyte allocation.
"""

import json
import tracemalloc

import numpy as np
import pytest

from neurosim_nb import LIFNeuron, Network
from neurosim_nb.core.networks.spec import SpecError, build_network
from neurosim_nb.engine.simulator import MAX_SEED, RecordingMemoryError, simulate
from neurosim_nb.errors import (
    ArgumentTypeError,
    InvalidArgumentError,
    NeurosimError,
    TooLargeError,
)
from neurosim_nb.export.run_config import ConfigError, load_run_config, run_config_from_dict
from neurosim_nb.stimuli import StepCurrent

#: a memory limit for the size tests, so that they refuse the same sizes on every machine
#: (read by neurosim_nb._validation.check_allocation on every call)
LIMIT = "2G"


@pytest.fixture
def pop():
    return LIFNeuron(n=2)


@pytest.fixture
def limit(monkeypatch):
    monkeypatch.setenv("NEUROSIM_NB_MEMORY_LIMIT", LIMIT)


def peak_bytes(func):
    """``func()``'s exception and the peak of memory traced while it ran (NumPy reports
    its array allocations to tracemalloc): a refusal must come before the allocation."""
    tracemalloc.start()
    try:
        func()
    except NeurosimError as err:
        caught = err
    else:
        caught = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return caught, peak


# -- simulate(): one population ----------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error, names", [
    ({"sample_every": "a"}, ArgumentTypeError, "simulate(sample_every=...)"),
    ({"sample_every": 0}, InvalidArgumentError, "simulate(sample_every=...)"),
    ({"sample_every": 1.5}, ArgumentTypeError, "simulate(sample_every=...)"),
    ({"seed": "a"}, ArgumentTypeError, "simulate(seed=...)"),
    ({"seed": -1}, InvalidArgumentError, "simulate(seed=...)"),
    ({"seed": 2**64}, InvalidArgumentError, "simulate(seed=...)"),
    ({"stimuli": [1.0]}, ArgumentTypeError, "simulate(stimuli=...)"),
    ({"stimuli": "StepCurrent"}, ArgumentTypeError, "simulate(stimuli=...)"),
    ({"dt": "0.1"}, ArgumentTypeError, "simulate(dt=...)"),
    ({"dt": True}, ArgumentTypeError, "simulate(dt=...)"),
    ({"dt": float("nan")}, InvalidArgumentError, "simulate(dt=...)"),
    ({"duration": float("nan")}, InvalidArgumentError, "simulate(duration=...)"),
    ({"duration": float("inf")}, InvalidArgumentError, "simulate(duration=...)"),
    ({"duration": 0.0}, InvalidArgumentError, "simulate(duration=...)"),
    ({"duration": -1.0}, InvalidArgumentError, "simulate(duration=...)"),
    ({"duration": "1"}, ArgumentTypeError, "simulate(duration=...)"),
    ({"duration": 1e300, "dt": 1e-10}, InvalidArgumentError, "simulate(duration=...)"),
    ({"record": ["Vm"]}, InvalidArgumentError, "simulate(record=...)"),
    ({"record": 3}, ArgumentTypeError, "simulate(record=...)"),
    ({"record": ["V", 3]}, ArgumentTypeError, "simulate(record=...)"),
    ({"record_neurons": [True]}, InvalidArgumentError, "simulate(record_neurons=...)"),
    ({"record_neurons": [True, False, True]}, InvalidArgumentError,
     "simulate(record_neurons=...)"),
    ({"record_neurons": [5]}, InvalidArgumentError, "simulate(record_neurons=...)"),
    ({"record_neurons": [-1]}, InvalidArgumentError, "simulate(record_neurons=...)"),
    ({"record_neurons": [0.5]}, ArgumentTypeError, "simulate(record_neurons=...)"),
    ({"record_neurons": "0"}, ArgumentTypeError, "simulate(record_neurons=...)"),
    ({"record_neurons": [[0, 1]]}, InvalidArgumentError, "simulate(record_neurons=...)"),
    ({"verbose": "yes"}, ArgumentTypeError, "simulate(verbose=...)"),
    ({"max_record_bytes": "1G"}, ArgumentTypeError, "simulate(max_record_bytes=...)"),
    ({"method": "rk4"}, InvalidArgumentError, "simulate(method=...)"),
    ({"method": None}, ArgumentTypeError, "simulate(method=...)"),
    ({"progress": 3}, ArgumentTypeError, "simulate(progress=...)"),
    ({"input_current": "1.0"}, ArgumentTypeError, "simulate(input_current=...)"),
    ({"input_current": [1.0, 2.0, 3.0]}, InvalidArgumentError, "simulate(input_current=...)"),
])
def test_bad_simulate_arguments_are_typed_errors_naming_them(pop, kwargs, error, names):
    args = {"duration": 1.0, **kwargs}
    with pytest.raises(error) as info:
        simulate(pop, **args)
    assert names in str(info.value)
    assert pop.t_ms == 0.0  # refused on entry: nothing ran


def test_the_previous_spellings_still_run(pop):
    """Valid inputs keep working: integral floats and NumPy scalars for counts, a mask of
    the right length, a single Stimulus for ``stimuli``."""
    ds = simulate(pop, np.float64(1.0), dt=np.float32(0.1), sample_every=2.0, seed=np.int64(3),
                  record_neurons=np.array([False, True]), stimuli=StepCurrent(1.0), verbose=False)
    assert ds.sizes["time"] == 5 and ds.neuron.values.tolist() == [1] and ds.attrs["seed"] == 3


def test_largest_seed_is_saved_and_read_back(pop, tmp_path):
    """Seeds stop at 2**63 - 1 (NetCDF's signed 64-bit integer); the largest one goes
    through a NetCDF file unchanged, the next one is refused before the run (on main it ran
    and then could not be saved: 'illegal data type for attribute')."""
    from neurosim_nb.export.netcdf import load_simulation, save_simulation

    assert MAX_SEED == 2**63 - 1
    ds = simulate(pop, 1.0, seed=MAX_SEED, verbose=False)
    save_simulation(ds, tmp_path / "run.nc")
    back = load_simulation(tmp_path / "run.nc")
    assert int(back.attrs["seed"]) == MAX_SEED
    with pytest.raises(InvalidArgumentError, match="2\\*\\*63 - 1"):
        simulate(pop, 1.0, seed=MAX_SEED + 1)
    with pytest.raises(InvalidArgumentError, match="Network\\(seed=...\\)"):
        Network(seed=2**64)


# -- Network.simulate --------------------------------------------------------------------------
@pytest.fixture
def net():
    n = Network("t", seed=1)
    n.add_population("exc", LIFNeuron(n=3))
    n.add_population("inh", LIFNeuron(n=2))
    return n


@pytest.mark.parametrize("kwargs, error, names", [
    ({"precision": "float16"}, InvalidArgumentError, "Network.simulate(precision=...)"),
    ({"precision": ["float32"]}, ArgumentTypeError, "Network.simulate(precision=...)"),
    ({"dt": "0.1"}, ArgumentTypeError, "Network.simulate(dt=...)"),
    ({"seed": 2**64}, InvalidArgumentError, "Network.simulate(seed=...)"),
    ({"sample_every": "a"}, ArgumentTypeError, "Network.simulate(sample_every=...)"),
    ({"record": ["Vm"]}, InvalidArgumentError, "Network.simulate(record=...)"),
    ({"record_neurons": [9]}, InvalidArgumentError, "Network.simulate(record_neurons=...)"),
    ({"record_neurons": [True] * 4}, InvalidArgumentError,
     "Network.simulate(record_neurons=...)"),
    ({"record_neurons": {"exc": [True]}}, InvalidArgumentError,
     "Network.simulate(record_neurons=...)"),
    ({"stimuli": [StepCurrent(1.0)]}, ArgumentTypeError, "Network.simulate(stimuli=...)"),
    ({"weight_sample_ms": "10"}, ArgumentTypeError, "Network.simulate(weight_sample_ms=...)"),
])
def test_bad_network_run_arguments(net, kwargs, error, names):
    with pytest.raises(error) as info:
        net.simulate(1.0, verbose=False, **kwargs)
    assert names in str(info.value)
    assert net.populations["exc"].t_ms == 0.0


def test_unknown_stimulus_population_suggests_the_closest(net):
    with pytest.raises(InvalidArgumentError, match="Did you mean 'exc'"):
        net.simulate(1.0, stimuli={"exx": [StepCurrent(1.0)]}, verbose=False)


# -- Network building --------------------------------------------------------------------------
def test_population_added_under_two_names_is_refused():
    """On main the same object was added twice and simulated twice per step."""
    n, p = Network(seed=0), LIFNeuron(n=2)
    n.add_population("a", p)
    with pytest.raises(InvalidArgumentError, match="already in the network as 'a'"):
        n.add_population("b", p)
    assert list(n.populations) == ["a"]


@pytest.mark.parametrize("name, error", [
    (None, ArgumentTypeError), (3, ArgumentTypeError), (b"a", ArgumentTypeError),
    ("", InvalidArgumentError), ("   ", InvalidArgumentError),
    ("x\x00y", InvalidArgumentError),   # NetCDF cuts a string at NUL: read back as 'x'
    ("a\nb", InvalidArgumentError), (" a", InvalidArgumentError),
    ("a" * 201, InvalidArgumentError),
])
def test_bad_population_names(name, error):
    with pytest.raises(error, match=r"Network.add_population\(name=...\)"):
        Network(seed=0).add_population(name, LIFNeuron(n=1))


def test_duplicate_name_is_a_typed_error(net):
    with pytest.raises(InvalidArgumentError, match="'exc' already exists"):
        net.add_population("exc", LIFNeuron(n=1))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"p": "0.5"}, ArgumentTypeError, r"p = '0.5' is not a number"),
    ({"p": 1.5}, InvalidArgumentError, r"p = 1.5 is outside"),
    ({"p": -0.1}, InvalidArgumentError, r"p = -0.1 is outside"),
    ({"p": float("nan")}, InvalidArgumentError, r"p = nan is outside"),
    ({"p": True}, ArgumentTypeError, r"p = True is not a number"),
    ({"p": 0.5, "weight": "1"}, InvalidArgumentError, r"weights = '1'"),
    ({"p": 0.5, "weight": [True, False]}, InvalidArgumentError, r"weights"),
    ({"p": 0.5, "delay_ms": True}, ArgumentTypeError, r"delay_ms"),
    ({"p": 0.5, "autapses": "no"}, ArgumentTypeError, r"autapses"),
    ({"p": 0.5, "name": ""}, InvalidArgumentError, r"projection name"),
    ({"rule": "all_to_all", "weight": [1.0, 2.0]}, InvalidArgumentError,
     r"weights array has shape \(2,\); expected \(6,\)"),
    ({"rule": "fixed_indegree", "k": "2"}, ArgumentTypeError, r"k = '2'"),
])
def test_bad_connect_arguments(net, kwargs, error, match):
    kwargs = {"rule": "fixed_probability", **kwargs}
    with pytest.raises(error, match=match):
        net.connect("exc", "inh", **kwargs)
    assert net.projections == []


def test_unknown_population_suggests_the_closest(net):
    with pytest.raises(InvalidArgumentError, match="unknown population 'exx'.*Did you mean 'exc'"):
        net.connect("exx", "inh", p=0.5)
    with pytest.raises(ArgumentTypeError, match="population"):
        net.connect(None, "inh", p=0.5)


@pytest.mark.parametrize("weight, delay, match", [
    ([1.0, 2.0, 3.0], 1.0, r"add_projection\(weight=...\) .* one value per synapse \(2\), got "
                           r"shape \(3,\)"),
    (1.0, [1.0, 2.0, 3.0], r"add_projection\(delay_ms=...\) .* one value per synapse \(2\)"),
    ("1", 1.0, r"add_projection\(weight=...\) must be a number"),
])
def test_explicit_synapses_of_the_wrong_length_name_the_argument(net, weight, delay, match):
    """On main: 'operands could not be broadcast together with remapped shapes'."""
    with pytest.raises(NeurosimError, match=match):
        net.add_projection("exc", "inh", [0, 1], [1, 0], weight, delay, "AMPA")


# -- sizes -------------------------------------------------------------------------------------
def test_long_delay_ring_buffer_is_refused_before_allocating(monkeypatch):
    """The issue's 10^5 ms delay onto 800 neurons: a ring buffer of 2 x 10^6 slots of
    0.1 ms (12 GiB, 24 GiB with the run's copy) for a 10 ms run. At connect time the lower
    bound at dt = 1 ms (2.4 GiB) is under a 4 GiB limit; the run at dt = 0.1 ms is refused
    with the size before anything is allocated."""
    monkeypatch.setenv("NEUROSIM_NB_MEMORY_LIMIT", "4G")
    n = Network(seed=0)
    n.add_population("a", LIFNeuron(n=800))
    n.connect("a", "a", "fixed_probability", p=0.01, weight=0.1, delay_ms=1e5)
    err, peak = peak_bytes(lambda: n.simulate(10.0, dt=0.1, verbose=False))
    assert isinstance(err, TooLargeError), err
    assert "ring buffers" in str(err) and "GiB" in str(err) and "shorter delays" in str(err)
    assert peak < 50 * 2**20  # the synapses and the check, not the buffer
    assert n.populations["a"].t_ms == 0.0


def test_spec_with_absurd_delay_is_refused_at_build(limit):
    """``delay_ms=84136569`` (23 h) passed build_network on main; the run then tried to
    allocate the buffer. Now the spec is refused at build, with the estimate."""
    spec = {"populations": {"E": {"model": "LIF", "n": 20}},
            "projections": [{"pre": "E", "post": "E", "rule": "all_to_all", "weight": 0.1,
                             "delay_ms": 84136569}]}
    err, peak = peak_bytes(lambda: build_network(spec))
    assert isinstance(err, TooLargeError) and isinstance(err, SpecError), err
    assert str(err).startswith("projections[0]: a delay of 8.41366e+07 ms")
    assert peak < 50 * 2**20


def test_huge_synapse_count_is_refused_before_drawing(limit):
    from neurosim_nb.core.synapses.connectivity import connect_csr

    err, peak = peak_bytes(lambda: connect_csr("all_to_all", 10**6, 10**6,
                                               np.random.default_rng(0)))
    assert isinstance(err, TooLargeError) and "10^12" not in str(err) and "1e+12" in str(err)
    assert peak < 10 * 2**20


def test_recording_too_large_is_a_too_large_error():
    """RecordingMemoryError belongs to TooLargeError's family (and stays a MemoryError)."""
    assert issubclass(RecordingMemoryError, TooLargeError)
    assert issubclass(RecordingMemoryError, MemoryError)
    p = LIFNeuron(n=1000)
    with pytest.raises(TooLargeError, match="record fewer neurons"):
        p.simulate(1000.0, 1.0, max_record_bytes=10_000_000)
    assert p.t_ms == 0.0


# -- configurations ----------------------------------------------------------------------------
def test_5000_digit_integer_in_a_run_config_is_a_clean_error(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"network_type": "population", "n_neurons": ' + "9" * 5000 + "}")
    with pytest.raises(ConfigError) as info:
        load_run_config(path)
    assert "4300 digits" in str(info.value) and "set_int_max_str_digits" not in str(info.value)


@pytest.mark.parametrize("key, power", [("n_neurons", 4000), ("duration", 5000),
                                        ("seed", 30), ("n_neurons", 19)])
def test_integers_beyond_int64_in_a_run_config(key, power):
    """On main: OverflowError ('int too large to convert to float') or ValueError('Maximum
    allowed dimension exceeded') from NumPy while building."""
    data = {"network_type": "population", key: 10**power}
    with pytest.raises(ConfigError, match=f"{key} must be an? (integer|number) below 2\\*\\*63"):
        run_config_from_dict(data)


def test_run_config_sizes_are_checked_before_building(limit):
    from neurosim_nb.export.run_config import RunConfig, build_model

    cfg = RunConfig(network_type="recurrent", n_neurons=10**6, seed=0).resolved()
    err, peak = peak_bytes(lambda: build_model(cfg))
    assert isinstance(err, TooLargeError) and "fewer neurons" in str(err)
    assert peak < 10 * 2**20
    cfg = RunConfig(network_type="population", n_neurons=1000, duration=1e7,
                    seed=0).resolved()
    with pytest.raises(TooLargeError, match="sample less often"):
        build_model(cfg)


def test_deeply_nested_configs_are_clean_errors(tmp_path):
    from neurosim_nb.export.config import load_model_json

    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_run_config(path)
    with pytest.raises(NeurosimError, match="nested too deeply"):
        load_model_json(path)
    deep: list = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(ConfigError, match="nested deeper"):
        run_config_from_dict({"inputs": {"type": deep}})
    with pytest.raises(SpecError, match="nested deeper"):
        build_network({"populations": {"E": {"model": "LIF", "n": 1, "params": {"x": deep}}}})


def test_spec_population_names_and_seeds():
    base = {"model": "LIF", "n": 1}
    with pytest.raises(SpecError, match="non-empty name"):
        build_network({"populations": {"": base}})
    with pytest.raises(SpecError, match="control"):
        build_network({"populations": {"a\x00b": base}})
    with pytest.raises(SpecError, match="seed"):
        build_network({"seed": 2**64, "populations": {"E": base}})
    assert json.loads(json.dumps({"seed": MAX_SEED}))["seed"] == MAX_SEED
    assert build_network({"seed": MAX_SEED, "populations": {"E": base}}).seed == MAX_SEED
