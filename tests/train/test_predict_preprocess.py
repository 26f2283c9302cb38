"""`lamina predict` on ordinary pictures: MNIST-style preprocessing, top-3 output, directories.

The pictures are drawn here with NumPy: a "7" as a thick anti-aliased stroke, dark ink on
white paper (and the reverse), at 28x28 and 200x200, small in a corner of a page, or shown
inside white margins as a saved figure is.

The models are trained here, on real data available offline:
* the digits run: lamina's embedded 8x8 optdigits, trained with `lamina train` itself;
* an MNIST-format digits model: no 28x28 digit data set is available offline, so the same
  embedded digits are put into MNIST's format (each 8x8 digit cropped, scaled to a 20x20 box
  and centred by its centre of mass in 28x28, the way MNIST was made) and an MLP is trained
  on them; its run directory is a digits run's, with the MNIST input shape and data set name;
* a Fashion-MNIST model, trained on the first 6,000 images of the installed Fashion-MNIST
  test split and checked on the other 4,000 (loading the 60,000 training images would take
  most of this file's time budget).
"""
import json
import shutil

import numpy as np
import pytest

import lamina as lm
from lamina.cli import main
from lamina.data import ArrayDataset, DataLoader, Digits
from lamina.data.preprocess import (bounding_box, centre_of_mass, ink, preprocess, resize,
                                    style_for)
from lamina.errors import LaminaValueError
from lamina.train.inference import load_image, load_run, predict_files

SEVEN = [(0.26, 0.2), (0.74, 0.2), (0.42, 0.84)]  # the bar, then the stem


def draw(points, size: int, width: float = 0.12, dark_on_white: bool = True,
         where=(0.0, 0.0, 1.0)) -> np.ndarray:
    """A polyline through ``points`` ((x, y) in [0, 1]) as an anti-aliased stroke of
    ``width`` (a fraction of the drawing), drawn in the square of the page given by ``where``
    (left, top, side, as fractions of the page); grey levels in [0, 1]."""
    left, top, side = where
    yy, xx = (np.mgrid[0:size, 0:size] + 0.5) / size
    xx, yy = (xx - left) / side, (yy - top) / side
    distance = np.full((size, size), np.inf)
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        dx, dy = x1 - x0, y1 - y0
        t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
        distance = np.minimum(distance, np.hypot(xx - x0 - t * dx, yy - y0 - t * dy))
    stroke = np.clip((width / 2 - distance) * size * side + 0.5, 0.0, 1.0).astype(np.float32)
    return 1.0 - stroke if dark_on_white else stroke


def save_png(path, grey: np.ndarray):
    import matplotlib.image

    matplotlib.image.imsave(path, grey, cmap="gray", vmin=0.0, vmax=1.0)
    return path


def _fit(images, labels, spec, in_shape, epochs, lr=3e-3):
    import lamina.nn.functional as F
    from lamina.models.spec import build_model
    from lamina.train import fit

    lm.manual_seed(0)
    model = build_model(spec, in_shape, 10)
    loader = DataLoader(ArrayDataset(images, labels), batch_size=32, shuffle=True, seed=0)
    fit(model, loader, loader, F.cross_entropy, lm.optim.Adam(model.parameters(), lr=lr),
        epochs=epochs, quiet=True)
    return model


def _as_run(template, out, net, **config):
    """A run directory like ``template`` with the weights of ``net`` and ``config`` changed."""
    shutil.copytree(template, out)
    path = out / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **config}))
    lm.save(net.state_dict(), out / "model.safetensors")
    return out


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits") / "run"
    assert main(["train", "--model", "mlp:64,32,10:relu", "--epochs", "5", "--quiet",
                 "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def mnist_format_run(digits_run, tmp_path_factory):
    images, labels = Digits(train=None).arrays()
    mnist = np.stack([preprocess(d, "mnist")[0] for d in images.reshape(-1, 8, 8)])[:, None]
    model = _fit(mnist, labels, "mlp:784,48,10:relu", (1, 28, 28), epochs=3)
    return _as_run(digits_run, tmp_path_factory.mktemp("mnist") / "run", model,
                   dataset="mnist", in_shape=[1, 28, 28], model="mlp:784,48,10:relu")


@pytest.fixture(scope="module")
def fashion(digits_run, tmp_path_factory):
    from lamina.data import FashionMNIST

    try:
        data = FashionMNIST(train=False)
    except (OSError, LaminaValueError) as exc:
        pytest.skip(f"Fashion-MNIST is not installed: {exc}")
    images, labels = data.arrays()
    images = images.reshape(-1, 1, 28, 28)
    model = _fit(images[:6000], labels[:6000], "mlp:784,64,10:relu", (1, 28, 28), epochs=2)
    run = _as_run(digits_run, tmp_path_factory.mktemp("fashion") / "run", model,
                  dataset="fashion-mnist", in_shape=[1, 28, 28], model="mlp:784,64,10:relu",
                  class_names=list(data.classes))
    return run, images[6000:6100, 0], labels[6000:6100], list(data.classes)


def _sevens(folder):
    """The drawn 7 at 28x28 and 200x200, in both polarities, as PNG files."""
    paths = []
    for size in (28, 200):
        for dark in (True, False):
            name = f"seven-{size}-{'dark-on-white' if dark else 'light-on-black'}.png"
            paths.append(str(save_png(folder / name, draw(SEVEN, size, dark_on_white=dark))))
    return paths


# ------------------------------------------------------------------ drawn digits
@pytest.mark.parametrize("run", ["digits_run", "mnist_format_run"])
def test_a_drawn_seven_at_two_sizes_and_both_polarities_is_a_seven(run, request, tmp_path):
    predictions = predict_files(str(request.getfixturevalue(run)), _sevens(tmp_path))
    assert [p.classes[0] for p in predictions] == ["7"] * 4, [str(p) for p in predictions]
    inverted = ["inverted" in p.preprocessing for p in predictions]
    assert inverted == [True, False, True, False]


@pytest.mark.parametrize("run", ["digits_run", "mnist_format_run"])
def test_a_small_seven_in_a_corner_and_one_inside_white_margins(run, request, tmp_path):
    corner = draw(SEVEN, 200, where=(0.05, 0.6, 0.3))  # a 60-pixel 7 near the bottom left
    figure = np.ones((200, 200), np.float32)  # imshow of a light 7 on black, white margins
    figure[30:170, 40:180] = draw(SEVEN, 140, dark_on_white=False)
    paths = [str(save_png(tmp_path / "corner.png", corner)),
             str(save_png(tmp_path / "figure.png", figure))]
    predictions = predict_files(str(request.getfixturevalue(run)), paths)
    assert [p.classes[0] for p in predictions] == ["7", "7"], [str(p) for p in predictions]
    assert "margins" in predictions[1].preprocessing


def test_without_preprocessing_the_pixels_are_given_as_they_are(mnist_format_run, tmp_path):
    page = draw(SEVEN, 28)
    path = str(save_png(tmp_path / "seven.png", page))
    done = []
    raw = load_image(path, (1, 28, 28), preprocess=False, dataset="mnist", done=done)
    np.testing.assert_allclose(raw[0], page, atol=1 / 128)  # not inverted, not moved
    assert done == []
    prepared = load_image(path, (1, 28, 28), dataset="mnist", done=done)
    assert prepared[0].max() == 1.0 and prepared[0][0].max() == 0.0  # light ink on black
    assert len(done) == 1 and "MNIST" in done[0]


# ------------------------------------------------------------------ the command line
def test_cli_prints_the_top_3_for_a_directory_of_images(mnist_format_run, tmp_path, capsys):
    folder = tmp_path / "pictures"
    folder.mkdir()
    paths = sorted(_sevens(folder))  # a directory's images come in name order
    (folder / "readme.txt").write_text("not an image")  # not .png/.npy: passed over
    assert main(["predict", str(mnist_format_run), str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    results = [line for line in lines if not line.startswith("note: ")]
    assert [line.split(": ", 1)[0] for line in results] == paths
    config, model = load_run(str(mnist_format_run))
    for path, line in zip(paths, results):
        x = load_image(path, (1, 28, 28), dataset="mnist")
        with lm.no_grad():
            p = lm.softmax(model(lm.tensor(x[None])), dim=1).numpy()[0]
        top = np.argsort(-p)[:3]
        assert top[0] == 7
        expected = (f"{path}: class {top[0]} (probability {p[top[0]]:.3f}); next "
                    f"{top[1]} ({p[top[1]]:.3f}), {top[2]} ({p[top[2]]:.3f})")
        assert line == expected
    notes = [line for line in lines if line.startswith("note: ")]
    assert sum("inverted" in n for n in notes) == 2
    assert notes[-1] == "note: pass --no-preprocess to give the model the pixels as they are"


def test_cli_no_preprocess_and_an_empty_directory(mnist_format_run, tmp_path, capsys):
    path = save_png(tmp_path / "seven.png", draw(SEVEN, 200))
    assert main(["predict", "--no-preprocess", str(mnist_format_run), str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"note: {path}: resized from 200x200 to 28x28 pixels (anti-aliased)"
    assert len(lines) == 2 and lines[1].startswith(f"{path}: class ")
    (tmp_path / "empty").mkdir()
    assert main(["predict", str(mnist_format_run), str(tmp_path / "empty")]) == 2
    assert "no .png or .npy files" in capsys.readouterr().err


def test_a_quadratic_cost_run_reports_scores_not_probabilities(tmp_path, capsys):
    run = tmp_path / "quadratic"
    assert main(["train", "--model", "mlp:64,16,10:sigmoid", "--loss", "quadratic",
                 "--epochs", "1", "--train-size", "256", "--quiet", "--out", str(run)]) == 0
    capsys.readouterr()
    digit = Digits(train=False).arrays()[0][0].reshape(8, 8)
    np.save(tmp_path / "digit.npy", digit)
    assert main(["predict", str(run), str(tmp_path / "digit.npy")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not any("probability" in line for line in lines[:-1])
    assert "not a probability" in lines[-1]
    _, model = load_run(str(run))
    x = load_image(str(tmp_path / "digit.npy"), (1, 8, 8), dataset="digits")
    with lm.no_grad():
        a = model(lm.tensor(x[None])).numpy()[0]  # sigmoid activations of the output units
    best = np.argsort(-a)[:3]
    assert lines[0] == (f"{tmp_path / 'digit.npy'}: class {best[0]} (score {a[best[0]]:.3f}); "
                        f"next {best[1]} ({a[best[1]]:.3f}), {best[2]} ({a[best[2]]:.3f})")


# ------------------------------------------------------------------ Fashion-MNIST
def test_fashion_pictures_on_white_paper_are_classified_as_their_originals(fashion, tmp_path):
    """Fashion-MNIST test images shown as ordinary pictures (dark on white, five times the
    size, off-centre on a 200x200 page) get the classes their originals get."""
    run, images, labels, names = fashion
    files, pictures = [], []
    for k, image in enumerate(images):
        np.save(tmp_path / f"original{k:03d}.npy", image)
        page = np.ones((200, 200), np.float32)
        top, left = 10 + 5 * (k % 5), 20 + 6 * (k % 7)
        page[top:top + 140, left:left + 140] = 1.0 - resize(image, 140, 140)
        np.save(tmp_path / f"page{k:03d}.npy", page)
        files.append(str(tmp_path / f"original{k:03d}.npy"))
        pictures.append(str(tmp_path / f"page{k:03d}.npy"))
    original = [p.classes[0] for p in predict_files(str(run), files, preprocess=False)]
    prepared = [p.classes[0] for p in predict_files(str(run), pictures)]
    raw = [p.classes[0] for p in predict_files(str(run), pictures, preprocess=False)]
    truth = [names[y] for y in labels]
    accuracy = {kind: np.mean([a == b for a, b in zip(guesses, truth)])
                for kind, guesses in (("original", original), ("prepared", prepared),
                                      ("raw", raw))}
    assert accuracy["original"] > 0.7, accuracy
    assert accuracy["prepared"] >= accuracy["original"] - 0.05, accuracy
    assert np.mean([a == b for a, b in zip(original, prepared)]) >= 0.85
    assert accuracy["raw"] < accuracy["prepared"] - 0.3, accuracy


# ------------------------------------------------------------------ the preprocessing itself
@pytest.mark.parametrize("size", [28, 64, 200])
@pytest.mark.parametrize("dark", [True, False])
def test_mnist_style_puts_the_ink_in_a_20_box_centred_by_its_mass(size, dark):
    image, how = preprocess(draw(SEVEN, size, dark_on_white=dark), "mnist")
    assert image.shape == (28, 28) and image.dtype == np.float32
    top, bottom, left, right = bounding_box(image > 0.05)
    assert max(bottom - top, right - left) in (20, 21)  # anti-aliased edges may add one
    row, col = centre_of_mass(image)
    assert abs(row - 13.5) <= 0.5 and abs(col - 13.5) <= 0.5
    assert ("inverted" in how) == dark


def test_mnist_style_is_idempotent_and_ignores_polarity_and_size():
    first = preprocess(draw(SEVEN, 200), "mnist")[0]
    np.testing.assert_allclose(preprocess(first, "mnist")[0], first, atol=1e-5)
    np.testing.assert_allclose(preprocess(1.0 - draw(SEVEN, 200), "mnist")[0], first,
                               atol=1e-5)
    small = preprocess(draw(SEVEN, 28), "mnist")[0]
    assert np.corrcoef(small.ravel(), first.ravel())[0, 1] > 0.9


def test_the_embedded_digits_keep_their_class_under_the_digits_style(digits_run):
    """The digits style leaves optdigits' own images (nearly) as they are: the trained model
    classifies the prepared test digits about as well as the originals."""
    images, labels = Digits(train=False).arrays()
    images = images.reshape(-1, 1, 8, 8)
    prepared = np.stack([preprocess(d[0], "digits")[0] for d in images])[:, None]
    _, model = load_run(str(digits_run))
    with lm.no_grad():
        raw = (model(lm.tensor(images)).numpy().argmax(1) == labels).mean()
        ours = (model(lm.tensor(prepared)).numpy().argmax(1) == labels).mean()
    assert ours >= raw - 0.03, (raw, ours)
    assert np.mean(np.abs(prepared - images).max(axis=(1, 2, 3)) < 1e-6) > 0.8


def test_ink_blank_pictures_and_the_margins_of_a_figure():
    blank, done = ink(np.full((30, 40), 0.8, np.float32))
    assert not blank.any() and done[-1] == "no ink found (the picture is uniform)"
    image, how = preprocess(np.full((30, 40), 0.8, np.float32), "mnist")
    assert not image.any() and "blank" in how
    light = draw(SEVEN, 100, dark_on_white=False)
    figure = np.ones((160, 150), np.float32)
    figure[20:120, 30:130] = light
    np.testing.assert_allclose(ink(figure)[0], ink(light)[0])
    grey_paper = 0.3 + 0.5 * draw(SEVEN, 100)  # grey ink on light grey paper
    np.testing.assert_allclose(ink(grey_paper)[0], ink(light)[0], atol=1e-5)


def test_resize_keeps_constants_and_the_same_size():
    image = np.random.default_rng(0).random((13, 17)).astype(np.float32)
    np.testing.assert_array_equal(resize(image, 13, 17), image)
    np.testing.assert_allclose(resize(np.full((50, 70), 0.25), 9, 31), 0.25, rtol=1e-6)
    assert resize(np.ones((3, 40, 40)), 8, 8).shape == (3, 8, 8)
    # shrinking averages: a one-pixel line in 200 pixels is not lost at 20
    line = np.zeros((200, 200), np.float32)
    line[:, 101] = 1.0
    assert resize(line, 20, 20).max() > 0.04


def test_style_for_runs():
    assert style_for("digits", (1, 8, 8)) == "digits"
    assert style_for("mnist", (1, 28, 28)) == "mnist"
    assert style_for("fashion-mnist", [1, 28, 28]) == "fashion-mnist"
    assert style_for("idx:/data/kmnist", (1, 28, 28)) == "mnist"
    assert style_for("cifar10", (3, 32, 32)) is None
    assert style_for("digits", (64,)) is None
    with pytest.raises(LaminaValueError, match="unknown preprocessing style 'emnist'"):
        preprocess(np.zeros((5, 5)), "emnist")
