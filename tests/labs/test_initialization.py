"""The initialization lab's quick run: N(0,1) saturates sigmoid/tanh units and blows up ReLU
activations; Glorot and Kaiming keep the signal (seed 001)."""
import os

import numpy as np
import pytest

import lamina as lm
from lamina.labs.initialization import CONFIGS, layer_statistics, run
from lamina.models import mlp


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    report = run(quick=True, out=str(tmp_path_factory.mktemp("initialization")))
    assert len(report.files) == 1 and os.path.getsize(report.files[0]) > 0
    assert len(report.tables[0].rows) == len(CONFIGS)
    return report.data


def saturated(data, key):
    return float(np.mean(data[key]["saturated"]))


def test_normal_init_saturates_sigmoid_units_where_glorot_does_not(data):
    normal, glorot = ("sigmoid", "normal"), ("sigmoid", "xavier")
    assert saturated(data, normal) > 0.1 > 0.01 > saturated(data, glorot)
    assert data[normal]["std"][0] > 2 * data[glorot]["std"][0]


def test_deep_sigmoid_gradients_vanish_with_glorot_but_not_with_larger_weights(data):
    # sigma' <= 1/4 per layer: with Glorot's variance the first layer gets almost nothing.
    glorot, normal = data[("sigmoid", "xavier")], data[("sigmoid", "normal")]
    assert glorot["grad_ratio"] < 1e-3
    assert normal["grad_ratio"] > 100 * glorot["grad_ratio"]


def test_tanh_learns_from_glorot_and_not_from_saturating_normal_weights(data):
    glorot, normal = data[("tanh", "xavier")], data[("tanh", "normal")]
    assert saturated(data, ("tanh", "normal")) > 0.3
    assert glorot["test_acc"] > 0.6 and glorot["final_loss"] < 0.5 * glorot["loss"]
    assert normal["test_acc"] < 0.3


def test_relu_activations_explode_from_normal_fade_from_uniform_and_hold_with_kaiming(data):
    assert data[("relu", "normal")]["std_ratio"] > 1e3
    assert 0.5 < data[("relu", "kaiming")]["std_ratio"] < 2.0
    assert data[("relu", "default")]["std_ratio"] < 0.5
    assert data[("relu", "kaiming")]["test_acc"] > 0.3


def test_layer_statistics_counts_hidden_layers_and_detects_saturation():
    lm.manual_seed(0)
    model = mlp([6, 5, 5, 5, 3], "sigmoid")
    with lm.no_grad():
        for layer in model:
            if isinstance(layer, lm.nn.Linear):
                layer.weight._data[...] = 0.0
                layer.bias._data[...] = 10.0  # sigmoid(10): a(1 - a) = 4.5e-5, saturated
    x = np.ones((4, 6), np.float32)
    stats = layer_statistics(model, "sigmoid", x, np.array([0, 1, 2, 0]))
    assert len(stats["std"]) == 3 and len(stats["grad_norm"]) == 4
    assert stats["saturated"] == [1.0, 1.0, 1.0]
    assert stats["std"] == pytest.approx([0.0, 0.0, 0.0], abs=1e-6)
    assert stats["loss"] == pytest.approx(np.log(3.0), rel=1e-5)  # equal logits
