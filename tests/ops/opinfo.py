"""The operation test harness (OpInfo style).

Each family of operations has a table in ``tests/ops/tables/<family>.py``: a list named
``TABLE`` of :class:`OpInfo` rows. ``tests/ops/test_ops.py`` runs every row's samples
through two checks:

* ``check_against_torch``: float32 forward values (rtol 1e-5, atol 1e-6) and gradients
  (1e-4) against PyTorch on the same inputs and the same random cotangent;
* ``check_gradcheck``: float64 central finite differences through ``lm.autograd.gradcheck``.

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

torch = pytest.importorskip("torch", reason="PyTorch is the reference for the operation tests")


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
    flags = iter(sample.grad) if sample.grad is not None else None
    leaves = []

    def one(a):
        if isinstance(a, np.generic):  # a 0-d sample computed with NumPy arithmetic
            a = np.asarray(a)
        if isinstance(a, np.ndarray):
            if a.dtype.kind == "f":
                a = a.astype(dtype)
            wants = next(flags) if flags is not None else a.dtype.kind == "f"
            t = make(a.copy(), bool(wants) and a.dtype.kind == "f")
            if bool(wants) and a.dtype.kind == "f":
                leaves.append(t)
            return t
        if isinstance(a, list) and a and all(isinstance(x, np.ndarray) for x in a):
            return [one(x) for x in a]
        return a

    args = tuple(one(a) for a in sample.args)
    return args, leaves


def _lm_make(a, rg):
    return lm.tensor(a, requires_grad=rg)


def _torch_make(a, rg):
    return torch.tensor(a, requires_grad=rg)


def _as_list(out):
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


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
    lm_args, lm_leaves = _convert(sample, _lm_make, np.float32)
    t_args, t_leaves = _convert(sample, _torch_make, np.float32)
    lm_out = _as_list(info.op(*lm_args, **sample.kwargs))
    t_out = _as_list(info.ref(*t_args, **sample.kwargs))
    assert len(lm_out) == len(t_out), f"{info.name}: {len(lm_out)} outputs, torch gives {len(t_out)}"
    rng = np.random.default_rng(7)
    lm_loss = t_loss = None
    for a, b in zip(lm_out, t_out):
        expected = b.detach().numpy()
        assert tuple(a.shape) == tuple(expected.shape), \
            f"{info.name}: shape {a.shape}, torch gives {tuple(expected.shape)}"
        if expected.dtype.kind == "f":
            assert a.dtype == expected.dtype, f"{info.name}: dtype {a.dtype}, torch gives {expected.dtype}"
            np.testing.assert_allclose(a.numpy(), expected, rtol=info.rtol, atol=info.atol,
                                       err_msg=f"{info.name} forward")
            if info.differentiable and lm_leaves and b.requires_grad:
                c = rng.standard_normal(expected.shape).astype(np.float32)
                term_lm = (a * lm.tensor(c)).sum()
                term_t = (b * torch.tensor(c)).sum()
                lm_loss = term_lm if lm_loss is None else lm_loss + term_lm
                t_loss = term_t if t_loss is None else t_loss + term_t
        else:
            np.testing.assert_array_equal(a.numpy(), expected, err_msg=f"{info.name} forward")
    if lm_loss is None:
        return
    lm_loss.backward()
    t_loss.backward()
    for i, (x, y) in enumerate(zip(lm_leaves, t_leaves)):
        expected = np.zeros(tuple(y.shape), np.float32) if y.grad is None else y.grad.numpy()
        got = np.zeros(x.shape, np.float32) if x.grad is None else x.grad.numpy()
        assert got.dtype == np.float32, f"{info.name}: gradient dtype {got.dtype}"
        np.testing.assert_allclose(got, expected, rtol=info.grad_rtol, atol=info.grad_atol,
                                   err_msg=f"{info.name} gradient of input {i}")


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
