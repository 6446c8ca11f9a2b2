r"""Export a 14-layer network result for the ONI Framework.

:class:`ONIExporter` turns a network result (a :class:`~neurosim_nb.engine.SimulationResult`
or its ``xarray.Dataset``) into :class:`ONIExportData`: per layer the number of neurons and
spikes, the mean rate, the mean membrane potential, a synchrony measure and the ONI
Framework's coherence score :math:`C_s`; the global :math:`C_s`; and the 14 × 14 matrix of
summed synaptic weights between layers. :meth:`ONIExporter.save` writes it as the ONI native
JSON document (described by the JSON Schema ``oni_schema.json`` shipped beside this module),
as a plain per-layer JSON document, or as an ``.npz`` file; :func:`load_oni` reads any of
them back and validates it against the schema.

Layer keys are the strings ``"1"`` .. ``"14"`` and all 14 are always present: a result with
fewer layers (or a layer without neurons) exports zeros there. The key ``layer_naming`` says
which names the layers carry: ``"neurosim"`` for the NeuroSim processing hierarchy of
:data:`~neurosim_nb.core.networks.layered.ONI_LAYERS` (L1 Physical Interface .. L14
Meta-Cognition) -- *not* the ONI Framework's own security-stack names (its L8 is "Neural
Gateway") -- or ``"custom"`` for a network that named its layers otherwise.

Coherence :math:`C_s` (the ONI Framework's definition, ``oni.coherence`` in oni-framework)
----------------------------------------------------------------------------------------
:math:`C_s = \exp(-(\sigma^2_\phi + \sigma^2_\tau + \sigma^2_\gamma))`, in [0, 1]:

* phase: :math:`\phi_i = 2\pi f_{ref} t_i \bmod 2\pi` with the arrival times :math:`t_i` in
  **seconds** (``f_ref_hz`` = 40 Hz by default), :math:`R = |\langle e^{i\phi}\rangle|`,
  :math:`\sigma^2_\phi = (1 - R)\pi^2`; zero for fewer than two events;
* transport: :math:`\sigma^2_\tau = -\sum_k \ln p_k` over the transport reliabilities
  (default :data:`DEFAULT_TRANSPORT_RELIABILITIES`, :math:`\sigma^2_\tau \approx 0.299`, so
  :math:`C_s \le 0.741`); ``None`` or an empty mapping means the defaults, as in
  oni-framework; a :math:`p_k` outside (0, 1] is a ``ValueError``;
* gain: :math:`\sigma^2_\gamma = \langle((A_i - b)/b)^2\rangle` with ``b`` the expected
  amplitude (``None`` or 0: the mean of the amplitudes); zero for fewer than two
  amplitudes; a zero baseline makes the gain variance infinite and :math:`C_s = 0`.

Interpretation (:func:`interpret_coherence`): :math:`C_s > 0.6` HIGH, > 0.3 MEDIUM, else LOW.

In the export a layer's arrival times are the spike times of its neurons and its amplitudes
are the layer's **population spike counts in consecutive bins** of ``amplitude_bin_ms``
(default one reference period, 1000 / ``f_ref_hz`` = 25 ms; bins ``(k Δ, (k + 1) Δ]``,
only whole bins within the run, so a short tail is left out of the amplitudes). The gain
term thus measures the relative fluctuation of the layer's activity from one reference cycle
to the next; a silent layer has amplitude 0 everywhere and :math:`C_s = 0`. ``Cs_global``
uses the spikes of all neurons and the network's binned spike counts.

Synchrony (Golomb's :math:`\chi`)
---------------------------------
Spike counts :math:`x_i(k)` of each neuron of a layer in bins of ``synchrony_window_ms``
(default 5 ms, same bins convention), population average :math:`X(k) = \frac1N\sum_i x_i(k)`;
:math:`\chi^2 = \mathrm{Var}_k X / \frac1N \sum_i \mathrm{Var}_k x_i` (population variances
over the bins). :math:`\chi = 1` for identical spike trains and about :math:`1/\sqrt N` for
independent ones; it lies in [0, 1] by the Cauchy-Schwarz inequality. A layer with no spike
(or a run shorter than two bins) has no variance; it exports :math:`\chi = 0`.
Golomb D, Rinzel J (1993) Dynamics of globally coupled inhibitory neurons with heterogeneity.
Phys Rev E 48:4810; Golomb D (2007) Neuronal synchrony measures. Scholarpedia 2(1):1347.

Examples
--------
>>> import json, numpy as np, xarray as xr
>>> ds = xr.Dataset(
...     {"spike_time": ("spike", [10.0, 10.0, 30.0, 30.0, 55.0]),
...      "spike_neuron": ("spike", [0, 1, 0, 1, 2])},
...     coords={"neuron": [0, 1, 2], "layer": ("neuron", [1, 1, 2])},
...     attrs={"duration": 100.0, "dt": 0.1, "n_neurons": 3,
...            "params_json": json.dumps({"populations": [], "projections": []})})
>>> data = ONIExporter().export(ds)
>>> m = data.layers[1]
>>> m.n_neurons, m.n_spikes, m.mean_rate, m.synchrony
(2, 4, 20.0, 1.0)
>>> sorted(data.to_native_dict()["layers"], key=int) == [str(i) for i in range(1, 15)]
True
"""

from __future__ import annotations

import datetime as _dt
import enum
import importlib.resources
import json
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurosim_nb._validation import is_integer, is_number, parse_json
from neurosim_nb._version import __version__
from neurosim_nb.export._atomic import ExportError, atomic_path, readable_path

__all__ = [
    "ONIDataFormat", "LayerMetrics", "ONIExportData", "ONIExporter", "load_oni",
    "coherence_score", "interpret_coherence", "golomb_synchrony", "binned_counts",
    "oni_schema", "validate_oni_document", "DEFAULT_TRANSPORT_RELIABILITIES",
    "FORMAT_VERSION", "N_LAYERS",
]

#: version of the exported documents
FORMAT_VERSION = "1.0"
#: number of layers of the ONI model (layer keys "1" .. "14")
N_LAYERS = 14
LAYER_KEYS = tuple(str(i) for i in range(1, N_LAYERS + 1))
#: ``type`` of the native and of the plain per-layer JSON document
NATIVE_TYPE = "neurosim_export"
PLAIN_TYPE = "neurosim_layer_metrics"

#: oni-framework's default transport reliabilities (``CoherenceMetric.DEFAULT_TRANSPORT_FACTORS``)
DEFAULT_TRANSPORT_RELIABILITIES: dict[str, float] = {
    "myelinated_axon": 0.999,
    "unmyelinated_axon": 0.97,
    "synaptic_transmission": 0.85,
    "dendritic_integration": 0.90,
}

#: oni-framework's interpretation of a coherence score: (lower bound, level, description)
COHERENCE_LEVELS = (
    (0.6, "HIGH", "Signal is coherent and trustworthy"),
    (0.3, "MEDIUM", "Signal shows moderate variance, verify context"),
    (-math.inf, "LOW", "Signal is incoherent, reject or investigate"),
)

#: oni-framework's oscillation bands (Hz)
BANDS = {"delta": (0.5, 4), "theta": (4, 8), "alpha": (8, 12), "beta": (13, 30),
         "gamma": (30, 100)}

COHERENCE_DEFINITION = (
    "Coherence score Cs of the ONI Framework (oni-framework, oni.coherence.CoherenceMetric): "
    "Cs = exp(-(var_phase + var_transport + var_gain)), in [0, 1]. var_phase = (1 - R) pi^2 "
    "with R = |mean(exp(i phi))|, phi = 2 pi f_ref t mod 2 pi, t the spike times in seconds "
    "(0 for fewer than 2 spikes); var_transport = -sum(ln p) over the transport reliabilities; "
    "var_gain = mean(((A - b) / b)^2) over the amplitudes A with b = mean(A) (0 for fewer than "
    "2 amplitudes; Cs = 0 when b = 0). Arrival times: the spike times of the layer's neurons "
    "(all neurons for Cs_global). Amplitudes: the layer's (network's) population spike counts "
    "in consecutive whole bins (k*w, (k+1)*w] of w = amplitude_bin_ms within the run. "
    "Parameters in coherence_analysis.parameters. Levels: Cs > 0.6 HIGH, > 0.3 MEDIUM, "
    "else LOW."
)

SYNCHRONY_DEFINITION = (
    "Golomb's synchrony measure chi (Golomb & Rinzel 1993, Phys Rev E 48:4810; Golomb 2007, "
    "Scholarpedia 2(1):1347) on spike counts x_i(k) of the layer's N neurons in whole bins "
    "(k*w, (k+1)*w] of w = synchrony_window_ms: chi^2 = Var_k(mean_i x_i) / mean_i Var_k(x_i) "
    "(population variances over bins). chi = 1 for identical spike trains, about 1/sqrt(N) "
    "for independent ones; 0 for a layer without spikes or a run shorter than two bins."
)

WEIGHT_ORIENTATION = ("rows: presynaptic layer 1..14, columns: postsynaptic layer 1..14; "
                      "each entry the sum of the weights (peak conductances for conductance "
                      "synapses, excitatory and inhibitory alike, the sign of the effect "
                      "coming from the receptor's reversal potential) of all synapses "
                      "between the two layers at the end of the run")


# -- the ONI Framework's coherence score ---------------------------------------------------
def _check_reliabilities(transport_reliabilities) -> dict[str, float]:
    """The reliabilities as a plain dict (defaults for ``None`` or an empty mapping)."""
    if transport_reliabilities is None or (isinstance(transport_reliabilities, Mapping)
                                           and not transport_reliabilities):
        return dict(DEFAULT_TRANSPORT_RELIABILITIES)
    if not isinstance(transport_reliabilities, Mapping):
        raise TypeError("transport_reliabilities must be a mapping {name: probability}, got "
                        f"{type(transport_reliabilities).__name__}")
    out = {}
    for name, p in transport_reliabilities.items():
        if (isinstance(p, bool) or not isinstance(p, numbers.Real) or not math.isfinite(p)
                or not 0 < p <= 1):
            raise ValueError(f"transport reliability {name!r} must be in (0, 1], got {p!r}")
        out[str(name)] = float(p)
    return out


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def coherence_score(spike_times_ms, amplitudes, *, f_ref_hz: float = 40.0,
                    transport_reliabilities: Mapping[str, float] | None = None,
                    expected_amplitude: float | None = None) -> float:
    r"""The ONI Framework's coherence score :math:`C_s` of a set of events.

    Same definition, defaults and edge cases as ``oni.coherence.CoherenceMetric.calculate``
    of oni-framework 0.2.6 (see the module docstring), computed with numpy.

    Parameters
    ----------
    spike_times_ms : array_like
        Arrival times (ms; converted to seconds for the phase).
    amplitudes : array_like
        Amplitudes of the signal (any unit; only ratios to the baseline matter).
    f_ref_hz : float
        Reference frequency of the phase term (Hz, > 0).
    transport_reliabilities : mapping of str to float, optional
        Reliability in (0, 1] of each pathway component; ``None`` or ``{}``:
        :data:`DEFAULT_TRANSPORT_RELIABILITIES` (as in oni-framework; pass ``{"ideal": 1.0}``
        for no transport term).
    expected_amplitude : float, optional
        Baseline ``b`` of the gain term; ``None`` or 0: the mean amplitude.

    Returns
    -------
    float
        :math:`C_s` in [0, 1]; 0 when the baseline amplitude is 0 (infinite gain variance;
        oni-framework warns, this function does not).

    Raises
    ------
    ValueError
        For a reliability outside (0, 1], non-finite times or amplitudes, or ``f_ref_hz``
        not > 0.

    Examples
    --------
    >>> round(coherence_score([0.0, 25.0, 50.0, 75.0], [100, 100, 100, 100]), 4)
    0.7413
    >>> round(coherence_score([0.0, 12.5], [1, 1], transport_reliabilities={"ideal": 1.0}), 7)
    5.17e-05
    >>> coherence_score([1.0, 2.0], [0, 0])
    0.0
    """
    f_ref = _check_positive("f_ref_hz", f_ref_hz)
    t = np.asarray(spike_times_ms, dtype=np.float64).ravel() / 1000.0
    a = np.asarray(amplitudes, dtype=np.float64).ravel()
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(a))):
        raise ValueError("spike times and amplitudes must be finite")
    reliabilities = _check_reliabilities(transport_reliabilities)
    # phase: circular variance of the phases relative to the reference oscillation
    phase = 0.0
    if t.size >= 2:
        phi = (2 * np.pi * f_ref * t) % (2 * np.pi)
        s, c = np.sin(phi).sum() / t.size, np.cos(phi).sum() / t.size
        phase = max(0.0, 1.0 - math.sqrt(s * s + c * c)) * math.pi ** 2
    transport = float(sum(-math.log(p) for p in reliabilities.values()))
    gain = 0.0
    if a.size >= 2:
        b = float(expected_amplitude) if expected_amplitude else float(a.sum() / a.size)
        if b == 0:
            return 0.0
        gain = float(np.mean(((a - b) / b) ** 2))
    total = phase + transport + gain
    return 0.0 if math.isinf(total) else math.exp(-total)


def interpret_coherence(cs: float) -> tuple[str, str]:
    """oni-framework's reading of a coherence score: ``(level, description)``.

    >>> interpret_coherence(0.7)[0], interpret_coherence(0.45)[0], interpret_coherence(0.1)[0]
    ('HIGH', 'MEDIUM', 'LOW')
    """
    for bound, level, text in COHERENCE_LEVELS:
        if cs > bound:
            return level, text
    return COHERENCE_LEVELS[-1][1:]


def _bins(times_ms: np.ndarray, duration_ms: float, bin_ms: float) -> tuple[np.ndarray, int]:
    """Bin index of each time in whole bins ``(k w, (k+1) w]`` within the run (-1: outside)."""
    n_bins = int(math.floor(duration_ms / bin_ms + 1e-9))
    idx = np.ceil(np.asarray(times_ms, dtype=np.float64) / bin_ms - 1e-9).astype(np.int64) - 1
    idx = np.maximum(idx, 0)  # a spike at t = 0 belongs to the first bin
    idx[idx >= n_bins] = -1
    return idx, n_bins


def binned_counts(spike_times_ms, duration_ms: float, bin_ms: float) -> np.ndarray:
    """Spike counts in consecutive whole bins ``(k w, (k+1) w]`` of ``bin_ms`` within
    ``duration_ms`` (the amplitudes of :math:`C_s` in the export).

    >>> binned_counts([1.0, 5.0, 5.1, 12.0], duration_ms=12.0, bin_ms=5.0)
    array([2., 1.])
    """
    idx, n_bins = _bins(spike_times_ms, float(duration_ms), _check_positive("bin_ms", bin_ms))
    return np.bincount(idx[idx >= 0], minlength=n_bins).astype(np.float64)


def golomb_synchrony(spike_times_ms, spike_neurons, n_neurons: int, duration_ms: float,
                     bin_ms: float = 5.0) -> float:
    r"""Golomb's synchrony measure :math:`\chi` of ``n_neurons`` spike trains.

    :math:`\chi^2 = \mathrm{Var}_k(\frac1N\sum_i x_i(k)) / \frac1N\sum_i\mathrm{Var}_k x_i(k)`
    with :math:`x_i(k)` the spike count of neuron ``i`` in whole bins ``(k w, (k+1) w]``
    within the run. Works on the spike list (memory in the number of spikes, not neurons ×
    bins).

    Parameters
    ----------
    spike_times_ms : array_like
        Spike times (ms).
    spike_neurons : array_like of int
        Neuron of each spike, ``0 <= i < n_neurons`` (silent neurons count in :math:`N`).
    n_neurons : int
        :math:`N`.
    duration_ms, bin_ms : float
        Length of the run and bin width (ms).

    Returns
    -------
    float
        :math:`\chi` in [0, 1]: 1 for identical trains, about :math:`1/\sqrt N` for
        independent ones; 0 when no neuron's count varies (no spikes, fewer than two bins).

    References
    ----------
    Golomb D, Rinzel J (1993) Phys Rev E 48:4810. Golomb D (2007) Scholarpedia 2(1):1347.

    Examples
    --------
    >>> golomb_synchrony([10.0, 10.0, 40.0, 40.0], [0, 1, 0, 1], 2, 100.0)
    1.0
    >>> golomb_synchrony([], [], 5, 100.0)
    0.0
    """
    bin_ms = _check_positive("bin_ms", bin_ms)
    n = int(n_neurons)
    i = np.asarray(spike_neurons, dtype=np.int64).ravel()
    idx, n_bins = _bins(spike_times_ms, float(duration_ms), bin_ms)
    if idx.shape != i.shape:
        raise ValueError("spike_times_ms and spike_neurons must have the same length")
    if i.size and (i.min() < 0 or i.max() >= n):
        raise ValueError(f"spike_neurons must lie in [0, {n})")
    keep = idx >= 0
    i, idx = i[keep], idx[keep]
    if n < 1 or n_bins < 2 or i.size == 0:
        return 0.0
    pop = np.bincount(idx, minlength=n_bins) / n
    cell, per_cell = np.unique(i * n_bins + idx, return_counts=True)
    sum_sq = np.bincount(cell // n_bins, weights=per_cell.astype(np.float64) ** 2, minlength=n)
    mean_i = np.bincount(i, minlength=n) / n_bins
    var_i = np.maximum(sum_sq / n_bins - mean_i ** 2, 0.0)
    denom = var_i.mean()
    if denom <= 0:
        return 0.0
    return float(min(1.0, math.sqrt(max(0.0, float(pop.var())) / denom)))


# -- data classes --------------------------------------------------------------------------
class ONIDataFormat(enum.Enum):
    """File formats of :meth:`ONIExporter.save`.

    ``ONI_NATIVE``: the ONI native JSON document (schema ``oni_schema.json``); ``JSON``: the
    plain per-layer JSON variant; ``NUMPY``: an ``.npz`` of arrays (no pickled objects) that
    also holds the native document as a string.
    """

    ONI_NATIVE = "oni_native"
    JSON = "json"
    NUMPY = "numpy"


@dataclass
class LayerMetrics:
    """Summary of one layer.

    Attributes
    ----------
    name : str
    n_neurons, n_spikes : int
    mean_rate : float
        Spikes per neuron per second (Hz); 0 for a layer without neurons.
    mean_voltage : float
        Mean membrane potential over time and the layer's neurons (mV); NaN when ``V`` was
        not recorded (``null`` in JSON, NaN in NPZ).
    synchrony : float
        Golomb's :math:`\\chi` (see the module docstring).
    coherence : float
        The ONI Framework's :math:`C_s` of the layer.
    """

    name: str
    n_neurons: int
    n_spikes: int
    mean_rate: float
    mean_voltage: float
    synchrony: float
    coherence: float

    @property
    def coherence_level(self) -> str:
        """``"HIGH"``, ``"MEDIUM"`` or ``"LOW"`` (:func:`interpret_coherence`)."""
        return interpret_coherence(self.coherence)[0]


def _json_float(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _per_layer(data: ONIExportData, attr: str) -> dict[str, Any]:
    return {str(k): getattr(data.layers[k], attr) for k in range(1, N_LAYERS + 1)}


@dataclass
class ONIExportData:
    """Everything an ONI export holds; :meth:`to_native_dict` is the native JSON document.

    Attributes
    ----------
    layers : dict of int to LayerMetrics
        Layers 1 .. 14, all present.
    Cs_global : float
        :math:`C_s` of all neurons' spikes.
    duration_ms, dt_ms : float
    n_neurons : int
    total_spikes : int
    mean_rate_hz : float
        Spikes per neuron per second over all neurons.
    inter_layer_weights : ndarray, shape (14, 14)
        Summed weights, rows presynaptic layer, columns postsynaptic (``weight_units``).
    weight_units : str
        ``"uS"`` for conductance synapses (the ONI model); ``"mixed (...)"`` if the network
        mixes weight units.
    layer_naming : {"neurosim", "custom"}
    f_ref_hz, amplitude_bin_ms, synchrony_window_ms : float
    transport_reliabilities : dict of str to float
    neurosim_nb_version : str
        Version of the exporting package.
    timestamp : str
        ISO 8601 with time zone.
    """

    layers: dict[int, LayerMetrics]
    Cs_global: float
    duration_ms: float
    dt_ms: float
    n_neurons: int
    total_spikes: int
    mean_rate_hz: float
    inter_layer_weights: np.ndarray
    weight_units: str
    layer_naming: str
    f_ref_hz: float
    transport_reliabilities: dict[str, float]
    amplitude_bin_ms: float
    synchrony_window_ms: float
    neurosim_nb_version: str = __version__
    timestamp: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc)
                           .isoformat(timespec="seconds"))

    @property
    def layer_rates(self) -> dict[int, float]:
        """``{layer: mean rate (Hz)}``."""
        return {k: m.mean_rate for k, m in self.layers.items()}

    @property
    def layer_coherences(self) -> dict[int, float]:
        """``{layer: C_s}``."""
        return {k: m.coherence for k, m in self.layers.items()}

    def _header(self, doc_type: str) -> dict[str, Any]:
        return {"version": FORMAT_VERSION, "type": doc_type, "timestamp": self.timestamp,
                "neurosim_nb_version": self.neurosim_nb_version,
                "layer_naming": self.layer_naming,
                "simulation": {"duration_ms": float(self.duration_ms),
                               "dt_ms": float(self.dt_ms), "n_neurons": int(self.n_neurons)}}

    def to_native_dict(self) -> dict[str, Any]:
        """The ONI native document (plain Python types, strict-JSON-able; see the schema)."""
        doc = self._header(NATIVE_TYPE)
        doc["layers"] = {str(k): {"name": m.name, "n_neurons": int(m.n_neurons),
                                  "n_spikes": int(m.n_spikes)}
                         for k, m in sorted(self.layers.items())}
        doc["coherence_analysis"] = {
            "Cs_global": float(self.Cs_global),
            "layer_coherences": {k: float(v) for k, v in _per_layer(self, "coherence").items()},
            "layer_synchrony": {k: float(v) for k, v in _per_layer(self, "synchrony").items()},
            "levels": {"Cs_global": interpret_coherence(self.Cs_global)[0],
                       "layers": _per_layer(self, "coherence_level")},
            "parameters": {"f_ref_hz": float(self.f_ref_hz),
                           "transport_reliabilities": dict(self.transport_reliabilities),
                           "amplitude_bin_ms": float(self.amplitude_bin_ms),
                           "synchrony_window_ms": float(self.synchrony_window_ms)},
        }
        doc["coherence_definition"] = COHERENCE_DEFINITION
        doc["synchrony_definition"] = SYNCHRONY_DEFINITION
        doc["firing_statistics"] = {
            "total_spikes": int(self.total_spikes), "mean_rate_hz": float(self.mean_rate_hz),
            "layer_rates": {k: float(v) for k, v in _per_layer(self, "mean_rate").items()}}
        doc["connectivity"] = {
            "inter_layer_weights": np.asarray(self.inter_layer_weights, dtype=float).tolist(),
            "weight_units": self.weight_units, "orientation": WEIGHT_ORIENTATION}
        return doc

    def to_plain_dict(self) -> dict[str, Any]:
        """The plain per-layer JSON variant (``mean_voltage_mv`` ``None`` if not recorded)."""
        doc = self._header(PLAIN_TYPE)
        doc["Cs_global"] = float(self.Cs_global)
        doc["layers"] = {str(k): {"name": m.name, "n_neurons": int(m.n_neurons),
                                  "n_spikes": int(m.n_spikes),
                                  "mean_rate_hz": float(m.mean_rate),
                                  "mean_voltage_mv": _json_float(m.mean_voltage),
                                  "synchrony": float(m.synchrony),
                                  "coherence": float(m.coherence)}
                         for k, m in sorted(self.layers.items())}
        doc["coherence_definition"] = COHERENCE_DEFINITION
        doc["synchrony_definition"] = SYNCHRONY_DEFINITION
        return doc

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The NPZ content: per-layer arrays (index 0 = layer 1), the 14 × 14 weights,
        scalars and ``native_json`` (the native document as a string)."""
        ms = [self.layers[k] for k in range(1, N_LAYERS + 1)]
        return {
            "layer": np.arange(1, N_LAYERS + 1, dtype=np.int64),
            "layer_name": np.array([m.name for m in ms], dtype=str),
            "n_neurons": np.array([m.n_neurons for m in ms], dtype=np.int64),
            "n_spikes": np.array([m.n_spikes for m in ms], dtype=np.int64),
            "mean_rate_hz": np.array([m.mean_rate for m in ms], dtype=np.float64),
            "mean_voltage_mv": np.array([m.mean_voltage for m in ms], dtype=np.float64),
            "synchrony": np.array([m.synchrony for m in ms], dtype=np.float64),
            "coherence": np.array([m.coherence for m in ms], dtype=np.float64),
            "inter_layer_weights": np.asarray(self.inter_layer_weights, dtype=np.float64),
            "Cs_global": np.float64(self.Cs_global),
            "duration_ms": np.float64(self.duration_ms),
            "dt_ms": np.float64(self.dt_ms),
            "native_json": np.array(_dumps(self.to_native_dict())),
        }


def _dumps(doc: dict) -> str:
    try:
        return json.dumps(doc, indent=2, allow_nan=False)
    except ValueError as err:  # a NaN or infinity slipped in
        raise ValueError(f"the export holds a non-finite number: {err}") from None


# -- the exporter --------------------------------------------------------------------------
def _dataset_of(result) -> xr.Dataset:
    ds = getattr(result, "dataset", result)
    if not isinstance(ds, xr.Dataset):
        raise TypeError("export needs a SimulationResult or an xarray.Dataset, got "
                        f"{type(result).__name__}")
    if "layer" not in ds.coords:
        raise ValueError("the Dataset has no 'layer' coordinate: the ONI export needs the "
                         "result of a layered network, e.g. "
                         "LayeredNetwork.create_oni_model().simulate(...)")
    missing = [k for k in ("spike_time", "spike_neuron") if k not in ds]
    missing += [k for k in ("duration", "dt", "n_neurons") if k not in ds.attrs]
    if missing:
        raise ValueError(f"the Dataset lacks {missing}: not a neurosim_nb network result")
    if ds.sizes["neuron"] != int(ds.attrs["n_neurons"]):
        raise ValueError(f"the Dataset records {ds.sizes['neuron']} of "
                         f"{int(ds.attrs['n_neurons'])} neurons; the ONI export needs every "
                         "neuron recorded (run without record_neurons)")
    return ds


def _layer_names(ds: xr.Dataset, present: set[int]) -> tuple[dict[int, str], str]:
    from neurosim_nb.core.networks.layered import ONI_LAYERS

    raw = ds.attrs.get("layer_names_json")
    given = {}
    if raw:
        try:
            given = {int(k): str(v) for k, v in json.loads(raw).items()}
        except (ValueError, TypeError, AttributeError):
            raise ValueError("the Dataset's layer_names_json attribute is not a JSON object "
                             "{layer: name}") from None
    oni = {k: v[0] for k, v in ONI_LAYERS.items()}
    naming = "neurosim" if given and all(given.get(k) == oni[k] for k in present) and all(
        oni.get(k) == v for k, v in given.items()) else "custom"
    names = {k: given.get(k, oni[k] if naming == "neurosim" else f"Layer {k}")
             for k in range(1, N_LAYERS + 1)}
    return names, naming


def _units(units: set[str]) -> str:
    if not units:
        return "uS"
    return units.pop() if len(units) == 1 else f"mixed ({', '.join(sorted(units))})"


def _weights_from_network(network, ds: xr.Dataset) -> tuple[np.ndarray, str]:
    if not (hasattr(network, "projections") and hasattr(network, "layer_of")):
        raise TypeError(f"network must be a neurosim_nb Network, got {type(network).__name__}")
    if int(network.n_neurons) != int(ds.attrs["n_neurons"]):
        raise ValueError(f"the network has {network.n_neurons} neurons but the result "
                         f"{int(ds.attrs['n_neurons'])}: not the network that was simulated")
    w = np.zeros((N_LAYERS, N_LAYERS))
    units = set()
    for proj in network.projections:
        a, b = network.layer_of.get(proj.pre), network.layer_of.get(proj.post)
        if a is None or b is None or not (1 <= a <= N_LAYERS and 1 <= b <= N_LAYERS):
            continue
        weight = proj.weight
        total = (float(weight) * proj.n_synapses if np.ndim(weight) == 0
                 else float(np.sum(weight, dtype=np.float64)))
        w[a - 1, b - 1] += total
        units.add(proj.receptor.weight_units)
    return w, _units(units)


def _weights_from_dataset(ds: xr.Dataset) -> tuple[np.ndarray, str]:
    try:
        params = json.loads(ds.attrs["params_json"])
        layer_of = {p["name"]: p.get("layer") for p in params.get("populations", [])}
        projections = params.get("projections", [])
    except KeyError:
        raise ValueError("the Dataset has no params_json attribute, so the inter-layer "
                         "weights are unknown; pass the network: export(result, network)"
                         ) from None
    except (ValueError, TypeError, AttributeError):
        raise ValueError("the Dataset's params_json attribute is not valid") from None
    w = np.zeros((N_LAYERS, N_LAYERS))
    units = set()
    for proj in projections:
        a, b = layer_of.get(proj.get("pre")), layer_of.get(proj.get("post"))
        if a is None or b is None or not (1 <= a <= N_LAYERS and 1 <= b <= N_LAYERS):
            continue
        if "weight_sum" not in proj:
            raise ValueError(f"projection {proj.get('name')!r} in params_json has no "
                             "weight_sum (a result of an older version); pass the network: "
                             "export(result, network)")
        w[a - 1, b - 1] += float(proj["weight_sum"])
        units.add(str(proj.get("weight_units", "uS")))
    return w, _units(units)


class ONIExporter:
    """Compute and write ONI Framework exports of layered-network results.

    Parameters
    ----------
    f_ref_hz : float
        Reference frequency of :math:`C_s`'s phase term (Hz; oni-framework's default 40).
    transport_reliabilities : mapping of str to float, optional
        Reliabilities in (0, 1] for :math:`C_s`'s transport term (default
        :data:`DEFAULT_TRANSPORT_RELIABILITIES`).
    synchrony_window_ms : float
        Bin width of Golomb's :math:`\\chi` (ms).
    amplitude_bin_ms : float, optional
        Bin width of the population spike counts used as :math:`C_s` amplitudes (ms;
        default one reference period, ``1000 / f_ref_hz``).

    Raises
    ------
    ValueError
        For a reliability outside (0, 1] or a non-positive frequency or bin.

    Examples
    --------
    >>> ONIExporter(transport_reliabilities={"electrode": 1.5})
    Traceback (most recent call last):
    ...
    ValueError: transport reliability 'electrode' must be in (0, 1], got 1.5
    >>> ONIExporter().amplitude_bin_ms
    25.0
    """

    def __init__(self, f_ref_hz: float = 40.0,
                 transport_reliabilities: Mapping[str, float] | None = None,
                 synchrony_window_ms: float = 5.0, amplitude_bin_ms: float | None = None):
        self.f_ref_hz = _check_positive("f_ref_hz", f_ref_hz)
        self.transport_reliabilities = _check_reliabilities(transport_reliabilities)
        self.synchrony_window_ms = _check_positive("synchrony_window_ms", synchrony_window_ms)
        self.amplitude_bin_ms = (1000.0 / self.f_ref_hz if amplitude_bin_ms is None
                                 else _check_positive("amplitude_bin_ms", amplitude_bin_ms))

    def __repr__(self) -> str:
        return (f"ONIExporter(f_ref_hz={self.f_ref_hz}, synchrony_window_ms="
                f"{self.synchrony_window_ms}, amplitude_bin_ms={self.amplitude_bin_ms})")

    def _cs(self, times: np.ndarray, duration: float) -> float:
        return coherence_score(times, binned_counts(times, duration, self.amplitude_bin_ms),
                               f_ref_hz=self.f_ref_hz,
                               transport_reliabilities=self.transport_reliabilities)

    def export(self, result, network=None) -> ONIExportData:
        """Summarise a layered-network result.

        Parameters
        ----------
        result : SimulationResult or xarray.Dataset
            A network result with a ``layer(neuron)`` coordinate and every neuron recorded.
        network : Network, optional
            The simulated network: the inter-layer weights are summed from its projections.
            Without it they come from the Dataset's ``params_json`` (each projection's
            ``weight_sum`` at the end of the run), so a Dataset loaded from a file exports
            the same.

        Returns
        -------
        ONIExportData

        Raises
        ------
        ValueError
            For a Dataset without a ``layer`` coordinate, layers beyond 14, partial
            recordings, or a network that does not match the result.
        """
        ds = _dataset_of(result)
        duration = float(ds.attrs["duration"])
        ids = np.asarray(ds["neuron"].values, dtype=np.int64)
        layer = np.asarray(ds["layer"].values, dtype=np.int64)
        bad = sorted(set(np.unique(layer).tolist()) - set(range(1, N_LAYERS + 1)) - {-1})
        if bad:
            raise ValueError(f"the ONI export has layers 1..{N_LAYERS}; the result has layers "
                             f"{bad}")
        lookup = np.full(int(ids.max(initial=-1)) + 1, -1, dtype=np.int64)
        lookup[ids] = layer
        local = np.zeros_like(lookup)
        t = np.asarray(ds["spike_time"].values, dtype=np.float64)
        neuron = np.asarray(ds["spike_neuron"].values, dtype=np.int64)
        spike_layer = lookup[neuron] if neuron.size else np.empty(0, dtype=np.int64)
        names, naming = _layer_names(ds, set(layer[layer > 0].tolist()))
        v_mean = self._voltage_means(ds)
        seconds = duration / 1000.0
        metrics = {}
        for k in range(1, N_LAYERS + 1):
            members = ids[layer == k]
            local[members] = np.arange(members.size)
            sel = spike_layer == k
            tk, nk = t[sel], local[neuron[sel]]
            n = int(members.size)
            v = v_mean.get(k, math.nan)
            metrics[k] = LayerMetrics(
                name=names[k], n_neurons=n, n_spikes=int(tk.size),
                mean_rate=float(tk.size / n / seconds) if n else 0.0,
                mean_voltage=float(v),
                synchrony=golomb_synchrony(tk, nk, n, duration, self.synchrony_window_ms)
                if n else 0.0,
                coherence=self._cs(tk, duration))
        if network is not None:
            weights, units = _weights_from_network(network, ds)
        else:
            weights, units = _weights_from_dataset(ds)
        n_all = int(ds.attrs["n_neurons"])
        return ONIExportData(
            layers=metrics, Cs_global=self._cs(t, duration), duration_ms=duration,
            dt_ms=float(ds.attrs["dt"]), n_neurons=n_all, total_spikes=int(t.size),
            mean_rate_hz=float(t.size / n_all / seconds) if n_all else 0.0,
            inter_layer_weights=weights, weight_units=units, layer_naming=naming,
            f_ref_hz=self.f_ref_hz, transport_reliabilities=dict(self.transport_reliabilities),
            amplitude_bin_ms=self.amplitude_bin_ms,
            synchrony_window_ms=self.synchrony_window_ms)

    @staticmethod
    def _voltage_means(ds: xr.Dataset) -> dict[int, float]:
        """Mean V (mV) over time and each layer's recorded neurons ({} without V)."""
        if "V" not in ds or set(ds["V"].dims) != {"time", "neuron"}:
            return {}
        per_neuron = ds["V"].mean("time")
        layers = per_neuron["layer"].values if "layer" in per_neuron.coords else None
        if layers is None or per_neuron.sizes["neuron"] == 0:
            return {}
        vals = np.asarray(per_neuron.values, dtype=np.float64)
        out = {}
        for k in np.unique(layers):
            if 1 <= k <= N_LAYERS:
                m = float(vals[layers == k].mean())
                if math.isfinite(m):
                    out[int(k)] = m
        return out

    def save(self, data: ONIExportData, path, fmt: ONIDataFormat | str = ONIDataFormat.ONI_NATIVE
             ) -> Path:
        """Write ``data`` to ``path`` atomically (no partial file on failure).

        Parameters
        ----------
        data : ONIExportData
        path : str or path-like
        fmt : ONIDataFormat or str
            ``ONI_NATIVE`` (native JSON), ``JSON`` (plain per-layer JSON) or ``NUMPY``
            (``.npz``, written to ``path`` as given); a string names a member or value
            (``"json"``).

        Returns
        -------
        Path
            The written file.

        Raises
        ------
        ExportError
            If ``path`` cannot be written (missing or unwritable folder, a folder).
        """
        if not isinstance(data, ONIExportData):
            raise TypeError(f"save needs ONIExportData, got {type(data).__name__}")
        fmt = _format(fmt)
        if fmt is ONIDataFormat.NUMPY:
            arrays = data.to_arrays()
            with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
        else:
            doc = data.to_native_dict() if fmt is ONIDataFormat.ONI_NATIVE else (
                data.to_plain_dict())
            text = _dumps(doc) + "\n"
            with atomic_path(path) as tmp:
                tmp.write_text(text, encoding="utf-8")
        return Path(path).expanduser()

    @staticmethod
    def load(path) -> dict:
        """:func:`load_oni` (read and validate a saved export)."""
        return load_oni(path)


def _format(fmt) -> ONIDataFormat:
    if isinstance(fmt, ONIDataFormat):
        return fmt
    if isinstance(fmt, str):
        for member in ONIDataFormat:
            if fmt.lower() in (member.value, member.name.lower()):
                return member
    raise ValueError(f"unknown format {fmt!r}; use one of "
                     f"{[m.name for m in ONIDataFormat]}")


# -- schema and reading --------------------------------------------------------------------
_SCHEMA: dict | None = None


def oni_schema() -> dict:
    """The JSON Schema (draft 2020-12) of the native document (``$defs/plain_document``:
    the plain variant), read from ``oni_schema.json`` beside this module."""
    global _SCHEMA
    if _SCHEMA is None:
        text = (importlib.resources.files("neurosim_nb.export") / "oni_schema.json").read_text(
            encoding="utf-8")
        _SCHEMA = json.loads(text)
    return json.loads(json.dumps(_SCHEMA))  # a copy


_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "number": is_number,
    "integer": is_integer,
}
_ANNOTATIONS = {"$schema", "$id", "$defs", "title", "description", "format", "$comment"}


def _check(value, schema: dict, root: dict, where: str) -> None:
    """A validator for the JSON Schema keywords ``oni_schema.json`` uses (so reading needs
    no jsonschema package; the tests check it agrees with jsonschema)."""
    def fail(msg: str):
        raise ValueError(f"at {where or '/'}: {msg}")

    for key, arg in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key == "$ref":
            if not arg.startswith("#/$defs/"):
                raise ValueError(f"unsupported $ref {arg!r}")
            _check(value, root["$defs"][arg[len("#/$defs/"):]], root, where)
        elif key == "type":
            types = [arg] if isinstance(arg, str) else arg
            if not any(_TYPES[t](value) for t in types):
                fail(f"{value!r:.60} is not of type {' or '.join(types)}")
        elif key == "const":
            if value != arg:
                fail(f"{value!r:.60} is not {arg!r}")
        elif key == "enum":
            if value not in arg:
                fail(f"{value!r:.60} is not one of {arg}")
        elif key in ("minimum", "maximum", "exclusiveMinimum"):
            if _TYPES["number"](value) and not (
                    (key == "minimum" and value >= arg) or (key == "maximum" and value <= arg)
                    or (key == "exclusiveMinimum" and value > arg)):
                fail(f"{value!r} violates {key} {arg}")
        elif key == "minLength":
            if isinstance(value, str) and len(value) < arg:
                fail(f"{value!r:.60} is shorter than {arg}")
        elif key == "pattern":
            if isinstance(value, str) and not re.search(arg, value):
                fail(f"{value!r:.60} does not match {arg!r}")
        elif key in ("minItems", "maxItems"):
            if isinstance(value, list) and not (
                    len(value) >= arg if key == "minItems" else len(value) <= arg):
                fail(f"{len(value)} items violate {key} {arg}")
        elif key == "items":
            if isinstance(value, list):
                for i, v in enumerate(value):
                    _check(v, arg, root, f"{where}/{i}")
        elif key == "required":
            if isinstance(value, dict):
                missing = [k for k in arg if k not in value]
                if missing:
                    fail(f"missing required keys {missing}")
        elif key == "properties":
            if isinstance(value, dict):
                for k, sub in arg.items():
                    if k in value:
                        _check(value[k], sub, root, f"{where}/{k}")
        elif key == "additionalProperties":
            if isinstance(value, dict):
                extra = [k for k in value if k not in schema.get("properties", {})]
                if arg is False and extra:
                    fail(f"unexpected keys {extra}")
                if isinstance(arg, dict):
                    for k in extra:
                        _check(value[k], arg, root, f"{where}/{k}")
        elif key == "propertyNames":
            if isinstance(value, dict):
                for k in value:
                    _check(k, arg, root, f"{where} (key {k!r})")
        else:
            raise ValueError(f"unsupported schema keyword {key!r}")


def validate_oni_document(doc) -> None:
    """Check a native or plain document against ``oni_schema.json``.

    Raises
    ------
    ValueError
        Naming the first offending place, e.g. ``at /coherence_analysis/Cs_global: 1.5
        violates maximum 1``.

    Examples
    --------
    >>> validate_oni_document({"version": "1.0", "type": "something_else"})
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: not an ONI export: type is 'something_else', expected one of [...]
    """
    if not isinstance(doc, dict):
        raise ValueError(f"not an ONI export: the document is a {type(doc).__name__}, "
                         "not a JSON object")
    schema = oni_schema()
    kinds = {NATIVE_TYPE: schema, PLAIN_TYPE: schema["$defs"]["plain_document"]}
    if doc.get("type") not in kinds:
        raise ValueError(f"not an ONI export: type is {doc.get('type')!r}, expected one of "
                         f"{list(kinds)}")
    if doc.get("version") != FORMAT_VERSION:
        raise ValueError(f"unsupported ONI export version {doc.get('version')!r}; this "
                         f"reader knows {FORMAT_VERSION!r}")
    _check(doc, kinds[doc["type"]], schema, "")


def load_oni(path) -> dict:
    """Read an ONI export written by :meth:`ONIExporter.save` and validate it.

    Parameters
    ----------
    path : str or path-like
        A native or plain JSON document, or an ``.npz`` written with
        ``ONIDataFormat.NUMPY`` (recognised by its content).

    Returns
    -------
    dict
        The JSON document; for an ``.npz`` the native document it holds (its arrays are
        checked against it).

    Raises
    ------
    ExportError
        For a missing, unreadable, truncated, corrupt or foreign file or one that does not
        satisfy the schema, naming the file and the problem.
    """
    p = readable_path(path)
    with p.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(b"PK"):
        doc = _load_npz(p)
    else:
        try:
            doc = parse_json(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise ExportError(f"{p} is not a valid JSON file: {err}") from None
        except OSError as err:
            raise ExportError(f"cannot read {p}: {err.strerror or err}") from None
    try:
        validate_oni_document(doc)
    except (ValueError, TypeError, KeyError) as err:
        raise ExportError(f"{p}: {err}") from None
    return doc


def _load_npz(p: Path) -> dict:
    from neurosim_nb.export._atomic import FileTooLargeError
    from neurosim_nb.export.formats import read_npz

    try:
        arrays = read_npz(p)  # each entry checked against its header before it is allocated
    except FileTooLargeError:
        raise
    except ExportError as err:
        reason = str(err).split(f"{p}: ", 1)[-1]
        raise ExportError(f"{p} is not a readable .npz file: {reason}") from None
    if "native_json" not in arrays:
        raise ExportError(f"{p} is an .npz file but not an ONI export (no native_json)")
    if arrays["native_json"].shape != () or arrays["native_json"].dtype.kind != "U":
        raise ExportError(f"{p}: its native_json entry is not a JSON string")
    try:
        doc = parse_json(str(arrays["native_json"]))
    except ValueError as err:
        raise ExportError(f"{p}: the embedded native document is not valid JSON: {err}"
                          ) from None
    try:
        validate_oni_document(doc)
        w = np.asarray(doc["connectivity"]["inter_layer_weights"], dtype=np.float64)
        coh = [doc["coherence_analysis"]["layer_coherences"][k] for k in LAYER_KEYS]
        if not (np.array_equal(arrays["inter_layer_weights"], w)
                and np.array_equal(arrays["coherence"], np.asarray(coh, dtype=np.float64))):
            raise ValueError("its arrays disagree with its native document")
    except (ValueError, KeyError, TypeError) as err:
        raise ExportError(f"{p}: {err}") from None
    return doc

