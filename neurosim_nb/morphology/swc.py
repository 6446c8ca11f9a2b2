"""Read SWC files into a :class:`~neurosim_nb.morphology.Morphology`, as NEURON's Import3d does.

SWC (Cannon et al. 1998; the format of NeuroMorpho.org) is one point per line,
``id type x y z radius parent`` (um), ``parent = -1`` for the root; ``#`` starts a comment.
:func:`load_swc` checks the file and names the offending line of every error
(:class:`SWCError`), then cuts the points into sections exactly as NEURON's
``Import3d_SWC_read`` + ``Import3d_GUI.instantiate`` (NEURON 9.0, ``read_swc.hoc`` and
``import3d_gui.hoc``):

* a section is an unbranched run of points of one type: it ends at a branch point, at a type
  change and at a tip;
* a child section starts with a copy of its parent point (position and diameter), except that
  a non-soma section attached to the soma takes the diameter of its own first point;
* **one-point soma** (the root alone): a cylinder with length = diameter = 2r along x,
  points ``(x-r, y, z), (x, y, z), (x+r, y, z)``, so its area is the sphere's ``4 pi r^2``;
  dendrites attach at its middle (``x = 0.5``) and, if they have two points or more, start
  at their own first point (NEURON's "wire" connection: the soma-to-dendrite gap is no cable);
* **NeuroMorpho.org three-point soma** (the root and two type-1 points at +-r with the same
  radius, children of the root, with nothing attached to them; the total length within 1 %
  of 2r): treated as the one-point soma above (NEURON's ``neuromorph_3point_soma``);
* **multi-point soma** (a chain of type-1 points, a "cylinder stack" or a traced contour):
  kept as a cable of frusta through the points; a dendrite attached to an interior soma
  point attaches at ``x = 0.5`` of the soma section (by a wire if it has two points or more),
  one attached to the soma's last point at ``x = 1`` and to its first at ``x = 0``;
* sections of one point, and two-point sections of zero length, are removed (their children
  re-attached to their parent), as NEURON's ``chk_valid``.

Sections are named as NEURON names them: ``soma[0]``, ``axon[k]``, ``dend[k]`` (type 3),
``apic[k]`` (type 4) and ``dend_<code>[k]`` for other codes, numbered in file order.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import numpy as np

from neurosim_nb.errors import InvalidArgumentError
from neurosim_nb.morphology.morphology import NEURON_PREFIXES, SWC_TYPES, Morphology, Section

__all__ = ["SWCError", "load_swc", "sample_morphology", "SAMPLE_MORPHOLOGIES"]

#: Morphologies shipped in ``neurosim_nb/data/morphologies`` (see its README for origins).
SAMPLE_MORPHOLOGIES = ("mp_ma_40984_gc2",)


class SWCError(InvalidArgumentError):
    """A malformed SWC file; ``line`` is the 1-based line number, ``text`` that line.

    >>> try:
    ...     load_swc("1 1 0 0 0 5 -1\\n2 3 0 0 10 -1 1\\n")
    ... except SWCError as err:
    ...     print(err.line, err.text)
    2 2 3 0 0 10 -1 1
    """

    def __init__(self, message: str, line: int, text: str, source: str = "SWC") -> None:
        self.line = line
        self.text = text
        self.reason = message
        super().__init__(f"{source} line {line}: {message}: {text!r}")


def sample_morphology(name: str = "mp_ma_40984_gc2") -> Path:
    """Path of a shipped SWC file (see ``neurosim_nb/data/morphologies/README.md``).

    ``mp_ma_40984_gc2``: the NeuroMorpho.org reconstruction Brian 2 ships (a one-point soma
    and 352 dendrite points).

    >>> sample_morphology().name
    'mp_ma_40984_gc2.CNG.swc'
    """
    if name not in SAMPLE_MORPHOLOGIES:
        raise ValueError(f"name must be one of {list(SAMPLE_MORPHOLOGIES)}, got {name!r}")
    root = resources.files("neurosim_nb").joinpath("data", "morphologies", f"{name}.CNG.swc")
    return Path(str(root))


def _read_source(path_or_text) -> tuple[str, str]:
    if isinstance(path_or_text, os.PathLike):
        return _read_file(Path(path_or_text))
    if not isinstance(path_or_text, str):
        raise TypeError(f"path_or_text must be a path or the text of an SWC file, "
                        f"got {type(path_or_text).__name__}")
    if "\n" in path_or_text or len(path_or_text.split()) >= 7:
        return path_or_text, "SWC"
    return _read_file(Path(path_or_text))


def _read_file(path: Path) -> tuple[str, str]:
    """The text of an SWC file; a missing, unreadable or non-text file is an SWCError."""
    def fail(reason: str) -> SWCError:
        return SWCError(f"cannot read {path}: {reason}", 0, "", path.name)

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise fail("no such file") from None
    except OSError as err:  # a folder, permissions, a name too long
        raise fail(err.strerror or str(err)) from None
    if b"\0" in data:
        raise fail("a binary file (it holds NUL bytes), not SWC text")
    try:
        return data.decode("utf-8"), path.name
    except UnicodeDecodeError:
        raise fail("not UTF-8 text") from None


def _int_field(word: str, what: str, err) -> int:
    try:
        value = float(word)
    except ValueError:
        raise err(f"{what} {word!r} is not a number") from None
    if not math.isfinite(value) or value != int(value):
        raise err(f"{what} {word!r} is not an integer")
    return int(value)


def _parse(text: str, source: str, types: Mapping[int, str]):
    rows: list[tuple[int, int, float, float, float, float, int]] = []
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        content = raw.split("#", 1)[0].strip()
        if not content:
            continue

        def err(message, number=number, raw=raw):
            return SWCError(message, number, raw.strip(), source)

        words = content.split()
        if len(words) != 7:
            raise err(f"expected 7 columns (id type x y z radius parent), found {len(words)}")
        ident = _int_field(words[0], "id", err)
        code = _int_field(words[1], "type", err)
        coords = []
        for what, word in zip(("x", "y", "z", "radius"), words[2:6], strict=True):
            try:
                value = float(word)
            except ValueError:
                raise err(f"{what} {word!r} is not a number") from None
            if not math.isfinite(value):
                raise err(f"{what} {word!r} is not finite")
            coords.append(value)
        parent = _int_field(words[6], "parent", err)
        if code not in types:
            raise err(f"unknown type code {code} (known: {sorted(types)}; "
                      "extend the table with types=)")
        if coords[3] <= 0.0:
            raise err(f"radius must be > 0 um, got {coords[3]}")
        rows.append((ident, code, *coords, parent))
        lines.append((number, raw.strip()))
    if not rows:
        raise SWCError("no data rows (id type x y z radius parent)", 0, "", source)
    return rows, lines


def _check_tree(rows, lines, source) -> tuple[np.ndarray, int]:
    """Parent row index of each row (-1 for the root) and the root's row; errors name lines."""
    def err(k, message):
        return SWCError(message, lines[k][0], lines[k][1], source)

    where: dict[int, int] = {}
    for k, row in enumerate(rows):
        if row[0] in where:
            raise err(k, f"duplicate id {row[0]} (first on line {lines[where[row[0]]][0]})")
        where[row[0]] = k
    parent = np.full(len(rows), -1, dtype=np.int64)
    roots = []
    for k, row in enumerate(rows):
        if row[6] < 0:
            roots.append(k)
            if len(roots) == 2:
                raise err(k, f"a second root (parent {row[6]}; the first is on line "
                             f"{lines[roots[0]][0]})")
            continue
        if row[6] not in where:
            raise err(k, f"parent id {row[6]} not found")
        if row[6] == row[0]:
            raise err(k, "a cycle: the point is its own parent")
        parent[k] = where[row[6]]
    if not roots:
        raise err(0, "no root (no point has parent -1), so the parents form a cycle")
    children: list[list[int]] = [[] for _ in rows]
    for k, p in enumerate(parent):
        if p >= 0:
            children[p].append(k)
    seen = np.zeros(len(rows), dtype=bool)
    stack = [roots[0]]
    while stack:
        k = stack.pop()
        seen[k] = True
        stack.extend(children[k])
    if not seen.all():
        k = int(np.flatnonzero(~seen)[0])
        path = []
        while k not in path:                    # walk up until a point repeats: the cycle
            path.append(k)
            k = int(parent[k])
        cycle = path[path.index(k):]
        first = min(cycle)
        ids = " -> ".join(str(rows[c][0]) for c in cycle)
        raise err(first, f"a cycle of parents ({ids}); it is not connected to the root")
    return parent, roots[0]


def load_swc(path_or_text, *, soma: str = "neuron", types: Mapping[int, str] | None = None
             ) -> Morphology:
    """Read an SWC file (a path, or the file's text) into a :class:`Morphology`.

    Parameters
    ----------
    path_or_text : str or os.PathLike
        A path, or the text of the file (any string holding a newline).
    soma : {"neuron"}
        The soma convention: NEURON Import3d's (see the module docstring): a one-point soma,
        and NeuroMorpho.org's three-point soma, become a cylinder with length = diameter =
        2r; a multi-point soma is a cable through its points.
    types : mapping of int to str, optional
        Extra SWC type codes and their names, added to :data:`SWC_TYPES` (codes 0-7).

    Raises
    ------
    SWCError
        A missing, unreadable or binary file (``err.line`` 0), or naming the line
        (``err.line``, ``err.text``): wrong column count, a non-numeric
        field, a non-integer id/type/parent, a radius <= 0, an unknown type code, a duplicate
        id, a parent id not found, a second root, no root, a cycle.

    >>> m = load_swc(sample_morphology())
    >>> m.n_sections, m.sections[0].name, round(m.sections[0].length_um, 2)
    (29, 'soma[0]', 24.06)
    >>> m = load_swc("1 1 0 0 0 5 -1\\n2 3 0 5 0 1 1\\n3 3 0 25 0 1 2\\n")
    >>> [(s.name, s.parent_x, s.length_um) for s in m.sections]
    [('soma[0]', 1.0, 10.0), ('dend[0]', 0.5, 20.0)]
    """
    if soma != "neuron":
        raise ValueError(f"soma must be 'neuron' (NEURON Import3d's convention), got {soma!r}")
    table = {**SWC_TYPES, **(dict(types) if types else {})}
    for code, label in table.items():
        if isinstance(code, bool) or not isinstance(code, int) or not isinstance(label, str):
            raise TypeError(f"types must map int codes to str names, got {code!r}: {label!r}")
    text, source = _read_source(path_or_text)
    rows, lines = _parse(text, source, table)
    parent_row, root = _check_tree(rows, lines, source)
    return _neuron_sections(rows, parent_row, root, table)


def _order(rows, parent_row, root) -> np.ndarray:
    ids = np.array([r[0] for r in rows])
    if all(parent_row[k] < 0 or rows[parent_row[k]][0] < ids[k] for k in range(len(rows))):
        return np.argsort(ids, kind="stable")     # NEURON's order: sorted by id (pid < id)
    children: list[list[int]] = [[] for _ in rows]
    for k in np.argsort(ids, kind="stable"):
        if parent_row[k] >= 0:
            children[parent_row[k]].append(int(k))
    order, stack = [], [root]
    while stack:                                  # pre-order, children by increasing id
        k = stack.pop()
        order.append(k)
        stack.extend(reversed(children[k]))
    return np.array(order)


def _neuron_sections(rows, parent_row, root, table) -> Morphology:
    order = _order(rows, parent_row, root)
    n = len(order)
    inv = np.empty(n, dtype=np.int64)
    inv[order] = np.arange(n)
    typ = np.array([rows[k][1] for k in order])
    x = np.array([rows[k][2] for k in order])
    y = np.array([rows[k][3] for k in order])
    z = np.array([rows[k][4] for k in order])
    d = np.array([2.0 * rows[k][5] for k in order])
    pix = np.array([-1 if parent_row[k] < 0 else inv[parent_row[k]] for k in order])

    # read_swc.hoc mark_branch: nchild counts children (+.01 non-contiguous or type change)
    nchild = np.zeros(n)
    connect2prox = np.zeros(n, dtype=bool)
    for i in range(n):
        p = pix[i]
        if p < 0:
            continue
        nchild[p] += 1
        if p != i - 1:
            nchild[p] += 0.01
            if p > 1:
                if typ[p] != 1 and typ[pix[p]] == 1:
                    connect2prox[i] = True
                    nchild[p] = 1
            elif p == 0 and typ[p] != 1:
                connect2prox[i] = True
                nchild[p] = 1
        if typ[p] != typ[i]:
            nchild[p] += 0.01
    # sectionify: soma children, the NeuroMorpho 3-point soma, soma contiguity
    nchild_soma = np.zeros(n)
    for i in range(1, n):
        if typ[i] == 1 and pix[i] >= 0 and typ[pix[i]] == 1:
            nchild_soma[pix[i]] += 1
    soma3geom = False
    if np.count_nonzero(typ == 1) == 3 and n >= 3 and pix[1] == 0 and pix[2] == 0:
        if nchild[1] == 0 and nchild[2] == 0 and d[1] == d[0] and d[2] == d[0]:
            length = sum(math.sqrt((x[i] - x[0]) ** 2 + (y[i] - y[0]) ** 2 + (z[i] - z[0]) ** 2)
                         for i in (1, 2))
            if abs(length / d[0] - 1.0) < 0.01:
                soma3geom = True
                pix[2] = 1
    for i in range(n - 1):
        if typ[i] == 1 and typ[i + 1] == 1 and pix[i + 1] == i:
            if not (i != 0 and nchild_soma[i] > 1):
                nchild[i] = 1
    ends = np.flatnonzero(nchild != 1)
    point2sec = np.zeros(n, dtype=np.int64)
    si = 0
    for i in range(1, n):
        if i > ends[si]:
            si += 1
        point2sec[i] = si
    firsts = np.concatenate(([0], ends[:-1] + 1)) if len(ends) else np.array([0])
    lasts = np.append(ends, n - 1) if not len(ends) or ends[-1] != n - 1 else ends

    # mksection: the raw points of each section, its parent, parentx and wire flag
    secs: list[dict] = []
    for isec, (first, last) in enumerate(zip(firsts, lasts, strict=False)):
        stop = last + 1
        if isec == 0:
            idx = [0] if soma3geom else list(range(first, stop))
            sec = {"id": first, "idx": idx, "d": d[idx].copy(), "parent": -1,
                   "parentx": 1.0, "wire": False, "type": int(typ[first])}
        else:
            pp = pix[first]
            psi = int(point2sec[pp])
            psec = secs[psi]
            idx = [pp, *range(first, stop)]
            sec = {"id": first, "idx": idx, "d": d[idx].copy(), "parent": psi,
                   "parentx": 1.0, "wire": False, "type": int(typ[first])}
            own = stop - first
            den_con_soma = psec["type"] == 1 and typ[first] != 1
            con_soma = psec["type"] == 1
            handled = False
            if psi == 0:
                handled = True
                if den_con_soma and len(psec["d"]) == 1:
                    sec["parentx"] = 0.5
                    if own > 1:
                        sec["wire"] = True
                elif pp == psec["id"]:
                    sec["parentx"] = 0.0
                    if typ[first] != 1 and nchild_soma[pp] > 1:
                        sec["wire"] = True
                else:
                    handled = False
            if not handled and con_soma:
                offset = -1 if psec["id"] == 0 else -2
                if pp < psec["id"] + len(psec["d"]) + offset:
                    sec["parentx"] = 0.5
                    if den_con_soma and own > 1:
                        sec["wire"] = True
                elif own > 1 and nchild_soma[pp] > 1 and typ[first] != 1:
                    sec["wire"] = True
            if psec["type"] == 1 and sec["type"] != 1:
                sec["d"][0] = sec["d"][1]
            if connect2prox[first]:
                sec["parentx"] = 0.0
        secs.append(sec)

    # chk_valid: drop one-point and zero-length two-point sections, re-attach their children
    alive = [True] * len(secs)
    for i in range(len(secs) - 1, 0, -1):
        sec = secs[i]
        used = sec["idx"][1:] if sec["wire"] else sec["idx"]
        drop = len(used) <= 1 or (len(used) == 2 and x[used[0]] == x[used[1]]
                                  and y[used[0]] == y[used[1]] and z[used[0]] == z[used[1]])
        if drop:
            alive[i] = False
            for j in range(i + 1, len(secs)):
                if secs[j]["parent"] == i:
                    secs[j]["parent"] = sec["parent"]
                    secs[j]["parentx"] = sec["parentx"]

    morph = Morphology(types={k: v for k, v in table.items() if k not in SWC_TYPES})
    morph.types = dict(table)
    new_index: dict[int, int] = {}
    counts: dict[int, int] = {}
    for i, sec in enumerate(secs):
        if not alive[i]:
            continue
        start = 1 if sec["wire"] else 0
        idx = sec["idx"][start:]
        dd = sec["d"][start:]
        pts = np.column_stack((x[idx], y[idx], z[idx], dd / 2.0))
        if len(idx) == 1:                      # import3d_gui sphere_rep
            r = dd[0] / 2.0
            pts = np.array([[x[idx[0]] - r, y[idx[0]], z[idx[0]], r],
                            [x[idx[0]], y[idx[0]], z[idx[0]], r],
                            [x[idx[0]] + r, y[idx[0]], z[idx[0]], r]])
        code = sec["type"]
        k = counts.get(code, 0)
        counts[code] = k + 1
        name = f"{NEURON_PREFIXES.get(code, f'dend_{code}')}[{k}]"
        pts.setflags(write=False)
        parent = -1 if sec["parent"] < 0 else new_index[sec["parent"]]
        section = Section(name, table[code], code, pts, parent, float(sec["parentx"]))
        new_index[i] = len(morph.sections)
        morph._index[name] = len(morph.sections)
        morph.sections.append(section)
    return morph
