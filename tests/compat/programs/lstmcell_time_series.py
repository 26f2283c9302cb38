# Sine-wave sequence prediction with two nn.LSTMCell layers and a Linear read-out, in float64;
# the future is predicted by feeding each output back in, and outputs are stacked.
# compat: rtol=1e-6 atol=1e-8  (float64; two Adam steps through a 20-step recurrence)
import torch
import torch.nn as nn
import torch.optim as optim


class Sequence(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.hidden = hidden
        self.lstm1 = nn.LSTMCell(1, hidden)
        self.lstm2 = nn.LSTMCell(hidden, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, input, future=0):
        outputs = []
        n = input.size(0)
        h_t = torch.zeros(n, self.hidden, dtype=torch.double)
        c_t = torch.zeros(n, self.hidden, dtype=torch.double)
        h_t2 = torch.zeros(n, self.hidden, dtype=torch.double)
        c_t2 = torch.zeros(n, self.hidden, dtype=torch.double)
        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for _ in range(future):
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        return torch.stack(outputs, 1).squeeze(2)


steps = torch.arange(21, dtype=torch.float64)
phase = torch.tensor([[0.0], [0.7], [1.9], [3.1]], dtype=torch.float64)
data = torch.sin(steps / 3.0 + phase)
input, target = data[:, :-1], data[:, 1:]

seq = init_like_reference(Sequence()).double()
criterion = nn.MSELoss()
optimizer = optim.Adam(seq.parameters(), lr=0.02)
for step in range(2):
    optimizer.zero_grad()
    out = seq(input)
    loss = criterion(out, target)
    loss.backward()
    optimizer.step()
    report(f"loss {step}", loss)
    print("loss:", f"{loss.item():.6f}")
report("lstm1 weight_hh grad", seq.lstm1.weight_hh.grad)

with torch.no_grad():
    future = 5
    pred = seq(input[:2], future=future)
report("prediction", pred)
report("prediction shape", pred.shape)
