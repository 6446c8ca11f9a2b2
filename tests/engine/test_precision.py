"""``precision="float32"`` network runs: validated against float64 runs and closed forms.

Float32 changes every rounding, so spike trains are not bitwise those of float64; what must
hold is the physics: regular firing at the closed-form rate, the same statistics of a
balanced network, every model family running, and the populations' float64 state
continuing after the run.
"""

import numpy as np
import pytest
import xarray as xr

from neurosim_nb import AdExNeuron, HodgkinHuxleyNeuron, IzhikevichNeuron, LIFNeuron, Network
from neurosim_nb.core.networks.benchmarks_models import activity_summary, cuba_network
from neurosim_nb.core.neurons.lif import lif_rate_closed_form


@pytest.mark.second_process  # (balances the two test processes)
def test_float32_lif_rates_match_the_closed_form():
    """Noiseless LIF at 20 currents: the float32 spike count over 1 s equals the float64
    count within one spike (a single rounding can move one threshold crossing by a step)
    and both are the closed-form rate within the spike-time quantisation of one step
    per interval (rate * (1 - r*dt) <= measured <= rate / (1 - r*dt))."""
    currents = np.linspace(2.5, 20.0, 20)          # nA; the default's rheobase is 2 nA
    rate = lif_rate_closed_form(LIFNeuron().params, currents)
    counts = {}
    for precision in ("float64", "float32"):
        net = Network("fI", seed=0)
        net.add_population("lif", LIFNeuron(n=20))
        net.add_stimulus("lif", currents)
        ds = net.simulate(1000.0, record=(), seed=0, precision=precision)
        counts[precision] = np.bincount(ds.spike_neuron.values, minlength=20)
    assert np.all(np.abs(counts["float32"] - counts["float64"]) <= 1)
    assert counts["float64"].min() > 5
    # one step of quantisation per interspike interval, + 1 spike for the window edges
    isi = 1000.0 / rate
    low = 1000.0 / (isi + 0.1) - 1
    high = 1000.0 / isi + 1
    for c in counts.values():
        assert np.all(c >= low) and np.all(c <= high)


@pytest.mark.second_process  # (balances the two test processes)
def test_float32_balanced_network_statistics_match_float64():
    """CUBA (1000 neurons, 400 ms): mean rate within 10 % and ISI CV within 0.1 of float64,
    the tolerance of the issue for 'the same model'; a chaotic network decorrelates
    individual spikes within tens of ms, so only statistics can agree."""
    out = {}
    for precision in ("float64", "float32"):
        ds = cuba_network(1000, seed=3).simulate(400.0, record=(), seed=1, precision=precision)
        out[precision] = activity_summary(ds, "exc", t_start_ms=100.0)
    r64, r32 = out["float64"]["rate_hz"], out["float32"]["rate_hz"]
    assert r64 > 2.0
    assert abs(r32 - r64) <= 0.1 * r64
    assert abs(out["float32"]["cv"] - out["float64"]["cv"]) <= 0.1


@pytest.mark.second_process
def test_every_family_runs_in_float32_and_keeps_float64_state():
    """One driven population of each family: float32 spike counts within 2 % (+1) of
    float64, recorded V is float32 and survives NetCDF, and afterwards every population's
    state is float64 again, holding the run's final values."""
    def build():
        net = Network("families", seed=0)
        net.add_population("lif", LIFNeuron(n=5))
        net.add_population("izh", IzhikevichNeuron.from_preset("RS", n=5))
        net.add_population("hh", HodgkinHuxleyNeuron(n=5))
        net.add_population("adex", AdExNeuron.from_preset("tonic", n=5))
        for name, pop in net.populations.items():  # LIF() has the "default" (10 MOhm) cell
            drive = pop.demo_current("default" if name == "lif" else None)
            net.add_stimulus(name, np.linspace(1.2, 2.0, 5) * drive)
        return net

    counts = {}
    for precision in ("float64", "float32"):
        net = build()
        ds = net.simulate(300.0, record=("V",), seed=0, precision=precision)
        counts[precision] = np.bincount(ds.spike_neuron.values, minlength=20)
        if precision == "float32":
            assert ds.V.dtype == np.float32
            for pop in net.populations.values():
                assert pop._state.dtype == np.float64
            last = ds.V.isel(time=-1).values
            v_end = np.concatenate([p.V for p in net.populations.values()])
            spiked_last = np.isin(np.arange(20), ds.spike_neuron.values[
                ds.spike_time.values >= 300.0 - 1e-9])
            np.testing.assert_allclose(v_end[~spiked_last], last[~spiked_last], rtol=1e-6)
    c64, c32 = counts["float64"], counts["float32"]
    assert np.all(c64 > 0)
    assert np.all(np.abs(c32 - c64) <= 0.02 * c64 + 1)


@pytest.mark.second_process  # (float32 CUBA loop: compiled there anyway)
def test_float32_dataset_round_trips_netcdf(tmp_path):
    ds = cuba_network(200, seed=1).simulate(50.0, record=("V",), seed=0, precision="float32")
    ds.to_netcdf(tmp_path / "f32.nc")
    back = xr.load_dataset(tmp_path / "f32.nc")
    xr.testing.assert_identical(ds, back)


def test_unknown_precision_is_a_clear_error():
    with pytest.raises(ValueError, match="precision must be one of"):
        cuba_network(100, seed=1).simulate(10.0, precision="float16")
