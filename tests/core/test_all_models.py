"""Contract every model family honours: schema, NetCDF round trip, determinism, errors."""

import numpy as np
import pytest
import xarray as xr

from neurosim_nb import validate_dataset
from neurosim_nb.core.neurons import MODEL_FAMILIES, model_class
from neurosim_nb.engine import OUNoise, PoissonInput

CASES = [(family, preset) for family in MODEL_FAMILIES
         for preset in model_class(family).presets()]


def run(family, preset, seed, n=3):
    cls = model_class(family)
    amp = cls.demo_current(preset)
    noise = [OUNoise(mean=amp, sigma=0.2 * abs(amp) + 1e-3, tau_ms=3.0),
             PoissonInput(rate_hz=300.0, weight_mV=0.5)]
    pop = cls.from_preset(preset, n=n)
    return pop.simulate(150.0, noise, record=[*cls.state_variables, "I_ext"], seed=seed)


@pytest.mark.parametrize("family, preset", CASES)
def test_schema_netcdf_and_determinism(family, preset, tmp_path):
    cls = model_class(family)
    ds = run(family, preset, seed=11)
    validate_dataset(ds)
    assert ds.attrs["model"] == cls.__name__
    assert ds.V.attrs["units"] == "mV" and ds.I_ext.attrs["units"] == cls.current_units
    for name, (units, long_name) in cls.state_variables.items():
        assert ds[name].attrs == {"units": units, "long_name": long_name}
        assert np.all(np.isfinite(ds[name].values)), f"{family}/{preset}: {name} not finite"
    path = tmp_path / "r.nc"
    ds.to_netcdf(path)
    with xr.open_dataset(path) as back:
        xr.testing.assert_identical(back.load(), ds)
    xr.testing.assert_identical(run(family, preset, seed=11), ds)
    assert not run(family, preset, seed=12).V.equals(ds.V)


@pytest.mark.parametrize("family", MODEL_FAMILIES)
def test_demo_current_makes_every_preset_fire(family):
    cls = model_class(family)
    for preset in cls.presets():
        ds = cls.from_preset(preset).simulate(500.0, cls.demo_current(preset), seed=0, record=())
        assert ds.sizes["spike"] > 0, f"{family}/{preset} silent at its demo current"


@pytest.mark.parametrize("family", MODEL_FAMILIES)
def test_unknown_state_variable_and_preset_are_clear_errors(family):
    cls = model_class(family)
    with pytest.raises(ValueError, match="cannot record 'no_such_var'"):
        cls().simulate(10.0, 0.0, record=["no_such_var"])
    with pytest.raises(ValueError, match="preset"):
        cls.from_preset("no_such_preset")


@pytest.mark.parametrize("family", MODEL_FAMILIES)
def test_nan_state_reports_divergence(family):
    from neurosim_nb.engine import SimulationDivergedError

    pop = model_class(family)()
    pop.get_state("V")[:] = np.nan  # bypasses the V setter's check on purpose
    with pytest.raises(SimulationDivergedError, match="smaller dt"):
        pop.simulate(1.0, 0.0)
