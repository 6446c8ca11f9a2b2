"""Hypothesis on the analysis functions: any spike trains (empty, one spike, duplicates,
unsorted, negative, NaN, strings) and any parameter values give a result or a
:class:`~neurosim_nb.errors.NeurosimError` -- never a raw numpy/xarray error, a warning,
an attempt to allocate gigabytes, or a NaN the function does not document.

``NEUROSIM_NB_FUZZ_EXAMPLES`` sets the examples per test (default 300); a long run:
``NEUROSIM_NB_FUZZ_EXAMPLES=5000 pytest tests/hardening/test_analysis_fuzz.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import example, given, settings
from hypothesis import strategies as st

from neurosim_nb import LIFNeuron
from neurosim_nb import analysis as A
from neurosim_nb.errors import NeurosimError

#: the suite's hypothesis profile (root conftest.py: NEUROSIM_NB_FUZZ_EXAMPLES examples)
FUZZ = settings()
N, DURATION = 20, 200.0

#: functions whose documentation says where they return NaN (and which variables)
DOCUMENTED_NAN = {"cv", "cv2", "lv", "lvr", "fano_factor", "spike_phases", "kuramoto_order",
                  "sttc_matrix", "spike_train_entropy", "attractor_states", "band_power",
                  "criticality_summary", "detect_bursts"}

times = st.one_of(
    st.floats(min_value=-5.0, max_value=50.0),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 10.0, 1e-300, 1e300]),
)
train = st.one_of(
    st.lists(times, max_size=12),
    st.lists(st.floats(0.0, 10.0), min_size=1, max_size=1),                  # one spike
    st.floats(0.5, 9.5).map(lambda t: [t, t, t]),                               # duplicates
    st.lists(st.floats(0.01, 10.0), min_size=2, max_size=30).map(             # unsorted
        lambda ts: ts[::-1]),
    st.lists(st.integers(-3, 12), max_size=8),
    st.sampled_from([["1.0", "2"], [True, False], [None], [[1.0, 2.0]]]),
)
spikes = st.one_of(
    st.lists(train, max_size=5),
    train.map(np.asarray),
    train,
)
number = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=1e-3, max_value=50.0),
    st.integers(-5, 100),
    st.sampled_from([0, 1e-300, 1e300, True, "5", None, np.float32(2.0), np.int64(4)]),
)
window = st.one_of(st.none(), number)


def _nan_in(result) -> list[str]:
    arrays = [result] if isinstance(result, xr.DataArray) else list(result.data_vars.values())
    return [str(a.name) for a in arrays if a.dtype.kind == "f" and np.isnan(a.values).any()]


def check(func, *args, **kwargs):
    """``func(*args, **kwargs)``: a result or a NeurosimError; anything else fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")         # a RuntimeWarning is a silent problem
        try:
            result = func(*args, **kwargs)
        except NeurosimError:
            return None
        except Exception as err:  # noqa: BLE001 - the point of the test
            raise AssertionError(f"{func.__name__}(*{args!r:.300}, **{kwargs!r:.300}) raised "
                                 f"{type(err).__name__}: {err}") from err
    nan = _nan_in(result)
    assert not nan or func.__name__ in DOCUMENTED_NAN, (
        f"{func.__name__}(*{args!r:.300}, **{kwargs!r:.300}) returned undocumented NaN in {nan}")
    return result


#: function -> strategy of its keyword arguments (data first)
SPIKE_FUNCTIONS = {
    A.spike_raster: st.fixed_dictionaries({"bin_ms": number, "t_stop": window}),
    A.firing_rate: st.fixed_dictionaries({"bin_ms": number, "t_stop": window,
                                          "t_start": window}),
    A.population_rate: st.fixed_dictionaries({"bin_ms": number, "t_stop": window}),
    A.instantaneous_rate: st.fixed_dictionaries({
        "sigma_ms": number, "sampling_ms": number, "t_stop": window,
        "kernel": st.sampled_from(["gaussian", "exponential", "boxcar", "x"])}),
    A.isi: st.fixed_dictionaries({"t_stop": window}),
    A.cv: st.fixed_dictionaries({"t_stop": window}),
    A.cv2: st.fixed_dictionaries({"t_start": window}),
    A.lv: st.fixed_dictionaries({}),
    A.lvr: st.fixed_dictionaries({"R_ms": number}),
    A.fano_factor: st.fixed_dictionaries({"bin_ms": window, "t_stop": window}),
    A.detect_bursts: st.fixed_dictionaries({
        "max_begin_isi_ms": number, "max_end_isi_ms": number, "min_ibi_ms": number,
        "min_burst_duration_ms": number, "min_spikes": number}),
    A.spike_phases: st.fixed_dictionaries({"dt_ms": number, "t_stop": window}),
    A.kuramoto_order: st.fixed_dictionaries({"kind": st.just("spikes"), "dt_ms": number,
                                             "t_stop": window, "min_neurons": number}),
    A.sttc_matrix: st.fixed_dictionaries({"dt_ms": number, "t_stop": window}),
    A.power_spectrum: st.fixed_dictionaries({"kind": st.just("spikes"), "bin_ms": number,
                                             "t_stop": window, "segment_ms": window}),
    A.band_power: st.fixed_dictionaries({"kind": st.just("spikes"), "bin_ms": number,
                                         "t_stop": window}),
    A.detect_oscillations: st.fixed_dictionaries({
        "kind": st.just("spikes"), "bin_ms": number, "t_stop": window, "f_min": number,
        "f_max": number, "alpha": number, "n_surrogates": st.one_of(number, st.just(5)),
        "seed": st.one_of(st.none(), number)}),
    A.spike_train_entropy: st.fixed_dictionaries({"bin_ms": number, "word_length": number,
                                                  "t_stop": window}),
    A.avalanches: st.fixed_dictionaries({"bin_ms": window, "t_stop": window}),
    A.branching_ratio: st.fixed_dictionaries({
        "bin_ms": window, "t_stop": window, "k_max": number,
        "method": st.sampled_from(["avalanche", "mr", "x"])}),
    A.criticality_summary: st.fixed_dictionaries({"bin_ms": window, "t_stop": window}),
    A.attractor_states: st.fixed_dictionaries({"bin_ms": number, "t_stop": window}),
}


@pytest.mark.parametrize("func", list(SPIKE_FUNCTIONS), ids=lambda f: f.__name__)
def test_spike_arrays_and_parameters_give_a_result_or_a_neurosim_error(func):
    @FUZZ
    @given(data=spikes, kwargs=SPIKE_FUNCTIONS[func])
    def run(data, kwargs):
        kwargs = {k: v for k, v in kwargs.items() if v is not None or k in ("bin_ms",)}
        check(func, data, **kwargs)

    run()


def test_instantaneous_rate_of_a_vanishing_kernel_is_the_spike_in_its_bin():
    # found by the suite: sigma_ms = 5e-324 overflowed u / sigma (a RuntimeWarning); the
    # limit of a kernel narrower than any bin is the spike counted in its own bin
    for kernel in ("gaussian", "exponential", "boxcar"):
        r = check(A.instantaneous_rate, np.array([1.5]), sigma_ms=5e-324, sampling_ms=1.0,
                  t_stop=3.0, kernel=kernel)
        np.testing.assert_array_equal(r.values[:, 0], [0.0, 1000.0, 0.0])


@FUZZ
@given(a=train, b=train, dt=number, t_stop=window)
def test_sttc_pairs(a, b, dt, t_stop):
    check(A.sttc, a, b, dt, t_stop=t_stop)


@FUZZ
@given(sizes=train, discrete=st.booleans(), xmin=window, min_tail=number)
def test_power_law_fit(sizes, discrete, xmin, min_tail):
    check(A.power_law_fit, sizes, discrete, xmin, min_tail=min_tail)


@pytest.fixture(scope="module")
def ds():
    return LIFNeuron.create_excitatory(n=N).simulate(DURATION, np.linspace(0.2, 0.6, N),
                                                     seed=0)


def test_windows_and_neurons_of_a_real_result(ds):
    """Random windows, bins and neuron selections on a 20-neuron LIF run: a result or a
    NeurosimError; an accepted window lies inside the run and the rates it gives match
    the spike counts in it (the independent reference)."""
    ids = st.one_of(st.lists(st.integers(-3, N + 3), max_size=5), st.integers(-3, N + 3),
                    st.sampled_from([[0.5], ["a"], [True], None]))

    @FUZZ
    @given(t_start=window, t_stop=window, bin_ms=number, neurons=ids)
    # found by a 5000-example run: a 5e-324 ms bin gave firing_rate NaN (5e-324 / 1000 is 0)
    @example(t_start=None, t_stop=5e-324, bin_ms=5e-324, neurons=[])
    def run(t_start, t_stop, bin_ms, neurons):
        kw = {"t_start": t_start, "t_stop": t_stop}
        res = check(A.avalanches, ds, bin_ms if bin_ms is not None else None, neurons=neurons,
                    **kw)
        fr = check(A.firing_rate, ds, bin_ms, **kw)
        if fr is None:
            return
        t0 = 0.0 if t_start is None else float(t_start)
        t1 = DURATION if t_stop is None else float(t_stop)
        assert 0.0 <= t0 < t1 <= DURATION + 1e-9
        width = float(bin_ms)
        n = fr.sizes["time"]
        assert n == int(np.floor((t1 - t0) / width + 1e-9)) >= 1
        t, who = ds.spike_time.values, ds.spike_neuron.values
        inside = (t > t0) & (t <= t0 + n * width + 1e-9)
        counts = np.bincount(who[inside], minlength=N)
        np.testing.assert_allclose(fr.values.sum(axis=0) * width / 1000.0, counts,
                                   rtol=1e-9, atol=1e-9)
        del res

    run()
