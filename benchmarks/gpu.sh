#!/usr/bin/env bash
# lamina's GPU checks as one prepared script, under 5 minutes, for a machine with an NVIDIA GPU
# where `python3` has torch (a CUDA build), cupy and numpy; lamina need not be installed (the
# checkout is put on PYTHONPATH). From anywhere:
#
#   bash benchmarks/gpu.sh
#   DATA=/path/to/fashion-mnist OUT=/tmp/lamina-gpu bash benchmarks/gpu.sh
#
# 1. versions and the device; 2. the device tests (pytest -k cupy: the `cuda` fixture's "cupy"
# case runs on the real GPU), at most 120 s; 3. with $DATA (a Fashion-MNIST directory of the
# four idx .gz files): `lamina train` LeNet-5 and the TF CNN for one epoch of 20,000 images on
# cuda and on cpu, printing the test accuracies side by side; 4. benchmarks/gpu.py --budget
# 120 (throughput ratios against PyTorch CUDA, device memory). Everything is written under
# ${OUT:-/tmp/lamina-gpu} (gpu.log is the whole output). Each step gets what is left of the
# 5 minutes (LAMINA_GPU_SECONDS, default 290) and is cut short by `timeout`; the exit status is
# the number of steps that failed.
set -u
cd "$(dirname "$0")/.." || exit 1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
OUT="${OUT:-/tmp/lamina-gpu}"
DATA="${DATA:-}"
LIMIT="${LAMINA_GPU_SECONDS:-290}"
mkdir -p "$OUT" || exit 1
exec > >(tee "$OUT/gpu.log") 2>&1
FAILED=()

left() { echo $(( LIMIT - SECONDS )); }
# seconds for a step: at most $1, and no more than what is left once $2 seconds are kept back
allow() { local want=$1 keep=$2 have; have=$(( $(left) - keep )); echo $(( have < want ? have : want )); }
section() { printf '\n== %s (%d s elapsed, %d s left)\n' "$1" "$SECONDS" "$(left)"; }
check() {  # check NAME STATUS: record a failed step; 124 means `timeout` stopped it
    case $2 in
        0) ;;
        124) echo "$1: stopped by its time limit"; FAILED+=("$1 (time limit)") ;;
        *) echo "$1: failed with status $2"; FAILED+=("$1 (status $2)") ;;
    esac
}

section "versions and device"
timeout 60 python3 - <<'EOF'
import platform, sys
print("python", platform.python_version(), sys.executable)
import numpy
print("numpy", numpy.__version__)
try:
    import cupy
    print("cupy", cupy.__version__, "| CUDA runtime", cupy.cuda.runtime.runtimeGetVersion(),
          "| devices", cupy.cuda.runtime.getDeviceCount())
except Exception as exc:
    print("cupy: not usable:", type(exc).__name__, exc)
import torch
print("torch", torch.__version__, "| CUDA", torch.version.cuda, "| available",
      torch.cuda.is_available(), "|", torch.cuda.get_device_name() if torch.cuda.is_available() else "-")
import lamina
print("lamina", getattr(lamina, "__version__", "?"), "from", lamina.__file__)
print("lamina.cuda.is_available():", lamina.cuda.is_available(),
      "|", lamina.cuda.get_device_name() if lamina.cuda.is_available() else "no device")
EOF
check versions $?
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,utilization.gpu --format=csv,noheader

section "device tests (pytest -k cupy)"
TESTS=()
for f in tests/ops/test_ops_on_device.py tests/nn/test_on_device.py tests/optim/test_on_device.py; do
    if [ -f "$f" ]; then TESTS+=("$f"); else echo "missing, skipped: $f"; fi
done
if ! python3 -c "import pytest" 2>/dev/null; then
    echo "pytest is not installed for python3: device tests skipped"; FAILED+=("device tests (no pytest)")
elif [ ${#TESTS[@]} -eq 0 ]; then
    echo "no device test files: skipped"
else
    T=$(allow 120 150)
    timeout "$T" python3 -m pytest -q -p no:cacheprovider --tb=short -k cupy "${TESTS[@]}" \
        > "$OUT/device-tests.log" 2>&1
    status=$?
    tail -n 40 "$OUT/device-tests.log"
    check "device tests (${T} s limit; all output in device-tests.log)" $status
fi

section "lamina train: LeNet-5 and the TF CNN, one epoch of 20,000 images, cuda and cpu"
if [ -f lamina/__main__.py ]; then
    LAMINA=(python3 -m lamina)
else  # no module entry point yet: the console script's function, called directly
    echo "(lamina/__main__.py is absent: calling lamina.cli.main directly)"
    LAMINA=(python3 -c 'import sys; from lamina.cli import main; sys.exit(main())')
fi
if [ -z "$DATA" ] || [ ! -d "$DATA" ]; then
    echo "skipped: set DATA to a Fashion-MNIST directory (the four idx .gz files) to train"
else
    for model in lenet5 tf-cnn; do
        for device in cuda cpu; do
            T=$(allow 75 140)
            if [ "$T" -lt 15 ]; then echo "$model on $device: skipped, time is short"; continue; fi
            run="$OUT/${model%5}-$device"
            rm -rf "$run"
            timeout "$T" "${LAMINA[@]}" train --dataset fashion-mnist --data-dir "$DATA" \
                --model "$model" --device "$device" --epochs 1 --train-size 20000 --quiet --out "$run"
            check "train $model on $device (${T} s limit)" $?
        done
        python3 - "$OUT" "${model%5}" <<'EOF'
import json, pathlib, sys
out, name = pathlib.Path(sys.argv[1]), sys.argv[2]
for device in ("cuda", "cpu"):
    metrics = out / f"{name}-{device}" / "metrics.jsonl"
    if metrics.exists():
        last = json.loads(metrics.read_text().splitlines()[-1])
        print(f"{name} on {device}: test accuracy {last['test_accuracy']:.4f}, "
              f"epoch {last['seconds']:.1f} s")
    else:
        print(f"{name} on {device}: no metrics ({metrics} missing)")
EOF
    done
fi

section "benchmark (benchmarks/gpu.py)"
B=$(allow 120 25)
if [ "$B" -lt 30 ]; then
    echo "skipped: only $B s left"; FAILED+=("benchmark (no time left)")
else
    timeout $(( B + 20 )) python3 benchmarks/gpu.py --budget "$B" --markdown "$OUT/gpu.md" --json "$OUT/gpu.json"
    check "benchmark (${B} s budget)" $?
fi

section "done"
ls -l "$OUT"
if [ ${#FAILED[@]} -eq 0 ]; then
    echo "all steps passed in $SECONDS s"
else
    printf 'failed: %s\n' "${FAILED[@]}"
fi
exit ${#FAILED[@]}
