# Scalar expressions of the kind a small autograd engine's test file checks, in float64.
import torch

x = torch.Tensor([-4.0]).double()
x.requires_grad = True
z = 2 * x + 2 + x
q = z.relu() + z * x
h = (z * z).relu()
y = h + q + q * x
y.backward()
report("sanity y", y.data.item())
report("sanity dy/dx", x.grad.item())
print(f"y = {y.item()}, dy/dx = {x.grad.item()}")

a = torch.Tensor([-4.0]).double()
b = torch.Tensor([2.0]).double()
a.requires_grad = True
b.requires_grad = True
c = a + b
d = a * b + b ** 3
c = c + c + 1
c = c + 1 + c + (-a)
d = d + d * 2 + (b + a).relu()
d = d + 3 * d + (b - a).relu()
e = c - d
f = e ** 2
g = f / 2.0
g = g + 10.0 / f
g.backward()
report("more ops g", g.item())
report("more ops dg/da", a.grad.item())
report("more ops dg/db", b.grad.item())

# Reflected operators, tanh, exp and a fractional power.
u = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
v = (1 - u) * (3 / u) + (u ** 0.5).tanh() - 2 ** u + (-u).exp() * 4
v.backward()
report("reflected v", v)
report("reflected dv/du", u.grad)
print(f"v = {v.item():.6f}, dv/du = {u.grad.item():.6f}")
print(u.grad)
