"""The "Dive into Deep Learning" (d2l.ai, PyTorch edition) chapter on modern CNNs, as the
book writes it: networks of nn.LazyConv2d / nn.LazyBatchNorm2d / nn.LazyLinear blocks
(VGG, NiN, GoogLeNet's Inception, ResNet's Residual, DenseNet's dense and transition
blocks), each checked with the book's layer_summary loop ("output shape:\t"), then a few
SGD steps of the BatchNorm LeNet and a small ResNet on synthetic 1x32x32 images
(the book uses Fashion-MNIST resized, downloaded through torchvision)."""

# ruff: noqa: E721 - the book compares types with ==

import torch
from torch import nn
from torch.nn import functional as F


def init_cnn(module):
    """Initialize weights for CNNs."""
    if type(module) == nn.Linear or type(module) == nn.Conv2d:
        nn.init.xavier_uniform_(module.weight)


def layer_summary(net, X_shape):
    X = torch.randn(*X_shape)
    for layer in net:
        X = layer(X)
        print(layer.__class__.__name__, "output shape:\t", X.shape)


def vgg_block(num_convs, out_channels):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.LazyConv2d(out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


def vgg(arch, num_classes=10):
    conv_blks = []
    for num_convs, out_channels in arch:
        conv_blks.append(vgg_block(num_convs, out_channels))
    return nn.Sequential(
        *conv_blks,
        nn.Flatten(),
        nn.LazyLinear(64),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.LazyLinear(64),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.LazyLinear(num_classes),
    )


def nin_block(out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.LazyConv2d(out_channels, kernel_size, strides, padding),
        nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1),
        nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1),
        nn.ReLU(),
    )


class Inception(nn.Module):
    # c1--c4 are the number of output channels for each branch
    def __init__(self, c1, c2, c3, c4, **kwargs):
        super(Inception, self).__init__(**kwargs)
        # Branch 1
        self.b1_1 = nn.LazyConv2d(c1, kernel_size=1)
        # Branch 2
        self.b2_1 = nn.LazyConv2d(c2[0], kernel_size=1)
        self.b2_2 = nn.LazyConv2d(c2[1], kernel_size=3, padding=1)
        # Branch 3
        self.b3_1 = nn.LazyConv2d(c3[0], kernel_size=1)
        self.b3_2 = nn.LazyConv2d(c3[1], kernel_size=5, padding=2)
        # Branch 4
        self.b4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.b4_2 = nn.LazyConv2d(c4, kernel_size=1)

    def forward(self, x):
        b1 = F.relu(self.b1_1(x))
        b2 = F.relu(self.b2_2(F.relu(self.b2_1(x))))
        b3 = F.relu(self.b3_2(F.relu(self.b3_1(x))))
        b4 = F.relu(self.b4_2(self.b4_1(x)))
        return torch.cat((b1, b2, b3, b4), dim=1)


class Residual(nn.Module):
    """The Residual block of ResNet models."""

    def __init__(self, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.LazyBatchNorm2d()
        self.bn2 = nn.LazyBatchNorm2d()

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


def conv_block(num_channels):
    return nn.Sequential(
        nn.LazyBatchNorm2d(), nn.ReLU(), nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
    )


class DenseBlock(nn.Module):
    def __init__(self, num_convs, num_channels):
        super(DenseBlock, self).__init__()
        layer = []
        for i in range(num_convs):
            layer.append(conv_block(num_channels))
        self.net = nn.Sequential(*layer)

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            # Concatenate input and output of each block along the channels
            X = torch.cat((X, Y), dim=1)
        return X


def transition_block(num_channels):
    return nn.Sequential(
        nn.LazyBatchNorm2d(),
        nn.ReLU(),
        nn.LazyConv2d(num_channels, kernel_size=1),
        nn.AvgPool2d(kernel_size=2, stride=2),
    )


torch.manual_seed(0)
print("--- VGG")
net = vgg(((1, 8), (1, 16), (2, 32)))
layer_summary(net, (1, 1, 32, 32))
print("--- NiN")
net = nn.Sequential(
    nin_block(16, kernel_size=5, strides=2, padding=1),
    nn.MaxPool2d(3, stride=2),
    nin_block(32, kernel_size=3, strides=1, padding=1),
    nn.MaxPool2d(3, stride=2),
    nn.Dropout(0.5),
    nin_block(10, kernel_size=3, strides=1, padding=1),
    nn.AdaptiveAvgPool2d((1, 1)),
    nn.Flatten(),
)
layer_summary(net, (1, 1, 32, 32))
print("--- GoogLeNet stages")
b1 = nn.Sequential(
    nn.LazyConv2d(16, kernel_size=7, stride=2, padding=3),
    nn.ReLU(),
    nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
)
b3 = nn.Sequential(
    Inception(8, (12, 16), (2, 4), 4),
    Inception(16, (16, 24), (4, 12), 8),
    nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
)
net = nn.Sequential(b1, b3, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.LazyLinear(10))
layer_summary(net, (1, 1, 32, 32))
print(net[1][0])
print("--- Residual")
blk = Residual(3)
X = torch.randn(4, 3, 6, 6)
print(blk(X).shape)
blk = Residual(6, use_1x1conv=True, strides=2)
print(blk(X).shape)
print("--- DenseNet")
blk = DenseBlock(2, 10)
X = torch.randn(4, 3, 8, 8)
Y = blk(X)
print(Y.shape)
blk = transition_block(10)
print(blk(Y).shape)


class BNLeNet(nn.Module):
    def __init__(self, lr=0.1, num_classes=10):
        super().__init__()
        self.lr = lr
        self.net = nn.Sequential(
            nn.LazyConv2d(6, kernel_size=5),
            nn.LazyBatchNorm2d(),
            nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.LazyConv2d(16, kernel_size=5),
            nn.LazyBatchNorm2d(),
            nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Flatten(),
            nn.LazyLinear(120),
            nn.LazyBatchNorm1d(),
            nn.Sigmoid(),
            nn.LazyLinear(84),
            nn.LazyBatchNorm1d(),
            nn.Sigmoid(),
            nn.LazyLinear(num_classes),
        )

    def apply_init(self, inputs, init=None):
        self.forward(*inputs)
        if init is not None:
            self.net.apply(init)

    def forward(self, X):
        return self.net(X)

    def loss(self, Y_hat, Y, averaged=True):
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        Y = Y.reshape((-1,))
        return F.cross_entropy(Y_hat, Y, reduction="mean" if averaged else "none")

    def accuracy(self, Y_hat, Y, averaged=True):
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        preds = Y_hat.argmax(axis=1).type(Y.dtype)
        compare = (preds == Y.reshape(-1)).type(torch.float32)
        return compare.mean() if averaged else compare


class ResNet18ish(nn.Module):
    def __init__(self, arch, lr=0.1, num_classes=10):
        super().__init__()
        self.net = nn.Sequential(
            nn.Sequential(
                nn.LazyConv2d(8, kernel_size=3, stride=1, padding=1),
                nn.LazyBatchNorm2d(),
                nn.ReLU(),
            )
        )
        for i, b in enumerate(arch):
            self.net.add_module(f"b{i + 2}", self.block(*b, first_block=(i == 0)))
        self.net.add_module(
            "last",
            nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.LazyLinear(num_classes)),
        )

    def block(self, num_residuals, num_channels, first_block=False):
        blk = []
        for i in range(num_residuals):
            if i == 0 and not first_block:
                blk.append(Residual(num_channels, use_1x1conv=True, strides=2))
            else:
                blk.append(Residual(num_channels))
        return nn.Sequential(*blk)

    def forward(self, X):
        return self.net(X)


# synthetic "Fashion-MNIST": 10 classes, each a fixed random template plus noise
g = torch.Generator().manual_seed(42)
templates = torch.rand(10, 1, 16, 16, generator=g)
y = torch.randint(0, 10, (64,), generator=g)
X = (templates[y] + 0.3 * torch.randn(64, 1, 16, 16, generator=g)).clamp(0, 1)
X = F.interpolate(X, size=(20, 20), mode="bilinear", align_corners=False)
print("data", X.shape, y.shape, f"{X.mean():.4f}")

for name, model in [("BNLeNet", BNLeNet()), ("ResNet", ResNet18ish(((1, 8), (1, 16))))]:
    torch.manual_seed(1)
    if isinstance(model, BNLeNet):
        model.apply_init([X[:2]], init_cnn)
        print(model)
        summary = [(n, tuple(p.shape)) for n, p in model.named_parameters()][:6]
        print(summary)
    else:
        model(X[:2])
        model.apply(init_cnn)
        print(model.net.b3)
    print(name, "parameters:", sum(p.numel() for p in model.parameters()))
    optim = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(2):
        model.train()
        for i in range(0, 64, 32):
            Y_hat = model(X[i : i + 32])
            l = F.cross_entropy(Y_hat, y[i : i + 32])
            optim.zero_grad()
            with torch.no_grad():
                l.backward()
            optim.step()
        model.eval()
        with torch.no_grad():
            Y_hat = model(X)
            acc = (Y_hat.argmax(axis=1).type(y.dtype) == y).type(torch.float32).mean()
        print(f"{name} epoch {epoch + 1}, loss {l:.3f}, train acc {acc:.3f}")
    bn = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)][0]
    print("first BN:", bn, bn.running_mean[:4], bn.num_batches_tracked)
