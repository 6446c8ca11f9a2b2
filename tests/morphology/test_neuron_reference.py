"""The import and discretisation match NEURON's own, computed once and committed.

``reference/neuron_reference.json`` was written by ``reference/make_neuron_reference.py``
with NEURON 9.0.2 (recorded in the file): ``Import3d_SWC_read`` +
``Import3d_GUI.instantiate``, Ra = 35.4 ohm cm, cm = 1 uF/cm2, nseg by the d_lambda rule
(0.1 at 100 Hz). Three cells: the shipped NeuroMorpho cell (one-point soma), a
NeuroMorpho three-point soma and a four-point soma with children at its first, an interior
and its last point.

Tolerance 1e-6 relative: NEURON stores 3-D points in single precision (``Pt3d`` holds
``float`` x, y, z, d), so its lengths and areas differ from double-precision ones by ~1e-7
(the largest difference measured here is 8e-8); nseg, names and topology must be exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from neurosim_nb.morphology import discretise, lambda_f_um, load_swc

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REF = json.loads((HERE / "reference" / "neuron_reference.json").read_text())
RTOL = 1e-6


def _load(cell):
    src = cell["source"]
    return load_swc(src if "\n" in src else ROOT / src)


@pytest.fixture(scope="module", params=sorted(REF["cells"]))
def case(request):
    cell = REF["cells"][request.param]
    morph = _load(cell)
    comps = discretise(morph, Ra_ohm_cm=REF["Ra_ohm_cm"], cm_uF_cm2=REF["cm_uF_cm2"],
                       d_lambda=REF["d_lambda"], frequency_Hz=REF["frequency_Hz"])
    return cell, morph, comps


def test_reference_is_from_neuron():
    assert REF["neuron_version"].split(".")[0].isdigit()
    assert set(REF["cells"]) == {"mp_ma_40984_gc2", "three_point_soma", "multi_point_soma"}


def test_sections_names_and_topology_are_neurons(case):
    cell, morph, _ = case
    assert sorted(s.name for s in morph.sections) == sorted(s["name"] for s in cell["sections"])
    for ref in cell["sections"]:
        sec = morph.section(ref["name"])
        if ref["parent"] is None:
            assert sec.parent == -1
        else:
            assert morph.sections[sec.parent].name == ref["parent"]
            assert sec.parent_x == ref["parent_x"]


def test_lengths_areas_and_nseg_match_neuron(case):
    cell, morph, comps = case
    np.testing.assert_allclose(morph.total_length_um, cell["total_L"], rtol=RTOL)
    np.testing.assert_allclose(morph.surface_area_um2, cell["total_area"], rtol=RTOL)
    np.testing.assert_allclose(comps.area_um2.sum(), cell["total_area"], rtol=RTOL)
    assert int(comps.nseg.sum()) == cell["total_nseg"]
    for ref in cell["sections"]:
        i = morph.index(ref["name"])
        sec = morph.sections[i]
        np.testing.assert_allclose(sec.length_um, ref["L"], rtol=RTOL)
        np.testing.assert_allclose(lambda_f_um(sec, 100.0, 35.4, 1.0), ref["lambda_f_100Hz"],
                                   rtol=RTOL)
        assert comps.nseg[i] == ref["nseg"], ref["name"]


def test_every_segment_matches_neuron(case):
    """area(), ri() (to the parent node), diam and distance from soma[0](0.5) of every
    segment centre, and ri() of every section's 1-end node."""
    cell, morph, comps = case
    for ref in cell["sections"]:
        i = morph.index(ref["name"])
        nodes = comps.section_start[i] + np.arange(comps.nseg[i])
        np.testing.assert_allclose(comps.area_um2[nodes], ref["area"], rtol=RTOL)
        np.testing.assert_allclose(comps.r_axial_MOhm[nodes], ref["ri"], rtol=RTOL)
        np.testing.assert_allclose(comps.diameter_um[nodes], ref["diam"], rtol=RTOL)
        np.testing.assert_allclose(comps.distance_um[nodes], ref["distance"], rtol=RTOL,
                                   atol=RTOL * morph.total_length_um)
        np.testing.assert_allclose(comps.r_axial_MOhm[nodes[-1] + 1], ref["ri_end"], rtol=RTOL)
