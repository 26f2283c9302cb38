"""Progress bars: tqdm when the output is a terminal, nothing otherwise (or with quiet)."""
from __future__ import annotations

import sys

__all__ = ["progress"]


class _Silent:
    def __init__(self, iterable):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def set_postfix(self, *args, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass


def progress(iterable, total: int | None = None, desc: str = "", quiet: bool = False):
    """Wrap ``iterable`` in a tqdm bar unless ``quiet`` or stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        return _Silent(iterable)
    try:
        from tqdm.auto import tqdm  # optional dependency
    except ImportError:
        return _Silent(iterable)
    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)
