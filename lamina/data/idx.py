"""The IDX file format of MNIST and Fashion-MNIST: reading (strictly) and writing.

An IDX file is a big-endian header followed by a dense array::

    bytes 0-1   0x00 0x00             (always zero)
    byte  2     dtype code            0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                                      0x0D float32, 0x0E float64
    byte  3     d, the number of dimensions
    4 bytes     size of dimension 0   (unsigned 32-bit, most significant byte first)
    ...         ... one per dimension
    payload     prod(sizes) items of the dtype, big-endian, C order

so MNIST's image files start with the magic number 0x00000803 (uint8, 3 dimensions: N, 28,
28) and its label files with 0x00000801 (uint8, 1 dimension: N). Files are read gzip
compressed or raw (decided by the content, not the name). Every size is checked exactly: a
truncated file, trailing bytes, a wrong magic number, an HTML page saved under the data
file's name (a failed download) or random bytes raise :class:`lamina.errors.DataError`;
decompression is bounded by the size the header announces, so nothing hangs or swells.
"""
from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError, LaminaValueError

__all__ = ["read_idx", "parse_idx", "write_idx", "IDX_DTYPES", "looks_like_html"]

#: IDX dtype code -> big-endian NumPy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
_INFLATE_STEP = 1 << 24  # decompress in 16 MiB steps (zlib takes a C-sized max_length)


def looks_like_html(head: bytes) -> bool:
    """True when ``head`` (a file's first bytes) is the start of an HTML or XML document.

    A download that hits an error or login page saves HTML under the data file's name;
    recognising it turns a puzzling "bad magic number" into a clear message.
    """
    start = head.lstrip()[:64].lower()
    return start.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body", b"<!--"))


def _describe(data: bytes, name: str) -> str:
    if looks_like_html(data[:512]):
        return f"{name} is an HTML page, not IDX data (a failed or redirected download?)"
    return f"{name} is not an IDX file: it starts with bytes {data[:4].hex(' ')}"


def _parse_header(head: bytes, name: str) -> tuple[np.dtype, tuple[int, ...], int]:
    """Validate the magic number and return (dtype, shape, header length)."""
    if len(head) < 4:
        raise DataError(f"{name} is truncated: {len(head)} bytes, shorter than the 4-byte IDX magic number")
    if head[0] != 0 or head[1] != 0 or head[2] not in IDX_DTYPES:
        raise DataError(_describe(head, name) + " (expected 00 00 <dtype code> <ndim>, "
                        "e.g. 00 00 08 03 for images, 00 00 08 01 for labels)")
    ndim = head[3]
    if ndim == 0:
        raise DataError(f"{name} declares 0 dimensions; an IDX array needs at least one")
    header_len = 4 + 4 * ndim
    if len(head) < header_len:
        raise DataError(f"{name} is truncated inside its header: {len(head)} bytes, "
                        f"the {ndim}-dimensional header needs {header_len}")
    shape = tuple(int.from_bytes(head[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return IDX_DTYPES[head[2]], shape, header_len


def _payload_size(dtype: np.dtype, shape: tuple[int, ...]) -> int:
    count = 1
    for s in shape:
        count *= s
    return count * dtype.itemsize


def _to_array(payload, dtype: np.dtype, shape: tuple[int, ...], offset: int) -> np.ndarray:
    count = _payload_size(dtype, shape) // dtype.itemsize
    array = np.frombuffer(payload, dtype=dtype, count=count, offset=offset).reshape(shape)
    if dtype.itemsize > 1:
        # The file is big-endian; arithmetic on a native-order array is faster downstream.
        array = array.astype(dtype.newbyteorder("="))
    return array


def _parse_raw(data: bytes, name: str) -> np.ndarray:
    dtype, shape, header_len = _parse_header(data[:4 + 4 * 255], name)
    expected = header_len + _payload_size(dtype, shape)
    if len(data) < expected:
        raise DataError(f"{name} is truncated: {len(data)} bytes, but its header {shape} of "
                        f"{dtype.name} needs {expected}")
    if len(data) > expected:
        raise DataError(f"{name} has {len(data) - expected} bytes of trailing data after the "
                        f"{expected} bytes its header {shape} announces")
    return _to_array(data, dtype, shape, header_len)


def _inflate(stream, data: bytes, want: int, name: str) -> bytes:
    """Decompress up to ``want`` more bytes (never more: a bound against swelling input)."""
    out = bytearray()
    pending = data
    while len(out) < want:
        try:
            chunk = stream.decompress(pending, min(want - len(out), _INFLATE_STEP))
        except zlib.error as exc:
            raise DataError(f"{name} is a corrupt gzip stream: {exc}") from None
        if not chunk:  # end of stream, or no progress possible: stop rather than spin
            break
        out += chunk
        pending = stream.unconsumed_tail
    return bytes(out)


def _parse_gzip(data: bytes, name: str) -> np.ndarray:
    # One gzip member, decompressed in two steps so that the header bounds the payload.
    stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
    head = _inflate(stream, data, 4, name)
    if len(head) == 4 and head[0] == 0 and head[1] == 0 and head[2] in IDX_DTYPES:
        head += _inflate(stream, stream.unconsumed_tail, 4 * head[3], name)
    else:  # not IDX: read a little more so the message can tell an HTML page
        head += _inflate(stream, stream.unconsumed_tail, 508, name)
    dtype, shape, header_len = _parse_header(head, name)
    size = _payload_size(dtype, shape)
    payload = _inflate(stream, stream.unconsumed_tail, size, name)
    if len(payload) < size:
        raise DataError(f"{name} is truncated: its gzip stream holds {len(payload)} payload "
                        f"bytes, but its header {shape} of {dtype.name} needs {size}")
    extra = _inflate(stream, stream.unconsumed_tail, 1, name)
    if extra:
        raise DataError(f"{name} has trailing data after the {size} payload bytes its "
                        f"header {shape} announces")
    if not stream.eof:
        raise DataError(f"{name} is truncated: its gzip stream ends before the gzip trailer")
    if stream.unused_data:
        raise DataError(f"{name} has {len(stream.unused_data)} bytes of trailing data after "
                        "its gzip stream")
    return _to_array(payload, dtype, shape, 0)


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """Parse IDX bytes (gzip-compressed or raw) into an array of native byte order.

    ``name`` appears in error messages. Raises :class:`DataError` for anything that is not
    exactly one well-formed IDX array.
    """
    data = bytes(data)
    if data[:2] == _GZIP_MAGIC:
        return _parse_gzip(data, name)
    return _parse_raw(data, name)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, gzip-compressed (``.gz``) or raw, into a NumPy array.

    >>> images = read_idx("train-images-idx3-ubyte.gz")   # doctest: +SKIP
    >>> images.shape, images.dtype
    ((60000, 28, 28), dtype('uint8'))
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"IDX file {path} does not exist") from None
    except OSError as exc:
        raise DataError(f"cannot read IDX file {path}: {exc}") from None
    return parse_idx(data, name=str(path))


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file (gzip-compressed when ``compress`` or the name ends in .gz).

    The inverse of :func:`read_idx`; used to make small test files and to export arrays.
    """
    path = Path(path)
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        raise LaminaValueError(f"IDX cannot store dtype {array.dtype}; expected one of "
                               f"{sorted(str(d.newbyteorder('=')) for d in IDX_DTYPES.values())}")
    if not 1 <= array.ndim <= 255:
        raise LaminaValueError(f"IDX stores 1 to 255 dimensions, got an array of shape {array.shape}")
    code = _CODES[native]
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    body = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    path.write_bytes(gzip.compress(body, mtime=0) if compress else body)
    return path
