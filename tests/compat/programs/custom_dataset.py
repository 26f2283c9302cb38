# A Dataset subclass with __getitem__/__len__, DataLoader batching and collation, Subset.
import torch
from torch.utils.data import DataLoader, Dataset, Subset


class SquaresDataset(Dataset):
    """Item i: features [i, i/10], the Python int label i % 3, and the target i^2."""

    def __init__(self, n):
        self.values = torch.arange(n, dtype=torch.float32)

    def __len__(self):
        return len(self.values)

    def __getitem__(self, idx):
        v = self.values[idx]
        return torch.stack([v, v / 10]), idx % 3, v ** 2


class DictDataset(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, idx):
        return {"x": torch.full((2,), float(idx)), "weight": 0.5 * idx}


data = SquaresDataset(10)
report("len", len(data))
report("item 3", list(data[3]))
loader = DataLoader(data, batch_size=4)
report("batches", len(loader))
for i, (features, label, target) in enumerate(loader):
    report(f"batch {i}", [features, label, target])

dropped = DataLoader(data, batch_size=4, drop_last=True)
report("drop_last batches", [len(dropped), sum(1 for _ in dropped)])
first = next(iter(DataLoader(DictDataset(), batch_size=3)))
report("dict batch", first)
report("subset", [t for t, _, _ in DataLoader(Subset(data, [9, 1, 4]), batch_size=3)])

model = torch.nn.Linear(2, 1)
init_like_reference(model)
opt = torch.optim.SGD(model.parameters(), lr=1e-3)
for epoch in range(2):
    for features, _, target in loader:
        loss = torch.nn.functional.mse_loss(model(features).squeeze(1), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    report(f"epoch {epoch} loss", loss)
