"""Seeding semantics of lamina.random against torch's: Generator, the global generator,
initial_seed / seed / manual_seed, and state round trips."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import lamina as lm
from lamina import random as lr
from lamina.errors import LaminaTypeError, LaminaValueError

from tests.reference import requires_torch, torch


def _fresh_initial_seed() -> int:
    code = "import lamina.random as r; print(r.initial_seed(), r.generator().integers(2**62))"
    env = dict(os.environ, PYTHONHASHSEED="0")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True, timeout=120).stdout.split()
    return int(out[0]), int(out[1])


def test_unseeded_processes_draw_different_initial_seeds():
    (seed_a, draw_a), (seed_b, draw_b) = _fresh_initial_seed(), _fresh_initial_seed()
    assert seed_a != seed_b and draw_a != draw_b
    assert 0 <= seed_a < 2**64 and 0 <= seed_b < 2**64


@requires_torch
def test_manual_seed_returns_the_global_generator_and_reproduces_draws():
    g = lr.manual_seed(123)
    assert g is lr.default_generator and isinstance(g, lr.Generator)
    assert (torch.manual_seed(123) is torch.default_generator) is True  # the same contract
    assert lr.initial_seed() == 123 == torch.initial_seed()
    first = lm.randn(5).numpy()
    lr.manual_seed(123)
    np.testing.assert_array_equal(lm.randn(5).numpy(), first)
    lr.manual_seed(124)
    assert not np.array_equal(lm.randn(5).numpy(), first)


def test_seed_reseeds_from_entropy_and_reports_the_new_seed():
    lr.manual_seed(5)
    new = lr.seed()
    assert isinstance(new, int) and lr.initial_seed() == new and new != 5
    newer = lr.seed()
    assert newer != new and lr.initial_seed() == newer
    after = lm.rand(3).numpy()
    lr.manual_seed(newer)
    np.testing.assert_array_equal(lm.rand(3).numpy(), after)


@requires_torch
def test_a_new_generator_has_torchs_default_seed_and_manual_seed_returns_it():
    g = lr.Generator()
    assert g.initial_seed() == torch.Generator().initial_seed()
    assert g.manual_seed(7) is g and g.initial_seed() == 7
    assert str(g.device) == str(torch.Generator().device) == "cpu"
    # negative seeds wrap modulo 2**64, as in torch
    assert lr.Generator().manual_seed(-1).initial_seed() == torch.Generator().manual_seed(-1).initial_seed()
    assert lr.Generator().manual_seed(2**64 - 1).initial_seed() == 2**64 - 1


def test_generator_seed_and_state_round_trip():
    g = lr.Generator()
    s = g.seed()
    assert g.initial_seed() == s
    g.manual_seed(5)
    state = g.get_state()
    assert isinstance(state, lm.Tensor) and state.dtype == lm.uint8 and state.ndim == 1
    first = g.numpy_generator().random(4)
    g.manual_seed(6)
    assert g.set_state(state) is g and g.initial_seed() == 5  # torch restores the seed too
    np.testing.assert_array_equal(g.numpy_generator().random(4), first)


def test_numpy_generator_is_stable_across_reseeding():
    g = lr.Generator()
    inner = g.numpy_generator()
    g.manual_seed(1)
    a = inner.random(3)
    g.manual_seed(1)
    assert g.numpy_generator() is inner
    np.testing.assert_array_equal(inner.random(3), a)
    np.testing.assert_array_equal(a, np.random.Generator(np.random.PCG64(1)).random(3))


def test_separate_generators_are_independent_of_the_global_one():
    a, b = lr.Generator().manual_seed(3), lr.Generator().manual_seed(3)
    lr.manual_seed(0)
    x = a.numpy_generator().random(3)
    lm.randn(10)  # global draws do not disturb a seeded generator
    np.testing.assert_array_equal(b.numpy_generator().random(3), x)


def test_rng_state_is_a_dict_and_setters_take_both_forms():
    lr.manual_seed(9)
    state = lr.get_rng_state()  # lamina's dict (torch returns a ByteTensor); checkpoints store it
    assert isinstance(state, dict) and json.loads(json.dumps(state)) == state
    first = lm.rand(4).numpy()
    lr.set_rng_state(state)
    np.testing.assert_array_equal(lm.rand(4).numpy(), first)
    lr.set_rng_state(lr.Generator().manual_seed(9).get_state())
    np.testing.assert_array_equal(lm.rand(4).numpy(), first)
    assert lr.initial_seed() == 9


def test_fork_rng_restores_the_global_state():
    lr.manual_seed(2)
    expected = lr.Generator().manual_seed(2).numpy_generator().random(2)
    with lr.fork_rng():
        lr.manual_seed(99)
        lm.rand(100)
    np.testing.assert_array_equal(lr.generator().random(2), expected)
    assert lr.initial_seed() == 2


@requires_torch
@pytest.mark.parametrize("bad", ["1", 1.5, True, None])
def test_non_integer_seeds_are_refused_like_torch(bad):
    with pytest.raises((TypeError, RuntimeError)):
        torch.Generator().manual_seed(bad)
    with pytest.raises(LaminaTypeError):
        lr.Generator().manual_seed(bad)
    with pytest.raises(LaminaTypeError):
        lr.manual_seed(bad)


@requires_torch
def test_out_of_range_seeds_and_bad_states_are_refused():
    for bad in (2**64, -(2**63) - 1):
        with pytest.raises(LaminaValueError):
            lr.manual_seed(bad)
    with pytest.raises(LaminaValueError):
        lr.Generator().set_state(lm.zeros(3))
    with pytest.raises(LaminaValueError):
        lr.set_rng_state({"bit_generator": "MT19937"})
    with pytest.raises(LaminaTypeError):
        lr.numpy_generator_of(torch.Generator())


def test_creation_functions_accept_a_generator():
    draw = lambda g: lm.rand(3, generator=g).numpy()  # noqa: E731
    np.testing.assert_array_equal(draw(lr.Generator().manual_seed(4)), draw(lr.Generator().manual_seed(4)))


def test_manual_seed_reseeds_in_place_so_held_generators_follow_it():
    held = lr.generator()
    lm.manual_seed(11)
    first = held.random(3)
    lm.manual_seed(11)
    assert lr.generator() is held
    np.testing.assert_array_equal(lr.generator().random(3), first)
    assert lm.manual_seed(5) is lm.default_generator
