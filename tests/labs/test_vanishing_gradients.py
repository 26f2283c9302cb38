"""The vanishing-gradients lab: a deep sigmoid network's first layer gets a far smaller
gradient than its last, a ReLU network's does not (seed 000 §6)."""
import numpy as np
import pytest

from lamina.labs.vanishing_gradients import HIDDEN, run


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return run(quick=True, out=str(tmp_path_factory.mktemp("vg")))


def test_sigmoid_first_layer_gradient_is_much_smaller_than_last(report):
    sig, relu = report.data["sigmoid"], report.data["relu"]
    assert sig["ratio_start"] < 0.01 and sig["ratio_end"] < 0.01
    assert sig["ratio_end"] < relu["ratio_end"] / 100
    assert relu["ratio_end"] > 0.1  # ReLU's layers get gradients of one size


def test_sigmoid_gradient_shrinks_layer_by_layer_towards_the_input(report):
    start = report.data["sigmoid"]["start"]
    assert np.all(np.diff(start) > 0)
    assert len(start) == len(HIDDEN) + 1


def test_norms_recorded_every_step_for_every_layer(report):
    steps = report.data["epochs"] * report.data["steps_per_epoch"]
    for act in ("sigmoid", "relu"):
        assert report.data[act]["norms"].shape == (steps, len(HIDDEN) + 1)
        assert np.all(np.isfinite(report.data[act]["norms"]))
    assert report.data["relu"]["accuracy"] > report.data["sigmoid"]["accuracy"]


def test_table_rows(report):
    layers, summary = report.tables
    assert len(layers.rows) == len(HIDDEN) + 1
    assert [row[0] for row in summary.rows] == ["sigmoid", "relu"]
