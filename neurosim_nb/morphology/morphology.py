"""A neuron's shape as a tree of unbranched sections, built in code or read from SWC.

A :class:`Section` is an unbranched cable given by 3-D points ``(x, y, z, r)`` in um (at
least two; a tapered piece between two points is a frustum), a type (``soma``, ``axon``,
``basal``, ``apical``, ``custom`` or any name of the SWC type table), its parent section and
the position ``x`` in [0, 1] along the parent where its 0-end attaches. This is NEURON's
model of a cell: the length ``L`` is the arc length of the points, the membrane is the
lateral surface of the frusta (the end caps are not membrane).

**The soma convention** (NEURON's, for a soma given by a diameter only):
:meth:`Morphology.soma` builds a cylinder whose length equals its diameter, laid along x
through three points ``(-d/2, 0, 0), (0, 0, 0), (d/2, 0, 0)`` as NEURON's Import3d does
for a one-point soma; its lateral area ``pi d^2`` is the area of the sphere of diameter d.

>>> m = Morphology.ball_and_stick(soma_diameter_um=20.0, length_um=200.0, diameter_um=2.0)
>>> m.n_sections, round(m.total_length_um, 6)
(2, 220.0)
>>> round(m.surface_area_um2 / np.pi, 6)    # pi*20*20 + pi*2*200
800.0
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from neurosim_nb._validation import did_you_mean

__all__ = ["Morphology", "Section", "SWC_TYPES", "NEURON_PREFIXES", "frustum_area_um2"]

#: SWC structure-identifier codes accepted by default (Cannon et al. 1998, J Neurosci
#: Methods 84:49-54, the format NeuroMorpho.org distributes): 0 undefined, 1 soma, 2 axon,
#: 3 (basal) dendrite, 4 apical dendrite, 5 fork point, 6 end point, 7 custom. Codes 5-7
#: are kept as ordinary neurite types of those names. ``load_swc(..., types={8: "glia"})``
#: extends the table.
SWC_TYPES: dict[int, str] = {0: "undefined", 1: "soma", 2: "axon", 3: "basal", 4: "apical",
                             5: "fork_point", 6: "end_point", 7: "custom"}

#: Section-name prefixes NEURON's Import3d gives each SWC type (``dend_<code>`` otherwise).
NEURON_PREFIXES: dict[int, str] = {1: "soma", 2: "axon", 3: "dend", 4: "apic"}


def frustum_area_um2(length_um, r0_um, r1_um):
    """Lateral surface (um2) of a frustum: ``pi (r0 + r1) sqrt(L^2 + (r1 - r0)^2)``.

    >>> round(float(frustum_area_um2(10.0, 1.0, 1.0)) / np.pi, 12)   # a cylinder: 2 pi r L
    20.0
    """
    length_um, r0_um, r1_um = (np.asarray(v, dtype=float) for v in (length_um, r0_um, r1_um))
    return np.pi * (r0_um + r1_um) * np.sqrt(length_um**2 + (r1_um - r0_um) ** 2)


@dataclass(frozen=True, eq=False)
class Section:
    """One unbranched cable of a :class:`Morphology`.

    Attributes
    ----------
    name : str
        Unique name in its morphology (NEURON's ``soma[0]``, ``dend[3]`` for SWC files).
    type : str
        ``soma``, ``axon``, ``basal``, ``apical`` or another name of the type table.
    type_code : int
        SWC structure identifier (1 soma, 2 axon, 3 basal, 4 apical, ...).
    points : ndarray, shape (n, 4)
        3-D points ``x, y, z, r`` (um), n >= 2, in order from the 0-end to the 1-end.
    parent : int
        Index of the parent section in :attr:`Morphology.sections` (-1 for the root).
    parent_x : float
        Position in [0, 1] along the parent where this section's 0-end attaches.

    >>> s = Morphology.cylinder(100.0, 2.0).sections[0]
    >>> s.length_um, s.diameters_um.tolist()
    (100.0, [2.0, 2.0])
    """

    name: str
    type: str
    type_code: int
    points: np.ndarray
    parent: int = -1
    parent_x: float = 1.0

    @property
    def arc_um(self) -> np.ndarray:
        """Arc length (um) of each 3-D point from the first (NEURON's ``arc3d``)."""
        steps = np.sqrt((np.diff(self.points[:, :3], axis=0) ** 2).sum(axis=1))
        return np.concatenate(([0.0], np.cumsum(steps)))

    @property
    def length_um(self) -> float:
        """Length ``L`` (um): the arc length of the points."""
        return float(self.arc_um[-1])

    @property
    def diameters_um(self) -> np.ndarray:
        """Diameter (um) at each 3-D point."""
        return 2.0 * self.points[:, 3]

    @property
    def area_um2(self) -> float:
        """Lateral membrane area (um2): the sum of the frusta between the points."""
        r = self.points[:, 3]
        return float(frustum_area_um2(np.diff(self.arc_um), r[:-1], r[1:]).sum())

    def point_at(self, x: float) -> np.ndarray:
        """The 3-D position (um) at ``x`` in [0, 1] along the section (linear on arc length)."""
        arc = self.arc_um
        s = x * arc[-1]
        return np.array([np.interp(s, arc, self.points[:, k]) for k in range(3)])


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"{name} must be a number (um), got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(f"{name} must be a finite number > 0 (um), got {value}")
    return value


def _unit(direction) -> np.ndarray:
    v = np.asarray(direction, dtype=float)
    if v.shape != (3,) or not np.all(np.isfinite(v)) or not np.any(v):
        raise ValueError(f"direction must be three finite numbers, not all zero, got {direction!r}")
    return v / np.linalg.norm(v)


class Morphology:
    """A tree of :class:`Section`: the root first, every parent before its children.

    Build one in code (:meth:`soma`, :meth:`add_cylinder`, :meth:`add_section`, or the
    helpers :meth:`cylinder`, :meth:`ball_and_stick`, :meth:`y_branch`,
    :meth:`myelinated_axon`) or read it with
    :func:`~neurosim_nb.morphology.load_swc`. Discretise it with
    :func:`~neurosim_nb.morphology.discretise`.

    >>> m = Morphology.soma(20.0)
    >>> _ = m.add_cylinder("dend", 100.0, (2.0, 1.0), parent="soma", at=1.0)
    >>> [s.name for s in m.sections], m.n_tips
    (['soma', 'dend'], 1)
    """

    def __init__(self, types: Mapping[int, str] | None = None) -> None:
        self.sections: list[Section] = []
        self.types: dict[int, str] = {**SWC_TYPES, **(dict(types) if types else {})}
        self._index: dict[str, int] = {}

    # -- building ------------------------------------------------------------------------
    def _type(self, type) -> tuple[str, int]:
        if isinstance(type, bool):
            raise TypeError("type must be a type name or an SWC code, not a bool")
        if isinstance(type, int | np.integer):
            if int(type) not in self.types:
                raise ValueError(f"type code {type} is not in the type table "
                                 f"{sorted(self.types)}; extend it with types=")
            return self.types[int(type)], int(type)
        names = {v: k for k, v in self.types.items()}
        if type not in names:
            raise ValueError(f"type must be one of {sorted(names)} or an SWC code, got {type!r}")
        return str(type), names[type]

    def index(self, section) -> int:
        """Index of ``section`` (a name or an index) in :attr:`sections`.

        >>> Morphology.y_branch().index("daughter2")
        2
        """
        if isinstance(section, bool):
            raise TypeError("section must be a name or an index, not a bool")
        if isinstance(section, int | np.integer):
            if not -len(self.sections) <= int(section) < len(self.sections):
                raise ValueError(f"section index {section} out of range "
                                 f"(0..{len(self.sections) - 1})")
            return int(section) % len(self.sections)
        if section not in self._index:
            raise ValueError(f"no section named {section!r}{did_you_mean(section, self._index)}")
        return self._index[section]

    def section(self, section) -> Section:
        """The :class:`Section` named (or indexed) ``section``."""
        return self.sections[self.index(section)]

    def add_section(self, name: str, points, *, parent=None, at: float = 1.0,
                    type="basal") -> Section:
        """Append a section given by 3-D points ``(x, y, z, r)`` (um), n >= 2.

        Parameters
        ----------
        name : str
            Unique section name.
        points : array_like, shape (n, 4)
            x, y, z and radius (um) of each point; radii > 0, consecutive points may coincide
            only if the section still has a length > 0.
        parent : str or int, optional
            Parent section (required unless this is the first section, the root).
        at : float
            Position in [0, 1] along the parent where this section's 0-end attaches.
        type : str or int
            Type name (``soma``, ``axon``, ``basal``, ``apical``, ``custom``, ...) or SWC code.

        >>> m = Morphology()
        >>> s = m.add_section("taper", [[0, 0, 0, 2.0], [30, 40, 0, 1.0]], type="axon")
        >>> s.length_um, s.type_code
        (50.0, 2)
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty str, got {name!r}")
        if name in self._index:
            raise ValueError(f"a section named {name!r} already exists")
        pts = np.array(points, dtype=float)
        if pts.ndim != 2 or pts.shape[1] != 4 or pts.shape[0] < 2:
            raise ValueError(f"points must have shape (n, 4) with n >= 2 (x, y, z, r in um), "
                             f"got shape {pts.shape}")
        if not np.all(np.isfinite(pts)):
            raise ValueError("points must be finite numbers (um)")
        if np.any(pts[:, 3] <= 0.0):
            raise ValueError("every radius in points must be > 0 (um)")
        type_name, code = self._type(type)
        if not isinstance(at, int | float) or isinstance(at, bool) or not 0.0 <= at <= 1.0:
            raise ValueError(f"at must be a number in [0, 1], got {at!r}")
        if self.sections:
            if parent is None:
                raise ValueError(f"section {name!r}: parent is required (the root is "
                                 f"{self.sections[0].name!r})")
            parent_index = self.index(parent)
        else:
            if parent is not None:
                raise ValueError("the first section is the root: it takes no parent")
            parent_index = -1
        pts.setflags(write=False)
        section = Section(name, type_name, code, pts, parent_index, float(at))
        if section.length_um <= 0.0:
            raise ValueError(f"section {name!r} has zero length")
        self._index[name] = len(self.sections)
        self.sections.append(section)
        return section

    def add_cylinder(self, name: str, length_um: float, diameter_um, *, parent=None,
                     at: float = 1.0, type="basal", direction=None) -> Section:
        """Append a cylinder (or, with ``diameter_um=(d0, d1)``, a linearly tapered frustum).

        It starts at the parent's point at ``at`` and runs along ``direction`` (default +x).

        Parameters
        ----------
        length_um : float
            Length (um).
        diameter_um : float or (float, float)
            Diameter (um), or the diameters at the 0-end and the 1-end.

        >>> m = Morphology.soma(10.0)
        >>> round(m.add_cylinder("d", 50.0, (2.0, 1.0), parent=0).area_um2, 6)
        ... # doctest: +ELLIPSIS
        235.6...
        """
        length = _check_positive("length_um", length_um)
        if isinstance(diameter_um, tuple | list | np.ndarray):
            if len(diameter_um) != 2:
                raise ValueError("diameter_um must be a number or a pair (d0, d1) in um")
            d0 = _check_positive("diameter_um[0]", diameter_um[0])
            d1 = _check_positive("diameter_um[1]", diameter_um[1])
        else:
            d0 = d1 = _check_positive("diameter_um", diameter_um)
        start = (np.zeros(3) if not self.sections or parent is None
                 else self.section(parent).point_at(at))
        end = start + length * _unit((1.0, 0.0, 0.0) if direction is None else direction)
        pts = [[*start, d0 / 2.0], [*end, d1 / 2.0]]
        return self.add_section(name, pts, parent=parent, at=at, type=type)

    # -- helpers -------------------------------------------------------------------------
    @classmethod
    def soma(cls, diameter_um: float, *, name: str = "soma") -> Morphology:
        """A new morphology holding one soma: NEURON's cylinder with length = diameter.

        Three points ``(-d/2, 0, 0), (0, 0, 0), (d/2, 0, 0)`` with diameter d, as NEURON's
        Import3d represents a one-point soma; its membrane area is ``pi d^2`` (the sphere's).

        >>> s = Morphology.soma(20.0).sections[0]
        >>> s.length_um, round(s.area_um2 / np.pi, 9)
        (20.0, 400.0)
        """
        d = _check_positive("diameter_um", diameter_um)
        m = cls()
        m.add_section(name, [[-d / 2, 0.0, 0.0, d / 2], [0.0, 0.0, 0.0, d / 2],
                             [d / 2, 0.0, 0.0, d / 2]], type="soma")
        return m

    @classmethod
    def cylinder(cls, length_um: float, diameter_um, *, name: str = "cable",
                 type="basal") -> Morphology:
        """A morphology of one cylinder (or tapered frustum) along +x from the origin.

        >>> Morphology.cylinder(100.0, 1.0).total_length_um
        100.0
        """
        m = cls()
        m.add_cylinder(name, length_um, diameter_um, type=type)
        return m

    @classmethod
    def ball_and_stick(cls, soma_diameter_um: float = 20.0, length_um: float = 200.0,
                       diameter_um: float = 1.0, *, dendrite_type="basal") -> Morphology:
        """A soma (NEURON's L = diam cylinder) and one dendrite attached at its 1-end.

        >>> [s.name for s in Morphology.ball_and_stick().sections]
        ['soma', 'dend']
        """
        m = cls.soma(soma_diameter_um)
        m.add_cylinder("dend", length_um, diameter_um, parent="soma", at=1.0,
                       type=dendrite_type)
        return m

    @classmethod
    def y_branch(cls, parent_length_um: float = 100.0, parent_diameter_um: float = 2.0,
                 daughter_length_um: float = 100.0, daughter_diameters_um=None,
                 *, angle_deg: float = 30.0) -> Morphology:
        """A parent cylinder with two daughters at its 1-end (the tree of Rall's 3/2 rule).

        By default the daughters have the diameter that satisfies Rall's rule,
        ``d_parent^(3/2) = 2 d_daughter^(3/2)``; pass ``daughter_diameters_um=(d1, d2)``
        to choose them. The daughters leave in the x-y plane at +-``angle_deg``.

        >>> m = Morphology.y_branch()
        >>> d = m.section("daughter1").diameters_um[0]
        >>> bool(round(2 * d**1.5, 9) == round(2.0**1.5, 9))
        True
        """
        if daughter_diameters_um is None:
            d = _check_positive("parent_diameter_um", parent_diameter_um) * 2.0 ** (-2.0 / 3.0)
            daughter_diameters_um = (d, d)
        if len(daughter_diameters_um) != 2:
            raise ValueError("daughter_diameters_um must be a pair (um)")
        m = cls()
        m.add_cylinder("parent", parent_length_um, parent_diameter_um)
        a = math.radians(angle_deg)
        for k, sign in ((0, 1.0), (1, -1.0)):
            m.add_cylinder(f"daughter{k + 1}", daughter_length_um, daughter_diameters_um[k],
                           parent="parent", at=1.0,
                           direction=(math.cos(a), sign * math.sin(a), 0.0))
        return m

    @classmethod
    def myelinated_axon(cls, axon_diameter_um: float = 1.0, *, n_nodes: int = 21,
                        node_length_um: float = 1.0, internode_length_um: float | None = None,
                        g_ratio: float = 0.7) -> Morphology:
        """An axon of ``n_nodes`` nodes of Ranvier joined by ``n_nodes - 1`` internodes.

        Sections ``node0, internode0, node1, ..., node<n-1>`` along +x, types ``"node"``
        (SWC code 8) and ``"internode"`` (9), all of the axon's diameter (the myelin sheath
        is not geometry: give the internodes a low capacitance and leak on the cell). The
        default internode length is Rushton's (1951) 100 fibre diameters, the fibre
        diameter being ``axon_diameter_um / g_ratio`` (g-ratio 0.6-0.7 in peripheral
        fibres); the nodes are ~1 um long (um throughout).

        >>> m = Morphology.myelinated_axon(1.4, n_nodes=3)
        >>> [s.name for s in m.sections], m.section("internode0").length_um
        (['node0', 'internode0', 'node1', 'internode1', 'node2'], 200.0)
        >>> m.section("node1").type, m.section("node1").type_code
        ('node', 8)
        """
        d = _check_positive("axon_diameter_um", axon_diameter_um)
        node_l = _check_positive("node_length_um", node_length_um)
        if isinstance(g_ratio, bool) or not isinstance(g_ratio, int | float) \
                or not 0.0 < g_ratio <= 1.0:
            raise ValueError(f"g_ratio must be in (0, 1] (axon / fibre diameter), got {g_ratio!r}")
        inter = (100.0 * d / g_ratio if internode_length_um is None
                 else _check_positive("internode_length_um", internode_length_um))
        if isinstance(n_nodes, bool) or not isinstance(n_nodes, int | np.integer) or n_nodes < 2:
            raise ValueError(f"n_nodes must be an int >= 2, got {n_nodes!r}")
        m = cls(types={8: "node", 9: "internode"})
        m.add_cylinder("node0", node_l, d, type="node")
        for k in range(int(n_nodes) - 1):
            m.add_cylinder(f"internode{k}", inter, d, parent=f"node{k}", at=1.0,
                           type="internode")
            m.add_cylinder(f"node{k + 1}", node_l, d, parent=f"internode{k}", at=1.0,
                           type="node")
        return m

    # -- structure and morphometrics ----------------------------------------------------
    def children(self, section) -> list[int]:
        """Indices of the sections attached to ``section``.

        >>> Morphology.y_branch().children("parent")
        [1, 2]
        """
        i = self.index(section)
        return [k for k, s in enumerate(self.sections) if s.parent == i]

    def __len__(self) -> int:
        return len(self.sections)

    def __iter__(self) -> Iterator[Section]:
        return iter(self.sections)

    def __repr__(self) -> str:
        return (f"<Morphology: {self.n_sections} sections, {self.total_length_um:.1f} um, "
                f"{self.n_branch_points} branch points, {self.n_tips} tips>")

    @property
    def n_sections(self) -> int:
        """Number of sections."""
        return len(self.sections)

    @property
    def total_length_um(self) -> float:
        """Sum of the section lengths ``L`` (um), the soma's included (NEURON's
        ``forall total += L``).

        >>> Morphology.y_branch().total_length_um
        300.0
        """
        return float(sum(s.length_um for s in self.sections))

    @property
    def surface_area_um2(self) -> float:
        """Total membrane area (um2): the lateral surface of every frustum (NEURON's sum
        of ``area()`` over all segments; independent of the discretisation).

        >>> round(Morphology.cylinder(10.0, 2.0).surface_area_um2 / np.pi, 9)
        20.0
        """
        return float(sum(s.area_um2 for s in self.sections))

    def _attachments(self) -> dict[tuple[int, float], int]:
        sites: dict[tuple[int, float], int] = {}
        for s in self.sections[1:]:
            key = (s.parent, s.parent_x)
            sites[key] = sites.get(key, 0) + 1
        return sites

    @property
    def n_branch_points(self) -> int:
        """Number of places where two or more sections attach to the same point of a parent
        (a soma with several stems counts once).

        >>> Morphology.y_branch().n_branch_points
        1
        """
        return sum(1 for n in self._attachments().values() if n >= 2)

    @property
    def n_tips(self) -> int:
        """Number of sections with nothing attached (terminal sections).

        >>> Morphology.y_branch().n_tips
        2
        """
        has_child = {s.parent for s in self.sections[1:]}
        return sum(1 for i in range(len(self.sections)) if i not in has_child)
