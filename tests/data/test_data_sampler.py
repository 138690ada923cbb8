"""Samplers against PyTorch: the same indices for the same seed, lengths, argument checks."""

import pytest
import torch
import torch.utils.data as tdata

import gradfit
import gradfit.utils.data as gdata

LIBS = {"torch": (torch, tdata), "gradfit": (gradfit, gdata)}


def _draws(lib, make_sampler, seed, epochs=3, use_generator=False):
    tl, data = LIBS[lib]
    tl.manual_seed(seed)
    g = tl.Generator().manual_seed(seed + 7) if use_generator else None
    sampler = make_sampler(data, g)
    out = [list(sampler) for _ in range(epochs)]
    out.append(tl.randperm(9).tolist())
    if use_generator:
        out.append(tl.randperm(9, generator=g).tolist())
    return out


@pytest.mark.parametrize("seed", [0, 3, 42])
@pytest.mark.parametrize("use_generator", [False, True])
@pytest.mark.parametrize(
    "n,replacement,num_samples",
    [
        (10, False, None),
        (10, False, 25),
        (10, False, 4),
        (7, True, None),
        (7, True, 70),
        (5, True, 32),
        (1, False, None),
    ],
)
def test_random_sampler_equals_torch(seed, use_generator, n, replacement, num_samples):
    def make(data, g):
        return data.RandomSampler(
            range(n), replacement=replacement, num_samples=num_samples, generator=g
        )

    got = _draws("gradfit", make, seed, use_generator=use_generator)
    assert got == _draws("torch", make, seed, use_generator=use_generator)
    k = num_samples or n
    assert all(len(epoch) == k for epoch in got[:3])
    if not replacement and k == n:
        assert all(sorted(epoch) == list(range(n)) for epoch in got[:3])


@pytest.mark.parametrize("use_generator", [False, True])
def test_subset_random_sampler_equals_torch(use_generator):
    def make(data, g):
        return data.SubsetRandomSampler([10, 20, 30, 40, 50, 60], generator=g)

    got = _draws("gradfit", make, 1, use_generator=use_generator)
    assert got == _draws("torch", make, 1, use_generator=use_generator)
    assert sorted(got[0]) == [10, 20, 30, 40, 50, 60]


def test_sequential_and_batch_sampler():
    assert list(gdata.SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert len(gdata.SequentialSampler(range(4))) == 4
    bs = gdata.BatchSampler(gdata.SequentialSampler(range(10)), batch_size=3, drop_last=False)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]] and len(bs) == 4
    bs = gdata.BatchSampler(gdata.SequentialSampler(range(10)), batch_size=3, drop_last=True)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and len(bs) == 3
    assert list(gdata.BatchSampler([5, 1, 4], 2, False)) == [[5, 1], [4]]


def test_sampler_argument_errors():
    with pytest.raises(ValueError, match="batch_size should be a positive integer.*-1"):
        gdata.BatchSampler(range(3), -1, False)
    with pytest.raises(ValueError, match="batch_size.*True"):
        gdata.BatchSampler(range(3), True, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean.*1"):
        gdata.BatchSampler(range(3), 2, 1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer.*0"):
        gdata.RandomSampler(range(3), num_samples=0)
    with pytest.raises(ValueError, match="num_samples.*0"):
        gdata.RandomSampler([])
    with pytest.raises(TypeError, match="replacement should be a boolean.*1"):
        gdata.RandomSampler(range(3), replacement=1)


def test_random_sampler_iterators_in_parallel_do_not_share_a_stream():
    for tl, data in LIBS.values():
        tl.manual_seed(2)
        s = data.RandomSampler(range(8))
        a, b = iter(s), iter(s)
        first = [next(a), next(b), next(a), next(b)]
        rest = list(a), list(b)
        if tl is torch:
            want = (first, rest)
        else:
            got = (first, rest)
    assert got == want
