r"""Astrocytes: Li-Rinzel calcium-IP3 dynamics driven by synaptic spikes, acting back on
neurons through a slow inward current (``GliaLink``).

The model is NEST 3.10's ``astrocyte_lr_1994`` (Li & Rinzel 1994, a reduction of De Young &
Keizer 1992; input and output after Nadkarni & Jung 2003). Three states per astrocyte: the
cytosolic IP3 concentration :math:`I` (µM), the cytosolic calcium :math:`C` (µM) and the
fraction :math:`h` of IP3 receptors not inactivated by calcium:

.. math::

    \frac{dI}{dt} = \frac{I_0 - I}{\tau_{IP3}} + \Delta_{IP3}\,J_{syn}(t),\qquad
    \frac{dh}{dt} = \alpha_h (1 - h) - \beta_h h,

    \frac{dC}{dt} = \rho\, r_{IP3R}\, m_\infty^3 n_\infty^3 h^3 (C_{ER} - C)
      - r_{SERCA}\frac{C^2}{K_{SERCA}^2 + C^2} + \rho\, r_L (C_{ER} - C) + J_{ext},

with :math:`m_\infty = I/(I + K_{IP3,1})`, :math:`n_\infty = C/(C + K_{act})`,
:math:`C_{ER} = (C_{tot} - C)/\rho`, :math:`\alpha_h = k_{IP3R} K_{inh}
(I + K_{IP3,1})/(I + K_{IP3,2})` and :math:`\beta_h = k_{IP3R} C`. Each presynaptic spike of
weight :math:`w` raises IP3 by :math:`\Delta_{IP3}\,w` (NEST: after the step's integration).
The slow inward current (SIC) the astrocyte sends to its neurons is NEST's

.. math::

    I_{SIC} = \mathrm{SIC_{scale}}\; \ln y \;\; (y > 1),\qquad
    y = (C - \mathrm{SIC_{th}}) / \mathrm{nM}, \quad 0 \text{ otherwise (pA)}.

Numerics: one classical Runge-Kutta (RK4) step per time step (``n_substeps`` per step if
asked), calcium clamped to :math:`[0, C_{tot}]` after it as NEST does. NEST integrates with
GSL's RKF45; both reproduce NEST's reference trace (``test_astrocyte.dat``, scipy ``odeint``)
to ``pytest.approx``'s relative 1e-6 at dt = 0.1 ms (``tests/core/test_astrocyte.py``).

In a :class:`~neurosim_nb.core.networks.network.Network` an :class:`AstrocytePopulation` is a
population like any other (its kernel follows the engine's kernel contract):

* **input** -- projections into it with ``receptor="delta"``: the weight of each arriving
  spike is NEST's spike weight :math:`w` (dimensionless); an input current (``I_ext``,
  stimuli) is NEST's calcium current :math:`J_{ext}` (µM/ms, applied in its own step; NEST
  applies it one step later);
* **output to neurons** -- :class:`SlowInwardCurrent`, a continuous coupling
  (``Network.add_coupling``): neuron :math:`j` receives :math:`\sum_a w_{aj} I_{SIC,a}`
  computed from the astrocytes' state at the start of each block of ``hold_ms`` (default
  1 ms, NEST's ``sic_connection`` delay) and held over it;
* **output to synapses** -- :class:`~neurosim_nb.core.synapses.gliotransmission.
  GliotransmitterTM` (Tsodyks-Markram release probability modulated by the calcium of the
  astrocyte that ensheathes the synapse);
* **recording** -- ``record=("V", "IP3", "Ca", "h", "SIC")``: the astrocyte variables are
  ``(time, neuron)`` variables like every state variable (the population protocol's way: an
  astrocyte is a row of the ``neuron`` dimension whose ``population`` coordinate names its
  population); they are NaN for neurons and ``V`` is NaN for astrocytes.

Examples
--------
>>> astro = AstrocytePopulation.from_preset("nest", n=1)
>>> round(float(astro.get_state("Ca")[0]), 3), round(float(astro.get_state("h")[0]), 3)
(0.073, 0.793)
>>> round(float(sic_current(np.array([0.1, 0.19669 + 0.01]))[1]), 4)     # ln(10) pA
2.3026
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from neurosim_nb._jit import njit
from neurosim_nb.core.neurons._kernel_util import record_step
from neurosim_nb.core.neurons.base import NeuronPopulation, shared_columns
from neurosim_nb.core.neurons.continuous import ContinuousForm
from neurosim_nb.core.synapses.channels import synaptic_step
from neurosim_nb.params import ParameterSet, param, parameters

__all__ = ["AstrocyteParameters", "AstrocytePopulation", "SlowInwardCurrent",
           "li_rinzel_rhs", "sic_current", "ASTRO_ROWS"]


@parameters
class AstrocyteParameters(ParameterSet):
    """Li-Rinzel astrocyte (NEST ``astrocyte_lr_1994``); defaults are NEST 3.10's."""

    Ca_tot: float = param(2.0, "uM", (1e-6, 1e3),
                          "total free calcium, in terms of cytosolic volume")
    IP3_0: float = param(0.16, "uM", (0.0, 1e3), "baseline IP3 concentration")
    Kd_IP3_1: float = param(0.13, "uM", (1e-9, 1e3), "first IP3R dissociation constant of IP3")
    Kd_IP3_2: float = param(0.9434, "uM", (1e-9, 1e3),
                            "second IP3R dissociation constant of IP3")
    Kd_act: float = param(0.08234, "uM", (1e-9, 1e3),
                          "IP3R dissociation constant of calcium (activation)")
    Kd_inh: float = param(1.049, "uM", (1e-9, 1e3),
                          "IP3R dissociation constant of calcium (inhibition)")
    Km_SERCA: float = param(0.1, "uM", (1e-9, 1e3), "half-activation constant of the SERCA pump")
    SIC_scale: float = param(1.0, "pA", (0.0, 1e6), "scale of the slow inward current")
    SIC_th: float = param(0.19669, "uM", (0.0, 1e3), "calcium threshold of the SIC")
    delta_IP3: float = param(0.0002, "uM", (0.0, 1e3),
                             "IP3 increase per unit of presynaptic spike weight")
    k_IP3R: float = param(0.0002, "1/(uM*ms)", (0.0, 1e3),
                          "IP3R binding constant for calcium inhibition")
    rate_IP3R: float = param(0.006, "1/ms", (0.0, 1e3), "maximum calcium release rate of IP3R")
    rate_L: float = param(0.00011, "1/ms", (0.0, 1e3), "calcium leak rate from the ER")
    rate_SERCA: float = param(0.0009, "uM/ms", (0.0, 1e3), "maximum SERCA uptake rate")
    ratio_ER_cyt: float = param(0.185, "1", (1e-6, 1e3), "ER to cytosol volume ratio")
    tau_IP3: float = param(7142.0, "ms", (1e-3, 1e12), "decay time constant of IP3")
    IP3_init: float = param(0.16, "uM", (0.0, 1e3), "initial IP3 (NEST default: IP3_0)")
    Ca_init: float = param(0.073, "uM", (0.0, 1e3), "initial cytosolic calcium")
    h_init: float = param(0.793, "1", (0.0, 1.0), "initial fraction of active IP3R")
    n_substeps: float = param(1.0, "1", (1.0, 1000.0), "RK4 steps per time step")


#: the kernel's parameter rows, in order (the first 16 are the ODE constants)
ASTRO_ROWS = ("Ca_tot", "IP3_0", "Kd_IP3_1", "Kd_IP3_2", "Kd_act", "Kd_inh", "Km_SERCA",
              "SIC_scale", "SIC_th", "delta_IP3", "k_IP3R", "rate_IP3R", "rate_L",
              "rate_SERCA", "ratio_ER_cyt", "tau_IP3", "n_substeps")


@njit(cache=True, inline="always")
def li_rinzel_rhs(ip3, ca, h, j_ext, ca_tot, ip3_0, kd1, kd2, kd_act, kd_inh, km_serca,
                  k_ip3r, r_ip3r, r_l, r_serca, rho, tau_ip3):
    """Time derivatives ``(dIP3, dCa, dh)`` per ms of the Li-Rinzel equations (module
    docstring); calcium is clamped to ``[0, Ca_tot]`` inside, as NEST does.

    >>> d = li_rinzel_rhs(0.16, 0.073, 0.793, 0.0, 2.0, 0.16, 0.13, 0.9434, 0.08234, 1.049,
    ...                   0.1, 0.0002, 0.006, 0.00011, 0.0009, 0.185, 7142.0)
    >>> [f"{x:.2e}" for x in d]
    ['0.00e+00', '-2.60e-06', '-1.64e-07']
    """
    c = min(max(ca, 0.0), ca_tot)
    alpha_h = k_ip3r * kd_inh * (ip3 + kd1) / (ip3 + kd2)
    beta_h = k_ip3r * c
    j_pump = r_serca * c * c / (km_serca * km_serca + c * c)
    m_inf = ip3 / (ip3 + kd1)
    n_inf = c / (c + kd_act)
    ca_er = (ca_tot - c) / rho
    j_leak = rho * r_l * (ca_er - c)
    mnh = m_inf * n_inf * h
    j_chan = rho * r_ip3r * mnh * mnh * mnh * (ca_er - c)
    return ((ip3_0 - ip3) / tau_ip3, j_chan - j_pump + j_leak + j_ext,
            alpha_h * (1.0 - h) - beta_h * h)


@njit(cache=True)
def _astro_update(ip3, ca, h, j_ext, w_in, dt, ca_tot, ip3_0, kd1, kd2, kd_act, kd_inh,
                  km_serca, sic_scale, sic_th, delta_ip3, k_ip3r, r_ip3r, r_l, r_serca, rho,
                  tau_ip3, n_sub):
    """One astrocyte over one step: RK4, clamp, spike input, SIC (NEST's order)."""
    m = int(n_sub)
    hs = dt / m
    for _ in range(m):
        a1, b1, c1 = li_rinzel_rhs(ip3, ca, h, j_ext, ca_tot, ip3_0, kd1, kd2, kd_act, kd_inh,
                                   km_serca, k_ip3r, r_ip3r, r_l, r_serca, rho, tau_ip3)
        a2, b2, c2 = li_rinzel_rhs(ip3 + 0.5 * hs * a1, ca + 0.5 * hs * b1, h + 0.5 * hs * c1,
                                   j_ext, ca_tot, ip3_0, kd1, kd2, kd_act, kd_inh, km_serca,
                                   k_ip3r, r_ip3r, r_l, r_serca, rho, tau_ip3)
        a3, b3, c3 = li_rinzel_rhs(ip3 + 0.5 * hs * a2, ca + 0.5 * hs * b2, h + 0.5 * hs * c2,
                                   j_ext, ca_tot, ip3_0, kd1, kd2, kd_act, kd_inh, km_serca,
                                   k_ip3r, r_ip3r, r_l, r_serca, rho, tau_ip3)
        a4, b4, c4 = li_rinzel_rhs(ip3 + hs * a3, ca + hs * b3, h + hs * c3, j_ext, ca_tot,
                                   ip3_0, kd1, kd2, kd_act, kd_inh, km_serca, k_ip3r, r_ip3r,
                                   r_l, r_serca, rho, tau_ip3)
        ip3 += hs / 6.0 * (a1 + 2.0 * a2 + 2.0 * a3 + a4)
        ca += hs / 6.0 * (b1 + 2.0 * b2 + 2.0 * b3 + b4)
        h += hs / 6.0 * (c1 + 2.0 * c2 + 2.0 * c3 + c4)
        ca = min(max(ca, 0.0), ca_tot)
    ip3 += delta_ip3 * w_in
    y = (ca - sic_th) * 1000.0
    sic = sic_scale * math.log(y) if y > 1.0 else 0.0
    ok = ip3 == ip3 and ca == ca and h == h and abs(ip3) < 1e6
    return ip3, ca, h, sic, (0.0 if ok else -1.0)


@njit(cache=True, error_model="numpy")
def _astro_kernel(state, p, i_ext, kick, dt, step0, sample_every, rec_idx, rec_slots, rec_out,
                  spk_step, spk_idx, syn_state, syn_buf, syn_par, scratch):
    """The kernel contract (:data:`~neurosim_nb.core.neurons.base.KERNEL_DOC`) for
    astrocytes: delta-receptor weights and kicks are spike weights (IP3), the input current
    is the calcium current J_ext (µM/ms); astrocytes never spike."""
    n = state.shape[1]
    isyn = scratch[0]
    w_in = scratch[1]
    ip3_row, ca_row, h_row, sic_row = state[0], state[1], state[2], state[3]
    has_kick = kick.shape[0] > 0
    has_input = i_ext.shape[1] == n
    shared = p.shape[1] == 1
    for k in range(i_ext.shape[0]):
        step = step0 + k
        # the rows' "V" is the calcium (a conductance receptor would read it: use delta)
        synaptic_step(syn_state, syn_buf, syn_par, step % syn_buf.shape[1], ca_row, isyn, w_in)
        if has_kick:
            for i in range(n):
                w_in[i] += kick[k, i]
        for i in range(n):
            c = 0 if shared else i
            j_ext = isyn[i] + (i_ext[k, i] if has_input else 0.0)
            a, b, hh, sic, ev = _astro_update(
                ip3_row[i], ca_row[i], h_row[i], j_ext, w_in[i], dt, p[0, c], p[1, c],
                p[2, c], p[3, c], p[4, c], p[5, c], p[6, c], p[7, c], p[8, c], p[9, c],
                p[10, c], p[11, c], p[12, c], p[13, c], p[14, c], p[15, c], p[16, c])
            w_in[i] = 0.0
            if ev < 0:
                w_in[:] = 0.0
                return 0, i, step
            ip3_row[i], ca_row[i], h_row[i], sic_row[i] = a, b, hh, sic
        record_step(state, step, sample_every, rec_idx, rec_slots, rec_out)
    return 0, -1, -1


#: the rows of the astrocytes' continuous form: the 13 constants of li_rinzel_rhs, then
#: the slow inward current's and the spike input's
_FORM_ROWS = ("Ca_tot", "IP3_0", "Kd_IP3_1", "Kd_IP3_2", "Kd_act", "Kd_inh", "Km_SERCA",
              "k_IP3R", "rate_IP3R", "rate_L", "rate_SERCA", "ratio_ER_cyt", "tau_IP3",
              "SIC_scale", "SIC_th", "delta_IP3")


@njit(cache=True)
def li_rinzel_derivatives(ip3, ca, h, j_ext, ca_tot, ip3_0, kd1, kd2, kd_act, kd_inh,
                          km_serca, k_ip3r, r_ip3r, r_l, r_serca, rho, tau_ip3, sic_scale,
                          sic_th, delta_ip3):
    """:func:`li_rinzel_rhs` in the argument order of a continuous form."""
    return li_rinzel_rhs(ip3, ca, h, j_ext, ca_tot, ip3_0, kd1, kd2, kd_act, kd_inh,
                         km_serca, k_ip3r, r_ip3r, r_l, r_serca, rho, tau_ip3)


@njit(cache=True)
def astrocyte_sic(ip3, ca, h, ca_tot, ip3_0, kd1, kd2, kd_act, kd_inh, km_serca, k_ip3r,
                  r_ip3r, r_l, r_serca, rho, tau_ip3, sic_scale, sic_th, delta_ip3):
    """The slow inward current (pA) of calcium ``ca`` (NEST's formula, see
    :func:`sic_current`)."""
    y = (min(max(ca, 0.0), ca_tot) - sic_th) * 1000.0
    return (sic_scale * math.log(y) if y > 1.0 else 0.0),


#: the astrocytes' equations for ``method="adaptive"``: spike weights raise IP3 by
#: ``delta_IP3 * w`` at their arrival time; the SIC follows the calcium
ASTROCYTE_FORM = ContinuousForm(
    states=("IP3", "Ca", "h"), rows=_FORM_ROWS, derivatives=li_rinzel_derivatives,
    jump_state="IP3", jump_scale="delta_IP3", derived=("SIC",), derive=astrocyte_sic)


def sic_current(ca_uM, SIC_th: float = 0.19669, SIC_scale: float = 1.0) -> np.ndarray:
    """NEST's slow inward current (pA) for cytosolic calcium ``ca_uM`` (µM): ``SIC_scale *
    ln((Ca - SIC_th) / nM)`` where that is positive, else 0.

    >>> sic_current([0.1, 0.2]).round(3).tolist()
    [0.0, 1.197]
    """
    y = (np.asarray(ca_uM, dtype=float) - SIC_th) * 1000.0
    return np.where(y > 1.0, SIC_scale * np.log(np.maximum(y, 1.0)), 0.0)


class AstrocytePopulation(NeuronPopulation):
    """``n`` Li-Rinzel astrocytes (NEST ``astrocyte_lr_1994``; see the module docstring).

    Parameters
    ----------
    params : AstrocyteParameters, optional
        Scalars or one value per astrocyte (e.g. ``IP3_0`` per astrocyte).
    n : int
        Number of astrocytes.
    label : str, optional

    Examples
    --------
    >>> astro = AstrocytePopulation(AstrocyteParameters(IP3_init=1.0, Ca_init=1.0, h_init=1.0))
    >>> ds = astro.simulate(10.0, record=("IP3", "Ca", "h"), verbose=False)
    >>> round(float(ds.Ca[-1, 0]), 6)   # NEST's reference trace at 10 ms: 1.018313
    1.018313
    """

    parameters_class: ClassVar = AstrocyteParameters
    state_variables: ClassVar = {
        "IP3": ("uM", "astrocytic IP3 concentration"),
        "Ca": ("uM", "astrocytic cytosolic calcium concentration"),
        "h": ("1", "fraction of IP3 receptors not inactivated by calcium"),
        "SIC": ("pA", "slow inward current sent to neurons"),
    }
    current_units: ClassVar[str] = "uM/ms"
    current_long_name: ClassVar[str] = "calcium current into the cytosol"
    default_label: ClassVar[str] = "astrocytes"
    continuous: ClassVar = ASTROCYTE_FORM

    def _initial_state(self) -> np.ndarray:
        p = self.params
        ca = p.per_neuron("Ca_init", self.n)
        return np.stack([p.per_neuron("IP3_init", self.n), ca, p.per_neuron("h_init", self.n),
                         sic_current(ca, p.per_neuron("SIC_th", self.n),
                                     p.per_neuron("SIC_scale", self.n))])

    def _kernel_params(self, dt: float) -> np.ndarray:
        p = self.params
        rows = np.stack([p.per_neuron(r, self.n) for r in ASTRO_ROWS])
        rows[-1] = np.rint(rows[-1])
        return shared_columns(rows)

    def compiled_kernel(self):
        """The astrocytes' compiled kernel (the engine's kernel contract)."""
        return _astro_kernel

    def simulate(self, duration: float, input_current=None, **kwargs):
        """Simulate the astrocytes alone for ``duration`` ms (see
        :meth:`NeuronPopulation.simulate`); ``input_current`` is the calcium current J_ext
        (µM/ms) and ``record`` defaults to ``("IP3", "Ca", "h", "SIC")``.

        >>> ds = AstrocytePopulation(n=1).simulate(1.0, verbose=False)
        >>> [v for v in ds.data_vars if v in ("IP3", "Ca", "h", "SIC")]
        ['IP3', 'Ca', 'h', 'SIC']
        """
        kwargs.setdefault("record", ("IP3", "Ca", "h", "SIC"))
        return super().simulate(duration, input_current, **kwargs)

    @property
    def V(self):
        """Astrocytes have no membrane potential (an AttributeError says so)."""
        raise AttributeError("astrocytes have no membrane potential V; read get_state('Ca')")

    @classmethod
    def presets(cls) -> dict[str, ParameterSet]:
        """``"nest"`` (= ``"default"``): NEST 3.10's ``astrocyte_lr_1994`` defaults;
        ``"nest_test"``: those with NEST's test start (IP3 = Ca = h = 1).

        >>> sorted(AstrocytePopulation.presets())
        ['default', 'nest', 'nest_test']
        """
        base = AstrocyteParameters()
        return {"default": base, "nest": base,
                "nest_test": base.replace(IP3_init=1.0, Ca_init=1.0, h_init=1.0)}


class SlowInwardCurrent:
    """Astrocyte -> neuron slow inward current (NEST's ``sic_connection``): neuron
    ``post_idx[k]`` of ``post`` receives ``weight[k] * SIC`` of astrocyte ``pre_idx[k]`` of
    ``pre`` (SIC in pA, added as nA to the neuron's input current: a model with another
    ``current_units`` gets it times ``scale``), from the astrocytes' state at the start of
    each block (``hold_ms``). Add it with ``Network.add_coupling``.

    Parameters
    ----------
    pre, post : str
        Names of the astrocyte and the neuron population.
    pre_idx, post_idx : array of int
        The pairs (same length).
    weight : float or array
        Dimensionless multiplier of each pair (NEST's ``sic_connection`` weight).
    scale : float
        Conversion of pA to the post model's current units (default 1e-3: nA).
    hold_ms : float
        The current is computed from the astrocytes' state at the start of each block of at
        most ``hold_ms`` and held over it (default 1 ms, NEST's ``sic_connection`` delay;
        the SIC changes on the seconds scale of calcium; ``hold_ms = dt``: every step).

    >>> c = SlowInwardCurrent("astro", "exc", [0, 0], [0, 1], weight=2.0)
    >>> i = np.zeros(2); c.add_currents(np.array([[0.], [0.3], [0.], [4.0]]), i); i.tolist()
    [0.008, 0.008]
    """

    def __init__(self, pre: str, post: str, pre_idx, post_idx, weight=1.0,
                 scale: float = 1e-3, hold_ms: float = 1.0):
        if not (hold_ms > 0 and np.isfinite(hold_ms)):
            raise ValueError(f"hold_ms must be a positive number of ms, got {hold_ms!r}")
        self.hold_ms = float(hold_ms)
        self.pre, self.post = str(pre), str(post)
        self.pre_idx = np.asarray(pre_idx, dtype=np.int64).ravel()
        self.post_idx = np.asarray(post_idx, dtype=np.int64).ravel()
        if self.pre_idx.shape != self.post_idx.shape:
            raise ValueError("pre_idx and post_idx must have the same length, got "
                             f"{self.pre_idx.size} and {self.post_idx.size}")
        w = np.broadcast_to(np.asarray(weight, dtype=float), self.pre_idx.shape).copy()
        if not np.all(np.isfinite(w)):
            raise ValueError("weight must be finite")
        self.weight = w
        self.scale = float(scale)

    @classmethod
    def pairwise_bernoulli(cls, pre: str, post: str, n_pre: int, n_post: int, p: float,
                           rng, weight=1.0) -> SlowInwardCurrent:
        """Each (astrocyte, neuron) pair coupled with probability ``p``.

        >>> c = SlowInwardCurrent.pairwise_bernoulli("a", "n", 2, 3, 1.0,
        ...                                          np.random.default_rng(0))
        >>> c.pre_idx.size
        6
        """
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be in [0, 1], got {p!r}")
        mask = rng.random((n_pre, n_post)) < p
        a, b = np.nonzero(mask)
        return cls(pre, post, a, b, weight)

    def add_currents(self, pre_state, i_post) -> None:
        """Add ``weight * SIC * scale`` of each pair to ``i_post`` (the coupling protocol of
        :meth:`~neurosim_nb.core.networks.network.Network.add_coupling`)."""
        sic = pre_state[3][self.pre_idx]  # row 3 of an astrocyte population is SIC (pA)
        np.add.at(i_post, self.post_idx, self.weight * sic * self.scale)
