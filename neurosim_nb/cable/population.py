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

Recording. ``V`` is, as for every population, on ``(time, neuron)``: the potential at
the spike-detection compartment (so mixed networks, rasters and the analysis functions
see a cell like a point neuron). The whole cell is recorded on ``(time, neuron,
compartment)`` (:meth:`CellPopulation.compartment_layout`): ``V_compartment`` (mV) and
every state of the membrane under the name a :class:`~neurosim_nb.cable.Cell`'s Dataset
gives it (``hh1952_na_m``, ``ca_i``...; NaN at zero-area nodes), with the compartment
coords of a Cell's Dataset (``section``, ``distance``, ``x``/``y``/``z``, ``area``...).
Which compartments: ``record_compartments`` -- ``"all"``, node indices, a boolean mask
over the nodes, or a region (a section type or name); by default all of them for a
cell of at most :data:`RECORD_ALL_MAX_NODES` nodes, else only the spike-detection and
synaptic compartments (a population of 100 cells of 1000 compartments would otherwise
record 10^5 traces per variable).

State rows (``state_variables``, the kernel's layout): ``V``, ``V_syn`` (at the synaptic
compartment), ``V[i]`` for every node ``i``, ``<mechanism>.<gate>[j]`` (and
``ca_i[j]``) for every membrane node ``j``, then ``I_in[-1]``, ``I_in[-2]`` (the input
current of the last two steps, nA) and ``restart`` (1: the next step is taken by
backward Euler). Each can also be recorded by name on ``(time, neuron)``.

The cable step is the one of :mod:`neurosim_nb.cable.solver` (``method``: backward Euler
or Crank-Nicolson). Synaptic and input currents are held over the step, as for point
neurons. Crank-Nicolson restarts as a :class:`Cell` does (Rannacher: two backward-Euler
steps), per cell: at the start of every run, and -- unless ``cn_restarts=False`` -- at
each input jump of that cell: a step in which a spike arrives at one of its receptor
channels or a kick moves its V, and the next; a step whose input current (nA) jumps,
i.e. whose second difference :math:`|I_k - 2 I_{k-1} + I_{k-2}|` exceeds
:data:`RESTART_JUMP` of the largest of the three (a step current triggers it at the
edge and the step after; a smooth input -- a sine below ~600 Hz at dt = 0.025 ms, a slow
ramp, an exponentially decaying current with tau > dt / 0.1 -- does not, and keeps
second order; white noise does, every step).

>>> from neurosim_nb.cable import Cell
>>> from neurosim_nb.morphology import Morphology, discretise
>>> comp = discretise(Morphology.soma(20.0), nseg=1)
>>> cell = Cell(comp, ["hh1952_na", "hh1952_k", "hh1952_leak"], V_init=-65.0)
>>> pop = CellPopulation(cell, 3)
>>> pop.n, list(pop.state_variables)[:3]
(3, ['V', 'V_syn', 'V[0]'])
>>> ds = pop.simulate(5.0, 0.5, dt=0.025, record=("V", "V_compartment"), verbose=False)
>>> ds.V.dims, ds.V_compartment.dims, str(ds.section.values[0])
(('time', 'neuron'), ('time', 'neuron', 'compartment'), 'soma')
"""

from __future__ import annotations

import json

import numpy as np

from neurosim_nb.cable.cell import V_LIMIT_MV, Cell
from neurosim_nb.cable.solver import AREA_FACTOR, METHODS, cable_module
from neurosim_nb.core.neurons.base import CompartmentLayout, NeuronPopulation, check_size

__all__ = ["CellPopulation", "RECORD_ALL_MAX_NODES", "RESTART_JUMP"]

_HEADER = 16
#: cells of at most this many nodes record every compartment by default
RECORD_ALL_MAX_NODES = 100
#: an input current whose second difference exceeds this fraction of its magnitude is a
#: jump: Crank-Nicolson restarts (see the module docstring)
RESTART_JUMP = 0.01
#: the rows after the gates: the input of the last two steps (nA), the restart flag
_TAIL_ROWS = {"I_in[-1]": ("nA", "input current at the synaptic compartment one step ago"),
              "I_in[-2]": ("nA", "input current at the synaptic compartment two steps ago"),
              "restart": ("1", "1: the next step is taken by backward Euler")}


class _CellParameters:
    """What the engine reads of a population's ``params``: its JSON."""

    def __init__(self, pop: CellPopulation) -> None:
        self._pop = pop

    def to_json(self) -> str:
        p = self._pop
        return json.dumps({"cell": json.loads(p.cell.to_json()), "n": p.n,
                           "synapse_location": list(p.synapse_location),
                           "method": p.method, "cn_restarts": p.cn_restarts,
                           "record_compartments": p.recorded_nodes().tolist()})


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
    record_compartments : None, "all", region name, node indices or boolean mask
        The compartments recorded on ``(time, neuron, compartment)`` (see the module
        docstring for the default); settable later.
    cn_restarts : bool
        Crank-Nicolson takes two backward-Euler steps at each input jump of a cell
        (default True; False: only at the start of a run).
    """

    current_units = "nA"
    current_long_name = "current injected at the synaptic compartment"
    default_label = "cells"

    def __init__(self, cell: Cell, n: int = 1, *, synapse_location=None,
                 method: str = "crank_nicolson", label: str | None = None,
                 record_compartments=None, cn_restarts: bool = True) -> None:
        if not isinstance(cell, Cell):
            raise TypeError(f"cell must be a neurosim_nb.cable.Cell, got {cell!r}")
        # an integer >= 1 whose state rows (and a short run's arrays) fit in memory, checked
        # before anything of size n is made: TooLargeError for an absurd n
        n = check_size("CellPopulation", n, 2 + cell.n_nodes + len(_TAIL_ROWS)
                       + len(cell.membrane.state_names) * cell.mem_node.size)
        if method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
        self.cell = cell
        self.n = int(n)
        self.method = method
        if not isinstance(cn_restarts, bool | np.bool_):
            raise TypeError(f"cn_restarts must be True or False, got {cn_restarts!r}")
        self.cn_restarts = bool(cn_restarts)
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
        rows.update(_TAIL_ROWS)
        self.state_variables = rows
        self.record_compartments = record_compartments
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
        v = cell.initial_potential(compiled, p)
        s = compiled.initial_state(v[cell.mem_node], p)
        col = np.concatenate([[v[cell.spike_node], v[self.synapse_node]], v, s.ravel(),
                              np.zeros(len(_TAIL_ROWS))])
        return np.repeat(col[:, None], self.n, axis=1)

    # -- recording of the compartments -----------------------------------------------
    @property
    def record_compartments(self):
        """What was asked (``None``: the default rule); :meth:`recorded_nodes` resolves
        it to node indices."""
        return self._record_compartments

    @record_compartments.setter
    def record_compartments(self, value) -> None:
        self._record_nodes = self._resolve_nodes(value)
        self._record_compartments = value

    def _resolve_nodes(self, value) -> np.ndarray:
        cell = self.cell
        nn = cell.n_nodes
        if value is None:
            if nn <= RECORD_ALL_MAX_NODES:
                return np.arange(nn, dtype=np.int64)
            return np.unique([cell.spike_node, self.synapse_node]).astype(np.int64)
        if isinstance(value, str):
            if value == "all":
                return np.arange(nn, dtype=np.int64)
            return np.flatnonzero(cell.region_mask(value)).astype(np.int64)
        arr = np.asarray(value)
        if arr.dtype == bool:
            if arr.shape != (nn,):
                raise ValueError(f"record_compartments as a mask needs {nn} booleans (one "
                                 f"per node), got shape {arr.shape}")
            idx = np.flatnonzero(arr)
        elif arr.size == 0 or np.issubdtype(arr.dtype, np.integer):
            idx = arr.astype(np.int64).ravel()
        else:
            raise TypeError("record_compartments must be None, 'all', a region name, node "
                            f"indices or a boolean mask over the nodes, got {value!r}")
        if idx.size == 0:
            raise ValueError("record_compartments selects no compartment")
        if idx.min() < 0 or idx.max() >= nn:
            raise ValueError(f"record_compartments must be node indices in 0..{nn - 1}, "
                             f"got {value!r}")
        return np.unique(idx)

    def recorded_nodes(self) -> np.ndarray:
        """The node indices recorded on ``(time, neuron, compartment)``, sorted.

        >>> from neurosim_nb.cable import Cell
        >>> from neurosim_nb.morphology import Morphology, discretise
        >>> cell = Cell(discretise(Morphology.ball_and_stick(), nseg=3), ["hh1952_leak"])
        >>> CellPopulation(cell, 2, record_compartments="dend").recorded_nodes().tolist()
        [5, 6, 7, 8]
        """
        return self._record_nodes.copy()

    def compartment_layout(self) -> CompartmentLayout:
        """``V_compartment`` and every membrane state (named as in a Cell's Dataset:
        ``hh1952_na_m``...) at the recorded nodes, with their compartment coords (see
        :class:`~neurosim_nb.core.neurons.base.CompartmentLayout`).

        >>> from neurosim_nb.cable import Cell
        >>> from neurosim_nb.morphology import Morphology, discretise
        >>> cell = Cell(discretise(Morphology.soma(20.0), nseg=1), ["hh1952_leak"])
        >>> sorted(CellPopulation(cell).compartment_layout().variables)
        ['V_compartment']
        """
        from neurosim_nb.cable.cell import _coord_items, _state_attrs

        cell = self.cell
        nodes = self._record_nodes
        nn, nm = cell.n_nodes, cell.mem_node.size
        node_mem = np.full(nn, -1, np.int64)
        node_mem[cell.mem_node] = np.arange(nm)
        jm = node_mem[nodes]
        variables = {"V_compartment": (2 + nodes, "mV", "membrane potential")}
        for r, name in enumerate(cell.membrane.state_names):
            units, long = _state_attrs(name)
            rows = np.where(jm >= 0, 2 + nn + r * nm + jm, -1)
            variables[name.replace(".", "_")] = (rows, units, long)
        coords = {}
        extra = getattr(cell.compartments, "to_dataset_coords", None)
        if extra is not None:
            for name, (dims, values, attrs) in _coord_items(extra()):
                if dims == ("compartment",):
                    coords[name] = (dims, np.asarray(values)[nodes], dict(attrs))
        coords["compartment"] = ("compartment", nodes, {"units": "1",
                                                        "long_name": "node index"})
        return CompartmentLayout(variables, coords)

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
        head[:15] = [METHODS[self.method], cell.spike_node, self.synapse_node,
                     cell.spike_threshold_mV, cell.n_nodes, cell.mem_node.size,
                     len(cell.membrane.state_names), pm.shape[0], tv.shape[0], tv.shape[1],
                     tc.shape[0], tc.shape[1], V_LIMIT_MV, float(self.cn_restarts),
                     RESTART_JUMP]
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
