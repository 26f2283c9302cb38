"""Finite-difference gradient checking.

For a function f and a fixed random cotangent c, the scalar L(x) = <c, f(x)> has
dL/dx_i ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps) (central differences, error O(eps^2)).
``gradcheck`` compares this with the gradient that backward computes, element by element
for small inputs and along random directions v (dL/dx . v ~ (L(x + eps v) - L(x - eps v)) / 2eps)
for large ones, in float64.
"""
from __future__ import annotations

import numpy as np

from ..errors import GraphError, LaminaTypeError
from .grad_mode import no_grad
from .tensor import Tensor

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(GraphError):
    """The analytic gradient disagrees with the finite-difference one."""


def _outputs(result):
    outs = result if isinstance(result, (tuple, list)) else (result,)
    return [o for o in outs if isinstance(o, Tensor) and o._data.dtype.kind == "f"]


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              max_elements: int = 4096, directions: int = 8, seed: int = 0) -> bool:
    """Check ``fn``'s backward against float64 central differences; True or raise.

    ``inputs`` is a Tensor or a sequence of Tensors; those with ``requires_grad`` are checked
    and must be float64. Inputs with more than ``max_elements`` elements are checked along
    ``directions`` random directions instead of element by element. On failure the error
    names the input, the element (or direction) and both values of the worst mismatch.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise LaminaTypeError(f"gradcheck needs float64 inputs, input {i} is {inputs[i].dtype}")
    rng = np.random.default_rng(seed)
    outs = _outputs(fn(*inputs))
    cotangents = [rng.standard_normal(o.shape) for o in outs]

    def objective() -> float:
        with no_grad():
            res = _outputs(fn(*inputs))
        return float(sum(np.sum(o._data * c) for o, c in zip(res, cotangents)))

    for i in checked:
        inputs[i].grad = None
    total = None
    for o, c in zip(outs, cotangents):
        total = (o * Tensor._wrap(c)).sum() if total is None else total + (o * Tensor._wrap(c)).sum()
    if total is not None:
        total.backward()

    worst = (0.0, None)
    for i in checked:
        x = inputs[i]
        analytic = np.zeros(x.shape) if x.grad is None else x.grad._data.astype(np.float64)
        data = x._data
        if data.size <= max_elements:
            probes = [(("element", idx), None) for idx in np.ndindex(data.shape)]
        else:
            probes = [(("direction", k), rng.standard_normal(data.shape)) for k in range(directions)]
        for label, v in probes:
            original = data.copy()
            if v is None:
                idx = label[1]
                data[idx] = original[idx] + eps
                plus = objective()
                data[idx] = original[idx] - eps
                minus = objective()
                expected = analytic[idx]
            else:
                data[...] = original + eps * v
                plus = objective()
                data[...] = original - eps * v
                minus = objective()
                expected = float(np.sum(analytic * v))
            data[...] = original
            numeric = (plus - minus) / (2 * eps)
            err = abs(numeric - expected)
            if not err <= atol + rtol * abs(numeric):
                raise GradcheckError(
                    f"gradient mismatch for input {i} at {label[0]} {label[1]}: "
                    f"backward gave {expected:.10g}, finite differences {numeric:.10g} "
                    f"(|diff| {err:.3g} > atol {atol} + rtol {rtol} * |numeric|)")
            if err > worst[0]:
                worst = (err, (i, label))
    for i in checked:
        inputs[i].grad = None
    return True
