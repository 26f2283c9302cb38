# A small CNN (Conv2d, MaxPool2d, ReLU, flatten, Linear): forward, backward, SGD steps.
# compat: rtol=1e-4 atol=1e-5  (three momentum steps after convolutions summed in
# different orders by the two frameworks)
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.fc1 = nn.Linear(8 * 2 * 2, 16)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


images = fixture("images", (8, 1, 12, 12))
labels = torch.arange(8) % 4
net = Net()
init_like_reference(net)
print(net)
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)

report("conv1 output", net.conv1(images).shape)
report("pooled", net.pool(F.relu(net.conv1(images))).shape)
for step in range(3):
    optimizer.zero_grad()
    outputs = net(images)
    loss = criterion(outputs, labels)
    loss.backward()
    if step == 0:
        report("logits", outputs)
        report("conv1 grad", net.conv1.weight.grad)
        report("conv2 bias grad", net.conv2.bias.grad)
    optimizer.step()
    report(f"loss {step}", loss.item())
    print(f"[step {step + 1}] loss: {loss.item():.3f}")

_, predicted = torch.max(net(images), 1)
report("predicted", predicted)
report("state_dict", net.state_dict())
