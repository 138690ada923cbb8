# Probabilistic regression the way stats-minded PyTorch users write it: a Poisson GLM for
# counts (log link, torch.distributions.Poisson vs nn.PoissonNLLLoss), a robust regression
# with Cauchy and Student-t likelihoods against outliers, the Gumbel-max trick checked against
# Categorical sampling frequencies, and Gumbel-softmax relaxations.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical, Cauchy, Chi2, Gumbel, Normal, Poisson, StudentT

torch.manual_seed(0)
torch.set_printoptions(precision=4, sci_mode=False)

# ---- Poisson GLM -----------------------------------------------------------------------------
n = 300
X = torch.randn(n, 3)
true_w = torch.tensor([0.5, -0.3, 0.8])
rate = torch.exp(0.2 + X @ true_w)
y = Poisson(rate).sample()
print(y[:10], y.dtype, y.mean(), y.max())

glm = nn.Linear(3, 1)
opt = torch.optim.LBFGS(glm.parameters(), lr=0.5, max_iter=50)


def closure():
    opt.zero_grad()
    log_rate = glm(X).squeeze(-1)
    loss = -Poisson(log_rate.exp()).log_prob(y).mean()
    loss.backward()
    return loss


for i in range(3):
    loss = opt.step(closure)
    print(f"lbfgs round {i}: nll {loss.item():.5f}")
print("w", glm.weight.data.squeeze(), "b", glm.bias.data)
log_rate = glm(X).squeeze(-1).detach()
crit = nn.PoissonNLLLoss(log_input=True, full=True)
print(
    f"PoissonNLLLoss(full=True) {crit(log_rate, y).item():.5f} vs -log_prob "
    f"{-Poisson(log_rate.exp()).log_prob(y).mean().item():.5f}"
)
print(f"PoissonNLLLoss(full=False) {F.poisson_nll_loss(log_rate, y).item():.5f}")
d = Poisson(torch.tensor([0.5, 3.0]))
print(d, d.mean, d.mode, d.variance, d.support)
print(d.log_prob(torch.tensor([[0.0, 1.0], [2.0, 5.0]])))
print(Poisson(torch.tensor(4.0)).sample((8,)))
print(Poisson(torch.tensor([1.0, 10.0, 100.0])).expand((2, 3)).sample())

# ---- robust regression with a Cauchy likelihood ----------------------------------------------
x = torch.linspace(-2, 2, 60, dtype=torch.float64)
y_lin = 1.5 * x - 0.5 + 0.1 * torch.randn(60, dtype=torch.float64)
y_lin[::10] += 8.0  # outliers
params = {k: torch.zeros((), dtype=torch.float64, requires_grad=True) for k in ("a", "b", "log_s")}
opt = torch.optim.Adam(params.values(), lr=0.05)
for step in range(400):
    pred = params["a"] * x + params["b"]
    nll = -Cauchy(pred, params["log_s"].exp()).log_prob(y_lin).mean()
    opt.zero_grad()
    nll.backward()
    opt.step()
    if step % 100 == 0:
        print(f"cauchy step {step}: nll {nll.item():.4f}")
print({k: round(v.item(), 3) for k, v in params.items()})
ls = torch.linalg.lstsq(
    torch.stack([x, torch.ones_like(x)], 1), y_lin.unsqueeze(1)
).solution.squeeze()
print("least squares (pulled by outliers):", ls)
c = Cauchy(torch.tensor([0.0]), torch.tensor([2.0]))
print(c, c.mean, c.variance, c.entropy(), c.cdf(torch.tensor([2.0])), c.icdf(torch.tensor([0.75])))
print(c.sample((3,)).squeeze(-1), Normal(0.0, 1.0).sample((3,)))

# the same fit with a Student-t likelihood (degrees of freedom learned too)

raw = {
    k: torch.zeros((), dtype=torch.float64, requires_grad=True)
    for k in ("a", "b", "log_s", "log_df")
}
opt = torch.optim.Adam(raw.values(), lr=0.05)
for step in range(200):
    t_dist = StudentT(raw["log_df"].exp() + 1.0, raw["a"] * x + raw["b"], raw["log_s"].exp())
    nll = -t_dist.log_prob(y_lin).mean()
    opt.zero_grad()
    nll.backward()
    opt.step()
print(
    f"student-t nll {nll.item():.4f} df {raw['log_df'].exp().item() + 1:.3f}",
    {k: round(v.item(), 3) for k, v in raw.items()},
)
st = StudentT(torch.tensor([1.5, 4.0]))
print(st, st.mean, st.variance, st.entropy(), st.sample((3,)))
print(Chi2(torch.tensor([3.0])).sample((4,)).squeeze(1), Chi2(torch.tensor(3.0)).mean)

# ---- Gumbel-max trick ------------------------------------------------------------------------
logits = torch.tensor([1.0, 0.0, -1.0, 2.0])
g = Gumbel(torch.zeros(4), torch.ones(4))
print(g, g.mean, g.stddev, g.entropy())
draws = (logits + g.sample((20000,))).argmax(-1)
freq = torch.bincount(draws, minlength=4).float() / 20000
print("gumbel-max freq ", freq)
print("softmax probs   ", logits.softmax(-1))
cat_freq = torch.bincount(Categorical(logits=logits).sample((20000,)), minlength=4).float() / 20000
print("categorical freq", cat_freq)
print((freq - logits.softmax(-1)).abs().max() < 0.02)
print(g.log_prob(torch.tensor([0.0, 1.0, -1.0, 3.0])))

# ---- Gumbel-softmax relaxations --------------------------------------------------------------
torch.manual_seed(5)
logits = torch.randn(3, 5, requires_grad=True)
soft = F.gumbel_softmax(logits, tau=0.5)
hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
print(soft.sum(-1), hard, hard.argmax(-1))
(hard * torch.arange(5.0)).sum().backward()
print(logits.grad.abs().sum() > 0, logits.grad.shape)
