# A training script as tutorials write it: the runtime switches set first, a class-balanced
# WeightedRandomSampler, an inference-mode evaluation, and the small tensor functions such
# scripts call along the way (addcmul, lerp, divide, aminmax, ...).
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import (
    DataLoader,
    DistributedSampler,
    StackDataset,
    TensorDataset,
    WeightedRandomSampler,
)

threads = torch.get_num_threads()
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
torch.set_float32_matmul_precision("high")
print(
    "threads:",
    torch.get_num_threads(),
    "deterministic:",
    torch.are_deterministic_algorithms_enabled(),
    "precision:",
    torch.get_float32_matmul_precision(),
    "device:",
    torch.get_default_device(),
)
torch.manual_seed(0)

# Imbalanced classes: each example weighted by the inverse frequency of its class.
x = torch.randn(60, 4)
y = (x[:, 0] + 0.3 * x[:, 1] > 0.8).long()
counts = torch.bincount(y)
print("class counts:", counts.tolist())
weights = 1.0 / counts[y].double()
sampler = WeightedRandomSampler(weights, num_samples=len(weights), replacement=True)
loader = DataLoader(TensorDataset(x, y), batch_size=16, sampler=sampler)

model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
second_moment = [torch.zeros_like(p) for p in model.parameters()]
for epoch in range(3):
    seen = torch.zeros(2, dtype=torch.long)
    total = 0.0
    for xb, yb in loader:
        seen += torch.bincount(yb, minlength=2)
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            for v, p in zip(second_moment, model.parameters()):
                v.mul_(0.9).addcmul_(p.grad, p.grad, value=0.1)
        total += loss.item() * len(yb)
    print(f"epoch {epoch}: loss {total / len(sampler):.4f}, classes seen {seen.tolist()}")
print("second moment of the last bias:", second_moment[-1])

ema = [p.detach().clone() for p in model.parameters()]
with torch.no_grad():
    for e, p in zip(ema, model.parameters()):
        e.lerp_(torch.zeros_like(p), 0.25)
print("ema of the last bias:", ema[-1])

model.eval()
with torch.inference_mode():
    logits = model(x)
    probs = logits.softmax(dim=1)
    print(
        "inference:", logits.is_inference(), logits.requires_grad, torch.is_inference_mode_enabled()
    )
    pred = logits.argmax(1)
    print("accuracy:", (pred == y).float().mean().item())
    lo, hi = torch.aminmax(probs[:, 1])
    print(f"p(class 1) in [{lo:.4f}, {hi:.4f}]")
print("after:", torch.is_inference_mode_enabled(), torch.is_grad_enabled())

print(
    torch.divide(torch.tensor([7, -7]), 2, rounding_mode="floor"),
    torch.true_divide(torch.tensor([7, -7]), 2),
)
print(
    torch.div(torch.tensor([7.5, -7.5]), 2, rounding_mode="trunc"),
    torch.rsub(torch.tensor([1, 2]), 10),
)
print(torch.addcmul(torch.ones(3), torch.tensor([1.0, 2, 3]), torch.tensor([0.5, 0.5, 2]), value=2))
print(torch.addcdiv(torch.ones(3), torch.tensor([1.0, 2, 3]), torch.tensor([0.5, 4, 2])))
print(torch.lerp(torch.zeros(3), torch.tensor([1.0, 2, 3]), 0.25))
print(torch.expm1(torch.tensor([1e-8, 1.0])), torch.frac(torch.tensor([1.5, -2.25])))
print(torch.broadcast_shapes((3, 1), (1, 4)), torch.result_type(torch.tensor([1]), 1.0))
print(torch.promote_types(torch.int32, torch.float16), torch.can_cast(torch.float32, torch.int32))
print(
    torch.atleast_2d(torch.tensor(3.0)),
    torch.block_diag(torch.tensor([[1, 2]]), torch.tensor([[3], [4]])),
)
print(torch.unravel_index(torch.tensor([5, 11]), (3, 4)))
print(torch.matrix_power(torch.tensor([[1.0, 1.0], [1.0, 0.0]]), 10))
mantissa, exponent = torch.frexp(torch.tensor([8.0, 0.3]))
print(mantissa, exponent)
t = torch.arange(6.0).reshape(2, 3)
print(t.sum_to_size(1, 3), t.swapdims(0, 1).shape, t.mH.shape, t.nbytes, t.itemsize, t.is_cpu)
print(
    t[1:].storage_offset(),
    t.byte(),
    t.is_signed(),
    t.is_complex(),
    torch.is_nonzero(torch.tensor([2])),
)
print(torch.zeros(3, 3).fill_diagonal_(2.5))
print(torch.zeros(5).index_copy(0, torch.tensor([4, 0]), torch.tensor([1.0, 2.0])))
print(
    torch.heaviside(torch.tensor([-1.0, 0.0, 2.0]), torch.tensor(0.5)),
    torch.gcd(torch.tensor([12, 18]), torch.tensor([8, 27])),
)
print(torch.tensor([0.5, 1.5, 2.5]).gt_(1.0), torch.threshold(torch.tensor([0.1, 0.9]), 0.5, -1.0))
print(torch.typename(t), torch.scalar_tensor(3), torch.exp_(torch.zeros(2)))

ds = DistributedSampler(range(10), num_replicas=3, rank=1, seed=7)
ds.set_epoch(2)
print("distributed:", list(ds), len(ds))
ws = WeightedRandomSampler([0.1, 0.2, 0.7], 6, generator=torch.Generator().manual_seed(1))
print("weighted:", list(ws))
print("stacked:", StackDataset(x=torch.arange(3), y=torch.arange(3) * 10)[1])

# Anomaly mode names the backward node that made the NaN.
a = torch.tensor([0.0, 1.0], requires_grad=True)
with torch.autograd.set_detect_anomaly(True):
    try:
        (torch.sqrt(a) * 0).sum().backward()
    except RuntimeError as err:
        print("anomaly:", err)
print("anomaly mode after:", torch.is_anomaly_enabled())

h = torch.tensor([1.0, 2.0], requires_grad=True)
m = h * 2
m.retain_grad()
h.register_post_accumulate_grad_hook(lambda p: print("accumulated:", p.grad))
(m * m).sum().backward()
print("retains:", m.retains_grad, m.grad)

compiled = torch.compile(model)
print(list(compiled.state_dict())[:2])
print(compiled)

torch.set_num_threads(threads)
torch.use_deterministic_algorithms(False)
torch.set_float32_matmul_precision("highest")
