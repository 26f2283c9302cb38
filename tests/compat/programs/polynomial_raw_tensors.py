# Fit y = sin(x) with a cubic a + b x + c x^2 + d x^3: raw tensors, autograd, manual steps.
# compat: rtol=1e-4 atol=1e-5  (500 gradient steps on float32 sums over 2000 points; the
# frameworks sum in different orders, and the steps carry those last-bit differences forward)
import math

import torch

dtype = torch.float
device = torch.device("cpu")
x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)

a = torch.tensor(0.1, device=device, dtype=dtype, requires_grad=True)
b = torch.tensor(-0.2, device=device, dtype=dtype, requires_grad=True)
c = torch.tensor(0.05, device=device, dtype=dtype, requires_grad=True)
d = torch.tensor(0.01, device=device, dtype=dtype, requires_grad=True)

learning_rate = 1e-6
for t in range(500):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())
        report(f"loss {t}", loss.item())
    loss.backward()
    if t == 0:
        report("first grads", [a.grad, b.grad, c.grad, d.grad])
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None

report("coefficients", torch.stack([a, b, c, d]).detach())
report("leaf after update", [a.is_leaf, a.requires_grad])
print(f"Result: y = {a.item():.4f} + {b.item():.4f} x + {c.item():.4f} x^2 + {d.item():.4f} x^3")
