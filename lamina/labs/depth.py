"""Seed 000's depth table: 30, 30-30 and 30-30-30 hidden sigmoid units.

Seed 000, "The Basic Recipe" and "Going Deep (?)": Nielsen's networks of sizes
``[784, 30, 10]``, ``[784, 30, 30, 10]`` and ``[784, 30, 30, 30, 10]``, sigmoid units, the
quadratic cost C = 1/(2n) sum_x ||y(x) - a^L(x)||^2, weights and biases drawn from N(0, 1),
minibatch SGD with eta = 3.0 and K = 10, 30 epochs on MNIST (m = 50,000 training, 10,000
test images), reach 94.84%, 95.81% and 95.07%: the third hidden layer does not help
("Deep learning might not help after all...").

This lab trains the same three networks with the ``nielsen-30*`` presets of ``lamina train``
(the same configuration, data loaders, model builder, loss and optimiser that
``lamina train --preset nielsen-30`` uses), changing only the data set: MNIST itself when its
files are on this machine, else Fashion-MNIST (same format, a harder task), else the embedded
8x8 digits (n = 64 inputs). ``--quick`` uses the digits and a few epochs.
"""
from __future__ import annotations

import os
import time

from .report import Report, save_figure

__all__ = ["run", "LECTURE_ACCURACY", "PRESETS_BY_DEPTH"]

# Grohs, Introduction to (Convolutional) Neural Networks, "The Basic Recipe": MNIST test accuracy (%) after 30 epochs
LECTURE_ACCURACY = {1: 94.84, 2: 95.81, 3: 95.07}
PRESETS_BY_DEPTH = {1: "nielsen-30", 2: "nielsen-30-30", 3: "nielsen-30-30-30"}
FASHION_DIR = "/usr/share/datasets/fashion-mnist"


def _choose_data(quick: bool) -> tuple[str, str]:
    """The data set to train on, and a note saying why."""
    from ..data import MNIST
    from ..errors import DataError

    if quick:
        return "digits", "--quick: the embedded 8x8 digits (1,437 train / 360 test, n = 64)"
    try:
        MNIST(train=False)  # only looks for local files: a lab never downloads
        return "mnist", "MNIST, the lecture's data set (found on this machine)"
    except DataError:
        pass
    if os.path.isdir(FASHION_DIR):
        return "fashion-mnist", (f"Fashion-MNIST from {FASHION_DIR} (MNIST's format, 10 kinds "
                                 "of clothing; a harder task than MNIST's digits)")
    return "digits", ("the embedded 8x8 digits (neither MNIST nor Fashion-MNIST is on this "
                      "machine)")


def _config(depth: int, dataset: str, epochs: int) -> dict:
    """The preset's configuration with the data set (and the input size it implies) swapped."""
    from ..train import resolve_config
    from ..train.presets import PRESETS

    preset = PRESETS_BY_DEPTH[depth]
    spec = PRESETS[preset]["config"]["model"]  # e.g. mlp:784,30,10:sigmoid:normal
    overrides = {"preset": preset, "dataset": dataset, "epochs": epochs, "quiet": True}
    if dataset == "digits":
        name, sizes, rest = spec.split(":", 2)
        overrides["model"] = ":".join([name, "64" + sizes[sizes.index(","):], rest])
        overrides["train_size"] = 1437  # the whole embedded training split
        overrides["val_size"] = 360
    return resolve_config(overrides)


def run(quick: bool = False, out: str = "lab-depth") -> Report:
    """Train the three presets and tabulate their test accuracy beside the lecture's."""
    from ..train import fit
    from ..train.runner import build_run

    dataset, data_note = _choose_data(quick)
    epochs = 6 if quick else 30
    report = Report("depth")
    table = report.table(
        f"test accuracy after {epochs} epochs, sigmoid units, quadratic cost, N(0,1) init, "
        f"SGD eta=3.0, K=10",
        ["network", "preset", f"lamina: {dataset} (%)", "lecture: MNIST (%) (Grohs)",
         "train loss", "seconds"])
    report.data = {"dataset": dataset, "epochs": epochs, "rows": [], "histories": {}}
    for depth in (1, 2, 3):
        config = _config(depth, dataset, epochs)
        data, model, loss_fn, optimizer = build_run(config)
        started = time.perf_counter()
        history = fit(model, data.train_loader, data.test_loader, loss_fn, optimizer, epochs,
                      num_classes=data.num_classes, quiet=True)
        seconds = time.perf_counter() - started
        sizes = config["model"].split(":")[1]
        accuracy = 100.0 * history[-1]["test_accuracy"]
        table.add(f"[{sizes}]", PRESETS_BY_DEPTH[depth], round(accuracy, 2),
                  LECTURE_ACCURACY[depth], history[-1]["train_loss"], round(seconds, 1))
        report.data["rows"].append({"depth": depth, "sizes": sizes, "accuracy": accuracy,
                                    "lecture": LECTURE_ACCURACY[depth],
                                    "train_size": data.train_size, "test_size": data.test_size})
        report.data["histories"][depth] = [r["test_accuracy"] for r in history]
    report.notes.append(
        f"data: {data_note}; {data.train_size} training / {data.test_size} test images. The "
        "lecture's figures are for MNIST with 30 epochs; ours are for the data named above, "
        "so they are not expected to be equal: compare the pattern across depths, not the "
        "numbers.")
    report.notes.append(
        "The recipe is the lamina train presets nielsen-30, nielsen-30-30 and "
        "nielsen-30-30-30 (lamina.train.resolve_config + build_run + fit), with only the data "
        "set changed" + (" and, for the 8x8 digits, the input size n = 64." if dataset == "digits"
                         else "."))
    _plot(report, out)
    return report


def _plot(report: Report, out: str) -> None:
    plt = report.pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    for row in report.data["rows"]:
        accs = [100 * a for a in report.data["histories"][row["depth"]]]
        ax.plot(range(1, len(accs) + 1), accs, marker="o", ms=3,
                label=f"[{row['sizes']}] (lecture, MNIST: {row['lecture']}%)")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"test accuracy on {report.data['dataset']} (%)")
    ax.set_title("Grohs, Introduction to (Convolutional) Neural Networks: does depth help?")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out, "depth.png", report)
