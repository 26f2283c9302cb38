"""The logic lab: gates, seed 003's DNF table, the perceptron on AND/OR/XOR, an MLP on XOR."""
import pytest

from lamina.labs.logic import run


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return run(quick=True, out=str(tmp_path_factory.mktemp("logic")))


def test_mcculloch_pitts_truth_tables(report):
    rows = report.tables[0].rows
    #            x1   x2   AND  OR   NOT  x1&~x2 XOR
    assert rows == [["0", "0", "0", "0", "1", "0", "0"],
                    ["0", "1", "0", "1", "1", "0", "1"],
                    ["1", "0", "0", "1", "0", "1", "1"],
                    ["1", "1", "1", "1", "0", "0", "0"]]


def test_dnf_table_of_the_universal_boolean_lecture(report):
    rows = report.tables[1].rows
    assert [r[0] for r in rows] == ["0 0 1 1 0", "0 1 0 1 1", "0 1 1 0 0",
                                    "1 0 0 0 1", "1 0 1 1 1", "1 1 0 0 1"]
    assert all(r[1] == r[3] == "1" for r in rows)
    assert [r[2] for r in rows] == ["1", "2", "3", "4", "5", "6"]  # exactly one unit per row
    assert report.data["dnf"] == {"hidden_units": 6, "correct": 32, "total": 32}


def test_perceptron_converges_on_and_or_not_xor(report):
    rows = {r[0]: r for r in report.tables[2].rows}
    assert rows["AND"][1:3] == ["yes", "6"] and rows["OR"][1:3] == ["yes", "4"]
    assert rows["XOR"][1:3] == ["no", "not after 100"]
    perceptron = report.data["perceptron"]
    assert perceptron["XOR"]["warned"] and not perceptron["AND"]["warned"]
    assert perceptron["XOR"]["accuracy"] < 1.0


def test_mlp_solves_xor(report):
    rows = report.tables[3].rows
    assert [r[-1] for r in rows] == ["0", "1", "1", "0"]
    assert report.data["mlp"]["solved"] and report.data["mlp"]["loss"] < 0.01
