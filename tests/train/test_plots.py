"""The training plots read as a newcomer needs: class names apart, one epoch visible, and the
misclassified test images with their true and predicted classes."""
import itertools

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import lamina as lm  # noqa: E402
from lamina.data import ArrayDataset, DataLoader  # noqa: E402
from lamina.train.plots import (confusion_figure, curves_figure, misclassified,  # noqa: E402
                                plot_confusion, plot_curves, plot_samples, pyplot)

FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot"]
CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck"]


def _boxes(fig, labels):
    renderer = fig.canvas.get_renderer()
    return [label.get_window_extent(renderer) for label in labels if label.get_text()]


def _overlapping(boxes) -> list:
    return [(a, b) for a, b in itertools.combinations(boxes, 2) if a.overlaps(b)]


def _turned_apart(fig, ax) -> bool:
    """Whether the turned column names keep clear of each other: parallel lines of text a
    tick spacing d apart, turned by r, are d sin(r) apart across, which must exceed the
    height of a line of text."""
    labels = ax.get_xticklabels()
    rotation = {label.get_rotation() for label in labels}
    assert len(rotation) == 1 and 30 <= rotation.pop() <= 60
    ticks = ax.transData.transform([(k, 0) for k in range(len(labels))])[:, 0]
    line = max(label.get_fontsize() for label in labels) * fig.dpi / 72 * 1.2
    return bool(np.min(np.diff(ticks)) * np.sin(np.radians(45)) > line)


def _matrix(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 60, (n, n)) + np.diag(rng.integers(700, 1000, n))


@pytest.mark.parametrize("names", [FASHION, CIFAR10], ids=["fashion-mnist", "cifar10"])
def test_confusion_class_names_are_apart_and_inside_the_picture(names):
    fig = confusion_figure(_matrix(10), names)
    fig.canvas.draw()
    ax = fig.axes[0]
    columns, rows = _boxes(fig, ax.get_xticklabels()), _boxes(fig, ax.get_yticklabels())
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert len(columns) == len(rows) == 10
    assert _turned_apart(fig, ax) and _overlapping(rows) == []
    width, height = fig.canvas.get_width_height()
    for box in columns + rows:
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height, box
    # the same names unturned, as the plot had them, collide: the check above can fail
    for label in ax.get_xticklabels():
        label.set_rotation(0)
        label.set_horizontalalignment("center")
    fig.canvas.draw()
    assert _overlapping(_boxes(fig, ax.get_xticklabels()))
    pyplot().close(fig)


def test_confusion_counts_are_written_in_the_cells(tmp_path):
    matrix = _matrix(3)
    fig = confusion_figure(matrix, ["a", "b", "c"])
    texts = sorted(int(t.get_text()) for t in fig.axes[0].texts)
    assert texts == sorted(matrix.ravel().tolist())
    pyplot().close(fig)
    plot_confusion(matrix, tmp_path / "confusion.png", ["a", "b", "c"])
    assert (tmp_path / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _record(epoch: int) -> dict:
    return {"epoch": epoch, "train_loss": 1.0 / epoch, "test_loss": 1.1 / epoch,
            "train_accuracy": 1 - 0.2 / epoch, "test_accuracy": 1 - 0.25 / epoch}


def test_curves_of_one_epoch_show_their_points_and_values(tmp_path):
    history = [_record(1)]
    fig = curves_figure(history)
    fig.canvas.draw()
    for ax, metric in zip(fig.axes, ("loss", "accuracy")):
        lines = ax.get_lines()
        assert len(lines) == 2
        for line in lines:
            assert line.get_marker() not in (None, "None", "", " ")
            (x,), (y,) = line.get_data()
            low, high = ax.get_xlim()
            assert low < x < high and x - low > 0.25 and high - x > 0.25  # not on an edge
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks) and 1 in ticks
        shown = sorted(t.get_text() for t in ax.texts)
        assert shown == sorted(f"{history[0][f'{k}_{metric}']:.4f}" for k in ("train", "test"))
    pyplot().close(fig)
    plot_curves(history, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 1000


def test_curves_of_many_epochs_have_whole_epoch_ticks_and_no_labels():
    fig = curves_figure([_record(e) for e in range(1, 8)])
    fig.canvas.draw()
    for ax in fig.axes:
        assert all(float(t).is_integer() for t in ax.get_xticks())
        assert len(ax.texts) == 0
        assert [len(line.get_xdata()) for line in ax.get_lines()] == [7, 7]
    pyplot().close(fig)


class _Threshold(lm.nn.Module):
    """Class 1 when the first pixel is above 1/2, else class 0 (logits)."""

    def forward(self, x):
        first = x.reshape(x.shape[0], -1)[:, :1]
        return lm.cat([0.5 - first, first - 0.5], dim=1)


def _data(labels):
    pixels = np.random.default_rng(1).random((len(labels), 1, 4, 4)).astype(np.float32)
    return pixels, np.asarray(labels, np.int64)


def test_misclassified_finds_exactly_the_wrong_ones_in_order():
    pixels, labels = _data(np.random.default_rng(2).integers(0, 2, 40))
    model = _Threshold()
    loader = DataLoader(ArrayDataset(pixels, labels), batch_size=7)
    guess = (pixels[:, 0, 0, 0] > 0.5).astype(np.int64)
    wrong = np.flatnonzero(guess != labels)
    assert len(wrong) >= 6
    images, true, predicted, seen = misclassified(model, loader, count=5)
    np.testing.assert_array_equal(images, pixels[wrong[:5]])
    assert true == labels[wrong[:5]].tolist() and predicted == guess[wrong[:5]].tolist()
    assert seen == 7 * (wrong[4] // 7 + 1)  # read only as far as the fifth mistake
    images, true, _, seen = misclassified(model, loader, count=100)
    assert len(true) == len(wrong) and seen == 40


def test_samples_png_names_true_and_predicted_classes(tmp_path, monkeypatch):
    pixels, _ = _data([0] * 20)
    labels = 1 - (pixels[:, 0, 0, 0] > 0.5).astype(np.int64)  # every one is misclassified
    loader = DataLoader(ArrayDataset(pixels, labels), batch_size=8)
    titles = []
    import lamina.train.plots as plots

    original = plots.samples_figure

    def spy(*args, **kwargs):
        fig = original(*args, **kwargs)
        titles.extend(ax.get_title() for ax in fig.axes if ax.get_title())
        titles.append(fig._suptitle.get_text() if fig._suptitle else "")
        return fig

    monkeypatch.setattr(plots, "samples_figure", spy)
    shown = plot_samples(_Threshold(), loader, tmp_path / "samples.png", ["cat", "dog"], count=6)
    assert shown == 6
    assert (tmp_path / "samples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    expected = [f"true {['cat', 'dog'][y]}\npredicted {['cat', 'dog'][1 - y]}" for y in labels[:6]]
    assert titles == expected + ["the first 6 test images the model gets wrong"]


def test_samples_png_when_nothing_is_misclassified(tmp_path):
    pixels, _ = _data([0] * 9)
    right = (pixels[:, 0, 0, 0] > 0.5).astype(np.int64)
    loader = DataLoader(ArrayDataset(pixels, right), batch_size=4)
    assert plot_samples(_Threshold(), loader, tmp_path / "samples.png") == 0
    assert (tmp_path / "samples.png").stat().st_size > 500


def test_every_classification_run_writes_samples_png(tmp_path):
    pytest.importorskip("matplotlib")
    from lamina.cli import main

    out = tmp_path / "run"
    assert main(["train", "--model", "mlp:64,16,10", "--epochs", "1", "--train-size", "200",
                 "--val-size", "100", "--quiet", "--out", str(out)]) == 0
    for name in ("samples.png", "confusion.png", "curves.png"):
        data = (out / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000, name
