"""The trainer's step through lamina.compile (``fit(compile=True)``, ``lamina train
--compile``) equals the eager step bit for bit, and stays eager where it cannot replay."""
import json
import warnings

import numpy as np
import pytest

import lamina as lm
import lamina.nn.functional as F
from lamina import nn
from lamina.cli import main
from lamina.models import lenet5, mlp, tf_cnn
from lamina.serialization import load
from lamina.train.fit import _forward_backward


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
    step = _forward_backward(model, loss_fn)
    if compiled:
        step = lm.compile(step)
    losses = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for x, y in batches:
            opt.zero_grad()
            loss, _ = step(x, y)
            losses.append(loss.item())
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
    assert step.explain() == [] and step.stats["replayed"] == 5  # 2 shapes, 2 calls each
    assert losses == eager_losses
    for k in weights:
        np.testing.assert_array_equal(weights[k], eager_weights[k])


def test_a_tensor_made_outside_operations_is_caught_and_the_step_stays_eager():
    def loss_fn(out, y):  # one-hot built from raw arrays: not an operation
        return F.mse_loss(out, lm.tensor(np.eye(10, dtype=np.float32)[y._data]))

    make = lambda: mlp([64, 10], activation="sigmoid")  # noqa: E731
    batches = _batches((64,), 6, sizes=(8,))
    eager_losses, eager_weights, _ = _train(make, loss_fn, batches, compiled=False)
    losses, weights, step = _train(make, loss_fn, batches, compiled=True)
    assert step.stats["replayed"] == 0 and "neither an argument" in step.explain()[0]
    assert losses == eager_losses
    for k in weights:
        np.testing.assert_array_equal(weights[k], eager_weights[k])


@pytest.mark.parametrize("kind", ["batchnorm", "python-branch"])
def test_models_with_state_or_branches_outside_operations_stay_eager(kind):
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            return self.fc(x) if x.sum().item() > 0 else -self.fc(x)

    make = {"batchnorm": lambda: nn.Sequential(nn.Linear(64, 10), nn.BatchNorm1d(10)),
            "python-branch": Branchy}[kind]
    batches = _batches((64,), 5, sizes=(8,))
    eager_losses, eager_weights, _ = _train(make, F.cross_entropy, batches, compiled=False)
    losses, weights, step = _train(make, F.cross_entropy, batches, compiled=True)
    assert step.stats["replayed"] == 0 and len(step.explain()) == 1
    assert losses == eager_losses
    for k in weights:
        np.testing.assert_array_equal(weights[k], eager_weights[k])


def test_lamina_train_compile_gives_the_eager_run_bitwise(tmp_path):
    runs = {}
    for flag in ([], ["--compile"]):
        out = tmp_path / ("compiled" if flag else "eager")
        args = ["train", "--model", "mlp:64,32,10:sigmoid", "--epochs", "2", "--dropout", "0.2",
                "--train-size", "200", "--val-size", "60", "--quiet", "--out", str(out), *flag]
        assert main(args) == 0
        runs[bool(flag)] = out
    for name in ("metrics.jsonl",):
        eager = [json.loads(line) for line in (runs[False] / name).read_text().splitlines()]
        compiled = [json.loads(line) for line in (runs[True] / name).read_text().splitlines()]
        for a, b in zip(eager, compiled):
            a.pop("seconds"), b.pop("seconds")
        assert eager == compiled
    a, b = load(str(runs[False] / "model.safetensors")), load(str(runs[True] / "model.safetensors"))
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())
    config = json.loads((runs[True] / "config.json").read_text())
    assert config["compile"] is True
    assert json.loads((runs[False] / "config.json").read_text())["compile"] is False
