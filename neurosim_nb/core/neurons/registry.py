"""The model registry: the one place that knows the neuron model families.

A family is a :class:`~neurosim_nb.core.neurons.base.NeuronPopulation` subclass registered
under a display name. Everything that offers "every model" -- the network loop, the
builders (:func:`~neurosim_nb.core.networks.spec.build_network`, layered networks),
``transfer_function``, attractor analysis, the panels and the CLI -- asks this registry;
nothing else lists families. The built-in families are named here (module and class) and
imported on first use, so ``import neurosim_nb`` stays fast; a user's model registers itself
with :func:`register_model` (see :mod:`neurosim_nb.core.neurons.point_model` for the
protocol) and is then offered everywhere the built-ins are.

:data:`MODEL_FAMILIES` is the registry itself, a read-only mapping
``display name -> population class``:

>>> list(MODEL_FAMILIES)[:2]
['LIF', 'Izhikevich']
>>> MODEL_FAMILIES["LIF"].__name__
'LIFNeuron'
>>> family_of(MODEL_FAMILIES["AdEx"]).ei_presets
('adapting', 'tonic')
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

__all__ = ["MODEL_FAMILIES", "ModelFamily", "register_model", "model_class", "family_of",
           "family_of_parameters", "model_families"]

#: the built-in families: display name -> "module:Class" (imported on first use)
_BUILTIN = {
    "LIF": "neurosim_nb.core.neurons.lif:LIFNeuron",
    "Izhikevich": "neurosim_nb.core.neurons.izhikevich:IzhikevichNeuron",
    "Hodgkin-Huxley": "neurosim_nb.core.neurons.hodgkin_huxley:HodgkinHuxleyNeuron",
    "Adaptive LIF": "neurosim_nb.core.neurons.adaptive_lif:AdaptiveLIFNeuron",
    "AdEx": "neurosim_nb.core.neurons.adaptive_lif:AdExNeuron",
}


@dataclass(frozen=True)
class ModelFamily:
    """What the registry knows of one family (read from the population class).

    ``name`` is the display name; ``population`` the class. The rest are the class's own
    declarations: its parameter class, state variables (``{name: (units, long_name)}``),
    presets, the (excitatory, inhibitory) presets the network builders use, and the planar
    right-hand side for phase-plane analysis when the model has one.
    """

    name: str
    population: type

    @property
    def parameters_class(self) -> type:
        return self.population.parameters_class

    @property
    def state_variables(self) -> dict[str, tuple[str, str]]:
        return self.population.state_variables

    @property
    def current_units(self) -> str:
        return self.population.current_units

    def presets(self) -> dict:
        return self.population.presets()

    @property
    def ei_presets(self) -> tuple[str, str]:
        """(excitatory preset, inhibitory preset) for E/I network builders."""
        return self.population.ei_presets

    @property
    def planar(self):
        """The model's :class:`~neurosim_nb.core.neurons.planar.PlanarModel` (2-D
        phase-plane description), or None."""
        return self.population.planar


class _Registry(Mapping):
    """Display name -> population class; built-ins are imported when first asked for."""

    def __init__(self) -> None:
        self._names: list[str] = list(_BUILTIN)
        self._classes: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        if name not in self._names:
            raise KeyError(name)
        cls = self._classes.get(name)
        if cls is None:
            module, attr = _BUILTIN[name].split(":")
            cls = getattr(importlib.import_module(module), attr)
            self._classes[name] = cls
        return cls

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name) -> bool:
        return name in self._names

    def add(self, name: str, cls: type) -> None:
        if name in _BUILTIN and self[name] is not cls:
            raise ValueError(f"{name!r} is a built-in model family; register yours under "
                             "another name")
        if name not in self._names:
            self._names.append(name)
        self._classes[name] = cls

    def __repr__(self) -> str:
        return f"MODEL_FAMILIES({self._names})"


#: the registry: display name -> population class (a read-only mapping)
MODEL_FAMILIES: Mapping[str, type] = _Registry()


def register_model(name: str | None = None):
    """Class decorator: register a population class as a model family.

    The name defaults to the class's ``family_name`` or its class name. Registering a
    class again under the same name (a notebook cell run twice) replaces the entry.

    >>> from neurosim_nb.core.neurons.lif import LIFNeuron
    >>> @register_model("LIF (demo subclass)")
    ... class DemoLIF(LIFNeuron):
    ...     pass
    >>> model_class("LIF (demo subclass)") is DemoLIF
    True
    """
    def decorate(cls: type) -> type:
        from neurosim_nb.core.neurons.base import NeuronPopulation

        if not (isinstance(cls, type) and issubclass(cls, NeuronPopulation)):
            raise TypeError(f"register_model takes a NeuronPopulation subclass, got {cls!r}")
        family = name or getattr(cls, "family_name", None) or cls.__name__
        if not isinstance(family, str) or not family.strip():
            raise ValueError(f"a model family needs a non-empty name, got {family!r}")
        MODEL_FAMILIES.add(family, cls)
        cls.family_name = family
        return cls

    if isinstance(name, type):  # used bare: @register_model
        cls, name = name, None
        return decorate(cls)
    return decorate


def model_families() -> list[str]:
    """The registered family names, built-ins first."""
    return list(MODEL_FAMILIES)


def model_class(family: str) -> type:
    """The population class of model ``family`` (a key of :data:`MODEL_FAMILIES`).

    >>> model_class("Izhikevich").__name__
    'IzhikevichNeuron'
    >>> model_class("Izhikevic")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown model family 'Izhikevic'; choose from [...]. Did you mean 'Izhikevich'?
    """
    try:
        return MODEL_FAMILIES[family]
    except (KeyError, TypeError):
        import difflib

        close = difflib.get_close_matches(str(family), list(MODEL_FAMILIES), n=1)
        hint = f". Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown model family {family!r}; choose from "
                         f"{list(MODEL_FAMILIES)}{hint}") from None


def family_of(cls_or_pop) -> ModelFamily:
    """The :class:`ModelFamily` of a population class or instance (registered or not: an
    unregistered subclass is described under its class name)."""
    cls = cls_or_pop if isinstance(cls_or_pop, type) else type(cls_or_pop)
    for name in MODEL_FAMILIES:
        if MODEL_FAMILIES[name] is cls:
            return ModelFamily(name, cls)
    return ModelFamily(getattr(cls, "family_name", None) or cls.__name__, cls)


def family_of_parameters(params) -> ModelFamily:
    """The registered family whose parameter class is ``type(params)``.

    >>> from neurosim_nb.core.neurons.izhikevich import IzhikevichParameters
    >>> family_of_parameters(IzhikevichParameters()).name
    'Izhikevich'
    """
    for name in MODEL_FAMILIES:
        cls = MODEL_FAMILIES[name]
        if type(params) is cls.parameters_class:
            return ModelFamily(name, cls)
    raise TypeError(f"no registered neuron model takes {type(params).__name__}")
