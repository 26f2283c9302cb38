"""Verified downloads and the data cache.

Where a data set's files come from, in order: an explicit ``root`` directory; the cache
``$LAMINA_DATA/<dataset>`` (default ``~/.cache/lamina/<dataset>``); and, only when the
caller asks (``download=True``), the official sources. A download is streamed into
``<name>.part``, its size and SHA-256 are checked against values recorded in the code, and
only a file that passes is renamed to ``<name>``; anything else (an HTML error page, a
truncated or corrupted file) is deleted and the next mirror is tried. A ``.part`` file left
by an interrupted run is never read: it is overwritten from the start.
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


def _fetch_once(url: str, part: Path, limit: int, timeout: float) -> None:
    """Stream ``url`` into ``part``; raise DataError on any failure (the caller cleans up)."""
    import urllib.error  # imported here: urllib.request pulls in http.client and ssl
    import urllib.request

    if not url.lower().startswith(("http://", "https://")):
        raise DataError(f"refusing to download {url!r}: only http and https URLs are fetched")
    request = urllib.request.Request(url, headers={"User-Agent": "lamina-data"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(part, "wb") as out:
            total = 0
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                total += len(chunk)
                if total > limit:
                    raise DataError(f"{url} sent more than the expected {limit} bytes")
                out.write(chunk)
            announced = response.headers.get("Content-Length")
            if announced is not None and announced.isdigit() and total != int(announced):
                raise DataError(f"downloading {url} failed: the connection closed after "
                                f"{total} of {announced} bytes")
    except urllib.error.HTTPError as exc:
        raise DataError(f"{url} answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        # URLError (no route, refused), socket timeouts and IncompleteRead (a connection
        # closed before Content-Length bytes) all mean this mirror failed.
        reason = getattr(exc, "reason", exc)
        raise DataError(f"downloading {url} failed: {type(exc).__name__}: {reason}") from None


def download_file(urls: Sequence[str], dest: str | os.PathLike, resource: Resource,
                  timeout: float = 60.0) -> Path:
    """Download ``resource`` to ``dest`` from the first of ``urls`` that yields a verified file.

    Each attempt writes ``dest + '.part'`` (truncating any leftover), checks it with
    :func:`verify_file`, and renames it to ``dest`` only when it passes, so the cache holds
    verified files or nothing. Raises :class:`DataError` listing every URL's failure.
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
            _fetch_once(url, part, limit, timeout)
            verify_file(part, resource)
        except DataError as exc:
            failures.append(f"  {url}: {exc}")
            part.unlink(missing_ok=True)
            continue
        os.replace(part, dest)
        return dest
    raise DataError(f"could not download a verified copy of {resource.filename}; tried:\n"
                    + "\n".join(failures)
                    + f"\nPut a copy of {resource.filename} in {dest.parent} yourself "
                    "to work offline.")
