"""One run per output directory: a lock file naming the process that trains into it.

Two ``lamina train`` processes writing to the same ``--out`` would end with one run's
``config.json`` beside the other's weights. A run therefore holds ``lamina.lock`` in its
directory while it trains: a small JSON file with the holder's pid, host name, start time and
a random token, created with ``O_CREAT | O_EXCL`` (exactly one process can create it) and
removed when the run ends, however it ends short of ``kill -9``.

A second run into the directory refuses with :class:`RunDirectoryLocked`, naming the
directory and the holder. A lock whose holder is gone (killed outright, or a machine that
rebooted) is *stale*: when its host is this host and its pid is not a live process (or is a
zombie, or a newer process that reused the pid, or this very process's pid after a container
restart), the next run takes it over with a note on stderr. A lock written on another host
(or in another container's pid namespace) cannot be checked from here and is respected; the
message says how to remove it.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import os
import secrets
import socket
import sys
import time

from ..errors import LaminaError

__all__ = ["LOCK_NAME", "RunDirectoryLocked", "run_lock", "check_unlocked"]

LOCK_NAME = "lamina.lock"
_UNREADABLE_GRACE_SECONDS = 10.0  # a lock being created is written within microseconds
_held_tokens: set[str] = set()    # the locks this process holds (pids alone cannot tell)


class RunDirectoryLocked(LaminaError, RuntimeError):
    """Another live run holds the output directory's lock; the message names both."""


def _host() -> str:
    return socket.gethostname()


def _pid_namespace() -> str | None:
    """This process's pid namespace on Linux (containers sharing a host name, as with
    ``--network host``, still each have their own), else None."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except (OSError, AttributeError):
        return None


def _checkable(holder: dict) -> bool:
    """Whether the lock's pid can be looked up from here: same host, same pid namespace."""
    namespace = holder.get("pid_namespace")
    return holder.get("host") == _host() and (namespace is None or namespace == _pid_namespace())


def _process_start(pid: int) -> tuple[str | None, int | None]:
    """(state, start time in clock ticks since boot) of ``pid`` from Linux's /proc, or
    (None, None) where there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()  # the name in (...) may hold spaces
        return fields[0].decode(), int(fields[19])
    except (OSError, IndexError, ValueError):
        return None, None


def _is_running(holder: dict) -> bool:
    """Whether the process that wrote ``holder`` (a lock's content, from this host) lives."""
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():  # ours: live only if this process took it (a restarted container
        return holder.get("token") in _held_tokens  # starts its processes at the same pids)
    if os.name == "nt":  # no cheap, safe liveness test: respect the lock
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user
        pass
    state, started = _process_start(pid)
    if state == "Z":  # killed, not yet reaped by its parent
        return False
    recorded = holder.get("process_start")
    return not (isinstance(recorded, int) and started is not None and started != recorded)


def _read(path: str) -> tuple[str, dict | None]:
    """The lock file's text and its content (None when it is not a lock's JSON), retrying
    briefly: a lock just created may not have its content yet. FileNotFoundError when absent."""
    for attempt in range(20):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        try:
            holder = json.loads(text)
            if isinstance(holder, dict):
                return text, holder
        except ValueError:
            pass
        time.sleep(0.01 * (attempt + 1) if attempt < 10 else 0.05)
    return text, None


def _describe(holder: dict | None, path: str) -> str:
    if holder is None:
        return f"an unknown process (unreadable {path})"
    started = f", started {holder['started']}" if holder.get("started") else ""
    return f"process {holder.get('pid')} on host {holder.get('host')}{started}"


def _stale(path: str, holder: dict | None) -> bool:
    if holder is None:  # never completed: stale once older than a writer could need
        try:
            return time.time() - os.stat(path).st_mtime > _UNREADABLE_GRACE_SECONDS
        except FileNotFoundError:
            return True
    return _checkable(holder) and not _is_running(holder)


def _refusal(directory: str, path: str, holder: dict | None) -> RunDirectoryLocked:
    advice = (f"if that run is gone, delete {path}" if holder is None or not _checkable(holder)
              else "wait for it to end or choose another --out")
    return RunDirectoryLocked(f"{directory} is in use by another lamina run "
                              f"({_describe(holder, path)}); {advice}")


def check_unlocked(directory: str | os.PathLike) -> None:
    """Raise :class:`RunDirectoryLocked` if a live run holds ``directory`` (a cheap early
    check, so that a second run refuses before it loads its data; takes nothing)."""
    directory = os.fspath(directory)
    path = os.path.join(directory, LOCK_NAME)
    try:
        _text, holder = _read(path)
    except (FileNotFoundError, NotADirectoryError):
        return
    if not _stale(path, holder):
        raise _refusal(directory, path, holder)


def _take_over(path: str, stale_text: str) -> None:
    """Remove the stale lock whose text is ``stale_text``, and only it: moved aside under a
    name of our own first, so that a racing run that already replaced it keeps its lock."""
    aside = f"{path}.stale-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return
    try:
        with open(aside, encoding="utf-8", errors="replace") as f:
            moved = f.read()
        if moved != stale_text:  # a live lock replaced the stale one meanwhile: put it back
            with contextlib.suppress(OSError):
                os.link(aside, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(aside)


def _create(path: str, holder: dict) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(holder) + "\n")
            f.flush()
            os.fsync(f.fileno())
    except BaseException:  # a full disk, a file-size limit: leave no empty lock behind
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    return True


@contextlib.contextmanager
def run_lock(directory: str | os.PathLike):
    """Hold ``directory``'s lock (creating the directory) for the ``with`` block; yields the
    lock's content. Raises :class:`RunDirectoryLocked` while another live run holds it; takes
    a stale lock over with a one-line note on stderr. The lock is removed when the block
    ends, also by an exception, Ctrl-C or a signal that unwinds the program."""
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, LOCK_NAME)
    token = secrets.token_hex(8)
    holder = {"pid": os.getpid(), "host": _host(),
              "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
              "process_start": _process_start(os.getpid())[1],
              "pid_namespace": _pid_namespace(), "token": token}
    for _attempt in range(10):
        if _create(path, holder):
            break
        try:
            text, found = _read(path)
        except FileNotFoundError:
            continue
        if not _stale(path, found):
            raise _refusal(directory, path, found)
        print(f"lamina: note: {path} was left by {_describe(found, path)}, which is no longer "
              "running; taking it over", file=sys.stderr, flush=True)
        _take_over(path, text)
    else:
        raise RunDirectoryLocked(f"{directory}: could not take {path} (other runs keep "
                                 "replacing it); try again")
    _held_tokens.add(token)
    try:
        yield holder
    finally:
        _held_tokens.discard(token)
        with contextlib.suppress(OSError):
            _text, current = _read(path) if os.path.exists(path) else ("", None)
            if current is not None and current.get("token") == token:
                os.unlink(path)
