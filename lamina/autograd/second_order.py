"""The rules of second-order differentiation: each operation's vector-Jacobian product
written with lamina operations on Tensors, so that it has a graph of its own (see
:mod:`.double_backward`, which walks a trace and applies them).

A rule ``rule(op, g)`` receives a traced operation ``op`` (its function, context, input and
output Tensors) and the gradients ``g`` of its outputs, and returns the gradients of its
inputs (None for an input that needs none), computed by differentiable operations.
"""
from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import numpy as np

from ..backend import get_array_module
from .function import Function
from .tensor import Tensor

__all__ = ["rules", "supported"]


def _const(array) -> Tensor:
    """A constant (a mask, a slope) that the recorded gradient multiplies by."""
    return Tensor._wrap(array)


def _zeros_like(t: Tensor) -> Tensor:
    return Tensor._wrap(get_array_module(t._data).zeros_like(t._data))


def _filled(op, grads) -> list:
    """The output gradients with zeros for the outputs that got none."""
    return [g if g is not None else _zeros_like(o) for g, o in zip(grads, op.outputs)]


class ScatterAdd(Function):
    """y = zeros(shape) with x added at ``index``: the adjoint of ``y = x[index]``, and the
    differentiable backward of indexing;  dL/dx = (dL/dy)[index]."""

    @staticmethod
    def forward(ctx, x, shape, index, accumulate):
        from ..ops.indexing import GetItem

        ctx.index, ctx.accumulate = index, accumulate
        return GetItem.backward(SimpleNamespace(shape=shape, index=index,
                                                accumulate=accumulate), x)

    @staticmethod
    def backward(ctx, grad):
        from ..ops.indexing import GetItem

        return GetItem.forward(SimpleNamespace(), grad, ctx.index, ctx.accumulate).copy()


def _mask(op, array) -> Tensor:
    return _const(array.astype(op.outputs[0]._data.dtype))


def _matmul(op, g):
    a, b = op.input(0), op.input(1)
    if a.ndim == 1 and b.ndim == 1:
        return (g * b if op.needs(0) else None), (g * a if op.needs(1) else None)
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    g2 = g.unsqueeze(-2) if a.ndim == 1 else g
    g2 = g2.unsqueeze(-1) if b.ndim == 1 else g2
    ga = gb = None
    if op.needs(0):
        ga = g2 @ b2.transpose(-1, -2)
        ga = ga.squeeze(-2) if a.ndim == 1 else ga
    if op.needs(1):
        gb = a2.transpose(-1, -2) @ g2
        gb = gb.squeeze(-1) if b.ndim == 1 else gb
    return ga, gb


def _linear(op, g):
    x, w = op.input(0), op.input(1)
    g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
    gx = g @ w if op.needs(0) else None
    gw = g2.transpose(0, 1) @ x.reshape(-1, x.shape[-1]) if op.needs(1) else None
    if len(op.inputs) == 2:
        return gx, gw
    return gx, gw, (g2.sum(dim=0) if op.needs(2) else None)


def _reduced(op, g):
    """dL/dy of a reduction reshaped to keepdim form, so that it broadcasts against x."""
    ctx = op.ctx
    if ctx.keepdim:
        return g
    axes = range(len(ctx.shape)) if ctx.axes is None else ctx.axes
    return g.reshape(tuple(1 if i in axes else n for i, n in enumerate(ctx.shape)))


def _count(ctx) -> int:
    return math.prod(ctx.shape if ctx.axes is None else (ctx.shape[i] for i in ctx.axes))


def _pow(op, g):
    a, b = op.input(0), op.input(1)
    from ..ops.selection import where

    ga = gb = None
    if op.needs(0):
        ga = where(_const(b._data == 0), 0.0, g * b * a ** (b - 1))
    if op.needs(1):
        log_zero = (a._data == 0) & (b._data >= 0)  # a^b ln a -> 0 as a -> 0 for b >= 0
        gb = where(_const(log_zero), 0.0, g * op.output() * a.log())
    return ga, gb


def _softplus(op, g):
    t_raw = op.ctx.saved[0]
    s = (op.input(0) * op.params["beta"]).sigmoid()
    cut = _mask(op, t_raw > op.ctx.threshold)
    return g * (s * (1 - cut) + cut)


def _extremum(op, g, larger: bool):
    a, b = op.ctx.saved
    xp = get_array_module(a)
    first = (a > b) if larger else (a < b)
    m = _mask(op, xp.where(first, 1.0, xp.where(a == b, 0.5, 0.0)))
    return (g * m if op.needs(0) else None), (g * (1 - m) if op.needs(1) else None)


def _leaky(op, g):
    (s,) = op.ctx.saved
    return g * _mask(op, get_array_module(s).where(s > 0, 1.0, op.ctx.slope))


def _mse(op, g):
    d = op.input(0) - op.input(1)
    up = g / d.numel() if op.ctx.reduction == "mean" else g
    gx = up * d * 2
    return (gx if op.needs(0) else None), (-gx if op.needs(1) else None)


def _logsumexp(op, g):
    ctx, x = op.ctx, op.input(0)
    kept = tuple(1 if ctx.axes is None or i in ctx.axes else n for i, n in enumerate(x.shape))
    return g.reshape(kept) * (x - op.output().reshape(kept)).exp()


def _quadratic(op, g):
    ctx, d = op.ctx, op.input(0) - op.input(1)
    up = g / ctx.n if ctx.reduction == "mean" else g
    if ctx.reduction == "none" and d.ndim > 1:
        up = up.reshape(tuple(up.shape) + (1,) * (d.ndim - 1))
    gx = up * d
    return (gx if op.needs(0) else None), (-gx if op.needs(1) else None)


def _l1(op, g):
    (d,) = op.ctx.saved
    up = g / d.size if op.ctx.reduction == "mean" else g
    gx = up * _mask(op, get_array_module(d).sign(d))
    return (gx if op.needs(0) else None), (-gx if op.needs(1) else None)


def _class_axis(t: Tensor, ndim: int, axis: int) -> Tensor:
    """A per-entry tensor (the target's shape) given back the class axis of an input with
    ``ndim`` dimensions, so that it broadcasts over the classes."""
    return t.unsqueeze(axis) if t.ndim == ndim - 1 and t.ndim else t


def _targets(op, shape):
    """The constants of a class-index loss: the one-hot array of the targets, the mask of the
    entries not ignored (1 if none is), and the targets' class weights (1 if unweighted)."""
    ctx = op.ctx
    xp = get_array_module(op.inputs[0]._data)
    dtype = op.inputs[0]._data.dtype
    onehot = xp.zeros(int(np.prod(shape)), dtype)
    onehot[ctx.flat] = 1
    valid = 1.0 if ctx.valid is None else ctx.valid.astype(dtype)
    wt = 1.0 if ctx.wt is None else ctx.wt
    return onehot.reshape(shape), valid, wt


def _cross_entropy(op, g):
    """dl_n/dx = ((1 - eps) w_t + (eps/C) W) softmax(x_n) - (1 - eps) w_t e_t - (eps/C) w,
    times the upstream gradient (over the count for 'mean'), 0 for ignored entries."""
    ctx, x = op.ctx, op.input(0)
    if ctx.count == 0:
        return _zeros_like(x), None
    onehot, valid, wt = _targets(op, x.shape)
    axis, eps, w, n_classes = ctx.axis, ctx.eps, ctx.weight, x.shape[ctx.axis]
    up = g / float(ctx.count) if ctx.reduction == "mean" else g
    at_target = (1 - eps) * valid * wt
    row = valid if w is None else at_target + (eps / n_classes) * float(w.sum()) * valid
    xp = get_array_module(x._data)
    gx = x.softmax(axis) * _class_axis(up * _const(xp.asarray(row, x._data.dtype)), x.ndim, axis)
    gx = gx - _class_axis(up * _const(xp.asarray(at_target, x._data.dtype)), x.ndim, axis) \
        * _const(onehot)
    if eps:
        per_class = 1.0 if w is None else w.reshape((-1,) + (1,) * (x.ndim - axis - 1))
        shift = _const(xp.asarray((eps / n_classes) * valid, x._data.dtype))
        gx = gx - _class_axis(up * shift, x.ndim, axis) * _const(
            xp.asarray(per_class, x._data.dtype))
    return gx, None


def _nll(op, g):
    """dl_n/dx = -w_t e_t times the upstream gradient (over the count for 'mean')."""
    ctx = op.ctx
    if ctx.count == 0:
        return _zeros_like(op.inputs[0]), None
    onehot, valid, wt = _targets(op, ctx.shape)
    up = g / float(ctx.count) if ctx.reduction == "mean" else g
    coef = _const(get_array_module(onehot).asarray(-valid * wt, ctx.dtype))
    return _class_axis(up * coef, len(ctx.shape), op.params["axis"]) * _const(onehot), None


def _elu(op, g):
    x = op.input(0)
    above = _mask(op, op.ctx.saved[0] > 0)
    return g * (above + (1 - above) * x.clamp(max=0).exp() * op.ctx.alpha)


def _split_back(op, *grads):
    from ..ops.join import cat

    return cat(_filled(op, grads), dim=op.ctx.axis)


def _unbind_back(op, *grads):
    from ..ops.join import stack

    return stack(_filled(op, grads), dim=op.ctx.axis)


def _cat(op, g):
    b = op.ctx.bounds
    pieces = g.split([int(b[k + 1] - b[k]) for k in range(len(b) - 1)], dim=op.ctx.axis)
    return tuple(p if op.needs(k) else None for k, p in enumerate(pieces))


def _getitem(op, g):
    ctx = op.ctx
    return ScatterAdd.apply(g, shape=ctx.shape, index=ctx.index, accumulate=ctx.accumulate)


def _scatter(op, g):
    from ..ops.indexing import GetItem

    return GetItem.apply(g, index=op.ctx.index, accumulate=op.ctx.accumulate)


@functools.lru_cache(maxsize=1)
def rules() -> dict:
    """Operation class -> its differentiable vector-Jacobian product ``rule(op, *dL/dy)``,
    returning one gradient (or None) per input. Built on first use: the operations live in
    :mod:`lamina.ops`, a layer above this one."""
    from ..ops import _casting, activation as ac, arithmetic as ar, classification_loss as cl
    from ..ops import exponential as ex, indexing, join, linalg, regression_loss as loss
    from ..ops import reduction as red, rounding as ro, selection as sel, shape as sh
    from ..ops import trigonometric as tr
    from ..ops.softmax import LogSoftmax, Softmax

    y = lambda op: op.output()  # noqa: E731
    x = lambda op: op.input(0)  # noqa: E731
    return {
        ar.Add: lambda op, g: (g, g),
        ar.Sub: lambda op, g: (g, -g if op.needs(1) else None),
        ar.Mul: lambda op, g: (g * op.input(1) if op.needs(0) else None,
                               g * op.input(0) if op.needs(1) else None),
        ar.Div: lambda op, g: (g / op.input(1) if op.needs(0) else None,
                               -g * op.input(0) / (op.input(1) * op.input(1))
                               if op.needs(1) else None),
        ar.Neg: lambda op, g: -g,
        ar.PowScalar: lambda op, g: (_zeros_like(g) if op.ctx.exponent == 0
                                     else g * x(op) ** (op.ctx.exponent - 1) * op.ctx.exponent),
        ar.Pow: _pow,
        ar.Exp: lambda op, g: g * y(op),
        ar.Log: lambda op, g: g / x(op),
        ar.Sqrt: lambda op, g: g / (y(op) * 2),
        ar.Abs: lambda op, g: g * _mask(op, get_array_module(g._data).sign(op.ctx.saved[0])),
        ar.Sign: lambda op, g: _zeros_like(g),
        sel.Clamp: lambda op, g: g * _mask(op, sel.Clamp.inside(op.ctx)),
        sel.Maximum: lambda op, g: _extremum(op, g, True),
        sel.Minimum: lambda op, g: _extremum(op, g, False),
        sel.Where: lambda op, g: (None, g * _mask(op, op.ctx.saved[0]) if op.needs(1) else None,
                                 g * _mask(op, ~op.ctx.saved[0]) if op.needs(2) else None),
        _casting.Cast: lambda op, g: g,
        _casting.Clone: lambda op, g: g,
        red.Sum: lambda op, g: _reduced(op, g).expand(tuple(op.ctx.shape)),
        red.Mean: lambda op, g: (_reduced(op, g) / _count(op.ctx)).expand(tuple(op.ctx.shape)),
        red.LogSumExp: _logsumexp,
        sh.Reshape: lambda op, g: g.reshape(tuple(op.ctx.shape)),
        sh.Permute: lambda op, g: g.permute(tuple(int(i) for i in np.argsort(op.ctx.perm))),
        sh.Expand: lambda op, g: g,
        linalg.MatMul: _matmul,
        linalg.Linear: _linear,
        ac.Sigmoid: lambda op, g: g * y(op) * (1 - y(op)),
        ac.Tanh: lambda op, g: g * (1 - y(op) * y(op)),
        ac.ReLU: lambda op, g: g * _mask(op, op.ctx.saved[0] > 0),
        ac.LeakyReLU: _leaky,
        ac.Softplus: _softplus,
        ac.SiLU: lambda op, g: g * (x(op).sigmoid() * (1 + x(op) * (1 - x(op).sigmoid()))),
        Softmax: lambda op, g: y(op) * (g - (g * y(op)).sum(dim=op.ctx.dim, keepdim=True)),
        LogSoftmax: lambda op, g: g - y(op).exp() * g.sum(dim=op.ctx.dim, keepdim=True),
        ac.ELU: _elu,
        ac.HardTanh: lambda op, g: g * _mask(op, (op.ctx.saved[0] > op.ctx.lo)
                                             & (op.ctx.saved[0] < op.ctx.hi)),
        loss.MSE: _mse,
        loss.Quadratic: _quadratic,
        loss.L1: _l1,
        cl.CrossEntropy: _cross_entropy,
        cl.NLL: _nll,
        ex.Exp2: lambda op, g: g * y(op) * math.log(2.0),
        ex.Expm1: lambda op, g: g * (y(op) + 1),
        ex.Log2: lambda op, g: g / (x(op) * math.log(2.0)),
        ex.Log10: lambda op, g: g / (x(op) * math.log(10.0)),
        ex.Log1p: lambda op, g: g / (x(op) + 1),
        ex.Rsqrt: lambda op, g: g * y(op) * y(op) * y(op) * -0.5,
        ex.Reciprocal: lambda op, g: -(g * y(op) * y(op)),
        ro.Floor: lambda op, g: _zeros_like(g),
        ro.Ceil: lambda op, g: _zeros_like(g),
        ro.Trunc: lambda op, g: _zeros_like(g),
        ro.Round: lambda op, g: _zeros_like(g),
        ro.Frac: lambda op, g: g,
        tr.Sin: lambda op, g: g * x(op).cos(),
        tr.Cos: lambda op, g: -(g * x(op).sin()),
        tr.Tan: lambda op, g: g * (1 + y(op) * y(op)),
        tr.Sinh: lambda op, g: g * x(op).cosh(),
        tr.Cosh: lambda op, g: g * x(op).sinh(),
        sh.Flip: lambda op, g: g.flip(tuple(op.ctx.axes)),
        join.Cat: _cat,
        join.Stack: lambda op, g: tuple(t if op.needs(k) else None
                                        for k, t in enumerate(g.unbind(op.ctx.axis))),
        join.Split: _split_back,
        join.Unbind: _unbind_back,
        indexing.GetItem: _getitem,
        ScatterAdd: _scatter,
    }




def supported() -> list[str]:
    """The names of the operations that can be differentiated twice."""
    return sorted(fn.__name__ for fn in rules())
