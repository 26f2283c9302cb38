"""The regularization lab's quick run shows seed 000's claims in its own numbers."""
import os

import numpy as np
import pytest

import lamina as lm
from lamina.labs.regularization import METHODS, NEAR_ZERO, near_zero_fraction, run
from lamina.models import mlp

REGULARISERS = [m.name for m in METHODS if m.name != "none"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return run(quick=True, out=str(tmp_path_factory.mktemp("regularization")))


@pytest.mark.parametrize("sparse", ["L1", "Lp, p=0.5"])
def test_p_at_most_one_leaves_many_more_near_zero_weights(report, sparse):
    # Seed 000: "regularization with p <= 1 promotes sparse connectivity".
    fraction = report.data[sparse]["near_zero"]
    for dense in ("none", "L2 (weight decay)"):
        assert fraction > 5 * report.data[dense]["near_zero"], (sparse, dense, report.data)
    assert fraction > 0.2


@pytest.mark.parametrize("sparse", ["L1", "Lp, p=0.5"])
def test_the_near_zero_weights_can_be_pruned_without_losing_test_accuracy(report, sparse):
    result = report.data[sparse]
    assert abs(result["pruned_test_acc"] - result["test_acc"]) <= 0.01, result


@pytest.mark.parametrize("method", REGULARISERS)
def test_every_remedy_narrows_the_test_minus_train_loss_gap(report, method):
    assert report.data[method]["loss_gap"] < report.data["none"]["loss_gap"], report.data


def test_some_remedy_narrows_the_train_test_accuracy_gap(report):
    best = min(report.data[m]["gap"] for m in REGULARISERS)
    assert best < report.data["none"]["gap"], report.data


def test_the_table_has_one_row_per_method_and_the_histogram_is_written(report):
    (table,) = report.tables
    assert [row[0] for row in table.rows] == [m.name for m in METHODS]
    assert len(report.files) == 1 and os.path.getsize(report.files[0]) > 0


def test_near_zero_fraction_counts_weight_entries_below_the_threshold_and_ignores_biases():
    model = mlp([4, 5, 2])
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    with lm.no_grad():
        for p in model.parameters():
            p._data[...] = 1.0  # biases stay large: they must not be counted
        weights[0]._data[:2] = NEAR_ZERO / 2  # 8 of the 20 + 10 weight entries
        weights[1]._data[0, 0] = -NEAR_ZERO / 10
    assert near_zero_fraction(model) == pytest.approx(9 / 30)
    assert near_zero_fraction(model, threshold=2.0) == 1.0
    assert np.isclose(near_zero_fraction(model, threshold=1e-9), 0.0)
