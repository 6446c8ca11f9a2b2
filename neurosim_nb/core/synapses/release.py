r"""Short-term plasticity of transmitter release: the Tsodyks-Markram model (``NtRelease``).

Each presynaptic neuron has a fraction of available resources :math:`x` (recovering to 1
with :math:`\tau_{rec}`) and a utilisation :math:`u` (decaying to 0 with
:math:`\tau_{facil}`). At a spike, :math:`u` first jumps by :math:`U(1 - u)`, then the
fraction :math:`u\,x` is released and removed from :math:`x` (Tsodyks, Pawelzik & Markram
1998, in the consistent form of Maass & Markram 2002 and Brian2/NEST). For spikes
:math:`n` and :math:`n+1` at an interval :math:`\Delta`:

.. math::

    u_1 = U,\quad x_1 = 1,\qquad
    u_{n+1} = U + u_n (1 - U)\, e^{-\Delta/\tau_{facil}},\qquad
    x_{n+1} = 1 - \big(1 - x_n (1 - u_n)\big)\, e^{-\Delta/\tau_{rec}},

and spike :math:`n` delivers the weight :math:`w\,u_n x_n` (so :math:`w` is the absolute
efficacy, the response if all resources were released). ``tau_facil = 0`` means no
facilitation (:math:`u_n = U`). The state is stored per presynaptic neuron at its last
spike and advanced in closed form at the next one (event-driven, exact for any interval).

Presets: the two synapses of Tsodyks, Pawelzik & Markram (1998), Fig. 1 --
``depressing`` U = 0.5, tau_rec = 800 ms, no facilitation (also NEST's ``tsodyks2_synapse``
default); ``facilitating`` U = 0.03, tau_rec = 130 ms, tau_facil = 530 ms.

Examples
--------
>>> a = tsodyks_markram_amplitudes(np.arange(5) * 20.0, **STP_PRESETS["depressing"])
>>> np.round(a / a[0], 3)
array([1.   , 0.512, 0.275, 0.159, 0.102])
>>> a = tsodyks_markram_amplitudes(np.arange(5) * 20.0, **STP_PRESETS["facilitating"])
>>> bool(np.all(np.diff(a) > 0))
True

In a network, pass it as the projection's dynamics:

>>> from neurosim_nb import LIFNeuron, Network
>>> from neurosim_nb.core.synapses.chemical import ChemicalSynapse
>>> net = Network(seed=0)
>>> _ = net.add_population("a", LIFNeuron.create_excitatory(n=3))
>>> _ = net.add_population("b", LIFNeuron.create_excitatory(n=3))
>>> proj = net.add(ChemicalSynapse.create_ampa("a", "b", rule="one_to_one",
...                                            dynamics=TsodyksMarkram.depressing()))
>>> type(proj.dynamics).__name__
'TsodyksMarkram'
"""

from __future__ import annotations

import math

import numpy as np

from neurosim_nb._jit import njit
from neurosim_nb.core.synapses.plasticity import EventDrivenDynamics
from neurosim_nb.params import ParameterSet, param, parameters

__all__ = ["STPParameters", "STP_PRESETS", "TsodyksMarkram", "tsodyks_markram_amplitudes"]

STP_PRESETS = {
    "depressing": {"U": 0.5, "tau_rec": 800.0, "tau_facil": 0.0},
    "facilitating": {"U": 0.03, "tau_rec": 130.0, "tau_facil": 530.0},
}


@parameters
class STPParameters(ParameterSet):
    """Tsodyks-Markram short-term plasticity (see the module docstring)."""

    U: float = param(0.5, "1", (1e-6, 1.0), "utilisation increment (release probability)")
    tau_rec: float = param(800.0, "ms", (1e-3, 1e6), "recovery time constant of resources")
    tau_facil: float = param(0.0, "ms", (0.0, 1e6), "facilitation time constant (0 = none)")


def tsodyks_markram_amplitudes(spike_times_ms, U: float, tau_rec: float, tau_facil: float,
                               weight: float = 1.0) -> np.ndarray:
    """Delivered amplitudes ``weight * u_n * x_n`` of a spike train, by the recurrence of
    the module docstring (pure numpy; for teaching and as the test reference).

    Parameters
    ----------
    spike_times_ms : array_like
        Increasing spike times (ms).
    U, tau_rec, tau_facil : float
        Parameters (``tau_facil = 0``: no facilitation), as :class:`STPParameters`.
    weight : float
        Absolute efficacy ``w``.

    Returns
    -------
    numpy.ndarray
        One amplitude per spike (units of ``weight``).

    >>> tsodyks_markram_amplitudes([0.0, 10.0], U=0.5, tau_rec=100.0, tau_facil=0.0)
    array([0.5       , 0.27379065])
    """
    p = STPParameters(U=U, tau_rec=tau_rec, tau_facil=tau_facil)
    t = np.asarray(spike_times_ms, dtype=float)
    if t.ndim != 1 or (t.size > 1 and np.any(np.diff(t) <= 0)) or not np.all(np.isfinite(t)):
        raise ValueError("spike_times_ms must be a 1-D array of finite increasing times (ms)")
    out = np.empty(t.size)
    u, x = 0.0, 1.0  # state just after the previous spike (none yet: u 0, x 1)
    for n in range(t.size):
        if n > 0:
            d = t[n] - t[n - 1]
            x = 1.0 - (1.0 - x) * math.exp(-d / p.tau_rec)
            u = u * math.exp(-d / p.tau_facil) if p.tau_facil > 0 else 0.0
        u = u + p.U * (1.0 - u)
        out[n] = weight * u * x
        x = x - u * x
    return out


@njit(cache=True)
def _tm_deliver(spk_step, spk_idx, n_spk, indptr, post, weight, delay, buf, u, x, last,
                k_rec, k_facil, big_u):
    """Advance each spiking neuron's (u, x) to its spike, deliver ``w u x``, release.
    ``big_u`` is the release probability U of each presynaptic neuron (one value for plain
    Tsodyks-Markram, following an astrocyte's calcium with gliotransmission)."""
    depth = buf.shape[0]
    for q in range(n_spk):
        s = spk_step[q]
        j = spk_idx[q]
        ds = s - last[j]
        xj = 1.0 - (1.0 - x[j]) * math.exp(-ds * k_rec)
        uj = u[j] * math.exp(-ds * k_facil) if k_facil > 0.0 else 0.0
        uj = uj + big_u[j] * (1.0 - uj)
        rel = uj * xj
        for syn in range(indptr[j], indptr[j + 1]):
            buf[(s + delay[syn] + 1) % depth, post[syn]] += weight[syn] * rel
        u[j] = uj
        x[j] = xj - rel
        last[j] = s


class TsodyksMarkram(EventDrivenDynamics):
    """Tsodyks-Markram short-term plasticity of a projection (weights stay fixed: the
    delivered amplitude of a spike is ``weight * u * x``); see the module docstring.

    Parameters
    ----------
    params : STPParameters, optional
    **kw
        Overrides (``U``, ``tau_rec``, ``tau_facil``).
    """

    plastic = False

    def __init__(self, params: STPParameters | None = None, **kw) -> None:
        super().__init__()
        self.params = (params or STPParameters()).replace(**kw)

    @classmethod
    def depressing(cls, **kw) -> TsodyksMarkram:
        """Depressing synapse: U 0.5, tau_rec 800 ms, no facilitation."""
        return cls(STPParameters(**STP_PRESETS["depressing"]), **kw)

    @classmethod
    def facilitating(cls, **kw) -> TsodyksMarkram:
        """Facilitating synapse: U 0.03, tau_rec 130 ms, tau_facil 530 ms."""
        return cls(STPParameters(**STP_PRESETS["facilitating"]), **kw)

    def _init_state(self, projection) -> None:
        self.u = np.zeros(projection.n_pre)
        self.x = np.ones(projection.n_pre)
        self.last = np.zeros(projection.n_pre, dtype=np.int64)

    def _set_dt(self, dt: float) -> None:
        p = self.params
        self.k_rec = dt / p.tau_rec
        self.k_facil = dt / p.tau_facil if p.tau_facil > 0 else 0.0

    def _rebase(self, step_now: int) -> None:
        ds = step_now - self.last
        self.x = 1.0 - (1.0 - self.x) * np.exp(-ds * self.k_rec)
        self.u = self.u * np.exp(-ds * self.k_facil) if self.k_facil > 0 else 0.0 * self.u
        self.last[:] = 0

    def state(self) -> tuple[np.ndarray, np.ndarray]:
        """``(u, x)`` of each presynaptic neuron just after its last spike."""
        if self.dt is None:
            return np.zeros(0), np.ones(0)
        return self.u.copy(), self.x.copy()

    def release_probability(self) -> np.ndarray:
        """U of each presynaptic neuron: ``params.U`` for all (subclasses may modulate it)."""
        u = getattr(self, "_u_each", None)
        if u is None or u.size != self.u.size or (u.size and u[0] != self.params.U):
            u = self._u_each = np.full(self.u.size, float(self.params.U))
        return u

    def process(self, projection, pre_steps, pre_idx, n_pre, post_steps, post_idx, n_post,
                buf, step_end: int) -> None:
        _tm_deliver(pre_steps, pre_idx, n_pre, projection.indptr, projection.post_sorted,
                    projection.weight, projection.delay_steps, buf, self.u, self.x, self.last,
                    self.k_rec, self.k_facil, self.release_probability())
        self.step_now = step_end
