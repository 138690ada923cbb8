"""default_collate / default_convert against PyTorch's, structure, dtypes and values."""

import types
from collections import OrderedDict, deque, namedtuple
from collections.abc import Mapping

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import gradfit
import gradfit.utils.data as gdata

Point = namedtuple("Point", ["x", "y"])


def _plain(obj):
    """A comparable description: containers by type, tensors as (dtype, shape, values)."""
    if isinstance(obj, torch.Tensor | gradfit.Tensor):
        arr = np.asarray(obj.detach().numpy() if isinstance(obj, torch.Tensor) else obj.numpy())
        return ("tensor", str(arr.dtype), arr.shape, arr.tolist())
    if isinstance(obj, dict):
        return ("dict", {k: _plain(v) for k, v in obj.items()})
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return ("namedtuple", type(obj).__name__, [_plain(v) for v in obj])
    if isinstance(obj, list | tuple):
        return (type(obj).__name__, [_plain(v) for v in obj])
    return ("value", type(obj).__name__, obj)


def _both(make_batch, fn="default_collate"):
    """make_batch(lib) builds the same batch with each library's tensors."""
    got = getattr(gdata, fn)(make_batch(gradfit))
    want = getattr(tdata, fn)(make_batch(torch))
    return _plain(got), _plain(want)


BATCHES = {
    "tensor_pairs": lambda tl: [
        (tl.tensor([1.0, 2.0]), tl.tensor(3)),
        (tl.tensor([4.0, 5.0]), tl.tensor(6)),
    ],
    "floats": lambda tl: [1.5, 2.5, -3.0],
    "ints": lambda tl: [1, 2, 3],
    "bools": lambda tl: [True, False],
    "strings": lambda tl: ["a", "b"],
    "numpy_arrays": lambda tl: [np.arange(3, dtype=np.int32), np.ones(3, dtype=np.int32)],
    "numpy_f32": lambda tl: [np.full((2, 2), 0.5, np.float32)] * 3,
    "numpy_scalars": lambda tl: [np.float32(1.5), np.float32(2.0)],
    "dicts": lambda tl: [
        {"a": 1, "b": np.zeros(2), "c": tl.ones(2, dtype=tl.float64)},
        {"a": 2, "b": np.ones(2), "c": tl.zeros(2, dtype=tl.float64)},
    ],
    "namedtuples": lambda tl: [Point(1.0, 2), Point(3.0, 4)],
    "lists": lambda tl: [[1, 2.0], [3, 4.0]],
    "nested": lambda tl: [({"k": (1, 2.0)}, [tl.zeros(1)]), ({"k": (3, 4.0)}, [tl.ones(1)])],
}


@pytest.mark.parametrize("name", sorted(BATCHES))
def test_default_collate_equals_torch(name):
    got, want = _both(BATCHES[name])
    assert got == want


def test_tensor_dataset_batch_is_a_list_of_stacks_with_dtype_kept():
    x = gradfit.arange(6, dtype=gradfit.float32).reshape(3, 2)
    batch = gdata.default_collate([(x[0], x[2]), (x[1], x[0])])
    assert isinstance(batch, list) and len(batch) == 2
    assert batch[0].dtype == np.float32 and batch[0].tolist() == [[0, 1], [2, 3]]
    assert batch[1].tolist() == [[4, 5], [0, 1]]


@pytest.mark.parametrize(
    "name", ["tensor_pairs", "numpy_arrays", "dicts", "namedtuples", "strings", "floats"]
)
def test_default_convert_equals_torch(name):
    got, want = _both(lambda tl: BATCHES[name](tl)[0], fn="default_convert")
    assert got == want


def test_default_collate_errors():
    with pytest.raises(TypeError, match="default_collate: batch must contain.*object"):
        gdata.default_collate([object(), object()])
    with pytest.raises(RuntimeError, match="equal size.*\\[2, 1\\]"):
        gdata.default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        gdata.default_collate([gradfit.zeros(2), gradfit.zeros(3)])
    with pytest.raises(TypeError, match="default_collate"):
        gdata.default_collate([np.array(["a"]), np.array(["b"])])


class _KeywordMapping(Mapping):
    """A read-only mapping that cannot be built from a dict (collate falls back to one)."""

    def __init__(self, *, a, b):
        self._d = {"a": a, "b": b}

    def __getitem__(self, key):
        return self._d[key]

    def __iter__(self):
        return iter(self._d)

    def __len__(self):
        return len(self._d)


CONTAINERS = {
    "OrderedDict": lambda: OrderedDict(a=1, b=np.float32(2)),
    "mappingproxy": lambda: types.MappingProxyType({"a": 1, "b": 2.0}),
    "keyword_mapping": lambda: _KeywordMapping(a=1, b=2.0),
    "deque": lambda: deque([1, np.zeros(2)]),
    "range": lambda: range(3),
}


def _typed(obj):
    """Like ``_plain``, with each container's own type kept."""
    if isinstance(obj, Mapping):
        return (type(obj).__name__, {k: _typed(v) for k, v in obj.items()})
    if isinstance(obj, list | tuple | deque):
        return (type(obj).__name__, [_typed(v) for v in obj])
    return _plain(obj)


@pytest.mark.parametrize("name", sorted(CONTAINERS))
@pytest.mark.parametrize("fn", ["default_collate", "default_convert"])
def test_containers_keep_their_type_as_in_torch(name, fn):
    make = CONTAINERS[name]
    batch = [make(), make()] if fn == "default_collate" else make()
    want = _typed(getattr(tdata, fn)(batch))
    assert _typed(getattr(gdata, fn)(batch)) == want


def test_stack_of_unequal_shapes_raises_torchs_message():
    with pytest.raises(RuntimeError) as want:
        torch.stack([torch.zeros(2, 3), torch.zeros(3)])
    for stack in (gradfit.stack, gdata.default_collate):
        with pytest.raises(RuntimeError) as got:
            stack([gradfit.zeros(2, 3), gradfit.zeros(3)])
        assert str(got.value) == str(want.value)
