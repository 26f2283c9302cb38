"""DistributedDataParallel: one model trained by several processes, each on its share of
every minibatch.

Minibatch SGD (Grohs, Introduction to (Convolutional) Neural Networks §5) moves the weights against the gradient of the loss averaged over
a minibatch of B samples, C = (1/B) sum_x C_x. The sum splits over ranks: if rank r holds
n_r of the B samples and computes the gradient of its own mean loss, g_r = (1/n_r) sum_{x in
r} grad C_x, then

    grad C = (1/B) sum_r n_r g_r,        B = sum_r n_r,

which is what :meth:`DistributedDataParallel.sync_gradients` computes: every rank writes
n_r g_r into one preallocated contiguous buffer per bucket of parameters (with n_r itself in
a trailing slot), one ``MPI_Allreduce`` per bucket sums the buffers in place across ranks,
and each parameter's ``.grad`` becomes a new array, its slice of the sum divided by B.
Weighting by n_r (rather than averaging g_r with 1/N) keeps the result equal to the one
process gradient when the shares are unequal, as they are in a short last batch. Since every
rank starts from the same parameters (broadcast from rank 0 at construction) and applies the
same optimiser step to the same gradient, the replicas stay identical without ever sending
weights again.

BatchNorm: each rank normalises with the statistics of its own share of the batch (as
PyTorch's DDP does without SyncBatchNorm), and before every forward the buffers (running
mean and variance) are broadcast from rank 0 (PyTorch's ``broadcast_buffers=True``), so
evaluation and checkpoints use rank 0's running statistics everywhere.

CUDA tensors: the buckets are host buffers, so gradients on a GPU are copied to the host,
summed by MPI there and copied back (and broadcasts go the same way). This works with any
MPI; a CUDA-aware MPI could reduce device buffers directly, which lamina does not yet do.
"""
from __future__ import annotations

import numpy as np

from ..backend import on_device_of, to_host

from ..autograd.tensor import Tensor
from ..nn.module import Module
from . import mpi
from .strategy import Strategy

__all__ = ["DistributedDataParallel"]


class _Bucket:
    """Parameters of one dtype whose gradients travel in one contiguous buffer."""

    def __init__(self, dtype: np.dtype, items: list, extra: int) -> None:
        self.items = items                      # (index in the parameter list, offset, size)
        size = sum(s for _, _, s in items)
        self.buffer = np.empty(size + extra, dtype)
        self.meta = self.buffer[size:]          # the trailing slots (first bucket only)


class DistributedDataParallel(Module, Strategy):
    """Wrap ``module`` for data-parallel training over the MPI ranks.

    At construction the parameters and buffers of rank 0 are broadcast to every rank.
    Calling the wrapper calls ``module`` (after broadcasting the buffers). After
    ``loss.backward()`` call :meth:`sync_gradients` with the number of samples this rank
    took, then ``optimizer.step()``; :func:`lamina.train.fit` does this by itself when given
    the wrapper. Save ``ddp.module.state_dict()`` (on rank 0): the wrapper's own state dict
    prefixes every key with ``module.`` as PyTorch's does.

    In a single process (no launcher, world size 1) the wrapper changes nothing: no
    broadcast, and ``sync_gradients`` leaves the gradients as they are.

    >>> ddp = DistributedDataParallel(model)
    >>> loss = F.cross_entropy(ddp(x), y)          # x, y: this rank's share of the batch
    >>> optimizer.zero_grad(); loss.backward()
    >>> ddp.sync_gradients(len(y))                 # grads = the global batch's mean gradient
    >>> optimizer.step()

    ``bucket_cap_mb`` bounds the size of one Allreduce (PyTorch's default, 25 MB): a model
    of up to ~6.5 M float32 parameters syncs in one call per step.
    """

    def __init__(self, module: Module, comm=None, bucket_cap_mb: float = 25.0,
                 broadcast_buffers: bool = True) -> None:
        super().__init__()
        self.module = module
        self.comm = mpi.communicator() if comm is None else comm
        self.bucket_cap_mb = float(bucket_cap_mb)
        self.broadcast_buffers = bool(broadcast_buffers)
        self._layout_key = None
        self._buckets: list[_Bucket] = []
        self._params: list = []
        if self.world_size > 1:
            self.broadcast_state()

    # ----------------------------------------------------------------- who we are
    @property
    def world_size(self) -> int:
        """The number of ranks training this model together."""
        return 1 if self.comm is None else self.comm.Get_size()

    @property
    def rank(self) -> int:
        """This process's rank (0 in a single process)."""
        return 0 if self.comm is None else self.comm.Get_rank()

    def forward(self, *args, **kwargs):
        """``module(*args, **kwargs)``, with rank 0's buffers (running statistics) first."""
        if self.broadcast_buffers and self.world_size > 1:
            self._broadcast(list(self.module.buffers()))
        return self.module(*args, **kwargs)

    # ----------------------------------------------------------------- broadcasting
    def broadcast_state(self, root: int = 0) -> None:
        """Copy rank ``root``'s parameters and buffers into every rank's module, in place."""
        self._broadcast([*self.module.parameters(), *self.module.buffers()], root)

    def _broadcast(self, tensors: list, root: int = 0) -> None:
        # One Bcast per dtype: the tensors are packed into a contiguous buffer and unpacked.
        by_dtype: dict = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        mine = self.rank == root
        for dtype, group in by_dtype.items():
            flat = (np.concatenate([to_host(t._data).reshape(-1) for t in group]) if mine
                    else np.empty(sum(t._data.size for t in group), dtype))
            self.comm.Bcast(flat, root=root)
            if mine:
                continue
            offset = 0
            for t in group:
                size = t._data.size
                t._data[...] = on_device_of(flat[offset:offset + size].reshape(t._data.shape), t._data)
                t._version += 1
                offset += size

    # ----------------------------------------------------------------- gradients
    def _layout(self) -> list[_Bucket]:
        """The buckets for the current parameters, rebuilt if their dtypes or shapes changed
        (e.g. after ``.double()``)."""
        params = [p for p in self.module.parameters() if p.requires_grad]
        key = tuple((id(p), p._data.dtype, p._data.shape) for p in params)
        if key == self._layout_key:
            return self._buckets
        cap_bytes = max(int(self.bucket_cap_mb * 2**20), 1)
        groups: list[tuple[np.dtype, list]] = []
        current: dict = {}                      # dtype -> (items, elements) of its open bucket
        for index, p in enumerate(params):
            dtype, size = p._data.dtype, p._data.size
            items, used = current.get(dtype, (None, 0))
            if items is None or (items and (used + size) * dtype.itemsize > cap_bytes):
                items, used = [], 0
                groups.append((dtype, items))
            items.append((index, used, size))
            current[dtype] = (items, used + size)
        # The first bucket also carries this rank's sample count and, per parameter, whether
        # it got a gradient at all (a parameter no rank used keeps grad None, as in one process).
        extra = 1 + len(params)
        self._buckets = [_Bucket(dtype, items, extra if k == 0 else 0)
                         for k, (dtype, items) in enumerate(groups)]
        self._params, self._layout_key = params, key
        return self._buckets

    def sync_gradients(self, local_count: int) -> int:
        """Replace every gradient by the mean gradient of the global batch and return the
        global batch size B = sum_r n_r.

        ``local_count`` is n_r, the number of samples this rank's loss averaged over (0 if
        this rank had no share of a short last batch: it then contributes nothing, but must
        still call this, since every rank takes part in every Allreduce).
        """
        if self.world_size == 1:
            return int(local_count)  # one process: its gradient already is the batch's
        from mpi4py import MPI

        buckets = self._layout()
        if not buckets:
            return int(self.all_reduce_sum([local_count])[0])
        params = self._params
        meta = buckets[0].meta
        meta[0] = local_count
        for bucket in buckets:
            weight = bucket.buffer.dtype.type(local_count)
            for index, offset, size in bucket.items:
                grad = params[index].grad
                view = bucket.buffer[offset:offset + size]
                if grad is None or local_count == 0:
                    view.fill(0)
                    meta[1 + index] = 0
                else:
                    np.multiply(to_host(grad._data).reshape(-1), weight, out=view)
                    meta[1 + index] = 1
        for bucket in buckets:
            self.comm.Allreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM)
        total = int(round(float(meta[0])))
        for bucket in buckets:
            scale = bucket.buffer.dtype.type(total)
            for index, offset, size in bucket.items:
                p = params[index]
                if meta[1 + index] == 0:
                    p.grad = None
                else:  # a new array: the buffer is overwritten by the next step
                    p.grad = Tensor._wrap(on_device_of(
                        bucket.buffer[offset:offset + size].reshape(p._data.shape) / scale, p._data))
        return total

    def all_reduce_sum(self, values) -> np.ndarray:
        """sum over ranks of ``values`` (float64), for training and evaluation statistics."""
        return mpi.all_reduce_sum(values, self.comm) if self.world_size > 1 else np.array(values, np.float64)

    # ----------------------------------------------------------------- the Strategy a loop uses
    def after_backward(self, local_count: int) -> int:
        return self.sync_gradients(local_count)

    def sum(self, values) -> np.ndarray:
        return self.all_reduce_sum(values)

    def barrier(self) -> None:
        self.all_reduce_sum([0])

    def extra_repr(self) -> str:
        return f"world_size={self.world_size}, rank={self.rank}"
