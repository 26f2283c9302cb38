"""The operations, one family per module; importing this package also installs them as
Tensor operators and methods."""
# Every family but radial_basis (``rbf`` is nn.RBF's operation, not a torch.* name) is also
# star-imported, so its functions are lamina.ops.* and lamina.* names.
from . import (activation, aliases, arithmetic, classification_loss, conv, cumulative, dropout,
               exponential, extremum, indexing, interpolation, join, linalg, logical, loss,
               normalization,
               pool, radial_basis, reduction, rounding, shape, sorting, trigonometric)
from .activation import *  # noqa: F401,F403
from .aliases import *  # noqa: F401,F403
from .arithmetic import *  # noqa: F401,F403
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
from .loss import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .reduction import *  # noqa: F401,F403
from .rounding import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .sorting import *  # noqa: F401,F403
from .trigonometric import *  # noqa: F401,F403
from .tensor_methods import install as _install

_install()
