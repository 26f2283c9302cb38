"""How a training loop combines what several processes compute: the one interface
:func:`lamina.train.fit` and :func:`~lamina.train.fit.evaluate` use, so that they are the
same loop for one process and for many.

A loop asks its strategy three things: after ``loss.backward()``, to combine the step's
gradients (``after_backward(n)``, with n the samples of this process's share); to add up
statistics over the processes (``sum(values)``); and to wait for the others
(``barrier()``). The base class is one process: its gradients already are the step's, its
sums are its own values, and there is no one to wait for. A data-parallel wrapper
(:class:`~lamina.distributed.DistributedDataParallel`, as PyTorch's DDP and Horovod's
optimiser wrap a model or an optimiser) implements them with MPI.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Strategy", "SINGLE_PROCESS", "strategy_of"]


class Strategy:
    """One process (see the module docstring); subclasses combine over several."""

    rank = 0
    world_size = 1

    def after_backward(self, local_count: int) -> int:
        """Make every gradient the global batch's mean gradient; return the global batch
        size. One process: the gradients already are, and the size is ``local_count``."""
        return int(local_count)

    def sum(self, values) -> np.ndarray:
        """The sum over processes of ``values`` (float64)."""
        return np.array(values, np.float64)

    def barrier(self) -> None:
        """Wait until every process gets here."""


SINGLE_PROCESS = Strategy()


def strategy_of(model) -> Strategy:
    """The strategy a loop training ``model`` uses: the model's own when it is a wrapper
    that implements one, else :data:`SINGLE_PROCESS`."""
    return model if isinstance(model, Strategy) else SINGLE_PROCESS
