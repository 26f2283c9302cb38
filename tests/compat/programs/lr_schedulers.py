# Learning-rate schedulers stepped once per epoch, printing the rates.
import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler

model = nn.Linear(2, 1)


def run(name, make, epochs=6):
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    scheduler = make(optimizer)
    rates = []
    for epoch in range(epochs):
        optimizer.step()  # no gradients here: the parameters stay; the rate is what we check
        scheduler.step()
        rates.append(scheduler.get_last_lr()[0])
    report(name, rates)
    print(name, " ".join(f"{r:.5f}" for r in rates))


run("StepLR", lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.5))
run("MultiStepLR", lambda o: lr_scheduler.MultiStepLR(o, milestones=[1, 4], gamma=0.1))
run("ExponentialLR", lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9))
run("CosineAnnealingLR", lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.01),
    epochs=8)
run("LambdaLR", lambda o: lr_scheduler.LambdaLR(o, lr_lambda=lambda e: 1.0 / (e + 1)))

optimizer = optim.SGD(model.parameters(), lr=0.1)
plateau = lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=1)
val_losses = [1.0, 0.9, 0.95, 0.97, 0.96, 0.5, 0.6, 0.7, 0.8, 0.55]
rates = []
for epoch, val_loss in enumerate(val_losses):
    optimizer.step()
    plateau.step(val_loss)
    rates.append(optimizer.param_groups[0]["lr"])
    print(f"epoch {epoch}: val {val_loss:.2f} lr {optimizer.param_groups[0]['lr']}")
report("ReduceLROnPlateau", rates)

optimizer = optim.SGD(model.parameters(), lr=0.2)
scheduler = lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
report("initial last lr", scheduler.get_last_lr())
optimizer.step()
scheduler.step()
report("state_dict last_epoch", scheduler.state_dict()["last_epoch"])
report("group lr", optimizer.param_groups[0]["lr"])
