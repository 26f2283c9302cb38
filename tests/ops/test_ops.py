"""Every operation of every family table: values and gradients against PyTorch, and float64
finite differences (see ``opinfo.py``); the finite differences need NumPy alone."""
import importlib
import pkgutil

import pytest

from tests.reference import requires_torch
from . import tables
from .opinfo import cases, check_against_torch, check_gradcheck

TABLE = [row for mod in pkgutil.iter_modules(tables.__path__)
         for row in importlib.import_module(f"{tables.__name__}.{mod.name}").TABLE]


@requires_torch
@pytest.mark.parametrize("info,sample", cases(TABLE))
def test_matches_torch(info, sample):
    check_against_torch(info, sample)


@pytest.mark.parametrize("info,sample", cases(TABLE, only_gradcheck=True))
def test_gradcheck(info, sample):
    check_gradcheck(info, sample)
