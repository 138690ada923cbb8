"""Second order (create_graph=True) in the op registry: the ops that do not have it yet.

Each op named here must raise, under create_graph, an error naming itself; every other
registered op is checked against PyTorch's double backward and by gradgradcheck
(tests/engine/test_engine_second_order.py). Remove a name when its op gains a
``backward_graph`` or ``composite`` (gradfit.autograd.function.Op).
"""

NO_SECOND_ORDER: set[str] = {
    "cholesky",
    "cholesky_upper",
    "eigh",
    "matrix_norm_2",
    "matrix_norm_nuc",
    "qr",
    "svd_vectors",
    "svdvals",
}

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
