"""Uncertainty and calibration recipes: heteroscedastic regression with GaussianNLLLoss
and a softplus variance head, MC-dropout predictions (dropout kept on at test time), a
deep ensemble combined as a mixture, torch.distributions (Normal log_prob/cdf/icdf,
Categorical entropy, kl_divergence, MultivariateNormal with a Cholesky factor), and
classifier calibration: expected calibration error with bucketize, reliability bins,
temperature scaling fitted with LBFGS, Brier score and NLL."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical, MultivariateNormal, Normal, kl_divergence

torch.manual_seed(0)
torch.set_printoptions(precision=4)

# heteroscedastic 1-D regression: noise grows with |x|
x = torch.linspace(-3, 3, 200).unsqueeze(1)
y = torch.sin(x) + (0.05 + 0.1 * x.abs()) * torch.randn_like(x)


class MeanVar(nn.Module):
    def __init__(self, p=0.1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(1, 32), nn.Tanh(), nn.Dropout(p), nn.Linear(32, 32), nn.Tanh(), nn.Dropout(p)
        )
        self.mean = nn.Linear(32, 1)
        self.var = nn.Linear(32, 1)

    def forward(self, x):
        h = self.body(x)
        return self.mean(h), F.softplus(self.var(h)) + 1e-6


def train(model, epochs=60, lr=0.02):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    crit = nn.GaussianNLLLoss()
    for epoch in range(epochs):
        opt.zero_grad()
        mu, var = model(x)
        loss = crit(mu, y, var)
        loss.backward()
        opt.step()
    return loss.item()


ensemble = []
for seed in range(3):
    torch.manual_seed(seed)
    m = MeanVar()
    print(f"member {seed}: final NLL {train(m):.4f}")
    ensemble.append(m)

xq = torch.tensor([[-2.5], [0.0], [2.5]])
with torch.no_grad():
    for m in ensemble:
        m.eval()
    mus = torch.stack([m(xq)[0] for m in ensemble])
    vars_ = torch.stack([m(xq)[1] for m in ensemble])
mix_mean = mus.mean(0)
mix_var = (vars_ + mus**2).mean(0) - mix_mean**2
print("ensemble mean", mix_mean.squeeze(), "std", mix_var.sqrt().squeeze())
print(
    "aleatoric",
    vars_.mean(0).sqrt().squeeze(),
    "epistemic",
    mus.var(0, unbiased=False).sqrt().squeeze(),
)

# MC dropout: keep dropout layers in train mode
model = ensemble[0]
model.eval()
for mod in model.modules():
    if isinstance(mod, nn.Dropout):
        mod.train()
torch.manual_seed(10)
with torch.no_grad():
    samples = torch.stack([model(xq)[0] for _ in range(20)])
print("MC dropout mean", samples.mean(0).squeeze(), "std", samples.std(0).squeeze())

# distributions
normal = Normal(mix_mean.squeeze(), mix_var.sqrt().squeeze())
print("log_prob(0)", normal.log_prob(torch.zeros(3)))
print("95% interval", normal.icdf(torch.tensor(0.025)), normal.icdf(torch.tensor(0.975)))
print("cdf", normal.cdf(torch.tensor([0.0, 0.0, 0.0])), "entropy", normal.entropy())
torch.manual_seed(1)
print("rsample", normal.rsample((2,)), normal.batch_shape, normal.event_shape)
print("KL(N||N(0,1))", kl_divergence(normal, Normal(torch.zeros(3), torch.ones(3))))
cov = torch.tensor([[1.0, 0.5], [0.5, 2.0]])
mvn = MultivariateNormal(torch.zeros(2), scale_tril=torch.linalg.cholesky(cov))
print(
    "mvn log_prob", mvn.log_prob(torch.tensor([[0.5, -0.5], [1.0, 1.0]])), "entropy", mvn.entropy()
)
print("mvn covariance", mvn.covariance_matrix)
torch.manual_seed(2)
print("mvn sample mean", mvn.sample((500,)).mean(0))

# classification calibration on a synthetic 4-class problem
g = torch.Generator().manual_seed(5)
centers = torch.randn(4, 6, generator=g) * 1.5
labels = torch.randint(0, 4, (600,), generator=g)
feats = centers[labels] + torch.randn(600, 6, generator=g)
clf = nn.Sequential(nn.Linear(6, 64), nn.ReLU(), nn.Linear(64, 4))
opt = torch.optim.SGD(clf.parameters(), lr=0.5, momentum=0.9)
for epoch in range(80):  # overfit a little: over-confident probabilities
    opt.zero_grad()
    loss = F.cross_entropy(clf(feats[:400]), labels[:400])
    loss.backward()
    opt.step()
print(f"train CE {loss.item():.4f}")
with torch.no_grad():
    val_logits = clf(feats[400:])
val_labels = labels[400:]


def ece(probs, labels, n_bins=10):
    conf, pred = probs.max(1)
    acc = pred.eq(labels).float()
    edges = torch.linspace(0, 1, n_bins + 1)
    bins = torch.bucketize(conf, edges[1:-1], right=True)
    total = torch.zeros(())
    rows = []
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            gap = (conf[mask].mean() - acc[mask].mean()).abs()
            total += mask.float().mean() * gap
            rows.append(
                (
                    b,
                    int(mask.sum()),
                    round(conf[mask].mean().item(), 3),
                    round(acc[mask].mean().item(), 3),
                )
            )
    return total, rows


probs = val_logits.softmax(1)
e, rows = ece(probs, val_labels)
print(f"ECE before {e.item():.4f}")
for r in rows:
    print("  bin", r)
onehot = F.one_hot(val_labels, 4).float()
print(
    f"Brier {((probs - onehot) ** 2).sum(1).mean():.4f} NLL {F.nll_loss(probs.log(), val_labels):.4f}"
)
print(
    "entropy of predictions", [f"{v:.4f}" for v in Categorical(probs=probs[:4]).entropy().tolist()]
)
print("Categorical log_prob", Categorical(logits=val_logits[:3]).log_prob(val_labels[:3]))

temperature = nn.Parameter(torch.ones(1) * 1.5)
lbfgs = torch.optim.LBFGS([temperature], lr=0.01, max_iter=50)


def closure():
    lbfgs.zero_grad()
    l = F.cross_entropy(val_logits / temperature, val_labels)
    l.backward()
    return l


lbfgs.step(closure)
print(f"temperature {temperature.item():.4f}")
probs_t = (val_logits / temperature).softmax(1).detach()
e_t, _ = ece(probs_t, val_labels)
print(
    f"ECE after {e_t.item():.4f} NLL {F.cross_entropy(val_logits / temperature.detach(), val_labels):.4f}"
)
