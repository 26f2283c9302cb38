"""The computational graph of a small network, as Graphviz DOT (Schwing & Telgarsky, Deep Neural Networks).

Seed 001 ("Composite function represented as acyclic graph"): a network with its loss is a
composite function F(w, x, y) = f_1(w_1, y, f_2(w_2, f_3(w_3, x))), "represented by an
acyclic graph (computation graph)" whose nodes are weights, data and functions;
backpropagation walks it once, in reverse topological order, reusing each node's result
("To avoid repeated computation, backpropagation on an acyclic graph").

Here f_3 is the first layer (w_3 = fc1's weight and bias), f_2 the second (fc2) and f_1 the
quadratic loss against the targets y. lamina records one node per operation during the
forward pass; :func:`lamina.autograd.to_dot` writes the graph with the parameters named by
``named_parameters()``. The table lists the operations in the topological order the
backward pass reverses.
"""
from __future__ import annotations

import os
import shutil
import subprocess

from .. import nn
from .report import Report

__all__ = ["run", "TwoLayerNet", "build_graph"]


class TwoLayerNet(nn.Module):
    """f(x) = fc2(sigmoid(fc1(x))): Schwing & Telgarsky's f_2(w_2, f_3(w_3, x))."""

    def __init__(self, d_in: int = 2, hidden: int = 3, d_out: int = 1) -> None:
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, d_out)

    def forward(self, x):
        return self.fc2(nn.functional.sigmoid(self.fc1(x)))


def build_graph(batch: int = 4) -> tuple:
    """Run the forward pass of the 2-3-1 network and its MSE loss on a small batch; returns
    (loss, names, nodes) with ``names`` mapping tensor ids to labels for ``to_dot`` and
    ``nodes`` the operations in topological order as dicts (op, output shape, inputs)."""
    import lamina as lm
    from ..autograd.engine import topological_order
    from ..nn import functional as F

    lm.manual_seed(0)
    net = TwoLayerNet()
    x = lm.randn(batch, 2)
    y = lm.randn(batch, 1)
    loss = F.mse_loss(net(x), y)
    names = {id(p): name for name, p in net.named_parameters()}
    names[id(loss)] = "loss"
    order = topological_order(loss.grad_fn)
    # A node's output shape is recorded where it is consumed (the consumer's input shape).
    out_shape = {id(loss.grad_fn): tuple(loss.shape)}
    for node in order:
        for parent, (shape, _dtype) in zip(node.parents, node.input_meta):
            if type(parent) is tuple:
                out_shape[id(parent[0])] = tuple(shape)
    number = {id(node): i + 1 for i, node in enumerate(order)}
    nodes = []
    for node in order:
        inputs = []
        for parent, (shape, _dtype) in zip(node.parents, node.input_meta):
            if parent is None:
                inputs.append(f"data {tuple(shape)}")
            elif type(parent) is tuple:
                inputs.append(f"#{number[id(parent[0])]}")
            else:
                inputs.append(names.get(id(parent), "leaf") + f" {tuple(parent.shape)}")
        nodes.append({"op": node.name, "shape": out_shape[id(node)], "inputs": inputs})
    return loss, names, nodes


def run(quick: bool = False, out: str = "lab-graph") -> Report:
    """Write graph.dot (and graph.png with Graphviz's ``dot``) and list the nodes."""
    from ..atomic import atomic_path, atomic_write_text
    from ..autograd import to_dot

    report = Report("graph")
    loss, names, nodes = build_graph()
    table = report.table("The computational graph of loss = mse(fc2(sigmoid(fc1(x))), y), "
                         "operations in topological order (Schwing & Telgarsky, Deep Neural Networks)",
                         ["#", "operation", "output shape", "inputs"])
    for i, node in enumerate(nodes, start=1):
        table.add(i, node["op"], str(node["shape"]), ", ".join(node["inputs"]))
    dot = to_dot(loss, names)
    os.makedirs(out, exist_ok=True)
    dot_path = os.path.join(out, "graph.dot")
    atomic_write_text(dot_path, dot + "\n")
    report.files.append(dot_path)
    rendered = False
    if shutil.which("dot"):
        png_path = os.path.join(out, "graph.png")
        try:
            with atomic_path(png_path) as tmp:  # a failed render leaves no graph.png behind
                done = subprocess.run(["dot", "-Tpng", dot_path, "-o", tmp], capture_output=True,
                                      text=True, timeout=60)
                if done.returncode != 0 or os.path.getsize(tmp) == 0:
                    raise RuntimeError(done.stderr.strip()[:200] or f"exit status {done.returncode}")
            report.files.append(png_path)
            rendered = True
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
            report.notes.append(f"Graphviz's dot failed ({error}); graph.png was not written.")
    else:
        report.notes.append("Graphviz's `dot` program is not installed: graph.png was not rendered "
                            f"(render it elsewhere with `dot -Tpng {dot_path} -o graph.png`).")
    report.data = {"nodes": nodes, "dot": dot, "rendered": rendered}
    leaves = sum(1 for n in nodes for i in n["inputs"] if not i.startswith(("#", "data")))
    report.notes.append(
        f"{len(nodes)} operation nodes and {leaves} parameter leaves (fc1.weight, fc1.bias, "
        "fc2.weight, fc2.bias, named by named_parameters()). In Schwing & Telgarsky's notation f_3 is fc1 "
        "(its Linear node), f_2 the sigmoid and fc2, f_1 the loss with the targets y. The data x "
        "and y need no gradient, so the graph keeps only their shapes; backward() visits these "
        "nodes in the reverse of the order above, each exactly once.")
    return report
