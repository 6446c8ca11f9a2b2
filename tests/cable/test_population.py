"""CellPopulation in the network engine: a compartmental population beside LIF neurons."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim_nb import LIFNeuron, Network
from neurosim_nb.cable import Cell, IClamp, SynapseInput
from neurosim_nb.cable.population import CellPopulation
from neurosim_nb.channels.library import mechanism
from neurosim_nb.morphology import Morphology, discretise
from neurosim_nb.stimuli import ConstantCurrent

# compartmental populations in networks: kernels only they compile
# (python3 tasks.py test runs these in its second process)
pytestmark = pytest.mark.second_process

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


# -- the Dataset: (time, neuron, compartment) -------------------------------------------
def _recorded_cell_network(record_compartments=None):
    cell = _cell()
    pop = CellPopulation(cell, 2, record_compartments=record_compartments)
    net = Network("mixed", seed=0)
    net.add_population("lif", LIFNeuron(n=1))
    net.add_population("cells", pop)
    return net, pop


def test_population_dataset_has_time_neuron_compartment_variables(tmp_path):
    """Reference: the same cell run alone (Cell.simulate, the same current as an IClamp
    from t = 0), every compartment and a gate of the soma's sodium channel: the network's
    (time, neuron, compartment) variables equal it (1e-9 mV: the same arithmetic, the
    restarts at the same steps); coords as the Cell's; the LIF neuron's entries are NaN;
    V (time, neuron) stays the spike-detection compartment's; schema and a lossless
    NetCDF round trip."""
    from neurosim_nb.export import load_simulation, save_simulation
    from neurosim_nb.schema import validate_dataset

    net, pop = _recorded_cell_network()
    ds = net.simulate(20.0, dt=DT, stimuli={"cells": [ConstantCurrent(0.3)]}, verbose=False,
                      record=("V", "V_compartment", "hh1952_na_m", "I_ext"))
    validate_dataset(ds)
    alone = _cell()
    alone.add(IClamp("soma", 0.5, 0.3, 0.0, 1000.0))
    ref = alone.simulate(20.0, DT, "crank_nicolson", verbose=False,
                         record=("V", "hh1952_na.m"))
    n_nodes = pop.cell.n_nodes
    assert ds.V_compartment.dims == ("time", "neuron", "compartment")
    assert ds.V_compartment.shape == (ds.sizes["time"], 3, n_nodes)
    assert ds.V_compartment.attrs["units"] == "mV" and ds.hh1952_na_m.attrs["units"] == "1"
    assert ds.V.dims == ("time", "neuron")
    for nid in (1, 2):
        np.testing.assert_allclose(ds.V_compartment.sel(neuron=nid).values, ref.V.values,
                                   atol=1e-9)
        np.testing.assert_allclose(ds.hh1952_na_m.sel(neuron=nid).values,
                                   ref.hh1952_na_m.values, atol=1e-9, equal_nan=True)
        np.testing.assert_array_equal(
            ds.V.sel(neuron=nid).values,
            ds.V_compartment.sel(neuron=nid, compartment=pop.cell.spike_node).values)
    assert np.isnan(ds.V_compartment.sel(neuron=0).values).all()
    for name in ("section", "distance", "x", "y", "z", "area", "diameter"):
        np.testing.assert_array_equal(ds[name].values, ref[name].values)
        assert ds[name].dims == ("compartment",)
    assert ds.distance.attrs["units"] == "um"
    back = load_simulation(save_simulation(ds, tmp_path / "cells.nc"))
    for name in ds.variables:
        np.testing.assert_array_equal(back[name].values, ds[name].values)
        assert back[name].attrs == ds[name].attrs
    assert back.attrs == ds.attrs


@pytest.mark.parametrize("request_, expected", [
    ("all", "all"), ("basal", "basal"), ([3, 1, 1], [1, 3]), ("mask", [0, 2])])
def test_record_compartments_choices(request_, expected):
    """A list (sorted, unique), a boolean mask, a region or "all" choose the recorded
    compartments: the Dataset's compartment coord is those node indices, and its values
    are those of a run recording every compartment (same run, same numbers)."""
    cell = _cell()
    if request_ == "mask":
        request_ = np.isin(np.arange(cell.n_nodes), [0, 2])
    if expected == "all":
        expected = list(range(cell.n_nodes))
    elif expected == "basal":
        expected = np.flatnonzero(cell.region_mask("basal")).tolist()
    full = CellPopulation(cell, 1).simulate(5.0, 0.2, dt=DT, record=("V_compartment",),
                                            verbose=False)
    part = CellPopulation(_cell(), 1, record_compartments=request_).simulate(
        5.0, 0.2, dt=DT, record=("V_compartment",), verbose=False)
    assert part.compartment.values.tolist() == expected
    np.testing.assert_array_equal(part.V_compartment.values,
                                  full.V_compartment.sel(compartment=expected).values)


def test_large_cells_record_only_the_detector_and_synapse_by_default():
    """Above RECORD_ALL_MAX_NODES nodes the default is the spike-detection and synaptic
    compartments (not every node): a 100 x 1000-compartment population would otherwise
    record 10^5 traces per variable."""
    from neurosim_nb.cable.population import RECORD_ALL_MAX_NODES

    comp = discretise(Morphology.ball_and_stick(20.0, 1000.0, 1.0), Ra_ohm_cm=100.0,
                      nseg=RECORD_ALL_MAX_NODES)
    cell = Cell(comp, ["hh1952_leak"], V_init=-65.0)
    assert cell.n_nodes > RECORD_ALL_MAX_NODES
    pop = CellPopulation(cell, 1, synapse_location=("dend", 0.5))
    assert pop.recorded_nodes().tolist() == sorted({cell.spike_node, pop.synapse_node})
    small = CellPopulation(_cell(), 1)
    assert small.recorded_nodes().tolist() == list(range(small.cell.n_nodes))


@pytest.mark.parametrize("bad, err, match", [
    ([-1], ValueError, "node indices in 0"), ([10**6], ValueError, "node indices in 0"),
    (np.ones(3, bool), ValueError, "booleans"), ([], ValueError, "no compartment"),
    ([0.5], TypeError, "record_compartments must be"), ("nowhere", ValueError,
                                                         "unknown region")])
def test_bad_record_compartments_are_refused(bad, err, match):
    with pytest.raises(err, match=match):
        CellPopulation(_cell(), 1, record_compartments=bad)


def test_recording_memory_counts_every_compartment():
    """The memory check counts one trace per recorded compartment: 2 neurons x 13
    compartments x 200 samples x 8 B = 41.6 kB refused under a 40 kB limit, while V alone
    (3.2 kB) passes it."""
    from neurosim_nb.engine.simulator import RecordingMemoryError

    pop = CellPopulation(_cell(), 2)
    assert pop.recorded_nodes().size == 13
    pop.simulate(5.0, dt=DT, record=("V",), verbose=False, max_record_bytes=40_000)
    with pytest.raises(RecordingMemoryError, match="compartments"):
        pop.simulate(5.0, dt=DT, record=("V_compartment",), verbose=False,
                     max_record_bytes=40_000)


def test_two_different_cell_populations_get_per_neuron_compartment_coords(tmp_path):
    """Populations recording different compartments share the compartment dim by
    position; their coords go on (neuron, compartment), padded (NaN, -1, '')."""
    from neurosim_nb.export import load_simulation, save_simulation
    from neurosim_nb.schema import validate_dataset

    net = Network("two", seed=0)
    net.add_population("a", CellPopulation(_cell(), 1))
    small = Cell(discretise(Morphology.soma(20.0), nseg=1),
                 [mechanism("hh1952_leak", E_rev=-65.0)], V_init=-65.0)  # at rest
    net.add_population("b", CellPopulation(small, 2))
    ds = net.simulate(2.0, dt=DT, record=("V_compartment",), verbose=False)
    validate_dataset(ds)
    n_a = net.population("a").cell.n_nodes
    assert ds.sizes["compartment"] == n_a
    assert ds.section.dims == ("neuron", "compartment")
    assert ds.compartment_id.sel(neuron=1).values.tolist() == [0, 1, 2] + [-1] * (n_a - 3)
    assert ds.section.sel(neuron=1).values.tolist()[:4] == ["soma", "soma", "soma", ""]
    assert np.isnan(ds.V_compartment.sel(neuron=2).values[:, 3:]).all()
    np.testing.assert_allclose(ds.V_compartment.sel(neuron=2).values[:, :3], -65.0,
                               atol=1e-12)
    back = load_simulation(save_simulation(ds, tmp_path / "two.nc"))
    for name in ds.variables:
        np.testing.assert_array_equal(back[name].values, ds[name].values)


# -- Crank-Nicolson restarts at each cell's input jumps --------------------------------
def _passive_cable_cell():
    """A passive cable of 50 segments of 10 um: its stiff modes (rate ~ 4 G_axial / C,
    far above 1/dt) are what Crank-Nicolson does not damp after an input jump."""
    from ._compartments import cable

    comp = cable(500.0, 1.0, 50, 100.0)
    return Cell(comp, {"all": [mechanism("hh1952_leak", g_max=0.1, E_rev=-65.0)]},
                V_init=-65.0)


def _sign_changes(x):
    return int(np.sum(np.sign(x[1:]) != np.sign(x[:-1])))


def test_crank_nicolson_restarts_at_a_current_step_in_a_population():
    """A current step at 5 ms into the end of a passive cable, cell by cell in a network.
    Reference 1: the same cell alone (Cell.simulate, IClamp at 5 ms), which restarts at
    the step's edge: the population equals it (1e-9 mV; both take the same two
    backward-Euler steps). Reference 2: Crank-Nicolson at dt/16: after the jump the
    trace rises monotonically (no sign change of dV in the next ms), as with restarts;
    without them (cn_restarts=False) V at the injection site zig-zags (dozens of sign
    changes) and is still > 0.1 mV off 0.5 ms later, against < 0.02 mV with them."""
    from neurosim_nb.stimuli import StepCurrent

    k0 = int(round(5.0 / DT))
    out = {}
    for restarts in (True, False):
        pop = CellPopulation(_passive_cable_cell(), 2, synapse_location=("cable", 0.0),
                             cn_restarts=restarts, record_compartments=[0])
        net = Network("cn", seed=0)
        net.add_population("c", pop)
        ds = net.simulate(10.0, dt=DT, stimuli={"c": [StepCurrent(0.1, onset_ms=5.0)]},
                          record=("V_compartment",), verbose=False)
        out[restarts] = ds.V_compartment.values[:, :, 0]
    alone = _passive_cable_cell()
    alone.add(IClamp("cable", 0.0, 0.1, 5.0, 1e6))
    ref = alone.simulate(10.0, DT, "crank_nicolson", verbose=False,
                         record_compartments=[0]).V.values[:, 0]
    fine_cell = _passive_cable_cell()
    fine_cell.add(IClamp("cable", 0.0, 0.1, 5.0, 1e6))
    fine = fine_cell.simulate(10.0, DT / 16, "crank_nicolson", verbose=False,
                              record_compartments=[0], sample_every=16).V.values[:, 0]
    for i in (0, 1):
        np.testing.assert_allclose(out[True][:, i], ref, atol=1e-9)
    window = slice(k0 - 1, k0 + int(1.0 / DT))
    assert _sign_changes(np.diff(fine[window])) == 0
    assert _sign_changes(np.diff(out[True][window, 0])) == 0
    assert _sign_changes(np.diff(out[False][window, 0])) > 20
    later = slice(k0 + int(0.5 / DT), None)
    assert np.abs(out[True][later, 0] - fine[later]).max() < 0.02
    assert np.abs(out[False][later, 0] - fine[later]).max() > 0.1


def test_crank_nicolson_restarts_when_a_spike_arrives_at_a_cell():
    """A LIF neuron's one spike reaches a cable's end through an exponential current
    synapse (a jump of 0.05 nA decaying with 5 ms): with restarts the response's
    curvature keeps its sign over the next ms, as Crank-Nicolson's at dt/16 on the same
    cell (Cell.simulate with a SynapseInput at the arrival) does; without them it
    alternates (Crank-Nicolson's undamped stiff modes). Only the receiving cell restarts:
    a second cell that gets no spike is identical to its run without restarts."""
    from neurosim_nb.stimuli import StepCurrent

    out = {}
    for restarts in (True, False):
        pop = CellPopulation(_passive_cable_cell(), 2, synapse_location=("cable", 0.01),
                             cn_restarts=restarts, record_compartments=[1])
        net = Network("syn", seed=0)
        net.add_population("pre", LIFNeuron(n=2))
        net.add_population("c", pop)
        net.connect("pre", "c", "one_to_one", weight=0.05, delay_ms=1.0, receptor="current")
        drive = StepCurrent(np.array([20.0, 0.0]), onset_ms=0.0, duration_ms=2.0)
        ds = net.simulate(12.0, dt=DT, record=("V_compartment",), verbose=False,
                          stimuli={"pre": [drive]})
        out[restarts] = ds.V_compartment.values[:, 2:, 0]
        t_pre = ds.spike_time.values[ds.spike_neuron.values == 0]
    assert t_pre.size == 1
    k0 = int(round((t_pre[0] + 1.0) / DT))  # the arrival step (spike step + delay + 1)
    fine_cell = _passive_cable_cell()
    fine_cell.add(SynapseInput("cable", 0.01, "current", 0.05, (k0 * DT,)))
    fine = fine_cell.simulate(12.0, DT / 16, "crank_nicolson", verbose=False,
                              record_compartments=[1], sample_every=16).V.values[:, 0]
    window = slice(k0 - 1, k0 + int(1.0 / DT))
    assert _sign_changes(np.diff(fine[window], 2)) == 0
    assert _sign_changes(np.diff(out[True][window, 0], 2)) == 0
    assert _sign_changes(np.diff(out[False][window, 0], 2)) > 5
    assert np.all(out[True][:, 1] == out[False][:, 1])
    assert np.abs(out[True][:, 0] + 65.0).max() > 1.0


# -- plasticity onto the cells ----------------------------------------------------------
def test_stdp_from_point_neurons_onto_cells_follows_the_pair_rule():
    """Pair-based STDP from LIF neurons onto a CellPopulation; the postsynaptic spikes
    are the cells' threshold crossings at the soma. Reference: the rule's closed form,
    w(T) = w0 + sum over every pair with both spikes by T of A+ exp(-dt/tau+) (dt =
    t_post - t_pre >= 0) or -A- exp(dt/tau-) (dt < 0) (additive, all-to-all pairs, the
    delay not part of dt; Song et al. 2000), from the spike times of the Dataset, at every
    weight sample (1e-12 relative: the same sums in another order). The bounds are never
    reached (checked), so no clipping enters."""
    from neurosim_nb.core.synapses.stdp import STDPParameters, STDPSynapse, stdp_window

    net = Network("stdp", seed=0)
    net.add_population("pre", LIFNeuron(n=2))
    net.add_population("cells", CellPopulation(_cell(), 2))
    p = STDPParameters(tau_plus=15.0, tau_minus=25.0, A_plus=2e-4, A_minus=1.5e-4,
                       w_min=0.0, w_max=0.02)
    syn = STDPSynapse.create_hebbian("pre", "cells", weight=0.01, receptor="AMPA",
                                     delay_ms=1.0, params=p)
    proj = net.add(syn)
    drive = {"pre": [ConstantCurrent(np.array([3.0, 4.0]))],
             "cells": [ConstantCurrent(np.array([0.3, 0.5]))]}
    ds = net.simulate(150.0, dt=DT, record=(), verbose=False, stimuli=drive,
                      record_weights=True, weight_sample_ms=25.0)
    st, sn = ds.spike_time.values, ds.spike_neuron.values
    pre = [st[sn == i] for i in (0, 1)]
    post = [st[sn == 2 + j] for j in (0, 1)]
    assert all(t.size >= 3 for t in pre + post)
    w = ds.weight.values
    pre_id, post_id = ds.pre.values, ds.post.values - 2
    for T, w_T in zip(ds.weight_time.values, w, strict=True):
        for s in range(w.shape[1]):
            tp, tq = pre[pre_id[s]], post[post_id[s]]
            tp, tq = tp[tp <= T + 1e-9], tq[tq <= T + 1e-9]
            expected = 0.01 + stdp_window((tq[:, None] - tp[None, :]).ravel(), p).sum()
            assert p.w_min < expected < p.w_max
            np.testing.assert_allclose(w_T[s], expected, rtol=1e-12, atol=1e-15)
    assert np.abs(w[-1] - 0.01).max() > 5 * p.A_plus  # the rule did act (measured 7 A+)
    np.testing.assert_array_equal(proj.weight[np.argsort(proj.pre_idx * 2 + proj.post_idx)],
                                  w[-1][np.argsort(pre_id * 2 + post_id)])
