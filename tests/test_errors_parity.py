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
    "view of a transpose": lambda L: L.arange(6.0).reshape(2, 3).t().view(6),
    "view of a slice": lambda L: L.arange(6.0).reshape(2, 3)[:, :2].view(4),
    "view of an expand": lambda L: L.arange(6.0).reshape(2, 3).expand(2, 2, 3).view(12),
    "squeeze dim": lambda L: L.ones(2).squeeze(3),
    "squeeze dims": lambda L: L.ones(2, 1).squeeze((0, 2)),
    "item": lambda L: L.ones(2).item(),
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
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_type_and_text_match_torch(name):
    with pytest.raises(Exception) as et:
        CASES[name](torch)
    with pytest.raises(Exception) as eg:
        CASES[name](gradfit)
    assert type(eg.value) is type(et.value)
    assert str(eg.value) == str(et.value).replace("torch.", "gradfit.")


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
