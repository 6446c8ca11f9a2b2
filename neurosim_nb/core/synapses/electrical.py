r"""Electrical synapses (gap junctions), symmetric by default, optionally rectifying.

A junction of conductance :math:`g` (µS) between neuron :math:`a` and neuron :math:`b`
carries the current :math:`I_{a\to b} = g\,(V_a - V_b)` (nA) into :math:`b` and its negative
into :math:`a`, so the two currents are equal and opposite. A rectifying junction passes
current in one direction only: ``"a_to_b"`` only when it depolarises :math:`b`
(:math:`V_a > V_b`), ``"b_to_a"`` the reverse. The engine evaluates the currents with the
voltages at the start of each step and runs networks with gap junctions one step at a time.

Two identical passive cells (leak resistance :math:`R`, rest :math:`E`) coupled by
:math:`g`, with a constant current :math:`I` into cell 1, settle at

.. math::

    V_1 - E = R I\,\frac{1 + gR}{1 + 2gR},\qquad V_2 - E = R I\,\frac{gR}{1 + 2gR},

a coupling coefficient :math:`(V_2 - E)/(V_1 - E) = gR/(1 + gR)`
(:func:`coupled_steady_state`).

Examples
--------
>>> from neurosim_nb import LIFNeuron, Network
>>> net = Network(seed=0)
>>> _ = net.add_population("a", LIFNeuron.create_inhibitory(n=3))
>>> _ = net.add_population("b", LIFNeuron.create_inhibitory(n=3))
>>> gj = net.add(ElectricalSynapse.create_gap_junction("a", "b", conductance_uS=0.001))
>>> gj.a_idx.tolist(), gj.b_idx.tolist(), gj.conductance.tolist()
([0, 1, 2], [0, 1, 2], [0.001, 0.001, 0.001])
>>> ring = net.add(ElectricalSynapse.create_gap_junction("a", "a", 0.002, rule="all_to_all"))
>>> list(zip(ring.a_idx.tolist(), ring.b_idx.tolist()))     # each unordered pair once
[(0, 1), (0, 2), (1, 2)]
>>> [round(float(v), 3) for v in coupled_steady_state(1.0, 100.0, 0.01)]
[66.667, 33.333]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ElectricalSynapse", "coupled_steady_state"]

RECTIFICATIONS = (None, "a_to_b", "b_to_a")
GAP_RULES = ("one_to_one", "all_to_all", "fixed_probability", "pairs")


def coupled_steady_state(current_nA: float, R_MOhm: float, g_uS: float) -> tuple[float, float]:
    """Steady-state depolarisations (mV) of two identical passive cells coupled by ``g_uS``
    when ``current_nA`` is injected into the first (see the module docstring)."""
    gr = g_uS * R_MOhm
    return (R_MOhm * current_nA * (1 + gr) / (1 + 2 * gr),
            R_MOhm * current_nA * gr / (1 + 2 * gr))


@dataclass(frozen=True)
class ElectricalSynapse:
    """Specification of gap junctions between populations ``a`` and ``b``.

    Parameters
    ----------
    a, b : str or NeuronPopulation
        The two populations (may be the same one).
    conductance_uS : float or array
        Conductance of each junction (µS, >= 0).
    rule : {"one_to_one", "all_to_all", "fixed_probability", "pairs"}
        How neurons are paired. Within one population every unordered pair is taken at most
        once (a junction is already symmetric) and never a neuron with itself.
    pairs : (array, array), optional
        Explicit ``(indices in a, indices in b)`` (rule ``"pairs"``).
    p : float, optional
        Probability of each pair for ``fixed_probability``.
    rectification : None, "a_to_b" or "b_to_a"
    name : str, optional
    """

    a: Any
    b: Any
    conductance_uS: Any
    rule: str = "one_to_one"
    pairs: tuple | None = None
    p: float | None = None
    rectification: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        g = np.asarray(self.conductance_uS, dtype=float)
        if not np.all(np.isfinite(g)) or np.any(g < 0):
            raise ValueError(f"gap junction conductance_uS must be finite and >= 0 uS, got "
                             f"{self.conductance_uS!r}")
        if self.rule not in GAP_RULES:
            raise ValueError(f"rule {self.rule!r} is not one of {list(GAP_RULES)}")
        if self.rectification not in RECTIFICATIONS:
            raise ValueError(f"rectification must be None, 'a_to_b' or 'b_to_a', got "
                             f"{self.rectification!r}")
        if self.rule == "pairs" and self.pairs is None:
            raise ValueError("rule 'pairs' needs pairs=(indices_in_a, indices_in_b)")
        if self.rule == "fixed_probability":
            if self.p is None or not (0.0 <= float(self.p) <= 1.0):
                raise ValueError(f"rule 'fixed_probability' needs p in [0, 1], got {self.p!r}")

    @classmethod
    def create_gap_junction(cls, a, b=None, conductance_uS: Any = None, rule: str | None = None,
                            *, pairs=None, p: float | None = None,
                            rectification: str | None = None,
                            name: str | None = None) -> ElectricalSynapse:
        """Gap junctions between ``a`` and ``b`` (``b=None``: within ``a``).

        The default rule is ``pairs`` when ``pairs`` is given, else ``one_to_one`` between two
        populations and ``all_to_all`` (every unordered pair) within one.
        """
        if conductance_uS is None:
            raise ValueError("give the junction conductance (conductance_uS, in uS)")
        b = a if b is None else b
        if rule is None:
            rule = "pairs" if pairs is not None else ("all_to_all" if b is a else "one_to_one")
        return cls(a, b, conductance_uS, rule, pairs, p, rectification, name)

    def _pairs(self, network) -> tuple[np.ndarray, np.ndarray]:
        a_name, b_name = network._name_of(self.a), network._name_of(self.b)
        na, nb = network.populations[a_name].n, network.populations[b_name].n
        same = a_name == b_name
        if self.rule == "pairs":
            ia, ib = (np.asarray(x, dtype=np.int64) for x in self.pairs)
            if ia.shape != ib.shape or ia.ndim != 1:
                raise ValueError("pairs must be two 1-D index arrays of the same length")
            for idx, n, pop in ((ia, na, a_name), (ib, nb, b_name)):
                if idx.size and (idx.min() < 0 or idx.max() >= n):
                    raise ValueError(f"gap junction indices out of range for {pop!r} ({n} "
                                     f"neurons)")
            if same and np.any(ia == ib):
                raise ValueError("a gap junction cannot join a neuron to itself")
            return ia, ib
        if self.rule == "one_to_one":
            if same:
                raise ValueError("one_to_one within one population would join each neuron to "
                                 "itself; use all_to_all, fixed_probability or pairs")
            if na != nb:
                raise ValueError(f"one_to_one needs equal sizes, got {na} and {nb}")
            idx = np.arange(na, dtype=np.int64)
            return idx, idx.copy()
        if same:
            ia, ib = np.triu_indices(na, k=1)
        else:
            ia, ib = (x.ravel() for x in np.meshgrid(np.arange(na), np.arange(nb),
                                                    indexing="ij"))
        if self.rule == "fixed_probability":
            keep = network.rng.random(ia.size) < float(self.p)
            ia, ib = ia[keep], ib[keep]
        return ia.astype(np.int64), ib.astype(np.int64)

    def build(self, network):
        """Add the junctions to ``network``; return the GapJunctions object."""
        ia, ib = self._pairs(network)
        g = self.conductance_uS
        if np.ndim(g) and np.size(g) != ia.size:
            raise ValueError(f"{np.size(g)} conductances for {ia.size} junctions")
        return network.add_gap_junctions(self.a, self.b, ia, ib, g,
                                         rectification=self.rectification, name=self.name)

    def __repr__(self) -> str:
        def label(x):
            return x if isinstance(x, str) else getattr(x, "label", type(x).__name__)

        g = self.conductance_uS if np.ndim(self.conductance_uS) == 0 else "array"
        rect = "" if self.rectification is None else f", rectification={self.rectification!r}"
        return (f"ElectricalSynapse({label(self.a)!r} <-> {label(self.b)!r}, g={g} uS, "
                f"rule={self.rule!r}{rect})")

