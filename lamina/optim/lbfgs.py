"""L-BFGS: a quasi-Newton method from a short history of gradient differences (Nocedal, 1980)."""
from __future__ import annotations

import copy
import math
import numbers
from typing import Any, Callable, Iterable

import numpy as np

from ..autograd import Tensor, enable_grad, no_grad
from ..backend import get_array_module
from ..errors import LaminaTypeError, LaminaValueError, ShapeError
from .optimizer import Optimizer, _copy_to, _is_array, check_hyperparameter

__all__ = ["LBFGS"]

_LINE_SEARCHES = (None, "strong_wolfe")
_COUNTERS = ("func_evals", "n_iter")


class LBFGS(Optimizer):
    r"""L-BFGS, PyTorch's ``torch.optim.LBFGS``; ``step(closure)`` runs up to ``max_iter`` iterations.

    All parameters are treated as one flat vector w with gradient g = grad f(w). Iteration
    k moves along a quasi-Newton direction d^{(k)} = -H^{(k)} g^{(k)}, where H^{(k)}
    approximates the inverse Hessian from the last m = ``history_size`` pairs

        s^{(i)} = w^{(i+1)} - w^{(i)},   y^{(i)} = g^{(i+1)} - g^{(i)},   rho_i = 1 / (y^{(i)}.s^{(i)})

    (a pair is kept only if y.s > 1e-10, which keeps H positive definite) through the
    two-loop recursion, with initial scaling gamma = s.y / y.y of the newest pair:

        q <- -g;  for i newest..oldest:  a_i = rho_i s^{(i)}.q,   q <- q - a_i y^{(i)}
        r <- gamma q;  for i oldest..newest:  b = rho_i y^{(i)}.r,  r <- r + (a_i - b) s^{(i)}
        d^{(k)} = r                                  (the very first iteration: d = -g)

    and then w^{(k+1)} = w^{(k)} + t^{(k)} d^{(k)}, where t is ``lr`` (on the very first
    iteration min(1, 1/||g||_1) lr) or, with ``line_search_fn="strong_wolfe"``, the result
    of a line search from that t for a step satisfying the strong Wolfe conditions on
    phi(t) = f(w + t d):

        phi(t) <= phi(0) + c_1 t phi'(0),     |phi'(t)| <= c_2 |phi'(0)|     (c_1 = 1e-4, c_2 = 0.9)

    found by bracketing and zooming with safeguarded cubic interpolation (Nocedal & Wright,
    *Numerical Optimization*, algorithms 3.5 and 3.6), within the evaluations left of
    ``max_eval``.

    ``step`` stops early when max|g| <= ``tolerance_grad``, when the directional derivative
    g.d > -``tolerance_change``, when max|t d| <= ``tolerance_change`` or the loss changes
    by less than ``tolerance_change``, or after ``max_eval`` evaluations of the closure
    (default ``max_iter * 5 // 4``). The history carries over between ``step`` calls.

    As in PyTorch there is a single parameter group, and ``step`` needs a closure that
    clears the gradients, recomputes the loss, calls ``backward()`` and returns the loss;
    ``step`` returns the closure's first loss. State (under index 0, like PyTorch's):
    ``func_evals``, ``n_iter``, ``d``, ``t``, ``old_dirs`` (the y's), ``old_stps`` (the s's),
    ``ro``, ``H_diag`` (gamma), ``prev_flat_grad`` and ``prev_loss``.

    >>> opt = lm.optim.LBFGS(model.parameters(), lr=1, line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = loss_fn(model(x), y)
    ...     loss.backward()
    ...     return loss
    >>> opt.step(closure)
    """

    def __init__(self, params: Iterable, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        _check_count("max_iter", max_iter)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size,
                        line_search_fn=line_search_fn)
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """LBFGS works on one flat vector: a second group is refused, as in PyTorch."""
        if self.param_groups:
            raise LaminaValueError("LBFGS doesn't support per-parameter options (parameter groups): "
                                   "it takes exactly one group, got a second")
        super().add_param_group(param_group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        _check_count("max_iter", group["max_iter"])
        _check_count("max_eval", group["max_eval"])
        _check_count("history_size", group["history_size"])
        check_hyperparameter("tolerance_grad", group["tolerance_grad"])
        check_hyperparameter("tolerance_change", group["tolerance_change"])
        if group["line_search_fn"] not in _LINE_SEARCHES:
            raise LaminaValueError(f"line_search_fn must be None or 'strong_wolfe', "
                                   f"got {group['line_search_fn']!r}")

    def _step_group(self, group: dict[str, Any], first: int) -> None:
        raise LaminaTypeError("LBFGS has no update without a closure: call step(closure)")

    # ------------------------------------------------------------------ the flat vector
    def _flat_grad(self):
        """All gradients as one new flat array (zeros for a parameter without one)."""
        params = self.param_groups[0]["params"]
        xp = get_array_module(params[0]._data)
        return xp.concatenate([p.grad._data.reshape(-1) if p.grad is not None
                               else xp.zeros(p._data.size, dtype=p._data.dtype) for p in params])

    def _move(self, t: float, d) -> None:
        """w <- w + t d, parameter by parameter."""
        offset = 0
        for p in self.param_groups[0]["params"]:
            w = p._data
            w += t * d[offset:offset + w.size].reshape(w.shape)
            offset += w.size
            p._version += 1

    def _restore(self, saved: list) -> None:
        for p, w in zip(self.param_groups[0]["params"], saved):
            p._data[...] = w
            p._version += 1

    def _evaluate(self, closure: Callable) -> tuple[Any, float, Any]:
        """The closure's loss (as returned, and as a float) and the flat gradient it left."""
        with enable_grad():
            loss = closure()
        return loss, float(loss), self._flat_grad()

    # ------------------------------------------------------------------ the iterations
    def step(self, closure: Callable[[], Any] | None = None):
        """Run up to ``max_iter`` L-BFGS iterations; return the loss of the first evaluation.

        ``closure`` is required: it re-evaluates the model (clearing the gradients and
        calling ``backward()``) and returns the loss; it runs with gradient recording on.
        """
        if closure is None or not callable(closure):
            raise LaminaTypeError(
                "LBFGS.step(closure) needs a closure: a function that clears the gradients, "
                f"recomputes the loss, calls backward() and returns the loss; got {closure!r}")
        with no_grad():
            return self._iterate(closure)

    def _iterate(self, closure: Callable):
        group = self.param_groups[0]
        lr = float(group["lr"])
        max_iter, max_eval = int(group["max_iter"]), int(group["max_eval"])
        tolerance_grad = float(group["tolerance_grad"])
        tolerance_change = float(group["tolerance_change"])
        history_size = int(group["history_size"])
        state = self.state.setdefault(0, {"func_evals": 0, "n_iter": 0})

        first_loss, loss, flat_grad = self._evaluate(closure)
        xp = get_array_module(flat_grad)
        evals = 1
        state["func_evals"] += 1
        if float(xp.max(xp.abs(flat_grad))) <= tolerance_grad:
            return first_loss  # already optimal

        d, t, h_diag = state.get("d"), state.get("t"), state.get("H_diag")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")
        for iteration in range(1, max_iter + 1):
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                h_diag = 1.0
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(xp.dot(y, s))
                if ys > 1e-10:  # curvature condition: keep only pairs with y.s > 0
                    if len(old_dirs) == history_size:  # forget the oldest pair
                        del old_dirs[0], old_stps[0], ro[0]
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / float(xp.dot(y, y))
                d = _two_loop(flat_grad, old_dirs, old_stps, ro, h_diag)
            prev_flat_grad, prev_loss = flat_grad, loss

            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(xp.sum(xp.abs(flat_grad)))) * lr
            else:
                t = lr
            gtd = float(xp.dot(flat_grad, d))
            if gtd > -tolerance_change:
                break  # not a descent direction (to tolerance)

            if group["line_search_fn"] == "strong_wolfe":
                start = [p._data.copy() for p in group["params"]]

                def phi(step: float):
                    self._move(step, d)
                    _, value, grad = self._evaluate(closure)
                    self._restore(start)
                    return value, grad

                # the search may spend what is left of this step's max_eval evaluations
                loss, flat_grad, t, line_evals = _strong_wolfe(phi, t, d, loss, flat_grad, gtd,
                                                               max_ls=max_eval - evals)
                self._move(t, d)
                optimal = float(xp.max(xp.abs(flat_grad))) <= tolerance_grad
            else:
                self._move(t, d)
                line_evals, optimal = 0, False
                if iteration != max_iter:  # the last iteration's loss would go unused
                    _, loss, flat_grad = self._evaluate(closure)
                    optimal = float(xp.max(xp.abs(flat_grad))) <= tolerance_grad
                    line_evals = 1
            evals += line_evals
            state["func_evals"] += line_evals

            if iteration == max_iter or evals >= max_eval or optimal:
                break
            if float(xp.max(xp.abs(d * t))) <= tolerance_change:
                break  # the step no longer moves the parameters
            if abs(loss - prev_loss) < tolerance_change:
                break  # nor the loss

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return first_loss

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """As :meth:`Optimizer.state_dict`; the history lists hold Tensors too."""
        packed = super().state_dict()
        for entry in packed["state"].values():
            for key, value in entry.items():
                if isinstance(value, list):
                    entry[key] = [Tensor._wrap(v) if _is_array(v) else v for v in value]
        return packed

    def _restore_value(self, key: str, value, p: Tensor):
        """A saved entry as LBFGS keeps it: flat arrays in the parameters' dtype, floats, lists."""
        if isinstance(value, (list, tuple)):
            return [self._restore_value(key, v, p) for v in value]
        if isinstance(value, Tensor):
            value = value._data
        elif type(value).__module__.startswith("torch"):
            value = value.detach().cpu().numpy()
        if not (isinstance(value, np.generic) or _is_array(value)):
            return copy.deepcopy(value)
        if value.ndim == 0:
            value = value.item()
            # PyTorch may keep counters and scalars in tensors; lamina in Python numbers
            return int(value) if key in _COUNTERS and float(value).is_integer() else value
        params = self.param_groups[0]["params"]
        size = sum(q._data.size for q in params)
        if value.shape != (size,):
            raise ShapeError(f"state '{key}' has shape {value.shape}, but the parameters' flat "
                             f"vector has shape ({size},)")
        dtype = np.result_type(*[q._data.dtype for q in params]) if value.dtype.kind == "f" else value.dtype
        return _copy_to(value, dtype, params[0]._data)   # on the parameters' device


def _check_count(name: str, value) -> None:
    """Raise unless ``value`` is an integer >= 1 (an iteration, evaluation or history count)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise LaminaTypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise LaminaValueError(f"{name} must be a positive integer, got {value!r}")


def _two_loop(flat_grad, old_dirs: list, old_stps: list, ro: list, h_diag: float):
    """d = -H g by the two-loop recursion over the stored (s, y) pairs (see :class:`LBFGS`)."""
    xp = get_array_module(flat_grad)
    q = -flat_grad
    alphas = [0.0] * len(old_dirs)
    for i in range(len(old_dirs) - 1, -1, -1):
        alphas[i] = float(xp.dot(old_stps[i], q)) * ro[i]
        q += -alphas[i] * old_dirs[i]
    q *= h_diag
    for i in range(len(old_dirs)):
        beta = float(xp.dot(old_dirs[i], q)) * ro[i]
        q += (alphas[i] - beta) * old_stps[i]
    return q


def _cubic_minimizer(t1: float, f1: float, g1: float, t2: float, f2: float, g2: float,
                     bounds: tuple[float, float] | None = None) -> float:
    """The minimiser of the cubic through (t1, f1) and (t2, f2) with slopes g1, g2, clipped.

    With the points ordered so that t1 <= t2 (Nocedal & Wright, eq. 3.59):

        d1 = g1 + g2 - 3 (f1 - f2) / (t1 - t2),   d2 = sqrt(d1^2 - g1 g2)
        t = t2 - (t2 - t1) (g2 + d2 - d1) / (g2 - g1 + 2 d2)

    clipped to ``bounds`` (default: the interval between the points); a zero denominator
    (a cubic degenerating to a straight line) gives +-inf, i.e. a bound, as in IEEE
    arithmetic. When the cubic has no local minimum (d1^2 < g1 g2), or t1 = t2 or the
    formula gives NaN, the bounds' midpoint.
    """
    low, high = bounds if bounds is not None else (min(t1, t2), max(t1, t2))
    if t1 == t2:
        return (low + high) / 2
    d1 = g1 + g2 - 3 * (f1 - f2) / (t1 - t2)
    d2_square = d1 ** 2 - g1 * g2
    if not d2_square >= 0:
        return (low + high) / 2
    d2 = math.sqrt(d2_square)
    if t1 > t2:
        t1, f1, g1, t2, f2, g2 = t2, f2, g2, t1, f1, g1
    t = t2 - (t2 - t1) * _ieee_divide(g2 + d2 - d1, g2 - g1 + 2 * d2)
    if math.isnan(t):
        return (low + high) / 2
    return min(max(t, low), high)


def _ieee_divide(a: float, b: float) -> float:
    """a / b with IEEE 754's answer for b = 0 (+-inf, or NaN for 0/0) instead of an exception."""
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _strong_wolfe(phi: Callable, t: float, d, f: float, g, gtd: float, c1: float = 1e-4,
                  c2: float = 0.9, tolerance_change: float = 1e-9, max_ls: int = 25):
    """A step t along d meeting the strong Wolfe conditions; returns (f, g, t, evaluations).

    ``phi(t)`` gives the loss and flat gradient at w + t d; ``f``, ``g``, ``gtd`` are the
    loss, gradient and slope g.d at t = 0. Phase one grows t (extrapolating by cubic
    interpolation within [t + 0.01 (t - t_prev), 10 t]) until an interval is known to hold
    an acceptable step; phase two (zoom) shrinks that interval by cubic interpolation,
    moving a trial point that lands within 10% of an end away from it when the previous
    trial also made little progress. The best point found is returned.
    """
    xp = get_array_module(d)
    d_norm = float(xp.max(xp.abs(d)))
    f_new, g_new = phi(t)
    evals = 1
    gtd_new = float(xp.dot(g_new, d))
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:  # phase one: bracketing
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            points = [[t_prev, f_prev, g_prev, gtd_prev], [t, f_new, g_new, gtd_new]]
            break
        if abs(gtd_new) <= -c2 * gtd:
            points, done = [[t, f_new, g_new, gtd_new]], True
            break
        if gtd_new >= 0:
            points = [[t_prev, f_prev, g_prev, gtd_prev], [t, f_new, g_new, gtd_new]]
            break
        t_next = _cubic_minimizer(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                  bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = phi(t)
        evals += 1
        gtd_new = float(xp.dot(g_new, d))
        ls_iter += 1
    if ls_iter == max_ls:
        points = [[0.0, f, g, gtd], [t, f_new, g_new, gtd_new]]

    # phase two: zoom; points[low] is the best point so far, points[high] the other end
    low, high = (0, 1) if points[0][1] <= points[-1][1] else (1, 0)
    insufficient_progress = False
    while not done and ls_iter < max_ls:
        (t_a, f_a, _, gtd_a), (t_b, f_b, _, gtd_b) = points
        if abs(t_b - t_a) * d_norm < tolerance_change:
            break  # the interval is too short to matter
        t = _cubic_minimizer(t_a, f_a, gtd_a, t_b, f_b, gtd_b)
        left, right = min(t_a, t_b), max(t_a, t_b)
        margin = 0.1 * (right - left)
        if min(right - t, t - left) < margin:  # too close to an end
            if insufficient_progress or t >= right or t <= left:
                t = right - margin if abs(t - right) < abs(t - left) else left + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = phi(t)
        evals += 1
        gtd_new = float(xp.dot(g_new, d))
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= points[low][1]:
            points[high] = [t, f_new, g_new, gtd_new]  # sufficient decrease fails: shrink from above
            low, high = (0, 1) if points[0][1] <= points[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (points[high][0] - points[low][0]) >= 0:
                points[high] = points[low]
            points[low] = [t, f_new, g_new, gtd_new]
    t, f_new, g_new, _ = points[low]
    return f_new, g_new, t, evals
