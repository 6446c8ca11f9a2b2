"""Test helpers shared by the export tests: Datasets of every kind the project produces,
a lossless-comparison assertion and a check for leftover temporary files."""

from __future__ import annotations

import os

import numpy as np
import xarray as xr

from neurosim_nb import LayeredNetwork, LIFNeuron, LIFParameters, Network, STDPSynapse
from neurosim_nb.analysis import detect_bursts, transfer_function
from neurosim_nb.stimuli import PoissonInput


def plastic_result():
    driver = LIFParameters(tau_m=1.0, V_rest=-70.0, V_threshold=-50.0, V_reset=-70.0,
                           R_m=100.0, t_refractory=0.0)
    net = Network(seed=5)
    net.add_population("pre", LIFNeuron(driver, n=8))
    net.add_population("post", LIFNeuron(driver, n=4))
    net.add(STDPSynapse.create_hebbian("pre", "post", weight=0.005))
    stims = {pop: PoissonInput(rate_hz=40.0, weight_mV=100.0) for pop in ("pre", "post")}
    return net.simulate(200.0, dt=0.1, seed=1, record=["V"], stimuli=stims,
                        record_weights=True, weight_sample_ms=10.0)


def result_datasets(synthetic: xr.Dataset) -> dict[str, xr.Dataset]:
    """A single neuron, a layered network, plastic weights, analysis outputs with other
    dims, a run without spikes, and ``synthetic`` (each format's all-types Dataset)."""
    net = LayeredNetwork.create_oni_model(neurons_per_layer=10).simulate(200.0, seed=1)
    silent = LIFNeuron.create_excitatory().simulate(50.0, 0.0, seed=0)
    assert silent.sizes["spike"] == 0
    return {
        "single": LIFNeuron.create_excitatory().simulate(200.0, 2.0, seed=0),
        "network": net,
        "plastic": plastic_result(),
        "transfer": transfer_function(LIFNeuron, [0.0, 2.5, 3.0], duration_ms=200.0)
        .to_dataset(),
        "bursts": detect_bursts(net),
        "silent": silent,
        "synthetic": synthetic,
    }


def assert_lossless(got: xr.Dataset, want: xr.Dataset) -> None:
    xr.testing.assert_identical(got, want)
    assert set(got.coords) == set(want.coords)
    for name, var in want.variables.items():
        assert got[name].dtype == var.dtype, name
        assert got[name].dims == var.dims, name
        for key, value in var.attrs.items():
            assert type(got[name].attrs[key]) is type(value), (name, key)
    for key, value in want.attrs.items():
        assert type(got.attrs[key]) is type(value), key
        if isinstance(value, np.ndarray):
            assert got.attrs[key].dtype == value.dtype and got.attrs[key].shape == value.shape


def no_part_files(folder) -> bool:
    return not [p for p in os.listdir(folder) if p.endswith(".part")]
