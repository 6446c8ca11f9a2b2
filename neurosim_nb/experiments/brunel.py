r"""Brunel's (2000) model A at a small size: one network per (g, nu_ext/nu_thr), its rate, ISI
CV, synchrony and dominant population frequency, and the dynamical regime they indicate.

The network is :func:`~neurosim_nb.core.networks.benchmarks_models.brunel_network` (LIF
neurons with delta synapses, :math:`\tau` = 20 ms, :math:`\theta` = 20 mV, :math:`V_r` =
10 mV, 2 ms refractory, delay D = 1.5 ms, :math:`N_I = N_E / 4`, fixed in-degrees
:math:`C_E = \epsilon N_E`, :math:`C_I = \epsilon N_I`, :math:`C_E` external Poisson sources)
at :math:`N_E` = 2000, :math:`\epsilon` = 0.2 (:math:`C_E` = 400, :math:`C_I` = 100) instead
of Brunel's :math:`N_E` = 10000, :math:`C_E` = 1000. **Scaling with K = C_E:** the weight is
:math:`J = 0.1\,\mathrm{mV} \times 1000 / C_E` (0.25 mV), so :math:`J C_E` = 100 mV as in
Brunel's network. Then :math:`\nu_{thr} = \theta / (J C_E \tau)` = 10 Hz and the mean input
:math:`\mu = \eta\theta + J C_E \tau \nu (1 - g\gamma)` are exactly Brunel's at every rate
:math:`\nu` (so the balance point g = 4 and the rates of the inhibition-dominated states
stay where his theory puts them), while the input variance :math:`\sigma^2 = J(\eta\theta +
J C_E \tau \nu (1 + g^2\gamma))` is 2.5 times his (fluctuations scale as
:math:`\sqrt{J}`). A run costs 0.6-1.3 s per simulated second on one core.

Measures (excitatory neurons, after a ``transient_ms`` transient): ``rate_hz`` (mean rate),
``cv_isi`` (mean ISI CV over neurons with at least 5 spikes), ``synchrony`` (Golomb's
:math:`\chi` on 1 ms spike counts, :func:`~neurosim_nb.core.networks.benchmarks_models.\
activity_summary`) and ``f_peak_hz`` (the peak of the Welch spectrum of the population
count in 0.5 ms bins, 5 Hz and above).

Regimes (:func:`classify_regime`, thresholds :data:`REGIME_THRESHOLDS`), after Brunel
(2000) section 4 and Fig. 8, whose four example points define them:

==========  ==============================  ===========================================
label       Brunel's example (g, eta)       rule here
==========  ==============================  ===========================================
SR          (3, 2): synchronous regular     ``cv_isi < 0.5`` and ``rate_hz >= 50``
AI          (5, 2): asynchronous irregular  irregular and ``synchrony < 0.185``
SI fast     (6, 4): synchronous irregular   irregular, synchronous, ``f_peak >= 90 Hz``
SI slow     (4.5, 0.9)                      irregular, synchronous, ``f_peak < 90 Hz``
Q           --                              ``rate_hz < 0.5`` (no activity to classify)
==========  ==============================  ===========================================

Why these thresholds (measured here, :math:`N_E` = 2000, 1 s after 100 ms, seeds 1-3): the
SR point fires at 312 Hz with CV 0.005 (every neuron every 3.2 ms, in clusters); the seven
inhibition-dominated points measured for the calibration (g >= 4.5: the other three of Fig.
8 and (5, 1), (6, 3), (7, 2), (8, 4)) have CV 0.62-1.45, so 0.5 sits in the gap (a Poisson
train has CV 1; Brunel's SR neurons are regular). SR is also the high-rate state (excitation
dominates: 147-312 Hz here for g <= 3.5, near the 1/refractory bound): a CV below 0.5 at a
few Hz (g = 5, drive 0.8, where few neurons have the 5 spikes the CV needs) is not SR, hence
``rate_hz >= 50``. :math:`\chi` is 0.165-0.173 at the AI point and 0.196-0.222 at the two SI
points, so 0.185 separates them; it is a finite-size threshold, since :math:`\chi` of
independent neurons is about :math:`1/\sqrt{N_E}` (0.02) and shared inputs (:math:`C_E /
N_E` = 0.2) add to it, so it must be re-calibrated for another size. The fast oscillation
peaks at 152-160 Hz (Brunel: near :math:`1/(4D)` = 167 Hz), the slow one at 25-45 Hz: 90 Hz
separates them. In Brunel's diagram (his Fig. 2) SR fills g < 4 (excitation dominates:
:math:`g\gamma < 1`), SI slow the low-drive strip (:math:`\nu_{ext}/\nu_{thr}` below about
1) for g > 4, SI fast the high drive just above g = 4, and AI the rest; a small network
keeps this layout with shifted borders (in the shipped diagram,
:mod:`neurosim_nb.fitting.phase_diagram`, strong drive at g = 4-4.5 makes neurons fire
regularly enough, CV < 0.5 at over 100 Hz, to be labelled SR).

References
----------
Brunel N (2000) Dynamics of sparsely connected networks of excitatory and inhibitory
spiking neurons. J Comput Neurosci 8:183-208.

Golomb D (2007) Neuronal synchrony measures. Scholarpedia 2(1):1347.

Examples
--------
>>> m = brunel_point(3.0, 2.0, n_exc=400, duration_ms=300.0, seed=1)
>>> sorted(m)
['cv_isi', 'f_peak_hz', 'rate_hz', 'synchrony']
>>> m["rate_hz"] > 200, classify_regime(**m)
(True, 'SR')
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

import numpy as np

from neurosim_nb.core.networks.benchmarks_models import activity_summary, brunel_network

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["BRUNEL_SMALL", "REGIME_THRESHOLDS", "REGIMES", "REGIME_REFERENCE_POINTS",
           "MEASURE_UNITS", "run_brunel", "brunel_measures", "brunel_point",
           "classify_regime", "network_seed"]

#: the small network's defaults: excitatory neurons, connection probability, J C_E (mV)
BRUNEL_SMALL = {"n_exc": 2000, "epsilon": 0.2, "JC_E_mV": 100.0}

#: regime thresholds (see the module docstring for where they come from)
REGIME_THRESHOLDS = {"cv_regular": 0.5, "rate_sr_hz": 50.0, "synchrony": 0.185,
                     "f_fast_hz": 90.0, "rate_quiescent_hz": 0.5}

#: regime labels, in the order of the codes of :func:`classify_regime`
REGIMES = ("SR", "AI", "SI fast", "SI slow", "Q")

#: Brunel (2000) Fig. 8: (g, nu_ext/nu_thr) -> regime
REGIME_REFERENCE_POINTS = {(3.0, 2.0): "SR", (5.0, 2.0): "AI", (6.0, 4.0): "SI fast",
                           (4.5, 0.9): "SI slow"}

#: name -> (units, long_name) of the measures
MEASURE_UNITS = {
    "rate_hz": ("Hz", "mean firing rate of the excitatory neurons"),
    "cv_isi": ("1", "mean ISI coefficient of variation of the excitatory neurons"),
    "synchrony": ("1", "Golomb's chi of the excitatory spike counts in 1 ms bins"),
    "f_peak_hz": ("Hz", "peak frequency of the population activity spectrum (>= 5 Hz)"),
}


def _positive(name: str, value, *, integer: bool = False) -> float:
    ok = isinstance(value, numbers.Integral if integer else numbers.Real)
    if isinstance(value, bool) or not ok or not math.isfinite(value) or value <= 0:
        kind = "an integer" if integer else "a finite number"
        raise ValueError(f"{name} must be {kind} > 0, got {value!r}")
    return int(value) if integer else float(value)


def network_seed(g: float, nu_ext_ratio: float, seed: int = 0) -> int:
    """The seed of the network at ``(g, nu_ext_ratio)``: keyed by the values themselves (to
    1e-6), so a point gives the same network in any grid, a coarse live diagram agrees with a
    fine stored one where they share points, and a clicked cell can be rerun exactly.

    >>> network_seed(5.0, 2.0) == network_seed(5.0000000001, 2.0), network_seed(5.0, 2.0, 1)
    (True, 3757686545)
    """
    key = [int(seed), int(round(float(g) * 1e6)), int(round(float(nu_ext_ratio) * 1e6))]
    return int(np.random.SeedSequence([abs(k) for k in key] + [int(k < 0) for k in key])
               .generate_state(1)[0])


def run_brunel(g: float, nu_ext_ratio: float, *, n_exc: int = 2000, epsilon: float = 0.2,
               duration_ms: float = 1000.0, transient_ms: float = 100.0, dt: float = 0.1,
               seed: int = 0) -> xr.Dataset:
    r"""Run the small Brunel model A network (module docstring) and return its spikes.

    Parameters
    ----------
    g : float
        Relative inhibition (inhibitory weight :math:`-gJ`), >= 0.
    nu_ext_ratio : float
        External drive :math:`\nu_{ext}/\nu_{thr}` (Brunel's :math:`\eta`), > 0.
    n_exc : int
        Excitatory neurons :math:`N_E` (:math:`N_I = N_E/4`).
    epsilon : float
        Connection probability; in-degrees :math:`C = \epsilon N`, weight
        :math:`J = 100\,\mathrm{mV} / C_E`.
    duration_ms : float
        Analysed time (ms), simulated after ``transient_ms``.
    transient_ms : float
        Time (ms) simulated first and left out of the measures (>= 0).
    dt : float
        Time step (ms).
    seed : int
        Base seed; the network and the run use :func:`network_seed` ``(g, nu_ext_ratio,
        seed)``.

    Returns
    -------
    xarray.Dataset
        The engine's network result (``spike_time`` in ms, ``spike_neuron``; no voltages),
        with attrs ``g``, ``nu_ext_ratio``, ``transient_ms``, ``network_seed``, ``n_exc``,
        ``C_E``, ``J_mV``.

    Examples
    --------
    >>> ds = run_brunel(5.0, 2.0, n_exc=400, duration_ms=200.0)
    >>> float(ds.attrs["J_mV"]), int(ds.attrs["C_E"]), ds.sizes["spike"] > 0
    (1.25, 80, True)
    """
    if isinstance(g, bool) or not isinstance(g, numbers.Real) or not math.isfinite(g) or g < 0:
        raise ValueError(f"g must be a finite number >= 0, got {g!r}")
    nu = _positive("nu_ext_ratio", nu_ext_ratio)
    n_exc = _positive("n_exc", n_exc, integer=True)
    epsilon = _positive("epsilon", epsilon)
    duration_ms = _positive("duration_ms", duration_ms)
    dt = _positive("dt", dt)
    if isinstance(transient_ms, bool) or not transient_ms >= 0:
        raise ValueError(f"transient_ms must be a number >= 0, got {transient_ms!r}")
    c_e = int(round(epsilon * n_exc))
    if c_e < 1:
        raise ValueError(f"epsilon={epsilon} leaves no excitatory synapse for n_exc={n_exc}")
    J = BRUNEL_SMALL["JC_E_mV"] / c_e
    s = network_seed(g, nu, seed)
    net = brunel_network(n_exc=n_exc, n_inh=n_exc // 4, eps=epsilon, J=J, g=float(g), eta=nu,
                         seed=s)
    ds = net.simulate(float(transient_ms) + duration_ms, dt=dt, record=(), seed=s,
                      verbose=False)
    ds.attrs.update(g=float(g), nu_ext_ratio=nu, transient_ms=float(transient_ms),
                    network_seed=s, n_exc=n_exc, C_E=c_e, J_mV=J)
    return ds


def brunel_measures(ds: xr.Dataset) -> dict[str, float]:
    """Rate, ISI CV, synchrony and peak frequency of a :func:`run_brunel` result (module
    docstring), over the excitatory neurons after the run's transient.

    Returns
    -------
    dict
        ``rate_hz`` (Hz), ``cv_isi`` (NaN when no neuron has 5 spikes), ``synchrony``
        (Golomb's chi, 1 ms bins), ``f_peak_hz`` (Hz; NaN without spikes).

    Examples
    --------
    >>> m = brunel_measures(run_brunel(6.0, 4.0, n_exc=1000, duration_ms=300.0))
    >>> 100 < m["f_peak_hz"] < 250     # the fast oscillation of Brunel's SI fast state
    True
    """
    from scipy import signal  # lazy: only the measures need scipy

    t0 = float(ds.attrs.get("transient_ms", 0.0))
    t1 = float(ds.attrs["duration"])
    s = activity_summary(ds, "exc", t_start_ms=t0, t_stop_ms=t1, bin_ms=1.0)
    cv = s["cv"] if s["n_cv"] > 0 else math.nan
    n_exc = int(ds.attrs.get("n_exc", s["n_neurons"]))
    t = ds.spike_time.values[(ds.spike_neuron.values < n_exc) & (ds.spike_time.values > t0)
                             & (ds.spike_time.values <= t1)]
    bin_ms = 0.5
    counts = np.histogram(t, bins=np.arange(t0, t1 + 0.5 * bin_ms, bin_ms))[0].astype(float)
    f_peak = math.nan
    if t.size and counts.size >= 16:
        f, p = signal.welch(counts, fs=1000.0 / bin_ms, nperseg=min(512, counts.size))
        keep = f >= 5.0
        if keep.any() and p[keep].max() > 0:
            f_peak = float(f[keep][np.argmax(p[keep])])
    chi = s["chi"] if t.size else math.nan
    return {"rate_hz": float(s["rate_hz"]), "cv_isi": float(cv), "synchrony": float(chi),
            "f_peak_hz": f_peak}


def brunel_point(g: float, nu_ext_ratio: float, **kwargs) -> dict[str, float]:
    """:func:`brunel_measures` of :func:`run_brunel` ``(g, nu_ext_ratio, **kwargs)``.

    >>> brunel_point(5.0, 2.0, n_exc=400, duration_ms=200.0)["rate_hz"] > 0
    True
    """
    return brunel_measures(run_brunel(g, nu_ext_ratio, **kwargs))


def classify_regime(rate_hz, cv_isi, synchrony, f_peak_hz, *,
                    thresholds: dict | None = None):
    """The regime label (``"SR"``, ``"AI"``, ``"SI fast"``, ``"SI slow"`` or ``"Q"``) of
    measured points (scalars or arrays of one shape) by the rules of the module docstring.

    Parameters
    ----------
    rate_hz, cv_isi, synchrony, f_peak_hz : float or array_like
        The measures of :func:`brunel_measures`.
    thresholds : dict, optional
        Overrides of :data:`REGIME_THRESHOLDS` (``cv_regular``, ``synchrony``,
        ``rate_sr_hz``, ``f_fast_hz``, ``rate_quiescent_hz``).

    Returns
    -------
    str or numpy.ndarray of str

    Examples
    --------
    >>> classify_regime(312.0, 0.01, 0.52, 312.0), classify_regime(42.0, 0.74, 0.17, 95.0)
    ('SR', 'AI')
    >>> classify_regime([59.0, 12.0], [1.17, 0.65], [0.2, 0.22], [158.0, 27.0]).tolist()
    ['SI fast', 'SI slow']
    """
    th = dict(REGIME_THRESHOLDS)
    if thresholds:
        unknown = set(thresholds) - set(th)
        if unknown:
            raise ValueError(f"unknown threshold(s) {sorted(unknown)}; known: {sorted(th)}")
        th.update(thresholds)
    rate, cv, chi, f = (np.asarray(x, dtype=float) for x in
                        (rate_hz, cv_isi, synchrony, f_peak_hz))
    rate, cv, chi, f = np.broadcast_arrays(rate, cv, chi, f)
    label = np.full(rate.shape, "AI", dtype=object)
    sync = chi >= th["synchrony"]
    label[sync & (f >= th["f_fast_hz"])] = "SI fast"
    label[sync & ~(f >= th["f_fast_hz"])] = "SI slow"
    label[(cv < th["cv_regular"]) & (rate >= th["rate_sr_hz"])] = "SR"
    label[~(rate >= th["rate_quiescent_hz"]) | np.isnan(cv)] = "Q"
    label = label.astype(str)
    return str(label[()]) if label.ndim == 0 else label
