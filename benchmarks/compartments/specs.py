"""The compartmental benchmark models, as plain data shared by NEURON and neurosim_nb.

Both sides build the SAME cell from these dicts: ``neuron_models.py`` (NEURON, in the peers'
environment) and ``ours_models.py`` (neurosim_nb). Standard library only, so that either
environment can import it.

A cell is a dict::

    {"sections": [section, ...],        # parents before children
     "celsius": 6.3,                     # degC (hh rates: q10 3 from 6.3 degC)
     "v_init_mV": -65.0,
     "stimuli": [{"section": "soma", "x": 0.5, "delay_ms": 0, "dur_ms": 1e9, "amp_nA": 0.1}],
     "record": [["soma", 0.5], ...]}

and a section is::

    {"name": "dend_0_1", "parent": "dend_0" or None, "parent_x": 1.0,   # where it attaches
     "L_um": 100.0, "diam_um": 2.0, "nseg": 14, "Ra_ohm_cm": 100.0, "cm_uF_cm2": 1.0,
     "mechanisms": {"pas": {"g": 1e-4, "e": -65.0},                       # S/cm2, mV
                    "hh": {"gnabar": 0.12, "gkbar": 0.036, "gl": 3e-4, "el": -54.3,
                           "ena": 50.0, "ek": -77.0}}}                     # S/cm2, mV

Units follow NEURON's: um, ohm cm, uF/cm2, S/cm2, mV, nA, ms. ``x`` is the normalised
position along the section (0 at its start, the end that joins the parent). ``nseg`` is
NEURON's number of segments: one compartment each, centred at ``(i + 0.5) / nseg``; the two
ends are NEURON's zero-area nodes. ``hh`` is NEURON's ``hh.mod`` (Hodgkin & Huxley 1952 in
the modern sign convention, rest near -65 mV).

Models (fixed step dt 0.025 ms unless stated):

* ``rallpack1`` -- Bhalla, Bilitch & Bower (1992) Rallpack 1: passive unbranched cable,
  1 mm x 1 um, 1000 compartments, RA 1.0 ohm m (100 ohm cm), RM 4.0 ohm m2 (g_pas 2.5e-5
  S/cm2), CM 0.01 F/m2 (1 uF/cm2), EM -65 mV, 0.1 nA into x = 0 for 250 ms; V at both ends.
* ``rallpack2`` -- Rallpack 2: a binary tree of 10 levels (1023 sections, one compartment
  each) obeying Rall's 3/2 rule with every section 0.008 length constants long: root
  16 um diameter x 32 um long, each level's diameter / 2**(2/3) and length / 2**(1/3)
  (the GENESIS/MOOSE ``rall.2.g`` script of the Rallpack distribution: DIAMETER_0 16e-6,
  LENGTH_0 32e-6); passive properties and stimulus of Rallpack 1 at the root's start; V at
  the root's start and at the end of one (every) leaf.
* ``rallpack3`` -- Rallpack 3: the Rallpack 1 cable with squid HH channels (GNa 1200 S/m2 =
  0.12 S/cm2, GK 360 S/m2 = 0.036 S/cm2, ENa +50 mV, EK -77 mV, leak RM 4 ohm m2 at EM
  -65 mV, rates of HH 1952 with V_rest -65 mV, i.e. hh.mod at 6.3 degC), 0.1 nA into x = 0
  for 250 ms; V and spike times at both ends.
* ``hh_cell_1000`` -- a 1000-compartment HH neuron, hh.mod (default densities) in every
  section: soma (20 x 20 um, 1 compartment), an axon (800 um x 1 um, 159 compartments) and
  4 dendritic trees of 3 levels below a primary branch (15 sections each, 100 um per
  section, 3/2 rule from 3 um, 14 compartments per section: 840); a 3 nA step into the
  soma centre from 5 ms on (regular firing: 41 spikes in 500 ms in NEURON; with passive
  dendrites the cell fires once and stays depolarised, hence hh everywhere).
* ``hh_population_100`` -- 100 independent copies of ``hh_cell_1000``, cell k driven by
  its own constant current step of ``2 + 2 k / 99`` nA into the soma from 5 ms on
  (deterministic, no synapses, so both sides see identical input).
"""

from __future__ import annotations

import copy

RA_OHM_CM = 100.0
CM_UF_CM2 = 1.0
#: Rallpack leak: RM 4 ohm m2 = 40 000 ohm cm2 -> 2.5e-5 S/cm2, at EM -65 mV
RALL_G_PAS = 1.0 / 40000.0
RALL_E_PAS = -65.0
RALL_HH = {"gnabar": 0.12, "gkbar": 0.036, "gl": RALL_G_PAS, "el": RALL_E_PAS,
           "ena": 50.0, "ek": -77.0}
#: hh.mod's own defaults (rest near -65 mV)
HH_DEFAULT = {"gnabar": 0.12, "gkbar": 0.036, "gl": 3e-4, "el": -54.3, "ena": 50.0,
              "ek": -77.0}

MODELS = ("rallpack1", "rallpack2", "rallpack3", "hh_cell_1000", "hh_population_100")
#: simulated time (ms) of each model in the speed benchmark
DURATION_MS = {"rallpack1": 250.0, "rallpack2": 250.0, "rallpack3": 250.0,
               "hh_cell_1000": 500.0, "hh_population_100": 100.0}
#: depth of the Rallpack 2 tree (levels) and its root geometry (um)
RALLPACK2_DEPTH = 10
RALLPACK2_ROOT = {"diam_um": 16.0, "L_um": 32.0}


def _section(name, parent, L_um, diam_um, nseg, mechanisms, parent_x=1.0):
    return {"name": name, "parent": parent, "parent_x": parent_x, "L_um": L_um,
            "diam_um": diam_um, "nseg": nseg, "Ra_ohm_cm": RA_OHM_CM,
            "cm_uF_cm2": CM_UF_CM2, "mechanisms": copy.deepcopy(mechanisms)}


def rallpack_cable(active: bool = False) -> dict:
    """Rallpack 1 (passive) or Rallpack 3 (``active=True``, hh) as a cell dict.

    >>> c = rallpack_cable()
    >>> c["sections"][0]["nseg"], c["sections"][0]["L_um"], c["stimuli"][0]["amp_nA"]
    (1000, 1000.0, 0.1)
    """
    mech = {"hh": dict(RALL_HH)} if active else {"pas": {"g": RALL_G_PAS, "e": RALL_E_PAS}}
    sec = _section("cable", None, 1000.0, 1.0, 1000, mech)
    return {"sections": [sec], "celsius": 6.3, "v_init_mV": -65.0,
            "stimuli": [{"section": "cable", "x": 0.0, "delay_ms": 0.0, "dur_ms": 1e9,
                         "amp_nA": 0.1}],
            "record": [["cable", 0.0], ["cable", 1.0]]}


def rallpack2_tree(depth: int = RALLPACK2_DEPTH) -> dict:
    """Rallpack 2's binary tree: ``2**depth - 1`` one-compartment sections.

    Section ``b<i>`` is numbered as in the GENESIS script (root 1, children of i are 2i and
    2i + 1); the recorded leaf is the last one, ``b<2**depth - 1>``.

    >>> t = rallpack2_tree()
    >>> len(t["sections"]), t["record"]
    (1023, [['b1', 0.0], ['b1023', 1.0]])
    >>> round(t["sections"][-1]["diam_um"], 4), round(t["sections"][-1]["L_um"], 4)
    (0.25, 4.0)
    """
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int, got {depth!r}")
    mech = {"pas": {"g": RALL_G_PAS, "e": RALL_E_PAS}}
    secs = []
    diam, length = RALLPACK2_ROOT["diam_um"], RALLPACK2_ROOT["L_um"]
    label = 1
    secs.append(_section("b1", None, length, diam, 1, mech))
    for _level in range(2, depth + 1):
        diam /= 2.0 ** (2.0 / 3.0)
        length /= 2.0 ** (1.0 / 3.0)
        for _ in range(2 ** (_level - 1)):
            label += 1
            secs.append(_section(f"b{label}", f"b{label // 2}", length, diam, 1, mech))
    return {"sections": secs, "celsius": 6.3, "v_init_mV": -65.0,
            "stimuli": [{"section": "b1", "x": 0.0, "delay_ms": 0.0, "dur_ms": 1e9,
                         "amp_nA": 0.1}],
            "record": [["b1", 0.0], [f"b{2 ** depth - 1}", 1.0]]}


def hh_cell_1000(amp_nA: float = 3.0, prefix: str = "") -> dict:
    """The 1000-compartment HH neuron (soma + axon + 4 dendritic trees, hh everywhere).

    >>> c = hh_cell_1000()
    >>> sum(s["nseg"] for s in c["sections"]), len(c["sections"])
    (1000, 62)
    """
    p = prefix
    secs = [_section(p + "soma", None, 20.0, 20.0, 1, {"hh": dict(HH_DEFAULT)}),
            _section(p + "axon", p + "soma", 800.0, 1.0, 159, {"hh": dict(HH_DEFAULT)},
                     parent_x=1.0)]
    for tree in range(4):
        # primary branch (level 0) then 3 levels of bifurcations: 1 + 2 + 4 + 8 sections
        root = f"{p}dend{tree}"
        secs.append(_section(root, p + "soma", 100.0, 3.0, 14, {"hh": dict(HH_DEFAULT)},
                             parent_x=0.0))
        level_names = [root]
        diam = 3.0
        for _level in range(3):
            diam /= 2.0 ** (2.0 / 3.0)
            nxt = []
            for parent in level_names:
                for side in ("a", "b"):
                    name = f"{parent}{side}"
                    secs.append(_section(name, parent, 100.0, diam, 14,
                                         {"hh": dict(HH_DEFAULT)}))
                    nxt.append(name)
            level_names = nxt
    return {"sections": secs, "celsius": 6.3, "v_init_mV": -65.0,
            "stimuli": [{"section": p + "soma", "x": 0.5, "delay_ms": 5.0, "dur_ms": 1e9,
                         "amp_nA": amp_nA}],
            "record": [[p + "soma", 0.5], [p + "axon", 1.0]],
            "spike_threshold_mV": 0.0}


def population_amps(n: int = 100) -> list[float]:
    """Step amplitude (nA) of each cell of ``hh_population_100``: 2 to 4 nA, evenly.

    >>> a = population_amps(100); a[0], a[-1], len(a)
    (2.0, 4.0, 100)
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    return [round(2.0 + 2.0 * k / (n - 1), 12) if n > 1 else 3.0 for k in range(n)]


def hh_population(n: int = 100) -> list[dict]:
    """``n`` independent copies of :func:`hh_cell_1000` (section names prefixed ``c<k>_``).

    >>> cells = hh_population(3); [c["stimuli"][0]["amp_nA"] for c in cells]
    [2.0, 3.0, 4.0]
    """
    return [hh_cell_1000(a, prefix=f"c{k}_") for k, a in enumerate(population_amps(n))]


def model(name: str) -> list[dict]:
    """The cells (a list of cell dicts) of benchmark model ``name``.

    >>> [len(model(m)) for m in ("rallpack1", "hh_population_100")]
    [1, 100]
    """
    if name == "rallpack1":
        return [rallpack_cable(False)]
    if name == "rallpack2":
        return [rallpack2_tree()]
    if name == "rallpack3":
        return [rallpack_cable(True)]
    if name == "hh_cell_1000":
        return [hh_cell_1000()]
    if name == "hh_population_100":
        return hh_population(100)
    raise ValueError(f"model must be one of {MODELS}, got {name!r}")


def n_compartments(cells: list[dict]) -> int:
    """Total compartments (sum of nseg) of a list of cells.

    >>> n_compartments(model("rallpack2"))
    1023
    """
    return sum(s["nseg"] for c in cells for s in c["sections"])
