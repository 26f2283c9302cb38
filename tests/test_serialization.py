"""lm.save / lm.load: safetensors round trips, PyTorch interchange, refusal of bad files,
atomic writes."""
import json
import os
import pickle
import struct

import numpy as np
import pytest

import lamina as lm
from lamina import serialization
from lamina.errors import FileFormatError, LaminaTypeError


def _flat_state_dict():
    rng = np.random.default_rng(3)
    return {
        "conv1.weight": lm.tensor(rng.standard_normal((4, 1, 3, 3)).astype(np.float32)),
        "conv1.bias": lm.tensor(rng.standard_normal(4).astype(np.float32)),
        "fc.weight": lm.tensor(rng.standard_normal((2, 5)).T),          # float64, transposed view
        "bn.num_batches_tracked": lm.tensor(7),                         # 0-d int64
        "mask": lm.tensor([True, False, True]),
        "empty": lm.zeros(0, 3),
        "big_endian": rng.standard_normal(3).astype(">f4"),             # a NumPy array
        "small_ints": np.arange(6, dtype=np.int32).reshape(2, 3),
    }


def _assert_same(loaded, original):
    assert isinstance(loaded, lm.Tensor)
    expected = original.numpy() if isinstance(original, lm.Tensor) else original
    assert loaded.dtype == expected.dtype.newbyteorder("=")
    assert loaded.shape == expected.shape
    np.testing.assert_array_equal(loaded.numpy(), expected)


def test_flat_state_dict_round_trip_keeps_keys_and_dtypes(tmp_path):
    from safetensors.numpy import load_file

    sd = _flat_state_dict()
    path = tmp_path / "model.safetensors"
    lm.save(sd, path)
    loaded = lm.load(path)
    assert list(loaded) == list(sd)
    for key in sd:
        _assert_same(loaded[key], sd[key])
    assert set(load_file(path)) == set(sd)  # the tensors are stored under the same names
    assert loaded["conv1.weight"].numpy().flags.writeable  # usable as a parameter in place


def test_nested_checkpoint_round_trip(tmp_path):
    exp_avg = lm.randn(3, 2)
    lm.manual_seed(5)
    rng_state = lm.get_rng_state()
    ckpt = {
        "optimizer": {
            "state": {0: {"step": 3, "exp_avg": exp_avg, "exp_avg_sq": np.ones(2)},
                      2: {"step": 1, "exp_avg": lm.zeros(4, dtype=lm.float64)}},
            "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "amsgrad": False, "name": None,
                              "params": [0, 1]}, {"lr": 1e-3, "params": [2]}],
        },
        "rng": rng_state,
        "epoch": 7,
        "history": [0.5, float("inf"), -2, "text", [1, (2, 3)]],
        "a.b": lm.ones(2),
        "a": {"b": lm.zeros(2)},  # its dotted path collides with the key above
        1.5: True,
    }
    path = tmp_path / "ckpt.safetensors"
    lm.save(ckpt, path)
    loaded = lm.load(path)
    assert list(loaded) == list(ckpt)
    assert list(loaded["optimizer"]["state"]) == [0, 2]  # int keys stay ints
    state = loaded["optimizer"]["state"][0]
    assert state["step"] == 3 and isinstance(state["step"], int)
    _assert_same(state["exp_avg"], exp_avg)
    _assert_same(state["exp_avg_sq"], np.ones(2))
    groups = loaded["optimizer"]["param_groups"]
    assert groups[0] == ckpt["optimizer"]["param_groups"][0] and isinstance(groups[0]["betas"], tuple)
    assert loaded["epoch"] == 7 and loaded[1.5] is True
    assert loaded["history"] == ckpt["history"]
    _assert_same(loaded["a.b"], lm.ones(2))
    _assert_same(loaded["a"]["b"], lm.zeros(2))
    # the restored RNG state reproduces the same draws
    first = lm.randn(5).numpy()
    lm.set_rng_state(loaded["rng"])
    np.testing.assert_array_equal(lm.randn(5).numpy(), first)


@pytest.mark.parametrize("obj, shown", [({"f": object()}, "object"), ([{1, 2}], "set"),
                                        ({(1, 2): 3}, "keys"), (np.array(["a"]), "dtype")])
def test_unsupported_values_raise(obj, shown, tmp_path):
    with pytest.raises(LaminaTypeError, match=shown):
        lm.save(obj, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_lamina_file_loads_into_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    linear = torch.nn.Linear(3, 2)
    sd = {"weight": lm.randn(2, 3), "bias": lm.randn(2)}
    lm.save(sd, tmp_path / "linear.safetensors")
    tensors = load_file(tmp_path / "linear.safetensors")
    assert set(tensors) == {"weight", "bias"}
    linear.load_state_dict(tensors, strict=True)
    np.testing.assert_array_equal(linear.weight.detach().numpy(), sd["weight"].numpy())
    assert linear.weight.dtype == torch.float32


def test_torch_file_loads_into_lamina(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    model(torch.randn(2, 1, 5, 5))  # num_batches_tracked becomes 1
    sd = {key: value.contiguous() for key, value in model.state_dict().items()}
    sd["flags"] = torch.tensor([True, False])
    save_file(sd, tmp_path / "torch.safetensors")
    loaded = lm.load(tmp_path / "torch.safetensors")
    assert set(loaded) == set(sd)
    for key, value in sd.items():
        assert isinstance(loaded[key], lm.Tensor)
        _assert_same(loaded[key], value.numpy())
    assert loaded["0.weight"].dtype == lm.float32
    assert loaded["1.num_batches_tracked"].dtype == lm.int64
    assert loaded["flags"].dtype == lm.bool


# ---------------------------------------------------------------------- bad files
class _CreatesMarker:
    """Unpickling this object creates a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _good_bytes(tmp_path):
    lm.save({"w": lm.randn(8, 8), "step": 3}, tmp_path / "good.safetensors")
    return (tmp_path / "good.safetensors").read_bytes()


def _bad_files(tmp_path, marker):
    good = _good_bytes(tmp_path)
    (length,) = struct.unpack("<Q", good[:8])
    npy = tmp_path / "payload.npy"
    np.save(npy, np.array([_CreatesMarker(marker)], dtype=object), allow_pickle=True)
    return {
        "empty": b"",
        "truncated-data": good[:-10],
        "truncated-header": good[: 8 + length // 2],
        "bad-magic": b"\xff" * 8 + good[8:],
        "header-not-json": good[:8] + b"{" + b"x" * (length - 1) + good[8 + length:],
        "text": b"this is not a safetensors file, just some text\n" * 3,
        "npy-pickle": npy.read_bytes(),
        "pickle": pickle.dumps(_CreatesMarker(marker)),
        "corrupt-structure": _with_metadata(good, {"__lamina__": "{not json"}),
        "dangling-reference": _with_metadata(
            good, {"__lamina__": json.dumps({"version": 1, "tree": {"tensor": "missing"}})}),
    }


def _with_metadata(good, metadata):
    (length,) = struct.unpack("<Q", good[:8])
    header = json.loads(good[8:8 + length])
    header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + good[8 + length:]


BAD_KINDS = ["empty", "truncated-data", "truncated-header", "bad-magic", "header-not-json", "text",
             "npy-pickle", "pickle", "corrupt-structure", "dangling-reference"]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_files_are_refused_without_running_code(kind, tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "bad.safetensors"
    path.write_bytes(_bad_files(tmp_path, marker)[kind])
    with pytest.raises(FileFormatError, match="bad.safetensors"):
        lm.load(path)
    assert not marker.exists()


def test_pickle_payload_is_live():
    """The payload above really runs code when unpickled (so the test above can fail)."""
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        marker = os.path.join(directory, "code-ran")
        npy = os.path.join(directory, "payload.npy")
        np.save(npy, np.array([_CreatesMarker(marker)], dtype=object), allow_pickle=True)
        np.load(npy, allow_pickle=True)
        assert os.path.exists(marker)


def test_npy_and_pickle_are_named_in_the_message(tmp_path):
    files = _bad_files(tmp_path, tmp_path / "m")
    for kind, hint in [("npy-pickle", ".npy"), ("pickle", "pickle")]:
        path = tmp_path / f"{kind}.bin"
        path.write_bytes(files[kind])
        with pytest.raises(FileFormatError, match=hint):
            lm.load(path)


def test_missing_file_raises_file_not_found(tmp_path):
    path = tmp_path / "nowhere" / "absent.safetensors"
    with pytest.raises(FileNotFoundError, match="absent.safetensors"):
        lm.load(path)


# ---------------------------------------------------------------------- atomic writes
def _fail_fsync(monkeypatch):
    def fsync(fd):
        raise OSError("simulated crash: disk full")
    monkeypatch.setattr(serialization.os, "fsync", fsync)


def _fail_replace(monkeypatch):
    def replace(src, dst):
        raise OSError("simulated crash before the rename")
    monkeypatch.setattr(serialization.os, "replace", replace)


def _fail_mid_write(monkeypatch):
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            raise OSError("simulated crash mid-write")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(serialization.os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))


@pytest.mark.parametrize("fail", [_fail_fsync, _fail_replace, _fail_mid_write],
                         ids=["fsync", "replace", "mid-write"])
def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(fail, tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    lm.save({"w": lm.ones(3), "epoch": 1}, path)
    before = path.read_bytes()
    fail(monkeypatch)
    with pytest.raises(OSError, match="simulated"):
        lm.save({"w": lm.zeros(1000), "epoch": 2}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert lm.load(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]
    with pytest.raises(OSError, match="simulated"):  # and a new path is never created
        fail(monkeypatch)
        lm.save({"w": lm.zeros(3)}, tmp_path / "new.safetensors")
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_saved_file_is_not_private(tmp_path):
    path = tmp_path / "x.safetensors"
    lm.save({"w": lm.ones(1)}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# ---------------------------------------------------------------------- file objects, torch's keywords
def test_file_objects_round_trip(tmp_path):
    import io

    sd = _flat_state_dict()
    buffer = io.BytesIO()
    lm.save(sd, buffer)
    path = tmp_path / "model.safetensors"
    lm.save(sd, path)
    assert buffer.getvalue() == path.read_bytes()   # the same bytes as a file on disk
    buffer.seek(0)
    loaded = lm.load(buffer)
    for key in sd:
        _assert_same(loaded[key], sd[key])
    with open(tmp_path / "opened.safetensors", "wb") as f:
        f.write(b"")          # a file object that already wrote nothing; then lm.save appends
        lm.save({"w": lm.ones(2)}, f)
    with open(tmp_path / "opened.safetensors", "rb") as f:
        _assert_same(lm.load(f)["w"], lm.ones(2))


def test_load_reads_from_the_current_position():
    import io

    buffer = io.BytesIO()
    buffer.write(b"prefix")
    lm.save({"epoch": 4}, buffer)
    buffer.seek(len(b"prefix"))
    assert lm.load(buffer) == {"epoch": 4}


def test_bad_file_object_content_is_refused_and_named():
    import io

    class Named(io.BytesIO):
        name = "stream.bin"

    with pytest.raises(FileFormatError, match="stream.bin"):
        lm.load(Named(b"not a safetensors file at all"))
    with pytest.raises(FileFormatError, match="file object"):
        lm.load(io.BytesIO(pickle.dumps({"a": 1})))
    with pytest.raises(LaminaTypeError, match="binary"):
        lm.load(io.StringIO("text"))
    with pytest.raises(LaminaTypeError, match="path"):
        lm.save({"a": 1}, 42)


def test_pathlike_and_torch_keywords_are_accepted(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    lm.save({"w": lm.ones(2)}, path)
    for kwargs in ({"map_location": "cpu"}, {"map_location": lm.device("cpu")},
                   {"map_location": None, "weights_only": True}, {"weights_only": False},
                   {"map_location": {"cpu": "cpu"}}, {"map_location": lambda storage, loc: storage}):
        _assert_same(lm.load(str(path), **kwargs)["w"], lm.ones(2))
    with pytest.raises(AssertionError, match="cuda"):  # as torch's CPU build
        lm.load(path, map_location="cuda:0")


def test_checkpoint_with_a_real_optimizer_round_trips(tmp_path):
    import io

    def make():
        lm.manual_seed(0)
        model = lm.nn.Sequential(lm.nn.Linear(3, 4), lm.nn.Tanh(), lm.nn.Linear(4, 1))
        return model, lm.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.99))

    x, y = lm.randn(8, 3), lm.randn(8, 1)

    def train(model, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            loss = lm.nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
        return loss.item()

    model, opt = make()
    train(model, opt, 3)
    ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}
    buffer = io.BytesIO()
    lm.save(ckpt, buffer)
    buffer.seek(0)
    loaded = lm.load(buffer)
    assert loaded["epoch"] == 3
    saved_groups = opt.state_dict()["param_groups"]
    assert loaded["optimizer"]["param_groups"] == saved_groups
    assert isinstance(loaded["optimizer"]["param_groups"][0]["params"], list)
    assert isinstance(loaded["optimizer"]["param_groups"][0]["lr"], float)
    restored, restored_opt = make()
    restored.load_state_dict(loaded["model"])
    restored_opt.load_state_dict(loaded["optimizer"])
    assert train(restored, restored_opt, 2) == train(model, opt, 2)  # resumes exactly
    for a, b in zip(restored.parameters(), model.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_saving_a_module_or_optimizer_asks_for_its_state_dict(tmp_path):
    model = lm.nn.Linear(2, 2)
    opt = lm.optim.SGD(model.parameters(), lr=0.1)
    path = tmp_path / "x.safetensors"
    with pytest.raises(LaminaTypeError, match=r"nn\.Module Linear.*state_dict\(\)"):
        lm.save(model, path)
    with pytest.raises(LaminaTypeError, match=r"optimizer SGD.*key optimizer.*state_dict\(\)"):
        lm.save({"model": model.state_dict(), "optimizer": opt}, path)
    assert not path.exists()


def test_serialization_does_not_import_nn():
    import subprocess
    import sys

    code = ("import sys, io, lamina as lm; lm.save({'a': lm.ones(1)}, io.BytesIO()); "
            "print('lamina.nn.module' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported_by_lamina = subprocess.run(
        [sys.executable, "-c", "import sys, lamina; print('lamina.nn.module' in sys.modules)"],
        capture_output=True, text=True, check=True)
    assert out.stdout == imported_by_lamina.stdout   # saving imports nothing more
