"""``ds.neuro``: the analysis functions as methods of a result Dataset.

``ds.neuro.cv()`` is ``neurosim_nb.analysis.cv(ds)``; every function of
:mod:`neurosim_nb.analysis` whose first argument is the data is reachable this way, with
the same keyword arguments and docstring. The accessor is registered when this module is
imported, and ``import neurosim_nb`` (which runs before any ``neurosim_nb.*`` module) imports
it, so every Dataset has ``ds.neuro`` -- a simulated result, a loaded file, or one opened
with ``xarray.open_dataset`` -- without an extra import.

Layering: this module sits above :mod:`neurosim_nb.analysis` and imports it; the analysis
functions, the engine and the exporters do not know about the accessor.

>>> from neurosim_nb import LIFNeuron
>>> ds = LIFNeuron.create_excitatory().simulate(200.0, 2.0, seed=0, record=())
>>> rate = ds.neuro.firing_rate(bin_ms=200.0)
>>> rate.name, rate.attrs["units"]
('firing_rate', 'Hz')
>>> "cv" in dir(ds.neuro)
True
"""

from __future__ import annotations

import functools
import inspect

import xarray as xr

import neurosim_nb.analysis as analysis
from neurosim_nb._lazy import defer_dask_in_xarray

# no dask.array (and the scipy modules it imports) for the first Dataset of a process
defer_dask_in_xarray()

__all__ = ["NeuroAccessor"]


@xr.register_dataset_accessor("neuro")
class NeuroAccessor:
    """Analysis of a neurosim_nb result Dataset: ``ds.neuro.<function>(**kwargs)``.

    Tab completion lists the functions; ``help(ds.neuro.cv)`` shows the function's
    docstring. The Dataset is passed as the first argument.
    """

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    @staticmethod
    def _functions() -> tuple[str, ...]:
        return analysis.DATASET_FUNCTIONS

    def __getattr__(self, name: str):
        if name.startswith("_") or name not in self._functions():
            raise AttributeError(
                f"ds.neuro has no {name!r}; it has: {', '.join(sorted(self._functions()))}")
        fn = getattr(analysis, name)
        ds = self._ds

        @functools.wraps(fn)
        def method(*args, **kwargs):
            return fn(ds, *args, **kwargs)

        sig = inspect.signature(fn)
        method.__signature__ = sig.replace(parameters=list(sig.parameters.values())[1:])
        return method

    def to_neo(self, *, variables=None, groups: bool = True):
        """The Dataset as a :class:`neo.Block` for Elephant: spike trains (ms) and traces as
        ``AnalogSignal``s with units; see :func:`neurosim_nb.export.neo.to_neo`.

        Needs ``pip install "neurosim_nb[interop]"``.

        >>> from neurosim_nb import LIFNeuron
        >>> ds = LIFNeuron.create_excitatory(n=2).simulate(50.0, 2.0, seed=0)
        >>> len(ds.neuro.to_neo().segments[0].spiketrains)
        2
        """
        from neurosim_nb.export.neo import to_neo

        return to_neo(self._ds, variables=variables, groups=groups)

    def to_nwb(self, path, *, variables=None, session_start_time=None,
               identifier: str | None = None):
        """Write the Dataset to an NWB file (units table, traces as ``TimeSeries``, the model
        JSON as provenance) and return its path; see :func:`neurosim_nb.export.nwb.save_nwb`.

        Needs ``pip install "neurosim_nb[interop]"``.

        >>> import tempfile, pathlib
        >>> from neurosim_nb import LIFNeuron
        >>> ds = LIFNeuron.create_excitatory(n=2).simulate(50.0, 2.0, seed=0)
        >>> ds.neuro.to_nwb(pathlib.Path(tempfile.mkdtemp()) / "run").suffix
        '.nwb'
        """
        from neurosim_nb.export.nwb import save_nwb

        return save_nwb(self._ds, path, variables=variables,
                        session_start_time=session_start_time, identifier=identifier)

    def __dir__(self) -> list[str]:
        return sorted(self._functions())

    def __repr__(self) -> str:
        return ("<neurosim_nb analysis of a Dataset: "
                + ", ".join(sorted(self._functions())) + ">")
