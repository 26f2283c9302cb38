# One training step of nn.GRU + Linear, and the same recurrence unrolled with nn.GRUCell.
# compat: rtol=1e-5 atol=1e-6  (one SGD step; float32 defaults)
import torch
import torch.nn as nn

seq_len, batch, n_in, n_hidden = 7, 2, 3, 5
x = fixture("sequence", (seq_len, batch, n_in))
target = fixture("target", (seq_len, batch, 1))

gru = init_like_reference(nn.GRU(n_in, n_hidden))
head = init_like_reference(nn.Linear(n_hidden, 1))
params = list(gru.parameters()) + list(head.parameters())
optimizer = torch.optim.SGD(params, lr=0.1)
report("gru parameters", [(name, p.shape) for name, p in gru.named_parameters()])

h0 = torch.zeros(1, batch, n_hidden)
out, h_n = gru(x, h0)
loss = nn.functional.mse_loss(head(out), target)
optimizer.zero_grad()
loss.backward()
report("out", out)
report("h_n", h_n)
report("loss", loss)
report("weight_ih grad", gru.weight_ih_l0.grad)
report("bias_hh grad", gru.bias_hh_l0.grad)
optimizer.step()
report("updated weight_hh", gru.weight_hh_l0)

cell = nn.GRUCell(n_in, n_hidden)
with torch.no_grad():
    cell.weight_ih.copy_(gru.weight_ih_l0)
    cell.weight_hh.copy_(gru.weight_hh_l0)
    cell.bias_ih.copy_(gru.bias_ih_l0)
    cell.bias_hh.copy_(gru.bias_hh_l0)
    out_gru, _ = gru(x)
    h = torch.zeros(batch, n_hidden)
    steps = []
    for t in range(seq_len):
        h = cell(x[t], h)
        steps.append(h)
    unrolled = torch.stack(steps)
report("cell equals gru", unrolled)
report("max difference", (unrolled - out_gru).abs().max().item() < 1e-5)
