"""Cable measures (neurosim_nb.analysis.cable, input resistance and electrotonic length of
neurosim_nb.experiments.cable) against cable theory and NEURON.

References: the sealed finite cable's steady state V(x)/V(0) = cosh((l - x)/lambda) /
cosh(l/lambda) and R_in = R_inf coth(l/lambda) (Rall 1977; Johnston & Wu, *Foundations of
Cellular Neurophysiology*, ch. 4); NEURON 9.0.2's input resistance of the shipped SWC cell
(tests/cable/reference/swc_input_resistance.json, made by make_neuron_references.py).
Tolerances: NEURON's centred nodes are second order in the segment length h; the leading
error of the centred difference relative to V'' = V/lambda^2 is (h/lambda)^2/12, asserted
with margin as (h/lambda)^2/6 (as tests/cable/test_passive.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from neurosim_nb.analysis.cable import (
    attenuation,
    path_distance,
    propagation_velocity,
    spike_latency,
)
from neurosim_nb.cable import Cell, IClamp
from neurosim_nb.channels.library import mechanism
from neurosim_nb.channels.membrane import Membrane
from neurosim_nb.experiments.cable import (
    electrotonic_length,
    input_resistance,
    unmyelinated_axon_cell,
)
from neurosim_nb.morphology import Morphology, discretise, load_swc, sample_morphology

REF = Path(__file__).resolve().parent / "reference"

RA, D_UM, L_UM, G_L = 100.0, 1.0, 1000.0, 0.1        # Ohm cm, um, um, mS/cm2
RM = 1.0 / (G_L * 1e-3)                               # Ohm cm2
LAMBDA_UM = np.sqrt(RM * D_UM * 1e-4 / (4.0 * RA)) * 1e4   # 500 um
R_INF_MOHM = 4.0 * RA * LAMBDA_UM * 1e-4 / (np.pi * (D_UM * 1e-4) ** 2) / 1e6
NSEG = 100
H_TOL = (L_UM / NSEG / LAMBDA_UM) ** 2 / 6.0          # 6.7e-4


def _cable_cell(nseg=NSEG):
    comp = discretise(Morphology.cylinder(L_UM, D_UM), Ra_ohm_cm=RA, nseg=nseg)
    return Cell(comp, {"all": [mechanism("hh1952_leak", g_max=G_L, E_rev=-65.0)]},
                V_init=-65.0)


@pytest.fixture(scope="module")
def sealed_dc():
    """0.01 nA into the 0-end of the sealed cable for 40 membrane time constants (BE's
    fixed point is the discrete steady state; e^-40 of the transient is left)."""
    cell = _cable_cell()
    cell.add(IClamp("cable", 0.0, 0.01, 0.0, 1e6))
    return cell.simulate(400.0, 1.0, verbose=False, sample_every=200)


def test_attenuation_follows_cosh_along_a_sealed_cable(sealed_dc):
    att = attenuation(sealed_dc, ("cable", 0.0), baseline=-65.0)
    x = att.path_distance.values
    ref = np.cosh((L_UM - x) / LAMBDA_UM) / np.cosh(L_UM / LAMBDA_UM)
    assert np.max(np.abs(att.values - ref)) < H_TOL
    assert att.attrs["source_compartment"] == 0 and x[0] == 0.0
    assert x[-1] == pytest.approx(L_UM, rel=1e-12)
    # the default source is the largest deflection: the same site
    assert attenuation(sealed_dc, baseline=-65.0).attrs["source_compartment"] == 0
    # ds.neuro method; a named result with units that survives NetCDF
    xr.testing.assert_identical(sealed_dc.neuro.attenuation(("cable", 0.0), baseline=-65.0),
                                att)
    assert att.name == "attenuation" and att.attrs["units"] == "1"


def test_peak_attenuation_of_a_transient_is_steeper_than_steady(sealed_dc):
    """A brief pulse attenuates more than DC (the AC length constant is shorter): every
    node beyond the source gets a smaller peak ratio than its steady ratio."""
    cell = _cable_cell(50)
    cell.add(IClamp("cable", 0.0, 0.5, 1.0, 0.5))
    ds = cell.simulate(30.0, 0.025, verbose=False)
    peak = attenuation(ds, ("cable", 0.0), mode="peak")
    x = peak.path_distance.values
    steady = np.cosh((L_UM - x) / LAMBDA_UM) / np.cosh(L_UM / LAMBDA_UM)
    assert np.all(peak.values[x > 50] < steady[x > 50])


def test_path_distance_on_a_branched_tree():
    """Tip to tip across a Y: the two daughters' lengths (geometry, exact)."""
    comp = discretise(Morphology.y_branch(100.0, 2.0, 80.0), nseg=5)
    cell = Cell(comp, {"all": ["hh1952_leak"]}, V_init=-54.387)
    ds = cell.simulate(0.05, 0.025, verbose=False)
    d = path_distance(ds, ("daughter1", 1.0))
    tip2 = comp.locate("daughter2", 1.0)
    root = comp.locate("parent", 0.0)
    assert d.sel(compartment=tip2).item() == pytest.approx(160.0, abs=1e-9)
    assert d.sel(compartment=root).item() == pytest.approx(180.0, abs=1e-9)


def test_input_resistance_exact_and_dc_step_vs_r_inf_coth():
    exact = R_INF_MOHM / np.tanh(L_UM / LAMBDA_UM)
    cell = _cable_cell()
    lin = input_resistance(cell, ("cable", 0.0))
    step = input_resistance(cell, ("cable", 0.0), method="dc_step", amp_nA=0.01,
                            dt_ms=1.0)
    assert lin.attrs["method"] == "exact" and lin.input_resistance.attrs["units"] == "MOhm"
    assert abs(float(lin.input_resistance) / exact - 1) < H_TOL
    # BE's steady state solves the same linear system: the step differs by its unsettled
    # transient, e^-20 of the deflection (20 membrane time constants)
    assert abs(float(step.input_resistance) / float(lin.input_resistance) - 1) < 1e-8
    assert abs(float(step.input_resistance) / exact - 1) < H_TOL
    # transfer resistances: R(0, x) = R_inf cosh((l - x)/lambda) / sinh(l/lambda)
    x = cell.compartments.position * L_UM
    ref = R_INF_MOHM * np.cosh((L_UM - x) / LAMBDA_UM) / np.sinh(L_UM / LAMBDA_UM)
    assert np.max(np.abs(lin.transfer_resistance.values / ref - 1)) < 2 * H_TOL
    assert cell.stimuli == []


def test_input_resistance_of_an_active_cell_uses_the_steady_state_slope():
    """HH membrane on one compartment: R_in = 1 / (A dI_ss/dV) at the resting potential;
    the reference slope is a finite difference of the steady-state current computed from
    the HH 1952 rate functions directly (numpy), not through the compiled membrane."""
    morph = Morphology.soma(20.0)
    comp = discretise(morph, nseg=1)
    cell = Cell(comp, {"all": ["hh1952_na", "hh1952_k", "hh1952_leak"]}, V_init="rest")
    r = input_resistance(cell, ("soma", 0.5))
    v0 = float(r.V_rest.values[1])

    def i_ss(v):
        am = 0.1 * (v + 40) / (1 - np.exp(-(v + 40) / 10))
        bm = 4 * np.exp(-(v + 65) / 18)
        ah = 0.07 * np.exp(-(v + 65) / 20)
        bh = 1 / (1 + np.exp(-(v + 35) / 10))
        an = 0.01 * (v + 55) / (1 - np.exp(-(v + 55) / 10))
        bn = 0.125 * np.exp(-(v + 65) / 80)
        m, h, n = am / (am + bm), ah / (ah + bh), an / (an + bn)
        return 120 * m**3 * h * (v - 50) + 36 * n**4 * (v + 77) + 0.3 * (v + 54.387)

    assert abs(i_ss(v0)) < 1e-3                   # uA/cm2: the rest is the zero current
    g = (i_ss(v0 + 1e-3) - i_ss(v0 - 1e-3)) / 2e-3   # mS/cm2
    area_cm2 = np.pi * 20.0**2 * 1e-8
    ref = 1.0 / (g * 1e-3 * area_cm2) / 1e6        # MOhm
    # the membrane's gate tables interpolate on a 0.02 mV grid (error < 1e-6 relative)
    assert float(r.input_resistance) == pytest.approx(ref, rel=1e-4)


def test_input_resistance_of_the_shipped_cell_matches_neuron():
    """Brian2's mp_ma_40984_gc2 cell, passive (Ra 100, cm 1, g_pas 1e-4 S/cm2), d_lambda
    segments: NEURON 9.0.2's Impedance at 0 Hz. The compartments match NEURON's
    segment by segment to 1e-7 (tests/morphology), so the linear solve agrees to round-off
    of those; 1e-4 relative is asserted."""
    ref = json.loads((REF / "swc_input_resistance.json").read_text())
    comp = discretise(load_swc(sample_morphology()), Ra_ohm_cm=100.0, cm_uF_cm2=1.0)
    assert int(comp.nseg.sum()) == ref["nseg_total"]
    cell = Cell(comp, {"all": [mechanism("hh1952_leak", g_max=0.1, E_rev=-65.0)]},
                V_init=-65.0)
    r = float(input_resistance(cell, ("soma[0]", 0.5)).input_resistance)
    assert r == pytest.approx(ref["rin_MOhm_impedance_0Hz"], rel=1e-4)


def test_electrotonic_length_of_a_cylinder_is_l_over_lambda():
    comp = discretise(Morphology.cylinder(L_UM, D_UM), Ra_ohm_cm=RA, nseg=7)
    exact = L_UM / LAMBDA_UM
    assert float(electrotonic_length(comp, RM, "cable").electrotonic_length) == \
        pytest.approx(exact, rel=1e-12)
    leak = mechanism("hh1952_leak", g_max=G_L, E_rev=-65.0)
    assert float(electrotonic_length(comp, Membrane([leak]), ["cable"])
                 .electrotonic_length) == pytest.approx(exact, rel=1e-6)
    cell = Cell(comp, {"all": [leak]}, V_init=-65.0)
    assert float(electrotonic_length(comp, cell, "cable").electrotonic_length) == \
        pytest.approx(exact, rel=1e-6)


def test_propagation_velocity_and_latency_on_an_hh_axon():
    """HH 1952 axon, 1 um: v = 18.8 m/s sqrt(1 / 476) = 0.862 m/s (HH 1952's computed
    velocity scaled by sqrt(d), the cable equation's similarity); NEURON's value for
    476 um at dt 0.01 BE (tests/cable/reference/squid_axon_velocity.json) is 18.59, CN
    18.71 m/s: within 2 % of 0.862 at this discretisation (d_lambda 0.05, dt 0.005)."""
    cell = unmyelinated_axon_cell(1.0, 5000.0)
    ds = cell.simulate(12.0, 0.005, "crank_nicolson", verbose=False)
    res = propagation_velocity(ds, "axon", after_ms=1.0, between_um=(1500.0, 3500.0))
    assert float(res.velocity) == pytest.approx(18.8 * np.sqrt(1.0 / 476.0), rel=0.02)
    # a uniform axon: arrival is linear in distance (residual << one segment)
    assert float(res.fit_residual) < 0.1 * float(cell.compartments.length_um.max())
    for name, da in res.data_vars.items():
        assert {"units", "long_name"} <= set(da.attrs), name
    xr.testing.assert_identical(ds.neuro.propagation_velocity("axon", after_ms=1.0,
                                                              between_um=(1500.0, 3500.0)), res)
    lat = spike_latency(ds, ("axon", 1.0), onset_ms=1.0)
    assert float(lat) > float(res.latency) > 0
    assert float(res.arrival_time[-1]) - 1.0 == pytest.approx(float(lat), abs=1e-12)


def test_clear_errors():
    cell = _cable_cell(10)
    cell.add(IClamp("cable", 0.0, 0.01, 0.0, 5.0))
    ds = cell.simulate(5.0, 0.025, verbose=False)
    with pytest.raises(ValueError, match="no spike reaches the start"):
        propagation_velocity(ds)
    with pytest.raises(ValueError, match="never crosses"):
        spike_latency(ds, ("cable", 0.5))
    with pytest.raises(ValueError, match="mode must be"):
        attenuation(ds, mode="mean")
    with pytest.raises(ValueError, match="no section 'soma'"):
        attenuation(ds, ("soma", 0.5))
    with pytest.raises(ValueError, match="was not recorded"):
        attenuation(ds, 999)
    with pytest.raises(TypeError, match="xarray.Dataset"):
        attenuation(ds.V)
    with pytest.raises(ValueError, match="baseline"):
        attenuation(ds, baseline="last")
    with pytest.raises(ValueError, match="path must be"):
        propagation_velocity(ds, path=[1.5])
    with pytest.raises(ValueError, match="method must be"):
        input_resistance(cell, ("cable", 0.5), method="ac")
    with pytest.raises(ValueError, match="outside the cell"):
        input_resistance(cell, ("dend", 0.5))
    with pytest.raises(ValueError, match="Rm must be"):
        electrotonic_length(cell.compartments, -1.0, "cable")
    with pytest.raises(ValueError, match="no section 'x'"):
        electrotonic_length(cell.compartments, RM, "x")
    with pytest.raises(TypeError, match="membrane must be"):
        electrotonic_length(cell.compartments, "leak", "cable")
    ds0 = cell.simulate(5.0, 0.025, verbose=False)
    with pytest.raises(ValueError, match="no deflection"):
        attenuation(ds0.isel(time=[0, 0]), ("cable", 0.5))
