"""The machine and software a benchmark ran on, and how busy the machine was."""
from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _cpuinfo() -> dict:
    """Model name, family/model/stepping, clock, cache and physical cores from /proc/cpuinfo."""
    fields: dict[str, str] = {}
    cores = set()
    physical = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = (part.strip() for part in line.partition(":"))
            if key == "physical id":
                physical = value
            elif key == "core id":
                cores.add((physical, value))
            elif key in ("model name", "cpu family", "model", "stepping", "cpu MHz",
                         "cache size", "flags"):
                fields.setdefault(key, value)
    except OSError:
        pass
    model = fields.get("model name") or platform.processor() or "unknown"
    detail = ", ".join(f"{k} {fields[k]}" for k in ("cpu family", "model", "stepping")
                       if k in fields)
    if "cpu MHz" in fields:
        detail += f", {float(fields['cpu MHz']):.0f} MHz"
    if "cache size" in fields:
        detail += f", cache {fields['cache size']}"
    if "hypervisor" in fields.get("flags", "").split():
        detail += ", virtual machine (hypervisor flag set)"
    return {"cpu_model": f"{model} ({detail})" if detail else model,
            "physical_cores": len(cores) or None}


def _meminfo_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def _git() -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    changed = git("status", "--porcelain", "--", "lamina")
    return {"commit": git("rev-parse", "--short", "HEAD") or "unknown",
            "lamina_uncommitted_files": len(changed.splitlines()) if changed else 0}


def busy_processes() -> int:
    """Processes other than this one that are running (state R) right now."""
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        state = text[text.rfind(")") + 2:].split(" ", 1)[0]
        if state == "R" and int(stat.parent.name) != os.getpid():
            count += 1
    return count


def load_sample(label: str) -> dict:
    """The load averages (1, 5, 15 min) and running processes at this moment."""
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {"when": label, "load": [round(v, 2) for v in load], "running": busy_processes()}


def describe(threads: int, threads_source: str, has_torch: bool, has_jax: bool) -> dict:
    """Everything needed to interpret the numbers: CPU, cores, BLAS, versions, threads."""
    import numpy as np

    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        **_cpuinfo(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": _meminfo_gib(),
        "numpy": np.__version__,
        "blas_threads": threads,
        "blas_threads_source": threads_source,
        "lamina_git": _git(),
    }
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version')}"
        info["blas_config"] = blas.get("openblas configuration", "")
        simd = config.get("SIMD Extensions", {})
        info["simd"] = ", ".join(simd.get("found", []) or [])
    except Exception as exc:  # noqa: BLE001 - older NumPy: describe what we can
        info["blas"] = f"unknown ({exc})"
    try:
        from threadpoolctl import threadpool_info
        info["threadpools"] = [f"{p.get('internal_api')} {p.get('version')} "
                               f"({p.get('architecture')}, {p.get('num_threads')} threads)"
                               for p in threadpool_info()]
    except ImportError:
        pass
    if has_torch:
        import torch
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["torch_interop_threads"] = torch.get_num_interop_threads()
    if has_jax:
        import jax
        info["jax"] = jax.__version__
        info["jax_devices"] = [str(d) for d in jax.devices()]
        info["xla_flags"] = os.environ.get("XLA_FLAGS", "")
    return info
