r"""Information content of spike trains: the direct method of Strong et al. (1998).

The spike train is cut into bins of ``bin_ms`` and the bins into words of ``word_length``
consecutive bins (each bin holds 0/1, "spike or not", or the spike count). The plug-in
(maximum-likelihood) entropy of the empirical word distribution,

.. math::

    \hat H_L = -\sum_w \hat p(w) \log_2 \hat p(w) \quad \text{(bit per word)},

divided by the word duration :math:`L\,\Delta t` is the entropy rate (bit/s); divided further
by the firing rate it is the entropy per spike (bit/spike). The plug-in estimate is biased
downwards by roughly :math:`(m - 1) / (2 N \ln 2)` bit for :math:`N` words and :math:`m`
occupied words; two corrections are offered:

* ``"miller_madow"`` adds that first-order term (Miller 1955; Panzeri & Treves 1996);
* ``"extrapolation"`` is the correction of Strong et al.: the words are split into
  :math:`k = 1 \dots K` contiguous blocks (data fractions :math:`1/k`), the plug-in entropies
  of the blocks are averaged for each :math:`k`, and the quadratic
  :math:`H(k) = H_0 + H_1 k + H_2 k^2` (i.e. in :math:`1/N`) is extrapolated to
  infinite data, :math:`k = 0`.

Strong et al. also extrapolate in the word length (:math:`L \to \infty`); call this function
for several ``word_length`` and extrapolate the rate in ``1 / word_length`` to do so.

References
----------
S. P. Strong, R. Koberle, R. R. de Ruyter van Steveninck, W. Bialek (1998), Entropy and
information in neural spike trains. Phys Rev Lett 80:197-200.

G. A. Miller (1955), Note on the bias of information estimates. In: Information Theory in
Psychology, 95-100. S. Panzeri, A. Treves (1996), Analytical estimates of limited sampling
biases in different information measures. Network 7:87-107.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import xarray as xr

from neurosim_nb.analysis._input import as_spike_trains, bin_counts, integer, n_bins, positive
from neurosim_nb.errors import InvalidArgumentError

__all__ = ["spike_train_entropy"]

_CORRECTIONS = ("none", "miller_madow", "extrapolation")



def _word_codes(words: np.ndarray) -> np.ndarray:
    """One integer per word (the last axis) such that equal words get equal codes."""
    flat = words.reshape(-1, words.shape[-1])
    base = int(flat.max()) + 1 if flat.size else 1
    if base ** words.shape[-1] < 2 ** 62:
        codes = flat @ (base ** np.arange(words.shape[-1], dtype=np.int64))
    else:  # too many possible words for one int64: number the distinct ones
        codes = np.unique(flat, axis=0, return_inverse=True)[1].ravel()
    return codes.reshape(words.shape[:-1])


def _plugin(codes: np.ndarray, groups: np.ndarray, n_groups: int):
    """Plug-in entropy (bit) and number of occupied words of each group of words."""
    pairs, count = np.unique(np.stack([groups, codes]), axis=1, return_counts=True)
    g = pairs[0]
    total = np.bincount(g, weights=count, minlength=n_groups)
    p = count / total[g]
    h = np.bincount(g, weights=-p * np.log2(p), minlength=n_groups)
    occupied = np.bincount(g, minlength=n_groups)
    return h + 0.0, occupied, total  # + 0.0 turns -0.0 into 0.0


def _extrapolated(codes: np.ndarray, n_fractions: int) -> np.ndarray:
    """Strong et al.: plug-in entropies of 1/k of the data, quadratic in k, value at k = 0."""
    n_units, n_words = codes.shape
    ks = np.arange(1, n_fractions + 1)
    means = np.empty((n_fractions, n_units))
    for j, k in enumerate(ks):
        block = np.minimum(np.arange(n_words) * k // n_words, k - 1)
        groups = np.arange(n_units)[:, None] * k + block[None, :]
        h, _, _ = _plugin(codes.ravel(), groups.ravel(), n_units * k)
        means[j] = h.reshape(n_units, k).mean(axis=1)
    design = np.stack([np.ones(n_fractions), ks, ks ** 2], axis=1).astype(float)
    coef, *_ = np.linalg.lstsq(design, means, rcond=None)
    return coef[0]


def spike_train_entropy(data, bin_ms: float = 3.0, word_length: int = 8, *,
                        binary: bool = True, pooled: bool = False,
                        correction: Literal["none", "miller_madow", "extrapolation"]
                        = "miller_madow", n_fractions: int = 4,
                        t_start: float | None = None, t_stop: float | None = None,
                        neurons=None) -> xr.Dataset:
    """Entropy rate of spike trains by the direct method (Strong et al. 1998).

    Parameters
    ----------
    data : xarray.Dataset, array_like or sequence of array_like
        A result Dataset or spike times (ms), see
        :func:`~neurosim_nb.analysis._input.as_spike_trains`.
    bin_ms : float
        Bin width :math:`\\Delta t` (ms).
    word_length : int
        Bins per word :math:`L`. Words do not overlap; a last incomplete word is dropped.
    binary : bool
        Bins hold 0/1 (spike or not, Strong et al.) if True, else the spike count.
    pooled : bool
        If False, one estimate per neuron (dim ``neuron``). If True, the words of all
        neurons form one distribution (the neurons taken as repeats of one process; more
        data per estimate), and the rates are per neuron.
    correction : {"none", "miller_madow", "extrapolation"}
        Bias correction of the plug-in entropy (see the module docstring).
    n_fractions : int
        Number of data fractions ``1, 1/2, ..., 1/n_fractions`` of the extrapolation (>= 3).
    t_start, t_stop : float, optional
        Observation window (ms); a Dataset defaults to ``(0, duration]``.
    neurons : array_like of int, optional
        Neuron ids to keep.

    Returns
    -------
    xarray.Dataset
        ``entropy_rate`` (bit/s), ``entropy_per_spike`` (bit: rate divided by the firing
        rate; NaN for a silent neuron, whose entropy is 0), ``word_entropy`` (bit per word,
        corrected), ``word_entropy_plugin`` (bit, uncorrected), ``firing_rate`` (Hz),
        ``n_words`` and ``n_occupied`` (distinct words seen); along ``neuron`` unless
        ``pooled``. Attrs: ``bin_ms``, ``word_length``, ``binary`` (0/1), ``pooled`` (0/1),
        ``correction``.

    Raises
    ------
    ValueError
        A non-positive ``bin_ms``, ``word_length < 1``, an unknown ``correction``, fewer
        than two words in the window (``bin_ms * word_length`` longer than the recording)
        or too few words for the extrapolation.

    References
    ----------
    Strong, Koberle, de Ruyter van Steveninck & Bialek (1998), Phys Rev Lett 80:197.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> train = np.sort(rng.uniform(0.0, 20000.0, 400))      # 20 Hz Poisson, 20 s
    >>> res = spike_train_entropy(train, 2.0, 4, t_stop=20000.0)
    >>> res.entropy_rate.attrs["units"], round(res.entropy_rate.item(), -1)
    ('bit/s', 120.0)
    """
    word_length = integer("word_length", word_length, 1)
    if correction not in _CORRECTIONS:
        raise InvalidArgumentError(f"correction must be one of {_CORRECTIONS}, got {correction!r}")
    if correction == "extrapolation" and (
            isinstance(n_fractions, bool) or not isinstance(n_fractions, (int, np.integer))
            or n_fractions < 3):
        raise InvalidArgumentError(
            f"n_fractions must be an int >= 3 (quadratic fit), got {n_fractions!r}")
    bin_ms = positive("bin_ms", bin_ms)
    st = as_spike_trains(data, t_start=t_start, t_stop=t_stop, neurons=neurons)
    if st.n == 0:
        raise InvalidArgumentError("no neurons: pass at least one spike train")
    n_words = n_bins(st.duration, bin_ms * word_length, "bin_ms * word_length",
                     rows=st.n * word_length)
    if n_words < 2:
        raise InvalidArgumentError(
            f"words of {word_length} x {bin_ms} ms are longer than half the "
            f"window ({st.duration} ms): use shorter words or a longer recording")
    if correction == "extrapolation" and n_words < 2 * n_fractions:
        raise InvalidArgumentError(f"{n_words} words are too few for {n_fractions} data fractions")
    counts = bin_counts(st.trains, st.t_start, bin_ms, n_words * word_length)
    if binary:
        counts = np.minimum(counts, 1)
    codes = _word_codes(counts.reshape(st.n, n_words, word_length))
    if pooled:
        codes = codes.reshape(1, -1)
    n_units = codes.shape[0]
    groups = np.repeat(np.arange(n_units), codes.shape[1])
    h_plugin, occupied, total = _plugin(codes.ravel(), groups, n_units)
    if correction == "miller_madow":
        h = h_plugin + (occupied - 1) / (2.0 * total * np.log(2.0))
    elif correction == "extrapolation":
        h = np.maximum(_extrapolated(codes, int(n_fractions)), 0.0)
    else:
        h = h_plugin
    word_s = word_length * bin_ms / 1000.0
    rate_bits = h / word_s
    spikes = st.counts.astype(float)
    if pooled:
        spikes = np.array([spikes.mean()]) if spikes.size else np.zeros(1)
    firing = spikes / (st.duration / 1000.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_spike = np.where(firing > 0, rate_bits / np.where(firing > 0, firing, 1.0), np.nan)
    dims = () if pooled else ("neuron",)
    coords = {} if pooled else st.neuron_coord()

    def var(values, units, long_name):
        v = values[0] if pooled else values
        return (dims, v, {"units": units, "long_name": long_name})

    return xr.Dataset(
        {"entropy_rate": var(rate_bits, "bit/s", "entropy rate (direct method)"),
         "entropy_per_spike": var(per_spike, "bit", "entropy per spike"),
         "word_entropy": var(h, "bit", f"entropy per word ({correction} correction)"),
         "word_entropy_plugin": var(h_plugin, "bit", "plug-in entropy per word"),
         "firing_rate": var(firing, "Hz", "mean firing rate"),
         "n_words": var(total.astype(np.int64), "1", "number of words"),
         "n_occupied": var(occupied.astype(np.int64), "1", "number of distinct words")},
        coords=coords,
        attrs={"bin_ms": bin_ms, "word_length": int(word_length), "binary": int(bool(binary)),
               "pooled": int(bool(pooled)), "correction": correction,
               "t_start": st.t_start, "t_stop": st.t_stop},
    )
