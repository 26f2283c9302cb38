"""The code blocks of the documentation, as a reader sees them: README.md and docs/**/*.md.

``python`` blocks are programs: the blocks of one page run in order in one namespace, as a
reader typing them into one session would. Other blocks are shell commands (or their output);
:func:`commands` picks out the command lines that can be checked without running them.
"""
from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)")


@dataclasses.dataclass(frozen=True)
class Block:
    path: str   # relative to the repository root
    line: int   # the line of the opening fence (1-based)
    lang: str   # the fence's language ("" when none)
    code: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


def pages() -> list[str]:
    """The Markdown files a reader meets: the README and everything under docs/."""
    found = ["README.md"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md"))
    return [p for p in found if (ROOT / p).exists()]


def blocks(path: str) -> list[Block]:
    """The fenced code blocks of one Markdown file."""
    lines = (ROOT / path).read_text(encoding="utf-8").split("\n")
    found, i = [], 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence = match.group("indent"), match.group("fence")
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        body = [line[len(indent):] if line.startswith(indent) else line.lstrip()
                for line in lines[i + 1:j]]
        found.append(Block(path, i + 1, match.group("lang").lower(), "\n".join(body)))
        i = j + 1
    return found


def python_blocks(path: str) -> list[Block]:
    return [b for b in blocks(path) if b.lang in ("python", "py")]


def commands(block: Block) -> list[list[str]]:
    """The command lines of a shell block, each split into words: continuation lines joined,
    comments and ``#!``/``#SBATCH`` lines dropped, ``a && b`` split in two. Lines that are
    output rather than commands (a profile, a table) come back too; callers keep the ones
    they know (``lamina``, ``pip install``, ``python script.py``)."""
    text = block.code.replace("\\\n", " ")
    found = []
    for line in text.split("\n"):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError:  # unbalanced quotes: output, not a command
            continue
        command: list[str] = []
        for word in words + ["&&"]:
            if word in ("&&", "||", ";"):
                if command:
                    found.append(command)
                command = []
            else:
                command.append(word)
    return found


def lamina_arguments(command: list[str]) -> list[str] | None:
    """The arguments given to the ``lamina`` command in a command line (after launchers such
    as ``mpiexec -n 2``, ``srun`` or ``VAR=value``), a trailing ``...`` ("and more flags")
    removed; None when the line does not run lamina."""
    if "lamina" not in command:
        return None
    args = command[command.index("lamina") + 1:]
    while args and args[-1] == "...":
        args = args[:-1]
    return args
