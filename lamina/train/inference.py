"""Use a finished run: evaluate it on its test set (an autoencoder run: its reconstruction
loss), or classify image files with it."""
from __future__ import annotations

import os

import numpy as np

from ..errors import LaminaValueError

__all__ = ["load_run", "evaluate_run", "predict_files", "load_image"]


def load_run(run_dir: str, command: str = "eval"):
    """The configuration and the trained model (in eval mode) of a run directory; its
    config.json and weights are checked first (see :mod:`lamina.train.run_files`), and
    ``command`` names the command in the message when the directory is not a run."""
    from .run_files import CONFIG, WEIGHTS, build_model_of, load_weights, read_config

    config = read_config(run_dir, command, check_model=False)
    config_path, weights = os.path.join(run_dir, CONFIG), os.path.join(run_dir, WEIGHTS)
    if not os.path.isfile(weights):
        raise FileNotFoundError(f"{weights} not found: {run_dir} is not a finished lamina run")
    model = build_model_of(config, config_path)
    load_weights(weights, model, config, config_path)
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


def _as_channels_first(image: np.ndarray, path: str) -> np.ndarray:
    """A decoded image (H, W), (H, W, k), (k, H, W), or with leading axes of length 1, as
    (C, H, W) with C = 1 or 3 (an alpha channel dropped)."""
    while image.ndim > 3 and image.shape[0] == 1:
        image = image[0]
    if image.ndim == 2:
        return image[None]
    if image.ndim == 3 and image.shape[0] in (1, 3):
        return image
    if image.ndim == 3 and image.shape[2] in (1, 3, 4):
        return image[..., :3].transpose(2, 0, 1)
    raise LaminaValueError(f"{path}: an array of shape {image.shape}; expected one image of shape "
                           "(H, W), (C, H, W) or (H, W, C) with 1 or 3 channels")


def _is_grey(image: np.ndarray) -> bool:
    return image.shape[0] == 1 or bool((image[0] == image[1]).all()
                                       and (image[1] == image[2]).all())


def load_image(path: str, in_shape: tuple, notes: list | None = None) -> np.ndarray:
    """A .npy array or a .png image as one float32 input of shape ``in_shape`` in [0, 1].

    The image is fitted to the model as a user expects, and each change is described in
    ``notes`` (when given): a greyscale image for a 3-channel model has its grey values
    repeated over the three channels; a colour image for a 1-channel model becomes grey (the
    mean of red, green and blue); other sizes are resized by nearest neighbour; and for a
    1-channel model a PNG of dark strokes on a light background is inverted to MNIST's
    light-on-dark convention. A file that is not what its name says, is truncated, or holds
    strings, NaN or infinite values raises :class:`~lamina.errors.FileFormatError`.
    """
    from ..data.image_files import describe_bytes, read_npy, read_png

    notes = [] if notes is None else notes
    if os.path.isdir(path):
        raise IsADirectoryError(f"image {path} is a directory, expected a .png or .npy file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"image {path} not found")
    kind = os.path.splitext(path)[1].lower()
    if kind not in (".png", ".npy"):
        with open(path, "rb") as f:
            head = f.read(16)
        raise LaminaValueError(f"{path}: {describe_bytes(head)}; lamina predict reads .png and "
                               ".npy files (convert it, or save its pixels with numpy.save)")
    image = read_png(path) if kind == ".png" else read_npy(path)
    size = int(np.prod(in_shape))
    if image.ndim == 1 or len(in_shape) != 3:  # a flat vector, or a model of flat inputs
        if image.size != size:
            raise LaminaValueError(f"{path}: {image.size} values, the model expects {size} "
                                   f"(an input of shape {tuple(in_shape)})")
        return image.reshape(in_shape)
    image = _as_channels_first(image, path)
    channels, height, width = in_shape
    if image.shape[0] != channels:
        if channels == 3 and image.shape[0] == 1:
            image = np.repeat(image, 3, axis=0)
            notes.append(f"{path}: a greyscale image; its grey values are repeated over the "
                         "model's 3 colour channels")
        elif channels == 1 and image.shape[0] == 3:
            if not _is_grey(image):
                notes.append(f"{path}: a colour image; converted to grey (the mean of red, "
                             "green and blue) for the model's 1 channel")
            image = image.mean(axis=0, keepdims=True, dtype=np.float32)
        else:
            raise LaminaValueError(f"{path}: an image with {image.shape[0]} channels, the model "
                                   f"expects {channels} (an input of shape {tuple(in_shape)})")
    if channels == 1 and kind == ".png" and image.mean() > 0.5:
        image = 1.0 - image
        notes.append(f"{path}: dark on a light background; inverted to the light-on-dark "
                     "convention of the training digits")
    if image.shape[1:] != (height, width):
        notes.append(f"{path}: resized from {image.shape[2]}x{image.shape[1]} to {width}x{height} "
                     "pixels (nearest neighbour)")
        rows = (np.arange(height) * image.shape[1] / height).astype(int)
        cols = (np.arange(width) * image.shape[2] / width).astype(int)
        image = image[:, rows][:, :, cols]
    return np.ascontiguousarray(image, dtype=np.float32)


def predict_files(run_dir: str, paths: list[str], notes: list | None = None):
    """Yield (path, class name, probability) for each image file; how each image was fitted
    to the model's input (see :func:`load_image`) is appended to ``notes`` when given."""
    import lamina as lm

    config, model = load_run(run_dir, "predict")
    if config.get("task", "classify") == "autoencode":
        raise LaminaValueError(f"{run_dir} is an autoencoder run (task autoencode): it "
                               f"reconstructs images rather than classifying them; use "
                               f"`lamina eval {run_dir}` for its reconstruction loss")
    in_shape = tuple(config["in_shape"])
    batch = np.stack([load_image(p, in_shape, notes) for p in paths])
    with lm.no_grad():
        out = model(lm.tensor(batch)).numpy().astype(np.float64)
    broken = ~np.isfinite(out).all(axis=1)
    if broken.any():
        raise LaminaValueError(f"the model of {run_dir} gives non-finite outputs for "
                               f"{paths[int(np.flatnonzero(broken)[0])]} (finite input): its "
                               "weights hold NaN or infinite values")
    if config["loss"] == "cross-entropy":
        out = np.exp(out - out.max(axis=1, keepdims=True))
    probabilities = out / out.sum(axis=1, keepdims=True)
    for path, p in zip(paths, probabilities):
        k = int(p.argmax())
        yield path, config["class_names"][k], float(p[k])
