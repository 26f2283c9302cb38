"""Issue 4's results table: the lectures' training recipes trained with lamina and with PyTorch.

Each preset of lamina/train/presets.py is trained on Fashion-MNIST (1) by lamina, through
:func:`lamina.train.runner.run` exactly as ``lamina train --preset NAME --dataset
fashion-mnist --seed S`` (its run directory goes under ``--out``), and (2) by the same recipe
in PyTorch, from the lamina model's initial state dict (the runner's ``build_run``, same
seed, copied through NumPy), on the same float32 batches in the same order (the loader's
``permutation(epoch)`` for epochs 1, 2, ..., as ``fit`` calls ``set_epoch``), with the same
loss, optimiser and hyper-parameters and, for tf-cnn, the same dropout masks (drawn from a
copy of lamina's global generator as ``lamina.ops.dropout`` draws them). The two runs then
differ only by rounding, which training amplifies (``--divergence STEPS`` measures how
fast); each framework's seed-to-seed spread (``--seeds``) is the noise they are compared to,
and ``--nudge`` trains PyTorch against itself (first bias one ulp off).

    python benchmarks/results.py --markdown docs/results.md    # all presets, seed 0, full length
    python benchmarks/results.py --threads 1 --presets nielsen-30 --seeds 0,1,2 --json r.json
    python benchmarks/results.py --threads 1 --presets nielsen-30 --seeds 0,1,2 --nudge --json r.json
    python benchmarks/results.py --threads 1 --presets tf-cnn --epochs 8 --json r.json
    python benchmarks/results.py --threads 1 --presets nielsen-30 --divergence 1000 --json r.json
    python benchmarks/results.py --report --json r.json --markdown docs/results.md

``--json FILE`` merges every run into FILE (presets can be trained by separate processes) and
the tables use all runs in it. ``--markdown FILE`` rewrites the text between ``<!--
results:begin -->`` and ``<!-- results:end -->`` in FILE (the text around them is kept).

This file is the driver (the command line, the machine's description, the stored runs); the
lamina run is in ``results_lamina.py``, the PyTorch twin in ``results_torch.py``, the drift
measurement in ``results_divergence.py`` and the tables in ``results_tables.py``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

from results_divergence import divergence
from results_lamina import train_lamina
from results_tables import PRESETS, tables, write_markdown
from results_torch import train_torch

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default=",".join(PRESETS),
                        help="comma-separated presets to train (default: all five)")
    parser.add_argument("--epochs", type=int, help="epochs for every preset (default: the preset's)")
    parser.add_argument("--seeds", default="0",
                        help="comma-separated seeds, each trained in both frameworks (default 0)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads for NumPy's BLAS and for PyTorch (default: the CPU count)")
    parser.add_argument("--out", help="folder for lamina's run directories (default: a temp dir)")
    parser.add_argument("--json", help="merge the runs into this file; the table uses all of it")
    parser.add_argument("--markdown", help="write the generated tables into this page")
    parser.add_argument("--report", action="store_true", help="train nothing; tabulate --json")
    parser.add_argument("--nudge", action="store_true",
                        help="train only a control PyTorch run with its first bias one ulp off")
    parser.add_argument("--divergence", type=int, metavar="STEPS",
                        help="instead of training, measure how fast same-start runs drift apart")
    args = parser.parse_args(argv)
    args.presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    bad = [p for p in args.presets if p not in PRESETS]
    if bad:
        parser.error(f"unknown preset(s) {bad}; choose from {list(PRESETS)}")
    args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    for name in ("epochs", "threads", "divergence"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    if args.report and not args.json:
        parser.error("--report tabulates the runs of --json FILE; give --json")
    return args


def environment(threads: int) -> dict:
    """CPU, versions and threads (via benchmarks/workloads/environment.py when present)."""
    import numpy as np
    import torch

    info = {"threads": threads, "numpy": np.__version__, "torch": torch.__version__,
            "cpus": os.cpu_count(), "load": [round(v, 2) for v in os.getloadavg()]}
    try:  # the issue-6 benchmark's description of the machine, when it is there
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from workloads.environment import describe
        info.update(describe(threads, "--threads", True, False))
    except Exception as exc:  # noqa: BLE001 - the description is a courtesy
        info["describe_error"] = repr(exc)
    import lamina  # the copy actually imported; others may be editing the working tree

    package, digest = Path(lamina.__file__).parent, hashlib.sha256()
    for file in sorted(package.rglob("*.py")):
        digest.update(file.relative_to(package).as_posix().encode() + file.read_bytes())
    info["lamina_source"] = f"{package} (sha256 of its .py files {digest.hexdigest()[:12]})"
    info["summary"] = (f"{info.get('cpu_model', 'CPU')}, {info['cpus']} logical CPUs shared with "
                       f"other users, {threads} thread(s) for NumPy's BLAS and PyTorch, NumPy "
                       f"{info['numpy']}, PyTorch {info['torch']}, Python {sys.version.split()[0]}")
    return info


def main(argv: list[str] | None = None) -> int:
    """Train (or measure drift, or only tabulate), store the runs, print and write the tables."""
    args = parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before NumPy and torch load
    # After PYTHONPATH's entries: PYTHONPATH=<a copy of the tree> trains that copy's lamina.
    sys.path.insert(1 + len([p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]),
                    str(ROOT))
    from lamina.train.presets import PRESETS as LAMINA_PRESETS

    store = Path(args.json) if args.json else None
    runs = json.loads(store.read_text()) if store and store.exists() else {}
    if args.divergence:
        for preset in args.presets:
            print(f"[{preset}] divergence over {args.divergence} steps ...", file=sys.stderr)
            runs.setdefault("_divergence", {})[preset] = divergence(preset, args.divergence,
                                                                    args.threads)
    elif args.nudge:
        for preset in args.presets:
            for seed in args.seeds:
                runs.setdefault(preset, {}).setdefault(str(seed), {})["torch_nudged"] = \
                    train_torch(preset, seed, args.epochs, args.threads, nudge=True)
    elif not args.report:
        env = environment(args.threads)
        out_root = args.out or tempfile.mkdtemp(prefix="lamina-results-")
        for preset in args.presets:
            for seed in args.seeds:
                print(f"[{preset} seed {seed}] lamina ...", file=sys.stderr, flush=True)
                entry = {"preset_epochs": LAMINA_PRESETS[preset]["config"]["epochs"], "env": env,
                         "lamina": train_lamina(preset, seed, args.epochs, out_root)}
                print(f"[{preset} seed {seed}] PyTorch ...", file=sys.stderr, flush=True)
                entry["torch"] = train_torch(preset, seed, args.epochs, args.threads)
                runs.setdefault(preset, {})[str(seed)] = entry
                if store:  # after every run: a long session keeps what it finished
                    store.write_text(json.dumps(runs, indent=1))
    if store and (args.divergence or args.nudge):
        store.write_text(json.dumps(runs, indent=1))
    generated = tables(runs)
    print(generated)
    if args.markdown:
        write_markdown(Path(args.markdown), generated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
