"""The training-loop utilities of course code: gradient accumulation, clip_grad_norm_ /
clip_grad_value_, EMA of the weights by hand and with swa_utils.AveragedModel, early
stopping with copy.deepcopy(model.state_dict()), a checkpoint dict with optimizer and
scheduler state saved and resumed, freezing a backbone with requires_grad_(False),
add_param_group for the unfrozen head, register_buffer, parameters_to_vector."""

import copy
import os
import sys

import torch
import torch.nn as nn
from torch.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)
from torch.optim.swa_utils import SWALR, AveragedModel, get_ema_multi_avg_fn, update_bn
from torch.utils.data import DataLoader, TensorDataset

out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
torch.manual_seed(123)
g = torch.Generator().manual_seed(0)
X = torch.randn(256, 10, generator=g)
w_true = torch.randn(10, 1, generator=g)
y = (X @ w_true + 0.1 * torch.randn(256, 1, generator=g) > 0).float()
train_ds = TensorDataset(X[:192], y[:192])
val_ds = TensorDataset(X[192:], y[192:])
train_loader = DataLoader(
    train_ds, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(1)
)
val_loader = DataLoader(val_ds, batch_size=32)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Linear(10, 32), nn.BatchNorm1d(32), nn.GELU(), nn.Linear(32, 16), nn.Tanh()
        )
        self.head = nn.Linear(16, 1)
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))
        self.register_buffer("scratch", torch.ones(2), persistent=False)

    def forward(self, x):
        self.calls += 1
        return self.head(self.backbone(x))


model = Net()
print(model)
print("state_dict keys:", list(model.state_dict().keys()))
print("buffers:", [n for n, _ in model.named_buffers()])
ema_model = copy.deepcopy(model)
for p in ema_model.parameters():
    p.requires_grad_(False)
swa_ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9))
criterion = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
accum_steps = 4
best_loss, best_state, patience, bad_epochs = float("inf"), None, 2, 0


@torch.no_grad()
def ema_update(ema, model, decay=0.9):
    for e, m in zip(ema.state_dict().values(), model.state_dict().values()):
        if e.dtype.is_floating_point:
            e.mul_(decay).add_(m.detach(), alpha=1 - decay)
        else:
            e.copy_(m)


def evaluate(m):
    m.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for xb, yb in val_loader:
            logits = m(xb)
            total += criterion(logits, yb).item() * len(xb)
            correct += ((logits > 0).float() == yb).sum().item()
            n += len(xb)
    return total / n, correct / n


for epoch in range(6):
    model.train()
    optimizer.zero_grad()
    norms = []
    for i, (xb, yb) in enumerate(train_loader):
        loss = criterion(model(xb), yb) / accum_steps
        loss.backward()
        if (i + 1) % accum_steps == 0:
            norms.append(clip_grad_norm_(model.parameters(), max_norm=1.0).item())
            clip_grad_value_(model.parameters(), clip_value=0.5)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            ema_update(ema_model, model)
            swa_ema.update_parameters(model)
    scheduler.step()
    val_loss, val_acc = evaluate(model)
    ema_loss, ema_acc = evaluate(ema_model)
    print(
        f"epoch {epoch} lr {scheduler.get_last_lr()[0]:.4f} grad norms {[round(n, 4) for n in norms]}"
    )
    print(f"   val {val_loss:.4f}/{val_acc:.3f}  ema {ema_loss:.4f}/{ema_acc:.3f}")
    if val_loss < best_loss - 1e-4:
        best_loss, bad_epochs = val_loss, 0
        best_state = copy.deepcopy(model.state_dict())
    else:
        bad_epochs += 1
        if bad_epochs >= patience:
            print(f"early stopping at epoch {epoch}")
            break

print("model calls buffer:", model.calls.item(), "ema calls:", ema_model.calls.item())
print("swa_ema n_averaged:", swa_ema.n_averaged)
update_bn(train_loader, swa_ema)
print("swa_ema eval:", [round(v, 4) for v in evaluate(swa_ema)])
model.load_state_dict(best_state)
print(f"restored best val loss {evaluate(model)[0]:.4f}")

ckpt_path = os.path.join(out_dir, "checkpoint.pth")
torch.save(
    {
        "epoch": epoch,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "scheduler_state_dict": scheduler.state_dict(),
        "best_loss": best_loss,
    },
    ckpt_path,
)
ckpt = torch.load(ckpt_path)
print(sorted(ckpt.keys()), ckpt["epoch"], f"{ckpt['best_loss']:.4f}")
print(
    "optimizer state keys:",
    list(ckpt["optimizer_state_dict"]["state"].keys())[:4],
    ckpt["optimizer_state_dict"]["param_groups"][0]["lr"],
)
model2 = Net()
opt2 = torch.optim.SGD(model2.parameters(), lr=0.1, momentum=0.9)
sch2 = torch.optim.lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
print(model2.load_state_dict(ckpt["model_state_dict"]))
opt2.load_state_dict(ckpt["optimizer_state_dict"])
sch2.load_state_dict(ckpt["scheduler_state_dict"])
print("resumed lr", opt2.param_groups[0]["lr"], "last_epoch", sch2.last_epoch)
print(
    torch.equal(
        opt2.state_dict()["state"][0]["momentum_buffer"],
        optimizer.state_dict()["state"][0]["momentum_buffer"],
    )
)
print(
    model2.load_state_dict(
        {k: v for k, v in ckpt["model_state_dict"].items() if not k.startswith("head")},
        strict=False,
    )
)

# freeze the backbone, fine-tune the head, then unfreeze with a smaller lr
for p in model.backbone.parameters():
    p.requires_grad_(False)
model.backbone.eval()
ft_opt = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-2)
print("trainable:", [n for n, p in model.named_parameters() if p.requires_grad])
before = parameters_to_vector(model.backbone.parameters()).clone()
for xb, yb in train_loader:
    ft_opt.zero_grad()
    loss = criterion(model(xb), yb)
    loss.backward()
    ft_opt.step()
print(
    "backbone unchanged:",
    torch.equal(before, parameters_to_vector(model.backbone.parameters())),
    "backbone grad:",
    model.backbone[0].weight.grad,
)
print(f"head-only loss {loss.item():.4f}")
for p in model.backbone.parameters():
    p.requires_grad_(True)
ft_opt.add_param_group({"params": model.backbone.parameters(), "lr": 1e-4})
print([(len(gr["params"]), gr["lr"]) for gr in ft_opt.param_groups])
vec = parameters_to_vector(model.parameters())
print("n params", vec.numel(), f"norm {vec.norm():.4f}")
vector_to_parameters(vec * 0.5, model.parameters())
print(f"halved norm {parameters_to_vector(model.parameters()).norm():.4f}")
swa_model = AveragedModel(model)
swa_sched = SWALR(ft_opt, swa_lr=0.005, anneal_epochs=2, anneal_strategy="cos")
for ep in range(3):
    for xb, yb in train_loader:
        ft_opt.zero_grad()
        criterion(model(xb), yb).backward()
        ft_opt.step()
    swa_model.update_parameters(model)
    swa_sched.step()
    print(ep, [round(gr["lr"], 6) for gr in ft_opt.param_groups])
update_bn(train_loader, swa_model)
print("swa:", [round(v, 4) for v in evaluate(swa_model)], swa_model.n_averaged)
print(list(swa_model.state_dict().keys())[:3])
