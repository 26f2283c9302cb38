# A sequence classifier: nn.Embedding -> two-layer nn.LSTM(batch_first) -> nn.Linear.
# compat: rtol=1e-4 atol=1e-5  (three Adam steps; Adam enlarges float32 differences of
# small gradients)
import torch
import torch.nn as nn
import torch.optim as optim


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden_dim, n_classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, num_layers=2, batch_first=True)
        self.fc = nn.Linear(hidden_dim, n_classes)

    def forward(self, tokens):
        embedded = self.embedding(tokens)
        output, (h_n, c_n) = self.lstm(embedded)
        return self.fc(h_n[-1]), output, h_n, c_n


tokens = torch.tensor([[1, 4, 2, 7, 3, 0], [5, 5, 1, 2, 9, 8], [0, 3, 6, 6, 2, 1]])
labels = torch.tensor([2, 0, 1])
model = init_like_reference(LSTMClassifier(10, 6, 8, 3))
report("parameter names", [name for name, _ in model.named_parameters()])
report("parameter shapes", [p.shape for p in model.parameters()])
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=0.01)

for step in range(3):
    logits, output, h_n, c_n = model(tokens)
    loss = criterion(logits, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step == 0:
        report("output", output)
        report("h_n", h_n)
        report("c_n", c_n)
        report("logits", logits)
        report("weight_ih_l0 grad", model.lstm.weight_ih_l0.grad)
        report("embedding grad", model.embedding.weight.grad)
    report(f"loss {step}", loss)
    print(f"step {step}: loss {loss.item():.4f}")

report("lstm weights", [model.lstm.weight_hh_l1, model.lstm.bias_ih_l1])
h0 = torch.zeros(2, 3, 8)
out2, _ = model.lstm(model.embedding(tokens), (h0, h0))
report("explicit zero state", out2)
