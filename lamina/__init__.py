"""lamina: a readable deep-learning framework on NumPy.

>>> import lamina as lm
>>> x = lm.tensor([1.0, 2.0], requires_grad=True)
>>> (x ** 2).sum().backward()
>>> x.grad
tensor([2., 4.])
"""
from . import accelerator, autograd, backends, cuda, ops
from .autograd import Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.tensor_str import set_printoptions
from .backend import device, get_default_device, set_default_device
from .creation import *  # noqa: F401,F403
from .dtypes import (bool_, float16, float32, float64, get_default_dtype, int8, int16, int32,
                     int64, promote_types, result_type, set_default_dtype, uint8)
from .errors import (DataError, FileFormatError, GraphError, InplaceError, LaminaError,
                     LaminaTypeError, LaminaValueError, ShapeError)
from .ops import *  # noqa: F401,F403
from .random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed,
                     set_rng_state)
from .size import Size

__version__ = "0.1.0"
bool = bool_  # noqa: A001  (PyTorch spells it lm.bool)
double = float64
float = float32  # noqa: A001
half = float16
long = int64
int = int32  # noqa: A001
short = int16


def is_tensor(obj) -> "builtins.bool":
    """Whether ``obj`` is a lamina Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> "builtins.bool":
    return input.is_floating_point()


def numel(input: Tensor) -> "builtins.int":
    return input.numel()


inference_mode = no_grad  # gradients off; lamina has no separate inference-only tensors


def __getattr__(name):
    # Sub-packages above the engine are imported on first use, so `import lamina` stays light.
    import importlib

    if name in ("nn", "optim", "data", "models", "train", "classic", "labs", "distributed",
                "serialization", "utils"):
        return importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):
        return getattr(importlib.import_module(".serialization", __name__), name)
    raise AttributeError(f"module 'lamina' has no attribute {name!r}")
