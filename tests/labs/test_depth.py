"""The depth lab: seed 000's three sigmoid networks through lamina's nielsen-30* presets."""
import pytest

from lamina.labs.depth import LECTURE_ACCURACY, _config, run
from lamina.train.presets import PRESETS


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return run(quick=True, out=str(tmp_path_factory.mktemp("depth")))


def test_three_networks_well_above_chance(report):
    rows = report.data["rows"]
    assert [r["sizes"] for r in rows] == ["64,30,10", "64,30,30,10", "64,30,30,30,10"]
    for row in rows:
        assert row["accuracy"] > 50.0  # chance is 10%
    assert len(report.tables[0].rows) == 3


def test_lecture_column_beside_ours(report):
    table = report.tables[0]
    column = next(i for i, c in enumerate(table.columns) if "lecture" in c and "Grohs" in c)
    assert [row[column] for row in table.rows] == ["94.84", "95.81", "95.07"]
    assert [LECTURE_ACCURACY[d] for d in (1, 2, 3)] == [94.84, 95.81, 95.07]


def test_report_says_which_data_was_used(report):
    assert report.data["dataset"] == "digits"
    assert any("data:" in note and "digits" in note and "not expected to be equal" in note
               for note in report.notes)


@pytest.mark.parametrize("depth, preset", [(1, "nielsen-30"), (2, "nielsen-30-30"),
                                           (3, "nielsen-30-30-30")])
def test_config_is_the_preset_with_only_the_data_changed(depth, preset):
    config = _config(depth, "digits", 2)
    expected = PRESETS[preset]["config"]
    for key in ("loss", "optimizer", "lr", "batch_size"):
        assert config[key] == expected[key]
    assert config["model"] == expected["model"].replace("784", "64")
    assert config["dataset"] == "digits" and config["epochs"] == 2
    assert _config(depth, "fashion-mnist", 2)["model"] == expected["model"]
