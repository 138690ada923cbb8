# A small Spatial Transformer Network in the shape of PyTorch's STN tutorial: a
# localization net regresses a 2x3 affine matrix (initialised to the identity), which
# affine_grid + grid_sample apply to the input before a small classifier; trained a few
# SGD steps on tiny random images.
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=3)
        self.fc1 = nn.Linear(4 * 5 * 5, 10)
        self.fc2 = nn.Linear(10, 3)

        # Spatial transformer localization-network
        self.localization = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=3),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
        )
        # Regressor for the 3 * 2 affine matrix
        self.fc_loc = nn.Sequential(nn.Linear(4 * 5 * 5, 8), nn.ReLU(True), nn.Linear(8, 3 * 2))
        # Initialize the weights/bias with identity transformation
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 4 * 5 * 5)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        x = F.grid_sample(x, grid, align_corners=False)
        return x, theta

    def forward(self, x):
        x, theta = self.stn(x)
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = x.view(-1, 4 * 5 * 5)
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1), theta


model = Net()
print(model)
data = torch.randn(6, 1, 12, 12)
target = torch.tensor([0, 1, 2, 0, 1, 2])
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for step in range(6):
    optimizer.zero_grad()
    output, theta = model(data)
    loss = F.nll_loss(output, target)
    loss.backward()
    optimizer.step()
    print(f"step {step}: loss {loss.item():.4f}")

with torch.no_grad():
    _, theta = model(data)
    print(theta[0])
    grid = F.affine_grid(theta[:1], (1, 1, 3, 3), align_corners=False)
    print(grid)
    warped = F.grid_sample(data[:1, :, :4, :4], grid, mode="bilinear", padding_mode="border",
                           align_corners=False)  # fmt: skip
    print(warped.shape, f"{warped.abs().mean().item():.4f}")
    print(F.grid_sample(data[:1, :, :4, :4], grid, mode="nearest", align_corners=True))

# a fixed zoom-and-shift, sampled every way the tutorial's readers try
theta = torch.tensor([[[0.5, 0.0, 0.25], [0.0, 0.75, -0.1]]])
grid = F.affine_grid(theta, (1, 1, 5, 4), align_corners=False)
for mode in ("bilinear", "nearest", "bicubic"):
    for padding_mode in ("zeros", "border", "reflection"):
        out = F.grid_sample(data[:1], grid * 1.5, mode=mode, padding_mode=padding_mode,
                            align_corners=False)  # fmt: skip
        print(mode, padding_mode, out[0, 0, 1])

rotation = torch.tensor([[[0.0, -1.0, 0.0], [1.0, 0.0, 0.0]]], requires_grad=True)
image = torch.arange(16.0).view(1, 1, 4, 4)
rotated = F.grid_sample(image, F.affine_grid(rotation, (1, 1, 4, 4), align_corners=True),
                        align_corners=True)  # fmt: skip
print(rotated)
rotated.pow(2).mean().backward()
print(rotation.grad)
