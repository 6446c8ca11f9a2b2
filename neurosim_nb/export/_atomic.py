"""Atomic file writes: write to a temporary file beside the target, then rename.

A failed or interrupted write leaves no half-written file: the target is either the old
file (or absent) or the complete new one.

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
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from neurosim_nb.errors import NeurosimError


class ExportError(NeurosimError, OSError):
    """A result or model could not be written or read (bad path, corrupt or foreign file)."""


def writable_path(path) -> Path:
    """``path`` as a :class:`Path` whose folder exists and is writable, else :class:`ExportError`.

    >>> try:
    ...     writable_path("/no/such/folder/out.nc")
    ... except ExportError as e:
    ...     print(e)
    cannot write /no/such/folder/out.nc: the folder /no/such/folder does not exist
    """
    p = Path(os.fspath(path)).expanduser()
    folder = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise ExportError(f"cannot write {p}: it is a folder")
    if not folder.is_dir():
        raise ExportError(f"cannot write {p}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ExportError(f"cannot write {p}: the folder {folder} is not writable")
    return p


@contextlib.contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    On any exception the temporary file is removed and the exception propagates; an existing
    ``path`` is left untouched.
    """
    target = writable_path(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                        dir=target.parent)
    except OSError as e:  # e.g. a read-only file system, which os.access does not see
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give the usual permissions
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


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
    p = Path(os.fspath(path)).expanduser()
    if not p.exists():
        raise ExportError(f"no such file: {p}")
    if not p.is_file():
        raise ExportError(f"not a file: {p}")
    if not os.access(p, os.R_OK):
        raise ExportError(f"cannot read {p}: permission denied")
    return p
