r"""Block-coordinate descent (BCD): minimise over one block of weights at a time, the others fixed.

Ghauch & Ghadikolaei, Fundamentals of Deep Neural Networks, "Strategies for training DNNs":
"Block-coordinate descent (BCD): Optimize layer j, W_j, while fixing others of other layers;
suitable for DNN without activation func (deep linear networks)". For the lecture's
empirical risk (2) with sigma_j = I ("Taxonomy of Neural Networks": deep linear networks),

    f(W_1, ..., W_J) = (1/N) sum_i || y_i - W_J ... W_2 W_1 x_i ||_2^2
                     = (1/N) || Y - A_j W_j B_j ||_F^2,
    A_j = W_J ... W_{j+1}  (the layers after j),   B_j = W_{j-1} ... W_1 X  (those before),

f is not jointly convex in (W_1, ..., W_J) ("Training DNNs": "due to composition and coupling
among each layer"), but it is a convex least-squares problem in each W_j alone, whose
minimum-norm minimiser is

    W_j = A_j^+ Y B_j^+                 (A^+: the Moore-Penrose pseudo-inverse).

One BCD iteration k sets W_1, ..., W_J to their block minimisers in turn, so f never increases.
Without an exact solver the block step is the lecture's gradient step on that layer,

    W_j^{(k+1)} = W_j^{(k)} - alpha_j^{(k)} df/dW_j |_{W^{(k)}}             (u.2)

with one step size alpha_j per layer ("Practical Issues"): here each parameter *group* is a
block, its ``lr`` is alpha_j. The lecture's schedules (constant alpha^{(k)} = c, decaying
alpha^{(k)} = c/k and c/sqrt(k)) come from :mod:`lamina.optim.lr_scheduler`: ``InverseTimeLR(opt,
power=1)`` or ``power=0.5`` (or ``LambdaLR``), stepped once per sweep (one iteration k updates
every block once, see :meth:`BlockCoordinateDescent.sweep`).

>>> model = lm.models.mlp([4, 8, 8, 2], "identity")        # a deep linear network
>>> problem = DeepLinearLeastSquares(model, x, y)
>>> bcd = BlockCoordinateDescent(problem.blocks(), exact=problem)
>>> for k in range(10):
...     bcd.sweep()                                          # W_1, W_2, W_3 minimised in turn
...     print(problem.loss())
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

from ..autograd import Tensor, enable_grad, no_grad
from ..backend import get_array_module
from ..errors import LaminaTypeError, LaminaValueError, ShapeError
from ..nn import Flatten, Identity, Linear, Module
from .optimizer import Optimizer

__all__ = ["BlockCoordinateDescent", "DeepLinearLeastSquares"]


class BlockCoordinateDescent(Optimizer):
    r"""Block-coordinate descent over parameter groups: each :meth:`step` updates one block.

    Each parameter group is a block (e.g. one layer's weight and bias) with its own step size
    alpha_j, the group's ``lr``. ``step()`` updates the current block and moves on to the
    next, cycling through ``order`` (default: the groups in order, 0, 1, ..., J-1); the other
    blocks are left as they are. The update is

    - ``exact=None``: the gradient step W_j <- W_j - alpha_j dL/dW_j on the block's parameters
      that have a gradient (with a single block this is plain gradient descent, the same
      update as :class:`~lamina.optim.SGD` without momentum);
    - ``exact=problem``: ``problem.minimize_block(j)``, the exact block minimiser, e.g. of a
      :class:`DeepLinearLeastSquares` problem (its gradients and ``lr`` are not used).

    The position in the cycle is part of :meth:`state_dict`, so a resumed run continues with
    the block that was next. Lecture: Ghauch & Ghadikolaei, Fundamentals of Deep Neural
    Networks, "Strategies for training DNNs" (BCD) and "Practical Issues" (alpha_j^{(k)}).

    >>> bcd = BlockCoordinateDescent([{'params': l1.parameters(), 'lr': 0.1},
    ...                               {'params': l2.parameters(), 'lr': 0.05}])
    >>> def closure():
    ...     bcd.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); return loss
    >>> bcd.step(closure)      # updates l1 only; the next step updates l2
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, order: Sequence[int] | None = None,
                 exact: Any = None) -> None:
        super().__init__(params, dict(lr=lr))
        if exact is not None and not callable(getattr(exact, "minimize_block", None)):
            raise LaminaTypeError(f"exact must have a minimize_block(j) method (e.g. a "
                                  f"DeepLinearLeastSquares), got {type(exact).__name__}")
        self.exact = exact
        self._order = None if order is None else self._checked_order(order)
        self.position = 0  # index into the order of the block the next step updates
        self.sweeps = 0    # completed passes through the order

    def _checked_order(self, order) -> list[int]:
        if isinstance(order, (str, bytes)) or not hasattr(order, "__iter__"):
            raise LaminaTypeError(f"order must be a sequence of group indices, got {order!r}")
        order = list(order)
        n = len(self.param_groups)
        if not order or any(isinstance(j, bool) or not isinstance(j, int) or not 0 <= j < n
                            for j in order):
            raise LaminaValueError(f"order must be a non-empty list of group indices in "
                                   f"[0, {n}), got {order!r}")
        return order

    @property
    def order(self) -> list[int]:
        """The cycle of block (group) indices that the steps go through."""
        return list(range(len(self.param_groups))) if self._order is None else list(self._order)

    @property
    def current_block(self) -> int:
        """The index of the group that the next :meth:`step` updates."""
        return self.order[self.position]

    def step(self, closure: Callable[[], Any] | None = None):
        """Update the current block and advance to the next one; return ``closure()``'s loss.

        ``closure`` (optional) re-evaluates the loss, usually also zeroing the gradients and
        calling ``backward()``; it runs with recording on, before the update."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        j = self.current_block
        if self.exact is not None:
            self.exact.minimize_block(j)
        else:
            first = sum(len(g["params"]) for g in self.param_groups[:j])
            with no_grad():
                self._step_group(self.param_groups[j], first)
        self.position += 1
        if self.position == len(self.order):
            self.position = 0
            self.sweeps += 1
        return loss

    def sweep(self, closure: Callable[[], Any] | None = None) -> list:
        """One BCD iteration k: a step for every block of the order, starting with the current
        one; returns the closure's losses (one per step, before each update)."""
        return [self.step(closure) for _ in range(len(self.order))]

    def _step_group(self, group: dict[str, Any], first: int) -> None:
        lr = float(group["lr"])  # a Python float keeps float32 weights float32
        for p in group["params"]:
            if p.grad is None:
                continue
            p._data -= lr * p.grad._data
            p._version += 1

    def state_dict(self) -> dict[str, Any]:
        """The base class's state dict plus ``'block_coordinate'``: the order, the position of
        the next block in it, and the number of completed sweeps."""
        state = super().state_dict()
        state["block_coordinate"] = {"order": None if self._order is None else list(self._order),
                                     "position": self.position, "sweeps": self.sweeps}
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`, including which block is next."""
        cursor = state_dict.get("block_coordinate") if isinstance(state_dict, dict) else None
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "block_coordinate"})
        if cursor is None:
            return
        self._order = None if cursor["order"] is None else self._checked_order(cursor["order"])
        position = int(cursor["position"])
        if not 0 <= position < len(self.order):
            raise LaminaValueError(f"the state dict's block position {position} is outside the "
                                   f"order {self.order}")
        self.position, self.sweeps = position, int(cursor["sweeps"])


class DeepLinearLeastSquares:
    r"""The least-squares problem of a deep linear network and its exact block minimisers.

    ``layers``: the network's :class:`~lamina.nn.Linear` layers in order, or a module made of
    Linear layers and Identity/Flatten modules only (e.g. ``mlp(sizes, 'identity')``). With
    lamina's (PyTorch's) row layout, z_j = z_{j-1} W_j^T + b_j and samples are rows of ``x``
    (N, d_0) and ``y`` (N, d_J). The loss is the lecture's (2) with sigma_j = I,

        f = (1/N) sum_i || y_i - f(x_i) ||_2^2.

    Block j is (W_j, b_j). The layers after j form an affine map z -> z A^T + c (A =
    W_J ... W_{j+1}, c their output at z = 0) and those before give the inputs Z = z_{j-1}
    (N, d_{j-1}) of layer j, so with Z~ = [Z, 1] and W~ = [W_j, b_j] the output is
    Z~ W~^T A^T + 1 c^T, and the minimum-norm minimiser of f over block j is

        W~ = A^+ (Y - 1 c^T)^T (Z~^T)^+,

    the lecture's W_j = A^+ Y B^+ with B = Z~^T (products and pseudo-inverses in float64 with
    the array module's ``linalg``). A layer without bias has W~ = W_j and Z~ = Z.
    """

    def __init__(self, layers, x: Tensor, y: Tensor) -> None:
        self.layers = _linear_layers(layers)
        if not isinstance(x, Tensor) or not isinstance(y, Tensor):
            raise LaminaTypeError(f"x and y must be Tensors, got {type(x).__name__} and "
                                  f"{type(y).__name__}")
        first, last = self.layers[0].in_features, self.layers[-1].out_features
        if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0] or x.shape[1] != first \
                or y.shape[1] != last:
            raise ShapeError(f"x must be (N, {first}) and y (N, {last}) for these layers, got "
                             f"{tuple(x.shape)} and {tuple(y.shape)}")
        self.x, self.y = x, y

    def blocks(self, lr: float | Sequence[float] | None = None) -> list[dict]:
        """Parameter groups, one per layer (its weight and bias): the BCD blocks; ``lr`` is one
        step size for all, or one alpha_j per layer, or None (the optimiser's default)."""
        if lr is not None and isinstance(lr, (list, tuple)) and len(lr) != len(self.layers):
            raise LaminaValueError(f"expected {len(self.layers)} step sizes (one per layer), "
                                   f"got {len(lr)}")
        groups = []
        for j, layer in enumerate(self.layers):
            group: dict = {"params": list(layer.parameters())}
            if lr is not None:
                group["lr"] = lr[j] if isinstance(lr, (list, tuple)) else lr
            groups.append(group)
        return groups

    def forward(self) -> Tensor:
        """The network's output on x (recorded, for gradients)."""
        z = self.x
        for layer in self.layers:
            z = layer(z)
        return z

    def loss_tensor(self) -> Tensor:
        """f = (1/N) sum_i ||y_i - f(x_i)||^2 as a Tensor (for backward)."""
        d = self.forward() - self.y
        return (d * d).sum() / self.x.shape[0]

    def loss(self) -> float:
        """f at the current weights."""
        with no_grad():
            return float(self.loss_tensor().item())

    def _split(self, j: int):
        """(Z, A, c) of block j as float64 arrays: the inputs of layer j, the product of the
        later weights, and the later layers' output at zero input."""
        xp = get_array_module(self.x._data)
        z = self.x._data.astype(xp.float64)
        for layer in self.layers[:j]:  # in float64: rounding would blur Z's rank for pinv
            z = z @ layer.weight._data.astype(xp.float64).T
            if layer.bias is not None:
                z = z + layer.bias._data
        d_j = self.layers[j].out_features
        a = xp.eye(d_j)
        c = xp.zeros(d_j)
        for layer in self.layers[j + 1:]:
            w = layer.weight._data.astype(xp.float64)
            a, c = w @ a, w @ c
            if layer.bias is not None:
                c = c + layer.bias._data
        return z, a, c

    def block_minimizer(self, j: int):
        """(W_j, b_j) minimising f with the other layers fixed (b_j None without bias)."""
        self._check_block(j)
        xp = get_array_module(self.x._data)
        z, a, c = self._split(j)
        layer = self.layers[j]
        if layer.bias is not None:
            z = xp.concatenate([z, xp.ones((z.shape[0], 1))], axis=1)
        residual = self.y._data.astype(xp.float64) - c
        w = _pinv(a) @ residual.T @ _pinv(z.T)
        if layer.bias is None:
            return w, None
        return w[:, :-1], w[:, -1]

    def minimize_block(self, j: int) -> None:
        """Set layer j's weight (and bias) to the block minimiser, in place."""
        w, b = self.block_minimizer(j)
        layer = self.layers[j]
        with no_grad():
            layer.weight._data[...] = w
            layer.weight._version += 1
            if b is not None:
                layer.bias._data[...] = b
                layer.bias._version += 1

    def block_lipschitz(self, j: int) -> float:
        """L_j = (2/N) ||A||_2^2 ||Z~||_2^2, the Lipschitz constant of df/dW_j (f is quadratic
        in block j with Hessian (2/N) (Z~^T Z~) (x) (A^T A)): a gradient step on block j with
        alpha_j <= 1/L_j never increases f."""
        self._check_block(j)
        xp = get_array_module(self.x._data)
        z, a, _ = self._split(j)
        if self.layers[j].bias is not None:
            z = xp.concatenate([z, xp.ones((z.shape[0], 1))], axis=1)
        return float(2.0 / z.shape[0] * xp.linalg.norm(a, 2) ** 2 * xp.linalg.norm(z, 2) ** 2)

    def _check_block(self, j) -> None:
        if isinstance(j, bool) or not isinstance(j, int) or not 0 <= j < len(self.layers):
            n = len(self.layers)
            raise LaminaValueError(f"block {j!r} does not exist: this network has {n} layers "
                                   f"(blocks 0 to {n - 1})")


def _pinv(m):
    """The pseudo-inverse, treating singular values below eps max(m, n) sigma_max as zero
    (NumPy's ``lstsq`` cut-off): the rank-deficient products of a deep linear network (a
    wide layer after a narrow one) then give the minimum-norm solution, not rounding noise
    amplified by 1 / sigma."""
    xp = get_array_module(m)
    return xp.linalg.pinv(m, rcond=xp.finfo(m.dtype).eps * max(m.shape))


def _linear_layers(layers) -> list:
    """The Linear layers of a deep linear network, checked to follow each other."""
    if isinstance(layers, Module):
        leaves = [m for m in layers.modules() if not list(m.children())]
        other = [type(m).__name__ for m in leaves if not isinstance(m, (Linear, Identity, Flatten))]
        if other:
            raise LaminaValueError(f"a deep linear network has only Linear, Identity and Flatten "
                                   f"modules; this one also has {other}")
        layers = [m for m in leaves if isinstance(m, Linear)]
    layers = list(layers)
    if not layers or not all(isinstance(m, Linear) for m in layers):
        raise LaminaTypeError("layers must be a non-empty list of Linear layers or a module made "
                              "of them")
    for k, (a, b) in enumerate(zip(layers[:-1], layers[1:])):
        if a.out_features != b.in_features:
            raise ShapeError(f"layer {k} has {a.out_features} outputs but layer {k + 1} takes "
                             f"{b.in_features} inputs")
    return layers
