"""Models of the sweep tests that run in another process too (a subprocess that is killed, a
real ``dask worker``): importable by name there, so their source hash is the same in both
processes and a store written by one is resumed by the other.

Each model appends ``"<a> <b> <pid>\\n"`` to the file named by the environment variable
``SWEEP_CALL_LOG`` (when set) after it has computed the point, with the process id: a count
of finished computations, per point, across processes.
"""

from __future__ import annotations

import os
import time

import numpy as np


def _log(params: dict) -> None:
    path = os.environ.get("SWEEP_CALL_LOG")
    if path:
        with open(path, "a") as f:
            f.write(f"{params['a']!r} {params['b']!r} {os.getpid()}\n")
            f.flush()


def noisy_product(params: dict, seed: int) -> dict:
    """``a * b`` plus seeded noise; sleeps ``params.get('sleep_s', 0)`` (a slow point)."""
    time.sleep(float(params.get("sleep_s", 0.0)))
    rng = np.random.default_rng(seed)
    out = {"y": params["a"] * params["b"] + rng.normal(), "z": float(rng.integers(1000))}
    _log(params)
    return out


def noisy_product_reference(a: float, b: float, seed: int) -> dict:
    """What :func:`noisy_product` returns, written out (no sleep, no log)."""
    rng = np.random.default_rng(seed)
    return {"y": a * b + rng.normal(), "z": float(rng.integers(1000))}
