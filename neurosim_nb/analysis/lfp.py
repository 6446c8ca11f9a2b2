r"""Local field potential proxy of a point-neuron network (the seed's ``LfpEst``).

Mazzoni et al. (2015) injected the synaptic currents of a LIF network into a 3-D network of
multi-compartment pyramidal cells and searched which simple function of the LIF output best
predicts the resulting ("ground-truth") LFP. Their reference weighted sum (RWS) proxy,

.. math::

    \mathrm{LFP}(t) \propto \sum_{j \in \mathrm{pyr}} |I^{\mathrm{AMPA}}_j(t - \tau)|
        - \alpha \sum_{j \in \mathrm{pyr}} |I^{\mathrm{GABA}}_j(t)|,
    \qquad \alpha = 1.65,\ \tau = 6\ \mathrm{ms},

explained most of the LFP variance over recording depths and network states, clearly more
than proxies based on the mean membrane potential or on firing rates. :func:`lfp_proxy`
computes it (in nA, without their normalisation constant).

The engine does not record synaptic currents, so :func:`synaptic_currents` rebuilds them
from the spikes and the network, exactly as the engine computes them: every receptor
channel is a linear filter of its incoming spikes -- per step
:math:`s \leftarrow e^{-dt/\tau_d}\,s + \mathrm{norm}\sum w` (and the same with
:math:`\tau_r` for a rise component, :math:`g = s_d - s_r`) -- a spike stamped at
:math:`t_s` arriving through a synapse of delay :math:`d` enters the step that starts at
:math:`t_s + d`, and the current :math:`I = g\,B(V)\,(E_{rev} - V)` (conductance
receptors, V at the start of the step) or :math:`I = g` (current receptors) is held over
the step. A current sample at time :math:`t` is the current of the step that ends at
:math:`t`. Currents are positive into the neuron (depolarising).

**Sign convention.** The proxy is positive when the (delayed) excitatory current magnitude
dominates, as in Mazzoni's formula. The sign of a measured LFP depends on where the
electrode sits relative to the pyramidal dipoles: compare time courses and correlations,
and flip the sign if a reference recording needs it.

References
----------
Mazzoni A, Lindén H, Cuntz H, Lansner A, Panzeri S, Einevoll GT (2015) Computing the local
field potential (LFP) from integrate-and-fire network models. PLoS Comput Biol
11:e1004584. doi:10.1371/journal.pcbi.1004584

Examples
--------
>>> from neurosim_nb.core.networks.benchmarks_models import coba_network
>>> net = coba_network(100, seed=1)
>>> ds = net.simulate(30.0, record=("V",), seed=1)
>>> lfp = lfp_proxy(ds, net)
>>> lfp.dims, lfp.attrs["units"], lfp.attrs["populations"]
(('time',), 'nA', 'exc')
"""

from __future__ import annotations

import json
import math

import numpy as np
import xarray as xr
from scipy.signal import lfilter

from neurosim_nb.analysis._input import _number, named, positive
from neurosim_nb.core.synapses.delivery import SynapticDynamics
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError

__all__ = ["lfp_proxy", "synaptic_currents", "EXCITATORY_E_REV_MV"]

#: a conductance receptor with a reversal potential at or above this (mV) counts as
#: excitatory (AMPA-like: AMPA, NMDA, exp_exc at 0 mV); below it as inhibitory (GABA-like:
#: GABA_A -70, GABA_B -95, exp_inh -80 mV)
EXCITATORY_E_REV_MV = -20.0

#: largest (steps x neurons) block of conductances held at once
_BLOCK_ELEMENTS = 4_000_000


# -- inputs ------------------------------------------------------------------------------
def _check_dataset(ds) -> None:
    if not isinstance(ds, xr.Dataset):
        raise ArgumentTypeError(f"ds must be a result Dataset, got {type(ds).__name__}")
    for key in ("spike_time", "spike_neuron"):
        if key not in ds:
            raise InvalidArgumentError(f"the Dataset has no {key!r}: pass a neurosim_nb result")
    for key in ("duration", "n_neurons", "dt"):
        if key not in ds.attrs:
            raise InvalidArgumentError(
                f"the Dataset has no {key!r} attr: pass a neurosim_nb result")


def _population_names(ds, network) -> list[str]:
    if network is not None:
        return list(network.populations)
    if "population" not in ds.coords:
        raise InvalidArgumentError(
            "the Dataset has no 'population' coordinate: pass populations= ids "
            "or the network")
    return list(dict.fromkeys(np.asarray(ds["population"].values).astype(str).tolist()))


def _excites(rec, weight) -> bool:
    if rec.kind == "conductance":
        return rec.E_rev_mV >= EXCITATORY_E_REV_MV
    return bool(np.all(np.asarray(weight) >= 0))


def _pyramidal(ds, network, populations) -> list[str]:
    """The populations whose currents make the LFP (default: the excitatory ones)."""
    names = _population_names(ds, network)
    if populations is None:
        chosen = [p for p in names if "exc" in p.lower() or "pyr" in p.lower()]
        if not chosen and network is not None:
            out: dict[str, list[bool]] = {}
            for proj in network.projections:
                out.setdefault(proj.pre, []).append(_excites(proj.receptor, proj.weight))
            chosen = [p for p in names if out.get(p) and all(out[p])]
        if not chosen:
            raise InvalidArgumentError(f"cannot tell the pyramidal (excitatory) populations among "
                                       f"{names}: pass populations=[...]")
        return chosen
    chosen = [populations] if isinstance(populations, str) else list(populations)
    if not chosen:
        raise InvalidArgumentError("populations is empty")
    for p in chosen:
        if p not in names:
            raise InvalidArgumentError(f"unknown population {p!r}; the run has {names}")
    return chosen


def _neuron_ids(ds, network, pops) -> np.ndarray:
    if network is not None:
        return np.concatenate([network.neuron_ids(p) for p in pops]).astype(np.int64)
    pop = np.asarray(ds["population"].values).astype(str)
    return np.asarray(ds["neuron"].values)[np.isin(pop, pops)].astype(np.int64)


def _voltages(ds, ids: np.ndarray) -> np.ndarray:
    """Recorded V (time, neuron) of ``ids`` (mV), or a clear error."""
    if "V" not in ds:
        raise InvalidArgumentError("the Dataset has no recorded 'V': simulate with record=('V',)")
    recorded = np.asarray(ds["neuron"].values)
    missing = np.setdiff1d(ids, recorded)
    if missing.size:
        raise InvalidArgumentError(
            f"V was not recorded for {missing.size} of the chosen neurons (e.g. "
            f"{missing[:5].tolist()}): record them (record_neurons)")
    v = np.asarray(ds["V"].sel(neuron=ids).transpose("time", "neuron").values, dtype=float)
    if not np.all(np.isfinite(v)):
        raise InvalidArgumentError("V has NaN or infinite values for the chosen neurons")
    return v


def _check_network(ds, network) -> None:
    from neurosim_nb.core.networks.network import Network

    if not isinstance(network, Network):
        raise ArgumentTypeError(f"network must be the Network that produced ds, got "
                                f"{type(network).__name__}")
    if network.n_neurons != int(ds.attrs["n_neurons"]):
        raise InvalidArgumentError(f"the network has {network.n_neurons} neurons, the run "
                                   f"{ds.attrs['n_neurons']}: pass the network that produced ds")
    if "params_json" in ds.attrs:
        pops = json.loads(ds.attrs["params_json"]).get("populations", [])
        run = [(p["name"], int(p["n"])) for p in pops]
        net = [(k, p.n) for k, p in network.populations.items()]
        if run and run != net:
            raise InvalidArgumentError(
                f"the run's populations {run} differ from the network's {net}")


# -- currents ----------------------------------------------------------------------------
def _arrivals(proj, ds, network, dt: float, n_steps: int):
    """(arrival step, postsynaptic local index, weight) of every delivered spike."""
    from neurosim_nb.core.synapses.connectivity import delay_steps

    off = network.offsets()[proj.pre]
    ids = np.asarray(ds["spike_neuron"].values, dtype=np.int64)
    times = np.asarray(ds["spike_time"].values, dtype=float)
    mine = (ids >= off) & (ids < off + proj.n_pre)
    j = ids[mine] - off
    step = np.rint(times[mine] / dt).astype(np.int64) - 1  # stamped at the end of the step
    first = proj.indptr[j]
    cnt = proj.indptr[j + 1] - first
    total = int(cnt.sum())
    syn = np.repeat(first, cnt) + (np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    d = delay_steps(proj.delay_ms, dt)
    arrive = np.repeat(step, cnt) + d[syn] + 1
    keep = arrive < n_steps
    return arrive[keep], np.asarray(proj.post_idx)[syn[keep]].astype(np.int64), \
        np.asarray(proj.weight, dtype=float)[syn[keep]]


def _filtered(arrive, post, w, rec, dt, n_steps, cols, samples) -> np.ndarray:
    """Conductance (or current) of ``cols`` neurons at the sampled steps: the engine's
    per-step recursion run by :func:`scipy.signal.lfilter`, block by block of neurons."""
    out = np.zeros((samples.size, cols))
    block = max(1, _BLOCK_ELEMENTS // max(n_steps, 1))
    norm = rec.norm()
    for c0 in range(0, cols, block):
        c1 = min(cols, c0 + block)
        sel = (post >= c0) & (post < c1)
        if not sel.any():
            continue
        x = np.bincount(arrive[sel] * (c1 - c0) + post[sel] - c0, weights=w[sel],
                        minlength=n_steps * (c1 - c0)).reshape(n_steps, c1 - c0)
        g = lfilter([norm], [1.0, -math.exp(-dt / rec.tau_decay_ms)], x, axis=0)
        if rec.tau_rise_ms > 0:
            g -= lfilter([norm], [1.0, -math.exp(-dt / rec.tau_rise_ms)], x, axis=0)
        out[:, c0:c1] = g[samples]
    return out


def synaptic_currents(ds: xr.Dataset, network, *, populations=None) -> xr.Dataset:
    """Excitatory and inhibitory synaptic currents of each neuron, rebuilt from the spikes.

    The engine does not record synaptic currents; they follow exactly from the spikes, the
    network's synapses (weights, delays) and receptor kinetics (single or dual
    exponential, with the NMDA Mg²⁺ block) and the recorded V -- see the module docstring
    for the scheme. Excitatory: conductance receptors with ``E_rev >=``
    :data:`EXCITATORY_E_REV_MV` and positive current-synapse weights; inhibitory: the rest.

    The reconstruction assumes the run started from a fresh network (no synaptic state or
    spikes in flight carried over from an earlier ``simulate``) with fixed weights; stimuli
    (``add_stimulus``) are not synaptic currents and are left out. With ``sample_every > 1``
    the driving force uses V at the sample instead of at the start of the step.

    Parameters
    ----------
    ds : xarray.Dataset
        The run's result, with ``V`` recorded for the chosen neurons (conductance synapses).
    network : Network
        The network that produced ``ds`` (same synapses).
    populations : str or list of str, optional
        Postsynaptic populations; default the excitatory ones (names containing ``exc`` or
        ``pyr``, else those whose outgoing synapses all excite).

    Returns
    -------
    xarray.Dataset
        ``I_exc`` and ``I_inh`` (time, neuron) in nA, positive into the neuron.

    Raises
    ------
    ValueError
        Delta synapses (no current), plastic or short-term-dynamic projections onto the
        chosen neurons, V not recorded, a network that does not match ``ds``.

    Examples
    --------
    >>> from neurosim_nb import LIFNeuron, Network
    >>> from neurosim_nb.stimuli import ConstantCurrent
    >>> net = Network(seed=0)
    >>> _ = net.add_population("src", LIFNeuron.create_excitatory(n=1))
    >>> _ = net.add_population("exc", LIFNeuron.create_excitatory(n=1))
    >>> _ = net.add_projection("src", "exc", [0], [0], 0.1, 1.0, "current")
    >>> net.add_stimulus("src", ConstantCurrent(0.5))
    >>> ds = net.simulate(40.0, seed=0)
    >>> cur = synaptic_currents(ds, net)
    >>> t0 = float(ds.spike_time[0]) + 1.0 + 0.1   # spike + delay + one step: current = w
    >>> round(cur.I_exc.sel(time=t0, method="nearest").item(), 6)
    0.1
    """
    _check_dataset(ds)
    _check_network(ds, network)
    pops = _pyramidal(ds, network, populations)
    dt = positive("dt", ds.attrs["dt"])
    n_steps = int(ds.attrs.get("n_steps", round(float(ds.attrs["duration"]) / dt)))
    every = int(ds.attrs.get("sample_every", 1))
    ids = _neuron_ids(ds, network, pops)
    n_time = ds.sizes.get("time", 0)
    if n_time != n_steps // every:
        raise InvalidArgumentError(
            f"the Dataset has {n_time} samples, expected {n_steps // every}: "
            "record V (every sample) for the reconstruction")
    samples = (np.arange(n_time) + 1) * every - 1
    projs = [p for p in network.projections if p.post in pops and p.n_synapses]
    needs_v = any(p.receptor.kind == "conductance" for p in projs)
    v = _voltages(ds, ids) if needs_v else np.zeros((n_time, ids.size))
    v_drive = np.concatenate([v[:1], v[:-1]]) if every == 1 else v  # start of the step
    start = {}
    col = 0
    for p in pops:
        start[p] = col
        col += network.populations[p].n
    i_exc = np.zeros((n_time, ids.size))
    i_inh = np.zeros((n_time, ids.size))
    for proj in projs:
        rec = proj.receptor
        if rec.kind == "delta":
            raise InvalidArgumentError(
                f"projection {proj.name!r} uses delta synapses (a jump of V, no "
                "current): use lfp_proxy(ds) without the network (mean V)")
        if type(proj.dynamics).process is not SynapticDynamics.process:
            raise InvalidArgumentError(
                f"projection {proj.name!r} has plastic or short-term dynamics: "
                "its weights change during the run and cannot be rebuilt")
        arrive, post, w = _arrivals(proj, ds, network, dt, n_steps)
        n_post = proj.n_post
        lo = start[proj.post]
        sl = slice(lo, lo + n_post)
        parts = [(w, _excites(rec, 1.0))] if rec.kind == "conductance" else \
            [(np.maximum(w, 0.0), True), (np.minimum(w, 0.0), False)]
        for weights, exc in parts:
            if not np.any(weights):
                continue
            g = _filtered(arrive, post, weights, rec, dt, n_steps, n_post, samples)
            if rec.kind == "conductance":
                vd = v_drive[:, sl]
                g = g * rec.mg_block(vd) * (rec.E_rev_mV - vd)
            (i_exc if exc else i_inh)[:, sl] += g
    coords = {"time": ds["time"], "neuron": ("neuron", ids)}
    if "population" in ds.coords:
        coords["population"] = ("neuron", np.repeat(pops, [network.populations[p].n
                                                           for p in pops]).astype(object))
    attrs = {"units": "nA"}
    return xr.Dataset(
        {"I_exc": (("time", "neuron"), i_exc, {**attrs, "long_name":
                                                "excitatory synaptic current (into the cell)"}),
         "I_inh": (("time", "neuron"), i_inh, {**attrs, "long_name":
                                                "inhibitory synaptic current (into the cell)"})},
        coords=coords, attrs={"populations": ",".join(pops), "dt": dt})


def lfp_proxy(ds: xr.Dataset, network=None, *, populations=None, alpha: float = 1.65,
              delay_ms: float = 6.0) -> xr.DataArray:
    r"""LFP proxy of Mazzoni et al. (2015): delayed excitatory minus weighted inhibitory
    synaptic current magnitudes of the pyramidal neurons.

    .. math::

        \mathrm{LFP}(t) = \sum_j |I^{exc}_j(t - \tau)| - \alpha \sum_j |I^{inh}_j(t)|

    with the currents of :func:`synaptic_currents` (the excitatory currents before
    :math:`t = \tau` are 0: a fresh run has no synaptic current before it starts). The
    defaults are their reference weighted sum (RWS), :math:`\alpha = 1.65`,
    :math:`\tau = 6` ms. Positive when the delayed excitatory current dominates (see the
    module docstring on signs).

    **Without a network** the fallback is the mean membrane potential of the chosen
    neurons (mV), which Mazzoni et al. found to be a clearly poorer LFP proxy than the
    weighted current sum.

    Parameters
    ----------
    ds : xarray.Dataset
        A result with ``V`` recorded for the chosen neurons.
    network : Network, optional
        The network that produced ``ds``; ``None`` selects the mean-V fallback.
    populations : str or list of str, optional
        The pyramidal populations; default the excitatory ones (names with ``exc`` or
        ``pyr``, else those whose outgoing synapses all excite).
    alpha : float
        Weight of the inhibitory currents (>= 0).
    delay_ms : float
        Delay of the excitatory currents (ms, >= 0, shorter than the recording), rounded to
        the sampling interval.

    Returns
    -------
    xarray.DataArray
        ``lfp_proxy`` (time) in nA (``method = "RWS"``), or in mV for the fallback
        (``method = "mean_V"``); attrs ``populations``, ``n_neurons``, ``alpha`` and
        ``delay_ms``.

    Raises
    ------
    ValueError
        No recorded V, unknown or undeterminable populations, ``alpha < 0``, a delay not
        shorter than the recording, and as :func:`synaptic_currents`.

    Examples
    --------
    >>> from neurosim_nb.core.networks.benchmarks_models import coba_network
    >>> ds = coba_network(100, seed=1).simulate(20.0, record=("V",), seed=1)
    >>> v = lfp_proxy(ds)                              # no network: mean V of "exc"
    >>> v.attrs["units"], v.attrs["method"]
    ('mV', 'mean_V')
    """
    _check_dataset(ds)
    alpha = _number("alpha", alpha, "1")
    delay = _number("delay_ms", delay_ms, "ms")
    if not np.isfinite(alpha) or alpha < 0:
        raise InvalidArgumentError(f"alpha must be a finite number >= 0, got {alpha!r}")
    if not np.isfinite(delay) or delay < 0:
        raise InvalidArgumentError(f"delay_ms must be a finite number of ms >= 0, got {delay_ms!r}")
    if delay >= float(ds.attrs["duration"]):
        raise InvalidArgumentError(f"delay_ms ({delay} ms) is not shorter than the recording "
                                   f"({ds.attrs['duration']} ms)")
    if network is None:
        pops = _pyramidal(ds, None, populations)
        ids = _neuron_ids(ds, None, pops)
        v = _voltages(ds, ids)
        return named(v.mean(axis=1), name="lfp_proxy", units="mV",
                     long_name="LFP proxy: mean membrane potential", dims=("time",),
                     coords={"time": ds["time"]},
                     attrs={"method": "mean_V", "populations": ",".join(pops),
                            "n_neurons": int(ids.size)})
    cur = synaptic_currents(ds, network, populations=populations)
    step = float(ds.attrs["dt"]) * int(ds.attrs.get("sample_every", 1))
    shift = int(round(delay / step))
    exc = np.abs(cur["I_exc"].values).sum(axis=1)
    inh = np.abs(cur["I_inh"].values).sum(axis=1)
    exc = np.concatenate([np.zeros(shift), exc[:exc.size - shift]])
    return named(exc - alpha * inh, name="lfp_proxy", units="nA",
                 long_name="LFP proxy (Mazzoni et al. 2015 weighted sum of synaptic currents)",
                 dims=("time",), coords={"time": ds["time"]},
                 attrs={"method": "RWS", "alpha": alpha, "delay_ms": shift * step,
                        "populations": cur.attrs["populations"],
                        "n_neurons": int(cur.sizes["neuron"])})
