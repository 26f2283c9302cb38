# The same cubic fit with nn.Sequential, nn.MSELoss(reduction='sum') and optim.SGD.
# compat: rtol=1e-4 atol=1e-5  (400 SGD steps on float32 sums over 2000 points)
import math

import torch
import torch.nn as nn
import torch.optim as optim

x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)
powers = torch.tensor([1, 2, 3])
features = x.unsqueeze(-1).pow(powers)
report("features", [features.shape, features.dtype])

model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
init_like_reference(model)
loss_fn = nn.MSELoss(reduction="sum")
optimizer = optim.SGD(model.parameters(), lr=1e-6)
print(model)

for t in range(400):
    y_pred = model(features)
    loss = loss_fn(y_pred, y)
    if t % 100 == 99:
        print(t, f"{loss.item():.3f}")
        report(f"loss {t}", loss)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

linear_layer = model[0]
report("weight", linear_layer.weight)
report("bias", linear_layer.bias)
report("state_dict keys", list(model.state_dict().keys()))
w = linear_layer.weight[:, 0].item(), linear_layer.weight[:, 1].item(), linear_layer.weight[:, 2].item()
print(f"Result: y = {linear_layer.bias.item():.3f} + {w[0]:.3f} x + {w[1]:.3f} x^2 + {w[2]:.3f} x^3")
