"""Seed 002's backpropagation example, digit by digit, computed twice.

Seed 002 ("An Example for Backpropagation"): a 2-2-1 network of sigmoid units without
biases, input x = (0.35, 0.9), hidden weights W^1_11 = 0.1, W^1_12 = 0.8, W^1_21 = 0.4,
W^1_22 = 0.6 (W^l_ij: from unit j of layer l-1 into unit i of layer l), output weights
W^2_11 = 0.3, W^2_12 = 0.9, target t = 0.5, loss 1/2 (t - y)^2, learning rate 1. The slides
print y, the sensitivities delta = -dL/dnet of the three units, the six gradients and the
six updated weights.

Columns: the slide's value as printed; lamina's autodiff (forward pass on float64 tensors,
``backward()``, deltas as -grad of the pre-activations kept with ``retain_grad()``, one
``lm.optim.SGD(lr=1)`` step); the explicit delta recursion of
:func:`lamina.classic.backprop.sensitivity_backprop`; and the slide's own arithmetic, which
rounds every intermediate value to the digits it prints and reuses the rounded value (y =
0.69, x^1_1 = 0.68, delta = -0.0406, ...). The exact computation differs from the slides in
the last printed digit where that rounding propagates; the last column shows that the
rounding, not the algorithm, explains each difference.
"""
from __future__ import annotations

from ..classic.backprop import SEED002, SEED002_LECTURE, seed002_example
from .report import Report

__all__ = ["run", "slide_arithmetic", "SEED002_GRADIENTS"]

# The gradients dL/dW as the slide prints them ("An Example for Backpropagation: Just Repeat!").
SEED002_GRADIENTS = {
    "dL/dW1_11": "0.000945", "dL/dW1_12": "0.00243", "dL/dW1_21": "0.00287",
    "dL/dW1_22": "0.00738", "dL/dW2_11": "0.0276", "dL/dW2_12": "0.0269",
}

_LABELS = {
    "y": "y = x^2_1 (output)",
    "delta_2_1": "delta^2_1 (output unit)",
    "delta_1_1": "delta^1_1 (hidden unit 1)",
    "delta_1_2": "delta^1_2 (hidden unit 2)",
    "W1_11": "W^1_11 after the step",
    "W1_12": "W^1_12 after the step",
    "W1_21": "W^1_21 after the step",
    "W1_22": "W^1_22 after the step",
    "W2_11": "W^2_11 after the step",
    "W2_12": "W^2_12 after the step",
}


def _digits(printed: str) -> int:
    return len(printed.split(".")[1])


def _fmt(value: float, printed: str) -> str:
    """``value`` rounded to as many decimals as the slide prints in ``printed``."""
    return f"{value:.{_digits(printed)}f}"


def slide_arithmetic() -> dict:
    """The slides' chain of arithmetic: every value rounded as printed, then reused.

    x^1_1 = 0.68 and x^1_2 = 0.6637 and y = 0.69 as printed; delta^2_1 = (t - y) y (1 - y);
    delta^1_i = x^1_i (1 - x^1_i) W^2_1i delta^2_1 with the rounded delta^2_1; gradients
    dL/dW^l_ij = -delta^l_i x^{l-1}_j with the rounded deltas; W <- W - dL/dW.
    """
    r = lambda v, key, table=SEED002_LECTURE: round(v, _digits(table[key]))  # noqa: E731
    x, W1, W2, t = SEED002["x"], SEED002["W1"], SEED002["W2"], SEED002["t"]
    hidden = (0.68, 0.6637)  # as printed on the forward-pass slide
    v = {"y": 0.69}
    v["delta_2_1"] = r((t - v["y"]) * v["y"] * (1 - v["y"]), "delta_2_1")
    for i in range(2):
        v[f"delta_1_{i + 1}"] = r(hidden[i] * (1 - hidden[i]) * W2[0, i] * v["delta_2_1"],
                                  f"delta_1_{i + 1}")
    for i in range(2):
        for j in range(2):
            key = f"dL/dW1_{i + 1}{j + 1}"
            v[key] = r(-v[f"delta_1_{i + 1}"] * x[j], key, SEED002_GRADIENTS)
            v[f"W1_{i + 1}{j + 1}"] = r(W1[i, j] - SEED002["lr"] * v[key], f"W1_{i + 1}{j + 1}")
        key = f"dL/dW2_1{i + 1}"
        v[key] = r(-v["delta_2_1"] * hidden[i], key, SEED002_GRADIENTS)
        v[f"W2_1{i + 1}"] = r(W2[0, i] - SEED002["lr"] * v[key], f"W2_1{i + 1}")
    return v


def run(quick: bool = False, out: str = "lab-backprop-example") -> Report:
    """The the lecture Neural Networks, Multilayer Neural Networks, Backpropagation table: lecture value | lamina autodiff | explicit delta rule."""
    report = Report("backprop-example")
    both = seed002_example()
    auto, explicit, slide = both["autodiff"], both["explicit"], slide_arithmetic()
    columns = ["quantity", "lecture (Neural Networks, Backpropagation)", "lamina autodiff", "explicit delta rule",
               "slide's rounded arithmetic", "exact = lecture?"]
    mismatches = []
    for title, table_values, keys in (
            ("Seed 002's 2-2-1 example: forward pass, sensitivities delta = -dL/dnet, one SGD "
             "step with eta = 1", SEED002_LECTURE, list(SEED002_LECTURE)),
            ("The gradients dL/dW^l_ij = -delta^l_i x^{l-1}_j", SEED002_GRADIENTS,
             list(SEED002_GRADIENTS))):
        table = report.table(title, columns)
        for key in keys:
            printed = table_values[key]
            agree = _fmt(auto[key], printed) == _fmt(explicit[key], printed) == printed
            if not agree:
                mismatches.append(key)
            table.add(_LABELS.get(key, key), printed, _fmt(auto[key], printed),
                      _fmt(explicit[key], printed), _fmt(slide[key], printed),
                      "yes" if agree else "no")
    methods_agree = all(abs(auto[k] - explicit[k]) <= 1e-12 for k in auto)
    slide_reproduced = all(_fmt(slide[k], p) == p
                           for table in (SEED002_LECTURE, SEED002_GRADIENTS) for k, p in table.items())
    report.data = {"autodiff": auto, "explicit": explicit, "slide_arithmetic": slide,
                   "mismatches": mismatches, "methods_agree": methods_agree,
                   "slide_reproduced": slide_reproduced}
    main = [k for k in mismatches if k in SEED002_LECTURE]
    grads = [k for k in mismatches if k in SEED002_GRADIENTS]
    report.notes.append(
        "All agree to the printed digits: "
        + ("yes." if not mismatches and methods_agree else "no.")
        + f" lamina autodiff and the explicit delta rule agree with each other on every quantity "
        f"(to within 1e-12): {'yes' if methods_agree else 'NO'}. With the lecture: "
        f"{len(SEED002_LECTURE) - len(main)} of {len(SEED002_LECTURE)} values of the first table "
        f"and {len(SEED002_GRADIENTS) - len(grads)} of {len(SEED002_GRADIENTS)} gradients"
        + (f"; differing: {', '.join(mismatches)}." if mismatches else "."))
    if mismatches:
        report.notes.append(
            f"Why: the exact output is y = {auto['y']:.6f} and delta^2_1 = {auto['delta_2_1']:.6f} "
            f"(prints as {auto['delta_2_1']:.4f}); the slides round y to 0.69, x^1_1 to 0.68 and "
            "the deltas to the printed digits before reusing them, e.g. dL/dW^2_11 = 0.0406 x 0.68 "
            f"= 0.0276 instead of {auto['dL/dW2_11']:.6f}, hence W^2_11 = 0.2724 instead of "
            f"{auto['W2_11']:.6f}. Repeating that rounded arithmetic reproduces every printed "
            f"value: {'yes' if slide_reproduced else 'NO'} (last column).")
    report.notes.append(
        "Layout: W^l_ij is the weight from unit j of layer l-1 into unit i of layer l (the "
        "slide's forward pass x^1_1 = sigmoid(0.1 * 0.35 + 0.9 * 0.8) fixes this reading), so "
        "the slide's updated weights 0.0991, 0.7976, 0.3971, 0.5926 are W1 = "
        "[[W^1_11, W^1_12], [W^1_21, W^1_22]] in lamina's (out, in) layout.")
    return report
