"""``grad_fn`` as PyTorch shows it: node names, ``name()``, ``next_functions`` and
``AccumulateGrad`` leaves, compared with torch on the same computations."""
import numpy as np
import pytest

import lamina as lm
import lamina.nn.functional as LF

from tests.reference import requires_torch, torch

TF = torch.nn.functional

# expressions whose node PyTorch names the same way whatever the arguments
NAMED = {
    "add": "x + y", "add_scalar": "x + 1", "sub": "x - y", "mul": "x * y", "div": "x / y",
    "neg": "-x", "pow_scalar": "x ** 2", "pow_tensor": "x.abs() ** y", "exp": "x.exp()",
    "log": "x.abs().log()", "sqrt": "x.abs().sqrt()", "abs": "x.abs()", "sign": "x.sign()",
    "sum": "x.sum()", "mean": "x.mean()", "var": "x.var()", "std": "x.std()", "prod": "x.prod()",
    "norm": "x.norm()", "logsumexp": "x.logsumexp(1)", "mm": "x @ y.T", "clamp": "x.clamp(-0.5, 0.5)",
    "maximum": "torch.maximum(x, y)", "minimum": "torch.minimum(x, y)",
    "where": "torch.where(x > 0, x, y)", "reshape": "x.reshape(12)", "view": "x.view(4, 3)",
    "permute": "x.permute(1, 0)", "expand": "x[:1].expand(3, 4)", "flip": "x.flip(0)",
    "repeat": "x.repeat(2, 1)", "clone": "x.clone()", "to_double": "x.double()",
    "cat": "torch.cat([x, y])", "stack": "torch.stack([x, y])", "split": "x.split(1)[0]",
    "unbind": "x.unbind()[0]", "gather": "x.gather(1, t[:, None])", "index": "x[[0, 2]]",
    "index_select": "x.index_select(0, t)", "embedding": "F.embedding(t, y)",
    "sigmoid": "x.sigmoid()", "tanh": "x.tanh()", "relu": "torch.relu(x)", "gelu": "F.gelu(x)",
    "leaky_relu": "F.leaky_relu(x)", "elu": "F.elu(x)", "silu": "F.silu(x)",
    "softplus": "F.softplus(x)", "hardtanh": "F.hardtanh(x)", "logsigmoid": "F.logsigmoid(x)",
    "softmax": "x.softmax(1)", "log_softmax": "x.log_softmax(1)", "pad": "F.pad(x, (1, 1))",
    "linear": "F.linear(x, w, b)",
    "layer_norm": "F.layer_norm(x, (4,))",
    "batch_norm": "F.batch_norm(x, None, None, training=True)",
    "mse": "F.mse_loss(x, y)", "cross_entropy": "F.cross_entropy(x, t)", "nll": "F.nll_loss(x, t)",
    "bce": "F.binary_cross_entropy(x.sigmoid(), y.detach().sigmoid())",
    "bce_logits": "F.binary_cross_entropy_with_logits(x, y.detach().sigmoid())",
    "smooth_l1": "F.smooth_l1_loss(x, y)", "huber": "F.huber_loss(x, y)",
    "conv2d": "F.conv2d(img, k)", "max_pool2d": "F.max_pool2d(img, 2)",
    "avg_pool2d": "F.avg_pool2d(img, 2)", "adaptive_avg_pool2d": "F.adaptive_avg_pool2d(img, 2)",
}


def _inputs(fw):
    rng = np.random.default_rng(0)

    def leaf(*shape):
        return fw.tensor(rng.standard_normal(shape).astype("float32"), requires_grad=True)

    return {"x": leaf(3, 4), "y": leaf(3, 4), "w": leaf(5, 4), "b": leaf(5),
            "img": leaf(1, 1, 4, 4), "k": leaf(1, 1, 3, 3), "t": fw.tensor([0, 2, 1])}


@requires_torch
@pytest.mark.parametrize("expression", NAMED.values(), ids=NAMED.keys())
def test_node_names_match_torch(expression):
    expected = eval(expression, {"torch": torch, "F": TF, **_inputs(torch)}).grad_fn
    actual = eval(expression, {"torch": lm, "F": LF, **_inputs(lm)}).grad_fn
    assert actual.name() == expected.name()
    assert type(actual.name()) is str
    assert type(actual).__name__ == type(expected).__name__ == expected.name()
    assert repr(actual).startswith(f"<{expected.name()} object at 0x")


@requires_torch
def test_tensor_repr_shows_the_node_like_torch():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == repr(tx * 2)
    assert repr((x * 2).sum()) == repr((tx * 2).sum())


GRAPH = """
h = torch.relu(x @ w.T + b)
a, c = h.split(1, dim=1)[:2]
loss = (a * c).mean() + (w ** 2).sum() * 0.1 + (h * z).sum()
"""


def _structure(fn, leaves: dict):
    """The graph below ``fn`` as nested (name, [child, output index]) tuples; a leaf as
    ('AccumulateGrad', its name), an input without grad as None."""
    if fn is None:
        return None
    if fn.name().endswith("AccumulateGrad"):
        assert fn.next_functions == ()
        return ("AccumulateGrad", next(n for n, t in leaves.items() if t is fn.variable))
    return (fn.name(), [(_structure(child, leaves), index) for child, index in fn.next_functions])


def _graph(fw):
    rng = np.random.default_rng(3)
    leaves = {"x": fw.tensor(rng.standard_normal((4, 3)).astype("float32")),
              "w": fw.tensor(rng.standard_normal((5, 3)).astype("float32"), requires_grad=True),
              "b": fw.tensor(rng.standard_normal(5).astype("float32"), requires_grad=True),
              "z": fw.tensor(rng.standard_normal((4, 5)).astype("float32"))}
    namespace = {"torch": fw, **leaves}
    exec(GRAPH, namespace)
    return namespace, leaves


@requires_torch
def test_next_functions_structure_matches_torch():
    t_ns, t_leaves = _graph(torch)
    l_ns, l_leaves = _graph(lm)
    expected = _structure(t_ns["loss"].grad_fn, t_leaves)
    actual = _structure(l_ns["loss"].grad_fn, l_leaves)
    assert actual == expected


def test_accumulate_grad_is_one_object_per_leaf_and_edges_point_at_outputs():
    ns, leaves = _graph(lm)
    mul = ns["a"] * ns["c"]
    (split_a, index_a), (split_c, index_c) = mul.grad_fn.next_functions
    assert split_a is split_c and (index_a, index_c) == (0, 1)
    assert split_a is ns["a"].grad_fn and split_a.next_functions[0][0] is ns["h"].grad_fn
    w = leaves["w"]
    first = (w * 2).grad_fn.next_functions[0][0]
    second = (w + 1).grad_fn.next_functions[0][0]
    assert first is second and first.variable is w
    assert first.name() == "torch::autograd::AccumulateGrad"
    assert repr(first).startswith("<AccumulateGrad object at 0x")
    assert w.grad_fn is None
    constant = (leaves["x"] * w[0]).grad_fn.next_functions[0]
    assert constant == (None, 0)


def test_node_name_is_usable_as_a_string():
    node = (lm.ones(2, requires_grad=True) * 3).grad_fn
    assert node.name == "MulBackward0" and node.name() == "MulBackward0"
    assert f"{node.name}" == "MulBackward0"
