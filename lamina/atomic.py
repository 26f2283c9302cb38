"""Atomic file writes: write to a temporary file beside the target, flush it to disk, then
rename it over the target. A crash at any moment leaves either the old file or the new one,
never a half-written one, and no temporary file survives a failed write.

Only a process killed outright (``kill -9``, the OOM killer, a power cut) during a write leaves
its temporary file behind. Such files have one exact name, ``.<target name>.<8 characters
from a-z, 0-9 and _>.tmp`` (the name Python's ``tempfile.mkstemp`` gave them in earlier
versions, so their leftovers are recognised too), and :func:`remove_temporaries` deletes them
from a directory that no live process is writing to (the training run does so under its lock).
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "is_temporary_name",
           "remove_temporaries"]

_NAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"
_TEMPORARY_NAME = re.compile(r"\.(.+)\.[a-z0-9_]{8}\.tmp")
# New, private, never through a symbolic link, binary on Windows (as tempfile.mkstemp opens).
_CREATE_FLAGS = (os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_BINARY", 0))


def _temporary_name(path: str) -> str:
    tag = "".join(secrets.choice(_NAME_CHARACTERS) for _ in range(8))
    return "." + os.path.basename(path) + "." + tag + ".tmp"


def is_temporary_name(name: str) -> bool:
    """True when ``name`` (a file name, without directory) is the name of an atomic write's
    temporary file: ``.<target>.<8 characters of a-z 0-9 _>.tmp``.

    >>> is_temporary_name(".checkpoint.safetensors.k3x_9q0a.tmp"), is_temporary_name("a.tmp")
    (True, False)
    """
    return _TEMPORARY_NAME.fullmatch(name) is not None


def remove_temporaries(directory: str | os.PathLike) -> list[str]:
    """Delete the temporary files that writes killed midway left in ``directory`` (its own
    entries only, regular files only, named as :func:`is_temporary_name` recognises) and
    return their names. The caller makes sure no live process is writing there."""
    removed = []
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if is_temporary_name(entry.name) and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):  # gone already, or not ours to delete: skip
                os.unlink(entry.path)
                removed.append(entry.name)
    return sorted(removed)


def _temporary_beside(path: str) -> tuple[int, str, str]:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    while True:  # O_EXCL: a name already taken (by chance, 37**8 names) is drawn again
        tmp = os.path.join(directory, _temporary_name(path))
        try:
            return os.open(tmp, _CREATE_FLAGS, 0o600), tmp, directory
        except FileExistsError:
            continue


def _file_mode(path: str) -> int:
    # The temporary file is private (0600); give it what a plain open() would have.
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
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno is not None and exc.filename is None:
            # write and fsync name no file: say which one
            exc.filename = os.fspath(path)
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
