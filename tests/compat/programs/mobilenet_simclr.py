# A MobileNet-style network (depthwise separable convolutions, squeeze-and-excitation,
# hardswish, inverted residuals) trained with SimCLR's NT-Xent contrastive loss on two
# augmented views, then a linear probe; the idioms of self-supervised tutorials.
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class SqueezeExcite(nn.Module):
    def __init__(self, channels, reduction=4):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Conv2d(channels, channels // reduction, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels // reduction, channels, 1),
            nn.Hardsigmoid(inplace=True),
        )

    def forward(self, x):
        return x * self.fc(self.pool(x))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.block = nn.Sequential(
            nn.Conv2d(cin, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.Hardswish(inplace=True),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.Hardswish(inplace=True),
            SqueezeExcite(hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        )

    def forward(self, x):
        out = self.block(x)
        return x + out if self.use_res else out


class Encoder(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.Hardswish()
        )
        self.blocks = nn.Sequential(
            InvertedResidual(8, 8, 1, 2),
            InvertedResidual(8, 16, 2, 3),
            InvertedResidual(16, 16, 1, 3),
        )
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, dim))

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


def augment(x):
    # random crops by rolling, flips, brightness jitter, gaussian noise
    shift = torch.randint(-2, 3, (2,))
    x = torch.roll(x, shifts=(int(shift[0]), int(shift[1])), dims=(2, 3))
    flip = torch.rand(x.size(0)) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    x = x * (1 + 0.2 * (torch.rand(x.size(0), 1, 1, 1) - 0.5))
    return (x + 0.05 * torch.randn_like(x)).clamp(0, 1)


def nt_xent(z1, z2, temperature=0.5):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.t() / temperature
    n = z1.size(0)
    sim.masked_fill_(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, targets)


images = torch.rand(64, 3, 16, 16)
labels = (images[:, 0].mean((1, 2)) > images[:, 2].mean((1, 2))).long()
encoder = Encoder()
projector = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 16))
params = list(encoder.parameters()) + list(projector.parameters())
print("encoder parameters:", sum(p.numel() for p in encoder.parameters() if p.requires_grad))
opt = torch.optim.Adam(params, lr=3e-3, weight_decay=1e-6)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6)
for epoch in range(3):
    total = 0.0
    for i in range(0, 64, 16):
        x = images[i : i + 16]
        loss = nt_xent(projector(encoder(augment(x))), projector(encoder(augment(x))))
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item()
    sched.step()
    print(f"epoch {epoch}: nt-xent {total / 4:.4f}, lr {sched.get_last_lr()[0]:.6f}")

# linear probe on frozen features
encoder.eval()
with torch.no_grad():
    feats = encoder(images)
print("features:", feats.shape, f"{feats.std().item():.2f}")  # Adam amplifies float32 rounding
probe = nn.Linear(32, 2)
popt = torch.optim.SGD(probe.parameters(), lr=0.5, momentum=0.9)
for step in range(20):
    loss = F.cross_entropy(probe(feats), labels)
    popt.zero_grad()
    loss.backward()
    popt.step()
acc = (probe(feats).argmax(1) == labels).float().mean()
print(f"probe loss {loss.item():.4f}, accuracy {acc.item():.3f}")
bn = encoder.stem[1]
print("bn running mean:", bn.running_mean[:4], "batches tracked:", bn.num_batches_tracked)
print(encoder.blocks[1].block[6])
