"""RNN, LSTM, GRU, their cells and ``nn.utils.rnn.pad_sequence`` against PyTorch.

Each lamina module gets its torch twin's weights through ``load_state_dict`` (which also
checks that the keys are torch's, in order); both run the same inputs, and outputs, final
states and the gradients of a random scalar loss with respect to the input, the initial
states and every parameter are compared, in float32 and float64.
"""
from __future__ import annotations

import numpy as np
import pytest

import lamina as lm
import lamina.nn as nn
from lamina.errors import LaminaTypeError, LaminaValueError, ShapeError
from tests.reference import check_against_torch, requires_torch, torch

TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-10)}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
T, N, I, H = 4, 3, 3, 5


def twin(name: str, dtype, *args, **kwargs):
    """A torch module and the lamina one of the same class with its weights."""
    ref = getattr(torch.nn, name)(*args, dtype=TORCH_DTYPE[dtype], **kwargs)
    mine = getattr(nn, name)(*args, dtype=dtype, **kwargs)
    sd = ref.state_dict()
    assert list(mine.state_dict()) == list(sd)
    mine.load_state_dict({k: v.detach().numpy() for k, v in sd.items()})
    return mine, ref


def compare(mine, ref, run, inputs, dtype, rng):
    """``run(module, lib, *inputs)`` under both frameworks (every input a leaf): every output,
    then the gradients of sum_k <c_k, y_k> (c_k drawn from ``rng``) w.r.t. the inputs and all
    parameters, at ``TOL[dtype]``."""
    tol = TOL[dtype]
    check_against_torch(lambda *xs: run(mine, lm, *xs), lambda *xs: run(ref, torch, *xs), *inputs,
                        modules=(mine, ref), cotangent=rng, rtol=tol["rtol"], atol=tol["atol"],
                        grad_rtol=tol["rtol"], grad_atol=tol["atol"])


def run_layer(module, lib, x, hx=None):
    return module(x) if hx is None else module(x, hx)


# (kwargs, batched, with initial state): small, but each feature at least once.
LAYER_CONFIGS = [
    (dict(), True, False),
    (dict(num_layers=2), True, True),
    (dict(bidirectional=True), True, True),
    (dict(num_layers=2, bidirectional=True, batch_first=True), True, True),
    (dict(num_layers=2, bias=False), True, False),
    (dict(batch_first=True), True, False),
    (dict(num_layers=2, bidirectional=True), False, True),
    (dict(batch_first=True, bias=False), False, False),
]
MODES = ["LSTM", "GRU", "RNN"]


def layer_inputs(name, kwargs, batched, with_state, dtype, rng):
    d = 2 if kwargs.get("bidirectional") else 1
    lead = d * kwargs.get("num_layers", 1)
    if batched:
        x = rng.standard_normal((N, T, I) if kwargs.get("batch_first") else (T, N, I))
    else:
        x = rng.standard_normal((T, I))
    batch = (N,) if batched else ()
    inputs = [x.astype(dtype)]
    if with_state:
        h_size = kwargs.get("proj_size") or H
        h0 = rng.standard_normal((lead, *batch, h_size)).astype(dtype)
        c0 = rng.standard_normal((lead, *batch, H)).astype(dtype)
        inputs.append((h0, c0) if name == "LSTM" else h0)
    return inputs


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs,batched,with_state", LAYER_CONFIGS)
@pytest.mark.parametrize("name", MODES)
def test_layer_matches_torch(name, kwargs, batched, with_state, dtype, rng):
    mine, ref = twin(name, dtype, I, H, **kwargs)
    compare(mine, ref, run_layer, layer_inputs(name, kwargs, batched, with_state, dtype, rng),
            dtype, rng)


@requires_torch
@pytest.mark.filterwarnings("ignore:LSTM with projections")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs,batched,with_state", [
    (dict(proj_size=2), True, False),
    (dict(proj_size=3, num_layers=2, bidirectional=True), True, True),
    (dict(proj_size=2, batch_first=True, bias=False), False, True),
])
def test_lstm_projection_matches_torch(kwargs, batched, with_state, dtype, rng):
    mine, ref = twin("LSTM", dtype, I, H, **kwargs)
    assert mine.weight_hr_l0.shape == (kwargs["proj_size"], H)
    compare(mine, ref, run_layer, layer_inputs("LSTM", kwargs, batched, with_state, dtype, rng),
            dtype, rng)


@requires_torch
@pytest.mark.parametrize("name", MODES)
def test_dropout_acts_between_layers_only(name, rng):
    """With p = 1 the second layer sees zeros in training: deterministic, so comparable."""
    kwargs = dict(num_layers=2, dropout=1.0, bidirectional=True)
    mine, ref = twin(name, np.float64, I, H, **kwargs)
    mine.train()
    ref.train()
    compare(mine, ref, run_layer, layer_inputs(name, kwargs, True, True, np.float64, rng),
            np.float64, rng)
    mine.eval()
    x = lm.tensor(rng.standard_normal((T, N, I)))
    np.testing.assert_array_equal(mine(x)[0].numpy(), mine(x)[0].numpy())
    mine = getattr(nn, name)(I, H, num_layers=2, dropout=0.5)
    x = lm.tensor(rng.standard_normal((T, N, I)).astype(np.float32))
    mine.eval()
    a = mine(x)[0].numpy()
    mine.train()
    assert np.any(mine(x)[0].numpy() != a)


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(I, H, dropout=0.3)


# ---------------------------------------------------------------------------- cells
CELLS = [("RNNCell", {}), ("RNNCell", dict(nonlinearity="relu")), ("LSTMCell", {}), ("GRUCell", {})]


def run_cell(module, lib, x, hx=None):
    """The cell looped over the leading (time) axis of ``x``: BPTT through the cell."""
    outputs = []
    for x_t in x:
        hx = module(x_t) if hx is None else module(x_t, hx)
        outputs.append(hx)
    return outputs


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched,with_state", [(True, True), (True, False), (False, True), (False, False)])
@pytest.mark.parametrize("name,kwargs", CELLS)
def test_cell_matches_torch(name, kwargs, batched, with_state, bias, dtype, rng):
    mine, ref = twin(name, dtype, I, H, bias=bias, **kwargs)
    batch = (N,) if batched else ()
    inputs = [rng.standard_normal((T, *batch, I)).astype(dtype)]
    if with_state:
        h0 = rng.standard_normal((*batch, H)).astype(dtype)
        c0 = rng.standard_normal((*batch, H)).astype(dtype)
        inputs.append((h0, c0) if name == "LSTMCell" else h0)
    compare(mine, ref, run_cell, inputs, dtype, rng)


def test_cell_and_one_step_layer_agree(rng):
    cell, layer = nn.GRUCell(I, H), nn.GRU(I, H)
    layer.load_state_dict({k + "_l0": v for k, v in cell.state_dict().items()})
    x = lm.tensor(rng.standard_normal((N, I)).astype(np.float32))
    np.testing.assert_allclose(cell(x).numpy(), layer(x.unsqueeze(0))[1][0].numpy(), rtol=1e-6)


# ---------------------------------------------------------------------------- structure
@requires_torch
@pytest.mark.parametrize("name,args,kwargs", [
    ("RNN", (I, H), dict(num_layers=2, bidirectional=True, nonlinearity="relu")),
    ("LSTM", (I, H), dict(num_layers=2, bidirectional=True, proj_size=2)),
    ("LSTM", (I, H), dict(bias=False)),
    ("GRU", (I, H), dict(num_layers=3, bidirectional=True, bias=False)),
    ("RNNCell", (I, H), dict(bias=False)),
    ("LSTMCell", (I, H), {}),
    ("GRUCell", (I, H), dict(bias=False)),
])
def test_parameters_names_shapes_init_and_repr(name, args, kwargs):
    mine, ref = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert [(k, tuple(v.shape)) for k, v in mine.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in ref.state_dict().items()]
    bound = 1 / np.sqrt(H)
    values = np.concatenate([p.numpy().ravel() for p in mine.parameters()])
    assert values.dtype == np.float32
    assert np.all(np.abs(values) <= bound) and np.abs(values).max() > 0.9 * bound
    assert values.std() > 0.4 * bound                   # uniform, not a constant
    if name != "RNN":                                   # lamina's RNN also shows nonlinearity
        assert repr(mine) == repr(ref)
    if name in ("RNN", "LSTM", "GRU"):
        assert [[n for n in names] for names in mine._all_weights] == ref._all_weights
        assert len(mine.all_weights) == len(ref.all_weights)


@pytest.mark.parametrize("make,call,error,match", [
    (lambda: nn.RNNBase("GRU", I, H, proj_size=2), None, LaminaValueError, "only supported for LSTM"),
    (lambda: nn.LSTM(I, H, proj_size=H), None, LaminaValueError, "smaller than hidden_size"),
    (lambda: nn.LSTM(I, H, proj_size=-1), None, LaminaValueError, "positive integer or zero"),
    (lambda: nn.LSTM(I, 0), None, LaminaValueError, "hidden_size"),
    (lambda: nn.GRU(I, H, dropout=2.0), None, LaminaValueError, "dropout"),
    (lambda: nn.RNNCell(I, H, nonlinearity="sigmoid"), None, LaminaValueError, "nonlinearity"),
    (lambda: nn.LSTM(I, H), lambda m: m(lm.randn(T, N, I), lm.randn(1, N, H)), LaminaTypeError,
     r"tuple \(h_0, c_0\)"),
    (lambda: nn.LSTM(I, H), lambda m: m(lm.randn(T, N, I), (lm.randn(1, N, H), lm.randn(1, 2, H))),
     ShapeError, r"hidden\[1\] size \(1, 3, 5\)"),
    (lambda: nn.LSTM(I, H), lambda m: m(lm.randn(T, I), (lm.randn(1, N, H), lm.randn(1, N, H))),
     ShapeError, "hx and cx should also be 2-D"),
    (lambda: nn.GRU(I, H, bidirectional=True), lambda m: m(lm.randn(T, N, I), lm.randn(1, N, H)),
     ShapeError, r"Expected hidden size \(2, 3, 5\)"),
    (lambda: nn.GRU(I, H), lambda m: m(lm.randn(T, N, I + 1)), ShapeError, "input_size"),
    (lambda: nn.LSTMCell(I, H), lambda m: m(lm.randn(T, N, I)), ShapeError, "1D or 2D"),
    (lambda: nn.GRUCell(I, H), lambda m: m(lm.randn(N, I), lm.randn(N + 1, H)), ShapeError,
     "expected"),
    (lambda: nn.RNNCell(I, H), lambda m: m(lm.randn(I), lm.randn(1, H)), ShapeError, "1D"),
    (lambda: nn.LSTMCell(I, H), lambda m: m(lm.randn(N, I), lm.randn(N, H)), LaminaTypeError,
     "tuple"),
])
def test_errors(make, call, error, match):
    with pytest.raises(error, match=match):
        call(make())


def test_gradcheck_through_lstm_float64(rng):
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=1, dtype=lm.float64)
    x = lm.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    h0 = lm.tensor(rng.standard_normal((4, 2, 1)), requires_grad=True)
    c0 = lm.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    assert lm.autograd.gradcheck(lambda x, h0, c0, w: lstm(x, (h0, c0))[0],
                                 [x, h0, c0, lstm.weight_hr_l1_reverse])


# ---------------------------------------------------------------------------- pad_sequence
@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("lengths,trailing", [([3, 1, 4], (2,)), ([2, 2], ()), ([1, 3], (2, 3))])
def test_pad_sequence_matches_torch(lengths, trailing, padding_side, batch_first, dtype, rng):
    arrays = tuple(rng.standard_normal((n, *trailing)).astype(dtype) for n in lengths)

    def run(_, lib, *xs):
        return getattr(lib.nn.utils.rnn, "pad_sequence")(
            list(xs), batch_first=batch_first, padding_value=-0.5, padding_side=padding_side)

    compare(nn.Module(), torch.nn.Module(), run, list(arrays), dtype, rng)


@requires_torch
def test_pad_sequence_other_inputs():
    ints = [lm.tensor([1, 2]), lm.tensor([3, 4, 5])]
    out = nn.utils.rnn.pad_sequence(ints, batch_first=True, padding_value=-1.5)
    ref = torch.nn.utils.rnn.pad_sequence([torch.tensor([1, 2]), torch.tensor([3, 4, 5])],
                                          batch_first=True, padding_value=-1.5)
    assert out.dtype == lm.int64
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    stacked = nn.utils.rnn.pad_sequence(lm.ones(3, 2, 4))     # a tensor is its slices
    assert tuple(stacked.shape) == (2, 3, 4)
    mixed = nn.utils.rnn.pad_sequence([lm.ones(2, dtype=lm.float32), lm.ones(3, dtype=lm.float64)])
    assert mixed.dtype == lm.float32


@pytest.mark.parametrize("args,kwargs,error,match", [
    (([],), {}, LaminaValueError, "empty"),
    (([lm.ones(2, 3), lm.ones(4, 2)],), {}, ShapeError, "sequence 1"),
    (([lm.ones(2)],), dict(padding_side="up"), LaminaValueError, "left or right"),
    (([lm.tensor(1.0)],), {}, ShapeError, "0-d"),
    (([np.ones(2)],), {}, LaminaTypeError, "tensors"),
])
def test_pad_sequence_errors(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        nn.utils.rnn.pad_sequence(*args, **kwargs)


def test_padded_batch_feeds_a_layer():
    seqs = [lm.randn(4, I), lm.randn(2, I)]
    out, (h, c) = nn.LSTM(I, H, batch_first=True)(nn.utils.rnn.pad_sequence(seqs, batch_first=True))
    assert tuple(out.shape) == (2, 4, H) and tuple(h.shape) == (1, 2, H)


# ---------------------------------------------------------------------------- packed sequences
def run_packed(kwargs_pack, batch_first):
    """Pack the padded input, run the layer, unpack: (padded output, final states)."""
    def run(module, lib, x, hx=None):
        rnn_utils = lib.nn.utils.rnn
        packed = rnn_utils.pack_padded_sequence(x, batch_first=batch_first, **kwargs_pack)
        out, state = module(packed) if hx is None else module(packed, hx)
        assert isinstance(out, rnn_utils.PackedSequence)
        return rnn_utils.pad_packed_sequence(out, batch_first=batch_first)[0], state
    return run


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs,lengths,enforce_sorted,with_state", [
    (dict(), [4, 3, 1], True, False),
    (dict(num_layers=2, bidirectional=True, batch_first=True), [2, 4, 1], False, True),
    (dict(bidirectional=True, bias=False), [3, 3, 2], False, True),
])
@pytest.mark.parametrize("name", MODES)
def test_layer_on_packed_sequence_matches_torch(name, kwargs, lengths, enforce_sorted,
                                                with_state, dtype, rng):
    mine, ref = twin(name, dtype, I, H, **kwargs)
    inputs = layer_inputs(name, kwargs, True, with_state, dtype, rng)
    run = run_packed(dict(lengths=lengths, enforce_sorted=enforce_sorted),
                     kwargs.get("batch_first", False))
    compare(mine, ref, run, inputs, dtype, rng)


@requires_torch
@pytest.mark.filterwarnings("ignore:LSTM with projections")
def test_lstm_with_projection_on_packed_sequence(rng):
    kwargs = dict(proj_size=2, num_layers=2, bidirectional=True)
    mine, ref = twin("LSTM", np.float64, I, H, **kwargs)
    inputs = layer_inputs("LSTM", kwargs, True, True, np.float64, rng)
    compare(mine, ref, run_packed(dict(lengths=[1, 4, 2], enforce_sorted=False), False),
            inputs, np.float64, rng)


@requires_torch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce_sorted", [([4, 2, 2], True), ([1, 3, 4], False)])
def test_pack_and_pad_packed_match_torch(lengths, enforce_sorted, batch_first, rng):
    x = rng.standard_normal((3, 5, 2) if batch_first else (5, 3, 2))
    mine = nn.utils.rnn.pack_padded_sequence(lm.tensor(x), lm.tensor(lengths), batch_first,
                                             enforce_sorted)
    ref = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), torch.tensor(lengths),
                                                  batch_first, enforce_sorted)
    np.testing.assert_array_equal(mine.data.numpy(), ref.data.numpy())
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        a, b = getattr(mine, field), getattr(ref, field)
        assert (a is None) == (b is None), field
        if a is not None:
            assert a.dtype == lm.int64
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=field)
    padded, lens = nn.utils.rnn.pad_packed_sequence(mine, batch_first, -2.0, total_length=6)
    padded_t, lens_t = torch.nn.utils.rnn.pad_packed_sequence(ref, batch_first, -2.0, total_length=6)
    np.testing.assert_array_equal(padded.numpy(), padded_t.numpy())
    np.testing.assert_array_equal(lens.numpy(), lens_t.numpy())
    assert lens.dtype == lm.int64

    def run(_, lib, x):
        utils = lib.nn.utils.rnn
        packed = utils.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
        return utils.pad_packed_sequence(packed, batch_first, 0.5)[0]

    compare(nn.Module(), torch.nn.Module(), run, [x], np.float64, rng)


@requires_torch
def test_pack_sequence_and_unpacking_match_torch(rng):
    arrays = [rng.standard_normal((n, 2)) for n in (2, 4, 1)]
    mine = nn.utils.rnn.pack_sequence([lm.tensor(a) for a in arrays], enforce_sorted=False)
    ref = torch.nn.utils.rnn.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted=False)
    np.testing.assert_array_equal(mine.data.numpy(), ref.data.numpy())
    np.testing.assert_array_equal(mine.batch_sizes.numpy(), ref.batch_sizes.numpy())
    for got, a in zip(nn.utils.rnn.unpack_sequence(mine), arrays):
        np.testing.assert_array_equal(got.numpy(), a)
    padded = nn.utils.rnn.pad_sequence([lm.tensor(a) for a in arrays])
    for got, a in zip(nn.utils.rnn.unpad_sequence(padded, [2, 4, 1]), arrays):
        np.testing.assert_array_equal(got.numpy(), a)
    assert mine.float().data.dtype == lm.float32 and mine.double() is mine
    assert not mine.is_cuda


@pytest.mark.parametrize("call,error,match", [
    (lambda u: u.pack_padded_sequence(lm.ones(4, 3, 2), [2, 4, 1]), LaminaValueError,
     "sorted in decreasing order"),
    (lambda u: u.pack_padded_sequence(lm.ones(4, 3, 2), [4, 3]), ShapeError, "batch_size=3"),
    (lambda u: u.pack_padded_sequence(lm.ones(4, 3, 2), [4, 3, 0]), LaminaValueError,
     "greater than 0"),
    (lambda u: u.pack_padded_sequence(lm.ones(4, 3, 2), [5, 3, 1]), ShapeError, "exceed"),
    (lambda u: u.pad_packed_sequence(u.pack_sequence([lm.ones(3), lm.ones(2)]), total_length=2),
     LaminaValueError, "total_length=2"),
    (lambda u: u.pad_packed_sequence(lm.ones(3, 2)), LaminaTypeError, "PackedSequence"),
    (lambda u: nn.GRU(2, 3)(u.pack_sequence([lm.ones(3, 4)])), ShapeError, "PackedSequence"),
])
def test_packing_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(nn.utils.rnn)
