r"""Gliotransmission: the Tsodyks-Markram release probability modulated by an astrocyte.

De Pittà, Volman, Berry & Ben-Jacob (2011, PLoS Comput Biol 7:e1002293) let the
gliotransmitter an astrocyte releases bind presynaptic receptors (fraction :math:`\Gamma`)
and move the synapse's basal release probability :math:`U_0` towards :math:`\alpha`:

.. math::

    U = (1 - \xi\,\Gamma)\,U_0 + \xi\,\alpha\,\Gamma

(:math:`\alpha > U_0`: facilitation, as with glutamate on presynaptic mGluRs; :math:`\alpha <
U_0`: depression). Here :math:`\Gamma` is the quasi-steady-state receptor occupancy of a Hill
function of the astrocyte's cytosolic calcium (the Ca-dependent release of Brian2's
Stimberg et al. 2019 tripartite-synapse example, without its own kinetics):

.. math::

    \Gamma = \frac{C^{n}}{C^{n} + K_G^{n}}.

:class:`GliotransmitterTM` is a :class:`~neurosim_nb.core.synapses.release.TsodyksMarkram`
whose ``U`` is computed per presynaptic neuron from the calcium of the astrocyte that
ensheathes its synapses (``astro_of_pre``), read from the astrocyte population's state at
the start of each delivered block (float64 runs: the population's state is the run's state).

>>> gliotransmitter_u(U0=0.2, xi=1.0, alpha=0.8, gamma=np.array([0.0, 0.5, 1.0]))
array([0.2, 0.5, 0.8])
"""

from __future__ import annotations

import numpy as np

from neurosim_nb.core.synapses.release import STPParameters, TsodyksMarkram

__all__ = ["GliotransmitterTM", "gliotransmitter_u", "occupancy"]


def gliotransmitter_u(U0: float, xi: float, alpha: float, gamma) -> np.ndarray:
    """De Pittà et al. (2011)'s release probability ``(1 - xi*gamma)*U0 + xi*alpha*gamma``
    (all dimensionless, ``gamma`` the gliotransmitter-bound fraction in [0, 1]).

    >>> float(gliotransmitter_u(0.5, 0.5, 0.0, 1.0))
    0.25
    """
    g = np.asarray(gamma, dtype=float)
    return (1.0 - xi * g) * U0 + xi * alpha * g


def occupancy(ca_uM, K_G: float = 0.5, n_hill: float = 4.0) -> np.ndarray:
    """Receptor occupancy ``Ca^n / (Ca^n + K_G^n)`` for astrocytic calcium ``ca_uM`` (µM).

    >>> occupancy([0.0, 0.5], K_G=0.5).tolist()
    [0.0, 0.5]
    """
    c = np.maximum(np.asarray(ca_uM, dtype=float), 0.0)
    return c ** n_hill / (c ** n_hill + K_G ** n_hill)


class GliotransmitterTM(TsodyksMarkram):
    """Tsodyks-Markram dynamics whose release probability follows an astrocyte's calcium
    (module docstring).

    Parameters
    ----------
    astrocytes : AstrocytePopulation
        The astrocytes (any population with a ``"Ca"`` state variable, µM).
    astro_of_pre : array of int
        For each presynaptic neuron, the astrocyte ensheathing its synapses (-1: none, U0).
    xi : float
        Gliotransmitter effect on release, in [0, 1].
    alpha : float
        Release probability with all receptors bound, in [0, 1].
    K_G : float
        Calcium of half occupancy (µM).
    n_hill : float
        Hill coefficient.
    params : STPParameters, optional
        ``U`` is the basal U0.

    >>> from neurosim_nb.core.neurons.astrocyte import AstrocytePopulation
    >>> a = AstrocytePopulation(n=1)
    >>> tm = GliotransmitterTM(a, [0, -1], xi=1.0, alpha=0.9, K_G=0.073)
    >>> tm.release_probability().round(3).tolist()      # Ca 0.073 uM: half occupancy
    [0.7, 0.5]
    """

    def __init__(self, astrocytes, astro_of_pre, xi: float = 1.0, alpha: float = 0.8,
                 K_G: float = 0.5, n_hill: float = 4.0, params: STPParameters | None = None,
                 **kw) -> None:
        super().__init__(params, **kw)
        if "Ca" not in getattr(astrocytes, "state_variables", {}):
            raise TypeError("astrocytes must be a population with a 'Ca' state variable, got "
                            f"{type(astrocytes).__name__}")
        for name, v, lo, hi in (("xi", xi, 0.0, 1.0), ("alpha", alpha, 0.0, 1.0),
                                ("K_G", K_G, 1e-12, np.inf), ("n_hill", n_hill, 0.1, 100.0)):
            if not (lo <= v <= hi):
                raise ValueError(f"{name} must be in [{lo}, {hi}], got {v!r}")
        self.astrocytes = astrocytes
        self.astro_of_pre = np.asarray(astro_of_pre, dtype=np.int64).ravel()
        if self.astro_of_pre.size and self.astro_of_pre.max() >= astrocytes.n:
            raise ValueError(f"astro_of_pre has indices beyond the {astrocytes.n} astrocytes")
        self.xi, self.alpha, self.K_G, self.n_hill = float(xi), float(alpha), float(K_G), \
            float(n_hill)

    def release_probability(self) -> np.ndarray:
        """The current U of each presynaptic neuron (from its astrocyte's calcium now)."""
        ca = self.astrocytes.get_state("Ca")
        has = self.astro_of_pre >= 0
        gamma = np.where(has, occupancy(ca[np.maximum(self.astro_of_pre, 0)], self.K_G,
                                        self.n_hill), 0.0)
        return gliotransmitter_u(self.params.U, self.xi, self.alpha, gamma)

    def _init_state(self, projection) -> None:
        super()._init_state(projection)
        if self.astro_of_pre.size != projection.n_pre:
            raise ValueError(f"astro_of_pre has {self.astro_of_pre.size} entries for "
                             f"{projection.n_pre} presynaptic neurons")
