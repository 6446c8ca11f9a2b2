"""The panels' one background runner: the latest request runs in a worker thread.

Controls of a panel fire in bursts (a slider dragged, a value typed); :class:`BackgroundJob`
waits for a quiet period, runs only the latest request and lets a running computation
notice that it was superseded, so the page stays responsive and never shows a stale result.
Every panel runs its simulations through it (the f-I curve of the neuron explorer, the
synapses panels, the network explorer).

Also here: :data:`EXPECTED_ERRORS`, the errors a panel shows in its status line instead of
a traceback.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

__all__ = ["BackgroundJob", "Progress", "Superseded", "EXPECTED_ERRORS"]

#: errors shown in a panel's status line instead of a traceback (bad values, diverged or
#: too large runs)
EXPECTED_ERRORS = (ValueError, TypeError, FloatingPointError, MemoryError, OverflowError)


class Superseded(Exception):
    """Raised inside a background computation when a newer request replaced it."""


class Progress:
    """What a computation gets: ``progress(f)`` reports the fraction ``f`` done and raises
    :class:`Superseded` once a newer request came; :meth:`stale` asks without raising."""

    def __init__(self, job: BackgroundJob, gen: int,
                 on_progress: Callable[[float], None] | None):
        self._job, self._gen, self._on_progress = job, gen, on_progress

    def stale(self) -> bool:
        """Whether a newer request was submitted (the computation should stop; never true
        for a job made with ``supersede=False``)."""
        return self._job.supersede and self._job._submitted != self._gen

    def __call__(self, fraction: float) -> None:
        if self.stale():
            raise Superseded
        if self._on_progress is not None:
            self._on_progress(fraction)


class BackgroundJob:
    """Run the latest of a series of requests in a worker thread, after a quiet period.

    :meth:`submit` replaces any pending request; a computation in progress learns that
    it was superseded when it reports progress (``progress`` raises :class:`Superseded`,
    ``progress.stale()`` turns true) and its result is never applied. ``apply(result,
    error)`` runs in the worker thread, under the job's lock, for the latest request only.
    With ``supersede=False`` a computation in progress always runs to its end and is
    applied (requests made meanwhile are queued, only the latest of them runs next). With
    ``background=False`` requests run at once in the caller's thread (scripts, doctests);
    :meth:`run_now` does so whatever the mode. Computations never overlap.

    Examples
    --------
    >>> out = []
    >>> job = BackgroundJob(delay_s=0.0)
    >>> _ = job.submit(lambda progress: 6 * 7, lambda result, error: out.append(result))
    >>> job.wait(5.0), out
    (True, [42])
    >>> job.run_now(lambda progress: progress.stale())
    False
    """

    def __init__(self, delay_s: float = 0.15, background: bool = True, *,
                 supersede: bool = True):
        self.delay_s = float(delay_s)
        self.background = bool(background)
        self.supersede = bool(supersede)
        self._cond = threading.Condition()
        self._running = threading.RLock()      # held while a computation runs
        self._submitted = 0
        self._done = 0
        self._pending: tuple | None = None
        self._worker: threading.Thread | None = None
        #: an exception raised by an ``apply`` callback (kept, not raised in the worker)
        self.apply_error: BaseException | None = None

    @property
    def busy(self) -> bool:
        """A request is waiting or running."""
        with self._cond:
            return self._done < self._submitted

    @property
    def pending(self) -> bool:
        """A request is waiting to start (a newer one than any running computation)."""
        with self._cond:
            return self._pending is not None

    @property
    def lock(self) -> threading.Condition:
        """The lock ``apply`` runs under (hold it to read what ``apply`` writes)."""
        return self._cond

    def submit(self, compute: Callable[[Progress], Any],
               apply: Callable[[Any, BaseException | None], None] | None = None,
               on_progress: Callable[[float], None] | None = None) -> int:
        """Request ``compute(progress)``; ``apply(result, error)`` follows. ``progress(f)``
        (``0 <= f <= 1``) calls ``on_progress(f)`` and raises :class:`Superseded` when a
        newer request came (see :class:`Progress`). Returns the request's number."""
        with self._cond:
            self._submitted += 1
            gen = self._submitted
            self._pending = (gen, compute, apply, on_progress, time.monotonic() + self.delay_s)
            if self.background:
                if self._worker is None:
                    self._worker = threading.Thread(target=self._loop, daemon=True,
                                                    name="neurosim-background")
                    self._worker.start()
                self._cond.notify_all()
                return gen
        self._run_pending()
        return gen

    def run_now(self, compute: Callable[[Progress], Any]) -> Any:
        """Run ``compute(progress)`` in the caller's thread as the latest request (after a
        computation in progress, which it supersedes; a waiting request is dropped) and
        return its value; its exceptions propagate."""
        with self._cond:
            self._submitted += 1
            gen = self._submitted
            self._pending = None
        try:
            with self._running:
                return compute(Progress(self, gen, None))
        finally:
            self._finish(gen)

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until every request so far is done; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._done < self._submitted:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def _loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._pending is None:
                        self._worker = None      # a later submit starts a new worker
                        return
                    left = self._pending[4] - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            self._run_pending()

    def _finish(self, gen: int) -> None:
        with self._cond:
            self._done = max(self._done, gen)
            self._cond.notify_all()

    def _run_pending(self) -> None:
        with self._running:
            with self._cond:
                if self._pending is None:
                    return
                gen, compute, apply, on_progress, _ = self._pending
                self._pending = None
            result, error = None, None
            try:
                result = compute(Progress(self, gen, on_progress))
            except Superseded:
                return
            except Exception as exc:  # noqa: BLE001 - reported through apply, never raised
                error = exc
            with self._cond:
                if self._submitted == gen or not self.supersede:
                    try:
                        if apply is not None:
                            apply(result, error)
                    except Exception as exc:  # noqa: BLE001 - a worker must not die loudly
                        self.apply_error = exc
                        traceback.print_exc()  # to the kernel's log (Voila's console)
                    finally:
                        self._finish(gen)
