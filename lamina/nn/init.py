"""Weight initialisation (PyTorch's ``torch.nn.init``), in place, from lamina's generator.

Schwing & Telgarsky, Deep Neural Networks ("Initialization"): the loss of a network is not convex, so the starting point
matters; it must break the symmetry between units, and its scale must keep activations and
gradients from growing or vanishing through the layers. With ``fan_in`` inputs and
``fan_out`` outputs per unit (times the kernel area for convolutions):

* ``Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in))``, the lecture's first rule, is what
  ``kaiming_uniform_(w, a=sqrt(5))`` gives, PyTorch's default for Linear and Conv2d;
* Glorot & Bengio (2010): ``Uniform(-sqrt(6/(fan_in + fan_out)), +sqrt(6/(fan_in + fan_out)))``
  keeps the variance of activations and of gradients equal across layers
  (:func:`xavier_uniform_`);
* He et al. (2015): variance ``gain^2 / fan`` for ReLU-like units (:func:`kaiming_normal_`).

Every function writes into the tensor's array under ``no_grad``, draws from
``lamina.random.generator()`` (so ``lm.manual_seed`` makes it reproducible) and returns the
tensor. The draws happen on the host and are copied to the tensor's device, so a seed gives
the same weights on the CPU and on a GPU.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..backend import on_device_of
from ..errors import LaminaTypeError, LaminaValueError, ShapeError
from ..random import generator

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_",
           "ones_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_"]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain ``g`` that keeps the variance of activations through ``nonlinearity``:
    1 for linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for relu,
    sqrt(2 / (1 + slope^2)) for leaky_relu (slope ``param``, default 0.01), 3/4 for selu."""
    if nonlinearity in _LINEAR:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise LaminaValueError(f"negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise LaminaValueError(f"unsupported nonlinearity {nonlinearity!r} (expected one of "
                           f"{', '.join(_LINEAR)}, tanh, relu, leaky_relu, selu)")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``fan_in = shape[1] * receptive field``, ``fan_out = shape[0] * receptive field``,
    where the receptive field is the product of ``shape[2:]`` (PyTorch's weight layouts:
    Linear (out, in), Conv2d (out, in / groups, kh, kw))."""
    if tensor.ndim < 2:
        raise ShapeError(f"fan in and fan out need a tensor with at least 2 dimensions, got "
                         f"shape {tuple(tensor.shape)}")
    receptive = math.prod(tensor.shape[2:]) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise LaminaValueError(f"mode {mode!r} is not supported (expected 'fan_in' or 'fan_out')")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check(tensor) -> None:
    if not isinstance(tensor, Tensor):
        raise LaminaTypeError(f"init functions take a lamina Tensor, got {type(tensor).__name__}")


def _fill(tensor: Tensor, values) -> Tensor:
    """Write ``values`` (cast to the tensor's dtype) into its array, outside the graph.

    Values are drawn on the host, from lamina's generator, and copied to the tensor's device
    (cast first, so the copy is no larger than the tensor): the same seed gives the same
    weights on every device."""
    data = tensor._data
    if isinstance(values, np.ndarray):
        values = on_device_of(values.astype(data.dtype, copy=False), data)
    with no_grad():
        data[...] = values
        tensor._version += 1
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with samples of ``Uniform(a, b)``."""
    _check(tensor)
    if not a <= b:
        raise LaminaValueError(f"uniform_ needs a <= b, got a={a}, b={b}")
    return _fill(tensor, generator().uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples of ``N(mean, std^2)``."""
    _check(tensor)
    if std < 0:
        raise LaminaValueError(f"normal_ needs std >= 0, got {std}")
    return _fill(tensor, generator().normal(mean, std, tensor.shape))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0) -> Tensor:
    """Fill with ``N(mean, std^2)`` conditioned on ``[a, b]`` (rejected draws are redrawn)."""
    _check(tensor)
    if not a < b:
        raise LaminaValueError(f"trunc_normal_ needs a < b, got a={a}, b={b}")
    gen = generator()
    out = gen.normal(mean, std, tensor.shape)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = gen.normal(mean, std, int(bad.sum()))
        bad = (out < a) | (out > b)
    return _fill(tensor, out)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with the value ``val``."""
    _check(tensor)
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal, zeros elsewhere)."""
    _check(tensor)
    if tensor.ndim != 2:
        raise ShapeError(f"eye_ needs a 2-D tensor, got shape {tuple(tensor.shape)}")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a (out, in, *kernel) convolution weight so that the convolution is the identity
    on the first ``min(out / groups, in)`` channels of each group."""
    _check(tensor)
    if tensor.ndim not in (3, 4, 5):
        raise ShapeError(f"dirac_ needs a 3-, 4- or 5-D tensor, got shape {tuple(tensor.shape)}")
    out_per_group = tensor.shape[0] // groups
    if tensor.shape[0] % groups:
        raise LaminaValueError(f"dirac_: {tensor.shape[0]} output channels are not divisible "
                               f"by groups={groups}")
    values = np.zeros(tensor.shape)
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, tensor.shape[1])):
            values[(g * out_per_group + d, d) + centre] = 1
    return _fill(tensor, values)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot & Bengio (2010): ``Uniform(-a, a)`` with
    ``a = gain * sqrt(6 / (fan_in + fan_out))``, i.e. variance ``2 gain^2 / (fan_in + fan_out)``."""
    _check(tensor)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, generator().uniform(-bound, bound, tensor.shape))


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot & Bengio (2010), normal form: ``N(0, std^2)`` with
    ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    _check(tensor)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, generator().normal(0.0, std, tensor.shape))


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    """He et al. (2015): ``Uniform(-bound, bound)`` with ``bound = gain * sqrt(3 / fan)``,
    ``gain = calculate_gain(nonlinearity, a)`` and ``fan`` = fan_in or fan_out (``mode``).

    With ``a = sqrt(5)`` (PyTorch's default for Linear and Conv2d) ``gain^2 = 1/3`` and the
    bound is ``1/sqrt(fan_in)``: the lecture's ``Uniform(-1/sqrt(fan in), 1/sqrt(fan in))``.
    """
    _check(tensor)
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return _fill(tensor, generator().uniform(-bound, bound, tensor.shape))


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    """He et al. (2015): ``N(0, std^2)`` with ``std = gain / sqrt(fan)``
    (``gain = calculate_gain(nonlinearity, a)``; sqrt(2) for ReLU)."""
    _check(tensor)
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return _fill(tensor, generator().normal(0.0, std, tensor.shape))


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Saxe et al. (2013): a (semi-)orthogonal matrix from the QR decomposition of a Gaussian
    matrix (sign-corrected so it is uniformly distributed), times ``gain``; tensors with
    more than two dimensions are flattened to (shape[0], rest)."""
    _check(tensor)
    if tensor.ndim < 2:
        raise ShapeError(f"orthogonal_ needs at least 2 dimensions, got shape {tuple(tensor.shape)}")
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = generator().standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))
