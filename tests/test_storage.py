"""Storages as PyTorch's: the memory a tensor views, as bytes or as elements, shared with
every tensor that views it, printed in PyTorch's format."""

from __future__ import annotations

import warnings

import pytest

import gradfit
from tests.compat._normalise import as_gradfit


def _both():
    import torch

    return (torch, gradfit)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.arange(6.0).view(2, 3),
        lambda lib: lib.arange(6.0).view(2, 3).t(),
        lambda lib: lib.arange(10)[2:5],
        lambda lib: lib.tensor([True, False]),
        lambda lib: lib.zeros(0, dtype=lib.float64),
    ],
)
def test_storages_print_and_measure_as_pytorch(make):
    torch, _ = _both()
    t, g = make(torch), make(gradfit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # TypedStorage's deprecation
        for kind in ("untyped_storage", "storage"):
            ts, gs = getattr(t, kind)(), getattr(g, kind)()
            assert repr(gs) == as_gradfit(repr(ts))
            assert (gs.size(), len(gs), gs.nbytes(), gs.element_size(), gs.tolist()) == (
                ts.size(), len(ts), ts.nbytes(), ts.element_size(), ts.tolist()
            )  # fmt: skip
    assert g.storage_offset() == t.storage_offset()


def test_storages_share_memory_as_pytorch():
    for lib in _both():
        x = lib.arange(6.0).view(2, 3)
        ptr = x.untyped_storage().data_ptr()
        assert x.t().untyped_storage().data_ptr() == ptr == x.data_ptr()
        assert x[1].untyped_storage().data_ptr() == ptr
        assert x.clone().untyped_storage().data_ptr() != ptr
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            s = x.storage()
            s[0] = 5.0
            assert x[0, 0].item() == 5.0 and s.dtype is x.dtype
            c = s.clone()
            c[0] = -1.0
            assert x[0, 0].item() == 5.0
            with pytest.raises(RuntimeError, match="slices are only supported"):
                s[1:3]
        x.untyped_storage().fill_(0)
        assert x.sum().item() == 0
        assert isinstance(x.untyped_storage(), lib.UntypedStorage)
        assert lib.UntypedStorage(4).nbytes() == 4  # PyTorch's bytes are uninitialised
    assert gradfit.UntypedStorage(4).tolist() == [0, 0, 0, 0]


def test_typed_storage_warns_as_pytorch():
    from gradfit import storage

    storage._warned[0] = False
    with pytest.warns(UserWarning, match="TypedStorage is deprecated") as caught:
        gradfit.ones(2).storage()
    assert caught[0].filename == __file__  # pointed at the caller, as PyTorch's
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradfit.ones(2).storage()  # once per process
    assert gradfit.TypedStorage([1, 2], dtype=gradfit.int32).tolist() == [1, 2]
    with pytest.raises(TypeError, match="non-negative int, got -1"):
        gradfit.UntypedStorage(-1)
