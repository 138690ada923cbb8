"""torch.utils.data as tutorials use it: a custom Dataset with transforms, TensorDataset,
random_split with a seeded Generator, Subset, ConcatDataset, DataLoader with collate_fn,
drop_last, samplers (WeightedRandomSampler, SubsetRandomSampler, BatchSampler,
SequentialSampler), generator=, worker_init_fn-free iteration and len()s."""

import numpy as np
import torch
from torch.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    random_split,
)

torch.manual_seed(0)


class SquaresDataset(Dataset):
    def __init__(self, n, transform=None):
        self.x = torch.arange(n, dtype=torch.float32)
        self.y = self.x**2
        self.transform = transform

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        sample = {"x": self.x[idx], "y": self.y[idx]}
        if self.transform:
            sample = self.transform(sample)
        return sample


class Normalize:
    def __init__(self, scale):
        self.scale = scale

    def __call__(self, sample):
        return {"x": sample["x"] / self.scale, "y": sample["y"] / self.scale**2}


ds = SquaresDataset(10, transform=Normalize(10.0))
print(len(ds), ds[3])
loader = DataLoader(ds, batch_size=4, shuffle=False)
for batch in loader:
    print({k: v for k, v in batch.items()})

X = torch.randn(20, 3)
y = (X.sum(1) > 0).long()
tds = TensorDataset(X, y)
print("tensors:", [t.shape for t in tds.tensors])
g = torch.Generator().manual_seed(42)
train_ds, val_ds = random_split(tds, [16, 4], generator=g)
print("split sizes", len(train_ds), len(val_ds), "val indices", val_ds.indices)
train_ds2, val_ds2, test_ds2 = random_split(
    range(10), [0.6, 0.2, 0.2], generator=torch.Generator().manual_seed(1)
)
print("fractional split:", list(train_ds2), list(val_ds2), list(test_ds2))

sub = Subset(tds, [0, 2, 4, 6])
print("subset", len(sub), sub[1][1])
cat = ConcatDataset([sub, Subset(tds, range(10, 13))])
print("concat", len(cat), cat.cumulative_sizes, cat[5][0])

g2 = torch.Generator()
g2.manual_seed(7)
dl = DataLoader(train_ds, batch_size=5, shuffle=True, drop_last=True, generator=g2)
print("batches:", len(dl))
for xb, yb in dl:
    print(xb.shape, yb.tolist())


def pad_collate(batch):
    seqs = [torch.full((n,), float(n)) for n, _ in batch]
    lengths = torch.tensor([len(s) for s in seqs])
    padded = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=-1.0)
    targets = torch.tensor([t for _, t in batch])
    return padded, lengths, targets


pairs = [(n, n % 2) for n in [3, 1, 4, 1, 5, 2]]
for padded, lengths, targets in DataLoader(pairs, batch_size=3, collate_fn=pad_collate):
    print(padded, lengths, targets)

# class-imbalance sampler
labels = torch.tensor([0] * 8 + [1] * 2)
class_count = torch.bincount(labels)
weights = 1.0 / class_count.float()
sample_weights = weights[labels]
print("class_count", class_count, "sample weights", sample_weights)
sampler = WeightedRandomSampler(
    sample_weights, num_samples=10, replacement=True, generator=torch.Generator().manual_seed(3)
)
drawn = list(sampler)
print("weighted draws", drawn, "n class1:", sum(labels[i].item() for i in drawn))
ws = WeightedRandomSampler([0.1, 0.9, 0.4], 5, generator=torch.Generator().manual_seed(0))
print(list(ws))

srs = SubsetRandomSampler([10, 11, 12, 13], generator=torch.Generator().manual_seed(5))
print("subset random", list(srs))
print(list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False)))
print(
    list(
        BatchSampler(
            RandomSampler(range(7), generator=torch.Generator().manual_seed(2)),
            batch_size=3,
            drop_last=True,
        )
    )
)
rs = RandomSampler(
    range(5), replacement=True, num_samples=8, generator=torch.Generator().manual_seed(9)
)
print("with replacement", list(rs))

dl3 = DataLoader(
    tds,
    batch_size=8,
    sampler=SubsetRandomSampler(range(12), generator=torch.Generator().manual_seed(11)),
)
for i, (xb, yb) in enumerate(dl3):
    print(i, xb.shape, yb)

# default collate of mixed types
mixed = [(torch.tensor([1.0, 2.0]), 3, 0.5, "a"), (torch.tensor([3.0, 4.0]), 4, 1.5, "b")]
batch = next(iter(DataLoader(mixed, batch_size=2)))
for b in batch:
    print(type(b).__name__, b)
npb = next(iter(DataLoader([np.array([1, 2]), np.array([3, 4])], batch_size=2)))
print(npb, npb.dtype)
print(next(iter(DataLoader([{"a": 1.0, "b": [1, 2]}, {"a": 2.0, "b": [3, 4]}], batch_size=2))))
