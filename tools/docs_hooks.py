"""mkdocs hooks for lamina's site (named in mkdocs.yml): one page per lab, made while the site
is built.

Every lab in ``lamina.labs.LABS`` gets a page ``labs/<name>.html``: its description and
module docstring, then the tables, notes and pictures of ``run(quick=True)``, run now, into a
temporary folder whose pictures are added to the site (nothing is written into docs/ and no
picture is committed). ``labs/index.html`` lists them, and the Labs section of the navigation
is filled in from the same list, so a new lab appears without editing mkdocs.yml.

Environment:
    LAMINA_DOCS_LABS   which labs to run: ``all`` (the default), ``none``, or names separated
                       by commas; a lab not run still gets its page, saying so. ``none``
                       makes ``mkdocs serve`` rebuild in seconds.
    LAMINA_DOCS_FULL   ``1`` runs the labs with their full settings instead of ``--quick``
                       (many minutes).
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.labdocs import LabSource, intro_markdown, lab_sources, report_markdown  # noqa: E402

log = logging.getLogger("mkdocs.hooks.lamina")

_state: dict = {}


def selected_labs(names: list[str]) -> list[str]:
    """The labs LAMINA_DOCS_LABS asks to run, in ``names`` order."""
    wanted = os.environ.get("LAMINA_DOCS_LABS", "all").strip()
    if wanted in ("", "all"):
        return list(names)
    if wanted == "none":
        return []
    chosen = [w.strip() for w in wanted.split(",") if w.strip()]
    unknown = [w for w in chosen if w not in names]
    if unknown:
        raise ValueError(f"LAMINA_DOCS_LABS names unknown labs {unknown}; known: {', '.join(names)}")
    return [n for n in names if n in chosen]


def on_config(config):
    sources = lab_sources()
    _state["sources"] = sources
    for item in config["nav"] or []:
        if isinstance(item, dict) and "Labs" in item:
            item["Labs"] = [{"All labs": "labs/index.md"}] + [{s.name: f"labs/{s.slug}.md"}
                                                             for s in sources]
    return config


def _lab_page(source: LabSource, body: str | None, quick: bool, notebook: bool) -> str:
    flag = " --quick" if quick else ""
    settings = "the small settings used on this page" if quick else "small settings"
    run_it = [f"`lamina lab {source.name}` prints these tables and writes the pictures to "
              f"`lab-{source.name}/` (`--quick` for {settings}).",
              f"From Python: `lamina.labs.{source.module}.run(quick={quick})` returns the report "
              "(its tables, notes, files, and the computed figures in `report.data`)."]
    if notebook:
        run_it.append(f"As a notebook: [`notebooks/{source.slug}.ipynb`](../notebooks/"
                      f"{source.slug}.ipynb), generated from the same module.")
    run_it.append(f"Source: `{source.path}`.")
    lines = [f"# {source.name}", "", intro_markdown(source), '!!! tip "Run it"']
    lines += [f"    {line}" for line in " ".join(run_it).split("\n")]
    lines += ["", "## Results", ""]
    if body is None:
        lines += ["!!! note", f"    This build of the site did not run the lab "
                  f"(`LAMINA_DOCS_LABS`); `lamina lab {source.name}{flag}` prints its results."]
    else:
        lines += [f"*Computed by `lamina lab {source.name}{flag}` when this site was built.*",
                  "", body]
    return "\n".join(lines) + "\n"


def _index_page(sources: list[LabSource], ran: set) -> str:
    rows = ["| Lab | What it computes |", "|---|---|"]
    for s in sources:
        description = s.description.replace("|", "\\|")  # a table cell
        rows.append(f"| [{s.name}]({s.slug}.md) | {description} |")
    return "\n".join([
        "# Labs", "",
        "The lectures as experiments: each lab computes what a lecture claims and prints the "
        "lecture's figure beside lamina's where the lecture has one. `lamina lab --list` lists "
        "them, `lamina lab NAME [--quick] [--out DIR]` runs one; every lab is also a Jupyter "
        "notebook (see [Notebooks](../notebooks.md)).", "",
        f"The pages below were computed with `--quick` while this site was built "
        f"({len(ran)} of {len(sources)} labs run).", ""] + rows) + "\n"


def on_files(files, config):
    from mkdocs.structure.files import File

    from lamina.labs import run_lab

    sources = _state["sources"]
    quick = os.environ.get("LAMINA_DOCS_FULL", "") != "1"
    chosen = set(selected_labs([s.name for s in sources]))
    out_root = Path(tempfile.mkdtemp(prefix="lamina-docs-labs-"))
    _state["out_root"] = out_root
    for source in sources:
        body = None
        if source.name in chosen:
            out = out_root / source.slug
            start = time.perf_counter()
            report = run_lab(source.name, quick=quick, out=str(out))
            log.info("lab %s: %.1f s, %d files", source.name, time.perf_counter() - start,
                     len(report.files))
            body = report_markdown(report, source.slug)
            for path in report.files:
                uri = f"labs/{source.slug}/{os.path.basename(path)}"
                files.append(File.generated(config, uri, abs_src_path=str(path)))
        notebook = ROOT / "notebooks" / f"{source.slug}.ipynb"
        if notebook.exists():
            files.append(File.generated(config, f"notebooks/{notebook.name}",
                                        abs_src_path=str(notebook)))
        page = _lab_page(source, body, quick, notebook.exists())
        files.append(File.generated(config, f"labs/{source.slug}.md", content=page))
    files.append(File.generated(config, "labs/index.md", content=_index_page(sources, chosen)))
    return files


def on_post_build(config):
    out_root = _state.pop("out_root", None)
    if out_root is not None:
        shutil.rmtree(out_root, ignore_errors=True)
