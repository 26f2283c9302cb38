"""Eager speed: the training loops a user writes, in lamina and PyTorch (CPU), on 1 and 2
threads, as ratios; plus the fixed costs per operation (issue 13). Not a test.

    python benchmarks/eager.py                       # 1 and 2 threads, about 10 minutes
    python benchmarks/eager.py --quick               # a smoke run, about 2 minutes
    python benchmarks/eager.py --threads 1 --only mlp,micro
    python benchmarks/eager.py --markdown out.md --json out.json

Every training workload is one source text run under both frameworks (``t`` is ``lamina`` or
``torch``: the model class, the loss and the loop ``zero_grad; loss = cost(model(x), y);
loss.backward(); opt.step()`` are written once), starting from the same weights (lamina's,
copied through NumPy) on the same batches; before timing, the loss before and after one step
must agree to 1e-4. The frameworks are timed interleaved, a slice at a time (common.interleave);
on one thread the clock is the process's CPU time, on more the wall clock, and a workload's
figure is the best of its repetitions (the one least disturbed by other processes on a shared
machine); the medians are in ``--json``. Each thread count runs in its own process (BLAS and
OpenMP pools are sized when they load), and peak memory is measured in fresh processes.

The ``lamina.compile`` column (``--compiled``) times the same step under ``lamina.compile``;
without the flag the column is left empty.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
NAMES = ("mlp", "mlp-fused-cost", "lenet-train", "tf-cnn-train", "lenet-infer", "memory", "micro")
# issue 13's targets: (what, op, bound) on lamina / PyTorch of the row's metric
TARGETS = {"mlp": ("<= 0.33x PyTorch's epoch time", "<=", 0.33),
           "mlp-fused-cost": ("<= 0.33x PyTorch's epoch time", "<=", 0.33),
           "lenet-train": (">= 1.3x PyTorch's throughput", ">=", 1.3),
           "tf-cnn-train": (">= 1.1x PyTorch's throughput", ">=", 1.1),
           "lenet-infer": (">= 1.5x PyTorch's throughput", ">=", 1.5),
           "memory": ("<= 1/4 of PyTorch's", "<=", 0.25)}


# ----------------------------------------------------------------------------- one source text
def mlp_model(t):
    """Grohs's network [784, 30, 10] with sigmoid units (Nielsen's ``network.py``)."""
    nn = t.nn
    return nn.Sequential(nn.Linear(784, 30), nn.Sigmoid(), nn.Linear(30, 10), nn.Sigmoid())


def tutorial_cost(t, out, y):
    """The quadratic cost C = 1/(2n) sum_x ||y(x) - a||^2 written out, as a tutorial does."""
    return 0.5 * ((out - y) ** 2).sum(1).mean()


def fused_cost(t, out, y):
    """The same cost as each framework's one fused function: lamina's ``quadratic_loss``,
    PyTorch's ``mse_loss(reduction='sum')`` scaled by 1/(2n)."""
    F = t.nn.functional
    if hasattr(F, "quadratic_loss"):
        return F.quadratic_loss(out, y)
    return F.mse_loss(out, y, reduction="sum") * (0.5 / out.shape[0])


def lenet_model(t):
    """Schwing & Telgarsky's LeNet-5 (the lecture's ``Net``) on 28x28 images: conv1 pads by 2. The one
    source text of the reference models (tests/reference_models.py), on ``t``."""
    from tests.reference_models import reference_models

    return reference_models(t).Net(padding=2)


def tf_cnn_model(t):
    """Grohs's TensorFlow CNN: conv 32, conv 64, fc 1024, dropout 0.5, fc 10."""
    from tests.reference_models import reference_models

    return reference_models(t).TFCNN()


def cross_entropy(t, out, y):
    return t.nn.functional.cross_entropy(out, y)


class Trainer:
    """One framework's model, optimiser and step on NumPy batches."""

    def __init__(self, t, build, cost, lr: float, momentum: float, state=None,
                 compiled: bool = False):
        from workloads.common import SEED, lamina_state

        self.t = t
        t.manual_seed(SEED)
        self.model = build(t)
        if state is not None:
            self.model.load_state_dict({k: t.from_numpy(v.copy()) for k, v in state.items()})
        self.state = lamina_state(self.model) if state is None else state
        self.opt = t.optim.SGD(self.model.parameters(), lr=lr, momentum=momentum)
        self.cost = cost
        from workloads.common import training_step
        step = training_step(t, self.model, self.opt, cost)
        self._step = t.compile(step) if compiled else step

    def step(self, x, y):
        return self._step(self.t.from_numpy(x), self.t.from_numpy(y))

    def loss(self, x, y) -> float:
        with self.t.no_grad():
            return float(self.cost(self.t, self.model(self.t.from_numpy(x)),
                                   self.t.from_numpy(y)).item())

    def logits(self, x):
        with self.t.no_grad():
            return self.model(self.t.from_numpy(x)).numpy()


# ----------------------------------------------------------------------------- workloads
def _frameworks(build, cost, lr, momentum, compiled: bool):
    import lamina
    import torch

    trainers = {"lamina": Trainer(lamina, build, cost, lr, momentum)}
    trainers["torch"] = Trainer(torch, build, cost, lr, momentum, trainers["lamina"].state)
    if compiled:
        trainers["compiled"] = Trainer(lamina, build, cost, lr, momentum,
                                       trainers["lamina"].state, compiled=True)
    return trainers


def _check(name, trainers, xs, ys, train_mode=True) -> None:
    """Loss on batch 0, one step on it, loss on batch 1, equal in every framework (dropout off)."""
    from workloads.common import check_losses

    losses = {}
    for key, tr in trainers.items():
        tr.model.train(False)
        first = tr.loss(xs[0], ys[0])
        tr.step(xs[0], ys[0])
        losses["lamina" if key == "lamina" else key] = [first, tr.loss(xs[1], ys[1])]
        tr.model.train(train_mode)
    check_losses(name, losses)


def _time(trainers, run_piece, reps: int, pieces: int) -> dict:
    from workloads.common import interleave

    units = {k: (lambda piece, tr=tr: run_piece(tr, piece)) for k, tr in trainers.items()}
    return interleave(units, reps, pieces=pieces)


def _row(name, metric, unit, higher, seconds_or_values, threads, note) -> dict:
    return {"workload": name, "metric": metric, "unit": unit, "higher_is_better": higher,
            "threads": threads, "samples": seconds_or_values, "note": note}


def run_mlp(name: str, settings, compiled: bool) -> dict:
    """One epoch (50,000 images) of batch-10 SGD, lr 3.0: seconds per epoch."""
    import numpy as np
    from workloads.common import clock, fashion_mnist, one_hot, permutation

    images, labels, source = fashion_mnist(True)
    n = 5_000 if settings.quick else 50_000
    order = permutation(50_000)[:n]
    x = np.ascontiguousarray(images[order].reshape(n, 784))
    y = one_hot(labels[order])
    cost = tutorial_cost if name == "mlp" else fused_cost
    trainers = _frameworks(mlp_model, cost, 3.0, 0.0, compiled)
    xs, ys = x.reshape(-1, 10, 784), y.reshape(-1, 10, 10)
    with np.errstate(over="ignore"):
        _check(name, trainers, xs, ys)
    pieces = 10
    per_piece = len(xs) // pieces

    def piece_of(tr, piece):
        step = tr.step
        with np.errstate(over="ignore"):
            start = clock()
            for i in range(piece * per_piece, (piece + 1) * per_piece):
                step(xs[i], ys[i])
            return clock() - start

    seconds = _time(trainers, piece_of, settings.reps, pieces)
    scale = 50_000 / (pieces * per_piece * 10)
    what = ("cost written out, 0.5 * ((out - y) ** 2).sum(1).mean(), the same text in both"
            if name == "mlp" else "each framework's fused cost: lamina F.quadratic_loss, "
            "PyTorch 0.5/n * F.mse_loss(reduction='sum')")
    return _row(name, "epoch time", "s", False,
                {k: [s * scale for s in v] for k, v in seconds.items()}, settings.threads,
                f"{source}; batch 10, lr 3.0, PyTorch's default initialisation; {what}"
                + (f"; timed on {n:,} images, scaled to 50,000" if n < 50_000 else ""))


def run_train(name: str, settings, compiled: bool) -> dict:
    """LeNet-5 (batch 64) or the TF CNN (batch 50), SGD lr 0.01 momentum 0.9: images/s."""
    from workloads.common import batches, clock

    build, batch, per_piece = {"lenet-train": (lenet_model, 64, 8),
                               "tf-cnn-train": (tf_cnn_model, 50, 2)}[name]
    pieces = 5
    if settings.quick:
        per_piece = max(1, per_piece // 4)
    steps = per_piece * pieces
    xs, ys, source = batches(batch, max(steps, 2))
    trainers = _frameworks(build, cross_entropy, 0.01, 0.9, compiled)
    _check(name, trainers, xs, ys)

    def piece_of(tr, piece):
        step = tr.step
        start = clock()
        for i in range(piece * per_piece, (piece + 1) * per_piece):
            step(xs[i], ys[i])
        return clock() - start

    seconds = _time(trainers, piece_of, settings.reps, pieces)
    return _row(name, "training throughput", "images/s", True,
                {k: [steps * batch / s for s in v] for k, v in seconds.items()},
                settings.threads, f"{source}; {steps} steps of {batch} per repetition"
                + ("; dropout 0.5 on" if name == "tf-cnn-train" else ""))


def run_infer(settings, compiled: bool) -> dict:
    """LeNet-5 forward over the 10,000 test images in batches of 1,000 (no_grad): images/s."""
    import numpy as np
    from workloads.common import EquivalenceError, clock, fashion_mnist

    images, _, source = fashion_mnist(False)
    total = 3_000 if settings.quick else 10_000
    xs = np.ascontiguousarray(images[:total].reshape(-1, 1000, 1, 28, 28))
    trainers = _frameworks(lenet_model, cross_entropy, 0.01, 0.9, False)
    reference = trainers["lamina"].logits(xs[0])
    for key, tr in trainers.items():
        tr.model.eval()
        out = tr.logits(xs[0])
        if not np.allclose(out, reference, atol=1e-4, rtol=1e-4):
            raise EquivalenceError(f"lenet-infer: {key}'s logits differ from lamina's")
    pieces = 5 if len(xs) >= 5 else len(xs)
    per_piece = len(xs) // pieces

    def piece_of(tr, piece):
        start = clock()
        for x in xs[piece * per_piece:(piece + 1) * per_piece]:
            tr.logits(x)
        return clock() - start

    seconds = _time(trainers, piece_of, settings.reps, pieces)
    return _row("lenet-infer", "inference throughput", "images/s", True,
                {k: [pieces * per_piece * 1000 / s for s in v] for k, v in seconds.items()},
                settings.threads, f"{source}; {total:,} images in batches of 1,000 under no_grad")


def memory_child(framework: str, steps: int) -> None:
    """A fresh process: LeNet-5 training for ``steps`` steps; prints its peak RSS (MiB)."""
    import numpy as np
    from workloads.common import SEED
    from workloads.startup import peak_rss_mib

    rng = np.random.default_rng(SEED)
    xs = rng.random((4, 64, 1, 28, 28), dtype=np.float32)
    ys = rng.integers(0, 10, (4, 64)).astype(np.int64)
    t = __import__(framework)
    if framework == "torch":
        t.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    model = lenet_model(t)
    opt = t.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    from workloads.common import training_step
    step = training_step(t, model, opt, cross_entropy)
    for i in range(steps):
        step(t.from_numpy(xs[i % 4]), t.from_numpy(ys[i % 4]))
    if framework == "lamina":
        assert "torch" not in sys.modules, "the lamina child loaded torch"
    print(json.dumps({"peak_mib": peak_rss_mib()}))


def run_memory(settings) -> dict:
    steps = 10 if settings.quick else 50
    samples = {"lamina": [], "torch": []}
    for _ in range(1 if settings.quick else 3):
        for key in samples:
            out = _child(["--memory-child", key, "--steps", str(steps)], settings.threads)
            samples[key].append(json.loads(out.strip().splitlines()[-1])["peak_mib"])
    return _row("memory", "peak RSS (VmHWM), LeNet-5 training", "MiB", False, samples,
                settings.threads, f"fresh process per framework, {steps} steps of batch 64")


# ----------------------------------------------------------------------------- per-op costs
def run_micro(settings) -> list[dict]:
    """Fixed costs in microseconds per call (best of many short repetitions)."""
    from micro import micro_rows

    return micro_rows(settings)


# ----------------------------------------------------------------------------- driver
def _child(args: list[str], threads: int) -> str:
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], env=env,
                          capture_output=True, text=True, cwd=str(ROOT))
    if done.returncode != 0:
        raise RuntimeError(f"child {args} failed: {done.stderr[-3000:]}")
    sys.stderr.write(done.stderr)
    return done.stdout


def child_main(args) -> None:
    """Run the workloads on this process's thread count; print the rows as JSON."""
    import torch

    from workloads.common import EquivalenceError, Settings, use_clock

    threads = int(os.environ["OMP_NUM_THREADS"])
    torch.set_num_threads(threads)
    settings = Settings(quick=args.quick, threads=threads, reps=args.reps or (3 if args.quick else 5),
                        clock="cpu" if threads == 1 else "wall")
    use_clock(settings.clock)
    rows = []
    for name in args.only:
        print(f"[{threads} thread(s)] {name} ...", file=sys.stderr, flush=True)
        done = len(rows)
        try:
            if name in ("mlp", "mlp-fused-cost"):
                rows.append(run_mlp(name, settings, args.compiled))
            elif name in ("lenet-train", "tf-cnn-train"):
                rows.append(run_train(name, settings, args.compiled))
            elif name == "lenet-infer":
                rows.append(run_infer(settings, args.compiled))
            elif name == "memory":
                rows.append(run_memory(settings))
            elif name == "micro":
                rows.extend(run_micro(settings))
        except EquivalenceError as exc:
            rows.append({"workload": name, "failed": str(exc), "threads": threads})
        for row in rows[done:]:
            row["clock"] = "timeit, best of many" if name == "micro" else settings.clock
    print(json.dumps(rows))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer images, steps, repetitions")
    parser.add_argument("--threads", default="1,2", help="thread counts, e.g. 1,2 (default)")
    parser.add_argument("--only", default="", help=f"comma-separated, from {', '.join(NAMES)}")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (5; 3 with --quick)")
    parser.add_argument("--compiled", action="store_true",
                        help="also time the training steps under lamina.compile")
    parser.add_argument("--json", metavar="FILE", help="write every sample as JSON")
    parser.add_argument("--markdown", metavar="FILE", help="write the table as Markdown")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-child", metavar="FRAMEWORK", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=50, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.only = [n.strip() for n in args.only.split(",") if n.strip()] or list(NAMES)
    unknown = [n for n in args.only if n not in NAMES]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {list(NAMES)}")
    args.thread_counts = [int(n) for n in args.threads.split(",")]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path[:0] = [str(BENCH_DIR), str(ROOT)]
    if args.memory_child:
        memory_child(args.memory_child, args.steps)
        return 0
    if args.child:
        child_main(args)
        return 0
    from eager_report import markdown

    forwarded = ["--child", "--only", ",".join(args.only)]
    if args.quick:
        forwarded.append("--quick")
    if args.reps:
        forwarded += ["--reps", str(args.reps)]
    if args.compiled:
        forwarded.append("--compiled")
    rows = []
    for threads in args.thread_counts:
        rows.extend(json.loads(_child(forwarded, threads).strip().splitlines()[-1]))
    text = markdown(rows, TARGETS, args.compiled)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    return 1 if any("failed" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
