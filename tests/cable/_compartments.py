"""Cylinders and trees for the cable tests, discretised by neurosim_nb.morphology."""

from __future__ import annotations

from neurosim_nb.morphology import Morphology, discretise


def sections(spec, Ra_ohm_cm, cm_uF_cm2=1.0):
    """``spec``: [(name, type, length_um, diameter_um, nseg, parent_name or None)], each
    child attached at its parent's 1-end."""
    m = Morphology()
    for name, type_, length, diam, _nseg, parent in spec:
        m.add_cylinder(name, length, diam, parent=parent, at=1.0, type=type_)
    return discretise(m, Ra_ohm_cm=Ra_ohm_cm, cm_uF_cm2=cm_uF_cm2,
                      nseg={s[0]: int(s[4]) for s in spec})


def cable(length_um, diameter_um, nseg, Ra_ohm_cm, cm_uF_cm2=1.0, name="cable",
          type="basal"):
    return sections([(name, type, length_um, diameter_um, nseg, None)], Ra_ohm_cm, cm_uF_cm2)
