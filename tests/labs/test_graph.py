"""The graph lab: the backpropagation lecture's 2-2-1 network as a computation graph, every
edge's forward value and gradient checked against the same computation in torch; the DOT
text; the matplotlib drawing with and without Graphviz."""
import os
import stat

import numpy as np
import pytest

import lamina as lm
from lamina.autograd.graph import draw_graph, graph_layers
from lamina.classic.backprop import BACKPROP_EXAMPLE
from lamina.labs.graph import build_graph, run

OPS = ["MmBackward0", "SigmoidBackward0", "MmBackward0", "SigmoidBackward0", "SubBackward0",
       "PowBackward0", "MulBackward0", "SumBackward0"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:  # as on a machine without Graphviz
        patch.setenv("PATH", str(tmp_path_factory.mktemp("empty_path")))
        return run(quick=True, out=str(tmp_path_factory.mktemp("graph")))


def torch_reference():
    """The same forward and backward pass in torch: (op names, per-op (value, grad), leaves)."""
    torch = pytest.importorskip("torch")
    x = torch.tensor(BACKPROP_EXAMPLE["x"][:, None], requires_grad=True)
    w1 = torch.tensor(BACKPROP_EXAMPLE["W1"], requires_grad=True)
    w2 = torch.tensor(BACKPROP_EXAMPLE["W2"], requires_grad=True)
    net1 = w1 @ x
    hidden = torch.sigmoid(net1)
    net2 = w2 @ hidden
    y = torch.sigmoid(net2)
    error = y - BACKPROP_EXAMPLE["t"]
    square = error ** 2
    half = 0.5 * square
    loss = half.sum()
    inner = [net1, hidden, net2, y, error, square, half, loss]
    for t in inner:
        t.retain_grad()
    loss.backward()
    return ([t.grad_fn.name() for t in inner],
            [(t.detach().numpy(), t.grad.numpy()) for t in inner],
            {"W1": (w1, w1.grad), "W2": (w2, w2.grad), "x": (x, x.grad)})


def test_operations_in_topological_order_match_torch(report):
    names, per_op, _ = torch_reference()
    rows = report.data["nodes"]
    assert [r["op"] for r in rows] == names == OPS
    assert [r["layer"] for r in rows] == list(range(1, 9))
    assert rows[0]["inputs"] == ["W1 (2, 2)", "x (2, 1)"]
    assert rows[2]["inputs"] == ["W2 (1, 2)", "#2"]
    assert rows[4]["inputs"] == ["#4", "data ()"]
    for row, (value, grad) in zip(rows, per_op):
        np.testing.assert_allclose(np.array(row["value"]), value, rtol=1e-12)
        np.testing.assert_allclose(np.array(row["grad"]), grad, rtol=1e-12)


def test_leaf_gradients_match_torch_and_the_lecture(report):
    _, _, leaves = torch_reference()
    for name, (value, grad) in leaves.items():
        np.testing.assert_allclose(report.data["leaves"][name]["value"],
                                   value.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(report.data["leaves"][name]["grad"], grad.numpy(), rtol=1e-12)
    # the backpropagation lecture prints dL/dW2 = (0.0276, 0.0269): equal to its rounding
    np.testing.assert_allclose(report.data["leaves"]["W2"]["grad"], [[0.0276, 0.0269]], atol=2e-4)
    table = report.tables[1]
    assert [r[0] for r in table.rows] == ["W1", "W2", "x"]
    assert table.rows[1][3] == "[0.0276, 0.0269]"


def test_every_edge_points_to_a_higher_layer():
    loss, names, tensors, _ = build_graph()
    nodes, edges = graph_layers(loss, names, tensors)
    layer = {n["key"]: n["layer"] for n in nodes}
    assert all(layer[e["source"]] < layer[e["target"]] for e in edges)
    assert len(edges) == 13  # 7 between operations, 3 from leaves, 2 from constants, 1 to loss
    kinds = sorted(n["kind"] for n in nodes)
    assert kinds.count("op") == 8 and kinds.count("leaf") == 3 and kinds.count("data") == 2
    constants = [e for e in edges if e["source"].startswith("d")]
    assert all(e["value"] is None and e["grad"] is None for e in constants)


def test_graph_layers_without_kept_tensors_has_no_inner_values():
    w = lm.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    y.backward()
    nodes, edges = graph_layers(y, {id(w): "w"})
    inner = [e for e in edges if e["source"].startswith("n") and not e["target"].startswith("t")]
    assert inner and all(e["value"] is None for e in inner)  # w * w was not kept
    leaf_edges = [e for e in edges if e["source"] == f"t{id(w)}"]
    assert len(leaf_edges) == 2  # w enters the product twice, one node
    np.testing.assert_array_equal(leaf_edges[0]["grad"], [2.0, 4.0])
    assert [n["label"] for n in nodes if n["kind"] == "leaf"] == ["w"]


def test_draw_graph_puts_values_and_gradients_on_the_edges():
    plt = pytest.importorskip("matplotlib.pyplot")
    loss, names, tensors, _ = build_graph()
    fig, ax = plt.subplots()
    draw_graph(loss, names, tensors, ax=ax)
    texts = [t.get_text() for t in ax.texts]
    plt.close(fig)
    assert "grad [0.0277, 0.027]" in texts  # dL/dW2 on W2's edge
    assert "[0.68, 0.664]" in texts  # the hidden activations, the lecture's 0.68 and 0.6637
    assert sum(t == "(not kept)" for t in texts) == 2  # the two constants
    assert sum(t in OPS for t in texts) == 8


def test_dot_file_names_the_parameters(report):
    path = next(f for f in report.files if f.endswith("graph.dot"))
    dot = open(path).read()
    assert dot.startswith("digraph lamina {") and dot.rstrip().endswith("}")
    for name in ("W1", "W2", "x", "loss", "MmBackward0", "SumBackward0"):
        assert name in dot
    assert dot.count("->") == 11  # 7 operation edges + 3 leaf edges + the loss node


def test_without_graphviz_matplotlib_draws_graph_png(report):
    assert not report.data["rendered"] and report.data["drawn"]  # no `dot` on the PATH
    png = next(f for f in report.files if f.endswith("graph.png"))
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert any("not installed" in note and "matplotlib instead" in note for note in report.notes)


def _fake_dot(tmp_path, script):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text(script)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def test_with_graphviz_dot_renders_and_matplotlib_adds_the_values(tmp_path, monkeypatch):
    bin_dir = _fake_dot(tmp_path, '#!/bin/sh\nwhile [ "$1" != "-o" ]; do shift; done\n'
                                  'printf PNG > "$2"\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    report = run(quick=True, out=str(tmp_path / "with"))
    assert report.data["rendered"]
    assert (tmp_path / "with" / "graph.png").read_text() == "PNG"  # Graphviz's
    assert sorted(os.listdir(tmp_path / "with")) == ["graph.dot", "graph.png", "graph_values.png"]


def test_failing_dot_falls_back_to_matplotlib(tmp_path, monkeypatch):
    bin_dir = _fake_dot(tmp_path, "#!/bin/sh\necho 'syntax error' >&2\nexit 1\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    report = run(quick=True, out=str(tmp_path / "out"))
    assert not report.data["rendered"]
    assert any("syntax error" in note for note in report.notes)
    assert sorted(os.listdir(tmp_path / "out")) == ["graph.dot", "graph.png"]
    with open(tmp_path / "out" / "graph.png", "rb") as f:
        assert f.read(4) == b"\x89PNG"


def test_quick_and_full_agree(tmp_path):
    full = run(quick=False, out=str(tmp_path))
    assert [r["op"] for r in full.data["nodes"]] == OPS
