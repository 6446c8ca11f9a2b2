"""A debounced background runner for panels: the latest request runs in a worker thread.

Controls of a panel fire in bursts (a slider dragged, a value typed); :class:`BackgroundJob`
waits for a quiet period, runs only the latest request and lets a running computation
notice that it was superseded, so the page stays responsive and never shows a stale result.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

__all__ = ["BackgroundJob", "Superseded"]


class Superseded(Exception):
    """Raised inside a background computation when a newer request replaced it."""


class BackgroundJob:
    """Run the latest of a series of requests in a worker thread, after a quiet period.

    :meth:`submit` replaces any pending request; a computation in progress learns that
    it was superseded when it reports progress (``progress`` raises :class:`Superseded`)
    and its result is never applied. ``apply(result, error)`` runs in the worker thread,
    under the job's lock, for the latest request only. With ``background=False`` requests
    run at once in the caller's thread (scripts, doctests).

    Examples
    --------
    >>> out = []
    >>> job = BackgroundJob(delay_s=0.0)
    >>> _ = job.submit(lambda progress: 6 * 7, lambda result, error: out.append(result))
    >>> job.wait(5.0), out
    (True, [42])
    """

    def __init__(self, delay_s: float = 0.15, background: bool = True):
        self.delay_s = float(delay_s)
        self.background = bool(background)
        self._cond = threading.Condition()
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

    def submit(self, compute: Callable[[Callable[[float], None]], Any],
               apply: Callable[[Any, BaseException | None], None],
               on_progress: Callable[[float], None] | None = None) -> int:
        """Request ``compute(progress)``; ``apply(result, error)`` follows. ``progress(f)``
        (``0 <= f <= 1``) calls ``on_progress(f)`` and raises :class:`Superseded` when a
        newer request came. Returns the request's number."""
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

    def _run_pending(self) -> None:
        with self._cond:
            if self._pending is None:
                return
            gen, compute, apply, on_progress, _ = self._pending
            self._pending = None

        def progress(fraction: float) -> None:
            if self._submitted != gen:
                raise Superseded
            if on_progress is not None:
                on_progress(fraction)

        result, error = None, None
        try:
            result = compute(progress)
        except Superseded:
            return
        except Exception as exc:  # noqa: BLE001 - reported through apply, never raised
            error = exc
        with self._cond:
            if self._submitted == gen:
                try:
                    apply(result, error)
                except Exception as exc:  # noqa: BLE001 - a worker thread must not die loudly
                    self.apply_error = exc
                    traceback.print_exc()  # to the kernel's log (Voila's console)
                finally:
                    self._done = gen
                    self._cond.notify_all()
