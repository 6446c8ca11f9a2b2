"""CellPopulation in the network engine: a compartmental population beside LIF neurons."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim_nb import LIFNeuron, Network
from neurosim_nb.cable import Cell, IClamp
from neurosim_nb.cable.population import CellPopulation
from neurosim_nb.morphology import Morphology, discretise
from neurosim_nb.stimuli import ConstantCurrent

DT = 0.025


def _cell():
    comp = discretise(Morphology.ball_and_stick(20.0, 200.0, 1.0), Ra_ohm_cm=100.0, nseg=5)
    return Cell(comp, {"soma": ["hh1952_na", "hh1952_k", "hh1952_leak"],
                       "basal": ["hh1952_leak"]}, V_init=-65.0)


@pytest.mark.parametrize("method", ["backward_euler", "crank_nicolson"])
def test_cell_spikes_reach_lif_after_the_delay(method):
    """Reference: the same cell run alone (Cell.simulate) with the same current; the
    network reports a spike in the step holding the crossing, and a delta synapse
    (30 mV) makes the LIF target fire in the step the spike arrives: s + delay + 1
    (the engine's convention)."""
    cell = _cell()
    net = Network("mixed", seed=0)
    net.add_population("cells", CellPopulation(cell, 2, method=method))
    net.add_population("lif", LIFNeuron(n=2))
    net.connect("cells", "lif", "one_to_one", weight=30.0, delay_ms=2.0, receptor="delta")
    ds = net.simulate(30.0, dt=DT, stimuli={"cells": [ConstantCurrent(0.3)]}, verbose=False,
                      record=("V",))
    alone = _cell()
    alone.add(IClamp("soma", 0.5, 0.3, 0.0, 1000.0))
    ref = alone.simulate(30.0, DT, method=method, verbose=False).spike_time.values
    assert ref.size == 3
    st, sn = ds.spike_time.values, ds.spike_neuron.values
    for i in (0, 1):
        np.testing.assert_allclose(st[sn == i], np.ceil(ref / DT - 1e-9) * DT, atol=1e-9)
    for i in (2, 3):
        np.testing.assert_allclose(st[sn == i], np.ceil(ref / DT - 1e-9) * DT + 2.0 + DT,
                                   atol=1e-9)
    # V of a cell is the soma's, as recorded by the cell itself
    v_alone = alone.simulate(30.0, DT, method=method, verbose=False,
                             record_compartments=[cell.spike_node]).V.values[:, 0]
    np.testing.assert_allclose(ds.V.values[:, 0], v_alone, atol=1e-9)


def test_lif_drives_a_cell_through_ampa_and_nmda():
    """Incoming spikes open AMPA/NMDA channels at the synaptic compartment: the soma
    departs from the same cell without synapses only after the first spike's arrival
    (step s + delay + 1), and depolarises more with NMDA added (its Mg block partly
    relieved by the depolarisation)."""
    def run(receptors):
        net = Network("drive", seed=0)
        net.add_population("lif", LIFNeuron(n=1))
        net.add_population("cells", CellPopulation(_cell(), 1))
        for r in receptors:
            net.connect("lif", "cells", "all_to_all", weight=0.002, delay_ms=1.0, receptor=r)
        return net.simulate(40.0, dt=DT, stimuli={"lif": [ConstantCurrent(5.0)]},
                            verbose=False)
    base = run([]).V.sel(neuron=1).values
    ds = run(["AMPA"])
    t_lif = ds.spike_time.values[ds.spike_neuron.values == 0]
    assert t_lif.size >= 1
    v = ds.V.sel(neuron=1).values
    t = ds.time.values
    arrival = t_lif[0] + 1.0 + DT  # the end of the arrival step
    assert np.all(v[t < arrival - 1e-9] == base[t < arrival - 1e-9])
    assert np.max(v - base) > 1.0
    both = run(["AMPA", "NMDA"]).V.sel(neuron=1).values
    assert np.max(both - base) > np.max(v - base)
