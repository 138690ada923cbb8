"""Chapter 20 of "Understanding Deep Learning" (udlbook, Notebooks/Chap20/20_1_Random_Data,
20_2_Full_Batch_Gradient_Descent and 20_3_Lottery_Tickets, by Simon Prince): fitting true
labels, randomised inputs and permuted labels; full-batch gradient descent on networks of
one to three hidden layers; then lottery tickets by iterative magnitude pruning, with the
notebook's masked linear layer that rewrites ``param.data`` from a flat vector, Adam, and
``copy.deepcopy`` checkpoints. The mnist1d package (and its ``train_model``) are replaced
by a small template generator and a training loop of the same shape."""

import copy

import numpy as np
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.RandomState(0)
templates = rng.randn(10, 40)
labels = rng.randint(0, 10, 300)
data = {"x": templates[labels[:200]] + rng.randn(200, 40), "y": labels[:200]}
data["x_test"], data["y_test"] = templates[labels[200:]] + rng.randn(100, 40), labels[200:]
print(f"Examples in training set: {len(data['y'])}, test set: {len(data['y_test'])}")


def weights_init(layer_in):
    if isinstance(layer_in, nn.Linear):
        nn.init.kaiming_uniform_(layer_in.weight)
        layer_in.bias.data.fill_(0.0)


torch.manual_seed(0)
D_i, D_k, D_o = 40, 64, 10
model = nn.Sequential(
    nn.Linear(D_i, D_k), nn.ReLU(), nn.Linear(D_k, D_k), nn.ReLU(), nn.Linear(D_k, D_o)
)


def train_model(train_data_x, train_data_y, n_epoch):
    loss_function = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    scheduler = StepLR(optimizer, step_size=20, gamma=0.5)
    x_train = torch.tensor(train_data_x.transpose().astype("float32"))
    y_train = torch.tensor(train_data_y.astype("long"))
    # worker_init_fn=np.random.seed(1): the notebooks' idiom, which seeds NumPy's global
    # generator (used by the exercises below) and passes None
    loader = DataLoader(
        TensorDataset(x_train, y_train), batch_size=50, shuffle=True,
        worker_init_fn=np.random.seed(1),
    )  # fmt: skip
    model.apply(weights_init)
    losses_train = np.zeros(n_epoch)
    for epoch in range(n_epoch):
        for x_batch, y_batch in loader:
            optimizer.zero_grad()
            loss_function(model(x_batch), y_batch).backward()
            optimizer.step()
        losses_train[epoch] = loss_function(model(x_train), y_train).item()
        if epoch % 2 == 0:
            print("Epoch %d, train loss %3.3f" % (epoch, losses_train[epoch]))  # noqa: UP031
        scheduler.step()
    return losses_train


train_data_x, train_data_y = data["x"].transpose(), data["y"]
loss_true_labels = train_model(train_data_x, train_data_y, 4)
# the exercises' answers: inputs redrawn with the same mean and spread; labels permuted
train_data_x_randomized = np.random.normal(
    np.mean(train_data_x), np.std(train_data_x), size=train_data_x.shape
)
loss_randomized_data = train_model(train_data_x_randomized, train_data_y, 4)
loss_permuted_labels = train_model(train_data_x, np.random.permutation(train_data_y), 4)
print(np.round(loss_true_labels - loss_permuted_labels, 3))


def full_batch(model, n_epoch):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0025, momentum=0.0)
    x_train = torch.tensor(train_data_x.transpose().astype("float32"))
    y_train = torch.tensor(train_data_y.astype("long"))
    model.apply(weights_init)
    errors_train = np.zeros(n_epoch)
    for epoch in range(n_epoch):
        optimizer.zero_grad()
        pred = model(x_train)
        loss = nn.CrossEntropyLoss()(pred, y_train)
        _, predicted_train_class = torch.max(pred.data, 1)
        errors_train[epoch] = 100 - 100 * (predicted_train_class == y_train).float().sum() / len(
            y_train
        )
        loss.backward()
        optimizer.step()
    print(f"{len(model) // 2} hidden layers: errors_train {errors_train[-1]:3.3f}")


full_batch(nn.Sequential(nn.Linear(D_i, 60), nn.ReLU(), nn.Linear(60, D_o)), 5)
full_batch(nn.Sequential(nn.Linear(D_i, 30), nn.ReLU(), nn.Linear(30, 30), nn.ReLU(),
                         nn.Linear(30, D_o)), 5)  # fmt: skip
full_batch(nn.Sequential(nn.Linear(D_i, 24), nn.ReLU(), nn.Linear(24, 24), nn.ReLU(),
                         nn.Linear(24, 24), nn.ReLU(), nn.Linear(24, D_o)), 5)  # fmt: skip


class SparseLinear(torch.nn.Module):
    def __init__(self, x_size, y_size):
        super().__init__()
        self.linear = torch.nn.Linear(x_size, y_size)
        self.mask = torch.ones_like(torch.cat([p.flatten() for p in self.parameters()]))

    def forward(self, x, apply_mask=True):
        if apply_mask:
            self.apply_mask()
        return self.linear(x)

    def update_mask(self, new_mask):
        self.mask = new_mask
        self.apply_mask()

    def apply_mask(self):
        self.vec2param(self.param2vec())

    def param2vec(self):
        return self.mask * torch.cat([p.flatten() for p in self.parameters()])

    def vec2param(self, vec):
        pointer = 0
        for param in self.parameters():
            param_len = np.cumprod(param.shape)[-1]
            param.data = vec[pointer : pointer + param_len].reshape(param.shape).data
            pointer += param_len


class SparseMLP(torch.nn.Module):
    def __init__(self, input_size, output_size, hidden_size=100):
        super().__init__()
        self.linear1 = SparseLinear(input_size, hidden_size)
        self.linear2 = SparseLinear(hidden_size, hidden_size)
        self.linear3 = SparseLinear(hidden_size, output_size)
        self.layers = [self.linear1, self.linear2, self.linear3]

    def forward(self, x):
        h = torch.relu(self.linear1(x))
        h = h + torch.relu(self.linear2(h))
        return self.linear3(h)

    def get_layer_vecs(self):
        return [layer.param2vec() for layer in self.layers]

    def set_layer_vecs(self, vecs):
        for layer, vec in zip(self.layers, vecs):
            layer.vec2param(vec)

    def set_layer_masks(self, new_masks):
        for layer, mask in zip(self.layers, new_masks):
            layer.update_mask(mask)


def get_mask(absolute_weights, percent_sparse):
    """The exercise's answer: zero where |w| is among the lowest ``percent_sparse``."""
    n_zero = int(np.round(percent_sparse * absolute_weights.numel()))
    mask = torch.ones_like(absolute_weights)
    if n_zero > 0:
        threshold = torch.kthvalue(absolute_weights.flatten(), n_zero).values
        mask[absolute_weights <= threshold] = 0
    return mask


def mnist1d_train_model(dataset, model, steps=30, batch_size=50, eval_every=10):
    optimizer = torch.optim.Adam(model.parameters(), 2e-2, weight_decay=0)
    criterion = nn.CrossEntropyLoss()
    x_train, x_test = torch.Tensor(dataset["x"]), torch.Tensor(dataset["x_test"])
    y_train, y_test = torch.LongTensor(dataset["y"]), torch.LongTensor(dataset["y_test"])
    results = {"checkpoints": [], "train_losses": [], "test_acc": []}
    for step in range(steps + 1):
        bix = (step * batch_size) % len(x_train)
        loss = criterion(model(x_train[bix : bix + batch_size]), y_train[bix : bix + batch_size])
        results["train_losses"].append(loss.item())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step % eval_every == 0:
            preds = model(x_test).argmax(-1).cpu().numpy()
            results["test_acc"].append(100 * sum(preds == y_test.numpy()) / len(y_test))
            model.step = step
            results["checkpoints"].append(copy.deepcopy(model))
    return results


torch.manual_seed(42)
model = SparseMLP(40, 10, hidden_size=32)
init_params = model.get_layer_vecs()
print([tuple(v.shape) for v in init_params], init_params[0].grad_fn.name())
for i, percent_sparse in enumerate(np.linspace(0, 0.9, 4)):
    scores = [final.abs() for final in model.get_layer_vecs()]
    model.set_layer_vecs(init_params)
    model.set_layer_masks([get_mask(s, percent_sparse) for s in scores])
    results = mnist1d_train_model(data, model)
    model = results["checkpoints"][-1]
    print(
        "\tretrain #{}, sparsity {:.2f}, final_train_loss {:.3e}, max_acc {:.1f}, last_acc "  # noqa: UP032
        "{:.1f}".format(
            i + 1, percent_sparse, results["train_losses"][-1], np.max(results["test_acc"]),
            results["test_acc"][-1],
        )
    )  # fmt: skip
    print(model.step, float((model.linear2.linear.weight == 0).float().mean()))
