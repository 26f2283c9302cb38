"""The depth lab: Grohs's three sigmoid networks through lamina's nielsen-30* presets, as
distributions over seeds rather than single runs."""
import os
import statistics

import pytest

from lamina.labs.depth import (LECTURE_ACCURACY, LOST_CLASS_RECALL, QUICK_EPOCHS,
                               QUICK_TRAIN_SIZE, STUCK_BELOW, _config, _train_one, run,
                               summarise)
from lamina.train.presets import PRESETS


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return run(quick=True, out=str(tmp_path_factory.mktemp("depth")))


def test_three_networks_five_seeds_each_well_above_chance(report):
    rows = report.data["rows"]
    assert [r["sizes"] for r in rows] == ["64,30,10", "64,30,30,10", "64,30,30,30,10"]
    seeds = report.data["seeds"]
    assert len(seeds) >= 5 and len(set(seeds)) == len(seeds)
    for row in rows:
        assert len(row["accuracies"]) == len(report.data["seeds"])
        assert len(set(row["accuracies"])) > 1  # the seeds really differ
        assert row["mean"] > 50.0  # chance is 10%
        assert row["train_size"] == QUICK_TRAIN_SIZE and row["test_size"] == 360
        assert all(len(curve) == QUICK_EPOCHS for curve in row["curves"])


def test_summary_is_computed_from_the_runs(report):
    for row in report.data["rows"]:
        acc = row["accuracies"]
        assert row["mean"] == pytest.approx(statistics.fmean(acc))
        assert row["std"] == pytest.approx(statistics.stdev(acc))
        assert (row["min"], row["max"]) == (min(acc), max(acc))
        assert row["stuck"] == sum(a < STUCK_BELOW for a in acc)
        assert row["lost_class_runs"] == sum(bool(lost) for lost in row["lost_classes"])
    table = report.tables[0]
    mean_col = next(i for i, c in enumerate(table.columns) if "mean" in c)
    assert [float(r[mean_col]) for r in table.rows] == pytest.approx(
        [r["mean"] for r in report.data["rows"]], abs=0.01)


def test_summarise_counts_stuck_and_lost_class_runs():
    s = summarise([11.0, 95.0, 85.0, 19.9, 20.0], [[0, 1, 2], [], [7], [], []])
    assert s["stuck"] == 2 and s["lost_class_runs"] == 2
    assert s["min"] == 11.0 and s["max"] == 95.0


def test_a_run_is_reproducible_from_its_seed(report):
    row = report.data["rows"][0]
    seed = report.data["seeds"][1]
    again = _train_one(_config(1, "digits", QUICK_EPOCHS, seed, QUICK_TRAIN_SIZE))
    assert again["accuracy"] == row["accuracies"][1]
    assert again["curve"] == row["curves"][1]


def test_lecture_column_beside_ours(report):
    table = report.tables[0]
    column = next(i for i, c in enumerate(table.columns) if "lecture" in c and "Grohs" in c)
    assert [row[column] for row in table.rows] == ["94.84", "95.81", "95.07"]
    assert [LECTURE_ACCURACY[d] for d in (1, 2, 3)] == [94.84, 95.81, 95.07]
    per_seed = report.tables[1]
    assert per_seed.columns[1:] == [f"seed {s}" for s in report.data["seeds"]]


def test_notes_define_stuck_and_refuse_single_seed_findings(report):
    notes = " ".join(report.notes)
    assert f"below {STUCK_BELOW:g}%" in notes and f"below {LOST_CLASS_RECALL:g}" in notes
    assert "Single seeds are not findings" in notes
    low = min(a for r in report.data["rows"] for a in r["accuracies"])
    assert f"{low:.2f}%" in notes  # the lowest single run is named as a draw, not a result
    assert any("data:" in note and "digits" in note and "not expected to be equal" in note
               for note in report.notes)
    assert report.data["dataset"] == "digits"


def test_the_picture_is_written(report):
    assert [os.path.basename(f) for f in report.files] == ["depth.png"]
    assert all(os.path.getsize(f) > 0 for f in report.files)


@pytest.mark.parametrize("depth, preset", [(1, "nielsen-30"), (2, "nielsen-30-30"),
                                           (3, "nielsen-30-30-30")])
def test_config_is_the_preset_with_only_the_data_and_seed_changed(depth, preset):
    config = _config(depth, "digits", 2, seed=3)
    expected = PRESETS[preset]["config"]
    for key in ("loss", "optimizer", "lr", "batch_size"):
        assert config[key] == expected[key]
    assert config["model"] == expected["model"].replace("784", "64")
    assert config["dataset"] == "digits" and config["epochs"] == 2 and config["seed"] == 3
    assert _config(depth, "fashion-mnist", 2)["model"] == expected["model"]
