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
twins; the ResNet is written once in ``gpu_models.py`` on ``t.nn``) from lamina's initial
weights, and the step is ``workloads.common.training_step``, one source text for both. Before
timing, the loss on batch 0, one step on it and the loss on batch 1 must agree with lamina's
to 1e-4 (as in ``eager.py``).

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

This file is the driver (the workloads, the command line, the budget, the output); the models
on a device are in ``gpu_models.py``, the check, the plan and the timed rows in
``gpu_workloads.py``, the summary and the Markdown table in ``gpu_report.py``. They are
imported once ``main`` has put benchmarks/ and the checkout on ``sys.path``, so this module
alone loads anywhere (tests/test_gpu_benchmark.py reads ``WORKLOADS`` from it).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
START = time.monotonic()
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
    from gpu_report import summarise
    from gpu_workloads import run_memory, run_workload

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
        from gpu_report import markdown
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
