"""The universal-approximation lab: the sigmoid network's sup error falls with the width, the
t^3 network's cannot fall below the best cubic's (seed 000 §2)."""
import numpy as np
import pytest

import lamina as lm
from lamina.labs.universal_approximation import (POLY_DEGREE, _grid, _network, f_1d,
                                                 fit_least_squares, polynomial_floor, run)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    lm.manual_seed(0)
    return run(quick=True, out=str(tmp_path_factory.mktemp("ua")))


@pytest.mark.parametrize("case", ["1d", "2d"])
def test_sigmoid_sup_error_falls_from_smallest_to_largest_width(report, case):
    sup = report.data[case]["sigmoid_sup"]
    assert sup[-1] < sup[0] / 100
    assert sup[-1] < 1e-2


@pytest.mark.parametrize("case", ["1d", "2d"])
def test_polynomial_network_stays_above_the_floor(report, case):
    data = report.data[case]
    floor = data["floor"]
    assert floor > 0.05  # f is far from every cubic ...
    assert all(err >= floor for err in data["poly_sup"])  # ... at every width
    assert min(data["poly_sup"]) > 10 * data["sigmoid_sup"][-1]


def test_gradient_training_also_improves_with_width(report):
    adam = report.data["1d"]["adam_sup"]
    assert len(adam) == len(report.data["1d"]["widths"])
    assert adam[-1] < adam[0] / 5


def test_tables_have_one_row_per_width(report):
    one, two = report.tables
    assert len(one.rows) == len(report.data["1d"]["widths"])
    assert len(two.rows) == len(report.data["2d"]["widths"])
    assert one.columns[1] == "sigmoid sup error" and f"t^{POLY_DEGREE} sup error" in two.columns


@pytest.mark.parametrize("dim", [1, 2])
def test_polynomial_activation_network_is_a_polynomial_of_its_degree(dim):
    """The theorem's premise: a t^3 network of any width is a cubic, so the best cubic fits
    it exactly."""
    x = _grid(41 if dim == 1 else 9, dim)
    net = _network(dim, 20, "poly")
    rng = np.random.default_rng(0)
    net[2].weight._data[...] = rng.normal(size=net[2].weight.shape)
    with lm.no_grad():
        values = net(lm.tensor(x, dtype=lm.float64)).numpy()[:, 0]
    assert polynomial_floor(x, values, POLY_DEGREE) < 1e-6 * np.abs(values).max()
    assert polynomial_floor(x, values, POLY_DEGREE - 1) > 1e-3 * np.abs(values).max()


def test_least_squares_output_layer_interpolates_when_width_allows():
    x = _grid(9, 1)
    net = _network(1, 16, "sigmoid")
    fit_least_squares(net, x, f_1d(x))
    with lm.no_grad():
        values = net(lm.tensor(x, dtype=lm.float64)).numpy()[:, 0]
    assert np.abs(values - f_1d(x)).max() < 1e-4
