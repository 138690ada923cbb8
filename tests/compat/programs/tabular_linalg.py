"""Tabular regression and linear algebra as in course notebooks: sklearn's diabetes and
digits data standardised with mean/std(dim=0, keepdim=True), closed-form least squares
(lstsq, solve on normal equations, pinv, QR, Cholesky), SVD/eigh on a covariance (PCA),
an MLP with Huber / SmoothL1 / quantile (pinball) losses, entity embeddings for
categorical columns, and the tensor utilities around them (where, masked_fill,
nan_to_num, cumsum/cumprod, sort/argsort/topk/kthvalue, einsum)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_diabetes

torch.manual_seed(0)
X_np, y_np = load_diabetes(return_X_y=True)
X = torch.tensor(X_np, dtype=torch.float64)
y = torch.tensor(y_np, dtype=torch.float64).unsqueeze(1)
print(X.shape, y.shape, X.dtype)
mean, std = X.mean(dim=0, keepdim=True), X.std(dim=0, keepdim=True)
Xs = (X - mean) / std
print("standardised mean", Xs.mean(0)[:3], "std", Xs.std(0, unbiased=False)[:3])
A = torch.cat([torch.ones(len(Xs), 1, dtype=torch.float64), Xs], dim=1)

sol = torch.linalg.lstsq(A, y)
print("lstsq coef", sol.solution.squeeze()[:4], "rank", sol.rank)
w_ne = torch.linalg.solve(A.T @ A, A.T @ y)
print("normal equations agree:", torch.allclose(w_ne, sol.solution, atol=1e-8))
w_pinv = torch.linalg.pinv(A) @ y
print("pinv agree:", torch.allclose(w_pinv, w_ne, atol=1e-8))
Q, R = torch.linalg.qr(A)
w_qr = torch.linalg.solve_triangular(R, Q.T @ y, upper=True)
print(
    "qr",
    Q.shape,
    R.shape,
    f"{(w_qr - w_ne).abs().max().item():.2e}" if False else torch.allclose(w_qr, w_ne),
)
L = torch.linalg.cholesky(A.T @ A)
w_ch = torch.cholesky_solve(A.T @ y, L)
print("cholesky agree:", torch.allclose(w_ch, w_ne), L.diagonal()[:3])
resid = y - A @ w_ne
print(f"RMSE {resid.pow(2).mean().sqrt().item():.4f}  R2 {1 - resid.var() / y.var():.4f}")
inv = torch.linalg.inv(A.T @ A)
print(
    "cond",
    f"{torch.linalg.cond(A).item():.4f}",
    "det sign/logabsdet",
    torch.linalg.slogdet(A.T @ A),
)
print("inv diag", inv.diagonal()[:3])

# PCA via SVD and eigh
C = Xs.T @ Xs / (len(Xs) - 1)
evals, evecs = torch.linalg.eigh(C)
print("eigh top", evals.flip(0)[:3])
U, S, Vh = torch.linalg.svd(Xs, full_matrices=False)
explained = S**2 / (S**2).sum()
print("explained variance ratio", explained[:4], "cumsum", explained.cumsum(0)[:4])
print("svd vs eigh", torch.allclose((S**2 / (len(Xs) - 1)), evals.flip(0)))
proj = Xs @ Vh[:2].T
print("projection", proj.shape, proj[:2])
print(
    "matrix_rank",
    torch.linalg.matrix_rank(Xs),
    "norms",
    torch.linalg.norm(Xs),
    torch.linalg.matrix_norm(C, ord=2),
)
print("vector_norm", torch.linalg.vector_norm(Xs[0], ord=1), torch.linalg.norm(Xs[:3], dim=1))

# float32 MLP with different robust losses
Xf, yf = Xs.float(), ((y - y.mean()) / y.std()).float()
perm = torch.randperm(len(Xf))
tr, va = perm[:350], perm[350:]


def make_mlp():
    torch.manual_seed(3)
    return nn.Sequential(nn.Linear(10, 32), nn.SiLU(), nn.Linear(32, 1))


def pinball(pred, target, q):
    diff = target - pred
    return torch.max(q * diff, (q - 1) * diff).mean()


losses = {
    "mse": nn.MSELoss(),
    "huber": nn.HuberLoss(delta=0.5),
    "smoothl1": nn.SmoothL1Loss(beta=0.5),
    "l1": nn.L1Loss(),
    "q90": lambda p, t: pinball(p, t, 0.9),
}
for name, crit in losses.items():
    net = make_mlp()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for epoch in range(30):
        opt.zero_grad()
        loss = crit(net(Xf[tr]), yf[tr])
        loss.backward()
        opt.step()
    with torch.no_grad():
        pv = net(Xf[va])
        cover = (yf[va] <= pv).float().mean()
    print(
        f"{name:9s} train {loss.item():.4f} val mse {F.mse_loss(pv, yf[va]).item():.4f} coverage {cover.item():.3f}"
    )

# categorical embeddings
g = torch.Generator().manual_seed(5)
n = 200
cat_a = torch.randint(0, 5, (n,), generator=g)
cat_b = torch.randint(0, 3, (n,), generator=g)
num = torch.randn(n, 2, generator=g)
target = (cat_a.float() - 2) * 0.5 + (cat_b == 1).float() + num[:, 0]


class TabNet(nn.Module):
    def __init__(self, cards, emb_dims):
        super().__init__()
        self.embs = nn.ModuleList([nn.Embedding(c, d) for c, d in zip(cards, emb_dims)])
        self.emb_drop = nn.Dropout(0.1)
        self.bn = nn.BatchNorm1d(2)
        self.head = nn.Sequential(nn.Linear(sum(emb_dims) + 2, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, cats, nums):
        e = [emb(cats[:, i]) for i, emb in enumerate(self.embs)]
        x = torch.cat(e + [self.bn(nums)], dim=1)
        return self.head(self.emb_drop(x)).squeeze(-1)


torch.manual_seed(0)
tab = TabNet([5, 3], [3, 2])
print(tab)
cats = torch.stack([cat_a, cat_b], dim=1)
opt = torch.optim.AdamW(tab.parameters(), lr=0.03)
for epoch in range(40):
    tab.train()
    opt.zero_grad()
    loss = F.mse_loss(tab(cats, num), target)
    loss.backward()
    opt.step()
    if epoch % 10 == 9:
        print(f"epoch {epoch + 1} loss {loss.item():.4f}")
tab.eval()
print("embedding A weights\n", tab.embs[0].weight.detach())

# tensor utilities
v = torch.tensor([3.0, float("nan"), -1.0, float("inf"), 2.0, -float("inf")])
print(torch.nan_to_num(v), torch.nan_to_num(v, nan=0.0, posinf=1e3, neginf=-1e3))
print(
    torch.isnan(v).sum(),
    torch.isfinite(v),
    v.nansum(),
    torch.nanmean(torch.tensor([1.0, float("nan"), 3.0])),
)
m = torch.tensor([[1, 5, 2], [7, 3, 9]])
print(torch.where(m > 4, m, torch.zeros_like(m)), torch.where(m > 4))
print(m.masked_fill(m % 2 == 0, -1), m.float().masked_fill(m > 4, float("-inf")).softmax(-1))
print(m.cumsum(1), m.cumprod(dim=1), torch.cummax(m, dim=1), torch.logcumsumexp(m.float(), 1))
s = torch.tensor([4.0, 1.0, 3.0, 1.0, 5.0, 9.0, 2.0])
print(torch.sort(s), torch.sort(s, descending=True, stable=True).indices, s.argsort())
print(s.topk(3), s.topk(2, largest=False), s.kthvalue(3), s.median(), s.msort())
print(
    torch.unique(s),
    torch.unique(s, return_counts=True),
    torch.unique_consecutive(torch.tensor([1, 1, 2, 2, 1])),
)
print(
    torch.searchsorted(torch.tensor([1.0, 3.0, 5.0]), torch.tensor([0.5, 3.0, 4.0, 6.0])),
    torch.bucketize(s, torch.tensor([2.0, 4.0])),
)
print(torch.quantile(s, torch.tensor([0.25, 0.5, 0.9])), s.quantile(0.5, interpolation="lower"))
a3, b3 = torch.arange(6.0).reshape(2, 3), torch.arange(12.0).reshape(3, 4)
print(
    torch.einsum("ij,jk->ik", a3, b3),
    torch.einsum("ij->j", a3),
    torch.einsum("i,j->ij", s[:2], s[:3]),
    torch.einsum("bij,bjk->bik", a3[None], b3[None]).shape,
)
print(
    torch.einsum("ii->i", torch.eye(3) * 2),
    torch.einsum("ij,ij->", a3, a3),
    torch.einsum("...j,jk", a3, b3),
)
print(np.allclose(torch.tensor(np.eye(2)).numpy(), np.eye(2)), torch.from_numpy(np.arange(3)).dtype)
print(torch.cdist(a3, a3), torch.tril_indices(3, 3), torch.triu(torch.ones(3, 3), diagonal=1))
print(
    torch.diff(s),
    torch.histc(s, bins=4, min=0, max=10),
    torch.clamp(s, min=2, max=4),
    torch.diag(torch.tensor([1, 2])),
)
