"""Replayed training steps equal eager ones bit for bit, and fall back where they cannot."""
import numpy as np
import pytest

import lamina as lm
import lamina.nn.functional as F
from lamina import nn
from lamina.models import lenet5, mlp, tf_cnn
from lamina.train.compiled import CompiledStep, is_traceable


def _batches(shape, n, classes=10, sizes=(8, 8, 8, 5)):
    rng = np.random.default_rng(0)
    out = []
    for k in range(n):
        b = sizes[k % len(sizes)]
        out.append((lm.tensor(rng.random((b, *shape), dtype=np.float32)),
                    lm.tensor(rng.integers(0, classes, b))))
    return out


def _train(make_model, loss_fn, batches, compiled: bool):
    lm.manual_seed(5)
    model = make_model()
    opt = lm.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    step = CompiledStep(model, loss_fn, enabled=compiled)
    losses = []
    for x, y in batches:
        opt.zero_grad()
        value, out = step(x, y)
        losses.append(value)
        opt.step()
    return losses, {k: v.numpy().copy() for k, v in model.state_dict().items()}, step


@pytest.mark.parametrize("make_model,shape,loss_fn", [
    (lambda: mlp([64, 32, 10], activation="sigmoid", init="normal", output_activation="sigmoid"),
     (64,), lambda o, y: F.quadratic_loss(o, F.one_hot(y, 10).float())),
    (lambda: mlp([64, 32, 10], activation="relu", dropout=0.3), (1, 8, 8), F.cross_entropy),
    (lambda: lenet5(input_size=28), (1, 28, 28), F.cross_entropy),
    (lambda: tf_cnn(input_size=12), (1, 12, 12), F.cross_entropy),
], ids=["nielsen-mlp", "dropout-mlp", "lenet5", "tf-cnn"])
def test_replayed_steps_equal_eager_steps_bitwise(make_model, shape, loss_fn):
    batches = _batches(shape, 9)
    eager_losses, eager_weights, _ = _train(make_model, loss_fn, batches, compiled=False)
    losses, weights, step = _train(make_model, loss_fn, batches, compiled=True)
    assert step.enabled
    assert all(t is not None and t.verified for t in step._tapes.values())
    assert losses == eager_losses
    for k in weights:
        np.testing.assert_array_equal(weights[k], eager_weights[k])


def test_a_tensor_made_outside_operations_is_caught_and_the_step_stays_eager():
    def loss_fn(out, y):  # one-hot built from raw arrays: invisible to the tape
        return F.mse_loss(out, lm.tensor(np.eye(10, dtype=np.float32)[y.numpy()]))

    make = lambda: mlp([64, 10], activation="sigmoid")  # noqa: E731
    batches = _batches((64,), 6, sizes=(8,))
    eager_losses, eager_weights, _ = _train(make, loss_fn, batches, compiled=False)
    losses, weights, step = _train(make, loss_fn, batches, compiled=True)
    assert list(step._tapes.values()) == [None]  # verification failed: eager from then on
    assert losses == eager_losses
    for k in weights:
        np.testing.assert_array_equal(weights[k], eager_weights[k])


def test_models_with_state_outside_operations_are_not_traced():
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    assert not is_traceable(model)
    assert not CompiledStep(model, F.mse_loss).enabled

    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            return self.fc(x) if x.sum().item() > 0 else -self.fc(x)

    assert not is_traceable(Custom())
    assert is_traceable(mlp([4, 3, 2]))
