"""``DataLoader``: batches from a dataset, in PyTorch's order for the same seed.

Random-number consumption, draw by draw (PyTorch 2.x, ``num_workers=0``), for
``DataLoader(ds, batch_size=B, shuffle=True, generator=g)``; ``g=None`` means the global
stream:

1. ``iter(loader)`` draws ``_base_seed``: one int64 ``random_()`` from ``g`` -- even with
   ``shuffle=False`` -- so every epoch advances the stream.
2. The first ``next()`` starts the ``RandomSampler``: without ``g`` it draws a seed from the
   global stream and uses a private generator seeded with it; then ``randperm(n)``.
3. When the sampler is asked past its last index it draws a second, discarded
   ``randperm(n)`` (during the last batch if ``n % B``, else at the ``StopIteration``).

So one epoch with ``g`` consumes random64, randperm(n), randperm(n) from ``g``; without ``g``
it consumes two int64 draws from the global stream. The samplers here are written the way
PyTorch's are, which keeps these draws at the same calls.
"""

from __future__ import annotations

import math

import numpy as np

from gradfit._arrays import unwrap, wrap
from gradfit.tensor import Tensor
from gradfit.utils.data._collate import default_collate, default_convert
from gradfit.utils.data.dataset import IterableDataset, Subset, TensorDataset
from gradfit.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    _random_seed,
)


def get_worker_info():
    """``None``: gradfit loads in the main process (there are no worker processes)."""
    return None


class DataLoader:
    """Iterates over a dataset in batches, as ``torch.utils.data.DataLoader``.

    Args:
        dataset: a map-style ``Dataset`` (indexable, with ``len``) or an ``IterableDataset``.
        batch_size: examples per batch (default 1); ``None`` turns automatic batching off, and
            each item is passed through ``default_convert``.
        shuffle: a new random order every epoch (``RandomSampler``): each example exactly once
            per epoch, in PyTorch's order for the same seed.
        sampler: the index order (an iterable of indices); excludes ``shuffle``.
        batch_sampler: yields lists of indices; excludes ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``.
        num_workers: accepted for compatibility; loading always runs in this process, which
            gives the same batches in the same order as PyTorch's workers do.
        collate_fn: list of examples -> batch (default ``default_collate``).
        drop_last: drop the last batch when it is shorter than ``batch_size``.
        generator: the random stream for shuffling and ``_base_seed`` (default: global).
        pin_memory, timeout, worker_init_fn, multiprocessing_context, prefetch_factor,
        persistent_workers, pin_memory_device, in_order: accepted for compatibility,
            checked as PyTorch does, otherwise unused.

    ``len(loader)`` is the number of batches: ``ceil(N / B)``, or ``floor(N / B)`` with
    ``drop_last``.

    Batches of a ``TensorDataset`` (or a ``Subset`` of one) with the default collate
    function are made by indexing each tensor with the batch's index array at once, which
    gives the same tensors as stacking the items one by one, much faster.
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler=None,
        batch_sampler=None,
        num_workers: int = 0,
        collate_fn=None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if num_workers < 0:
            raise ValueError(
                f"num_workers option should be non-negative (got num_workers={num_workers}); "
                "use num_workers=0 to disable multiprocessing."
            )
        if timeout < 0:
            raise ValueError(f"timeout option should be non-negative, got timeout={timeout}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing: let "
                "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        if isinstance(dataset, IterableDataset):
            iterable = True
            if shuffle not in (False, None):
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, "
                    f"but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler option, "
                    f"but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler "
                    f"option, but got batch_sampler={batch_sampler}"
                )
        else:
            iterable = False
            shuffle = bool(shuffle)

        if sampler is not None and shuffle:
            raise ValueError(
                "sampler option is mutually exclusive with shuffle (got shuffle=True and "
                f"sampler={sampler!r})"
            )
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    f"sampler, and drop_last (got batch_size={batch_size}, shuffle={shuffle}, "
                    f"sampler={sampler!r}, drop_last={drop_last})"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive "
                "with drop_last (got drop_last=True)"
            )

        if sampler is None and not iterable:
            if shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.persistent_workers = persistent_workers
        self._iterable = iterable
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._initialized = True

    _FROZEN = frozenset(
        ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")
    )

    def __setattr__(self, attr, val) -> None:
        if attr in self._FROZEN and self.__dict__.get("_initialized", False):
            raise ValueError(
                f"{attr} attribute should not be set after {type(self).__name__} is initialized"
            )
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self) -> bool:
        if self._iterable:
            return self.batch_size is not None
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> _DataLoaderIter:
        return _DataLoaderIter(self)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        return len(self._index_sampler)


def _tensor_rows(dataset):
    """``(arrays, index_map)`` when batches can be cut from whole arrays, else ``None``.

    That is when ``dataset`` is a ``TensorDataset`` (not a subclass, whose ``__getitem__``
    may differ), possibly inside ``Subset``s, and no tensor requires grad (then items would
    carry a graph, which the generic path keeps).
    """
    index_map = None
    while type(dataset) is Subset:
        idx = np.asarray(dataset.indices, dtype=np.intp)
        if idx.ndim != 1:
            return None
        index_map = idx if index_map is None else idx[index_map]
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset:
        return None
    tensors = dataset.tensors
    if any(not isinstance(t, Tensor) or t.requires_grad or t.ndim == 0 for t in tensors):
        return None
    return tuple(unwrap(t) for t in tensors), index_map


class _DataLoaderIter:
    """One pass over a ``DataLoader`` (PyTorch's ``_SingleProcessDataLoaderIter``)."""

    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._auto_collation = loader._auto_collation
        self._collate_fn = loader.collate_fn
        self._iterable = loader._iterable
        self._drop_last = loader.drop_last
        self._batch_size = loader.batch_size
        self._index_sampler = loader._index_sampler
        # PyTorch's order: iter(sampler) (a generator for the built-in samplers, so it draws
        # nothing yet), then _base_seed, then iter(dataset) for an IterableDataset.
        self._fast = None
        if self._auto_collation and self._collate_fn is default_collate and not self._iterable:
            self._fast = _tensor_rows(self._dataset)
        self._sampler_iter = None if self._iterable else self._batches()
        # PyTorch draws this seed (for worker processes) at every iterator creation, even
        # with shuffle=False and num_workers=0; it is drawn here so the stream advances alike.
        self._base_seed = _random_seed(loader.generator)
        if self._iterable:
            self._dataset_iter = iter(self._dataset)
        self._num_yielded = 0

    def __iter__(self) -> _DataLoaderIter:
        return self

    def _batches(self):
        """iter(the index sampler); for rows cut from tensors, a ``BatchSampler``'s batches
        as index arrays where it has them (the same batches, drawn at the same calls)."""
        sampler = self._index_sampler
        if self._fast is not None and type(sampler) is BatchSampler:
            batches = sampler._array_batches()
            if batches is not None:
                return batches
        return iter(sampler)

    def __len__(self) -> int:
        if self._iterable:
            raise TypeError("len() of an IterableDataset's loader iterator is not defined")
        return len(self._index_sampler)

    def __next__(self):
        if self._iterable:
            data = self._next_iterable()
        else:
            index = next(self._sampler_iter)
            fast = self._fast
            if fast is not None:
                arrays, index_map = fast
                idx = np.asarray(index, dtype=np.intp)
                if index_map is not None:
                    idx = index_map[idx]
                # take (not a[idx]): the same rows, without fancy indexing's general set-up
                data = [wrap(a.take(idx, axis=0)) for a in arrays]
            elif self._auto_collation:
                ds = self._dataset
                getitems = getattr(ds, "__getitems__", None)
                if getitems:
                    items = getitems(index)
                else:
                    items = [ds[i] for i in index]
                data = self._collate_fn(items)
            else:
                data = self._collate_fn(self._dataset[index])
        self._num_yielded += 1
        return data

    def _next_iterable(self):
        it = self._dataset_iter
        if not self._auto_collation:
            return self._collate_fn(next(it))
        items = []
        for item in it:
            items.append(item)
            if len(items) == self._batch_size:
                break
        if not items or (self._drop_last and len(items) < self._batch_size):
            raise StopIteration
        return self._collate_fn(items)


__all__ = ["DataLoader", "Sampler", "get_worker_info"]
