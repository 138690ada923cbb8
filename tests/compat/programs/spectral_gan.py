# A tiny GAN on a 2-D ring: a spectrally normalised discriminator (the hook API and the
# parametrization API), a weight-normalised generator, trained a few steps with Adam.
import math

import torch
import torch.nn as nn
from torch.nn.utils import parametrizations, parametrize, spectral_norm, weight_norm

torch.manual_seed(0)


def real_batch(n):
    angle = torch.rand(n) * 2 * math.pi
    return torch.stack([angle.cos(), angle.sin()], dim=1) + 0.05 * torch.randn(n, 2)


D = nn.Sequential(
    spectral_norm(nn.Linear(2, 32)),
    nn.LeakyReLU(0.2),
    parametrizations.spectral_norm(nn.Linear(32, 32)),
    nn.LeakyReLU(0.2),
    spectral_norm(nn.Linear(32, 1), n_power_iterations=2),
)
G = nn.Sequential(weight_norm(nn.Linear(4, 32)), nn.Tanh(), weight_norm(nn.Linear(32, 2), dim=1))
print(D)
print(G)
print(list(D.state_dict().keys()))
print(list(G.state_dict().keys()))
print(parametrize.is_parametrized(D[2]), parametrize.type_before_parametrizations(D[2]).__name__)
print(D[0].weight_u.shape, D[4].weight_v.shape, G[2].weight_g.shape)

bce = nn.BCEWithLogitsLoss()
opt_d = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.9))
opt_g = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.9))
for step in range(6):
    real, fake = real_batch(32), G(torch.randn(32, 4))
    d_loss = bce(D(real), torch.ones(32, 1)) + bce(D(fake.detach()), torch.zeros(32, 1))
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    g_loss = bce(D(G(torch.randn(32, 4))), torch.ones(32, 1))
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    sigma = torch.linalg.matrix_norm(D[0].weight, 2).item()
    print(f"step {step}: D {d_loss.item():.4f}  G {g_loss.item():.4f}  sigma(W0) {sigma:.4f}")

D.eval()
with torch.no_grad():
    scores = D(real_batch(4))
print(scores.squeeze(1))
print(D[0].weight_u[:3])
nn.utils.remove_spectral_norm(D[0])
parametrize.remove_parametrizations(D[2], "weight")
nn.utils.remove_weight_norm(G[0])
print(list(D.state_dict().keys()))
print(type(D[2]).__name__, list(G[0].state_dict().keys()))
