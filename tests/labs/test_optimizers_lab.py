"""The optimizers lab's quick run: every method descends; momentum and the adaptive methods
beat plain SGD with alpha_k = 1/k (seed 004)."""
import os

import pytest

from lamina.labs.optimizers import _first_below, mlp_settings, quadratic_settings, run

NAMES = [s.name for s in mlp_settings()]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return run(quick=True, out=str(tmp_path_factory.mktemp("optimizers")))


@pytest.mark.parametrize("problem", ["mlp", "quadratic"])
@pytest.mark.parametrize("name", NAMES)
def test_every_optimiser_lowers_the_loss(report, problem, name):
    result = report.data[problem][name]
    assert result["final"] < 0.9 * result["initial"], result


@pytest.mark.parametrize("problem", ["mlp", "quadratic"])
def test_every_optimiser_starts_from_the_same_point(report, problem):
    initial = {r["initial"] for r in report.data[problem].values()}
    assert len(initial) == 1


@pytest.mark.parametrize("problem", ["mlp", "quadratic"])
@pytest.mark.parametrize("name", ["Adam", "RMSProp", "SGD + momentum"])
def test_momentum_and_adaptive_methods_end_below_sgd_with_1_over_k_steps(report, problem, name):
    data = report.data[problem]
    assert data[name]["final"] < 0.5 * data["SGD, 1/k"]["final"], data


@pytest.mark.parametrize("problem", ["mlp", "quadratic"])
def test_1_over_k_steps_stall_before_1_over_sqrt_k_steps(report, problem):
    # sum_k 1/k = ln K grows far slower than sum_k 1/sqrt(k) = 2 sqrt(K).
    data = report.data[problem]
    assert data["SGD, 1/sqrt(k)"]["final"] < data["SGD, 1/k"]["final"]


def test_tables_name_each_optimiser_once_and_the_plot_is_written(report):
    assert [[row[0] for row in t.rows] for t in report.tables] == [
        NAMES, [s.name for s in quadratic_settings()]]
    assert len(report.files) == 1 and os.path.getsize(report.files[0]) > 0


def test_first_below_returns_the_first_step_at_or_under_the_target():
    curve = [(0, 2.0), (10, 0.5), (20, 0.3), (30, 0.1), (40, 0.4)]
    assert _first_below(curve, 0.3) == 20
    assert _first_below(curve, 0.05) is None
