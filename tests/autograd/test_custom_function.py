"""torch.autograd.Function as users write it: each program below is PyTorch source, run once
with ``torch`` bound to the real torch and once with ``torch`` bound to lamina; everything it
``report``s (outputs, .grad, needs_input_grad, names, which errors were raised) must agree
(``tests/autograd/torch_programs.py``). Here: forward and backward, several outputs, None and
materialised gradients, non-differentiable outputs, the setup_context style, gradcheck and
lamina.compile; test_custom_function_checks.py has in-place inputs, saved tensors and the
gradients backward returns.
"""
import pytest

import lamina as lm

from tests.autograd.torch_programs import check
from tests.reference import requires_torch


@requires_torch
def test_exp_with_a_non_tensor_argument():
    check('''
class MyExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        report("needs_input_grad in forward", list(ctx.needs_input_grad))
        report("grad mode in forward", torch.is_grad_enabled())
        y = x.exp() * k
        ctx.save_for_backward(y)
        ctx.k = k
        return y

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors           # torch raises here the second time
        report("grad mode in backward", torch.is_grad_enabled())
        report("saved output", y)
        return grad_out * y, None

x = fixture("x", (2, 3)).requires_grad_()
y = MyExp.apply(x, 2.0)
report("y", y)
report("name", y.grad_fn.name())
report("repr", repr(y.grad_fn).startswith("<") and "MyExpBackward" in repr(y.grad_fn))
report("k on the node", y.grad_fn.k)
report("needs_input_grad on the node", list(y.grad_fn.needs_input_grad))
(y * y).sum().backward()
report("x.grad", x.grad)
try:
    (y * 3).sum().backward()
    report("second backward", "ran")
except RuntimeError:
    report("second backward", "raised")
''')


@requires_torch
def test_multiple_outputs_and_materialized_or_none_gradients():
    check('''
class SumProd(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a + b, a * b

    @staticmethod
    def backward(ctx, g_sum, g_prod):
        report("grads received", [g_sum, g_prod])
        a, b = ctx.saved_tensors
        return g_sum + g_prod * b, g_sum + g_prod * a

class Lazy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.set_materialize_grads(False)
        return a * 2, a * 3

    @staticmethod
    def backward(ctx, g1, g2):
        report("None received", [g1 is None, g2 is None])
        g = 0
        if g1 is not None:
            g = g + 2 * g1
        if g2 is not None:
            g = g + 3 * g2
        return g

class WithNumbers(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        return a * 2, 7, "label"

    @staticmethod
    def backward(ctx, g, g_int, g_str):
        report("non-tensor outputs get None", [g_int is None, g_str is None])
        return g * 2

a = fixture("a", (3,)).requires_grad_()
b = fixture("b", (3,)).requires_grad_()
s, p = SumProd.apply(a, b)
report("outputs", [s, p])
report("one node", s.grad_fn is p.grad_fn)
p.sum().backward()                       # s gets no gradient: zeros
report("grads", [a.grad, b.grad])
a.grad = b.grad = None
s, p = SumProd.apply(a, b)
(s * 2 + p).sum().backward()
report("grads both", [a.grad, b.grad])
a.grad = None
u, v = Lazy.apply(a)
v.sum().backward()
report("lazy grad", a.grad)
a.grad = None
out = WithNumbers.apply(a)
report("mixed outputs", [out[0], out[1], out[2]])
out[0].sum().backward()
report("mixed grad", a.grad)
''')


@requires_torch
def test_none_gradients_needs_input_grad_and_grad_mode():
    check('''
class Affine(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, shift, scale=1.0):
        report("needs", list(ctx.needs_input_grad))
        ctx.save_for_backward(x, w)
        ctx.scale = scale
        return (x * w + shift) * scale

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        gx = g * w * ctx.scale if ctx.needs_input_grad[0] else None
        gw = g * x * ctx.scale if ctx.needs_input_grad[1] else None
        return gx, gw, None, None

x = fixture("x", (4,)).requires_grad_()
w = fixture("w", (4,)).requires_grad_()
c = fixture("c", (4,))
y = Affine.apply(x, w, c, 0.5)
y.sum().backward()
report("grads", [x.grad, w.grad, c.grad])
y = Affine.apply(x.detach(), w, 1.0, 2.0)    # x without grad: gets no gradient
x.grad = w.grad = None
y.sum().backward()
report("only w", [x.grad, w.grad])
y = Affine.apply(c, c, c, 1.0)
report("nothing requires grad", [y.requires_grad, y.grad_fn is None])
with torch.no_grad():
    y = Affine.apply(x, w, c, 1.0)
report("under no_grad", [y.requires_grad, y.grad_fn is None])

class DropW(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w):
        return x * w

    @staticmethod
    def backward(ctx, g):
        return g, None                        # w requires grad but gets None

x.grad = w.grad = None
DropW.apply(x, w).sum().backward()
report("None gradient leaves .grad None", [x.grad, w.grad is None])
''')


@requires_torch
def test_non_differentiable_outputs_and_integer_outputs():
    check('''
class SortWithIndices(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        values, indices = x.sort()
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        return values, indices

    @staticmethod
    def backward(ctx, g_values, g_indices):
        report("index gradient", g_indices)
        (indices,) = ctx.saved_tensors
        grad = torch.zeros_like(g_values)
        grad[indices] = g_values
        return grad

class ArgMax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.argmax()

    @staticmethod
    def backward(ctx, g):
        return None

x = fixture("x", (5,)).requires_grad_()
values, indices = SortWithIndices.apply(x)
report("values", values)
report("indices", indices)
report("indices have no grad_fn", indices.grad_fn is None)
(values * torch.arange(5.0)).sum().backward()
report("x.grad", x.grad)
m = ArgMax.apply(x)
report("integer output", [m, m.grad_fn is None])
''')


@requires_torch
def test_setup_context_style_with_defaults():
    check('''
class Cube(torch.autograd.Function):
    @staticmethod
    def forward(x, scale=3.0):
        report("grad mode in forward", torch.is_grad_enabled())
        return x ** 3 * scale

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, scale = inputs
        report("inputs seen", [len(inputs), scale])
        ctx.save_for_backward(x)
        ctx.scale = scale

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2 * ctx.scale, None

x = fixture("x", (2, 2)).requires_grad_()
y = Cube.apply(x)
report("y", y)
report("name", y.grad_fn.name())
y.sum().backward()
report("x.grad", x.grad)
x.grad = None
Cube.apply(x, scale=0.5).sum().backward()
report("x.grad scale keyword", x.grad)
''')


def test_custom_function_matches_gradcheck_and_torch_class_layout():
    class Tanh(lm.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.tanh()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * (1 - y * y)

    x = lm.randn(5, dtype=lm.float64, requires_grad=True)
    assert lm.autograd.gradcheck(Tanh.apply, (x,))
    assert lm.autograd.function.FunctionCtx is lm.autograd.FunctionCtx
    assert isinstance(Tanh.apply(x).grad_fn, lm.autograd.FunctionCtx)
    # lamina's own operations keep the raw-array base class
    from lamina.ops.arithmetic import Exp

    assert issubclass(Exp, lm.autograd.function.Function)
    assert not issubclass(Exp, lm.autograd.Function)


def test_a_custom_function_inside_a_compiled_step_keeps_it_eager():
    class Twice(lm.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    w = lm.randn(3, requires_grad=True)

    def step(x):
        loss = Twice.apply(x * w).sum()
        loss.backward()
        return loss

    compiled = lm.compile(step)
    with pytest.warns(RuntimeWarning, match="custom autograd.Function"):
        for _ in range(3):
            compiled(lm.randn(3))
    assert compiled.stats["replayed"] == 0
