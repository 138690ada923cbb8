# A critic trained with a gradient penalty (WGAN-GP, Gulrajani et al. 2017) on PyTorch:
# the penalty (|d critic / d x| - 1)^2 at points between real and fake samples needs the
# gradient of a gradient (create_graph=True). examples/gradient_penalty.py is this
# program with only its imports changed; tests/test_examples_second_order.py runs both
# and compares what they print.
#   python examples/gradient_penalty_torch.py --steps 300
# ruff: noqa: E401, I001
import torch, torch.nn as nn
import argparse

parser = argparse.ArgumentParser(description="a WGAN-GP critic on two Gaussians")
parser.add_argument("--steps", type=int, default=300)
parser.add_argument("--print-every", type=int, default=50)
parser.add_argument("--penalty", type=float, default=10.0)
args = parser.parse_args()

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)
critic = nn.Sequential(
    nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1)
)
opt = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))

for step in range(args.steps + 1):
    real = torch.randn(64, 2) * 0.5 + torch.tensor([2.0, -1.0])
    fake = torch.randn(64, 2)
    eps = torch.rand(64, 1)
    mix = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mix).sum(), mix, create_graph=True)
    penalty = ((grad.norm(2, dim=1) - 1) ** 2).mean()
    distance = critic(real).mean() - critic(fake).mean()
    loss = -distance + args.penalty * penalty
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % args.print_every == 0:
        print(f"step {step:4d}  distance {distance.item():.6f}  penalty {penalty.item():.6f}")
