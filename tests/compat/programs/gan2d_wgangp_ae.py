# Small adversarial and reconstruction models on 2-D/tabular toy data: a vanilla GAN on a
# ring of 8 Gaussians (BCEWithLogits, label smoothing, detach for the D step), a WGAN-GP
# critic with the gradient penalty from torch.autograd.grad(create_graph=True) and RMSprop/
# Adam(betas=(0.5, 0.9)), mode coverage counted with cdist, and an autoencoder anomaly
# detector thresholded with torch.quantile, scored with precision/recall.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def ring_of_gaussians(n, k=8, radius=2.0, std=0.05):
    centers = torch.tensor(
        [
            [radius * math.cos(2 * math.pi * i / k), radius * math.sin(2 * math.pi * i / k)]
            for i in range(k)
        ]
    )
    idx = torch.randint(0, k, (n,))
    return centers[idx] + std * torch.randn(n, 2), centers


def mlp(inp, out, hidden=64, act=nn.LeakyReLU(0.2)):  # noqa: B008
    return nn.Sequential(
        nn.Linear(inp, hidden), act, nn.Linear(hidden, hidden), act, nn.Linear(hidden, out)
    )


# ---- vanilla GAN ----------------------------------------------------------------------------
G = mlp(4, 2, act=nn.ReLU())
D = mlp(2, 1)
print(G)
opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
criterion = nn.BCEWithLogitsLoss()
for it in range(101):
    real, centers = ring_of_gaussians(64)
    z = torch.randn(128, 4)
    fake = G(z)
    d_real = D(real)
    d_fake = D(fake.detach())
    loss_d = criterion(d_real, torch.full_like(d_real, 0.9)) + criterion(
        d_fake, torch.zeros_like(d_fake)
    )
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    d_fake = D(fake)
    loss_g = criterion(d_fake, torch.ones_like(d_fake))
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    if it % 50 == 0:
        print(
            f"[{it:3d}] loss_D {loss_d.item():.4f} loss_G {loss_g.item():.4f} "
            f"D(x) {torch.sigmoid(d_real).mean().item():.3f} D(G(z)) {torch.sigmoid(d_fake).mean().item():.3f}"
        )

with torch.no_grad():
    samples = G(torch.randn(500, 4))
    dist = torch.cdist(samples, centers)
    nearest = dist.argmin(1)
    close = dist.min(1).values < 0.3
    print(
        "modes hit:",
        torch.unique(nearest[close]).tolist(),
        f"high quality {close.float().mean():.3f}",
    )
    print(torch.bincount(nearest, minlength=8))

# ---- WGAN-GP --------------------------------------------------------------------------------
torch.manual_seed(1)
G = mlp(4, 2, act=nn.ReLU())
C = mlp(2, 1)
opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.9))
opt_c = torch.optim.Adam(C.parameters(), lr=2e-4, betas=(0.5, 0.9))
lambda_gp = 10.0


def compute_gradient_penalty(critic, real_samples, fake_samples):
    alpha = torch.rand(real_samples.size(0), 1)
    interpolates = (alpha * real_samples + ((1 - alpha) * fake_samples)).requires_grad_(True)
    d_interpolates = critic(interpolates)
    fake = torch.ones(real_samples.shape[0], 1, requires_grad=False)
    gradients = torch.autograd.grad(
        outputs=d_interpolates,
        inputs=interpolates,
        grad_outputs=fake,
        create_graph=True,
        retain_graph=True,
        only_inputs=True,
    )[0]
    gradients = gradients.view(gradients.size(0), -1)
    gradient_penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean()
    return gradient_penalty


for it in range(31):
    for _ in range(5):
        real, _ = ring_of_gaussians(64)
        fake = G(torch.randn(64, 4)).detach()
        gp = compute_gradient_penalty(C, real, fake)
        loss_c = -torch.mean(C(real)) + torch.mean(C(fake)) + lambda_gp * gp
        opt_c.zero_grad()
        loss_c.backward()
        opt_c.step()
    loss_g = -torch.mean(C(G(torch.randn(64, 4))))
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    if it % 15 == 0:
        print(
            f"WGAN-GP [{it:3d}] critic {loss_c.item():.4f} gp {gp.item():.4f} G {loss_g.item():.4f}"
        )
w_dist = (C(real).mean() - C(G(torch.randn(64, 4))).mean()).item()
print(f"wasserstein estimate {w_dist:.4f}")

# ---- autoencoder anomaly detection ----------------------------------------------------------
torch.manual_seed(2)
n_features = 10
basis = torch.randn(3, n_features)
normal = torch.randn(600, 3) @ basis + 0.05 * torch.randn(600, n_features)
anomalies = torch.randn(30, n_features) * 1.5
mean, std = normal[:500].mean(0), normal[:500].std(0)
train = (normal[:500] - mean) / std
test = (torch.cat([normal[500:], anomalies]) - mean) / std
labels = torch.cat([torch.zeros(100), torch.ones(30)]).bool()


class AutoEncoder(nn.Module):
    def __init__(self, d, code=3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d, 16), nn.ELU(), nn.Linear(16, code))
        self.decoder = nn.Sequential(nn.Linear(code, 16), nn.ELU(), nn.Linear(16, d))

    def forward(self, x):
        return self.decoder(self.encoder(x))


ae = AutoEncoder(n_features)
opt = torch.optim.Adam(ae.parameters(), lr=3e-3, weight_decay=1e-5)
loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(train), batch_size=50, shuffle=True
)
for epoch in range(15):
    total = 0.0
    for (xb,) in loader:
        recon = ae(xb)
        loss = F.mse_loss(recon, xb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * xb.size(0)
    if epoch % 5 == 0:
        print(f"epoch {epoch:2d} recon mse {total / len(loader.dataset):.5f}")

ae.eval()
with torch.no_grad():
    train_err = ((ae(train) - train) ** 2).mean(dim=1)
    test_err = ((ae(test) - test) ** 2).mean(dim=1)
threshold = torch.quantile(train_err, 0.99)
pred = test_err > threshold
tp = (pred & labels).sum().item()
fp = (pred & ~labels).sum().item()
fn = (~pred & labels).sum().item()
precision = tp / max(tp + fp, 1)
recall = tp / max(tp + fn, 1)
print(
    f"threshold {threshold:.4f} tp {tp} fp {fp} fn {fn} precision {precision:.3f} recall {recall:.3f}"
)
print(torch.quantile(test_err, torch.tensor([0.1, 0.5, 0.9])))
print(test_err.topk(5).indices.sort().values, labels.nonzero().squeeze(1)[:5])
order = test_err.argsort(descending=True)
hits = labels[order].float().cumsum(0)
print("precision@k", (hits[[4, 9, 29]] / torch.tensor([5.0, 10.0, 30.0])).tolist())
