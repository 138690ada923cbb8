"""A fast-neural-style transformer net (reflection padding, instance norm, residual blocks,
nearest upsampling) trained a few Adam steps on a content + Gram-matrix style loss."""

import torch
import torch.nn as nn

torch.manual_seed(0)


def conv(i, o, k, s=1):
    return nn.Sequential(nn.ReflectionPad2d(k // 2), nn.Conv2d(i, o, k, s))


class Res(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1, self.n1, self.c2, self.n2 = (
            conv(c, c, 3),
            nn.InstanceNorm2d(c, affine=True),
            conv(c, c, 3),
            nn.InstanceNorm2d(c, affine=True),
        )

    def forward(self, x):
        return self.n2(self.c2(torch.relu(self.n1(self.c1(x))))) + x


net = nn.Sequential(
    conv(3, 8, 5),
    nn.InstanceNorm2d(8, affine=True),
    nn.ReLU(),
    conv(8, 16, 3, 2),
    nn.ReLU(),
    Res(16),
    Res(16),
    nn.Upsample(mode="nearest", scale_factor=2),
    conv(16, 8, 3),
    nn.InstanceNorm2d(8, affine=True),
    nn.ReLU(),
    conv(8, 3, 5),
)
print(net)


def gram(y):
    b, ch, h, w = y.size()
    f = y.view(b, ch, w * h)
    return f.bmm(f.transpose(1, 2)) / (ch * h * w)


x = torch.rand(2, 3, 16, 16)
style = torch.rand(1, 3, 16, 16)
opt = torch.optim.Adam(net.parameters(), 1e-3)
mse = nn.MSELoss()
gs = gram(style)
for step in range(5):
    opt.zero_grad()
    y = net(x)
    content = mse(y, x)
    sl = mse(gram(y), gs.expand(2, -1, -1))
    loss = content + 1e2 * sl
    loss.backward()
    opt.step()
    print(step, f"{content.item():.4f} {sl.item():.6f} {loss.item():.4f}")
print(y.shape, y.clamp(0, 1).mean().item() > 0, net[5].c1[1].weight.grad.shape)
