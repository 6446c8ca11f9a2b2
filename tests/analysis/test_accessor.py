"""``ds.neuro``: every data-first analysis function as a method, and the function map."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import neurosim_nb.analysis as analysis
from neurosim_nb import LIFNeuron

DOCS = Path(__file__).resolve().parents[2] / "docs" / "functions.md"


@pytest.fixture(scope="module")
def ds():
    return LIFNeuron.create_excitatory().simulate(300.0, 2.0, seed=0, record=())


def test_every_public_name_imports_and_has_a_docstring_with_an_example():
    for name in analysis.__all__:
        if name.isupper() or name == "DATASET_FUNCTIONS":
            continue
        obj = getattr(analysis, name)
        assert obj.__doc__ and ">>>" in obj.__doc__, f"{name} lacks a doctest example"


def test_dataset_functions_are_public_and_take_the_data_first():
    for name in analysis.DATASET_FUNCTIONS:
        assert name in analysis.__all__
        first = next(iter(inspect.signature(getattr(analysis, name)).parameters))
        data_names = {"data", "ds", "signal", "weights", "spikes", "data_or_spectrum"}
        assert first in data_names, f"{name} takes {first!r} first"


def test_accessor_method_equals_the_function(ds):
    got = ds.neuro.firing_rate(bin_ms=100.0)
    want = analysis.firing_rate(ds, bin_ms=100.0)
    xr.testing.assert_identical(got, want)
    assert np.isclose(float(got.sum()) * 0.1, ds.sizes["spike"])  # 100 ms bins: Hz*0.1 s


def test_accessor_signature_drops_the_data_argument(ds):
    for name in analysis.DATASET_FUNCTIONS:
        method = getattr(ds.neuro, name)
        full = list(inspect.signature(getattr(analysis, name)).parameters)
        assert list(inspect.signature(method).parameters) == full[1:]
        assert method.__doc__ == getattr(analysis, name).__doc__


def test_accessor_lists_its_functions_and_refuses_unknown_names(ds):
    assert set(dir(ds.neuro)) == set(analysis.DATASET_FUNCTIONS)
    with pytest.raises(AttributeError, match="has no 'no_such_measure'"):
        ds.neuro.no_such_measure  # noqa: B018


def test_accessor_exists_on_a_dataset_loaded_from_netcdf(ds, tmp_path):
    path = tmp_path / "r.nc"
    ds.to_netcdf(path)
    with xr.open_dataset(path) as back:
        xr.testing.assert_identical(back.neuro.firing_rate(bin_ms=150.0),
                                    ds.neuro.firing_rate(bin_ms=150.0))


def test_function_map_names_every_public_analysis_function():
    text = DOCS.read_text()
    mapped = set(re.findall(r"`([a-z_][a-z0-9_]*)\(?", text))
    missing = [n for n in analysis.__all__ if not n.isupper() and n != "DATASET_FUNCTIONS"
               and n not in mapped]
    assert not missing, f"docs/functions.md does not map {missing}"


def test_function_map_marks_exactly_the_accessor_methods():
    text = DOCS.read_text().split("## Analysis functions", 1)[1].split("\n## ", 1)[0]
    marked: set[str] = set()
    for row in text.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([a-z_][a-z0-9_]*)", cells[0])
        marked |= set(names) if cells[3] == "✓" else set(re.findall(r"`([a-z_0-9]+)`",
                                                                    cells[3]))
    assert marked == set(analysis.DATASET_FUNCTIONS)


@pytest.fixture(scope="module")
def network_run():
    from neurosim_nb.core.networks.benchmarks_models import coba_network

    net = coba_network(400, seed=3)
    run = net.simulate(600.0, seed=3, record=("V",))
    return net, run


def _calls(net, run):
    """Arguments that make every data-first function applicable to a COBA run."""
    v = run["V"].isel(neuron=0)
    special = {
        "phase_at_spikes": dict(signal=v),
        "synaptic_currents": dict(network=net),
        "lfp_proxy": dict(network=net),
        "band_power": dict(segment_ms=600.0),
        "detect_oscillations": dict(n_surrogates=19, seed=0),
        "branching_ratio": dict(bin_ms=1.0, method="mr"),
        "avalanches": dict(bin_ms=0.1),
        "criticality_summary": dict(bin_ms=0.1),
        "atp_consumption": dict(network=net),
    }
    skip = {"hh_sodium_atp", "plasticity_stability",  # need an HH run / plastic weights
            # need a compartmental (Cell) run: tests/cable/test_measures.py
            "attenuation", "path_distance", "propagation_velocity", "spike_latency"}
    return {n: special.get(n, {}) for n in analysis.DATASET_FUNCTIONS if n not in skip}


def test_every_result_is_named_with_units_and_survives_netcdf(network_run, tmp_path):
    net, run = network_run
    for name, kwargs in _calls(net, run).items():
        out = getattr(run.neuro, name)(**kwargs)
        assert isinstance(out, xr.DataArray | xr.Dataset), name
        arrays = [out] if isinstance(out, xr.DataArray) else list(out.data_vars.values())
        for da in arrays:
            assert da.name, f"{name}: unnamed result"
            assert {"units", "long_name"} <= set(da.attrs), f"{name}: {da.name} lacks units"
        ds = out.to_dataset() if isinstance(out, xr.DataArray) else out
        path = tmp_path / f"{name}.nc"
        ds.to_netcdf(path)
        with xr.open_dataset(path) as back:
            xr.testing.assert_identical(back.load(), ds)
