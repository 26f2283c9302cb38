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

This module holds ``save`` and ``load``; the object's layout (the JSON tree and its named
arrays) is :mod:`lamina.serialization_tree`, checking and reading safetensors bytes
:mod:`lamina.serialization_safetensors`, and PyTorch's ``.pth`` files
:mod:`lamina.serialization_torch`.

>>> lm.save({'model': model.state_dict(), 'optim': opt.state_dict(), 'epoch': 3}, 'ckpt.safetensors')
>>> ckpt = lm.load('ckpt.safetensors')
"""
from __future__ import annotations

import io
import json
import os
import warnings
from typing import Any

import numpy as np

from .atomic import atomic_write_bytes
from .autograd.tensor import Tensor
from .backend import check_device, device, to_device
from .errors import FileFormatError, LaminaTypeError
from .serialization_safetensors import _deserialize, _read_header
from .serialization_torch import (_TORCH_SUFFIXES, _ZIP_MAGIC, _load_torch_file, _real_torch,
                                  _torch_bytes)
from .serialization_tree import _decode, _Encoder

__all__ = ["save", "load"]

_META_KEY = "__lamina__"
_FORMAT_VERSION = 1


# ---------------------------------------------------------------------- save
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
            return _load_torch_file(path, label, _real_torch())
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
            return _load_torch_file(io.BytesIO(data), label, _real_torch())
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
