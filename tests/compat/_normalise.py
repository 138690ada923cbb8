"""The one difference allowed between PyTorch's printed text and gradfit's.

gradfit names its own module in dtype, layout, memory format, Size and named-tuple reprs
(``gradfit.float64``, ``gradfit.Size([2, 3])``, ``gradfit.return_types.max(``) where PyTorch
prints ``torch.``;
everything else must be the same character for character.
"""

from __future__ import annotations

import re

_NAMES = "float16 float32 float64 bfloat16 int8 int16 int32 int64 uint8 uint16 uint32 uint64 bool "
_NAMES += "complex64 complex128 sparse_coo strided storage "
_NAMES += "channels_last channels_last_3d contiguous_format preserve_format"
_OWN = re.compile(rf"\btorch\.({'|'.join(_NAMES.split())}|Size|return_types)\b")


def as_gradfit(torch_text: str) -> str:
    """PyTorch's printed text with ``torch.<dtype>``/``Size``/``return_types`` spelled as
    gradfit's."""
    return _OWN.sub(r"gradfit.\1", torch_text)
