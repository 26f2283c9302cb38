"""benchmarks/gpu.py and benchmarks/gpu.sh still run: the benchmark's ``--smoke`` (every
workload, two steps on tiny batches, lamina's 'cuda' on the checking array module, PyTorch on
the CPU, the first losses compared) and the shell script's syntax. The measurements themselves
need a GPU (``bash benchmarks/gpu.sh`` there)."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="the GPU benchmark compares lamina with PyTorch")

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "gpu.py"


def _workload_rows() -> list[str]:
    """The row names gpu.py promises (its WORKLOADS; the memory workload gives two rows)."""
    spec = importlib.util.spec_from_file_location("gpu_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names = []
    for name, kind, *_ in module.WORKLOADS:
        names += [name, f"{name}-reserved"] if kind == "memory" else [name]
    return names


def _run(*args, timeout=120):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=str(ROOT), env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu-smoke") / "gpu.json"
    done = _run("--smoke", "--json", str(out))
    return done, json.loads(out.read_text()) if out.exists() else None


def test_smoke_runs_every_workload(smoke):
    done, _ = smoke
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "smoke (not a measurement)" in done.stdout
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    for name in _workload_rows():
        rows = [line for line in table if line.startswith(f"| {name} |")]
        assert len(rows) == 1, f"no row for {name} in:\n{done.stdout}"
        assert "FAILED" not in rows[0]


def test_smoke_json_has_figures(smoke):
    done, report = smoke
    assert report is not None, done.stderr[-3000:]
    assert report["header"]["smoke"] is True
    assert report["header"]["lamina_name"] == "lamina checking array module (NumPy)"
    rows = {row["workload"]: row for row in report["rows"]}
    assert sorted(rows) == sorted(_workload_rows())
    for name, row in rows.items():
        assert "failed" not in row, row
        if row["kind"] != "memory":
            assert row["higher_is_better"] and row["unit"] == "images/s"
            for framework in ("lamina", "torch"):
                assert row["samples"][framework] and min(row["samples"][framework]) > 0
            assert row["ratio_median"] == pytest.approx(
                row["median"]["lamina"] / row["median"]["torch"])
    assert rows["lenet5-train-256"]["target"] == ">= 0.8x PyTorch CUDA"
    assert rows["lenet5-train-64"]["target"] is None


def _both_have_a_gpu() -> bool:
    import lamina

    return torch.cuda.is_available() and lamina.cuda.is_available()


@pytest.mark.skipif(_both_have_a_gpu(), reason="lamina and PyTorch both see a CUDA device here")
def test_without_a_gpu_it_says_so_and_exits_2():
    done = _run(timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no CUDA device is available" in lines[0]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_gpu_sh_is_valid_bash():
    done = subprocess.run(["bash", "-n", str(ROOT / "benchmarks" / "gpu.sh")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
