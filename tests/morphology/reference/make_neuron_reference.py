"""Write neuron_reference.json: NEURON's own import and discretisation of SWC files.

Run once with NEURON installed (not a dependency of neurosim_nb), from the repository root:

    python -m venv /tmp/nrn && /tmp/nrn/bin/pip install neuron numpy
    /tmp/nrn/bin/python tests/morphology/reference/make_neuron_reference.py

For each file: NEURON's ``Import3d_SWC_read`` + ``Import3d_GUI(...).instantiate(None)``,
``Ra = 35.4`` ohm cm, ``cm = 1`` uF/cm2, ``nseg`` by the d_lambda rule of ``fixnseg.hoc``
(``int((L/(0.1*lambda_f(100))+.9)/2)*2+1``); then per section its name, parent and parent x,
``L``, ``nseg``, and per segment ``area()``, ``ri()`` (MOhm to the parent node), ``diam`` and
``distance`` from ``soma[0](0.5)``. The small inline files exercise the soma conventions.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]

#: NeuroMorpho's three-point soma (r = 5 at the root, two points at +-r along y).
THREE_POINT = """\
1 1 0 0 0 5 -1
2 1 0 -5 0 5 1
3 1 0 5 0 5 1
4 3 6 0 0 1 1
5 3 40 10 0 0.8 4
6 3 80 20 5 0.5 5
7 4 -6 0 0 1.5 1
8 4 -60 0 0 1.2 7
9 4 -90 30 0 0.6 8
10 4 -90 -30 0 0.6 8
"""

#: A soma traced as a chain of four points (a cylinder stack), dendrites at its last point,
#: at an interior point, and an axon at its first point.
MULTI_POINT = """\
1 1 0 0 0 4 -1
2 1 5 0 0 6 1
3 1 10 0 0 6 2
4 1 15 0 0 3 3
5 3 20 0 0 1 4
6 3 60 5 0 0.7 5
7 3 10 8 0 1 2
8 3 10 50 0 0.5 7
9 3 10 90 0 0.4 8
10 2 -3 0 0 0.5 1
11 2 -100 0 0 0.4 10
"""

FILES = {
    "mp_ma_40984_gc2": ROOT / "neurosim_nb" / "data" / "morphologies" / "mp_ma_40984_gc2.CNG.swc",
    "three_point_soma": THREE_POINT,
    "multi_point_soma": MULTI_POINT,
}


def neuron_cell(h, path: str) -> dict:
    for sec in list(h.allsec()):
        h.delete_section(sec=sec)
    reader = h.Import3d_SWC_read()
    reader.quiet = 1
    reader.input(path)
    h.Import3d_GUI(reader, False).instantiate(None)
    secs = list(h.allsec())
    soma = next(s for s in secs if s.name() == "soma[0]")
    out = []
    for sec in secs:
        sec.Ra = 35.4
        sec.cm = 1.0
        sec.nseg = int((sec.L / (0.1 * h.lambda_f(100, sec=sec)) + 0.9) / 2) * 2 + 1
    for sec in secs:
        ps = sec.parentseg()
        out.append({
            "name": sec.name(),
            "parent": None if ps is None else ps.sec.name(),
            "parent_x": None if ps is None else ps.x,
            "L": sec.L,
            "n3d": int(sec.n3d()),
            "lambda_f_100Hz": h.lambda_f(100, sec=sec),
            "nseg": sec.nseg,
            "area": [seg.area() for seg in sec],
            "ri": [seg.ri() for seg in sec],
            "diam": [seg.diam for seg in sec],
            "distance": [h.distance(soma(0.5), seg) for seg in sec],
            "ri_end": sec(1).ri(),
        })
    return {"sections": out,
            "total_L": sum(s.L for s in secs),
            "total_area": sum(seg.area() for s in secs for seg in s),
            "total_nseg": sum(s.nseg for s in secs)}


def main() -> None:
    import neuron  # imported here: collecting this file (pytest --doctest-modules) needs no NEURON
    from neuron import h

    h.load_file("stdlib.hoc")
    h.load_file("import3d.hoc")
    result = {"neuron_version": neuron.__version__, "Ra_ohm_cm": 35.4, "cm_uF_cm2": 1.0,
              "d_lambda": 0.1, "frequency_Hz": 100.0, "cells": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, src in FILES.items():
            if isinstance(src, Path):
                path = str(src)
            else:
                path = str(Path(tmp) / f"{name}.swc")
                Path(path).write_text(src)
            result["cells"][name] = neuron_cell(h, path)
            result["cells"][name]["source"] = (src.relative_to(ROOT).as_posix()
                                               if isinstance(src, Path) else src)
    (HERE / "neuron_reference.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
