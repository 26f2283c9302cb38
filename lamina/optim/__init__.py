"""Optimisers and learning-rate schedules (PyTorch's ``torch.optim``, on NumPy arrays).

Each optimiser implements w^{(k+1)} = w^{(k)} - alpha^{(k)} d^{(k)} for its own direction
d^{(k)}: :class:`SGD` (with momentum / Nesterov), :class:`Adagrad`, :class:`RMSprop`,
:class:`Adam` and :class:`AdamW`; :mod:`.lr_scheduler` changes alpha^{(k)} over time.

>>> opt = lm.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
>>> for x, y in loader:
...     opt.zero_grad()
...     loss_fn(model(x), y).backward()
...     opt.step()
"""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "lr_scheduler"]
