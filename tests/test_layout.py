"""``x.layout`` and the layout constants: printed as PyTorch prints them (module name
aside, as for dtypes), compared by identity, kept by pickling."""

from __future__ import annotations

import copy
import pickle

import torch

import gradfit
from tests.compat._normalise import as_gradfit


def test_layout_prints_and_compares_as_pytorch():
    t, g = torch.ones(2, 3), gradfit.ones(2, 3)
    assert repr(g.layout) == as_gradfit(repr(t.layout)) == "gradfit.strided"
    assert str(g.layout) == as_gradfit(str(t.layout))
    assert (g.layout == gradfit.strided) is (t.layout == torch.strided) is True
    assert (g.layout == gradfit.sparse_coo) is (t.layout == torch.sparse_coo) is False
    assert isinstance(g.layout, gradfit.layout)
    assert pickle.loads(pickle.dumps(gradfit.strided)) is gradfit.strided
    assert copy.deepcopy(gradfit.sparse_coo) is gradfit.sparse_coo
