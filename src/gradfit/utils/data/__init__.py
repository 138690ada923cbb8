"""Datasets, samplers and the data loader, as ``torch.utils.data``.

Shuffled loading reproduces PyTorch's order for the same seed, because it consumes the
random stream exactly as PyTorch does (see ``dataloader.py`` for the draw-by-draw account).
"""

from gradfit.utils.data._collate import default_collate, default_convert
from gradfit.utils.data.dataloader import DataLoader, get_worker_info
from gradfit.utils.data.dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from gradfit.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
)

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]
