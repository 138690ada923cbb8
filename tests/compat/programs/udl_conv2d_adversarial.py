"""2-D convolution as the "Understanding Deep Learning" notebooks use it (udlbook,
Notebooks/Chap10/10_3_2D_Convolution, Chap10/10_5_Convolution_For_MNIST and
Chap20/20_4_Adversarial_Attacks, by Simon Prince): ``F.conv2d`` on float64 NumPy images
checked against a loop written by hand, with reduced print precision; the MNIST network
(two valid 5x5 convolutions, Dropout2d, max pooling, ``log_softmax`` without ``dim``), its
train/test printouts with ``size_average=False``; then the fast gradient sign attack and its
iterated form. torchvision's MNIST download is replaced by random 28x28 images."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

np.set_printoptions(precision=3, floatmode="fixed")
torch.set_printoptions(precision=3)


def conv_pytorch(image, conv_weights, stride=1, pad=1):
    output_tensor = F.conv2d(
        torch.from_numpy(image), torch.from_numpy(conv_weights), stride=stride, padding=pad
    )
    print(output_tensor[0, 0, :2], output_tensor.dtype)
    return output_tensor.numpy()


def conv_numpy(image, weights, stride=1, pad=1):
    """The exercise's answer: every output pixel as a sum over channels and the kernel."""
    if pad != 0:
        image = np.pad(image, ((0, 0), (0, 0), (pad, pad), (pad, pad)), "constant")
    batch, _, height_in, width_in = image.shape
    channels_out, channels_in, kernel_h, kernel_w = weights.shape
    height_out = np.floor(1 + (height_in - kernel_h) / stride).astype(int)
    width_out = np.floor(1 + (width_in - kernel_w) / stride).astype(int)
    out = np.zeros((batch, channels_out, height_out, width_out), dtype=np.float32)
    for b in range(batch):
        for c_y in range(height_out):
            for c_x in range(width_out):
                for c_out in range(channels_out):
                    patch = image[
                        b, :, c_y * stride : c_y * stride + kernel_h,
                        c_x * stride : c_x * stride + kernel_w,
                    ]  # fmt: skip
                    out[b, c_out, c_y, c_x] = np.sum(patch * weights[c_out])
    return out


for n_batch, height, width, c_in, c_out, stride in [(1, 4, 6, 1, 1, 1), (1, 7, 6, 1, 1, 2),
                                                    (2, 4, 5, 3, 2, 1)]:  # fmt: skip
    np.random.seed(1)
    image = np.random.normal(size=(n_batch, c_in, height, width))
    weights = np.random.normal(size=(c_out, c_in, 3, 3))
    print("PyTorch Results")
    results = conv_pytorch(image, weights, stride=stride, pad=1)
    print(results)
    print("Your results")
    print(conv_numpy(image, weights, stride=stride, pad=1))
    print(np.abs(results - conv_numpy(image, weights, stride=stride, pad=1)).max() < 1e-5)

torch.set_printoptions(profile="default")
torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print(repr(device))
images, targets = torch.randn(192, 1, 28, 28), torch.randint(0, 10, (192,))
train_loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(images[:128], targets[:128]), batch_size=32, shuffle=True
)
test_loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(images[128:], targets[128:]), batch_size=64, shuffle=True
)
batch_idx, (example_data, example_targets) = next(enumerate(test_loader))
for i in range(3):
    print(f"Ground Truth: {example_targets[i]}")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.drop(self.conv2(x)), 2))
        x = F.relu(self.fc1(x.flatten(1)))
        return F.log_softmax(self.fc2(x))  # no dim: PyTorch picks 1, with a warning


def weights_init(layer_in):
    if isinstance(layer_in, nn.Linear):
        nn.init.kaiming_uniform_(layer_in.weight)
        layer_in.bias.data.fill_(0.0)


model = Net().to(device)
model.apply(weights_init)
optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
print(model)


def train(epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        if batch_idx % 2 == 0:
            print(
                "Train Epoch: {} [{}/{}]\tLoss: {:.6f}".format(  # noqa: UP032
                    epoch, batch_idx * len(data), len(train_loader.dataset), loss.item()
                )
            )


def test():
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data)
            test_loss += F.nll_loss(output, target, size_average=False).item()
            pred = output.data.max(1, keepdim=True)[1]
            correct += pred.eq(target.data.view_as(pred)).sum()
    test_loss /= len(test_loader.dataset)
    print(
        "\nTest set: Avg. loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n".format(  # noqa: UP032
            test_loss, correct, len(test_loader.dataset), 100.0 * correct / len(test_loader.dataset)
        )
    )


test()
for epoch in range(1, 3):
    train(epoch)
    test()

output = model(example_data)
print([output.data.max(1, keepdim=True)[1][i].item() for i in range(6)])


def fgsm_attack(x, epsilon, dLdx):
    """The exercise's answer: a step of epsilon along the sign of the gradient."""
    return x + epsilon * dLdx.sign()


for i in range(3):
    optimizer.zero_grad()
    x = example_data[i, :, :, :][None, :, :, :]
    x.requires_grad = True
    y = torch.ones(1, dtype=torch.long) * example_targets[i]
    output = model(x)
    loss = F.nll_loss(output, y)
    loss.backward()
    x_prime = fgsm_attack(x, 0.5, x.grad.data)
    output_prime = model(x_prime)
    print(y, x.is_leaf, x_prime.requires_grad, x_prime.grad_fn.name(), x.grad.abs().sum() > 0)
    print(
        "Original Prediction: {}, Perturbed Prediction: {}".format(  # noqa: UP032
            output.data.max(1, keepdim=True)[1][0].item(),
            output_prime.data.max(1, keepdim=True)[1][0].item(),
        )
    )

# the closing exercise: small signed steps, re-computing the gradient each time
x = example_data[:4].clone().requires_grad_(True)
for step in range(3):
    model.zero_grad()
    loss = F.nll_loss(model(x), example_targets[:4])
    loss.backward()
    with torch.no_grad():
        x += 0.1 * x.grad.sign()
    x.grad.zero_()
    print(step, model(x).argmax(1), f"{loss.item():.4f}")
