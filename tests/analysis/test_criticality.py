"""Avalanches, branching ratio and power-law fits against independent references.

* Critical branching process (Harris, *The Theory of Branching Processes*, 1963): generated
  here with numpy, Poisson(sigma) offspring per spike, one ancestor per avalanche. At
  sigma = 1 the total progeny S is Borel distributed, P(S = s) = e^-s s^(s-1) / s!
  ~ s^(-3/2) / sqrt(2 pi) (Otter 1949; mean-field avalanche exponent 3/2, Beggs & Plenz
  2003), and the survival q_t = P(T > t) obeys q_t = 1 - exp(-q_(t-1)), q_0 = 1, with
  q_t ~ 2/t, so P(T = t) ~ 2 t^-2 (exponent 2). Both laws hold only asymptotically, so a
  power law fitted above a finite xmin converges to a pseudo-true exponent alpha*(xmin)
  (the minimiser of the KL divergence: E[ln X | X >= xmin] = -d/da ln zeta(a, xmin)),
  which is computed here from the exact distributions -- e.g. alpha*(10) = 1.913 for the
  durations. The estimates are checked against alpha*(xmin) to 4 standard errors and
  against the asymptotic 3/2 and 2 to the stated finite-size tolerances.
* Discrete power-law samples: scipy.stats.zipf, p(k) = k^-a / zeta(a) exactly.
* The `powerlaw` package (Alstott, Bullmore & Plenz 2014, PLoS ONE 9:e85777), an
  independent implementation of Clauset, Shalizi & Newman (2009): the same sample must give
  the same exponent, xmin, KS distance and likelihood-ratio test.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import optimize, special
from scipy.stats import zipf

from neurosim_nb.analysis.criticality import (
    avalanches,
    branching_ratio,
    criticality_summary,
    power_law_fit,
)


# -- reference generators ------------------------------------------------------------------
def branching_process(sigma: float, n_avalanches: int, max_gen: int, seed: int):
    """Galton-Watson avalanches: (size, duration, finished, generations) where generations
    is a list of (avalanche index, spikes) per generation."""
    rng = np.random.default_rng(seed)
    idx = np.arange(n_avalanches)
    alive = np.ones(n_avalanches, dtype=np.int64)
    size = np.zeros(n_avalanches, dtype=np.int64)
    duration = np.zeros(n_avalanches, dtype=np.int64)
    generations = []
    for _ in range(max_gen):
        size[idx] += alive
        duration[idx] += 1
        generations.append((idx, alive))
        alive = rng.poisson(sigma * alive)    # sum of n Poisson(sigma) = Poisson(n sigma)
        idx, alive = idx[alive > 0], alive[alive > 0]
        if idx.size == 0:
            break
    finished = np.ones(n_avalanches, dtype=bool)
    finished[idx] = False
    return size, duration, finished, generations


def finished_only(size, duration, finished, generations):
    """Keep the avalanches that died out (renumbered)."""
    new = np.cumsum(finished) - 1
    gens = [(new[i[finished[i]]], c[finished[i]]) for i, c in generations]
    return size[finished], duration[finished], gens


def to_spike_trains(duration, generations, n_neurons: int, seed: int, bin_ms: float = 1.0):
    """Spike times (ms) of the avalanches laid out one after another, each generation in one
    bin, separated by 1-3 empty bins; spikes are spread over random neurons."""
    rng = np.random.default_rng(seed)
    gaps = rng.integers(1, 4, duration.size)
    offset = np.cumsum(np.concatenate([[1], (duration + gaps)[:-1]]))
    bins = np.concatenate([offset[i] + g for g, (i, _) in enumerate(generations)])
    counts = np.concatenate([c for _, c in generations])
    b = np.repeat(bins, counts)
    t = (b + rng.uniform(0.05, 0.95, b.size)) * bin_ms
    neuron = rng.integers(0, n_neurons, b.size)
    t_stop = float(offset[-1] + duration[-1] + 2) * bin_ms
    return [np.sort(t[neuron == k]) for k in range(n_neurons)], t_stop


def pseudo_true_alpha(pmf_tail_logs: np.ndarray, xs: np.ndarray, tail_mass_beyond: float,
                      tail_log_moment_beyond: float, xmin: float) -> float:
    """alpha*(xmin): -d/da ln zeta(a, xmin) = E[ln X | X >= xmin] (Clauset et al. eq. 3.5)."""
    w = np.exp(pmf_tail_logs[xs >= xmin])
    mean_log = ((w * np.log(xs[xs >= xmin])).sum() + tail_log_moment_beyond) / (
        w.sum() + tail_mass_beyond)

    def nll(a):
        return a * mean_log + np.log(special.zeta(a, xmin))
    return optimize.minimize_scalar(nll, bounds=(1.01, 5.0), method="bounded",
                                    options={"xatol": 1e-10}).x


def alpha_star_size(xmin: float) -> float:
    """Borel(1): log P(S = s) = -s + (s - 1) ln s - ln s!; tail beyond N ~ s^-1.5/sqrt(2 pi)."""
    n = 200_000
    s = np.arange(1, n + 1, dtype=float)
    logp = -s + (s - 1) * np.log(s) - special.gammaln(s + 1)
    c = 1 / np.sqrt(2 * np.pi)                 # int_N^inf c x^-1.5 (1, ln x) dx
    return pseudo_true_alpha(logp, s, 2 * c / np.sqrt(n),
                             2 * c * (np.log(n) + 2) / np.sqrt(n), xmin)


def alpha_star_duration(xmin: float) -> float:
    """Exact GW survival q_t; P(T = t) = q_(t-1) - q_t; tail beyond N ~ 2/t^2."""
    n = 100_000
    q = np.empty(n + 1)
    q[0] = 1.0
    for t in range(1, n + 1):
        q[t] = -np.expm1(-q[t - 1])
    t = np.arange(1, n + 1, dtype=float)
    return pseudo_true_alpha(np.log(q[:-1] - q[1:]), t, q[n], 2 * (np.log(n) + 1) / n, xmin)


# -- avalanches of a critical branching process ------------------------------------------------
@pytest.fixture(scope="module")
def critical():
    """20 000 critical avalanches; ~0.1 % still alive after 3000 generations are dropped
    (their absence changes the duration pmf only beyond t = 3000)."""
    size, duration, finished, _ = branching_process(1.0, 20_000, 3000, seed=0)
    return size[finished], duration[finished]


def test_size_exponent_of_critical_branching_process(critical):
    fit = power_law_fit(critical[0])
    xmin, se = float(fit.xmin), float(fit.alpha_error)     # se ~ 0.005
    assert float(fit.alpha) == pytest.approx(alpha_star_size(xmin), abs=4 * se)
    assert float(fit.alpha) == pytest.approx(1.5, abs=0.05)   # Borel corrections are O(1/s)
    assert fit.attrs["preferred"] == "power_law"


def test_duration_exponent_of_critical_branching_process(critical):
    fit = power_law_fit(critical[1])
    xmin, se = float(fit.xmin), float(fit.alpha_error)     # se ~ 0.015
    assert float(fit.alpha) == pytest.approx(alpha_star_duration(xmin), abs=4 * se)
    # the GW survival q_t ~ 2/(t + (2/3) ln t) approaches t^-2 slowly: alpha*(10) = 1.913
    assert float(fit.alpha) == pytest.approx(2.0, abs=0.1)
    assert fit.attrs["preferred"] == "power_law"


@pytest.fixture(scope="module")
def critical_spikes():
    size, duration, finished, gens = branching_process(1.0, 6000, 300, seed=1)
    size, duration, gens = finished_only(size, duration, finished, gens)
    trains, t_stop = to_spike_trains(duration, gens, n_neurons=50, seed=2)
    return size, duration, trains, t_stop


def test_avalanches_recover_generated_sizes_and_durations(critical_spikes, tmp_path):
    size, duration, trains, t_stop = critical_spikes
    av = avalanches(trains, 1.0, t_stop=t_stop)
    np.testing.assert_array_equal(av["size"].values, size)
    np.testing.assert_array_equal(av["duration"].values, duration)
    np.testing.assert_array_equal(av["duration_ms"].values, duration * 1.0)
    assert np.all(np.diff(av.start.values) > av.duration_ms.values[:-1])  # empty bin between
    assert av["size"].attrs["units"] == "1" and av.duration_ms.attrs["units"] == "ms"
    path = tmp_path / "av.nc"
    av.to_netcdf(path)
    xr.testing.assert_identical(xr.open_dataset(path).load(), av)


def test_criticality_summary_of_critical_process(critical_spikes, tmp_path):
    """6000 avalanches conditioned on ending within 300 generations. Tolerances: sizes
    +-0.05 (se ~0.01), durations +-0.15 (se ~0.03 plus the slow approach to t^-2 and the
    conditioning, which steepens the tail), branching ratio: Beggs & Plenz's first-bin
    ratio has mean sigma = 1 and se 1/sqrt(6000) = 0.013 (Poisson(1) descendants of one
    ancestor; the conditioning lowers it by ~0.3 %), tolerance 0.04; gamma: <S>(T) ~ T^2
    only asymptotically (mean-field crackling noise), the measured 1.8-1.9 over T < 300 is
    allowed 0.25."""
    size, _, trains, t_stop = critical_spikes
    crit = criticality_summary(trains, 1.0, t_stop=t_stop)
    assert float(crit.alpha_size) == pytest.approx(1.5, abs=0.05)
    assert float(crit.alpha_duration) == pytest.approx(2.0, abs=0.15)
    assert float(crit.branching_ratio) == pytest.approx(1.0, abs=0.04)
    assert float(crit.gamma_fit) == pytest.approx(2.0, abs=0.25)
    assert float(crit.gamma_predicted) == pytest.approx(
        (float(crit.alpha_duration) - 1) / (float(crit.alpha_size) - 1))
    assert int(crit.n_avalanches) == size.size          # the 6000 minus those cut at 300
    path = tmp_path / "crit.nc"
    crit.to_netcdf(path)
    xr.testing.assert_identical(xr.open_dataset(path).load(), crit)


def test_branching_ratio_of_subcritical_avalanches():
    """sigma = 0.8, one ancestor each: E[descendants/ancestors] = 0.8, se = sqrt(0.8/5000)
    = 0.013; tolerance 0.04 (3 se)."""
    _, duration, _, gens = branching_process(0.8, 5000, 200, seed=3)
    trains, t_stop = to_spike_trains(duration, gens, n_neurons=20, seed=4)
    sigma = branching_ratio(trains, 1.0, t_stop=t_stop)
    assert float(sigma) == pytest.approx(0.8, abs=0.04)
    assert sigma.attrs["method"] == "avalanche" and sigma.attrs["n_avalanches"] == 5000


def test_mr_estimator_of_driven_subcritical_process():
    """A_(t+1) ~ Poisson(0.8 A_t + 2): the regression slopes are r_k = 0.8^k exactly
    (Wilting & Priesemann 2018), so m = 0.8 and b = 1; the slope's standard error over
    20 000 bins is sqrt((1 - m^2)/N) ~ 0.004, tolerance 0.02."""
    rng = np.random.default_rng(5)
    a = np.zeros(20_000, dtype=np.int64)
    a[0] = 10
    for k in range(1, a.size):
        a[k] = rng.poisson(0.8 * a[k - 1] + 2.0)
    b = np.repeat(np.arange(a.size), a)
    t = b + rng.uniform(0.05, 0.95, b.size)
    m = branching_ratio(t, 1.0, method="mr", t_stop=float(a.size))
    assert float(m) == pytest.approx(0.8, abs=0.02)
    assert m.attrs["mr_amplitude"] == pytest.approx(1.0, abs=0.1)


# -- power-law fits --------------------------------------------------------------------------
def test_discrete_mle_recovers_true_exponent():
    """Zipf(2.5), 10 000 samples: within 4 standard errors (~0.015 each) of 2.5; the error
    itself matches the Cramer-Rao bound ~ (alpha - 1)/sqrt(n) to 20 %."""
    x = zipf.rvs(2.5, size=10_000, random_state=6)
    fit = power_law_fit(x, xmin=1)
    se = float(fit.alpha_error)
    assert float(fit.alpha) == pytest.approx(2.5, abs=4 * se)
    assert se == pytest.approx(1.5 / np.sqrt(10_000), rel=0.2)
    tail = x[x >= 5]                     # a discrete power law restricted to x >= 5
    fit5 = power_law_fit(tail, xmin=5)
    assert float(fit5.alpha) == pytest.approx(2.5, abs=4 * float(fit5.alpha_error))
    assert int(fit5.n_tail) == tail.size


@pytest.mark.filterwarnings("ignore:::powerlaw")  # its own deprecations and optimiser notes
def test_matches_powerlaw_package():
    """Same samples, same choices: xmin by KS over the observed values, exact discrete MLE
    (estimate_discrete=False). powerlaw maximises with scipy.optimize.minimize (alpha to
    ~1e-5; observed differences <= 5e-5), hence 2e-4. Its KS distance compares the CDFs
    only just below each observed value, ours also at it (the exact sup, checked by brute
    force below), so the two agree to ~2e-4 but are not identical."""
    import powerlaw  # test-only dependency (PyPI "powerlaw"); not skipped if missing

    size, duration, finished, _ = branching_process(1.0, 3000, 3000, seed=1)
    for x in (size[finished], duration[finished]):        # xmin 4 and 5: the scan matters
        ours = power_law_fit(x)
        ref = powerlaw.Fit(x, discrete=True, estimate_discrete=False, verbose=0)
        assert float(ours.xmin) == ref.xmin
        assert float(ours.alpha) == pytest.approx(ref.power_law.alpha, abs=2e-4)
        assert float(ours.ks_distance) == pytest.approx(ref.power_law.D, abs=1e-3)
        # brute-force sup_k |F_data(k) - F_model(k)| over every integer of the tail
        xmin, alpha = float(ours.xmin), float(ours.alpha)
        tail = np.sort(x[x >= xmin])
        k = np.arange(xmin, tail[-1] + 2)
        f_data = np.searchsorted(tail, k, side="right") / tail.size
        f_model = 1 - special.zeta(alpha, k + 1) / special.zeta(alpha, xmin)
        assert float(ours.ks_distance) == pytest.approx(np.abs(f_data - f_model).max(),
                                                        rel=1e-9)
    x = zipf.rvs(2.2, size=3000, random_state=7)
    ref1 = powerlaw.Fit(x, discrete=True, xmin=1, estimate_discrete=False, verbose=0)
    ours1 = power_law_fit(x, xmin=1)
    assert float(ours1.alpha) == pytest.approx(ref1.power_law.alpha, abs=2e-4)
    R, p = ref1.distribution_compare("power_law", "exponential", normalized_ratio=True)
    assert float(ours1.normalized_ratio) == pytest.approx(R, rel=1e-3)
    assert float(ours1.p_value) == pytest.approx(p, rel=0.05)
    assert float(ours1.exponential_rate) == pytest.approx(ref1.exponential.Lambda, rel=1e-3)
    # continuous fit at a fixed xmin: closed-form MLE on both sides
    y = (1.0 - np.random.default_rng(8).random(2000)) ** (-1 / 1.7)   # Pareto, alpha 2.7
    ref_c = powerlaw.Fit(y, xmin=1.0, verbose=0)
    assert float(power_law_fit(y, discrete=False, xmin=1.0).alpha) == pytest.approx(
        ref_c.power_law.alpha, rel=1e-6)


def test_likelihood_ratio_prefers_the_right_model():
    """Vuong's test (Clauset et al. 2009, app. C): power-law data -> R > 0, exponential
    (geometric) data -> R < 0, both with p < 0.01 at these sample sizes (xmin = 1 fixed:
    a free xmin on exponential data moves into the far tail, where no test decides)."""
    pl = power_law_fit(zipf.rvs(2.0, size=2000, random_state=9), xmin=1)
    assert float(pl.loglikelihood_ratio) > 0 and float(pl.p_value) < 0.01
    assert pl.attrs["preferred"] == "power_law"
    geo = np.random.default_rng(10).geometric(0.2, 2000)
    ex = power_law_fit(geo, xmin=1)
    assert float(ex.loglikelihood_ratio) < 0 and float(ex.p_value) < 0.01
    assert ex.attrs["preferred"] == "exponential"
    # the exponential MLE of a geometric sample: rate ln(1 + 1/mean(x - 1)) ~ -ln(0.8)
    assert float(ex.exponential_rate) == pytest.approx(-np.log(0.8), rel=0.05)
    cont = np.random.default_rng(11).exponential(3.0, 2000) + 1.0
    assert power_law_fit(cont, discrete=False, xmin=1.0).attrs["preferred"] == "exponential"


# -- edge cases ----------------------------------------------------------------------------
def test_no_spikes():
    av = avalanches([np.zeros(0)], 1.0, t_stop=100.0)
    assert av.sizes["avalanche"] == 0 and av["size"].dtype == np.int64
    with pytest.raises(ValueError, match="pass bin_ms"):
        avalanches([np.zeros(0)], t_stop=100.0)
    with pytest.raises(ValueError, match="no avalanche"):
        branching_ratio([np.zeros(0)], 1.0, t_stop=100.0)
    with pytest.raises(ValueError, match="constant"):
        branching_ratio([np.zeros(0)], 1.0, method="mr", t_stop=100.0)
    with pytest.raises(ValueError, match="too few"):
        criticality_summary([np.zeros(0)], 1.0, t_stop=100.0)
    with pytest.raises(ValueError, match="empty"):
        power_law_fit([])


def test_single_spike():
    av = avalanches([50.5], 1.0, t_stop=100.0)
    assert av["size"].values.tolist() == [1] and av.start.values.tolist() == [50.0]
    with pytest.raises(ValueError, match="two distinct times"):
        avalanches([50.5], t_stop=100.0)
    assert float(branching_ratio([50.5], 1.0, t_stop=100.0)) == 0.0   # no descendant
    with pytest.raises(ValueError, match="too few"):
        criticality_summary([50.5], 1.0, t_stop=100.0)
    with pytest.raises(ValueError, match="distinct"):
        power_law_fit([3], xmin=1)


def test_truncated_avalanches_at_the_edges():
    spikes = [0.5, 1.5, 5.5, 9.5]                  # runs touching t = 0 and t = 10 ms
    assert avalanches(spikes, 1.0, t_stop=10.0)["size"].values.tolist() == [1]
    kept = avalanches(spikes, 1.0, t_stop=10.0, keep_truncated=True)
    assert kept["size"].values.tolist() == [2, 1, 1]


def test_default_bin_is_mean_isi_in_whole_steps():
    ds = xr.Dataset({"spike_time": ("spike", [1.0, 3.3, 4.0, 8.1]),
                     "spike_neuron": ("spike", [0, 1, 0, 1])},
                    attrs={"duration": 20.0, "n_neurons": 2, "dt": 0.5})
    av = avalanches(ds)                             # mean ISI 7.1/3 = 2.37 -> 2.5 ms
    assert av.attrs["bin_ms"] == 2.5
    assert avalanches([1.0, 3.3, 4.0, 8.1], t_stop=20.0).attrs["bin_ms"] == pytest.approx(7.1 / 3)


def test_nan_input_raises():
    with pytest.raises(ValueError, match="not finite"):
        avalanches([1.0, np.nan], 1.0, t_stop=10.0)
    with pytest.raises(ValueError, match="not finite"):
        branching_ratio([1.0, np.nan], 1.0, t_stop=10.0)
    with pytest.raises(ValueError, match="NaN"):
        power_law_fit([1.0, 2.0, np.nan])


def test_bin_longer_than_recording_raises():
    for f in (avalanches, branching_ratio, criticality_summary):
        with pytest.raises(ValueError, match="fewer than 3 bins"):
            f([1.0, 2.0], 50.0, t_stop=100.0)
    with pytest.raises(ValueError, match="too few bins|too few"):
        branching_ratio([1.0, 2.0], 1.0, method="mr", k_max=10, t_stop=15.0)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: avalanches([1.0], -1.0, t_stop=10.0), ValueError, "bin_ms"),
    (lambda: avalanches([1.0], None, t_stop=10.0), ValueError, "two distinct"),
    (lambda: branching_ratio([1.0], 1.0, method="ols", t_stop=10.0), ValueError, "method"),
    (lambda: branching_ratio([1.0, 2.0], 1.0, method="mr", k_max=1, t_stop=100.0),
     ValueError, "k_max"),
    (lambda: power_law_fit([1, 2, 0]), ValueError, "> 0"),
    (lambda: power_law_fit([1.5, 2.0, 3.0]), ValueError, "integer"),
    (lambda: power_law_fit([1, 2, 3], xmin=2.5), ValueError, "xmin"),
    (lambda: power_law_fit([1, 2, 3], xmin=-1), ValueError, "xmin"),
    (lambda: power_law_fit([1, 2, 3], xmin=10), ValueError, "distinct"),
    (lambda: power_law_fit([1, 2, 3], min_tail=1), ValueError, "min_tail"),
    (lambda: power_law_fit([1, 2, 3]), ValueError, "too few samples"),
    (lambda: power_law_fit(xr.Dataset({"size": ("avalanche", [1, 2])})), TypeError, "one var"),
])
def test_bad_parameters_raise(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
