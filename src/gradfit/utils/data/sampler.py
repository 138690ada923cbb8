"""Samplers: the order in which a data loader visits examples, as ``torch.utils.data.sampler``.

The random samplers draw from gradfit's torch-compatible stream in the same order and amount
as PyTorch's, so a shuffled epoch visits the examples in PyTorch's order for the same seed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sized

import numpy as np

from gradfit import _rng

_INT63 = 2**63


def _random_seed(generator=None) -> int:
    """``int(torch.empty((), dtype=torch.int64).random_(generator=g).item())``.

    PyTorch's ``random_()`` on an int64 tensor is ``random64() % 2**63``: one 64-bit draw
    (two 32-bit MT19937 outputs). ``% 2**63`` keeps this right whichever convention
    ``MT.random_int64`` follows for the sign bit.
    """
    return int(_rng.stream(generator).random_int64()) % _INT63


class Sampler:
    """Base class: an iterable of indices (or of lists of indices, for batch samplers)."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} should implement __iter__")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random indices: a fresh permutation every epoch, or draws with replacement.

    Exactly PyTorch's consumption of the random stream, each time ``iter()`` starts
    running (the body is a generator, so nothing is drawn until the first index is asked):

    1. Without ``generator``: one int64 seed from the global stream
       (``random64() % 2**63``), then a private ``Generator`` seeded with it serves the rest.
    2. Without replacement: ``num_samples // n`` permutations ``randperm(n)``, then one more
       ``randperm(n)`` of which the first ``num_samples % n`` are used -- so an ordinary
       epoch (``num_samples == n``) draws a second, discarded permutation after its last
       index is taken.
    3. With replacement: ``num_samples // 32`` blocks of ``randint(n, (32,))``, then one of
       ``num_samples % 32``.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw with replacement.
        num_samples: how many indices per epoch (default ``len(data_source)``).
        generator: the random stream (default: seeded from the global one each epoch).
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator=None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        self._spare_mt = None
        if not isinstance(replacement, bool):
            raise TypeError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        ns = self.num_samples
        if not isinstance(ns, int) or isinstance(ns, bool) or ns <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={ns}"
            )

    @property
    def num_samples(self) -> int:
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        if self.generator is None:
            mt = self._take_private_stream()
            try:
                yield from self._indices(n, mt)
            finally:
                self._spare_mt = mt
        else:
            yield from self._indices(n, self.generator.mt)

    def _take_private_stream(self):
        """Draw the epoch's seed from the global stream and return a private MT seeded with
        it (PyTorch makes a new Generator). Reseeding a spare stream is the same stream and
        saves building one every epoch (it is the costly part of a small epoch); the spare
        is taken while in use, so simultaneous iterators never share."""
        seed = _random_seed(None)
        mt, self._spare_mt = self._spare_mt, None
        if mt is None:
            from gradfit._mt import MT

            mt = MT(seed)
        else:
            mt.manual_seed(seed)
        return mt

    def _batches(self, batch_size: int, drop_last: bool) -> Iterator[np.ndarray]:
        """``BatchSampler(self, batch_size, drop_last)``'s batches, for the common case of
        no replacement and no user generator: the epoch's permutations are drawn at once
        and sliced (an array per batch), instead of passing ~3 generator frames per index.

        The global stream is used exactly as by ``__iter__``: one seed draw when the first
        batch is asked for. The permutations come from the private stream in the same
        order, so the batches are the same; the discarded last permutation is not drawn
        here, since nothing can observe the private stream after the epoch.
        """
        n = len(self.data_source)
        num_samples = self.num_samples
        mt = self._take_private_stream()
        try:
            perms = [mt.randperm(n) for _ in range(num_samples // n)]
            if num_samples % n:
                perms.append(mt.randperm(n)[: num_samples % n])
        finally:
            self._spare_mt = mt
        order = perms[0] if len(perms) == 1 else np.concatenate(perms)
        stop = num_samples - num_samples % batch_size if drop_last else num_samples
        for i in range(0, stop, batch_size):
            yield order[i : i + batch_size]

    def _batches_from_generator(self, batch_size: int, drop_last: bool) -> Iterator[np.ndarray]:
        """The same with a user ``generator`` and ``num_samples == len(data_source)`` (what
        ``DataLoader(shuffle=True, generator=g)`` builds). The generator outlives the epoch,
        so its draws keep PyTorch's timing: the permutation when the first batch is asked
        for, and the discarded one when the per-index sampler would run out -- before the
        short last batch, or else in the call that ends the iteration."""
        n = len(self.data_source)
        mt = self.generator.mt
        order = mt.randperm(n)
        full = n - n % batch_size
        for i in range(0, full, batch_size):
            yield order[i : i + batch_size]
        mt.randperm(n)  # the discarded permutation
        if full < n and not drop_last:
            yield order[full:]

    def _indices(self, n: int, mt) -> Iterator[int]:
        num_samples = self.num_samples
        if self.replacement:
            for _ in range(num_samples // 32):
                yield from mt.randint(0, n, 32).tolist()
            yield from mt.randint(0, n, num_samples % 32).tolist()
        else:
            for _ in range(num_samples // n):
                yield from mt.randperm(n).tolist()
            yield from mt.randperm(n).tolist()[: num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in random order: ``indices[i] for i in randperm(len(indices))``.

    Draws from ``generator``, or from the global stream when it is None (as PyTorch).
    """

    def __init__(self, indices, generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in _rng.stream(self.generator).randperm(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    The last, shorter batch is kept unless ``drop_last``. ``len`` is
    ``ceil(len(sampler) / batch_size)``, or ``floor`` with ``drop_last``.
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._array_batches()
        if batches is not None:
            for batch in batches:
                yield batch.tolist()
            return
        # The two branches pull indices from the sampler exactly as PyTorch's do, so a random
        # sampler's draws (its discarded last permutation included) happen at the same calls.
        sampler_iter = iter(self.sampler)
        if self.drop_last:
            for batch in zip(*([sampler_iter] * self.batch_size)):
                yield [*batch]
        else:
            batch = [*itertools.islice(sampler_iter, self.batch_size)]
            while batch:
                yield batch
                batch = [*itertools.islice(sampler_iter, self.batch_size)]

    def _array_batches(self) -> Iterator[np.ndarray] | None:
        """The batches as int64 arrays, where they are cut from whole permutations (a
        shuffled epoch, the common case), else None. Nothing is drawn until the first
        batch is asked for. A ``DataLoader`` over tensors indexes with them directly."""
        sampler = self.sampler
        if type(sampler) is RandomSampler and not sampler.replacement:
            if sampler.generator is None:
                return sampler._batches(self.batch_size, self.drop_last)
            n = len(sampler.data_source)
            if n and sampler.num_samples == n:
                return sampler._batches_from_generator(self.batch_size, self.drop_last)
        return None

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


class WeightedRandomSampler(Sampler):
    """Indices ``0..len(weights)-1`` drawn with probabilities proportional to ``weights``:
    one ``multinomial(weights, num_samples, replacement)`` per epoch, on ``generator`` (or
    the global stream), so the same seed gives PyTorch's indices.

    Args:
        weights: a 1-D sequence of non-negative weights (need not sum to one).
        num_samples: how many indices per epoch.
        replacement: draw with replacement (default); without, each index at most once.
        generator: the random stream (default: the global one).
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={num_samples}"
            )
        if not isinstance(replacement, bool):
            raise ValueError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        from gradfit import float64
        from gradfit._factories import as_tensor

        weights_tensor = as_tensor(weights, dtype=float64)
        if len(weights_tensor.shape) != 1:
            raise ValueError(
                "weights should be a 1d sequence but given weights have shape "
                f"{tuple(weights_tensor.shape)}"
            )
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        from gradfit.random import multinomial

        rand_tensor = multinomial(
            self.weights, self.num_samples, self.replacement, generator=self.generator
        )
        yield from iter(rand_tensor.tolist())

    def __len__(self) -> int:
        return self.num_samples
