"""The operation test harness (OpInfo style).

Each family of operations has a table in ``tests/ops/tables/<family>.py``: a list named
``TABLE`` of :class:`OpInfo` rows. ``tests/ops/test_ops.py`` runs every row's samples
through two checks:

* ``check_against_torch``: float32 forward values (rtol 1e-5, atol 1e-6) and gradients
  (1e-4) against PyTorch on the same inputs and the same random cotangent, through
  ``tests.reference.check_against_torch`` (needs PyTorch);
* ``check_gradcheck``: float64 central finite differences through ``lm.autograd.gradcheck``
  (NumPy alone: the tables name torch references through ``tests.reference.torch``, which
  stands in for PyTorch where it is not installed).

A sample's ``args`` are NumPy arrays (become tensors; floating ones require grad unless
``grad`` says otherwise), lists of arrays (become lists of tensors, for cat/stack), or plain
Python values passed through unchanged. The same ``op``/``ref`` lambdas receive lamina and
torch tensors respectively.
"""
from __future__ import annotations

import dataclasses
import zlib
from typing import Callable

import numpy as np
import pytest

import lamina as lm
from tests import reference
from tests.reference import as_tensors


@dataclasses.dataclass
class Sample:
    args: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)
    grad: tuple | None = None   # per array argument: requires grad? (default: floating ones)
    name: str = ""


@dataclasses.dataclass
class OpInfo:
    name: str
    op: Callable                # lamina: op(*args, **kwargs)
    ref: Callable               # torch:  ref(*args, **kwargs)
    samples: Callable           # samples(rng) -> list[Sample]
    gradcheck: bool = True      # run the float64 finite-difference check
    differentiable: bool = True
    atol: float = 1e-6
    rtol: float = 1e-5
    grad_atol: float = 1e-4
    grad_rtol: float = 1e-4


def _convert(sample: Sample, make, dtype):
    """Turn the sample's arrays into tensors with ``make(array, requires_grad)``."""
    return as_tensors(sample.args, make, dtype, sample.grad)


def _lm_make(a, rg):
    return lm.tensor(a, requires_grad=rg)


def cases(table, only_gradcheck: bool = False):
    """pytest parameters (info, sample) for every row and sample of ``table``."""
    params = []
    for info in table:
        rng = np.random.default_rng(zlib.crc32(info.name.encode()))
        for k, sample in enumerate(info.samples(rng)):
            if only_gradcheck and not (info.gradcheck and info.differentiable):
                continue
            params.append(pytest.param(info, sample, id=f"{info.name}-{sample.name or k}"))
    return params


def check_against_torch(info: OpInfo, sample: Sample) -> None:
    """The row's lamina op and torch reference on the sample in float32 (see the module doc)."""
    reference.check_against_torch(info.op, info.ref, *sample.args, kwargs=sample.kwargs,
                                  grad=sample.grad, dtype=np.float32, cotangent=7,
                                  backward=info.differentiable, rtol=info.rtol, atol=info.atol,
                                  grad_rtol=info.grad_rtol, grad_atol=info.grad_atol, name=info.name)


def check_gradcheck(info: OpInfo, sample: Sample) -> None:
    args, leaves = _convert(sample, _lm_make, np.float64)
    positions = []
    for k, a in enumerate(args):
        if isinstance(a, lm.Tensor) and a.requires_grad:
            positions.append((k, None))
        elif isinstance(a, list):
            positions.extend((k, j) for j, x in enumerate(a) if isinstance(x, lm.Tensor) and x.requires_grad)

    def fn(*tensors):
        rebuilt = [list(a) if isinstance(a, list) else a for a in args]
        for (k, j), t in zip(positions, tensors):
            if j is None:
                rebuilt[k] = t
            else:
                rebuilt[k][j] = t
        return info.op(*rebuilt, **sample.kwargs)

    assert lm.autograd.gradcheck(fn, leaves)
