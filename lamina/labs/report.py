"""What a lab hands back: titled tables of rows, notes, and the files it wrote.

A report prints as Markdown (CommonMark with GitHub's tables): ``## lamina lab NAME``, then
each table under a ``###`` heading with a blank line before and after it, then the notes as
paragraphs. Cell text is escaped where Markdown would otherwise read it as markup, so every
cell renders as the text the lab put in it, while ordinary text (``W^1_11``, ``0.1 * 0.35``)
prints without backslashes.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import string

from ..atomic import atomic_path
from ..errors import LaminaValueError
from ..train.plots import pyplot

__all__ = ["Table", "Report", "save_figure", "pyplot", "one_blas_thread", "markdown_text"]


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.3e}"
    return str(value)


_PUNCTUATION = set(string.punctuation)
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]*);")


def _delimiter_runs(text: str, char: str) -> list[tuple[int, int]]:
    """(start, end) of every run of ``char`` in ``text``."""
    return [m.span() for m in re.finditer(re.escape(char) + "+", text)]


def _may_delimit(text: str, start: int, end: int, char: str) -> bool:
    """Whether the run text[start:end] of ``*`` or ``_`` could open or close emphasis: not
    when it stands between white space (or the cell's ends) on both sides, nor, for ``_``,
    between two letters or digits (CommonMark's intraword rule keeps ``W^1_11`` literal)."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if before.isspace() and after.isspace():
        return False
    return not (char == "_" and before.isalnum() and after.isalnum())


def markdown_text(text: str, heading: bool = False) -> str:
    """``text`` on one line, escaped so that Markdown shows it as it is inside a table cell
    (or, with ``heading``, an ATX heading).

    Always escaped: ``|`` (it would end the cell) and a backslash before punctuation (it
    would escape that). Escaped only where they could pair up into markup: ``*`` and ``_``
    runs (emphasis needs an opening and a closing run), backticks and tildes (code spans
    and strikethrough need two runs), ``[`` when a ``](`` follows (an inline link), ``<``
    before a letter, ``/``, ``!`` or ``?`` (HTML or an autolink), ``&`` starting an entity,
    and a heading's closing ``#`` run.
    """
    text = " ".join(str(text).split())
    escape = set()
    for i, c in enumerate(text):
        following = text[i + 1] if i + 1 < len(text) else ""
        if c == "|" or (c == "\\" and following in _PUNCTUATION):
            escape.add(i)
        elif c == "<" and following and (following.isalpha() or following in "/!?"):
            escape.add(i)
    escape |= {m.start() for m in _ENTITY.finditer(text)}
    for char in "*_":
        runs = [r for r in _delimiter_runs(text, char) if _may_delimit(text, *r, char)]
        if len(runs) >= 2:
            escape |= {i for start, end in runs for i in range(start, end)}
    for char in "`~":
        if len(_delimiter_runs(text, char)) >= 2:
            escape |= {i for i, c in enumerate(text) if c == char}
    if "](" in text:
        escape |= {i for i, c in enumerate(text) if c == "["}
    if heading:
        closing = re.search(r"(^|\s)(#+)$", text)
        if closing:
            escape.add(closing.start(2))
    return "".join("\\" + c if i in escape else c for i, c in enumerate(text))


@dataclasses.dataclass
class Table:
    """A table with a title, column names and rows, printed as aligned Markdown; ``notes``
    are paragraphs printed right under it (after a blank line)."""

    title: str
    columns: list
    rows: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.columns:
            raise LaminaValueError(f"table {self.title!r} has no columns; expected at least one")

    def add(self, *values) -> None:
        if len(values) != len(self.columns):
            raise LaminaValueError(f"row {values} has {len(values)} cells, table {self.title!r} "
                                   f"has {len(self.columns)} columns")
        self.rows.append([_cell(v) for v in values])

    def __str__(self) -> str:
        cells = [[markdown_text(c) for c in row] for row in [self.columns] + self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.columns))]
        line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        table = "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])
        return "\n\n".join([f"### {markdown_text(self.title, heading=True)}", table]
                            + [str(note).strip() for note in self.notes])


@dataclasses.dataclass
class Report:
    """A lab's result: tables, free-text notes, the paths of the files it wrote, and ``data``,
    the computed figures as plain Python values (what the tests check)."""

    name: str
    tables: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)
    files: list = dataclasses.field(default_factory=list)
    data: dict = dataclasses.field(default_factory=dict)  # the lab's figures, for tests and callers

    def pyplot(self):
        """matplotlib's pyplot for this lab's figures, or None (with a note in the report)
        when matplotlib is not installed: labs draw only when they can."""
        try:
            return pyplot()
        except ImportError:
            self.notes.append("matplotlib is not installed: no figure was drawn.")
            return None

    def table(self, title: str, columns: list) -> Table:
        t = Table(title, list(columns))
        self.tables.append(t)
        return t

    def __str__(self) -> str:
        parts = [f"## lamina lab {self.name}"] + [str(t) for t in self.tables]
        parts += [str(note).strip() for note in self.notes]
        parts += [f"wrote {path}" for path in self.files]
        return "\n\n".join(parts)


def save_figure(fig, out: str, name: str, report: Report) -> str | None:
    """Save a matplotlib figure as ``out/name`` atomically and record it in the report."""
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, name)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    import matplotlib.pyplot as plt

    plt.close(fig)
    report.files.append(path)
    return path


@contextlib.contextmanager
def one_blas_thread():
    """Limit BLAS to one thread while a lab trains, when threadpoolctl is installed. The labs'
    matrices are small, and on a loaded machine OpenBLAS's spinning worker threads made a quick
    lab run ten times slower (48 s instead of 5 s on 2 busy cores)."""
    try:
        from threadpoolctl import threadpool_limits  # optional dependency
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
