"""The block-coordinate-descent lab (Ghauch & Ghadikolaei, Fundamentals of Deep Neural
Networks): exact BCD beats gradient descent on a deep linear network; the two-layer losses'
Hessians are indefinite, the one-layer least-squares Hessian is PSD."""
import importlib.util
import os

import numpy as np
import pytest

from lamina.autograd.tensor import Tensor
from lamina.labs.block_coordinate_descent import (METHODS, SIZES, _data, hessian_matrix,
                                                  reduced_rank_optimum, run)

NAMES = [name for name, _, _ in METHODS]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return run(quick=True, out=str(tmp_path_factory.mktemp("bcd")))


def test_every_method_starts_from_the_same_loss_and_descends(report):
    curves = report.data["curves"]
    assert set(curves) == set(NAMES)
    assert len({c[0] for c in curves.values()}) == 1
    for name, curve in curves.items():
        assert len(curve) == report.data["iterations"] + 1
        assert curve[-1] < 0.9 * curve[0], name
        assert min(curve) >= report.data["fstar"] - 1e-9, name  # f* is the optimum


def test_exact_bcd_is_monotone_and_reaches_the_optimum(report):
    curve, fstar = report.data["curves"]["exact BCD"], report.data["fstar"]
    assert all(b <= a + 1e-12 for a, b in zip(curve, curve[1:]))
    assert curve[-1] - fstar < 1e-8
    for name in NAMES[1:]:  # every gradient method is still further from f*
        assert report.data["curves"][name][-1] - fstar > 100 * (curve[-1] - fstar + 1e-12)


def test_step_size_schedules_order_as_the_lecture_explains(report):
    final = {name: curve[-1] for name, curve in report.data["curves"].items()}
    assert final["gradient descent"] < final["gradient descent, 1/sqrt(k)"] \
        < final["gradient descent, 1/k"]


def test_fstar_is_the_reduced_rank_optimum_and_below_full_least_squares():
    x, y = _data(0)
    xa = np.concatenate([x, np.ones((len(x), 1))], 1)
    full = ((y - xa @ np.linalg.lstsq(xa, y, rcond=None)[0]) ** 2).sum() / len(x)
    rank = min(SIZES[1:-1])
    assert reduced_rank_optimum(x, y, rank) > full
    assert abs(reduced_rank_optimum(x, y, SIZES[-1]) - full) < 1e-10  # no bottleneck


def test_two_layer_hessians_are_indefinite_one_layer_is_psd(report):
    rows = report.data["hessians"]
    assert len(rows) == 4
    example = rows[0]["eigenvalues"]
    np.testing.assert_allclose(example, [-2.0, 2.0], atol=1e-12)  # [[0, -2], [-2, 0]]
    for row in rows[1:3]:
        assert min(row["eigenvalues"]) < -1e-3 and max(row["eigenvalues"]) > 1e-3, row
    assert min(rows[3]["eigenvalues"]) > 0
    assert report.data["one_layer_hessian_error"] < 1e-12
    values = report.data["example_values"]
    assert values["f(0,0)"] > (values["f(1,1)"] + values["f(-1,-1)"]) / 2  # not convex


def test_hessian_matrix_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((7, 3)), rng.standard_normal((7, 2))
    w1, w2 = rng.standard_normal((2, 3)), rng.standard_normal((2, 2))

    def loss(lib_x, lib_y):
        return lambda a, b: ((lib_x @ a.t() @ b.t() - lib_y) ** 2).sum() / 7

    ours = hessian_matrix(loss(Tensor._wrap(x), Tensor._wrap(y)),
                          (Tensor._wrap(w1), Tensor._wrap(w2)))
    blocks = torch.autograd.functional.hessian(loss(torch.tensor(x), torch.tensor(y)),
                                               (torch.tensor(w1), torch.tensor(w2)))
    theirs = np.block([[blocks[i][j].reshape(6 if i == 0 else 4, 6 if j == 0 else 4).numpy()
                        for j in range(2)] for i in range(2)])
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_tables_name_the_lecture_and_the_picture_is_written(report):
    assert [row[0] for row in report.tables[0].rows] == NAMES
    assert any("Ghauch & Ghadikolaei" in c for c in report.tables[1].columns)
    assert any("Fundamentals of Deep Neural Networks" in n for n in report.notes)
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib is not installed")
    pictures = [f for f in report.files if f.endswith("bcd.png")]
    assert len(pictures) == 1 and os.path.getsize(pictures[0]) > 0
