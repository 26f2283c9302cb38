"""Does depth help? Grohs's three sigmoid networks, as distributions over seeds.

Grohs, "Introduction to (Convolutional) Neural Networks", "The Basic Recipe" and "Going Deep
(?)": Nielsen's networks of sizes ``[784, 30, 10]``, ``[784, 30, 30, 10]`` and
``[784, 30, 30, 30, 10]``, sigmoid units, the quadratic cost
C = 1/(2n) sum_x ||y(x) - a^L(x)||^2, weights and biases drawn from N(0, 1), minibatch SGD
with eta = 3.0 and K = 10, 30 epochs on MNIST (m = 50,000 training, 10,000 test images),
reach 94.84%, 95.81% and 95.07%: the third hidden layer does not help ("Deep learning might
not help after all..."). Those are three single runs.

One run of this recipe is one draw from a bimodal distribution: with N(0, 1) weights and the
quadratic cost, a sigmoid output unit that starts saturated learns slowly (its gradient
carries the factor sigma'(z) ~ 0), and a run that loses a class sits about ten points below
the others. Comparing depths on one seed each therefore compares luck. This lab trains every
network with ``SEEDS`` seeds and reports, per depth, the mean, the standard deviation, the
range, the runs *stuck* (test accuracy below ``STUCK_BELOW`` = 2 x chance, i.e. within ten
points of guessing) and the runs with a *lost class* (some class's test recall below
``LOST_CLASS_RECALL``), beside the lecture's single figures.

The networks are trained with the ``nielsen-30*`` presets of ``lamina train`` (the same
configuration, loaders, model builder, loss and optimiser as ``lamina train --preset
nielsen-30``), changing only the data set and the seed: MNIST itself when its files are on
this machine, else Fashion-MNIST (same format, a harder task), else the embedded 8x8 digits
(n = 64 inputs). ``--quick`` keeps the five seeds and shrinks each run instead (4 epochs on
1,000 of the digits).
"""
from __future__ import annotations

import os
import statistics
import time

from ..data import MNIST
from ..errors import DataError
from ..train import fit, resolve_config
from ..train.fit import Callback
from ..train.presets import PRESETS
from ..train.runner import build_run
from .report import Report, one_blas_thread, save_figure

__all__ = ["run", "LECTURE_ACCURACY", "PRESETS_BY_DEPTH", "SEEDS", "STUCK_BELOW",
           "LOST_CLASS_RECALL", "summarise"]

# Grohs, Introduction to (Convolutional) Neural Networks, "The Basic Recipe": MNIST test
# accuracy (%) after 30 epochs, one run each
LECTURE_ACCURACY = {1: 94.84, 2: 95.81, 3: 95.07}
PRESETS_BY_DEPTH = {1: "nielsen-30", 2: "nielsen-30-30", 3: "nielsen-30-30-30"}
SEEDS = (0, 1, 2, 3, 4)
CHANCE = 10.0  # %, ten classes
STUCK_BELOW = 2 * CHANCE  # % test accuracy: a run this low has learned next to nothing
LOST_CLASS_RECALL = 0.2  # a class recalled less often than this counts as lost
QUICK_EPOCHS, QUICK_TRAIN_SIZE = 4, 1000
FASHION_DIR = "/usr/share/datasets/fashion-mnist"


def _choose_data(quick: bool) -> tuple[str, str]:
    """The data set to train on, and a note saying why."""
    if quick:
        return "digits", (f"--quick: {QUICK_TRAIN_SIZE} of the embedded 8x8 digits' 1,437 "
                          "training images, all 360 test images, n = 64")
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


def _config(depth: int, dataset: str, epochs: int, seed: int = 0,
            train_size: int | None = None) -> dict:
    """The preset's configuration with the data set (and the input size it implies), the
    epochs and the seed swapped."""
    preset = PRESETS_BY_DEPTH[depth]
    spec = PRESETS[preset]["config"]["model"]  # e.g. mlp:784,30,10:sigmoid:normal
    overrides = {"preset": preset, "dataset": dataset, "epochs": epochs, "quiet": True,
                 "seed": seed}
    if dataset == "digits":
        name, sizes, rest = spec.split(":", 2)
        overrides["model"] = ":".join([name, "64" + sizes[sizes.index(","):], rest])
        overrides["train_size"] = 1437  # the whole embedded training split
        overrides["val_size"] = 360
    if train_size is not None:
        overrides["train_size"] = train_size
    return resolve_config(overrides)


def _train_one(config: dict) -> dict:
    """One seeded run: final test accuracy (%), per-epoch test accuracy, lost classes."""
    import numpy as np

    class LastConfusion(Callback):
        confusion = None

        def on_epoch_end(self, record: dict, history: list) -> None:
            self.confusion = record.get("confusion")

    data, model, loss_fn, optimizer = build_run(config)
    keep = LastConfusion()
    history = fit(model, data.train_loader, data.test_loader, loss_fn, optimizer,
                  int(config["epochs"]), num_classes=data.num_classes, quiet=True,
                  callbacks=[keep], compile=True)
    confusion = np.asarray(keep.confusion)
    recall = np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)
    return {"accuracy": 100.0 * history[-1]["test_accuracy"],
            "curve": [100.0 * r["test_accuracy"] for r in history],
            "lost_classes": [int(k) for k in np.flatnonzero(recall < LOST_CLASS_RECALL)],
            "train_loss": history[-1]["train_loss"],
            "train_size": data.train_size, "test_size": data.test_size}


def summarise(accuracies: list, lost: list) -> dict:
    """Mean, sample standard deviation, range, stuck runs and runs with a lost class."""
    return {"mean": statistics.fmean(accuracies),
            "std": statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0,
            "min": min(accuracies), "max": max(accuracies),
            "stuck": sum(1 for a in accuracies if a < STUCK_BELOW),
            "lost_class_runs": sum(1 for classes in lost if classes)}


def run(quick: bool = False, out: str = "lab-depth", seeds: tuple = SEEDS) -> Report:
    """Train the three presets once per seed; tabulate the distribution beside the lecture."""
    dataset, data_note = _choose_data(quick)
    epochs = QUICK_EPOCHS if quick else 30
    train_size = QUICK_TRAIN_SIZE if quick else None
    report = Report("depth")
    report.data = {"dataset": dataset, "epochs": epochs, "seeds": list(seeds), "rows": [],
                   "stuck_below": STUCK_BELOW, "chance": CHANCE}
    started = time.perf_counter()
    with one_blas_thread():
        for depth in (1, 2, 3):
            runs = [_train_one(_config(depth, dataset, epochs, seed, train_size)) for seed in seeds]
            accuracies = [r["accuracy"] for r in runs]
            row = {"depth": depth, "preset": PRESETS_BY_DEPTH[depth],
                   "sizes": _config(depth, dataset, epochs)["model"].split(":")[1],
                   "accuracies": accuracies, "curves": [r["curve"] for r in runs],
                   "lost_classes": [r["lost_classes"] for r in runs],
                   "lecture": LECTURE_ACCURACY[depth],
                   "train_size": runs[0]["train_size"], "test_size": runs[0]["test_size"]}
            row.update(summarise(accuracies, row["lost_classes"]))
            report.data["rows"].append(row)
    seconds = time.perf_counter() - started
    _tables(report, len(seeds))
    _notes(report, data_note, quick, seconds)
    _plot(report, out)
    return report


def _tables(report: Report, n_seeds: int) -> None:
    data = report.data
    table = report.table(
        f"test accuracy over {n_seeds} seeds after {data['epochs']} epochs, sigmoid units, "
        "quadratic cost, N(0,1) init, SGD eta=3.0, K=10",
        ["network", "preset", f"lamina: {data['dataset']} mean (%)", "std", "min", "max",
         f"stuck (< {STUCK_BELOW:g}%)", f"lost a class (recall < {LOST_CLASS_RECALL:g})",
         "lecture: MNIST (%) (Grohs, one run)"])
    for row in data["rows"]:
        table.add(f"[{row['sizes']}]", row["preset"], round(row["mean"], 2),
                  round(row["std"], 2), round(row["min"], 2), round(row["max"], 2),
                  f"{row['stuck']}/{n_seeds}", f"{row['lost_class_runs']}/{n_seeds}",
                  row["lecture"])
    per_seed = report.table("every run: test accuracy (%) per seed",
                            ["network"] + [f"seed {s}" for s in data["seeds"]])
    for row in data["rows"]:
        per_seed.add(f"[{row['sizes']}]", *[round(a, 2) for a in row["accuracies"]])


def _notes(report: Report, data_note: str, quick: bool, seconds: float) -> None:
    data, rows = report.data, report.data["rows"]
    first = rows[0]
    report.notes.append(
        f"data: {data_note}; {first['train_size']} training / {first['test_size']} test "
        f"images per run; seeds {', '.join(map(str, data['seeds']))} (each seed fixes the "
        f"initial weights and the minibatch order); {seconds:.1f} s for all runs. The "
        "lecture's figures are single runs on MNIST after 30 epochs; ours are for the data "
        "named above, so they are not expected to be equal: compare the pattern across "
        "depths, not the numbers.")
    low = [(a, lost) for r in rows for a, lost in zip(r["accuracies"], r["lost_classes"])
           if a < statistics.median(r["accuracies"]) - 5.0]
    report.data["low_runs"] = {"count": len(low), "with_lost_class": sum(1 for _, l in low if l)}
    report.notes.append(
        f"stuck: test accuracy below {STUCK_BELOW:g}% (chance is {CHANCE:g}%, ten classes). "
        f"lost a class: some class's test recall below {LOST_CLASS_RECALL:g}. Of the "
        f"{len(low)} runs more than 5 points below their depth's median, "
        f"{report.data['low_runs']['with_lost_class']} lost a class (the likely mechanism: an "
        "output sigmoid that starts saturated under N(0,1) weights barely learns, since the "
        "quadratic cost's gradient carries sigma'(z), and its class is then rarely predicted).")
    means = [r["mean"] for r in rows]
    best, worst = rows[means.index(max(means))], rows[means.index(min(means))]
    n = len(data["seeds"])
    error = (best["std"] ** 2 / n + worst["std"] ** 2 / n) ** 0.5  # std error of the difference
    gap = best["mean"] - worst["mean"]
    verdict = (f"more than two standard errors of that difference ({error:.2f}): on these runs "
               f"[{best['sizes']}] is ahead of [{worst['sizes']}]" if gap > 2 * error else
               f"within two standard errors of that difference ({error:.2f}): these runs do not "
               "tell the depths apart")
    gains = [statistics.fmean(c[-1] - c[-2] for c in r["curves"]) if len(r["curves"][0]) > 1
             else 0.0 for r in rows]
    report.data["last_epoch_gain"] = gains
    report.notes.append(
        f"The best and worst means differ by {gap:.2f} points, {verdict}. Mean gain in the "
        "last epoch: " + ", ".join(f"[{r['sizes']}] {g:+.2f}" for r, g in zip(rows, gains))
        + " points" + (_quick_caveat(gains) if quick else "."))
    lowest = min(((a, r, s) for r in rows for a, s in zip(r["accuracies"], data["seeds"])),
                 key=lambda t: t[0])
    low_acc, low_row, low_seed = lowest
    report.notes.append(
        f"Single seeds are not findings: the lowest run, [{low_row['sizes']}] with seed "
        f"{low_seed} at {low_acc:.2f}% (its depth's median is "
        f"{statistics.median(low_row['accuracies']):.2f}%), is one draw of a bimodal outcome, "
        "and a one-seed table like the lecture's could show such a dip at any depth."
        + (f" --quick runs are short ({data['epochs']} epochs on {first['train_size']} "
           "images): they show the spread, not the converged accuracies." if quick else ""))
    report.notes.append(
        "The recipe is the lamina train presets nielsen-30, nielsen-30-30 and "
        "nielsen-30-30-30 (lamina.train.resolve_config + build_run + fit), with only the data "
        "set and the seed changed" + (" and, for the 8x8 digits, the input size n = 64."
                                      if data["dataset"] == "digits" else "."))


def _quick_caveat(gains: list) -> str:
    rising = "still rising: " if all(g > 0 for g in gains) else ""
    return (f" ({rising}with so few epochs the deeper sigmoid networks, whose early layers "
            "learn slowest, may still be catching up, so an order here is about speed of "
            "training, not the lecture's 30-epoch accuracies).")


def _plot(report: Report, out: str) -> None:
    plt = report.pyplot()
    if plt is None:
        return
    rows, data = report.data["rows"], report.data
    colours = ["tab:blue", "tab:orange", "tab:green"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    positions = [row["depth"] for row in rows]
    left.boxplot([row["accuracies"] for row in rows], positions=positions, widths=0.5,
                 showfliers=False)
    for row, colour in zip(rows, colours):
        n = len(row["accuracies"])
        offsets = [0.18 * (i - (n - 1) / 2) / max(n - 1, 1) for i in range(n)]
        left.scatter([row["depth"] + o for o in offsets], row["accuracies"], color=colour,
                     zorder=3, s=22, label=f"[{row['sizes']}], one dot per seed")
        left.scatter([row["depth"] + 0.35], [row["lecture"]], marker="*", s=90, color="black",
                     zorder=3, label="lecture, MNIST, one run" if row["depth"] == 1 else None)
    left.axhline(STUCK_BELOW, color="red", lw=0.8, ls="--")
    left.set_xticks(positions, [f"{row['depth']} hidden" for row in rows])
    left.set_ylabel(f"test accuracy on {data['dataset']} (%)")
    left.set_title(f"final accuracy, {len(data['seeds'])} seeds per depth "
                   f"(red: stuck below {STUCK_BELOW:g}%)", fontsize=9)
    left.grid(alpha=0.3, axis="y")
    left.legend(fontsize=7, loc="lower left")
    for row, colour in zip(rows, colours):
        for i, curve in enumerate(row["curves"]):
            right.plot(range(1, len(curve) + 1), curve, color=colour, lw=1, alpha=0.7,
                       label=f"[{row['sizes']}]" if i == 0 else None)
    if data["epochs"] <= 10:
        right.set_xticks(range(1, data["epochs"] + 1))
    right.set_xlabel("epoch")
    right.set_ylabel("test accuracy (%)")
    right.set_title("every run's test accuracy per epoch", fontsize=9)
    right.grid(alpha=0.3)
    right.legend(fontsize=7)
    fig.suptitle("Grohs, Introduction to (Convolutional) Neural Networks, \"Going Deep (?)\": "
                 "does depth help?", fontsize=10)
    fig.tight_layout()
    save_figure(fig, out, "depth.png", report)
