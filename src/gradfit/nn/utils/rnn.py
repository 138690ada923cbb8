"""``gradfit.nn.utils.rnn``, as ``torch.nn.utils.rnn``: packed and padded sequences for the
recurrent layers. (Implemented in ``gradfit.nn._packed``, which the recurrent layers import
without loading ``gradfit.nn.utils``.)"""

from gradfit.nn._packed import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "pack_sequence",
    "unpad_sequence",
    "unpack_sequence",
]
