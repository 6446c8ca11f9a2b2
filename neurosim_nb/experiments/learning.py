"""Learning with reward: Poisson inputs onto a few LIF neurons through plastic synapses.

:func:`simulate_learning` drives ``N_OUTPUTS`` LIF neurons by ``N_INPUTS`` Poisson inputs
through plastic AMPA synapses (reward-modulated STDP, or plain Hebbian STDP for
comparison); a reward is delivered every ``reward_interval``. The result holds the weights
over time, the rewards and the spikes.

Background: Gerstner et al., *Neuronal Dynamics*, ch. 19; Izhikevich (2007);
Frémaux & Gerstner (2016).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import xarray as xr

from neurosim_nb.experiments._driver import _driver
from neurosim_nb.params import ParameterSet, param, parameters

__all__ = ["LearningParameters", "default_stdp_params", "simulate_learning", "N_INPUTS",
           "N_OUTPUTS", "P_CONNECT", "BACKGROUND_HZ", "BACKGROUND_MV"]

#: size of the learning network
N_INPUTS = 40
N_OUTPUTS = 4
#: connection probability input -> output, and the background input of each output
#: (independent Poisson kicks: the outputs fire at about 10-20 Hz with the default inputs)
P_CONNECT = 0.5
BACKGROUND_HZ = 500.0
BACKGROUND_MV = 1.0


@parameters
class LearningParameters(ParameterSet):
    """The learning demo: rule, reward schedule, input and duration.

    >>> LearningParameters(duration=0.4).replace(rule="Hebbian").rule
    'Hebbian'
    """

    rule: str = param("reward-modulated", "", None, "learning rule",
                      choices=("reward-modulated", "Hebbian"))
    reward: float = param(1.0, "1", (-2.0, 2.0), "reward at each reward time (negative: "
                          "punishment; 0: none)")
    reward_interval: float = param(200.0, "ms", (20.0, 2000.0), "time between rewards")
    input_rate: float = param(5.0, "Hz", (1.0, 40.0), "rate of each Poisson input")
    duration: float = param(5.0, "s", (0.2, 30.0), "simulated time")


def default_stdp_params():
    """The STDP rule of the learning experiment (and of the synapses panel): library
    defaults (Song et al.: tau 20 ms, A+ 1 % of w_max, A- = 1.05 A+, w_max 0.01 µS) with an
    eligibility time constant of 500 ms and a learning rate of 2.

    >>> rule = default_stdp_params()
    >>> rule.tau_eligibility, rule.learning_rate, rule.w_max
    (500.0, 2.0, 0.01)
    """
    from neurosim_nb.core.synapses.stdp import RewardSTDPParameters

    return RewardSTDPParameters(tau_eligibility=500.0, learning_rate=2.0)


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
    from neurosim_nb.core.networks.network import Network
    from neurosim_nb.core.neurons.lif import LIFNeuron
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
        # (no progress bar of its own: this function reports progress per chunk, and in an
        # app a bar shown and closed while a cell runs is left as a broken widget)
        ds = net.simulate(length, dt=dt, seed=seed + k, record=(), stimuli=stims,
                          record_weights=True, weight_sample_ms=sample, verbose=False)
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

