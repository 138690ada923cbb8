"""Parity of gradfit._mt.MT with torch's CPU generator (torch is the oracle).

Every draw is compared bit for bit with a ``torch.Generator`` seeded the same way.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from gradfit._mt import MT

SEEDS = [0, 1, 42, 2**31 + 5, 2**40 + 123456789, 2**64 - 1, -7]
SIZES = [1, 2, 15, 16, 17, 1000]
FLOATS = [(np.float32, torch.float32), (np.float64, torch.float64)]


def pair(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return MT(seed), g


def assert_same(ours, theirs):
    theirs = theirs.numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


# ------------------------------------------------------------------------- seeding and state


@pytest.mark.parametrize("seed", SEEDS + [-(2**63), 2**32, 2**32 + 5])
def test_manual_seed_and_initial_seed(seed):
    m, g = pair(seed)
    assert m.initial_seed == g.initial_seed()
    assert_same(m.get_state(), g.get_state())
    assert_same(m.uniform(5, 0, 1, np.float64), torch.rand(5, dtype=torch.float64, generator=g))


def test_default_seed():
    m, g = MT(), torch.Generator()
    assert m.initial_seed == g.initial_seed() == 67280421310721
    assert_same(m.get_state(), g.get_state())


@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1])
def test_seed_out_of_range(seed):
    with pytest.raises(ValueError):
        torch.Generator().manual_seed(seed)
    with pytest.raises(ValueError):
        MT(seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_raw_words(seed):
    m, g = pair(seed)
    # int32 random_(): random() % 2**31; float32 random_(): random() % (2**24 + 1).  Together
    # they pin down all 32 bits.  The same for random64() with int64 and float64.
    w = m.random32(700)
    assert_same(
        (w % 2**31).astype(np.int32), torch.empty(700, dtype=torch.int32).random_(generator=g)
    )
    w = m.random32(50)
    ref = torch.empty(50, dtype=torch.float32).random_(generator=g)
    assert_same((w % (2**24 + 1)).astype(np.float32), ref)
    w = m.random64(400)
    assert_same(
        (w % 2**63).astype(np.int64), torch.empty(400, dtype=torch.int64).random_(generator=g)
    )
    w = m.random64(30)
    ref = torch.empty(30, dtype=torch.float64).random_(generator=g)
    assert_same((w % (2**53 + 1)).astype(np.float64), ref)


def test_get_state_matches_torch_bytes():
    m, g = pair(123)
    checks = [
        lambda: (m.random32(624), torch.empty(624, dtype=torch.int32).random_(generator=g)),
        lambda: (m.normal(1, 0, 1, np.float32), torch.randn(1, generator=g)),  # leaves a cache
        lambda: (m.uniform(3, 0, 1, np.float32), torch.rand(3, generator=g)),
        lambda: (m.normal(1, 0, 1, np.float64), torch.randn(1, dtype=torch.float64, generator=g)),
        lambda: (m.randperm(700), torch.randperm(700, generator=g)),
    ]
    for step in checks:
        step()
        assert_same(m.get_state(), g.get_state())


def test_set_state_from_torch_and_round_trip():
    m, g = pair(9)
    torch.randn(3, generator=g)  # odd number of scalar normals: a cached sample is pending
    torch.rand(1001, generator=g)
    m.set_state(g.get_state().numpy())
    assert m.initial_seed == 9
    saved = m.get_state()
    assert_same(saved, g.get_state())
    first = [m.normal(2, 0.5, 2.0, np.float64), m.uniform(40, -1, 1, np.float32), m.randperm(30)]
    ref = [
        torch.empty(2, dtype=torch.float64).normal_(0.5, 2.0, generator=g),
        torch.empty(40).uniform_(-1, 1, generator=g),
        torch.randperm(30, generator=g),
    ]
    for a, b in zip(first, ref):
        assert_same(a, b)
    m.set_state(saved)
    again = [m.normal(2, 0.5, 2.0, np.float64), m.uniform(40, -1, 1, np.float32), m.randperm(30)]
    for a, b in zip(again, first):
        np.testing.assert_array_equal(a, b)
    assert_same(m.get_state(), g.get_state())
    # torch accepts our bytes too, pending normal sample included.
    g2 = torch.Generator().set_state(torch.from_numpy(saved))
    m.set_state(saved)
    assert_same(m.normal(3, 0, 1, np.float64), torch.randn(3, dtype=torch.float64, generator=g2))


def test_set_state_fresh_and_invalid():
    m, g = pair(2024)
    fresh = g.get_state().numpy()
    m.random32(10)
    m.set_state(fresh)
    assert_same(m.get_state(), fresh)
    assert_same(m.uniform(4, 0, 1, np.float64), torch.rand(4, dtype=torch.float64, generator=g))
    for bad in (g.get_state()[:5048], torch.zeros(5056, dtype=torch.uint8)):
        with pytest.raises(RuntimeError):
            torch.Generator().set_state(bad)
        with pytest.raises(RuntimeError):
            m.set_state(bad.numpy())
    with pytest.raises(TypeError):
        m.set_state(fresh.astype(np.int64))


# ------------------------------------------------------------------------- floats


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dt,tdt", FLOATS)
def test_uniform(seed, dt, tdt):
    m, g = pair(seed)
    for n in SIZES:
        for low, high in [(0.0, 1.0), (-2.5, 3.7), (-1e-3, 1e-3), (5.0, 5.0)]:
            ref = torch.empty(n, dtype=tdt).uniform_(low, high, generator=g)
            assert_same(m.uniform(n, low, high, dt), ref)
    assert_same(m.uniform(1000, 0, 1, dt), torch.rand(1000, dtype=tdt, generator=g))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dt,tdt", FLOATS)
def test_normal(seed, dt, tdt):
    m, g = pair(seed)
    for n in SIZES + [3, 33, 1001]:
        for mean, std in [(0.0, 1.0), (1.5, 0.3), (-2.0, 7.0)]:
            ref = torch.empty(n, dtype=tdt).normal_(mean, std, generator=g)
            assert_same(m.normal(n, mean, std, dt), ref)


def test_randn_100x10_float32():
    """The lecture's program: torch.manual_seed(s); torch.randn(100, 10)."""
    for seed in (0, 42, 1234):
        torch.manual_seed(seed)
        ref = torch.randn(100, 10)
        assert_same(MT(seed).normal(1000, 0.0, 1.0, np.float32), ref.reshape(-1))


@pytest.mark.parametrize("dt,tdt", FLOATS)
def test_normal_many_values(dt, tdt):
    # 2**17 uniforms exercise the log/sin/cos emulations on many distinct inputs.
    m, g = pair(31337)
    assert_same(
        m.normal(2**17 + 5, 0.25, 3.0, dt),
        torch.empty(2**17 + 5, dtype=tdt).normal_(0.25, 3.0, generator=g),
    )


def test_scalar_normal_cache_crosses_calls_and_dtypes():
    m, g = pair(77)
    assert_same(m.normal(1, 0, 1, np.float32), torch.randn((), generator=g).reshape(1))
    assert_same(m.uniform(3, 0, 1, np.float32), torch.rand(3, generator=g))  # cache survives
    assert_same(m.normal(20, 0, 1, np.float32), torch.randn(20, generator=g))  # n >= 16: unused
    # The pending sample is consumed by the next scalar draw, with that call's mean and std.
    ref = torch.empty(1, dtype=torch.float64).normal_(3.0, 0.5, generator=g)
    assert_same(m.normal(1, 3.0, 0.5, np.float64), ref)
    assert_same(m.normal(5, 0, 2, np.float32), torch.empty(5).normal_(0, 2, generator=g))


def test_normal_default_kernel_subprocess():
    """The portable (non-AVX) kernels, selected in torch with ATEN_CPU_CAPABILITY=default."""
    code = (
        "import sys, torch\n"
        "g = torch.Generator(); g.manual_seed(5)\n"
        "out = [torch.empty(1000).normal_(0.5, 2.0, generator=g),\n"
        "       torch.empty(7, dtype=torch.float64).normal_(0.5, 2.0, generator=g),\n"
        "       torch.empty(300, dtype=torch.float64).uniform_(-2.3, 7.1, generator=g),\n"
        "       torch.empty(300).uniform_(-2.3, 7.1, generator=g)]\n"
        "sys.stdout.write(b''.join(t.numpy().tobytes() for t in out).hex())\n"
    )
    env = dict(os.environ, ATEN_CPU_CAPABILITY="default")
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True)
    raw = bytes.fromhex(res.stdout.decode())
    m = MT(5)
    m.cpu_capability = "default"
    ours = [
        m.normal(1000, 0.5, 2.0, np.float32),
        m.normal(7, 0.5, 2.0, np.float64),
        m.uniform(300, -2.3, 7.1, np.float64),
        m.uniform(300, -2.3, 7.1, np.float32),
    ]
    assert raw == b"".join(a.tobytes() for a in ours)


# ------------------------------------------------------------------------- integers


@pytest.mark.parametrize("seed", SEEDS)
def test_randperm(seed):
    m, g = pair(seed)
    for n in [0, 1, 2, 10, 100, 4000, 100000]:
        assert_same(m.randperm(n), torch.randperm(n, generator=g))


@pytest.mark.parametrize("seed", SEEDS)
def test_randint(seed):
    m, g = pair(seed)
    for low, high in [
        (0, 10),
        (-5, 5),
        (0, 2**28 - 1),
        (0, 2**28),
        (-(2**40), 2**40),
        (0, 2**62),
        (-(2**63), 2**63 - 1),
    ]:
        for n in (1, 17, 500):
            assert_same(m.randint(low, high, n), torch.randint(low, high, (n,), generator=g))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_int64(seed):
    m, g = pair(seed)
    for _ in range(20):
        assert m.random_int64() == torch.empty((), dtype=torch.int64).random_(generator=g).item()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dt,tdt", FLOATS)
def test_bernoulli(seed, dt, tdt):
    m, g = pair(seed)
    for n in (1, 16, 1000):
        for p in (0.0, 0.1, 0.5, 0.9, 1.0):
            assert_same(m.bernoulli(n, p, dt), torch.empty(n, dtype=tdt).bernoulli_(p, generator=g))


@pytest.mark.parametrize("dt,tdt", FLOATS)
def test_dropout_mask(dt, tdt):
    p = 0.3
    torch.manual_seed(11)
    y = torch.nn.functional.dropout(torch.ones(5000, dtype=tdt), p, training=True)
    m = MT(11)
    assert_same(m.bernoulli(5000, 1 - p, dt), (y != 0).to(tdt))
    assert_same(m.get_state(), torch.get_rng_state())


# ------------------------------------------------------------------------- interleaving


@pytest.mark.parametrize("seed", [0, 42, 2**40 + 123456789])
def test_interleaved_calls(seed):
    m, g = pair(seed)
    steps = [
        (
            lambda: m.uniform(7, -1, 1, np.float32),
            lambda: torch.empty(7).uniform_(-1, 1, generator=g),
        ),
        (lambda: m.randperm(50), lambda: torch.randperm(50, generator=g)),
        (lambda: m.normal(3, 0, 1, np.float32), lambda: torch.randn(3, generator=g)),
        (lambda: m.randint(0, 10, 9), lambda: torch.randint(0, 10, (9,), generator=g)),
        (
            lambda: m.normal(20, 1, 2, np.float64),
            lambda: torch.empty(20, dtype=torch.float64).normal_(1, 2, generator=g),
        ),
        (lambda: m.normal(1, 0, 1, np.float32), lambda: torch.randn(1, generator=g)),
        (
            lambda: np.int64(m.random_int64()),
            lambda: torch.empty((), dtype=torch.int64).random_(generator=g),
        ),
        (
            lambda: m.bernoulli(33, 0.8, np.float32),
            lambda: torch.empty(33).bernoulli_(0.8, generator=g),
        ),
        (
            lambda: m.uniform(17, 0, 1, np.float64),
            lambda: torch.rand(17, dtype=torch.float64, generator=g),
        ),
        (
            lambda: m.normal(100, 0, 0.1, np.float32),
            lambda: torch.empty(100).normal_(0, 0.1, generator=g),
        ),
        (lambda: m.randperm(4000), lambda: torch.randperm(4000, generator=g)),
        (
            lambda: m.randint(-(2**35), 2**35, 5),
            lambda: torch.randint(-(2**35), 2**35, (5,), generator=g),
        ),
        (
            lambda: m.normal(2, 0, 1, np.float64),
            lambda: torch.randn(2, dtype=torch.float64, generator=g),
        ),
    ]
    for ours, theirs in steps * 2:
        assert_same(np.asarray(ours()), theirs())
    assert_same(m.get_state(), g.get_state())


def test_dataloader_epoch_pattern():
    """One shuffled DataLoader epoch with a generator: random_(int64), randperm(n), randperm(n)."""
    import torch.utils.data as tud

    n = 37
    g = torch.Generator()
    g.manual_seed(3)
    loader = tud.DataLoader(
        tud.TensorDataset(torch.arange(n)), batch_size=8, shuffle=True, generator=g
    )
    m = MT(3)
    for _ in range(2):
        order = torch.cat([b[0] for b in loader]).numpy()
        m.random_int64()
        np.testing.assert_array_equal(order, m.randperm(n))
        m.randperm(n)
        assert_same(m.get_state(), g.get_state())
