"""The STDP window measured in a network: single spike pairs through an STDP synapse.

:func:`measure_pairs` simulates one presynaptic and one postsynaptic driver neuron per
pair interval, joined one-to-one by a Hebbian STDP synapse with a rule's parameters, and
returns each pair's weight change (to compare with the analytic window,
:func:`neurosim_nb.core.synapses.stdp.stdp_window`).

Background: Gerstner et al., *Neuronal Dynamics*, ch. 19; Song, Miller & Abbott (2000).
"""

from __future__ import annotations

import numpy as np

from neurosim_nb.experiments._driver import _driver

__all__ = ["measure_pairs", "PAIR_DT", "PAIR_T_PRE"]

#: pair intervals of the measured STDP window (ms: t_post - t_pre)
PAIR_DT = np.arange(-80.0, 81.0, 10.0)
#: time of the presynaptic spike of every pair (ms)
PAIR_T_PRE = 100.0


def measure_pairs(stdp, dt_pairs=PAIR_DT, *, dt: float = 0.1) -> np.ndarray:
    """Weight change of single spike pairs measured in a network with the rule ``stdp``.

    Pair ``i`` is a presynaptic driver firing at 100 ms and a postsynaptic one at
    ``100 + dt_pairs[i]`` ms, joined one-to-one by a Hebbian STDP synapse with the rule's
    parameters (a current synapse with weights in nA, too weak to make the drivers fire),
    starting in the middle of ``[w_min, w_max]``. For additive STDP the result is the
    window; multiplicative STDP scales it by the distance to the bound.

    Parameters
    ----------
    stdp : STDPParameters or RewardSTDPParameters
        The rule (its Hebbian fields are used; weights in µS).
    dt_pairs : array_like
        Pair intervals ``t_post - t_pre`` (ms); default :data:`PAIR_DT`.
    dt : float
        Integration step (ms).

    Returns
    -------
    numpy.ndarray
        Weight change of each pair (µS), in the order of ``dt_pairs``.

    Examples
    --------
    >>> from neurosim_nb.core.synapses.stdp import stdp_window
    >>> from neurosim_nb.experiments import default_stdp_params
    >>> rule = default_stdp_params()
    >>> dw = measure_pairs(rule, [-20.0, 20.0])
    >>> [f"{x:.3g}" for x in dw]                # depression, then potentiation (µS)
    ['-3.86e-05', '3.68e-05']
    >>> bool(np.allclose(dw, stdp_window(np.array([-20.0, 20.0]), rule), rtol=1e-9))
    True
    """
    from neurosim_nb.core.networks.network import Network
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
                 stimuli=stims, verbose=False)  # (a short run: no progress bar)
    return proj.weight - w0

