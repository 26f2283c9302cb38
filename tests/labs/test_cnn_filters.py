"""The cnn-filters lab: Grohs's vertical-edge filter sees vertical, not horizontal,
structure; conv2d is cross-correlation and a convolution is a circulant matrix product; the
small CNN beats chance clearly; its filters and feature maps are drawn."""
import os

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from lamina.labs.cnn_filters import (ASYMMETRIC, TOLERANCE, VERTICAL_EDGE, _respond,
                                     circulant_matrix, cross_correlate, is_doubly_block_circulant,
                                     lecture_convolution, run, small_cnn, stripes,
                                     toeplitz_matrix)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return run(quick=True, out=str(tmp_path_factory.mktemp("cnn_filters")))


def test_the_filter_is_the_lectures_matrix_with_the_2s_in_the_middle_column():
    assert VERTICAL_EDGE.tolist() == [[-1, 2, -1]] * 3


def test_vertical_stripes_respond_strongly_and_horizontal_ones_not_at_all(report):
    vertical, horizontal = report.data["vertical stripes"], report.data["horizontal stripes"]
    assert vertical["mean_abs"] == pytest.approx(6.0)  # 3 rows x (2 * 1 - 0 - 0)
    assert horizontal["max_abs"] < 1e-6 * vertical["mean_abs"]
    assert report.data["a flat grey image"]["max_abs"] < 1e-6


def test_an_upright_1_excites_the_filter_more_than_the_same_1_turned(report):
    turned = report.data["the 1 turned 90 degrees"]["mean_abs"]
    assert report.data["a digit 1"]["mean_abs"] > 1.5 * turned


def test_the_trained_cnn_beats_chance_clearly(report):
    cnn = report.data["cnn"]
    assert cnn["data"] == "Digits"  # --quick never reads Fashion-MNIST
    assert cnn["test_acc"] > 5 * cnn["chance"]


def test_the_pictures_are_written(report):
    names = sorted(os.path.basename(f) for f in report.files)
    assert names == ["feature_maps.png", "filters.png", "vertical_edge.png"]
    for f in report.files:
        with open(f, "rb") as png:
            assert png.read(8) == b"\x89PNG\r\n\x1a\n"
        assert os.path.getsize(f) > 1000


def test_each_filter_is_drawn_on_its_own_min_max_scale(report):
    weights = report.data["filters"]["weights"]
    scales = report.data["filters"]["scales"]
    assert scales == [(float(k.min()), float(k.max())) for k in weights]
    assert len(set(scales)) == len(scales)  # not one global scale


def test_feature_maps_are_the_first_layer_of_the_trained_cnn(report):
    maps = report.data["feature_maps"]["maps"]
    weights = report.data["filters"]["weights"]
    assert maps.shape == (len(weights), 8, 8)
    # The map of filter 0 at an interior pixel is that filter's windowed sum plus its bias.
    from lamina.data import Digits

    x, _ = Digits(train=False).arrays()
    window = x[0, 0, 2:5, 3:6]
    bias = maps[0, 3, 4] - float(np.sum(window * weights[0]))
    np.testing.assert_allclose(maps[0, 4, 5] - bias, np.sum(x[0, 0, 3:6, 4:7] * weights[0]),
                               rtol=1e-5, atol=1e-5)


def test_conv2d_is_cross_correlation_not_the_lectures_flipped_sum(report):
    errors = report.data["algebra"]
    assert errors["corr"] < TOLERANCE  # conv2d == NumPy cross-correlation
    assert errors["conv"] > 1.0  # conv2d != the lecture's X[i-k, j-l] sum
    assert errors["flipped"] < TOLERANCE  # ... unless K is turned 180 degrees
    assert errors["symmetric"] < TOLERANCE  # the lecture's W hides the flip
    verdict = report.tables[1].rows
    assert [row[2] for row in verdict[:2]] == ["yes", "no"]


def test_a_convolution_is_a_circulant_matrix_product(report):
    errors = report.data["algebra"]
    for key in ("circulant", "circulant_conv2d", "toeplitz"):
        assert errors[key] < TOLERANCE
    assert errors["circulant_structure"] == 0.0


def test_the_asymmetric_kernel_has_no_symmetry_to_hide_a_flip():
    assert not np.array_equal(ASYMMETRIC, ASYMMETRIC[::-1, ::-1])
    assert not np.array_equal(ASYMMETRIC, ASYMMETRIC.T)
    np.testing.assert_array_equal(VERTICAL_EDGE, VERTICAL_EDGE[::-1, ::-1])


def test_numpy_references_against_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((5, 7))
    k = ASYMMETRIC
    tx, tk = torch.from_numpy(x)[None, None], torch.from_numpy(k.copy())[None, None]
    corr = torch.nn.functional.conv2d(tx, tk)[0, 0].numpy()
    np.testing.assert_allclose(cross_correlate(x, k), corr, rtol=0, atol=1e-12)
    # the lecture's periodized X * K is torch's conv2d of the circularly padded X with K flipped
    padded = torch.nn.functional.pad(tx, (2, 0, 2, 0), mode="circular")
    conv = torch.nn.functional.conv2d(padded, tk.flip(-1, -2))[0, 0].numpy()
    np.testing.assert_allclose(lecture_convolution(x, k, periodic=True), conv, atol=1e-12)
    np.testing.assert_allclose((circulant_matrix(k, x.shape) @ x.ravel()).reshape(x.shape),
                               conv, atol=1e-12)
    np.testing.assert_allclose((toeplitz_matrix(k, x.shape) @ x.ravel()).reshape(corr.shape),
                               corr, atol=1e-12)


def test_the_circulant_structure_check_can_fail():
    c = circulant_matrix(ASYMMETRIC, (4, 5))
    assert is_doubly_block_circulant(c, 4, 5)
    c[0, 1] += 1.0
    assert not is_doubly_block_circulant(c, 4, 5)


def test_conv2d_response_is_the_windowed_sum_of_w_times_the_image():
    image = np.random.default_rng(0).random((7, 9)).astype(np.float32)
    windows = sliding_window_view(image, (3, 3))
    expected = np.einsum("ijkl,kl->ij", windows, VERTICAL_EDGE)
    np.testing.assert_allclose(_respond(image), expected, rtol=1e-5, atol=1e-5)


def test_stripes_orientation():
    v, h = stripes(4, vertical=True), stripes(4, vertical=False)
    assert v[:, 0].tolist() == [1, 1, 1, 1] and v[0].tolist() == [1, 0, 1, 0]
    np.testing.assert_array_equal(h, v.T)


def test_small_cnn_maps_images_to_ten_logits():
    import lamina as lm

    assert small_cnn(8)(lm.zeros(2, 1, 8, 8)).shape == (2, 10)
    assert small_cnn(28)(lm.zeros(1, 1, 28, 28)).shape == (1, 10)
