"""Discretisation against closed forms: cylinder and frustum areas, axial resistances,
the d_lambda segment count, path distances, and the Hines numbering.

Units: lengths um, Ra ohm cm, so 4 Ra L / (pi d^2) is in ohm cm um / um^2 = 1e4 ohm
= 1e-2 MOhm. Tolerances 1e-12 relative: the formulas are evaluated in double precision
along different orders of operations only.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from neurosim_nb.morphology import (
    Morphology,
    d_lambda_nseg,
    discretise,
    frustum_area_um2,
    lambda_f_um,
)

RT = 1e-12


def r_cyl_MOhm(Ra, length, d):
    return 4.0 * Ra * length / (math.pi * d * d) * 1e-2


@pytest.mark.parametrize("nseg", [1, 2, 5])
def test_cylinder_areas_and_resistances(nseg):
    L, d, Ra = 120.0, 1.5, 150.0
    c = discretise(Morphology.cylinder(L, d), Ra_ohm_cm=Ra, nseg=nseg)
    centres = np.arange(1, nseg + 1)
    np.testing.assert_allclose(c.area_um2[centres], math.pi * d * L / nseg, rtol=RT)
    assert c.area_um2[0] == 0.0 and c.area_um2[-1] == 0.0
    np.testing.assert_allclose(c.area_um2.sum(), math.pi * d * L, rtol=RT)
    half = r_cyl_MOhm(Ra, L / nseg / 2, d)
    np.testing.assert_allclose(c.r_axial_MOhm[1], half, rtol=RT)          # 0-end to centre
    np.testing.assert_allclose(c.r_axial_MOhm[2:nseg + 1], 2 * half, rtol=RT)
    np.testing.assert_allclose(c.r_axial_MOhm[-1], half, rtol=RT)         # centre to 1-end
    np.testing.assert_allclose(c.r_axial_MOhm.sum(), r_cyl_MOhm(Ra, L, d), rtol=RT)
    np.testing.assert_allclose(c.length_um[centres], L / nseg, rtol=RT)
    np.testing.assert_allclose(c.diameter_um[centres], d, rtol=RT)


def test_tapered_section_is_integrated_as_a_frustum():
    L, d0, d1, Ra = 80.0, 3.0, 1.0, 100.0
    m = Morphology.cylinder(L, (d0, d1))
    np.testing.assert_allclose(m.surface_area_um2, frustum_area_um2(L, d0 / 2, d1 / 2), rtol=RT)
    np.testing.assert_allclose(
        m.surface_area_um2, math.pi * (d0 + d1) / 2 * math.hypot(L, (d1 - d0) / 2), rtol=RT)
    nseg = 4
    c = discretise(m, Ra_ohm_cm=Ra, nseg=nseg)
    edges = np.linspace(0.0, L, nseg + 1)
    dd = d0 + (d1 - d0) * edges / L
    np.testing.assert_allclose(c.area_um2[1:-1], frustum_area_um2(L / nseg, dd[:-1] / 2,
                                                                 dd[1:] / 2), rtol=RT)
    np.testing.assert_allclose(c.diameter_um[1:-1], (dd[:-1] + dd[1:]) / 2, rtol=RT)
    # integral of 4 Ra / (pi d(x)^2) dx over a linear taper = 4 Ra L / (pi d0 d1)
    np.testing.assert_allclose(c.r_axial_MOhm.sum(), 4 * Ra * L / (math.pi * d0 * d1) * 1e-2,
                               rtol=RT)
    mids = (dd[:-1] + dd[1:]) / 2
    first_half = 4 * Ra * (L / nseg / 2) / (math.pi * dd[0] * mids[0]) * 1e-2
    np.testing.assert_allclose(c.r_axial_MOhm[1], first_half, rtol=RT)


def test_points_with_radii_give_the_same_frusta():
    m = Morphology()
    m.add_section("s", [[0, 0, 0, 1.0], [3, 4, 0, 0.5], [3, 4, 12, 0.5]], type="apical")
    s = m.sections[0]
    assert s.length_um == pytest.approx(17.0, rel=RT)
    expected = frustum_area_um2(5.0, 1.0, 0.5) + 2 * math.pi * 0.5 * 12
    np.testing.assert_allclose(s.area_um2, expected, rtol=RT)
    c = discretise(m, nseg=3)
    np.testing.assert_allclose(c.area_um2.sum(), expected, rtol=RT)
    assert (c.type_code == 4).all()


def test_soma_convention_is_neurons_cylinder():
    s = Morphology.soma(18.0).sections[0]
    assert s.length_um == pytest.approx(18.0, rel=RT)
    np.testing.assert_allclose(s.area_um2, 4 * math.pi * 9.0**2, rtol=RT)   # sphere's area


@pytest.mark.parametrize("d, Ra, cm, f", [(1.0, 35.4, 1.0, 100.0), (4.0, 200.0, 0.8, 1000.0)])
def test_lambda_f_and_d_lambda_nseg_of_cylinders(d, Ra, cm, f):
    lam = 1e5 * math.sqrt(d / (4 * math.pi * f * Ra * cm))       # um
    s = Morphology.cylinder(10.0, d).sections[0]
    np.testing.assert_allclose(lambda_f_um(s, f, Ra, cm), lam, rtol=RT)
    for L in (1.0, 0.1 * lam * 1.09, 0.1 * lam * 1.11, 0.1 * lam * 5.0, 7.3 * lam):
        s = Morphology.cylinder(L, d).sections[0]
        expected = int((L / (0.1 * lam) + 0.9) / 2) * 2 + 1
        assert d_lambda_nseg(s, 0.1, f, Ra, cm) == expected
    # the rounding: L = 1.09 and 1.11 d_lambda*lambda fall on either side of nseg 1 -> 3
    assert d_lambda_nseg(Morphology.cylinder(0.1 * lam * 1.09, d).sections[0], 0.1, f, Ra,
                         cm) == 1
    assert d_lambda_nseg(Morphology.cylinder(0.1 * lam * 1.11, d).sections[0], 0.1, f, Ra,
                         cm) == 3


def test_tapered_lambda_uses_neurons_3d_integral():
    L, d0, d1 = 500.0, 2.0, 0.5
    s = Morphology.cylinder(L, (d0, d1)).sections[0]
    k = math.sqrt(2) * 1e-5 * math.sqrt(4 * math.pi * 100.0 * 35.4 * 1.0)
    np.testing.assert_allclose(lambda_f_um(s), L / (k * L / math.sqrt(d0 + d1)), rtol=RT)


def test_hines_order_attachment_and_distances():
    m = Morphology.ball_and_stick(20.0, 300.0, 2.0)
    m.add_cylinder("side", 40.0, 1.0, parent="dend", at=0.5, direction=(0, 1, 0))
    c = discretise(m, nseg={"soma": 1, "dend": 3, "side": 2})
    assert c.parent[0] == -1 and np.all(c.parent[1:] < np.arange(1, c.n))
    for s in range(len(c.section_names)):          # each section's nodes contiguous
        idx = np.flatnonzero(c.section == s)
        assert np.all(np.diff(idx) == 1)
    # soma: 0-end, centre, 1-end; dend attaches to the soma's 1-end node (index 2)
    assert c.locate("dend", 0.0) == 2 == c.parent[c.locate("dend", 1 / 6)]
    # side attaches at dend x=0.5: the centre of dend's middle segment
    mid = c.locate("dend", 0.5)
    assert c.position[mid] == pytest.approx(0.5) and c.parent[c.locate("side", 0.25)] == mid
    # path distances from the soma's centre
    dend = np.flatnonzero(c.section == 1)
    np.testing.assert_allclose(c.distance_um[dend], 10.0 + c.position[dend] * 300.0, rtol=RT)
    side = np.flatnonzero(c.section == 2)
    np.testing.assert_allclose(c.distance_um[side], 160.0 + c.position[side] * 40.0, rtol=RT)
    np.testing.assert_allclose(c.y_um[side], c.position[side] * 40.0, rtol=RT)
    # the side branch's first node connects straight to dend's middle node: its half only
    np.testing.assert_allclose(c.r_axial_MOhm[side[0]], r_cyl_MOhm(35.4, 10.0, 1.0), rtol=RT)


def test_y_branch_obeys_rall():
    m = Morphology.y_branch(parent_diameter_um=3.0)
    d = m.section("daughter1").diameters_um[0]
    assert 2 * d**1.5 == pytest.approx(3.0**1.5, rel=RT)
    c = discretise(m, nseg=1)
    end = c.locate("parent", 1.0)
    assert c.parent[c.locate("daughter1", 0.5)] == end == c.parent[c.locate("daughter2", 0.5)]


def test_regions_masks_and_dataset_coords():
    m = Morphology.ball_and_stick()
    m.add_cylinder("ax", 100.0, 1.0, parent="soma", at=0.0, type="axon",
                   direction=(-1, 0, 0))
    c = discretise(m, nseg=3)
    assert c.region_mask("axon").tolist() == c.region_mask(2).tolist()
    assert c.region_mask("ax").sum() == 4 and c.region_mask("soma").sum() == 5
    far = c.mask(lambda cc: cc.distance_um > 50.0)
    assert np.all(c.distance_um[far] > 50) and far.any()
    with pytest.raises(ValueError, match="neither a section type"):
        c.region_mask("apicl")
    with pytest.raises(ValueError, match="bool array"):
        c.mask(lambda cc: cc.distance_um)
    ds = xr.Dataset(coords=c.to_dataset_coords())
    assert ds.sizes["compartment"] == c.n
    assert ds["area"].attrs["units"] == "um2" and ds["distance"].attrs["units"] == "um"
    assert ds["section"].values[0] == "soma"


def test_bad_arguments_are_refused():
    m = Morphology.ball_and_stick()
    with pytest.raises(ValueError, match="nseg names no section"):
        discretise(m, nseg={"dendrite": 3})
    with pytest.raises(ValueError, match="nseg must be"):
        discretise(m, nseg=0)
    with pytest.raises(ValueError, match="Ra_ohm_cm"):
        discretise(m, Ra_ohm_cm=-1.0)
    with pytest.raises(ValueError, match="already exists"):
        m.add_cylinder("dend", 10.0, 1.0, parent="soma")
    with pytest.raises(ValueError, match="no section named"):
        m.add_cylinder("x", 10.0, 1.0, parent="dendrite")
    with pytest.raises(ValueError, match="diameter_um"):
        m.add_cylinder("x", 10.0, 0.0, parent="soma")
    with pytest.raises(ValueError, match="type must be one of"):
        m.add_cylinder("x", 10.0, 1.0, parent="soma", type="dendrite")
    with pytest.raises(ValueError, match="x must be"):
        discretise(m, nseg=1).locate("dend", 1.5)
