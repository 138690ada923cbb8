"""Parity with PyTorch for what the "Understanding Deep Learning" notebooks (udlbook,
chapters 8-12 and 20) and the usual answers to their exercises lean on: NumPy scalars as
operands (``torch.randn(n, m) * np.sqrt(2 / m)``), tensors built from lists of NumPy
scalars, NumPy reading a tensor that requires grad, ``cat``/``stack`` of mixed dtypes,
``Dropout2d`` on inputs of other ranks, batch-norm size checks and the legacy
``size_average`` warning. Each expected value comes from PyTorch in the same run."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradfit


def _torch():
    import torch  # the reference must be installed (fail, not skip)

    return torch


def _outcome(lib, fn):
    """(result, None) or (None, (exception type name, message)) of ``fn(lib)``."""
    try:
        return fn(lib), None
    except Exception as e:  # noqa: BLE001 - the error itself is compared
        return None, (type(e).__name__, str(e).replace("torch.", "gradfit."))


def _same(ours, ref) -> None:
    assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    np.testing.assert_array_equal(np.asarray(ours.detach()), ref.detach().numpy())


_S = np.float64(0.5)
_OPERANDS = {
    "t*s": lambda T, t: t * _S,
    "s*t": lambda T, t: _S * t,
    "t+s": lambda T, t: t + _S,
    "s-t": lambda T, t: _S - t,
    "t/s": lambda T, t: t / _S,
    "s/t": lambda T, t: _S / t,
    "t**s": lambda T, t: t.abs() ** _S,
    "int*s": lambda T, t: T.arange(3) * _S,
    "int/np.int64": lambda T, t: T.arange(3) / np.int64(2),
    "t*np.int64": lambda T, t: t * np.int64(2),
    "int+np.float32": lambda T, t: T.arange(3) + np.float32(0.5),
    "torch.add": lambda T, t: T.add(t, _S),
    "torch.mul": lambda T, t: T.mul(t, _S),
    "fmod": lambda T, t: T.fmod(t, _S),
    "lerp": lambda T, t: T.lerp(t, t * 2, _S),
    "leaky_relu": lambda T, t: T.nn.functional.leaky_relu(t, np.float64(0.1)),
    "he init": lambda T, t: T.ones(3) * np.sqrt(2 / 4),
}


@pytest.mark.parametrize("case", sorted(_OPERANDS))
def test_numpy_scalar_operand_is_a_python_number(case):
    torch = _torch()
    x = np.array([0.3, -1.7, 2.2], dtype=np.float32)
    ref = _OPERANDS[case](torch, torch.tensor(x))
    ours = _OPERANDS[case](gradfit, gradfit.tensor(x))
    _same(ours, ref)


def test_numpy_scalar_operand_keeps_the_gradient():
    torch = _torch()
    x = np.array([0.3, -1.7, 2.2], dtype=np.float32)
    grads = []
    for lib in (torch, gradfit):
        t = lib.tensor(x, requires_grad=True)
        (t * np.float64(3.0) + np.float64(1.0)).pow(2).sum().backward()
        grads.append(t.grad)
    _same(grads[1], grads[0])


_LISTS = [
    [np.float64(1.0)],
    [np.float32(1.0)],
    [np.int32(1)],
    [np.uint8(3)],
    [np.float16(1.0)],
    [np.float64(1.0), 2.0],
    [2.0, np.float64(1.0)],
    [np.int32(1), 2],
    [1, np.float32(2.0)],
    [[np.float64(1.0)], [np.float64(2.0)]],
    [np.int32(1), np.float32(2.0)],
    [np.float64(1.0), np.float32(2.0)],
    [np.array([1.0, 2.0]), np.array([3.0, 4.0])],
    [1.5, 2],
    [[1, 2], [3, 4]],
]


@pytest.mark.parametrize("i", range(len(_LISTS)))
def test_tensor_from_a_list_of_numpy_scalars_takes_their_dtype(i):
    torch = _torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch: "a list of numpy.ndarrays is slow"
        _same(gradfit.tensor(_LISTS[i]), torch.tensor(_LISTS[i]))
        _same(gradfit.as_tensor(_LISTS[i]), torch.as_tensor(_LISTS[i]))


def test_numpy_refuses_a_tensor_that_requires_grad():
    torch = _torch()
    x = np.array([0.3, -1.7, 2.2], dtype=np.float32)
    for fn in (lambda t: np.percentile(t.abs(), 40), lambda t: np.asarray(t)):
        _, ref = _outcome(torch, lambda T, fn=fn: fn(T.tensor(x, requires_grad=True)))
        _, ours = _outcome(gradfit, lambda T, fn=fn: fn(T.tensor(x, requires_grad=True)))
        assert ref is not None and ours == ref
    # detached, NumPy reads the values
    got = np.percentile(gradfit.tensor(x, requires_grad=True).detach().abs(), 40)
    assert got == np.percentile(torch.tensor(x).abs(), 40)


_CATS = [
    ((1, 3), (2, 1), 1),
    ((1, 3), (2, 1), 0),
    ((2, 3), (2, 3, 1), 1),
    ((2, 3), (2, 3), 2),
    ((2, 3), (2, 3), -3),
    ((2, 3), (0,), 0),
    ((0,), (2, 3), 0),
    ((2, 3), (2, 2), -1),
]


@pytest.mark.parametrize("a, b, dim", _CATS)
def test_cat_shapes_and_errors(a, b, dim):
    torch = _torch()

    def fn(T):
        return T.cat((T.zeros(*a), T.ones(*b)), dim=dim)

    ref, ref_err = _outcome(torch, fn)
    ours, our_err = _outcome(gradfit, fn)
    assert our_err == ref_err
    if ref is not None:
        _same(ours, ref)


@pytest.mark.parametrize(
    "da, db",
    [("int64", "float32"), ("int32", "uint8"), ("bool", "uint8"), ("float16", "int64"),
     ("float64", "float32")],
)  # fmt: skip
def test_cat_and_stack_promote_as_pytorch(da, db):
    torch = _torch()
    for op in ("cat", "stack"):
        outs = []
        for lib in (torch, gradfit):
            a = lib.arange(3).to(getattr(lib, da))
            b = lib.ones(3, dtype=getattr(lib, db))
            outs.append(getattr(lib, op)((a, b)))
        _same(outs[1], outs[0])
    # the gradient flows back through the cast
    grads = []
    for lib in (torch, gradfit):
        x = lib.ones(2, requires_grad=True)
        lib.cat((x, lib.arange(2))).mul(lib.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
        grads.append(x.grad)
    _same(grads[1], grads[0])
    _, ref = _outcome(torch, lambda T: T.cat((T.tensor(1.0), T.tensor(2.0))))
    assert _outcome(gradfit, lambda T: T.cat((T.tensor(1.0), T.tensor(2.0))))[1] == ref


@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 4), (2, 3, 2, 2), (1, 2, 3, 2, 2), (5,)])
@pytest.mark.parametrize("fn", ["dropout1d", "dropout2d", "dropout3d"])
def test_channel_dropout_on_any_rank(shape, fn):
    torch = _torch()
    results = []
    for lib in (torch, gradfit):
        lib.manual_seed(3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out, err = _outcome(lib, lambda T: getattr(T.nn.functional, fn)(T.ones(*shape), 0.5))
        words = [str(w.message) for w in caught]
        results.append((None if out is None else out.reshape(-1).tolist(), err, words))
    assert results[1] == results[0]


def test_dropout2d_module_on_a_batch_of_vectors():
    torch = _torch()
    outs = []
    for lib in (torch, gradfit):
        lib.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outs.append((lib.nn.Dropout2d(0.3)(lib.ones(3, 5)), lib.rand(2)))
    _same(outs[1][0], outs[0][0])
    _same(outs[1][1], outs[0][1])  # the same random numbers were used


_NORMS = {
    "no running stats": lambda T: T.nn.BatchNorm1d(100, track_running_stats=False)(T.ones(4, 15)),
    "eval": lambda T: T.nn.BatchNorm1d(100).eval()(T.ones(4, 15)),
    "train": lambda T: T.nn.BatchNorm1d(100)(T.ones(4, 15)),
    "2d": lambda T: T.nn.BatchNorm2d(3)(T.ones(2, 4, 5, 5)),
    "one value": lambda T: T.nn.BatchNorm1d(3)(T.ones(1, 3)),
    "one value 3d": lambda T: T.nn.BatchNorm1d(3)(T.ones(1, 3, 1)),
    "F weight": lambda T: T.nn.functional.batch_norm(
        T.ones(4, 15), None, None, weight=T.ones(100), training=True
    ),
    "F bias": lambda T: T.nn.functional.batch_norm(
        T.ones(4, 15), None, None, bias=T.ones(100), training=True
    ),
    "F running_var": lambda T: T.nn.functional.batch_norm(T.ones(4, 15), T.zeros(15), T.ones(9)),
    "instance norm": lambda T: T.nn.InstanceNorm1d(3)(T.ones(2, 3, 1)),
}


@pytest.mark.parametrize("case", sorted(_NORMS))
def test_batch_norm_errors(case):
    torch = _torch()
    ref = _outcome(torch, _NORMS[case])[1]
    assert ref is not None
    assert _outcome(gradfit, _NORMS[case])[1] == ref


@pytest.mark.parametrize(
    "kwargs", [{"size_average": False}, {"reduce": False}, {"size_average": True, "reduce": True}]
)
def test_legacy_reduction_warning_names_the_reduction(kwargs):
    torch = _torch()
    words, values = [], []
    for lib in (torch, gradfit):
        logp = lib.log_softmax(lib.tensor([[0.1, 0.2, 0.7], [1.0, -1.0, 0.0]]), 1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            values.append(lib.nn.functional.nll_loss(logp, lib.tensor([2, 0]), **kwargs))
        words.append([str(w.message) for w in caught])
    assert words[1] == words[0]
    # log_softmax's float32 rounding may differ in the last bit (README); the reduction
    # chosen is what is checked here
    assert values[1].shape == values[0].shape
    np.testing.assert_allclose(values[1].numpy(), values[0].numpy(), rtol=1e-6)


_INDEXES = [
    (0,), (slice(0, 2),), (0, slice(0, 3)), (slice(0, 2), 0), (slice(None), 0),
    (0, slice(None)), (slice(None),), (Ellipsis,), (None,), (0, None), (None, 0), (Ellipsis, 0),
    (Ellipsis, slice(0, 2)), (0, Ellipsis, slice(1, None)), (slice(None), slice(1, None), 0),
    (slice(0, 10),), (0, slice(0, 10)), (slice(None), None), (0, slice(None), None),
    (slice(1, None), None, 0), (-1,),
]  # fmt: skip


@pytest.mark.parametrize("index", _INDEXES, ids=repr)
def test_basic_indexing_names_the_last_view(index):
    """``x[0, :3]`` ends in a slice (SliceBackward0), ``x[0, :]`` in a select, ``x[:, None]``
    in an unsqueeze: the grad_fn a student prints is PyTorch's."""
    torch = _torch()
    names = []
    for lib in (torch, gradfit):
        a = lib.zeros(3, 4, 5, requires_grad=True)
        out = a[index if len(index) > 1 else index[0]]
        names.append((out.grad_fn.name(), tuple(out.shape)))
    assert names[1] == names[0]
