"""`.pth`/`.pt` paths: with PyTorch installed, lm.save writes PyTorch's own format (what
`torch.load(..., weights_only=True)` reads) and lm.load reads torch.save files through it;
without PyTorch, such a path gets safetensors and a warning."""
import sys

import numpy as np
import pytest

import lamina as lm
import lamina.serialization as serialization
from lamina.errors import FileFormatError

torch = pytest.importorskip("torch")


def _checkpoint():
    lm.manual_seed(0)
    model = lm.nn.Sequential(lm.nn.Linear(3, 4), lm.nn.ReLU(), lm.nn.Linear(4, 2))
    optimizer = lm.optim.Adam(model.parameters(), lr=0.01)
    model(lm.randn(5, 3)).sum().backward()
    optimizer.step()
    return model, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                   "epoch": 3, "sizes": (3, 4, 2), "note": None, "counts": np.arange(4)}


@pytest.mark.parametrize("suffix", [".pth", ".pt", ".PTH"])
def test_torch_load_with_weights_only_reads_lm_save(suffix, tmp_path):
    model, checkpoint = _checkpoint()
    path = tmp_path / f"checkpoint{suffix}"
    lm.save(checkpoint, path)
    assert path.read_bytes()[:4] == b"PK\x03\x04"  # torch.save's zip archive
    loaded = torch.load(path, weights_only=True)
    assert loaded["epoch"] == 3 and loaded["sizes"] == (3, 4, 2) and loaded["note"] is None
    for name, value in model.state_dict().items():
        assert isinstance(loaded["model"][name], torch.Tensor)
        np.testing.assert_array_equal(loaded["model"][name].numpy(), value.numpy())
    assert loaded["counts"].dtype == torch.int64
    # PyTorch's own model takes the weights
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    reference.load_state_dict(loaded["model"])
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    with lm.no_grad():
        np.testing.assert_allclose(model(lm.tensor(x)).numpy(), expected, rtol=1e-6, atol=1e-6)


def test_lm_load_reads_back_its_pth_file(tmp_path):
    model, checkpoint = _checkpoint()
    lm.save(checkpoint, tmp_path / "c.pth")
    back = lm.load(tmp_path / "c.pth")
    assert back["epoch"] == 3 and back["sizes"] == (3, 4, 2) and back["note"] is None
    assert sorted(back["optimizer"]["state"]) == [0, 1, 2, 3]  # int keys stay ints
    restored = lm.nn.Sequential(lm.nn.Linear(3, 4), lm.nn.ReLU(), lm.nn.Linear(4, 2))
    restored.load_state_dict(back["model"])
    for a, b in zip(restored.parameters(), model.parameters()):
        assert a.dtype == b.dtype and lm.equal(a, b)
    with open(tmp_path / "c.pth", "rb") as f:  # a file object too
        assert lm.load(f)["epoch"] == 3


def test_lm_load_reads_a_state_dict_pytorch_saved(tmp_path):
    net = torch.nn.Linear(3, 2)
    state = {**net.state_dict(), "half": torch.ones(2, dtype=torch.bfloat16) / 3,
             "shape": torch.Size([2, 3])}
    torch.save(state, tmp_path / "net.pt")
    loaded = lm.load(tmp_path / "net.pt")
    np.testing.assert_array_equal(loaded["weight"].numpy(), net.weight.detach().numpy())
    assert loaded["half"].dtype == lm.float32  # bfloat16 widened exactly
    np.testing.assert_array_equal(loaded["half"].numpy(), state["half"].float().numpy())
    assert loaded["shape"] == (2, 3)


class _Payload:
    """Unpickling this creates a file: what a malicious checkpoint would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_torch_file_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "ran"
    torch.save({"weight": torch.ones(2), "payload": _Payload(marker)}, tmp_path / "evil.pth")
    with pytest.raises(FileFormatError, match="weights_only=True"):
        lm.load(tmp_path / "evil.pth")
    assert not marker.exists()
    with pytest.raises(FileFormatError, match="evil.pth"):
        lm.load(tmp_path / "evil.pth", weights_only=False)  # never unpickled freely
    assert not marker.exists()


def test_other_paths_and_file_objects_stay_safetensors(tmp_path):
    _, checkpoint = _checkpoint()
    lm.save(checkpoint, tmp_path / "c.safetensors")
    assert tmp_path.joinpath("c.safetensors").read_bytes()[:4] != b"PK\x03\x04"
    from safetensors.numpy import load_file

    assert "model.0.weight" in load_file(str(tmp_path / "c.safetensors"))


def test_without_pytorch_a_pth_path_gets_safetensors_and_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(serialization, "_real_torch", lambda: None)
    _, checkpoint = _checkpoint()
    with pytest.warns(UserWarning, match="PyTorch is not installed.*name it .safetensors"):
        lm.save(checkpoint, tmp_path / "c.pth")
    assert lm.load(tmp_path / "c.pth")["epoch"] == 3
    torch.save({"w": torch.ones(1)}, tmp_path / "theirs.pt")
    with pytest.raises(FileFormatError, match="needs PyTorch"):
        lm.load(tmp_path / "theirs.pt")


def test_lamina_standing_in_for_torch_is_not_taken_for_pytorch(monkeypatch):
    assert serialization._real_torch() is torch
    monkeypatch.setitem(sys.modules, "torch", lm)  # as `import lamina as torch` shims do
    assert serialization._real_torch() is None
