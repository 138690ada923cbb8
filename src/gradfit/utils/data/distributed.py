"""``DistributedSampler``: each process's share of the data, as
``torch.utils.data.distributed.DistributedSampler``.

Every rank draws the same permutation, ``randperm(n)`` on a generator seeded with
``seed + epoch`` (PyTorch's indices for the same seed), pads it (or cuts it, with
``drop_last``) to a multiple of ``num_replicas`` and keeps every ``num_replicas``-th index
from ``rank``. Without ``num_replicas``/``rank`` they come from ``gradfit.distributed``
(one process, rank 0, unless MPI was started).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from gradfit.utils.data.sampler import Sampler


class DistributedSampler(Sampler):
    """Rank ``rank``'s indices of one shared epoch order; call ``set_epoch(epoch)`` at the
    start of each epoch for a fresh permutation.

    Args:
        dataset: the dataset (only its length is used).
        num_replicas: the number of processes (default: the world size).
        rank: this process's rank (default: from ``gradfit.distributed``).
        shuffle: permute the indices (else ``0..n-1`` in order).
        seed: the permutation's seed, the same on every rank.
        drop_last: cut the tail so every rank gets the same count (else pad by repeating
            indices from the start).
    """

    def __init__(
        self,
        dataset,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from gradfit import distributed

            num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            from gradfit.random import Generator, randperm

            g = Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = randperm(len(self.dataset), generator=g).tolist()
        else:
            indices = list(range(len(self.dataset)))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use ``seed + epoch`` for the next permutation (every rank must call it)."""
        self.epoch = epoch
