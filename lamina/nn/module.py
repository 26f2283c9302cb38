"""``Module``: the building block of networks, with PyTorch's API (its weights are
:class:`Parameter` objects, defined in :mod:`lamina.nn.parameter` and re-exported here).

A network is a composition of layers, ``F(w, x) = f_L(w_L, f_{L-1}(... f_1(w_1, x)))``
(Schwing & Telgarsky, Deep Neural Networks). A :class:`Module` holds the weights ``w_l`` of one such piece as
:class:`Parameter` objects and composes sub-modules; assigning an attribute registers it,
in definition order, so ``parameters()`` and ``state_dict()`` always list the weights in
the same order (never keyed by ``id()`` or kept in a set) and optimiser state and
checkpoints line up between runs, and with PyTorch::

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 100)     # registered as 'fc1'
            self.fc2 = nn.Linear(100, 10)
        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x)))

    Net().state_dict().keys()  # fc1.weight, fc1.bias, fc2.weight, fc2.bias

The class is the public face; the machinery behind three of its parts has a module of its
own: :mod:`lamina.nn.module_state` (``state_dict``, ``load_state_dict``),
:mod:`lamina.nn.module_conversion` (``to``, ``cuda``, ``cpu``, ``float``, ``double``) and
:mod:`lamina.nn.module_repr` (the printed form).
"""
from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Callable, Iterator

import numpy as np

from ..backend import get_array_module
from ..autograd.observers import _local as _observed
from ..autograd.tensor import Tensor
from ..errors import LaminaError, LaminaTypeError, LaminaValueError
from .module_conversion import convert_module, to_arguments
from .module_repr import module_repr
from .module_state import _IncompatibleKeys, gather_state, load_state
from .parameter import Parameter, RemovableHandle

__all__ = ["Parameter", "Module", "ModuleAttributeError", "is_buffer"]

# Every tensor registered as some module's buffer, by id (weakly): lamina.compile replays a
# step that reads buffers, reading them afresh each time, and refuses one that reads a tensor
# it cannot account for.
_BUFFERS: "weakref.WeakValueDictionary[int, Tensor]" = weakref.WeakValueDictionary()


def is_buffer(tensor: Tensor) -> bool:
    """Whether ``tensor`` is registered as a buffer of some Module."""
    return _BUFFERS.get(id(tensor)) is tensor


class ModuleAttributeError(LaminaError, AttributeError):
    """A name that is not an attribute, parameter, buffer or sub-module of a module.

    It is an ``AttributeError``, so ``hasattr`` and ``getattr(m, name, default)`` work."""


class Module:
    """Base class of every layer and network.

    Subclasses call ``super().__init__()`` first, assign Parameters, sub-modules and buffers
    as attributes, and define ``forward``; calling the module runs ``forward``.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    # ----------------------------------------------------------------- calling
    def forward(self, *args, **kwargs):
        """The computation of this module; every subclass defines it."""
        raise LaminaTypeError(f"module {type(self).__name__} has no forward(); define "
                              "forward(self, ...) in the subclass")

    def __call__(self, *args, **kwargs):
        if _observed.observer is not None:  # lamina.compile checks the mode it recorded
            _observed.observer.module(self)
        if not self._forward_hooks:
            return self.forward(*args, **kwargs)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """Run ``hook(module, args, output)`` after ``forward``; a non-None result replaces
        the output (e.g. to record activations for visualisation)."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # ----------------------------------------------------------------- registration
    def _check_name(self, name, kind: str) -> None:
        if "_parameters" not in self.__dict__:
            raise LaminaTypeError(f"cannot assign {kind} before Module.__init__() call; "
                                  "call super().__init__() first")
        if not isinstance(name, str):
            raise LaminaTypeError(f"{kind} name must be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise LaminaValueError(f"{kind} name must be non-empty and contain no '.', got {name!r}")

    def _register(self, store: str, name: str, value, kind: str, allowed: type,
                  by_assignment: bool = False) -> None:
        self._check_name(name, kind)
        registry = self.__dict__[store]
        # The register_* methods refuse to hide an attribute; plain assignment replaces it.
        if not by_assignment and name not in registry and hasattr(self, name):
            raise LaminaValueError(f"attribute {name!r} already exists on {type(self).__name__}")
        if value is not None and not isinstance(value, allowed):
            raise LaminaTypeError(f"cannot assign {type(value).__name__} as {kind} {name!r} "
                                  f"({allowed.__name__} or None expected)")
        registry[name] = value
        if store == "_buffers" and value is not None:
            _BUFFERS[id(value)] = value

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` (a Parameter, or None for an absent one such as ``bias=False``)."""
        self._register("_parameters", name, param, "parameter", Parameter)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a weight (running means, counters); a
        persistent buffer is part of ``state_dict``."""
        self._register("_buffers", name, tensor, "buffer", Tensor)
        (self._non_persistent_buffers_set.discard if persistent
         else self._non_persistent_buffers_set.add)(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Add a sub-module (``self.name = module`` does the same)."""
        self._register("_modules", name, module, "module", Module)

    register_module = add_module

    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        if "_parameters" not in d:
            if isinstance(value, (Parameter, Module)):
                self._check_name(name, "parameter" if isinstance(value, Parameter) else "module")
            object.__setattr__(self, name, value)
            return
        if isinstance(value, (Parameter, Module)):
            store = "_parameters" if isinstance(value, Parameter) else "_modules"
            # Leave the name in its own registry, so re-assigning keeps its position.
            for other in (d, d["_parameters"], d["_buffers"], d["_modules"]):
                if other is not d[store]:
                    other.pop(name, None)
            d["_non_persistent_buffers_set"].discard(name)
            self._register(store, name, value, store[1:-1],
                           Parameter if store == "_parameters" else Module, by_assignment=True)
            return
        for store, allowed in (("_parameters", Parameter), ("_modules", Module), ("_buffers", Tensor)):
            if name in d[store]:
                self._register(store, name, value, store[1:-1], allowed, by_assignment=True)
                return
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # Only called when normal lookup fails: look in the registries.
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            registry = d.get(store)
            if registry is not None and name in registry:
                return registry[name]
        raise ModuleAttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    # ----------------------------------------------------------------- traversal
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """This module and all below it, depth first in registration order, each once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, prefix + ("." if prefix else "") + name,
                                                remove_duplicate)

    def modules(self) -> Iterator["Module"]:
        """This module and every module below it, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """(name, module) for the direct sub-modules, in registration order."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self) -> Iterator["Module"]:
        """The direct sub-modules, in registration order."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True):
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        seen = set()  # identity of tensors already yielded; the order comes from the walk
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (module_prefix + ("." if module_prefix else "") + name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """('fc1.weight', Parameter) pairs in registration order (shared weights once)."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The parameters (of sub-modules too with ``recurse``), in registration order;
        what an optimiser is given."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """('bn.running_mean', Tensor) pairs in registration order."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """The buffers, in registration order."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> "Module":
        """The module at dotted path ``target`` ('' is this module)."""
        module = self
        for part in target.split(".") if target else ():
            child = module._modules.get(part)
            if not isinstance(child, Module):
                raise ModuleAttributeError(f"{module._get_name()} has no sub-module {part!r} "
                                           f"(looking up {target!r})")
            module = child
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target`` ('conv1.weight')."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._parameters:
            raise ModuleAttributeError(f"{module._get_name()} has no parameter {name!r}")
        return module._parameters[name]

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        """Call ``fn`` on every sub-module (children first) and then on this module, e.g. to
        re-initialise weights: ``net.apply(init_weights)``."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ----------------------------------------------------------------- modes and grads
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (dropout active, batch statistics) here and in all sub-modules."""
        if not isinstance(mode, bool):
            raise LaminaTypeError(f"train() expects a bool mode, got {mode!r}")
        self.training = mode
        for module in self.children():  # through train(), which a sub-module may override
            module.train(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Turn gradient recording of every parameter on or off (freezing layers)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradients: ``None`` (default) or fresh zero arrays (never
        zeroed in place: a gradient array may be shared with another tensor)."""
        for p in self.parameters():
            if p.grad is not None:
                p.grad = None if set_to_none else Tensor._wrap(
                    get_array_module(p.grad._data).zeros_like(p.grad._data))

    def num_parameters(self, trainable_only: bool = False) -> int:
        """How many numbers the parameters hold (only those requiring grad if asked)."""
        return sum(p.numel() for p in self.parameters()
                   if p.requires_grad or not trainable_only)

    # ----------------------------------------------------------------- dtype and device
    def _move(self, device=None, dtype=None) -> "Module":
        """Put every parameter (and its gradient) and every buffer on ``device`` and make the
        floating ones ``dtype``, in place: each Parameter object stays the same and gets the
        converted array, as after PyTorch's ``Module.to``. Integer buffers (a batch-norm
        counter) keep their dtype but move too."""
        return convert_module(self, device, dtype)

    def _convert(self, dtype) -> "Module":
        return self._move(dtype=dtype)

    def to(self, *args, dtype=None, device=None, non_blocking: bool = False) -> "Module":
        """Convert parameters (with their gradients) and buffers in place, as PyTorch's
        ``Module.to``: ``to(lm.float64)`` (floating ones only), ``to(device)`` (all of them),
        ``to(device, dtype)`` or ``to(tensor)`` (its device and dtype). The Parameter
        objects stay the same, so an optimiser made before the move still holds them.

        >>> model.to("cuda" if lm.cuda.is_available() else "cpu")
        """
        return self._move(*to_arguments(args, dtype, device))

    def cuda(self, device=None) -> "Module":
        """Move every parameter and buffer to a CUDA device (``device``: an index or a
        device; the current one, 'cuda:0', by default)."""
        return self._move("cuda" if device is None else device)

    def float(self) -> "Module":
        """Parameters and floating buffers to float32."""
        return self._convert(np.float32)

    def double(self) -> "Module":
        """Parameters and floating buffers to float64 (e.g. for gradcheck)."""
        return self._convert(np.float64)

    def cpu(self) -> "Module":
        """Move every parameter and buffer to host memory."""
        return self._move("cpu")

    # ----------------------------------------------------------------- state dict
    def state_dict(self, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> "OrderedDict[str, Tensor]":
        """Parameters and persistent buffers by dotted name ('conv1.weight'), in PyTorch's
        order (a module's own parameters, then its buffers, then each child's). Values are
        detached tensors sharing memory with the module (the Parameters with keep_vars)."""
        return gather_state(self, destination, prefix, keep_vars)

    def load_state_dict(self, state_dict, strict: bool = True) -> _IncompatibleKeys:
        """Copy values (lamina Tensors, NumPy arrays, torch tensors) into the parameters and
        buffers in place. Every problem is reported at once in one ``LaminaValueError``:
        missing and unexpected keys (when ``strict``) and shape mismatches (always), and
        nothing is copied then. Returns ``(missing_keys, unexpected_keys)``."""
        return load_state(self, state_dict, strict)

    # ----------------------------------------------------------------- display
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (its hyper-parameters)."""
        return ""

    def __repr__(self) -> str:
        return module_repr(self)
