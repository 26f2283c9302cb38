"""lamina's top-level namespace: torch.* names with torch's meaning, plus lamina's documented
own API, and no module exposed by accident."""
import inspect
import types

import pytest

import lamina

from tests.reference import requires_torch, torch

# lamina's own top-level API (documented in docs/guide.md and the README): its error classes
# and the sub-packages that have no torch.* counterpart.
LAMINA_ONLY = {"DataError", "FileFormatError", "GraphError", "InplaceError", "LaminaError",
               "LaminaTypeError", "LaminaValueError", "ShapeError", "SUBPACKAGES", "ops", "data",
               "models", "train", "classic", "labs", "distributed", "errors"}


def _public():
    return sorted(set(lamina.__all__) | set(dir(lamina)))


@requires_torch
def test_every_public_name_is_a_torch_name_or_documented_lamina_api():
    foreign = [n for n in _public() if not hasattr(torch, n) and n not in LAMINA_ONLY]
    assert foreign == []


def test_dir_and_all_agree():
    assert set(dir(lamina)) == set(lamina.__all__) | set(lamina.SUBPACKAGES)
    for name in lamina.__all__:
        assert hasattr(lamina, name), name


def test_only_the_documented_subpackages_are_modules():
    modules = [n for n in _public() if isinstance(getattr(lamina, n), types.ModuleType)]
    assert sorted(modules) == sorted(lamina.SUBPACKAGES)


@pytest.mark.parametrize("name", ["shape", "loss", "conv", "pool", "reduction",
                                  "tensor_methods", "classification_loss", "indexing",
                                  "getitem", "setitem", "cast", "creation", "dtypes", "size",
                                  "backend", "atomic", "mse_loss", "cross_entropy", "linear",
                                  "expand", "view", "uniform"])
def test_internal_modules_and_helpers_are_not_public(name):
    assert name not in dir(lamina) and name not in lamina.__all__


@requires_torch
def test_shared_names_are_the_same_kind_of_thing_as_torchs():
    mismatched = []
    for name in lamina.__all__:
        if name in LAMINA_ONLY or name.startswith("__"):
            continue
        ours, theirs = getattr(lamina, name), getattr(torch, name)
        kinds = [isinstance(ours, types.ModuleType), isinstance(theirs, types.ModuleType)]
        if kinds[0] != kinds[1] or callable(ours) != callable(theirs):
            mismatched.append(name)
    assert mismatched == []


def _first_parameter(fn):
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    if not params or params[0].kind is inspect.Parameter.VAR_POSITIONAL:
        return None  # torch's (*args, **kwargs) wrappers document nothing here
    return params[0].name


@requires_torch
def test_functions_take_their_first_argument_under_torchs_name_where_torch_documents_one():
    # torch's Python-level functions have signatures; most builtins do not (then skipped).
    checked, differing = 0, []
    for name in lamina.__all__:
        theirs = getattr(torch, name, None)
        ours = getattr(lamina, name)
        if not inspect.isfunction(ours) or theirs is None:
            continue
        expected = _first_parameter(theirs)
        if expected is None:
            continue
        checked += 1
        if _first_parameter(ours) != expected:
            differing.append((name, _first_parameter(ours), expected))
    assert checked >= 5
    assert differing == []
