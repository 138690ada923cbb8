"""WeightedRandomSampler, DistributedSampler, ChainDataset and StackDataset against PyTorch:
the same indices for the same seed, lengths, items, and the same errors."""

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import gradfit
import gradfit.utils.data as gdata

LIBS = {"torch": (torch, tdata), "gradfit": (gradfit, gdata)}
WEIGHTS = [0.1, 0.9, 0.4, 0.7, 3.0, 0.0, 1.2]


def _weighted(lib, seed, use_generator, **kw):
    tl, data = LIBS[lib]
    tl.manual_seed(seed)
    g = tl.Generator().manual_seed(seed + 5) if use_generator else None
    sampler = data.WeightedRandomSampler(WEIGHTS, generator=g, **kw)
    out = [list(sampler) for _ in range(3)]
    out.append(tl.randperm(7).tolist())  # the global stream is left where PyTorch leaves it
    return out, len(sampler)


@pytest.mark.parametrize("seed", [0, 11])
@pytest.mark.parametrize("use_generator", [False, True])
@pytest.mark.parametrize("num_samples,replacement", [(5, True), (40, True), (6, False), (3, False)])
def test_weighted_sampler_draws_torchs_indices(seed, use_generator, num_samples, replacement):
    kw = {"num_samples": num_samples, "replacement": replacement}
    assert _weighted("gradfit", seed, use_generator, **kw) == _weighted(
        "torch", seed, use_generator, **kw
    )


def test_weighted_sampler_in_a_data_loader_gives_torchs_batches():
    batches = {}
    for name, (tl, data) in LIBS.items():
        tl.manual_seed(3)
        ds = data.TensorDataset(tl.arange(7.0))
        sampler = data.WeightedRandomSampler(tl.tensor(WEIGHTS, dtype=tl.float64), 12)
        loader = data.DataLoader(ds, batch_size=5, sampler=sampler)
        batches[name] = [b[0].tolist() for _ in range(2) for b in loader]
    assert batches["gradfit"] == batches["torch"]


@pytest.mark.parametrize(
    "args",
    [
        (WEIGHTS, 0),
        (WEIGHTS, 2.5),
        (WEIGHTS, True),
        (WEIGHTS, 3, 1),
        ([[1.0, 2.0]], 3),
    ],
)
def test_weighted_sampler_errors_match_torch(args):
    errors = []
    for _, data in LIBS.values():
        with pytest.raises(ValueError) as info:
            data.WeightedRandomSampler(*args)
        errors.append(str(info.value))
    assert errors[0] == errors[1]


@pytest.mark.parametrize("n", [10, 11, 3])
@pytest.mark.parametrize("replicas", [1, 3, 4])
@pytest.mark.parametrize("shuffle,drop_last", [(True, False), (True, True), (False, False)])
def test_distributed_sampler_gives_each_rank_torchs_indices(n, replicas, shuffle, drop_last):
    got = {}
    for name, (_, data) in LIBS.items():
        per_rank = []
        for rank in range(replicas):
            s = data.DistributedSampler(
                range(n),
                num_replicas=replicas,
                rank=rank,
                shuffle=shuffle,
                seed=5,
                drop_last=drop_last,
            )
            epochs = []
            for epoch in range(2):
                s.set_epoch(epoch)
                epochs.append(list(s))
            per_rank.append((epochs, len(s), s.total_size))
        got[name] = per_rank
    assert got["gradfit"] == got["torch"]


def test_distributed_sampler_defaults_and_errors():
    s = gdata.DistributedSampler(range(5))  # one process: rank 0 of 1
    assert (s.num_replicas, s.rank, len(s)) == (1, 0, 5)
    assert isinstance(s, gdata.Sampler)
    errors = []
    for _, data in LIBS.values():
        with pytest.raises(ValueError) as info:
            data.DistributedSampler(range(5), num_replicas=2, rank=2)
        errors.append(str(info.value))
    assert errors[0] == errors[1]


class _Stream:
    def __init__(self, data_module, values):
        self.values = values
        self.base = data_module.IterableDataset

    def make(self):
        values = self.values

        class Stream(self.base):
            def __iter__(self):
                return iter(values)

            def __len__(self):
                return len(values)

        return Stream()


def test_chain_dataset_matches_torch():
    seen = {}
    for name, (_, data) in LIBS.items():
        a, b = _Stream(data, [1, 2, 3]).make(), _Stream(data, [4, 5]).make()
        chain = data.ChainDataset([a, b])
        summed = a + b
        loader = data.DataLoader(chain, batch_size=2)
        facts = [list(chain), len(chain), type(summed).__name__, list(summed)]
        facts.append([x.tolist() for x in loader])
        with pytest.raises(AssertionError) as info:
            list(data.ChainDataset([a, [7]]))
        facts.append(str(info.value))
        seen[name] = facts
    assert seen["gradfit"] == seen["torch"]


def test_stack_dataset_matches_torch():
    seen = {}
    for name, (tl, data) in LIBS.items():
        x = tl.arange(12.0).reshape(6, 2)
        y = tl.arange(6)
        tup = data.StackDataset(data.TensorDataset(x), y)
        dct = data.StackDataset(image=x, label=data.Subset(data.TensorDataset(y), list(range(6))))
        facts = [
            len(tup),
            str(tup[2]),
            str(dct[4]),
            str(tup.__getitems__([0, 5])),
            str(dct.__getitems__([1, 3])),
        ]
        loader = data.DataLoader(dct, batch_size=4)
        facts.append([{k: str(v) for k, v in b.items()} for b in loader])
        for bad in ((x, y[:3]), ()):
            with pytest.raises(ValueError) as info:
                data.StackDataset(*bad)
            facts.append(str(info.value))
        with pytest.raises(ValueError) as info:
            data.StackDataset(x, label=y)
        facts.append(str(info.value))
        seen[name] = [f.replace("gradfit", "torch") if isinstance(f, str) else f for f in facts]
    assert seen["gradfit"] == seen["torch"]


def test_weights_are_float64_like_torch():
    s = gdata.WeightedRandomSampler(np.array([1, 2, 3]), 4)
    assert s.weights.dtype == gradfit.float64
