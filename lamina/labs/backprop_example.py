"""The backpropagation lecture's worked example, digit by digit, computed twice.

The backpropagation lecture ("An Example for Backpropagation"): a 2-2-1 network of sigmoid
units without biases, input x = (0.35, 0.9), hidden weights W^1_11 = 0.1, W^1_12 = 0.8,
W^1_21 = 0.4, W^1_22 = 0.6 (W^l_ij: from unit j of layer l-1 into unit i of layer l), output
weights W^2_11 = 0.3, W^2_12 = 0.9, target t = 0.5, loss 1/2 (t - y)^2, learning rate 1. The
slides print y, the sensitivities delta = -dL/dnet of the three units, the six gradients and
the six updated weights.

The first table is what agrees: lamina's autodiff (forward pass on float64 tensors,
``backward()``, deltas as -grad of the pre-activations kept with ``retain_grad()``, one
``lm.optim.SGD(lr=1)`` step) against the explicit delta recursion of
:func:`lamina.classic.backprop.sensitivity_backprop`, to 12 significant digits, with their
difference (below 1e-12 on every quantity). The second table puts that exact result, rounded
to the digits the slide prints, beside the slide, and beside the slide's own arithmetic,
which rounds every intermediate value to the digits it prints and reuses the rounded value
(y = 0.69, x^1_1 = 0.68, delta = -0.0406, ...). Where that rounding propagates, the exact
result differs from the slide in the last printed digits; the rounded arithmetic reproduces
every printed value, so the rounding, not the algorithm, explains each difference.
"""
from __future__ import annotations

from ..classic.backprop import BACKPROP_EXAMPLE, BACKPROP_EXAMPLE_PRINTED, backprop_example
from .report import Report

__all__ = ["run", "slide_arithmetic", "BACKPROP_EXAMPLE_GRADIENTS", "QUANTITIES", "TOLERANCE"]

# The gradients dL/dW as the slide prints them ("An Example for Backpropagation: Just Repeat!").
BACKPROP_EXAMPLE_GRADIENTS = {
    "dL/dW1_11": "0.000945", "dL/dW1_12": "0.00243", "dL/dW1_21": "0.00287",
    "dL/dW1_22": "0.00738", "dL/dW2_11": "0.0276", "dL/dW2_12": "0.0269",
}

# The printed quantities in the lecture's order: forward pass, sensitivities, gradients, step.
QUANTITIES = (["y", "delta_2_1", "delta_1_1", "delta_1_2"] + list(BACKPROP_EXAMPLE_GRADIENTS)
              + [k for k in BACKPROP_EXAMPLE_PRINTED if k.startswith("W")])
TOLERANCE = 1e-12  # autodiff and the explicit rule agree to this (both float64)

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
    **{k: "dL/dW^" + k[len("dL/dW"):] for k in BACKPROP_EXAMPLE_GRADIENTS},  # dL/dW^1_11, ...
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
    r = lambda v, key, table=BACKPROP_EXAMPLE_PRINTED: round(v, _digits(table[key]))  # noqa: E731
    x, W1, W2, t = BACKPROP_EXAMPLE["x"], BACKPROP_EXAMPLE["W1"], BACKPROP_EXAMPLE["W2"], BACKPROP_EXAMPLE["t"]
    hidden = (0.68, 0.6637)  # as printed on the forward-pass slide
    v = {"y": 0.69}
    v["delta_2_1"] = r((t - v["y"]) * v["y"] * (1 - v["y"]), "delta_2_1")
    for i in range(2):
        v[f"delta_1_{i + 1}"] = r(hidden[i] * (1 - hidden[i]) * W2[0, i] * v["delta_2_1"],
                                  f"delta_1_{i + 1}")
    for i in range(2):
        for j in range(2):
            key = f"dL/dW1_{i + 1}{j + 1}"
            v[key] = r(-v[f"delta_1_{i + 1}"] * x[j], key, BACKPROP_EXAMPLE_GRADIENTS)
            v[f"W1_{i + 1}{j + 1}"] = r(W1[i, j] - BACKPROP_EXAMPLE["lr"] * v[key], f"W1_{i + 1}{j + 1}")
        key = f"dL/dW2_1{i + 1}"
        v[key] = r(-v["delta_2_1"] * hidden[i], key, BACKPROP_EXAMPLE_GRADIENTS)
        v[f"W2_1{i + 1}"] = r(W2[0, i] - BACKPROP_EXAMPLE["lr"] * v[key], f"W2_1{i + 1}")
    return v


def _agreement_table(report: Report, auto: dict, explicit: dict) -> float:
    """Autodiff beside the explicit delta rule at full precision; returns the largest
    difference."""
    table = report.table(
        "lamina's autodiff and the explicit delta rule agree: the backpropagation lecture's "
        "2-2-1 example in float64, one SGD step with eta = 1",
        ["quantity", "lamina autodiff (backward)", "explicit delta rule", "abs difference"])
    differences = {k: abs(auto[k] - explicit[k]) for k in QUANTITIES}
    for key in QUANTITIES:
        table.add(_LABELS[key], f"{auto[key]:.12g}", f"{explicit[key]:.12g}",
                  f"{differences[key]:.1e}" if differences[key] else "0")
    largest = max(differences.values())
    table.notes.append(
        f"The two methods agree on all {len(QUANTITIES)} quantities to within {TOLERANCE:g}: "
        f"{'yes' if largest <= TOLERANCE else 'NO'} (largest difference {largest:.1e}).")
    return largest


def _lecture_table(report: Report, exact: dict, slide: dict, printed: dict) -> list:
    """The slide's printed values beside the exact result and the slide's rounded
    arithmetic; returns the quantities whose exact digits differ from the slide's."""
    table = report.table(
        "The lecture's printed values beside the exact result (rounded to the slide's digits) "
        "and beside the slide's own rounded arithmetic",
        ["quantity", "lecture (as printed)", "exact, to the printed digits",
         "slide's rounded arithmetic", "exact vs lecture"])
    differing = []
    for key in QUANTITIES:
        same = _fmt(exact[key], printed[key]) == printed[key]
        reproduced = _fmt(slide[key], printed[key]) == printed[key]
        if not same:
            differing.append(key)
        table.add(_LABELS[key], printed[key], _fmt(exact[key], printed[key]),
                  _fmt(slide[key], printed[key]),
                  "same" if same else "rounding" if reproduced else "DIFFERS")
    return differing


def run(quick: bool = False, out: str = "lab-backprop-example") -> Report:
    """The backpropagation lecture's example: first autodiff against the explicit delta rule
    (they agree to 1e-12), then the slide's printed values beside the exact result and the
    slide's rounded arithmetic. (``quick`` and ``out`` are accepted for the labs' common
    interface; the lab is instant and writes no file.)"""
    report = Report("backprop-example")
    both = backprop_example()
    auto, explicit, slide = both["autodiff"], both["explicit"], slide_arithmetic()
    printed = {**BACKPROP_EXAMPLE_PRINTED, **BACKPROP_EXAMPLE_GRADIENTS}
    largest = _agreement_table(report, auto, explicit)
    mismatches = _lecture_table(report, auto, slide, printed)
    methods_agree = largest <= TOLERANCE
    slide_reproduced = all(_fmt(slide[k], p) == p for k, p in printed.items())
    report.data = {"autodiff": auto, "explicit": explicit, "slide_arithmetic": slide,
                   "max_difference": largest, "mismatches": mismatches,
                   "methods_agree": methods_agree, "slide_reproduced": slide_reproduced}
    report.tables[1].notes.append(
        f"{len(QUANTITIES) - len(mismatches)} of the {len(QUANTITIES)} printed values have the "
        f"exact result's digits. The other {len(mismatches)} ("
        + ", ".join(_LABELS[k].split(" ")[0] for k in mismatches)
        + ") differ in the last printed digits because the slides round intermediate values "
        "before reusing them; redoing the slides' rounded arithmetic reproduces all "
        f"{len(QUANTITIES)}: {'yes' if slide_reproduced else 'NO'} (fourth column).")
    if mismatches:
        report.notes.append(
            f"How the rounding propagates: the exact output is y = {auto['y']:.6f} and "
            f"delta^2_1 = {auto['delta_2_1']:.6f} (prints as {auto['delta_2_1']:.4f}); the "
            "slides round y to 0.69, x^1_1 to 0.68 and the deltas to the printed digits "
            f"before reusing them, e.g. dL/dW^2_11 = {-slide['delta_2_1']:g} x 0.68 = "
            f"{slide['dL/dW2_11']:g} instead of {auto['dL/dW2_11']:.6f}, hence W^2_11 = "
            f"{slide['W2_11']:g} instead of {auto['W2_11']:.6f}; and dL/dW^1_11 = "
            f"{-slide['delta_1_1']:g} x {BACKPROP_EXAMPLE['x'][0]:g} = {slide['dL/dW1_11']:g} with "
            f"delta^1_1 rounded to {slide['delta_1_1']:g} (exact {auto['delta_1_1']:.6f}, so "
            f"dL/dW^1_11 = {auto['dL/dW1_11']:.6f}).")
    report.notes.append(
        "Layout: W^l_ij is the weight from unit j of layer l-1 into unit i of layer l (the "
        "slide's forward pass x^1_1 = sigmoid(0.1 * 0.35 + 0.9 * 0.8) fixes this reading), so "
        "the slide's updated weights 0.0991, 0.7976, 0.3971, 0.5926 are W1 = "
        "[[W^1_11, W^1_12], [W^1_21, W^1_22]] in lamina's (out, in) layout.")
    return report
