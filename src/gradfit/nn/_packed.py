"""Variable-length sequences for the recurrent layers (``gradfit.nn.utils.rnn``).

A ``PackedSequence`` stores a batch of sequences of different lengths without padding:
``data`` holds the time steps time-major (step 0 of every sequence, then step 1 of those
still running, ...), ``batch_sizes[t]`` how many sequences run at step t (sequences sorted
longest first), and ``sorted_indices``/``unsorted_indices`` the permutation from and back to
the caller's batch order.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gradfit._arrays import unwrap, wrap
from gradfit._tensorops import argsort as _argsort
from gradfit.ops import sequence as _seq
from gradfit.tensor import Tensor


class PackedSequence(NamedTuple):
    """(data, batch_sizes, sorted_indices, unsorted_indices), as PyTorch's."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs) -> PackedSequence:
        return self._replace(data=self.data.to(*args, **kwargs))

    def double(self) -> PackedSequence:
        return self._replace(data=self.data.double())

    def float(self) -> PackedSequence:
        return self._replace(data=self.data.float())

    @property
    def is_cuda(self) -> bool:
        return False


def _valid_mask(batch_sizes: np.ndarray) -> np.ndarray:
    """(T, N) booleans: True where sequence j still runs at step t (j < batch_sizes[t])."""
    n = int(batch_sizes[0]) if len(batch_sizes) else 0
    return np.arange(n)[None, :] < batch_sizes[:, None]


def _invert_permutation(perm: np.ndarray) -> np.ndarray:
    out = np.empty_like(perm)
    out[perm] = np.arange(len(perm), dtype=perm.dtype)
    return out


def pack_padded_sequence(
    input: Tensor,  # noqa: A002
    lengths,
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """Pack a padded batch (T, N, *) ((N, T, *) if ``batch_first``) whose sequence j has
    ``lengths[j]`` valid steps. With ``enforce_sorted`` the lengths must be decreasing;
    otherwise the batch is sorted (longest first, equal lengths in the order PyTorch's
    unstable sort leaves them) and the permutation kept."""
    lens = np.asarray(unwrap(lengths) if isinstance(lengths, Tensor) else lengths, dtype=np.int64)
    if lens.ndim != 1:
        raise RuntimeError(f"pack_padded_sequence: lengths must be 1-D, got shape {lens.shape}")
    batch = input.shape[0 if batch_first else 1]
    if len(lens) != batch:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {len(lens)} "
            f"(batch_size={batch})"
        )
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
        sorted_indices = None
    else:
        # PyTorch's torch.sort(lengths, descending=True): equal lengths in its sort's order
        order = unwrap(_argsort(wrap(lens), descending=True))
        sorted_indices = order
        lens = lens[order]
        input = input[:, order] if not batch_first else input[order]
    if batch_first:
        input = input.transpose(0, 1)
    steps, batch = input.shape[0], input.shape[1]
    if lens.size and lens[-1] <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in "
            "'lengths' that is <= 0"
        )
    if lens.size and lens[0] > steps:
        raise RuntimeError(
            f"pack_padded_sequence: a length of {int(lens[0])} exceeds the {steps} padded steps"
        )
    max_len = int(lens[0]) if lens.size else 0
    batch_sizes = (lens[None, :] > np.arange(max_len)[:, None]).sum(axis=1).astype(np.int64)
    mask = _valid_mask(batch_sizes)
    data = _seq.MaskedRows.apply(input[:max_len], mask=mask)
    if sorted_indices is None:
        return PackedSequence(data, wrap(batch_sizes), None, None)
    return PackedSequence(
        data,
        wrap(batch_sizes),
        wrap(sorted_indices.astype(np.int64)),
        wrap(_invert_permutation(sorted_indices).astype(np.int64)),
    )


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
):
    """The inverse of ``pack_padded_sequence``: (padded (T, N, *) or (N, T, *), lengths
    (int64, in the original batch order)); ``total_length`` pads to that many steps."""
    data, batch_sizes, sorted_indices, unsorted_indices = sequence
    bs = unwrap(batch_sizes).astype(np.int64)
    mask = _valid_mask(bs)
    steps = len(bs)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{steps}"
            )
        mask = np.concatenate([mask, np.zeros((total_length - steps, mask.shape[1]), bool)])
    padded = _seq.ScatterRows.apply(data, mask=mask, fill=padding_value)
    lengths = mask.sum(axis=0).astype(np.int64)
    if unsorted_indices is not None:
        inv = unwrap(unsorted_indices)
        padded = padded[:, inv]
        lengths = lengths[inv]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, wrap(lengths)


def pad_sequence(
    sequences,
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences of shapes (L_i, *) into (L_max, N, *) ((N, L_max, *) if
    ``batch_first``), padding each with ``padding_value`` on the ``padding_side``."""
    from gradfit._functional import cat, stack

    if padding_side not in ("left", "right"):
        raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    max_len = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = max_len - s.shape[0]
        if extra:
            fill = wrap(np.full((extra,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype))
            s = cat([s, fill] if padding_side == "right" else [fill, s])
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """``pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=...)``."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """The list of sequences ``padded[:lengths[j], j]`` (the inverse of ``pad_sequence``)."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lens = unwrap(lengths) if isinstance(lengths, Tensor) else np.asarray(lengths)
    return [padded_sequences[j, : int(n)] for j, n in enumerate(lens)]


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "pack_sequence",
    "unpad_sequence",
    "unpack_sequence",
]
