# A "mixed precision ready" training script run on a CPU-only machine: GradScaler and
# autocast disabled (as CPU scripts pass them), activation checkpointing, magnitude pruning
# with a fine-tuning phase, then stochastic weight averaging with SWALR and update_bn.
import torch
import torch.nn as nn
import torch.nn.utils.prune as prune
from torch.optim.swa_utils import SWALR, AveragedModel, update_bn
from torch.utils.checkpoint import checkpoint
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
use_cuda = torch.cuda.is_available()
device = torch.device("cuda" if use_cuda else "cpu")
X = torch.randn(96, 4)
y = (X[:, 0] - 2 * X[:, 1] + 0.5 * X[:, 2] * X[:, 3]).unsqueeze(1)
loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.Tanh())
        self.head = nn.Linear(16, 1)

    def forward(self, x):
        h = checkpoint(self.body, x, use_reentrant=False)
        return self.head(h)


model = Net().to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scaler = torch.amp.GradScaler(enabled=use_cuda)
criterion = nn.MSELoss()


def train_epoch():
    total = 0.0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type="cuda", enabled=use_cuda):
            loss = criterion(model(xb), yb)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        total += loss.item() * xb.size(0)
    return total / len(loader.dataset)


for epoch in range(4):
    print(f"epoch {epoch}: loss {train_epoch():.2f} scale {scaler.get_scale()}")

prune.l1_unstructured(model.body[0], name="weight", amount=0.3)
prune.random_unstructured(model.head, name="weight", amount=4)
prune.ln_structured(model.body[0], name="weight", amount=2, n=2, dim=0)
print(sorted(model.state_dict().keys()))
print("pruned:", prune.is_pruned(model))
for epoch in range(2):
    print(f"fine-tune {epoch}: loss {train_epoch():.2f}")
w = model.body[0].weight
print(f"sparsity of body[0].weight: {100.0 * float(torch.sum(w == 0)) / w.nelement():.2f}%")
print(model.body[0].weight_mask.sum(dim=1).tolist())
prune.remove(model.body[0], "weight")
prune.remove(model.head, "weight")
print("pruned after remove:", prune.is_pruned(model))

swa_model = AveragedModel(model)
swa_scheduler = SWALR(optimizer, swa_lr=0.01, anneal_epochs=2, anneal_strategy="cos")
for epoch in range(4):
    loss = train_epoch()
    swa_model.update_parameters(model)
    swa_scheduler.step()
    print(f"swa epoch {epoch}: loss {loss:.2f} lr {swa_scheduler.get_last_lr()[0]:.5f}")
update_bn(loader, swa_model)
print("averaged:", int(swa_model.n_averaged))
with torch.no_grad():
    swa_loss = criterion(swa_model(X), y).item()
print(f"swa model loss: {swa_loss:.2f}")
print(f"running mean: {[round(v, 3) for v in swa_model.module.body[1].running_mean[:4].tolist()]}")
