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
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ("nielsen-30", "nielsen-30-30", "nielsen-30-30-30", "lenet5", "tf-cnn")
# The lectures' stated test accuracies, all on MNIST (seed 000 §5-§7; seed 001 states none).
LECTURE = {"nielsen-30": "94.84 %", "nielsen-30-30": "95.81 %", "nielsen-30-30-30": "95.07 %",
           "lenet5": "none stated", "tf-cnn": "0.99"}
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


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


def overrides(preset: str, seed: int, epochs: int | None, out: str | None = None) -> dict:
    """What ``lamina train --preset P --dataset fashion-mnist --seed S [--epochs N]`` passes."""
    return {"preset": preset, "dataset": "fashion-mnist", "seed": seed, "epochs": epochs,
            "out": out, "quiet": True}


# ------------------------------------------------------------------------------ lamina
def train_lamina(preset: str, seed: int, epochs: int | None, out_root: str) -> dict:
    """``lamina train`` itself: its per-epoch history, wall time and, from the saved
    ``model.safetensors``, how many test images the trained model assigns to each class."""
    from lamina.random import get_rng_state
    from lamina.serialization import load
    from lamina.train.fit import evaluate
    from lamina.train.runner import build_run, resolve_config, run

    out = os.path.join(out_root, f"{preset}-seed{seed}")
    started = time.perf_counter()
    history = run(overrides(preset, seed, epochs, out))
    wall = time.perf_counter() - started
    rng_after = json.dumps(get_rng_state()["state"])
    data, model, loss_fn, _ = build_run(resolve_config(overrides(preset, seed, epochs)))
    model.load_state_dict(load(os.path.join(out, "model.safetensors")))
    confusion = evaluate(model, data.test_loader, loss_fn, data.num_classes)["confusion"]
    return {"test_accuracy": [h["test_accuracy"] for h in history],
            "train_loss": [h["train_loss"] for h in history],
            "epoch_seconds": [h["seconds"] for h in history], "wall_seconds": wall,
            "run_dir": out, "rng_state_after": rng_after,
            "predicted_per_class": [int(c) for c in confusion.sum(axis=0)]}


# ------------------------------------------------------------------------------ PyTorch
def torch_model(spec: str, rng) -> "torch.nn.Module":
    """The torch twin of lamina's ``build_model(spec)`` (+ the CLI's Sigmoid for the quadratic
    cost), with lamina's parameter names and layouts so the state dict loads unchanged.
    Dropout draws its masks from ``rng`` (a NumPy Generator) exactly as lamina does."""
    import numpy as np
    import torch
    from torch import nn
    from torch.nn import functional as F

    class SameMaskDropout(nn.Module):  # lamina.ops.dropout's draw, p = 0.5
        def forward(self, x):
            if not self.training:
                return x
            keep = rng.random(tuple(x.shape), dtype=np.float32) >= np.float32(0.5)
            return x * torch.from_numpy(keep.astype(np.float32) * np.float32(2.0))

    class ConvNet(nn.Module):
        """conv1 5x5 (pad 2) -> ReLU -> pool 2 -> conv2 5x5 -> ReLU -> pool 2 -> fc1 -> ReLU
        ... -> [dropout] -> last fc: lamina's LeNet5 (28x28 input) and TFCNN, same names."""

        def __init__(self, maps: tuple, pad2: int, widths: tuple, dropout: bool) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, maps[0], 5, padding=2)
            self.conv2 = nn.Conv2d(maps[0], maps[1], 5, padding=pad2)
            self.fcs = [f"fc{i}" for i in range(1, len(widths))]
            for name, d_in, d_out in zip(self.fcs, widths[:-1], widths[1:]):
                setattr(self, name, nn.Linear(d_in, d_out))
            self.dropout = SameMaskDropout() if dropout else None

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2).reshape(x.shape[0], -1)
            for name in self.fcs[:-1]:
                x = F.relu(getattr(self, name)(x))
            return getattr(self, self.fcs[-1])(x if self.dropout is None else self.dropout(x))

    if spec == "lenet5":  # seed 001's Net: 28 -> (pad) 32 -> 28 -> 14 -> 10 -> 5
        return ConvNet((6, 16), 0, (16 * 5 * 5, 120, 84, 10), dropout=False)
    if spec == "tf-cnn":  # seed 000's TensorFlow CNN: 'SAME' convs, 28 -> 14 -> 7
        return ConvNet((32, 64), 2, (7 * 7 * 64, 1024, 10), dropout=True)
    sizes = [int(s) for s in spec.split(":")[1].split(",")]  # mlp:784,30,10:sigmoid:normal
    layers = [nn.Flatten()]
    for d_in, d_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(d_in, d_out), nn.Sigmoid()]  # hidden sigmoids + the CLI's output one
    return nn.Sequential(*layers)


def torch_loss(config: dict, classes: int):
    """lamina's loss for ``config`` in torch; quadratic = 1/2 sum of squares, batch mean."""
    import torch.nn.functional as F

    if config["loss"] == "cross-entropy":
        return F.cross_entropy
    return lambda out, y: 0.5 * (out - F.one_hot(y, classes).to(out.dtype)).pow(2).sum(1).mean()


def torch_optimizer(config: dict, model):
    """``lamina.train.assembly.make_optimizer`` in torch (the presets use sgd, momentum, adam)."""
    import torch

    lr, wd, params = float(config["lr"]), float(config["weight_decay"]), list(model.parameters())
    if config["optimizer"] == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    momentum = float(config["momentum"]) if config["optimizer"] == "momentum" else 0.0
    return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=wd)


def _nudge(state: dict) -> None:
    """Move every entry of the first bias one ulp up (in place): a control run."""
    import numpy as np

    bias = next(v for k, v in state.items() if k.endswith("bias")).numpy()
    bias[...] = np.nextafter(bias, np.float32(np.inf))


def train_torch(preset: str, seed: int, epochs: int | None, threads: int,
                nudge: bool = False) -> dict:
    """The same recipe in PyTorch from lamina's initial weights, batches and dropout masks
    (with ``nudge``, the first bias one ulp off: how much PyTorch differs from itself)."""
    import numpy as np
    import torch

    import lamina as lm
    from lamina.random import get_rng_state
    from lamina.train.runner import build_run, resolve_config

    torch.set_num_threads(threads)
    config = resolve_config(overrides(preset, seed, epochs))
    data, lamina_net, _, _ = build_run(config)  # seeds lamina exactly as `lamina train` does
    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = get_rng_state()  # where lamina's dropout masks will come from
    model = torch_model(config["model"], rng)
    state = {k: torch.from_numpy(np.array(v.numpy(), copy=True))
             for k, v in lamina_net.state_dict().items()}
    if nudge:
        _nudge(state)
    model.load_state_dict(state, strict=True)
    train_x, train_y = (torch.from_numpy(a) for a in data.train_loader.dataset.arrays())
    test_x, test_y = (torch.from_numpy(a) for a in data.test_loader.dataset.arrays())
    with torch.no_grad():  # the two networks must start as the same function
        probe = test_x[:100]
        start_gap = float(np.max(np.abs(model.eval()(probe).numpy()
                                        - lamina_net.eval()(lm.tensor(probe.numpy())).numpy())))
    loss_fn, optimizer = torch_loss(config, data.num_classes), torch_optimizer(config, model)
    batch, test_batch = data.train_loader.batch_size, data.test_loader.batch_size
    n, record = len(train_y), {"test_accuracy": [], "train_loss": [], "epoch_seconds": []}
    for epoch in range(1, int(config["epochs"]) + 1):
        started = time.perf_counter()
        order = torch.from_numpy(data.train_loader.permutation(epoch))
        model.train()
        loss_sum = 0.0
        for begin in range(0, n, batch):
            index = order[begin:begin + batch]
            x, y = train_x[index], train_y[index]
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(y)
        model.eval()
        with torch.no_grad():
            predicted = torch.cat([model(test_x[begin:begin + test_batch]).argmax(1)
                                   for begin in range(0, len(test_y), test_batch)])
        correct = int((predicted == test_y).sum())
        record["epoch_seconds"].append(time.perf_counter() - started)
        record["train_loss"].append(loss_sum / n)
        record["test_accuracy"].append(correct / len(test_y))
        print(f"  torch {preset} seed {seed} epoch {epoch}: test accuracy "
              f"{record['test_accuracy'][-1]:.4f} ({record['epoch_seconds'][-1]:.1f}s)",
              file=sys.stderr, flush=True)
    record["start_output_gap"] = start_gap
    record["rng_state_after"] = json.dumps(rng.bit_generator.state["state"])
    record["threads"] = torch.get_num_threads()
    record["predicted_per_class"] = torch.bincount(predicted, minlength=data.num_classes).tolist()
    return record


# ------------------------------------------------------------------------------ divergence
PAIRS = (("lamina32", "torch32"), ("torch32", "torch32+1ulp"), ("torch32", "torch64"),
         ("lamina64", "torch64"))


def divergence(preset: str, steps: int, threads: int) -> dict:
    """How fast two runs of the same recipe drift apart: the largest |parameter difference|
    during the first ``steps`` steps of epoch 1 (seed 0) between lamina and torch in float32
    and in float64, and between torch and torch with its first bias moved by one ulp.
    All runs start from lamina's initial weights and see the same batches (no dropout)."""
    import numpy as np
    import torch

    import lamina as lm
    from lamina.train.runner import build_run, resolve_config
    from lamina.train.assembly import make_model, make_optimizer

    torch.set_num_threads(threads)
    config = resolve_config(overrides(preset, 0, 1))
    if float(config["dropout"]):
        raise SystemExit(f"--divergence: {preset} has dropout; choose a preset without it")
    data, net, lamina_loss, _ = build_run(config)
    start = {k: np.array(v.numpy(), copy=True) for k, v in net.state_dict().items()}
    images, labels = data.train_loader.dataset.arrays()
    order, batch = data.train_loader.permutation(1), data.train_loader.batch_size
    marks = sorted({*range(0, steps, max(1, steps // 20)), steps - 1})

    def trajectory(framework: str, dtype, nudge: bool = False) -> list:
        if framework == "lamina":
            net = make_model(config, data)
            net.load_state_dict({k: lm.tensor(v) for k, v in start.items()})
            net = net.double() if dtype == np.float64 else net
            opt, loss_fn = make_optimizer(config, net), lamina_loss
        else:
            net = torch_model(config["model"], None)
            state = {k: torch.from_numpy(v.copy()) for k, v in start.items()}
            if nudge:
                _nudge(state)
            net.load_state_dict(state)
            net = net.double() if dtype == np.float64 else net
            opt, loss_fn = torch_optimizer(config, net), torch_loss(config, data.num_classes)
        wrap = lm.tensor if framework == "lamina" else torch.from_numpy
        kept = []
        for step in range(steps):
            index = order[step * batch:(step + 1) * batch]
            opt.zero_grad()
            loss_fn(net(wrap(images[index].astype(dtype))), wrap(labels[index])).backward()
            opt.step()
            if step in marks:
                kept.append(np.concatenate([np.asarray(p.detach().numpy(), np.float64).ravel()
                                            for p in net.parameters()]))
        return kept

    runs = {"lamina32": trajectory("lamina", np.float32),
            "lamina64": trajectory("lamina", np.float64),
            "torch32": trajectory("torch", np.float32),
            "torch32+1ulp": trajectory("torch", np.float32, nudge=True),
            "torch64": trajectory("torch", np.float64)}
    return {"steps": marks, "batch": batch, "pairs": {
        f"{a} vs {b}": [float(np.max(np.abs(x - y))) for x, y in zip(runs[a], runs[b])]
        for a, b in PAIRS}}


# ------------------------------------------------------------------------------ report
def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def _time(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 600 else f"{seconds / 60:.1f} min"


def _dead(record: dict) -> str:
    counts = record.get("predicted_per_class")
    return "?" if counts is None else str(sum(c == 0 for c in counts))


def _paired(runs: dict, preset: str) -> dict:
    return {s: r for s, r in runs.get(preset, {}).items() if "lamina" in r and "torch" in r}


def noise(runs: dict) -> dict | None:
    """Seed-to-seed spread of the final test accuracy in each framework, from the preset with
    the most seeds trained in both (nielsen-30 in the documented run); None below 2 seeds."""
    preset = max(PRESETS, key=lambda p: len(_paired(runs, p)))
    paired = _paired(runs, preset)
    if len(paired) < 2:
        return None
    seeds = sorted(paired, key=int)
    finals = {fw: [paired[s][fw]["test_accuracy"][-1] for s in seeds] for fw in ("lamina", "torch")}
    # If the frameworks agree, all 2n finals are draws from one distribution: pool them.
    sigma = statistics.stdev(finals["lamina"] + finals["torch"])
    return {"preset": preset, "seeds": seeds, "finals": finals, "sigma": sigma, "runs": paired}


def _row(label: str, cells: list, tail: str = " | | | |") -> str:
    return f"| {label} | " + " | ".join(cells) + tail


def _noise_table(est: dict) -> list[str]:
    seeds, finals, runs = est["seeds"], est["finals"], est["runs"]
    diffs = [x - y for x, y in zip(finals["lamina"], finals["torch"])]
    out = [f"Run-to-run noise: {est['preset']}, seeds {', '.join(seeds)} (the seed sets the "
           "initial weights and the batch order), final test accuracy:", "",
           _row("", [f"seed {s}" for s in seeds], " | mean | max - min | std |"),
           "|" + "---|" * (len(seeds) + 4)]
    nudged = [runs[s].get("torch_nudged", {}).get("test_accuracy", [None])[-1] for s in seeds]
    rows = [("lamina", finals["lamina"]), ("PyTorch", finals["torch"])]
    for name, v in rows + ([("PyTorch, first bias + 1 ulp", nudged)] if None not in nudged else []):
        out.append(_row(name, [_pct(x) for x in v], f" | {_pct(statistics.mean(v))} | "
                        f"{100 * (max(v) - min(v)):.2f} pp | {100 * statistics.stdev(v):.2f} pp |"))
        if name == "PyTorch":
            out.append(_row("lamina - PyTorch", [f"{100 * d:+.2f} pp" for d in diffs],
                            f" | {100 * statistics.mean(diffs):+.2f} pp | | |"))
    out.append(_row("classes never predicted (lamina / PyTorch)",
                    [f"{_dead(runs[s]['lamina'])} / {_dead(runs[s]['torch'])}" for s in seeds]))
    return out + ["", f"Noise threshold: 2 sigma = {200 * est['sigma']:.2f} pp, sigma = the "
                  f"standard deviation of all {2 * len(diffs)} final accuracies (both "
                  "frameworks pooled).", ""]


def _divergence_table(preset: str, d: dict) -> list[str]:
    labels = list(d["pairs"])
    out = [f"Drift between runs from the same weights on the same batches ({preset}, seed 0, "
           f"first {d['steps'][-1] + 1} steps): largest absolute parameter difference.", "",
           "| after step | " + " | ".join(labels) + " |", "|" + "---|" * (len(labels) + 1)]
    for i, step in enumerate(d["steps"]):
        if i % 2 == 0 or i == len(d["steps"]) - 1:
            out.append(f"| {step + 1} | " + " | ".join(f"{d['pairs'][k][i]:.1e}" for k in labels) + " |")
    return out + [""]


def tables(runs: dict) -> str:
    """The generated part of docs/results.md, from the stored runs."""
    est = noise(runs)
    main = ["| preset | lecture's figure (MNIST) | lamina | PyTorch | lamina - PyTorch "
            "| lamina time | PyTorch time | epochs run (preset's) |", "|" + "---|" * 8]
    check = ["| preset | output gap at the start | same dropout draws | largest per-epoch "
             "gap | final gap vs noise | classes never predicted (lamina / PyTorch) "
             "| `lamina train` wall time | load average at start |", "|" + "---|" * 8]
    curves, machines = ["Test accuracy per epoch, lamina/PyTorch (%), seed 0:", ""], set()
    for preset in PRESETS:
        run = _paired(runs, preset).get("0")
        if run is None:
            continue
        lam, tor = run["lamina"], run["torch"]
        a, b = lam["test_accuracy"], tor["test_accuracy"]
        gaps = [x - y for x, y in zip(a, b)]
        main.append(f"| {preset} | {LECTURE[preset]} | {_pct(a[-1])} | {_pct(b[-1])} | "
                    f"{100 * gaps[-1]:+.2f} pp | {_time(sum(lam['epoch_seconds']))} | "
                    f"{_time(sum(tor['epoch_seconds']))} | {len(a)} ({run['preset_epochs']}) |")
        verdict = "-" if est is None else ("within noise" if abs(gaps[-1]) <= 2 * est["sigma"]
                                           else "**larger than noise**")
        masks = ("yes" if lam["rng_state_after"] == tor["rng_state_after"] else "**no**") \
            if preset == "tf-cnn" else "(no dropout)"  # the only preset with dropout
        check.append(f"| {preset} | {tor['start_output_gap']:.1e} | {masks} | "
                     f"{100 * max(gaps, key=abs):+.2f} pp | {verdict} | {_dead(lam)} / "
                     f"{_dead(tor)} | {_time(lam['wall_seconds'])} | {run['env']['load']} |")
        curves.append(f"- {preset}: " + ", ".join(f"{100 * x:.2f}/{100 * y:.2f}" for x, y in zip(a, b)))
        machines.add(run["env"]["summary"])
    out = [*main, "", *check, ""] if len(main) > 2 else []
    out += _noise_table(est) if est else []
    for preset, d in runs.get("_divergence", {}).items():
        out += _divergence_table(preset, d)
    out += (curves + [""] if len(curves) > 2 else []) + [f"Machine: {m}." for m in sorted(machines)]
    sources = sorted({r["env"].get("lamina_source", "?") for p in PRESETS
                      for r in _paired(runs, p).values()})
    out += [f"lamina source: {', '.join(sources)}" + (" (**runs of different lamina sources**)"
                                                       if len(sources) > 1 else "")]
    return "\n".join(out) + "\n"


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


def write_markdown(path: Path, generated: str) -> None:
    """Replace the text between the markers (or write a page holding only the tables)."""
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        text = f"{head}{BEGIN}\n{generated}{END}{rest.partition(END)[2]}"
    else:
        text = f"# Results\n\n{BEGIN}\n{generated}{END}\n"
    path.write_text(text)


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
