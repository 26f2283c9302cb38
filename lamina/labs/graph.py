"""The computational graph of a small network, forward values and backward gradients on its
edges (Schwing & Telgarsky, "Deep Neural Networks").

Schwing & Telgarsky ("Composite function represented as acyclic graph"): a network with its
loss is a composite function F(w, x, y) = f_1(w_1, y, f_2(w_2, f_3(w_3, x))), "represented
by an acyclic graph (computation graph)" whose nodes are weights, data and functions; the
forward pass computes every node's value from its inputs, and backpropagation walks the graph
once, in reverse topological order, reusing each node's result ("To avoid repeated
computation, backpropagation on an acyclic graph").

The network is the backpropagation lecture's 2-2-1 example (sigmoid units, no biases,
x = (0.35, 0.9), W^1 = [[0.1, 0.8], [0.4, 0.6]], W^2 = [[0.3, 0.9]], target t = 0.5,
L = 1/2 (y - t)^2), written as the lecture writes it, net^1 = W^1 x with x a column:
f_3 is sigmoid(W^1 x), f_2 is sigmoid(W^2 .), f_1 the loss against t. lamina records one node
per operation during the forward pass; after ``backward()`` every edge carries two numbers,
the tensor that flowed forward along it and the gradient dL/d(that tensor) that flowed back.
The lab lists the operations in topological order, writes the graph as Graphviz DOT
(:func:`lamina.autograd.to_dot`) and draws it with matplotlib
(:func:`lamina.autograd.graph.draw_graph`), nodes in topological layers, each edge labelled
with its value and its gradient; Graphviz is used when its ``dot`` program is installed,
never required.
"""
from __future__ import annotations

import os
import shutil
import subprocess

import lamina as lm

from .. import nn
from ..atomic import atomic_path, atomic_write_text
from ..autograd import to_dot
from ..autograd.graph import draw_graph, graph_layers
from ..classic.backprop import BACKPROP_EXAMPLE
from .backprop_example import BACKPROP_EXAMPLE_GRADIENTS
from .report import Report, save_figure

__all__ = ["run", "LectureNet", "build_graph"]


class LectureNet(nn.Module):
    """y = sigmoid(W2 @ sigmoid(W1 @ x)) for a column x: the backpropagation lecture's 2-2-1
    network (W^l_ij from unit j of layer l-1 into unit i of layer l, no biases)."""

    def __init__(self) -> None:
        super().__init__()
        self.W1 = nn.Parameter(lm.tensor(BACKPROP_EXAMPLE["W1"], dtype=lm.float64))
        self.W2 = nn.Parameter(lm.tensor(BACKPROP_EXAMPLE["W2"], dtype=lm.float64))

    def forward(self, x):
        """(y, [net1, hidden, net2]): the output and the intermediate tensors, which the lab
        keeps to label the graph's edges."""
        net1 = self.W1 @ x
        hidden = lm.sigmoid(net1)
        net2 = self.W2 @ hidden
        return lm.sigmoid(net2), [net1, hidden, net2]


def build_graph() -> tuple:
    """Forward and backward pass of the 2-2-1 network on the lecture's example.

    Returns (loss, names, tensors, net): ``names`` maps tensor ids to labels (``W1``, ``W2``,
    ``x``, ``loss``), ``tensors`` the intermediate tensors in forward order (each kept with
    ``retain_grad()``, so their ``.grad`` holds dL/d(tensor) after the backward pass)."""
    net = LectureNet()
    # x requires grad only so that the drawing can show its value (and dL/dx) on its edge
    x = lm.tensor(BACKPROP_EXAMPLE["x"][:, None], dtype=lm.float64, requires_grad=True)
    y, inner = net(x)
    error = y - BACKPROP_EXAMPLE["t"]
    square = error ** 2
    half = 0.5 * square
    loss = half.sum()
    tensors = inner + [y, error, square, half, loss]
    for t in tensors:
        t.retain_grad()
    loss.backward()
    names = {id(p): name for name, p in net.named_parameters()}
    names[id(x)] = "x"
    names[id(loss)] = "loss"
    return loss, names, tensors, net


def _numbers(array) -> str:
    flat = array.reshape(-1)
    if array.ndim == 0:
        return f"{float(array):.4g}"
    return "[" + ", ".join(f"{float(v):.4g}" for v in flat) + "]"


def _render_with_dot(dot_path: str, out: str, report: Report) -> bool:
    """graph.png by Graphviz's ``dot`` when it is installed and works; says why not otherwise."""
    if not shutil.which("dot"):
        report.notes.append("Graphviz's `dot` program is not installed: graph.png is drawn with "
                            "matplotlib instead (render the DOT file elsewhere with "
                            f"`dot -Tpng {dot_path} -o graph.png`).")
        return False
    png_path = os.path.join(out, "graph.png")
    try:
        with atomic_path(png_path) as tmp:  # a failed render leaves no graph.png behind
            done = subprocess.run(["dot", "-Tpng", dot_path, "-o", tmp], capture_output=True,
                                  text=True, timeout=60)
            if done.returncode != 0 or os.path.getsize(tmp) == 0:
                raise RuntimeError(done.stderr.strip()[:200] or f"exit status {done.returncode}")
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        report.notes.append(f"Graphviz's dot failed ({error}); graph.png is drawn with "
                            "matplotlib instead.")
        return False
    report.files.append(png_path)
    return True


def _draw(loss, names, tensors, out: str, name: str, report: Report) -> bool:
    plt = report.pyplot()
    if plt is None:
        return False

    fig, ax = plt.subplots(figsize=(20, 4.6))
    draw_graph(loss, names, tensors, ax=ax)
    ax.set_title("Schwing & Telgarsky, Deep Neural Networks: the computation graph of "
                 "L = 1/2 (sigmoid(W2 sigmoid(W1 x)) - t)^2 (the backpropagation lecture's "
                 "2-2-1 example); forward value above each edge, gradient dL/d(edge) below, red",
                 fontsize=9)
    fig.tight_layout()
    save_figure(fig, out, name, report)
    return True


def run(quick: bool = False, out: str = "lab-graph") -> Report:
    """List the nodes with their values and gradients, write graph.dot, draw graph.png."""
    report = Report("graph")
    loss, names, tensors, net = build_graph()
    nodes, edges = graph_layers(loss, names, tensors)
    label = {n["key"]: n for n in nodes}
    ops = sorted((n for n in nodes if n["kind"] == "op"), key=lambda n: n["layer"])
    number = {n["key"]: i + 1 for i, n in enumerate(ops)}
    table = report.table(
        "The computation graph of L = 1/2 (sigmoid(W2 sigmoid(W1 x)) - t)^2, operations in "
        "topological order (Schwing & Telgarsky, Deep Neural Networks)",
        ["#", "layer", "operation", "output shape", "forward value", "dL/d(output)", "inputs"])
    rows = []
    for op in ops:
        out_edge = next(e for e in edges if e["source"] == op["key"])
        inputs = []
        for e in (e for e in edges if e["target"] == op["key"]):
            source = label[e["source"]]
            inputs.append(f"#{number[source['key']]}" if source["kind"] == "op" else
                          f"{source['label']} {tuple(e['shape'])}")
        row = {"op": op["label"], "layer": op["layer"], "shape": out_edge["shape"],
               "value": out_edge["value"].tolist(), "grad": out_edge["grad"].tolist(),
               "inputs": inputs}
        rows.append(row)
        table.add(number[op["key"]], op["layer"], op["label"], str(row["shape"]),
                  _numbers(out_edge["value"]), _numbers(out_edge["grad"]), ", ".join(inputs))

    leaves = report.table(
        "Gradients at the leaves after backward(), beside the backpropagation lecture's printed "
        "values", ["leaf", "value", "dL/d(leaf), lamina", "lecture (printed)"])
    lecture = {"W1": [[BACKPROP_EXAMPLE_GRADIENTS[f"dL/dW1_{i}{j}"] for j in (1, 2)] for i in (1, 2)],
               "W2": [[BACKPROP_EXAMPLE_GRADIENTS["dL/dW2_11"], BACKPROP_EXAMPLE_GRADIENTS["dL/dW2_12"]]]}
    leaf_data = {}
    for name, p in list(net.named_parameters()) + [("x", None)]:
        edge = next(e for e in edges if label[e["source"]]["label"] == name)
        leaf_data[name] = {"value": edge["value"].tolist(), "grad": edge["grad"].tolist()}
        printed = lecture.get(name)
        leaves.add(name, _numbers(edge["value"]), _numbers(edge["grad"]),
                   "[" + ", ".join(v for r in printed for v in r) + "]" if printed else
                   "(not computed there)")

    dot = to_dot(loss, names)
    os.makedirs(out, exist_ok=True)
    dot_path = os.path.join(out, "graph.dot")
    atomic_write_text(dot_path, dot + "\n")
    report.files.append(dot_path)
    rendered = _render_with_dot(dot_path, out, report)
    drawn = _draw(loss, names, tensors, out, "graph_values.png" if rendered else "graph.png",
                  report)
    report.data = {"nodes": rows, "leaves": leaf_data, "dot": dot, "rendered": rendered,
                   "drawn": drawn, "inputs": sorted((n["label"], n["layer"]) for n in nodes
                                                    if n["kind"] in ("leaf", "data")),
                   "loss": float(loss.item())}
    data_inputs = [n for n in nodes if n["kind"] == "data"]
    report.notes.append(
        f"{len(ops)} operation nodes in layers 1 to {max(n['layer'] for n in ops)}: the layer "
        "of an operation is one more than the largest layer of its inputs, an input sits one "
        "layer before its earliest consumer, so every edge points forward. backward() "
        "visits the operations in the reverse of the order above, each exactly once; the "
        "gradient on an edge is what the backward pass sent along it, dL/d(the tensor on "
        "that edge).")
    report.notes.append(
        f"The {len(data_inputs)} 'data ()' inputs are the constants t = 0.5 and 1/2, which need "
        "no gradient: the graph keeps only their shapes. x is marked requires_grad only so "
        "that its value and dL/dx show on its edge; training uses dL/dW1 and dL/dW2. The "
        "lecture's printed gradients differ in the last digit where its rounded intermediate "
        "values propagate (see `lamina lab backprop-example`).")
    return report
