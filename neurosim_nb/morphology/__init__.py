"""Neuron morphologies: sections built in code or read from SWC, discretised as NEURON does.

:mod:`.morphology` holds the tree of sections (:class:`Morphology`, :class:`Section`) with
builders (``Morphology.soma``, ``add_cylinder``, ``add_section``, ``cylinder``,
``ball_and_stick``, ``y_branch``, ``myelinated_axon``) and morphometrics; :mod:`.swc`
reads SWC files with NEURON Import3d's conventions and errors that name the line (:func:`load_swc`,
:class:`SWCError`, the shipped :func:`sample_morphology`); :mod:`.discretise` cuts a
morphology into compartments with NEURON's d_lambda rule and second-order scheme
(:func:`discretise` -> :class:`Compartments`, the table the cable solver reads).

Like :mod:`neurosim_nb.channels`, this package imports only the foundation.

>>> c = discretise(load_swc(sample_morphology()))
>>> c.n > 0 and bool((c.parent[1:] < range(1, c.n)).all())
True
"""

from neurosim_nb.morphology.discretise import (
    Compartments,
    d_lambda_nseg,
    discretise,
    lambda_f_um,
)
from neurosim_nb.morphology.morphology import (
    NEURON_PREFIXES,
    SWC_TYPES,
    Morphology,
    Section,
    frustum_area_um2,
)
from neurosim_nb.morphology.swc import (
    SAMPLE_MORPHOLOGIES,
    SWCError,
    load_swc,
    sample_morphology,
)

__all__ = ["Compartments", "Morphology", "NEURON_PREFIXES", "SAMPLE_MORPHOLOGIES",
           "SWCError", "SWC_TYPES", "Section", "d_lambda_nseg", "discretise",
           "frustum_area_um2", "lambda_f_um", "load_swc", "sample_morphology"]
