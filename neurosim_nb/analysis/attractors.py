r"""Attractors: phase planes of 2-D neuron models and activity states of networks.

**Phase plane** (Izhikevich 2007, ch. 4-5; Gerstner et al., *Neuronal Dynamics*, ch. 4):
the subthreshold dynamics (no reset) of some models are a planar flow in ``V`` and a
recovery variable. The equations come from the model itself: a family that is planar
carries a :class:`~neurosim_nb.core.neurons.planar.PlanarModel` as its ``planar`` attribute
(found through the model registry, :mod:`~neurosim_nb.core.neurons.registry`), with its
vector field, nullclines, fixed points (closed forms for the Izhikevich and AdEx models,
a bracketing root search for any other) and saddle-node current. Here the V-nullcline
(:math:`\dot V = 0`) and the recovery nullcline are sampled, and each fixed point is
classified by the eigenvalues of the Jacobian; with :math:`a/g_L > \tau_m/\tau_w` the
resting state of the AdEx loses stability by an Andronov-Hopf bifurcation below
:math:`I_{SN}` (Touboul & Brette 2008), which the ``kind`` of the fixed points shows.

**Activity states** of a network: population (or neuron) rate vectors in bins are
clustered by k-means (:func:`scipy.cluster.vq.kmeans2`, k-means++ seeding, best of several
seeded restarts), with the number of states chosen by the mean silhouette (Rousseeuw 1987).

References
----------
E. M. Izhikevich (2007), *Dynamical Systems in Neuroscience*, MIT Press.
J. Touboul, R. Brette (2008), Dynamics and bifurcations of the adaptive exponential
integrate-and-fire model. Biol Cybern 99:319-334.
P. J. Rousseeuw (1987), Silhouettes: a graphical aid to the interpretation and validation
of cluster analysis. J Comput Appl Math 20:53-65.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.cluster.vq import ClusterError, kmeans2
from scipy.spatial.distance import cdist

from neurosim_nb.analysis._input import _number, as_spike_trains, bin_counts, integer, positive
from neurosim_nb.analysis._input import n_bins as count_bins
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError

__all__ = ["nullclines", "fixed_points", "attractor_states"]

_MAX_SILHOUETTE_POINTS = 2000


# -- planar models -------------------------------------------------------------------------
def _planar(model_or_params):
    """(the model's PlanarModel, its scalar parameters) of a population or parameter set."""
    from neurosim_nb.core.neurons.base import NeuronPopulation
    from neurosim_nb.core.neurons.planar import planar_models
    from neurosim_nb.core.neurons.registry import family_of, family_of_parameters

    planar = None
    if isinstance(model_or_params, NeuronPopulation):
        planar = family_of(model_or_params).planar
    else:
        try:
            planar = family_of_parameters(model_or_params).planar
        except TypeError:
            pass
    if planar is None:
        raise ArgumentTypeError(
            "model_or_params must be a population or the parameters of a planar "
            f"model ({', '.join(planar_models())}), got "
            f"{type(model_or_params).__name__}")
    return planar, planar.scalars(model_or_params)


def _current(I_ext) -> float:
    i = _number("I_ext", I_ext, "the model's current units")
    if not np.isfinite(i):
        raise InvalidArgumentError(f"I_ext must be finite, got {I_ext!r}")
    return i


def _classify(lam: np.ndarray) -> str:
    scale = max(1e-12, float(np.max(np.abs(lam))))
    re, im = lam.real, lam.imag
    tol = 1e-9 * scale
    if np.any(np.abs(lam) <= tol):
        return "saddle-node"
    if np.all(np.abs(im) > tol):
        if np.all(np.abs(re) <= tol):
            return "center"
        return "stable focus" if re[0] < 0 else "unstable focus"
    if re.max() > 0 > re.min():
        return "saddle"
    return "stable node" if re.max() < 0 else "unstable node"


def fixed_points(model_or_params, I_ext: float = 0.0) -> xr.Dataset:
    """Fixed points of a planar model (Izhikevich, AdEx, ...) and their stability.

    The fixed points are the model's :meth:`~neurosim_nb.core.neurons.planar.PlanarModel.equilibria`
    (Izhikevich: the roots of a quadratic in closed form; AdEx: ``scipy.optimize.brentq``
    on each side of the minimum of a convex function; see
    :mod:`~neurosim_nb.core.neurons.planar`). The reset is ignored: these are the
    equilibria of the subthreshold flow (a point above the spike cut-off is reported all
    the same).

    Parameters
    ----------
    model_or_params : NeuronPopulation or ParameterSet
        One neuron (or neurons with equal parameters) of a family whose ``planar`` is set
        (IzhikevichNeuron, AdExNeuron), or its parameters.
    I_ext : float
        Constant input, in the model's current units: mV/ms for the Izhikevich model
        (Izhikevich 2003 units), nA for AdEx.

    Returns
    -------
    xarray.Dataset
        Along ``fixed_point`` (0, 1 or 2 points, by increasing ``V``): ``V`` (mV), ``u``
        (mV/ms) or ``w`` (nA), ``eigenvalue_real`` and ``eigenvalue_imag``
        (``fixed_point, eigenvalue``; 1/ms, by decreasing real part), ``trace``,
        ``determinant`` of the Jacobian and ``kind``: ``"stable node"``,
        ``"stable focus"``, ``"unstable node"``, ``"unstable focus"``, ``"saddle"``,
        ``"center"`` or ``"saddle-node"`` (a zero eigenvalue, at the bifurcation).
        Attrs ``model``, ``I_ext``, ``current_units``, ``I_saddle_node`` (the input above
        which no fixed point exists).

    Raises
    ------
    TypeError
        A model that is not planar (LIF, Hodgkin-Huxley, ...) or a non-numeric ``I_ext``.
    ValueError
        A NaN ``I_ext``, parameters that differ between neurons, ``a = 0`` (Izhikevich).

    Examples
    --------
    >>> from neurosim_nb import IzhikevichNeuron
    >>> fp = fixed_points(IzhikevichNeuron.from_preset("RS"))
    >>> fp.V.values.round(6).tolist(), fp.kind.values.tolist()
    ([-70.0, -50.0], ['stable node', 'saddle'])
    >>> fixed_points(IzhikevichNeuron.from_preset("RS"), I_ext=5.0).sizes["fixed_point"]
    0
    """
    planar, p = _planar(model_or_params)
    i_ext = _current(I_ext)
    v = np.asarray(planar.equilibria(p, i_ext), dtype=float)
    rec = planar.w_nullcline(p, v)
    J = planar.jacobian(p, v)
    lam = np.linalg.eigvals(J) if v.size else np.zeros((0, 2), complex)
    lam = np.take_along_axis(lam, np.argsort(-lam.real, axis=-1, kind="stable"), axis=-1)
    kinds = np.array([_classify(x) for x in lam], dtype=object).astype(str)
    rname, runits = planar.recovery, planar.recovery_units
    dims = ("fixed_point",)
    return xr.Dataset(
        {"V": (dims, v, {"units": "mV", "long_name": "membrane potential at the fixed point"}),
         rname: (dims, rec, {"units": runits, "long_name": "recovery variable at the fixed "
                                                            "point"}),
         "eigenvalue_real": (dims + ("eigenvalue",), lam.real,
                             {"units": "1/ms", "long_name": "real part of the eigenvalue"}),
         "eigenvalue_imag": (dims + ("eigenvalue",), lam.imag,
                             {"units": "1/ms", "long_name": "imaginary part of the eigenvalue"}),
         "trace": (dims, np.trace(J, axis1=-2, axis2=-1),
                   {"units": "1/ms", "long_name": "trace of the Jacobian"}),
         "determinant": (dims, np.linalg.det(J) if v.size else np.zeros(0),
                         {"units": "1/ms2", "long_name": "determinant of the Jacobian"}),
         "kind": (dims, kinds, {"units": "1", "long_name": "type of fixed point"})},
        coords={"fixed_point": ("fixed_point", np.arange(v.size)),
                "eigenvalue": ("eigenvalue", np.arange(2))},
        attrs={"model": planar.name, "I_ext": i_ext, "current_units": planar.input_units,
               "I_saddle_node": float(planar.saddle_node_current(p))},
    )


def nullclines(model_or_params, I_ext: float = 0.0, V_range: tuple[float, float] | None = None,
               n_points: int = 400) -> xr.Dataset:
    """V- and recovery nullclines of a planar model (Izhikevich, AdEx, ...) over a V range.

    Parameters
    ----------
    model_or_params : NeuronPopulation or ParameterSet
        As :func:`fixed_points`.
    I_ext : float
        Constant input (mV/ms for Izhikevich, nA for AdEx).
    V_range : (float, float), optional
        Range of V (mV). Default: the model's
        :meth:`~neurosim_nb.core.neurons.planar.PlanarModel.v_range` (-90 to -20 mV for
        Izhikevich, :math:`E_L - 20` to :math:`V_T + 5\\Delta_T` for AdEx), widened to
        include the fixed points with a margin (``v_margin``, 5 mV).
    n_points : int
        Number of V values (>= 2).

    Returns
    -------
    xarray.Dataset
        Along ``V`` (mV): ``V_nullcline`` (the recovery variable where dV/dt = 0) and
        ``u_nullcline`` / ``w_nullcline`` (where du/dt = 0 / dw/dt = 0), in mV/ms or nA.

    Raises
    ------
    TypeError, ValueError
        As :func:`fixed_points`; a ``V_range`` that is not increasing and finite.

    Examples
    --------
    >>> from neurosim_nb import AdExNeuron
    >>> nc = nullclines(AdExNeuron.from_preset("tonic"), I_ext=0.1, n_points=50)
    >>> list(nc.data_vars), nc.w_nullcline.attrs["units"]
    (['V_nullcline', 'w_nullcline'], 'nA')
    """
    planar, p = _planar(model_or_params)
    i_ext = _current(I_ext)
    n_points = integer("n_points", n_points, 2)
    if V_range is None:
        lo, hi = planar.v_range(p)
        v_fp = np.asarray(planar.equilibria(p, i_ext), dtype=float)
        if v_fp.size:
            margin = planar.v_margin
            lo, hi = min(lo, v_fp.min() - margin), max(hi, v_fp.max() + margin)
    else:
        try:
            lo, hi = (float(x) for x in V_range)
        except (TypeError, ValueError):
            raise ArgumentTypeError(f"V_range must be two numbers (mV), got {V_range!r}") from None
        if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
            raise InvalidArgumentError(f"V_range must be finite and increasing, got {V_range!r}")
    v = np.linspace(lo, hi, int(n_points))
    rname, runits = planar.recovery, planar.recovery_units
    v_nc, r_nc = planar.v_nullcline(p, v, i_ext), planar.w_nullcline(p, v)
    return xr.Dataset(
        {"V_nullcline": ("V", v_nc, {"units": runits,
                                     "long_name": f"{rname} on the V-nullcline (dV/dt = 0)"}),
         f"{rname}_nullcline": ("V", r_nc, {"units": runits,
                                            "long_name": f"{rname}-nullcline (d{rname}/dt = 0)"})},
        coords={"V": ("V", v, {"units": "mV", "long_name": "membrane potential"})},
        attrs={"model": planar.name, "I_ext": i_ext, "current_units": planar.input_units},
    )


# -- network activity states ------------------------------------------------------------------
def _kmeans(x: np.ndarray, k: int, rng: np.random.Generator, n_init: int):
    """Best (lowest inertia) of n_init k-means++ runs: (centroids, labels)."""
    best = None
    for _ in range(n_init):
        try:
            try:
                c, lab = kmeans2(x, k, iter=50, minit="++", missing="raise", rng=rng)
            except TypeError:  # scipy < 1.15 names it seed
                c, lab = kmeans2(x, k, iter=50, minit="++", missing="raise", seed=rng)
        except ClusterError:  # an empty cluster: try another initialisation
            continue
        inertia = float(((x - c[lab]) ** 2).sum())
        if best is None or inertia < best[0]:
            best = (inertia, c, lab)
    if best is None:
        raise InvalidArgumentError(f"k-means found no {k} non-empty states in {n_init} runs")
    return best[1], best[2]


def _silhouette(x: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Mean silhouette (Rousseeuw 1987); a point alone in its cluster scores 0."""
    d = cdist(x, x)
    onehot = labels[:, None] == np.arange(k)[None, :]
    size = onehot.sum(0)
    sums = d @ onehot
    own = sums[np.arange(x.shape[0]), labels]
    n_own = size[labels] - 1
    a = np.divide(own, n_own, out=np.zeros_like(own), where=n_own > 0)
    other = np.where(onehot | (size == 0)[None, :], np.inf, sums / np.maximum(size, 1))
    b = other.min(axis=1)
    # no other non-empty cluster (b = inf): no separation to score, 0 like a lone point
    ok = (n_own > 0) & np.isfinite(b)
    s = np.divide(b - a, np.maximum(np.maximum(a, b), 1e-300), out=np.zeros_like(a), where=ok)
    return float(np.mean(s))


def _features(st, bin_ms: float, n_bins: int, by: str):
    """Rates (bin, feature) in Hz and the feature coordinate (name, values)."""
    counts = bin_counts(st.trains, st.t_start, bin_ms, n_bins).T.astype(float)
    rates = counts / (bin_ms / 1000.0)
    if by == "auto":
        by = "population" if st.population is not None else "neuron"
    if by == "population":
        if st.population is None:
            raise InvalidArgumentError(
                "by='population' needs a Dataset with a 'population' coordinate")
        names = np.array(list(dict.fromkeys(st.population.tolist())), dtype=str)
        member = st.population[None, :] == names[:, None]
        rates = rates @ member.T / member.sum(1)
        return rates, ("population", names)
    if by != "neuron":
        raise InvalidArgumentError(f"by must be 'auto', 'population' or 'neuron', got {by!r}")
    return rates, ("neuron", st.neuron)


def _runs(labels: np.ndarray):
    change = np.flatnonzero(np.diff(labels)) + 1
    start = np.concatenate([[0], change])
    end = np.concatenate([change, [labels.size]])
    return start, end


def attractor_states(data, bin_ms: float = 50.0, n_states: int | None = None, *,
                     by: str = "auto", standardize: bool = True,
                     n_components: int | None = None, max_states: int = 8, n_init: int = 10,
                     seed: int = 0, t_start: float | None = None, t_stop: float | None = None,
                     neurons=None) -> xr.Dataset:
    """Discrete activity states of a network: k-means clustering of binned rate vectors.

    Each bin of ``bin_ms`` gives a vector of firing rates (one per population, or per
    neuron); the vectors are z-scored (``standardize``), optionally projected on their
    first principal components, and clustered by k-means (best of ``n_init`` k-means++
    runs seeded by ``seed``). With ``n_states=None`` the number of states is the k in
    ``2 .. max_states`` with the largest mean silhouette (on at most 2000 bins, drawn with
    ``seed``); activity that never changes is one state. Each bin is labelled on its own (no
    temporal smoothing), so a misclassified bin splits a run: choose bins long enough to
    hold several spikes per feature. States are numbered by increasing
    mean rate of their centroid.

    Parameters
    ----------
    data : xarray.Dataset, array_like or sequence of array_like
        A result Dataset (populations taken from its ``population`` coordinate) or spike
        times (ms) of each neuron.
    bin_ms : float
        Bin width (ms).
    n_states : int, optional
        Number of states; chosen by silhouette if None.
    by : {"auto", "population", "neuron"}
        Features: the mean rate per neuron of each population (``auto`` when the Dataset
        has populations) or the rate of each neuron.
    standardize : bool
        z-score each feature (constant features become 0) before clustering.
    n_components : int, optional
        Keep this many principal components (PCA by SVD) before clustering.
    max_states : int
        Largest number of states tried when ``n_states`` is None.
    n_init : int
        k-means restarts per k.
    seed : int
        Seed of the k-means initialisations and the silhouette subsample.
    t_start, t_stop, neurons
        Window (ms) and neuron selection.

    Returns
    -------
    xarray.Dataset
        ``label`` (time; state of each bin, ``time`` the bin centre in ms), ``centroid``
        (state, population|neuron; mean rate of the bins of the state, Hz), ``occupancy``
        (state; fraction of bins), ``mean_dwell`` (state; ms, mean length of the runs not
        cut by the window, all runs if the state has no other), ``dwell_state``,
        ``dwell_time`` (ms) and ``dwell_start`` (ms) along ``dwell`` (every run, in time
        order), ``silhouette`` (mean silhouette; NaN for a single state). Attrs
        ``n_states``, ``bin_ms``, ``features``, ``seed``.

    Raises
    ------
    ValueError
        Fewer than 3 bins (``bin_ms`` longer than a third of the window), a bad
        ``n_states``/``max_states``/``n_components``, more states than distinct activity
        vectors.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> up = (np.arange(2000) // 250) % 2 == 1                 # 250-ms up and down phases
    >>> t = np.flatnonzero(rng.random((20, 2000)) < np.where(up, 0.04, 0.002))
    >>> trains = [np.sort(t[t // 2000 == i] % 2000 + 1.0) for i in range(20)]
    >>> res = attractor_states(trains, 50.0, t_stop=2000.0)
    >>> int(res.attrs["n_states"]), res.label.values[:10].tolist()
    (2, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    >>> res.mean_dwell.values.tolist()
    [250.0, 250.0]
    """
    bin_ms = positive("bin_ms", bin_ms)
    max_states, n_init = integer("max_states", max_states, 2), integer("n_init", n_init, 1)
    st = as_spike_trains(data, t_start=t_start, t_stop=t_stop, neurons=neurons)
    if st.n == 0:
        raise InvalidArgumentError("no neurons: pass at least one spike train")
    n_bins = count_bins(st.duration, bin_ms, rows=st.n)
    if n_bins < 3:
        raise InvalidArgumentError(f"bin_ms ({bin_ms} ms) leaves {n_bins} bin(s) in the window of "
                                   f"{st.duration} ms; at least 3 are needed")
    rates, (fdim, fvals) = _features(st, bin_ms, n_bins, by)
    x = rates
    if standardize:
        sd = x.std(axis=0)
        x = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    if n_components is not None:
        n_components = integer("n_components", n_components, 1, x.shape[1])
        xc = x - x.mean(axis=0)
        _, _, vt = np.linalg.svd(xc, full_matrices=False)
        x = xc @ vt[:n_components].T
    n_distinct = np.unique(x, axis=0).shape[0]
    rng = np.random.default_rng(seed)
    sub = (np.sort(rng.choice(n_bins, _MAX_SILHOUETTE_POINTS, replace=False))
           if n_bins > _MAX_SILHOUETTE_POINTS else np.arange(n_bins))
    silhouette = float("nan")
    if n_states is None:
        ks = [k for k in range(2, int(max_states) + 1) if k <= min(n_distinct, n_bins - 1)]
        if not ks:
            k, labels = 1, np.zeros(n_bins, dtype=np.int64)
        else:
            best = None
            for k in ks:
                _, lab = _kmeans(x, k, rng, int(n_init))
                s = _silhouette(x[sub], lab[sub], k)
                if best is None or s > best[0] + 1e-12:
                    best = (s, k, lab)
            silhouette, k, labels = best
    else:
        k = integer("n_states", n_states)
        if k < 1 or k > n_distinct:
            raise InvalidArgumentError(
                f"n_states = {k}, but the activity has {n_distinct} distinct "
                f"vector(s) in {n_bins} bins: choose 1..{n_distinct}")
        labels = np.zeros(n_bins, dtype=np.int64) if k == 1 else _kmeans(x, k, rng,
                                                                        int(n_init))[1]
        if k > 1:
            silhouette = _silhouette(x[sub], labels[sub], k)
    # states by increasing mean rate of their centroid (original units)
    onehot = labels[:, None] == np.arange(k)[None, :]
    centroid = (onehot.T @ rates) / onehot.sum(0)[:, None]
    order = np.argsort(centroid.mean(axis=1), kind="stable")
    relabel = np.empty(k, dtype=np.int64)
    relabel[order] = np.arange(k)
    labels, centroid = relabel[labels], centroid[order]
    start, end = _runs(labels)
    d_state, d_time = labels[start], (end - start) * bin_ms
    interior = (start > 0) & (end < n_bins)
    mean_dwell = np.empty(k)
    for s in range(k):
        mine = d_state == s
        use = mine & interior if np.any(mine & interior) else mine
        mean_dwell[s] = d_time[use].mean()
    edges = st.t_start + np.arange(n_bins + 1) * bin_ms
    return xr.Dataset(
        {"label": ("time", labels, {"units": "1", "long_name": "activity state"}),
         "centroid": (("state", fdim), centroid,
                      {"units": "Hz", "long_name": "mean firing rate in the state"}),
         "occupancy": ("state", np.bincount(labels, minlength=k) / n_bins,
                       {"units": "1", "long_name": "fraction of time in the state"}),
         "mean_dwell": ("state", mean_dwell, {"units": "ms", "long_name": "mean dwell time"}),
         "dwell_state": ("dwell", d_state, {"units": "1", "long_name": "state of the run"}),
         "dwell_time": ("dwell", d_time, {"units": "ms", "long_name": "dwell time"}),
         "dwell_start": ("dwell", edges[start], {"units": "ms", "long_name": "start of the run"}),
         "silhouette": ((), silhouette, {"units": "1", "long_name": "mean silhouette"})},
        coords={"time": ("time", 0.5 * (edges[1:] + edges[:-1]),
                         {"units": "ms", "long_name": "bin centre"}),
                "state": ("state", np.arange(k)), fdim: (fdim, fvals)},
        attrs={"n_states": int(k), "bin_ms": bin_ms, "features": fdim, "seed": int(seed),
               "standardize": int(bool(standardize)),
               "n_components": 0 if n_components is None else int(n_components)},
    )
