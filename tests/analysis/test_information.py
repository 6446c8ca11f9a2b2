"""spike_train_entropy (direct method, Strong et al. 1998) against closed forms.

References used here, written independently of the module:

* A Poisson train of rate r, binarised in bins of width D, is a Bernoulli sequence with
  p = 1 - exp(-r D) (probability of at least one spike in a bin); bins are independent, so a
  word of L bins has entropy L * H_b(p) bit, H_b the binary entropy (Cover & Thomas,
  *Elements of Information Theory*, 2nd ed., eq. 2.5 and thm 2.6.6 for independence).
  Counted (not binarised) bins hold Poisson(r D) counts: L * H(Poisson(r D)).
* The plug-in estimator of N samples is asymptotically normal with variance
  Var[-log2 p(W)] / N (the "delta method"; Paninski 2003, Neural Comput 15:1191, sec. 4).
  For L independent Bernoulli bins, -log2 p(W) = -K log2 p - (L - K) log2(1 - p) with
  K ~ Binomial(L, p), so Var = L p (1 - p) log2((1 - p)/p)^2 -- used for the tolerances.
* Its bias is about -(m - 1) / (2 N ln 2) (Miller 1955), hence the short-data test.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.special import gammaln

from neurosim_nb.analysis.information import spike_train_entropy

RATE_HZ, BIN_MS, L = 20.0, 2.0, 8


def poisson_train(rate_hz: float, t_stop_ms: float, seed: int) -> np.ndarray:
    """Homogeneous Poisson spike times (ms) from exponential intervals."""
    rng = np.random.default_rng(seed)
    n = int(rate_hz * t_stop_ms / 1000.0 * 1.3 + 50)
    t = np.cumsum(rng.exponential(1000.0 / rate_hz, n))
    assert t[-1] > t_stop_ms  # enough intervals drawn
    return t[t <= t_stop_ms]


def bernoulli_word_entropy(rate_hz: float, bin_ms: float, length: int) -> tuple[float, float]:
    """(L * H_b(p), Var[-log2 p(W)]) for binarised Poisson bins."""
    p = -np.expm1(-rate_hz * bin_ms / 1000.0)
    hb = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    var = length * p * (1 - p) * np.log2((1 - p) / p) ** 2
    return length * hb, var


@pytest.mark.parametrize("correction", ["none", "miller_madow", "extrapolation"])
def test_poisson_entropy_matches_closed_form(correction):
    t_stop = 200_000.0                       # 200 s: 12 500 words of 16 ms
    res = spike_train_entropy(poisson_train(RATE_HZ, t_stop, seed=1), BIN_MS, L, t_stop=t_stop,
                              correction=correction)
    h_true, var = bernoulli_word_entropy(RATE_HZ, BIN_MS, L)
    n_words = int(res.n_words.item())
    assert n_words == 12_500
    sd = np.sqrt(var / n_words)              # ~0.01 bit: 4 sd is the tolerance
    assert res.word_entropy.item() == pytest.approx(h_true, abs=4 * sd)
    rate_true = h_true / (L * BIN_MS / 1000.0)   # bit/s, ~119 bit/s
    assert res.entropy_rate.item() == pytest.approx(rate_true, abs=4 * sd / (L * BIN_MS / 1e3))
    # bits per spike: rate over the measured firing rate
    assert res.entropy_per_spike.item() == pytest.approx(
        res.entropy_rate.item() / res.firing_rate.item(), rel=1e-12)
    assert res.entropy_rate.attrs["units"] == "bit/s"
    assert res.attrs["correction"] == correction


def test_count_words_match_poisson_entropy():
    """Counted bins (binary=False): each bin is Poisson(r D), entropy sum_k -P log2 P."""
    rate, bin_ms, length, t_stop = 150.0, 4.0, 3, 200_000.0   # r D = 0.6 spike per bin
    res = spike_train_entropy(poisson_train(rate, t_stop, seed=2), bin_ms, length,
                              binary=False, t_stop=t_stop)
    mu, k = rate * bin_ms / 1000.0, np.arange(40)
    pk = np.exp(k * np.log(mu) - mu - gammaln(k + 1))         # Poisson pmf
    h_bin = -(pk * np.log2(pk)).sum()
    var_bin = (pk * np.log2(pk) ** 2).sum() - h_bin ** 2
    sd = np.sqrt(length * var_bin / res.n_words.item())       # ~0.012 bit
    assert res.word_entropy.item() == pytest.approx(length * h_bin, abs=4 * sd)


def test_bias_correction_moves_short_data_toward_truth():
    """4-s segments (250 words for 256 possible ones): the plug-in estimate is biased low
    (~0.13 bit here). Both corrections must move the mean over 40 independent segments toward
    the truth by > 0.03 bit without overshooting. Measured: Miller-Madow +0.046 bit (it
    under-corrects when most words are unseen, Paninski 2003), extrapolation +0.063 bit; the
    segment-to-segment spread of these shifts is 0.006 and 0.023 bit, so their means over 40
    segments are known to 0.001 and 0.004 bit and 0.03 is > 7 standard errors away."""
    h_true, _ = bernoulli_word_entropy(RATE_HZ, BIN_MS, L)
    seg = 4000.0
    err = {c: [] for c in ("none", "miller_madow", "extrapolation")}
    for s in range(40):
        train = poisson_train(RATE_HZ, seg, seed=100 + s)
        for c in err:
            err[c].append(spike_train_entropy(train, BIN_MS, L, t_stop=seg,
                                              correction=c).word_entropy.item() - h_true)
    bias = {c: float(np.mean(e)) for c, e in err.items()}
    assert bias["none"] < -0.05                                  # plug-in: biased low
    for c in ("miller_madow", "extrapolation"):
        assert bias[c] - bias["none"] > 0.03, c                  # moved toward the truth
        assert abs(bias[c]) < abs(bias["none"]), c               # not past it


def test_periodic_train_has_zero_entropy():
    """Period = word duration: every word is the same, so the entropy is exactly 0."""
    period = L * BIN_MS
    train = np.arange(1.0, 1000.0, period)
    res = spike_train_entropy(train, BIN_MS, L, t_stop=1000.0, correction="none")
    assert res.word_entropy.item() == 0.0 and res.entropy_rate.item() == 0.0


def test_pooled_and_per_neuron_and_dataset_input(tmp_path):
    """Five independent Poisson neurons: per-neuron estimates and the pooled one agree with
    the closed form (pooled: 5x the words, so a tighter tolerance)."""
    t_stop = 100_000.0
    trains = [poisson_train(RATE_HZ, t_stop, seed=10 + k) for k in range(5)]
    ids = np.concatenate([np.full(t.size, k) for k, t in enumerate(trains)])
    times = np.concatenate(trains)
    order = np.argsort(times, kind="stable")
    ds = xr.Dataset({"spike_time": ("spike", times[order]),
                     "spike_neuron": ("spike", ids[order])},
                    coords={"neuron": np.arange(5),
                            "population": ("neuron", ["a", "a", "a", "b", "b"])},
                    attrs={"duration": t_stop, "n_neurons": 5, "dt": 0.1})
    h_true, var = bernoulli_word_entropy(RATE_HZ, BIN_MS, L)
    per = spike_train_entropy(ds, BIN_MS, L)
    assert per.entropy_rate.dims == ("neuron",)
    assert per.population.values.tolist() == ["a", "a", "a", "b", "b"]
    sd = np.sqrt(var / per.n_words.values[0])
    np.testing.assert_allclose(per.word_entropy.values, h_true, atol=4 * sd)
    pooled = spike_train_entropy(ds, BIN_MS, L, pooled=True)
    assert pooled.entropy_rate.dims == ()
    assert pooled.word_entropy.item() == pytest.approx(h_true, abs=4 * sd / np.sqrt(5))
    assert pooled.firing_rate.item() == pytest.approx(per.firing_rate.mean().item())
    path = tmp_path / "entropy.nc"
    per.to_netcdf(path)
    xr.testing.assert_identical(xr.open_dataset(path).load(), per)


def test_network_result():
    from neurosim_nb.core.networks.benchmarks_models import coba_network
    ds = coba_network(400, seed=1).simulate(200.0, record=(), seed=1)
    res = spike_train_entropy(ds, 2.0, 5)
    assert res.sizes["neuron"] == 400
    active = res.firing_rate.values > 0
    assert np.all(res.entropy_rate.values[active] > 0)
    assert np.all(np.isnan(res.entropy_per_spike.values[~active]))


# -- edge cases ----------------------------------------------------------------------------
def test_no_spikes_has_zero_entropy():
    res = spike_train_entropy([np.zeros(0), np.zeros(0)], BIN_MS, L, t_stop=1000.0)
    assert res.entropy_rate.values.tolist() == [0.0, 0.0]
    assert np.all(np.isnan(res.entropy_per_spike.values))   # documented: 0 bit / 0 spikes


def test_single_spike_plugin_entropy():
    """One non-empty word among N: H = -(1/N) log2(1/N) - ((N-1)/N) log2((N-1)/N)."""
    res = spike_train_entropy([5.0], 1.0, 4, t_stop=100.0, correction="none")
    n = 25
    expected = -(1 / n) * np.log2(1 / n) - ((n - 1) / n) * np.log2((n - 1) / n)
    assert res.word_entropy.item() == pytest.approx(expected, rel=1e-12)
    mm = spike_train_entropy([5.0], 1.0, 4, t_stop=100.0, correction="miller_madow")
    assert mm.word_entropy.item() == pytest.approx(expected + 1 / (2 * n * np.log(2)))


def test_nan_spike_time_raises():
    with pytest.raises(ValueError, match="not finite"):
        spike_train_entropy([1.0, np.nan], 1.0, 4, t_stop=100.0)


def test_words_longer_than_recording_raise():
    with pytest.raises(ValueError, match="longer than half the window"):
        spike_train_entropy([1.0, 5.0], 10.0, 8, t_stop=100.0)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"bin_ms": 0.0}, ValueError, "bin_ms"),
    ({"bin_ms": np.nan}, ValueError, "bin_ms"),
    ({"bin_ms": None}, TypeError, "bin_ms"),
    ({"word_length": 0}, ValueError, "word_length"),
    ({"word_length": 2.5}, TypeError, "word_length"),
    ({"correction": "jackknife"}, ValueError, "correction"),
    ({"correction": "extrapolation", "n_fractions": 2}, ValueError, "n_fractions"),
    ({"correction": "extrapolation", "n_fractions": 3.5}, ValueError, "n_fractions"),
])
def test_bad_parameters_raise(kwargs, exc, match):
    args = {"bin_ms": 1.0, "word_length": 4, **kwargs}
    with pytest.raises(exc, match=match):
        spike_train_entropy([1.0, 5.0], t_stop=100.0, **args)


def test_arrays_need_t_stop():
    with pytest.raises(ValueError, match="t_stop"):
        spike_train_entropy([1.0, 5.0], 1.0, 4)
