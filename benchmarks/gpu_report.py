"""The rows of benchmarks/gpu.py summarised and written as a Markdown table.

For each row: the best and the median repetition of each framework (``max`` for a
throughput, ``min`` for memory) and the ratios lamina / PyTorch of both (throughput: above 1
is better for lamina; memory: below 1). The GPU issue's target, ``TARGET``, is judged on the
median ratio of the convnets at batch 256 (``TARGETED``). Under ``--smoke`` every figure is
marked ``SMOKE``: it checked that everything runs, it measured nothing.

Imported by ``gpu.py`` once its ``main`` has put benchmarks/ on ``sys.path``.
"""
from __future__ import annotations

import statistics

from eager_report import fmt, fmt_ratio

TARGET = (">= 0.8x PyTorch CUDA", 0.8)
TARGETED = ("lenet5-train-256", "tf-cnn-train-256")
SMOKE = "smoke (not a measurement)"


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
    """The table, the precision note and each row's note, as Markdown (also what is printed)."""
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
