"""The ``lamina`` command: train, eval, predict, presets, models (and lab, bench when present).

Mistakes a user can make (an unknown name, a missing file, a bad value) end with a one-line
message on stderr and exit status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import sys

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
    train.add_argument("--lr", type=float)
    train.add_argument("--optimizer", help="sgd | momentum | nesterov | adam | adamw | adagrad | rmsprop")
    train.add_argument("--loss", help="cross-entropy | quadratic | mse (classify); mse | bce | "
                                      "quadratic (autoencode)")
    train.add_argument("--weight-decay", dest="weight_decay", type=float)
    train.add_argument("--dropout", type=float)
    train.add_argument("--augment", action="store_const", const=True, default=None)
    train.add_argument("--train-size", dest="train_size", type=_positive_int)
    train.add_argument("--val-size", dest="val_size", type=_positive_int)
    train.add_argument("--seed", type=int)
    train.add_argument("--out", help="output directory (default runs/<timestamp>-<model>-<dataset>)")
    train.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its last checkpoint")
    train.add_argument("--quiet", action="store_const", const=True, default=None)

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


def _train(args) -> int:
    from .distributed import DataParallelTraining
    from .train.runner import run

    overrides = {k: v for k, v in vars(args).items() if k not in ("command", "resume")}
    # Under `mpiexec -n N` (or srun) every process trains its share of one model; in a single
    # process this is None and mpi4py is never imported.
    run(overrides, resume=args.resume, parallel=DataParallelTraining.from_environment())
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

    for path, label, probability in predict_files(args.run_dir, args.images):
        print(f"{path}: class {label} (probability {probability:.3f})")
    return 0


def _lab(args) -> int:
    from .labs import LABS, run_lab

    if args.list or args.name is None:
        for name, (_module, description) in LABS.items():
            print(f"{name:26s} {description}")
        return 0 if args.list else 2
    print(run_lab(args.name, quick=args.quick, out=args.out))
    return 0


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
        return handlers[args.command](args)
    except (LaminaError, FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        print(f"lamina: error: {exc}", file=sys.stderr)
        return _end_job(2)
    except KeyboardInterrupt:
        print("lamina: interrupted", file=sys.stderr)
        return _end_job(130)


if __name__ == "__main__":
    sys.exit(main())
