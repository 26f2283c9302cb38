"""Loss modules with PyTorch's constructor arguments: ``criterion = nn.CrossEntropyLoss()``,
``loss = criterion(output, target)``.

Each class stores its options and calls the function of the same name in
:mod:`lamina.ops.regression_loss` or :mod:`lamina.ops.classification_loss`; class weights (``weight``,
``pos_weight``) are buffers, as in PyTorch, so they follow ``state_dict``. The margin losses
call :mod:`lamina.ops.margin_loss`. Lamina extras: ``QuadraticLoss`` (the lectures' quadratic
cost C = 1/(2n) sum_x ||y(x) - a||^2) and ``SmoothStructuredHingeLoss`` (the epsilon-smoothed
structured hinge of Schwing & Telgarsky, "Deep Neural Networks"). PyTorch's
deprecated ``size_average`` and ``reduce`` arguments are accepted and turned into
``reduction``.
"""
from __future__ import annotations

from ..autograd.tensor import Tensor
from ..errors import LaminaValueError
from ..ops import binary_loss as B
from ..ops import classification_loss as C
from ..ops import regression_loss as L
from ..ops import margin_loss as M
from ..ops import structured_hinge as S
from .module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
           "BCELoss", "BCEWithLogitsLoss", "KLDivLoss", "QuadraticLoss", "MultiMarginLoss",
           "HingeEmbeddingLoss", "SoftMarginLoss", "MultiLabelMarginLoss", "MarginRankingLoss",
           "SmoothStructuredHingeLoss"]


class _Loss(Module):
    """Base of the loss modules: holds and validates ``reduction``."""

    _batchmean = False

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = L._reduction(type(self).__name__, reduction, size_average, reduce,
                                      batchmean=self._batchmean)


class _WeightedLoss(_Loss):
    """A loss with per-class ``weight``, kept as a buffer."""

    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits (N, C[, d1, ...]) against class indices or probabilities:
    loss(x, class) = -x[class] + log sum_j exp(x[j])
    (see :func:`lamina.ops.classification_loss.cross_entropy`).

    >>> criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    >>> loss = criterion(model(images), labels)
    """

    def __init__(self, weight: Tensor | None = None, size_average=None, ignore_index: int = -100,
                 reduce=None, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return C.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood loss(x, class) = -x[class] of log-probabilities (after LogSoftmax)."""

    def __init__(self, weight: Tensor | None = None, size_average=None, ignore_index: int = -100,
                 reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return C.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error loss(x, y) = 1/n sum_i |x_i - y_i|^2."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error 1/n sum_i |x_i - y_i|."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below ``beta``, linear above (see :func:`lamina.ops.regression_loss.smooth_l1_loss`)."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Huber loss: d^2 / 2 below ``delta``, delta (|d| - delta / 2) above."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy -1/n sum_i w_i (t_i log o_i + (1 - t_i) log(1 - o_i)) of
    probabilities o (outputs of a sigmoid)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return B.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross-entropy in one stable step, on logits; ``pos_weight`` weights
    the positive term of each class (a buffer, like ``weight``)."""

    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean", pos_weight: Tensor | None = None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return B.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities ``input`` from ``target``; use
    ``reduction='batchmean'`` for the true KL divergence per sample."""

    _batchmean = True

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class QuadraticLoss(_Loss):
    """The lectures' quadratic cost C = 1/(2n) sum_x ||y(x) - a||^2: half the squared error
    per sample, averaged over the batch ('mean'), summed ('sum') or per sample ('none')."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.quadratic_loss(input, target, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss sum_{i != y} max(0, margin - x[y] + x[i])^p / C (times weight[y])
    of scores (N, C) or (C,) against class indices (see
    :func:`lamina.ops.margin_loss.multi_margin_loss`)."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                 size_average=None, reduce=None, reduction: str = "mean") -> None:
        if p not in (1, 2) or isinstance(p, bool):
            raise LaminaValueError(f"MultiMarginLoss: p must be 1 or 2, got {p!r}")
        super().__init__(weight, size_average, reduce, reduction)
        self.p = p
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return M.multi_margin_loss(input, target, p=self.p, margin=self.margin,
                                   weight=self.weight, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """x where y = 1, max(0, margin - x) where y = -1 (distances of similar / dissimilar pairs)."""

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return M.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss ln(1 + exp(-y x)) for labels y in {-1, 1}."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return M.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge sum_{j in targets} sum_{i not in targets} max(0, 1 - (x[j] - x[i])) / C;
    the target lists each sample's classes, padded with -1."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return M.multilabel_margin_loss(input, target, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """max(0, -y (x1 - x2) + margin): y = 1 asks x1 to rank above x2, y = -1 the reverse."""

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return M.margin_ranking_loss(input1, input2, target, margin=self.margin,
                                     reduction=self.reduction)


class SmoothStructuredHingeLoss(_Loss):
    """The epsilon-smoothed structured hinge of Schwing & Telgarsky, "Deep Neural Networks":
    loss_i = eps ln sum_yhat exp((L(y_i, yhat) + F_i,yhat) / eps) - F_i,y_i of scores F (N, C).

    epsilon = 1 with task_loss "zero" is ``CrossEntropyLoss`` (logistic regression for one
    linear layer); epsilon = 0 with "zero_one" is the multiclass SVM hinge (Crammer-Singer; the
    binary hinge for two classes). Add the lecture's regulariser C/2 ||w||^2 separately (see
    :func:`lamina.ops.margin_loss.smooth_structured_hinge_loss`).

    >>> criterion = nn.SmoothStructuredHingeLoss(epsilon=0.0)   # the multiclass SVM
    >>> loss = criterion(model(x), labels)
    """

    def __init__(self, task_loss="zero_one", epsilon: float = 1.0,
                 reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        S.check_epsilon("SmoothStructuredHingeLoss", epsilon)
        self.task_loss = task_loss
        self.epsilon = epsilon

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return S.smooth_structured_hinge_loss(input, target, task_loss=self.task_loss,
                                              epsilon=self.epsilon, reduction=self.reduction)
