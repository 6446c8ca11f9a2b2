"""The compiled network loop (neurosim_nb.engine.loop): spike delivery against numpy
references, the synapse store's sharing of projection arrays, the spike buffer draining,
the Poisson table inversion, the single-column parameter fast path of the LIF kernel, its
one-pass channel loops, and spans of steps per kernel call against step-by-step runs.

References are independent numpy computations (``np.add.at``, ``np.searchsorted``) or the
single-population simulator, which does not use the compiled network loop.
"""

import numpy as np
import pytest

import neurosim_nb.engine.network_sim as network_sim
from neurosim_nb import LIFNeuron, LIFParameters, Network
from neurosim_nb.engine.loop import (
    PREFETCH_MIN_TARGETS,
    FlatArrays,
    SynapseStore,
    _deliver,
)
from neurosim_nb.stimuli import _add_inverted_counts, _poisson_cdf

# the flat pass's every case: loop variants only they compile
# (python3 tasks.py test runs these in its second process)
pytestmark = pytest.mark.second_process

QUIET = LIFParameters(tau_m=20.0, V_rest=-70.0, V_threshold=-50.0, V_reset=-70.0,
                      t_refractory=2.0, R_m=100.0)


def random_csr(rng, n_pre, n_post, n_syn):
    pre = np.sort(rng.integers(0, n_pre, n_syn))
    post = rng.integers(0, n_post, n_syn).astype(np.int32)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=n_pre))])
    return pre, post, indptr.astype(np.int64)


@pytest.mark.parametrize("n_post", [40, PREFETCH_MIN_TARGETS + 5])
@pytest.mark.parametrize("uniform_delay, uniform_weight", [(True, True), (True, False),
                                                           (False, False)])
def test_deliver_matches_np_add_at(uniform_delay, uniform_weight, n_post):
    """Every path of _deliver (per-synapse or shared delay and weight; rows small enough
    to stay cached, and large rows that it prefetches into) adds each spike's weights to
    slot (step + 1 + delay) % depth of its targets, as np.add.at does; duplicates
    (multapses) accumulate. The projection sits at offsets inside larger flat arrays, as
    in the network loop: the entries before and after it must stay untouched. Exact: the
    same additions in the same order per buffer cell."""
    rng = np.random.default_rng(3)
    n_pre, depth, n_syn = 50, 9, 6000
    pre, post, indptr = random_csr(rng, n_pre, n_post, n_syn)
    weight = np.full(post.size, 0.7) if uniform_weight else rng.normal(0.5, 0.2, post.size)
    delay = (np.full(post.size, 3) if uniform_delay else rng.integers(1, 7, post.size)
             ).astype(np.uint8)
    spikes = np.array([1, 4, 4, 17, 30, 49], dtype=np.int64)  # neuron 4 twice: two spikes
    step = 23
    # flat arrays with other projections' entries around this one's
    i0, s0, b0, q0 = 7, 11, 5, 3
    flat_indptr = np.concatenate([np.zeros(i0, np.int64), indptr, [99]])
    # (padding that would show if read: a huge weight onto neuron 0 with delay 1)
    flat = {name: np.concatenate([np.full(s0, fill, a.dtype), a, np.full(4, fill, a.dtype)])
            for name, a, fill in (("post", post, 0), ("weight", weight, 1e6),
                                  ("delay", delay, 1))}
    buf = np.zeros(b0 + depth * n_post + 6)
    spk_idx = np.concatenate([[8, 8, 8], spikes, [2]])
    spk_step = np.concatenate([[step - 1] * 3, np.full(spikes.size, step), [step + 1]])
    _deliver(spk_step, spk_idx, q0, spikes.size, flat_indptr, i0, n_pre, flat["post"],
             flat["weight"], np.zeros(0, np.uint8) if uniform_delay else flat["delay"], s0,
             3 if uniform_delay else -1, 0.7 if uniform_weight else np.nan, buf, b0, n_post,
             depth)
    expected = np.zeros((depth, n_post))
    for j in spikes:
        syn = np.arange(indptr[j], indptr[j + 1])
        np.add.at(expected, ((step + 1 + delay[syn]) % depth, post[syn]), weight[syn])
    assert expected.any()
    np.testing.assert_array_equal(buf[b0:b0 + depth * n_post].reshape(depth, n_post),
                                  expected)
    assert not buf[:b0].any() and not buf[b0 + depth * n_post:].any()


def test_poisson_table_inversion_matches_searchsorted():
    """The branch-free count is the first table index whose CDF exceeds u (capped at the
    last index): np.searchsorted(cdf, u, side='right') is the reference."""
    rng = np.random.default_rng(0)
    for lam in (0.05, 2.0, 17.0):
        cdf = _poisson_cdf(lam)
        u = rng.random((30, 200))
        u[0, :3] = [0.0, np.nextafter(1.0, 0.0), cdf[0]]  # edges: 0, just below 1, a level
        rows = np.array([0, 2, 5] + list(range(6, 33)))
        out = np.zeros((40, 250))
        idx = rng.permutation(250)[:200]
        _add_inverted_counts(u, cdf, 0.5, rows, out, idx)
        counts = np.minimum(np.searchsorted(cdf, u, side="right"), cdf.size - 1)
        expected = np.zeros((40, 250))
        expected[np.ix_(rows, idx)] = 0.5 * counts
        np.testing.assert_array_equal(out, expected)


def test_flat_arrays_views_share_memory():
    a, b = np.arange(6.0).reshape(2, 3), np.arange(4.0)
    fa = FlatArrays([a, b])
    np.testing.assert_array_equal(fa.views[0], a)
    np.testing.assert_array_equal(fa.views[1], b)
    fa.views[1][2] = -1.0
    assert fa.flat[6 + 2] == -1.0


def driven_pair(weight=0.5):
    """``pre`` fires regularly (constant current); ``post`` only through the projection."""
    net = Network("pair", seed=1)
    net.add_population("pre", LIFNeuron(QUIET, n=20))
    net.add_population("post", LIFNeuron(QUIET, n=10))
    net.add_stimulus("pre", 0.3)  # 0.3 nA x 100 MOhm = 30 mV above rest: regular firing
    net.connect("pre", "post", "all_to_all", weight=weight, receptor="current")
    return net


def test_weights_edited_in_place_or_replaced_act_in_the_next_run():
    net = driven_pair()
    proj = net.projections[0]
    first = net.simulate(100.0, record=(), seed=0)
    post = first.spike_neuron.values >= 20
    assert post.sum() > 10                           # the projection drives post
    assert isinstance(net._synapse_store, SynapseStore)
    assert np.shares_memory(proj.weight, net._synapse_store.weight.flat)
    proj.weight[:] = 0.0                              # in place: the store sees it
    second = net.simulate(100.0, record=(), seed=0)
    # (the run continues the first: receptor state and spikes in flight carried over
    # decay within a few ms -- after 30 ms post can only fire through new input)
    late = second.spike_time.values > 30.0
    assert np.any(late) and not np.any(second.spike_neuron.values[late] >= 20)
    proj.weight = np.full(proj.n_synapses, 0.5)       # a new array: the store is rebuilt
    third = net.simulate(100.0, record=(), seed=0)
    assert np.any(third.spike_neuron.values >= 20)
    assert np.shares_memory(proj.weight, net._synapse_store.weight.flat)


def test_spike_buffer_drains_when_full(monkeypatch):
    """A population firing every few steps overflows the spike buffer many times within a
    block; every spike must still be kept, exactly as the single-population simulator
    (which does not use the network loop) produces them."""
    params = LIFParameters(tau_m=10.0, V_rest=-70.0, V_threshold=-50.0, V_reset=-60.0,
                           t_refractory=0.0, R_m=10.0)
    net = Network("busy", seed=0)
    net.add_population("a", LIFNeuron(params, n=1000))
    net.add_stimulus("a", 50.0)                       # 500 mV drive: a spike every 3 steps
    monkeypatch.setattr(network_sim._single, "CHUNK_ELEMENTS", 1 << 22)
    ds = net.simulate(30.0, record=(), seed=0)
    alone = LIFNeuron(params, n=1000).simulate(30.0, 50.0, record=(), seed=0)
    assert ds.sizes["spike"] == alone.sizes["spike"] > (1 << 16)  # > the buffer's 65 536
    np.testing.assert_array_equal(ds.spike_time.values, alone.spike_time.values)
    np.testing.assert_array_equal(ds.spike_neuron.values, alone.spike_neuron.values)


def test_shared_and_per_neuron_parameters_give_the_same_trajectories():
    """The LIF kernel's single-column fast path (all neurons share parameters) and the
    per-neuron path compute the same numbers: a population whose parameter arrays hold
    one repeated value except a last, different neuron follows the shared-parameter
    population bit for bit in the neurons they share."""
    rng = np.random.default_rng(1)
    current = rng.uniform(0.1, 0.4, 600)              # nA, above and below rheobase
    shared = LIFNeuron(QUIET, n=600)
    tau = np.full(601, QUIET.tau_m)
    tau[-1] = 30.0
    mixed = LIFNeuron(QUIET.replace(tau_m=tau, R_m=np.full(601, QUIET.R_m)), n=601)
    assert shared._kernel_params(0.1).shape[1] == 1
    assert mixed._kernel_params(0.1).shape[1] == 601
    a = shared.simulate(200.0, current, record=("V",), seed=0)
    b = mixed.simulate(200.0, np.append(current, 0.2), record=("V",), seed=0)
    assert a.sizes["spike"] > 500
    np.testing.assert_array_equal(a.V.values, b.V.values[:, :600])
    keep = b.spike_neuron.values < 600
    np.testing.assert_array_equal(a.spike_time.values, b.spike_time.values[keep])


def test_blocks_with_every_stimulus_off_skip_their_buffers(monkeypatch):
    """Short blocks (8 steps) and stimuli that switch off -- a current step and a Poisson
    kick-start: blocks after the window reuse buffers that still hold earlier values, so a
    block must use its zeroed first row and no kicks. References: the step current's own
    definition for the recorded input, and the exact passive decay of V once both are off
    (a stale row or kick would break either)."""
    from neurosim_nb.stimuli import PoissonInput, StepCurrent

    monkeypatch.setattr(network_sim._single, "CHUNK_ELEMENTS", 8 * 50)
    stims = [StepCurrent(0.3, onset_ms=2.0, duration_ms=3.0),
             PoissonInput(rate_hz=3000.0, weight_mV=1.0, duration_ms=4.0)]
    net = Network("off", seed=0)
    net.add_population("a", LIFNeuron(QUIET, n=50))
    for s in stims:
        net.add_stimulus("a", s)
    ds = net.simulate(20.0, record=("V", "I_ext"), seed=5)
    i_ext = ds.I_ext.values
    t = ds.time.values - 0.1                     # step start times
    on = (t >= 2.0 - 1e-9) & (t < 5.0 - 1e-9)
    np.testing.assert_array_equal(i_ext[on], 0.3)
    np.testing.assert_array_equal(i_ext[~on], 0.0)
    # after both stimuli end every neuron relaxes exactly: V - V_rest decays by exp(-dt/tau)
    late = ds.V.values[t >= 8.0] - QUIET.V_rest
    moving = np.abs(late[:-1]) > 1e-6
    assert moving.sum() > 100
    ratio = late[1:][moving] / late[:-1][moving]
    # rtol: exact integration, rounding of V - V_rest at ~1e-6..10 mV only
    np.testing.assert_allclose(ratio, np.exp(-0.1 / QUIET.tau_m), rtol=1e-7)


def _recurrent(n_extra: int, receptors, drive: str, delays, gap: bool = False) -> Network:
    """Two LIF populations (400 + 100) with explicit random synapses (the same lists for
    every variant), Poisson drive; ``n_extra`` isolated neurons with a different tau_m
    appended to ``exc`` force the per-neuron-parameter kernel path."""
    from neurosim_nb.stimuli import PoissonInput, StepCurrent

    rng = np.random.default_rng(11)
    sizes = {"exc": 400, "inh": 100}
    net = Network("rec", seed=0)
    for name, n in sizes.items():
        tau = np.full(n + (n_extra if name == "exc" else 0), 20.0)
        tau[n:] = 35.0
        params = LIFParameters(tau_m=tau, V_rest=-60.0, V_threshold=-50.0, V_reset=-60.0,
                               t_refractory=2.0, R_m=100.0)
        net.add_population(name, LIFNeuron(params, n=tau.size))
        v0 = -60.0 + rng.uniform(0, 10, n)  # the same draws whatever n_extra is
        net.populations[name].V = np.append(v0, np.full(tau.size - n, -60.0))
    for pre, rec, w in zip(("exc", "inh"), receptors, (0.004, -0.02), strict=True):
        w = abs(w) if rec.kind == "conductance" else w
        for post in ("exc", "inh"):
            m = int(0.05 * sizes[pre] * sizes[post])
            pre_i = rng.integers(0, sizes[pre], m)
            post_i = rng.integers(0, sizes[post], m)
            d = rng.choice(delays, m) if len(delays) > 1 else delays[0]
            net.add_projection(pre, post, pre_i, post_i, rng.uniform(0.5, 1.5, m) * w, d, rec)
    stim = {"kicks": PoissonInput(rate_hz=4000.0, weight_mV=0.8, targets=np.arange(400)),
            "current": StepCurrent(0.12, onset_ms=0.0, duration_ms=1e9),
            "current-then-none": StepCurrent(0.12, onset_ms=0.0, duration_ms=60.0)}[drive]
    net.add_stimulus("exc", stim)
    if gap:  # a zero-conductance gap junction: no current, but one step per kernel call
        net.add_gap_junctions("exc", "inh", [0], [0], 0.0)
    return net


RECEPTOR_SETS = {
    "currents": ("cuba_exc", "cuba_inh"),
    "conductances": ("exp_exc", "exp_inh"),
    "mixed": ("exp_exc", "cuba_inh"),
}


def _receptors(kind):
    from neurosim_nb.core.networks.benchmarks_models import CUBA_EXC, CUBA_INH
    from neurosim_nb.core.synapses.receptors import RECEPTORS

    table = {"cuba_exc": CUBA_EXC, "cuba_inh": CUBA_INH, **RECEPTORS}
    return tuple(table[r] for r in RECEPTOR_SETS[kind])


@pytest.mark.parametrize("kind", sorted(RECEPTOR_SETS))
@pytest.mark.parametrize("drive", ["current", "kicks", "current-then-none"])
def test_inline_channel_loops_match_the_general_path(kind, drive, monkeypatch):
    """The LIF kernel's one-pass loops for one or two exponential channels (shared
    parameters; specialised per channel kind, normalisation, kicks and input current)
    against its general path (per-neuron parameters: receptor workspace pass, then the
    membrane pass), which does the same arithmetic in another order of loops: the shared
    neurons must follow the same trajectories bit for bit. Blocks of 50 steps, so that the
    blocks after the current switches off run without input."""
    monkeypatch.setattr(network_sim._single, "CHUNK_ELEMENTS", 50 * 501)
    rec = _receptors(kind)
    net_a, net_b = _recurrent(0, rec, drive, [0.1]), _recurrent(1, rec, drive, [0.1])
    assert net_a.populations["exc"]._kernel_params(0.1).shape[1] == 1     # one-pass loops
    assert net_b.populations["exc"]._kernel_params(0.1).shape[1] == 401   # general path
    a = net_a.simulate(150.0, record=("V",), seed=2)
    b = net_b.simulate(150.0, record=("V",), seed=2)
    assert a.attrs["n_neurons"] + 1 == b.attrs["n_neurons"]
    assert a.sizes["spike"] > 500  # recurrent activity, not a quiet network
    shared = np.r_[np.arange(400), np.arange(401, 501)]  # b's ids of a's neurons
    np.testing.assert_array_equal(a.V.values, b.V.values[:, shared])
    keep = b.spike_neuron.values != 400
    np.testing.assert_array_equal(a.spike_time.values, b.spike_time.values[keep])
    ids_b = b.spike_neuron.values[keep]
    np.testing.assert_array_equal(a.spike_neuron.values, ids_b - (ids_b > 400))


@pytest.mark.parametrize("kind", sorted(RECEPTOR_SETS))
@pytest.mark.parametrize("drive", ["current", "kicks", "current-then-none"])
def test_recording_does_not_change_the_run(kind, drive, monkeypatch):
    """Unrecorded LIF populations on the one-pass loops are updated on the network loop's
    flat arrays (_lif_span_flat); recorded ones by the kernel, on views. Both must give the
    same spikes and the same final state, bit for bit, for every channel kind and drive,
    with blocks that run without input."""
    monkeypatch.setattr(network_sim._single, "CHUNK_ELEMENTS", 50 * 501)
    rec = _receptors(kind)
    net_a, net_b = _recurrent(0, rec, drive, [0.1]), _recurrent(0, rec, drive, [0.1])
    a = net_a.simulate(150.0, record=(), seed=2)
    b = net_b.simulate(150.0, record=("V",), seed=2)
    assert a.sizes["spike"] > 500
    np.testing.assert_array_equal(a.spike_time.values, b.spike_time.values)
    np.testing.assert_array_equal(a.spike_neuron.values, b.spike_neuron.values)
    for name in ("exc", "inh"):  # V and refractory counters
        np.testing.assert_array_equal(net_a.populations[name]._state,
                                      net_b.populations[name]._state)


def test_divergence_is_reported_at_its_neuron_and_step_whatever_is_recorded():
    """A runaway neuron (neuron 7 of exc, from 20 ms) is reported at the same time and
    neuron by the flat update (nothing recorded) and by the kernel (V recorded)."""
    from neurosim_nb.engine.simulator import SimulationDivergedError
    from neurosim_nb.stimuli import StepCurrent

    messages = []
    for record in ((), ("V",)):
        net = _recurrent(0, _receptors("conductances"), "kicks", [0.1])
        net.add_stimulus("exc", StepCurrent(1e308, onset_ms=20.0, duration_ms=1e9,
                                            targets=np.array([7])))
        with pytest.raises(SimulationDivergedError) as err:
            net.simulate(50.0, record=record, seed=2)
        messages.append(str(err.value))
    assert "neuron 7)" in messages[0]
    assert messages[0] == messages[1]


@pytest.mark.parametrize("delays", [[0.1], [0.5], [0.3, 0.5, 1.2]],
                         ids=["1-step", "5-step", "mixed"])
def test_spans_of_steps_match_step_by_step(delays):
    """Kernels advance a span of (shortest delay + 1) steps per call and the span's spikes
    are delivered afterwards; the reference is the same network stepped one step per call
    (a zero-conductance gap junction forces that): identical spike trains and voltages."""
    rec = _receptors("conductances")
    a = _recurrent(0, rec, "kicks", delays).simulate(150.0, record=("V",), seed=4)
    b = _recurrent(0, rec, "kicks", delays, gap=True).simulate(150.0, record=("V",), seed=4)
    assert a.sizes["spike"] > 1000
    np.testing.assert_array_equal(a.spike_time.values, b.spike_time.values)
    np.testing.assert_array_equal(a.spike_neuron.values, b.spike_neuron.values)
    np.testing.assert_array_equal(a.V.values, b.V.values)
