"""The STDP window measured with single spike pairs (:func:`neurosim_nb.experiments.measure_pairs`).

The reference is the analytic window of the rule (:func:`stdp_window`).
"""

from __future__ import annotations

import numpy as np

from neurosim_nb.core.synapses.stdp import STDPParameters, stdp_window
from neurosim_nb.experiments import PAIR_DT, default_stdp_params, measure_pairs


def test_pair_intervals():
    np.testing.assert_array_equal(PAIR_DT, np.arange(-80.0, 81.0, 10.0))


def test_additive_pairs_give_the_window():
    p = default_stdp_params().replace(A_plus=2e-4, tau_minus=40.0)
    dw = measure_pairs(p)
    assert dw.shape == PAIR_DT.shape
    np.testing.assert_allclose(dw, stdp_window(PAIR_DT, p), rtol=1e-9, atol=1e-15)


def test_multiplicative_pairs_are_scaled_by_the_distance_to_the_bound():
    """Pairs start half-way between the bounds: half the additive window."""
    p = default_stdp_params().replace(A_plus=2e-4, tau_minus=40.0,
                                      weight_dependence="multiplicative")
    np.testing.assert_allclose(measure_pairs(p), 0.5 * stdp_window(PAIR_DT, p),
                               rtol=1e-9, atol=1e-15)


def test_any_intervals_and_a_hebbian_rule():
    p = STDPParameters()
    dts = [-35.0, 5.0, 15.0]
    np.testing.assert_allclose(measure_pairs(p, dts), stdp_window(np.array(dts), p),
                               rtol=1e-9, atol=1e-15)
