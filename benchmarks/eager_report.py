"""The Markdown table of ``benchmarks/eager.py``: one line per workload and thread count."""
from __future__ import annotations

import statistics

from workloads.report import fmt  # the numbers as benchmarks/run.py prints them


def best(values: list[float], higher_is_better: bool) -> float:
    """The repetition least disturbed by other work: the fastest one."""
    return max(values) if higher_is_better else min(values)


def fmt_ratio(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def markdown(rows: list[dict], targets: dict, compiled: bool) -> str:
    head = ["workload", "metric", "threads", "lamina", "PyTorch", "NumPy floor",
            "lamina / PyTorch", "lamina.compile / PyTorch", "target (issue 13)", "met?"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    notes = []
    for row in rows:
        if "failed" in row:
            lines.append(f"| {row['workload']} | FAILED: {row['failed']} | {row['threads']} |"
                         + " |" * (len(head) - 3))
            continue
        higher = row["higher_is_better"]
        got = {k: best(v, higher) for k, v in row["samples"].items() if v}
        ratio = got["lamina"] / got["torch"] if "torch" in got else None
        compiled_ratio = got["compiled"] / got["torch"] if "compiled" in got else None
        target = targets.get(row["workload"])
        met = "-"
        if target and ratio is not None:
            _, op, bound = target
            met = "yes" if (ratio <= bound if op == "<=" else ratio >= bound) else "no"
        unit = row["unit"] + (", higher is better" if higher else "")
        lines.append("| " + " | ".join([
            row["workload"], f"{row['metric']} ({unit})", str(row["threads"]),
            fmt(got.get("lamina")), fmt(got.get("torch")), fmt(got.get("numpy")),
            fmt_ratio(ratio), fmt_ratio(compiled_ratio) if compiled else "-",
            target[0] if target else "-", met]) + " |")
        medians = ", ".join(f"{k} {fmt(statistics.median(v))}" for k, v in row["samples"].items())
        notes.append(f"- {row['workload']}, {row['threads']} thread(s), clock "
                     f"{row.get('clock', '-')}: {row['note']}; medians {medians}")
    footer = ["", "Best repetition of each framework (on one thread the process's CPU time, "
              "on two the wall clock); ratios divide lamina's by PyTorch's: below 1 is better "
              "for times and memory, above 1 for throughputs."]
    if not compiled:
        footer.append("The lamina.compile column is filled by `--compiled`.")
    return "\n".join(lines + footer + [""] + notes)
