r"""Metabolic cost of signalling: ATP used by spikes, synapses and resting potentials.

Two estimates:

* :func:`atp_consumption` -- the bottom-up energy budget of Attwell & Laughlin (2001),
  *J Cereb Blood Flow Metab* 21:1133-1145, for a rodent grey-matter neuron: a fixed ATP
  cost per action potential, per released vesicle (pre- and postsynaptic ion pumping,
  transmitter and vesicle recycling) and per second of resting potential, applied to the
  spike counts of a result. With their assumptions (8000 synapses per neuron, release
  probability 0.25, one glial cell per neuron) a neuron firing at 4 Hz costs
  :math:`3.29 \times 10^9` ATP/s.
* :func:`hh_sodium_atp` -- for Hodgkin-Huxley results, the ATP needed to pump out the
  sodium that actually entered: :math:`Q_{Na} = \int \bar g_{Na} m^3 h\,(E_{Na} - V)\,dt`
  over the membrane area, :math:`N_{Na} = Q_{Na}/e` and one ATP per three Na⁺ (the
  Na⁺/K⁺-ATPase exchanges 3 Na⁺ for 2 K⁺ per ATP hydrolysed).

Counts are in molecules of ATP (units ``"ATP"``) and rates in ``"ATP/s"``.

Examples
--------
>>> from neurosim_nb import LIFNeuron
>>> ds = LIFNeuron.create_excitatory(n=2).simulate(1000.0, [0.0, 0.3], seed=0, record=())
>>> e = atp_consumption(ds)
>>> e.category.values.tolist()
['action_potentials', 'synaptic', 'resting']
>>> float(e.atp.sel(neuron=0, category="resting"))       # 1 s at rest
342000000.0
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from neurosim_nb.analysis._input import _number, as_spike_trains, named
from neurosim_nb.core.neurons.registry import model_class
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError
from neurosim_nb.units import density_to_current

__all__ = ["atp_consumption", "hh_sodium_atp", "ATTWELL_LAUGHLIN_2001",
           "ELEMENTARY_CHARGE_C", "NA_PER_ATP"]

#: Published values used as defaults (Attwell & Laughlin 2001, rodent grey matter)
ATTWELL_LAUGHLIN_2001 = {
    # Na+ entry of one action potential along soma, dendrites and axon, 4x the minimum
    # charge (squid-axon overlap factor), /3 Na+ per ATP: 3.84e8 ATP per spike
    "atp_per_spike": 3.84e8,
    # per vesicle released: postsynaptic glutamate receptor currents (1.4e5), presynaptic
    # Ca2+ entry (1.2e4), glutamate recycling and vesicle cycling: 1.64e5 ATP
    "atp_per_vesicle": 1.64e5,
    # probability that a spike releases a vesicle at one of its synapses
    "release_probability": 0.25,
    # synapses made by a neuron's axon (Braitenberg & Schuez 1998, mouse cortex)
    "synapses_per_neuron": 8000.0,
    # Na+ leak at the resting potential of one neuron, pumped out: 3.42e8 ATP/s
    "resting_atp_per_s": 3.42e8,
    # resting potential of one glial cell: 1.02e8 ATP/s
    "glial_resting_atp_per_s": 1.02e8,
}
#: elementary charge (C), exact in the 2019 SI
ELEMENTARY_CHARGE_C = 1.602176634e-19
#: Na+ ions extruded per ATP by the Na+/K+-ATPase (3 Na+ out, 2 K+ in)
NA_PER_ATP = 3.0

_CITATION = ("Attwell D, Laughlin SB (2001) An energy budget for signaling in the grey "
             "matter of the brain. J Cereb Blood Flow Metab 21:1133-1145")


def _nonneg(name: str, value) -> float:
    v = _number(name, value, "see the docstring for units")
    if not np.isfinite(v) or v < 0:
        raise InvalidArgumentError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def _check_window(ds, t_stop) -> None:
    """A window ending after the recording would charge resting costs for unrecorded time."""
    if isinstance(ds, xr.Dataset) and t_stop is not None and "duration" in ds.attrs:
        if float(t_stop) > float(ds.attrs["duration"]) + 1e-9:
            raise InvalidArgumentError(f"t_stop ({t_stop} ms) is after the end of the recording "
                                       f"({ds.attrs['duration']} ms)")


def _out_degree(network, neuron: np.ndarray) -> np.ndarray:
    """Chemical synapses made by each neuron (global ids ``neuron``) of ``network``."""
    if not (hasattr(network, "projections") and hasattr(network, "offsets")):
        raise ArgumentTypeError(
            f"network must be a neurosim_nb Network, got {type(network).__name__}")
    off = network.offsets()
    deg = np.zeros(int(network.n_neurons), dtype=np.int64)
    for proj in network.projections:
        deg += np.bincount(proj.pre_idx + off[proj.pre], minlength=deg.size)
    if neuron.size and neuron.max() >= deg.size:
        raise InvalidArgumentError(f"the result has neuron ids up to {int(neuron.max())} but the "
                                   f"network has {deg.size} neurons: pass the network that was run")
    return deg[neuron].astype(float)


def atp_consumption(ds, *, network=None, n_synapses_per_spike=None,
                    atp_per_spike: float = 3.84e8, atp_per_vesicle: float = 1.64e5,
                    release_probability: float = 0.25, resting_atp_per_s: float = 3.42e8,
                    glia_per_neuron: float = 0.0, glial_resting_atp_per_s: float = 1.02e8,
                    method: str = "attwell_laughlin", t_start: float | None = None,
                    t_stop: float | None = None) -> xr.Dataset:
    r"""ATP used by each neuron of a result, by category (Attwell & Laughlin 2001).

    For neuron :math:`i` with :math:`n_i` spikes in a window of :math:`T` seconds and
    :math:`k_i` outgoing synapses:

    * ``action_potentials``: :math:`n_i \cdot` ``atp_per_spike``;
    * ``synaptic``: :math:`n_i k_i \cdot` ``release_probability`` :math:`\cdot`
      ``atp_per_vesicle`` (the synaptic events of its spikes, charged to the spiking
      neuron as in Attwell & Laughlin's per-spike budget);
    * ``resting``: :math:`T \cdot` ``resting_atp_per_s``;
    * ``glial`` (only when ``glia_per_neuron > 0``): :math:`T \cdot` ``glia_per_neuron``
      :math:`\cdot` ``glial_resting_atp_per_s``.

    Parameters
    ----------
    ds : xarray.Dataset or spike trains
        A result Dataset, or spike times accepted by ``as_spike_trains`` (then pass
        ``t_stop``).
    network : Network, optional
        The network that produced ``ds``: :math:`k_i` is each neuron's number of outgoing
        chemical synapses (its out-degree).
    n_synapses_per_spike : float or array_like, optional
        :math:`k_i` given directly (one value or one per neuron) instead of ``network``.
        Default without either: 8000, Attwell & Laughlin's synapses per cortical neuron
        (Braitenberg & Schüz 1998).
    atp_per_spike : float
        ATP per action potential: 3.84e8 (Attwell & Laughlin 2001: Na⁺ entry of
        1.15e9 ions over soma, dendrites and axon, 4x the minimum capacitive charge as
        in the squid axon; one ATP per 3 Na⁺). Mammalian spikes are more efficient
        (Na⁺ entry ~1.3x the minimum: Alle et al. 2009, Carter & Bean 2009); Harris,
        Jolivet & Attwell (2012) revise the budget accordingly.
    atp_per_vesicle : float
        ATP per vesicle released: 1.64e5 (postsynaptic receptor currents 1.4e5,
        presynaptic Ca²⁺ 1.2e4, glutamate recycling and vesicle cycling).
    release_probability : float
        Probability that a spike releases a vesicle at each synapse: 0.25.
    resting_atp_per_s : float
        ATP/s to maintain one neuron's resting potential: 3.42e8.
    glia_per_neuron : float
        Glial cells charged to each neuron (0: neurons only; Attwell & Laughlin assume 1).
    glial_resting_atp_per_s : float
        ATP/s for one glial cell's resting potential: 1.02e8.
    method : {"attwell_laughlin", "sodium"}
        ``"sodium"`` (Hodgkin-Huxley results recording ``V``, ``m``, ``h`` for all neurons)
        replaces the ``action_potentials`` and ``resting`` categories by one category
        ``sodium_current``: the model's own Na⁺ entry (spikes and rest), from
        :func:`hh_sodium_atp`.
    t_start, t_stop : float, optional
        Window (ms); defaults to the whole run.

    Returns
    -------
    xarray.Dataset
        ``atp`` (neuron, category; ATP), ``atp_rate`` (neuron, category; ATP/s),
        ``total_atp`` (category; ATP), ``total_atp_rate`` (category; ATP/s), ``atp_sum``
        (neuron; ATP, all categories), ``spike_count`` and ``synaptic_events`` (neuron),
        the parameters and citation in attrs.

    Raises
    ------
    ValueError
        Negative or non-finite parameters, a release probability outside [0, 1], both
        ``network`` and ``n_synapses_per_spike``, an unknown ``method``.

    References
    ----------
    Attwell D, Laughlin SB (2001) *J Cereb Blood Flow Metab* 21:1133-1145.
    Harris JJ, Jolivet R, Attwell D (2012) *Neuron* 75:762-777.

    Examples
    --------
    Attwell & Laughlin's neuron at 4 Hz, with one glial cell, costs 3.29e9 ATP/s:

    >>> trains = [np.arange(1, 5) * 250.0]            # 4 spikes in 1 s
    >>> e = atp_consumption(trains, t_stop=1000.0, glia_per_neuron=1.0)
    >>> float(e.total_atp_rate.sum()) / 1e9
    3.292
    """
    st = as_spike_trains(ds, t_start=t_start, t_stop=t_stop)
    p = {k: _nonneg(k, v) for k, v in dict(
        atp_per_spike=atp_per_spike, atp_per_vesicle=atp_per_vesicle,
        release_probability=release_probability, resting_atp_per_s=resting_atp_per_s,
        glia_per_neuron=glia_per_neuron, glial_resting_atp_per_s=glial_resting_atp_per_s,
    ).items()}
    if p["release_probability"] > 1:
        raise InvalidArgumentError(
            f"release_probability must be in [0, 1], got {release_probability}")
    if method not in ("attwell_laughlin", "sodium"):
        raise InvalidArgumentError(f"method must be 'attwell_laughlin' or 'sodium', got {method!r}")
    if network is not None and n_synapses_per_spike is not None:
        raise InvalidArgumentError("give network or n_synapses_per_spike, not both")
    if network is not None:
        k = _out_degree(network, st.neuron)
    else:
        raw = ATTWELL_LAUGHLIN_2001["synapses_per_neuron"] if n_synapses_per_spike is None \
            else n_synapses_per_spike
        k = np.asarray(raw, dtype=float)
        if k.ndim > 1 or (k.ndim == 1 and k.size != st.n):
            raise InvalidArgumentError(f"n_synapses_per_spike must be one number or one per neuron "
                                       f"({st.n}), got shape {k.shape}")
        if not np.all(np.isfinite(k)) or np.any(k < 0):
            raise InvalidArgumentError("n_synapses_per_spike must be finite and >= 0")
        k = np.broadcast_to(k, (st.n,)).astype(float)
    counts = st.counts.astype(float)
    seconds = st.duration / 1000.0
    events = counts * k
    cats = {"synaptic": events * p["release_probability"] * p["atp_per_vesicle"]}
    if method == "sodium":
        if not isinstance(ds, xr.Dataset):
            raise ArgumentTypeError("method='sodium' needs a Hodgkin-Huxley result Dataset")
        na = hh_sodium_atp(ds, t_start=t_start, t_stop=t_stop)
        if not np.array_equal(na.neuron.values, st.neuron):
            raise InvalidArgumentError("method='sodium' needs V, m and h recorded for every neuron")
        cats = {"sodium_current": na.atp.values, **cats}
    else:
        cats = {"action_potentials": counts * p["atp_per_spike"], **cats,
                "resting": np.full(st.n, seconds * p["resting_atp_per_s"])}
    if p["glia_per_neuron"] > 0:
        cats["glial"] = np.full(st.n, seconds * p["glia_per_neuron"]
                                * p["glial_resting_atp_per_s"])
    atp = np.stack(list(cats.values()), axis=1)
    coords = {**st.neuron_coord(), "category": ("category", list(cats),
                                                {"long_name": "cost category"})}
    dims = ("neuron", "category")
    out = xr.Dataset(
        {"atp": named(atp, name="atp", units="ATP", long_name="ATP molecules consumed",
                      dims=dims),
         "atp_rate": named(atp / seconds, name="atp_rate", units="ATP/s",
                           long_name="ATP consumption rate", dims=dims),
         "total_atp": named(atp.sum(axis=0), name="total_atp", units="ATP",
                            long_name="ATP consumed by all neurons", dims=("category",)),
         "total_atp_rate": named(atp.sum(axis=0) / seconds, name="total_atp_rate",
                                 units="ATP/s", long_name="ATP consumption rate of all neurons",
                                 dims=("category",)),
         "atp_sum": named(atp.sum(axis=1), name="atp_sum", units="ATP",
                          long_name="ATP consumed, all categories", dims=("neuron",)),
         "spike_count": named(st.counts, name="spike_count", units="1",
                              long_name="spikes in the window", dims=("neuron",)),
         "synaptic_events": named(events, name="synaptic_events", units="1",
                                  long_name="spikes x outgoing synapses", dims=("neuron",))},
        coords=coords,
        attrs={"method": method, "t_start": st.t_start, "t_stop": st.t_stop,
               "reference": _CITATION, **p})
    return out


def _hh_parameters(ds: xr.Dataset, neuron: np.ndarray) -> dict[str, np.ndarray]:
    """g_Na (mS/cm2), E_Na (mV) and area_um2 of each recorded neuron: ``params_json`` read
    back into the Hodgkin-Huxley family's own parameter class (the registry's), so
    defaults, validation and per-neuron values are the model's."""
    hh = model_class("Hodgkin-Huxley")
    model = ds.attrs.get("model")
    try:
        params = json.loads(ds.attrs["params_json"])
    except (KeyError, TypeError, ValueError):
        raise InvalidArgumentError("the Dataset has no readable 'params_json' attr") from None
    names = ("g_Na", "E_Na", "area_um2")
    out = {k: np.zeros(neuron.size) for k in names}
    if "populations" in params:
        blocks = [(p["first_id"], p["n"], p["params"]) for p in params["populations"]
                  if p["model"] == hh.__name__]
    else:
        raise InvalidArgumentError(
            f"hh_sodium_atp needs a Hodgkin-Huxley result, got model {model!r}")
    covered = np.zeros(neuron.size, dtype=bool)
    for first, n, block in blocks:
        try:
            par = hh.parameters_class(**block["values"])
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidArgumentError(
                f"params_json holds no readable {hh.parameters_class.__name__}: "
                f"{err}") from None
        sel = (neuron >= first) & (neuron < first + n)
        for k in names:
            out[k][sel] = par.per_neuron(k, n)[neuron[sel] - first]
        covered |= sel
    if not covered.all():
        raise InvalidArgumentError(
            f"neurons {neuron[~covered][:10].tolist()} are not Hodgkin-Huxley "
            "neurons: record only those (record_neurons=...)")
    return out


def hh_sodium_atp(ds: xr.Dataset, *, t_start: float | None = None,
                  t_stop: float | None = None) -> xr.Dataset:
    r"""Na⁺ charge, Na⁺ ions and ATP of Hodgkin-Huxley neurons from their recorded gates.

    .. math::

        Q_{Na} = A \int_{t_0}^{t_1} \bar g_{Na}\, m^3 h\, (E_{Na} - V)\, dt, \qquad
        N_{Na} = Q_{Na} / e, \qquad \mathrm{ATP} = N_{Na} / 3,

    with :math:`\bar g_{Na}` (mS/cm²), :math:`E_{Na}` (mV) and the membrane area :math:`A`
    (``area_um2``) from ``params_json``: mS/cm² · mV = µA/cm², times the area gives nA,
    and nA · ms = pC. Each recorded sample stands for the ``dt * sample_every`` before it
    (states are stamped at step ends), so the integral is the sum of samples times the
    sampling interval. It is the net Na⁺ influx (inward while ``V < E_Na``), spikes and the
    resting window current together. The Na⁺/K⁺ pump extrudes 3 Na⁺ per ATP.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of ``HodgkinHuxleyNeuron`` (or a network with Hodgkin-Huxley populations)
        recording ``V``, ``m`` and ``h`` (``record=("V", "m", "h")``).
    t_start, t_stop : float, optional
        Integration window (ms), ``(t_start, t_stop]``; defaults to the whole recording.

    Returns
    -------
    xarray.Dataset
        Along ``neuron``: ``na_charge`` (pC), ``na_ions`` (1), ``atp`` (ATP), ``atp_rate``
        (ATP/s) and ``spike_count`` in the window.

    Raises
    ------
    ValueError
        A Dataset without ``V``, ``m`` or ``h``, not Hodgkin-Huxley, with NaN samples, or a
        window with fewer than two samples.

    References
    ----------
    Hodgkin AL, Huxley AF (1952) *J Physiol* 117:500-544; Attwell & Laughlin (2001);
    Carter BC, Bean BP (2009) *Neuron* 64:898-909 (Na⁺ entry relative to the minimum
    charge C ΔV, ~4 for the squid axon model).

    Examples
    --------
    >>> from neurosim_nb import HodgkinHuxleyNeuron
    >>> pop = HodgkinHuxleyNeuron.create_squid_axon()
    >>> ds = pop.simulate(100.0, current_density=10.0, dt=0.01, record=("V", "m", "h"),
    ...                   seed=0)
    >>> na = hh_sodium_atp(ds)
    >>> int(na.spike_count[0]), na.atp.attrs["units"]
    (7, 'ATP')
    """
    if not isinstance(ds, xr.Dataset):
        raise ArgumentTypeError(f"hh_sodium_atp needs a result Dataset, got {type(ds).__name__}")
    missing = [v for v in ("V", "m", "h") if v not in ds]
    if missing:
        raise InvalidArgumentError(
            f"the Dataset lacks {missing}: simulate with record=('V', 'm', 'h')")
    _check_window(ds, t_stop)
    t = np.asarray(ds["time"].values, dtype=float)
    if t.size < 2:
        raise InvalidArgumentError("hh_sodium_atp needs at least two recorded samples")
    step = float(np.median(np.diff(t)))
    t0 = 0.0 if t_start is None else _number("t_start", t_start, "ms")
    t1 = (float(ds.attrs.get("duration", t[-1])) if t_stop is None
          else _number("t_stop", t_stop, "ms"))
    if not (np.isfinite(t0) and np.isfinite(t1)) or t1 <= t0:
        raise InvalidArgumentError(f"t_stop ({t1} ms) must be after t_start ({t0} ms)")
    keep = (t > t0 + 1e-9) & (t <= t1 + 1e-9)
    if keep.sum() < 2:
        raise InvalidArgumentError(
            f"the window ({t0}, {t1}] ms holds fewer than two samples of the "
            f"recording (times {t[0]:g} .. {t[-1]:g} ms)")
    arr = {k: np.asarray(ds[k].transpose("time", "neuron").values[keep], dtype=float)
           for k in ("V", "m", "h")}
    for k, a in arr.items():
        if not np.all(np.isfinite(a)):
            raise InvalidArgumentError(f"{k} has NaN or infinite samples in the window")
    neuron = np.asarray(ds["neuron"].values, dtype=np.int64)
    par = _hh_parameters(ds, neuron)
    # mS/cm2 * mV = uA/cm2; uA/cm2 * ms on the membrane area = nA * ms = pC
    density = par["g_Na"] * arr["m"] ** 3 * arr["h"] * (par["E_Na"] - arr["V"])
    charge_pC = density_to_current(density.sum(axis=0) * step, area_um2=par["area_um2"])
    ions = charge_pC * 1e-12 / ELEMENTARY_CHARGE_C
    atp = ions / NA_PER_ATP
    seconds = keep.sum() * step / 1000.0
    st = as_spike_trains(ds, t_start=t0, t_stop=t1, neurons=neuron)
    dims = ("neuron",)
    coords = {"neuron": ("neuron", neuron)}
    if "population" in ds.coords:
        coords["population"] = ("neuron", np.asarray(ds["population"].values).astype(str))
    return xr.Dataset(
        {"na_charge": named(charge_pC, name="na_charge", units="pC",
                            long_name="net Na+ charge entering the neuron", dims=dims),
         "na_ions": named(ions, name="na_ions", units="1",
                          long_name="Na+ ions entering the neuron", dims=dims),
         "atp": named(atp, name="atp", units="ATP",
                      long_name="ATP to pump out the Na+ (3 Na+ per ATP)", dims=dims),
         "atp_rate": named(atp / seconds, name="atp_rate", units="ATP/s",
                           long_name="ATP consumption rate for Na+ extrusion", dims=dims),
         "spike_count": named(st.counts, name="spike_count", units="1",
                              long_name="spikes in the window", dims=dims)},
        coords=coords,
        attrs={"t_start": t0, "t_stop": t1, "na_per_atp": NA_PER_ATP,
               "elementary_charge_C": ELEMENTARY_CHARGE_C,
               "method": "integral of g_Na m^3 h (E_Na - V) over the recorded samples"})
