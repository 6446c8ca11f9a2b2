"""Weights learning with (or without) reward (:func:`neurosim_nb.experiments.simulate_learning`)."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim_nb.experiments import LearningParameters, default_stdp_params, simulate_learning
from neurosim_nb.experiments.learning import N_INPUTS, N_OUTPUTS

SHORT = LearningParameters(duration=0.6, reward_interval=200.0)


@pytest.fixture(scope="module")
def rewarded():
    return simulate_learning(None, SHORT)


def test_dataset_layout_and_units(rewarded):
    ds = rewarded
    assert ds.weight.dims == ("weight_time", "synapse") and ds.weight.attrs["units"] == "uS"
    assert ds.weight_time.attrs["units"] == "ms" and ds.weight_time[-1] == 600.0
    np.testing.assert_allclose(ds.reward_time.values, [200.0, 400.0, 600.0])
    np.testing.assert_array_equal(ds.reward.values, 1.0)
    assert ds.output_rate.attrs["units"] == "Hz" and ds.sizes["output"] == N_OUTPUTS
    assert set(np.unique(ds.pre.values)) <= set(range(N_INPUTS))
    assert set(np.unique(ds.post.values)) <= set(range(N_INPUTS, N_INPUTS + N_OUTPUTS))
    p = default_stdp_params()
    np.testing.assert_allclose(ds.weight.values[0], 0.5 * (p.w_min + p.w_max))
    assert ds.attrs["rule"] == "reward-modulated" and ds.attrs["duration"] == 600.0


def test_reward_controls_how_weights_evolve(rewarded):
    up = rewarded.weight.values
    flat_ds = simulate_learning(None, SHORT, reward=0.0)
    flat = flat_ds.weight.values
    assert flat_ds.sizes["reward_time"] == 0
    down = simulate_learning(None, SHORT, reward=-1.0).weight.values
    w0 = up[0].mean()
    assert up[-1].mean() > w0 + 1e-4 and down[-1].mean() < w0 - 1e-4
    np.testing.assert_array_equal(flat, flat[0][None, :].repeat(flat.shape[0], axis=0))
    # reward-modulated weights change only at reward times
    changed = np.flatnonzero(np.any(np.diff(up, axis=0) != 0, axis=1)) + 1
    assert set(rewarded.weight_time.values[changed]) <= set(rewarded.reward_time.values)
    hebb = simulate_learning(None, SHORT, rule="Hebbian")          # changes without reward
    assert hebb.sizes["reward_time"] == 0
    assert np.abs(hebb.weight.values[-1] - hebb.weight.values[0]).max() > 0


def test_progress_reports_chunks_and_cancels(rewarded):
    seen = []

    def report(fraction, partial):
        seen.append((fraction, partial))
        return False

    ds = simulate_learning(None, SHORT, progress=report)
    assert [f for f, _ in seen] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert seen[-1][1] is not None                                 # the last chunk: a Dataset
    np.testing.assert_array_equal(ds.weight.values, rewarded.weight.values)
    calls = []
    assert simulate_learning(None, SHORT, progress=lambda f, d: calls.append(f) or True) is None
    assert calls == [pytest.approx(1 / 3)]                         # cancelled after one chunk


def test_same_seed_same_run_other_seed_other_run(rewarded):
    again = simulate_learning(None, SHORT, seed=0)
    np.testing.assert_array_equal(again.spike_time.values, rewarded.spike_time.values)
    other = simulate_learning(None, SHORT, seed=1)
    assert other.sizes["spike"] != rewarded.sizes["spike"] or not np.array_equal(
        other.spike_time.values, rewarded.spike_time.values)
