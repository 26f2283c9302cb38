"""A short training run on real Fashion-MNIST (the Debian package dataset-fashion-mnist)."""
import json
import os

import pytest

from lamina.cli import main

FASHION = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(not os.path.isdir(FASHION),
                    reason=f"Fashion-MNIST not installed at {FASHION} (apt-get install dataset-fashion-mnist)")
def test_two_epochs_of_an_mlp_on_fashion_mnist_reach_80_percent(tmp_path):
    out = tmp_path / "fashion"
    assert main(["train", "--dataset", "fashion-mnist", "--model", "mlp:784,100,10:relu",
                 "--epochs", "2", "--batch-size", "32", "--lr", "0.05", "--train-size", "20000",
                 "--val-size", "5000", "--quiet", "--out", str(out)]) == 0
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 2
    assert records[-1]["test_accuracy"] > 0.80
    assert records[-1]["train_loss"] < records[0]["train_loss"]
