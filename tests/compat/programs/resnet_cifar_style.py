"""A small ResNet / MobileNet style classifier on synthetic 3x16x16 images (what a user
writes without torchvision): BasicBlock with downsample, depthwise-separable block,
nn.AdaptiveAvgPool2d, Dropout2d, BatchNorm train/eval switching, ModuleList/ModuleDict,
model.apply(init_fn), parameter counts, forward hooks for feature extraction."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(42)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super(BasicBlock, self).__init__()
        self.conv1 = nn.Conv2d(
            in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False
        )
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(
                    in_planes, self.expansion * planes, kernel_size=1, stride=stride, bias=False
                ),
                nn.BatchNorm2d(self.expansion * planes),
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        out = F.relu(out)
        return out


class DepthwiseSeparable(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False)
        self.bn1 = nn.BatchNorm2d(cin)
        self.pw = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        x = F.relu6(self.bn1(self.dw(x)))
        return F.relu6(self.bn2(self.pw(x)))


class TinyNet(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True)
        )
        self.layers = nn.ModuleList([BasicBlock(8, 8), BasicBlock(8, 16, stride=2)])
        self.extra = nn.ModuleDict(
            {
                "mobile": DepthwiseSeparable(16, 16),
                "grouped": nn.Conv2d(16, 16, 3, padding=1, groups=4),
            }
        )
        self.drop = nn.Dropout2d(p=0.2)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x)
        x = self.extra["mobile"](x)
        x = F.relu(self.extra["grouped"](x))
        x = self.drop(x)
        x = self.pool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def init_weights(m):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        if m.bias is not None:
            nn.init.constant_(m.bias, 0)
    elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
        nn.init.constant_(m.weight, 1)
        nn.init.constant_(m.bias, 0)
    elif isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, 0, 0.01)
        nn.init.zeros_(m.bias)


model = TinyNet()
model.apply(init_weights)
print(model)
total = sum(p.numel() for p in model.parameters())
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f"Total params: {total:,} | trainable: {trainable:,}")
for name, buf in model.named_buffers():
    if "layers.1" in name:
        print(name, tuple(buf.shape), buf.dtype)

# synthetic data: class k has a bright square in quadrant k
N = 64
labels = torch.randint(0, 4, (N,))
images = torch.randn(N, 3, 16, 16) * 0.3
for i, k in enumerate(labels.tolist()):
    r, c = divmod(k, 2)
    images[i, :, r * 8 : (r + 1) * 8, c * 8 : (c + 1) * 8] += 1.0
print("images", images.shape, f"mean={images.mean():.4f} std={images.std():.4f}")

features = {}


def get_activation(name):
    def hook(model, input, output):
        features[name] = output.detach()

    return hook


handle = model.layers[1].register_forward_hook(get_activation("layer2"))
optimizer = torch.optim.SGD(
    model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True
)
criterion = nn.CrossEntropyLoss()

for epoch in range(3):
    model.train()
    perm = torch.randperm(N)
    running, correct = 0.0, 0
    for i in range(0, N, 16):
        idx = perm[i : i + 16]
        x, y = images[idx], labels[idx]
        optimizer.zero_grad()
        out = model(x)
        loss = criterion(out, y)
        loss.backward()
        optimizer.step()
        running += loss.item() * x.size(0)
        _, predicted = out.max(1)
        correct += predicted.eq(y).sum().item()
    print(f"Epoch {epoch + 1}: loss {running / N:.4f} acc {100.0 * correct / N:.2f}%")
    print("  features layer2:", features["layer2"].shape, f"{features['layer2'].mean().item():.4f}")

handle.remove()
model.eval()
with torch.no_grad():
    logits = model(images[:8])
    probs = F.softmax(logits, dim=1)
print("eval probs:\n", probs.round(decimals=3))
print("bn running mean:", model.stem[1].running_mean)
print("bn running var:", model.stem[1].running_var)
print("num_batches_tracked:", model.stem[1].num_batches_tracked)
print("features kept after remove:", list(features.keys()), len(model.layers[1]._forward_hooks))
print([k for k in model.state_dict().keys()][:12])
print("grad norm fc:", model.fc.weight.grad.norm().item() > 0)
