"""Boolean logic with neurons: McCulloch-Pitts gates, the perceptron on AND/OR/XOR, and a
two-layer network that solves XOR (Dehaqani, Introduction to Neural Networks).

Dehaqani, "Introduction to Neural Networks": McCulloch-Pitts units compute AND, OR and "N1 and not N2" (an inhibitory synapse
forces the output to zero), hence any Boolean function; a truth table in disjunctive normal
form is a one-hidden-layer network with one unit per true row ("A one-hidden-layer MLP is
a Universal Boolean Function", the 5-input table). Rosenblatt's perceptron learns any
linearly separable gate and provably converges, but "No solution for XOR! Not universal!"
(Minsky and Papert); a hidden layer fixes that ("Multi-layer Perceptron! XOR").
"""
from __future__ import annotations

import warnings

import numpy as np

import lamina as lm

from ..classic import (UNIVERSAL_BOOLEAN_TABLE, ConvergenceWarning, Perceptron, and_gate,
                       dnf_network, not_gate, or_gate, truth_table, xor_network)
from ..classic.mcculloch_pitts import McCullochPitts
from ..models import mlp
from ..nn import functional as F
from .report import Report

__all__ = ["run", "train_xor_mlp"]

GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}


def _mcculloch_pitts(report: Report) -> dict:
    X = truth_table(2)
    units = {"AND": and_gate(), "OR": or_gate(),
             "x1 and not x2": McCullochPitts([1, 0], 1, inhibitory=[1])}
    outputs = {name: unit.predict(X) for name, unit in units.items()}
    outputs["NOT x1"] = not_gate().predict(X[:, :1])
    outputs["XOR (2 hidden + OR)"] = xor_network().predict(X)
    table = report.table("McCulloch-Pitts units (Dehaqani, Introduction to Neural Networks): truth tables",
                         ["x1", "x2", "AND (w=1,1; T=2)", "OR (w=1,1; T=1)",
                          "NOT x1 (x1 inhibitory; T=0)", "x1 and not x2 (x2 inhibitory)",
                          "XOR network (2 hidden + OR)"])
    for i, (x1, x2) in enumerate(X):
        table.add(int(x1), int(x2), *(int(outputs[k][i]) for k in
                                      ("AND", "OR", "NOT x1", "x1 and not x2", "XOR (2 hidden + OR)")))
    return {k: v.tolist() for k, v in outputs.items()}


def _dnf(report: Report) -> dict:
    net = dnf_network(UNIVERSAL_BOOLEAN_TABLE)
    inputs = truth_table(5)
    true_rows = {tuple(r) for r in UNIVERSAL_BOOLEAN_TABLE[:, :5]}
    expected = np.array([int(tuple(r) in true_rows) for r in inputs])
    predicted = net.predict(inputs)
    table = report.table("Dehaqani's 5-input truth table (Introduction to Neural Networks) as a DNF network (one hidden "
                         "McCulloch-Pitts unit per true row, OR output)",
                         ["X1 X2 X3 X4 X5", "Y (Dehaqani, Introduction to Neural Networks)", "hidden unit that fires",
                          "network output"])
    hidden = net.hidden_outputs(UNIVERSAL_BOOLEAN_TABLE[:, :5])
    outputs = net.predict(UNIVERSAL_BOOLEAN_TABLE[:, :5])
    for row, h, y in zip(UNIVERSAL_BOOLEAN_TABLE, hidden, outputs):
        table.add(" ".join(map(str, row[:5])), int(row[5]),
                  ", ".join(str(j + 1) for j in np.flatnonzero(h)), int(y))
    correct = int((predicted == expected).sum())
    report.notes.append(
        f"DNF network: {len(net.hidden)} hidden units; its output equals the truth table on "
        f"{correct} of the {len(inputs)} inputs (the 26 rows not listed must give 0). Hidden unit "
        "k has the row's 1-bits as excitatory inputs (threshold = their number) and its 0-bits "
        "as inhibitory inputs, i.e. the conjunction of Dehaqani's DNF term.")
    return {"hidden_units": len(net.hidden), "correct": correct, "total": len(inputs)}


def _perceptron(report: Report, max_epochs: int) -> dict:
    X = truth_table(2)
    table = report.table(f"Rosenblatt's perceptron (lr = 1, weights from 0, at most {max_epochs} "
                         "epochs)", ["gate", "converged", "epoch of convergence",
                                     "mistakes per epoch", "w1, w2, T", "accuracy"])
    results = {}
    for gate, y in GATES.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model = Perceptron(lr=1.0, max_epochs=max_epochs).fit(X, y)
        errors = model.errors_ if len(model.errors_) <= 8 else model.errors_[:4] + ["..."] + model.errors_[-2:]
        table.add(gate, "yes" if model.converged_ else "no",
                  model.n_epochs_ if model.converged_ else f"not after {model.n_epochs_}",
                  " ".join(map(str, errors)),
                  f"{model.coef_[0]:g}, {model.coef_[1]:g}, {0.0 - model.intercept_:g}",
                  f"{model.score(X, y):.2f}")
        results[gate] = {"converged": model.converged_, "n_epochs": model.n_epochs_,
                         "warned": any(issubclass(w.category, ConvergenceWarning) for w in caught),
                         "accuracy": model.score(X, y)}
    return results


def train_xor_mlp(steps: int = 500, seed: int = 0) -> tuple:
    """A 2-2-1 sigmoid network (lamina.models.mlp) trained on XOR with lamina.optim.SGD
    (lr 2, momentum 0.9, full batch) on the binary cross-entropy; returns
    (network, final loss, hidden activations, output probabilities)."""
    lm.manual_seed(seed)
    X = lm.tensor(truth_table(2), dtype=lm.float32)
    y = lm.tensor(np.array(GATES["XOR"], dtype=np.float32)[:, None])
    net = mlp([2, 2, 1], activation="sigmoid")
    optimizer = lm.optim.SGD(net.parameters(), lr=2.0, momentum=0.9)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(net(X), y)
        loss.backward()
        optimizer.step()
    with lm.no_grad():
        hidden = F.sigmoid(net[1](net[0](X))).numpy()
        probability = F.sigmoid(net(X)).numpy()[:, 0]
    return net, float(loss.item()), hidden, probability


def _mlp(report: Report, steps: int) -> dict:
    _net, loss, hidden, probability = train_xor_mlp(steps)
    X = truth_table(2)
    table = report.table(f"A two-layer lamina MLP [2, 2, 1] (sigmoid) trained on XOR: SGD, lr 2, "
                         f"momentum 0.9, {steps} full-batch steps, binary cross-entropy",
                         ["x1", "x2", "XOR", "hidden unit 1", "hidden unit 2", "P(y = 1)",
                          "prediction"])
    predicted = (probability > 0.5).astype(int)
    for i, (x1, x2) in enumerate(X):
        table.add(int(x1), int(x2), GATES["XOR"][i], f"{hidden[i, 0]:.3f}", f"{hidden[i, 1]:.3f}",
                  f"{probability[i]:.3f}", int(predicted[i]))
    solved = predicted.tolist() == GATES["XOR"]
    report.notes.append(f"The MLP {'solves' if solved else 'does NOT solve'} XOR (final loss "
                        f"{loss:.2e}); its hidden units learn two linearly separable gates whose "
                        "combination the output unit separates.")
    return {"solved": solved, "loss": loss, "probability": probability.tolist()}


def run(quick: bool = False, out: str = "lab-logic") -> Report:
    """Gates, the DNF network, the perceptron on AND/OR/XOR and an MLP on XOR."""
    report = Report("logic")
    data = {"mcculloch_pitts": _mcculloch_pitts(report), "dnf": _dnf(report),
            "perceptron": _perceptron(report, max_epochs=100 if quick else 1000),
            "mlp": _mlp(report, steps=500 if quick else 2000)}
    report.notes.append(
        "Perceptron: AND and OR are linearly separable, so the rule stops after an error-free "
        "epoch (the 'epoch of convergence', counted from 1); no line separates XOR, so it keeps "
        "making mistakes until max_epochs and warns (ConvergenceWarning, converged_ = False).")
    report.data = data
    return report
