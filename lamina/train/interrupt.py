"""Stopping a run cleanly when a scheduler asks: SIGTERM ends training at a safe point.

Slurm (at the end of a job's time or on ``scancel``), systemd, ``docker stop`` and Kubernetes
ask a process to end by sending SIGTERM, and kill it outright (SIGKILL) a grace period later.
While :func:`stop_on_signals` is active a SIGTERM only sets a :class:`StopRequest`; the
training loop (:func:`lamina.train.fit`, given the request) looks at it between two
optimiser steps, never inside one, and there lets its callbacks write a checkpoint of the
step reached (:class:`EpochProgress` says how far into the epoch it got) before raising
:class:`TrainingStopped`. A second SIGTERM ends the run at once (the files on disk stay
whole: every one is written atomically): by raising :class:`TrainingTerminated`, or, for one
rank of a data-parallel job (whose other ranks may be waiting for it inside a collective),
by the signal's default action, so that the launcher ends the whole job as it would have
without the handler.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
from dataclasses import asdict, dataclass

__all__ = ["StopRequest", "EpochProgress", "TrainingStopped", "TrainingTerminated",
           "stop_on_signals", "signal_name"]


def signal_name(signum: int) -> str:
    """``'SIGTERM'`` for 15, and so on."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class StopRequest:
    """Set (by a signal handler, or by hand) to ask training to stop at the next safe point.

    ``signum`` is the signal that asked, or None while nobody has."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def set(self, signum: int = signal.SIGTERM) -> None:
        if self.signum is None:
            self.signum = int(signum)

    def __bool__(self) -> bool:
        return self.signum is not None


@dataclass
class EpochProgress:
    """How far training got into ``epoch``: ``steps`` optimiser steps done, the running sums
    of the epoch's training loss and accuracy (weighted by batch size) over them, and the
    seconds spent. ``steps == 0``: the epoch had not started."""

    epoch: int
    steps: int = 0
    loss_total: float = 0.0
    loss_count: int = 0
    accuracy_total: float = 0.0
    accuracy_count: int = 0
    seconds: float = 0.0

    def state_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict) -> "EpochProgress":
        return cls(epoch=int(state["epoch"]), steps=int(state["steps"]),
                   loss_total=float(state["loss_total"]), loss_count=int(state["loss_count"]),
                   accuracy_total=float(state["accuracy_total"]),
                   accuracy_count=int(state["accuracy_count"]), seconds=float(state["seconds"]))

    def where(self) -> str:
        """``'after epoch 2'`` or ``'at epoch 3, step 117'``."""
        if self.steps == 0:
            return f"after epoch {self.epoch - 1}" if self.epoch > 1 else "before the first step"
        return f"at epoch {self.epoch}, step {self.steps}"


class TrainingStopped(Exception):
    """Training stopped at a safe point because ``signum`` asked it to; ``progress`` is the
    :class:`EpochProgress` reached (the callbacks have seen it)."""

    def __init__(self, signum: int, progress: EpochProgress) -> None:
        super().__init__(f"training stopped by {signal_name(signum)} {progress.where()}")
        self.signum = signum
        self.progress = progress


class TrainingTerminated(SystemExit):
    """Raised by ``lamina train`` (:func:`lamina.train.runner.run`) once a signal stopped
    training and the checkpoint is written: the process ends with status 128 + the signal's
    number (143 for SIGTERM), the status a shell reports for a process that signal ended."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + int(signum))
        self.signum = int(signum)


@contextlib.contextmanager
def stop_on_signals(signals: tuple[int, ...] = (signal.SIGTERM,), die_on_second: bool = False):
    """While the ``with`` block runs, the first of ``signals`` to arrive sets the yielded
    :class:`StopRequest` instead of ending the process; a second raises
    :class:`TrainingTerminated` at once (with ``die_on_second``: ends the process with the
    signal's default action). The previous handlers come back afterwards.

    Signal handlers belong to the main thread: elsewhere (and for a signal the process was
    told to ignore) nothing is installed, and the request is never set by a signal."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return

    def handler(signum, frame):
        if not request:
            request.set(signum)
        elif die_on_second:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        else:
            raise TrainingTerminated(signum)

    previous = {}
    try:
        for signum in signals:
            if signal.getsignal(signum) is not signal.SIG_IGN:
                previous[signum] = signal.signal(signum, handler)
        yield request
    finally:
        for signum, old in previous.items():
            signal.signal(signum, signal.SIG_DFL if old is None else old)
