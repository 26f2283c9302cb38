"""Loss functions against torch.nn.functional: every reduction, class weights, ignore_index,
label smoothing, probability targets, pos_weight, log_target and 'batchmean'. Targets that
are floating point require grad too (PyTorch differentiates them); weights never do."""
import warnings

import numpy as np

import lamina as lm
from tests.reference import torch
from ..opinfo import OpInfo, Sample

F = torch.nn.functional

REDUCTIONS = ("none", "mean", "sum")


def per_reduction(make, extra=None):
    """One sample per reduction (and per entry of ``extra``, a list of (name, kwargs))."""
    def samples(rng):
        out = []
        for name, kwargs in (extra or [("", {})]):
            for red in REDUCTIONS:
                s = make(rng)
                out.append(Sample(s.args, {**kwargs, "reduction": red}, s.grad,
                                  name=f"{s.name}{name}-{red}"))
        return out
    return samples


def regression(shape, gap=0.0, avoid=()):
    """Input and target whose difference keeps ``gap`` away from every value in ``avoid``."""
    def make(rng):
        x = rng.standard_normal(shape)
        d = rng.standard_normal(shape)
        for a in avoid:
            for sign in (1, -1):
                near = np.abs(d - sign * a) < gap
                d = np.where(near, sign * a + np.where(d > sign * a, 2 * gap, -2 * gap), d)
        return Sample((np.asarray(x), np.asarray(x - d)), name=str(shape))
    return make


def logits_indices(shape, ignore=False, ignore_index=-100, weight=False):
    """Logits of ``shape`` (class axis 1, or 0 for 1-d) and integer targets."""
    def make(rng):
        x = 2 * rng.standard_normal(shape)
        axis = 1 if len(shape) > 1 else 0
        c = shape[axis]
        tshape = shape[:axis] + shape[axis + 1:]
        t = rng.integers(0, c, size=tshape)
        if ignore and t.size > 1:
            t.flat[::3] = ignore_index
        args = (x, t) + ((rng.uniform(0.2, 2.0, c),) if weight else ())
        return Sample(args, grad=(True, False, False)[:len(args)], name=f"{shape}")
    return make


def logits_probs(shape, weight=False):
    def make(rng):
        x = 2 * rng.standard_normal(shape)
        axis = 1 if len(shape) > 1 else 0
        p = rng.uniform(0.05, 1.0, shape)
        p /= p.sum(axis=axis, keepdims=True)
        args = (x, p) + ((rng.uniform(0.2, 2.0, shape[axis]),) if weight else ())
        return Sample(args, grad=(True, True, False)[:len(args)], name=f"{shape}")
    return make


def transposed_indices(c, n, weight=False):
    """Logits stored as (C, N), used as their transpose (a non-contiguous (N, C) input)."""
    def make(rng):
        s = logits_indices((n, c), ignore=True, weight=weight)(rng)
        return Sample((np.ascontiguousarray(s.args[0].T),) + s.args[1:], grad=s.grad, name="transposed")
    return make


def log_probs_indices(shape, ignore=False, weight=False):
    def make(rng):
        s = logits_indices(shape, ignore, weight=weight)(rng)
        axis = 1 if len(shape) > 1 else 0
        x = s.args[0]
        x = x - np.log(np.exp(x).sum(axis=axis, keepdims=True))
        return Sample((x,) + s.args[1:], grad=s.grad, name=s.name)
    return make


def probabilities(shape, weight=False, extremes=False):
    def make(rng):
        p = rng.uniform(0.05, 0.95, shape)
        t = rng.uniform(0.0, 1.0, shape)
        if extremes:
            t = np.round(t)
        args = (p, t) + ((rng.uniform(0.2, 2.0, shape),) if weight else ())
        return Sample(args, grad=(True, True, False)[:len(args)], name=f"{shape}")
    return make


def logits_targets(shape, weight=False, pos_weight=False):
    def make(rng):
        x = 3 * rng.standard_normal(shape)
        t = rng.uniform(0.0, 1.0, shape)
        args = [x, t]
        if weight:
            args.append(rng.uniform(0.2, 2.0, shape))
        if pos_weight:
            args.append(rng.uniform(0.5, 3.0, shape[-1:]))
        return Sample(tuple(args), grad=(True, True, False, False)[:len(args)], name=f"{shape}")
    return make


def kl_pair(shape, zeros=False, log_target=False):
    def make(rng):
        q = rng.uniform(0.05, 1.0, shape)
        x = np.log(q / q.sum(axis=-1, keepdims=True))
        p = rng.uniform(0.05, 1.0, shape)
        if zeros:
            p.flat[::3] = 0.0
        p /= p.sum(axis=-1, keepdims=True)
        t = np.log(p) if log_target else p
        return Sample((x, t), grad=(True, not zeros), name=f"{shape}{'-zeros' if zeros else ''}")
    return make


def concat(*makers):
    def samples(rng):
        return [s for m in makers for s in m(rng)]
    return samples


def torch_quadratic(x, y, reduction="mean"):
    per = 0.5 * ((x - y) ** 2).reshape(x.shape[0] if x.dim() else 1, -1).sum(1)
    per = per if x.dim() else per.reshape(())
    return {"none": per, "mean": per.mean(), "sum": per.sum()}[reduction]


def torch_kl_div(x, t, **kwargs):
    with warnings.catch_warnings():   # torch's notice that 'mean' is not the true KL divergence
        warnings.simplefilter("ignore", UserWarning)
        return F.kl_div(x, t, **kwargs)


def ce_with(fn, tfn, **fixed):
    """An OpInfo pair passing the third array (if any) as ``weight`` and ``fixed`` kwargs."""
    return (lambda x, t, w=None, **kw: fn(x, t, weight=w, **fixed, **kw),
            lambda x, t, w=None, **kw: tfn(x, t, weight=w, **fixed, **kw))


def bce_logits(fn):
    return lambda x, t, w=None, pw=None, **kw: fn(x, t, weight=w, pos_weight=pw, **kw)


TABLE = [
    OpInfo("cross_entropy", lm.ops.cross_entropy, F.cross_entropy, concat(
        per_reduction(logits_indices((4, 5))), per_reduction(logits_indices((5,))),
        per_reduction(logits_indices((2, 3, 4, 2))))),
    OpInfo("cross_entropy_weight", lm.ops.cross_entropy, F.cross_entropy, concat(
        per_reduction(logits_indices((6, 4), weight=True)),
        per_reduction(logits_indices((2, 3, 5), weight=True)))),
    OpInfo("cross_entropy_ignore", lm.ops.cross_entropy, F.cross_entropy, concat(
        per_reduction(logits_indices((7, 4), ignore=True)),
        per_reduction(logits_indices((7, 4), ignore=True, weight=True)),
        per_reduction(logits_indices((2, 4, 5), ignore=True, weight=True)))),
    OpInfo("cross_entropy_ignore_index", *ce_with(lm.ops.cross_entropy, F.cross_entropy, ignore_index=2),
           per_reduction(logits_indices((8, 4), ignore=True, ignore_index=2))),
    OpInfo("cross_entropy_smoothing", *ce_with(lm.ops.cross_entropy, F.cross_entropy, label_smoothing=0.2),
           concat(per_reduction(logits_indices((6, 4))),
                  per_reduction(logits_indices((7, 4), ignore=True, weight=True)),
                  per_reduction(logits_indices((2, 3, 3), weight=True)))),
    OpInfo("cross_entropy_transposed", lambda x, t, w=None, **kw: lm.ops.cross_entropy(x.T, t, w, **kw),
           lambda x, t, w=None, **kw: F.cross_entropy(x.T, t, w, **kw),
           concat(per_reduction(transposed_indices(4, 6)),
                  per_reduction(transposed_indices(5, 7, weight=True), [("-smooth", {"label_smoothing": 0.1})]))),
    OpInfo("nll_loss_transposed", lambda x, t, **kw: lm.ops.nll_loss(x.T, t, **kw),
           lambda x, t, **kw: F.nll_loss(x.T, t, **kw), per_reduction(transposed_indices(4, 6))),
    OpInfo("cross_entropy_probs", lm.ops.cross_entropy, F.cross_entropy, concat(
        per_reduction(logits_probs((4, 5))), per_reduction(logits_probs((5,))),
        per_reduction(logits_probs((2, 3, 4), weight=True)))),
    OpInfo("cross_entropy_probs_smoothing",
           *ce_with(lm.ops.cross_entropy, F.cross_entropy, label_smoothing=0.3),
           concat(per_reduction(logits_probs((4, 5))), per_reduction(logits_probs((3, 4), weight=True)))),
    OpInfo("nll_loss", lm.ops.nll_loss, F.nll_loss, concat(
        per_reduction(log_probs_indices((5, 4))), per_reduction(log_probs_indices((4,))),
        per_reduction(log_probs_indices((2, 3, 4), weight=True)),
        per_reduction(log_probs_indices((7, 3), ignore=True, weight=True)))),
    OpInfo("mse_loss", lm.ops.mse_loss, F.mse_loss, concat(
        per_reduction(regression((4, 3))), per_reduction(regression((2, 3, 2))),
        per_reduction(regression(())))),
    OpInfo("l1_loss", lm.ops.l1_loss, F.l1_loss, concat(
        per_reduction(regression((4, 3), gap=0.1, avoid=(0.0,))),
        per_reduction(regression((5,), gap=0.1, avoid=(0.0,))))),
    OpInfo("smooth_l1_loss", lm.ops.smooth_l1_loss, F.smooth_l1_loss,
           per_reduction(regression((4, 5), gap=0.1, avoid=(0.0, 1.0)))),
    OpInfo("smooth_l1_loss_beta", lambda x, y, **kw: lm.ops.smooth_l1_loss(x, y, beta=0.5, **kw),
           lambda x, y, **kw: F.smooth_l1_loss(x, y, beta=0.5, **kw),
           per_reduction(regression((4, 5), gap=0.1, avoid=(0.0, 0.5)))),
    OpInfo("smooth_l1_loss_beta0", lambda x, y, **kw: lm.ops.smooth_l1_loss(x, y, beta=0.0, **kw),
           lambda x, y, **kw: F.smooth_l1_loss(x, y, beta=0.0, **kw),
           per_reduction(regression((3, 4), gap=0.1, avoid=(0.0,)))),
    OpInfo("huber_loss", lm.ops.huber_loss, F.huber_loss,
           per_reduction(regression((4, 5), gap=0.1, avoid=(0.0, 1.0)))),
    OpInfo("huber_loss_delta", lambda x, y, **kw: lm.ops.huber_loss(x, y, delta=0.6, **kw),
           lambda x, y, **kw: F.huber_loss(x, y, delta=0.6, **kw),
           per_reduction(regression((4, 5), gap=0.1, avoid=(0.0, 0.6)))),
    OpInfo("quadratic_loss", lm.ops.quadratic_loss, torch_quadratic, concat(
        per_reduction(regression((4, 3))), per_reduction(regression((5,))),
        per_reduction(regression((2, 3, 4))), per_reduction(regression(())))),
    OpInfo("binary_cross_entropy", lm.ops.binary_cross_entropy, F.binary_cross_entropy, concat(
        per_reduction(probabilities((4, 3))), per_reduction(probabilities((6,), extremes=True)),
        per_reduction(probabilities((3, 4), weight=True)))),
    OpInfo("bce_with_logits", bce_logits(lm.binary_cross_entropy_with_logits),
           bce_logits(F.binary_cross_entropy_with_logits), concat(
               per_reduction(logits_targets((4, 3))), per_reduction(logits_targets((5,))),
               per_reduction(logits_targets((3, 4), weight=True)))),
    OpInfo("bce_with_logits_pos_weight",
           lambda x, t, pw, **kw: lm.binary_cross_entropy_with_logits(x, t, pos_weight=pw, **kw),
           lambda x, t, pw, **kw: F.binary_cross_entropy_with_logits(x, t, pos_weight=pw, **kw),
           concat(per_reduction(logits_targets((4, 3), pos_weight=True)),
                  per_reduction(logits_targets((2, 2, 5), pos_weight=True)))),
    OpInfo("bce_with_logits_both_weights", bce_logits(lm.binary_cross_entropy_with_logits),
           bce_logits(F.binary_cross_entropy_with_logits),
           per_reduction(logits_targets((4, 3), weight=True, pos_weight=True))),
    OpInfo("kl_div", lm.ops.kl_div, torch_kl_div, concat(
        per_reduction(kl_pair((4, 5))),
        per_reduction(kl_pair((4, 5), log_target=True), [("-log_target", {"log_target": True})]),
        per_reduction(kl_pair((3, 4), zeros=True)),
        lambda r: [Sample(kl_pair((4, 5))(r).args, {"reduction": "batchmean"}, name="batchmean"),
                   Sample(kl_pair((2, 3, 4), zeros=True)(r).args, {"reduction": "batchmean"},
                          grad=(True, False), name="batchmean-zeros"),
                   Sample(kl_pair((4, 3), log_target=True)(r).args,
                          {"reduction": "batchmean", "log_target": True}, name="batchmean-log")])),
]
