# Autograd basics: requires_grad, backward, .grad, accumulation, zero_, no_grad, detach.
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
print(x)

y = x * w + 1
loss = (y ** 2).sum()
print(y)
print(loss)
report("is_leaf", [x.is_leaf, y.is_leaf, loss.is_leaf])
report("requires_grad", [x.requires_grad, y.requires_grad])
report("grad_before", x.grad is None)

loss.backward()
report("x.grad", x.grad)
report("w.grad", w.grad)
print(x.grad)

# A second backward through a fresh graph adds into .grad.
loss2 = (x * w).sum()
loss2.backward()
report("x.grad accumulated", x.grad)

x.grad.zero_()
w.grad = None
report("x.grad zeroed", x.grad)
report("w.grad none", w.grad is None)

# A non-scalar output needs a gradient argument; a non-leaf keeps .grad with retain_grad().
h = x.exp()
h.retain_grad()
out = h * torch.tensor([1.0, 0.5, 0.25])
out.backward(torch.ones(3))
report("h.grad", h.grad)
report("x.grad from exp", x.grad)

with torch.no_grad():
    z = x * 2
report("no_grad result", z)
report("no_grad requires_grad", z.requires_grad)
report("grad enabled", torch.is_grad_enabled())

d = y.detach()
report("detached", d)
report("detached requires_grad", d.requires_grad)
report("grad_fn names", [type(y.grad_fn).__name__, type(loss.grad_fn).__name__])
report("detached grad_fn", d.grad_fn is None)
print(f"Gradient function for loss = {loss.grad_fn}")

x.requires_grad_(False)
report("requires_grad_", x.requires_grad)
