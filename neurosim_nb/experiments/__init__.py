"""Experiments of the teaching panels as plain functions: parameters in, Dataset out.

Each experiment is a small network built, run and summarised into an ``xarray.Dataset``
(units in the variables' attrs), with no widget or plotting library involved: the panels of
:mod:`neurosim_nb.panels` show these results, and code, tests and scripts call the same
functions.

* :func:`simulate_psp` (:class:`PSPParameters`) -- the PSP of one receptor on a passive
  membrane (:mod:`neurosim_nb.experiments.psp`);
* :func:`measure_pairs` -- the STDP window measured with single spike pairs
  (:mod:`neurosim_nb.experiments.stdp_window`);
* :func:`simulate_learning` (:class:`LearningParameters`, :func:`default_stdp_params`) --
  weights learning with (or without) reward (:mod:`neurosim_nb.experiments.learning`);
* :func:`simulate_distal_reward`, :func:`rewarded_percentile` -- Izhikevich (2007)'s
  distal reward problem, reduced (:mod:`neurosim_nb.experiments.distal_reward`);
* :func:`input_resistance`, :func:`electrotonic_length`, :func:`dendritic_summation`,
  :func:`axon_velocity` (:func:`unmyelinated_axon_cell`, :func:`myelinated_axon_cell`) --
  compartmental cells (:mod:`neurosim_nb.experiments.cable`);
* :func:`~neurosim_nb.experiments.brunel.brunel_point`, :func:`~neurosim_nb.experiments.\
brunel.classify_regime` -- Brunel's (2000) network at one (g, nu_ext/nu_thr), its rate, CV,
  synchrony and regime (:mod:`neurosim_nb.experiments.brunel`; the phase diagram over many
  points is :mod:`neurosim_nb.fitting.phase_diagram`).

>>> from neurosim_nb.experiments import simulate_psp
>>> simulate_psp(receptor="GABA_A", V_hold=-50.0).V.attrs["units"]
'mV'
"""

from __future__ import annotations

from neurosim_nb.experiments.cable import (
    axon_velocity,
    dendritic_summation,
    electrotonic_length,
    input_resistance,
    myelinated_axon_cell,
    resting_state,
    unmyelinated_axon_cell,
)
from neurosim_nb.experiments.distal_reward import rewarded_percentile, simulate_distal_reward
from neurosim_nb.experiments.learning import (
    LearningParameters,
    default_stdp_params,
    simulate_learning,
)
from neurosim_nb.experiments.psp import RECEPTOR_CHOICES, PSPParameters, simulate_psp
from neurosim_nb.experiments.stdp_window import PAIR_DT, measure_pairs

__all__ = ["PSPParameters", "simulate_psp", "RECEPTOR_CHOICES", "measure_pairs", "PAIR_DT",
           "LearningParameters", "default_stdp_params", "simulate_learning",
           "input_resistance", "resting_state", "electrotonic_length", "dendritic_summation",
           "axon_velocity", "unmyelinated_axon_cell", "myelinated_axon_cell",
           "simulate_distal_reward", "rewarded_percentile"]
