"""Second order (create_graph=True) in the op registry: the ops that do not have it.

Every registered op has a ``backward_graph`` or a ``composite``
(gradfit.autograd.function.Op), so this set is empty; it stays as the place to list an op
added without one. Each op named here must raise, under create_graph, an error naming
itself; every other registered op is checked against PyTorch's double backward and by
gradgradcheck (tests/engine/test_engine_second_order.py).
"""

NO_SECOND_ORDER: set[str] = set()

# PyTorch itself has no double backward for these ("derivative for
# aten::hardsigmoid_backward is not implemented", "_cdist_backward"): checked by
# gradgradcheck only.
TORCH_HAS_NO_DOUBLE_BACKWARD: set[str] = {
    "hardsigmoid",
    "cdist",
    "cdist_p1",
    "cdist_p3",
    "cdist_inf",
}

# (lossdist) multi_margin_loss, multilabel_margin_loss, pdist
from .registry_losses_more import TORCH_NO_DOUBLE_BACKWARD  # noqa: E402

TORCH_HAS_NO_DOUBLE_BACKWARD |= TORCH_NO_DOUBLE_BACKWARD

# (nnlayers) ctc_loss
from .registry_nnlayers import TORCH_NO_DOUBLE_BACKWARD as _NNLAYERS_NO_DOUBLE  # noqa: E402

TORCH_HAS_NO_DOUBLE_BACKWARD |= _NNLAYERS_NO_DOUBLE

# (sparse) the sparse COO ops: PyTorch has no forward AD for sparse_coo_tensor and its
# create_graph gradients through them do not record; gradfit refuses both, naming the op.
from .registry_sparse import REGISTRY_SPARSE as _SPARSE  # noqa: E402

NO_SECOND_ORDER |= {s.name for s in _SPARSE}
