"""Every lab runs with --quick, prints its table(s) and writes exactly the files it promises.

``PROMISED`` lists, per lab, the files ``lamina lab NAME --quick`` writes into ``--out``
(every ``wrote`` line it prints): the pictures are PNGs, drawn with matplotlib. A lab that
stops writing a picture, starts writing an unlisted one, or writes an empty or broken file
fails here; a new lab fails until it is listed. The graph lab runs as on a machine without
Graphviz (with Graphviz, ``dot`` draws graph.png and matplotlib graph_values.png).
"""
import contextlib
import importlib.util
import io
import os

import pytest

from lamina.cli import main
from lamina.labs import LABS

PROMISED = {
    "backprop-example": (),
    "logic": (),
    "universal-approximation": ("universal_approximation.png",),
    "decision-boundaries": ("decision_boundaries.png",),
    "gd-vs-sgd": ("gd_vs_sgd.png",),
    "depth": ("depth.png",),
    "vanishing-gradients": ("gradient_norms.png",),
    "regularization": ("weights.png",),
    "initialization": ("layers.png",),
    "optimizers": ("loss_curves.png",),
    "cnn-filters": ("vertical_edge.png", "filters.png", "feature_maps.png"),
    "graph": ("graph.dot", "graph.png"),
    "margins": ("smoothing.png", "margins.png"),
    "block-coordinate-descent": ("bcd.png",),
    "classic-rules": ("hebb.png", "lms.png", "rbf.png", "memory.png"),
    "autoencoder": ("reconstructions.png", "code_space.png"),
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


@pytest.fixture(scope="module", params=list(LABS))
def lab(request, tmp_path_factory):
    """(name, out directory, printed text) of one ``lamina lab NAME --quick`` run."""
    name = request.param
    out = tmp_path_factory.mktemp("labs") / name
    text = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(text):
        if name == "graph":  # as on a machine without Graphviz
            patch.setenv("PATH", str(tmp_path_factory.mktemp("empty_path")))
        assert main(["lab", name, "--quick", "--out", str(out)]) == 0
    return name, out, text.getvalue()


def test_every_lab_lists_the_files_it_promises():
    assert sorted(PROMISED) == sorted(LABS)


def test_lab_runs_quick_and_prints_a_table(lab):
    name, _, text = lab
    assert f"## lamina lab {name}" in text
    assert "### " in text and "|---" in text  # at least one table with a header rule
    table_rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table_rows) >= 3  # a header and at least two rows
    from .test_markdown_tables import parsed_tables, structural_tables

    structural_tables(text)  # every table well formed, as Markdown
    if importlib.util.find_spec("markdown_it") is not None:
        parsed_tables(text)  # and rendered by a Markdown parser cell for cell


@pytest.mark.skipif(not HAVE_MATPLOTLIB, reason="matplotlib is not installed: the labs draw no pictures")
def test_lab_writes_exactly_the_files_it_promises(lab):
    name, out, text = lab
    wrote = [line[len("wrote "):] for line in text.splitlines() if line.startswith("wrote ")]
    assert sorted(os.path.relpath(path, out) for path in wrote) == sorted(PROMISED[name])
    for file in PROMISED[name]:
        path = out / file
        assert path.is_file(), f"{name} promised {file}"
        data = path.read_bytes()
        assert data, f"{name} wrote an empty {file}"
        if file.endswith(".png"):
            assert data.startswith(PNG_SIGNATURE), f"{name}'s {file} is not a PNG"
        else:
            assert data.startswith(b"digraph"), f"{name}'s {file} is not a DOT graph"
    assert sorted(os.listdir(out) if out.exists() else []) == sorted(PROMISED[name])


def test_unknown_lab_is_a_one_line_error(capsys):
    assert main(["lab", "no-such-lab"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no-such-lab" in err[0]


def test_lab_list_names_every_lab(capsys):
    assert main(["lab", "--list"]) == 0
    listing = capsys.readouterr().out
    for name in LABS:
        assert name in listing
