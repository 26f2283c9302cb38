"""What a lab hands back: titled tables of rows, notes, and the files it wrote."""
from __future__ import annotations

import contextlib
import dataclasses
import os

from ..train.plots import pyplot

__all__ = ["Table", "Report", "save_figure", "pyplot", "one_blas_thread"]


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.3e}"
    return str(value)


@dataclasses.dataclass
class Table:
    """A table with a title, column names and rows, printed as aligned Markdown."""

    title: str
    columns: list
    rows: list = dataclasses.field(default_factory=list)

    def add(self, *values) -> None:
        if len(values) != len(self.columns):
            raise ValueError(f"row {values} has {len(values)} cells, table {self.title!r} "
                             f"has {len(self.columns)} columns")
        self.rows.append([_cell(v) for v in values])

    def __str__(self) -> str:
        cells = [list(map(str, self.columns))] + self.rows
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.columns))]
        line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        return "\n".join([f"### {self.title}", "", line(cells[0]), rule] + [line(r) for r in self.rows])


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
        parts += self.notes
        parts += [f"wrote {path}" for path in self.files]
        return "\n\n".join(parts)


def save_figure(fig, out: str, name: str, report: Report) -> str | None:
    """Save a matplotlib figure as ``out/name`` atomically and record it in the report."""
    from ..atomic import atomic_path

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
