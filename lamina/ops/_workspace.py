"""Reused memory for the large arrays of a training step (a caching allocator, on the CPU).

A training step allocates the same large arrays every time: column matrices, convolution
and activation outputs, weight gradients, pooling masks. Freed at the end of the step,
their memory goes back to the C allocator, which returns big blocks to the operating
system; the next step's arrays then fault every page in afresh (zeroed by the kernel), and
on a small model that costs as much as the arithmetic (LeNet-5, batch 64: about 1,900 page
faults and several milliseconds of system time per step).

So the operations take their large arrays from here. A block is handed out again only when
nothing refers to it any more: every array made from a block (the array itself, its views,
its reshapes) keeps a reference to it (``base``), so a block whose reference count is the
pool's own is free; one an operation, a tensor or the user still holds is never reused. Arrays
below ``MIN_BYTES`` come from NumPy directly (the allocator serves those without faults), and
the free blocks kept are bounded by ``MAX_BYTES`` (least recently used ones released first).

This relies on CPython's reference counts (``sys.getrefcount``), which are exact for the
arrays involved. Requests come from any thread; a lock guards the lists.

The pool is for host memory only. An operation on a device passes its array module
(``xp``, from ``lamina.backend.get_array_module``) and gets a fresh ``xp.empty`` array:
CuPy keeps a memory pool of its own, and device memory is never faulted in page by page.
"""
from __future__ import annotations

import math
import sys
import threading

import numpy as np

from ..autograd import engine as _engine
from ..backend import get_array_module

__all__ = ["empty", "empty_like", "zeros", "MIN_BYTES", "MAX_BYTES", "clear", "stats"]

MIN_BYTES = 1 << 18          # 256 KiB: smaller arrays come from NumPy
MAX_BYTES = 1 << 28          # 256 MiB of blocks kept at most (in use ones are never dropped)

_getrefcount = sys.getrefcount
_uint8 = np.uint8
# A block is free when only the pool's list (and, while it is looked at, the loop variable and
# getrefcount's own argument) refer to it.
_FREE_REFS = 3


class _Pool:
    def __init__(self) -> None:
        self.blocks: dict[int, list] = {}      # nbytes -> blocks (1-D uint8 arrays)
        # id(block) -> clock of its last hand-out; the engine reads the keys (a view of a
        # block may become a leaf's .grad without a copy: nothing else uses that memory)
        self.last_use: dict[int, int] = _engine.pool_blocks
        self.total = 0
        self.clock = 0
        self.hits = self.misses = 0
        self.lock = threading.Lock()

    def block(self, nbytes: int):
        with self.lock:
            self.clock += 1
            blocks = self.blocks.get(nbytes)
            if blocks is None:
                blocks = self.blocks[nbytes] = []
            for block in blocks:
                if _getrefcount(block) == _FREE_REFS:
                    self.last_use[id(block)] = self.clock
                    self.hits += 1
                    return block
            self.misses += 1
            if self.total + nbytes > MAX_BYTES:
                self._release(self.total + nbytes - MAX_BYTES)
                if self.total + nbytes > MAX_BYTES:
                    return np.empty(nbytes, _uint8)   # everything kept is in use: no caching
            block = np.empty(nbytes, _uint8)
            blocks.append(block)
            self.total += nbytes
            self.last_use[id(block)] = self.clock
            return block

    def _release(self, wanted: int) -> None:
        """Drop free blocks, least recently used first, until ``wanted`` bytes are released."""
        free = []
        for nbytes, blocks in self.blocks.items():
            for block in blocks:
                if _getrefcount(block) == _FREE_REFS:
                    free.append((self.last_use[id(block)], nbytes, id(block)))
        free.sort()
        for _, nbytes, ident in free:
            if wanted <= 0:
                break
            blocks = self.blocks[nbytes]
            blocks[:] = [b for b in blocks if id(b) != ident]
            del self.last_use[ident]
            self.total -= nbytes
            wanted -= nbytes

    def clear(self) -> None:
        with self.lock:
            self._release(self.total)


_pool = _Pool()


def empty(shape: tuple, dtype, xp=np):
    """An uninitialised C-contiguous array of module ``xp`` (NumPy by default), on a reused
    block when it is a large host array."""
    if xp is not np:
        return xp.empty(shape, dtype)
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    return _pool.block(nbytes).view(dtype).reshape(shape)


def zeros(shape: tuple, dtype, xp=np):
    """A C-contiguous array of zeros of module ``xp``, on a reused block when it is a large
    host array."""
    if xp is not np:
        return xp.zeros(shape, dtype)
    out = empty(shape, dtype)
    out.fill(0)
    return out


def empty_like(x, dtype=None):
    """``xp.empty_like(x)`` in ``x``'s array module: same shape and memory order (the axes
    ordered by decreasing stride, as ``order='K'`` does), on a reused block when ``x`` is a
    large host array."""
    if type(x) is not np.ndarray:
        return get_array_module(x).empty_like(x, dtype=dtype)
    dtype = x.dtype if dtype is None else np.dtype(dtype)
    nbytes = x.size * dtype.itemsize
    if nbytes < MIN_BYTES:
        return np.empty_like(x, dtype=dtype)
    if x.flags.c_contiguous:
        return _pool.block(nbytes).view(dtype).reshape(x.shape)
    strides = x.strides
    order = sorted(range(x.ndim), key=lambda a: -abs(strides[a]))
    inverse = [0] * x.ndim
    for position, axis in enumerate(order):
        inverse[axis] = position
    shape = tuple([x.shape[a] for a in order])
    return _pool.block(nbytes).view(dtype).reshape(shape).transpose(inverse)


def clear() -> None:
    """Release every free block (the blocks still in use stay)."""
    _pool.clear()


def stats() -> dict:
    """Blocks kept, their bytes, and how many requests reused a block (hits) or not."""
    return {"blocks": sum(len(b) for b in _pool.blocks.values()), "bytes": _pool.total,
            "hits": _pool.hits, "misses": _pool.misses}
