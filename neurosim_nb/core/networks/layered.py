r"""Layered (feedforward) networks of E/I populations, including the ONI 14-layer model.

Every layer ``i`` (1-based) holds an excitatory population ``L{i}_E`` followed by an
inhibitory one ``L{i}_I``, so global neuron ids run layer by layer with the excitatory cells
first. Projections (each a sparse random ``fixed_probability`` draw):

* feedforward ``L(i) -> L(i+1)`` with ``feedforward_prob``;
* skip ``L(i) -> L(j)``, ``j >= i + 2``, with ``skip_prob`` at ``skip_weight_factor`` times the
  feedforward weight (``skip_connections=True``);
* lateral, within a layer, with ``lateral_prob`` (``lateral_connections=True``; no autapses).

Excitatory presynaptic neurons make AMPA synapses, inhibitory ones GABA-A (conductances in
µS, the sign of the current comes from the reversal potential), all with ``delay_ms``
(1 ms). Inhibitory synapses, feedforward or lateral, have ``inhibitory_weight``.

Weights and the ONI propagation calibration
-------------------------------------------
With the LIF presets (excitatory: C = 0.2 nF, tau_m = 20 ms, threshold 20 mV above rest) one
AMPA event of peak conductance ``w`` carries the charge
:math:`w \cdot 2.58\,\mathrm{ms} \cdot (E_{AMPA} - V)`: 1 nS gives a 0.69 mV EPSP at rest,
20 nS a 12.5 mV one (measured). A layer-(i+1) neuron of the ONI model has on average only
``0.2 × N_E(i)`` feedforward excitatory synapses (8 behind a layer of 40 excitatory cells, 3
behind the 15 of layer 8) plus skip synapses from every earlier layer at half weight, so
unitary EPSPs must be large: with 20 nS two coincident feedforward spikes fire a resting
neuron. The defaults (feedforward 20 nS, lateral 1 nS, inhibitory 60 nS) come from a sweep
of (feedforward, inhibitory) weights on the ONI model (lateral 1 nS), layer 1 driven by
0.3 nA (1.5 × rheobase) into half of its neurons for 500 ms:

=============  =======  =============================  =================================
ff / inh (nS)  seeds    seeds with a layer < 0.5 Hz    layer rates (min .. max)
=============  =======  =============================  =================================
6 / 4          1        1 (layers 9-14 near silent)    0 .. 42 Hz
7 / 4          1        0, but rates grow with depth   30 .. 242 Hz
14 / 30        12       1                              0 .. 109 Hz
18 / 50        30       1                              0 .. 155 Hz
**20 / 60**    **30**   **0**                          **6.0 .. 170 Hz** (median max 105)
24 / 80        12       0                              14 .. 209 Hz
=============  =======  =============================  =================================

Without inhibition the feedforward gain is either below one (activity dies out at the
layer-8 bottleneck) or above one (rates climb layer by layer towards the 500 Hz refractory
ceiling); strong GABA-A inhibition (reversal -70 mV: a shunt near rest that turns
hyperpolarising as V rises; -3.5 mV per 60 nS event at -62 mV) lets a high feedforward gain
coexist with bounded rates. With the defaults activity reaches layer 14 within 32-52 ms;
weaker (0.25 nA) or stronger (1 nA into every layer-1 neuron) drive still reaches every
layer (12 seeds each: layer rates 2.5 .. 138 Hz and 19 .. 197 Hz). Lateral excitation is
weak (1 nS × ~6 synapses), so no layer sustains itself: activity stops 31-40 ms after the
end of the input. Without input nothing fires: the LIF neurons rest below threshold and
the network has no spontaneous drive.

The defaults are *auto* weights (``None``): the expected conductance per postsynaptic
neuron of the ONI calibration (:data:`G_FF`, :data:`G_LAT`, :data:`G_INH`) divided by the
expected number of such synapses in a typical layer, so denser or larger layered networks
get proportionally smaller synapses (see :meth:`LayeredNetworkParameters.weights_uS`); the
ONI model gets exactly 20 / 1 / 60 nS. Give numbers to fix them. The calibration holds for
the LIF presets only; with another ``neuron_model`` choose the weights yourself.

Examples
--------
>>> net = LayeredNetwork.create_oni_model()
>>> net.n_neurons, net.layer_sizes[1], net.layer_sizes[8], net.layer_names[14]
(655, 75, 25, 'Meta-Cognition')
>>> net.layer_populations(8)
['L8_E', 'L8_I']
>>> net.layer(2)[:3]
array([75, 76, 77])
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from neurosim_nb.core.networks.network import Network
from neurosim_nb.core.neurons.registry import MODEL_FAMILIES, family_of, model_class

__all__ = ["ONI_LAYERS", "LayeredNetworkParameters", "LayeredNetwork", "layer_rates"]

#: The 14 layers of the NeuroSim / ONI processing hierarchy:
#: ``{layer: (name, abbrev, kind, size factor, excitatory fraction)}`` (see ONI.md).
ONI_LAYERS: dict[int, tuple[str, str, str, float, float]] = {
    1: ("Physical Interface", "PHY", "sensory", 1.5, 0.8),
    2: ("Signal Transduction", "SIG", "processing", 1.0, 0.8),
    3: ("Pattern Recognition", "PAT", "processing", 1.0, 0.8),
    4: ("Feature Integration", "FEA", "processing", 1.0, 0.8),
    5: ("Temporal Processing", "TMP", "processing", 1.0, 0.8),
    6: ("Memory Encoding", "MEM", "memory", 1.0, 0.8),
    7: ("Contextual Association", "CTX", "processing", 1.0, 0.8),
    8: ("Decision Making", "DEC", "executive", 0.5, 0.6),
    9: ("Motor Planning", "MTR", "motor", 0.8, 0.8),
    10: ("Action Selection", "ACT", "motor", 0.8, 0.8),
    11: ("Feedback Integration", "FBK", "processing", 1.0, 0.8),
    12: ("Error Correction", "ERR", "processing", 1.0, 0.8),
    13: ("Learning/Adaptation", "LRN", "plasticity", 1.0, 0.8),
    14: ("Meta-Cognition", "META", "executive", 0.5, 0.6),
}

#: Expected feedforward AMPA conductance per neuron (µS): 8 synapses x 20 nS in the ONI model.
G_FF = 0.16
#: Expected lateral AMPA conductance per neuron (µS): 6 synapses x 1 nS in the ONI model.
G_LAT = 0.006
#: Expected GABA-A conductance per neuron (µS), feedforward + lateral: 3.5 x 60 nS (ONI).
G_INH = 0.21


def _meta(unit: str, doc: str) -> dict[str, str]:
    return {"unit": unit, "doc": doc}


@dataclass(frozen=True)
class LayeredNetworkParameters:
    """Parameters of a :class:`LayeredNetwork` (frozen; change with ``dataclasses.replace``).

    Parameters
    ----------
    n_layers : int
        Number of layers (>= 1).
    neurons_per_layer : int
        Neurons per layer (>= 1) unless ``layer_sizes`` is given.
    excitatory_fraction : float
        Fraction of excitatory neurons per layer, in [0, 1]; a layer has
        ``round(fraction × size)`` excitatory neurons (the rest inhibitory).
    layer_sizes : tuple of int, optional
        One size per layer (overrides ``neurons_per_layer``).
    layer_excitatory_fractions : tuple of float, optional
        One excitatory fraction per layer (overrides ``excitatory_fraction``).
    layer_names : tuple of str, optional
        One name per layer (default ``"Layer i"``).
    feedforward_prob, lateral_prob, skip_prob : float
        Connection probabilities in [0, 1].
    feedforward_weight, lateral_weight, inhibitory_weight : float
        Peak conductances (µS, >= 0) of AMPA feedforward, AMPA lateral and every GABA-A
        synapse; see the module docstring for how the defaults were chosen.
    skip_connections, lateral_connections : bool
        Whether to make skip and lateral projections.
    skip_weight_factor : float
        Skip weight as a fraction of ``feedforward_weight`` (>= 0).
    delay_ms : float
        Delay of every synapse (ms, >= 0; at least one step at run time).
    neuron_model : str
        A model family of the registry (:data:`~neurosim_nb.core.neurons.registry.MODEL_FAMILIES`)
        that declares ``ei_presets``: excitatory and inhibitory populations use those two
        presets (``family_of(model_class(neuron_model)).ei_presets``).
    name : str
        Network name (stored in result attrs).
    seed : int, optional
        Seed of the connectivity draws.

    Raises
    ------
    ValueError
        Naming the offending field, e.g. a probability outside [0, 1].

    Examples
    --------
    >>> LayeredNetworkParameters(n_layers=5, neurons_per_layer=50).sizes()
    (50, 50, 50, 50, 50)
    >>> LayeredNetworkParameters(feedforward_prob=1.5)
    Traceback (most recent call last):
    ...
    ValueError: LayeredNetworkParameters.feedforward_prob = 1.5 must be a probability in [0, 1]
    """

    n_layers: int = field(default=3, metadata=_meta("1", "number of layers"))
    neurons_per_layer: int = field(default=100, metadata=_meta("1", "neurons per layer"))
    excitatory_fraction: float = field(default=0.8, metadata=_meta("1", "excitatory fraction"))
    layer_sizes: tuple[int, ...] | None = field(
        default=None, metadata=_meta("1", "neurons of each layer"))
    layer_excitatory_fractions: tuple[float, ...] | None = field(
        default=None, metadata=_meta("1", "excitatory fraction of each layer"))
    layer_names: tuple[str, ...] | None = field(
        default=None, metadata=_meta("", "name of each layer"))
    feedforward_prob: float = field(default=0.3, metadata=_meta("1", "P(L(i) -> L(i+1))"))
    feedforward_weight: float | None = field(
        default=None, metadata=_meta("uS", "AMPA peak conductance, feedforward (None: auto)"))
    skip_connections: bool = field(default=False, metadata=_meta("", "make skip projections"))
    skip_prob: float = field(default=0.05, metadata=_meta("1", "P(L(i) -> L(j >= i+2))"))
    skip_weight_factor: float = field(
        default=0.5, metadata=_meta("1", "skip weight / feedforward weight"))
    lateral_connections: bool = field(
        default=True, metadata=_meta("", "make lateral (within-layer) projections"))
    lateral_prob: float = field(default=0.1, metadata=_meta("1", "P(within a layer)"))
    lateral_weight: float | None = field(
        default=None, metadata=_meta("uS", "AMPA peak conductance, lateral (None: auto)"))
    inhibitory_weight: float | None = field(
        default=None, metadata=_meta("uS", "GABA-A peak conductance (None: auto)"))
    delay_ms: float = field(default=1.0, metadata=_meta("ms", "synaptic delay"))
    neuron_model: str = field(default="LIF", metadata=_meta("", "neuron model family"))
    name: str = field(default="layered", metadata=_meta("", "network name"))
    seed: int | None = field(default=None, metadata=_meta("", "connectivity seed"))

    def __post_init__(self) -> None:
        cls = type(self).__name__
        for name in ("n_layers", "neurons_per_layer"):
            _positive_int(f"{cls}.{name}", getattr(self, name))
        for name in ("excitatory_fraction", "feedforward_prob", "skip_prob", "lateral_prob"):
            _probability(f"{cls}.{name}", getattr(self, name))
        for name in ("feedforward_weight", "lateral_weight", "inhibitory_weight",
                     "skip_weight_factor", "delay_ms"):
            if getattr(self, name) is None and name.endswith("weight"):
                continue
            _nonneg(f"{cls}.{name}", getattr(self, name), self.__dataclass_fields__[name])
        for name in ("skip_connections", "lateral_connections"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise ValueError(f"{cls}.{name} = {getattr(self, name)!r} must be True or False")
        if self.neuron_model not in MODEL_FAMILIES:
            raise ValueError(f"{cls}.neuron_model = {self.neuron_model!r} is not one of "
                             f"{list(MODEL_FAMILIES)}")
        if family_of(model_class(self.neuron_model)).ei_presets is None:
            raise ValueError(f"{cls}.neuron_model = {self.neuron_model!r} declares no "
                             "(excitatory, inhibitory) presets (ei_presets)")
        if self.seed is not None and (isinstance(self.seed, bool)
                                      or not isinstance(self.seed, numbers.Integral)
                                      or self.seed < 0):
            raise ValueError(f"{cls}.seed = {self.seed!r} must be a non-negative integer or None")
        if not isinstance(self.name, str):
            raise ValueError(f"{cls}.name = {self.name!r} must be a string")
        self._check_per_layer("layer_sizes", lambda v: _positive_int("", v))
        self._check_per_layer("layer_excitatory_fractions", lambda v: _probability("", v))
        self._check_per_layer("layer_names", _string)

    def _check_per_layer(self, name: str, check) -> None:
        value = getattr(self, name)
        if value is None:
            return
        cls = type(self).__name__
        if isinstance(value, str) or not hasattr(value, "__len__"):
            raise ValueError(f"{cls}.{name} must be a sequence of {self.n_layers} values")
        if len(value) != self.n_layers:
            raise ValueError(f"{cls}.{name} has {len(value)} values for n_layers = "
                             f"{self.n_layers}")
        for i, v in enumerate(value):
            try:
                check(v)
            except ValueError as err:
                raise ValueError(f"{cls}.{name}[{i}] = {v!r}: {err}") from None
        object.__setattr__(self, name, tuple(value))

    def sizes(self) -> tuple[int, ...]:
        """Number of neurons of each layer."""
        if self.layer_sizes is not None:
            return tuple(int(s) for s in self.layer_sizes)
        return (int(self.neurons_per_layer),) * int(self.n_layers)

    def excitatory_sizes(self) -> tuple[int, ...]:
        """Number of excitatory neurons of each layer (``round(fraction × size)``)."""
        fr = self.layer_excitatory_fractions or (self.excitatory_fraction,) * self.n_layers
        return tuple(int(round(f * s)) for f, s in zip(fr, self.sizes(), strict=True))

    def weights_uS(self) -> dict[str, float]:
        """Peak conductance (µS) of each kind of synapse, resolving ``None`` (auto) weights.

        An auto weight is the ONI calibration's expected conductance per postsynaptic
        neuron divided by the expected number of such synapses of a typical layer
        (``neurons_per_layer`` neurons, ``excitatory_fraction`` excitatory; at least one):
        feedforward ``G_FF / (p_ff N_E)``, lateral ``G_LAT / (p_lat N_E)``, inhibitory
        ``G_INH / ((p_ff + p_lat) N_I)`` (``p_lat`` counted only with lateral
        connections), with :data:`G_FF`, :data:`G_LAT`, :data:`G_INH`.

        >>> w = LayeredNetworkParameters(n_layers=14, neurons_per_layer=50,
        ...                              feedforward_prob=0.2, lateral_prob=0.15).weights_uS()
        >>> {k: round(v, 6) for k, v in w.items()}
        {'feedforward': 0.02, 'lateral': 0.001, 'inhibitory': 0.06, 'skip': 0.01}
        """
        n_e = self.neurons_per_layer * self.excitatory_fraction
        n_i = self.neurons_per_layer - n_e
        p_lat = self.lateral_prob if self.lateral_connections else 0.0
        ff = self.feedforward_weight
        if ff is None:
            ff = G_FF / max(1.0, self.feedforward_prob * n_e)
        lat = self.lateral_weight
        if lat is None:
            lat = G_LAT / max(1.0, self.lateral_prob * n_e)
        inh = self.inhibitory_weight
        if inh is None:
            inh = G_INH / max(1.0, (self.feedforward_prob + p_lat) * n_i)
        return {"feedforward": float(ff), "lateral": float(lat), "inhibitory": float(inh),
                "skip": float(ff * self.skip_weight_factor)}

    def names(self) -> tuple[str, ...]:
        """Name of each layer."""
        return tuple(self.layer_names or (f"Layer {i}" for i in range(1, self.n_layers + 1)))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (JSON-able)."""
        return {k: (list(v) if isinstance(v, tuple) else v)
                for k, v in dataclasses.asdict(self).items()}


def _positive_int(what: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what + ' = ' if what else ''}{value!r} must be a positive integer"
                         .strip())


def _probability(what: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{what + ' = ' if what else ''}{value!r} must be a probability in "
                         f"[0, 1]".strip())


def _nonneg(what: str, value, f) -> None:
    unit = f.metadata.get("unit", "")
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not np.isfinite(value) or value < 0):
        raise ValueError(f"{what} = {value!r} must be a finite number >= 0 ({unit})")


def _string(value) -> None:
    if not isinstance(value, str):
        raise ValueError("must be a string")


class LayeredNetwork(Network):
    """A layered E/I network (see the module docstring for structure and weights).

    Parameters
    ----------
    params : LayeredNetworkParameters, optional

    Attributes
    ----------
    params : LayeredNetworkParameters
    layer_names : dict of int to str
        ``{layer: name}`` (written into result attrs as ``layer_names_json``).
    layer_sizes : dict of int to int
        ``{layer: number of neurons}``.

    Examples
    --------
    >>> net = LayeredNetwork(LayeredNetworkParameters(n_layers=2, neurons_per_layer=10,
    ...                                               seed=0))
    >>> list(net.populations), net.layer(2).tolist()
    (['L1_E', 'L1_I', 'L2_E', 'L2_I'], [10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    """

    def __init__(self, params: LayeredNetworkParameters | None = None):
        params = params or LayeredNetworkParameters()
        if not isinstance(params, LayeredNetworkParameters):
            raise TypeError(f"expected LayeredNetworkParameters, got {type(params).__name__}")
        super().__init__(params.name, params.seed)
        self.params = params
        self.layer_names = dict(enumerate(params.names(), start=1))
        self.layer_sizes = dict(enumerate(params.sizes(), start=1))
        self._build_populations()
        self._build_projections()

    # -- construction ---------------------------------------------------------------------
    def _build_populations(self) -> None:
        p = self.params
        cls = model_class(p.neuron_model)
        exc_preset, inh_preset = family_of(cls).ei_presets
        for layer, (n, n_e) in enumerate(zip(p.sizes(), p.excitatory_sizes(), strict=True), 1):
            if n_e:
                self.add_population(f"L{layer}_E", cls.from_preset(exc_preset, n=n_e),
                                    layer=layer)
            if n - n_e:
                self.add_population(f"L{layer}_I", cls.from_preset(inh_preset, n=n - n_e),
                                    layer=layer)

    def _connect_layers(self, src: int, dst: int, prob: float, w_exc: float) -> None:
        if prob == 0:
            return
        p = self.params
        w_inh = p.weights_uS()["inhibitory"]
        for pre in self.layer_populations(src):
            exc = pre.endswith("_E")
            for post in self.layer_populations(dst):
                self.connect(pre, post, "fixed_probability", p=prob,
                             weight=w_exc if exc else w_inh,
                             delay_ms=p.delay_ms, receptor="AMPA" if exc else "GABA_A")

    def _build_projections(self) -> None:
        p = self.params
        w = p.weights_uS()
        for i in range(1, p.n_layers):
            self._connect_layers(i, i + 1, p.feedforward_prob, w["feedforward"])
        if p.skip_connections:
            for i in range(1, p.n_layers - 1):
                for j in range(i + 2, p.n_layers + 1):
                    self._connect_layers(i, j, p.skip_prob, w["skip"])
        if p.lateral_connections:
            for i in range(1, p.n_layers + 1):
                self._connect_layers(i, i, p.lateral_prob, w["lateral"])

    # -- selections -----------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        return self.params.n_layers

    def _check_layer(self, layer: int) -> int:
        if isinstance(layer, bool) or not isinstance(layer, numbers.Integral) or not (
                1 <= layer <= self.n_layers):
            raise ValueError(f"layer {layer!r} does not exist; layers are 1..{self.n_layers}")
        return int(layer)

    def layer_populations(self, layer: int) -> list[str]:
        """Population names of ``layer`` (1-based): excitatory first."""
        layer = self._check_layer(layer)
        return [k for k, v in self.layer_of.items() if v == layer]

    def layer(self, layer: int) -> np.ndarray:
        """Global neuron ids of ``layer`` (1-based), excitatory neurons first."""
        return np.concatenate([self.neuron_ids(k) for k in self.layer_populations(layer)])

    def layer_of_neuron(self) -> np.ndarray:
        """Layer (1-based) of every neuron, indexed by global id."""
        out = np.empty(self.n_neurons, dtype=np.int64)
        for name, start in self.offsets().items():
            out[start:start + self.populations[name].n] = self.layer_of[name]
        return out

    # -- factories ----------------------------------------------------------------------
    @classmethod
    def create_simple(cls, n_layers: int = 3, neurons_per_layer: int = 100,
                      **kwargs) -> LayeredNetwork:
        """A layered network with the default parameters (``kwargs`` override fields).

        >>> LayeredNetwork.create_simple(3, 100, seed=1).n_neurons
        300
        """
        return cls(LayeredNetworkParameters(n_layers=n_layers,
                                            neurons_per_layer=neurons_per_layer, **kwargs))

    @classmethod
    def create_oni_model(cls, neurons_per_layer: int = 50, sensory_input_hz: float = 20.0,
                         **kwargs) -> LayeredNetwork:
        """The NeuroSim/ONI 14-layer hierarchy (:data:`ONI_LAYERS`).

        Layer sizes ``round(neurons_per_layer × factor)`` (655 neurons at 50 per layer),
        excitatory fractions 0.8 (0.6 in the executive layers 8 and 14), feedforward
        p = 0.2, skip p = 0.02 at half weight, lateral p = 0.15, 1 ms delays, weights as in
        the module docstring (``kwargs`` override any field).

        Layer 1 is the sensory "Physical Interface": by default every layer-1 neuron gets
        independent Poisson input from 100 afferents at ``sensory_input_hz`` each (0.5 mV
        kicks; 20 Hz gives layer 1 about 26 Hz and every layer fires), so the seed's
        example -- build, run, export -- shows activity without further set-up. Pass
        ``sensory_input_hz=0`` for a silent network to drive yourself
        (``engine.inject_input(1, ...)``).
        """
        if not (np.isfinite(sensory_input_hz) and sensory_input_hz >= 0):
            raise ValueError(f"sensory_input_hz must be finite and >= 0, got {sensory_input_hz}")
        _positive_int("neurons_per_layer", neurons_per_layer)
        info = [ONI_LAYERS[i] for i in range(1, 15)]
        defaults = dict(
            n_layers=14, neurons_per_layer=neurons_per_layer, name="ONI_14Layer_Model",
            layer_sizes=tuple(int(round(neurons_per_layer * f[3])) for f in info),
            layer_excitatory_fractions=tuple(f[4] for f in info),
            layer_names=tuple(f[0] for f in info),
            feedforward_prob=0.2, skip_connections=True, skip_prob=0.02,
            skip_weight_factor=0.5, lateral_connections=True, lateral_prob=0.15)
        defaults.update(kwargs)
        net = cls(LayeredNetworkParameters(**defaults))
        if len(net.layer_names) == 14 and "layer_names" not in kwargs:
            net.layer_abbrevs = {i: ONI_LAYERS[i][1] for i in range(1, 15)}
            net.layer_kinds = {i: ONI_LAYERS[i][2] for i in range(1, 15)}
        if sensory_input_hz > 0:
            from neurosim_nb.stimuli import PoissonInput

            for name in net.layer_populations(1):
                net.add_stimulus(name, PoissonInput(rate_hz=float(sensory_input_hz),
                                                    weight_mV=0.5, n_sources=100))
        return net


def layer_rates(ds: xr.Dataset) -> dict[int, float]:
    """Mean firing rate (Hz) of each layer in a network result Dataset.

    Uses the ``layer(neuron)`` coordinate; all neurons must be recorded (the default).

    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset({"spike_neuron": ("spike", np.array([0, 0, 2]))},
    ...                 coords={"neuron": [0, 1, 2], "layer": ("neuron", [1, 1, 2])},
    ...                 attrs={"duration": 1000.0})
    >>> layer_rates(ds)
    {1: 1.0, 2: 1.0}
    """
    layers = np.asarray(ds["layer"].values)
    ids = np.asarray(ds["neuron"].values)
    lookup = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
    lookup[ids] = layers
    counts = np.bincount(lookup[np.asarray(ds["spike_neuron"].values)] + 1,
                         minlength=int(layers.max()) + 2)
    seconds = float(ds.attrs["duration"]) / 1000.0
    return {int(L): float(counts[L + 1] / np.sum(layers == L) / seconds)
            for L in np.unique(layers) if L >= 0}
