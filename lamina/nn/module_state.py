"""State dicts: a :class:`~lamina.nn.Module`'s weights and persistent buffers by dotted name,
and copying such a dict back into a module.

The state of a network ``F(w, x)`` is its weights ``w = (w_1, ..., w_L)`` (Schwing & Telgarsky,
Deep Neural Networks) plus the buffers that are state but not weights (a batch-norm layer's
running mean). ``Module.state_dict`` and ``Module.load_state_dict`` are the public face; this
module holds the walk and the checked copy behind them, with PyTorch's key order
('conv1.weight', then 'conv1.bias', ...: a module's own parameters, then its persistent
buffers, then each child's) and PyTorch's error messages, so checkpoints move both ways.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import get_array_module, on_device_of
from ..errors import LaminaValueError, ShapeError

__all__ = ["gather_state", "load_state"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys missing from, and unexpected in, the dict."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _as_array(value):
    """The array behind a state-dict value: a lamina Tensor, a NumPy array, or anything
    with ``.numpy()`` (a torch tensor, detached first; bfloat16, which NumPy lacks, widened
    exactly to float32) or ``__array__``."""
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        value = value.detach().cpu()
        if str(getattr(value, "dtype", "")) == "torch.bfloat16":
            value = value.float()
        return value.numpy()
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(value)


def gather_state(module, destination: dict | None, prefix: str,
                 keep_vars: bool) -> "OrderedDict[str, Tensor]":
    """Add ``module``'s entries to ``destination`` under ``prefix`` (a new OrderedDict when
    None): its parameters, its persistent buffers, then each child's entries through the
    child's own ``state_dict``, so a sub-module that overrides it is honoured."""
    if destination is None:
        destination = OrderedDict()
    for name, p in module._parameters.items():
        if p is not None:
            destination[prefix + name] = p if keep_vars else p.detach()
    for name, b in module._buffers.items():
        if b is not None and name not in module._non_persistent_buffers_set:
            destination[prefix + name] = b if keep_vars else b.detach()
    for name, child in module._modules.items():
        if child is not None:
            child.state_dict(destination, prefix + name + ".", keep_vars)
    return destination


def load_state(module, state_dict, strict: bool) -> _IncompatibleKeys:
    """Check every entry of ``state_dict`` against ``module``'s own, then copy them all in
    place (each target's version counter bumped), or raise listing every problem and copy
    nothing: a ``ShapeError`` when shape mismatches are all that is wrong, else a
    ``LaminaValueError``."""
    targets = module.state_dict(keep_vars=True)
    missing = [k for k in targets if k not in state_dict]
    unexpected = [k for k in state_dict if k not in targets]
    mismatched, copies = [], []
    for key, target in targets.items():
        if key not in state_dict:
            continue
        array = _as_array(state_dict[key])
        if array.shape != target._data.shape:
            mismatched.append(f"size mismatch for {key}: copying a param with shape "
                              f"{tuple(array.shape)} from checkpoint, the shape in current "
                              f"model is {tuple(target._data.shape)}.")
        else:
            copies.append((target, array))
    errors = []
    if strict and missing:
        errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
    if strict and unexpected:
        errors.append("Unexpected key(s) in state_dict: "
                      + ", ".join(f'"{k}"' for k in unexpected) + ".")
    errors.extend(mismatched)
    if errors:
        exc = ShapeError if mismatched and len(errors) == len(mismatched) else LaminaValueError
        raise exc(f"Error(s) in loading state_dict for {module._get_name()}:\n\t"
                  + "\n\t".join(errors))
    for target, array in copies:
        # a value from another device (a CPU checkpoint into a CUDA model) is copied over
        array = on_device_of(array, target._data)
        get_array_module(target._data).copyto(target._data, array, casting="unsafe")
        target._version += 1
    return _IncompatibleKeys(missing, unexpected)
