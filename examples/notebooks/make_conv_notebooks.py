"""Write the notebooks of the course's chapters 10 and 11 (without outputs) with nbformat.

    python examples/notebooks/make_conv_notebooks.py

- ``10_convolution.ipynb``: 1-D convolution on MNIST-1D: the layer by hand against
  ``nn.Conv1d``, the course's CNN against an MLP of the same data.
- ``11_residual.ipynb``: deep plain and residual 1-D networks, with and without batch
  normalisation: the gradient variance per layer (``nn.utils.GradientMonitor``) at
  initialisation, then a short training run.

Each notebook is small (seconds), needs no network, computes with gradfit and prints one
``SUMMARY {json}`` line that ``tests/lecture/test_conv_notebooks.py`` checks.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}

NOTEBOOKS["10_convolution"] = [
    (
        "md",
        """# Chapter 10: convolution on MNIST-1D

A 1-D convolutional layer computes, for every output channel o and position i,

$$h_{o,i} = \\beta_o + \\sum_c \\sum_{k} \\omega_{o,c,k}\\, x_{c,\\, s i + d k - p}$$

(stride s, dilation d, padding p): the same small kernel ω slides along the signal, so the
layer has few parameters and responds to a pattern wherever it appears. The course's network
for MNIST-1D stacks three such layers (15 channels, kernel 3, stride 2) and one linear layer.""",
    ),
    (
        "code",
        """import json
import numpy as np
import matplotlib.pyplot as plt
import gradfit
import gradfit.nn as nn
from gradfit import datasets, models
from gradfit.utils.data import DataLoader, TensorDataset

gradfit.manual_seed(0)
data = datasets.load("mnist1d")
print("train", data.x.shape, "test", data.x_test.shape, "classes", len(data.classes))
fig, ax = plt.subplots(1, 4, figsize=(10, 2))
for i in range(4):
    ax[i].plot(data.x[i]); ax[i].set_title(f"class {data.y[i]}")
plt.show()""",
    ),
    (
        "md",
        """## The layer by hand

The sum above, written as loops over output channels and positions, gives the same numbers as
`nn.Conv1d` (which computes them as one matrix product over strided windows).""",
    ),
    (
        "code",
        """conv = nn.Conv1d(2, 3, kernel_size=3, stride=2, padding=1, dilation=1).double()
x = gradfit.randn(1, 2, 9, dtype=gradfit.float64)
w, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
xp = np.pad(x.numpy()[0], ((0, 0), (1, 1)))  # zero padding p = 1
n_out = (9 + 2 * 1 - 3) // 2 + 1
by_hand = np.array(
    [[b[o] + (w[o] * xp[:, 2 * i : 2 * i + 3]).sum() for i in range(n_out)] for o in range(3)]
)
layer = conv(x).detach().numpy()[0]
hand_error = float(np.abs(by_hand - layer).max())
print("output shape", layer.shape, "largest difference from the loops:", hand_error)""",
    ),
    (
        "md",
        """## The course's CNN against an MLP

Both see the same 4000 training signals for a few epochs with the course's recipe (SGD with
momentum 0.9, learning rate 0.05, batch 100). The convolutional network has far fewer
parameters, and needs more epochs to get going. (With 60+ epochs the CNN passes 90 %
validation accuracy: see `examples/cnn1d_mnist1d.py`; a few epochs keep this notebook quick.)""",
    ),
    (
        "code",
        """def n_params(m):
    return sum(p.numel() for p in m.parameters())

def train(model, epochs=4):
    x_train = gradfit.tensor(data.x.astype("float32")); y_train = gradfit.tensor(data.y)
    x_val = gradfit.tensor(data.x_test.astype("float32")); y_val = gradfit.tensor(data.y_test)
    opt = gradfit.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=100, shuffle=True)
    loss_fn = nn.CrossEntropyLoss()
    curve = []
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
        model.eval()
        with gradfit.no_grad():
            curve.append((model(x_val).argmax(1) == y_val).float().mean().item() * 100)
    return curve

gradfit.manual_seed(1)
cnn = models.cnn1d((40,), 10)
mlp = nn.Sequential(
    nn.Linear(40, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10)
)
cnn_curve, mlp_curve = train(cnn), train(mlp)
print(cnn)
print(f"CNN: {n_params(cnn)} parameters, validation accuracy {cnn_curve[-1]:.1f} %")
print(f"MLP: {n_params(mlp)} parameters, validation accuracy {mlp_curve[-1]:.1f} %")
plt.plot(cnn_curve, label="CNN"); plt.plot(mlp_curve, label="MLP")
plt.xlabel("epoch"); plt.ylabel("validation accuracy (%)"); plt.legend(); plt.show()""",
    ),
    (
        "code",
        """print("SUMMARY " + json.dumps({
    "hand_error": hand_error,
    "cnn_params": n_params(cnn), "mlp_params": n_params(mlp),
    "cnn_acc": cnn_curve[-1], "mlp_acc": mlp_curve[-1], "epochs": len(cnn_curve),
}))""",
    ),
]

NOTEBOOKS["11_residual"] = [
    (
        "md",
        """# Chapter 11: residual networks and batch normalisation

In a deep plain network the gradient reaching the first layers is a product of many layer
Jacobians, so its variance shrinks (or grows) geometrically with depth. A residual block
computes $h + f[h]$: its Jacobian is $I + \\partial f/\\partial h$, and the identity path keeps
the gradient from vanishing. Adding a block per layer adds variance, though, and batch
normalisation resets the scale of every block's branch.

`nn.utils.GradientMonitor` records the variance of the gradient at each watched layer in
one backward pass.""",
    ),
    (
        "code",
        """import json
import numpy as np
import matplotlib.pyplot as plt
import gradfit
import gradfit.nn as nn
from gradfit import datasets, models
from gradfit.nn.utils import GradientMonitor
from gradfit.utils.data import DataLoader, TensorDataset

data = datasets.load("mnist1d")
x = gradfit.tensor(data.x[:200].astype("float32")); y = gradfit.tensor(data.y[:200])
DEPTH = 6  # residual blocks (two convolutions each)

def plain_net(depth, channels=8):
    layers = [nn.Unflatten(1, (1, 40)), nn.Conv1d(1, channels, 3, padding=1), nn.ReLU()]
    for _ in range(2 * depth):
        layers += [nn.Conv1d(channels, channels, 3, padding=1), nn.ReLU()]
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * 40, 10))

def grad_variances(model):
    with GradientMonitor(model, modules=nn.Conv1d, warn=False) as monitor:
        nn.CrossEntropyLoss()(model(x), y).backward()
        return np.array([layer.grad_var for layer in monitor.layers])

gradfit.manual_seed(0)
nets = {
    "plain": plain_net(DEPTH),
    "residual": models.resnet1d((40,), 10, channels=8, blocks=DEPTH, batch_norm=False),
    "residual + batch norm": models.resnet1d((40,), 10, channels=8, blocks=DEPTH),
}
variances = {name: grad_variances(net) for name, net in nets.items()}
for name, v in variances.items():
    print(f"{name:22s} gradient variance, first conv / last conv: {v[0] / v[-1]:.3g}")
for name, v in variances.items():
    plt.semilogy(v, "o-", label=name)
plt.xlabel("convolution layer"); plt.ylabel("variance of the output gradient")
plt.legend(); plt.show()""",
    ),
    (
        "md",
        """The spread (orders of magnitude between the largest and smallest per-layer variance)
tells how uneven the gradient is across depth. Then a short training run of each network
(two epochs on half of the training set, to keep the notebook quick).""",
    ),
    (
        "code",
        """def spread(v):
    return float(np.log10(v.max() / v.min()))

def train(model, epochs=2, n=2000):
    x_train = gradfit.tensor(data.x[:n].astype("float32")); y_train = gradfit.tensor(data.y[:n])
    x_val = gradfit.tensor(data.x_test.astype("float32")); y_val = gradfit.tensor(data.y_test)
    opt = gradfit.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=100, shuffle=True)
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            nn.CrossEntropyLoss()(model(xb), yb).backward()
            opt.step()
    model.eval()
    with gradfit.no_grad():
        return (model(x_val).argmax(1) == y_val).float().mean().item() * 100

accuracy = {name: train(net) for name, net in nets.items()}
for name in nets:
    s, a = spread(variances[name]), accuracy[name]
    print(f"{name:22s} spread {s:5.2f} decades, validation accuracy {a:.1f} %")
summary = {"spread": {k: spread(v) for k, v in variances.items()}, "accuracy": accuracy,
           "layers": {k: len(v) for k, v in variances.items()}}
print("SUMMARY " + json.dumps(summary))""",
    ),
]


def build(name: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [new_markdown_cell(s) if kind == "md" else new_code_cell(s) for kind, s in cells]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name[:2]}-{i:02d}"  # stable ids: regenerating gives the same file
    return nb


def main() -> None:
    paths = []
    for name, cells in NOTEBOOKS.items():
        nb = build(name, cells)
        nbformat.validate(nb)
        paths.append(HERE / f"{name}.ipynb")
        nbformat.write(nb, paths[-1])
        print(f"wrote {name}.ipynb ({len(cells)} cells)")
    exe = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if Path(exe).exists():
        files = [str(p) for p in paths]
        subprocess.run([exe, "format", "--quiet", *files], check=True)
        subprocess.run([exe, "check", "--fix", "--quiet", *files], check=False)
        subprocess.run([exe, "format", "--quiet", *files], check=True)


if __name__ == "__main__":
    main()
