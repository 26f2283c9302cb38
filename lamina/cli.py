"""The ``lamina`` command: train, eval, predict, presets, models (and lab, bench when present).

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

    train = sub.add_parser("train", help="train a model (with no arguments: an MLP on the embedded digits)")
    train.add_argument("--preset", help="a recipe from the lectures (see `lamina presets`)")
    train.add_argument("--task", choices=("classify", "autoencode"),
                       help="classify: predict the labels (default); autoencode: reconstruct the "
                            "input through a narrow code (default model: a dense autoencoder "
                            "sized to the data, loss mse, Adam; writes reconstructions.png)")
    train.add_argument("--model", help="model spec, e.g. mlp:784,30,10, lenet5 or (with --task "
                                       "autoencode) autoencoder:784,128,32 (see `lamina models`)")
    train.add_argument("--dataset", help="digits | mnist | fashion-mnist | cifar10")
    train.add_argument("--data-dir", dest="data_dir", help="directory holding the data set's files")
    train.add_argument("--epochs", type=_positive_int)
    train.add_argument("--batch-size", dest="batch_size", type=_positive_int)
    train.add_argument("--lr", type=_number(0.0, low_included=False))
    train.add_argument("--optimizer", help="sgd | momentum | nesterov | adam | adamw | adagrad | rmsprop")
    train.add_argument("--loss", help="cross-entropy | quadratic | mse (classify); mse | bce | "
                                      "quadratic (autoencode)")
    train.add_argument("--weight-decay", dest="weight_decay", type=_number(0.0))
    train.add_argument("--dropout", type=_number(0.0, 1.0))
    train.add_argument("--augment", action="store_const", const=True, default=None)
    train.add_argument("--train-size", dest="train_size", type=_positive_int)
    train.add_argument("--val-size", dest="val_size", type=_positive_int)
    train.add_argument("--seed", type=_seed, help="any integer torch.manual_seed accepts "
                       "(a negative seed s is s mod 2**64, as in torch)")
    train.add_argument("--out", help="output directory (default runs/<timestamp>-<model>-<dataset>)")
    train.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its last checkpoint")
    train.add_argument("--quiet", action="store_const", const=True, default=None)
    train.add_argument("--compile", action="store_const", const=True, default=None,
                       help="replay each training step with lamina.compile once it is verified "
                            "against the eager step (bitwise the same results; default: eager)")

    ev = sub.add_parser("eval", help="evaluate a trained run on its test set (an autoencoder: "
                                     "its reconstruction loss)")
    ev.add_argument("run_dir")
    ev.add_argument("--dataset")
    ev.add_argument("--data-dir", dest="data_dir")

    pr = sub.add_parser("predict", help="classify images (.png or .npy) with a trained run")
    pr.add_argument("run_dir")
    pr.add_argument("images", nargs="+")

    lab = sub.add_parser("lab", help="run one of the lectures' experiments (see `lamina lab --list`)")
    lab.add_argument("name", nargs="?")
    lab.add_argument("--quick", action="store_true", help="a smaller version that finishes in under a minute")
    lab.add_argument("--out", help="directory for the lab's pictures (default lab-NAME)")
    lab.add_argument("--list", action="store_true", help="list the labs")

    sub.add_parser("presets", help="list the training presets and their lecture sources")
    sub.add_parser("models", help="list the model specs")
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


def _models(args) -> int:
    from .models.spec import MODEL_SPECS

    for spec, description, source in MODEL_SPECS:
        print(f"{spec:24s} {description}  [{source}]")
    return 0


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
    from .train.inference import predict_files

    notes: list[str] = []
    predictions = list(predict_files(args.run_dir, args.images, notes))
    for note in notes:  # how an image was fitted to the model's input (channels, size)
        print(f"note: {note}")
    for path, label, probability in predictions:
        print(f"{path}: class {label} (probability {probability:.3f})")
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
                "models": _models}
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
