"""Dendritic summation and axonal conduction (neurosim_nb.experiments.cable).

References: the steady state of sustained conductance synapses on a sealed passive cable,
solved from the closed-form transfer resistances R(x, y) = R_inf cosh(x</lambda)
cosh((l - x>)/lambda) / sinh(l/lambda) (Rall 1977; Koch, *Biophysics of Computation*,
ch. 3 and 5: sublinear summation of conductance inputs); NMDA supralinearity above a
threshold (Schiller et al. 2000 Nature 404:285; Polsky, Mel & Schiller 2004 Nat Neurosci
7:621, qualitative); conduction velocity ~ sqrt(d) unmyelinated (Hodgkin 1954; the HH
cable equation's similarity) and ~ d myelinated (Rushton 1951 J Physiol 115:101).
"""

from __future__ import annotations

import numpy as np
import pytest

from neurosim_nb.analysis.cable import propagation_velocity
from neurosim_nb.cable import Cell, IClamp
from neurosim_nb.channels.library import mechanism
from neurosim_nb.core.synapses.receptors import Receptor
from neurosim_nb.experiments.cable import (
    axon_velocity,
    dendritic_summation,
    myelin_lamellae,
    myelinated_axon_cell,
    unmyelinated_axon_cell,
)
from neurosim_nb.morphology import Morphology, discretise

RA, D_UM, L_UM, G_L, E_L = 100.0, 1.0, 1000.0, 0.1, -65.0
LAMBDA_UM = np.sqrt(1.0 / (G_L * 1e-3) * D_UM * 1e-4 / (4.0 * RA)) * 1e4   # 500 um
R_INF = 4.0 * RA * LAMBDA_UM * 1e-4 / (np.pi * (D_UM * 1e-4) ** 2) / 1e6  # MOhm
#: a sustained conductance: one event of a receptor decaying over 1e9 ms
TONIC = Receptor("tonic", "conductance", tau_decay_ms=1e9, E_rev_mV=0.0)


def _r(x, y, length=L_UM):
    lo, hi = min(x, y), max(x, y)
    return R_INF * np.cosh(lo / LAMBDA_UM) * np.cosh((length - hi) / LAMBDA_UM) / np.sinh(
        length / LAMBDA_UM)


def _closed_form_ratio(xa, xb, g, x_rec, length=L_UM):
    """Steady response at x_rec to sustained g at xa, xb, both, on the sealed cable."""
    drive = 0.0 - E_L

    def r(x, y):
        return _r(x, y, length)

    def resp(sites):
        xs = list(sites)
        gs = np.array([sites[s] for s in xs])
        R = np.array([[r(a, b) for b in xs] for a in xs])
        v = np.linalg.solve(np.eye(len(xs)) + R * gs[None, :], R @ (gs * drive))
        return sum(r(x_rec, s) * gs[k] * (drive - v[k]) for k, s in enumerate(xs))

    both = {xa: g, xb: g} if xa != xb else {xa: 2 * g}
    return resp(both) / (resp({xa: g}) + resp({xb: g}))


@pytest.fixture(scope="module")
def cable_cell():
    comp = discretise(Morphology.cylinder(L_UM, D_UM), Ra_ohm_cm=RA, nseg=100)
    return Cell(comp, {"all": [mechanism("hh1952_leak", g_max=G_L, E_rev=E_L)]}, V_init=E_L)


@pytest.mark.parametrize("xa, xb", [(0.805, 0.855), (0.105, 0.905)])
def test_passive_summation_matches_the_transfer_resistance_prediction(cable_cell, xa, xb):
    """Sustained 2 nS at two sites, response at x = 0: the measured ratio (a run to 20
    membrane time constants) and the experiment's own prediction (its transfer resistances)
    both equal the closed form to the discretisation error, 1e-3 relative ((h/lambda)^2/6
    = 7e-4 for each transfer resistance, with margin)."""
    s = dendritic_summation(cable_cell, ("cable", xa), ("cable", xb), receptor=TONIC,
                            weight_uS=0.002, onset_ms=1.0, duration_ms=201.0, dt_ms=0.5,
                            record_at=("cable", 0.0), measure="steady")
    ref = _closed_form_ratio(xa * L_UM, xb * L_UM, 0.002, 0.0)
    assert float(s.ratio[0]) == pytest.approx(ref, rel=1e-3)
    assert float(s.predicted_ratio[0]) == pytest.approx(ref, rel=1e-3)
    assert cable_cell.stimuli == []


def test_passive_summation_sublinear_near_linear_far():
    """On a sealed 8-lambda cable, recorded at its middle: synapses 40 um apart share their
    depolarisation and lose driving force, ratio < 0.8 (closed form 0.74); synapses 4
    lambda apart, each 2 lambda from the recording site, sum within 2 % of linearly
    (closed form 0.993). Both measured ratios equal the closed form to 1e-3."""
    length = 4000.0
    comp = discretise(Morphology.cylinder(length, D_UM), Ra_ohm_cm=RA, nseg=200)
    cell = Cell(comp, {"all": [mechanism("hh1952_leak", g_max=G_L, E_rev=E_L)]}, V_init=E_L)

    def x_of(x):
        return float(comp.position[comp.locate("cable", x)]) * length

    kw = dict(receptor=TONIC, weight_uS=0.002, onset_ms=1.0, duration_ms=201.0, dt_ms=0.5,
              record_at=("cable", 0.5), measure="steady")
    near = dendritic_summation(cell, ("cable", 0.5), ("cable", 0.5125), **kw)
    far = dendritic_summation(cell, ("cable", 0.25), ("cable", 0.75), **kw)
    ref_near = _closed_form_ratio(x_of(0.5), x_of(0.5125), 0.002, x_of(0.5), length)
    ref_far = _closed_form_ratio(x_of(0.25), x_of(0.75), 0.002, x_of(0.5), length)
    assert float(near.ratio[0]) == pytest.approx(ref_near, rel=1e-3)
    assert float(far.ratio[0]) == pytest.approx(ref_far, rel=1e-3)
    assert float(near.ratio[0]) < 0.8
    assert abs(float(far.ratio[0]) - 1.0) < 0.02


@pytest.fixture(scope="module")
def thin_branch():
    comp = discretise(Morphology.ball_and_stick(20.0, 300.0, 0.5), Ra_ohm_cm=100.0,
                      nseg={"soma": 1, "dend": 31})
    return Cell(comp, {"all": [mechanism("hh1952_leak", g_max=0.05, E_rev=-70.0)]},
                V_init=-70.0)


def test_nmda_summation_is_supralinear_above_threshold(thin_branch):
    """Two nearby AMPA+NMDA inputs on a thin branch (Polsky et al. 2004's protocol):
    near-linear for tiny inputs, supralinear (> 1.3) once the pair relieves the Mg block
    that neither input relieves alone, saturating (< 1) once each alone fires the NMDA
    spike; AMPA alone at the same sites is sublinear throughout. Qualitative."""
    w = [1e-4, 0.001, 0.016]
    nmda = dendritic_summation(thin_branch, ("dend", 0.8), ("dend", 0.85),
                               receptor={"AMPA": 0.1, "NMDA": 1.0}, weight_uS=w,
                               duration_ms=150.0)
    ratio = nmda.ratio.values
    assert abs(ratio[0] - 1.0) < 0.1
    assert ratio[1] > 1.3
    assert ratio[2] < 1.0
    ampa = dendritic_summation(thin_branch, ("dend", 0.8), ("dend", 0.85), receptor="AMPA",
                               weight_uS=[1e-4, 0.001], duration_ms=60.0)
    assert np.all(ampa.ratio.values < 1.0)
    assert nmda.V.dims == ("weight", "condition", "time")
    assert nmda.response.attrs["units"] == "mV"


def test_unmyelinated_velocity_grows_as_sqrt_d():
    """d = 1 and 4 um on one common length (20 mm; the discretisations differ, d_lambda):
    ratio 2 within 3 %."""
    v = axon_velocity([1.0, 4.0], length_um=20000.0).velocity.values
    assert v[1] / v[0] == pytest.approx(2.0, rel=0.03)


@pytest.fixture(scope="module")
def myelinated():
    return axon_velocity([0.5, 1.0, 2.0], myelinated=True)


def test_myelinated_is_faster_and_grows_as_d(myelinated):
    """Rushton (1951): with every length scaled with the fibre (internode 100 D, sheath
    lamellae ~ d), v ~ d: ratio per doubling of the diameter within 10 % of 2 (the fixed
    1 um node keeps it from exact similarity), down to 0.5 um (whose spike the default
    stimulus must start). Faster than the unmyelinated axon of the same diameter."""
    v = myelinated.velocity.values
    np.testing.assert_allclose(v[1:] / v[:-1], 2.0, rtol=0.10)
    bare = axon_velocity([1.0, 2.0], length_um=8000.0).velocity.values
    assert np.all(v[1:] > 3.0 * bare)


def test_saltatory_conduction_node_to_node():
    """The spike jumps a constant time per internode (equal node-to-node delays in the
    middle, to 2 %); the internode only conducts passively: the local speed dx/dt along
    each internode falls and rises again with the internode period (slow after a node,
    fast approaching the next, which pulls its end up) -- the same profile in every
    middle internode to 2 % -- while the unmyelinated axon's local speed is uniform
    (to 1 %). (With a 0 mV threshold the internode's arrival times are not a step: its
    passive charging takes ~1/3 of the node-to-node delay here.)"""
    cell = myelinated_axon_cell(1.0)
    ds = cell.simulate(8.0, 0.005, "crank_nicolson", verbose=False)
    res = propagation_velocity(ds, after_ms=1.0)
    sec = ds.section.sel(compartment=res.path.values).values.astype(str)
    t = res.arrival_time.values
    x = res.path_distance.values
    nodes = np.flatnonzero(np.char.startswith(sec, "node") & (ds.area.sel(
        compartment=res.path.values).values > 0))
    delays = np.diff(t[nodes])[6:14]
    assert np.std(delays) / np.mean(delays) < 0.02
    profiles = []
    for k in range(6, 12):
        inside = np.flatnonzero(sec == f"internode{k}")
        inside = inside[ds.area.sel(compartment=res.path.values).values[inside] > 0]
        speed = np.diff(x[inside]) / np.diff(t[inside])
        profiles.append(speed / speed.mean())
    profiles = np.array(profiles)
    assert np.all(profiles.max(axis=1) / profiles.min(axis=1) > 1.2)
    assert np.max(np.abs(profiles - profiles.mean(axis=0))) < 0.02
    bare = unmyelinated_axon_cell(1.0, 5000.0)
    ds = bare.simulate(10.0, 0.005, "crank_nicolson", verbose=False)
    res = propagation_velocity(ds, after_ms=1.0, between_um=(1500.0, 3500.0))
    mid = (res.path_distance > 1500) & (res.path_distance < 3500)
    speed = np.diff(res.path_distance.values[mid]) / np.diff(res.arrival_time.values[mid])
    assert speed.max() / speed.min() < 1.01


def test_myelin_lamellae_and_errors():
    """Sheath thickness (D - d)/2 over a 17.5 nm period: a 10 um fibre of g 0.7 has
    1.5 um of myelin, 85.7 lamellae."""
    assert myelin_lamellae(7.0, 0.7) == pytest.approx(1.5 / 0.0175)
    cell = Cell(discretise(Morphology.ball_and_stick(), nseg=3), {"all": ["hh1952_leak"]})
    with pytest.raises(ValueError, match="outside the cell"):
        dendritic_summation(cell, ("axon", 0.5), ("dend", 0.5))
    with pytest.raises(TypeError, match="loc_a must be"):
        dendritic_summation(cell, "dend", ("dend", 0.5))
    with pytest.raises(ValueError, match="weight_uS"):
        dendritic_summation(cell, ("dend", 0.5), ("dend", 0.5), weight_uS=-1.0)
    with pytest.raises(ValueError, match="measure must be"):
        dendritic_summation(cell, ("dend", 0.5), ("dend", 0.5), measure="mean")
    with pytest.raises(ValueError, match="unknown receptor"):
        dendritic_summation(cell, ("dend", 0.5), ("dend", 0.5), receptor="GLU")
    with pytest.raises(ValueError, match="diameters_um"):
        axon_velocity([0.0])
    with pytest.raises(TypeError, match="myelinated must be"):
        axon_velocity([1.0], myelinated="yes")
    with pytest.raises(ValueError, match="g_ratio"):
        myelinated_axon_cell(1.0, g_ratio=1.5)
    with pytest.raises(ValueError, match="n_nodes"):
        myelinated_axon_cell(1.0, n_nodes=1)
    cell.add(IClamp("soma", 0.5, 0.0, 0.0, 1.0))
    with pytest.raises(ValueError, match="no spike reaches"):
        propagation_velocity(cell.simulate(1.0, 0.025, verbose=False))
