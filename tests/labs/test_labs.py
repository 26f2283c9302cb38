"""Every lab runs with --quick, prints its table(s) and writes the pictures it promises."""
import os

import pytest

from lamina.cli import main
from lamina.labs import LABS


@pytest.mark.parametrize("name", list(LABS))
def test_lab_runs_quick_and_prints_a_table(name, tmp_path, capsys):
    out = tmp_path / name
    assert main(["lab", name, "--quick", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"## lamina lab {name}" in text
    assert "### " in text and "|---" in text  # at least one table with a header rule
    table_rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table_rows) >= 3  # a header and at least two rows
    for line in text.splitlines():
        if line.startswith("wrote "):
            path = line[len("wrote "):]
            assert os.path.getsize(path) > 0, path


def test_unknown_lab_is_a_one_line_error(capsys):
    assert main(["lab", "no-such-lab"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no-such-lab" in err[0]


def test_lab_list_names_every_lab(capsys):
    assert main(["lab", "--list"]) == 0
    listing = capsys.readouterr().out
    for name in LABS:
        assert name in listing
