"""The printed form of a :class:`~lamina.nn.Module`, PyTorch's layout character for
character: the class name, then the module's hyper-parameters (``extra_repr``) on the same
line, or its children one per line, each as ``(name): repr`` indented two spaces::

    Sequential(
      (0): Linear(in_features=4, out_features=3, bias=True)
      (1): ReLU()
    )
"""
from __future__ import annotations

__all__ = ["module_repr"]


def _addindent(text: str, spaces: int) -> str:
    """``text`` with every line after the first indented by ``spaces`` (blank lines left
    empty), so a child's multi-line repr nests inside its parent's."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join((" " * spaces + s) if s.strip() else "" for s in lines[1:])


def module_repr(module) -> str:
    """``module``'s repr: one line when it has a one-line ``extra_repr`` and no children,
    else the extra lines and the children's reprs, one per line, between the parentheses."""
    extra = module.extra_repr()
    extra_lines = extra.split("\n") if extra else []
    child_lines = [f"({key}): " + _addindent(repr(child), 2)
                   for key, child in module._modules.items()]
    lines = extra_lines + child_lines
    main = module._get_name() + "("
    if lines:
        if len(extra_lines) == 1 and not child_lines:
            main += extra_lines[0]
        else:
            main += "\n  " + "\n  ".join(lines) + "\n"
    return main + ")"
