"""PyTorch's import paths for layer-writing helpers: torch.nn.modules.utils (_pair, ...),
torch.nn.common_types, torch.nn.modules.lazy.LazyModuleMixin and the lazy parameters of
torch.nn.parameter, each compared with PyTorch."""

from collections import OrderedDict

import numpy as np
import pytest

import gradfit


def _torch():
    import torch  # parity tests fail, not skip, without torch

    return torch


def test_ntuple_helpers_match_torch():
    _torch()
    from torch.nn.modules import utils as tu

    from gradfit.nn.modules import utils as gu
    from gradfit.nn.modules.utils import _pair, _quadruple, _single, _triple  # noqa: F401

    for name in ("_single", "_pair", "_triple", "_quadruple"):
        for value in (3, 2.5, (1, 2), [4, 5, 6], None, "ab"):
            assert getattr(gu, name)(value) == getattr(tu, name)(value), (name, value)
    for n in (0, 1, 5):
        assert gu._ntuple(n)(7) == tu._ntuple(n)(7)
    assert gu._reverse_repeat_tuple((1, 2, 3), 2) == tu._reverse_repeat_tuple((1, 2, 3), 2)
    assert gu._list_with_default([None, 4], [8, 9, 10]) == tu._list_with_default(
        [None, 4], [8, 9, 10]
    )
    assert gu._list_with_default(5, [1]) == tu._list_with_default(5, [1])
    with pytest.raises(ValueError, match="Input dimension should be at least 3"):
        gu._list_with_default([1, 2], [3, 4])
    with pytest.raises(TypeError, match="non-negative int"):
        gu._ntuple(-1)


def test_consume_prefix_matches_torch():
    torch = _torch()
    from gradfit.nn.modules.utils import consume_prefix_in_state_dict_if_present as gf_consume

    def state(lib):
        sd = OrderedDict(
            [
                ("module.fc.weight", lib.ones(2)),
                ("module.fc.bias", lib.zeros(2)),
                ("x", lib.ones(1)),
            ]
        )
        sd._metadata = OrderedDict([("", {}), ("module", {"v": 1}), ("module.fc", {"v": 1})])
        return sd

    want, got = state(torch), state(gradfit)
    torch.nn.modules.utils.consume_prefix_in_state_dict_if_present(want, "module.")
    gf_consume(got, "module.")
    assert list(got) == list(want)
    assert list(got._metadata) == list(want._metadata)


def test_common_types_names_match_torch():
    torch = _torch()
    from gradfit.nn import common_types
    from gradfit.nn.common_types import _size_2_t  # noqa: F401

    def aliases(module):
        return {n for n in vars(module) if n.startswith(("_size", "_ratio", "_scalar", "_tensor"))}

    assert aliases(common_types) == aliases(torch.nn.common_types)
    assert (3,) != common_types._size_2_t  # an alias, usable in annotations
    assert str(common_types._size_2_t).replace("torch", "gradfit") == str(
        torch.nn.common_types._size_2_t
    ).replace("torch", "gradfit")


def _lazy_program(lib):
    from importlib import import_module

    nn = lib.nn
    lazy = import_module(f"{lib.__name__}.nn.modules.lazy")
    parameter = import_module(f"{lib.__name__}.nn.parameter")

    class LazyScale(lazy.LazyModuleMixin, nn.Module):
        def __init__(self, out):
            super().__init__()
            self.out = out
            self.weight = parameter.UninitializedParameter()

        def initialize_parameters(self, x, shift=0.0):
            if self.has_uninitialized_params():
                with lib.no_grad():
                    self.weight.materialize((self.out, x.shape[-1]))
                    self.weight.copy_(lib.arange(self.out * x.shape[-1]).reshape(self.out, -1))

        def forward(self, x, shift=0.0):
            return x @ self.weight.T + shift

    class Broken(lazy.LazyModuleMixin, nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = parameter.UninitializedParameter()

        def initialize_parameters(self, x):
            pass

    m = LazyScale(2)
    before = (m.has_uninitialized_params(), parameter.is_lazy(m.weight), repr(m.weight))
    y = m(lib.ones(3, 4), shift=1.0)
    after = (m.has_uninitialized_params(), type(m.weight).__name__, hasattr(m, "_initialize_hook"))
    with pytest.raises(RuntimeError) as info:
        Broken()(lib.ones(2))
    flags = (
        isinstance(nn.LazyLinear(3), lazy.LazyModuleMixin),
        isinstance(nn.Linear(2, 3), lazy.LazyModuleMixin),
        parameter.UninitializedBuffer is nn.UninitializedBuffer,
    )
    return before, y.tolist(), after, str(info.value), flags


def test_lazy_module_mixin_matches_torch():
    got = _lazy_program(gradfit)
    want = _lazy_program(_torch())
    assert got == want
    np.testing.assert_array_equal(got[1], want[1])
