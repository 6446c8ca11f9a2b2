"""The cell's Dataset (schema, NetCDF round trip, JSON rebuild), synapses and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim_nb.cable import CableDivergedError, Cell, CurrentWaveform, IClamp, SynapseInput
from neurosim_nb.channels.library import mechanism
from neurosim_nb.export.netcdf import load_simulation, save_simulation
from neurosim_nb.morphology import Morphology, discretise
from neurosim_nb.schema import validate_dataset


def _cell(**kw):
    comp = discretise(Morphology.ball_and_stick(20.0, 300.0, 1.0), Ra_ohm_cm=100.0, nseg=9)
    mechs = {"soma": ["hh1952_na", "hh1952_k", "hh1952_leak"],
             "basal": [mechanism("hh1952_leak", g_max=0.05)]}
    return Cell(comp, mechs, temperature_C=6.3, V_init=-65.0, **kw)


def test_dataset_schema_and_lossless_netcdf_round_trip(tmp_path):
    cell = _cell(densities={"hh1952_leak.g": lambda d: 0.05 + 1e-4 * d})
    cell.add(IClamp("soma", 0.5, 0.3, 2.0, 10.0),
             CurrentWaveform("dend", 0.5, [0.0, 5.0, 10.0], [0.0, 0.05, 0.0]),
             SynapseInput("dend", 0.8, "NMDA", 0.002, (3.0, 6.0)))
    ds = cell.simulate(15.0, 0.025, record=("V", "hh1952_na.m"), verbose=False)
    validate_dataset(ds)
    assert ds.V.dims == ("time", "compartment") and ds.V.attrs["units"] == "mV"
    assert ds.spike_time.size >= 1
    assert set(ds.coords) >= {"section", "distance", "x", "y", "z"}
    assert np.isnan(ds.hh1952_na_m.values[:, 0]).all()  # a zero-area node has no gates
    path = save_simulation(ds, tmp_path / "cell.nc")
    back = load_simulation(path)
    for name in ds.variables:
        np.testing.assert_array_equal(back[name].values, ds[name].values)
        assert back[name].attrs == ds[name].attrs
    assert back.attrs["params_json"] == ds.attrs["params_json"]
    # the JSON rebuilds the cell: the same run gives the same numbers
    again = Cell.from_json(back.attrs["params_json"]).simulate(
        15.0, 0.025, record=("V", "hh1952_na.m"), verbose=False)
    np.testing.assert_array_equal(again.V.values, ds.V.values)


def test_synapse_conductance_matches_its_closed_form_on_a_clamped_like_soma():
    """A current-kind receptor (nA) adds its waveform to the cell: on a passive single
    compartment with a long time constant, the charge it delivers, integral of
    w e^(-t/tau) = w tau, shows as dV = w tau / C (tau_m >> tau_syn: 1 % here)."""
    comp = discretise(Morphology.soma(50.0), nseg=1)
    cell = Cell(comp, [mechanism("hh1952_leak", g_max=1e-4, E_rev=-65.0)], V_init=-65.0)
    cell.add(SynapseInput("soma", 0.5, "current", 0.1, (1.0,)))
    ds = cell.simulate(40.0, 0.025, method="crank_nicolson", verbose=False)
    c_nF = 1.0 * comp.area_um2.sum() * 1e-5
    dv = 0.1 * 5.0 / c_nF
    assert abs((ds.V.values[-1, 1] + 65.0) - dv) / dv < 0.01


@pytest.mark.parametrize("bad, match", [
    (dict(mechanisms={}), "needs mechanisms"),
    (dict(mechanisms={"soma": ["hh1952_leak"]}), "have no mechanism"),
    (dict(mechanisms={"apical": ["hh1952_leak"]}), "unknown region"),
    (dict(mechanisms=["nope"]), "unknown mechanism"),
    (dict(densities={"hh1952_leak.q": 1.0}), "unknown density"),
    (dict(densities={"hh1952_leak.g": lambda d: np.nan * d}), "NaN"),
    (dict(V_init=np.nan), "V_init"),
    (dict(spike_location=("axon", 0.5)), "outside the cell"),
])
def test_bad_cells_are_refused_clearly(bad, match):
    comp = discretise(Morphology.ball_and_stick(), nseg=3)
    kw = {"mechanisms": ["hh1952_leak"], **bad}
    with pytest.raises((ValueError, TypeError), match=match):
        Cell(comp, kw.pop("mechanisms"), **kw)


def test_bad_runs_and_stimuli_are_refused_clearly():
    cell = _cell()
    with pytest.raises(ValueError, match="outside the cell"):
        cell.add(IClamp("dend", 1.5, 0.1, 0.0, 1.0))
    with pytest.raises(ValueError, match="outside the cell"):
        cell.add(IClamp("axon", 0.5, 0.1, 0.0, 1.0))
    with pytest.raises(ValueError, match="finite"):
        IClamp("soma", 0.5, float("nan"), 0.0, 1.0)
    with pytest.raises(ValueError, match="dt_ms"):
        cell.simulate(10.0, 0.0)
    with pytest.raises(ValueError, match="dt_ms"):
        cell.simulate(10.0, -0.1)
    with pytest.raises(ValueError, match="duration_ms"):
        cell.simulate(float("nan"))
    with pytest.raises(ValueError, match="method"):
        cell.simulate(10.0, method="rk4")
    with pytest.raises(ValueError, match="cannot record"):
        cell.simulate(10.0, record=("V", "ca_i"))
    with pytest.raises(ValueError, match="record_compartments"):
        cell.simulate(10.0, record_compartments=[10_000])
    with pytest.raises(ValueError, match="sample_every"):
        cell.simulate(1e7, 0.001, verbose=False)


def test_a_custom_mechanism_runs_and_its_json_says_it_cannot_be_rebuilt():
    from neurosim_nb.channels.mechanism import Mechanism

    comp = discretise(Morphology.soma(20.0), nseg=1)
    leak = Mechanism("my_leak", None, (), g_max=0.1, E_rev=-70.0)
    ds = Cell(comp, [leak], V_init=-60.0).simulate(5.0, 0.025, verbose=False)
    assert ds.V.values[-1, 1] < -60.0
    with pytest.raises(ValueError, match="'my_leak' is not in the library"):
        Cell.from_json(ds.attrs["params_json"])


def test_divergence_names_time_and_compartment():
    comp = discretise(Morphology.soma(20.0), nseg=1)
    cell = Cell(comp, [mechanism("hh1952_leak", g_max=0.1)], V_init=-65.0)
    cell.add(IClamp("soma", 0.5, 1e9, 1.0, 5.0))
    with pytest.raises(CableDivergedError, match=r"t = 1\.\d* ms in compartment \d+ "
                                                 r"\(section 'soma'"):
        cell.simulate(5.0, 0.025, verbose=False)


def test_locations_by_section_type_when_it_names_one_section():
    """("soma", x) finds the soma of a cell read from SWC (section "soma[0]"); a type with
    several sections must be named, with the candidates in the error."""
    from neurosim_nb.morphology import load_swc, sample_morphology

    comp = discretise(load_swc(sample_morphology()), Ra_ohm_cm=100.0, d_lambda=0.1)
    cell = Cell(comp, ["hh1952_leak"])
    assert cell.locate("soma", 0.5) == cell.locate("soma[0]", 0.5) == comp.locate("soma[0]",
                                                                                  0.5)
    with pytest.raises(ValueError, match=r"sections of type 'basal' \(\['dend\[0\]'"):
        cell.locate("basal", 0.5)
    with pytest.raises(ValueError, match="no section 'apical'"):
        cell.locate("apical", 0.5)
