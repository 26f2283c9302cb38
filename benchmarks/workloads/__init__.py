"""The workloads of the side-by-side benchmark (issue 6), in the order they run.

Each maps a name to ``run(settings) -> list[Row]``; see ``benchmarks/README.md``.
"""
from . import convnets, mlp_sgd, overhead, startup

WORKLOADS = {
    "mlp-sgd": mlp_sgd.run,
    "lenet-train": convnets.run_lenet_train,
    "tf-cnn-train": convnets.run_tf_cnn_train,
    "lenet-infer": convnets.run_lenet_infer,
    "overhead": overhead.run,
    "startup-and-memory": startup.run,
}
PROFILABLE = ("mlp-sgd", "lenet-train", "tf-cnn-train")
