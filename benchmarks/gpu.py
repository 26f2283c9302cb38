"""GPU speed: lamina on a CUDA device (CuPy) beside PyTorch CUDA, in one run, as ratios. Not a
test.

    python benchmarks/gpu.py                                 # a machine with an NVIDIA GPU
    python benchmarks/gpu.py --budget 60                     # the whole run in about 60 s
    python benchmarks/gpu.py --markdown gpu.md --json gpu.json
    python benchmarks/gpu.py --smoke                         # any machine: does it all run?

Workloads (SGD lr 0.01 momentum 0.9, cross-entropy, 10 classes): LeNet-5 (``lamina.models.
lenet5``, Schwing & Telgarsky's ``Net``) and Grohs's TensorFlow CNN (``lamina.models.tf_cnn``)
training on 1x28x28 images at batch 64 and 256; a ResNet-18-style network (four stages of two
BasicBlocks, 64-128-256-512 maps, on 3x32x32 random data) training at batch 128; LeNet-5
inference (eval, ``no_grad``) at batch 256; and the peak device memory of the LeNet-5
batch-256 training step. PyTorch runs the identical modules (``tests/reference_models.py``'s
twins; the ResNet is written once below on ``t.nn``) from lamina's initial weights, and the
step is ``workloads.common.training_step``, one source text for both. Before timing, the loss on batch 0,
one step on it and the loss on batch 1 must agree with lamina's to 1e-4 (as in ``eager.py``).

Timing: after warm-up steps (CuPy compiles its kernels then), each repetition runs slices of
steps, the frameworks taking turns slice by slice (``workloads.common.interleave``); a slice
is ``synchronize(); clock; steps; synchronize(); clock`` on its own device, so queued GPU work
is always inside the time it belongs to. A row gives the best and the median repetition of
each framework and the ratio lamina / PyTorch (images/s: above 1 is better for lamina; memory:
below 1). Both frameworks compute in full float32: PyTorch's TF32 convolutions and matmuls are
switched off (``--torch-tf32`` leaves PyTorch's defaults; the loss check then allows 1e-2).
``--budget`` bounds the whole run, imports included: repetitions and slice lengths shrink to
fit it.

``--smoke`` runs every workload for two steps on tiny batches with lamina's 'cuda' backed by
the checking array module (``tests/checking_array.py``) and PyTorch on the CPU: it checks
that everything runs and the first losses agree, and its figures are not measurements.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
START = time.monotonic()
TARGET = (">= 0.8x PyTorch CUDA", 0.8)
SMOKE = "smoke (not a measurement)"
# name, kind, model, batch (the real run), batch under --smoke, weight in the budget
WORKLOADS = (
    ("lenet5-memory", "memory", "lenet5", 256, 4, 0.5),
    ("lenet5-train-256", "train", "lenet5", 256, 4, 1.0),
    ("tf-cnn-train-256", "train", "tf-cnn", 256, 4, 1.0),
    ("lenet5-train-64", "train", "lenet5", 64, 3, 1.0),
    ("tf-cnn-train-64", "train", "tf-cnn", 64, 3, 1.0),
    ("resnet18-train-128", "train", "resnet18", 128, 2, 1.5),
    ("lenet5-infer-256", "infer", "lenet5", 256, 4, 0.7),
)
TARGETED = ("lenet5-train-256", "tf-cnn-train-256")
BATCHES_ON_DEVICE = 4   # distinct batches cycled through by the timed steps


# ----------------------------------------------------------------------------- one source text
@functools.cache
def resnet18_class(t):
    """A ResNet-18 for 32x32 images on ``t.nn`` (``t`` is lamina or torch): a 3x3 stem of 64
    maps, four stages of two BasicBlocks (64, 128, 256, 512 maps; stride 2 from the second
    stage on), global average pooling and a linear layer."""
    nn, F = t.nn, t.nn.functional

    from tests.reference_models import reference_models

    BasicBlock = reference_models(t).BasicBlock   # relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut x)

    class ResNet18(nn.Module):
        def __init__(self, num_classes=10):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            widths, cin = (64, 128, 256, 512), 64
            for i, width in enumerate(widths):
                stride = 1 if i == 0 else 2
                setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(cin, width, stride),
                                                             BasicBlock(width, width)))
                cin = width
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512, num_classes)

        def forward(self, x):
            x = F.relu(self.bn1(self.conv1(x)))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet18


def build(t, model: str):
    """lamina's own model (``lamina.models``), or its PyTorch twin, or the ResNet-18 above."""
    import lamina

    if model == "resnet18":
        return resnet18_class(t)()
    if t is lamina:
        return lamina.models.lenet5() if model == "lenet5" else lamina.models.tf_cnn()
    from tests.reference_models import reference_models

    return reference_models(t).Net(padding=2) if model == "lenet5" else reference_models(t).TFCNN()


class DeviceTrainer:
    """``eager.Trainer``'s interface (``step``, ``loss``, ``logits`` on NumPy batches) for a
    model on ``device``; the torch one starts from ``state``, lamina's initial weights."""

    def __init__(self, t, model: str, device: str, state=None) -> None:
        from eager import cross_entropy
        from workloads.common import training_step
        from workloads.common import SEED, lamina_state, load_into_torch

        self.t, self.device = t, device
        t.manual_seed(SEED)
        module = build(t, model)
        if state is None:
            state = lamina_state(module)
        else:
            load_into_torch(module, state)
        self.state = state
        self.model = module.to(device)
        self.opt = t.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.train_step = training_step(t, self.model, self.opt, cross_entropy)
        self.cost = cross_entropy

    def put(self, array):
        return self.t.from_numpy(array).to(self.device)

    def step(self, x, y):
        return self.train_step(self.put(x), self.put(y))

    def loss(self, x, y) -> float:
        with self.t.no_grad():
            return float(self.cost(self.t, self.model(self.put(x)), self.put(y)).item())

    def logits(self, x) -> np.ndarray:
        with self.t.no_grad():
            return self.model(self.put(x)).cpu().numpy()

    def synchronize(self) -> None:
        if str(self.device).startswith("cuda"):
            self.t.cuda.synchronize()

    def run(self, kind: str, xs, ys, steps: int) -> float:
        """Seconds of ``steps`` training steps (or forward passes) on the device batches."""
        self.synchronize()
        start = time.perf_counter()
        if kind == "infer":
            with self.t.no_grad():
                for i in range(steps):
                    self.model(xs[i % len(xs)])
        else:
            for i in range(steps):
                self.train_step(xs[i % len(xs)], ys[i % len(ys)])
        self.synchronize()
        return time.perf_counter() - start


# ----------------------------------------------------------------------------- workloads
def data(model: str, batch: int, count: int):
    """``count`` batches: Fashion-MNIST-shaped for the convnets (``workloads.common.batches``),
    CIFAR-sized random images for the ResNet."""
    from workloads.common import SEED, batches

    if model != "resnet18":
        xs, ys, source = batches(batch, count)
        return xs, ys, source
    rng = np.random.default_rng(SEED)
    xs = rng.standard_normal((count, batch, 3, 32, 32), dtype=np.float32)
    return xs, rng.integers(0, 10, (count, batch)).astype(np.int64), "random 3x32x32 images"


def frameworks(model: str, settings) -> dict:
    import lamina
    import torch

    trainers = {"lamina": DeviceTrainer(lamina, model, settings.lamina_device)}
    trainers["torch"] = DeviceTrainer(torch, model, settings.torch_device, trainers["lamina"].state)
    return trainers


def check(name, kind, trainers, xs, ys, settings) -> None:
    """Before any timing: the loss on batch 0, one step on it and the loss on batch 1 (dropout
    off, BatchNorm on its running statistics) agree with lamina's, as in ``eager._check``; for
    inference, the logits agree."""
    from workloads.common import EquivalenceError, check_losses

    if kind == "infer":
        reference = trainers["lamina"].logits(xs[0])
        for key, tr in trainers.items():
            tr.model.eval()
            if not np.allclose(tr.logits(xs[0]), reference, atol=settings.tolerance,
                               rtol=settings.tolerance):
                raise EquivalenceError(f"{name}: {key}'s logits differ from lamina's")
        return
    losses = {}
    for key, tr in trainers.items():
        tr.model.train(False)
        first = tr.loss(xs[0], ys[0])
        tr.step(xs[0], ys[0])
        losses[key] = [first, tr.loss(xs[1], ys[1])]
        tr.model.train(True)
    check_losses(name, losses, settings.tolerance)


def plan(per_step: dict, time_left: float, settings) -> tuple[int, int, int]:
    """(repetitions, slices per repetition, steps per slice) fitting ``time_left`` seconds."""
    if settings.smoke:
        return 1, 1, 2
    slices = 4
    per_slice = int(min(50, max(1, round(0.2 / max(per_step.values())))))
    rep = slices * per_slice * sum(per_step.values())
    if rep > time_left:
        per_slice = max(1, int(per_slice * time_left / rep))
        rep = slices * per_slice * sum(per_step.values())
    return int(min(settings.max_reps, max(1, time_left // rep))), slices, per_slice


def run_workload(name, kind, model, batch, share, settings) -> dict:
    from workloads.common import interleave

    began = time.monotonic()
    xs, ys, source = data(model, batch, BATCHES_ON_DEVICE)
    trainers = frameworks(model, settings)
    check(name, kind, trainers, xs, ys, settings)
    on_device = {k: ([tr.put(x) for x in xs], [tr.put(y) for y in ys])
                 for k, tr in trainers.items()}
    per_step = {}
    for key, tr in trainers.items():
        if not settings.smoke:   # warm-up (kernels compile, pools fill), then a calibration
            tr.run(kind, *on_device[key], 3)
        per_step[key] = tr.run(kind, *on_device[key], 2) / 2
    # plan on 80% of what is left: a calibration of two steps may be optimistic
    reps, slices, per_slice = plan(per_step, 0.8 * (share - (time.monotonic() - began)), settings)
    units = {k: (lambda piece, tr=tr, k=k: tr.run(kind, *on_device[k], per_slice))
             for k, tr in trainers.items()}
    seconds = interleave(units, reps, pieces=slices, warmup=False)
    images = slices * per_slice * batch
    what = "training" if kind == "train" else "inference (eval, no_grad)"
    return {"workload": name, "kind": kind, "metric": f"{what} throughput", "unit": "images/s",
            "higher_is_better": True, "batch": batch,
            "samples": {k: [images / s for s in v] for k, v in seconds.items()},
            "note": f"{source}; {reps} repetition(s) of {slices} x {per_slice} steps"
                    + ("; dropout 0.5 on" if model == "tf-cnn" and kind == "train" else "")}


def run_memory(name, model, batch, settings) -> list[dict]:
    """Peak device memory of the training step (weights, momentum, batches included): what
    the tensors held and what the allocators reserved."""
    import lamina
    import torch

    on_gpu = settings.torch_device.startswith("cuda")
    lamina.cuda.empty_cache()
    if on_gpu:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    xs, ys, source = data(model, batch, 2)
    trainers = frameworks(model, settings)
    check(name, "train", trainers, xs, ys, settings)
    for tr in trainers.values():
        tr.run("train", [tr.put(x) for x in xs], [tr.put(y) for y in ys], 2)
    mib = 2.0 ** 20
    allocated = {"lamina": [lamina.cuda.max_memory_allocated() / mib],
                 "torch": [torch.cuda.max_memory_allocated() / mib] if on_gpu else []}
    pool = _pool_bytes()
    reserved = {"lamina": [pool / mib] if pool is not None else [],
                "torch": [torch.cuda.max_memory_reserved() / mib] if on_gpu else []}
    common = {"kind": "memory", "unit": "MiB", "higher_is_better": False, "batch": batch}
    return [{"workload": name, "metric": "peak device memory allocated", "samples": allocated,
             "note": f"{source}; the check, then 2 training steps; lamina.cuda."
                     "max_memory_allocated() (CuPy's pool in use, as lamina last sampled it) "
                     "/ torch.cuda.max_memory_allocated()", **common},
            {"workload": f"{name}-reserved", "metric": "peak device memory reserved",
             "samples": reserved, "note": "what the allocators hold after the same steps: "
             "CuPy's pool total (it keeps freed blocks, so this is its high-water mark) / "
             "torch.cuda.max_memory_reserved()", **common}]


def _pool_bytes():
    """Bytes CuPy's default memory pool holds (its high-water mark: it keeps freed blocks),
    or None where lamina's CUDA backend is not CuPy."""
    from lamina.backend import cuda_backend

    pool = getattr(getattr(cuda_backend(), "module", None), "get_default_memory_pool", None)
    try:
        return int(pool().total_bytes()) if pool is not None else None
    except Exception:  # noqa: BLE001 - a stand-in module without CuPy's pool
        return None


# ----------------------------------------------------------------------------- results
def summarise(row: dict) -> dict:
    """Best, median and the ratios lamina / PyTorch; the target on the convnets at 256."""
    higher = row["higher_is_better"]
    pick = max if higher else min
    row["best"] = {k: pick(v) for k, v in row["samples"].items() if v}
    row["median"] = {k: statistics.median(v) for k, v in row["samples"].items() if v}
    for what in ("best", "median"):
        got = row[what]
        row[f"ratio_{what}"] = (got["lamina"] / got["torch"]
                                if got.get("torch") and "lamina" in got else None)
    if row["workload"] in TARGETED and row["ratio_median"] is not None:
        row["target"], row["met"] = TARGET[0], row["ratio_median"] >= TARGET[1]
    else:
        row["target"], row["met"] = (TARGET[0] if row["workload"] in TARGETED else None), None
    return row


def markdown(rows: list[dict], header: dict, smoke: bool) -> str:
    from eager_report import fmt, fmt_ratio

    head = ["workload", "metric", "batch", "lamina best", "lamina median", "PyTorch best",
            "PyTorch median", "lamina / PyTorch (best)", "(median)", "target", "met?"]
    cupy = f", CuPy {header['array_module']}" if header["array_module"] else ""
    lines = [f"GPU benchmark{f' ({SMOKE})' if smoke else ''}: lamina on "
             f"{header['lamina_device']} ({header['lamina_name']}{cupy}) vs PyTorch "
             f"{header['torch_version']} on {header['torch_device']} ({header['torch_name']}); "
             f"{header['elapsed_s']:.0f} s of a {header['budget_s']:.0f} s budget",
             "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        if "failed" in row:
            lines.append(f"| {row['workload']} | FAILED: {row['failed']} |"
                         + " |" * (len(head) - 2))
            continue
        cells = [fmt(row[w].get(k)) + (" (smoke)" if smoke else "")
                 for k in ("lamina", "torch") for w in ("best", "median")]
        better = "higher" if row["higher_is_better"] else "lower"
        lines.append("| " + " | ".join([
            row["workload"], f"{row['metric']} ({row['unit']}, {better} is better)",
            str(row["batch"]), *cells, fmt_ratio(row["ratio_best"]),
            fmt_ratio(row["ratio_median"]), row["target"] or "-",
            {True: "yes", False: "no", None: "-"}[row["met"]]]) + " |")
    precision = ("PyTorch keeps its TF32 defaults (--torch-tf32)." if header["torch_tf32"] else
                 "Both compute in full float32 (PyTorch's TF32 off; cuDNN autotuning off, its "
                 "default).")
    lines += ["", "Ratios divide lamina's figure by PyTorch's (throughput: above 1 is better for "
              f"lamina; memory: below 1); the target is judged on the medians. {precision}", ""]
    lines += [f"- {row['workload']}: {row['note']}" for row in rows if "note" in row]
    if smoke:
        lines += ["", f"All figures: {SMOKE}; lamina ran on the checking array module, "
                  "PyTorch on the CPU."]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- driver
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="2 steps per workload on tiny batches, lamina on the checking module")
    parser.add_argument("--budget", type=float, default=150.0, metavar="SECONDS",
                        help="bound on the whole run (default 150); repetitions shrink to fit")
    parser.add_argument("--reps", dest="max_reps", type=int, default=5,
                        help="at most this many repetitions (default 5)")
    parser.add_argument("--torch-tf32", action="store_true",
                        help="leave PyTorch's TF32 defaults (the loss check then allows 1e-2)")
    parser.add_argument("--only", default="", help="comma-separated workload names")
    parser.add_argument("--json", metavar="FILE", help="write every sample as JSON")
    parser.add_argument("--markdown", metavar="FILE", help="write the table as Markdown")
    args = parser.parse_args(argv)
    names = [w[0] for w in WORKLOADS]
    args.only = [n.strip() for n in args.only.split(",") if n.strip()] or names
    unknown = sorted(set(args.only) - set(names))
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {names}")
    args.tolerance = 1e-2 if args.torch_tf32 else 1e-4
    return args


def _no_gpu_reason() -> str | None:
    import lamina
    import torch

    missing = [] if lamina.cuda.is_available() else ["lamina.cuda.is_available() is False "
                                                     "(it needs CuPy and a GPU)"]
    missing += [] if torch.cuda.is_available() else ["torch.cuda.is_available() is False"]
    return "; ".join(missing) or None


def failure(exc: BaseException) -> str:
    """One line: the error and the innermost place in lamina it came from."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if Path(f.filename).resolve().is_relative_to(ROOT / "lamina")]
    where = ""
    if frames:
        place = Path(frames[-1].filename).resolve().relative_to(ROOT)
        where = f" (at {place}:{frames[-1].lineno})"
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:240] + where


def measure(args) -> list[dict]:
    import lamina
    import torch

    deadline = START + args.budget * 0.9   # the rest: writing the results, a slow slice
    rows = []
    chosen = [w for w in WORKLOADS if w[0] in args.only]
    for i, (name, kind, model, batch, smoke_batch, weight) in enumerate(chosen):
        weights = sum(w[5] for w in chosen[i:])
        share = max(0.0, deadline - time.monotonic()) * weight / weights
        batch = smoke_batch if args.smoke else batch
        print(f"gpu.py: {name} (batch {batch}, {share:.0f} s) ...", file=sys.stderr, flush=True)
        try:
            got = (run_memory(name, model, batch, args) if kind == "memory"
                   else [run_workload(name, kind, model, batch, share, args)])
            rows.extend(summarise(row) for row in got)
        except Exception as exc:  # noqa: BLE001 - one failed workload is a row, not the end
            message = failure(exc)
            names = (name, f"{name}-reserved") if kind == "memory" else (name,)
            rows.extend({"workload": n, "kind": kind, "batch": batch, "failed": message}
                        for n in names)
            print(f"gpu.py: {name} failed: {message}", file=sys.stderr, flush=True)
        lamina.cuda.empty_cache()
        if args.torch_device.startswith("cuda"):
            torch.cuda.empty_cache()
    return rows


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path[:0] = [str(BENCH_DIR), str(ROOT)]
    import lamina
    import torch

    with contextlib.ExitStack() as stack:
        if args.smoke:
            from lamina.backend import use_cuda_backend
            from tests.checking_array import CheckingBackend

            torch.set_num_threads(1)
            stack.enter_context(use_cuda_backend(CheckingBackend()))
            args.lamina_device, args.torch_device = "cuda", "cpu"
        else:
            reason = _no_gpu_reason()
            if reason:
                print(f"gpu.py: no CUDA device is available ({reason}); --smoke checks the "
                      f"benchmark without one", file=sys.stderr)
                return 2
            args.lamina_device = args.torch_device = "cuda"
            torch.backends.cudnn.allow_tf32 = args.torch_tf32
            torch.backends.cuda.matmul.allow_tf32 = args.torch_tf32
        rows = measure(args)
        from lamina.backend import cuda_backend

        header = {"lamina_device": args.lamina_device, "lamina_name": lamina.cuda.get_device_name(),
                  "array_module": getattr(cuda_backend().module, "__version__", None),
                  "torch_device": args.torch_device, "torch_version": torch.__version__,
                  "torch_name": (torch.cuda.get_device_name() if args.torch_device == "cuda"
                                 else "the CPU"),
                  "torch_cuda": torch.version.cuda, "torch_tf32": args.torch_tf32,
                  "smoke": args.smoke, "budget_s": args.budget,
                  "elapsed_s": time.monotonic() - START}
    text = markdown(rows, header, args.smoke)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps({"header": header, "rows": rows}, indent=1) + "\n")
    return 1 if any("failed" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
