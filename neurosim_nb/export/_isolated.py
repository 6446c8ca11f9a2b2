"""Run a reader in a forked child process, with a time limit: what HDF5 may do with a
damaged file -- loop for ever at 100 % CPU ignoring SIGINT, crash the interpreter
(SIGSEGV), leak open handles -- stays in the child.

Found by fuzzing :func:`~neurosim_nb.export.netcdf.load_simulation`: a single flipped byte
in the global heap of a valid file (HDF5 2.2.0 via netCDF4 1.7.5) makes ``netCDF4.Dataset``
never return; other flips crash the process, or leave HDF5 handles open (on deleted
files) after a failed ``xarray.open_dataset``. None of these can be caught in the process
that calls HDF5, and which bytes cause them is HDF5's business: a structure check of our
own would catch only the cases already seen. A child costs a ``fork`` (copy-on-write: a few
milliseconds, more for a process with a large resident set) and the transfer of the result
(pickle protocol 5, the arrays' bytes streamed through a pipe into the parent's buffers,
one copy).

:func:`run_isolated` forks, runs ``func(*args)`` in the child and returns its result (or
raises its exception) in the parent. The child is killed when it does not finish within
the time limit (:class:`~neurosim_nb.export._atomic.ExportError` "... did not finish ...")
or when the parent is interrupted (Ctrl-C, a Jupyter interrupt); a child that dies by a
signal is an ExportError too. Where ``os.fork`` is missing (Windows) the function runs in
the calling process (:data:`AVAILABLE`).

>>> run_isolated(sum, ([1, 2, 3],), what="adding", timeout=10.0)
6
>>> run_isolated(int, ("x",), what="parsing", timeout=10.0)
Traceback (most recent call last):
...
ValueError: invalid literal for int() with base 10: 'x'
"""

from __future__ import annotations

import faulthandler
import gc
import math
import os
import pickle
import select
import signal
import sys
import time
import warnings

from neurosim_nb.export._atomic import ExportError

__all__ = ["run_isolated", "AVAILABLE", "time_limit"]

#: whether readers run in a child (``os.fork`` exists: Linux, macOS, the BSDs)
AVAILABLE = hasattr(os, "fork") and sys.platform != "emscripten"
#: the time limit of a read (s) is at least this ...
MIN_TIMEOUT_S = 20.0
#: ... plus the file's size read at this rate (bytes/s): a slow network disk and zlib
#: decompression at 1100:1 (the largest expansion a NetCDF reader accepts) stay well within
MIN_READ_RATE = 10e6
_LEN = 8  # bytes of a length prefix


def time_limit(n_bytes: int) -> float:
    """Seconds a read of a file of ``n_bytes`` may take before it is taken for a hang.

    >>> time_limit(0), time_limit(10**9)
    (20.0, 120.0)
    """
    return MIN_TIMEOUT_S + n_bytes / MIN_READ_RATE


def run_isolated(func, args: tuple, *, what: str, timeout: float):
    """``func(*args)`` computed in a forked child: its return value (picklable), or its
    exception raised here. ``what`` ("reading /x/run.nc") names the work in the errors for
    a child that runs longer than ``timeout`` seconds (it is killed) or dies by a signal.
    """
    if not AVAILABLE:
        return func(*args)
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():  # Python >= 3.12 warns on a fork with threads running:
        warnings.simplefilter("ignore", DeprecationWarning)  # the child runs no other thread
        pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        _child(func, args, write_fd)
    os.close(write_fd)
    deadline = time.monotonic() + timeout
    done = False
    try:
        status, value = _receive(read_fd, deadline)
        done = True
    except TimeoutError:
        raise ExportError(f"{what}: did not finish in {timeout:.0f} s (a damaged HDF5 file "
                          "can make the library loop for ever); the reader was stopped") from None
    except EOFError:
        _, code = os.waitpid(pid, 0)
        done = True
        if os.WIFSIGNALED(code):
            sig = os.WTERMSIG(code)
            raise ExportError(f"{what}: the reader crashed (signal {sig}, "
                              f"{signal.Signals(sig).name}); the file is damaged") from None
        raise ExportError(f"{what}: the reader stopped without a result (exit status "
                          f"{os.waitstatus_to_exitcode(code)})") from None
    finally:
        os.close(read_fd)
        if not done:  # a time-out or an interrupt of the parent: stop the child
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    os.waitpid(pid, 0)
    if status == "err":
        kind, args = value
        try:
            error = kind(*args)
        except Exception:  # noqa: BLE001 -- a constructor that takes other arguments
            error = ExportError(f"{what}: {kind.__name__}: {args}")
        raise error
    return value


def _child(func, args, fd: int) -> None:
    code = 0
    try:
        faulthandler.disable()  # a crash is reported by the parent, without a dump
        gc.disable()  # a collection would touch (copy) every page of the parent's objects
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # the parent handles interrupts
        try:
            result = ("ok", func(*args))
        except Exception as e:  # noqa: BLE001 -- handed to the parent
            result = ("err", (type(e), e.args))  # not the object: OSError and ValueError
            # subclasses (FileTooLargeError) do not unpickle everywhere
        try:
            _send(fd, result)
        except Exception as e:  # noqa: BLE001 -- an unpicklable value or exception
            _send(fd, ("err", (ExportError, (f"{type(e).__name__}: {e}",))))
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the parent's buffers


def _send(fd: int, result) -> None:
    buffers: list = []
    head = pickle.dumps(result, protocol=5, buffer_callback=buffers.append)
    views = [memoryview(head)] + [b.raw() for b in buffers]
    sizes = b"".join(len(v).to_bytes(_LEN, "little") for v in views)
    _write_all(fd, len(views).to_bytes(_LEN, "little") + sizes)
    for view in views:
        _write_all(fd, view)


def _write_all(fd: int, data) -> None:
    view = memoryview(data).cast("B")
    while view:
        view = view[os.write(fd, view):]


def _receive(fd: int, deadline: float):
    count = int.from_bytes(_read_exactly(fd, _LEN, deadline), "little")
    sizes = _read_exactly(fd, _LEN * count, deadline)
    parts = [_read_exactly(fd, int.from_bytes(sizes[i:i + _LEN], "little"), deadline)
             for i in range(0, len(sizes), _LEN)]
    return pickle.loads(parts[0], buffers=parts[1:])


def _read_exactly(fd: int, n: int, deadline: float) -> bytearray:
    out = bytearray(n)
    view = memoryview(out)
    poll = select.poll()  # not select.select: it fails for descriptors above 1023
    poll.register(fd, select.POLLIN)
    got = 0
    while got < n:
        left = deadline - time.monotonic()
        if left <= 0 or not poll.poll(max(1, math.ceil(left * 1000))):
            raise TimeoutError
        k = os.readv(fd, [view[got:]])
        if k == 0:
            raise EOFError
        got += k
    return out
