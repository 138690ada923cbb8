"""Matrix factorisation for implicit feedback: sparse embeddings with SparseAdam, BPR loss,
negative sampling, and top-k evaluation (hit rate, NDCG) as recommender tutorials write it."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
n_users, n_items, dim = 40, 60, 8

# synthetic interactions: each user likes items near a latent "taste"
taste = torch.randint(0, n_items, (n_users,))
rows, cols = [], []
for u in range(n_users):
    liked = (taste[u] + torch.randint(-4, 5, (6,))) % n_items
    for i in liked.unique().tolist():
        rows.append(u)
        cols.append(i)
interactions = torch.tensor([rows, cols])
print("interactions:", interactions.shape, interactions[:, :5].tolist())

# leave one out per user for testing
test_items = torch.full((n_users,), -1, dtype=torch.long)
keep = torch.ones(interactions.shape[1], dtype=torch.bool)
for u in range(n_users):
    idx = (interactions[0] == u).nonzero(as_tuple=True)[0]
    if len(idx) > 1:
        last = idx[-1]
        test_items[u] = interactions[1, last]
        keep[last] = False
train = interactions[:, keep]
print("train pairs:", train.shape[1], "test users:", int((test_items >= 0).sum()))

seen = torch.zeros(n_users, n_items, dtype=torch.bool)
seen[train[0], train[1]] = True


class MF(nn.Module):
    def __init__(self):
        super().__init__()
        self.user = nn.Embedding(n_users, dim, sparse=True)
        self.item = nn.Embedding(n_items, dim, sparse=True)
        self.item_bias = nn.Embedding(n_items, 1, sparse=True)
        nn.init.normal_(self.user.weight, std=0.1)
        nn.init.normal_(self.item.weight, std=0.1)
        nn.init.zeros_(self.item_bias.weight)

    def forward(self, u, i):
        return (self.user(u) * self.item(i)).sum(-1) + self.item_bias(i).squeeze(-1)


model = MF()
print(model)
opt = torch.optim.SparseAdam(model.parameters(), lr=0.05)
print(opt)


def sample_negatives(users):
    neg = torch.randint(0, n_items, users.shape)
    bad = seen[users, neg]
    while bad.any():
        neg[bad] = torch.randint(0, n_items, (int(bad.sum()),))
        bad = seen[users, neg]
    return neg


for epoch in range(6):
    perm = torch.randperm(train.shape[1])
    total = 0.0
    for start in range(0, len(perm), 32):
        b = perm[start : start + 32]
        u, pos = train[0, b], train[1, b]
        neg = sample_negatives(u)
        diff = model(u, pos) - model(u, neg)
        loss = -F.logsigmoid(diff).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(b)
    print(f"epoch {epoch}: bpr {total / len(perm):.4f}")

print("grad is sparse:", model.user.weight.grad.is_sparse, model.user.weight.grad._nnz() > 0)

with torch.no_grad():
    scores = model.user.weight @ model.item.weight.T + model.item_bias.weight.T
    scores[seen] = -math.inf
    top = scores.topk(10, dim=1).indices
    users = (test_items >= 0).nonzero(as_tuple=True)[0]
    hits = top[users] == test_items[users, None]
    hit_rate = hits.any(1).float().mean()
    ranks = hits.float().argmax(1)
    ndcg = torch.where(
        hits.any(1), 1.0 / torch.log2(ranks.float() + 2), torch.zeros(len(users))
    ).mean()
    print(f"HR@10 {hit_rate:.4f} NDCG@10 {ndcg:.4f}")
    print("user 0 top-5:", top[0, :5].tolist())
    sim = F.cosine_similarity(model.item.weight[:1], model.item.weight, dim=1)
    print(
        "items most like item 0:",
        sim.topk(4).indices.tolist(),
        sim.topk(4).values.round(decimals=3),
    )
