"""The errors a PyTorch program can catch or print come out of gradfit with PyTorch's
exception type and text: shapes that do not broadcast, a view that would need a copy,
a dimension out of range, ``item()`` of several elements, factory sizes and steps."""

from __future__ import annotations

import pytest
import torch

import gradfit

CASES = {
    "broadcast": lambda L: L.ones(2, 3) + L.ones(4, 5),
    "broadcast three": lambda L: L.where(L.ones(2, 3) > 0, L.ones(4, 3), 0.0),
    "broadcast with grad": lambda L: L.ones(2, 3, requires_grad=True) * L.ones(4, 1, 5),
    "broadcast_tensors": lambda L: L.broadcast_tensors(L.ones(5, 3, 1), L.ones(4, 2)),
    "matmul 2-D": lambda L: L.ones(2, 3) @ L.ones(4, 5),
    "matmul 1-D": lambda L: L.ones(3) @ L.ones(4),
    "matmul matrix vector": lambda L: L.ones(2, 3) @ L.ones(4),
    "matmul vector matrix": lambda L: L.ones(3) @ L.ones(4, 5),
    "matmul batched": lambda L: L.ones(7, 2, 3) @ L.ones(7, 4, 5),
    "matmul batch folded": lambda L: L.ones(7, 2, 3) @ L.ones(4, 5),
    "matmul batch vector": lambda L: L.ones(2, 3, 4) @ L.ones(5),
    "matmul batch broadcast": lambda L: L.ones(2, 2, 3) @ L.ones(3, 3, 5),
    "matmul 0-d": lambda L: L.ones(()) @ L.ones(2),
    "matmul dtypes": lambda L: L.ones(2, 2) @ L.ones(2, 2, dtype=L.float64),
    "matmul int": lambda L: L.ones(2, 2) @ L.ones(2, 2, dtype=L.int64),
    "mm": lambda L: L.mm(L.ones(2, 3), L.ones(4, 5)),
    "bmm": lambda L: L.bmm(L.ones(2, 2, 3), L.ones(2, 4, 5)),
    "linear": lambda L: L.nn.Linear(3, 2)(L.ones(4, 5)),
    "linear batched": lambda L: L.nn.Linear(3, 2)(L.ones(6, 4, 5)),
    "linear vector": lambda L: L.nn.Linear(3, 2)(L.ones(5)),
    "linear dtypes": lambda L: L.nn.Linear(2, 2)(L.ones(1, 2, dtype=L.float64)),
    "expand": lambda L: L.ones(2, 3).expand(4, 3),
    "expand smaller": lambda L: L.ones(2, 3).expand(1, 3),
    "expand fewer sizes": lambda L: L.ones(2, 3).expand(3),
    "expand leading -1": lambda L: L.ones(2, 3).expand(-1, 2, 3),
    "cat sizes": lambda L: L.cat([L.ones(2, 3), L.ones(2, 4)]),
    "cat ranks": lambda L: L.cat([L.ones(2, 3), L.ones(2, 3, 1)]),
    "cat empty": lambda L: L.cat([]),
    "cat dim": lambda L: L.cat([L.ones(2), L.ones(3)], 1),
    "cat 0-d": lambda L: L.cat([L.ones(()), L.ones(())]),
    "cat dim 1": lambda L: L.cat([L.ones(2, 3), L.ones(3, 4)], dim=1),
    "vstack": lambda L: L.vstack([L.ones(2, 3), L.ones(3, 4)]),
    "stack": lambda L: L.stack([L.ones(2, 3), L.ones(3, 4)]),
    "index": lambda L: L.ones(2)[5],
    "index second dim": lambda L: L.ones(2, 3)[1, 7],
    "index negative": lambda L: L.ones(2, 3)[-3],
    "index tensor": lambda L: L.ones(2, 3)[L.tensor([0, 4])],
    "mask": lambda L: L.ones(3)[L.tensor([True, False])],
    "mask after a slice": lambda L: L.ones(2, 3)[:, L.tensor([True, False])],
    "mask after an int": lambda L: L.ones(2, 3, 4)[0, L.tensor([True, True])],
    "cross_entropy target": lambda L: L.nn.functional.cross_entropy(L.ones(2, 3), L.tensor([0, 5])),
    "nll_loss target": lambda L: L.nn.functional.nll_loss(L.ones(2, 3), L.tensor([-2, 0])),
    "bce target size": lambda L: L.nn.functional.binary_cross_entropy(L.zeros(2, 1), L.zeros(2)),
    "bce logits target size": lambda L: L.nn.BCEWithLogitsLoss()(L.zeros(2, 1), L.zeros(2)),
    "view of a transpose": lambda L: L.arange(6.0).reshape(2, 3).t().view(6),
    "view of a slice": lambda L: L.arange(6.0).reshape(2, 3)[:, :2].view(4),
    "view of an expand": lambda L: L.arange(6.0).reshape(2, 3).expand(2, 2, 3).view(12),
    "squeeze dim": lambda L: L.ones(2).squeeze(3),
    "squeeze dims": lambda L: L.ones(2, 1).squeeze((0, 2)),
    "item": lambda L: L.ones(2).item(),
    "size dim": lambda L: L.ones(2, 3).size(-3),
    "size dim past": lambda L: L.ones(2, 3).size(2),
    "size of 0-d": lambda L: L.ones(()).size(0),
    "one value per channel": lambda L: L.nn.BatchNorm1d(3)(L.ones(1, 3)),
    "negative size": lambda L: L.randn(-1),
    "negative size zeros": lambda L: L.zeros(2, -3),
    "float size": lambda L: L.zeros(2.5),
    "float size of two": lambda L: L.rand(2, 2.5),
    "negative size ones": lambda L: L.ones(3, -1),
    "zero step": lambda L: L.arange(0, 5, 0),
    "batch norm channels": lambda L: L.nn.BatchNorm1d(3)(L.ones(2, 4)),
    "batch norm channels eval": lambda L: L.nn.BatchNorm2d(3).eval()(L.ones(2, 4, 2, 2)),
    "gather index": lambda L: L.ones(2, 3).gather(1, L.tensor([[1, 5, -1]])),
    "gather negative": lambda L: L.ones(2, 3).gather(1, L.tensor([[-1]])),
    "scatter index": lambda L: L.zeros(2, 3).scatter(1, L.tensor([[5]]), 1.0),
    "scatter_add index": lambda L: L.zeros(2, 3).scatter_add(0, L.tensor([[2]]), L.ones(1, 1)),
    "index_select index": lambda L: L.zeros(3).index_select(0, L.tensor([5])),
    "index_add index": lambda L: L.zeros(3).index_add(0, L.tensor([5]), L.ones(1)),
    "grad size": lambda L: setattr(L.zeros(2, requires_grad=True), "grad", L.zeros(3)),
    "grad broadcastable size": lambda L: setattr(L.zeros(2), "grad", L.zeros(1, 2)),
    "grad not a tensor": lambda L: setattr(L.zeros(2), "grad", 3),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_type_and_text_match_torch(name):
    with pytest.raises(Exception) as et:
        CASES[name](torch)
    with pytest.raises(Exception) as eg:
        CASES[name](gradfit)
    assert type(eg.value) is type(et.value)
    # gradfit's own reprs say gradfit.Size; legacy type strings stay 'torch.FloatTensor'
    assert str(eg.value) in (str(et.value), str(et.value).replace("torch.", "gradfit."))


def test_assigned_grad_of_another_dtype_is_refused_as_torch_does():
    # PyTorch's text goes on to advise its grad_dtype attribute, which gradfit lacks
    for dtype in ("float64", "int64"):
        with pytest.raises(RuntimeError) as et:
            torch.zeros(2).grad = torch.zeros(2, dtype=getattr(torch, dtype))
        with pytest.raises(RuntimeError) as eg:
            gradfit.zeros(2).grad = gradfit.zeros(2, dtype=getattr(gradfit, dtype))
        assert str(et.value).startswith(str(eg.value))
    p = gradfit.zeros(2, requires_grad=True)
    p.grad = gradfit.ones(2)
    p.grad = None
    assert p.grad is None


@pytest.mark.parametrize(
    "expr",
    [
        lambda L: L.arange(6.0).reshape(2, 3).t().view(3, 2),
        lambda L: L.arange(6.0).reshape(2, 3).t().contiguous().view(6),
        lambda L: L.arange(6.0).reshape(2, 3).t().view(3, 1, 2),
        lambda L: L.arange(6.0).reshape(2, 3)[0].view(3),
        lambda L: L.arange(6.0).reshape(2, 3).t().unsqueeze(0).view(3, 2),
    ],
)
def test_views_pytorch_allows_still_work(expr):
    assert expr(gradfit).tolist() == expr(torch).tolist()
