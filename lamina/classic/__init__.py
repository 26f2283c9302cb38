"""The neurons and learning rules that came before backpropagation (Dehaqani, "Introduction to Neural Networks"), and
backpropagation itself written out as the lectures' delta recursion (Grohs, "Introduction to
(Convolutional) Neural Networks"; the backpropagation lecture; Ghauch & Ghadikolaei,
"Fundamentals of Deep Neural Networks").

- :mod:`.mcculloch_pitts`: all-or-none units with absolute inhibition, gates, XOR and any
  truth table as a one-hidden-layer network in disjunctive normal form, reduced DNF, and
  networks with synaptic delays and loops (memory).
- :mod:`.hebbian`: Hebb's rule w <- w + eta x y and its unbounded weight growth.
- :mod:`.perceptron`: Rosenblatt's rule; hand-wired threshold networks for polygons,
  circles and their unions.
- :mod:`.adaline`: ADALINE (LMS / Widrow-Hoff) and the generalized delta rule.
- :mod:`.madaline`: MADALINE trained by MRII.
- :mod:`.rbf`: k-means and Gaussian RBF networks.
- :mod:`.linear`: logistic regression (Newton) and the binary / Crammer-Singer linear SVM
  (Pegasos SGD), the two ends of Schwing & Telgarsky's ("Deep Neural Networks") framework.
- :mod:`.backprop`: explicit backpropagation, and the backpropagation lecture's worked example.

The models follow scikit-learn's conventions (``fit(X, y)`` returns ``self``, ``predict``,
``score`` = accuracy, fitted attributes end in ``_``) on NumPy arrays.
"""
from .adaline import Adaline, DeltaRule
from .base import ConvergenceWarning
from .backprop import (ACTIVATIONS, BackpropResult, explicit_backprop, backprop_example,
                       sensitivity_backprop, sgd_update)
from .hebbian import Hebbian
from .linear import LogisticRegression
from .madaline import Madaline
from .mcculloch_pitts import (REDUCTION_SLIDE_TERMS, REDUCTION_SLIDE_VARIABLES,
                              UNIVERSAL_BOOLEAN_TABLE,
                              McCullochPitts, MPNetwork, and_gate, dnf_expression,
                              dnf_network, dnf_truth_table, not_gate, or_gate,
                              reduce_dnf, reduced_dnf_network, truth_table, xor_network)
from .mp_time import DelayedMPNetwork, delayed_gate, memory_latch
from .perceptron import (Perceptron, ThresholdNetwork, circle_network,
                         polygon_network, union_network)
from .rbf import RBFNetwork, kmeans, rbf_design
from .svm import LinearSVC

__all__ = [
    "McCullochPitts", "MPNetwork", "and_gate", "or_gate", "not_gate", "xor_network",
    "dnf_network", "truth_table", "UNIVERSAL_BOOLEAN_TABLE",
    "reduce_dnf", "reduced_dnf_network", "dnf_truth_table", "dnf_expression",
    "REDUCTION_SLIDE_TERMS", "REDUCTION_SLIDE_VARIABLES",
    "DelayedMPNetwork", "delayed_gate", "memory_latch",
    "Hebbian", "Perceptron", "ConvergenceWarning", "ThresholdNetwork", "polygon_network",
    "circle_network", "union_network", "Adaline", "DeltaRule", "Madaline",
    "RBFNetwork", "kmeans", "rbf_design", "LogisticRegression", "LinearSVC",
    "ACTIVATIONS", "BackpropResult", "explicit_backprop", "sensitivity_backprop", "sgd_update",
    "backprop_example",
]
