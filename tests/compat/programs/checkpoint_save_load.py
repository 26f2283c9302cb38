# Save a checkpoint dict to a BytesIO and to a file, load it back and continue training.
# compat: rtol=1e-4 atol=1e-5  (a handful of Adam steps)
import io
import os
import tempfile
import torch
import torch.nn as nn
import torch.optim as optim

inputs = fixture("inputs", (32, 3))
targets = torch.tanh(inputs @ torch.tensor([[0.5], [-1.0], [2.0]]))


def make():
    model = init_like_reference(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)))
    return model, optim.Adam(model.parameters(), lr=0.01)


def train(model, optimizer, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(inputs), targets)
        loss.backward()
        optimizer.step()
    return loss


model, optimizer = make()
report("loss before save", train(model, optimizer, 3))
checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3}

buffer = io.BytesIO()
torch.save(checkpoint, buffer)
buffer.seek(0)
from_buffer = torch.load(buffer)
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "checkpoint.pt")
    torch.save(checkpoint, path)
    from_file = torch.load(path, weights_only=True)

report("epoch", [from_buffer["epoch"], from_file["epoch"]])
report("model keys", list(from_file["model"].keys()))
report("saved weight", from_file["model"]["0.weight"])
report("optimizer groups", from_buffer["optimizer"]["param_groups"][0]["lr"])
report(  # int(): the step count is a 0-d tensor in some frameworks, an int in others
    "optimizer state steps", [int(s["step"]) for s in from_buffer["optimizer"]["state"].values()])

restored, restored_opt = make()
with torch.no_grad():
    [p.zero_() for p in restored.parameters()]
restored.load_state_dict(from_buffer["model"])
restored_opt.load_state_dict(from_buffer["optimizer"])
start_epoch = from_buffer["epoch"] + 1
report("restored equals saved", list(map(torch.equal, restored.parameters(), model.parameters())))
loss_original = train(model, optimizer, 2)
loss_restored = train(restored, restored_opt, 2)
report("continued", [loss_original, loss_restored])
report("continued weights", list(restored.parameters()))
report("same after continuing", all(map(torch.equal, restored.parameters(), model.parameters())))
print(f"resumed at epoch {start_epoch}, loss {loss_restored.item():.4f}")
