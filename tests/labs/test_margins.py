"""The margins lab: eps from 1 to 0 turns cross-entropy into the hinge (Schwing & Telgarsky,
Deep Neural Networks), and logistic regression / linear SVM against one-layer nets."""
import math
import os

import numpy as np
import pytest

from lamina.labs.margins import EPSILONS, fixed_scores, objective, run, three_blobs


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return str(tmp_path_factory.mktemp("margins"))


@pytest.fixture(scope="module")
def report(out):
    return run(quick=True, out=out)


def test_smoothed_loss_falls_to_the_hinge_within_the_bound(report):
    rows = report.data["smoothing"]
    assert [r["epsilon"] for r in rows] == list(EPSILONS)
    scores, labels = fixed_scores()
    hinge = rows[-1]["zero_one"]
    for r in rows:
        assert -1e-12 <= r["gap_min"] <= r["gap_max"] <= r["epsilon"] * math.log(scores.shape[1]) + 1e-12
    values = [r["zero_one"] for r in rows]
    assert all(a >= b - 1e-12 for a, b in zip(values, values[1:]))   # monotone in eps
    assert values[0] - hinge > 0.1 and values[-2] - hinge < 1e-3       # it really moves
    assert len(report.tables[0].rows) == len(EPSILONS)


def test_limits_match_direct_computations(report):
    limits = report.data["limits"]
    assert set(limits) == {"logistic regression", "multiclass SVM", "binary SVM"}
    for row in limits.values():
        assert row["max_abs_diff"] < 1e-12 and row["ours"] > 0
    # the eps = 1, L = 0 row of table (a) is the cross-entropy row of the limits table
    ce = next(r for r in report.data["smoothing"] if r["epsilon"] == 1.0)["zero"]
    assert ce == pytest.approx(limits["logistic regression"]["reference"], rel=1e-12)


def test_one_layer_net_is_logistic_regression(report):
    models = report.data["models"]
    lr, net = models["LogisticRegression"], models["net, eps = 1, L = 0"]
    assert net["objective"] == pytest.approx(lr["objective"], rel=1e-6)
    assert report.data["weight_gap_logistic"] < 1e-3
    assert net["agreement"] > 99.0
    assert net["test_accuracy"] == pytest.approx(lr["test_accuracy"], abs=0.5)


def test_one_layer_net_at_eps_zero_is_the_linear_svm(report):
    models = report.data["models"]
    svc, net = models["LinearSVC"], models["net, eps = 0, L = 0-1"]
    assert abs(net["objective"] - svc["objective"]) / svc["objective"] < 0.02
    assert net["agreement"] > 95.0
    history = report.data["net_histories"]["eps=0"]
    assert history[-1] < 0.5 * history[0]
    for row in models.values():
        assert row["test_accuracy"] > 80.0      # three classes: chance is 33%


def test_objective_recomputes_the_table(report):
    X, y = three_blobs(300, seed=1)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    row = report.data["models"]["LinearSVC"]
    value = objective(np.array(row["W"]), np.array(row["b"]), X, y, 0.0, "zero_one", True)
    assert value == pytest.approx(row["objective"], rel=1e-12)
    scores = X @ np.array(row["W"]).T + np.array(row["b"])
    other = np.where(np.arange(3) == y[:, None], -np.inf, scores)
    hinge = np.maximum(0, 1 + other.max(axis=1) - scores[np.arange(len(y)), y]).sum()
    norm = np.sum(np.square(row["W"])) + np.sum(np.square(row["b"]))
    assert value == pytest.approx(hinge + norm / 2, rel=1e-12)


def test_lecture_named_and_pictures_written(report, out):
    assert "Schwing & Telgarsky" in report.tables[1].columns[1]
    assert any("single fully connected layer" in note for note in report.notes)
    pytest.importorskip("matplotlib")
    for name in ("margins.png", "smoothing.png"):
        path = os.path.join(out, name)
        assert path in report.files
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        assert os.path.getsize(path) > 1000
