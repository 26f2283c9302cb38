"""The PyTorch compatibility corpus: ordinary PyTorch programs, run under torch and lamina.

Every program in ``programs/`` is plain PyTorch source. ``test_programs_run_under_torch``
checks that it runs under the real torch and reports something; ``test_corpus`` runs it again
with lamina bound to ``torch`` (see ``harness.py``) and requires the same reports (names,
dtypes, shapes, values within the program's tolerance) and the same printed output.
A failure message names lamina's exception and the program line it came from, or lists the
values that differ.
"""
import functools
import re

import pytest

from tests.reference import requires_torch
from . import harness

PROGRAMS = harness.program_paths()
IDS = [p.stem for p in PROGRAMS]


@functools.lru_cache(maxsize=None)
def torch_run(path):
    return harness.run_program(path, "torch")


@requires_torch
@pytest.mark.parametrize("path", PROGRAMS, ids=IDS)
def test_programs_run_under_torch(path):
    result = torch_run(path)
    assert result.error is None, result.describe_error()
    assert result.reports, f"{path.name} reported nothing"


@requires_torch
@pytest.mark.parametrize("path", PROGRAMS, ids=IDS)
def test_corpus(path):
    expected = torch_run(path)
    assert expected.error is None, "fails under torch itself: " + expected.describe_error()
    actual = harness.run_program(path, "lamina")
    problems = harness.compare(expected, actual, harness.program_tolerance(path.read_text()))
    assert not problems, f"{path.name} under lamina:\n" + "\n".join(problems)


def test_corpus_programs_are_plain_pytorch():
    assert len(PROGRAMS) >= 18
    for path in PROGRAMS:
        source = path.read_text()
        assert 15 <= len(source.splitlines()) <= 60, path.name
        assert "lamina" not in source.lower(), f"{path.name} mentions lamina"
        assert re.search(r"^import torch$", source, re.M), f"{path.name} does not import torch"
