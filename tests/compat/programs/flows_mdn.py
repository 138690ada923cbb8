# Density models on 2-D toy data with torch.distributions: a RealNVP normalizing flow on
# two moons (affine coupling layers, MultivariateNormal prior, log_prob, sample), and a
# mixture density network (Categorical + Normal via MixtureSameFamily, Independent).
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import distributions as D

torch.manual_seed(42)


def make_moons(n, noise=0.1):
    n_out = n // 2
    n_in = n - n_out
    t_out = torch.linspace(0, math.pi, n_out)
    t_in = torch.linspace(0, math.pi, n_in)
    outer = torch.stack([torch.cos(t_out), torch.sin(t_out)], 1)
    inner = torch.stack([1 - torch.cos(t_in), 1 - torch.sin(t_in) - 0.5], 1)
    X = torch.cat([outer, inner]) + noise * torch.randn(n, 2)
    y = torch.cat([torch.zeros(n_out), torch.ones(n_in)])
    return X, y


X, _ = make_moons(128)
print(X.shape, X.mean(0), X.std(0))


class RealNVP(nn.Module):
    def __init__(self, nets, nett, mask, prior):
        super().__init__()
        self.prior = prior
        self.mask = nn.Parameter(mask, requires_grad=False)
        self.t = torch.nn.ModuleList([nett() for _ in range(len(mask))])
        self.s = torch.nn.ModuleList([nets() for _ in range(len(mask))])

    def g(self, z):
        x = z
        for i in range(len(self.t)):
            x_ = x * self.mask[i]
            s = self.s[i](x_) * (1 - self.mask[i])
            t = self.t[i](x_) * (1 - self.mask[i])
            x = x_ + (1 - self.mask[i]) * (x * torch.exp(s) + t)
        return x

    def f(self, x):
        log_det_J, z = x.new_zeros(x.shape[0]), x
        for i in reversed(range(len(self.t))):
            z_ = self.mask[i] * z
            s = self.s[i](z_) * (1 - self.mask[i])
            t = self.t[i](z_) * (1 - self.mask[i])
            z = (1 - self.mask[i]) * (z - t) * torch.exp(-s) + z_
            log_det_J -= s.sum(dim=1)
        return z, log_det_J

    def log_prob(self, x):
        z, logp = self.f(x)
        return self.prior.log_prob(z) + logp

    def sample(self, batchSize):
        z = self.prior.sample((batchSize, 1))
        logp = self.prior.log_prob(z)
        x = self.g(z)
        return x


nets = lambda: nn.Sequential(  # noqa: E731
    nn.Linear(2, 32), nn.LeakyReLU(), nn.Linear(32, 32), nn.LeakyReLU(), nn.Linear(32, 2), nn.Tanh()
)
nett = lambda: nn.Sequential(  # noqa: E731
    nn.Linear(2, 32), nn.LeakyReLU(), nn.Linear(32, 32), nn.LeakyReLU(), nn.Linear(32, 2)
)
masks = torch.from_numpy(np.array([[0, 1], [1, 0]] * 2).astype("float32"))
prior = D.MultivariateNormal(torch.zeros(2), torch.eye(2))
print(prior, prior.event_shape, prior.batch_shape)
flow = RealNVP(nets, nett, masks, prior)
print(sum(p.numel() for p in flow.parameters() if p.requires_grad), flow.mask)
optimizer = torch.optim.Adam([p for p in flow.parameters() if p.requires_grad], lr=1e-4)
for t in range(41):
    loss = -flow.log_prob(X).mean()
    optimizer.zero_grad()
    loss.backward(retain_graph=True)
    optimizer.step()
    if t % 20 == 0:
        print("iter %s:" % t, "loss = %.3f" % loss.item())
z, logdet = flow.f(X[:4])
print(z, logdet)
xs = flow.sample(5)
print(xs.shape, xs.squeeze(1))
print(torch.allclose(flow.g(flow.f(X[:8])[0]), X[:8], atol=1e-5))

# ---- mixture density network on an inverted sine, in double precision ---------------------
torch.set_default_dtype(torch.float64)
torch.manual_seed(0)
n = 200
y_data = torch.rand(n, 1) * 2 - 1
x_data = torch.sin(3 * y_data) + 0.3 * y_data + 0.05 * torch.randn(n, 1)


class MDN(nn.Module):
    def __init__(self, n_hidden=24, n_gaussians=3):
        super().__init__()
        self.z_h = nn.Sequential(nn.Linear(1, n_hidden), nn.Tanh())
        self.z_pi = nn.Linear(n_hidden, n_gaussians)
        self.z_mu = nn.Linear(n_hidden, n_gaussians)
        self.z_sigma = nn.Linear(n_hidden, n_gaussians)

    def forward(self, x):
        z_h = self.z_h(x)
        pi = F.softmax(self.z_pi(z_h), -1)
        mu = self.z_mu(z_h)
        sigma = torch.exp(self.z_sigma(z_h))
        return pi, mu, sigma


def mdn_loss_fn(pi, mu, sigma, y):
    m = torch.distributions.Normal(loc=mu, scale=sigma)
    loss = torch.exp(m.log_prob(y))
    loss = torch.sum(loss * pi, dim=1)
    loss = -torch.log(loss)
    return torch.mean(loss)


mdn = MDN()
opt = torch.optim.Adam(mdn.parameters(), lr=0.01)
for epoch in range(60):
    pi, mu, sigma = mdn(x_data)
    loss = mdn_loss_fn(pi, mu, sigma, y_data)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if epoch % 20 == 0:
        print(epoch, f"{loss.item():.4f}")

with torch.no_grad():
    pi, mu, sigma = mdn(torch.tensor([[0.0], [0.5]]))
    mix = D.MixtureSameFamily(D.Categorical(probs=pi), D.Normal(mu, sigma))
    print(mix.batch_shape, mix.event_shape)
    print("mixture mean", mix.mean, "var", mix.variance)
    print("log_prob", mix.log_prob(torch.tensor([0.1, -0.2])))
    s = mix.sample((4,))
    print(s.shape, s)
    cat = D.Categorical(logits=torch.log(pi))
    # (a softmax's sum is 1 to the last bit or two: which one is rounding)
    print(cat.entropy(), cat.probs.sum(-1).round(decimals=6))
    k = cat.sample()
    print(k, mu.gather(1, k.unsqueeze(1)).squeeze(1))
    ind = D.Independent(D.Normal(torch.zeros(3, 2), torch.ones(3, 2)), 1)
    print(ind, ind.log_prob(torch.zeros(3, 2)))
    kl = D.kl_divergence(
        D.Normal(mu, sigma), D.Normal(torch.zeros_like(mu), torch.ones_like(sigma))
    )
    print("kl", kl)
    lp = D.Normal(0.0, 1.0).log_prob(torch.tensor([0.0, 1.0]))
    print(
        lp, D.Normal(0.0, 1.0).cdf(torch.tensor(1.96)), D.Normal(0.0, 1.0).icdf(torch.tensor(0.975))
    )
    mvn = D.MultivariateNormal(torch.zeros(2), scale_tril=torch.tensor([[1.0, 0.0], [0.5, 0.8]]))
    print(mvn.covariance_matrix, mvn.entropy(), mvn.rsample((2,)).shape)
