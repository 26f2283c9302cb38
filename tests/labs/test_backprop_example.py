"""The backprop-example lab: seed 002's numbers beside lamina's, and why three differ."""
from lamina.classic.backprop import SEED002_LECTURE
from lamina.labs.backprop_example import SEED002_GRADIENTS, run, slide_arithmetic


def test_table_has_lecture_autodiff_and_explicit_columns(tmp_path):
    report = run(quick=True, out=str(tmp_path))
    table = report.tables[0]
    assert table.columns[1:4] == ["lecture (Neural Networks, Backpropagation)", "lamina autodiff",
                                  "explicit delta rule"]
    rows = {row[0].split(" ")[0]: row for row in table.rows}
    assert len(table.rows) == len(SEED002_LECTURE) == 10
    assert rows["y"][1:4] == ["0.69", "0.69", "0.69"]
    assert rows["delta^1_1"][1:4] == ["-0.0027", "-0.0027", "-0.0027"]
    assert rows["delta^1_2"][1:4] == ["-0.0082", "-0.0082", "-0.0082"]
    for name, value in [("W^1_11", "0.0991"), ("W^1_12", "0.7976"), ("W^1_21", "0.3971"),
                        ("W^1_22", "0.5926")]:
        assert rows[name][1:4] == [value, value, value]
    # the exact computation differs from the slide where it rounds intermediates ...
    assert rows["delta^2_1"][1:4] == ["-0.0406", "-0.0407", "-0.0407"]
    assert rows["W^2_11"][1:4] == ["0.2724", "0.2723", "0.2723"]
    assert rows["W^2_12"][1:4] == ["0.8731", "0.8730", "0.8730"]
    # ... and the slide's rounded arithmetic reproduces every printed value
    assert all(row[1] == row[4] for t in report.tables for row in t.rows)
    assert report.data["methods_agree"] and report.data["slide_reproduced"]
    assert sorted(report.data["mismatches"]) == sorted(
        ["delta_2_1", "W2_11", "W2_12"] + list(SEED002_GRADIENTS))
    assert any(note.startswith("All agree to the printed digits: no.") for note in report.notes)


def test_slide_arithmetic_reuses_rounded_values():
    v = slide_arithmetic()
    assert v["delta_2_1"] == -0.0406 and v["dL/dW2_11"] == 0.0276 and v["W2_11"] == 0.2724
