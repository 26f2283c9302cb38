"""Write every lab as a Jupyter notebook: ``python tools/notebooks.py [--check] [--out DIR]``.

One source: a lab *is* its module ``lamina/labs/<module>.py``. The notebook holds no text or
code of its own: a fixed template, filled in from the module (its ``LABS`` description and
docstring, see ``tools/labdocs.py``), is written as a jupytext percent-format script and
converted by jupytext into ``notebooks/<name>.ipynb``, without outputs. Running the notebook
calls ``run(quick=QUICK)`` of the lab and shows the report's tables, notes and pictures, so
what the notebook computes is what ``lamina lab <name>`` computes. Edit the lab, then run this
script; ``--check`` (what ``tests/docs/test_notebooks.py`` does) fails when a committed
notebook differs from the one the lab makes now.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from tools.labdocs import LabSource, intro_markdown, lab_sources  # noqa: E402

__all__ = ["percent_script", "notebook_text", "write_notebooks", "stale_notebooks", "main"]

NOTEBOOK_DIR = ROOT / "notebooks"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def _comment(text: str) -> str:
    """Text as the comment lines of a percent-format Markdown cell."""
    return "\n".join(f"# {line}" if line else "#" for line in text.rstrip("\n").split("\n"))


def percent_script(source: LabSource) -> str:
    """The lab's notebook as a jupytext percent-format script."""
    intro = (f"# lamina lab `{source.name}`\n\n{intro_markdown(source)}\n"
             f"This notebook is generated from `{source.path}` by `python tools/notebooks.py`: "
             "edit the lab, not the notebook.")
    return f'''# %% [markdown]
{_comment(intro)}

# %% tags=["parameters"]
QUICK = True  # the small settings of `lamina lab {source.name} --quick`; False: the full run
OUT = "lab-{source.name}"  # where the pictures go

# %%
from IPython.display import Image, Markdown, display

from lamina.labs import {source.module}

report = {source.module}.run(quick=QUICK, out=OUT)

# %% [markdown]
# The tables and notes the lab prints:

# %%
for table in report.tables:
    display(Markdown(str(table)))
for note in report.notes:
    display(Markdown(note))

# %% [markdown]
# The pictures it wrote (to `OUT`):

# %%
for path in report.files:
    if path.endswith(".png"):
        display(Image(filename=path))
    else:
        print("also wrote", path)

# %% [markdown]
# `report.data` holds the computed figures as plain Python values (what the tests check):

# %%
sorted(report.data)
'''


def notebook_text(source: LabSource) -> str:
    """The ``.ipynb`` text of the lab's notebook: jupytext's conversion of
    ``percent_script``, with fixed cell ids and metadata so that it is the same every time."""
    import jupytext
    import nbformat

    nb = jupytext.reads(percent_script(source), fmt="py:percent")
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC,
                                      "language_info": {"name": "python"}})
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{source.slug}-{i}"
        cell.metadata.pop("lines_to_next_cell", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def write_notebooks(out: Path = NOTEBOOK_DIR) -> list[Path]:
    """Write every lab's notebook into ``out``; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for source in lab_sources():
        path = out / f"{source.slug}.ipynb"
        path.write_text(notebook_text(source), encoding="utf-8")
        written.append(path)
    return written


def stale_notebooks(out: Path = NOTEBOOK_DIR) -> list[str]:
    """What differs between ``out`` and the notebooks the labs make now: missing, changed,
    and notebooks of labs that no longer exist."""
    expected = {f"{s.slug}.ipynb": notebook_text(s) for s in lab_sources()}
    problems = []
    for name, text in expected.items():
        path = out / name
        if not path.exists():
            problems.append(f"{name}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{name}: differs from what its lab generates")
    problems += [f"{p.name}: no lab of that name" for p in sorted(out.glob("*.ipynb"))
                 if p.name not in expected]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a notebook is stale (default: write them)")
    parser.add_argument("--out", type=Path, default=NOTEBOOK_DIR,
                        help=f"the notebooks' folder (default: {NOTEBOOK_DIR.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale_notebooks(args.out)
        for problem in problems:
            print(problem)
        if problems:
            print("run: python tools/notebooks.py", file=sys.stderr)
        return 1 if problems else 0
    for path in write_notebooks(args.out):
        print("wrote", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
