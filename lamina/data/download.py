"""Verified downloads and the data cache.

Where a data set's files come from, in order: an explicit ``root`` directory; the cache
``$LAMINA_DATA/<dataset>`` (default ``~/.cache/lamina/<dataset>``); and, only when the
caller asks (``download=True``; on the command line ``--download`` or ``lamina data fetch``),
the official sources. A download is streamed into ``<name>.part``, its size and SHA-256 are
checked against values recorded in the code, and only a file that passes is renamed to
``<name>``; anything else (an HTML error page, a truncated or corrupted file) is deleted and
the next mirror is tried.

Resuming: a ``.part`` file left by an interrupted run (Ctrl-C, a killed process) is
continued where it stopped with an HTTP ``Range`` request, and so is a connection that
closes early (up to :data:`ATTEMPTS` tries per mirror). Its bytes are kept only when the
server answers the range (``206 Partial Content`` from the right offset, or ``416`` for a
file already complete); a server that sends the whole file again overwrites it from the
start. The checksum is always that of the complete file, and a resumed file that fails it
is downloaded once more from the start, so a stale ``.part`` can cost time, never
correctness.
"""
from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import DataError
from .idx import looks_like_html

__all__ = ["Resource", "data_home", "cache_dir", "sha256_file", "verify_file", "download_file"]

_CHUNK = 1 << 20
#: Upper bound on a download whose size is not recorded: no data file lamina knows is larger.
MAX_DOWNLOAD_BYTES = 1 << 30


@dataclass(frozen=True)
class Resource:
    """One file of a data set as its source serves it.

    ``sha256`` and ``size`` describe the file byte for byte; ``payload_sha256`` (optional)
    is the SHA-256 of a gzip file's decompressed content, which also accepts a mirror that
    re-compressed the same data (Debian's Fashion-MNIST files are such a copy).
    """

    filename: str
    sha256: str
    size: int | None = None
    payload_sha256: str | None = None


def data_home() -> Path:
    """The root of lamina's data cache: ``$LAMINA_DATA``, else ``~/.cache/lamina``."""
    env = os.environ.get("LAMINA_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "lamina"


def cache_dir(dataset: str) -> Path:
    """The cache directory of one data set, e.g. ``~/.cache/lamina/mnist``."""
    return data_home() / dataset


def sha256_file(path: str | os.PathLike) -> str:
    """The SHA-256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _payload_sha256(path: Path, limit: int) -> str | None:
    """SHA-256 of a gzip file's content (None when it is not valid gzip or exceeds ``limit``)."""
    digest = hashlib.sha256()
    total = 0
    try:
        with gzip.open(path, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                total += len(chunk)
                if total > limit:
                    return None
                digest.update(chunk)
    except (OSError, EOFError, gzip.BadGzipFile, ValueError):
        return None
    return digest.hexdigest()


def verify_file(path: str | os.PathLike, resource: Resource) -> None:
    """Raise :class:`DataError` unless ``path`` holds exactly the file ``resource`` records.

    Accepted: the recorded SHA-256 of the file, or (where recorded) of its gzip payload.
    The message says what was wrong: an HTML page, a wrong size, or a checksum mismatch.
    """
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(512)
    if looks_like_html(head):
        raise DataError(f"{path} is an HTML page, not {resource.filename} "
                        "(the server answered with an error or login page)")
    digest = sha256_file(path)
    if digest == resource.sha256:
        return
    if resource.payload_sha256 is not None and head[:2] == b"\x1f\x8b":
        # A re-compressed copy is the same data; its content is bounded to 64x the file.
        if _payload_sha256(path, 64 * path.stat().st_size + _CHUNK) == resource.payload_sha256:
            return
    size = path.stat().st_size
    if resource.size is not None and size != resource.size:
        raise DataError(f"{path} has {size} bytes, expected {resource.size} for "
                        f"{resource.filename} (truncated or a different file)")
    raise DataError(f"{path} fails its checksum: SHA-256 {digest}, expected "
                    f"{resource.sha256} for {resource.filename} (corrupted download?)")


class _Cut(DataError):
    """The connection closed before the announced number of bytes arrived."""


class _NoAnswer(DataError):
    """The server could not be reached or refused the file: ``.part`` is as it was."""


def _human(size: int) -> str:
    """A byte count for people: 9912422 -> '9.9 MB'."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _content_range_start(value: str | None) -> int | None:
    """The first byte of a ``Content-Range: bytes START-END/TOTAL`` header (None if absent)."""
    if not value or not value.startswith("bytes "):
        return None
    first = value[6:].partition("-")[0]
    return int(first) if first.isdigit() else None


def _fetch_once(url: str, part: Path, limit: int, timeout: float, start: int = 0) -> bool:
    """Stream ``url`` into ``part``, continuing after its first ``start`` bytes when the
    server honours the range; returns True when the kept bytes were resumed. Raises
    DataError on any failure (:class:`_Cut` when the connection closes early; the caller
    cleans up)."""
    import http.client  # imported here: urllib.request pulls in http.client and ssl
    import urllib.error
    import urllib.request

    if not url.lower().startswith(("http://", "https://")):
        raise DataError(f"refusing to download {url!r}: only http and https URLs are fetched")
    headers = {"User-Agent": "lamina-data"}
    if start:
        headers["Range"] = f"bytes={start}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            resumed = (start > 0 and response.status == 206
                       and _content_range_start(response.headers.get("Content-Range")) == start)
            total = start if resumed else 0
            with open(part, "ab" if resumed else "wb") as out:
                received = 0
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    received += len(chunk)
                    if total + received > limit:
                        raise DataError(f"{url} sent more than the expected {limit} bytes")
                    out.write(chunk)
            announced = response.headers.get("Content-Length")
            if announced is not None and announced.isdigit() and received != int(announced):
                raise _Cut(f"downloading {url} failed: the connection closed after "
                           f"{total + received} of {total + int(announced)} bytes")
            return resumed
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # nothing after byte `start`: the file is complete
            return True
        raise _NoAnswer(f"{url} answered HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:  # no route, refused, unknown host: not retried
        raise _NoAnswer(f"downloading {url} failed: {type(exc).__name__}: {exc.reason}") from None
    except (OSError, ValueError, http.client.HTTPException) as exc:
        # a timeout, a reset or IncompleteRead once the transfer has begun: worth resuming
        raise _Cut(f"downloading {url} failed: {type(exc).__name__}: {exc}") from None


#: Tries per mirror when the connection closes early; each continues where the last stopped.
ATTEMPTS = 3


def _fetch(url: str, part: Path, resource: Resource, limit: int, timeout: float,
           report) -> None:
    """Download ``url`` into ``part`` (resuming what is there) and verify it."""
    for attempt in range(1, ATTEMPTS + 1):
        have = part.stat().st_size if part.is_file() else 0
        if have > limit:
            have = 0
        if report is not None:
            size = f" ({_human(resource.size)})" if resource.size else ""
            action = (f"resuming {resource.filename} at {_human(have)}" if have
                      else f"downloading {resource.filename}{size}")
            report(f"{action} from {url}")
        try:
            resumed = _fetch_once(url, part, limit, timeout, start=have)
        except _Cut:
            if attempt == ATTEMPTS:
                raise
            continue
        try:
            verify_file(part, resource)
        except DataError:
            if not resumed:
                raise
            # the kept bytes were stale (another version of the file): once more, whole
            part.unlink(missing_ok=True)
            _fetch_once(url, part, limit, timeout)
            verify_file(part, resource)
        return


def download_file(urls: Sequence[str], dest: str | os.PathLike, resource: Resource,
                  timeout: float = 60.0, report=None) -> Path:
    """Download ``resource`` to ``dest`` from the first of ``urls`` that yields a verified file.

    Each attempt writes ``dest + '.part'``, continuing a leftover one where the server
    allows it (see the module docstring), checks it with :func:`verify_file`, and renames it
    to ``dest`` only when it passes, so the cache holds verified files or nothing.
    ``report`` (a callable taking one line of text, e.g. ``print``) hears which file is
    being downloaded or resumed from where. Raises :class:`DataError` listing every URL's
    failure.
    """
    dest = Path(dest)
    if not urls:
        raise DataError(f"no URL to download {resource.filename} from")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    limit = resource.size if resource.size is not None else MAX_DOWNLOAD_BYTES
    failures = []
    for url in urls:
        try:
            _fetch(url, part, resource, limit, timeout, report)
        except DataError as exc:
            failures.append(f"  {url}: {exc}")
            if not isinstance(exc, _NoAnswer):  # else what is there may resume from the next
                part.unlink(missing_ok=True)
            continue
        os.replace(part, dest)
        return dest
    raise DataError(f"could not download a verified copy of {resource.filename}; tried:\n"
                    + "\n".join(failures)
                    + f"\nPut a copy of {resource.filename} in {dest.parent} yourself "
                    "to work offline.")
