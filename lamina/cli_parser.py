"""The grammar of the ``lamina`` command: its subcommands, their options and help texts,
and the argparse types that check each value as it is read (a positive integer, a seed in
the range ``torch.manual_seed`` accepts, a finite number in an interval, a device present
here), so that a bad value ends in one ``lamina: error: ...`` line with status 2.

The defaults a help text shows are read from :mod:`lamina.train.presets`, so that the help
says what a run would do. :mod:`lamina.cli` runs what the parsed arguments ask for.
"""
from __future__ import annotations

import argparse
import math

from .backend import check_device
from .errors import LaminaValueError
from .train.presets import DATASET_DEFAULTS, DEFAULTS, GENERIC_DEFAULTS, MOMENTUM_DEFAULTS

__all__ = ["build_parser"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2 (argparse's default prints the usage too)
        self.exit(2, f"lamina: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _device(text: str) -> str:
    """A device lamina can compute on here ('cpu', 'cuda', 'cuda:N'), checked now so that a
    missing GPU is one line, not a traceback."""
    try:
        return str(check_device(text))
    except LaminaValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seed(text: str) -> int:
    """An integer seed in the range lm.manual_seed (and torch.manual_seed) accepts; a
    negative seed s seeds with s mod 2**64, as torch does."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not -2**63 <= value <= 2**64 - 1:
        raise argparse.ArgumentTypeError(f"expected an integer in [-2**63, 2**64 - 1], got {value}")
    return value


def _number(low: float, high: float | None = None, low_included: bool = True):
    """An argparse type: a finite float in [low, high) (or (low, high) without low)."""
    if high is not None:
        wanted = f"a number in {'[' if low_included else '('}{low:g}, {high:g})"
    else:
        wanted = "a positive finite number" if not low_included else f"a finite number >= {low:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
        inside = (value >= low if low_included else value > low) and (high is None or value < high)
        if not math.isfinite(value) or not inside:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The ``lamina`` command's parser, with every subcommand and option."""
    parser = _Parser(prog="lamina", description="Train and inspect neural networks with lamina.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    def per_dataset(key: str) -> str:  # "30 for digits; 10 for mnist, fashion-mnist, ..."
        groups: dict = {}
        every = {**DATASET_DEFAULTS, "idx: and folder: data": GENERIC_DEFAULTS}
        for name, values in every.items():
            if key in values:
                groups.setdefault(values[key], []).append(name)
        return "; ".join(f"{value:g} for {', '.join(names)}" if isinstance(value, float)
                         else f"{value} for {', '.join(names)}" for value, names in groups.items())

    train = sub.add_parser(
        "train", help="train a model (with no arguments: an MLP on the embedded digits)",
        description="Train a model and write config.json, metrics.jsonl, model.safetensors,\n"
                    "checkpoint.safetensors and the plots to --out. A flag left out takes the\n"
                    "preset's value (with --preset), else the default shown.",
        epilog="examples:\n  lamina train\n  lamina train --dataset fashion-mnist --download\n"
               "  lamina train --preset nielsen-30 --epochs 5\n"
               "  lamina train --dataset idx:data/kmnist --model mlp:784,30,10:sigmoid\n"
               "  lamina train --resume runs/RUN --epochs 40",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("--preset", metavar="NAME",
                       help="a recipe from the lectures (see `lamina presets`); the flags you give "
                            "override its values (default: none)")
    train.add_argument("--task", choices=("classify", "autoencode"),
                       help="classify: predict the labels; autoencode: reconstruct the input "
                            "through a narrow code (then the defaults are a dense autoencoder "
                            "sized to the data, loss mse, Adam at lr 3e-3, and the run writes "
                            "reconstructions.png) (default: classify)")
    train.add_argument("--model", metavar="SPEC",
                       help="model spec, e.g. mlp:784,30,10:sigmoid:normal, lenet5 or (with --task "
                            "autoencode) autoencoder:784,128,32; `lamina models` explains them "
                            f"(default: one that fits the data: {per_dataset('model')}; "
                            "mlp:<inputs>,100,<classes>:relu for idx: and folder: data)")
    train.add_argument("--dataset", metavar="NAME",
                       help="digits (8x8, embedded in lamina) | mnist | fashion-mnist | cifar10 | "
                            "idx:DIR (any image set in MNIST's IDX format: EMNIST, Kuzushiji-"
                            "MNIST, your own) | folder:DIR (images in one subfolder per class, "
                            "as torchvision's ImageFolder; DIR/train and DIR/test if present) "
                            f"(default: {DEFAULTS['dataset']})")
    train.add_argument("--data-dir", dest="data_dir", metavar="DIR",
                       help="directory holding the files of mnist, fashion-mnist or cifar10 "
                            "(default: the cache $LAMINA_DATA/NAME, i.e. ~/.cache/lamina/NAME, "
                            "then system copies such as /usr/share/datasets/fashion-mnist)")
    train.add_argument("--download", action="store_const", const=True, default=None,
                       help="download the missing files of mnist, fashion-mnist or cifar10 into "
                            "--data-dir or the cache, checksum-verified; an interrupted download "
                            "resumes (default: off; see also `lamina data fetch NAME`)")
    train.add_argument("--epochs", type=_positive_int, metavar="N",
                       help=f"passes over the training set (default: {per_dataset('epochs')})")
    train.add_argument("--batch-size", dest="batch_size", type=_positive_int, metavar="N",
                       help=f"images per minibatch, per optimiser step (default: "
                            f"{DEFAULTS['batch_size']})")
    train.add_argument("--lr", type=_number(0.0, low_included=False),
                       help=f"learning rate (default: {per_dataset('lr')}; 3e-3 with --task "
                            "autoencode)")
    train.add_argument("--optimizer", metavar="NAME",
                       help="sgd | momentum (SGD with momentum) | nesterov | adam | adamw | "
                            f"adagrad | rmsprop (default: {DEFAULTS['optimizer']}; adam with "
                            "--task autoencode)")
    with_momentum = [name for name, value in MOMENTUM_DEFAULTS.items() if value is not None]
    train.add_argument("--momentum", type=_number(0.0, 1.0), metavar="MU",
                       help=f"momentum in [0, 1) for {', '.join(with_momentum)} (default: "
                            + ", ".join(f"{v:g} for {k}" for k, v in MOMENTUM_DEFAULTS.items()
                                        if v is not None) + ")")
    train.add_argument("--loss", metavar="NAME",
                       help="cross-entropy | quadratic | mse (classify); mse | bce | quadratic "
                            f"(autoencode) (default: {DEFAULTS['loss']}; mse with --task "
                            "autoencode)")
    train.add_argument("--weight-decay", dest="weight_decay", type=_number(0.0), metavar="L2",
                       help="L2 penalty: adds L2 * w to each weight's gradient "
                            f"(default: {DEFAULTS['weight_decay']:g})")
    train.add_argument("--dropout", type=_number(0.0, 1.0), metavar="P",
                       help="dropout probability in [0, 1) after each hidden layer of an mlp and "
                            "in the classifiers of tf-cnn and alexnet (default: 0, none)")
    train.add_argument("--augment", action="store_const", const=True, default=None,
                       help="train on randomly shifted and rotated copies of the images (and "
                            "flipped ones for cifar10) (default: off)")
    train.add_argument("--train-size", dest="train_size", type=_positive_int, metavar="N",
                       help="train on the first N training images only; the rest are held out "
                            "and not trained on (default: all)")
    train.add_argument("--val-size", dest="val_size", type=_positive_int, metavar="N",
                       help="evaluate on the first N test images only (default: all)")
    train.add_argument("--seed", type=_seed,
                       help="any integer torch.manual_seed accepts (a negative seed s is s mod "
                            f"2**64, as in torch) (default: {DEFAULTS['seed']})")
    train.add_argument("--out", metavar="DIR",
                       help="output directory (default: runs/<timestamp>-<model>-<dataset>)")
    train.add_argument("--resume", metavar="DIR",
                       help="continue the run in DIR from its last checkpoint; only --epochs, "
                            "--quiet, --compile, --download and --device may change (default: a new run)")
    train.add_argument("--quiet", action="store_const", const=True, default=None,
                       help="print only the final result and notes about the data (default: "
                            "one line per epoch and a progress bar)")
    train.add_argument("--compile", action="store_const", const=True, default=None,
                       help="replay each training step with lamina.compile once it is verified "
                            "against the eager step (bitwise the same results) (default: off, "
                            "eager)")
    train.add_argument("--device", type=_device, metavar="DEVICE",
                       help="where to compute: cpu, cuda or cuda:N (default: cuda when "
                            "lamina.cuda.is_available(), else cpu; may change on --resume)")
    train.add_argument("--tensorboard", nargs="?", const=True, default=None, metavar="DIR",
                       help="also write TensorBoard event files to DIR: each epoch's losses, "
                            "accuracies and learning rate, and histograms of the weights "
                            "(default: off; DIR defaults to OUT/tensorboard; needs "
                            "pip install 'lamina[tensorboard]')")

    ev = sub.add_parser("eval", help="evaluate a trained run on its test set (an autoencoder: "
                                     "its reconstruction loss)")
    ev.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (lamina train --out)")
    ev.add_argument("--dataset", metavar="NAME",
                    help="evaluate on another data set's test split, with the same input shape "
                         "(default: the run's)")
    ev.add_argument("--data-dir", dest="data_dir", metavar="DIR",
                    help="directory holding the data set's files (default: the run's)")

    pr = sub.add_parser("predict", help="classify images (.png or .npy) with a trained run")
    pr.add_argument("run_dir", help="the run directory (its config.json and model.safetensors)")
    pr.add_argument("images", nargs="+", metavar="IMAGE",
                    help=".png or .npy files, or directories of them")
    pr.add_argument("--no-preprocess", dest="no_preprocess", action="store_true",
                    help="give the model the pixels as they are (default: prepare each "
                         "single-channel picture as the run's training images were made: "
                         "light ink on black, cropped, scaled and centred)")

    lab = sub.add_parser("lab", help="run one of the lectures' experiments (see `lamina lab --list`)")
    lab.add_argument("name", nargs="?", metavar="NAME", help="the lab to run (see --list)")
    lab.add_argument("--quick", action="store_true", help="a smaller version that finishes in under a minute")
    lab.add_argument("--out", help="directory for the lab's pictures (default lab-NAME)")
    lab.add_argument("--list", action="store_true", help="list the labs")

    sub.add_parser("presets", help="list the training presets and their lecture sources")
    sub.add_parser("models", help="explain the model specs of --model and list examples")

    data = sub.add_parser("data", help="download a data set, or list where each one is")
    data_sub = data.add_subparsers(dest="data_command", parser_class=_Parser)
    fetch = data_sub.add_parser("fetch", help="download mnist, fashion-mnist or cifar10 "
                                              "(checksum-verified, resumable)")
    fetch.add_argument("name", metavar="NAME", help="mnist | fashion-mnist | cifar10")
    fetch.add_argument("--dir", metavar="DIR",
                       help="directory to put the files in; then train with --data-dir DIR "
                            "(default: the cache $LAMINA_DATA/NAME, i.e. ~/.cache/lamina/NAME)")
    data_sub.add_parser("list", help="the data sets and where their files are")
    return parser
