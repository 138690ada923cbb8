"""Datasets and ``random_split``, as ``torch.utils.data.dataset``."""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable, Sequence

from gradfit import _rng
from gradfit import random as _random
from gradfit.tensor import Tensor


class Dataset:
    """A map-style dataset: ``dataset[i]`` is example ``i`` and ``len(dataset)`` its size.

    Subclasses implement ``__getitem__`` (and usually ``__len__``, which the samplers need).
    They may also implement ``__getitems__(indices) -> list`` to fetch a whole batch at once;
    the data loader then calls it instead of ``__getitem__`` once per index (as PyTorch does).
    """

    def __getitem__(self, index):
        raise NotImplementedError(
            f"{type(self).__name__}: subclasses of Dataset should implement __getitem__"
        )

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of examples: subclasses implement ``__iter__``.

    The data loader takes examples in the order the iterator gives them; samplers and
    shuffling do not apply (PyTorch's rule).
    """

    def __iter__(self):
        raise NotImplementedError(
            f"{type(self).__name__}: subclasses of IterableDataset should implement __iter__"
        )

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Examples are rows of tensors: item ``i`` is ``tuple(t[i] for t in tensors)``.

    Args:
        *tensors: tensors with the same size of their first dimension.

    The data loader does not call ``__getitem__`` per example for this class: with the
    default collate function it indexes each tensor with the whole batch of indices at once,
    which gives the same batch as stacking the items (see ``DataLoader``).
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor, got none")
        n = tensors[0].size(0)
        sizes = [t.size(0) for t in tensors]
        if any(s != n for s in sizes):
            # AssertionError is PyTorch's exception type here; the message gives the sizes.
            raise AssertionError(
                f"Size mismatch between tensors: first dimensions are {sizes}, expected all "
                f"equal to {n}"
            )
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)


class ConcatDataset(Dataset):
    """The concatenation of map-style datasets: indices run through them one after another."""

    @staticmethod
    def cumsum(sequence) -> list[int]:
        out, total = [], 0
        for d in sequence:
            total += len(d)
            out.append(total)
        return out

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError(
                    f"ConcatDataset: index {idx} is out of range for length {len(self)}"
                )
            idx = len(self) + idx
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        start = 0 if k == 0 else self.cumulative_sizes[k - 1]
        return self.datasets[k][idx - start]


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list:
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


def _split_lengths(n: int, fractions: Sequence[float]) -> list[int]:
    """PyTorch's rule: floor(n * f) each, then the remainder +1 round-robin from the first."""
    lengths = []
    for i, frac in enumerate(fractions):
        if frac < 0 or frac > 1:
            raise ValueError(f"random_split: fraction at index {i} is {frac}, not in [0, 1]")
        lengths.append(math.floor(n * frac))
    for i in range(n - sum(lengths)):
        lengths[i % len(lengths)] += 1
    for i, length in enumerate(lengths):
        if length == 0:
            warnings.warn(
                f"Length of split at index {i} is 0. This might result in an empty dataset.",
                stacklevel=3,
            )
    return lengths


def random_split(
    dataset: Dataset,
    lengths: Sequence[int | float],
    generator: _random.Generator | None = _random.default_generator,
) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping subsets, as PyTorch does.

    ``lengths`` are sizes that add up to ``len(dataset)``, or fractions that add up to 1:
    each fraction gives ``floor(f * len(dataset))`` examples and the remainder is handed out
    one by one, round-robin from the first split (10 examples in thirds -> 4, 3, 3).
    The subsets are consecutive slices of ``randperm(len(dataset), generator=generator)``,
    so the split equals PyTorch's for the same seed: with ``manual_seed(42)``, ``range(10)``
    split ``[.5, .3, .2]`` gives ``[2, 6, 1, 8, 4]``, ``[5, 0, 9]``, ``[3, 7]``.

    Args:
        dataset: the dataset to split.
        lengths: sizes or fractions of the splits.
        generator: the random stream for the permutation (the global one by default).
    """
    n = len(dataset)
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        lengths = _split_lengths(n, lengths)
    if sum(lengths) != n:
        raise ValueError(
            f"random_split: sum of input lengths {list(lengths)} is {sum(lengths)}, which does "
            f"not equal the length of the input dataset ({n})"
        )
    indices = _rng.stream(generator).randperm(n).tolist()
    return [
        Subset(dataset, indices[end - length : end])
        for end, length in zip(itertools.accumulate(lengths), lengths)
    ]


# --- toplevel helper: PyTorch's ChainDataset and StackDataset -------------------------------
class ChainDataset(IterableDataset):
    """Iterable datasets one after another (``a + b`` of two iterable datasets)."""

    def __init__(self, datasets) -> None:
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class StackDataset(Dataset):
    """Item ``i`` is the tuple (``*args``) or dict (``**kwargs``) of each dataset's item
    ``i``: the datasets must have one length.

    Example: ``StackDataset(image=images, label=labels)[3] == {"image": images[3],
    "label": labels[3]}``.
    """

    def __init__(self, *args, **kwargs) -> None:
        if args:
            if kwargs:
                raise ValueError(
                    "Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like "
                    "input/output, but both types are given."
                )
            self._length = len(args[0])
            if any(self._length != len(dataset) for dataset in args):
                raise ValueError("Size mismatch between datasets")
            self.datasets = args
        elif kwargs:
            tmp = list(kwargs.values())
            self._length = len(tmp[0])
            if any(self._length != len(dataset) for dataset in tmp):
                raise ValueError("Size mismatch between datasets")
            self.datasets = kwargs
        else:
            raise ValueError("At least one dataset should be passed")

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: dataset[index] for k, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def _items(self, dataset, indices: list) -> list:
        if callable(getattr(dataset, "__getitems__", None)):
            items = dataset.__getitems__(indices)
            if len(items) != len(indices):
                raise ValueError(
                    f"Nested dataset's output size mismatch. Expected {len(indices)}, got "
                    f"{len(items)}"
                )
            return list(items)
        return [dataset[i] for i in indices]

    def __getitems__(self, indices: list) -> list:
        """A batch at once, through each dataset's own ``__getitems__`` where it has one."""
        if isinstance(self.datasets, dict):
            columns = {k: self._items(d, indices) for k, d in self.datasets.items()}
            return [{k: col[j] for k, col in columns.items()} for j in range(len(indices))]
        columns = [self._items(d, indices) for d in self.datasets]
        return [tuple(col[j] for col in columns) for j in range(len(indices))]

    def __len__(self) -> int:
        return self._length
