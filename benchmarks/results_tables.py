"""The tables of docs/results.md, from the stored runs of benchmarks/results.py.

For every preset trained with seed 0 in both frameworks: the final test accuracies beside the
lecture's figure (MNIST), their gap in percentage points and the times; the checks (the
networks' output gap at the start, the same dropout draws, the largest per-epoch gap, the
final gap against the noise, classes never predicted); the run-to-run noise, i.e. the
seed-to-seed spread of the final accuracy with sigma the standard deviation of all 2n finals
of both frameworks pooled (the threshold is 2 sigma); the drift tables of ``--divergence``;
and the per-epoch curves. ``write_markdown`` puts them between ``BEGIN`` and ``END`` in a page.
"""
from __future__ import annotations

import statistics
from pathlib import Path

PRESETS = ("nielsen-30", "nielsen-30-30", "nielsen-30-30-30", "lenet5", "tf-cnn")
# The lectures' stated test accuracies, all on MNIST (Grohs's lecture §5-§7; Schwing & Telgarsky's states none).
LECTURE = {"nielsen-30": "94.84 %", "nielsen-30-30": "95.81 %", "nielsen-30-30-30": "95.07 %",
           "lenet5": "none stated", "tf-cnn": "0.99"}
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


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


def write_markdown(path: Path, generated: str) -> None:
    """Replace the text between the markers (or write a page holding only the tables)."""
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        text = f"{head}{BEGIN}\n{generated}{END}{rest.partition(END)[2]}"
    else:
        text = f"# Results\n\n{BEGIN}\n{generated}{END}\n"
    path.write_text(text)
