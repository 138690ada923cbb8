"""SparseAdam (PyTorch's ``torch.optim.SparseAdam``), for sparse gradients."""

from __future__ import annotations

import numpy as np

from gradfit._arrays import unwrap, wrap
from gradfit.optim._sparse_functional import has_sparse, sparse_adam
from gradfit.optim.optimizer import Optimizer


class SparseAdam(Optimizer):
    """Adam for sparse gradients (``Embedding(sparse=True)``), as PyTorch's
    ``torch/optim/sparse_adam.py``: only the rows a step's gradient names move, and only
    their moments decay ("lazy Adam").

    Update rule, per row r of the coalesced gradient g (t = step count from 1,
    (β1, β2) = betas, ε = eps)::

        m_r = β1·m_r + (1 − β1)·g_r
        v_r = β2·v_r + (1 − β2)·g_r²
        p_r = p_r − lr·√(1 − β2^t)/(1 − β1^t) · m_r / (√v_r + ε)

    State per parameter: ``step`` (an int, as PyTorch's), ``exp_avg``, ``exp_avg_sq``.
    A dense gradient is refused, as PyTorch refuses it. The maths is
    ``gradfit.optim._sparse_functional.sparse_adam``.

    Args:
        params: dense tensors (whose gradients are sparse).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        maximize: bool = False,
    ) -> None:
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)
        sparse_params = [
            [i, j]
            for i, group in enumerate(self.param_groups)
            for j, p in enumerate(group["params"])
            if p.is_sparse
        ]
        if sparse_params:
            raise ValueError(
                f"Sparse params at indices {sparse_params}: SparseAdam requires dense "
                "parameter tensors"
            )

    def _update(self, group: dict, params: list, arrays: list, grads: list) -> None:
        raise RuntimeError(
            "SparseAdam does not support dense gradients, please consider Adam instead"
        )

    def _sparse_update(self, group: dict, params: list, arrays: list, grads: list) -> None:
        if not all(has_sparse([g]) for g in grads):
            self._update(group, params, arrays, grads)
        steps = []
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = wrap(np.zeros_like(unwrap(p)))
                state["exp_avg_sq"] = wrap(np.zeros_like(unwrap(p)))
            state["step"] = int(state["step"]) + 1  # an int, also after load_state_dict
            steps.append(state["step"])
        exp_avgs = [unwrap(self.state[p]["exp_avg"]) for p in params]
        exp_avg_sqs = [unwrap(self.state[p]["exp_avg_sq"]) for p in params]
        sparse_adam(arrays, grads, (steps, exp_avgs, exp_avg_sqs), group)
