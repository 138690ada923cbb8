"""Utilities, as ``torch.utils``: ``gradfit.utils.data`` holds datasets, samplers and loaders."""

from gradfit.utils import data

__all__ = ["data"]
