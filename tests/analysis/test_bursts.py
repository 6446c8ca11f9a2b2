"""Max-interval burst detection (neurosim_nb.analysis.bursts, seed BurstDet)."""

import numpy as np
import pytest
import xarray as xr

from neurosim_nb.analysis._input import spike_dataset
from neurosim_nb.analysis.bursts import detect_bursts

# parameters of the hand-built train below (ms)
P = {"max_begin_isi_ms": 5.0, "max_end_isi_ms": 10.0, "min_ibi_ms": 20.0,
     "min_burst_duration_ms": 3.0, "min_spikes": 3}

HAND = np.array([
    10.0, 13.0, 16.0, 19.0,   # A: 4 spikes, ISIs 3 -> kept
    100.0, 104.0, 108.0,      # B1: ISI 4; then 12 > 10 ends it ...
    120.0, 124.0,             # B2: IBI 120 - 108 = 12 < 20 -> merged into B1 (alone: 2 spikes)
    300.0, 302.0,             # C: 2 spikes, IBI 176 -> not merged, rejected (min_spikes)
    500.0, 504.0, 512.0, 520.0,  # D: starts with ISI 4 <= 5, continues with ISIs 8 <= 10
    560.0,                    # isolated
    600.0, 608.0, 616.0,      # ISIs 8 > 5: never starts a burst
    700.0, 701.0, 702.0,      # E: 3 spikes but 2 ms < 3 ms -> rejected (duration)
])


def make_ds(times, ids, n, duration=1000.0, dt=0.1):
    """A result Dataset of ``n`` neurons (first half "E", second half "I") from spike lists."""
    return spike_dataset(times, np.asarray(ids, dtype=np.int64), n, duration, dt=dt,
                         population=["E"] * (n - n // 2) + ["I"] * (n // 2))


def reference_bursts(s, beg, end, min_ibi, min_dur, min_spikes):
    """Spike-by-spike transcription of S. Eglen's ``mi.find.bursts`` (R package sjemea,
    R/maxinterval.R), with ISI <= beg to start a burst (NeuroExplorer's wording)."""
    phase1, last_end, in_burst, b = [], None, False, 0
    for n in range(1, len(s)):
        d = s[n] - s[n - 1]
        if in_burst and d > end:
            in_burst = False
            phase1.append([b, n - 1, None if last_end is None else s[b] - last_end])
            last_end = s[n - 1]
        elif not in_burst and d <= beg:
            b, in_burst = n - 1, True
    if in_burst:
        phase1.append([b, len(s) - 1, None if last_end is None else s[b] - last_end])
    merged = []
    for b, e, ibi in phase1:
        if merged and ibi is not None and ibi < min_ibi:
            merged[-1][1] = e
        else:
            merged.append([b, e])
    return [(s[b], s[e], e - b + 1) for b, e in merged
            if e - b + 1 >= min_spikes and s[e] - s[b] >= min_dur]


def test_hand_built_train():
    b = detect_bursts(HAND, **P)
    assert b.start.values.tolist() == [10.0, 100.0, 500.0]
    assert b.end.values.tolist() == [19.0, 124.0, 520.0]
    assert b.n_spikes.values.tolist() == [4, 5, 4]
    np.testing.assert_allclose(b.duration.values, [9.0, 24.0, 20.0])
    # (n - 1) / duration: 3 / 9 ms, 4 / 24 ms, 3 / 20 ms
    np.testing.assert_allclose(b.intra_burst_rate.values, [1000 / 3, 1000 / 6, 150.0])
    assert b.neuron.values.tolist() == [0, 0, 0]


def test_merge_before_removal_and_chains():
    # without merging, B would be 3 + 2 spikes; with min_spikes 4 only the merge keeps it
    b = detect_bursts(HAND, **{**P, "min_spikes": 4})
    assert b.start.values.tolist() == [10.0, 100.0, 500.0]
    nomerge = detect_bursts(HAND, **{**P, "min_ibi_ms": 0.0, "min_spikes": 4})
    assert nomerge.start.values.tolist() == [10.0, 500.0]
    # min_ibi longer than the recording: every burst merges into the first one
    allm = detect_bursts(HAND, **{**P, "min_ibi_ms": 1e6})
    assert allm.start.values.tolist() == [10.0] and allm.end.values.tolist() == [702.0]
    # a merged burst holds every spike from its first to its last, those between the
    # phase-1 bursts included (as in sjemea's mi.find.bursts): here all 22 spikes
    assert allm.n_spikes.values.tolist() == [HAND.size] == [22]


def test_matches_reference_on_random_trains():
    rng = np.random.default_rng(11)
    for _ in range(150):
        s = np.unique(np.round(rng.uniform(0, 2000, rng.integers(0, 80)), 1))
        beg = rng.uniform(5, 40)
        prm = (beg, beg + rng.uniform(0, 40), rng.uniform(0, 100), rng.uniform(0, 30),
               int(rng.integers(1, 6)))
        b = detect_bursts(s, *prm)
        got = list(zip(b.start.values.tolist(), b.end.values.tolist(),
                       b.n_spikes.values.tolist(), strict=True))
        assert got == [(float(x), float(y), int(k)) for x, y, k in reference_bursts(s, *prm)]


def test_defaults_are_neuroexplorer_values():
    # Cotterill et al. 2016, Table 1 (NeuroExplorer manual): 0.17 s, 0.3 s, 0.2 s, 0.01 s, 3
    b = detect_bursts(np.array([]))
    assert [b.attrs[k] for k in P] == [170.0, 300.0, 200.0, 10.0, 3]


def test_several_neurons_dataset_and_arrays_agree(tmp_path):
    other = np.array([50.0, 51.0, 52.0, 53.0, 900.0])
    ds = make_ds(np.r_[HAND, other], np.r_[np.zeros(HAND.size, int), np.full(5, 2)], 4)
    a = detect_bursts(ds, **P)
    b = detect_bursts([HAND, np.array([]), other, np.array([])], **P)
    xr.testing.assert_identical(a.drop_vars("population"), b)
    assert a.neuron.values.tolist() == [0, 0, 0, 2]
    assert a.population.values.tolist() == ["E", "E", "E", "I"]
    assert np.bincount(a.neuron.values, minlength=a.attrs["n_neurons"]).tolist() == [3, 0, 1, 0]
    for name, var in a.variables.items():
        if name != "population" and name != "neuron":
            assert var.attrs["units"] and var.attrs["long_name"]
    for i, res in enumerate([a, detect_bursts(make_ds([], [], 2))]):
        path = tmp_path / f"b{i}.nc"
        res.to_netcdf(path)
        with xr.open_dataset(path) as back:
            xr.testing.assert_identical(back.load(), res)


def test_burst_running_to_the_end_and_window():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    b = detect_bursts(t, 2.0, 2.0, 1.0, 0.0, 3)
    assert b.end.values.tolist() == [4.0] and b.n_spikes.values.tolist() == [4]
    assert detect_bursts(t, 2.0, 2.0, 1.0, 0.0, 3, t_start=1.5).n_spikes.values.tolist() == [3]


def test_edge_cases():
    for data in (np.array([]), np.array([5.0]), [], make_ds([], [], 3)):
        b = detect_bursts(data)
        assert b.sizes["burst"] == 0 and set(b.data_vars) == {
            "start", "end", "duration", "n_spikes", "intra_burst_rate"}
    # bursts longer than the thresholds and than the recording are still found
    assert detect_bursts(np.array([1.0, 2.0, 3.0]), 1e5, 1e5, 1e5, 0.0, 3).sizes["burst"] == 1


@pytest.mark.parametrize("kw, err", [
    ({"max_begin_isi_ms": -1.0}, ValueError), ({"max_begin_isi_ms": np.nan}, ValueError),
    ({"max_end_isi_ms": 0.0}, ValueError), ({"max_end_isi_ms": 100.0}, ValueError),
    ({"min_ibi_ms": -1.0}, ValueError), ({"min_ibi_ms": np.inf}, ValueError),
    ({"min_burst_duration_ms": np.nan}, ValueError), ({"min_spikes": 0}, ValueError),
    ({"min_spikes": 2.5}, TypeError), ({"min_spikes": True}, TypeError),
    ({"min_ibi_ms": "long"}, TypeError),
])
def test_bad_parameters(kw, err):
    with pytest.raises(err):
        detect_bursts(HAND, **kw)
