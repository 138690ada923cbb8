"""A small U-Net (ConvTranspose2d up path with skip concatenation) on synthetic
segmentation masks, plus the resize ops people reach for: nn.Upsample and
F.interpolate in every mode (nearest, nearest-exact, bilinear, bicubic, area, with and
without align_corners, scale_factor and size), PixelShuffle / PixelUnshuffle,
MaxUnpool2d, and Dice/BCE losses."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1)
torch.set_printoptions(precision=3)

x = torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4)
for mode in ["nearest", "nearest-exact", "bilinear", "bicubic", "area"]:
    out = F.interpolate(x, scale_factor=1.5, mode=mode)
    print(mode, tuple(out.shape))
    print(out[0, 0])
for mode in ["bilinear", "bicubic"]:
    print(mode, "align_corners=True")
    print(F.interpolate(x, size=(3, 5), mode=mode, align_corners=True)[0, 0])
print(F.interpolate(x, size=(2, 2), mode="area")[0, 0])
print(F.interpolate(x, size=(6, 3), mode="nearest")[0, 0])
seq = torch.tensor([[[1.0, 2.0, 4.0, 8.0]]])
print(F.interpolate(seq, scale_factor=2, mode="linear"))
print(F.interpolate(seq, size=7, mode="linear", align_corners=True))
print(F.interpolate(seq, size=6, mode="nearest"))
print(nn.Upsample(scale_factor=2, mode="nearest")(x).shape)
up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
print(up, up(x)[0, 0, :2])
vol = torch.arange(8.0).reshape(1, 1, 2, 2, 2)
print(
    F.interpolate(vol, scale_factor=2, mode="trilinear").shape,
    F.interpolate(vol, scale_factor=2, mode="trilinear")[0, 0, 1],
)

ps = nn.PixelShuffle(2)
pu = nn.PixelUnshuffle(2)
t = torch.arange(32.0).reshape(1, 8, 2, 2)
print(ps, ps(t).shape, ps(t)[0, 0])
print(pu(ps(t)).equal(t))

pool = nn.MaxPool2d(2, stride=2, return_indices=True)
unpool = nn.MaxUnpool2d(2, stride=2)
inp = torch.tensor([[[[1.0, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]])
o, idx = pool(inp)
print(idx)
print(unpool(o, idx))


def double_conv(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    def __init__(self, in_ch=1, out_ch=1, base=4):
        super().__init__()
        self.inc = double_conv(in_ch, base)
        self.down1 = nn.Sequential(nn.MaxPool2d(2), double_conv(base, base * 2))
        self.down2 = nn.Sequential(nn.MaxPool2d(2), double_conv(base * 2, base * 4))
        self.up1 = nn.ConvTranspose2d(base * 4, base * 2, kernel_size=2, stride=2)
        self.conv1 = double_conv(base * 4, base * 2)
        self.up2 = nn.ConvTranspose2d(base * 2, base, kernel_size=2, stride=2)
        self.conv2 = double_conv(base * 2, base)
        self.outc = nn.Conv2d(base, out_ch, kernel_size=1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        u = self.up1(x3)
        diffY = x2.size()[2] - u.size()[2]
        diffX = x2.size()[3] - u.size()[3]
        u = F.pad(u, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        u = self.conv1(torch.cat([x2, u], dim=1))
        u = self.up2(u)
        u = self.conv2(torch.cat([x1, u], dim=1))
        return self.outc(u)


def dice_loss(logits, target, eps=1.0):
    probs = torch.sigmoid(logits)
    num = 2 * (probs * target).sum(dim=(2, 3)) + eps
    den = probs.sum(dim=(2, 3)) + target.sum(dim=(2, 3)) + eps
    return 1 - (num / den).mean()


# synthetic images: a disc on noise; the mask is the disc
N, H = 12, 16
yy, xx = torch.meshgrid(torch.arange(H), torch.arange(H), indexing="ij")
centres = torch.randint(4, 12, (N, 2))
masks = torch.stack(
    [((yy - cy) ** 2 + (xx - cx) ** 2 <= 9).float() for cy, cx in centres.tolist()]
).unsqueeze(1)
imgs = masks + 0.3 * torch.randn(N, 1, H, H)
print("masks", masks.shape, "foreground fraction", f"{masks.mean().item():.4f}")

net = UNet()
print(net.up1, net.up1.weight.shape)
print("params", sum(p.numel() for p in net.parameters()))
opt = torch.optim.Adam(net.parameters(), lr=1e-2)
bce = nn.BCEWithLogitsLoss()
for it in range(6):
    opt.zero_grad()
    logits = net(imgs)
    loss_bce = bce(logits, masks)
    loss_dice = dice_loss(logits, masks)
    loss = loss_bce + loss_dice
    loss.backward()
    opt.step()
    with torch.no_grad():
        pred = (logits > 0).float()
        inter = (pred * masks).sum()
        union = ((pred + masks) > 0).float().sum()
        iou = inter / union
    print(f"iter {it} bce {loss_bce.item():.4f} dice {loss_dice.item():.4f} IoU {iou.item():.4f}")
print(net.outc.bias.grad)
ct = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1, groups=1, dilation=1)
print(ct(torch.ones(1, 2, 3, 3)).shape)
print(nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, groups=2)(torch.ones(1, 4, 3, 3)).shape)
