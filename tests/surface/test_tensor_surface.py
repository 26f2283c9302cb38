"""The everyday tensor surface real scripts use, run once under torch and once under lamina:
devices, printing, Size, legacy constructors, new_* methods, format specs, out=, and
in-place arithmetic on graph tensors."""
import numpy as np
import pytest

import lamina as lm

from tests.reference import requires_torch, torch


def both(fn):
    """fn(module) under torch and lamina; returns the two results."""
    return fn(torch), fn(lm)


def _text(s: str) -> str:
    """torch's text with lamina's module name (for reprs)."""
    return s.replace("torch.", "lamina.") if isinstance(s, str) else s


def _plain(s):
    """Text without either module name (``str(dtype)`` is 'torch.int64' vs 'int64')."""
    return s.replace("torch.", "").replace("lamina.", "") if isinstance(s, str) else s


# --------------------------------------------------------------------------- printing
REPR_CASES = [
    lambda t: t.tensor([0.637, 1.0]),
    lambda t: t.tensor([1e-5, 1e3]),
    lambda t: t.tensor([0.1, 123456.0]),
    lambda t: t.tensor([[1.0, 2.0], [3.0, 4.5]]),
    lambda t: t.tensor([float("nan"), 1.0, float("inf")]),
    lambda t: t.tensor([float("nan"), 1.5, -float("inf")]),
    lambda t: t.arange(30.0).reshape(2, 3, 5),
    lambda t: t.arange(2000.0),
    lambda t: t.arange(5000).reshape(50, 100),
    lambda t: t.linspace(0, 1, 30),
    lambda t: t.linspace(-1, 1, 64).reshape(4, 4, 4),
    lambda t: t.zeros(0, 3),
    lambda t: t.zeros(0),
    lambda t: t.zeros(0, dtype=t.int64),
    lambda t: t.tensor(3.0),
    lambda t: t.tensor(True),
    lambda t: t.tensor([True, False]),
    lambda t: t.tensor([1, 2], dtype=t.int32),
    lambda t: t.tensor(2.5, dtype=t.float64),
    lambda t: t.tensor([1e10, 1.0]),
    lambda t: t.tensor([-0.0, 1e-10]),
    lambda t: t.tensor([[1, -20], [300, 4]]),
    lambda t: t.tensor([0.0]),
    lambda t: t.tensor([0.5], dtype=t.float16),
    lambda t: t.tensor([1.0, 2.0], requires_grad=True),
    lambda t: t.tensor([1.0, 2.0], dtype=t.float64, requires_grad=True),
    lambda t: t.linspace(0, 1, 18, requires_grad=True) * 2,
    lambda t: t.tensor([[0.25, -1.5]], requires_grad=True).sum(),
]


@requires_torch
@pytest.mark.parametrize("case", range(len(REPR_CASES)))
def test_repr_matches_torch(case):
    theirs, ours = both(lambda t: repr(REPR_CASES[case](t)))
    # grad_fn names are compared in the autograd tests; here the layout
    theirs = theirs.split("grad_fn=")[0]
    ours = ours.split("grad_fn=")[0]
    assert _text(theirs) == ours


@requires_torch
def test_size_prints_and_compares_like_torch_size():
    theirs, ours = both(lambda t: (repr(t.ones(4, 4).size()), t.ones(4, 4).size() == (4, 4),
                                   t.ones(2, 3).size(1), t.ones(2, 3).shape[1:],
                                   t.ones(2, 3, 4).size()[-1], t.Size([2, 3]).numel()))
    assert _text(theirs[0]) == ours[0]
    assert theirs[1:] == ours[1:]
    with pytest.raises(IndexError):
        lm.ones(2, 3).size(2)


@requires_torch
def test_format_spec_on_one_element_tensors():
    theirs, ours = both(lambda t: (f"{t.tensor(3.14159):.3f}", f"{t.tensor(2):d}",
                                   f"{t.tensor([1.5]).sum():.1f}", f"{t.tensor([1.0, 2.0])}"))
    assert theirs[:3] == ours[:3]
    assert ours[3] == "tensor([1., 2.])"
    with pytest.raises(TypeError):
        f"{lm.tensor([1.0, 2.0]):.2f}"


# --------------------------------------------------------------------------- devices
@requires_torch
def test_cpu_build_device_queries_match_torch():
    theirs, ours = both(lambda t: (
        t.cuda.is_available(), t.cuda.device_count(), t.accelerator.is_available(),
        t.accelerator.current_accelerator(), t.backends.mps.is_available(),
        str(t.device("cpu")), repr(t.device("cpu")), str(t.device("cuda", 0)),
        t.device("cuda:1").index, t.device("cpu").index, t.device("cpu") == "cpu",
        t.device("cpu") == t.device("cpu"), str(t.get_default_device()),
        t.ones(2).device.type, repr(t.ones(2).device), t.ones(2).is_cuda, t.ones(2).get_device()))
    assert theirs == ours


@requires_torch
def test_the_device_idiom_runs_on_the_cpu():
    def program(t):
        device = "cuda" if t.cuda.is_available() else "cpu"
        net = t.nn.Linear(3, 2).to(device)
        x = t.ones(4, 3, device=device).to(device)
        y = net(x).cpu()
        z = t.zeros(2, device=t.device(device)).to(t.float64)
        return str(device), str(y.device), y.shape == (4, 2), z.dtype == t.float64, \
            str(x.to(z).dtype).split(".")[-1]

    assert both(program)[0] == both(program)[1]


def test_asking_for_cuda_fails_like_the_cpu_build_of_torch():
    for make in (lambda: lm.ones(2, device="cuda"), lambda: lm.ones(2).cuda(),
                 lambda: lm.ones(2).to("cuda:0"), lambda: lm.nn.Linear(2, 2).cuda(),
                 lambda: lm.cuda.synchronize(), lambda: lm.set_default_device("cuda")):
        with pytest.raises(AssertionError, match="not available"):
            make()
    with pytest.raises(lm.LaminaValueError, match="unknown device type 'tpu'"):
        lm.device("tpu")
    with lm.device("cpu"):
        assert lm.zeros(1).device == lm.device("cpu")


# --------------------------------------------------------------------------- constructors
@requires_torch
def test_legacy_constructors_and_new_methods():
    def program(t):
        x = t.ones(2, 3, dtype=t.float64)
        return (t.LongTensor([1, 2]).tolist(), str(t.LongTensor([1, 2]).dtype),
                str(t.FloatTensor([1, 2]).dtype), tuple(t.Tensor(2, 3).shape),
                str(t.Tensor([1, 2]).dtype), isinstance(t.tensor([1]), t.LongTensor),
                isinstance(t.tensor([1.0]), t.LongTensor), t.tensor([1.0]).type(),
                str(t.tensor([1]).type(t.DoubleTensor).dtype),
                str(t.tensor([1]).type("torch.FloatTensor").dtype),
                str(x.new_ones(3).dtype), tuple(x.new_zeros((2, 2)).shape),
                x.new_full((2,), 7.0).tolist(), str(x.new_tensor([1, 2]).dtype),
                str(x.new_empty(4).dtype), x.t().shape == (3, 2), x.numel(), x.dim(),
                x.is_contiguous(), x.t().is_contiguous(), x.t().contiguous().is_contiguous(),
                str(x.float().dtype), str(x.long().dtype), str(x.half().dtype),
                t.is_tensor(x), t.numel(x), x.element_size())

    theirs, ours = both(program)
    assert tuple(map(_plain, theirs)) == tuple(map(_plain, ours))


@requires_torch
def test_creation_functions_take_torch_keywords():
    def program(t):
        return (str(t.full((2,), 3).dtype), str(t.full((2,), 3.0).dtype),
                str(t.full((2,), True).dtype), str(t.arange(5).dtype), str(t.arange(0, 1, 0.25).dtype),
                t.arange(0, 1, 0.25).tolist(), t.arange(1, 2.5, 0.5).tolist(),
                str(t.linspace(0, 1, 3).dtype), t.eye(2, 3).tolist(),
                tuple(t.randint(0, 5, (3, 2)).shape), tuple(t.randint(5, (4,)).shape),
                tuple(t.rand(2, 3, requires_grad=True).shape), tuple(t.empty_like(t.ones(2)).shape),
                tuple(t.normal(t.zeros(3), t.ones(3)).shape),
                tuple(t.zeros(2, 3, layout=t.strided, device="cpu", requires_grad=False).shape))

    theirs, ours = both(program)
    assert _plain(str(theirs)) == _plain(str(ours))


# --------------------------------------------------------------------------- in place
@requires_torch
def test_accumulating_a_loss_in_place_is_recorded_as_torch_records_it():
    def program(t):
        w = t.tensor([0.5, -1.0, 2.0], requires_grad=True)
        loss = 0
        for k in range(3):
            loss += ((w * (k + 1)) ** 2).sum()
        h = w * 2
        h *= w            # recorded: d/dw (2w * w) = 4w
        h += 1
        h.sub_(w, alpha=0.5)
        (loss + h.sum()).backward()
        return w.grad.tolist(), float(loss)

    theirs, ours = both(program)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    assert ours[1] == pytest.approx(theirs[1])


def test_inplace_where_torch_refuses_it():
    w = lm.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(lm.InplaceError, match="leaf"):
        w += 1
    y = w * 2
    z = y * y
    y += 1          # z's backward needs the old y
    with pytest.raises(lm.GraphError if hasattr(lm, "GraphError") else Exception):
        z.sum().backward()
    with lm.no_grad():
        w += 1      # allowed outside recording
    np.testing.assert_allclose(w.detach().numpy(), [2.0, 3.0])


def test_deprecated_add_overload_and_int_cast_errors():
    x = lm.zeros(3)
    x.add_(2, lm.ones(3))
    np.testing.assert_allclose(x.numpy(), [2.0, 2.0, 2.0])
    i = lm.tensor([1, 2])
    with pytest.raises(lm.LaminaTypeError):
        i += 0.5


@requires_torch
def test_out_arguments():
    def program(t):
        a, b = t.ones(2, 3), t.full((3, 2), 2.0)
        out = t.empty(2, 2)
        t.mm(a, b, out=out)
        s = t.empty(0)
        t.add(a, 1, out=s)
        m = t.zeros(2, 3)
        t.mul(a, 3, out=m)
        return out.tolist(), s.tolist(), m.tolist()

    theirs, ours = both(program)
    assert theirs == ours
    with pytest.raises(lm.LaminaValueError, match="out="):
        lm.add(lm.ones(2, requires_grad=True), 1, out=lm.zeros(2))


@requires_torch
def test_unsqueeze_squeeze_t_in_place():
    def program(t):
        x = t.ones(2, 3)
        x.unsqueeze_(0)
        first = tuple(x.shape)
        x.squeeze_()
        x.t_()
        return first, tuple(x.shape)

    assert both(program)[0] == both(program)[1]


@requires_torch
def test_div_rounding_modes_match_torch():
    def program(t):
        a = t.tensor([7, -7, 5, -5])
        b = t.tensor([2, 2, -3, -3])
        f = t.tensor([7.5, -7.5])
        return (t.div(a, b, rounding_mode="trunc").tolist(), t.div(a, b, rounding_mode="floor").tolist(),
                t.div(f, 2, rounding_mode="floor").tolist(), t.div(f, 2, rounding_mode="trunc").tolist(),
                str(t.div(a, b, rounding_mode="floor").dtype))

    theirs, ours = both(program)
    assert _plain(str(theirs)) == _plain(str(ours))
