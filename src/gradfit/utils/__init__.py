"""Utilities, as ``torch.utils``: ``gradfit.utils.data`` holds datasets, samplers and loaders;
``hooks`` the handle hooks return."""

from gradfit.utils import data, hooks

__all__ = ["data", "hooks", "checkpoint", "benchmark"]


# --- pruneamp: torch.utils.checkpoint, loaded on first use (it is a submodule in PyTorch) ---
def __getattr__(name: str):
    if name in ("checkpoint", "benchmark"):  # benchmark: torch.utils.benchmark (apihooks)
        import importlib

        return importlib.import_module(f"gradfit.utils.{name}")
    raise AttributeError(f"module 'gradfit.utils' has no attribute {name!r}")
