"""What the Neo and NWB export tests share: the real runs (built once per test module) and
the hypothesis strategies."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from neurosim_nb import LIFNeuron, LIFParameters, Network
from neurosim_nb.export._interop import spike_result
from neurosim_nb.stimuli import PoissonInput


def lif_run():
    """20 LIF neurons driven by Poisson kicks (irregular firing), 500 ms, V and I_ext every
    2nd step."""
    return LIFNeuron(LIFParameters(), n=20).simulate(
        500.0, PoissonInput(rate_hz=2000.0, weight_mV=1.0), seed=3,
        record=("V", "I_ext"), sample_every=2)


def network_run():
    """Two populations (exc 40, inh 10) with recurrent connections, 300 ms, V of 6 neurons
    (3 of each population)."""
    net = Network("ei", seed=4)
    net.add_population("exc", LIFNeuron(LIFParameters(), n=40))
    net.add_population("inh", LIFNeuron(LIFParameters(), n=10))
    net.add_stimulus("exc", PoissonInput(rate_hz=2500.0, weight_mV=1.0))
    net.add_stimulus("inh", PoissonInput(rate_hz=2200.0, weight_mV=1.0))
    net.connect("exc", "inh", "fixed_probability", p=0.2, weight=0.05, receptor="current")
    net.connect("inh", "exc", "fixed_probability", p=0.3, weight=-0.05, receptor="current")
    return net.simulate(300.0, record=("V",), record_neurons=[0, 7, 39, 40, 45, 49], seed=2)


@st.composite
def spike_results(draw):
    """A spike result as `spike_result` builds it: 1-8 neurons, 1-200 ms, any spike times in
    (0, duration] (float64, duplicates across neurons allowed), 0-2 populations, an optional
    V trace with NaN/inf, attrs of every NetCDF type."""
    n = draw(st.integers(1, 8))
    duration = draw(st.floats(1.0, 200.0, allow_nan=False))
    k = draw(st.integers(0, 40))
    times = np.array(draw(st.lists(st.floats(duration * 1e-6, duration, allow_nan=False),
                                   min_size=k, max_size=k)), dtype=np.float64)
    ids = np.array(draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k)),
                   dtype=np.int64)
    cut = draw(st.integers(0, n))
    pops = np.array(["a"] * cut + ["b"] * (n - cut), dtype=object)
    attrs = draw(st.dictionaries(
        st.text("abcdefgh_", min_size=1, max_size=6).filter(
            lambda s: s not in ("duration", "dt", "n_neurons", "t_start_ms")),
        st.one_of(st.text(max_size=8), st.integers(-2**62, 2**62), st.floats(),
                  st.lists(st.floats(allow_nan=False), max_size=3).map(np.array)),
        max_size=4))
    ds = spike_result(times, ids, n, duration, 0.5, pops, attrs)
    if draw(st.booleans()):
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        v = rng.normal(-60.0, 10.0, (ds.sizes["time"], n))
        v.flat[rng.integers(0, v.size, 3)] = draw(st.sampled_from([np.nan, np.inf, -0.0]))
        ds["V"] = (("time", "neuron"), v, {"units": "mV", "long_name": "membrane potential"})
    return ds


#: anything that is not what an argument wants
JUNK = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5),
                 st.lists(st.floats(), max_size=3), st.binary(max_size=5),
                 st.builds(np.zeros, st.integers(0, 3)),
                 st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
