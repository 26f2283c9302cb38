"""The cnn-filters lab: seed 000's vertical-edge filter sees vertical, not horizontal,
structure; the small CNN beats chance clearly."""
import os

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from lamina.labs.cnn_filters import VERTICAL_EDGE, _respond, small_cnn, stripes, run


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
    assert report.data["a digit 1"]["mean_abs"] > 1.5 * report.data["the 1 turned 90 degrees"]["mean_abs"]


def test_the_trained_cnn_beats_chance_clearly(report):
    cnn = report.data["cnn"]
    assert cnn["data"] == "Digits"  # --quick never reads Fashion-MNIST
    assert cnn["test_acc"] > 5 * cnn["chance"]


def test_both_pictures_are_written(report):
    names = sorted(os.path.basename(f) for f in report.files)
    assert names == ["filters.png", "vertical_edge.png"]
    assert all(os.path.getsize(f) > 0 for f in report.files)


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
