"""The labs' notebooks: generated from the labs (tools/notebooks.py), never out of date, and
running them shows what the lab computes.

Regenerating every notebook and comparing it with the committed file catches a lab whose
docstring, description, module or name changed without its notebook. A few notebooks are
executed with nbclient on their default ``--quick`` settings (the lab suite runs every lab
already; these check that the notebook's own cells work and show the lab's tables and
pictures); ``LAMINA_ALL_NOTEBOOKS=1`` executes all of them.
"""
from __future__ import annotations

import json
import os

import pytest

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")

from tools import notebooks  # noqa: E402
from tools.labdocs import lab_sources  # noqa: E402

from lamina.labs import LABS  # noqa: E402

# quick, deterministic, and between them: tables only, pictures, and a non-picture file
EXECUTED = ["backprop-example", "graph", "block-coordinate-descent"]
if os.environ.get("LAMINA_ALL_NOTEBOOKS") == "1":
    EXECUTED = list(LABS)


def test_committed_notebooks_are_what_the_labs_generate():
    problems = notebooks.stale_notebooks()
    assert not problems, ("notebooks/ is out of date; run `python tools/notebooks.py`:\n"
                          + "\n".join(problems))


def test_every_lab_has_exactly_one_notebook():
    names = sorted(p.stem for p in notebooks.NOTEBOOK_DIR.glob("*.ipynb"))
    assert names == sorted(LABS)


def test_the_check_sees_a_changed_missing_or_extra_notebook(tmp_path):
    written = notebooks.write_notebooks(tmp_path)
    assert notebooks.stale_notebooks(tmp_path) == []
    assert notebooks.main(["--check", "--out", str(tmp_path)]) == 0
    edited = json.loads(written[0].read_text())
    edited["cells"][0]["source"].append("\nA sentence the lab does not say.")
    written[0].write_text(json.dumps(edited))
    written[1].unlink()
    (tmp_path / "no-such-lab.ipynb").write_text(written[2].read_text())
    assert notebooks.stale_notebooks(tmp_path) == [
        f"{written[0].name}: differs from what its lab generates",
        f"{written[1].name}: missing", "no-such-lab.ipynb: no lab of that name"]
    assert notebooks.main(["--check", "--out", str(tmp_path)]) == 1


def test_a_notebook_is_jupytexts_reading_of_the_percent_script_from_the_lab():
    source = lab_sources()[0]
    script = notebooks.percent_script(source)
    nb = nbformat.reads(notebooks.notebook_text(source), as_version=4)
    again = jupytext.reads(script, fmt="py:percent")
    assert [(c.cell_type, c.source) for c in nb.cells] == [(c.cell_type, c.source) for c in again.cells]
    text = nb.cells[0].source
    assert source.docstring.split("\n")[0] in text and source.path in text
    assert f"from lamina.labs import {source.module}" in "".join(c.source for c in nb.cells)
    parameters = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1 and "QUICK = True" in parameters[0].source
    assert all(c.outputs == [] for c in nb.cells if c.cell_type == "code")


def test_a_changed_docstring_changes_the_notebook(monkeypatch):
    import dataclasses

    source = lab_sources()[0]
    changed = dataclasses.replace(source, docstring=source.docstring + "\n\nOne more claim.")
    assert notebooks.notebook_text(changed) != notebooks.notebook_text(source)
    assert "One more claim." in notebooks.notebook_text(changed)


def _kernel_or_skip():
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        pytest.skip("no python3 Jupyter kernel installed")


def _outputs(nb, kind: str) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if kind in o.get("data", {})]


@pytest.mark.parametrize("name", EXECUTED)
def test_notebook_runs_and_shows_the_labs_report(name, tmp_path):
    _kernel_or_skip()
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    from lamina.labs import run_lab

    nb = nbformat.read(notebooks.NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    env = dict(os.environ, MPLBACKEND="Agg")
    kernel = KernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "kernel"))
    NotebookClient(nb, km=kernel, timeout=180,
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors

    report = run_lab(name, quick=True, out=str(tmp_path / "here"))  # the same lab, run here
    shown = ["".join(o["data"]["text/markdown"]) for o in _outputs(nb, "text/markdown")]
    tables = [str(t) for t in report.tables]
    assert shown[:len(tables)] == tables  # notes follow; they may name times and folders
    assert len(shown) == len(tables) + len(report.notes)
    pictures = [f for f in report.files if f.endswith(".png")]
    assert len(_outputs(nb, "image/png")) == len(pictures)
    for path in pictures:  # the notebook wrote the same pictures into its OUT folder
        written = tmp_path / f"lab-{name}" / os.path.basename(path)
        assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    listed = "".join(o.get("data", {}).get("text/plain", "") for c in nb.cells[-1:]
                     for o in c.outputs)
    assert all(repr(key) in listed for key in report.data)
