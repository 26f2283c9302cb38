# Device handling as tutorials write it; on a machine without a GPU everything is "cpu".
import torch
import torch.nn as nn

device = "cuda" if torch.cuda.is_available() else "cpu"
print(f"Using {device} device")
dev = torch.device(device)
report("device", str(dev))
report("device type", dev.type)
report("device equality", dev == torch.device("cpu") if device == "cpu" else True)
report("accelerator available", torch.accelerator.is_available() == torch.cuda.is_available())
report("cuda device string", str(torch.device("cuda", 1)))
report("cuda device index", torch.device("cuda:0").index)
report("cpu device index", torch.device("cpu").index)

x = torch.arange(6, dtype=torch.float32).reshape(2, 3).to(device)
report("x.device", str(x.device))
report("x.device.type", x.device.type)
report("is_cuda", x.is_cuda == (device == "cuda"))
y = torch.ones(2, 3, device=device)
z = torch.zeros(3, device=dev)
report("created on device", [str(y.device), str(z.device)])
report("to dtype", x.to(torch.float64).dtype)
report("to device and dtype", x.to(dev, dtype=torch.float64).dtype)
report("to other tensor", x.to(torch.zeros(1, dtype=torch.int64)).dtype)
report("cpu()", x.cpu())

model = nn.Linear(3, 2)
init_like_reference(model)
moved = model.to(device)
report("to returns the module", moved is model)
report("parameter device", str(next(model.parameters()).device))
out = model(x + y)
loss = out.pow(2).mean()
loss.backward()
report("output", out.cpu())
report("grad device", str(model.weight.grad.device))
report("grad", model.weight.grad.cpu())
report("numpy round trip", torch.from_numpy(out.detach().cpu().numpy()))

if torch.accelerator.is_available():
    acc = torch.accelerator.current_accelerator()
    print(f"accelerator: {acc.type}")
else:
    print("no accelerator")
