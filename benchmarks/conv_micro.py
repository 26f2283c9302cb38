"""Side-by-side timings of lamina's convolution and pooling against PyTorch's CPU build.

Not a test: run it by hand to see where the time goes.

    python benchmarks/conv_micro.py                          # wall time, libraries' threads
    python benchmarks/conv_micro.py --threads 1 --cpu-time   # steadier on a shared machine
    python benchmarks/conv_micro.py --quick --models-only

Each case is timed alternately in both frameworks (so a busy machine slows both alike); the
minimum over the repetitions (the run least disturbed by other processes) and the median are
reported in milliseconds per call, and "ratio" is lamina / torch (below 1: lamina is faster).
The per-layer rows time one operation's forward (no graph) and forward + backward with a
fixed cotangent laid out like lamina's output (as the next layer would hand it back). The
models are forward + backward of the logits (no loss, no optimiser): LeNet-5 on 32x32
batches of 64 and Grohs's lecture's MNIST CNN on 28x28 batches of 50.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def _parse_args():
    parser = argparse.ArgumentParser(description="lamina vs PyTorch: convolution and pooling timings")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--models-only", action="store_true", help="skip the per-layer table")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS / torch threads (default: the libraries' own choice)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="measure process CPU time instead of wall time (steadier on a shared "
                             "machine; meaningful with --threads 1)")
    return parser.parse_args()


ARGS = _parse_args() if __name__ == "__main__" else None
if ARGS is not None and ARGS.threads:
    # must be set before NumPy loads OpenBLAS
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lamina as lm  # noqa: E402
from lamina.ops.conv import conv2d  # noqa: E402
from lamina.ops.linalg import linear  # noqa: E402
from lamina.ops.pooling import avg_pool2d, max_pool2d  # noqa: E402

_clock = time.perf_counter


def _time(fn, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        t = _clock()
        fn()
        out.append(_clock() - t)
    return out


def compare(name: str, lm_fn, torch_fn, reps: int, inner: int = 1) -> tuple[float, float]:
    """Milliseconds per call of both (the median, and the minimum, the run least disturbed by
    other processes), timed alternately after a warm-up; returns the minima."""
    lm_fn(), torch_fn()
    a, b = [], []
    for _ in range(reps):
        a += _time(lambda: [lm_fn() for _ in range(inner)], 1)
        b += _time(lambda: [torch_fn() for _ in range(inner)], 1)
    ta, tb = min(a) * 1e3 / inner, min(b) * 1e3 / inner
    ma, mb = statistics.median(a) * 1e3 / inner, statistics.median(b) * 1e3 / inner
    print(f"{name:46s} lamina {ta:8.3f} ms (median {ma:8.3f})   torch {tb:8.3f} ms "
          f"(median {mb:8.3f})   ratio {ta / tb:5.2f}", flush=True)
    return ta, tb


def layer_cases(torch):
    """(name, input shape, requires input grad, lamina op, torch op, parameter shapes)."""
    F = torch.nn.functional
    return [
        ("lenet conv1 1->6 5x5 (64,1,32,32)", (64, 1, 32, 32), False,
         lambda x, w, b: conv2d(x, w, b), lambda x, w, b: F.conv2d(x, w, b), (6, 1, 5, 5)),
        ("lenet conv2 6->16 5x5 (64,6,14,14)", (64, 6, 14, 14), True,
         lambda x, w, b: conv2d(x, w, b), lambda x, w, b: F.conv2d(x, w, b), (16, 6, 5, 5)),
        ("cnn conv1 1->32 5x5 p2 (50,1,28,28)", (50, 1, 28, 28), False,
         lambda x, w, b: conv2d(x, w, b, padding=2), lambda x, w, b: F.conv2d(x, w, b, padding=2),
         (32, 1, 5, 5)),
        ("cnn conv2 32->64 5x5 p2 (50,32,14,14)", (50, 32, 14, 14), True,
         lambda x, w, b: conv2d(x, w, b, padding=2), lambda x, w, b: F.conv2d(x, w, b, padding=2),
         (64, 32, 5, 5)),
        ("3x3 s1 p1 64->64 (32,64,16,16)", (32, 64, 16, 16), True,
         lambda x, w, b: conv2d(x, w, b, padding=1), lambda x, w, b: F.conv2d(x, w, b, padding=1),
         (64, 64, 3, 3)),
        ("max_pool 2x2 (64,6,28,28)", (64, 6, 28, 28), True,
         lambda x: max_pool2d(x, 2), lambda x: F.max_pool2d(x, 2), None),
        ("max_pool 2x2 (50,32,28,28)", (50, 32, 28, 28), True,
         lambda x: max_pool2d(x, 2), lambda x: F.max_pool2d(x, 2), None),
        ("max_pool 3x3 s2 p1 (32,64,32,32)", (32, 64, 32, 32), True,
         lambda x: max_pool2d(x, 3, 2, 1), lambda x: F.max_pool2d(x, 3, 2, 1), None),
        ("avg_pool 2x2 (64,6,28,28)", (64, 6, 28, 28), True,
         lambda x: avg_pool2d(x, 2), lambda x: F.avg_pool2d(x, 2), None),
    ]


def run_layers(torch, reps: int) -> None:
    rng = np.random.default_rng(0)
    for name, shape, input_grad, lm_op, t_op, wshape in layer_cases(torch):
        x = rng.standard_normal(shape, dtype=np.float32)
        params = []
        if wshape is not None:
            params = [rng.standard_normal(wshape, dtype=np.float32) * 0.1,
                      rng.standard_normal(wshape[0], dtype=np.float32)]
        lx = lm.tensor(x, requires_grad=input_grad)
        tx = torch.tensor(x, requires_grad=input_grad)
        lp = [lm.tensor(p, requires_grad=True) for p in params]
        tp = [torch.tensor(p, requires_grad=True) for p in params]
        out_shape = tuple(t_op(tx, *tp).shape)
        c = rng.standard_normal(out_shape, dtype=np.float32)
        # Inside a network the incoming gradient has the memory order of lamina's output (the
        # next operation preserves it), so the cotangent is laid out like that output.
        like = np.empty_like(lm_op(lx, *lp).numpy())
        like[...] = c
        lc, tc = lm.Tensor._wrap(like), torch.tensor(c)

        def lm_step():
            lm_op(lx, *lp).backward(gradient=lc)

        def torch_step():
            t_op(tx, *tp).backward(tc)

        def lm_fwd():
            with lm.no_grad():
                lm_op(lx, *lp)

        def torch_fwd():
            with torch.no_grad():
                t_op(tx, *tp)

        compare(name + " fwd", lm_fwd, torch_fwd, reps)
        compare(name + " fwd+bwd", lm_step, torch_step, reps)


def _models(torch):
    """LeNet-5 and Grohs's MNIST CNN, with the same random weights in both frameworks."""
    F = torch.nn.functional
    rng = np.random.default_rng(1)

    def params(shapes):
        arrays = [rng.standard_normal(s, dtype=np.float32) * np.float32(1 / np.sqrt(np.prod(s[1:])))
                  for s in shapes]
        return [lm.tensor(a, requires_grad=True) for a in arrays], \
               [torch.tensor(a, requires_grad=True) for a in arrays]

    def net(spec, pads):
        def forward(x, p, conv, pool, relu, flatten, lin):
            h = pool(relu(conv(x, p[0], p[1], pads[0])), 2)
            h = pool(relu(conv(h, p[2], p[3], pads[1])), 2)
            h = flatten(h)
            for k in range(4, len(p) - 2, 2):
                h = relu(lin(h, p[k], p[k + 1]))
            return lin(h, p[-2], p[-1])
        return spec, forward

    lenet = net([(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,), (84, 120), (84,),
                 (10, 84), (10,)], (0, 0))
    cnn = net([(32, 1, 5, 5), (32,), (64, 32, 5, 5), (64,), (1024, 3136), (1024,), (10, 1024), (10,)],
              (2, 2))
    lm_ops = (lambda x, w, b, p: conv2d(x, w, b, padding=p), max_pool2d, lm.relu,
              lambda h: h.flatten(1), linear)
    t_ops = (lambda x, w, b, p: F.conv2d(x, w, b, padding=p), F.max_pool2d, F.relu,
             lambda h: h.flatten(1), F.linear)
    for name, (spec, forward), shape in (("LeNet-5 (64,1,32,32)", lenet, (64, 1, 32, 32)),
                                          ("Grohs CNN (50,1,28,28)", cnn, (50, 1, 28, 28))):
        lp, tp = params(spec)
        x = rng.standard_normal(shape, dtype=np.float32)
        c = rng.standard_normal((shape[0], 10), dtype=np.float32)
        lx, tx, lc, tc = lm.tensor(x), torch.tensor(x), lm.tensor(c), torch.tensor(c)
        yield (name, shape[0],
               lambda lx=lx, lp=lp, lc=lc, f=forward: f(lx, lp, *lm_ops).backward(gradient=lc),
               lambda tx=tx, tp=tp, tc=tc, f=forward: f(tx, tp, *t_ops).backward(tc))


def run_models(torch, reps: int) -> None:
    for name, batch, lm_step, torch_step in _models(torch):
        ta, tb = compare(name + " fwd+bwd", lm_step, torch_step, reps)
        print(f"{'':46s} lamina {batch / ta * 1e3:8.0f} img/s              "
              f"torch {batch / tb * 1e3:8.0f} img/s")


def main() -> None:
    global _clock
    args = ARGS
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.cpu_time:
        _clock = time.process_time
    torch.manual_seed(0)
    reps = 7 if args.quick else 21
    print(f"torch {torch.__version__} with {torch.get_num_threads()} threads; numpy {np.__version__}; "
          f"{'CPU' if args.cpu_time else 'wall'} time, ms per call (minimum of {reps})")
    if not args.models_only:
        run_layers(torch, reps)
    run_models(torch, reps)


if __name__ == "__main__":
    main()
