# Sasha Rush's "Tensor Puzzles": NumPy-style functions rebuilt from arange, where,
# broadcasting and indexing only, each checked against torch's own function on random
# inputs, as the notebook's tests do (printing the puzzle, its answer and the check).
import torch

torch.manual_seed(0)


def arange(i: int):
    return torch.tensor(range(i))


def where(q, a, b):
    return (q * a) + (~q) * b


def ones(i):
    return (arange(i) >= 0) * 1


def sum(a):  # noqa: A001 - the puzzle's name
    return ones(a.shape[0]) @ a[:, None]


def outer(a, b):
    return a[:, None] * b[None, :]


def diag(a):
    return a[arange(a.shape[0]), arange(a.shape[0])]


def eye(j):
    return (arange(j)[:, None] == arange(j)) * 1


def triu(j):
    return (arange(j)[:, None] <= arange(j)) * 1


def cumsum(a):
    return a @ triu(a.shape[0])


def diff(a, i):
    return a[1:i] - a[: i - 1]


def vstack(a, b):
    return where(arange(2)[:, None] == ones(a.shape[0]), b, a)


def roll(a, i):
    return a[(arange(i) + 1) % i]


def flip(a, i):
    return a[i - arange(i) - 1]


def compress(g, v, i):
    return v @ where(g[:, None], arange(i) == (cumsum(1 * g) - 1)[:, None], 0)


def pad_to(a, i, j):
    return a @ ((arange(i)[:, None] == arange(j)) * 1)


def sequence_mask(values, length):
    return where(length[:, None] > arange(values.shape[1]), values, 0)


def bincount(a, j):
    return ones(a.shape[0]) @ eye(j)[a]


def scatter_add(values, link, j):
    return values @ eye(j)[link]


def flatten(a, i, j):
    return a[arange(i * j) // j, arange(i * j) % j]


def linspace(i, j, n):
    return i + (j - i) * 1.0 * arange(n) / max(1, n - 1)


def heaviside(a, b):
    return where(a == 0, b, a > 0)


def repeat(a, d):
    return a[None, :] + torch.zeros(d)[:, None]


def bucketize(v, boundaries):
    return (1 * (v[:, None] >= boundaries)) @ ones(boundaries.shape[0])


print(arange(5), ones(3), eye(3), triu(3), sep="\n")
a = torch.randint(-5, 6, (6,))
b = torch.randint(-5, 6, (6,))
print("a =", a, "b =", b)
checks = {
    "where": (where(a > 0, a, b), torch.where(a > 0, a, b)),
    "sum": (sum(a), a.sum(0, keepdim=True)),
    "outer": (outer(a, b), torch.outer(a, b)),
    "diag": (diag(outer(a, b)), torch.diag(outer(a, b))),
    "cumsum": (cumsum(a), torch.cumsum(a, 0)),
    "diff": (diff(a, 6), torch.diff(a)),
    "vstack": (vstack(a, b), torch.vstack([a, b])),
    "roll": (roll(a, 6), torch.roll(a, -1)),
    "flip": (flip(a, 6), torch.flip(a, (0,))),
    "compress": (
        compress(a > 0, a, 6),
        torch.cat([a[a > 0], torch.zeros(int((a <= 0).sum()), dtype=a.dtype)]),
    ),
    "pad_to": (pad_to(a, 6, 8), torch.nn.functional.pad(a, (0, 2))),
    "bincount": (bincount(a.abs(), 6), torch.bincount(a.abs(), minlength=6)),
    "scatter_add": (
        scatter_add(b, a.abs(), 6),
        torch.zeros(6, dtype=b.dtype).scatter_add(0, a.abs(), b),
    ),
    "flatten": (flatten(outer(a, b)[:2, :3], 2, 3), outer(a, b)[:2, :3].flatten()),
    "heaviside": (heaviside(a, b), torch.heaviside(a, b)),
    "bucketize": (
        bucketize(a, torch.tensor([-3, 0, 2])),
        torch.bucketize(a, torch.tensor([-3, 0, 2]), right=True),
    ),
}
for name, (mine, theirs) in checks.items():
    print(f"{name:12s} {str(mine.tolist()):60s} {torch.equal(mine.to(theirs.dtype), theirs)}")
m = torch.randint(0, 9, (3, 5))
print(sequence_mask(m, torch.tensor([2, 5, 0])))
print(linspace(0.0, 1.0, 5), torch.linspace(0, 1, 5))
print(torch.allclose(linspace(-2.0, 3.0, 7), torch.linspace(-2, 3, 7)))
print(repeat(a, 2), repeat(a, 2).dtype)
# the broadcasting rules the puzzles lean on
x = torch.arange(6).view(2, 3)
print(x[:, None, :] + x[None, :, :], (x[:, :, None] * x[:, None, :]).shape)
print(torch.broadcast_shapes((2, 1, 3), (4, 3)), torch.broadcast_tensors(x[0], x[:, :1])[1])
idx = torch.tensor([[0, 1], [1, 0]])
print(x[idx], x[idx, idx], x[[1, 0]][:, [2, 2, 0]], x[x > 2], x[..., -1], x[None, ..., None].shape)
try:
    x + torch.arange(4)
except RuntimeError as e:
    print("RuntimeError:", e)
try:
    x @ x
except RuntimeError as e:
    print("RuntimeError:", e)
