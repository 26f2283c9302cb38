"""Training: the fit loop, metrics, checkpoints, progress bars, plots and the run files."""
from .checkpoint import load_checkpoint, restore, save_checkpoint
from .fit import Callback, TrainingDiverged, evaluate, fit
from .metrics import RunningMean, accuracy, confusion_matrix
from .presets import PRESETS
from .runner import resolve_config, run

__all__ = ["fit", "evaluate", "Callback", "TrainingDiverged", "accuracy", "confusion_matrix",
           "RunningMean", "save_checkpoint", "load_checkpoint", "restore", "PRESETS",
           "resolve_config", "run"]
