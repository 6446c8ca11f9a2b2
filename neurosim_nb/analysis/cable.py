r"""Measures of a compartmental result: attenuation, propagation velocity, spike latency.

Functions of the ``xarray.Dataset`` a :class:`neurosim_nb.cable.Cell` run returns (``V`` on
``(time, compartment)``, with the compartment coords ``section``, ``position``,
``distance`` and ``parent_compartment`` of :meth:`Compartments.to_dataset_coords
<neurosim_nb.morphology.Compartments.to_dataset_coords>`); each is also a ``ds.neuro``
method.

Path distances are along the tree: the edge between a node and its parent is the
difference of their ``distance`` (the path distance from the root's centre), except inside
the root section, where it is ``|position_i - position_p|`` times the root's length. A
location is a compartment index (the ``compartment`` coordinate) or ``(section, x)``: the
centre of the segment of ``section`` holding ``x`` (NEURON's ``sec(x)``), its 1-end node for
``x = 1``, and for ``x = 0`` the root's 0-end node (a child section's ``x = 0`` is its first
segment here, not its parent's node as in NEURON).

* :func:`attenuation` -- the deflection at every compartment relative to the source's
  (steady state or peak), against the path distance from the source;
* :func:`propagation_velocity` -- arrival times of a spike along a path (threshold
  crossings interpolated between samples), the least-squares line of distance on time
  (velocity in m/s), its residual and the latency from the path's start to its end;
* :func:`spike_latency` -- time from a stimulus onset to the first crossing at a location.

>>> import numpy as np, xarray as xr
>>> t = np.arange(1, 101) * 0.1
>>> ds = _demo_axon(t)                      # a spike travelling at 0.5 um/us = 0.5 m/s
>>> res = propagation_velocity(ds)
>>> round(float(res.velocity), 6), res.velocity.attrs["units"]
(0.5, 'm/s')
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from neurosim_nb._validation import is_number
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError
from neurosim_nb.numerics.crossings import first_crossings

__all__ = ["attenuation", "propagation_velocity", "spike_latency", "path_distance"]

_NEEDED = ("section", "position", "distance", "parent_compartment")


# -- the tree of a Dataset ---------------------------------------------------------------
def _check_ds(ds) -> None:
    if not isinstance(ds, xr.Dataset):
        raise ArgumentTypeError(
            f"ds must be an xarray.Dataset (a Cell result), got {type(ds).__name__}")
    if "V" not in ds or ds.V.dims != ("time", "compartment"):
        raise InvalidArgumentError("ds needs V on (time, compartment): the result of Cell.simulate")
    if ds.sizes["time"] < 2:
        raise InvalidArgumentError("ds.V needs at least two time samples")


def _tree(ds):
    """(node ids, parent ids, section names, positions, distances) of the recorded nodes."""
    missing = [c for c in _NEEDED if c not in ds.coords]
    if missing:
        raise InvalidArgumentError(
            f"ds lacks the compartment coords {missing}: path distances need "
            "section, position, distance and parent_compartment (a Cell run on "
            "compartments from neurosim_nb.morphology.discretise)")
    return (ds.compartment.values.astype(np.int64), ds.parent_compartment.values.astype(np.int64),
            ds.section.values.astype(str), ds.position.values.astype(float),
            ds.distance.values.astype(float))


def path_distance(ds: xr.Dataset, source) -> xr.DataArray:
    """Path distance (um) along the tree from ``source`` to every recorded compartment.

    ``source`` is a compartment index or ``(section, x)``. Every node on the paths must
    have been recorded (the default of :meth:`Cell.simulate`).

    >>> ds = _demo_axon(np.arange(1, 11) * 0.1)
    >>> path_distance(ds, ("axon", 0.5)).values[[0, 1, -1]].round(6).tolist()
    [550.0, 500.0, 450.0]
    """
    _check_ds(ds)
    src = _locate(ds, source, "source")
    node, parent, section, position, distance = _tree(ds)
    index = {int(k): j for j, k in enumerate(node)}
    root_sec = section[int(np.argmin(np.where(parent < 0, 0, 1)))] if np.any(parent < 0) \
        else None
    root_len = None
    if root_sec is not None:
        root_len = 2.0 * float(distance[parent < 0][0])
    adj: list[list[tuple[int, float]]] = [[] for _ in node]
    for j, p in enumerate(parent):
        if p < 0:
            continue
        if int(p) not in index:
            raise InvalidArgumentError(
                f"compartment {int(node[j])} has parent {int(p)}, which was not "
                "recorded: record all compartments for path distances")
        q = index[int(p)]
        if section[j] == section[q] == root_sec and root_len is not None:
            w = abs(position[j] - position[q]) * root_len
        else:
            w = abs(distance[j] - distance[q])
        adj[j].append((q, w))
        adj[q].append((j, w))
    out = np.full(node.size, np.nan)
    out[src] = 0.0
    stack = [src]
    while stack:
        a = stack.pop()
        for b, w in adj[a]:
            if np.isnan(out[b]):
                out[b] = out[a] + w
                stack.append(b)
    if np.isnan(out).any():
        raise InvalidArgumentError(
            "the recorded compartments are not one tree: record all compartments")
    return xr.DataArray(out, dims=("compartment",), coords={"compartment": ds.compartment},
                        name="path_distance",
                        attrs={"units": "um", "long_name": f"path distance from compartment "
                                                           f"{int(node[src])}"})


def _locate(ds, location, name: str) -> int:
    """Position along ``ds.compartment`` of a location (index or (section, x))."""
    comp = ds.compartment.values
    if is_number(location) and not isinstance(location, float):
        hit = np.flatnonzero(comp == int(location))
        if hit.size == 0:
            raise InvalidArgumentError(
                f"{name}: compartment {location!r} was not recorded (recorded "
                f"{int(comp.min())}..{int(comp.max())})")
        return int(hit[0])
    if isinstance(location, tuple) and len(location) == 2:
        sec, x = location
        if "section" not in ds.coords or "position" not in ds.coords:
            raise InvalidArgumentError(
                f"{name}: a (section, x) location needs the section and position "
                "coords; pass a compartment index")
        if not is_number(x) or not 0.0 <= float(x) <= 1.0:
            raise InvalidArgumentError(f"{name}: x must be in [0, 1], got {x!r}")
        secs = ds.section.values.astype(str)
        idx = np.flatnonzero(secs == str(sec))
        if idx.size == 0:
            raise InvalidArgumentError(f"{name}: no section {sec!r} in ds; sections: "
                                       f"{sorted(set(secs.tolist()))[:10]}")
        pos = ds.position.values[idx]
        x = float(x)
        centre = idx[(pos > 0.0) & (pos < 1.0)]
        if x == 1.0 or x == 0.0:
            end = idx[pos == x]
            if end.size:
                return int(end[0])
        if centre.size == 0:
            raise InvalidArgumentError(f"{name}: section {sec!r} has no recorded segment centre")
        centre = centre[np.argsort(ds.position.values[centre])]
        return int(centre[min(int(x * centre.size), centre.size - 1)])
    raise ArgumentTypeError(f"{name} must be a compartment index or (section, x), got {location!r}")


def _baseline(ds, baseline) -> np.ndarray:
    v = ds.V.values
    t = ds.time.values
    if isinstance(baseline, str) and baseline == "first":
        return v[0]
    if is_number(baseline) and not isinstance(baseline, bool) and np.isfinite(baseline):
        return np.full(v.shape[1], float(baseline))
    if isinstance(baseline, tuple | list) and len(baseline) == 2 and all(
            is_number(b) for b in baseline):
        sel = (t >= baseline[0]) & (t <= baseline[1])
        if not sel.any():
            raise InvalidArgumentError(f"baseline window {tuple(baseline)} ms holds no sample "
                                       f"(time {t[0]:g}..{t[-1]:g} ms)")
        return v[sel].mean(axis=0)
    raise InvalidArgumentError(
        "baseline must be 'first', a (t0, t1) window in ms or a potential in mV, "
        f"got {baseline!r}")


# -- attenuation ------------------------------------------------------------------------
def attenuation(ds: xr.Dataset, source=None, *, mode: str = "steady",
                baseline="first", at_ms: float | None = None) -> xr.DataArray:
    r"""Deflection at every compartment divided by the deflection at ``source``.

    Parameters
    ----------
    ds : Dataset
        A :class:`~neurosim_nb.cable.Cell` result with every compartment recorded.
    source : compartment index or (section, x), optional
        The injection site (default: the compartment with the largest deflection).
    mode : {"steady", "peak"}
        ``"steady"``: the deflection at the last sample (or the sample nearest ``at_ms``),
        for a DC input run to steady state; ``"peak"``: each compartment's largest
        deflection (signed), for a transient input.
    baseline : "first", (t0, t1) or float
        The resting value subtracted: the first sample, the mean over a window (ms), or a
        given potential (mV, e.g. the resting potential the run started from).

    Returns
    -------
    DataArray
        ``attenuation`` (1) over ``compartment``, with the coordinate ``path_distance``
        (um from the source); 1 at the source. For a sealed passive cable of length
        :math:`\ell` injected at one end, it is
        :math:`\cosh((\ell - x)/\lambda)/\cosh(\ell/\lambda)` at steady state.

    >>> ds = _demo_axon(np.arange(1, 101) * 0.1)    # a spike of 105 mV everywhere
    >>> att = attenuation(ds, ("axon", 0.0), mode="peak")
    >>> float(att.min()), float(att.max()), att.attrs["units"]
    (1.0, 1.0, '1')
    >>> float(att.path_distance[-1])
    1000.0
    """
    _check_ds(ds)
    if mode not in ("steady", "peak"):
        raise InvalidArgumentError(f"mode must be 'steady' or 'peak', got {mode!r}")
    dv_t = ds.V.values - _baseline(ds, baseline)[None, :]
    if mode == "steady":
        k = -1
        if at_ms is not None:
            if not is_number(at_ms):
                raise ArgumentTypeError(f"at_ms must be a time in ms, got {at_ms!r}")
            k = int(np.argmin(np.abs(ds.time.values - float(at_ms))))
        dv = dv_t[k]
    else:
        if at_ms is not None:
            raise InvalidArgumentError("at_ms applies to mode='steady' only")
        k = np.argmax(np.abs(dv_t), axis=0)
        dv = dv_t[k, np.arange(dv_t.shape[1])]
    src = int(np.argmax(np.abs(dv))) if source is None else _locate(ds, source, "source")
    if not np.isfinite(dv[src]) or dv[src] == 0.0:
        raise InvalidArgumentError(f"no deflection at the source (compartment "
                                   f"{int(ds.compartment.values[src])}): nothing to attenuate")
    dist = path_distance(ds, int(ds.compartment.values[src]))
    coords = {"compartment": ds.compartment, "path_distance": dist}
    if "section" in ds.coords:
        coords["section"] = ds.section
    return xr.DataArray(dv / dv[src], dims=("compartment",), coords=coords, name="attenuation",
                        attrs={"units": "1", "long_name": f"{mode} deflection relative to "
                                                          "the source",
                               "source_compartment": int(ds.compartment.values[src]),
                               "source_deflection_mV": float(dv[src]), "mode": mode})


# -- spikes along a path -----------------------------------------------------------------
def _path(ds, path) -> np.ndarray:
    """Positions along ds.compartment of a path, in order from its start."""
    comp = ds.compartment.values
    if path is None:
        d0 = path_distance(ds, int(comp[0])).values
        end = int(np.argmax(d0))
        parent = ds.parent_compartment.values
        index = {int(k): j for j, k in enumerate(comp)}
        chain = [end]
        while parent[chain[-1]] >= 0:
            chain.append(index[int(parent[chain[-1]])])
        return np.array(chain[::-1], dtype=np.int64)
    if isinstance(path, str):
        path = [path]
    if isinstance(path, Sequence | np.ndarray) and len(path) > 0 and all(
            isinstance(p, str) for p in path):
        secs = ds.section.values.astype(str)
        unknown = [p for p in path if p not in set(secs.tolist())]
        if unknown:
            raise InvalidArgumentError(f"path: no section {unknown[0]!r} in ds")
        idx = np.flatnonzero(np.isin(secs, list(path)))
        first = idx[np.isin(secs[idx], [path[0]])]
        d = path_distance(ds, int(comp[first[np.argmin(ds.position.values[first])]])).values
        return idx[np.argsort(d[idx], kind="stable")]
    arr = np.asarray(path)
    if arr.ndim == 1 and arr.size >= 2 and np.issubdtype(arr.dtype, np.integer):
        return np.array([_locate(ds, int(k), "path") for k in arr], dtype=np.int64)
    raise InvalidArgumentError(
        "path must be None (root to the farthest compartment), section names, "
        f"or >= 2 compartment indices, got {path!r}")


def propagation_velocity(ds: xr.Dataset, path=None, *, threshold_mV: float = 0.0,
                         after_ms: float = 0.0, between_um=None) -> xr.Dataset:
    r"""Conduction velocity of a spike along a path: arrival times and their linear fit.

    The arrival time at a compartment is the first upward crossing of ``threshold_mV``
    after ``after_ms``, interpolated linearly between samples. Distance along the path
    (um from its first compartment) is fitted by least squares as a line in the arrival
    time; the slope is the velocity (um/ms = 1e-3 m/s).

    Parameters
    ----------
    path : None, section name(s) or compartment indices
        ``None``: from the root to the compartment farthest from it; section names: their
        compartments ordered by path distance from the first section's 0-end;
        indices: those compartments in that order.
    threshold_mV : float
        The spike's detection threshold (mV).
    after_ms : float
        Ignore crossings before this time (ms), e.g. a stimulus artefact.
    between_um : (float, float), optional
        Fit only compartments whose path distance lies in this range (um): keep the
        stimulated and the sealed ends out of the fit.

    Returns
    -------
    Dataset
        ``arrival_time`` (ms) and ``path_distance`` (um) on ``path`` (the compartment
        index as a coordinate); ``velocity`` (m/s); ``latency`` (ms, the arrival at the
        path's end minus that at its start); ``fit_residual`` (um, root mean square of
        the distance residuals of the fit); ``n_fit``.

    Raises
    ------
    ValueError
        If no spike crosses the threshold at the path's start or end.

    >>> ds = _demo_axon(np.arange(1, 101) * 0.1)
    >>> res = propagation_velocity(ds, "axon", between_um=(100.0, 900.0))
    >>> round(float(res.latency), 6), round(float(res.fit_residual), 9)
    (2.0, 0.0)
    """
    _check_ds(ds)
    if not is_number(threshold_mV) or not np.isfinite(threshold_mV):
        raise InvalidArgumentError(f"threshold_mV must be a finite number, got {threshold_mV!r}")
    if not is_number(after_ms):
        raise ArgumentTypeError(f"after_ms must be a time in ms, got {after_ms!r}")
    idx = _path(ds, path)
    if idx.size < 2:
        raise InvalidArgumentError("the path needs at least two compartments")
    comp = ds.compartment.values
    t = ds.time.values
    v = ds.V.values[:, idx]
    arrival = first_crossings(t, v, float(threshold_mV), float(after_ms))
    for end, label in ((0, "start"), (-1, "end")):
        if np.isnan(arrival[end]):
            raise InvalidArgumentError(
                f"no spike reaches the {label} of the path: compartment "
                f"{int(comp[idx[end]])} never crosses {threshold_mV:g} mV after "
                f"{after_ms:g} ms (peak {np.nanmax(v[:, end]):.1f} mV); the spike "
                "failed to propagate, or the run is too short")
    dist = path_distance(ds, int(comp[idx[0]])).values[idx]
    use = ~np.isnan(arrival)
    if between_um is not None:
        if not (isinstance(between_um, tuple | list) and len(between_um) == 2
                and all(is_number(b) for b in between_um) and between_um[0] < between_um[1]):
            raise InvalidArgumentError(f"between_um must be (d0, d1) with d0 < d1 (um), got "
                                       f"{between_um!r}")
        use &= (dist >= between_um[0]) & (dist <= between_um[1])
    if use.sum() < 2:
        raise InvalidArgumentError("fewer than two compartments with a spike in the fitted range")
    if np.any(np.isnan(arrival[(dist >= dist[use].min()) & (dist <= dist[use].max())])):
        raise InvalidArgumentError("the spike did not reach every compartment of the fitted range")
    slope, intercept = np.polyfit(arrival[use], dist[use], 1)
    resid = dist[use] - (slope * arrival[use] + intercept)
    coords = {"path": ("path", comp[idx], {"long_name": "compartment index"}),
              "path_distance": ("path", dist, {"units": "um", "long_name": "path distance from "
                                                                           "the path's start"})}
    return xr.Dataset(
        {"arrival_time": ("path", arrival, {"units": "ms", "long_name": "spike arrival time "
                                                                        "(threshold crossing)"}),
         "velocity": ((), slope * 1e-3, {"units": "m/s", "long_name": "conduction velocity"}),
         "latency": ((), arrival[-1] - arrival[0],
                     {"units": "ms", "long_name": "arrival at the path's end minus its start"}),
         "fit_residual": ((), float(np.sqrt(np.mean(resid**2))),
                          {"units": "um", "long_name": "rms residual of the linear fit"}),
         "n_fit": ((), int(use.sum()), {"units": "1", "long_name": "compartments fitted"})},
        coords, attrs={"threshold_mV": float(threshold_mV), "after_ms": float(after_ms)})


def spike_latency(ds: xr.Dataset, location=None, *, onset_ms: float = 0.0,
                  threshold_mV: float = 0.0) -> xr.DataArray:
    """Time (ms) from ``onset_ms`` to the first upward crossing of ``threshold_mV`` at
    ``location`` (a compartment index or (section, x); default: the cell's spike
    compartment, ``ds.attrs["spike_compartment"]``). ValueError if it never crosses.

    >>> ds = _demo_axon(np.arange(1, 101) * 0.1)
    >>> round(float(spike_latency(ds, ("axon", 1.0), onset_ms=1.0)), 6)
    2.0
    """
    _check_ds(ds)
    if location is None:
        if "spike_compartment" not in ds.attrs:
            raise InvalidArgumentError("give location: ds has no spike_compartment attribute")
        location = int(ds.attrs["spike_compartment"])
    j = _locate(ds, location, "location")
    if not is_number(onset_ms) or not is_number(threshold_mV):
        raise ArgumentTypeError("onset_ms and threshold_mV must be numbers (ms, mV)")
    t = first_crossings(ds.time.values, ds.V.values[:, [j]], float(threshold_mV),
                   float(onset_ms))[0]
    if np.isnan(t):
        raise InvalidArgumentError(f"compartment {int(ds.compartment.values[j])} never crosses "
                                   f"{threshold_mV:g} mV after {onset_ms:g} ms: no spike there")
    return xr.DataArray(t - float(onset_ms), name="spike_latency",
                        attrs={"units": "ms", "long_name": "spike latency",
                               "compartment": int(ds.compartment.values[j])})


def _demo_axon(t: np.ndarray) -> xr.Dataset:
    """A synthetic 1 mm root section, 10 segments, with a spike front moving at 0.5 um/us
    from x = 0 at t = 1 ms (for the doctests): every section node recorded, NEURON's layout."""
    L, nseg = 1000.0, 10
    pos = np.concatenate(([0.0], (np.arange(nseg) + 0.5) / nseg, [1.0]))
    x = pos * L
    dist = np.abs(pos - 0.5) * L
    arrival = 1.0 + x / 500.0
    dt = t[1] - t[0]
    # a ramp through 0 mV over two samples: the interpolated crossing is exact
    v = np.clip(40.0 / dt * (t[:, None] - arrival[None, :]), -65.0, 40.0)
    n = pos.size
    coords = {"time": ("time", t, {"units": "ms"}),
              "compartment": ("compartment", np.arange(n)),
              "section": ("compartment", np.array(["axon"] * n)),
              "position": ("compartment", pos),
              "distance": ("compartment", dist, {"units": "um"}),
              "parent_compartment": ("compartment", np.arange(n) - 1)}
    return xr.Dataset({"V": (("time", "compartment"), v, {"units": "mV"})}, coords,
                      attrs={"spike_compartment": 0})
