"""The time loop: determinism, NetCDF round trip, recording options, errors, seed facade."""

import numpy as np
import pytest
import xarray as xr

from neurosim_nb import LIFNeuron, LIFParameters, validate_dataset
from neurosim_nb.engine import (
    OUNoise,
    PoissonInput,
    RecordingConfig,
    RecordingMemoryError,
    SimulationConfig,
    SimulationDivergedError,
    SimulationEngine,
    StepCurrent,
    Stimulus,
)
from neurosim_nb.stimuli import ConstantCurrent

NOISY = [OUNoise(mean=2.0, sigma=0.5, tau_ms=5.0), PoissonInput(rate_hz=200.0, weight_mV=1.0)]


def run_noisy(seed, n=5):
    return LIFNeuron(n=n).simulate(200.0, NOISY, record=["V", "I_ext"], seed=seed)


def test_same_seed_identical_dataset_different_seed_differs():
    a, b, c = run_noisy(7), run_noisy(7), run_noisy(8)
    xr.testing.assert_identical(a, b)
    assert not a.V.equals(c.V)


def test_result_independent_of_chunking(monkeypatch):
    import neurosim_nb.engine.simulator as sim

    whole = run_noisy(3)
    monkeypatch.setattr(sim, "CHUNK_ELEMENTS", 5 * 7)  # 7 steps per chunk instead of all
    xr.testing.assert_identical(run_noisy(3), whole)


@pytest.mark.parametrize("n_spikes_expected", ["some", "none"])
def test_netcdf_round_trip_is_identical(tmp_path, n_spikes_expected):
    current = 2.5 if n_spikes_expected == "some" else 0.0
    ds = LIFNeuron(n=3).simulate(100.0, current, record=["V", "refractory", "I_ext"], seed=1)
    assert (ds.sizes["spike"] > 0) == (n_spikes_expected == "some")
    validate_dataset(ds)
    path = tmp_path / "run.nc"
    ds.to_netcdf(path)
    with xr.open_dataset(path) as back:
        xr.testing.assert_identical(back.load(), ds)


def test_schema_of_result():
    ds = LIFNeuron(n=4, label="exc").simulate(50.0, 3.0, seed=0, record=["V", "I_ext"])
    validate_dataset(ds)
    assert ds.V.dims == ("time", "neuron") and ds.V.attrs["units"] == "mV"
    assert ds.I_ext.attrs["units"] == "nA"
    assert ds.time.attrs["units"] == "ms" and ds.spike_time.attrs["units"] == "ms"
    assert list(ds.population.values) == ["exc"] * 4
    assert ds.attrs["dt"] == 0.1 and ds.attrs["duration"] == 50.0 and ds.attrs["seed"] == 0
    assert '"tau_m": 10.0' in ds.attrs["params_json"]


def test_seed_none_is_drawn_and_reproduces():
    pop = LIFNeuron(n=2)
    ds = pop.simulate(100.0, NOISY, seed=None)
    seed = ds.attrs["seed"]
    pop.reset_state()
    again = pop.simulate(100.0, NOISY, seed=seed)
    xr.testing.assert_identical(ds, again)


def test_state_continues_between_runs_like_brian2():
    pop = LIFNeuron()
    pop.simulate(20.0, 1.0)
    v_mid = pop.V
    assert v_mid > pop.params.V_rest and pop.t_ms == pytest.approx(20.0)
    pop.reset_state()
    assert pop.V == pop.params.V_rest and pop.t_ms == 0.0


def test_step_order_kick_then_integrate_then_record():
    # one kick of 5 mV in the first step (t in [0, 0.1)): the sample at t = 0.1 ms shows
    # it already decayed over one step: V = V_rest + 5 exp(-dt/tau)
    p = LIFParameters()
    from neurosim_nb.stimuli import Waveform  # noqa: F401  (doc: currents use Waveform)

    class OneKick(Stimulus):
        kind = "kick"

        def values(self, rt, t_ms):
            return np.where(t_ms < 0.05, 5.0, 0.0)

    ds = LIFNeuron(p).simulate(1.0, OneKick(), dt=0.1, seed=0)
    assert ds.time.values[0] == pytest.approx(0.1)
    assert ds.V.values[0, 0] == pytest.approx(p.V_rest + 5.0 * np.exp(-0.1 / p.tau_m), abs=1e-12)


def test_spike_stamped_at_end_of_crossing_step():
    # a 25 mV kick at step 0 crosses threshold (-50) from rest (-70) within step 0
    class BigKick(Stimulus):
        kind = "kick"

        def values(self, rt, t_ms):
            return np.where(t_ms < 0.05, 25.0, 0.0)

    ds = LIFNeuron().simulate(1.0, BigKick(), dt=0.1, seed=0)
    np.testing.assert_allclose(ds.spike_time.values, [0.1])


def test_sample_every_and_neuron_subset_match_full_recording():
    pop = LIFNeuron(n=6)
    full = pop.simulate(100.0, np.linspace(1.5, 4.0, 6), seed=0)
    pop.reset_state()
    sub = pop.simulate(100.0, np.linspace(1.5, 4.0, 6), seed=0, sample_every=10,
                       record_neurons=[1, 4])
    np.testing.assert_allclose(sub.time.values, full.time.values[9::10])
    np.testing.assert_array_equal(sub.V.values, full.V.values[9::10][:, [1, 4]])
    np.testing.assert_array_equal(sub.neuron.values, [1, 4])
    np.testing.assert_array_equal(sub.spike_time.values, full.spike_time.values)
    validate_dataset(sub)


def test_duration_rounds_to_whole_steps():
    ds = LIFNeuron().simulate(1.04, 0.0, dt=0.1)
    assert ds.attrs["n_steps"] == 10 and ds.sizes["time"] == 10


@pytest.mark.parametrize("kwargs, match", [
    ({"dt": 0.0}, "dt"), ({"dt": -0.1}, "dt"), ({"dt": float("nan")}, "dt"),
    ({"duration": 0.0}, "duration"), ({"duration": -5.0}, "duration"),
    ({"duration": float("inf")}, "duration"), ({"duration": 0.01}, "shorter than one step"),
    ({"input_current": float("nan")}, "finite"), ({"input_current": float("inf")}, "finite"),
    ({"record": ["Vm"]}, "Did you mean 'V'"), ({"record": ["w"]}, "cannot record 'w'"),
    ({"record_neurons": [7]}, "record_neurons"), ({"sample_every": 0}, "sample_every"),
    ({"seed": -1}, "seed"),
])
def test_bad_run_arguments_raise(kwargs, match):
    args = {"duration": 10.0, "input_current": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        LIFNeuron(n=2).simulate(**args)


def test_recording_that_cannot_fit_is_refused_before_running():
    pop = LIFNeuron(n=1000)
    with pytest.raises(RecordingMemoryError, match="record fewer neurons"):
        pop.simulate(1000.0, 1.0, max_record_bytes=10_000_000)
    assert pop.t_ms == 0.0  # nothing ran


def test_divergence_names_population_and_suggests_smaller_dt():
    pop = LIFNeuron(label="runaway")
    with pytest.raises(SimulationDivergedError, match=r"'runaway'.*smaller dt"):
        pop.simulate(10.0, 1e6)  # V_inf = 1e7 mV: beyond any physiological range


def test_progress_bar_when_verbose(capsys):
    LIFNeuron().simulate(50.0, 1.0, verbose=True)
    assert "simulating" in capsys.readouterr().err
    LIFNeuron().simulate(50.0, 1.0, verbose=False)
    assert capsys.readouterr().err == ""


def test_keyboard_interrupt_returns_partial_result(monkeypatch):
    import neurosim_nb.engine.simulator as sim

    monkeypatch.setattr(sim, "CHUNK_ELEMENTS", 100)  # 100 steps per chunk

    class Interrupting(ConstantCurrent):
        def values(self, rt, t_ms):
            if t_ms[0] >= 30.0:
                raise KeyboardInterrupt
            return super().values(rt, t_ms)

    pop = LIFNeuron()
    with pytest.warns(RuntimeWarning, match="interrupted"):
        ds = pop.simulate(100.0, Interrupting(amplitude=3.0))
    assert ds.attrs["interrupted"] == 1 and ds.attrs["duration"] == pytest.approx(30.0)
    assert ds.sizes["time"] == 300 and pop.t_ms == pytest.approx(30.0)
    validate_dataset(ds)


def test_seed_engine_facade():
    model = LIFNeuron(n=20)
    engine = SimulationEngine(model, SimulationConfig(duration=500.0, dt=0.1, seed=5),
                              RecordingConfig(variables=["voltage", "spike_times"]))
    for nid in range(10):
        engine.add_input_current(nid, 5.0)
    engine.add_input_current([10, 11], 5.0, onset=100.0, duration=100.0)
    result = engine.run()
    ds = result.dataset
    assert set(np.unique(ds.spike_neuron.values)) == set(range(12))
    assert result.total_spikes == ds.sizes["spike"]
    assert result.mean_firing_rate == pytest.approx(ds.sizes["spike"] / 20 / 0.5)
    assert result.wall_time > 0
    # neurons 10, 11 only fire between 100 and 200 ms (+ the first ISI)
    late = ds.spike_time.values[np.isin(ds.spike_neuron.values, [10, 11])]
    assert late.min() > 100.0 and late.max() <= 200.0 + 1e-9
    times, ids = engine.recorder.get_raster_data()
    np.testing.assert_array_equal(times, ds.spike_time.values)
    rates = engine.recorder.compute_firing_rates(window=100)
    assert rates.shape == (5, 20) and rates.attrs["units"] == "Hz"
    assert rates.sum().item() * 0.1 == pytest.approx(result.total_spikes)
    t, pop_rate = engine.recorder.compute_population_rate(window=50)
    assert t.shape == pop_rate.shape == (10,)
    assert pop_rate.mean() == pytest.approx(result.mean_firing_rate)


def test_engine_recorder_before_run_is_an_error():
    with pytest.raises(RuntimeError, match="run"):
        SimulationEngine(LIFNeuron()).recorder  # noqa: B018


def test_bad_config_raises():
    with pytest.raises(ValueError, match="dt"):
        SimulationConfig(duration=100.0, dt=0.0)


def test_step_current_targets_through_engine_only_in_window():
    engine = SimulationEngine(LIFNeuron(n=2), SimulationConfig(duration=300.0, seed=1))
    engine.add_stimulus(StepCurrent(5.0, onset_ms=100.0, duration_ms=50.0, targets=[0]))
    ds = engine.run().dataset
    assert ds.sizes["spike"] > 0 and set(ds.spike_neuron.values) == {0}
    assert ds.spike_time.min() > 100.0 and ds.spike_time.max() <= 150.0 + 1e-9


def test_progress_bar_appears_by_projection_not_for_short_runs(monkeypatch, capsys):
    import neurosim_nb.engine.simulator as sim

    LIFNeuron().simulate(50.0, 1.0)  # one chunk: never a bar with verbose=None
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sim, "PROGRESS_AFTER_S", 0.0)  # any projected time is "long"
    monkeypatch.setattr(sim, "CHUNK_ELEMENTS", 50)
    LIFNeuron().simulate(50.0, 1.0)
    assert "simulating" in capsys.readouterr().err


def test_progress_callback_sees_every_block_of_a_single_population_run():
    from neurosim_nb import LIFNeuron

    calls = []
    ds = LIFNeuron.create_excitatory(n=10).simulate(
        200.0, 0.5, dt=0.1, record=(), seed=0, verbose=False,
        progress=lambda done, total: calls.append((done, total)))
    done = [d for d, _ in calls]
    assert calls and done == sorted(done) and calls[-1] == (2000, 2000)
    assert {t for _, t in calls} == {2000} and ds.sizes["neuron"] == 10


class _Sites(LIFNeuron):
    """A point model that declares per-compartment state (the engine's general hook,
    :meth:`~neurosim_nb.core.neurons.base.NeuronPopulation.compartment_layout`): three
    'sites', the first and last showing row 0 (V), the middle none."""

    def compartment_layout(self):
        from neurosim_nb.core.neurons.base import CompartmentLayout

        return CompartmentLayout(
            {"V_site": (np.array([0, -1, 0]), "mV", "V at a site")},
            {"compartment": ("compartment", np.array([10, 11, 12]), {"units": "1",
                                                                   "long_name": "site"}),
             "section": ("compartment", np.array(["a", "b", "c"], dtype=object),
                         {"long_name": "site name"})})


def test_per_compartment_state_is_recorded_on_time_neuron_compartment(tmp_path):
    """Reference: the same population's own V (time, neuron): a declared per-compartment
    variable holds the rows it names (exactly), NaN where a compartment lacks it and for
    neurons of populations without compartments; the layout's coords travel along
    'compartment'; the schema holds and NetCDF round-trips losslessly. A point model's
    result has no compartment dim (point-model Datasets are unchanged)."""
    from neurosim_nb import Network
    from neurosim_nb.export import load_simulation, save_simulation

    net = Network("sites", seed=0)
    net.add_population("plain", LIFNeuron(n=2))
    net.add_population("sites", _Sites(n=3))
    ds = net.simulate(30.0, dt=0.1, record=("V", "V_site"), record_neurons={"plain": [1],
                      "sites": [0, 2]}, stimuli={"sites": [ConstantCurrent(3.0)],
                                                 "plain": [ConstantCurrent(3.0)]},
                      verbose=False, seed=1)
    validate_dataset(ds)
    assert ds.V_site.dims == ("time", "neuron", "compartment")
    assert ds.V_site.attrs == {"units": "mV", "long_name": "V at a site"}
    assert ds.compartment.values.tolist() == [10, 11, 12]
    assert ds.section.values.tolist() == ["a", "b", "c"]
    for nid in (2, 4):
        v = ds.V.sel(neuron=nid).values
        assert ds.spike_time.values[ds.spike_neuron.values == nid].size > 0
        np.testing.assert_array_equal(ds.V_site.sel(neuron=nid, compartment=10).values, v)
        np.testing.assert_array_equal(ds.V_site.sel(neuron=nid, compartment=12).values, v)
        assert np.isnan(ds.V_site.sel(neuron=nid, compartment=11).values).all()
    assert np.isnan(ds.V_site.sel(neuron=1).values).all()
    back = load_simulation(save_simulation(ds, tmp_path / "sites.nc"))
    for name in ds.variables:
        np.testing.assert_array_equal(back[name].values, ds[name].values)
    solo = _Sites(n=2).simulate(10.0, 3.0, record=("V_site",), seed=0)
    assert solo.V_site.shape == (100, 2, 3)
    point = LIFNeuron(n=2).simulate(10.0, 3.0, record=("V",), seed=0)
    assert set(point.dims) == {"time", "neuron", "spike"}
    assert set(point.coords) == {"time", "neuron", "population"}
    with pytest.raises(ValueError, match="V_site"):
        LIFNeuron(n=2).simulate(10.0, 3.0, record=("V_site",), seed=0)
