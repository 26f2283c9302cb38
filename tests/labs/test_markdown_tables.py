"""Every lab report is valid Markdown: tables whose cells render as the text the lab put in
them, a well-formed header rule, blank lines around each table, notes as their own paragraphs.

Two checks: a strict structural one (no parser needed) and, when markdown-it-py is installed
(a test extra), a parse with CommonMark plus GitHub's tables, comparing what renders with
what the lab wrote. :func:`check_report_markdown` runs both on a printed report; the labs'
own tests (and tests/labs/test_labs.py) can call it on any lab's output.
"""
import importlib.util
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lamina.labs.report import Report, Table, markdown_text

_DELIMITER_CELL = re.compile(r"^ ?:?-+:? ?$")


def _split_row(line: str) -> list[str]:
    """The cells of a table line, split at the pipes no backslash escapes."""
    assert line.startswith("| ") and line.endswith(" |"), line
    cells, cell, i = [], "", 1
    while i < len(line) - 1:
        if line[i] == "\\":
            cell += line[i:i + 2]
            i += 2
            continue
        if line[i] == "|":
            cells.append(cell)
            cell = ""
        else:
            cell += line[i]
        i += 1
    return cells + [cell]


def _normalised(text) -> str:
    return " ".join(str(text).split())


def structural_tables(text: str) -> list[dict]:
    """The tables of a printed report, checked line by line: a ``### `` heading, a blank line,
    a header row, a delimiter row with one ``---`` cell per column, rows with as many cells,
    and a blank line (or the end) after the last row."""
    lines = text.split("\n")
    tables = []
    for i, line in enumerate(lines):
        if not line.startswith("|"):
            continue
        if i > 0 and lines[i - 1].startswith("|"):
            continue  # inside a table already read
        assert i >= 2 and lines[i - 1] == "" and lines[i - 2].startswith("### "), \
            f"table at line {i + 1} does not follow a '### ' heading and a blank line"
        block = []
        for row in lines[i:]:
            if row == "":
                break
            assert row.startswith("| ") or (len(block) == 1 and row.startswith("|-")), \
                f"table at line {i + 1} glued to {row!r}"
            block.append(row)
        header, rule, body = _split_row(block[0]), block[1], [_split_row(r) for r in block[2:]]
        assert rule.startswith("|") and rule.endswith("|"), rule
        rule_cells = rule[1:-1].split("|")
        assert len(rule_cells) == len(header) and all(_DELIMITER_CELL.match(c) for c in rule_cells), rule
        assert all(len(r) == len(header) for r in body), block
        assert all(len(r) == len(block[0]) for r in block), "rows are not aligned"
        tables.append({"title": lines[i - 2][4:], "header": [c.strip() for c in header],
                       "rows": [[c.strip() for c in r] for r in body]})
    return tables


def _parser():
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _rendered(inline) -> str:
    """The text an inline token shows; fails on any markup (emphasis, code, links, HTML)."""
    kinds = {child.type for child in inline.children}
    assert kinds <= {"text"}, f"{inline.content!r} renders as markup: {sorted(kinds)}"
    return "".join(child.content for child in inline.children)


def parsed_tables(text: str) -> tuple[list[dict], list[str]]:
    """The tables (heading, header cells, body cells as rendered text) and the paragraphs of
    a printed report, from markdown-it's token stream."""
    tokens = _parser().parse(text)
    tables, paragraphs, heading, i = [], [], None, 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "heading_open" and token.tag == "h3":
            heading = _rendered(tokens[i + 1])
        elif token.type == "paragraph_open":
            paragraphs.append(tokens[i + 1].content)
        elif token.type == "table_open":
            table = {"title": heading, "header": [], "rows": []}
            section = None
            while tokens[i].type != "table_close":
                kind = tokens[i].type
                if kind in ("thead_open", "tbody_open"):
                    section = kind
                elif kind == "tr_open" and section == "tbody_open":
                    table["rows"].append([])
                elif kind == "inline":
                    cell = _rendered(tokens[i])
                    (table["header"] if section == "thead_open" else table["rows"][-1]).append(cell)
                i += 1
            tables.append(table)
        i += 1
    return tables, paragraphs


def check_report_markdown(report: Report, text: str | None = None) -> None:
    """The printed report has exactly ``report``'s tables, each cell rendering as its text,
    and each note as a paragraph of its own."""
    text = str(report) if text is None else text
    expected = [{"title": _normalised(t.title), "header": [_normalised(c) for c in t.columns],
                 "rows": [[_normalised(c) for c in r] for r in t.rows]} for t in report.tables]
    structural = structural_tables(text)
    assert len(structural) == len(expected)
    for found, table in zip(structural, expected):
        assert len(found["header"]) == len(table["header"])
        assert [len(r) for r in found["rows"]] == [len(r) for r in table["rows"]]
    if importlib.util.find_spec("markdown_it") is None:
        return
    tables, paragraphs = parsed_tables(text)
    assert tables == expected
    notes = [n for t in report.tables for n in t.notes] + list(report.notes)
    for note in notes:  # a note is its own paragraph(s), never a table row or a heading
        first = str(note).strip().split("\n\n")[0]
        assert first in paragraphs, f"note {first[:60]!r} is not a paragraph of its own"


# -- the printer on hostile cell text ---------------------------------------------------------

_ALPHABET = "ab1 _*`~<>&#;[]()!\\|-:/^{}=\n\té"
_text = st.text(alphabet=_ALPHABET, max_size=12)


@settings(max_examples=150, deadline=None)
@given(title=_text, columns=st.lists(_text, min_size=1, max_size=4), data=st.data())
def test_any_cell_text_renders_as_itself(title, columns, data):
    report = Report("markdown")
    table = report.table(title, columns)
    for _ in range(data.draw(st.integers(0, 3))):
        table.add(*data.draw(st.lists(_text, min_size=len(columns), max_size=len(columns))))
    report.notes.append("a note")
    check_report_markdown(report)


@pytest.mark.parametrize("text, printed", [
    ("W^1_11", "W^1_11"),                 # intraword underscores stay literal
    ("x^{l-1}_j", "x^{l-1}_j"),           # one underscore run cannot pair up
    ("0.1 * 0.35 + 0.9 * 0.8", "0.1 * 0.35 + 0.9 * 0.8"),
    ("a | b", "a \\| b"),
    ("2*3*4", "2\\*3\\*4"),
    ("_x_", "\\_x\\_"),
    ("`code`", "\\`code\\`"),
    ("<b>", "\\<b>"),
    ("< 0.5", "< 0.5"),
    ("&amp;", "\\&amp;"),
    ("[a](b)", "\\[a](b)"),
    ("[0.1, 0.2]", "[0.1, 0.2]"),
    ("C:\\dir", "C:\\dir"),
    ("a\\|b", "a\\\\\\|b"),
    ("two\nlines", "two lines"),
])
def test_escaping_is_only_where_markdown_would_read_markup(text, printed):
    assert markdown_text(text) == printed


def test_heading_keeps_a_trailing_hash():
    assert markdown_text("issue #", heading=True) == "issue \\#"
    assert markdown_text("C#", heading=True) == "C#"


def test_structural_check_catches_a_glued_note_and_a_bad_rule():
    table = Table("t", ["a", "b"])
    table.add("1", "2")
    good = f"{table}\n\na note"
    assert len(structural_tables(good)) == 1
    with pytest.raises(AssertionError):
        structural_tables(f"{table}\na note")
    with pytest.raises(AssertionError):
        structural_tables(str(table).replace("|---", "|   ", 1))
    with pytest.raises(AssertionError):
        structural_tables(str(table).replace("| 1 ", "| 1 | 3 "))


def test_table_notes_print_under_their_table():
    report = Report("notes")
    first = report.table("first", ["x"])
    first.add(1.0)
    first.notes.append("about the first table")
    report.table("second", ["y"]).add(2.0)
    text = str(report)
    assert text.index("about the first table") < text.index("### second")
    check_report_markdown(report, text)


def test_a_table_needs_columns_and_full_rows():
    from lamina.errors import LaminaValueError

    with pytest.raises(LaminaValueError, match="no columns"):
        Table("empty", [])
    with pytest.raises(LaminaValueError, match="2 columns"):
        Table("t", ["a", "b"]).add(1)


# -- real labs (the cheap ones; tests/labs/test_labs.py runs them all) -------------------------

@pytest.mark.parametrize("name", ["backprop-example", "logic", "graph"])
def test_lab_reports_are_valid_markdown(name, tmp_path):
    from lamina.labs import run_lab

    check_report_markdown(run_lab(name, quick=True, out=str(tmp_path)))
