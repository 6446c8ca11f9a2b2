r"""Populations of compartmental neurons that the network engine runs like point neurons.

A :class:`CellPopulation` is ``n`` copies of a template :class:`~neurosim_nb.cable.Cell`
(its compartments, membranes, temperature and initial potential; its own stimuli are not
used -- a network gives inputs). It follows the engine's population and kernel contract
(:data:`~neurosim_nb.core.neurons.base.KERNEL_DOC`), so
:class:`~neurosim_nb.core.networks.network.Network` runs it without naming it: the input
current of each step (nA) and the current of the population's receptor channels
(:mod:`neurosim_nb.core.synapses.channels`: AMPA, NMDA with its Mg²⁺ block at the
compartment's V, GABA...) flow into one compartment (``synapse_location``, default the
soma), kicks jump that compartment's V, and spikes are the upward crossings of the cell's
``spike_threshold_mV`` at its ``spike_location`` -- so delays, projections, plasticity
and recording work as for point models, and mixed networks (with LIF...) run.

State rows (``state_variables``): ``V`` -- the potential at the spike-detection
compartment, recorded like a point model's V; ``V_syn`` -- at the synaptic compartment;
``V[i]`` for every node ``i``; ``<mechanism>.<gate>[j]`` (and ``ca_i[j]``) for every
membrane node ``j``. Any of them can be recorded by name.

The cable step is the one of :mod:`neurosim_nb.cable.solver` (``method``: backward Euler
or Crank-Nicolson; the network's first two steps by backward Euler). Synaptic and input
currents are held over the step, as for point neurons.

>>> from neurosim_nb.cable import Cell
>>> from neurosim_nb.morphology import Morphology, discretise
>>> comp = discretise(Morphology.soma(20.0), nseg=1)
>>> cell = Cell(comp, ["hh1952_na", "hh1952_k", "hh1952_leak"], V_init=-65.0)
>>> pop = CellPopulation(cell, 3)
>>> pop.n, list(pop.state_variables)[:3]
(3, ['V', 'V_syn', 'V[0]'])
"""

from __future__ import annotations

import json

import numpy as np

from neurosim_nb.cable.cell import V_LIMIT_MV, Cell
from neurosim_nb.cable.solver import AREA_FACTOR, METHODS, cable_module
from neurosim_nb.core.neurons.base import NeuronPopulation

__all__ = ["CellPopulation"]

_HEADER = 16


class _CellParameters:
    """What the engine reads of a population's ``params``: its JSON."""

    def __init__(self, pop: CellPopulation) -> None:
        self._pop = pop

    def to_json(self) -> str:
        p = self._pop
        return json.dumps({"cell": json.loads(p.cell.to_json()), "n": p.n,
                           "synapse_location": list(p.synapse_location),
                           "method": p.method})


class CellPopulation(NeuronPopulation):
    """``n`` identical compartmental neurons, a population of the network engine.

    Parameters
    ----------
    cell : Cell
        The template (compartments, membranes, temperature, ``V_init``, spike location
        and threshold).
    n : int
        Number of neurons.
    synapse_location : (section, x), optional
        Where input and synaptic currents enter (default: the cell's spike location).
    method : {"crank_nicolson", "backward_euler"}
    label : str, optional
    """

    current_units = "nA"
    current_long_name = "current injected at the synaptic compartment"
    default_label = "cells"

    def __init__(self, cell: Cell, n: int = 1, *, synapse_location=None,
                 method: str = "crank_nicolson", label: str | None = None) -> None:
        if not isinstance(cell, Cell):
            raise TypeError(f"cell must be a neurosim_nb.cable.Cell, got {cell!r}")
        if isinstance(n, bool) or int(n) != n or n < 1:
            raise ValueError(f"n (number of neurons) must be a positive integer, got {n!r}")
        if method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
        self.cell = cell
        self.n = int(n)
        self.method = method
        self.synapse_location = (tuple(synapse_location) if synapse_location is not None
                                 else tuple(cell.spike_location))
        self.synapse_node = cell.locate(*self.synapse_location)
        self.label = label or self.default_label
        self.params = _CellParameters(self)
        mem = cell.membrane
        nn, nm = cell.n_nodes, cell.mem_node.size
        rows = {"V": ("mV", "membrane potential at the spike-detection compartment"),
                "V_syn": ("mV", "membrane potential at the synaptic compartment")}
        for i in range(nn):
            rows[f"V[{i}]"] = ("mV", f"membrane potential of node {i}")
        for name in mem.state_names:
            units = "mM" if name == "ca_i" else "1"
            for j in range(nm):
                rows[f"{name}[{j}]"] = (units, f"{name} of membrane node {j}")
        self.state_variables = rows
        self._compiled: dict = {}
        self.t_ms = 0.0
        self.reset_state()

    def _compiled_membrane(self, dt: float):
        c = self._compiled.get(dt)
        if c is None:
            c = self._compiled[dt] = self.cell.membrane.compile(dt)
        return c

    def _initial_state(self) -> np.ndarray:
        cell = self.cell
        compiled = self._compiled_membrane(0.025)
        p = cell._parameters(compiled)
        v = cell.initial_potential(compiled)
        s = compiled.initial_state(v[cell.mem_node], p)
        col = np.concatenate([[v[cell.spike_node], v[self.synapse_node]], v, s.ravel()])
        return np.repeat(col[:, None], self.n, axis=1)

    def _kernel_params(self, dt: float) -> np.ndarray:
        """One packed column (shared by all neurons): header (theta, nodes, threshold,
        sizes, V limit), then parent, axial conductances, capacities, area factors,
        membrane nodes, the membrane's parameters and its tables."""
        cell = self.cell
        compiled = self._compiled_membrane(float(dt))
        pm = np.nan_to_num(cell._parameters(compiled), nan=0.0)
        tv, tc = compiled.tables
        comp = cell.compartments
        area = np.asarray(comp.area_um2, float)[cell.mem_node]
        cm = np.broadcast_to(np.asarray(comp.cm_uF_cm2, float), (cell.n_nodes,))[cell.mem_node]
        r_ax = np.asarray(comp.r_axial_MOhm, float)
        g_ax = np.zeros(cell.n_nodes)
        g_ax[1:] = 1.0 / r_ax[1:]
        head = np.zeros(_HEADER)
        head[:13] = [METHODS[self.method], cell.spike_node, self.synapse_node,
                     cell.spike_threshold_mV, cell.n_nodes, cell.mem_node.size,
                     len(cell.membrane.state_names), pm.shape[0], tv.shape[0], tv.shape[1],
                     tc.shape[0], tc.shape[1], V_LIMIT_MV]
        col = np.concatenate([head, cell.parent.astype(float), g_ax,
                              cm * area * AREA_FACTOR, area * AREA_FACTOR,
                              cell.mem_node.astype(float), pm.ravel(), tv.ravel(),
                              tc.ravel()])
        return np.ascontiguousarray(col[:, None])

    def compiled_kernel(self):
        """The population kernel of the cell's membrane structure (generated once per
        structure, cached on disk)."""
        return cable_module(self._compiled_membrane(0.025)).kernel

    def describe(self) -> dict:
        return {"model": type(self).__name__, "params_json": self.params.to_json(),
                "current_units": self.current_units}

    def __repr__(self) -> str:
        return (f"CellPopulation(n={self.n}, label={self.label!r}, {self.cell.n_nodes} nodes "
                f"per cell, {self.method})")
