"""Draw the computational graph: ``to_dot(output)`` returns Graphviz DOT text;
``graph_layers(output)`` gives the same graph as plain records in topological layers, with
the forward value and the backward gradient carried by each edge, and ``draw_graph`` draws
those with matplotlib (no Graphviz needed).

Operations are boxes (``MulBackward0``), tensors are ellipses labelled with their shape;
leaves that require grad are shaded. Render DOT with ``dot -Tpng graph.dot -o graph.png``.
"""
from __future__ import annotations

from .engine import topological_order

__all__ = ["to_dot", "graph_layers", "draw_graph"]


def _shape(shape) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")"


def to_dot(output, names: dict | None = None) -> str:
    """The graph that produced ``output`` as DOT text.

    ``names`` optionally maps leaf tensors (by identity) to labels, e.g.
    ``{id(w): "w", id(x): "x"}``; a module's ``named_parameters()`` gives such names.
    """
    names = names or {}
    lines = ["digraph lamina {", '  rankdir="BT";', '  node [fontname="Helvetica"];']
    out_id = f"t{id(output)}"
    label = names.get(id(output), "output")
    lines.append(f'  {out_id} [label="{label}\\n{_shape(output.shape)}", shape=ellipse, '
                 'style=filled, fillcolor="#d0e8ff"];')
    if output.grad_fn is None:
        lines.append("}")
        return "\n".join(lines)
    root = output.grad_fn
    lines.append(f"  n{id(root)} -> {out_id};")
    leaves_done = set()
    for node in topological_order(root):
        lines.append(f'  n{id(node)} [label="{node.name}", shape=box];')
        for parent, (shape, _dtype) in zip(node.parents, node.input_meta):
            if parent is None:
                continue
            if type(parent) is tuple:
                lines.append(f'  n{id(parent[0])} -> n{id(node)} [label="{_shape(shape)}"];')
            else:
                leaf_id = f"t{id(parent)}"
                if leaf_id not in leaves_done:
                    leaves_done.add(leaf_id)
                    leaf_label = names.get(id(parent), "leaf")
                    lines.append(f'  {leaf_id} [label="{leaf_label}\\n{_shape(shape)}", '
                                 'shape=ellipse, style=filled, fillcolor="#e0e0e0"];')
                lines.append(f"  {leaf_id} -> n{id(node)};")
    lines.append("}")
    return "\n".join(lines)


def graph_layers(output, names: dict | None = None, tensors=()) -> tuple[list, list]:
    """The graph behind ``output`` as ``(nodes, edges)`` of plain dicts, for drawing.

    Nodes (``key``, ``kind``, ``label``, ``shape``, ``layer``): ``kind`` is ``"op"`` (one per
    recorded operation, labelled with its name), ``"leaf"`` (a tensor that requires grad,
    labelled by ``names`` as in :func:`to_dot`), ``"data"`` (an input that needs no gradient:
    the graph keeps only its shape) or ``"output"``. An operation's ``layer`` is one more than
    the largest layer of its inputs (a longest-path layering: every edge goes from a lower
    layer to a higher one); a leaf or data node sits one layer before its first consumer, the
    output one after its operation.

    Edges (``source``, ``target``, ``shape``, ``value``, ``grad``): the tensor flowing from
    ``source`` to ``target``; ``value`` is its forward array and ``grad`` the gradient of the
    differentiated output with respect to it (``.grad`` after ``backward()``), each None where
    unknown. They are known for leaves, for ``output`` and for the non-leaf tensors listed in
    ``tensors`` (call ``retain_grad()`` on them before ``backward()`` to have their
    gradients); the graph itself keeps no forward values.
    """
    names = names or {}
    produced = {(id(t._node), t._out_index): t for t in tensors if t._node is not None}
    produced[(id(output._node), output._out_index)] = output

    def arrays(t):
        if t is None:
            return None, None
        return t._data, (None if t.grad is None else t.grad._data)

    nodes, edges = {}, []
    out_key = f"t{id(output)}"
    if output._node is None:
        nodes[out_key] = {"key": out_key, "kind": "output", "shape": tuple(output.shape),
                          "label": names.get(id(output), "output"), "layer": 0}
        return list(nodes.values()), edges
    order = topological_order(output._node)
    layer = {}
    for node in order:
        layer[id(node)] = 1 + max([layer[id(p[0])] for p in node.parents if type(p) is tuple],
                                  default=0)
    for node in order:
        key = f"n{id(node)}"
        nodes[key] = {"key": key, "kind": "op", "label": str(node.name), "shape": None,
                      "layer": layer[id(node)]}
        for position, (parent, (shape, _dtype)) in enumerate(zip(node.parents, node.input_meta)):
            if type(parent) is tuple:
                source = f"n{id(parent[0])}"
                value, grad = arrays(produced.get((id(parent[0]), parent[1])))
            elif parent is None:
                source = f"d{id(node)}_{position}"
                nodes[source] = {"key": source, "kind": "data", "label": "data",
                                 "shape": tuple(shape), "layer": layer[id(node)] - 1}
                value = grad = None
            else:
                source = f"t{id(parent)}"
                if source not in nodes:
                    nodes[source] = {"key": source, "kind": "leaf", "shape": tuple(shape),
                                     "label": names.get(id(parent), "leaf"),
                                     "layer": layer[id(node)] - 1}
                nodes[source]["layer"] = min(nodes[source]["layer"], layer[id(node)] - 1)
                value, grad = arrays(parent)
            edges.append({"source": source, "target": key, "shape": tuple(shape),
                          "value": value, "grad": grad})
    root = output._node
    nodes[out_key] = {"key": out_key, "kind": "output", "shape": tuple(output.shape),
                      "label": names.get(id(output), "output"), "layer": layer[id(root)] + 1}
    value, grad = arrays(output)
    edges.append({"source": f"n{id(root)}", "target": out_key, "shape": tuple(output.shape),
                  "value": value, "grad": grad})
    for node in nodes.values():  # an operation's output shape is that of its outgoing edge
        if node["kind"] == "op":
            node["shape"] = next(e["shape"] for e in edges if e["source"] == node["key"])
    return list(nodes.values()), edges


def _numbers(array, digits: int = 3) -> str:
    """A small array as ``[0.68, 0.664]``; a large one as its shape."""
    if array is None:
        return "?"
    flat = array.reshape(-1)
    if flat.size > 4:
        return "array " + _shape(array.shape)
    text = ", ".join(f"{float(v):.{digits}g}" for v in flat)
    return text if array.ndim == 0 else f"[{text}]"


def draw_graph(output, names: dict | None = None, tensors=(), ax=None, fontsize: float = 7.0):
    """Draw :func:`graph_layers` with matplotlib: layers left to right (the forward pass),
    operations as boxes, leaves shaded, and each edge labelled with its forward value (above,
    black) and its gradient (below, red: what the backward pass sends back along it).
    Returns the axes; matplotlib is imported only here."""
    import matplotlib.pyplot as plt

    nodes, edges = graph_layers(output, names, tensors)
    if ax is None:
        _, ax = plt.subplots(figsize=(2.0 * (1 + max(n["layer"] for n in nodes)), 4.5))
    by_layer = {}
    for node in nodes:
        by_layer.setdefault(node["layer"], []).append(node)
    where = {}
    for number, members in by_layer.items():
        # operations (and the output) on the main line, centred; inputs stacked above them
        line = [n for n in members if n["kind"] in ("op", "output")]
        above = [n for n in members if n["kind"] not in ("op", "output")]
        for i, node in enumerate(line):
            where[node["key"]] = (float(number), i - (len(line) - 1) / 2.0)
        top = (len(line) - 1) / 2.0 if line else 0.0
        for i, node in enumerate(above):
            where[node["key"]] = (float(number), top + 1.0 + i)
    plain = {"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.85}
    style = {"op": ("round,pad=0.3", "#ffffff"), "leaf": ("round,pad=0.3", "#e0e0e0"),
             "data": ("round,pad=0.3", "#f4f4f4"), "output": ("round,pad=0.3", "#d0e8ff")}
    for edge in edges:
        (x0, y0), (x1, y1) = where[edge["source"]], where[edge["target"]]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops={"arrowstyle": "->", "color": "0.4", "shrinkA": 18, "shrinkB": 18})
        # inputs' labels nearer their source, so that edges meeting at one node stay apart
        share = 0.5 if y0 == y1 else 0.35
        mx, my = x0 + share * (x1 - x0), y0 + share * (y1 - y0)
        if edge["value"] is None and edge["grad"] is None:
            ax.text(mx, my + 0.08, "(not kept)", ha="center", va="bottom", fontsize=fontsize,
                    color="0.5", bbox=plain)
            continue
        ax.text(mx, my + 0.08, _numbers(edge["value"]), ha="center", va="bottom",
                fontsize=fontsize, color="black", bbox=plain)
        ax.text(mx, my - 0.08, "grad " + _numbers(edge["grad"]), ha="center", va="top",
                fontsize=fontsize, color="#c0392b", bbox=plain)
    for node in nodes:
        x, y = where[node["key"]]
        text = node["label"]
        if node["kind"] != "op":
            text += "\n" + _shape(node["shape"])
        box, colour = style[node["kind"]]
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize + 1,
                bbox={"boxstyle": box, "facecolor": colour, "edgecolor": "0.3"})
    ys = [y for _, y in where.values()]
    ax.set_xlim(-0.7, max(n["layer"] for n in nodes) + 0.7)
    ax.set_ylim(min(ys) - 0.5, max(ys) + 0.4)
    ax.axis("off")
    return ax
