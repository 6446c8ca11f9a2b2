"""Postsynaptic potentials: one presynaptic train onto one receptor of a passive membrane.

:func:`simulate_psp` fires a presynaptic neuron (a single spike or a short regular train)
onto a passive postsynaptic LIF through one receptor (AMPA, NMDA with its Mg²⁺ block,
GABA-A, GABA-B, or an exponential current synapse), optionally with Tsodyks-Markram
short-term depression or facilitation, and returns V, the synaptic conductance and the
synaptic current as an ``xarray.Dataset``. The holding potential is where the membrane
rests (as if held there by a steady current); it sets the driving force and the Mg²⁺ block.

Background: Gerstner et al., *Neuronal Dynamics*, ch. 3.1; Jahr & Stevens (1990);
Tsodyks, Pawelzik & Markram (1998).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurosim_nb.experiments._driver import _driver
from neurosim_nb.params import ParameterSet, param, parameters

__all__ = ["PSPParameters", "simulate_psp", "RECEPTOR_CHOICES", "PSP_ONSET_MS", "DELAY_MS",
           "MAX_TRAIN_MS", "R_M"]

#: receptors of the PSP experiment ("current": exponential current synapse, tau 5 ms)
RECEPTOR_CHOICES = ("AMPA", "NMDA", "GABA_A", "GABA_B", "current")
#: the first presynaptic spike is emitted at this time (ms)
PSP_ONSET_MS = 20.0
#: synaptic delay of the synapse (ms)
DELAY_MS = 1.0
#: longest presynaptic train (ms)
MAX_TRAIN_MS = 1000.0
#: membrane resistance of the passive postsynaptic neuron (MOhm)
R_M = 100.0


@parameters
class PSPParameters(ParameterSet):
    """A presynaptic train onto one receptor of a passive postsynaptic membrane.

    >>> PSPParameters(receptor="NMDA", n_spikes=5, rate=50.0).rate
    50.0
    >>> PSPParameters(n_spikes=20, rate=10.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.InvalidArgumentError: 20 spikes at 10 Hz last 1900 ms; keep the train ...
    """

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
    from neurosim_nb.core.networks.network import Network
    from neurosim_nb.core.neurons.lif import LIFNeuron
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
                      stimuli=stims, verbose=False)  # (a short run: no progress bar)

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

