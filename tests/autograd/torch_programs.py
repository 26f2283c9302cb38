"""Run one PyTorch program under torch and under lamina and compare what it reports.

A program is PyTorch source text. ``run`` executes it once with ``torch`` bound to the given
framework, beside ``report(name, value)`` (records a value) and ``fixture(name, shape)`` (the
same seeded standard-normal tensor in both frameworks); ``check`` runs it under the real torch
and under lamina and asserts that the reported names agree and every value does: tensors by
dtype, shape, requires_grad and values (rtol 1e-5, atol 1e-6), floats to a relative 1e-6,
everything else exactly.
"""
import numpy as np
import pytest

import lamina as lm

from tests.reference import torch


def run(source: str, framework) -> list:
    """Execute ``source`` with ``torch`` = ``framework``; the (name, value) pairs it reported."""
    reports = []

    def report(name, value):
        reports.append((name, _plain(value, framework)))

    def fixture(name, shape, dtype="float32"):
        rng = np.random.default_rng(sum(map(ord, name)))
        return framework.tensor(rng.standard_normal(shape).astype(dtype))

    exec(compile(source, "<program>", "exec"),
         {"torch": framework, "report": report, "fixture": fixture, "np": np})
    return reports


def _plain(value, fw):
    if isinstance(value, fw.Tensor):
        return ("tensor", str(value.dtype).rsplit(".", 1)[-1], tuple(value.shape),
                bool(value.requires_grad), np.array(value.detach().numpy(), copy=True))
    if isinstance(value, (list, tuple)):
        return [_plain(v, fw) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _same(expected, actual, where: str) -> None:
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), \
            f"{where}: lamina {actual!r}, torch {expected!r}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            _same(e, a, f"{where}[{i}]")
    elif isinstance(expected, tuple) and expected[:1] == ("tensor",):
        assert isinstance(actual, tuple) and actual[:4] == expected[:4], \
            f"{where}: lamina {actual[:4] if isinstance(actual, tuple) else actual!r}, torch {expected[:4]}"
        np.testing.assert_allclose(actual[4], expected[4], rtol=1e-5, atol=1e-6, err_msg=where)
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=1e-6), f"{where}: lamina {actual}, torch {expected}"
    else:
        assert actual == expected, f"{where}: lamina {actual!r}, torch {expected!r}"


def check(source: str) -> list:
    expected = run(source, torch)
    actual = run(source, lm)
    assert [n for n, _ in actual] == [n for n, _ in expected]
    for (name, e), (_, a) in zip(expected, actual):
        _same(e, a, name)
    return actual
