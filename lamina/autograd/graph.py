"""Draw the computational graph: ``to_dot(output)`` returns Graphviz DOT text.

Operations are boxes (``MulBackward0``), tensors are ellipses labelled with their shape;
leaves that require grad are shaded. Render with ``dot -Tpng graph.dot -o graph.png``.
"""
from __future__ import annotations

from .engine import topological_order

__all__ = ["to_dot"]


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
