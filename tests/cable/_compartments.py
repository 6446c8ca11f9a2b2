"""Cylinders in NEURON's node layout for the cable tests.

Uses :func:`neurosim_nb.morphology.discretise` when the morphology package provides it;
until then a minimal stand-in with the same attributes builds unbranched sections joined
at their ends (a section's 0 end is its parent's 1-end node, as in NEURON).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class _Compartments:
    parent: np.ndarray
    r_axial_MOhm: np.ndarray
    area_um2: np.ndarray
    cm_uF_cm2: np.ndarray
    length_um: np.ndarray
    diameter_um: np.ndarray
    distance_um: np.ndarray
    section: np.ndarray
    position: np.ndarray
    section_names: tuple
    section_types: tuple

    def region_mask(self, name):
        if name in self.section_names:
            return self.section == self.section_names.index(name)
        return np.isin(self.section, [i for i, t in enumerate(self.section_types) if t == name])

    def locate(self, section, x):
        s = self.section_names.index(section) if isinstance(section, str) else int(section)
        idx = np.flatnonzero(self.section == s)
        return int(idx[np.argmin(np.abs(self.position[idx] - x))])

    def to_dataset_coords(self):
        return {"distance_um": ("compartment", self.distance_um,
                                {"units": "um", "long_name": "path distance"})}


def sections(spec, Ra_ohm_cm, cm_uF_cm2=1.0):
    """``spec``: [(name, type, length_um, diameter_um, nseg, parent_name or None)]."""
    parent, r, area, length, diam, dist, sec, pos = ([] for _ in range(8))
    end_node = {}
    names = tuple(s[0] for s in spec)
    types = tuple(s[1] for s in spec)
    for k, (name, _type, L, d, nseg, par) in enumerate(spec):
        ri = 4.0 * Ra_ohm_cm * (L / nseg) / (np.pi * d * d) * 1e-2  # MOhm per segment
        if par is None:
            parent.append(-1); r.append(0.0); area.append(0.0); length.append(0.0)
            diam.append(d); dist.append(0.0); sec.append(k); pos.append(0.0)
            prev, d0 = len(parent) - 1, 0.0
        else:
            prev = end_node[par]
            d0 = dist[prev]
        for j in range(nseg):
            parent.append(prev); r.append(ri / 2 if j == 0 else ri)
            area.append(np.pi * d * L / nseg); length.append(L / nseg); diam.append(d)
            dist.append(d0 + (j + 0.5) * L / nseg); sec.append(k); pos.append((j + 0.5) / nseg)
            prev = len(parent) - 1
        parent.append(prev); r.append(ri / 2); area.append(0.0); length.append(0.0)
        diam.append(d); dist.append(d0 + L); sec.append(k); pos.append(1.0)
        end_node[name] = len(parent) - 1
    n = len(parent)
    return _Compartments(np.array(parent), np.array(r), np.array(area),
                         np.full(n, float(cm_uF_cm2)), np.array(length), np.array(diam),
                         np.array(dist), np.array(sec), np.array(pos), names, types)


def cable(length_um, diameter_um, nseg, Ra_ohm_cm, cm_uF_cm2=1.0, name="cable", type="dend"):
    return sections([(name, type, length_um, diameter_um, nseg, None)], Ra_ohm_cm, cm_uF_cm2)
