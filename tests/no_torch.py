"""A pytest plugin that hides PyTorch, to check the suite on a NumPy-only install:

    python -m pytest -q -p tests.no_torch tests

Every ``import torch`` then fails as it does where PyTorch is not installed: the comparisons
with PyTorch skip (``requires_torch``, ``pytest.importorskip``) and everything else runs.
"""
import sys


class _HideTorch:
    """A finder that refuses ``torch`` and its submodules (ModuleNotFoundError, as pip's
    absence of the package gives)."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by tests/no_torch.py)",
                                      name=name)
        return None


if "torch" not in sys.modules:
    sys.meta_path.insert(0, _HideTorch())
