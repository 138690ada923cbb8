# torch.distributions.transforms the ways people use them: a LogNormal fit by maximum
# likelihood, a learnable "logit-normal" flow (Normal -> affine -> sigmoid) for data in (0, 1),
# a SAC-style tanh-squashed Gaussian policy with cached inverse, HalfNormal priors in a
# variational Bayesian linear regression, and the transforms' own API.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import (
    HalfNormal,
    LogNormal,
    Normal,
    TransformedDistribution,
    kl_divergence,
)
from torch.distributions.transforms import (
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    SigmoidTransform,
    TanhTransform,
)

torch.manual_seed(0)

# ---- the transforms themselves --------------------------------------------------------------
t = ComposeTransform([AffineTransform(1.0, 2.0), SigmoidTransform()])
print(t)
x = torch.tensor([-1.0, 0.0, 0.5])
y = t(x)
print(y, t.inv(y), t.log_abs_det_jacobian(x, y))
print(t.domain, t.codomain, t.bijective, t.sign)
e = ExpTransform()
print(e.inv, e.inv(torch.tensor(2.0)), e.inv.inv is e, e == ExpTransform())
print(TanhTransform().codomain, AffineTransform(0.0, -3.0).sign)

# ---- LogNormal by maximum likelihood ---------------------------------------------------------
data = torch.exp(0.7 + 0.4 * torch.randn(500))
mu = torch.zeros((), requires_grad=True)
log_sigma = torch.zeros((), requires_grad=True)
opt = torch.optim.Adam([mu, log_sigma], lr=0.05)
for step in range(201):
    dist = LogNormal(mu, log_sigma.exp())
    nll = -dist.log_prob(data).mean()
    opt.zero_grad()
    nll.backward()
    opt.step()
    if step % 50 == 0:
        print(
            f"step {step:3d} nll {nll.item():.4f} mu {mu.item():.4f} sigma {log_sigma.exp().item():.4f}"
        )
dist = LogNormal(mu.detach(), log_sigma.exp().detach())
print(dist, dist.batch_shape, dist.event_shape, dist.support)
print(
    f"mean {dist.mean.item():.4f} mode {dist.mode.item():.4f} var {dist.variance.item():.4f} "
    f"entropy {dist.entropy().item():.4f} data mean {data.mean().item():.4f}"
)
print(dist.sample((4,)), dist.cdf(torch.tensor([1.0, 2.0])), dist.icdf(torch.tensor(0.5)))

# ---- a learnable logit-normal flow on (0, 1) -------------------------------------------------
beta_like = torch.sigmoid(torch.randn(400) * 0.5 + 1.0)
loc = nn.Parameter(torch.tensor(0.0))
raw_scale = nn.Parameter(torch.tensor(0.0))
opt = torch.optim.Adam([loc, raw_scale], lr=0.05)
for step in range(151):
    base = Normal(torch.zeros(()), torch.ones(()))
    flow = TransformedDistribution(
        base, [AffineTransform(loc, F.softplus(raw_scale)), SigmoidTransform()]
    )
    loss = -flow.log_prob(beta_like).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 50 == 0:
        print(
            f"flow step {step}: loss {loss.item():.4f} loc {loc.item():.4f} scale {F.softplus(raw_scale).item():.4f}"
        )
print(flow.support, flow.has_rsample, flow.rsample((3,)).requires_grad)
print(flow.cdf(torch.tensor([0.5, 0.9])), flow.icdf(torch.tensor([0.5])))
z = flow.sample((2000,))
print(f"sample mean {z.mean().item():.3f} data mean {beta_like.mean().item():.3f}")


# ---- SAC-style squashed Gaussian policy -------------------------------------------------------
class Actor(nn.Module):
    def __init__(self, obs_dim=3, act_dim=2, hidden=32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, 2 * act_dim)
        )

    def forward(self, obs):
        mean, log_std = self.net(obs).chunk(2, dim=-1)
        log_std = torch.clamp(log_std, -5, 2)
        base = Normal(mean, log_std.exp())
        dist = TransformedDistribution(base, [TanhTransform(cache_size=1)])
        action = dist.rsample()
        log_prob = dist.log_prob(action).sum(-1)
        # the textbook formula, for comparison
        u = base.rsample()
        return action, log_prob, mean, log_std


actor = Actor()
obs = torch.randn(5, 3)
torch.manual_seed(11)
action, log_prob, mean, log_std = actor(obs)
print(action.shape, log_prob)
torch.manual_seed(11)
mean2, log_std2 = actor.net(obs).chunk(2, dim=-1)
u = Normal(mean2, log_std2.clamp(-5, 2).exp()).rsample()
manual = (
    Normal(mean2, log_std2.clamp(-5, 2).exp()).log_prob(u)
    - 2 * (math.log(2) - u - F.softplus(-2 * u))
).sum(-1)
print(torch.allclose(manual, log_prob, atol=1e-5), torch.allclose(torch.tanh(u), action))
alpha = 0.2
(alpha * log_prob - action.pow(2).sum(-1)).mean().backward()
print(actor.net[0].weight.grad.norm() > 0)

# ---- variational Bayesian linear regression with HalfNormal priors ----------------------------
torch.manual_seed(3)
X = torch.randn(64, 3)
w_true = torch.tensor([1.5, -2.0, 0.5])
Y = X @ w_true + 0.3 * torch.randn(64)
prior_w = Normal(torch.zeros(3), torch.ones(3))
q_loc = nn.Parameter(torch.zeros(3))
q_rho = nn.Parameter(torch.full((3,), -3.0))
q_log_noise = nn.Parameter(torch.tensor(0.0))
noise_prior = HalfNormal(torch.tensor(1.0))
print(
    noise_prior,
    noise_prior.mean,
    noise_prior.variance,
    noise_prior.log_prob(torch.tensor([0.5, 1.5])),
)
opt = torch.optim.Adam([q_loc, q_rho, q_log_noise], lr=0.05)
for it in range(301):
    q = Normal(q_loc, F.softplus(q_rho))
    w = q.rsample((8,))
    noise = q_log_noise.exp()
    ll = Normal(w @ X.T, noise).log_prob(Y).sum(-1).mean()
    kl = kl_divergence(q, prior_w).sum()
    elbo = ll - kl + noise_prior.log_prob(noise)
    opt.zero_grad()
    (-elbo).backward()
    opt.step()
    if it % 100 == 0:
        print(f"it {it:3d} elbo {elbo.item():9.3f} kl {kl.item():.3f} noise {noise.item():.3f}")
print("posterior mean", q_loc.data, "std", F.softplus(q_rho).data)
