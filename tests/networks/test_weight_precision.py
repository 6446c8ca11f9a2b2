"""``Network(weight_precision="float32")``: 9 bytes per static synapse, same dynamics.

The reference for the run is the same network with float64 weights: weights that are
exact in float32 (multiples of 2**-10 here) must give bit-identical spike trains in a
float64 run (the float32 store is widened exactly) and in a float32 run (both read the
same float32 values), so any mix-up of weights, offsets or dtypes in the store shows.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurosim_nb.core.networks.benchmarks_models import CUBA_EXC, CUBA_INH
from neurosim_nb.core.networks.network import Network
from neurosim_nb.core.neurons.lif import LIFNeuron, LIFParameters
from neurosim_nb.core.synapses.stdp import STDP
from neurosim_nb.stimuli import PoissonInput

#: the issue's bound for static synapses with float32 weights
MAX_BYTES_PER_SYNAPSE_F32 = 12


def _network(weight_precision: str, exact: bool = True) -> Network:
    net = Network("w32", seed=7, weight_precision=weight_precision)
    params = LIFParameters(tau_m=20.0, V_rest=-60.0, V_threshold=-50.0, V_reset=-60.0,
                           t_refractory=2.0, R_m=100.0)
    net.add_population("exc", LIFNeuron(params, n=400))
    net.add_population("inh", LIFNeuron(params, n=100))
    w_exc = 2.0 ** -6 if exact else 0.0162  # nA; 0.0162 is not a float32 number
    for pre, w, rec in (("exc", w_exc, CUBA_EXC), ("inh", -(2.0 ** -4), CUBA_INH)):
        for post in ("exc", "inh"):
            lo, hi = sorted((0.5 * w, 1.5 * w))
            net.connect(pre, post, "fixed_probability", p=0.1,
                        weight={"dist": "uniform", "low": lo, "high": hi},
                        delay_ms=0.5, receptor=rec)
    net.add_stimulus("exc", PoissonInput(rate_hz=2000.0, weight_mV=1.0, n_sources=1))
    if exact:  # round the drawn weights to multiples of 2**-10 of the mean: exact in float32
        for p in net.projections:
            p.weight[...] = np.round(p.weight / (2.0 ** -10)) * 2.0 ** -10
    return net


def test_float32_weights_take_9_bytes_per_synapse():
    net = _network("float32")
    for p in net.projections:
        p.prepare(0.1)
        assert p.weight.dtype == np.float32
        assert p.nbytes == 8 * (p.n_pre + 1) + 9 * p.n_synapses  # int32 + float32 + uint8
    n_syn = sum(p.n_synapses for p in net.projections)
    assert sum(p.nbytes for p in net.projections) / n_syn <= MAX_BYTES_PER_SYNAPSE_F32


def test_float32_weights_are_the_float64_weights_rounded():
    a, b = _network("float64", exact=False), _network("float32", exact=False)
    for pa, pb in zip(a.projections, b.projections, strict=True):
        np.testing.assert_array_equal(pb.post_idx, pa.post_idx)  # same draws, same order
        np.testing.assert_array_equal(pb.weight, pa.weight.astype(np.float32))
        # float32 rounding: relative error at most 2**-24
        assert np.max(np.abs(pb.weight - pa.weight) / np.abs(pa.weight)) <= 2.0 ** -24


# the float32 run in the second process (python3 tasks.py test), which compiles the float32
# CUBA loop anyway (tests/engine/test_precision.py)
@pytest.mark.parametrize("precision", [
    "float64", pytest.param("float32", marks=pytest.mark.second_process)])
def test_float32_store_gives_the_same_spikes_for_exact_weights(precision):
    runs = []
    for wp in ("float64", "float32"):
        net = _network(wp)
        ds = net.simulate(300.0, dt=0.1, record=(), seed=3, precision=precision,
                          verbose=False)
        assert net._synapse_store.weight.flat.dtype == np.dtype(wp)
        runs.append(ds)
    assert runs[0].sizes["spike"] > 500  # an active network, not a trivial comparison
    np.testing.assert_array_equal(runs[1].spike_time.values, runs[0].spike_time.values)
    np.testing.assert_array_equal(runs[1].spike_neuron.values, runs[0].spike_neuron.values)


def test_plastic_weights_stay_float64():
    net = Network("plastic", seed=1, weight_precision="float32")
    net.add_population("a", LIFNeuron(n=20))
    net.add_population("b", LIFNeuron(n=20))
    static = net.connect("a", "b", "fixed_probability", p=0.5, weight=0.1)
    plastic = net.connect("a", "b", "fixed_probability", p=0.5, weight=0.1, dynamics=STDP())
    assert static.weight.dtype == np.float32
    assert plastic.weight.dtype == np.float64


def test_bad_weight_precision_is_refused():
    with pytest.raises(ValueError, match="weight_precision"):
        Network("x", weight_precision="float16")
