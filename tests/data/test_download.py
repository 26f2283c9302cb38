"""Verified downloads against a local HTTP server on 127.0.0.1 (started and stopped here).

The server serves a good file, a corrupted copy, a truncated copy, an HTML page, a 404 and
a connection that closes early; the expected SHA-256 is computed from the test's own bytes
and passed in through parameters (the real checksum tables are not touched).
"""
import gzip
import hashlib
import http.server
import threading

import numpy as np
import pytest

from lamina.data import (MNIST, Resource, cache_dir, data_home, download_file, read_idx,
                         sha256_file, verify_file, write_idx)
from lamina.data.vision import FashionMNIST
from lamina.errors import DataError

GOOD = gzip.compress(np.random.default_rng(7).bytes(20000), mtime=0)  # incompressible
HTML = b"<!DOCTYPE html><html><body><h1>403 Forbidden</h1></body></html>"
RESOURCE = Resource("train-images-idx3-ubyte.gz", hashlib.sha256(GOOD).hexdigest(), len(GOOD))
CORRUPT = GOOD[:100] + bytes([GOOD[100] ^ 0xFF]) + GOOD[101:]


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict = {}  # path -> (body, status, claimed Content-Length or None)

    def do_GET(self):  # noqa: N802 (the http.server API)
        body, status, claimed = self.routes.get(self.path, (b"not found", 404, None))
        self.send_response(status)
        self.send_header("Content-Length", str(claimed if claimed is not None else len(body)))
        self.end_headers()
        self.wfile.write(body)  # a shorter body than claimed makes the client see a cut

    def log_message(self, *args):  # keep the test output quiet
        pass


class Served(str):
    """The server's base URL; ``.routes`` (path -> response) can be extended by a test."""

    routes: dict


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 on an ephemeral port, for this test only."""
    routes = {
        "/good/f.gz": (GOOD, 200, None),
        "/corrupt/f.gz": (CORRUPT, 200, None),
        "/truncated/f.gz": (GOOD[: len(GOOD) // 2], 200, None),
        "/html/f.gz": (HTML, 200, None),
        "/cut/f.gz": (GOOD[:1000], 200, len(GOOD)),
    }
    handler = type("Handler", (_Handler,), {"routes": routes})
    httpd = http.server.HTTPServer(("127.0.0.1", 0), handler)
    httpd.timeout = 5
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = Served(f"http://127.0.0.1:{httpd.server_address[1]}")
    url.routes = routes
    try:
        yield url
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_good_file_is_verified_and_cached(server, tmp_path):
    dest = download_file([f"{server}/good/f.gz"], tmp_path / "f.gz", RESOURCE, timeout=5)
    assert dest.read_bytes() == GOOD
    assert not (tmp_path / "f.gz.part").exists()


@pytest.mark.parametrize("route,words", [("corrupt", "checksum"), ("truncated", "bytes, expected"),
                                         ("html", "HTML page"), ("missing", "HTTP 404"),
                                         ("cut", "closed after 1000 of")])
def test_bad_downloads_are_refused_and_never_cached(server, tmp_path, route, words):
    with pytest.raises(DataError, match=words):
        download_file([f"{server}/{route}/f.gz"], tmp_path / "f.gz", RESOURCE, timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_fallback_mirror_is_used_when_the_first_fails(server, tmp_path):
    urls = [f"{server}/html/f.gz", f"{server}/missing/f.gz", f"{server}/good/f.gz"]
    dest = download_file(urls, tmp_path / "f.gz", RESOURCE, timeout=5)
    assert sha256_file(dest) == RESOURCE.sha256


def test_every_failure_is_listed_when_all_mirrors_fail(server, tmp_path):
    urls = [f"{server}/corrupt/f.gz", f"{server}/html/f.gz"]
    with pytest.raises(DataError) as info:
        download_file(urls, tmp_path / "f.gz", RESOURCE, timeout=5)
    assert all(url in str(info.value) for url in urls) and str(tmp_path) in str(info.value)


def test_leftover_part_file_is_never_used(server, tmp_path):
    # A previous run left the complete good bytes in .part; a failing mirror must not
    # promote them, and a working one overwrites them from the start.
    part = tmp_path / "f.gz.part"
    part.write_bytes(GOOD)
    with pytest.raises(DataError):
        download_file([f"{server}/corrupt/f.gz"], tmp_path / "f.gz", RESOURCE, timeout=5)
    assert not (tmp_path / "f.gz").exists() and not part.exists()
    part.write_bytes(b"stale bytes from an interrupted download")
    download_file([f"{server}/good/f.gz"], tmp_path / "f.gz", RESOURCE, timeout=5)
    assert (tmp_path / "f.gz").read_bytes() == GOOD and not part.exists()


def test_only_http_urls_are_fetched(tmp_path):
    (tmp_path / "src.gz").write_bytes(GOOD)
    with pytest.raises(DataError, match="only http"):
        download_file([(tmp_path / "src.gz").as_uri()], tmp_path / "f.gz", RESOURCE)


def test_verify_accepts_a_recompressed_copy_by_payload_hash(tmp_path):
    payload = gzip.decompress(GOOD)
    resource = Resource("f.gz", RESOURCE.sha256, RESOURCE.size, hashlib.sha256(payload).hexdigest())
    (tmp_path / "f.gz").write_bytes(gzip.compress(payload, compresslevel=1, mtime=12345))
    verify_file(tmp_path / "f.gz", resource)
    with pytest.raises(DataError, match="checksum|bytes"):
        verify_file(tmp_path / "f.gz", RESOURCE)


def test_cache_location_follows_lamina_data(monkeypatch, tmp_path):
    monkeypatch.setenv("LAMINA_DATA", str(tmp_path))
    assert data_home() == tmp_path and cache_dir("mnist") == tmp_path / "mnist"
    monkeypatch.delenv("LAMINA_DATA")
    assert data_home().parts[-2:] == (".cache", "lamina")


class _LocalMNIST(MNIST):
    """MNIST pointed at the test server: tables injected by subclassing, not by editing."""

    sizes = None


def test_dataset_downloads_into_the_cache_then_works_offline(server, tmp_path, monkeypatch, rng):
    images = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 6, dtype=np.uint8)
    files = {"train-images-idx3-ubyte.gz": write_idx(tmp_path / "i.gz", images).read_bytes(),
             "train-labels-idx1-ubyte.gz": write_idx(tmp_path / "l.gz", labels).read_bytes()}
    server.routes.update({f"/mirror/{name}": (data, 200, None) for name, data in files.items()})
    resources = {n: Resource(n, hashlib.sha256(d).hexdigest(), len(d)) for n, d in files.items()}
    cls = type("M", (_LocalMNIST,), {"dataset_name": "mnist-test", "resources": resources,
                                     "mirrors": (f"{server}/missing/", f"{server}/mirror/")})
    monkeypatch.setenv("LAMINA_DATA", str(tmp_path / "cache"))
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz"):
        cls(train=True)
    ds = cls(train=True, download=True)
    cached = tmp_path / "cache" / "mnist-test"
    assert sorted(p.name for p in cached.iterdir()) == sorted(files)
    np.testing.assert_array_equal(read_idx(cached / "train-images-idx3-ubyte.gz"), images)
    np.testing.assert_array_equal(ds.targets, labels)
    assert len(cls(train=True)) == 6  # offline now: served from the cache


def test_offline_without_files_names_the_directory_and_the_four_files(tmp_path, monkeypatch):
    monkeypatch.setenv("LAMINA_DATA", str(tmp_path))
    with pytest.raises(DataError) as info:
        MNIST(train=False)
    message = str(info.value)
    assert str(tmp_path / "mnist") in message
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert name in message


@pytest.mark.parametrize("cls", [MNIST, FashionMNIST])
def test_recorded_checksum_tables_are_complete(cls):
    assert sorted(cls.resources) == sorted(f + ".gz" for f in (
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte"))
    for r in cls.resources.values():
        assert len(r.sha256) == 64 and int(r.sha256, 16) >= 0 and r.size > 0
    assert all(m.startswith(("http://", "https://")) and m.endswith("/") for m in cls.mirrors)


def test_a_data_set_never_reads_part_files(tmp_path, monkeypatch, rng):
    monkeypatch.setenv("LAMINA_DATA", str(tmp_path))
    cache = tmp_path / "mnist"
    cache.mkdir()
    write_idx(cache / "t10k-images-idx3-ubyte.gz.part", rng.integers(0, 256, (3, 28, 28), dtype=np.uint8))
    write_idx(cache / "t10k-labels-idx1-ubyte.gz.part", np.zeros(3, np.uint8))
    with pytest.raises(DataError, match="not found"):
        _LocalMNIST(train=False)
