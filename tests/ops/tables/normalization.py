"""batch_norm (training and evaluation) and layer_norm against PyTorch and finite differences."""
import numpy as np

import lamina as lm
from tests.reference import torch
from ..opinfo import OpInfo, Sample

F = torch.nn.functional

SHAPES = [(8, 3), (4, 3, 5), (2, 3, 4, 5)]


def bn_samples(rng, affine=("both", "weight", "bias", "none")):
    out = []
    for shape in SHAPES:
        c = shape[1]
        for kind in affine:
            x = rng.standard_normal(shape) * 2.0 + 0.5
            w = rng.standard_normal(c) if kind in ("both", "weight") else None
            b = rng.standard_normal(c) if kind in ("both", "bias") else None
            rm = rng.standard_normal(c) * 0.1
            rv = np.abs(rng.standard_normal(c)) + 0.5
            arrays = [a for a in (x, w, b) if a is not None]
            out.append(Sample((x, w, b, rm, rv), grad=(True,) * len(arrays) + (False, False),
                              name=f"{shape}-{kind}"))
    return out


def bn_train(x, w, b, rm, rv, fn):
    return fn(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)


def bn_train_no_running(x, w, b, rm, rv, fn):
    return fn(x, None, None, w, b, training=True)


def bn_running(x, w, b, rm, rv, fn):
    # The updated running statistics are outputs too (compared by value; no gradient).
    y = fn(x, rm, rv, w, b, training=True, momentum=0.3, eps=1e-3)
    return y, rm, rv


def bn_eval(x, w, b, rm, rv, fn):
    return fn(x, rm, rv, w, b, training=False, eps=1e-5)


def ln_samples(rng):
    out = []
    for shape, norm in (((4, 6), (6,)), ((2, 3, 5), (5,)), ((2, 3, 4), (3, 4))):
        x = rng.standard_normal(shape) * 1.5 - 0.3
        out.append(Sample((x, norm, rng.standard_normal(norm), rng.standard_normal(norm)),
                          name=f"{shape}-{norm}"))
        out.append(Sample((x, norm, None, None), name=f"{shape}-{norm}-noaffine"))
    return out


def row(name, body, **kw):
    return OpInfo(name, lambda *a: body(*a, fn=lm.ops.batch_norm), lambda *a: body(*a, fn=F.batch_norm),
                  bn_samples, **kw)


TABLE = [
    row("batch_normalization_train", bn_train),
    row("batch_normalization_train_no_running", bn_train_no_running),
    row("batch_normalization_running_stats", bn_running, gradcheck=False),
    row("batch_normalization_eval", bn_eval),
    OpInfo("layer_normalization", lambda x, n, w, b: lm.layer_norm(x, n, w, b, eps=1e-5),
           lambda x, n, w, b: F.layer_norm(x, n, w, b, eps=1e-5), ln_samples),
]
