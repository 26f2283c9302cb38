# A custom nn.Module whose forward pass depends on Python control flow and on the data.
# compat: rtol=1e-4 atol=1e-5  (12 momentum steps through weight-shared tanh layers)
import torch
import torch.nn as nn


class DynamicNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(4, 8)
        self.hidden = nn.Linear(8, 8)
        self.out = nn.Linear(8, 1)

    def forward(self, x, depth):
        h = torch.tanh(self.inp(x))
        for _ in range(depth):  # the same layer reused: its gradient accumulates
            h = torch.tanh(self.hidden(h))
        if h.mean() > 0:
            h = h * 2
            branch = "double"
        else:
            h = -h
            branch = "negate"
        return self.out(h).squeeze(1), branch


x = fixture("inputs", (16, 4))
target = torch.sin(x.sum(dim=1))
model = DynamicNet()
init_like_reference(model)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
criterion = nn.MSELoss()

for step in range(12):
    depth = step % 3 + 1
    pred, branch = model(x, depth)
    loss = criterion(pred, target)
    report(f"step {step}", [depth, branch, loss])
    optimizer.zero_grad()
    loss.backward()
    if step == 0:
        report("hidden grad", model.hidden.weight.grad)
    optimizer.step()

report("params", [p for p in model.parameters()])
report("n params", sum(p.numel() for p in model.parameters()))
report("children", [name for name, _ in model.named_children()])
model.eval()
report("training flags", [model.training, model.hidden.training])
