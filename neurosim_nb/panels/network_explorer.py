"""The network explorer: build a spiking network, drive it, watch it fire.

Four network types, each a factory of :mod:`neurosim_nb.core.networks`:

* **Balanced E/I** -- :meth:`RecurrentNetwork.create_balanced` (Brunel 2000): ``p`` is the
  connection probability epsilon, ``g`` the relative inhibitory weight (the status shows
  the external drive as Brunel's eta, see :func:`brunel_eta`);
* **Layered** -- :meth:`LayeredNetwork.create_simple`: ``p`` is the feedforward
  probability, ``g`` the GABA-A / feedforward AMPA weight ratio, input goes to layer 1;
* **ONI 14-layer** -- :meth:`LayeredNetwork.create_oni_model` (neurons per layer = size /
  13.1), as the layered case;
* **Small-world** -- :meth:`SmallWorldNetwork.create_watts_strogatz`: ``k`` neighbours,
  ``p`` rewiring probability, ``g`` the GABA-A / AMPA weight ratio, input to all neurons.

Rate input is Poisson, the same for every type: 100 afferents per neuron at the given rate,
each spike a 0.5 mV kick (mean drive = rate x 100 x 0.5 mV x tau_m: at 20 Hz a LIF neuron
with tau_m = 20 ms is driven exactly to its 20 mV threshold, so eta = rate / 20 Hz
whatever the network size); current input is a constant current (nA).

State, view and controls are kept apart (STYLE.md section 6): :class:`NetworkSettings`
plus :func:`run_network` are the state (a pure function of the settings, testable
without widgets); :mod:`neurosim_nb.plotting.network` the view; the widgets only edit
settings. **Every control change re-simulates** (no Run button): at the default sizes
(655-1000 neurons, 500 ms) a run takes 0.1-0.4 s, so the plots follow the controls live,
which is what a learner exploring g or the input wants. Runs happen in a background thread
with a progress bar fed by the engine; changes made during a run are queued (the latest
values win, intermediate ones are skipped), so long runs never block the page.

``panel.result`` holds spikes of **all** neurons (coords ``population`` and ``layer``) and
``V`` of a few recorded neurons along a ``recorded_neuron`` dimension (``V`` of 1000
neurons at every step would be 80 MB per second simulated), so it exports in full.
"""

from __future__ import annotations

import html
import time
import traceback
from dataclasses import asdict, dataclass, replace
from typing import Any

import ipywidgets as W
import numpy as np
import xarray as xr
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource
from jupyter_bokeh.widgets import BokehModel

from neurosim_nb.panels._background import EXPECTED_ERRORS, BackgroundJob
from neurosim_nb.panels._hold import HoldsUpdates
from neurosim_nb.panels._status import rejected_html
from neurosim_nb.plotting import network as views

__all__ = ["NetworkExplorer", "ONIExplorer", "NetworkSettings", "NETWORK_TYPES", "DEFAULTS",
           "build_network", "run_network", "brunel_eta", "record_ids", "parse_neuron_ids",
           "SOURCE_NAMES"]

NETWORK_TYPES = ("Balanced E/I", "Layered", "ONI 14-layer", "Small-world")
#: per-type defaults applied when the network type changes
DEFAULTS: dict[str, dict[str, Any]] = {
    "Balanced E/I": dict(n_neurons=1000, p=0.1, g=4.0, rate_hz=17.0, current_nA=0.25),
    "Layered": dict(n_neurons=600, n_layers=3, p=0.3, g=4.0, rate_hz=20.0, current_nA=0.3),
    "ONI 14-layer": dict(n_neurons=655, p=0.2, g=3.0, rate_hz=20.0, current_nA=0.3),
    "Small-world": dict(n_neurons=1000, k=4, p=0.1, g=6.0, rate_hz=20.0, current_nA=0.25),
}
#: ONI layer size factors sum to 13.1: neurons per layer = n_neurons / ONI_SIZE_SUM
ONI_SIZE_SUM = 13.1
#: Poisson input of layered and small-world networks: afferents per neuron and kick (mV)
N_AFFERENTS, KICK_MV = 100, 0.5
#: at most this many neurons get V recorded; auto picks AUTO_V_TRACES
MAX_V_TRACES, AUTO_V_TRACES = 10, 4
#: connectivity heat maps show single neurons up to this size, groups above
HEATMAP_NEURON_LEVEL_MAX = 120
#: raster points sent to the browser at most (more: every k-th neuron's spikes)
MAX_RASTER_POINTS = 60_000
#: names of the ColumnDataSources (find them in the browser via Bokeh.documents)
SOURCE_NAMES = {"raster": "neurosim-raster", "rate": "neurosim-rate",
                "groups": "neurosim-group-rates", "voltage": "neurosim-voltages",
                "heatmap": "neurosim-connectivity", "oni": "neurosim-oni-metrics"}
DT_MS = 0.1


@dataclass(frozen=True)
class NetworkSettings:
    """Everything a run depends on (the panel's state besides the result).

    ``record_v``: global ids whose ``V`` is recorded (``None``: a few, one per group).
    """

    network: str = "Balanced E/I"
    n_neurons: int = 1000
    n_layers: int = 3
    p: float = 0.1
    k: int = 4
    g: float = 4.0
    input_kind: str = "rate"
    rate_hz: float = 17.0
    current_nA: float = 0.25
    duration_ms: float = 500.0
    seed: int = 0
    record_v: tuple[int, ...] | None = None

    @classmethod
    def for_network(cls, network: str, **overrides: Any) -> NetworkSettings:
        """The defaults of ``network`` (:data:`DEFAULTS`) with ``overrides``."""
        if network not in DEFAULTS:
            raise ValueError(f"unknown network type {network!r}; choose one of "
                             f"{list(NETWORK_TYPES)}")
        return cls(network=network, **{**DEFAULTS[network], **overrides})

    def basename(self) -> str:
        """File name stem of exports, e.g. ``balanced_ei_N1000_seed0``."""
        kind = self.network.lower().replace("/", "").replace(" ", "_").replace("-", "_")
        return f"{kind}_N{self.n_neurons}_seed{self.seed}"


def _check(s: NetworkSettings) -> None:
    if s.network not in NETWORK_TYPES:
        raise ValueError(f"unknown network type {s.network!r}; choose one of "
                         f"{list(NETWORK_TYPES)}")
    if s.input_kind not in ("rate", "current"):
        raise ValueError(f"input_kind must be 'rate' or 'current', got {s.input_kind!r}")
    if not (s.rate_hz >= 0 and np.isfinite(s.rate_hz)):
        raise ValueError(f"input rate must be >= 0 Hz, got {s.rate_hz}")
    if not (s.g >= 0 and np.isfinite(s.g)):
        raise ValueError(f"g must be >= 0, got {s.g}")
    if not (s.duration_ms > 0):
        raise ValueError(f"duration must be > 0 ms, got {s.duration_ms}")


def build_network(s: NetworkSettings):
    """Build the network of ``s`` and its extra stimuli.

    Returns
    -------
    (Network, dict)
        The network and ``{population: [stimulus]}`` for ``simulate(stimuli=...)``.

    Raises
    ------
    ValueError
        For a combination the factory rejects (its message says what is allowed).
    """
    from neurosim_nb import LayeredNetwork, RecurrentNetwork, SmallWorldNetwork
    from neurosim_nb.core.networks.small_world import W_EXC
    from neurosim_nb.stimuli import ConstantCurrent, PoissonInput

    _check(s)
    rate = s.input_kind == "rate"
    poisson = [PoissonInput(rate_hz=float(s.rate_hz), weight_mV=KICK_MV, n_sources=N_AFFERENTS)]
    current = [ConstantCurrent(float(s.current_nA))]
    if s.network == "Balanced E/I":
        net = RecurrentNetwork.create_balanced(int(s.n_neurons), float(s.g), eta=0.0,
                                               epsilon=float(s.p), seed=int(s.seed))
        return net, {name: poisson if rate else current for name in net.populations}
    if s.network == "Small-world":
        net = SmallWorldNetwork.create_watts_strogatz(
            n=int(s.n_neurons), k=int(s.k), p=float(s.p), weight_inh=float(s.g) * W_EXC,
            seed=int(s.seed))
        return net, {"neurons": poisson if rate else current}
    if s.network == "ONI 14-layer":
        npl = max(1, int(round(s.n_neurons / ONI_SIZE_SUM)))
        probe = LayeredNetwork.create_oni_model(neurons_per_layer=npl, sensory_input_hz=0.0,
                                                feedforward_prob=float(s.p), seed=int(s.seed))
        ff = probe.params.weights_uS()["feedforward"]
        net = LayeredNetwork.create_oni_model(
            neurons_per_layer=npl, sensory_input_hz=float(s.rate_hz) if rate else 0.0,
            feedforward_prob=float(s.p), feedforward_weight=ff, inhibitory_weight=float(s.g) * ff,
            seed=int(s.seed))
        stim = {} if rate else {name: current for name in net.layer_populations(1)}
        return net, stim
    n_layers = int(s.n_layers)
    if n_layers < 1:
        raise ValueError(f"the number of layers must be >= 1, got {n_layers}")
    npl = int(s.n_neurons) // n_layers
    if npl < 1:
        raise ValueError(f"{s.n_neurons} neurons cannot fill {n_layers} layers")
    from neurosim_nb.core.networks.layered import LayeredNetworkParameters

    ff = LayeredNetworkParameters(n_layers=n_layers, neurons_per_layer=npl,
                                  feedforward_prob=float(s.p)).weights_uS()["feedforward"]
    net = LayeredNetwork.create_simple(n_layers, npl, feedforward_prob=float(s.p),
                                       feedforward_weight=ff, inhibitory_weight=float(s.g) * ff,
                                       seed=int(s.seed))
    return net, {name: poisson if rate else current for name in net.layer_populations(1)}


def brunel_eta(s: NetworkSettings, net) -> float:
    """The Poisson input of a balanced network as Brunel's eta = nu_ext / nu_thr: its mean
    drive (rate x afferents x kick x tau_m) over the threshold distance theta.

    >>> from neurosim_nb import RecurrentNetwork
    >>> net = RecurrentNetwork.create_balanced(200, 4.0, eta=0.0, seed=0)
    >>> brunel_eta(NetworkSettings(rate_hz=17.0), net)
    0.85
    """
    b = net.brunel
    drive_mV = s.rate_hz * N_AFFERENTS * KICK_MV * b["tau_m"] / 1000.0
    return round(drive_mV / b["theta"], 12)


def _group_starts(net) -> list[np.ndarray]:
    """Global ids of each layer (layered nets) or population, in id order."""
    if getattr(net, "layer_of", None) and hasattr(net, "layer"):
        return [net.layer(k) for k in range(1, net.n_layers + 1)]
    return [net.neuron_ids(name) for name in net.populations]


def record_ids(s: NetworkSettings, net) -> np.ndarray:
    """Global ids whose V is recorded: ``s.record_v``, or :data:`AUTO_V_TRACES` neurons
    taken in turn from evenly spaced groups (layers or populations)."""
    n = net.n_neurons
    if s.record_v is not None:
        ids = np.asarray(s.record_v, dtype=np.int64)
        bad = ids[(ids < 0) | (ids >= n)]
        if bad.size:
            raise ValueError(f"neuron {int(bad[0])} does not exist: this network has neuron "
                             f"ids 0..{n - 1}")
        return np.unique(ids)
    groups = _group_starts(net)
    picks = np.unique(np.linspace(0, len(groups) - 1, min(len(groups), AUTO_V_TRACES))
                      .round().astype(int))
    chosen: list[int] = []
    depth = 0
    while len(chosen) < min(AUTO_V_TRACES, n):
        added = False
        for g in picks:
            if depth < groups[g].size and len(chosen) < AUTO_V_TRACES:
                chosen.append(int(groups[g][depth]))
                added = True
        if not added:
            break
        depth += 1
    return np.unique(np.array(chosen, dtype=np.int64))


def parse_neuron_ids(text: str) -> tuple[int, ...] | None:
    """Neuron ids typed in the "V of neurons" box: ``""`` or ``"auto"`` -> ``None``.

    >>> parse_neuron_ids("0, 800 ,5"), parse_neuron_ids(" auto ")
    ((0, 800, 5), None)
    >>> parse_neuron_ids("3, x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: V of neurons: 'x' is not a neuron id; type up to 10 ids separated by commas...
    """
    text = text.strip()
    if text.lower() in ("", "auto"):
        return None
    out = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(int(part))
        except ValueError:
            raise ValueError(f"V of neurons: {part!r} is not a neuron id; type up to "
                             f"{MAX_V_TRACES} ids separated by commas (e.g. 0, 800) or "
                             f"'auto'") from None
    if len(out) > MAX_V_TRACES:
        raise ValueError(f"V of neurons: at most {MAX_V_TRACES} neurons, got {len(out)}")
    return tuple(out) if out else None


def _with_all_neurons(ds: xr.Dataset, net) -> xr.Dataset:
    """A run recorded for a neuron subset -> spikes and coords of all neurons, ``V`` of the
    subset along ``recorded_neuron``."""
    v = ds["V"].rename(neuron="recorded_neuron")
    v = v.drop_vars([c for c in v.coords if c not in ("time", "recorded_neuron")])
    v = v.assign_coords(recorded_neuron=("recorded_neuron", v["recorded_neuron"].values,
                                         {"units": "1",
                                          "long_name": "neuron id of the recorded V"}))
    ids = np.arange(net.n_neurons, dtype=np.int64)
    pops = np.empty(net.n_neurons, dtype=object)
    layers = np.full(net.n_neurons, -1, dtype=np.int64)
    for name, start in net.offsets().items():
        stop = start + net.populations[name].n
        pops[start:stop] = name
        layers[start:stop] = net.layer_of.get(name, -1)
    out = ds.drop_vars("V").drop_dims("neuron")
    coords = {"neuron": ("neuron", ids, ds["neuron"].attrs),
              "population": ("neuron", pops, ds["population"].attrs)}
    if "layer" in ds.coords:
        coords["layer"] = ("neuron", layers, ds["layer"].attrs)
    out = out.assign_coords(coords)
    data = {"V": v, **{k: out[k] for k in out.data_vars}}
    return xr.Dataset(data, coords=out.coords, attrs=ds.attrs)


def run_network(s: NetworkSettings, progress=None) -> tuple[xr.Dataset, Any]:
    """Build and simulate the network of ``s``.

    Parameters
    ----------
    s : NetworkSettings
    progress : callable, optional
        ``progress(done_steps, total_steps)``, called from the engine loop.

    Returns
    -------
    (xarray.Dataset, Network)
        The result (all neurons' spikes; ``V`` of :func:`record_ids` along
        ``recorded_neuron``) and the network.

    Examples
    --------
    >>> s = NetworkSettings.for_network("Balanced E/I", n_neurons=200, duration_ms=100.0)
    >>> ds, net = run_network(s)
    >>> ds.sizes["neuron"], ds.sizes["recorded_neuron"], ds.V.dims
    (200, 4, ('time', 'recorded_neuron'))
    """
    net, stimuli = build_network(s)
    ids = record_ids(s, net)
    ds = net.simulate(float(s.duration_ms), dt=DT_MS, seed=int(s.seed), record=("V",),
                      record_neurons=ids, stimuli=stimuli, verbose=False, progress=progress)
    return _with_all_neurons(ds, net), net


# -- the panel ---------------------------------------------------------------------------
def _slider(cls, description: str, tooltip: str, css: str, **kw) -> W.ValueWidget:
    w = cls(description=description, tooltip=tooltip, continuous_update=False,
            style={"description_width": "120px"}, layout=W.Layout(width="330px"), **kw)
    w.add_class(f"neurosim-{css}")
    return w


_P_LABELS = {"Balanced E/I": ("Conn. prob. ε", "connection probability epsilon (in-degree "
                              "C = epsilon N)"),
             "Layered": ("Feedforward p", "probability of a synapse from layer i to i+1"),
             "ONI 14-layer": ("Feedforward p", "probability of a synapse from layer i to i+1"),
             "Small-world": ("Rewiring p", "probability of rewiring each ring edge "
                             "(0: regular ring, 1: random graph)")}
_G_TIPS = {"Balanced E/I": "inhibitory weight / excitatory weight (Brunel's g; 4 balances "
                           "the 4x more excitatory inputs)",
           "Layered": "GABA-A / feedforward AMPA peak conductance",
           "ONI 14-layer": "GABA-A / feedforward AMPA peak conductance (ONI default 3)",
           "Small-world": "GABA-A / AMPA peak conductance"}


class NetworkExplorer(HoldsUpdates):
    """Interactive network panel: type, size, connectivity, g, input, duration, seed.

    Parameters
    ----------
    network : str
        One of :data:`NETWORK_TYPES`.
    background : bool
        Run simulations in a background thread (default; keeps the page responsive).
        With ``False`` every change simulates before returning (scripts, tests).
    lock_network : bool
        Hide the network-type chooser (an app about one network).
    width : int
        Width of the main figures (pixels).
    **settings
        Overrides of :meth:`NetworkSettings.for_network` (``n_neurons``, ``g``, ...).

    Attributes
    ----------
    result : xarray.Dataset
        The latest successful run (see :func:`run_network`).
    network : Network
        Its network.
    settings : NetworkSettings
        Its settings.
    error : str or None
        The message of the last rejected change.
    sources : dict of str to ColumnDataSource
        ``raster``, ``rate``, ``groups``, ``voltage``, ``heatmap`` (named
        :data:`SOURCE_NAMES`).
    export : ExportControl

    Examples
    --------
    >>> panel = NetworkExplorer("Balanced E/I", n_neurons=200, duration_ms=200.0,
    ...                         background=False)
    >>> panel.result.sizes["neuron"], panel.settings.g
    (200, 4.0)
    >>> panel.controls["g"].value = 6.0       # what moving the slider does
    >>> panel.result.attrs["params_json"] != "", panel.settings.g
    (True, 6.0)
    >>> panel.controls["record_v"].value = "0, 5000"
    >>> print(panel.error)
    neuron 5000 does not exist: this network has neuron ids 0..199
    """

    def __init__(self, network: str = "Balanced E/I", *, background: bool = True,
                 lock_network: bool = False, width: int = 640, **settings: Any):
        from neurosim_nb.panels.export_control import ExportControl

        s = NetworkSettings.for_network(network, **settings)
        self.background = bool(background)
        self.result: xr.Dataset | None = None
        self.network = None
        self.settings: NetworkSettings | None = None
        self.error: str | None = None
        self.n_runs = 0
        self.last_run_s = 0.0
        self.last_update_s = 0.0
        self._hold_depth = 0
        # no debounce; a run in progress ends and shows its result, changes made meanwhile
        # are queued (the latest values win)
        self._job = BackgroundJob(0.0, background=self.background, supersede=False)
        self._heatmap_key: tuple | None = None
        self._groups_key: tuple | None = None

        c: dict[str, W.ValueWidget] = {}
        c["network"] = W.Dropdown(options=list(NETWORK_TYPES), value=s.network,
                                  description="Network", style={"description_width": "120px"},
                                  layout=W.Layout(width="330px"))
        c["network"].add_class("neurosim-network")
        c["n_neurons"] = _slider(W.IntSlider, "Neurons", "total number of neurons (ONI: "
                                 "neurons per layer = N / 13.1)", "n-neurons", min=50,
                                 max=5000, step=10, value=int(s.n_neurons))
        c["n_layers"] = _slider(W.IntSlider, "Layers", "number of layers (layered network)",
                                "n-layers", min=2, max=14, value=int(s.n_layers))
        c["p"] = _slider(W.FloatSlider, "p", "", "p", min=0.0, max=1.0, step=0.01,
                         value=float(s.p), readout_format=".2f")
        c["k"] = _slider(W.IntSlider, "Neighbours k", "ring neighbours per neuron (even)",
                         "k", min=2, max=40, step=2, value=int(s.k))
        c["g"] = _slider(W.FloatSlider, "g (inh / exc)", "", "g", min=0.0, max=10.0,
                         step=0.1, value=float(s.g), readout_format=".1f")
        c["input_kind"] = W.ToggleButtons(options=[("Poisson rate", "rate"),
                                                   ("Current", "current")],
                                          value=s.input_kind, description="Input",
                                          style={"description_width": "50px",
                                                 "button_width": "100px"})
        c["input_kind"].add_class("neurosim-input-kind")
        c["rate_hz"] = _slider(W.FloatSlider, "Input rate (Hz)", "Poisson rate of each of 100 "
                               "afferents per neuron (0.5 mV kicks; 20 Hz reaches threshold)",
                               "rate", min=0.0, max=100.0, step=0.5, value=float(s.rate_hz),
                               readout_format=".1f")
        c["current_nA"] = _slider(W.FloatSlider, "Input current (nA)", "constant current "
                                  "(0.2 nA brings a resting LIF neuron to threshold)",
                                  "current", min=0.0, max=1.0, step=0.01,
                                  value=float(s.current_nA), readout_format=".2f")
        c["duration_ms"] = _slider(W.FloatSlider, "Duration (ms)", "simulated time",
                                   "duration", min=100.0, max=3000.0, step=50.0,
                                   value=float(s.duration_ms), readout_format=".0f")
        c["seed"] = W.BoundedIntText(value=int(s.seed), min=0, max=2**31 - 1,
                                     description="Seed", style={"description_width": "50px"},
                                     layout=W.Layout(width="160px"))
        c["seed"].add_class("neurosim-seed")
        c["record_v"] = W.Text(value="" if s.record_v is None else
                               ", ".join(map(str, s.record_v)), placeholder="auto",
                               description="V of neurons", continuous_update=False,
                               tooltip="neuron ids whose membrane potential is recorded, "
                                       "e.g. 0, 800 (empty: one per group)",
                               style={"description_width": "90px"},
                               layout=W.Layout(width="330px"))
        c["record_v"].add_class("neurosim-record-v")
        self.controls = c
        self.progress = W.FloatProgress(value=0.0, min=0.0, max=1.0, description="",
                                        bar_style="info", layout=W.Layout(width="200px",
                                                                          visibility="hidden"))
        self.progress.add_class("neurosim-progress")
        self.status = W.HTML(layout=W.Layout(min_height="2.2em"))
        self.status.add_class("neurosim-status")
        self.export = ExportControl(basename=s.basename())

        self.sources = {k: ColumnDataSource(data, name=SOURCE_NAMES[k]) for k, data in (
            ("raster", {"t": [], "neuron": [], "group": []}),
            ("rate", {"t": [], "rate": []}),
            ("groups", {"x": [], "rate": [], "group": [], "label": []}),
            ("voltage", {"xs": [], "ys": [], "label": [], "group": []}),
            ("heatmap", views.heatmap_columns(np.zeros((1, 1)))))}
        self.raster_figure = views.raster_figure(self.sources["raster"], width=width)
        self.rate_figure = views.rate_figure(self.sources["rate"], self.raster_figure.x_range,
                                             width=width)
        self.voltage_figure = views.voltage_traces_figure(
            self.sources["voltage"], self.raster_figure.x_range, width=width)
        self.group_figure = views.group_rate_figure(self.sources["groups"])
        self.heatmap_figure = views.heatmap_figure(self.sources["heatmap"])
        self._layout = self._bokeh_layout()

        for w in c.values():
            w.observe(self._on_change, names="value")
        self._apply_visibility(s.network)
        self.update()                       # first run: synchronous, so .result exists
        # BokehModel serialises the document when created: after the first run (see
        # NeuronExplorer); _repr_mimebundle_ refreshes it for a later display.
        self.plot = BokehModel(self._layout)
        self.plot.add_class("neurosim-plot")
        self.widget = self._widget(lock_network)
        self.widget.add_class("neurosim-network-explorer")

    # -- layout ----------------------------------------------------------------------------
    def _bokeh_layout(self):
        return row(column(self.raster_figure, self.rate_figure, self.voltage_figure),
                   column(self.group_figure, self.heatmap_figure))

    def _widget(self, lock_network: bool) -> W.VBox:
        c = self.controls
        first = [c["n_neurons"], c["n_layers"]] if lock_network else [c["network"],
                                                                      c["n_neurons"]]
        if not lock_network:
            first.append(c["n_layers"])
        return W.VBox([
            W.HBox(first, layout=W.Layout(flex_flow="row wrap")),
            W.HBox([c["p"], c["k"], c["g"]], layout=W.Layout(flex_flow="row wrap")),
            W.HBox([c["input_kind"], c["rate_hz"], c["current_nA"]],
                   layout=W.Layout(flex_flow="row wrap")),
            W.HBox([c["duration_ms"], c["seed"], c["record_v"]],
                   layout=W.Layout(flex_flow="row wrap")),
            W.HBox([self.progress, self.status], layout=W.Layout(align_items="center")),
            self.plot,
            self.export.widget,
        ])

    def _apply_visibility(self, network: str) -> None:
        c = self.controls
        c["n_layers"].layout.display = None if network == "Layered" else "none"
        c["k"].layout.display = None if network == "Small-world" else "none"
        label, tip = _P_LABELS[network]
        c["p"].description, c["p"].tooltip = label, tip
        c["g"].tooltip = _G_TIPS[network]
        rate = c["input_kind"].value == "rate"
        c["rate_hz"].layout.display = None if rate else "none"
        c["current_nA"].layout.display = "none" if rate else None

    # -- settings <-> widgets --------------------------------------------------------------
    def settings_from_widgets(self) -> NetworkSettings:
        """The settings the widgets show (raises ValueError for an unreadable neuron list)."""
        c = self.controls
        return NetworkSettings(
            network=c["network"].value, n_neurons=int(c["n_neurons"].value),
            n_layers=int(c["n_layers"].value), p=float(c["p"].value), k=int(c["k"].value),
            g=float(c["g"].value), input_kind=c["input_kind"].value,
            rate_hz=float(c["rate_hz"].value), current_nA=float(c["current_nA"].value),
            duration_ms=float(c["duration_ms"].value), seed=int(c["seed"].value),
            record_v=parse_neuron_ids(c["record_v"].value))

    def set_settings(self, settings: NetworkSettings | None = None, **changes: Any) -> None:
        """Show ``settings`` (with ``changes``) in the widgets and re-simulate once."""
        s = replace(settings or self.settings_from_widgets(), **changes)
        with self._hold():
            for name, value in asdict(s).items():
                if name == "record_v":
                    value = "" if value is None else ", ".join(map(str, value))
                self.controls[name].value = value
            self._apply_visibility(s.network)
        self.request()

    def _on_change(self, change: dict) -> None:
        if self._hold_depth:
            return
        owner = change["owner"]
        if owner is self.controls["network"]:
            with self._hold():            # a new type starts from its own defaults
                for name, value in DEFAULTS[change["new"]].items():
                    self.controls[name].value = value
                self.controls["record_v"].value = ""
        self._apply_visibility(self.controls["network"].value)
        self.request()

    # -- running -----------------------------------------------------------------------------
    def request(self) -> None:
        """Re-simulate with the widgets' values: now (``background=False``), in a
        background thread, or -- if a run is going on -- once it ends (queued; only the
        latest values are run)."""
        if self._job.busy:
            self._set_status(self.status.value.split("<br>")[0]
                             + '<br><span style="color:#666">change queued: runs when the '
                             "current simulation ends</span>")
        self._job.submit(lambda progress: self._run_once(), self._report_failure)

    def _report_failure(self, result: xr.Dataset | None, error: BaseException | None) -> None:
        if error is None:
            return
        self.error = f"unexpected {type(error).__name__}: {error}"
        self._set_status(f'<span style="color:#b00020"><b>Internal error:</b> '
                         f"{html.escape(self.error)}</span>")
        traceback.print_exception(error)   # to the kernel's log (Voila's console)

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until no run is going on or queued; True unless ``timeout`` (s) passed."""
        return self._job.wait(timeout)

    @property
    def running(self) -> bool:
        """Whether a run is going on or queued."""
        return self._job.busy

    def update(self) -> xr.Dataset | None:
        """Simulate with the widgets' values in this thread and refresh the views.

        Returns the new result, or ``None`` if the values were rejected (then
        :attr:`error` holds the message and :attr:`result` the previous run).
        """
        return self._job.run_now(lambda progress: self._run_once())

    def _progress(self, done: int, total: int) -> None:
        self.progress.value = done / total if total else 1.0
        self.progress.description = f"{100 * self.progress.value:.0f} %"

    def _run_once(self) -> xr.Dataset | None:
        t0 = time.perf_counter()
        try:
            s = self.settings_from_widgets()
            self.progress.value = 0.0
            self.progress.layout.visibility = "visible"
            ds, net = run_network(s, progress=self._progress)
        except EXPECTED_ERRORS as exc:
            self.progress.layout.visibility = "hidden"
            self.error = str(exc)
            self._set_status(rejected_html(self.error, kept=self.result is not None,
                                           plots=True))
            return None
        self.last_run_s = time.perf_counter() - t0
        self.error = None
        self.settings, self.result, self.network = s, ds, net
        self.n_runs += 1
        self._show(ds, net, s)
        self.progress.value = 1.0
        self.progress.layout.visibility = "hidden"
        self.last_update_s = time.perf_counter() - t0
        self._set_status(self._summary(ds, net, s))
        if not self._job.pending:   # plots first; the download link only for the last run
            self.export.set_result(ds, network=net, basename=s.basename())
        return ds

    def _set_status(self, text: str) -> None:
        self.status.value = text

    # -- state -> view -----------------------------------------------------------------------
    def _show(self, ds: xr.Dataset, net, s: NetworkSettings) -> None:
        groups = views.neuron_groups(ds)
        gkey = (tuple(groups.labels), tuple(groups.bounds))
        if gkey != self._groups_key:
            views.set_group_ticks(self.raster_figure.yaxis[0], groups, where="neuron")
            views.set_group_ticks(self.group_figure.xaxis[0], groups, where="index")
            self.group_figure.title.text = f"Mean rate per {groups.kind}"
            self._groups_key = gkey
        step = views.raster_thinning(ds.sizes["spike"], MAX_RASTER_POINTS)
        self.raster_figure.title.text = (
            f"Spike raster, coloured by {groups.kind}" + ("" if step == 1 else
                                                          f" (every {step}th neuron)"))
        self.sources["raster"].data = views.raster_columns(ds, MAX_RASTER_POINTS)
        self.sources["rate"].data = views.rate_columns(ds)
        self.sources["groups"].data = views.group_rate_columns(ds)
        self.sources["voltage"].data = views.voltage_trace_columns(ds)
        hkey = (s.network, s.n_neurons, s.n_layers, s.p, s.k, s.g, s.seed)
        if hkey != self._heatmap_key:
            self._show_connectivity(net, groups)
            self._heatmap_key = hkey

    def connectivity_view(self, net=None, groups=None) -> tuple[np.ndarray, str]:
        """The matrix the heat map shows and its level (``"neuron"`` or the group kind)."""
        net = net if net is not None else self.network
        groups = groups if groups is not None else views.neuron_groups(self.result)
        m = views.signed_connectivity(net)
        if net.n_neurons <= HEATMAP_NEURON_LEVEL_MAX:
            return np.asarray(m.toarray(), dtype=float), "neuron"
        return views.aggregate_matrix(m, groups.index, len(groups.labels)), groups.kind

    def _show_connectivity(self, net, groups) -> None:
        matrix, level = self.connectivity_view(net, groups)
        units = sorted({p.receptor.weight_units for p in net.projections})
        self.sources["heatmap"].data = views.heatmap_columns(matrix)
        views.set_heatmap_range(self.heatmap_figure, matrix, "/".join(units))
        for axis in (self.heatmap_figure.xaxis[0], self.heatmap_figure.yaxis[0]):
            if level == "neuron":
                views.set_group_ticks(axis, groups, where="neuron")
            else:
                views.set_group_ticks(axis, groups, where="cell")
        self.heatmap_figure.xaxis[0].axis_label = f"Postsynaptic {level}"
        self.heatmap_figure.yaxis[0].axis_label = f"Presynaptic {level}"

    def _summary(self, ds: xr.Dataset, net, s: NetworkSettings) -> str:
        seconds = float(ds.attrs["duration"]) / 1000.0
        n_spk = int(ds.sizes["spike"])
        rate = n_spk / net.n_neurons / seconds
        syn = sum(p.n_synapses for p in net.projections)
        text = (f"<b>{net.n_neurons} neurons</b>, {syn:,} synapses: <b>{n_spk:,} spikes</b> "
                f"in {ds.attrs['duration']:g} ms &rarr; <b>{rate:.1f} Hz</b> per neuron")
        if s.network == "Balanced E/I" and s.input_kind == "rate":
            text += (f"; external drive &eta; = &nu;<sub>ext</sub>/&nu;<sub>thr</sub> = "
                     f"{brunel_eta(s, net):.2f}")
        text += (f' <span style="color:#666">(simulated in {self.last_run_s:.2f} s)</span>')
        return text

    # -- display -----------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any):
        self.plot.update_from_model(self._layout)
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        s = self.settings
        return (f"{type(self).__name__}(network={s.network!r}, n_neurons={s.n_neurons}, "
                f"g={s.g:g}, input={s.input_kind})" if s else f"{type(self).__name__}()")


class ONIExplorer(NetworkExplorer):
    """The ONI 14-layer model with its ONI metrics (see :class:`NetworkExplorer`).

    Adds, after every run, :attr:`oni` -- the :class:`~neurosim_nb.export.ONIExportData` of
    the result (per-layer rate, Golomb synchrony, coherence C_s, global C_s) -- shown as a
    figure and a table; the export offers the ONI native format first.

    Examples
    --------
    >>> panel = ONIExplorer(duration_ms=200.0, background=False)
    >>> panel.oni.n_neurons, len(panel.oni.layers), panel.export.format
    (655, 14, 'oni')
    """

    def __init__(self, *, background: bool = True, width: int = 640, **settings: Any):
        from bokeh.models import ColumnDataSource as CDS

        self.oni = None
        self.oni_source = CDS({"x": [], "label": [], "name": [], "rate": [], "synchrony": [],
                               "coherence": []}, name=SOURCE_NAMES["oni"])
        self.oni_figure = views.oni_figure(self.oni_source, width=width)
        self.oni_table = W.HTML()
        self.oni_table.add_class("neurosim-oni-table")
        super().__init__("ONI 14-layer", background=background, lock_network=True,
                         width=width, **settings)
        self.export.format = "oni"

    def _bokeh_layout(self):
        return row(column(self.raster_figure, self.rate_figure, self.oni_figure,
                          self.voltage_figure),
                   column(self.group_figure, self.heatmap_figure))

    def _widget(self, lock_network: bool) -> W.VBox:
        box = super()._widget(lock_network)
        box.children = [*box.children[:-1], self.oni_table, box.children[-1]]
        return box

    def _show(self, ds: xr.Dataset, net, s: NetworkSettings) -> None:
        from neurosim_nb.export import ONIExporter
        from neurosim_nb.export.oni_export import interpret_coherence

        super()._show(ds, net, s)
        self.oni = data = ONIExporter().export(ds, network=net)
        cols = views.oni_columns(data)
        self.oni_source.data = cols
        views.set_group_ticks(self.oni_figure.xaxis[0], views.neuron_groups(ds),
                              where="index")
        level, meaning = interpret_coherence(data.Cs_global)
        rows = "".join(
            f"<tr><td>{html.escape(lab)}</td><td>{html.escape(name)}</td>"
            f"<td>{m.n_neurons}</td><td>{r:.1f}</td><td>{sy:.3f}</td><td>{co:.3f}</td></tr>"
            for lab, name, m, r, sy, co in zip(cols["label"], cols["name"],
                                               [data.layers[k] for k in sorted(data.layers)],
                                               cols["rate"], cols["synchrony"],
                                               cols["coherence"], strict=True))
        self.oni_table.value = (
            f"<b>Global coherence C<sub>s</sub> = {data.Cs_global:.3f}</b> ({level}: "
            f"{html.escape(meaning)}); {data.total_spikes:,} spikes, "
            f"{data.mean_rate_hz:.1f} Hz mean"
            '<table style="border-collapse:collapse;font-size:90%" cellpadding="3">'
            "<tr><th>layer</th><th>name</th><th>neurons</th><th>rate (Hz)</th>"
            "<th>synchrony &chi;</th><th>coherence C<sub>s</sub></th></tr>" + rows +
            "</table>")
