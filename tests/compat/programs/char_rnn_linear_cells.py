# A character-level RNN built from nn.Linear cells; the loss is summed over time steps with
# `loss = 0; loss += criterion(...)`, and parameters are updated by hand through p.data.
# compat: rtol=1e-4 atol=1e-5  (30 hand-written SGD steps through a 6-step unrolled RNN)
import torch
import torch.nn as nn

vocab = "helo wrd"
text = "hello world"
n_letters, hidden_size = len(vocab), 12


def one_hot(ch):
    t = torch.zeros(1, n_letters)
    t[0][vocab.index(ch)] = 1
    return t


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(input_size + hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        return self.softmax(self.i2o(combined)), torch.tanh(self.i2h(combined))

    def init_hidden(self):
        return torch.zeros(1, self.hidden_size)

rnn = init_like_reference(RNN(n_letters, hidden_size, n_letters))
criterion = nn.NLLLoss()
inputs = [one_hot(ch) for ch in text[:-1]]
targets = [torch.tensor([vocab.index(ch)]) for ch in text[1:]]
learning_rate = 0.1

for it in range(30):
    hidden = rnn.init_hidden()
    rnn.zero_grad()
    loss = 0
    for t in range(len(inputs)):
        output, hidden = rnn(inputs[t], hidden)
        loss += criterion(output, targets[t])
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    if it % 10 == 9:
        print(f"iteration {it + 1}: loss {loss.item() / len(inputs):.4f}")
        report(f"loss {it}", loss)

with torch.no_grad():
    hidden, out = rnn.init_hidden(), "h"
    for _ in range(len(text) - 1):
        output, hidden = rnn(one_hot(out[-1]), hidden)
        out += vocab[output.topk(1)[1][0].item()]
report("generated", out)
report("i2h grad", rnn.i2h.weight.grad)
