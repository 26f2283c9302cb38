"""A griffe extension (named in mkdocs.yml) that reads lamina's docstrings as they are written.

lamina's docstrings are plain prose with two habits of the standard library's: interactive
examples (``>>>`` lines and their output) and Sphinx roles (:class:`Tensor`). Markdown would
turn the first into nested block quotes (and ``[[0, 1], [2, 3]]`` into a broken link) and
print the second literally, so before mkdocstrings renders a docstring this extension fences
each example as a ``pycon`` code block and turns each role into plain code. The docstrings
themselves stay as they are (``help()`` and doctest read them unchanged).
"""
from __future__ import annotations

import inspect
import re

import griffe

from tools.labdocs import plain_roles

__all__ = ["LaminaDocstrings", "fence_examples", "plain_roles"]

_PROMPT = re.compile(r"^(\s*)>>>( |$)")


def fence_examples(text: str) -> str:
    """Wrap every interactive example (a ``>>>`` line, the lines after it up to a blank line
    or a line indented less) in a fenced ``pycon`` block at the example's indentation."""
    lines, out, i = text.split("\n"), [], 0
    in_fence = False
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else _PROMPT.match(line)
        if match is None:
            out.append(line)
            i += 1
            continue
        indent = match.group(1)
        block = []
        while i < len(lines) and lines[i].strip() and lines[i].startswith(indent):
            block.append(lines[i][len(indent):])
            i += 1
        out += [f"{indent}```pycon"] + [indent + b for b in block] + [f"{indent}```"]
    return "\n".join(out)


class LaminaDocstrings(griffe.Extension):
    """Fence the examples and plain the roles of every docstring griffe loads; drop the
    docstring an attribute only has because its value's class has one (``lamina.float32``
    would otherwise show NumPy's text about dtype classes, ``SUBPACKAGES`` the tuple's)."""

    def on_attribute_instance(self, *, node, attr, agent, **kwargs) -> None:
        value = getattr(node, "obj", None)
        if attr.docstring is not None and value is not None:
            own = inspect.getdoc(type(value))
            if own and inspect.cleandoc(attr.docstring.value) == own:
                attr.docstring = None

    def on_object(self, *, obj, loader, **kwargs) -> None:
        _rewrite(obj)

    def on_package(self, *, pkg, loader, **kwargs) -> None:
        _rewrite(pkg)  # on_object is not called for the package itself


def _rewrite(obj) -> None:
    if obj.docstring is not None and not obj.is_alias:
        obj.docstring.value = fence_examples(plain_roles(obj.docstring.value))
