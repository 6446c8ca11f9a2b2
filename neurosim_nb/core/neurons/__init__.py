"""Neuron model families as struct-of-arrays populations.

The families are known to one place, the registry (:mod:`.registry`):
:data:`MODEL_FAMILIES` maps a display name to the population class (built-ins imported on
first use), :func:`model_class` looks one up, :func:`register_model` adds a user's model.
A point-neuron family is a :class:`~.point_model.PointModel` with a one-neuron update.
"""

from __future__ import annotations

from neurosim_nb.core.neurons.registry import (
    MODEL_FAMILIES,
    ModelFamily,
    family_of,
    family_of_parameters,
    model_class,
    model_families,
    register_model,
)

__all__ = ["MODEL_FAMILIES", "ModelFamily", "family_of", "family_of_parameters", "model_class",
           "model_families", "register_model"]
