"""Atomic file writes and the checks every reader shares.

**Writes.** :func:`atomic_path` yields a temporary file beside the target and renames it
over the target once written; :func:`atomic_paths` does the same for a *set* of files (a CSV
export writes several): every file is written to its temporary first, and only then are all
renamed; if a rename fails, the files already renamed are put back from hard-link backups.
A failed or interrupted write therefore leaves every previous file as it was, and nothing
half-written. Every failure -- a full disk, a file-size limit, an HDF5 error -- is an
:class:`ExportError` naming the target.

**Reads.** :func:`readable_path` refuses a missing or foreign path; :func:`check_declared`
compares the bytes a file *declares* (an array header's shape and dtype) with the bytes it
holds and with the memory available, before anything is allocated
(:class:`FileTooLargeError`).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_path(d / "out.txt") as tmp:
...     _ = tmp.write_text("done")
>>> (d / "out.txt").read_text(), sorted(p.name for p in d.iterdir())
('done', ['out.txt'])
>>> oct((d / "out.txt").stat().st_mode & 0o777) == oct(0o666 & ~_umask())
True
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from neurosim_nb._validation import memory_limit
from neurosim_nb.errors import NeurosimError, TooLargeError

#: failures of a write that become an ExportError naming the target (netCDF4 reports HDF5's
#: failures, a full disk included, as RuntimeError)
WRITE_ERRORS = (OSError, RuntimeError)


class ExportError(NeurosimError, OSError):
    """A result or model could not be written or read (bad path, corrupt or foreign file)."""


class FileTooLargeError(TooLargeError, ExportError):
    """A file declares more data than it holds, or more than memory allows; refused before
    anything is allocated. Both a :class:`~neurosim_nb.errors.TooLargeError` and an
    :class:`ExportError`.

    >>> issubclass(FileTooLargeError, ValueError), issubclass(FileTooLargeError, OSError)
    (True, True)
    """


def writable_path(path) -> Path:
    """``path`` as a :class:`Path` whose folder exists and is writable, else :class:`ExportError`.

    An existing target must be a regular file (a device such as ``/dev/full``, a pipe or a
    folder is refused: the rename that ends an atomic write would replace it).

    >>> try:
    ...     writable_path("/no/such/folder/out.nc")
    ... except ExportError as e:
    ...     print(e)
    cannot write /no/such/folder/out.nc: the folder /no/such/folder does not exist
    >>> try:
    ...     writable_path("/dev/null")
    ... except ExportError as e:
    ...     print(e)
    cannot write /dev/null: it exists and is not a regular file (a device, pipe or socket)
    """
    p = Path(os.fspath(path)).expanduser()
    folder = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise ExportError(f"cannot write {p}: it is a folder")
    if p.exists() and not p.is_file():
        raise ExportError(f"cannot write {p}: it exists and is not a regular file (a device, "
                          "pipe or socket)")
    if not folder.is_dir():
        raise ExportError(f"cannot write {p}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ExportError(f"cannot write {p}: the folder {folder} is not writable")
    return p


def write_failure(target, error: BaseException) -> ExportError:
    """The :class:`ExportError` for a write of ``target`` that failed with ``error``.

    >>> print(write_failure("/tmp/x.nc", OSError(errno.ENOSPC, "No space left on device")))
    cannot write /tmp/x.nc: No space left on device (the disk is full: free space or write \
elsewhere)
    """
    if isinstance(error, ExportError):
        return error
    reason = (error.strerror if isinstance(error, OSError) and error.strerror
              else str(error).splitlines()[0] if str(error) else type(error).__name__)
    code = getattr(error, "errno", None)
    if code == errno.ENOSPC or "HDF error" in reason:
        reason += (" (the disk is full: free space or write elsewhere)" if code == errno.ENOSPC
                   else " (the disk may be full, or the folder unwritable)")
    elif code in (errno.EFBIG, errno.EDQUOT):
        reason += " (a file-size limit or disk quota: free space or write elsewhere)"
    return ExportError(f"cannot write {target}: {reason}")


def _temporary(target: Path) -> Path:
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                    dir=target.parent)
    except OSError as e:  # e.g. a read-only file system, which os.access does not see
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from None
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give the usual permissions
    return tmp


def _backup(target: Path) -> Path | None:
    """A hard link (else a copy) of an existing ``target`` beside it, to restore it from."""
    if not target.is_file():
        return None
    for attempt in range(100):
        name = target.with_name(f".{target.name}.{os.getpid()}.{attempt}.bak")
        try:
            os.link(target, name)
            return name
        except FileExistsError:
            continue
        except OSError:  # no hard links here (some network file systems): a copy
            import shutil

            shutil.copy2(target, name)
            return name
    raise ExportError(f"cannot write {target}: no free name for a backup")


def _replace_all(tmps: Sequence[Path], targets: Sequence[Path]) -> None:
    """Rename every temporary over its target; on a failure put back what was renamed."""
    backups: list[Path | None] = []
    done = 0
    try:
        for target in targets:
            backups.append(_backup(target))
        for tmp, target in zip(tmps, targets, strict=True):
            os.replace(tmp, target)
            done += 1
    except BaseException:
        for target, backup in zip(targets[:done], backups[:done], strict=True):
            with contextlib.suppress(OSError):
                if backup is None:
                    target.unlink()
                else:
                    os.replace(backup, target)
        raise
    finally:
        for backup in backups:
            if backup is not None:
                with contextlib.suppress(FileNotFoundError):
                    backup.unlink()


@contextlib.contextmanager
def atomic_paths(paths: Sequence) -> Iterator[list[Path]]:
    """Yield one temporary path per target of ``paths``; on success rename them all.

    All temporaries are written (by the caller) before any target changes, so a failed
    write leaves every target as it was; if a rename fails (rare: same folder), the targets
    already renamed are restored from backups. Any :data:`WRITE_ERRORS` (a full disk
    included) becomes an :class:`ExportError` naming the target(s); other exceptions (a
    ``TypeError`` from the data) propagate unchanged. No temporary or backup is left.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_paths([d / "a.csv", d / "b.csv"]) as (ta, tb):
    ...     _ = ta.write_text("a"), tb.write_text("b")
    >>> sorted(p.name for p in d.iterdir())
    ['a.csv', 'b.csv']
    """
    targets = [writable_path(p) for p in paths]
    if len({t.resolve() for t in targets}) != len(targets):
        raise ExportError(f"cannot write {', '.join(map(str, targets))}: a file is named twice")
    tmps: list[Path] = []
    try:
        for target in targets:
            tmps.append(_temporary(target))
        yield tmps
        _replace_all(tmps, targets)
    except ExportError:
        raise
    except WRITE_ERRORS as e:
        raise write_failure(targets[0] if len(targets) == 1 else
                            ", ".join(map(str, targets)), e) from e
    finally:
        for tmp in tmps:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


@contextlib.contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    On any exception the temporary file is removed and the exception propagates (a write
    failure as an :class:`ExportError` naming ``path``); an existing ``path`` is left
    untouched.
    """
    with atomic_paths([path]) as (tmp,):
        yield tmp


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def readable_path(path) -> Path:
    """``path`` as an existing regular file, else :class:`ExportError` naming the problem.

    >>> try:
    ...     readable_path("/no/such/file.nc")
    ... except ExportError as e:
    ...     print(e)
    no such file: /no/such/file.nc
    """
    try:
        p = Path(os.fspath(path)).expanduser()
    except TypeError:
        from neurosim_nb.errors import ArgumentTypeError

        raise ArgumentTypeError(f"path must be a str or path-like, got {path!r}") from None
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise ExportError(f"no such file: {p}") from None
    except OSError as e:  # a name too long, a loop of links, a component that is a file
        raise ExportError(f"cannot read {p}: {e.strerror or e}") from None
    if not stat.S_ISREG(mode):
        raise ExportError(f"not a file: {p}")
    if not os.access(p, os.R_OK):
        raise ExportError(f"cannot read {p}: permission denied")
    return p


# ----------------------------------------------------------------------- declared sizes

def human_bytes(n: float) -> str:
    """``n`` bytes in kB/MB/GB/TB (powers of 1000).

    >>> human_bytes(6144), human_bytes(17179869184)
    ('6.1 kB', '17.2 GB')
    """
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def check_declared(path, what: str, n_bytes: int, *, stored: int | None = None,
                   ratio: float = 1.0, slack: int = 0) -> None:
    """Refuse a file whose ``what`` declares ``n_bytes`` before they are allocated.

    Parameters
    ----------
    path : path-like
        The file (named in the message).
    what : str
        What declares the size (``"entry 'v0.npy' (10**12 float64 values)"``).
    n_bytes : int
        Bytes the declaration would allocate.
    stored : int, optional
        Bytes the file holds for it: more than ``ratio * stored + slack`` is a declaration
        the file cannot back (truncated, sparse or hostile).
    ratio, slack : float, int
        The largest expansion a genuine file has (1 for an uncompressed array, about 1032
        for zlib) and a margin in bytes.

    Raises
    ------
    FileTooLargeError
        Naming the bytes declared, the bytes held or available, and what to do.

    Examples
    --------
    >>> check_declared("a.npz", "entry 'v0.npy'", 800, stored=800)
    >>> try:
    ...     check_declared("a.npz", "entry 'v0.npy'", 8 * 10**12, stored=900)
    ... except FileTooLargeError as e:
    ...     print(e)  # doctest: +NORMALIZE_WHITESPACE
    cannot read a.npz: entry 'v0.npy' would need 8.0 TB but the file holds 900 bytes for
    it (truncated, corrupt or hostile file)
    """
    if stored is not None and n_bytes > ratio * stored + slack:
        raise FileTooLargeError(f"cannot read {path}: {what} would need "
                                f"{human_bytes(n_bytes)} but the file holds "
                                f"{human_bytes(stored)} for it (truncated, corrupt or hostile "
                                "file)")
    limit, source = memory_limit()  # (the limit of every allocation check)
    if limit is not None and n_bytes > limit:
        raise FileTooLargeError(f"cannot read {path}: {what} needs {human_bytes(n_bytes)} of "
                                f"memory, more than the {human_bytes(limit)} allowed "
                                f"({source}); read it on a larger machine or open it lazily "
                                "where the reader can")
