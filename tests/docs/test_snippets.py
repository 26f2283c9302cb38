"""Every code block of the README and of docs/ works as shown.

Python blocks are run, page by page, in a fresh interpreter in an empty folder (the blocks of
a page share one namespace, in order). Shell blocks cannot all be run here (they train for
minutes, need MPI clusters or a finished run), so each command line in them is checked
against what it names: ``lamina ...`` must parse with the real command-line parser,
``pip install '.[extra]'`` must name extras of pyproject.toml, ``python path/script.py
--flag`` must name a script that exists and knows the flag.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

from .snippets import ROOT, Block, blocks, commands, lamina_arguments, pages, python_blocks

PAGES_WITH_PYTHON = [p for p in pages() if python_blocks(p)]

# Runs the blocks of one page in one namespace; line numbers in a traceback are the
# Markdown file's own (each block is compiled after as many blank lines as precede it).
RUNNER = """
import json, sys
ns = {"__name__": "__main__"}
for block in json.load(open(sys.argv[1])):
    source = "\\n" * block["line"] + block["code"]
    print(f"--- running {block['path']}:{block['line']}", flush=True)
    exec(compile(source, block["path"], "exec"), ns)
"""


def _environment() -> dict:
    env = dict(os.environ, MPLBACKEND="Agg", LAMINA_DISTRIBUTED="0")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"  # the snippets are small; spinning BLAS threads only slow a busy machine
    return env


def test_the_documentation_has_python_to_run():
    assert "README.md" in PAGES_WITH_PYTHON and "docs/guide.md" in PAGES_WITH_PYTHON
    assert "docs/index.md" in PAGES_WITH_PYTHON


@pytest.mark.parametrize("page", PAGES_WITH_PYTHON)
def test_python_blocks_run(page, tmp_path):
    code = [dataclass_dict(b) for b in python_blocks(page)]
    (tmp_path / "blocks.json").write_text(json.dumps(code))
    (tmp_path / "runner.py").write_text(RUNNER)
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run([sys.executable, str(tmp_path / "runner.py"), str(tmp_path / "blocks.json")],
                          cwd=work, env=_environment(), capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        missing = _missing_optional_package(done.stderr)
        if missing:
            pytest.skip(f"{page} needs {missing}, which is not installed (pip install '.[test]')")
    assert done.returncode == 0, f"{page}:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    assert done.stdout.count("--- running") == len(code)


# What the documented programs may need beyond NumPy: lamina's optional dependencies
OPTIONAL = ("safetensors", "mpi4py", "matplotlib", "tqdm", "threadpoolctl", "torch")


def _missing_optional_package(stderr: str) -> str | None:
    """The optional package whose absence stopped a page's program, if that is what did."""
    last = stderr.strip().split("\n")[-1] if stderr.strip() else ""
    match = re.search(r"No module named '([\w.]+)'", last)
    if match and match.group(1).split(".")[0] in OPTIONAL:
        return match.group(1)
    if "mpi4py cannot be imported" in last:
        return "mpi4py"
    return None


def dataclass_dict(block: Block) -> dict:
    return {"path": str(ROOT / block.path), "line": block.line, "code": block.code}


def _shell_commands() -> list[tuple[str, list[str]]]:
    found = []
    for page in pages():
        for block in blocks(page):
            if block.lang in ("python", "py", "pycon", "json", "yaml", "toml", "text"):
                continue
            found += [(f"{block}", words) for words in commands(block)]
    return found


SHELL = _shell_commands()
LAMINA_COMMANDS = [(where, args) for where, words in SHELL
                   if (args := lamina_arguments(words)) is not None]
PIP_INSTALLS = [(where, words) for where, words in SHELL if words[:2] == ["pip", "install"]]
SCRIPTS = [(where, words) for where, words in SHELL
           if words and words[0] in ("python", "python3") and len(words) > 1
           and words[1].endswith(".py")]


def test_the_documentation_has_commands_to_check():
    assert len(LAMINA_COMMANDS) >= 5 and PIP_INSTALLS and SCRIPTS


@pytest.mark.parametrize("where, args", LAMINA_COMMANDS,
                         ids=[f"{w} lamina {' '.join(a)}"[:90] for w, a in LAMINA_COMMANDS])
def test_lamina_commands_parse(where, args, capsys):
    from lamina.cli import _parser

    try:
        _parser().parse_args(args)
    except SystemExit as exc:  # argparse's way of refusing
        pytest.fail(f"{where}: `lamina {' '.join(args)}` is refused by the command line "
                    f"(status {exc.code}): {capsys.readouterr().err.strip()}")


def _extras() -> set:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return set(tomllib.load(f)["project"]["optional-dependencies"])


@pytest.mark.parametrize("where, words", PIP_INSTALLS, ids=[w for w, _ in PIP_INSTALLS])
def test_pip_installs_name_existing_extras(where, words):
    targets = [w for w in words[2:] if re.fullmatch(r"(?:\.|lamina)(?:\[.*\])?", w)]
    assert targets, f"{where}: `{' '.join(words)}` does not install lamina"
    for target in targets:
        match = re.fullmatch(r"(?:\.|lamina)(?:\[([\w,-]+)\])?", target)
        assert match, f"{where}: cannot read the extras of {target!r}"
        missing = set((match.group(1) or "").split(",")) - {""} - _extras()
        assert not missing, f"{where}: pyproject.toml has no extra {sorted(missing)}"


@pytest.mark.parametrize("where, words", SCRIPTS, ids=[f"{w} {' '.join(s[1:3])}" for w, s in SCRIPTS])
def test_scripts_exist_and_know_their_flags(where, words):
    script = ROOT / words[1]
    assert script.is_file(), f"{where}: no script {words[1]}"
    text = script.read_text(encoding="utf-8")
    for flag in (w.split("=")[0] for w in words[2:] if w.startswith("--")):
        assert f'"{flag}"' in text or f"'{flag}'" in text, f"{where}: {words[1]} has no {flag}"


def test_runner_reports_the_markdown_line_of_a_failure(tmp_path):
    # The harness itself: a failing block must fail the run and point at its Markdown line.
    bad = [{"path": "docs/x.md", "line": 7, "code": "a = 1\nraise ValueError('from the doc')"}]
    (tmp_path / "blocks.json").write_text(json.dumps(bad))
    (tmp_path / "runner.py").write_text(RUNNER)
    done = subprocess.run([sys.executable, str(tmp_path / "runner.py"), str(tmp_path / "blocks.json")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert 'File "docs/x.md", line 9' in done.stderr and "from the doc" in done.stderr


def test_commands_are_split_as_a_shell_would():
    block = Block("x.md", 1, "bash", "# a comment\nOMP_NUM_THREADS=4 lamina train --resume r \\\n"
                  "  --epochs 2   # more\npip install '.[docs]' && mkdocs build\n"
                  "mpiexec -n 2 lamina train ...")
    found = commands(block)
    assert found == [["OMP_NUM_THREADS=4", "lamina", "train", "--resume", "r", "--epochs", "2"],
                     ["pip", "install", ".[docs]"], ["mkdocs", "build"],
                     ["mpiexec", "-n", "2", "lamina", "train", "..."]]
    assert [lamina_arguments(c) for c in found] == [
        ["train", "--resume", "r", "--epochs", "2"], None, None, ["train"]]
