"""PoissonInput's samplers: ``"gaps"`` (Poisson counts per step from exponential gaps)
and ``"pooled"`` (one Poisson count per step for all targets, each event to a uniformly
drawn target), beside the default ``"per_step"``.

References: numpy's own Philox bit generator (the counter-based generator both draw
from); the Poisson distribution's closed forms -- mean = variance = lam, P(N = k) =
e^-lam lam^k / k!, independent counts in disjoint steps and targets (correlation 0) --
and scipy's Poisson CDF, with tolerances of 5 standard errors of each estimator (a false
alarm < 1e-6 per check; the seeds are fixed, so a pass is reproducible); the per-step
sampler's output, for what must not change; for ``"pooled"``, a plain-Python restatement
of its algorithm (scipy's CDF for the counts, Lemire's rejection in Python integers).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from neurosim_nb import LIFNeuron, Network
from neurosim_nb.core.networks.benchmarks_models import izhikevich_network
from neurosim_nb.core.networks.spec import SpecError, build_network
from neurosim_nb.engine import simulator as _single
from neurosim_nb.export.config import export_model_json, load_model_json
from neurosim_nb.numerics.pcg64 import random_into
from neurosim_nb.numerics.philox import philox4x64
from neurosim_nb.stimuli import POOLED_MAX_EVENTS_PER_STEP, PoissonInput, _pooled_table

DT = 0.1
#: the samplers of one process in continuous time / pooled over targets (counter-based)
SAMPLERS = ("gaps", "pooled")


def _kicks(stim, n, n_steps, chunk, seed=3, dt=DT):
    """The kicks (mV) of ``stim`` bound to ``n`` neurons for ``n_steps`` steps, filled in
    blocks of ``chunk`` steps as the engine does."""
    rt = stim.bind(n, dt, np.random.default_rng(seed))
    out = np.zeros((n_steps, n))
    t = np.arange(n_steps) * dt
    for k0 in range(0, n_steps, chunk):
        rt.add(out[k0:k0 + chunk], t[k0:k0 + chunk])
    return out


# -- the generator ------------------------------------------------------------------------
@pytest.mark.parametrize("key, counter", [
    ((0, 0), (0, 0, 0, 0)),
    ((2**64 - 1, 12345), (7, 2**63, 1, 0)),
    ((0x9E3779B97F4A7C15, 3), (2**64 - 2, 5, 2**64 - 1, 2**40)),
])
def test_philox_is_numpys_philox(key, counter):
    k = np.array(key, dtype=np.uint64)
    c = np.array(counter, dtype=np.uint64)
    # numpy increments its counter before computing a block: its first block is ours at c+1
    ref = np.random.Philox(key=k, counter=c).random_raw(8)
    ours = []
    for step in (1, 2):
        cc = [int(x) for x in c]
        cc[0] += step
        carry = 0
        for w in range(4):  # the 256-bit counter's carry, as numpy propagates it
            cc[w] += carry
            carry, cc[w] = divmod(cc[w], 2**64)
        ours.extend(int(x) for x in philox4x64(*(np.uint64(x) for x in cc), k[0], k[1]))
    assert ours == [int(x) for x in ref]


@pytest.mark.parametrize("shape", [(1,), (63,), (64,), (65,), (7, 131), (262, 3200)])
def test_fast_uniforms_are_numpys_and_leave_its_state(shape):
    # the per-step sampler's uniforms: Generator.random's numbers, in its order, and the
    # generator where random() leaves it (drawing on from both gives the same numbers)
    for seed in (0, 12345):
        ours, ref = np.random.default_rng(seed), np.random.default_rng(seed)
        ours.random(3)
        ref.random(3)
        out = np.empty(shape)
        random_into(ours, out)
        assert np.array_equal(out, ref.random(shape))
        assert ours.bit_generator.state == ref.bit_generator.state
        assert np.array_equal(ours.random(5), ref.random(5))
    # another bit generator: numpy's own call
    ours, ref = (np.random.Generator(np.random.Philox(3)) for _ in range(2))
    out = np.empty(shape)
    random_into(ours, out)
    assert np.array_equal(out, ref.random(shape))


# -- the counts ---------------------------------------------------------------------------
@pytest.mark.parametrize("sampling", SAMPLERS)
@pytest.mark.parametrize("rate_hz, n_sources", [(500.0, 1), (250.0, 4), (20000.0, 1)])
def test_counts_are_poisson_with_mean_and_variance_lam(rate_hz, n_sources, sampling):
    stim = PoissonInput(rate_hz=rate_hz, weight_mV=1.0, n_sources=n_sources,
                        sampling=sampling)
    lam = n_sources * rate_hz * DT / 1000.0  # 0.05, 0.1, 2.0
    c = _kicks(stim, 500, 2000, 262).ravel()
    N = c.size
    assert np.all(c == np.round(c))  # whole numbers of 1 mV kicks
    assert abs(c.mean() - lam) < 5 * math.sqrt(lam / N)
    # Var(sample variance) = (mu4 - sigma^4) / N = (lam + 2 lam^2) / N for a Poisson count
    assert abs(c.var() - lam) < 5 * math.sqrt((lam + 2 * lam**2) / N)
    # the whole distribution: P(N = k) for the first counts (binomial standard errors)
    for k in range(4):
        p = stats.poisson.pmf(k, lam)
        if N * p > 100:
            assert abs(np.mean(c == k) - p) < 5 * math.sqrt(p * (1 - p) / N), k


@pytest.mark.parametrize("sampling", SAMPLERS)
def test_counts_are_independent_across_steps_and_targets(sampling):
    lam = 0.5
    stim = PoissonInput(rate_hz=5000.0, weight_mV=1.0, sampling=sampling)
    c = _kicks(stim, 200, 5000, 300)
    # Pearson correlation of independent pairs: standard error 1/sqrt(pairs)
    for a, b in ((c[:-1], c[1:]), (c[:-2], c[2:]), (c[:, :-1], c[:, 1:])):
        r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
        assert abs(r) < 5 / math.sqrt(a.size), r
    # the counts of a step given the previous one was busy: still Poisson(lam)
    busy = c[:-1] >= 2
    assert abs(c[1:][busy].mean() - lam) < 5 * math.sqrt(lam / busy.sum())


@pytest.mark.parametrize("sampling", SAMPLERS)
def test_chunking_does_not_change_the_kicks(sampling):
    stim = PoissonInput(rate_hz=800.0, weight_mV=0.5, sampling=sampling, onset_ms=3.05,
                        duration_ms=40.0)
    ref = _kicks(stim, 37, 600, 600)
    for chunk in (1, 7, 64, 250):
        assert np.array_equal(_kicks(stim, 37, 600, chunk), ref), chunk
    # and the engine's blocks: a network run with small and large chunks
    def spikes(chunk_elements):
        old = _single.CHUNK_ELEMENTS
        _single.CHUNK_ELEMENTS = chunk_elements
        try:
            ds = LIFNeuron(n=40).simulate(200.0, PoissonInput(rate_hz=3000.0, weight_mV=1.5,
                                                              sampling=sampling),
                                          seed=4, verbose=False, record=())
        finally:
            _single.CHUNK_ELEMENTS = old
        return ds.spike_time.values, ds.spike_neuron.values
    a, b = spikes(1 << 20), spikes(40 * 3)
    assert a[0].size > 100
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


@pytest.mark.parametrize("sampling", SAMPLERS)
def test_window_and_targets(sampling):
    stim = PoissonInput(rate_hz=2000.0, weight_mV=1.0, sampling=sampling, onset_ms=10.0,
                        duration_ms=50.0, targets=[1, 4, 5])
    c = _kicks(stim, 8, 1000, 128)
    t = np.arange(1000) * DT
    on = (t >= 10.0 - 1e-9) & (t < 60.0 - 1e-9)
    assert np.all(c[~on] == 0)
    assert np.all(c[:, [0, 2, 3, 6, 7]] == 0)
    inside = c[on][:, [1, 4, 5]]
    lam = 0.2
    assert inside.shape == (500, 3)
    assert abs(inside.mean() - lam) < 5 * math.sqrt(lam / inside.size)
    # a boolean mask selects the same targets and the same kicks
    mask = np.zeros(8, bool)
    mask[[1, 4, 5]] = True
    assert np.array_equal(_kicks(dataclasses.replace(stim, targets=mask), 8, 1000, 128), c)
    # the process restarts at the window's start: the window's first step is not special
    first = _kicks(dataclasses.replace(stim, targets=None), 2000, 200, 200)[100]
    assert abs(first.mean() - lam) < 5 * math.sqrt(lam / first.size)


@pytest.mark.parametrize("sampling", SAMPLERS)
def test_values_gives_the_same_kicks_as_the_engine_path(sampling):
    stim = PoissonInput(rate_hz=1000.0, weight_mV=2.0, sampling=sampling, targets=[0, 2])
    rt = stim.bind(3, DT, np.random.default_rng(9))
    v = stim.values(rt, np.arange(300) * DT)
    assert v.shape == (300, 2)
    assert np.array_equal(_kicks(stim, 3, 300, 300, seed=9)[:, [0, 2]], v)


@pytest.mark.parametrize("sampling", SAMPLERS)
def test_sampling_is_checked_and_seeded(sampling):
    with pytest.raises(ValueError,
                       match=r"sampling must be one of \['per_step', 'gaps', 'pooled'\]"):
        PoissonInput(sampling="exact")
    stim = PoissonInput(rate_hz=500.0, sampling=sampling)
    assert np.array_equal(_kicks(stim, 10, 400, 50, seed=1), _kicks(stim, 10, 400, 50, seed=1))
    assert not np.array_equal(_kicks(stim, 10, 400, 50, seed=1),
                              _kicks(stim, 10, 400, 50, seed=2))
    # zero rate: no kicks, no error
    assert not _kicks(PoissonInput(rate_hz=0.0, sampling=sampling), 4, 50, 10).any()


def test_per_step_sampling_is_unchanged_by_the_option():
    # the default draws the same uniforms as before: one per target and active step,
    # inverted through the Poisson table (the reference: numpy's uniforms, inverted here)
    stim = PoissonInput(rate_hz=500.0, weight_mV=1.0, onset_ms=1.0, targets=[0, 3])
    got = _kicks(stim, 4, 200, 64, seed=5)
    rng = np.random.default_rng(5)
    cdf = stats.poisson.cdf(np.arange(20), 0.05)
    ref = np.zeros((200, 4))
    for k in range(10, 200):  # steps from 1.0 ms on
        u = rng.random(2)
        ref[k, [0, 3]] = np.searchsorted(cdf, u, side="right")
    assert np.array_equal(got, ref)
    assert PoissonInput().sampling == "per_step"


# -- specs, configs and the benchmark network ---------------------------------------------
def test_sampling_survives_json_spec_and_config_round_trips():
    spec = {"populations": {"E": {"model": "LIF", "n": 5}},
            "stimuli": {"E": [{"type": "PoissonInput", "rate_hz": 900.0, "weight_mV": 1.0,
                               "sampling": "gaps"}]}}
    net = build_network(spec)
    assert net.stimuli["E"][0].sampling == "gaps"
    bad = {**spec, "stimuli": {"E": [{"type": "PoissonInput", "sampling": "fast"}]}}
    with pytest.raises(SpecError, match="sampling"):
        build_network(bad)
    wrong = {**spec, "stimuli": {"E": [{"type": "PoissonInput", "rate_hz": "fast"}]}}
    with pytest.raises(SpecError, match="rate_hz"):
        build_network(wrong)
    back = load_model_json(export_model_json(net))
    assert back.stimuli["E"][0] == net.stimuli["E"][0]
    a = net.simulate(50.0, seed=2, verbose=False, record=())
    b = back.simulate(50.0, seed=2, verbose=False, record=())
    assert np.array_equal(a.spike_time.values, b.spike_time.values)


def test_izhikevich_network_drive_is_pooled_and_keeps_its_rates():
    net = izhikevich_network(400, seed=1)
    assert {s.sampling for stims in net.stimuli.values() for s in stims} == {"pooled"}
    old = izhikevich_network(400, seed=1, drive_sampling="gaps")
    assert {s.sampling for stims in old.stimuli.values() for s in stims} == {"gaps"}
    # the drive alone (no recurrence) through the three samplers: the same process, so
    # the same rates within their sampling error (Poisson spike counts: sd sqrt(count))
    counts = []
    for smp in ("per_step", "gaps", "pooled"):
        ds = izhikevich_network(400, seed=1, weight_scale=0.0, drive_sampling=smp).simulate(
            1000.0, seed=3, verbose=False, record=())
        counts.append(ds.sizes["spike"])
    assert counts[0] > 1000
    for c in counts[1:]:
        assert abs(counts[0] - c) < 5 * math.sqrt(counts[0] + c)


# -- the pooled sampler's own parts ---------------------------------------------------------
@pytest.mark.parametrize("mean", [1e-9, 0.05, 2.0, 200.0, 5e4, POOLED_MAX_EVENTS_PER_STEP])
def test_pooled_table_is_scipys_poisson_cdf(mean):
    lo, cdf = _pooled_table(mean)
    k = lo + np.arange(cdf.size)
    # scipy's regularised incomplete gamma; our table: ratios of neighbours from the
    # mode, normalised (rounding ~ eps per term summed: < 1e-14 up to 1e6, checked
    # against mpmath at 40 digits; scipy's own error reaches 4e-11 at a mean of 1e6, near
    # P = 1 - 3e-6, hence the tolerance there)
    tol = 1e-14 if mean < 1e5 else 1e-10
    assert np.max(np.abs(cdf - stats.poisson.cdf(k, mean))) < tol
    # the window holds all but a negligible mass (a uniform resolves 1e-16) on both sides
    assert stats.poisson.cdf(lo - 1, mean) < 1e-20 if lo > 0 else True
    assert stats.poisson.sf(k[-1], mean) < 1e-20


def _pooled_reference(stim, n, n_steps, seed):
    """The pooled sampler restated in plain Python for targets ``0 .. n - 1`` (every step
    active): the key from the stimulus' generator as the runtime takes it, Philox
    (checked against numpy above) of counter (step, block, 1, 0), the count by inversion
    of scipy's Poisson CDF, targets by Lemire's rejection in Python integers."""
    rng = np.random.default_rng(seed)
    key = rng.bit_generator.random_raw(2).astype(np.uint64)
    lam = stim.n_sources * stim.rate_hz * DT / 1000.0
    cdf = stats.poisson.cdf(np.arange(200), n * lam)
    out = np.zeros((n_steps, n))
    for tau in range(n_steps):
        words = []
        block = 0

        def more(tau=tau):
            nonlocal block
            x = philox4x64(np.uint64(tau), np.uint64(block), np.uint64(1), np.uint64(0),
                           key[0], key[1])
            block += 1
            return [int(v) for v in x]
        words = more()
        count = int(np.searchsorted(cdf, (words.pop(0) >> 11) / 2.0**53, side="right"))
        while count:
            if not words:
                words = more()
            prod = words.pop(0) * n
            if prod % 2**64 < (2**64 - n) % n:
                continue
            out[tau, prod >> 64] += stim.weight_mV
            count -= 1
    return out


@pytest.mark.parametrize("n", [1, 3, 7, 64])
def test_pooled_kicks_equal_the_algorithm_restated(n):
    stim = PoissonInput(rate_hz=3000.0, weight_mV=0.5, sampling="pooled")
    got = _kicks(stim, n, 400, 37, seed=11)
    assert got.sum() > 0
    assert np.array_equal(got, _pooled_reference(stim, n, 400, seed=11))


def test_pooled_targets_are_uniform_and_step_totals_poisson():
    # 7 targets (not a power of two: the bounded integers' rejection matters)
    stim = PoissonInput(rate_hz=20000.0, weight_mV=1.0, sampling="pooled")
    m, lam = 7, 2.0
    c = _kicks(stim, m, 20000, 1000)
    per_target = c.sum(axis=0)
    assert stats.chisquare(per_target).pvalue > 1e-6
    total = c.sum(axis=1)  # Poisson(m lam) per step
    assert abs(total.mean() - m * lam) < 5 * math.sqrt(m * lam / total.size)
    assert abs(total.var() - m * lam) < 5 * math.sqrt((m * lam + 2 * (m * lam)**2) / total.size)


def test_pooled_refuses_a_dense_drive():
    stim = PoissonInput(rate_hz=1e5, n_sources=1000, sampling="pooled")  # 1e4 per target
    with pytest.raises(ValueError, match="per_step"):
        stim.bind(200, DT, np.random.default_rng(0))  # 2e6 events per step


@pytest.mark.parametrize("sampling", SAMPLERS)
def test_lif_under_sampled_kicks_has_the_shot_noise_mean(sampling):
    # Campbell's theorem: kicks of w at rate r on a membrane of time constant tau_m raise
    # the mean V by r w tau_m (5 mV here; the threshold, 20 mV up, ~9 sd away, is not
    # reached). Sampling error: sd sqrt(r w^2 tau_m / 2) = 1.6 mV per neuron, correlation
    # time tau_m: 300 ms x 50 neurons give ~1500 samples, SE 0.04 mV; tolerance 0.25 mV
    # (6 SE, and the one-step discretisation, 0.5 %)
    net = Network("g", seed=1)
    net.add_population("a", LIFNeuron(n=50))
    net.add_stimulus("a", PoissonInput(rate_hz=500.0, weight_mV=1.0, sampling=sampling))
    ds = net.simulate(350.0, seed=1, verbose=False, record=("V",))
    p = net.populations["a"].params
    late = ds.V.values[ds.time.values > 5 * p.tau_m]
    assert ds.sizes["spike"] == 0
    assert abs((late.mean() - p.V_rest) - 500.0e-3 * 1.0 * p.tau_m) < 0.25
