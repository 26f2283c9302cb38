"""The backprop-example lab: first what agrees (autodiff against the explicit delta rule),
then the backpropagation lecture's printed numbers beside the exact ones, and why nine differ."""
import pytest

from lamina.classic.backprop import BACKPROP_EXAMPLE_PRINTED
from lamina.labs.backprop_example import (QUANTITIES, BACKPROP_EXAMPLE_GRADIENTS, TOLERANCE, run,
                                          slide_arithmetic)

from .test_markdown_tables import check_report_markdown


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return run(quick=True, out=str(tmp_path_factory.mktemp("backprop-example")))


def test_first_table_is_autodiff_against_the_explicit_rule(report):
    first = report.tables[0]
    assert "agree" in first.title
    assert first.columns == ["quantity", "lamina autodiff (backward)", "explicit delta rule",
                             "abs difference"]
    assert len(first.rows) == len(QUANTITIES) == len(BACKPROP_EXAMPLE_PRINTED) + len(BACKPROP_EXAMPLE_GRADIENTS)
    auto, explicit = report.data["autodiff"], report.data["explicit"]
    for key, row in zip(QUANTITIES, first.rows):
        assert float(row[1]) == pytest.approx(auto[key], rel=1e-11)
        assert float(row[2]) == pytest.approx(explicit[key], rel=1e-11)
        assert float(row[3]) == pytest.approx(abs(auto[key] - explicit[key]), abs=1e-30, rel=0.1)
        assert float(row[3]) <= TOLERANCE
    assert report.data["methods_agree"] and report.data["max_difference"] <= TOLERANCE
    assert first.notes and "agree on all 16 quantities" in first.notes[0]
    assert ": yes" in first.notes[0]


def test_the_exact_values_are_the_textbook_ones(report):
    # independent of both methods: the forward pass and the output delta by hand in floats
    import math

    sigmoid = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    h = [sigmoid(0.1 * 0.35 + 0.8 * 0.9), sigmoid(0.4 * 0.35 + 0.6 * 0.9)]
    y = sigmoid(0.3 * h[0] + 0.9 * h[1])
    delta_out = (0.5 - y) * y * (1 - y)
    auto = report.data["autodiff"]
    assert auto["y"] == pytest.approx(y, abs=1e-15)
    assert auto["delta_2_1"] == pytest.approx(delta_out, abs=1e-15)
    assert auto["dL/dW2_11"] == pytest.approx(-delta_out * h[0], abs=1e-15)
    assert auto["W2_11"] == pytest.approx(0.3 + delta_out * h[0], abs=1e-15)


def test_second_table_explains_every_difference_from_the_slides(report):
    second = report.tables[1]
    assert second.columns[1:] == ["lecture (as printed)", "exact, to the printed digits",
                                  "slide's rounded arithmetic", "exact vs lecture"]
    rows = {row[0].split(" ")[0]: row for row in second.rows}
    assert len(second.rows) == 16
    assert rows["y"][1:3] == ["0.69", "0.69"]
    assert rows["delta^1_1"][1:3] == ["-0.0027", "-0.0027"]
    assert rows["delta^1_2"][1:3] == ["-0.0082", "-0.0082"]
    for name, value in [("W^1_11", "0.0991"), ("W^1_12", "0.7976"), ("W^1_21", "0.3971"),
                        ("W^1_22", "0.5926")]:
        assert rows[name][1:3] == [value, value] and rows[name][4] == "same"
    # the exact computation differs from the slide where it rounds intermediates ...
    assert rows["delta^2_1"][1:3] == ["-0.0406", "-0.0407"]
    assert rows["W^2_11"][1:3] == ["0.2724", "0.2723"]
    assert rows["W^2_12"][1:3] == ["0.8731", "0.8730"]
    assert rows["dL/dW^1_11"][1:3] == ["0.000945", "0.000929"]
    # ... and the slide's rounded arithmetic reproduces every printed value
    assert all(row[1] == row[3] for row in second.rows)
    assert all(row[4] == ("same" if row[1] == row[2] else "rounding") for row in second.rows)
    assert report.data["slide_reproduced"]
    assert sorted(report.data["mismatches"]) == sorted(
        ["delta_2_1", "W2_11", "W2_12"] + list(BACKPROP_EXAMPLE_GRADIENTS))
    assert second.notes[0].startswith("7 of the 16 printed values")
    assert "reproduces all 16: yes" in second.notes[0]


def test_report_leads_with_the_agreement_and_is_valid_markdown(report):
    text = str(report)
    assert text.index("agree on all 16") < text.index("slide's rounded arithmetic")
    assert "DIFFERS" not in text and "NO" not in text.split()
    check_report_markdown(report, text)


def test_slide_arithmetic_reuses_rounded_values():
    v = slide_arithmetic()
    assert v["delta_2_1"] == -0.0406 and v["dL/dW2_11"] == 0.0276 and v["W2_11"] == 0.2724
    assert v["delta_1_1"] == -0.0027 and v["dL/dW1_11"] == 0.000945
