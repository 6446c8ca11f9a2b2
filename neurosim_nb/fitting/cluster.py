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

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

__all__ = ["get_client", "close_client", "map_batches", "n_workers", "SERIAL"]

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
    raise NotImplementedError


def n_workers(client) -> int:
    """Number of workers of a client (1 for ``None``, the serial loop).

    >>> n_workers(None)
    1
    """
    raise NotImplementedError


def close_client() -> None:
    """Close the embedded ``LocalCluster`` and every client :func:`get_client` opened.

    Safe to call twice; the next :func:`get_client` starts a fresh cluster.

    >>> close_client()
    """
    raise NotImplementedError


def map_batches(func: Callable[[Any], Any], batches: Sequence[Any] | Iterable[Any],
                client: Any = None, progress: bool | str = True, *,
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
    progress : bool or str
        Show a ``tqdm`` bar over points (``"notebook"`` forces the widget bar; ``True`` picks
        ``tqdm.auto``).
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
    """
    raise NotImplementedError
