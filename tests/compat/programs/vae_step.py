# A variational autoencoder: Linear encoder/decoder, reparameterisation with given noise,
# loss = binary cross-entropy (sum) + KL divergence, three Adam steps.
# compat: rtol=1e-4 atol=1e-4  (Adam steps on a summed loss of about 100; atol covers the
# summed loss's float32 rounding)
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 12)
        self.fc21 = nn.Linear(12, 2)
        self.fc22 = nn.Linear(12, 2)
        self.fc3 = nn.Linear(2, 12)
        self.fc4 = nn.Linear(12, 16)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar, eps):
        return mu + eps * torch.exp(0.5 * logvar)

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x, eps):
        mu, logvar = self.encode(x.view(-1, 16))
        return self.decode(self.reparameterize(mu, logvar, eps)), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 16), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld, bce, kld


data = fixture("images", (6, 1, 4, 4), low=0.0, high=1.0)
model = init_like_reference(VAE())
optimizer = optim.Adam(model.parameters(), lr=1e-3)
for step in range(3):
    eps = fixture(f"eps {step}", (6, 2))
    optimizer.zero_grad()
    recon, mu, logvar = model(data, eps)
    loss, bce, kld = loss_function(recon, data, mu, logvar)
    loss.backward()
    optimizer.step()
    report(f"step {step}", [loss, bce, kld])
    print(f"step {step}: loss {loss.item() / len(data):.4f}")
report("mu", mu)
report("recon", recon)
report("fc1 grad", model.fc1.weight.grad)
with torch.no_grad():
    sample = model.decode(fixture("z", (2, 2)))
report("decoded sample", sample)
