"""Neo export: a result Dataset as a :class:`neo.Block`, so any Elephant function runs on it.

:func:`to_neo` (also ``ds.neuro.to_neo()``) builds one ``Block`` with one ``Segment``:

* one :class:`neo.SpikeTrain` per neuron of the run (silent and unrecorded ones included),
  times in ms exactly as in ``spike_time`` (the float64 values are not touched),
  ``t_start``/``t_stop`` the run's window ``(t_start_ms, t_start_ms + duration]``, and the
  annotations ``neuron`` (global id), ``population`` and ``model``;
* one :class:`neo.AnalogSignal` per recorded trace (``V``, gates, ``I_ext``, any variable
  whose first dimension is ``time``), units from the variable's ``units`` attr read by
  ``quantities`` (``"1"`` -> dimensionless, ``"uA/cm2"`` -> ``uA/cm**2``), sampling period
  ``dt * sample_every`` and ``t_start`` the first sample's time; channels are the recorded
  neurons (and compartments), with the ``array_annotations`` ``neuron``/``population``/...
  An irregular time axis gives an :class:`neo.IrregularlySampledSignal` instead;
* one :class:`neo.Group` per population with its spike trains and a
  :class:`neo.ChannelView` of each signal on its neurons;
* the Dataset's attrs in ``block.annotations`` (JSON-serialisable: ``params_json``,
  ``stimuli_json``, ``dt``, ``seed``, ...), the provenance.

Neo counts a spike at ``t_stop`` as inside the train, as we do, so counts and rates over
the whole run agree; our binned rates count a spike on a bin edge in the bin it closes,
Elephant's ``time_histogram`` in the bin it opens (spikes are stamped at step ends, so
compare with bin edges off the step grid; see ``docs/interop.md``).

:func:`from_neo` reads such a Block (or any Block of spike trains) back into a result
Dataset with the spike times bit-for-bit equal.

Neo and quantities are optional (``pip install "neurosim_nb[interop]"``).

>>> from neurosim_nb import LIFNeuron
>>> ds = LIFNeuron.create_excitatory(n=3).simulate(100.0, 2.0, seed=0)
>>> block = to_neo(ds)
>>> seg = block.segments[0]
>>> len(seg.spiketrains), seg.spiketrains[0].units, seg.analogsignals[0].name
(3, array(1.) * ms, 'V')
>>> import elephant.statistics as es
>>> len(seg.spiketrains[0]), float(es.mean_firing_rate(seg.spiketrains[0]).rescale("Hz"))
(32, 320.0)
"""

from __future__ import annotations

import re

import numpy as np
import xarray as xr

from neurosim_nb._validation import is_number, positive_number
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError
from neurosim_nb.export._interop import (
    channels,
    check_dataset,
    has_spikes,
    json_attrs,
    neuron_table,
    regular_period,
    require,
    spike_result,
    spike_trains,
    trace_variables,
    window,
)

__all__ = ["to_neo", "from_neo", "neo_units"]


def neo_units(units: str, *, owner: str = "neo_units", variable: str = "units"):
    """The :mod:`quantities` unit of a ``units`` attr (UDUNITS-like string).

    ``"1"`` and ``""`` are dimensionless; an exponent written as trailing digits
    (``"uA/cm2"``, ``"1/ms2"``) is read as a power.

    Raises
    ------
    InvalidArgumentError
        A unit string quantities cannot read (naming the variable).

    Examples
    --------
    >>> [str(neo_units(u).dimensionality) for u in ("mV", "1", "uA/cm2", "1/ms")]
    ['mV', 'dimensionless', 'uA/cm**2', '1/ms']
    """
    pq = require("quantities", owner)
    if not isinstance(units, str):
        raise ArgumentTypeError(f"{owner}: {variable} must be a unit string, got {units!r}")
    text = units.strip()
    if text in ("", "1"):
        return pq.dimensionless
    text = re.sub(r"(?<=[A-Za-z])(\d+)", r"**\1", text)
    try:
        return pq.Quantity(1.0, text).units
    except (LookupError, ValueError, TypeError, SyntaxError, AttributeError):
        raise InvalidArgumentError(
            f"{owner}: {variable} has units {units!r}, which quantities cannot read; leave it "
            "out with variables=[...]") from None


def to_neo(ds: xr.Dataset, *, variables=None, groups: bool = True):
    """A result Dataset as a :class:`neo.Block` (one Segment; see the module doc).

    Parameters
    ----------
    ds : xarray.Dataset
        A neurosim_nb result with spikes (``spike_time``/``spike_neuron``, ms) and/or traces
        (variables along ``time``, ms).
    variables : list of str, optional
        Traces to export as signals (default every variable along ``time``; ``[]`` for
        spikes only).
    groups : bool
        Add one :class:`neo.Group` per population.

    Returns
    -------
    neo.Block
        ``block.segments[0].spiketrains`` (one per neuron, ms), ``.analogsignals`` (one per
        trace), ``block.groups`` (per population), ``block.annotations`` (the attrs).

    Raises
    ------
    ImportError
        Neo or quantities is not installed (``pip install "neurosim_nb[interop]"``).
    ArgumentTypeError, InvalidArgumentError
        ``ds`` is not a Dataset, has neither spikes nor traces, an unknown variable or unit.

    Examples
    --------
    >>> from neurosim_nb import LIFNeuron
    >>> ds = LIFNeuron.create_excitatory(n=2).simulate(50.0, 2.0, seed=0, sample_every=5)
    >>> sig = to_neo(ds).segments[0].analogsignals[0]
    >>> sig.shape, sig.units, sig.sampling_period, sig.array_annotations["neuron"]
    ((100, 2), array(1.) * mV, array(0.5) * ms, array([0, 1]))
    """
    check_dataset(ds, "to_neo")
    if not isinstance(groups, bool | np.bool_):
        raise ArgumentTypeError(f"to_neo(groups=...) must be True or False, got {groups!r}")
    names = trace_variables(ds, variables, "to_neo")
    neo = require("neo", "to_neo")
    pq = require("quantities", "to_neo")
    units = {name: neo_units(str(ds[name].attrs.get("units", "1")), owner="to_neo",
                             variable=f"variable {name!r}") for name in names}
    table = neuron_table(ds)
    t0, t_stop = window(ds)
    title = str(ds.attrs.get("title", ds.attrs.get("model", "neurosim_nb result")))
    block = neo.Block(name=title, description="neurosim_nb simulation result",
                      **json_attrs(ds.attrs))
    seg = neo.Segment(name="run", description=f"{title}: {t0} to {t_stop} ms")
    block.segments.append(seg)

    trains = []
    if has_spikes(ds):
        for i, times in enumerate(spike_trains(ds, table.n)):
            train = neo.SpikeTrain(times, units=pq.ms, t_start=t0 * pq.ms,
                                   t_stop=t_stop * pq.ms, name=f"neuron {i}", copy=None,
                                   neuron=i, population=str(table.population[i]),
                                   model=str(table.model[i]))
            trains.append(train)
        seg.spiketrains.extend(trains)

    signals = []
    for name in names:
        var = ds[name]
        data, ann = channels(var)
        time = np.asarray(var[var.dims[0]].values, dtype=np.float64)
        period = regular_period(time, ds)
        kwargs = dict(name=str(name), description=str(var.attrs.get("long_name", name)),
                      array_annotations=ann, variable=str(name),
                      units_attr=str(var.attrs.get("units", "1")))
        if period is not None and time.size:
            sig = neo.AnalogSignal(data, units=units[name], t_start=time[0] * pq.ms,
                                   sampling_period=period * pq.ms, **kwargs)
        else:
            sig = neo.IrregularlySampledSignal(time * pq.ms, data, units=units[name],
                                               time_units=pq.ms, **kwargs)
        signals.append(sig)
        if isinstance(sig, neo.AnalogSignal):
            seg.analogsignals.append(sig)
        else:
            seg.irregularlysampledsignals.append(sig)

    if groups:
        for pop in table.names():
            group = neo.Group(name=pop, population=pop)
            group.add(*[t for t in trains if t.annotations["population"] == pop])
            for sig in signals:
                keep = np.flatnonzero(sig.array_annotations.get("population",
                                                                 np.array([], str)) == pop)
                if keep.size:
                    group.add(neo.ChannelView(sig, keep, name=f"{sig.name} {pop}"))
            block.groups.append(group)
    block.check_relationships()
    return block


def from_neo(block, *, dt: float | None = None) -> xr.Dataset:
    """The spike trains of a :class:`neo.Block` (first Segment) as a result Dataset.

    Neuron ids are the ``neuron`` annotations when every train has one (as
    :func:`to_neo` writes), else the train's position; populations from the
    ``population`` annotations. Times are converted to ms (not touched when already ms,
    so a :func:`to_neo` round trip is bit-exact) and must lie in ``(0, t_stop]``. The
    Block's annotations that a Dataset attr can hold come back as attrs. Signals are not
    read.

    Parameters
    ----------
    block : neo.Block
        A Block with at least one Segment of spike trains.
    dt : float, optional
        Time resolution (ms) of the Dataset's ``time`` axis; default the Block's ``dt``
        annotation, else 0.1.

    Returns
    -------
    xarray.Dataset
        ``spike_time``/``spike_neuron`` and the ``time``/``neuron``/``population``
        coordinates; valid under :func:`neurosim_nb.schema.validate_dataset`.

    Examples
    --------
    >>> from neurosim_nb import LIFNeuron
    >>> ds = LIFNeuron.create_excitatory(n=3).simulate(100.0, 2.0, seed=0)
    >>> back = from_neo(to_neo(ds))
    >>> bool((back.spike_time.values == ds.spike_time.values).all()), back.attrs["seed"]
    (True, 0)
    """
    neo = require("neo", "from_neo")
    pq = require("quantities", "from_neo")
    from neurosim_nb.schema import NETCDF_ATTR_TYPES

    if not isinstance(block, neo.Block):
        raise ArgumentTypeError(f"from_neo(block): block must be a neo.Block, got "
                                f"{type(block).__name__}")
    if not block.segments or not block.segments[0].spiketrains:
        raise InvalidArgumentError("from_neo(block): the Block has no Segment with spike "
                                   "trains")
    trains = block.segments[0].spiketrains
    ann = [t.annotations.get("neuron") for t in trains]
    ids = (np.array(ann, dtype=np.int64) if all(a is not None for a in ann)
           else np.arange(len(trains)))
    if np.unique(ids).size != ids.size or ids.min() < 0:
        raise InvalidArgumentError("from_neo(block): the spike trains' 'neuron' annotations "
                                   "must be distinct ids >= 0")
    n = int(ids.max()) + 1
    times, owners = [], []
    t_stop = 0.0
    for i, train in zip(ids, trains, strict=True):
        t = train.times if train.units == pq.ms else train.times.rescale(pq.ms)
        times.append(np.asarray(t.magnitude, dtype=np.float64))
        owners.append(np.full(len(train), i, dtype=np.int64))
        t_stop = max(t_stop, float(train.t_stop.rescale(pq.ms).magnitude))
    population = np.full(n, "", dtype=object)
    pops = [t.annotations.get("population") for t in trains]
    has_pops = all(p is not None for p in pops)
    for i, p in zip(ids, pops, strict=True):
        population[i] = str(p)
    dt = block.annotations.get("dt", 0.1) if dt is None else dt
    if not is_number(dt):
        raise ArgumentTypeError(f"from_neo(dt=...) must be a number of ms, got {dt!r}")
    dt = positive_number("from_neo(dt=...)", dt, "ms")
    keep = {k: v for k, v in block.annotations.items()
            if isinstance(v, NETCDF_ATTR_TYPES) and not isinstance(v, bool)}
    if "sample_every" in keep:  # the time axis here has every step
        keep["sample_every"] = 1
    duration = float(keep.get("duration", t_stop))
    times = np.concatenate(times)
    if times.size and (not np.all(np.isfinite(times)) or times.min() <= 0
                       or times.max() > duration + 1e-9):
        raise InvalidArgumentError(f"from_neo(block): spike times must lie in (0, {duration}] "
                                   "ms (a neurosim_nb result starts at 0)")
    ds = spike_result(times, np.concatenate(owners), n, duration, dt,
                      population if has_pops else None, keep)
    return ds
