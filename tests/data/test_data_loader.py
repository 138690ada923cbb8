"""DataLoader: epoch coverage, PyTorch's shuffle order and random-stream consumption, argument
rules, len, and the TensorDataset fast path."""

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import gradfit
import gradfit.utils.data as gdata

LIBS = {"torch": (torch, tdata), "gradfit": (gradfit, gdata)}


def _epochs(lib, n, batch_size, *, seed, drop_last=False, use_generator=False, epochs=3):
    """Index batches of several shuffled epochs, interleaved with other draws from the streams
    the loader uses, and the streams' next draws afterwards (which reveal how much was used)."""
    tl, data = LIBS[lib]
    tl.manual_seed(seed)
    g = tl.Generator().manual_seed(seed + 1000) if use_generator else None
    loader = data.DataLoader(
        data.TensorDataset(tl.arange(n)),
        batch_size=batch_size,
        shuffle=True,
        drop_last=drop_last,
        generator=g,
    )
    out = []
    for epoch in range(epochs):
        it = iter(loader)
        # A global draw between iterator creation and the first batch: the sampler's seed is
        # drawn lazily, at the first next(), so this changes the order if that is wrong.
        out.append(("global", tl.randint(0, 1000, (2,)).tolist()))
        batches = []
        for k, (xb,) in enumerate(it):
            batches.append(xb.tolist())
            if use_generator and k == 0 and epoch == 1:
                # Mid-epoch draw from g: its position in g's stream is checked below.
                out.append(("g-mid", tl.randint(0, 1000, (1,), generator=g).tolist()))
        out.append(("epoch", batches))
        out.append(("global", tl.randperm(7).tolist()))
    out.append(("global-after", tl.randint(0, 2**31, (4,)).tolist()))
    if use_generator:
        out.append(("g-after", tl.randint(0, 2**31, (4,), generator=g).tolist()))
    return out


@pytest.mark.parametrize("seed", [0, 1, 42, 2024])
@pytest.mark.parametrize("n,batch_size", [(10, 3), (12, 4), (100, 10), (7, 1), (5, 8)])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("use_generator", [False, True])
def test_shuffle_order_and_stream_use_equal_torch(seed, n, batch_size, drop_last, use_generator):
    kw = dict(seed=seed, drop_last=drop_last, use_generator=use_generator)
    assert _epochs("gradfit", n, batch_size, **kw) == _epochs("torch", n, batch_size, **kw)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("n,batch_size", [(10, 3), (100, 10), (9, 9)])
def test_each_epoch_visits_every_example_once(n, batch_size, drop_last):
    gradfit.manual_seed(3)
    x = gradfit.arange(n)
    loader = gdata.DataLoader(
        gdata.TensorDataset(x), batch_size=batch_size, shuffle=True, drop_last=drop_last
    )
    orders = []
    for _ in range(4):
        batches = [xb.tolist() for (xb,) in loader]
        assert len(batches) == len(loader)
        flat = [i for b in batches for i in b]
        if drop_last:
            assert all(len(b) == batch_size for b in batches)
            assert len(flat) == (n // batch_size) * batch_size
            assert len(set(flat)) == len(flat)
        else:
            assert sorted(flat) == list(range(n))
            assert [len(b) for b in batches[:-1]] == [batch_size] * (len(batches) - 1)
        orders.append(flat)
    # A fresh permutation every epoch.
    assert len({tuple(o) for o in orders}) == 4


def test_unshuffled_iteration_still_draws_base_seed():
    # PyTorch draws _base_seed (one int64) per iterator even with shuffle=False.
    for tl, data in LIBS.values():
        tl.manual_seed(5)
        loader = data.DataLoader(data.TensorDataset(tl.arange(6)), batch_size=4)
        assert [b[0].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5]]
    g_after = gradfit.randperm(10).tolist()
    torch.manual_seed(5)
    _ = list(tdata.DataLoader(tdata.TensorDataset(torch.arange(6)), batch_size=4))
    assert g_after == torch.randperm(10).tolist()
    gradfit.manual_seed(5)
    assert gradfit.randperm(10).tolist() != g_after  # so the draw is really there


def test_iterator_creation_alone_draws_from_generator():
    g = gradfit.Generator().manual_seed(9)
    tg = torch.Generator().manual_seed(9)
    loader = gdata.DataLoader(gdata.TensorDataset(gradfit.arange(4)), generator=g)
    tloader = tdata.DataLoader(tdata.TensorDataset(torch.arange(4)), generator=tg)
    iter(loader), iter(loader)
    iter(tloader), iter(tloader)
    assert gradfit.randperm(8, generator=g).tolist() == torch.randperm(8, generator=tg).tolist()


def test_batch_values_equal_torch_for_float_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((23, 4)).astype(np.float32)
    y = rng.integers(0, 5, size=23)
    results = []
    for tl, data in LIBS.values():
        tl.manual_seed(11)
        ds = data.TensorDataset(tl.from_numpy(x), tl.from_numpy(y))
        results.append(
            [
                (xb.numpy().copy(), yb.numpy().copy())
                for xb, yb in data.DataLoader(ds, batch_size=5, shuffle=True)
            ]
        )
    for (gx, gy), (tx, ty) in zip(*results, strict=True):
        assert gx.dtype == tx.dtype == np.float32 and gy.dtype == ty.dtype == np.int64
        np.testing.assert_array_equal(gx, tx)
        np.testing.assert_array_equal(gy, ty)


# ------------------------------------------------------------------ fast path == generic path


def _generic_collate(batch):
    return gdata.default_collate(batch)  # not the default_collate object: generic path


class _PlainTensorDataset(gdata.TensorDataset):
    pass  # a subclass also takes the generic path


@pytest.mark.parametrize("wrap", ["plain", "subset", "nested_subset", "subclass"])
@pytest.mark.parametrize("drop_last", [False, True])
def test_fast_path_equals_generic_path(wrap, drop_last):
    gradfit.manual_seed(0)
    x = gradfit.randn(30, 3, 2)
    y = gradfit.arange(30)
    z = gradfit.rand(30).double()
    ds = (_PlainTensorDataset if wrap == "subclass" else gdata.TensorDataset)(x, y, z)
    if wrap == "subset":
        ds = gdata.Subset(ds, list(range(29, 2, -2)))
    elif wrap == "nested_subset":
        ds = gdata.random_split(gdata.Subset(ds, list(range(3, 27))), [0.5, 0.5])[1]

    def batches(collate_fn):
        g = gradfit.Generator().manual_seed(4)
        loader = gdata.DataLoader(
            ds,
            batch_size=4,
            shuffle=True,
            drop_last=drop_last,
            collate_fn=collate_fn,
            generator=g,
        )
        return [b for _ in range(2) for b in loader]

    fast, generic = batches(None), batches(_generic_collate)
    assert len(fast) == len(generic) > 0
    for fb, gb in zip(fast, generic, strict=True):
        assert isinstance(fb, list) and isinstance(gb, list) and len(fb) == len(gb) == 3
        for f, g in zip(fb, gb, strict=True):
            assert isinstance(f, gradfit.Tensor)
            assert f.shape == g.shape and f.dtype == g.dtype and not f.requires_grad
            np.testing.assert_array_equal(f.numpy(), g.numpy())
    # And each generic batch is the stack of the dataset's items.
    loader = gdata.DataLoader(ds, batch_size=4, sampler=[3, 0, 5, 1])
    ((xb, yb, zb),) = list(loader)
    for k, i in enumerate([3, 0, 5, 1]):
        xi, yi, zi = ds[i]
        np.testing.assert_array_equal(xb[k].numpy(), xi.numpy())
        assert yb[k].item() == yi.item() and zb[k].item() == zi.item()


def test_fast_path_does_not_alias_dataset_memory():
    x = gradfit.zeros(6, 2)
    (xb,) = next(iter(gdata.DataLoader(gdata.TensorDataset(x), batch_size=3)))
    xb.add_(1.0)
    assert x.sum().item() == 0.0


def test_requires_grad_tensors_keep_graph_like_torch():
    w = gradfit.ones(4, 2, requires_grad=True)
    (xb,) = next(iter(gdata.DataLoader(gdata.TensorDataset(w), batch_size=2)))
    assert xb.requires_grad
    xb.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1, 1], [1, 1], [0, 0], [0, 0]])


# ------------------------------------------------------------------ samplers, collate, len


def test_sampler_batch_sampler_collate_fn_and_drop_last():
    ds = gdata.TensorDataset(gradfit.arange(10) * 10)
    loader = gdata.DataLoader(ds, batch_size=3, sampler=[9, 8, 7, 0, 1])
    assert [b[0].tolist() for b in loader] == [[90, 80, 70], [0, 10]]
    assert len(loader) == 2
    loader = gdata.DataLoader(ds, batch_size=3, sampler=[9, 8, 7, 0, 1], drop_last=True)
    assert [b[0].tolist() for b in loader] == [[90, 80, 70]]
    assert len(loader) == 1

    loader = gdata.DataLoader(ds, batch_sampler=[[1, 2], [5], [0, 9, 3]])
    assert [b[0].tolist() for b in loader] == [[10, 20], [50], [0, 90, 30]]
    assert len(loader) == 3 and loader.batch_size is None and loader.drop_last is False

    loader = gdata.DataLoader(ds, batch_size=4, collate_fn=lambda items: len(items))
    assert list(loader) == [4, 4, 2]

    # batch_size=None: no automatic batching, items through default_convert (tuple -> list).
    loader = gdata.DataLoader(ds, batch_size=None, sampler=[2, 4])
    items = list(loader)
    assert [type(it) for it in items] == [list, list]
    assert [it[0].item() for it in items] == [20, 40] and items[0][0].shape == ()
    assert len(loader) == 2


@pytest.mark.parametrize(
    "n,batch_size,drop_last,expected",
    [
        (10, 3, False, 4),
        (10, 3, True, 3),
        (9, 3, False, 3),
        (9, 3, True, 3),
        (2, 5, False, 1),
        (2, 5, True, 0),
    ],
)
def test_len_equals_torch(n, batch_size, drop_last, expected):
    for tl, data in LIBS.values():
        loader = data.DataLoader(
            data.TensorDataset(tl.zeros(n)),
            batch_size=batch_size,
            drop_last=drop_last,
            shuffle=True,
        )
        assert len(loader) == expected
        assert len(list(loader)) == expected
        assert len(iter(loader)) == expected


def test_mutually_exclusive_arguments():
    ds = gdata.TensorDataset(gradfit.arange(5))
    with pytest.raises(ValueError, match="sampler.*mutually exclusive with shuffle"):
        gdata.DataLoader(ds, shuffle=True, sampler=[0, 1])
    for kw in (dict(batch_size=2), dict(shuffle=True), dict(sampler=[0]), dict(drop_last=True)):
        with pytest.raises(
            ValueError, match="batch_sampler.*batch_size, shuffle, sampler, and drop_last"
        ):
            gdata.DataLoader(ds, batch_sampler=[[0, 1]], **kw)
    with pytest.raises(ValueError, match="batch_size=None.*drop_last"):
        gdata.DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers.*-1"):
        gdata.DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="persistent_workers"):
        gdata.DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="prefetch_factor"):
        gdata.DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="batch_size should be a positive integer.*0"):
        gdata.DataLoader(ds, batch_size=0)
    loader = gdata.DataLoader(ds)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3


def test_num_workers_runs_in_process_with_the_same_batches():
    out = []
    for workers in (0, 2):
        gradfit.manual_seed(1)
        loader = gdata.DataLoader(
            gdata.TensorDataset(gradfit.arange(9)),
            batch_size=2,
            shuffle=True,
            num_workers=workers,
        )
        out.append([b[0].tolist() for b in loader])
    assert out[0] == out[1]
    assert gdata.get_worker_info() is None


def test_torch_namespace_access():
    # After `import gradfit as torch`, `torch.utils.data.DataLoader` must resolve.
    assert gradfit.utils.data.DataLoader is gdata.DataLoader


class _Stream(gdata.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


@pytest.mark.parametrize("drop_last", [False, True])
def test_iterable_dataset_equals_torch(drop_last):
    class TStream(tdata.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    got = [b.tolist() for b in gdata.DataLoader(_Stream(7), batch_size=3, drop_last=drop_last)]
    want = [b.tolist() for b in tdata.DataLoader(TStream(), batch_size=3, drop_last=drop_last)]
    assert got == want
    assert len(gdata.DataLoader(_Stream(7), batch_size=3, drop_last=drop_last)) == len(want)
    assert list(gdata.DataLoader(_Stream(3), batch_size=None)) == [0, 1, 2]
    with pytest.raises(ValueError, match="IterableDataset.*shuffle=True"):
        gdata.DataLoader(_Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="IterableDataset.*sampler"):
        gdata.DataLoader(_Stream(3), sampler=[0])


def test_fast_path_is_taken_for_tensor_dataset(monkeypatch):
    def boom(self, index):
        raise AssertionError("__getitem__ called: the fast path was not taken")

    ds = gdata.TensorDataset(gradfit.arange(6), gradfit.ones(6, 2))
    loader = gdata.DataLoader(gdata.random_split(ds, [4, 2])[0], batch_size=3, shuffle=True)
    monkeypatch.setattr(gdata.TensorDataset, "__getitem__", boom)
    batches = list(loader)
    assert [len(b[0]) for b in batches] == [3, 1]
    with pytest.raises(AssertionError, match="fast path was not taken"):
        list(gdata.DataLoader(ds, batch_size=3, collate_fn=_generic_collate))
