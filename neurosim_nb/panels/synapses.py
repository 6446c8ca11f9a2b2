r"""Synapses and plasticity: PSPs of the four receptors, the STDP window, learning with reward.

Two sub-panels, shown side by side in tabs by :class:`SynapsesPanel`:

* :class:`PSPPanel` -- one presynaptic neuron fires a single spike or a short regular train
  onto a passive postsynaptic membrane through one receptor (AMPA, NMDA with its Mg²⁺ block,
  GABA-A, GABA-B, or an exponential current synapse), optionally with Tsodyks-Markram
  short-term depression or facilitation. Plots: the membrane potential, the synaptic
  conductance and the synaptic current. The holding potential is where the membrane rests
  (as if held there by a steady current); it sets the driving force and the Mg²⁺ block.
* :class:`STDPPanel` -- the pair-based STDP window of the rule's parameters (with the
  changes measured for single spike pairs in a network), and a learning demo: Poisson
  inputs drive a few LIF neurons through plastic AMPA synapses (reward-modulated STDP, or
  plain Hebbian STDP for comparison); a reward is delivered every ``reward_interval``.
  Plots: mean ± s.d. (and range) of the weights over time, the final weight histogram.

State, view and controls are kept apart as in
:mod:`neurosim_nb.panels.neuron_explorer`: the state is a parameter set and the latest
result Dataset (``panel.result``); the view is built by :mod:`neurosim_nb.plotting.synapses`
and updated through ``source.data``; the controls are generated from the parameter
metadata. The simulations are also plain functions (:func:`simulate_psp`,
:func:`simulate_learning`) for use in code.

Runs start shortly after the last control change (debounced) in a background thread, so the
page stays responsive; a long learning run is simulated in chunks (one per reward interval)
with a progress bar, and a newer change cancels it between chunks.

Background: Gerstner et al., *Neuronal Dynamics*, ch. 3.1 (synapses) and 19 (synaptic
plasticity and learning); Jahr & Stevens (1990); Tsodyks, Pawelzik & Markram (1998);
Song, Miller & Abbott (2000); Izhikevich (2007); Frémaux & Gerstner (2016).
"""

from __future__ import annotations

import html
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as W
import numpy as np
import xarray as xr
from bokeh.layouts import row
from bokeh.models import ColumnDataSource
from jupyter_bokeh.widgets import BokehModel

from neurosim_nb.panels._background import BackgroundJob, Superseded
from neurosim_nb.panels._status import rejected_html
from neurosim_nb.panels.controls import params_from_widgets, widgets_from_params
from neurosim_nb.params import ParameterSet, param, parameters
from neurosim_nb.plotting import synapses as splot

__all__ = ["PSPParameters", "LearningParameters", "simulate_psp", "simulate_learning",
           "measure_pairs", "default_stdp_params", "PSPPanel", "STDPPanel", "SynapsesPanel",
           "EXPECTED_ERRORS", "RECEPTOR_CHOICES", "PANEL_WEIGHTS"]

#: errors shown in the status line instead of a traceback
EXPECTED_ERRORS = (ValueError, TypeError, FloatingPointError, MemoryError)
#: receptors of the PSP panel ("current": exponential current synapse, tau 5 ms)
RECEPTOR_CHOICES = ("AMPA", "NMDA", "GABA_A", "GABA_B", "current")
#: weight loaded when a receptor is chosen (nS; pA for "current"): five times the
#: library's DEFAULT_WEIGHTS, so that a single PSP is clearly visible
PANEL_WEIGHTS = {"AMPA": 5.0, "NMDA": 2.5, "GABA_A": 10.0, "GABA_B": 2.5, "current": 250.0}
#: the first presynaptic spike is emitted at this time (ms)
PSP_ONSET_MS = 20.0
#: synaptic delay of every synapse here (ms)
DELAY_MS = 1.0
#: longest presynaptic train of the PSP panel (ms)
MAX_TRAIN_MS = 1000.0
#: membrane resistance of the passive postsynaptic neuron (MOhm)
R_M = 100.0
#: a LIF that fires in the step of a 10 nA one-step pulse (or at a 100 mV kick), whatever
#: its synaptic input: the presynaptic "spike generators"
DRIVER = dict(tau_m=1.0, V_rest=-70.0, V_threshold=-50.0, V_reset=-70.0, R_m=100.0,
              t_refractory=0.0)
#: pair intervals of the measured STDP window (ms) and the time of the presynaptic spike
PAIR_DT = np.arange(-80.0, 81.0, 10.0)
PAIR_T_PRE = 100.0
#: size of the learning network
N_INPUTS = 40
N_OUTPUTS = 4
#: connection probability input -> output, and the background input of each output
#: (independent Poisson kicks: the outputs fire at about 10-20 Hz with the default inputs)
P_CONNECT = 0.5
BACKGROUND_HZ = 500.0
BACKGROUND_MV = 1.0
#: name prefix of the ColumnDataSources (find them in a page via Bokeh.documents)
SOURCE_PREFIX = "neurosim-syn-"


# -- parameters ------------------------------------------------------------------------------
@parameters
class PSPParameters(ParameterSet):
    """A presynaptic train onto one receptor of a passive postsynaptic membrane."""

    receptor: str = param("AMPA", "", None, "receptor type (current: exponential current "
                          "synapse)", choices=RECEPTOR_CHOICES)
    weight: float = param(5.0, "nS", (0.0, 1000.0), "peak conductance of one event "
                          "(nS; for the current synapse its peak current in pA)")
    V_hold: float = param(-70.0, "mV", (-100.0, -10.0), "holding potential: the membrane "
                          "rests here")
    n_spikes: float = param(1.0, "1", (1.0, 20.0), "presynaptic spikes in the train")
    rate: float = param(20.0, "Hz", (1.0, 200.0), "rate of the presynaptic train")
    short_term: str = param("none", "", None, "Tsodyks-Markram short-term plasticity",
                            choices=("none", "depressing", "facilitating"))
    tau_m: float = param(20.0, "ms", (2.0, 100.0), "membrane time constant")

    def validate(self) -> None:
        n = float(self.n_spikes)
        if n != round(n):
            raise ValueError(f"n_spikes must be a whole number, got {n:g}")
        train = (n - 1.0) * 1000.0 / float(self.rate)
        if train > MAX_TRAIN_MS:
            raise ValueError(f"{n:g} spikes at {float(self.rate):g} Hz last {train:g} ms; "
                             f"keep the train under {MAX_TRAIN_MS:g} ms (raise the rate or "
                             f"use fewer spikes)")


@parameters
class LearningParameters(ParameterSet):
    """The learning demo: rule, reward schedule, input and duration."""

    rule: str = param("reward-modulated", "", None, "learning rule",
                      choices=("reward-modulated", "Hebbian"))
    reward: float = param(1.0, "1", (-2.0, 2.0), "reward at each reward time (negative: "
                          "punishment; 0: none)")
    reward_interval: float = param(200.0, "ms", (20.0, 2000.0), "time between rewards")
    input_rate: float = param(5.0, "Hz", (1.0, 40.0), "rate of each Poisson input")
    duration: float = param(5.0, "s", (0.2, 30.0), "simulated time")


def default_stdp_params():
    """The STDP rule of the panel: library defaults (Song et al.: tau 20 ms, A+ 1 % of
    w_max, A- = 1.05 A+, w_max 0.01 µS) with an eligibility time constant of 500 ms and a
    learning rate of 2."""
    from neurosim_nb.core.synapses.stdp import RewardSTDPParameters

    return RewardSTDPParameters(tau_eligibility=500.0, learning_rate=2.0)


# -- simulations ------------------------------------------------------------------------------
def _driver(n: int):
    from neurosim_nb import LIFNeuron, LIFParameters

    return LIFNeuron(LIFParameters(**DRIVER), n=n)


def _tail_ms(receptor, tau_m: float) -> float:
    return float(min(800.0, max(60.0, 4.0 * max(receptor.tau_decay_ms, tau_m))))


def simulate_psp(params: PSPParameters | None = None, *, dt: float = 0.05, **kw) -> xr.Dataset:
    """One presynaptic train onto a passive postsynaptic neuron; V, g and I of the synapse.

    The presynaptic neuron fires ``n_spikes`` spikes at ``rate`` from 20 ms on; each
    arrives ``DELAY_MS`` later. The postsynaptic LIF (``tau_m``, R_m 100 MOhm) rests at
    ``V_hold`` with its threshold out of reach (a passive membrane).

    Parameters
    ----------
    params : PSPParameters, optional
    dt : float
        Integration step (ms).
    **kw
        Overrides of ``params`` (``receptor="NMDA"``, ``V_hold=-40.0``, ...).

    Returns
    -------
    xarray.Dataset
        ``V`` (mV), ``g_syn`` (µS; nA for the current synapse), ``I_syn`` (nA) over
        ``time``; ``arrival_time`` (ms) and ``release`` (delivered fraction of the weight,
        Tsodyks-Markram ``u x``, 1 without short-term plasticity) over ``arrival``. The
        conductance is the receptor's waveform at the arrival times (the kernels do not
        record channel states); the current uses it with the recorded V at the start of
        each step, as the kernels do.

    Examples
    --------
    >>> ds = simulate_psp(receptor="AMPA", weight=5.0)
    >>> round(float(ds.V.max() - ds.V[0]), 1), round(float(ds.g_syn.max()) * 1e3, 2)
    (3.4, 5.0)
    """
    from neurosim_nb import LIFNeuron, Network
    from neurosim_nb.core.synapses.chemical import ChemicalSynapse
    from neurosim_nb.core.synapses.receptors import get_receptor
    from neurosim_nb.core.synapses.release import (
        STP_PRESETS,
        TsodyksMarkram,
        tsodyks_markram_amplitudes,
    )
    from neurosim_nb.stimuli import StepCurrent

    p = (params or PSPParameters()).replace(**kw)
    rec = get_receptor(p.receptor)
    n = int(round(p.n_spikes))
    step = 1000.0 / p.rate
    t_pulse = np.round((PSP_ONSET_MS - dt + np.arange(n) * step) / dt) * dt
    duration = float(t_pulse[-1] + dt + DELAY_MS + _tail_ms(rec, p.tau_m))
    weight = p.weight * 1e-3  # nS -> uS (pA -> nA)
    dyn = None if p.short_term == "none" else TsodyksMarkram(**STP_PRESETS[p.short_term])

    net = Network(seed=0, name="psp")
    net.add_population("pre", _driver(1))
    net.add_population("post", LIFNeuron.create_excitatory(
        tau_m=p.tau_m, V_rest=p.V_hold, V_reset=p.V_hold, V_threshold=50.0, t_refractory=0.0))
    net.populations["post"].V = p.V_hold
    net.add(ChemicalSynapse.create("pre", "post", rec, weight=weight, delay_ms=DELAY_MS,
                                   dynamics=dyn))
    stims = {"pre": [StepCurrent(10.0, onset_ms=float(t), duration_ms=dt) for t in t_pulse]}
    ds = net.simulate(duration, dt=dt, seed=0, record=["V"], record_neurons={"post": [0]},
                      stimuli=stims)

    t = ds["time"].values
    v = ds["V"].values[:, 0]
    spikes = ds["spike_time"].values[ds["spike_neuron"].values == 0]
    if spikes.size != n:  # pragma: no cover - the driver fires at every pulse
        raise FloatingPointError(f"the presynaptic driver fired {spikes.size} times, not {n}")
    arrival = spikes + round(DELAY_MS / dt) * dt
    release = (np.ones(n) if p.short_term == "none" else
               tsodyks_markram_amplitudes(spikes, **STP_PRESETS[p.short_term]))
    # the kernels hold the channel state of step j (from t_j - dt to t_j) over that step
    s = t[:, None] - dt - arrival[None, :]
    after = s >= 0.0
    g = weight * (rec.waveform(np.where(after, s, 0.0)) * after
                  * release[None, :]).sum(axis=1)
    v_start = np.concatenate([[p.V_hold], v[:-1]])
    if rec.kind == "conductance":
        i_syn = g * rec.mg_block(v_start) * (rec.E_rev_mV - v_start)
    else:
        i_syn = g
    units = rec.weight_units
    out = xr.Dataset(
        {"V": ("time", v, {"units": "mV", "long_name": "postsynaptic membrane potential"}),
         "g_syn": ("time", g, {"units": units, "long_name": "synaptic conductance"
                                if rec.kind == "conductance" else "synaptic current"}),
         "I_syn": ("time", i_syn, {"units": "nA", "long_name": "synaptic current"}),
         "arrival_time": ("arrival", arrival, {"units": "ms",
                                               "long_name": "spike arrival time"}),
         "release": ("arrival", release, {"units": "1",
                                          "long_name": "delivered fraction of the weight"})},
        coords={"time": ("time", t, {"units": "ms", "long_name": "time"})},
        attrs={"receptor": rec.name, "receptor_kind": rec.kind, "weight": weight,
               "weight_units": units, "V_hold": p.V_hold, "E_rev": rec.E_rev_mV,
               "tau_rise": rec.tau_rise_ms, "tau_decay": rec.tau_decay_ms,
               "mg_mM": rec.mg_mM, "dt": dt, "delay_ms": DELAY_MS,
               "params_json": p.to_json()})
    return out


def measure_pairs(stdp, dt_pairs=PAIR_DT, *, dt: float = 0.1) -> np.ndarray:
    """Weight change of single spike pairs measured in a network with the rule ``stdp``.

    Pair ``i`` is a presynaptic driver firing at 100 ms and a postsynaptic one at
    ``100 + dt_pairs[i]`` ms, joined one-to-one by a Hebbian STDP synapse with the rule's
    parameters (a current synapse with weights in nA, too weak to make the drivers fire),
    starting in the middle of ``[w_min, w_max]``. For additive STDP the result is the
    window; multiplicative STDP scales it by the distance to the bound.
    """
    from neurosim_nb import Network
    from neurosim_nb.core.synapses.stdp import STDPParameters, STDPSynapse
    from neurosim_nb.stimuli import StepCurrent

    dts = np.asarray(dt_pairs, dtype=float)
    keep = {f: getattr(stdp, f) for f in STDPParameters.field_info()}
    p = STDPParameters(**keep)
    net = Network(seed=0, name="pairs")
    net.add_population("pre", _driver(dts.size))
    net.add_population("post", _driver(dts.size))
    w0 = 0.5 * (p.w_min + p.w_max)
    spec = STDPSynapse.create_hebbian("pre", "post", weight=w0, receptor="current",
                                      rule="one_to_one", params=p)
    proj = net.add(spec)
    t_pre = np.round((PAIR_T_PRE - dt) / dt) * dt
    stims = {"pre": [StepCurrent(10.0, onset_ms=float(t_pre), duration_ms=dt, targets=[i])
                     for i in range(dts.size)],
             "post": [StepCurrent(10.0, onset_ms=float(np.round((t_pre + d) / dt) * dt),
                                  duration_ms=dt, targets=[i]) for i, d in enumerate(dts)]}
    net.simulate(PAIR_T_PRE + float(np.abs(dts).max()) + 20.0, dt=dt, seed=0, record=(),
                 stimuli=stims)
    return proj.weight - w0


def simulate_learning(stdp=None, learning: LearningParameters | None = None, *,
                      dt: float = 0.1, seed: int = 0,
                      progress: Callable[[float, xr.Dataset | None], bool | None] | None = None,
                      **kw) -> xr.Dataset | None:
    """Poisson inputs -> a few LIF neurons through plastic AMPA synapses, with rewards.

    ``N_INPUTS`` inputs fire as Poisson processes at ``input_rate``; each projects onto
    each of ``N_OUTPUTS`` excitatory LIF neurons with probability ``P_CONNECT`` (1 ms
    delay; the outputs also get independent background kicks) through a reward-modulated
    STDP synapse (or a Hebbian one, ``rule="Hebbian"``) starting in the middle of
    ``[w_min, w_max]``. The run is simulated in chunks of ``reward_interval``;
    after each chunk a reward-modulated synapse receives ``reward`` (weights change by
    ``learning_rate * reward * eligibility``). A Hebbian synapse ignores the reward.

    Parameters
    ----------
    stdp : RewardSTDPParameters, optional
        The rule (default :func:`default_stdp_params`).
    learning : LearningParameters, optional
    dt : float
        Integration step (ms).
    seed : int
        Seed of the Poisson inputs (chunk ``k`` uses ``seed + k``).
    progress : callable, optional
        Called after each chunk with the fraction done and the Dataset so far (every
        ~0.3 s) or ``None``; returning ``True`` cancels the run (then ``None`` is
        returned).
    **kw
        Overrides of ``learning``.

    Returns
    -------
    xarray.Dataset or None
        ``weight (weight_time, synapse)`` (µS; the value after the reward at a reward
        time), ``reward (reward_time)``, ``spike_time``/``spike_neuron`` (ids: inputs
        0 .. N_INPUTS - 1, then the outputs), ``output_rate`` (Hz, per output neuron),
        coords ``pre``/``post`` of each synapse; attrs with the rule's parameters.

    Examples
    --------
    >>> ds = simulate_learning(duration=0.4)
    >>> ds.weight.dims, ds.sizes["synapse"], ds.reward.size
    (('weight_time', 'synapse'), 80, 2)
    >>> bool(ds.weight[-1].mean() > ds.weight[0].mean())   # reward after causal pairings
    True
    """
    from neurosim_nb import LIFNeuron, Network
    from neurosim_nb.core.synapses.stdp import STDPParameters, STDPSynapse
    from neurosim_nb.stimuli import PoissonInput

    p = stdp if stdp is not None else default_stdp_params()
    lp = (learning or LearningParameters()).replace(**kw)
    total_ms = lp.duration * 1000.0
    interval = float(min(lp.reward_interval, total_ms))
    n_chunks = max(1, int(math.ceil(total_ms / interval - 1e-9)))
    reward_on = lp.rule == "reward-modulated"

    net = Network(seed=seed, name="learning")
    net.add_population("inputs", _driver(N_INPUTS))
    net.add_population("outputs", LIFNeuron.create_excitatory(n=N_OUTPUTS))
    w0 = 0.5 * (p.w_min + p.w_max)
    if reward_on:
        spec = STDPSynapse.create_reward_modulated("inputs", "outputs", weight=w0, params=p,
                                                   rule="fixed_probability", p=P_CONNECT)
    else:
        hebb = {f: getattr(p, f) for f in STDPParameters.field_info()}
        spec = STDPSynapse.create_hebbian("inputs", "outputs", weight=w0,
                                          params=STDPParameters(**hebb),
                                          rule="fixed_probability", p=P_CONNECT)
    proj = net.add(spec)
    stims = {"inputs": PoissonInput(rate_hz=lp.input_rate, weight_mV=100.0),
             "outputs": PoissonInput(rate_hz=BACKGROUND_HZ, weight_mV=BACKGROUND_MV)}

    w_t: list[np.ndarray] = [np.zeros(1)]
    w_v: list[np.ndarray] = [proj.weight.copy()[None, :]]
    r_t: list[float] = []
    r_v: list[float] = []
    sp_t: list[np.ndarray] = []
    sp_n: list[np.ndarray] = []
    t0 = 0.0
    last_report = time.perf_counter()
    for k in range(n_chunks):
        length = min(interval, total_ms - t0)
        n_steps = max(1, int(round(length / dt)))
        n_sub = max(1, int(math.ceil(length / 50.0 - 1e-9)))
        while n_steps % n_sub:  # weight samples every 50 ms or a bit more often
            n_sub += 1
        sample = n_steps // n_sub * dt
        ds = net.simulate(length, dt=dt, seed=seed + k, record=(), stimuli=stims,
                          record_weights=True, weight_sample_ms=sample)
        sp_t.append(ds["spike_time"].values + t0)
        sp_n.append(ds["spike_neuron"].values)
        t_end = t0 + length
        if reward_on and lp.reward != 0.0 and math.isclose(length, interval):
            spec.apply_reward(lp.reward)
            r_t.append(t_end)
            r_v.append(lp.reward)
        wt = ds["weight_time"].values[1:] + t0
        wv = ds["weight"].values[1:].copy()
        wv[-1] = proj.weight
        w_t.append(wt)
        w_v.append(wv)
        t0 = t_end
        if progress is not None:
            partial = None
            now = time.perf_counter()
            if now - last_report > 0.3 or k == n_chunks - 1:
                last_report = now
                partial = _learning_dataset(net, proj, p, lp, w_t, w_v, r_t, r_v, sp_t, sp_n,
                                            t0, dt, seed)
            if progress((k + 1) / n_chunks, partial):
                return None
    return _learning_dataset(net, proj, p, lp, w_t, w_v, r_t, r_v, sp_t, sp_n, t0, dt, seed)


def _learning_dataset(net, proj, p, lp, w_t, w_v, r_t, r_v, sp_t, sp_n, t_now, dt, seed
                      ) -> xr.Dataset:
    spike_t = np.concatenate(sp_t) if sp_t else np.zeros(0)
    spike_n = np.concatenate(sp_n).astype(np.int64) if sp_n else np.zeros(0, np.int64)
    off = net.offsets()["outputs"]
    counts = np.bincount(spike_n[spike_n >= off] - off, minlength=N_OUTPUTS)
    rate = counts / max(t_now, dt) * 1000.0
    units = proj.receptor.weight_units
    return xr.Dataset(
        {"weight": (("weight_time", "synapse"), np.concatenate(w_v),
                    {"units": units, "long_name": "synaptic weight"}),
         "reward": ("reward_time", np.asarray(r_v, float), {"units": "1",
                                                            "long_name": "reward"}),
         "spike_time": ("spike", spike_t, {"units": "ms", "long_name": "spike time"}),
         "spike_neuron": ("spike", spike_n, {"units": "1", "long_name": "neuron id"}),
         "output_rate": ("output", rate, {"units": "Hz",
                                          "long_name": "firing rate of the output neurons"})},
        coords={"weight_time": ("weight_time", np.concatenate(w_t),
                                {"units": "ms", "long_name": "time"}),
                "reward_time": ("reward_time", np.asarray(r_t, float),
                                {"units": "ms", "long_name": "reward time"}),
                "pre": ("synapse", proj.pre_idx.astype(np.int64),
                        {"long_name": "input neuron"}),
                "post": ("synapse", proj.post_idx.astype(np.int64) + off,
                         {"long_name": "output neuron id"})},
        attrs={"rule": lp.rule, "reward_per_event": lp.reward,
               "reward_interval": lp.reward_interval, "input_rate": lp.input_rate,
               "n_inputs": N_INPUTS, "n_outputs": N_OUTPUTS, "dt": dt, "seed": seed,
               "duration": t_now, "w_min": p.w_min, "w_max": p.w_max, "weight_units": units,
               "stdp_params_json": p.to_json(), "learning_params_json": lp.to_json()})


# -- running in the background ---------------------------------------------------------------
class _Runner(BackgroundJob):
    """A :class:`BackgroundJob` for jobs written as ``job(stale)``: ``stale()`` turns true
    as soon as a newer job is submitted (the job should then stop); an exception of the
    latest job goes to ``on_error``. With ``background=False`` jobs run at once, in the
    caller."""

    def __init__(self, background: bool, debounce_s: float,
                 on_error: Callable[[BaseException], None] | None = None):
        super().__init__(debounce_s, background=background)
        self.on_error = on_error

    def submit(self, job: Callable[[Callable[[], bool]], None]) -> int:  # type: ignore[override]
        def compute(progress):
            def stale() -> bool:
                try:
                    progress(0.0)  # raises Superseded once a newer job was submitted
                except Superseded:
                    return True
                return False

            job(stale)

        def apply(result, error):
            if error is not None:
                logging.getLogger(__name__).error("panel run failed: %r", error)
                if self.on_error is not None:
                    self.on_error(error)

        return super().submit(compute, apply)

    @property
    def idle(self) -> bool:
        return not self.busy


class _FailureReport:
    """Unexpected errors of a background run go to the status line (not a traceback)."""

    def _on_failure(self, exc: BaseException) -> None:
        if hasattr(self, "progress"):
            self.progress.layout.visibility = "hidden"
        self._show_error(f"internal error ({type(exc).__name__}: {exc}); please report it")


def _tidy_controls(controls: dict[str, W.ValueWidget]) -> None:
    for w in controls.values():
        w.continuous_update = False


def _linear(controls: dict[str, W.ValueWidget], name: str, lo: float, hi: float,
            step: float) -> None:
    """Replace a generated slider by a linear one on ``[lo, hi]`` (a logarithmic slider's
    grid does not hold round values such as 20: the browser would send back 19.95)."""
    old = controls[name]
    new = W.FloatSlider(value=old.value, min=lo, max=hi, step=step,
                        description=old.description, tooltip=old.tooltip,
                        continuous_update=False, readout_format=".4g", style=old.style,
                        layout=old.layout)
    for cls in old._dom_classes:
        new.add_class(cls)
    old.close()
    controls[name] = new


#: (min, max, step) of the PSP weight slider: nS for conductances, pA for the current
WEIGHT_RANGES = {"conductance": (0.0, 50.0, 0.05), "current": (0.0, 1000.0, 5.0)}


# -- PSP panel -------------------------------------------------------------------------------
class PSPPanel(_FailureReport):
    """Postsynaptic potentials of one synapse onto a passive membrane.

    Parameters
    ----------
    params : PSPParameters, optional
        Starting values.
    dt : float
        Integration step (ms).
    background : bool
        Simulate in a worker thread after control changes (``False``: at once).
    width : int
        Width of the figures (pixels).

    Attributes
    ----------
    result : xarray.Dataset
        The latest run (:func:`simulate_psp`).
    params : PSPParameters
        Its parameters.
    error : str or None
        The message of the last rejected change.
    source, arrivals : ColumnDataSource
        Columns of :func:`~neurosim_nb.plotting.synapses.psp_columns` and
        :func:`~neurosim_nb.plotting.synapses.arrival_columns`.

    Examples
    --------
    >>> panel = PSPPanel(background=False)
    >>> panel.result.attrs["receptor"], panel.controls["weight"].description
    ('AMPA', 'weight (nS)')
    >>> panel.controls["receptor"].value = "current"      # loads its default weight
    >>> panel.controls["weight"].description, panel.controls["weight"].value
    ('weight (pA)', 250.0)
    >>> panel.controls["n_spikes"].value = 20
    >>> panel.controls["rate"].value = 5.0
    >>> print(panel.error)  # doctest: +NORMALIZE_WHITESPACE
    20 spikes at 5 Hz last 3800 ms; keep the train under 1000 ms (raise the rate or
    use fewer spikes)
    """

    def __init__(self, params: PSPParameters | None = None, *, dt: float = 0.05,
                 background: bool = True, width: int = 720):
        self.dt = float(dt)
        self.params = params or PSPParameters()
        self.result: xr.Dataset | None = None
        self.error: str | None = None
        self.n_runs = 0
        self._hold = False
        self._runner = _Runner(background, debounce_s=0.15, on_error=self._on_failure)
        self.controls = widgets_from_params(self.params)
        _tidy_controls(self.controls)
        for name in ("n_spikes",):
            self.controls[name].step = 1.0
            self.controls[name].readout_format = ".0f"
        self.controls["V_hold"].step = 1.0
        lo, hi, step = WEIGHT_RANGES["current" if self.params.receptor == "current"
                                     else "conductance"]
        _linear(self.controls, "weight", lo, max(hi, self.params.weight), step)
        for name, w in self.controls.items():
            w.observe(self._on_receptor if name == "receptor" else self._on_value,
                      names="value")
        self._label_weight()
        self.status = W.HTML(layout=W.Layout(min_height="2.2em"))
        self.status.add_class("neurosim-status")
        self.source = ColumnDataSource(splot.empty_psp_columns(), name=SOURCE_PREFIX + "psp")
        self.arrivals = ColumnDataSource(splot.empty_arrival_columns(),
                                         name=SOURCE_PREFIX + "arrivals")
        self._layout, self.voltage_figure, self.conductance_figure, self.current_figure = \
            splot.psp_layout(self.source, self.arrivals, width=width)
        self._run(lambda: False)
        self.plot = BokehModel(self._layout)
        self.plot.add_class("neurosim-plot")
        self.plot.add_class("neurosim-psp-plot")
        box = W.VBox(list(self.controls.values()))
        self.widget = W.VBox([self.status, W.HBox([self.plot, box],
                                                  layout=W.Layout(flex_flow="row wrap"))])
        self.widget.add_class("neurosim-psp")

    def _label_weight(self) -> None:
        unit = "pA" if self.controls["receptor"].value == "current" else "nS"
        self.controls["weight"].description = f"weight ({unit})"

    def _on_receptor(self, change: dict) -> None:
        if self._hold:
            return
        self._hold = True
        try:
            w = self.controls["weight"]
            value = PANEL_WEIGHTS[change["new"]]
            lo, hi, step = WEIGHT_RANGES["current" if change["new"] == "current"
                                         else "conductance"]
            w.max = max(w.max, hi, value)
            w.step = step
            w.value = value
            w.min, w.max = lo, max(hi, value)
            self._label_weight()
        finally:
            self._hold = False
        self.update()

    def _on_value(self, change: dict) -> None:
        if not self._hold:
            self.update()

    def update(self) -> None:
        """Validate the controls' values and (re-)simulate (in the background thread if
        the panel was made with ``background=True``)."""
        try:
            params = params_from_widgets(self.params, self.controls)
        except EXPECTED_ERRORS as exc:
            self._show_error(str(exc))
            return
        self._pending = params
        self._runner.submit(self._run)

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until no run is pending (for code and tests); ``False`` on timeout."""
        return self._runner.wait(timeout)

    def _show_error(self, message: str) -> None:
        self.error = message
        self.status.value = rejected_html(message, self.result is not None, plots=True)

    def _run(self, stale: Callable[[], bool]) -> None:
        params = getattr(self, "_pending", self.params)
        try:
            ds = simulate_psp(params, dt=self.dt)
        except EXPECTED_ERRORS as exc:
            self._show_error(str(exc))
            return
        if stale():
            return
        self.error = None
        self.params, self.result = params, ds
        self.n_runs += 1
        self.source.data = splot.psp_columns(ds)
        self.arrivals.data = splot.arrival_columns(ds)
        self.conductance_figure.yaxis[0].axis_label = (
            "g_syn (nS)" if ds.attrs["receptor_kind"] == "conductance" else "g_syn (none)")
        self.status.value = self._summary(ds)

    @staticmethod
    def _summary(ds: xr.Dataset) -> str:
        v = ds["V"].values
        dv = v - ds.attrs["V_hold"]
        k = int(np.argmax(np.abs(dv)))
        t_peak = float(ds["time"].values[k] - ds["arrival_time"].values[0])
        rec = ds.attrs["receptor"]
        text = (f"<b>{html.escape(rec)}</b> at V<sub>hold</sub> = {ds.attrs['V_hold']:g} mV: "
                f"peak PSP <b>{dv[k]:+.2f} mV</b>, {t_peak:.1f} ms after the first arrival")
        if ds.attrs["receptor_kind"] == "conductance":
            drive = ds.attrs["E_rev"] - ds.attrs["V_hold"]
            text += f"; driving force E<sub>rev</sub> − V = {drive:+.0f} mV"
            if ds.attrs["mg_mM"] > 0:
                block = 1.0 / (1.0 + ds.attrs["mg_mM"] / 3.57
                               * math.exp(-0.062 * ds.attrs["V_hold"]))
                text += f"; Mg²⁺ block: {100 * block:.0f} % of channels open"
        rel = ds["release"].values
        if rel.size > 1:
            text += f"; last/first release {rel[-1] / rel[0]:.2f}"
        return text

    def _repr_mimebundle_(self, **kwargs: Any):
        self.plot.update_from_model(self._layout)
        return self.widget._repr_mimebundle_(**kwargs)


# -- STDP panel ------------------------------------------------------------------------------
class STDPPanel(_FailureReport):
    """The STDP window of a rule and weights learning with (or without) reward.

    Parameters
    ----------
    stdp : RewardSTDPParameters, optional
        The rule (default :func:`default_stdp_params`).
    learning : LearningParameters, optional
        The demo (duration, reward schedule, inputs).
    background : bool
        Simulate in a worker thread after control changes (``False``: at once).
    width : int
        Width of each of the four figures (pixels).

    Attributes
    ----------
    result : xarray.Dataset
        The latest run: :func:`simulate_learning` plus ``window_dw (window_dt)`` (the rule's
        window) and ``pair_dw (pair_dt)`` (the measured pairs).
    stdp, learning : ParameterSet
        Their parameters.
    error : str or None
        The message of the last rejected change.
    progress : ipywidgets.FloatProgress
        Fraction of the running simulation (hidden when idle).
    stdp_controls, learning_controls : dict
        Widgets generated from the two parameter sets.

    Examples
    --------
    >>> panel = STDPPanel(learning=LearningParameters(duration=0.4), background=False)
    >>> panel.result.weight.attrs["units"], panel.result.sizes["window_dt"]
    ('uS', 400)
    >>> panel.stdp_controls["w_min"].value = 0.02     # above w_max
    >>> print(panel.error)
    RewardSTDPParameters: w_min (0.02) must not exceed w_max (0.01)
    """

    def __init__(self, stdp=None, learning: LearningParameters | None = None, *,
                 dt: float = 0.1, background: bool = True, width: int = 470):
        self.dt = float(dt)
        self.stdp = stdp if stdp is not None else default_stdp_params()
        self.learning = learning or LearningParameters()
        self.result: xr.Dataset | None = None
        self.error: str | None = None
        self.n_runs = 0
        self._runner = _Runner(background, debounce_s=0.3, on_error=self._on_failure)
        self.stdp_controls = widgets_from_params(self.stdp)
        self.learning_controls = widgets_from_params(self.learning)
        _tidy_controls({**self.stdp_controls, **self.learning_controls})
        units = "uS"
        for w in self.stdp_controls.values():
            w.description = w.description.replace("(weight)", f"({units})")
        for name in ("w_min", "w_max"):  # metadata bounds are +-1e6: use a useful range
            w = self.stdp_controls[name]
            w.max, w.min, w.step = 0.05, 0.0, 0.0005
            w.readout_format = ".4f"
        for name in ("A_plus", "A_minus"):
            self.stdp_controls[name].readout_format = ".2e"
        _linear(self.stdp_controls, "tau_plus", 1.0, 100.0, 0.5)
        _linear(self.stdp_controls, "tau_minus", 1.0, 100.0, 0.5)
        _linear(self.stdp_controls, "tau_eligibility", 10.0, 5000.0, 10.0)
        for w in (*self.stdp_controls.values(), *self.learning_controls.values()):
            w.observe(self._on_value, names="value")
        self.status = W.HTML(layout=W.Layout(min_height="2.2em"))
        self.status.add_class("neurosim-status")
        self.progress = W.FloatProgress(value=0.0, min=0.0, max=1.0, description="Running",
                                        layout=W.Layout(width="400px", visibility="hidden"))
        self.progress.add_class("neurosim-progress")

        self.window_source = ColumnDataSource(splot.empty_pair_columns(),
                                              name=SOURCE_PREFIX + "window")
        self.pair_source = ColumnDataSource(splot.empty_pair_columns(),
                                            name=SOURCE_PREFIX + "pairs")
        self.weight_source = ColumnDataSource(splot.empty_weight_columns(),
                                              name=SOURCE_PREFIX + "weights")
        self.reward_source = ColumnDataSource(splot.empty_reward_columns(),
                                              name=SOURCE_PREFIX + "rewards")
        self.hist_source = ColumnDataSource(splot.empty_histogram_columns(),
                                            name=SOURCE_PREFIX + "histogram")
        self.window_figure = splot.stdp_window_figure(self.window_source, self.pair_source,
                                                      width=width)
        self.weight_figure = splot.weight_figure(self.weight_source, self.reward_source,
                                                 width=width)
        self.histogram_figure = splot.histogram_figure(self.hist_source, width=width)
        from bokeh.layouts import column

        self._layout = column(row(self.window_figure), row(self.weight_figure,
                                                           self.histogram_figure))
        self._pending = (self.stdp, self.learning)
        self._run(lambda: False)
        self.plot = BokehModel(self._layout)
        self.plot.add_class("neurosim-plot")
        self.plot.add_class("neurosim-stdp-plot")
        rule_box = W.VBox([W.HTML("<b>STDP rule</b> (the window)"),
                           *self.stdp_controls.values()])
        demo_box = W.VBox([W.HTML("<b>Learning demo</b> (40 Poisson inputs &rarr; 4 neurons)"),
                           *self.learning_controls.values()])
        self.widget = W.VBox([W.HBox([rule_box, demo_box],
                                     layout=W.Layout(flex_flow="row wrap")),
                              W.HBox([self.progress]), self.status, self.plot])
        self.widget.add_class("neurosim-stdp")

    @property
    def busy(self) -> bool:
        """Whether a run is pending or running."""
        return not self._runner.idle

    def _on_value(self, change: dict) -> None:
        self.update()

    def update(self) -> None:
        """Validate the controls' values and (re-)simulate (in the background thread if
        the panel was made with ``background=True``)."""
        try:
            stdp = params_from_widgets(self.stdp, self.stdp_controls)
            learning = params_from_widgets(self.learning, self.learning_controls)
        except EXPECTED_ERRORS as exc:
            self._show_error(str(exc))
            return
        self._pending = (stdp, learning)
        if self._runner.background:
            self.status.value = "<i>Simulating&hellip;</i>"
        self._runner.submit(self._run)

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until no run is pending (for code and tests); ``False`` on timeout."""
        return self._runner.wait(timeout)

    def _show_error(self, message: str) -> None:
        self.error = message
        self.status.value = rejected_html(message, self.result is not None, plots=True)

    def _run(self, stale: Callable[[], bool]) -> None:
        stdp, learning = self._pending
        try:
            window = splot.window_columns(stdp)
            pairs = measure_pairs(stdp, dt=self.dt)
        except EXPECTED_ERRORS as exc:
            self._show_error(str(exc))
            return
        if stale():
            return
        self.window_source.data = window
        self.pair_source.data = splot.pair_columns(PAIR_DT, pairs)
        self.progress.value = 0.0
        self.progress.layout.visibility = "visible"
        started = time.perf_counter()

        def report(fraction: float, partial: xr.Dataset | None) -> bool:
            if stale():
                return True
            self.progress.value = fraction
            if partial is not None and time.perf_counter() - started > 0.5:
                self._show_learning(partial, learning, stdp)
            return False

        try:
            ds = simulate_learning(stdp, learning, dt=self.dt, progress=report)
        except EXPECTED_ERRORS as exc:
            self.progress.layout.visibility = "hidden"
            self._show_error(str(exc))
            return
        if ds is None or stale():
            return
        self.progress.layout.visibility = "hidden"
        ds = ds.assign(
            window_dw=("window_dt", window["dw"], {"units": "uS",
                                                    "long_name": "STDP window of the rule"}),
            pair_dw=("pair_dt", pairs, {"units": "uS",
                                        "long_name": "weight change measured for one pair"}))
        ds = ds.assign_coords(window_dt=("window_dt", window["dt"], {"units": "ms"}),
                              pair_dt=("pair_dt", PAIR_DT.copy(), {"units": "ms"}))
        self.error = None
        self.stdp, self.learning, self.result = stdp, learning, ds
        self.n_runs += 1
        self._show_learning(ds, learning, stdp)
        self.status.value = self._summary(ds, learning)

    def _show_learning(self, ds: xr.Dataset, learning: LearningParameters, stdp) -> None:
        self.weight_source.data = splot.weight_columns(ds)
        self.reward_source.data = splot.reward_columns(ds, y=stdp.w_max)
        self.hist_source.data = splot.histogram_columns(ds["weight"].values[-1], stdp.w_min,
                                                        stdp.w_max)

    @staticmethod
    def _summary(ds: xr.Dataset, learning: LearningParameters) -> str:
        from neurosim_nb.analysis.plasticity import plasticity_stability

        w = ds["weight"].values
        text = (f"<b>{html.escape(learning.rule)}</b>: mean weight "
                f"{w[0].mean() * 1e3:.2f} &rarr; <b>{w[-1].mean() * 1e3:.2f} nS</b> "
                f"(s.d. {w[-1].std() * 1e3:.2f} nS) in {ds.attrs['duration'] / 1000:g} s; "
                f"{ds.sizes['reward_time']} rewards; outputs fire at "
                f"{float(ds['output_rate'].mean()):.1f} Hz")
        if ds.attrs["w_max"] > ds.attrs["w_min"] and w.shape[0] >= 2:
            st = plasticity_stability(ds, w_min=ds.attrs["w_min"], w_max=ds.attrs["w_max"])
            text += (f"; {100 * float(st['fraction_near_max'][-1]):.0f} % near w_max, "
                     f"{100 * float(st['fraction_near_min'][-1]):.0f} % near w_min")
        if learning.rule == "Hebbian":
            text += " (Hebbian STDP ignores the reward)"
        return text

    def _repr_mimebundle_(self, **kwargs: Any):
        self.plot.update_from_model(self._layout)
        return self.widget._repr_mimebundle_(**kwargs)


# -- both ------------------------------------------------------------------------------------
class SynapsesPanel:
    """Synapses and plasticity: :class:`PSPPanel` and :class:`STDPPanel` in two tabs.

    Parameters
    ----------
    psp : PSPParameters, optional
    stdp : RewardSTDPParameters, optional
    learning : LearningParameters, optional
    background : bool
        Simulate in a worker thread after control changes (``False``: at once).

    Attributes
    ----------
    psp_panel, stdp_panel : PSPPanel, STDPPanel
    result : xarray.Dataset
        The latest result of the panel in the selected tab.

    Examples
    --------
    >>> panel = SynapsesPanel(learning=LearningParameters(duration=0.4), background=False)
    >>> panel.result.attrs["receptor"]
    'AMPA'
    >>> panel.tabs.selected_index = 1
    >>> "weight" in panel.result
    True
    """

    def __init__(self, psp: PSPParameters | None = None, stdp=None,
                 learning: LearningParameters | None = None, *, background: bool = True):
        self.psp_panel = PSPPanel(psp, background=background)
        self.stdp_panel = STDPPanel(stdp, learning, background=background)
        self.tabs = W.Tab(children=[self.psp_panel.widget, self.stdp_panel.widget])
        self.tabs.set_title(0, "PSPs")
        self.tabs.set_title(1, "STDP and reward")
        self.tabs.add_class("neurosim-synapses")
        self.widget = self.tabs

    @property
    def result(self) -> xr.Dataset | None:
        """The latest Dataset of the selected tab's panel."""
        return (self.psp_panel if self.tabs.selected_index in (0, None)
                else self.stdp_panel).result

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until neither sub-panel has a run pending."""
        return self.psp_panel.wait(timeout) and self.stdp_panel.wait(timeout)

    def _repr_mimebundle_(self, **kwargs: Any):
        self.psp_panel.plot.update_from_model(self.psp_panel._layout)
        self.stdp_panel.plot.update_from_model(self.stdp_panel._layout)
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return (f"SynapsesPanel(receptor={self.psp_panel.params.receptor!r}, "
                f"rule={self.stdp_panel.learning.rule!r})")

