# A script that trains a small model, checks a checkpoint migration with state-dict hooks,
# clips gradients with a backward pre-hook, scripts and traces the model for deployment,
# profiles a few steps, and uses the numeric helpers such scripts reach for
# (torch.gradient, corrcoef, poisson, gumbel_softmax, index_reduce, fork_rng, apply_).
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile, record_function, schedule

torch.manual_seed(0)


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh())
        self.head = nn.Linear(16, 1)

    def forward(self, x):
        return self.head(self.body(x)).squeeze(-1)


model = Regressor()

# Old checkpoints called the head "out": a load pre-hook renames the keys.
old = {k.replace("head.", "out."): v.clone() for k, v in model.state_dict().items()}


def rename_old_keys(
    module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors
):
    for key in list(state_dict):
        if key.startswith(prefix + "out."):
            state_dict[prefix + "head." + key[len(prefix) + 4 :]] = state_dict.pop(key)


handle = model.register_load_state_dict_pre_hook(rename_old_keys)
print("load:", model.load_state_dict(old))
handle.remove()
loaded = []
model.register_load_state_dict_post_hook(lambda m, keys: loaded.append(len(keys.missing_keys)))
print("strict=False:", model.load_state_dict({"head.bias": torch.zeros(1)}, strict=False))
print("post-hook saw missing:", loaded)

# Save only trainable tensors: a state-dict post-hook drops nothing here but counts.
seen = []
model.register_state_dict_pre_hook(lambda m, prefix, keep_vars: seen.append(prefix or "<root>"))
model.body[0].register_state_dict_post_hook(
    lambda m, sd, prefix, meta: seen.append(meta["version"])
)
print("state keys:", list(model.state_dict()), seen)

# Clip the gradient flowing into the body's last layer.
norms = []


def clip_grad_output(module, grad_output):
    g = grad_output[0]
    norms.append(round(g.norm().item(), 4))
    return (g.clamp(-0.05, 0.05),)


model.body[2].register_full_backward_pre_hook(clip_grad_output)

x = torch.randn(64, 3)
y = torch.sin(x[:, 0]) + x[:, 1] * x[:, 2]
opt = torch.optim.Adam(model.parameters(), lr=0.01)
traces = []
with profile(
    activities=[ProfilerActivity.CPU],
    schedule=schedule(wait=1, warmup=1, active=2, repeat=1),
    on_trace_ready=lambda p: traces.append(p.step_num),
    record_shapes=True,
) as prof:
    for step in range(6):
        with record_function("train_step"):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
        prof.step()
        if step % 2 == 0:
            print(f"step {step} loss {loss.item():.5f}")
print("grad_output norms:", norms[:3])
print("traces ready at steps:", traces)
ranges = {e.key: e.count for e in prof.key_averages() if not e.key.startswith("aten::")}
print("ranges:", {k: v for k, v in sorted(ranges.items()) if k in ("train_step", "ProfilerStep*")})

# Deployment: script and trace give the same numbers as the model.
model.eval()
scripted = torch.jit.script(model)
traced = torch.jit.trace(model, torch.randn(2, 3), check_trace=False)
print(scripted)
print(traced)
with torch.no_grad():
    ref = model(x[:4])
    print("scripted:", scripted(x[:4]))
    print("traced equal:", torch.equal(traced(x[:4]), ref), torch.equal(scripted(x[:4]), ref))
print("scripting?", torch.jit.is_scripting(), "tracing?", torch.jit.is_tracing())

# Numeric helpers.
t = torch.linspace(0, 1, 6)
f = t**3
(df,) = torch.gradient(f, spacing=(t,))
print("gradient:", df)
print("gradient edge 2:", torch.gradient(f, spacing=0.2, edge_order=2)[0])
feats = torch.stack([x[:, 0], y, x[:, 1]])
print("corrcoef:", torch.corrcoef(feats))
gen = torch.Generator().manual_seed(42)
print("poisson:", torch.poisson(torch.tensor([0.5, 3.0, 12.0, 40.0]), generator=gen))
with torch.random.fork_rng():
    sample = F.gumbel_softmax(torch.zeros(2, 4), tau=0.5, hard=True)
print("gumbel one-hot:", sample)
print("after fork:", torch.rand(2))
votes = torch.zeros(3).index_reduce(
    0, torch.tensor([0, 2, 2, 0]), torch.tensor([4.0, 1.0, 3.0, 2.0]), "amax"
)
print("index_reduce:", votes)
counts = torch.tensor([1.0, 2.0, 3.0]).apply_(lambda v: v * v + 1)
print("apply_:", counts, counts.map_(torch.tensor([2.0]), lambda a, b: a / b))
print("hub dir name:", os.path.basename(torch.hub.get_dir()))
