"""Shared input handling: spike lists from elsewhere, windows, signals."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurosim_nb.analysis import cv, spike_dataset
from neurosim_nb.analysis._input import as_signal, as_spike_trains
from neurosim_nb.schema import validate_dataset


def test_spike_dataset_is_a_valid_result_that_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    t = rng.uniform(0.0, 500.0, 200) + 1e-6
    ids = rng.integers(0, 10, 200)
    ds = spike_dataset(t, ids, 10, 500.0, dt=0.5, population=["E"] * 8 + ["I"] * 2)
    validate_dataset(ds)
    ds.to_netcdf(tmp_path / "s.nc")
    with xr.open_dataset(tmp_path / "s.nc") as back:
        xr.testing.assert_identical(back.load(), ds)
    # the spikes of each neuron are exactly those given
    st = as_spike_trains(ds)
    for i in range(10):
        np.testing.assert_array_equal(st.trains[i], np.sort(t[ids == i]))
    # and analysis agrees with the array path
    xr.testing.assert_allclose(cv(ds).drop_vars("population"),
                               cv([t[ids == i] for i in range(10)]), rtol=0, atol=0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(spike_times_ms=[1.0, 2.0], neuron_ids=[0]), "2 spike times but 1"),
    (dict(spike_times_ms=[1.0], neuron_ids=[5]), "neuron ids must be integers in 0..2"),
    (dict(spike_times_ms=[0.0], neuron_ids=[0]), r"in \(0, 10.0\]"),
    (dict(spike_times_ms=[np.nan], neuron_ids=[0]), "finite"),
    (dict(spike_times_ms=[11.0], neuron_ids=[0]), r"in \(0, 10.0\]"),
])
def test_spike_dataset_refuses_bad_spikes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        spike_dataset(n_neurons=3, duration_ms=10.0, **kwargs)


def test_windows_past_the_recording_and_bad_signals_are_refused():
    ds = spike_dataset([1.0, 2.0], [0, 0], 1, 10.0)
    with pytest.raises(ValueError, match="after the end of the recording"):
        as_spike_trains(ds, t_stop=20.0)
    with pytest.raises(ValueError, match="before the recording"):
        as_spike_trains(ds, t_start=-1.0)
    with pytest.raises(ValueError, match="pass t_stop"):
        as_spike_trains([1.0, 2.0])
    with pytest.raises(ValueError, match="1 NaN or infinite sample.*index 2"):
        as_signal([0.0, 1.0, np.nan], dt=1.0)
    with pytest.raises(ValueError, match="at least two samples"):
        as_signal([1.0], dt=1.0)
