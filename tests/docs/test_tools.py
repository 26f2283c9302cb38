"""The helpers that turn lamina's docstrings and labs into pages (tools/)."""
from __future__ import annotations

import pytest

from lamina.labs import LABS, Report
from tools.labdocs import intro_markdown, lab_sources, plain_roles, report_markdown


def test_plain_roles():
    text = "See :class:`~lamina.data.loader.DataLoader`, :func:`lamina.autograd.to_dot` and :mod:`.functional`."
    assert plain_roles(text) == "See `DataLoader`, `lamina.autograd.to_dot` and `.functional`."
    assert plain_roles("no roles, a `code` span and a:colon") == "no roles, a `code` span and a:colon"


def test_fence_examples_wraps_each_example_at_its_indentation():
    griffe_docstrings = pytest.importorskip("tools.griffe_docstrings")
    text = ("Text.\n\n>>> x = 1\n>>> x + 1\n2\n\nMore.\n\nExamples:\n    >>> [1][0]\n    1\n"
            "```\n>>> already fenced\n```")
    assert griffe_docstrings.fence_examples(text) == (
        "Text.\n\n```pycon\n>>> x = 1\n>>> x + 1\n2\n```\n\nMore.\n\nExamples:\n"
        "    ```pycon\n    >>> [1][0]\n    1\n    ```\n```\n>>> already fenced\n```")


def test_lab_sources_follow_labs():
    sources = lab_sources()
    assert [s.name for s in sources] == list(LABS)
    for source in sources:
        assert source.module == LABS[source.name][0] and source.docstring
        assert source.description == LABS[source.name][1]


def test_intro_is_the_description_and_the_docstring():
    source = lab_sources()[0]
    intro = intro_markdown(source)
    assert intro.startswith(f"*{source.description[0].upper()}")
    assert plain_roles(source.docstring) in intro and ":func:`" not in intro


def test_report_markdown_embeds_pictures_and_links_other_files():
    report = Report("x")
    report.table("A title", ["a", "b"]).add(1, 2.5)
    report.notes.append("A note.")
    report.files += ["/tmp/out/one.png", "/tmp/out/graph.dot"]
    text = report_markdown(report, "x")
    assert str(report.tables[0]) in text and "A note." in text
    assert "![one.png](x/one.png)" in text and "[`graph.dot`](x/graph.dot)" in text
    assert text.index("A title") < text.index("A note.") < text.index("one.png")
