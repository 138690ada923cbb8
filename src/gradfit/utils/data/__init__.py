"""Datasets, samplers and the data loader, as ``torch.utils.data``.

Shuffled loading reproduces PyTorch's order for the same seed, because it consumes the
random stream exactly as PyTorch does (see ``dataloader.py`` for the draw-by-draw account).
"""

from gradfit.utils.data._collate import default_collate, default_convert
from gradfit.utils.data.dataloader import DataLoader, get_worker_info
from gradfit.utils.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from gradfit.utils.data.distributed import DistributedSampler
from gradfit.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]
