"""Reading one image from a file, as ``lamina predict`` does: a PNG or a NumPy ``.npy`` array.

A PNG is decoded by matplotlib (lamina's optional plotting dependency, which writes the
training plots) after lamina has checked the PNG signature and header itself; a ``.npy`` is
read without pickle, after its header (dtype, shape) has been checked. Anything else is
refused with a :class:`~lamina.errors.FileFormatError` that names the file, what it holds
(text, a JPEG or GIF under a ``.png`` name, a truncated PNG, strings, NaN...) and what was
expected. Nothing here knows about models: :func:`lamina.train.inference.load_image` fits
the pixels to a model's input.
"""
from __future__ import annotations

import io
import os
import struct
import zlib

import numpy as np

from ..errors import FileFormatError, LaminaError

__all__ = ["read_png", "read_npy", "describe_bytes", "PNG_SIGNATURE", "NPY_MAGIC"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NPY_MAGIC = b"\x93NUMPY"
_MAX_PIXELS = 1 << 26  # 67 million pixels: beyond any model input; a guard against PNG bombs

# (first bytes, what a file starting with them is), for saying what a foreign file holds
_SIGNATURES = (
    (PNG_SIGNATURE, "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (NPY_MAGIC, "a NumPy .npy array"),
    (b"PK\x03\x04", "a zip archive (an .npz?)"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"\x80", "a Python pickle"),
)


def describe_bytes(head: bytes) -> str:
    """What a file whose first bytes are ``head`` appears to be, e.g. ``'a JPEG image'``."""
    if not head:
        return "an empty file (0 bytes)"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return f"unknown binary data (first bytes {head[:8].hex(' ')})"
    if text.lstrip().lower().startswith(("<!doctype", "<html", "<?xml")):
        return "an HTML or XML page"
    return "text"


def _read_bytes(path: str | os.PathLike) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _png_size(data: bytes, path) -> tuple[int, int]:
    """Width and height from the IHDR chunk that must follow the signature."""
    if len(data) < 33:
        raise FileFormatError(f"{path}: a truncated PNG ({len(data)} bytes, not even a complete "
                              "header); expected a complete PNG image")
    length, kind = struct.unpack(">I4s", data[8:16])
    if kind != b"IHDR" or length != 13:
        raise FileFormatError(f"{path}: a corrupted PNG (its first chunk is {kind!r}, not the "
                              "13-byte IHDR header); expected a complete PNG image")
    width, height = struct.unpack(">II", data[16:24])
    if width == 0 or height == 0 or width * height > _MAX_PIXELS:
        raise FileFormatError(f"{path}: a PNG of {width}x{height} pixels; expected an image of "
                              f"1 to {_MAX_PIXELS} pixels")
    return width, height


def read_png(path: str | os.PathLike) -> np.ndarray:
    """The pixels of a PNG file as float32 in [0, 1]: (H, W) for grey, (H, W, 3) for colour
    (an alpha channel is dropped; palette images come out as colour).

    Raises :class:`~lamina.errors.FileFormatError` for a file that is not a PNG (whatever
    its name says) or is truncated or corrupted."""
    data = _read_bytes(path)
    if not data.startswith(PNG_SIGNATURE):
        raise FileFormatError(f"{path}: {describe_bytes(data[:16])}, not a PNG; expected a PNG "
                              "image (convert it, or save the pixels as a .npy array)")
    _png_size(data, path)
    try:
        import matplotlib.image
    except ImportError:
        raise LaminaError(f"reading {path} needs matplotlib (pip install 'lamina[train]'); "
                          "or save the image as a .npy array") from None
    try:
        image = matplotlib.image.imread(io.BytesIO(data), format="png")
    except (OSError, SyntaxError, ValueError, EOFError, zlib.error, struct.error) as exc:
        # the decoder's ways of saying the data stream ends early or does not inflate
        raise FileFormatError(f"{path}: a truncated or corrupted PNG ({exc}); expected a "
                              "complete PNG image") from None
    image = np.asarray(image)
    if image.dtype.kind in "ui":  # matplotlib gives floats for PNG; be safe with integer data
        image = image / float(np.iinfo(image.dtype).max)
    if image.ndim == 3:
        image = image[..., :3]
    return image.astype(np.float32)


def _npy_header(data: bytes, path) -> tuple[tuple, np.dtype] | None:
    """Shape and dtype from a .npy header (format versions 1 and 2; None for later ones,
    which are checked after loading)."""
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        readers = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}
        if version not in readers:
            return None
        shape, _fortran, dtype = readers[version](stream)
    except (ValueError, EOFError, SyntaxError) as exc:
        raise FileFormatError(f"{path}: a corrupted .npy header ({exc}); expected an array "
                              "saved with numpy.save") from None
    return shape, dtype


def _check_npy_dtype(shape: tuple, dtype: np.dtype, path) -> None:
    if dtype.hasobject:
        raise FileFormatError(f"{path}: holds Python objects (dtype {dtype}), which lamina never "
                              "unpickles; expected an array of numbers")
    if dtype.kind not in "biuf":
        raise FileFormatError(f"{path}: holds {dtype} values (dtype kind {dtype.kind!r}); expected "
                              "real numbers (bool, integer or float pixels)")
    if int(np.prod(shape)) == 0:
        raise FileFormatError(f"{path}: holds an empty array of shape {tuple(shape)}; expected "
                              "an image")


def read_npy(path: str | os.PathLike) -> np.ndarray:
    """One image saved with ``numpy.save``, as float32 pixel values in [0, 1] (values above 1
    are taken as 0-255 and divided by 255).

    Refused with :class:`~lamina.errors.FileFormatError`: a file that is not a .npy (text,
    0 bytes, a PNG under a .npy name), a truncated one, Python objects (never unpickled),
    strings, complex numbers, an empty array, NaN or infinite values, values above 255."""
    data = _read_bytes(path)
    if not data.startswith(NPY_MAGIC):
        raise FileFormatError(f"{path}: {describe_bytes(data[:16])}, not a .npy array; expected "
                              "an array saved with numpy.save")
    header = _npy_header(data, path)
    if header is not None:
        _check_npy_dtype(*header, path)
    try:
        image = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, EOFError) as exc:
        raise FileFormatError(f"{path}: a truncated or corrupted .npy ({exc}); expected an "
                              "array saved with numpy.save") from None
    _check_npy_dtype(image.shape, image.dtype, path)
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        bad = image[~np.isfinite(image)]
        found = (("NaN", np.isnan(bad).any()), ("infinite", np.isinf(bad).any()))
        kinds = " and ".join(word for word, present in found if present)
        raise FileFormatError(f"{path}: {bad.size} of its {image.size} values are {kinds}; "
                              "expected finite pixel values")
    top = float(image.max())
    if top > 255.0:
        raise FileFormatError(f"{path}: values up to {top:g}; expected pixel values in [0, 1] "
                              "or [0, 255]")
    image = image.astype(np.float32)
    return image / np.float32(255.0) if top > 1.0 else image
