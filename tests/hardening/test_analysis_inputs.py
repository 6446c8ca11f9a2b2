"""Bad arguments to the analysis functions: each refused on entry with a typed error that
names the argument (issue 20, analysis part).

One real result is made once per module: 20 LIF neurons driven by 0.2 .. 0.6 nA for
200 ms (spikes and V recorded); the table below says, per function and argument, which
value is refused, with which error type and which words in the message.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurosim_nb import LIFNeuron
from neurosim_nb import analysis as A
from neurosim_nb.analysis._input import MAX_BINNED_VALUES
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError, TooLargeError

N, DURATION = 20, 200.0
NAN, INF = float("nan"), float("inf")


@pytest.fixture(scope="module")
def ds():
    return LIFNeuron.create_excitatory(n=N).simulate(DURATION, np.linspace(0.2, 0.6, N),
                                                     seed=0)


BAD = InvalidArgumentError
TYPE = ArgumentTypeError
BIG = TooLargeError

#: (function, kwargs, error, words the message must hold)
CASES = [
    # bin widths: positive, finite numbers (no strings, no bools), not longer than the run
    (A.firing_rate, {"bin_ms": 0}, BAD, ["bin_ms", "> 0", "0"]),
    (A.firing_rate, {"bin_ms": -5.0}, BAD, ["bin_ms", "-5.0"]),
    (A.firing_rate, {"bin_ms": NAN}, BAD, ["bin_ms", "nan"]),
    (A.firing_rate, {"bin_ms": INF}, BAD, ["bin_ms", "inf"]),
    (A.firing_rate, {"bin_ms": "5"}, TYPE, ["bin_ms", "'5'"]),
    (A.firing_rate, {"bin_ms": True}, TYPE, ["bin_ms", "True"]),
    (A.firing_rate, {"bin_ms": None}, TYPE, ["bin_ms", "None"]),
    (A.firing_rate, {"bin_ms": 1e6}, BAD, ["bin_ms", "longer than the recording"]),
    (A.firing_rate, {"bin_ms": 1e-12}, BIG, ["bin_ms", "GiB", "larger bin_ms"]),
    (A.spike_raster, {"bin_ms": 1e-300}, BIG, ["bin_ms", "bins x 20 rows"]),
    (A.population_rate, {"bin_ms": "10"}, TYPE, ["bin_ms"]),
    (A.instantaneous_rate, {"sigma_ms": -1.0}, BAD, ["sigma_ms"]),
    (A.instantaneous_rate, {"sampling_ms": 1e-300}, BIG, ["sampling_ms"]),
    (A.instantaneous_rate, {"kernel": "square"}, BAD, ["kernel", "'square'", "gaussian"]),
    (A.fano_factor, {"bin_ms": 150.0}, BAD, ["bin_ms", "single window"]),
    (A.lvr, {"R_ms": "5"}, TYPE, ["R_ms", "'5'"]),
    (A.lvr, {"R_ms": True}, TYPE, ["R_ms", "True"]),
    (A.lvr, {"R_ms": -1.0}, BAD, ["R_ms", ">= 0"]),
    (A.detect_bursts, {"max_begin_isi_ms": "170"}, TYPE, ["max_begin_isi_ms"]),
    (A.detect_bursts, {"min_spikes": 2.5}, TYPE, ["min_spikes", "2.5"]),
    (A.detect_bursts, {"min_spikes": 0}, BAD, ["min_spikes", ">= 1"]),
    (A.spike_phases, {"dt_ms": 0.0}, BAD, ["dt_ms"]),
    (A.spike_phases, {"dt_ms": 1e-12}, BIG, ["dt_ms", "GiB"]),
    (A.kuramoto_order, {"dt_ms": 1e-300}, BIG, ["dt_ms"]),
    (A.sttc_matrix, {"dt_ms": -1.0}, BAD, ["dt_ms"]),
    (A.power_spectrum, {"bin_ms": 1e-300}, BIG, ["bin_ms"]),
    (A.power_spectrum, {"bin_ms": "1"}, TYPE, ["bin_ms"]),
    (A.detect_oscillations, {"n_surrogates": 0}, BAD, ["n_surrogates", ">= 1"]),
    (A.detect_oscillations, {"n_surrogates": "9"}, TYPE, ["n_surrogates", "'9'"]),
    (A.detect_oscillations, {"alpha": 2.0}, BAD, ["alpha", "(0, 1)"]),
    (A.detect_oscillations, {"alpha": "0.05"}, TYPE, ["alpha"]),
    (A.detect_oscillations, {"f_min": 50.0, "f_max": 10.0}, BAD, ["f_min", "f_max"]),
    (A.detect_oscillations, {"f_max": None}, TYPE, ["f_max", "None"]),
    (A.detect_oscillations, {"seed": "a"}, TYPE, ["seed", "'a'"]),
    (A.detect_oscillations, {"seed": -1}, BAD, ["seed", "-1"]),
    (A.spike_train_entropy, {"word_length": 0}, BAD, ["word_length"]),
    (A.spike_train_entropy, {"word_length": 2.5}, TYPE, ["word_length"]),
    (A.spike_train_entropy, {"bin_ms": 100.0}, BAD, ["words", "longer than half"]),
    (A.spike_train_entropy, {"bin_ms": 1e-300}, BIG, ["bin_ms * word_length"]),
    (A.avalanches, {"bin_ms": 1e-300}, BIG, ["bin_ms"]),
    (A.avalanches, {"bin_ms": 100.0}, BAD, ["fewer than 3 bins"]),
    (A.branching_ratio, {"bin_ms": NAN}, BAD, ["bin_ms", "nan"]),
    (A.attractor_states, {"bin_ms": 1e-300}, BIG, ["bin_ms"]),
    # time windows: finite numbers inside the run, t_stop after t_start
    (A.firing_rate, {"t_stop": 1000.0}, BAD, ["t_stop", "after the end of the recording"]),
    (A.firing_rate, {"t_start": -1.0}, BAD, ["t_start", "before the recording"]),
    (A.firing_rate, {"t_start": 100.0, "t_stop": 50.0}, BAD, ["t_stop", "after t_start"]),
    (A.firing_rate, {"t_stop": NAN}, BAD, ["t_stop", "nan"]),
    (A.firing_rate, {"t_start": "10"}, TYPE, ["t_start", "'10'"]),
    (A.cv, {"t_stop": True}, TYPE, ["t_stop", "True"]),
    (A.atp_consumption, {"atp_per_spike": "3.84e8"}, TYPE, ["atp_per_spike"]),
    (A.atp_consumption, {"release_probability": 2.0}, BAD, ["release_probability"]),
    # neuron indices: integers in range
    (A.sttc_matrix, {"neurons": [0, N]}, BAD, ["neurons", f"{N}", f"0..{N - 1}"]),
    (A.avalanches, {"neurons": [-1]}, BAD, ["neurons", "-1"]),
    (A.avalanches, {"neurons": [0.5]}, TYPE, ["neurons", "0.5"]),
    (A.avalanches, {"neurons": ["a"]}, TYPE, ["neurons"]),
    # options
    (A.branching_ratio, {"method": "x"}, BAD, ["method"]),
    (A.lfp_proxy, {"alpha": "1.65"}, TYPE, ["alpha"]),
    (A.lfp_proxy, {"delay_ms": -1.0}, BAD, ["delay_ms"]),
]


@pytest.mark.parametrize("func, kwargs, error, words", CASES,
                         ids=[f"{c[0].__name__}-{'-'.join(f'{k}={v!r}' for k, v in c[1].items())}"
                              for c in CASES])
def test_bad_argument_is_refused_with_a_named_error(ds, func, kwargs, error, words):
    with pytest.raises(error) as exc:
        func(ds, **kwargs)
    msg = str(exc.value)
    missing = [w for w in words if w not in msg]
    assert not missing, f"{func.__name__}: {msg!r} lacks {missing}"


@pytest.mark.parametrize("func, var, how", [
    (A.firing_rate, "spike_time", "a neurosim_nb result"),
    (A.cv, "spike_neuron", "a neurosim_nb result"),
    (A.lfp_proxy, "V", "record=('V',)"),
    (A.hh_sodium_atp, "V", "record=('V', 'm', 'h')"),
])
def test_dataset_without_the_needed_variable_names_it_and_how_to_record(ds, func, var, how):
    with pytest.raises(InvalidArgumentError) as exc:
        func(ds.drop_vars(var))
    assert repr(var) in str(exc.value) or var in str(exc.value)
    assert how in str(exc.value)


def test_hh_measure_on_a_lif_result_names_the_missing_gates(ds):
    with pytest.raises(InvalidArgumentError, match=r"lacks \['m', 'h'\].*record=\('V', 'm', 'h'\)"):
        A.hh_sodium_atp(ds)


def test_the_bin_refusal_is_before_allocation(ds):
    # the largest allowed array is MAX_BINNED_VALUES values; one bin fewer than a refused
    # count would need exactly the limit: a refused request asks for more than that
    width = DURATION / (MAX_BINNED_VALUES // N + 1)
    with pytest.raises(TooLargeError):
        A.spike_raster(ds, width)


# -- empty spike sets: a defined result or a clear error ----------------------------------
def test_empty_spike_sets_give_defined_results(ds):
    silent = [np.array([]), np.array([])]
    fr = A.firing_rate(silent, 50.0, t_stop=200.0)
    np.testing.assert_array_equal(fr.values, np.zeros((4, 2)))        # no spikes: 0 Hz
    c = A.cv(silent)
    assert np.isnan(c.values).all() and c.attrs["n_undefined"] == 2    # documented NaN
    assert A.isi(silent).size == 0
    assert A.detect_bursts(silent).sizes["burst"] == 0
    with pytest.raises(InvalidArgumentError, match="at least one neuron"):
        A.population_rate([], 10.0, t_stop=100.0)                     # was NaN (0 / 0)
    with pytest.raises(InvalidArgumentError, match="undefined"):
        A.sttc([], [1.0, 2.0], 5.0, t_stop=10.0)
    with pytest.raises(InvalidArgumentError, match="no spikes"):
        A.detect_oscillations(silent, kind="spikes", t_stop=1000.0, n_surrogates=5)


@pytest.mark.parametrize("train, error, words", [
    ([1.0, NAN], BAD, ["not finite"]),
    ([1.0, INF], BAD, ["not finite"]),
    (["1.0", "2.0"], TYPE, ["must hold numbers"]),
    ([True, False], TYPE, ["must hold numbers"]),
    ([[1.0], ["a"]], TYPE, ["spike train 1"]),
])
def test_spike_trains_of_non_numbers_are_refused(train, error, words):
    with pytest.raises(error) as exc:
        A.firing_rate(train, 1.0, t_stop=10.0)
    assert all(w in str(exc.value) for w in words), str(exc.value)


def test_valid_inputs_unchanged(ds):
    # the independent reference: spike counts from the raw arrays, 200 ms in one bin
    counts = np.bincount(ds.spike_neuron.values, minlength=N)
    np.testing.assert_allclose(A.firing_rate(ds, 200.0).values[0], counts / 0.2)
    # a numpy scalar and an integral float are numbers
    np.testing.assert_allclose(A.firing_rate(ds, np.float32(200.0)).values[0], counts / 0.2)
    assert A.detect_bursts(ds, min_spikes=3.0).attrs is not None


#: functions of plain arrays: (call, error, words)
ARRAY_CASES = [
    (lambda: A.spike_dataset([1.0], [0], "a", 10.0), TYPE, ["n_neurons", "'a'"]),
    (lambda: A.spike_dataset([1.0], [0], NAN, 10.0), TYPE, ["n_neurons", "nan"]),
    (lambda: A.spike_dataset([1.0], [0], 0, 10.0), BAD, ["n_neurons", "in 1.."]),
    (lambda: A.spike_dataset([1.0], [0], 1, 1e300), BIG, ["dt", "GiB"]),
    (lambda: A.spike_dataset(["1.0"], [0], 1, 10.0), TYPE, ["spike_times_ms"]),
    (lambda: A.power_spectrum(["a", "b"], dt_ms=1.0), TYPE, ["signal", "numbers"]),
    (lambda: A.phase_locking_value(["a"]), TYPE, ["phases_a", "numbers"]),
    (lambda: A.bimodality_coefficient([["a"]]), TYPE, ["samples", "numbers"]),
    (lambda: A.plasticity_stability(np.ones((5, 3)), weight_time_ms="abcde"), TYPE,
     ["weight_time_ms"]),
    (lambda: A.transfer_function(LIFNeuron, ["0.1"]), TYPE, ["currents", "numbers"]),
    (lambda: A.power_law_fit(["1", "2"]), TYPE, ["sizes", "numbers"]),
    (lambda: A.power_law_fit([1.0, 1e300]), BAD, ["sizes", "rescale"]),
]


@pytest.mark.parametrize("call, error, words", ARRAY_CASES,
                         ids=[str(k) for k in range(len(ARRAY_CASES))])
def test_arrays_of_non_numbers_and_huge_sizes_are_refused(call, error, words):
    with pytest.raises(error) as exc:
        call()
    assert all(w in str(exc.value) for w in words), str(exc.value)


@pytest.mark.parametrize("kernel", ["gaussian", "exponential", "boxcar"])
def test_instantaneous_rate_refuses_a_kernel_wider_than_a_double(kernel):
    # found by the suite's fuzz test: sigma_ms = 1.04e308 overflowed the boxcar's width
    # (2 sqrt(3) sigma) with a RuntimeWarning; the largest sigma allowed still works
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InvalidArgumentError, match="sigma_ms must be at most"):
            A.instantaneous_rate([np.array([5.0])], sigma_ms=1.0378986153331004e308,
                                 sampling_ms=1.0, t_stop=10.0, kernel=kernel)
        r = A.instantaneous_rate([np.array([5.0])], sigma_ms=1e300, sampling_ms=1.0,
                                 t_stop=10.0, kernel=kernel)
    assert np.all(np.isfinite(r.values)) and r.values.max() < 1e-290
