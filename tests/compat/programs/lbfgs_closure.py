# An optimizer that needs a closure: LBFGS on a small least-squares problem (with and without
# the strong-Wolfe line search), and SGD.step(closure) returning the loss.
# compat: rtol=1e-4 atol=1e-4  (LBFGS iterates are compared after convergence; the path there
# depends on float32 rounding in the curvature pairs)
import torch
import torch.optim as optim

A = fixture("design", (20, 3))
w_true = torch.tensor([1.0, -2.0, 0.5])
b = A @ w_true + 0.01 * fixture("noise", 20)


def fit(**options):
    w = torch.zeros(3, requires_grad=True)
    optimizer = optim.LBFGS([w], lr=1, max_iter=25, history_size=10, **options)
    calls = []

    def closure():
        optimizer.zero_grad()
        loss = ((A @ w - b) ** 2).mean()
        loss.backward()
        calls.append(loss.item())
        return loss

    first = optimizer.step(closure)
    optimizer.step(closure)
    return w, first, calls


w_plain, first_plain, calls_plain = fit()
report("plain solution", w_plain)
report("plain first loss", first_plain)
report("plain final loss", calls_plain[-1])
w_wolfe, first_wolfe, calls_wolfe = fit(line_search_fn="strong_wolfe")
report("wolfe solution", w_wolfe)
report("wolfe final loss", calls_wolfe[-1])
print(f"w = [{w_wolfe[0].item():.3f}, {w_wolfe[1].item():.3f}, {w_wolfe[2].item():.3f}]")

v = torch.zeros(3, requires_grad=True)
sgd = optim.SGD([v], lr=0.1)


def sgd_closure():
    sgd.zero_grad()
    loss = ((A @ v - b) ** 2).mean()
    loss.backward()
    return loss


losses = [sgd.step(sgd_closure) for _ in range(5)]
report("sgd closure losses", losses)
report("sgd solution", v)
