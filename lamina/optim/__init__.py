"""Optimisers and learning-rate schedules (PyTorch's ``torch.optim``, on NumPy arrays).

Each optimiser implements w^{(k+1)} = w^{(k)} - alpha^{(k)} d^{(k)} for its own direction
d^{(k)}: :class:`SGD` (with momentum / Nesterov), :class:`Adagrad`, :class:`RMSprop`,
:class:`Adadelta`, :class:`Adam` and :class:`AdamW`, :class:`Adamax` (infinity norm),
:class:`NAdam` (Nesterov momentum), :class:`RAdam` (rectified warm-up), and the
quasi-Newton :class:`LBFGS` (whose ``step(closure)`` re-evaluates the loss, optionally in a
strong Wolfe line search); :mod:`.lr_scheduler` changes alpha^{(k)} over time.
:class:`BlockCoordinateDescent` (a lamina extra) updates one parameter group (one layer) per
step, by a gradient step with its own alpha_j or exactly, as :class:`DeepLinearLeastSquares`
does for a deep linear network (Ghauch & Ghadikolaei, Fundamentals of Deep Neural Networks).

>>> opt = lm.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
>>> for x, y in loader:
...     opt.zero_grad()
...     loss_fn(model(x), y).backward()
...     opt.step()
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .block_coordinate import BlockCoordinateDescent, DeepLinearLeastSquares
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax",
           "NAdam", "RAdam", "LBFGS", "BlockCoordinateDescent", "DeepLinearLeastSquares",
           "lr_scheduler"]
