"""The graph node: :class:`Context`, what an operation's ``forward`` leaves for its ``backward``.

Once an operation is recorded its context *is* the node of the graph: it holds the saved
arrays, the edges to the inputs' nodes (``parents``), and the inputs' shapes and dtypes, and
nothing else (never the input tensors). What PyTorch shows of a ``grad_fn`` (its name,
``next_functions``, the :class:`AccumulateGrad` at a leaf) is derived from these on demand.
"""
from __future__ import annotations

import weakref

__all__ = ["Context", "NodeName", "AccumulateGrad"]


class Context:
    """What ``forward`` leaves for ``backward``; once recorded it is also the graph node.

    Attributes used by operations:
      ``save(*arrays)`` / ``saved``: arrays backward needs.
      ``needs_input_grad``: one bool per input (None-free only when recording).
      any other attribute an operation sets (``ctx.dim = dim``) for its backward.
    Attributes used by the engine: ``fn``, ``parents`` (per input: the input's node and
    output index, the leaf tensor, or None), ``input_meta`` (shape, dtype per input),
    ``n_outputs``, ``out_meta``, ``retained`` and ``version_checks``.
    What PyTorch shows of a ``grad_fn`` is derived from these on demand, never while
    recording: ``name()`` (``'MulBackward0'``) and ``next_functions``.
    """

    needs_input_grad: tuple = ()
    saved: tuple | None = ()
    # Defaults of the engine's attributes (a recorded node overrides only what differs).
    retained = None
    version_checks = None
    n_outputs = 1
    out_meta = None

    def save(self, *arrays) -> None:
        """Keep ``arrays`` for backward (prefer the output to the input where it suffices)."""
        self.saved = arrays

    @property
    def name(self) -> "NodeName":
        """PyTorch's name of this node, e.g. ``'MulBackward0'``; call it (``grad_fn.name()``)
        as in PyTorch or use it as the string it is."""
        fn = self.fn
        name = _node_names.get(fn)
        if name is None:
            name = _node_names[fn] = NodeName(_torch_node_name(fn))
        return name

    @property
    def next_functions(self) -> tuple:
        """Per tensor input, ``(node, output_index)`` as PyTorch gives it: the producing node,
        an :class:`AccumulateGrad` for a leaf that requires grad, ``(None, 0)`` otherwise."""
        return tuple([parent if type(parent) is tuple
                      else (None, 0) if parent is None
                      else (AccumulateGrad.of(parent), 0)
                      for parent in self.parents])

    def __repr__(self) -> str:
        return f"<{self.name} object at {id(self):#x}>"


class NodeName(str):
    """A node's name: a string for messages and labels, callable as PyTorch's ``name()``."""

    __slots__ = ()

    def __call__(self) -> str:
        return str(self)


class AccumulateGrad:
    """The node PyTorch puts at a leaf that requires grad: backward adds into ``variable.grad``.

    lamina stores the leaf itself in its consumers' ``parents`` (the engine accumulates
    directly); this object is the view of that edge that ``next_functions`` shows. One object
    per leaf while it is referenced, as in PyTorch, so ``is`` comparisons hold.
    """

    _live: "weakref.WeakValueDictionary[int, AccumulateGrad]" = weakref.WeakValueDictionary()

    def __init__(self, variable) -> None:
        self.variable = variable

    @classmethod
    def of(cls, leaf) -> "AccumulateGrad":
        node = cls._live.get(id(leaf))
        if node is None or node.variable is not leaf:
            node = cls._live[id(leaf)] = cls(leaf)
        return node

    next_functions: tuple = ()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


# PyTorch's node names where lamina's operation class is called differently (the common
# cases; PyTorch sometimes picks among several nodes by the arguments, e.g. SumBackward1
# for a sum over dims, which one class here cannot tell apart).
_TORCH_NAMES = {
    "PowScalar": "PowBackward0", "Pow": "PowBackward1", "Clamp": "ClampBackward1",
    "Cast": "ToCopyBackward0", "ToDevice": "ToCopyBackward0", "Reshape": "ViewBackward0", "PadConstant": "ConstantPadNdBackward0",
    "LogSumExp": "LogsumexpBackward0", "Norm": "LinalgVectorNormBackward0",
    "CrossEntropy": "NllLossBackward0", "NLL": "NllLossBackward0",
    "BCE": "BinaryCrossEntropyBackward0", "BCEWithLogits": "BinaryCrossEntropyWithLogitsBackward0",
    "MSE": "MseLossBackward0", "SmoothL1": "SmoothL1LossBackward0",
    "Huber": "HuberLossBackward0",
    "GetItem": "IndexBackward0", "EmbeddingLookup": "EmbeddingBackward0",
    "Conv2d": "ConvolutionBackward0", "MaxPool2d": "MaxPool2DWithIndicesBackward0",
    "AvgPool2d": "AvgPool2DBackward0", "AdaptiveAvgPool2d": "AdaptiveAvgPool2DBackward0",
    "AdaptiveMaxPool2d": "AdaptiveMaxPool2DBackward0",
    "ReLU": "ReluBackward0", "LeakyReLU": "LeakyReluBackward0", "ELU": "EluBackward0",
    "GELU": "GeluBackward0", "SiLU": "SiluBackward0", "HardTanh": "HardtanhBackward0",
    "BatchNormTrain": "NativeBatchNormBackward0", "BatchNormEval": "NativeBatchNormBackward0",
    "LayerNorm": "NativeLayerNormBackward0", "MatMul": "MmBackward0", "Linear": "AddmmBackward0",
}
_node_names: dict = {}


def _torch_node_name(fn) -> str:
    """``<ClassName>Backward0``, or PyTorch's name for lamina's own operations listed above."""
    name = fn.__name__
    if fn.__module__.startswith("lamina.") and name in _TORCH_NAMES:
        return _TORCH_NAMES[name]
    return name + "Backward0"
