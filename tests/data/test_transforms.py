"""Batch transforms: shapes, exact geometry, mass preservation, reproducibility."""
import numpy as np
import pytest

import lamina as lm
from lamina.data import transforms as T
from lamina.errors import LaminaValueError, ShapeError


def _blobs(n=16, c=1, size=28, margin=6, seed=0):
    """Images whose ink stays ``margin`` pixels away from the border."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, c, size, size), np.float32)
    x[:, :, margin:-margin, margin:-margin] = rng.random((n, c, size - 2 * margin, size - 2 * margin))
    return x


class _FixedAngles:
    """Stands in for a Generator whose uniform() returns chosen angles."""

    def __init__(self, degrees):
        self.degrees = np.asarray(degrees, dtype=np.float64)

    def uniform(self, low, high, size):
        return np.broadcast_to(self.degrees, (size,)).copy()


RANDOM = [T.RandomShift(2), T.RandomRotation(15), T.RandomRotation(15, "nearest"),
          T.RandomHorizontalFlip(), T.GaussianNoise(0.1),
          T.Compose([T.RandomShift(1), T.RandomRotation(5), T.GaussianNoise(0.05)])]


@pytest.mark.parametrize("transform", RANDOM, ids=repr)
@pytest.mark.parametrize("shape", [(8, 1, 28, 28), (4, 3, 32, 32), (5, 1, 8, 8)])
def test_random_transforms_keep_shape_and_dtype(transform, shape):
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    y = transform(x, np.random.default_rng(1))
    assert y.shape == shape and y.dtype == np.float32
    assert np.shares_memory(x, y) is False


@pytest.mark.parametrize("transform", RANDOM, ids=repr)
def test_random_transforms_are_reproducible_from_the_generator(transform):
    x = _blobs()
    a = transform(x, np.random.default_rng(5))
    b = transform(x, np.random.default_rng(5))
    c = transform(x, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_global_generator_is_used_when_none_is_given():
    x = _blobs()
    lm.manual_seed(3)
    a = T.RandomRotation(20)(x)
    lm.manual_seed(3)
    np.testing.assert_array_equal(a, T.RandomRotation(20)(x))


def test_shift_moves_each_image_by_a_whole_pixel_offset_with_zero_fill():
    m = 2
    x = np.random.default_rng(0).random((20, 2, 9, 9), dtype=np.float32)
    y = T.RandomShift(m)(x, np.random.default_rng(0))
    seen = set()
    for img, out in zip(x, y):
        padded = np.pad(img, ((0, 0), (m, m), (m, m)))
        matches = [(dy, dx) for dy in range(-m, m + 1) for dx in range(-m, m + 1)
                   if np.array_equal(out, padded[:, m - dy:m - dy + 9, m - dx:m - dx + 9])]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) > 3  # shifts are drawn per image


def test_shift_preserves_mass_when_ink_has_a_margin():
    x = _blobs(margin=3)
    y = T.RandomShift(3)(x, np.random.default_rng(0))
    np.testing.assert_allclose(y.sum(axis=(1, 2, 3)), x.sum(axis=(1, 2, 3)), rtol=1e-5)


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_rotation_by_zero_and_ninety_degrees_is_exact(interpolation):
    x = np.random.default_rng(0).random((3, 2, 7, 7), dtype=np.float32)
    rot = T.RandomRotation(90, interpolation)
    np.testing.assert_allclose(rot(x, _FixedAngles(0.0)), x, atol=1e-6)
    np.testing.assert_allclose(rot(x, _FixedAngles(90.0)), np.rot90(x, -1, axes=(2, 3)), atol=1e-5)
    np.testing.assert_allclose(rot(x, _FixedAngles(-90.0)), np.rot90(x, 1, axes=(2, 3)), atol=1e-5)


def test_rotation_preserves_mass_roughly_and_per_image_angles_differ():
    x = _blobs(margin=7)
    y = T.RandomRotation(30)(x, np.random.default_rng(0))
    ratio = y.sum(axis=(1, 2, 3)) / x.sum(axis=(1, 2, 3))
    assert np.all(np.abs(ratio - 1) < 0.05)
    assert not np.allclose(y, x, atol=1e-3)


def test_rotation_of_a_point_lands_where_the_angle_says():
    x = np.zeros((1, 1, 21, 21), np.float32)
    x[0, 0, 10, 18] = 1.0  # 8 pixels right of the centre
    y = T.RandomRotation(90, "nearest")(x, _FixedAngles(30.0))
    row, col = np.unravel_index(y[0, 0].argmax(), (21, 21))
    assert (row, col) == (10 + round(8 * np.sin(np.pi / 6)), 10 + round(8 * np.cos(np.pi / 6)))


def test_rotation_keeps_float64():
    x = _blobs().astype(np.float64)
    assert T.RandomRotation(10)(x, np.random.default_rng(0)).dtype == np.float64


@pytest.mark.parametrize("p,flipped", [(1.0, True), (0.0, False)])
def test_horizontal_flip_probability_extremes(p, flipped):
    x = np.random.default_rng(0).random((4, 3, 5, 5), dtype=np.float32)
    y = T.RandomHorizontalFlip(p)(x, np.random.default_rng(0))
    np.testing.assert_array_equal(y, x[..., ::-1] if flipped else x)


def test_horizontal_flip_flips_about_half():
    x = np.random.default_rng(0).random((400, 1, 2, 2), dtype=np.float32)
    y = T.RandomHorizontalFlip()(x, np.random.default_rng(0))
    fraction = np.mean([not np.array_equal(a, b) for a, b in zip(x, y)])
    assert 0.4 < fraction < 0.6


def test_gaussian_noise_has_the_requested_spread_and_clip():
    x = np.full((64, 1, 28, 28), 0.5, np.float32)
    y = T.GaussianNoise(0.1)(x, np.random.default_rng(0))
    assert abs(float((y - x).std()) - 0.1) < 0.005 and abs(float((y - x).mean())) < 0.005
    z = T.GaussianNoise(1.0, clip=(0.0, 1.0))(x, np.random.default_rng(0))
    assert z.min() == 0.0 and z.max() == 1.0


@pytest.mark.parametrize("mean,std", [(0.5, 0.25), ([0.1, 0.2, 0.3], [0.5, 1.0, 2.0])])
def test_normalize_per_channel(mean, std):
    x = np.random.default_rng(0).random((6, 3, 4, 4), dtype=np.float32)
    y = T.Normalize(mean, std)(x)
    expected = (x - np.reshape(mean, (1, -1, 1, 1))) / np.reshape(std, (1, -1, 1, 1))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_normalize_errors():
    with pytest.raises(ShapeError):
        T.Normalize([0.1, 0.2], [1.0, 1.0])(np.zeros((2, 3, 4, 4), np.float32))
    with pytest.raises(LaminaValueError):
        T.Normalize(0.0, 0.0)


def test_one_hot():
    y = T.OneHot(4)(np.array([3, 0, 1]))
    np.testing.assert_array_equal(y, np.eye(4, dtype=np.float32)[[3, 0, 1]])
    assert y.dtype == np.float32
    with pytest.raises(LaminaValueError, match="0..3"):
        T.OneHot(4)(np.array([4]))


def test_flatten_and_compose_with_plain_callables():
    x = _blobs(n=3)
    y = T.Compose([T.Flatten(), lambda a: a * 2])(x)
    assert y.shape == (3, 784)
    np.testing.assert_array_equal(y, x.reshape(3, -1) * 2)


@pytest.mark.parametrize("make", [lambda: T.RandomShift(-1), lambda: T.RandomRotation(-1),
                                  lambda: T.RandomRotation(5, "cubic"),
                                  lambda: T.RandomHorizontalFlip(1.5), lambda: T.GaussianNoise(-1),
                                  lambda: T.OneHot(0)])
def test_bad_parameters(make):
    with pytest.raises(LaminaValueError):
        make()


def test_geometric_transforms_need_image_batches():
    with pytest.raises(ShapeError):
        T.RandomShift(1)(np.zeros((4, 784), np.float32))
