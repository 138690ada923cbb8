# Normalising flows, squashed-Gaussian policies and mixture densities with torch.distributions,
# the way course notebooks and RL codebases write them: a SAC-style tanh-squashed Gaussian
# actor (rsample, log_prob through TransformedDistribution with a cached TanhTransform), a
# small affine/tanh flow fitted by maximum likelihood, a mixture density network on 1-D data,
# and the heavy-tailed / count families scored and sampled.
import math

import torch
import torch.nn as nn
from torch.distributions import (
    Binomial,
    Categorical,
    Cauchy,
    Geometric,
    Gumbel,
    HalfNormal,
    Independent,
    LogNormal,
    MixtureSameFamily,
    Multinomial,
    Normal,
    Poisson,
    RelaxedOneHotCategorical,
    StudentT,
    TransformedDistribution,
    biject_to,
    constraints,
    kl_divergence,
)
from torch.distributions.transforms import (
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    SigmoidTransform,
    StickBreakingTransform,
    TanhTransform,
)

torch.manual_seed(0)


# --- a SAC actor: tanh(Normal) scaled to the action bounds ----------------------------------
class Actor(nn.Module):
    def __init__(self, obs_dim, act_dim, low, high):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 32), nn.ReLU(), nn.Linear(32, 2 * act_dim))
        self.loc, self.scale = (high + low) / 2, (high - low) / 2

    def forward(self, obs):
        mu, log_std = self.net(obs).chunk(2, dim=-1)
        std = log_std.clamp(-5, 2).exp()
        base = Independent(Normal(mu, std), 1)
        squash = [TanhTransform(cache_size=1), AffineTransform(self.loc, self.scale)]
        return TransformedDistribution(base, squash)


actor = Actor(3, 2, torch.tensor([-1.0, 0.0]), torch.tensor([1.0, 2.0]))
opt = torch.optim.Adam(actor.parameters(), lr=1e-2)
obs = torch.randn(16, 3)
for step in range(6):
    pi = actor(obs)
    action = pi.rsample()
    log_prob = pi.log_prob(action)
    q_value = -((action - torch.tensor([0.5, 1.5])) ** 2).sum(-1)  # a stand-in critic
    loss = (0.2 * log_prob - q_value).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"actor step {step}: loss {loss.item():.5f} log_prob {log_prob.mean().item():.5f}")
print(pi.batch_shape, pi.event_shape, pi.support)
low, high = torch.tensor([-1.0, 0.0]), torch.tensor([1.0, 2.0])
print("action in bounds:", bool(((action >= low) & (action <= high)).all()))
with torch.no_grad():
    print("deterministic action:", actor(obs[:2]).base_dist.mean.tanh())

# --- a two-layer flow: Normal -> affine -> tanh-free exp, fitted to log-normal data ------------
data = LogNormal(torch.tensor([0.5, -0.3]), torch.tensor([0.4, 0.8])).sample((256,))
shift = torch.zeros(2, requires_grad=True)
log_scale = torch.zeros(2, requires_grad=True)
opt = torch.optim.Adam([shift, log_scale], lr=0.1)
for it in range(60):
    flow = TransformedDistribution(
        Normal(torch.zeros(2), torch.ones(2)),
        [AffineTransform(shift, log_scale.exp()), ExpTransform()],
    )
    nll = -flow.log_prob(data).sum(-1).mean()
    opt.zero_grad()
    nll.backward()
    opt.step()
    if it % 15 == 0:
        print(f"flow iter {it}: nll {nll.item():.5f}")
print("flow fit:", shift.detach(), log_scale.detach().exp())
chain = ComposeTransform([AffineTransform(shift, log_scale.exp()), ExpTransform()])
z = torch.randn(4, 2)
print("chain round trip:", torch.allclose(chain.inv(chain(z)), z, atol=1e-5))
print(chain)

# --- a mixture density network on a bimodal 1-D target ------------------------------------
K = 3
x = torch.linspace(-1, 1, 64).unsqueeze(-1)
y = torch.where(torch.rand(64, 1) < 0.5, 2 * x, -2 * x) + 0.1 * torch.randn(64, 1)
mdn = nn.Sequential(nn.Linear(1, 24), nn.Tanh(), nn.Linear(24, 3 * K))
opt = torch.optim.Adam(mdn.parameters(), lr=2e-2)
for it in range(40):
    logits, mu, log_sigma = mdn(x).split(K, dim=-1)
    mix = MixtureSameFamily(Categorical(logits=logits), Normal(mu, log_sigma.exp()))
    nll = -mix.log_prob(y.squeeze(-1)).mean()
    opt.zero_grad()
    nll.backward()
    opt.step()
    if it % 10 == 0:
        print(f"mdn iter {it}: nll {nll.item():.3f}")
print(mix.batch_shape, mix.mean[:3].detach(), mix.variance[:3].detach())
print(mix.sample((2,)).shape)

# --- the other families: scores, moments, samples, KL ---------------------------------------
dists = [
    HalfNormal(torch.tensor([1.0, 2.0])),
    StudentT(torch.tensor([3.0, 9.0]), torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.5])),
    Cauchy(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 2.0])),
    Gumbel(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 2.0])),
    Poisson(torch.tensor([3.0, 0.5])),
    Geometric(torch.tensor([0.3, 0.7])),
    LogNormal(torch.tensor([0.0, 0.5]), torch.tensor([1.0, 0.3])),
]
value = torch.tensor([1.0, 2.0])
for d in dists:
    torch.manual_seed(3)
    print(type(d).__name__, d.log_prob(value), d.mean, d.sample((3,)))
bino = Binomial(10, torch.tensor([0.2, 0.9]))
print(bino, bino.log_prob(torch.tensor([2.0, 9.0])), bino.entropy(), bino.mode)
multi = Multinomial(8, probs=torch.tensor([0.2, 0.3, 0.5]))
torch.manual_seed(4)
counts = multi.sample((3,))
print(counts, multi.log_prob(counts))
relaxed = RelaxedOneHotCategorical(torch.tensor(0.5), logits=torch.tensor([1.0, 0.0, -1.0]))
print(relaxed.rsample((2,)), relaxed.log_prob(torch.tensor([0.7, 0.2, 0.1])))
print(kl_divergence(Gumbel(0.0, 1.0), Normal(0.5, 2.0)), kl_divergence(dists[0], HalfNormal(3.0)))

# --- constrained parameters through biject_to ---------------------------------------------
raw = torch.zeros(3, requires_grad=True)
probs = biject_to(constraints.simplex)(raw)
print(biject_to(constraints.simplex), probs)
print("round trip:", StickBreakingTransform().inv(probs).abs().max().item() < 1e-6)
bounded = biject_to(constraints.interval(-2.0, 3.0))
print(bounded, bounded(torch.tensor([0.0, 10.0])), SigmoidTransform()(torch.tensor(0.0)))
print(math.isclose(probs.sum().item(), 1.0, rel_tol=1e-6))
