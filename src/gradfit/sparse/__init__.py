"""``gradfit.sparse``: functions on sparse COO tensors, as ``torch.sparse``.

``mm(sparse, dense)`` and ``addmm`` (the sparse operand's gradient is sparse, on its
pattern) and ``sum(sparse, dim)``; the tensors themselves are made by ``gradfit.sparse_coo_tensor``
and ``Tensor.to_sparse()`` (``gradfit._sparse``).
"""

from __future__ import annotations

from gradfit._sparse import addmm, mm, sum  # noqa: A004 - PyTorch's names

__all__ = ["addmm", "mm", "sum"]
