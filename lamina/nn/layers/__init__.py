"""The layers, one family per module, with PyTorch's names, arguments and weight layouts."""
from . import activation as _activation
from . import conv as _conv
from . import dropout as _dropout
from . import embedding as _embedding
from . import linear as _linear
from . import normalization as _normalization
from . import pooling as _pooling
from . import rbf as _rbf
from . import rnn as _rnn
from . import shape as _shape
from .activation import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .rbf import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403

# Only the classes: the families also export functions (``embedding``, ``rbf``) whose
# place is ``nn.functional``.
__all__ = [name for family in (_activation, _conv, _dropout, _embedding, _linear, _normalization,
                               _pooling, _rbf, _rnn, _shape)
           for name in family.__all__ if name[:1].isupper()]
