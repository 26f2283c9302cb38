"""Saving and loading tensors and checkpoints in the safetensors format.

``lm.save(obj, f)`` writes a state dict, or any nesting of dicts, lists and tuples of
tensors, NumPy arrays, numbers, strings, bools and None (an optimiser's state dict, an RNG
state, an epoch counter), as one safetensors file:

* every tensor is a safetensors tensor; a flat ``{name: tensor}`` state dict keeps its
  names exactly (``'conv1.weight'``), nested ones get dotted paths (``'state.0.exp_avg'``),
  so the file opens in PyTorch with ``safetensors.torch.load_file``;
* the structure and the non-tensor values are JSON in the file's metadata, under the key
  ``'__lamina__'``.

``f`` is a path or a binary file object (``open(p, 'wb')``, ``io.BytesIO()``), as for
``torch.save``; ``lm.load(f)`` reads either back, and accepts ``torch.load``'s
``map_location`` and ``weights_only`` keywords. A module or an optimiser is saved through its
``state_dict()``, never itself.

``lm.load(path)`` rebuilds the object with lamina Tensors (dtypes kept). A safetensors
file from elsewhere (e.g. ``safetensors.torch.save_file``) loads as a flat dict of
Tensors. Loading never executes code: there is no pickle anywhere, and anything that is
not a well-formed safetensors file (a truncated file, a ``.npy``, a pickle, a
``torch.save`` archive) raises :class:`~lamina.errors.FileFormatError`.

Writes to a path are atomic: the bytes go to a temporary file in the target's directory, which is
flushed, fsync'ed and then renamed over ``path``, so a crash never leaves a half-written
checkpoint behind.

``.pth`` and ``.pt`` paths are PyTorch's names, and a file under them is expected to open with
``torch.load``. So when PyTorch is installed, ``lm.save(obj, 'x.pth')`` hands the same object,
its tensors as torch tensors, to ``torch.save``: the file is PyTorch's own and opens with
``torch.load('x.pth', weights_only=True)``; ``lm.load`` reads such a file (and any
``torch.save`` file of tensors and plain values) through ``torch.load(weights_only=True)``,
PyTorch's loader that refuses anything but tensors and plain containers. Without PyTorch, a
``.pth``/``.pt`` path gets the safetensors format, with a warning saying so.

>>> lm.save({'model': model.state_dict(), 'optim': opt.state_dict(), 'epoch': 3}, 'ckpt.safetensors')
>>> ckpt = lm.load('ckpt.safetensors')
"""
from __future__ import annotations

import io
import json
import os
import struct
import sys
import warnings
from typing import Any

import numpy as np

from .atomic import atomic_write_bytes
from .autograd.tensor import Tensor
from .backend import check_device, device, get_array_module, to_device, to_host
from .errors import FileFormatError, LaminaTypeError

__all__ = ["save", "load"]

_META_KEY = "__lamina__"
_FORMAT_VERSION = 1
_MAX_HEADER = 100 * 1024 * 1024  # the safetensors reference limit on the JSON header
_TORCH_SUFFIXES = (".pth", ".pt")
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's archives are zip files
_DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2,
                "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}


# ---------------------------------------------------------------------- encoding
class _Encoder:
    """Turns an object into a JSON-able tree plus a ``{name: array}`` dict of its tensors.

    Tree nodes: JSON scalars stand for themselves; ``{"tensor": name}``, ``{"dict":
    [[key, node], ...]}`` (pairs keep int keys ints), ``{"list": [...]}``, ``{"tuple": [...]}``.
    """

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _name(self, path: tuple) -> str:
        base = ".".join(str(part) for part in path) or "tensor"
        name, n = base, 1
        while name in self.arrays or name == "__metadata__":
            name, n = f"{base}#{n}", n + 1
        return name

    def encode(self, obj, path: tuple = ()):
        if isinstance(obj, Tensor):
            obj = obj._data
        if not isinstance(obj, np.ndarray) and hasattr(obj, "shape") and get_array_module(obj) is not np:
            obj = to_host(obj)   # files are device-independent: device arrays are written from the host
        if isinstance(obj, np.ndarray):
            return {"tensor": self._add(obj, path)}
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, dict):
            pairs = []
            for key, value in obj.items():
                if isinstance(key, np.generic):
                    key = key.item()
                if not (key is None or isinstance(key, (str, int, float, bool))):
                    raise LaminaTypeError(f"lm.save: dict keys must be str, int, float, bool or None; "
                                          f"got {type(key).__name__} at {self._where(path)}")
                pairs.append([key, self.encode(value, path + (key,))])
            return {"dict": pairs}
        if isinstance(obj, (list, tuple)):
            items = [self.encode(value, path + (i,)) for i, value in enumerate(obj)]
            return {"tuple": items} if isinstance(obj, tuple) else {"list": items}
        owner = _state_dict_owner(obj)
        if owner is not None:
            raise LaminaTypeError(
                f"lm.save cannot store the {owner} {type(obj).__name__} itself (at "
                f"{self._where(path)}): lamina files hold no code; save its state_dict() instead, "
                "e.g. lm.save(model.state_dict(), f), and restore it with load_state_dict()")
        raise LaminaTypeError(
            f"lm.save cannot store a {type(obj).__name__} (at {self._where(path)}); expected tensors, "
            "arrays, numbers, strings, bools, None, and dicts, lists or tuples of them")

    def _add(self, array, path: tuple) -> str:
        if array.dtype.kind not in "biuf":
            raise LaminaTypeError(f"lm.save: cannot store an array of dtype {array.dtype} "
                                  f"(at {self._where(path)})")
        if array.dtype.byteorder == ">":
            array = array.astype(array.dtype.newbyteorder("<"))
        name = self._name(path)
        # not np.ascontiguousarray: it turns 0-d arrays into 1-d ones
        self.arrays[name] = array if array.flags.c_contiguous else array.copy(order="C")
        return name

    @staticmethod
    def _where(path: tuple) -> str:
        return "the top level" if not path else "key " + ".".join(str(part) for part in path)


def _decode(node, tensors: dict[str, Tensor]):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, dict) and len(node) == 1:
        (kind, value), = node.items()
        if kind == "tensor" and isinstance(value, str):
            if value not in tensors:
                raise FileFormatError(f"the file's structure refers to a tensor {value!r} it does not contain")
            return tensors[value]
        if kind == "dict" and isinstance(value, list):
            result = {}
            for pair in value:
                if not isinstance(pair, list) or len(pair) != 2 or isinstance(pair[0], (list, dict)):
                    raise FileFormatError(f"malformed dict entry in the file's structure: {pair!r}")
                result[pair[0]] = _decode(pair[1], tensors)
            return result
        if kind in ("list", "tuple") and isinstance(value, list):
            items = [_decode(item, tensors) for item in value]
            return tuple(items) if kind == "tuple" else items
    raise FileFormatError(f"malformed node in the file's structure: {str(node)[:80]}")


# ---------------------------------------------------------------------- save
def _state_dict_owner(obj) -> str | None:
    """What kind of object ``obj`` is if it should be saved through its ``state_dict()``
    (a module, an optimiser, a scheduler), else None. Checked without importing lamina.nn."""
    if not callable(getattr(obj, "state_dict", None)):
        return None
    module = sys.modules.get("lamina.nn.module")
    if module is not None and isinstance(obj, module.Module):
        return "nn.Module"
    optimizer = sys.modules.get("lamina.optim.optimizer")
    if optimizer is not None and isinstance(obj, optimizer.Optimizer):
        return "optimizer"
    return "object with a state_dict()"


def _is_path(f) -> bool:
    return isinstance(f, (str, os.PathLike))


def _describe(f) -> str:
    """How messages name the destination or source: the path, or the file object's name."""
    if _is_path(f):
        return f"'{os.fspath(f)}'"
    name = getattr(f, "name", None)
    return f"the file object '{name}'" if isinstance(name, str) else "the file object"


def save(obj: Any, f, pickle_module=None, pickle_protocol=None,
         _use_new_zipfile_serialization: bool = True) -> None:
    """Write ``obj`` (tensors, arrays, numbers, strings and containers of them) to ``f``.

    ``f`` is a path (str or ``os.PathLike``) or a binary file object with ``write`` (an open
    file, ``io.BytesIO()``), as for ``torch.save``. The file is a standard safetensors file
    (see the module docstring), except at a ``.pth`` or ``.pt`` path with PyTorch installed,
    where ``torch.save`` writes PyTorch's format (readable with ``torch.load(...,
    weights_only=True)``). Writing to a path is atomic, so an existing file there is
    replaced only once the new one is complete. A module or optimiser is not stored itself:
    save its ``state_dict()``. ``pickle_module`` and the other pickle settings of
    ``torch.save`` are accepted and unused: lamina itself never pickles.
    """
    from safetensors.numpy import save as serialize  # optional at import time

    if not _is_path(f) and not callable(getattr(f, "write", None)):
        raise LaminaTypeError(f"lm.save: f must be a path (str or os.PathLike) or a binary file "
                              f"object with write(), got {type(f).__name__}")
    encoder = _Encoder()
    tree = encoder.encode(obj)
    if _is_path(f) and os.fsdecode(f).lower().endswith(_TORCH_SUFFIXES):
        torch = _real_torch()
        if torch is not None:
            atomic_write_bytes(os.fspath(f), _torch_bytes(tree, encoder.arrays, torch))
            return
        warnings.warn(f"lm.save: {_describe(f)} is written in the safetensors format, as PyTorch "
                      "is not installed to write its own .pth format; torch.load cannot read "
                      "it (lm.load and safetensors.torch.load_file can): name it .safetensors",
                      UserWarning, stacklevel=2)
    metadata = {_META_KEY: json.dumps({"version": _FORMAT_VERSION, "tree": tree},
                                      separators=(",", ":"))}
    try:
        data = serialize(encoder.arrays, metadata=metadata)
    except Exception as exc:  # safetensors' own error type: report it as lamina's
        raise LaminaTypeError(f"lm.save: safetensors could not serialise the tensors: {exc}") from exc
    if _is_path(f):
        atomic_write_bytes(os.fspath(f), data)
        return
    try:
        f.write(data)
    except TypeError:
        raise LaminaTypeError(f"lm.save: {_describe(f)} does not accept bytes; open it in binary "
                              "mode ('wb')") from None


def _real_torch():
    """PyTorch's module when it is installed, else None; also None where ``import torch``
    gives lamina itself (a program run with lamina standing in for torch)."""
    try:
        import torch
    except ImportError:
        return None
    if torch is sys.modules.get(__package__) or not hasattr(torch, "_C"):
        return None
    return torch


def _torch_bytes(tree, arrays: dict, torch) -> bytes:
    """``torch.save``'s bytes for the object that ``tree`` describes, its arrays as torch
    tensors (copies: torch.save then owns what it writes)."""
    try:
        tensors = {name: torch.from_numpy(np.array(array, copy=True))
                   for name, array in arrays.items()}
    except TypeError as exc:
        raise LaminaTypeError(f"lm.save: PyTorch cannot hold one of the arrays: {exc}") from None
    buffer = io.BytesIO()
    torch.save(_decode(tree, tensors), buffer)
    return buffer.getvalue()


def _from_torch(obj, torch, label: str, path: tuple = ()):
    """What ``torch.load`` gave, with lamina Tensors in place of torch tensors (bfloat16
    widened exactly to float32, as NumPy has no bfloat16)."""
    if isinstance(obj, torch.Tensor):
        tensor = obj.detach().cpu()
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()
        try:
            array = np.array(tensor.numpy(), copy=True)
        except (TypeError, RuntimeError) as exc:
            raise FileFormatError(f"{label}: the tensor at {_Encoder._where(path)} cannot be "
                                  f"read into NumPy ({exc})") from None
        if array.dtype.kind not in "biuf":
            raise FileFormatError(f"{label}: the tensor at {_Encoder._where(path)} has dtype "
                                  f"{array.dtype}, which lamina cannot represent")
        return Tensor._wrap(array)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        return {k: _from_torch(v, torch, label, path + (k,)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):  # torch.Size is a tuple
        items = [_from_torch(v, torch, label, path + (i,)) for i, v in enumerate(obj)]
        return items if isinstance(obj, list) else tuple(items)
    raise FileFormatError(f"{label} holds a {type(obj).__name__} at {_Encoder._where(path)}; "
                          "lamina loads tensors, numbers, strings, bools, None, and dicts, lists "
                          "and tuples of them")


def _load_torch_file(source, label: str):
    """A zip archive (what ``torch.save`` writes), read by ``torch.load(weights_only=True)``."""
    torch = _real_torch()
    if torch is None:
        raise FileFormatError(f"{label} is a zip archive, as torch.save writes; reading it needs "
                              "PyTorch (pip install torch), which lamina then asks to load it with "
                              "weights_only=True; lamina itself never unpickles")
    try:
        obj = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch's errors for a foreign zip or a refused object
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileFormatError(f"{label}: torch.load(weights_only=True) cannot read it: "
                              f"{first}") from None
    return _from_torch(obj, torch, label)


# ---------------------------------------------------------------------- load
def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args) -> Any:
    """Read a file written by :func:`save` (or any safetensors file) back as lamina Tensors.

    ``f`` is a path or a binary file object with ``read`` (read from its current position),
    as for ``torch.load``. ``map_location`` may be None, 'cpu', a :class:`lamina.device`, a
    dict of location names or a function as in PyTorch. Files are device-independent (tensors
    are written from the host): they load on the CPU unless ``map_location`` names a device
    ('cuda', or ``{'cpu': 'cuda:0'}``); a device this machine does not have raises. ``weights_only``
    (and ``mmap``, ``pickle_module``) are accepted: lamina files hold only tensors and plain
    values, and lamina never unpickles or executes anything. A ``torch.save`` file (a zip
    archive) is read, when PyTorch is installed, by ``torch.load(..., weights_only=True)``,
    whatever ``weights_only`` says, and its torch tensors become lamina Tensors.

    Raises FileNotFoundError for a missing file and :class:`FileFormatError` for anything
    that is not a complete safetensors file or a weights-only PyTorch file.
    """
    target = _check_map_location(map_location)
    label = _describe(f)
    if _is_path(f):
        path = os.fspath(f)
        try:
            with open(path, "rb") as stream:
                torch_file = stream.read(4) == _ZIP_MAGIC
                stream.seek(0)
                header = None if torch_file else _read_header(
                    stream, os.fstat(stream.fileno()).st_size, label)
        except FileNotFoundError:
            raise FileNotFoundError(f"lm.load: no such file: '{path}'") from None
        if header is None:
            return _load_torch_file(path, label)
        arrays = _deserialize(path, label, header)
    else:
        if not callable(getattr(f, "read", None)):
            raise LaminaTypeError(f"lm.load: f must be a path (str or os.PathLike) or a binary "
                                  f"file object with read(), got {type(f).__name__}")
        data = f.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise LaminaTypeError(f"lm.load: {label} gave {type(data).__name__}, not bytes; open "
                                  "it in binary mode ('rb')")
        data = bytes(data)
        if data.startswith(_ZIP_MAGIC):
            return _load_torch_file(io.BytesIO(data), label)
        header = _read_header(io.BytesIO(data), len(data), label)
        arrays = _deserialize(data, label, header)
    if target is not None and target.type != "cpu":
        arrays = {name: to_device(array, target) for name, array in arrays.items()}
    tensors = {name: Tensor._wrap(array if not isinstance(array, np.ndarray) or array.flags.writeable
                                  else array.copy())
               for name, array in arrays.items()}
    metadata = header.get("__metadata__") or {}
    encoded = metadata.get(_META_KEY) if isinstance(metadata, dict) else None
    if encoded is None:  # a foreign safetensors file: its tensors, in file order
        return {name: tensors[name] for name in header if name != "__metadata__"}
    try:
        document = json.loads(encoded)
        tree = document["tree"]
    except (ValueError, TypeError, KeyError, RecursionError):
        raise FileFormatError(f"{label} has a corrupted '{_META_KEY}' structure entry") from None
    try:
        return _decode(tree, tensors)
    except FileFormatError as exc:
        raise FileFormatError(f"{label}: {exc}") from None
    except RecursionError:
        raise FileFormatError(f"{label}: the file's structure is nested too deeply") from None


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


def _check_map_location(map_location) -> device | None:
    """Accept PyTorch's forms of ``map_location`` (any device named must exist here) and return
    the device the tensors go to: lamina's files are written from the host, so their tensors'
    location is 'cpu'; a device (or string) maps all of them, a dict maps 'cpu', and None or
    a function leaves them on the CPU."""
    if map_location is None or callable(map_location):
        return None
    targets = map_location.values() if isinstance(map_location, dict) else (map_location,)
    for target in targets:
        if not isinstance(target, (str, int, device)):
            raise LaminaTypeError(f"lm.load: map_location must be None, a device, a string, a dict "
                                  f"or a function, got {type(target).__name__}")
        check_device(target)
    if isinstance(map_location, dict):
        chosen = map_location.get("cpu")
        return None if chosen is None else check_device(chosen)
    return check_device(map_location)


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
