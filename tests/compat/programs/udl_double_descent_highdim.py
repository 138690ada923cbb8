"""Chapter 8 of "Understanding Deep Learning" (udlbook, Notebooks/Chap08: 8_2 Bias-Variance
Trade-Off, 8_3 Double Descent, 8_4 High-Dimensional Spaces, by Simon Prince), written with
torch: distances and volumes in high dimensions, the bias-variance decomposition of a
shallow ReLU model fitted in closed form, double descent of random-feature regression as
the width passes the number of training points, and an MLP trained by SGD on labels with
added noise (clean versus noisy test error). MNIST-1D is replaced by generated data."""

import math

import torch

torch.manual_seed(0)
torch.set_printoptions(precision=4, sci_mode=False)

# ---- 8_4: high-dimensional spaces -----------------------------------------------------------
print("dim  mean-dist  max/min-ratio  sphere-volume  shell(0.99..1)")
for dim in (1, 2, 10, 100, 1000):
    x = torch.randn(200, dim, dtype=torch.float64)
    d = torch.cdist(x, x)
    off = d[~torch.eye(200, dtype=torch.bool)]
    log_vol = (dim / 2) * math.log(math.pi) - torch.lgamma(
        torch.tensor(dim / 2 + 1, dtype=torch.float64)
    )
    shell = 1 - 0.99**dim
    print(
        f"{dim:4d}  {off.mean().item():9.4f}  {(off.max() / off.min()).item():13.4f}  {log_vol.exp().item():13.6g}  {shell:.4f}"
    )
# fraction of a unit hypercube's random points inside the inscribed ball
for dim in (2, 5, 10):
    pts = torch.rand(20000, dim, dtype=torch.float64) * 2 - 1
    print(dim, (pts.norm(dim=1) <= 1).double().mean().item())


# ---- 8_2: bias and variance of a shallow model fitted in closed form ------------------------
def true_function(x):
    return torch.exp(torch.sin(x * (2 * math.pi)))


def features(x, n_hidden):
    # n_hidden ReLU "joints" spread over [0, 1], plus a constant
    joints = torch.linspace(0, 1, n_hidden + 1, dtype=torch.float64)[:-1]
    return torch.cat([torch.ones_like(x)[:, None], torch.relu(x[:, None] - joints[None, :])], dim=1)


def fit(x, y, n_hidden):
    phi = features(x, n_hidden)
    sol = torch.linalg.lstsq(phi, y[:, None], driver="gelsd").solution
    return sol[:, 0]


x_test = torch.linspace(0, 1, 101, dtype=torch.float64)
sigma = 0.3
print("hidden  bias^2   variance  bias^2+var")
for n_hidden in (1, 3, 6, 12):
    preds = []
    for _ in range(30):
        x = torch.rand(15, dtype=torch.float64)
        y = true_function(x) + sigma * torch.randn(15, dtype=torch.float64)
        preds.append(features(x_test, n_hidden) @ fit(x, y, n_hidden))
    preds = torch.stack(preds)
    mean = preds.mean(0)
    bias2 = ((mean - true_function(x_test)) ** 2).mean()
    var = preds.var(0, unbiased=False).mean()
    print(f"{n_hidden:6d}  {bias2.item():7.4f}  {var.item():8.4f}  {(bias2 + var).item():9.4f}")

# ---- 8_3: double descent of random-feature (ridgeless) regression ---------------------------
n_train, n_test, dim = 40, 500, 10
w_true = torch.randn(dim, dtype=torch.float64) / math.sqrt(dim)
x_tr = torch.randn(n_train, dim, dtype=torch.float64)
x_te = torch.randn(n_test, dim, dtype=torch.float64)
y_tr = torch.tanh(x_tr @ w_true * 2) + 0.2 * torch.randn(n_train, dtype=torch.float64)
y_te = torch.tanh(x_te @ w_true * 2)
proj = torch.randn(dim, 400, dtype=torch.float64) / math.sqrt(dim)
print("width  train-mse  test-mse  ||beta||")
for width in (5, 10, 20, 30, 36, 40, 44, 60, 100, 200, 400):
    phi_tr = torch.relu(x_tr @ proj[:, :width])
    phi_te = torch.relu(x_te @ proj[:, :width])
    # minimum-norm least squares through a small ridge (the notebook's pseudo-inverse)
    lam = 1e-8
    if width <= n_train:
        beta = torch.linalg.solve(
            phi_tr.T @ phi_tr + lam * torch.eye(width, dtype=torch.float64), phi_tr.T @ y_tr
        )
    else:
        beta = phi_tr.T @ torch.linalg.solve(
            phi_tr @ phi_tr.T + lam * torch.eye(n_train, dtype=torch.float64), y_tr
        )
    tr = ((phi_tr @ beta - y_tr) ** 2).mean()
    te = ((phi_te @ beta - y_te) ** 2).mean()
    # past the threshold the training error is rounding noise: print it as zero
    tr_text = f"{tr.item():9.2e}" if tr > 1e-10 else f"{0.0:9.2e}"
    print(f"{width:5d}  {tr_text}  {te.item():8.3g}  {beta.norm().item():8.3g}")
pinv_beta = torch.linalg.pinv(torch.relu(x_tr @ proj[:, :100])) @ y_tr
print(
    "pinv agrees:",
    torch.allclose(
        pinv_beta,
        torch.relu(x_tr @ proj[:, :100]).T
        @ torch.linalg.solve(
            torch.relu(x_tr @ proj[:, :100]) @ torch.relu(x_tr @ proj[:, :100]).T, y_tr
        ),
        atol=1e-6,
    ),
)

# ---- label noise: an MLP fitting clean and corrupted labels by SGD --------------------------
torch.manual_seed(1)
n, classes = 300, 4
centers = torch.randn(classes, 8) * 2
labels = torch.randint(0, classes, (n,))
data = centers[labels] + torch.randn(n, 8)
test_labels = torch.randint(0, classes, (200,))
test_data = centers[test_labels] + torch.randn(200, 8)


def train(targets, epochs=60):
    torch.manual_seed(2)
    model = torch.nn.Sequential(
        torch.nn.Linear(8, 64), torch.nn.ReLU(), torch.nn.Linear(64, classes)
    )
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(epochs):
        perm = torch.randperm(n)
        for i in range(0, n, 50):
            idx = perm[i : i + 50]
            opt.zero_grad()
            loss = loss_fn(model(data[idx]), targets[idx])
            loss.backward()
            opt.step()
    with torch.no_grad():
        train_err = (model(data).argmax(1) != targets).float().mean().item()
        test_err = (model(test_data).argmax(1) != test_labels).float().mean().item()
    return train_err, test_err, loss.item()


for noise in (0.0, 0.2, 0.5):
    noisy = labels.clone()
    flip = torch.rand(n) < noise
    noisy[flip] = torch.randint(0, classes, (int(flip.sum()),))
    tr_err, te_err, last = train(noisy)
    print(
        f"noise={noise:.1f} flipped={int(flip.sum()):3d} train-err={tr_err:.4f} test-err={te_err:.4f} loss={last:.4f}"
    )
