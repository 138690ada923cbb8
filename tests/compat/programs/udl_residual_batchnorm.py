"""Residual networks and batch normalisation as in the "Understanding Deep Learning"
notebooks (udlbook, Notebooks/Chap11/11_2_Residual_Networks and
Chap11/11_3_Batch_Normalization, by Simon Prince): an MLP with residual links trained with
SGD and StepLR (a class with ``count_params`` printed at construction), then five
residual blocks whose activation variance is printed after each block, without and with a
``BatchNorm1d`` before each residual branch, for one SGD step. Random 40-sample signals
stand in for the mnist1d data the notebooks download."""

# ruff: noqa: UP031 - the notebooks' %-formatting is part of what is compared

import numpy as np
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
rng = np.random.RandomState(0)
labels = rng.randint(0, 10, 600)
signals = rng.randn(10, 40)[labels] + 0.8 * rng.randn(600, 40)  # ten noisy prototypes
train_data_x, train_data_y = signals[:400].transpose(), labels[:400]
val_data_x, val_data_y = signals[400:].transpose(), labels[400:]
print(
    "Train data: %d examples (columns), each of which has %d dimensions (rows)"
    % (train_data_x.shape[1], train_data_x.shape[0])
)


class ResidualNetwork(torch.nn.Module):
    def __init__(self, input_size, output_size, hidden_size=100):
        super().__init__()
        self.linear1 = nn.Linear(input_size, hidden_size)
        self.linear2 = nn.Linear(hidden_size, hidden_size)
        self.linear3 = nn.Linear(hidden_size, hidden_size)
        self.linear4 = nn.Linear(hidden_size, output_size)
        print(f"Initialized MLPBase model with {self.count_params()} parameters")

    def count_params(self):
        return sum([p.view(-1).shape[0] for p in self.parameters()])

    def forward(self, x):
        # the exercise's answer: linear1, then two residual blocks (ReLU + linear)
        h1 = self.linear1(x)
        h2 = h1 + self.linear2(h1.relu())
        h3 = h2 + self.linear3(h2.relu())
        return self.linear4(h3)


def weights_init(layer_in):
    if isinstance(layer_in, nn.Linear):
        nn.init.kaiming_uniform_(layer_in.weight)
        layer_in.bias.data.fill_(0.0)


model = ResidualNetwork(40, 10)
loss_function = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
x_train = torch.tensor(train_data_x.transpose().astype("float32"))
y_train = torch.tensor(train_data_y.astype("long"))
x_val = torch.tensor(val_data_x.transpose().astype("float32"))
y_val = torch.tensor(val_data_y.astype("long"))
data_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=100, shuffle=True)
model.apply(weights_init)
n_epoch = 4
errors_train, errors_val = np.zeros(n_epoch), np.zeros(n_epoch)
for epoch in range(n_epoch):
    for _i, data in enumerate(data_loader):
        x_batch, y_batch = data
        optimizer.zero_grad()
        loss = loss_function(model(x_batch), y_batch)
        loss.backward()
        optimizer.step()
    pred_train, pred_val = model(x_train), model(x_val)
    _, predicted_train_class = torch.max(pred_train.data, 1)
    _, predicted_val_class = torch.max(pred_val.data, 1)
    errors_train[epoch] = 100 - 100 * (predicted_train_class == y_train).float().sum() / len(
        y_train
    )
    errors_val[epoch] = 100 - 100 * (predicted_val_class == y_val).float().sum() / len(y_val)
    print(
        f"Epoch {epoch:5d}, train loss {loss_function(pred_train, y_train).item():.4f}, "
        f"train error {errors_train[epoch]:3.2f},  val loss "
        f"{loss_function(pred_val, y_val).item():.4f}, percent error {errors_val[epoch]:3.2f}"
    )
    scheduler.step()
print("TrainError %3.2f, Val Error %3.2f" % (errors_train[-1], errors_val[-1]))


def print_variance(name, data):
    np_data = data.detach().numpy()
    # 4 decimals where the notebook prints 6: PyTorch's batch-norm kernel rounds in its own
    # order (a fused multiply-add), which shows in the 7th digit (README)
    print("%s variance=%.4f" % (name, np.mean(np.var(np_data, axis=0))))


def run_one_step_of_model(model, x_train, y_train):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    data_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=200, shuffle=True)
    model.apply(weights_init)
    for _i, data in enumerate(data_loader):
        x_batch, y_batch = data
        optimizer.zero_grad()
        loss = nn.CrossEntropyLoss()(model(x_batch), y_batch)
        loss.backward()
        optimizer.step()
        break  # only the first batch, to look at the variances


class DeepResidual(torch.nn.Module):
    def __init__(self, input_size, output_size, hidden_size=100, batch_norm=False):
        super().__init__()
        self.linear1 = nn.Linear(input_size, hidden_size)
        self.linear2 = nn.Linear(hidden_size, hidden_size)
        self.linear3 = nn.Linear(hidden_size, hidden_size)
        self.linear4 = nn.Linear(hidden_size, hidden_size)
        self.linear6 = nn.Linear(hidden_size, output_size)
        norm = nn.BatchNorm1d if batch_norm else (lambda n: nn.Identity())
        self.bns = nn.ModuleList([norm(hidden_size) for _ in range(5)])

    def forward(self, x):
        print_variance("Input", x)
        f = self.linear1(x)
        print_variance("First preactivation", f)
        res = f
        # the notebook reuses linear4 for the third to fifth branches
        layers = [self.linear2, self.linear3, self.linear4, self.linear4, self.linear4]
        for k, (bn, linear) in enumerate(zip(self.bns, layers)):
            res = res + linear(bn(res).relu())
            print_variance(f"After residual connection {k + 1}", res)
        return self.linear6(res)


for batch_norm in (False, True):
    model = DeepResidual(40, 10, 100, batch_norm=batch_norm)
    run_one_step_of_model(model, x_train, y_train)
print(model.bns[0], model.bns[0].num_batches_tracked, model.bns[0].running_mean[:3])
print(model.bns[0].running_var[:3], model.bns[0].weight.grad[:3])
model.eval()
with torch.no_grad():
    print(model(x_val[:2]).argmax(1), model.bns[4].training, model.training)
