# Time-series tutorials: an LSTM forecaster on sliding windows of a noisy sine (min-max
# scaling, DataLoader, early stopping on validation loss, autoregressive roll-out), a GRU
# with a Huber loss, and exact Gaussian-process regression fitted by its marginal likelihood.
import math

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(7)
np.random.seed(7)

t = np.arange(0, 200, dtype=np.float32)
series = np.sin(t * 0.1) + 0.1 * np.random.randn(200).astype(np.float32)
lo, hi = series.min(), series.max()
scaled = (series - lo) / (hi - lo)


def windows(data, size):
    xs = [data[i : i + size] for i in range(len(data) - size)]
    ys = [data[i + size] for i in range(len(data) - size)]
    return torch.tensor(np.array(xs)).unsqueeze(-1), torch.tensor(np.array(ys)).unsqueeze(-1)


X, y = windows(scaled, 12)
split = int(0.8 * len(X))
train = DataLoader(TensorDataset(X[:split], y[:split]), batch_size=16, shuffle=True)
x_val, y_val = X[split:], y[split:]
print("windows:", X.shape, y.shape, "train batches:", len(train))


class Forecaster(nn.Module):
    def __init__(self, cell=nn.LSTM, hidden=16):
        super().__init__()
        self.rnn = cell(1, hidden, num_layers=2, batch_first=True, dropout=0.1)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.out(out[:, -1, :])


def fit(model, loss_fn, epochs, patience=3):
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    best, best_state, waited = math.inf, None, 0
    for epoch in range(epochs):
        model.train()
        for xb, yb in train:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            nn.utils.clip_grad_value_(model.parameters(), 1.0)
            opt.step()
        model.eval()
        with torch.no_grad():
            val = loss_fn(model(x_val), y_val).item()
        print(f"  epoch {epoch}: train {loss.item():.5f} val {val:.5f}")
        if val < best - 1e-5:
            best, waited = val, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
            if waited >= patience:
                print("  early stop")
                break
    model.load_state_dict(best_state)
    return best


print("LSTM best val:", round(fit(Forecaster(), nn.MSELoss(), 6), 5))
gru = Forecaster(nn.GRU)
print("GRU best val:", round(fit(gru, nn.HuberLoss(delta=0.1), 6), 5))

# autoregressive roll-out from the last window, back in the data's units
window = X[-1:].clone()
preds = []
gru.eval()
with torch.no_grad():
    for _ in range(5):
        nxt = gru(window)
        preds.append(nxt.item() * (hi - lo) + lo)
        window = torch.cat([window[:, 1:, :], nxt.unsqueeze(1)], dim=1)
print("roll-out:", [f"{p:.3f}" for p in preds])

# Gaussian-process regression: RBF kernel, hyperparameters by the marginal likelihood
xs = torch.linspace(0, 5, 25, dtype=torch.float64).unsqueeze(1)
ys = torch.sin(2 * xs).squeeze(1) + 0.1 * torch.randn(25, dtype=torch.float64)
log_ell = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
log_sf = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
log_sn = torch.tensor(-1.0, dtype=torch.float64, requires_grad=True)


def kernel(a, b):
    return log_sf.exp() ** 2 * torch.exp(-0.5 * torch.cdist(a, b) ** 2 / log_ell.exp() ** 2)


gp_opt = torch.optim.LBFGS([log_ell, log_sf, log_sn], lr=0.5, max_iter=20)


def nll():
    gp_opt.zero_grad()
    K = kernel(xs, xs) + (log_sn.exp() ** 2 + 1e-6) * torch.eye(25, dtype=torch.float64)
    L = torch.linalg.cholesky(K)
    alpha = torch.cholesky_solve(ys.unsqueeze(1), L)
    loss = 0.5 * ys @ alpha.squeeze(1) + L.diagonal().log().sum() + 12.5 * math.log(2 * math.pi)
    loss.backward()
    return loss


for step in range(3):
    print(f"GP step {step}: nll {gp_opt.step(nll).item():.6f}")
print(
    "lengthscale {:.4f}, signal {:.4f}, noise {:.4f}".format(
        log_ell.exp().item(), log_sf.exp().item(), log_sn.exp().item()
    )
)
with torch.no_grad():
    K = kernel(xs, xs) + log_sn.exp() ** 2 * torch.eye(25, dtype=torch.float64)
    xt = torch.tensor([[1.0], [2.5]], dtype=torch.float64)
    Ks = kernel(xt, xs)
    mean = Ks @ torch.linalg.solve(K, ys)
    var = kernel(xt, xt).diagonal() - (Ks @ torch.linalg.solve(K, Ks.T)).diagonal()
print("posterior mean:", mean, "std:", var.sqrt())
