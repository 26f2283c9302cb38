"""torch.autograd.Function as users write it, what the engine checks: inputs changed in place
(mark_dirty, returned inputs), saved tensors modified in place or freed, and the gradients
backward returns (summed to the input's shape and cast, or wrong in number, shape or type).
Each program is PyTorch source run under torch and under lamina; everything it ``report``s
must agree (``tests/autograd/torch_programs.py``), and lamina's messages name the function
and the input.
"""
import lamina as lm

from tests.autograd.torch_programs import check
from tests.reference import requires_torch


@requires_torch
def test_mark_dirty_and_returned_inputs():
    check('''
class DoubleInPlace(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        a.mul_(2)
        ctx.mark_dirty(a)
        return a

    @staticmethod
    def backward(ctx, g):
        return g * 2

class Identity(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        return a

    @staticmethod
    def backward(ctx, g):
        return g * 3

x = fixture("x", (3,)).requires_grad_()
h = x * 1
out = DoubleInPlace.apply(h)
report("same object", out is h)
report("h changed", h)
report("h name", h.grad_fn.name())
(out * out).sum().backward()
report("x.grad", x.grad)
try:
    DoubleInPlace.apply(x)
    report("dirty leaf", "allowed")
except RuntimeError:
    report("dirty leaf", "raised")
x.grad = None
i = Identity.apply(x)
report("identity is a new tensor", [i is x, i.grad_fn.name()])
i.sum().backward()
report("identity grad", x.grad)
''')


@requires_torch
def test_returned_gradients_are_summed_to_shape_and_cast():
    check('''
class Broadcasting(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, bias):
        return x + bias

    @staticmethod
    def backward(ctx, g):
        # for bias (3,) return the full (4, 3) gradient, in float64
        return g, g.double()

x = fixture("x", (4, 3)).requires_grad_()
b = fixture("b", (3,)).requires_grad_()
Broadcasting.apply(x, b).sum().backward()
report("bias grad", b.grad)
report("x grad", x.grad)

class KeepDim(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.sum(1, keepdim=True)

    @staticmethod
    def backward(ctx, g):
        return g                          # (4, 1) for an input of (4, 3): never expanded

try:
    KeepDim.apply(x).sum().backward()
    report("smaller gradient", "accepted")
except RuntimeError:
    report("smaller gradient", "raised")
''')


@requires_torch
def test_saved_tensor_modified_in_place_raises():
    check('''
class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return 2 * a * g

x = fixture("x", (3,)).requires_grad_()
h = x * 1
y = Square.apply(h)
with torch.no_grad():
    h.add_(1)
try:
    y.sum().backward()
    report("backward", "ran")
except RuntimeError:
    report("backward", "raised")
y = Square.apply(x)
y.sum().backward()
try:
    y.grad_fn.saved_tensors
    report("freed", "readable")
except RuntimeError:
    report("freed", "raised")
''')


WRONG = '''
class WrongCount(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        return x * k

    @staticmethod
    def backward(ctx, g):
        return g                              # forgot the None for k

class WrongShape(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        return x * k

    @staticmethod
    def backward(ctx, g):
        return g[:2], None

class GradForNumber(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        return x * k

    @staticmethod
    def backward(ctx, g):
        return g, g

class NotATensor(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return 1.0

class ExtraNones(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2, None, None

x = fixture("x", (3,)).requires_grad_()
for fn in (WrongCount, WrongShape, GradForNumber):
    try:
        fn.apply(x, 2.0).sum().backward()
        report(fn.__name__, "ran")
    except RuntimeError as e:
        report(fn.__name__, "raised")
        messages.append(str(e))
try:
    NotATensor.apply(x).sum().backward()
    report("NotATensor", "ran")
except (RuntimeError, TypeError) as e:
    report("NotATensor", "raised")
    messages.append(str(e))
ExtraNones.apply(x).sum().backward()
report("trailing Nones allowed", x.grad)
'''


@requires_torch
def test_wrong_gradients_raise_under_both():
    check("messages = []\n" + WRONG)


def test_wrong_gradient_messages_name_the_function_and_the_input():
    namespace = {"torch": lm, "report": lambda *a: None, "messages": [],
                 "fixture": lambda name, shape: lm.randn(*shape)}
    exec(compile(WRONG, "<program>", "exec"), namespace)
    count, shape, number, not_tensor = namespace["messages"]
    assert "WrongCountBackward" in count and "expected 2, got 1" in count
    assert "WrongShapeBackward" in shape and "index 0" in shape and "[2]" in shape and "[3]" in shape
    assert "GradForNumberBackward" in number and "position 2" in number and "not a Tensor" in number
    assert "NotATensorBackward" in not_tensor and "float" in not_tensor and "input 0" in not_tensor
