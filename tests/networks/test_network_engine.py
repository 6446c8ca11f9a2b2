"""Network engine mechanics on small networks: delays, CSR delivery, min-delay chunking,
determinism, NetCDF round trip, schema, input errors and mixed neuron families.

Exact comparisons (``==``, ``assert_identical``) are used wherever the engine performs the
same floating-point operations in the same order; a tolerance is stated where it does not.
"""

import time

import numpy as np
import pytest
import xarray as xr

import neurosim_nb.engine.simulator as single_sim
from neurosim_nb import (
    AdExNeuron,
    IzhikevichNeuron,
    LIFNeuron,
    LIFParameters,
    Network,
    validate_dataset,
)
from neurosim_nb.core.networks.benchmarks_models import brunel_network
from neurosim_nb.stimuli import PoissonInput

DT = 0.1
#: a quiet LIF: rest far below threshold, so a neuron spikes only when pushed there
QUIET = LIFParameters(tau_m=20.0, V_rest=-70.0, V_threshold=-50.0, V_reset=-70.0,
                      t_refractory=2.0, R_m=100.0)


def one_shot_network(n_pre: int, n_post: int, fire=(0,)) -> Network:
    """``pre`` neurons listed in ``fire`` start above threshold, so they spike exactly once,
    in the first step (stamped at t = dt); nothing else ever drives them."""
    net = Network("one_shot", seed=0)
    pre = net.add_population("pre", LIFNeuron(QUIET, n=n_pre))
    net.add_population("post", LIFNeuron(QUIET, n=n_post))
    v = np.full(n_pre, QUIET.V_rest)
    v[list(fire)] = QUIET.V_threshold + 5.0
    pre.V = v
    return net


# -- delays ---------------------------------------------------------------------------------
@pytest.mark.parametrize("receptor, weight", [("exp_exc", 0.01), ("current", 0.2),
                                              ("delta", 2.0)])
def test_delay_shifts_the_response_by_exactly_the_delay(receptor, weight):
    net = one_shot_network(1, 2)
    net.add_projection("pre", "post", [0], [0], weight, 1.0, receptor)
    net.add_projection("pre", "post", [0], [1], weight, 2.5, receptor)
    ds = net.simulate(30.0, dt=DT, record=("V",), seed=0)
    assert ds.spike_time.values.tolist() == [pytest.approx(DT)]  # one presynaptic spike
    v_fast = ds.V.sel(neuron=1).values   # post 0: delay 1.0 ms (10 steps)
    v_slow = ds.V.sel(neuron=2).values   # post 1: delay 2.5 ms (25 steps)
    # same weight, same start state: the traces are bitwise the same, 15 steps apart
    np.testing.assert_array_equal(v_slow[15:], v_fast[:-15])
    # the spike acts from t_spike + delay on: it enters the step starting then, so the first
    # sample off rest is that step's end, t_spike + delay + dt (samples are end-of-step)
    t = ds.time.values
    t_spike = float(ds.spike_time[0])
    for v, delay in ((v_fast, 1.0), (v_slow, 2.5)):
        first = np.flatnonzero(v != QUIET.V_rest)[0]
        assert t[first] == pytest.approx(t_spike + delay + DT, abs=1e-9)
        np.testing.assert_array_equal(v[:first], QUIET.V_rest)
    assert v_fast.max() > QUIET.V_rest + 0.1  # an actual response, not rounding noise


def test_delay_shorter_than_a_step_is_one_step():
    net = one_shot_network(1, 2)
    net.add_projection("pre", "post", [0], [0], 1.0, 0.0, "delta")
    net.add_projection("pre", "post", [0], [1], 1.0, DT, "delta")
    ds = net.simulate(5.0, dt=DT, record=("V",), seed=0)
    np.testing.assert_array_equal(ds.V.sel(neuron=1).values, ds.V.sel(neuron=2).values)
    assert ds.V.sel(neuron=1).values[1] == QUIET.V_rest     # acts one step after the stamp
    assert ds.V.sel(neuron=1).values[2] != QUIET.V_rest


# -- CSR delivery ---------------------------------------------------------------------------
def dense_reference(v0, decay, v_rest, n_steps, arrivals):
    """V of delta-driven, never-firing LIF neurons by a plain loop: ``arrivals[k]`` is the
    (n,) vector of jumps consumed in step k (the kernel's order: jump, then decay)."""
    v, out = v0.copy(), []
    for k in range(n_steps):
        v = v_rest + (v + arrivals[k] - v_rest) * decay
        out.append(v.copy())
    return np.array(out)


def test_spikes_reach_exactly_their_targets_csr_vs_dense_loop():
    rng = np.random.default_rng(5)
    n_pre, n_post, n_syn = 30, 25, 200
    # explicit synapses in random (unsorted) order, repeated pairs allowed
    pre_idx = rng.integers(0, n_pre, n_syn)
    post_idx = rng.integers(0, n_post, n_syn)
    w = rng.uniform(-0.5, 0.5, n_syn)           # mV, small: no postsynaptic spike
    delay_steps = rng.integers(1, 30, n_syn)
    fire = (3, 7, 19, 28)
    net = one_shot_network(n_pre, n_post, fire=fire)
    net.add_projection("pre", "post", pre_idx, post_idx, w, delay_steps * DT, "delta")
    n_steps = 40                      # longest delay 29 steps: arrivals up to step 30
    ds = net.simulate(n_steps * DT, dt=DT, record=("V",),
                      record_neurons={"post": np.arange(n_post)}, seed=0)
    assert sorted(ds.spike_neuron.values.tolist()) == list(fire)
    assert not np.any(ds.spike_neuron.values >= n_pre)
    # reference: a dense loop over every (spiking pre, synapse); the spikes were detected in
    # step 0 (stamped dt), so a delay of d steps makes them act in step d + 1
    arrivals = np.zeros((n_steps, n_post))
    for j in fire:
        for s in range(n_syn):
            if pre_idx[s] == j:
                arrivals[delay_steps[s] + 1, post_idx[s]] += w[s]
    ref = dense_reference(np.full(n_post, QUIET.V_rest), np.exp(-DT / QUIET.tau_m),
                          QUIET.V_rest, n_steps, arrivals)
    # summation order of same-step arrivals may differ: a few ulps of ~70 mV
    np.testing.assert_allclose(ds.V.values, ref, rtol=0, atol=1e-12)
    untouched = np.setdiff1d(np.arange(n_post), post_idx[np.isin(pre_idx, fire)])
    np.testing.assert_array_equal(ds.V.values[:, untouched], QUIET.V_rest)


def test_projection_matrix_matches_its_synapse_list():
    net = Network(seed=3)
    net.add_population("a", LIFNeuron(QUIET, n=40))
    net.add_population("b", LIFNeuron(QUIET, n=30))
    proj = net.connect("a", "b", "fixed_probability", p=0.2,
                       weight={"dist": "uniform", "low": 0.1, "high": 1.0}, receptor="delta")
    dense = np.zeros((40, 30))
    for j, i, w in zip(proj.pre_idx, proj.post_idx, proj.weight, strict=True):
        dense[j, i] += w
    np.testing.assert_array_equal(proj.matrix(sparse=False), dense)
    for j in range(40):   # CSR rows hold exactly neuron j's synapses
        row = slice(proj.indptr[j], proj.indptr[j + 1])
        assert np.all(proj.pre_idx[row] == j)
        assert sorted(proj.post_idx[row]) == sorted(np.flatnonzero(dense[j]).tolist())


# -- chunking (K = min delay + 1 steps) -----------------------------------------------------
def small_brunel(**kw):
    return brunel_network(scale=0.04, keep_indegree=False, seed=11, **kw)  # 400 + 100


def test_min_delay_chunks_equal_single_steps(monkeypatch):
    """D = 1.5 ms: the loop advances 16 steps per chunk. Forcing one step per chunk
    (CHUNK_ELEMENTS = 1 -> K = 1) must give the same Dataset bit for bit: with one delay
    for every synapse, every buffer cell receives its spikes in the same order both ways
    (and the Poisson draws fill the same stream element by element)."""
    record = {"record": ("V",), "record_neurons": {"exc": [0, 1, 2], "inh": [0]}, "seed": 4}
    chunked = small_brunel().simulate(200.0, **record)
    monkeypatch.setattr(single_sim, "CHUNK_ELEMENTS", 1)
    stepwise = small_brunel().simulate(200.0, **record)
    assert chunked.sizes["spike"] > 100
    xr.testing.assert_identical(chunked, stepwise)


def test_mixed_delays_chunked_equal_single_steps_feedforward(monkeypatch):
    """Per-synapse delays 1.0-3.0 ms (K = 11): same spikes, V equal to rounding. Arrivals of
    different steps meet in one buffer cell in a different order when chunked, so equality
    is to 1e-9 mV, not bitwise (a feedforward net cannot amplify that)."""

    def build():
        net = Network("ff", seed=2)
        net.add_population("src", LIFNeuron(QUIET, n=60))
        net.add_population("dst", LIFNeuron(QUIET, n=40))
        net.add_stimulus("src", PoissonInput(rate_hz=2000.0, weight_mV=2.0))
        net.connect("src", "dst", "fixed_probability", p=0.3, weight=0.03,
                    delay_ms={"dist": "uniform", "low": 1.0, "high": 3.0}, receptor="current")
        return net

    chunked = build().simulate(100.0, record=("V",), seed=1)
    monkeypatch.setattr(single_sim, "CHUNK_ELEMENTS", 1)
    stepwise = build().simulate(100.0, record=("V",), seed=1)
    assert chunked.sizes["spike"] > 50 and np.any(chunked.spike_neuron.values >= 60)
    np.testing.assert_array_equal(chunked.spike_time.values, stepwise.spike_time.values)
    np.testing.assert_array_equal(chunked.spike_neuron.values, stepwise.spike_neuron.values)
    np.testing.assert_allclose(chunked.V.values, stepwise.V.values, rtol=0, atol=1e-9)


def test_kicks_to_target_subsets_equal_for_any_chunking(monkeypatch):
    """Kick buffers are cleared only where the last block wrote (its rows, its stimuli's
    target columns). Two Poisson inputs to overlapping subsets with different windows and one
    to every neuron, in blocks of 7 steps (membership changes between blocks, a short last
    block) and in one block: the same Dataset bit for bit -- a kick left behind in the
    buffer would repeat in the next block and change V (the kicks are drawn in the same
    order however the run is cut)."""

    def build():
        net = Network("kicks", seed=3)
        net.add_population("a", LIFNeuron(QUIET, n=30))
        net.add_population("b", LIFNeuron(QUIET, n=20))
        net.connect("a", "b", "fixed_probability", p=0.3, weight=0.05, receptor="current")
        net.add_stimulus("a", PoissonInput(rate_hz=3000.0, weight_mV=1.0, duration_ms=3.0,
                                           targets=np.arange(10)))
        net.add_stimulus("a", PoissonInput(rate_hz=2000.0, weight_mV=1.5, onset_ms=2.0,
                                           duration_ms=4.0, targets=[5, 7, 12, 20, 29]))
        net.add_stimulus("b", PoissonInput(rate_hz=1000.0, weight_mV=0.5, onset_ms=4.5,
                                           duration_ms=1.0))
        return net

    args = {"record": ("V",), "seed": 8}
    whole = build().simulate(10.05, **args)  # 100 steps (not a multiple of 7)
    monkeypatch.setattr(single_sim, "CHUNK_ELEMENTS", 50 * 7)  # 7 steps per block
    blocks = build().simulate(10.05, **args)
    v = whole.V.values  # (time, neuron); neurons 0-29 are "a", 30-49 "b"
    assert np.all(v[:, [10, 11, 13]] == QUIET.V_rest)  # never kicked, no input: at rest
    assert np.ptp(v[:, 12]) > 0 and np.ptp(v[:, 30:]) > 0  # the second and third inputs
    # after their window (3 ms) neurons 0-4 only relax towards rest: no kick repeats
    assert np.all(np.diff(v[31:, :5], axis=0) <= 0) and np.all(v[31:, :5] > QUIET.V_rest)
    xr.testing.assert_identical(whole, blocks)


# -- determinism, NetCDF, schema ------------------------------------------------------------
def layered_net(seed=0):
    net = Network("layered", seed=seed)
    net.add_population("L1_exc", LIFNeuron.create_excitatory(n=40), layer=1)
    net.add_population("L1_inh", LIFNeuron.create_inhibitory(n=10), layer=1)
    net.add_population("L2_exc", LIFNeuron.create_excitatory(n=30), layer=2)
    net.connect("L1_exc", "L1_inh", "fixed_probability", p=0.2, weight=0.004, receptor="AMPA")
    net.connect("L1_inh", "L1_exc", "fixed_probability", p=0.3, weight=0.01, receptor="GABA_A")
    net.connect("L1_exc", "L2_exc", "fixed_indegree", k=5, weight=0.004, delay_ms=2.0,
                receptor="AMPA")
    net.add_stimulus("L1_exc", PoissonInput(rate_hz=800.0, weight_mV=1.5))
    return net


def test_same_seed_identical_dataset_different_seed_differs():
    a = layered_net().simulate(150.0, record=("V",), seed=9)
    b = layered_net().simulate(150.0, record=("V",), seed=9)
    c = layered_net().simulate(150.0, record=("V",), seed=10)
    xr.testing.assert_identical(a, b)
    assert a.sizes["spike"] > 0 and not a.V.equals(c.V)


@pytest.mark.parametrize("swap_at", [None, 0, 6, 7, 8, 15, 29])
def test_spike_order_check_in_pieces_equals_the_whole_array_check(swap_at):
    """The Dataset assembly checks (step, id) order 8 spikes at a time here (pieces overlap
    by one spike, so a disorder between two pieces is seen): the same verdict as the
    whole-array comparison, for sorted spikes and for one swapped pair anywhere, piece
    boundaries included."""
    from neurosim_nb.engine.dataset import _in_spike_order

    rng = np.random.default_rng(5)
    n = 50
    key = np.sort(rng.choice(40 * n, size=31, replace=False))
    if swap_at is not None:
        key[[swap_at, swap_at + 1]] = key[[swap_at + 1, swap_at]]
    steps, ids = key // n, key % n
    expected = bool(np.all(key[1:] > key[:-1]))
    assert expected == (swap_at is None)
    assert _in_spike_order(steps, ids, n, piece=8) == expected
    assert _in_spike_order(steps, ids, n) == expected


def test_last_run_timing_splits_the_call_into_setup_loop_and_output():
    """``net.last_run_timing``: the progress callback runs once per block inside the step
    loop, so 20 ms naps in it land in ``loop_s`` and not in the other phases; the phases
    add up to no more than the call's wall time measured outside."""
    net = layered_net()
    assert net.last_run_timing is None
    naps = []

    def progress(done, total):
        time.sleep(0.02)
        naps.append(done)

    t0 = time.perf_counter()
    net.simulate(50.0, progress=progress, verbose=False, seed=1)
    wall = time.perf_counter() - t0
    timing = net.last_run_timing
    assert len(naps) >= 1 and min(timing) >= 0.0
    assert timing.loop_s >= 0.02 * len(naps)
    assert timing.total_s <= wall and timing.setup_s + timing.output_s <= wall - timing.loop_s


def test_network_dataset_schema_and_netcdf_round_trip(tmp_path):
    ds = layered_net().simulate(100.0, record=("V", "refractory"), seed=3,
                                record_neurons={"L1_exc": [0, 5], "L2_exc": [1]})
    validate_dataset(ds)
    assert ds.population.values.tolist() == ["L1_exc", "L1_exc", "L2_exc"]
    assert ds.layer.values.tolist() == [1, 1, 2]
    assert ds.neuron.values.tolist() == [0, 5, 51]       # global ids (L1_exc, L1_inh, L2_exc)
    assert ds.sizes["spike"] > 0 and int(ds.attrs["n_neurons"]) == 80
    path = tmp_path / "net.nc"
    ds.to_netcdf(path)
    with xr.open_dataset(path) as back:
        xr.testing.assert_identical(back.load(), ds)


# -- bad input ------------------------------------------------------------------------------
@pytest.fixture
def pair():
    net = Network(seed=0)
    net.add_population("exc", LIFNeuron(QUIET, n=10))
    net.add_population("inh", LIFNeuron(QUIET, n=5))
    return net


def test_unknown_population_names_the_choices(pair):
    with pytest.raises(ValueError, match=r"unknown population 'exx'.*Did you mean 'exc'"):
        pair.connect("exx", "inh", "fixed_probability", p=0.1)
    with pytest.raises(ValueError, match="unknown population"):
        pair.add_stimulus("nope", PoissonInput())


@pytest.mark.parametrize("p", [1.5, -0.1, float("nan")])
def test_probability_outside_unit_interval(pair, p):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        pair.connect("exc", "inh", "fixed_probability", p=p)


def test_negative_conductance_weight(pair):
    with pytest.raises(ValueError, match=r"conductance weights .* must be >= 0"):
        pair.connect("exc", "inh", "all_to_all", weight=-0.001, receptor="exp_exc")
    # a negative current or delta weight is inhibition and allowed
    pair.connect("inh", "exc", "all_to_all", weight=-0.1, receptor="current")


@pytest.mark.parametrize("delay", [-1.0, float("inf")])
def test_negative_or_infinite_delay(pair, delay):
    with pytest.raises(ValueError, match=r"delay.*(>= 0|infinite)"):
        pair.connect("exc", "inh", "all_to_all", delay_ms=delay)
    with pytest.raises(ValueError, match=r"delays must be finite and >= 0"):
        pair.add_projection("exc", "inh", [0], [0], 1.0, delay, "delta")


def test_mismatched_or_out_of_range_indices(pair):
    with pytest.raises(ValueError, match="2 presynaptic but 1 postsynaptic"):
        pair.add_projection("exc", "inh", [0, 1], [0], 1.0, 1.0, "delta")
    with pytest.raises(ValueError, match="out of range"):
        pair.add_projection("exc", "inh", [0, 1], [0, 5], 1.0, 1.0, "delta")


# -- mixed families, current and delta receptors only ---------------------------------------
def test_mixed_neuron_families_with_current_and_delta_receptors():
    net = Network("mixed", seed=8)
    net.add_population("lif", LIFNeuron.create_excitatory(n=20))
    net.add_population("izh", IzhikevichNeuron.from_preset("RS", n=15))
    net.add_population("adex", AdExNeuron.from_preset("tonic", n=10))
    net.add_stimulus("lif", PoissonInput(rate_hz=1500.0, weight_mV=1.0))
    net.connect("lif", "izh", "fixed_probability", p=0.5, weight=3.0, receptor="current")
    net.connect("lif", "adex", "fixed_probability", p=0.5, weight=0.2, receptor="current")
    net.connect("izh", "lif", "fixed_probability", p=0.3, weight=-0.5, receptor="delta")
    net.connect("adex", "izh", "all_to_all", weight=1.0, delay_ms=2.0, receptor="delta")
    ds = net.simulate(300.0, record=("V",), seed=2)
    validate_dataset(ds)
    assert set(np.unique(ds.population.values)) == {"lif", "izh", "adex"}
    assert np.all(np.isfinite(ds.V.values))
    # nothing but the LIF population is driven from outside: every population fires, so
    # spikes crossed the LIF -> Izhikevich / AdEx projections
    off = net.offsets()
    for name, pop in net.populations.items():
        ids = ds.spike_neuron.values
        assert np.any((ids >= off[name]) & (ids < off[name] + pop.n)), name
