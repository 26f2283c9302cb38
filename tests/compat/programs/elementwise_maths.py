# Elementwise maths and sorting-type operations, values and gradients.
import torch

x = torch.linspace(-0.9, 0.9, 7, requires_grad=True)
p = torch.linspace(0.2, 3.0, 6, requires_grad=True)
q = torch.tensor([2.5, -1.25, 0.75, 4.0, -3.5, 1.5], requires_grad=True)
weights = torch.linspace(0.5, 2.0, 7)

unary = {
    "sin": (torch.sin, x), "cos": (torch.cos, x), "tan": (torch.tan, x),
    "exp2": (torch.exp2, x), "expm1": (torch.expm1, x), "log1p": (torch.log1p, x),
    "log2": (torch.log2, p), "log10": (torch.log10, p), "rsqrt": (torch.rsqrt, p),
    "reciprocal": (torch.reciprocal, q), "floor": (torch.floor, q), "ceil": (torch.ceil, q),
    "round": (torch.round, q), "trunc": (torch.trunc, q), "frac": (torch.frac, q),
    "erf": (torch.erf, x), "erfinv": (torch.erfinv, x),
    "cumsum": (lambda t: torch.cumsum(t, dim=0), q),
    "cumprod": (lambda t: torch.cumprod(t, dim=0), q),
}
for name, (fn, t) in unary.items():
    t.grad = None
    y = fn(t)
    (y * weights[: y.numel()]).sum().backward()
    report(name, [y, t.grad])

binary = {
    "atan2": lambda a, b: torch.atan2(a, b),
    "fmod": lambda a, b: torch.fmod(a, b),
    "remainder": lambda a, b: torch.remainder(a, b),
    "hypot": lambda a, b: torch.hypot(a, b),
    "lerp": lambda a, b: torch.lerp(a, b, 0.3),
}
for name, fn in binary.items():
    a = q.detach().clone().requires_grad_(True)
    b = (p.detach() - 1.1).requires_grad_(True)
    y = fn(a, b)
    (y * weights[:6]).sum().backward()
    report(name, [y, a.grad, b.grad])

report("round half to even", torch.round(torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5])))
report("round decimals", torch.round(torch.tensor([1.2345, -2.3456]), decimals=2))
report("int fmod/remainder", [torch.fmod(torch.tensor([-7, 7]), 3),
                              torch.remainder(torch.tensor([-7, 7]), 3)])
report("lerp tensor weight", torch.lerp(torch.zeros(3), torch.ones(3), torch.tensor([0.0, 0.5, 1.0])))

values, indices = torch.topk(q, 3)
report("topk", [values, indices])
s = torch.sort(q, descending=True)
report("sort", [s.values, s.indices])
report("argsort", torch.argsort(q))
report("topk smallest", torch.topk(q, 2, largest=False).indices)
m = torch.tensor([[3.0, 1.0, 2.0], [0.5, 2.5, -1.0]], requires_grad=True)
top = m.topk(2, dim=1)
(top.values * torch.tensor([1.0, 10.0])).sum().backward()
report("topk dim grad", m.grad)
report("sort dim 0", torch.sort(m.detach(), dim=0).values)
print(torch.cumsum(torch.arange(5), 0))
print(torch.round(torch.tensor([0.5, 1.5, 2.5])))
