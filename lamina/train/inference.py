"""Use a finished run: evaluate it on its test set (an autoencoder run: its reconstruction
loss), or classify image files with it (``lamina predict``)."""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import tensor
from ..data.image_files import describe_bytes, read_npy, read_png
from ..data.preprocess import preprocess as prepare, resize, style_for
from ..errors import LaminaValueError
from .assembly import make_data, make_loss
from .fit import evaluate
from .run_files import CONFIG, WEIGHTS, build_model_of, load_weights, read_config

__all__ = ["load_run", "evaluate_run", "predict_files", "load_image", "image_paths",
           "Prediction", "prediction_lines"]

IMAGE_SUFFIXES = (".png", ".npy")


def load_run(run_dir: str, command: str = "eval"):
    """The configuration and the trained model (in eval mode) of a run directory; its
    config.json and weights are checked first (see :mod:`lamina.train.run_files`), and
    ``command`` names the command in the message when the directory is not a run."""
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


def _read(path: str) -> np.ndarray:
    if os.path.isdir(path):
        raise IsADirectoryError(f"image {path} is a directory, expected a .png or .npy file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"image {path} not found")
    kind = os.path.splitext(path)[1].lower()
    if kind not in IMAGE_SUFFIXES:
        with open(path, "rb") as f:
            head = f.read(16)
        raise LaminaValueError(f"{path}: {describe_bytes(head)}; lamina predict reads .png and "
                               ".npy files (convert it, or save its pixels with numpy.save)")
    return read_png(path) if kind == ".png" else read_npy(path)


def _fit_channels(image: np.ndarray, channels: int, in_shape: tuple, path: str,
                  notes: list) -> np.ndarray:
    if image.shape[0] == channels:
        return image
    if channels == 3 and image.shape[0] == 1:
        notes.append(f"{path}: a greyscale image; its grey values are repeated over the "
                     "model's 3 colour channels")
        return np.repeat(image, 3, axis=0)
    if channels == 1 and image.shape[0] == 3:
        if not _is_grey(image):
            notes.append(f"{path}: a colour image; converted to grey (the mean of red, "
                         "green and blue) for the model's 1 channel")
        return image.mean(axis=0, keepdims=True, dtype=np.float32)
    raise LaminaValueError(f"{path}: an image with {image.shape[0]} channels, the model "
                           f"expects {channels} (an input of shape {tuple(in_shape)})")


def load_image(path: str, in_shape: tuple, notes: list | None = None, preprocess: bool = True,
               dataset: str | None = None, done: list | None = None) -> np.ndarray:
    """A .npy array or a .png image as one float32 input of shape ``in_shape`` in [0, 1].

    The channels are fitted to the model, and each change is described in ``notes`` (when
    given): a greyscale image for a 3-channel model has its grey values repeated over the
    three channels; a colour image for a 1-channel model becomes grey (the mean of red,
    green and blue).

    With ``preprocess`` (the default), a single-channel picture for a model trained on
    ``dataset`` is prepared as that data set's images were (see
    :mod:`lamina.data.preprocess`: for MNIST-like 28x28 sets, light ink on black, cropped to
    the ink, scaled to a 20x20 box and centred by its centre of mass), and the sentence
    saying what was done is appended to ``done`` (when given). Otherwise, and for colour
    models, an image of another size is resampled to the model's (anti-aliased, with a note).
    A flat vector of the model's input size is used as it is.

    A file that is not what its name says, is truncated, or holds strings, NaN or infinite
    values raises :class:`~lamina.errors.FileFormatError`.
    """
    notes = [] if notes is None else notes
    image = _read(path)
    size = int(np.prod(in_shape))
    if image.ndim == 1 or len(in_shape) != 3:  # a flat vector, or a model of flat inputs
        if image.size != size:
            raise LaminaValueError(f"{path}: {image.size} values, the model expects {size} "
                                   f"(an input of shape {tuple(in_shape)})")
        return image.reshape(in_shape)
    channels, height, width = in_shape
    image = _fit_channels(_as_channels_first(image, path), channels, in_shape, path, notes)
    style = style_for(dataset, in_shape) if preprocess and dataset is not None else None
    if style is not None:
        prepared, how = prepare(image[0], style)
        if done is not None:
            done.append(how)
        return prepared[None]
    if image.shape[1:] != (height, width):
        notes.append(f"{path}: resized from {image.shape[2]}x{image.shape[1]} to {width}x{height} "
                     "pixels (anti-aliased)")
        image = resize(image, height, width)
    return np.ascontiguousarray(image, dtype=np.float32)


def image_paths(paths) -> list[str]:
    """The image files that ``paths`` name: a file stands for itself, a directory for its .png
    and .npy files (sorted by name; not its subdirectories)."""
    files = []
    for path in map(os.fspath, paths):
        if not os.path.isdir(path):
            files.append(path)
            continue
        found = sorted(os.path.join(path, name) for name in os.listdir(path)
                       if name.lower().endswith(IMAGE_SUFFIXES)
                       and os.path.isfile(os.path.join(path, name)))
        if not found:
            raise LaminaValueError(f"{path} is a directory with no .png or .npy files in it; "
                                   "expected image files or a directory of them")
        files.extend(found)
    return files


@dataclasses.dataclass
class Prediction:
    """The model's best classes for one image, best first, with their ``kind`` of value:
    'probability' (the softmax of a cross-entropy run's outputs) or 'score' (the sigmoid
    activation of an output unit, in (0, 1), for quadratic and mse runs: they rank the classes
    but need not sum to 1). ``preprocessing`` says how the picture was prepared (None: not)."""

    path: str
    classes: list
    values: list
    kind: str
    preprocessing: str | None = None

    def __str__(self) -> str:
        best = f"{self.path}: class {self.classes[0]} ({self.kind} {self.values[0]:.3f})"
        others = ", ".join(f"{c} ({v:.3f})" for c, v in zip(self.classes[1:], self.values[1:]))
        return f"{best}; next {others}" if others else best


def predict_files(run_dir: str, paths: list[str], notes: list | None = None, top: int = 3,
                  preprocess: bool = True) -> list[Prediction]:
    """The ``top`` classes of each image (files, or directories of them, see
    :func:`image_paths`) as :class:`Prediction` objects; how each image was fitted to the
    model's input (channels, size) is appended to ``notes`` when given, and with
    ``preprocess`` each single-channel picture is prepared as the run's training images were
    (see :func:`load_image`)."""
    config, model = load_run(run_dir, "predict")
    if config.get("task", "classify") == "autoencode":
        raise LaminaValueError(f"{run_dir} is an autoencoder run (task autoencode): it "
                               f"reconstructs images rather than classifying them; use "
                               f"`lamina eval {run_dir}` for its reconstruction loss")
    in_shape = tuple(config["in_shape"])
    files = image_paths(paths)
    hows: list = []
    batch = []
    for path in files:
        done: list = []
        batch.append(load_image(path, in_shape, notes, preprocess, config["dataset"], done))
        hows.append(done[0] if done else None)
    with no_grad():
        out = model(tensor(np.stack(batch))).numpy().astype(np.float64)
    broken = ~np.isfinite(out).all(axis=1)
    if broken.any():
        raise LaminaValueError(f"the model of {run_dir} gives non-finite outputs for "
                               f"{files[int(np.flatnonzero(broken)[0])]} (finite input): its "
                               "weights hold NaN or infinite values")
    if config["loss"] == "cross-entropy":
        out = np.exp(out - out.max(axis=1, keepdims=True))
        values, kind = out / out.sum(axis=1, keepdims=True), "probability"
    else:  # quadratic and mse runs end in sigmoid units (see assembly.make_model)
        values, kind = out, "score"
    names = config["class_names"]
    predictions = []
    for path, row, how in zip(files, values, hows):
        best = np.argsort(-row, kind="stable")[:top]
        predictions.append(Prediction(path, [names[k] for k in best],
                                      [float(row[k]) for k in best], kind, how))
    return predictions


def prediction_lines(predictions: list[Prediction], notes: list) -> list[str]:
    """What ``lamina predict`` prints: the notes on fitting the images, one line per image,
    then how each picture was prepared and what a score is."""
    lines = [f"note: {note}" for note in notes]
    lines += [str(p) for p in predictions]
    prepared = [p for p in predictions if p.preprocessing]
    lines += [f"note: {p.path}: {p.preprocessing}" for p in prepared]
    if prepared:
        lines.append("note: pass --no-preprocess to give the model the pixels as they are")
    if any(p.kind == "score" for p in predictions):
        lines.append("note: this run was trained with a quadratic cost on sigmoid outputs: a "
                     "score is the activation of the class's output unit (its target is 1), "
                     "not a probability")
    return lines
