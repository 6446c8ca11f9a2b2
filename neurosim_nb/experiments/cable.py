r"""Experiments on compartmental cells: input resistance, electrotonic length, dendritic
summation, conduction velocity of unmyelinated and myelinated axons.

Plain functions: a :class:`~neurosim_nb.cable.Cell` (or a geometry) in, an
``xarray.Dataset`` with units out. A cell's own stimuli are left untouched: each experiment
runs it with its own inputs only and restores the list.

* :func:`resting_state` -- the cell's resting potential (the zero of the steady-state
  membrane currents and the axial currents, found by Newton's method with the Hines
  solver) and its linearisation there;
* :func:`input_resistance` -- :math:`R_{in}` and the transfer resistances from a location:
  exactly, by solving the linear steady state with the membrane's steady-state slope
  conductance at rest (the default, NEURON's ``Impedance`` at 0 Hz), or by a small DC step
  run to steady state;
* :func:`electrotonic_length` -- :math:`L = \sum_i \Delta x_i / \lambda_i` along a path,
  :math:`\lambda = \sqrt{R_m d / (4 R_a)}`;
* :func:`dendritic_summation` -- responses to input A, B and A+B, the ratio measured /
  linear sum (sublinear on a passive branch, supralinear with NMDA above threshold);
* :func:`axon_velocity` -- conduction velocity against diameter, unmyelinated (HH 1952)
  or myelinated (:func:`myelinated_axon_cell`: HH nodes of Ranvier, myelin internodes).

Units: um, mV, nA, uS, MOhm, ms, m/s.

>>> from neurosim_nb.morphology import Morphology, discretise
>>> comp = discretise(Morphology.cylinder(500.0, 1.0), Ra_ohm_cm=100.0, nseg=25)
>>> float(electrotonic_length(comp, 10000.0, "cable").electrotonic_length)
1.0
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from neurosim_nb._validation import is_number, positive_number
from neurosim_nb.cable import Cell, IClamp, SynapseInput
from neurosim_nb.cable.solver import AREA_FACTOR, hines_solve
from neurosim_nb.channels.library import mechanism
from neurosim_nb.channels.membrane import Membrane
from neurosim_nb.morphology import Morphology, discretise
from neurosim_nb.numerics.crossings import first_crossings

__all__ = ["resting_state", "input_resistance", "electrotonic_length", "dendritic_summation",
           "axon_velocity", "unmyelinated_axon_cell", "myelinated_axon_cell",
           "MYELIN_CM_UF_CM2", "MYELIN_G_MS_CM2", "MYELIN_PERIOD_UM", "NODE_DENSITY_FACTOR",
           "myelin_lamellae"]

#: Period of compact myelin (um): one lamella, two membranes, ~17.5 nm in peripheral nerve
#: (X-ray diffraction). A sheath of n = thickness / period lamellae puts 2n membranes of
#: 1 uF/cm2 in series with the axon: its capacitance and leak per unit axon area are 1/(2n) of a
#: bare membrane's (the planar approximation of the multi-layer sheath; FitzHugh 1962,
#: Moore et al. 1978 take the internode's capacitance and conductance to be the sheath's).
MYELIN_PERIOD_UM = 0.0175
#: A fixed internode capacitance (uF/cm2) of the order the single-cable models use for a
#: ~10 um fibre (1/200 of a bare membrane: ~100 lamellae); with it the capacitance per
#: length grows with the diameter, which breaks Rushton's (1951) v ~ d (the sheath's
#: thickness, hence its number of lamellae, grows with the diameter): the default is the
#: lamellae of :data:`MYELIN_PERIOD_UM`.
MYELIN_CM_UF_CM2 = 0.005
#: Leak conductance of a bare membrane under myelin (mS/cm2): the HH 1952 leak, divided by
#: 2n like the capacitance; it reverses at the nodes' resting potential, -65 mV (the sheath
#: carries no current at rest, so the axon starts at rest).
MYELIN_G_MS_CM2 = 0.3
#: HH 1952 channel densities at a node of Ranvier, relative to the squid axon's: a node
#: carries ~10x the squid's sodium channel density (Na+ channels ~1000-2000 /um2 at
#: nodes vs ~300 /um2 in squid, Hille, *Ion Channels of Excitable Membranes*, ch. 12);
#: with the squid's own densities, 1 um of node cannot charge the next internode.
NODE_DENSITY_FACTOR = 10.0


# -- the linearised cell -----------------------------------------------------------------
def _check_cell(cell) -> None:
    if not isinstance(cell, Cell):
        raise TypeError(f"cell must be a neurosim_nb.cable.Cell, got {type(cell).__name__}")


def _steady_current(compiled, p, v):
    """Steady-state membrane current (uA/cm2) of every membrane node at ``v`` (gates at
    their steady state; a calcium pool at its resting concentration)."""
    s = compiled.initial_state(v, p)
    return compiled.currents(v, s, p)[0]


def _membrane_arrays(cell):
    compiled = cell.membrane.compile(0.025)
    p = cell._parameters(compiled)  # C-contiguous
    area_f = np.asarray(cell.compartments.area_um2, float)[cell.mem_node] * AREA_FACTOR
    g_ax = np.zeros(cell.n_nodes)
    g_ax[1:] = 1.0 / np.asarray(cell.compartments.r_axial_MOhm, float)[1:]
    return compiled, p, area_f, g_ax


def resting_state(cell: Cell, *, tol_mV: float = 1e-9, max_iter: int = 50) -> xr.Dataset:
    r"""The cell's resting state and its linearisation (the cell's stimuli ignored).

    Solves :math:`A_i I^{ss}_i(V_i) + \sum_j G_{ij}(V_i - V_j) = 0` for every node by
    Newton's method (the tree Jacobian solved by :func:`~neurosim_nb.cable.hines_solve`),
    starting from the cell's initial potential; :math:`I^{ss}` is the membrane current
    with every gate at its steady state, so its slope
    :math:`g^{ss} = dI^{ss}/dV` (central difference, 1e-4 mV) includes the gates' voltage
    dependence -- the DC small-signal conductance.

    Returns
    -------
    Dataset
        ``V_rest`` (mV) and ``g_slope`` (mS/cm2, NaN at nodes without membrane) on
        ``compartment``; attrs ``iterations``.

    >>> from neurosim_nb.morphology import Morphology, discretise
    >>> comp = discretise(Morphology.ball_and_stick(), nseg=3)
    >>> cell = Cell(comp, {"all": [mechanism("hh1952_leak", g_max=0.1, E_rev=-70.0)]})
    >>> rest = resting_state(cell)
    >>> float(abs(rest.V_rest + 70.0).max()) < 1e-9, round(float(rest.g_slope.max()), 6)
    (True, 0.1)
    """
    _check_cell(cell)
    compiled, p, area_f, g_ax = _membrane_arrays(cell)
    mem = cell.mem_node
    V = np.asarray(cell.initial_potential(compiled, p), dtype=float).copy()
    parent = cell.parent
    h = 1e-4
    it = 0
    for it in range(1, int(max_iter) + 1):  # noqa: B007 (reported in the attrs)
        vm = V[mem]
        i0 = _steady_current(compiled, p, vm)
        g = (_steady_current(compiled, p, vm + h) - _steady_current(compiled, p, vm - h)) / (2 * h)
        f = np.zeros(cell.n_nodes)
        d = np.zeros(cell.n_nodes)
        f[mem] = area_f * i0
        d[mem] = area_f * g
        flow = g_ax[1:] * (V[1:] - V[parent[1:]])
        np.add.at(f, np.arange(1, cell.n_nodes), flow)
        np.add.at(f, parent[1:], -flow)
        np.add.at(d, np.arange(1, cell.n_nodes), g_ax[1:])
        np.add.at(d, parent[1:], g_ax[1:])
        rhs = -f
        hines_solve(parent, g_ax, d, rhs)
        if not np.all(np.isfinite(rhs)):
            raise RuntimeError("the resting state is singular: a region with no membrane "
                               "conductance (dI/dV = 0) cannot settle")
        V += rhs
        if np.max(np.abs(rhs)) < tol_mV:
            break
    else:
        raise RuntimeError(f"no resting state found in {max_iter} Newton steps (last change "
                           f"{np.max(np.abs(rhs)):.3g} mV): the cell may have no stable rest")
    g_out = np.full(cell.n_nodes, np.nan)
    g_out[mem] = (_steady_current(compiled, p, V[mem] + h)
                  - _steady_current(compiled, p, V[mem] - h)) / (2 * h)
    return xr.Dataset(
        {"V_rest": ("compartment", V, {"units": "mV", "long_name": "resting potential"}),
         "g_slope": ("compartment", g_out, {"units": "mS/cm2", "long_name":
                                            "steady-state slope conductance at rest"})},
        {"compartment": np.arange(cell.n_nodes)}, attrs={"iterations": it})


def _jacobian_diag(cell, rest):
    _, _, area_f, g_ax = _membrane_arrays(cell)
    d = np.zeros(cell.n_nodes)
    d[cell.mem_node] = area_f * rest.g_slope.values[cell.mem_node]
    np.add.at(d, np.arange(1, cell.n_nodes), g_ax[1:])
    np.add.at(d, cell.parent[1:], g_ax[1:])
    return d, g_ax


def _transfer(cell, rest, node: int) -> np.ndarray:
    """Transfer resistances (MOhm) from ``node`` to every node: the linear steady state of
    1 nA injected there."""
    d, g_ax = _jacobian_diag(cell, rest)
    x = np.zeros(cell.n_nodes)
    x[node] = 1.0
    hines_solve(cell.parent, g_ax, d, x)
    return x


def _coords(cell) -> dict:
    coords = {"compartment": np.arange(cell.n_nodes)}
    extra = getattr(cell.compartments, "to_dataset_coords", None)
    if extra is not None:
        for name, (dims, values, attrs) in extra().items():
            if name != "compartment":
                coords[name] = (dims, values, attrs)
    return coords


class _Stimuli:
    """Run a cell with other stimuli and restore its own afterwards."""

    def __init__(self, cell, stimuli) -> None:
        self.cell, self.stimuli = cell, list(stimuli)

    def __enter__(self):
        self.saved = self.cell.stimuli
        self.cell.stimuli = []
        self.cell.add(*self.stimuli)
        return self.cell

    def __exit__(self, *exc) -> None:
        self.cell.stimuli = self.saved


def input_resistance(cell: Cell, location=("soma", 0.5), *, method: str = "exact",
                     amp_nA: float = 0.01, duration_ms: float | None = None,
                     dt_ms: float = 0.025) -> xr.Dataset:
    r"""Input resistance (MOhm) at ``location`` and the transfer resistances to every node.

    Parameters
    ----------
    cell : Cell
    location : (section, x)
        Where the current enters (default ``("soma", 0.5)``).
    method : {"exact", "dc_step"}
        ``"exact"`` (default): the linear steady state of the cell linearised at rest
        (:func:`resting_state`), one Hines solve -- exact to round-off for the discretised
        cell, for any DC input small enough to stay linear (NEURON's ``Impedance`` at
        0 Hz). ``"dc_step"``: inject ``amp_nA`` from t = 0 for ``duration_ms`` (default 20
        slowest membrane time constants at rest, :math:`c_m / g^{ss}`) by backward Euler and
        divide the final deflection, relative to a run without the step, by ``amp_nA``;
        it differs from the exact value by the step's nonlinearity and its unsettled
        residual (:math:`e^{-20}` of the passive transient).

    Returns
    -------
    Dataset
        ``input_resistance`` (MOhm), ``transfer_resistance`` (MOhm, on ``compartment``:
        the deflection there per nA at ``location``), ``V_rest`` (mV); attrs ``method``,
        ``location``, ``node``.

    >>> from neurosim_nb.morphology import Morphology, discretise
    >>> comp = discretise(Morphology.cylinder(1000.0, 1.0), Ra_ohm_cm=100.0, nseg=101)
    >>> cell = Cell(comp, {"all": [mechanism("hh1952_leak", g_max=0.1, E_rev=-65.0)]})
    >>> r = input_resistance(cell, ("cable", 0.0))
    >>> lam, r_inf = 500e-4, 4 * 100.0 * 500e-4 / (np.pi * 1e-8) / 1e6   # cm, MOhm
    >>> bool(abs(float(r.input_resistance) / (r_inf / np.tanh(2.0)) - 1) < 1e-4)
    True
    """
    _check_cell(cell)
    if method not in ("exact", "dc_step"):
        raise ValueError(f"method must be 'exact' or 'dc_step', got {method!r}")
    if not (isinstance(location, tuple) and len(location) == 2):
        raise TypeError(f"location must be (section, x), got {location!r}")
    node = cell.locate(*location)
    rest = resting_state(cell)
    if method == "exact":
        transfer = _transfer(cell, rest, node)
    else:
        if not is_number(amp_nA) or not np.isfinite(amp_nA) or amp_nA == 0:
            raise ValueError(f"amp_nA must be a finite non-zero current (nA), got {amp_nA!r}")
        if duration_ms is None:
            g = rest.g_slope.values[cell.mem_node]
            cm = np.broadcast_to(np.asarray(cell.compartments.cm_uF_cm2, float),
                                 (cell.n_nodes,))[cell.mem_node]
            tau = np.max(cm / np.where(g > 0, g, np.nan))
            if not np.isfinite(tau):
                raise ValueError("no membrane conductance at rest: give duration_ms")
            duration_ms = float(np.ceil(20.0 * tau / dt_ms) * dt_ms)
        with _Stimuli(cell, [IClamp(location[0], location[1], float(amp_nA), 0.0, 1e12)]):
            on = cell.simulate(duration_ms, dt_ms, verbose=False,
                               sample_every=int(round(duration_ms / dt_ms)))
        with _Stimuli(cell, []):
            off = cell.simulate(duration_ms, dt_ms, verbose=False,
                                sample_every=int(round(duration_ms / dt_ms)))
        transfer = (on.V.values[-1] - off.V.values[-1]) / float(amp_nA)
    return xr.Dataset(
        {"input_resistance": ((), float(transfer[node]),
                              {"units": "MOhm", "long_name": "input resistance"}),
         "transfer_resistance": ("compartment", transfer,
                                 {"units": "MOhm", "long_name": "steady deflection per nA "
                                                                "injected at the location"}),
         "V_rest": ("compartment", rest.V_rest.values, rest.V_rest.attrs)},
        _coords(cell), attrs={"method": method, "location": f"{location[0]}({location[1]})",
                              "node": int(node)})


# -- electrotonic length -----------------------------------------------------------------
def _specific_resistance(compartments, membrane) -> np.ndarray:
    """Rm (Ohm cm2) of every node from a number, a Cell or a Membrane."""
    n = len(compartments.parent)
    if isinstance(membrane, Cell):
        g = resting_state(membrane).g_slope.values
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1.0 / (g * 1e-3)
    if isinstance(membrane, Membrane):
        c = membrane.compile(0.025)
        p = c.parameters(1)
        grid = np.arange(-120.0, 40.0, 0.05)
        i = np.array([_steady_current(c, p, np.array([v]))[0] for v in grid])
        cross = np.flatnonzero((i[:-1] < 0) & (i[1:] >= 0))
        if cross.size == 0:
            raise ValueError("the membrane has no resting potential in -120..40 mV")
        a = cross[np.argmin(np.abs(grid[cross] + 65.0))]
        v = grid[a] - i[a] * 0.05 / (i[a + 1] - i[a])
        g = (_steady_current(c, p, np.array([v + 1e-4]))[0]
             - _steady_current(c, p, np.array([v - 1e-4]))[0]) / 2e-4
        if not g > 0:
            raise ValueError(f"the membrane's slope conductance at rest is {g:g} mS/cm2; "
                             "the length constant needs it > 0")
        return np.full(n, 1.0 / (g * 1e-3))
    if is_number(membrane) and not isinstance(membrane, bool):
        if not np.isfinite(membrane) or membrane <= 0:
            raise ValueError(f"Rm must be a finite specific resistance > 0 (Ohm cm2), "
                             f"got {membrane!r}")
        return np.full(n, float(membrane))
    raise TypeError("membrane must be Rm (Ohm cm2), a Cell or a Membrane, got "
                    f"{type(membrane).__name__}")


def electrotonic_length(compartments, membrane, path) -> xr.Dataset:
    r"""Electrotonic length :math:`L = \sum_i \Delta x_i / \lambda_i` of the sections of
    ``path``, with :math:`\lambda_i = \sqrt{R_m d_i / (4 R_a)}` per segment.

    Parameters
    ----------
    compartments : Compartments
        From :func:`~neurosim_nb.morphology.discretise` (its ``Ra_ohm_cm``).
    membrane : float, Cell or Membrane
        The specific membrane resistance :math:`R_m` (Ohm cm2), or where to take it: a
        cell (its steady-state slope conductance at rest, per node) or a membrane (at its
        resting potential).
    path : str or sequence of str
        Section names (segments of every one summed).

    Returns
    -------
    Dataset
        ``electrotonic_length`` (1), ``physical_length`` (um) and ``length_constant``
        (um, on the path's segment centres ``compartment``).

    >>> from neurosim_nb.morphology import Morphology, discretise
    >>> comp = discretise(Morphology.cylinder(250.0, 1.0), Ra_ohm_cm=100.0, nseg=5)
    >>> ds = electrotonic_length(comp, 10000.0, ["cable"])   # lambda = 500 um
    >>> float(ds.electrotonic_length), float(ds.length_constant[0])
    (0.5, 500.0)
    """
    for name in ("parent", "length_um", "diameter_um", "section", "section_names",
                 "Ra_ohm_cm"):
        if not hasattr(compartments, name):
            raise TypeError("compartments must be a Compartments (from "
                            f"neurosim_nb.morphology.discretise); it has no {name!r}")
    names = [path] if isinstance(path, str) else list(path) if isinstance(
        path, Sequence) else None
    if not names or not all(isinstance(p, str) for p in names):
        raise ValueError(f"path must be a section name or a list of them, got {path!r}")
    secs = list(compartments.section_names)
    for p in names:
        if p not in secs:
            raise ValueError(f"path: no section {p!r}; sections: {secs[:10]}")
    rm = _specific_resistance(compartments, membrane)
    sel = np.isin(np.asarray(compartments.section), [secs.index(p) for p in names])
    sel &= np.asarray(compartments.length_um) > 0
    idx = np.flatnonzero(sel)
    d_cm = np.asarray(compartments.diameter_um, float)[idx] * 1e-4
    lam_um = np.sqrt(rm[idx] * d_cm / (4.0 * compartments.Ra_ohm_cm)) * 1e4
    if not np.all(np.isfinite(lam_um)):
        raise ValueError("a segment of the path has no membrane conductance (infinite length "
                         "constant)")
    dx = np.asarray(compartments.length_um, float)[idx]
    return xr.Dataset(
        {"electrotonic_length": ((), float(np.sum(dx / lam_um)),
                                 {"units": "1", "long_name": "electrotonic length L/lambda"}),
         "physical_length": ((), float(dx.sum()), {"units": "um", "long_name": "length"}),
         "length_constant": ("compartment", lam_um, {"units": "um",
                                                     "long_name": "DC length constant"})},
        {"compartment": idx}, attrs={"path": ",".join(names)})


# -- dendritic summation -------------------------------------------------------------------
def _receptors(receptor) -> dict:
    from neurosim_nb.core.synapses.receptors import Receptor, get_receptor

    if isinstance(receptor, str | Receptor):
        return {get_receptor(receptor): 1.0}
    if isinstance(receptor, Mapping) and receptor:
        out = {}
        for r, w in receptor.items():
            if not is_number(w) or not np.isfinite(w) or w < 0:
                raise ValueError(f"relative weight of {r!r} must be a number >= 0, got {w!r}")
            out[get_receptor(r)] = float(w)
        return out
    raise TypeError("receptor must be a receptor name, a Receptor, or {receptor: relative "
                    f"weight}}, got {receptor!r}")


def dendritic_summation(cell: Cell, loc_a, loc_b, *, receptor="AMPA", weight_uS=0.001,
                        onset_ms: float = 5.0, duration_ms: float = 60.0,
                        record_at=None, measure: str = "peak", dt_ms: float = 0.025,
                        method: str = "backward_euler") -> xr.Dataset:
    r"""Responses to a synaptic input at A, at B and at both: their summation ratio.

    Each condition is one run of the cell with one event at ``onset_ms`` at each active
    location, of peak conductance ``weight_uS`` times the receptor's relative weight.
    The response is the deflection at ``record_at`` (default: the cell's spike location,
    the soma) from its value at ``onset_ms``: its maximum (``measure="peak"``) or its
    final value (``"steady"``, for a sustained conductance). ``ratio`` = response(A+B) /
    (response(A) + response(B)): < 1 sublinear (the shared depolarisation cuts each
    input's driving force), > 1 supralinear (NMDA's Mg²⁺ block relieved by the other
    input: the NMDA spike of Schiller et al. 2000, Polsky et al. 2004).

    For ``measure="steady"``, ``predicted_ratio`` is the prediction of the cell's
    transfer resistances :math:`R_{ij}` (:func:`input_resistance`) for sustained
    conductances :math:`g_j`: the local deflections solve
    :math:`v_i = \sum_j R_{ij} g_j (E_j - V_{rest} - v_j)` (linear cable, nonlinear
    synapses), and the response at the recording site follows.

    Parameters
    ----------
    loc_a, loc_b : (section, x)
    receptor : str, Receptor or {receptor: relative weight}
        E.g. ``"AMPA"``, or ``{"AMPA": 1.0, "NMDA": 1.0}`` for both at each site.
    weight_uS : float or sequence of float
        Peak conductance per site (uS); a sequence sweeps it (dimension ``weight``).

    Returns
    -------
    Dataset
        ``V`` (mV) at the recording site on (weight, condition, time) with conditions
        ``A``, ``B``, ``AB``; ``response`` (mV) on (weight, condition); ``linear_sum``,
        ``ratio`` (and ``predicted_ratio``) on ``weight``.

    >>> from neurosim_nb.morphology import Morphology, discretise
    >>> comp = discretise(Morphology.ball_and_stick(20.0, 400.0, 1.0), nseg=21)
    >>> cell = Cell(comp, {"all": [mechanism("hh1952_leak", g_max=0.1, E_rev=-65.0)]},
    ...             V_init=-65.0)
    >>> s = dendritic_summation(cell, ("dend", 0.9), ("dend", 0.9), weight_uS=0.005)
    >>> bool(s.ratio < 1.0), s.ratio.attrs["units"]
    (True, '1')
    """
    _check_cell(cell)
    for name, loc in (("loc_a", loc_a), ("loc_b", loc_b)):
        if not (isinstance(loc, tuple) and len(loc) == 2):
            raise TypeError(f"{name} must be (section, x), got {loc!r}")
        cell.locate(*loc)
    if measure not in ("peak", "steady"):
        raise ValueError(f"measure must be 'peak' or 'steady', got {measure!r}")
    recs = _receptors(receptor)
    weights = np.atleast_1d(np.asarray(weight_uS, dtype=float))
    if weights.ndim != 1 or weights.size == 0 or not np.all(np.isfinite(weights)) or np.any(
            weights <= 0):
        raise ValueError(f"weight_uS must be a conductance > 0 (uS) or a list of them, got "
                         f"{weight_uS!r}")
    if not (is_number(onset_ms) and 0 <= onset_ms < duration_ms):
        raise ValueError(f"onset_ms must be in [0, duration_ms), got {onset_ms!r}")
    rec_node = cell.spike_node if record_at is None else cell.locate(*record_at)
    n_steps = int(round(duration_ms / dt_ms))
    traces = np.zeros((weights.size, 3, n_steps))
    response = np.zeros((weights.size, 3))
    for w_i, w in enumerate(weights):
        for c_i, locs in enumerate(([loc_a], [loc_b], [loc_a, loc_b])):
            syns = [SynapseInput(sec, x, r, w * rel, (float(onset_ms),))
                    for sec, x in locs for r, rel in recs.items() if rel > 0]
            with _Stimuli(cell, syns):
                ds = cell.simulate(duration_ms, dt_ms, method, verbose=False,
                                   record_compartments=[rec_node])
            v = ds.V.values[:, 0]
            traces[w_i, c_i] = v
            t = ds.time.values
            base = np.interp(onset_ms, np.concatenate(([0.0], t)),
                             np.concatenate(([v[0]], v)))
            dv = v - base
            response[w_i, c_i] = dv[-1] if measure == "steady" else dv[t >= onset_ms].max()
    linear = response[:, 0] + response[:, 1]
    if np.any(linear == 0):
        raise ValueError("an input gave no response at the recording site: nothing to sum")
    data = {
        "V": (("weight", "condition", "time"), traces,
              {"units": "mV", "long_name": "membrane potential at the recording site"}),
        "response": (("weight", "condition"), response,
                     {"units": "mV", "long_name": f"{measure} deflection at the recording "
                                                  "site"}),
        "linear_sum": ("weight", linear, {"units": "mV", "long_name": "response(A) + "
                                                                      "response(B)"}),
        "ratio": ("weight", response[:, 2] / linear,
                  {"units": "1", "long_name": "response(A+B) / linear sum"}),
    }
    if measure == "steady":
        data["predicted_ratio"] = ("weight", _predicted_ratio(cell, loc_a, loc_b, recs,
                                                              weights, rec_node),
                                   {"units": "1", "long_name": "ratio predicted by the "
                                                               "transfer resistances"})
    return xr.Dataset(data, {"weight": ("weight", weights, {"units": "uS"}),
                             "condition": ["A", "B", "AB"],
                             "time": ("time", ds.time.values, {"units": "ms"})},
                      attrs={"receptor": ",".join(r.name for r in recs), "measure": measure,
                             "loc_a": f"{loc_a[0]}({loc_a[1]})",
                             "loc_b": f"{loc_b[0]}({loc_b[1]})",
                             "record_compartment": int(rec_node)})


def _predicted_ratio(cell, loc_a, loc_b, recs, weights, rec_node) -> np.ndarray:
    """Steady-state summation ratio from the transfer resistances (sustained conductances,
    no Mg block: the linear cable's exact answer for conductance synapses)."""
    if any(r.mg_mM > 0 or r.kind != "conductance" for r in recs):
        return np.full(weights.size, np.nan)
    rest = resting_state(cell)
    na, nb = cell.locate(*loc_a), cell.locate(*loc_b)
    rows = {n: _transfer(cell, rest, n) for n in {na, nb}}   # R[n][i] = R[i][n] (symmetric)
    v0 = rest.V_rest.values
    out = []
    for w in weights:
        g1 = sum(w * rel for rel in recs.values())
        e = sum(w * rel * r.E_rev_mV for r, rel in recs.items()) / g1

        def response(sites: dict, e: float = e) -> float:
            nodes = list(sites)
            g = np.array([sites[n] for n in nodes])
            R = np.array([[rows[j][i] for j in nodes] for i in nodes])
            drive = np.array([e - v0[i] for i in nodes])
            v = np.linalg.solve(np.eye(len(nodes)) + R * g[None, :], R @ (g * drive))
            return float(sum(rows[j][rec_node] * g[k] * (drive[k] - v[k])
                             for k, j in enumerate(nodes)))

        both = {na: g1, nb: g1} if na != nb else {na: 2.0 * g1}
        out.append(response(both) / (response({na: g1}) + response({nb: g1})))
    return np.array(out)


# -- axons -------------------------------------------------------------------------------
def _hh(factor: float = 1.0) -> list:
    return [mechanism("hh1952_na", g_max=120.0 * factor),
            mechanism("hh1952_k", g_max=36.0 * factor),
            mechanism("hh1952_leak", g_max=0.3 * factor)]


def unmyelinated_axon_cell(diameter_um: float, length_um: float | None = None, *,
                           Ra_ohm_cm: float = 35.4, temperature_C: float = 18.5,
                           d_lambda: float = 0.05, stimulus: bool = True) -> Cell:
    r"""An HH 1952 axon (squid densities, Ra 35.4 Ohm cm, cm 1 uF/cm2): a cylinder of
    ``diameter_um`` and ``length_um`` (default 20 DC length constants of the resting
    membrane, :math:`\lambda = \sqrt{d / (4 R_a g_{L})}`), segments by the d_lambda rule,
    started by a 0.2 ms pulse at x = 0 (from 1 ms) of 1 nA (d / 1 um)^1.5 (the input
    conductance of a semi-infinite cable grows as d^1.5).

    >>> cell = unmyelinated_axon_cell(1.0, 2000.0)
    >>> cell.compartments.section_names, len(cell.stimuli)
    (('axon',), 1)
    """
    d = positive_number("diameter_um", diameter_um)
    if length_um is None:
        lam_um = np.sqrt(d * 1e-4 / (4.0 * Ra_ohm_cm * 0.3e-3)) * 1e4
        length_um = 20.0 * lam_um
    comp = discretise(Morphology.cylinder(positive_number("length_um", length_um), d, name="axon",
                                          type="axon"),
                      Ra_ohm_cm=Ra_ohm_cm, d_lambda=d_lambda)
    cell = Cell(comp, {"all": _hh()}, temperature_C=temperature_C, V_init=-65.0,
                spike_location=("axon", 0.5))
    if stimulus:
        cell.add(IClamp("axon", 0.0, 1.0 * d**1.5, 1.0, 0.2))
    return cell


def myelin_lamellae(axon_diameter_um: float, g_ratio: float = 0.7,
                   period_um: float = MYELIN_PERIOD_UM) -> float:
    """Number of myelin lamellae around an axon: the sheath thickness
    ``(d / g_ratio - d) / 2`` over the period (um).

    >>> round(myelin_lamellae(7.0, 0.7), 1)     # a 10 um fibre: 1.5 um of myelin
    85.7
    """
    d = positive_number("axon_diameter_um", axon_diameter_um)
    if not (is_number(g_ratio) and 0.0 < g_ratio < 1.0):
        raise ValueError(f"g_ratio must be in (0, 1) for a myelinated axon, got {g_ratio!r}")
    return (d / g_ratio - d) / 2.0 / positive_number("period_um", period_um)


def myelinated_axon_cell(axon_diameter_um: float, n_nodes: int = 21, *,
                         internode_length_um: float | None = None, g_ratio: float = 0.7,
                         node_length_um: float = 1.0, internode_nseg: int = 9,
                         Ra_ohm_cm: float = 35.4, temperature_C: float = 18.5,
                         node_density_factor: float = NODE_DENSITY_FACTOR,
                         myelin_cm_uF_cm2: float | str = "lamellae",
                         myelin_g_mS_cm2: float | str = "lamellae",
                         stimulus: bool = True) -> Cell:
    """A myelinated axon (:meth:`Morphology.myelinated_axon`: nodes ~1 um long, internodes
    of 100 fibre diameters): nodes of Ranvier with HH 1952 channels at
    ``node_density_factor`` times the squid's densities, internodes of myelin.

    The internode's capacitance and leak (reversing at the nodes' rest, -65 mV) are, by
    default (``"lamellae"``), those of a bare membrane (1 uF/cm2, :data:`MYELIN_G_MS_CM2`)
    divided by the 2n membranes of its :func:`myelin_lamellae`; or give numbers (uF/cm2,
    mS/cm2, e.g. :data:`MYELIN_CM_UF_CM2`). Started by a 0.2 ms pulse into node0 (from
    1 ms) of 0.1 nA max(d, d^2) (d in um: the charge of a node and its internode grows
    as d^2; below 1 um the node's own load, ~d, dominates -- 0.1 d^2 fails at 0.5 um).

    >>> cell = myelinated_axon_cell(1.0, n_nodes=3)
    >>> sorted(cell.regions), cell.compartments.section_names[:3]
    (['internode', 'node'], ('node0', 'internode0', 'node1'))
    """
    d = positive_number("axon_diameter_um", axon_diameter_um)
    positive_number("node_density_factor", node_density_factor)
    values = []
    for name, v, bare in (("myelin_cm_uF_cm2", myelin_cm_uF_cm2, 1.0),
                          ("myelin_g_mS_cm2", myelin_g_mS_cm2, MYELIN_G_MS_CM2)):
        if isinstance(v, str) and v == "lamellae":
            values.append(bare / (2.0 * myelin_lamellae(d, g_ratio)))
        else:
            values.append(positive_number(name, v))
    cm_myelin, g_myelin = values
    morph = Morphology.myelinated_axon(d, n_nodes=n_nodes, node_length_um=node_length_um,
                                       internode_length_um=internode_length_um,
                                       g_ratio=g_ratio)
    if isinstance(internode_nseg, bool) or not isinstance(internode_nseg, int) \
            or internode_nseg < 1:
        raise ValueError(f"internode_nseg must be an int >= 1, got {internode_nseg!r}")
    nseg = {s.name: (1 if s.type == "node" else internode_nseg) for s in morph.sections}
    comp = discretise(morph, Ra_ohm_cm=Ra_ohm_cm, nseg=nseg)
    cm = np.where(comp.region_mask("internode"), cm_myelin, 1.0)
    cm.setflags(write=False)
    comp = dataclasses.replace(comp, cm_uF_cm2=cm)
    myelin = mechanism("hh1952_leak", g_max=g_myelin, E_rev=-65.0)
    cell = Cell(comp, {"node": _hh(node_density_factor), "internode": [myelin]},
                temperature_C=temperature_C, V_init=-65.0, spike_location=("node0", 0.5))
    if stimulus:
        cell.add(IClamp("node0", 0.5, 0.1 * max(d, d**2), 1.0, 0.2))
    return cell


def axon_velocity(diameters_um, myelinated: bool = False, *, dt_ms: float = 0.005,
                  method: str = "crank_nicolson", threshold_mV: float = 0.0,
                  **cell_options) -> xr.Dataset:
    """Conduction velocity (m/s) of an action potential against the axon's diameter.

    Each diameter builds :func:`unmyelinated_axon_cell` or :func:`myelinated_axon_cell`
    (``cell_options`` go to it), runs until the spike has crossed the axon, and fits the
    arrival times (upward crossings of ``threshold_mV``) between 30 % and 70 % of the
    length (:func:`neurosim_nb.analysis.propagation_velocity`; away from the stimulated
    and the sealed end), at every compartment (unmyelinated) or every node of Ranvier
    (myelinated), as :func:`neurosim_nb.analysis.propagation_velocity` does.

    Returns
    -------
    Dataset
        ``velocity`` (m/s), ``latency`` (ms, arrival at 70 % minus at 30 %),
        ``fit_residual`` (um) and ``n_compartments`` on ``diameter`` (um).

    >>> ds = axon_velocity([1.0], length_um=3000.0)
    >>> 0.5 < float(ds.velocity[0]) < 1.5, ds.velocity.attrs["units"]
    (True, 'm/s')
    """
    diam = np.atleast_1d(np.asarray(diameters_um, dtype=float))
    if diam.ndim != 1 or diam.size == 0 or not np.all(np.isfinite(diam)) or np.any(diam <= 0):
        raise ValueError(f"diameters_um must be diameters > 0 (um), got {diameters_um!r}")
    if not isinstance(myelinated, bool):
        raise TypeError(f"myelinated must be True or False, got {myelinated!r}")
    out = np.zeros((4, diam.size))
    for k, d in enumerate(diam):
        if myelinated:
            cell = myelinated_axon_cell(float(d), **cell_options)
            # HH at 18.5 degC conducts >= ~5 m/s per um of fibre: L/v with a margin
        else:
            cell = unmyelinated_axon_cell(float(d), **cell_options)
        comp = cell.compartments
        total = float(np.sum(comp.length_um))
        duration = _run_time(total, d, myelinated, dt_ms)
        x = _axon_position(comp)
        keep = (comp.area_um2 > 0) if myelinated else np.ones(comp.n, bool)
        if myelinated:
            keep &= comp.region_mask("node")
        ds = cell.simulate(duration, dt_ms, method, verbose=False,
                           record_compartments=np.flatnonzero(keep))
        out[:, k] = (*_fit_velocity(ds.time.values, ds.V.values, x[keep], total,
                                    threshold_mV), comp.n)
    return xr.Dataset(
        {"velocity": ("diameter", out[0], {"units": "m/s", "long_name": "conduction velocity"}),
         "latency": ("diameter", out[1], {"units": "ms", "long_name": "conduction time from "
                                                                     "30 % to 70 % of the axon"}),
         "fit_residual": ("diameter", out[2], {"units": "um", "long_name": "rms residual of "
                                                                          "the linear fit"}),
         "n_compartments": ("diameter", out[3].astype(int), {"units": "1",
                                                             "long_name": "nodes"})},
        {"diameter": ("diameter", diam, {"units": "um", "long_name": "axon diameter"})},
        attrs={"myelinated": int(myelinated), "dt_ms": dt_ms, "method": method})


def _axon_position(comp) -> np.ndarray:
    """Distance (um) of every node of an unbranched axon from its 0-end."""
    x = np.zeros(comp.n)
    for s in range(len(comp.section_names)):
        length = comp.length_um[comp.section_start[s]] * comp.nseg[s]
        base = 0.0 if s == 0 else x[comp.section_parent_node[s]]
        idx = comp.section == s
        x[idx] = base + comp.position[idx] * length
    return x


def _fit_velocity(t, v, x, total, threshold) -> tuple[float, float, float]:
    """(velocity m/s, latency ms, rms residual um) of the arrival times (first upward
    crossings, interpolated) between 30 % and 70 % of the axon (the fit of
    :func:`neurosim_nb.analysis.propagation_velocity` on an unbranched axon)."""
    arrival = first_crossings(t, v, threshold, 1.0)
    if np.isnan(arrival).any():
        raise ValueError("the spike did not reach the end of the axon: it failed to "
                         "propagate (raise the stimulus or check the node densities)")
    use = (x >= 0.3 * total) & (x <= 0.7 * total)
    slope, icpt = np.polyfit(arrival[use], x[use], 1)
    resid = x[use] - (slope * arrival[use] + icpt)
    order = np.argsort(x)
    lat = float(np.interp(0.7 * total, x[order], arrival[order])
                - np.interp(0.3 * total, x[order], arrival[order]))
    return slope * 1e-3, lat, float(np.sqrt(np.mean(resid**2)))


def _run_time(total_um: float, d: float, myelinated: bool, dt: float) -> float:
    """A run long enough for the spike to cross the axon (ms, a whole number of steps):
    the length over a lower bound of the velocity (HH at 18.5 degC: >= 0.4 m/s at 1 um
    unmyelinated, scaling as sqrt(d); myelinated >= 1 m/s per um), plus 3 ms."""
    v_min = 1.0 * d if myelinated else 0.4 * np.sqrt(d)    # um/us = m/s = mm/ms
    t = 3.0 + total_um * 1e-3 / v_min
    return float(np.ceil(t / dt) * dt)
