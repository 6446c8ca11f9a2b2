"""Spike-source populations (neurosim_nb.core.neurons.sources) in networks.

References: the Bernoulli-per-step process's binomial count and geometric inter-spike
intervals (CV = sqrt(1 - p)); given spike times themselves; the STDP window's closed form
(Song, Miller & Abbott 2000) for one known pairing; the LIF's closed-form decay after a
delta-synapse jump; xarray's NetCDF round trip (identical)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr

from neurosim_nb import LIFNeuron, LIFParameters, Network, STDPSynapse, validate_dataset
from neurosim_nb.core.networks.spec import SpecError, build_network
from neurosim_nb.core.neurons.sources import (
    InhomogeneousPoissonSource,
    PoissonSource,
    RepeatedPatternSource,
    SpikeTimesSource,
    source_from_dict,
)

DT = 0.1


def _run(src, duration, seed=0, dt=DT, **kw):
    net = Network("t", seed=seed)
    net.add_population("src", src)
    return net, net.simulate(duration, dt=dt, record=(), verbose=False, **kw)


def _trains(ds, n):
    t, i = ds.spike_time.values, ds.spike_neuron.values
    return [t[i == k] for k in range(n)]


# -- Poisson ---------------------------------------------------------------------------------
def test_poisson_rate_and_cv_within_their_confidence_intervals():
    n, rate, T = 200, 20.0, 5000.0
    _, ds = _run(PoissonSource(n, rate_hz=rate), T, seed=4)
    p = rate * DT * 1e-3
    n_steps = round(T / DT)
    # the total count is Binomial(n * n_steps, p): within 4 standard deviations
    mean, sd = n * n_steps * p, math.sqrt(n * n_steps * p * (1 - p))
    assert abs(ds.spike_time.size - mean) < 4 * sd
    # pooled ISIs are geometric (in steps): CV = sqrt(1 - p). The sample CV of m i.i.d.
    # near-exponential intervals has a standard error ~ 1/sqrt(m) (delta method, CV ~ 1)
    isi = np.concatenate([np.diff(t) for t in _trains(ds, n)])
    cv = isi.std() / isi.mean()
    assert abs(cv - math.sqrt(1 - p)) < 4 / math.sqrt(isi.size)
    # and the mean ISI is dt / p within 4 standard errors (sd of a geometric: sqrt(1-p)/p)
    se = DT * math.sqrt(1 - p) / p / math.sqrt(isi.size)
    assert abs(isi.mean() - DT / p) < 4 * se


def test_poisson_per_neuron_rates():
    rates = np.array([0.0, 10.0, 40.0])
    _, ds = _run(PoissonSource(3, rate_hz=rates), 20000.0, seed=1)
    counts = np.array([t.size for t in _trains(ds, 3)])
    p = rates * DT * 1e-3
    n_steps = 200000
    assert counts[0] == 0
    sd = np.sqrt(n_steps * p * (1 - p))
    assert np.all(np.abs(counts[1:] - n_steps * p[1:]) < 4 * sd[1:])


def test_poisson_seeded_by_the_network_per_population_and_run():
    a = _run(PoissonSource(20, rate_hz=50.0), 200.0, seed=7)[1]
    b = _run(PoissonSource(20, rate_hz=50.0), 200.0, seed=7)[1]
    c = _run(PoissonSource(20, rate_hz=50.0), 200.0, seed=8)[1]
    assert np.array_equal(a.spike_time, b.spike_time)
    assert np.array_equal(a.spike_neuron, b.spike_neuron)
    assert not np.array_equal(a.spike_neuron, c.spike_neuron)
    # the run's stimulus seed does not move them; a source's own seed does
    net = Network("t", seed=7)
    net.add_population("src", PoissonSource(20, rate_hz=50.0))
    e = net.simulate(200.0, dt=DT, record=(), seed=123, verbose=False)
    assert np.array_equal(a.spike_neuron, e.spike_neuron)
    f = _run(PoissonSource(20, rate_hz=50.0, seed=99), 200.0, seed=7)[1]
    assert not np.array_equal(a.spike_neuron, f.spike_neuron)
    # two populations of one network get different trains; a continuation draws new ones
    net = Network("t", seed=7)
    net.add_population("x", PoissonSource(20, rate_hz=50.0))
    net.add_population("y", PoissonSource(20, rate_hz=50.0))
    ds1 = net.simulate(200.0, dt=DT, record=(), verbose=False)
    ds2 = net.simulate(200.0, dt=DT, record=(), verbose=False)
    t, i = ds1.spike_time.values, ds1.spike_neuron.values
    assert not np.array_equal(t[i < 20], t[i >= 20])
    assert not np.array_equal(ds1.spike_time.values, ds2.spike_time.values)


def test_poisson_bad_input():
    with pytest.raises(ValueError, match="rate_hz"):
        PoissonSource(3, rate_hz=[1.0, 2.0])
    with pytest.raises(ValueError, match="rate_hz"):
        PoissonSource(3, rate_hz=-1.0)
    with pytest.raises(ValueError, match="rate_hz"):
        PoissonSource(3, rate_hz=float("nan"))
    with pytest.raises(ValueError, match="n"):
        PoissonSource(0)
    with pytest.raises(ValueError, match="at most one spike per step"):
        _run(PoissonSource(3, rate_hz=20000.0), 10.0)


# -- inhomogeneous Poisson ------------------------------------------------------------------
def test_inhomogeneous_poisson_counts_per_rate_segment():
    n = 100
    src = InhomogeneousPoissonSource(n, [0.0, 500.0, 1000.0], [0.0, 80.0, 20.0])
    _, ds = _run(src, 2000.0, seed=3)
    t = ds.spike_time.values
    # a spike of step k is stamped (k + 1) dt and uses the rate at k dt
    assert np.sum(t <= 500.0) == 0
    for lo, hi, rate in ((500.0, 1000.0, 80.0), (1000.0, 2000.0, 20.0)):
        m = n * round((hi - lo) / DT)
        p = rate * DT * 1e-3
        count = np.sum((t > lo) & (t <= hi))
        assert abs(count - m * p) < 4 * math.sqrt(m * p * (1 - p)), (lo, count, m * p)
    # per-neuron rate rows: neuron 1 silent
    src = InhomogeneousPoissonSource(2, [0.0], [[50.0, 0.0]])
    _, ds = _run(src, 500.0)
    assert ds.spike_time.size > 0 and not np.any(ds.spike_neuron.values == 1)


def test_inhomogeneous_poisson_bad_input():
    with pytest.raises(ValueError, match="strictly increasing"):
        InhomogeneousPoissonSource(2, [0.0, 0.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="shape"):
        InhomogeneousPoissonSource(2, [0.0, 1.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=">= 0 Hz"):
        InhomogeneousPoissonSource(2, [0.0], [-1.0])


# -- given times ------------------------------------------------------------------------------
def test_given_spike_times_are_emitted_exactly():
    times = [[0.4, 2.0, 7.3], [], [5.0, 1.1]]
    net, ds = _run(SpikeTimesSource(times), 6.0, seed=0, dt=0.1)
    got = sorted(zip(ds.spike_time.values.round(9), ds.spike_neuron.values, strict=True))
    assert got == [(0.4, 0), (1.1, 2), (2.0, 0), (5.0, 2)]
    # the spike after the run's end comes in the continuation (time relative to its start)
    ds2 = net.simulate(4.0, dt=0.1, record=(), verbose=False)
    assert ds2.spike_time.values.round(9).tolist() == [1.3]
    assert ds2.spike_neuron.values.tolist() == [0]
    # an off-grid time is emitted in the step that ends nearest to it
    _, ds = _run(SpikeTimesSource([[0.26]]), 1.0, dt=0.1)
    assert ds.spike_time.values.round(9).tolist() == [0.3]
    # two spikes of one neuron in one step: an error naming dt
    with pytest.raises(ValueError, match="two spikes in one step"):
        _run(SpikeTimesSource([[1.0, 1.01]]), 2.0, dt=0.1)


def test_given_spike_times_validation():
    with pytest.raises(ValueError, match="finite"):
        SpikeTimesSource([[1.0, float("inf")]])
    with pytest.raises(ValueError, match="> 0 ms"):
        SpikeTimesSource([[0.0]])
    with pytest.raises(TypeError, match="one sequence of times"):
        SpikeTimesSource(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="at least one neuron"):
        SpikeTimesSource([])


def test_source_drives_a_lif_neuron_as_the_closed_form_says():
    """A given spike through a delta synapse (2 mV, delay 1 ms) jumps the LIF's V at
    t_spike + delay, after which V decays to rest with tau_m (exact integration)."""
    par = LIFParameters(tau_m=10.0, V_rest=-70.0, V_threshold=-50.0, V_reset=-70.0)
    net = Network("t", seed=0)
    net.add_population("src", SpikeTimesSource([[2.0]]))
    net.add_population("lif", LIFNeuron(par, n=1))
    net.connect("src", "lif", "all_to_all", weight=2.0, delay_ms=1.0, receptor="delta")
    ds = net.simulate(20.0, dt=DT, record=("V",), verbose=False)
    v = ds.V.sel(neuron=1).values
    t = ds.time.values
    assert np.isnan(ds.V.sel(neuron=0).values).all()          # a source has no V
    assert ds.population.values.tolist() == ["src", "lif"]
    expect = np.where(t < 3.0 + 0.5 * DT, -70.0, -70.0 + 2.0 * np.exp(-(t - 3.0) / 10.0))
    np.testing.assert_allclose(v, expect, rtol=0, atol=1e-9)


# -- repeated pattern -------------------------------------------------------------------------
def test_repeated_pattern_exact_and_jittered():
    pattern = [[1.0, 3.5], [2.0]]
    _, ds = _run(RepeatedPatternSource(pattern, period_ms=10.0, start_ms=5.0), 40.0)
    expect = sorted([(5.0 + 10.0 * r + t, i) for r in range(4) for i, pat in
                     enumerate(pattern) for t in pat if 5.0 + 10.0 * r + t <= 40.0])
    got = sorted(zip(ds.spike_time.values.round(9), ds.spike_neuron.values, strict=True))
    assert got == expect
    # jitter: every spike within a few sd of its pattern time, mean offset 0 and sd the
    # jitter within their 4-standard-error bands (n spikes, sd 0.5 ms, grid rounding 0.1 ms)
    n_rep, jitter = 400, 0.5
    src = RepeatedPatternSource([[5.0]], period_ms=10.0, jitter_ms=jitter, seed=2)
    _, ds = _run(src, 10.0 * n_rep)
    t = ds.spike_time.values
    offset = t - (np.round((t - 5.0) / 10.0) * 10.0 + 5.0)
    assert t.size == n_rep
    assert abs(offset.mean()) < 4 * jitter / math.sqrt(n_rep)
    sd_expect = math.sqrt(jitter ** 2 + DT ** 2 / 12)   # plus the grid's rounding
    assert abs(offset.std() - sd_expect) < 4 * sd_expect / math.sqrt(2 * n_rep)
    with pytest.raises(ValueError, match="period_ms"):
        RepeatedPatternSource([[11.0]], period_ms=10.0)
    with pytest.raises(ValueError, match="jitter_ms"):
        RepeatedPatternSource([[1.0]], period_ms=10.0, jitter_ms=-1.0)


# -- plasticity ---------------------------------------------------------------------------------
@pytest.mark.parametrize("t_pre, t_post", [(10.0, 15.0), (20.0, 12.0)])
def test_stdp_from_a_source_follows_the_window(t_pre, t_post):
    """One pre spike (a source) and one post spike (another source: it ignores its input)
    change the weight by A+ exp(-dt/tau+) (pre first) or -A- exp(dt/tau-) (post first)."""
    net = Network("t", seed=0)
    net.add_population("pre", SpikeTimesSource([[t_pre]]))
    net.add_population("post", SpikeTimesSource([[t_post]]))
    syn = STDPSynapse.create_hebbian("pre", "post", weight=0.005, w_max=0.01, A_plus=1e-3,
                                     A_minus=1.2e-3, tau_plus=16.8, tau_minus=33.7)
    proj = net.add(syn)
    net.simulate(40.0, dt=DT, record=(), verbose=False)
    d = t_post - t_pre
    dw = 1e-3 * math.exp(-d / 16.8) if d >= 0 else -1.2e-3 * math.exp(d / 33.7)
    np.testing.assert_allclose(proj.weight, 0.005 + dw, rtol=0, atol=1e-15)


# -- round trips --------------------------------------------------------------------------------
def test_netcdf_round_trip_of_a_network_with_sources(tmp_path):
    net = Network("t", seed=5)
    net.add_population("src", PoissonSource(30, rate_hz=100.0))
    net.add_population("pat", RepeatedPatternSource([[1.0], [2.0]], period_ms=5.0))
    net.add_population("lif", LIFNeuron(n=5))
    net.connect("src", "lif", "fixed_probability", p=0.5, weight=1.0, receptor="delta")
    ds = net.simulate(100.0, dt=DT, record=("V",), verbose=False)
    validate_dataset(ds)
    assert set(ds.population.values) == {"src", "pat", "lif"}
    params = json.loads(ds.attrs["params_json"])["populations"]
    assert params[0]["model"] == "PoissonSource" and params[0]["params"]["rate_hz"] == 100.0
    ds.to_netcdf(tmp_path / "src.nc")
    with xr.open_dataset(tmp_path / "src.nc") as back:
        xr.testing.assert_identical(back.load(), ds)


def test_json_spec_round_trip_gives_the_same_spikes():
    spec = {"name": "s", "seed": 11,
            "populations": {
                "poi": {"model": "PoissonSource", "n": 10, "params": {"rate_hz": 40.0}},
                "inh": {"model": "InhomogeneousPoissonSource", "n": 5,
                        "params": {"times_ms": [0.0, 50.0], "rates_hz": [10.0, 60.0]}},
                "giv": {"model": "SpikeTimesSource", "n": 2,
                        "params": {"spike_times": [[1.0, 2.0], [3.0]]}},
                "pat": {"model": "RepeatedPatternSource", "n": 1,
                        "params": {"pattern": [[2.0]], "period_ms": 7.0, "jitter_ms": 0.3}},
                "lif": {"model": "LIF", "n": 4}},
            "projections": [{"pre": "poi", "post": "lif", "rule": "all_to_all",
                             "weight": 0.5, "receptor": "delta"}]}
    a = build_network(spec).simulate(100.0, record=(), verbose=False)
    b = build_network(json.loads(json.dumps(spec))).simulate(100.0, record=(), verbose=False)
    assert a.spike_time.size > 20
    assert np.array_equal(a.spike_time, b.spike_time)
    assert np.array_equal(a.spike_neuron, b.spike_neuron)
    # each population's dict round-trips
    net = build_network(spec)
    for name in ("poi", "inh", "giv", "pat"):
        d = net.population(name).to_dict()
        assert source_from_dict(json.loads(json.dumps(d))).to_dict() == d
    with pytest.raises(SpecError, match=r"populations\.giv\.params"):
        build_network({"populations": {"giv": {"model": "SpikeTimesSource", "n": 3, "params":
                                               {"spike_times": [[1.0]]}}}})
    with pytest.raises(SpecError, match=r"populations\.p\.preset"):
        build_network({"populations": {"p": {"model": "PoissonSource", "n": 3,
                                             "preset": "x"}}})


def test_model_json_round_trip_of_a_network_with_sources():
    from neurosim_nb.export.config import export_model_json, load_model_json

    net = Network("m", seed=3)
    net.add_population("poi", PoissonSource(6, rate_hz=[5.0, 10.0, 20.0, 40.0, 80.0, 0.0]))
    net.add_population("pat", RepeatedPatternSource([[1.0, 2.0]], period_ms=4.0,
                                                    jitter_ms=0.2, seed=4))
    net.add_population("lif", LIFNeuron(n=3))
    net.connect("poi", "lif", "all_to_all", weight=3.0, receptor="delta")
    cfg = json.loads(json.dumps(export_model_json(net)))
    assert cfg["model"]["populations"]["poi"]["family"] == "spike_source"
    back = load_model_json(cfg)
    a = net.simulate(200.0, record=("V",), verbose=False)
    b = back.simulate(200.0, record=("V",), verbose=False)
    assert a.spike_time.size > 10
    np.testing.assert_array_equal(a.spike_time, b.spike_time)
    np.testing.assert_array_equal(a.spike_neuron, b.spike_neuron)
    np.testing.assert_array_equal(a.V, b.V)
    assert type(back.population("pat")).__name__ == "RepeatedPatternSource"


def test_a_source_alone_records_no_v_and_refuses_gap_junctions():
    net = Network("g", seed=0)
    net.add_population("src", PoissonSource(3, rate_hz=100.0))
    ds = net.simulate(50.0, verbose=False)                    # default record=("V",)
    assert "V" not in ds and ds.spike_time.size > 0
    with pytest.raises(ValueError, match="cannot record 'V'"):
        PoissonSource(2, rate_hz=5.0).simulate(10.0, record=("V",), verbose=False)
    with pytest.raises(ValueError, match="takes no input_current"):
        PoissonSource(2, rate_hz=5.0).simulate(10.0, 1.0, verbose=False)
    net.add_population("lif", LIFNeuron(n=3))
    net.add_gap_junctions("src", "lif", [0], [0], 0.01)
    with pytest.raises(ValueError, match="has no membrane potential"):
        net.simulate(10.0, verbose=False)


# -- the step-ordered schedule the kernel walks -----------------------------------------------
@pytest.mark.parametrize("n_steps", [50, 100000])  # counting sort / argsort (long, sparse run)
def test_step_schedule_lists_each_steps_neurons_in_order(n_steps):
    from neurosim_nb.core.neurons.sources import _step_schedule

    rng = np.random.default_rng(3)
    per_neuron = [np.sort(rng.choice(50, size=k, replace=False)) for k in (0, 7, 50, 1, 12)]
    indptr = np.concatenate([[0], np.cumsum([s.size for s in per_neuron])])
    col = _step_schedule(indptr, np.concatenate(per_neuron), n_steps)
    u, m = int(col[0]), int(col[1])
    ids, steps, offsets = col[2:2 + m], col[2 + m:2 + m + u], col[2 + m + u:]
    assert col.size == 3 + m + 2 * u
    # reference: for every step, the neurons whose train contains it (a double loop)
    expected = {s: [i for i, t in enumerate(per_neuron) if s in t] for s in range(50)}
    expected = {s: v for s, v in expected.items() if v}
    assert steps.tolist() == sorted(expected)
    assert {int(s): ids[int(offsets[j]):int(offsets[j + 1])].tolist()
            for j, s in enumerate(steps)} == expected
    assert offsets[-1] == ids.size == indptr[-1]


def test_source_emits_its_schedule_and_counts_it_in_schedule_index():
    # the kernel's spikes are the per-neuron schedule (scheduled_steps), step by step, and
    # each neuron's schedule_index ends at the end of its entries of that schedule
    src = PoissonSource(30, rate_hz=np.linspace(0.0, 800.0, 30))
    net, ds = _run(src, 50.0, seed=5)
    sched = src.scheduled_steps()
    for k, t in enumerate(_trains(ds, 30)):
        assert np.allclose(t, (sched[k] + 1) * DT)
    ds = net.simulate(20.0, dt=DT, verbose=False, record=("schedule_index",))
    sched = src.scheduled_steps()
    end = np.cumsum([s.size for s in sched])
    assert ds.schedule_index.values[-1].tolist() == end.tolist()


def _geometric_loop(rng, p, n_steps, sd, extra):
    """The neuron-by-neuron draw the bulk draw must reproduce (as it was written before)."""
    out = []
    for pi in p:
        if pi <= 0.0:
            out.append(np.zeros(0, np.int64))
            continue
        mean = n_steps * pi
        m = int(mean + sd * math.sqrt(mean) + extra)
        steps = np.cumsum(rng.geometric(pi, m)) - 1
        while steps[-1] < n_steps:
            more = np.cumsum(rng.geometric(pi, m)) + steps[-1]
            steps = np.concatenate([steps, more])
        out.append(steps[steps < n_steps].astype(np.int64))
    return out


@pytest.mark.parametrize("sd, extra, bulk", [(6.0, 16, 1 << 20), (0.0, 0, 1 << 20),
                                             (-1.0, 1, 50)])
def test_bulk_geometric_draw_is_the_neuron_by_neuron_stream(monkeypatch, sd, extra, bulk):
    # margins that make many neurons fall short (sd <= 0) exercise the put-back path; a
    # small bulk size, the split of a group; the rates: groups, zeros, p > 1/3 (numpy's
    # search method), p = 1
    from neurosim_nb.core.neurons import sources

    monkeypatch.setattr(sources, "GEOMETRIC_MARGIN_SD", sd)
    monkeypatch.setattr(sources, "GEOMETRIC_MARGIN_MIN", extra)
    monkeypatch.setattr(sources, "GEOMETRIC_BULK", bulk)
    p = np.array([0.05] * 7 + [0.0, 0.0] + [0.02] * 5 + [0.5] * 3 + [1.0, 1.0, 0.05, 0.3])
    for seed in range(3):
        ref = _geometric_loop(np.random.default_rng(seed), p, 400, sd, extra)
        rng = np.random.default_rng(seed)
        indptr, flat = sources._geometric_schedule(rng, p, 400)
        got = [flat[indptr[i]:indptr[i + 1]].tolist() for i in range(p.size)]
        assert got == [r.tolist() for r in ref]
        # and the generator is left where the loop leaves it
        rng_ref = np.random.default_rng(seed)
        _geometric_loop(rng_ref, p, 400, sd, extra)
        assert rng.random() == rng_ref.random()


def test_two_spikes_of_a_neuron_in_one_step_are_refused_with_its_time():
    # 1.0 and 1.04 ms both fall in the step ending at 1.0 ms; a later train starting
    # earlier than the previous one ends is fine (the check looks within trains only)
    src = SpikeTimesSource([[], [5.0], [0.5], [1.0, 1.04], [0.2]])
    with pytest.raises(ValueError, match=r"neuron 3 has two spikes in one step .*at 1 ms"):
        _run(src, 5.0)
    _, ds = _run(SpikeTimesSource([[], [5.0], [0.5], [1.0, 1.2], [0.2]]), 5.0)
    assert np.allclose(ds.spike_time.values, [0.2, 0.5, 1.0, 1.2, 5.0])
