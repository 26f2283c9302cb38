"""The layers, one family per module, with PyTorch's names, arguments and weight layouts."""
from . import activation as _activation
from . import conv as _conv
from . import dropout as _dropout
from . import embedding as _embedding
from . import gru as _gru
from . import linear as _linear
from . import lstm as _lstm
from . import normalization as _normalization
from . import pooling as _pooling
from . import rbf as _rbf
from . import rnn as _rnn
from . import rnn_cells as _rnn_cells
from . import shape as _shape
from .activation import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .gru import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .lstm import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .rbf import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .rnn_cells import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403

# Only the classes: the families also export functions (``embedding``, ``rbf``, the
# recurrent step functions) whose place is ``nn.functional`` or nowhere public.
__all__ = [name for family in (_activation, _conv, _dropout, _embedding, _gru, _linear, _lstm,
                               _normalization, _pooling, _rbf, _rnn, _rnn_cells, _shape)
           for name in family.__all__ if name[:1].isupper()]
