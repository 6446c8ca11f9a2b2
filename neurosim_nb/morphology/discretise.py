"""Compartments of a :class:`~neurosim_nb.morphology.Morphology`, discretised as NEURON does.

NEURON's "second-order correct" scheme (Hines & Carnevale, *The NEURON Book*, ch. 5): a
section of length L cut into ``nseg`` segments has one node at the centre of each segment,
carrying the membrane of that segment, and a node of zero area at its 1-end; the root
section also has one at its 0-end. A child attached at ``x`` connects to the parent's node
at ``x``: the end node for ``x = 1`` (``x = 0`` is the section's own 0-end node), otherwise
the centre of the segment holding ``x`` (``min(int(x nseg), nseg - 1)``, NEURON's
``node_index``). The geometry of each segment is integrated over the frusta between the 3-D
points it spans, with the diameter interpolated linearly on arc length, exactly as NEURON's
``diam_from_list`` (``treeset.cpp``):

* area = sum of frustum lateral areas ``pi (r1 + r2) sqrt(dx^2 + (r2 - r1)^2)``;
* the half-segment axial resistance = ``4 Ra / pi * integral dx / d(x)^2``, exact for a
  linear taper (``dx / (d1 d2)`` per piece), times ``0.01`` for MOhm with Ra in ohm cm and
  lengths in um;
* the axial resistance between a node and its parent node is the right half of the parent
  segment plus the left half of the node's segment (a segment touching an end node or a
  section's attachment point contributes its half alone).

``nseg`` follows NEURON's d_lambda rule (``fixnseg.hoc``):
``nseg = int((L / (d_lambda * lambda_f) + 0.9) / 2) * 2 + 1`` with the AC length constant
``lambda_f`` at ``frequency_Hz`` from ``stdlib.hoc``'s ``lambda_f``, which integrates over
the 3-D points: ``L / lambda_f = sqrt(2) 1e-5 sqrt(4 pi f Ra cm) * sum dx / sqrt(d1 + d2)``.
(NEURON's CellBuilder writes ``+ 0.999`` instead of ``+ 0.9``; pass ``nseg=`` to match it.)

>>> c = discretise(Morphology.ball_and_stick(20.0, 200.0, 1.0), nseg={"soma": 1, "dend": 4})
>>> c.n, c.parent.tolist()
(8, [-1, 0, 1, 2, 3, 4, 5, 6])
>>> c.area_um2[[0, 1, 2]].round(6).tolist()    # soma 0-end, soma centre, soma 1-end
[0.0, 1256.637061, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from neurosim_nb._jit import njit
from neurosim_nb._validation import did_you_mean
from neurosim_nb.morphology.morphology import Morphology, Section

__all__ = ["Compartments", "discretise", "lambda_f_um", "d_lambda_nseg"]


def lambda_f_um(section: Section, frequency_Hz: float = 100.0, Ra_ohm_cm: float = 35.4,
                cm_uF_cm2: float = 1.0) -> float:
    """AC length constant (um) of a section at ``frequency_Hz``, NEURON's ``lambda_f``.

    Integrated over the 3-D points (``stdlib.hoc``); for a cylinder of diameter d it is
    ``1e5 sqrt(d / (4 pi f Ra cm))`` um.

    >>> s = Morphology.cylinder(100.0, 1.0).sections[0]
    >>> lam = 1e5 * (1.0 / (4 * np.pi * 100.0 * 35.4 * 1.0)) ** 0.5
    >>> bool(abs(lambda_f_um(s, 100.0, 35.4, 1.0) - lam) < 1e-9 * lam), round(lam, 3)
    (True, 474.126)
    """
    if cm_uF_cm2 == 0:
        return 1e10
    arc = section.arc_um
    d = section.diameters_um
    lam = float(np.sum(np.diff(arc) / np.sqrt(d[:-1] + d[1:])))
    lam *= math.sqrt(2.0) * 1e-5 * math.sqrt(4.0 * math.pi * frequency_Hz * Ra_ohm_cm * cm_uF_cm2)
    return float(arc[-1] / lam)


def d_lambda_nseg(section: Section, d_lambda: float = 0.1, frequency_Hz: float = 100.0,
                  Ra_ohm_cm: float = 35.4, cm_uF_cm2: float = 1.0) -> int:
    """Number of segments by the d_lambda rule (odd, >= 1), as NEURON's ``fixnseg.hoc``.

    >>> d_lambda_nseg(Morphology.cylinder(1000.0, 1.0).sections[0])   # lambda_f = 474.1 um
    21
    """
    lam = lambda_f_um(section, frequency_Hz, Ra_ohm_cm, cm_uF_cm2)
    return int((section.length_um / (d_lambda * lam) + 0.9) / 2) * 2 + 1


@njit(cache=True)
def _segments(arc, d, nseg, ra):  # pragma: no cover - compiled
    """NEURON's diam_from_list for every segment of one section: area (um2), mean diameter
    (um), left and right half-segment resistances (MOhm)."""
    npt = arc.size
    area_out = np.empty(nseg)
    diam_out = np.empty(nseg)
    rleft = np.empty(nseg)
    rright = np.empty(nseg)
    ds = arc[npt - 1] / nseg
    j = 0
    x1 = arc[0]
    y1 = abs(d[0])
    for inode in range(nseg):
        si = inode * ds
        diam = 0.0
        area = 0.0
        for ihalf in range(2):
            ri = 0.0
            sip = si + ds / 2.0
            while True:
                jp = j + 1
                xj = arc[j]
                xjp = arc[jp]
                if xjp > sip or jp == npt - 1:
                    if abs(xjp - xj) < 1e-10:
                        frac = 1.0
                    else:
                        frac = (sip - xj) / (xjp - xj)
                    x2 = sip
                    y2 = (1.0 - frac) * abs(d[j]) + frac * abs(d[jp])
                    jnext = j
                else:
                    x2 = xjp
                    y2 = abs(d[jp])
                    jnext = jp
                delta = x2 - x1
                diam += (y2 + y1) * delta
                if delta < 1e-15:
                    delta = 1e-15
                temp = y2 * y1 / delta
                if temp == 0.0:
                    temp = 1e-15
                ri += 1.0 / temp
                temp = 0.5 * (y2 - y1)
                area += (y2 + y1) * math.sqrt(delta * delta + temp * temp)
                x1 = x2
                y1 = y2
                if j == jnext:
                    break
                j = jnext
            r = ri * ra / math.pi * (4.0 * 0.01)
            if ihalf == 0:
                rleft[inode] = r
            else:
                rright[inode] = r
            si = sip
        diam_out[inode] = diam * 0.5 / ds
        area_out[inode] = area * 0.5 * math.pi
    return area_out, diam_out, rleft, rright


_UNITS = {"distance": "um", "x": "um", "y": "um", "z": "um", "area": "um2", "diameter": "um",
          "length": "um", "position": "1"}


@dataclass(frozen=True, eq=False)
class Compartments:
    """The nodes of a discretised morphology, struct of arrays (one entry per node).

    Nodes are in Hines order (``parent[i] < i``, the root node 0 has ``parent -1``), each
    section's nodes contiguous: segment centres from its 0-end to its 1-end, then its 1-end
    node (the root section starts with its 0-end node). Units: um, um2, MOhm, uF/cm2.

    >>> c = discretise(Morphology.cylinder(100.0, 2.0), nseg=2)
    >>> c.position.tolist(), c.area_um2.round(6).tolist()
    ([0.0, 0.25, 0.75, 1.0], [0.0, 314.159265, 314.159265, 0.0])
    >>> c.locate("cable", 0.6), int(c.region_mask("basal").sum())
    (2, 4)
    """

    parent: np.ndarray
    r_axial_MOhm: np.ndarray
    area_um2: np.ndarray
    cm_uF_cm2: np.ndarray
    length_um: np.ndarray
    diameter_um: np.ndarray
    x_um: np.ndarray
    y_um: np.ndarray
    z_um: np.ndarray
    distance_um: np.ndarray
    section: np.ndarray
    position: np.ndarray
    type_code: np.ndarray
    section_names: tuple[str, ...]
    section_types: tuple[str, ...]
    nseg: np.ndarray
    Ra_ohm_cm: float
    section_start: np.ndarray = field(repr=False)
    section_parent_node: np.ndarray = field(repr=False)

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.parent.size)

    def __len__(self) -> int:
        return self.n

    def _section_index(self, section) -> int:
        if isinstance(section, bool):
            raise TypeError("section must be a name or an index, not a bool")
        if isinstance(section, int | np.integer):
            if not 0 <= section < len(self.section_names):
                raise ValueError(f"section index {section} out of range "
                                 f"(0..{len(self.section_names) - 1})")
            return int(section)
        if section not in self.section_names:
            raise ValueError(f"no section named {section!r}"
                             f"{did_you_mean(section, self.section_names)}")
        return self.section_names.index(section)

    def locate(self, section, x: float) -> int:
        """Index of the node at ``x`` in [0, 1] of ``section`` (a name or an index): the
        end node for ``x = 1``, the section's 0-end node for ``x = 0`` (for a child, its
        parent's node where it attaches), else the centre of the segment holding ``x``.

        >>> c = discretise(Morphology.y_branch(), nseg=3)
        >>> c.locate("daughter1", 0.0) == c.locate("parent", 1.0)
        True
        """
        s = self._section_index(section)
        if isinstance(x, bool) or not isinstance(x, int | float) or not 0.0 <= x <= 1.0:
            raise ValueError(f"x must be a number in [0, 1], got {x!r}")
        nseg = int(self.nseg[s])
        start = int(self.section_start[s])
        if x == 1.0:
            return start + nseg
        if x == 0.0:
            return int(self.section_parent_node[s])
        return start + min(int(x * nseg), nseg - 1)

    def region_mask(self, name_or_type) -> np.ndarray:
        """Boolean mask of the nodes of a section type (``"soma"``, ``"basal"``, an SWC code)
        or of one section (its name).

        >>> c = discretise(Morphology.ball_and_stick(), nseg=1)
        >>> c.region_mask("soma").tolist()
        [True, True, True, False, False]
        """
        if isinstance(name_or_type, bool):
            raise TypeError("name_or_type must be a type name, an SWC code or a section name")
        if isinstance(name_or_type, int | np.integer):
            return self.type_code == int(name_or_type)
        types = np.array(self.section_types)
        if name_or_type in self.section_types:
            return types[self.section] == name_or_type
        if name_or_type in self.section_names:
            return self.section == self.section_names.index(name_or_type)
        choices = sorted(set(self.section_types)) + list(self.section_names)
        raise ValueError(f"{name_or_type!r} is neither a section type "
                         f"{sorted(set(self.section_types))} nor a section name"
                         f"{did_you_mean(name_or_type, choices)}")

    def mask(self, where: Callable[[Compartments], np.ndarray]) -> np.ndarray:
        """Boolean mask from ``where(self)``, e.g. ``c.mask(lambda c: c.distance_um > 100)``.

        >>> c = discretise(Morphology.cylinder(100.0, 1.0), nseg=4)
        >>> c.mask(lambda c: c.distance_um >= 25).tolist()   # from the middle of the root
        [True, True, False, False, True, True]
        """
        if not callable(where):
            raise TypeError("where must be a callable taking the Compartments")
        out = np.asarray(where(self))
        if out.dtype != bool or out.shape != (self.n,):
            raise ValueError(f"where must return a bool array of shape ({self.n},), "
                             f"got {out.dtype} {out.shape}")
        return out

    def to_dataset_coords(self) -> dict:
        """xarray-ready coordinates on the ``compartment`` dim, ``{name: (dim, values, attrs)}``.

        >>> c = discretise(Morphology.cylinder(10.0, 1.0), nseg=1)
        >>> sorted(c.to_dataset_coords())[:4]
        ['area', 'compartment', 'diameter', 'distance']
        """
        dim = "compartment"
        names = np.array(self.section_names, dtype=object)[self.section].astype(str)
        values = {"distance": self.distance_um, "x": self.x_um, "y": self.y_um, "z": self.z_um,
                  "area": self.area_um2, "diameter": self.diameter_um, "length": self.length_um,
                  "position": self.position}
        long = {"distance": "path distance from the root's centre",
                "x": "x position", "y": "y position", "z": "z position",
                "area": "membrane area", "diameter": "mean segment diameter",
                "length": "segment length", "position": "position along its section"}
        coords = {dim: (dim, np.arange(self.n), {"long_name": "compartment index"}),
                  "section": (dim, names, {"long_name": "section name"}),
                  "parent_compartment": (dim, self.parent, {"long_name": "parent compartment"})}
        for key, vals in values.items():
            coords[key] = (dim, np.asarray(vals),
                           {"long_name": long[key], "units": _UNITS[key]})
        return coords


def _nseg_for(morph: Morphology, nseg, d_lambda, frequency_Hz, Ra, cm) -> list[int]:
    names = [s.name for s in morph.sections]
    if nseg is None:
        return [d_lambda_nseg(s, d_lambda, frequency_Hz, Ra, cm) for s in morph.sections]
    if isinstance(nseg, Mapping):
        unknown = [k for k in nseg if k not in names]
        if unknown:
            raise ValueError(f"nseg names no section {unknown[0]!r}"
                             f"{did_you_mean(unknown[0], names)}")
        out = [nseg.get(n) for n in names]
        out = [d_lambda_nseg(s, d_lambda, frequency_Hz, Ra, cm) if v is None else v
               for s, v in zip(morph.sections, out, strict=True)]
    else:
        out = [nseg] * len(names)
    for v in out:
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"nseg must be None, an int >= 1 or a dict of them by section "
                             f"name, got {v!r}")
    return [int(v) for v in out]


def discretise(morph: Morphology, *, Ra_ohm_cm: float = 35.4, cm_uF_cm2: float = 1.0,
               d_lambda: float = 0.1, frequency_Hz: float = 100.0, nseg=None) -> Compartments:
    """Cut a morphology into NEURON's compartments (see the module docstring).

    Parameters
    ----------
    morph : Morphology
    Ra_ohm_cm : float
        Axial resistivity (ohm cm).
    cm_uF_cm2 : float
        Specific membrane capacitance (uF/cm2).
    d_lambda : float
        Largest segment length as a fraction of the AC length constant at ``frequency_Hz``.
    frequency_Hz : float
        Frequency of the length constant of the d_lambda rule (Hz).
    nseg : int or dict of str to int, optional
        Segments per section: one count for all, or by section name (the others by the
        d_lambda rule). ``None``: the d_lambda rule everywhere.

    Returns
    -------
    Compartments

    >>> c = discretise(Morphology.cylinder(100.0, 2.0), Ra_ohm_cm=100.0, nseg=1)
    >>> round(float(c.r_axial_MOhm[1]), 9) == round(4 * 100.0 * 50.0 / (np.pi * 4.0) * 1e-2, 9)
    True
    """
    if not isinstance(morph, Morphology):
        raise TypeError(f"morph must be a Morphology, got {type(morph).__name__}")
    if not morph.sections:
        raise ValueError("morph has no sections")
    for name, value in (("Ra_ohm_cm", Ra_ohm_cm), ("d_lambda", d_lambda),
                        ("frequency_Hz", frequency_Hz)):
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    if isinstance(cm_uF_cm2, bool) or not isinstance(cm_uF_cm2, int | float) \
            or not math.isfinite(cm_uF_cm2) or cm_uF_cm2 < 0:
        raise ValueError(f"cm_uF_cm2 must be a finite number >= 0, got {cm_uF_cm2!r}")
    for sec in morph.sections:
        if not sec.length_um > 0.0:
            raise ValueError(f"section {sec.name!r} has zero length: it cannot be discretised")
    nsegs = _nseg_for(morph, nseg, d_lambda, frequency_Hz, float(Ra_ohm_cm), float(cm_uF_cm2))
    n_sec = len(morph.sections)
    n = 1 + sum(k + 1 for k in nsegs)
    parent = np.empty(n, dtype=np.int64)
    r_ax = np.zeros(n)
    area = np.zeros(n)
    length = np.zeros(n)
    diam = np.zeros(n)
    xyz = np.zeros((n, 3))
    dist = np.zeros(n)
    sec_of = np.empty(n, dtype=np.int64)
    pos = np.zeros(n)
    code = np.empty(n, dtype=np.int64)
    start = np.empty(n_sec, dtype=np.int64)
    parent_node = np.empty(n_sec, dtype=np.int64)

    root = morph.sections[0]
    parent[0] = -1
    sec_of[0] = 0
    code[0] = root.type_code
    xyz[0] = root.points[0, :3]
    diam[0] = root.diameters_um[0]
    dist[0] = 0.5 * root.length_um
    nxt = 1
    for s, sec in enumerate(morph.sections):
        k = nsegs[s]
        L = sec.length_um
        arc = sec.arc_um
        if s == 0:
            attach = 0
            base = -0.5 * L                    # distance of x from the root's centre: |x-.5| L
        else:
            if sec.parent >= s:
                raise ValueError(f"section {sec.name!r}: its parent must come before it")
            px = sec.parent_x
            pk = nsegs[sec.parent]
            pstart = start[sec.parent]
            attach = (pstart + pk if px == 1.0 else parent_node[sec.parent] if px == 0.0
                      else pstart + min(int(px * pk), pk - 1))
            base = dist[attach]
        start[s] = nxt
        parent_node[s] = attach
        seg_area, seg_diam, rl, rr = _segments(arc, sec.diameters_um, k, float(Ra_ohm_cm))
        idx = np.arange(nxt, nxt + k + 1)
        parent[idx[0]] = attach
        parent[idx[1:]] = idx[:-1]
        r_ax[idx[0]] = rl[0]
        r_ax[idx[1:-1]] = rr[:-1] + rl[1:]
        r_ax[idx[-1]] = rr[-1]
        area[idx[:-1]] = seg_area
        length[idx[:-1]] = L / k
        diam[idx[:-1]] = seg_diam
        diam[idx[-1]] = sec.diameters_um[-1]
        x = np.append((np.arange(k) + 0.5) / k, 1.0)
        pos[idx] = x
        for c in range(3):
            xyz[idx, c] = np.interp(x * L, arc, sec.points[:, c])
        dist[idx] = np.abs(base + x * L) if s == 0 else base + x * L
        sec_of[idx] = s
        code[idx] = sec.type_code
        nxt += k + 1
    arrays = dict(parent=parent, r_axial_MOhm=r_ax, area_um2=area,
                  cm_uF_cm2=np.full(n, float(cm_uF_cm2)), length_um=length, diameter_um=diam,
                  x_um=xyz[:, 0].copy(), y_um=xyz[:, 1].copy(), z_um=xyz[:, 2].copy(),
                  distance_um=dist, section=sec_of, position=pos, type_code=code,
                  nseg=np.array(nsegs, dtype=np.int64), section_start=start,
                  section_parent_node=parent_node)
    for a in arrays.values():
        a.setflags(write=False)
    return Compartments(**arrays, Ra_ohm_cm=float(Ra_ohm_cm),
                        section_names=tuple(s.name for s in morph.sections),
                        section_types=tuple(s.type for s in morph.sections))
