"""TensorBoard: lamina.utils.tensorboard.SummaryWriter and `lamina train --tensorboard`, each
event read back with TensorBoard's own EventAccumulator and compared, where torch is
installed, with what torch.utils.tensorboard writes for the same calls."""
import io
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import lamina as lm

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from lamina.cli import main  # noqa: E402
from lamina.errors import LaminaError, LaminaValueError  # noqa: E402
from lamina.utils.tensorboard import SummaryWriter  # noqa: E402

_ALL = {"scalars": 0, "histograms": 0, "images": 0, "tensors": 0}


def read(log_dir) -> EventAccumulator:
    events = EventAccumulator(str(log_dir), size_guidance=_ALL)
    events.Reload()
    return events


def scalars(events, tag) -> list[tuple[int, float]]:
    return [(e.step, e.value) for e in events.Scalars(tag)]


def png_pixels(encoded: bytes) -> np.ndarray:
    image = pytest.importorskip("PIL.Image")
    return np.asarray(image.open(io.BytesIO(encoded)))


def test_scalars_from_tensors_arrays_and_numbers_read_back(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_scalar("loss/train", lm.tensor(0.75), 1)
        writer.add_scalar("loss/train", np.float64(0.5), 2, walltime=1234.5)
        writer.add_scalar("loss/train", lm.tensor([0.25], requires_grad=True), lm.tensor(3))
        writer.add_scalar("lr", 0.1)  # no step: step 0
    events = read(tmp_path)
    assert scalars(events, "loss/train") == [(1, 0.75), (2, 0.5), (3, 0.25)]
    assert events.Scalars("loss/train")[1].wall_time == 1234.5
    assert scalars(events, "lr") == [(0, pytest.approx(0.1))]
    assert writer.get_logdir() == writer.log_dir == str(tmp_path)


def test_add_scalars_writes_one_subdirectory_per_curve(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_scalars("run/loss", {"train": 1.0 / (step + 1), "test": lm.tensor(2.0)}, step)
    assert sorted(p for p in os.listdir(tmp_path) if os.path.isdir(tmp_path / p)) == [
        "run_loss_test", "run_loss_train"]
    train = read(tmp_path / "run_loss_train")
    assert [v for _, v in scalars(train, "run/loss")] == pytest.approx([1.0, 0.5, 1 / 3])
    assert scalars(read(tmp_path / "run_loss_test"), "run/loss") == [(0, 2.0), (1, 2.0), (2, 2.0)]


def test_histogram_statistics_and_buckets(tmp_path):
    values = np.random.default_rng(0).normal(size=4000) * 3
    with SummaryWriter(tmp_path) as writer:
        writer.add_histogram("w", lm.tensor(values), 5)
        writer.add_histogram("w10", values, 5, bins=10)
        writer.add_histogram("few", values, 5, max_bins=20)
    events = read(tmp_path)
    h = events.Histograms("w")[0].histogram_value
    assert events.Histograms("w")[0].step == 5
    assert (h.min, h.max, h.num) == (values.min(), values.max(), 4000)
    assert h.sum == pytest.approx(values.sum()) and h.sum_squares == pytest.approx(values @ values)
    limits, counts = np.array(h.bucket_limit), np.array(h.bucket)
    assert counts.sum() == 4000 and counts[0] == 0
    # bucket i holds the values in [limit[i-1], limit[i]) ...
    for left, right, count in list(zip(limits[:-1], limits[1:], counts[1:]))[::25]:
        assert count == np.sum((values >= left) & (values < right))
    # ... and the edges are TensorFlow's: ratio 1.1 between neighbours of one sign
    positive = limits[limits > 1e-3]
    assert np.allclose(positive[1:] / positive[:-1], 1.1)
    h10 = events.Histograms("w10")[0].histogram_value
    assert len(h10.bucket) == 11 and sum(h10.bucket) == 4000
    assert h10.bucket_limit[0] == values.min() and h10.bucket_limit[-1] == values.max()
    few = events.Histograms("few")[0].histogram_value
    assert len(few.bucket) <= 21 and sum(few.bucket) == 4000


def _hand_grid(batch_hwc):
    """The expected add_images grid: 8 to a row, zeros where a row is short."""
    n, h, w, c = batch_hwc.shape
    rows = -(-n // 8)
    grid = np.zeros((rows * h, min(n, 8) * w, c), batch_hwc.dtype)
    for k in range(n):
        grid[(k // 8) * h:(k // 8 + 1) * h, (k % 8) * w:(k % 8 + 1) * w] = batch_hwc[k]
    return grid


def test_images_in_every_layout_decode_to_their_pixels(tmp_path):
    rng = np.random.default_rng(1)
    rgb = rng.random((3, 5, 7)).astype(np.float32)  # CHW in [0, 1]
    grey = rng.integers(0, 256, (5, 7)).astype(np.uint8)
    rgba = rng.integers(0, 256, (5, 7, 4)).astype(np.uint8)
    batch = rng.random((10, 1, 4, 3)).astype(np.float32)
    with SummaryWriter(tmp_path) as writer:
        writer.add_image("rgb", lm.tensor(rgb), 1)
        writer.add_image("grey", grey, 1, dataformats="HW")
        writer.add_image("grey_chw", grey[None], 1)
        writer.add_image("rgba", rgba, 1, dataformats="HWC")
        writer.add_images("batch", lm.tensor(batch), 1)
    events = read(tmp_path)
    got = {tag: events.Images(tag)[0] for tag in ("rgb", "grey", "grey_chw", "rgba", "batch")}
    assert (got["rgb"].height, got["rgb"].width) == (5, 7)
    expected_rgb = np.clip(rgb * np.float32(255), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(png_pixels(got["rgb"].encoded_image_string), expected_rgb)
    for tag in ("grey", "grey_chw"):
        np.testing.assert_array_equal(png_pixels(got[tag].encoded_image_string),
                                      np.repeat(grey[:, :, None], 3, axis=2))
    np.testing.assert_array_equal(png_pixels(got["rgba"].encoded_image_string), rgba)
    batch_hwc = np.clip(batch * np.float32(255), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)
    expected = np.repeat(_hand_grid(batch_hwc), 3, axis=2)
    assert (got["batch"].height, got["batch"].width) == (8, 24)
    np.testing.assert_array_equal(png_pixels(got["batch"].encoded_image_string), expected)


def test_text_goes_to_the_text_plugin(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_text("notes", "**bold** and ünïcode", 2)
    events = read(tmp_path)
    (event,) = events.Tensors("notes/text_summary")
    assert event.step == 2 and event.tensor_proto.string_val == ["**bold** and ünïcode".encode()]
    assert events.SummaryMetadata("notes/text_summary").plugin_data.plugin_name == "text"


def test_default_log_dir_is_runs_datetime_host(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="-lr0.1")
    writer.close()
    parent, name = os.path.split(writer.log_dir)
    assert parent == "runs" and name.endswith(f"_{socket.gethostname()}-lr0.1")
    assert len(name.split("_")[0]) == len("May04") and name.split("_")[1].count("-") == 2
    assert any(f.startswith("events.out.tfevents.") for f in os.listdir(writer.log_dir))


def test_flush_writes_and_close_then_add_reopens(tmp_path):
    writer = SummaryWriter(tmp_path, flush_secs=3600)
    writer.add_scalar("x", 1.0, 1)
    writer.flush()
    assert scalars(read(tmp_path), "x") == [(1, 1.0)]
    writer.close()
    writer.add_scalar("x", 2.0, 2)  # a new event file, as torch's writer does after close
    writer.close()
    assert scalars(read(tmp_path), "x") == [(1, 1.0), (2, 2.0)]


def test_purge_step_drops_what_an_interrupted_run_logged_later(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        for step in range(1, 6):
            writer.add_scalar("loss", float(step), step)
    with SummaryWriter(tmp_path, purge_step=3) as writer:
        for step in (3, 4):
            writer.add_scalar("loss", 10.0 * step, step)
    assert scalars(read(tmp_path), "loss") == [(1, 1.0), (2, 2.0), (3, 30.0), (4, 40.0)]


@pytest.mark.parametrize("call, message", [
    (lambda w: w.add_scalar("s", lm.tensor([1.0, 2.0])), "one number"),
    (lambda w: w.add_histogram("h", np.array([])), "no values"),
    (lambda w: w.add_histogram("h", np.array([1.0, np.nan])), "NaN"),
    (lambda w: w.add_image("i", np.zeros((3, 4, 5)), dataformats="HWC"), "1, 3 or 4 channels"),
    (lambda w: w.add_image("i", np.zeros((4, 5))), "dataformats 'CHW'"),
])
def test_bad_values_are_lamina_errors_naming_them(tmp_path, call, message):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(LaminaValueError, match=message):
            call(writer)


def test_same_events_as_torch_summary_writer(tmp_path):
    torch = pytest.importorskip("torch")
    tensorboard = pytest.importorskip("torch.utils.tensorboard")
    rng = np.random.default_rng(2)
    values = rng.normal(size=3000) * 0.1
    image = rng.random((3, 6, 9)).astype(np.float32)
    for name, Writer, tensor in (("torch", tensorboard.SummaryWriter, torch.tensor),
                                 ("lamina", SummaryWriter, lm.tensor)):
        with Writer(str(tmp_path / name)) as writer:
            writer.add_scalar("s", tensor(0.5), 7)
            writer.add_scalars("m", {"a": 1.0, "b": tensor(2.0)}, 7)
            writer.add_histogram("h", tensor(values), 7)
            writer.add_histogram("h5", tensor(values), 7, bins=5)
            writer.add_image("i", tensor(image), 7)
            writer.add_text("t", "hello", 7)
    ours, theirs = read(tmp_path / "lamina"), read(tmp_path / "torch")
    assert ours.Tags() == theirs.Tags()
    subdirectories = lambda d: sorted(p for p in os.listdir(d) if os.path.isdir(d / p))  # noqa: E731
    assert subdirectories(tmp_path / "lamina") == subdirectories(tmp_path / "torch") == ["m_a", "m_b"]
    assert scalars(ours, "s") == scalars(theirs, "s")
    for sub in ("m_a", "m_b"):
        assert scalars(read(tmp_path / "lamina" / sub), "m") == scalars(read(tmp_path / "torch" / sub), "m")
    for tag in ("h", "h5"):
        a, b = ours.Histograms(tag)[0].histogram_value, theirs.Histograms(tag)[0].histogram_value
        assert (a.min, a.max, a.num) == (b.min, b.max, b.num)
        assert a.sum == pytest.approx(b.sum) and a.sum_squares == pytest.approx(b.sum_squares)
        filled = lambda h: [(lim, c) for lim, c in zip(h.bucket_limit, h.bucket) if c]  # noqa: E731
        assert [c for _, c in filled(a)] == [c for _, c in filled(b)]
        assert [lim for lim, _ in filled(a)] == pytest.approx([lim for lim, _ in filled(b)])
    a, b = ours.Images("i")[0], theirs.Images("i")[0]
    assert (a.height, a.width) == (b.height, b.width)
    np.testing.assert_array_equal(png_pixels(a.encoded_image_string),
                                  png_pixels(b.encoded_image_string))
    assert (ours.Tensors("t/text_summary")[0].tensor_proto
            == theirs.Tensors("t/text_summary")[0].tensor_proto)


# -- lamina train --tensorboard ----------------------------------------------------------------

_TRAIN = ["train", "--model", "mlp:64,16,10", "--train-size", "300", "--val-size", "100",
          "--seed", "1", "--quiet"]


@pytest.fixture(scope="module")
def tensorboard_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tb") / "run"
    assert main([*_TRAIN, "--epochs", "2", "--out", str(out), "--tensorboard"]) == 0
    return out


def test_train_writes_each_epoch_record_as_scalars(tensorboard_run):
    history = [json.loads(line) for line in (tensorboard_run / "metrics.jsonl").read_text().splitlines()]
    events = read(tensorboard_run / "tensorboard")
    for key, tag in [("train_loss", "loss/train"), ("test_loss", "loss/test"),
                     ("train_accuracy", "accuracy/train"), ("test_accuracy", "accuracy/test"),
                     ("lr", "lr")]:
        assert [s for s, _ in scalars(events, tag)] == [1, 2]
        assert [v for _, v in scalars(events, tag)] == pytest.approx([r[key] for r in history])
    assert json.loads((tensorboard_run / "config.json").read_text())["tensorboard"] is True


def test_train_writes_weight_and_gradient_histograms_and_the_config(tensorboard_run):
    from safetensors.numpy import load_file

    events = read(tensorboard_run / "tensorboard")
    final = load_file(str(tensorboard_run / "model.safetensors"))
    histograms = set(events.Tags()["histograms"])
    assert histograms == {f"{kind}/{name}" for kind in ("parameters", "gradients") for name in final}
    name = next(n for n in final if n.endswith("weight"))
    (last,) = [e for e in events.Histograms(f"parameters/{name}") if e.step == 2]
    weight = final[name].astype(np.float64)
    assert last.histogram_value.num == weight.size
    assert last.histogram_value.min == pytest.approx(weight.min(), rel=1e-6)
    (config,) = events.Tensors("config/text_summary")
    assert b'"model": "mlp:64,16,10"' in config.tensor_proto.string_val[0]


def test_resume_appends_to_the_same_event_files(tensorboard_run, tmp_path):
    run = tmp_path / "run"
    import shutil

    shutil.copytree(tensorboard_run, run)
    assert main(["train", "--resume", str(run), "--epochs", "3", "--quiet"]) == 0
    assert [s for s, _ in scalars(read(run / "tensorboard"), "loss/train")] == [1, 2, 3]


def test_tensorboard_dir_can_be_chosen(tmp_path):
    logs = tmp_path / "logs"
    assert main([*_TRAIN, "--epochs", "1", "--out", str(tmp_path / "run"),
                 "--tensorboard", str(logs)]) == 0
    assert [s for s, _ in scalars(read(logs), "loss/test")] == [1]
    assert not (tmp_path / "run" / "tensorboard").exists()


def test_without_the_tensorboard_package_one_line_errors(tmp_path, monkeypatch, capsys):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tensorboard" else find_spec(name, *a))
    from lamina.train.tensorboard import tensorboard_callbacks

    with pytest.raises(LaminaError, match=r"pip install 'lamina\[tensorboard\]'"):
        tensorboard_callbacks({"tensorboard": True, "out": str(tmp_path)}, None)
    assert tensorboard_callbacks({"out": str(tmp_path)}, None) == []
    monkeypatch.setitem(sys.modules, "tensorboard.summary.writer.event_file_writer", None)
    with pytest.raises(ImportError, match=r"lamina\[tensorboard\]"):
        SummaryWriter(tmp_path)


def test_import_lamina_does_not_import_tensorboard():
    code = ("import sys, lamina, lamina.train.runner, lamina.utils.tensorboard, "
            "lamina.train.tensorboard; assert 'tensorboard' not in sys.modules, 'imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
