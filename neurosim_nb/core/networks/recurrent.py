r"""Recurrent E/I networks: the Brunel (2000) balanced network and a plastic variant.

:meth:`RecurrentNetwork.create_balanced` builds Brunel's "model A": :math:`N_E = 0.8 N`
excitatory and :math:`N_I = 0.2 N` inhibitory LIF neurons

.. math::

    \tau \dot V = -(V - V_{rest}) + \tau \sum_j J_{j} \sum_k \delta(t - t_j^k - D),

:math:`\tau` = 20 ms, threshold :math:`\theta` = 20 mV and reset :math:`V_r` = 10 mV above
rest (rest -70 mV: threshold -50, reset -60 mV), 2 ms refractory (input during it is
ignored, as in NEST's ``iaf_psc_delta``). Every neuron receives exactly
:math:`C_E = \epsilon N_E` excitatory synapses of weight :math:`J` and :math:`C_I =
\epsilon N_I` inhibitory ones of weight :math:`-gJ` (delta synapses: a jump of V in mV;
fixed in-degree, no autapses), delay D = 1.5 ms, plus :math:`C_E` independent external
Poisson sources at :math:`\nu_{ext} = \eta\,\nu_{thr}`, :math:`\nu_{thr} = \theta /
(J C_E \tau)`, each spike a jump of :math:`J` (attached to the network as population
stimuli, so ``SimulationEngine(network, config).run()`` is active out of the box).

Defaults and why
----------------
* :math:`\epsilon` = 0.1, D = 1.5 ms, :math:`\tau`, :math:`\theta`, :math:`V_r`, refractory:
  Brunel (2000).
* :math:`J = 0.1\,\mathrm{mV}\,\sqrt{800 / C_E}` (``J=None``): Brunel's 0.1 mV at his
  :math:`C_E` = 800, scaled so that the recurrent input variance
  :math:`\propto C_E J^2` stays the same in smaller networks (0.316 mV at N = 1000).
* :math:`\eta` = 0.85: with :math:`g = 4` (the seed's value) inhibition exactly cancels
  excitation on average (:math:`g\gamma = 1`, :math:`\gamma = C_I / C_E = 1/4`), so the
  mean input is :math:`\eta\theta`; for :math:`\eta \ge 1` the neurons are driven above
  threshold and fire regularly (ISI CV 0.2-0.3 at N = 1000, measured), below it they fire
  on fluctuations. At :math:`\eta` = 0.85, N = 1000, g = 4 the network is asynchronous
  and irregular in the usual sense: 8.9-9.6 Hz, mean ISI CV 0.61-0.62 (2 s runs, three
  seeds; shorter runs bias the CV down), mean pairwise spike-count correlation 0.06-0.08
  (20 ms bins). Being at the balance point it also shows occasional population bursts
  (3-8 per second in which more than 15 % of the neurons fire within 5 ms); g = 5 lowers
  the rate (6.5 Hz) and the correlations (0.02).

:meth:`RecurrentNetwork.create_plastic` is the same network with pair-based STDP
(:class:`~neurosim_nb.core.synapses.stdp.STDP`, Song, Miller & Abbott 2000) on the E -> E
synapses (the same connectivity as ``create_balanced`` with the same seed): weights start
at :math:`J`, additive updates with hard bounds ``[0, w_max_factor × J]``,
:math:`A_+ = \mathrm{stdp\_lr} \times w_{max}`, :math:`A_- = 1.05 A_+`, 20 ms windows.

References
----------
Brunel N (2000) Dynamics of sparsely connected networks of excitatory and inhibitory
spiking neurons. J Comput Neurosci 8:183-208.
Song S, Miller KD, Abbott LF (2000) Competitive Hebbian learning through
spike-timing-dependent synaptic plasticity. Nat Neurosci 3:919-926.

Examples
--------
>>> net = RecurrentNetwork.create_balanced(n_neurons=1000, g=4.0, seed=1)
>>> net.populations["exc"].n, net.populations["inh"].n, net.brunel["C_E"], net.brunel["C_I"]
(800, 200, 80, 20)
>>> round(net.brunel["J"], 3), round(net.brunel["nu_ext_hz"], 1)
(0.316, 33.6)
>>> ds = net.simulate(200.0, record=(), seed=0)
>>> int(ds.sizes["spike"]) > 0
True
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from neurosim_nb.core.networks.network import Network
from neurosim_nb.core.neurons.lif import LIFNeuron, LIFParameters
from neurosim_nb.stimuli import PoissonInput

__all__ = ["RecurrentNetwork"]


def _number(name: str, value, *, positive: bool = False, lo: float | None = None,
            hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(
            value):
        raise ValueError(f"{name} = {value!r} must be a finite number")
    value = float(value)
    if positive and value <= 0:
        raise ValueError(f"{name} = {value!r} must be > 0")
    if lo is not None and value < lo:
        raise ValueError(f"{name} = {value!r} must be >= {lo}")
    if hi is not None and value > hi:
        raise ValueError(f"{name} = {value!r} must be <= {hi}")
    return value


class RecurrentNetwork(Network):
    """A recurrent E/I network (populations ``exc`` then ``inh``).

    Build one with :meth:`create_balanced` or :meth:`create_plastic`; ``brunel`` holds the
    derived quantities (``N_E``, ``N_I``, ``C_E``, ``C_I``, ``J``, ``g``, ``eta``,
    ``nu_thr_hz``, ``nu_ext_hz``, ...).
    """

    brunel: dict

    @property
    def excitatory_ids(self) -> np.ndarray:
        """Global ids of the excitatory neurons."""
        return self.neuron_ids("exc")

    @property
    def inhibitory_ids(self) -> np.ndarray:
        """Global ids of the inhibitory neurons."""
        return self.neuron_ids("inh")

    @classmethod
    def create_balanced(cls, n_neurons: int = 1000, g: float = 4.0, *, eta: float = 0.85,
                        J: float | None = None, epsilon: float = 0.1,
                        excitatory_fraction: float = 0.8, delay_ms: float = 1.5,
                        tau_m: float = 20.0, theta: float = 20.0, V_r: float = 10.0,
                        t_ref: float = 2.0, V_rest: float = -70.0, seed: int | None = None,
                        name: str = "balanced") -> RecurrentNetwork:
        r"""Brunel (2000) sparse balanced network with its external Poisson drive.

        Parameters
        ----------
        n_neurons : int
            Total number of neurons N.
        g : float
            Relative inhibitory strength (inhibitory weight :math:`-gJ`).
        eta : float
            External rate in units of :math:`\nu_{thr}` (0: no external drive).
        J : float, optional
            Excitatory weight (mV); default :math:`0.1 \sqrt{800 / C_E}` mV.
        epsilon : float
            Connection probability defining the in-degrees :math:`C = \epsilon N`.
        excitatory_fraction : float
            :math:`N_E / N` (Brunel: 0.8).
        delay_ms : float
            Synaptic delay D (ms).
        tau_m, theta, V_r, t_ref : float
            Membrane time constant (ms), threshold and reset above rest (mV), refractory
            period (ms).
        V_rest : float
            Resting potential (mV); only shifts every potential.
        seed : int, optional
            Seed of connectivity and initial potentials (uniform between rest and
            threshold, which avoids a synchronous first volley).

        Raises
        ------
        ValueError
            A parameter out of range or a network too small for one synapse per type.
        """
        n = _count_neurons(n_neurons)
        g = _number("g", g, lo=0.0)
        eta = _number("eta", eta, lo=0.0)
        epsilon = _number("epsilon", epsilon, positive=True, hi=1.0)
        frac = _number("excitatory_fraction", excitatory_fraction, positive=True, hi=1.0)
        delay_ms = _number("delay_ms", delay_ms, lo=0.0)
        tau_m = _number("tau_m", tau_m, positive=True)
        theta = _number("theta", theta, positive=True)
        V_r = _number("V_r", V_r, hi=theta - 1e-9)
        t_ref = _number("t_ref", t_ref, lo=0.0)
        n_e = int(round(frac * n))
        n_i = n - n_e
        c_e = int(round(epsilon * n_e))
        c_i = int(round(epsilon * n_i))
        if n_e < 2 or c_e < 1 or c_e >= n_e or (n_i and c_i >= n_i):
            raise ValueError(f"n_neurons = {n} with epsilon = {epsilon} gives N_E = {n_e}, "
                             f"N_I = {n_i}, C_E = {c_e}, C_I = {c_i}; need C_E >= 1 and "
                             f"in-degrees below the population sizes (more neurons?)")
        J = 0.1 * math.sqrt(800.0 / c_e) if J is None else _number("J", J, positive=True)
        params = LIFParameters(tau_m=tau_m, V_rest=V_rest, V_threshold=V_rest + theta,
                               V_reset=V_rest + V_r, t_refractory=t_ref, R_m=100.0)
        net = cls(name, seed=seed)
        net.add_population("exc", LIFNeuron(params, n=n_e))
        if n_i:
            net.add_population("inh", LIFNeuron(params, n=n_i))
        for pre, k, w in (("exc", c_e, J), ("inh", c_i, -g * J)):
            if pre not in net.populations or k == 0:
                continue
            for post in net.populations:
                net.connect(pre, post, "fixed_indegree", k=k, weight=w, delay_ms=delay_ms,
                            receptor="delta", autapses=False)
        nu_thr = theta / (J * c_e * tau_m) * 1000.0
        nu_ext = eta * nu_thr
        for pname, pop in net.populations.items():
            pop.V = net.rng.uniform(V_rest, V_rest + theta, pop.n)
            if eta > 0:
                net.add_stimulus(pname, PoissonInput(rate_hz=nu_ext, weight_mV=J, n_sources=c_e))
        net.brunel = {"N_E": n_e, "N_I": n_i, "C_E": c_e, "C_I": c_i, "J": J, "g": g,
                      "eta": eta, "epsilon": epsilon, "D": delay_ms, "tau_m": tau_m,
                      "theta": theta, "V_r": V_r, "t_ref": t_ref, "nu_thr_hz": nu_thr,
                      "nu_ext_hz": nu_ext}
        return net

    @classmethod
    def create_plastic(cls, n_neurons: int = 500, stdp_lr: float = 0.01, *,
                       w_max_factor: float = 2.0, tau_stdp_ms: float = 20.0,
                       **balanced) -> RecurrentNetwork:
        r"""The balanced network with pair-based STDP on its E -> E synapses.

        Parameters
        ----------
        n_neurons : int
            Total number of neurons.
        stdp_lr : float
            Learning rate: potentiation per pair at :math:`\Delta t = 0` as a fraction of
            ``w_max`` (:math:`A_+ = \mathrm{stdp\_lr}\,w_{max}`, :math:`A_- = 1.05 A_+`).
        w_max_factor : float
            Upper weight bound in units of :math:`J` (lower bound 0).
        tau_stdp_ms : float
            Width of both STDP windows (ms).
        **balanced
            Passed to :meth:`create_balanced` (``g``, ``eta``, ``J``, ``seed``, ...).

        Examples
        --------
        >>> net = RecurrentNetwork.create_plastic(n_neurons=200, stdp_lr=0.01, seed=2)
        >>> proj = net.plastic_projection
        >>> proj.name, proj.dynamics.params.w_max == 2 * net.brunel["J"]
        ('exc->exc:STDP', True)
        """
        from neurosim_nb.core.synapses.stdp import STDP

        stdp_lr = _number("stdp_lr", stdp_lr, lo=0.0)
        w_max_factor = _number("w_max_factor", w_max_factor, lo=1.0)
        tau_stdp_ms = _number("tau_stdp_ms", tau_stdp_ms, positive=True)
        balanced.setdefault("name", "plastic")
        net = cls.create_balanced(n_neurons, **balanced)
        b = net.brunel
        w_max = w_max_factor * b["J"]
        a_plus = stdp_lr * w_max
        proj = next(p for p in net.projections if p.pre == "exc" and p.post == "exc")
        proj.dynamics = STDP(w_min=0.0, w_max=w_max, A_plus=a_plus, A_minus=1.05 * a_plus,
                             tau_plus=tau_stdp_ms, tau_minus=tau_stdp_ms)
        proj.name = "exc->exc:STDP"
        net.plastic_projection = proj
        b.update(stdp_lr=stdp_lr, w_max=w_max, A_plus=a_plus, A_minus=1.05 * a_plus)
        return net


def _count_neurons(n) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 5:
        raise ValueError(f"n_neurons = {n!r} must be an integer >= 5")
    return int(n)
