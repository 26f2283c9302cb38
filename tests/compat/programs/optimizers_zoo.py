# Every optimiser in torch.optim, five steps each on the same quadratic.
# compat: rtol=1e-5 atol=1e-6  (five steps; float32 defaults)
import torch
import torch.optim as optim

target = torch.tensor([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
scale = torch.tensor([[1.0, 4.0, 0.5], [2.0, 1.0, 8.0]])
start = torch.linspace(-1, 1, 6).reshape(2, 3)


def objective(w):
    return (scale * (w - target) ** 2).sum() + 0.3 * (w[0] * w[1]).sum()


configs = {
    "SGD": lambda p: optim.SGD(p, lr=0.05),
    "SGD momentum": lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
    "SGD nesterov": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "SGD dampening wd": lambda p: optim.SGD(p, lr=0.05, momentum=0.5, dampening=0.1,
                                            weight_decay=0.01),
    "Adam": lambda p: optim.Adam(p, lr=0.1),
    "Adam amsgrad": lambda p: optim.Adam(p, lr=0.1, betas=(0.8, 0.99), amsgrad=True),
    "AdamW": lambda p: optim.AdamW(p, lr=0.1, weight_decay=0.1),
    "RMSprop": lambda p: optim.RMSprop(p, lr=0.01),
    "RMSprop centered momentum": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.9,
                                                         centered=True),
    "Adagrad": lambda p: optim.Adagrad(p, lr=0.1),
    "Adadelta": lambda p: optim.Adadelta(p, lr=1.0),
    "Adamax": lambda p: optim.Adamax(p, lr=0.1),
    "NAdam": lambda p: optim.NAdam(p, lr=0.1),
    "RAdam": lambda p: optim.RAdam(p, lr=0.1),
}

for name, make in configs.items():
    w = start.clone().requires_grad_(True)
    optimizer = make([w])
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = objective(w)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    report(name, w)
    report(f"{name} losses", losses)
    print(f"{name:>26}: {objective(w).item():.4f}")

a, b = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
groups = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
(a.sum() + 2 * b.sum()).backward()
groups.step()
report("param groups", [a, b, [g["lr"] for g in groups.param_groups]])
report("defaults", [groups.defaults["momentum"], groups.param_groups[1]["momentum"]])
