"""The gd-vs-sgd lab: SGD beats GD per epoch, and the minibatch gradient's variance falls as
1/K (seed 000 §4)."""
import numpy as np
import pytest

import lamina as lm
from lamina.data import Digits
from lamina.labs.gd_vs_sgd import _problem, run, sample_gradients
from lamina.nn import functional as F


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    lm.manual_seed(0)
    return run(quick=True, out=str(tmp_path_factory.mktemp("gd")))


def test_sgd_reaches_a_lower_loss_than_gd_after_the_same_epochs(report):
    curves = report.data["curves"]
    gd, sgd = curves["GD (K = m)"], curves["SGD (K = 1)"]
    assert gd["epochs"][-1] == sgd["epochs"][-1] == report.data["epochs"]
    assert gd["loss"][0] == pytest.approx(sgd["loss"][0])  # the same starting point
    assert sgd["loss"][-1] < gd["loss"][-1] / 2
    after_one = lambda c: c["loss"][np.searchsorted(c["epochs"], 1.0)]  # noqa: E731
    assert after_one(sgd) < after_one(gd)


def test_updates_per_epoch_are_one_for_gd_and_m_for_sgd(report):
    m = report.data["m"]
    curves = report.data["curves"]
    assert curves["GD (K = m)"]["updates_per_epoch"] == 1
    assert curves["SGD (K = 1)"]["updates_per_epoch"] == m
    assert curves["minibatch K = 10"]["updates_per_epoch"] == -(-m // 10)


def test_variance_falls_as_one_over_k(report):
    var = report.data["variance"]
    assert -1.2 <= var["slope"] <= -0.8
    ratio = var["variance"][0] / var["variance"][-1]
    assert ratio == pytest.approx(var["sizes"][-1], rel=0.3)
    assert len(report.tables[1].rows) == len(var["sizes"])


def test_minibatch_gradient_is_the_mean_of_sample_gradients():
    """The identity the variance measurement rests on, checked with lamina's backward."""
    dataset, model = _problem(quick=True)
    index = np.arange(0, 40, 3)
    rows = sample_gradients(dataset, model, index)
    x, y = dataset.arrays()
    model.zero_grad()
    F.cross_entropy(model(lm.tensor(x[index])), lm.tensor(y[index])).backward()
    batch = np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])
    np.testing.assert_allclose(rows.mean(axis=0), batch, rtol=1e-4, atol=1e-6)
    assert len(Digits(train=True)) > len(dataset)  # --quick uses a head of the digits
