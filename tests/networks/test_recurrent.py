"""Brunel (2000) balanced network and its STDP variant.

Structure is exact (sizes, fixed in-degrees, weights, delays, drive). Dynamics use fixed
seeds; the stated ranges come from runs over several seeds (module docstring of
``recurrent``): at N = 1000, g = 4, eta = 0.85 the rate was 8.9-9.6 Hz and the mean ISI CV
0.61-0.62 in 2 s runs. The bounds below leave room for the finite-size fluctuations of a
single run: rate 5-20 Hz (about a factor two around the measured value), CV > 0.5 (the
irregularity criterion of the asynchronous-irregular state; mean-driven firing has
CV < 0.3, checked with eta = 2 below).
"""

from __future__ import annotations

import numpy as np
import pytest

from neurosim_nb import validate_dataset
from neurosim_nb.core.networks.recurrent import RecurrentNetwork
from neurosim_nb.core.synapses.stdp import STDP
from neurosim_nb.engine import SimulationConfig, SimulationEngine
from neurosim_nb.stimuli import PoissonInput


def isi_cv(ds, t_start_ms: float = 200.0, min_spikes: int = 10) -> float:
    """Mean ISI CV over neurons with at least ``min_spikes`` spikes after ``t_start_ms``."""
    t, i = ds.spike_time.values, ds.spike_neuron.values
    keep = t > t_start_ms
    t, i = t[keep], i[keep]
    order = np.lexsort((t, i))
    t, i = t[order], i[order]
    cvs = [np.std(np.diff(seg)) / np.mean(np.diff(seg))
           for seg in np.split(t, np.flatnonzero(np.diff(i)) + 1) if seg.size >= min_spikes]
    assert len(cvs) > 0.5 * ds.attrs["n_neurons"], "too few active neurons for a CV"
    return float(np.mean(cvs))


def count_correlation(ds, bin_ms: float, t_start_ms: float = 200.0) -> float:
    """Mean pairwise correlation coefficient of spike counts, from
    var(sum of counts) = sum of variances + sum of covariances."""
    n, duration = int(ds.attrs["n_neurons"]), float(ds.attrs["duration"])
    t, i = ds.spike_time.values, ds.spike_neuron.values
    keep = t > t_start_ms
    n_bins = int((duration - t_start_ms) / bin_ms)
    b = np.minimum(((t[keep] - t_start_ms - 1e-9) / bin_ms).astype(int), n_bins - 1)
    counts = np.zeros((n, n_bins))
    np.add.at(counts, (i[keep], b), 1.0)
    var = counts.var(axis=1)
    cov_sum = counts.sum(axis=0).var() - var.sum()
    return float(cov_sum / (n * (n - 1)) / var.mean())


@pytest.fixture(scope="module")
def balanced():
    return RecurrentNetwork.create_balanced(n_neurons=1000, g=4.0, seed=7)


def test_sizes_indegrees_and_weights(balanced):
    net = balanced
    b = net.brunel
    assert (net.populations["exc"].n, net.populations["inh"].n) == (800, 200)
    assert (b["C_E"], b["C_I"]) == (80, 20)
    assert b["J"] == pytest.approx(0.1 * np.sqrt(10), rel=1e-12)
    assert len(net.projections) == 4
    for proj in net.projections:
        k = b["C_E"] if proj.pre == "exc" else b["C_I"]
        indeg = np.bincount(proj.post_idx, minlength=proj.n_post)
        assert np.all(indeg == k), proj.name                      # exact fixed in-degree
        assert proj.receptor.name == "delta"
        expected = b["J"] if proj.pre == "exc" else -4.0 * b["J"]
        assert np.all(proj.weight == expected)
        assert np.all(proj.delay_ms == 1.5)
        if proj.pre == proj.post:
            assert not np.any(proj.pre_idx == proj.post_idx)     # no autapses
        # no duplicate synapses
        assert np.unique(proj.pre_idx * proj.n_post + proj.post_idx).size == proj.n_synapses
    p = net.populations["exc"].params
    assert (p.tau_m, p.V_threshold - p.V_rest, p.V_reset - p.V_rest, p.t_refractory) == (
        20.0, 20.0, 10.0, 2.0)
    assert net.populations["inh"].params == p


def test_external_drive_is_brunels(balanced):
    b = balanced.brunel
    nu_thr = b["theta"] / (b["J"] * b["C_E"] * b["tau_m"]) * 1000.0
    assert b["nu_thr_hz"] == pytest.approx(nu_thr, rel=1e-12)
    for name in ("exc", "inh"):
        (stim,) = balanced.stimuli[name]
        assert isinstance(stim, PoissonInput)
        assert stim.rate_hz == pytest.approx(0.85 * nu_thr, rel=1e-12)
        assert (stim.weight_mV, stim.n_sources) == (b["J"], 80)
    assert RecurrentNetwork.create_balanced(200, eta=0.0, seed=0).stimuli == {}


def test_default_drive_gives_asynchronous_irregular_activity():
    net = RecurrentNetwork.create_balanced(n_neurons=1000, g=4.0, seed=7)
    result = SimulationEngine(net, SimulationConfig(duration=2000.0, seed=3,
                                                    verbose=False)).run()
    ds = result.dataset
    validate_dataset(ds)
    t = ds.spike_time.values
    rate = np.sum(t > 200.0) / 1000 / 1.8
    assert 5.0 <= rate <= 20.0, f"rate {rate:.2f} Hz; default J, eta or g changed?"
    assert isi_cv(ds) > 0.5
    # asynchronous: weak pairwise correlations. The mean correlation coefficient of the
    # neurons' spike counts in 20 ms bins (from the variance of the summed count) was 0.06
    # for this network (0.02 at g = 5); a synchronous network approaches 1. Pairwise
    # count correlations in cortex are 0.01-0.2 (Cohen & Kohn 2011).
    assert count_correlation(ds, bin_ms=20.0) < 0.1


def test_cv_separates_regular_from_irregular_firing():
    net = RecurrentNetwork.create_balanced(n_neurons=500, g=4.0, eta=2.0, seed=1)
    ds = net.simulate(1000.0, record=(), seed=1)
    assert isi_cv(ds) < 0.3  # mean-driven (eta > 1, g = 4): regular (measured 0.21)


def test_plastic_network_weights_change_within_bounds():
    net = RecurrentNetwork.create_plastic(n_neurons=500, stdp_lr=0.01, seed=2)
    proj = net.plastic_projection
    assert isinstance(proj.dynamics, STDP) and proj.pre == proj.post == "exc"
    b = net.brunel
    assert proj.dynamics.params.w_max == pytest.approx(2 * b["J"], rel=1e-12)
    assert proj.dynamics.params.A_plus == pytest.approx(0.01 * 2 * b["J"], rel=1e-12)
    # same connectivity as the static network with the same seed
    static = RecurrentNetwork.create_balanced(n_neurons=500, seed=2)
    assert (static.connectivity_matrix() != net.connectivity_matrix()).nnz == 0
    ds = net.simulate(1000.0, record=(), seed=4, record_weights=True, weight_sample_ms=100.0)
    w = ds.weight.values
    assert w.shape == (11, proj.n_synapses)
    assert set(ds.projection.values.tolist()) == {"exc->exc:STDP"}
    assert np.all(w[0] == b["J"])
    changed = np.mean(w[-1] != w[0])
    assert changed > 0.9, f"only {changed:.0%} of the E->E weights changed"
    assert w.min() >= 0.0 and w.max() <= 2 * b["J"] + 1e-12
    for other in net.projections[1:]:
        assert np.all(other.weight == (b["J"] if other.pre == "exc" else -4 * b["J"]))


@pytest.mark.parametrize("kwargs, match", [
    ({"n_neurons": 3}, "n_neurons"),
    ({"n_neurons": 1000.0}, "n_neurons"),
    ({"g": -1.0}, "g = -1.0"),
    ({"eta": float("nan")}, "eta"),
    ({"epsilon": 0.0}, "epsilon"),
    ({"epsilon": 1.5}, "epsilon"),
    ({"J": 0.0}, "J"),
    ({"V_r": 25.0}, "V_r"),
    ({"n_neurons": 20, "epsilon": 0.01}, "C_E >= 1"),
])
def test_bad_arguments(kwargs, match):
    kwargs = {"n_neurons": 100, **kwargs}
    with pytest.raises(ValueError, match=match):
        RecurrentNetwork.create_balanced(**kwargs)


def test_bad_plastic_arguments():
    with pytest.raises(ValueError, match="stdp_lr"):
        RecurrentNetwork.create_plastic(100, stdp_lr=-0.1)
    with pytest.raises(ValueError, match="w_max_factor"):
        RecurrentNetwork.create_plastic(100, w_max_factor=0.5)
