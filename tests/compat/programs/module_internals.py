# A tour of nn.Module's internals, as people explore them: named_modules/children,
# parameters and buffers (persistent=False), state_dict key order, register_* hooks that
# print shapes, apply(init), extra_repr, ModuleDict/ModuleList/ParameterDict/ParameterList
# printing, parameter counts, train/eval propagation, requires_grad_ freezing, get_submodule.
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class Scale(nn.Module):
    def __init__(self, n, init=1.0):
        super().__init__()
        self.n = n
        self.gamma = nn.Parameter(torch.full((n,), init))
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))
        self.register_buffer("cache", torch.zeros(n), persistent=False)

    def forward(self, x):
        self.calls += 1
        self.cache = x.detach().mean(0)
        return x * self.gamma

    def extra_repr(self):
        return f"n={self.n}, init={self.gamma[0].item()}"


class Block(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.lin = nn.Linear(d_in, d_out)
        self.norm = nn.LayerNorm(d_out)
        self.scale = Scale(d_out, 0.5)
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        return self.drop(self.scale(F.gelu(self.norm(self.lin(x)))))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 6, padding_idx=0)
        self.blocks = nn.ModuleList([Block(6, 8), Block(8, 8)])
        self.heads = nn.ModuleDict({"cls": nn.Linear(8, 3), "reg": nn.Linear(8, 1)})
        self.temps = nn.ParameterDict(
            {"cls": nn.Parameter(torch.ones(1)), "reg": nn.Parameter(torch.tensor([2.0]))}
        )
        self.offsets = nn.ParameterList(
            [nn.Parameter(torch.zeros(3)), nn.Parameter(torch.zeros(1))]
        )
        self.register_buffer("step", torch.tensor(0))
        self.tied = nn.Linear(6, 10, bias=False)
        self.tied.weight = self.embed.weight  # weight tying: one parameter, two names

    def forward(self, ids):
        h = self.embed(ids).mean(1)
        for b in self.blocks:
            h = b(h) if h.shape[-1] == b.lin.in_features else h
        return {
            k: head(h) / self.temps[k] + self.offsets[i]
            for i, (k, head) in enumerate(self.heads.items())
        }


net = Net()
print(net)
print("children:", [n for n, _ in net.named_children()])
print("modules:", [n for n, _ in net.named_modules()])
print("modules (with duplicates):", len(list(net.named_modules(remove_duplicate=False))))
for name, p in net.named_parameters():
    print(f"{name:28s} {tuple(p.shape)!s:10s} {p.requires_grad}")
print("with tied duplicate:", len(list(net.named_parameters(remove_duplicate=False))))
print("buffers:", [(n, tuple(b.shape), b.dtype) for n, b in net.named_buffers()])
print("state_dict keys:", list(net.state_dict().keys()))
print("cache persistent?", "blocks.0.scale.cache" in net.state_dict())
total = sum(p.numel() for p in net.parameters())
trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
print(f"total={total} trainable={trainable}")
print(net.get_submodule("blocks.1.scale"), net.get_parameter("heads.cls.bias").shape)
print(net.get_buffer("blocks.0.scale.calls"))
print(net.heads, net.temps, net.offsets, sep="\n")
print(type(net.state_dict()).__name__, isinstance(net.state_dict(), OrderedDict))


# apply(init): custom initialisation by module type
def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.constant_(m.bias, 0.1)
    print("init", type(m).__name__)


net.apply(init_weights)
print(net.heads.cls.weight)
print(net.blocks[0].norm.bias)


# hooks that print shapes; forward pre-hook that edits the input; full backward hook
def shape_hook(name):
    def hook(module, inputs, output):
        out = output if isinstance(output, torch.Tensor) else next(iter(output.values()))
        print(f"fwd {name:14s} in={tuple(inputs[0].shape)} out={tuple(out.shape)}")

    return hook


handles = [
    m.register_forward_hook(shape_hook(n))
    for n, m in net.named_modules()
    if n and "." not in n or n.endswith("lin")
]
pre = net.blocks[0].register_forward_pre_hook(lambda m, inp: (inp[0] * 2,))
bwd = net.blocks[1].lin.register_full_backward_hook(
    lambda m, gin, gout: print("bwd lin", [tuple(g.shape) for g in gout], gin[0] is not None)
)
ids = torch.tensor([[1, 2, 0], [3, 4, 5], [0, 0, 9], [7, 8, 1]])
net.eval()
print("training flags:", net.training, net.blocks[0].drop.training, net.heads.cls.training)
out = net(ids)
print({k: v.shape for k, v in out.items()})
loss = out["cls"].logsumexp(-1).mean() + out["reg"].pow(2).mean()
loss.backward()
print("loss", loss)
print(net.blocks[0].scale.calls, net.blocks[0].scale.cache)
print("grad of tied weight row 0 (padding):", net.embed.weight.grad[0])
print("temps grads:", {k: v.grad for k, v in net.temps.items()})
for h in handles + [pre, bwd]:
    h.remove()
net.train()
print("training flags:", net.training, net.blocks[0].drop.training)

# freezing: requires_grad_(False) on a submodule, then counting again
net.embed.requires_grad_(False)
net.blocks[0].requires_grad_(False)
print("trainable now:", sum(p.numel() for p in net.parameters() if p.requires_grad))
print([n for n, p in net.named_parameters() if not p.requires_grad])
net.zero_grad()
print(
    "grads after zero_grad:",
    {n: p.grad for n, p in net.named_parameters() if n.startswith("heads.reg")},
)

# modules are containers: indexing, slicing, append, insert, del, len
seq = nn.Sequential(
    OrderedDict([("fc1", nn.Linear(4, 4)), ("act", nn.Tanh()), ("fc2", nn.Linear(4, 2))])
)
print(seq)
print(seq[0], seq[-1], seq.fc2 is seq[2], len(seq))
print(seq[1:])
seq2 = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))
seq2.append(nn.Softmax(dim=-1))
seq2.insert(1, nn.BatchNorm1d(4))
del seq2[2]
print(seq2, seq2(torch.ones(3, 4)).shape)
ml = nn.ModuleList([nn.Identity()])
ml.extend([nn.ReLU(), nn.Sigmoid()])
ml.insert(0, nn.Tanh())
print(ml, len(ml), ml[1:])
md = nn.ModuleDict()
md["a"] = nn.ReLU()
md.update({"b": nn.GELU(approximate="tanh")})
print(md, list(md.keys()), "a" in md, md.pop("a"))
pd = nn.ParameterDict({"w": nn.Parameter(torch.randn(2, 2))})
pd["b"] = nn.Parameter(torch.zeros(2))
print(pd, list(pd.keys()), pd["b"])

# state_dict round trip into a fresh model, with strict loading reporting nothing
fresh = Net()
res = fresh.load_state_dict(net.state_dict())
print(res, res.missing_keys, res.unexpected_keys)
print(
    torch.equal(fresh.heads.cls.weight, net.heads.cls.weight),
    fresh.tied.weight is fresh.embed.weight,
)
sd = net.state_dict(keep_vars=True)
print(type(sd["heads.cls.weight"]).__name__, type(net.state_dict()["heads.cls.weight"]).__name__)
print(net.state_dict(prefix="model.")["model.step"])
