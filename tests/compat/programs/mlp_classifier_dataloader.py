# An MLP classifier on fixed synthetic data: DataLoader(TensorDataset), CrossEntropyLoss, Adam.
# compat: rtol=1e-4 atol=2e-5  (35 Adam steps; Adam divides by sqrt(v), which enlarges the
# float32 rounding differences of small gradients)
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

features = fixture("features", (100, 4))
labels = (features[:, 0] + 0.5 * features[:, 1] > 0).long() + (features[:, 2] > 0.8).long()
dataset = TensorDataset(features, labels)
loader = DataLoader(dataset, batch_size=16, shuffle=False)
report("label counts", torch.bincount(labels))
report("dataset len", len(dataset))
report("loader len", len(loader))
report("first item", list(dataset[0]))

model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
init_like_reference(model)
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=1e-2)

for epoch in range(5):
    total, correct, seen = 0.0, 0, 0
    for batch, (xb, yb) in enumerate(loader):
        logits = model(xb)
        loss = criterion(logits, yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * xb.size(0)
        correct += (logits.argmax(dim=1) == yb).sum().item()
        seen += len(yb)
        if epoch == 0 and batch == len(loader) - 1:
            report("last batch shapes", [xb.shape, yb.shape, yb.dtype])
    report(f"epoch {epoch}", [total / seen, correct])
    print(f"epoch {epoch}: loss {total / seen:.4f}, accuracy {100 * correct / seen:.1f}%")

model.eval()
with torch.no_grad():
    probs = torch.softmax(model(features[:5]), dim=1)
report("probabilities", probs)
report("predictions", probs.argmax(1))
report("weights", list(model.parameters()))
