"""Image augmentation written by hand (what people do without torchvision.transforms):
random crop with reflect padding, horizontal flip, rotation by affine_grid/grid_sample,
colour jitter, Gaussian blur as a grouped conv2d, cutout, normalisation with per-channel
mean/std from the data; a Dataset applying them with a seeded Generator; a small CNN on
channels_last inputs; then a Grad-CAM heat map and a saliency map from hooks and
input gradients, and test-time augmentation."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(0)


def make_shapes(n, g):
    """Three classes of 3x24x24 images: a square, a cross, a diagonal band."""
    imgs = torch.zeros(n, 3, 24, 24)
    labels = torch.randint(0, 3, (n,), generator=g)
    yy, xx = torch.meshgrid(torch.arange(24), torch.arange(24), indexing="ij")
    for i, k in enumerate(labels.tolist()):
        colour = torch.rand(3, 1, 1, generator=g) * 0.5 + 0.5
        if k == 0:
            mask = ((yy - 12).abs() < 6) & ((xx - 12).abs() < 6)
        elif k == 1:
            mask = ((yy - 12).abs() < 2) | ((xx - 12).abs() < 2)
        else:
            mask = (yy - xx).abs() < 3
        imgs[i] = mask.float() * colour
    return imgs + 0.05 * torch.randn(imgs.shape, generator=g), labels


class RandomCrop:
    def __init__(self, size, padding):
        self.size, self.padding = size, padding

    def __call__(self, img, g):
        img = F.pad(img.unsqueeze(0), [self.padding] * 4, mode="reflect").squeeze(0)
        h, w = img.shape[1:]
        top = int(torch.randint(0, h - self.size + 1, (1,), generator=g))
        left = int(torch.randint(0, w - self.size + 1, (1,), generator=g))
        return img[:, top : top + self.size, left : left + self.size]


def hflip(img, g, p=0.5):
    return img.flip(-1) if torch.rand(1, generator=g).item() < p else img


def rotate(img, degrees):
    a = math.radians(degrees)
    theta = torch.tensor([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]])
    grid = F.affine_grid(theta.unsqueeze(0), [1, *img.shape], align_corners=False)
    return F.grid_sample(
        img.unsqueeze(0), grid, mode="bilinear", padding_mode="zeros", align_corners=False
    ).squeeze(0)


def color_jitter(img, g, brightness=0.2, contrast=0.2, saturation=0.2):
    b = 1 + (torch.rand(1, generator=g).item() * 2 - 1) * brightness
    img = (img * b).clamp(0, 1)
    c = 1 + (torch.rand(1, generator=g).item() * 2 - 1) * contrast
    gray = (0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2]).unsqueeze(0)
    img = ((img - gray.mean()) * c + gray.mean()).clamp(0, 1)
    s = 1 + (torch.rand(1, generator=g).item() * 2 - 1) * saturation
    gray = (0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2]).unsqueeze(0)
    return torch.lerp(gray.expand_as(img), img, s).clamp(0, 1)


def gaussian_kernel(ks=5, sigma=1.0):
    ax = torch.arange(ks, dtype=torch.float32) - (ks - 1) / 2
    k1 = torch.exp(-(ax**2) / (2 * sigma**2))
    k1 = k1 / k1.sum()
    return torch.outer(k1, k1)


def blur(img, ks=5, sigma=1.0):
    k = gaussian_kernel(ks, sigma).expand(img.shape[0], 1, ks, ks)
    return F.conv2d(
        F.pad(img.unsqueeze(0), [ks // 2] * 4, mode="replicate"), k, groups=img.shape[0]
    ).squeeze(0)


def cutout(img, g, size=6):
    h, w = img.shape[1:]
    cy = int(torch.randint(0, h, (1,), generator=g))
    cx = int(torch.randint(0, w, (1,), generator=g))
    img = img.clone()
    img[:, max(0, cy - size // 2) : cy + size // 2, max(0, cx - size // 2) : cx + size // 2] = 0
    return img


g = torch.Generator().manual_seed(1)
train_x, train_y = make_shapes(48, g)
test_x, test_y = make_shapes(24, g)
mean = train_x.mean(dim=(0, 2, 3))
std = train_x.std(dim=(0, 2, 3))
print("channel mean", mean, "std", std)

sample = train_x[0]
print("crop", RandomCrop(20, 2)(sample, torch.Generator().manual_seed(0)).shape)
print(
    "rot90 == rotate(90)?",
    torch.allclose(torch.rot90(sample, 1, dims=(1, 2)), rotate(sample, -90), atol=1e-5),
)
print(
    "rotate 30 sum",
    f"{rotate(sample, 30).sum().item():.4f}",
    "blur sum",
    f"{blur(sample).sum().item():.4f}",
)
print("kernel\n", gaussian_kernel(3, 0.8))
print("jitter", f"{color_jitter(sample, torch.Generator().manual_seed(2)).mean().item():.4f}")


class AugDataset(Dataset):
    def __init__(self, x, y, train=True, seed=0):
        self.x, self.y, self.train = x, y, train
        self.g = torch.Generator().manual_seed(seed)
        self.crop = RandomCrop(24, 3)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        img = self.x[i]
        if self.train:
            img = self.crop(img, self.g)
            img = hflip(img, self.g)
            img = rotate(img, (torch.rand(1, generator=self.g).item() - 0.5) * 30)
            img = color_jitter(img, self.g)
            if torch.rand(1, generator=self.g).item() < 0.3:
                img = blur(img)
            img = cutout(img, self.g)
        img = (img - mean[:, None, None]) / std[:, None, None]
        return img, self.y[i]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.Conv2d(8, 16, 3, padding=1, stride=2, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.Conv2d(16, 16, 3, padding=1),
            nn.ReLU(),
        )
        self.classifier = nn.Linear(16, 3)

    def forward(self, x):
        f = self.features(x)
        return self.classifier(F.adaptive_avg_pool2d(f, 1).flatten(1))


loader = DataLoader(
    AugDataset(train_x, train_y),
    batch_size=16,
    shuffle=True,
    generator=torch.Generator().manual_seed(4),
)
model = Net().to(memory_format=torch.channels_last)
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
for epoch in range(3):
    model.train()
    total = 0.0
    for xb, yb in loader:
        xb = xb.contiguous(memory_format=torch.channels_last)
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(xb)
    print(f"epoch {epoch} loss {total / len(loader.dataset):.4f}")

model.eval()
test_ds = AugDataset(test_x, test_y, train=False)
xt = torch.stack([test_ds[i][0] for i in range(len(test_ds))])
with torch.no_grad():
    logits = model(xt)
    tta = (logits.softmax(1) + model(xt.flip(-1)).softmax(1)) / 2
print(
    "acc",
    (logits.argmax(1) == test_y).float().mean().item(),
    "tta acc",
    (tta.argmax(1) == test_y).float().mean().item(),
)

# Grad-CAM on the last conv layer
store = {}
target_layer = model.features[6]
fh = target_layer.register_forward_hook(lambda m, i, o: store.__setitem__("act", o))
bh = target_layer.register_full_backward_hook(lambda m, gi, go: store.__setitem__("grad", go[0]))
x = xt[:2].clone().requires_grad_(True)
out = model(x)
cls = out.argmax(1)
out.gather(1, cls[:, None]).sum().backward()
weights = store["grad"].mean(dim=(2, 3), keepdim=True)
cam = F.relu((weights * store["act"]).sum(1, keepdim=True))
cam = F.interpolate(cam, size=x.shape[2:], mode="bilinear", align_corners=False)
cam = (cam - cam.amin(dim=(2, 3), keepdim=True)) / (
    cam.amax(dim=(2, 3), keepdim=True) - cam.amin(dim=(2, 3), keepdim=True) + 1e-8
)
print("grad-cam", cam.shape, f"{cam.mean().item():.4f}", cam[0, 0, ::6, ::6])
saliency = x.grad.abs().amax(dim=1)
print("saliency", saliency.shape, f"{saliency.max().item():.4f}", saliency[0].argmax().item())
fh.remove()
bh.remove()
print("hooks left", len(target_layer._forward_hooks), len(target_layer._backward_hooks))
