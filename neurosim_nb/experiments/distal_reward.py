r"""Izhikevich (2007)'s distal reward experiment, reduced: one synapse among many is
strengthened because its pairings are followed, seconds later, by dopamine.

Izhikevich, "Solving the distal reward problem through linkage of STDP and dopamine
signaling", Cereb Cortex 17:2443 (2007), Fig. 1: in a network of 1000 neurons firing at
about 1 Hz, every time neuron n2 fires within 10 ms after n1 a reward (a dopamine jump of
0.5 µM) follows with a random delay of 1-3 s; eligibility decays with
:math:`\tau_c` = 1 s, dopamine with :math:`\tau_d` = 200 ms; after an hour the synapse
n1 -> n2 alone is at its maximum.

**The reduction** (:func:`simulate_distal_reward`): ``n_pre`` presynaptic and ``n_post``
postsynaptic neurons fire as independent Poisson processes at ``rate_hz`` (LIF "drivers"
that fire exactly at each input kick), joined by random synapses (probability
``p_connect``) of negligible effect on the firing. The synapse to be rewarded is the first
one; rewards follow its pairings (:class:`~neurosim_nb.core.synapses.neuromodulation.PairingReward`,
the paper's rule). What the paper's recurrent network adds -- a stronger n1 -> n2 synapse
makes n2 fire after n1 more often, hence more rewards -- is left out, so the rewarded
synapse gains only from the reward contingency, the claim under test, and learning is
slower: the signal-to-noise ratio of its weight against the others grows as
:math:`\sqrt{T}` (rewards arrive at :math:`\nu^2 \times 10` ms per second, the
eligibility noise at a reward grows with :math:`\nu`; the rate cancels), so a few hundred
simulated seconds are needed instead of the paper's hour. STDP as in the paper: additive,
:math:`\tau_\pm` = 20 ms, :math:`A_- = 1.5 A_+`; weights start at a quarter of
``w_max`` (the paper: 1 of 4 mV).

>>> ds = simulate_distal_reward(duration_s=2.0, seed=0)
>>> ds.weight.dims, ds.attrs["rewarded_synapse"]
(('weight_time', 'synapse'), 0)
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["simulate_distal_reward", "rewarded_percentile"]


def simulate_distal_reward(*, n_pre: int = 50, n_post: int = 50, p_connect: float = 0.4,
                           rate_hz: float = 1.0, duration_s: float = 600.0, dt: float = 1.0,
                           window_ms: float = 10.0, reward_uM: float = 0.5,
                           learning_rate: float = 1.0, w_max: float = 0.01,
                           seed: int = 0, weight_sample_ms: float = 1000.0) -> xr.Dataset:
    """Run the reduced distal reward experiment (see the module docstring).

    Parameters
    ----------
    n_pre, n_post : int
        Neurons on each side (default 50 and 50).
    p_connect : float
        Connection probability (50 x 50 x 0.4: about 1000 synapses).
    rate_hz : float
        Firing rate of every neuron (Hz; the paper: about 1 Hz).
    duration_s, dt : float
        Simulated time (s) and step (ms; the paper's model steps 1 ms).
    window_ms : float
        A pairing: the rewarded synapse's post fires at most this long after its pre (ms).
    reward_uM : float
        Dopamine jump of each reward (µM; the paper: 0.5).
    learning_rate : float
        :math:`\\eta` of ``dw/dt = (eta / tau_d) c d`` (weights in nA, current synapses).
    w_max : float
        Upper weight bound (nA); :math:`A_+ = w_{max}/4`.
    seed : int
        Seed of the connectivity, the Poisson firing and the reward delays.
    weight_sample_ms : float
        Weight recording interval (ms).

    Returns
    -------
    xarray.Dataset
        The run's Dataset with ``weight`` (``weight_time``, ``synapse``), the dopamine
        (``modulator_level``) and the rewards (``modulator_event_*``); attrs
        ``rewarded_synapse`` (its index on ``synapse``) and ``n_rewards``.

    Examples
    --------
    A short run (the rewarded synapse needs simulated minutes to stand out, see the module):

    >>> ds = simulate_distal_reward(n_pre=10, n_post=10, duration_s=20.0, seed=1)
    >>> ds.weight.dims, ds.modulator_level.attrs["units"]
    (('weight_time', 'synapse'), 'uM')
    >>> 0.0 <= rewarded_percentile(ds) <= 100.0
    True
    """
    from neurosim_nb.core.networks.network import Network
    from neurosim_nb.core.neurons.lif import LIFNeuron, LIFParameters
    from neurosim_nb.core.synapses.neuromodulation import Neuromodulator, PairingReward
    from neurosim_nb.core.synapses.stdp import STDPSynapse
    from neurosim_nb.stimuli import PoissonInput

    driver = LIFParameters(tau_m=1.0, V_rest=-70.0, V_threshold=-50.0, V_reset=-70.0,
                           R_m=100.0, t_refractory=0.0)
    net = Network("distal reward", seed=seed)
    net.add_population("pre", LIFNeuron(driver, n=n_pre))
    net.add_population("post", LIFNeuron(driver, n=n_post))
    syn = STDPSynapse.create_reward_modulated(
        "pre", "post", weight=0.25 * w_max, receptor="current", delay_ms=100.0,
        rule="fixed_probability", p=p_connect, w_max=w_max, A_plus=0.25 * w_max,
        A_minus=1.5 * 0.25 * w_max, tau_eligibility=1000.0, learning_rate=learning_rate,
        modulator=None)
    proj = net.add(syn)
    n1, n2 = int(proj.pre_idx[0]), int(proj.post_idx[0])
    da = net.add(Neuromodulator("dopamine", tau_ms=200.0, sample_ms=10.0, sources=[
        PairingReward("pre", n1, "post", n2, window_ms=window_ms, amount=reward_uM)]))
    proj.dynamics.modulator = da
    for pop in ("pre", "post"):
        net.add_stimulus(pop, PoissonInput(rate_hz=rate_hz, weight_mV=100.0))
    ds = net.simulate(duration_s * 1000.0, dt=dt, seed=seed, record=(), verbose=False,
                      record_weights=True, weight_sample_ms=weight_sample_ms)
    ds.attrs["rewarded_synapse"] = 0
    ds.attrs["rewarded_pair_json"] = f'{{"pre": {n1}, "post": {n2}}}'
    ds.attrs["n_rewards"] = int(ds.sizes["modulator_event"])
    return ds


def rewarded_percentile(ds: xr.Dataset) -> float:
    """Percentile (0-100) of the rewarded synapse's final weight among all final weights
    (the fraction of synapses with a smaller weight, ties counted half).

    >>> ds = xr.Dataset({"weight": (("weight_time", "synapse"), [[1.0, 3.0, 2.0, 2.0]])},
    ...                 attrs={"rewarded_synapse": 1})
    >>> rewarded_percentile(ds)
    100.0
    """
    w = np.asarray(ds.weight.values[-1], dtype=float)
    target = w[int(ds.attrs["rewarded_synapse"])]
    others = np.delete(w, int(ds.attrs["rewarded_synapse"]))
    return float(100.0 * (np.sum(others < target) + 0.5 * np.sum(others == target))
                 / max(others.size, 1))
