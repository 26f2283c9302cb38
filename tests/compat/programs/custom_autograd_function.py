# A custom torch.autograd.Function (Legendre polynomial P3) used in a fit, plus gradcheck.
# compat: rtol=1e-4 atol=1e-5  (300 manual gradient steps on float32 sums over 2000 points)
import math

import torch


class P3(torch.autograd.Function):
    """P3(t) = (5 t^3 - 3 t) / 2,  dP3/dt = (15 t^2 - 3) / 2."""

    @staticmethod
    def forward(ctx, t):
        ctx.save_for_backward(t)
        return (5 * t ** 3 - 3 * t) / 2

    @staticmethod
    def backward(ctx, grad_output):
        (t,) = ctx.saved_tensors
        return grad_output * (15 * t ** 2 - 3) / 2


class Scale(torch.autograd.Function):
    """y = k x for a Python number k, which gets no gradient."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.k, None


x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)
a = torch.tensor(0.0, requires_grad=True)
b = torch.tensor(-1.0, requires_grad=True)
c = torch.tensor(0.0, requires_grad=True)
d = torch.tensor(0.3, requires_grad=True)

for step in range(300):
    y_pred = a + b * P3.apply(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if step % 100 == 99:
        print(step, f"{loss.item():.4f}")
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= 5e-6 * p.grad
            p.grad = None

report("fit", [a, b, c, d])
out = Scale.apply(torch.tensor([1.0, 2.0], requires_grad=True), 3.0)
report("scale out", out)
report("grad_fn is set", out.grad_fn is not None)
t = torch.linspace(-1, 1, 5, dtype=torch.float64, requires_grad=True)
report("gradcheck", torch.autograd.gradcheck(P3.apply, (t,)))
