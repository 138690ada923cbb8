"""Datasets and random_split against PyTorch and its documented examples."""

import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import gradfit
import gradfit.utils.data as gdata


def _split(lib, data, n, lengths, seed, use_generator):
    lib.manual_seed(seed)
    kw = {"generator": lib.Generator().manual_seed(seed)} if use_generator else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = data.random_split(range(n), lengths, **kw)
    return [list(p) for p in parts], lib.randperm(5).tolist()


def test_random_split_reference_example():
    gradfit.manual_seed(42)
    parts = gdata.random_split(range(10), [0.5, 0.3, 0.2])
    assert [list(p) for p in parts] == [[2, 6, 1, 8, 4], [5, 0, 9], [3, 7]]
    assert all(isinstance(p, gdata.Subset) for p in parts)


def test_random_split_fractions_round_robin():
    parts = gdata.random_split(range(10), [1 / 3] * 3)
    assert [len(p) for p in parts] == [4, 3, 3]
    parts = gdata.random_split(range(11), [0.25] * 4)
    assert [len(p) for p in parts] == [3, 3, 3, 2]
    assert sorted(i for p in parts for i in p) == list(range(11))


@pytest.mark.parametrize("seed", [0, 1, 42, 123])
@pytest.mark.parametrize("use_generator", [False, True])
@pytest.mark.parametrize(
    "n,lengths",
    [
        (10, [0.5, 0.3, 0.2]),
        (10, [1 / 3] * 3),
        (37, [0.7, 0.2, 0.1]),
        (20, [15, 5]),
        (8, [0, 8]),
        (3, [0.5, 0.5]),
    ],
)
def test_random_split_equals_torch(seed, use_generator, n, lengths):
    got = _split(gradfit, gdata, n, lengths, seed, use_generator)
    assert got == _split(torch, tdata, n, lengths, seed, use_generator)


def test_random_split_errors_and_warning():
    with pytest.raises(ValueError, match=r"sum of input lengths \[3, 3\] is 6.*10"):
        gdata.random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match=r"fraction at index 0 is 1.2, not in \[0, 1\]"):
        gdata.random_split(range(10), [1.2, -0.2])
    with pytest.warns(UserWarning, match="Length of split at index 2 is 0"):
        gdata.random_split(range(2), [0.5, 0.5, 0.0])


def test_tensor_dataset_subset_concat():
    x = gradfit.arange(12).reshape(6, 2)
    y = gradfit.arange(6) * 10
    ds = gdata.TensorDataset(x, y)
    assert len(ds) == 6
    xi, yi = ds[4]
    assert xi.tolist() == [8, 9] and yi.item() == 40
    with pytest.raises(AssertionError, match=r"\[6, 5\]"):
        gdata.TensorDataset(x, gradfit.zeros(5))
    sub = gdata.Subset(ds, [5, 0, 2])
    assert len(sub) == 3 and sub[0][1].item() == 50
    assert [s[1].item() for s in sub.__getitems__([2, 1])] == [20, 0]
    cat = ds + gdata.Subset(ds, [1])
    assert isinstance(cat, gdata.ConcatDataset) and len(cat) == 7
    assert cat[6][1].item() == 10 and cat[-1][1].item() == 10 and cat[5][1].item() == 50
    with pytest.raises(NotImplementedError, match="__getitem__"):
        gdata.Dataset()[0]


def test_loader_over_custom_dataset_with_getitems():
    class Squares(gdata.Dataset):
        calls = []

        def __getitem__(self, i):
            return float(i * i)

        def __getitems__(self, idx):
            self.calls.append(list(idx))
            return [float(i * i) for i in idx]

        def __len__(self):
            return 5

    batches = list(gdata.DataLoader(Squares(), batch_size=2))
    assert Squares.calls == [[0, 1], [2, 3], [4]]
    assert batches[1].dtype == np.float64 and batches[1].tolist() == [4.0, 9.0]
