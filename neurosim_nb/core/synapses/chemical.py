r"""Chemical synapses: a receptor, weights, delays and a connection rule, added to a network.

``ChemicalSynapse.create_ampa(pre, post, weight=...)`` (and ``create_nmda``,
``create_gaba``, ``create_gaba_b``, ``create_current``) returns a small frozen
*specification*; ``network.add(spec)`` builds it into a
:class:`~neurosim_nb.core.networks.network.Projection` through ``network.connect`` and
returns that projection. ``pre`` and ``post`` are population names or the population
objects already added to the network.

What one presynaptic spike does is set by the receptor (see
:mod:`neurosim_nb.core.synapses.receptors`): a dual-exponential conductance peaking at the
weight, current :math:`I = g\,B(V)\,(E_{rev} - V)` with the Jahr-Stevens Mg²⁺ block
:math:`B(V)` for NMDA. **Weights are in the receptor's units -- µS for conductance
receptors, nA for the current receptor -- and the weight given is the weight used** (the
original NeuroSim ignored it). Conductances are >= 0; whether a synapse excites or inhibits
comes from its reversal potential (AMPA/NMDA 0 mV, GABA-A -70 mV, GABA-B -95 mV).

Default weights (a documented choice; unitary PSPs measured on a passive cell with
tau_m = 20 ms and R_m = 100 MΩ, like ``LIFNeuron.create_excitatory``):

========  ===========  ==================================================
receptor  weight       unitary PSP
========  ===========  ==================================================
AMPA      0.001 µS     +0.70 mV at -70 mV
NMDA      0.0005 µS    +0.11 mV at -70 mV, +0.21 mV at -55 mV (Mg block);
                       the seed's ``weight=0.5`` read in nS
GABA_A    0.002 µS     0 at -70 mV (= E_rev), -0.59 mV at -55 mV
GABA_B    0.0005 µS    -1.2 mV at -70 mV, -1.8 mV at -55 mV
current   0.05 nA      +0.79 mV
========  ===========  ==================================================

The default connection rule is ``all_to_all`` (the seed's ``create_ampa(pre, post)`` joins
every pair); pass ``rule="one_to_one"``, ``rule="fixed_probability", p=0.1``, ... and the
rule's arguments as keywords (see :func:`neurosim_nb.core.synapses.connectivity.connect`).

Examples
--------
>>> from neurosim_nb import LIFNeuron, Network
>>> net = Network(seed=0)
>>> exc = net.add_population("exc", LIFNeuron.create_excitatory(n=4))
>>> inh = net.add_population("inh", LIFNeuron.create_inhibitory(n=2))
>>> proj = net.add(ChemicalSynapse.create_ampa(exc, inh, weight=0.002))
>>> proj.n_synapses, float(proj.weight[0]), proj.receptor.name
(8, 0.002, 'AMPA')
>>> gaba = net.add(ChemicalSynapse.create_gaba("inh", "exc", weight=0.004, delay_ms=0.5))
>>> gaba.receptor.E_rev_mV, gaba.n_synapses
(-70.0, 8)
>>> sparse = net.add(ChemicalSynapse.create_ampa("exc", "exc", rule="fixed_probability", p=0.5))
>>> bool(np.all(sparse.weight == 0.001))     # the default AMPA weight, 1 nS
True
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurosim_nb._validation import did_you_mean
from neurosim_nb.core.synapses import connectivity
from neurosim_nb.core.synapses.delivery import SynapticDynamics
from neurosim_nb.core.synapses.receptors import Receptor, get_receptor

__all__ = ["ChemicalSynapse", "DEFAULT_WEIGHTS"]

#: default weight of each factory, in the receptor's units (µS, or nA for ``current``)
DEFAULT_WEIGHTS = {"AMPA": 0.001, "NMDA": 0.0005, "GABA_A": 0.002, "GABA_B": 0.0005,
                   "current": 0.05}


def rule_argument_names() -> list[str]:
    """Keyword arguments the connection rules accept (``p``, ``k``, ``autapses``, ...)."""
    sig = inspect.signature(connectivity.connect)
    return [n for n, par in sig.parameters.items()
            if par.kind is inspect.Parameter.KEYWORD_ONLY and n != "same_population"]


def check_rule_args(names, extra: tuple[str, ...] = ()) -> None:
    """Raise TypeError naming an unknown keyword (with the closest valid one)."""
    valid = rule_argument_names()
    for name in names:
        if name not in valid:
            raise TypeError(f"unknown keyword {name!r}: not a connection-rule argument "
                            f"{valid}{' or a parameter ' + str(list(extra)) if extra else ''}"
                            f".{did_you_mean(name, valid + list(extra))}")


def _check_values(what: str, value: Any, *, nonneg: bool) -> None:
    """Early check of a scalar or array weight/delay (distribution dicts are checked when
    drawn, by the network)."""
    if isinstance(value, dict):
        return
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{what} = {value!r} is not a number, an array or a distribution "
                         f"dict") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} must be finite, got {value!r}")
    if nonneg and np.any(arr < 0):
        raise ValueError(f"{what} must be >= 0, got {value!r}")


@dataclass(frozen=True)
class ChemicalSynapse:
    """Specification of a chemical projection; ``network.add(spec)`` builds it.

    Parameters
    ----------
    pre, post : str or NeuronPopulation
        Presynaptic and postsynaptic population (name or the object in the network).
    receptor : str or Receptor
        ``AMPA``, ``NMDA``, ``GABA_A``, ``GABA_B``, ``exp_exc``, ``exp_inh``, ``current``,
        ``delta`` or a custom :class:`~neurosim_nb.core.synapses.receptors.Receptor`.
    weight : float, array or distribution dict
        In the receptor's units (µS conductance, nA current, mV delta); used exactly.
    delay_ms : float, array or distribution dict
        Synaptic delay (ms), rounded to whole steps (at least one) at run time.
    rule : str
        Connection rule (default ``all_to_all``); its arguments go in ``rule_args``.
    rule_args : tuple of (name, value)
        E.g. ``(("p", 0.1),)``; the factories take them as keywords.
    dynamics : SynapticDynamics, optional
        Plasticity or short-term dynamics (one object per projection).
    name : str, optional
        Projection name (default ``"pre->post:RECEPTOR"``).
    """

    pre: Any
    post: Any
    receptor: Receptor | str = "AMPA"
    weight: Any = 0.001
    delay_ms: Any = 1.0
    rule: str = "all_to_all"
    rule_args: tuple = ()
    dynamics: SynapticDynamics | None = field(default=None, compare=False)
    name: str | None = None

    def __post_init__(self) -> None:
        rec = get_receptor(self.receptor)
        object.__setattr__(self, "receptor", rec)
        _check_values(f"weight onto {rec.name} ({rec.weight_units})", self.weight,
                      nonneg=rec.weight_units == "uS")
        _check_values("delay_ms", self.delay_ms, nonneg=True)
        if isinstance(self.rule_args, dict):
            object.__setattr__(self, "rule_args", tuple(self.rule_args.items()))
        check_rule_args([k for k, _ in self.rule_args])
        if self.dynamics is not None and not isinstance(self.dynamics, SynapticDynamics):
            raise TypeError(f"dynamics must be a SynapticDynamics, got "
                            f"{type(self.dynamics).__name__}")

    def build(self, network):
        """Connect ``pre`` to ``post`` in ``network``; return the new Projection."""
        dyn = self.dynamics
        if dyn is not None and getattr(dyn, "projection", None) is not None:
            raise ValueError(f"this {type(dyn).__name__} already drives projection "
                             f"{dyn.projection.name!r}; every projection needs its own "
                             f"dynamics object (create a new synapse specification)")
        proj = network.connect(self.pre, self.post, rule=self.rule, weight=self.weight,
                               delay_ms=self.delay_ms, receptor=self.receptor, name=self.name,
                               dynamics=dyn, **dict(self.rule_args))
        if dyn is not None and hasattr(dyn, "attach"):
            dyn.attach(proj)
        return proj

    # -- seed factories -----------------------------------------------------------------
    @classmethod
    def create(cls, pre, post, receptor: str | Receptor = "AMPA", weight: Any = None,
               delay_ms: Any = 1.0, rule: str = "all_to_all", *,
               dynamics: SynapticDynamics | None = None, name: str | None = None,
               **rule_args) -> ChemicalSynapse:
        """A synapse onto any receptor; ``weight=None`` takes :data:`DEFAULT_WEIGHTS`."""
        rec = get_receptor(receptor)
        if weight is None:
            if rec.name not in DEFAULT_WEIGHTS:
                raise ValueError(f"give a weight ({rec.weight_units}) for receptor {rec.name!r}")
            weight = DEFAULT_WEIGHTS[rec.name]
        return cls(pre, post, rec, weight, delay_ms, rule, tuple(rule_args.items()), dynamics,
                   name)

    @classmethod
    def create_ampa(cls, pre, post, weight: Any = DEFAULT_WEIGHTS["AMPA"], **kw
                    ) -> ChemicalSynapse:
        """Fast excitatory AMPA synapse (weight µS; rise 0.2 ms, decay 2 ms, E 0 mV).

        >>> ChemicalSynapse.create_ampa("a", "b", weight=0.002).weight
        0.002
        """
        return cls.create(pre, post, "AMPA", weight, **kw)

    @classmethod
    def create_nmda(cls, pre, post, weight: Any = DEFAULT_WEIGHTS["NMDA"], **kw
                    ) -> ChemicalSynapse:
        """Slow excitatory NMDA synapse with the Jahr-Stevens Mg²⁺ block (weight µS;
        rise 2 ms, decay 100 ms, E 0 mV, 1 mM Mg²⁺)."""
        return cls.create(pre, post, "NMDA", weight, **kw)

    @classmethod
    def create_gaba(cls, pre, post, weight: Any = DEFAULT_WEIGHTS["GABA_A"], **kw
                    ) -> ChemicalSynapse:
        """Fast inhibitory GABA-A synapse (weight µS; rise 0.5 ms, decay 5 ms, E -70 mV)."""
        return cls.create(pre, post, "GABA_A", weight, **kw)

    create_gaba_a = create_gaba

    @classmethod
    def create_gaba_b(cls, pre, post, weight: Any = DEFAULT_WEIGHTS["GABA_B"], **kw
                      ) -> ChemicalSynapse:
        """Slow inhibitory GABA-B synapse (weight µS; rise 40 ms, decay 200 ms, E -95 mV)."""
        return cls.create(pre, post, "GABA_B", weight, **kw)

    @classmethod
    def create_current(cls, pre, post, weight: Any = DEFAULT_WEIGHTS["current"], **kw
                       ) -> ChemicalSynapse:
        """Current-based synapse (weight nA, negative inhibits; exponential, decay 5 ms).

        >>> ChemicalSynapse.create_current("a", "b", weight=-0.1).receptor.weight_units
        'nA'
        """
        return cls.create(pre, post, "current", weight, **kw)

    def __repr__(self) -> str:
        def label(p):
            return p if isinstance(p, str) else getattr(p, "label", type(p).__name__)

        rec = self.receptor
        w = self.weight if np.ndim(self.weight) == 0 or isinstance(self.weight, dict) \
            else f"array[{np.size(self.weight)}]"
        dyn = "" if self.dynamics is None else f", dynamics={type(self.dynamics).__name__}"
        return (f"{type(self).__name__}({label(self.pre)!r} -> {label(self.post)!r}, "
                f"{rec.name}, weight={w} {rec.weight_units}, delay={self.delay_ms} ms, "
                f"rule={self.rule!r}{dyn})")

