"""Distance modules (``torch.nn.CosineSimilarity``, ``torch.nn.PairwiseDistance``): the
settings, with the computation in ``gradfit.nn.functional``."""

from __future__ import annotations

from gradfit.nn import functional as F
from gradfit.nn.modules.module import Module


class PairwiseDistance(Module):
    """||x1 - x2 + eps||_p over the last dimension (``F.pairwise_distance``). The exponent
    is stored as ``norm``, PyTorch's attribute name."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """Cosine similarity along ``dim``, each norm clamped at ``eps``
    (``F.cosine_similarity``)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
