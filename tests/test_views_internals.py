"""Views as PyTorch has them (the "PyTorch internals" walk-through): ``view(dtype)``,
``_base``, ``unfold`` and ``as_strided`` as strided views of the same memory, ``numpy()``
a new array each call, one version counter for a base and its views, and the nodes of
an in-place edit through a view (CopySlices, AsStridedBackward0)."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit


def _outcome(T, fn):
    try:
        text = repr(fn(T))
    except Exception as e:  # noqa: BLE001 - the class and message are what is compared
        text = f"{type(e).__name__}: {e}"
    return text.replace("torch.", "gradfit.")


VIEW_DTYPE = [
    lambda T: T.tensor([1.0, -2.0, 0.5]).view(T.int32),
    lambda T: T.tensor([1.0, -2.0]).view(T.int16),
    lambda T: T.tensor([1, 256], dtype=T.int16).view(T.int8),
    lambda T: T.ones(2, 4, dtype=T.int16).view(T.float32),
    lambda T: T.ones(2, 2).view(T.complex64),
    lambda T: T.ones(2, 2).view(dtype=T.bool),
    lambda T: T.tensor(1.0).view(T.int16),
    lambda T: T.ones(2, 3).t().view(T.int16),
    lambda T: T.ones(3, dtype=T.int16).view(T.float32),
    lambda T: T.ones(4, dtype=T.int16)[1:3].view(T.int32),
    lambda T: T.ones(3, requires_grad=True).view(T.int32),
    lambda T: T.arange(6.0).view(T.int32)._base is None,
]


@pytest.mark.parametrize("case", range(len(VIEW_DTYPE)))
def test_view_dtype_as_pytorchs(case):
    import torch

    assert _outcome(gradfit, VIEW_DTYPE[case]) == _outcome(torch, VIEW_DTYPE[case])


def _views(T):
    x = T.arange(12.0).reshape(3, 4)
    made = {
        "slice": x[1:],
        "t": x.t(),
        "view": x.view(2, 6),
        "detach": x.detach(),
        "clone": x.clone(),
        "expand": x[:1].expand(2, 4),
        "unbind": x.unbind()[0],
        "index": x[[0, 1]],
        "unfold": x.unfold(1, 2, 1),
        "unfold_step": x.unfold(0, 1, 2),
        "as_strided": x.as_strided((5, 4), (1, 1)),
    }
    rows = []
    for name, v in made.items():
        shares = v.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
        rows.append((name, v.stride(), v.storage_offset(), shares, v._base is x, v.tolist()))
    x.unfold(1, 2, 2).mul_(2)  # windows that do not overlap can be written through
    v = x[:, 1]
    v.add_(1)
    x.t()[0].fill_(-1)
    w = x.view(12)  # made after two edits: the counter is the base's
    rows.append((x._version, v._version, w._version, x.tolist()))
    a = np.ones(3, dtype=np.float32)
    t = T.from_numpy(a)
    rows.append((t.numpy() is a, t.numpy() is t.numpy(), np.shares_memory(t.numpy(), a)))
    return rows


def test_views_share_memory_and_version_as_pytorchs():
    import torch

    assert _views(gradfit) == _views(torch)


def _edit_through_view(T):
    w = T.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    base = w * 1
    y = base * base  # saves base: an edit through a view must be seen
    view = base[1:3]
    view.mul_(3)
    names = (base.grad_fn.name(), view.grad_fn.name(), repr(base).split("grad_fn=")[1])
    try:
        y.sum().backward()
        seen = "no error"
    except RuntimeError as e:
        seen = str(e).split(":")[0]
    base.sum().backward()
    return names, seen, w.grad.tolist(), base._version, view._version


def test_edit_through_a_view_as_pytorchs():
    import torch

    assert _edit_through_view(gradfit) == _edit_through_view(torch)


def test_as_strided_gradient_adds_overlaps():
    import torch

    for T in (gradfit, torch):
        s = T.arange(8.0, requires_grad=True)
        s.as_strided((5, 4), (1, 1)).sum().backward()
        if T is gradfit:
            got = s.grad.tolist()
        else:
            want = s.grad.tolist()
    assert got == want
