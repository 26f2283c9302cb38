"""PyTorch as the reference: whether it is installed, and the one helper that compares.

``torch`` here is the real module when PyTorch is installed. Without it, ``torch`` is a
stand-in: naming ``torch.exp`` or ``torch.nn.functional`` in a table or a parameter list
still works (so a module whose tests mostly need NumPy alone still imports), but *calling*
anything reached through it raises, naming the missing mark. Tests that need PyTorch carry
``@requires_torch`` (skipped, with the reason, when it is absent); everything else runs on a
NumPy-only install.

:func:`check_against_torch` runs a lamina callable and a torch callable on the same inputs
and compares what lamina and PyTorch compute: the outputs (shape, dtype, values), and the
vector-Jacobian products of a cotangent ``c`` with respect to every input that requires
grad and, given the two modules, every parameter: the gradients of sum_k <c_k, y_k>.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

import numpy as np
import pytest

import lamina as lm
from tests.samples import ramp

try:
    import torch
    import torch.nn  # noqa: F401  (torch.nn and torch.nn.functional as attributes)
    import torch.nn.functional  # noqa: F401
except ImportError:
    torch = None

HAVE_TORCH = torch is not None
requires_torch = pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch, the reference, is not installed")


class MissingTorch:
    """Stands for ``torch`` or anything reached through it when PyTorch is not installed."""

    def __init__(self, path: str = "torch"):
        self._path = path

    def __getattr__(self, name: str) -> "MissingTorch":
        if name.startswith("__"):
            raise AttributeError(name)
        return MissingTorch(f"{self._path}.{name}")

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{self._path}() was called but PyTorch is not installed: a test "
                           "that uses torch must be marked @requires_torch (tests/reference.py)")

    def __repr__(self) -> str:
        return f"<{self._path}: PyTorch is not installed>"


if torch is None:
    torch = MissingTorch()


# ------------------------------------------------------------------------- the comparison
@dataclasses.dataclass
class Side:
    """What one library computed: its return value, the output tensors (flattened), their
    values as arrays, and the gradient of each input leaf that requires grad (after the
    backward pass: zeros where none reached it; None where no backward ran)."""
    result: Any
    outputs: list
    values: list
    grads: list


@dataclasses.dataclass
class Comparison:
    lamina: Side
    torch: Side


Cotangent = "int | np.random.Generator | str | Callable | np.ndarray | Sequence[np.ndarray]"


def as_tensors(args: tuple, make: Callable, dtype=None, grad: Sequence[bool] | None = None):
    """``args`` with every NumPy array made a tensor by ``make(array, requires_grad)``, and
    the list of those tensors that require grad (the leaves), in order.

    A list or tuple whose items are all arrays (or such lists and tuples) becomes the same
    container of tensors; anything else passes unchanged. Floating arrays are cast to
    ``dtype`` (None keeps theirs) and require grad unless ``grad`` gives a flag per array."""
    leaves = []
    flags = iter(grad) if grad is not None else None

    def is_arrays(a):
        if isinstance(a, (list, tuple)) and a:
            return all(isinstance(x, np.ndarray) or is_arrays(x) for x in a)
        return False

    def one(a):
        if isinstance(a, np.generic):  # a 0-d value computed with NumPy arithmetic
            a = np.asarray(a)
        if isinstance(a, np.ndarray):
            floating = a.dtype.kind == "f"
            if floating and dtype is not None:
                a = a.astype(dtype)
            wants = next(flags) if flags is not None else floating
            t = make(a.copy(), bool(wants) and floating)
            if bool(wants) and floating:
                leaves.append(t)
            return t
        if is_arrays(a):
            return type(a)(one(x) for x in a)
        return a

    return tuple(one(a) for a in args), leaves


def _flat(value) -> list:
    """The tensors (or plain values) of a nested tuple/list result, in order."""
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in _flat(v)]
    return [value]


def _array(value) -> np.ndarray:
    if isinstance(value, lm.Tensor):
        return value.cpu().numpy()
    if hasattr(value, "detach"):  # a torch tensor
        return value.detach().numpy()
    return np.asarray(value)


def _cotangents(cotangent, shapes_dtypes) -> list:
    if isinstance(cotangent, str):
        if cotangent == "ones":
            return [np.ones(s, d) for s, d in shapes_dtypes]
        if cotangent == "ramp":
            return [ramp(s, d) for s, d in shapes_dtypes]
        raise ValueError(f"cotangent {cotangent!r}: expected 'ones', 'ramp', a seed, a Generator, "
                         "a function of (shape, dtype) or arrays")
    if callable(cotangent):
        return [np.asarray(cotangent(s, d), d) for s, d in shapes_dtypes]
    if isinstance(cotangent, np.ndarray):
        cotangent = [cotangent]
    if isinstance(cotangent, (list, tuple)):
        assert len(cotangent) == len(shapes_dtypes), \
            f"{len(cotangent)} cotangents for {len(shapes_dtypes)} differentiable outputs"
        return [np.asarray(c, d) for c, (_, d) in zip(cotangent, shapes_dtypes)]
    rng = cotangent if isinstance(cotangent, np.random.Generator) else np.random.default_rng(cotangent)
    return [rng.standard_normal(s).astype(d) for s, d in shapes_dtypes]


def _backward(library, outputs, cotangents, device=None) -> None:
    """Accumulate the vector-Jacobian products of the cotangents into the leaves' ``.grad``
    without forming sum_k <c_k, y_k> itself (which overflows where an output is infinite)."""
    grads = [library.tensor(c) if device is None else library.tensor(c, device=device)
             for c in cotangents]
    if len(outputs) == 1:
        outputs[0].backward(grads[0])
    else:
        library.autograd.backward(outputs, grads)


def check_against_torch(lm_fn: Callable, torch_fn: Callable, *args, kwargs: dict | None = None,
                        grad: Sequence[bool] | None = None, dtype=None, cotangent: Cotangent = 7,
                        modules: tuple | None = None, rtol: float = 1e-5, atol: float = 1e-6,
                        grad_rtol: float = 1e-4, grad_atol: float = 1e-4, backward: bool = True,
                        name: str = "", device=None) -> Comparison:
    """Run ``lm_fn(*args, **kwargs)`` on lamina tensors and ``torch_fn`` on torch tensors made
    from the same NumPy arrays, and assert that both libraries compute the same thing.

    * ``args``: NumPy arrays become tensors (floating ones require grad, unless ``grad`` gives
      a flag per array), lists/tuples of arrays become lists/tuples of tensors, other values
      pass unchanged. ``dtype`` casts floating arrays first (None keeps theirs).
    * Outputs (a tensor or a nested tuple/list of them) must agree in number and shape; a
      floating output also in dtype and in value (``rtol``/``atol``; 0 and 0 ask for
      equality, NaNs in the same places count as equal); any other output exactly.
    * With ``backward``, every floating output that torch tracks gets a cotangent c_k (drawn
      from the seed or Generator ``cotangent``; or ``"ones"``; ``"ramp"``, 0.5 ... 1.5 in
      row-major order; ``cotangent(shape, dtype)``; or the given arrays), and
      the gradients of sum_k <c_k, y_k> must agree (``grad_rtol``/``grad_atol``) for every input
      leaf (a missing gradient counts as zeros; a present one has its input's dtype) and, with
      ``modules=(lamina_module, torch_module)``, for every parameter (same names in the same
      order; lamina's gradient has torch's dtype, and is None or zero where torch has none).
      The modules' gradients are cleared afterwards, so the pair can be compared again.
    * ``device``: lamina's tensors (and the lamina module) are made on this device; every
      lamina output and gradient must be on it, and is compared after ``.cpu()``.

    Returns both sides (results, outputs, values and leaf gradients) for further assertions.
    """
    kwargs = kwargs or {}
    where = f"{name}: " if name else ""
    lm_args, lm_leaves = as_tensors(
        args, lambda a, rg: lm.tensor(a, requires_grad=rg, device=device), dtype, grad)
    if device is not None and modules is not None:
        modules[0].to(device)
    t_args, t_leaves = as_tensors(args, lambda a, rg: torch.tensor(a, requires_grad=rg), dtype, grad)
    lm_result, t_result = lm_fn(*lm_args, **kwargs), torch_fn(*t_args, **kwargs)
    lm_out, t_out = _flat(lm_result), _flat(t_result)
    assert len(lm_out) == len(t_out), f"{where}{len(lm_out)} outputs, torch gives {len(t_out)}"
    if device is not None:
        _check_devices(lm_out, lm.device(device), f"{where}output")
    lm_values, t_values = [_array(a) for a in lm_out], [_array(b) for b in t_out]
    for k, (a, expected) in enumerate(zip(lm_values, t_values)):
        _check_output(a, expected, rtol, atol, f"{where}output {k}")
    comparison = Comparison(Side(lm_result, lm_out, lm_values, [None] * len(lm_leaves)),
                            Side(t_result, t_out, t_values, [None] * len(t_leaves)))
    differentiated = [k for k, b in enumerate(t_out)
                      if backward and t_values[k].dtype.kind == "f" and getattr(b, "requires_grad", False)]
    if not differentiated:
        return comparison
    for k in differentiated:
        assert lm_out[k].requires_grad, f"{where}output {k} does not require grad, torch's does"
    cots = _cotangents(cotangent, [(t_values[k].shape, t_values[k].dtype) for k in differentiated])
    _backward(lm, [lm_out[k] for k in differentiated], cots, device)
    if device is not None:
        _check_devices([x.grad for x in lm_leaves], lm.device(device), f"{where}gradient")
    _backward(torch, [t_out[k] for k in differentiated], cots)
    for i, (x, y) in enumerate(zip(lm_leaves, t_leaves)):
        got = np.zeros(x.shape, x.dtype) if x.grad is None else x.grad.cpu().numpy()
        expected = np.zeros(tuple(y.shape), got.dtype) if y.grad is None else y.grad.numpy()
        assert got.dtype == x.dtype, f"{where}gradient of input {i} is {got.dtype}, the input {x.dtype}"
        np.testing.assert_allclose(got, expected, rtol=grad_rtol, atol=grad_atol,
                                   err_msg=f"{where}gradient of input {i}")
        comparison.lamina.grads[i], comparison.torch.grads[i] = got, expected
    if modules is not None:
        _check_parameter_grads(*modules, grad_rtol, grad_atol, where)
    return comparison


def _check_devices(values, expected, where) -> None:
    """Every lamina tensor among ``values`` lives on device ``expected``."""
    target = lm.backend.check_device(expected)
    for k, v in enumerate(values):
        if isinstance(v, lm.Tensor):
            assert v.device == target, f"{where} {k} is on {v.device}, expected {target}"


def _check_output(a: np.ndarray, expected: np.ndarray, rtol, atol, where) -> None:
    """Same shape; floating: same dtype and values to the tolerance; otherwise equal."""
    assert a.shape == expected.shape, f"{where} has shape {a.shape}, torch gives {expected.shape}"
    if expected.dtype.kind == "f":
        assert a.dtype == expected.dtype, f"{where} is {a.dtype}, torch gives {expected.dtype}"
        np.testing.assert_allclose(a, expected, rtol=rtol, atol=atol, err_msg=where)
    else:
        np.testing.assert_array_equal(a, expected, err_msg=where)


def _check_parameter_grads(lm_module, t_module, rtol, atol, where) -> None:
    """Parameter gradients as check_against_torch describes; then cleared on both modules."""
    lm_params, t_params = dict(lm_module.named_parameters()), dict(t_module.named_parameters())
    assert list(lm_params) == list(t_params), \
        f"{where}parameters {list(lm_params)}, torch's {list(t_params)}"
    for key, p in lm_params.items():
        expected = t_params[key].grad
        if expected is None:
            assert p.grad is None or not np.any(p.grad.cpu().numpy()), f"{where}{key} has a gradient, torch's none"
        else:
            assert p.grad is not None, f"{where}no gradient reached {key}"
            assert p.grad.device == p.device, f"{where}{key}: gradient on {p.grad.device}, the parameter on {p.device}"
            assert p.grad.cpu().numpy().dtype == expected.numpy().dtype, \
                f"{where}{key}: gradient dtype {p.grad.dtype}, torch's {expected.dtype}"
            np.testing.assert_allclose(p.grad.cpu().numpy(), expected.numpy(), rtol=rtol, atol=atol,
                                       err_msg=f"{where}gradient of {key}")
        p.grad = None
    t_module.zero_grad()
