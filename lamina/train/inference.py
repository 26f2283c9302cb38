"""Use a finished run: evaluate it on its test set (an autoencoder run: its reconstruction
loss), or classify image files with it."""
from __future__ import annotations

import json
import os

import numpy as np

from ..errors import LaminaValueError

__all__ = ["load_run", "evaluate_run", "predict_files", "load_image"]


def load_run(run_dir: str):
    """The configuration and the trained model (in eval mode) of a run directory."""
    from ..serialization import load
    from .setup import RunData, make_model

    config_path = os.path.join(run_dir, "config.json")
    weights = os.path.join(run_dir, "model.safetensors")
    for path in (config_path, weights):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path} not found: {run_dir} is not a finished lamina run")
    with open(config_path) as f:
        config = json.load(f)
    info = RunData(None, None, tuple(config["in_shape"]), int(config["num_classes"]),
                   config["class_names"], 0, 0, [])
    model = make_model(config, info)
    model.load_state_dict(load(weights))
    model.eval()
    return config, model


def evaluate_run(run_dir: str, dataset: str | None = None, data_dir: str | None = None) -> dict:
    """Test loss and accuracy of a run's model on its (or another) data set's test split.

    The result also names the run's ``task``; for an autoencoder run (``task='autoencode'``)
    ``loss`` is the test reconstruction loss and ``accuracy`` is None."""
    from .fit import evaluate
    from .setup import make_data, make_loss

    config, model = load_run(run_dir)
    if dataset is not None:
        config["dataset"] = dataset
    if data_dir is not None:
        config["data_dir"] = data_dir
    data = make_data(config)
    if tuple(data.in_shape) != tuple(config["in_shape"]):
        raise LaminaValueError(f"data set {config['dataset']} has inputs of shape {data.in_shape}, "
                               f"the model expects {tuple(config['in_shape'])}")
    task = config.get("task", "classify")
    result = evaluate(model, data.test_loader, make_loss(config, data.num_classes), task=task)
    result.update(count=data.test_size, task=task, loss_name=config["loss"])
    return result


def load_image(path: str, in_shape: tuple) -> np.ndarray:
    """A .npy array or a .png image as one float32 input of shape ``in_shape`` in [0, 1].

    PNGs are converted to grey (or kept RGB for 3-channel models) and resized by nearest
    neighbour; dark digits on a light background are inverted to match MNIST's convention.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"image {path} not found")
    if path.lower().endswith(".npy"):
        try:
            image = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise LaminaValueError(f"{path}: not a plain numeric .npy file ({exc})") from None
        image = image.astype(np.float32)
        if image.max() > 1.0:
            image = image / 255.0
    elif path.lower().endswith(".png"):
        import matplotlib.image  # optional dependency, reads PNG without Pillow

        image = matplotlib.image.imread(path).astype(np.float32)
        channels = in_shape[0]
        if image.ndim == 3:
            image = image[..., :3]
            image = image.mean(axis=2) if channels == 1 else image.transpose(2, 0, 1)
        if image.ndim == 2 and image.mean() > 0.5:
            image = 1.0 - image
    else:
        raise LaminaValueError(f"{path}: expected a .png or .npy file")
    size = int(np.prod(in_shape))
    if image.size == size:
        return image.reshape(in_shape)
    if image.ndim == 2 and len(in_shape) == 3:
        h, w = in_shape[1:]
        rows = (np.arange(h) * image.shape[0] / h).astype(int)
        cols = (np.arange(w) * image.shape[1] / w).astype(int)
        return image[np.ix_(rows, cols)].reshape(in_shape)
    if image.ndim == 3 and len(in_shape) == 3:
        h, w = in_shape[1:]
        rows = (np.arange(h) * image.shape[1] / h).astype(int)
        cols = (np.arange(w) * image.shape[2] / w).astype(int)
        return image[:, rows][:, :, cols]
    raise LaminaValueError(f"{path}: image of shape {image.shape} does not fit the model's input {in_shape}")


def predict_files(run_dir: str, paths: list[str]):
    """Yield (path, class name, probability) for each image file."""
    import lamina as lm

    config, model = load_run(run_dir)
    if config.get("task", "classify") == "autoencode":
        raise LaminaValueError(f"{run_dir} is an autoencoder run (task autoencode): it "
                               f"reconstructs images rather than classifying them; use "
                               f"`lamina eval {run_dir}` for its reconstruction loss")
    in_shape = tuple(config["in_shape"])
    batch = np.stack([load_image(p, in_shape) for p in paths])
    with lm.no_grad():
        out = model(lm.tensor(batch)).numpy().astype(np.float64)
    if config["loss"] == "cross-entropy":
        out = np.exp(out - out.max(axis=1, keepdims=True))
    probabilities = out / out.sum(axis=1, keepdims=True)
    for path, p in zip(paths, probabilities):
        k = int(p.argmax())
        yield path, config["class_names"][k], float(p[k])
