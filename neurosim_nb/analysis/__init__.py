"""Analysis of result Datasets (functions of a Dataset returning named DataArrays)."""

from neurosim_nb.analysis.rates import firing_rate, population_rate

__all__ = ["firing_rate", "population_rate"]
