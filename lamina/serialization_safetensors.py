"""Reading safetensors files: checking the header, and reading tensors NumPy lacks a dtype for.

A safetensors file is an 8-byte little-endian header length, a JSON header naming each
tensor's dtype, shape and byte offsets (and an optional ``'__metadata__'`` dict of strings),
then the tensors' bytes. :func:`_read_header` parses that header and checks it against the
file's size before any tensor is read, so a truncated file or another format (a ``.npy``, a
pickle, a zip archive) is refused with :class:`~lamina.errors.FileFormatError`;
:func:`_deserialize` then reads the arrays, widening bfloat16 ones exactly to float32.
"""
from __future__ import annotations

import json
import struct

import numpy as np

from .errors import FileFormatError

_MAX_HEADER = 100 * 1024 * 1024  # the safetensors reference limit on the JSON header
_DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2,
                "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}


def _deserialize(source, label: str, header: dict) -> dict:
    """The arrays of a safetensors file, from its path or its bytes. NumPy has no bfloat16,
    so a file holding BF16 tensors (as PyTorch writes them) is read here, its BF16 tensors
    widened exactly to float32 (a bfloat16 is the top half of a float32)."""
    from safetensors.numpy import load as load_bytes, load_file

    if any(isinstance(e, dict) and e.get("dtype") == "BF16" for e in header.values()):
        return _read_widening_bfloat16(source, label, header)
    try:
        return load_file(source) if isinstance(source, str) else load_bytes(source)
    except Exception as exc:  # safetensors' own error type
        raise FileFormatError(f"{label} is not a valid safetensors file: {exc}") from None


_NUMPY_DTYPES = {"BOOL": "?", "U8": "u1", "I8": "i1", "I16": "<i2", "U16": "<u2", "F16": "<f2",
                 "I32": "<i4", "U32": "<u4", "F32": "<f4", "I64": "<i8", "U64": "<u8", "F64": "<f8"}


def _read_widening_bfloat16(source, label: str, header: dict) -> dict:
    """Every tensor of a (checked) safetensors file, BF16 ones as float32: the 16 bits of a
    bfloat16 shifted into the high half of a float32 word are that float32's exact value."""
    if isinstance(source, str):
        with open(source, "rb") as stream:
            source = stream.read()
    start = 8 + struct.unpack("<Q", source[:8])[0]
    arrays = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, stop = entry["data_offsets"]
        raw = source[start + begin:start + stop]
        shape = tuple(entry["shape"])
        if entry["dtype"] == "BF16":
            bits = np.frombuffer(raw, "<u2").astype(np.uint32) << 16
            arrays[name] = bits.view(np.float32).reshape(shape)
        elif entry["dtype"] in _NUMPY_DTYPES:
            arrays[name] = np.frombuffer(raw, _NUMPY_DTYPES[entry["dtype"]]).reshape(shape).copy()
        else:
            raise FileFormatError(f"{label}: tensor {name!r} has dtype {entry['dtype']}, which lamina "
                                  "cannot represent (supported: BF16, widened to float32, and "
                                  f"{', '.join(_NUMPY_DTYPES)})")
    return arrays



def _read_header(f, size: int, label: str) -> dict:
    """Parse and check the safetensors header: 8-byte length, JSON, offsets within the file."""
    start = f.read(8)
    if len(start) < 8:
        raise FileFormatError(f"{label} is too short ({size} bytes) to be a safetensors file")
    (length,) = struct.unpack("<Q", start)
    if length > size - 8 or length > _MAX_HEADER:
        raise FileFormatError(f"{label} is not a safetensors file{_foreign_kind(start)}: its first 8 "
                              f"bytes announce a {length}-byte header but the file has {size} bytes "
                              "(truncated or another format)")
    raw = f.read(length)
    if not raw.startswith(b"{"):
        raise FileFormatError(f"{label} is not a safetensors file{_foreign_kind(start)}: "
                              "the header is not a JSON object")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise FileFormatError(f"{label} has a corrupted safetensors header (invalid JSON)") from None
    if not isinstance(header, dict):
        raise FileFormatError(f"{label} has a corrupted safetensors header (not a JSON object)")
    end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            begin, stop = entry["data_offsets"]
            count = int(np.prod(entry["shape"], dtype=np.int64))
            nbytes = count * _DTYPE_BYTES[entry["dtype"]]
        except (KeyError, TypeError, ValueError):
            raise FileFormatError(f"{label} has a malformed header entry for tensor {name!r}") from None
        if stop - begin != nbytes:
            raise FileFormatError(f"{label}: tensor {name!r} has {stop - begin} bytes of data, "
                                  f"its dtype and shape need {nbytes}")
        end = max(end, stop)
    available = size - 8 - length
    if available < end:
        raise FileFormatError(f"{label} is truncated: its header lists {end} bytes of tensor data, "
                              f"the file holds {available}")
    return header


def _foreign_kind(start: bytes) -> str:
    """A hint naming the format a file's first bytes suggest (never acted upon)."""
    if start.startswith(b"\x93NUMPY"):
        return " (it looks like a NumPy .npy file; lamina never unpickles)"
    if start.startswith(b"PK\x03\x04"):
        return " (it looks like a zip archive, e.g. from torch.save; lamina never unpickles)"
    if start[:1] == b"\x80" and start[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return " (it looks like a Python pickle; lamina never unpickles)"
    return ""
