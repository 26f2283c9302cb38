"""Reliability, fuzzing: random compositions of operations on random broadcastable shapes
have the gradients of float64 finite differences, and random or mutated bytes given to
lm.load and the IDX reader raise lamina's own errors (never another exception, never a hang).

Issue 8, the fuzzing lines. The budget is small and the examples are derandomised, so a run
is deterministic and takes seconds.
"""
import contextlib
import gzip
import signal
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lamina as lm
from lamina.autograd import gradcheck
from lamina.data import parse_idx, read_idx, write_idx
from lamina.errors import LaminaError
from lamina.serialization import load, save

FUZZ = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@contextlib.contextmanager
def time_limit(seconds: int):
    """Fail instead of hanging: SIGALRM after ``seconds`` (the tests run in the main thread)."""
    def expire(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------- composed operations
UNARY = {"exp": lm.exp, "tanh": lm.tanh, "sigmoid": lm.sigmoid, "softplus": lm.ops.softplus,
         "square": lm.square}
BINARY = {"add": lm.add, "mul": lm.mul, "sub": lm.sub,
          # a divisor kept >= 1: no pole for finite differences to straddle
          "div": lambda a, b: lm.div(a, lm.square(b) + 1.0)}
BOUND = 20.0          # intermediate values stay in [-20, 20]: finite differences stay accurate
MAX_ELEMENTS = 48


def _apply(step, x, leaves):
    kind = step[0]
    if kind == "unary":
        return UNARY[step[1]](x)
    if kind == "binary":
        _, name, k, swap = step
        a, b = (leaves[k], x) if swap else (x, leaves[k])
        return BINARY[name](a, b)
    if kind == "reduce":
        _, name, dims, keepdim = step
        return getattr(lm, name)(x, dim=dims, keepdim=keepdim)
    if kind == "reshape":
        return lm.reshape(x, step[1])
    if kind == "transpose":
        return lm.transpose(x, step[1], step[2])
    raise AssertionError(step)


def _replay(program, leaves):
    x = leaves[0]
    for step in program:
        x = _apply(step, x, leaves)
    return x


def _other_shape(draw, shape):
    """A shape that broadcasts with ``shape``: some sizes set to 1 (or a 1 widened), leading
    dimensions dropped or one added."""
    dims = [draw(st.sampled_from([n, 1] if n > 1 else [1, 2])) for n in shape]
    drop = draw(st.integers(0, len(dims)))
    if drop == 0 and len(dims) < 4 and draw(st.booleans()):
        return tuple([draw(st.integers(1, 3))] + dims)
    return tuple(dims[drop:])


def _reshape_targets(shape):
    n = int(np.prod(shape))
    targets = [(n,), (1, n), (n, 1)]
    targets += [(a, n // a) for a in range(2, n) if n % a == 0]
    return targets


@st.composite
def programs(draw):
    """(program, leaf arrays): a random sequence of 2-7 operations from the first leaf,
    evaluated as it is drawn so that every intermediate value stays bounded."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))  # 0-d: by reduction
    leaves = [rng.uniform(-1.5, 1.5, shape)]
    x = leaves[0]
    program = []
    length = draw(st.integers(2, 7))
    for _ in range(4 * length):                        # a step that does not fit is redrawn
        if len(program) == length:
            break
        kind = draw(st.sampled_from(["unary", "binary", "binary", "reduce", "reshape", "transpose"]))
        if kind == "unary":
            step = ("unary", draw(st.sampled_from(sorted(UNARY))))
        elif kind == "binary":
            other = _other_shape(draw, x.shape)
            leaves.append(rng.uniform(-1.5, 1.5, other))
            step = ("binary", draw(st.sampled_from(sorted(BINARY))), len(leaves) - 1,
                    draw(st.booleans()))
        elif kind == "reduce":
            if x.ndim == 0:
                continue
            dims = draw(st.lists(st.integers(-x.ndim, x.ndim - 1), min_size=1, max_size=x.ndim,
                                 unique_by=lambda d: d % x.ndim))
            step = ("reduce", draw(st.sampled_from(["sum", "mean"])), tuple(dims), draw(st.booleans()))
        elif kind == "reshape":
            step = ("reshape", draw(st.sampled_from(_reshape_targets(x.shape))))
        else:
            if x.ndim < 2:
                continue
            step = ("transpose", *draw(st.lists(st.integers(0, x.ndim - 1), min_size=2,
                                                max_size=2, unique=True)))
        with lm.no_grad():
            y = _apply(step, lm.tensor(x), [lm.tensor(a) for a in leaves]).numpy()
        if y.size > MAX_ELEMENTS or not np.all(np.abs(y) <= BOUND):
            continue                                   # leave out a step that blows up
        program.append(step)
        x = y
    return program, leaves


@FUZZ
@given(programs())
def test_random_compositions_have_finite_difference_gradients(case):
    program, arrays = case
    leaves = [lm.tensor(a, requires_grad=True) for a in arrays]
    assert all(t.dtype == lm.float64 for t in leaves)
    with time_limit(20):
        assert gradcheck(lambda *ts: _replay(program, ts), leaves, atol=1e-6, rtol=1e-5)


def test_the_composition_check_catches_a_wrong_gradient(monkeypatch):
    """The harness above can fail: a wrong derivative of one operation is caught."""
    from lamina.autograd.gradcheck import GradcheckError
    from lamina.ops import activation

    wrong = lambda ctx, grad: 1.01 * grad * (1 - ctx.saved[0] ** 2)  # noqa: E731
    monkeypatch.setattr(activation.Tanh, "backward", staticmethod(wrong))
    x = lm.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    with pytest.raises(GradcheckError):
        gradcheck(lambda t: _replay([("unary", "tanh"), ("reduce", "sum", (0,), False)], [t]), [x])


# ---------------------------------------------------------------- random bytes to the readers
def _good_safetensors() -> bytes:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "good.safetensors"
        save({"w": lm.tensor(np.arange(12.0).reshape(3, 4)), "b": lm.zeros(3, dtype=lm.int64),
              "meta": {"epoch": 3, "name": "run"}}, path)
        return path.read_bytes()


def _good_idx(compress: bool) -> bytes:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / ("x.gz" if compress else "x")
        write_idx(path, np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4), compress=compress)
        return path.read_bytes()


GOOD = {"safetensors": _good_safetensors(), "idx": _good_idx(False), "idx.gz": _good_idx(True)}


@st.composite
def mangled(draw, good: bytes):
    """Random bytes, or a valid file truncated, with bytes overwritten, or with bytes inserted."""
    how = draw(st.sampled_from(["random", "truncate", "overwrite", "insert"]))
    if how == "random":
        return draw(st.binary(max_size=300))
    data = bytearray(good)
    at = draw(st.integers(0, len(data)))
    if how == "truncate":
        return bytes(data[:at])
    patch = draw(st.binary(min_size=1, max_size=16))
    if how == "overwrite":
        data[at:at + len(patch)] = patch
    else:
        data[at:at] = patch
    return bytes(data)


def _outcome(call):
    """'ok' or the lamina error's type; any other exception propagates and fails the test."""
    try:
        with time_limit(10):
            call()
    except LaminaError as exc:
        return type(exc).__name__
    return "ok"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(data=mangled(GOOD["safetensors"]))
def test_load_of_random_bytes_raises_only_lamina_errors(scratch, data):
    path = scratch / "fuzz.safetensors"
    path.write_bytes(data)
    _outcome(lambda: load(path))


@FUZZ
@given(data=st.one_of(mangled(GOOD["idx"]), mangled(GOOD["idx.gz"]),
                      st.binary(max_size=40).map(lambda b: gzip.compress(b, mtime=0))))
def test_idx_reader_of_random_bytes_raises_only_lamina_errors(scratch, data):
    path = scratch / "fuzz-idx-ubyte"
    path.write_bytes(data)
    parsed = _outcome(lambda: parse_idx(data))
    assert _outcome(lambda: read_idx(path)) == parsed
