"""MNIST-1D classifiers the way the "Understanding Deep Learning" notebooks train them
(udlbook, Notebooks/Chap08/8_1_MNIST_1D_Performance, Chap09/9_5_Augmentation and
Chap10/10_2_Convolution_for_MNIST_1D, by Simon Prince): a two-hidden-layer MLP with He
initialisation applied through ``model.apply``, SGD with momentum and StepLR, the per-epoch
error/loss printout, shift-and-scale augmentation, then the 1-D convolutional network with
"valid" stride-2 convolutions. The mnist1d package (downloaded in the notebooks) is replaced
by a small generator of shifted, stretched and noisy templates of the same shape."""

import numpy as np
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


def mnist1d_like(n_train, n_test, length=40, seed=0):
    """Ten random 12-point templates, each example one of them stretched, scaled, placed at
    a random offset and noised: a stand-in for the mnist1d generator."""
    rng = np.random.RandomState(seed)
    templates = rng.randn(10, 12).cumsum(1)
    templates = (templates - templates.mean(1, keepdims=True)) / templates.std(1, keepdims=True)
    n = n_train + n_test
    x, y = np.zeros((n, length)), rng.randint(0, 10, n)
    for i in range(n):
        t = np.interp(np.linspace(0, 11, rng.randint(18, 28)), np.arange(12), templates[y[i]])
        start = rng.randint(0, length - len(t))
        x[i, start : start + len(t)] = t * rng.uniform(0.7, 1.3)
    x += 0.25 * rng.randn(n, length)
    return {"x": x[:n_train], "y": y[:n_train], "x_test": x[n_train:], "y_test": y[n_train:]}


torch.manual_seed(0)
data = mnist1d_like(400, 200)
print(f"Examples in training set: {len(data['y'])}")
print(f"Examples in test set: {len(data['y_test'])}")
print(f"Length of each example: {data['x'].shape[-1]}")

D_i, D_k, D_o = 40, 100, 10
model = nn.Sequential(
    nn.Linear(D_i, D_k), nn.ReLU(), nn.Linear(D_k, D_k), nn.ReLU(), nn.Linear(D_k, D_o)
)


def weights_init(layer_in):
    if isinstance(layer_in, nn.Linear):
        nn.init.kaiming_uniform_(layer_in.weight)
        layer_in.bias.data.fill_(0.0)


print(model.apply(weights_init))


def train(model, x_np, y_np, n_epoch, reshape=lambda x: x):
    loss_function = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
    x_train = torch.tensor(x_np.astype("float32"))
    y_train = torch.tensor(y_np.transpose().astype("long"))
    x_test = torch.tensor(data["x_test"].astype("float32"))
    y_test = torch.tensor(data["y_test"].astype("long"))
    # worker_init_fn=np.random.seed(1) is the notebooks' idiom: it seeds NumPy, passes None
    loader = DataLoader(
        TensorDataset(x_train, y_train), batch_size=100, shuffle=True,
        worker_init_fn=np.random.seed(1),
    )  # fmt: skip
    model.apply(weights_init)
    errors_train, losses_test = np.zeros(n_epoch), np.zeros(n_epoch)
    for epoch in range(n_epoch):
        for x_batch, y_batch in loader:
            optimizer.zero_grad()
            loss = loss_function(model(reshape(x_batch)), y_batch)
            loss.backward()
            optimizer.step()
        pred_train, pred_test = model(reshape(x_train)), model(reshape(x_test))
        _, predicted_train_class = torch.max(pred_train.data, 1)
        _, predicted_test_class = torch.max(pred_test.data, 1)
        # a 0-d tensor stored into a NumPy array, and formatted
        errors_train[epoch] = 100 - 100 * (predicted_train_class == y_train).float().sum() / len(
            y_train
        )
        errors_test = 100 - 100 * (predicted_test_class == y_test).float().sum() / len(y_test)
        losses_test[epoch] = loss_function(pred_test, y_test).item()
        print(
            f"Epoch {epoch:5d}, train loss {loss_function(pred_train, y_train).item():.4f}, "
            f"train error {errors_train[epoch]:3.2f},  test loss {losses_test[epoch]:.4f}, "
            f"test error {errors_test:3.2f}"
        )
        scheduler.step()
    print(scheduler.get_last_lr(), type(errors_test).__name__, errors_test.dtype)
    return errors_train


train(model, data["x"], data["y"], 3)


def augment(data_in):
    """The exercise's answer: roll by a random offset, scale by U(0.8, 1.2)."""
    data_out = np.roll(data_in, np.random.randint(0, data_in.shape[0]))
    return data_out * np.random.uniform(0.8, 1.2)


n_data_orig = data["x"].shape[0]
augmented_x = np.zeros((n_data_orig + 200, D_i))
augmented_y = np.zeros(n_data_orig + 200)
augmented_x[:n_data_orig], augmented_y[:n_data_orig] = data["x"], data["y"]
for c_augment in range(n_data_orig, len(augmented_y)):
    i = np.random.randint(0, n_data_orig)
    augmented_x[c_augment], augmented_y[c_augment] = augment(data["x"][i]), data["y"][i]
train(model, augmented_x, augmented_y, 2)

conv = nn.Sequential(
    nn.Conv1d(1, 15, kernel_size=3, stride=2, padding="valid"),
    nn.ReLU(),
    nn.Conv1d(15, 15, kernel_size=3, stride=2, padding="valid"),
    nn.ReLU(),
    nn.Conv1d(15, 15, kernel_size=3, stride=2, padding="valid"),
    nn.ReLU(),
    nn.Flatten(),
    nn.Linear(60, 10),
)
print(conv)
print(sum(p.numel() for p in conv.parameters()), conv[0].weight.shape, conv[0].bias[:3])
errors = train(conv, data["x"], data["y"], 3, reshape=lambda x: x[:, None, :])
print(f"Validation-style summary {errors[-1]:3.2f}", errors.dtype)
