"""The results as a Markdown table, and the whole docs/performance.md page."""
from __future__ import annotations

from .common import FRAMEWORKS, LABELS, Row


def fmt(value: float | None) -> str:
    """A number with about three significant digits (thousands separated)."""
    if value is None:
        return "-"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def fmt_ratio(value: float) -> str:
    """A ratio with two decimals (one from 10 up, three significant digits below 0.1)."""
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.3g}"


def _present(rows: list[Row]) -> list[str]:
    return [f for f in FRAMEWORKS if any(f in r.samples for r in rows)]


def table(rows: list[Row]) -> str:
    """The results table: medians per framework, lamina/other ratios, targets and verdicts."""
    names = _present(rows)
    others = [f for f in names if f not in ("lamina", "compiled")]
    head = (["Workload", "Metric"] + [LABELS[f] for f in names]
            + [f"lamina / {LABELS[f]}" for f in others] + ["Target", "Met?"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        med = row.medians()
        better = "higher is better" if row.higher_is_better else "lower is better"
        cells = [row.workload, f"{row.metric} ({row.unit}, {better})"]
        cells += [fmt(med.get(f)) for f in names]
        cells += [fmt_ratio(med["lamina"] / med[f]) if "lamina" in med and med.get(f) else "-"
                  for f in others]
        verdicts = []
        for target in row.targets:
            met, value = target.check(med)
            verdicts.append("n/a" if met is None else
                            f"{'met' if met else 'not met'} ({fmt_ratio(value) if target.other else fmt(value)})")
        cells += ["; ".join(t.text for t in row.targets) or "-", "; ".join(verdicts) or "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def notes(rows: list[Row]) -> str:
    return "\n".join(f"- **{r.workload}, {r.metric}**: {r.note}" for r in rows if r.note)


def samples(rows: list[Row]) -> str:
    """Every repetition's value, so the spread behind each median is visible."""
    lines = []
    for row in rows:
        for name, values in row.samples.items():
            spread = (max(values) - min(values)) / row.medians()[name] if values else 0
            lines.append(f"- {row.workload} / {row.metric} / {LABELS[name]}: "
                         + ", ".join(fmt(v) for v in values)
                         + f" (spread {100 * spread:.0f}% of the median)")
    return "\n".join(lines)


def _machine(env: dict) -> str:
    git = env.get("lamina_git", {})
    items = [
        ("Date", env.get("date")),
        ("CPU", f"{env.get('cpu_model')}, {env.get('physical_cores')} physical cores, "
                f"{env.get('logical_cpus')} logical CPUs ({env.get('usable_cpus')} usable by "
                f"this process), {fmt(env.get('memory_gib'))} GiB RAM"),
        ("OS / Python", f"{env.get('platform')}, Python {env.get('python')}"),
        ("NumPy", f"{env.get('numpy')}, BLAS {env.get('blas')} "
                  f"({env.get('blas_config', '')}); SIMD found: {env.get('simd', '?')}"),
        ("Threads", f"NumPy BLAS {env.get('blas_threads')} (from {env.get('blas_threads_source')}"
                    + ("; without it OpenBLAS would use one thread per logical CPU"
                       if str(env.get("blas_threads_source", "")).startswith("--threads") else "")
                    + ")"
                    f"; PyTorch intra-op {env.get('torch_threads', '-')} "
                    f"(torch.set_num_threads), inter-op {env.get('torch_interop_threads', '-')}"),
        ("PyTorch", env.get("torch", "not installed")),
        ("JAX", f"{env['jax']} on {', '.join(env.get('jax_devices', []))}; XLA_FLAGS="
                f"'{env.get('xla_flags', '')}'" if "jax" in env else "not installed (skipped)"),
        ("Thread pools", "; ".join(env.get("threadpools", [])) or "-"),
        ("lamina", f"commit {git.get('commit')}, {git.get('lamina_uncommitted_files')} files "
                   "under lamina/ uncommitted or untracked"),
    ]
    return "\n".join(f"- {k}: {v}" for k, v in items)


def _load(loads: list[dict], env: dict, clock: str) -> str:
    cpus = env.get("usable_cpus") or env.get("logical_cpus") or 1
    worst = max((s["load"][0] for s in loads), default=0.0)
    lines = [f"- {s['when']}: load average {s['load'][0]} / {s['load'][1]} / {s['load'][2]} "
             f"(1/5/15 min), {s['running']} other processes running" for s in loads]
    if worst > 0.5 * cpus or any(s["running"] > 1 for s in loads):
        verdict = (f"**Other processes were running during this measurement** (1-minute load "
                   f"up to {worst} on {cpus} CPUs). ")
        if clock == "cpu":
            verdict += ("Timing with CPU time leaves out the time they held the cores, but they "
                        "still shared caches and memory bandwidth, so absolute numbers are "
                        "somewhat pessimistic. ")
        else:
            verdict += "Wall-clock numbers are pessimistic and noisy. "
        verdict += ("The frameworks were timed interleaved, so they shared the disturbance; "
                    "the ratios are more trustworthy than the absolute values.")
    else:
        verdict = "The machine was otherwise idle during this measurement."
    return verdict + "\n\n" + "\n".join(lines)


def _clock_sentence(settings) -> str:
    if settings.clock == "cpu":
        return ("Times are this process's CPU time (`--cpu-time`), not wall-clock time: on a "
                "machine shared with other busy processes that leaves out the time they hold "
                "the cores; with one thread it equals the wall-clock time of an idle machine. "
                "It does count every thread of the process: JAX's runtime keeps helper threads "
                "busy (asynchronous dispatch), so JAX looks slower here than on the wall clock.")
    return "Times are wall-clock time."


def document(rows: list[Row], env: dict, loads: list[dict], command: str,
             failures: list[str], settings) -> str:
    """The full docs/benchmarks.md page."""
    fail = ("\n\n**Workloads that failed:**\n\n" + "\n".join(f"- {f}" for f in failures)
            if failures else "")
    return f"""# Side by side: lamina, lamina.compile, PyTorch, JAX and plain NumPy

Generated by `{command}`. Re-run that command to regenerate this page; see
`benchmarks/README.md` for what each workload measures, and [Performance](performance.md) for
the eager training loops a user writes and where the time goes.

Each number is the median of {settings.reps} repetitions, timed interleaved (the frameworks
take turns, a slice of the work at a time: A B C A B C ...). {_clock_sentence(settings)} "lamina / X" divides lamina's median by X's: for times and memory
below 1 means lamina is better, for throughputs above 1 means lamina is better. Every
framework starts from the same weights (lamina's, copied through NumPy), runs the same
number of threads and sees the same float32 batches in the same order; before a workload is
timed, one training step must give the same loss in every framework to 1e-4.
{"" if not settings.quick else chr(10) + "**This is a --quick run** (fewer images, steps and repetitions)." + chr(10)}
## Results

{table(rows)}{fail}

## Machine

{_machine(env)}

## Load during the measurement

{_load(loads, env, settings.clock)}

## Notes per row

{notes(rows)}

## Every repetition

{samples(rows)}
"""
