# A toy DDPM (Ho et al. 2020) on a 2-D Swiss roll, the way diffusion tutorials write it:
# linear beta schedule with torch.linspace, alphas_cumprod with cumprod, q_sample by
# gather-ing the schedule at random timesteps, a sinusoidal timestep embedding, the
# noise-prediction MSE loss, an EMA of the weights, and ancestral sampling under no_grad.
import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def swiss_roll(n):
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n))
    x = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / 10.0
    return x + 0.02 * torch.randn_like(x)


data = swiss_roll(512)
print(data.shape, data.mean(0), data.std(0))

T = 20
betas = torch.linspace(1e-4, 0.1, T)
alphas = 1.0 - betas
alphas_cumprod = torch.cumprod(alphas, dim=0)
alphas_cumprod_prev = F.pad(alphas_cumprod[:-1], (1, 0), value=1.0)
sqrt_recip_alphas = torch.sqrt(1.0 / alphas)
sqrt_alphas_cumprod = torch.sqrt(alphas_cumprod)
sqrt_one_minus_alphas_cumprod = torch.sqrt(1.0 - alphas_cumprod)
posterior_variance = betas * (1.0 - alphas_cumprod_prev) / (1.0 - alphas_cumprod)
print(betas[:3], alphas_cumprod[-1], posterior_variance[:3])


def extract(a, t, x_shape):
    batch_size = t.shape[0]
    out = a.gather(-1, t.cpu())
    return out.reshape(batch_size, *((1,) * (len(x_shape) - 1))).to(t.device)


def q_sample(x_start, t, noise=None):
    if noise is None:
        noise = torch.randn_like(x_start)
    return (
        extract(sqrt_alphas_cumprod, t, x_start.shape) * x_start
        + extract(sqrt_one_minus_alphas_cumprod, t, x_start.shape) * noise
    )


class SinusoidalPositionEmbeddings(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, time):
        half_dim = self.dim // 2
        embeddings = math.log(10000) / (half_dim - 1)
        embeddings = torch.exp(torch.arange(half_dim, device=time.device) * -embeddings)
        embeddings = time[:, None] * embeddings[None, :]
        embeddings = torch.cat((embeddings.sin(), embeddings.cos()), dim=-1)
        return embeddings


class Denoiser(nn.Module):
    def __init__(self, hidden=64, tdim=16):
        super().__init__()
        self.time_mlp = nn.Sequential(
            SinusoidalPositionEmbeddings(tdim), nn.Linear(tdim, hidden), nn.SiLU()
        )
        self.inp = nn.Linear(2, hidden)
        self.blocks = nn.ModuleList(
            [
                nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, hidden), nn.SiLU())
                for _ in range(2)
            ]
        )
        self.out = nn.Linear(hidden, 2)

    def forward(self, x, t):
        h = self.inp(x) + self.time_mlp(t.float())
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)


model = Denoiser()
print(model)
ema = copy.deepcopy(model)
for p in ema.parameters():
    p.requires_grad_(False)
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=120)

x0 = data[:4]
t = torch.tensor([0, 5, 10, 19])
print(
    extract(sqrt_alphas_cumprod, t, x0.shape).squeeze(1),
    q_sample(x0, t, noise=torch.zeros_like(x0)),
)

for step in range(120):
    idx = torch.randint(0, data.shape[0], (128,))
    x_start = data[idx]
    t = torch.randint(0, T, (x_start.shape[0],), device=x_start.device).long()
    noise = torch.randn_like(x_start)
    x_noisy = q_sample(x_start, t, noise)
    predicted_noise = model(x_noisy, t)
    loss = F.mse_loss(noise, predicted_noise)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    with torch.no_grad():
        for pe, pm in zip(ema.parameters(), model.parameters()):
            pe.mul_(0.95).add_(pm, alpha=0.05)
    if step % 30 == 0:
        print(f"step {step:3d} loss {loss.item():.4f} lr {scheduler.get_last_lr()[0]:.5f}")


@torch.no_grad()
def p_sample(model, x, t, t_index):
    betas_t = extract(betas, t, x.shape)
    sqrt_one_minus_alphas_cumprod_t = extract(sqrt_one_minus_alphas_cumprod, t, x.shape)
    sqrt_recip_alphas_t = extract(sqrt_recip_alphas, t, x.shape)
    model_mean = sqrt_recip_alphas_t * (x - betas_t * model(x, t) / sqrt_one_minus_alphas_cumprod_t)
    if t_index == 0:
        return model_mean
    posterior_variance_t = extract(posterior_variance, t, x.shape)
    noise = torch.randn_like(x)
    return model_mean + torch.sqrt(posterior_variance_t) * noise


@torch.no_grad()
def p_sample_loop(model, shape):
    b = shape[0]
    img = torch.randn(shape)
    imgs = []
    for i in reversed(range(0, T)):
        img = p_sample(model, img, torch.full((b,), i, dtype=torch.long), i)
        imgs.append(img.cpu().numpy())
    return imgs


samples = p_sample_loop(ema, (128, 2))
final = torch.from_numpy(samples[-1])
print(len(samples), final.shape, final.dtype)
print(f"sample mean {final.mean(0)} std {final.std(0)}")
r_data = data.norm(dim=1)
r_samp = final.norm(dim=1)
print(
    f"radius data {r_data.mean():.3f}±{r_data.std():.3f} samples {r_samp.mean():.3f}±{r_samp.std():.3f}"
)
hist = torch.histc(r_samp, bins=8, min=0, max=1.6)
print(hist)
