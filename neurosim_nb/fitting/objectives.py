r"""Objectives of :func:`~neurosim_nb.fitting.fit.fit_model`: the coincidence factor of two
spike trains and the spike-train features a fit can target.

**Coincidence factor** (Kistler, Gerstner & van Hemmen 1997; Jolivet, Kobayashi, Rauch,
Naud, Shinomoto & Gerstner 2008, *J Neurosci Methods* 169:417-424, "A benchmark test for a
quantitative assessment of simple neuron models", section 2.3):

.. math::

    \Gamma = \frac{N_{coinc} - \langle N_{coinc} \rangle}{\tfrac12 (N_{data} + N_{model})}
             \,\frac{1}{\mathcal N}, \qquad
    \langle N_{coinc} \rangle = 2 \nu \Delta N_{data}, \qquad
    \mathcal N = 1 - 2 \nu \Delta,

with :math:`\nu = N_{model} / T` the rate of the model train, :math:`\Delta` the coincidence
window (4 ms in Jolivet et al.) and :math:`N_{coinc}` the number of data spikes with a model
spike within :math:`\pm\Delta`, each model spike counted at most once (a one-to-one
matching, found greedily in time order, which is optimal for windows on a line).
:math:`\langle N_{coinc} \rangle` is the number of coincidences a homogeneous Poisson train
of rate :math:`\nu` would make by chance, so such a train scores :math:`\Gamma \approx 0`
(exactly 0 to first order in :math:`\nu\Delta`); :math:`\mathcal N` scales a perfect
prediction to :math:`\Gamma = 1`.

>>> round(coincidence_factor([10.0, 50.0, 90.0], [10.0, 50.0, 90.0], duration_ms=100.0), 12)
1.0
>>> round(coincidence_factor([10.0, 50.0, 90.0], [12.0, 80.0], duration_ms=100.0), 4)
0.2737

(one coincidence, 10 with 12; chance gives :math:`2 \cdot 0.03 \cdot 4 \cdot 2 = 0.48`;
:math:`\Gamma = (1 - 0.48) / (\tfrac12 \cdot 5 \cdot 0.76)`.)
"""

from __future__ import annotations

import numpy as np

from neurosim_nb._jit import njit

__all__ = ["coincidence_factor", "COINCIDENCE_WINDOW_MS", "FEATURES", "FEATURE_SCALES",
           "MISSING_FEATURE_PENALTY"]

#: the coincidence window Delta of Jolivet et al. (2008) (ms)
COINCIDENCE_WINDOW_MS = 4.0

#: features a fit can target: name -> (units, long name)
FEATURES = {
    "rate": ("Hz", "firing rate over the run"),
    "first_spike_latency": ("ms", "first spike time after the stimulus onset"),
    "isi_cv": ("1", "coefficient of variation of the interspike intervals"),
    "fI": ("Hz", "f-I curve: stationary rate at each constant current"),
}
#: default normalising scale of each feature (its units): a term of the feature error is
#: ``weight * ((model - data) / scale)**2``; 1 Hz is the rate resolution of a 1 s run,
#: 1 ms the precision of a latency, 0.05 a clear difference of regularity
FEATURE_SCALES = {"rate": 1.0, "first_spike_latency": 1.0, "isi_cv": 0.05, "fI": 1.0}
#: squared normalised error of a feature the model leaves undefined (no spike, < 2 ISIs)
#: while the data define it: as if the model were 10 scales off
MISSING_FEATURE_PENALTY = 100.0


@njit(cache=True)
def _coincidences(model_times, offsets, data_times, delta):
    """Coincidences of every model train (ragged: ``offsets``) with one data train, both
    sorted; each model spike matches at most one data spike (greedy, earliest first)."""
    n = offsets.size - 1
    out = np.zeros(n, np.int64)
    for i in range(n):
        j, j1 = offsets[i], offsets[i + 1]
        c = 0
        for t in data_times:
            while j < j1 and model_times[j] < t - delta:
                j += 1
            if j < j1 and model_times[j] <= t + delta:
                c += 1
                j += 1
        out[i] = c
    return out


def gamma_many(model_times: np.ndarray, offsets: np.ndarray, data_times: np.ndarray,
               duration_ms: float, delta_ms: float = COINCIDENCE_WINDOW_MS) -> np.ndarray:
    """Coincidence factor of each of many model trains (ragged, sorted) with one data train.

    ``model_times[offsets[i]:offsets[i + 1]]`` is train ``i`` (ms, sorted). Returns one
    :math:`\\Gamma` per train; 1 when both trains are empty (silent data, silent model);
    ``-inf`` when :math:`2\\nu\\Delta \\ge 1` (model rate at or above ``1 / (2 Delta)``, where
    the normalisation vanishes).
    """
    tol = 1e-9 * max(1.0, duration_ms)        # spike stamps are multiples of dt
    n_coinc = _coincidences(np.asarray(model_times, float), np.asarray(offsets, np.int64),
                            np.asarray(data_times, float), float(delta_ms) + tol)
    n_model = np.diff(offsets).astype(float)
    n_data = float(len(data_times))
    two_nu_delta = 2.0 * n_model / duration_ms * delta_ms
    norm = 1.0 - two_nu_delta
    gamma = np.full(n_model.shape, -np.inf)
    ok = norm > 0
    denom = 0.5 * (n_data + n_model[ok]) * norm[ok]
    with np.errstate(invalid="ignore", divide="ignore"):
        gamma[ok] = (n_coinc[ok] - two_nu_delta[ok] * n_data) / denom
    gamma[(n_model == 0) & (n_data == 0)] = 1.0
    return gamma


def _spike_times(name: str, times) -> np.ndarray:
    arr = np.asarray(times, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of spike times (ms), got shape "
                         f"{arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite spike times (ms): no NaN or inf")
    return np.sort(arr)


def coincidence_factor(model_spikes, data_spikes, *, duration_ms: float,
                       delta_ms: float = COINCIDENCE_WINDOW_MS) -> float:
    r"""Coincidence factor :math:`\Gamma` of a predicted spike train with a recorded one.

    Jolivet et al. (2008), *J Neurosci Methods* 169:417, with the Poisson normalisation
    (see the module docstring): 1 for a perfect prediction, about 0 for a Poisson train of
    the model's rate, negative for fewer coincidences than chance.

    Parameters
    ----------
    model_spikes, data_spikes : array_like
        Spike times (ms) of the model and of the data (any order).
    duration_ms : float
        Length :math:`T` of the recording (ms); the model rate is
        :math:`\nu = N_{model} / T`.
    delta_ms : float
        Coincidence window :math:`\Delta` (ms), 4 ms by default as in Jolivet et al.

    Returns
    -------
    float
        :math:`\Gamma`; 1 when both trains are empty; ``-inf`` when the model rate reaches
        :math:`1 / (2\Delta)` (125 Hz for 4 ms), where the normalisation vanishes.

    Raises
    ------
    ValueError
        Non-finite or non-1-D spike times, ``duration_ms`` or ``delta_ms`` not > 0.

    Examples
    --------
    >>> coincidence_factor([20.0, 60.0], [20.0, 60.0], duration_ms=100.0)
    1.0
    >>> round(coincidence_factor([25.0, 65.0], [20.0, 60.0], duration_ms=100.0), 4)  # 5 ms off
    -0.1905
    """
    for name, v in (("duration_ms", duration_ms), ("delta_ms", delta_ms)):
        if not (isinstance(v, (int, float, np.number)) and np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a finite number of ms > 0, got {v!r}")
    model = _spike_times("model_spikes", model_spikes)
    data = _spike_times("data_spikes", data_spikes)
    return float(gamma_many(model, np.array([0, model.size]), data, float(duration_ms),
                            float(delta_ms))[0])


def train_features(model_times: np.ndarray, offsets: np.ndarray, duration_ms: float,
                   onset_ms: float) -> dict[str, np.ndarray]:
    """Rate (Hz), first-spike latency after ``onset_ms`` (ms) and ISI CV of each ragged
    train; NaN where a feature is undefined (no spike after the onset; fewer than 2 ISIs)."""
    n = offsets.size - 1
    counts = np.diff(offsets)
    rate = counts / (duration_ms / 1000.0)
    latency = np.full(n, np.nan)
    cv = np.full(n, np.nan)
    for i in range(n):
        t = model_times[offsets[i]:offsets[i + 1]]
        after = t[t >= onset_ms]
        if after.size:
            latency[i] = after[0] - onset_ms
        if t.size >= 3:
            isi = np.diff(t)
            cv[i] = isi.std() / isi.mean() if isi.mean() > 0 else np.nan
    return {"rate": rate, "first_spike_latency": latency, "isi_cv": cv}


def stationary_rates(model_times: np.ndarray, offsets: np.ndarray,
                     t_from_ms: float) -> np.ndarray:
    """Stationary rate (Hz) of each ragged train from its spikes after ``t_from_ms``:
    ``1000 (n - 1) / (t_last - t_first)``, the inverse mean ISI (0 with fewer than 2
    spikes). Unlike a count in a window it has no +-1 spike quantisation, so a fit's
    objective is smooth in the parameters up to the dt-quantisation of the ISIs."""
    n = offsets.size - 1
    rate = np.zeros(n)
    for i in range(n):
        t = model_times[offsets[i]:offsets[i + 1]]
        t = t[t >= t_from_ms - 1e-9]
        if t.size >= 2 and t[-1] > t[0]:
            rate[i] = 1000.0 * (t.size - 1) / (t[-1] - t[0])
    return rate


def feature_error(model: np.ndarray, target: float, scale: float) -> np.ndarray:
    """Squared normalised error ``((model - target) / scale)**2`` of each candidate, with
    :data:`MISSING_FEATURE_PENALTY` where the model leaves the feature undefined (NaN)."""
    err = ((np.asarray(model, float) - target) / scale) ** 2
    return np.where(np.isnan(err), MISSING_FEATURE_PENALTY, err)
