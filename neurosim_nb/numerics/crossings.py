"""Threshold crossings of sampled traces, interpolated between samples.

>>> import numpy as np
>>> t = np.array([0.0, 1.0, 2.0, 3.0])
>>> v = np.array([[-70.0, -70.0], [-10.0, -80.0], [30.0, -80.0], [-60.0, -80.0]])
>>> first_crossings(t, v, 0.0).round(3).tolist()
[1.25, nan]
"""

from __future__ import annotations

import numpy as np

__all__ = ["first_crossings"]


def first_crossings(t: np.ndarray, v: np.ndarray, threshold: float,
                    after: float = -np.inf) -> np.ndarray:
    """First upward crossing time of ``threshold`` after ``after`` in every column of
    ``v`` (time, n), interpolated linearly between the samples at ``t``; NaN in a column
    that never crosses."""
    up = (v[:-1] < threshold) & (v[1:] >= threshold) & (t[1:, None] > after)
    out = np.full(v.shape[1], np.nan)
    cols = np.flatnonzero(up.any(axis=0))
    k = np.argmax(up, axis=0)[cols]
    v0, v1 = v[k, cols], v[k + 1, cols]
    out[cols] = t[k] + (threshold - v0) / (v1 - v0) * (t[k + 1] - t[k])
    return out
