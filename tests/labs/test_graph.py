"""The graph lab: DOT text of a 2-layer MLP with its loss, nodes in topological order."""
import os
import stat

import pytest

from lamina.labs.graph import run


def test_nodes_in_topological_order_with_shapes(tmp_path):
    report = run(quick=True, out=str(tmp_path))
    rows = report.tables[0].rows
    assert [r[1] for r in rows] == ["AddmmBackward0", "SigmoidBackward0", "AddmmBackward0",
                                    "MseLossBackward0"]
    assert [r[2] for r in rows] == ["(4, 3)", "(4, 3)", "(4, 1)", "()"]
    assert rows[0][3] == "data (4, 2), fc1.weight (3, 2), fc1.bias (3,)"
    assert rows[2][3] == "#2, fc2.weight (1, 3), fc2.bias (1,)"
    assert rows[3][3] == "#3, data (4, 1)"


def test_dot_file_names_the_parameters(tmp_path):
    report = run(quick=True, out=str(tmp_path))
    path = tmp_path / "graph.dot"
    assert str(path) in report.files
    dot = path.read_text()
    assert dot.startswith("digraph lamina {") and dot.rstrip().endswith("}")
    for name in ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "loss", "MseLossBackward0"):
        assert name in dot
    assert dot.count("->") == 8  # 4 parameter edges + 3 operation edges + loss node


def test_renders_png_with_dot_or_says_why_not(tmp_path, monkeypatch):
    # A stand-in for Graphviz's dot that writes a non-empty file at -o's argument.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text('#!/bin/sh\nwhile [ "$1" != "-o" ]; do shift; done\nprintf PNG > "$2"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    report = run(quick=True, out=str(tmp_path / "with"))
    assert report.data["rendered"] and str(tmp_path / "with" / "graph.png") in report.files

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    report = run(quick=True, out=str(tmp_path / "without"))
    assert not report.data["rendered"]
    assert any("not installed" in note for note in report.notes)
    assert not (tmp_path / "without" / "graph.png").exists()


@pytest.mark.parametrize("quick", [True, False])
def test_quick_and_full_agree(tmp_path, quick):
    assert len(run(quick=quick, out=str(tmp_path)).tables[0].rows) == 4


def test_failing_dot_leaves_no_png(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text("#!/bin/sh\necho 'syntax error' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    report = run(quick=True, out=str(tmp_path / "out"))
    assert not report.data["rendered"]
    assert any("syntax error" in note for note in report.notes)
    assert sorted(os.listdir(tmp_path / "out")) == ["graph.dot"]
