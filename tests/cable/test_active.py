"""Active cables and cells: the squid axon's conduction velocity, velocity ~ sqrt(d), the
thalamic T-current rebound burst."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim_nb.cable import Cell, IClamp
from neurosim_nb.channels.library import mechanism
from neurosim_nb.channels.membrane import CalciumPool

from ._compartments import cable

SQUID = ["hh1952_na", "hh1952_k", "hh1952_leak"]


def _velocity(d_um, length_um, nseg, dt=0.01):
    """m/s between 30 % and 70 % of the axon (0 mV upward crossings, interpolated)."""
    comp = cable(length_um, d_um, nseg, 35.4, name="axon", type="axon")
    cell = Cell(comp, SQUID, temperature_C=18.5, V_init=-65.0)
    cell.add(IClamp("axon", 0.0, 10000.0 * (d_um / 476.0) ** 1.5, 0.0, 0.2))
    nodes = [cell.locate("axon", 0.3), cell.locate("axon", 0.7)]
    ds = cell.simulate(6.0 * (476.0 / d_um) ** 0.5, dt, method="crank_nicolson",
                       verbose=False, record_compartments=nodes)
    t, v = ds.time.values, ds.V.values
    times = []
    for j in range(2):
        i = np.flatnonzero((v[:-1, j] < 0) & (v[1:, j] >= 0))[0]
        times.append(t[i] + -v[i, j] / (v[i + 1, j] - v[i, j]) * (t[i + 1] - t[i]))
    dx = (comp.position[nodes[1]] - comp.position[nodes[0]]) * length_um
    return dx / 1000.0 / (times[1] - times[0])


def test_squid_axon_conducts_at_hodgkin_huxleys_velocity():
    """Hodgkin & Huxley (1952, part V) computed 18.8 m/s for the 476 um axon at 18.5 degC
    with Ri 35.4 Ohm cm (measured: 21.2). With 0.25 mm segments (lambda ~ 7 mm) and dt
    0.01 ms we measure 18.70 m/s (nseg 200 -> 400 -> 800: 18.67, 18.70, 18.71): within
    1 % of 18.8 (their hand integration's own precision is about that)."""
    v = _velocity(476.0, 100000.0, 400)
    assert abs(v - 18.8) / 18.8 < 0.01, v


def test_velocity_scales_with_the_square_root_of_the_diameter():
    """For an unmyelinated axon v ~ sqrt(d) (the cable's lambda ~ sqrt(d), tau fixed):
    v(d) / v(d/4) = 2 within 3 %, at the same electrotonic segment length."""
    v1 = _velocity(476.0, 100000.0, 400)
    v2 = _velocity(119.0, 50000.0, 400)
    assert abs(v1 / v2 - 2.0) / 2.0 < 0.03, (v1, v2)


def _relay_cell(with_t: bool):
    """A thalamic relay-like single compartment at 36 degC: Traub-Miles Na/K (V_T -55 mV,
    g_K 10 mS/cm2 as Destexhe et al. 1998's TC cell), leak 0.05 mS/cm2 to -70 mV, and the
    Huguenard-McCormick T current (GHK, P 1e-4 cm/s) into a 1 um calcium shell (tau 5 ms,
    Destexhe et al. 1993)."""
    comp = cable(96.0, 96.0, 1, 100.0, name="soma", type="soma")
    mechs = [mechanism("traub_miles_na", g_max=100.0, V_T=-55.0),
             mechanism("traub_miles_k", g_max=10.0, V_T=-55.0),
             mechanism("traub_miles_leak", g_max=0.05, E_rev=-70.0)]
    if with_t:
        mechs.append(mechanism("T", P_max=1e-4))
    cell = Cell(comp, mechs, calcium_pool=CalciumPool(tau_ms=5.0, depth_um=1.0),
                temperature_C=36.0, V_init="rest")
    cell.add(IClamp("soma", 0.5, -0.3, 50.0, 200.0))
    return cell


@pytest.mark.second_process  # (its cable loops: a notebook there compiles them)
def test_t_current_rebound_burst():
    """Huguenard & McCormick (1992); Destexhe et al. (1998): after a hyperpolarising step
    de-inactivates I_T, release gives a low-threshold Ca2+ spike crowned by a burst of
    Na+ spikes; without I_T the cell returns to rest silently. Asserted: >= 2 spikes
    within 100 ms of the release, none before it, all riding on a calcium rise (ca_i up
    tenfold), and none without T."""
    ds = _relay_cell(True).simulate(450.0, 0.025, method="crank_nicolson", verbose=False,
                                    record=("V", "ca_i"), record_compartments=[1])
    spikes = ds.spike_time.values
    assert spikes.size >= 2 and spikes.min() > 250.0 and spikes[:2].max() < 350.0, spikes
    assert ds.ca_i.values.max() > 10 * ds.ca_i.values[0, 0]
    quiet = _relay_cell(False).simulate(450.0, 0.025, method="crank_nicolson", verbose=False,
                                        record_compartments=[1])
    assert quiet.spike_time.size == 0
