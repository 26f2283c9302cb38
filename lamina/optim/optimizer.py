"""The optimiser base class: parameter groups, per-parameter state, checkpoints.

Every optimiser of the lectures is an instance of the update

    w^{(k+1)} = w^{(k)} - alpha^{(k)} d^{(k)}                          (u.1)

applied, as in back-propagation, to each parameter tensor W_j separately (u.2): the
subclasses differ only in how they build the direction d^{(k)} from the gradients seen so
far and what they remember between steps (their *state*).

The semantics are PyTorch's: ``param_groups`` is a list of dicts, each with its own
``'params'`` and hyper-parameters (so that, e.g., biases get no weight decay), and
``state_dict()``/``load_state_dict()`` save and restore everything needed to resume
training bit for bit. The state is keyed by the parameter's *index* in the order of
``param_groups`` (never by ``id()`` or through a set, whose order changes between runs),
which is also the numbering a state dict uses.
"""
from __future__ import annotations

import abc
import copy
import math
import numbers
from typing import Any, Callable, Iterable

import numpy as np

from ..autograd import Tensor, enable_grad, no_grad
from ..autograd.observers import replayed
from ..backend import device_of, get_array_module, to_device
from ..errors import LaminaTypeError, LaminaValueError, ShapeError

__all__ = ["Optimizer", "check_hyperparameter"]


def check_hyperparameter(name: str, value, low: float = 0.0, high: float | None = None,
                         high_inclusive: bool = False) -> None:
    """Raise unless ``low <= value < high`` (``<= high`` with ``high_inclusive``).

    ``value`` must be a real number (a Python or NumPy scalar, not a bool); NaN is
    always rejected. The message names the hyper-parameter, the value and the range.
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise LaminaTypeError(f"{name} must be a real number, got {value!r}")
    if high is None:
        ok = value >= low
        expected = f">= {low}"
    elif high_inclusive:
        ok = low <= value <= high
        expected = f"in [{low}, {high}]"
    else:
        ok = low <= value < high
        expected = f"in [{low}, {high})"
    if not ok or math.isnan(value):
        raise LaminaValueError(f"invalid {name}: {value!r} (expected a value {expected})")


def _is_array(value) -> bool:
    """Whether ``value`` is a host (NumPy) or device array."""
    return isinstance(value, np.ndarray) or get_array_module(value) is not np


def _copy_to(value, dtype, like):
    """A fresh copy of array ``value`` in ``dtype`` on the device of array ``like``."""
    target = device_of(like)
    if device_of(value) == target:
        return get_array_module(value).array(value, dtype=dtype, copy=True)
    return to_device(value, target).astype(dtype, copy=False)   # the move made a copy


class Optimizer(abc.ABC):
    """Base class of every optimiser: holds ``param_groups`` and ``state``.

    ``params`` is an iterable of Tensors (leaves, usually with ``requires_grad=True``) or
    of dicts ``{'params': [...], 'lr': ..., ...}``; a dict's missing hyper-parameters take
    the values in ``defaults``. Subclasses implement :meth:`_step_group`, the update of one
    group on raw arrays.

    >>> opt = lm.optim.SGD([{'params': [w]}, {'params': [b], 'weight_decay': 0.0}],
    ...                    lr=0.1, weight_decay=1e-4)
    """

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        # lamina.compile replays an optimiser's step and zero_grad as whole calls (they
        # change arrays in place, outside operations): mark every override as such.
        for name in ("step", "zero_grad"):
            if name in cls.__dict__:
                setattr(cls, name, replayed(cls.__dict__[name]))

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: dict[int, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, (Tensor, dict)):
            raise LaminaTypeError(
                f"params should be an iterable of Tensors or of dicts, got a {type(params).__name__}; "
                "wrap it in a list")
        if isinstance(params, (set, frozenset)):
            raise LaminaTypeError("params must be an ordered collection (a list), not a set: "
                                  "a set's order changes between runs")
        try:
            params = list(params)
        except TypeError:
            raise LaminaTypeError(f"params should be an iterable of Tensors or of dicts, "
                                  f"got {type(params).__name__}") from None
        if not params:
            raise LaminaValueError("optimizer got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)
        if not any(group["params"] for group in self.param_groups):
            raise LaminaValueError("optimizer got an empty parameter list (every group is empty)")

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Append a group (a dict with ``'params'``); missing settings come from ``defaults``.

        Useful to start training new layers (e.g. when fine-tuning) with their own rate. A
        parameter may belong to one group only, and appear in it once.
        """
        if not isinstance(param_group, dict):
            raise LaminaTypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise LaminaValueError("a parameter group needs a 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise LaminaTypeError("a group's params must be an ordered collection (a list), not a set")
        else:
            params = list(params)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        for p in params:
            if not isinstance(p, Tensor):
                raise LaminaTypeError(f"an optimizer can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise LaminaValueError("an optimizer cannot optimize a non-leaf tensor "
                                       "(one computed by an operation); optimize its leaves")
            if not p.is_floating_point():
                raise LaminaTypeError(f"an optimizer can only optimize floating-point tensors, got {p.dtype}")
            if id(p) in seen:
                raise LaminaValueError(
                    f"a parameter of shape {p.shape} appears twice in the optimizer's groups; "
                    "each parameter may be listed once")
            seen.add(id(p))
        group = {key: value for key, value in param_group.items() if key != "params"}
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        group["params"] = params
        self._validate_group(group)
        self.param_groups.append(group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Check a group's hyper-parameters (subclasses extend this); raise on bad values."""
        check_hyperparameter("learning rate", group["lr"])

    # ------------------------------------------------------------------ stepping
    @replayed
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every parameter before the next backward pass.

        With ``set_to_none=True`` (the default, cheapest) ``p.grad`` becomes None. With
        ``False`` the gradient tensor is kept (whoever holds it sees zeros) but it gets a
        fresh zero array: gradient arrays may be shared between tensors, so the old array
        is never written to.
        """
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    grad._data = get_array_module(grad._data).zeros_like(grad._data)
                    grad._version += 1

    @replayed
    def step(self, closure: Callable[[], Any] | None = None):
        """Do one update of every parameter that has a gradient; return ``closure()``'s loss.

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs with
        gradient recording on, before the update. Parameters whose ``grad`` is None are
        skipped.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            first = 0
            for group in self.param_groups:
                self._step_group(group, first)
                first += len(group["params"])
        return loss

    def _updates(self, group: dict[str, Any], first: int, new_state: Callable,
                 coupled_decay: bool = True):
        """The parameters of ``group`` that have a gradient, as ``(w, g, entry)``.

        ``w`` is the parameter's array, to be updated in place by the caller; ``g`` its
        gradient, negated when maximising and plus ``weight_decay * w`` (L2) when
        ``coupled_decay``, always without writing into the gradient array (it may be shared);
        ``entry`` the parameter's state dict, made by ``new_state(w)`` on first use (with
        ``w``'s array module, so the state lives on the parameter's device), with its
        ``step`` count advanced. The parameter's version is bumped after the caller's update.
        """
        maximize = group["maximize"]
        weight_decay = float(group["weight_decay"]) if coupled_decay else 0.0
        state = self.state
        for index, p in enumerate(group["params"], first):
            grad = p.grad
            if grad is None:
                continue
            w = p._data
            g = -grad._data if maximize else grad._data
            entry = state.get(index)
            if entry is None:
                entry = state[index] = new_state(w)
            entry["step"] += 1
            if weight_decay != 0:
                g = g + weight_decay * w
            yield w, g, entry
            p._vc[0] += 1  # p._version += 1 (step runs unobserved: see replayed)

    @abc.abstractmethod
    def _step_group(self, group: dict[str, Any], first: int) -> None:
        """Update the parameters of ``group`` in place; the first one has state index ``first``.

        Implementations work on raw arrays: they change ``p._data`` in place (and bump
        ``p._version``), keep state arrays in the parameter's dtype, and never write into
        ``p.grad._data``.
        """

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The optimiser's state as ``{'state': {index: {...}}, 'param_groups': [...]}``.

        As in PyTorch, each group lists its parameters by index (0, 1, ... across the
        groups in order) and ``state`` maps those indices to the per-parameter buffers
        (Tensors, copies of the live arrays, so later steps do not change a saved dict) and
        counters. The dict can be written with ``lm.save``. Buffers stay on the device
        that holds them (a GPU model's state dict holds GPU tensors, as in PyTorch).
        """
        groups = []
        first = 0
        for group in self.param_groups:
            packed = {key: copy.deepcopy(value) for key, value in group.items() if key != "params"}
            packed["params"] = list(range(first, first + len(group["params"])))
            first += len(group["params"])
            groups.append(packed)
        state = {}
        for index in sorted(self.state):
            state[index] = {key: Tensor._wrap(value.copy()) if _is_array(value)
                            else copy.deepcopy(value)
                            for key, value in self.state[index].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (copying its arrays) so training resumes exactly.

        The groups must have the same sizes as this optimiser's; the saved hyper-parameters
        replace the current ones, floating state arrays take their parameter's dtype and
        move to its device (a checkpoint from a GPU resumes on the CPU and vice versa).
        """
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise LaminaValueError("an optimizer state dict needs the keys 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise LaminaValueError(
                f"the state dict has {len(saved_groups)} parameter groups, this optimizer has "
                f"{len(self.param_groups)}")
        position = {}
        params = []
        for number, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise LaminaValueError(
                    f"parameter group {number} has {len(saved['params'])} parameters in the state "
                    f"dict but {len(group['params'])} in this optimizer")
            for saved_index, p in zip(saved["params"], group["params"]):
                position[int(saved_index)] = len(params)
                params.append(p)
        state = {}
        for saved_index, entries in state_dict["state"].items():
            try:
                index = position[int(saved_index)]
            except (KeyError, ValueError):
                raise LaminaValueError(f"the state dict has state for parameter {saved_index!r}, "
                                       "which none of its groups lists") from None
            p = params[index]
            state[index] = {key: self._restore_value(key, value, p) for key, value in entries.items()}
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {key: copy.deepcopy(value) for key, value in saved.items() if key != "params"}
            for key, value in self.defaults.items():
                new.setdefault(key, value)
            new["params"] = group["params"]
            self._validate_group(new)
            new_groups.append(new)
        self.param_groups = new_groups
        self.state = state

    @staticmethod
    def _restore_value(key: str, value, p: Tensor):
        """A state entry as the optimiser keeps it: arrays copied, in the parameter's dtype,
        on the parameter's device."""
        if isinstance(value, Tensor):
            value = value._data
        elif type(value).__module__.startswith("torch"):
            value = value.detach().cpu().numpy()
        if isinstance(value, np.generic) or _is_array(value):
            if key == "step" or value.ndim == 0:
                value = value.item()
                # PyTorch keeps the step count as a float tensor; lamina counts in ints
                return int(value) if key == "step" and float(value).is_integer() else value
            if value.shape != p.shape:
                raise ShapeError(f"state '{key}' has shape {value.shape}, but its parameter has "
                                 f"shape {p.shape}")
            dtype = p.dtype if value.dtype.kind == "f" else value.dtype
            return _copy_to(value, dtype, p._data)
        return copy.deepcopy(value)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
