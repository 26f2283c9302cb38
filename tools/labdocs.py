"""What the documentation site and the notebooks say about each lab, taken from the lab itself.

A lab has one source: its module ``lamina/labs/<module>.py``. Its entry in
``lamina.labs.LABS`` gives the command-line name and the one-line description, its module
docstring the explanation (the lecture's claim and what the lab computes), and its
``run(quick, out)`` every table, note and picture. The site's lab pages
(``tools/docs_hooks.py``) and the notebooks (``tools/notebooks.py``) are both made from these
three things and nothing else, so neither can say something the lab does not.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import os
import re

__all__ = ["LabSource", "lab_sources", "intro_markdown", "report_markdown", "plain_roles",
           "PICTURE_SUFFIXES"]

PICTURE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif")


@dataclasses.dataclass(frozen=True)
class LabSource:
    """One lab as its module describes it."""

    name: str         # the command-line name: ``lamina lab <name>``
    module: str       # the module under lamina.labs
    description: str  # LABS's one-line description
    docstring: str    # the module docstring, dedented

    @property
    def path(self) -> str:
        """The lab's source file, relative to the repository root."""
        return f"lamina/labs/{self.module}.py"

    @property
    def slug(self) -> str:
        """The file name the lab's page and notebook share (``backprop-example``)."""
        return self.name


def lab_sources() -> list[LabSource]:
    """Every registered lab, in ``LABS`` order (the order of ``lamina lab --list``)."""
    from lamina.labs import LABS

    sources = []
    for name, (module, description) in LABS.items():
        mod = importlib.import_module(f"lamina.labs.{module}")
        sources.append(LabSource(name, module, description, inspect.cleandoc(mod.__doc__ or "")))
    return sources


_ROLE = re.compile(r":(?:py:)?(?:mod|class|func|meth|attr|data|exc|obj|ref|const):`(~?)([^`]+)`")


def plain_roles(text: str) -> str:
    """Sphinx roles as plain Markdown code: :class:`~a.b.C` -> `C`, :func:`a.b` -> `a.b`
    (Sphinx's ``~`` shows the last part only)."""
    def plain(match: re.Match) -> str:
        target = match.group(2)
        return f"`{target.rsplit('.', 1)[-1] if match.group(1) else target}`"

    return _ROLE.sub(plain, text)


def intro_markdown(source: LabSource) -> str:
    """The lab's description and docstring as Markdown: the docstring's indented formulas
    become code blocks, as they read in the source, and Sphinx roles (:func:`name`) plain
    code."""
    description = source.description[:1].upper() + source.description[1:]
    return f"*{description}.*\n\n{plain_roles(source.docstring)}\n"


def report_markdown(report, picture_prefix: str) -> str:
    """A lab's report as Markdown: its tables (already Markdown), its notes, and its pictures,
    embedded from ``picture_prefix/<file name>``; other files it wrote are linked."""
    parts = [str(table) for table in report.tables]
    parts += list(report.notes)
    pictures = [p for p in report.files if p.lower().endswith(PICTURE_SUFFIXES)]
    others = [p for p in report.files if p not in pictures]
    if pictures:
        parts.append("## Pictures")
        for path in pictures:
            name = os.path.basename(path)
            parts.append(f"![{name}]({picture_prefix}/{name})\n\n`{name}`")
    if others:
        links = ", ".join(f"[`{os.path.basename(p)}`]({picture_prefix}/{os.path.basename(p)})"
                          for p in others)
        parts.append(f"Also written: {links}.")
    return "\n\n".join(parts) + "\n"
