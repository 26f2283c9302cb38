"""PyTorch's ``torch.utils`` namespace: :mod:`lamina.utils.data` (data sets, samplers,
collation and the DataLoader), so ``from torch.utils.data import DataLoader`` runs as
``from lamina.utils.data import DataLoader``."""
