"""Run one PyTorch program under real torch and under lamina, and compare what it computed.

A program is ordinary PyTorch source (``import torch``, ``import torch.nn as nn``, ...). It is
executed twice, each time in a fresh namespace that also holds four harness functions:

``report(name, value)``
    records a value (tensor, number, string, list/tuple/dict of those, dtype, device, Size),
    encoded at the moment of the call so later in-place changes do not alter it.
``fixture(name, shape, low=None, high=None)``
    a float32 tensor made with ``torch.tensor`` from NumPy values that depend only on
    ``name`` (standard normal, or uniform in [low, high)): the same data in both runs, because
    torch's and lamina's random generators differ and random draws are never compared.
``init_like_reference(model)``
    sets every parameter of ``model`` (under ``torch.no_grad()``, with ``copy_``) to NumPy
    values seeded by the parameter's name, uniform in +-1/sqrt(fan_in), so both runs start
    from the same weights; returns the model.
``print``
    records each call's text (the printed output is compared too).

Passes:
  * torch:  ``run_source(source, "torch")`` executes in this process with the real modules.
  * lamina: ``run_source(source, "lamina")`` executes in a child interpreter
    (``python -m tests.compat.harness --child``, source on stdin) where a meta-path finder maps every module ``torch[.x.y]`` to ``lamina[.x.y]``
    (``torch.nn.functional`` -> ``lamina.nn.functional``, ``torch.utils.data`` ->
    ``lamina.utils.data``, ...). Real torch is never imported there, and nothing in this
    process's ``sys.modules`` changes. Startup costs about 0.3 s.

Comparison: see ``comparison.py``.

Run ``python -m tests.compat.harness tests/compat/programs/<name>.py`` to see one program's
comparison (``--show`` prints both runs' reports and output).
"""
from __future__ import annotations

import builtins
import contextlib
import dataclasses
import importlib
import importlib.abc
import importlib.util
import json
import math
import os
import pickle
import subprocess
import sys
import tempfile
import time
import traceback
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .comparison import Tolerance, compare, normalise_text, program_tolerance, short

__all__ = ["RunResult", "Tolerance", "compare", "program_tolerance", "program_paths",
           "run_source", "run_program", "lamina_as_torch", "real_torch"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent  # the repository: the child runs `python -m tests.compat.harness`
PROGRAMS_DIR = HERE / "programs"
CHILD_TIMEOUT_S = 120


# --------------------------------------------------------------------------- results


@dataclass
class RunResult:
    """What one pass of a program computed: its reports, its printed text, its failure if any."""

    framework: str
    reports: list = field(default_factory=list)      # [(name, encoded value)]
    printed: list = field(default_factory=list)      # [(text of one print call, is_tensor_repr)]
    error: dict | None = None                        # see _describe_exception
    seconds: float = 0.0

    def describe_error(self) -> str:
        e = self.error
        if e is None:
            return "no error"
        where = f"line {e['line']}: {e['code']}" if e.get("line") else "(no program line)"
        inner = f"\n    raised in {e['where']}" if e.get("where") else ""
        return (f"{self.framework} raised {e['type']}: {e['message']}\n"
                f"    at program {where}{inner}")


def program_paths() -> list[Path]:
    """The corpus: every ``programs/*.py``, in name order."""
    return sorted(PROGRAMS_DIR.glob("*.py"))


# --------------------------------------------------------------------------- import mapping


class _LaminaLoader(importlib.abc.Loader):
    """Hands out an already imported lamina module under a ``torch...`` name."""

    def __init__(self, module):
        self.module = module
        self.original_spec = getattr(module, "__spec__", None)

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        # importlib has just set module.__spec__ to the torch-named spec; lamina's own
        # imports must keep seeing the real one.
        module.__spec__ = self.original_spec


class TorchToLamina(importlib.abc.MetaPathFinder):
    """Resolves ``torch`` and ``torch.<sub>`` to ``lamina`` and ``lamina.<sub>``."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        target_name = "lamina" + fullname[len("torch"):]
        try:
            module = importlib.import_module(target_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (exc.name == target_name
                                         or target_name.startswith(exc.name + ".")):
                raise ModuleNotFoundError(
                    f"No module named {fullname!r} (lamina has no module {target_name!r})",
                    name=fullname) from None
            raise
        return importlib.util.spec_from_loader(fullname, _LaminaLoader(module))


@contextlib.contextmanager
def lamina_as_torch():
    """``import torch...`` gives lamina inside the block; ``sys.modules`` is restored after."""
    saved = {k: v for k, v in sys.modules.items() if k == "torch" or k.startswith("torch.")}
    for k in saved:
        del sys.modules[k]
    finder = TorchToLamina()
    sys.meta_path.insert(0, finder)
    try:
        yield importlib.import_module("torch")
    finally:
        sys.meta_path.remove(finder)
        for k in [k for k in sys.modules if k == "torch" or k.startswith("torch.")]:
            del sys.modules[k]
        sys.modules.update(saved)


@contextlib.contextmanager
def real_torch():
    """The real torch, with the global settings a program may change restored afterwards."""
    import torch

    dtype = torch.get_default_dtype()
    grad = torch.is_grad_enabled()
    try:
        yield torch
    finally:
        torch.set_default_dtype(dtype)
        torch.set_grad_enabled(grad)
        torch.set_printoptions(profile="default")


# --------------------------------------------------------------------------- encoding


def _dtype_name(dtype) -> str:
    return str(dtype).rsplit(".", 1)[-1]


def _encode(value, fw):
    """A picklable, framework-free description of ``value``."""
    tensor_type = getattr(fw, "Tensor", None)
    if tensor_type is not None and isinstance(value, tensor_type):
        t = value.detach()
        if str(getattr(t, "device", "cpu")) != "cpu":
            t = t.cpu()
        return ("tensor", _dtype_name(value.dtype), np.array(t.numpy(), copy=True),
                bool(value.requires_grad))
    if value is None:
        return ("none",)
    if isinstance(value, (bool, int, float)) or isinstance(value, np.generic):
        return ("number", type(value).__name__, value.item() if isinstance(value, np.generic)
                else value)
    if isinstance(value, str):
        return ("str", normalise_text(value))
    if isinstance(value, (list, tuple)):
        return ("list", [_encode(v, fw) for v in value])
    if isinstance(value, dict):
        return ("dict", [(str(k), _encode(v, fw)) for k, v in value.items()])
    if isinstance(value, np.ndarray):
        raise TypeError("report() takes tensors, not NumPy arrays")
    return ("str", normalise_text(str(value)))


def _describe_exception(exc: BaseException, filename: str, source: str) -> dict:
    frames = traceback.extract_tb(exc.__traceback__)
    line = None
    for frame in frames:
        if frame.filename == filename:
            line = frame.lineno
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        line = exc.lineno
    code = source.splitlines()[line - 1].strip() if line else ""
    where = ""
    if frames and frames[-1].filename != filename:
        f = frames[-1]
        where = f"{f.filename}:{f.lineno} in {f.name}"
    message = str(exc)
    if len(message) > 600:
        message = message[:600] + "..."
    return {"type": type(exc).__name__, "message": message, "line": line, "code": code,
            "where": where}


# --------------------------------------------------------------------------- execution


def _fixture_array(name: str, shape, low=None, high=None) -> np.ndarray:
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    if low is None and high is None:
        return rng.standard_normal(shape).astype(np.float32)
    return rng.uniform(0.0 if low is None else low, 1.0 if high is None else high,
                       shape).astype(np.float32)


def _reference_weights(name: str, shape: tuple) -> np.ndarray:
    fan_in = int(np.prod(shape[1:])) if len(shape) >= 2 else int(shape[0]) if shape else 1
    bound = 1.0 / math.sqrt(max(fan_in, 1))
    rng = np.random.default_rng(zlib.crc32(("init:" + name).encode()))
    return rng.uniform(-bound, bound, shape).astype(np.float32)


def _execute(source: str, filename: str, framework: str) -> RunResult:
    result = RunResult(framework)
    modules = real_torch() if framework == "torch" else lamina_as_torch()
    start = time.perf_counter()
    with modules as fw:
        def report(name, value):
            result.reports.append((str(name), _encode(value, fw)))

        def fixture(name, shape, low=None, high=None):
            return fw.tensor(_fixture_array(name, shape, low, high))

        def init_like_reference(model):
            with fw.no_grad():
                for name, p in model.named_parameters():
                    p.copy_(fw.tensor(_reference_weights(name, tuple(p.shape))))
            return model

        def captured_print(*args, sep=" ", end="\n", file=None, flush=False):
            if file is not None:
                return builtins.print(*args, sep=sep, end=end, file=file, flush=flush)
            text = (" " if sep is None else sep).join(str(a) for a in args)
            text += "\n" if end is None else end
            text = normalise_text(text)
            result.printed.append((text, "tensor(" in text or "Parameter containing" in text))

        namespace = {"__name__": "__main__", "__file__": filename, "__builtins__": builtins,
                     "report": report, "fixture": fixture,
                     "init_like_reference": init_like_reference, "print": captured_print}
        try:
            exec(compile(source, filename, "exec"), namespace)
        except (Exception, SystemExit) as exc:  # the failure is the result
            result.error = _describe_exception(exc, filename, source)
    result.seconds = time.perf_counter() - start
    return result


def run_source(source: str, framework: str, filename: str = "<program>") -> RunResult:
    """Run ``source`` with ``torch`` bound to real torch (in process) or to lamina (in a child)."""
    if framework == "torch":
        return _execute(source, filename, "torch")
    if framework != "lamina":
        raise ValueError(f"framework must be 'torch' or 'lamina', got {framework!r}")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.pickle")
        payload = json.dumps({"source": source, "filename": filename})
        try:
            proc = subprocess.run([sys.executable, "-m", __spec__.name, "--child",
                                   "lamina", out], input=payload,
                                  capture_output=True, text=True, timeout=CHILD_TIMEOUT_S,
                                  cwd=ROOT)
        except subprocess.TimeoutExpired:
            return RunResult("lamina", error={"type": "Timeout", "line": None, "code": "",
                                              "message": f"no result in {CHILD_TIMEOUT_S} s",
                                              "where": ""})
        if proc.returncode != 0 or not os.path.exists(out):
            return RunResult("lamina", error={"type": "ChildProcessError", "line": None,
                                              "code": "", "where": "",
                                              "message": proc.stderr[-2000:]})
        with open(out, "rb") as f:
            return RunResult(**pickle.load(f))


def run_program(path: Path, framework: str) -> RunResult:
    path = Path(path)
    return run_source(path.read_text(), framework, filename=str(path))


# --------------------------------------------------------------------------- command line


def _show(result: RunResult) -> None:
    print(f"== {result.framework} ({result.seconds:.2f} s)")
    for name, value in result.reports:
        print(f"  report {name}: {short(value) if value[0] != 'tensor' else value[2]!r}")
    for text, _ in result.printed:
        print("  | " + text.rstrip("\n").replace("\n", "\n  | "))
    if result.error:
        print("  " + result.describe_error())


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        framework, out = argv[1], argv[2]
        payload = json.loads(sys.stdin.read())
        result = _execute(payload["source"], payload["filename"], framework)
        with open(out, "wb") as f:  # a dict: the class lives in __main__ here
            pickle.dump(dataclasses.asdict(result), f)
        return 0
    show = "--show" in argv
    paths = [Path(a) for a in argv if not a.startswith("--")] or program_paths()
    failed = 0
    for path in paths:
        source = path.read_text()
        expected = run_source(source, "torch", str(path))
        actual = run_source(source, "lamina", str(path))
        if show:
            _show(expected)
            _show(actual)
        problems = ([expected.describe_error()] if expected.error
                    else compare(expected, actual, program_tolerance(source)))
        failed += bool(problems)
        status = "ok" if not problems else "FAIL"
        print(f"{path.stem}: {status} (torch {expected.seconds:.2f} s, "
              f"lamina {actual.seconds:.2f} s)")
        for p in problems:
            print("    " + p.replace("\n", "\n    "))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
