r"""The Dormand-Prince 5(4) Runge-Kutta pair: its tableau, error weights and dense output.

Dormand & Prince (1980), *J Comput Appl Math* 6:19 -- the pair of scipy's ``RK45`` and
MATLAB's ``ode45``: seven stages, the last one first-same-as-last (FSAL: the derivative at
the end of an accepted step is the next step's first stage, so a step costs six
evaluations), a fifth-order solution, an embedded fourth-order error estimate and a
fourth-order continuous extension (Shampine 1986, the coefficients of scipy's
``RK45.P``):

.. math::

    y(t + \theta h) = y_0 + h \sum_{s=1}^{7} k_s \sum_{m=1}^{4} P_{s,m}\,\theta^m,
    \qquad 0 \le \theta \le 1 .

The adaptive kernels (:mod:`neurosim_nb.core.neurons.continuous`) write the stages out
with these numbers as literals; the arrays here are their one definition (the kernel
template formats them in) and what the tests compare with scipy's.

>>> float(B @ C[:6] * 2), float(E.sum())      # sum b_i c_i = 1/2; E sums to 0
(1.0, 0.0)
"""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np

__all__ = ["A", "B", "C", "E", "P", "ORDER_ERROR"]


def _arr(rows) -> np.ndarray:
    return np.array([[float(x) for x in r] for r in rows]) if isinstance(rows[0], list) \
        else np.array([float(x) for x in rows])


#: nodes c_s of the stages
C = _arr([F(0), F(1, 5), F(3, 10), F(4, 5), F(8, 9), F(1), F(1)])
#: the stage matrix a_{s,j} (rows 1..5 used by stages 2..6; the 7th stage is the solution)
A = _arr([
    [F(0)] * 5,
    [F(1, 5), 0, 0, 0, 0],
    [F(3, 40), F(9, 40), 0, 0, 0],
    [F(44, 45), F(-56, 15), F(32, 9), 0, 0],
    [F(19372, 6561), F(-25360, 2187), F(64448, 6561), F(-212, 729), 0],
    [F(9017, 3168), F(-355, 33), F(46732, 5247), F(49, 176), F(-5103, 18656)],
])
#: fifth-order weights b_s (of the first six stages; b_2 = 0)
B = _arr([F(35, 384), 0, F(500, 1113), F(125, 192), F(-2187, 6784), F(11, 84)])
#: error weights (fifth minus fourth order) of the seven stages
E = _arr([F(-71, 57600), 0, F(71, 16695), F(-71, 1920), F(17253, 339200), F(-22, 525),
          F(1, 40)])
#: dense-output coefficients P_{s,m} (7 stages x powers theta^1..theta^4)
P = _arr([
    [1, F(-8048581381, 2820520608), F(8663915743, 2820520608),
     F(-12715105075, 11282082432)],
    [0, 0, 0, 0],
    [0, F(131558114200, 32700410799), F(-68118460800, 10900136933),
     F(87487479700, 32700410799)],
    [0, F(-1754552775, 470086768), F(14199869525, 1410260304),
     F(-10690763975, 1880347072)],
    [0, F(127303824393, 49829197408), F(-318862633887, 49829197408),
     F(701980252875, 199316789632)],
    [0, F(-282668133, 205662961), F(2019193451, 616988883), F(-1453857185, 822651844)],
    [0, F(40617522, 29380423), F(-110615467, 29380423), F(69997945, 29380423)],
])
#: order of the error estimate (the step factor is err ** (-1 / (ORDER_ERROR + 1)))
ORDER_ERROR = 4
