"""Shared test configuration: a fixed seed for every test and the optional PyTorch reference."""
import numpy as np
import pytest

import lamina as lm


@pytest.fixture(autouse=True)
def _seed():
    lm.manual_seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
