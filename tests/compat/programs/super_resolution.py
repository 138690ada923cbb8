# A tiny ESPCN-style super-resolution model (reflection padding, sub-pixel convolution),
# with a learnable per-stage scale in a ParameterList, trained against bilinear upsampling
# the way tutorials do it; plus a few of the layers such programs print.
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class SuperResolution(nn.Module):
    def __init__(self, upscale=2, channels=8):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(2),
            nn.Conv2d(1, channels, 5),
            nn.ReLU(),
            nn.ReplicationPad2d(1),
            nn.Conv2d(channels, upscale**2, 3),
            nn.PixelShuffle(upscale),
        )
        self.norm = nn.LocalResponseNorm(3)
        self.scales = nn.ParameterList([nn.Parameter(torch.ones(1)) for _ in range(2)])
        self.gates = nn.ParameterDict({"skip": nn.Parameter(torch.full((1,), 0.5))})
        self.up = nn.UpsamplingBilinear2d(scale_factor=upscale)

    def forward(self, x):
        y = self.body(x) * self.scales[0]
        return y + self.up(x) * self.gates["skip"] * self.scales[1]


model = SuperResolution()
print(model)
print([name for name, _ in model.named_parameters()])
print(list(model.state_dict().keys()))

high = torch.rand(4, 1, 12, 12)
low = F.avg_pool2d(high, 2)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for step in range(5):
    optimizer.zero_grad()
    loss = F.mse_loss(model(low), high)
    loss.backward()
    optimizer.step()
    print(f"step {step}: loss {loss.item():.5f}")

with torch.no_grad():
    sr = model(low)
print(tuple(sr.shape), f"{sr.mean().item():.4f}")
print(f"scales {model.scales[0].item():.4f} {model.scales[1].item():.4f}")

# a critic head: pixel unshuffle, RMSNorm, a lazily sized Linear and a bilinear score
critic = nn.Sequential(
    nn.PixelUnshuffle(2),
    nn.ZeroPad2d((1, 0, 1, 0)),
    nn.Conv2d(4, 4, 3),
    nn.Flatten(),
    nn.RMSNorm(100),
    nn.LazyLinear(6),
    nn.RReLU(),
    nn.AlphaDropout(0.2),
)
print(critic)
features = critic(sr)
print(critic)
pair = nn.Bilinear(6, 6, 1)
print(pair)
score = pair(features, features.flip(0))
print(tuple(score.shape), f"{score.sum().item():.4f}")

pool = nn.MaxPool2d(2, return_indices=True)
unpool = nn.MaxUnpool2d(2)
pooled, indices = pool(sr)
restored = unpool(pooled, indices)
print(unpool, tuple(restored.shape), f"{restored.sum().item():.2f}")
print(nn.Softmax2d()(sr[:1]).sum(dim=1).mean().item() > 0.999)
print(nn.CircularPad1d((1, 2)), nn.ConstantPad3d(1, 0.5), nn.ReflectionPad1d(3))
