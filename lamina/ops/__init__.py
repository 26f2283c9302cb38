"""The operations, one family per module; importing this package also installs them as
Tensor operators and methods."""
# Every family but rbf (``rbf`` is nn.RBF's operation, not a torch.* name) is also
# star-imported, so its functions are lamina.ops.* names; ``__all__`` below says which of them
# are also lamina.* names (those PyTorch has as torch.* with the same meaning).
from . import (activation, adaptive_pooling, aliases, arithmetic, binary_loss,
               classification_loss, conv, cumulative, dropout, exponential, extremum, indexing,
               interpolation, join, linalg, logical, normalization, padding, pooling, rbf,
               reduction, regression_loss, rounding, selection, shape, softmax, sorting,
               trigonometric)

# The family modules, taken before the star imports below rebind names such as ``dropout``.
_FAMILIES = (activation, adaptive_pooling, aliases, arithmetic, binary_loss, classification_loss,
             conv, cumulative, dropout, exponential, extremum, indexing, interpolation, join,
             linalg, logical, normalization, padding, pooling, reduction, regression_loss,
             rounding, selection, shape, softmax, sorting, trigonometric)

from .activation import *  # noqa: F401,F403
from .adaptive_pooling import *  # noqa: F401,F403
from .aliases import *  # noqa: F401,F403
from .arithmetic import *  # noqa: F401,F403
from .binary_loss import *  # noqa: F401,F403
from .classification_loss import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .cumulative import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .exponential import *  # noqa: F401,F403
from .extremum import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .interpolation import *  # noqa: F401,F403
from .join import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .logical import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .reduction import *  # noqa: F401,F403
from .regression_loss import *  # noqa: F401,F403
from .rounding import *  # noqa: F401,F403
from .selection import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .softmax import *  # noqa: F401,F403
from .sorting import *  # noqa: F401,F403
from .trigonometric import *  # noqa: F401,F403
from .tensor_methods import install as _install

# Operations that PyTorch has only under ``torch.nn.functional`` (or as Tensor methods), or
# has at the top level with another argument order (torch.embedding(weight, input),
# torch.batch_norm(input, weight, bias, ...), torch.kl_div's integer reduction), and lamina's
# own helpers: lamina.ops.* names, reached by users as F.* or as Tensor methods, never as lm.*.
NOT_TOP_LEVEL = frozenset((
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool2d", "binary_cross_entropy",
    "cross_entropy", "dropout1d", "dropout2d", "elu", "gelu", "hardtanh", "huber_loss",
    "l1_loss", "leaky_relu", "linear", "logsigmoid", "mse_loss", "nll_loss", "one_hot", "pad",
    "quadratic_loss", "silu", "smooth_l1_loss", "softplus", "embedding", "batch_norm", "kl_div",
    "expand", "expand_as", "repeat", "reshape_as", "view", "view_as", "getitem", "setitem",
    "cast"))

# What ``from lamina.ops import *`` (and so ``import lamina``) exposes: torch.* names only.
__all__ = [name for family in _FAMILIES for name in family.__all__ if name not in NOT_TOP_LEVEL]

_install()
