"""gradfit's dtypes behave as PyTorch's: singletons that print ``gradfit.<name>`` where
PyTorch prints ``torch.<name>``, with PyTorch's attributes, and still pass to NumPy."""

from __future__ import annotations

import copy
import pickle
import re
import warnings

import numpy as np
import pytest

import gradfit
from tests.compat._normalise import as_gradfit

NAMES = [
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
    "complex64", "complex128", "uint16", "uint32", "uint64", "bfloat16",
    # aliases
    "float", "double", "half", "long", "int", "short", "cfloat", "cdouble",
]  # fmt: skip
TENSOR_NAMES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                "bool", "uint16", "uint32", "uint64"]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_dtype_prints_and_reports_as_pytorch(name):
    import torch

    t, g = getattr(torch, name), getattr(gradfit, name)
    assert str(g) == as_gradfit(str(t))
    assert repr(g) == as_gradfit(repr(t))
    assert f"{g}|{[g]}|{(g,)}|{ {g: 1} }" == as_gradfit(f"{t}|{[t]}|{(t,)}|{ {t: 1} }")
    for attr in ("is_floating_point", "is_complex", "is_signed", "itemsize"):
        assert getattr(g, attr) == getattr(t, attr), attr
    assert str(g.to_real()) == as_gradfit(str(t.to_real()))
    if t.is_floating_point and t.itemsize >= 4 or t.is_complex:
        assert str(g.to_complex()) == as_gradfit(str(t.to_complex()))
    assert isinstance(g, gradfit.dtype)


@pytest.mark.parametrize("name", TENSOR_NAMES)
def test_tensor_dtype_is_the_singleton_and_prints_as_pytorch(name):
    import torch

    g = getattr(gradfit, name)
    x = gradfit.zeros(2, 3, dtype=g)
    tx = torch.zeros(2, 3, dtype=getattr(torch, name))
    assert x.dtype is g
    assert f"{x.dtype} {x.dtype!r} {[x.dtype, x.shape]}" == as_gradfit(
        f"{tx.dtype} {tx.dtype!r} {[tx.dtype, tx.shape]}"
    )
    assert repr(x) == as_gradfit(repr(tx))
    # dtypes made by NumPy (from_numpy, results of ops) are the same singletons
    assert gradfit.from_numpy(np.zeros(2, dtype=np.dtype(g))).dtype is g
    assert x.to(gradfit.float64).to(g).dtype is g


def test_dtypes_are_read_only():
    with pytest.raises(AttributeError, match="read-only"):
        gradfit.float32.is_floating_point = False
    assert gradfit.float32.is_floating_point


def test_aliases_are_the_same_objects():
    assert gradfit.float is gradfit.float32 and gradfit.double is gradfit.float64
    assert gradfit.half is gradfit.float16 and gradfit.long is gradfit.int64
    assert gradfit.int is gradfit.int32 and gradfit.short is gradfit.int16
    assert gradfit.bool is gradfit.bool_
    assert gradfit.ones(1).dtype is gradfit.get_default_dtype() is gradfit.float32


def test_equality_and_hashing():
    f32 = gradfit.float32
    assert f32 == gradfit.float and f32 != gradfit.float64 and f32 != gradfit.int32
    assert len({gradfit.float32, gradfit.float, gradfit.ones(1).dtype, gradfit.float64}) == 2
    assert {gradfit.float32: "a"}[gradfit.tensor([1.0]).dtype] == "a"
    # NumPy's spellings of the same dtype compare equal, both ways, and find dict entries
    assert f32 == np.float32 and np.float32 == f32
    assert f32 == np.dtype("float32") and np.dtype("float32") == f32
    assert f32 != np.float64 and np.dtype("float64") != f32
    assert {np.dtype("float32"): 1}[f32] == 1
    # what PyTorch's dtypes are not equal to
    assert f32 != "float32" and f32 != None and f32 != float  # noqa: E711, E721


def test_pickle_and_copy_keep_identity():
    for name in NAMES:
        g = getattr(gradfit, name)
        assert pickle.loads(pickle.dumps(g)) is g
        assert copy.copy(g) is g and copy.deepcopy([g])[0] is g
    back = pickle.loads(pickle.dumps({"x": gradfit.ones(2, dtype=gradfit.int16)}))
    assert back["x"].dtype is gradfit.int16


def test_numpy_accepts_gradfit_dtypes_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in TENSOR_NAMES:
            g = getattr(gradfit, name)
            want = np.dtype(name if name != "bool" else "bool")
            assert np.dtype(g) == want
            assert np.zeros(3, dtype=g).dtype == want
            assert np.arange(3).astype(g).dtype == want
            assert np.asarray([1, 0], dtype=g).dtype == want
        assert np.finfo(gradfit.float16).eps == np.finfo(np.float16).eps
        assert np.iinfo(gradfit.int8).min == -128


def test_dtype_arguments_in_every_spelling():
    for arg in (gradfit.float64, np.float64, np.dtype("float64"), "float64", "torch.float64",
                "gradfit.double"):  # fmt: skip
        assert gradfit.zeros(1, dtype=arg).dtype is gradfit.float64
    assert gradfit.zeros(1, dtype=int).dtype is gradfit.int64
    assert gradfit.zeros(1, dtype=bool).dtype is gradfit.bool


def test_default_dtype_round_trip():
    try:
        gradfit.set_default_dtype(gradfit.float64)
        assert gradfit.get_default_dtype() is gradfit.float64
        assert gradfit.tensor([1.0]).dtype is gradfit.float64
    finally:
        gradfit.set_default_dtype(gradfit.float32)
    with pytest.raises(TypeError, match="gradfit.int64"):
        gradfit.set_default_dtype(gradfit.int64)


def test_dtype_of_a_numpy_dtype_gradfit_has_no_name_for():
    big = gradfit.from_numpy(np.zeros(2, dtype=">f4"))
    assert big.dtype is gradfit.float32
    odd = gradfit.from_numpy(np.zeros(2, dtype=np.longdouble))
    assert str(odd.dtype) == f"gradfit.{np.dtype(np.longdouble).name}"
    assert odd.dtype is odd.clone().dtype
    assert pickle.loads(pickle.dumps(odd.dtype)) is odd.dtype


@pytest.mark.parametrize(
    "name", ["float16", "float32", "float64", "complex64", "complex128", "bfloat16"]
)
def test_finfo_as_pytorch(name):
    import torch

    g, t = gradfit.finfo(getattr(gradfit, name)), torch.finfo(getattr(torch, name))
    assert repr(g) == repr(t) and str(g) == str(t)
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(g, attr) == getattr(t, attr), attr
        assert type(getattr(g, attr)) is type(getattr(t, attr)), attr
    assert gradfit.finfo(gradfit.ones(1).dtype) == gradfit.finfo() == gradfit.finfo(np.float32)


@pytest.mark.parametrize(
    "name", ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
)
def test_iinfo_as_pytorch(name):
    import torch

    g, t = gradfit.iinfo(getattr(gradfit, name)), torch.iinfo(getattr(torch, name))
    assert repr(g) == repr(t)
    for attr in ("bits", "min", "max", "dtype"):
        assert getattr(g, attr) == getattr(t, attr) and type(getattr(g, attr)) is type(
            getattr(t, attr)
        ), attr


def test_finfo_iinfo_refuse_the_other_kind():
    with pytest.raises(TypeError, match="floating point input type, got gradfit.int32"):
        gradfit.finfo(gradfit.int32)
    with pytest.raises(TypeError, match="integer input type, got gradfit.float32"):
        gradfit.iinfo(gradfit.float32)
    with pytest.raises(TypeError, match="gradfit.bool is not supported"):
        gradfit.iinfo(gradfit.bool)


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "ByteTensor",
                                  "BoolTensor"])  # fmt: skip
def test_legacy_tensor_types_carry_the_dtype_singletons(name):
    import torch

    cls = getattr(gradfit, name)
    assert str(cls.dtype) == as_gradfit(str(getattr(torch, name).dtype))
    assert cls([1]).dtype is cls.dtype and isinstance(cls([1]), cls)


PROMOTION_CASES = [
    ("float32", (3,), "float64", ()),  # a 0-d tensor of the same category is weak
    ("float64", (), "float32", (3,)),
    ("int32", (3,), "int64", ()),
    ("float16", (2,), "float32", ()),
    ("int64", (3,), "float64", ()),  # a higher category counts: float64
    ("int32", (3,), "float32", ()),
    ("bool", (3,), "int64", ()),
    ("uint8", (3,), "int8", (3,)),  # both dimensioned: the usual table
    ("float32", (), "float64", ()),
    ("int16", (2,), "float16", (2,)),
]


@pytest.mark.parametrize("da,sa,db,sb", PROMOTION_CASES)
def test_binary_ops_promote_0d_tensors_as_torch(da, sa, db, sb):
    import torch

    dtypes = []
    for lib in (gradfit, torch):
        a = lib.ones(sa, dtype=getattr(lib, da))
        b = lib.ones(sb, dtype=getattr(lib, db))
        outs = [a + b, b * a, lib.maximum(a, b), lib.where(lib.ones(sa) > 0, a, b)]
        dtypes.append([str(o.dtype).split(".")[1] for o in outs])
    assert dtypes[0] == dtypes[1]


def test_a_0d_float64_factor_keeps_a_float32_gradient_path():
    w = gradfit.ones(3, requires_grad=True)
    s = gradfit.tensor(2.0, dtype=gradfit.float64, requires_grad=True)
    y = w * s
    assert y.dtype == gradfit.float32
    y.sum().backward()
    assert w.grad.dtype == gradfit.float32 and s.grad.dtype == gradfit.float64
    assert s.grad.item() == 3.0


def test_bfloat16_is_named_but_no_tensor_holds_it():
    # Programs name it (nanoGPT's dtype table, autocast's CPU default); making a tensor of
    # it is refused in one line, before anything is computed.
    table = {"float32": gradfit.float32, "bfloat16": gradfit.bfloat16}
    assert table["bfloat16"] is gradfit.bfloat16 and gradfit.bfloat16 != gradfit.float16
    message = "gradfit tensors cannot hold gradfit.bfloat16: NumPy has no bfloat16 type"
    for make in (
        lambda: gradfit.zeros(2, dtype=gradfit.bfloat16),
        lambda: gradfit.ones(2).to(gradfit.bfloat16),
        lambda: gradfit.tensor([1.0], dtype="bfloat16"),
        lambda: gradfit.nn.Linear(2, 2).to(gradfit.bfloat16),
    ):
        with pytest.raises(TypeError, match=message):
            make()
    assert gradfit.get_autocast_dtype("cpu") is gradfit.bfloat16


@pytest.mark.parametrize("name", ["uint16", "uint32", "uint64"])
def test_shell_unsigned_types_as_pytorch(name):
    import torch

    g, t = getattr(gradfit, name), getattr(torch, name)
    x, tx = gradfit.tensor([1, 2, 60000], dtype=g), torch.tensor([1, 2, 60000], dtype=t)
    assert x.type() == tx.type()
    for f in (
        lambda a: a.sum(),
        lambda a: a * 2,
        lambda a: a.float() / 65535,
        lambda a: a == 2,
        lambda a: a.to(a.new_ones(1).long().dtype),
        lambda a: a[1:],
        lambda a: a.sort().values,
        lambda a: a.cumsum(0),
    ):
        assert repr(f(x)) == as_gradfit(repr(f(tx)))
    assert x.numpy().dtype == tx.numpy().dtype
    # no promotion with another integer type, in PyTorch's words
    for other in ("int32", "uint8", "bool"):
        with pytest.raises(RuntimeError) as caught:
            tx + torch.ones(1, dtype=getattr(torch, other))
        with pytest.raises(RuntimeError, match=re.escape(str(caught.value))):
            x + gradfit.ones(1, dtype=getattr(gradfit, other))


def test_autocast_state_functions_as_pytorch():
    import torch

    for lib in (torch, gradfit):
        before = lib.get_autocast_dtype("cuda")
        lib.set_autocast_dtype("cuda", lib.float32)
        assert lib.get_autocast_dtype("cuda") is lib.float32
        lib.set_autocast_dtype("cuda", before)
        start = lib.autocast_increment_nesting()
        assert lib.autocast_decrement_nesting() == start - 1
        assert lib.is_autocast_cache_enabled() is True
        with pytest.warns(DeprecationWarning, match=r"get_autocast_dtype\('cpu'\)"):
            assert lib.get_autocast_cpu_dtype() is lib.bfloat16
        lib.clear_autocast_cache()
    # enabling CPU autocast by hand is refused as the context manager refuses it
    with pytest.raises(RuntimeError, match="cannot give PyTorch's numbers"):
        gradfit.set_autocast_enabled("cpu", True)
    assert not gradfit.is_autocast_enabled("cpu")
