"""What acts on a cell at a location: current clamps, current waveforms, synapses.

Locations are ``(section, x)`` with ``section`` a section name (or index) of the cell's
morphology and ``0 <= x <= 1`` the fraction of its length, as in NEURON (``soma(0.5)``).
Currents are in nA (positive: into the cell, depolarising), times in ms.

>>> IClamp("soma", 0.5, amp_nA=0.1, delay_ms=5.0, dur_ms=10.0).mean_current(
...     np.array([0.0, 4.9, 5.0, 14.9]), 0.2).round(9).tolist()
[0.0, 0.05, 0.1, 0.05]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neurosim_nb._validation import is_number

__all__ = ["IClamp", "CurrentWaveform", "SynapseInput"]


def _finite(name: str, value, *, nonneg: bool = False) -> float:
    if not is_number(value) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if nonneg and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return float(value)


def _location(section, x) -> None:
    if not isinstance(section, str | int | np.integer) or isinstance(section, bool):
        raise TypeError(f"section must be a section name or index, got {section!r}")
    x = _finite("x", x)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"location {section!r}({x!r}) is outside the cell: x must be in "
                         "[0, 1] (a fraction of the section)")


@dataclass(frozen=True)
class IClamp:
    """A current pulse (NEURON's ``IClamp``): ``amp_nA`` from ``delay_ms`` for ``dur_ms``.

    >>> IClamp("soma", 0.5, 0.2, 1.0, 2.0).to_dict()["kind"]
    'IClamp'
    """

    section: str | int
    x: float
    amp_nA: float
    delay_ms: float
    dur_ms: float

    def __post_init__(self) -> None:
        _location(self.section, self.x)
        _finite("IClamp.amp_nA", self.amp_nA)
        _finite("IClamp.delay_ms", self.delay_ms, nonneg=True)
        _finite("IClamp.dur_ms", self.dur_ms, nonneg=True)

    def mean_current(self, t0_ms: np.ndarray, dt_ms: float) -> np.ndarray:
        """The pulse's mean (nA) over each step ``[t0, t0 + dt]`` (exact for the pulse:
        a step the edge cuts gets the covered fraction)."""
        a, b = self.delay_ms, self.delay_ms + self.dur_ms
        overlap = np.clip(np.minimum(t0_ms + dt_ms, b) - np.maximum(t0_ms, a), 0.0, dt_ms)
        return self.amp_nA * overlap / dt_ms

    def to_dict(self) -> dict:
        return {"kind": "IClamp", "section": self.section, "x": self.x, "amp_nA": self.amp_nA,
                "delay_ms": self.delay_ms, "dur_ms": self.dur_ms}


@dataclass(frozen=True)
class CurrentWaveform:
    """A current waveform: piecewise linear through ``(t_ms[i], amp_nA[i])``, 0 outside
    (NEURON's ``Vector.play`` with interpolation).

    >>> w = CurrentWaveform("soma", 0.5, [0.0, 10.0], [0.0, 1.0])
    >>> w.mean_current(np.array([4.0]), 2.0).tolist()
    [0.5]
    """

    section: str | int
    x: float
    t_ms: tuple = field(default=())
    amp_nA: tuple = field(default=())

    def __post_init__(self) -> None:
        _location(self.section, self.x)
        t = np.asarray(self.t_ms, dtype=float)
        a = np.asarray(self.amp_nA, dtype=float)
        if t.ndim != 1 or t.size < 2 or a.shape != t.shape:
            raise ValueError("CurrentWaveform needs t_ms and amp_nA of the same length >= 2")
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(a))):
            raise ValueError("CurrentWaveform t_ms and amp_nA must be finite (no NaN)")
        if np.any(np.diff(t) <= 0):
            raise ValueError("CurrentWaveform t_ms must be strictly increasing")
        object.__setattr__(self, "t_ms", tuple(t.tolist()))
        object.__setattr__(self, "amp_nA", tuple(a.tolist()))

    def mean_current(self, t0_ms: np.ndarray, dt_ms: float) -> np.ndarray:
        """The waveform at each step's midpoint (nA): its mean over the step to second
        order."""
        return np.interp(t0_ms + 0.5 * dt_ms, self.t_ms, self.amp_nA, left=0.0, right=0.0)

    def to_dict(self) -> dict:
        return {"kind": "CurrentWaveform", "section": self.section, "x": self.x,
                "t_ms": list(self.t_ms), "amp_nA": list(self.amp_nA)}


@dataclass(frozen=True)
class SynapseInput:
    """A synapse at a location driven by given presynaptic spike times.

    ``receptor``: a name of :data:`neurosim_nb.core.synapses.receptors.RECEPTORS`
    (``"AMPA"``, ``"NMDA"`` with the Jahr-Stevens Mg²⁺ block, ``"GABA_A"``,
    ``"exp_exc"``...) or a :class:`~neurosim_nb.core.synapses.receptors.Receptor`;
    ``weight`` its peak conductance per spike (µS; nA for a current receptor).

    >>> SynapseInput("dend", 0.5, "NMDA", 0.001, (10.0, 20.0)).receptor.mg_mM
    1.0
    """

    section: str | int
    x: float
    receptor: object = "exp_exc"
    weight: float = 0.001
    spike_times_ms: tuple = ()

    def __post_init__(self) -> None:
        from neurosim_nb.core.synapses.receptors import get_receptor

        _location(self.section, self.x)
        rec = get_receptor(self.receptor)
        if rec.kind == "delta":
            raise ValueError("a delta receptor (an instantaneous V jump) has no meaning on a "
                             "compartment; use a conductance or current receptor")
        if rec.kind == "kinetic":
            raise ValueError("a kinetic receptor is not available on a single Cell's "
                             "synapses; use a conductance or current receptor (kinetic "
                             "receptors run in networks, CellPopulation included)")
        object.__setattr__(self, "receptor", rec)
        _finite("SynapseInput.weight", self.weight)
        t = np.asarray(self.spike_times_ms, dtype=float).ravel()
        if not np.all(np.isfinite(t)) or np.any(t < 0):
            raise ValueError("SynapseInput.spike_times_ms must be finite and >= 0")
        object.__setattr__(self, "spike_times_ms", tuple(np.sort(t).tolist()))

    def to_dict(self) -> dict:
        r = self.receptor
        return {"kind": "SynapseInput", "section": self.section, "x": self.x,
                "receptor": {"name": r.name, "kind": r.kind, "tau_decay_ms": r.tau_decay_ms,
                             "tau_rise_ms": r.tau_rise_ms, "E_rev_mV": r.E_rev_mV,
                             "mg_mM": r.mg_mM},
                "weight": self.weight, "spike_times_ms": list(self.spike_times_ms)}


def stimulus_from_dict(d: dict):
    """The inverse of ``to_dict`` of the three classes.

    >>> s = IClamp("soma", 0.5, 0.2, 1.0, 2.0)
    >>> stimulus_from_dict(s.to_dict()) == s
    True
    """
    from neurosim_nb.core.synapses.receptors import Receptor

    d = dict(d)
    kind = d.pop("kind", None)
    if kind == "IClamp":
        return IClamp(**d)
    if kind == "CurrentWaveform":
        return CurrentWaveform(**d)
    if kind == "SynapseInput":
        d["receptor"] = Receptor(**d["receptor"])
        return SynapseInput(**d)
    raise ValueError(f"unknown stimulus kind {kind!r}; known: IClamp, CurrentWaveform, "
                     "SynapseInput")
