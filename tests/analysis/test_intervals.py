"""ISI and irregularity measures (neurosim_nb.analysis.intervals, seed ISIComp)."""

import numpy as np
import pytest
import xarray as xr

from neurosim_nb.analysis._input import spike_dataset
from neurosim_nb.analysis.intervals import cv, cv2, fano_factor, isi, lv, lvr

PER_NEURON = [cv, cv2, lv, lvr]

# Elephant's published test vectors (elephant/test/test_statistics.py, Elephant 1.2.1:
# LVTestCase, LVRTestCase, CV2TestCase): one sequence of 100 ISIs (ms) and the targets,
# asserted there with assert_array_almost_equal(..., decimal=9).
ELEPHANT_SEQ = [1, 28, 4, 47, 5, 16, 2, 5, 21, 12, 4, 12, 59, 2, 4, 18, 33, 25, 2, 34,
                4, 1, 1, 14, 8, 1, 10, 1, 8, 20, 5, 1, 6, 5, 12, 2, 8, 8, 2, 8,
                2, 10, 2, 1, 1, 2, 15, 3, 20, 6, 11, 6, 18, 2, 5, 17, 4, 3, 13, 6,
                1, 18, 1, 16, 12, 2, 52, 2, 5, 7, 6, 25, 6, 5, 3, 15, 4, 3, 16, 3,
                6, 5, 24, 21, 3, 3, 4, 8, 4, 11, 5, 7, 5, 6, 8, 11, 33, 10, 7, 4]
ELEPHANT_LV = 0.971826029994
ELEPHANT_LVR = 2.1845363464753134  # R = 5 ms
ELEPHANT_CV2 = 1.0022235296529176


def make_ds(times, ids, n, duration=100.0, dt=0.1):
    """A result Dataset of ``n`` neurons (first half "E", second half "I") from spike lists."""
    return spike_dataset(times, np.asarray(ids, dtype=np.int64), n, duration, dt=dt,
                         population=["E"] * (n - n // 2) + ["I"] * (n // 2))


def spikes_from_isis(isis, first=1.0):
    return first + np.concatenate([[0.0], np.cumsum(isis)])


def poisson_train(rng, rate_hz, duration_ms):
    n = rng.poisson(rate_hz * duration_ms / 1000.0)
    return np.sort(rng.uniform(0.0, duration_ms, n))


# --- reference values ----------------------------------------------------------------------

def test_elephant_test_vectors():
    # integer ISIs: cumsum and diff are exact, so 1e-9 (Elephant's decimal=9) is ample
    t = spikes_from_isis(ELEPHANT_SEQ)
    assert float(lv(t)[0]) == pytest.approx(ELEPHANT_LV, abs=1e-9)
    assert float(lvr(t)[0]) == pytest.approx(ELEPHANT_LVR, abs=1e-9)
    assert float(lvr(t, R_ms=5.0)[0]) == pytest.approx(ELEPHANT_LVR, abs=1e-9)
    assert float(cv2(t)[0]) == pytest.approx(ELEPHANT_CV2, abs=1e-9)


def test_elephant_docstring_examples():
    # elephant.statistics docstrings: cv2([0.3, 4.5, 6.7, 9.3]) = 0.8226190476190478,
    # lvr(same, R=0.005) = 0.833907445980624 (ISIs rebuilt from cumsum: round-off ~1e-15)
    t = spikes_from_isis([0.3, 4.5, 6.7, 9.3])
    assert float(cv2(t)[0]) == pytest.approx(0.8226190476190478, abs=1e-12)
    assert float(lvr(t, R_ms=0.005)[0]) == pytest.approx(0.833907445980624, abs=1e-12)


def test_hand_computed_values():
    t = [np.array([1.0, 2.0, 4.0]), np.arange(1.0, 21.0), np.array([0.5, 1.0, 3.0, 3.5])]
    # ISIs (1, 2): mean 1.5, std (ddof=0) 0.5 -> CV 1/3; pair term |2-1|/3 -> CV2 2/3,
    # LV 3 (1/3)^2 = 1/3, LvR(R=1) = 3 (1 - 8/9)(1 + 4/3) = 7/9
    np.testing.assert_allclose(cv(t).values[:2], [1 / 3, 0.0])
    np.testing.assert_allclose(cv2(t).values[:2], [2 / 3, 0.0])
    np.testing.assert_allclose(lv(t).values[:2], [1 / 3, 0.0])
    np.testing.assert_allclose(lvr(t, R_ms=1.0).values[0], 7 / 9)
    # ISIs (0.5, 2, 0.5): pairs give |1.5|/2.5 twice -> CV2 2 * 0.6, LV 3 * 0.36
    assert float(cv2(t)[2]) == pytest.approx(1.2) and float(lv(t)[2]) == pytest.approx(1.08)
    # LvR with R = 0 is the LV
    np.testing.assert_allclose(lvr(t, R_ms=0.0).values, lv(t).values)


def test_poisson_train_has_cv_lv_cv2_one():
    # one Poisson train with n ~ 20000 exponential ISIs. Delta method for an exponential:
    # Var(CV) ~ 1/n, so SE(CV) = 1/sqrt(n); test |CV - 1| < 3 SE (seeded: deterministic).
    rng = np.random.default_rng(2024)
    t = poisson_train(rng, 20.0, 1_000_000.0)
    n = t.size - 1
    assert abs(float(cv(t)[0]) - 1.0) < 3.0 / np.sqrt(n)
    # LV and CV2 of a Poisson process have expectation 1 (Shinomoto 2003; Holt 1996); their
    # per-pair terms are dependent, so only a loose 5 % check is meaningful here
    assert float(lv(t)[0]) == pytest.approx(1.0, abs=0.05)
    assert float(cv2(t)[0]) == pytest.approx(1.0, abs=0.05)


def test_poisson_fano_factor_is_one():
    rng = np.random.default_rng(7)
    # across N trains with iid Poisson counts: (N-1) F ~ chi2(N-1) (dispersion test), so
    # SE(F) = sqrt(2 / (N-1)); the ddof=0 bias (N-1)/N is 5e-4 << SE
    trains = [poisson_train(rng, 20.0, 1000.0) for _ in range(2000)]
    f = float(fano_factor(trains))
    assert abs(f - 1.0) < 3.0 * np.sqrt(2.0 / 1999)
    # across W windows of one train: counts in disjoint windows are iid Poisson, same SE
    t = poisson_train(rng, 20.0, 500_000.0)
    fw = fano_factor([t], bin_ms=100.0, t_stop=500_000.0)
    w = fw.attrs["n_windows"]
    assert w == 5000 and abs(float(fw[0]) - 1.0) < 3.0 * np.sqrt(2.0 / (w - 1))


def test_regular_train_is_zero():
    t = np.arange(1.0, 101.0) * 3.0
    for f in (cv, cv2, lv):
        assert float(f(t)[0]) == pytest.approx(0.0, abs=1e-12)
    assert float(fano_factor([t], bin_ms=30.0, t_stop=300.0)[0]) == 0.0


# --- isi ---------------------------------------------------------------------------------

def test_isi_layout_and_round_trip(tmp_path):
    ds = make_ds([1.0, 4.0, 2.0, 6.0, 9.0, 10.0, 50.0], [0, 0, 1, 1, 1, 2, 3], 5)
    d = isi(ds)
    assert d.dims == ("interval",) and d.name == "isi" and d.attrs["units"] == "ms"
    np.testing.assert_allclose(d.values, [3.0, 4.0, 3.0])
    assert d.neuron.values.tolist() == [0, 1, 1]
    assert d.population.values.tolist() == ["E", "E", "E"]
    assert d.interval_start.values.tolist() == [1.0, 2.0, 6.0]
    assert d.attrs["n_neurons"] == 5
    assert d.groupby("neuron").mean().values.tolist() == [3.0, 3.5]
    path = tmp_path / "isi.nc"
    d.to_netcdf(path)
    with xr.open_dataarray(path) as back:
        xr.testing.assert_identical(back.load(), d)


def test_isi_window_and_edge_cases():
    t = np.array([1.0, 2.0, 4.0, 8.0])
    assert isi(t, t_start=1.5, t_stop=5.0).values.tolist() == [2.0]
    assert isi(np.array([])).sizes["interval"] == 0
    assert isi(np.array([3.0])).sizes["interval"] == 0
    assert isi([]).attrs["n_neurons"] == 0
    with pytest.raises(ValueError, match="not finite"):
        isi(np.array([1.0, np.nan]))
    with pytest.raises(TypeError):
        isi("spikes")


# --- per-neuron measures: NaN policy, edge cases, paths ----------------------------------

@pytest.mark.parametrize("f", PER_NEURON)
def test_undefined_neurons_are_nan_and_counted(f):
    out = f([np.array([]), np.array([5.0]), np.array([1.0, 2.0]), np.array([1.0, 2.0, 4.0])])
    assert np.isnan(out.values[:3]).all() and np.isfinite(out.values[3])
    assert out.attrs["n_undefined"] == 3 and out.attrs["min_intervals"] == 2
    assert "fewer than 2" in out.attrs["comment"] and out.attrs["units"] == "1"
    # no spike at all: an all-NaN result that says why, not an error
    none = f(make_ds([], [], 4))
    assert none.sizes["neuron"] == 4 and np.isnan(none.values).all()
    assert none.attrs["n_undefined"] == 4
    assert f([]).sizes["neuron"] == 0  # no neurons: an empty result


@pytest.mark.parametrize("f", PER_NEURON)
def test_per_neuron_bad_input(f):
    with pytest.raises(ValueError, match="same time"):
        f(np.array([1.0, 2.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="not finite"):
        f(np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="t_stop"):
        f(np.array([1.0, 2.0, 3.0]), t_start=5.0, t_stop=4.0)
    # a window longer than a Dataset's recording is refused (as for every analysis
    # function): the Dataset knows it saw nothing after `duration`
    ds = make_ds([1.0, 2.0, 4.0], [0, 0, 0], 1, duration=5.0)
    with pytest.raises(ValueError, match="after the end of the recording"):
        f(ds, t_stop=1e6)
    assert float(f(ds, t_stop=5.0)[0]) == float(f(ds)[0])


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_lvr_rejects_bad_r(bad):
    with pytest.raises(ValueError, match="R_ms"):
        lvr(np.array([1.0, 2.0, 4.0]), R_ms=bad)
    with pytest.raises(TypeError, match="R_ms"):
        lvr(np.array([1.0, 2.0, 4.0]), R_ms="5 ms")


def test_dataset_and_array_paths_agree():
    rng = np.random.default_rng(5)
    trains = [np.sort(rng.choice(np.arange(1, 1001) * 0.1, k, replace=False))
              for k in (0, 2, 30, 80)]
    ds = make_ds(np.concatenate(trains), np.repeat(np.arange(4), [t.size for t in trains]), 4)
    for f in PER_NEURON:
        a, b = f(ds), f(trains)
        np.testing.assert_array_equal(a.values, b.values)
        assert a.population.values.tolist() == ["E", "E", "I", "I"]
    np.testing.assert_array_equal(isi(ds).values, isi(trains).values)
    assert float(fano_factor(ds)) == float(fano_factor(trains))
    np.testing.assert_array_equal(fano_factor(ds, bin_ms=10.0).values,
                                  fano_factor(trains, bin_ms=10.0, t_stop=100.0).values)


def test_on_a_network_simulation():
    from neurosim_nb.core.networks.benchmarks_models import coba_network
    ds = coba_network(100, seed=1).simulate(100.0, record=(), seed=1)
    out = lv(ds)
    assert out.sizes["neuron"] == 100 and out.attrs["n_undefined"] == int(
        (np.bincount(ds.spike_neuron.values, minlength=100) < 3).sum())
    assert np.all((out.values[np.isfinite(out.values)] >= 0)
                  & (out.values[np.isfinite(out.values)] <= 3))  # 0 <= LV <= 3


# --- fano_factor --------------------------------------------------------------------------

def test_fano_factor_definitions_and_edge_cases(tmp_path):
    counts = [3, 1, 2]  # var 2/3, mean 2 (Elephant: np.var / np.mean)
    f = fano_factor([np.arange(1.0, c + 1) for c in counts])
    assert float(f) == pytest.approx(1 / 3) and f.dims == () and f.attrs["units"] == "1"
    assert float(fano_factor([np.array([1.0, 2.0])])) == 0.0  # one train: Elephant gives 0
    for empty in ([], [np.array([])], make_ds([], [], 3)):
        e = fano_factor(empty)
        assert np.isnan(float(e)) and e.attrs["n_undefined"] == 1
    single = fano_factor([np.array([4.0]), np.array([])], bin_ms=5.0, t_stop=10.0)
    np.testing.assert_allclose(single.values, [0.5, np.nan])  # counts (1, 0): (1/4) / (1/2)
    assert single.attrs["n_undefined"] == 1
    with pytest.raises(ValueError, match="single window"):
        fano_factor([np.array([1.0])], bin_ms=6.0, t_stop=10.0)
    with pytest.raises(ValueError, match="longer than the recording"):
        fano_factor([np.array([1.0])], bin_ms=60.0, t_stop=10.0)
    for bad in (0.0, -5.0, np.nan):
        with pytest.raises(ValueError, match="bin_ms"):
            fano_factor([np.array([1.0])], bin_ms=bad, t_stop=10.0)
    path = tmp_path / "ff.nc"
    single.to_netcdf(path)
    with xr.open_dataarray(path) as back:
        xr.testing.assert_identical(back.load(), single)


def test_per_neuron_results_round_trip(tmp_path):
    ds = make_ds([1.0, 2.0, 4.0, 3.0, 7.0], [0, 0, 0, 1, 1], 3)
    for f in PER_NEURON:
        out = f(ds)
        path = tmp_path / f"{out.name}.nc"
        out.to_netcdf(path)
        with xr.open_dataarray(path) as back:
            xr.testing.assert_identical(back.load(), out)
