r"""Brunel's (2000) phase diagram as a parameter sweep: the small model A network of
:mod:`neurosim_nb.experiments.brunel` over the relative inhibition g and the external drive
:math:`\nu_{ext}/\nu_{thr}`, each point's rate, ISI CV, synchrony and peak frequency, and the
regime (SR, AI, SI fast, SI slow; Q for silence) each point is in.

Computed with :func:`~neurosim_nb.fitting.sweep.parameter_sweep` (on the embedded Dask
``LocalCluster`` by default, any ``client=``; ``store=`` checkpoints and resumes). A finer
diagram than an app can compute live is one command::

    python -m neurosim_nb.fitting.phase_diagram --out brunel_phase.nc

(defaults: g = 3, 3.5, ..., 8 and nu_ext/nu_thr = 0.8, 1.2, ..., 4, 1 s per point after a
100 ms transient; 99 points, about 2 minutes on two cores). The package ships the result of
exactly that command as :data:`SHIPPED_DIAGRAM`, which :func:`load_phase_diagram` reads.

Each network's seed depends on the point's (g, nu) values and the base seed only
(:func:`~neurosim_nb.experiments.brunel.network_seed`), not on the grid: a point computed
in a coarse live diagram, in the shipped one or alone (to show its raster) is the same
network with the same spikes.

Examples
--------
>>> ds = brunel_phase_diagram([3.0, 5.0], [2.0], n_exc=400, duration_ms=200.0,
...                           client="serial", progress=False)
>>> ds.rate_hz.dims, ds.regime.sel(g=3.0, nu_ext_ratio=2.0).item()
(('g', 'nu_ext_ratio'), 'SR')
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from neurosim_nb.experiments import brunel
from neurosim_nb.fitting.sweep import SweepError, parameter_sweep

__all__ = ["brunel_phase_diagram", "load_phase_diagram", "SHIPPED_DIAGRAM", "DEFAULT_G",
           "DEFAULT_NU", "main"]

#: the diagram the package ships (made by ``python -m neurosim_nb.fitting.phase_diagram``)
SHIPPED_DIAGRAM = Path(__file__).resolve().parents[1] / "data" / "brunel_phase_diagram.nc"
#: the default grid of the command
DEFAULT_G = tuple(np.round(np.arange(3.0, 8.0 + 1e-9, 0.5), 6).tolist())
DEFAULT_NU = tuple(np.round(np.arange(0.8, 4.0 + 1e-9, 0.4), 6).tolist())

_MEASURES = tuple(brunel.MEASURE_UNITS)


def _brunel_model(params: dict, seed: int) -> dict:
    """One sweep point (module level so that Dask can pickle it). The sweep's per-point seed
    is not used: the network's seed is keyed by (g, nu) (module docstring)."""
    return brunel.brunel_point(
        float(params["g"]), float(params["nu_ext_ratio"]), n_exc=int(params["n_exc"]),
        epsilon=float(params["epsilon"]), duration_ms=float(params["duration_ms"]),
        transient_ms=float(params["transient_ms"]), seed=int(params["base_seed"]))


def _axis(name: str, values) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 1-D sequence of numbers, got {values!r}") from None
    if arr.size == 0:
        raise ValueError(f"{name} is empty; give at least one value")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers, got {arr.tolist()}")
    if np.unique(arr).size != arr.size:
        raise ValueError(f"{name} has repeated values: {arr.tolist()}")
    low = 0.0 if name == "g_values" else None
    if low is not None and arr.min() < low:
        raise ValueError(f"g_values must be >= 0, got {arr.tolist()}")
    if name == "nu_values" and arr.min() <= 0:
        raise ValueError(f"nu_values (nu_ext/nu_thr) must be > 0, got {arr.tolist()}")
    return arr


def brunel_phase_diagram(g_values: Sequence[float], nu_values: Sequence[float], *,
                         n_exc: int = 2000, epsilon: float = 0.2, duration_ms: float = 1000.0,
                         transient_ms: float = 100.0, seed: int = 0, client=None,
                         store: str | None = None, batch_size: int | None = None,
                         progress: bool | Callable[[int, int], None] = True) -> xr.Dataset:
    r"""Rate, ISI CV, synchrony, peak frequency and regime of Brunel's model A over a grid
    of g and :math:`\nu_{ext}/\nu_{thr}`.

    Parameters
    ----------
    g_values : sequence of float
        Relative inhibition values (>= 0).
    nu_values : sequence of float
        External drive values :math:`\nu_{ext}/\nu_{thr}` (> 0).
    n_exc, epsilon : int, float
        Network size and connection probability (:func:`~neurosim_nb.experiments.brunel.\
run_brunel`; the regime thresholds are calibrated at the defaults).
    duration_ms, transient_ms : float
        Analysed time per point after a transient (ms).
    seed : int
        Base seed of the networks.
    client : None, "serial", distributed.Client or str
        Where to run (:func:`~neurosim_nb.fitting.cluster.get_client`).
    store : str, optional
        A Zarr directory that checkpoints the sweep (resumed when rerun).
    batch_size : int, optional
        Points per Dask task.
    progress : bool or callable
        A ``tqdm`` bar, or ``progress(points_done, points_total)`` called at the start and
        after every finished batch (an app's own progress bar).

    Returns
    -------
    xarray.Dataset
        Dims ``g``, ``nu_ext_ratio``. Variables ``rate_hz`` (Hz), ``cv_isi``, ``synchrony``,
        ``f_peak_hz`` (Hz), ``regime`` (str), ``network_seed``, ``error`` (the sweep's: ""
        where fine). Attrs: the sweep's provenance plus ``regime_thresholds_json``,
        ``regime_reference_points_json``, ``n_exc``, ``epsilon``, ``duration_ms``,
        ``transient_ms``, ``base_seed``, ``reference``.

    Raises
    ------
    ValueError
        An empty, repeated or out-of-range axis, or a bad network size or duration.

    Examples
    --------
    >>> ds = brunel_phase_diagram([5.0], [2.0, 4.0], n_exc=400, duration_ms=200.0,
    ...                           client="serial", progress=False)
    >>> ds.rate_hz.attrs["units"], ds.sizes["nu_ext_ratio"]
    ('Hz', 2)
    """
    g_arr = _axis("g_values", g_values)
    nu_arr = _axis("nu_values", nu_values)
    # checked here (as run_brunel does) so that a bad value fails before any cluster starts
    for name, value, integer in (("n_exc", n_exc, True), ("epsilon", epsilon, False),
                                 ("duration_ms", duration_ms, False)):
        brunel._positive(name, value, integer=integer)
    if isinstance(transient_ms, bool) or not transient_ms >= 0:
        raise ValueError(f"transient_ms must be a number >= 0, got {transient_ms!r}")
    fixed = {"n_exc": int(n_exc), "epsilon": float(epsilon), "duration_ms": float(duration_ms),
             "transient_ms": float(transient_ms), "base_seed": int(seed)}
    ds = parameter_sweep(_brunel_model, {"g": g_arr, "nu_ext_ratio": nu_arr},
                         measures=list(_MEASURES), fixed=fixed, client=client,
                         batch_size=batch_size, store=store, seed=int(seed), progress=progress)
    return _finish(ds, fixed)


def _finish(ds: xr.Dataset, fixed: dict) -> xr.Dataset:
    ds = ds.drop_vars("seed", errors="ignore")   # the sweep's point seeds: unused here
    for name, (units, long_name) in brunel.MEASURE_UNITS.items():
        ds[name].attrs.update(units=units, long_name=long_name)
    ds["g"].attrs.update(units="1", long_name="relative inhibition g")
    ds["nu_ext_ratio"].attrs.update(units="1", long_name="external drive nu_ext / nu_thr")
    labels = brunel.classify_regime(ds.rate_hz.values, ds.cv_isi.values, ds.synchrony.values,
                                    ds.f_peak_hz.values)
    failed = ds["error"].values.astype(str) != ""
    labels = np.where(failed, "error", labels)
    ds["regime"] = (("g", "nu_ext_ratio"), np.asarray(labels, dtype=str),
                    {"long_name": "dynamical regime (Brunel 2000)",
                     "rule": "experiments.brunel.classify_regime"})
    seeds = [[brunel.network_seed(g, nu, fixed["base_seed"]) for nu in ds.nu_ext_ratio.values]
             for g in ds.g.values]
    ds["network_seed"] = (("g", "nu_ext_ratio"), np.asarray(seeds, dtype=np.int64),
                          {"long_name": "seed of the network and its run"})
    ds.attrs.update({**fixed, "regime_thresholds_json": json.dumps(brunel.REGIME_THRESHOLDS),
                     "regime_reference_points_json": json.dumps(
                         [[g, nu, r] for (g, nu), r in brunel.REGIME_REFERENCE_POINTS.items()]),
                     "J_C_E_mV": brunel.BRUNEL_SMALL["JC_E_mV"],
                     "reference": "Brunel N (2000) J Comput Neurosci 8:183-208"})
    return ds


def load_phase_diagram(path: str | Path | None = None) -> xr.Dataset:
    """A phase diagram saved by :func:`main` (default: the shipped :data:`SHIPPED_DIAGRAM`).

    Raises
    ------
    FileNotFoundError
        No such file (the message gives the command that makes one).

    Examples
    --------
    >>> ds = load_phase_diagram()
    >>> sorted(set(ds.regime.values.ravel().tolist()))
    ['AI', 'Q', 'SI fast', 'SI slow', 'SR']
    """
    path = SHIPPED_DIAGRAM if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no phase diagram at {str(path)!r}; make one with "
                                f"`python -m neurosim_nb.fitting.phase_diagram --out {path}`")
    with xr.open_dataset(path) as ds:
        ds = ds.load()
    for name in ("regime", "error"):
        if name in ds:
            ds[name] = ds[name].astype(str)
    return ds


def _values(text: str) -> list[float]:
    """``"3:8:11"`` (start:stop:count, both ends included) or ``"3,4.5,6"``."""
    try:
        if ":" in text:
            a, b, n = text.split(":")
            return np.round(np.linspace(float(a), float(b), int(n)), 6).tolist()
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither start:stop:count nor a comma-separated list") from None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m neurosim_nb.fitting.phase_diagram --out FILE.nc``: compute a diagram
    (the default grid is :data:`DEFAULT_G` x :data:`DEFAULT_NU`) and save it as NetCDF.
    ``--help`` lists the options. Returns the exit status."""
    p = argparse.ArgumentParser(prog="python -m neurosim_nb.fitting.phase_diagram",
                                description="Brunel (2000) phase diagram of the small model A "
                                            "network, saved as NetCDF.")
    p.add_argument("--out", required=True, help="the NetCDF file to write")
    p.add_argument("--g", type=_values, default=list(DEFAULT_G),
                   help="g values: start:stop:count or a,b,c (default 3:8:11)")
    p.add_argument("--nu", type=_values, default=list(DEFAULT_NU),
                   help="nu_ext/nu_thr values (default 0.8:4:9)")
    p.add_argument("--n-exc", type=int, default=2000)
    p.add_argument("--duration", type=float, default=1000.0, help="ms per point")
    p.add_argument("--transient", type=float, default=100.0, help="ms")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scheduler", default=None,
                   help="a Dask scheduler address (default: an embedded LocalCluster); "
                        "'serial' for no Dask")
    p.add_argument("--store", default=None, help="a Zarr directory to checkpoint into")
    a = p.parse_args(argv)
    try:
        ds = brunel_phase_diagram(a.g, a.nu, n_exc=a.n_exc, duration_ms=a.duration,
                                  transient_ms=a.transient, seed=a.seed, client=a.scheduler,
                                  store=a.store)
    except (ValueError, TypeError, SweepError) as err:
        p.error(str(err))
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(out)
    counts = {r: int((ds.regime.values == r).sum()) for r in (*brunel.REGIMES, "error")}
    print(f"wrote {out}: {ds.sizes['g']} x {ds.sizes['nu_ext_ratio']} points in "
          f"{ds.attrs['wall_time_s']:.0f} s; regimes "
          + ", ".join(f"{k} {v}" for k, v in counts.items() if v))
    return 0 if int(ds.attrs["n_failed"]) == 0 else 1


if __name__ == "__main__":  # pragma: no cover - the command
    raise SystemExit(main())
