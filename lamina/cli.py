"""The ``lamina`` command: train, eval, predict, lab, presets, models and data (also run as
``python -m lamina``).

Mistakes a user can make (an unknown name, a missing or malformed file, a bad value, an
output directory that cannot be written, a full disk) end with one line on stderr,
``lamina: error: ...``, and exit status 2, never a traceback; what lamina warns about (an
option it ignores) is one line ``lamina: warning: ...``. Only lamina's own errors
(:mod:`lamina.errors`) and the operating system's errors about the user's files are caught:
any other exception is a bug in lamina and shows its traceback.
"""
from __future__ import annotations

import argparse
import errno
import math
import os
import sys
import warnings

__all__ = ["main"]


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
    from .backend import check_device
    from .errors import LaminaValueError

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


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lamina", description="Train and inspect neural networks with lamina.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    from .train.presets import DATASET_DEFAULTS, DEFAULTS, GENERIC_DEFAULTS, MOMENTUM_DEFAULTS

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


def _check_out(flag: str, path: str | None) -> None:
    if path is not None and os.path.exists(path) and not os.path.isdir(path):
        raise FileExistsError(f"{flag} {path} is a file; expected a directory (a new one, or a "
                              "previous run's)")


_DISK_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EROFS, errno.EDQUOT}


def _train(args) -> int:
    from .distributed import DataParallelTraining
    from .train.runner import run

    _check_out("--out", args.out)
    overrides = {k: v for k, v in vars(args).items() if k not in ("command", "resume")}
    try:
        # Under `mpiexec -n N` (or srun) every process trains its share of one model; in a
        # single process this is None and mpi4py is never imported.
        run(overrides, resume=args.resume, parallel=DataParallelTraining.from_environment())
    except OSError as exc:
        # a write that failed for lack of space or a size limit names no file: name the run
        where = args.out or args.resume
        if exc.errno in _DISK_ERRNOS and exc.filename is None and where is not None:
            raise OSError(exc.errno, exc.strerror, where) from exc
        raise
    return 0


def _end_job(code: int) -> int:
    """Return ``code``; when this is one rank of a data-parallel job, end every rank with it
    first (the others may be waiting for this one in a collective)."""
    from .distributed.mpi import abort_job

    abort_job(code)
    return code


def _presets(args) -> int:
    from .train.presets import PRESETS

    for name, preset in PRESETS.items():
        print(f"{name:18s} {preset['source']}")
    return 0


_SPEC_GRAMMAR = """\
A model spec names the network of `lamina train --model SPEC` (case-insensitive):

  mlp:<d_0>,<d_1>,...,<d_L>[:<activation>[:<init>]]
      fully connected layers of sizes d_0 -> d_1 -> ... -> d_L: d_0 is the number of
      inputs (a 28x28 image flattened: 784; the 8x8 digits: 64), d_L the number of classes
      activation of the hidden units (default sigmoid):
          {activations}
      init of the weights (default: PyTorch's; normal: N(0, 1), as Nielsen's network.py):
          {inits}
      e.g. mlp:784,30,10:sigmoid:normal  = 784 inputs, 30 sigmoid hidden units, 10 outputs,
      weights and biases drawn from N(0, 1)
  autoencoder[:<d_0>,...,<d_k>[:<activation>]]       (--task autoencode)
      encoder d_0 -> ... -> d_k (the code), decoder mirrored; plain `autoencoder` is sized
      to the data
  conv-autoencoder[:<c_1>,...,<c_k>[:<activation>]]  (--task autoencode)
      stride-2 convolutions with c_1..c_k channels, and back
  lenet5 | tf-cnn | alexnet | vgg11 | vgg13 | vgg16 | vgg19 | resnet<6n+2> | googlenet
      the convolutional networks below; they take their input channels and classes from
      the data
"""


def _models(args) -> int:
    import textwrap

    from .models.mlp import ACTIVATIONS, INITS
    from .models.spec import MODEL_SPECS

    print(_SPEC_GRAMMAR.format(activations=", ".join(ACTIVATIONS), inits=", ".join(INITS)))
    width = max(len(spec) for spec, _, _ in MODEL_SPECS) + 2
    indent = " " * width
    print(f"{'EXAMPLE':{width}s}WHAT IT IS, AND WHERE IT IS FROM")
    for spec, description, source in MODEL_SPECS:
        print(textwrap.fill(description, 96, initial_indent=f"{spec:{width}s}",
                            subsequent_indent=indent))
        print(textwrap.fill(f"from {source}", 96, initial_indent=indent + "  ",
                            subsequent_indent=indent + "  "))
    return 0


def _data(args) -> int:
    from .train.assembly import STANDARD_DATASETS, standard_dataset

    if args.data_command == "fetch" and args.name == "digits":
        print("digits: embedded in lamina; nothing to fetch (train with: lamina train)")
        return 0
    if args.data_command == "fetch":
        cls = standard_dataset(args.name)  # an unknown name: one line listing the known ones
        _check_out("--dir", args.dir)
        downloaded = cls.fetch(args.dir, report=lambda line: print(line, flush=True))
        where = f" --data-dir {args.dir}" if args.dir is not None else ""
        if downloaded:
            print(f"{args.name}: downloaded {len(downloaded)} file(s) into "
                  f"{downloaded[0].parent}, checksums verified; train with: lamina train "
                  f"--dataset {args.name}{where}")
        else:
            print(f"{args.name}: every file is already there ({_found_in(cls, args.dir)}); "
                  f"nothing to download; train with: lamina train --dataset {args.name}{where}")
        return 0
    if args.data_command != "list":
        print("usage: lamina data fetch NAME [--dir DIR] | lamina data list", file=sys.stderr)
        return 2
    print(f"{'digits':15s}embedded in lamina (1797 images, 8x8); nothing to fetch")
    for name in STANDARD_DATASETS:
        cls = standard_dataset(name)
        if cls.missing_files():
            state = (f"not on this machine: lamina data fetch {name}, or lamina train "
                     f"--dataset {name} --download")
        else:
            state = _found_in(cls, None)
        print(f"{name:15s}{state}")
    print(f"{'idx:DIR':15s}any image set in MNIST's IDX format in DIR (EMNIST, Kuzushiji-MNIST, "
          "your own)")
    print(f"{'folder:DIR':15s}images in DIR/<class>/..., or DIR/train/<class>/... and "
          "DIR/test/<class>/...")
    return 0


def _found_in(cls, root) -> str:
    """Where the files of ``cls`` are, e.g. 'in /usr/share/datasets/fashion-mnist'."""
    dirs = [str(d) for d in cls.locations(root)
            if d.is_dir() and any(not p.name.endswith(".part") for p in d.iterdir())]
    return "in " + ", ".join(dirs) if dirs else "found"


def _eval(args) -> int:
    from .train.inference import evaluate_run

    result = evaluate_run(args.run_dir, dataset=args.dataset, data_dir=args.data_dir)
    if result["task"] == "autoencode":
        print(f"test reconstruction loss ({result['loss_name']}) {result['loss']:.4f}  "
              f"({result['count']} images)")
        return 0
    print(f"test loss {result['loss']:.4f}  test accuracy {result['accuracy']:.4f}  "
          f"({result['count']} images)")
    return 0


def _predict(args) -> int:
    from .train.inference import predict_files, prediction_lines

    notes: list[str] = []  # how an image was fitted to the model's input (channels, size)
    predictions = predict_files(args.run_dir, args.images, notes,
                                preprocess=not args.no_preprocess)
    print("\n".join(prediction_lines(predictions, notes)))
    return 0


def _lab(args) -> int:
    from .labs import LABS, run_lab

    if args.list or args.name is None:
        for name, (_module, description) in LABS.items():
            print(f"{name:26s} {description}")
        return 0 if args.list else 2
    _check_out("--out", args.out)
    print(run_lab(args.name, quick=args.quick, out=args.out))
    return 0


# The operating system's errors about the user's files and disks; any other OSError (a
# broken pipe, a bad file descriptor) would be lamina's bug and keeps its traceback.
_FILE_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError,
                FileExistsError)
_HINTS = {errno.ENOSPC: "free some space or write elsewhere; files already written stay complete",
          errno.EDQUOT: "free some space or write elsewhere; files already written stay complete",
          errno.EFBIG: "a file-size limit is set, see `ulimit -f`; files already written stay "
                       "complete",
          errno.EROFS: "write the run elsewhere with --out"}


def _is_users_error(exc: BaseException) -> bool:
    from .errors import LaminaError

    if isinstance(exc, (LaminaError, *_FILE_ERRORS)):
        return True
    return isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS


def _one_line(exc: BaseException) -> str:
    """The error as one line: an OSError from the system as 'FILE: reason (hint)', lamina's
    own message with any line breaks folded."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{os.fsdecode(exc.filename)}: " if exc.filename is not None else ""
        hint = f" ({_HINTS[exc.errno]})" if exc.errno in _HINTS else ""
        text = f"{where}{exc.strerror}{hint}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _show_warning(original):
    """A showwarning that prints lamina's own UserWarnings (what it ignores or changes) as
    one line; other warnings keep Python's format."""
    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, UserWarning) and os.path.abspath(filename).startswith(_PACKAGE):
            print(f"lamina: warning: {_one_line(Warning(str(message)))}", file=sys.stderr)
        else:
            original(message, category, filename, lineno, file, line)

    return show


def main(argv: list[str] | None = None) -> int:
    from .errors import LaminaError

    parser = _parser()
    args = parser.parse_args(argv)
    handlers = {"train": _train, "eval": _eval, "predict": _predict, "presets": _presets, "lab": _lab,
                "models": _models, "data": _data}
    if args.command is None:
        parser.print_help()
        return 2
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning(warnings.showwarning)
            return handlers[args.command](args)
    except KeyboardInterrupt:
        print("lamina: interrupted", file=sys.stderr)
        return _end_job(130)
    except (LaminaError, OSError) as exc:
        if not _is_users_error(exc):
            raise  # a bug in lamina: its traceback is what a report needs
        print(f"lamina: error: {_one_line(exc)}", file=sys.stderr)
        return _end_job(2)


if __name__ == "__main__":
    sys.exit(main())
