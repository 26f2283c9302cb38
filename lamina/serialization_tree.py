"""How :func:`lamina.save` lays out an object: a JSON tree plus a ``{name: array}`` dict.

An object to save (tensors, arrays, numbers, strings, bools, None, and dicts, lists and
tuples of them) is turned into two parts: every tensor becomes a named array (a flat
``{name: tensor}`` state dict keeps its names, nested ones get dotted paths such as
``'state.0.exp_avg'``), and the structure around them becomes a tree of JSON nodes that name
those arrays. :class:`_Encoder` builds the two parts, :func:`_decode` rebuilds the object
from the tree and the loaded tensors. Modules and optimisers are refused here with a message
that points to their ``state_dict()``.
"""
from __future__ import annotations

import sys

import numpy as np

from .autograd.tensor import Tensor
from .backend import get_array_module, to_host
from .errors import FileFormatError, LaminaTypeError


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

