"""The operations, one family per module; importing this package also installs them as
Tensor operators and methods."""
from . import (activation, arithmetic, conv, dropout, indexing, linalg, loss, normalization, pool,
               reduction, shape)
from .activation import *  # noqa: F401,F403
from .arithmetic import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .reduction import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .tensor_methods import install as _install

_install()
