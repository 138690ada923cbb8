# Reinforcement learning and variational inference with torch.distributions, the way course
# notebooks write them: REINFORCE on a small corridor with a Categorical policy, a Gaussian
# policy trained through rsample, and a reparameterised posterior with a KL term.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical, Independent, MultivariateNormal, Normal, kl_divergence

torch.manual_seed(0)

# --- REINFORCE: walk right along a corridor of 5 cells to the reward in the last one --------
N_CELLS, MAX_STEPS, GAMMA = 5, 8, 0.9


def step(state, action):
    state = max(0, min(N_CELLS - 1, state + (1 if action == 1 else -1)))
    done = state == N_CELLS - 1
    return state, (1.0 if done else -0.1), done


policy = nn.Sequential(nn.Linear(N_CELLS, 16), nn.Tanh(), nn.Linear(16, 2))
opt = torch.optim.Adam(policy.parameters(), lr=0.05)
for episode in range(12):
    state, log_probs, rewards, entropies, actions = 0, [], [], [], []
    for _ in range(MAX_STEPS):
        dist = Categorical(logits=policy(F.one_hot(torch.tensor(state), N_CELLS).float()))
        action = dist.sample()
        log_probs.append(dist.log_prob(action))
        entropies.append(dist.entropy())
        state, reward, done = step(state, action.item())
        rewards.append(reward)
        actions.append(action.item())
        if done:
            break
    returns, g = [], 0.0
    for r in reversed(rewards):
        g = r + GAMMA * g
        returns.insert(0, g)
    returns = torch.tensor(returns)
    if len(returns) > 1:
        returns = (returns - returns.mean()) / (returns.std() + 1e-8)
    loss = -(torch.stack(log_probs) * returns).sum() - 0.01 * torch.stack(entropies).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"episode {episode}: actions {''.join(map(str, actions))} loss {loss.item():.4f}")

dist = Categorical(logits=policy(torch.eye(N_CELLS)))
print(dist)
print(dist.batch_shape, dist.event_shape, dist.probs.argmax(-1).tolist())
print(dist.sample((3,)).tolist())

# --- a Gaussian policy: actions near a target, trained through rsample ----------------------
torch.manual_seed(1)
mu = torch.zeros(3, requires_grad=True)
log_std = torch.zeros(3, requires_grad=True)
target = torch.tensor([1.0, -0.5, 2.0])
opt = torch.optim.SGD([mu, log_std], lr=0.1)
for it in range(20):
    pi = Normal(mu, log_std.exp())
    a = pi.rsample((16,))
    loss = ((a - target) ** 2).mean() - 0.01 * pi.entropy().sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    if it % 5 == 4:
        means = [round(v, 3) for v in mu.tolist()]
        print(f"gaussian policy {it}: loss {loss.item():.4f} mu {means}")
pi = Normal(mu.detach(), log_std.exp().detach())
print(pi, pi.mean.tolist() == mu.tolist())
print(pi.log_prob(target).round(decimals=4), pi.cdf(target).round(decimals=4))
print(Independent(pi, 1), Independent(pi, 1).log_prob(target).round(decimals=4))

# --- a reparameterised posterior: the VAE objective with one latent per data point ----------
torch.manual_seed(2)
x = torch.randn(8, 2) * 0.5 + torch.tensor([1.0, -1.0])
enc = nn.Linear(2, 4)
dec = nn.Linear(2, 2)
opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=0.02)
prior = Normal(torch.zeros(8, 2), torch.ones(8, 2))
for it in range(30):
    h = enc(x)
    q = Normal(h[:, :2], F.softplus(h[:, 2:]) + 1e-3)
    z = q.rsample()
    recon = Normal(dec(z), 0.5).log_prob(x).sum(-1)
    kl = kl_divergence(q, prior).sum(-1)
    elbo = (recon - kl).mean()
    opt.zero_grad()
    (-elbo).backward()
    opt.step()
    if it % 10 == 9:
        print(f"vae {it}: elbo {elbo.item():.4f} kl {kl.mean().item():.4f}")

# --- a correlated Gaussian ------------------------------------------------------------------
cov = torch.tensor([[1.0, 0.6], [0.6, 2.0]])
mvn = MultivariateNormal(torch.tensor([0.5, -0.5]), covariance_matrix=cov)
print(mvn, mvn.batch_shape, mvn.event_shape)
print(mvn.sample((2,)).round(decimals=4))
print(mvn.log_prob(torch.tensor([[0.0, 0.0], [1.0, -1.0]])).round(decimals=4))
print(mvn.entropy().round(decimals=4), mvn.variance.round(decimals=4))
other = MultivariateNormal(torch.zeros(2), scale_tril=torch.tensor([[1.0, 0.0], [0.3, 0.8]]))
print(kl_divergence(mvn, other).round(decimals=4))
try:
    Normal(torch.tensor([0.0, 1.0]), torch.tensor([1.0, -1.0]))
except ValueError as e:
    print("ValueError:", str(e).splitlines()[0])

# --- Bayesian updating: a Beta prior on a coin, Gamma and Dirichlet draws --------------------
from torch.distributions import Bernoulli, Beta, Dirichlet, Gamma  # noqa: E402

torch.manual_seed(3)
flips = Bernoulli(probs=torch.tensor(0.7)).sample((20,))
prior = Beta(torch.tensor(2.0), torch.tensor(2.0))
posterior = Beta(prior.concentration1 + flips.sum(), prior.concentration0 + (1 - flips).sum())
heads = int(flips.sum().item())
print(heads, posterior.mean.round(decimals=4), posterior.variance.round(decimals=5))
print(posterior.sample((4,)).round(decimals=4), kl_divergence(posterior, prior).round(decimals=4))
print(Gamma(torch.tensor([0.5, 3.0]), torch.tensor([1.0, 2.0])).sample((2,)).round(decimals=4))
print(Dirichlet(torch.tensor([1.0, 2.0, 3.0])).sample((2,)).round(decimals=4))
