"""Atomic file writes: write to a temporary file beside the target, flush it to disk, then
rename it over the target. A crash at any moment leaves either the old file or the new one,
never a half-written one, and no temporary file survives a failed write.
"""
from __future__ import annotations

import contextlib
import os
import tempfile

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text"]


def _temporary_beside(path: str) -> tuple[int, str, str]:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    return fd, tmp, directory


def _file_mode(path: str) -> int:
    # mkstemp makes the file private (0600); give it what a plain open() would have.
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_directory(directory: str) -> None:
    # The rename itself is durable only once the directory entry is on disk.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _commit(tmp: str, path: str, directory: str) -> None:
    os.chmod(tmp, _file_mode(path))
    os.replace(tmp, path)
    _fsync_directory(directory)


@contextlib.contextmanager
def _replacing(path: str):
    """Yield (fd, temporary path) beside ``path``; when the block ends normally the temporary
    file replaces ``path``, when it raises the temporary file is removed."""
    fd, tmp, directory = _temporary_beside(path)
    try:
        yield fd, tmp
        _commit(tmp, path, directory)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path`` for a writer that wants a file name
    (e.g. matplotlib's ``savefig``); on success the finished file replaces ``path``."""
    with _replacing(os.fspath(path)) as (fd, tmp):
        os.close(fd)
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with _replacing(os.fspath(path)) as (fd, _tmp):
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))
