"""Learning-rate schedulers as people print them when choosing one: each scheduler
stepped over a few epochs on a dummy optimizer, get_last_lr(), the lr of each param group,
scheduler.state_dict(), param groups with different lrs, weight-decay exclusion for bias
and norm parameters, and ReduceLROnPlateau driven by a validation loss."""

import math

import torch
import torch.nn as nn
from torch.optim import SGD, Adam, AdamW
from torch.optim.lr_scheduler import (
    ChainedScheduler,
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 2))


def make_opt(lr=0.1, cls=SGD, **kw):
    return cls(model.parameters(), lr=lr, **kw)


def run(name, opt, sched, steps=8, per_batch=False):
    lrs = []
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    print(f"{name:28s}", " ".join(f"{lr:.5f}" for lr in lrs))


opt = make_opt()
run("StepLR", opt, StepLR(opt, step_size=3, gamma=0.5))
opt = make_opt()
run("MultiStepLR", opt, MultiStepLR(opt, milestones=[2, 5], gamma=0.1))
opt = make_opt()
run("ExponentialLR", opt, ExponentialLR(opt, gamma=0.9))
opt = make_opt()
run("CosineAnnealingLR", opt, CosineAnnealingLR(opt, T_max=6, eta_min=0.001), steps=10)
opt = make_opt()
run(
    "CosineAnnealingWarmRestarts",
    opt,
    CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=1e-4),
    steps=12,
)
opt = make_opt()
run("LambdaLR warmup", opt, LambdaLR(opt, lr_lambda=lambda epoch: min(1.0, (epoch + 1) / 4)))
opt = make_opt()
run("MultiplicativeLR", opt, MultiplicativeLR(opt, lr_lambda=lambda epoch: 0.95))
opt = make_opt()
run("LinearLR", opt, LinearLR(opt, start_factor=0.25, total_iters=4))
opt = make_opt()
run("ConstantLR", opt, ConstantLR(opt, factor=0.5, total_iters=3))
opt = make_opt()
run("PolynomialLR", opt, PolynomialLR(opt, total_iters=6, power=2.0))
opt = make_opt()
warm = LinearLR(opt, start_factor=0.1, total_iters=3)
cos = CosineAnnealingLR(opt, T_max=5)
run("SequentialLR", opt, SequentialLR(opt, schedulers=[warm, cos], milestones=[3]), steps=9)
opt = make_opt()
run(
    "ChainedScheduler",
    opt,
    ChainedScheduler([ConstantLR(opt, factor=0.5, total_iters=2), ExponentialLR(opt, gamma=0.9)]),
)
opt = make_opt(lr=0.01, cls=Adam)
run("OneCycleLR", opt, OneCycleLR(opt, max_lr=0.1, total_steps=10), steps=10)
opt = make_opt(lr=0.01, cls=Adam)
oc = OneCycleLR(
    opt, max_lr=0.1, epochs=2, steps_per_epoch=5, anneal_strategy="linear", pct_start=0.4
)
run("OneCycleLR linear", opt, oc, steps=10)
print("betas after OneCycle:", opt.param_groups[0]["betas"])
opt = make_opt(lr=0.01, momentum=0.9)
run(
    "CyclicLR triangular2",
    opt,
    CyclicLR(opt, base_lr=0.001, max_lr=0.01, step_size_up=2, mode="triangular2"),
    steps=10,
)
opt = make_opt(lr=0.01, momentum=0.9)
run(
    "CyclicLR exp_range",
    opt,
    CyclicLR(opt, base_lr=0.001, max_lr=0.01, step_size_up=3, mode="exp_range", gamma=0.9),
    steps=8,
)

sd = StepLR(make_opt(), step_size=3, gamma=0.5).state_dict()
print(sorted(sd.keys()))
print({k: v for k, v in sd.items() if k != "_get_lr_called_within_step"})

# param groups with different learning rates and no weight decay on bias / norm params
decay, no_decay = [], []
for name, param in model.named_parameters():
    if param.ndim <= 1 or name.endswith(".bias"):
        no_decay.append(param)
    else:
        decay.append(param)
print("decay", len(decay), "no_decay", len(no_decay))
optimizer = AdamW(
    [
        {"params": decay, "weight_decay": 0.05},
        {"params": no_decay, "weight_decay": 0.0, "lr": 3e-3},
    ],
    lr=1e-3,
    betas=(0.9, 0.98),
)
for i, group in enumerate(optimizer.param_groups):
    print(i, {k: v for k, v in group.items() if k != "params"})
sched = CosineAnnealingLR(optimizer, T_max=4)
x = torch.randn(16, 4)
t = torch.randint(0, 2, (16,))
for step in range(4):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x), t)
    loss.backward()
    optimizer.step()
    sched.step()
    print(f"step {step} loss {loss.item():.4f} lrs {[round(lr, 6) for lr in sched.get_last_lr()]}")
state = optimizer.state_dict()
print(state["param_groups"][1])
print(list(state["state"].keys()), sorted(state["state"][0].keys()), state["state"][0]["step"])

# ReduceLROnPlateau on a validation loss that stalls
opt = make_opt(lr=1.0)
plateau = ReduceLROnPlateau(
    opt, mode="min", factor=0.5, patience=1, threshold=0.01, cooldown=1, min_lr=0.05
)
for epoch, val_loss in enumerate([1.0, 0.9, 0.95, 0.91, 0.905, 0.92, 0.93, 0.8, 0.81, 0.82, 0.83]):
    plateau.step(val_loss)
    print(
        f"epoch {epoch} val {val_loss:.3f} lr {opt.param_groups[0]['lr']:.4f} best {plateau.best:.3f} bad {plateau.num_bad_epochs}"
    )
print(plateau.get_last_lr())
opt = make_opt(lr=1.0)
plateau = ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=0)
for acc in [0.5, 0.6, 0.6, 0.7, 0.65]:
    plateau.step(acc)
print("max mode lr", opt.param_groups[0]["lr"])
print(
    math.isclose(
        opt.param_groups[0]["initial_lr"] if "initial_lr" in opt.param_groups[0] else 1.0, 1.0
    )
)
