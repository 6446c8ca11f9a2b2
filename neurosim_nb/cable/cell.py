r"""One compartmental neuron: compartments, membranes per region, stimuli, a run.

A :class:`Cell` is the compartments of a morphology
(:func:`neurosim_nb.morphology.discretise`), the mechanisms of each region (by section
type -- ``"soma"``, ``"axon"``, ``"basal"``... -- or section name, or ``"all"``), optional
densities as functions of the path distance to the soma, an optional calcium pool and a
temperature. All regions share one compiled membrane: the union of their mechanisms, with
the conductance of a mechanism 0 where it is absent (:mod:`neurosim_nb.channels.membrane`).
:meth:`Cell.simulate` runs the compiled cable loop (:mod:`neurosim_nb.cable.solver`) and
returns an ``xarray.Dataset``.

Example: a passive ball-and-stick's soma answers a current step.

>>> from neurosim_nb.morphology import Morphology, discretise
>>> comp = discretise(Morphology.ball_and_stick(), Ra_ohm_cm=100.0, nseg=5)
>>> cell = Cell(comp, {"all": ["hh1952_leak"]}, V_init=-54.387)
>>> cell.add(IClamp("soma", 0.5, amp_nA=0.05, delay_ms=1.0, dur_ms=20.0))
>>> ds = cell.simulate(20.0, dt_ms=0.025, verbose=False)
>>> ds.V.dims, ds.V.attrs["units"]
(('time', 'compartment'), 'mV')
>>> bool(ds.V.isel(time=-1).max() > -54.387)
True
"""

from __future__ import annotations

import json
import time as _time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import xarray as xr

from neurosim_nb._validation import positive_number
from neurosim_nb._version import __version__
from neurosim_nb.cable.solver import AREA_FACTOR, METHODS, SYN_COLUMNS, cable_loop
from neurosim_nb.cable.stimuli import (
    CurrentWaveform,
    IClamp,
    SynapseInput,
    stimulus_from_dict,
)
from neurosim_nb.channels.library import MECHANISMS, mechanism
from neurosim_nb.channels.mechanism import Mechanism
from neurosim_nb.channels.membrane import CalciumPool, Membrane
from neurosim_nb.errors import NeurosimError

__all__ = ["Cell", "CableDivergedError", "IClamp", "CurrentWaveform", "SynapseInput"]

#: |V| beyond this (mV) means the integration diverged
V_LIMIT_MV = 1.0e4
#: the most a run may record (bytes)
MAX_RECORD_BYTES = 2 * 1024**3
#: show a progress bar when the rest of a run is projected to take longer (s)
PROGRESS_AFTER_S = 2.0
_COMPARTMENT_FIELDS = ("parent", "r_axial_MOhm", "area_um2", "cm_uF_cm2")


class CableDivergedError(NeurosimError, RuntimeError):
    """V became NaN or left +-1e4 mV: the step is too large for the cell's fastest
    dynamics, or a parameter is unphysical."""


def _mechanism_record(m: Mechanism) -> dict:
    """A mechanism as JSON: a library one by its name and the values it was built with;
    another by its declaration without the rate functions (``"custom": true``: it is
    described, not rebuildable)."""
    rec = {"name": m.name, **m.options}
    for key in ("g_max", "P_max", "E_rev", "c_in_mM", "c_out_mM"):
        value = getattr(m, key)
        if value is not None:
            rec[key] = float(value)
    if m.name not in MECHANISMS:
        rec.update(custom=True, ion=m.ion, reversal=m.reversal, Q10=m.Q10, T_ref_C=m.T_ref_C,
                   gates=[[g.name, g.power] for g in m.gates], reference=m.reference)
    return rec


def _mechanism_from_record(rec: dict) -> Mechanism:
    rec = dict(rec)
    name = rec.pop("name")
    if rec.get("custom") or name not in MECHANISMS:
        raise ValueError(f"mechanism {name!r} is not in the library "
                         f"({', '.join(sorted(MECHANISMS))}): its rate functions are not in "
                         "the JSON, so the cell cannot be rebuilt from it")
    import inspect

    accepted = inspect.signature(MECHANISMS[name]).parameters
    return mechanism(name, **{k: v for k, v in rec.items() if k in accepted})


def _as_mechanism(m) -> Mechanism:
    if isinstance(m, Mechanism):
        return m
    if isinstance(m, str):
        return mechanism(m)
    raise TypeError(f"a mechanism must be a Mechanism or a library name, got {m!r}")


def _kinetics_key(m: Mechanism) -> tuple:
    """What must agree between two declarations of one mechanism name in a cell (the
    rates and the kind of driving force; conductances and reversals may differ)."""
    return (m.ion, m.reversal, tuple((g.name, g.power) for g in m.gates), m.Q10, m.T_ref_C,
            tuple(sorted(m.options.items())), m.c_in_mM, m.c_out_mM)


class Cell:
    """A compartmental neuron.

    Parameters
    ----------
    compartments : Compartments
        From :func:`neurosim_nb.morphology.discretise` (parent order, NEURON's node
        layout; arrays per node).
    mechanisms : mapping or sequence
        ``{region: [mechanism, ...]}`` with ``region`` a section type of the
        morphology (``"soma"``, ``"axon"``, ``"basal"``, ``"apical"``...), a section name
        or ``"all"``; a mechanism is a
        :class:`~neurosim_nb.channels.mechanism.Mechanism` or a library name
        (:data:`~neurosim_nb.channels.library.MECHANISMS`). A plain list applies to all
        compartments. A later region overrides an earlier one's conductance of the same
        mechanism. Every compartment with membrane needs at least one mechanism.
    densities : mapping, optional
        ``{"<mechanism>.g": value or f(distance_um)}`` (also ``.E``): per-compartment
        values, e.g. ``{"hh1952_na.g": lambda d: 120.0 * np.exp(-d / 200.0)}``, applied
        where the mechanism is present (mS/cm², cm/s for a GHK permeability, mV).
    calcium_pool : CalciumPool, optional
        The submembrane calcium pool of every compartment (needed by Nernst calcium
        reversals and calcium-gated channels).
    temperature_C : float
        Temperature of the rates (°C).
    V_init : float or "rest"
        Initial potential (mV) of every node, or ``"rest"``: each compartment's own
        resting potential (the zero of its steady-state membrane current nearest -65 mV).
    spike_location : (section, x), optional
        Where spikes are detected (default: the middle of the first soma section, else
        of the root section); ``spike_threshold_mV`` the upward crossing (default 0 mV).
    """

    def __init__(self, compartments, mechanisms, *, densities: Mapping | None = None,
                 calcium_pool: CalciumPool | None = None, temperature_C: float = 6.3,
                 V_init: float | str = -65.0, spike_location=None,
                 spike_threshold_mV: float = 0.0, label: str = "cell") -> None:
        for name in _COMPARTMENT_FIELDS:
            if not hasattr(compartments, name):
                raise TypeError(f"compartments must be a Compartments (from "
                                f"neurosim_nb.morphology.discretise); it has no {name!r}")
        self.compartments = compartments
        parent = np.asarray(compartments.parent, dtype=np.int64)
        n = parent.size
        if n < 1 or parent[0] != -1 or np.any(parent[1:] >= np.arange(1, n)) or \
                np.any(parent[1:] < 0):
            raise ValueError("compartments.parent must start with the root (-1) and have "
                             "parent[i] < i for every other node (one tree)")
        self.parent = parent
        self.n_nodes = n
        area = np.asarray(compartments.area_um2, dtype=float)
        r_ax = np.asarray(compartments.r_axial_MOhm, dtype=float)
        cm = np.broadcast_to(np.asarray(compartments.cm_uF_cm2, dtype=float), (n,))
        for name, arr in (("area_um2", area), ("r_axial_MOhm", r_ax[1:]), ("cm_uF_cm2", cm)):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"compartments.{name} has NaN or infinite values")
        if np.any(area < 0) or np.any(r_ax[1:] <= 0) or np.any(cm < 0):
            raise ValueError("compartments need area_um2 >= 0, cm_uF_cm2 >= 0 and "
                             "r_axial_MOhm > 0 (except the root's)")
        self.mem_node = np.flatnonzero(area > 0).astype(np.int64)
        if self.mem_node.size == 0:
            raise ValueError("the compartments have no membrane area")
        self.temperature_C = float(temperature_C)
        self.label = str(label)
        if calcium_pool is not None and not isinstance(calcium_pool, CalciumPool):
            raise TypeError(f"calcium_pool must be a CalciumPool, got {calcium_pool!r}")
        self.calcium_pool = calcium_pool
        self._set_mechanisms(mechanisms)
        self.densities = dict(densities or {})
        self._base_parameters()  # checks regions and densities now, not at the first run
        if isinstance(V_init, str):
            if V_init != "rest":
                raise ValueError(f"V_init must be a potential (mV) or 'rest', got {V_init!r}")
        elif not np.isfinite(V_init):
            raise ValueError(f"V_init must be finite, got {V_init!r}")
        self.V_init = V_init
        self.spike_threshold_mV = float(spike_threshold_mV)
        if not np.isfinite(self.spike_threshold_mV):
            raise ValueError("spike_threshold_mV must be finite")
        self.spike_location = self._default_spike_location() if spike_location is None \
            else tuple(spike_location)
        self.spike_node = self.locate(*self.spike_location)
        self.stimuli: list = []

    # -- structure --------------------------------------------------------------------
    def _set_mechanisms(self, mechanisms) -> None:
        if isinstance(mechanisms, Mapping):
            spec = {str(k): list(v) for k, v in mechanisms.items()}
        elif isinstance(mechanisms, Sequence) and not isinstance(mechanisms, str):
            spec = {"all": list(mechanisms)}
        else:
            raise TypeError("mechanisms must be {region: [mechanism, ...]} or a list of "
                            f"mechanisms, got {mechanisms!r}")
        if not any(spec.values()):
            raise ValueError("a Cell needs mechanisms: give at least one, e.g. "
                             "{'all': ['hh1952_leak']}")
        union: dict[str, Mechanism] = {}
        regions: dict[str, list[Mechanism]] = {}
        for region, mechs in spec.items():
            regions[region] = [_as_mechanism(m) for m in mechs]
            for m in regions[region]:
                if m.name in union and _kinetics_key(union[m.name]) != _kinetics_key(m):
                    raise ValueError(f"mechanism {m.name!r} is declared with different "
                                     "kinetics in two regions; give it another name")
                union.setdefault(m.name, m)
        self.regions = regions
        self.membrane = Membrane(list(union.values()), calcium_pool=self.calcium_pool,
                                 temperature_C=self.temperature_C)

    def region_mask(self, region: str) -> np.ndarray:
        """Boolean mask of the nodes of ``region`` (a section type or name, or "all")."""
        if region == "all":
            return np.ones(self.n_nodes, bool)
        comp = self.compartments
        lookup = self.__dict__.get("_section_lookup")
        if lookup is None:  # once per cell: a cell may have a region per section
            lookup = ({nm: i for i, nm in enumerate(getattr(comp, "section_names", ()))},
                      set(np.asarray(getattr(comp, "section_types", ())).tolist()))
            self._section_lookup = lookup
        by_name, types = lookup
        if region in by_name and region not in types and hasattr(comp, "section"):
            return np.asarray(comp.section) == by_name[region]
        if region not in by_name and region not in types:
            raise ValueError(f"unknown region {region!r}: not a section type "
                             f"{sorted(types)} nor a section name, nor 'all'")
        return np.asarray(comp.region_mask(region), dtype=bool)

    def locate(self, section, x: float = 0.5) -> int:
        """The node at ``section(x)`` (ValueError when the location is not on the cell).

        ``section`` is a section name or index, or a section type (``"soma"``) that has
        exactly one section -- so ``("soma", 0.5)`` is the soma of a cell built in code and
        of one read from SWC (whose soma section is ``"soma[0]"``)."""
        comp = self.compartments
        names = list(getattr(comp, "section_names", ()))
        if isinstance(section, str) and section not in names:
            types = list(getattr(comp, "section_types", ()))
            of_type = [nm for nm, ty in zip(names, types, strict=False) if ty == section]
            if len(of_type) == 1:
                section = of_type[0]
            elif of_type:
                raise ValueError(f"location {section!r}({x}): the cell has {len(of_type)} "
                                 f"sections of type {section!r} ({of_type[:5]}"
                                 f"{' ...' if len(of_type) > 5 else ''}); name one")
        if isinstance(section, str) and section not in names:
            raise ValueError(f"location {section!r}({x}) is outside the cell: no section "
                             f"{section!r}; sections: {names[:10]}"
                             f"{' ...' if len(names) > 10 else ''}")
        if not isinstance(section, str) and not 0 <= int(section) < len(names):
            raise ValueError(f"location {section!r}({x}) is outside the cell: section index "
                             f"out of 0..{len(names) - 1}")
        if not (np.isfinite(x) and 0.0 <= x <= 1.0):
            raise ValueError(f"location {section!r}({x}) is outside the cell: x must be in "
                             "[0, 1]")
        return int(comp.locate(section, float(x)))

    def _default_spike_location(self):
        comp = self.compartments
        names = list(getattr(comp, "section_names", ()))
        types = list(getattr(comp, "section_types", ()))
        for nm, ty in zip(names, types, strict=False):
            if ty == "soma":
                return (nm, 0.5)
        return (names[0], 0.5) if names else (0, 0.5)

    def _distance(self) -> np.ndarray:
        return np.asarray(getattr(self.compartments, "distance_um",
                                  np.zeros(self.n_nodes)), dtype=float)

    def _base_parameters(self) -> np.ndarray:
        """The parameter matrix over the membrane nodes (rows of the compiled membrane's
        ``parameter_names``), dt-independent rows only."""
        mem = self.membrane
        names = mem.parameter_names
        index = {nm: i for i, nm in enumerate(names)}
        nm_ = self.mem_node.size
        rows = np.zeros((len(names), nm_))
        covered = np.zeros(nm_, bool)
        for region, mechs in self.regions.items():
            mask = self.region_mask(region)[self.mem_node]
            for m in mechs:
                rows[index[f"{m.name}.g"], mask] = m.P_max if m.reversal == "ghk" else m.g_max
                if m.reversal == "fixed":
                    rows[index[f"{m.name}.E"], mask] = m.E_rev
                elif m.reversal == "nernst" and not (m.ion == "ca" and self.calcium_pool):
                    rows[index[f"{m.name}.E"], mask] = m.reversal_potential(self.temperature_C)
                covered |= mask
        if not np.all(covered):
            secs = np.asarray(getattr(self.compartments, "section", np.zeros(self.n_nodes)))
            bad = sorted(set(secs[self.mem_node[~covered]].tolist()))
            raise ValueError(f"compartments of section(s) {bad[:10]} have no mechanism; "
                             "every region with membrane needs one (e.g. 'all': ['hh1952_leak'])")
        dist = self._distance()[self.mem_node]
        for key, value in self.densities.items():
            if key not in index or not (key.endswith(".g") or key.endswith(".E")):
                raise ValueError(f"unknown density {key!r}; known: "
                                 f"{[k for k in names if k.endswith(('.g', '.E'))]}")
            mech = key.rsplit(".", 1)[0]
            present = rows[index[f"{mech}.g"]] > 0
            vals = value(dist) if callable(value) else value
            vals = np.broadcast_to(np.asarray(vals, dtype=float), (nm_,))
            if not np.all(np.isfinite(vals)):
                raise ValueError(f"density {key!r} gives NaN or infinite values")
            if key.endswith(".g") and np.any(vals < 0):
                raise ValueError(f"density {key!r} gives negative conductances")
            rows[index[key], present] = vals[present]
        return rows

    def _parameters(self, compiled) -> np.ndarray:
        """The compiled membrane's parameter matrix with this cell's per-region and
        density values (the pool's rows, dt-dependent, from the membrane)."""
        p = compiled.parameters(self.mem_node.size)
        k = 2 * len(self.membrane.mechanisms)
        p[:k] = self._base_parameters()[:k]
        return np.ascontiguousarray(p)

    def add(self, *stimuli) -> None:
        """Add current clamps, waveforms or synapses (checked against the cell now)."""
        for s in stimuli:
            if not isinstance(s, IClamp | CurrentWaveform | SynapseInput):
                raise TypeError(f"a Cell takes IClamp, CurrentWaveform or SynapseInput, got "
                                f"{s!r}")
            self.locate(s.section, s.x)
            self.stimuli.append(s)

    def __repr__(self) -> str:
        return (f"Cell({self.n_nodes} nodes, {self.mem_node.size} with membrane, "
                f"{self.membrane!r}, {len(self.stimuli)} stimuli)")

    # -- initial state ----------------------------------------------------------------
    def initial_potential(self, compiled, p: np.ndarray | None = None) -> np.ndarray:
        """V (mV) of every node at the start of a run (``p``: the parameter matrix of
        :meth:`_parameters`, when the caller has it already)."""
        if self.V_init != "rest":
            return np.full(self.n_nodes, float(self.V_init))
        if p is None:
            p = self._parameters(compiled)
        grid = np.arange(-120.0, 40.0, 0.05)
        i_grid = np.empty((grid.size, self.mem_node.size))
        for a, v in enumerate(grid):
            vv = np.full(self.mem_node.size, v)
            s = compiled.initial_state(vv, p)
            i_grid[a] = compiled.currents(vv, s, p)[0]
        v_mem = np.full(self.mem_node.size, -65.0)
        for j in range(self.mem_node.size):
            cross = np.flatnonzero((i_grid[:-1, j] < 0) & (i_grid[1:, j] >= 0))
            if cross.size:
                a = cross[np.argmin(np.abs(grid[cross] + 65.0))]
                f = -i_grid[a, j] / (i_grid[a + 1, j] - i_grid[a, j])
                v_mem[j] = grid[a] + f * (grid[a + 1] - grid[a])
        v = np.empty(self.n_nodes)
        v[self.mem_node] = v_mem
        zero = np.setdiff1d(np.arange(self.n_nodes), self.mem_node)
        for i in zero:  # a junction takes a neighbour's value
            v[i] = v[self.parent[i]] if self.parent[i] >= 0 else v_mem[0]
        return v

    # -- running ----------------------------------------------------------------------
    def simulate(self, duration_ms: float, dt_ms: float = 0.025,
                 method: str = "backward_euler", *, record: Sequence[str] = ("V",),
                 record_compartments=None, sample_every: int = 1,
                 verbose: bool | None = None, max_spikes: int = 100000) -> xr.Dataset:
        """Run the cell from its initial state and return the result.

        Parameters
        ----------
        duration_ms, dt_ms : float
            Simulated time and step (ms), both > 0.
        method : {"backward_euler", "crank_nicolson"}
            The integration scheme (see :mod:`neurosim_nb.cable.solver`).
        record : sequence of str
            ``"V"`` and any state of the membrane (``"hh1952_na.m"``, ``"ca_i"``...).
        record_compartments : array of int, optional
            Nodes to record (default: all).
        sample_every : int
            Record every this many steps.
        verbose : bool or None
            Progress bar: always, never, or when the run is projected to exceed 2 s.

        Returns
        -------
        xarray.Dataset
            ``V`` (time, compartment) in mV, recorded states likewise (dots in their
            names become underscores), ``spike_time``/``spike_neuron`` (spikes at
            ``spike_location``, crossing times interpolated), the cell's JSON in
            ``params_json`` (:meth:`from_json` rebuilds it).
        """
        duration = positive_number("duration_ms", duration_ms)
        dt = positive_number("dt_ms", dt_ms)
        if method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
        if isinstance(sample_every, bool) or int(sample_every) != sample_every or \
                sample_every < 1:
            raise ValueError(f"sample_every must be a positive integer, got {sample_every!r}")
        n_steps = int(round(duration / dt))
        if n_steps < 1 or abs(n_steps * dt - duration) > 1e-9 * max(1.0, duration):
            raise ValueError(f"duration_ms ({duration}) must be a whole number of steps "
                             f"dt_ms ({dt})")
        record = tuple(record)
        states = self.membrane.state_names
        for name in record:
            if name != "V" and name not in states:
                raise ValueError(f"cannot record {name!r}; choose 'V' or a state of the "
                                 f"membrane: {list(states)}")
        rec_idx = (np.arange(self.n_nodes) if record_compartments is None
                   else np.asarray(record_compartments, dtype=np.int64).ravel())
        if rec_idx.size == 0 or rec_idx.min() < 0 or rec_idx.max() >= self.n_nodes:
            raise ValueError(f"record_compartments must be node indices in 0.."
                             f"{self.n_nodes - 1}")
        rec_rows = np.array([states.index(r) for r in record if r != "V"], dtype=np.int64)
        n_samples = n_steps // sample_every
        need = 8 * n_samples * rec_idx.size * (1 + rec_rows.size)
        if need > MAX_RECORD_BYTES:
            raise ValueError(f"recording {rec_idx.size} compartments x {n_samples} samples x "
                             f"{1 + rec_rows.size} variable(s) needs {need / 1e9:.1f} GB; "
                             "raise sample_every or pass record_compartments")

        compiled = self.membrane.compile(dt)
        run = cable_loop(compiled)
        nm = self.mem_node.size
        p = self._parameters(compiled)
        V = self.initial_potential(compiled, p)
        s = np.ascontiguousarray(compiled.initial_state(V[self.mem_node], p))
        tv, tc = compiled.tables
        theta = METHODS[method]

        area = np.asarray(self.compartments.area_um2, dtype=float)[self.mem_node]
        cm = np.broadcast_to(np.asarray(self.compartments.cm_uF_cm2, dtype=float),
                             (self.n_nodes,))[self.mem_node]
        area_f = np.ascontiguousarray(area * AREA_FACTOR)
        cap = np.ascontiguousarray(cm * area * AREA_FACTOR)
        r_ax = np.asarray(self.compartments.r_axial_MOhm, dtype=float)
        g_ax = np.zeros(self.n_nodes)
        g_ax[1:] = 1.0 / r_ax[1:]
        work = np.zeros((6, self.n_nodes))

        # point currents: the mean of each over every step
        clamps = [c for c in self.stimuli if not isinstance(c, SynapseInput)]
        stim_node = np.array([self.locate(c.section, c.x) for c in clamps], dtype=np.int64)
        t0 = np.arange(n_steps) * dt
        stim_amp = np.zeros((n_steps, len(clamps)))
        for q, c in enumerate(clamps):
            stim_amp[:, q] = c.mean_current(t0, dt)
        # synapses: one parameter row each, events sorted by step
        syns = [c for c in self.stimuli if isinstance(c, SynapseInput)]
        syn_node = np.array([self.locate(c.section, c.x) for c in syns], dtype=np.int64)
        syn_par = np.zeros((len(syns), len(SYN_COLUMNS)))
        ev = []
        for q, c in enumerate(syns):
            r = c.receptor
            syn_par[q, :7] = r.channel_parameters(dt)
            syn_par[q, 7] = np.exp(-theta * dt / r.tau_decay_ms)
            syn_par[q, 8] = np.exp(-theta * dt / r.tau_rise_ms) if r.tau_rise_ms > 0 else 0.0
            for t in c.spike_times_ms:
                ev.append((int(np.ceil(t / dt - 1e-9)), q, c.weight))
        ev.sort()
        ev_step = np.array([e[0] for e in ev], dtype=np.int64)
        ev_syn = np.array([e[1] for e in ev], dtype=np.int64)
        ev_w = np.array([e[2] for e in ev], dtype=float)
        syn_state = np.zeros((len(syns), 2))
        damp = self._damped_steps(n_steps, dt, clamps, ev_step)
        ev_pos = np.zeros(1, np.int64)

        node_mem = np.full(self.n_nodes, -1, np.int64)
        node_mem[self.mem_node] = np.arange(nm)
        rec_mem = node_mem[rec_idx]
        rec_v = np.zeros((n_samples, rec_idx.size))
        rec_s = np.zeros((rec_rows.size, n_samples, rec_idx.size))
        spk_t = np.zeros(int(max_spikes))
        n_spk = np.zeros(1, np.int64)

        wall0 = _time.perf_counter()
        cpu0 = _time.process_time()
        bar = None
        k = 0
        chunk = max(1, min(n_steps, 2000))
        while k < n_steps:
            k1 = min(n_steps, k + chunk)
            reached, bad = run(k, k1, dt, theta, damp, V, s, p, tv, tc, self.parent, g_ax, cap,
                               self.mem_node, area_f, work, stim_node, stim_amp, syn_node,
                               syn_par, syn_state, ev_step, ev_syn, ev_w, ev_pos,
                               int(sample_every), rec_idx, rec_mem, rec_v, rec_rows, rec_s,
                               int(self.spike_node), self.spike_threshold_mV, spk_t, n_spk,
                               V_LIMIT_MV)
            if bad >= 0:
                if bar is not None:
                    bar.close()
                sec = self._section_of(bad)
                raise CableDivergedError(
                    f"the cable diverged at t = {(reached + 1) * dt:g} ms in compartment "
                    f"{bad} ({sec}): V = {float(V[bad]):.4g} mV; reduce dt_ms (now {dt:g}) "
                    "or check "
                    "the conductances")
            k = k1
            bar = _progress(bar, verbose, wall0, k, n_steps, chunk)
        if bar is not None:
            bar.close()
        self.last_loop_s = _time.perf_counter() - wall0
        self.last_loop_cpu_s = _time.process_time() - cpu0
        return self._dataset(rec_v, rec_s, rec_idx, [r for r in record if r != "V"],
                             spk_t[: n_spk[0]], dt, n_steps, sample_every, method)

    @staticmethod
    def _damped_steps(n_steps: int, dt: float, clamps, ev_step) -> np.ndarray:
        """1 for the steps Crank-Nicolson takes by backward Euler: the first, and the
        step holding each input discontinuity (IClamp edges, synaptic events) and the
        next (see :mod:`neurosim_nb.cable.solver`)."""
        damp = np.zeros(n_steps + 1, np.uint8)
        damp[:2] = 1  # the start and the next
        edges = [t for c in clamps if isinstance(c, IClamp)
                 for t in (c.delay_ms, c.delay_ms + c.dur_ms)]
        steps = [int(np.floor(t / dt + 1e-9)) for t in edges] + list(np.asarray(ev_step) - 1)
        for k in steps:
            for j in (k, k + 1):
                if 0 <= j < n_steps:
                    damp[j] = 1
        return damp[:n_steps]

    def _section_of(self, node: int) -> str:
        comp = self.compartments
        try:
            names = list(comp.section_names)
            sec = names[int(np.asarray(comp.section)[node])]
            return f"section {sec!r}, x = {float(np.asarray(comp.position)[node]):.3g}"
        except (AttributeError, IndexError, TypeError):
            return "section unknown"

    # -- output -----------------------------------------------------------------------
    def _dataset(self, rec_v, rec_s, rec_idx, rec_names, spikes, dt, n_steps,
                 sample_every, method) -> xr.Dataset:
        n_samples = rec_v.shape[0]
        t = (np.arange(n_samples) + 1) * sample_every * dt
        coords = {"time": ("time", t, {"units": "ms", "long_name": "time"}),
                  "compartment": ("compartment", rec_idx,
                                  {"units": "1", "long_name": "node index"}),
                  "neuron": ("neuron", np.array([0]), {"units": "1", "long_name": "neuron id"})}
        extra = getattr(self.compartments, "to_dataset_coords", None)
        if extra is not None:
            for name, (dims, values, attrs) in _coord_items(extra()):
                values = np.asarray(values)
                if dims == ("compartment",) or dims == "compartment":
                    values = values[rec_idx]
                coords[name] = (dims, values, attrs)
        data = {"V": (("time", "compartment"), rec_v,
                      {"units": "mV", "long_name": "membrane potential"})}
        for b, name in enumerate(rec_names):
            units, long = _state_attrs(name)
            data[name.replace(".", "_")] = (("time", "compartment"), rec_s[b],
                                            {"units": units, "long_name": long})
        data["spike_time"] = ("spike", np.asarray(spikes, float),
                              {"units": "ms", "long_name": "spike time (threshold crossing, "
                               "interpolated)"})
        data["spike_neuron"] = ("spike", np.zeros(len(spikes), np.int64),
                                {"units": "1", "long_name": "neuron id"})
        attrs = {
            "Conventions": "CF-1.10", "title": f"Cell {self.label!r}: {self.n_nodes} nodes",
            "model": "Cell", "n_neurons": 1, "dt": float(dt),
            "duration": float(n_steps * dt), "n_steps": int(n_steps),
            "sample_every": int(sample_every), "seed": 0,
            "neurosim_nb_version": __version__, "params_json": self.to_json(),
            "method": method, "spike_compartment": int(self.spike_node),
            "spike_threshold_mV": float(self.spike_threshold_mV),
            "current_units": "nA", "temperature_C": float(self.temperature_C),
            "loop_s": float(getattr(self, "last_loop_s", 0.0)),
            "loop_cpu_s": float(getattr(self, "last_loop_cpu_s", 0.0)),
        }
        return xr.Dataset(data, coords, attrs)

    # -- JSON -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The cell as JSON-ready data: the compartments' arrays, the mechanisms per
        region, the per-compartment parameter rows (densities evaluated), the pool,
        temperature, initial potential, spike detection and stimuli."""
        comp = self.compartments
        arrays = {}
        fields = getattr(type(comp), "__dataclass_fields__", None)
        names = list(fields) if fields else [k for k in vars(comp) if not k.startswith("_")]
        for name in names:
            value = getattr(comp, name)
            if isinstance(value, np.ndarray):
                arrays[name] = {"dtype": str(value.dtype), "data": value.tolist()}
            elif isinstance(value, tuple | list):
                arrays[name] = {"dtype": "tuple", "data": [_plain(v) for v in value]}
            else:
                arrays[name] = {"dtype": "scalar", "data": _plain(value)}
        pool = self.calcium_pool
        return {
            "model": "Cell", "label": self.label, "compartments": arrays,
            "mechanisms": {r: [_mechanism_record(m) for m in ms]
                           for r, ms in self.regions.items()},
            "parameters": {nm: row.tolist() for nm, row in
                           zip(self.membrane.parameter_names, self._base_parameters(),
                               strict=False)},
            "densities": sorted(self.densities),
            "calcium_pool": None if pool is None else dict(vars(pool)),
            "temperature_C": self.temperature_C, "V_init": self.V_init,
            "spike_location": list(self.spike_location),
            "spike_threshold_mV": self.spike_threshold_mV,
            "stimuli": [s.to_dict() for s in self.stimuli],
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as a JSON string (what ``params_json`` of a result holds)."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | dict) -> Cell:
        """Rebuild a cell from :meth:`to_json` (or a result's ``params_json``); the
        evaluated densities are restored as per-compartment values."""
        d = json.loads(text) if isinstance(text, str) else dict(text)
        if d.get("model") != "Cell":
            raise ValueError("not the JSON of a Cell (model != 'Cell')")
        comp = _compartments_from_dict(d["compartments"])
        mechs = {r: [_mechanism_from_record(m) for m in ms]
                 for r, ms in d["mechanisms"].items()}
        pool = None if d["calcium_pool"] is None else CalciumPool(**d["calcium_pool"])
        cell = cls(comp, mechs, calcium_pool=pool, temperature_C=d["temperature_C"],
                   V_init=d["V_init"], spike_location=tuple(d["spike_location"]),
                   spike_threshold_mV=d["spike_threshold_mV"], label=d["label"])
        area = np.asarray(comp.area_um2, dtype=float)
        dist_mem = np.flatnonzero(area > 0)
        rows = d["parameters"]
        for key in d.get("densities", []):
            vals = np.asarray(rows[key], dtype=float)
            cell.densities[key] = _Values(vals, dist_mem.size)
        cell.add(*[stimulus_from_dict(s) for s in d["stimuli"]])
        return cell


class _Values:
    """Stored per-compartment values standing in for a density function after a JSON
    round trip (called with the membrane nodes' distances, returns the values)."""

    def __init__(self, values: np.ndarray, n: int) -> None:
        self.values = values

    def __call__(self, distance_um):
        return self.values


def _state_attrs(name: str) -> tuple[str, str]:
    """(units, long_name) of a membrane state (a gate ``mech.gate`` or ``ca_i``)."""
    if name == "ca_i":
        return "mM", "submembrane calcium concentration"
    mech, _, gate = name.partition(".")
    return "1", f"gate {gate} of {mech}"


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    return v


def _coord_items(coords):
    items = coords.items() if isinstance(coords, Mapping) else coords
    out = []
    for name, spec in items:
        if isinstance(spec, xr.DataArray):
            out.append((name, (spec.dims, spec.values, dict(spec.attrs))))
        else:
            dims, values, *rest = spec
            dims = (dims,) if isinstance(dims, str) else tuple(dims)
            out.append((name, (dims, values, rest[0] if rest else {})))
    return out


def _compartments_from_dict(arrays: dict):
    from neurosim_nb.morphology import Compartments

    kwargs = {}
    for name, spec in arrays.items():
        if spec["dtype"] == "tuple":
            kwargs[name] = tuple(spec["data"])
        elif spec["dtype"] == "scalar":
            kwargs[name] = spec["data"]
        else:
            kwargs[name] = np.asarray(spec["data"], dtype=spec["dtype"])
    return Compartments(**kwargs)




def _progress(bar, verbose, wall0: float, k: int, n_steps: int, chunk: int):
    """Create or advance a tqdm bar (like the point models' runs)."""
    if verbose is False:
        return None
    if bar is None:
        elapsed = _time.perf_counter() - wall0
        projected = elapsed / max(k, 1) * (n_steps - k)
        if verbose or projected > PROGRESS_AFTER_S:
            from tqdm.auto import tqdm

            bar = tqdm(total=n_steps, initial=k, unit="step", desc="cable", leave=False)
        return bar
    bar.update(min(chunk, n_steps - bar.n))
    return bar


_ = Callable  # (typing of densities)
