"""The Dask side of sweeps, fits and sensitivity analyses: which client runs the work, and the
batched task loop.

* :func:`get_client` resolves the ``client=`` argument every research function takes:
  ``None`` -> an embedded :class:`distributed.LocalCluster` sized to the machine (one
  single-threaded worker per core, never more workers than cores; created on first use,
  reused across calls, closed at interpreter exit); ``"serial"`` -> no Dask at all (the work
  runs in this process, in order); a :class:`distributed.Client`; or a scheduler address
  ``"tcp://host:port"`` (connected once and reused; an address that cannot be reached raises
  :class:`ConnectionError` within ``timeout`` seconds).
* :func:`map_batches` submits one task per batch (a batch is a list of points, so Dask's
  per-task cost of about a millisecond is shared by many points) and yields each result as
  it completes, so the caller can checkpoint it at once. A worker that dies loses only its
  running tasks, which the scheduler reruns elsewhere.
* :func:`close_client` closes the embedded cluster and the clients this module opened.

Examples
--------
>>> list(map_batches(sum, [[1, 2], [3]], client="serial", progress=False))
[(0, 3), (1, 3)]
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

__all__ = ["get_client", "close_client", "map_batches", "n_workers", "usable_cores", "SERIAL"]

#: the ``client=`` value that runs everything in this process, without Dask
SERIAL = "serial"


def get_client(client: Any = None, *, timeout: float = 10.0):
    """The Dask client that runs the work, or ``None`` for the in-process serial loop.

    Parameters
    ----------
    client : None, "serial", distributed.Client or str
        ``None``: the embedded ``LocalCluster`` (``n_workers`` = the usable cores,
        ``threads_per_worker=1``, no dashboard; created on the first call and reused).
        ``"serial"``: no Dask (returns ``None``). A ``Client``: used as is. A string
        ``"tcp://host:port"`` (or any scheme Dask understands): a client connected to that
        scheduler, cached per address.
    timeout : float
        Seconds to wait for a scheduler address to answer (s).

    Returns
    -------
    distributed.Client or None

    Raises
    ------
    TypeError
        ``client`` is none of the above.
    ConnectionError
        The scheduler at the address did not answer within ``timeout`` seconds.

    Examples
    --------
    >>> get_client("serial") is None
    True
    """
    if client is None:
        return _local_client()
    if isinstance(client, str):
        if client == SERIAL:
            return None
        return _remote_client(client, timeout)
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - the research extra is missing
        Client = None
    if Client is not None and isinstance(client, Client):
        return client
    raise TypeError("client must be None (the embedded LocalCluster), 'serial' (no Dask), a "
                    "distributed.Client or a scheduler address such as 'tcp://host:8786', got "
                    f"{type(client).__name__} {client!r}")


def n_workers(client) -> int:
    """Number of workers of a client (1 for ``None``, the serial loop).

    >>> n_workers(None)
    1
    """
    if client is None:
        return 1
    return max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))


def close_client() -> None:
    """Close the embedded ``LocalCluster`` and every client :func:`get_client` opened.

    Safe to call twice; the next :func:`get_client` starts a fresh cluster.

    >>> close_client()
    """
    with _LOCK:
        clients = list(_REMOTE.values())
        _REMOTE.clear()
        local, _LOCAL[:] = list(_LOCAL), []
    for c in clients:
        _quiet_close(c)
    for obj in reversed(local):  # the client, then its cluster
        _quiet_close(obj)


def map_batches(func: Callable[[Any], Any], batches: Sequence[Any] | Iterable[Any],
                client: Any = None, progress: bool | str | Callable = True, *,
                sizes: Sequence[int] | None = None, desc: str = "points",
                timeout: float = 10.0) -> Iterator[tuple[int, Any]]:
    """Run ``func(batch)`` for every batch, on Dask or serially; yield ``(index, result)`` as
    each batch completes.

    Parameters
    ----------
    func : callable
        ``func(batch) -> result``; must be picklable (cloudpickle: closures and lambdas are
        fine) when a Dask client runs it. An exception it raises is re-raised here (catch
        per-point errors inside ``func`` to keep a run going).
    batches : sequence
        The work, one task per element.
    client : None, "serial", distributed.Client or str
        As in :func:`get_client`.
    progress : bool, str or callable
        Show a ``tqdm`` bar over points (``"notebook"`` forces the widget bar; ``True`` picks
        ``tqdm.auto``), or call ``progress(points_done, points_total)`` at the start and
        after every batch (e.g. to drive an app's own progress bar).
    sizes : sequence of int, optional
        Points per batch for the progress bar (default: ``len(batch)``, else 1).
    desc : str
        Label of the progress bar.
    timeout : float
        Seconds to wait for a scheduler address (s).

    Yields
    ------
    (int, object)
        The batch's position in ``batches`` and ``func``'s result, in completion order
        (in order for the serial loop).

    Raises
    ------
    KeyboardInterrupt
        Ctrl-C: the batches not yet finished are cancelled on the cluster before the
        interrupt propagates.

    Examples
    --------
    >>> dict(map_batches(len, [[1, 2], [3], []], client="serial", progress=False))
    {0: 2, 1: 1, 2: 0}
    >>> _ = list(map_batches(len, [[1, 2], [3]], "serial", progress=lambda d, n: print(d, n)))
    0 3
    2 3
    3 3
    """
    batches = list(batches)
    if sizes is None:
        sizes = [_size(b) for b in batches]
    elif len(sizes) != len(batches):
        raise ValueError(f"sizes has {len(sizes)} entries for {len(batches)} batches")
    dask_client = get_client(client, timeout=timeout)
    bar = _progress_bar(progress, int(sum(sizes)), desc)
    try:
        if dask_client is None:
            for k, batch in enumerate(batches):
                result = func(batch)
                bar.update(sizes[k])
                yield k, result
            return
        yield from _dask_loop(dask_client, func, batches, sizes, bar)
    finally:
        bar.close()


# -- the embedded cluster and the remote clients -------------------------------------------
_LOCK = threading.Lock()
_LOCAL: list = []            # [client, cluster] of the embedded LocalCluster, once started
_REMOTE: dict[str, Any] = {}  # scheduler address -> Client


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1.

    >>> usable_cores() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def _local_client():
    with _LOCK:
        if _LOCAL and _LOCAL[0].status == "running":
            return _LOCAL[0]
        for obj in reversed(_LOCAL):
            _quiet_close(obj)
        _LOCAL.clear()
        from distributed import Client, LocalCluster

        # no dashboard; the scheduler's small HTTP server (health, metrics) on a free port
        # rather than 8787, which another cluster may hold
        cluster = LocalCluster(n_workers=usable_cores(), threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR,
                               scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
        # not the process's default client: that sets dask's global scheduler option, which a
        # later close out of order leaves pointing at a closed client (then xarray's NetCDF
        # writer asks for "dask.distributed" and fails); map_batches uses this client itself
        client = Client(cluster, set_as_default=False)
        _LOCAL[:] = [client, cluster]
        return client


def _remote_client(address: str, timeout: float):
    with _LOCK:
        client = _REMOTE.get(address)
        if client is not None and client.status == "running":
            return client
        from distributed import Client

        try:
            timeout = float(timeout)
        except (TypeError, ValueError):
            raise TypeError(f"timeout must be a number of seconds, got {timeout!r}") from None
        try:
            client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as err:
            raise ConnectionError(
                f"could not reach a Dask scheduler at {address!r} within {timeout:g} s "
                f"({type(err).__name__}: {err}); start one with `dask scheduler` (and workers "
                "with `dask worker ADDRESS`), or pass client=None for the local cluster or "
                "'serial' to run in this process") from None
        _REMOTE[address] = client
        return client


def _quiet_close(obj) -> None:
    try:
        obj.close()
    except Exception:  # noqa: BLE001 - closing at exit must not raise
        pass


atexit.register(close_client)


# -- the task loop -------------------------------------------------------------------------
def _size(batch) -> int:
    try:
        return len(batch)
    except TypeError:
        return 1


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class _CallbackBar:
    """``progress(done, total)`` after every batch (a widget's progress bar, a log line)."""

    def __init__(self, callback, total: int):
        self.callback, self.total, self.done = callback, total, 0
        callback(0, total)

    def update(self, n: int = 1) -> None:
        self.done += n
        self.callback(self.done, self.total)

    def close(self) -> None:
        pass


def _progress_bar(progress, total: int, desc: str):
    if callable(progress):
        return _CallbackBar(progress, total)
    if not progress:
        return _NoBar()
    if progress == "notebook":
        from tqdm.notebook import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit="pt", smoothing=0.1)


def _dask_loop(client, func, batches, sizes, bar) -> Iterator[tuple[int, Any]]:
    from distributed import as_completed

    futures = client.map(func, batches, pure=False)
    index = {f.key: k for k, f in enumerate(futures)}
    done = False
    try:
        for future in as_completed(futures, loop=client.loop):
            k = index[future.key]
            result = future.result()
            future.release()
            bar.update(sizes[k])
            yield k, result
        done = True
    finally:
        if not done:  # an error, Ctrl-C or the caller stopped iterating
            client.cancel(futures)
