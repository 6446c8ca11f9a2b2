r"""Rate-based plasticity: Oja's Hebbian rule and homeostatic synaptic scaling.

Both rules read firing rates from event-driven exponential traces of the pre- and
postsynaptic spikes: every spike adds 1 to its neuron's trace :math:`x`, which decays with
``tau_rate`` between spikes, and the rate estimate is :math:`\nu = x/\tau_{rate}` (Hz),
unbiased for a stationary train (:math:`E[x] = \nu\tau_{rate}`). A trace is stored as a
value plus the step of its last update and decayed when read, so there is no per-step
work. The weights are updated every ``interval`` ms, at the first chunk end at or after
each interval (chunks are ``min(delay)`` long), and held fixed in between.

**Oja's rule** (Oja 1982; Gerstner et al., *Neuronal Dynamics*, ch. 19.3), rate form

.. math::

    \frac{dw_{ij}}{dt} = \eta\,\nu_j\,(\nu_i - \alpha\,\nu_j\,w_{ij})

with :math:`\nu_i` the presynaptic and :math:`\nu_j` the postsynaptic rate (Hz), :math:`t`
in seconds, :math:`\eta` in weight units per (Hz² s) and :math:`\alpha` in 1/(weight unit).
The Hebbian term :math:`\eta\nu_i\nu_j` grows correlated weights; the decay term
:math:`-\eta\alpha\nu_j^2 w` keeps them bounded: a synapse settles where
:math:`\alpha\,\nu_j\,w_{ij} = \nu_i` (for a linear neuron, at weight-vector norm
:math:`1/\sqrt{\alpha}`). It is integrated by an Euler step of length ``interval`` with the
rates at its end, and the weights are clipped to ``[w_min, w_max]``.

**Homeostatic synaptic scaling** (Turrigiano et al. 1998; van Rossum, Bi & Turrigiano 2000):
every interval each postsynaptic neuron's incoming weights of the projection are scaled
multiplicatively toward a target rate,

.. math::

    w_{ij} \leftarrow \mathrm{clip}\Big(w_{ij}\big(1 + \eta\,\frac{\nu_{target} - \nu_j}
    {\nu_{target}}\big),\ w_{min},\ w_{max}\Big),

so a neuron firing above target weakens all its inputs and one firing below strengthens
them, preserving their ratios.

Examples
--------
>>> from neurosim_nb import LIFNeuron, Network
>>> from neurosim_nb.core.synapses.chemical import ChemicalSynapse
>>> from neurosim_nb.stimuli import PoissonInput
>>> net = Network(seed=0)
>>> _ = net.add_population("inp", LIFNeuron.create_excitatory(n=50, t_refractory=0.0))
>>> _ = net.add_population("out", LIFNeuron.create_excitatory(n=1))
>>> scaling = HomeostaticScaling(HomeostaticParameters(target_rate=5.0, eta=0.05))
>>> proj = net.add(ChemicalSynapse.create_current("inp", "out", weight=0.2,
...                                               dynamics=scaling))
>>> net.add_stimulus("inp", PoissonInput(rate_hz=20.0, weight_mV=100.0))
>>> ds = net.simulate(2000.0, seed=1, record=(), record_weights=True)
>>> bool(ds.weight[-1].mean() < ds.weight[0].mean())   # it fired above 5 Hz: scaled down
True
"""

from __future__ import annotations

import numpy as np

from neurosim_nb._jit import njit
from neurosim_nb.core.synapses.delivery import SynapticDynamics, deliver
from neurosim_nb.params import ParameterSet, param, parameters

__all__ = [
    "EventDrivenDynamics",
    "OjaParameters",
    "OjaRule",
    "HomeostaticParameters",
    "HomeostaticScaling",
]


@njit(cache=True)
def update_traces(spk_step, spk_idx, n_spk, x, last, k):
    """Add 1 to the trace of each spiking neuron after decaying it by ``exp(-steps * k)``
    since its last update (``k = dt / tau``); ``last`` holds the step of that update."""
    for q in range(n_spk):
        j = spk_idx[q]
        s = spk_step[q]
        x[j] = x[j] * np.exp(-(s - last[j]) * k) + 1.0
        last[j] = s


def traces_at(x: np.ndarray, last: np.ndarray, step: int, k: float) -> np.ndarray:
    """Trace values decayed to ``step`` (vectorised read)."""
    return x * np.exp(-(step - last) * k)


def check_bounds(cls_name: str, w_min: float, w_max: float) -> None:
    if w_min > w_max:
        raise ValueError(f"{cls_name}: w_min ({w_min}) must not exceed w_max ({w_max})")


def init_pair_traces(dynamics, projection) -> None:
    """Check a projection's initial weights against ``dynamics.params`` bounds and give
    ``dynamics`` zeroed event-driven pre/post traces (value + step of last update)."""
    p = dynamics.params
    w = projection.weight
    if w.size and (w.min() < p.w_min or w.max() > p.w_max):
        raise ValueError(f"{type(dynamics).__name__}: initial weights of {projection.name!r} "
                         f"span [{w.min():g}, {w.max():g}] {projection.receptor.weight_units}"
                         f", outside the bounds [w_min, w_max] = [{p.w_min:g}, {p.w_max:g}];"
                         f" change the weights or the bounds")
    if projection.receptor.weight_units == "uS" and p.w_min < 0:
        raise ValueError(f"w_min = {p.w_min} < 0 for conductance receptor "
                         f"{projection.receptor.name} (weights are conductances >= 0 uS)")
    dynamics.x_pre = np.zeros(projection.n_pre)
    dynamics.t_pre = np.zeros(projection.n_pre, dtype=np.int64)
    dynamics.x_post = np.zeros(projection.n_post)
    dynamics.t_post = np.zeros(projection.n_post, dtype=np.int64)


class EventDrivenDynamics(SynapticDynamics):
    """Base of the stateful dynamics here: bound to exactly one projection, with state
    stored at event times (global steps of the current run) and carried over to the
    next run of the same network (the simulator restarts its step count at 0 each run,
    so at every new run the state is decayed to the end of the previous one and its
    update steps rebased to 0).

    Subclasses implement ``_init_state(projection)``, ``_set_dt(dt)`` and
    ``_rebase(step_now)`` (decay everything to ``step_now`` with the old ``dt``, then make
    the stored steps relative to it).
    """

    def __init__(self) -> None:
        self.projection = None
        self.dt: float | None = None
        #: global step at the end of the last processed chunk of the current run
        self.step_now = 0

    def attach(self, projection) -> None:
        """Link to ``projection`` (done by the synapse specification's ``build``)."""
        if self.projection is not None and self.projection is not projection:
            raise ValueError(f"this {type(self).__name__} already drives projection "
                             f"{self.projection.name!r}; give each projection its own")
        self.projection = projection

    def bind(self, projection, dt: float) -> None:
        self.attach(projection)
        if self.dt is None:
            self._init_state(projection)
        else:
            self._rebase(self.step_now)
        self.dt = float(dt)
        self._set_dt(self.dt)
        self.step_now = 0

    def reset(self) -> None:
        """Forget all state (traces, eligibility); the next run starts afresh."""
        self.dt = None
        self.step_now = 0

    @property
    def now_ms(self) -> float:
        """Time (ms since the start of the last run) up to which spikes were processed."""
        return 0.0 if self.dt is None else self.step_now * self.dt

    # subclass hooks
    def _init_state(self, projection) -> None:
        raise NotImplementedError

    def _set_dt(self, dt: float) -> None:
        raise NotImplementedError

    def _rebase(self, step_now: int) -> None:
        raise NotImplementedError


class _RateTraces(EventDrivenDynamics):
    """Pre/post rate traces and an update every ``interval`` ms (shared by both rules)."""

    plastic = True

    def __init__(self, params) -> None:
        super().__init__()
        self.params = params

    def _init_state(self, projection) -> None:
        init_pair_traces(self, projection)
        self._last_update_ms = 0.0

    def _set_dt(self, dt: float) -> None:
        self.k = dt / self.params.tau_rate
        self.last_update = int(round(self._last_update_ms / dt))
        self.interval_steps = max(1, int(round(self.params.interval / dt)))
        self.next_update = self.last_update + self.interval_steps

    def _rebase(self, step_now: int) -> None:
        self.x_pre = traces_at(self.x_pre, self.t_pre, step_now, self.k)
        self.x_post = traces_at(self.x_post, self.t_post, step_now, self.k)
        self.t_pre[:] = 0
        self.t_post[:] = 0
        self._last_update_ms = (self.last_update - step_now) * self.dt

    def rates(self) -> tuple[np.ndarray, np.ndarray]:
        """Current (presynaptic, postsynaptic) rate estimates (Hz)."""
        if self.dt is None:
            return np.zeros(0), np.zeros(0)
        scale = 1000.0 / self.params.tau_rate
        return (traces_at(self.x_pre, self.t_pre, self.step_now, self.k) * scale,
                traces_at(self.x_post, self.t_post, self.step_now, self.k) * scale)

    def process(self, projection, pre_steps, pre_idx, n_pre, post_steps, post_idx, n_post,
                buf, step_end: int) -> None:
        deliver(pre_steps, pre_idx, n_pre, projection.indptr, projection.post_sorted,
                projection.weight, projection.delay_steps, buf)
        update_traces(pre_steps, pre_idx, n_pre, self.x_pre, self.t_pre, self.k)
        update_traces(post_steps, post_idx, n_post, self.x_post, self.t_post, self.k)
        self.step_now = step_end
        if step_end >= self.next_update:
            elapsed_ms = (step_end - self.last_update) * self.dt
            self._apply(projection, elapsed_ms)
            self.last_update = step_end
            self.next_update = step_end + self.interval_steps

    def _apply(self, projection, elapsed_ms: float) -> None:
        raise NotImplementedError


@parameters
class OjaParameters(ParameterSet):
    """Oja's Hebbian rule (rate form, see the module docstring)."""

    learning_rate: float = param(1e-6, "weight/(Hz^2 s)", (0.0, 1e6),
                                 "eta: Hebbian learning rate")
    alpha: float = param(1000.0, "1/weight", (0.0, 1e12),
                         "alpha: strength of the Oja decay term (1/weight unit)")
    tau_rate: float = param(200.0, "ms", (0.1, 1e6), "time constant of the rate traces")
    interval: float = param(10.0, "ms", (1e-3, 1e6), "time between weight updates")
    w_min: float = param(0.0, "weight", (-1e6, 1e6), "lower weight bound")
    w_max: float = param(1.0, "weight", (-1e6, 1e6), "upper weight bound")

    def validate(self) -> None:
        check_bounds("OjaParameters", self.w_min, self.w_max)


class OjaRule(_RateTraces):
    """Oja's Hebbian rule on a projection (see the module docstring).

    Parameters
    ----------
    params : OjaParameters, optional
    **kw
        Overrides of the parameters (``learning_rate``, ``alpha``, ``tau_rate``, ...).
    """

    def __init__(self, params: OjaParameters | None = None, **kw) -> None:
        super().__init__((params or OjaParameters()).replace(**kw))

    def _apply(self, projection, elapsed_ms: float) -> None:
        p = self.params
        r_pre, r_post = self.rates()
        post_rate = r_post[projection.post_idx]
        w = projection.weight
        dw = p.learning_rate * (elapsed_ms / 1000.0) * post_rate * (
            r_pre[projection.pre_idx] - p.alpha * post_rate * w)
        np.clip(w + dw, p.w_min, p.w_max, out=w)


@parameters
class HomeostaticParameters(ParameterSet):
    """Multiplicative synaptic scaling toward a target rate (see the module docstring)."""

    target_rate: float = param(5.0, "Hz", (1e-3, 1e4), "target postsynaptic firing rate")
    eta: float = param(0.01, "1", (0.0, 10.0), "scaling rate per update")
    tau_rate: float = param(1000.0, "ms", (0.1, 1e6), "time constant of the rate traces")
    interval: float = param(100.0, "ms", (1e-3, 1e6), "time between scaling steps")
    w_min: float = param(0.0, "weight", (-1e6, 1e6), "lower weight bound")
    w_max: float = param(1.0, "weight", (-1e6, 1e6), "upper weight bound")

    def validate(self) -> None:
        check_bounds("HomeostaticParameters", self.w_min, self.w_max)


class HomeostaticScaling(_RateTraces):
    """Homeostatic multiplicative scaling of each postsynaptic neuron's incoming weights.

    Parameters
    ----------
    params : HomeostaticParameters, optional
    **kw
        Overrides (``target_rate``, ``eta``, ``tau_rate``, ``interval``, ``w_min``, ``w_max``).
    """

    def __init__(self, params: HomeostaticParameters | None = None, **kw) -> None:
        super().__init__((params or HomeostaticParameters()).replace(**kw))

    def _apply(self, projection, elapsed_ms: float) -> None:
        p = self.params
        _, r_post = self.rates()
        factor = 1.0 + p.eta * (p.target_rate - r_post) / p.target_rate
        w = projection.weight
        np.clip(w * factor[projection.post_idx], p.w_min, p.w_max, out=w)
