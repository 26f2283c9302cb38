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

import errno
import os
import sys
import warnings

from .cli_parser import build_parser as _parser  # `_parser`: the name tests and docs use
from .distributed import DataParallelTraining
from .distributed.mpi import abort_job
from .errors import LaminaError
from .labs import LABS, run_lab
from .models.mlp import ACTIVATIONS, INITS
from .models.spec import MODEL_SPECS
from .train import runner
from .train.assembly import STANDARD_DATASETS, standard_dataset
from .train.inference import evaluate_run, predict_files, prediction_lines
from .train.presets import PRESETS

__all__ = ["main"]


def _check_out(flag: str, path: str | None) -> None:
    if path is not None and os.path.exists(path) and not os.path.isdir(path):
        raise FileExistsError(f"{flag} {path} is a file; expected a directory (a new one, or a "
                              "previous run's)")


_DISK_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EROFS, errno.EDQUOT}


def _train(args) -> int:
    _check_out("--out", args.out)
    overrides = {k: v for k, v in vars(args).items() if k not in ("command", "resume")}
    try:
        # Under `mpiexec -n N` (or srun) every process trains its share of one model; in a
        # single process this is None and mpi4py is never imported.
        runner.run(overrides, resume=args.resume, parallel=DataParallelTraining.from_environment())
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
    abort_job(code)
    return code


def _presets(args) -> int:
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
    result = evaluate_run(args.run_dir, dataset=args.dataset, data_dir=args.data_dir)
    if result["task"] == "autoencode":
        print(f"test reconstruction loss ({result['loss_name']}) {result['loss']:.4f}  "
              f"({result['count']} images)")
        return 0
    print(f"test loss {result['loss']:.4f}  test accuracy {result['accuracy']:.4f}  "
          f"({result['count']} images)")
    return 0


def _predict(args) -> int:
    notes: list[str] = []  # how an image was fitted to the model's input (channels, size)
    predictions = predict_files(args.run_dir, args.images, notes,
                                preprocess=not args.no_preprocess)
    print("\n".join(prediction_lines(predictions, notes)))
    return 0


def _lab(args) -> int:
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
