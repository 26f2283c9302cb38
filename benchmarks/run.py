"""Side-by-side speed benchmark of lamina against PyTorch (CPU), JAX (jit, when installed) and
hand-written NumPy (issue 6). Not a test; see benchmarks/README.md.

    python benchmarks/run.py                      # all workloads, about 15 minutes
    python benchmarks/run.py --quick              # about a minute
    python benchmarks/run.py --only mlp-sgd,overhead --json out.json
    python benchmarks/run.py --markdown docs/benchmarks.md   # regenerate the doc
    python benchmarks/run.py --profile lenet-train             # cProfile lamina alone

The results table (medians, lamina/other ratios, issue 6's targets and whether they are met)
goes to stdout; progress to stderr. Exit status 1 if a workload failed (for example because
two frameworks disagreed on the loss of the same step).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
NAMES = ("mlp-sgd", "lenet-train", "tf-cnn-train", "lenet-infer", "overhead",
         "startup-and-memory")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="fewer images, steps and repetitions (about a minute)")
    parser.add_argument("--only", default="",
                        help=f"comma-separated workloads to run, from {', '.join(NAMES)}")
    parser.add_argument("--json", metavar="FILE", help="also write every sample as JSON")
    parser.add_argument("--markdown", metavar="FILE",
                        help="also write the full report page (docs/performance.md)")
    parser.add_argument("--reps", type=int, default=None,
                        help="repetitions per workload (default 5, 3 with --quick)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for NumPy's BLAS, PyTorch and JAX (default: as many as "
                             "NumPy's BLAS uses by itself)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with the process's CPU time instead of the wall clock: "
                             "steadier on a machine shared with other busy processes; use it "
                             "with --threads 1 (with more threads it adds their times up)")
    parser.add_argument("--no-jax", action="store_true", help="skip JAX even if installed")
    parser.add_argument("--profile", metavar="NAME",
                        help="instead of benchmarking, profile lamina alone on NAME (mlp-sgd, "
                             "lenet-train or tf-cnn-train) with cProfile")
    args = parser.parse_args(argv)
    args.only = [n.strip() for n in args.only.split(",") if n.strip()] or list(NAMES)
    unknown = [n for n in args.only if n not in NAMES]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {list(NAMES)}")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    return args


def _limit_threads(n: int) -> None:
    """Fix every library's thread count; must happen before NumPy, torch or jax load."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    if n == 1:  # XLA's CPU backend otherwise uses one thread per core
        flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flags).strip()


def _options(argv: list[str]) -> str:
    """The command-line options as typed, less ``--json FILE`` (a private output path)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--json":
            skip = True
        elif not arg.startswith("--json="):
            kept.append(arg)
    return "".join(f" {a}" for a in kept)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        _limit_threads(args.threads)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    sys.path[:0] = [str(BENCH_DIR), str(ROOT)]

    from workloads import PROFILABLE, WORKLOADS
    from workloads.common import EquivalenceError, Settings, blas_threads, use_clock
    from workloads.environment import describe, load_sample
    from workloads.report import document, notes, table

    threads, source = blas_threads()
    if args.threads is not None:
        source = f"--threads {args.threads}"
    try:
        import torch
        torch.set_num_threads(threads)
        has_torch = True
    except ImportError:
        has_torch = False
        print("PyTorch is not installed: lamina is compared with NumPy (and JAX) only",
              file=sys.stderr)
    has_jax = False
    if not args.no_jax:
        try:
            import jax  # noqa: F401
            has_jax = True
        except ImportError:
            print("JAX is not installed: its columns are left out", file=sys.stderr)
    settings = Settings(quick=args.quick, threads=threads, has_torch=has_torch, has_jax=has_jax,
                        reps=args.reps or (3 if args.quick else 5),
                        clock="cpu" if args.cpu_time else "wall")
    use_clock(settings.clock)

    if args.profile:
        if args.profile not in PROFILABLE:
            print(f"--profile takes one of {list(PROFILABLE)}, got {args.profile!r}",
                  file=sys.stderr)
            return 2
        from workloads.profiling import profile
        print(profile(args.profile, settings))
        return 0

    loads = [load_sample("start")]
    env = describe(threads, source, has_torch, has_jax)
    print(f"threads: NumPy BLAS {threads} ({source}), PyTorch "
          f"{env.get('torch_threads', '-')}; JAX {'yes' if has_jax else 'no'}; "
          f"clock {settings.clock}; "
          f"load average {loads[0]['load']}", file=sys.stderr)
    cpus = env.get("usable_cpus") or env.get("logical_cpus") or 1
    if loads[0]["load"][0] > cpus / 2 and (threads > 1 or settings.clock == "wall"):
        print(f"warning: the machine is busy (load {loads[0]['load'][0]} on {cpus} CPUs); "
              "wall-clock timings with several threads will be slow and noisy, consider "
              "--threads 1 --cpu-time", file=sys.stderr)
    rows, failures = [], []
    began = time.perf_counter()
    for name in args.only:
        start = time.perf_counter()
        print(f"[{name}] running ...", file=sys.stderr, flush=True)
        try:
            rows.extend(WORKLOADS[name](settings))
        except EquivalenceError as exc:
            failures.append(f"{name}: aborted, {exc}")
        except Exception as exc:  # noqa: BLE001 - report and go on with the other workloads
            traceback.print_exc()
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
        loads.append(load_sample(f"after {name}"))
        print(f"[{name}] {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    print(f"total {time.perf_counter() - began:.1f} s", file=sys.stderr)

    print(table(rows))
    print()
    print(notes(rows))
    for failure in failures:
        print(f"FAILED {failure}")
    command = "python benchmarks/run.py" + _options(argv if argv is not None else sys.argv[1:])
    if args.json:
        payload = {"command": command, "settings": vars(settings), "environment": env,
                   "loads": loads, "rows": [r.to_json() for r in rows], "failures": failures}
        Path(args.json).write_text(json.dumps(payload, indent=1))
    if args.markdown:
        path = Path(args.markdown)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(document(rows, env, loads, command, failures, settings))
        print(f"wrote {path}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
