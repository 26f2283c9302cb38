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
from .creation import __all__ as _creation_names
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

# The sub-packages a user imports (the first six are also torch.* names); everything else
# under lamina/ is reached through these or is internal.
SUBPACKAGES = ("autograd", "nn", "optim", "utils", "cuda", "backends", "accelerator",
               "serialization", "random", "ops", "data", "models", "train", "classic", "labs",
               "distributed", "errors")

# lamina's public top-level names: torch.* names with torch's meaning, plus lamina's
# documented own API (its error classes and ``SUBPACKAGES``); see tests/surface/test_namespace.py.
__all__ = sorted(set(
    _creation_names + ops.__all__ + [
        "Tensor", "enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled",
        "inference_mode", "set_printoptions", "device", "get_default_device",
        "set_default_device", "float16", "float32", "float64", "int8", "int16", "int32", "int64",
        "uint8", "bool", "double", "float", "half", "long", "int", "short", "get_default_dtype",
        "set_default_dtype", "promote_types", "result_type", "Generator", "default_generator",
        "get_rng_state", "set_rng_state", "initial_seed", "manual_seed", "seed", "Size",
        "is_tensor", "is_floating_point", "numel", "save", "load", "compile", "DataError",
        "FileFormatError", "GraphError", "InplaceError", "LaminaError", "LaminaTypeError",
        "LaminaValueError", "ShapeError", "SUBPACKAGES", "__version__"]))


def __dir__():
    # dir(lamina) and tab completion show the public names, not the modules the package
    # happens to have imported (lamina.creation, lamina.dtypes, ...).
    return sorted(set(__all__) | set(SUBPACKAGES))


def __getattr__(name):
    # Sub-packages above the engine are imported on first use, so `import lamina` stays light.
    import importlib

    if name in ("nn", "optim", "data", "models", "train", "classic", "labs", "distributed",
                "serialization", "utils", "errors"):
        return importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):
        return getattr(importlib.import_module(".serialization", __name__), name)
    if name == "compile":
        return importlib.import_module(".compiler", __name__).compile
    raise AttributeError(f"module 'lamina' has no attribute {name!r}")
