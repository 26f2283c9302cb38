"""The classic-rules lab: Hebb's instability, ADALINE/LMS, MADALINE on XOR, RBF cylinders,
McCulloch-Pitts memory (Dehaqani, "Introduction to Neural Networks")."""
import os

import numpy as np
import pytest

from lamina.classic import Hebbian
from lamina.errors import LaminaValueError
from lamina.labs.classic_rules import run

PICTURES = ("hebb.png", "lms.png", "rbf.png", "memory.png")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("classic-rules"))
    return run(quick=True, out=out), out


def test_hebb_norm_grows_without_bound_and_oja_stays_bounded(lab):
    hebb = lab[0].data["hebb"]
    norms = np.array(hebb["hebb_norms"])
    at_steps = norms[np.array(hebb["steps"]) - 1]
    assert (np.diff(at_steps) > 0).all() and at_steps[-1] > 1e6 * at_steps[0]
    # geometric growth at the rate the linear map of one epoch predicts
    assert hebb["growth_measured"] == pytest.approx(hebb["growth_predicted"], rel=1e-3)
    assert hebb["growth_measured"] > 1.5
    oja = np.array(hebb["oja_norms"])
    assert oja.max() < 1.1 and hebb["oja_final_norm"] == pytest.approx(1.0, abs=0.02)
    assert hebb["oja_cosine"] > 0.99


def test_lms_converges_to_the_least_squares_optimum(lab):
    lms = lab[0].data["lms"]
    batch, online, optimum = (np.array(lms[k]) for k in ("mse_batch", "mse_online", "optimum"))
    assert batch[-1] - optimum == pytest.approx(0.0, abs=1e-8)
    assert (batch >= optimum - 1e-12).all() and (np.diff(batch) <= 1e-15).all()
    np.testing.assert_allclose(batch, lms["mse_theory"], rtol=1e-10, atol=1e-14)
    assert lms["weight_error"] < 1e-4
    assert 0 < online[-1] - optimum < 1e-2  # the online rule hovers just above the optimum
    table = lab[0].tables[1]
    assert any("lstsq" in c for c in table.columns)
    assert {row[-1] for row in table.rows} == {f"{float(optimum):.8f}"}


def test_madaline_solves_xor(lab):
    madaline = lab[0].data["madaline"]
    assert madaline["correct"] and madaline["converged"]
    assert madaline["outputs"] == [0, 1, 1, 0]
    assert madaline["solved"] >= 0.9 * madaline["seeds"]
    assert [row[-1] for row in lab[0].tables[2].rows] == ["0", "1", "1", "0"]


def test_rbf_cylinder_needs_one_unit(lab):
    rbf = lab[0].data["rbf"]
    errors = rbf["area_error"]
    polygon = [errors[str(n)] for n in (4, 8, 16, 64)]
    assert all(a > b for a, b in zip(polygon, polygon[1:]))
    for n in (4, 8, 16):  # the grid measures the N-gon's excess area r^2 (N tan(pi/N) - pi)
        assert errors[str(n)] == pytest.approx(n * np.tan(np.pi / n) - np.pi, abs=0.01)
    assert errors["rbf"] < errors["64"]
    assert all(a > b for a, b in zip(rbf["rms"], rbf["rms"][1:])) and rbf["rms"][-1] < 0.05


def test_delayed_memory_tables(lab):
    report = lab[0]
    assert all(report.data["memory"]["gates_match"].values())
    gates = next(t for t in report.tables if "synaptic delay" in t.title)
    rows = np.array(gates.rows, dtype=int)
    n1, n2 = np.r_[0, rows[:-1, 1]], np.r_[0, rows[:-1, 2]]
    np.testing.assert_array_equal(rows[:, 3], n1 | n2)
    np.testing.assert_array_equal(rows[:, 4], n1 & n2)
    np.testing.assert_array_equal(rows[:, 5], n1 & (1 - n2))
    latch = np.array(next(t for t in report.tables if "remember" in t.title).rows, dtype=int)
    m = 0
    for t, s, r, state in latch:
        assert state == m
        m = int((s or m) and not r)
    assert latch[:, 3].sum() >= 3  # it stayed on for several steps with no input


def test_reduction_table(lab):
    reduction = lab[0].data["reduction"]
    assert reduction == {"slide_units": 3, "table5_units": 5, "correct": True}
    table = next(t for t in lab[0].tables if "Reducing" in t.title)
    assert "lecture" in table.columns and table.rows[0][3] == "3"


def test_pictures_written(lab):
    report, out = lab
    for name in PICTURES:
        path = os.path.join(out, name)
        assert path in report.files and os.path.getsize(path) > 0
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_oja_rule_is_unsupervised_only():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(LaminaValueError):
        Hebbian(rule="oja").fit(X, np.arange(20) % 2)
    with pytest.raises(LaminaValueError):
        Hebbian(rule="anti-hebb").fit(X)
    # a single presentation: w + eta y (x - y w), against the formula
    w0 = Hebbian(lr=0.1, epochs=1, random_state=3, rule="oja").fit(X[:1])
    start = 0.01 * np.random.default_rng(3).standard_normal(3)
    x = np.r_[1.0, X[0]]
    y = x @ start
    expected = start + 0.1 * y * (x - y * start)
    np.testing.assert_allclose(np.r_[w0.intercept_, w0.coef_], expected, rtol=1e-12)
