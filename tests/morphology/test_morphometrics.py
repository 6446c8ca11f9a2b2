"""Morphometrics of the shipped cell against counts made directly from its SWC rows.

The raw rows are read here with numpy alone (no neurosim_nb code). The soma convention
counted: NEURON Import3d's one-point soma, a cylinder of length = diameter = 2r (area
4 pi r^2), with each dendrite stem starting at its own first point (the segment from the
soma centre to a stem's first point is a "wire", not cable; every stem of this cell has two
points or more, checked below, so no stem keeps that segment).
"""

from __future__ import annotations

import numpy as np
import pytest

from neurosim_nb.morphology import Morphology, load_swc, sample_morphology


@pytest.fixture(scope="module")
def raw():
    rows = np.loadtxt(sample_morphology(), comments="#", ndmin=2)
    ids = rows[:, 0].astype(int)
    parent = rows[:, 6].astype(int)
    index = {i: k for k, i in enumerate(ids)}
    pix = np.array([index.get(p, -1) for p in parent])
    n_children = np.bincount(pix[pix >= 0], minlength=len(ids))
    return rows, pix, n_children


@pytest.fixture(scope="module")
def cell():
    return load_swc(sample_morphology("mp_ma_40984_gc2"))


def test_the_raw_file_is_one_point_soma_with_long_stems(raw):
    rows, pix, n_children = raw
    soma = np.flatnonzero(rows[:, 1] == 1)
    assert soma.tolist() == [0] and pix[0] == -1
    stems = np.flatnonzero(pix == 0)
    assert len(stems) >= 2 and np.all(n_children[stems] >= 1)   # every stem has >= 2 points


def test_total_length_from_the_rows(raw, cell):
    rows, pix, _ = raw
    edges = np.flatnonzero(pix > 0)            # parent is a dendrite point (not the soma)
    length = np.linalg.norm(rows[edges, 2:5] - rows[pix[edges], 2:5], axis=1).sum()
    length += 2.0 * rows[0, 5]                 # the soma cylinder, L = 2r
    np.testing.assert_allclose(cell.total_length_um, length, rtol=1e-12)


def test_surface_area_from_the_rows(raw, cell):
    rows, pix, _ = raw
    edges = np.flatnonzero(pix > 0)
    r0, r1 = rows[pix[edges], 5], rows[edges, 5]
    h = np.linalg.norm(rows[edges, 2:5] - rows[pix[edges], 2:5], axis=1)
    area = (np.pi * (r0 + r1) * np.sqrt(h**2 + (r1 - r0) ** 2)).sum()
    area += 4.0 * np.pi * rows[0, 5] ** 2
    np.testing.assert_allclose(cell.surface_area_um2, area, rtol=1e-12)


def test_branch_points_tips_and_sections_from_the_rows(raw, cell):
    rows, pix, n_children = raw
    assert cell.n_branch_points == int(np.sum(n_children >= 2))
    assert cell.n_tips == int(np.sum(n_children == 0))
    # a section starts at every point whose parent branches or has another type
    starts = [k for k in range(1, len(pix))
              if n_children[pix[k]] != 1 or rows[pix[k], 1] != rows[k, 1]]
    assert cell.n_sections == 1 + len(starts)


def test_hand_built_morphometrics():
    m = Morphology.soma(20.0)
    m.add_cylinder("a", 100.0, 2.0, parent="soma", at=1.0)
    m.add_cylinder("b", 50.0, 1.0, parent="a", at=1.0, direction=(0, 1, 0))
    m.add_cylinder("c", 50.0, 1.0, parent="a", at=1.0, direction=(0, -1, 0))
    m.add_cylinder("d", 30.0, 1.0, parent="a", at=1.0, direction=(0, 0, 1))
    m.add_cylinder("ax", 200.0, 0.5, parent="soma", at=0.0, type="axon",
                   direction=(-1, 0, 0))
    assert (m.n_sections, m.n_branch_points, m.n_tips) == (6, 1, 4)
    assert m.total_length_um == pytest.approx(20 + 100 + 50 + 50 + 30 + 200, rel=1e-12)
    area = np.pi * (20**2 + 2 * 100 + 1 * 50 + 1 * 50 + 1 * 30 + 0.5 * 200)
    assert m.surface_area_um2 == pytest.approx(area, rel=1e-12)
