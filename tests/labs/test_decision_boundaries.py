"""The decision-boundaries lab: hand-wired polygons, the circle limit, a trained MLP."""
import os

import numpy as np
import pytest

from lamina.labs.decision_boundaries import regular_polygon, run


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return run(quick=True, out=str(tmp_path_factory.mktemp("boundaries")))


def test_polygon_areas_match_the_exact_areas(report):
    rows = {r[0]: r for r in report.tables[0].rows}
    assert set(rows) == {"square", "pentagon", "hexagon", "square OR pentagon"}
    for row in rows.values():
        assert float(row[3]) == pytest.approx(float(row[4]), abs=0.03)
    assert rows["square"][1:3] == ["2", "5"]               # 4 half-planes + the AND unit
    assert rows["square OR pentagon"][1:3] == ["3", "12"]  # the OR needs a third layer


def test_circle_accuracy_grows_with_the_number_of_half_planes(report):
    accuracy = report.data["circle_accuracy"]
    sides = sorted(accuracy)
    assert sides[0] == 3 and sides[-1] == 1000
    values = [accuracy[n] for n in sides]
    assert all(a < b for a, b in zip(values[:5], values[1:6]))  # 3..16: strictly better
    assert accuracy[1000] > 0.999 and accuracy[3] < 0.85
    excess = [float(r[3]) for r in report.tables[1].rows]
    assert excess == sorted(excess, reverse=True) and excess[-1] < 1e-4
    # far from the circle about half of the half-planes fire (seed 003: "N/2 outside")
    far = report.data["circle_far_sum"][1000]
    assert far[0] == pytest.approx(1 - np.arccos(0.5) / np.pi, abs=0.01)
    assert far[1] == pytest.approx(1 - np.arccos(0.1) / np.pi, abs=0.01)


def test_trained_mlp_separates_moons_and_circles(report):
    for name, acc in report.data["mlp"].items():
        assert acc["train"] > 0.97 and acc["test"] > 0.93, name


def test_png_written(report):
    if not report.files:
        pytest.skip("matplotlib missing")
    assert report.files[0].endswith("decision_boundaries.png") and os.path.getsize(report.files[0]) > 0


def test_regular_polygon_is_counter_clockwise():
    V = regular_polygon(5)
    signed_area = 0.5 * np.sum(V[:, 0] * np.roll(V[:, 1], -1) - np.roll(V[:, 0], -1) * V[:, 1])
    assert signed_area > 0
